// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/nested/walk/`: the paging modes' rules (`paging.rs`) and
//! the walk over any tables (`walker.rs`), over an in-memory fake of the
//! guest's tables.  Every expected value is written out by hand from the
//! architecture and from KVM 6.12, never taken from the code under test:
//!
//! * Entry formats: Intel SDM vol. 3A 4.5 (tables 4-14 to 4-20: P bit 0,
//!   R/W 1, U/S 2, A 5, D 6, PS 7, G 8, PAT 12 in large leaves and 7 in
//!   PTEs, address 51:12 (M-1:12), bits 62:52 ignored without CR4.PKE,
//!   XD 63); AMD APM vol. 2 5.3/5.4 (bit 8 of non-leaf PML5Es/PML4Es is
//!   MBZ on AMD).
//! * Reserved bits: arch/x86/kvm/mmu/mmu.c __reset_rsvds_bits_mask()
//!   (PT64_ROOT_4LEVEL/5LEVEL) and __reset_rsvds_bits_mask_ept().
//! * Access rights: SDM 4.6 (CR0.WP, SMEP, SMAP with EFLAGS.AC and
//!   implicit accesses, XD with EFER.NXE; a user-mode address is one with
//!   U/S=1 in every entry, a writable one R/W=1 in every entry, an
//!   executable one XD=0 in every entry); mmu.c update_permission_bitmask()
//!   and mmu.h permission_fault().
//! * #PF error code: SDM 4.7 (P bit 0, W/R 1, U/S 2, RSVD 3, I/D 4, the
//!   I/D bit only with EFER.NXE=1 or CR4.SMEP=1); paging_tmpl.h error:.
//! * A/D: SDM 4.8; paging_tmpl.h update_accessed_dirty_bits() (cmpxchg
//!   per entry, pte_writable, retry_walk).
//! * EPT: SDM vol. 3C 29.3.2 (tables 29-1 to 29-6: R 0, W 1, X 2, memory
//!   type 5:3 in leaves, PS 7, A 8, D 9), 29.3.3.1 (misconfigurations),
//!   29.3.5 (A/D only with EPTP bit 6), table 28-7 (EPT-violation exit
//!   qualification: bits 0-2 the access, 3-5 the AND of R/W/X of the
//!   entries, 7 linear address valid, 8 translation of a linear address);
//!   paging_tmpl.h (PTTYPE_EPT) sets 7 and 8 for a final access.
//! * The request: include/uapi/linux/guestmap.h (struct guestmap_walk)
//!   and vmx/nested.c nested_vmx_check_eptp().

use crate::abi::Invalid;
use crate::nested::walk::paging::{walk_req, Fault, WalkReq};
use crate::nested::walk::walker::{walk, Entry, Tables, WalkError, Walked, MAX_RETRIES};
use crate::uapi;
use std::{
    boxed::Box,
    collections::{HashMap, HashSet},
    vec::Vec,
};

// --- Architectural bits -----------------------------------------------

// x86-64 paging entries, SDM 4.5 tables 4-14..4-20.
const P: u64 = 1 << 0;
const RW: u64 = 1 << 1;
const US: u64 = 1 << 2;
const PWT: u64 = 1 << 3;
const PCD: u64 = 1 << 4;
const A: u64 = 1 << 5;
const D: u64 = 1 << 6;
const PS: u64 = 1 << 7;
const G: u64 = 1 << 8;
const XD: u64 = 1 << 63;
/// The bits every entry of a test chain has: present, writable, user.
const PRW: u64 = P | RW | US;

// #PF error code, SDM 4.7.
const PF_P: u64 = 1 << 0;
const PF_W: u64 = 1 << 1;
const PF_U: u64 = 1 << 2;
const PF_RSVD: u64 = 1 << 3;
const PF_ID: u64 = 1 << 4;

// EPT entries, SDM 29.3.2.
const ER: u64 = 1 << 0;
const EW: u64 = 1 << 1;
const EX: u64 = 1 << 2;
const ERWX: u64 = ER | EW | EX;
const EPS: u64 = 1 << 7;
const EA: u64 = 1 << 8;
const ED: u64 = 1 << 9;
/// Memory type WB (6) in bits 5:3 of a leaf.
const EMT_WB: u64 = 6 << 3;

// EPT-violation exit qualification, SDM table 28-7.
const Q_READ: u64 = 1 << 0;
const Q_WRITE: u64 = 1 << 1;
const Q_FETCH: u64 = 1 << 2;
const Q_READABLE: u64 = 1 << 3;
const Q_WRITABLE: u64 = 1 << 4;
const Q_EXECUTABLE: u64 = 1 << 5;
const Q_GLA_VALID: u64 = 1 << 7;
const Q_TRANSLATED: u64 = 1 << 8;
/// What every violation of a final access sets (paging_tmpl.h).
const Q_BASE: u64 = Q_GLA_VALID | Q_TRANSLATED;

// Control registers, SDM 2.5 and 2.2.1.
const CR0_PE: u64 = 1 << 0;
const CR0_WP: u64 = 1 << 16;
const CR0_PG: u64 = 1 << 31;
const CR4_PAE: u64 = 1 << 5;
const CR4_LA57: u64 = 1 << 12;
const CR4_SMEP: u64 = 1 << 20;
const CR4_SMAP: u64 = 1 << 21;
const CR4_PKE: u64 = 1 << 22;
const CR4_PKS: u64 = 1 << 24;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;
const EFER_NXE: u64 = 1 << 11;

// The request's access bits (guestmap.h: the #PF error code's bits).
const READ: u32 = 0;
const WRITE: u32 = uapi::GUESTMAP_WALK_WRITE;
const USER: u32 = uapi::GUESTMAP_WALK_USER;
const FETCH: u32 = uapi::GUESTMAP_WALK_FETCH;

/// Bits `lo..=hi`, written out for the tests.
fn span(lo: u32, hi: u32) -> u64 {
    let mut m = 0;
    for b in lo..=hi {
        m |= 1u64 << b;
    }
    m
}

/// The address field of an entry pointing to a table, bits 51:12.
const ADDR: u64 = 0x000f_ffff_ffff_f000;

/// SDM 4.5.4/4.5.3: linear-address bits 12+9(l-1)..20+9(l-1) select the
/// entry of the level-l table (PTE 20:12 ... PML4E 47:39, PML5E 56:48);
/// for EPT the same bits of the guest-physical address (SDM 29.3.2).
fn index(addr: u64, level: u32) -> u64 {
    (addr >> (12 + 9 * (level - 1))) & 0x1ff
}

// --- The fake tables -----------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Gone(u64);

/// A concurrent writer: when the walker tries a cmpxchg on the entry at
/// `at`, the entry at `target` is first changed by `change`, `times`
/// times (`u32::MAX`: always).
struct Writer {
    at: u64,
    target: u64,
    change: fn(u64) -> u64,
    times: u32,
}

/// Guest memory of 4 KiB table pages; a page not present is no memory.
#[derive(Default)]
struct Fake {
    pages: HashMap<u64, Box<[u64; 512]>>,
    /// Pages in a read-only slot.
    readonly: HashSet<u64>,
    /// Pages whose reads fail.
    broken: HashSet<u64>,
    /// Pages whose cmpxchgs fail.
    broken_writes: HashSet<u64>,
    /// Every read, (level, gpa).
    reads: Vec<(u32, u64)>,
    /// Every cmpxchg tried, (level, gpa, old, new).
    cmpxchgs: Vec<(u32, u64, u64, u64)>,
    /// The cmpxchgs that found the entry changed.
    failed: u32,
    writer: Option<Writer>,
}

impl Fake {
    fn set(&mut self, gpa: u64, v: u64) {
        assert_eq!(gpa % 8, 0);
        let page = self
            .pages
            .entry(gpa & !0xfff)
            .or_insert_with(|| Box::new([0; 512]));
        page[((gpa & 0xfff) / 8) as usize] = v;
    }

    fn get(&self, gpa: u64) -> u64 {
        self.pages[&(gpa & !0xfff)][((gpa & 0xfff) / 8) as usize]
    }

    /// An empty table page at `gpa`.
    fn table(&mut self, gpa: u64) {
        self.pages.entry(gpa).or_insert_with(|| Box::new([0; 512]));
    }

    fn cmpxchgs_at(&self, gpa: u64) -> usize {
        self.cmpxchgs.iter().filter(|c| c.1 == gpa).count()
    }
}

impl Tables for Fake {
    type Error = Gone;

    fn read(&mut self, level: u32, gpa: u64) -> Result<Option<Entry>, Gone> {
        assert_eq!(gpa % 8, 0, "entries are 8-byte aligned");
        assert!((1..=5).contains(&level));
        self.reads.push((level, gpa));
        let page = gpa & !0xfff;
        if self.broken.contains(&page) {
            return Err(Gone(gpa));
        }
        Ok(self.pages.get(&page).map(|p| Entry {
            value: p[((gpa & 0xfff) / 8) as usize],
            writable: !self.readonly.contains(&page),
        }))
    }

    fn cmpxchg(&mut self, level: u32, gpa: u64, old: u64, new: u64) -> Result<bool, Gone> {
        let page = gpa & !0xfff;
        // paging_tmpl.h: no A/D update in a read-only slot (pte_writable).
        assert!(
            !self.readonly.contains(&page),
            "A/D update of a read-only table at {gpa:#x}"
        );
        assert!(
            self.reads.contains(&(level, gpa)),
            "cmpxchg of an entry never read"
        );
        self.cmpxchgs.push((level, gpa, old, new));
        if self.broken_writes.contains(&page) {
            return Err(Gone(gpa));
        }
        if let Some(mut w) = self.writer.take() {
            if w.at == gpa && w.times > 0 {
                if w.times != u32::MAX {
                    w.times -= 1;
                }
                let v = (w.change)(self.get(w.target));
                self.set(w.target, v);
            }
            self.writer = Some(w);
        }
        if self.get(gpa) != old {
            self.failed += 1;
            return Ok(false);
        }
        self.set(gpa, new);
        Ok(true)
    }
}

// --- Building tables and requests -------------------------------------

/// The top-level table.
const ROOT: u64 = 0x1000;
/// The address most walks translate: canonical for 4- and 5-level, and
/// below 2^46 as a guest-physical address for EPT.
const VA: u64 = 0x0000_0a5a_1234_5678;
/// 4 KiB, 2 MiB and 1 GiB frames (below 2^32, any MAXPHYADDR maps them).
const FRAME_4K: u64 = 0x1234_5000;
const FRAME_2M: u64 = 0x4060_0000;
const FRAME_1G: u64 = 0x8000_0000;

/// The table below level `level`'s entry in a standard chain.
fn next_table(level: u32) -> u64 {
    0x10_0000 + u64::from(level) * 0x1000
}

/// Writes a chain for `addr` from `root`: `entries[k]` is the whole entry
/// of level `top - k`, the next table being its bits 51:12.  Returns the
/// entries' gpas, top down.
fn chain(fake: &mut Fake, root: u64, top: u32, addr: u64, entries: &[u64]) -> Vec<u64> {
    let mut table = root;
    let mut gpas = Vec::new();
    for (k, &e) in entries.iter().enumerate() {
        let level = top - k as u32;
        let gpa = table + index(addr, level) * 8;
        fake.set(gpa, e);
        gpas.push(gpa);
        table = e & ADDR;
    }
    gpas
}

/// The entries of a standard x86-64 chain ending in a leaf at `leaf`
/// (1, 2 or 3) with `flags` in every entry (PS added to a large leaf).
fn long_entries(levels: u32, leaf: u32, flags: u64) -> Vec<u64> {
    (leaf..=levels)
        .rev()
        .map(|l| match (l == leaf, leaf) {
            (false, _) => next_table(l) | flags,
            (true, 1) => FRAME_4K | flags,
            (true, 2) => FRAME_2M | PS | flags,
            (true, _) => FRAME_1G | PS | flags,
        })
        .collect()
}

/// A fake with a standard chain; the entries' gpas, top down.
fn long_fake(levels: u32, leaf: u32, flags: u64) -> (Fake, Vec<u64>) {
    let mut fake = Fake::default();
    let gpas = chain(
        &mut fake,
        ROOT,
        levels,
        VA,
        &long_entries(levels, leaf, flags),
    );
    (fake, gpas)
}

/// A request for x86-64 paging: long mode, `levels` levels, MAXPHYADDR
/// 46, nothing else enabled, a supervisor read of `VA`.
fn long_req(levels: u32) -> uapi::guestmap_walk {
    uapi::guestmap_walk {
        root: ROOT,
        addr: VA,
        cr0: CR0_PE | CR0_PG,
        cr4: CR4_PAE | if levels == 5 { CR4_LA57 } else { 0 },
        efer: EFER_LME | EFER_LMA,
        format: uapi::GUESTMAP_WALK_LONG,
        access: READ,
        flags: 0,
        maxphyaddr: 46,
        ..Default::default()
    }
}

/// An EPT pointer (SDM 25.6.11): WB (6), page-walk length 4 (3 in bits
/// 5:3), A/D (bit 6) if `ad`.
fn eptp(root: u64, ad: bool) -> u64 {
    root | 6 | (3 << 3) | if ad { 1 << 6 } else { 0 }
}

/// A request for EPT: a read of `VA` (as a guest-physical address),
/// MAXPHYADDR 46, no A/D.
fn ept_req() -> uapi::guestmap_walk {
    uapi::guestmap_walk {
        root: eptp(ROOT, false),
        addr: VA,
        format: uapi::GUESTMAP_WALK_EPT,
        access: READ,
        flags: 0,
        maxphyaddr: 46,
        ..Default::default()
    }
}

/// The entries of a 4-level EPT chain with its leaf at `leaf`: `RWX` in
/// the non-leaf entries, `leaf_bits` (plus the frame and PS) in the leaf.
fn ept_entries(leaf: u32, rwx: u64, leaf_bits: u64) -> Vec<u64> {
    (leaf..=4)
        .rev()
        .map(|l| match (l == leaf, leaf) {
            (false, _) => next_table(l) | rwx,
            (true, 1) => FRAME_4K | leaf_bits,
            (true, 2) => FRAME_2M | EPS | leaf_bits,
            (true, _) => FRAME_1G | EPS | leaf_bits,
        })
        .collect()
}

fn ept_fake(leaf: u32, leaf_bits: u64) -> (Fake, Vec<u64>) {
    let mut fake = Fake::default();
    let gpas = chain(&mut fake, ROOT, 4, VA, &ept_entries(leaf, ERWX, leaf_bits));
    (fake, gpas)
}

fn req(r: &uapi::guestmap_walk) -> WalkReq {
    walk_req(r).unwrap_or_else(|e| panic!("request refused: {e:?}"))
}

fn run(r: &uapi::guestmap_walk, fake: &mut Fake) -> Walked {
    walk(&req(r), fake).expect("walk ends")
}

/// A walk's #PF and the level it stopped at.
fn pf(w: &Walked) -> (u64, u32) {
    match w.result {
        Err(Fault::Pf(code)) => (code, w.level),
        other => panic!("expected #PF, got {other:?}"),
    }
}

fn rsvd_fault(w: &Walked) -> Option<u32> {
    match w.result {
        Err(Fault::Pf(c)) if c & PF_RSVD != 0 => Some(w.level),
        _ => None,
    }
}

/// The whole memory, to see that nothing changed.
fn snapshot(fake: &Fake) -> Vec<(u64, Vec<u64>)> {
    let mut v: Vec<_> = fake.pages.iter().map(|(k, p)| (*k, p.to_vec())).collect();
    v.sort();
    v
}

// --- 1. #PF error codes (SDM 4.7) -----------------------------------------

#[test]
fn the_access_bits_are_the_error_codes_bits() {
    // guestmap.h: "@access: the #PF error code's bits for them".
    assert_eq!(u64::from(WRITE), PF_W);
    assert_eq!(u64::from(USER), PF_U);
    assert_eq!(u64::from(FETCH), PF_ID);
}

#[test]
fn a_not_present_entry_at_any_level_faults_with_p_clear_and_the_access_bits() {
    // SDM 4.7: P=0 "caused by a non-present page"; W/R, U/S describe the
    // access; I/D only if EFER.NXE=1 or CR4.SMEP=1.  SDM 4.5.4: with P=0
    // every other bit of the entry is ignored, so even all of them set is
    // not a reserved-bit fault (KVM tests present before reserved).
    let cases = [
        (READ, 0, 0, 0),
        (WRITE, 0, 0, PF_W),
        (USER, 0, 0, PF_U),
        (USER | WRITE, 0, 0, PF_U | PF_W),
        (FETCH, 0, 0, 0),
        (FETCH, EFER_NXE, 0, PF_ID),
        (FETCH, 0, CR4_SMEP, PF_ID),
        (FETCH | USER, EFER_NXE, CR4_SMEP, PF_ID | PF_U),
        (WRITE, EFER_NXE, CR4_SMEP, PF_W),
    ];
    for levels in [4, 5] {
        for stop in 1..=levels {
            for not_present in [0, !P] {
                for &(access, efer, cr4, code) in &cases {
                    let (mut fake, gpas) = long_fake(levels, 1, PRW);
                    fake.set(gpas[(levels - stop) as usize], not_present);
                    let before = snapshot(&fake);
                    let mut r = long_req(levels);
                    r.access = access;
                    r.efer |= efer;
                    r.cr4 |= cr4;
                    let w = run(&r, &mut fake);
                    assert_eq!(
                        pf(&w),
                        (code, stop),
                        "levels {levels} stop {stop} {access:#x}"
                    );
                    // SDM 4.8 / KVM: no A/D update on a failed walk.
                    assert_eq!(snapshot(&fake), before);
                    assert!(fake.cmpxchgs.is_empty());
                }
            }
        }
    }
}

#[test]
fn a_protection_fault_sets_p_and_the_access_bits() {
    // SDM 4.7: P=1 for a page-level protection violation.
    let cases = [
        // User access to a supervisor page (SDM 4.6.1).
        (USER, 0, 0, PF_P | PF_U),
        (USER | WRITE, 0, 0, PF_P | PF_U | PF_W),
        (USER | FETCH, 0, 0, PF_P | PF_U),
        (USER | FETCH, EFER_NXE, 0, PF_P | PF_U | PF_ID),
        (USER | FETCH, 0, CR4_SMEP, PF_P | PF_U | PF_ID),
    ];
    for levels in [4, 5] {
        for &(access, efer, cr4, code) in &cases {
            let (mut fake, _) = long_fake(levels, 1, P | RW);
            let mut r = long_req(levels);
            r.access = access;
            r.efer |= efer;
            r.cr4 |= cr4;
            assert_eq!(pf(&run(&r, &mut fake)), (code, 1), "{access:#x}");
        }
        // Supervisor write to a read-only page with CR0.WP=1.
        let (mut fake, _) = long_fake(levels, 1, P | US);
        let mut r = long_req(levels);
        r.access = WRITE;
        r.cr0 |= CR0_WP;
        assert_eq!(pf(&run(&r, &mut fake)), (PF_P | PF_W, 1));
        // Fetch of an XD page with NXE, supervisor and user.
        for (access, code) in [(FETCH, PF_P | PF_ID), (FETCH | USER, PF_P | PF_ID | PF_U)] {
            let (mut fake, _) = long_fake(levels, 1, PRW | XD);
            let mut r = long_req(levels);
            r.access = access;
            r.efer |= EFER_NXE;
            assert_eq!(pf(&run(&r, &mut fake)), (code, 1));
        }
    }
}

#[test]
fn a_reserved_bit_fault_sets_p_rsvd_and_the_access_bits() {
    // SDM 4.7: RSVD=1 (with P=1) for a reserved bit set in any entry.
    // Bit 51 is reserved with MAXPHYADDR 46 (SDM 4.5.4).
    let cases = [
        (READ, 0, 0, PF_P | PF_RSVD),
        (WRITE, 0, 0, PF_P | PF_RSVD | PF_W),
        (USER, 0, 0, PF_P | PF_RSVD | PF_U),
        (USER | WRITE, 0, 0, PF_P | PF_RSVD | PF_U | PF_W),
        (FETCH, 0, 0, PF_P | PF_RSVD),
        (FETCH, EFER_NXE, 0, PF_P | PF_RSVD | PF_ID),
        (FETCH | USER, 0, CR4_SMEP, PF_P | PF_RSVD | PF_ID | PF_U),
    ];
    for levels in [4, 5] {
        for at in 1..=levels {
            for &(access, efer, cr4, code) in &cases {
                let (mut fake, gpas) = long_fake(levels, 1, PRW);
                let g = gpas[(levels - at) as usize];
                fake.set(g, fake.get(g) | 1 << 51);
                let before = snapshot(&fake);
                let mut r = long_req(levels);
                r.access = access;
                r.efer |= efer;
                r.cr4 |= cr4;
                assert_eq!(pf(&run(&r, &mut fake)), (code, at));
                assert_eq!(snapshot(&fake), before);
            }
        }
    }
}

#[test]
fn xd_without_nxe_is_a_reserved_bit_and_its_fetch_shows_no_id_without_smep() {
    // SDM 4.5.4 / table 4-19 note: XD is reserved if IA32_EFER.NXE = 0;
    // 4.7: I/D only if NXE or SMEP.
    let (mut fake, _) = long_fake(4, 1, PRW | XD);
    let mut r = long_req(4);
    r.access = FETCH;
    assert_eq!(pf(&run(&r, &mut fake)), (PF_P | PF_RSVD, 4));
    r.cr4 |= CR4_SMEP;
    assert_eq!(pf(&run(&r, &mut fake)), (PF_P | PF_RSVD | PF_ID, 4));
}

#[test]
fn a_reserved_bit_below_a_protection_violation_wins() {
    // paging_tmpl.h walk_addr_generic(): every level is checked for
    // reserved bits on the way down; permission_fault() only runs on the
    // leaf.  A user access through a supervisor PML4E to a PTE with a
    // reserved bit is RSVD, and a not-present PTE is P=0.
    let (mut fake, gpas) = long_fake(4, 1, PRW);
    fake.set(gpas[0], next_table(4) | P | RW);
    fake.set(gpas[3], FRAME_4K | PRW | 1 << 50);
    let mut r = long_req(4);
    r.access = USER;
    assert_eq!(pf(&run(&r, &mut fake)), (PF_P | PF_RSVD | PF_U, 1));
    fake.set(gpas[3], 0);
    assert_eq!(pf(&run(&r, &mut fake)), (PF_U, 1));
}

// --- 2. Reserved bits (SDM 4.5, KVM __reset_rsvds_bits_mask) ----------

/// Walks a standard chain (leaf at `leaf`, 1 GiB pages on) with `extra`
/// ORed into the entry at `at`.
fn walk_with(
    r: &uapi::guestmap_walk,
    levels: u32,
    leaf: u32,
    at: u32,
    extra: u64,
) -> (Walked, Fake) {
    let (mut fake, gpas) = long_fake(levels, leaf, PRW);
    let g = gpas[(levels - at) as usize];
    fake.set(g, fake.get(g) | extra);
    let w = run(r, &mut fake);
    (w, fake)
}

#[test]
fn address_bits_from_maxphyaddr_to_51_are_reserved_at_every_level() {
    // SDM 4.5.4 tables 4-15..4-20: bits 51:M are reserved (must be 0) in
    // every entry; KVM: rsvd_bits(maxphyaddr, 63) & rsvd_bits(0, 51).
    for maxphy in [32, 36, 40, 46, 52] {
        for levels in [4, 5] {
            for leaf in 1..=3 {
                for at in leaf..=levels {
                    let mut r = long_req(levels);
                    r.maxphyaddr = maxphy;
                    r.flags = uapi::GUESTMAP_WALK_GBPAGES;
                    for bit in maxphy..52 {
                        let (w, _) = walk_with(&r, levels, leaf, at, 1 << bit);
                        assert_eq!(
                            pf(&w),
                            (PF_P | PF_RSVD, at),
                            "M {maxphy} level {at} bit {bit}"
                        );
                    }
                    // Bit M-1 is an address bit: the leaf maps it, a
                    // table pointer points with it (to a table not in
                    // memory here: a not-present fault one level down).
                    let top = 1u64 << (maxphy - 1);
                    let (w, fake) = walk_with(&r, levels, leaf, at, top);
                    if at == leaf {
                        let offset = (1u64 << (12 + 9 * (leaf - 1))) - 1;
                        let frame = [FRAME_4K, FRAME_2M, FRAME_1G][leaf as usize - 1];
                        assert_eq!(w.result, Ok(top | frame | (VA & offset)), "M {maxphy}");
                    } else {
                        assert_eq!(pf(&w), (0, at - 1), "M {maxphy} level {at}");
                        let read = (at - 1, top | next_table(at) | (index(VA, at - 1) * 8));
                        assert_eq!(fake.reads.last(), Some(&read));
                    }
                }
            }
        }
    }
}

#[test]
fn bit_63_is_reserved_at_every_level_without_nxe_and_xd_with_it() {
    // SDM 4.5.4: XD (bit 63) is reserved when IA32_EFER.NXE = 0.
    for levels in [4, 5] {
        for leaf in 1..=3 {
            for at in leaf..=levels {
                let mut r = long_req(levels);
                r.flags = uapi::GUESTMAP_WALK_GBPAGES;
                let (w, _) = walk_with(&r, levels, leaf, at, XD);
                assert_eq!(rsvd_fault(&w), Some(at));
                r.efer |= EFER_NXE;
                let (w, _) = walk_with(&r, levels, leaf, at, XD);
                assert!(w.result.is_ok(), "{:?}", w.result);
            }
        }
    }
}

#[test]
fn bits_62_to_52_and_other_ignored_bits_are_not_reserved_nor_address() {
    // SDM tables 4-15..4-20 (CR4.PKE=0): bits 62:52 and 11:9 are ignored
    // in every entry; bit 6 (D) and bit 8 (G) are ignored in entries that
    // reference a table (Intel; the walk here is not AMD); PAT (bit 7)
    // in a PTE and bit 12 in a large leaf are not address bits.
    let ignored = span(52, 62) | span(9, 11);
    for nxe in [0, EFER_NXE] {
        for levels in [4, 5] {
            for leaf in 1..=3 {
                for at in leaf..=levels {
                    let mut r = long_req(levels);
                    r.flags = uapi::GUESTMAP_WALK_GBPAGES;
                    r.efer |= nxe;
                    let mut extras = Vec::from([ignored]);
                    for b in 52..=62 {
                        extras.push(1 << b);
                    }
                    if at > leaf {
                        extras.push(D | G);
                    }
                    if at == 1 {
                        extras.push(PS); // PAT
                    }
                    if at == leaf && at > 1 {
                        extras.push(1 << 12); // PAT
                    }
                    for extra in extras {
                        let (w, _) = walk_with(&r, levels, leaf, at, extra);
                        let offset = (1u64 << (12 + 9 * (leaf - 1))) - 1;
                        let frame = [FRAME_4K, FRAME_2M, FRAME_1G][leaf as usize - 1];
                        assert_eq!(
                            w.result,
                            Ok(frame | (VA & offset)),
                            "levels {levels} leaf {leaf} at {at} {extra:#x}"
                        );
                        assert_eq!(w.level, leaf);
                    }
                }
            }
        }
    }
}

#[test]
fn ps_is_reserved_in_pml5es_and_pml4es() {
    // SDM table 4-14/4-15: bit 7 of a PML5E and of a PML4E is reserved;
    // KVM: rsvd_bits(7, 7) in [0][4], [0][3] and [1][3], [1][4].
    for gb in [0, uapi::GUESTMAP_WALK_GBPAGES] {
        for levels in [4, 5] {
            for at in 4..=levels {
                let mut r = long_req(levels);
                r.flags = gb;
                let (w, _) = walk_with(&r, levels, 1, at, PS);
                assert_eq!(pf(&w), (PF_P | PF_RSVD, at));
            }
        }
    }
}

#[test]
fn a_1g_page_is_reserved_without_gbpages() {
    // SDM table 4-16 / 4.1.4: 1-GByte pages only with
    // CPUID.80000001H:EDX.Page1GB; KVM: gbpages_bit_rsvd.
    for levels in [4, 5] {
        let r = long_req(levels);
        let (mut fake, _) = long_fake(levels, 3, PRW);
        assert_eq!(pf(&run(&r, &mut fake)), (PF_P | PF_RSVD, 3));
        let mut r = r;
        r.flags = uapi::GUESTMAP_WALK_GBPAGES;
        let w = run(&r, &mut fake);
        assert_eq!(w.result, Ok(FRAME_1G | (VA & 0x3fff_ffff)));
        assert_eq!((w.level, w.page_size()), (3, 1 << 30));
    }
}

#[test]
fn large_leaf_address_bits_below_the_page_size_are_reserved_but_pat() {
    // SDM table 4-16: a 1-GByte PDPTE reserves bits 29:13, bit 12 is PAT;
    // table 4-18: a 2-MByte PDE reserves bits 20:13, bit 12 is PAT.
    for levels in [4, 5] {
        let mut r = long_req(levels);
        r.flags = uapi::GUESTMAP_WALK_GBPAGES;
        for (leaf, hi) in [(3u32, 29u32), (2, 20)] {
            for bit in 13..=hi {
                let (w, _) = walk_with(&r, levels, leaf, leaf, 1 << bit);
                assert_eq!(pf(&w), (PF_P | PF_RSVD, leaf), "leaf {leaf} bit {bit}");
            }
            // PAT is not an address bit either (SDM 4.5.4: the page frame
            // is bits 51:30 or 51:21): with address bit 12 clear, the
            // translation has bit 12 clear.
            let mut r = r;
            r.addr = VA & !(1 << 12);
            let (w, _) = walk_with(&r, levels, leaf, leaf, 1 << 12);
            let frame = [FRAME_2M, FRAME_1G][leaf as usize - 2];
            let offset = (1u64 << (12 + 9 * (leaf - 1))) - 1;
            assert_eq!(w.result, Ok(frame | (r.addr & offset)));
            assert_eq!(w.result.unwrap() & 1 << 12, 0);
        }
    }
}

#[test]
fn amd_reserves_bit_8_of_non_leaf_pml5es_and_pml4es_only() {
    // AMD APM vol. 2 figures 5-18 ff.: bit 8 of PML5E/PML4E is MBZ; KVM
    // __reset_rsvds_bits_mask(): nonleaf_bit8_rsvd in rsvd_bits_mask[0][4]
    // and [0][3] (and [1][*] copies) only: not PDPTEs, PDEs or leaves (G).
    for levels in [4, 5] {
        for amd in [false, true] {
            let mut r = long_req(levels);
            r.flags = uapi::GUESTMAP_WALK_GBPAGES | if amd { uapi::GUESTMAP_WALK_AMD } else { 0 };
            for leaf in 1..=3 {
                for at in leaf..=levels {
                    let (w, _) = walk_with(&r, levels, leaf, at, G);
                    if amd && at >= 4 {
                        assert_eq!(pf(&w), (PF_P | PF_RSVD, at), "levels {levels} at {at}");
                    } else {
                        assert!(
                            w.result.is_ok(),
                            "amd {amd} levels {levels} leaf {leaf} at {at}"
                        );
                    }
                }
            }
        }
    }
}

// --- 3. Access rights (SDM 4.6, KVM update_permission_bitmask) --------

/// A 4 KiB walk of `VA` whose leaf has `leaf_flags` (other entries PRW),
/// with CR0/CR4/EFER bits and request flags added.
fn access(
    leaf_flags: u64,
    access: u32,
    cr0: u64,
    cr4: u64,
    efer: u64,
    flags: u32,
) -> Result<u64, Fault> {
    let mut ents = long_entries(4, 1, PRW);
    ents[3] = FRAME_4K | leaf_flags;
    let mut fake = Fake::default();
    chain(&mut fake, ROOT, 4, VA, &ents);
    let mut r = long_req(4);
    r.access = access;
    r.cr0 |= cr0;
    r.cr4 |= cr4;
    r.efer |= efer;
    r.flags = flags;
    run(&r, &mut fake).result
}

const OK: Result<u64, Fault> = Ok(FRAME_4K | (VA & 0xfff));

fn pf_of(code: u64) -> Result<u64, Fault> {
    Err(Fault::Pf(code))
}

#[test]
fn user_and_supervisor_pages() {
    // SDM 4.6.1: user-mode accesses only to user-mode addresses;
    // supervisor-mode reads of any address (without SMAP).
    assert_eq!(access(P | RW, USER, 0, 0, 0, 0), pf_of(PF_P | PF_U));
    assert_eq!(access(PRW, USER, 0, 0, 0, 0), OK);
    assert_eq!(access(P | RW, READ, 0, 0, 0, 0), OK);
    assert_eq!(access(PRW, READ, 0, 0, 0, 0), OK);
}

#[test]
fn writes_to_read_only_pages_and_cr0_wp() {
    // SDM 4.6.1: supervisor writes to a read-only address are allowed iff
    // CR0.WP=0; user writes need R/W=1 whatever CR0.WP.
    for wp in [0, CR0_WP] {
        let sup = if wp != 0 { pf_of(PF_P | PF_W) } else { OK };
        assert_eq!(access(P | US, WRITE, wp, 0, 0, 0), sup, "wp {wp:#x}");
        assert_eq!(access(P, WRITE, wp, 0, 0, 0), sup);
        assert_eq!(
            access(P | US, USER | WRITE, wp, 0, 0, 0),
            pf_of(PF_P | PF_W | PF_U)
        );
        assert_eq!(access(PRW, WRITE, wp, 0, 0, 0), OK);
        assert_eq!(access(PRW, USER | WRITE, wp, 0, 0, 0), OK);
        // Reads of read-only pages are fine.
        assert_eq!(access(P | US, USER, wp, 0, 0, 0), OK);
    }
}

#[test]
fn xd_forbids_fetches_only_with_nxe() {
    // SDM 4.6.1: with IA32_EFER.NXE=1, instructions may not be fetched
    // from an address with XD=1 in some entry; reads and writes may.
    for user in [0, USER] {
        let u = if user != 0 { PF_U } else { 0 };
        assert_eq!(
            access(PRW | XD, FETCH | user, 0, 0, EFER_NXE, 0),
            pf_of(PF_P | PF_ID | u)
        );
        assert_eq!(access(PRW | XD, user, 0, 0, EFER_NXE, 0), OK);
        assert_eq!(access(PRW | XD, WRITE | user, 0, 0, EFER_NXE, 0), OK);
        assert_eq!(access(PRW, FETCH | user, 0, 0, EFER_NXE, 0), OK);
        // Without NXE every address is executable.
        assert_eq!(access(PRW, FETCH | user, 0, 0, 0, 0), OK);
    }
}

#[test]
fn smep_forbids_supervisor_fetches_from_user_pages() {
    // SDM 4.6.1: with CR4.SMEP=1, supervisor fetches from user-mode
    // addresses fault; user fetches and supervisor pages are unaffected.
    assert_eq!(access(PRW, FETCH, 0, CR4_SMEP, 0, 0), pf_of(PF_P | PF_ID));
    assert_eq!(
        access(PRW, FETCH, 0, CR4_SMEP, EFER_NXE, 0),
        pf_of(PF_P | PF_ID)
    );
    assert_eq!(access(PRW, FETCH, 0, 0, 0, 0), OK);
    assert_eq!(access(P | RW, FETCH, 0, CR4_SMEP, 0, 0), OK);
    assert_eq!(access(PRW, FETCH | USER, 0, CR4_SMEP, 0, 0), OK);
    // SMEP is about fetches: supervisor reads of user pages are fine.
    assert_eq!(access(PRW, READ, 0, CR4_SMEP, 0, 0), OK);
    // AC does not override SMEP.
    assert_eq!(
        access(PRW, FETCH, 0, CR4_SMEP, 0, uapi::GUESTMAP_WALK_AC),
        pf_of(PF_P | PF_ID)
    );
}

#[test]
fn smap_forbids_supervisor_data_accesses_to_user_pages_unless_explicit_with_ac() {
    // SDM 4.6.1: with CR4.SMAP=1, supervisor data reads/writes of
    // user-mode addresses fault if implicit or if EFLAGS.AC=0; explicit
    // accesses with AC=1 follow the non-SMAP rules (so a write to a
    // read-only page still needs CR0.WP=0).  KVM permission_fault():
    // not_smap = AC && !implicit.
    let ac = uapi::GUESTMAP_WALK_AC;
    let imp = uapi::GUESTMAP_WALK_IMPLICIT;
    for wp in [0, CR0_WP] {
        assert_eq!(access(PRW, READ, wp, CR4_SMAP, 0, 0), pf_of(PF_P));
        assert_eq!(access(PRW, WRITE, wp, CR4_SMAP, 0, 0), pf_of(PF_P | PF_W));
        assert_eq!(access(PRW, READ, wp, CR4_SMAP, 0, ac), OK);
        assert_eq!(access(PRW, WRITE, wp, CR4_SMAP, 0, ac), OK);
        assert_eq!(access(PRW, READ, wp, CR4_SMAP, 0, ac | imp), pf_of(PF_P));
        assert_eq!(
            access(PRW, WRITE, wp, CR4_SMAP, 0, ac | imp),
            pf_of(PF_P | PF_W)
        );
        assert_eq!(access(PRW, READ, wp, CR4_SMAP, 0, imp), pf_of(PF_P));
        // Read-only user page, explicit write with AC: WP decides.
        let ro = if wp != 0 { pf_of(PF_P | PF_W) } else { OK };
        assert_eq!(access(P | US, WRITE, wp, CR4_SMAP, 0, ac), ro);
        // WP=0 does not lift SMAP.
        assert_eq!(
            access(P | US, WRITE, wp, CR4_SMAP, 0, 0),
            pf_of(PF_P | PF_W)
        );
        // Supervisor pages and user-mode accesses are not SMAP's.
        assert_eq!(access(P | RW, READ, wp, CR4_SMAP, 0, 0), OK);
        assert_eq!(access(P | RW, WRITE, wp, CR4_SMAP, 0, imp), OK);
        assert_eq!(access(PRW, USER, wp, CR4_SMAP, 0, 0), OK);
        assert_eq!(access(PRW, USER | WRITE, wp, CR4_SMAP, 0, imp), OK);
        // Fetches are not subject to SMAP (SMEP's business).
        assert_eq!(access(PRW, FETCH, wp, CR4_SMAP, 0, 0), OK);
        assert_eq!(access(PRW, FETCH, wp, CR4_SMAP, EFER_NXE, imp), OK);
        assert_eq!(
            access(PRW, FETCH, wp, CR4_SMAP | CR4_SMEP, 0, 0),
            pf_of(PF_P | PF_ID)
        );
    }
}

#[test]
fn any_single_level_decides_the_rights() {
    // SDM 4.6.1: user-mode address iff U/S=1 in every entry; writable iff
    // R/W=1 in every entry; executable (NXE) iff XD=0 in every entry.
    // KVM: pte_access is the AND over the levels.
    for levels in [4, 5] {
        for leaf in 1..=3 {
            for at in leaf..=levels {
                let cases: [(u64, u64, u32, u64); 5] = [
                    (US, 0, USER, PF_P | PF_U),
                    (RW, 0, USER | WRITE, PF_P | PF_W | PF_U),
                    (RW, CR0_WP, WRITE, PF_P | PF_W),
                    (0, EFER_NXE, FETCH, PF_P | PF_ID),
                    // A supervisor entry anywhere makes it a supervisor
                    // address: no SMEP fault.
                    (US, CR4_SMEP, FETCH, 0),
                ];
                for (i, &(clear, ctl, acc, code)) in cases.iter().enumerate() {
                    let (mut fake, gpas) = long_fake(levels, leaf, PRW);
                    let g = gpas[(levels - at) as usize];
                    let mut e = fake.get(g) & !clear;
                    if i == 3 {
                        e |= XD;
                    }
                    fake.set(g, e);
                    let mut r = long_req(levels);
                    r.flags = uapi::GUESTMAP_WALK_GBPAGES;
                    r.access = acc;
                    match ctl {
                        CR0_WP => r.cr0 |= ctl,
                        EFER_NXE => r.efer |= ctl,
                        _ => r.cr4 |= ctl,
                    }
                    let w = run(&r, &mut fake);
                    if code == 0 {
                        assert!(w.result.is_ok(), "case {i} levels {levels} at {at}");
                    } else {
                        // The fault is reported at the leaf's level.
                        assert_eq!(pf(&w), (code, leaf), "case {i} levels {levels} at {at}");
                    }
                }
            }
        }
    }
}

// --- 4. Translation (SDM 4.5.4) ----------------------------------------

#[test]
fn a_4k_2m_and_1g_leaf_map_the_address_with_its_offset() {
    // SDM 4.5.4: 4-KByte page: bits 51:12 of the PTE and 11:0 of the
    // address; 2-MByte: PDE 51:21 and address 20:0; 1-GByte: PDPTE 51:30
    // and address 29:0.
    for levels in [4, 5] {
        for (leaf, frame, size) in [
            (1, FRAME_4K, 1u64 << 12),
            (2, FRAME_2M, 1 << 21),
            (3, FRAME_1G, 1 << 30),
        ] {
            let (mut fake, _) = long_fake(levels, leaf, PRW);
            let mut r = long_req(levels);
            r.flags = uapi::GUESTMAP_WALK_GBPAGES;
            let w = run(&r, &mut fake);
            assert_eq!(w.result, Ok(frame | (VA & (size - 1))));
            assert_eq!(w.level, leaf);
            assert_eq!(w.page_size(), size);
            assert_eq!(fake.reads.len() as u32, levels - leaf + 1);
        }
    }
}

#[test]
fn the_walk_reads_the_entry_each_address_field_selects() {
    // SDM 4.5.4: PML5E index 56:48, PML4E 47:39, PDPTE 38:30, PDE 29:21,
    // PTE 20:12.  Here 0x1a5, 0x1c3, 0x111, 0x0ab, 0x1ff; bit 56 is set,
    // so 63:57 are too for a canonical 5-level address.
    let va = 0xff00_0000_0000_0000
        | 0x1a5 << 48
        | 0x1c3 << 39
        | 0x111 << 30
        | 0xab << 21
        | 0x1ff << 12
        | 0x9d8;
    assert_eq!(va, 0xffa5_e1c4_557f_f9d8);
    let mut fake = Fake::default();
    fake.set(ROOT + 0x1a5 * 8, 0x2000 | PRW);
    fake.set(0x2000 + 0x1c3 * 8, 0x3000 | PRW);
    fake.set(0x3000 + 0x111 * 8, 0x4000 | PRW);
    fake.set(0x4000 + 0xab * 8, 0x5000 | PRW);
    fake.set(0x5000 + 0x1ff * 8, 0xabcd_e000 | PRW);
    let mut r = long_req(5);
    r.addr = va;
    let w = run(&r, &mut fake);
    assert_eq!(w.result, Ok(0xabcd_e9d8));
    assert_eq!(
        fake.reads,
        [
            (5, 0x1d28),
            (4, 0x2e18),
            (3, 0x3888),
            (2, 0x4558),
            (1, 0x5ff8)
        ]
    );
    // The same address bits 47:0 in 4-level paging, sign-extended from
    // bit 47 (set: 0x1c3 has bit 8 set) to be canonical.
    let va4 = 0xffff_0000_0000_0000 | (va & 0x0000_ffff_ffff_ffff);
    let mut fake = Fake::default();
    fake.set(ROOT + 0x1c3 * 8, 0x3000 | PRW);
    fake.set(0x3000 + 0x111 * 8, 0x4000 | PRW);
    fake.set(0x4000 + 0xab * 8, 0x5000 | PRW);
    fake.set(0x5000 + 0x1ff * 8, 0xabcd_e000 | PRW);
    let mut r = long_req(4);
    r.addr = va4;
    let w = run(&r, &mut fake);
    assert_eq!(w.result, Ok(0xabcd_e9d8));
    assert_eq!(
        fake.reads,
        [(4, 0x1e18), (3, 0x3888), (2, 0x4558), (1, 0x5ff8)]
    );
    // The entries walked, ptes[level - 1], with the A bits the walk set.
    assert_eq!(
        w.ptes,
        [
            0xabcd_e000 | PRW | A,
            0x5000 | PRW | A,
            0x4000 | PRW | A,
            0x3000 | PRW | A,
            0
        ]
    );
}

#[test]
fn non_canonical_addresses_are_general_protection_without_a_read() {
    // SDM 4.5.1 / 3.3.7.1: with 4-level paging bits 63:47 must be equal,
    // with 5-level paging bits 63:56; otherwise #GP(0).
    let cases: [(u32, u64, bool); 10] = [
        (4, 0x0000_7fff_ffff_ffff, true),
        (4, 0x0000_8000_0000_0000, false),
        (4, 0xffff_7fff_ffff_ffff, false),
        (4, 0xffff_8000_0000_0000, true),
        (4, 0x0001_0000_0000_0000, false),
        (5, 0x0000_8000_0000_0000, true),
        (5, 0x00ff_ffff_ffff_ffff, true),
        (5, 0x0100_0000_0000_0000, false),
        (5, 0xfeff_ffff_ffff_ffff, false),
        (5, 0xff00_0000_0000_0000, true),
    ];
    for (levels, addr, canonical) in cases {
        let mut fake = Fake::default();
        fake.table(ROOT);
        let mut r = long_req(levels);
        r.addr = addr;
        let w = run(&r, &mut fake);
        if canonical {
            // Walked: the empty root has no present entry.
            assert_eq!(pf(&w), (0, levels), "{addr:#x}");
        } else {
            assert_eq!(w.result, Err(Fault::Gp), "{addr:#x}");
            assert!(fake.reads.is_empty());
        }
    }
}

/// An NPT walk of L2 guest physical address `addr`, with L1's long-mode
/// control bits and MAXPHYADDR 52.
fn npt_req(addr: u64) -> uapi::guestmap_walk {
    uapi::guestmap_walk {
        format: uapi::GUESTMAP_WALK_NPT,
        addr,
        maxphyaddr: 52,
        ..long_req(4)
    }
}

#[test]
fn npt_walks_physical_addresses_without_a_canonical_check() {
    // An L2 gpa has no canonical form: AMD APM vol. 2 15.25.5 walks it
    // through nCR3 with no #GP, and KVM's walk_addr_generic() never
    // checks one.  Bit 47 set, bits 63:48 clear: non-canonical as a
    // linear address, a plain gpa with MAXPHYADDR 52.
    let addr = 0x0000_8000_1234_5678;
    let mut fake = Fake::default();
    chain(&mut fake, ROOT, 4, addr, &long_entries(4, 1, PRW));
    let w = run(&npt_req(addr), &mut fake);
    assert_eq!(w.result, Ok(FRAME_4K | 0x678));
    assert_eq!(w.level, 1);
    // The same address as a linear one is #GP, before any read.
    let mut linear = npt_req(addr);
    linear.format = uapi::GUESTMAP_WALK_LONG;
    let mut fake = Fake::default();
    assert_eq!(run(&linear, &mut fake).result, Err(Fault::Gp));
    assert!(fake.reads.is_empty());
}

#[test]
fn npt_walks_are_user_walks() {
    // KVM's translate_nested_gpa(): "NPT walks are always user-walks"
    // (access |= PFERR_USER_MASK).  So a supervisor-only leaf (U/S=0)
    // refuses the walk with P|U (SDM 4.6, 4.7), whatever the request's
    // access bits say, and a read-only one refuses a write whatever
    // CR0.WP is (a user write needs R/W=1).
    let addr = 0x1234_5678;
    let mut fake = Fake::default();
    let mut entries = long_entries(4, 1, PRW);
    entries[3] &= !US;
    chain(&mut fake, ROOT, 4, addr, &entries);
    let w = run(&npt_req(addr), &mut fake);
    assert_eq!(pf(&w), (PF_P | PF_U, 1));

    let mut fake = Fake::default();
    let mut entries = long_entries(4, 1, PRW);
    entries[3] &= !RW;
    chain(&mut fake, ROOT, 4, addr, &entries);
    let mut r = npt_req(addr);
    r.access = WRITE;
    r.cr0 &= !CR0_WP;
    let w = run(&r, &mut fake);
    assert_eq!(pf(&w), (PF_P | PF_W | PF_U, 1));
}

#[test]
fn npt_requests_are_checked() {
    // The address is a gpa: at or above 2^MAXPHYADDR it is no address.
    let mut r = npt_req(1 << 40);
    r.maxphyaddr = 40;
    assert!(walk_req(&r).is_err());
    r.maxphyaddr = 41;
    assert!(walk_req(&r).is_ok());
    // SMAP's override means nothing for a user walk.
    for f in [uapi::GUESTMAP_WALK_AC, uapi::GUESTMAP_WALK_IMPLICIT] {
        let mut r = npt_req(0);
        r.flags = f;
        assert!(walk_req(&r).is_err(), "{f:#x}");
    }
    // The rest of LONG's flags are NPT's too.
    for f in [
        uapi::GUESTMAP_WALK_NO_AD,
        uapi::GUESTMAP_WALK_CACHED,
        uapi::GUESTMAP_WALK_AMD,
        uapi::GUESTMAP_WALK_GBPAGES,
    ] {
        let mut r = npt_req(0);
        r.flags = f;
        assert!(walk_req(&r).is_ok(), "{f:#x}");
    }
}

#[test]
fn npt_takes_l1_cr4_with_pke_pks_and_lam() {
    // kvm_init_shadow_npt_mmu() drops CR4.PKE for NPT; PKS guards
    // supervisor pages only (SDM 4.6.2), and an NPT walk is a user walk;
    // LAM (SDM 4.4) concerns linear addresses.  L1's CR4 with any of them
    // walks as without them.
    let addr = 0x1234_5678;
    for bit in [22, 24, 28] {
        let mut fake = Fake::default();
        chain(&mut fake, ROOT, 4, addr, &long_entries(4, 1, PRW));
        let mut r = npt_req(addr);
        r.cr4 |= 1 << bit;
        assert_eq!(run(&r, &mut fake).result, Ok(FRAME_4K | 0x678), "bit {bit}");
    }
}

#[test]
fn lam_is_refused() {
    // CR4.LAM_SUP (bit 28, SDM 4.4) changes which linear addresses are
    // canonical; it is not modelled, so it is refused, as PKE and PKS.
    let mut r = long_req(4);
    r.cr4 |= 1 << 28;
    assert!(walk_req(&r).is_err());
}

#[test]
fn a_gp_reports_level_0() {
    // guestmap.h: @level is 0 for GUESTMAP_WALK_GP: no level was walked.
    let mut fake = Fake::default();
    let mut r = long_req(4);
    r.addr = 0x0000_8000_0000_0000;
    let w = run(&r, &mut fake);
    assert_eq!((w.result, w.level), (Err(Fault::Gp), 0));
    let mut out = uapi::guestmap_walk::default();
    w.fill_uapi(&mut out);
    assert_eq!(
        (out.fault, out.level, out.page_size),
        (uapi::GUESTMAP_WALK_GP, 0, 0)
    );
}

#[test]
fn a_table_in_no_memory_is_a_not_present_fault_at_its_level() {
    // guestmap.h / paging_tmpl.h: a table outside every visible memslot
    // goes to error: with errcode 0 (not present).
    for levels in [4, 5] {
        for missing in 1..=levels {
            let (mut fake, gpas) = long_fake(levels, 1, PRW);
            let page = gpas[(levels - missing) as usize] & !0xfff;
            fake.pages.remove(&page);
            let mut r = long_req(levels);
            r.access = USER | WRITE;
            let w = run(&r, &mut fake);
            assert_eq!(pf(&w), (PF_U | PF_W, missing));
        }
    }
}

#[test]
fn a_table_that_cannot_be_read_or_updated_fails_the_walk() {
    // guestmap.h: "A table whose user memory is gone fails with EFAULT":
    // the Tables error, not a fault.
    let (mut fake, gpas) = long_fake(4, 1, PRW);
    fake.broken.insert(gpas[2] & !0xfff);
    assert_eq!(
        walk(&req(&long_req(4)), &mut fake),
        Err(WalkError::Tables(Gone(gpas[2])))
    );
    let (mut fake, gpas) = long_fake(4, 1, PRW);
    fake.broken_writes.insert(gpas[1] & !0xfff);
    assert_eq!(
        walk(&req(&long_req(4)), &mut fake),
        Err(WalkError::Tables(Gone(gpas[1])))
    );
    // Without an update to make, the walk does not write.
    let mut r = long_req(4);
    r.flags = uapi::GUESTMAP_WALK_NO_AD;
    assert_eq!(run(&r, &mut fake).result, OK);
}

// --- 5. Accessed and dirty flags (SDM 4.8, update_accessed_dirty_bits) --

#[test]
fn a_read_sets_a_in_every_entry_and_no_d() {
    // SDM 4.8: A is set in every entry used; D only on a write.
    for levels in [4, 5] {
        for leaf in 1..=3 {
            let (mut fake, gpas) = long_fake(levels, leaf, PRW);
            let mut r = long_req(levels);
            r.flags = uapi::GUESTMAP_WALK_GBPAGES;
            let w = run(&r, &mut fake);
            assert!(w.result.is_ok());
            let want = long_entries(levels, leaf, PRW | A);
            for (k, &g) in gpas.iter().enumerate() {
                assert_eq!(fake.get(g), want[k]);
                assert_eq!(w.ptes[(levels - k as u32 - 1) as usize], want[k]);
            }
            assert_eq!(fake.cmpxchgs.len(), gpas.len());
            assert_eq!(w.retries, 0);
        }
    }
}

#[test]
fn a_write_sets_d_in_the_leaf_only() {
    // SDM 4.8: D in the entry that maps the page (PTE, or the PDE/PDPTE
    // of a large page); bit 6 of a non-leaf entry is ignored, not D.
    for levels in [4, 5] {
        for leaf in 1..=3 {
            let (mut fake, gpas) = long_fake(levels, leaf, PRW);
            let mut r = long_req(levels);
            r.flags = uapi::GUESTMAP_WALK_GBPAGES;
            r.access = WRITE;
            let w = run(&r, &mut fake);
            assert!(w.result.is_ok());
            let mut want = long_entries(levels, leaf, PRW | A);
            *want.last_mut().unwrap() |= D;
            for (k, &g) in gpas.iter().enumerate() {
                assert_eq!(fake.get(g), want[k], "levels {levels} leaf {leaf} k {k}");
            }
        }
    }
}

#[test]
fn bits_already_set_need_no_cmpxchg() {
    // update_accessed_dirty_bits(): "if (pte == orig_pte) continue", and
    // no update at all when every A (and for a write the D) is set.
    let (mut fake, gpas) = long_fake(4, 1, PRW | A);
    let before = snapshot(&fake);
    assert!(run(&long_req(4), &mut fake).result.is_ok());
    assert!(fake.cmpxchgs.is_empty());
    assert_eq!(snapshot(&fake), before);
    // A write needs the leaf's D and only that.
    let mut r = long_req(4);
    r.access = WRITE;
    assert!(run(&r, &mut fake).result.is_ok());
    assert_eq!(
        fake.cmpxchgs,
        [(1, gpas[3], FRAME_4K | PRW | A, FRAME_4K | PRW | A | D)]
    );
    // And then nothing.
    assert!(run(&r, &mut fake).result.is_ok());
    assert_eq!(fake.cmpxchgs.len(), 1);
    // Only the entry missing its A.
    let (mut fake, gpas) = long_fake(4, 1, PRW | A);
    fake.set(gpas[1], next_table(3) | PRW);
    assert!(run(&long_req(4), &mut fake).result.is_ok());
    assert_eq!(
        fake.cmpxchgs,
        [(3, gpas[1], next_table(3) | PRW, next_table(3) | PRW | A)]
    );
}

#[test]
fn entries_in_a_read_only_table_are_left_alone() {
    // paging_tmpl.h: "If the slot is read-only, simply do not process the
    // accessed and dirty bits" (pte_writable); the walk still succeeds.
    for ro_level in 1..=4 {
        let (mut fake, gpas) = long_fake(4, 1, PRW);
        let ro = gpas[(4 - ro_level) as usize];
        fake.readonly.insert(ro & !0xfff);
        let mut r = long_req(4);
        r.access = WRITE;
        let w = run(&r, &mut fake);
        assert_eq!(w.result, OK);
        assert_eq!(w.retries, 0);
        let mut want = long_entries(4, 1, PRW | A);
        want[3] |= D;
        want[(4 - ro_level) as usize] = long_entries(4, 1, PRW)[(4 - ro_level) as usize];
        for (k, &g) in gpas.iter().enumerate() {
            assert_eq!(fake.get(g), want[k], "ro {ro_level}");
            assert_eq!(w.ptes[3 - k], want[k]);
        }
    }
    // All read-only: nothing to do, no endless retry.
    let (mut fake, gpas) = long_fake(4, 1, PRW);
    for g in &gpas {
        fake.readonly.insert(g & !0xfff);
    }
    let before = snapshot(&fake);
    let w = run(&long_req(4), &mut fake);
    assert_eq!((w.result, w.retries), (OK, 0));
    assert_eq!(snapshot(&fake), before);
}

#[test]
fn no_ad_changes_nothing() {
    // guestmap.h: _NO_AD translates without setting any A/D bit.
    for access in [READ, WRITE, USER | WRITE] {
        let (mut fake, _) = long_fake(5, 1, PRW);
        let before = snapshot(&fake);
        let mut r = long_req(5);
        r.access = access;
        r.flags = uapi::GUESTMAP_WALK_NO_AD;
        let w = run(&r, &mut fake);
        assert_eq!(w.result, OK);
        assert!(fake.cmpxchgs.is_empty());
        assert_eq!(snapshot(&fake), before);
        assert_eq!(
            w.ptes[..],
            long_entries(5, 1, PRW)
                .iter()
                .rev()
                .copied()
                .collect::<Vec<_>>()[..]
        );
    }
}

#[test]
fn a_faulting_walk_sets_no_a_or_d() {
    // paging_tmpl.h: update_accessed_dirty_bits() only after
    // permission_fault() passed; SDM 4.8 leaves it open, KVM sets none.
    let cases: [(u64, u32, u64); 4] = [
        (P | RW, USER, 0),        // supervisor page, user read
        (P | US, WRITE, CR0_WP),  // read-only page, write with WP
        (PRW | 1 << 49, READ, 0), // reserved bit
        (PRW & !P, WRITE, 0),     // not present
    ];
    for (leaf, acc, cr0) in cases {
        let mut ents = long_entries(4, 1, PRW);
        ents[3] = FRAME_4K | leaf;
        let mut fake = Fake::default();
        chain(&mut fake, ROOT, 4, VA, &ents);
        let before = snapshot(&fake);
        let mut r = long_req(4);
        r.access = acc;
        r.cr0 |= cr0;
        assert!(run(&r, &mut fake).result.is_err());
        assert!(fake.cmpxchgs.is_empty());
        assert_eq!(snapshot(&fake), before);
    }
}

#[test]
fn a_leaf_changed_under_the_update_restarts_the_walk_with_the_new_leaf() {
    // paging_tmpl.h: a failed cmpxchg is "goto retry_walk"; the walk
    // reads the new entry and maps what it says now.
    const NEW: u64 = 0x7777_7000;
    let (mut fake, gpas) = long_fake(4, 1, PRW);
    fake.writer = Some(Writer {
        at: gpas[3],
        target: gpas[3],
        change: |v| (v & !ADDR) | NEW,
        times: 1,
    });
    let w = run(&long_req(4), &mut fake);
    assert_eq!(w.result, Ok(NEW | (VA & 0xfff)));
    assert_eq!(w.retries, 1);
    assert_eq!(fake.failed, 1);
    assert_eq!(fake.get(gpas[3]), NEW | PRW | A);
    assert_eq!(w.ptes[0], NEW | PRW | A);
    for (k, &g) in gpas[..3].iter().enumerate() {
        assert_eq!(fake.get(g), next_table(4 - k as u32) | PRW | A);
    }
    // First pass: 3 upper entries and the failed leaf; second: the leaf
    // only (the upper A bits are set, pte == orig_pte).
    assert_eq!(fake.cmpxchgs.len(), 5);
    assert_eq!(fake.cmpxchgs_at(gpas[3]), 2);
    // retry_walk starts again from the root: two full passes, top down,
    // one read per level each.
    let pass: Vec<(u32, u64)> = (1..=4).rev().zip(gpas.iter().copied()).collect();
    assert_eq!(fake.reads, [pass.clone(), pass].concat());
}

#[test]
fn a_concurrent_change_survives_the_restarted_walk() {
    // The writer sets an ignored bit (SDM table 4-15: bit 52 of a PML4E)
    // while the walk updates that entry: the entry must end with both.
    let (mut fake, gpas) = long_fake(5, 1, PRW);
    fake.writer = Some(Writer {
        at: gpas[1],
        target: gpas[1],
        change: |v| v | 1 << 52,
        times: 1,
    });
    let w = run(&long_req(5), &mut fake);
    assert_eq!((w.result, w.retries), (OK, 1));
    assert_eq!(fake.get(gpas[1]), next_table(4) | PRW | A | 1 << 52);
    assert_eq!(w.ptes[3], next_table(4) | PRW | A | 1 << 52);
    // A change to another entry than the one being updated: the PTE is
    // made read-only while the PML4E is updated; the user write then
    // faults, and the PTE keeps exactly what the writer left.
    let (mut fake, gpas) = long_fake(4, 1, PRW);
    fake.writer = Some(Writer {
        at: gpas[0],
        target: gpas[3],
        change: |v| v & !RW,
        times: 1,
    });
    let mut r = long_req(4);
    r.access = USER | WRITE;
    let w = run(&r, &mut fake);
    assert_eq!(pf(&w), (PF_P | PF_W | PF_U, 1));
    assert_eq!(fake.get(gpas[3]), FRAME_4K | P | US);
    // A PDE made not present: the restarted walk stops there and leaves
    // the writer's value.
    let (mut fake, gpas) = long_fake(4, 1, PRW);
    fake.writer = Some(Writer {
        at: gpas[2],
        target: gpas[2],
        change: |v| v & !P,
        times: 1,
    });
    let w = run(&long_req(4), &mut fake);
    assert_eq!(pf(&w), (0, 2));
    assert_eq!(w.retries, 1);
    assert_eq!(fake.get(gpas[2]), next_table(2) | RW | US);
    assert_eq!(fake.get(gpas[3]), FRAME_4K | PRW);
}

#[test]
fn changes_that_never_stop_end_in_retries() {
    // guestmap (guest-walk.rst, walker.rs): a walk whose entries keep
    // changing gives up with Retries (EAGAIN) instead of retrying forever
    // as KVM's retry_walk would.
    let (mut fake, gpas) = long_fake(4, 1, PRW);
    fake.writer = Some(Writer {
        at: gpas[3],
        target: gpas[3],
        change: |v| v ^ 1 << 9,
        times: u32::MAX,
    });
    assert_eq!(walk(&req(&long_req(4)), &mut fake), Err(WalkError::Retries));
    // guestmap.h (@retries): the ioctl fails when the update finds a
    // changed entry for the 1000th time, having restarted 999 times.
    assert_eq!(MAX_RETRIES, 1000);
    assert_eq!(fake.failed, 1000);
    // Fewer changes than that: the walk gets through.
    let (mut fake, gpas) = long_fake(4, 1, PRW);
    fake.writer = Some(Writer {
        at: gpas[3],
        target: gpas[3],
        change: |v| v ^ 1 << 9,
        times: 999,
    });
    let w = run(&long_req(4), &mut fake);
    assert_eq!((w.result, w.retries), (OK, 999));
    assert_eq!(fake.get(gpas[3]) & (A | PRW), A | PRW);
}

// --- 6. EPT (SDM 3C 29.3) ------------------------------------------------

fn ept_run(r: &uapi::guestmap_walk, fake: &mut Fake) -> Walked {
    run(r, fake)
}

fn ept_with(r: &uapi::guestmap_walk, leaf: u32, at: u32, set: u64, clear: u64) -> Walked {
    let (mut fake, gpas) = ept_fake(leaf, ERWX | EMT_WB);
    let g = gpas[(4 - at) as usize];
    fake.set(g, (fake.get(g) & !clear) | set);
    ept_run(r, &mut fake)
}

fn viol(q: u64) -> Result<u64, Fault> {
    Err(Fault::EptViolation(q))
}

#[test]
fn ept_translates_4k_2m_and_1g() {
    // SDM tables 29-2..29-6: same address fields as x86-64 paging.
    for (leaf, frame, size) in [
        (1, FRAME_4K, 1u64 << 12),
        (2, FRAME_2M, 1 << 21),
        (3, FRAME_1G, 1 << 30),
    ] {
        let (mut fake, _) = ept_fake(leaf, ERWX | EMT_WB);
        let mut r = ept_req();
        r.flags = uapi::GUESTMAP_WALK_GBPAGES;
        let w = ept_run(&r, &mut fake);
        assert_eq!(w.result, Ok(frame | (VA & (size - 1))));
        assert_eq!((w.level, w.page_size()), (leaf, size));
    }
}

#[test]
fn an_ept_entry_is_present_if_any_of_r_w_x() {
    // SDM 29.3.2: an entry is not present iff bits 2:0 are 0; then the
    // access is an EPT violation, bits 5:3 of the qualification the AND
    // of R/W/X of the entries, 0 with the not-present one (table 28-7).
    for at in 1..=4 {
        for (acc, q) in [(READ, Q_READ), (WRITE, Q_WRITE), (FETCH, Q_FETCH)] {
            let mut r = ept_req();
            r.access = acc;
            // Not present with every other bit set: not a misconfig.
            let w = ept_with(&r, 1, at, !ERWX, ERWX);
            assert_eq!(w.result, viol(Q_BASE | q), "at {at}");
            assert_eq!(w.level, at);
        }
    }
    // XWR 001, 011, 101, 111 are present and readable.
    for rwx in [ER, ER | EW, ER | EX, ERWX] {
        let w = ept_with(&ept_req(), 1, 1, rwx, ERWX);
        assert_eq!(w.result, Ok(FRAME_4K | (VA & 0xfff)), "{rwx:#x}");
    }
}

#[test]
fn write_without_read_is_a_misconfiguration_at_every_level() {
    // SDM 29.3.3.1: bit 0 clear and bit 1 set (XWR 010, 110).
    for at in 1..=4 {
        for xwr in [EW, EW | EX] {
            for acc in [READ, WRITE, FETCH] {
                let mut r = ept_req();
                r.access = acc;
                let w = ept_with(&r, 1, at, xwr, ERWX);
                assert_eq!((w.result, w.level), (Err(Fault::EptMisconfig), at));
            }
        }
    }
}

#[test]
fn execute_only_is_a_misconfiguration_without_the_capability() {
    // SDM 29.3.3.1: bit 0 clear and bit 2 set without execute-only
    // support (IA32_VMX_EPT_VPID_CAP bit 0).
    for at in 1..=4 {
        let w = ept_with(&ept_req(), 1, at, EX, ERWX);
        assert_eq!((w.result, w.level), (Err(Fault::EptMisconfig), at));
        let mut r = ept_req();
        r.flags = uapi::GUESTMAP_WALK_EXECONLY;
        r.access = FETCH;
        let w = ept_with(&r, 1, at, EX, ERWX);
        assert_eq!(w.result, Ok(FRAME_4K | (VA & 0xfff)));
        // A read of it is a violation: executable, not readable.
        r.access = READ;
        let w = ept_with(&r, 1, at, EX, ERWX);
        assert_eq!(w.result, viol(Q_BASE | Q_READ | Q_EXECUTABLE));
    }
}

#[test]
fn memory_types_2_3_and_7_are_misconfigurations_in_leaves() {
    // SDM 29.3.3.1: a leaf's memory type (bits 5:3) is 2, 3 or 7.
    for leaf in 1..=3 {
        for mt in 0..8u64 {
            let mut r = ept_req();
            r.flags = uapi::GUESTMAP_WALK_GBPAGES;
            let w = ept_with(&r, leaf, leaf, mt << 3, 7 << 3);
            if [2, 3, 7].contains(&mt) {
                assert_eq!(
                    (w.result, w.level),
                    (Err(Fault::EptMisconfig), leaf),
                    "mt {mt}"
                );
            } else {
                assert!(w.result.is_ok(), "leaf {leaf} mt {mt}");
            }
            // IPAT (bit 6) is not reserved.
            let w = ept_with(&r, leaf, leaf, mt << 3 | 1 << 6, 7 << 3);
            assert_eq!(w.result.is_ok(), ![2, 3, 7].contains(&mt));
        }
    }
}

#[test]
fn ept_reserved_bits_per_level() {
    // SDM table 29-1: PML4E reserves 7:3; tables 29-3, 29-5: a PDPTE or
    // PDE referencing a table reserves 6:3; table 29-2: a 1-GByte PDPTE
    // reserves 29:12; table 29-4: a 2-MByte PDE reserves 20:12; all
    // reserve 51:M.  KVM __reset_rsvds_bits_mask_ept().
    let mut r = ept_req();
    r.flags = uapi::GUESTMAP_WALK_GBPAGES;
    let mut cases: Vec<(u32, u32, u64)> = Vec::new(); // (leaf, at, bit)
    for b in 3..=7 {
        cases.push((1, 4, 1 << b));
    }
    for at in [3, 2] {
        for b in 3..=6 {
            cases.push((1, at, 1 << b));
        }
    }
    for b in 12..=29 {
        cases.push((3, 3, 1 << b));
    }
    for b in 12..=20 {
        cases.push((2, 2, 1 << b));
    }
    for leaf in 1..=3 {
        for at in leaf..=4 {
            for b in 46..52 {
                cases.push((leaf, at, 1 << b));
            }
        }
    }
    for (leaf, at, bit) in cases {
        let w = ept_with(&r, leaf, at, bit, 0);
        assert_eq!(
            (w.result, w.level),
            (Err(Fault::EptMisconfig), at),
            "leaf {leaf} at {at} {bit:#x}"
        );
    }
    // Without 1 GiB pages (IA32_VMX_EPT_VPID_CAP bit 17), bit 7 of a PDPTE
    // is reserved.
    let w = ept_with(&ept_req(), 3, 3, 0, 0);
    assert_eq!((w.result, w.level), (Err(Fault::EptMisconfig), 3));
}

#[test]
fn ept_ignored_bits_are_not_reserved() {
    // SDM tables 29-1..29-6: bits 63:52 are ignored or suppress-#VE
    // (ignored here), bits 11:8 ignored without A/D or MBEC, bit 7 of a
    // PTE ignored; and bit M-1 is an address bit.
    let mut r = ept_req();
    r.flags = uapi::GUESTMAP_WALK_GBPAGES;
    for leaf in 1..=3 {
        for at in leaf..=4 {
            let mut extras = Vec::from([span(52, 63), span(8, 11)]);
            if at == 1 {
                extras.push(EPS);
            }
            for extra in extras {
                let w = ept_with(&r, leaf, at, extra, 0);
                let size = 1u64 << (12 + 9 * (leaf - 1));
                let frame = [FRAME_4K, FRAME_2M, FRAME_1G][leaf as usize - 1];
                assert_eq!(
                    w.result,
                    Ok(frame | (VA & (size - 1))),
                    "leaf {leaf} at {at} {extra:#x}"
                );
            }
        }
        let w = ept_with(&r, leaf, leaf, 1 << 45, 0);
        assert!(w.result.unwrap() & 1 << 45 != 0);
    }
}

#[test]
fn ept_violation_qualification_is_the_access_and_the_and_of_the_rights() {
    // SDM table 28-7: bits 2:0 the access (read, write, fetch), bit 3 the
    // AND of bit 0 (R) of the entries, bit 4 of W, bit 5 of X; bits 7
    // and 8 set for the translation of a linear address (paging_tmpl.h
    // GVA_IS_VALID, GVA_TRANSLATED).  Bits 6 and 9+ are 0.
    struct Case {
        upper: u64,
        leaf: u64,
        access: u32,
        want: Result<u64, Fault>,
    }
    let ok = Ok(FRAME_4K | (VA & 0xfff));
    let cases = [
        Case {
            upper: ERWX,
            leaf: ER,
            access: WRITE,
            want: viol(Q_BASE | Q_WRITE | Q_READABLE),
        },
        Case {
            upper: ERWX,
            leaf: ER,
            access: FETCH,
            want: viol(Q_BASE | Q_FETCH | Q_READABLE),
        },
        Case {
            upper: ERWX,
            leaf: ER,
            access: READ,
            want: ok,
        },
        Case {
            upper: ERWX,
            leaf: ER | EW,
            access: FETCH,
            want: viol(Q_BASE | Q_FETCH | Q_READABLE | Q_WRITABLE),
        },
        Case {
            upper: ERWX,
            leaf: ER | EX,
            access: WRITE,
            want: viol(Q_BASE | Q_WRITE | Q_READABLE | Q_EXECUTABLE),
        },
        Case {
            upper: ER | EX,
            leaf: ERWX,
            access: WRITE,
            want: viol(Q_BASE | Q_WRITE | Q_READABLE | Q_EXECUTABLE),
        },
        Case {
            upper: ER | EW,
            leaf: ERWX,
            access: FETCH,
            want: viol(Q_BASE | Q_FETCH | Q_READABLE | Q_WRITABLE),
        },
        Case {
            upper: ER | EW,
            leaf: ERWX,
            access: WRITE,
            want: ok,
        },
        Case {
            upper: ER,
            leaf: ERWX,
            access: READ,
            want: ok,
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        for upper_at in 2..=4 {
            let mut fake = Fake::default();
            let mut ents = ept_entries(1, ERWX, c.leaf | EMT_WB);
            ents[(4 - upper_at) as usize] = next_table(upper_at) | c.upper;
            chain(&mut fake, ROOT, 4, VA, &ents);
            let mut r = ept_req();
            r.access = c.access;
            let w = ept_run(&r, &mut fake);
            assert_eq!(w.result, c.want, "case {i} at {upper_at}");
        }
    }
    // A not-present PDE below R-X entries: bits 5:3 are 0.
    let mut fake = Fake::default();
    let mut ents = ept_entries(1, ER | EX, ERWX | EMT_WB);
    ents[2] = 0;
    chain(&mut fake, ROOT, 4, VA, &ents);
    let w = ept_run(&ept_req(), &mut fake);
    assert_eq!((w.result, w.level), (viol(Q_BASE | Q_READ), 2));
}

#[test]
fn an_ept_table_in_no_memory_is_a_violation_with_the_rights_above() {
    // paging_tmpl.h: kvm_is_visible_memslot() fails before pte_access
    // takes the entry: bits 5:3 are the AND of the entries above.
    let mut fake = Fake::default();
    let mut ents = ept_entries(1, ERWX, ERWX | EMT_WB);
    ents[1] = next_table(3) | ER | EX;
    chain(&mut fake, ROOT, 4, VA, &ents);
    fake.pages.remove(&next_table(2));
    let mut r = ept_req();
    r.access = WRITE;
    let w = ept_run(&r, &mut fake);
    assert_eq!(
        (w.result, w.level),
        (viol(Q_BASE | Q_WRITE | Q_READABLE | Q_EXECUTABLE), 1)
    );
}

#[test]
fn ept_a_and_d_only_with_eptp_bit_6() {
    // SDM 29.3.5: with EPTP bit 6, A is bit 8 of every entry used, D bit
    // 9 of the leaf on a write; without it, bits 8 and 9 are ignored and
    // never written.  Bits 5:3 (the memory type) are not A/D here.
    for leaf in 1..=3 {
        for acc in [READ, WRITE, FETCH] {
            for ad in [false, true] {
                let (mut fake, gpas) = ept_fake(leaf, ERWX | EMT_WB);
                let before = snapshot(&fake);
                let mut r = ept_req();
                r.root = eptp(ROOT, ad);
                r.access = acc;
                r.flags = uapi::GUESTMAP_WALK_GBPAGES;
                let w = ept_run(&r, &mut fake);
                assert!(w.result.is_ok());
                if !ad {
                    assert_eq!(snapshot(&fake), before);
                    assert!(fake.cmpxchgs.is_empty());
                    continue;
                }
                let mut want = ept_entries(leaf, ERWX | EA, ERWX | EMT_WB | EA);
                if acc == WRITE {
                    *want.last_mut().unwrap() |= ED;
                }
                for (k, &g) in gpas.iter().enumerate() {
                    assert_eq!(fake.get(g), want[k], "leaf {leaf} acc {acc} k {k}");
                }
                // Set already: no cmpxchg next time.
                let n = fake.cmpxchgs.len();
                ept_run(&r, &mut fake);
                assert_eq!(fake.cmpxchgs.len(), n);
            }
        }
    }
    // EPTP bit 6 with _NO_AD: nothing written.
    let (mut fake, _) = ept_fake(1, ERWX | EMT_WB);
    let before = snapshot(&fake);
    let mut r = ept_req();
    r.root = eptp(ROOT, true);
    r.access = WRITE;
    r.flags = uapi::GUESTMAP_WALK_NO_AD;
    assert!(run(&r, &mut fake).result.is_ok());
    assert_eq!(snapshot(&fake), before);
    assert!(fake.cmpxchgs.is_empty());
    // With A/D off, entries with bits 8 and 9 set walk fine.
    let w = ept_with(&ept_req(), 1, 1, EA | ED, 0);
    assert!(w.result.is_ok());
}

#[test]
fn an_ept_entry_changed_under_the_update_restarts_the_walk() {
    // paging_tmpl.h (PTTYPE_EPT): the same cmpxchg and retry_walk; the
    // writer makes the PDE write-only (XWR 010): a misconfiguration
    // (SDM 29.3.3.1) on the restarted walk, and the PDE is left as the
    // writer left it.
    let (mut fake, gpas) = ept_fake(1, ERWX | EMT_WB);
    fake.writer = Some(Writer {
        at: gpas[2],
        target: gpas[2],
        change: |v| v & !(ER | EX),
        times: 1,
    });
    let mut r = ept_req();
    r.root = eptp(ROOT, true);
    let w = run(&r, &mut fake);
    assert_eq!(
        (w.result, w.level, w.retries),
        (Err(Fault::EptMisconfig), 2, 1)
    );
    assert_eq!(fake.get(gpas[2]), next_table(2) | EW);
    assert_eq!(fake.get(gpas[3]), FRAME_4K | ERWX | EMT_WB);
    // The upper entries kept the A bit the first pass set (bit 8).
    assert_eq!(fake.get(gpas[0]), next_table(4) | ERWX | EA);
}

#[test]
fn an_ept_misconfiguration_below_a_denying_entry_wins() {
    // paging_tmpl.h: reserved bits and bad_mt_xwr are checked at every
    // level on the way down, the access only at the end; SDM 29.3.3: an
    // EPT misconfiguration in any entry used for the translation.
    let mut fake = Fake::default();
    let mut ents = ept_entries(1, ERWX, ERWX | (7 << 3));
    ents[0] = next_table(4) | ER;
    chain(&mut fake, ROOT, 4, VA, &ents);
    let before = snapshot(&fake);
    let mut r = ept_req();
    r.root = eptp(ROOT, true);
    r.access = WRITE;
    let w = run(&r, &mut fake);
    assert_eq!((w.result, w.level), (Err(Fault::EptMisconfig), 1));
    // And a misconfiguration sets no A/D either.
    assert_eq!(snapshot(&fake), before);
}

#[test]
fn ept_faults_set_no_a_d() {
    let mut r = ept_req();
    r.root = eptp(ROOT, true);
    r.access = WRITE;
    let (mut fake, _) = ept_fake(1, ER | EMT_WB);
    let before = snapshot(&fake);
    assert!(matches!(
        ept_run(&r, &mut fake).result,
        Err(Fault::EptViolation(_))
    ));
    assert_eq!(snapshot(&fake), before);
}

// --- 7. The request (guestmap.h struct guestmap_walk) ----------------------

fn refused(r: &uapi::guestmap_walk) -> bool {
    matches!(walk_req(r), Err(Invalid(_)))
}

#[test]
fn a_long_request_decodes() {
    let mut r = long_req(5);
    r.cr0 |= CR0_WP;
    r.cr4 |= CR4_SMEP | CR4_SMAP;
    r.efer |= EFER_NXE;
    r.access = USER | WRITE;
    r.flags = uapi::GUESTMAP_WALK_AC | uapi::GUESTMAP_WALK_CACHED;
    let q = req(&r);
    assert_eq!(q.mode.levels(), 5);
    assert!(q.mode.has_ad());
    assert_eq!((q.root, q.addr), (ROOT, VA));
    assert!(q.access.write && q.access.user && !q.access.fetch);
    assert!(q.smap_override && q.set_ad && q.cached);
    assert_eq!(req(&long_req(4)).mode.levels(), 4);
    // SMAP override: AC and not implicit.
    r.flags = uapi::GUESTMAP_WALK_AC | uapi::GUESTMAP_WALK_IMPLICIT | uapi::GUESTMAP_WALK_NO_AD;
    let q = req(&r);
    assert!(!q.smap_override && !q.set_ad && !q.cached);
    r.flags = 0;
    assert!(!req(&r).smap_override);
}

#[test]
fn cr3_low_bits_are_ignored() {
    // SDM 4.5.2 / table 4-12, 4-13: CR3 bits 11:0 are PWT/PCD or a PCID;
    // the table is CR3 bits M-1:12.
    for low in [PWT, PCD, PWT | PCD, 0xfff, 0x123] {
        let mut r = long_req(4);
        r.root = 0x0000_3fff_ffff_f000 | low;
        assert_eq!(req(&r).root, 0x0000_3fff_ffff_f000);
    }
    // And the walk uses it.
    let (mut fake, _) = long_fake(4, 1, PRW);
    let mut r = long_req(4);
    r.root = ROOT | 0x18;
    assert_eq!(run(&r, &mut fake).result, OK);
}

#[test]
fn cr3_bits_above_maxphyaddr_are_refused() {
    // SDM 4.5.2: CR3 bits 63:M reserved (MOV to CR3 #GP); guestmap.h: a
    // root with reserved bits is EINVAL, bit 63 included.
    for maxphy in [32, 36, 40, 46, 52] {
        for bit in maxphy..64 {
            let mut r = long_req(4);
            r.maxphyaddr = maxphy;
            r.root = ROOT | 1 << bit;
            assert!(refused(&r), "M {maxphy} bit {bit}");
        }
        let mut r = long_req(4);
        r.maxphyaddr = maxphy;
        r.root = 1 << (maxphy - 1);
        assert_eq!(req(&r).root, 1 << (maxphy - 1));
    }
}

#[test]
fn pad_maxphyaddr_and_access_are_checked() {
    let mut r = long_req(4);
    r.pad = 1;
    assert!(refused(&r));
    for m in [0, 31, 53, 64, u32::MAX] {
        let mut r = long_req(4);
        r.maxphyaddr = m;
        assert!(refused(&r), "M {m}");
        let mut r = ept_req();
        r.maxphyaddr = m;
        assert!(refused(&r), "M {m}");
    }
    for m in [32, 52] {
        let mut r = long_req(4);
        r.maxphyaddr = m;
        assert!(walk_req(&r).is_ok());
    }
    for bad in [1 << 0, 1 << 3, 1 << 5, 1 << 31] {
        let mut r = long_req(4);
        r.access = bad;
        assert!(refused(&r), "{bad:#x}");
    }
    let mut r = long_req(4);
    r.access = WRITE | FETCH;
    assert!(refused(&r));
    r.access = USER | WRITE | FETCH;
    assert!(refused(&r));
    for ok in [READ, WRITE, USER, FETCH, USER | WRITE, USER | FETCH] {
        r.access = ok;
        assert!(walk_req(&r).is_ok());
    }
    // Output fields are ignored.
    let mut r = long_req(4);
    r.gpa = 1;
    r.page_size = 2;
    r.fault = 3;
    r.level = 4;
    r.error = 5;
    r.ptes = [6; 5];
    r.retries = 7;
    assert!(walk_req(&r).is_ok());
    // Unknown formats (2 is NPT).
    r.format = 3;
    assert!(refused(&r));
}

#[test]
fn flags_are_checked_per_format() {
    let long_ok = [
        uapi::GUESTMAP_WALK_AC,
        uapi::GUESTMAP_WALK_IMPLICIT,
        uapi::GUESTMAP_WALK_NO_AD,
        uapi::GUESTMAP_WALK_CACHED,
        uapi::GUESTMAP_WALK_AMD,
        uapi::GUESTMAP_WALK_GBPAGES,
    ];
    let ept_ok = [
        uapi::GUESTMAP_WALK_NO_AD,
        uapi::GUESTMAP_WALK_CACHED,
        uapi::GUESTMAP_WALK_GBPAGES,
        uapi::GUESTMAP_WALK_EXECONLY,
    ];
    for bit in 0..32 {
        let f = 1u32 << bit;
        let mut r = long_req(4);
        r.flags = f;
        assert_eq!(
            walk_req(&r).is_ok(),
            long_ok.contains(&f),
            "long flag {f:#x}"
        );
        let mut r = ept_req();
        r.flags = f;
        assert_eq!(walk_req(&r).is_ok(), ept_ok.contains(&f), "ept flag {f:#x}");
    }
    let mut r = long_req(4);
    r.flags = long_ok.iter().fold(0, |a, b| a | b);
    assert!(walk_req(&r).is_ok());
    let mut r = ept_req();
    r.flags = ept_ok.iter().fold(0, |a, b| a | b);
    assert!(walk_req(&r).is_ok());
}

#[test]
fn only_long_mode_without_protection_keys_is_taken() {
    // SDM 4.1.1: 4/5-level paging iff CR0.PG=1, CR4.PAE=1, IA32_EFER.LME=1
    // (LMA reports it); guestmap.h: PKE and PKS are EINVAL.
    for (cr0, cr4, efer) in [(CR0_PG, 0, 0), (0, CR4_PAE, 0), (0, 0, EFER_LMA)] {
        let mut r = long_req(4);
        r.cr0 &= !cr0;
        r.cr4 &= !cr4;
        r.efer &= !efer;
        assert!(refused(&r), "{cr0:#x} {cr4:#x} {efer:#x}");
    }
    for pk in [CR4_PKE, CR4_PKS] {
        let mut r = long_req(5);
        r.cr4 |= pk;
        assert!(refused(&r));
    }
}

#[test]
fn an_ept_request_decodes() {
    let mut r = ept_req();
    r.root = eptp(0x0000_3fff_ffff_f000, true);
    r.access = FETCH;
    r.flags = uapi::GUESTMAP_WALK_EXECONLY;
    let q = req(&r);
    assert_eq!(q.mode.levels(), 4);
    assert!(q.mode.has_ad());
    assert_eq!(q.root, 0x0000_3fff_ffff_f000);
    assert!(q.access.fetch && !q.smap_override && q.set_ad);
    assert!(!req(&ept_req()).mode.has_ad());
    // UC (0) too.
    r.root = ROOT | (3 << 3);
    assert!(walk_req(&r).is_ok());
}

#[test]
fn ept_requests_refuse_what_eptp_and_the_format_reserve() {
    // nested_vmx_check_eptp(): memory type UC (0) or WB (6); page-walk
    // length minus 1 in bits 5:3 (3 for 4 levels); bits 11:7 and 63:M
    // clear.  guestmap.h: no CR0/CR4/EFER, no _USER, address below 2^M.
    for mt in [1, 2, 3, 4, 5, 7] {
        let mut r = ept_req();
        r.root = ROOT | (3 << 3) | mt;
        assert!(refused(&r), "mt {mt}");
    }
    for pwl in [0, 1, 2, 4, 5, 6, 7] {
        let mut r = ept_req();
        r.root = ROOT | 6 | pwl << 3;
        assert!(refused(&r), "pwl {pwl}");
    }
    for bit in (7..12).chain(46..64) {
        let mut r = ept_req();
        r.root |= 1 << bit;
        assert!(refused(&r), "bit {bit}");
    }
    for (cr0, cr4, efer) in [(CR0_PG, 0, 0), (0, CR4_PAE, 0), (0, 0, EFER_LMA)] {
        let mut r = ept_req();
        r.cr0 = cr0;
        r.cr4 = cr4;
        r.efer = efer;
        assert!(refused(&r));
    }
    for acc in [USER, USER | WRITE, USER | FETCH] {
        let mut r = ept_req();
        r.access = acc;
        assert!(refused(&r));
    }
    for maxphy in [36, 46, 52] {
        let mut r = ept_req();
        r.maxphyaddr = maxphy;
        r.addr = (1 << maxphy) - 1;
        assert!(walk_req(&r).is_ok(), "M {maxphy}");
        if maxphy < 52 {
            r.addr = 1 << maxphy;
            assert!(refused(&r), "M {maxphy}");
        }
        r.addr = 1 << 63;
        assert!(refused(&r), "M {maxphy}");
    }
}

// --- The outcome in the UAPI struct (guestmap.h) ------------------------

#[test]
fn the_outcome_fills_the_output_fields() {
    // guestmap.h: @gpa and @page_size for GUESTMAP_WALK_OK; @fault;
    // @level the leaf's level or the faulting entry's; @error the #PF
    // error code or the exit qualification; @ptes[level - 1] the entries
    // walked as the A/D updates left them; @retries.
    let mut r = long_req(4);
    r.flags = uapi::GUESTMAP_WALK_GBPAGES;
    let (mut fake, _) = long_fake(4, 2, PRW);
    let w = run(&r, &mut fake);
    let mut out = r;
    out.error = 0xdead;
    out.fault = 0xdead;
    w.fill_uapi(&mut out);
    assert_eq!(out.fault, uapi::GUESTMAP_WALK_OK);
    assert_eq!(out.gpa, FRAME_2M | (VA & 0x1f_ffff));
    assert_eq!(
        (out.page_size, out.level, out.error, out.retries),
        (1 << 21, 2, 0, 0)
    );
    assert_eq!(
        out.ptes,
        [
            0,
            FRAME_2M | PS | PRW | A,
            next_table(3) | PRW | A,
            next_table(4) | PRW | A,
            0
        ]
    );
    // The inputs are left as they were.
    assert_eq!(
        (out.root, out.addr, out.cr0, out.cr4, out.efer),
        (r.root, r.addr, r.cr0, r.cr4, r.efer)
    );
    assert_eq!(
        (out.format, out.access, out.flags, out.maxphyaddr, out.pad),
        (r.format, r.access, r.flags, r.maxphyaddr, 0)
    );

    // #PF: user read of a supervisor PTE; gpa and page_size not left over.
    let (mut fake, gpas) = long_fake(4, 1, PRW);
    fake.set(gpas[3], FRAME_4K | P);
    let mut r = long_req(4);
    r.access = USER;
    let w = run(&r, &mut fake);
    let mut out = r;
    out.gpa = 0x1234;
    out.page_size = 0x1000;
    w.fill_uapi(&mut out);
    assert_eq!(
        (out.fault, out.error, out.level),
        (uapi::GUESTMAP_WALK_PF, PF_P | PF_U, 1)
    );
    assert_eq!((out.gpa, out.page_size), (0, 0));
    assert_eq!(out.ptes[0], FRAME_4K | P);

    // #GP.
    let mut r = long_req(4);
    r.addr = 0x0000_8000_0000_0000;
    let w = run(&r, &mut Fake::default());
    let mut out = r;
    w.fill_uapi(&mut out);
    assert_eq!(
        (out.fault, out.error, out.gpa),
        (uapi::GUESTMAP_WALK_GP, 0, 0)
    );

    // EPT violation and misconfiguration.
    let (mut fake, _) = ept_fake(1, ER | EMT_WB);
    let mut r = ept_req();
    r.access = WRITE;
    let w = run(&r, &mut fake);
    let mut out = r;
    w.fill_uapi(&mut out);
    assert_eq!(
        (out.fault, out.error, out.level),
        (
            uapi::GUESTMAP_WALK_EPT_VIOLATION,
            Q_BASE | Q_WRITE | Q_READABLE,
            1
        )
    );
    let (mut fake, _) = ept_fake(1, EW | EMT_WB);
    let w = run(&r, &mut fake);
    let mut out = r;
    w.fill_uapi(&mut out);
    assert_eq!(
        (out.fault, out.error, out.level),
        (uapi::GUESTMAP_WALK_EPT_MISCONFIG, 0, 1)
    );
}

#[test]
fn a_fault_reports_the_entry_that_faulted() {
    // guestmap.h: @level is the level "of the entry that faulted" and
    // @ptes[level - 1] the entries walked, so the faulting entry is there.
    for (bad, code) in [
        (0x0ff0_u64, 0),
        (next_table(2) | PRW | 1 << 50, PF_P | PF_RSVD),
    ] {
        let (mut fake, gpas) = long_fake(4, 1, PRW);
        fake.set(gpas[2], bad);
        let w = run(&long_req(4), &mut fake);
        assert_eq!(pf(&w), (code, 2));
        assert_eq!(w.ptes[1], bad);
        assert_eq!(w.ptes[2], next_table(3) | PRW);
        assert_eq!(w.ptes[0], 0);
    }
}
