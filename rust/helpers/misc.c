// SPDX-License-Identifier: GPL-2.0
/*
 * struct miscdevice is not in 6.12's Rust bindings, so the device itself is
 * allocated and registered here.  The file operations come from Rust
 * (rust/kernel/miscdevice.rs); this file adds what only C knows.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>

#include "helpers.h"

struct gm_miscdev {
	struct miscdevice misc;
	struct file_operations fops;
};

int gm_misc_register(const char *name, const struct file_operations *fops,
		     struct miscdevice **out)
{
	struct gm_miscdev *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;

	dev->fops = *fops;
	/*
	 * An open file pins this module through fops->owner, so rmmod fails
	 * with EWOULDBLOCK instead of pulling the code from under the fd.
	 */
	dev->fops.owner = THIS_MODULE;
	/* Every guestmap ioctl struct has one layout for 32- and 64-bit. */
	if (dev->fops.unlocked_ioctl)
		dev->fops.compat_ioctl = compat_ptr_ioctl;

	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = name;
	dev->misc.fops = &dev->fops;

	ret = misc_register(&dev->misc);
	if (ret) {
		kfree(dev);
		return ret;
	}
	*out = &dev->misc;
	return 0;
}

void gm_misc_deregister(struct miscdevice *misc)
{
	struct gm_miscdev *dev = container_of(misc, struct gm_miscdev, misc);

	misc_deregister(misc);
	kfree(dev);
}
