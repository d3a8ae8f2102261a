// SPDX-License-Identifier: GPL-2.0

//! A context's memslot table: the slots by id, created and deleted by
//! `GUESTMAP_SET_MEMSLOT`.
//!
//! The table lives under the context's slot-table semaphore.  Faults and
//! accesses hold it shared for their whole run (they run in parallel, and
//! may sleep: a walk waits for the mmap lock, a page fault, user space);
//! `GUESTMAP_SET_MEMSLOT` holds it exclusively, so a slot is deleted only
//! once no fault or access of it is left, and one call never sees two
//! memslot layouts.  This is what KVM gets from `synchronize_srcu()` in
//! `kvm_swap_active_memslots()`: once a deletion returns, nothing reaches
//! the slot's memory through the context.
//!
//! Locks: the caller holds the semaphore exclusively; creating or deleting
//! a slot takes the mmap lock (inserting or removing its notifier) and the
//! mirror lock, each on its own, never one inside the other
//! (`src/mirror.rs` has the whole order).

use crate::{
    ext::mm::Mm,
    memslot::{Memslot, SlotWatch},
    mirror::Mirror,
    policy::Action,
    pte::{GfnRange, PAGE_SHIFT},
    slots::{self, Change, SlotDesc, SlotError, MAX_SLOTS},
    sys::trace,
    uapi,
};
use kernel::{prelude::*, sync::Arc};

/// Why `GUESTMAP_SET_MEMSLOT` failed.
pub(crate) enum SetError {
    /// A memslot rule was broken.
    Rule(SlotError),
    /// The kernel could not make the slot.
    Kernel(Error),
}

impl From<Error> for SetError {
    fn from(e: Error) -> Self {
        SetError::Kernel(e)
    }
}

/// The memslots of a context.
pub(crate) struct SlotTable {
    slots: [Option<Pin<KBox<Memslot>>>; MAX_SLOTS as usize],
}

impl SlotTable {
    /// A table with no slot.
    pub(crate) fn new() -> SlotTable {
        SlotTable {
            slots: [const { None }; MAX_SLOTS as usize],
        }
    }

    fn descs(&self) -> impl Iterator<Item = &SlotDesc> + Clone {
        self.slots.iter().flatten().map(|s| s.data().desc())
    }

    /// `GUESTMAP_SET_MEMSLOT` of `req` in `mm`, for `mirror`; user space
    /// ends at `user_limit`.  Returns whether a slot was deleted.
    pub(crate) fn set(
        &mut self,
        mm: &Mm,
        mirror: &Arc<Mirror>,
        req: &uapi::guestmap_memslot,
        user_limit: u64,
    ) -> Result<bool, SetError> {
        match slots::check(req, self.descs(), user_limit).map_err(SetError::Rule)? {
            Change::Create(desc) => {
                // The ioctl runs in `mm` (the context checked), so it has
                // users; an exiting one would have none.
                let user = mm.mmget_not_zero().ok_or(ESRCH)?;
                let watch = SlotWatch::new(desc, mirror.clone());
                let len = desc.map.npages << PAGE_SHIFT;
                let slot =
                    KBox::pin_init(Memslot::new(&user, desc.map.hva, len, watch), GFP_KERNEL)?;
                mirror.lock().add_slot(mirror);
                self.slots[desc.id as usize] = Some(slot);
                Ok(false)
            }
            Change::Delete(id) => {
                self.delete(mirror, id as usize);
                Ok(true)
            }
        }
    }

    /// Deletes slot `id`, if it exists, with its entries and cache views.
    fn delete(&mut self, mirror: &Mirror, id: usize) {
        let Some(slot) = self.slots.get_mut(id).and_then(Option::take) else {
            return;
        };
        // Zap while the notifier still watches, and no fault or access of
        // the slot runs (the caller holds the table exclusively); then
        // remove the notifier.
        let gfns = slot.data().desc().gfns();
        let mut state = mirror.lock();
        state.remove_slot(mirror, gfns);
        let acted = mirror.apply(state, Action::ZapAndFree, gfns, true);
        trace::slot_delete(mirror, gfns.start, gfns.end - gfns.start, &acted);
        drop(slot);
        mirror.trim_caches();
    }

    /// The memslot holding all of `gfns`; `ENOENT` if there is none.
    pub(crate) fn find(&self, gfns: GfnRange) -> Result<&Memslot> {
        self.slots
            .iter()
            .flatten()
            .map(|s| &**s)
            .find(|s| s.data().desc().map.contains(gfns))
            .ok_or(ENOENT)
    }

    /// Deletes every memslot, zapping its entries and cache views first.
    pub(crate) fn clear(&mut self, mirror: &Mirror) {
        for id in 0..self.slots.len() {
            self.delete(mirror, id);
        }
    }
}
