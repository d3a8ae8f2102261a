// SPDX-License-Identifier: GPL-2.0

//! What C calls in Rust: the classifier behind the exported
//! `kvm_is_refcounted_pfn()` and `kvm_pfn_may_mark_dirty()`
//! (`include/guestmap/pfn.h`, defined and exported in
//! `rust/helpers/pfn.c`).

use crate::refcount::{classify, Facts};
use kernel::ffi::c_ulong;

// GM_VERDICT_* of rust/helpers/helpers.h.
const REFCOUNTED: u32 = 1 << 0;
const MAY_DIRTY: u32 = 1 << 1;

/// `u32 gm_pfn_verdict(unsigned long pfn)`: `src/refcount.rs`'s answers.
#[no_mangle]
extern "C" fn gm_pfn_verdict(pfn: c_ulong) -> u32 {
    // SAFETY: the exported contract (include/guestmap/pfn.h) makes the
    // caller keep the pfn's page stable, as for KVM's
    // kvm_pfn_to_refcounted_page().
    let raw = unsafe { super::pfn::facts(pfn as u64) };
    let v = classify(Facts::from_raw(raw));
    (if v.refcounted { REFCOUNTED } else { 0 }) | (if v.may_dirty { MAY_DIRTY } else { 0 })
}
