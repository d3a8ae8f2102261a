// SPDX-License-Identifier: GPL-2.0

//! Kernel mappings of bare pfns (`VM_PFNMAP`/`VM_IO` memory) that guest
//! accesses through the mirror reuse.
//!
//! Mapping such a frame and unmapping it afterwards costs a page-table
//! update and, on unmap, a TLB flush of every CPU: done per page per
//! READ_GUEST, any user of the device could drive it as an IPI storm.  The
//! context keeps a few `memremap()` mappings, by pfn, of memory the page
//! allocator never hands out (RAM the kernel never took, reserved RAM,
//! device memory): a mapping is used only under the mirror lock for a pfn
//! a present mirror entry names, and keeping it past the entry's life
//! maps nothing that could become something else.  A `vmap()` alias of
//! RAM with a struct page is not kept: the page may be freed and reused,
//! with another memory type or as secret memory, and a kernel alias of it
//! should not outlive the access.  They go when a memslot is deleted and
//! when the context closes.

use crate::sys::frame::Remap;
use core::ops::Deref;
use kernel::prelude::*;

/// How many mappings a context keeps.
const NR_REMAPS: usize = 16;

/// A small cache of [`Remap`]s, one place per pfn (modulo [`NR_REMAPS`]).
#[derive(Default)]
pub(crate) struct Remaps {
    maps: [Option<Remap>; NR_REMAPS],
}

/// A mapping from [`Remaps::get`]: kept by the cache, or the caller's for
/// this access only.
pub(crate) enum Mapped<'a> {
    Kept(&'a Remap),
    Own(Remap),
}

impl Deref for Mapped<'_> {
    type Target = Remap;

    fn deref(&self) -> &Remap {
        match self {
            Mapped::Kept(map) => map,
            Mapped::Own(map) => map,
        }
    }
}

impl Remaps {
    /// A mapping of `pfn`: a kept one, or a new one (kept unless it is an
    /// alias of RAM); sleeps.
    pub(crate) fn get(&mut self, pfn: u64) -> Result<Mapped<'_>> {
        let place = &mut self.maps[(pfn % NR_REMAPS as u64) as usize];
        if place.as_ref().map(Remap::pfn) != Some(pfn) {
            let map = Remap::new(pfn)?;
            if map.is_alias() {
                return Ok(Mapped::Own(map));
            }
            *place = Some(map);
        }
        place.as_ref().map(Mapped::Kept).ok_or(EINVAL)
    }

    /// Drops every mapping.
    pub(crate) fn clear(&mut self) {
        self.maps = Default::default();
    }
}
