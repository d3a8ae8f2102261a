// SPDX-License-Identifier: GPL-2.0

//! Capabilities of the calling task.
//!
//! C header: [`include/linux/capability.h`](srctree/include/linux/capability.h)

use kernel::bindings;

/// Whether the calling task has `CAP_SYS_ADMIN` (in the initial user
/// namespace).  Like `capable()`, a `true` answer is audited and marks the
/// task as having used the privilege.
pub(crate) fn capable_sys_admin() -> bool {
    // SAFETY: capable() only looks at the current task's credentials.
    unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as i32) }
}
