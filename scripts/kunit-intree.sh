#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Place this tree in a kernel source tree, for kunit.py:
#
#   scripts/kunit-intree.sh /path/to/linux [drivers/misc/kecpuhp]
#   cd /path/to/linux
#   ./tools/testing/kunit/kunit.py run --kunitconfig=drivers/misc/kecpuhp --arch=x86_64 \
#	--qemu_args='-smp 10' --kernel_args=maxcpus=2
#
# Copies Kconfig, Kbuild, .kunitconfig, include/, shim/ and kunit/ there
# (only files whose content changed, so a rebuild recompiles only those),
# and hooks the directory into the parent's Kconfig and Makefile. Running
# it again updates the copy; the hooks are added once. Edited kernel files
# are replaced, not written in place, so a hard-linked source tree keeps
# its other links intact.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 KERNEL_SOURCE_DIR [SUBDIR, default drivers/misc/kecpuhp]"
ksrc=$(cd "$1" && pwd)
sub=${2:-drivers/misc/kecpuhp}
sub=${sub%/}
[ -f "$ksrc/Makefile" ] && [ -d "$ksrc/tools/testing/kunit" ] || die "$ksrc: not a kernel source tree"
parent=$(dirname "$sub")
name=$(basename "$sub")
[ -f "$ksrc/$parent/Kconfig" ] && [ -f "$ksrc/$parent/Makefile" ] ||
	die "$ksrc/$parent has no Kconfig and Makefile to hook $name into"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy_sources "$tmp/all"
mkdir -p "$tmp/new"
for f in Kconfig Kbuild .kunitconfig COPYING include shim kunit; do
	[ -e "$tmp/all/$f" ] && cp -a "$tmp/all/$f" "$tmp/new/"
done

# Sync $tmp/new to the destination, touching only what differs.
dest=$ksrc/$sub
mkdir -p "$dest"
changed=0
while IFS= read -r -d '' f; do
	f=${f#./}
	if ! cmp -s "$tmp/new/$f" "$dest/$f"; then
		mkdir -p "$(dirname "$dest/$f")"
		cp "$tmp/new/$f" "$dest/$f.kecpuhp-new" && mv -f "$dest/$f.kecpuhp-new" "$dest/$f"
		changed=$((changed + 1))
	fi
done < <(cd "$tmp/new" && find . -type f -print0)
# Sources removed from this tree go from the copy too (not build products:
# an in-tree build without O= puts them here).
while IFS= read -r -d '' f; do
	f=${f#./}
	case "$f" in *.c | *.h | Kbuild | */Kbuild | Kconfig) ;; *) continue ;; esac
	[ -e "$tmp/new/$f" ] || { rm -f "$dest/$f"; changed=$((changed + 1)); }
done < <(cd "$dest" && find . -type f -print0)

# replace FILE: FILE's new content comes on stdin.
replace() { cat >"$1.kecpuhp-new" && mv -f "$1.kecpuhp-new" "$1"; }
mark="# kecpuhp (scripts/kunit-intree.sh)"
kconfig=$ksrc/$parent/Kconfig
if ! grep -qF "source \"$sub/Kconfig\"" "$kconfig"; then
	# Before the menu's last endmenu if it has one, else at the end.
	if grep -q '^endmenu' "$kconfig"; then
		awk -v line="source \"$sub/Kconfig\"" -v last="$(grep -n '^endmenu' "$kconfig" | tail -n 1 | cut -d: -f1)" \
			'NR == last { print line } { print }' "$kconfig" | replace "$kconfig"
	else
		{ cat "$kconfig"; printf 'source "%s/Kconfig"\n' "$sub"; } | replace "$kconfig"
	fi
	say "hooked $sub/Kconfig into $parent/Kconfig"
fi
makefile=$ksrc/$parent/Makefile
if ! grep -qF "obj-\$(CONFIG_KECPUHP)" "$makefile"; then
	{ cat "$makefile"; printf '%s\nobj-$(CONFIG_KECPUHP)\t\t+= %s/\n' "$mark" "$name"; } |
		replace "$makefile"
	say "hooked $name/ into $parent/Makefile"
fi
say "kecpuhp in $dest ($changed files updated)"
echo "$dest"
