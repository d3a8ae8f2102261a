// SPDX-License-Identifier: GPL-2.0

//! What the mirror does for each kind of invalidation.
//!
//! An MMU notifier says not only which range changes but why
//! (`enum mmu_notifier_event`).  A mirror that treats every event as
//! "unmapped" (as test_hmm's dmirror does) throws away entries, and table
//! pages, that are still correct or need only a permission change.  This
//! file is that decision, as pure `core` code.

use crate::{
    sys::bindings::{
        gm_action_GM_ACTION_IGNORE as ACTION_IGNORE, gm_action_GM_ACTION_RELEASE as ACTION_RELEASE,
        gm_action_GM_ACTION_WRPROTECT as ACTION_WRPROTECT, gm_action_GM_ACTION_ZAP as ACTION_ZAP,
        gm_action_GM_ACTION_ZAP_FREE as ACTION_ZAP_FREE,
    },
    uapi,
};

/// Why a range is invalidated: `enum mmu_notifier_event`, numbered as the
/// kernel numbers it (and as `GUESTMAP_EVENT_*` index the statistics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Event {
    /// munmap(), or the source of mremap(): the range is gone.
    Unmap = uapi::GUESTMAP_EVENT_UNMAP,
    /// Entries are cleared but the range stays mapped: MADV_DONTNEED,
    /// reclaim, migration, CoW breaking, THP splits.
    Clear = uapi::GUESTMAP_EVENT_CLEAR,
    /// mprotect() of the range.
    ProtectionVma = uapi::GUESTMAP_EVENT_PROTECTION_VMA,
    /// Write-protection of pages: fork()'s CoW of the parent, writeback.
    ProtectionPage = uapi::GUESTMAP_EVENT_PROTECTION_PAGE,
    /// Soft-dirty tracking was reset (`echo 4 > /proc/pid/clear_refs`).
    SoftDirty = uapi::GUESTMAP_EVENT_SOFT_DIRTY,
    /// The address space is being torn down.
    Release = uapi::GUESTMAP_EVENT_RELEASE,
    /// migrate_vma_setup(): pages move to or from device memory.
    Migrate = uapi::GUESTMAP_EVENT_MIGRATE,
    /// make_device_exclusive(): a device takes the pages for itself.
    Exclusive = uapi::GUESTMAP_EVENT_EXCLUSIVE,
}

/// Number of events, the length of `guestmap_stats.invalidations`.
pub(crate) const NR_EVENTS: usize = uapi::GUESTMAP_NR_EVENTS as usize;

impl Event {
    /// Every event, in numbering order.
    pub(crate) const ALL: [Event; NR_EVENTS] = [
        Self::Unmap,
        Self::Clear,
        Self::ProtectionVma,
        Self::ProtectionPage,
        Self::SoftDirty,
        Self::Release,
        Self::Migrate,
        Self::Exclusive,
    ];

    /// The event numbered `raw`, or `None` for a number this module does
    /// not know (a newer kernel's).
    pub(crate) fn from_raw(raw: u32) -> Option<Event> {
        Self::ALL.into_iter().find(|e| *e as u32 == raw)
    }

    /// Whether `mmu_notifier_range.owner` is meaningful for the event.
    ///
    /// Only migrate_vma_setup() and make_device_exclusive() set it; every
    /// other caller leaves it uninitialised, so it must not even be read.
    pub(crate) const fn has_owner(self) -> bool {
        matches!(self, Self::Migrate | Self::Exclusive)
    }

    /// A name for logs and debugfs.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Unmap => "unmap",
            Self::Clear => "clear",
            Self::ProtectionVma => "protection_vma",
            Self::ProtectionPage => "protection_page",
            Self::SoftDirty => "soft_dirty",
            Self::Release => "release",
            Self::Migrate => "migrate",
            Self::Exclusive => "exclusive",
        }
    }
}

/// What the mirror does to the entries of an invalidated range; numbered
/// by `enum gm_action` (`c/guestmap.h`), which the `guestmap_invalidate`
/// tracepoint prints by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Action {
    /// Remove the entries and free every table page whose whole span lies
    /// in the range: nothing will be mapped there again soon.
    ZapAndFree = ACTION_ZAP_FREE,
    /// Remove the entries, keep the tables: the range stays mapped, the
    /// pages behind it change, and will be faulted again at the same place.
    Zap = ACTION_ZAP,
    /// Keep the entries, remove write permission: the pages stay, only
    /// the right to write them is taken back.
    WriteProtect = ACTION_WRPROTECT,
    /// Nothing: the invalidation comes from this mirror itself.
    Ignore = ACTION_IGNORE,
    /// Remove everything and refuse further faults.
    Release = ACTION_RELEASE,
}

/// What the policy may ask about an invalidated range beyond its event.
/// Each question is asked only where the kernel defines the answer.
pub(crate) trait RangeFacts {
    /// Whether the range's owner is this mirror.  Asked only for the
    /// events that have an owner ([`Event::has_owner`]).
    fn owner_is_us(&self) -> bool;

    /// Whether the range may still be read after the protection change.
    /// Asked only for [`Event::ProtectionVma`]: mprotect(PROT_NONE) sends
    /// the same event as mprotect(PROT_READ), and must take reads back.
    fn still_readable(&self) -> bool;
}

/// The action for an invalidation of `event`.
pub(crate) fn action(event: Event, facts: &impl RangeFacts) -> Action {
    match event {
        Event::Unmap => Action::ZapAndFree,
        Event::Clear => Action::Zap,
        Event::ProtectionVma => {
            if facts.still_readable() {
                Action::WriteProtect
            } else {
                Action::Zap
            }
        }
        Event::ProtectionPage | Event::SoftDirty => Action::WriteProtect,
        Event::Release => Action::Release,
        Event::Migrate | Event::Exclusive => {
            if facts.owner_is_us() {
                Action::Ignore
            } else {
                Action::Zap
            }
        }
    }
}

/// The action for an event number the module does not know: the safe
/// choice, since any entry may have become wrong.
pub(crate) const UNKNOWN_EVENT_ACTION: Action = Action::Zap;
