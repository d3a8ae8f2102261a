// SPDX-License-Identifier: GPL-2.0

//! The driver's C part (`c/`), wrapped for the rest of `src/`.
//!
//! `c/` does what Rust cannot do in 6.12, or should not: the walk of the
//! CPU page tables under the mmap lock, kernel mappings of page frames,
//! the facts about a pfn, the exported `kvm_is_refcounted_pfn()` family
//! and the tracepoints.  Its interface is `c/guestmap.h`, rendered by
//! bindgen into [`bindings`]; the wrappers here own the `unsafe` of
//! calling it and state each safety argument, so that the driver's logic
//! above is safe Rust.  Unlike `rust/kernel/`, this knows the driver.

pub(crate) mod bindings;
pub(crate) mod cpu;
pub(crate) mod export;
pub(crate) mod frame;
pub(crate) mod map;
pub(crate) mod pfn;
pub(crate) mod trace;
pub(crate) mod walk;
