// SPDX-License-Identifier: GPL-2.0

//! The ioctl ABI: bindgen's rendering of `include/uapi/linux/guestmap.h`,
//! and of `guestmap_test.h`, the test build's operations.
//!
//! `uapi_generated.rs` is written by the build (`Kbuild` for the module,
//! `rust/host/build.rs` for the host tests) and never edited or committed.

#[allow(
    dead_code,
    non_camel_case_types,
    non_upper_case_globals,
    unreachable_pub,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]
mod generated {
    include!("uapi_generated.rs");
}
pub(crate) use generated::*;

use kernel::types::{AsBytes, FromBytes};

/// Declares UAPI structs safe to copy from and to user space as bytes.
///
/// The size given with each type is the sum of its field sizes: the
/// assertion fails the build if the header ever gains implicit padding,
/// which would copy uninitialised kernel bytes out to user space.
macro_rules! impl_user_bytes {
    ($($t:ident = $fields_size:expr),* $(,)?) => {$(
        const _: () = assert!(core::mem::size_of::<$t>() == $fields_size);
        // SAFETY: the fields are integers, any bit pattern is valid, and
        // there is no padding (asserted above).
        unsafe impl FromBytes for $t {}
        // SAFETY: as above: every byte belongs to an initialised integer.
        unsafe impl AsBytes for $t {}
    )*};
}

impl_user_bytes!(
    guestmap_api_version = 4 + 4 + 8,
    guestmap_memslot = 4 + 4 + 8 + 8 + 8,
    guestmap_fault = 8 + 8 + 4 + 4,
    guestmap_stats = 8 * (GUESTMAP_NR_EVENTS as usize + 13),
    guestmap_query = 8 * 3,
    guestmap_rw = 8 * 3,
    guestmap_classify = 8 + 4 + 4 + 8,
    guestmap_access = 8 * 3 + 4 * 2 + 8 * 2 + 4 * 2,
    guestmap_bench = 8 + 4 + 4 + 8 + 8 + 4 + 4,
    guestmap_cpuid_entry = 4 * 6,
    guestmap_svm_vcpu = 4 + 4 + 8 + 4 + 4,
    guestmap_svm_l1 = 4 + 4 + 8 * 3 + 4 + 4,
    guestmap_svm_l0_msr = 4 * 4,
    guestmap_svm_vmrun = 4 + 4 + 8 + 4 * 4,
    guestmap_svm_intercept = 4 * 6,
    guestmap_svm_vmexit = 4 + 4 + 8 * 4,
    guestmap_vmx_msr = 4 + 4 + 8,
    guestmap_vmx_vcpu = 4 + 4 + 8 + 4 + 4 + 8,
    guestmap_vmx_l1 = 4 + 4 + 8 * 4 + 4 + 4,
    guestmap_vmx_insn = 4 + 4 + 8 + 8 + 4 * 4,
    guestmap_vmx_op = 4 + 4 + 8 + 8 + 4 + 4,
    guestmap_walk = 8 * 5 + 4 * 4 + 8 * 2 + 4 * 2 + 8 + 8 * 5 + 4 * 2,
);
