# SPDX-License-Identifier: GPL-2.0
#
# Guest side of make demo (busybox sh): 2 of 3 CPUs online (maxcpus=2: CPU2
# is present but never onlined), 2 empty slots for QMP hot-add (CPUs 3, 4).
# Narrates what happens and checks it: every check prints
# @@kecpuhp:result ok|fail ...@@, which the host shows as a tick or a cross.
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
check "CPU3 hot-added (present, offline)" hotadd 3
run cat $C/cpu3/online
run "echo 1 > $C/cpu3/online"
sleep 1
echo "What the driver received (state, NtNumber, group/number, Linux CPU, the CPU it ran on):"
driver_log
check "Start then Complete for index 2 (CPU3)" sh -c \
	"grep -q 'Start index=2 group=0 number=2 cpu=3' /tmp/log &&
	 grep -q 'Complete index=2 group=0 number=2 cpu=3' /tmp/log"
echo "kecpuhp's view:"
run cat $D/processors
run cat $D/registrations
run cat $D/add_thread
echo "The tracepoint (kecpuhp:kecpuhp_notify): both notifications from the add thread:"
grep -v '^#' $T/trace 2>/dev/null | grep 'index=2 ' | sed 's/^ */  /' | tail -n 2
check "Start and Complete delivered by one task, kecpuhp_add" sh -c \
	"[ \$(grep -v '^#' $T/trace | grep 'index=2 ' | grep -o 'task=[^ ]*' | sort -u | wc -l) = 1 ] &&
	 grep 'Complete index=2 ' $T/trace | grep -q 'task=kecpuhp_add/'"

step "Arm a veto in the driver (veto_next=1) and hot-add another CPU"
run "echo 1 > /sys/module/kecpuhp_sample/parameters/veto_next"
check "CPU4 hot-added (present, offline)" hotadd 4
run "echo 1 > $C/cpu4/online"
sleep 1
driver_log
check "online refused, CPU4 still offline" test "$(cat $C/cpu4/online)" = 0
check "Failure delivered for index 3 with the veto status" \
	grep -q 'Failure index=3 group=0 number=3 .*status=0xc000009a' /tmp/log
check "kecpuhp named the vetoing callback" grep -q 'vetoed by sample_processor_change' /tmp/log
run cat $D/processors

step "Park an add between Start and Complete (cpu2/hotplug/target = kecpuhp's prepare state)"
prep=$(sed -n 's/^prepare //p' $D/cpuhp_states)
run "echo $prep > $C/cpu2/hotplug/target"
driver_log
run cat $D/add_thread
run cat $D/processors
check "CPU2's add is in flight: Start delivered, index 3 started" sh -c \
	"grep -q 'in-flight cpu 2 index 3 state started' $D/add_thread &&
	 grep -q '^3 2 0 3 started' $D/processors"
echo "Another CPU cannot be added while one add is parked:"
run "echo 1 > $C/cpu4/online"
check "CPU4's online refused (EPERM), no driver told" sh -c \
	"test \$(cat $C/cpu4/online) = 0 && ! dmesg | grep -q 'Start index=4'"
echo "Now finish CPU2's online: Complete, from the same add thread:"
run "echo 1 > $C/cpu2/online"
sleep 1
driver_log
check "Complete for index 3 (CPU2), CPU2 online" sh -c \
	"grep -q 'Complete index=3 group=0 number=3' /tmp/log && test \$(cat $C/cpu2/online) = 1"
grep -v '^#' $T/trace 2>/dev/null | grep 'index=3 ' | sed 's/^ */  /' | tail -n 2

step "Unload the driver, then kecpuhp"
run rmmod kecpuhp_sample
run rmmod kecpuhp
driver_log
check "clean unload" sh -c "! lsmod | grep -q kecpuhp && ! dmesg | grep -qE 'WARNING:|BUG:'"
exit $rc
