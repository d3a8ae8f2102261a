// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs files whose contents Rust writes: 6.12 has no Rust debugfs.
 * Each file is a seq_file whose show() is a Rust function given with the
 * file; removal waits for readers (debugfs's file proxy), so the data
 * outlives every show() call.
 */
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "helpers.h"

struct gm_debugfs_file {
	void *data;
	int (*show)(struct seq_file *m, void *data);
};

static int gm_debugfs_show(struct seq_file *m, void *unused)
{
	struct gm_debugfs_file *f = m->private;

	return f->show(m, f->data);
}

static int gm_debugfs_open(struct inode *inode, struct file *file)
{
	return single_open(file, gm_debugfs_show, inode->i_private);
}

static const struct file_operations gm_debugfs_fops = {
	.owner = THIS_MODULE,
	.open = gm_debugfs_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

/* /sys/kernel/debug/guestmap, from module init to exit. */
static struct dentry *gm_debugfs_root;

void gm_debugfs_init(void)
{
	gm_debugfs_root = debugfs_create_dir("guestmap", NULL);
}

void gm_debugfs_exit(void)
{
	debugfs_remove(gm_debugfs_root);
	gm_debugfs_root = NULL;
}

/*
 * Returns the dentry, or NULL if debugfs is unavailable or out of memory:
 * a missing debugfs file is no reason to fail anything else.
 */
struct dentry *gm_debugfs_create(const char *name, void *data,
				 int (*show)(struct seq_file *m, void *data))
{
	struct gm_debugfs_file *f;
	struct dentry *d;

	f = kmalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	f->data = data;
	f->show = show;
	d = debugfs_create_file(name, 0400, gm_debugfs_root, f, &gm_debugfs_fops);
	if (IS_ERR(d)) {
		kfree(f);
		return NULL;
	}
	return d;
}

void gm_debugfs_remove(struct dentry *dentry)
{
	struct gm_debugfs_file *f;

	if (!dentry)
		return;
	f = d_inode(dentry)->i_private;
	debugfs_remove(dentry);
	kfree(f);
}

void gm_seq_write(struct seq_file *m, const char *s, unsigned long len)
{
	seq_write(m, s, len);
}
