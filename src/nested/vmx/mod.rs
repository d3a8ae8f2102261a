// SPDX-License-Identifier: GPL-2.0

//! Nested VMX, split by structure as upstream splits vmx.c:
//! `capabilities` the VMX capability MSRs of the CPU model, `vmcs12`
//! KVM's vmcs12 layout and field rules, `insn` the VMX instructions'
//! outcomes and operand rules, `checks` the VM-entry checks,
//! `msr_bitmap` the MSR bitmap and its merge, `abi` the commands'
//! arguments (all pure, host-tested); `apic` the pages a running L2 uses
//! in place, held or cached; `vcpu` executes the instructions and L0's
//! operations on guest memory.

pub(crate) mod abi;
pub(crate) mod apic;
// The whole of SDM appendix A, every field and bit name: VMXON and the
// entry checks read part of it, the host tests all of it.
#[allow(dead_code)]
pub(crate) mod capabilities;
pub(crate) mod checks;
// Part of the field map is for VMREAD only, and the host tests use the
// rest.
#[allow(dead_code)]
pub(crate) mod evmcs;
pub(crate) mod insn;
pub(crate) mod msr_bitmap;
pub(crate) mod vcpu;
pub(crate) mod vmcs12;
