/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the guestmap selftests share: the device, /proc/self/pagemap,
 * /dev/mem, the memory the VM was booted with, files written and read
 * whole (tracefs), and the benchmarks' way out.
 */
#ifndef _GUESTMAP_UTIL_H
#define _GUESTMAP_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#define PAGE		4096UL
#define DEV_PATH	"/dev/guestmap"

/* /proc/self/pagemap: bit 63 present, bit 55 soft-dirty, bits 0-54 pfn. */
#define PM_PRESENT	(1ULL << 63)
#define PM_SOFT_DIRTY	(1ULL << 55)
#define PM_PFN(e)	((e) & ((1ULL << 55) - 1))

static inline int open_dev(void)
{
	return open(DEV_PATH, O_RDWR | O_CLOEXEC);
}

/* The pagemap entry of @addr, 0 if it cannot be read. */
static inline uint64_t pagemap_entry(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, ((uintptr_t)addr / PAGE) * 8) != 8)
		e = 0;
	close(fd);
	return e;
}

/* The pfn mapped at @addr, 0 if none. */
static inline uint64_t pagemap_pfn(const void *addr)
{
	uint64_t e = pagemap_entry(addr);

	return (e & PM_PRESENT) ? PM_PFN(e) : 0;
}

/*
 * <size>@<phys> from the environment variable @name (GUESTMAP_RESERVED,
 * GUESTMAP_HIDDEN: selftests/run_vm_tests.sh), or 0.
 */
static inline int env_range(const char *name, unsigned long *size,
			    unsigned long *phys)
{
	const char *s = getenv(name);

	return s && sscanf(s, "%li@%li", size, phys) == 2;
}

/* A shared, write-back mapping of /dev/mem at @phys, or MAP_FAILED. */
static inline char *map_devmem(unsigned long phys, size_t len, int prot)
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

/* Whether the kernel has swap: /proc/swaps lists a device. */
static inline int have_swap(void)
{
	char line[256];
	FILE *f = fopen("/proc/swaps", "r");
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n > 1;	/* a header line, then one per device */
}

/* Drops CAP_SYS_ADMIN from the effective set; 0 on success. */
static inline int drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

/*
 * The pagemap entries of the @n pages from @addr into @out; 0, or -1 if
 * they cannot all be read.
 */
static inline int pagemap_range(const void *addr, size_t n, uint64_t *out)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t want = n * 8;
	int ret;

	if (fd < 0)
		return -1;
	ret = pread(fd, out, want, ((uintptr_t)addr / PAGE) * 8) == want ? 0 : -1;
	close(fd);
	return ret;
}

/*
 * The sum of the /proc/self/smaps field @key ("AnonHugePages", ...), in
 * kB, over the mappings that start in [@addr, @addr + @len); -1 if
 * smaps cannot be read.  AnonHugePages counts what the CPU maps with
 * PMDs, so it tells a PMD-mapped THP from one split into ptes.
 */
static inline long smaps_kb(const void *addr, size_t len, const char *key)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	size_t n = strlen(key);
	unsigned long start, end;
	char line[256];
	int in = 0;
	long kb = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start >= (uintptr_t)addr && start < (uintptr_t)addr + len;
		else if (in && !strncmp(line, key, n) && line[n] == ':')
			kb += atol(line + n + 1);
	}
	fclose(f);
	return kb;
}

/*
 * The /proc/meminfo field @key in kB, with the per-CPU counter deltas
 * folded in first (vm.stat_refresh); -1 if it cannot be read.
 */
static inline long meminfo_kb(const char *key)
{
	int rfd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	FILE *f;
	char line[128];
	size_t n = strlen(key);
	long kb = -1;

	if (rfd >= 0) {
		/* Without the fold the value may lag; it is read all the same. */
		if (write(rfd, "1", 1) != 1)
			kb = -1;
		close(rfd);
	}
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			kb = atol(line + n + 1);
	fclose(f);
	return kb;
}

/* Writes @s to file @path, truncated first; 0, or -1 if not all of it. */
static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

/* The whole of file @path, NUL-terminated; NULL if it cannot be read. */
static inline char *read_all(const char *path)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap), *bigger;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (len + 1 == cap) {
			bigger = realloc(buf, cap *= 2);
			if (!bigger)
				break;
			buf = bigger;
		}
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

/*
 * The benchmarks stop at the first thing that fails: a run that went
 * wrong has no numbers worth printing.
 */
static inline void die(const char *what)
{
	perror(what);
	exit(1);
}

/*
 * A benchmark's run that did not do what it should (@got, not @want):
 * its numbers mean nothing.  The program's name (_GNU_SOURCE) says whose.
 */
static inline void bench_check(const char *what, uint64_t got, uint64_t want)
{
	if (got == want)
		return;
	fprintf(stderr, "%s: %s: %llu, want %llu\n", program_invocation_short_name,
		what, (unsigned long long)got, (unsigned long long)want);
	exit(1);
}

/*
 * @len bytes of anonymous memory in 4 KiB pages (MADV_NOHUGEPAGE, so that
 * a walk is the same whatever THP finds free), every page written before
 * anything is timed, so that page allocation is not what is measured.
 */
static inline char *populate_4k(size_t len)
{
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t off;

	if (mem == MAP_FAILED)
		die("mmap");
	if (madvise(mem, len, MADV_NOHUGEPAGE))
		die("madvise");
	for (off = 0; off < len; off += PAGE)
		mem[off] = 1;
	return mem;
}

/* A /proc/vmstat counter, with the per-cpu deltas folded in first. */
static inline long vmstat_value(const char *key)
{
	char line[128];
	size_t n = strlen(key);
	long v = -1;
	int rfd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	FILE *f;

	if (rfd >= 0) {
		if (write(rfd, "1", 1) != 1)
			v = -1;
		close(rfd);
	}
	f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ' ')
			v = atol(line + n + 1);
	fclose(f);
	return v;
}

#endif /* _GUESTMAP_UTIL_H */
