// SPDX-License-Identifier: GPL-2.0
/*
 * Running code on a processor, against the Linux primitive each call is
 * built on, in the same guest and run as the other rows:
 *  - affinity switch to another processor and revert:
 *    KeSetSystemGroupAffinityThread() + KeRevertToUserGroupAffinityThread()
 *    vs two set_cpus_allowed_ptr();
 *  - KeIpiGenericCall() vs on_each_cpu() with the same rendezvous in the
 *    worker (the Linux way to get Windows' "all at once"), and vs a plain
 *    on_each_cpu(), whose workers need not overlap;
 *  - DPC insert-to-run latency on another processor: KeInsertQueueDpc() to
 *    the routine running, vs wake_up_process() of a bound SCHED_FIFO
 *    kthread to it running.
 * Each repetition times a batch and takes its mean; the row gives the
 * median, minimum and maximum over the repetitions, in ns. DPC samples
 * are spaced out so that both threads are asleep when woken.
 */
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/sort.h>
#include <kecpuhp/wdm.h>

#include "run_bench.h"

#define RUN_MAX_REPS	31
#define RUN_AFFINITY_BATCH	50
#define RUN_IPI_BATCH	200
#define RUN_DPC_BATCH	100

static int run_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

struct run_stats {
	u64 median, min, max;
};

static struct run_stats run_stats(u64 *v, unsigned int n)
{
	struct run_stats s;

	sort(v, n, sizeof(*v), run_cmp_u64, NULL);
	s.median = v[n / 2];
	s.min = v[0];
	s.max = v[n - 1];
	return s;
}

static void run_row(const char *name, u64 *nat, u64 *ke, unsigned int n, const char *note)
{
	struct run_stats a = run_stats(nat, n), b = run_stats(ke, n);
	u64 milli = a.median ? div64_u64(b.median * 1000, a.median) : 0;

	pr_info("@@kecpuhp:bench {\"name\":\"%s\",\"unit\":\"ns\",\"native\":%llu,\"kecpuhp\":%llu,\"ratio\":%llu.%03llu,\"native_min\":%llu,\"native_max\":%llu,\"kecpuhp_min\":%llu,\"kecpuhp_max\":%llu,\"n\":%u,\"note\":\"%s\"}@@\n",
		name, a.median, b.median, milli / 1000, milli % 1000, a.min, a.max,
		b.min, b.max, n, note);
}

/* Two online CPUs with active indices: where the caller runs, and the other one. */
static bool run_two_cpus(int *here, int *there)
{
	u32 i, n = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	int cpu;

	*here = *there = -1;
	for (i = 0; i < n; i++) {
		cpu = kecpuhp_index_to_cpu(i);
		if (cpu < 0 || !cpu_online(cpu))
			continue;
		if (*here < 0)
			*here = cpu;
		else if (*there < 0)
			*there = cpu;
	}
	return *there >= 0;
}

static u64 run_affinity_native(const struct cpumask *to, const struct cpumask *back)
{
	u64 t = ktime_get_ns();
	unsigned int i;

	for (i = 0; i < RUN_AFFINITY_BATCH; i++) {
		set_cpus_allowed_ptr(current, to);
		set_cpus_allowed_ptr(current, back);
	}
	return div_u64(ktime_get_ns() - t, RUN_AFFINITY_BATCH);
}

static u64 run_affinity_ke(u32 index)
{
	GROUP_AFFINITY ga = {
		.Mask = (KAFFINITY)1 << (index % MAXIMUM_PROC_PER_GROUP),
		.Group = index / MAXIMUM_PROC_PER_GROUP,
	}, prev;
	u64 t = ktime_get_ns();
	unsigned int i;

	for (i = 0; i < RUN_AFFINITY_BATCH; i++) {
		KeSetSystemGroupAffinityThread(&ga, &prev);
		KeRevertToUserGroupAffinityThread(&prev);
	}
	return div_u64(ktime_get_ns() - t, RUN_AFFINITY_BATCH);
}

static void run_bench_affinity(u64 *nat, u64 *ke, unsigned int reps, int here, int there)
{
	cpumask_var_t back;
	unsigned int r;

	if (!alloc_cpumask_var(&back, GFP_KERNEL))
		return;
	cpumask_copy(back, cpumask_of(here));
	set_cpus_allowed_ptr(current, back);
	for (r = 0; r < reps; r++) {
		nat[r] = run_affinity_native(cpumask_of(there), back);
		ke[r] = run_affinity_ke(kecpuhp_cpu_to_index(there));
	}
	run_row("affinity switch and revert", nat, ke, reps,
		"KeSetSystemGroupAffinityThread+KeRevertToUserGroupAffinityThread vs 2x set_cpus_allowed_ptr, to another CPU and back");
	free_cpumask_var(back);
}

static unsigned long run_sink;

static void run_ipi_native_fn(void *info)
{
	WRITE_ONCE(run_sink, run_sink + 1);
}

/* The native worker with the rendezvous KeIpiGenericCall() does. */
struct run_rendezvous {
	atomic_t arrived;
	unsigned int n;
};

static void run_ipi_rendezvous_fn(void *info)
{
	struct run_rendezvous *r = info;

	atomic_inc(&r->arrived);
	while (atomic_read(&r->arrived) < r->n)
		cpu_relax();
	WRITE_ONCE(run_sink, run_sink + 1);
}

static ULONG_PTR run_ipi_ke_fn(ULONG_PTR arg)
{
	WRITE_ONCE(run_sink, run_sink + 1);
	return arg;
}

static void run_bench_ipi(u64 *nat, u64 *ke, u64 *plain, unsigned int reps)
{
	struct run_rendezvous rv;
	unsigned int r, i;
	u64 t;

	for (r = 0; r < reps; r++) {
		t = ktime_get_ns();
		for (i = 0; i < RUN_IPI_BATCH; i++) {
			cpus_read_lock();
			atomic_set(&rv.arrived, 0);
			rv.n = num_online_cpus();
			on_each_cpu(run_ipi_rendezvous_fn, &rv, 1);
			cpus_read_unlock();
		}
		nat[r] = div_u64(ktime_get_ns() - t, RUN_IPI_BATCH);
		t = ktime_get_ns();
		for (i = 0; i < RUN_IPI_BATCH; i++)
			KeIpiGenericCall(run_ipi_ke_fn, 0);
		ke[r] = div_u64(ktime_get_ns() - t, RUN_IPI_BATCH);
		t = ktime_get_ns();
		for (i = 0; i < RUN_IPI_BATCH; i++)
			on_each_cpu(run_ipi_native_fn, NULL, 1);
		plain[r] = div_u64(ktime_get_ns() - t, RUN_IPI_BATCH);
	}
	memcpy(nat + RUN_MAX_REPS, ke, reps * sizeof(*ke));
	run_row("KeIpiGenericCall", nat, ke, reps,
		"vs cpus_read_lock + on_each_cpu(wait=1) with the same rendezvous in the worker");
	run_row("KeIpiGenericCall vs plain on_each_cpu", plain, nat + RUN_MAX_REPS, reps,
		"vs on_each_cpu(wait=1) whose workers need not run at the same time");
}

/* The native side of the DPC row: a bound SCHED_FIFO thread, woken. */
struct run_waker {
	u64 t_run;
	bool go, done;
};

static int run_native_thread(void *data)
{
	struct run_waker *w = data;

	sched_set_fifo(current);
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (READ_ONCE(w->go)) {
			__set_current_state(TASK_RUNNING);
			w->t_run = ktime_get_ns();
			WRITE_ONCE(w->go, false);
			/* Pairs with the acquire in the waiter: t_run is written. */
			smp_store_release(&w->done, true);
			continue;
		}
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static VOID run_dpc_fn(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct run_waker *w = ctx;

	w->t_run = ktime_get_ns();
	/* Pairs with the acquire in run_wait_for(): t_run is written. */
	smp_store_release(&w->done, true);
}

/* Spin for @w to run, with a bound: a lost wakeup must not hang the bench. */
static u64 run_wait_for(struct run_waker *w, u64 t0)
{
	u64 limit = t0 + NSEC_PER_SEC;

	/* Pairs with the releases of the two sides: t_run is read after. */
	while (!smp_load_acquire(&w->done))
		if (ktime_get_ns() > limit)
			return NSEC_PER_SEC;
	return w->t_run - t0;
}

static void run_bench_dpc(u64 *nat, u64 *ke, unsigned int reps, int there)
{
	struct run_waker *w = kzalloc(sizeof(*w), GFP_KERNEL);
	struct task_struct *t;
	PROCESSOR_NUMBER pn;
	unsigned int r, i;
	u64 sum, t0;
	KDPC *dpc;

	if (!w)
		return;
	dpc = kzalloc(sizeof(*dpc), GFP_KERNEL);
	if (!dpc)
		goto out;
	t = kthread_create(run_native_thread, w, "kecpuhp_bench_wake");
	if (IS_ERR(t))
		goto out;
	kthread_bind(t, there);
	wake_up_process(t);
	KeInitializeDpc(dpc, run_dpc_fn, w);
	KeGetProcessorNumberFromIndex(kecpuhp_cpu_to_index(there), &pn);
	KeSetTargetProcessorDpcEx(dpc, &pn);
	for (r = 0; r < reps; r++) {
		for (sum = 0, i = 0; i < RUN_DPC_BATCH; i++) {
			usleep_range(30, 50);
			w->done = false;
			t0 = ktime_get_ns();
			WRITE_ONCE(w->go, true);
			wake_up_process(t);
			sum += run_wait_for(w, t0);
		}
		nat[r] = div_u64(sum, RUN_DPC_BATCH);
		for (sum = 0, i = 0; i < RUN_DPC_BATCH; i++) {
			usleep_range(30, 50);
			w->done = false;
			t0 = ktime_get_ns();
			KeInsertQueueDpc(dpc, NULL, NULL);
			sum += run_wait_for(w, t0);
		}
		ke[r] = div_u64(sum, RUN_DPC_BATCH);
	}
	KeFlushQueuedDpcs();
	run_row("DPC insert-to-run latency", nat, ke, reps,
		"KeInsertQueueDpc to another CPU vs wake_up_process of a bound SCHED_FIFO kthread there");
	kthread_stop(t);
out:
	kfree(dpc);
	kfree(w);
}

/**
 * bench_run_calls - the rows of the calls that run code on a processor
 * @reps: repetitions per row
 */
void bench_run_calls(unsigned int reps)
{
	cpumask_var_t saved;
	u64 *nat, *ke;
	int here, there;

	reps = clamp(reps, 1u, (unsigned int)RUN_MAX_REPS);
	if (!run_two_cpus(&here, &there)) {
		pr_info("kecpuhp_bench: fewer than two online processors; no run rows\n");
		return;
	}
	nat = kcalloc(4 * RUN_MAX_REPS, sizeof(*nat), GFP_KERNEL);
	if (!nat || !alloc_cpumask_var(&saved, GFP_KERNEL)) {
		kfree(nat);
		return;
	}
	cpumask_copy(saved, &current->cpus_mask);
	ke = nat + 2 * RUN_MAX_REPS;
	run_bench_affinity(nat, ke, reps, here, there);
	run_bench_ipi(nat, ke, ke + RUN_MAX_REPS, reps);
	run_bench_dpc(nat, ke, reps, there);
	set_cpus_allowed_ptr(current, saved);
	free_cpumask_var(saved);
	kfree(nat);
}
