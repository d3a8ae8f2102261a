// SPDX-License-Identifier: GPL-2.0

//! guestmap: map a process's memory the way a hypervisor maps guest memory.
//!
//! Each `open()` of `/dev/guestmap` creates a [`context::Context`] bound to
//! the opener's address space, as a KVM VM fd is.  The ioctl ABI is
//! `include/uapi/linux/guestmap.h`; `Documentation/design.rst` has the
//! architecture.
//!
//! Where `unsafe` lives: in the generic abstractions of `rust/kernel/`
//! (mounted as [`ext`]), in [`sys`], the wrappers of the driver's own C
//! part (`c/`), and in one file of the driver's logic,
//! `src/mirror/frame.rs`, which lends page frames under the mirror lock
//! because the MMU-notifier protocol is what keeps them valid.  Every other
//! module forbids it.

use kernel::{c_str, prelude::*};

// The generic layer: it names nothing of the driver.
#[path = "../rust/kernel/mod.rs"]
mod ext;
#[path = "../rust/uapi/mod.rs"]
mod uapi;

// The driver's C part, wrapped.
mod sys;

#[forbid(unsafe_code)]
mod abi;
#[forbid(unsafe_code)]
mod access;
#[cfg(gm_test_ops)]
#[forbid(unsafe_code)]
mod bench;
#[forbid(unsafe_code)]
mod classify;
#[forbid(unsafe_code)]
mod context;
#[forbid(unsafe_code)]
mod fault;
#[forbid(unsafe_code)]
mod guest;
#[forbid(unsafe_code)]
mod memslot;
// `mirror::frame` alone allows it (see above).
#[deny(unsafe_code)]
mod mirror;
#[forbid(unsafe_code)]
mod nested;
#[forbid(unsafe_code)]
mod pfncache;
#[forbid(unsafe_code)]
mod policy;
#[forbid(unsafe_code)]
mod pte;
#[forbid(unsafe_code)]
mod query;
#[forbid(unsafe_code)]
mod refcount;
#[forbid(unsafe_code)]
mod remaps;
#[forbid(unsafe_code)]
mod reserve;
#[forbid(unsafe_code)]
mod slot_table;
#[forbid(unsafe_code)]
mod slots;

use ext::miscdevice::{Minor, MiscDeviceOptions, Registration};

module! {
    type: GuestMap,
    name: "guestmap",
    author: "The guestmap developers",
    description: "Guest-memory mapping with contextual MMU-notifier users",
    license: "GPL",
}

/// `/dev/guestmap`, with the minor its node and `c/devnode.c`'s aliases
/// name, so that opening the node loads the module (`c/guestmap.h` says
/// why this minor).
const DEVICE: MiscDeviceOptions = MiscDeviceOptions {
    name: c_str!("guestmap"),
    minor: Minor::Fixed(MINOR),
};

// A minor is below 256 (and below 255 for a fixed one, which the
// registration checks), so the cast below keeps every bit.
const _: () = assert!(sys::bindings::GM_MISC_MINOR <= u8::MAX as u32);
const MINOR: u8 = sys::bindings::GM_MISC_MINOR as u8;

struct GuestMap {
    // Fields drop in order: the device goes before the debugfs directory
    // its contexts' files live in.
    _dev: Registration<context::Context>,
    _debugfs: ext::debugfs::Root,
}

impl kernel::Module for GuestMap {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let debugfs = ext::debugfs::Root::new();
        let dev = Registration::register(DEVICE, module).inspect_err(|err| {
            if *err == EBUSY {
                pr_err!("misc minor {MINOR} is held by another driver (see /proc/misc)\n");
            }
        })?;
        pr_info!("/dev/guestmap ready, API version {}\n", abi::API_VERSION);
        Ok(Self {
            _dev: dev,
            _debugfs: debugfs,
        })
    }
}
