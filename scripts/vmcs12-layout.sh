#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The vmcs12 layout test: guestmap's field table (src/nested/vmx/vmcs12.rs)
# against KVM's own struct vmcs12 and enum vmcs_field.  The host tests
# write one static_assert per offset, size and encoding
# (rust/host/nested_vmx_tests.rs, vmcs12_layout_c); this compiles them
# with arch/x86/kvm/vmx/vmcs12.h of the kernel guestmap is built for, as
# an external module that is never loaded.  A wrong entry fails the build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$("$GM_ROOT/scripts/kernel.sh")
vmx=$kdir/arch/x86/kvm/vmx
[ -f "$vmx/vmcs12.h" ] || { echo "no $vmx/vmcs12.h: the kernel tree has no KVM source"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$GM_ROOT/rust/host" && GM_VMCS12_LAYOUT_C=$dir/vmcs12_layout.c \
	BINDGEN="$GM_TOOLS/bin/bindgen" cargo test --quiet vmcs12_layout_c >/dev/null)
grep -c '^CHECK(' "$dir/vmcs12_layout.c" | sed 's/$/ static_asserts/'
cat >"$dir/Kbuild" <<KBUILD
obj-m := vmcs12_layout.o
ccflags-y := -I$vmx -I$kdir/arch/x86/kvm
KBUILD
make -s -C "$kdir" M="$dir" "${GM_KMAKE_VARS[@]}" W=1 modules
echo "vmcs12 layout matches $vmx/vmcs12.h"
