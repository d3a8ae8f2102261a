// SPDX-License-Identifier: GPL-2.0

//! `GUESTMAP_BENCH`, of the test build only (`GM_TEST_OPS=1`): an access
//! timed in a loop in the kernel, so that `make bench` can set the mapping
//! API against KVM's `kvm_vcpu_map()` without a syscall per iteration.
//! A production build has no such command: it is `ENOTTY` there.
//!
//! `GUESTMAP_BENCH_NESTED_SVM` times a nested SVM vCPU's entry and exit
//! (`src/nested/svm/vcpu.rs`), VMRUN then #VMEXIT, each mapping VMCB12
//! per call or reaching it through the vCPU's pfn cache, as KVM's nested
//! SVM does with `kvm_vcpu_map()` on every entry and exit.
//!
//! `GUESTMAP_BENCH_NESTED_VMX` times a nested VMX vCPU's entry and exit
//! (`src/nested/vmx/vcpu.rs`), VMRESUME then VM exit: each entry attaches
//! the APIC-access page, the virtual-APIC page and the posted-interrupt
//! descriptor, held (mapped per entry) or cached as the vCPU was created,
//! and merges L1's MSR bitmap (mapped for the merge when held, read
//! through the pfn cache when cached); each exit writes vmcs12 back and
//! detaches them.  6.12's nested VMX maps them all with `kvm_vcpu_map()`
//! per entry.
//!
//! `GUESTMAP_BENCH_WALK` times the guest page-table walk of
//! `GUESTMAP_WALK` (`src/nested/walk/`): each level mapped for its read,
//! or read through the walk cache.

use crate::{
    abi::Invalid,
    ext::task,
    guest::GuestPage,
    memslot::Memslot,
    nested::svm::{
        abi::{self as svm_abi, VmexitReq, VmrunReq},
        checks::Verdict,
        vcpu::SvmVcpu,
    },
    nested::vmx::{
        abi::{self as vmx_abi, Op},
        insn::{Insn, Outcome},
        vcpu::VmxVcpu,
    },
    nested::walk::{self, paging::WalkReq},
    pfncache::{CacheAccess, NR_CACHES},
    pte::GfnRange,
    slot_table::SlotTable,
    slots,
    sys::{frame::Access, walk::CpuPte},
    uapi,
};
use kernel::{page::PAGE_SIZE, prelude::*};

/// Most iterations of one call.
const MAX_ITERATIONS: u64 = 1 << 24;

/// What to time.
pub(crate) enum BenchOp {
    /// Map, read 8 bytes, unmap.
    MapRead,
    /// Read 8 bytes through pfn cache `.0`.
    CacheRead(usize),
}

/// `GUESTMAP_BENCH`, checked.
pub(crate) struct BenchReq {
    /// What to time.
    pub(crate) op: BenchOp,
    /// The page, one guest frame.
    pub(crate) gfns: GfnRange,
    /// The offset of the 8 bytes in it.
    pub(crate) off: usize,
    /// How many times.
    pub(crate) iterations: u64,
}

/// The iteration count and the guest frame of a `GUESTMAP_BENCH`,
/// checked before its slot is looked up; [`decode`] checks the rest.
pub(crate) fn decode_range(req: &uapi::guestmap_bench) -> Result<GfnRange, Invalid> {
    if req.iterations == 0 || req.iterations > MAX_ITERATIONS {
        return Err(Invalid("bench iterations"));
    }
    let gfns = slots::byte_gfns(req.gpa, 8).ok_or(Invalid("bench range"))?;
    if gfns.end - gfns.start != 1 {
        return Err(Invalid("bench crosses a page"));
    }
    Ok(gfns)
}

/// Checks a `GUESTMAP_BENCH` argument.
pub(crate) fn decode(req: &uapi::guestmap_bench) -> Result<BenchReq, Invalid> {
    let gfns = decode_range(req)?;
    if req.flags != 0 || req.pad != 0 {
        return Err(Invalid("bench flags or pad"));
    }
    let op = match req.op {
        uapi::GUESTMAP_ACCESS_MAP_READ => BenchOp::MapRead,
        uapi::GUESTMAP_ACCESS_CACHE_READ if (req.cache as usize) < NR_CACHES => {
            BenchOp::CacheRead(req.cache as usize)
        }
        _ => return Err(Invalid("bench op")),
    };
    Ok(BenchReq {
        op,
        gfns,
        off: (req.gpa as usize) & (PAGE_SIZE - 1),
        iterations: req.iterations,
    })
}

/// `GUESTMAP_BENCH_NESTED_SVM`, checked.
pub(crate) struct NestedReq {
    /// The VMRUN of each iteration.
    pub(crate) run: VmrunReq,
    /// How many entries and exits.
    pub(crate) iterations: u64,
}

/// Whether `req` asks for a nested entry and exit, which
/// [`decode_nested`] checks and [`run_nested`] runs.
pub(crate) fn is_nested(req: &uapi::guestmap_bench) -> bool {
    req.op == uapi::GUESTMAP_BENCH_NESTED_SVM
}

/// Checks a `GUESTMAP_BENCH_NESTED_SVM` argument: the iterations, then
/// what `GUESTMAP_SVM_VMRUN` would check of the vCPU id, VMCB12's gpa
/// and the flags.
pub(crate) fn decode_nested(req: &uapi::guestmap_bench) -> Result<NestedReq, Invalid> {
    if req.iterations == 0 || req.iterations > MAX_ITERATIONS {
        return Err(Invalid("bench iterations"));
    }
    let run = svm_abi::vmrun(&uapi::guestmap_svm_vmrun {
        vcpu: req.cache,
        flags: req.flags,
        vmcb12_gpa: req.gpa,
        pad: req.pad,
        ..Default::default()
    })?;
    Ok(NestedReq {
        run,
        iterations: req.iterations,
    })
}

/// SVM_EXIT_VMMCALL: the exit each iteration writes back.
const EXIT_VMMCALL: u64 = 0x81;

/// Runs `req` on `vcpu`, vCPU `req.run.id` of the context whose memslots
/// are `slots`: VMRUN, which must enter the guest, then #VMEXIT, as often
/// as asked.  The time it took, in nanoseconds.  `EINVAL` if a VMRUN does
/// not enter; the vCPU is back in L1 unless an error ended the loop
/// between the two.
pub(crate) fn run_nested(slots: &SlotTable, vcpu: &mut SvmVcpu, req: &NestedReq) -> Result<u64> {
    let exit = VmexitReq {
        id: req.run.id,
        code: EXIT_VMMCALL,
        info_1: 0,
        info_2: 0,
        int_info: 0,
    };
    let start = task::ktime_ns();
    for n in 0..req.iterations {
        if n % 1024 == 1023 {
            if kernel::current!().signal_pending() {
                return Err(EINTR);
            }
            task::cond_resched();
        }
        if vcpu.vmrun(slots, &req.run)? != Verdict::Enter {
            return Err(EINVAL);
        }
        vcpu.vmexit(slots, &exit)?;
    }
    Ok(task::ktime_ns() - start)
}

/// `GUESTMAP_BENCH_NESTED_VMX`, checked.
pub(crate) struct NestedVmxReq {
    /// The vCPU.
    pub(crate) id: usize,
    /// The entry of each iteration: VMRESUME.
    insn: Insn,
    /// How many entries and exits.
    pub(crate) iterations: u64,
}

/// Whether `req` asks for a nested VMX entry and exit, which
/// [`decode_nested_vmx`] checks and [`run_nested_vmx`] runs.
pub(crate) fn is_nested_vmx(req: &uapi::guestmap_bench) -> bool {
    req.op == uapi::GUESTMAP_BENCH_NESTED_VMX
}

/// Checks a `GUESTMAP_BENCH_NESTED_VMX` argument: the iterations, no gpa
/// or flags, then what `GUESTMAP_VMX_INSN` would check of the vCPU id.
pub(crate) fn decode_nested_vmx(req: &uapi::guestmap_bench) -> Result<NestedVmxReq, Invalid> {
    if req.iterations == 0 || req.iterations > MAX_ITERATIONS {
        return Err(Invalid("bench iterations"));
    }
    if req.gpa != 0 || req.flags != 0 {
        return Err(Invalid("bench gpa or flags"));
    }
    let (id, insn) = vmx_abi::insn(&uapi::guestmap_vmx_insn {
        vcpu: req.cache,
        insn: uapi::GUESTMAP_VMX_VMRESUME,
        pad: req.pad,
        ..Default::default()
    })?;
    Ok(NestedVmxReq {
        id,
        insn,
        iterations: req.iterations,
    })
}

/// EXIT_REASON_VMCALL: the exit each VMX iteration writes back.
const EXIT_REASON_VMCALL: u32 = 18;

/// Runs `req` on `vcpu`, VMX vCPU `req.id` of the context whose memslots
/// are `slots`: VMRESUME, which must enter L2, then VM exit, as often as
/// asked.  The time it took, in nanoseconds.  `EINVAL` if an entry does
/// not enter; the vCPU is back in L1 whenever this returns.
pub(crate) fn run_nested_vmx(
    slots: &SlotTable,
    vcpu: &mut VmxVcpu,
    req: &NestedVmxReq,
) -> Result<u64> {
    let exit = Op::Vmexit {
        reason: EXIT_REASON_VMCALL,
        qual: 0,
    };
    let start = task::ktime_ns();
    for n in 0..req.iterations {
        if n % 1024 == 1023 {
            if kernel::current!().signal_pending() {
                return Err(EINTR);
            }
            task::cond_resched();
        }
        if vcpu.execute(slots, req.insn)?.0 != Outcome::Entered {
            return Err(EINVAL);
        }
        vcpu.op(slots, exit)?;
    }
    Ok(task::ktime_ns() - start)
}

/// Whether `req` asks for guest page-table walks: [`decode_walk`]
/// checks it, and [`run_walk`] runs the walk read from user space.
pub(crate) fn is_walk(req: &uapi::guestmap_bench) -> bool {
    req.op == uapi::GUESTMAP_BENCH_WALK
}

/// Checks a `GUESTMAP_BENCH_WALK` argument: the iterations, and nothing
/// in the fields the walk does not use.  The user address of the walk.
pub(crate) fn decode_walk(req: &uapi::guestmap_bench) -> Result<u64, Invalid> {
    if req.iterations == 0 || req.iterations > MAX_ITERATIONS {
        return Err(Invalid("bench iterations"));
    }
    if req.cache != 0 || req.flags != 0 || req.pad != 0 {
        return Err(Invalid("bench cache, flags or pad"));
    }
    Ok(req.gpa)
}

/// Walks `req` `iterations` times over the tables in `slots`; the time it
/// took, in nanoseconds.  `EINVAL` if a walk faults.
pub(crate) fn run_walk(slots: &SlotTable, req: &WalkReq, iterations: u64) -> Result<u64> {
    let mut out = uapi::guestmap_walk::default();
    let start = task::ktime_ns();
    for n in 0..iterations {
        // A walk of PFN-only tables mapped per level takes milliseconds
        // under TCG: look for signals at every one.
        if kernel::current!().signal_pending() {
            return Err(EINTR);
        }
        if n % 64 == 63 {
            task::cond_resched();
        }
        walk::walk(slots, req, &mut out)?;
        if out.fault != uapi::GUESTMAP_WALK_OK {
            return Err(EINVAL);
        }
    }
    Ok(task::ktime_ns() - start)
}

/// Runs `req` on `slot`; the time it took, in nanoseconds.
pub(crate) fn run(slot: &Memslot, req: &BenchReq) -> Result<u64> {
    let mut word = [0u8; 8];
    let mut walk = [CpuPte::default(); 1];
    let start = task::ktime_ns();
    for n in 0..req.iterations {
        if n % 1024 == 1023 {
            if kernel::current!().signal_pending() {
                return Err(EINTR);
            }
            task::cond_resched();
        }
        match req.op {
            BenchOp::MapRead => {
                let mut tries = 0;
                loop {
                    let page = GuestPage::map(slot, req.gfns.start, false)?;
                    let ret = page.access(req.off, &mut Access::Read(&mut word));
                    page.unmap(false);
                    if ret?.is_some() {
                        break;
                    }
                    tries += 1;
                    if tries >= 1000 {
                        return Err(EAGAIN);
                    }
                }
            }
            BenchOp::CacheRead(cache) => {
                CacheAccess {
                    slot,
                    cache,
                    gfn: req.gfns.start,
                    off: req.off,
                }
                .run(&mut Access::Read(&mut word), &mut walk)?;
            }
        }
    }
    Ok(task::ktime_ns() - start)
}
