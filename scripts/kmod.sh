#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the test-only module selftests/kmod/gm_kvm_probe.ko against the
# cached test kernel and guestmap's Module.symvers (build guestmap first).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$("$GM_ROOT/scripts/kernel.sh")
exec make -C "$kdir" M="$GM_ROOT/selftests/kmod" \
	KBUILD_EXTRA_SYMBOLS="$GM_ROOT/Module.symvers" "${GM_KMAKE_VARS[@]}" "$@"
