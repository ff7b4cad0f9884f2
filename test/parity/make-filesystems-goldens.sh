#!/usr/bin/env bash
# Regenerates test/goldens/filesystems/ with libguestfs's own virt-filesystems on the
# deterministic images of images/recipes/part-tables.mjs, sample.mjs (and part-probes.mjs's
# whole-fat.raw), and the NTFS, XFS and btrfs images of ntfs-tree, ntfs-c512, xfs-images,
# btrfs-rootdir and btrfs-guestfs (whole-disk filesystems; btrfs subvolumes, RAID1 members). Each case of test/parity/filesystems.cases.json ({name, image or images
# under images/out, args}) gives NAME.out
# (stdout), NAME.rc (exit status) and NAME.err (stderr, for reference). IMAGES.sha256 records
# the images they were made from. test/parity/filesystems.test.ts runs `guestkit filesystems`
# with the same arguments and compares stdout and exit status byte for byte.
#   bash test/parity/make-filesystems-goldens.sh [CASE-NAME...]
# One appliance launch (~30-60 s under TCG, minutes with many disks) per case; runs GOLDEN_JOBS
# (2) at a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
node images/build.mjs part-tables part-probes sample ntfs-tree ntfs-c512 xfs-images btrfs-rootdir btrfs-guestfs
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg TZ=UTC LC_ALL=C.UTF-8
G=test/goldens/filesystems
mkdir -p "$G"
cases=test/parity/filesystems.cases.json
if [ $# -gt 0 ]; then names=("$@"); else mapfile -t names < <(jq -r '.[].name' "$cases"); fi
one() {
  local name=$1 images args adds=()
  mapfile -t images < <(jq -r --arg n "$name" '.[] | select(.name == $n) | (.images // [.image])[]' "$cases")
  [ ${#images[@]} -gt 0 ] || { echo "no case $name" >&2; return 1; }
  mapfile -t args < <(jq -r --arg n "$name" '.[] | select(.name == $n) | .args[]' "$cases")
  for i in "${images[@]}"; do adds+=(-a "images/out/$i"); done
  local rc=0
  virt-filesystems "${args[@]}" "${adds[@]}" > "$G/$name.out" 2> "$G/$name.err" || rc=$?
  echo "$rc" > "$G/$name.rc"
  echo "$name: exit $rc" >&2
}
export -f one
export G cases
printf '%s\n' "${names[@]}" | xargs -P "${GOLDEN_JOBS:-2}" -I{} bash -c 'one "$@"' _ {}
# btrfs images are left out: their device and chunk-tree UUIDs are random (mkfs.btrfs has no
# option for them), nothing virt-filesystems prints.
( for i in $(jq -r '.[] | (.images // [.image])[]' "$cases" | grep -v '^btrfs-' | sort -u); do sha256sum "images/out/$i"; done ) > "$G/IMAGES.sha256"
virt-filesystems --version > "$G/VERSION"
