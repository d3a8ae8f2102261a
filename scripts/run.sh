#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make run: set up what is missing, build, boot the test VM, load
# guestmap.ko and show what it does (scripts/demo-guest.sh, in the VM).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$GM_ROOT/scripts/deps.sh"
kdir=$("$GM_ROOT/scripts/kernel.sh")
"$GM_ROOT/scripts/kmake.sh" modules
make -s -C "$GM_ROOT/selftests" KDIR="$kdir"
exec "$GM_ROOT/scripts/vm-run" --module -- scripts/demo-guest.sh
