#!/usr/bin/env bash
# Regenerate test/goldens/inspector/*.xml.sha256: the sha256 of real virt-inspector's output (libguestfs, TCG) on the phony
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
  # Only the digest is committed: virt-inspector's XML for a phony guest is byte-identical to
  # guestfs-tools' expected-*.img.xml in ../shared/samples, which must not be copied here.
  virt-inspector --format=raw -a "$img" | sha256sum | cut -c1-64 > "$out/$name.xml.sha256.tmp"
  mv "$out/$name.xml.sha256.tmp" "$out/$name.xml.sha256"
  echo "wrote $out/$name.xml.sha256"
done
