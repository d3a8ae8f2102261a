// SPDX-License-Identifier: GPL-2.0
/*
 * Page-table pages of a secondary MMU (rust/kernel/page_box.rs): single
 * zeroed pages, charged to the allocating task's memory cgroup, and
 * counted in NR_SECONDARY_PAGETABLE ("SecPageTables" in /proc/meminfo)
 * while they are linked into a table, as KVM's tdp_account_mmu_page()
 * counts its TDP pages.
 */
#include <linux/gfp.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/vmstat.h>

#include "helpers.h"

void *gm_get_zeroed_page_account(void)
{
	return (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
}

void gm_free_page(void *addr)
{
	free_page((unsigned long)addr);
}

void gm_account_pgtable_page(void *addr, int nr)
{
	mod_lruvec_page_state(virt_to_page(addr), NR_SECONDARY_PAGETABLE, nr);
}
