# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the kecpuhp test bench. Sourced, not run.

KECPUHP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KECPUHP_CACHE=${KECPUHP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kecpuhp}
KVER=${KVER:-6.12}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_packages PKG...: install the Debian packages that are missing.
ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing Debian packages: ${missing[*]}"
	apt_update_once
	DEBIAN_FRONTEND=noninteractive $(sudo_if_needed) apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

sudo_if_needed() { [ "$(id -u)" -eq 0 ] || echo sudo; }

apt_update_once() {
	[ -f "$KECPUHP_CACHE/.apt-updated" ] && return 0
	$(sudo_if_needed) apt-get update -q >&2 || die "apt-get update failed"
	mkdir -p "$KECPUHP_CACHE" && touch "$KECPUHP_CACHE/.apt-updated"
}

# debian_release SERIES: the newest Debian amd64 kernel release of SERIES
# (6.1 or 6.12) whose headers are installed, or else the newest on offer.
debian_release() {
	local re r
	case $1 in
	6.1) re='6\.1\.0-[0-9]+-amd64' ;;
	6.12) re='6\.12\.[0-9]+\+deb12-amd64' ;;
	*) die "debian_release: unknown series $1" ;;
	esac
	r=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'linux-headers-*' 2>/dev/null |
		awk '$1 == "ii" { print $2 }' | sed -nE "s/^linux-headers-($re)$/\1/p" |
		sort -V | tail -n 1)
	if [ -z "$r" ]; then
		apt_update_once
		r=$(apt-cache search --names-only "^linux-headers-$re\$" | awk '{ print $1 }' |
			sed 's/^linux-headers-//' | sort -V | tail -n 1)
	fi
	[ -n "$r" ] || die "no Debian linux-headers package for $1"
	echo "$r"
}

# Packages every test-bench step needs.
BENCH_PACKAGES=(build-essential bc bison flex libelf-dev libssl-dev cpio
		xz-utils kmod python3 qemu-system-x86 busybox-static sparse
		"linux-source-$KVER")

# kernel_source: echo the extracted Debian kernel tree, extracting it once.
kernel_source() {
	local dir="$KECPUHP_CACHE/src/linux-source-$KVER"
	if [ ! -f "$dir/Makefile" ]; then
		local tarball="/usr/src/linux-source-$KVER.tar.xz"
		[ -f "$tarball" ] || die "$tarball missing (package linux-source-$KVER)"
		say "extracting $tarball"
		mkdir -p "$KECPUHP_CACHE/src"
		tar -C "$KECPUHP_CACHE/src" -xf "$tarball" || die "extracting $tarball failed"
	fi
	echo "$dir"
}

# kernel_build_dir: echo the cached build directory for KVER and the config
# fragment; the name changes whenever either does.
kernel_build_dir() {
	local pkgver key
	pkgver=$(dpkg-query -W -f='${Version}' "linux-source-$KVER" 2>/dev/null)
	key=$(cat "$KECPUHP_TOP/scripts/kernel.config" | sha256sum | cut -c1-12)
	echo "$KECPUHP_CACHE/kbuild-$KVER-${pkgver//[^A-Za-z0-9.+-]/_}-$key"
}

# run_with_progress LOG CMD...: run CMD with its output in LOG, printing a
# line every 30 s with the elapsed time and the number of objects built.
run_with_progress() {
	local log=$1 start=$SECONDS pid rc
	shift
	"$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		if [ $(((SECONDS - start) % 30)) -lt 5 ]; then
			say "  ... $((SECONDS - start))s, $(grep -c '^  CC' "$log") objects compiled"
		fi
	done
	wait "$pid"
	rc=$?
	[ $rc -eq 0 ] || tail -40 "$log" >&2
	return $rc
}

# copy_sources OUT: the working tree's sources (tracked, and new files not
# yet added but not ignored) into OUT, without its build products; from a
# tarball without .git, everything but the build products.
copy_sources() {
	local out=$1
	mkdir -p "$out"
	(
		cd "$KECPUHP_TOP" || exit 1
		if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
			git ls-files -z --cached --others --exclude-standard |
				while IFS= read -r -d '' f; do if [ -f "$f" ]; then printf '%s\0' "$f"; fi; done |
				xargs -0 -r cp --parents -t "$out"
		else
			tar --exclude=./build --exclude=./.git --exclude='*.o' --exclude='*.ko' \
			    --exclude='.*.cmd' --exclude='*.mod' --exclude='*.mod.c' -cf - . |
				tar -C "$out" -xf -
		fi
	)
}

# build_modules OUT KDIR: copy the sources to OUT and build every module
# there against KDIR, so the working tree keeps its own build.
build_modules() {
	local out=$1 kdir=$2
	rm -rf "$out"
	copy_sources "$out"
	make -s -C "$kdir" M="$out" >"$out/build.log" 2>&1 ||
		{ cat "$out/build.log" >&2; die "module build failed"; }
}

# kecpuhp_version: echo the version MODULE_VERSION in shim/main.c,
# PACKAGE_VERSION in dkms.conf and debian/changelog all give; with one
# line per disagreement on stderr and status 1 if they do not agree.
kecpuhp_version() {
	local mod conf deb
	mod=$(sed -n 's/^MODULE_VERSION("\(.*\)");$/\1/p' "$KECPUHP_TOP/shim/main.c")
	conf=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$KECPUHP_TOP/dkms.conf")
	deb=$(sed -n '1s/^kecpuhp (\([^)]*\)).*/\1/p' "$KECPUHP_TOP/debian/changelog")
	echo "$mod"
	[ -n "$mod" ] && [ "$mod" = "$conf" ] && [ "$mod" = "$deb" ] && return 0
	echo "versions disagree: MODULE_VERSION \"$mod\" (shim/main.c)," \
		"PACKAGE_VERSION \"$conf\" (dkms.conf), \"$deb\" (debian/changelog)" >&2
	return 1
}
