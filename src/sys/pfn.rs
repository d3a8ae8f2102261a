// SPDX-License-Identifier: GPL-2.0

//! Facts about a pfn, as `c/pfn.c` reads them for `src/refcount.rs`.

use super::bindings::{gm_classify_user, gm_pfn_facts};
use kernel::{error::to_result, ffi::c_ulong, prelude::*};

/// The facts `src/refcount.rs` classifies a pfn by, as `gm_pfn_facts()`
/// reports them.
///
/// # Safety
///
/// The pfn's page, if it has one, keeps its identity for the call: the
/// caller holds a reference, or the pte lock of a pte mapping it, or the
/// pfn is protected by an MMU notifier.  ZONE_DEVICE metadata is only
/// valid then.
pub(crate) unsafe fn facts(pfn: u64) -> u32 {
    // SAFETY: the page is stable (the caller's contract).
    unsafe { gm_pfn_facts(pfn as c_ulong) }
}

/// What backs a user address of the calling task.
pub(crate) struct UserPfn {
    /// The pfn mapped there.
    pub(crate) pfn: u64,
    /// Its facts (see [`facts`]), read while the page was held.
    pub(crate) facts: u32,
    /// Whether it came from a `VM_PFNMAP` or `VM_IO` mapping.
    pub(crate) pfnmap: bool,
}

/// Looks up what `addr` of the calling task's address space maps, holding
/// the page (a GUP reference, or the pte lock for pfnmaps) while its facts
/// are read.  `EFAULT` if nothing is there.
pub(crate) fn classify_user(addr: u64) -> Result<UserPfn> {
    let mut pfn: c_ulong = 0;
    let mut facts = 0;
    let mut pfnmap = false;
    // SAFETY: the out pointers are valid locals; the helper works on the
    // calling task's own address space under its mmap lock.
    to_result(unsafe { gm_classify_user(addr as c_ulong, &mut pfn, &mut facts, &mut pfnmap) })?;
    Ok(UserPfn {
        pfn: pfn as u64,
        facts,
        pfnmap,
    })
}
