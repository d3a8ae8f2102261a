#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs every kselftest binary in the test VM, one TAP stream after the
# other; with "devmem", only selftests/devmem_test (its own boot).
# scripts/check.sh boots the VM with the memory the tests need
# ($GM_TEST_APPEND in scripts/lib.sh) and tells them where it is
# ($GM_TEST_ENV): GUESTMAP_RESERVED (memmap=$ RAM) and GUESTMAP_HIDDEN
# (RAM above mem=), as <size>@<physical address>.  Tests without them skip.
# The tests against KVM itself (KVM_TEST_PROGS in the Makefile) come last
# and need /dev/kvm: the boot loads kvm_amd with nested SVM (vm-run --kvm).
# Exit status: nonzero if any binary failed.
dir=$(dirname "$0")
export GUESTMAP_RESERVED GUESTMAP_HIDDEN
status=0

# "devmem": the tests of RAM through /dev/mem, in their own boot
# (GM_DEVMEM_APPEND in scripts/lib.sh).
if [ "${1:-}" = devmem ]; then
	modprobe kvm && insmod "$dir/kmod/gm_kvm_probe.ko" ||
		echo "# gm_kvm_probe not loaded: its checks are left out"
	exec "$dir/devmem_test"
fi

# Swap, for the tests that swap guest memory out and in: a zram device
# (CONFIG_ZRAM=y), compressed RAM, so nothing reaches the host's disk.
if [ -e /sys/block/zram0/disksize ] && ! grep -q zram0 /proc/swaps; then
	echo 256M >/sys/block/zram0/disksize &&
		mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 ||
		echo "# no zram swap: the swap tests skip"
fi

# The fuzzer and the race stress are bounded by time; make check-debug
# gives them longer (GM_FUZZ_*, GM_STRESS_SECONDS).
export GM_FUZZ_COUNT=${GM_FUZZ_COUNT:-200000} GM_FUZZ_SECONDS=${GM_FUZZ_SECONDS:-60}
export GM_STRESS_SECONDS=${GM_STRESS_SECONDS:-10}

for t in guestmap_test mirror_test huge_test map_test integrity_test context_test events_test \
	nested_svm_test nested_vmx_test nested_vmx_l2_test trace_test walk_test fuzz_test stress_test; do
	# map_test also asks another module, which calls guestmap's exports
	# (and pins guestmap, so only after guestmap_test's unload test).
	if [ $t = map_test ]; then
		modprobe kvm && insmod "$dir/kmod/gm_kvm_probe.ko" ||
			echo "# gm_kvm_probe not loaded: its tests skip"
	fi
	"$dir/$t" || status=1
done

# kvm_test NAME: a test linked with the kernel's KVM selftests library.
# One that prints no TAP result line of its own (a plain KVM selftest
# exits 0, KSFT_SKIP = 4 with "1..0 # SKIP <why>", or fails) gets one from
# its exit status.
kvm_test() {
	out=$(mktemp)
	"$dir/$1" >"$out" 2>&1
	rc=$?
	cat "$out"
	if ! grep -qE '^(not )?ok ' "$out"; then
		case $rc in
		0) echo "ok 1 $1" ;;
		4) echo "ok 1 $1 # SKIP $(sed -n 's/^1\.\.0 # SKIP *//p' "$out" | tail -n1)" ;;
		*) echo "not ok 1 $1 # exit status $rc" ;;
		esac
	fi
	rm -f "$out"
	[ $rc = 0 ] || [ $rc = 4 ]
}

# The same list as KVM_TEST_PROGS in the Makefile, which builds only those
# whose source exists, and only with KVM_SELFTESTS.
kvm_tests="svm_diff_test walk_diff_test"
for t in $kvm_tests; do
	if [ ! -x "$dir/$t" ]; then
		echo "ok 1 $t # SKIP not built (no $t.c, or make without KVM_SELFTESTS=)"
	elif [ ! -c /dev/kvm ]; then
		echo "ok 1 $t # SKIP no /dev/kvm (vm-run --kvm loads kvm_amd)"
	else
		kvm_test "$t" || status=1
	fi
done
exit $status
