// SPDX-License-Identifier: GPL-2.0
/*
 * How user space finds the module from its device node, as KVM does for
 * /dev/kvm.  depmod turns the "devname:" alias into a line of
 * modules.devname, from which "kmod static-nodes" has systemd (or an
 * init script) create /dev/guestmap at boot with the module not loaded;
 * the first open() of that node reaches misc_open(), which finds no
 * device with the minor and calls request_module("char-major-10-<minor>"),
 * the other alias, so modprobe loads guestmap and the open goes on.
 */
#include <linux/build_bug.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "guestmap.h"

/* misc_open() requests a module only for a minor below this one. */
static_assert(GM_MISC_MINOR < MISC_DYNAMIC_MINOR);

MODULE_ALIAS_MISCDEV(GM_MISC_MINOR);
MODULE_ALIAS("devname:guestmap");
