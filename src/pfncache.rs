// SPDX-License-Identifier: GPL-2.0

//! Pfn caches: a guest page kept mapped in the kernel, holding no pin,
//! made invalid by the memslot's notifier on any event touching it, as
//! KVM's `gfn_to_pfn_cache` (virt/kvm/pfncache.c).
//!
//! The view (valid, gfn, pfn, the mapping of a bare pfn) lives under the
//! mirror lock, which the invalidate callback takes (`Cache` in
//! `src/mirror.rs`); a refresh that finds the same pfn keeps the mapping:
//! PFN-only memory pays for mapping once, not per access.
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
    ext::{mmu_notifier::CpuPte, pfn::Remap},
    memslot::Memslot,
    mirror::Access,
    pte::PAGE_SHIFT,
};
use kernel::prelude::*;

/// Gives up after this many refreshes undone by invalidations.
const MAX_TRIES: u32 = 1000;

/// Accesses `buf.len()` bytes at `off` of guest frame `gfn` of `slot`
/// through cache `i`, refreshing it first if needed.  Returns whether it
/// had to be refreshed.
pub(crate) fn access(
    slot: &Memslot,
    i: usize,
    gfn: u64,
    off: usize,
    mut buf: Access<'_>,
    walk: &mut [CpuPte],
) -> Result<bool> {
    let mirror = slot.data().mirror();
    let write = matches!(buf, Access::Write(_));
    let mut refreshed = false;
    for _ in 0..MAX_TRIES {
        let again = match &mut buf {
            Access::Read(b) => mirror.lock().cache_access(i, gfn, off, Access::Read(b)),
            Access::Write(b) => mirror.lock().cache_access(i, gfn, off, Access::Write(b)),
        };
        match again {
            Err(e) if e == EAGAIN => {}
            ret => return ret.map(|()| refreshed),
        }
        refresh(slot, i, gfn, write, walk)?;
        refreshed = true;
    }
    Err(EAGAIN)
}

fn refresh(slot: &Memslot, i: usize, gfn: u64, write: bool, walk: &mut [CpuPte]) -> Result {
    let mirror = slot.data().mirror();
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
        let walked = match slot.walk(
            seq,
            hva,
            hva + (1 << PAGE_SHIFT),
            write,
            mirror.owner(),
            &mut *out,
        ) {
            Err(e) if e == EBUSY => continue,
            Err(e) if e == EPERM => return Err(EFAULT),
            ret => ret?,
        };
        let [cpu] = walked.ptes() else {
            return Err(EINVAL);
        };
        if !cpu.is_valid() {
            return Err(EFAULT);
        }
        // A bare pfn needs a mapping, made outside the lock (it sleeps)
        // unless the cache keeps one of the same pfn.
        let mut map = None;
        if cpu.is_special() && mirror.lock().cache_map_pfn(i) != Some(cpu.pfn()) {
            match Remap::new(cpu.pfn()) {
                Ok(m) => map = Some(m),
                // The frame may have changed since the walk (a free page
                // leaves the direct map under DEBUG_PAGEALLOC): walk again
                // if so, else the frame cannot be mapped.
                Err(e) => {
                    let current = {
                        let _state = mirror.lock();
                        slot.is_current(&walked)
                    };
                    if current {
                        return Err(e);
                    }
                    continue;
                }
            }
        }
        if mirror.install_view(slot, &walked, i, gfn, write, map)? {
            return Ok(());
        }
    }
}
