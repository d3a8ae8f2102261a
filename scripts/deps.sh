#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing guestmap needs, at pinned versions.
# Idempotent: a second run checks and returns in about a second.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

APT_PKGS=(
	"$GM_LINUX_SOURCE_PKG=$GM_LINUX_SOURCE_VER"
	"rustc-web=$GM_RUSTC_VER"
	"rust-web-src=$GM_RUSTC_VER"
	"rust-web-clippy=$GM_RUSTC_VER"
	"rustfmt-web=$GM_RUSTC_VER"
	"libclang-19-dev=$GM_LLVM_VER"
	# the clang-built debug kernel (make check-debug)
	"clang-19=$GM_LLVM_VER" "lld-19=$GM_LLVM_VER" "llvm-19=$GM_LLVM_VER"
	bc bison flex cpio kmod xz-utils libelf-dev libssl-dev
	# lib.mk installs the kselftests with rsync
	rsync
	gcc make libc6-dev linux-libc-dev
	qemu-system-x86 busybox-static
	python3-venv e2fsprogs ndctl
	# make profile: the recorder (trace.dat for KernelShark) and the plots,
	# drawn by /usr/bin/python3
	trace-cmd python3-matplotlib
	# udevd and udevadm, for udev/60-guestmap.rules (devnode_test)
	udev
	# the selftests built for 32-bit callers too (-m32, compat_ioctl)
	gcc-multilib
	# make htmldocs (Sphinx with the tree's kernel-doc extension)
	python3-sphinx
	# dkms.conf, tried as Documentation/using.rst says (using-check.sh)
	dkms
)

missing=()
for p in "${APT_PKGS[@]}"; do
	name=${p%%=*}
	have=$(dpkg-query -W -f '${db:Status-Status}=${Version}' "$name" 2>/dev/null || true)
	if [ "$p" = "$name" ]; then
		[[ $have == installed=* ]] || missing+=("$p")
	else
		[ "$have" = "installed=${p#*=}" ] || missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	gm_log "installing Debian packages: ${missing[*]}"
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
		--no-install-recommends "${missing[@]}"
fi

# bindgen: Debian's 0.60 is too old for the 6.12 Rust build.
# (Outputs are captured before matching: with pipefail, grep -q closing the
# pipe early would fail the producer.)
have=$("$GM_TOOLS/bin/bindgen" --version 2>/dev/null || true)
if [ "$have" != "bindgen $GM_BINDGEN_VER" ]; then
	gm_log "installing bindgen-cli $GM_BINDGEN_VER from crates.io"
	cargo install --quiet --locked --root "$GM_TOOLS" \
		bindgen-cli --version "$GM_BINDGEN_VER"
fi

# rustfilt demangles the Rust (v0) symbols of the function tracer's parents
# for make profile.  It prints its version as "rust_demangle X.Y.Z".
GM_RUSTFILT_VER=0.2.2
have=$("$GM_TOOLS/bin/rustfilt" --version 2>/dev/null || true)
if [ "${have##* }" != "$GM_RUSTFILT_VER" ]; then
	gm_log "installing rustfilt $GM_RUSTFILT_VER from crates.io"
	cargo install --quiet --locked --root "$GM_TOOLS" rustfilt --version "$GM_RUSTFILT_VER"
fi

# virtme-ng, in its own virtualenv so the system Python stays untouched.
have=$("$GM_VENV/bin/pip" show virtme-ng 2>/dev/null || true)
if ! grep -qx "Version: $GM_VIRTME_NG_VER" <<<"$have"; then
	gm_log "installing virtme-ng $GM_VIRTME_NG_VER from PyPI"
	python3 -m venv "$GM_VENV"
	"$GM_VENV/bin/pip" install --quiet "virtme-ng==$GM_VIRTME_NG_VER"
fi
