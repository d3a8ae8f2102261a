// SPDX-License-Identifier: GPL-2.0

//! `src/nested/svm/` but `vcpu.rs`, which works on guest memory.

#[allow(dead_code)]
#[path = "../../src/nested/svm/abi.rs"]
pub(crate) mod abi;
#[allow(dead_code)]
#[path = "../../src/nested/svm/checks.rs"]
pub(crate) mod checks;
#[allow(dead_code)]
#[path = "../../src/nested/svm/permmap.rs"]
pub(crate) mod permmap;
#[allow(dead_code)]
#[path = "../../src/nested/svm/vmcb.rs"]
pub(crate) mod vmcb;
