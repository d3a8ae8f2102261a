// SPDX-License-Identifier: GPL-2.0

//! Nested VMX, split by structure as upstream splits vmx.c:
//! `capabilities` the VMX capability MSRs of the CPU model, `vmcs12`
//! KVM's vmcs12 layout and field rules, `insn` the VMX instructions'
//! outcomes and operand rules, `msr_bitmap` the MSR bitmap and its
//! merge, `abi` the commands' arguments (all pure, host-tested); `vcpu`
//! executes the instructions on guest memory.

// Until VM entry and the MSR bitmap merge use the rest of these.
#[allow(dead_code)]
pub(crate) mod abi;
#[allow(dead_code)]
pub(crate) mod capabilities;
#[allow(dead_code)]
pub(crate) mod insn;
#[allow(dead_code)]
pub(crate) mod msr_bitmap;
pub(crate) mod vcpu;
#[allow(dead_code)]
pub(crate) mod vmcs12;
