# SPDX-License-Identifier: GPL-2.0
# Guest side of make bench: N vCPUs booted with maxcpus=2. The rows come
# from the kernel log, once each (the console is quietened first).
# /kecpuhp/bench_params holds the module parameters (reps, hotadds).
dmesg -n 1
insmod /kecpuhp/kecpuhp.ko || exit 1
insmod /kecpuhp/kecpuhp_floor.ko || exit 1
# kecpuhp's two cpuhp states, for the bench's tracepoint probes.
H=/sys/devices/system/cpu/hotplug/states
p=$(sed -n 's/^ *\([0-9]*\): kecpuhp:prepare$/\1/p' $H)
o=$(sed -n 's/^ *\([0-9]*\): kecpuhp:online$/\1/p' $H)
[ -n "$p" ] && [ -n "$o" ] && states=$p,$o
[ -n "$states" ] || echo "bench: kecpuhp's cpuhp states not found: no state-level rows"
# shellcheck disable=SC2046
insmod /kecpuhp/kecpuhp_bench.ko $(cat /kecpuhp/bench_params 2>/dev/null) \
	${states:+ke_state=$states} || exit 1
dmesg | grep -o '@@kecpuhp:bench.*@@'
rmmod kecpuhp_bench
rmmod kecpuhp_floor
rmmod kecpuhp
