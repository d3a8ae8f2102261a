// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/mirror/table.rs`, the mirror's radix tree, over the host
//! allocator (`table_alloc.rs`).  The expected table counts come from the
//! geometry of x86 4-level paging that the tree copies: a leaf covers 512
//! pages (2 MiB), an L2 table 512 leaves (1 GiB), an L3 table 512 L2
//! tables (512 GiB), under one root.

use crate::{
    mirror::{
        alloc::LIVE,
        table::{Counts, SetError, Spare, Tree, Walk, ALL, BATCH_TABLES},
    },
    pte::{GfnRange, PfnClass, Pte},
};

fn live() -> i64 {
    LIVE.with(|l| l.get())
}

fn pte(pfn: u64, writable: bool) -> Pte {
    Pte::new(pfn, writable, PfnClass::Page).unwrap()
}

/// Sets `gfn` as a fault would: spare tables first.
fn set(t: &mut Tree, gfn: u64, p: Pte) -> Counts {
    let mut spare = Spare::default();
    spare.fill().unwrap();
    let mut c = Counts::default();
    t.set(gfn, p, &mut spare, &mut c).unwrap();
    c
}

/// Runs a zap (or, with `wp`, a write-protection) of `range` to the end,
/// batch by batch as the mirror does; returns the batches and the counts.
fn run(t: &mut Tree, range: GfnRange, free: bool, wp: bool) -> (u32, Counts) {
    let mut w = Walk::new(range);
    let mut total = Counts::default();
    let mut batches = 0;
    loop {
        batches += 1;
        let done = if wp {
            t.wrprotect(&mut w)
        } else {
            t.zap(free, &mut w)
        };
        let c = core::mem::take(&mut w.counts);
        total.zapped += c.zapped;
        total.wrprotected += c.wrprotected;
        total.tables_freed += c.tables_freed;
        total.huge_partial += c.huge_partial;
        for (t, c) in total.present.iter_mut().zip(c.present) {
            *t += c;
        }
        drop(core::mem::take(&mut w.dead));
        w.next_batch();
        if done {
            return (batches, total);
        }
        assert!(batches < 10_000, "the walk does not end");
    }
}

fn range(start: u64, end: u64) -> GfnRange {
    GfnRange { start, end }
}

#[test]
fn a_first_entry_allocates_one_table_per_level_below_the_root() {
    let mut t = Tree::new().unwrap();
    assert_eq!(live(), 1);
    let c = set(&mut t, 0x12345, pte(7, true));
    assert_eq!(c.tables_allocated, 3);
    assert_eq!(live(), 4);
    assert_eq!(t.get(0x12345), pte(7, true));
    assert_eq!(t.get(0x12344), Pte::NONE);
    assert_eq!(t.get(0x12346), Pte::NONE);
    // The same leaf: no new table.
    assert_eq!(set(&mut t, 0x12200, pte(8, false)).tables_allocated, 0);
    // Another 2 MiB region of the same GiB: one new leaf.
    assert_eq!(set(&mut t, 0x12400, pte(9, false)).tables_allocated, 1);
    drop(t);
    assert_eq!(live(), 0);
}

#[test]
fn a_missing_spare_table_fails_without_a_trace() {
    let mut t = Tree::new().unwrap();
    let mut empty = Spare::default();
    let mut c = Counts::default();
    assert_eq!(
        t.set(5, pte(1, false), &mut empty, &mut c),
        Err(SetError::NoSpare)
    );
    assert_eq!(t.get(5), Pte::NONE);
    // Clearing an entry that has no table needs none.
    assert_eq!(t.set(5, Pte::NONE, &mut empty, &mut c), Ok(()));
    assert_eq!(live(), 1);
}

#[test]
fn zap_with_free_frees_the_tables_wholly_inside_the_range() {
    let mut t = Tree::new().unwrap();
    // Two leaves under one L2 (gfns 0..512 and 512..1024).
    set(&mut t, 3, pte(1, true));
    set(&mut t, 600, pte(2, true));
    assert_eq!(live(), 5); // root, L3, L2, two leaves
                           // The first leaf's span: the leaf goes, the L2 and L3 stay.
    let (_, c) = run(&mut t, range(0, 512), true, false);
    assert_eq!((c.zapped, c.tables_freed), (1, 1));
    assert_eq!(live(), 4);
    assert_eq!(t.get(600), pte(2, true));
    // Part of the second leaf's span: its entry goes, the leaf stays.
    let (_, c) = run(&mut t, range(600, 601), true, false);
    assert_eq!((c.zapped, c.tables_freed), (1, 0));
    assert_eq!(live(), 4);
    // Everything: every table below the root goes.
    let (_, c) = run(&mut t, ALL, true, false);
    assert_eq!((c.zapped, c.tables_freed), (0, 3));
    assert_eq!(live(), 1);
}

#[test]
fn zap_without_free_keeps_the_tables() {
    let mut t = Tree::new().unwrap();
    for gfn in [0, 1, 511, 512] {
        set(&mut t, gfn, pte(gfn + 100, true));
    }
    let before = live();
    let (_, c) = run(&mut t, range(0, 1024), false, false);
    assert_eq!((c.zapped, c.tables_freed), (4, 0));
    assert_eq!(live(), before);
    for gfn in [0, 1, 511, 512] {
        assert_eq!(t.get(gfn), Pte::NONE);
    }
}

#[test]
fn write_protection_clears_only_the_write_bit_and_only_in_range() {
    let mut t = Tree::new().unwrap();
    set(&mut t, 10, pte(1, true));
    set(&mut t, 11, pte(2, false));
    set(&mut t, 12, pte(3, true));
    let (_, c) = run(&mut t, range(10, 12), false, true);
    assert_eq!(c.wrprotected, 1);
    assert_eq!(t.get(10), pte(1, false));
    assert_eq!(t.get(11), pte(2, false));
    assert_eq!(t.get(12), pte(3, true));
    assert_eq!(c.zapped, 0);
}

#[test]
fn a_large_range_is_done_in_bounded_batches_that_miss_nothing() {
    let mut t = Tree::new().unwrap();
    // One entry in each of 40 leaves, spread over two L2 tables.
    let gfns: [u64; 40] = core::array::from_fn(|i| i as u64 * 512 * 14 + i as u64);
    for &gfn in &gfns {
        set(&mut t, gfn, pte(gfn, true));
    }
    let leaves: u64 = 40;
    // Leaf indices 0, 14, ... 546: the last three past 511, in a second
    // L2 table.
    let l2s: u64 = 2;
    assert_eq!(live() as u64, 1 + 1 + l2s + leaves);
    let (batches, c) = run(&mut t, ALL, true, false);
    // Each batch visits at most BATCH_TABLES tables; 43 tables below the
    // root need at least six batches.
    let visits = 1 + l2s + leaves;
    let batch = u64::from(BATCH_TABLES);
    assert!(u64::from(batches) >= visits.div_ceil(batch));
    assert_eq!(c.zapped, 40);
    assert_eq!(c.tables_freed, visits);
    assert_eq!(live(), 1);
    for &gfn in &gfns {
        assert_eq!(t.get(gfn), Pte::NONE);
    }
}

#[test]
fn batched_write_protection_reaches_every_entry() {
    let mut t = Tree::new().unwrap();
    let gfns: [u64; 30] = core::array::from_fn(|i| i as u64 * 512 + 7);
    for &gfn in &gfns {
        set(&mut t, gfn, pte(gfn, true));
    }
    let (batches, c) = run(&mut t, range(0, 30 * 512), false, true);
    assert!(batches > 1);
    assert_eq!(c.wrprotected, 30);
    for &gfn in &gfns {
        assert_eq!(t.get(gfn), pte(gfn, false));
    }
}

// Huge entries.  A 2 MiB entry sits in a level-2 table and covers 512
// gfns, a 1 GiB entry in a level-3 table and covers 512 * 512, as a PMD
// and a PUD leaf do in x86 paging.

fn huge(pfn: u64, writable: bool, level: u32) -> Pte {
    pte(pfn, writable).at_level(level).unwrap()
}

/// Sets `p` with a spare that is filled first; returns the counts and
/// the spare, whose dead table the caller may check.
fn set_keep(t: &mut Tree, gfn: u64, p: Pte) -> (Counts, Spare) {
    let mut spare = Spare::default();
    spare.fill().unwrap();
    let mut c = Counts::default();
    t.set(gfn, p, &mut spare, &mut c).unwrap();
    (c, spare)
}

#[test]
fn a_huge_entry_needs_no_table_at_its_level_and_reads_per_page() {
    let mut t = Tree::new().unwrap();
    let c = set(&mut t, 0x40005, huge(0x8000, true, 2));
    // L3 and L2; no leaf table.
    assert_eq!(c.tables_allocated, 2);
    assert_eq!(c.present, [0, 1, 0]);
    assert_eq!(c.faulted, 512);
    // One entry installed, of 2 MiB: what guestmap_fault reports.
    assert_eq!(c.installed, [0, 1, 0]);
    assert_eq!(live(), 3);
    // Every page of the block reads as its own page of the entry.
    for off in [0u64, 1, 5, 511] {
        let e = t.get(0x40000 + off);
        assert_eq!(e.pfn(), 0x8000 + off);
        assert_eq!(e.level(), 2);
        assert!(e.is_writable());
    }
    assert_eq!(t.get(0x40200), Pte::NONE);
    assert_eq!(t.get(0x3ffff), Pte::NONE);
    // The same entry again changes nothing.
    let c = set(&mut t, 0x40000, huge(0x8000, true, 2));
    assert_eq!(
        (c.faulted, c.present, c.installed),
        (0, [0, 0, 0], [0, 0, 0])
    );
    drop(t);
    assert_eq!(live(), 0);
}

#[test]
fn a_huge_pfn_must_be_aligned_to_its_size() {
    assert_eq!(pte(0x8001, true).at_level(2), None);
    assert_eq!(pte(0x40000 + 512, true).at_level(3), None);
    assert!(pte(0x40000, true).at_level(3).is_some());
    assert_eq!(pte(1, true).at_level(4), None);
    assert_eq!(pte(1, true).at_level(0), None);
}

#[test]
fn a_huge_entry_replaces_a_leaf_table_and_counts_what_it_held() {
    let mut t = Tree::new().unwrap();
    set(&mut t, 0x200, pte(0x1000, false));
    set(&mut t, 0x201, pte(0x1001, false));
    assert_eq!(live(), 4);
    let (c, mut spare) = set_keep(&mut t, 0x200, huge(0x1000, true, 2));
    assert_eq!(c.present, [-2, 1, 0]);
    assert_eq!(c.tables_freed, 1);
    assert_eq!(t.get(0x2ff).pfn(), 0x10ff);
    // The spare's own leaf was unused: the replaced one is dead, to be
    // freed after the lock; the tree holds root, L3, L2 only.
    drop(spare.take_dead());
    drop(spare);
    assert_eq!(live(), 3);
}

#[test]
fn a_zap_of_part_of_a_huge_entry_zaps_all_of_it() {
    let mut t = Tree::new().unwrap();
    set(&mut t, 0x400, huge(0x2000, true, 2));
    let (_, c) = run(&mut t, range(0x410, 0x411), false, false);
    assert_eq!((c.zapped, c.huge_partial), (512, 1));
    assert_eq!(c.present, [0, -1, 0]);
    assert_eq!(t.get(0x400), Pte::NONE);
    assert_eq!(t.get(0x5ff), Pte::NONE);
    // A whole one is not partial.
    set(&mut t, 0x400, huge(0x2000, true, 2));
    let (_, c) = run(&mut t, range(0x400, 0x600), true, false);
    assert_eq!((c.zapped, c.huge_partial), (512, 0));
    assert_eq!(live(), 3);
}

#[test]
fn a_write_protection_of_part_of_a_huge_entry_keeps_all_of_it_read_only() {
    let mut t = Tree::new().unwrap();
    set(&mut t, 0x400, huge(0x2000, true, 2));
    let (_, c) = run(&mut t, range(0x5ff, 0x600), false, true);
    assert_eq!((c.wrprotected, c.huge_partial), (512, 1));
    let e = t.get(0x400);
    assert!(e.is_present() && !e.is_writable());
    assert_eq!((e.pfn(), e.level()), (0x2000, 2));
    // Already read-only: nothing to count.
    let (_, c) = run(&mut t, range(0x400, 0x600), false, true);
    assert_eq!((c.wrprotected, c.huge_partial), (0, 0));
}

#[test]
fn a_small_entry_inside_a_huge_one_splits_it_and_keeps_the_rest() {
    let mut t = Tree::new().unwrap();
    set(&mut t, 0x400, huge(0x2000, false, 2));
    let c = set(&mut t, 0x405, pte(0x2005, true));
    assert_eq!((c.huge_splits, c.tables_allocated), (1, 1));
    // -1 huge, +512 small from the split; the set replaced one of them.
    assert_eq!(c.present, [512, -1, 0]);
    assert_eq!(c.faulted, 1);
    // The split's copies are not installs: only the one entry set.
    assert_eq!(c.installed, [1, 0, 0]);
    assert_eq!(t.get(0x405), pte(0x2005, true));
    assert_eq!(t.get(0x404), pte(0x2004, false));
    assert_eq!(t.get(0x5ff), pte(0x21ff, false));
    assert_eq!(t.get(0x404).level(), 1);
}

#[test]
fn a_gigabyte_entry_splits_twice_for_a_small_one() {
    let mut t = Tree::new().unwrap();
    let base = 1u64 << 18;
    let c = set(&mut t, base + 7, huge(0x40000, true, 3));
    assert_eq!((c.tables_allocated, c.present), (1, [0, 0, 1]));
    assert_eq!(c.faulted, 1 << 18);
    assert_eq!(c.installed, [0, 0, 1]);
    assert_eq!(t.get(base + 0x3ffff).pfn(), 0x40000 + 0x3ffff);
    assert_eq!(t.get(base).level(), 3);
    let c = set(&mut t, base + 0x201, pte(0x40201, false));
    assert_eq!((c.huge_splits, c.tables_allocated), (2, 2));
    assert_eq!(c.present, [512, 511, -1]);
    assert_eq!(t.get(base + 0x200).level(), 1);
    assert_eq!(t.get(base + 0x400).level(), 2);
    assert_eq!(t.get(base + 0x400).pfn(), 0x40400);
    assert!(t.get(base + 0x400).is_writable());
    assert!(!t.get(base + 0x201).is_writable());
    // Zap everything: 1 GiB of pages counted once each.
    let (_, c) = run(&mut t, ALL, true, false);
    assert_eq!(c.zapped, 1 << 18);
    assert_eq!(c.present, [-512, -511, 0]);
    drop(t);
    assert_eq!(live(), 0);
}

#[test]
fn a_gigabyte_entry_replaces_a_table_of_few_tables_and_counts_them_out() {
    let mut t = Tree::new().unwrap();
    let base = 1u64 << 18;
    // A 1 GiB entry, split by a small one, then cleared (tables kept):
    // the GiB can be mapped whole again.
    set(&mut t, base, huge(0x40000, true, 3));
    set(&mut t, base + 3, pte(0x40003, true));
    let (_, c) = run(&mut t, range(base, base + (1 << 18)), false, false);
    assert_eq!(c.zapped, 1 << 18);
    assert_eq!(live(), 4); // root, L3, L2, leaf
    let (c, mut spare) = set_keep(&mut t, base, huge(0x40000, true, 3));
    assert_eq!(c.present, [0, 0, 1]);
    assert_eq!(c.tables_freed, 2);
    assert_eq!(t.get(base + 3).level(), 3);
    drop(spare.take_dead());
    drop(spare);
    assert_eq!(live(), 2);
    // Entries still under it are counted out.
    let mut t = Tree::new().unwrap();
    set(&mut t, base + 3, pte(9, true));
    set(&mut t, base + 0x200, huge(0x400, true, 2));
    let (c, _spare) = set_keep(&mut t, base, huge(0x40000, true, 3));
    assert_eq!(c.present, [-1, -1, 1]);
}

#[test]
fn a_gigabyte_entry_never_replaces_a_table_of_many_tables() {
    let mut t = Tree::new().unwrap();
    let base = 1u64 << 18;
    for i in 0..=BATCH_TABLES as u64 {
        set(&mut t, base + i * 512 + 3, pte(9 + i, true));
    }
    let mut spare = Spare::default();
    spare.fill().unwrap();
    let mut c = Counts::default();
    assert_eq!(
        t.set(base, huge(0x40000, true, 3), &mut spare, &mut c),
        Err(SetError::Occupied)
    );
    assert_eq!(c.present, [0, 0, 0]);
    assert_eq!(t.get(base + 3), pte(9, true));
    // A 2 MiB one over a leaf table is fine.
    let c = set(&mut t, base, huge(0x40000, true, 2));
    assert_eq!(c.present, [-1, 1, 0]);
}
