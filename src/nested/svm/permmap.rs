// SPDX-License-Identifier: GPL-2.0

//! The permission maps of SVM: which RDMSR/WRMSR and which IN/OUT of a
//! guest exit.
//!
//! The MSR permission map (MSRPM, AMD APM vol. 2, 15.11) has three 2 KiB
//! ranges, for MSRs 0-1FFFh, C0000000h-C0001FFFh and C0010000h-C0011FFFh,
//! with two bits per MSR: the low one intercepts RDMSR, the high one
//! WRMSR; an MSR in no range always exits.  The I/O permission map (IOPM,
//! 15.10.1) has one bit per port, and an access of 2 or 4 bytes exits if
//! the bit of any port it touches is set: it may read two bytes of the
//! map, and one at 64 Ki - 1 reaches into the map's third page.
//!
//! Pure logic: the host crate tests the bit maths against the manual.

/// The first MSR of each range.
const MSR_RANGES: [u32; 3] = [0, 0xc000_0000, 0xc001_0000];
/// MSRs per range: 2 KiB of 2 bits each.
const MSRS_PER_RANGE: u32 = 2048 * 8 / 2;
/// Bytes of one range.
const RANGE_BYTES: usize = 2048;
/// 32-bit words of the three ranges.
pub(crate) const MSRPM_WORDS: usize = 3 * RANGE_BYTES / 4;
/// The words of the x2APIC MSRs (800h-8FFh), which KVM intercepts for a
/// nested guest whatever L0 and L1 allow (is_x2apic_msrpm_offset()).
const X2APIC_WORDS: core::ops::RangeInclusive<usize> = (0x800 / 16)..=(0x8ff / 16);

/// Where an MSR's two bits are in the MSRPM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MsrBits {
    /// The 32-bit word, as `svm_msrpm_offset()` numbers it; the word's
    /// byte offset in the map is `4 * word`.
    pub(crate) word: usize,
    /// The RDMSR bit in the word; the WRMSR bit is the next one.
    pub(crate) read_bit: u32,
}

impl MsrBits {
    /// The bit for a read (`write` false) or a write, as a mask.
    pub(crate) fn mask(&self, write: bool) -> u32 {
        1 << (self.read_bit + u32::from(write))
    }
}

/// Where `msr`'s bits are, or `None` for an MSR in no range.
pub(crate) fn msr_bits(msr: u32) -> Option<MsrBits> {
    MSR_RANGES.iter().enumerate().find_map(|(i, &base)| {
        let n = msr.checked_sub(base).filter(|n| *n < MSRS_PER_RANGE)?;
        // Four MSRs per byte, sixteen per word.
        let byte = n as usize / 4 + i * RANGE_BYTES;
        Some(MsrBits {
            word: byte / 4,
            read_bit: 2 * (n % 16),
        })
    })
}

/// The bytes of the IOPM an IN/OUT reads, as nested_svm_intercept_ioio()
/// reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IoBits {
    /// Byte offset in the map.
    pub(crate) offset: u64,
    /// Bytes to read: 2 when the ports cross a byte, else 1.
    pub(crate) len: usize,
    /// The ports' bits in those bytes, read little-endian.
    pub(crate) mask: u16,
}

/// Where the bits of an access of `size` bytes (1, 2 or 4) at `port`
/// are; `None` for another size or a port above FFFFh.
pub(crate) fn io_bits(port: u32, size: u32) -> Option<IoBits> {
    if !matches!(size, 1 | 2 | 4) || port > 0xffff {
        return None;
    }
    let start = port % 8;
    Some(IoBits {
        offset: u64::from(port / 8),
        len: if start + size > 8 { 2 } else { 1 },
        mask: ((0xf_u16 >> (4 - size)) << start),
    })
}

/// 64-bit words of a bitmap with one bit per map word.
pub(crate) const OPEN_WORDS: usize = MSRPM_WORDS / 64;

/// An MSR permission map's three ranges, as 32-bit words, and which words
/// let something through: a merge need visit only those, as KVM's visits
/// only the words of its pass-through MSRs (`msrpm_offsets`).
///
/// The fields are public only so that the kernel can initialise a map in
/// place; they change only through the methods, which keep `open` in
/// step with `words`.
#[derive(Clone)]
pub(crate) struct MsrMap {
    /// The words, as the CPU reads them.
    pub(crate) words: [u32; MSRPM_WORDS],
    /// Bit `i`: word `i` is not all ones.
    pub(crate) open: [u64; OPEN_WORDS],
}

/// The indices of the set bits of `bitmap`.
fn set_bits(bitmap: [u64; OPEN_WORDS]) -> impl Iterator<Item = usize> {
    bitmap.into_iter().enumerate().flat_map(|(i, mut b)| {
        core::iter::from_fn(move || {
            if b == 0 {
                return None;
            }
            let bit = b.trailing_zeros() as usize;
            b &= b - 1;
            Some(i * 64 + bit)
        })
    })
}

impl MsrMap {
    /// A map that intercepts every access.
    #[cfg(test)]
    pub(crate) fn intercept_all() -> MsrMap {
        MsrMap::from_words([u32::MAX; MSRPM_WORDS])
    }

    /// The map with these words.
    #[cfg(test)]
    pub(crate) fn from_words(words: [u32; MSRPM_WORDS]) -> MsrMap {
        let mut map = MsrMap {
            words,
            open: [0; OPEN_WORDS],
        };
        for w in 0..MSRPM_WORDS {
            map.store(w, words[w]);
        }
        map
    }

    /// Stores word `w`, keeping `open` in step.
    fn store(&mut self, w: usize, val: u32) {
        let (Some(word), Some(bits)) = (self.words.get_mut(w), self.open.get_mut(w / 64)) else {
            return;
        };
        *word = val;
        if val == u32::MAX {
            *bits &= !(1 << (w % 64));
        } else {
            *bits |= 1 << (w % 64);
        }
    }

    /// Makes every word intercept everything again.
    fn close_all(&mut self) {
        for w in set_bits(self.open) {
            self.store(w, u32::MAX);
        }
    }

    /// Makes accesses to `msr` exit (`read`, `write`) or not; `None` for
    /// an MSR in no range, which always exits.
    pub(crate) fn set(&mut self, msr: u32, read: bool, write: bool) -> Option<()> {
        let bits = msr_bits(msr)?;
        let mut w = *self.words.get(bits.word)?;
        for (on, mask) in [(read, bits.mask(false)), (write, bits.mask(true))] {
            if on {
                w |= mask;
            } else {
                w &= !mask;
            }
        }
        self.store(bits.word, w);
        Some(())
    }

    /// Whether a RDMSR (`write` false) or WRMSR of `msr` exits.
    pub(crate) fn intercepts(&self, msr: u32, write: bool) -> bool {
        match msr_bits(msr) {
            Some(bits) => self
                .words
                .get(bits.word)
                .map_or(true, |w| w & bits.mask(write) != 0),
            None => true,
        }
    }

    /// Makes this map a copy of `other`.
    pub(crate) fn copy_from(&mut self, other: &MsrMap) {
        self.close_all();
        for w in set_bits(other.open) {
            self.store(w, other.words[w]);
        }
    }

    /// Makes this the map the CPU uses while L1's guest runs: L0's own
    /// intercepts `l0` OR-ed with L1's map, whose word `i` `read_l1(i)`
    /// reads from guest memory (`None` if it cannot), as
    /// nested_svm_vmrun_msrpm() merges them.  Only the words where L0
    /// lets something through are read: elsewhere the result intercepts
    /// everything whatever L1 says.  The x2APIC MSRs are intercepted
    /// always.  Merged in place (a kernel stack has no room for a second
    /// map): `Err` if a word could not be read, with the map partly
    /// merged, as KVM's is then; the vCPU does not enter the guest.
    pub(crate) fn merge(
        &mut self,
        l0: &MsrMap,
        mut read_l1: impl FnMut(usize) -> Option<u32>,
    ) -> Result<(), ()> {
        self.close_all();
        for w in set_bits(l0.open) {
            if X2APIC_WORDS.contains(&w) {
                continue;
            }
            let val = l0.words[w] | read_l1(w).ok_or(())?;
            self.store(w, val);
        }
        Ok(())
    }
}
