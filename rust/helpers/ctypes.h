/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The types of the C<->Rust interface headers (rust/helpers/helpers.h,
 * c/guestmap.h).  The kernel's C sees its own <linux/types.h>; bindgen,
 * which generates the Rust declarations at build time, reads the headers
 * with the exported uapi headers only, as for the UAPI, so the kernel's
 * short names are spelled from the uapi ones here.
 */
#ifndef _GUESTMAP_CTYPES_H
#define _GUESTMAP_CTYPES_H

#include <linux/types.h>

#ifndef __KERNEL__
#define bool _Bool	/* as <stdbool.h> does */
typedef __u32 u32;
typedef __u64 u64;
#endif

#endif /* _GUESTMAP_CTYPES_H */
