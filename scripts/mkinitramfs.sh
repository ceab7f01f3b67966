#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh OUT.cpio.gz GUEST_SCRIPT [FILE...]
# A busybox initramfs whose /init mounts the pseudo filesystems, runs
# GUEST_SCRIPT (as /kecpuhp/guest.sh, with the FILEs beside it in /kecpuhp/),
# prints "@@kecpuhp:guest-exit N@@" with its status and powers off.
# GUEST_SCRIPT "-" gives an interactive shell instead.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: $0 OUT.cpio.gz GUEST_SCRIPT [FILE...]"
out=$(realpath -m "$1")
script=$2
shift 2
ensure_packages busybox-static cpio gzip
[ "$script" = - ] || [ -f "$script" ] || die "guest script $script not found"
for f in "$@"; do [ -f "$f" ] || die "file $f not found"; done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,kecpuhp}
cp /bin/busybox "$root/bin/busybox"
cp "$(dirname "$0")/guest/lib.sh" "$root/kecpuhp/lib.sh"
[ $# -eq 0 ] || cp "$@" "$root/kecpuhp/"
if [ "$script" = - ]; then
	printf 'echo "kecpuhp guest: modules in /kecpuhp; poweroff -f to leave"\nexec setsid cttyhack sh\n' \
		>"$root/kecpuhp/guest.sh"
else
	cp "$script" "$root/kecpuhp/guest.sh"
fi
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t tmpfs tmpfs /tmp
cd /kecpuhp
sh /kecpuhp/guest.sh
echo "@@kecpuhp:guest-exit $?@@"
poweroff -f
INIT
chmod +x "$root/init"
mkdir -p "$(dirname "$out")"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
