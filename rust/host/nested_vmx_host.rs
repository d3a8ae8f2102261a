// SPDX-License-Identifier: GPL-2.0

//! `src/nested/vmx/` without the parts that work on guest memory.

#[allow(dead_code)]
#[path = "../../src/nested/vmx/abi.rs"]
pub(crate) mod abi;
#[allow(dead_code)]
#[path = "../../src/nested/vmx/capabilities.rs"]
pub(crate) mod capabilities;
#[allow(dead_code)]
#[path = "../../src/nested/vmx/checks.rs"]
pub(crate) mod checks;
#[allow(dead_code)]
#[path = "../../src/nested/vmx/evmcs.rs"]
pub(crate) mod evmcs;
#[allow(dead_code)]
#[path = "../../src/nested/vmx/insn.rs"]
pub(crate) mod insn;
#[allow(dead_code)]
#[path = "../../src/nested/vmx/msr_bitmap.rs"]
pub(crate) mod msr_bitmap;
#[allow(dead_code)]
#[path = "../../src/nested/vmx/vmcs12.rs"]
pub(crate) mod vmcs12;
