/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What rust/uapi/ renders with bindgen: the ioctl ABI, and the test
 * build's operations, which the module compiles only with GM_TEST_OPS=1.
 */
#include <linux/guestmap.h>
#include <linux/guestmap_test.h>
