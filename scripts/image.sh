#!/usr/bin/env bash
# Builds the linx container image from examples/deploy/Containerfile: compiles linx
# (scripts/compile.sh), assembles its root filesystem in .artifacts/image/rootfs (the
# binary plus every shared library it or libmnl, libnftnl and libnftables load, as ldd
# lists them on this machine) and, when buildah is installed, builds the image as
# linx:VERSION and writes it as an OCI archive. Usage: image.sh [OCI_ARCHIVE]
# (default .artifacts/linx-image.tar). Needs no registry: the image is FROM scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.bun/bin:$(npm prefix -g 2>/dev/null)/bin:$PATH"
version=$(bun -e 'console.log((await Bun.file("packages/cli/package.json").json()).version)')
out="${1:-.artifacts/linx-image.tar}"
ctx=.artifacts/image
rm -rf "$ctx"
mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/etc/linx" "$ctx/rootfs/tmp" "$ctx/rootfs/run/netns" "$ctx/rootfs/proc" "$ctx/rootfs/sys"
chmod 1777 "$ctx/rootfs/tmp"
bash scripts/compile.sh "$ctx/rootfs/usr/local/bin/linx"

# the libraries: the binary's own, then the native ones it opens at run time and theirs
libs=()
for so in libmnl.so.0 libnftnl.so.11 libnftables.so.1; do
  path=$(ldconfig -p | awk -v n="$so" '$1 == n && /x86-64|x86_64|AArch64/ { print $NF; exit }')
  [[ -n "$path" ]] || { echo "image: $so is not installed (apt-get install libmnl0 libnftnl11 libnftables1)" >&2; exit 1; }
  libs+=("$path")
done
for f in "$ctx/rootfs/usr/local/bin/linx" "${libs[@]}"; do
  libs+=("$f")
  while read -r dep; do libs+=("$dep"); done < <(ldd "$f" | awk '/=> \// { print $3 } /^\s*\/lib/ { print $1 }')
done
for f in $(printf '%s\n' "${libs[@]}" | grep -v "^$ctx" | sort -u); do
  real=$(readlink -f "$f")
  mkdir -p "$ctx/rootfs$(dirname "$f")"
  cp -L "$real" "$ctx/rootfs$f"
done
# the dynamic loader where the binary asks for it
interp=$(readelf -l "$ctx/rootfs/usr/local/bin/linx" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
mkdir -p "$ctx/rootfs$(dirname "$interp")"
cp -L "$interp" "$ctx/rootfs$interp"
# nft resolves service and protocol names (tcp dport ssh) through these
cp /etc/services /etc/protocols "$ctx/rootfs/etc/"
cp examples/deploy/Containerfile "$ctx/Containerfile"
echo "rootfs: $ctx/rootfs ($(du -sh "$ctx/rootfs" | cut -f1))"

if command -v buildah >/dev/null; then
  buildah bud --quiet --layers=false -f "$ctx/Containerfile" -t "linx:$version" "$ctx" >/dev/null
  rm -f "$out"
  buildah push --quiet "linx:$version" "oci-archive:$out:linx:$version"
  echo "image: linx:$version, $out ($(du -sh "$out" | cut -f1))"
else
  echo "image: buildah is not installed (apt-get install buildah); the rootfs is ready for: podman build $ctx"
fi
