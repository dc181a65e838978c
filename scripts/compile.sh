#!/usr/bin/env bash
# Compiles `linx` into one executable: bun build --compile with the status endpoint's and
# the lifetime watcher's worker threads as extra entry points (they run from inside the
# binary; @linx/reconcile's worker-url.ts finds them there). Usage: compile.sh OUTFILE
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: compile.sh OUTFILE}"
bun build --compile packages/cli/src/main.ts \
  packages/reconcile/src/status/worker.ts packages/reconcile/src/ffi/poll-worker.ts \
  --outfile "$out" >/dev/null
