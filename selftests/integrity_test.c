// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap data-integrity selftests: a write the kernel makes to guest
 * memory, by any path, must survive whatever user space and the memory
 * manager do to the page afterwards, and must never reach a page that is
 * not the guest's.
 *
 * The kernel writes a frame through a kernel mapping, not through the
 * process's pte, so the pte's dirty bit stays as it was.  A pte can be
 * writable but clean: after MADV_FREE, after a read fault of shmem, after
 * a swap-in by a read.  Reclaim then discards the page (lazyfree, clean
 * shmem) or keeps only the old copy in swap, unless the folio itself was
 * marked dirty.  Each test writes through every path (FIXTURE_VARIANT),
 * reclaims with MADV_PAGEOUT, and reads the memory back from user space.
 * A page the test did not write is reclaimed alongside, to show that the
 * reclaim really happened (else the test cannot tell, and skips).
 *
 * Expected values come from the kernel's rules (mm/vmscan.c,
 * mm/rmap.c's try_to_unmap_one(), mm/madvise.c): a clean lazyfree folio
 * is discarded, a clean shmem folio with no swap copy is dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif

#define GPA		0x200000UL
#define NPAGES		16
#define WORD_OFF	64	/* where each page's tagged word lives */
#define PM_SWAP		(1ULL << 62)

static int set_slot(int fd, uint64_t gpa, uint64_t size, const void *hva)
{
	struct guestmap_memslot m = {
		.slot = 0, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(fd, GUESTMAP_SET_MEMSLOT, &m) ? errno : 0;
}

static int access_op(int fd, uint32_t op, uint32_t flags, uint64_t gpa,
		     void *buf, uint64_t len, uint64_t old, uint64_t new)
{
	struct guestmap_access a = {
		.gpa = gpa, .len = len, .buf = (uintptr_t)buf, .op = op,
		.flags = flags, .old = old, .new = new,
	};

	if (ioctl(fd, GUESTMAP_ACCESS, &a))
		return errno;
	/* A CMPXCHG that found something else wrote nothing. */
	return op == GUESTMAP_ACCESS_CMPXCHG && a.old != old ? -1 : 0;
}

/* The guest write paths: each variant writes @val at @gpa one way. */
enum path {
	READ_WRITE_GUEST,	/* GUESTMAP_WRITE_GUEST, through the mirror */
	CACHE_WRITE,		/* a pfn cache */
	MAP_WRITE,		/* kvm_vcpu_map(), unmapped without DIRTY */
	MAP_WRITE_DIRTY,	/* ... with GUESTMAP_ACCESS_DIRTY */
	CMPXCHG,		/* emulator_cmpxchg_emulated() */
	COPY_TO_USER,		/* ACCESS_WRITE: the CPU's own pte */
};

static int guest_write(int fd, enum path path, uint64_t gpa, uint64_t old,
		       uint64_t val)
{
	struct guestmap_rw rw = { .gpa = gpa, .len = 8, .buf = (uintptr_t)&val };

	switch (path) {
	case READ_WRITE_GUEST:
		return ioctl(fd, GUESTMAP_WRITE_GUEST, &rw) ? errno : 0;
	case CACHE_WRITE:
		return access_op(fd, GUESTMAP_ACCESS_CACHE_WRITE, 0, gpa, &val, 8, 0, 0);
	case MAP_WRITE:
		return access_op(fd, GUESTMAP_ACCESS_MAP_WRITE, 0, gpa, &val, 8, 0, 0);
	case MAP_WRITE_DIRTY:
		return access_op(fd, GUESTMAP_ACCESS_MAP_WRITE, GUESTMAP_ACCESS_DIRTY,
				 gpa, &val, 8, 0, 0);
	case CMPXCHG:
		return access_op(fd, GUESTMAP_ACCESS_CMPXCHG, 0, gpa, NULL, 8, old, val);
	case COPY_TO_USER:
		return access_op(fd, GUESTMAP_ACCESS_WRITE, 0, gpa, &val, 8, 0, 0);
	}
	return -1;
}

static uint64_t tag(unsigned int page, unsigned int gen)
{
	return 0x6775657374000000ULL | (uint64_t)gen << 16 | page;
}

static uint64_t *word(char *p, unsigned int page)
{
	return (uint64_t *)(p + page * PAGE + WORD_OFF);
}

FIXTURE(integrity) {
	int fd;
};

FIXTURE_VARIANT(integrity) {
	enum path path;
};

FIXTURE_VARIANT_ADD(integrity, write_guest) { .path = READ_WRITE_GUEST };
FIXTURE_VARIANT_ADD(integrity, cache_write) { .path = CACHE_WRITE };
FIXTURE_VARIANT_ADD(integrity, map_write) { .path = MAP_WRITE };
FIXTURE_VARIANT_ADD(integrity, map_write_dirty) { .path = MAP_WRITE_DIRTY };
FIXTURE_VARIANT_ADD(integrity, cmpxchg) { .path = CMPXCHG };
FIXTURE_VARIANT_ADD(integrity, copy_to_user) { .path = COPY_TO_USER };

FIXTURE_SETUP(integrity)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(integrity)
{
	close(self->fd);
}

/*
 * MADV_FREE makes the pages lazyfree: clean, their ptes clean but still
 * writable.  Reclaim discards a lazyfree page that is still clean.  The
 * guest writes the odd pages; the even ones stay untouched and must be
 * discarded, which proves the reclaim ran.
 */
TEST_F(integrity, writes_survive_madv_free_and_reclaim)
{
	char *p = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int i, discarded = 0;

	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < NPAGES; i++) {
		memset(p + i * PAGE, 0x5a, PAGE);
		*word(p, i) = tag(i, 0);
	}
	ASSERT_EQ(0, set_slot(self->fd, GPA, NPAGES * PAGE, p));
	ASSERT_EQ(0, madvise(p, NPAGES * PAGE, MADV_FREE));
	for (i = 1; i < NPAGES; i += 2)
		ASSERT_EQ(0, guest_write(self->fd, variant->path,
					 GPA + i * PAGE + WORD_OFF, tag(i, 0), tag(i, 1)));
	ASSERT_EQ(0, madvise(p, NPAGES * PAGE, MADV_PAGEOUT));
	for (i = 0; i < NPAGES; i += 2)
		discarded += *word(p, i) == 0;
	if (!discarded)
		SKIP(goto out, "MADV_PAGEOUT reclaimed no lazyfree page");
	for (i = 1; i < NPAGES; i += 2) {
		EXPECT_EQ(tag(i, 1), *word(p, i)) {
			TH_LOG("page %u: the guest's write was lost", i);
		}
	}
out:
	ASSERT_EQ(0, set_slot(self->fd, GPA, 0, NULL));
	munmap(p, NPAGES * PAGE);
}

/*
 * A page read back from swap into the swap cache stays there, clean, with
 * the data also in its swap slot; a read fault then maps it, and in 6.12
 * the pte is writable if the page is exclusive (do_swap_page()).  A kernel
 * write that leaves it clean is dropped by the next reclaim, and the swap
 * slot's older data comes back.  zram is a synchronous device, whose read
 * faults skip the swap cache: MADV_WILLNEED reads the pages into it first,
 * as swap readahead would.
 */
TEST_F(integrity, writes_survive_swap_in_by_a_read_and_swap_out)
{
	char *p;
	unsigned int i, swapped = 0;
	uint64_t sum = 0;

	if (!have_swap())
		SKIP(return, "no swap device (selftests/run_vm_tests.sh sets up zram)");
	p = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < NPAGES; i++) {
		memset(p + i * PAGE, 0x3c, PAGE);
		*word(p, i) = tag(i, 0);
	}
	ASSERT_EQ(0, set_slot(self->fd, GPA, NPAGES * PAGE, p));
	ASSERT_EQ(0, madvise(p, NPAGES * PAGE, MADV_PAGEOUT));
	for (i = 0; i < NPAGES; i++)
		swapped += !!(pagemap_entry(p + i * PAGE) & PM_SWAP);
	if (!swapped)
		SKIP(goto out, "MADV_PAGEOUT swapped nothing out");
	/* Into the swap cache, then mapped by the CPU's reads. */
	ASSERT_EQ(0, madvise(p, NPAGES * PAGE, MADV_WILLNEED));
	for (i = 0; i < NPAGES; i++)
		sum += *word(p, i) == tag(i, 0);
	ASSERT_EQ(NPAGES, sum);
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(0, guest_write(self->fd, variant->path,
					 GPA + i * PAGE + WORD_OFF, tag(i, 0), tag(i, 2)));
	ASSERT_EQ(0, madvise(p, NPAGES * PAGE, MADV_PAGEOUT));
	for (i = 0; i < NPAGES; i++) {
		EXPECT_EQ(tag(i, 2), *word(p, i)) {
			TH_LOG("page %u: the guest's write was lost to swap", i);
		}
	}
out:
	ASSERT_EQ(0, set_slot(self->fd, GPA, 0, NULL));
	munmap(p, NPAGES * PAGE);
}

/*
 * A read fault of a shmem hole maps a new, clean, zeroed folio, and a
 * shared mapping's pte is writable from the start (shmem needs no write
 * notification).  Reclaim drops a clean shmem folio that has no swap copy.
 */
TEST_F(integrity, writes_to_read_faulted_shmem_survive_reclaim)
{
	int mfd = memfd_create("integrity", 0);
	unsigned int i, dropped = 0;
	uint64_t sum = 0;
	char *p;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, NPAGES * PAGE));
	p = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* Read faults of a hole: zeroes. */
	for (i = 0; i < NPAGES; i++)
		sum += *word(p, i);
	ASSERT_EQ(0, sum);
	ASSERT_EQ(0, set_slot(self->fd, GPA, NPAGES * PAGE, p));
	for (i = 1; i < NPAGES; i += 2)
		ASSERT_EQ(0, guest_write(self->fd, variant->path,
					 GPA + i * PAGE + WORD_OFF, 0, tag(i, 3)));
	ASSERT_EQ(0, madvise(p, NPAGES * PAGE, MADV_PAGEOUT));
	/* The pages nobody wrote left the page cache (mincore says which). */
	for (i = 0; i < NPAGES; i += 2) {
		unsigned char vec;

		ASSERT_EQ(0, mincore(p + i * PAGE, PAGE, &vec));
		dropped += !(vec & 1);
	}
	if (!dropped)
		SKIP(goto out, "MADV_PAGEOUT dropped no clean shmem page");
	for (i = 1; i < NPAGES; i += 2) {
		uint64_t v;

		ASSERT_EQ(8, pread(mfd, &v, 8, i * PAGE + WORD_OFF));
		EXPECT_EQ(tag(i, 3), v) {
			TH_LOG("page %u: the guest's write was lost", i);
		}
	}
out:
	ASSERT_EQ(0, set_slot(self->fd, GPA, 0, NULL));
	munmap(p, NPAGES * PAGE);
	close(mfd);
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static uint64_t pfn_of(pid_t pid, const void *addr)
{
	char path[64];
	uint64_t e = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, ((uintptr_t)addr / PAGE) * 8) != 8)
		e = 0;
	close(fd);
	return (e & PM_PRESENT) ? PM_PFN(e) : 0;
}

/*
 * KSM merges the guest's page with another process's identical page and
 * write-protects both.  A guest write must break the sharing like a CPU
 * write does: it changes the guest's page only, never the other
 * process's.
 */
TEST_F_TIMEOUT(integrity, writes_after_a_ksm_merge_stay_private, 120)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t pattern = tag(0x777, getpid() & 0xffff), v = 0, child_pfn = 0;
	struct guestmap_rw rw = { .gpa = GPA + WORD_OFF, .len = 8, .buf = (uintptr_t)&v };
	int to_child[2], to_parent[2], status, tries;
	uintptr_t addr;
	unsigned int i;
	char c = 0;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p);
	if (write_file("/sys/kernel/mm/ksm/run", "1"))
		SKIP(return, "no KSM (CONFIG_KSM)");
	write_file("/sys/kernel/mm/ksm/sleep_millisecs", "0");
	write_file("/sys/kernel/mm/ksm/pages_to_scan", "1000");
	for (i = 0; i < PAGE / 8; i++)
		((uint64_t *)p)[i] = pattern;
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The other process: the same bytes in its own page. */
		char *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		addr = (uintptr_t)q;
		if (q == MAP_FAILED)
			_exit(1);
		memcpy(q, p, PAGE);
		if (madvise(q, PAGE, MADV_MERGEABLE) ||
		    write(to_parent[1], &addr, sizeof(addr)) != sizeof(addr) ||
		    read(to_child[0], &c, 1) != 1)
			_exit(1);
		for (i = 0; i < PAGE / 8; i++)
			if (((uint64_t *)q)[i] != pattern)
				_exit(2);
		_exit(0);
	}
	ASSERT_EQ(sizeof(addr), read(to_parent[0], &addr, sizeof(addr)));
	ASSERT_EQ(0, madvise(p, PAGE, MADV_MERGEABLE));
	for (tries = 0; tries < 900; tries++) {
		child_pfn = pfn_of(pid, (void *)addr);
		if (child_pfn && child_pfn == pfn_of(getpid(), p))
			break;
		usleep(100 * 1000);
	}
	if (tries == 900) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		write_file("/sys/kernel/mm/ksm/run", "0");
		SKIP(return, "ksmd did not merge the pages in 90 s");
	}
	ASSERT_EQ(0, set_slot(self->fd, GPA, 2 * PAGE, p));
	/* The guest reads the merged page, and its write breaks the sharing. */
	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_READ_GUEST, &rw));
	EXPECT_EQ(pattern, v);
	ASSERT_EQ(0, guest_write(self->fd, variant->path, GPA + WORD_OFF,
				 pattern, tag(0x777, 0xffff)));
	EXPECT_EQ(tag(0x777, 0xffff), *word(p, 0));
	EXPECT_NE(child_pfn, pfn_of(getpid(), p));
	EXPECT_EQ(child_pfn, pfn_of(pid, (void *)addr));
	ASSERT_EQ(1, write(to_child[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		TH_LOG("the other process's page changed (status %#x)", status);
	}
	write_file("/sys/kernel/mm/ksm/run", "0");
	ASSERT_EQ(0, set_slot(self->fd, GPA, 0, NULL));
	munmap(p, 2 * PAGE);
}

/*
 * Reads follow the page across swap-out and swap-in: every read path sees
 * what user space sees, and never the page that was swapped out.
 */
TEST_F(integrity, reads_follow_swap_out_and_in)
{
	char *p;
	uint64_t v;
	struct guestmap_rw rw = { .gpa = GPA + WORD_OFF, .len = 8, .buf = (uintptr_t)&v };
	unsigned int round;

	if (variant->path != READ_WRITE_GUEST)
		SKIP(return, "read paths are one test, run once");
	if (!have_swap())
		SKIP(return, "no swap device (selftests/run_vm_tests.sh sets up zram)");
	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	*word(p, 0) = tag(0, 0);
	ASSERT_EQ(0, set_slot(self->fd, GPA, 2 * PAGE, p));
	for (round = 1; round <= 3; round++) {
		/* Mirror, cache and mapping all see the current page. */
		ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_READ_GUEST, &rw));
		EXPECT_EQ(tag(0, round - 1), v);
		ASSERT_EQ(0, access_op(self->fd, GUESTMAP_ACCESS_CACHE_READ, 0,
				       GPA + WORD_OFF, &v, 8, 0, 0));
		EXPECT_EQ(tag(0, round - 1), v);
		ASSERT_EQ(0, madvise(p, 2 * PAGE, MADV_PAGEOUT));
		EXPECT_TRUE(pagemap_entry(p) & PM_SWAP);
		/* Swapped in by a CPU write of new data. */
		*word(p, 0) = tag(0, round);
		ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_READ_GUEST, &rw));
		EXPECT_EQ(tag(0, round), v);
		ASSERT_EQ(0, access_op(self->fd, GUESTMAP_ACCESS_CACHE_READ, 0,
				       GPA + WORD_OFF, &v, 8, 0, 0));
		EXPECT_EQ(tag(0, round), v);
		ASSERT_EQ(0, access_op(self->fd, GUESTMAP_ACCESS_MAP_READ, 0,
				       GPA + WORD_OFF, &v, 8, 0, 0));
		EXPECT_EQ(tag(0, round), v);
	}
	ASSERT_EQ(0, set_slot(self->fd, GPA, 0, NULL));
	munmap(p, 2 * PAGE);
}

TEST_HARNESS_MAIN
