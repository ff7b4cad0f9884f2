#!/usr/bin/env bash
# Regenerates test/goldens/win-reg/ with libguestfs's virt-win-reg on the deterministic Windows
# layout image reg-windows (images/recipes/reg-windows.mjs, whose hives come from reg-hives).
# test/parity/win-reg.test.ts runs `guestkit win-reg -a` with the same arguments and compares
# stdout byte for byte and the exit status (zero or not); stderr is kept for reference.
#   bash test/parity/win-reg-goldens.sh [CASE-NAME...]
# Takes a while: one appliance launch (~30-60 s under TCG) per case, two at a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
node images/build.mjs reg-windows
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg TZ=UTC LC_ALL=C.UTF-8
exec node test/parity/win-reg-goldens.mjs "$@"
