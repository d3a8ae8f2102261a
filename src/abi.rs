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
    /// `GUESTMAP_SET_MEMSLOT`.
    SetMemslot,
    /// `GUESTMAP_MIRROR_FAULT`.
    MirrorFault,
    /// `GUESTMAP_GET_STATS`.
    GetStats,
    /// `GUESTMAP_QUERY`.
    Query,
    /// `GUESTMAP_READ_GUEST`.
    ReadGuest,
    /// `GUESTMAP_WRITE_GUEST`.
    WriteGuest,
    /// `GUESTMAP_CLASSIFY`.
    Classify,
    /// `GUESTMAP_ACCESS`.
    Access,
    /// `GUESTMAP_BENCH`.
    Bench,
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
            uapi::GUESTMAP_SET_MEMSLOT => Some(Self::SetMemslot),
            uapi::GUESTMAP_MIRROR_FAULT => Some(Self::MirrorFault),
            uapi::GUESTMAP_GET_STATS => Some(Self::GetStats),
            uapi::GUESTMAP_QUERY => Some(Self::Query),
            uapi::GUESTMAP_READ_GUEST => Some(Self::ReadGuest),
            uapi::GUESTMAP_WRITE_GUEST => Some(Self::WriteGuest),
            uapi::GUESTMAP_CLASSIFY => Some(Self::Classify),
            uapi::GUESTMAP_ACCESS => Some(Self::Access),
            uapi::GUESTMAP_BENCH => Some(Self::Bench),
            _ => None,
        }
    }
}

/// What `GUESTMAP_GET_API_VERSION` reports on a host with `page_size`.
pub(crate) fn api_version(page_size: u32) -> uapi::guestmap_api_version {
    uapi::guestmap_api_version {
        version: API_VERSION,
        page_size,
        caps: (uapi::GUESTMAP_CAP_MIRROR | uapi::GUESTMAP_CAP_MAP) as u64,
    }
}
