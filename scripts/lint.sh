#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: checkpatch --strict on every C source, kernel-doc on the public
# headers and the exported functions, sparse (C=2), an SPDX line on every
# source file, Windows CamelCase only where include/kecpuhp/ declares it,
# and modinfo fields. Prints one line per finding; exits 1 on any.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$KECPUHP_TOP"

ensure_packages "${BENCH_PACKAGES[@]}"
src=$(kernel_source)
kdir=$(bash scripts/build-kernel.sh | tail -n 1)
fail=0
finding() { printf 'lint: %s\n' "$*"; fail=1; }

mapfile -t csrc < <(git ls-files '*.c' '*.h')
mapfile -t allsrc < <(git ls-files '*.c' '*.h' '*.sh' '*.py' 'Kbuild' '*/Kbuild' 'Makefile' \
	'.ci/run' 'dkms.conf' 'scripts/kernel.config' 'Kconfig' '.kunitconfig' 'debian/rules')

say "checkpatch --strict (.checkpatch.conf) on ${#csrc[@]} files"
out=$("$src/scripts/checkpatch.pl" --terse --show-types -f "${csrc[@]}" 2>&1 |
	grep -v '^total: 0 errors, 0 warnings, 0 checks' || true)
[ -z "$out" ] || finding "checkpatch:" $'\n'"$out"

say "kernel-doc on the public headers and the exported functions"
exporting=$(grep -l 'EXPORT_SYMBOL' shim/*.c)
out=$("$src/scripts/kernel-doc" -none -Wall include/kecpuhp/*.h $exporting 2>&1 || true)
[ -z "$out" ] || finding "kernel-doc:" $'\n'"$out"
for f in $exporting; do
	for sym in $(sed -n 's/^EXPORT_SYMBOL_GPL(\(.*\));/\1/p' "$f"); do
		grep -q "^ \* $sym - " "$f" || finding "$f: $sym is exported without kernel-doc"
	done
done

say "sparse (C=2) against $kdir"
out=$(make -s -C "$kdir" M="$KECPUHP_TOP" C=2 CHECK="sparse -Wno-decl" 2>&1 |
	grep -E 'warning|error' || true)
[ -z "$out" ] || finding "sparse:" $'\n'"$out"

say "SPDX lines"
for f in "${allsrc[@]}"; do
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier: GPL-2.0' ||
		finding "$f: no SPDX-License-Identifier line"
done

say "versions: shim/main.c, dkms.conf, debian/changelog"
if ! why=$(kecpuhp_version 2>&1 >/dev/null); then finding "$why"; fi

say "CamelCase only at the Windows API boundary"
allowed=$(grep -ohE '\b[A-Za-z_][A-Za-z0-9_]*\b' include/kecpuhp/*.h |
	grep -E '[a-z][A-Z]|[A-Z][a-z]' | sort -u)
for f in "${csrc[@]}"; do
	case "$f" in include/kecpuhp/*) continue ;; esac
	words=$(perl -0777 -pe 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g; s{"(\\.|[^"\\])*"}{""}g' "$f" |
		grep -ohE '\b[A-Za-z_][A-Za-z0-9_]*\b' | grep -E '[a-z][A-Z]' | sort -u || true)
	for w in $words; do
		grep -qx "$w" <<<"$allowed" || finding "$f: CamelCase '$w' is not a Windows API name"
	done
done

say "modinfo"
for ko in shim/kecpuhp.ko; do
	for field in license description author version; do
		[ -n "$(/sbin/modinfo -F "$field" "$ko")" ] || finding "$ko: no $field"
	done
done

[ $fail -eq 0 ] && say "lint clean"
exit $fail
