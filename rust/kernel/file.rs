// SPDX-License-Identifier: GPL-2.0

//! Open files (`struct file`), as far as a file operation needs to know
//! one.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)
//!
//! Shaped like upstream's later `kernel::fs::File`, minus what guestmap
//! does not use.

use super::bindings::gm_file_opener_sys_admin;
use kernel::{bindings, types::Opaque};

/// An open file, borrowed for the duration of a file operation.
///
/// # Invariants
///
/// The `struct file` inside is live for as long as the borrow.
#[repr(transparent)]
pub(crate) struct File(Opaque<bindings::file>);

impl File {
    /// The file `ptr` points to, for the duration of `'a`.
    ///
    /// # Safety
    ///
    /// `ptr` is a live `struct file` for all of `'a`: the VFS passed it to
    /// the file operation that calls this, which `'a` does not outlive.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::file) -> &'a File {
        // INVARIANT: the file is live for `'a`, the caller's contract, and
        // the borrow lasts `'a`.
        // SAFETY: `File` is a transparent wrapper of the C struct, live for
        // `'a` (the caller's contract).
        unsafe { &*ptr.cast::<File>() }
    }

    /// Whether the task that opened the file had `CAP_SYS_ADMIN` in the
    /// initial user namespace (`file_ns_capable()`, as
    /// `/proc/pid/pagemap` decides whether to show pfns).  Decided by the
    /// opener's credentials, kept in the file, so it neither audits the
    /// calling task nor marks it as having used a privilege, and passing
    /// the file to a less privileged process does not pass the privilege
    /// on to what it opens itself.
    pub(crate) fn opener_has_sys_admin(&self) -> bool {
        // SAFETY: the file is live for the borrow (type invariants).
        unsafe { gm_file_opener_sys_admin(self.0.get()) }
    }
}
