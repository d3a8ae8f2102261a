// SPDX-License-Identifier: GPL-2.0
/*
 * struct miscdevice is not in 6.12's Rust bindings, so the device itself is
 * allocated and registered here.  The file operations, owner included, come
 * from Rust (rust/kernel/miscdevice.rs).
 */
#include <linux/capability.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>

#include "helpers.h"

int gm_misc_register(const char *name, const void *fops,
		     struct miscdevice **out)
{
	struct miscdevice *misc;
	int ret;

	misc = kzalloc(sizeof(*misc), GFP_KERNEL);
	if (!misc)
		return -ENOMEM;

	misc->minor = MISC_DYNAMIC_MINOR;
	misc->name = name;
	misc->fops = fops;

	ret = misc_register(misc);
	if (ret) {
		kfree(misc);
		return ret;
	}
	*out = misc;
	return 0;
}

void gm_misc_deregister(struct miscdevice *misc)
{
	misc_deregister(misc);
	kfree(misc);
}

/* What the file's opener may see: pfns, as /proc/pid/pagemap decides. */
bool gm_file_opener_sys_admin(const struct file *file)
{
	return file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
}
