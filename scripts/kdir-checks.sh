#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: "make" behaves like an out-of-tree module's.  It prints TAP.
#
#   - with no kernel tree (no cached test kernel, no KDIR) it stops at once
#     with one line naming the command that builds one, and installs and
#     builds nothing;
#   - with KDIR naming a tree guestmap cannot use (not 6.12, CONFIG_RUST
#     off, not built) or a toolchain that cannot build for it (another
#     rustc than the tree's, no bindgen), Kbuild stops before any compiler
#     runs, naming the missing piece.
#
# The unusable trees are hard-linked copies of the test kernel with one
# file replaced (sed -i and rm write new directory entries, so the cached
# tree itself is never touched).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$("$GM_ROOT/scripts/kernel.sh") || gm_die "no test kernel"
# Beside the cached trees: hard links need one filesystem.
mkdir -p "$GUESTMAP_CACHE/runs"
work=$(mktemp -d "$GUESTMAP_CACHE/runs/kdir.XXXXXX")
trap 'rm -rf "$work"' EXIT
n=0 status=0

# expect LINES DESC PATTERN COMMAND...: COMMAND fails, within 60 s, with
# an error matching PATTERN, and compiles nothing.  LINES=1: that is the
# only line it prints (errors from Kbuild come with make's own "***" lines
# for each enclosing make).
expect() {
	local lines=$1 desc=$2 pattern=$3 out
	shift 3
	n=$((n + 1))
	# As a user types it: not a make inside make check's make, which
	# would print "Entering directory" lines.
	out=$(cd "$GM_ROOT" && env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS timeout 60 "$@" 2>&1)
	local rc=$?
	if [ $rc != 0 ] && [ $rc != 124 ] && grep -qE "$pattern" <<<"$out" &&
		{ [ "$lines" != 1 ] || [ "$(wc -l <<<"$out")" = 1 ]; } &&
		! grep -qE '^ +(CC|RUSTC|BINDGEN|LD) ' <<<"$out"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc (status $rc)"
		sed 's/^/# /' <<<"$out" | tail -n 20
		status=1
	fi
}

echo "TAP version 13"
echo "1..9"

# No tree: an empty cache, and deps.sh must not run (it would print
# "installing" or call apt-get).
expect 1 "make with no kernel tree stops with one line saying 'make kernel'" \
	"\\*\\*\\* no kernel to build against: run 'make kernel' to build the test kernel" \
	env GUESTMAP_CACHE="$work/cache" make modules

# One hard-linked copy of the tree; each case replaces one file, and the
# link to the original is put back after it.
cp -al "$kdir" "$work/tree"
restore() { ln -f "$kdir/$1" "$work/tree/$1"; }

expect 1 "KDIR=<no kernel tree> is refused" \
	"KDIR=$work/nothing is not a kernel tree" make KDIR="$work/nothing" modules

sed -i 's/^CONFIG_RUST=y$/# CONFIG_RUST is not set/' "$work/tree/include/config/auto.conf"
expect any "KDIR=<tree without CONFIG_RUST> names CONFIG_RUST" \
	"guestmap: CONFIG_RUST is not set in .*; guestmap needs a Rust-enabled kernel" \
	make KDIR="$work/tree" modules
restore include/config/auto.conf

sed -i 's/^PATCHLEVEL = 12$/PATCHLEVEL = 13/' "$work/tree/Makefile"
expect any "KDIR=<a 6.13 tree> names the version" \
	"guestmap: .* is Linux 6\.13\.[0-9]+; guestmap is for 6\.12" \
	make KDIR="$work/tree" modules
restore Makefile

# The tree's own toolchain, but for one tool.
printf '#!/bin/sh\necho "rustc 1.0.0 (not the one)"\n' >"$work/rustc"
chmod +x "$work/rustc"
expect any "a rustc other than the tree's is named, with both versions" \
	"guestmap: .* was built by \"rustc [0-9.]+ .*\", but $work/rustc is \"rustc 1\.0\.0 \(not the one\)\"" \
	make KDIR="$work/tree" RUSTC="$work/rustc" modules
expect any "a missing bindgen is named" \
	"guestmap: no $work/bindgen \(the tree was built with \"bindgen [0-9.]+\"\)" \
	make KDIR="$work/tree" "${GM_KMAKE_VARS[@]}" BINDGEN="$work/bindgen" modules

sed -i 's/^# CONFIG_CC_IS_CLANG is not set$/CONFIG_CC_IS_CLANG=y/; s/^CONFIG_CC_IS_GCC=y$/CONFIG_CC_IS_CLANG=y/' \
	"$work/tree/include/config/auto.conf"
expect any "a clang-built tree built with gcc names LLVM=1" \
	"guestmap: .* was built by clang, but gcc is not clang: give LLVM=1" \
	make KDIR="$work/tree" RUSTC=/usr/bin/rustc CC=gcc modules
restore include/config/auto.conf

rm -f "$work/tree/rust/libkernel.rmeta"
expect any "KDIR=<configured, not built tree> names the missing rust/ outputs" \
	"guestmap: .*/rust/libkernel.rmeta is missing: build the kernel first" \
	make KDIR="$work/tree" modules
restore rust/libkernel.rmeta

# And the checks do not stand in the way of cleaning (a copy of the
# sources, with an output to clean).
n=$((n + 1))
mkdir "$work/src"
(cd "$GM_ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp -a --parents -t "$work/src")
touch "$work/src/c/cpu.o"
if out=$(make -C "$kdir" M="$work/src" clean 2>&1) && [ ! -e "$work/src/c/cpu.o" ]; then
	echo "ok $n - make -C <tree> M=<guestmap> clean works"
else
	echo "not ok $n - make -C <tree> M=<guestmap> clean works"
	sed 's/^/# /' <<<"$out" | tail -n 20
	status=1
fi

exit $status
