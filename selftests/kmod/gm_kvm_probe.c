// SPDX-License-Identifier: GPL-2.0
/*
 * gm_kvm_probe: test-only.  Two debugfs files under gm_kvm_probe/:
 *
 * classify  write "<pfn>", read "<refcounted> <may_dirty>": guestmap's
 *           exported kvm_is_refcounted_pfn() and kvm_pfn_may_mark_dirty(),
 *           called from another module.
 * map       write "<vcpu fd> <gfn> <iterations>" from the process that owns
 *           the vCPU fd, read "<ns> <mapped_by_page>": KVM's own
 *           kvm_vcpu_map() + 8-byte read + kvm_vcpu_unmap() in a loop.
 *
 * Root only (debugfs); the fd must be a KVM vCPU ("kvm-vcpu:N").
 */
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>
#include <guestmap/pfn.h>

static struct dentry *gm_probe_dir;
static DEFINE_MUTEX(gm_probe_lock);
static char gm_probe_result[64];

static ssize_t gm_probe_read(struct file *file, char __user *buf,
			     size_t len, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&gm_probe_lock);
	ret = simple_read_from_buffer(buf, len, ppos, gm_probe_result,
				      strlen(gm_probe_result));
	mutex_unlock(&gm_probe_lock);
	return ret;
}

static int gm_probe_args(const char __user *ubuf, size_t len, char *kbuf,
			 size_t size)
{
	if (len >= size)
		return -EINVAL;
	if (copy_from_user(kbuf, ubuf, len))
		return -EFAULT;
	kbuf[len] = 0;
	return 0;
}

static ssize_t gm_classify_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	unsigned long pfn;
	char kbuf[32];
	int ret;

	ret = gm_probe_args(ubuf, len, kbuf, sizeof(kbuf));
	if (ret)
		return ret;
	if (kstrtoul(strim(kbuf), 0, &pfn))
		return -EINVAL;
	mutex_lock(&gm_probe_lock);
	snprintf(gm_probe_result, sizeof(gm_probe_result), "%d %d\n",
		 kvm_is_refcounted_pfn(pfn), kvm_pfn_may_mark_dirty(pfn));
	mutex_unlock(&gm_probe_lock);
	return len;
}

static int gm_map_loop(struct kvm_vcpu *vcpu, gfn_t gfn, u64 iterations,
		       u64 *ns, bool *by_page)
{
	struct kvm_host_map map;
	u64 i, start, word;
	int idx, ret = 0;

	idx = srcu_read_lock(&vcpu->kvm->srcu);
	start = ktime_get_ns();
	for (i = 0; i < iterations; i++) {
		ret = kvm_vcpu_map(vcpu, gfn, &map);
		if (ret)
			break;
		*by_page = map.page != KVM_UNMAPPED_PAGE;
		word = READ_ONCE(*(u64 *)map.hva);
		kvm_vcpu_unmap(vcpu, &map, false);
		if ((i & 1023) == 1023 && fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	*ns = ktime_get_ns() - start;
	srcu_read_unlock(&vcpu->kvm->srcu, idx);
	(void)word;
	return ret;
}

static ssize_t gm_map_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	unsigned long long gfn, iterations, ns = 0;
	bool by_page = false;
	struct file *vf;
	char kbuf[64];
	int fd, ret;

	ret = gm_probe_args(ubuf, len, kbuf, sizeof(kbuf));
	if (ret)
		return ret;
	if (sscanf(kbuf, "%d %llu %llu", &fd, &gfn, &iterations) != 3 ||
	    !iterations || iterations > (1 << 24))
		return -EINVAL;
	vf = fget(fd);
	if (!vf)
		return -EBADF;
	if (strncmp(vf->f_path.dentry->d_name.name, "kvm-vcpu:", 9)) {
		fput(vf);
		return -EINVAL;
	}
	ret = gm_map_loop(vf->private_data, gfn, iterations,
			  (u64 *)&ns, &by_page);
	fput(vf);
	if (ret)
		return ret;
	mutex_lock(&gm_probe_lock);
	snprintf(gm_probe_result, sizeof(gm_probe_result), "%llu %d\n", ns,
		 by_page);
	mutex_unlock(&gm_probe_lock);
	return len;
}

static const struct file_operations gm_classify_fops = {
	.owner = THIS_MODULE,
	.read = gm_probe_read,
	.write = gm_classify_write,
};

static const struct file_operations gm_map_fops = {
	.owner = THIS_MODULE,
	.read = gm_probe_read,
	.write = gm_map_write,
};

static int __init gm_probe_init(void)
{
	gm_probe_dir = debugfs_create_dir("gm_kvm_probe", NULL);
	debugfs_create_file("classify", 0600, gm_probe_dir, NULL,
			    &gm_classify_fops);
	debugfs_create_file("map", 0600, gm_probe_dir, NULL, &gm_map_fops);
	return 0;
}

static void __exit gm_probe_exit(void)
{
	debugfs_remove(gm_probe_dir);
}

module_init(gm_probe_init);
module_exit(gm_probe_exit);
MODULE_DESCRIPTION("guestmap test probe: exported symbols and kvm_vcpu_map");
MODULE_LICENSE("GPL");
