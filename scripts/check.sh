#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test guestmap has, as one TAP stream ending in the line
# "N passed, N failed".  With GM_FLAVOUR=debug (make check-debug), on the
# KASAN/UBSAN kernel, with the fuzzer and the race stress run longer.
#
#   1. the module builds with W=1 and CLIPPY=1 without a warning
#      (CONFIG_WERROR turns every warning into an error), as a production
#      build and as the test build (GM_TEST_OPS=1) the VM tests load; the
#      selftests build, 64- and 32-bit, and install as kselftests
#   2. rustfmt, checkpatch.pl --no-tree and kernel-doc -Wall are clean;
#      make htmldocs, make rustdoc and make rust-analyzer work cleanly;
#      make refuses unusable kernel trees (scripts/kdir-checks.sh)
#   3. the host unit tests (cargo test in rust/host), the ioctl ABI for
#      i386 and x86-64 (scripts/abi32.sh), and the vmcs12 and eVMCS
#      layouts compiled against KVM's own headers
#   4. the kselftests, in the test VM, whose kernel log must stay clean,
#      run by the kernel's run_kselftest.sh; those against KVM itself
#      (svm_diff_test) link the kernel's KVM selftests library
#      (scripts/kvm-selftests.sh) and run in the same boot, with kvm_amd
#      loaded with nested SVM; then the boots of their own (/dev/mem,
#      a 1 GiB page), Documentation/using.rst's commands as written
#      (scripts/using-check.sh) and make profile SHORT=1
#
# Details of each step go to $GUESTMAP_CACHE/check/, printed on failure.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

log=$GUESTMAP_CACHE/check${GM_FLAVOUR:+-$GM_FLAVOUR}
rm -rf "$log"
mkdir -p "$log"
n=0 passed=0 failed=0 skipped=0

# tap STATUS DESCRIPTION [DIRECTIVE]: one test result.
tap() {
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2${3:+ # $3}"
		case "${3:-}" in SKIP*) skipped=$((skipped + 1)) ;; *) passed=$((passed + 1)) ;; esac
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# step NAME DESCRIPTION COMMAND...: a test that is one command.
step() {
	local name=$1 desc=$2
	shift 2
	if "$@" >"$log/$name.log" 2>&1; then
		tap ok "$desc"
	else
		tap "not ok" "$desc"
		sed 's/^/# /' "$log/$name.log" | tail -n 60
	fi
}

# tap_line PREFIX LINE: one TAP result line ("ok 3 - name", "ok 3 name",
# "not ok 3 name # directive") as a result of ours; anything else is
# ignored.
tap_line() {
	local desc
	case "$2" in
	"ok "*" # SKIP"*)
		desc=${2#ok * }
		desc=${desc#- }
		tap ok "$1${desc%% # SKIP*}" "SKIP${desc#* # SKIP}"
		;;
	"ok "*) desc=${2#ok * }; tap ok "$1${desc#- }" ;;
	"not ok "*) desc=${2#not ok * }; tap "not ok" "$1${desc#- }" ;;
	esac
}

# from_tap PREFIX FILE: take over the top-level results of a TAP stream.
from_tap() {
	local line
	while IFS= read -r line; do
		tap_line "$1" "$line"
	done <"$2"
}

# from_ksft PREFIX FILE: take over what run_kselftest.sh printed: each
# program's own results (its TAP, which the runner indents with "# "),
# named "<program>: <result>", and the runner's line for the program,
# which says whether it exited 0, skipped (4) or timed out.
from_ksft() {
	local line prog= coll
	while IFS= read -r line; do
		case "$line" in
		"# selftests: "*)
			# "<collection>: <program>"; lib.mk's run_tests names the
			# directory as the collection.
			coll=${line#\# selftests: }
			prog=${coll##*: }
			coll=${coll%: *}
			case "$coll" in guestmap/*) prog=${coll#guestmap/}/$prog ;; esac
			;;
		"# ok "* | "# not ok "*) tap_line "$1$prog: " "${line#\# }" ;;
		*) tap_line "$1" "$line" ;;
		esac
	done <"$2"
}

# tap_script NAME PREFIX COMMAND...: a command that prints TAP of its own;
# its results are taken over, and a failing status with no failed result
# (it broke before it could say) is one more.
tap_script() {
	local name=$1 prefix=$2 rc=0
	shift 2
	"$@" >"$log/$name.tap" 2>"$log/$name.log" || rc=$?
	from_tap "$prefix" "$log/$name.tap"
	if [ $rc != 0 ] && ! grep -q '^not ok' "$log/$name.tap"; then
		tap "not ok" "$prefix$name finished (status $rc)"
		tail -n 30 "$log/$name.log" "$log/$name.tap" | sed 's/^/# /'
	fi
}

finish() {
	echo "1..$n"
	[ $skipped = 0 ] || echo "# $skipped skipped"
	echo "$passed passed, $failed failed"
	[ $failed = 0 ]
	exit
}

echo "TAP version 13"
start=$(date +%s)

# Set-up failures end the run: nothing after them could mean anything.
if ! "$GM_ROOT/scripts/deps.sh" >"$log/deps.log" 2>&1; then
	tap "not ok" "install dependencies"
	tail -n 40 "$log/deps.log" | sed 's/^/# /'
	finish
fi
if ! kdir=$("$GM_ROOT/scripts/kernel.sh" 2>"$log/kernel.log"); then
	tap "not ok" "build the test kernel"
	tail -n 40 "$log/kernel.log" | sed 's/^/# /'
	finish
fi
echo "# kernel: $kdir"

# How long the bounded tests run: the debug kernel is 3-4 times slower, and
# is where the fuzzer and the stress matter most.  It still has to fit,
# after make check, in .ci/run's 90 minutes: 5 minutes of fuzzing there
# make about 250,000 calls, more than make check's minute.
if [ "$GM_FLAVOUR" = debug ]; then
	bounds="GM_FUZZ_COUNT=${GM_FUZZ_COUNT:-1000000} GM_FUZZ_SECONDS=${GM_FUZZ_SECONDS:-300}"
	bounds+=" GM_STRESS_SECONDS=${GM_STRESS_SECONDS:-60}"
	# mirror_test's teardown latency test faults and frees 6 x 64 GiB of
	# mirror; with it, mirror_test took 570 s there.
	bounds+=" GM_TEARDOWN_BIG_GIB=${GM_TEARDOWN_BIG_GIB:-16}"
else
	bounds="GM_FUZZ_COUNT=${GM_FUZZ_COUNT:-200000} GM_FUZZ_SECONDS=${GM_FUZZ_SECONDS:-60}"
	bounds+=" GM_STRESS_SECONDS=${GM_STRESS_SECONDS:-10}"
fi

# 1. Build.  The old module goes first: the VM must never test a stale one.
# Removing the Rust object also makes its lints run every time.
rm -f "$GM_ROOT/guestmap.ko" "$GM_ROOT/src/guestmap.o"
step build-prod "production build is warning-free (W=1 CLIPPY=1)" \
	"$GM_ROOT/scripts/kmake.sh" W=1 CLIPPY=1 modules
rm -f "$GM_ROOT/guestmap.ko"
step build "test build is warning-free (W=1 CLIPPY=1 GM_TEST_OPS=1)" \
	"$GM_ROOT/scripts/kmake.sh" W=1 CLIPPY=1 GM_TEST_OPS=1 modules
# The kernel's KVM selftests library, for the tests against KVM.  Without
# it those tests are not built and skip, but the others still run.
if kvm_selftests=$("$GM_ROOT/scripts/kvm-selftests.sh" 2>"$log/kvm-selftests.log"); then
	tap ok "KVM selftests library builds (scripts/kvm-selftests.sh)"
	kvm_failed=0
else
	tap "not ok" "KVM selftests library builds (scripts/kvm-selftests.sh)"
	tail -n 40 "$log/kvm-selftests.log" | sed 's/^/# /'
	kvm_selftests='' kvm_failed=1
fi
step selftests "selftests build" make -C "$GM_ROOT/selftests" KDIR="$kdir" \
	${kvm_selftests:+KVM_SELFTESTS="$kvm_selftests"}
rm -f "$GM_ROOT/selftests/kmod/gm_kvm_probe.ko"
step kmod "test module gm_kvm_probe builds warning-free (W=1)" \
	"$GM_ROOT/scripts/kmod.sh" W=1 modules
# The layout of the kernel's own "make kselftest-install", which the VM
# runs with run_kselftest.sh (selftests/run_vm_tests.sh).  The 32-bit
# programs (guestmap/m32) only on the GCC kernel: through compat_ptr_ioctl
# they reach the handlers the 64-bit suite runs under KASAN, with
# structures of the same layout (abi32.sh), and the debug run must fit
# .ci/run's 90 minutes.
m32=$([ "$GM_FLAVOUR" = debug ] && echo 0 || echo 1)
step kselftest-install "selftests install as kselftests (run_kselftest.sh, kselftest-list.txt)" \
	make -C "$GM_ROOT/selftests" KDIR="$kdir" \
	${kvm_selftests:+KVM_SELFTESTS="$kvm_selftests"} M32=$m32 kselftest-install
built=$([ $((failed - kvm_failed)) = 0 ] && echo 1 || echo 0)

# 2. Style.
mapfile -t rs_files < <(cd "$GM_ROOT" && git ls-files '*.rs')
step rustfmt "rustfmt --check" \
	/usr/bin/rustfmt --check --color never --config-path "$GM_ROOT/.rustfmt.toml" \
	"${rs_files[@]/#/$GM_ROOT/}"
mapfile -t c_files < <(cd "$GM_ROOT" && git ls-files '*.c' '*.h')
step checkpatch "checkpatch.pl --no-tree (C and headers)" \
	"$kdir/scripts/checkpatch.pl" --no-tree --terse --show-types -f \
	"${c_files[@]/#/$GM_ROOT/}"

# The headers Documentation/ pulls with kernel-doc directives.  kernel-doc
# -none exits 0 on its errors and on a missing file (-Werror counts only
# warnings), so what it prints decides too.
kernel_doc() {
	local out status
	out=$("$kdir/scripts/kernel-doc" -none -Wall "$@" 2>&1)
	status=$?
	printf '%s\n' "$out"
	[ $status = 0 ] && ! grep -qE '^.+:[0-9]+: (warning|error):|^Error:' <<<"$out"
}
step kernel-doc "kernel-doc -Wall (documented headers)" kernel_doc \
	"$GM_ROOT/include/uapi/linux/guestmap.h" \
	"$GM_ROOT/include/uapi/linux/guestmap_test.h" "$GM_ROOT/include/guestmap/pfn.h"

# Documentation built, not only written: Sphinx with the tree's kernel-doc
# extension, and the crate's rustdoc; and the editor's view of the crate.
step htmldocs "make htmldocs: Sphinx -n -W clean, every kernel-doc directive rendered" \
	"$GM_ROOT/scripts/htmldocs.sh"
step rustdoc "make rustdoc: no broken intra-doc links, no rustdoc warnings" \
	"$GM_ROOT/scripts/rustdoc.sh"
step rust-analyzer "make rust-analyzer: rust-project.json has the module and the kernel crates" \
	"$GM_ROOT/scripts/rust-analyzer.sh"

# "make" behaves as an out-of-tree module's: no tree, or one guestmap
# cannot use, is refused at once with the missing piece named.
tap_script kdir "make: " "$GM_ROOT/scripts/kdir-checks.sh"

# 3. Host unit tests, one TAP line per "test x ... ok|FAILED".
host_ok=1
(cd "$GM_ROOT/rust/host" && BINDGEN="$GM_TOOLS/bin/bindgen" \
	cargo test --quiet -- --format=pretty 2>&1) >"$log/host.log" || host_ok=0
sed -nE 's/^test (.*) \.\.\. ok$/ok 0 \1/p; s/^test (.*) \.\.\. FAILED$/not ok 0 \1/p' \
	"$log/host.log" >"$log/host.tap"
from_tap "host: " "$log/host.tap"
if [ $host_ok = 0 ] && ! grep -q '^not ok' "$log/host.tap"; then
	tap "not ok" "host: cargo test"
	tail -n 40 "$log/host.log" | sed 's/^/# /'
fi

# One ioctl ABI for 32- and 64-bit callers (compat_ptr_ioctl), by the
# compiler.
step abi32 "host: ioctl structs and numbers identical for i386 and x86_64 (scripts/abi32.sh)" \
	"$GM_ROOT/scripts/abi32.sh"

# The vmcs12 and eVMCS tables against KVM's own layouts, by the compiler.
step vmx-layout "host: vmcs12 and eVMCS layouts match KVM's headers (offsetof)" \
	"$GM_ROOT/scripts/vmx-layout.sh"

# 4. kselftests in the VM.  vm-run fails on a dirty guest kernel log even
# when every test passed: that is a result of its own.
if [ $built = 0 ]; then
	tap "not ok" "vm: kselftests not run: the module or the selftests did not build"
else
	# Memory of every kind the tests need (scripts/lib.sh says which), and
	# /dev/kvm with nested SVM for the tests against KVM.
	"$GM_ROOT/scripts/vm-run" --module --kvm --append "$GM_TEST_APPEND" \
		--timeout "$([ "$GM_FLAVOUR" = debug ] && echo 5400 || echo 3600)" \
		-- "$GM_TEST_ENV $bounds selftests/run_vm_tests.sh" \
		>"$log/vm.tap" 2>"$log/vm.log"
	vm_status=$?
	from_ksft "vm: " "$log/vm.tap"
	if grep -q 'kernel log NOT clean\|VM timed out\|VM ended early' "$log/vm.log"; then
		tap "not ok" "vm: guest kernel log clean, VM finished"
		sed 's/^/# /' "$log/vm.log"
	else
		tap ok "vm: guest kernel log clean, VM finished"
		# A failing status with no failed test: the harness itself broke.
		if [ $vm_status != 0 ] && ! grep -q '^not ok' "$log/vm.tap"; then
			tap "not ok" "vm: selftests exit status ($vm_status)"
			tail -n 40 "$log/vm.tap" | sed 's/^/# /'
		fi
	fi
	grep -h 'VM finished in' "$log/vm.log" | sed 's/^/# /'
	grep -h '^# took ' "$log/vm.tap" || true

	# RAM through /dev/mem needs a boot of its own (GM_DEVMEM_APPEND).
	"$GM_ROOT/scripts/vm-run" --module --append "$GM_DEVMEM_APPEND" \
		-- "selftests/run_vm_tests.sh devmem" \
		>"$log/vm-devmem.tap" 2>"$log/vm-devmem.log"
	vm_status=$?
	from_ksft "vm-devmem: " "$log/vm-devmem.tap"
	if grep -q 'kernel log NOT clean\|VM timed out\|VM ended early' "$log/vm-devmem.log"; then
		tap "not ok" "vm-devmem: guest kernel log clean, VM finished"
		sed 's/^/# /' "$log/vm-devmem.log"
	else
		tap ok "vm-devmem: guest kernel log clean, VM finished"
		if [ $vm_status != 0 ] && ! grep -q '^not ok' "$log/vm-devmem.tap"; then
			tap "not ok" "vm-devmem: selftests exit status ($vm_status)"
			tail -n 40 "$log/vm-devmem.tap" | sed 's/^/# /'
		fi
	fi
	grep -h 'VM finished in' "$log/vm-devmem.log" | sed 's/^/# /'

	# A 1 GiB hugetlb page needs a boot of its own (GM_HUGE1G_*).
	"$GM_ROOT/scripts/vm-run" --module --memory "$GM_HUGE1G_MEMORY" \
		--append "$GM_HUGE1G_APPEND" \
		-- "KDIR=$kdir selftests/run_vm_tests.sh huge1g" \
		>"$log/vm-huge1g.tap" 2>"$log/vm-huge1g.log"
	vm_status=$?
	from_ksft "vm-huge1g: " "$log/vm-huge1g.tap"
	if grep -q 'kernel log NOT clean\|VM timed out\|VM ended early' "$log/vm-huge1g.log"; then
		tap "not ok" "vm-huge1g: guest kernel log clean, VM finished"
		sed 's/^/# /' "$log/vm-huge1g.log"
	elif [ $vm_status != 0 ] && ! grep -q '^not ok' "$log/vm-huge1g.tap"; then
		tap "not ok" "vm-huge1g: selftests exit status ($vm_status)"
		tail -n 40 "$log/vm-huge1g.tap" | sed 's/^/# /'
	else
		tap ok "vm-huge1g: guest kernel log clean, VM finished"
	fi
	# The boot is for that one test: it counts only if it ran and passed
	# (a skip, or a RUN= that matched nothing, is not a pass).
	if grep -qx '# ok [0-9]* hugetlb\.hugetlb_1g_maps_a_1g_entry' "$log/vm-huge1g.tap"; then
		tap ok "vm-huge1g: the 1 GiB test ran and passed"
	else
		tap "not ok" "vm-huge1g: the 1 GiB test ran and passed"
	fi
	grep -h 'VM finished in' "$log/vm-huge1g.log" | sed 's/^/# /'
fi

# Documentation/using.rst, tried as a new user would: every command on the
# page, as written, on a fresh copy of the tree, for the test kernel: the
# builds (make, DKMS, gcc) on the host, the rest in the VM.  Only on the
# GCC kernel: the page builds with the tree's defaults, and the debug
# kernel is clang's (LLVM=-19).
if [ $built = 0 ]; then
	tap "not ok" "using.rst: not run: the module or the selftests did not build"
elif [ "$GM_FLAVOUR" = debug ]; then
	tap ok "using.rst: commands of the page" "SKIP run on the GCC kernel (make check)"
else
	tap_script using "" "$GM_ROOT/scripts/using-check.sh"
	if grep -q 'kernel log NOT clean\|VM timed out\|VM ended early' "$log/using.log"; then
		tap "not ok" "using.rst: guest kernel log clean, VM finished"
		sed 's/^/# /' "$log/using.log"
	else
		tap ok "using.rst: guest kernel log clean, VM finished"
	fi
	grep -h 'VM finished in' "$log/using.log" | sed 's/^/# /'
fi

# 5. make profile in its short mode (a boot of its own): trace-cmd records
# a workload; the report, each of its sections and the plots are checked
# (scripts/profile/check.py).  Everything is built by now.  Only on the
# GCC kernel: timings of KASAN's instrumentation profile KASAN, and the
# tracepoints and the workload run on the debug kernel in trace_test and
# the suite.
if [ $built = 0 ]; then
	tap "not ok" "profile: not run: the module or the selftests did not build"
elif [ "$GM_FLAVOUR" = debug ]; then
	tap ok "profile: make profile SHORT=1" "SKIP run on the GCC kernel (make check)"
else
	if GM_PROFILE_SHORT=1 GM_PROFILE_NO_BUILD=1 "$GM_ROOT/scripts/profile.sh" \
		>"$log/profile.log" 2>&1; then
		tap ok "profile: make profile SHORT=1 ran, guest kernel log clean"
	else
		tap "not ok" "profile: make profile SHORT=1 ran, guest kernel log clean"
		tail -n 40 "$log/profile.log" | sed 's/^/# /'
	fi
	# This run's directory, from report.py's summary: "latest" may be an
	# older run's if this one never got to the report.
	profile_res=$(sed -n 's/^results: //p' "$log/profile.log" | tail -n 1)
	if [ -n "$profile_res" ]; then
		check_status=0
		/usr/bin/python3 "$GM_ROOT/scripts/profile/check.py" "$profile_res" \
			>"$log/profile.tap" 2>&1 || check_status=$?
		from_tap "profile: " "$log/profile.tap"
		# A crash would leave out the checks it did not reach.
		if [ $check_status != 0 ] && ! grep -q '^not ok' "$log/profile.tap"; then
			tap "not ok" "profile: check.py finished (status $check_status)"
			tail -n 20 "$log/profile.tap" | sed 's/^/# /'
		fi
		grep '^# ' "$log/profile.tap" || true
		echo "# profile: $profile_res/report.html"
	else
		tap "not ok" "profile: report written"
	fi
fi

echo "# make check took $(($(date +%s) - start)) s"
finish
