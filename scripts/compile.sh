#!/usr/bin/env bash
# Compiles `linx` into one executable: bun build --compile with the worker threads (the
# status endpoint's, the lifetime watcher's, nft text compiles' second thread) as extra
# entry points: they run from inside the binary, where @linx/reconcile's worker-url.ts and
# source-netfilter's capture-pool.ts find them. Usage: compile.sh OUTFILE
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: compile.sh OUTFILE}"
bun build --compile packages/cli/src/main.ts \
  packages/reconcile/src/status/worker.ts packages/reconcile/src/ffi/poll-worker.ts \
  packages/source-netfilter/src/ffi/capture-worker.ts \
  --outfile "$out" >/dev/null
