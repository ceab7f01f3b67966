#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest's modprobe while the lifecycle suite tests request_module(): the
# kernel runs "modprobe -q -- NAME"; load /kecpuhp/NAME.ko with an init that
# fails, as a firmware or crypto helper whose probe fails would.
for a; do name=$a; done
exec /bin/busybox insmod "/kecpuhp/$name.ko" mode=fail
