// SPDX-License-Identifier: GPL-2.0

//! A memslot: guest frames backed by a range of the address space, and
//! the MMU notifier that keeps the mirror's entries for them coherent.

use crate::{
    ext::mmu_notifier::{IntervalNotifier, IntervalOps, Invalidation},
    mirror::Mirror,
    policy::{self, Action, Event, RangeFacts},
    slots::SlotDesc,
    sys::trace::{self, Acted},
    uapi,
};
use core::ffi::c_void;
use kernel::{bindings, sync::Arc};

// `enum mmu_notifier_event` is passed through as `guestmap_stats` indexes
// it; the UAPI promises the kernel's numbering, checked here.
const _: () = {
    use bindings as b;
    use uapi as u;
    assert!(b::mmu_notifier_event_MMU_NOTIFY_UNMAP == u::GUESTMAP_EVENT_UNMAP);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_CLEAR == u::GUESTMAP_EVENT_CLEAR);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_PROTECTION_VMA == u::GUESTMAP_EVENT_PROTECTION_VMA);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_PROTECTION_PAGE == u::GUESTMAP_EVENT_PROTECTION_PAGE);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_SOFT_DIRTY == u::GUESTMAP_EVENT_SOFT_DIRTY);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_RELEASE == u::GUESTMAP_EVENT_RELEASE);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_MIGRATE == u::GUESTMAP_EVENT_MIGRATE);
    assert!(b::mmu_notifier_event_MMU_NOTIFY_EXCLUSIVE == u::GUESTMAP_EVENT_EXCLUSIVE);
};

/// A memslot: its notifier, which owns the slot's description.
pub(crate) type Memslot = IntervalNotifier<SlotWatch>;

/// What a memslot's notifier knows: where the slot maps, and the mirror
/// to keep coherent.
pub(crate) struct SlotWatch {
    desc: SlotDesc,
    mirror: Arc<Mirror>,
}

impl SlotWatch {
    /// The watch for slot `desc` of `mirror`.
    pub(crate) fn new(desc: SlotDesc, mirror: Arc<Mirror>) -> SlotWatch {
        SlotWatch { desc, mirror }
    }

    /// The slot's description.
    pub(crate) fn desc(&self) -> &SlotDesc {
        &self.desc
    }

    /// The mirror the slot's notifier keeps coherent: the lock its
    /// invalidations publish their sequence under.
    pub(crate) fn mirror(&self) -> &Mirror {
        &self.mirror
    }
}

/// The policy's questions, answered from the invalidation.
struct Facts<'a> {
    event: Event,
    inv: &'a Invalidation<'a>,
    owner: *const c_void,
}

impl RangeFacts for Facts<'_> {
    fn owner_is_us(&self) -> bool {
        // Both sides know which events carry an owner; they must agree.
        self.event.has_owner() && self.inv.owner_is(self.owner) == Some(true)
    }

    fn still_readable(&self) -> bool {
        self.inv.still_readable()
    }
}

impl IntervalOps for SlotWatch {
    fn invalidate(&self, inv: &Invalidation<'_>) -> bool {
        let event = Event::from_raw(inv.event());
        trace::invalidate_start(
            &*self.mirror,
            inv.event(),
            inv.start(),
            inv.end(),
            inv.is_blockable(),
        );
        // Decided before taking the lock: the facts may look at the vma.
        let action = match event {
            Some(e) => policy::action(
                e,
                &Facts {
                    event: e,
                    inv,
                    owner: self.mirror.owner(),
                },
            ),
            None => policy::UNKNOWN_EVENT_ACTION,
        };
        let gfns = self.desc.map.hva_to_gfns(inv.start(), inv.end());

        // The mirror lock is a spinlock, so even a non-blockable
        // invalidation (the OOM reaper's) takes it and never fails.
        let mut state = self.mirror.lock();
        inv.set_seq();
        state
            .stats_mut()
            .count_invalidation(event, inv.is_blockable());
        // A huge entry is acted on whole (`src/mirror/table.rs`), and so
        // are the caches of every page under it.
        let (start, end) = match gfns {
            Some(g) => {
                let cover = state.huge_cover(g);
                (
                    inv.start().min(self.desc.map.gfn_to_hva(cover.start)),
                    inv.end().max(self.desc.map.gfn_to_hva(cover.end)),
                )
            }
            None => (inv.start(), inv.end()),
        };
        state.invalidate_caches(&self.mirror, start, end);
        // The views' kernel mappings go now if this may sleep: a mapping
        // of a page nobody may reach through it should not outlive the
        // page's owner, who may free it next.  The OOM reaper's leave them
        // to the next ioctl or the close, which the dying owner of the
        // address space is about to do.
        let stale = inv.is_blockable().then(|| {
            let gen = state.slots_gen();
            state.views_mut().take_stale(gen)
        });
        let acted = match (action, gfns) {
            (Action::Release, _) => {
                self.mirror
                    .apply(state, Action::Release, self.desc.gfns(), inv.is_blockable())
            }
            (action, Some(gfns)) => self.mirror.apply(state, action, gfns, inv.is_blockable()),
            (_, None) => {
                drop(state);
                Acted::NONE
            }
        };

        // After the lock is released (`apply` releases it): unmapping sleeps.
        drop(stale);
        trace::invalidate(
            &*self.mirror,
            inv.event(),
            inv.start(),
            inv.end(),
            action,
            &acted,
        );
        true
    }
}
