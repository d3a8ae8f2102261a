#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the Rust-enabled 6.12 test kernel, or reuse the cached one.
#
# The tree is "make allnoconfig" plus selftests/config (and, for
# GM_FLAVOUR=debug, selftests/config.debug), so every option in it is there
# on purpose, and it is cached under $GUESTMAP_CACHE/kernel[-debug]/ keyed
# by the source version, the config, this recipe and the compilers
# (gm_kernel_key).  Prints the tree's path on stdout.
#
# With KDIR set, nothing is built: the given tree is checked and printed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

check_tree() {
	local kdir=$1
	[ -f "$kdir/.config" ] || gm_die "$kdir: not a configured kernel tree"
	grep -q '^CONFIG_RUST=y' "$kdir/.config" ||
		gm_die "$kdir: CONFIG_RUST is off; guestmap needs a Rust-enabled kernel"
	[ -f "$kdir/Module.symvers" ] ||
		gm_die "$kdir: not built (no Module.symvers); run 'make modules' there"
}

# Every option the fragment asks for must survive Kconfig: a silently
# dropped dependency would otherwise surface as a puzzling test failure.
check_config() {
	local cfg=$1 frag=$2 bad=0 opt
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$cfg" || { gm_log "config: wanted $line"; bad=1; }
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			! grep -q "^$opt=" "$cfg" || { gm_log "config: wanted $opt off"; bad=1; }
			;;
		esac
	done <"$frag"
	[ $bad = 0 ] || gm_die "Kconfig did not honour selftests/config (see above)"
}

if [ -n "${KDIR:-}" ]; then
	check_tree "$KDIR"
	echo "$KDIR"
	exit 0
fi

key=$(gm_kernel_key)
cache=$(gm_kernel_cache)
top=$cache/$key
kdir=$top/linux

if [ -f "$top/.complete" ]; then
	echo "$kdir"
	exit 0
fi

# One build of a flavour at a time: a second one would delete the tree the
# first is building (make check and make run started together, say).  The
# second waits, then finds the tree complete.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -f "$top/.complete" ]; then
	echo "$kdir"
	exit 0
fi

gm_log "building the ${GM_FLAVOUR:-gcc} test kernel (key $key) in $top"
start=$(date +%s)
rm -rf "$top"
mkdir -p "$top"
tarball=/usr/src/$GM_LINUX_SOURCE_PKG.tar.xz
[ -f "$tarball" ] || gm_die "$tarball missing: run scripts/deps.sh"
tar -C "$top" -xf "$tarball"
mv "$top/$GM_LINUX_SOURCE_PKG" "$kdir"

kmake() { make -C "$kdir" -s "${GM_KMAKE_VARS[@]}" "$@"; }

frag=$top/fragment.config
gm_fragments | xargs cat >"$frag"
kmake allnoconfig KCONFIG_ALLCONFIG="$frag" >/dev/null
check_config "$kdir/.config" "$frag"
kmake rustavailable >/dev/null
kmake -j"$(gm_nproc)" bzImage modules
# The exported UAPI headers: for bindgen over guestmap.h and for building
# the kernel's own selftests (hmm-tests) against this exact kernel.
kmake headers

touch "$top/.complete"
gm_log "kernel built in $(($(date +%s) - start)) s"

# Keep this tree and the one before it; older keys only fill the disk.
ls -1dt "$cache"/*/ 2>/dev/null | tail -n +3 | xargs -r rm -rf

echo "$kdir"
