#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A guest for CPU-hotplug experiments with kecpuhp loaded.
#   scripts/vm.sh [--kver 6.12|6.1] [--kernel BZIMAGE] [--smp N] [--maxcpus M]
#                 [--append ARGS] [--sample] [--interactive]
# Interactive: the guest shell is on this terminal. Otherwise the guest runs
# in the background until `scripts/vm.py stop`. Either way, from another
# terminal: scripts/vm.py hotadd N | online N | offline N | debugfs [FILE]
# | sh CMD | status | stop. Sockets and the console log are in build/vm/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$KECPUHP_TOP"

smp=2 maxcpus=4 append="" sample=false interactive=false kernel=""
while [ $# -gt 0 ]; do
	case "$1" in
	--kver) KVER=$2; shift ;;
	--kernel) kernel=$2; shift ;;
	--smp) smp=$2; shift ;;
	--maxcpus) maxcpus=$2; shift ;;
	--append) append=$2; shift ;;
	--sample) sample=true ;;
	--interactive) interactive=true ;;
	*) die "unknown option $1 (see the top of $0)" ;;
	esac
	shift
done

out=$KECPUHP_TOP/build/vm
ensure_packages "${BENCH_PACKAGES[@]}"
kdir=$(KVER=$KVER bash scripts/build-kernel.sh | tail -n 1)
[ -n "$kernel" ] || kernel=$kdir/arch/x86/boot/bzImage
rm -rf "$out"
build_modules "$out/src" "$kdir"
files=("$out/src/shim/kecpuhp.ko")
$sample && files+=("$out/src/samples/kecpuhp_sample.ko")
$interactive && touch "$out/interactive" && files+=("$out/interactive")
bash scripts/mkinitramfs.sh "$out/vm.cpio.gz" scripts/guest/vm.sh "${files[@]}"

args=(--kernel "$kernel" --initrd "$out/vm.cpio.gz" --smp "$smp" --maxcpus "$maxcpus"
      --append "$append" --qmp "$out/qmp.sock" --control "$out/ctl.sock" --timeout 86400)
if $interactive; then
	exec python3 scripts/qemu.py "${args[@]}" --interactive
fi
nohup python3 scripts/qemu.py "${args[@]}" --log "$out/console.log" >/dev/null 2>&1 &
echo $! >"$out/pid"
say "guest starting (pid $(cat "$out/pid")); console log: $out/console.log"
python3 scripts/vm.py wait && say "ready: scripts/vm.py status"
