#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make -C <kernel tree> M=<this tree> ARGS...: the out-of-tree module build.
#
# With KDIR, the tree is the user's: only make variables they give apply,
# and Kbuild checks the tree (6.12, CONFIG_RUST, built).  Without it, the
# cached test kernel, with the toolchain that built it.  Nothing is
# installed or built here: "make kernel" (or "make run", "make check")
# does that.
#
# "kmake.sh --cached-tree" only prints the cached tree, if it is built.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cached_tree() {
	local kdir
	kdir=$(gm_kdir 2>/dev/null) || return 0
	[ ! -f "$kdir/../.complete" ] || echo "$kdir"
}
if [ "${1:-}" = --cached-tree ]; then
	cached_tree
	exit 0
fi

if [ -n "${KDIR:-}" ]; then
	[ -f "$KDIR/Makefile" ] || gm_die "KDIR=$KDIR is not a kernel tree (no Makefile there)"
	exec make -C "$KDIR" M="$GM_ROOT" "$@"
fi
kdir=$(cached_tree)
[ -n "$kdir" ] ||
	gm_die "no kernel to build against: run 'make kernel' to build the test kernel, or give KDIR=<a built, Rust-enabled 6.12 tree>"
exec make -C "$kdir" M="$GM_ROOT" "${GM_KMAKE_VARS[@]}" "$@"
