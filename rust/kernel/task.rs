// SPDX-License-Identifier: GPL-2.0

//! The calling task, and the clock.
//!
//! C header: [`include/linux/sched.h`](srctree/include/linux/sched.h)

use super::bindings::{gm_cond_resched, gm_current_tgid, gm_ktime_ns};

/// Gives the CPU to other tasks if they need it: long loops call it, as
/// the kernel is not preemptible everywhere.  May sleep.
pub(crate) fn cond_resched() {
    // SAFETY: may be called from any sleepable context, which all callers
    // are (they hold only mutexes).
    unsafe { gm_cond_resched() };
}

/// The calling task's process id (thread-group id), in the initial pid
/// namespace: what names the process in logs and in debugfs.
pub(crate) fn current_tgid() -> i32 {
    // SAFETY: reads the calling task's own tgid.
    unsafe { gm_current_tgid() }
}

/// Monotonic time in nanoseconds (`ktime_get_ns()`).
// A library function: not every build of the crate times anything.
#[allow(dead_code)]
pub(crate) fn ktime_ns() -> u64 {
    // SAFETY: reads the clock.
    unsafe { gm_ktime_ns() }
}
