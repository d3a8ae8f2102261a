#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make -C <kernel tree> M=<this tree> ARGS...: the out-of-tree module build.
#
# Without KDIR this first installs what is missing and builds (or reuses)
# the cached test kernel, and builds with the toolchain that built it.
# With KDIR, the tree is the user's: only make variables they give apply.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ -n "${KDIR:-}" ]; then
	exec make -C "$("$GM_ROOT/scripts/kernel.sh")" M="$GM_ROOT" "$@"
fi
"$GM_ROOT/scripts/deps.sh"
kdir=$("$GM_ROOT/scripts/kernel.sh")
exec make -C "$kdir" M="$GM_ROOT" "${GM_KMAKE_VARS[@]}" "$@"
