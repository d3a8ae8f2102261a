#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The anchor for the nested consumers: the kernel's own nested-SVM KVM
# selftests (tools/testing/selftests/kvm of the test kernel, built by
# scripts/kvm-selftests.sh) on kvm_amd with nested=1, in the same kind of
# VM run as guestmap's tests: QEMU's TCG emulates SVM for the L1 guests.
#
# Prints a table of test, result and reason, and keeps it with the tests'
# output in $GUESTMAP_CACHE/anchor/.  Results:
#
#   pass
#   XFAIL  an expected failure: TCG's, not KVM's (the list below), and
#          failing the way it is known to
#   XPASS  an expected failure that passed: a notice (a newer QEMU?)
#   FAIL   any other failure, a crash or a timeout
#   SKIP   every test here must run on the test kernel (smm_test needs
#          CONFIG_KVM_SMM, hyperv_svm_test CONFIG_KVM_HYPERV): a skip fails
#
# Exit status: nonzero on FAIL or SKIP, or if the guest kernel log is not
# clean.  Arguments go to scripts/vm-run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kst=$("$GM_ROOT/scripts/kvm-selftests.sh")
out=$GUESTMAP_CACHE/anchor
mkdir -p "$out"

# Every nested-SVM test, then the nested tests that take either VMX or SVM.
tests=()
for f in "$kst"/x86_64/svm_*; do
	case ${f##*/} in *.*) continue ;; esac
	tests+=("x86_64/${f##*/}")
done
tests+=(x86_64/nested_exceptions_test x86_64/state_test x86_64/triple_fault_event_test
	x86_64/smm_test x86_64/hyperv_svm_test)

# The failures that come from TCG, not from KVM: why, and a pattern of the
# test's output that says it failed that way (anything else is a FAIL).
declare -A xfail_why xfail_how
xfail_why[svm_nested_soft_inject_test]="TCG's SVM has no NRIPS (next-RIP save), so KVM"
xfail_why[svm_nested_soft_inject_test]+=" does not offer it to L1; the test asserts that nested SVM always does"
xfail_how[svm_nested_soft_inject_test]='supposed to unconditionally advertise nRIP Save'
xfail_why[nested_exceptions_test]="QEMU 7.2 (Debian 12) puts the IDT offset (vector * 16), not"
xfail_why[nested_exceptions_test]+=" the index (vector * 8), in the #GP error code of a fault on an IDT"
xfail_why[nested_exceptions_test]+=" entry: 0xc2 for 0x62 (QEMU issue 1382)"
xfail_how[nested_exceptions_test]='0xc2 != 0x62 \(ctrl->exit_info_1 != error_code\)'

# What runs in the VM: each test under a time limit, its output between
# two marker lines, the second with its exit status.
guest=$out/kvm-guest.sh
cat >"$guest" <<'EOF'
#!/bin/bash
cd "$1" || exit 1
shift
for t in "$@"; do
	echo "anchor-kvm: begin $t"
	if [ -x "$t" ]; then
		timeout 600 "./$t" </dev/null 2>&1
		echo "anchor-kvm: end $t $?"
	else
		echo "anchor-kvm: end $t missing"
	fi
done
EOF

log=$out/kvm-tests.log
gm_log "running ${#tests[@]} KVM selftests of $kst in the VM"
vm_status=0
"$GM_ROOT/scripts/vm-run" --kvm --timeout 3600 "$@" -- \
	"bash '$guest' '$kst' ${tests[*]}" >"$log" || vm_status=$?

# One test's output, from the log.
test_output() {
	awk -v t="$1" '$0 == "anchor-kvm: begin " t { on = 1; next }
		on && index($0, "anchor-kvm: end " t " ") == 1 { exit }
		on { print }' "$log"
}

summary=$out/kvm-summary.txt
{
	printf '%-32s %-6s %s\n' TEST RESULT REASON
	for t in "${tests[@]}"; do
		name=${t##*/}
		end=$(grep -m1 "^anchor-kvm: end $t " "$log" || true)
		rc=${end##* }
		output=$(test_output "$t")
		# The assertion a KVM selftest fails on: "  file.c:line: expr".
		assertion=$(grep -A1 -m1 '==== Test Assertion Failure ====' <<<"$output" |
			tail -n1 | sed 's/^ *//' || true)
		why=${xfail_why[$name]:-}
		if [ -z "$end" ]; then
			result=FAIL reason="did not finish (see vm-run's report)"
		elif [ "$rc" = missing ]; then
			result=FAIL reason="not built"
		elif [ "$rc" = 0 ]; then
			if [ -n "$why" ]; then
				result=XPASS reason="expected to fail: $why"
			else
				result=pass reason=
			fi
		elif [ "$rc" = 4 ]; then
			result=SKIP
			reason=$(sed -n 's/^1\.\.0 # SKIP[ -]*//p' <<<"$output" | tail -n1 || true)
		elif [ "$rc" = 124 ]; then
			result=FAIL reason="timed out after 600 s"
		elif [ -n "$why" ] && grep -qE "${xfail_how[$name]}" <<<"$output"; then
			result=XFAIL reason="$why"
		else
			result=FAIL reason="exit status $rc${assertion:+: $assertion}"
		fi
		printf '%-32s %-6s %s\n' "$name" "$result" "$reason"
	done
} | tee "$summary"
fails=$(grep -cE '^[^ ]+ +(FAIL|SKIP) ' "$summary" || true)
xpass=$(grep -cE '^[^ ]+ +XPASS ' "$summary" || true)

gm_log "tests' output: $log; summary: $summary"
[ $vm_status = 0 ] ||
	gm_die "the guest kernel log is not clean, or the VM did not finish (see above)"
[ "$fails" = 0 ] || gm_die "$fails of ${#tests[@]} KVM selftests failed or skipped"
[ "$xpass" = 0 ] ||
	gm_log "notice: $xpass expected failure(s) passed (XPASS): is the QEMU newer? Update the list"
gm_log "all ${#tests[@]} KVM selftests passed or failed as expected"
