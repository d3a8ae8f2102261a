// SPDX-License-Identifier: GPL-2.0

//! `c/guestmap.h`, as bindgen renders it.
//!
//! `c_generated.rs` is written by the build (`Kbuild` for the module,
//! `rust/host/build.rs` for the constants the host tests use) and never
//! edited or committed.

#![allow(
    dead_code,
    improper_ctypes,
    non_camel_case_types,
    non_upper_case_globals,
    unreachable_pub,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]

use kernel::bindings::mmu_interval_notifier;

include!("c_generated.rs");
