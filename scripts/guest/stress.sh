# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the stress scenario with every kind of failure (busybox sh).
# Boot: 10 vCPUs with maxcpus=2, so CPUs 2-9 are new to kecpuhp. The stress
# module runs for half of $(cat /kecpuhp/stress_seconds) seconds with bring-up
# failures after Start, failures after Complete (an online state after
# kecpuhp's), parked adds, DPCs, affinity switches and generic calls; every
# registration checks its own view: 0 violations.
# kmemleak stays off here: 6.12 WARNs in call_rcu() from kmemleak on the next
# online of a CPU whose online was rolled back from an AP state, which is
# the kernel's, not kecpuhp's (the robustness boot runs kmemleak).
. /kecpuhp/lib.sh
insmod $M/kecpuhp.ko || { fail insmod-kecpuhp; exit 1; }
secs=$(cat $M/stress_seconds 2>/dev/null || echo 60)
secs=$(((secs + 1) / 2))
insmod $M/kecpuhp_stress.ko duration_s="$secs" fail_online_percent=30 park_percent=40
line=$(dmesg | grep 'kecpuhp_stress: seconds=' | tail -n 1)
echo "stress figures: ${line#*kecpuhp_stress: }"
case "$line" in
*" violations=0") ok "stress-failures-${secs}s" ;;
*) fail "stress-failures-${secs}s" "${line:-no-result-line}" ;;
esac
check stress-failures-after-complete sh -c \
	"dmesg | grep -q 'failed after Complete: processor index'"
rmmod kecpuhp_stress
check stress-failures-no-registration-left test "$(tail -n +2 $D/registrations | wc -l)" -eq 0
rmmod kecpuhp && ok stress-failures-unload || fail stress-failures-unload
exit $rc
