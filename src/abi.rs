// SPDX-License-Identifier: GPL-2.0

//! The ioctl commands of `/dev/guestmap`, decoded.
//!
//! Pure logic over the UAPI: it uses only `core` and [`crate::uapi`], so
//! the host crate in `rust/host` unit-tests it with `cargo test`.

use crate::uapi;

/// The API version this module implements.
pub(crate) const API_VERSION: u32 = uapi::GUESTMAP_API_VERSION;

/// A command of the ioctl ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// `GUESTMAP_GET_API_VERSION`.
    GetApiVersion,
}

impl Command {
    /// Decodes an ioctl number, or `None` if the number is not ours.
    ///
    /// The whole number must match, not just its `nr` field: the same `nr`
    /// with another size or direction is a command of an older or newer ABI
    /// that this module does not implement, and must fail with `ENOTTY`
    /// rather than be misread.
    pub(crate) fn decode(cmd: u32) -> Option<Self> {
        match cmd {
            uapi::GUESTMAP_GET_API_VERSION => Some(Self::GetApiVersion),
            _ => None,
        }
    }
}

/// What `GUESTMAP_GET_API_VERSION` reports on a host with `page_size`.
pub(crate) fn api_version(page_size: u32) -> uapi::guestmap_api_version {
    uapi::guestmap_api_version {
        version: API_VERSION,
        page_size,
        // Version 1 defines no optional capability.
        caps: 0,
    }
}
