// SPDX-License-Identifier: GPL-2.0

//! The mirror table's allocator seam for the host: `src/mirror/table.rs`
//! allocates through `super::alloc`, which the kernel fills with page-sized
//! `PageBox`es from the page allocator and the host with `Box`es that
//! count themselves, so the tests can see tables freed and none leaked.

extern crate alloc;

use alloc::boxed::Box;
use core::ops::{Deref, DerefMut};

// Tables allocated and not yet freed by this thread (each test runs in a
// thread of its own).
#[cfg(test)]
std::thread_local! {
    pub(crate) static LIVE: core::cell::Cell<i64> = const { core::cell::Cell::new(0) };
}

fn live(_delta: i64) {
    #[cfg(test)]
    LIVE.with(|l| l.set(l.get() + _delta));
}

/// The host's `kernel::init::Zeroable`: all-zero bytes are a valid value.
///
/// # Safety
///
/// Implement only for types for which all-zero bytes are a valid value.
pub(crate) unsafe trait Zeroable {}

/// The kernel's allocation failure; the host never fails.
#[derive(Debug)]
pub(crate) struct AllocError;

/// A zeroed `T` on the heap, standing in for a page of its own.
#[repr(transparent)]
pub(crate) struct PageBox<T>(Box<T>);

impl<T: Zeroable> PageBox<T> {
    /// A zeroed `T`.
    pub(crate) fn new_zeroed() -> Result<Self, AllocError> {
        live(1);
        // SAFETY: all-zero bytes are a valid `T` (`Zeroable`).
        Ok(PageBox(unsafe { Box::<T>::new_zeroed().assume_init() }))
    }
}

impl<T> Drop for PageBox<T> {
    fn drop(&mut self) {
        live(-1);
    }
}

impl<T> Deref for PageBox<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for PageBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// An optional [`PageBox`], empty when all-zero.
#[repr(transparent)]
#[derive(Default)]
pub(crate) struct PageSlot<T>(Option<PageBox<T>>);

// SAFETY: `PageBox` is a transparent `Box`, so `Option<PageBox<T>>` uses
// the null pointer for `None`.
unsafe impl<T> Zeroable for PageSlot<T> {}

impl<T> Deref for PageSlot<T> {
    type Target = Option<PageBox<T>>;

    fn deref(&self) -> &Option<PageBox<T>> {
        &self.0
    }
}

impl<T> DerefMut for PageSlot<T> {
    fn deref_mut(&mut self) -> &mut Option<PageBox<T>> {
        &mut self.0
    }
}

// SAFETY: a leaf is 512 u64s, which zero makes empty entries.
unsafe impl Zeroable for super::table::Leaf {}
// SAFETY: a directory is 512 `PageSlot`s, which zero makes empty.
unsafe impl<T: Zeroable> Zeroable for super::table::Dir<T> {}
