#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The package cycle, on this machine (root): make deb and lintian; dpkg -i
# of kecpuhp-dkms; DKMS built and installed kecpuhp for every stock Debian
# 6.1 and 6.12 header set; a driver builds against the installed package
# (headers and Module.symvers, as the README says); the installed module and
# that driver load in a guest running Debian's stock 6.12 kernel and handle
# a CPU online; dpkg --purge leaves no file behind. Prints
# "@@kecpuhp:result ok|fail NAME [why]@@" lines for ktap-summary.py.
#
#   scripts/deb-check.sh LOGDIR     (LOGDIR/package-guest.log: the guest)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$KECPUHP_TOP"

logs=$(realpath -m "${1:?usage: $0 LOGDIR}")
mkdir -p "$logs"
: >"$logs/package-deb-dpkg.log"
[ "$(id -u)" -eq 0 ] || die "the package cycle installs a package: run it as root"
HEADER_RELEASES=("$(debian_release 6.12)" "$(debian_release 6.1)")
REL=${HEADER_RELEASES[0]}
ensure_packages dkms "${HEADER_RELEASES[@]/#/linux-headers-}" "linux-image-$REL" \
	busybox-static qemu-system-x86
ARCH=$(uname -m)

result() { printf '@@kecpuhp:result %s@@\n' "$*"; }
# expect NAME CMD...: a result line for CMD's status.
expect() {
	local name=$1
	shift
	if "$@"; then result "ok $name"; else result "fail $name"; fi
}
tmp=$(mktemp -d)
installed=0
cleanup() {
	# Never leave the package installed, whatever failed.
	if [ $installed -eq 1 ] && dpkg-query -W kecpuhp-dkms >/dev/null 2>&1; then
		dpkg_wait --purge kecpuhp-dkms >>"$logs/package-deb-dpkg.log" 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
# dpkg_wait ARGS...: dpkg, waiting (up to 10 minutes) while another dpkg or
# apt on this machine holds the lock.
dpkg_wait() {
	local i
	for i in $(seq 120); do
		dpkg "$@" && return 0
		fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock >/dev/null 2>&1 || return 1
		[ "$i" -gt 1 ] || say "dpkg is locked by another process: waiting"
		sleep 5
	done
	return 1
}

# What a purge must restore: every file and link (and kecpuhp's dirs)
# under the places the package and DKMS write to.
snapshot() {
	local d dirs=()
	for d in /usr/src /var/lib/dkms /lib/modules/*/updates; do
		[ -d "$d" ] && dirs+=("$d")
	done
	# Not the machine's DKMS signing key: DKMS makes it at its first
	# build and keeps it for every module, as it should.
	find "${dirs[@]}" \( ! -type d -o -name '*kecpuhp*' \) -print |
		grep -vxE '/var/lib/dkms/mok\.(key|pub)' | sort
}

say "make deb and lintian"
if deb=$(bash scripts/deb.sh 2>"$logs/package-deb-build.log" | tail -n 1) && [ -f "$deb" ]; then
	result "ok deb-build $(basename "$deb")"
	result "ok deb-lintian-no-errors"
	w=$(grep -c '^W:' "$KECPUHP_TOP/build/deb/lintian.log" || true)
	expect "deb-lintian-no-warnings" test "$w" = 0
else
	result "fail deb-build see $logs/package-deb-build.log"
	tail -20 "$logs/package-deb-build.log" >&2
	exit 0
fi
ver=$(kecpuhp_version)

if dpkg-query -W -f='${Status}' kecpuhp-dkms 2>/dev/null | grep -q installed; then
	say "kecpuhp-dkms is installed already (an interrupted run?): purging it first"
	dpkg_wait --purge kecpuhp-dkms >>"$logs/package-deb-dpkg.log" 2>&1 || true
fi
snapshot >"$tmp/before"
say "dpkg -i $deb"
installed=1
if dpkg_wait -i "$deb" >>"$logs/package-deb-dpkg.log" 2>&1; then
	result "ok deb-dpkg-install"
else
	result "fail deb-dpkg-install see $logs/package-deb-dpkg.log"
	tail -20 "$logs/package-deb-dpkg.log" >&2
fi

for rel in "${HEADER_RELEASES[@]}"; do
	# The postinst builds for every kernel in /lib/modules when the running
	# kernel is not a Debian one (as here), else for the running and the
	# newest; dkms's kernel hook builds for kernels installed later. What
	# it did not build, a kernel install would: run dkms autoinstall.
	if ! ls /lib/modules/"$rel"/updates/dkms/kecpuhp.ko* >/dev/null 2>&1; then
		say "the postinst did not build for $rel: dkms autoinstall -k $rel"
		dkms autoinstall -k "$rel" >>"$logs/package-deb-dpkg.log" 2>&1 || true
	fi
	expect "deb-dkms-installed-$rel" sh -c \
		"dkms status -m kecpuhp -v $ver -k $rel | grep -q ': installed' &&
		 ls /lib/modules/$rel/updates/dkms/kecpuhp.ko* >/dev/null 2>&1"
	expect "deb-dkms-symvers-$rel" grep -q 'KeRegisterProcessorChangeCallback' \
		"/var/lib/dkms/kecpuhp/kernel-$rel-$ARCH/Module.symvers"

	# A ported driver (the sample) built with the README's Kbuild lines.
	drv=$tmp/drv-$rel
	mkdir -p "$drv"
	cp samples/kecpuhp_sample.c "$drv/"
	cat >"$drv/Kbuild" <<KBUILD
obj-m += kecpuhp_sample.o
ccflags-y += -I/usr/src/kecpuhp/include
KBUILD_EXTRA_SYMBOLS += /var/lib/dkms/kecpuhp/kernel-\$(KERNELRELEASE)-$ARCH/Module.symvers
KBUILD
	if make -C "/usr/src/linux-headers-$rel" M="$drv" W=1 >"$logs/package-deb-driver-$rel.log" 2>&1 &&
	   ! grep -qE 'warning|WARNING|error' "$logs/package-deb-driver-$rel.log" &&
	   [ "$(/sbin/modinfo -F depends "$drv/kecpuhp_sample.ko")" = kecpuhp ]; then
		result "ok deb-driver-builds-against-package-$rel"
	else
		result "fail deb-driver-builds-against-package-$rel see $logs/package-deb-driver-$rel.log"
		tail -10 "$logs/package-deb-driver-$rel.log" >&2
	fi
done

# The installed module and the driver in a guest on the stock kernel.
ko=$(ls /lib/modules/"$REL"/updates/dkms/kecpuhp.ko* 2>/dev/null | head -n 1 || true)
if [ -n "$ko" ] && [ -f "$tmp/drv-$REL/kecpuhp_sample.ko" ]; then
	case $ko in
	*.xz) xz -dc "$ko" >"$tmp/kecpuhp.ko" ;;
	*.zst) zstd -qdc "$ko" >"$tmp/kecpuhp.ko" ;;
	*.gz) gzip -dc "$ko" >"$tmp/kecpuhp.ko" ;;
	*) cp "$ko" "$tmp/kecpuhp.ko" ;;
	esac
	echo "$ver" >"$tmp/version"
	bash scripts/mkinitramfs.sh "$tmp/package.cpio.gz" scripts/guest/package.sh \
		"$tmp/kecpuhp.ko" "$tmp/drv-$REL/kecpuhp_sample.ko" "$tmp/version"
	say "guest: stock /boot/vmlinuz-$REL, -smp 3 with maxcpus=2, the DKMS-built module"
	status=0
	python3 scripts/qemu.py --kernel "/boot/vmlinuz-$REL" --initrd "$tmp/package.cpio.gz" \
		--smp 3 --maxcpus 3 --append "maxcpus=2" --timeout 600 \
		--log "$logs/package-guest.log" >/dev/null || status=$?
	expect "deb-guest-boot-$REL (exit status $status)" test "$status" = 0
else
	result "fail deb-guest-boot-$REL no installed module or driver to load"
fi

say "dpkg --purge kecpuhp-dkms"
if dpkg_wait --purge kecpuhp-dkms >>"$logs/package-deb-dpkg.log" 2>&1; then
	result "ok deb-dpkg-purge"
else
	result "fail deb-dpkg-purge see $logs/package-deb-dpkg.log"
fi
installed=0
snapshot >"$tmp/after"
if diff "$tmp/before" "$tmp/after" >"$logs/package-deb-purge.diff"; then
	result "ok deb-purge-leaves-nothing"
else
	result "fail deb-purge-leaves-nothing see $logs/package-deb-purge.diff"
	head -20 "$logs/package-deb-purge.diff" >&2
fi
exit 0
