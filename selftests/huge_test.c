// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap huge-entry selftests: the mirror maps 2 MiB (and 1 GiB)
 * entries where the CPU does, falls back to 4 KiB entries where it must,
 * and stays coherent when part of a huge entry is invalidated.
 *
 * What the CPU maps is read from the kernel itself: /proc/self/pagemap
 * (pfns, soft-dirty) and /proc/self/smaps (AnonHugePages: what is
 * PMD-mapped).  What each event does to the CPU's page tables is read
 * from 6.12's mm/ (cited where a test depends on it): splitting a PMD,
 * by a vma split or a partial zap, sends MMU_NOTIFY_CLEAR for the whole
 * 2 MiB first (__split_huge_pmd()), so no present entry can name a page
 * the CPU maps differently.  Every test checks data on every path in
 * (READ_GUEST, WRITE_GUEST, a kvm_vcpu_map()-style mapping, a pfn cache)
 * against user memory, so that the parts that do not depend on huge
 * entries also hold with a mirror of 4 KiB entries only.
 *
 * Run as root in the test VM with guestmap.ko loaded.  hugetlb pages are
 * reserved by the tests and given back (a 1 GiB one needs a free, aligned
 * GiB, which the test VM's mem=1920M never has: that test skips there);
 * device-dax reconfigures the pmem namespace (GM_TEST_APPEND in
 * scripts/lib.sh) with ndctl and puts it back as it found it.  No memory
 * the VM can make is a PMD- or PUD-mapped VM_PFNMAP (that takes VFIO).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
#include "guestmap_mirror.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << MAP_HUGE_SHIFT)
#define MAP_HUGE_1GB	(30 << MAP_HUGE_SHIFT)
#endif

#define SZ_2M		(2UL << 20)
#define SZ_1G		(1UL << 30)
#define PMD_PAGES	512UL
#define PUD_PAGES	(512UL * 512)
#define SLOT_GPA	0x40000000UL	/* 1 GiB: 2 MiB- and 1 GiB-aligned */
#define SLOT_GPA2	0x80000000UL	/* another one, for a second slot */

/* The pfn caches the tests use: each test's own views, and check_pages()'s. */
#define CACHE_NEAR	0	/* a page in the 2 MiB an event touches */
#define CACHE_HIT	1	/* the page the event is about */
#define CACHE_FAR	2	/* a page in another 2 MiB */
#define CACHE_CHECK	7

#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"
#define HUGEPAGES_2M_DIR	"/sys/kernel/mm/hugepages/hugepages-2048kB"
#define HUGEPAGES_1G_DIR	"/sys/kernel/mm/hugepages/hugepages-1048576kB"
#define NR_HUGEPAGES_1G	HUGEPAGES_1G_DIR "/nr_hugepages"

/* One GUESTMAP_ACCESS; 0 or errno.  *via gets how the page was reached. */
static int acc(int fd, uint32_t op, uint64_t gpa, void *buf, uint64_t len,
	       uint32_t cache, uint32_t *via)
{
	struct guestmap_access a = {
		.gpa = gpa, .len = len, .buf = (uintptr_t)buf, .op = op,
		.cache = cache,
	};
	int ret = ioctl(fd, GUESTMAP_ACCESS, &a) ? errno : 0;

	if (via)
		*via = a.via;
	return ret;
}

static int cache_rw(int fd, uint32_t cache, int write, uint64_t gpa,
		    void *buf, uint64_t len, uint32_t *via)
{
	return acc(fd, write ? GUESTMAP_ACCESS_CACHE_WRITE : GUESTMAP_ACCESS_CACHE_READ,
		   gpa, buf, len, cache, via);
}

static unsigned int size_of(uint64_t e)
{
	return (e & GUESTMAP_PAGE_SIZE_MASK) >> GUESTMAP_PAGE_SIZE_SHIFT;
}

/* What the CPU maps with PMDs in [@p, @p + @len), in kB (smaps). */
static long pmd_mapped_kb(const void *p, size_t len)
{
	return smaps_kb(p, len, "AnonHugePages");
}

/*
 * Keeps khugepaged away from [@p, @p + @len), for a test that splits a
 * huge mapping there and then expects 4 KiB mappings: with the default
 * max_ptes_none (511) khugepaged may collapse the range again at any of
 * its scans, even around the zero page's PTEs, and on the debug kernel a
 * test can span one.  Mappings already huge stay so: VM_NOHUGEPAGE only
 * stops new huge pages (a fault's, khugepaged's and MADV_COLLAPSE's).
 */
static int keep_khugepaged_out(void *p, size_t len)
{
	return madvise(p, len, MADV_NOHUGEPAGE);
}

/*
 * @len bytes (2 MiB multiple) of anonymous memory, 2 MiB aligned, filled
 * from @seed, that the CPU maps with PMDs only; NULL if THP gave less.
 */
static char *thp_buffer(size_t len, uint32_t seed)
{
	char *p = map_aligned(len, SZ_2M);

	if (!p)
		return NULL;
	if (madvise(p, len, MADV_HUGEPAGE)) {
		munmap(p, len);
		return NULL;
	}
	fill(p, len, seed);
	if (pmd_mapped_kb(p, len) != (long)(len >> 10)) {
		munmap(p, len);
		return NULL;
	}
	return p;
}

static long read_long(const char *path)
{
	char s[32] = "";
	int fd = open(path, O_RDONLY);
	long v = -1;

	if (fd < 0)
		return -1;
	if (read(fd, s, sizeof(s) - 1) > 0)
		v = atol(s);
	close(fd);
	return v;
}

static int write_long(const char *path, long v)
{
	char s[32];
	int fd = open(path, O_WRONLY);
	int len = snprintf(s, sizeof(s), "%ld", v);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, len) == len ? 0 : -1;
	close(fd);
	return ret;
}

/* A value no other write of this run leaves: what a write path stores. */
static uint64_t next_tag(void)
{
	static uint64_t seq;

	return 0x6875676500000000ULL | (uint64_t)getpid() << 20 | ++seq;
}

static uint64_t word_at(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/*
 * How many of the @npages pages at @gpa are not mirrored as the CPU maps
 * them at @hva: each must be present, in an entry of @size
 * (GUESTMAP_PAGE_SIZE_*), writable if @w is 1 and read-only if 0 (-1:
 * either), with the pfn pagemap shows; within a huge entry the pfns run
 * on from a first one aligned to its size.  The first difference is
 * logged.
 */
static size_t entries_differ(struct __test_metadata *_metadata, int fd,
			     uint64_t gpa, const char *hva, size_t npages,
			     unsigned int size, int w)
{
	size_t chunk = GUESTMAP_QUERY_MAX, bad = 0, i, j;
	uint64_t *e = calloc(chunk, 8), *pm = calloc(chunk, 8);
	uint64_t span = size == GUESTMAP_PAGE_SIZE_1G ? PUD_PAGES :
			size == GUESTMAP_PAGE_SIZE_2M ? PMD_PAGES : 1;

	if (!e || !pm || !npages) {
		free(e);
		free(pm);
		return npages + 1;
	}
	for (i = 0; i < npages; i += chunk) {
		size_t n = npages - i < chunk ? npages - i : chunk;

		if (query(fd, gpa + i * PAGE, n, e) ||
		    pagemap_range(hva + i * PAGE, n, pm)) {
			bad += n;
			continue;
		}
		for (j = 0; j < n; j++) {
			uint64_t pfn = e[j] >> GUESTMAP_PAGE_PFN_SHIFT;
			uint64_t gfn = (gpa >> 12) + i + j;
			const char *why = NULL;

			if (!(e[j] & GUESTMAP_PAGE_PRESENT))
				why = "not present";
			else if (size_of(e[j]) != size)
				why = "size";
			else if (w >= 0 && !!(e[j] & GUESTMAP_PAGE_WRITABLE) != w)
				why = "writable";
			else if (!(pm[j] & PM_PRESENT) || PM_PFN(pm[j]) != pfn)
				why = "pfn is not pagemap's";
			else if ((pfn & (span - 1)) != (gfn & (span - 1)))
				why = "pfn not in line with the gpa in a huge entry";
			if (why && !bad++)
				TH_LOG("page %zu (gpa %#llx): %s: entry %#llx, pagemap %#llx, want size %u",
				       i + j, (unsigned long long)gfn << 12, why,
				       (unsigned long long)e[j], (unsigned long long)pm[j],
				       size);
		}
	}
	free(e);
	free(pm);
	return bad;
}

/* How many of the @npages pages at @gpa are mirrored at all. */
static size_t entries_present(int fd, uint64_t gpa, size_t npages)
{
	uint64_t *e = calloc(npages, 8);
	size_t i, n = 0;

	if (!e || query(fd, gpa, npages, e)) {
		free(e);
		return ~0UL;
	}
	for (i = 0; i < npages; i++)
		n += !!(e[i] & GUESTMAP_PAGE_PRESENT);
	free(e);
	return n;
}

/*
 * Every way in to each page @pages[0..n) of the range at @gpa that maps
 * @hva agrees with user memory: what the guest reads (READ_GUEST), a
 * kvm_vcpu_map()-style mapping (MAP_READ) and a pfn cache (CACHE_READ);
 * and a write through each of WRITE_GUEST, MAP_WRITE and CACHE_WRITE
 * shows in user memory.
 */
static void check_pages(struct __test_metadata *_metadata, int fd, uint64_t gpa,
			char *hva, const size_t *pages, size_t n)
{
	static const uint32_t wops[] = {
		0, GUESTMAP_ACCESS_MAP_WRITE, GUESTMAP_ACCESS_CACHE_WRITE,
	};
	char *buf = malloc(PAGE);
	size_t i, k;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < n; i++) {
		uint64_t g = gpa + pages[i] * PAGE;
		char *u = hva + pages[i] * PAGE;

		memset(buf, 0x5a, PAGE);
		EXPECT_EQ(0, guest_rw(fd, g, buf, PAGE, 0));
		EXPECT_EQ(0, memcmp(buf, u, PAGE)) TH_LOG("READ_GUEST, page %zu", pages[i]);
		memset(buf, 0x5a, PAGE);
		EXPECT_EQ(0, acc(fd, GUESTMAP_ACCESS_MAP_READ, g, buf, PAGE, 0, NULL));
		EXPECT_EQ(0, memcmp(buf, u, PAGE)) TH_LOG("MAP_READ, page %zu", pages[i]);
		memset(buf, 0x5a, PAGE);
		EXPECT_EQ(0, cache_rw(fd, CACHE_CHECK, 0, g, buf, PAGE, NULL));
		EXPECT_EQ(0, memcmp(buf, u, PAGE)) TH_LOG("CACHE_READ, page %zu", pages[i]);
		for (k = 0; k < 3; k++) {
			uint64_t v = next_tag(), off = 64 + 64 * k;
			int ret = k ? acc(fd, wops[k], g + off, &v, 8, CACHE_CHECK, NULL) :
				      guest_rw(fd, g + off, &v, 8, 1);

			EXPECT_EQ(0, ret) TH_LOG("write %zu, page %zu", k, pages[i]);
			EXPECT_EQ(v, word_at(u + off))
				TH_LOG("write %zu, page %zu: not in user memory", k, pages[i]);
		}
	}
	free(buf);
}

/*
 * READ_GUEST and WRITE_GUEST of a few pages, at no page alignment, across
 * the boundary at @gpa (user memory at @u): between two huge entries, or
 * a huge entry and small ones, the bytes are user memory's either side.
 */
static void cross_boundary(struct __test_metadata *_metadata, int fd, uint64_t gpa,
			   char *u)
{
	size_t len = 3 * PAGE + 200, before = PAGE + 100;
	char *buf = malloc(len), *w = malloc(len);

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, w);
	memset(buf, 0x5a, len);
	EXPECT_EQ(0, guest_rw(fd, gpa - before, buf, len, 0));
	EXPECT_EQ(0, memcmp(buf, u - before, len));
	fill(w, len, getpid());
	EXPECT_EQ(0, guest_rw(fd, gpa - before, w, len, 1));
	EXPECT_EQ(0, memcmp(w, u - before, len));
	EXPECT_EQ(0, acc(fd, GUESTMAP_ACCESS_READ, gpa - before, buf, len, 0, NULL));
	EXPECT_EQ(0, memcmp(buf, w, len));
	free(buf);
	free(w);
}

/*
 * A read-only page (user memory at @u): every read path reads it, every
 * write path is refused with EFAULT as the CPU would refuse it, and the
 * memory is unchanged.
 */
static void check_readonly(struct __test_metadata *_metadata, int fd, uint64_t g,
			   const char *u)
{
	uint64_t v = next_tag(), old = word_at(u + 256);
	char buf[64];

	EXPECT_EQ(0, guest_rw(fd, g, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, u, sizeof(buf)));
	EXPECT_EQ(0, acc(fd, GUESTMAP_ACCESS_MAP_READ, g, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(0, memcmp(buf, u, sizeof(buf)));
	EXPECT_EQ(0, cache_rw(fd, CACHE_CHECK, 0, g, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, memcmp(buf, u, sizeof(buf)));
	EXPECT_EQ(EFAULT, guest_rw(fd, g + 256, &v, 8, 1));
	EXPECT_EQ(EFAULT, acc(fd, GUESTMAP_ACCESS_MAP_WRITE, g + 256, &v, 8, 0, NULL));
	EXPECT_EQ(EFAULT, cache_rw(fd, CACHE_CHECK, 1, g + 256, &v, 8, NULL));
	EXPECT_EQ(EFAULT, acc(fd, GUESTMAP_ACCESS_WRITE, g + 256, &v, 8, 0, NULL));
	EXPECT_EQ(EFAULT, fault(fd, g, PAGE, 1));
	EXPECT_EQ(old, word_at(u + 256));
}

/* A page nothing may read (PROT_NONE, unmapped): every read path fails. */
static void check_unreadable(struct __test_metadata *_metadata, int fd, uint64_t g)
{
	char buf[8] = { 0 };

	EXPECT_EQ(EFAULT, guest_rw(fd, g, buf, 8, 0));
	EXPECT_EQ(EFAULT, acc(fd, GUESTMAP_ACCESS_MAP_READ, g, buf, 8, 0, NULL));
	EXPECT_EQ(EFAULT, cache_rw(fd, CACHE_CHECK, 0, g, buf, 8, NULL));
	EXPECT_EQ(EFAULT, acc(fd, GUESTMAP_ACCESS_READ, g, buf, 8, 0, NULL));
	EXPECT_EQ(EFAULT, fault(fd, g, PAGE, 0));
	EXPECT_FALSE(query1(fd, g) & GUESTMAP_PAGE_PRESENT);
	EXPECT_EQ(0, word_at(buf));
}

/*
 * The caches' views before an event: CACHE_NEAR on page @near, CACHE_HIT
 * on page @hit, CACHE_FAR on page @far of the slot at SLOT_GPA.
 */
static void cache_views(struct __test_metadata *_metadata, int fd, const char *hva,
			size_t near, size_t hit, size_t far)
{
	char buf[16];

	ASSERT_EQ(0, cache_rw(fd, CACHE_NEAR, 0, SLOT_GPA + near * PAGE, buf, 16, NULL));
	EXPECT_EQ(0, memcmp(buf, hva + near * PAGE, 16));
	ASSERT_EQ(0, cache_rw(fd, CACHE_HIT, 0, SLOT_GPA + hit * PAGE, buf, 16, NULL));
	EXPECT_EQ(0, memcmp(buf, hva + hit * PAGE, 16));
	ASSERT_EQ(0, cache_rw(fd, CACHE_FAR, 0, SLOT_GPA + far * PAGE, buf, 16, NULL));
	EXPECT_EQ(0, memcmp(buf, hva + far * PAGE, 16));
}

/*
 * After an event on the first 2 MiB: the view of page @near, in the same
 * 2 MiB, was invalidated (the kernel's CLEAR of the whole 2 MiB covered
 * it) and the next access refreshes it and reads user memory; the view
 * of page @far, in the other 2 MiB that nothing invalidated, still holds.
 */
static void cache_views_after(struct __test_metadata *_metadata, int fd,
			      const char *hva, size_t near, size_t far)
{
	uint32_t via = 0;
	char buf[16];

	EXPECT_EQ(0, cache_rw(fd, CACHE_NEAR, 0, SLOT_GPA + near * PAGE, buf, 16, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(0, memcmp(buf, hva + near * PAGE, 16));
	EXPECT_EQ(0, cache_rw(fd, CACHE_FAR, 0, SLOT_GPA + far * PAGE, buf, 16, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE, via);
	EXPECT_EQ(0, memcmp(buf, hva + far * PAGE, 16));
}

FIXTURE(huge) {
	int fd;
	char *buf;
	size_t len;
};

FIXTURE_SETUP(huge)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	self->buf = NULL;
	self->len = 0;
}

FIXTURE_TEARDOWN(huge)
{
	close(self->fd);
	if (self->buf)
		munmap(self->buf, self->len);
}

/*
 * @len bytes of THP (filled from @seed), mirrored by slot 0 of @fd at
 * SLOT_GPA and write-faulted in: 2 MiB writable entries, as the CPU maps
 * them.  NULL (skip) if THP gave no huge pages.
 */
static char *thp_slot(struct __test_metadata *_metadata, int fd, size_t len,
		      uint32_t seed)
{
	char *buf = thp_buffer(len, seed);
	struct guestmap_stats s;

	if (!buf)
		return NULL;
	EXPECT_EQ(0, set_slot(fd, 0, 0, SLOT_GPA, len, buf));
	EXPECT_EQ(0, fault(fd, SLOT_GPA, len, 1));
	s = stats(fd);
	EXPECT_EQ(len / SZ_2M, s.entries_2m);
	EXPECT_EQ(len / PAGE, s.entries_present);
	EXPECT_EQ(0, entries_differ(_metadata, fd, SLOT_GPA, buf, len / PAGE,
				    GUESTMAP_PAGE_SIZE_2M, 1));
	return buf;
}

TEST_F(huge, cap_huge_is_advertised)
{
	struct guestmap_api_version v = { 0 };

	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_GET_API_VERSION, &v));
	EXPECT_TRUE(v.caps & GUESTMAP_CAP_MIRROR);
	EXPECT_TRUE(v.caps & GUESTMAP_CAP_HUGE);
}

/*
 * Two PMD-mapped THPs: a read fault installs two read-only 2 MiB entries,
 * each page reported on its own with pagemap's pfn; a write fault makes
 * them writable in place.  A 2 MiB entry is a leaf in the directory
 * table, so the slot needs no leaf table: two tables below the root, as
 * for x86's PS bit.
 */
TEST_F(huge, thp_maps_2m_entries)
{
	size_t len = 2 * SZ_2M, npages = len / PAGE;
	const size_t pages[] = { 0, 1, 255, 511, 512, 777, 1023 };
	struct guestmap_stats s;

	self->buf = thp_buffer(len, 1);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge pages");
	self->len = len;
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, len, self->buf));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, len, 0));
	s = stats(self->fd);
	EXPECT_EQ(2, s.entries_2m);
	EXPECT_EQ(0, s.entries_1g);
	EXPECT_EQ(npages, s.entries_present);
	EXPECT_EQ(npages, s.pages_faulted);
	EXPECT_EQ(2, s.tables_allocated);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, npages,
				    GUESTMAP_PAGE_SIZE_2M, 0));
	EXPECT_EQ(GUESTMAP_CLASS_PAGE, class_of(query1(self->fd, SLOT_GPA + 3 * PAGE)));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, len));
	EXPECT_EQ(npages, stats(self->fd).pages_faulted);

	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, len, 1));
	s = stats(self->fd);
	EXPECT_EQ(2, s.entries_2m);
	EXPECT_EQ(2 * npages, s.pages_faulted);
	EXPECT_EQ(0, s.huge_splits);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, npages,
				    GUESTMAP_PAGE_SIZE_2M, 1));
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 7);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, len));
	/* Queries and accesses that start inside one entry and end in the other. */
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + 100 * PAGE,
				    self->buf + 100 * PAGE, 700, GUESTMAP_PAGE_SIZE_2M, 1));
	cross_boundary(_metadata, self->fd, SLOT_GPA + SZ_2M, self->buf + SZ_2M);

	/* munmap of both, at 2 MiB boundaries: no split, both entries go. */
	ASSERT_EQ(0, munmap(self->buf, len));
	self->buf = NULL;
	s = stats(self->fd);
	EXPECT_EQ(0, s.entries_2m);
	EXPECT_EQ(0, s.entries_present);
	EXPECT_EQ(npages, s.entries_zapped);
	EXPECT_EQ(0, s.huge_partial);
}

/*
 * A fault of part of a huge page installs what the CPU maps, the whole
 * 2 MiB entry: a fault of 30 pages across the boundary of two THPs maps
 * both, read-only; a write fault of one page of the second makes that
 * whole entry writable and leaves the first read-only.
 */
TEST_F(huge, part_of_a_huge_page_faults_the_whole_entry)
{
	size_t len = 2 * SZ_2M;
	struct guestmap_stats s;

	self->buf = thp_buffer(len, 3);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge pages");
	self->len = len;
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, len, self->buf));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA + 500 * PAGE, 30 * PAGE, 0));
	s = stats(self->fd);
	EXPECT_EQ(2, s.entries_2m);
	EXPECT_EQ(len / PAGE, s.entries_present);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, len / PAGE,
				    GUESTMAP_PAGE_SIZE_2M, 0));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA + 1000 * PAGE, PAGE, 1));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_2M, 0));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + SZ_2M, self->buf + SZ_2M,
				    PMD_PAGES, GUESTMAP_PAGE_SIZE_2M, 1));
	EXPECT_EQ(2, stats(self->fd).entries_2m);
	EXPECT_EQ(0, stats(self->fd).huge_splits);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, len));
}

/*
 * The mirror's table pages are accounted as secondary page tables while
 * they are linked into the tree, as KVM counts its TDP pages
 * (tdp_account_mmu_page() in tdp_mmu_link_sp(); roots and the spares of
 * its memory caches are not counted): opening a context and faulting
 * raise SecPageTables by exactly the tables the fault linked, and
 * closing it gives them back.  A 2 MiB entry is a leaf in the directory
 * table: two tables below the root, no leaf table.
 */
TEST_F(huge, secondary_page_tables_count_the_mirror)
{
	long before = meminfo_kb("SecPageTables"), opened, faulted, tables;
	struct guestmap_stats s;
	int fd;

	if (before < 0)
		SKIP(return, "no SecPageTables in /proc/meminfo");
	self->buf = thp_buffer(SZ_2M, 2);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge page");
	self->len = SZ_2M;
	fd = open_dev();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_slot(fd, 0, 0, SLOT_GPA, SZ_2M, self->buf));
	opened = meminfo_kb("SecPageTables");
	EXPECT_EQ(before, opened);
	ASSERT_EQ(0, fault(fd, SLOT_GPA, SZ_2M, 0));
	faulted = meminfo_kb("SecPageTables");
	s = stats(fd);
	tables = s.tables_allocated - s.tables_freed;
	EXPECT_EQ(1, s.entries_2m);
	EXPECT_EQ(2, tables);
	EXPECT_EQ(tables * 4, faulted - opened);
	/* Unmapped: the entry goes, the tables stay linked (an UNMAP of 2 MiB). */
	ASSERT_EQ(0, munmap(self->buf, SZ_2M));
	self->buf = NULL;
	s = stats(fd);
	EXPECT_EQ((long)(s.tables_allocated - s.tables_freed) * 4,
		  meminfo_kb("SecPageTables") - opened);
	close(fd);
	EXPECT_EQ(before, meminfo_kb("SecPageTables"));
}

FIXTURE(hugetlb) {
	int fd;
	const char *knob;
	long old;
	char *buf;
	size_t len;
};

FIXTURE_SETUP(hugetlb)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	self->knob = NULL;
	self->buf = MAP_FAILED;
}

FIXTURE_TEARDOWN(hugetlb)
{
	close(self->fd);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->len);
	/* Give the pages back: later tests must find the memory free. */
	if (self->knob)
		write_long(self->knob, self->old);
}

/*
 * Have @n free hugetlb pages of @knob's size, whose count was *@old: 0 if
 * there are (reserved at boot, or by the kernel now), 1 if not, -1 if
 * there is no such knob.
 */
static int hugetlb_reserve(const char *knob, long n, long *old)
{
	char free_knob[128];

	*old = read_long(knob);
	if (*old < 0)
		return -1;
	/* Enough free already (reserved at boot: hugepages=): take those. */
	snprintf(free_knob, sizeof(free_knob), "%s/free_hugepages",
		 strcmp(knob, NR_HUGEPAGES_1G) ? HUGEPAGES_2M_DIR : HUGEPAGES_1G_DIR);
	if (read_long(free_knob) >= n)
		return 0;
	if (write_long(knob, *old + n) || read_long(knob) != *old + n)
		return 1;
	return 0;
}

/* @len bytes of hugetlb memory (@flags: MAP_HUGE_*), or MAP_FAILED. */
static char *hugetlb_map(size_t len, int flags)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | flags, -1, 0);
}

/*
 * hugetlb 2 MiB pages: 2 MiB entries, written through; mprotect
 * write-protects them in place (hugetlb's change_protection() keeps the
 * huge ptes) and munmap takes them away.
 */
TEST_F(hugetlb, hugetlb_2m_maps_2m_entries)
{
	const size_t pages[] = { 0, 300, 511, 512, 1023 };
	size_t len = 2 * SZ_2M, npages = len / PAGE;
	struct guestmap_stats s;
	int ret;

	ret = hugetlb_reserve(NR_HUGEPAGES, 2, &self->old);
	if (ret >= 0)
		self->knob = NR_HUGEPAGES;
	self->len = len;
	self->buf = ret ? MAP_FAILED : hugetlb_map(len, MAP_HUGE_2MB);
	if (self->buf == MAP_FAILED)
		SKIP(return, "no 2 MiB hugetlb pages");
	fill(self->buf, len, 3);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, len, self->buf));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, len, 1));
	s = stats(self->fd);
	EXPECT_EQ(2, s.entries_2m);
	EXPECT_EQ(npages, s.entries_present);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, npages,
				    GUESTMAP_PAGE_SIZE_2M, 1));
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 5);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, len));

	ASSERT_EQ(0, mprotect(self->buf, len, PROT_READ));
	s = stats(self->fd);
	EXPECT_EQ(2, s.entries_2m);
	EXPECT_EQ(npages, s.entries_wrprotected);
	EXPECT_EQ(0, s.entries_zapped);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, npages,
				    GUESTMAP_PAGE_SIZE_2M, 0));
	check_readonly(_metadata, self->fd, SLOT_GPA + 700 * PAGE, self->buf + 700 * PAGE);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, len));

	ASSERT_EQ(0, munmap(self->buf, len));
	self->buf = MAP_FAILED;
	s = stats(self->fd);
	EXPECT_EQ(0, s.entries_2m);
	EXPECT_EQ(0, s.entries_present);
	check_unreadable(_metadata, self->fd, SLOT_GPA);
}

/*
 * A 1 GiB hugetlb page, if the VM has one: the main test boot (2 GiB, of
 * which mem= leaves 1920 MiB to the kernel) cannot reserve one, so make
 * check runs this test again in a boot of its own with 4 GiB and
 * hugepages=1 of 1 GiB (scripts/check.sh).  One 1 GiB entry.
 */
TEST_F_TIMEOUT(hugetlb, hugetlb_1g_maps_a_1g_entry, 300)
{
	const size_t pages[] = { 0, 511, 512, PUD_PAGES / 2 + 3, PUD_PAGES - 1 };
	uint64_t tail = SLOT_GPA + SZ_1G - 64 * PAGE;
	struct guestmap_stats s;
	size_t i;
	int ret;

	if (access(NR_HUGEPAGES_1G, F_OK))
		SKIP(return, "no 1 GiB hugetlb pages in this kernel");
	ret = hugetlb_reserve(NR_HUGEPAGES_1G, 1, &self->old);
	if (ret >= 0)
		self->knob = NR_HUGEPAGES_1G;
	self->len = SZ_1G;
	self->buf = ret ? MAP_FAILED : hugetlb_map(SZ_1G, MAP_HUGE_1GB);
	if (self->buf == MAP_FAILED)
		SKIP(return, "the kernel could not reserve a 1 GiB hugetlb page");
	for (i = 0; i < 5; i++)
		fill(self->buf + pages[i] * PAGE, PAGE, 4 + i);
	fill(self->buf + SZ_1G - 64 * PAGE, 64 * PAGE, 9);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, SZ_1G, self->buf));
	/* One page's fault installs what the CPU maps: the whole 1 GiB. */
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA + 5 * PAGE, PAGE, 1));
	s = stats(self->fd);
	EXPECT_EQ(1, s.entries_1g);
	EXPECT_EQ(0, s.entries_2m);
	EXPECT_EQ(PUD_PAGES, s.entries_present);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf,
				    GUESTMAP_QUERY_MAX, GUESTMAP_PAGE_SIZE_1G, 1));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, tail,
				    self->buf + SZ_1G - 64 * PAGE, 64,
				    GUESTMAP_PAGE_SIZE_1G, 1));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, 64 * PAGE));
	EXPECT_TRUE(guest_equals(self->fd, tail, self->buf + SZ_1G - 64 * PAGE, 64 * PAGE));
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 5);
	ASSERT_EQ(0, munmap(self->buf, SZ_1G));
	self->buf = MAP_FAILED;
	s = stats(self->fd);
	EXPECT_EQ(0, s.entries_1g);
	EXPECT_EQ(0, s.entries_present);
}

FIXTURE(devdax) {
	int fd;
	int dax;
	char *buf;
	char mode[16];
	char map[16];
};

/*
 * "mode" and "map" of pmem namespace0.0, as ndctl lists them; 0, or -1
 * if ndctl cannot tell.
 */
static int namespace_mode(char *mode, char *map)
{
	FILE *f = popen("ndctl list -n namespace0.0 2>/dev/null", "r");
	char line[256];

	if (!f)
		return -1;
	*mode = *map = 0;
	while (fgets(line, sizeof(line), f)) {
		char *m = strstr(line, "\"mode\":\""), *p = strstr(line, "\"map\":\"");

		if (m)
			sscanf(m + 8, "%15[a-z]", mode);
		if (p)
			sscanf(p + 7, "%15[a-z]", map);
	}
	pclose(f);
	return *mode ? 0 : -1;
}

FIXTURE_SETUP(devdax)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	self->dax = -1;
	self->buf = MAP_FAILED;
	self->mode[0] = 0;
}

FIXTURE_TEARDOWN(devdax)
{
	char cmd[160];

	if (self->buf != MAP_FAILED)
		munmap(self->buf, 2 * SZ_2M);
	if (self->dax >= 0)
		close(self->dax);
	close(self->fd);
	/* Back as it was found: map_test and fuzz_test need /dev/pmem0. */
	if (self->mode[0]) {
		snprintf(cmd, sizeof(cmd),
			 "ndctl create-namespace -f -e namespace0.0 -m %s%s%s >/dev/null 2>&1",
			 self->mode, self->map[0] ? " --map=" : "", self->map);
		if (system(cmd))
			TH_LOG("pmem namespace not restored: %s", cmd);
	}
}

/*
 * device-dax with 2 MiB alignment: the CPU maps it with PMDs
 * (dev_dax_huge_fault(), vmf_insert_pfn_pmd()), so the mirror maps it
 * with 2 MiB entries of ZONE_DEVICE pages that have a struct page.
 */
TEST_F_TIMEOUT(devdax, devdax_pmd_maps_2m_entries, 300)
{
	const size_t pages[] = { 0, 100, 511, 512, 1023 };
	size_t len = 2 * SZ_2M, npages = len / PAGE;
	struct guestmap_stats s;
	uint64_t pfn0;
	size_t i;

	if (access("/dev/pmem0", F_OK) || system("command -v ndctl >/dev/null 2>&1"))
		SKIP(return, "needs /dev/pmem0 (memmap=<size>!<phys>) and ndctl");
	if (namespace_mode(self->mode, self->map))
		SKIP(return, "ndctl does not list namespace0.0");
	if (system("ndctl create-namespace -f -e namespace0.0 -m devdax --align=2M >/dev/null 2>&1"))
		SKIP(return, "ndctl could not make a device-dax namespace with 2 MiB alignment");
	self->dax = open("/dev/dax0.0", O_RDWR);
	ASSERT_LE(0, self->dax);
	self->buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->dax, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, (uintptr_t)self->buf % SZ_2M);
	fill(self->buf, len, 5);
	/* The CPU's side: each 2 MiB is one aligned run of pfns. */
	pfn0 = pagemap_pfn(self->buf);
	ASSERT_EQ(0, pfn0 % PMD_PAGES);
	for (i = 0; i < PMD_PAGES; i += 73)
		ASSERT_EQ(pfn0 + i, pagemap_pfn(self->buf + i * PAGE));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, len, self->buf));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, len, 1));
	s = stats(self->fd);
	EXPECT_EQ(2, s.entries_2m);
	EXPECT_EQ(npages, s.entries_present);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, npages,
				    GUESTMAP_PAGE_SIZE_2M, 1));
	EXPECT_EQ(GUESTMAP_CLASS_PAGE, class_of(query1(self->fd, SLOT_GPA + PAGE)));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, len));
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 5);
	ASSERT_EQ(0, munmap(self->buf, len));
	self->buf = MAP_FAILED;
	EXPECT_EQ(0, stats(self->fd).entries_present);
	EXPECT_EQ(0, stats(self->fd).entries_2m);
	check_unreadable(_metadata, self->fd, SLOT_GPA + PAGE);
}

/*
 * hva - gpa not a multiple of 2 MiB: no gpa block lines up with a PMD, so
 * 4 KiB entries only, whether the gpa (slot 0) or the user address
 * (slot 1) is the one off by a page.
 */
TEST_F(huge, misaligned_slot_maps_4k_entries)
{
	size_t len = 2 * SZ_2M, npages = len / PAGE;
	const size_t pages[] = { 0, 511, 512, 1000 };

	self->buf = thp_buffer(len, 6);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge pages");
	self->len = len;
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA + PAGE, len, self->buf));
	ASSERT_EQ(0, set_slot(self->fd, 1, 0, SLOT_GPA2, len - PAGE, self->buf + PAGE));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA + PAGE, len, 0));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA2, len - PAGE, 1));
	EXPECT_EQ(0, stats(self->fd).entries_2m);
	EXPECT_EQ(2 * npages - 1, stats(self->fd).entries_present);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + PAGE, self->buf, npages,
				    GUESTMAP_PAGE_SIZE_4K, 0));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA2, self->buf + PAGE,
				    npages - 1, GUESTMAP_PAGE_SIZE_4K, 1));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA + PAGE, self->buf, len));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA2, self->buf + PAGE, len - PAGE));
	check_pages(_metadata, self->fd, SLOT_GPA + PAGE, self->buf, pages, 4);
	check_pages(_metadata, self->fd, SLOT_GPA2, self->buf + PAGE, pages, 4);
	/* Each slot sees the other's writes: the same memory. */
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA + PAGE, self->buf, len));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA2, self->buf + PAGE, len - PAGE));
	EXPECT_EQ(0, stats(self->fd).entries_2m);
}

/*
 * A slot that holds only part of an aligned 2 MiB gpa block gets 4 KiB
 * entries there, even over a PMD-mapped THP; the whole blocks it holds
 * get 2 MiB entries.  Slot 0 ends 1 MiB into the second block; slot 1
 * starts 1 MiB into the first.
 */
TEST_F(huge, slot_edges_map_4k_entries)
{
	size_t len = 2 * SZ_2M, half = 256;
	const size_t pages[] = { 0, 255, 256, 700 };
	struct guestmap_stats s;

	self->buf = thp_buffer(len, 7);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge pages");
	self->len = len;
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, SZ_2M + SZ_2M / 2, self->buf));
	ASSERT_EQ(0, set_slot(self->fd, 1, 0, SLOT_GPA2 + SZ_2M / 2, SZ_2M + SZ_2M / 2,
			      self->buf + SZ_2M / 2));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M + SZ_2M / 2, 1));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA2 + SZ_2M / 2, SZ_2M + SZ_2M / 2, 0));
	s = stats(self->fd);
	EXPECT_EQ(2, s.entries_2m);
	EXPECT_EQ(4 * PMD_PAGES - 2 * half, s.entries_present);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_2M, 1));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + SZ_2M, self->buf + SZ_2M,
				    half, GUESTMAP_PAGE_SIZE_4K, 1));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA2 + SZ_2M / 2,
				    self->buf + SZ_2M / 2, half, GUESTMAP_PAGE_SIZE_4K, 0));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA2 + SZ_2M, self->buf + SZ_2M,
				    PMD_PAGES, GUESTMAP_PAGE_SIZE_2M, 0));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M + SZ_2M / 2));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA2 + SZ_2M / 2, self->buf + SZ_2M / 2,
				 SZ_2M + SZ_2M / 2));
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 4);
	check_pages(_metadata, self->fd, SLOT_GPA2 + SZ_2M / 2, self->buf + SZ_2M / 2,
		    pages, 4);
	/* From a 2 MiB entry into 4 KiB ones, and the other way. */
	cross_boundary(_metadata, self->fd, SLOT_GPA + SZ_2M, self->buf + SZ_2M);
	cross_boundary(_metadata, self->fd, SLOT_GPA2 + SZ_2M, self->buf + SZ_2M);
}

/* A READONLY slot gets 4 KiB entries, read-only, over a PMD-mapped THP. */
TEST_F(huge, readonly_slot_maps_4k_entries)
{
	char buf[16];
	uint64_t v = 1;

	self->buf = thp_buffer(SZ_2M, 8);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge page");
	self->len = SZ_2M;
	ASSERT_EQ(0, set_slot(self->fd, 0, GUESTMAP_MEM_READONLY, SLOT_GPA, SZ_2M, self->buf));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 0));
	EXPECT_EQ(0, stats(self->fd).entries_2m);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_4K, 0));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	EXPECT_EQ(0, cache_rw(self->fd, CACHE_NEAR, 0, SLOT_GPA + 9 * PAGE, buf, 16, NULL));
	EXPECT_EQ(0, memcmp(buf, self->buf + 9 * PAGE, 16));
	EXPECT_EQ(EPERM, fault(self->fd, SLOT_GPA, PAGE, 1));
	EXPECT_EQ(EPERM, guest_rw(self->fd, SLOT_GPA + 8, &v, 8, 1));
	EXPECT_EQ(EPERM, cache_rw(self->fd, CACHE_NEAR, 1, SLOT_GPA + 9 * PAGE, &v, 8, NULL));
	EXPECT_EQ(EPERM, acc(self->fd, GUESTMAP_ACCESS_MAP_WRITE, SLOT_GPA, &v, 8, 0, NULL));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	EXPECT_EQ(0, stats(self->fd).entries_2m);
}

/*
 * munmap of one page inside the first of two 2 MiB entries.  The vma
 * split comes first (__split_vma(), vma_adjust_trans_huge()): a CLEAR of
 * the whole first 2 MiB, which splits the PMD; then the UNMAP of the
 * page.  The first entry goes whole, no huge entry is left to act on
 * partly, and the second is untouched.  The page is gone on every path;
 * the rest reads and writes as user memory, and faults back as 4 KiB
 * entries, as the CPU now maps it.
 */
TEST_F(huge, partial_munmap_keeps_the_rest_coherent)
{
	const size_t pages[] = { 0, 4, 6, 7, 511, 512, 600, 1023 };
	struct guestmap_stats s0, s;
	char buf[16];

	self->len = 2 * SZ_2M;
	self->buf = thp_slot(_metadata, self->fd, self->len, 10);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge pages");
	cache_views(_metadata, self->fd, self->buf, 7, 5, 600);
	s0 = stats(self->fd);
	ASSERT_EQ(0, munmap(self->buf + 5 * PAGE, PAGE));
	EXPECT_EQ(SZ_2M >> 10, pmd_mapped_kb(self->buf, self->len));
	s = stats(self->fd);
	EXPECT_EQ(s0.huge_partial, s.huge_partial);
	EXPECT_EQ(s0.entries_zapped + PMD_PAGES, s.entries_zapped);
	EXPECT_EQ(1, s.entries_2m);
	EXPECT_EQ(0, entries_present(self->fd, SLOT_GPA, PMD_PAGES));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + SZ_2M, self->buf + SZ_2M,
				    PMD_PAGES, GUESTMAP_PAGE_SIZE_2M, 1));
	check_unreadable(_metadata, self->fd, SLOT_GPA + 5 * PAGE);
	EXPECT_EQ(EFAULT, cache_rw(self->fd, CACHE_HIT, 0, SLOT_GPA + 5 * PAGE, buf, 8, NULL));
	cache_views_after(_metadata, self->fd, self->buf, 7, 600);
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 8);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, 5 * PAGE));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA + 6 * PAGE, self->buf + 6 * PAGE,
				 self->len - 6 * PAGE));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, 5 * PAGE, 1));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA + 6 * PAGE, SZ_2M - 6 * PAGE, 1));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, 5,
				    GUESTMAP_PAGE_SIZE_4K, 1));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + 6 * PAGE,
				    self->buf + 6 * PAGE, PMD_PAGES - 6,
				    GUESTMAP_PAGE_SIZE_4K, 1));
	EXPECT_EQ(1, stats(self->fd).entries_2m);
	EXPECT_EQ(0, stats(self->fd).huge_splits);
}

/*
 * mprotect(PROT_READ) of one page inside a 2 MiB entry: the vma split
 * sends a CLEAR of the whole 2 MiB first, then PROTECTION_VMA for the
 * page.  The page reads but refuses every write; its neighbours read and
 * write as before.
 */
TEST_F(huge, partial_mprotect_ro_keeps_the_rest_coherent)
{
	const size_t pages[] = { 0, 2, 4, 7, 511, 600, 1023 };
	struct guestmap_stats s0, s;
	uint32_t via;
	char buf[16];

	self->len = 2 * SZ_2M;
	self->buf = thp_slot(_metadata, self->fd, self->len, 11);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge pages");
	cache_views(_metadata, self->fd, self->buf, 7, 3, 600);
	s0 = stats(self->fd);
	ASSERT_EQ(0, mprotect(self->buf + 3 * PAGE, PAGE, PROT_READ));
	EXPECT_EQ(SZ_2M >> 10, pmd_mapped_kb(self->buf, self->len));
	s = stats(self->fd);
	EXPECT_EQ(s0.huge_partial, s.huge_partial);
	EXPECT_EQ(s0.entries_zapped + PMD_PAGES, s.entries_zapped);
	EXPECT_EQ(s0.entries_wrprotected, s.entries_wrprotected);
	EXPECT_EQ(1, s.entries_2m);
	EXPECT_EQ(0, entries_present(self->fd, SLOT_GPA, PMD_PAGES));
	check_readonly(_metadata, self->fd, SLOT_GPA + 3 * PAGE, self->buf + 3 * PAGE);
	EXPECT_EQ(0, cache_rw(self->fd, CACHE_HIT, 0, SLOT_GPA + 3 * PAGE, buf, 16, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(0, memcmp(buf, self->buf + 3 * PAGE, 16));
	EXPECT_EQ(EFAULT, cache_rw(self->fd, CACHE_HIT, 1, SLOT_GPA + 3 * PAGE, buf, 8, NULL));
	cache_views_after(_metadata, self->fd, self->buf, 7, 600);
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 7);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
	/* Faulted back: 4 KiB entries, the read-only page read-only. */
	EXPECT_EQ(EFAULT, fault(self->fd, SLOT_GPA, SZ_2M, 1));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 0));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA + 4 * PAGE, SZ_2M - 4 * PAGE, 1));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + 3 * PAGE,
				    self->buf + 3 * PAGE, 1, GUESTMAP_PAGE_SIZE_4K, 0));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + 4 * PAGE,
				    self->buf + 4 * PAGE, PMD_PAGES - 4,
				    GUESTMAP_PAGE_SIZE_4K, 1));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + SZ_2M, self->buf + SZ_2M,
				    PMD_PAGES, GUESTMAP_PAGE_SIZE_2M, 1));
	EXPECT_EQ(0, stats(self->fd).huge_splits);
}

/*
 * mprotect(PROT_NONE) of one page inside a 2 MiB entry: that page can no
 * longer be read by any path (mirror_test's mprotect_none_takes_reads_back
 * for a whole range); the rest of the 2 MiB can.
 */
TEST_F(huge, partial_mprotect_none_keeps_the_rest_coherent)
{
	const size_t pages[] = { 0, 2, 4, 7, 511, 600 };
	struct guestmap_stats s0, s;
	char *copy = malloc(PAGE), buf[16];

	ASSERT_NE(NULL, copy);
	self->len = 2 * SZ_2M;
	self->buf = thp_slot(_metadata, self->fd, self->len, 12);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge pages");
	memcpy(copy, self->buf + 3 * PAGE, PAGE);
	cache_views(_metadata, self->fd, self->buf, 7, 3, 600);
	s0 = stats(self->fd);
	ASSERT_EQ(0, mprotect(self->buf + 3 * PAGE, PAGE, PROT_NONE));
	s = stats(self->fd);
	EXPECT_EQ(s0.huge_partial, s.huge_partial);
	EXPECT_EQ(s0.entries_zapped + PMD_PAGES, s.entries_zapped);
	EXPECT_EQ(1, s.entries_2m);
	EXPECT_EQ(0, entries_present(self->fd, SLOT_GPA, PMD_PAGES));
	check_unreadable(_metadata, self->fd, SLOT_GPA + 3 * PAGE);
	EXPECT_EQ(EFAULT, cache_rw(self->fd, CACHE_HIT, 0, SLOT_GPA + 3 * PAGE, buf, 8, NULL));
	EXPECT_EQ(EFAULT, fault(self->fd, SLOT_GPA, SZ_2M, 0));
	cache_views_after(_metadata, self->fd, self->buf, 7, 600);
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 6);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, 3 * PAGE));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA + 4 * PAGE, self->buf + 4 * PAGE,
				 self->len - 4 * PAGE));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA + 4 * PAGE, SZ_2M - 4 * PAGE, 0));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + 4 * PAGE,
				    self->buf + 4 * PAGE, PMD_PAGES - 4,
				    GUESTMAP_PAGE_SIZE_4K, -1));
	/* Readable again: the data never changed. */
	ASSERT_EQ(0, mprotect(self->buf + 3 * PAGE, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, memcmp(copy, self->buf + 3 * PAGE, PAGE));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
	free(copy);
}

/*
 * MADV_DONTNEED of one page inside a 2 MiB entry.  zap_page_range_single()
 * sends a CLEAR of that page alone while the PMD still maps it all, then
 * zap_pmd_range() splits the PMD (a CLEAR of the whole 2 MiB) and zaps
 * the page.  The first CLEAR is a partial invalidation of a present huge
 * entry: the whole entry goes (huge_partial).  The page then reads as
 * zeroes on every path, including a pfn cache that had a view of it.
 */
TEST_F(huge, partial_dontneed_keeps_the_rest_coherent)
{
	const size_t pages[] = { 0, 7, 8, 9, 10, 511, 600 };
	struct guestmap_stats s0, s;
	char zero[64] = { 0 }, buf[64];
	uint32_t via;

	self->len = 2 * SZ_2M;
	self->buf = thp_slot(_metadata, self->fd, self->len, 13);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge pages");
	ASSERT_EQ(0, keep_khugepaged_out(self->buf, self->len));
	cache_views(_metadata, self->fd, self->buf, 7, 9, 600);
	s0 = stats(self->fd);
	ASSERT_EQ(0, madvise(self->buf + 9 * PAGE, PAGE, MADV_DONTNEED));
	EXPECT_EQ(SZ_2M >> 10, pmd_mapped_kb(self->buf, self->len));
	s = stats(self->fd);
	EXPECT_EQ(s0.huge_partial + 1, s.huge_partial);
	EXPECT_EQ(s0.entries_zapped + PMD_PAGES, s.entries_zapped);
	EXPECT_EQ(1, s.entries_2m);
	EXPECT_EQ(0, entries_present(self->fd, SLOT_GPA, PMD_PAGES));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + SZ_2M, self->buf + SZ_2M,
				    PMD_PAGES, GUESTMAP_PAGE_SIZE_2M, 1));
	/* No stale view: what the cache saw is gone. */
	memset(buf, 0x5a, sizeof(buf));
	EXPECT_EQ(0, cache_rw(self->fd, CACHE_HIT, 0, SLOT_GPA + 9 * PAGE, buf, 64, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(0, memcmp(buf, zero, 64));
	EXPECT_EQ(0, guest_rw(self->fd, SLOT_GPA + 9 * PAGE, buf, 64, 0));
	EXPECT_EQ(0, memcmp(buf, zero, 64));
	EXPECT_EQ(0, acc(self->fd, GUESTMAP_ACCESS_MAP_READ, SLOT_GPA + 9 * PAGE, buf, 64,
			 0, NULL));
	EXPECT_EQ(0, memcmp(buf, zero, 64));
	EXPECT_EQ(0, memcmp(self->buf + 9 * PAGE, zero, 64));
	cache_views_after(_metadata, self->fd, self->buf, 7, 600);
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 7);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 1));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_4K, 1));
	EXPECT_EQ(0, stats(self->fd).huge_splits);
}

/*
 * A CPU read of untouched memory in a THP-eligible range maps the huge
 * zero page (do_huge_pmd_anonymous_page() with use_zero_page), shared by
 * every such range: pagemap shows the same pfns for both halves of the
 * buffer.  Mirrored, it reads zeroes; a write through any path breaks CoW
 * as the CPU's does (do_huge_pmd_wp_page() splits the huge zero PMD,
 * under a CLEAR, and faults a page of its own) and lands in the slot's
 * memory only: never in the huge zero page, which the other half still
 * maps and reads as zeroes.
 */
TEST_F(huge, writes_never_reach_the_huge_zero_page)
{
	const size_t pages[] = { 0, 5, 300, 511 };
	char *zero = calloc(1, SZ_2M), *other;
	uint64_t zpfn;

	ASSERT_NE(NULL, zero);
	self->len = 2 * SZ_2M;
	self->buf = map_aligned(self->len, SZ_2M);
	ASSERT_NE(NULL, self->buf);
	other = self->buf + SZ_2M;
	ASSERT_EQ(0, madvise(self->buf, self->len, MADV_HUGEPAGE));
	/* Read faults, as CPU reads make them. */
	ASSERT_EQ(0, madvise(self->buf, self->len, MADV_POPULATE_READ));
	zpfn = pagemap_pfn(self->buf);
	if (!zpfn || zpfn % PMD_PAGES || pagemap_pfn(other) != zpfn ||
	    pagemap_pfn(self->buf + 5 * PAGE) != zpfn + 5)
		SKIP(return, "CPU reads did not map the huge zero page");
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, SZ_2M, self->buf));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 0));
	EXPECT_EQ(1, stats(self->fd).entries_2m);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_2M, 0));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, zero, SZ_2M));
	/* The writes split the huge zero PMD; no collapse may undo that. */
	ASSERT_EQ(0, keep_khugepaged_out(self->buf, self->len));
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 4);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	/* The written pages are the slot's own now; the zero page is intact. */
	EXPECT_NE(zpfn, pagemap_pfn(self->buf));
	EXPECT_EQ(zpfn, pagemap_pfn(other));
	EXPECT_EQ(0, memcmp(other, zero, SZ_2M));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 0));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_4K, -1));
	EXPECT_EQ(0, stats(self->fd).entries_2m);
	free(zero);
}

/*
 * Deleting the slot takes its huge entries and every pfn cache view of
 * their pages; a slot made again over the same memory maps it afresh.
 */
TEST_F(huge, deleting_the_slot_takes_its_huge_entries)
{
	struct guestmap_stats s;
	uint32_t via;
	char buf[16];

	self->len = 2 * SZ_2M;
	self->buf = thp_slot(_metadata, self->fd, self->len, 80);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge pages");
	cache_views(_metadata, self->fd, self->buf, 7, 9, 600);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, 0, NULL));
	s = stats(self->fd);
	EXPECT_EQ(0, s.entries_2m);
	EXPECT_EQ(0, s.entries_present);
	EXPECT_EQ(2 * PMD_PAGES, s.entries_zapped);
	EXPECT_EQ(ENOENT, cache_rw(self->fd, CACHE_NEAR, 0, SLOT_GPA + 7 * PAGE, buf, 16, NULL));
	EXPECT_EQ(ENOENT, guest_rw(self->fd, SLOT_GPA, buf, 16, 0));
	fill(self->buf, self->len, 81);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, self->len, self->buf));
	EXPECT_EQ(0, cache_rw(self->fd, CACHE_FAR, 0, SLOT_GPA + 600 * PAGE, buf, 16, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(0, memcmp(buf, self->buf + 600 * PAGE, 16));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, self->len, 0));
	EXPECT_EQ(2, stats(self->fd).entries_2m);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf,
				    self->len / PAGE, GUESTMAP_PAGE_SIZE_2M, 0));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, self->len));
}

/* How a test splits the PMD of a THP. */
enum split { SPLIT_MPROTECT, SPLIT_DONTNEED };

FIXTURE(collapse) {
	int fd;
	char *buf;
};

FIXTURE_VARIANT(collapse) {
	enum split how;
};

FIXTURE_VARIANT_ADD(collapse, mprotect) { .how = SPLIT_MPROTECT };
FIXTURE_VARIANT_ADD(collapse, dontneed) { .how = SPLIT_DONTNEED };

FIXTURE_SETUP(collapse)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	self->buf = NULL;
}

FIXTURE_TEARDOWN(collapse)
{
	close(self->fd);
	if (self->buf)
		munmap(self->buf, SZ_2M);
}

/*
 * A THP under a 2 MiB entry is split (mprotect of one page there and
 * back, or MADV_DONTNEED of one page, refilled by user space): the
 * mirror follows with 4 KiB entries.  MADV_COLLAPSE then copies the
 * pages into a new huge page (collapse_huge_page(), under a CLEAR of the
 * 2 MiB): the next fault installs one 2 MiB entry of the new pfns, and a
 * pfn cache made before the collapse writes into the new page, never the
 * old one.
 */
TEST_F_TIMEOUT(collapse, split_then_collapse, 120)
{
	const size_t pages[] = { 0, 7, 100, 101, 511 };
	uint64_t old_pfn, v = next_tag();
	struct guestmap_stats s0, s;
	uint32_t via;
	char buf[16];

	self->buf = thp_buffer(SZ_2M, 20);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge page");
	/* The collapse is the test's own, MADV_COLLAPSE's, at its place. */
	ASSERT_EQ(0, keep_khugepaged_out(self->buf, SZ_2M));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, SZ_2M, self->buf));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 1));
	EXPECT_EQ(1, stats(self->fd).entries_2m);
	old_pfn = pagemap_pfn(self->buf);

	if (variant->how == SPLIT_MPROTECT) {
		ASSERT_EQ(0, mprotect(self->buf + 100 * PAGE, PAGE, PROT_READ));
		ASSERT_EQ(0, mprotect(self->buf + 100 * PAGE, PAGE, PROT_READ | PROT_WRITE));
	} else {
		ASSERT_EQ(0, madvise(self->buf + 100 * PAGE, PAGE, MADV_DONTNEED));
		fill(self->buf + 100 * PAGE, PAGE, 21);
	}
	ASSERT_EQ(0, pmd_mapped_kb(self->buf, SZ_2M));
	EXPECT_EQ(0, entries_present(self->fd, SLOT_GPA, PMD_PAGES));
	EXPECT_EQ(0, stats(self->fd).entries_2m);
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 1));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_4K, 1));
	EXPECT_EQ(0, stats(self->fd).entries_2m);
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 5);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	/* A view of the split page, then the collapse. */
	ASSERT_EQ(0, cache_rw(self->fd, CACHE_NEAR, 0, SLOT_GPA + 7 * PAGE, buf, 16, NULL));
	EXPECT_EQ(0, memcmp(buf, self->buf + 7 * PAGE, 16));

	ASSERT_EQ(0, madvise(self->buf, SZ_2M, MADV_HUGEPAGE));
	if (madvise(self->buf, SZ_2M, MADV_COLLAPSE)) {
		if (errno == EINVAL || errno == EAGAIN)
			SKIP(return, "MADV_COLLAPSE: %s", strerror(errno));
		ASSERT_EQ(0, errno);
	}
	ASSERT_EQ(SZ_2M >> 10, pmd_mapped_kb(self->buf, SZ_2M));
	ASSERT_EQ(0, pagemap_pfn(self->buf) % PMD_PAGES);
	ASSERT_NE(old_pfn, pagemap_pfn(self->buf));
	EXPECT_EQ(0, entries_present(self->fd, SLOT_GPA, PMD_PAGES));
	ASSERT_EQ(0, cache_rw(self->fd, CACHE_NEAR, 1, SLOT_GPA + 7 * PAGE + 8, &v, 8, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(v, word_at(self->buf + 7 * PAGE + 8));
	/* The 2 MiB entry takes the place of the (empty) leaf table. */
	s0 = stats(self->fd);
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 1));
	s = stats(self->fd);
	EXPECT_EQ(1, s.entries_2m);
	EXPECT_EQ(PMD_PAGES, s.entries_present);
	EXPECT_EQ(s0.tables_freed + 1, s.tables_freed);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_2M, 1));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 5);
}

/*
 * mprotect(PROT_READ) of a whole THP keeps its PMD (change_huge_pmd()):
 * the 2 MiB entry is write-protected in place, still read without a
 * fault.  Back to read-write, one write fault restores the whole 2 MiB
 * entry writable: a write anywhere else in it faults no more.
 */
TEST_F(huge, mprotect_ro_then_rw_restores_a_writable_2m_entry)
{
	const size_t pages[] = { 0, 20, 300, 511 };
	struct guestmap_stats s0, s;
	uint64_t pfn = 0, v = next_tag();

	self->len = SZ_2M;
	self->buf = thp_slot(_metadata, self->fd, self->len, 30);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge page");
	pfn = pagemap_pfn(self->buf);
	s0 = stats(self->fd);
	ASSERT_EQ(0, mprotect(self->buf, SZ_2M, PROT_READ));
	ASSERT_EQ(SZ_2M >> 10, pmd_mapped_kb(self->buf, SZ_2M));
	s = stats(self->fd);
	EXPECT_EQ(1, s.entries_2m);
	EXPECT_EQ(s0.entries_wrprotected + PMD_PAGES, s.entries_wrprotected);
	EXPECT_EQ(s0.entries_zapped, s.entries_zapped);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_2M, 0));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	EXPECT_EQ(s.pages_faulted, stats(self->fd).pages_faulted);
	check_readonly(_metadata, self->fd, SLOT_GPA + 10 * PAGE, self->buf + 10 * PAGE);

	ASSERT_EQ(0, mprotect(self->buf, SZ_2M, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA + 20 * PAGE, PAGE, 1));
	s = stats(self->fd);
	EXPECT_EQ(1, s.entries_2m);
	EXPECT_EQ(0, s.huge_splits);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_2M, 1));
	EXPECT_EQ(pfn, pagemap_pfn(self->buf));
	/* Elsewhere in the 2 MiB: no fault. */
	ASSERT_EQ(0, guest_rw(self->fd, SLOT_GPA + 300 * PAGE + 16, &v, 8, 1));
	EXPECT_EQ(v, word_at(self->buf + 300 * PAGE + 16));
	EXPECT_EQ(s.faults, stats(self->fd).faults);
	EXPECT_EQ(s.pages_faulted, stats(self->fd).pages_faulted);
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 4);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
}

/*
 * A soft-dirty clear write-protects a THP's PMD in place
 * (clear_soft_dirty_pmd()), and the 2 MiB entry with it.  It is never
 * partial: clear_refs_write() sends one SOFT_DIRTY invalidation for the
 * whole address space.  A write fault
 * makes the PMD writable and dirty again (do_huge_pmd_wp_page() reuses
 * the exclusive folio; pmd_mkdirty() sets soft-dirty): pagemap shows the
 * pages soft-dirty, the entry is a writable 2 MiB one again, and a guest
 * write elsewhere in it needs no fault.
 */
TEST_F(huge, soft_dirty_clear_then_write_restores_a_writable_2m_entry)
{
	uint64_t *pm = calloc(PMD_PAGES, 8), v = next_tag(), w = next_tag();
	struct guestmap_stats s0, s;
	size_t i, dirty = 0;

	ASSERT_NE(NULL, pm);
	self->len = SZ_2M;
	self->buf = thp_slot(_metadata, self->fd, self->len, 31);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge page");
	s0 = stats(self->fd);
	ASSERT_EQ(0, clear_soft_dirty());
	ASSERT_EQ(SZ_2M >> 10, pmd_mapped_kb(self->buf, SZ_2M));
	ASSERT_EQ(0, pagemap_range(self->buf, PMD_PAGES, pm));
	for (i = 0; i < PMD_PAGES; i++)
		dirty += !!(pm[i] & PM_SOFT_DIRTY);
	ASSERT_EQ(0, dirty);
	s = stats(self->fd);
	EXPECT_LE(s0.invalidations[GUESTMAP_EVENT_SOFT_DIRTY] + 1,
		  s.invalidations[GUESTMAP_EVENT_SOFT_DIRTY]);
	EXPECT_EQ(1, s.entries_2m);
	EXPECT_EQ(s0.entries_wrprotected + PMD_PAGES, s.entries_wrprotected);
	EXPECT_EQ(s0.entries_zapped, s.entries_zapped);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_2M, 0));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));

	ASSERT_EQ(0, fault(self->fd, SLOT_GPA + 3 * PAGE, PAGE, 1));
	s = stats(self->fd);
	EXPECT_EQ(1, s.entries_2m);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_2M, 1));
	ASSERT_EQ(0, guest_rw(self->fd, SLOT_GPA + 3 * PAGE, &v, 8, 1));
	EXPECT_EQ(v, word_at(self->buf + 3 * PAGE));
	ASSERT_EQ(0, guest_rw(self->fd, SLOT_GPA + 400 * PAGE, &w, 8, 1));
	EXPECT_EQ(w, word_at(self->buf + 400 * PAGE));
	EXPECT_EQ(s.faults, stats(self->fd).faults);
	/* Soft-dirty again, for the whole PMD: the CPU's write fault set it. */
	EXPECT_TRUE(pagemap_entry(self->buf + 3 * PAGE) & PM_SOFT_DIRTY);
	EXPECT_TRUE(pagemap_entry(self->buf + 400 * PAGE) & PM_SOFT_DIRTY);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	free(pm);
}

/*
 * fork() write-protects the parent's THP PMD in place (copy_huge_pmd(),
 * under PROTECTION_PAGE), and the parent's 2 MiB entry with it.  The
 * child's writes go to its own copies; a guest write in the parent,
 * while the child still shares the folio, breaks CoW in the parent
 * (do_huge_pmd_wp_page() cannot reuse a shared folio: it splits the PMD,
 * under a CLEAR, and copies the page) and lands in the parent's memory
 * only.
 */
TEST_F(huge, fork_write_protects_huge_entries)
{
	int to_child[2], to_parent[2], status;
	uint64_t v = next_tag(), orig;
	struct guestmap_stats s0, s;
	char c = 0;
	pid_t pid;

	self->len = SZ_2M;
	self->buf = thp_slot(_metadata, self->fd, self->len, 40);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge page");
	orig = word_at(self->buf + 100 * PAGE + 8);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	s0 = stats(self->fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child's copy diverges; then it checks the parent's write missed it. */
		memset(self->buf + SZ_2M / 2, 'c', PAGE);
		if (write(to_parent[1], &c, 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(2);
		_exit(word_at(self->buf + 100 * PAGE + 8) == orig ? 0 : 1);
	}
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	s = stats(self->fd);
	EXPECT_LE(s0.invalidations[GUESTMAP_EVENT_PROTECTION_PAGE] + 1,
		  s.invalidations[GUESTMAP_EVENT_PROTECTION_PAGE]);
	EXPECT_EQ(s0.entries_wrprotected + PMD_PAGES, s.entries_wrprotected);
	EXPECT_EQ(1, s.entries_2m);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_2M, 0));
	EXPECT_NE('c', self->buf[SZ_2M / 2]);
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	/* The parent's guest write, with the child alive. */
	ASSERT_EQ(0, guest_rw(self->fd, SLOT_GPA + 100 * PAGE + 8, &v, 8, 1));
	EXPECT_EQ(v, word_at(self->buf + 100 * PAGE + 8));
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA + 100 * PAGE,
				    self->buf + 100 * PAGE, 1, GUESTMAP_PAGE_SIZE_4K, 1));
	/* The parent's CPU write breaks CoW too: the mirror follows the copy. */
	self->buf[200 * PAGE] = 'p';
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	ASSERT_EQ(1, write(to_child[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("the parent's guest write reached the child");
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

/*
 * PROT_NONE over a whole THP keeps the PMD (change_huge_pmd()) but the
 * vma loses VM_READ: the 2 MiB entry goes, every read path fails, a pfn
 * cache's view included; read-write again, it faults back as a 2 MiB
 * entry of the same pages.
 */
TEST_F(huge, prot_none_takes_a_2m_entry_back)
{
	struct guestmap_stats s;
	uint64_t pfn;
	char buf[16];

	self->len = SZ_2M;
	self->buf = thp_slot(_metadata, self->fd, self->len, 50);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge page");
	pfn = pagemap_pfn(self->buf);
	ASSERT_EQ(0, cache_rw(self->fd, CACHE_NEAR, 0, SLOT_GPA + 5 * PAGE, buf, 16, NULL));
	ASSERT_EQ(0, mprotect(self->buf, SZ_2M, PROT_NONE));
	s = stats(self->fd);
	EXPECT_EQ(0, s.entries_2m);
	EXPECT_EQ(0, s.entries_present);
	EXPECT_EQ(PMD_PAGES, s.entries_zapped);
	EXPECT_EQ(0, s.huge_partial);
	EXPECT_EQ(EFAULT, cache_rw(self->fd, CACHE_NEAR, 0, SLOT_GPA + 5 * PAGE, buf, 16, NULL));
	check_unreadable(_metadata, self->fd, SLOT_GPA + 5 * PAGE);
	check_unreadable(_metadata, self->fd, SLOT_GPA + 511 * PAGE);
	EXPECT_EQ(EFAULT, fault(self->fd, SLOT_GPA, SZ_2M, 0));
	EXPECT_EQ(0, stats(self->fd).entries_present);

	ASSERT_EQ(0, mprotect(self->buf, SZ_2M, PROT_READ | PROT_WRITE));
	ASSERT_EQ(SZ_2M >> 10, pmd_mapped_kb(self->buf, SZ_2M));
	ASSERT_EQ(pfn, pagemap_pfn(self->buf));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 1));
	EXPECT_EQ(1, stats(self->fd).entries_2m);
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    GUESTMAP_PAGE_SIZE_2M, 1));
	EXPECT_EQ(0, cache_rw(self->fd, CACHE_NEAR, 0, SLOT_GPA + 5 * PAGE, buf, 16, NULL));
	EXPECT_EQ(0, memcmp(buf, self->buf + 5 * PAGE, 16));
}

/*
 * The whole 2 MiB moved away (mremap() moves the PMD, under an UNMAP of
 * the old range) and a new THP mapped in its place: every path, a pfn
 * cache made before included, reads and writes the new memory, never the
 * old page, which lives on at the other address with the old data; the
 * next fault maps the new huge page.
 */
TEST_F(huge, nothing_reaches_a_moved_2m_page)
{
	const size_t pages[] = { 0, 7, 511 };
	uint64_t old_pfn, v = next_tag();
	char *away = map_aligned(SZ_2M, SZ_2M), buf[16];
	unsigned int size;
	uint32_t via;

	ASSERT_NE(NULL, away);
	self->len = SZ_2M;
	self->buf = thp_slot(_metadata, self->fd, self->len, 60);
	if (!self->buf) {
		munmap(away, SZ_2M);
		SKIP(return, "THP gave no PMD-mapped huge page");
	}
	old_pfn = pagemap_pfn(self->buf);
	ASSERT_EQ(0, cache_rw(self->fd, CACHE_NEAR, 0, SLOT_GPA + 7 * PAGE, buf, 16, &via));
	ASSERT_EQ(0, cache_rw(self->fd, CACHE_NEAR, 0, SLOT_GPA + 7 * PAGE, buf, 16, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE, via);
	ASSERT_EQ(away, mremap(self->buf, SZ_2M, SZ_2M, MREMAP_MAYMOVE | MREMAP_FIXED, away));
	ASSERT_EQ(old_pfn, pagemap_pfn(away));
	EXPECT_EQ(0, stats(self->fd).entries_2m);
	EXPECT_EQ(0, stats(self->fd).entries_present);
	EXPECT_EQ(0, stats(self->fd).huge_partial);
	EXPECT_EQ(EFAULT, cache_rw(self->fd, CACHE_NEAR, 0, SLOT_GPA + 7 * PAGE, buf, 16, &via));
	ASSERT_EQ(self->buf, mmap(self->buf, SZ_2M, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	ASSERT_EQ(0, madvise(self->buf, SZ_2M, MADV_HUGEPAGE));
	fill(self->buf, SZ_2M, 61);
	/* THP or not (the size is read below), it must stay what it is. */
	ASSERT_EQ(0, keep_khugepaged_out(self->buf, SZ_2M));
	ASSERT_NE(old_pfn, pagemap_pfn(self->buf));
	ASSERT_NE(0, memcmp(self->buf + 7 * PAGE, away + 7 * PAGE, 16));
	ASSERT_EQ(0, cache_rw(self->fd, CACHE_NEAR, 0, SLOT_GPA + 7 * PAGE, buf, 16, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(0, memcmp(buf, self->buf + 7 * PAGE, 16));
	ASSERT_EQ(0, cache_rw(self->fd, CACHE_NEAR, 1, SLOT_GPA + 7 * PAGE + 32, &v, 8, &via));
	EXPECT_EQ(v, word_at(self->buf + 7 * PAGE + 32));
	EXPECT_NE(v, word_at(away + 7 * PAGE + 32));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, SZ_2M));
	check_pages(_metadata, self->fd, SLOT_GPA, self->buf, pages, 3);
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, SZ_2M, 1));
	size = pmd_mapped_kb(self->buf, SZ_2M) == SZ_2M >> 10 ?
	       GUESTMAP_PAGE_SIZE_2M : GUESTMAP_PAGE_SIZE_4K;
	EXPECT_EQ(0, entries_differ(_metadata, self->fd, SLOT_GPA, self->buf, PMD_PAGES,
				    size, 1));
	munmap(away, SZ_2M);
}

/* The guest write paths of the MADV_FREE test. */
enum path { PATH_WRITE_GUEST, PATH_CACHE_WRITE, PATH_MAP_WRITE };

FIXTURE(lazyfree) {
	int fd;
	char *buf;
};

FIXTURE_VARIANT(lazyfree) {
	enum path path;
};

FIXTURE_VARIANT_ADD(lazyfree, write_guest) { .path = PATH_WRITE_GUEST };
FIXTURE_VARIANT_ADD(lazyfree, cache_write) { .path = PATH_CACHE_WRITE };
FIXTURE_VARIANT_ADD(lazyfree, map_write) { .path = PATH_MAP_WRITE };

FIXTURE_SETUP(lazyfree)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	self->buf = NULL;
}

FIXTURE_TEARDOWN(lazyfree)
{
	close(self->fd);
	if (self->buf)
		munmap(self->buf, 2 * SZ_2M);
}

/*
 * MADV_FREE makes both THPs lazyfree: clean folios under clean, still
 * writable PMDs (madvise_free_huge_pmd()).  A guest write to the second
 * one, through a 2 MiB entry, sets no PMD dirty bit; unless the folio is
 * marked dirty, reclaim discards it (try_to_unmap_one() on a clean
 * lazyfree folio) and the write is lost, as integrity_test.c checks for 4
 * KiB pages.  The first THP, untouched, must be discarded: that proves
 * reclaim ran (else skip).
 */
TEST_F_TIMEOUT(lazyfree, thp_writes_survive_madv_free_and_reclaim, 120)
{
	size_t len = 2 * SZ_2M, i, lost = 0;
	uint64_t g = SLOT_GPA + SZ_2M + 7 * PAGE + 64, v = next_tag();
	char *copy = malloc(SZ_2M);
	int ret;

	ASSERT_NE(NULL, copy);
	self->buf = thp_buffer(len, 70);
	if (!self->buf)
		SKIP(return, "THP gave no PMD-mapped huge pages");
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, SLOT_GPA, len, self->buf));
	ASSERT_EQ(0, fault(self->fd, SLOT_GPA, len, 1));
	ASSERT_EQ(0, madvise(self->buf, len, MADV_FREE));
	switch (variant->path) {
	case PATH_WRITE_GUEST:
		ret = guest_rw(self->fd, g, &v, 8, 1);
		break;
	case PATH_CACHE_WRITE:
		ret = cache_rw(self->fd, CACHE_NEAR, 1, g, &v, 8, NULL);
		break;
	default:
		ret = acc(self->fd, GUESTMAP_ACCESS_MAP_WRITE, g, &v, 8, 0, NULL);
		break;
	}
	ASSERT_EQ(0, ret);
	memcpy(copy, self->buf + SZ_2M, SZ_2M);
	EXPECT_EQ(v, word_at(copy + 7 * PAGE + 64));
	ASSERT_EQ(0, madvise(self->buf, len, MADV_PAGEOUT));
	if (word_at(self->buf + 64) != 0)
		SKIP(goto out, "MADV_PAGEOUT discarded no lazyfree THP");
	for (i = 0; i < SZ_2M; i += PAGE)
		lost += !!memcmp(self->buf + SZ_2M + i, copy + i, PAGE);
	EXPECT_EQ(0, lost) TH_LOG("%zu pages of the written THP lost to reclaim", lost);
	EXPECT_EQ(v, word_at(self->buf + SZ_2M + 7 * PAGE + 64));
	EXPECT_TRUE(guest_equals(self->fd, SLOT_GPA, self->buf, len));
out:
	free(copy);
}

TEST_HARNESS_MAIN
