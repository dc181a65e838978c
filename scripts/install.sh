#!/usr/bin/env bash
# Builds `linx` as one executable (bun build --compile: Bun, the packages and the example
# files inside; libmnl, libnftnl and libnftables stay the system's) and puts it on PATH:
# $PREFIX/bin/linx, PREFIX=/usr/local by default. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${PREFIX:-/usr/local}"
bash scripts/setup.sh
export PATH="$HOME/.bun/bin:$(npm prefix -g 2>/dev/null)/bin:$PATH"
mkdir -p "$PREFIX/bin"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bash scripts/compile.sh "$tmp/linx"
install -m 0755 "$tmp/linx" "$PREFIX/bin/linx"
echo "linx $("$PREFIX/bin/linx" --version) installed as $PREFIX/bin/linx"
