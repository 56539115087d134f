#!/usr/bin/env bash
# Puts a Node.js >= 22.19 first on PATH. When the machine's node is older, Node 24 is installed
# from the npm package `node@24` into .tools/ (once) and used from there.
# Usage: source scripts/ensure-node.sh
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 19) ? 0 : 1)'
}
if ! node_ok; then
  tools="$root/.tools"
  if [ ! -x "$tools/node_modules/.bin/node" ]; then
    echo "Installing Node 24 into $tools (the system node is $(node --version 2>/dev/null || echo missing))"
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-audit --no-fund --loglevel=error node@24 >/dev/null
  fi
  export PATH="$tools/node_modules/.bin:$PATH"
  node_ok || { echo "Could not provide Node >= 22.19" >&2; return 1 2>/dev/null || exit 1; }
fi
echo "Using node $(node --version)"
