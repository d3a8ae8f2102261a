#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The workload "make profile" records, run in the test VM by
# scripts/profile/guest.sh (under trace-cmd record), from the tree's root:
#
#   workload.sh record OUT   the demo, test subsets that reach every
#                            invalidation kind, map path and nested SVM
#                            step, and the benchmarks with small sizes
#   workload.sh bench OUT    the benchmarks whose kernel loops would make
#                            trace.dat huge: counted by the hist triggers
#                            only, not recorded (full mode only)
#   workload.sh graph OUT    a short mix for function_graph and the
#                            function tracer: no KVM (graph tracing of
#                            kvm_amd crashed a test VM)
#
# GM_PROFILE_SHORT=1 makes the benchmarks small enough for make check:
# tdp_bench with one repetition and no 512 MiB of 4 KiB pages, and no
# fault_bench (15 fixed repetitions on 1 GiB: minutes).
# Each program's output goes to OUT/<name>.txt; a failing program is
# reported, not fatal: the profile is of what ran.
set -u
phase=$1 out=$2
# trace-cmd runs it from its own working directory.
cd "$(dirname "$0")/../.." || exit 1
short=${GM_PROFILE_SHORT:-0}
st=selftests
mkdir -p "$out"
status=0

# run NAME COMMAND...: one program, its output kept, its time printed.
run() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	"$@" >"$out/$name.txt" 2>&1
	rc=$?
	echo "workload: $name: exit $rc, $(($(date +%s) - t0)) s"
	[ $rc = 0 ] || status=1
}

# Test subsets (kselftest_harness: -t selects a test by name).  Between
# them they send every invalidation the mirror acts on (munmap, mprotect
# RO and NONE, soft-dirty clear, MADV_DONTNEED, fork, migration, mremap),
# map through every path (a pinned page, memremap() of PFN-only RAM and
# of pmem, the pfn cache hit and refreshed) and run nested SVM entries.
mirror_tests=(munmap_zaps_and_frees_tables mprotect_write_protects_in_place
	mprotect_none_takes_reads_back soft_dirty_clear_write_protects_and_writes_redirty
	dontneed_zaps_but_keeps_tables mremap_away_and_back fork_write_protects_the_parent
	migration_between_nodes_keeps_data thp_backed_slot hugetlb_backed_slot)
map_tests=(access_anonymous_memory access_hugetlb_memory access_thp_memory
	access_pfn_only_memory access_reserved_pfnmap_memory access_fsdax_memory
	pfn_only_accesses_reuse_their_mapping the_cache_never_returns_old_data
	the_cache_follows_pfnmap_memory_without_remapping pfnmap_memory_follows_mprotect)
huge_tests=(thp_maps_2m_entries partial_munmap_keeps_the_rest_coherent
	partial_mprotect_ro_keeps_the_rest_coherent partial_dontneed_keeps_the_rest_coherent
	soft_dirty_clear_then_write_restores_a_writable_2m_entry)
svm_tests=(msr_map_merged_at_vmrun_and_read_live_at_exit cached_vmrun_follows_the_memory
	vmcb12_in_pfn_only_memory vmcb12_in_pfn_only_memory_cached vmexit_reaches_writeback)

# -t NAME for each name.
t_args() {
	local n
	for n in "$@"; do printf -- '-t\n%s\n' "$n"; done
}

case $phase in
record)
	run demo $st/guestmap_demo
	# hugetlb pages for the hugetlb tests, before each program: a test
	# that reserves its own gives them back (tdp_bench too).
	hp=$(cat /proc/sys/vm/nr_hugepages)
	for t in mirror_test map_test huge_test nested_svm_test; do
		echo 8 >/proc/sys/vm/nr_hugepages
		case $t in
		mirror_test) mapfile -t a < <(t_args "${mirror_tests[@]}") ;;
		map_test) mapfile -t a < <(t_args "${map_tests[@]}") ;;
		huge_test) mapfile -t a < <(t_args "${huge_tests[@]}") ;;
		nested_svm_test) mapfile -t a < <(t_args "${svm_tests[@]}") ;;
		esac
		run $t $st/$t "${a[@]}"
	done
	echo "$hp" >/proc/sys/vm/nr_hugepages
	# The mirror against KVM's TDP MMU at two sizes: the KVM-comparison
	# figure and fault-in against size for the scaling one.  4 KiB pages
	# at 512 MiB take minutes under TCG: full mode only.
	if [ "$short" = 1 ]; then
		run tdp_bench-64 $st/tdp_bench -r 1 -s 64 -b 4k,thp,hugetlb -o "$out/tdp-64.jsonl"
		run tdp_bench-512 $st/tdp_bench -r 1 -s 512 -b thp,hugetlb -o "$out/tdp-512.jsonl"
	else
		run tdp_bench-64 $st/tdp_bench -r 3 -s 64 -b 4k,thp,hugetlb -o "$out/tdp-64.jsonl"
		run tdp_bench-512 $st/tdp_bench -r 3 -s 512 -b 4k,thp,hugetlb -o "$out/tdp-512.jsonl"
		# Two threads against one faulting a 1 GiB memslot, 15
		# repetitions (fixed): the thread-scaling figure.  2-3 min.
		run fault_bench $st/fault_bench
	fi
	cat "$out"/tdp-*.jsonl >"$out/tdp.jsonl" 2>/dev/null
	;;
bench)
	# Kernel loops of 20000 maps per row: hundreds of thousands of events.
	run map_bench $st/map_bench
	run nested_bench $st/nested_bench
	# mirror_bench (against test_hmm) is left to make bench: its anchor is
	# not guestmap, and 20 minutes is the budget.
	;;
graph)
	run graph-demo $st/guestmap_demo
	run graph-mirror_test $st/mirror_test -t mprotect_write_protects_in_place \
		-t soft_dirty_clear_write_protects_and_writes_redirty -t dontneed_zaps_but_keeps_tables
	run graph-map_test $st/map_test -t access_anonymous_memory -t access_pfn_only_memory \
		-t the_cache_never_returns_old_data
	;;
*)
	echo "workload.sh: unknown phase $phase" >&2
	exit 2
	;;
esac
exit $status
