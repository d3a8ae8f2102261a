#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The ioctl ABI has one layout for 32- and 64-bit callers, by the compiler.
#
# guestmap's compat_ioctl is compat_ptr_ioctl(), which converts only the
# pointer argument and then runs the 64-bit handler: a 32-bit process's
# structs must therefore be byte for byte what the handler reads.  On
# i386 a __u64 in a struct is 4-byte aligned (the i386 psABI), so a
# __u64 after an odd number of __u32s, or a struct ending in one __u32
# after __u64s, has another layout there, and its command number
# another _IOC_SIZE.  This compiles the two UAPI headers with clang-19
# for i386 (-m32) and x86-64 (-m64) and compares
#
#   - the layout of every struct and union they define (every member's
#     offset, type and size, and sizeof; not the alignment of the whole
#     struct, which the kernel never sees: it copies sizeof bytes), as
#     clang's -fdump-record-layouts-complete prints them, for every
#     record the headers define (found by the compiler, so a new struct
#     is never missed; the records of the headers they include are left
#     out);
#   - the value of every GUESTMAP_* macro built with _IO, _IOR, _IOW or
#     _IOWR, as the compiler emits it.
#
# Exit status 1, with the differences as a unified diff, on any
# difference.  The headers are the kernel tree's exported ones
# ($KDIR/usr/include) if it has them, else the system's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cc=${GM_ABI32_CC:-clang-19}
# GM_ABI32_UAPI: another include/uapi to check (to test this check).
uapi=${GM_ABI32_UAPI:-$GM_ROOT/include/uapi}
hdrs=("$uapi/linux/guestmap.h" "$uapi/linux/guestmap_test.h")
kdir=$(gm_kdir 2>/dev/null || true)
sys=()
[ -d "$kdir/usr/include/asm" ] && sys=(-isystem "$kdir/usr/include")

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# The records the headers define, by name: "struct guestmap_walk {" in
# kernel style, or a union; an anonymous one is checked inside the named
# record that holds it.
mapfile -t records < <(grep -hoE '\b(struct|union)[[:space:]]+[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\{' \
	"${hdrs[@]}" | sed -E 's/[[:space:]]*\{$//; s/[[:space:]]+/ /' | sort -u)
[ ${#records[@]} -gt 0 ] || gm_die "abi32: no struct found in ${hdrs[*]}"

{
	for h in "${hdrs[@]}"; do echo "#include <linux/${h##*/}>"; done
} >"$dir/abi.c"

# Every _IO* command the headers define, from the preprocessor's own list.
mapfile -t cmds < <("$cc" -m64 -I"$uapi" "${sys[@]}" -dM -E "$dir/abi.c" |
	sed -nE 's/^#define (GUESTMAP_[A-Za-z0-9_]+) .*\b_IO(R|W|WR)?[[:space:]]*\(.*/\1/p' | sort)
[ ${#cmds[@]} -gt 0 ] || gm_die "abi32: no GUESTMAP_* ioctl command found"
for c in "${cmds[@]}"; do
	echo "const unsigned int gm_abi32_$c = $c;"
done >>"$dir/abi.c"

# layouts ARCH: the records named in $records, as clang lays them out,
# with the alignment of the whole record taken out.
layouts() {
	"$cc" "-m$1" -I"$uapi" "${sys[@]}" -Xclang -fdump-record-layouts-complete \
		-fsyntax-only "$dir/abi.c" >"$dir/dump.$1"
	awk -v names="$(printf '%s\n' "${records[@]}")" '
		BEGIN { n = split(names, a, "\n"); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		/^\*\*\* Dumping AST Record Layout/ { keep = 0; first = 1; next }
		first {
			first = 0
			name = $0
			sub(/^[[:space:]]*0 \|[[:space:]]*/, "", name)
			keep = name in want
			if (keep)
				print ""
		}
		keep && !/^[[:space:]]*$/ {
			line = $0
			gsub(/,?[[:space:]]*(dsize|align|nvsize|nvalign|preferredalign)=[0-9]+/, "", line)
			if (line ~ /^[[:space:]]*\|[[:space:]]*\]?[[:space:]]*$/)
				next
			print line
		}' "$dir/dump.$1" >"$dir/layout.$1"
}

# numbers ARCH: "NAME VALUE" for every command, from the compiled
# assembly (the value, then clang's hex comment).
numbers() {
	"$cc" "-m$1" -I"$uapi" "${sys[@]}" -S -o "$dir/abi.$1.s" "$dir/abi.c"
	awk '/^gm_abi32_[A-Za-z0-9_]+:/ { name = substr($1, 10, length($1) - 10); next }
		name && $1 == ".long" { print name, $2, $4; name = "" }' \
		"$dir/abi.$1.s" >"$dir/numbers.$1"
}

status=0
for arch in 32 64; do
	layouts $arch
	numbers $arch
done

# Each side must have seen every record and command, or the comparison
# would be of nothing.
for arch in 32 64; do
	got=$(grep -cE '^[[:space:]]+0 \| (struct|union) ' "$dir/layout.$arch" || true)
	[ "$got" = ${#records[@]} ] ||
		gm_die "abi32: -m$arch: $got record layouts, want ${#records[@]} (${records[*]})"
	got=$(wc -l <"$dir/numbers.$arch")
	[ "$got" = ${#cmds[@]} ] || gm_die "abi32: -m$arch: $got command numbers, want ${#cmds[@]}"
done

if ! diff -u --label i386 --label x86_64 "$dir/layout.32" "$dir/layout.64"; then
	echo "abi32: struct layouts differ between i386 and x86_64 (above)"
	status=1
fi
if ! diff -u --label i386 --label x86_64 "$dir/numbers.32" "$dir/numbers.64"; then
	echo "abi32: ioctl command numbers differ between i386 and x86_64 (above)"
	status=1
fi
[ $status = 0 ] &&
	echo "abi32: ${#records[@]} structs and ${#cmds[@]} ioctl numbers identical for i386 and x86_64"
exit $status
