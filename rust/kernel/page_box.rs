// SPDX-License-Identifier: GPL-2.0

//! A value that fills one page, in a page of its own from the page
//! allocator: the way the kernel allocates page-table pages, and for the
//! same use, the tables of a secondary MMU.
//!
//! C header: [`include/linux/gfp.h`](srctree/include/linux/gfp.h)
//!
//! `KBox` of a 4 KiB value comes from the `kmalloc-4k` slab, whose slabs
//! are order-3 pages: freeing many of them (a whole mirror torn down) makes
//! the page allocator drain its per-CPU lists in large batches with the
//! zone lock held and interrupts off, and kmemleak tracks each one.  A
//! secondary MMU's tables are better as single pages, as KVM's shadow
//! pages are (`__get_free_page(GFP_KERNEL_ACCOUNT)`).

use super::bindings::{gm_alloc_pgtable_page, gm_free_pgtable_page};
use core::{
    marker::PhantomData,
    ops::{Deref, DerefMut},
    ptr::NonNull,
};
use kernel::{init::Zeroable, page::PAGE_SIZE, prelude::*};

/// A `T` alone in one page, zero-initialised: a page of a secondary MMU's
/// page table.
///
/// The page is charged to the memory cgroup of the task that allocates it
/// (`GFP_KERNEL_ACCOUNT`), as a process pays for its own page tables, and
/// counted as a secondary page table (`NR_SECONDARY_PAGETABLE`, which
/// `/proc/meminfo` shows as `SecPageTables`) for as long as it lives, as
/// KVM counts its own.
///
/// # Invariants
///
/// `ptr` points to a page from `gm_alloc_pgtable_page()` that holds a
/// valid `T` and is owned by this value.
// Transparent, so that `Option<PageBox<T>>` is guaranteed a null pointer
// for `None` (what `PageSlot`'s `Zeroable` relies on).
#[repr(transparent)]
pub(crate) struct PageBox<T: Zeroable> {
    ptr: NonNull<T>,
    _owns: PhantomData<T>,
}

impl<T: Zeroable> PageBox<T> {
    const FITS: () =
        assert!(core::mem::size_of::<T>() == PAGE_SIZE && core::mem::align_of::<T>() <= PAGE_SIZE);

    /// A zeroed `T` in a new page; sleeps.
    pub(crate) fn new_zeroed() -> Result<Self> {
        #[allow(clippy::let_unit_value)]
        let () = Self::FITS;
        // SAFETY: allocating a page has no precondition.
        let page = unsafe { gm_alloc_pgtable_page() };
        let ptr = NonNull::new(page.cast::<T>()).ok_or(ENOMEM)?;
        // INVARIANT: the page is new, page-aligned and exactly the size of
        // `T`, and all-zero bytes are a valid `T` (`Zeroable`).
        Ok(Self {
            ptr,
            _owns: PhantomData,
        })
    }
}

impl<T: Zeroable> Deref for PageBox<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `ptr` points to a valid `T` this value owns (type
        // invariants); the borrow is tied to `self`.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T: Zeroable> DerefMut for PageBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes the borrow unique.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T: Zeroable> Drop for PageBox<T> {
    fn drop(&mut self) {
        // SAFETY: `ptr` holds a valid `T` owned by this value, dropped
        // exactly once here; then the page goes back to the allocator it
        // came from, and nothing uses it again.
        unsafe {
            core::ptr::drop_in_place(self.ptr.as_ptr());
            gm_free_pgtable_page(self.ptr.as_ptr().cast());
        }
    }
}

// SAFETY: a `PageBox<T>` owns its `T` as a `KBox<T>` would: it may move to
// another thread if `T` may, and the page may be freed from any thread.
unsafe impl<T: Zeroable + Send> Send for PageBox<T> {}
// SAFETY: `&PageBox<T>` gives only `&T`.
unsafe impl<T: Zeroable + Sync> Sync for PageBox<T> {}

/// An optional [`PageBox`], which all-zero bytes make empty: what a table
/// of pointers to other tables is an array of.
#[repr(transparent)]
#[derive(Default)]
pub(crate) struct PageSlot<T: Zeroable>(Option<PageBox<T>>);

// SAFETY: `PageBox` is a transparent wrapper of a `NonNull`, so
// `Option<PageBox<T>>` is guaranteed to use the null value for `None`:
// all-zero bytes are an empty slot.
unsafe impl<T: Zeroable> Zeroable for PageSlot<T> {}

impl<T: Zeroable> Deref for PageSlot<T> {
    type Target = Option<PageBox<T>>;

    fn deref(&self) -> &Option<PageBox<T>> {
        &self.0
    }
}

impl<T: Zeroable> DerefMut for PageSlot<T> {
    fn deref_mut(&mut self) -> &mut Option<PageBox<T>> {
        &mut self.0
    }
}
