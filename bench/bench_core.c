// SPDX-License-Identifier: GPL-2.0
/*
 * kecpuhp_bench.ko is two objects (this one and run_bench.o); Kbuild needs
 * the module's name free for the link, so kecpuhp_bench.c is built as
 * bench_core.o through this file.
 */
#include "kecpuhp_bench.c"
