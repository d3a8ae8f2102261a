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

/*
 * @minor: a fixed minor, below MISC_DYNAMIC_MINOR, or a negative number
 * for a dynamic one.  A fixed minor someone else holds is -EBUSY, from
 * misc_register().
 */
int gm_misc_register(const char *name, int minor, const void *fops,
		     struct miscdevice **out)
{
	struct miscdevice *misc;
	int ret;

	/* MISC_DYNAMIC_MINOR itself would silently mean a dynamic one. */
	if (minor >= MISC_DYNAMIC_MINOR)
		return -EINVAL;

	misc = kzalloc(sizeof(*misc), GFP_KERNEL);
	if (!misc)
		return -ENOMEM;

	misc->minor = minor < 0 ? MISC_DYNAMIC_MINOR : minor;
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
