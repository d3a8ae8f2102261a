// SPDX-License-Identifier: GPL-2.0

//! `crate::mirror` for the host tests: the kernel's table
//! (`src/mirror/table.rs`) over a host allocator (`table_alloc.rs`).

#[path = "table_alloc.rs"]
pub(crate) mod alloc;
#[allow(dead_code)]
#[path = "../../src/mirror/table.rs"]
pub(crate) mod table;
