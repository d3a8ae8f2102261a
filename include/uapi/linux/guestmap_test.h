/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * guestmap's test operations: ioctls of the test build only (the module
 * built with GM_TEST_OPS=1, as "make check" and "make bench" build it).
 * A production build has none of them: there they fail with ENOTTY.
 * They are not part of the ABI, no capability bit announces them, and
 * they may change at any time, as test_hmm's ioctls may.
 */
#ifndef _UAPI_LINUX_GUESTMAP_TEST_H
#define _UAPI_LINUX_GUESTMAP_TEST_H

#include <linux/guestmap.h>

/**
 * struct guestmap_bench - time an access in a loop in the kernel
 * @gpa:	where to read 8 bytes, within one page of a slot, as for
 *		guestmap_access.
 * @op:		GUESTMAP_ACCESS_MAP_READ or GUESTMAP_ACCESS_CACHE_READ: map,
 *		read 8 bytes, unmap (or check the cache and read 8 bytes).
 * @cache:	for CACHE_READ: which pfn cache, below GUESTMAP_NR_CACHES.
 * @iterations:	loop count, 1 to 1 << 24.
 * @ns:		total time in nanoseconds (out).
 */
struct guestmap_bench {
	__u64 gpa;
	__u32 op;
	__u32 cache;
	__u64 iterations;
	__u64 ns;
};

#define GUESTMAP_BENCH \
	_IOWR(GUESTMAP_IO, 0x09, struct guestmap_bench)

#endif /* _UAPI_LINUX_GUESTMAP_TEST_H */
