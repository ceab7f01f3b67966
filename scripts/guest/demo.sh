# SPDX-License-Identifier: GPL-2.0
#
# Guest side of make demo (busybox sh): 2 of 4 CPUs online. Narrates what
# happens and checks it: every check prints @@kecpuhp:result ok|fail ...@@,
# which the host shows as a tick or a cross.
. /kecpuhp/lib.sh
T=/sys/kernel/tracing
dmesg -n 1

step() { printf '\n=== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; sh -c "$*" 2>&1 | sed 's/^/  /'; }
# the driver's lines since the last call
seen=0
driver_log() {
	dmesg | grep -E 'kecpuhp_sample:|kecpuhp: ' | sed 's/^\[[ 0-9.]*\] //' > /tmp/log
	tail -n +$((seen + 1)) /tmp/log | sed 's/^/  | /'
	seen=$(wc -l < /tmp/log)
}

step "A guest with CPUs $(cat $C/online) online out of $(cat $C/possible) possible"
step "Load kecpuhp and the sample ported driver (KE_PROCESSOR_CHANGE_ADD_EXISTING)"
run insmod /kecpuhp/kecpuhp.ko
run insmod /kecpuhp/kecpuhp_sample.ko
echo 1 > $T/events/kecpuhp/enable 2>/dev/null
echo "The driver was told about the processors that already exist:"
driver_log
run cat $D/processors

step "Hot-add a CPU over QMP (device_add), then online it through sysfs"
check "CPU2 hot-added (present, offline)" hotadd 2
run cat $C/cpu2/online
run "echo 1 > $C/cpu2/online"
sleep 1
echo "What the driver received (state, NtNumber, group/number), and the work it did"
echo "in Complete with Windows calls only: its thread's group affinity switched to"
echo "ProcNumber, a DPC targeted at it, and KeGenericCallDpc over every processor:"
driver_log
check "Start then Complete for index 2" sh -c \
	"grep -q 'Start index=2 group=0 number=2 ' /tmp/log &&
	 grep -q 'Complete index=2 group=0 number=2 status=0x00000000' /tmp/log"
check "Complete ran work on CPU2 by affinity and by a targeted DPC" sh -c \
	"grep -q 'work for index=2 ran on cpu=2 (index 2' /tmp/log &&
	 grep -q 'DPC for index=2 ran on cpu=2 (index 2)' /tmp/log"
check "KeGenericCallDpc in Complete included the new processor, barrier TRUE once" \
	grep -q 'KeGenericCallDpc ran on 3 processors (index 2 among them: yes), barrier TRUE on 1' /tmp/log
echo "kecpuhp's view:"
run cat $D/processors
run cat $D/registrations
echo "The tracepoint (kecpuhp:kecpuhp_notify):"
grep -v '^#' $T/trace 2>/dev/null | sed 's/^ */  /' | tail -n 2

step "Arm a veto in the driver (veto_next=1) and hot-add another CPU"
run "echo 1 > /sys/module/kecpuhp_sample/parameters/veto_next"
check "CPU3 hot-added (present, offline)" hotadd 3
run "echo 1 > $C/cpu3/online"
sleep 1
driver_log
check "online refused, CPU3 still offline" test "$(cat $C/cpu3/online)" = 0
check "Failure delivered for index 3 with the veto status" \
	grep -q 'Failure index=3 group=0 number=3 .*status=0xc000009a' /tmp/log
check "kecpuhp named the vetoing callback" grep -q 'vetoed by sample_processor_change' /tmp/log
run cat $D/processors

step "Unload the driver, then kecpuhp"
run rmmod kecpuhp_sample
run rmmod kecpuhp
driver_log
check "clean unload" sh -c "! lsmod | grep -q kecpuhp && ! dmesg | grep -qE 'WARNING:|BUG:'"
exit $rc
