// SPDX-License-Identifier: GPL-2.0
/* Address-space references and limits (rust/kernel/mm.rs). */
#include <linux/sched.h>
#include <linux/sched/mm.h>

#include "helpers.h"

struct mm_struct *gm_current_mm(void)
{
	return current->mm;
}

void gm_mmgrab(struct mm_struct *mm)
{
	mmgrab(mm);
}

void gm_mmdrop(struct mm_struct *mm)
{
	mmdrop(mm);
}

void gm_mmget(struct mm_struct *mm)
{
	mmget(mm);
}

bool gm_mmget_not_zero(struct mm_struct *mm)
{
	return mmget_not_zero(mm);
}

void gm_mmput(struct mm_struct *mm)
{
	mmput(mm);
}

unsigned long gm_task_size(void)
{
	return TASK_SIZE;
}
