// SPDX-License-Identifier: GPL-2.0

//! The ioctl ABI of `/dev/guestmap`, decoded: the commands, and every
//! argument structure checked and turned into a typed request.  All the
//! rules an argument alone must follow are here; what needs the context
//! (is there a slot, may it be written) is the command's own business.
//!
//! Pure logic over the UAPI: it uses only `core` and [`crate::uapi`], so
//! the host crate in `rust/host` unit-tests it with `cargo test`.

use crate::{
    pte::{GfnRange, PAGE_SHIFT},
    slots, uapi,
};

/// The API version this module implements.
pub(crate) const API_VERSION: u32 = uapi::GUESTMAP_API_VERSION;

/// A command of the ioctl ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// `GUESTMAP_GET_API_VERSION`.
    GetApiVersion,
    /// `GUESTMAP_SET_MEMSLOT`.
    SetMemslot,
    /// `GUESTMAP_MIRROR_FAULT`.
    MirrorFault,
    /// `GUESTMAP_GET_STATS`.
    GetStats,
    /// `GUESTMAP_QUERY`.
    Query,
    /// `GUESTMAP_READ_GUEST`.
    ReadGuest,
    /// `GUESTMAP_WRITE_GUEST`.
    WriteGuest,
    /// `GUESTMAP_CLASSIFY`.
    Classify,
    /// `GUESTMAP_ACCESS`.
    Access,
    /// `GUESTMAP_BENCH`, of the test build only.
    Bench,
    /// `GUESTMAP_SVM_CREATE_VCPU`.
    SvmCreateVcpu,
    /// `GUESTMAP_SVM_SET_L1`.
    SvmSetL1,
    /// `GUESTMAP_SVM_SET_L0_MSR`.
    SvmSetL0Msr,
    /// `GUESTMAP_SVM_VMRUN`.
    SvmVmrun,
    /// `GUESTMAP_SVM_INTERCEPT`.
    SvmIntercept,
    /// `GUESTMAP_SVM_VMEXIT`.
    SvmVmexit,
    /// `GUESTMAP_VMX_CREATE_VCPU`.
    VmxCreateVcpu,
    /// `GUESTMAP_VMX_SET_L1`.
    VmxSetL1,
    /// `GUESTMAP_VMX_INSN`.
    VmxInsn,
    /// `GUESTMAP_VMX_OP`.
    VmxOp,
    /// `GUESTMAP_WALK`.
    Walk,
}

impl Command {
    /// Decodes an ioctl number, or `None` if the number is not ours.
    ///
    /// The whole number must match, not just its `nr` field: the same `nr`
    /// with another size or direction is a command of an older or newer ABI
    /// that this module does not implement, and must fail with `ENOTTY`
    /// rather than be misread.
    pub(crate) fn decode(cmd: u32) -> Option<Self> {
        match cmd {
            uapi::GUESTMAP_GET_API_VERSION => Some(Self::GetApiVersion),
            uapi::GUESTMAP_SET_MEMSLOT => Some(Self::SetMemslot),
            uapi::GUESTMAP_MIRROR_FAULT => Some(Self::MirrorFault),
            uapi::GUESTMAP_GET_STATS => Some(Self::GetStats),
            uapi::GUESTMAP_QUERY => Some(Self::Query),
            uapi::GUESTMAP_READ_GUEST => Some(Self::ReadGuest),
            uapi::GUESTMAP_WRITE_GUEST => Some(Self::WriteGuest),
            uapi::GUESTMAP_CLASSIFY => Some(Self::Classify),
            uapi::GUESTMAP_ACCESS => Some(Self::Access),
            uapi::GUESTMAP_BENCH => Some(Self::Bench),
            uapi::GUESTMAP_SVM_CREATE_VCPU => Some(Self::SvmCreateVcpu),
            uapi::GUESTMAP_SVM_SET_L1 => Some(Self::SvmSetL1),
            uapi::GUESTMAP_SVM_SET_L0_MSR => Some(Self::SvmSetL0Msr),
            uapi::GUESTMAP_SVM_VMRUN => Some(Self::SvmVmrun),
            uapi::GUESTMAP_SVM_INTERCEPT => Some(Self::SvmIntercept),
            uapi::GUESTMAP_SVM_VMEXIT => Some(Self::SvmVmexit),
            uapi::GUESTMAP_VMX_CREATE_VCPU => Some(Self::VmxCreateVcpu),
            uapi::GUESTMAP_VMX_SET_L1 => Some(Self::VmxSetL1),
            uapi::GUESTMAP_VMX_INSN => Some(Self::VmxInsn),
            uapi::GUESTMAP_VMX_OP => Some(Self::VmxOp),
            uapi::GUESTMAP_WALK => Some(Self::Walk),
            _ => None,
        }
    }
}

/// What `GUESTMAP_GET_API_VERSION` reports on a host with `page_size`.
pub(crate) fn api_version(page_size: u32) -> uapi::guestmap_api_version {
    uapi::guestmap_api_version {
        version: API_VERSION,
        page_size,
        caps: (uapi::GUESTMAP_CAP_MIRROR
            | uapi::GUESTMAP_CAP_MAP
            | uapi::GUESTMAP_CAP_NESTED_SVM
            | uapi::GUESTMAP_CAP_NESTED_VMX
            | uapi::GUESTMAP_CAP_WALK
            | uapi::GUESTMAP_CAP_HUGE) as u64,
    }
}

/// Why an argument is refused: `EINVAL` at the ioctl boundary, with what
/// was wrong for the debug log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Invalid(pub(crate) &'static str);

/// `GUESTMAP_MIRROR_FAULT`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FaultReq {
    /// The guest frames to fault in.
    pub(crate) gfns: GfnRange,
    /// Whether for writing.
    pub(crate) write: bool,
}

/// Checks a `GUESTMAP_MIRROR_FAULT` argument.
pub(crate) fn fault(req: &uapi::guestmap_fault) -> Result<FaultReq, Invalid> {
    if req.flags & !uapi::GUESTMAP_FAULT_WRITE != 0 || req.pad != 0 {
        return Err(Invalid("unknown fault flags or pad"));
    }
    let gfns = slots::aligned_gfns(req.gpa, req.size).ok_or(Invalid("fault range"))?;
    Ok(FaultReq {
        gfns,
        write: req.flags & uapi::GUESTMAP_FAULT_WRITE != 0,
    })
}

/// `GUESTMAP_QUERY`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct QueryReq {
    /// The guest frames asked about.
    pub(crate) gfns: GfnRange,
    /// Where their entries go in user space, 8 bytes each.
    pub(crate) entries: u64,
}

/// Checks a `GUESTMAP_QUERY` argument.
pub(crate) fn query(req: &uapi::guestmap_query) -> Result<QueryReq, Invalid> {
    if req.npages > u64::from(uapi::GUESTMAP_QUERY_MAX) {
        return Err(Invalid("more than GUESTMAP_QUERY_MAX pages"));
    }
    let gfns =
        slots::aligned_gfns(req.gpa, req.npages << PAGE_SHIFT).ok_or(Invalid("query range"))?;
    Ok(QueryReq {
        gfns,
        entries: req.entries,
    })
}

/// `GUESTMAP_READ_GUEST` and `GUESTMAP_WRITE_GUEST`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RwReq {
    /// First guest physical address.
    pub(crate) gpa: u64,
    /// Bytes, at most `GUESTMAP_RW_MAX`.
    pub(crate) len: u64,
    /// The user buffer.
    pub(crate) buf: u64,
    /// The guest frames the bytes touch.
    pub(crate) gfns: GfnRange,
    /// Whether the guest is written.
    pub(crate) write: bool,
}

/// Checks a `GUESTMAP_READ_GUEST` (`write` false) or
/// `GUESTMAP_WRITE_GUEST` argument.
pub(crate) fn rw(req: &uapi::guestmap_rw, write: bool) -> Result<RwReq, Invalid> {
    let gfns = slots::rw_gfns(req.gpa, req.len).ok_or(Invalid("guest range"))?;
    Ok(RwReq {
        gpa: req.gpa,
        len: req.len,
        buf: req.buf,
        gfns,
        write,
    })
}

/// What a `GUESTMAP_ACCESS` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessOp {
    /// `GUESTMAP_ACCESS_READ`/`_WRITE`: a copy through the user mapping.
    Copy {
        /// Whether the guest is written.
        write: bool,
    },
    /// `GUESTMAP_ACCESS_MAP_READ`/`_WRITE`: through a `kvm_vcpu_map()`-
    /// style mapping of the page.
    Map {
        /// Whether the guest is written.
        write: bool,
    },
    /// `GUESTMAP_ACCESS_CMPXCHG` of the aligned u64 at the address.
    Cmpxchg {
        /// The value expected.
        old: u64,
        /// The value to store.
        new: u64,
    },
    /// `GUESTMAP_ACCESS_CACHE_READ`/`_WRITE` through a pfn cache.
    Cache {
        /// Which, below `GUESTMAP_NR_CACHES`.
        cache: usize,
        /// Whether the guest is written.
        write: bool,
    },
}

/// `GUESTMAP_ACCESS`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AccessReq {
    /// What to do.
    pub(crate) op: AccessOp,
    /// First guest physical address.
    pub(crate) gpa: u64,
    /// Bytes.
    pub(crate) len: usize,
    /// The offset of `gpa` in its page.
    pub(crate) off: usize,
    /// The user buffer (not used by `Cmpxchg`).
    pub(crate) buf: u64,
    /// The guest frames the bytes touch: one for every op but `Copy`.
    pub(crate) gfns: GfnRange,
    /// `GUESTMAP_ACCESS_DIRTY`: mark the page dirty when unmapping.
    pub(crate) dirty: bool,
}

/// The guest frames a `GUESTMAP_ACCESS` touches, checked first: the
/// command looks its slot up before it checks the rest ([`access`]).
pub(crate) fn access_range(req: &uapi::guestmap_access) -> Result<GfnRange, Invalid> {
    slots::rw_gfns(req.gpa, req.len).ok_or(Invalid("guest range"))
}

/// Checks a `GUESTMAP_ACCESS` argument.
pub(crate) fn access(req: &uapi::guestmap_access) -> Result<AccessReq, Invalid> {
    let gfns = access_range(req)?;
    if req.flags & !uapi::GUESTMAP_ACCESS_DIRTY != 0 {
        return Err(Invalid("unknown access flags"));
    }
    let len = req.len as usize;
    let off = (req.gpa & ((1 << PAGE_SHIFT) - 1)) as usize;
    let one_page = gfns.end - gfns.start == 1;
    let op = match req.op {
        uapi::GUESTMAP_ACCESS_READ => AccessOp::Copy { write: false },
        uapi::GUESTMAP_ACCESS_WRITE => AccessOp::Copy { write: true },
        uapi::GUESTMAP_ACCESS_MAP_READ => AccessOp::Map { write: false },
        uapi::GUESTMAP_ACCESS_MAP_WRITE => AccessOp::Map { write: true },
        uapi::GUESTMAP_ACCESS_CMPXCHG => AccessOp::Cmpxchg {
            old: req.old,
            new: req.new,
        },
        uapi::GUESTMAP_ACCESS_CACHE_READ | uapi::GUESTMAP_ACCESS_CACHE_WRITE => AccessOp::Cache {
            cache: req.cache as usize,
            write: req.op == uapi::GUESTMAP_ACCESS_CACHE_WRITE,
        },
        _ => return Err(Invalid("unknown access op")),
    };
    match op {
        AccessOp::Copy { .. } => {}
        _ if !one_page => return Err(Invalid("access crosses a page")),
        AccessOp::Cmpxchg { .. } if len != 8 || off % 8 != 0 => {
            return Err(Invalid("cmpxchg of other than an aligned u64"))
        }
        AccessOp::Cache { cache, .. } if cache >= uapi::GUESTMAP_NR_CACHES as usize => {
            return Err(Invalid("no such pfn cache"))
        }
        _ => {}
    }
    Ok(AccessReq {
        op,
        gpa: req.gpa,
        len,
        off,
        buf: req.buf,
        gfns,
        dirty: req.flags & uapi::GUESTMAP_ACCESS_DIRTY != 0,
    })
}
