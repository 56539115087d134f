#!/usr/bin/env bash
# Installs from Debian's packages what the caller's `missing` function lists (one word per package),
# for the ensure-*.sh scripts. Source it, then call: install_missing LOCK_NAME "WHAT NEEDS THEM".
# Callers may run at once (test files start in parallel, .ci/run installs alongside npm): one
# installs under the lock while the others wait, then find everything in place.
install_missing() {
  local lock="$1" purpose="$2" packages
  exec 9>"${TMPDIR:-/tmp}/lunarbit-$lock.lock"
  flock 9
  [ -z "$(missing)" ] && return 0
  packages="$(missing)"
  echo "Installing $packages from Debian packages for $purpose"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $packages >/dev/null
  [ -z "$(missing)" ] || { echo "Installing $packages did not provide $(missing)" >&2; return 1; }
}
