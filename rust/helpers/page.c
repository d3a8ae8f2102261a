// SPDX-License-Identifier: GPL-2.0
/* Single pages from the page allocator (rust/kernel/page_box.rs). */
#include <linux/gfp.h>

#include "helpers.h"

void *gm_get_zeroed_page_account(void)
{
	return (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
}

void gm_free_page(void *addr)
{
	free_page((unsigned long)addr);
}
