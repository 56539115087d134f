#!/usr/bin/env bash
# Builds local stand-ins for the registry images the Dockerfile and compose.yaml name, for machines
# that reach only Debian's mirror and the npm registry (no Docker Hub):
#   localhost/debian:bookworm       debootstrap --variant=minbase, trimmed like debian:bookworm-slim
#   localhost/node:24-slim          that + the Node binary running this script + npm, user node (1000)
#   localhost/distroless-cc:12      glibc, libstdc++ and libgcc only, like gcr.io/distroless/cc-debian12
#   localhost/redis, localhost/postgres, localhost/nginx   Debian's packages, with the official images'
#                                   interface where compose.yaml relies on it
#   localhost/debian-server         a Debian server with Node 24 and systemd's tools, for deploy-debian.sh
# Needs root, debootstrap and a running Docker engine (DOCKER_HOST).
# Usage: bash build.sh bases       the first three, which the gateway's Dockerfile needs
#        bash build.sh services    the others (after bases), built in parallel
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
docker="${DOCKER:-docker}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

bases() {
  # The host's own mirror (never a hard-coded host): the first URIs line of its apt sources.
  mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  mirror="${mirror:-$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)}"
  [ -n "$mirror" ] || { echo "No Debian mirror found in the apt sources" >&2; exit 1; }

  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # What debian:bookworm-slim leaves out: package caches, lists, documentation, manuals, locales.
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/* \
    "$work"/rootfs/usr/share/{doc,man,info,locale}/*
  cp /etc/apt/sources.list.d/*.sources "$work/rootfs/etc/apt/sources.list.d/" 2>/dev/null || true
  cp /etc/apt/sources.list "$work/rootfs/etc/apt/" 2>/dev/null || true
  tar -C "$work/rootfs" --numeric-owner -c . | "$docker" import - localhost/debian:bookworm >/dev/null
  mkdir -p "$work/node"
  cp "$(command -v node)" "$work/node/node"
  (cd "$work/node" && npm pack --silent npm@11 >/dev/null && tar -xzf npm-*.tgz && mv package npm)
  "$docker" build -q --force-rm -t localhost/node:24-slim -f "$here/node.Dockerfile" "$work/node" >/dev/null
  "$docker" build -q --force-rm -t localhost/distroless-cc:12 -f "$here/distroless-cc.Dockerfile" "$here" >/dev/null
}

services() {
  local pids=()
  for service in redis postgres nginx; do
    "$docker" build -q --force-rm --target "$service" -t "localhost/$service" -f "$here/services.Dockerfile" "$here" >/dev/null &
    pids+=($!)
  done
  "$docker" build -q --force-rm -t localhost/debian-server -f "$here/debian-server.Dockerfile" "$here" >/dev/null &
  pids+=($!)
  for pid in "${pids[@]}"; do wait "$pid"; done
}

case "${1:-}" in
  bases) bases ;;
  services) services ;;
  *) echo "Usage: bash build.sh bases|services" >&2; exit 2 ;;
esac
