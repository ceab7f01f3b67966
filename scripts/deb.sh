#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: build kecpuhp-dkms_<version>_all.deb (and the native source
# package) from debian/ in build/deb/, from a copy of the sources so the
# working tree stays clean, then run lintian on it: an E: line fails.
# Installs its own build dependencies. Prints the .deb's path last.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$KECPUHP_TOP"

ensure_packages dpkg-dev debhelper dh-dkms lintian
ver=$(kecpuhp_version) || die "fix the version numbers first"
out=$KECPUHP_TOP/build/deb
rm -rf "$out" && mkdir -p "$out"
copy_sources "$out/kecpuhp-$ver"
say "dpkg-buildpackage in $out/kecpuhp-$ver"
(cd "$out/kecpuhp-$ver" && dpkg-buildpackage -us -uc -ui) >"$out/build.log" 2>&1 ||
	{ tail -30 "$out/build.log" >&2; die "dpkg-buildpackage failed, see $out/build.log"; }
deb=$out/kecpuhp-dkms_${ver}_all.deb
[ -f "$deb" ] || die "no $deb"

say "lintian"
lintian --info --display-info --pedantic "$out"/kecpuhp_"${ver}"_*.changes >"$out/lintian.log" 2>&1 || true
cat "$out/lintian.log" >&2
if grep -q '^E:' "$out/lintian.log"; then
	die "lintian reported errors"
fi
say "$(grep -c '^W:' "$out/lintian.log") lintian warnings"
echo "$deb"
