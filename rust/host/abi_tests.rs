// SPDX-License-Identifier: GPL-2.0

//! Tests of `src/abi.rs`.  Expected ioctl numbers are worked out from the
//! encoding in include/uapi/asm-generic/ioctl.h, not from the code.

use crate::{
    abi::{api_version, Command, API_VERSION},
    uapi,
};
use core::mem::{offset_of, size_of};

// asm-generic/ioctl.h: nr in bits 0-7, type 8-15, size 16-29, dir 30-31.
const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

const fn ioc(dir: u32, ty: u32, nr: u32, size: u32) -> u32 {
    (dir << 30) | (size << 16) | (ty << 8) | nr
}

#[test]
fn get_api_version_number_is_ior_b9_00_16() {
    // _IOR(0xB9, 0x00, struct of 16 bytes) = 0x8010_B900.
    assert_eq!(uapi::GUESTMAP_GET_API_VERSION, 0x8010_B900);
    assert_eq!(uapi::GUESTMAP_GET_API_VERSION, ioc(IOC_READ, 0xB9, 0, 16));
}

#[test]
fn api_version_struct_has_the_documented_layout() {
    // Two __u32 then a naturally aligned __u64: no padding anywhere, the
    // same on 32- and 64-bit user space.
    assert_eq!(size_of::<uapi::guestmap_api_version>(), 16);
    assert_eq!(offset_of!(uapi::guestmap_api_version, version), 0);
    assert_eq!(offset_of!(uapi::guestmap_api_version, page_size), 4);
    assert_eq!(offset_of!(uapi::guestmap_api_version, caps), 8);
}

#[test]
fn decodes_get_api_version() {
    assert_eq!(Command::decode(0x8010_B900), Some(Command::GetApiVersion));
}

#[test]
fn rejects_same_nr_with_other_direction_or_size() {
    for cmd in [
        ioc(IOC_NONE, 0xB9, 0, 0),
        ioc(IOC_WRITE, 0xB9, 0, 16),
        ioc(IOC_READ | IOC_WRITE, 0xB9, 0, 16),
        ioc(IOC_READ, 0xB9, 0, 4),
        ioc(IOC_READ, 0xB9, 0, 24),
    ] {
        assert_eq!(Command::decode(cmd), None, "cmd {cmd:#x}");
    }
}

#[test]
fn rejects_other_types_and_numbers() {
    for cmd in [
        ioc(IOC_READ, 0xB9, 1, 16),
        ioc(IOC_READ, 0xB9, 0xff, 16),
        // KVM's type with our nr and size.
        ioc(IOC_READ, 0xAE, 0, 16),
        // KVM_GET_API_VERSION, _IO(0xAE, 0x00).
        0x0000_AE00,
        // TCGETS.
        0x5401,
        0,
        u32::MAX,
    ] {
        assert_eq!(Command::decode(cmd), None, "cmd {cmd:#x}");
    }
}

#[test]
fn api_version_reports_version_1_page_size_and_the_mirror_cap() {
    let v = api_version(4096);
    assert_eq!(API_VERSION, 1);
    assert_eq!((v.version, v.page_size, v.caps), (1, 4096, 0b11));
    assert_eq!(api_version(16384).page_size, 16384);
}

#[test]
fn mirror_commands_have_their_numbers_and_layouts() {
    use uapi::*;
    // Every field naturally aligned, no padding, sizes as summed by hand.
    assert_eq!(size_of::<guestmap_memslot>(), 4 + 4 + 8 + 8 + 8);
    assert_eq!(offset_of!(guestmap_memslot, guest_phys_addr), 8);
    assert_eq!(offset_of!(guestmap_memslot, userspace_addr), 24);
    assert_eq!(size_of::<guestmap_fault>(), 8 + 8 + 4 + 4);
    assert_eq!(size_of::<guestmap_stats>(), 8 * (8 + 9));
    assert_eq!(offset_of!(guestmap_stats, entries_present), 8 * 16);
    assert_eq!(size_of::<guestmap_query>(), 24);
    assert_eq!(size_of::<guestmap_rw>(), 24);
    assert_eq!(size_of::<guestmap_classify>(), 24);
    assert_eq!(offset_of!(guestmap_classify, pfn), 16);
    assert_eq!(size_of::<guestmap_access>(), 56);
    assert_eq!(offset_of!(guestmap_access, old), 32);
    assert_eq!(offset_of!(guestmap_access, via), 52);
    assert_eq!(size_of::<guestmap_bench>(), 32);
    let cases = [
        (
            GUESTMAP_SET_MEMSLOT,
            ioc(IOC_WRITE, 0xB9, 1, 32),
            Command::SetMemslot,
        ),
        (
            GUESTMAP_MIRROR_FAULT,
            ioc(IOC_WRITE, 0xB9, 2, 24),
            Command::MirrorFault,
        ),
        (
            GUESTMAP_GET_STATS,
            ioc(IOC_READ, 0xB9, 3, 136),
            Command::GetStats,
        ),
        (GUESTMAP_QUERY, ioc(IOC_WRITE, 0xB9, 4, 24), Command::Query),
        (
            GUESTMAP_READ_GUEST,
            ioc(IOC_WRITE, 0xB9, 5, 24),
            Command::ReadGuest,
        ),
        (
            GUESTMAP_WRITE_GUEST,
            ioc(IOC_WRITE, 0xB9, 6, 24),
            Command::WriteGuest,
        ),
    ];
    for (num, want, cmd) in cases {
        assert_eq!(num, want, "{cmd:?}");
        assert_eq!(Command::decode(num), Some(cmd));
        // The same nr read instead of written, or with another size.
        assert_eq!(Command::decode(num ^ (3 << 30)), None);
        assert_eq!(Command::decode(num + (8 << 16)), None);
    }
}
