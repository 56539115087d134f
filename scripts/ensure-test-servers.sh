#!/usr/bin/env bash
# Makes sure redis-server and PostgreSQL's initdb/pg_ctl/postgres are installed, for the store tests
# that start private throwaway servers on loopback (packages/adapter-node/test/support/services.ts).
# Missing ones are installed from Debian's packages when running as root with apt-get (as CI does);
# otherwise this says what to install and exits with status 1. Nothing is started here.
# Usage: bash scripts/ensure-test-servers.sh
set -euo pipefail

have_redis() { command -v redis-server >/dev/null 2>&1; }
have_postgres() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}
missing() {
  local packages=()
  have_redis || packages+=(redis-server)
  have_postgres || packages+=(postgresql)
  echo "${packages[@]}"
}

[ -z "$(missing)" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The store tests need: $(missing). Install them (Debian/Ubuntu: apt-get install -y $(missing))," >&2
  echo "or point DATABASE_URL and REDIS_URL at loopback servers to use instead." >&2
  exit 1
fi

# Test files start in parallel: one installs while the others wait, then find everything in place.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/lunarbit-ensure-test-servers.lock"
  flock 9
  [ -z "$(missing)" ] && exit 0
fi
packages="$(missing)"
echo "Installing $packages from Debian packages for the store tests"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $packages >/dev/null
[ -z "$(missing)" ] || { echo "Installing $packages did not provide $(missing)" >&2; exit 1; }
