# SPDX-License-Identifier: GPL-2.0
# Shared settings for guestmap's scripts.  Source it; do not run it.
#
# Everything downloaded or built lives under $GUESTMAP_CACHE, outside the
# repository, so a fresh clone reuses it and "git clean" never loses it.

GM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GUESTMAP_CACHE=${GUESTMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/guestmap}

# Versions verified on Debian 12 (bookworm) in November 2026.  Older
# versions stay in the archive, so pinning keeps a rebuild reproducible.
GM_LINUX_SOURCE_PKG=linux-source-6.12
GM_LINUX_SOURCE_VER=6.12.117-1~deb12u1
GM_RUSTC_VER=1.96.0+dfsg1-1~deb12u2
GM_LLVM_VER=1:19.1.7-3~deb12u1
GM_BINDGEN_VER=0.73.2
GM_VIRTME_NG_VER=1.42

GM_TOOLS=$GUESTMAP_CACHE/tools
GM_VENV=$GUESTMAP_CACHE/venv
GM_VNG=$GM_VENV/bin/vng

# Two test kernels, chosen by GM_FLAVOUR:
#
#   (unset)  GCC-built, with lockdep, DEBUG_PAGEALLOC, KFENCE, kmemleak and
#            the hung-task and soft-lockup detectors: make check, make run
#   debug    the same built by clang-19/lld-19 with KASAN and UBSAN on top
#            (selftests/config.debug): make check-debug.  In 6.12, RUST
#            depends on "!KASAN || CC_IS_CLANG".
#
# Rust comes from Debian's rustc-web, whose rust-src the kernel needs
# (rustup's toolchain here ships none), and whose clippy-driver can read
# the metadata rustc-web writes.
GM_FLAVOUR=${GM_FLAVOUR:-}
case "$GM_FLAVOUR" in
"" | debug) ;;
*) printf '[guestmap] error: GM_FLAVOUR=%s: want nothing or "debug"\n' "$GM_FLAVOUR" >&2; exit 1 ;;
esac
GM_KMAKE_VARS=(
	RUSTC=/usr/bin/rustc
	RUSTDOC=/usr/bin/rustdoc
	RUSTFMT=/usr/bin/rustfmt
	CLIPPY_DRIVER=/usr/bin/clippy-driver
	BINDGEN="$GM_TOOLS/bin/bindgen"
)
# Variables only exported are overridden by the kernel Makefile: LLVM=
# must be given on the command line, for the kernel and every module.
[ "$GM_FLAVOUR" != debug ] || GM_KMAKE_VARS+=(LLVM=-19)
export LIBCLANG_PATH=/usr/lib/llvm-19/lib

gm_log() { printf '[guestmap] %s\n' "$*" >&2; }
gm_die() { printf '[guestmap] error: %s\n' "$*" >&2; exit 1; }

gm_nproc() { nproc 2>/dev/null || echo 2; }

# The config fragments of the flavour, in the order they apply.
gm_fragments() {
	echo "$GM_ROOT/selftests/config"
	[ "$GM_FLAVOUR" != debug ] || echo "$GM_ROOT/selftests/config.debug"
}

# The key of the cached kernel: anything that changes the built tree.
gm_kernel_key() {
	{
		echo "$GM_LINUX_SOURCE_PKG $GM_LINUX_SOURCE_VER flavour=${GM_FLAVOUR:-gcc}"
		gm_fragments | xargs cat
		cat "$GM_ROOT/scripts/kernel.sh"
		if [ "$GM_FLAVOUR" = debug ]; then
			clang-19 --version | head -n1
		else
			gcc --version | head -n1
		fi
		/usr/bin/rustc --version
		"$GM_TOOLS/bin/bindgen" --version
		dpkg-query -W -f '${Version}\n' libclang-19-dev
	} | sha256sum | cut -c1-16
}

# Where the flavour's cached kernels live, one directory per key.
gm_kernel_cache() {
	echo "$GUESTMAP_CACHE/kernel${GM_FLAVOUR:+-$GM_FLAVOUR}"
}

# The kernel tree to build against: $KDIR if the user gave one, else the
# cached tree for the current key.
gm_kdir() {
	if [ -n "${KDIR:-}" ]; then
		echo "$KDIR"
	else
		echo "$(gm_kernel_cache)/$(gm_kernel_key)/linux"
	fi
}

# How the test VM boots for the kselftests and benchmarks, and what the
# tests are told about it (selftests/run_vm_tests.sh):
#   mem=1920M              RAM above 1920M is left out of the kernel's
#                          control: "PFN-only" memory without a struct page
#   memmap=4M$0x6c000000   reserved RAM (a struct page, PG_reserved)
#   memmap=64M!0x70000000  a pmem device, for fsdax
#   numa=fake=2            two nodes, for migration
GM_TEST_APPEND='mem=1920M memmap=4M$0x6c000000 memmap=64M!0x70000000 numa=fake=2'
GM_TEST_ENV='GUESTMAP_RESERVED=0x400000@0x6c000000 GUESTMAP_HIDDEN=0x8000000@0x78000000'

# A second boot for selftests/devmem_test, which maps RAM through /dev/mem:
#   nopat             x86 PAT refuses RAM through /dev/mem otherwise
#                     (the test kernel has STRICT_DEVMEM off)
#   movablecore=512M  memory blocks that can be offlined (the top two
#                     have holes: pmem, and firmware's below 2G)
#   memmap=64M!0x70000000  pmem in the same section as boot RAM
GM_DEVMEM_APPEND='nopat movablecore=512M memmap=64M!0x70000000'

# A third boot for the mirror's 1 GiB entries: a 1 GiB hugetlb page
# reserved at boot, which only a 4 GiB guest has room for (q35 puts 2 GiB
# above 4G, whose lower GiB early allocations leave free).
GM_HUGE1G_MEMORY=4G
GM_HUGE1G_APPEND='hugepagesz=1G hugepages=1'
