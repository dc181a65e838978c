#!/usr/bin/env bash
# Runs a command inside a private network namespace (never the machine's own).
# Usage: bash scripts/sandbox.sh bun bench/index.ts
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.bun/bin:$(npm prefix -g 2>/dev/null)/bin:$PATH"
if [[ $(id -u) -ne 0 ]]; then
  echo "this needs root (it creates network namespaces)" >&2
  exit 1
fi
exec unshare -n "$@"
