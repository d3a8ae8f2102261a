#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make profile: boot the test VM, run a representative workload (the demo,
# test subsets that reach every invalidation kind, map path and nested SVM
# step, and the benchmarks) and record it with trace-cmd, then report, in
# $GUESTMAP_CACHE/profile/<stamp>/ (profile-debug/ for GM_FLAVOUR=debug),
# with "latest" pointing at the newest:
#
#   trace.dat            guestmap:* and the synthetic latency events, for
#                        KernelShark or "trace-cmd report"
#   latency.txt          per ioctl command, invalidation event and action,
#                        map path and fault round: count, log2 buckets,
#                        p50/p99/max; and the kernel's hist trigger output
#   graph.txt            function_graph of the module's C part and the
#                        kernel functions it calls (graph.dat), each call
#                        from Rust with its caller
#   callers.txt          the function tracer's parents: the Rust callers,
#                        demangled by rustfilt
#   latency-*.png/.svg   per path; bench-scaling and bench-kvm: the
#                        benchmarks' figures (this run's, and the newest
#                        "make bench" results in $GUESTMAP_CACHE/bench)
#   report.html          all of it, linked; a summary goes to stdout
#
# GM_PROFILE_SHORT=1 (make profile SHORT=1, as make check runs it) keeps it
# to a few minutes under TCG: tdp_bench once per row and without 512 MiB
# of 4 KiB pages, no fault_bench, map_bench or nested_bench.  The full run
# takes about 10 minutes.  The guest side is scripts/profile/guest.sh, the
# report scripts/profile/report.py, make check's checks
# scripts/profile/check.py.  Under TCG, and traced, absolute times mean
# little: compare paths, and ratios within one run.
#
# GM_PROFILE_NO_BUILD=1 skips the builds (the tree's guestmap.ko, the
# selftests and gm_kvm_probe.ko must then be a test build and current).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

short=${GM_PROFILE_SHORT:-0}
[ "$short" = 1 ] && mode=short || mode=full
python=/usr/bin/python3
rustfilt=$GM_TOOLS/bin/rustfilt

command -v trace-cmd >/dev/null || gm_die "trace-cmd missing: run scripts/deps.sh"
"$python" -c 'import matplotlib' 2>/dev/null ||
	gm_die "$python has no matplotlib: run scripts/deps.sh"
[ -x "$rustfilt" ] || gm_log "no $rustfilt: Rust callers stay mangled (scripts/deps.sh installs it)"

if [ "${GM_PROFILE_NO_BUILD:-0}" != 1 ]; then
	# As make bench: the test build (GUESTMAP_BENCH), the selftests with
	# the KVM selftests library (nested_svm_test), the KVM probe module.
	kdir=$("$GM_ROOT/scripts/kernel.sh")
	"$GM_ROOT/scripts/kmake.sh" GM_TEST_OPS=1 >/dev/null
	kvm_selftests=$("$GM_ROOT/scripts/kvm-selftests.sh")
	make -s -C "$GM_ROOT/selftests" KDIR="$kdir" KVM_SELFTESTS="$kvm_selftests"
	"$GM_ROOT/scripts/kmod.sh" >/dev/null
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
top=$GUESTMAP_CACHE/profile${GM_FLAVOUR:+-$GM_FLAVOUR}
res=$top/$stamp
mkdir -p "$res"
id=$stamp.$$
# About 4 and 10 minutes here (TCG, a busy host slows it): room for the
# debug kernel, 2-3 times slower.
timeout=$([ "$short" = 1 ] && echo 1800 || echo 3600)

# The guest writes into vm-run's shared directory, which vm-run removes
# when all went well unless told to keep it (--keep): profile.id in it
# says which one is this run's.
gm_log "profile ($mode mode): booting the VM; results in $res"
start=$(date +%s)
vm_status=0
"$GM_ROOT/scripts/vm-run" --module --kvm --keep --append "$GM_TEST_APPEND" \
	--timeout "$timeout" -- \
	"$GM_TEST_ENV GM_PROFILE_ID=$id GM_PROFILE_SHORT=$short bash scripts/profile/guest.sh" \
	>"$res/vm.log" 2>"$res/vm-run.log" || vm_status=$?
grep -E '^(guest|workload):' "$res/vm.log" >&2 || true
grep 'VM finished in' "$res/vm-run.log" >&2 || true

rw=
for f in "$GUESTMAP_CACHE"/runs/vm.*/profile.id; do
	[ -f "$f" ] && [ "$(cat "$f")" = "$id" ] && rw=$(dirname "$f")
done
if [ -z "$rw" ] || [ ! -d "$rw/profile" ]; then
	cat "$res/vm-run.log" >&2
	gm_die "the guest left no results (vm-run status $vm_status)"
fi
cp -a "$rw/profile/." "$res/"
cp "$rw/dmesg.txt" "$res/" 2>/dev/null || true
if [ $vm_status = 0 ]; then
	rm -rf "$rw"
else
	# vm-run prints why (a splat, a timeout); the run directory stays.
	sed 's/^/  /' "$res/vm-run.log" >&2
	gm_log "the VM run failed (status $vm_status): kept $rw; reporting what there is"
fi

ln -sfn "$stamp" "$top/latest"
report_status=0
"$python" "$GM_ROOT/scripts/profile/report.py" "$res" --mode "$mode" \
	--uapi "$GM_ROOT/include/uapi/linux" --bench-dir "$GUESTMAP_CACHE/bench" \
	--rustfilt "$rustfilt" | tee "$res/summary.txt" || report_status=$?
gm_log "profile ($mode mode) took $(($(date +%s) - start)) s: $res/report.html"
[ $report_status = 0 ] || gm_die "report.py failed (status $report_status)"
exit $vm_status
