// SPDX-License-Identifier: GPL-2.0

//! The MSR bitmap of VMX: which RDMSR/WRMSR of a guest exit.
//!
//! The bitmap (Intel SDM vol. 3C, 25.6.9 "MSR-Bitmap Address") is a
//! 4 KiB page of four 1 KiB bitmaps with one bit per MSR: reads of MSRs
//! 0-1FFFh at byte 0, reads of C0000000h-C0001FFFh at 1024, writes of the
//! low range at 2048 and of the high range at 3072.  By 26.1.3, a RDMSR
//! or WRMSR exits if the "use MSR bitmaps" processor-based control
//! (bit 28) is 0, if ECX is in neither range, or if ECX's bit is 1.
//!
//! The x2APIC MSRs 800h-8FFh follow the same rule: "virtualize x2APIC
//! mode" changes only what an access that does not exit does.  So the
//! logic here has no case for them; the bits L0 gives them are its own
//! choice, made where L0 builds its bitmap (KVM's depend on APICv:
//! vmx_update_msr_bitmap_x2apic()).
//!
//! Pure logic: the host crate tests the bit maths against the manual.

/// Bytes of each of the four bitmaps.
const REGION_BYTES: usize = 1024;
/// MSRs per range: one bit each, 2000h.
const MSRS_PER_RANGE: u32 = REGION_BYTES as u32 * 8;
/// The first MSR of the high range.
const HIGH_BASE: u32 = 0xc000_0000;
/// 64-bit words of the page.  KVM reads L1's bitmap as `unsigned long`s
/// through its mapping, so a merge reads L1's page a word at a time.
pub(crate) const MSR_BITMAP_WORDS: usize = 4 * REGION_BYTES / 8;

/// Where an MSR's bit for a read or a write is in the bitmap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MsrBit {
    /// Byte offset in the page, the byte nested_vmx_exit_handled_msr()
    /// reads.
    pub(crate) byte: usize,
    /// The bit in that byte, 0-7.
    pub(crate) bit: u32,
}

impl MsrBit {
    /// The 64-bit word holding the bit; its byte offset is `8 * word`.
    pub(crate) fn word(&self) -> usize {
        self.byte / 8
    }

    /// The bit as a mask of its word, read little-endian as the CPU and
    /// KVM's `unsigned long` accesses read it.
    pub(crate) fn mask(&self) -> u64 {
        // `byte % 8` is below 8, so the cast cannot truncate.
        1 << ((self.byte % 8) as u32 * 8 + self.bit)
    }
}

/// Where the bit for a RDMSR (`write` false) or WRMSR of `msr` is, or
/// `None` for an MSR in neither range, which always exits.
pub(crate) fn msr_bit(msr: u32, write: bool) -> Option<MsrBit> {
    let (region, n) = if msr < MSRS_PER_RANGE {
        (0, msr)
    } else {
        // 26.1.3: bit ECX & 1FFFh of the high bitmap.
        let n = msr.checked_sub(HIGH_BASE).filter(|n| *n < MSRS_PER_RANGE)?;
        (1, n)
    };
    // The write bitmaps follow the two read ones.
    let region = region + if write { 2 } else { 0 };
    Some(MsrBit {
        byte: region * REGION_BYTES + n as usize / 8,
        bit: n % 8,
    })
}

/// Why a merge failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct L1Unreadable {
    /// The word of L1's bitmap that could not be read.
    pub(crate) word: usize,
}

/// A VMX MSR bitmap, as the 64-bit words of its page.
///
/// 4 KiB: the kernel initialises it in place (a kernel stack has no room
/// for it), which is why the field is public; every method keeps any
/// contents valid.  A bitmap handed to the CPU must be a 4 KiB-aligned
/// page (26.2.1.1: bits 11:0 of the address are 0), which is the
/// allocator's business, not this type's.
pub(crate) struct MsrBitmap {
    /// The words: word `i` is bytes `8 * i` to `8 * i + 7`, little-endian.
    pub(crate) words: [u64; MSR_BITMAP_WORDS],
}

impl MsrBitmap {
    /// Makes every RDMSR and WRMSR exit.
    ///
    /// This is KVM's fallback when it cannot use L1's bitmap:
    /// nested_vmx_prepare_msr_bitmap() returns false and
    /// prepare_vmcs02() clears "use MSR bitmaps" in vmcs02, so every
    /// access exits.  A bitmap of all ones is the same thing with the
    /// control left set: MSRs outside the ranges exit anyway.
    pub(crate) fn intercept_all(&mut self) {
        self.words = [u64::MAX; MSR_BITMAP_WORDS];
    }

    /// Makes reads (`read`) and writes (`write`) of `msr` exit or not, as
    /// vmx_enable_intercept_for_msr() and vmx_disable_intercept_for_msr()
    /// set and clear the bits; `None` for an MSR in neither range, which
    /// always exits and has no bit to set.
    pub(crate) fn set(&mut self, msr: u32, read: bool, write: bool) -> Option<()> {
        for (w, on) in [(false, read), (true, write)] {
            let bit = msr_bit(msr, w)?;
            let word = self.words.get_mut(bit.word())?;
            if on {
                *word |= bit.mask();
            } else {
                *word &= !bit.mask();
            }
        }
        Some(())
    }

    /// Whether a RDMSR (`write` false) or WRMSR of `msr` exits with this
    /// bitmap and "use MSR bitmaps" set.
    pub(crate) fn intercepts(&self, msr: u32, write: bool) -> bool {
        let Some(bit) = msr_bit(msr, write) else {
            return true;
        };
        match self.words.get(bit.word()) {
            Some(w) => w & bit.mask() != 0,
            None => true,
        }
    }

    /// Makes this the bitmap the CPU uses while L2 runs: L0's own
    /// intercepts `l0` OR-ed with L1's bitmap, whose word `i` (bytes
    /// `8 * i` on, little-endian) `read_l1_word(i)` reads from guest
    /// memory, `None` if it cannot.  An access then exits to L0 if L0 or
    /// L1 intercepts it: L0 handles it or reflects it to L1 as
    /// [`l1_exits`] says, and nothing L1 intercepts runs unseen.
    ///
    /// Every bit of the page is merged.  KVM 6.12
    /// (nested_vmx_prepare_msr_bitmap()) merges only a few: vmcs02's
    /// bitmap starts all ones (alloc_loaded_vmcs()); FS_BASE, GS_BASE,
    /// KERNEL_GS_BASE, SPEC_CTRL and the writes of PRED_CMD and FLUSH_CMD
    /// become vmcs01 | L1; the x2APIC MSRs take L1's bits alone when L1
    /// virtualizes x2APIC mode; every other MSR exits to L0.  Both are
    /// correct because intercepting more than L1 asks is always correct:
    /// L0 handles in L2's place what L1 did not ask for.  Here an access
    /// runs without exit only if both `l0` and L1 let it through, so `l0`
    /// decides how much more is intercepted, and a bit clear in it must
    /// be safe for L2 as well as for L1 (L2's value of the MSR is loaded
    /// for it, or L2 shares L1's).  With `l0` all ones but KVM's few
    /// MSRs, the result outside the x2APIC range is KVM's.  The x2APIC
    /// bits are L0's to choose too: KVM's vmcs01 clears some under APICv,
    /// which would be safe for L2 only if vmcs02 virtualized x2APIC mode
    /// as well, so KVM does not use them for L2.
    ///
    /// A word of `l0` that is all ones stays all ones whatever L1 says,
    /// so L1's word is not read there (as SVM's merge reads only where L0
    /// lets something through).  If a word cannot be read the merge stops
    /// and the bitmap is left intercepting everything, KVM's fallback
    /// when kvm_vcpu_map() of L1's page fails; the caller decides
    /// whether to enter L2 with it.
    pub(crate) fn merge(
        &mut self,
        l0: &MsrBitmap,
        mut read_l1_word: impl FnMut(usize) -> Option<u64>,
    ) -> Result<(), L1Unreadable> {
        for (i, (word, l0_word)) in self.words.iter_mut().zip(l0.words.iter()).enumerate() {
            if *l0_word == u64::MAX {
                *word = u64::MAX;
                continue;
            }
            match read_l1_word(i) {
                Some(l1_word) => *word = l0_word | l1_word,
                None => {
                    // Never leave a half-merged bitmap that could let
                    // through what L1 intercepts.
                    self.intercept_all();
                    return Err(L1Unreadable { word: i });
                }
            }
        }
        Ok(())
    }
}

/// Whether a RDMSR (`write` false) or WRMSR of `msr` by L2 that exited
/// to L0 is reflected to L1, as nested_vmx_exit_handled_msr() decides:
/// yes if vmcs12's "use MSR bitmaps" control (`use_msr_bitmaps`) is 0 or
/// `msr` is in neither range, as the SDM has the CPU exit; else L1's
/// bit, in the word `read_l1_word(i)` reads from L1's bitmap (bytes
/// `8 * i` on, little-endian).
///
/// A word that cannot be read (`None`) is reflected, as KVM reflects the
/// exit when kvm_vcpu_read_guest() of the byte fails.  KVM reads one
/// byte, this reads its aligned 8-byte word: the bitmap is a page-aligned
/// page (checked at VM entry), so both lie in the same page and one read
/// fails exactly when the other does.
pub(crate) fn l1_exits(
    use_msr_bitmaps: bool,
    msr: u32,
    write: bool,
    read_l1_word: impl FnOnce(usize) -> Option<u64>,
) -> bool {
    if !use_msr_bitmaps {
        return true;
    }
    let Some(bit) = msr_bit(msr, write) else {
        return true;
    };
    match read_l1_word(bit.word()) {
        Some(w) => w & bit.mask() != 0,
        None => true,
    }
}
