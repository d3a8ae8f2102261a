// SPDX-License-Identifier: GPL-2.0

//! The C functions this module exports to other modules
//! (`include/guestmap/pfn.h`; `EXPORT_SYMBOL_GPL` is in
//! `rust/helpers/pfn.c`).  Their answers are `src/refcount.rs`'s.

use crate::refcount::{classify, Facts};
use kernel::ffi::c_ulong;

fn verdict(pfn: c_ulong) -> crate::refcount::Verdict {
    // SAFETY: the exported contract (include/guestmap/pfn.h) makes the
    // caller keep the pfn's page stable, as for KVM's
    // kvm_pfn_to_refcounted_page().
    let raw = unsafe { super::pfn::facts(pfn as u64) };
    classify(Facts::from_raw(raw))
}

/// `bool kvm_is_refcounted_pfn(unsigned long pfn)`.
#[no_mangle]
extern "C" fn kvm_is_refcounted_pfn(pfn: c_ulong) -> bool {
    verdict(pfn).refcounted
}

/// `bool kvm_pfn_may_mark_dirty(unsigned long pfn)`.
#[no_mangle]
extern "C" fn kvm_pfn_may_mark_dirty(pfn: c_ulong) -> bool {
    verdict(pfn).may_dirty
}
