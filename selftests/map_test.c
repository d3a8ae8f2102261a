// SPDX-License-Identifier: GPL-2.0
/*
 * guestmap guest-memory selftests: GUESTMAP_CLASSIFY on every kind of
 * memory the test VM can produce.
 *
 * The expected class of each kind is written down here from the kernel's
 * rules (include/guestmap/pfn.h explains them): kvm_pfn_to_refcounted_page()
 * and kvm_is_ad_tracked_page() of 6.12, with the DAX split of the "Fix KVM
 * misinterpreting Reserved page as an MMIO" series.  Pfns are checked
 * against /proc/self/pagemap or the physical address mapped.
 *
 * The VM is booted with reserved RAM, RAM hidden from the kernel by mem=,
 * and a pmem device (GM_TEST_APPEND in scripts/lib.sh); GUESTMAP_RESERVED
 * and GUESTMAP_HIDDEN name the first two (selftests/run_vm_tests.sh).
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/guestmap.h>
#include <linux/guestmap_test.h>

#include "kselftest_harness.h"
#include "guestmap_util.h"

#define HPET_PHYS	0xfed00000UL	/* MMIO on the q35 machine vng boots */

#define REF	GUESTMAP_PFN_REFCOUNTED
#define DIRTY	GUESTMAP_PFN_MAY_DIRTY
#define PFNMAP	GUESTMAP_PFN_MAPPED_PFNMAP
#define COMPOUND GUESTMAP_PFN_COMPOUND


static int classify(int fd, const void *addr, struct guestmap_classify *c)
{
	memset(c, 0xa5, sizeof(*c));
	c->addr = (uintptr_t)addr;
	return ioctl(fd, GUESTMAP_CLASSIFY, c) ? errno : 0;
}



FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST_F(dev, anonymous_page_is_normal)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct guestmap_classify c;

	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	ASSERT_EQ(0, classify(self->fd, p, &c));
	EXPECT_EQ(GUESTMAP_PFN_NORMAL, c.class);
	EXPECT_EQ(REF | DIRTY, c.flags);
	EXPECT_EQ(pagemap_pfn(p), c.pfn);
	munmap(p, PAGE);
}

TEST_F(dev, read_faulted_anonymous_memory_is_the_zero_page)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct guestmap_classify c;

	ASSERT_NE(MAP_FAILED, p);
	/* A read fault of anonymous memory maps the zero page. */
	EXPECT_EQ(0, p[0]);
	ASSERT_EQ(0, classify(self->fd, p, &c));
	/* PG_reserved but refcounted; never to be dirtied. */
	EXPECT_EQ(GUESTMAP_PFN_ZERO, c.class);
	EXPECT_EQ(REF, c.flags);
	EXPECT_EQ(pagemap_pfn(p), c.pfn);
	munmap(p, PAGE);
}

/*
 * CLASSIFY reports what is mapped and faults nothing in (the UAPI header
 * says so): untouched anonymous and shmem memory is EFAULT, and stays
 * unmapped and unallocated afterwards.
 */
TEST_F(dev, classify_faults_nothing_in)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int mfd = memfd_create("classify", 0);
	struct guestmap_classify c;
	unsigned char vec = 1;
	char *q;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, PAGE));
	q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(EFAULT, classify(self->fd, p, &c));
	EXPECT_EQ(0, pagemap_entry(p) & PM_PRESENT);
	EXPECT_EQ(EFAULT, classify(self->fd, q, &c));
	EXPECT_EQ(0, pagemap_entry(q) & PM_PRESENT);
	ASSERT_EQ(0, mincore(q, PAGE, &vec));
	EXPECT_EQ(0, vec & 1);
	/* Once the process touches them, they are there. */
	p[0] = 1;
	EXPECT_EQ(0, classify(self->fd, p, &c));
	EXPECT_EQ(GUESTMAP_PFN_NORMAL, c.class);
	munmap(q, PAGE);
	munmap(p, PAGE);
	close(mfd);
}

TEST_F(dev, thp_tail_is_normal_and_compound)
{
	size_t len = 4UL << 20;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p = (char *)(((uintptr_t)m + (2UL << 20) - 1) & ~((2UL << 20) - 1));
	struct guestmap_classify c;

	ASSERT_NE(MAP_FAILED, m);
	madvise(p, 2UL << 20, MADV_HUGEPAGE);
	memset(p, 1, 2UL << 20);
	if (pagemap_pfn(p) % 512 || pagemap_pfn(p + 5 * PAGE) != pagemap_pfn(p) + 5)
		SKIP(munmap(m, len); return, "no huge page");
	ASSERT_EQ(0, classify(self->fd, p + 5 * PAGE, &c));
	EXPECT_EQ(GUESTMAP_PFN_NORMAL, c.class);
	EXPECT_EQ(REF | DIRTY | COMPOUND, c.flags);
	EXPECT_EQ(pagemap_pfn(p) + 5, c.pfn);
	munmap(m, len);
}

TEST_F(dev, hugetlb_page_is_normal_and_compound)
{
	size_t len = 2UL << 20;
	char *p;
	struct guestmap_classify c;
	int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "4", 1) != 1)
			TH_LOG("cannot reserve huge pages");
		close(fd);
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		SKIP(return, "no hugetlb pages");
	memset(p, 1, len);
	ASSERT_EQ(0, classify(self->fd, p + 3 * PAGE, &c));
	EXPECT_EQ(GUESTMAP_PFN_NORMAL, c.class);
	EXPECT_EQ(REF | DIRTY | COMPOUND, c.flags);
	EXPECT_EQ(pagemap_pfn(p + 3 * PAGE), c.pfn);
	munmap(p, len);
}

TEST_F(dev, page_cache_page_is_normal)
{
	int mfd = memfd_create("guestmap", 0);
	char *p;
	struct guestmap_classify c;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, PAGE));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	ASSERT_EQ(0, classify(self->fd, p, &c));
	EXPECT_EQ(GUESTMAP_PFN_NORMAL, c.class);
	EXPECT_EQ(REF | DIRTY, c.flags);
	munmap(p, PAGE);
	close(mfd);
}


TEST_F(dev, reserved_ram_through_dev_mem_is_reserved)
{
	unsigned long size, phys;
	struct guestmap_classify c;
	char *p;

	if (!env_range("GUESTMAP_RESERVED", &size, &phys))
		SKIP(return, "boot with memmap=<size>$<phys>, set GUESTMAP_RESERVED");
	p = map_devmem(phys, PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, classify(self->fd, p, &c));
	/* memmap=$ RAM has a struct page, PG_reserved: neither answer. */
	EXPECT_EQ(GUESTMAP_PFN_RESERVED, c.class);
	EXPECT_EQ(PFNMAP, c.flags);
	EXPECT_EQ(phys / PAGE, c.pfn);
	munmap(p, PAGE);
}

TEST_F(dev, ram_hidden_by_mem_is_pfn_only)
{
	unsigned long size, phys;
	struct guestmap_classify c;
	char *p;

	if (!env_range("GUESTMAP_HIDDEN", &size, &phys))
		SKIP(return, "boot with mem=, set GUESTMAP_HIDDEN");
	p = map_devmem(phys, PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 'h';
	ASSERT_EQ(0, classify(self->fd, p, &c));
	/* RAM the kernel never took: no struct page, neither answer. */
	EXPECT_EQ(GUESTMAP_PFN_NO_PAGE, c.class);
	EXPECT_EQ(PFNMAP, c.flags);
	EXPECT_EQ(phys / PAGE, c.pfn);
	munmap(p, PAGE);
}

TEST_F(dev, mmio_has_no_struct_page)
{
	struct guestmap_classify c;
	char *p = map_devmem(HPET_PHYS, PAGE, PROT_READ);

	if (p == MAP_FAILED)
		SKIP(return, "cannot map the HPET through /dev/mem");
	ASSERT_EQ(0, classify(self->fd, p, &c));
	EXPECT_EQ(GUESTMAP_PFN_NO_PAGE, c.class);
	EXPECT_EQ(PFNMAP, c.flags);
	EXPECT_EQ(HPET_PHYS / PAGE, c.pfn);
	munmap(p, PAGE);
}

/* mkfs.ext4 (4K blocks) on @dev, mounted with -o dax at @dir. */
static int mount_dax(const char *dev, const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F -b 4096 %s >/dev/null 2>&1", dev);
	if (system(cmd))
		return -1;
	mkdir(dir, 0700);
	return mount(dev, dir, "ext4", 0, "dax");
}

TEST_F(dev, fsdax_page_is_refcounted_but_not_dirtied)
{
	const char *dir = "/tmp/guestmap-dax";
	struct guestmap_classify c;
	char path[64];
	int ffd;
	char *p;

	if (access("/dev/pmem0", F_OK))
		SKIP(return, "no /dev/pmem0 (boot with memmap=<size>!<phys>)");
	ASSERT_EQ(0, mount_dax("/dev/pmem0", dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	ffd = open(path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, ffd);
	ASSERT_EQ(0, ftruncate(ffd, 16 * PAGE));
	p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[PAGE] = 'd';
	ASSERT_EQ(0, classify(self->fd, p + PAGE, &c));
	/*
	 * The series' point: pmem pages are PG_reserved ZONE_DEVICE pages,
	 * which the old kvm_is_reserved_pfn() took for MMIO.  They are
	 * refcounted and may be pinned; their flags are not KVM's to touch.
	 */
	EXPECT_EQ(GUESTMAP_PFN_FS_DAX, c.class);
	EXPECT_EQ(REF, c.flags);
	EXPECT_EQ(pagemap_pfn(p + PAGE), c.pfn);
	munmap(p, 16 * PAGE);
	close(ffd);
	EXPECT_EQ(0, umount(dir));
}

/* "<refcounted> <may_dirty>" for @pfn from gm_kvm_probe, or -1. */
static int probe_classify(unsigned long pfn, int *refcounted, int *may_dirty)
{
	const char *path = "/sys/kernel/debug/gm_kvm_probe/classify";
	char s[32];
	int fd = open(path, O_RDWR), n, ret = -1;

	if (fd < 0)
		return -1;
	n = snprintf(s, sizeof(s), "%lu", pfn);
	if (write(fd, s, n) == n && pread(fd, s, sizeof(s) - 1, 0) > 0 &&
	    sscanf(s, "%d %d", refcounted, may_dirty) == 2)
		ret = 0;
	close(fd);
	return ret;
}

TEST_F(dev, another_module_gets_the_same_answers)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long size, phys;
	int ref, dirty;

	if (access("/sys/kernel/debug/gm_kvm_probe/classify", F_OK))
		SKIP(return, "gm_kvm_probe.ko not loaded");
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	/* An ordinary page, held by our mapping while it is asked about. */
	ASSERT_EQ(0, probe_classify(pagemap_pfn(p), &ref, &dirty));
	EXPECT_EQ(1, ref);
	EXPECT_EQ(1, dirty);
	/* The zero page (read-faulted into the second page). */
	EXPECT_EQ(0, p[PAGE]);
	ASSERT_EQ(0, probe_classify(pagemap_pfn(p + PAGE), &ref, &dirty));
	EXPECT_EQ(1, ref);
	EXPECT_EQ(0, dirty);
	if (env_range("GUESTMAP_RESERVED", &size, &phys)) {
		ASSERT_EQ(0, probe_classify(phys / PAGE, &ref, &dirty));
		EXPECT_EQ(0, ref);
		EXPECT_EQ(0, dirty);
	}
	if (env_range("GUESTMAP_HIDDEN", &size, &phys)) {
		ASSERT_EQ(0, probe_classify(phys / PAGE, &ref, &dirty));
		EXPECT_EQ(0, ref);
		EXPECT_EQ(0, dirty);
	}
	munmap(p, 2 * PAGE);
}

TEST_F(dev, pfns_only_for_cap_sys_admin)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t pfn;
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	pfn = pagemap_pfn(p);
	ASSERT_NE(0, pfn);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/*
		 * A context opened with the privilege, then one opened
		 * without: as for /proc/pid/pagemap, the opener's
		 * credentials decide, once.
		 */
		struct guestmap_classify c;
		int before = open_dev(), after;

		if (before < 0 || drop_cap_sys_admin())
			_exit(2);
		after = open_dev();
		if (after < 0)
			_exit(3);
		if (classify(before, p, &c) || c.pfn != pfn)
			_exit(4);
		if (classify(after, p, &c))
			_exit(5);
		_exit(c.class == GUESTMAP_PFN_NORMAL && c.pfn == 0 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	munmap(p, PAGE);
}

TEST_F(dev, nothing_mapped_is_efault)
{
	struct guestmap_classify c;
	char *p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	EXPECT_EQ(EFAULT, classify(self->fd, NULL, &c));
	EXPECT_EQ(EFAULT, classify(self->fd, (void *)-PAGE, &c));
	/* PROT_NONE cannot be read: nothing to classify. */
	EXPECT_EQ(EFAULT, classify(self->fd, p, &c));
	EXPECT_EQ(-1, ioctl(self->fd, GUESTMAP_CLASSIFY, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	munmap(p, PAGE);
}

/* ---- Mapping and accessing guest memory ---- */

#define GPA	0x100000UL

static int set_slot(int fd, uint32_t flags, uint64_t gpa, uint64_t size,
		    const void *hva)
{
	struct guestmap_memslot m = {
		.slot = 0, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)hva,
	};

	return ioctl(fd, GUESTMAP_SET_MEMSLOT, &m) ? errno : 0;
}

/* One GUESTMAP_ACCESS; 0 or errno.  *via gets how the page was reached. */
static int acc(int fd, uint32_t op, uint64_t gpa, void *buf, uint64_t len,
	       uint32_t flags, uint32_t *via)
{
	struct guestmap_access a = {
		.gpa = gpa, .len = len, .buf = (uintptr_t)buf, .op = op,
		.flags = flags,
	};
	int ret = ioctl(fd, GUESTMAP_ACCESS, &a) ? errno : 0;

	if (via)
		*via = a.via;
	return ret;
}

static int cache_rw(int fd, uint32_t cache, int write, uint64_t gpa,
		    void *buf, uint64_t len, uint32_t *via)
{
	struct guestmap_access a = {
		.gpa = gpa, .len = len, .buf = (uintptr_t)buf,
		.op = write ? GUESTMAP_ACCESS_CACHE_WRITE : GUESTMAP_ACCESS_CACHE_READ,
		.cache = cache,
	};
	int ret = ioctl(fd, GUESTMAP_ACCESS, &a) ? errno : 0;

	if (via)
		*via = a.via;
	return ret;
}

static int cmpxchg(int fd, uint64_t gpa, uint64_t *old, uint64_t new)
{
	struct guestmap_access a = {
		.gpa = gpa, .len = 8, .op = GUESTMAP_ACCESS_CMPXCHG,
		.old = *old, .new = new, .flags = GUESTMAP_ACCESS_DIRTY,
	};
	int ret = ioctl(fd, GUESTMAP_ACCESS, &a) ? errno : 0;

	*old = a.old;
	return ret;
}

/*
 * Every way of access, on one kind of memory at @p (16 pages, writable by
 * the caller), checked against what user space sees; @via_map is how a
 * mapping must reach it.
 */
static void round_trips(struct __test_metadata *_metadata, int fd, char *p,
			uint32_t via_map)
{
	char buf[64], big[3 * PAGE];
	uint64_t old;
	uint32_t via;

	ASSERT_EQ(0, set_slot(fd, 0, GPA, 16 * PAGE, p));
	memcpy(p + PAGE + 100, "before", 6);
	/* kvm_vcpu_map() style: map, copy, unmap. */
	ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_MAP_READ, GPA + PAGE + 100, buf, 6, 0, &via));
	EXPECT_EQ(0, memcmp(buf, "before", 6));
	EXPECT_EQ(via_map, via);
	ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_MAP_WRITE, GPA + 2 * PAGE + 8,
			 "mapped", 6, GUESTMAP_ACCESS_DIRTY, &via));
	EXPECT_EQ(0, memcmp(p + 2 * PAGE + 8, "mapped", 6));
	/* kvm_read_guest() style, across pages. */
	memset(p + 3 * PAGE, 'x', 3 * PAGE);
	ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_READ, GPA + 3 * PAGE, big, sizeof(big), 0, NULL));
	EXPECT_EQ(0, memcmp(big, p + 3 * PAGE, sizeof(big)));
	memset(big, 'y', sizeof(big));
	ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_WRITE, GPA + 3 * PAGE + 10, big, 2 * PAGE, 0, NULL));
	EXPECT_EQ(0, memcmp(p + 3 * PAGE + 10, big, 2 * PAGE));
	/* emulator_cmpxchg_emulated() style: fails, then succeeds. */
	*(uint64_t *)(p + 6 * PAGE) = 41;
	old = 40;
	ASSERT_EQ(0, cmpxchg(fd, GPA + 6 * PAGE, &old, 42));
	EXPECT_EQ(41, old);
	EXPECT_EQ(41, *(uint64_t *)(p + 6 * PAGE));
	old = 41;
	ASSERT_EQ(0, cmpxchg(fd, GPA + 6 * PAGE, &old, 42));
	EXPECT_EQ(41, old);
	EXPECT_EQ(42, *(uint64_t *)(p + 6 * PAGE));
	/* gfn_to_pfn_cache style: refresh once, then hit. */
	memcpy(p + 7 * PAGE, "cache", 5);
	ASSERT_EQ(0, cache_rw(fd, 0, 0, GPA + 7 * PAGE, buf, 5, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(0, memcmp(buf, "cache", 5));
	memcpy(p + 7 * PAGE, "again", 5);
	ASSERT_EQ(0, cache_rw(fd, 0, 0, GPA + 7 * PAGE, buf, 5, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE, via);
	EXPECT_EQ(0, memcmp(buf, "again", 5));
	ASSERT_EQ(0, cache_rw(fd, 1, 1, GPA + 7 * PAGE + 8, "wc", 2, &via));
	EXPECT_EQ(0, memcmp(p + 7 * PAGE + 8, "wc", 2));
	ASSERT_EQ(0, set_slot(fd, 0, 0, 0, NULL));
}

TEST_F(dev, access_anonymous_memory)
{
	char *p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, 16 * PAGE);
	round_trips(_metadata, self->fd, p, GUESTMAP_VIA_PAGE);
	munmap(p, 16 * PAGE);
}

TEST_F(dev, access_hugetlb_memory)
{
	size_t len = 2UL << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (p == MAP_FAILED)
		SKIP(return, "no hugetlb pages");
	memset(p, 0, len);
	round_trips(_metadata, self->fd, p, GUESTMAP_VIA_PAGE);
	munmap(p, len);
}

TEST_F(dev, access_thp_memory)
{
	size_t len = 4UL << 20;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p = (char *)(((uintptr_t)m + (2UL << 20) - 1) & ~((2UL << 20) - 1));

	ASSERT_NE(MAP_FAILED, m);
	madvise(p, 2UL << 20, MADV_HUGEPAGE);
	memset(p, 0, 2UL << 20);
	if (pagemap_pfn(p) % 512 || pagemap_pfn(p + 15 * PAGE) != pagemap_pfn(p) + 15)
		SKIP(munmap(m, len); return, "no huge page");
	round_trips(_metadata, self->fd, p, GUESTMAP_VIA_PAGE);
	munmap(m, len);
}

TEST_F(dev, access_page_cache_memory)
{
	int mfd = memfd_create("guestmap", 0);
	char *p;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 16 * PAGE));
	p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	round_trips(_metadata, self->fd, p, GUESTMAP_VIA_PAGE);
	munmap(p, 16 * PAGE);
	close(mfd);
}

/* Every access on 16 pages of /dev/mem named by @env: no struct page to
 * pin, so memremap().  Returns nonzero (skip) if @env is not set.
 */
static int devmem_round_trips(struct __test_metadata *_metadata, int fd,
			      const char *env)
{
	unsigned long size, phys;
	char *p;

	if (!env_range(env, &size, &phys))
		return -1;
	p = map_devmem(phys, 16 * PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, 16 * PAGE);
	round_trips(_metadata, fd, p, GUESTMAP_VIA_REMAP);
	munmap(p, 16 * PAGE);
	return 0;
}

TEST_F(dev, access_reserved_pfnmap_memory)
{
	if (devmem_round_trips(_metadata, self->fd, "GUESTMAP_RESERVED"))
		SKIP(return, "boot with memmap=<size>$<phys>, set GUESTMAP_RESERVED");
}

TEST_F(dev, access_pfn_only_memory)
{
	if (devmem_round_trips(_metadata, self->fd, "GUESTMAP_HIDDEN"))
		SKIP(return, "boot with mem=, set GUESTMAP_HIDDEN");
}

static int guest_rw(int fd, uint64_t gpa, void *buf, uint64_t len, int write)
{
	struct guestmap_rw rw = { .gpa = gpa, .len = len, .buf = (uintptr_t)buf };

	return ioctl(fd, write ? GUESTMAP_WRITE_GUEST : GUESTMAP_READ_GUEST, &rw) ?
	       errno : 0;
}

static int mirror_fault(int fd, uint64_t gpa, uint64_t size, int write)
{
	struct guestmap_fault f = {
		.gpa = gpa, .size = size,
		.flags = write ? GUESTMAP_FAULT_WRITE : 0,
	};

	return ioctl(fd, GUESTMAP_MIRROR_FAULT, &f) ? errno : 0;
}

/*
 * A VM_PFNMAP mapping made PROT_NONE must be as unreadable through
 * guestmap as anonymous PROT_NONE memory.  On x86 a PROT_NONE pte is
 * pte_present() and follow_pfnmap_start() returns it, so only the vma's
 * permissions can tell; before the fix every read path still returned the
 * bytes.  PROT_READ allows reads and refuses every write.
 */
TEST_F(dev, pfnmap_memory_follows_mprotect)
{
	unsigned long size, phys;
	uint64_t old = 0;
	char buf[8];
	char *p;
	struct guestmap_classify c;

	if (!env_range("GUESTMAP_RESERVED", &size, &phys))
		SKIP(return, "boot with memmap=<size>$<phys>, set GUESTMAP_RESERVED");
	p = map_devmem(phys, 4 * PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(p + PAGE, "secret!", 8);
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, 4 * PAGE, p));
	ASSERT_EQ(0, guest_rw(self->fd, GPA + PAGE, buf, 8, 0));
	ASSERT_EQ(0, cache_rw(self->fd, 5, 0, GPA + PAGE, buf, 8, NULL));
	ASSERT_EQ(0, classify(self->fd, p + PAGE, &c));

	ASSERT_EQ(0, mprotect(p, 4 * PAGE, PROT_NONE));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(EFAULT, guest_rw(self->fd, GPA + PAGE, buf, 8, 0));
	EXPECT_EQ(EFAULT, mirror_fault(self->fd, GPA, 4 * PAGE, 0));
	EXPECT_EQ(EFAULT, acc(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA + PAGE, buf, 8, 0, NULL));
	EXPECT_EQ(EFAULT, cache_rw(self->fd, 5, 0, GPA + PAGE, buf, 8, NULL));
	EXPECT_EQ(EFAULT, acc(self->fd, GUESTMAP_ACCESS_READ, GPA + PAGE, buf, 8, 0, NULL));
	EXPECT_EQ(EFAULT, classify(self->fd, p + PAGE, &c));
	EXPECT_EQ(0, buf[0]);

	ASSERT_EQ(0, mprotect(p, 4 * PAGE, PROT_READ));
	EXPECT_EQ(0, guest_rw(self->fd, GPA + PAGE, buf, 8, 0));
	EXPECT_EQ(0, memcmp(buf, "secret!", 8));
	EXPECT_EQ(0, cache_rw(self->fd, 5, 0, GPA + PAGE, buf, 8, NULL));
	EXPECT_EQ(0, classify(self->fd, p + PAGE, &c));
	EXPECT_EQ(EFAULT, guest_rw(self->fd, GPA + PAGE, "written", 8, 1));
	EXPECT_EQ(EFAULT, mirror_fault(self->fd, GPA, PAGE, 1));
	EXPECT_EQ(EFAULT, acc(self->fd, GUESTMAP_ACCESS_MAP_WRITE, GPA + PAGE,
			      "written", 8, 0, NULL));
	EXPECT_EQ(EFAULT, cache_rw(self->fd, 5, 1, GPA + PAGE, "written", 8, NULL));
	EXPECT_EQ(EFAULT, cmpxchg(self->fd, GPA + PAGE, &old, 1));
	EXPECT_EQ(0, memcmp(p + PAGE, "secret!", 8));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, NULL));
	munmap(p, 4 * PAGE);
}

#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif

/*
 * Secret memory is removed from the kernel's direct map.  GUP refuses it;
 * hmm_range_fault() does not, so the mirror installed it, and READ_GUEST
 * then oopsed in memcpy() on the direct map with the mirror spinlock
 * held (as did the pfn cache).  Every path that maps a frame for the
 * kernel now refuses it; a copy through the user mapping is the
 * process's own access, as for KVM's kvm_read_guest().
 */
TEST_F(dev, secret_memory_is_refused)
{
	int sfd = syscall(__NR_memfd_secret, 0);
	struct guestmap_query q = { .gpa = GPA + PAGE, .npages = 1 };
	struct guestmap_classify c;
	uint64_t e = 0;
	char buf[8];
	char *p;

	if (sfd < 0)
		SKIP(return, "no memfd_secret() (%s)", strerror(errno));
	ASSERT_EQ(0, ftruncate(sfd, 4 * PAGE));
	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(p + PAGE, "hidden!", 8);
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, 4 * PAGE, p));
	EXPECT_EQ(EFAULT, mirror_fault(self->fd, GPA, 4 * PAGE, 0));
	EXPECT_EQ(EFAULT, guest_rw(self->fd, GPA + PAGE, buf, 8, 0));
	EXPECT_EQ(EFAULT, guest_rw(self->fd, GPA + PAGE, "written", 8, 1));
	EXPECT_EQ(EFAULT, cache_rw(self->fd, 7, 0, GPA + PAGE, buf, 8, NULL));
	EXPECT_EQ(EFAULT, cache_rw(self->fd, 7, 1, GPA + PAGE, "written", 8, NULL));
	EXPECT_EQ(EFAULT, acc(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA + PAGE, buf, 8, 0, NULL));
	EXPECT_EQ(EFAULT, acc(self->fd, GUESTMAP_ACCESS_MAP_WRITE, GPA + PAGE, "written",
			      8, 0, NULL));
	EXPECT_EQ(EFAULT, classify(self->fd, p + PAGE, &c));
	q.entries = (uintptr_t)&e;
	ASSERT_EQ(0, ioctl(self->fd, GUESTMAP_QUERY, &q));
	EXPECT_EQ(0, e);
	ASSERT_EQ(0, acc(self->fd, GUESTMAP_ACCESS_READ, GPA + PAGE, buf, 8, 0, NULL));
	EXPECT_EQ(0, memcmp(buf, "hidden!", 8));
	EXPECT_EQ(0, memcmp(p + PAGE, "hidden!", 8));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, NULL));
	munmap(p, 4 * PAGE);
	close(sfd);
}

/* The "CAL" (function call interrupt) row of /proc/interrupts, summed. */
static long call_ipis(void)
{
	char line[4096];
	long sum = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *end;

		while (*s == ' ')
			s++;
		if (strncmp(s, "CAL:", 4))
			continue;
		sum = 0;
		for (s += 4;; s = end) {
			long v = strtol(s, &end, 10);

			if (end == s)
				break;
			sum += v;
		}
	}
	fclose(f);
	return sum;
}

/*
 * READ_GUEST and WRITE_GUEST of memory with no struct page used to
 * memremap() and memunmap() the frame for every page of every access;
 * each unmap flushes the TLB of every CPU (at once under
 * DEBUG_PAGEALLOC), so any user of the device could drive an IPI storm.
 * The context now keeps its mappings of bare pfns: 2000 accesses of one
 * page make no flush, where they made 2000.
 */
TEST_F(dev, pfn_only_accesses_reuse_their_mapping)
{
	unsigned long size, phys;
	char buf[8];
	long before, after;
	char *p;
	int i;

	if (!env_range("GUESTMAP_HIDDEN", &size, &phys))
		SKIP(return, "boot with mem=, set GUESTMAP_HIDDEN");
	if (call_ipis() < 0)
		SKIP(return, "no CAL row in /proc/interrupts");
	p = map_devmem(phys, 4 * PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, 4 * PAGE, p));
	memcpy(p + PAGE, "bare pfn", 8);
	ASSERT_EQ(0, guest_rw(self->fd, GPA + PAGE, buf, 8, 0));
	before = call_ipis();
	for (i = 0; i < 2000; i++) {
		ASSERT_EQ(0, guest_rw(self->fd, GPA + PAGE, buf, 8, i & 1));
		ASSERT_EQ(0, memcmp(buf, "bare pfn", 8));
	}
	after = call_ipis();
	TH_LOG("%ld function-call IPIs during 2000 accesses", after - before);
	EXPECT_GT(100, after - before);
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, NULL));
	munmap(p, 4 * PAGE);
}

TEST_F(dev, access_fsdax_memory)
{
	const char *dir = "/tmp/guestmap-dax2";
	char path[64];
	int ffd;
	char *p;

	if (access("/dev/pmem0", F_OK))
		SKIP(return, "no /dev/pmem0");
	ASSERT_EQ(0, mount_dax("/dev/pmem0", dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	ffd = open(path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, ffd);
	ASSERT_EQ(0, ftruncate(ffd, 16 * PAGE));
	p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, 16 * PAGE);
	/* DAX pages are refcounted: pinned and kmapped like RAM. */
	round_trips(_metadata, self->fd, p, GUESTMAP_VIA_PAGE);
	munmap(p, 16 * PAGE);
	close(ffd);
	EXPECT_EQ(0, umount(dir));
}

/* Whether /proc/kpageflags says the page at @pfn is dirty (KPF_DIRTY). */
static int page_is_dirty(uint64_t pfn)
{
	int fd = open("/proc/kpageflags", O_RDONLY);
	uint64_t flags = 0;

	if (fd < 0)
		return -1;
	if (pread(fd, &flags, 8, pfn * 8) != 8)
		flags = 0;
	close(fd);
	return !!(flags & (1ULL << 4));
}

/*
 * A read mapping pins its page without FOLL_WRITE: the filesystem never
 * prepared it for writing (page_mkwrite), and some filesystems have no
 * ->dirty_folio() at all (squashfs, erofs, isofs: a NULL call).  Marking
 * it dirty because GUESTMAP_ACCESS_DIRTY was given made ext4 WARN (a page
 * cache folio read through mpage has no buffer heads).  A read mapping is
 * never marked dirty now; a write mapping still is.
 */
TEST_F(dev, a_read_mapping_never_dirties_the_page)
{
	const char *dir = "/tmp/guestmap-ro";
	char path[64], buf[8];
	int ffd, dfd;
	char *p;

	if (access("/dev/pmem0", F_OK))
		SKIP(return, "no /dev/pmem0");
	ASSERT_EQ(0, system("mkfs.ext4 -q -F -b 4096 /dev/pmem0 >/dev/null 2>&1"));
	mkdir(dir, 0700);
	ASSERT_EQ(0, mount("/dev/pmem0", dir, "ext4", 0, NULL));	/* no dax */
	snprintf(path, sizeof(path), "%s/f", dir);
	ffd = open(path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, ffd);
	ASSERT_EQ(4, pwrite(ffd, "file", 4, 0));
	ASSERT_EQ(0, fsync(ffd));
	close(ffd);
	/* Read back through mpage: a clean folio with no buffer heads. */
	dfd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(1, write(dfd, "1", 1));
	close(dfd);
	ffd = open(path, O_RDONLY);
	ASSERT_LE(0, ffd);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ffd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ('f', p[0]);
	ASSERT_EQ(0, page_is_dirty(pagemap_pfn(p)));
	ASSERT_EQ(0, set_slot(self->fd, GUESTMAP_MEM_READONLY, GPA, PAGE, p));
	ASSERT_EQ(0, acc(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA, buf, 4,
			 GUESTMAP_ACCESS_DIRTY, NULL));
	EXPECT_EQ(0, memcmp(buf, "file", 4));
	EXPECT_EQ(0, page_is_dirty(pagemap_pfn(p)));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, NULL));
	munmap(p, PAGE);
	close(ffd);
	sync();
	EXPECT_EQ(0, umount(dir));
}

TEST_F(dev, the_zero_page_maps_for_reading_only)
{
	char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char buf[8] = "garbage";
	struct guestmap_classify c;
	uint32_t via;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, 4 * PAGE, p));
	ASSERT_EQ(0, acc(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA, buf, 8, 0, &via));
	EXPECT_EQ(0, memcmp(buf, "\0\0\0\0\0\0\0\0", 8));
	ASSERT_EQ(0, classify(self->fd, p, &c));
	EXPECT_EQ(GUESTMAP_PFN_ZERO, c.class);
	/* A write mapping breaks CoW first, as a write fault would. */
	ASSERT_EQ(0, acc(self->fd, GUESTMAP_ACCESS_MAP_WRITE, GPA, "w", 1,
			 GUESTMAP_ACCESS_DIRTY, NULL));
	EXPECT_EQ('w', p[0]);
	ASSERT_EQ(0, classify(self->fd, p, &c));
	EXPECT_EQ(GUESTMAP_PFN_NORMAL, c.class);
	munmap(p, 4 * PAGE);
}

TEST_F(dev, readonly_slots_refuse_every_write)
{
	char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t old = 0;
	char buf[8];

	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, 4 * PAGE);
	ASSERT_EQ(0, set_slot(self->fd, GUESTMAP_MEM_READONLY, GPA, 4 * PAGE, p));
	EXPECT_EQ(EPERM, acc(self->fd, GUESTMAP_ACCESS_MAP_WRITE, GPA, "n", 1, 0, NULL));
	EXPECT_EQ(EPERM, acc(self->fd, GUESTMAP_ACCESS_WRITE, GPA, "n", 1, 0, NULL));
	EXPECT_EQ(EPERM, cmpxchg(self->fd, GPA, &old, 1));
	EXPECT_EQ(EPERM, cache_rw(self->fd, 0, 1, GPA, "n", 1, NULL));
	EXPECT_EQ(0, acc(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA, buf, 8, 0, NULL));
	EXPECT_EQ(0, acc(self->fd, GUESTMAP_ACCESS_READ, GPA, buf, 8, 0, NULL));
	EXPECT_EQ(0, p[0]);
	munmap(p, 4 * PAGE);
}

TEST_F(dev, bad_access_arguments)
{
	char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t old = 0;
	char buf[16];

	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, 4 * PAGE, p));
	/* Crossing a page for a mapping; no slot; bad op, flags, cache. */
	EXPECT_EQ(EINVAL, acc(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA + PAGE - 4, buf, 8, 0, NULL));
	EXPECT_EQ(ENOENT, acc(self->fd, GUESTMAP_ACCESS_READ, GPA + 4 * PAGE, buf, 8, 0, NULL));
	EXPECT_EQ(ENOENT, acc(self->fd, GUESTMAP_ACCESS_READ, GPA + 4 * PAGE - 4, buf, 8, 0, NULL));
	EXPECT_EQ(EINVAL, acc(self->fd, 99, GPA, buf, 8, 0, NULL));
	EXPECT_EQ(EINVAL, acc(self->fd, GUESTMAP_ACCESS_READ, GPA, buf, 8, 2, NULL));
	EXPECT_EQ(EINVAL, acc(self->fd, GUESTMAP_ACCESS_READ, GPA, buf, 0, 0, NULL));
	EXPECT_EQ(EINVAL, cache_rw(self->fd, GUESTMAP_NR_CACHES, 0, GPA, buf, 8, NULL));
	/* cmpxchg: misaligned. */
	EXPECT_EQ(EINVAL, cmpxchg(self->fd, GPA + 4, &old, 1));
	/* Bad user buffers. */
	EXPECT_EQ(EFAULT, acc(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA, (void *)8, 8, 0, NULL));
	EXPECT_EQ(EFAULT, acc(self->fd, GUESTMAP_ACCESS_WRITE, GPA, (void *)8, 8, 0, NULL));
	/* Nothing mapped behind the slot. */
	munmap(p + 2 * PAGE, 2 * PAGE);
	EXPECT_EQ(EFAULT, acc(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA + 2 * PAGE, buf, 8, 0, NULL));
	EXPECT_EQ(EFAULT, acc(self->fd, GUESTMAP_ACCESS_READ, GPA + 2 * PAGE, buf, 8, 0, NULL));
	EXPECT_EQ(EFAULT, cache_rw(self->fd, 0, 0, GPA + 2 * PAGE, buf, 8, NULL));
	munmap(p, 2 * PAGE);
}

TEST_F(dev, pins_are_balanced)
{
	char *p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long acq0 = vmstat_value("nr_foll_pin_acquired");
	long rel0 = vmstat_value("nr_foll_pin_released");
	char buf[8];
	int i, fd = open_dev();

	ASSERT_LE(0, fd);
	memset(p, 1, 16 * PAGE);
	ASSERT_EQ(0, set_slot(fd, 0, GPA, 16 * PAGE, p));
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_MAP_READ, GPA + (i % 16) * PAGE, buf, 8, 0, NULL));
		ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_MAP_WRITE, GPA + (i % 16) * PAGE, buf, 8,
				 GUESTMAP_ACCESS_DIRTY, NULL));
		ASSERT_EQ(0, cache_rw(fd, i % 8, 0, GPA + (i % 16) * PAGE, buf, 8, NULL));
	}
	close(fd);
	/*
	 * 200 pins taken (the pfn cache takes none), all released.  The
	 * counters are the whole system's, and other pins come and go
	 * meanwhile: a leak is more pins held than at the start, for a
	 * second.
	 */
	EXPECT_LE(acq0 + 200, vmstat_value("nr_foll_pin_acquired"));
	for (i = 0; i < 100; i++) {
		long acq = vmstat_value("nr_foll_pin_acquired") - acq0;

		if (acq <= vmstat_value("nr_foll_pin_released") - rel0)
			break;
		usleep(10000);
	}
	EXPECT_GT(100, i) TH_LOG("pins taken and not released for a second");
	munmap(p, 16 * PAGE);
}

TEST_F(dev, the_cache_never_returns_old_data)
{
	char *p = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *dst = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char buf[8];
	uint32_t via;

	ASSERT_NE(MAP_FAILED, p);
	memcpy(p + PAGE, "first", 6);
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, 8 * PAGE, p));
	ASSERT_EQ(0, cache_rw(self->fd, 2, 0, GPA + PAGE, buf, 6, &via));
	EXPECT_EQ(0, memcmp(buf, "first", 6));
	/* MADV_DONTNEED: the page is gone; the cache must not read it. */
	ASSERT_EQ(0, madvise(p, 8 * PAGE, MADV_DONTNEED));
	ASSERT_EQ(0, cache_rw(self->fd, 2, 0, GPA + PAGE, buf, 6, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(0, memcmp(buf, "\0\0\0\0\0", 6));
	/* mremap away, new memory in its place: the new data. */
	memcpy(p + PAGE, "second", 7);
	ASSERT_EQ(0, cache_rw(self->fd, 2, 0, GPA + PAGE, buf, 7, &via));
	EXPECT_EQ(0, memcmp(buf, "second", 7));
	ASSERT_EQ(dst, mremap(p, 8 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst));
	ASSERT_EQ(p, mmap(p, 8 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	memcpy(p + PAGE, "third", 6);
	ASSERT_EQ(0, cache_rw(self->fd, 2, 0, GPA + PAGE, buf, 6, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(0, memcmp(buf, "third", 6));
	/* munmap: nothing there any more. */
	ASSERT_EQ(0, munmap(p, 8 * PAGE));
	EXPECT_EQ(EFAULT, cache_rw(self->fd, 2, 0, GPA + PAGE, buf, 6, &via));
	munmap(dst, 8 * PAGE);
}

TEST_F(dev, the_cache_follows_pfnmap_memory_without_remapping)
{
	unsigned long size, phys;
	char buf[8];
	uint32_t via;
	char *p;

	if (!env_range("GUESTMAP_RESERVED", &size, &phys))
		SKIP(return, "boot with memmap=<size>$<phys>, set GUESTMAP_RESERVED");
	p = map_devmem(phys, 4 * PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(p, "pfnmap", 7);
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, 4 * PAGE, p));
	ASSERT_EQ(0, cache_rw(self->fd, 3, 0, GPA, buf, 7, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	memcpy(p, "PFNMAP", 7);
	ASSERT_EQ(0, cache_rw(self->fd, 3, 0, GPA, buf, 7, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE, via);
	EXPECT_EQ(0, memcmp(buf, "PFNMAP", 7));
	/* Unmapped, then the second page of the region in its place. */
	ASSERT_EQ(0, munmap(p, 4 * PAGE));
	EXPECT_EQ(EFAULT, cache_rw(self->fd, 3, 0, GPA, buf, 7, &via));
	ASSERT_EQ(p, mmap(p, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			  open("/dev/mem", O_RDWR), phys + 4 * PAGE));
	memcpy(p, "moved!", 7);
	ASSERT_EQ(0, cache_rw(self->fd, 3, 0, GPA, buf, 7, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(0, memcmp(buf, "moved!", 7));
	munmap(p, 4 * PAGE);
}

/*
 * A pfn cache made through a memslot must not outlive it.  Deleting the
 * slot removes its notifier, so nothing tells the cache that its page is
 * unmapped and freed afterwards; re-creating a slot at the same gpa (and
 * here, the same user address) on other memory must make the cache
 * refresh from the new slot.  Before the fix the cache used its old
 * kernel address: after munmap a freed page (DEBUG_PAGEALLOC turns that
 * into an oops), and a READONLY slot took the write.
 */
static void cache_across_slots(struct __test_metadata *_metadata, int fd,
			       bool unmap_old, uint32_t new_flags)
{
	char *a = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *b, buf[8];
	uint32_t via;

	ASSERT_NE(MAP_FAILED, a);
	memset(a, 'A', 4 * PAGE);
	ASSERT_EQ(0, set_slot(fd, 0, GPA, 4 * PAGE, a));
	ASSERT_EQ(0, cache_rw(fd, 4, 1, GPA + PAGE, "old", 3, &via));
	ASSERT_EQ(0, cache_rw(fd, 4, 0, GPA + PAGE, buf, 3, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE, via);
	ASSERT_EQ(0, set_slot(fd, 0, 0, 0, NULL));
	if (unmap_old) {
		ASSERT_EQ(0, munmap(a, 4 * PAGE));
		/* The same user address, other memory. */
		b = mmap(a, 4 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	} else {
		b = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_EQ(0, set_slot(fd, new_flags, GPA, 4 * PAGE, b));
	/*
	 * B is untouched, so the old page stays free: a read of it is what
	 * DEBUG_PAGEALLOC catches.  The new slot reads the zero page.
	 */
	memset(buf, 1, sizeof(buf));
	ASSERT_EQ(0, cache_rw(fd, 4, 0, GPA + PAGE, buf, 3, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(0, memcmp(buf, "\0\0\0", 3));
	memset(b, 'B', 4 * PAGE);
	ASSERT_EQ(0, cache_rw(fd, 4, 0, GPA + PAGE, buf, 3, &via));
	EXPECT_EQ(GUESTMAP_VIA_CACHE_REFRESH, via);
	EXPECT_EQ(0, memcmp(buf, "BBB", 3));
	if (new_flags & GUESTMAP_MEM_READONLY) {
		EXPECT_EQ(EPERM, cache_rw(fd, 4, 1, GPA + PAGE, "new", 3, &via));
		EXPECT_EQ(0, memcmp(b + PAGE, "BBB", 3));
	} else {
		ASSERT_EQ(0, cache_rw(fd, 4, 1, GPA + PAGE, "new", 3, &via));
		EXPECT_EQ(0, memcmp(b + PAGE, "new", 3));
	}
	if (!unmap_old)
		EXPECT_EQ(0, memcmp(a + PAGE, "old", 3));
	ASSERT_EQ(0, set_slot(fd, 0, 0, 0, NULL));
	munmap(b, 4 * PAGE);
	if (!unmap_old)
		munmap(a, 4 * PAGE);
}

TEST_F(dev, the_cache_follows_a_recreated_slot)
{
	cache_across_slots(_metadata, self->fd, false, 0);
}

TEST_F(dev, the_cache_never_touches_the_freed_memory_of_a_deleted_slot)
{
	cache_across_slots(_metadata, self->fd, true, 0);
}

TEST_F(dev, the_cache_never_writes_a_recreated_readonly_slot)
{
	cache_across_slots(_metadata, self->fd, true, GUESTMAP_MEM_READONLY);
}

/*
 * A write through a kernel mapping must reach the file: written back by
 * fsync() and read again after the page cache is dropped.  (In 6.12 the
 * FOLL_WRITE pin of a shared file page already dirties it through the
 * write fault, so unmapping clean would not lose this write; the dirty
 * flag matters for pages reached without GUP.)
 */
TEST_F(dev, kernel_writes_reach_writeback)
{
	const char *dir = "/tmp/guestmap-ext4";
	char path[64], back[8];
	int ffd, dfd;
	char *p;

	if (access("/dev/pmem0", F_OK))
		SKIP(return, "no /dev/pmem0");
	ASSERT_EQ(0, system("mkfs.ext4 -q -F -b 4096 /dev/pmem0 >/dev/null 2>&1"));
	mkdir(dir, 0700);
	ASSERT_EQ(0, mount("/dev/pmem0", dir, "ext4", 0, NULL));	/* no dax */
	snprintf(path, sizeof(path), "%s/f", dir);
	ffd = open(path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, ffd);
	ASSERT_EQ(0, ftruncate(ffd, 4 * PAGE));
	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, '.', 4 * PAGE);
	ASSERT_EQ(0, msync(p, 4 * PAGE, MS_SYNC));
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, 4 * PAGE, p));
	/* Clean pages now; write through kernel mappings. */
	ASSERT_EQ(0, acc(self->fd, GUESTMAP_ACCESS_MAP_WRITE, GPA, "dirty", 5,
			 GUESTMAP_ACCESS_DIRTY, NULL));
	ASSERT_EQ(0, set_slot(self->fd, 0, 0, 0, NULL));
	munmap(p, 4 * PAGE);
	ASSERT_EQ(0, fsync(ffd));
	/* Evict the file's clean pages: only written-back data survives. */
	dfd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(1, write(dfd, "1", 1));
	close(dfd);
	ASSERT_EQ(5, pread(ffd, back, 5, 0));
	EXPECT_EQ(0, memcmp(back, "dirty", 5));
	ASSERT_EQ(5, pread(ffd, back, 5, 2 * PAGE));
	EXPECT_EQ(0, memcmp(back, ".....", 5));
	ASSERT_EQ(5, pread(ffd, back, 5, 5));
	EXPECT_EQ(0, memcmp(back, ".....", 5));
	close(ffd);
	EXPECT_EQ(0, umount(dir));
}

/*
 * Random arguments to every command, from a fixed seed: any errno is
 * fine, an oops, WARN, leak or splat is not (the VM runner checks the
 * log), and the context must still work afterwards.
 */
TEST_F(dev, random_arguments_are_refused_cleanly)
{
	static const unsigned long cmds[] = {
		GUESTMAP_SET_MEMSLOT, GUESTMAP_MIRROR_FAULT, GUESTMAP_GET_STATS,
		GUESTMAP_QUERY, GUESTMAP_READ_GUEST, GUESTMAP_WRITE_GUEST,
		GUESTMAP_CLASSIFY, GUESTMAP_ACCESS, GUESTMAP_BENCH,
	};
	/*
	 * Every user pointer handed out points into one 4 MiB region, far
	 * enough from its end that no copy (at most GUESTMAP_RW_MAX bytes)
	 * can reach the test's other memory.
	 */
	char *region = mmap(NULL, 4UL << 20, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *mem = region, *out = region + (2UL << 20);
	/*
	 * Eight random words in, but room for the largest struct a command
	 * here writes back (GET_STATS's): a shorter array is overrun.
	 */
	uint64_t arg[sizeof(struct guestmap_stats) / 8];
	char buf[8];
	int i, j;

	ASSERT_NE(MAP_FAILED, region);
	memset(mem, 1, 64 * PAGE);
	ASSERT_EQ(0, set_slot(self->fd, 0, GPA, 64 * PAGE, mem));
	srandom(4);
	for (i = 0; i < 20000; i++) {
		for (j = 0; j < 8; j++) {
			/* Mostly plausible values, sometimes wild ones. */
			uint64_t r = random();

			switch (r % 6) {
			case 0:
				arg[j] = random();
#ifdef __i386__
				/*
				 * Below 2^31 is where a 32-bit process has its
				 * own memory, which a random buffer must not
				 * hit; x86-64 maps nothing there.
				 */
				arg[j] += 1ULL << 32;
#endif
				break;
			case 1:
				arg[j] = GPA + (random() % (80 * PAGE));
				break;
			case 2:
				arg[j] = (uintptr_t)mem + random() % (64 * PAGE);
				break;
			case 3:
				arg[j] = (uintptr_t)out;
				break;
			case 4:
				arg[j] = random() % 16;
				break;
			default:
				arg[j] = ((uint64_t)random() << 33) ^ random();
				break;
			}
		}
		/* Bench loops would only waste time: keep them short. */
		if (cmds[i % 9] == GUESTMAP_BENCH)
			arg[2] = arg[2] % 64;
		/* Slot 0 stays, so later calls find memory. */
		if (cmds[i % 9] == GUESTMAP_SET_MEMSLOT && (arg[0] & 0xffffffff) == 0)
			arg[0] |= 1;
		ioctl(self->fd, cmds[i % 9], arg);
	}
	EXPECT_EQ(0, acc(self->fd, GUESTMAP_ACCESS_MAP_READ, GPA, buf, 8, 0, NULL));
	munmap(region, 4UL << 20);
}

/*
 * The same device-dax memory through /dev/mem: a VM_PFNMAP mapping of the
 * pages of a compound ZONE_DEVICE folio, whose tail pages have refcount 0.
 * Mapping them used to take a reference (kvm_try_get_pfn() style), which
 * get_page_unless_zero() refused on every try: MAP_READ, MAP_WRITE and
 * CMPXCHG returned EAGAIN forever.  Since Linux 6.13 KVM takes no
 * reference on a PFNMAP'd page, and neither does guestmap: the memslot's
 * notifier guards the access.
 */
static void pfnmap_of_refcount_zero_pages(struct __test_metadata *_metadata,
					  int fd, char *dax, size_t len)
{
	uint64_t pfn = pagemap_pfn(dax), old;
	struct guestmap_classify c;
	char buf[8];
	uint32_t via;
	char *p;

	ASSERT_NE(0, pfn);
	p = map_devmem(pfn * PAGE, len, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(dax + 5 * PAGE, "tail p5", 8);
	ASSERT_EQ(0, classify(fd, p + 5 * PAGE, &c));
	EXPECT_EQ(GUESTMAP_PFN_DEVICE_GENERIC, c.class);
	EXPECT_EQ(REF | PFNMAP | COMPOUND, c.flags);
	ASSERT_EQ(0, set_slot(fd, 0, GPA, len, p));
	ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_MAP_READ, GPA + 5 * PAGE, buf, 8, 0, &via));
	EXPECT_EQ(GUESTMAP_VIA_REMAP, via);
	EXPECT_EQ(0, memcmp(buf, "tail p5", 8));
	ASSERT_EQ(0, acc(fd, GUESTMAP_ACCESS_MAP_WRITE, GPA + 6 * PAGE, "tail p6", 8, 0, &via));
	EXPECT_EQ(0, memcmp(dax + 6 * PAGE, "tail p6", 8));
	old = *(uint64_t *)(dax + 7 * PAGE);
	ASSERT_EQ(0, cmpxchg(fd, GPA + 7 * PAGE, &old, 0x7a11));
	EXPECT_EQ(0x7a11, *(uint64_t *)(dax + 7 * PAGE));
	ASSERT_EQ(0, cache_rw(fd, 6, 0, GPA + 5 * PAGE, buf, 8, &via));
	EXPECT_EQ(0, memcmp(buf, "tail p5", 8));
	/* Unmapped: the notifier tells every path. */
	ASSERT_EQ(0, munmap(p, len));
	EXPECT_EQ(EFAULT, acc(fd, GUESTMAP_ACCESS_MAP_READ, GPA + 5 * PAGE, buf, 8, 0, &via));
	EXPECT_EQ(EFAULT, cache_rw(fd, 6, 0, GPA + 5 * PAGE, buf, 8, &via));
	ASSERT_EQ(0, set_slot(fd, 0, 0, 0, NULL));
}

/*
 * device-dax: the pmem namespace reconfigured with ndctl (and put back as
 * fsdax afterwards), mapped from /dev/dax0.0.  Last, since it takes
 * /dev/pmem0 away while it runs.  Reconfiguring twice is slow under TCG,
 * hence the longer timeout.
 */
TEST_F_TIMEOUT(dev, device_dax_is_refcounted_and_maps_like_ram, 180)
{
	size_t len = 2UL << 20;	/* the namespace's alignment */
	struct guestmap_classify c;
	int dfd;
	char *p;

	if (access("/dev/pmem0", F_OK) || system("command -v ndctl >/dev/null"))
		SKIP(return, "needs /dev/pmem0 and ndctl");
	ASSERT_EQ(0, system("ndctl create-namespace -f -e namespace0.0 -m devdax >/dev/null"));
	dfd = open("/dev/dax0.0", O_RDWR);
	ASSERT_LE(0, dfd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, 16 * PAGE);
	ASSERT_EQ(0, classify(self->fd, p + PAGE, &c));
	/* MEMORY_DEVICE_GENERIC: pinnable, PG_reserved, so never dirtied. */
	EXPECT_EQ(GUESTMAP_PFN_DEVICE_GENERIC, c.class);
	EXPECT_EQ(REF, c.flags & ~COMPOUND);
	EXPECT_EQ(pagemap_pfn(p + PAGE), c.pfn);
	round_trips(_metadata, self->fd, p, GUESTMAP_VIA_PAGE);
	pfnmap_of_refcount_zero_pages(_metadata, self->fd, p, len);
	munmap(p, len);
	close(dfd);
	EXPECT_EQ(0, system("ndctl create-namespace -f -e namespace0.0 -m fsdax >/dev/null"));
}

TEST_HARNESS_MAIN
