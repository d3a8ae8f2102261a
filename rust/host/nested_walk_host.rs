// SPDX-License-Identifier: GPL-2.0

//! `src/nested/walk/` without the parts that read guest memory: the
//! paging modes' rules and the walk over any tables.

#[allow(dead_code)]
#[path = "../../src/nested/walk/paging.rs"]
pub(crate) mod paging;
#[allow(dead_code)]
#[path = "../../src/nested/walk/walker.rs"]
pub(crate) mod walker;
