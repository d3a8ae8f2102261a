// SPDX-License-Identifier: GPL-2.0
/* The calling task, and the clock (rust/kernel/task.rs). */
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>

#include "helpers.h"

int gm_current_tgid(void)
{
	return task_tgid_nr(current);
}

void gm_cond_resched(void)
{
	cond_resched();
}

u64 gm_ktime_ns(void)
{
	return ktime_get_ns();
}
