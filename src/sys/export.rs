// SPDX-License-Identifier: GPL-2.0

//! What C calls in Rust: the classifier behind the exported
//! `kvm_is_refcounted_pfn()` and `kvm_pfn_may_mark_dirty()`
//! (`include/guestmap/pfn.h`, defined and exported in `c/pfn.c`).

use super::bindings::{self, GM_VERDICT_MAY_DIRTY, GM_VERDICT_REFCOUNTED};
use crate::refcount::{classify, Facts};
use kernel::ffi::c_ulong;

/// `u32 gm_pfn_verdict(unsigned long pfn)` of `c/guestmap.h`:
/// `src/refcount.rs`'s answers.
#[no_mangle]
extern "C" fn gm_pfn_verdict(pfn: c_ulong) -> u32 {
    // SAFETY: the exported contract (include/guestmap/pfn.h) makes the
    // caller keep the pfn's page stable, as for KVM's
    // kvm_pfn_to_refcounted_page().
    let raw = unsafe { super::pfn::facts(pfn as u64) };
    let v = classify(Facts::from_raw(raw));
    (if v.refcounted {
        GM_VERDICT_REFCOUNTED
    } else {
        0
    }) | (if v.may_dirty { GM_VERDICT_MAY_DIRTY } else { 0 })
}

// The definition has the signature the header declares: bindgen's
// declaration and this function must be the same function-pointer type.
const _: [unsafe extern "C" fn(c_ulong) -> u32; 2] = [bindings::gm_pfn_verdict, gm_pfn_verdict];
