// SPDX-License-Identifier: GPL-2.0

//! The C shims of `rust/helpers/`, as bindgen renders
//! `rust/helpers/helpers.h`.
//!
//! `helpers_generated.rs` is written by the build (`Kbuild`) and never
//! edited or committed.  Structures the kernel crate's bindings already
//! define are taken from there, so a shim's `struct mm_struct *` is the
//! same Rust type the rest of the kernel crate uses.

#![allow(
    dead_code,
    improper_ctypes,
    non_camel_case_types,
    non_upper_case_globals,
    unreachable_pub,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]

use kernel::bindings::{
    file, lock_class_key, mm_struct, mmu_interval_notifier, mmu_notifier_range, mutex, rw_semaphore,
};

include!("helpers_generated.rs");
