// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap mirror selftests: memslots, MIRROR_FAULT, and what each kind of
 * MMU-notifier event does to the mirror.
 *
 * Every test checks data, not only counters: after each event, what the
 * guest reads through the mirror (READ_GUEST) must be what user space sees
 * at the same address.  Expected counter values are worked out from the
 * mirror's shape (4-level tables of 512 entries, as x86 paging) and from
 * what the event does to the CPU's page tables, not from the module.
 *
 * Run as root in the test VM with guestmap.ko loaded.  The PFNMAP test
 * needs the VM booted with reserved RAM named by GUESTMAP_RESERVED
 * (selftests/run_vm_tests.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"
#include "guestmap_mirror.h"

#define MPOL_MF_MOVE	(1 << 1)

static long move_pages(int pid, unsigned long n, void **pages,
		       const int *nodes, int *status, int flags)
{
	return syscall(SYS_move_pages, pid, n, pages, nodes, status, flags);
}

#define DEBUGFS_DIR	"/sys/kernel/debug/guestmap"
#define SLOT_GPA	0x40000000UL	/* 1 GiB: a 2 MiB- and 1 GiB-aligned gpa */

/* Mirror tables for a fresh slot of <= 512 pages at a 2 MiB-aligned gpa:
 * one table at each of the levels 3, 2 and 1 below the root (PDPT, PD
 * and PT in x86 terms).
 */
#define TABLES_FOR_ONE_LEAF	3

FIXTURE(slot) {
	int fd;
	size_t npages;
	size_t len;
	char *buf;
};

FIXTURE_SETUP(slot)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	self->npages = 64;
	self->len = self->npages * PAGE;
	self->buf = map_aligned(self->len, 2UL << 20);
	ASSERT_NE(NULL, self->buf);
	fill(self->buf, self->len, 1);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, self->len, self->buf));
}

FIXTURE_TEARDOWN(slot)
{
	close(self->fd);
	munmap(self->buf, self->len);
}

TEST(memslot_rules)
{
	int fd = open_dev();
	char *buf = map_aligned(16 * PAGE, PAGE);
	char *u = buf;

	ASSERT_LE(0, fd);
	/* Unaligned gpa, size and user address. */
	EXPECT_EQ(EINVAL, set_slot(fd, 0, 0, 0x800, PAGE, u));
	EXPECT_EQ(EINVAL, set_slot(fd, 0, 0, 0, PAGE + 1, u));
	EXPECT_EQ(EINVAL, set_slot(fd, 0, 0, 0, PAGE, u + 8));
	/* Unknown flags and slot ids. */
	EXPECT_EQ(EINVAL, set_slot(fd, 0, 2, 0, PAGE, u));
	EXPECT_EQ(EINVAL, set_slot(fd, GUESTMAP_MAX_MEMSLOTS, 0, 0, PAGE, u));
	/* Guest range past 2^48, or wrapping. */
	EXPECT_EQ(EINVAL, set_slot(fd, 0, 0, (1ULL << 48) - PAGE, 2 * PAGE, u));
	EXPECT_EQ(EINVAL, set_slot(fd, 0, 0, -(uint64_t)PAGE, 2 * PAGE, u));
	/*
	 * User range into kernel space, or wrapping: as 64-bit values, which
	 * a 32-bit process can pass too.
	 */
	EXPECT_EQ(EINVAL, set_slot_addr(fd, 0, 0, 0, 2 * PAGE, 0xffff800000000000ULL));
	EXPECT_EQ(EINVAL, set_slot_addr(fd, 0, 0, 0, 2 * PAGE, -(uint64_t)PAGE));
	/*
	 * The limit is the caller's own TASK_SIZE: for a 32-bit process
	 * IA32_PAGE_OFFSET, 0xffffe000 (arch/x86/include/asm/page_64_types.h),
	 * so a range ending there is its own and one page more, or anything
	 * at 4 GiB, is not; a 64-bit process may name those.
	 */
#ifdef __i386__
	EXPECT_EQ(0, set_slot_addr(fd, 0, 0, 0, 2 * PAGE, 0xffffc000ULL));
	EXPECT_EQ(0, set_slot_addr(fd, 0, 0, 0, 0, 0));
	EXPECT_EQ(EINVAL, set_slot_addr(fd, 0, 0, 0, 2 * PAGE, 0xffffd000ULL));
	EXPECT_EQ(EINVAL, set_slot_addr(fd, 0, 0, 0, 2 * PAGE, 1ULL << 32));
#else
	EXPECT_EQ(0, set_slot_addr(fd, 0, 0, 0, 2 * PAGE, 1ULL << 32));
	EXPECT_EQ(0, set_slot_addr(fd, 0, 0, 0, 0, 0));
#endif
	/* Deleting what does not exist. */
	EXPECT_EQ(EINVAL, set_slot(fd, 7, 0, 0, 0, NULL));

	ASSERT_EQ(0, set_slot(fd, 1, 0, 0x10000, 4 * PAGE, u));
	/* The id is taken; the ranges overlap at either end or inside. */
	EXPECT_EQ(EEXIST, set_slot(fd, 1, 0, 0x100000, PAGE, u));
	EXPECT_EQ(EEXIST, set_slot(fd, 2, 0, 0xf000, 2 * PAGE, u));
	EXPECT_EQ(EEXIST, set_slot(fd, 2, 0, 0x13000, 2 * PAGE, u));
	EXPECT_EQ(EEXIST, set_slot(fd, 2, 0, 0x8000, 16 * PAGE, u));
	/* Adjacent is fine, and the same user memory twice is fine. */
	EXPECT_EQ(0, set_slot(fd, 2, 0, 0x14000, 4 * PAGE, u));
	EXPECT_EQ(0, set_slot(fd, 3, 0, 0xc000, 4 * PAGE, u));
	/* Ending exactly at 2^48 is fine. */
	EXPECT_EQ(0, set_slot(fd, 4, 0, (1ULL << 48) - PAGE, PAGE, u));
	/* Delete, then the id and range are free again. */
	EXPECT_EQ(0, set_slot(fd, 1, 0, 0, 0, NULL));
	EXPECT_EQ(0, set_slot(fd, 1, 0, 0x10000, 4 * PAGE, u));
	/* A bad argument pointer. */
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_SET_MEMSLOT, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	close(fd);
	munmap(buf, 16 * PAGE);
}

TEST(fault_and_access_rules)
{
	int fd = open_dev();
	char *buf = map_aligned(8 * PAGE, PAGE);
	struct guestmap_fault f = { .gpa = 0, .size = PAGE, .pad = 1 };
	char b[16];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_slot(fd, 0, 0, 0, 4 * PAGE, buf));
	/* No slot there, or the range leaves the slot. */
	EXPECT_EQ(ENOENT, fault(fd, 8 * PAGE, PAGE, 0));
	EXPECT_EQ(ENOENT, fault(fd, 2 * PAGE, 4 * PAGE, 0));
	EXPECT_EQ(ENOENT, guest_rw(fd, 4 * PAGE - 8, b, 16, 0));
	/* Empty, unaligned, wrapping, bad flags, nonzero padding. */
	EXPECT_EQ(EINVAL, fault(fd, 0, 0, 0));
	EXPECT_EQ(EINVAL, fault(fd, 1, PAGE, 0));
	EXPECT_EQ(EINVAL, fault(fd, -(uint64_t)PAGE, 2 * PAGE, 0));
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_MIRROR_FAULT, &f));
	EXPECT_EQ(EINVAL, errno);
	f.pad = 0;
	f.flags = 2;
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_MIRROR_FAULT, &f));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(EINVAL, guest_rw(fd, 0, b, 0, 0));
	EXPECT_EQ(EINVAL, guest_rw(fd, 0, b, GUESTMAP_RW_MAX + 1, 0));
	/* A bad user buffer is EFAULT, in both directions. */
	EXPECT_EQ(EFAULT, guest_rw(fd, 0, (void *)8, 16, 0));
	EXPECT_EQ(EFAULT, guest_rw(fd, 0, (void *)8, 16, 1));
	/* Nothing mapped behind the slot. */
	munmap(buf + 2 * PAGE, 2 * PAGE);
	EXPECT_EQ(EFAULT, fault(fd, 2 * PAGE, PAGE, 0));
	EXPECT_EQ(EFAULT, guest_rw(fd, 3 * PAGE, b, 8, 0));
	/* Query: too many pages, unaligned. */
	EXPECT_EQ(EINVAL, query(fd, 0, GUESTMAP_QUERY_MAX + 1, (uint64_t *)b));
	EXPECT_EQ(EINVAL, query(fd, 1, 1, (uint64_t *)b));
	EXPECT_EQ(EFAULT, query(fd, 0, 1, (uint64_t *)8));
	close(fd);
	munmap(buf, 2 * PAGE);
}

/*
 * Guest physical addresses are GUESTMAP_GPA_BITS (48) wide.  QUERY used to
 * index the mirror with gpa mod 2^48, so gpa 2^48 reported gpa 0's entry,
 * pfn included; every ioctl must refuse such an address with EINVAL.
 */
TEST(addresses_past_the_guest_address_width_are_einval)
{
	const uint64_t top = 1ULL << GUESTMAP_GPA_BITS;
	int fd = open_dev();
	char *buf = map_aligned(PAGE, PAGE);
	struct guestmap_access a = { .len = 8, .op = GUESTMAP_ACCESS_READ };
	uint64_t e[2] = { 0, 0 };
	char b[8];

	ASSERT_LE(0, fd);
	buf[0] = 1;
	ASSERT_EQ(0, set_slot(fd, 0, 0, 0, PAGE, buf));
	ASSERT_EQ(0, fault(fd, 0, PAGE, 1));
	ASSERT_EQ(0, query(fd, 0, 1, e));
	ASSERT_TRUE(e[0] & GUESTMAP_PAGE_PRESENT);
	e[0] = 0;
	EXPECT_EQ(EINVAL, query(fd, top, 1, e));
	EXPECT_EQ(0, e[0]);
	EXPECT_EQ(EINVAL, query(fd, top - PAGE, 2, e));
	EXPECT_EQ(EINVAL, query(fd, top | (1ULL << 62), 1, e));
	EXPECT_EQ(EINVAL, fault(fd, top, PAGE, 0));
	EXPECT_EQ(EINVAL, guest_rw(fd, top, b, 8, 0));
	EXPECT_EQ(EINVAL, guest_rw(fd, top - 4, b, 8, 1));
	a.gpa = top;
	a.buf = (uintptr_t)b;
	EXPECT_EQ(-1, ioctl(fd, GUESTMAP_ACCESS, &a));
	EXPECT_EQ(EINVAL, errno);
	/* The last page below the limit is an ordinary address. */
	EXPECT_EQ(0, query(fd, top - PAGE, 1, e));
	EXPECT_EQ(ENOENT, fault(fd, top - PAGE, PAGE, 0));
	close(fd);
	munmap(buf, PAGE);
}

TEST_F(slot, fault_installs_what_the_cpu_maps)
{
	struct guestmap_stats s;
	uint64_t *e = calloc(self->npages, 8);
	size_t i;

	ASSERT_NE(NULL, e);
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 0));
	s = stats(self->fd);
	EXPECT_EQ(1, s.faults);
	EXPECT_EQ(self->npages, s.pages_faulted);
	EXPECT_EQ(self->npages, s.entries_present);
	EXPECT_EQ(TABLES_FOR_ONE_LEAF, s.tables_allocated);
	EXPECT_EQ(0, s.tables_freed);

	/* We are root: the pfns are shown, and are pagemap's. */
	ASSERT_EQ(0, query(self->fd, SLOT_GPA, self->npages, e));
	for (i = 0; i < self->npages; i++) {
		uint64_t pm = pagemap_entry(self->buf + i * PAGE);

		ASSERT_TRUE(e[i] & GUESTMAP_PAGE_PRESENT);
		/* Read fault: read-only, even where the CPU pte is writable. */
		ASSERT_FALSE(e[i] & GUESTMAP_PAGE_WRITABLE);
		ASSERT_EQ(GUESTMAP_CLASS_PAGE, class_of(e[i]));
		ASSERT_TRUE(pm & PM_PRESENT);
		ASSERT_EQ(PM_PFN(pm), e[i] >> GUESTMAP_PAGE_PFN_SHIFT);
	}
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
	/* Reading faulted nothing more. */
	EXPECT_EQ(self->npages, stats(self->fd).pages_faulted);

	/* A second fault of the same range changes nothing. */
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 0));
	EXPECT_EQ(self->npages, stats(self->fd).pages_faulted);
	/* Write fault: the entries become writable. */
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 1));
	EXPECT_EQ(2 * self->npages, stats(self->fd).pages_faulted);
	EXPECT_TRUE(query1(self->fd, SLOT_GPA) & GUESTMAP_PAGE_WRITABLE);
	free(e);
}

TEST_F(slot, guest_and_user_see_each_others_writes)
{
	char msg[] = "written by the guest across a page boundary";
	uint64_t gpa = SLOT_GPA + 5 * PAGE - 10;
	char back[sizeof(msg)];

	ASSERT_EQ(0, guest_rw(self->fd, gpa, msg, sizeof(msg), 1));
	EXPECT_EQ(0, memcmp(self->buf + 5 * PAGE - 10, msg, sizeof(msg)));
	/* User writes show through the entries now present. */
	memcpy(self->buf + 7 * PAGE, "user", 4);
	ASSERT_EQ(0, guest_rw(self->fd, SLOT_GPA + 7 * PAGE, back, 4, 0));
	EXPECT_EQ(0, memcmp(back, "user", 4));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
}

TEST(untouched_memory_reads_as_the_zero_page)
{
	int fd = open_dev();
	char *buf = map_aligned(4 * PAGE, PAGE);
	char zero[PAGE] = { 0 };
	uint64_t e;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_slot(fd, 0, 0, 0, 4 * PAGE, buf));
	EXPECT_TRUE(guest_equals(fd, 0, zero, PAGE));
	e = query1(fd, 0);
	EXPECT_EQ(GUESTMAP_CLASS_ZERO, class_of(e));
	EXPECT_FALSE(e & GUESTMAP_PAGE_WRITABLE);
	/* A guest write breaks CoW of the zero page into a page of its own. */
	ASSERT_EQ(0, guest_rw(fd, 8, "x", 1, 1));
	EXPECT_EQ('x', buf[8]);
	e = query1(fd, 0);
	EXPECT_EQ(GUESTMAP_CLASS_PAGE, class_of(e));
	EXPECT_TRUE(e & GUESTMAP_PAGE_WRITABLE);
	close(fd);
	munmap(buf, 4 * PAGE);
}

/*
 * A write fault of read-faulted memory breaks copy-on-write of the zero
 * page (the huge one, with THP) on every page, and each break sends an
 * invalidation of its own page (wp_page_copy(), or __split_huge_pmd() for
 * the huge zero page), which fails the walk's sequence.  hmm faults a
 * whole range before it fails (hmm_vma_fault()), so a walk is redone once
 * per 2 MiB block, twice where the huge zero page is first split; the
 * walk must not fault a page at a time and be redone after each.
 */
static void write_after_read(struct __test_metadata *_metadata, int huge)
{
	size_t len = 8UL << 20;
	char *buf = map_aligned(len, 2UL << 20);
	uint64_t retries;
	int fd = open_dev();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, madvise(buf, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE));
	ASSERT_EQ(0, set_slot(fd, 0, 0, SLOT_GPA, len, buf));
	ASSERT_EQ(0, fault(fd, SLOT_GPA, len, 0));
	retries = stats(fd).retries;
	ASSERT_EQ(0, fault(fd, SLOT_GPA, len, 1));
	EXPECT_LE(stats(fd).retries - retries, 2 * (len >> 21));
	EXPECT_EQ(len / PAGE, stats(fd).entries_present);
	ASSERT_EQ(0, guest_rw(fd, SLOT_GPA + len - 8, "written", 8, 1));
	EXPECT_EQ(0, memcmp(buf + len - 8, "written", 8));
	close(fd);
	munmap(buf, len);
}

TEST(write_after_read_redoes_a_walk_per_block_not_per_page)
{
	write_after_read(_metadata, 0);
}

TEST(write_after_read_of_the_huge_zero_page_redoes_few_walks)
{
	write_after_read(_metadata, 1);
}

TEST(munmap_zaps_and_frees_tables)
{
	int fd = open_dev();
	size_t len = 2UL << 20;	/* exactly one leaf table's span */
	char *buf = map_aligned(len, len);
	struct guestmap_stats s0, s;
	char b[8];

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	/* 4K pages, so that the CPU's page tables match the mirror's. */
	ASSERT_EQ(0, madvise(buf, len, MADV_NOHUGEPAGE));
	fill(buf, len, 3);
	ASSERT_EQ(0, set_slot(fd, 0, 0, SLOT_GPA, len, buf));
	ASSERT_EQ(0, fault(fd, SLOT_GPA, len, 0));
	s0 = stats(fd);
	ASSERT_EQ(512, s0.entries_present);
	ASSERT_EQ(TABLES_FOR_ONE_LEAF, s0.tables_allocated);

	/*
	 * Unmap the second half.  Splitting the vma in mid-PMD first sends a
	 * CLEAR for the whole 2 MiB (split_huge_pmd_address() notifies even
	 * when there is no huge pmd), so every entry goes; then the UNMAP of
	 * the half.  No unmap covered the leaf table's span: it stays.
	 */
	ASSERT_EQ(0, munmap(buf + len / 2, len / 2));
	s = stats(fd);
	EXPECT_EQ(s0.invalidations[GUESTMAP_EVENT_UNMAP] + 1,
		  s.invalidations[GUESTMAP_EVENT_UNMAP]);
	EXPECT_EQ(s0.invalidations[GUESTMAP_EVENT_CLEAR] + 1,
		  s.invalidations[GUESTMAP_EVENT_CLEAR]);
	EXPECT_EQ(512, s.entries_zapped);
	EXPECT_EQ(0, s.entries_present);
	EXPECT_EQ(0, s.tables_freed);
	EXPECT_EQ(EFAULT, guest_rw(fd, SLOT_GPA + len / 2, b, 8, 0));
	EXPECT_TRUE(guest_equals(fd, SLOT_GPA, buf, len / 2));

	/* Map the half again: the kept tables take the entries back. */
	ASSERT_EQ(buf + len / 2, mmap(buf + len / 2, len / 2,
				      PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				      -1, 0));
	ASSERT_EQ(0, madvise(buf, len, MADV_NOHUGEPAGE));
	fill(buf + len / 2, len / 2, 4);
	ASSERT_EQ(0, fault(fd, SLOT_GPA, len, 0));
	EXPECT_TRUE(guest_equals(fd, SLOT_GPA, buf, len));
	s0 = stats(fd);
	EXPECT_EQ(TABLES_FOR_ONE_LEAF, s0.tables_allocated);
	EXPECT_EQ(512, s0.entries_present);

	/*
	 * Unmap it all, at 2 MiB boundaries (no split, no CLEAR): the UNMAP
	 * covers the leaf table's whole span, so the table goes too; the
	 * tables above it span 1 GiB and 512 GiB and stay.
	 */
	ASSERT_EQ(0, munmap(buf, len));
	s = stats(fd);
	EXPECT_EQ(s0.invalidations[GUESTMAP_EVENT_CLEAR],
		  s.invalidations[GUESTMAP_EVENT_CLEAR]);
	EXPECT_EQ(s0.entries_zapped + 512, s.entries_zapped);
	EXPECT_EQ(0, s.entries_present);
	EXPECT_EQ(1, s.tables_freed);
	EXPECT_EQ(EFAULT, guest_rw(fd, SLOT_GPA, b, 8, 0));
	close(fd);
}

TEST_F(slot, mprotect_write_protects_in_place)
{
	struct guestmap_stats s0, s;
	char b[8];

	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 1));
	s0 = stats(self->fd);

	ASSERT_EQ(0, mprotect(self->buf, self->len, PROT_READ));
	s = stats(self->fd);
	EXPECT_LE(s0.invalidations[GUESTMAP_EVENT_PROTECTION_VMA] + 1,
		  s.invalidations[GUESTMAP_EVENT_PROTECTION_VMA]);
	EXPECT_EQ(self->npages, s.entries_wrprotected);
	EXPECT_EQ(0, s.entries_zapped);
	EXPECT_EQ(0, s.tables_freed);
	EXPECT_EQ(self->npages, s.entries_present);
	EXPECT_FALSE(query1(self->fd, SLOT_GPA) & GUESTMAP_PAGE_WRITABLE);
	/* Reads need no fault; writes are refused like the CPU's. */
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
	EXPECT_EQ(s0.pages_faulted, stats(self->fd).pages_faulted);
	EXPECT_EQ(EFAULT, guest_rw(self->fd, SLOT_GPA, "nope", 4, 1));
	EXPECT_EQ(EFAULT, fault(self->fd, SLOT_GPA, PAGE, 1));

	ASSERT_EQ(0, mprotect(self->buf, self->len, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, guest_rw(self->fd, SLOT_GPA + PAGE, "yes!", 4, 1));
	EXPECT_EQ(0, memcmp(self->buf + PAGE, "yes!", 4));
	s = stats(self->fd);
	EXPECT_EQ(0, s.tables_freed);
	EXPECT_EQ(0, s.entries_zapped);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
	(void)b;
}

TEST_F(slot, mprotect_none_takes_reads_back)
{
	struct guestmap_stats s;
	char b[8];

	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 0));
	ASSERT_EQ(0, mprotect(self->buf, self->len, PROT_NONE));
	s = stats(self->fd);
	EXPECT_EQ(self->npages, s.entries_zapped);
	EXPECT_EQ(0, s.entries_present);
	EXPECT_EQ(0, s.tables_freed);
	EXPECT_EQ(EFAULT, guest_rw(self->fd, SLOT_GPA, b, 8, 0));
	ASSERT_EQ(0, mprotect(self->buf, self->len, PROT_READ | PROT_WRITE));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
}

TEST_F(slot, soft_dirty_clear_write_protects_and_writes_redirty)
{
	struct guestmap_stats s0, s;
	size_t i;

	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 1));
	s0 = stats(self->fd);
	ASSERT_EQ(0, clear_soft_dirty());
	s = stats(self->fd);
	EXPECT_LE(s0.invalidations[GUESTMAP_EVENT_SOFT_DIRTY] + 1,
		  s.invalidations[GUESTMAP_EVENT_SOFT_DIRTY]);
	EXPECT_EQ(self->npages, s.entries_wrprotected);
	EXPECT_EQ(self->npages, s.entries_present);
	EXPECT_EQ(0, s.entries_zapped);
	EXPECT_EQ(0, s.tables_freed);
	for (i = 0; i < self->npages; i++)
		ASSERT_FALSE(pagemap_entry(self->buf + i * PAGE) & PM_SOFT_DIRTY);

	/* A guest write must reach the CPU's pte: soft-dirty again. */
	ASSERT_EQ(0, guest_rw(self->fd, SLOT_GPA + 3 * PAGE, "sd", 2, 1));
	EXPECT_TRUE(pagemap_entry(self->buf + 3 * PAGE) & PM_SOFT_DIRTY);
	EXPECT_FALSE(pagemap_entry(self->buf + 4 * PAGE) & PM_SOFT_DIRTY);
	EXPECT_EQ(0, memcmp(self->buf + 3 * PAGE, "sd", 2));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
}

TEST_F(slot, dontneed_zaps_but_keeps_tables)
{
	struct guestmap_stats s0, s;
	char *zero = calloc(1, 4 * PAGE);

	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 0));
	s0 = stats(self->fd);
	ASSERT_EQ(0, madvise(self->buf + 8 * PAGE, 4 * PAGE, MADV_DONTNEED));
	s = stats(self->fd);
	EXPECT_LE(s0.invalidations[GUESTMAP_EVENT_CLEAR] + 1,
		  s.invalidations[GUESTMAP_EVENT_CLEAR]);
	EXPECT_EQ(4, s.entries_zapped);
	EXPECT_EQ(self->npages - 4, s.entries_present);
	EXPECT_EQ(0, s.tables_freed);
	/* Private anonymous memory reads back as zeroes, as for the CPU. */
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA + 8 * PAGE, zero, 4 * PAGE));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
	free(zero);
}

TEST_F(slot, mremap_away_and_back)
{
	char *moved, b[8];
	struct guestmap_stats s;
	void *dst = mmap(NULL, self->len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, dst);
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 0));
	moved = mremap(self->buf, self->len, self->len,
		       MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_NE(MAP_FAILED, moved);
	s = stats(self->fd);
	EXPECT_LE(1, s.invalidations[GUESTMAP_EVENT_UNMAP]);
	EXPECT_EQ(0, s.entries_present);
	/* Nothing at the slot's address now. */
	EXPECT_EQ(EFAULT, guest_rw(self->fd, SLOT_GPA, b, 8, 0));
	/* Move it back: the guest sees the same data again. */
	ASSERT_EQ(self->buf, mremap(moved, self->len, self->len,
				    MREMAP_MAYMOVE | MREMAP_FIXED, self->buf));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
}

TEST_F(slot, fork_write_protects_the_parent)
{
	struct guestmap_stats s;
	int status;
	pid_t pid;

	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child's copy diverges; the parent must not see it. */
		memset(self->buf, 'c', self->len);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	s = stats(self->fd);
	EXPECT_LE(1, s.invalidations[GUESTMAP_EVENT_PROTECTION_PAGE]);
	EXPECT_EQ(self->npages, s.entries_wrprotected);
	EXPECT_EQ(0, s.tables_freed);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
	EXPECT_NE('c', self->buf[0]);
	/* The parent's own write breaks CoW: the mirror follows the copy. */
	self->buf[2 * PAGE] = 'p';
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
	/* And a guest write lands in the parent's page, not the child's. */
	ASSERT_EQ(0, guest_rw(self->fd, SLOT_GPA + 9 * PAGE, "g", 1, 1));
	EXPECT_EQ('g', self->buf[9 * PAGE]);
}

TEST_F(slot, migration_between_nodes_keeps_data)
{
	void *pages[8];
	int nodes[8], st[8];
	uint64_t before[8];
	size_t i;
	long ret;

	if (access("/sys/devices/system/node/node1", F_OK))
		SKIP(return, "needs two NUMA nodes (boot with numa=fake=2)");
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 0));
	for (i = 0; i < 8; i++) {
		pages[i] = self->buf + i * PAGE;
		before[i] = query1(self->fd, SLOT_GPA + i * PAGE);
		st[i] = -1;
	}
	ASSERT_EQ(0, move_pages(0, 8, pages, NULL, st, 0));
	for (i = 0; i < 8; i++)
		nodes[i] = !st[i];
	ret = move_pages(0, 8, pages, nodes, st, MPOL_MF_MOVE);
	ASSERT_EQ(0, ret);
	for (i = 0; i < 8; i++) {
		uint64_t pm = pagemap_entry(pages[i]);
		uint64_t e = query1(self->fd, SLOT_GPA + i * PAGE);

		ASSERT_EQ(nodes[i], st[i]);
		/* The old entry went with the old page... */
		ASSERT_FALSE(e & GUESTMAP_PAGE_PRESENT);
		ASSERT_NE(PM_PFN(pm), before[i] >> GUESTMAP_PAGE_PFN_SHIFT);
	}
	EXPECT_LE(8, stats(self->fd).entries_zapped);
	/* ...and the guest reads the data from the new one. */
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
	EXPECT_EQ(PM_PFN(pagemap_entry(pages[0])),
		  query1(self->fd, SLOT_GPA) >> GUESTMAP_PAGE_PFN_SHIFT);
}

TEST(thp_backed_slot)
{
	size_t len = 4UL << 20;
	char *buf = map_aligned(len, 2UL << 20);
	uint64_t *e = calloc(512, 8);
	int fd = open_dev();
	uint64_t pfn0;
	size_t i;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	if (madvise(buf, len, MADV_HUGEPAGE))
		SKIP(return, "no THP");
	fill(buf, len, 9);
	if (!(pagemap_entry(buf) & PM_PRESENT) ||
	    PM_PFN(pagemap_entry(buf + PAGE)) != PM_PFN(pagemap_entry(buf)) + 1 ||
	    PM_PFN(pagemap_entry(buf)) % 512)
		SKIP(return, "the buffer did not get a huge page");
	ASSERT_EQ(0, set_slot(fd, 0, 0, SLOT_GPA, len, buf));
	ASSERT_EQ(0, fault(fd, SLOT_GPA, len, 0));
	ASSERT_EQ(0, query(fd, SLOT_GPA, 512, e));
	pfn0 = e[0] >> GUESTMAP_PAGE_PFN_SHIFT;
	/* One entry per 4K page of the huge page, pfns consecutive. */
	for (i = 0; i < 512; i++)
		ASSERT_EQ(pfn0 + i, e[i] >> GUESTMAP_PAGE_PFN_SHIFT);
	EXPECT_EQ(PM_PFN(pagemap_entry(buf)), pfn0);
	EXPECT_TRUE(guest_equals(fd, SLOT_GPA, buf, len));
	/* Unmapping 4K of it splits the PMD: one entry goes, data stays. */
	ASSERT_EQ(0, munmap(buf + 5 * PAGE, PAGE));
	EXPECT_FALSE(query1(fd, SLOT_GPA + 5 * PAGE) & GUESTMAP_PAGE_PRESENT);
	EXPECT_TRUE(guest_equals(fd, SLOT_GPA + 6 * PAGE, buf + 6 * PAGE,
				 len - 6 * PAGE));
	close(fd);
	munmap(buf, len);
	free(e);
}

static int set_nr_hugepages(long n)
{
	char s[32];
	int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);
	int len = snprintf(s, sizeof(s), "%ld", n);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, len) == len ? 0 : -1;
	close(fd);
	return ret;
}

TEST(hugetlb_backed_slot)
{
	size_t len = 4UL << 20;
	int fd = open_dev();
	char *buf;
	uint64_t e0, e1;

	ASSERT_LE(0, fd);
	set_nr_hugepages(8);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (buf == MAP_FAILED)
		SKIP(return, "no hugetlb pages");
	fill(buf, len, 11);
	ASSERT_EQ(0, set_slot(fd, 0, 0, SLOT_GPA, len, buf));
	ASSERT_EQ(0, fault(fd, SLOT_GPA, len, 1));
	EXPECT_TRUE(guest_equals(fd, SLOT_GPA, buf, len));
	e0 = query1(fd, SLOT_GPA);
	e1 = query1(fd, SLOT_GPA + 511 * PAGE);
	EXPECT_EQ((e0 >> GUESTMAP_PAGE_PFN_SHIFT) + 511, e1 >> GUESTMAP_PAGE_PFN_SHIFT);
	ASSERT_EQ(0, guest_rw(fd, SLOT_GPA + len - 4, "huge", 4, 1));
	EXPECT_EQ(0, memcmp(buf + len - 4, "huge", 4));
	/* mprotect of a hugetlb range: still write-protect in place. */
	ASSERT_EQ(0, mprotect(buf, len, PROT_READ));
	EXPECT_EQ(1024, stats(fd).entries_wrprotected);
	EXPECT_TRUE(guest_equals(fd, SLOT_GPA, buf, len));
	ASSERT_EQ(0, munmap(buf, len));
	EXPECT_EQ(0, stats(fd).entries_present);
	close(fd);
	set_nr_hugepages(0);
}

TEST(shared_file_mapping)
{
	size_t len = 16 * PAGE;
	int mfd = memfd_create("guestmap", 0);
	int fd = open_dev();
	char *buf, back[8];

	ASSERT_LE(0, fd);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, len));
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, buf);
	fill(buf, len, 13);
	ASSERT_EQ(0, set_slot(fd, 0, 0, 0, len, buf));
	/* A guest write reaches the file, seen by read(). */
	ASSERT_EQ(0, guest_rw(fd, 3 * PAGE, "file", 4, 1));
	ASSERT_EQ(4, pread(mfd, back, 4, 3 * PAGE));
	EXPECT_EQ(0, memcmp(back, "file", 4));
	/* A write() to the file shows in the guest. */
	ASSERT_EQ(4, pwrite(mfd, "pwr!", 4, 5 * PAGE));
	ASSERT_EQ(0, guest_rw(fd, 5 * PAGE, back, 4, 0));
	EXPECT_EQ(0, memcmp(back, "pwr!", 4));
	/* Truncation takes the pages away: the guest faults on nothing. */
	ASSERT_EQ(0, fault(fd, 0, len, 0));
	ASSERT_EQ(0, ftruncate(mfd, 8 * PAGE));
	EXPECT_EQ(8, stats(fd).entries_zapped);
	EXPECT_EQ(EFAULT, guest_rw(fd, 9 * PAGE, back, 4, 0));
	EXPECT_TRUE(guest_equals(fd, 0, buf, 8 * PAGE));
	close(fd);
	munmap(buf, len);
	close(mfd);
}

TEST(readonly_slot_refuses_writes)
{
	int fd = open_dev();
	char *buf = map_aligned(4 * PAGE, PAGE);

	ASSERT_LE(0, fd);
	fill(buf, 4 * PAGE, 17);
	ASSERT_EQ(0, set_slot(fd, 0, GUESTMAP_MEM_READONLY, 0, 4 * PAGE, buf));
	EXPECT_EQ(EPERM, fault(fd, 0, PAGE, 1));
	EXPECT_EQ(EPERM, guest_rw(fd, 0, "no", 2, 1));
	EXPECT_TRUE(guest_equals(fd, 0, buf, 4 * PAGE));
	/* The CPU pte is writable; the entry is not. */
	EXPECT_FALSE(query1(fd, 0) & GUESTMAP_PAGE_WRITABLE);
	EXPECT_EQ(0, fault(fd, 0, 4 * PAGE, 0));
	EXPECT_FALSE(query1(fd, 0) & GUESTMAP_PAGE_WRITABLE);
	close(fd);
	munmap(buf, 4 * PAGE);
}

TEST(deleting_a_slot_frees_its_tables)
{
	int fd = open_dev();
	char *buf = map_aligned(8 * PAGE, PAGE);
	struct guestmap_stats s;
	char b[8];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_slot(fd, 0, 0, SLOT_GPA, 8 * PAGE, buf));
	ASSERT_EQ(0, fault(fd, SLOT_GPA, 8 * PAGE, 0));
	ASSERT_EQ(0, set_slot(fd, 0, 0, 0, 0, NULL));
	s = stats(fd);
	EXPECT_EQ(8, s.entries_zapped);
	EXPECT_EQ(0, s.entries_present);
	/* The slot spans less than any table: the tables stay allocated. */
	EXPECT_EQ(0, s.tables_freed);
	EXPECT_EQ(ENOENT, guest_rw(fd, SLOT_GPA, b, 8, 0));
	close(fd);
	munmap(buf, 8 * PAGE);
}

TEST_F(slot, pfns_only_for_cap_sys_admin)
{
	int status;
	pid_t pid;

	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 0));
	EXPECT_NE(0, query1(self->fd, SLOT_GPA) >> GUESTMAP_PAGE_PFN_SHIFT);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/*
		 * In the child's own mm: a context opened with the privilege,
		 * then one opened without.  As for /proc/pid/pagemap, the
		 * opener's credentials decide, once.
		 */
		int before = open_dev(), after;
		uint64_t e;

		if (before < 0 || set_slot(before, 0, 0, SLOT_GPA, self->len, self->buf) ||
		    fault(before, SLOT_GPA, self->len, 0))
			_exit(2);
		drop_cap_sys_admin();
		after = open_dev();
		if (after < 0 || set_slot(after, 0, 0, SLOT_GPA, self->len, self->buf) ||
		    fault(after, SLOT_GPA, self->len, 0))
			_exit(3);
		if (!(query1(before, SLOT_GPA) >> GUESTMAP_PAGE_PFN_SHIFT))
			_exit(4);
		e = query1(after, SLOT_GPA);
		/* Present and classed, but no pfn. */
		_exit(e == (GUESTMAP_PAGE_PRESENT |
			    GUESTMAP_CLASS_PAGE << GUESTMAP_PAGE_CLASS_SHIFT) ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

static int send_fd(int sock, int fd)
{
	char c = 0, ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &c, 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	int fd;

	if (recvmsg(sock, &m, 0) != 1 || !CMSG_FIRSTHDR(&m))
		return -1;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	return fd;
}

/* The value of @key in debugfs file ctx-<pid>-*, or -1. */
static long debugfs_stat(pid_t pid, const char *key)
{
	char cmd[256], line[128];
	long v = -1;
	FILE *f;

	if (access(DEBUGFS_DIR, F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);

	snprintf(cmd, sizeof(cmd), "cat " DEBUGFS_DIR "/ctx-%d-* 2>/dev/null", pid);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(key);

		if (!strncmp(line, key, n) && line[n] == ':')
			v = atol(line + n + 1);
	}
	pclose(f);
	return v;
}

TEST(exit_with_the_fd_open_releases_the_mirror)
{
	int sv[2], fd, status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *buf = map_aligned(32 * PAGE, PAGE);
		int cfd = open_dev();

		fill(buf, 32 * PAGE, 5);
		if (cfd < 0 || set_slot(cfd, 0, 0, 0, 16 * PAGE, buf) ||
		    set_slot(cfd, 1, 0, 1UL << 30, 16 * PAGE, buf + 16 * PAGE) ||
		    fault(cfd, 0, 16 * PAGE, 1) || fault(cfd, 1UL << 30, 16 * PAGE, 0) ||
		    send_fd(sv[0], cfd))
			_exit(2);
		/* Exit without closing: the mm goes first, the file later. */
		_exit(0);
	}
	fd = recv_fd(sv[1]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* Each slot's notifier saw the RELEASE; nothing is left mirrored. */
	EXPECT_EQ(2, debugfs_stat(pid, "invalidations.release"));
	EXPECT_EQ(0, debugfs_stat(pid, "entries_present"));
	EXPECT_EQ(32, debugfs_stat(pid, "entries_zapped"));
	EXPECT_EQ(debugfs_stat(pid, "tables_allocated"),
		  debugfs_stat(pid, "tables_freed"));
	/* The fd is only good for close() now. */
	EXPECT_EQ(EIO, fault(fd, 0, PAGE, 0));
	close(fd);
	/* The file goes with the context. */
	EXPECT_EQ(-1, debugfs_stat(pid, "faults"));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(slot, debugfs_matches_stats)
{
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 0));
	ASSERT_EQ(0, madvise(self->buf, PAGE, MADV_DONTNEED));
	EXPECT_EQ((long)stats(self->fd).entries_present,
		  debugfs_stat(getpid(), "entries_present"));
	EXPECT_EQ((long)stats(self->fd).invalidations[GUESTMAP_EVENT_CLEAR],
		  debugfs_stat(getpid(), "invalidations.clear"));
	EXPECT_EQ(1, debugfs_stat(getpid(), "faults"));
}

/* Racing faults and guest reads against munmap/mmap and mprotect. */
struct race {
	int fd;
	char *buf;
	size_t len;
	atomic_int stop;
	atomic_uint gen;	/* generation the memory holds, once mapped */
};

static void *remapper(void *arg)
{
	struct race *r = arg;
	unsigned int g;

	while (!atomic_load(&r->stop)) {
		g = atomic_load(&r->gen) + 1;
		/* A fresh mapping with the next generation in every word. */
		char *p = mmap(r->buf, r->len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		size_t i;

		if (p != r->buf)
			break;
		for (i = 0; i < r->len / 4; i++)
			((unsigned int *)p)[i] = g;
		atomic_store(&r->gen, g);
		mprotect(p, r->len, PROT_READ);
		mprotect(p, r->len, PROT_READ | PROT_WRITE);
	}
	return NULL;
}

TEST(fault_races_munmap_and_mprotect)
{
	struct race r = { .len = 32 * PAGE };
	struct timespec t0, t;
	unsigned int *b = malloc(r.len);
	pthread_t th;
	long reads = 0, bad = 0;

	r.fd = open_dev();
	ASSERT_LE(0, r.fd);
	r.buf = map_aligned(r.len, PAGE);
	memset(r.buf, 0, r.len);
	ASSERT_EQ(0, set_slot(r.fd, 0, 0, 0, r.len, r.buf));
	ASSERT_EQ(0, pthread_create(&th, NULL, remapper, &r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		unsigned int lo = atomic_load(&r.gen), hi;
		size_t i;
		int ret = guest_rw(r.fd, 0, b, r.len, 0);

		hi = atomic_load(&r.gen);
		fault(r.fd, 0, r.len, reads & 1);
		if (ret) {
			/* Only "nothing mapped", between munmap and mmap. */
			bad += ret != EFAULT;
			continue;
		}
		reads++;
		/*
		 * Each page is read under the mirror lock from one mapping: a
		 * value that memory held during the read, never an older one.
		 * The first word of each page is checked against the window.
		 */
		for (i = 0; i < r.len / 4; i += PAGE / 4)
			if (b[i] && (b[i] < lo || b[i] > hi + 1))
				bad++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 3);
	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	EXPECT_EQ(0, bad);
	EXPECT_LT(0, reads);
	EXPECT_LT(0, stats(r.fd).invalidations[GUESTMAP_EVENT_UNMAP]);
	/*
	 * Hundreds of remaps against back-to-back faults collide: the
	 * sequence protocol must have seen it (about 1700 retries a run
	 * here; zero means invalidations do not publish their sequence).
	 */
	EXPECT_LT(0, stats(r.fd).retries);
	/* Quiet now: whatever the race left must be exactly user memory. */
	EXPECT_TRUE(guest_equals(r.fd, 0, r.buf, r.len));
	TH_LOG("%ld reads, %u remaps, %llu retries", reads, atomic_load(&r.gen),
	       (unsigned long long)stats(r.fd).retries);
	close(r.fd);
	munmap(r.buf, r.len);
	free(b);
}

TEST(a_huge_fault_is_killable)
{
	uint64_t len = 64ULL << 30;
	struct timespec t0, t;
	int status;
	pid_t pid;

	if (len != (size_t)len)
		SKIP(return, "64 GiB does not fit a 32-bit address space");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* 64 GiB of zero pages: minutes of faulting under TCG. */
		char *buf = mmap(NULL, len, PROT_READ,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		int fd = open_dev();

		if (buf == MAP_FAILED || fd < 0 ||
		    set_slot(fd, 0, 0, 0, len, buf))
			_exit(2);
		fault(fd, 0, len, 0);
		_exit(3);
	}
	usleep(500 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	clock_gettime(CLOCK_MONOTONIC, &t);
	EXPECT_TRUE(WIFSIGNALED(status));
	/* Killed mid-fault, not after it: the fault checks for signals. */
	EXPECT_GT(2, t.tv_sec - t0.tv_sec);
}

#define TRACING	"/sys/kernel/tracing/"
#define TH_LOG_STDERR(fmt, ...) fprintf(stderr, "# " fmt "\n", ##__VA_ARGS__)

static int tracing_write(const char *file, const char *val)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), TRACING "%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static long tracing_read_long(const char *file)
{
	char path[128], buf[32] = "";
	long v = -1;
	int fd;

	snprintf(path, sizeof(path), TRACING "%s", file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		v = atol(buf);
	close(fd);
	return v;
}

/*
 * The longest preempt-off section (preemptoff tracer, in microseconds)
 * while @nslots slots of @len bytes each, fully read-faulted, are deleted
 * one after the other; -1 if the set-up failed.  The slots all map the
 * same memory (at different gpas, 32 to a context), so that the same
 * amount of mirror is torn down whatever the slot size, with the same
 * tables freed in a row: the page allocator's own sections (draining its
 * per-CPU lists, whose batches grow with the frees in a row) then weigh
 * the same on both sides.  Read faults of untouched anonymous memory map
 * the zero page (the huge one where a THP fits), so 64 GiB costs table
 * pages, not memory; MADV_POPULATE_READ maps it first, one fault per
 * 2 MiB rather than hmm_range_fault()'s one per page.  Each slot's gpa is
 * one page off the memory's 2 MiB alignment, so that the mirror maps it
 * with 4 KiB entries (a 2 MiB one needs gpa and hva aligned alike): the
 * teardown then walks and frees leaf tables, its costliest case.
 */
static long teardown_preempt_off_us(size_t len, int nslots)
{
	/* Read-only, so not charged against overcommit; 1 GiB aligned. */
	size_t align = 1UL << 30;
	char *map = mmap(NULL, len + align, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *buf = (char *)(((uintptr_t)map + align - 1) & ~(align - 1));
	int nfd = (nslots + 31) / 32, fd[32], i, err = 0;
	long us = -1;

	/* 32 contexts of 32 slots at most: fd[] has no room for more. */
	if (nfd > 32)
		nfd = 0;
	for (i = 0; i < nfd; i++)
		fd[i] = open_dev();
	if (map == MAP_FAILED || !nfd || madvise(buf, len, MADV_POPULATE_READ))
		goto out;
	for (i = 0; i < nslots && !err; i++) {
		err = set_slot(fd[i / 32], i % 32, 0, (i % 32) * len + PAGE,
			       len, buf);
		if (!err)
			err = fault(fd[i / 32], (i % 32) * len + PAGE, len, 0);
	}
	for (i = 0; i < nfd && !err; i++) {
		if (stats(fd[i]).entries_present !=
		    (uint64_t)(nslots - 32 * i < 32 ? nslots - 32 * i : 32) * (len / PAGE))
			err = EINVAL;
	}
	if (err) {
		TH_LOG_STDERR("%zu MiB: fault: %s", len >> 20, strerror(err));
		goto out;
	}
	/*
	 * The tracer stays on (turning it off and on can lose the section
	 * that follows); only its maximum is reset, so the window is the
	 * deletions alone.
	 */
	if (tracing_write("tracing_max_latency", "0"))
		goto out;
	for (i = 0; i < nslots && !err; i++)
		err = set_slot(fd[i / 32], i % 32, 0, 0, 0, NULL);
	us = tracing_read_long("tracing_max_latency");
	/* Every entry gone, and at least every leaf table freed. */
	for (i = 0; i < nfd; i++) {
		if (err || stats(fd[i]).entries_present != 0 ||
		    stats(fd[i]).tables_freed < len / PAGE / 512) {
			TH_LOG_STDERR("%zu MiB: delete: %s, %llu entries, %llu tables freed",
				      len >> 20, strerror(err),
				      (unsigned long long)stats(fd[i]).entries_present,
				      (unsigned long long)stats(fd[i]).tables_freed);
			us = -1;
		}
	}
	if (getenv("GM_TEARDOWN_TRACE"))
		system("head -30 " TRACING "trace >&2");
out:
	for (i = 0; i < nfd; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	if (map != MAP_FAILED)
		munmap(map, len + align);
	return us;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

FIXTURE(preemptoff) {
	int have;
	char cpumask[64];
};

FIXTURE_SETUP(preemptoff)
{
	int fd = open(TRACING "tracing_cpumask", O_RDONLY);
	cpu_set_t one;
	char mask[16];
	ssize_t n;

	/*
	 * One CPU: the test runs there, and the tracer watches only it.  A
	 * section that ends after another CPU recorded a new maximum is
	 * dropped (check_critical_timing() compares max_sequence), so with
	 * every CPU watched a long section is lost whenever a short one ends
	 * elsewhere meanwhile.
	 */
	self->have = 0;
	ASSERT_LE(0, fd);
	n = read(fd, self->cpumask, sizeof(self->cpumask) - 1);
	close(fd);
	ASSERT_LT(0, n);
	self->cpumask[n] = 0;
	CPU_ZERO(&one);
	CPU_SET(1, &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	snprintf(mask, sizeof(mask), "%x", 1 << 1);
	ASSERT_EQ(0, tracing_write("tracing_cpumask", mask));
	/*
	 * Without recording every function call of a section, which would
	 * make sections long in proportion to the C code they run.
	 */
	tracing_write("options/function-trace", "0");
	tracing_write("tracing_on", "1");
	self->have = !tracing_write("current_tracer", "preemptoff");
}

FIXTURE_TEARDOWN(preemptoff)
{
	tracing_write("current_tracer", "nop");
	tracing_write("options/function-trace", "1");
	tracing_write("tracing_cpumask", self->cpumask);
}

/*
 * Deleting a slot frees its whole mirror.  Done in one go under the
 * mirror's spinlock, that was a preempt-off section as long as the slot
 * is large; the walk now gives the lock back every few tables, and frees
 * them after.  The issue asks: the longest preempt-off section while
 * tearing down a fully faulted 64 GiB slot is at most twice the one for a
 * 64 MiB slot, as a ratio in one VM run.
 *
 * The tracer sees every section of its CPU, its own and the kernel's (the
 * page allocator frees the tables in batches that grow with the frees in
 * a row), and under TCG the host preempts a vCPU inside any of them now
 * and then, so the longest section of a window grows with the work done
 * in it whatever our code does.  To measure the dependence on slot size
 * alone, the 64 MiB side tears down the same amount of mirror the same
 * way: 1024 slots of 64 MiB, faulted, then deleted one after the other,
 * against one of 64 GiB.  Three rounds, compared by their medians.
 */
TEST_F_TIMEOUT(preemptoff, slot_teardown_keeps_preemption_off_briefly, 1800)
{
	const char *env = getenv("GM_TEARDOWN_BIG_GIB");
	long gib = env ? atol(env) : 64;
	/* At most 32 contexts of 32 slots: 1024 x 64 MiB. */
	uint64_t big64 = (uint64_t)(gib >= 1 && gib <= 64 ? gib : 0) << 30;
	size_t big = big64, small = 64UL << 20;
	int rounds = 3, reps = big / small, i;
	long s[3], b[3];

	if (!big64)
		SKIP(return, "GM_TEARDOWN_BIG_GIB=%s: 1 to 64 (GiB) only", env);
	if (big != big64)
		SKIP(return, "a %llu GiB slot does not fit a 32-bit address space",
		     (unsigned long long)(big64 >> 30));
	if (!self->have)
		SKIP(return, "no preemptoff tracer (CONFIG_PREEMPT_TRACER)");
	for (i = 0; i < rounds; i++) {
		s[i] = teardown_preempt_off_us(small, reps);
		b[i] = teardown_preempt_off_us(big, 1);
		ASSERT_LE(0, s[i]);
		ASSERT_LE(0, b[i]);
		TH_LOG("round %d: %d x %zu MiB: %ld us, 1 x %zu MiB: %ld us", i,
		       reps, small >> 20, s[i], big >> 20, b[i]);
	}
	qsort(s, rounds, sizeof(*s), cmp_long);
	qsort(b, rounds, sizeof(*b), cmp_long);
	TH_LOG("median longest preempt-off: %ld us (%zu MiB slots) vs %ld us (%zu MiB slot)",
	       s[1], small >> 20, b[1], big >> 20);
	EXPECT_LE(b[1], 2 * s[1]);
}

/*
 * A slot over 16 pages of memmap=$ RAM at @phys, mapped through /dev/mem
 * write-back, or uncached (O_SYNC) if @uncached: a PFNMAP of PG_reserved
 * pages, mirrored with their pfns, read and written by guestmap, gone
 * with the munmap().
 */
static void pfnmap_slot_at(struct __test_metadata *_metadata, unsigned long phys,
			   bool uncached)
{
	int mem, fd = open_dev();
	char *buf, back[8];
	uint64_t e;

	ASSERT_LE(0, fd);
	mem = open("/dev/mem", O_RDWR | (uncached ? O_SYNC : 0));
	ASSERT_LE(0, mem);
	buf = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mem, phys);
	ASSERT_NE(MAP_FAILED, buf) TH_LOG("mmap /dev/mem at %#lx: %s", phys, strerror(errno));
	fill(buf, 16 * PAGE, 21);
	ASSERT_EQ(0, set_slot(fd, 0, 0, 0, 16 * PAGE, buf));
	ASSERT_EQ(0, fault(fd, 0, 16 * PAGE, 0));
	e = query1(fd, PAGE);
	EXPECT_EQ(GUESTMAP_CLASS_PFNMAP, class_of(e));
	/* The pfn is the physical address /dev/mem mapped. */
	EXPECT_EQ(phys / PAGE + 1, e >> GUESTMAP_PAGE_PFN_SHIFT);
	EXPECT_TRUE(guest_equals(fd, 0, buf, 16 * PAGE));
	ASSERT_EQ(0, guest_rw(fd, 2 * PAGE, "pfnm", 4, 1));
	EXPECT_EQ(0, memcmp(buf + 2 * PAGE, "pfnm", 4));
	ASSERT_EQ(0, munmap(buf, 16 * PAGE));
	EXPECT_EQ(0, stats(fd).entries_present);
	EXPECT_EQ(EFAULT, guest_rw(fd, 0, back, 4, 0));
	close(fd);
	close(mem);
}

/*
 * GUESTMAP_RESERVED="<size>@<phys>" names memory reserved by memmap=.
 * Parsed as 64-bit, and refused if a 32-bit process's mmap() offset
 * (off_t, 32 bits without _FILE_OFFSET_BITS=64) cannot reach its end.
 */
static bool reserved_ram(unsigned long *size, unsigned long *phys)
{
	const char *res = getenv("GUESTMAP_RESERVED");
	unsigned long long sz, ph;

	if (!res || sscanf(res, "%lli@%lli", &sz, &ph) != 2 ||
	    ph + sz > (unsigned long long)LONG_MAX + 1)
		return false;
	*size = sz;
	*phys = ph;
	return true;
}

/*
 * Write-back, as every test maps this RAM: 6.12's PAT keeps the
 * write-back reservation of a split /dev/mem mapping until reboot
 * (fuzz_test splits them), which refuses a later uncached mapping of the
 * same RAM but never a write-back one (Documentation/testing.rst).
 */
TEST(pfnmap_slot)
{
	unsigned long size, phys;

	if (!reserved_ram(&size, &phys))
		SKIP(return, "set GUESTMAP_RESERVED=<size>@<phys> (memmap=), below 2 GiB on i386");
	pfnmap_slot_at(_metadata, phys, false);
}

/*
 * The first @len bytes of [@start, @end) that no reservation in the PAT's
 * list overlaps, or @end if there are none; @start if the list cannot be
 * read.  Its lines (memtype_seq_show()): "PAT: [mem 0x%016Lx-0x%016Lx]
 * <type>", the end exclusive.  In 64 bits, whatever a 32-bit build's
 * unsigned long holds.
 */
static uint64_t pat_free_range(uint64_t start, uint64_t end, uint64_t len)
{
	unsigned long long s, e;
	uint64_t at = start;
	bool moved = true;
	char line[256];
	FILE *f;

	while (moved && at + len <= end) {
		moved = false;
		f = fopen("/sys/kernel/debug/x86/pat_memtype_list", "re");
		if (!f)
			return start;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "PAT: [mem %llx-%llx]", &s, &e) == 2 &&
			    s < at + len && e > at) {
				at = (e + PAGE - 1) & ~(uint64_t)(PAGE - 1);
				moved = true;
			}
		fclose(f);
	}
	return at >= start && at + len <= end ? at : end;
}

/*
 * Uncached: guestmap's memremap() of the pages (c/frame.c) then meets the
 * process's UC- reservation, and the kernel maps them UC- for it too.  In
 * 16 pages no earlier, leaked reservation overlaps, which an uncached
 * mapping would be refused over (see pfnmap_slot).
 */
TEST(pfnmap_slot_uncached)
{
	unsigned long size, phys, at;

	if (!reserved_ram(&size, &phys) || size < 16 * PAGE)
		SKIP(return, "set GUESTMAP_RESERVED=<size>@<phys> (memmap=), 64 KiB or more, below 2 GiB on i386");
	at = pat_free_range(phys, phys + size, 16 * PAGE);
	if (at == phys + size)
		SKIP(return, "no 64 KiB of the reserved RAM free of PAT reservations (leaked or live)");
	if (at != phys)
		TH_LOG("at %#lx: PAT reservations (leaked or live) overlap the 64 KiB at %#lx",
		       at, phys);
	pfnmap_slot_at(_metadata, at, true);
}

TEST_HARNESS_MAIN
