# SPDX-License-Identifier: GPL-2.0
# Guest side of make bench: 26 vCPUs booted with maxcpus=2. The rows come
# from the kernel log, once each (the console is quietened first).
dmesg -n 1
insmod /kecpuhp/kecpuhp.ko || exit 1
insmod /kecpuhp/kecpuhp_bench.ko reps="$(cat /kecpuhp/bench_reps 2>/dev/null || echo 21)" || exit 1
dmesg | grep -o '@@kecpuhp:bench.*@@'
rmmod kecpuhp_bench
rmmod kecpuhp
