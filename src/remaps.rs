// SPDX-License-Identifier: GPL-2.0

//! Kernel mappings of bare pfns (`VM_PFNMAP`/`VM_IO` memory) that guest
//! accesses through the mirror reuse.
//!
//! Mapping such a frame (`memremap()`, or a `vmap()` alias for RAM) and
//! unmapping it afterwards costs a page-table update and, on unmap, a TLB
//! flush of every CPU: done per page per READ_GUEST, any user of the
//! device could drive it as an IPI storm.  The context keeps a few, by
//! pfn, as its pfn caches keep theirs.  A mapping is only an address: it
//! is used only under the mirror lock, for a pfn a present mirror entry
//! names, so keeping it past the entry's life reads nothing.  They go when
//! a memslot is deleted and when the context closes.

use crate::ext::pfn::Remap;
use kernel::prelude::*;

/// How many mappings a context keeps.
const NR_REMAPS: usize = 16;

/// A small cache of [`Remap`]s, one place per pfn (modulo [`NR_REMAPS`]).
#[derive(Default)]
pub(crate) struct Remaps {
    maps: [Option<Remap>; NR_REMAPS],
}

impl Remaps {
    /// A mapping of `pfn`, kept or made (and kept); sleeps.
    pub(crate) fn get(&mut self, pfn: u64) -> Result<&Remap> {
        let place = &mut self.maps[(pfn % NR_REMAPS as u64) as usize];
        if place.as_ref().map(Remap::pfn) != Some(pfn) {
            // Drop the old mapping first: a failed map must not leave it.
            *place = None;
            *place = Some(Remap::new(pfn)?);
        }
        place.as_ref().ok_or(EINVAL)
    }

    /// Drops every mapping.
    pub(crate) fn clear(&mut self) {
        self.maps = Default::default();
    }
}
