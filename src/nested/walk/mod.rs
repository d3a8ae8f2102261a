// SPDX-License-Identifier: GPL-2.0

//! The guest page-table walker: `GUESTMAP_WALK` translates an address
//! through page tables in guest memory, as KVM's paging_tmpl.h walks a
//! guest's (or, for nested EPT and NPT, L1's) tables, and sets their A/D
//! bits with a cmpxchg on the entry.
//!
//! `paging` is the modes' rules and `walker` the walk, both pure and
//! host-tested; `tables` reaches the tables in guest memory through the
//! mapping API, with no need for a `struct page`: each level is mapped
//! as `kvm_vcpu_map()` maps a page, or read through the walk cache, one
//! pfn cache per level.

pub(crate) mod paging;
pub(crate) mod tables;
pub(crate) mod walker;

use crate::{slot_table::SlotTable, uapi};
use kernel::prelude::*;
use paging::WalkReq;
use walker::WalkError;

/// `GUESTMAP_WALK` of `req` over the tables in `slots`, its outcome
/// written into `raw`'s output fields.
pub(crate) fn walk(slots: &SlotTable, req: &WalkReq, raw: &mut uapi::guestmap_walk) -> Result {
    let mut tables = tables::GuestTables::new(slots, req.cached);
    let walked = walker::walk(req, &mut tables).map_err(|e| match e {
        WalkError::Tables(e) => e,
        // The entries kept changing under the A/D updates.
        WalkError::Retries => EAGAIN,
    })?;
    walked.fill_uapi(raw);
    Ok(())
}
