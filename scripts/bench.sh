#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: kecpuhp against the native cpuhp way, in one guest, one run.
# By default the guest runs Debian's stock 6.12 kernel (no lockdep/KASAN,
# which would distort the ratios) with modules built against its headers;
# BENCH_KERNEL=test uses the debug test kernel instead. KVM is used if a
# probe boot reaches user space under it (scripts/qemu.py --accel auto),
# TCG otherwise. Prints a table and writes the same rows as JSON to
# build/bench.json (or BENCH_JSON) and a plot of the state-level cost
# against R to build/bench-states.svg (or BENCH_SVG). The previous JSON is
# kept as bench.prev.json, and the state-level medians are compared with it.
# Environment:
#   BENCH_CPUS=90    CPU slots of the guest: 2 online, the rest new
#   BENCH_BOOTS=1    guests booted; hot-add samples are pooled over them
#   BENCH_HOTADDS=31 hot-adds per side and R and boot, at most (the new CPUs
#                    are shared out: (BENCH_CPUS - 2) / 8 with R up to 10000)
#   BENCH_REPS=21    repetitions of the other measurements
#   BENCH_MAX_R=10000  the largest number of registrations
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$KECPUHP_TOP"

REL=$(debian_release 6.12)
out=$KECPUHP_TOP/build/bench
json=${BENCH_JSON:-$KECPUHP_TOP/build/bench.json}
svg=${BENCH_SVG:-$KECPUHP_TOP/build/bench-states.svg}
cpus=${BENCH_CPUS:-90}
boots=${BENCH_BOOTS:-1}
rm -rf "$out" && mkdir -p "$out"

ensure_packages "${BENCH_PACKAGES[@]}" python3-matplotlib
if [ "${BENCH_KERNEL:-stock}" = test ]; then
	kdir=$(bash scripts/build-kernel.sh | tail -n 1)
	kernel=$kdir/arch/x86/boot/bzImage
else
	ensure_packages "linux-image-$REL" "linux-headers-$REL"
	kdir=/usr/src/linux-headers-$REL
	kernel=/boot/vmlinuz-$REL
fi
say "bench kernel: $kernel"
build_modules "$out" "$kdir"
echo "reps=${BENCH_REPS:-21} hotadds=${BENCH_HOTADDS:-31} max_r=${BENCH_MAX_R:-10000}" \
	>"$out/bench_params"
bash scripts/mkinitramfs.sh "$out/bench.cpio.gz" scripts/guest/bench.sh \
	"$out/shim/kecpuhp.ko" "$out/bench/kecpuhp_floor.ko" "$out/bench/kecpuhp_bench.ko" \
	"$out/bench_params"
logs=()
for i in $(seq 1 "$boots"); do
	say "boot $i of $boots: $cpus vCPUs (2 online, $((cpus - 2)) new), running the benchmark"
	# A boot that dies before the benchmark ends (TCG has been seen to trip
	# over its own code patching while booting) is tried again, twice.
	for try in 1 2 3; do
		log=$out/bench-$i.log
		[ "$try" -eq 1 ] || log=$out/bench-$i-try$try.log
		status=0
		python3 scripts/qemu.py --kernel "$kernel" --initrd "$out/bench.cpio.gz" \
			--smp "$cpus" --maxcpus "$cpus" --mem 2048 --append "maxcpus=2" \
			--timeout 3600 --log "$log" >/dev/null || status=$?
		grep -q '@@kecpuhp:bench-done@@' "$log" && break
		say "boot $i failed (status $status, $log)"
		[ "$try" -lt 3 ] || die "the benchmark guest failed three times: $log"
	done
	logs+=("$log")
done
# Debian's interpreter: python3-matplotlib is installed for it.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
prev=()
if [ -f "$json" ]; then
	mv "$json" "${json%.json}.prev.json"
	prev=(--compare "${json%.json}.prev.json")
fi
"$py" scripts/bench-report.py --kernel "$kernel" --cpus "$cpus" --json "$json" --svg "$svg" \
	"${prev[@]}" "${logs[@]}"
