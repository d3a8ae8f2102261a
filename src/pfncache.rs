// SPDX-License-Identifier: GPL-2.0

//! Pfn caches: a guest page kept mapped in the kernel, holding no pin,
//! made invalid by the memslot's notifier on any event touching it, as
//! KVM's `gfn_to_pfn_cache` (virt/kvm/pfncache.c).
//!
//! The view (valid, gfn, pfn, kernel address) lives under the mirror lock,
//! which the invalidate callback takes; the `memremap()` mapping of a bare
//! pfn lives with the context, so a refresh that finds the same pfn keeps
//! it: PFN-only memory pays for `memremap()` once, not per access.
//!
//! Check: under the mirror lock, the view is valid, was made under the
//! current memslot layout, is for this gfn (and writable for a write) ->
//! use it, still under the lock.  Refresh: with no lock held,
//! `read_begin`, walk the CPU page table, map; then under the lock install
//! only if `read_retry` says no invalidation ran.
//!
//! What ends a view's page, and why a stale view is never used:
//!
//! * munmap, mremap, mprotect, fork, reclaim, migration, exit (RELEASE):
//!   the memslot's notifier clears the view under the lock before the
//!   CPU's page tables change;
//! * the memslot deleted (and perhaps re-created at the same gpa on other
//!   memory, perhaps READONLY): deletion clears the views of the slot's
//!   frames under the lock while its notifier still watches, and bumps the
//!   layout generation that every check compares, as `kvm_gpc_check()`
//!   compares the memslots generation;
//! * the context closed or the module unloaded: the caches live in the
//!   context, which an open file keeps, and an open file pins the module.

use crate::{
    ext::{
        mmu_notifier::CpuPte,
        pfn::{self, Remap},
    },
    memslot::Memslot,
    mirror::{Access, CacheView, Mirror},
    pte::PAGE_SHIFT,
};
use kernel::prelude::*;

/// Gives up after this many refreshes undone by invalidations.
const MAX_TRIES: u32 = 1000;

/// What a pfn cache owns outside the mirror lock.
#[derive(Default)]
pub(crate) struct CacheRes {
    remap: Option<Remap>,
}

/// Accesses `buf.len()` bytes at `off` of guest frame `gfn` of `slot`
/// through cache `i`, refreshing it first if needed.  Returns whether it
/// had to be refreshed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn access(
    slot: &Memslot,
    mirror: &Mirror,
    res: &mut CacheRes,
    i: usize,
    gfn: u64,
    off: usize,
    mut buf: Access<'_>,
    walk: &mut [CpuPte],
) -> Result<bool> {
    let write = matches!(buf, Access::Write(_));
    let mut refreshed = false;
    for _ in 0..MAX_TRIES {
        {
            let state = mirror.lock();
            if let Some(c) = state.cache(i) {
                if c.gfn == gfn && (c.writable || !write) {
                    match &mut buf {
                        Access::Read(b) => {
                            // SAFETY: the view is valid and of the current
                            // memslot layout under the mirror lock, so its
                            // page is still what the CPU maps at `c.hva` of a
                            // slot that still exists (see the file comment).
                            // `kva` is the direct map of a struct page, or
                            // `res.remap`, which only the caller (holding the
                            // context mutex) replaces.
                            #[allow(unsafe_code)]
                            unsafe {
                                pfn::read_kva(c.kva, off, b)?
                            }
                        }
                        Access::Write(b) => {
                            // SAFETY: as for reads; the view is writable only
                            // if refreshed by a write walk of a writable slot,
                            // so the CPU pte is writable.
                            #[allow(unsafe_code)]
                            unsafe {
                                pfn::write_kva(c.kva, off, b)?
                            };
                            state.cache_written(i);
                        }
                    }
                    return Ok(refreshed);
                }
            }
        }
        refresh(slot, mirror, res, i, gfn, write, walk)?;
        refreshed = true;
    }
    Err(EAGAIN)
}

/// Drops the mapping cache `i` keeps if its view is no longer valid: after
/// its memslot went, nothing will use it again.
pub(crate) fn trim(mirror: &Mirror, res: &mut CacheRes, i: usize) {
    if mirror.lock().cache(i).is_none() {
        res.remap = None;
    }
}

fn refresh(
    slot: &Memslot,
    mirror: &Mirror,
    res: &mut CacheRes,
    i: usize,
    gfn: u64,
    write: bool,
    walk: &mut [CpuPte],
) -> Result {
    let desc = slot.data().desc();
    if write && desc.readonly {
        return Err(EPERM);
    }
    let hva = desc.map.gfn_to_hva(gfn);
    let out = walk.get_mut(..1).ok_or(EINVAL)?;
    loop {
        if kernel::current!().signal_pending() {
            return Err(EINTR);
        }
        let seq = slot.read_begin();
        match slot.walk(
            seq,
            hva,
            hva + (1 << PAGE_SHIFT),
            write,
            mirror.owner(),
            out,
        ) {
            Err(e) if e == EBUSY => continue,
            Err(e) if e == EPERM => return Err(EFAULT),
            ret => ret?,
        }
        let cpu = out[0];
        if !cpu.is_valid() {
            return Err(EFAULT);
        }
        let special = cpu.is_special();
        let kva = if special {
            if res.remap.as_ref().map(Remap::pfn) != Some(cpu.pfn()) {
                // The view may point into the old mapping: retire it
                // before the mapping goes.
                mirror.lock().set_cache(i, CacheView::default());
                res.remap = Some(Remap::new(cpu.pfn())?);
            }
            res.remap.as_ref().map_or(0, Remap::address)
        } else {
            pfn::direct_map_address(cpu.pfn())
        };
        let mut state = mirror.lock();
        if slot.read_retry(seq) {
            continue;
        }
        // The caller holds the context mutex, so the memslot layout is the
        // one `slot` belongs to.
        let gen = state.slots_gen();
        // A bare pfn belongs to whoever mapped it; KVM leaves such pages'
        // flags alone too.
        let dirty_tracked = !special && state.may_dirty(cpu.pfn());
        state.set_cache(
            i,
            CacheView {
                valid: true,
                gen,
                writable: write && cpu.is_writable(),
                gfn,
                hva,
                kva,
                pfn: cpu.pfn(),
                dirty_tracked,
            },
        );
        return Ok(());
    }
}
