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
# Test files and .ci/run may ask at the same time: one installs, the others wait and find it done.
exec 9>"${TMPDIR:-/tmp}/lunarbit-ensure-docker.lock"
flock 9
[ -z "$(missing)" ] && exit 0
packages="$(missing)"
echo "Installing $packages from Debian packages for the container tests"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $packages >/dev/null
[ -z "$(missing)" ] || { echo "Installing $packages did not provide $(missing)" >&2; exit 1; }
