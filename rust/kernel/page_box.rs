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

use super::bindings::{gm_account_pgtable_page, gm_free_page, gm_get_zeroed_page_account};
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
/// `/proc/meminfo` shows as `SecPageTables`) while a [`PageSlot`] links it
/// into a table, as KVM counts its TDP pages while they are linked
/// (`tdp_account_mmu_page()`): spares and roots are not counted.
///
/// # Invariants
///
/// `ptr` points to a page from `gm_get_zeroed_page_account()` that holds a
/// valid `T` and is owned by this value.
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
        let page = unsafe { gm_get_zeroed_page_account() };
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
            gm_free_page(self.ptr.as_ptr().cast());
        }
    }
}

// SAFETY: a `PageBox<T>` owns its `T` as a `KBox<T>` would: it may move to
// another thread if `T` may, and the page may be freed from any thread.
unsafe impl<T: Zeroable + Send> Send for PageBox<T> {}
// SAFETY: `&PageBox<T>` gives only `&T`.
unsafe impl<T: Zeroable + Sync> Sync for PageBox<T> {}

/// What a [`PageSlot`] holds, owned.
pub(crate) enum Slot<T: Zeroable> {
    /// Nothing.
    Empty,
    /// A table one level down.
    Table(PageBox<T>),
    /// A leaf word, which has bit 0 set (the tag that tells it from a
    /// page's address, which never has).
    Leaf(u64),
}

/// What a [`PageSlot`] holds, borrowed.
pub(crate) enum SlotRef<'a, T> {
    /// Nothing.
    Empty,
    /// A table one level down.
    Table(&'a T),
    /// A leaf word (bit 0 set).
    Leaf(u64),
}

/// What a [`PageSlot`] holds, borrowed for changing the table.
pub(crate) enum SlotMut<'a, T> {
    /// Nothing.
    Empty,
    /// A table one level down.
    Table(&'a mut T),
    /// A leaf word (bit 0 set).
    Leaf(u64),
}

/// One entry of a table of tables: empty, a [`PageBox`] one level down,
/// or a leaf word, as an entry of a page directory is either a pointer to
/// a page table or a huge page.  All-zero bytes make it empty.
///
/// # Invariants
///
/// `raw` is 0 (empty), or has bit 0 set (a leaf word), or is the address
/// of a `T` in a page owned by this slot as a [`PageBox<T>`] owns it
/// (page aligned, so bit 0 clear) and counted in `NR_SECONDARY_PAGETABLE`.
#[repr(transparent)]
pub(crate) struct PageSlot<T: Zeroable> {
    raw: usize,
    _owns: PhantomData<PageBox<T>>,
}

/// Bit 0: set in a leaf word, clear in a page's address.
const LEAF: usize = 1;

// A leaf word is a u64 stored in a `usize`.
const _: () = assert!(core::mem::size_of::<usize>() == core::mem::size_of::<u64>());

// SAFETY: all-zero bytes are the empty slot (type invariants).
unsafe impl<T: Zeroable> Zeroable for PageSlot<T> {}

impl<T: Zeroable> Default for PageSlot<T> {
    fn default() -> Self {
        // INVARIANT: 0 is the empty slot.
        Self {
            raw: 0,
            _owns: PhantomData,
        }
    }
}

impl<T: Zeroable> PageSlot<T> {
    /// What the slot holds.
    pub(crate) fn get(&self) -> SlotRef<'_, T> {
        match self.raw {
            0 => SlotRef::Empty,
            r if r & LEAF != 0 => SlotRef::Leaf(r as u64),
            // SAFETY: `raw` is the address of a valid `T` the slot owns
            // (type invariants); the borrow is tied to `self`.
            r => SlotRef::Table(unsafe { &*(r as *const T) }),
        }
    }

    /// What the slot holds, the table mutably.
    pub(crate) fn get_mut(&mut self) -> SlotMut<'_, T> {
        match self.raw {
            0 => SlotMut::Empty,
            r if r & LEAF != 0 => SlotMut::Leaf(r as u64),
            // SAFETY: as in `get`, and `&mut self` makes the borrow unique.
            r => SlotMut::Table(unsafe { &mut *(r as *mut T) }),
        }
    }

    /// Puts `new` in the slot and hands back what it held.  A leaf word
    /// is stored with bit 0 set, whatever it was (a word without it is a
    /// caller's bug).  A table is counted as a secondary page table while
    /// the slot holds it.
    pub(crate) fn replace(&mut self, new: Slot<T>) -> Slot<T> {
        let raw = match new {
            Slot::Empty => 0,
            Slot::Leaf(v) => {
                debug_assert!(v as usize & LEAF != 0, "a leaf word without its tag");
                v as usize | LEAF
            }
            Slot::Table(b) => {
                // SAFETY: the page is one of the page allocator's, owned by
                // `b`; linked now, it is counted until unlinked below.
                unsafe { gm_account_pgtable_page(b.ptr.as_ptr().cast(), 1) };
                let r = b.ptr.as_ptr() as usize;
                // The slot owns the page now.
                core::mem::forget(b);
                r
            }
        };
        // INVARIANT: `raw` is empty, tagged, or a page now owned here.
        let old = core::mem::replace(&mut self.raw, raw);
        match old {
            0 => Slot::Empty,
            r if r & LEAF != 0 => Slot::Leaf(r as u64),
            r => {
                // SAFETY: a non-zero untagged `raw` is the address of a
                // page the slot owns (type invariants), counted since it
                // was linked; unlinked now.
                unsafe { gm_account_pgtable_page(r as *mut core::ffi::c_void, -1) };
                Slot::Table(PageBox {
                    // SAFETY: the page holds a `T` owned by the slot (type
                    // invariants), whose ownership moves to the returned
                    // box: the slot no longer names it.
                    ptr: unsafe { NonNull::new_unchecked(r as *mut T) },
                    _owns: PhantomData,
                })
            }
        }
    }

    /// Empties the slot, handing back what it held.
    pub(crate) fn take(&mut self) -> Slot<T> {
        self.replace(Slot::Empty)
    }
}

impl<T: Zeroable> Drop for PageSlot<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

// SAFETY: a slot owns its table as a `PageBox<T>` does.
unsafe impl<T: Zeroable + Send> Send for PageSlot<T> {}
// SAFETY: `&PageSlot<T>` gives only `&T`.
unsafe impl<T: Zeroable + Sync> Sync for PageSlot<T> {}
