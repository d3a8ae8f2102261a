// SPDX-License-Identifier: GPL-2.0

//! guestmap: map a process's memory the way a hypervisor maps guest memory.
//!
//! Each `open()` of `/dev/guestmap` creates a [`context::Context`] bound to
//! the opener's address space, as a KVM VM fd is.  The ioctl ABI is
//! `include/uapi/linux/guestmap.h`; see `Documentation/design.rst`.
//!
//! `src/` holds the module's logic in safe Rust; `unsafe` blocks live in
//! the abstraction layer under `rust/`, mounted here as [`ext`] and
//! [`uapi`], but for the frame accesses of the mirror (its entries and the
//! pfn caches' views) and of a bare pfn's mapping, whose safety is the
//! mirror's own locking protocol: those two modules deny `unsafe_code` and
//! allow it block by block, every other one forbids it.

use kernel::{c_str, prelude::*};

#[path = "../rust/kernel/mod.rs"]
mod ext;
#[path = "../rust/uapi/mod.rs"]
mod uapi;

#[forbid(unsafe_code)]
mod abi;
#[forbid(unsafe_code)]
mod context;
// As the mirror: a bare pfn's frame is used under the mirror lock, and
// the argument lives with GuestPage.
#[deny(unsafe_code)]
mod guest;
#[forbid(unsafe_code)]
mod memslot;
// Reading a frame through the mirror is safe because of the mirror's own
// coherence protocol, so the argument lives with the mirror (see
// State::access).
#[deny(unsafe_code)]
mod mirror;
#[forbid(unsafe_code)]
mod pfncache;
#[forbid(unsafe_code)]
mod policy;
#[forbid(unsafe_code)]
mod pte;
#[forbid(unsafe_code)]
mod refcount;
#[forbid(unsafe_code)]
mod remaps;
#[forbid(unsafe_code)]
mod slots;
#[forbid(unsafe_code)]
mod vm;

use ext::miscdevice::Registration;

module! {
    type: GuestMap,
    name: "guestmap",
    author: "The guestmap developers",
    description: "Guest-memory mapping with contextual MMU-notifier users",
    license: "GPL",
}

struct GuestMap {
    // Fields drop in order: the device goes before the debugfs directory
    // its contexts' files live in.
    _dev: Registration<context::Context>,
    _debugfs: ext::debugfs::Root,
}

impl kernel::Module for GuestMap {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let debugfs = ext::debugfs::Root::new();
        let dev = Registration::register(c_str!("guestmap"), module)?;
        pr_info!("/dev/guestmap ready, API version {}\n", abi::API_VERSION);
        Ok(Self {
            _dev: dev,
            _debugfs: debugfs,
        })
    }
}
