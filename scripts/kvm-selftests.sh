#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the kernel's own KVM selftests, library and tests, from the test
# kernel's tree, or reuse the cached build.  Prints the directory on stdout:
# tools/testing/selftests/kvm of a scratch tree, built in place, so that it
# holds, as in any kernel tree,
#
#   include/, include/x86_64/    the library's headers (kvm_util.h, svm_util.h)
#   lib/, lib/x86_64/            its objects, and libkvm.a made of them
#   x86_64/<test>, <test>        the kernel's tests (make anchor-kvm)
#
# with ../../../include, ../../../arch/x86/include and ../../../../usr/include
# the tools and UAPI headers they were built against.  guestmap's tests that
# drive a real KVM guest link libkvm.a: make -C selftests KVM_SELFTESTS=<dir>.
#
# The scratch tree is a copy of tools/, usr/include and
# scripts/subarch.include of $(scripts/kernel.sh): the cached kernel tree is
# never written to, and nothing but the compiler is needed.  It lives under
# $GUESTMAP_CACHE/kvm-selftests[-debug]/<key>, keyed by the kernel tree and
# this recipe, so a new kernel gets a new build.  KDIR works as for kernel.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$("$GM_ROOT/scripts/kernel.sh")
[ -f "$kdir/usr/include/linux/kvm.h" ] ||
	gm_die "$kdir: no exported UAPI headers (usr/include); run 'make headers' there"
[ -d "$kdir/tools/testing/selftests/kvm" ] || gm_die "$kdir: no tools/testing/selftests/kvm"

key=$({
	realpath "$kdir"
	cat "$kdir/include/config/kernel.release" "$kdir/.config" 2>/dev/null || true
	cat "$GM_ROOT/scripts/kvm-selftests.sh"
} | sha256sum | cut -c1-16)
cache=$GUESTMAP_CACHE/kvm-selftests${GM_FLAVOUR:+-$GM_FLAVOUR}
top=$cache/$key
out=$top/linux/tools/testing/selftests/kvm

if [ -f "$top/.complete" ]; then
	echo "$out"
	exit 0
fi

# One build at a time: a second would delete the tree the first is building.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -f "$top/.complete" ]; then
	echo "$out"
	exit 0
fi

gm_log "building the KVM selftests of $kdir in $top"
start=$(date +%s)
rm -rf "$top"
mkdir -p "$top/linux/usr" "$top/linux/scripts"
echo "$kdir" >"$top/kernel"
cp -a "$kdir/tools" "$top/linux/"
cp -a "$kdir/usr/include" "$top/linux/usr/"
cp "$kdir/scripts/subarch.include" "$top/linux/scripts/"

# OUTPUT explicitly: lib.mk defaults it only at MAKELEVEL 0, and this runs
# under "make check" too.  The kernel's Makefile links each test with the
# library's objects; guestmap's get them as one archive.
make -C "$out" -j"$(gm_nproc)" OUTPUT="$out" >"$top/build.log" 2>&1 ||
	{ tail -n 40 "$top/build.log" >&2; gm_die "the KVM selftests did not build (see $top/build.log)"; }
mapfile -t objs < <(cd "$out" && find lib -name '*.o' | sort)
[ ${#objs[@]} -gt 0 ] || gm_die "no library objects in $out/lib"
(cd "$out" && ar rcs libkvm.a "${objs[@]}")

touch "$top/.complete"
gm_log "KVM selftests built in $(($(date +%s) - start)) s"

# Keep this build and the one before it, as for the kernel.
ls -1dt "$cache"/*/ 2>/dev/null | tail -n +3 | xargs -r rm -rf

echo "$out"
