// SPDX-License-Identifier: GPL-2.0

//! `src/nested/` without its kernel parts: the CPU model and nested
//! SVM's VMCB layout, checks, permission maps and arguments, and nested
//! VMX's vmcs12 layout and instruction rules, and the guest page-table
//! walker.

#[allow(dead_code)]
#[path = "../../src/nested/cpu.rs"]
pub(crate) mod cpu;

#[path = "nested_svm_host.rs"]
pub(crate) mod svm;

#[path = "nested_vmx_host.rs"]
pub(crate) mod vmx;

#[path = "nested_walk_host.rs"]
pub(crate) mod walk;
