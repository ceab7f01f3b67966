#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: kecpuhp doing its job, narrated. Builds (or reuses) the test
# kernel and the modules, boots a guest with 2 of 3 CPUs online and two
# hot-add slots, loads the shim and the sample driver, hot-adds a CPU over
# QMP, onlines it, shows what the driver received and kecpuhp's view, then
# vetoes the next add, parks an add between Start and Complete, and unloads.
# Exit status 0 if every check held.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$KECPUHP_TOP"

out=$KECPUHP_TOP/build/demo
ensure_packages "${BENCH_PACKAGES[@]}"
kdir=$(bash scripts/build-kernel.sh | tail -n 1)
say "building kecpuhp.ko and the sample driver"
build_modules "$out" "$kdir"
bash scripts/mkinitramfs.sh "$out/demo.cpio.gz" scripts/guest/demo.sh \
	"$out/shim/kecpuhp.ko" "$out/samples/kecpuhp_sample.ko"
say "booting the guest (2 of 3 CPUs online, 2 hot-add slots); the console is quiet, the guest narrates"
status=0
python3 scripts/qemu.py --kernel "$kdir/arch/x86/boot/bzImage" --initrd "$out/demo.cpio.gz" \
	--smp 3 --maxcpus 5 --append "quiet maxcpus=2" --timeout 300 --log "$out/console.log" |
	python3 -u -c '
import re, sys
show = False
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("=== "):
        show = True
    m = re.search(r"@@kecpuhp:result (ok|fail) (.*)@@", line)
    if m:
        print(("  \u2714 " if m.group(1) == "ok" else "  \u2718 FAILED: ") + m.group(2))
    elif "@@kecpuhp:hotadd" in line or "@@kecpuhp:guest-exit" in line:
        continue
    elif line.startswith("host: device_add"):
        print("  (host) QMP " + line[6:])
    elif show and not re.match(r"^\[\s*\d+\.\d+\]", line):
        print(line)
' || true
status=${PIPESTATUS[0]}
echo
if [ "$status" -eq 0 ]; then
	say "demo: every check held (console log: $out/console.log)"
else
	say "demo: FAILED (status $status); console log: $out/console.log"
fi
exit "$status"
