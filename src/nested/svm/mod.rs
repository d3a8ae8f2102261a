// SPDX-License-Identifier: GPL-2.0

//! Nested SVM: `vmcb` is VMCB12's layout and the copy VMRUN judges,
//! `checks` the VMRUN checks, `permmap` the MSR and I/O permission maps,
//! `abi` the commands' arguments (all pure, host-tested); `vcpu` does
//! VMRUN, the intercept queries and #VMEXIT on guest memory.

pub(crate) mod abi;
pub(crate) mod checks;
pub(crate) mod permmap;
pub(crate) mod vcpu;
pub(crate) mod vmcb;
