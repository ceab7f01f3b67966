# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the experiment VM (busybox sh). Loads kecpuhp (and the
# sample driver if it is here), serves commands from the host on ttyS1
# (scripts/vm.py), and gives a shell on the console when interactive.
M=/kecpuhp
insmod $M/kecpuhp.ko
[ -f $M/kecpuhp_sample.ko ] && insmod $M/kecpuhp_sample.ko
echo 1 > /sys/kernel/tracing/events/kecpuhp/enable 2>/dev/null
if [ -e /dev/ttyS1 ]; then
	stty -F /dev/ttyS1 raw -echo
	(while read -r line; do
		sh -c "$line" 2>&1
		echo "@@kecpuhp:done $?@@"
	done </dev/ttyS1 >/dev/ttyS1) &
fi
if [ -f $M/interactive ]; then
	echo "kecpuhp guest: CPUs $(cat /sys/devices/system/cpu/online) online of" \
		"$(cat /sys/devices/system/cpu/possible); debugfs in /sys/kernel/debug/kecpuhp"
	echo "From the host: scripts/vm.py hotadd N | online N | offline N | debugfs | sh CMD"
	echo "poweroff -f to leave"
	setsid cttyhack sh
else
	while :; do sleep 3600; done
fi
