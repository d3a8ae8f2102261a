#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: guestmap against its anchors, each in one VM run, as ratios
# (TCG timings mean nothing alone).  Results are printed and kept in
# $GUESTMAP_CACHE/bench/.
#
#   mirror   selftests/mirror_bench: the mirror against test_hmm's dmirror
#            on the same kernel and the same 64 MiB buffers.
#   map      selftests/map_bench: mapping a guest page with and without a
#            struct page, the pfn cache, and KVM's kvm_vcpu_map() on a real
#            vCPU (kvm_amd, nested) over the same memory.
#   fault    selftests/fault_bench: two threads faulting disjoint halves of
#            a 1 GiB memslot through one context, on the VM's two vCPUs,
#            against one thread faulting all of it.
#   nested   selftests/nested_bench: a nested SVM entry/exit loop (map
#            VMCB12, copy, check, merge the MSR map, unmap; map, write
#            back, unmap) with VMCB12 mapped per entry, through the pfn
#            cache, and by KVM's kvm_vcpu_map() on a real vCPU, on
#            PFN-only and struct-page memory.
#   tdp      selftests/tdp_bench: the mirror against KVM's TDP MMU
#            (kvm_amd npt=1) on the same buffers (64 and 512 MiB; 4K
#            pages, THP, hugetlb): fault-in against KVM_PRE_FAULT_MEMORY,
#            the restore after mprotect, a soft-dirty clear and
#            MADV_DONTNEED, and SecPageTables per GiB mapped.  Its JSON
#            lines (one per row) go to tdp-<stamp>.jsonl.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$("$GM_ROOT/scripts/kernel.sh")
# The test build: GUESTMAP_BENCH is not in a production one.
"$GM_ROOT/scripts/kmake.sh" GM_TEST_OPS=1 >/dev/null
kvm_selftests=$("$GM_ROOT/scripts/kvm-selftests.sh")
make -s -C "$GM_ROOT/selftests" KDIR="$kdir" KVM_SELFTESTS="$kvm_selftests"
"$GM_ROOT/scripts/kmod.sh" >/dev/null
out=$GUESTMAP_CACHE/bench
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

gm_log "mirror vs dmirror (one VM run)"
"$GM_ROOT/scripts/vm-run" --module -- \
	"modprobe test_hmm && selftests/mirror_bench" | tee "$out/mirror-$stamp.txt"
grep -q '^bench: 4k.fault_throughput_ratio' "$out/mirror-$stamp.txt"

gm_log "guest page mapping vs kvm_vcpu_map (one VM run)"
"$GM_ROOT/scripts/vm-run" --module --kvm --append "$GM_TEST_APPEND" -- \
	"$GM_TEST_ENV sh -c 'insmod selftests/kmod/gm_kvm_probe.ko && selftests/map_bench'" |
	tee "$out/map-$stamp.txt"
grep -q '^bench: map.pfn_cache_over_page' "$out/map-$stamp.txt"

# vm-run boots two vCPUs: a "# SKIP" for want of a second one fails here.
gm_log "concurrent faults in one context (one VM run)"
"$GM_ROOT/scripts/vm-run" --module -- selftests/fault_bench |
	tee "$out/fault-$stamp.txt"
grep -q '^bench: fault.two_threads_over_one' "$out/fault-$stamp.txt"

gm_log "nested SVM entry/exit vs kvm_vcpu_map (one VM run)"
"$GM_ROOT/scripts/vm-run" --module --kvm --append "$GM_TEST_APPEND" -- \
	"$GM_TEST_ENV sh -c 'insmod selftests/kmod/gm_kvm_probe.ko && selftests/nested_bench'" |
	tee "$out/nested-$stamp.txt"
grep -q '^bench: nested.cached_pfn_over_cached_page' "$out/nested-$stamp.txt"
grep -q '^bench: nested.kvm_vcpu_map_pfn_over_cached_pfn' "$out/nested-$stamp.txt"

# The guest writes its JSON lines into vm-run's shared directory, which
# vm-run removes, so it prints them as "json: " lines, split off here.
# kvm_amd must run with npt=1 (its default where the CPU has NPT).
gm_log "mirror vs KVM's TDP MMU (one VM run)"
tdp_raw=$out/tdp-$stamp.raw
tdp_status=0
tdp_run="export GM_BENCH_KERNEL=$(basename "$(dirname "$kdir")")"
tdp_run+=" GM_BENCH_GIT=$(git -C "$GM_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
tdp_run+=" GM_BENCH_STAMP=$stamp;"
# shellcheck disable=SC2016 # expanded in the guest
tdp_run+=' grep -qx Y /sys/module/kvm_amd/parameters/npt ||
 { rmmod kvm_amd && modprobe kvm_amd npt=1 nested=1; };
 selftests/tdp_bench -o "$GM_OUT/tdp.jsonl"; s=$?;
 sed "s/^/json: /" "$GM_OUT/tdp.jsonl" 2>/dev/null; exit $s'
"$GM_ROOT/scripts/vm-run" --module --kvm --append "$GM_TEST_APPEND" --timeout 1800 -- \
	"$tdp_run" >"$tdp_raw" || tdp_status=$?
{ grep -v '^json: ' "$tdp_raw" || true; } | tee "$out/tdp-$stamp.txt"
sed -n 's/^json: //p' "$tdp_raw" >"$out/tdp-$stamp.jsonl"
rm -f "$tdp_raw"
[ "$tdp_status" = 0 ] || gm_die "tdp_bench failed (status $tdp_status)"
grep -q '"measure": "table_kb_per_gib"' "$out/tdp-$stamp.jsonl"
