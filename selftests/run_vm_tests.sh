#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs every kselftest binary in the test VM, one TAP stream after the
# other.  scripts/check.sh boots the VM with the memory this expects:
#   memmap=4M$0x7c000000  reserved RAM for the PFNMAP tests (/dev/mem)
#   memmap=64M!0x70000000 a pmem device, for fsdax
#   numa=fake=2           two nodes, for the migration test
# Exit status: nonzero if any binary failed.
dir=$(dirname "$0")
: "${GUESTMAP_RESERVED:=0x400000@0x7c000000}"
export GUESTMAP_RESERVED
status=0
for t in guestmap_test mirror_test map_test; do
	"$dir/$t" || status=1
done
exit $status
