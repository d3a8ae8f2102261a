// SPDX-License-Identifier: GPL-2.0

//! The VMCB as VMRUN reads it (AMD APM vol. 2, appendix B, "Layout of
//! VMCB"): the offsets of the fields nested SVM uses, and [`Vmcb12`], the
//! copy of a guest's VMCB that every check reads, so that the guest
//! changing its VMCB meanwhile changes nothing (a time-of-check to
//! time-of-use race).
//!
//! Pure logic over bytes: the host crate tests the offsets against the
//! manual's table.

/// Bytes of the control area (APM table B-1: offsets 000h-3FFh).
pub(crate) const CONTROL_SIZE: usize = 0x400;
/// Bytes of the state save area of a guest without SEV-ES (APM table
/// B-2: offsets 400h-6E7h, the last field SPEC_CTRL at 6E0h).
pub(crate) const SAVE_SIZE: usize = 0x2e8;
/// Bytes copied from the guest's VMCB: both areas.
pub(crate) const COPY_SIZE: usize = CONTROL_SIZE + SAVE_SIZE;

/// Control area offsets (APM table B-1).
pub(crate) mod control {
    /// The intercept vector words, 4 bytes each.
    pub(crate) const INTERCEPTS: usize = 0x000;
    pub(crate) const IOPM_BASE_PA: usize = 0x040;
    pub(crate) const MSRPM_BASE_PA: usize = 0x048;
    pub(crate) const ASID: usize = 0x058;
    pub(crate) const INT_CTL: usize = 0x060;
    /// EXITCODE, 8 bytes (the kernel's exit_code and exit_code_hi).
    pub(crate) const EXIT_CODE: usize = 0x070;
    pub(crate) const EXIT_INFO_1: usize = 0x078;
    pub(crate) const EXIT_INFO_2: usize = 0x080;
    /// EXITINTINFO, 8 bytes with its error code.
    pub(crate) const EXIT_INT_INFO: usize = 0x088;
    pub(crate) const NESTED_CTL: usize = 0x090;
    /// EVENTINJ, 8 bytes with its error code.
    pub(crate) const EVENT_INJ: usize = 0x0a8;
    pub(crate) const NESTED_CR3: usize = 0x0b0;
}

/// State save area offsets, from the start of the VMCB (APM table B-2,
/// whose offsets are from 400h).
pub(crate) mod save {
    use super::CONTROL_SIZE;
    /// CS: selector, attributes (2 bytes each), limit, base.
    pub(crate) const CS: usize = CONTROL_SIZE + 0x010;
    /// The attribute word of CS.
    pub(crate) const CS_ATTRIB: usize = CS + 2;
    /// ES, CS, SS, DS: four segments of 16 bytes.
    pub(crate) const ES: usize = CONTROL_SIZE;
    pub(crate) const GDTR: usize = CONTROL_SIZE + 0x060;
    pub(crate) const IDTR: usize = CONTROL_SIZE + 0x080;
    pub(crate) const CPL: usize = CONTROL_SIZE + 0x0cb;
    pub(crate) const EFER: usize = CONTROL_SIZE + 0x0d0;
    pub(crate) const CR4: usize = CONTROL_SIZE + 0x148;
    pub(crate) const CR3: usize = CONTROL_SIZE + 0x150;
    pub(crate) const CR0: usize = CONTROL_SIZE + 0x158;
    pub(crate) const DR7: usize = CONTROL_SIZE + 0x160;
    pub(crate) const DR6: usize = CONTROL_SIZE + 0x168;
    pub(crate) const RFLAGS: usize = CONTROL_SIZE + 0x170;
    pub(crate) const RIP: usize = CONTROL_SIZE + 0x178;
    pub(crate) const RSP: usize = CONTROL_SIZE + 0x1d8;
    pub(crate) const RAX: usize = CONTROL_SIZE + 0x1f8;
    pub(crate) const CR2: usize = CONTROL_SIZE + 0x240;

    /// The bytes of the save area #VMEXIT writes back, as
    /// nested_svm_vmexit() writes them: ES, CS, SS, DS, GDTR, IDTR, CPL,
    /// EFER, CR4 to RIP (CR4, CR3, CR0, DR7, DR6, RFLAGS, RIP), RSP, RAX
    /// and CR2, as (offset, length).  The rest, the state VMLOAD and
    /// VMSAVE move, is L1's.
    pub(crate) const VMEXIT_WRITES: [(usize, usize); 9] = [
        (ES, 4 * 16),
        (GDTR, 16),
        (IDTR, 16),
        (CPL, 1),
        (EFER, 8),
        (CR4, RIP + 8 - CR4),
        (RSP, 8),
        (RAX, 8),
        (CR2, 8),
    ];
}

/// An intercept: its bit in the vector of 32-bit words at offset 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Intercept(pub(crate) u32);

impl Intercept {
    /// Word 3 bit 1 (offset 00Ch): NMI.
    pub(crate) const NMI: Intercept = Intercept(3 * 32 + 1);
    /// Word 3 bit 27: IOIO_PROT, IN/OUT by the I/O permission map.
    pub(crate) const IOIO_PROT: Intercept = Intercept(3 * 32 + 27);
    /// Word 3 bit 28: MSR_PROT, RDMSR/WRMSR by the MSR permission map.
    pub(crate) const MSR_PROT: Intercept = Intercept(3 * 32 + 28);
    /// Word 4 bit 0 (offset 010h): VMRUN.
    pub(crate) const VMRUN: Intercept = Intercept(4 * 32);
}

/// `SVM_NESTED_CTL_NP_ENABLE`: nested paging, bit 0 of NESTED_CTL.
pub(crate) const NP_ENABLE: u64 = 1 << 0;
/// `V_NMI_ENABLE_MASK`: virtual NMI, bit 26 of the V_INTR word (INT_CTL).
pub(crate) const V_NMI_ENABLE: u32 = 1 << 26;
/// Segment attribute bits (APM 15.5.1, the VMCB's compressed form of a
/// descriptor's bits 55:52 and 47:40): L, bit 9; D/B, bit 10.
pub(crate) const SEG_L: u16 = 1 << 9;
/// D/B.
pub(crate) const SEG_DB: u16 = 1 << 10;
/// VMEXIT_INVALID, the exit code of a VMRUN that failed its consistency
/// checks (APM appendix C): -1, as exit_code and exit_code_hi.
pub(crate) const VMEXIT_INVALID: u64 = u64::MAX;

/// A copy of a guest's VMCB: its control and save areas, as they were
/// when it was copied.
#[derive(Clone)]
pub(crate) struct Vmcb12 {
    /// The control area, then the save area.
    pub(crate) bytes: [u8; COPY_SIZE],
}

impl Default for Vmcb12 {
    fn default() -> Self {
        Vmcb12 {
            bytes: [0; COPY_SIZE],
        }
    }
}

impl Vmcb12 {
    /// The bytes, to copy the guest's VMCB into and out of.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8; COPY_SIZE] {
        &mut self.bytes
    }

    /// The bytes.
    pub(crate) fn bytes(&self) -> &[u8; COPY_SIZE] {
        &self.bytes
    }

    fn get<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut out = [0; N];
        if let Some(b) = self.bytes.get(off..off + N) {
            out.copy_from_slice(b);
        }
        out
    }

    fn put(&mut self, off: usize, val: &[u8]) {
        if let Some(b) = self.bytes.get_mut(off..off + val.len()) {
            b.copy_from_slice(val);
        }
    }

    /// The u64 at `off` (little-endian, as x86 stores it).
    pub(crate) fn u64(&self, off: usize) -> u64 {
        u64::from_le_bytes(self.get(off))
    }

    /// The u32 at `off`.
    pub(crate) fn u32(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.get(off))
    }

    /// The u16 at `off`.
    pub(crate) fn u16(&self, off: usize) -> u16 {
        u16::from_le_bytes(self.get(off))
    }

    /// Stores `val` at `off`.
    pub(crate) fn set_u64(&mut self, off: usize, val: u64) {
        self.put(off, &val.to_le_bytes());
    }

    /// Stores `val` at `off`.
    #[cfg(test)]
    pub(crate) fn set_u32(&mut self, off: usize, val: u32) {
        self.put(off, &val.to_le_bytes());
    }

    /// Stores `val` at `off`.
    #[cfg(test)]
    pub(crate) fn set_u16(&mut self, off: usize, val: u16) {
        self.put(off, &val.to_le_bytes());
    }

    /// Whether intercept `i` is set.
    pub(crate) fn intercepts(&self, i: Intercept) -> bool {
        let word = self.u32(control::INTERCEPTS + 4 * (i.0 / 32) as usize);
        word & (1 << (i.0 % 32)) != 0
    }

    /// Sets or clears intercept `i`.
    #[cfg(test)]
    pub(crate) fn set_intercept(&mut self, i: Intercept, on: bool) {
        let off = control::INTERCEPTS + 4 * (i.0 / 32) as usize;
        let bit = 1 << (i.0 % 32);
        let word = self.u32(off);
        self.set_u32(off, if on { word | bit } else { word & !bit });
    }

    /// The MSR permission map's address as VMRUN uses it: bits 11:0 are
    /// ignored (APM 15.11), as KVM masks them when it copies the field.
    pub(crate) fn msrpm_base(&self) -> u64 {
        self.u64(control::MSRPM_BASE_PA) & !0xfff
    }

    /// The I/O permission map's address, bits 11:0 ignored.
    pub(crate) fn iopm_base(&self) -> u64 {
        self.u64(control::IOPM_BASE_PA) & !0xfff
    }
}
