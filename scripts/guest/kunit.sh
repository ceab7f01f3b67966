# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the KUnit run (busybox sh). Boot: 6 vCPUs with maxcpus=2,
# so CPUs 2-5 are new to kecpuhp; two NUMA nodes (qemu.py --numa, 8 slots
# in two sockets of 4), CPUs 0-3 on node 0 and 4-5 on node 1. The suites run when kecpuhp_test.ko is
# loaded; each suite's KTAP is printed from debugfs between markers.
. /kecpuhp/lib.sh
insmod $M/kecpuhp.ko || { echo "@@kecpuhp:result fail insmod-kecpuhp@@"; exit 1; }
if ! insmod $M/kecpuhp_test.ko; then
	echo "@@kecpuhp:result fail insmod-kecpuhp_test@@"
	rc=1
fi
suites=0
for d in /sys/kernel/debug/kunit/*/; do
	[ -f "$d/results" ] || continue
	suite=$(basename "$d")
	suites=$((suites + 1))
	echo "@@kecpuhp:ktap-begin $suite@@"
	cat "$d/results"
	echo "@@kecpuhp:ktap-end $suite@@"
done
[ $suites -gt 0 ] || fail kunit-suites "no suite in /sys/kernel/debug/kunit"
if rmmod kecpuhp_test && rmmod kecpuhp; then
	echo "@@kecpuhp:result ok kunit-unload@@"
else
	echo "@@kecpuhp:result fail kunit-unload@@"
	rc=1
fi
exit $rc
