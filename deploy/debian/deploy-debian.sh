#!/usr/bin/env bash
# Installs LunarBit Gateway from this checkout as the systemd service lunarbit-gateway (alias
# lunarbit-api) on Debian or Ubuntu, and starts it. Run as root from anywhere in the checkout:
#   sudo ./deploy/debian/deploy-debian.sh
# It installs Node 24 (nodejs.org's official build, checksum verified) into /opt/lunarbit-gateway/node
# unless a Node >= 22.19 is already on PATH, copies the gateway with its production dependencies to
# /opt/lunarbit-gateway/app and bundles it into app/dist as the image does, creates the system user lunarbit, writes /etc/lunarbit-gateway/gateway.env
# once (with a fresh admin key), installs the unit and enables it. Running it again updates the
# gateway and keeps the configuration. NODE_DIST_URL names a nodejs.org mirror.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "Run as root (sudo $0)" >&2; exit 1; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="$(cd "$here/../.." && pwd)"
prefix=/opt/lunarbit-gateway
config=/etc/lunarbit-gateway
dist="${NODE_DIST_URL:-https://nodejs.org/dist}"

node_ok() {
  "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 19) ? 0 : 1)' 2>/dev/null
}

install_node() {
  mkdir -p "$prefix/node/bin"
  if command -v node >/dev/null 2>&1 && node_ok "$(command -v node)" && command -v npm >/dev/null 2>&1; then
    echo "Using $(command -v node) ($(node --version))"
    ln -sfn "$(command -v node)" "$prefix/node/bin/node"
    ln -sfn "$(command -v npm)" "$prefix/node/bin/npm"
    return
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends ca-certificates curl xz-utils >/dev/null
  local arch tarball work
  case "$(dpkg --print-architecture)" in amd64) arch=x64 ;; arm64) arch=arm64 ;; *) echo "Unsupported architecture" >&2; exit 1 ;; esac
  work="$(mktemp -d)"
  curl -fsSL "$dist/latest-v24.x/SHASUMS256.txt" -o "$work/SHASUMS256.txt"
  tarball="$(awk -v want="linux-$arch.tar.xz" '$2 ~ want "$" { print $2; exit }' "$work/SHASUMS256.txt")"
  echo "Installing $tarball into $prefix/node"
  curl -fsSL "$dist/latest-v24.x/$tarball" -o "$work/$tarball"
  (cd "$work" && grep " $tarball\$" SHASUMS256.txt | sha256sum -c --quiet -)
  rm -rf "$prefix/node" && mkdir -p "$prefix/node"
  tar -xJf "$work/$tarball" -C "$prefix/node" --strip-components=1
  rm -rf "$work"
}

install_gateway() {
  local app="$prefix/app"
  rm -rf "$app.new" && mkdir -p "$app.new/examples"
  cp "$source_dir/package.json" "$source_dir/package-lock.json" "$app.new/"
  for package in core adapter-node adapter-docker; do
    mkdir -p "$app.new/packages/$package"
    cp -r "$source_dir/packages/$package/package.json" "$source_dir/packages/$package/src" "$app.new/packages/$package/"
  done
  cp "$source_dir/packages/adapter-docker/bundle.ts" "$app.new/packages/adapter-docker/"
  cp "$source_dir/examples/catalog.json" "$app.new/examples/"
  # The gateway's production dependencies and esbuild, then the gateway bundled into dist/ as the
  # image has it: one file holds about 40 MiB less resident memory than the sources (see the README).
  (cd "$app.new" && PATH="$prefix/node/bin:$PATH" npm ci --omit=dev --no-audit --no-fund --loglevel=error \
    --workspace=@lunarbit/gateway-docker --include-workspace-root=false \
    && "$prefix/node/bin/node" packages/adapter-docker/bundle.ts dist)
  rm -rf "$app.old" && { [ ! -d "$app" ] || mv "$app" "$app.old"; } && mv "$app.new" "$app" && rm -rf "$app.old"
}

install_config() {
  getent passwd lunarbit >/dev/null ||
    useradd --system --user-group --home-dir /var/lib/lunarbit-gateway --no-create-home --shell /usr/sbin/nologin lunarbit
  install -d -m 0750 -o root -g lunarbit "$config"
  if [ ! -f "$config/gateway.env" ]; then
    local key
    key="$("$prefix/node/bin/node" -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))')"
    sed "s|^API_KEY_ADMIN=\$|API_KEY_ADMIN=$key|" "$here/gateway.env" >"$config/gateway.env"
    chown root:lunarbit "$config/gateway.env" && chmod 0640 "$config/gateway.env"
    echo "Wrote $config/gateway.env with a new admin key (API_KEY_ADMIN in that file)"
  fi
  install -m 0644 "$here/lunarbit-gateway.service" /etc/systemd/system/lunarbit-gateway.service
}

install_node
install_gateway
install_config
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable lunarbit-gateway.service
  systemctl restart lunarbit-gateway.service
  echo "Started: systemctl status lunarbit-gateway; journalctl -u lunarbit-gateway -f"
else
  echo "systemd is not running here: installed, not started (systemctl enable --now lunarbit-gateway)"
fi
