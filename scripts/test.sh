#!/usr/bin/env bash
# The whole test suite, from a fresh machine: setup, type-check, unit tests (no root),
# integration tests (root, inside a private network namespace; each file makes its own).
# The last line is the total over everything: "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.bun/bin:$(npm prefix -g 2>/dev/null)/bin:$PATH"

passed=0 failed=0 skipped=0

if ! bash scripts/setup.sh --test; then
  echo "setup failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# Adds the counts from a bun test run's summary (" N pass", " N fail", " N skip").
count_bun() {
  local out=$1 rc=$2 p f s
  p=$(grep -E '^ *[0-9]+ pass$' "$out" | tail -1 | grep -oE '[0-9]+' || true)
  f=$(grep -E '^ *[0-9]+ fail$' "$out" | tail -1 | grep -oE '[0-9]+' || true)
  s=$(grep -E '^ *[0-9]+ (skip|todo)$' "$out" | awk '{ n += $1 } END { print n + 0 }')
  if [[ -z "$p" && -z "$f" ]]; then
    echo "[test] no summary from bun test (exit $rc): counted as one failure"
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${s:-0}))
  if [[ $rc -ne 0 && ${f:-0} -eq 0 ]]; then
    echo "[test] bun test exited $rc with no failed test: counted as one failure"
    failed=$((failed + 1))
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== type-check (tsc --noEmit -p .)"
if bun x tsc --noEmit -p .; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "== format and lint (biome check: line width 120, functions ≤ 80 lines outside tests)"
if bun x biome check .; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "== unit tests (no root needed)"
bun test packages scripts 2>&1 | tee "$tmp/unit.txt"
count_bun "$tmp/unit.txt" "${PIPESTATUS[0]}"

echo "== packages from a registry (pack, publish to Verdaccio on loopback, bun add, README examples)"
# not under unshare -n: the local registry proxies the public one for third-party packages;
# the examples it runs go into private namespaces of their own
bun test --timeout 300000 ship 2>&1 | tee "$tmp/ship.txt"
count_bun "$tmp/ship.txt" "${PIPESTATUS[0]}"

echo "== integration tests (real kernel, private network namespaces)"
if [[ $(id -u) -ne 0 ]]; then
  echo "[test] integration tests need root: skipped"
  skipped=$((skipped + 1))
else
  # unshare -n: the whole runner lives in a private namespace; each file creates its own too.
  unshare -n bun test --timeout 60000 integration 2>&1 | tee "$tmp/integration.txt"
  count_bun "$tmp/integration.txt" "${PIPESTATUS[0]}"
fi

summary="$passed passed, $failed failed"
((skipped > 0)) && summary="$summary, $skipped skipped"
echo "$summary"
((failed == 0))
