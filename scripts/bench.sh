#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: kecpuhp against the native cpuhp way, in one guest, one run.
# By default the guest runs Debian's stock 6.12 kernel (no lockdep/KASAN,
# which would distort the ratios) with modules built against its headers;
# BENCH_KERNEL=test uses the debug test kernel instead. Prints a table and
# writes the same rows as JSON to build/bench.json (or BENCH_JSON).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$KECPUHP_TOP"

REL=$(debian_release 6.12)
out=$KECPUHP_TOP/build/bench
json=${BENCH_JSON:-$KECPUHP_TOP/build/bench.json}
rm -rf "$out" && mkdir -p "$out"

if [ "${BENCH_KERNEL:-stock}" = test ]; then
	kdir=$(bash scripts/build-kernel.sh | tail -n 1)
	kernel=$kdir/arch/x86/boot/bzImage
else
	ensure_packages "${BENCH_PACKAGES[@]}" "linux-image-$REL" "linux-headers-$REL"
	kdir=/usr/src/linux-headers-$REL
	kernel=/boot/vmlinuz-$REL
fi
say "bench kernel: $kernel"
build_modules "$out" "$kdir"
echo "${BENCH_REPS:-21}" >"$out/bench_reps"
bash scripts/mkinitramfs.sh "$out/bench.cpio.gz" scripts/guest/bench.sh \
	"$out/shim/kecpuhp.ko" "$out/bench/kecpuhp_bench.ko" "$out/bench_reps"
say "booting 26 vCPUs (2 online, 24 new) and running the benchmark (a few minutes under TCG)"
python3 scripts/qemu.py --kernel "$kernel" --initrd "$out/bench.cpio.gz" --smp 26 \
	--maxcpus 26 --mem 2048 --append "maxcpus=2" --timeout 1800 \
	--log "$out/bench.log" >/dev/null || die "the benchmark guest failed: $out/bench.log"

python3 - "$out/bench.log" "$json" "$kernel" <<'PY'
import json, re, sys
log, dest, kernel = sys.argv[1:]
rows, seen = [], set()
for line in open(log, errors="replace"):
    m = re.search(r"@@kecpuhp:bench (\{.*\})@@", line)
    if m:
        row = json.loads(m.group(1))
        if row["name"] not in seen:
            seen.add(row["name"])
            rows.append(row)
if not rows:
    sys.exit("no benchmark rows in " + log)
w = max(len(r["name"]) for r in rows)
print(f"{'measurement':<{w}}  {'unit':>5}  {'native':>12}  {'kecpuhp':>12}  {'ratio':>7}")
for r in rows:
    print(f"{r['name']:<{w}}  {r['unit']:>5}  {r['native']:>12}  {r['kecpuhp']:>12}  {r['ratio']:>7.3f}")
json.dump({"kernel": kernel, "rows": rows}, open(dest, "w"), indent=1)
print(f"JSON: {dest}")
PY
