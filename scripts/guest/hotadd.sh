# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the QEMU hot-add scenario (busybox sh). Boot: 2 of 5
# possible CPUs online. The sample driver is registered with ADD_EXISTING;
# the host hot-adds CPUs over QMP when asked, the guest onlines them through
# sysfs, and the sample's log and kecpuhp's debugfs must show:
#  - Start then Complete for NtNumber 2 and 3, both from kecpuhp's add thread;
#  - with veto_next=1, a refused add: the online write fails, the CPU stays
#    offline, Failure delivered, the vetoing callback named.
. /kecpuhp/lib.sh
# logged MARK LINE: LINE was logged after the line MARK was.
logged() { dmesg | sed -n "/$1/,\$p" | grep -q "$2"; }

[ -f $M/kecpuhp_sample.ko ] || { fail hotadd no-sample-module; exit 1; }
check boot-2-online test "$(cat $C/online)" = 0-1
insmod $M/kecpuhp.ko || { fail insmod-kecpuhp; exit 1; }
insmod $M/kecpuhp_sample.ko || { fail insmod-kecpuhp_sample; exit 1; }
echo 1 > /sys/kernel/tracing/events/kecpuhp/enable 2>/dev/null

for cpu in 2 3; do
	check "hotadd-cpu$cpu-present" hotadd $cpu
	check "hotadd-cpu$cpu-offline-until-onlined" test "$(cat $C/cpu$cpu/online)" = 0
	check "online-cpu$cpu" sh -c "echo 1 > $C/cpu$cpu/online"
	check "start-then-complete-index$cpu" \
		logged "kecpuhp_sample: Start index=$cpu group=0 number=$cpu cpu=$cpu" \
		"kecpuhp_sample: Complete index=$cpu group=0 number=$cpu cpu=$cpu .*status=0x00000000"
	check "processors-index$cpu-active" grep -q "^$cpu $cpu 0 $cpu active 1 -$" $D/processors
done
check trace-start-complete sh -c \
	"grep -q 'kecpuhp_notify: Start index=3 .*task=kecpuhp_add/' /sys/kernel/tracing/trace &&
	 grep -q 'kecpuhp_notify: Complete index=3 .*cpu=3 .*task=kecpuhp_add/' /sys/kernel/tracing/trace"

# Offline and online again: Windows sees nothing, the index stays.
echo 0 > $C/cpu3/online
n=$(dmesg | grep -c 'kecpuhp_sample: ')
echo 1 > $C/cpu3/online
check reonline-no-notification test "$(dmesg | grep -c 'kecpuhp_sample: ')" = "$n"

# A veto keeps the hot-added CPU offline.
echo 1 > /sys/module/kecpuhp_sample/parameters/veto_next
check hotadd-cpu4-present hotadd 4
if echo 1 > $C/cpu4/online; then fail veto-online-refused; else ok veto-online-refused; fi
check veto-cpu4-offline test "$(cat $C/cpu4/online)" = 0
check veto-failure-delivered logged "kecpuhp_sample: Start index=4" \
	"kecpuhp_sample: Failure index=4 .*status=0xc000009a"
check veto-callback-named sh -c \
	"dmesg | grep -q 'adding CPU4 (processor index 4) vetoed by sample_processor_change \[kecpuhp_sample\] with NTSTATUS 0xc000009a'"
check veto-no-complete sh -c "! dmesg | grep -q 'kecpuhp_sample: Complete index=4'"

cat $D/processors $D/registrations
rmmod kecpuhp_sample && rmmod kecpuhp && ok hotadd-unload || fail hotadd-unload
exit $rc
