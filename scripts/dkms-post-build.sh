#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# DKMS POST_BUILD (dkms.conf): keep this kernel's Module.symvers next to the
# module DKMS saved, in $dkms_tree/kecpuhp/<version>/<kernel>/<arch>, which
# dkms install links as $dkms_tree/kecpuhp/kernel-<kernel>-<arch> and
# dkms remove deletes. A ported driver's Kbuild names it in
# KBUILD_EXTRA_SYMBOLS. Runs in DKMS's build directory.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DKMS_KERNEL_ARCH_DIR" >&2; exit 1; }
cp shim/Module.symvers "$1/Module.symvers"
