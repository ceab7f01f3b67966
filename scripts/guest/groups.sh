# SPDX-License-Identifier: GPL-2.0
#
# Guest side of make check-groups (busybox sh): 64 CPUs online of 66
# possible. A hot-added 65th processor gets index 64: group 1, number 0.
. /kecpuhp/lib.sh

check groups-64-online test "$(cat $C/online)" = 0-63
insmod $M/kecpuhp.ko && insmod $M/kecpuhp_sample.ko || { fail groups-insmod; exit 1; }
check groups-index63 grep -q '^63 63 0 63 active 1 -$' $D/processors
check groups-hotadd-cpu64 hotadd 64
check groups-online-cpu64 sh -c "echo 1 > $C/cpu64/online"
check groups-start-group1 sh -c "dmesg | grep -q 'kecpuhp_sample: Start index=64 group=1 number=0 status'"
check groups-complete-group1 \
	sh -c "dmesg | grep -q 'kecpuhp_sample: Complete index=64 group=1 number=0 status=0x00000000'"
check groups-dpc-on-cpu64 sh -c "dmesg | grep -q 'kecpuhp_sample: DPC for index=64 ran on cpu=64 (index 64)'"
check groups-processors-index64 grep -q '^64 64 1 0 active 1 -$' $D/processors
check groups-work-on-cpu64 sh -c "dmesg | grep -q 'kecpuhp_sample: work for index=64 ran on cpu=64'"
rmmod kecpuhp_sample && rmmod kecpuhp || fail groups-unload
exit $rc
