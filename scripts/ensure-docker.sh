#!/usr/bin/env bash
# Makes sure Debian's Docker engine (dockerd, its own client), docker-compose and debootstrap are
# installed, for the container tests (packages/adapter-docker/test), which start a private engine and
# build local base images. Missing ones are installed from Debian's packages when running as root with
# apt-get (as CI does); otherwise this says what is missing and exits with status 1. Nothing is started.
# Usage: bash scripts/ensure-docker.sh
set -euo pipefail

missing() {
  local packages=()
  [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || packages+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || packages+=(docker-compose)
  command -v debootstrap >/dev/null 2>&1 || packages+=(debootstrap)
  command -v ip >/dev/null 2>&1 || packages+=(iproute2)
  echo "${packages[@]}"
}

[ -z "$(missing)" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The container tests need root and Debian's packages: $(missing)" >&2
  exit 1
fi
source "$(dirname "${BASH_SOURCE[0]}")/apt-missing.sh"
install_missing ensure-docker "the container tests"
