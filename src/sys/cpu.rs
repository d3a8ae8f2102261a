// SPDX-License-Identifier: GPL-2.0

//! The host CPU's features, as `c/cpu.c` reads them.

use super::bindings::gm_host_cpu_features;

/// The host's `GM_FEAT_*` features.
pub(crate) fn host_features() -> u32 {
    // SAFETY: reads the boot CPU's capability words, which are fixed once
    // the kernel has booted; no argument, no state.
    unsafe { gm_host_cpu_features() }
}
