#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-groups: processor group 1 end to end. Boots the test kernel
# with 64 CPUs online of 66 (about 2 minutes under TCG), hot-adds a 65th,
# and checks the sample driver got index 64 as group 1, number 0, with
# Complete on the new CPU. Ends in "N passed, M failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$KECPUHP_TOP"

out=$KECPUHP_TOP/build/groups
ensure_packages "${BENCH_PACKAGES[@]}"
kdir=$(bash scripts/build-kernel.sh | tail -n 1)
build_modules "$out" "$kdir"
bash scripts/mkinitramfs.sh "$out/groups.cpio.gz" scripts/guest/groups.sh \
	"$out/shim/kecpuhp.ko" "$out/samples/kecpuhp_sample.ko"
say "booting 64 of 66 CPUs (about 2 minutes under TCG)"
start=$SECONDS
status=0
python3 scripts/qemu.py --kernel "$kdir/arch/x86/boot/bzImage" --initrd "$out/groups.cpio.gz" \
	--smp 64 --maxcpus 66 --mem 2048 --timeout 1500 --log "$out/groups.log" \
	>/dev/null || status=$?
say "guest done in $((SECONDS - start))s"
python3 scripts/ktap-summary.py --boot "groups=$status" "$out/groups.log"
