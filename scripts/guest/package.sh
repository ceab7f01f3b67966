# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the package cycle (busybox sh), on Debian's stock kernel.
# Boot: 3 vCPUs with maxcpus=2. Loads the kecpuhp.ko DKMS built from the
# installed kecpuhp-dkms package and the sample driver built against the
# package's headers and symbol versions, then onlines CPU2: the driver
# gets Start and Complete for NtNumber 2.
. /kecpuhp/lib.sh

insmod $M/kecpuhp.ko || { fail deb-guest-insmod-kecpuhp; exit 1; }
ok deb-guest-insmod-kecpuhp
check deb-guest-version test "$(cat /sys/module/kecpuhp/version)" = "$(cat $M/version)"
# processors: index, CPU, group, number, state, online, ...
check deb-guest-processors-2-active test "$(awk '$5 == "active" && $6 == 1' $D/processors | wc -l)" = 2
insmod $M/kecpuhp_sample.ko || { fail deb-guest-insmod-driver; exit 1; }
ok deb-guest-insmod-driver
check deb-guest-driver-registered grep -q kecpuhp_sample $D/registrations
check deb-guest-online-cpu2 sh -c "echo 1 > $C/cpu2/online"
check deb-guest-start-complete-index2 sh -c \
	"dmesg | grep -q 'kecpuhp_sample: Start index=2 ' &&
	 dmesg | grep -q 'kecpuhp_sample: Complete index=2 group=0 number=2 status=0x00000000'"
cat $D/processors $D/registrations
rmmod kecpuhp_sample && rmmod kecpuhp && ok deb-guest-unload || fail deb-guest-unload
exit $rc
