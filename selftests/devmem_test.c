// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap selftests on RAM reached through /dev/mem: memory whose struct
 * page guestmap must not trust, or whose direct-map entry it must not
 * assume.
 *
 * Needs a VM booted with "nopat" (x86 PAT refuses to map RAM through
 * /dev/mem, and the test kernel has STRICT_DEVMEM off) and with movable
 * memory that can be offlined ("movablecore="): selftests/run_vm_tests.sh
 * runs this binary in its own boot (GM_DEVMEM_APPEND in scripts/lib.sh).
 * Without them the tests skip.
 *
 * - A memory block offlined with /sys/devices/system/memory keeps
 *   pfn_valid() true but has its struct pages poisoned: CLASSIFY used to
 *   read compound_head() of one and oops, with the page-table lock and
 *   the mmap lock held.
 * - A THP's tail page has refcount 0: mapping it through /dev/mem used to
 *   try for a reference and fail with EAGAIN forever.
 * - A secret-memory page is not in the direct map: memremap() of RAM
 *   returns its direct-map address, which used to fault.
 * - A pfn cache's vmap() alias of such RAM used to outlive the page's
 *   invalidation, until some later ioctl.
 * - pmem pfns whose struct pages nobody initialised (a disabled
 *   namespace's, the memmap's own on the device) used to be read.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/guestmap.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"

#define GPA	0x100000UL
#define MEMDIR	"/sys/devices/system/memory"

#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif

static int set_slot(int fd, uint64_t gpa, uint64_t size, const void *hva)
{
	struct guestmap_memslot m = {
		.guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(fd, GUESTMAP_SET_MEMSLOT, &m) ? errno : 0;
}

static int classify(int fd, const void *addr, struct guestmap_classify *c)
{
	memset(c, 0, sizeof(*c));
	c->addr = (uintptr_t)addr;
	return ioctl(fd, GUESTMAP_CLASSIFY, c) ? errno : 0;
}

static int guest_rw(int fd, uint64_t gpa, void *buf, uint64_t len, int write)
{
	struct guestmap_rw rw = { .gpa = gpa, .len = len, .buf = (uintptr_t)buf };

	return ioctl(fd, write ? GUESTMAP_WRITE_GUEST : GUESTMAP_READ_GUEST, &rw) ?
	       errno : 0;
}

static int acc(int fd, uint32_t op, uint64_t gpa, void *buf, uint64_t len,
	       uint64_t old, uint64_t new, uint64_t *found)
{
	struct guestmap_access a = {
		.gpa = gpa, .len = len, .buf = (uintptr_t)buf, .op = op,
		.old = old, .new = new, .cache = 1,
	};

	if (ioctl(fd, GUESTMAP_ACCESS, &a))
		return errno;
	if (found)
		*found = a.old;
	return 0;
}

/* kvm_is_refcounted_pfn()/kvm_pfn_may_mark_dirty() via gm_kvm_probe.ko. */
static int probe_classify(unsigned long pfn, int *refcounted, int *may_dirty)
{
	char s[32];
	int fd = open("/sys/kernel/debug/gm_kvm_probe/classify", O_RDWR), n, ret = -1;

	if (fd < 0)
		return -1;
	n = snprintf(s, sizeof(s), "%lu", pfn);
	if (write(fd, s, n) == n && pread(fd, s, sizeof(s) - 1, 0) > 0 &&
	    sscanf(s, "%d %d", refcounted, may_dirty) == 2)
		ret = 0;
	close(fd);
	return ret;
}

/*
 * Whether /dev/mem's read() gives the bytes at @phys: it reads RAM through
 * the direct map with copy_from_kernel_nofault() and fails with EFAULT
 * where the direct map lacks the page (secret memory; free or offlined
 * pages under DEBUG_PAGEALLOC).  guestmap must agree with it.
 */
static bool devmem_readable(unsigned long phys)
{
	int fd = open("/dev/mem", O_RDONLY);
	char b[8];
	bool ok;

	if (fd < 0)
		return false;
	ok = pread(fd, b, sizeof(b), phys) == sizeof(b);
	close(fd);
	return ok;
}

/* Every path refuses @gpa (a page of the slot) with EFAULT. */
static void all_refused(struct __test_metadata *_metadata, int fd, uint64_t gpa)
{
	char buf[8] = "";

	EXPECT_EQ(EFAULT, guest_rw(fd, gpa, buf, 8, 0));
	EXPECT_EQ(EFAULT, guest_rw(fd, gpa, "written", 8, 1));
	EXPECT_EQ(EFAULT, acc(fd, GUESTMAP_ACCESS_MAP_READ, gpa, buf, 8, 0, 0, NULL));
	EXPECT_EQ(EFAULT, acc(fd, GUESTMAP_ACCESS_MAP_WRITE, gpa, "written", 8, 0, 0, NULL));
	EXPECT_EQ(EFAULT, acc(fd, GUESTMAP_ACCESS_CACHE_READ, gpa, buf, 8, 0, 0, NULL));
	EXPECT_EQ(EFAULT, acc(fd, GUESTMAP_ACCESS_CMPXCHG, gpa, NULL, 8, 0, 1, NULL));
	EXPECT_EQ(0, buf[0]);
}

/* Every path, both ways, on @p (a /dev/mem mapping of 4 pages at GPA). */
static void round_trips(struct __test_metadata *_metadata, int fd, char *p)
{
	uint64_t found = 0;
	char buf[8];

	memcpy(p + PAGE, "devmem!", 8);
	ASSERT_EQ(0, guest_rw(fd, GPA + PAGE, buf, 8, 0));
	EXPECT_EQ(0, memcmp(buf, "devmem!", 8));
	ASSERT_EQ(0, guest_rw(fd, GPA + 2 * PAGE, "written", 8, 1));
	EXPECT_EQ(0, memcmp(p + 2 * PAGE, "written", 8));
	ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_MAP_READ, GPA + PAGE, buf, 8, 0, 0, NULL));
	EXPECT_EQ(0, memcmp(buf, "devmem!", 8));
	ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_MAP_WRITE, GPA + 3 * PAGE, "mapped!", 8,
			 0, 0, NULL));
	EXPECT_EQ(0, memcmp(p + 3 * PAGE, "mapped!", 8));
	ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_CACHE_READ, GPA + PAGE, buf, 8, 0, 0, NULL));
	EXPECT_EQ(0, memcmp(buf, "devmem!", 8));
	*(uint64_t *)p = 7;
	ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_CMPXCHG, GPA, NULL, 8, 7, 8, &found));
	EXPECT_EQ(7, found);
	EXPECT_EQ(8, *(uint64_t *)p);
}

static long read_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	long v = -1;

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		v = strtol(buf, NULL, 16);
	close(fd);
	return v;
}

static int block_state(int n, const char *state)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), MEMDIR "/memory%d/state", n);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, state, strlen(state)) == (ssize_t)strlen(state);
	close(fd);
	return ok ? 0 : -1;
}

/* Offlines some memory block; its number, or -1. */
static int offline_a_block(void)
{
	struct dirent *d;
	DIR *dir = opendir(MEMDIR);
	int n = -1;

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		int i;

		char path[128], zones[64] = "";
		int zfd;

		if (sscanf(d->d_name, "memory%d", &i) != 1)
			continue;
		/* Only ZONE_MOVABLE blocks are sure to offline. */
		snprintf(path, sizeof(path), MEMDIR "/memory%d/valid_zones", i);
		zfd = open(path, O_RDONLY);
		if (zfd < 0)
			continue;
		if (read(zfd, zones, sizeof(zones) - 1) < 0)
			zones[0] = 0;
		close(zfd);
		if (strncmp(zones, "Movable", 7))
			continue;
		if (!block_state(i, "offline")) {
			n = i;
			break;
		}
	}
	closedir(dir);
	return n;
}

FIXTURE(devmem) {
	int fd;
};

FIXTURE_SETUP(devmem)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(devmem)
{
	close(self->fd);
}

TEST_F_TIMEOUT(devmem, offline_memory_has_no_usable_struct_page, 120)
{
	long block = read_long(MEMDIR "/block_size_bytes");
	int n, ref = -1, dirty = -1;
	struct guestmap_classify c;
	unsigned long phys;
	char *p;

	if (block <= 0)
		SKIP(return, "no memory hotplug");
	n = offline_a_block();
	if (n < 0)
		SKIP(return, "no memory block could be offlined (boot with movablecore=)");
	phys = (unsigned long)n * block;
	p = map_devmem(phys, 4 * PAGE, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED) {
		block_state(n, "online");
		SKIP(return, "/dev/mem refuses RAM (boot with nopat)");
	}
	TH_LOG("memory%d offline, at %#lx", n, phys);
	/* pfn_valid(), but the struct pages are poisoned: never read them. */
	ASSERT_EQ(0, classify(self->fd, p, &c));
	EXPECT_EQ(GUESTMAP_PFN_NO_PAGE, c.class);
	EXPECT_EQ(GUESTMAP_PFN_MAPPED_PFNMAP, c.flags);
	EXPECT_EQ(phys / PAGE, c.pfn);
	if (!probe_classify(phys / PAGE, &ref, &dirty)) {
		EXPECT_EQ(0, ref);
		EXPECT_EQ(0, dirty);
	}
	ASSERT_EQ(0, set_slot(self->fd, GPA, 4 * PAGE, p));
	/*
	 * Offlining does not unmap the direct map, but DEBUG_PAGEALLOC had
	 * already unmapped the free pages it took: then, like /dev/mem's
	 * read(), every path refuses them.
	 */
	if (devmem_readable(phys + PAGE)) {
		round_trips(_metadata, self->fd, p);
	} else {
		TH_LOG("not in the direct map (DEBUG_PAGEALLOC): refused");
		all_refused(_metadata, self->fd, GPA + PAGE);
	}
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, NULL));
	munmap(p, 4 * PAGE);
	EXPECT_EQ(0, block_state(n, "online"));
}

TEST_F(devmem, a_thp_tail_page_maps_without_a_reference)
{
	size_t len = 2UL << 20;
	char *m = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *thp = (char *)(((uintptr_t)m + len - 1) & ~(len - 1)), *p;
	struct guestmap_classify c;
	uint64_t pfn;

	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, madvise(thp, len, MADV_HUGEPAGE));
	memset(thp, 0x11, len);
	pfn = pagemap_pfn(thp);
	if (!pfn || pagemap_pfn(thp + 5 * PAGE) != pfn + 5)
		SKIP(goto out, "no THP");
	p = map_devmem((pfn + 4) * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		SKIP(goto out, "/dev/mem refuses RAM (boot with nopat)");
	ASSERT_EQ(0, classify(self->fd, p + PAGE, &c));
	EXPECT_EQ(GUESTMAP_PFN_NORMAL, c.class);
	EXPECT_EQ(GUESTMAP_PFN_REFCOUNTED | GUESTMAP_PFN_MAY_DIRTY |
		  GUESTMAP_PFN_MAPPED_PFNMAP | GUESTMAP_PFN_COMPOUND, c.flags);
	ASSERT_EQ(0, set_slot(self->fd, GPA, 4 * PAGE, p));
	round_trips(_metadata, self->fd, p);
	/* The THP saw the same writes: it is the same memory. */
	EXPECT_EQ(0, memcmp(thp + 6 * PAGE, "written", 8));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, NULL));
	munmap(p, 4 * PAGE);
out:
	munmap(m, 2 * len);
}

TEST_F(devmem, a_page_missing_from_the_direct_map_is_refused)
{
	int sfd = syscall(__NR_memfd_secret, 0);
	uint64_t pfn;
	char *s, *p;

	if (sfd < 0)
		SKIP(return, "no memfd_secret()");
	ASSERT_EQ(0, ftruncate(sfd, PAGE));
	s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
	ASSERT_NE(MAP_FAILED, s);
	memcpy(s, "secret!", 8);
	pfn = pagemap_pfn(s);
	ASSERT_NE(0, pfn);
	p = map_devmem(pfn * PAGE, PAGE, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		SKIP(goto out, "/dev/mem refuses RAM (boot with nopat)");
	/*
	 * RAM, pfn_valid(), but not in the direct map: memremap() would
	 * return its direct-map address.  Refused, as /dev/mem's read()
	 * refuses it.
	 */
	EXPECT_FALSE(devmem_readable(pfn * PAGE));
	ASSERT_EQ(0, set_slot(self->fd, GPA, PAGE, p));
	all_refused(_metadata, self->fd, GPA);
	EXPECT_EQ(0, memcmp(s, "secret!", 8));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, NULL));
	munmap(p, PAGE);
out:
	munmap(s, PAGE);
	close(sfd);
}

/* How many mappings gm_frame_map() made are live (/proc/vmallocinfo). */
static int frame_aliases(void)
{
	FILE *f = fopen("/proc/vmallocinfo", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, "gm_frame_map");
	fclose(f);
	return n;
}

/*
 * RAM with a struct page reached by a bare pfn is mapped through a vmap()
 * alias of its own.  A pfn cache keeps it while its view is valid; once
 * the page is unmapped, whoever owns it may free it and reuse it with
 * another memory type, or as secret memory, so the alias must go with the
 * invalidation, not at some later ioctl.  Here nothing but munmap() runs
 * between the cache's use and the count.
 */
TEST_F(devmem, a_pfn_cache_keeps_no_alias_past_an_invalidation)
{
	char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	char buf[8] = "";
	uint64_t pfn;
	char *p;

	ASSERT_NE(MAP_FAILED, m);
	memcpy(m, "cached!", 8);
	pfn = pagemap_pfn(m);
	ASSERT_NE(0, pfn);
	p = map_devmem(pfn * PAGE, PAGE, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		SKIP(goto out, "/dev/mem refuses RAM (boot with nopat)");
	if (frame_aliases() < 0)
		SKIP(goto out, "no /proc/vmallocinfo");
	ASSERT_EQ(0, frame_aliases());
	ASSERT_EQ(0, set_slot(self->fd, GPA, PAGE, p));
	ASSERT_EQ(0, acc(self->fd, GUESTMAP_ACCESS_CACHE_READ, GPA, buf, 8, 0, 0, NULL));
	EXPECT_EQ(0, memcmp(buf, "cached!", 8));
	/* The cache keeps its view, and the view its mapping. */
	EXPECT_EQ(1, frame_aliases());
	ASSERT_EQ(0, munmap(p, PAGE));
	EXPECT_EQ(0, frame_aliases());
	/* The slot's memory is gone: refused, and still no mapping made. */
	EXPECT_EQ(EFAULT, acc(self->fd, GUESTMAP_ACCESS_CACHE_READ, GPA, buf, 8, 0, 0, NULL));
	EXPECT_EQ(0, frame_aliases());
	EXPECT_EQ(0, set_slot(self->fd, 0, 0, NULL));
out:
	munmap(m, PAGE);
}

#define PMEM_PHYS	0x70000000UL	/* memmap=64M!0x70000000 (scripts/lib.sh) */
#define PMEM_SIZE	(64UL << 20)

/*
 * CLASSIFY of a pmem pfn through /dev/mem (the boot has
 * memmap=64M!0x70000000, GM_DEVMEM_APPEND): 0 with @c filled, an errno, or
 * -1 if /dev/mem refuses the mapping.
 */
static int classify_phys(int fd, unsigned long phys, struct guestmap_classify *c)
{
	char *p = map_devmem(phys, PAGE, PROT_READ);
	int ret;

	if (p == MAP_FAILED)
		return -1;
	ret = classify(fd, p, c);
	munmap(p, PAGE);
	return ret;
}

/*
 * pfn_valid() holds for every pfn of an early section, and the pmem range
 * shares its 128 MiB section with boot RAM: that is no promise of a struct
 * page worth reading.  A namespace keeps its memmap on the device (ndctl's
 * default, --map=dev), in the first pages of its range, which
 * memmap_init_zone_device() never initialises (mm/mm_init.c, "the pages
 * reserved for the memmap").  A disabled namespace's pfns had their
 * struct pages poisoned by memunmap_pages() (remove_pfn_range_from_zone()
 * under DEBUG_VM) and its subsections cleared, the section staying online;
 * CLASSIFY used to read compound_head() of 0xff..ff and oops.  Neither has
 * a struct page a user of the pfn may touch: PFN-only.
 */
TEST_F_TIMEOUT(devmem, pmem_pfns_without_a_device_page_are_pfn_only, 240)
{
	struct guestmap_classify c;
	int ret;

	if (access("/dev/pmem0", F_OK) || system("command -v ndctl >/dev/null"))
		SKIP(return, "needs /dev/pmem0 and ndctl");
	ASSERT_EQ(0, system("ndctl create-namespace -f -e namespace0.0 -m fsdax --map=dev >/dev/null"));
	ret = classify_phys(self->fd, PMEM_PHYS, &c);
	if (ret < 0)
		SKIP(return, "/dev/mem refuses pmem");
	ASSERT_EQ(0, ret);
	EXPECT_EQ(GUESTMAP_PFN_NO_PAGE, c.class);
	EXPECT_EQ(GUESTMAP_PFN_MAPPED_PFNMAP, c.flags);
	EXPECT_EQ(PMEM_PHYS / PAGE, c.pfn);
	/* Past the memmap, the namespace's own pages: fsdax, no struct page lost. */
	ASSERT_EQ(0, classify_phys(self->fd, PMEM_PHYS + PMEM_SIZE - PAGE, &c));
	EXPECT_EQ(GUESTMAP_PFN_FS_DAX, c.class);
	EXPECT_EQ(GUESTMAP_PFN_MAPPED_PFNMAP | GUESTMAP_PFN_REFCOUNTED, c.flags);

	ASSERT_EQ(0, system("ndctl disable-namespace namespace0.0 >/dev/null 2>&1"));
	ret = classify_phys(self->fd, PMEM_PHYS + PMEM_SIZE - 8 * PAGE, &c);
	if (!ret) {
		EXPECT_EQ(GUESTMAP_PFN_NO_PAGE, c.class);
		EXPECT_EQ(GUESTMAP_PFN_MAPPED_PFNMAP, c.flags);
	}
	ret = ret ? ret : classify_phys(self->fd, PMEM_PHYS, &c);
	if (!ret) {
		EXPECT_EQ(GUESTMAP_PFN_NO_PAGE, c.class);
		EXPECT_EQ(GUESTMAP_PFN_MAPPED_PFNMAP, c.flags);
	}
	EXPECT_EQ(0, system("ndctl enable-namespace namespace0.0 >/dev/null 2>&1"));
	ASSERT_EQ(0, ret);
}

struct classifier {
	int fd;
	char *p[3];
	unsigned int ok[2];	/* the classes allowed */
	int stop;
	unsigned long calls, bad;
};

static void *classify_loop(void *arg)
{
	struct classifier *k = arg;
	struct guestmap_classify c;
	int i;

	while (!__atomic_load_n(&k->stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < 3; i++) {
			if (classify(k->fd, k->p[i], &c))
				k->bad++;
			else if (c.class != k->ok[0] && c.class != k->ok[1])
				k->bad++;
			k->calls++;
		}
	}
	return NULL;
}

/*
 * Classifies the pages at @at (physical addresses, through /dev/mem) in a
 * loop while @flip(@arg, false) and @flip(@arg, true) run four times, and
 * checks that every answer is class @ok0 or @ok1; -1 (nothing checked) if
 * /dev/mem refuses them.
 */
static int classify_across(struct __test_metadata *_metadata, int fd,
			   const unsigned long at[3], unsigned int ok0,
			   unsigned int ok1, int (*flip)(void *arg, bool on),
			   void *arg)
{
	struct classifier k = { .fd = fd, .ok = { ok0, ok1 } };
	int i, n, fails = 0;
	pthread_t t;

	for (n = 0; n < 3; n++) {
		k.p[n] = map_devmem(at[n], PAGE, PROT_READ);
		if (k.p[n] == MAP_FAILED)
			break;
	}
	if (n == 3) {
		EXPECT_EQ(0, pthread_create(&t, NULL, classify_loop, &k));
		for (i = 0; i < 4; i++) {
			fails += !!flip(arg, false);
			fails += !!flip(arg, true);
		}
		__atomic_store_n(&k.stop, 1, __ATOMIC_RELAXED);
		pthread_join(t, NULL);
		TH_LOG("%lu classifications across 4 cycles", k.calls);
		EXPECT_EQ(0, fails);
		EXPECT_EQ(0, k.bad);
		EXPECT_LT(0, k.calls);
	}
	for (i = 0; i < n; i++)
		munmap(k.p[i], PAGE);
	return n == 3 ? 0 : -1;
}

static int flip_namespace(void *arg, bool on)
{
	return system(on ? "ndctl enable-namespace namespace0.0 >/dev/null 2>&1" :
			   "ndctl disable-namespace namespace0.0 >/dev/null 2>&1");
}

static int flip_block(void *arg, bool on)
{
	return block_state(*(int *)arg, on ? "online_movable" : "offline");
}

/*
 * The same pfns while the namespace comes and goes: memunmap_pages() kills
 * the pgmap's reference before it poisons the memmap, and memremap_pages()
 * publishes the pgmap before it initialises the memmap, so for a while
 * neither get_dev_pagemap() nor pfn_to_online_page() tells the truth.
 * CLASSIFY must answer pmem or PFN-only throughout, never read the pages.
 */
TEST_F_TIMEOUT(devmem, pmem_pfns_while_the_namespace_comes_and_goes, 300)
{
	unsigned long at[3] = { PMEM_PHYS, PMEM_PHYS + PMEM_SIZE / 2,
				PMEM_PHYS + PMEM_SIZE - PAGE };

	if (access("/dev/pmem0", F_OK) || system("command -v ndctl >/dev/null"))
		SKIP(return, "needs /dev/pmem0 and ndctl");
	ASSERT_EQ(0, system("ndctl create-namespace -f -e namespace0.0 -m fsdax --map=dev >/dev/null"));
	if (classify_across(_metadata, self->fd, at, GUESTMAP_PFN_NO_PAGE,
			    GUESTMAP_PFN_FS_DAX, flip_namespace, NULL))
		SKIP(return, "/dev/mem refuses pmem");
}

/*
 * The same with a memory block going offline and online: offlining
 * migrates the pages away without asking /dev/mem's ptes, which rmap does
 * not know, and poisons their struct pages, whatever pte lock a reader
 * holds.  CLASSIFY must answer an ordinary page or PFN-only throughout.
 */
TEST_F_TIMEOUT(devmem, ram_pfns_while_their_block_goes_offline_and_online, 300)
{
	long block = read_long(MEMDIR "/block_size_bytes");
	unsigned long phys, at[3];
	int n;

	if (block <= 0)
		SKIP(return, "no memory hotplug");
	n = offline_a_block();
	if (n < 0)
		SKIP(return, "no memory block could be offlined (boot with movablecore=)");
	ASSERT_EQ(0, block_state(n, "online_movable"));
	phys = (unsigned long)n * block;
	at[0] = phys;
	at[1] = phys + block / 2;
	at[2] = phys + block - PAGE;
	TH_LOG("memory%d", n);
	if (classify_across(_metadata, self->fd, at, GUESTMAP_PFN_NO_PAGE,
			    GUESTMAP_PFN_NORMAL, flip_block, &n))
		SKIP(return, "/dev/mem refuses RAM (boot with nopat)");
}

TEST_HARNESS_MAIN
