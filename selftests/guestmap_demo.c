// SPDX-License-Identifier: GPL-2.0
/*
 * A short tour of /dev/guestmap for "make run": what a context is and what
 * the module answers.  Not a test; selftests/guestmap_test.c asserts.
 *
 * "--hold SECONDS" keeps the context open that long at the end, for a look
 * at its debugfs file (Documentation/using.rst).
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
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/guestmap.h>

static const char *result(int ret)
{
	return ret ? strerrorname_np(errno) : "ok";
}

static void show_stats(int fd, const char *after)
{
	struct guestmap_stats s;

	if (ioctl(fd, GUESTMAP_GET_STATS, &s))
		return;
	printf("  after %-26s present %3llu  zapped %3llu  wrprotected %3llu  tables +%llu -%llu\n",
	       after, (unsigned long long)s.entries_present,
	       (unsigned long long)s.entries_zapped,
	       (unsigned long long)s.entries_wrprotected,
	       (unsigned long long)s.tables_allocated,
	       (unsigned long long)s.tables_freed);
}

static const char *const classes[] = {
	"?", "no struct page", "reserved", "zero page", "normal",
	"device private", "device coherent", "fsdax", "device-dax", "p2pdma",
};

/* The slot's first page: classified, mapped, and read through a cache. */
static void memory_demo(int fd, char *buf)
{
	struct guestmap_classify c = { .addr = (uintptr_t)buf };
	char word[8] = "";
	struct guestmap_access a = {
		.gpa = 1UL << 30, .len = 8, .buf = (uintptr_t)word,
		.op = GUESTMAP_ACCESS_MAP_READ,
	};

	if (!ioctl(fd, GUESTMAP_CLASSIFY, &c))
		printf("GUESTMAP_CLASSIFY of the slot's first page: %s, refcounted %d, may dirty %d\n",
		       c.class < 10 ? classes[c.class] : "?",
		       !!(c.flags & GUESTMAP_PFN_REFCOUNTED),
		       !!(c.flags & GUESTMAP_PFN_MAY_DIRTY));
	const char *ret = result(ioctl(fd, GUESTMAP_ACCESS, &a));

	printf("GUESTMAP_ACCESS MAP_READ (kvm_vcpu_map style): %s, via %s\n",
	       ret, a.via == GUESTMAP_VIA_PAGE ? "a pinned page" : "memremap()");
	a.op = GUESTMAP_ACCESS_CACHE_READ;
	ioctl(fd, GUESTMAP_ACCESS, &a);
	printf("GUESTMAP_ACCESS CACHE_READ, first: %s\n",
	       a.via == GUESTMAP_VIA_CACHE_REFRESH ? "refreshed the pfn cache" : "a hit");
	ioctl(fd, GUESTMAP_ACCESS, &a);
	printf("GUESTMAP_ACCESS CACHE_READ, again: %s\n",
	       a.via == GUESTMAP_VIA_CACHE ? "a hit, no pin, no walk" : "refreshed");
}

/* A 64-page memslot, faulted, then put through three kinds of event. */
static void mirror_demo(int fd)
{
	size_t len = 64 * 4096;
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct guestmap_memslot m = {
		.guest_phys_addr = 1UL << 30, .memory_size = len,
		.userspace_addr = (uintptr_t)buf,
	};
	struct guestmap_fault f = {
		.gpa = 1UL << 30, .size = len, .flags = GUESTMAP_FAULT_WRITE,
	};
	char msg[32] = "";
	struct guestmap_rw rw = {
		.gpa = (1UL << 30) + 4096, .len = sizeof(msg),
		.buf = (uintptr_t)msg,
	};

	if (buf == MAP_FAILED)
		return;
	memset(buf, 'u', len);
	snprintf(buf + 4096, 32, "written by user space");
	printf("GUESTMAP_SET_MEMSLOT gpa 1 GiB -> %p, 64 pages: %s\n", buf,
	       result(ioctl(fd, GUESTMAP_SET_MEMSLOT, &m)));
	printf("GUESTMAP_MIRROR_FAULT (write) of the slot: %s\n",
	       result(ioctl(fd, GUESTMAP_MIRROR_FAULT, &f)));
	show_stats(fd, "the fault:");
	printf("GUESTMAP_READ_GUEST at gpa 1 GiB + 4 KiB: %s: \"%s\"\n",
	       result(ioctl(fd, GUESTMAP_READ_GUEST, &rw)), msg);
	memory_demo(fd, buf);
	mprotect(buf, len, PROT_READ);
	show_stats(fd, "mprotect(PROT_READ):");
	mprotect(buf, len, PROT_READ | PROT_WRITE);
	madvise(buf + 8 * 4096, 8 * 4096, MADV_DONTNEED);
	show_stats(fd, "MADV_DONTNEED of 8 pages:");
	munmap(buf, len);
	show_stats(fd, "munmap:");
}

int main(int argc, char **argv)
{
	struct guestmap_api_version v;
	unsigned int hold = 0;
	struct stat st;
	int fd, status;
	pid_t pid;

	if (argc == 3 && !strcmp(argv[1], "--hold")) {
		hold = strtoul(argv[2], NULL, 10);
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [--hold SECONDS]\n", argv[0]);
		return 2;
	}

	fd = open("/dev/guestmap", O_RDWR);
	if (fd < 0 || fstat(fd, &st)) {
		perror("/dev/guestmap");
		return 1;
	}
	printf("/dev/guestmap: misc char device %u:%u\n",
	       major(st.st_rdev), minor(st.st_rdev));
	printf("open(): a new context, bound to this process's mm (pid %d)\n",
	       getpid());

	if (ioctl(fd, GUESTMAP_GET_API_VERSION, &v)) {
		perror("GUESTMAP_GET_API_VERSION");
		return 1;
	}
	printf("GUESTMAP_GET_API_VERSION (0x%08lx): version %u, page size %u, caps 0x%llx\n",
	       (unsigned long)GUESTMAP_GET_API_VERSION, v.version, v.page_size,
	       (unsigned long long)v.caps);

	pid = fork();
	if (pid == 0)
		_exit(ioctl(fd, GUESTMAP_GET_API_VERSION, &v) ? errno : 0);
	waitpid(pid, &status, 0);
	printf("the same ioctl from a forked child (another mm): %s\n",
	       WEXITSTATUS(status) ? strerrorname_np(WEXITSTATUS(status)) : "ok");

	printf("an unknown ioctl: %s\n",
	       result(ioctl(fd, _IO(GUESTMAP_IO, 0x7f))));
	printf("GUESTMAP_GET_API_VERSION to a NULL pointer: %s\n",
	       result(ioctl(fd, GUESTMAP_GET_API_VERSION, NULL)));

	mirror_demo(fd);

	if (hold) {
		printf("holding the context open for %u s\n", hold);
		fflush(stdout);
		sleep(hold);
	}
	close(fd);
	printf("close(): context released\n");
	return 0;
}
