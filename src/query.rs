// SPDX-License-Identifier: GPL-2.0

//! `GUESTMAP_QUERY`: the mirror's entries, as user space sees them.

use crate::{abi::QueryReq, mirror::Mirror};
use kernel::{prelude::*, uaccess::UserSlice};

/// Entries copied out per hold of the mirror lock.
const BATCH: usize = 64;

/// Writes the entries of `req.gfns` to `req.entries`, one u64 each, with
/// the pfn only if `show_pfn`.  User memory is written with the lock
/// released: it may fault.
pub(crate) fn query(mirror: &Mirror, req: &QueryReq, show_pfn: bool) -> Result {
    let gfns = req.gfns;
    let mut user =
        UserSlice::new(req.entries as usize, ((gfns.end - gfns.start) * 8) as usize).writer();
    let mut bytes = [0u8; BATCH * 8];
    let mut gfn = gfns.start;
    while gfn < gfns.end {
        let n = BATCH.min((gfns.end - gfn) as usize);
        {
            let state = mirror.lock();
            for (i, chunk) in bytes[..n * 8].chunks_exact_mut(8).enumerate() {
                let word = state.get(gfn + i as u64).query_word(show_pfn);
                chunk.copy_from_slice(&word.to_ne_bytes());
            }
        }
        user.write_slice(&bytes[..n * 8])?;
        gfn += n as u64;
    }
    Ok(())
}
