#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The test VM's side of "make check": sets the boot up, then runs the
# installed kselftests ("make -C selftests kselftest-install") with the
# kernel's own run_kselftest.sh, one collection per boot:
#
#   (no argument)  guestmap and, if built, guestmap/m32 (the same tests as
#                  32-bit processes, through compat_ioctl)
#   devmem         guestmap/devmem: RAM through /dev/mem, in a boot of its
#                  own (GM_DEVMEM_APPEND in scripts/lib.sh)
#   huge1g         huge_test's 1 GiB test, in a boot with a 1 GiB hugetlb
#                  page (GM_HUGE1G_*), through "make run_tests" (KDIR=)
#
# scripts/check.sh boots the VM with the memory the tests need
# ($GM_TEST_APPEND) and tells them where it is ($GM_TEST_ENV):
# GUESTMAP_RESERVED (memmap=$ RAM) and GUESTMAP_HIDDEN (RAM above mem=),
# as <size>@<physical address>.  Tests without them skip.  The tests
# against KVM itself need /dev/kvm: the boot loads kvm_amd with nested SVM
# (vm-run --kvm).  Exit status: the runner's, nonzero if a test failed.
dir=$(cd "$(dirname "$0")" && pwd)
ksft=$dir/kselftest_install
export GUESTMAP_RESERVED GUESTMAP_HIDDEN

if [ ! -x "$ksft/run_kselftest.sh" ]; then
	echo "not ok 1 $ksft/run_kselftest.sh missing: make -C selftests kselftest-install"
	exit 1
fi

# Each program's wall time, after its result: "# took N s: <collection>:
# <program>" (scripts/check.sh prints them, so a slow run shows where its
# time went).
timed() {
	start=$(date +%s)
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line"
		case "$line" in
		"# selftests: "*) start=$(date +%s) ;;
		"ok "* | "not ok "*)
			name=${line#*selftests: }
			echo "# took $(($(date +%s) - start)) s: ${name%% # *}"
			;;
		esac
	done
}

# The runner prints "ok"/"not ok" for each test but exits 0 either way;
# fail if any top-level result failed.
run() {
	out=$(mktemp)
	"$ksft/run_kselftest.sh" "$@" | timed | tee "$out"
	! grep -q '^not ok ' "$out"
	status=$?
	rm -f "$out"
	return $status
}

case "${1:-}" in
devmem)
	modprobe kvm && insmod "$ksft/guestmap/gm_kvm_probe.ko" ||
		echo "# gm_kvm_probe not loaded: its checks are left out"
	run -c guestmap/devmem
	exit
	;;
huge1g)
	# Through lib.mk's run_tests, as a developer runs one test in place
	# (KDIR: the tree the selftests were built against).
	export KSELFTEST_HUGE_TEST_ARGS="-t hugetlb_1g_maps_a_1g_entry"
	out=$(mktemp)
	make -s -C "$dir" KDIR="$KDIR" RUN=huge_test run_tests | tee "$out"
	! grep -q '^not ok ' "$out"
	status=$?
	rm -f "$out"
	exit $status
	;;
esac

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

collections="-c guestmap"
! grep -q '^guestmap/m32:' "$ksft/kselftest-list.txt" || collections="$collections -c guestmap/m32"
# shellcheck disable=SC2086
run $collections
