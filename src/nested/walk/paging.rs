// SPDX-License-Identifier: GPL-2.0

//! The paging modes a guest page-table walk knows, and their rules: which
//! bits of an entry are reserved at each level, what an entry grants, and
//! whether an access may use what the walk found.  x86-64 paging (4- and
//! 5-level, SDM Vol. 3A 4.5; also NPT's format, AMD APM Vol. 2 15.25.5)
//! and 4-level EPT (SDM Vol. 3C 29.3).
//!
//! The rules are KVM's, from which the walker is modelled:
//! `__reset_rsvds_bits_mask()` and `__reset_rsvds_bits_mask_ept()`
//! (arch/x86/kvm/mmu/mmu.c) for the reserved bits,
//! `update_permission_bitmask()` and `permission_fault()`
//! (arch/x86/kvm/mmu/mmu.c, mmu.h) for the access rights.
//!
//! Pure logic over the UAPI, host-tested.

use crate::{abi::Invalid, uapi};

/// The entry bits of x86-64 paging.
pub(crate) mod pt {
    /// Present.
    pub(crate) const PRESENT: u64 = 1 << 0;
    /// Read/write.
    pub(crate) const WRITABLE: u64 = 1 << 1;
    /// User/supervisor.
    pub(crate) const USER: u64 = 1 << 2;
    /// Accessed.
    pub(crate) const ACCESSED: u64 = 1 << 5;
    /// Dirty (leaf entries).
    pub(crate) const DIRTY: u64 = 1 << 6;
    /// Page size (PDPTE and PDE).
    pub(crate) const PAGE_SIZE: u64 = 1 << 7;
    /// Execute-disable.
    pub(crate) const NX: u64 = 1 << 63;
}

/// The entry bits of EPT.
pub(crate) mod ept {
    /// Read access.
    pub(crate) const READ: u64 = 1 << 0;
    /// Write access.
    pub(crate) const WRITE: u64 = 1 << 1;
    /// Execute access.
    pub(crate) const EXEC: u64 = 1 << 2;
    /// Read, write and execute.
    pub(crate) const RWX: u64 = READ | WRITE | EXEC;
    /// Accessed, when the EPT pointer enables A/D flags.
    pub(crate) const ACCESSED: u64 = 1 << 8;
    /// Dirty (leaf entries), when the EPT pointer enables A/D flags.
    pub(crate) const DIRTY: u64 = 1 << 9;
    /// EPT pointer: A/D flags enabled.
    pub(crate) const EPTP_AD: u64 = 1 << 6;
}

/// The bits of a #PF error code (SDM Vol. 3A 4.7).
pub(crate) mod pferr {
    /// The fault was a protection violation, not a not-present entry.
    pub(crate) const PRESENT: u64 = 1 << 0;
    /// The access was a write.
    pub(crate) const WRITE: u64 = 1 << 1;
    /// The access was a user-mode access.
    pub(crate) const USER: u64 = 1 << 2;
    /// A reserved bit was set in some entry.
    pub(crate) const RSVD: u64 = 1 << 3;
    /// The access was an instruction fetch.
    pub(crate) const FETCH: u64 = 1 << 4;
}

/// The bits of an EPT violation's exit qualification (SDM Vol. 3C
/// Table 28-7).
pub(crate) mod qual {
    /// The access was a data read.
    pub(crate) const ACC_READ: u64 = 1 << 0;
    /// The access was a data write.
    pub(crate) const ACC_WRITE: u64 = 1 << 1;
    /// The access was an instruction fetch.
    pub(crate) const ACC_INSTR: u64 = 1 << 2;
    /// Bits 5:3 are the AND of the R, W and X bits of the entries walked.
    pub(crate) const RWX_SHIFT: u32 = 3;
    /// The guest linear-address field is valid.
    pub(crate) const GVA_IS_VALID: u64 = 1 << 7;
    /// The access was the translation of a linear address, not an access
    /// to a guest paging structure.
    pub(crate) const GVA_TRANSLATED: u64 = 1 << 8;
}

const CR0_PG: u64 = 1 << 31;
const CR0_WP: u64 = 1 << 16;
const CR4_PAE: u64 = 1 << 5;
const CR4_LA57: u64 = 1 << 12;
const CR4_SMEP: u64 = 1 << 20;
const CR4_SMAP: u64 = 1 << 21;
const CR4_PKE: u64 = 1 << 22;
const CR4_PKS: u64 = 1 << 24;
const CR4_LAM_SUP: u64 = 1 << 28;
const EFER_LMA: u64 = 1 << 10;
const EFER_NXE: u64 = 1 << 11;

/// Bits `lo..=hi` set, as KVM's `rsvd_bits()`.
pub(crate) const fn bits(lo: u32, hi: u32) -> u64 {
    (u64::MAX >> (63 - hi)) & !((1u64 << lo) - 1)
}

/// The address bits of a table pointer or 4 KiB leaf: 51:12.
pub(crate) const ADDR_MASK: u64 = bits(12, 51);

/// The entries per table.
pub(crate) const ENTRIES: u64 = 512;

/// Which paging structures a walk reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// x86-64 paging; NPT.
    Long,
    /// EPT.
    Ept,
}

/// An access, as KVM's walker takes it: a #PF error code's W, U and I/D
/// bits.  For EPT, a read is an access that is neither write nor fetch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AccessKind {
    /// A data write.
    pub(crate) write: bool,
    /// A user-mode access (x86-64 paging only).
    pub(crate) user: bool,
    /// An instruction fetch.
    pub(crate) fetch: bool,
}

impl AccessKind {
    /// The #PF error code bits of the access: W, U and, where the fetch
    /// can be told apart (EFER.NXE or CR4.SMEP), I/D.
    fn pferr(&self, fetch_visible: bool) -> u64 {
        let mut code = 0;
        if self.write {
            code |= pferr::WRITE;
        }
        if self.user {
            code |= pferr::USER;
        }
        if self.fetch && fetch_visible {
            code |= pferr::FETCH;
        }
        code
    }

    /// Whether the access is an EPT data read.
    fn is_read(&self) -> bool {
        !self.write && !self.fetch
    }
}

/// What the entries of one walk grant together: each bit is the AND of
/// that bit over every entry walked so far (NX inverted into "may
/// execute"), as KVM's `pte_access`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rights(u64);

impl Rights {
    /// Before any entry: everything.
    pub(crate) const ALL: Rights = Rights(u64::MAX);

    /// The raw AND of the entries' bits (NX inverted for x86-64 paging).
    pub(crate) fn raw(self) -> u64 {
        self.0
    }
}

/// The fault of an access that a walk refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// #PF with this error code.
    Pf(u64),
    /// #GP(0): the address is not canonical.
    Gp,
    /// EPT violation with this exit qualification.
    EptViolation(u64),
    /// EPT misconfiguration.
    EptMisconfig,
}

/// A paging mode: the format and the control bits that change its rules,
/// with the reserved-bit masks they give, as KVM's `rsvd_bits_validate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mode {
    format: Format,
    /// 4 or 5.
    levels: u32,
    /// `rsvd[leaf][level - 1]`: leaf is bit 7 of the entry, as KVM
    /// indexes its `rsvd_bits_mask`.
    rsvd: [[u64; 5]; 2],
    /// EPT: the memory type and XWR combinations that are
    /// misconfigurations, one bit per value of an entry's bits 5:0.
    bad_mt_xwr: u64,
    /// EFER.NXE (x86-64 paging).
    nx: bool,
    /// CR0.WP.
    wp: bool,
    /// CR4.SMEP.
    smep: bool,
    /// CR4.SMAP.
    smap: bool,
    /// Whether the entries have A/D bits: always for x86-64 paging, when
    /// the EPT pointer enables them for EPT.
    ad: bool,
    /// The guest's physical-address width.
    maxphyaddr: u32,
    /// Whether the address walked is a linear address, which must be
    /// canonical: not for NPT, which walks an L2 guest physical address.
    linear: bool,
}

/// A checked `GUESTMAP_WALK` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WalkReq {
    /// The mode.
    pub(crate) mode: Mode,
    /// The gpa of the top-level table.
    pub(crate) root: u64,
    /// The address to translate.
    pub(crate) addr: u64,
    /// The access.
    pub(crate) access: AccessKind,
    /// Explicit supervisor accesses may use user pages under SMAP
    /// (EFLAGS.AC, not an implicit access).
    pub(crate) smap_override: bool,
    /// Whether to set A/D bits.
    pub(crate) set_ad: bool,
    /// Whether to read the tables through the walk cache.
    pub(crate) cached: bool,
}

const LONG_FLAGS: u32 = uapi::GUESTMAP_WALK_AC
    | uapi::GUESTMAP_WALK_IMPLICIT
    | uapi::GUESTMAP_WALK_NO_AD
    | uapi::GUESTMAP_WALK_CACHED
    | uapi::GUESTMAP_WALK_AMD
    | uapi::GUESTMAP_WALK_GBPAGES;
const EPT_FLAGS: u32 = uapi::GUESTMAP_WALK_NO_AD
    | uapi::GUESTMAP_WALK_CACHED
    | uapi::GUESTMAP_WALK_GBPAGES
    | uapi::GUESTMAP_WALK_EXECONLY;
const ACCESS_BITS: u32 =
    uapi::GUESTMAP_WALK_WRITE | uapi::GUESTMAP_WALK_USER | uapi::GUESTMAP_WALK_FETCH;

/// Checks a `GUESTMAP_WALK` argument: the mode's control bits, the root
/// and the address.  The output fields are ignored.
pub(crate) fn walk_req(req: &uapi::guestmap_walk) -> Result<WalkReq, Invalid> {
    if req.pad != 0 {
        return Err(Invalid("walk pad not 0"));
    }
    if !(32..=52).contains(&req.maxphyaddr) {
        return Err(Invalid("maxphyaddr outside 32..=52"));
    }
    if req.access & !ACCESS_BITS != 0 {
        return Err(Invalid("unknown walk access bits"));
    }
    let flag = |f: u32| req.flags & f != 0;
    let access = AccessKind {
        write: req.access & uapi::GUESTMAP_WALK_WRITE != 0,
        user: req.access & uapi::GUESTMAP_WALK_USER != 0,
        fetch: req.access & uapi::GUESTMAP_WALK_FETCH != 0,
    };
    if access.write && access.fetch {
        return Err(Invalid("an access is a write or a fetch, not both"));
    }
    // The address bits of a table pointer the guest can name.
    let pa = bits(12, req.maxphyaddr - 1);
    let mut access = access;
    let (mode, root) = match req.format {
        uapi::GUESTMAP_WALK_LONG | uapi::GUESTMAP_WALK_NPT => {
            let npt = req.format == uapi::GUESTMAP_WALK_NPT;
            // NPT walks are always user walks (KVM's
            // translate_nested_gpa()): SMAP's override means nothing there.
            let flags = if npt {
                LONG_FLAGS & !(uapi::GUESTMAP_WALK_AC | uapi::GUESTMAP_WALK_IMPLICIT)
            } else {
                LONG_FLAGS
            };
            if req.flags & !flags != 0 {
                return Err(Invalid("unknown flags for x86-64 paging or NPT"));
            }
            if req.cr0 & CR0_PG == 0 || req.cr4 & CR4_PAE == 0 || req.efer & EFER_LMA == 0 {
                return Err(Invalid("not long mode: CR0.PG, CR4.PAE and EFER.LMA"));
            }
            // Not modelled.  For NPT they change nothing and are L1's to
            // have: KVM's kvm_init_shadow_npt_mmu() drops PKE, PKS guards
            // supervisor pages only (an NPT walk is a user walk), and LAM
            // concerns linear addresses.
            if !npt && req.cr4 & (CR4_PKE | CR4_PKS | CR4_LAM_SUP) != 0 {
                return Err(Invalid("protection keys and LAM are not modelled"));
            }
            if npt && req.addr >> req.maxphyaddr != 0 {
                return Err(Invalid("NPT address above MAXPHYADDR"));
            }
            // MOV to CR3 refuses bits above MAXPHYADDR (and guestmap takes
            // CR3 as the guest's CR3 reads back, without bit 63).
            if req.root & !(pa | bits(0, 11)) != 0 {
                return Err(Invalid("CR3 sets bits above MAXPHYADDR"));
            }
            let mode = Mode::long(LongBits {
                la57: req.cr4 & CR4_LA57 != 0,
                nx: req.efer & EFER_NXE != 0,
                wp: req.cr0 & CR0_WP != 0,
                smep: req.cr4 & CR4_SMEP != 0,
                smap: req.cr4 & CR4_SMAP != 0,
                amd: flag(uapi::GUESTMAP_WALK_AMD),
                gbpages: flag(uapi::GUESTMAP_WALK_GBPAGES),
                maxphyaddr: req.maxphyaddr,
            });
            if npt {
                access.user = true;
                (Mode::npt(mode), req.root & pa)
            } else {
                (mode, req.root & pa)
            }
        }
        uapi::GUESTMAP_WALK_EPT => {
            if req.flags & !EPT_FLAGS != 0 {
                return Err(Invalid("unknown flags for EPT"));
            }
            if req.cr0 != 0 || req.cr4 != 0 || req.efer != 0 || access.user {
                return Err(Invalid("EPT takes no CR0, CR4, EFER or user access"));
            }
            // nested_vmx_check_eptp(): UC or WB, a 4-level walk, bits
            // 11:7 and those above MAXPHYADDR clear.
            let memtype = req.root & 7;
            if (memtype != 0 && memtype != 6)
                || (req.root >> 3) & 7 != 3
                || req.root & !(pa | bits(0, 6)) != 0
            {
                return Err(Invalid("not a valid 4-level EPT pointer"));
            }
            if req.addr >> req.maxphyaddr != 0 {
                return Err(Invalid("EPT address above MAXPHYADDR"));
            }
            let mode = Mode::ept(EptBits {
                ad: req.root & ept::EPTP_AD != 0,
                execonly: flag(uapi::GUESTMAP_WALK_EXECONLY),
                gbpages: flag(uapi::GUESTMAP_WALK_GBPAGES),
                maxphyaddr: req.maxphyaddr,
            });
            (mode, req.root & pa)
        }
        _ => return Err(Invalid("unknown walk format")),
    };
    Ok(WalkReq {
        mode,
        root,
        addr: req.addr,
        access,
        smap_override: flag(uapi::GUESTMAP_WALK_AC) && !flag(uapi::GUESTMAP_WALK_IMPLICIT),
        set_ad: !flag(uapi::GUESTMAP_WALK_NO_AD),
        cached: flag(uapi::GUESTMAP_WALK_CACHED),
    })
}

/// The control bits of x86-64 paging that [`Mode::long`] needs.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LongBits {
    /// CR4.LA57: 5-level paging.
    pub(crate) la57: bool,
    /// EFER.NXE.
    pub(crate) nx: bool,
    /// CR0.WP.
    pub(crate) wp: bool,
    /// CR4.SMEP.
    pub(crate) smep: bool,
    /// CR4.SMAP.
    pub(crate) smap: bool,
    /// An AMD CPU: bit 8 of non-leaf PML5Es and PML4Es is reserved.
    pub(crate) amd: bool,
    /// CPUID.80000001H:EDX.Page1GB.
    pub(crate) gbpages: bool,
    /// The physical-address width.
    pub(crate) maxphyaddr: u32,
}

/// The EPT pointer and capability bits that [`Mode::ept`] needs.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct EptBits {
    /// The EPT pointer's bit 6: A/D flags.
    pub(crate) ad: bool,
    /// Execute-only entries are allowed.
    pub(crate) execonly: bool,
    /// 1 GiB pages are allowed.
    pub(crate) gbpages: bool,
    /// The physical-address width.
    pub(crate) maxphyaddr: u32,
}

impl Mode {
    /// x86-64 paging, as `__reset_rsvds_bits_mask()` sets up
    /// `PT64_ROOT_4LEVEL` and `PT64_ROOT_5LEVEL`.
    pub(crate) fn long(b: LongBits) -> Mode {
        let mut high = bits(b.maxphyaddr.min(52), 63) & bits(0, 51);
        if !b.nx {
            high |= bits(63, 63);
        }
        let nonleaf_bit8 = if b.amd { bits(8, 8) } else { 0 };
        let gbpages_bit7 = if b.gbpages { 0 } else { bits(7, 7) };
        let top = high | nonleaf_bit8 | bits(7, 7);
        let mut rsvd = [[0; 5]; 2];
        rsvd[0][4] = top;
        rsvd[1][4] = top;
        rsvd[0][3] = top;
        rsvd[1][3] = top;
        rsvd[0][2] = high | gbpages_bit7;
        rsvd[1][2] = high | gbpages_bit7 | bits(13, 29);
        rsvd[0][1] = high;
        rsvd[1][1] = high | bits(13, 20);
        rsvd[0][0] = high;
        rsvd[1][0] = high;
        Mode {
            format: Format::Long,
            levels: if b.la57 { 5 } else { 4 },
            rsvd,
            bad_mt_xwr: 0,
            nx: b.nx,
            wp: b.wp,
            smep: b.smep,
            smap: b.smap,
            ad: true,
            maxphyaddr: b.maxphyaddr,
            linear: true,
        }
    }

    /// NPT: `long`'s x86-64 paging (with L1's control bits, as KVM's
    /// kvm_init_shadow_npt_mmu() takes them), walking an L2 guest
    /// physical address, which has no canonical form.
    pub(crate) fn npt(long: Mode) -> Mode {
        Mode {
            linear: false,
            ..long
        }
    }

    /// 4-level EPT, as `__reset_rsvds_bits_mask_ept()` sets it up with
    /// 2 MiB pages always allowed.
    pub(crate) fn ept(b: EptBits) -> Mode {
        let high = bits(b.maxphyaddr.min(52), 63) & bits(0, 51);
        let large_1g = if b.gbpages { 0 } else { bits(7, 7) };
        let mut rsvd = [[0; 5]; 2];
        rsvd[0][4] = high | bits(3, 7);
        rsvd[0][3] = high | bits(3, 7);
        rsvd[0][2] = high | bits(3, 6) | large_1g;
        rsvd[0][1] = high | bits(3, 6);
        rsvd[0][0] = high;
        rsvd[1][4] = rsvd[0][4];
        rsvd[1][3] = rsvd[0][3];
        rsvd[1][2] = high | bits(12, 29) | large_1g;
        rsvd[1][1] = high | bits(12, 20);
        rsvd[1][0] = rsvd[0][0];
        // Memory types 2, 3 and 7; XWR 010 and 110 (write without read);
        // XWR 100 (execute-only) unless allowed.
        let repeat = |b: u64| b * 0x0101_0101_0101_0101;
        let mut bad = (0xffu64 << 16) | (0xffu64 << 24) | (0xffu64 << 56);
        bad |= repeat(1 << 2) | repeat(1 << 6);
        if !b.execonly {
            bad |= repeat(1 << 4);
        }
        Mode {
            format: Format::Ept,
            levels: 4,
            rsvd,
            bad_mt_xwr: bad,
            nx: false,
            wp: false,
            smep: false,
            smap: false,
            ad: b.ad,
            maxphyaddr: b.maxphyaddr,
            linear: false,
        }
    }

    /// The levels of a walk: 4 or 5.
    pub(crate) fn levels(&self) -> u32 {
        self.levels
    }

    /// Whether the entries have A/D bits.
    pub(crate) fn has_ad(&self) -> bool {
        self.ad
    }

    /// The accessed bit.
    pub(crate) fn accessed(&self) -> u64 {
        match self.format {
            Format::Long => pt::ACCESSED,
            Format::Ept => ept::ACCESSED,
        }
    }

    /// The dirty bit.
    pub(crate) fn dirty(&self) -> u64 {
        match self.format {
            Format::Long => pt::DIRTY,
            Format::Ept => ept::DIRTY,
        }
    }

    /// Whether `addr` is an address the walk can translate: a canonical
    /// linear address for x86-64 paging (else #GP), any for NPT and EPT
    /// (checked against MAXPHYADDR with the request).
    pub(crate) fn is_canonical(&self, addr: u64) -> bool {
        if !self.linear {
            return true;
        }
        let va_bits = 12 + 9 * self.levels;
        let shift = 64 - va_bits;
        (((addr << shift) as i64) >> shift) as u64 == addr
    }

    /// The index of `addr` in the table of `level`.
    pub(crate) fn index(&self, addr: u64, level: u32) -> u64 {
        (addr >> (12 + 9 * (level - 1))) & (ENTRIES - 1)
    }

    /// Whether `pte` is present.
    pub(crate) fn is_present(&self, pte: u64) -> bool {
        match self.format {
            Format::Long => pte & pt::PRESENT != 0,
            Format::Ept => pte & ept::RWX != 0,
        }
    }

    /// Whether `pte`, present at `level`, sets a bit the mode reserves
    /// there (for EPT, or is a misconfigured memory type and XWR), as
    /// KVM's `is_rsvd_bits_set()`.
    pub(crate) fn is_rsvd(&self, pte: u64, level: u32) -> bool {
        let Some(masks) = level
            .checked_sub(1)
            .and_then(|i| self.rsvd[((pte >> 7) & 1) as usize].get(i as usize))
        else {
            return true;
        };
        pte & masks != 0 || self.bad_mt_xwr & (1u64 << (pte & 0x3f)) != 0
    }

    /// Whether `pte`, present and not reserved at `level`, maps a page
    /// rather than pointing at the next table.  Bit 7 of a PML5E or PML4E
    /// is reserved, so it ends a walk only at a PDPTE or PDE.
    pub(crate) fn is_leaf(&self, pte: u64, level: u32) -> bool {
        level == 1 || pte & pt::PAGE_SIZE != 0
    }

    /// What entry `pte` adds to `rights`.
    pub(crate) fn and(&self, rights: Rights, pte: u64) -> Rights {
        match self.format {
            Format::Long => Rights(rights.0 & (pte ^ pt::NX)),
            Format::Ept => Rights(rights.0 & pte),
        }
    }

    /// The gpa a leaf `pte` at `level` maps `addr` to.
    pub(crate) fn leaf_gpa(&self, pte: u64, level: u32, addr: u64) -> u64 {
        let offset = bits(0, 11 + 9 * (level - 1));
        (pte & ADDR_MASK & !offset) | (addr & offset)
    }

    /// The #PF error code bits (for x86-64 paging) a permission check of
    /// `access` against `rights` gives: 0 if the access is allowed, else
    /// P (the W, U and I/D bits are [`Mode::fault`]'s), as KVM's
    /// `permission_fault()` without protection keys.
    pub(crate) fn permission(
        &self,
        rights: Rights,
        access: AccessKind,
        smap_override: bool,
    ) -> u64 {
        let r = rights.0;
        let denied = match self.format {
            Format::Long => {
                let w = r & pt::WRITABLE != 0;
                let u = r & pt::USER != 0;
                // With EFER.NXE clear, NX is a reserved bit: nothing here
                // is non-executable.
                let x = !self.nx || r & pt::NX != 0;
                let supervisor = !access.user;
                let write_fault = access.write && !w && (access.user || self.wp);
                let user_fault = access.user && !u;
                let fetch_fault = access.fetch && !x;
                let smep_fault = self.smep && access.fetch && supervisor && u;
                let smap_fault = self.smap && !access.fetch && supervisor && u && !smap_override;
                write_fault || user_fault || fetch_fault || smep_fault || smap_fault
            }
            Format::Ept => {
                (access.write && r & ept::WRITE == 0)
                    || (access.fetch && r & ept::EXEC == 0)
                    || (access.is_read() && r & ept::READ == 0)
            }
        };
        if denied {
            pferr::PRESENT
        } else {
            0
        }
    }

    /// The fault a walk of `access` ends in, KVM's `error:` label: `code`
    /// is P and RSVD as the walk found them, `rights` what the entries
    /// walked granted.
    pub(crate) fn fault(&self, code: u64, access: AccessKind, rights: Rights) -> Fault {
        match self.format {
            Format::Long => Fault::Pf(code | access.pferr(self.nx || self.smep)),
            Format::Ept if code & pferr::RSVD != 0 => Fault::EptMisconfig,
            Format::Ept => {
                let mut q = qual::GVA_IS_VALID | qual::GVA_TRANSLATED;
                if access.write {
                    q |= qual::ACC_WRITE;
                }
                if access.is_read() {
                    q |= qual::ACC_READ;
                }
                if access.fetch {
                    q |= qual::ACC_INSTR;
                }
                Fault::EptViolation(q | (rights.0 & ept::RWX) << qual::RWX_SHIFT)
            }
        }
    }
}
