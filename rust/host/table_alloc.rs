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

/// What a [`PageSlot`] holds, owned.
pub(crate) enum Slot<T> {
    Empty,
    Table(PageBox<T>),
    Leaf(u64),
}

/// What a [`PageSlot`] holds, borrowed.
pub(crate) enum SlotRef<'a, T> {
    Empty,
    Table(&'a T),
    Leaf(u64),
}

/// What a [`PageSlot`] holds, borrowed mutably.
pub(crate) enum SlotMut<'a, T> {
    Empty,
    Table(&'a mut T),
    Leaf(u64),
}

/// A tagged word as the kernel's: 0 empty, bit 0 set a leaf word, else a
/// `Box` pointer (aligned, so bit 0 clear).
#[repr(transparent)]
pub(crate) struct PageSlot<T> {
    raw: usize,
    _owns: core::marker::PhantomData<PageBox<T>>,
}

// SAFETY: all-zero bytes are the empty slot.
unsafe impl<T> Zeroable for PageSlot<T> {}

impl<T> Default for PageSlot<T> {
    fn default() -> Self {
        Self {
            raw: 0,
            _owns: core::marker::PhantomData,
        }
    }
}

impl<T> PageSlot<T> {
    pub(crate) fn get(&self) -> SlotRef<'_, T> {
        match self.raw {
            0 => SlotRef::Empty,
            r if r & 1 != 0 => SlotRef::Leaf(r as u64),
            // SAFETY: an untagged non-zero word is a `Box<T>` we own.
            r => SlotRef::Table(unsafe { &*(r as *const T) }),
        }
    }

    pub(crate) fn get_mut(&mut self) -> SlotMut<'_, T> {
        match self.raw {
            0 => SlotMut::Empty,
            r if r & 1 != 0 => SlotMut::Leaf(r as u64),
            // SAFETY: as in `get`; `&mut self` makes it unique.
            r => SlotMut::Table(unsafe { &mut *(r as *mut T) }),
        }
    }

    pub(crate) fn replace(&mut self, new: Slot<T>) -> Slot<T> {
        let raw = match new {
            Slot::Empty => 0,
            Slot::Leaf(v) => v as usize | 1,
            Slot::Table(b) => {
                let b = core::mem::ManuallyDrop::new(b);
                // SAFETY: `b` is not dropped: the slot takes its box.
                let inner = unsafe { core::ptr::read(&b.0) };
                Box::into_raw(inner) as usize
            }
        };
        match core::mem::replace(&mut self.raw, raw) {
            0 => Slot::Empty,
            r if r & 1 != 0 => Slot::Leaf(r as u64),
            // SAFETY: the word was a box the slot owned; ownership moves.
            r => Slot::Table(PageBox(unsafe { Box::from_raw(r as *mut T) })),
        }
    }

    pub(crate) fn take(&mut self) -> Slot<T> {
        self.replace(Slot::Empty)
    }
}

impl<T> Drop for PageSlot<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

// SAFETY: a leaf is 512 u64s, which zero makes empty entries.
unsafe impl Zeroable for super::table::Leaf {}
// SAFETY: a directory is 512 `PageSlot`s, which zero makes empty.
unsafe impl<T: Zeroable> Zeroable for super::table::Dir<T> {}
