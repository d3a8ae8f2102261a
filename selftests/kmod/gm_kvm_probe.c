// SPDX-License-Identifier: GPL-2.0
/*
 * gm_kvm_probe: test-only.  Debugfs files under gm_kvm_probe/:
 *
 * classify  write "<pfn>", read "<refcounted> <may_dirty>": guestmap's
 *           exported kvm_is_refcounted_pfn() and kvm_pfn_may_mark_dirty(),
 *           called from another module.
 * map       write "<vcpu fd> <gfn> <iterations>" from the process that owns
 *           the vCPU fd, read "<ns> <mapped_by_page>": KVM's own
 *           kvm_vcpu_map() + 8-byte read + kvm_vcpu_unmap() in a loop.
 * nested    write "<vcpu fd> <vmcb12 gfn> <msrpm gfn> <iterations>", read
 *           "<ns> <mapped_by_page>": what 6.12's nested_svm_vmrun() and
 *           nested_svm_vmexit() (arch/x86/kvm/svm/nested.c) do with guest
 *           memory, in a loop: kvm_vcpu_map() VMCB12, copy its control
 *           and save areas, read the MSR permission map's words of the
 *           MSRs L0 passes through with kvm_vcpu_read_guest(), unmap
 *           dirty; map it again, write L2's state and the exit back (the
 *           fields nested_svm_vmexit() writes), unmap dirty.
 * nested_vmx
 *           write "<vcpu fd> <apic-access gfn> <virtual-APIC gfn>
 *           <PI descriptor gfn> <MSR bitmap gfn> <iterations>", read
 *           "<ns> <mapped_by_page>": what 6.12's nested VMX
 *           (arch/x86/kvm/vmx/nested.c) does with guest memory per
 *           entry and exit, in a loop: nested_get_vmcs12_pages()
 *           kvm_vcpu_map()s the APIC-access page, the virtual-APIC page
 *           and the PI descriptor, nested_vmx_prepare_msr_bitmap() maps
 *           L1's MSR bitmap, merges the MSRs it merges, unmaps clean;
 *           the exit (nested_vmx_vmexit()) unmaps the three, the
 *           virtual-APIC page and the descriptor dirty.
 *
 * Root only (debugfs); the fd must be a KVM vCPU ("kvm-vcpu:N").
 */
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/kvm_host.h>
#include <linux/magic.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>
#include <asm/svm.h>
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

/*
 * Between iterations of a timed loop: -EINTR on a fatal signal; else let
 * a memslot change (synchronize_srcu) and the scheduler through.
 */
static int gm_probe_breathe(struct kvm_vcpu *vcpu, int *idx)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	srcu_read_unlock(&vcpu->kvm->srcu, *idx);
	cond_resched();
	*idx = srcu_read_lock(&vcpu->kvm->srcu);
	return 0;
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
		if ((i & 1023) == 1023) {
			ret = gm_probe_breathe(vcpu, &idx);
			if (ret)
				break;
		}
	}
	*ns = ktime_get_ns() - start;
	srcu_read_unlock(&vcpu->kvm->srcu, idx);
	(void)word;
	return ret;
}

/* The file of KVM vCPU fd @fd, or an ERR_PTR; fput() it. */
static struct file *gm_probe_vcpu(int fd)
{
	struct file *vf = fget(fd);

	struct kvm_vcpu *vcpu;

	if (!vf)
		return ERR_PTR(-EBADF);
	/*
	 * KVM's vCPU files are anonymous inodes named "kvm-vcpu:N": no other
	 * file can have both, whatever a filesystem lets one name a file.
	 */
	if (file_inode(vf)->i_sb->s_magic != ANON_INODE_FS_MAGIC ||
	    strncmp(vf->f_path.dentry->d_name.name, "kvm-vcpu:", 9)) {
		fput(vf);
		return ERR_PTR(-EINVAL);
	}
	/* As KVM's own vCPU ioctls: only from the VM's address space. */
	vcpu = vf->private_data;
	if (vcpu->kvm->mm != current->mm) {
		fput(vf);
		return ERR_PTR(-EIO);
	}
	return vf;
}

static void gm_probe_set_result(u64 ns, bool by_page)
{
	mutex_lock(&gm_probe_lock);
	snprintf(gm_probe_result, sizeof(gm_probe_result), "%llu %d\n", ns,
		 by_page);
	mutex_unlock(&gm_probe_lock);
}

static ssize_t gm_map_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	unsigned long long gfn, iterations;
	bool by_page = false;
	struct file *vf;
	char kbuf[64];
	u64 ns = 0;
	int fd, ret;

	ret = gm_probe_args(ubuf, len, kbuf, sizeof(kbuf));
	if (ret)
		return ret;
	if (sscanf(kbuf, "%d %llu %llu", &fd, &gfn, &iterations) != 3 ||
	    !iterations || iterations > (1 << 24))
		return -EINVAL;
	vf = gm_probe_vcpu(fd);
	if (IS_ERR(vf))
		return PTR_ERR(vf);
	ret = gm_map_loop(vf->private_data, gfn, iterations, &ns, &by_page);
	fput(vf);
	if (ret)
		return ret;
	gm_probe_set_result(ns, by_page);
	return len;
}

/*
 * The MSRs KVM lets L1 access directly (svm.c's direct_access_msrs, but
 * for those only some CPUs have, and the x2APIC ones, which
 * nested_svm_vmrun_msrpm() skips).  Their words of the MSR permission map
 * are what the merge reads of L1's map; guestmap's bench passes the same
 * MSRs through (GUESTMAP_SVM_SET_L0_MSR).
 */
static const u32 gm_passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR,
	MSR_CSTAR, MSR_SYSCALL_MASK, MSR_IA32_SYSENTER_CS,
	MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

/* The u32 word of @msr in an MSR permission map, as svm_msrpm_offset(). */
static u32 gm_msrpm_word(u32 msr)
{
	static const u32 ranges[] = { 0, 0xc0000000, 0xc0010000 };
	int i;

	for (i = 0; i < ARRAY_SIZE(ranges); i++)
		if (msr >= ranges[i] && msr - ranges[i] < 8192)
			return (i * 2048 + (msr - ranges[i]) / 4) / 4;
	return U32_MAX;
}

/* The distinct words of gm_passthrough_msrs, as msrpm_offsets[] lists. */
static int gm_msrpm_words(u32 *words)
{
	int i, j, n = 0;

	for (i = 0; i < ARRAY_SIZE(gm_passthrough_msrs); i++) {
		u32 w = gm_msrpm_word(gm_passthrough_msrs[i]);

		for (j = 0; j < n && words[j] != w; j++)
			;
		if (j == n)
			words[n++] = w;
	}
	return n;
}

/* VMCB12's control and save areas, as nested_svm_vmrun() caches them. */
struct gm_vmcb_copy {
	struct vmcb_control_area control;
	struct vmcb_save_area save;
};

static int gm_nested_once(struct kvm_vcpu *vcpu, gfn_t vmcb_gfn,
			  gpa_t msrpm, const u32 *words, int nwords,
			  struct gm_vmcb_copy *copy, u32 *merged, bool *by_page)
{
	struct kvm_host_map map;
	struct vmcb *vmcb12;
	int ret, w;
	u32 value;

	/* nested_svm_vmrun(): map, copy, merge the MSR maps, unmap. */
	ret = kvm_vcpu_map(vcpu, vmcb_gfn, &map);
	if (ret)
		return ret;
	*by_page = map.page != KVM_UNMAPPED_PAGE;
	vmcb12 = map.hva;
	memcpy(&copy->control, &vmcb12->control, sizeof(copy->control));
	memcpy(&copy->save, &vmcb12->save, sizeof(copy->save));
	for (w = 0; w < nwords; w++) {
		ret = kvm_vcpu_read_guest(vcpu, msrpm + 4 * words[w], &value,
					  sizeof(value));
		if (ret)
			break;
		merged[w] = value;
	}
	kvm_vcpu_unmap(vcpu, &map, true);
	if (ret)
		return ret;

	/*
	 * nested_svm_vmexit(): map, write L2's state and the exit, unmap.
	 * Nothing ran L2: its state is what VMRUN copied.
	 */
	ret = kvm_vcpu_map(vcpu, vmcb_gfn, &map);
	if (ret)
		return ret;
	vmcb12 = map.hva;
	vmcb12->save.es = copy->save.es;
	vmcb12->save.cs = copy->save.cs;
	vmcb12->save.ss = copy->save.ss;
	vmcb12->save.ds = copy->save.ds;
	vmcb12->save.gdtr = copy->save.gdtr;
	vmcb12->save.idtr = copy->save.idtr;
	vmcb12->save.efer = copy->save.efer;
	vmcb12->save.cr0 = copy->save.cr0;
	vmcb12->save.cr3 = copy->save.cr3;
	vmcb12->save.cr2 = copy->save.cr2;
	vmcb12->save.cr4 = copy->save.cr4;
	vmcb12->save.rflags = copy->save.rflags;
	vmcb12->save.rip = copy->save.rip;
	vmcb12->save.rsp = copy->save.rsp;
	vmcb12->save.rax = copy->save.rax;
	vmcb12->save.dr7 = copy->save.dr7;
	vmcb12->save.dr6 = copy->save.dr6;
	vmcb12->save.cpl = copy->save.cpl;
	vmcb12->control.int_state = copy->control.int_state;
	vmcb12->control.exit_code = SVM_EXIT_VMMCALL;
	vmcb12->control.exit_code_hi = 0;
	vmcb12->control.exit_info_1 = 0;
	vmcb12->control.exit_info_2 = 0;
	vmcb12->control.exit_int_info = 0;
	vmcb12->control.exit_int_info_err = 0;
	vmcb12->control.next_rip = copy->control.next_rip;
	vmcb12->control.event_inj = 0;
	vmcb12->control.event_inj_err = 0;
	vmcb12->control.int_ctl = copy->control.int_ctl;
	kvm_vcpu_unmap(vcpu, &map, true);
	return 0;
}

/*
 * Makes @vcpu the running vCPU, as a vCPU ioctl runs, for a loop that
 * unmaps dirty: that marks the page dirty in the running vCPU's memslot
 * (mark_page_dirty_in_slot() warns without one).  Unmapping dirty
 * pushes to a dirty ring, which nothing harvests here (KVM itself stops
 * at a soft-full ring before each entry): -EOPNOTSUPP with one.
 * gm_vcpu_unload() undoes it.
 */
static int gm_vcpu_load(struct kvm_vcpu *vcpu)
{
	if (READ_ONCE(vcpu->kvm->dirty_ring_size))
		return -EOPNOTSUPP;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	vcpu_load(vcpu);
	return 0;
}

static void gm_vcpu_unload(struct kvm_vcpu *vcpu)
{
	vcpu_put(vcpu);
	mutex_unlock(&vcpu->mutex);
}

static int gm_nested_loop(struct kvm_vcpu *vcpu, gfn_t vmcb_gfn, gfn_t msrpm,
			  u64 iterations, u64 *ns, bool *by_page)
{
	u32 words[ARRAY_SIZE(gm_passthrough_msrs)];
	u32 merged[ARRAY_SIZE(gm_passthrough_msrs)];
	struct gm_vmcb_copy *copy;
	int idx, nwords, ret;
	u64 i, start;

	copy = kzalloc(sizeof(*copy), GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	nwords = gm_msrpm_words(words);
	ret = gm_vcpu_load(vcpu);
	if (ret) {
		kfree(copy);
		return ret;
	}
	idx = srcu_read_lock(&vcpu->kvm->srcu);
	start = ktime_get_ns();
	for (i = 0; i < iterations; i++) {
		ret = gm_nested_once(vcpu, vmcb_gfn, gfn_to_gpa(msrpm), words,
				     nwords, copy, merged, by_page);
		if (ret)
			break;
		if ((i & 1023) == 1023) {
			ret = gm_probe_breathe(vcpu, &idx);
			if (ret)
				break;
		}
	}
	*ns = ktime_get_ns() - start;
	srcu_read_unlock(&vcpu->kvm->srcu, idx);
	gm_vcpu_unload(vcpu);
	kfree(copy);
	return ret;
}

static ssize_t gm_nested_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	unsigned long long vmcb_gfn, msrpm_gfn, iterations;
	bool by_page = false;
	struct file *vf;
	char kbuf[96];
	u64 ns = 0;
	int fd, ret;

	ret = gm_probe_args(ubuf, len, kbuf, sizeof(kbuf));
	if (ret)
		return ret;
	if (sscanf(kbuf, "%d %llu %llu %llu", &fd, &vmcb_gfn, &msrpm_gfn,
		   &iterations) != 4 || !iterations || iterations > (1 << 24))
		return -EINVAL;
	vf = gm_probe_vcpu(fd);
	if (IS_ERR(vf))
		return PTR_ERR(vf);
	ret = gm_nested_loop(vf->private_data, vmcb_gfn, msrpm_gfn, iterations,
			     &ns, &by_page);
	fput(vf);
	if (ret)
		return ret;
	gm_probe_set_result(ns, by_page);
	return len;
}

/*
 * A VMX MSR bitmap (SDM vol. 3C, 25.6.9): read bits of MSRs 0-1FFFh at
 * byte 0, of C0000000h-C0001FFFh at 400h, write bits 800h further on.
 * What vmx.h's vmx_test_msr_bitmap_read() and _write() index.
 */
static unsigned long *gm_vmx_msr_word(unsigned long *bitmap, u32 msr,
				       bool write, unsigned int *bit)
{
	u32 base = write ? 0x800 : 0;

	if (msr >= 0xc0000000) {
		base += 0x400;
		msr &= 0x1fff;
	}
	*bit = msr % BITS_PER_LONG;
	return bitmap + (base * 8 + msr) / BITS_PER_LONG;
}

/*
 * nested_vmx_set_msr_{read,write}_intercept(): vmcs02's bit of @msr is
 * set if vmcs01's (@l0) or L1's is.
 */
static void gm_vmx_merge_msr(unsigned long *l1, const unsigned long *l0,
			     unsigned long *merged, u32 msr, bool write)
{
	unsigned int bit;
	unsigned long *w1 = gm_vmx_msr_word(l1, msr, write, &bit);
	unsigned long *w02 = gm_vmx_msr_word(merged, msr, write, &bit);
	const unsigned long *w01 = l0 + (w02 - merged);

	if (test_bit(bit, w01) || test_bit(bit, w1))
		__set_bit(bit, w02);
	else
		__clear_bit(bit, w02);
}

/*
 * The MSRs 6.12's nested_vmx_prepare_msr_bitmap() merges on x86-64 for
 * an L1 without x2APIC virtualization (guestmap's bench gives none), with
 * the accesses it merges; its L0 passes the same through.
 */
static const struct {
	u32 msr;
	bool read;
} gm_vmx_merged_msrs[] = {
	{ MSR_FS_BASE, true }, { MSR_GS_BASE, true },
	{ MSR_KERNEL_GS_BASE, true }, { MSR_IA32_SPEC_CTRL, true },
	{ MSR_IA32_PRED_CMD, false }, { MSR_IA32_FLUSH_CMD, false },
};

/* vmcs01's MSR bitmap (L0's intercepts) and vmcs02's (the merge). */
struct gm_vmx_bitmaps {
	unsigned long l0[PAGE_SIZE / sizeof(long)];
	unsigned long merged[PAGE_SIZE / sizeof(long)];
};

/* The pages, in the order 6.12 maps them; the first three are held. */
enum {
	GM_VMX_APIC_ACCESS, GM_VMX_VAPIC, GM_VMX_PI_DESC, GM_VMX_HELD,
	GM_VMX_MSR_BITMAP = GM_VMX_HELD, GM_VMX_PAGES
};

static int gm_vmx_once(struct kvm_vcpu *vcpu, const gfn_t *gfns,
		       struct gm_vmx_bitmaps *b, bool *by_page)
{
	struct kvm_host_map map[GM_VMX_PAGES];
	int i, held, ret = 0;

	/*
	 * nested_get_vmcs12_pages(): map the three pages, held until the
	 * exit.  KVM would carry on without a PI descriptor or virtual-APIC
	 * page; here each must map.
	 */
	for (held = 0; held < GM_VMX_HELD; held++) {
		ret = kvm_vcpu_map(vcpu, gfns[held], &map[held]);
		if (ret)
			break;
		*by_page = map[held].page != KVM_UNMAPPED_PAGE;
	}

	/* nested_vmx_prepare_msr_bitmap(): map, merge, unmap clean. */
	if (!ret)
		ret = kvm_vcpu_map(vcpu, gfns[GM_VMX_MSR_BITMAP],
				   &map[GM_VMX_MSR_BITMAP]);
	if (!ret) {
		unsigned long *l1 = map[GM_VMX_MSR_BITMAP].hva;

		for (i = 0; i < ARRAY_SIZE(gm_vmx_merged_msrs); i++) {
			u32 msr = gm_vmx_merged_msrs[i].msr;

			if (gm_vmx_merged_msrs[i].read)
				gm_vmx_merge_msr(l1, b->l0, b->merged, msr,
						 false);
			gm_vmx_merge_msr(l1, b->l0, b->merged, msr, true);
		}
		kvm_vcpu_unmap(vcpu, &map[GM_VMX_MSR_BITMAP], false);
	}

	/*
	 * L2 runs; nested_vmx_vmexit() (or here, a failed entry) unmaps
	 * what the entry held, the APIC-access page clean.
	 */
	for (i = 0; i < held; i++)
		kvm_vcpu_unmap(vcpu, &map[i], i != GM_VMX_APIC_ACCESS);
	return ret;
}

static int gm_vmx_loop(struct kvm_vcpu *vcpu, const gfn_t *gfns,
		       u64 iterations, u64 *ns, bool *by_page)
{
	struct gm_vmx_bitmaps *b;
	int idx, ret;
	u64 i, start;

	/* L0 passes the merged MSRs through: its bits are clear. */
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	ret = gm_vcpu_load(vcpu);
	if (ret) {
		kfree(b);
		return ret;
	}
	idx = srcu_read_lock(&vcpu->kvm->srcu);
	start = ktime_get_ns();
	for (i = 0; i < iterations; i++) {
		ret = gm_vmx_once(vcpu, gfns, b, by_page);
		if (ret)
			break;
		if ((i & 1023) == 1023) {
			ret = gm_probe_breathe(vcpu, &idx);
			if (ret)
				break;
		}
	}
	*ns = ktime_get_ns() - start;
	srcu_read_unlock(&vcpu->kvm->srcu, idx);
	gm_vcpu_unload(vcpu);
	kfree(b);
	return ret;
}

static ssize_t gm_vmx_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	unsigned long long gfn[GM_VMX_PAGES], iterations;
	gfn_t gfns[GM_VMX_PAGES];
	bool by_page = false;
	struct file *vf;
	char kbuf[128];
	u64 ns = 0;
	int fd, i, ret;

	ret = gm_probe_args(ubuf, len, kbuf, sizeof(kbuf));
	if (ret)
		return ret;
	if (sscanf(kbuf, "%d %llu %llu %llu %llu %llu", &fd,
		   &gfn[GM_VMX_APIC_ACCESS], &gfn[GM_VMX_VAPIC],
		   &gfn[GM_VMX_PI_DESC], &gfn[GM_VMX_MSR_BITMAP],
		   &iterations) != 6 || !iterations || iterations > (1 << 24))
		return -EINVAL;
	for (i = 0; i < GM_VMX_PAGES; i++)
		gfns[i] = gfn[i];
	vf = gm_probe_vcpu(fd);
	if (IS_ERR(vf))
		return PTR_ERR(vf);
	ret = gm_vmx_loop(vf->private_data, gfns, iterations, &ns, &by_page);
	fput(vf);
	if (ret)
		return ret;
	gm_probe_set_result(ns, by_page);
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

static const struct file_operations gm_nested_fops = {
	.owner = THIS_MODULE,
	.read = gm_probe_read,
	.write = gm_nested_write,
};

static const struct file_operations gm_vmx_fops = {
	.owner = THIS_MODULE,
	.read = gm_probe_read,
	.write = gm_vmx_write,
};

static int __init gm_probe_init(void)
{
	gm_probe_dir = debugfs_create_dir("gm_kvm_probe", NULL);
	debugfs_create_file("classify", 0600, gm_probe_dir, NULL,
			    &gm_classify_fops);
	debugfs_create_file("map", 0600, gm_probe_dir, NULL, &gm_map_fops);
	debugfs_create_file("nested", 0600, gm_probe_dir, NULL,
			    &gm_nested_fops);
	debugfs_create_file("nested_vmx", 0600, gm_probe_dir, NULL,
			    &gm_vmx_fops);
	return 0;
}

static void __exit gm_probe_exit(void)
{
	debugfs_remove(gm_probe_dir);
}

module_init(gm_probe_init);
module_exit(gm_probe_exit);
MODULE_DESCRIPTION("guestmap test probe: exported symbols, kvm_vcpu_map, nested SVM and VMX");
MODULE_LICENSE("GPL");
