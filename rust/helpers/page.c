// SPDX-License-Identifier: GPL-2.0
/*
 * Page-table pages of a secondary MMU (rust/kernel/page_box.rs): single
 * zeroed pages, charged to the allocating task's memory cgroup and counted
 * in NR_SECONDARY_PAGETABLE ("SecPageTables" in /proc/meminfo), as KVM's
 * kvm_account_pgtable_pages() counts its shadow and TDP pages.
 */
#include <linux/gfp.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/vmstat.h>

#include "helpers.h"

void *gm_alloc_pgtable_page(void)
{
	void *addr = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

	if (addr)
		mod_lruvec_page_state(virt_to_page(addr),
				      NR_SECONDARY_PAGETABLE, 1);
	return addr;
}

void gm_free_pgtable_page(void *addr)
{
	mod_lruvec_page_state(virt_to_page(addr), NR_SECONDARY_PAGETABLE, -1);
	free_page((unsigned long)addr);
}
