# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the robustness scenarios (busybox sh). Boot: 10 vCPUs with
# maxcpus=2 and kmemleak=on, so CPUs 2-9 are new to kecpuhp.
#  - a driver unloaded with a live registration: named in the log,
#    deregistered on its behalf, and a later hot-add runs no callback of it;
#    the same for an available-CPUs registration;
#  - allocation failures in Register (failslab, this task only): NULL, no
#    registration left, nothing leaked;
#  - the stress module for $(cat /kecpuhp/stress_seconds) seconds: 0 violations;
#  - kmemleak finds nothing of kecpuhp's.
# Each check prints @@kecpuhp:result ok|fail NAME [why]@@.

. /kecpuhp/lib.sh
P=/sys/module/kecpuhp_fixture/parameters
F=/sys/kernel/debug/failslab
regs() { tail -n +2 $D/registrations | wc -l; }

insmod $M/kecpuhp.ko || { fail insmod-kecpuhp; exit 1; }

# A driver unloaded without deregistering.
insmod $M/kecpuhp_fixture.ko leak=1
check unload-leak-listed grep -q 'fixture_callback.*kecpuhp_fixture' $D/registrations
rmmod kecpuhp_fixture
check unload-leak-named sh -c "dmesg | grep -q 'module kecpuhp_fixture unloaded without deregistering processor-change callback fixture_callback'"
check unload-leak-removed test "$(regs)" -eq 0
check unload-leak-then-hotadd sh -c 'echo 1 > /sys/devices/system/cpu/cpu2/online'

# The same with an available-CPUs registration, its 1 s call running.
insmod $M/kecpuhp_fixture.ko avail_leak=1
rmmod kecpuhp_fixture
check unload-avail-leak-named sh -c "dmesg | grep -q 'module kecpuhp_fixture unloaded without unregistering available-CPUs callback fixture_avail_callback'"

# Allocation failure in Register: every allocation of this task fails.
insmod $M/kecpuhp_fixture.ko
echo Y > $F/task-filter; echo N > $F/ignore-gfp-wait; echo -1 > $F/times
echo 0 > $F/verbose; echo 100 > $F/probability
for space in 0 32; do
	echo $space > $F/space
	echo 1 > $P/try_register
	check "failslab-register-null-space$space" test "$(cat $P/last_result)" = null
done
echo 0 > $F/probability
echo 1 > $P/try_register
check failslab-register-recovers test "$(cat $P/last_result)" = handle
check failslab-no-registration-left test "$(regs)" -eq 0
rmmod kecpuhp_fixture

# Stress: registrations against hotplug and injected bring-up failures.
secs=$(cat $M/stress_seconds 2>/dev/null || echo 60)
# No failures after Complete here: with kmemleak on, 6.12 WARNs in call_rcu()
# on the next online of a CPU whose online was rolled back from an AP state
# (scripts/guest/stress.sh runs those, without kmemleak).
insmod $M/kecpuhp_stress.ko duration_s="$secs" fail_online_percent=0
line=$(dmesg | grep 'kecpuhp_stress: seconds=' | tail -n 1)
echo "stress figures: ${line#*kecpuhp_stress: }"
case "$line" in
*" violations=0") ok "stress-${secs}s" ;;
*) fail "stress-${secs}s" "${line:-no-result-line}" ;;
esac
rmmod kecpuhp_stress
check stress-no-registration-left test "$(regs)" -eq 0

# kmemleak: two scans, as its documentation advises, while kecpuhp is still
# loaded so that its backtraces name our functions.
if [ -e /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak; sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	if grep -q kecpuhp /sys/kernel/debug/kmemleak; then
		cat /sys/kernel/debug/kmemleak
		fail kmemleak "leak in kecpuhp"
	else
		ok kmemleak
	fi
fi
rmmod kecpuhp || fail rmmod-kecpuhp
exit $rc
