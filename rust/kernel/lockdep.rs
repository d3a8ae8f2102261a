// SPDX-License-Identifier: GPL-2.0

//! Lock classes, for the locks of [`super::mutex`] and [`super::rwsem`].
//!
//! C header: [`include/linux/lockdep_types.h`](srctree/include/linux/lockdep_types.h)
//!
//! Lockdep checks lock order per class.  C gives each `mutex_init()` call
//! site a class of its own, through a static key in the macro; the Rust
//! locks here take one from their caller, so that two locks of one object
//! (a context's slot table and its remaps) are told apart and their order
//! is checked.  6.12's `kernel::sync::LockClassKey` cannot be passed to C
//! from outside the kernel crate, hence this type.

use kernel::{bindings, types::Opaque};

/// A lockdep class: a `struct lock_class_key`, for a `static`.
///
/// Lockdep takes a key by address and accepts only one in static storage
/// (`static_obj()`: a module's statics qualify, and lockdep forgets their
/// classes when the module goes).  Nothing in the type makes a value live
/// in a `static`: one elsewhere is not undefined behaviour, but makes
/// lockdep warn and turn itself off, so make them only as
/// `static C: LockClass = LockClass::new();`.
pub(crate) struct LockClass(Opaque<bindings::lock_class_key>);

// SAFETY: lockdep uses the key by address only, from any thread.
unsafe impl Sync for LockClass {}

impl LockClass {
    /// A class, to initialise a `static` with.  Lockdep reads nothing of
    /// it but its address, so it needs no initialised contents.
    #[allow(clippy::new_without_default)]
    pub(crate) const fn new() -> LockClass {
        LockClass(Opaque::uninit())
    }

    /// The key, for C's lock initialisers.
    pub(crate) fn as_ptr(&'static self) -> *mut bindings::lock_class_key {
        self.0.get()
    }
}
