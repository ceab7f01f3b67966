#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The suites the kernel developer's way: this tree placed in a copy of
# Debian's linux-source-6.12 (scripts/kunit-intree.sh), built in, run by
# tools/testing/kunit/kunit.py on x86_64 QEMU with 10 vCPUs and maxcpus=2
# (as check.sh's KUnit boot: kunit/kecpuhp_test.h says how many new CPUs
# the suites use):
# kunit.py build, then kunit.py exec (together, kunit.py run).
#
#   scripts/kunitpy.sh LOGDIR
#
# Writes LOGDIR/kunitpy.log (the kernel console, which ktap-summary.py reads
# with --console-ktap), LOGDIR/kunitpy.out (kunit.py's own report) and
# LOGDIR/kunitpy.status (kunit.py's exit status). The source copy (hard
# links to the extracted tree, so cheap) and the build directory are cached
# in $KECPUHP_CACHE/kunitpy-<version>-<.kunitconfig options hash>; the first run
# builds a small kernel, later runs recompile kecpuhp's files and relink.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

logs=${1:?usage: $0 LOGDIR}
SMP=10
mkdir -p "$logs"
export KVER=6.12
ensure_packages "${BENCH_PACKAGES[@]}"
src=$(kernel_source)
pkgver=$(dpkg-query -W -f='${Version}' "linux-source-$KVER")
# Keyed by the options .kunitconfig sets (not its comments); Kconfig
# changes are kunit.py's to apply (it runs olddefconfig before each build).
key=$(grep -E '^CONFIG_' "$KECPUHP_TOP/.kunitconfig" | sort | sha256sum | cut -c1-12)
cache=$KECPUHP_CACHE/kunitpy-$KVER-${pkgver//[^A-Za-z0-9.+-]/_}-$key
tree=$cache/linux
build=$cache/build

# One run per cache entry at a time.
mkdir -p "$cache"
exec 9>"$cache.lock"
flock -n 9 || { say "waiting for another kunit.py run in $cache"; flock 9; }

if [ ! -f "$cache/.tree-copied" ]; then
	say "kunit.py: copying $src to $tree (hard links)"
	rm -rf "$tree"
	cp -al "$src" "$tree"
	touch "$cache/.tree-copied"
fi
bash "$KECPUHP_TOP/scripts/kunit-intree.sh" "$tree" drivers/misc/kecpuhp >/dev/null

cd "$tree"
kunit=(./tools/testing/kunit/kunit.py)
common=(--kunitconfig=drivers/misc/kecpuhp --arch=x86_64 --build_dir="$build")

# Build first, with progress lines: kunit.py's build prints nothing for
# minutes. The first build is a small x86_64 kernel (~15 minutes on 2
# busy cores); later ones only kecpuhp's objects and the link.
if [ -f "$build/arch/x86/boot/bzImage" ]; then
	say "kunit.py build (cached kernel in $build: kecpuhp's files and the link)"
else
	say "kunit.py build: first build of a small x86_64 kernel in $build (about 15 minutes on 2 cores)"
fi
bstart=$SECONDS
mkdir -p "$build"
touch "$cache/.build-start"
python3 "${kunit[@]}" build "${common[@]}" --jobs "$(($(nproc) + 1))" >"$logs/kunitpy-build.out" 2>&1 &
pid=$!
next=$((SECONDS + 30))
while kill -0 "$pid" 2>/dev/null; do
	sleep 5
	if [ $SECONDS -ge $next ]; then
		next=$((next + 30))
		say "  ... $((SECONDS - bstart))s, $(find "$build" -name '*.o' -newer "$cache/.build-start" 2>/dev/null | wc -l) objects compiled"
	fi
done
if ! wait "$pid"; then
	tail -40 "$logs/kunitpy-build.out" >&2
	echo 1 >"$logs/kunitpy.status"
	echo "@@kecpuhp:result fail kunitpy-build see $logs/kunitpy-build.out@@" >"$logs/kunitpy.log"
	exit 1
fi
say "kunit.py build done in $((SECONDS - bstart))s"

# The run (what kunit.py run does after its build): QEMU's -smp 10 with
# maxcpus=2, so CPUs 2-9 are new to kecpuhp.
say "kunit.py exec: -smp $SMP, maxcpus=2"
status=0
python3 "${kunit[@]}" exec "${common[@]}" --timeout=600 \
	--qemu_args="-smp $SMP" --kernel_args=maxcpus=2 >"$logs/kunitpy.out" 2>&1 || status=$?
echo "$status" >"$logs/kunitpy.status"
cp "$build/test.log" "$logs/kunitpy.log" 2>/dev/null || echo "no $build/test.log" >"$logs/kunitpy.log"
grep -E 'Ran [0-9]+ tests?|Testing complete' "$logs/kunitpy.out" | tail -n 1 >&2 || true
exit "$status"
