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

source "$(dirname "${BASH_SOURCE[0]}")/apt-missing.sh"
install_missing ensure-test-servers "the store tests"
