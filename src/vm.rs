// SPDX-License-Identifier: GPL-2.0

//! A context's guest: its memslots, and faults and accesses through the
//! mirror.
//!
//! Faults follow the `mmu_interval_read_begin()` protocol: walk the CPU
//! page tables with no lock of ours held, then take the mirror lock and
//! install only if no invalidation ran meanwhile.

use crate::{
    ext::{
        map,
        mm::Mm,
        mmu_notifier::{CpuPte, WALK_MAX},
        task, trace,
    },
    guest::{self, GuestPage},
    memslot::{Memslot, SlotWatch},
    mirror::{Access, Mirror, Spare},
    pfncache,
    policy::Action,
    pte::{GfnRange, PfnClass, PAGE_SHIFT, TABLE_ENTRIES},
    remaps::Remaps,
    slots::{self, Change, SlotDesc, SlotError},
    uapi,
};
use kernel::{page::PAGE_SIZE, prelude::*, sync::Arc, uaccess::UserSlice};

/// Gives up a guest access after this many faults that an invalidation
/// undid before the access could use them.
const MAX_ACCESS_TRIES: u32 = 1000;

/// How a fault or access failed before reaching the mirror.
pub(crate) enum VmError {
    /// A `GUESTMAP_SET_MEMSLOT` rule was broken.
    Slot(SlotError),
    /// Anything else, already an errno.
    Kernel(Error),
}

impl From<Error> for VmError {
    fn from(e: Error) -> Self {
        VmError::Kernel(e)
    }
}

/// The state faults and accesses need, serialised by the context's mutex.
pub(crate) struct Vm {
    slots: [Option<Pin<KBox<Memslot>>>; slots::MAX_SLOTS as usize],
    spare: Spare,
    walk: KBox<[CpuPte; WALK_MAX]>,
    bounce: KBox<[u8; PAGE_SIZE]>,
    remaps: Remaps,
}

impl Vm {
    /// A guest with no memory.
    pub(crate) fn new() -> Result<Vm> {
        Ok(Vm {
            slots: [const { None }; slots::MAX_SLOTS as usize],
            spare: Spare::default(),
            walk: KBox::init(kernel::init::zeroed(), GFP_KERNEL)?,
            bounce: KBox::init(kernel::init::zeroed(), GFP_KERNEL)?,
            remaps: Remaps::default(),
        })
    }

    fn descs(&self) -> impl Iterator<Item = &SlotDesc> + Clone {
        self.slots.iter().flatten().map(|s| s.data().desc())
    }

    /// `GUESTMAP_SET_MEMSLOT`.
    pub(crate) fn set_memslot(
        &mut self,
        mm: &Mm,
        mirror: &Arc<Mirror>,
        req: &uapi::guestmap_memslot,
        user_limit: u64,
    ) -> Result<(), VmError> {
        match slots::check(req, self.descs(), user_limit).map_err(VmError::Slot)? {
            Change::Create(desc) => {
                // The ioctl runs in `mm` (the context checked), so it has
                // users; an exiting one would have none.
                let user = mm.mmget_not_zero().ok_or(ESRCH)?;
                let watch = SlotWatch::new(desc, mirror.clone());
                let len = desc.map.npages << PAGE_SHIFT;
                let slot =
                    KBox::pin_init(Memslot::new(&user, desc.map.hva, len, watch), GFP_KERNEL)?;
                mirror.lock().add_slot();
                self.slots[desc.id as usize] = Some(slot);
            }
            Change::Delete(id) => self.delete_slot(mirror, id as usize),
        }
        Ok(())
    }

    /// Deletes slot `id`, if it exists, with its entries and cache views.
    fn delete_slot(&mut self, mirror: &Mirror, id: usize) {
        if let Some(slot) = self.slots[id].take() {
            // Zap while the notifier still watches, and no fault can run
            // (we hold the context mutex); then remove it.
            let gfns = slot.data().desc().gfns();
            let mut state = mirror.lock();
            state.remove_slot(gfns);
            mirror.apply(state, Action::ZapAndFree, gfns, true);
            drop(slot);
            mirror.trim_caches();
            self.remaps.clear();
        }
    }

    /// `GUESTMAP_MIRROR_FAULT`.
    pub(crate) fn fault(&mut self, mirror: &Mirror, gfns: GfnRange, write: bool) -> Result {
        let Vm {
            slots, spare, walk, ..
        } = self;
        let slot = Self::find(slots, gfns)?;
        fault_in(slot, mirror, gfns, write, spare, walk)
    }

    /// The memslot holding all of `gfns`.
    fn find(slots: &[Option<Pin<KBox<Memslot>>>], gfns: GfnRange) -> Result<&Memslot> {
        slots
            .iter()
            .flatten()
            .map(|s| &**s)
            .find(|s| s.data().desc().map.contains(gfns))
            .ok_or(ENOENT)
    }

    /// `GUESTMAP_READ_GUEST` (`write` false) and `GUESTMAP_WRITE_GUEST`.
    pub(crate) fn access(
        &mut self,
        mirror: &Mirror,
        rw: &uapi::guestmap_rw,
        write: bool,
    ) -> Result {
        let gfns = slots::rw_gfns(rw.gpa, rw.len).ok_or(EINVAL)?;
        let Vm {
            slots,
            spare,
            walk,
            bounce,
            remaps,
            ..
        } = self;
        let slot = Self::find(slots, gfns)?;
        if write && slot.data().desc().readonly {
            return Err(EPERM);
        }
        let mut done = 0u64;
        while done < rw.len {
            let gpa = rw.gpa + done;
            let off = (gpa as usize) & (PAGE_SIZE - 1);
            let n = (PAGE_SIZE - off).min((rw.len - done) as usize);
            let user = || UserSlice::new((rw.buf + done) as usize, n);
            let buf = &mut bounce[..n];
            if write {
                user().reader().read_slice(buf)?;
            }
            let gfn = gpa >> PAGE_SHIFT;
            // Fault up to the end of the access or of the leaf table.
            let ahead = GfnRange {
                start: gfn,
                end: gfns.end.min((gfn | (TABLE_ENTRIES as u64 - 1)) + 1),
            };
            access_one(
                slot, mirror, gfn, off, buf, write, ahead, spare, walk, remaps,
            )?;
            if !write {
                user().writer().write_slice(buf)?;
            }
            done += n as u64;
        }
        Ok(())
    }

    /// `GUESTMAP_ACCESS`: performs `req`, filling its outputs.
    pub(crate) fn access_op(&mut self, req: &mut uapi::guestmap_access) -> Result {
        let gfns = slots::rw_gfns(req.gpa, req.len).ok_or(EINVAL)?;
        let Vm {
            slots,
            walk,
            bounce,
            ..
        } = self;
        let slot = Self::find(slots, gfns)?;
        let desc = slot.data().desc();
        let len = req.len as usize;
        let off = (req.gpa as usize) & (PAGE_SIZE - 1);
        let one_page = gfns.end - gfns.start == 1;
        let dirty = req.flags & uapi::GUESTMAP_ACCESS_DIRTY != 0;
        if req.flags & !uapi::GUESTMAP_ACCESS_DIRTY != 0 {
            return Err(EINVAL);
        }
        let user = || UserSlice::new(req.buf as usize, len);
        match req.op {
            uapi::GUESTMAP_ACCESS_READ => {
                guest::read(desc, req.gpa, len, req.buf, &mut bounce[..])?
            }
            uapi::GUESTMAP_ACCESS_WRITE => {
                guest::write(desc, req.gpa, len, req.buf, &mut bounce[..])?
            }
            uapi::GUESTMAP_ACCESS_MAP_READ | uapi::GUESTMAP_ACCESS_MAP_WRITE => {
                if !one_page {
                    return Err(EINVAL);
                }
                let write = req.op == uapi::GUESTMAP_ACCESS_MAP_WRITE;
                let buf = &mut bounce[..len];
                if write {
                    user().reader().read_slice(buf)?;
                }
                let mut tries = 0;
                loop {
                    let page = GuestPage::map(slot, gfns.start, write)?;
                    let ret = if write {
                        page.write(off, buf)
                    } else {
                        page.read(off, buf)
                    };
                    if raced(&ret, &mut tries)? {
                        continue;
                    }
                    req.via = via(&page);
                    // A write the kernel made must never be lost to
                    // reclaim: it dirties the page whatever the flag says.
                    // A read mapping is never marked dirty, flag or not:
                    // the page was pinned without FOLL_WRITE, so its
                    // filesystem never prepared it for writing
                    // (page_mkwrite), and some have no dirty_folio at all.
                    page.unmap(write && (ret.is_ok() || dirty));
                    ret?;
                    break;
                }
                if !write {
                    user().writer().write_slice(buf)?;
                }
            }
            uapi::GUESTMAP_ACCESS_CMPXCHG => {
                if len != 8 || off % 8 != 0 {
                    return Err(EINVAL);
                }
                let mut tries = 0;
                loop {
                    let page = GuestPage::map(slot, gfns.start, true)?;
                    let found = page.cmpxchg_u64(off, req.old, req.new);
                    if raced(&found, &mut tries)? {
                        continue;
                    }
                    req.via = via(&page);
                    let swapped = found.as_ref().is_ok_and(|f| *f == req.old);
                    page.unmap(swapped || dirty);
                    req.old = found?;
                    break;
                }
            }
            uapi::GUESTMAP_ACCESS_CACHE_READ | uapi::GUESTMAP_ACCESS_CACHE_WRITE => {
                if !one_page {
                    return Err(EINVAL);
                }
                if req.cache >= uapi::GUESTMAP_NR_CACHES {
                    return Err(EINVAL);
                }
                let write = req.op == uapi::GUESTMAP_ACCESS_CACHE_WRITE;
                let buf = &mut bounce[..len];
                if write {
                    user().reader().read_slice(buf)?;
                }
                let acc = if write {
                    Access::Write(buf)
                } else {
                    Access::Read(buf)
                };
                let refreshed = pfncache::access(
                    slot,
                    req.cache as usize,
                    gfns.start,
                    off,
                    acc,
                    &mut walk[..],
                )?;
                req.via = if refreshed {
                    uapi::GUESTMAP_VIA_CACHE_REFRESH
                } else {
                    uapi::GUESTMAP_VIA_CACHE
                };
                if !write {
                    user().writer().write_slice(&bounce[..len])?;
                }
            }
            _ => return Err(EINVAL),
        }
        Ok(())
    }

    /// `GUESTMAP_BENCH`: `req.iterations` accesses of 8 bytes, timed.
    pub(crate) fn bench(&mut self, req: &mut uapi::guestmap_bench) -> Result {
        if req.iterations == 0 || req.iterations > 1 << 24 {
            return Err(EINVAL);
        }
        let gfns = slots::byte_gfns(req.gpa, 8).ok_or(EINVAL)?;
        if gfns.end - gfns.start != 1 {
            return Err(EINVAL);
        }
        let Vm { slots, walk, .. } = self;
        let slot = Self::find(slots, gfns)?;
        let off = (req.gpa as usize) & (PAGE_SIZE - 1);
        let mut word = [0u8; 8];
        let start = map::ktime_ns();
        for n in 0..req.iterations {
            if n % 1024 == 1023 {
                if kernel::current!().signal_pending() {
                    return Err(EINTR);
                }
                task::cond_resched();
            }
            match req.op {
                uapi::GUESTMAP_ACCESS_MAP_READ => {
                    let mut tries = 0;
                    loop {
                        let page = GuestPage::map(slot, gfns.start, false)?;
                        let ret = page.read(off, &mut word);
                        page.unmap(false);
                        if !raced(&ret, &mut tries)? {
                            break ret?;
                        }
                    }
                }
                uapi::GUESTMAP_ACCESS_CACHE_READ => {
                    if req.cache >= uapi::GUESTMAP_NR_CACHES {
                        return Err(EINVAL);
                    }
                    pfncache::access(
                        slot,
                        req.cache as usize,
                        gfns.start,
                        off,
                        Access::Read(&mut word),
                        &mut walk[..],
                    )?;
                }
                _ => return Err(EINVAL),
            }
        }
        req.ns = map::ktime_ns() - start;
        Ok(())
    }

    /// Deletes every memslot, zapping its entries and cache views first.
    pub(crate) fn clear(&mut self, mirror: &Mirror) {
        for id in 0..self.slots.len() {
            self.delete_slot(mirror, id);
        }
    }
}

/// Faults `gfns` of `slot` into the mirror, one leaf table's worth at a
/// time so that one set of spare tables always suffices.
fn fault_in(
    slot: &Memslot,
    mirror: &Mirror,
    gfns: GfnRange,
    write: bool,
    spare: &mut Spare,
    walk: &mut [CpuPte; WALK_MAX],
) -> Result {
    if write && slot.data().desc().readonly {
        return Err(EPERM);
    }
    mirror.lock().count_fault();
    let mut start = gfns.start;
    while start < gfns.end {
        // A slot may span terabytes: stay killable and preemptible.
        if kernel::current!().signal_pending() {
            return Err(EINTR);
        }
        task::cond_resched();
        let end = gfns.end.min((start | (WALK_MAX as u64 - 1)) + 1);
        let ret = fault_chunk(slot, mirror, GfnRange { start, end }, write, spare, walk);
        trace::fault(
            mirror,
            start,
            end - start,
            write,
            ret.err().map_or(0, |e| e.to_errno()),
        );
        ret?;
        start = end;
    }
    Ok(())
}

fn fault_chunk(
    slot: &Memslot,
    mirror: &Mirror,
    gfns: GfnRange,
    write: bool,
    spare: &mut Spare,
    walk: &mut [CpuPte; WALK_MAX],
) -> Result {
    let desc = slot.data().desc();
    let n = (gfns.end - gfns.start) as usize;
    let hva = desc.map.gfn_to_hva(gfns.start);
    let hva_end = hva + ((n as u64) << PAGE_SHIFT);
    let out = &mut walk[..n];
    // What an event left in place (write-protection keeps entries) needs
    // no walk: this is where keeping them pays.
    if mirror.lock().is_mapped(gfns, write) {
        return Ok(());
    }
    loop {
        if kernel::current!().signal_pending() {
            return Err(EINTR);
        }
        spare.fill()?;
        let seq = slot.read_begin();
        let walked = match slot.walk(seq, hva, hva_end, write, mirror.owner(), &mut *out) {
            Err(e) if e == EBUSY => {
                mirror.lock().count_retry();
                continue;
            }
            // hmm's answer to a write fault on memory the process may not
            // write; to the guest that is the same as nothing mapped.
            Err(e) if e == EPERM => return Err(EFAULT),
            ret => ret?,
        };
        if mirror.install(slot, &walked, gfns.start, write, spare)? {
            return Ok(());
        }
    }
}

/// One guest access within one page, faulting `ahead` on a miss.
#[allow(clippy::too_many_arguments)]
fn access_one(
    slot: &Memslot,
    mirror: &Mirror,
    gfn: u64,
    off: usize,
    buf: &mut [u8],
    write: bool,
    ahead: GfnRange,
    spare: &mut Spare,
    walk: &mut [CpuPte; WALK_MAX],
    remaps: &mut Remaps,
) -> Result {
    for _ in 0..MAX_ACCESS_TRIES {
        let pte = mirror.lock().get(gfn);
        if pte.is_present() && (pte.is_writable() || !write) {
            let ret = if pte.class() == Some(PfnClass::PfnMap) {
                // Mapping sleeps: map (or reuse) first, then check under
                // the lock that the entry still names the frame.  A frame
                // that cannot be mapped may have changed since the entry
                // was read (a free page leaves the direct map under
                // DEBUG_PAGEALLOC): fault again if the entry did.
                match remaps.get(pte.pfn()) {
                    Ok(map) => mirror
                        .lock()
                        .access_remapped(gfn, &map, off, acc_of(write, buf)),
                    Err(e) if mirror.lock().get(gfn) == pte => Err(e),
                    Err(_) => Err(EAGAIN),
                }
            } else {
                mirror.lock().access(gfn, off, acc_of(write, buf))
            };
            match ret {
                Err(e) if e == EAGAIN => {}
                ret => return ret,
            }
        }
        fault_in(slot, mirror, ahead, write, spare, walk)?;
    }
    Err(EAGAIN)
}

/// Whether an access of a bare pfn's mapping raced an invalidation
/// (`EAGAIN`), so that the page must be mapped again: a retry that can
/// succeed is the kernel's to make, not user space's.  Gives up with
/// `EINTR` on a fatal signal and `EAGAIN` after [`MAX_ACCESS_TRIES`].
fn raced<T>(ret: &Result<T>, tries: &mut u32) -> Result<bool> {
    match ret {
        Err(e) if *e == EAGAIN => {
            *tries += 1;
            if *tries >= MAX_ACCESS_TRIES {
                return Err(EAGAIN);
            }
            if kernel::current!().signal_pending() {
                return Err(EINTR);
            }
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn acc_of(write: bool, buf: &mut [u8]) -> Access<'_> {
    if write {
        Access::Write(buf)
    } else {
        Access::Read(buf)
    }
}

/// `GUESTMAP_QUERY`: the entries of `gfns`, into `out` from user space.
pub(crate) fn query(mirror: &Mirror, gfns: GfnRange, out: u64, show_pfn: bool) -> Result {
    let mut buf = [0u64; 64];
    let mut gfn = gfns.start;
    let mut user = UserSlice::new(out as usize, ((gfns.end - gfns.start) * 8) as usize).writer();
    while gfn < gfns.end {
        let n = buf.len().min((gfns.end - gfn) as usize);
        {
            let state = mirror.lock();
            for (i, word) in buf[..n].iter_mut().enumerate() {
                *word = state.get(gfn + i as u64).query_word(show_pfn);
            }
        }
        let bytes: [u8; 64 * 8] = zerocopy(&buf);
        user.write_slice(&bytes[..n * 8])?;
        gfn += n as u64;
    }
    Ok(())
}

fn zerocopy(words: &[u64; 64]) -> [u8; 512] {
    let mut out = [0u8; 512];
    for (chunk, w) in out.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&w.to_ne_bytes());
    }
    out
}

fn via(page: &GuestPage<'_>) -> u32 {
    if page.is_remapped() {
        uapi::GUESTMAP_VIA_REMAP
    } else {
        uapi::GUESTMAP_VIA_PAGE
    }
}
