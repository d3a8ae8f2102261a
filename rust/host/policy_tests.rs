// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/policy.rs` against the event meanings documented in
//! include/linux/mmu_notifier.h.

use crate::policy::{action, Action, Event, RangeFacts, NR_EVENTS};
use core::cell::Cell;

/// Answers, and records which questions the policy asked.
#[derive(Default)]
struct Facts {
    ours: bool,
    readable: bool,
    asked_owner: Cell<bool>,
    asked_readable: Cell<bool>,
}

impl RangeFacts for Facts {
    fn owner_is_us(&self) -> bool {
        self.asked_owner.set(true);
        self.ours
    }
    fn still_readable(&self) -> bool {
        self.asked_readable.set(true);
        self.readable
    }
}

#[test]
fn events_are_numbered_as_enum_mmu_notifier_event() {
    // include/linux/mmu_notifier.h, enum mmu_notifier_event, in order.
    let kernel = [
        "unmap",
        "clear",
        "protection_vma",
        "protection_page",
        "soft_dirty",
        "release",
        "migrate",
        "exclusive",
    ];
    assert_eq!(NR_EVENTS, kernel.len());
    for (n, name) in kernel.iter().enumerate() {
        let e = Event::from_raw(n as u32).unwrap();
        assert_eq!((e as usize, e.name()), (n, *name));
    }
    assert_eq!(Event::from_raw(8), None);
}

#[test]
fn each_event_gets_its_action() {
    let f = Facts {
        readable: true,
        ..Facts::default()
    };
    let expect = [
        (Event::Unmap, Action::ZapAndFree),
        (Event::Clear, Action::Zap),
        (Event::ProtectionVma, Action::WriteProtect),
        (Event::ProtectionPage, Action::WriteProtect),
        (Event::SoftDirty, Action::WriteProtect),
        (Event::Release, Action::Release),
        (Event::Migrate, Action::Zap),
        (Event::Exclusive, Action::Zap),
    ];
    for (e, a) in expect {
        assert_eq!(action(e, &f), a, "{e:?}");
    }
}

#[test]
fn mprotect_prot_none_takes_reads_back() {
    let f = Facts::default();
    assert_eq!(action(Event::ProtectionVma, &f), Action::Zap);
}

#[test]
fn owner_is_read_only_for_migrate_and_exclusive() {
    for e in Event::ALL {
        let f = Facts {
            ours: true,
            readable: true,
            ..Facts::default()
        };
        let a = action(e, &f);
        assert_eq!(f.asked_owner.get(), e.has_owner(), "{e:?}");
        assert_eq!(f.asked_readable.get(), e == Event::ProtectionVma, "{e:?}");
        if e.has_owner() {
            assert_eq!(a, Action::Ignore, "our own migration leaves the mirror be");
        }
    }
    assert!(Event::Migrate.has_owner() && Event::Exclusive.has_owner());
}
