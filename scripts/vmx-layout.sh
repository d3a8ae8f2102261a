#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The nested VMX layout tests: guestmap's tables against KVM's own
# definitions, by the compiler.  The host tests write the C files
# (rust/host/nested_vmx_tests.rs vmcs12_layout_c, nested_vmx_evmcs_tests.rs
# evmcs_layout_c):
#
#   vmcs12   src/nested/vmx/vmcs12.rs against struct vmcs12 and enum
#            vmcs_field: one static_assert per offset, size and encoding
#   evmcs    src/nested/vmx/evmcs.rs against struct hv_enlightened_vmcs
#            (asm/hyperv-tlfs.h), enum vmcs_field, the clean bits, the
#            supported-controls masks, and a BUILD_BUG_ON per offset and
#            clean group of KVM's vmcs_field_to_evmcs_1[] (hyperv_evmcs.c)
#
# This builds them, with arch/x86/kvm/vmx of the kernel guestmap is built
# for, as an external module that is never loaded: a wrong entry fails
# the build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$("$GM_ROOT/scripts/kernel.sh")
vmx=$kdir/arch/x86/kvm/vmx
for f in vmcs12.h hyperv_evmcs.c; do
	[ -f "$vmx/$f" ] || { echo "no $vmx/$f: the kernel tree has no KVM source"; exit 1; }
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for t in vmcs12 evmcs; do
	upper=${t^^}
	(cd "$GM_ROOT/rust/host" && env "GM_${upper}_LAYOUT_C=$dir/${t}_layout.c" \
		BINDGEN="$GM_TOOLS/bin/bindgen" cargo test --quiet "${t}_layout_c" >/dev/null)
	echo "$t: $(grep -c '^CHECK(' "$dir/${t}_layout.c") static_asserts," \
		"$(grep -c 'BUILD_BUG_ON(' "$dir/${t}_layout.c") BUILD_BUG_ONs"
done
cat >"$dir/Kbuild" <<KBUILD
obj-m := vmcs12_layout.o evmcs_layout.o
ccflags-y := -I$vmx -I$kdir/arch/x86/kvm
KBUILD
make -s -C "$kdir" M="$dir" "${GM_KMAKE_VARS[@]}" W=1 modules
echo "vmcs12 and eVMCS layouts match $vmx"
