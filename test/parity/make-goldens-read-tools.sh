#!/usr/bin/env bash
# Regenerates test/goldens/{cat,ls,df}/ with libguestfs's own virt-cat, virt-ls and virt-df
# on the deterministic images sample and guest-linux, and the NTFS, XFS and btrfs images of
# ntfs-tree, ntfs-c512, xfs-images, btrfs-rootdir and btrfs-guestfs (see images/recipes/). Each case of
# test/parity/{cat,ls,df}.cases.json gives NAME.out (stdout, or NAME.out.sha256 when large),
# NAME.rc (exit status) and NAME.err (stderr, kept for reference, not compared).
# test/tools-parity.test.ts runs guestkit with the same arguments and compares. A case with
# "faketime" runs virt-ls (and, in the test, guestkit) under libfaketime with the wall clock
# frozen at that time (--time-relative, --time-days).
#   bash test/parity/make-goldens-read-tools.sh [cat|ls|df] [CASE-NAME...]
# Takes a while: one appliance launch (~30 s under TCG) per case; runs GOLDEN_JOBS (2) at a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
node images/build.mjs sample guest-linux ntfs-tree ntfs-c512 xfs-images btrfs-rootdir btrfs-guestfs
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg TZ=UTC LC_ALL=C.UTF-8
exec node test/parity/make-goldens-read-tools.mjs "$@"
