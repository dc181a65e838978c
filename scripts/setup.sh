#!/usr/bin/env bash
# Installs what Linx needs on a Debian machine with Node and npm: the native libraries
# and tools (apt), Bun (npm), and the workspace's packages (bun install). Idempotent:
# each step runs only when its result is missing. `--test` adds what only the tests need
# (chromium for the status page's browser test, systemd for systemd-analyze, buildah for the image).
set -euo pipefail
cd "$(dirname "$0")/.."

BUN_VERSION=1.4.4
APT_PACKAGES=(libmnl0 libnftnl11 iproute2 nftables procps util-linux)
[[ "${1:-}" == "--test" ]] && APT_PACKAGES+=(chromium systemd buildah)

log() { printf '[setup] %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}"
    exit 1
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export PATH="$HOME/.bun/bin:$(npm prefix -g 2>/dev/null)/bin:$PATH"
if [[ "$(bun --version 2>/dev/null || true)" != "$BUN_VERSION" ]]; then
  log "installing bun@$BUN_VERSION with npm"
  npm install -g "bun@$BUN_VERSION" --allow-scripts=bun >/dev/null 2>&1 || npm install -g "bun@$BUN_VERSION" >/dev/null
  if [[ "$(bun --version 2>/dev/null || true)" != "$BUN_VERSION" ]]; then
    log "bun $BUN_VERSION did not install (is its install script blocked?); see https://bun.sh/docs/installation"
    exit 1
  fi
fi

if [[ ! -d node_modules/.bin ]] || [[ bun.lock -nt node_modules/.linx-installed ]]; then
  log "bun install --frozen-lockfile"
  bun install --frozen-lockfile >/dev/null
  touch node_modules/.linx-installed
fi
