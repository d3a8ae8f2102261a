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
 * The VM is booted with memmap=4M$0x7c000000 (reserved RAM) and
 * memmap=64M!0x70000000 (a pmem device, for fsdax); GUESTMAP_RESERVED
 * and GUESTMAP_PMEM name them (selftests/run_vm_tests.sh).
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

#include "kselftest_harness.h"

#define PAGE		4096UL
#define DEV_PATH	"/dev/guestmap"
#define HPET_PHYS	0xfed00000UL	/* MMIO on the q35 machine vng boots */

#define REF	GUESTMAP_PFN_REFCOUNTED
#define DIRTY	GUESTMAP_PFN_MAY_DIRTY
#define PFNMAP	GUESTMAP_PFN_MAPPED_PFNMAP
#define COMPOUND GUESTMAP_PFN_COMPOUND

static int open_dev(void)
{
	return open(DEV_PATH, O_RDWR | O_CLOEXEC);
}

static int classify(int fd, const void *addr, struct guestmap_classify *c)
{
	memset(c, 0xa5, sizeof(*c));
	c->addr = (uintptr_t)addr;
	return ioctl(fd, GUESTMAP_CLASSIFY, c) ? errno : 0;
}

static uint64_t pagemap_pfn(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, ((uintptr_t)addr / PAGE) * 8) != 8)
		e = 0;
	close(fd);
	return (e >> 63) ? e & ((1ULL << 55) - 1) : 0;
}

/* @size@@phys from the environment variable @name, or 0. */
static int env_range(const char *name, unsigned long *size, unsigned long *phys)
{
	const char *s = getenv(name);

	return s && sscanf(s, "%li@%li", size, phys) == 2;
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

TEST_F(dev, untouched_anonymous_memory_is_the_zero_page)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct guestmap_classify c;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, classify(self->fd, p, &c));
	/* PG_reserved but refcounted; never to be dirtied. */
	EXPECT_EQ(GUESTMAP_PFN_ZERO, c.class);
	EXPECT_EQ(REF, c.flags);
	EXPECT_EQ(pagemap_pfn(p), c.pfn);
	munmap(p, PAGE);
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

static char *map_devmem(unsigned long phys, size_t len, int prot)
{
	/* Write-back: RAM may not be mapped uncached (PAT). */
	int fd = open("/dev/mem", O_RDWR);
	char *p;

	if (fd < 0)
		return MAP_FAILED;
	p = mmap(NULL, len, prot, MAP_SHARED, fd, phys);
	close(fd);
	return p;
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

TEST_F(dev, pfns_only_for_cap_sys_admin)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct guestmap_classify c;
		int fd = open_dev();

		/* setresuid() drops every capability of a root process. */
		if (fd < 0 || setresuid(65534, 65534, 65534))
			_exit(2);
		if (classify(fd, p, &c))
			_exit(3);
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

TEST_HARNESS_MAIN
