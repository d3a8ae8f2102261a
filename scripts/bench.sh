#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: guestmap against its anchors, each in one VM run, as ratios
# (TCG timings mean nothing alone).  Results are printed and kept in
# $GUESTMAP_CACHE/bench/.
#
#   mirror   selftests/mirror_bench: the mirror against test_hmm's dmirror
#            on the same kernel and the same 64 MiB buffers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$("$GM_ROOT/scripts/kernel.sh")
"$GM_ROOT/scripts/kmake.sh" >/dev/null
make -s -C "$GM_ROOT/selftests" KDIR="$kdir"
out=$GUESTMAP_CACHE/bench
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

gm_log "mirror vs dmirror (one VM run)"
"$GM_ROOT/scripts/vm-run" --module -- \
	"modprobe test_hmm && selftests/mirror_bench" | tee "$out/mirror-$stamp.txt"
grep -q '^bench: 4k.fault_throughput_ratio' "$out/mirror-$stamp.txt"
