// SPDX-License-Identifier: GPL-2.0

//! A nested SVM vCPU: the memory side of KVM's nested SVM
//! (arch/x86/kvm/svm/nested.c in 6.12) on guestmap's mapping API.
//!
//! * VMRUN maps VMCB12 (like `kvm_vcpu_map()`, or through the vCPU's pfn
//!   cache), copies its control and save areas, judges the copy
//!   (`src/nested/svm/checks.rs`) and, on success, merges L1's MSR
//!   permission map into the vCPU's own, reading it four bytes at a time
//!   from guest memory as KVM does;
//! * an intercept query reads L1's maps live, as KVM does on an exit
//!   from L2;
//! * #VMEXIT maps VMCB12 again and writes the exit back.
//!
//! Nothing here holds a mapping or a page between calls: VMCB12 is mapped
//! per call (or reached through the pfn cache, which holds no pin and is
//! kept valid by the memslot's notifier), and the guest frame number is
//! all the vCPU keeps of L2.  So a memslot deleted, re-created, unmapped
//! or remapped between calls leaves nothing stale: the next call looks
//! the frame up again, and gets ENOENT or EFAULT if it is gone.  During
//! a call the slot table is held shared (`src/context.rs`), so no slot is
//! deleted under it, and munmap and mremap are handled by the mapping
//! API's own guards (a pin, or the notifier's sequence check).

use super::{
    abi::{L2Access, VmexitReq, VmrunReq},
    checks::{self, cr0, Check, L1State, Verdict},
    permmap::{io_bits, msr_bits, MsrMap, MSRPM_WORDS},
    vmcb::{self, control, save, Intercept, Vmcb12},
};
use crate::{
    guest::GuestPage,
    memslot::Memslot,
    nested::{
        cpu::{efer, CpuModel, Features},
        mem,
    },
    pfncache::CacheAccess,
    pte::{GfnRange, PAGE_SHIFT},
    slot_table::SlotTable,
    sys::{frame::Access, trace, walk::CpuPte},
    uapi,
};
use core::convert::Infallible;
use kernel::{
    init::{self, init_array_from_fn},
    prelude::*,
};

/// Gives up an access to VMCB12 after this many mappings undone by
/// invalidations before they could be used.
const MAX_TRIES: u32 = 1000;

/// The vCPU's large state, initialised in place (a kernel stack has no
/// room for it).
struct Maps {
    /// L0's own MSR intercepts.
    l0: MsrMap,
    /// The MSR map the CPU uses while L2 runs: L0's and L1's merged at
    /// the last VMRUN that merged them.
    merged: MsrMap,
    /// The copy of VMCB12 taken by the last VMRUN.
    copy: Vmcb12,
}

/// A map intercepting every access, in place.
fn intercept_all() -> impl Init<MsrMap> {
    init!(MsrMap {
        words <- init_array_from_fn::<_, MSRPM_WORDS, _, Infallible>(|_| u32::MAX),
        open <- init::zeroed(),
    })
}

/// L2, while the vCPU is in guest mode.
#[derive(Clone, Copy)]
struct L2 {
    /// VMCB12's guest frame.
    gfn: u64,
    /// Whether VMCB12 is reached through the vCPU's pfn cache.
    cached: bool,
}

/// One nested SVM vCPU.
pub(crate) struct SvmVcpu {
    /// The guest CPU model.
    model: CpuModel,
    /// L1's state.
    l1: L1State,
    /// The vCPU's id, for the tracepoints.
    id: u32,
    /// Which pfn cache view is this vCPU's.
    cache: usize,
    /// In guest mode: L2.
    l2: Option<L2>,
    maps: KBox<Maps>,
}

/// How VMCB12 is reached for one call: mapped for the call (and unmapped,
/// marked dirty, at its end), or through the vCPU's pfn cache.
enum Vmcb12Map<'a> {
    /// `kvm_vcpu_map()`.
    Map {
        slot: &'a Memslot,
        gfn: u64,
        page: Option<GuestPage<'a>>,
    },
    /// The pfn cache: each access checks it, refreshing if need be.
    Cache(CacheAccess<'a>),
}

impl<'a> Vmcb12Map<'a> {
    /// Reaches frame `gfn` of `slot`, through pfn cache `cache` if
    /// `cached`.
    fn new(slot: &'a Memslot, gfn: u64, cached: bool, cache: usize) -> Result<Self> {
        // VMCB12 is written back at #VMEXIT: like kvm_vcpu_map(), which
        // always maps for writing, refuse a read-only slot either way.
        if slot.data().desc().readonly {
            return Err(EPERM);
        }
        if cached {
            return Ok(Vmcb12Map::Cache(CacheAccess {
                slot,
                cache,
                gfn,
                off: 0,
            }));
        }
        let page = GuestPage::map(slot, gfn, true)?;
        Ok(Vmcb12Map::Map {
            slot,
            gfn,
            page: Some(page),
        })
    }

    /// Performs `acc` at `off`.  A mapping of PFN-only memory that an
    /// invalidation undid is made again, as often as it takes.
    fn access(&mut self, off: usize, acc: &mut Access<'_>) -> Result {
        match self {
            Vmcb12Map::Cache(c) => {
                c.off = off;
                let mut walk = [CpuPte::default(); 1];
                // Through a write view even to read: VMCB12 is written
                // back, and a page the process cannot write must fail
                // here, as kvm_vcpu_map() fails, not at #VMEXIT.
                c.run_as(acc, &mut walk, true)?;
                Ok(())
            }
            Vmcb12Map::Map { slot, gfn, page } => {
                for _ in 0..MAX_TRIES {
                    let mapped = match page {
                        Some(p) => p,
                        None => page.insert(GuestPage::map(slot, *gfn, true)?),
                    };
                    if mapped.access(off, acc)?.is_some() {
                        return Ok(());
                    }
                    // Nothing was written through the stale mapping.
                    if let Some(p) = page.take() {
                        p.unmap(false);
                    }
                    if kernel::current!().signal_pending() {
                        return Err(EINTR);
                    }
                }
                Err(EAGAIN)
            }
        }
    }

    /// Writes `val` at `off`.
    fn write(&mut self, off: usize, val: &[u8]) -> Result {
        self.access(off, &mut Access::Write(val))
    }

    /// Ends the call's use of VMCB12: `kvm_vcpu_unmap(map, true)`.  The
    /// page is marked dirty where it may be (never the zero page, a
    /// `PG_reserved` page or ZONE_DEVICE memory); a bare pfn's flags are
    /// its owner's.
    fn finish(self) {
        if let Vmcb12Map::Map { page: Some(p), .. } = self {
            p.unmap(true);
        }
    }
}

impl SvmVcpu {
    /// vCPU `id` of CPU `model`, using pfn cache view `cache`: L1's state
    /// all zero, L0 intercepting every MSR.
    pub(crate) fn new(id: u32, model: CpuModel, cache: usize) -> Result<SvmVcpu> {
        let maps = KBox::init(
            init!(Maps {
                l0 <- intercept_all(),
                merged <- intercept_all(),
                copy <- init!(Vmcb12 {
                    bytes <- init::zeroed(),
                }),
            }),
            GFP_KERNEL,
        )?;
        Ok(SvmVcpu {
            model,
            l1: L1State::default(),
            id,
            cache,
            l2: None,
            maps,
        })
    }

    /// Sets L1's state; `EINVAL` for a state L1 could not be in, `EBUSY`
    /// in guest mode.
    pub(crate) fn set_l1(&mut self, l1: L1State) -> Result {
        if self.l2.is_some() {
            return Err(EBUSY);
        }
        l1.validate(&self.model).map_err(|e| {
            pr_debug!("GUESTMAP_SVM_SET_L1 refused: {:?}\n", e);
            EINVAL
        })?;
        self.l1 = l1;
        Ok(())
    }

    /// Sets L0's own interception of `msr`, in one of the map's ranges;
    /// `EBUSY` in guest mode, where the map L2 runs on is fixed.
    pub(crate) fn set_l0_msr(&mut self, msr: u32, read: bool, write: bool) -> Result {
        if self.l2.is_some() {
            return Err(EBUSY);
        }
        self.maps.l0.set(msr, read, write).ok_or(EINVAL)
    }

    /// VMRUN with VMCB12 at frame `req.gfn`.
    pub(crate) fn vmrun(&mut self, slots: &SlotTable, req: &VmrunReq) -> Result<Verdict> {
        let ret = self.try_vmrun(slots, req);
        let ((result, vector, check), errno) = match ret {
            Ok(verdict) => (verdict.to_uapi(), 0),
            Err(e) => ((0, 0, 0), e.to_errno()),
        };
        trace::svm_vmrun(self.id, req.gfn << PAGE_SHIFT, result, vector, check, errno);
        ret
    }

    fn try_vmrun(&mut self, slots: &SlotTable, req: &VmrunReq) -> Result<Verdict> {
        if self.l2.is_some() {
            return Err(EBUSY);
        }
        if let Err(verdict) = checks::check_permissions(&self.l1) {
            return Ok(verdict);
        }
        let slot = slots.find(GfnRange {
            start: req.gfn,
            end: req.gfn + 1,
        })?;
        let mut vmcb = Vmcb12Map::new(slot, req.gfn, req.cached, self.cache)?;
        let ret = self.enter(slots, &mut vmcb, req);
        vmcb.finish();
        ret
    }

    fn enter(
        &mut self,
        slots: &SlotTable,
        vmcb: &mut Vmcb12Map<'_>,
        req: &VmrunReq,
    ) -> Result<Verdict> {
        // The copy is what every check and the merge read: L1 changing
        // VMCB12 from now on changes nothing.
        vmcb.access(0, &mut Access::Read(self.maps.copy.bytes_mut()))?;
        let maps = &mut *self.maps;
        let mut verdict = match checks::check_vmcb12(&maps.copy, &self.model) {
            Ok(()) => Verdict::Enter,
            Err(check) => Verdict::Invalid(check),
        };
        // nested_vmcb02_prepare_control() gives L2 L0's own map for L1;
        // nested_svm_vmrun_msrpm() replaces it with the merged one only if
        // L1 intercepts MSRs at all.
        if verdict == Verdict::Enter && !maps.copy.intercepts(Intercept::MSR_PROT) {
            maps.merged.copy_from(&maps.l0);
        } else if verdict == Verdict::Enter {
            let base = maps.copy.msrpm_base();
            let mut words = 0u32;
            let merged = maps.merged.merge(&maps.l0, |word| {
                words += 1;
                mem::read_u32(slots, base + 4 * word as u64)
            });
            trace::svm_msrpm_merge(
                self.id,
                base,
                words,
                if merged.is_err() {
                    EFAULT.to_errno()
                } else {
                    0
                },
            );
            if merged.is_err() {
                verdict = Verdict::Invalid(Check::MsrpmRead);
            }
        }
        match verdict {
            Verdict::Enter => {
                load_l2_state(&mut maps.copy);
                self.l2 = Some(L2 {
                    gfn: req.gfn,
                    cached: req.cached,
                });
            }
            // The VMRUN "exits" with VMEXIT_INVALID, written into VMCB12
            // as nested_svm_vmrun() writes it.
            Verdict::Invalid(_) => {
                vmcb.write(control::EXIT_CODE, &vmcb::VMEXIT_INVALID.to_le_bytes())?;
                vmcb.write(control::EXIT_INFO_1, &0u64.to_le_bytes())?;
                vmcb.write(control::EXIT_INFO_2, &0u64.to_le_bytes())?;
                vmcb.write(control::EVENT_INJ, &0u64.to_le_bytes())?;
            }
            Verdict::Exception { .. } => {}
        }
        Ok(verdict)
    }

    /// Whether an access by L2 exits to L0 and is reflected to L1:
    /// `GUESTMAP_SVM_EXIT_*` bits.  `EINVAL` outside guest mode.
    pub(crate) fn intercept(&self, slots: &SlotTable, access: L2Access) -> Result<u32> {
        if self.l2.is_none() {
            return Err(EINVAL);
        }
        let copy = &self.maps.copy;
        let (l0, l1) = match access {
            // nested_svm_exit_handled_msr(): the map's base from the copy,
            // its bits from guest memory now; an MSR in no range or a map
            // that cannot be read exits to L1.
            L2Access::Msr { msr, write } => {
                let l1 = copy.intercepts(Intercept::MSR_PROT)
                    && msr_bits(msr).map_or(true, |bits| {
                        mem::read_u32(slots, copy.msrpm_base() + 4 * bits.word as u64)
                            .map_or(true, |w| w & bits.mask(write) != 0)
                    });
                (self.maps.merged.intercepts(msr, write), l1)
            }
            // nested_svm_intercept_ioio(); L0 itself intercepts every
            // port while L2 runs.
            L2Access::Io { port, size } => {
                let l1 = copy.intercepts(Intercept::IOIO_PROT)
                    && io_bits(port, size).map_or(true, |bits| {
                        let mut b = [0u8; 2];
                        let buf = &mut b[..bits.len];
                        mem::read(slots, copy.iopm_base() + bits.offset, buf).is_err()
                            || u16::from_le_bytes(b) & bits.mask != 0
                    });
                (true, l1)
            }
        };
        let mut exits = 0;
        if l0 {
            exits |= uapi::GUESTMAP_SVM_EXIT_L0;
            if l1 {
                exits |= uapi::GUESTMAP_SVM_EXIT_L1;
            }
        }
        Ok(exits)
    }

    /// #VMEXIT to L1 with `req`'s exit information, as nested_svm_vmexit()
    /// writes it.  If VMCB12 cannot be reached the vCPU stays in guest
    /// mode, as KVM's does.
    pub(crate) fn vmexit(&mut self, slots: &SlotTable, req: &VmexitReq) -> Result {
        let ret = self.try_vmexit(slots, req);
        // Outside guest mode there is no VMCB12: gpa 0.
        let gpa = self.l2.map_or(0, |l2| l2.gfn << PAGE_SHIFT);
        let cached = self.l2.is_some_and(|l2| l2.cached);
        let errno = ret.err().map_or(0, |e| e.to_errno());
        trace::svm_vmexit(self.id, gpa, req.code, cached, errno);
        if ret.is_ok() {
            self.l2 = None;
        }
        ret
    }

    fn try_vmexit(&self, slots: &SlotTable, req: &VmexitReq) -> Result {
        let l2 = self.l2.ok_or(EINVAL)?;
        let slot = slots.find(GfnRange {
            start: l2.gfn,
            end: l2.gfn + 1,
        })?;
        let mut vmcb = Vmcb12Map::new(slot, l2.gfn, l2.cached, self.cache)?;
        let ret = self.write_exit(&mut vmcb, req);
        vmcb.finish();
        ret
    }

    fn write_exit(&self, vmcb: &mut Vmcb12Map<'_>, req: &VmexitReq) -> Result {
        let copy = &self.maps.copy;
        // L2's state: nothing here runs L2, so it is what VMRUN loaded.
        for (off, len) in save::VMEXIT_WRITES {
            vmcb.write(off, copy.bytes().get(off..off + len).ok_or(EINVAL)?)?;
        }
        // KVM gives back the int_ctl of its copy, as L1 wrote it.
        vmcb.write(control::INT_CTL, &copy.u32(control::INT_CTL).to_le_bytes())?;
        vmcb.write(control::EXIT_CODE, &req.code.to_le_bytes())?;
        vmcb.write(control::EXIT_INFO_1, &req.info_1.to_le_bytes())?;
        vmcb.write(control::EXIT_INFO_2, &req.info_2.to_le_bytes())?;
        vmcb.write(control::EXIT_INT_INFO, &req.int_info.to_le_bytes())?;
        vmcb.write(control::EVENT_INJ, &0u64.to_le_bytes())
    }
}

/// Makes the copy's save area L2's state as KVM loads it
/// (nested_vmcb02_prepare_save()), which #VMEXIT writes back: RFLAGS with
/// its fixed bit 1, EFER.LMA only with EFER.LME and CR0.PG (KVM clears it
/// without LME, and svm_set_cr0() clears it going from L1's paging to an
/// L2 without), DR7 with its fixed bit 10, DR6 with its active-low bits
/// set.
fn load_l2_state(copy: &mut Vmcb12) {
    const RFLAGS_FIXED: u64 = 1 << 1;
    const DR7_FIXED_1: u64 = 0x400;
    const DR6_ACTIVE_LOW: u64 = 0xffff_0ff0;
    copy.set_u64(save::RFLAGS, copy.u64(save::RFLAGS) | RFLAGS_FIXED);
    let efer = copy.u64(save::EFER);
    if efer & efer::LME == 0 || copy.u64(save::CR0) & cr0::PG == 0 {
        copy.set_u64(save::EFER, efer & !efer::LMA);
    }
    copy.set_u64(save::DR7, copy.u64(save::DR7) | DR7_FIXED_1);
    copy.set_u64(save::DR6, copy.u64(save::DR6) | DR6_ACTIVE_LOW);
}

/// The CPU model of a guest with CPUID `entries` on this host; `EINVAL`
/// for one KVM would not run.
pub(crate) fn model(entries: &[uapi::guestmap_cpuid_entry], l0_npt: bool) -> Result<CpuModel> {
    let model =
        CpuModel::new(entries, Features(crate::sys::cpu::host_features())).map_err(|e| {
            pr_debug!("GUESTMAP_SVM_CREATE_VCPU refused: {:?}\n", e);
            EINVAL
        })?;
    Ok(model.with_l0_npt(l0_npt))
}
