// SPDX-License-Identifier: GPL-2.0

//! What guestmap needs from the kernel that 6.12's `kernel` crate lacks.
//!
//! This is the only place in guestmap with `unsafe` code: each wrapper
//! states its safety argument once, and `src/` builds on safe APIs.  The
//! shapes follow the later upstream abstractions (`kernel::miscdevice`,
//! `kernel::mm`) so that moving to them is a rename, not a rewrite.
//!
//! The C shims these wrappers call live in `rust/helpers/`, declared in
//! `rust/helpers/helpers.h`.

pub(crate) mod debugfs;
pub(crate) mod export;
pub(crate) mod file;
pub(crate) mod map;
pub(crate) mod miscdevice;
pub(crate) mod mm;
pub(crate) mod mmu_notifier;
pub(crate) mod mutex;
pub(crate) mod page_box;
pub(crate) mod pfn;
pub(crate) mod task;
pub(crate) mod trace;
