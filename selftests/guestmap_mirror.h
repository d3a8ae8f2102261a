/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the mirror's selftests (mirror_test, huge_test) share: one call of
 * each mirror command, returning 0 or the errno.
 */
#ifndef _GUESTMAP_MIRROR_H
#define _GUESTMAP_MIRROR_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/guestmap.h>

/*
 * A slot at user address @hva as the ABI carries it, 64 bits wide: a
 * 32-bit process may name addresses no pointer of its own can hold.
 */
static inline int set_slot_addr(int fd, uint32_t slot, uint32_t flags, uint64_t gpa,
				uint64_t size, uint64_t hva)
{
	struct guestmap_memslot m = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = hva,
	};

	return ioctl(fd, GUESTMAP_SET_MEMSLOT, &m) ? errno : 0;
}

static inline int set_slot(int fd, uint32_t slot, uint32_t flags, uint64_t gpa,
		    uint64_t size, const void *hva)
{
	return set_slot_addr(fd, slot, flags, gpa, size, (uintptr_t)hva);
}

static inline int fault(int fd, uint64_t gpa, uint64_t size, int write)
{
	struct guestmap_fault f = {
		.gpa = gpa, .size = size,
		.flags = write ? GUESTMAP_FAULT_WRITE : 0,
	};

	return ioctl(fd, GUESTMAP_MIRROR_FAULT, &f) ? errno : 0;
}

static inline int guest_rw(int fd, uint64_t gpa, void *buf, uint64_t len, int write)
{
	struct guestmap_rw rw = { .gpa = gpa, .len = len, .buf = (uintptr_t)buf };

	return ioctl(fd, write ? GUESTMAP_WRITE_GUEST : GUESTMAP_READ_GUEST,
		     &rw) ? errno : 0;
}

static inline struct guestmap_stats stats(int fd)
{
	struct guestmap_stats s;

	memset(&s, 0xff, sizeof(s));
	if (ioctl(fd, GUESTMAP_GET_STATS, &s))
		memset(&s, 0xff, sizeof(s));
	return s;
}

static inline int query(int fd, uint64_t gpa, uint64_t npages, uint64_t *out)
{
	struct guestmap_query q = {
		.gpa = gpa, .npages = npages, .entries = (uintptr_t)out,
	};

	return ioctl(fd, GUESTMAP_QUERY, &q) ? errno : 0;
}

static inline uint64_t query1(int fd, uint64_t gpa)
{
	uint64_t e = ~0ULL;

	if (query(fd, gpa, 1, &e))
		return ~0ULL;
	return e;
}

/* The class bits of a GUESTMAP_QUERY word. */
static inline unsigned int class_of(uint64_t e)
{
	return (e & GUESTMAP_PAGE_CLASS_MASK) >> GUESTMAP_PAGE_CLASS_SHIFT;
}

/* A pattern of @seed over @len bytes at @p. */
static inline void fill(void *p, size_t len, uint32_t seed)
{
	uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = seed * 2654435761u + i;
}

/* Anonymous memory aligned to @align, @len bytes. */
static inline void *map_aligned(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + align - 1) & ~(align - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((char *)a + len, (uintptr_t)p + align - a);
	return (void *)a;
}

/* The guest's view of @len bytes at @gpa equals @expect. */
static inline int guest_equals(int fd, uint64_t gpa, const void *expect, size_t len)
{
	size_t chunk = len < GUESTMAP_RW_MAX ? len : GUESTMAP_RW_MAX;
	char *buf = malloc(chunk);
	size_t done;
	int ret = 1;

	if (!buf)
		return 0;
	for (done = 0; ret && done < len; done += chunk) {
		size_t n = len - done < chunk ? len - done : chunk;

		memset(buf, 0x5a, n);
		ret = !guest_rw(fd, gpa + done, buf, n, 0) &&
		      !memcmp(buf, (const char *)expect + done, n);
	}
	free(buf);
	return ret;
}

/* Resets the soft-dirty bits of the whole address space (clear_refs 4). */
static inline int clear_soft_dirty(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, "4", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

#endif /* _GUESTMAP_MIRROR_H */
