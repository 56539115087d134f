# A Debian server for testing deploy/debian/deploy-debian.sh: Node 24 on PATH (so the script uses it
# rather than downloading one) and systemd's tools (systemd-analyze verify), without systemd running.
FROM localhost/node:24-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends systemd >/dev/null \
  && rm -rf /var/lib/apt/lists/*
