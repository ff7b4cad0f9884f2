#!/usr/bin/env bash
# Regenerate test/goldens/inspector/*.xml: real virt-inspector (libguestfs, TCG) on the phony
# guests built by images/recipes/phony-{linux,lvm}.mjs, ONE appliance launch per image
# (virt-inspector launches once). Run from the repository root after
# `node images/build.mjs phony-linux phony-lvm`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
out=test/goldens/inspector
mkdir -p "$out"
for img in "${@:-images/out/phony-linux/archlinux.img}"; do
  name=$(basename "$img" .img)
  virt-inspector --format=raw -a "$img" > "$out/$name.xml.tmp"
  mv "$out/$name.xml.tmp" "$out/$name.xml"
  echo "wrote $out/$name.xml"
done
