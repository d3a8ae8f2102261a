#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make rustdoc: the module crate's documentation, private items included
# (everything in it is crate-private), with broken intra-doc links and
# every other rustdoc warning an error.
#
#   scripts/rustdoc.sh [OUTDIR]       (default $GUESTMAP_CACHE/rustdoc[-debug])
#
# The kernel's "make rustdoc" documents its own crates by running rustdoc
# with the flags rustc compiles them with (rust/Makefile, cmd_rustdoc): the
# target, codegen and sanitizer flags must match those the kernel crates'
# metadata was built with, or rustdoc refuses them.  The same is done here
# for the module: its rustc command line is read back from Kbuild's record
# of the last build (src/.guestmap.o.cmd) and run as rustdoc, in the
# kernel tree as Kbuild ran it, against that tree's rust/ (libkernel.rmeta
# and the others).  The test operations (GM_TEST_OPS=1, --cfg gm_test_ops)
# are documented whichever build was last, so their links are checked too.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Each kernel flavour its own (GM_FLAVOUR), as the check logs.
out=${1:-$GUESTMAP_CACHE/rustdoc${GM_FLAVOUR:+-$GM_FLAVOUR}}
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
case "$out/" in
"$GM_ROOT"/*) gm_die "rustdoc: $out is inside the repository; write it elsewhere" ;;
esac
# Remove only what a previous run wrote: OUTDIR may be a user's directory.
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -d "$out/static.files" ]; then
	gm_die "rustdoc: $out is not empty and holds no rustdoc output; pick another OUTDIR"
fi

start=$(date +%s)
cmd=$GM_ROOT/src/.guestmap.o.cmd
# The generated bindings (bindgen, at build time) and the command line
# exist only after a module build.
if [ ! -f "$cmd" ] ||
	[ ! -f "$GM_ROOT/rust/uapi/uapi_generated.rs" ] ||
	[ ! -f "$GM_ROOT/rust/kernel/helpers_generated.rs" ] ||
	[ ! -f "$GM_ROOT/src/sys/c_generated.rs" ]; then
	gm_log "rustdoc: building the module first"
	"$GM_ROOT/scripts/kmake.sh" modules >&2
fi
# The tree as scripts/kmake.sh picks it, which Kbuild ran rustc in.
kdir=${KDIR:-$("$GM_ROOT/scripts/kmake.sh" --cached-tree)}
[ -f "$kdir/rust/libkernel.rmeta" ] ||
	gm_die "rustdoc: no built Rust-enabled tree at '$kdir': run 'make kernel', or give KDIR="

# The rustc command line as Kbuild saved it, made a rustdoc one: the
# environment it set, the compiler swapped for rustdoc, and the options
# that only compiling has (what to emit, where) left out.  NUL-separated:
# environment assignments, "--", then the arguments.
mapfile -d '' argv < <(/usr/bin/python3 - "$cmd" <<'EOF'
import shlex
import sys

line = open(sys.argv[1]).readline()
cmd = line.split(':=', 1)[1]
# cmd_objtool and the like follow the compiler after a ";".
words = shlex.split(cmd.split(';', 1)[0])
env = []
while '=' in words[0] and not words[0].startswith('-'):
    env.append(words.pop(0))
words.pop(0)  # rustc or clippy-driver
args, skip = [], False
for w in words:
    if skip:
        skip = False
    elif w == '--out-dir':
        skip = True
    elif w.startswith(('--emit', '--out-dir=')):
        pass
    else:
        args.append(w)
# The test build's cfg; uapi_generated.rs always has its structures.
if 'gm_test_ops' not in args:
    args += ['--cfg', 'gm_test_ops']
sys.stdout.write('\0'.join(env + ['--'] + args) + '\0')
EOF
)
[ ${#argv[@]} -gt 1 ] || gm_die "rustdoc: cannot read the rustc command line in $cmd"
env=()
while [ "${argv[0]}" != -- ]; do
	env+=("${argv[0]}")
	argv=("${argv[@]:1}")
done
argv=("${argv[@]:1}")

rm -rf "$out"
mkdir -p "$out"
# RUSTDOC= as for the kernel with a KDIR built by another toolchain.
# As rust/Makefile's cmd_rustdoc, with RUSTC_BOOTSTRAP=1 as the kernel's
# Makefile exports it for the -Z options; the x18 workaround is what
# rustc >= 1.88 needs (rust-lang/rust#144521).
# -D warnings covers every rustdoc lint; broken links are named as well,
# as the point of this check.  Links from the crate root's documentation
# to private items are allowed: a module has no public API, everything is
# documented as a private item, and those links resolve.
status=0
(cd "$kdir" && env "${env[@]}" OBJTREE="$kdir" RUSTC_BOOTSTRAP=1 \
	"${RUSTDOC:-/usr/bin/rustdoc}" "${argv[@]}" \
	--output "$out" --document-private-items \
	-Cunsafe-allow-abi-mismatch=fixed-x18 \
	-D warnings -D rustdoc::broken_intra_doc_links \
	-A rustdoc::private_intra_doc_links) >"$out.log" 2>&1 || status=$?
cat "$out.log" >&2
[ $status = 0 ] || gm_die "rustdoc: failed (status $status; above)"
# A warning that -D did not cover still counts.
! grep -q '^warning' "$out.log" || gm_die "rustdoc: warnings (above)"

crate=$(sed -nE 's/.*--crate-name[= ]([A-Za-z0-9_]+).*/\1/p' "$cmd" | head -n1)
[ -f "$out/$crate/index.html" ] || gm_die "rustdoc: no $out/$crate/index.html"
# The module's own items, the abstraction layer (crate::ext) and the
# generated UAPI are all there.
for page in "$crate/ext/index.html" "$crate/uapi/index.html"; do
	[ -f "$out/$page" ] || gm_die "rustdoc: no $out/$page"
done
gm_log "rustdoc: $out/$crate/index.html ($(($(date +%s) - start)) s)"
