#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: build the test kernel (cached) and the modules, run the host
# packaging checks, boot the guests (KUnit, QEMU hot-add, robustness), run
# the suites under kunit.py, and summarize everything as "N passed,
# M failed". Environment:
#   KVERS="6.12 6.1"  the test kernels
#   BOOTS="kunit hotadd robustness stress kunitpy package lint"  what to run
#   STRESS_SECONDS=60  the stress duration
set -euo pipefail
shopt -s nullglob
. "$(dirname "$0")/lib.sh"
cd "$KECPUHP_TOP"

KVERS=${KVERS:-6.12 6.1}
STRESS_SECONDS=${STRESS_SECONDS:-60}
BOOTS=${BOOTS:-kunit hotadd robustness stress kunitpy package lint}
out=$KECPUHP_TOP/build
logs=$out/logs
start=$SECONDS
rm -rf "$logs" && mkdir -p "$logs"
step() { say "[$((SECONDS - start))s] $*"; }
wanted() { [[ " $BOOTS " == *" $1 "* ]]; }

step "packages"
ensure_packages "${BENCH_PACKAGES[@]}" linux-source-6.1

boots=()
expect=()
# boot NAME KVER SMP MAXCPUS APPEND SCRIPT KDIR [QEMU-OPTION...]: one guest
# run, logged.
boot() {
	local name=$1 kver=$2 smp=$3 maxcpus=$4 append=$5 script=$6 kdir=$7 status=0
	local extra=("${@:8}")
	local mods=() ko
	wanted "${name%-*}" || return 0
	for ko in shim/kecpuhp.ko kunit/kecpuhp_test.ko kunit/kecpuhp_test_helper.ko \
		  samples/kecpuhp_sample.ko stress/kecpuhp_stress.ko stress/kecpuhp_fixture.ko; do
		[ -f "$out/$kver/$ko" ] && mods+=("$out/$kver/$ko")
	done
	mods+=(scripts/guest/modprobe-fixture.sh)
	echo "$STRESS_SECONDS" >"$out/stress_seconds"
	bash scripts/mkinitramfs.sh "$out/$name.cpio.gz" "scripts/guest/$script" \
		"${mods[@]}" "$out/stress_seconds"
	step "boot $name: -smp $smp,maxcpus=$maxcpus $append ${extra[*]}"
	python3 scripts/qemu.py --kernel "$kdir/arch/x86/boot/bzImage" \
		--initrd "$out/$name.cpio.gz" --smp "$smp" --maxcpus "$maxcpus" "${extra[@]}" \
		--append "$append" --timeout 900 --log "$logs/$name.log" \
		>/dev/null || status=$?
	step "boot $name: exit status $status, log $logs/$name.log"
	boots+=(--boot "$name=$status")
	[ "$script" != kunit.sh ] || expect+=(--expect-kunit "$logs/$name.log")
}

for kver in $KVERS; do
	step "test kernel $kver"
	kdir=$(KVER=$kver bash scripts/build-kernel.sh | tail -n 1)
	step "modules for $kver (W=1)"
	rm -rf "${out:?}/$kver" && mkdir -p "$out/$kver"
	copy_sources "$out/$kver"
	# Any compiler or modpost warning fails the build check.
	if ! make -C "$kdir" M="$out/$kver" W=1 >"$logs/build-$kver.log" 2>&1 ||
	   grep -qiE 'warning:|error:' "$logs/build-$kver.log"; then
		grep -iE 'warning:|error:' "$logs/build-$kver.log" | head -20 >&2
		echo "@@kecpuhp:result fail build-$kver see $logs/build-$kver.log@@" >"$logs/build-$kver.result"
	elif [ ! -f "$out/$kver/shim/kecpuhp.ko" ]; then
		echo "@@kecpuhp:result fail build-$kver no shim/kecpuhp.ko@@" >"$logs/build-$kver.result"
	else
		echo "@@kecpuhp:result ok build-$kver@@" >"$logs/build-$kver.result"
	fi
	[ -f "$out/$kver/kunit/kecpuhp_test.ko" ] ||
		say "no kunit/kecpuhp_test.ko for $kver: KUnit boot skipped"
	[ -f "$out/$kver/kunit/kecpuhp_test.ko" ] &&
		# Two NUMA nodes, one 8-slot socket each (APIC ids stay dense):
		# CPUs 0-7 node 0, 8-9 node 1; 2-9 are new to kecpuhp.
		boot "kunit-$kver" "$kver" 10 16 "maxcpus=2" kunit.sh "$kdir" --numa
	boot "hotadd-$kver" "$kver" 2 5 "" hotadd.sh "$kdir"
	[ "$kver" = 6.12 ] &&
		boot "robustness-$kver" "$kver" 10 10 "maxcpus=2 kmemleak=on" robustness.sh "$kdir"
	# the stress mix with failures after Complete, without kmemleak
	[ "$kver" = 6.12 ] &&
		boot "stress-$kver" "$kver" 10 10 "maxcpus=2" stress.sh "$kdir"
done

if wanted kunitpy; then
	# The suites built into Debian's 6.12 source, run by kunit.py (cached).
	step "kunit.py run: the suites built in, Debian's 6.12 source, -smp 10 maxcpus=2"
	status=0
	bash scripts/kunitpy.sh "$logs" || status=$?
	step "kunit.py: exit status $status, log $logs/kunitpy.log"
	boots+=(--boot "kunitpy=$status")
	expect+=(--expect-kunit "$logs/kunitpy.log" --console-ktap "$logs/kunitpy.log")
fi

if wanted package; then
	step "packaging checks: Debian 6.1/6.12 headers, DKMS, install"
	bash scripts/package-check.sh >"$logs/package.log" 2>"$logs/package.err" || true
	step "package cycle: make deb, lintian, dpkg -i, DKMS, stock-kernel guest, dpkg --purge"
	bash scripts/deb-check.sh "$logs" >"$logs/package-deb.log" 2>"$logs/package-deb.err" || true
fi

if wanted lint; then
	step "make lint: checkpatch, kernel-doc, sparse, SPDX, CamelCase, modinfo"
	if bash scripts/lint.sh >"$logs/lint.out" 2>&1; then
		echo "@@kecpuhp:result ok lint@@" >"$logs/lint.result"
	else
		grep '^lint:' "$logs/lint.out" | head -20 >&2
		echo "@@kecpuhp:result fail lint see $logs/lint.out@@" >"$logs/lint.result"
	fi
fi

step "summary"
python3 scripts/ktap-summary.py --kunit-py "$(kernel_source)/tools/testing/kunit/kunit.py" \
	"${boots[@]}" "${expect[@]}" "$logs"/*.log "$logs"/*.result
