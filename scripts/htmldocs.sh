#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make htmldocs: render Documentation/ to HTML with Sphinx and the kernel's
# own kernel-doc extension, and fail on any warning.
#
#   scripts/htmldocs.sh [OUTDIR]      (default $GUESTMAP_CACHE/htmldocs[-debug])
#
# The kernel-doc extension and scripts/kernel-doc come from the kernel
# tree the module builds against (KDIR, else the cached test kernel, as
# scripts/kmake.sh picks it; only its sources are used, so any 6.12 tree
# does); Documentation/conf.py finds it through
# GM_KERNEL_TREE.  Then scripts/docs-check.py checks that every kernel-doc
# directive really rendered its structures and members: Sphinx alone
# takes a directive that renders nothing for a success.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Each kernel flavour its own (GM_FLAVOUR), as the check logs.
out=${1:-$GUESTMAP_CACHE/htmldocs${GM_FLAVOUR:+-$GM_FLAVOUR}}
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
case "$out/" in
"$GM_ROOT"/*) gm_die "htmldocs: $out is inside the repository; write it elsewhere" ;;
esac
# Remove only what a previous run wrote: OUTDIR may be a user's directory.
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -f "$out/.buildinfo" ]; then
	gm_die "htmldocs: $out is not empty and holds no Sphinx output; pick another OUTDIR"
fi
rm -rf "$out" "$out.doctrees"

# The tree as scripts/kmake.sh picks it; like it, this builds none.
kdir=${KDIR:-$("$GM_ROOT/scripts/kmake.sh" --cached-tree)}
[ -n "$kdir" ] ||
	gm_die "htmldocs: no kernel tree: run 'make kernel', or give KDIR=<a 6.12 tree>"
[ -f "$kdir/Documentation/sphinx/kerneldoc.py" ] && [ -x "$kdir/scripts/kernel-doc" ] ||
	gm_die "htmldocs: $kdir has no Documentation/sphinx/kerneldoc.py or scripts/kernel-doc"

# Debian's Sphinx, by path: a python3 earlier in PATH (pyenv, a venv) may
# not have it.
sphinx=/usr/bin/sphinx-build
[ -x "$sphinx" ] || gm_die "htmldocs: $sphinx missing (Debian python3-sphinx; scripts/deps.sh)"

# Nothing may be written into the repository (nor, through bytecode, into
# the kernel tree): compare what git sees before and after.
before=$(git -C "$GM_ROOT" status --porcelain --ignored -- Documentation 2>&1 || true)

mkdir -p "$out"
log=$out.log
start=$(date +%s)
# -E: a fresh environment every time; Sphinx does not repeat the warnings
# of documents it reuses, so an incremental build could hide them.
# -n: every cross-reference must resolve.  -W --keep-going: a warning
# fails the build, after all of them are reported.
status=0
PYTHONDONTWRITEBYTECODE=1 GM_KERNEL_TREE=$kdir \
	"$sphinx" -b html -E -n -W --keep-going -q \
	-d "$out.doctrees" "$GM_ROOT/Documentation" "$out" >"$log" 2>&1 || status=$?
cat "$log" >&2
rm -rf "$out.doctrees"

# kernel-doc reports an identifier it cannot find on its stderr only,
# which Sphinx passes through without counting it as a warning.
if [ $status != 0 ] || grep -qE 'warning:|WARNING|ERROR|error:' "$log"; then
	gm_die "htmldocs: Sphinx reported problems (above; status $status)"
fi

after=$(git -C "$GM_ROOT" status --porcelain --ignored -- Documentation 2>&1 || true)
if [ "$before" != "$after" ]; then
	diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") >&2 || true
	gm_die "htmldocs: the build wrote into Documentation/"
fi

/usr/bin/python3 "$GM_ROOT/scripts/docs-check.py" "$kdir/scripts/kernel-doc" \
	"$GM_ROOT" "$out" || gm_die "htmldocs: a kernel-doc directive did not render (above)"

gm_log "htmldocs: $out/index.html ($(($(date +%s) - start)) s)"
