// SPDX-License-Identifier: GPL-2.0

//! Nested virtualization on the mapping API: what a hypervisor does with
//! the structures its guest hypervisor (L1) keeps in guest memory for
//! its own guest (L2).  `cpu` is the guest CPU model the checks of both
//! SVM and VMX need; `svm/` is nested SVM, split by structure as
//! upstream splits vmx.c.

pub(crate) mod cpu;
pub(crate) mod svm;
pub(crate) mod vcpus;
