#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side checks of how people build and install kecpuhp, printed as
# "@@kecpuhp:result ok|fail NAME [why]@@" lines for ktap-summary.py:
#  - the modules build with W=1 and sparse (C=2) clean against Debian's
#    stock 6.1 and 6.12 linux-headers packages;
#  - dkms add/build/install in a throw-away DKMS tree, for both, with the
#    Module.symvers dkms-post-build.sh keeps;
#  - make install into a staging root, and a ported driver built against
#    the installed copy with the README's Kbuild snippet.
# scripts/deb-check.sh does the same for the kecpuhp-dkms package.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

HEADER_RELEASES=("$(debian_release 6.12)" "$(debian_release 6.1)")
ensure_packages dkms sparse "${HEADER_RELEASES[@]/#/linux-headers-}" >&2

result() { printf '@@kecpuhp:result %s@@\n' "$*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fresh_tree: a copy of the sources in $tmp/tree, so nothing here touches
# the working tree's build products.
fresh_tree() {
	rm -rf "$tmp/tree"
	copy_sources "$tmp/tree"
}

# check NAME CMD...: run CMD in a fresh copy of the tree; fail on a warning.
check() {
	local name=$1 out
	shift
	fresh_tree
	out=$(cd "$tmp/tree" && "$@" 2>&1)
	if [ $? -ne 0 ] || grep -qiE 'warning:|error:' <<<"$out"; then
		result "fail $name $(grep -m1 -iE 'warning:|error:' <<<"$out" || tail -n 1 <<<"$out")"
		printf '%s\n' "$out" | tail -20 >&2
	else
		result "ok $name"
	fi
}

for rel in "${HEADER_RELEASES[@]}"; do
	kdir=/usr/src/linux-headers-$rel
	check "headers-$rel-W=1" make KDIR="$kdir" W=1
	check "headers-$rel-sparse" make KDIR="$kdir" C=2
done

VERSION=$(kecpuhp_version)
dkms_check() {
	local rel=$1 src="$tmp/dkms-src/kecpuhp-$VERSION" d=(--sourcetree "$tmp/dkms-src"
	      --dkmstree "$tmp/dkms" --installtree "$tmp/dkms-install")
	mkdir -p "$tmp/dkms" "$tmp/dkms-install/$rel"
	[ -d "$src" ] || copy_sources "$src"
	dkms add -m kecpuhp -v "$VERSION" "${d[@]}" >/dev/null 2>&1
	dkms build -m kecpuhp -v "$VERSION" -k "$rel" --kernelsourcedir "/usr/src/linux-headers-$rel" \
		"${d[@]}" >"$tmp/dkms.log" 2>&1 &&
		dkms install -m kecpuhp -v "$VERSION" -k "$rel" "${d[@]}" --force >>"$tmp/dkms.log" 2>&1 &&
		ls "$tmp/dkms-install/$rel"/updates/dkms/kecpuhp.ko* >/dev/null 2>&1 &&
		# POST_BUILD kept this kernel's symbol versions for drivers' builds.
		grep -q KeRegisterProcessorChangeCallback \
			"$tmp/dkms/kecpuhp/kernel-$rel-$(uname -m)/Module.symvers"
}
for rel in "${HEADER_RELEASES[@]}"; do
	if dkms_check "$rel"; then
		result "ok dkms-$rel"
	else
		result "fail dkms-$rel see below"
		tail -20 "$tmp/dkms.log" >&2
	fi
done

install_check() {
	local kdir=/usr/src/linux-headers-${HEADER_RELEASES[0]} root=$tmp/root drv=$tmp/drv
	fresh_tree
	make -s -C "$tmp/tree" KDIR="$kdir" install DESTDIR="$root" \
		INSTALL_MOD_PATH="$root" >/dev/null 2>&1 || return 1
	mkdir -p "$drv"
	cp "$KECPUHP_TOP/samples/kecpuhp_sample.c" "$drv/mydriver.c"
	cat >"$drv/Kbuild" <<KBUILD
obj-m += mydriver.o
ccflags-y += -I$root/usr/src/kecpuhp/include
KBUILD_EXTRA_SYMBOLS += $root/usr/src/kecpuhp/\$(KERNELRELEASE)/Module.symvers
KBUILD
	make -C "$kdir" M="$drv" W=1 >"$tmp/drv.log" 2>&1 &&
		! grep -qE 'warning|WARNING' "$tmp/drv.log" &&
		[ "$(/sbin/modinfo -F depends "$drv/mydriver.ko")" = kecpuhp ] &&
		make -s -C "$tmp/tree" KDIR="$kdir" uninstall DESTDIR="$root" \
			INSTALL_MOD_PATH="$root" >/dev/null 2>&1 &&
		[ -z "$(find "$root" -type f)" ]
}
if install_check; then
	result "ok install-and-build-a-driver"
else
	result "fail install-and-build-a-driver"
	tail -20 "$tmp/drv.log" >&2 2>/dev/null
fi
exit 0
