#!/usr/bin/env bash
# The demo from a fresh machine: installs what is missing, then runs `linx demo`
# (which creates its own private network namespace and removes it at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "linx demo needs root (it creates a network namespace): sudo bash scripts/demo.sh" >&2
  exit 1
fi
# sandbox.sh: setup, then unshare -n as a second fence (the process itself is not in the machine's namespace)
exec bash scripts/sandbox.sh bun packages/cli/src/main.ts demo
