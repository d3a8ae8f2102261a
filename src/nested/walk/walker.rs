// SPDX-License-Identifier: GPL-2.0

//! The walk itself, over any [`Tables`]: KVM's `walk_addr_generic()` and
//! `update_accessed_dirty_bits()` (arch/x86/kvm/mmu/paging_tmpl.h), step
//! for step, so that a difference from KVM is a bug here.
//!
//! One entry is read per level, each on its own (as the CPU reads them):
//! a translation is made of entries each of which was in memory when it
//! was read.  A/D updates are a cmpxchg per entry against the value the
//! walk read: an entry changed since makes the whole walk start again,
//! so no update ever overwrites someone else's change.
//!
//! Pure logic, host-tested over an array of tables.

use super::paging::{pferr, Fault, Mode, Rights, WalkReq};
use crate::uapi;

/// A walk gives up when its A/D update has found an entry changed since
/// its read this many times (so it restarts at most one time less).
pub(crate) const MAX_RETRIES: u32 = 1000;

/// The most levels a walk has.
pub(crate) const MAX_LEVELS: usize = uapi::GUESTMAP_WALK_MAX_LEVELS as usize;

/// An entry read from a guest table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Its value.
    pub(crate) value: u64,
    /// Whether its A/D bits may be updated: the memory is not a READONLY
    /// slot (KVM's `pte_writable`).
    pub(crate) writable: bool,
}

/// Guest page tables, by guest physical address.
pub(crate) trait Tables {
    /// Why the tables could not be reached (the memory behind them is
    /// gone, or a signal came).
    type Error;

    /// The 8-byte entry at `gpa` of a table of `level`, or `None` if no
    /// memory the guest can see is there.
    fn read(&mut self, level: u32, gpa: u64) -> Result<Option<Entry>, Self::Error>;

    /// Replaces the entry at `gpa` of a table of `level` with `new` if it
    /// still is `old`; whether it did.
    fn cmpxchg(&mut self, level: u32, gpa: u64, old: u64, new: u64) -> Result<bool, Self::Error>;
}

/// Why a walk ended without an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WalkError<E> {
    /// The tables could not be reached.
    Tables(E),
    /// The entries kept changing under the A/D updates.
    Retries,
}

/// What a walk found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Walked {
    /// The translation, or the fault the access takes.
    pub(crate) result: Result<u64, Fault>,
    /// The leaf's level, or the level where the walk stopped; 0 for a
    /// #GP, which stops it before any level.
    pub(crate) level: u32,
    /// The entries read, `ptes[level - 1]`, as the A/D updates left
    /// them, the one that faulted included; 0 for levels not reached.
    pub(crate) ptes: [u64; MAX_LEVELS],
    /// How many times the walk started again.
    pub(crate) retries: u32,
}

impl Walked {
    /// The size of the page that maps the address: 4 KiB, 2 MiB or
    /// 1 GiB, for a walk that reached a leaf.
    pub(crate) fn page_size(&self) -> u64 {
        match self.level {
            0 => 0,
            level => 1u64 << (12 + 9 * (level - 1)),
        }
    }

    /// Writes the outcome into the output fields of `raw`.
    pub(crate) fn fill_uapi(&self, raw: &mut uapi::guestmap_walk) {
        raw.gpa = 0;
        raw.page_size = 0;
        raw.error = 0;
        (raw.fault, raw.error) = match self.result {
            Ok(gpa) => {
                raw.gpa = gpa;
                raw.page_size = self.page_size();
                (uapi::GUESTMAP_WALK_OK, 0)
            }
            Err(Fault::Pf(code)) => (uapi::GUESTMAP_WALK_PF, code),
            Err(Fault::Gp) => (uapi::GUESTMAP_WALK_GP, 0),
            Err(Fault::EptViolation(q)) => (uapi::GUESTMAP_WALK_EPT_VIOLATION, q),
            Err(Fault::EptMisconfig) => (uapi::GUESTMAP_WALK_EPT_MISCONFIG, 0),
        };
        raw.level = self.level;
        raw.ptes = self.ptes;
        raw.retries = self.retries;
    }
}

/// One pass of the walk: what it read, where, and how it ended.
struct Pass {
    ptes: [u64; MAX_LEVELS],
    gpas: [u64; MAX_LEVELS],
    writable: [bool; MAX_LEVELS],
    level: u32,
    rights: Rights,
}

/// Walks `tables` for `req`, setting A/D bits if it asks.
pub(crate) fn walk<T: Tables>(
    req: &WalkReq,
    tables: &mut T,
) -> Result<Walked, WalkError<T::Error>> {
    let mode = &req.mode;
    let mut walked = Walked {
        result: Err(Fault::Gp),
        level: 0,
        ptes: [0; MAX_LEVELS],
        retries: 0,
    };
    if !mode.is_canonical(req.addr) {
        return Ok(walked);
    }
    loop {
        let (pass, ended) = one_pass(req, tables).map_err(WalkError::Tables)?;
        walked.ptes = pass.ptes;
        walked.level = pass.level;
        let gpa = match ended {
            Err(code) => {
                walked.result = Err(mode.fault(code, req.access, pass.rights));
                return Ok(walked);
            }
            Ok(gpa) => gpa,
        };
        if !req.set_ad || !needs_ad(mode, &pass, req.access.write) {
            walked.result = Ok(gpa);
            return Ok(walked);
        }
        if set_ad(mode, &pass, req.access.write, tables, &mut walked.ptes)
            .map_err(WalkError::Tables)?
        {
            walked.result = Ok(gpa);
            return Ok(walked);
        }
        walked.retries += 1;
        if walked.retries >= MAX_RETRIES {
            return Err(WalkError::Retries);
        }
    }
}

/// Reads one entry per level down to the leaf and checks the access:
/// `Ok(gpa)`, or `Err` with the P and RSVD bits of the fault.
fn one_pass<T: Tables>(
    req: &WalkReq,
    tables: &mut T,
) -> Result<(Pass, Result<u64, u64>), T::Error> {
    let mode = &req.mode;
    let mut pass = Pass {
        ptes: [0; MAX_LEVELS],
        gpas: [0; MAX_LEVELS],
        writable: [false; MAX_LEVELS],
        level: mode.levels(),
        rights: Rights::ALL,
    };
    let mut table = req.root;
    let mut level = mode.levels();
    loop {
        pass.level = level;
        let i = (level - 1) as usize;
        let gpa = table + mode.index(req.addr, level) * 8;
        // A table in no memory the guest sees: not present, as KVM's
        // `kvm_is_visible_memslot()` check sends it to `error:` with the
        // rights of the levels above.
        let Some(entry) = tables.read(level, gpa)? else {
            return Ok((pass, Err(0)));
        };
        let pte = entry.value;
        pass.ptes[i] = pte;
        pass.rights = mode.and(pass.rights, pte);
        if !mode.is_present(pte) {
            return Ok((pass, Err(0)));
        }
        if mode.is_rsvd(pte, level) {
            return Ok((pass, Err(pferr::RSVD | pferr::PRESENT)));
        }
        pass.gpas[i] = gpa;
        pass.writable[i] = entry.writable;
        if mode.is_leaf(pte, level) {
            break;
        }
        table = pte & super::paging::ADDR_MASK;
        level -= 1;
    }
    let code = mode.permission(pass.rights, req.access, req.smap_override);
    if code != 0 {
        return Ok((pass, Err(code)));
    }
    let gpa = mode.leaf_gpa(pass.ptes[(level - 1) as usize], level, req.addr);
    Ok((pass, Ok(gpa)))
}

/// Whether a successful `pass` leaves an A bit, or for a write the leaf's
/// D bit, to set: KVM's `accessed_dirty`.
fn needs_ad(mode: &Mode, pass: &Pass, write: bool) -> bool {
    if !mode.has_ad() {
        return false;
    }
    let mut done = pass.rights.raw() & mode.accessed() != 0;
    if write {
        done &= pass.ptes[(pass.level - 1) as usize] & mode.dirty() != 0;
    }
    !done
}

/// Sets A in every entry of `pass` and, for a write, D in its leaf, top
/// down, each with a cmpxchg against the value read; entries that need
/// no change or are not writable are left alone.  `false` if an entry
/// had changed: the walk must start again.
fn set_ad<T: Tables>(
    mode: &Mode,
    pass: &Pass,
    write: bool,
    tables: &mut T,
    ptes: &mut [u64; MAX_LEVELS],
) -> Result<bool, T::Error> {
    for level in (pass.level..=mode.levels()).rev() {
        let i = (level - 1) as usize;
        let old = pass.ptes[i];
        let mut new = old | mode.accessed();
        if level == pass.level && write {
            new |= mode.dirty();
        }
        if new == old || !pass.writable[i] {
            continue;
        }
        if !tables.cmpxchg(level, pass.gpas[i], old, new)? {
            return Ok(false);
        }
        ptes[i] = new;
    }
    Ok(true)
}
