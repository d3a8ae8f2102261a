// SPDX-License-Identifier: GPL-2.0
#include <linux/gfp.h>
#include <linux/mutex.h>
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

void *gm_get_zeroed_page_account(void)
{
	return (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
}

void gm_free_page(void *addr)
{
	free_page((unsigned long)addr);
}

unsigned long gm_task_size(void)
{
	return TASK_SIZE;
}

pid_t gm_current_tgid(void)
{
	return task_tgid_nr(current);
}

/* One lockdep class for every context's mutex (rust/kernel/mutex.rs). */
void gm_mutex_init(struct mutex *lock)
{
	mutex_init(lock);
}

void gm_mutex_lock(struct mutex *lock)
{
	mutex_lock(lock);
}

int gm_mutex_lock_killable(struct mutex *lock)
{
	return mutex_lock_killable(lock);
}

void gm_mutex_unlock(struct mutex *lock)
{
	mutex_unlock(lock);
}

void gm_cond_resched(void)
{
	cond_resched();
}
