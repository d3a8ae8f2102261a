// SPDX-License-Identifier: GPL-2.0

//! What guestmap needs from the kernel that 6.12's `kernel` crate lacks.
//!
//! This is a generic abstraction layer: nothing here knows guestmap, and
//! nothing here names a module of the driver, so each file
//! could move to upstream's `rust/kernel/` as it is.  Each wrapper states
//! its safety argument once and offers a safe API.  The shapes follow the
//! later upstream abstractions (`kernel::miscdevice`, `kernel::mm`) so
//! that moving to them is a rename, not a rewrite.
//!
//! The C shims these wrappers call live in `rust/helpers/`; their Rust
//! declarations are generated from `rust/helpers/helpers.h` ([`bindings`]).

pub(crate) mod bindings;
pub(crate) mod debugfs;
pub(crate) mod file;
pub(crate) mod lockdep;
pub(crate) mod miscdevice;
pub(crate) mod mm;
pub(crate) mod mmu_notifier;
pub(crate) mod mutex;
pub(crate) mod page_box;
pub(crate) mod rwsem;
pub(crate) mod task;
