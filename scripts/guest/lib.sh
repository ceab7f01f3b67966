# SPDX-License-Identifier: GPL-2.0
# Helpers for the guest scripts (busybox sh), installed as /kecpuhp/lib.sh.
# Each check prints @@kecpuhp:result ok|fail NAME [why]@@ for the host.
M=/kecpuhp
C=/sys/devices/system/cpu
D=/sys/kernel/debug/kecpuhp
rc=0

ok() { echo "@@kecpuhp:result ok $*@@"; }
fail() { echo "@@kecpuhp:result fail $*@@"; rc=1; }
check() { what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

# hotadd CORE: ask the host to device_add a CPU, wait for its sysfs entry.
hotadd() {
	echo "@@kecpuhp:hotadd $1@@"
	i=0
	while [ ! -e $C/cpu$1/online ] && [ $i -lt 240 ]; do sleep 0.5; i=$((i + 1)); done
	[ -e $C/cpu$1/online ]
}
