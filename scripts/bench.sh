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
#   vmx      selftests/vmx_bench: a nested VMX entry/exit loop (attach the
#            APIC-access, virtual-APIC and PI pages, read L1's MSR bitmap
#            (mapped when held, cached when cached), merge; write vmcs12
#            back, detach) on a vCPU holding
#            the pages (mapped per entry, as 6.12) or caching them, and
#            KVM's kvm_vcpu_map() of the same pages on a real vCPU, on
#            PFN-only and struct-page memory.
#   walk     selftests/walk_bench: a 4-level guest page-table walk with
#            its tables in struct-page and PFN-only memory, each level
#            mapped per walk or read through the walk cache, and
#            KVM_TRANSLATE on a real vCPU over the same tables.
#   tdp      selftests/tdp_bench: the mirror against KVM's TDP MMU
#            (kvm_amd npt=1) on the same buffers (64 and 512 MiB; 4K
#            pages, THP, hugetlb): fault-in against KVM_PRE_FAULT_MEMORY,
#            the restore after mprotect, a soft-dirty clear and
#            MADV_DONTNEED, and SecPageTables per GiB mapped.  Its JSON
#            lines (one per row) go to tdp-<stamp>.jsonl.
#   trace    selftests/trace_bench: the cost of the tracepoints.  A fault
#            loop (a page per GUESTMAP_MIRROR_FAULT) and a map loop
#            (GUESTMAP_ACCESS MAP_READ), each call timed, with the
#            guestmap events disabled and enabled, against the same loops
#            on a build without tracepoints (GM_NO_TRACE=1, built in a
#            copy of the sources under $GUESTMAP_CACHE/bench-notrace/),
#            the two modules swapped in one VM run; each measurement of
#            the normal build is set against the two of the other made
#            just before and after it.  The goal for
#            trace.disabled_over_none is at most 1.02.
#
# GM_BENCH_ONLY=<names> runs only the sections named (comma-separated),
# e.g. "GM_BENCH_ONLY=trace scripts/bench.sh".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

sections=mirror,map,fault,nested,vmx,walk,tdp,trace
only=${GM_BENCH_ONLY:-$sections}
for s in ${only//,/ }; do
	[[ ",$sections," == *",$s,"* ]] || gm_die "GM_BENCH_ONLY: no section $s (have $sections)"
done
want() { [[ ",$only," == *",$1,"* ]]; }

kdir=$("$GM_ROOT/scripts/kernel.sh")
# The test build: GUESTMAP_BENCH is not in a production one.
"$GM_ROOT/scripts/kmake.sh" GM_TEST_OPS=1 >/dev/null
kvm_selftests=$("$GM_ROOT/scripts/kvm-selftests.sh")
make -s -C "$GM_ROOT/selftests" KDIR="$kdir" KVM_SELFTESTS="$kvm_selftests"
"$GM_ROOT/scripts/kmod.sh" >/dev/null
out=$GUESTMAP_CACHE/bench
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

# The benchmarks against KVM's own kvm_vcpu_map(): selftests/$1_bench in
# one VM run with kvm_amd and gm_kvm_probe.ko, its output printed and kept
# in $out/$1-$stamp.txt, which must have a "bench: " line for each result
# named after $1.
kvm_bench() {
	local name=$1 r
	shift
	"$GM_ROOT/scripts/vm-run" --module --kvm --append "$GM_TEST_APPEND" -- \
		"$GM_TEST_ENV sh -c 'insmod selftests/kmod/gm_kvm_probe.ko && selftests/${name}_bench'" |
		tee "$out/$name-$stamp.txt"
	for r; do
		grep -q "^bench: $r" "$out/$name-$stamp.txt"
	done
}

if want mirror; then
	gm_log "mirror vs dmirror (one VM run)"
	"$GM_ROOT/scripts/vm-run" --module -- \
		"modprobe test_hmm && selftests/mirror_bench" | tee "$out/mirror-$stamp.txt"
	grep -q '^bench: 4k.fault_throughput_ratio' "$out/mirror-$stamp.txt"
fi

if want map; then
	gm_log "guest page mapping vs kvm_vcpu_map (one VM run)"
	kvm_bench map map.pfn_cache_over_page
fi

# vm-run boots two vCPUs: a "# SKIP" for want of a second one fails here.
if want fault; then
	gm_log "concurrent faults in one context (one VM run)"
	"$GM_ROOT/scripts/vm-run" --module -- selftests/fault_bench |
		tee "$out/fault-$stamp.txt"
	grep -q '^bench: fault.two_threads_over_one' "$out/fault-$stamp.txt"
fi

if want nested; then
	gm_log "nested SVM entry/exit vs kvm_vcpu_map (one VM run)"
	kvm_bench nested nested.cached_pfn_over_cached_page \
		nested.kvm_vcpu_map_pfn_over_cached_pfn
fi

if want vmx; then
	gm_log "nested VMX entry/exit vs kvm_vcpu_map (one VM run)"
	kvm_bench vmx vmx.cached_pfn_over_cached_page \
		vmx.kvm_vcpu_map_pfn_over_cached_pfn
fi

if want walk; then
	gm_log "guest page-table walks vs KVM_TRANSLATE (one VM run)"
	"$GM_ROOT/scripts/vm-run" --module --kvm --append "$GM_TEST_APPEND" -- \
		"$GM_TEST_ENV selftests/walk_bench" | tee "$out/walk-$stamp.txt"
	grep -q '^bench: walk.cached_pfn_over_cached_page' "$out/walk-$stamp.txt"
fi

# The guest writes its JSON lines into vm-run's shared directory, which
# vm-run removes, so it prints them as "json: " lines, split off here.
# kvm_amd must run with npt=1 (its default where the CPU has NPT).
if want tdp; then
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
fi

# The build without tracepoints is made from this tree's sources (tracked
# and new files, as they are now) in a copy, by the copy's own scripts,
# against the same cached kernel: guestmap.ko here may be in use by
# others.  The guest loads the two in turn, each for one trace_bench run,
# the build without tracepoints first and last: trace_reps runs of the
# normal build, each between two of the other, whose mean it is set
# against, so that a drift of the host's speed cancels.
if want trace; then
	gm_log "the cost of tracing: no tracepoints, disabled, enabled (one VM run)"
	trace_reps=15
	notrace=$GUESTMAP_CACHE/bench-notrace/$(printf '%s' "$GM_ROOT" | sha256sum | cut -c1-12)
	mkdir -p "$notrace/src"
	git -C "$GM_ROOT" ls-files -z --cached --others --exclude-standard -- \
		Kbuild Makefile c include rust scripts src selftests/config selftests/config.debug |
		tar -C "$GM_ROOT" --null -T - --ignore-failed-read -cf - | tar -C "$notrace/src" -xf -
	"$notrace/src/scripts/kmake.sh" GM_TEST_OPS=1 GM_NO_TRACE=1 modules >/dev/null
	# The guest's part, in a file: vm-run's command goes on the kernel
	# command line, which has no room for it.
	cat >"$notrace/guest.sh" <<'GUEST'
# guest.sh REPS NONE_KO: NONE_KO, GUESTMAP_KO, NONE_KO, ... REPS times.
reps=$1 none=$2 t=/sys/kernel/tracing
echo 8192 >$t/buffer_size_kb && echo 1 >$t/tracing_on || exit 1
for i in $(seq 0 $((2 * reps))); do
	ko=$none
	[ $((i % 2)) = 0 ] || ko=$GUESTMAP_KO
	echo "# module $ko"
	insmod "$ko" && selftests/trace_bench && rmmod guestmap || exit 1
done
GUEST
	"$GM_ROOT/scripts/vm-run" --timeout 1800 -- \
		bash "$notrace/guest.sh" "$trace_reps" "$notrace/src/guestmap.ko" |
		tee "$out/trace-$stamp.txt"
	# Per run of the normal build: the ratios of each loop to the mean of
	# the runs without tracepoints on either side, and the times, as
	# "name value" lines.
	trace_rows=$(awk '
		/^trace_bench: / {
			for (i = 2; i <= NF; i++) {
				split($i, kv, "=")
				v[kv[1]] = kv[2]
			}
			if (v["events"] == "none") {
				n++
				t["fault", "none", n] = v["fault"]
				t["map", "none", n] = v["map"]
				next
			}
			if (v["events"] == "disabled")
				before[++k] = n
			t["fault", v["events"], k] = v["fault"]
			t["map", v["events"], k] = v["map"]
		}
		END {
			for (j = 1; j <= n; j++) {
				print "fault_ns_none", t["fault", "none", j]
				print "map_ns_none", t["map", "none", j]
			}
			for (j = 1; j <= k; j++) {
				b = before[j]
				if (b < 1 || b >= n)
					continue
				for (l = 1; l <= 2; l++) {
					loop = l == 1 ? "fault" : "map"
					pre = l == 1 ? "" : "map_"
					none = (t[loop, "none", b] + t[loop, "none", b + 1]) / 2
					d = t[loop, "disabled", j]
					e = t[loop, "enabled", j]
					print pre "disabled_over_none", d / none
					print pre "enabled_over_none", e / none
					print loop "_ns_disabled", d
					print loop "_ns_enabled", e
				}
			}
		}' "$out/trace-$stamp.txt")
	# The median of the values of row $1, with the min and max, in
	# printf format $2.
	trace_stat() {
		printf '%s\n' "$trace_rows" | awk -v k="$1" '$1 == k { print $2 }' | sort -g |
			awk -v f="$2" '{ v[NR] = $1 }
			END {
				if (!NR)
					exit 1
				m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				printf f " (min " f " max " f ", %d runs)\n", m, v[1], v[NR], NR
			}'
	}
	{
		for loop in fault map; do
			for ev in none disabled enabled; do
				printf '# trace: %s, events %s: ns per %s (p10 of the calls): ' \
					"$loop" "$ev" "$([ $loop = fault ] && echo page || echo access)"
				trace_stat "${loop}_ns_$ev" %.0f
			done
		done
		for r in disabled_over_none enabled_over_none map_disabled_over_none \
			map_enabled_over_none; do
			stat=$(trace_stat "$r" %.3f)
			echo "bench: trace.$r $stat"
			[ $r != disabled_over_none ] ||
				awk -v m="${stat%% *}" 'BEGIN { printf "# trace: goal %s <= 1.02: %s\n",
					"trace.disabled_over_none", m + 0 <= 1.02 ? "met" : "NOT met" }'
		done
	} | tee -a "$out/trace-$stamp.txt"
	grep -q '^bench: trace.disabled_over_none [0-9]' "$out/trace-$stamp.txt"
	grep -q '^bench: trace.enabled_over_none [0-9]' "$out/trace-$stamp.txt"
fi
