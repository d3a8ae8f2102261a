// SPDX-License-Identifier: GPL-2.0
/*
 * The interval-notifier inlines rust/kernel/mmu_notifier.rs needs, and
 * what an invalidation's range says that a callback cannot read itself.
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_notifier.h>

#include "helpers.h"

unsigned long gm_interval_read_begin(struct mmu_interval_notifier *mni)
{
	return mmu_interval_read_begin(mni);
}

bool gm_interval_read_retry(struct mmu_interval_notifier *mni,
			    unsigned long seq)
{
	return mmu_interval_read_retry(mni, seq);
}

void gm_interval_set_seq(struct mmu_interval_notifier *mni,
			 unsigned long seq)
{
	mmu_interval_set_seq(mni, seq);
}

bool gm_range_blockable(const struct mmu_notifier_range *range)
{
	return mmu_notifier_range_blockable(range);
}

/*
 * mprotect(PROT_NONE) and mprotect(PROT_READ) both send
 * MMU_NOTIFY_PROTECTION_VMA.  Every sender of that event (mprotect, NUMA
 * hinting, userfaultfd write-protect) holds the mmap lock and has already
 * set the new vm_flags, so the vma says which it is.
 */
bool gm_range_still_readable(const struct mmu_notifier_range *range)
{
	struct vm_area_struct *vma;

	if (range->event != MMU_NOTIFY_PROTECTION_VMA)
		return false;
	mmap_assert_locked(range->mm);
	vma = vma_lookup(range->mm, range->start);
	return vma && (vma->vm_flags & VM_READ);
}
