/* SPDX-License-Identifier: GPL-2.0 */
/* The rows of run_bench.c, called from bench_init(). */
#ifndef _KECPUHP_RUN_BENCH_H
#define _KECPUHP_RUN_BENCH_H

void bench_run_calls(unsigned int reps);

#endif /* _KECPUHP_RUN_BENCH_H */
