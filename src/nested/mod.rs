// SPDX-License-Identifier: GPL-2.0

//! Nested virtualization on the mapping API: what a hypervisor does with
//! the structures its guest hypervisor (L1) keeps in guest memory for
//! its own guest (L2).  `cpu` is the guest CPU model the checks of both
//! SVM and VMX need, `mem` their copies to and from guest memory, and
//! `vcpus` a context's vCPUs of either kind; `svm/` is nested SVM and
//! `vmx/` nested VMX, each split by structure as upstream splits vmx.c;
//! `walk/` walks guest page tables of the formats their guests use
//! (x86-64 paging, NPT and EPT).

pub(crate) mod cpu;
pub(crate) mod mem;
pub(crate) mod svm;
pub(crate) mod vcpus;
pub(crate) mod vmx;
pub(crate) mod walk;
