// SPDX-License-Identifier: GPL-2.0

//! Guest accesses: `GUESTMAP_READ_GUEST`/`GUESTMAP_WRITE_GUEST` through
//! the mirror, and the `GUESTMAP_ACCESS` ops through the mapping API.
//!
//! An access through the mirror reads the entry, uses its frame under the
//! mirror lock if it allows the access, and faults otherwise, up to
//! [`MAX_ACCESS_TRIES`] times: an invalidation may undo a fault before the
//! access can use it.  The other ops map the page (`src/guest.rs`) or use
//! a pfn cache (`src/pfncache.rs`), and retry the same way when an
//! invalidation races a mapping of PFN-only memory.
//!
//! Locks: an access of PFN-only memory holds the context's remap mutex
//! while it maps the frame, and takes the mirror lock inside it; nothing
//! takes them the other way round (`src/mirror.rs` has the whole order).

use crate::{
    abi::{AccessOp, AccessReq, RwReq},
    ext::mutex::Mutex,
    fault::Fault,
    guest::{self, until_current, GuestPage},
    memslot::Memslot,
    pfncache::CacheAccess,
    pte::{GfnRange, PfnClass, PAGE_SHIFT, TABLE_ENTRIES},
    remaps::Remaps,
    reserve::{with_bounce, BouncePage, Reserve},
    sys::{frame::Access, walk::CpuPte},
    uapi,
};
use kernel::{page::PAGE_SIZE, prelude::*, uaccess::UserSlice};

/// Gives up a guest access after this many faults that an invalidation
/// undid before the access could use them.
const MAX_ACCESS_TRIES: u32 = 1000;

/// `GUESTMAP_READ_GUEST` and `GUESTMAP_WRITE_GUEST` of `req`, which lies
/// in `slot`, through the mirror; `remaps` keeps mappings of bare pfns,
/// `reserve` the context's kept allocations.
pub(crate) fn rw(
    slot: &Memslot,
    remaps: &Mutex<Remaps>,
    reserve: &Mutex<Reserve>,
    req: &RwReq,
) -> Result {
    let mut fault = Fault::new(slot, req.write, reserve)?;
    with_bounce(reserve, |bounce| {
        let mut done = 0u64;
        while done < req.len {
            let gpa = req.gpa + done;
            let off = (gpa as usize) & (PAGE_SIZE - 1);
            let n = (PAGE_SIZE - off).min((req.len - done) as usize);
            let user = || UserSlice::new((req.buf + done) as usize, n);
            let buf = &mut bounce[..n];
            let gfn = gpa >> PAGE_SHIFT;
            // Fault up to the end of the access or of the leaf table.
            let ahead = GfnRange {
                start: gfn,
                end: req.gfns.end.min((gfn | (TABLE_ENTRIES as u64 - 1)) + 1),
            };
            if req.write {
                user().reader().read_slice(buf)?;
                through_mirror(&mut fault, remaps, gfn, off, &mut Access::Write(buf), ahead)?;
            } else {
                through_mirror(&mut fault, remaps, gfn, off, &mut Access::Read(buf), ahead)?;
                user().writer().write_slice(buf)?;
            }
            done += n as u64;
        }
        Ok(())
    })
}

/// One guest access within one page through the mirror, faulting `ahead`
/// on a miss.
fn through_mirror(
    fault: &mut Fault<'_>,
    remaps: &Mutex<Remaps>,
    gfn: u64,
    off: usize,
    acc: &mut Access<'_>,
    ahead: GfnRange,
) -> Result {
    let mirror = fault.slot().data().mirror();
    let write = acc.is_write();
    for _ in 0..MAX_ACCESS_TRIES {
        let pte = mirror.lock().get(gfn);
        if pte.is_present() && (pte.is_writable() || !write) {
            let done = if pte.class() == Some(PfnClass::PfnMap) {
                // Mapping sleeps: map (or reuse) first, then check under
                // the lock that the entry still names the frame.  A frame
                // that cannot be mapped may have changed since the entry
                // was read (a free page leaves the direct map under
                // DEBUG_PAGEALLOC): fault again if the entry did.
                let mut remaps = remaps.lock_killable()?;
                match remaps.get(pte.pfn()) {
                    Ok(map) => {
                        let state = mirror.lock();
                        state
                            .remapped_frame(gfn, &map, write)
                            .map(|frame| frame.access(off, acc))
                    }
                    Err(e) if mirror.lock().get(gfn) == pte => return Err(e),
                    Err(_) => None,
                }
            } else {
                let state = mirror.lock();
                state
                    .entry_frame(gfn, write)
                    .map(|frame| frame.access(off, acc))
            };
            if let Some(ret) = done {
                return Ok(ret?);
            }
        }
        fault.run(ahead)?;
    }
    Err(EAGAIN)
}

/// What a `GUESTMAP_ACCESS` reports back.
pub(crate) struct AccessDone {
    /// `GUESTMAP_VIA_*`: how the page was reached; 0 for a copy.
    pub(crate) via: u32,
    /// For `Cmpxchg`, the value found.
    pub(crate) found: Option<u64>,
}

/// `GUESTMAP_ACCESS` of `req`, which lies in `slot`; `reserve` is the
/// context's kept allocations.
pub(crate) fn access(
    slot: &Memslot,
    reserve: &Mutex<Reserve>,
    req: &AccessReq,
) -> Result<AccessDone> {
    with_bounce(reserve, |bounce| access_with(slot, req, bounce))
}

fn access_with(slot: &Memslot, req: &AccessReq, bounce: &mut BouncePage) -> Result<AccessDone> {
    let desc = slot.data().desc();
    let user = || UserSlice::new(req.buf as usize, req.len);
    let gfn = req.gfns.start;
    let mut done = AccessDone {
        via: 0,
        found: None,
    };
    match req.op {
        AccessOp::Copy { write: false } => {
            guest::read(desc, req.gpa, req.len, req.buf, &mut bounce[..])?
        }
        AccessOp::Copy { write: true } => {
            guest::write(desc, req.gpa, req.len, req.buf, &mut bounce[..])?
        }
        AccessOp::Map { write } => {
            let buf = &mut bounce[..req.len];
            if write {
                user().reader().read_slice(buf)?;
            }
            until_current(|| {
                let page = GuestPage::map(slot, gfn, write)?;
                let mut acc = if write {
                    Access::Write(&*buf)
                } else {
                    Access::Read(&mut *buf)
                };
                let ret = page.access(req.off, &mut acc);
                if let Ok(None) = ret {
                    // Nothing went through the stale mapping.
                    page.unmap(false);
                    return Ok(None);
                }
                done.via = page.path();
                // A write the kernel made must never be lost to reclaim:
                // it dirties the page whatever the flag says.  A read
                // mapping is never marked dirty, flag or not: the page was
                // pinned without FOLL_WRITE, so its filesystem never
                // prepared it for writing (page_mkwrite), and some have no
                // dirty_folio at all.
                page.unmap(write && (ret.is_ok() || req.dirty));
                ret?;
                Ok(Some(()))
            })?;
            if !write {
                user().writer().write_slice(buf)?;
            }
        }
        AccessOp::Cmpxchg { old, new } => {
            done.found = Some(until_current(|| {
                let page = GuestPage::map(slot, gfn, true)?;
                let found = match page.cmpxchg_u64(req.off, old, new) {
                    Ok(None) => {
                        page.unmap(false);
                        return Ok(None);
                    }
                    ret => ret,
                };
                done.via = page.path();
                let swapped = matches!(found, Ok(Some(f)) if f == old);
                page.unmap(swapped || req.dirty);
                Ok(found?)
            })?);
        }
        AccessOp::Cache { cache, write } => {
            let buf = &mut bounce[..req.len];
            let mut walk = [CpuPte::default(); 1];
            let cached = CacheAccess {
                slot,
                cache,
                gfn,
                off: req.off,
            };
            let refreshed = if write {
                user().reader().read_slice(buf)?;
                cached.run(&mut Access::Write(buf), &mut walk)?
            } else {
                let refreshed = cached.run(&mut Access::Read(buf), &mut walk)?;
                user().writer().write_slice(buf)?;
                refreshed
            };
            done.via = if refreshed {
                uapi::GUESTMAP_VIA_CACHE_REFRESH
            } else {
                uapi::GUESTMAP_VIA_CACHE
            };
        }
    }
    Ok(done)
}
