#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every command of Documentation/using.rst, as written and in
# the page's order, on a fresh copy of the tree (the files git tracks, no
# build outputs), for the test kernel, with its build tree at
# /lib/modules/<release>/build.  Prints TAP, one result per command.
#
# The commands that build (make, dkms, gcc) run on the host, the others
# (loading, udev, the demo, debugfs, tracing) in the test VM: under TCG,
# one build of the module takes over half an hour, where the host takes
# half a minute.  The host phase runs in a mount namespace of its own in
# which /lib/modules, /usr/src and /var/lib/dkms are directories of this
# run, and "uname -r" says the test kernel's release: to make, DKMS and
# the page they are the test kernel's machine.  The VM then sees the same
# directories at the same places.  With the tools the page asks for in
# PATH: the rustc that built the kernel first, and bindgen.
#
# Every line runs as root, "$" lines too: the copy and the kernel tree
# live under root's home, which other users cannot enter.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The host phase mounts over /lib/modules, /usr/src and /var/lib/dkms in a
# mount namespace of its own, which needs root; /lib/modules and
# /var/lib/dkms are made, empty, if the host has none.
if [ "$(id -u)" != 0 ]; then
	echo "ok 1 - using.rst: commands of the page # SKIP needs root (a mount namespace over /lib/modules)"
	exit 0
fi
kdir=$("$GM_ROOT/scripts/kernel.sh")
release=$(cat "$kdir/include/config/kernel.release")
mkdir -p "$GUESTMAP_CACHE/runs"
work=$(mktemp -d "$GUESTMAP_CACHE/runs/using.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

# A fresh clone of the working tree: what git tracks, and new files it
# does not ignore.
clone=$work/guestmap
mkdir "$clone"
(cd "$GM_ROOT" && git ls-files -co --exclude-standard -z | xargs -0 -I{} sh -c \
	'[ ! -e "$1" ] || cp -a --parents "$1" "$2"' _ {} "$clone")

# The machine's directories: /lib/modules/<release> as the test kernel's
# (its modules, links resolved, and "build"), an empty /usr/src and DKMS
# tree.
root=$work/root
mkdir -p "$root/lib/modules/$release" "$root/usr/src" "$root/var/lib/dkms" "$work/bin"
mods=$kdir/.virtme_mods/lib/modules/0.0.0
if [ -d "$mods" ]; then
	for f in "$mods"/*; do
		[ "${f##*/}" = build ] || cp -rL "$f" "$root/lib/modules/$release/"
	done
fi
ln -s "$kdir" "$root/lib/modules/$release/build"
cat >"$work/bin/uname" <<EOF
#!/bin/sh
[ "\$*" = -r ] && exec echo "$release"
exec /usr/bin/uname "\$@"
EOF
chmod 755 "$work/bin/uname"
path="$work/bin:/usr/bin:/usr/sbin:/bin:/sbin:$GM_TOOLS/bin"

mapfile -t cmds < <(/usr/bin/python3 "$GM_ROOT/scripts/using-commands.py" \
	"$GM_ROOT/Documentation/using.rst")

# Each phase is a script of "run <n> <command> <line>"; run() prints the
# result, numbered by the line's place on the page.  The host phase runs
# the build commands, the VM phase the others; the host's results are
# printed first, then the VM's, and each phase numbers its own lines by
# their place.
# prelude OUT: the start of a phase's script, which keeps each command's
# output in OUT.
prelude() {
	cat <<EOF
set -u
exec 2>&1
export PATH="$path"
cd "$clone"
run() {
	# In this shell, not a subshell: a command's "&" job is this shell's,
	# for a later "wait".
	eval "\$2" >"$1" 2>&1
	rc=\$?
	sed 's/^/# /' "$1" | tail -n 30
	if [ \$rc = 0 ]; then
		echo "ok \$1 - using.rst: \$3"
	else
		echo "not ok \$1 - using.rst: \$3 (exit \$rc)"
	fi
}
EOF
}
prelude "$work/out" >"$work/host.sh"
# (The VM sees $work read-only.)
prelude /tmp/using-out >"$work/vm.sh"
cat >>"$work/vm.sh" <<EOF
# The same directories as the host phase had, where the page expects them.
m=/lib/modules/$release
[ ! -L "\$m" ] || rm "\$m"
mkdir -p "\$m"
mount --bind "$root/lib/modules/$release" "\$m"
mount --bind "$root/usr/src" /usr/src
mkdir -p /var/lib/dkms && mount --bind "$root/var/lib/dkms" /var/lib/dkms
# udev, as on a booted system (the page's udevadm commands talk to it).
udevd=\$(command -v systemd-udevd || echo /lib/systemd/systemd-udevd)
"\$udevd" --daemon >/dev/null 2>&1 || echo "# systemd-udevd did not start"
EOF
n=0
for c in "${cmds[@]}"; do
	n=$((n + 1))
	case "${c#? }" in
	make\ * | dkms\ * | gcc\ *) f=host ;;
	*) f=vm ;;
	esac
	printf 'run %d %q %q\n' "$n" "${c#? }" "$c" >>"$work/$f.sh"
done
echo 'wait; udevadm control --exit 2>/dev/null; exit 0' >>"$work/vm.sh"

echo "TAP version 13"
echo "1..$n"
mkdir -p /lib/modules
# A new user's environment: nothing of make check's (MAKEFLAGS, GM_*,
# LIBCLANG_PATH) but a PATH and a HOME.
env -i HOME="$HOME" PATH="$path" unshare --mount --propagation private bash -c '
	set -e
	mount --bind "$1/lib/modules" /lib/modules
	mount --bind "$1/usr/src" /usr/src
	mkdir -p /var/lib/dkms && mount --bind "$1/var/lib/dkms" /var/lib/dkms
	exec bash "$2"' _ "$root" "$work/host.sh"
"$GM_ROOT/scripts/vm-run" --timeout "${GM_USING_TIMEOUT:-900}" -- "bash $work/vm.sh"
