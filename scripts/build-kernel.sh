#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) the test kernel: Debian's linux-source-$KVER with
# scripts/kernel.config merged onto allnoconfig. The build is cached outside
# the clone, keyed by source version and config; prints its directory.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ensure_packages "${BENCH_PACKAGES[@]}"
src=$(kernel_source)
out=$(kernel_build_dir)

# One build per cache entry: a second run (another checkout, a parallel
# make check) waits for the first instead of building into the same tree.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
if ! flock -n 9; then
	say "waiting for another build of $out to finish"
	flock 9
fi

if [ -f "$out/.kecpuhp-built" ]; then
	say "test kernel cached: $out"
	echo "$out"
	exit 0
fi

say "building test kernel $KVER in $out (about 9 minutes on 2 cores)"
mkdir -p "$out"
make -s -C "$src" O="$out" allnoconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
	"$KECPUHP_TOP/scripts/kernel.config" >/dev/null
make -s -C "$src" O="$out" olddefconfig >/dev/null

# An option whose dependency is missing is dropped silently: check them all.
lost=0
while read -r opt; do
	case "$opt" in CONFIG_*=y) ;; *) continue ;; esac
	grep -qx "$opt" "$out/.config" || { echo "lost after olddefconfig: $opt" >&2; lost=1; }
done <"$KECPUHP_TOP/scripts/kernel.config"
[ $lost -eq 0 ] || die "config fragment did not survive olddefconfig"

start=$SECONDS
run_with_progress "$out/build.log" make -C "$src" O="$out" -j"$(($(nproc) + 1))" ||
	die "kernel build failed, see $out/build.log"
say "kernel built in $((SECONDS - start))s"
touch "$out/.kecpuhp-built"
echo "$out"
