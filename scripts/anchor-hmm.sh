#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The anchor for the mirror: the kernel's own lib/test_hmm.ko driven by its
# own tools/testing/selftests/mm/hmm-tests.c, both from the test kernel's
# source, in the same kind of VM run as guestmap's tests.
#
# THP=always|madvise|never sets transparent hugepages first (default: the
# kernel's, always).  With THP=always, 6.12 fails the three
# hmm_device_private.exclusive* tests (Documentation/testing.rst).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$("$GM_ROOT/scripts/kernel.sh")
out=$GUESTMAP_CACHE/anchor
mkdir -p "$out"
src=$kdir/tools/testing/selftests/mm/hmm-tests.c
bin=$out/hmm-tests
if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
	gm_log "building hmm-tests from $src"
	# The flags of tools/testing/selftests/mm/Makefile.
	gcc -Wall -O2 -U_FORTIFY_SOURCE -no-pie -I "$kdir" \
		-isystem "$kdir/usr/include" -isystem "$kdir/tools/include/uapi" \
		-o "$bin" "$src" -lrt -lpthread -lm
fi

setup="echo 16 >/proc/sys/vm/nr_hugepages"
[ -z "${THP:-}" ] || setup+=" && echo $THP >/sys/kernel/mm/transparent_hugepage/enabled"
"$GM_ROOT/scripts/vm-run" "$@" -- "$setup && modprobe test_hmm && '$bin'" |
	tee "$out/hmm-tests.tap"
