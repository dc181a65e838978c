#!/usr/bin/env bash
# The demo from a fresh machine: installs what is missing, then runs `linx demo`
# (which creates its own private network namespace and removes it at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.bun/bin:$(npm prefix -g 2>/dev/null)/bin:$PATH"
if [[ $(id -u) -ne 0 ]]; then
  echo "linx demo needs root (it creates a network namespace): sudo bash scripts/demo.sh" >&2
  exit 1
fi
# unshare -n as a second fence: even the process itself is not in the machine's namespace
exec unshare -n bun packages/cli/src/main.ts demo
