// SPDX-License-Identifier: GPL-2.0

//! `GUESTMAP_CLASSIFY`: what backs a user address, in `src/refcount.rs`'s
//! terms.

use crate::{
    refcount::{classify, Facts},
    sys::pfn::classify_user,
    uapi,
};
use kernel::prelude::*;

fn flag(set: bool, bit: u32) -> u32 {
    if set {
        bit
    } else {
        0
    }
}

/// Fills the outputs of `req` for its `addr` in the calling task's
/// address space; the pfn only if `show_pfn`.
pub(crate) fn run(req: &mut uapi::guestmap_classify, show_pfn: bool) -> Result {
    let user = classify_user(req.addr)?;
    let facts = Facts::from_raw(user.facts);
    let verdict = classify(facts);
    req.class = verdict.kind.map_or(0, |k| k.uapi());
    req.flags = flag(verdict.refcounted, uapi::GUESTMAP_PFN_REFCOUNTED)
        | flag(verdict.may_dirty, uapi::GUESTMAP_PFN_MAY_DIRTY)
        | flag(user.pfnmap, uapi::GUESTMAP_PFN_MAPPED_PFNMAP)
        | flag(facts.compound, uapi::GUESTMAP_PFN_COMPOUND);
    req.pfn = if show_pfn { user.pfn } else { 0 };
    Ok(())
}
