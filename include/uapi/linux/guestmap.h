/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * guestmap: map a process's memory the way a hypervisor maps guest memory.
 *
 * This header is the single definition of the ioctl ABI of /dev/guestmap.
 * The module's Rust code is generated from it with bindgen, and the
 * selftests include it directly.
 *
 * Each open() of /dev/guestmap creates a context bound to the opener's
 * address space (mm), the way a KVM VM fd is.  Every ioctl on the fd must
 * come from that address space: from any other (a forked child, a process
 * the fd was passed to) the ioctl fails with EIO.
 */
#ifndef _UAPI_LINUX_GUESTMAP_H
#define _UAPI_LINUX_GUESTMAP_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on any incompatible change to this file. */
#define GUESTMAP_API_VERSION	1

/* ioctl type, registered as 0xB9 in ioctl-number.rst terms. */
#define GUESTMAP_IO		0xB9

/**
 * struct guestmap_api_version - what GUESTMAP_GET_API_VERSION reports
 * @version:	GUESTMAP_API_VERSION of the running module.
 * @page_size:	the host page size: the unit of every guest physical
 *		address, size and alignment in this ABI.
 * @caps:	GUESTMAP_CAP_* bits of optional features the module offers.
 *		No capability is defined in version 1: the field is zero.
 */
struct guestmap_api_version {
	__u32 version;
	__u32 page_size;
	__u64 caps;
};

#define GUESTMAP_GET_API_VERSION \
	_IOR(GUESTMAP_IO, 0x00, struct guestmap_api_version)

#endif /* _UAPI_LINUX_GUESTMAP_H */
