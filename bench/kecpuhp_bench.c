// SPDX-License-Identifier: GPL-2.0
/*
 * kecpuhp against the native cpuhp way, in one guest, in one run.
 *
 * The native way is what a driver author writes without kecpuhp: a
 * multi-instance prepare state and a multi-instance online state, one
 * instance of each per consumer (cpuhp_state_add_instance()). Both sides
 * call the same trivial consumer callback. Measured, each as the median of
 * several repetitions:
 *  1. registering with KE_PROCESSOR_CHANGE_ADD_EXISTING vs adding the two
 *     instances with calls on every online CPU;
 *  2. add_cpu() latency with R registrations vs R instances: re-online of a
 *     numbered CPU (the common event), and the first online of a new CPU
 *     (one sample per R: a CPU is new only once);
 *  3. slab bytes per registration;
 *  4. register+deregister cost with R others present, R up to max_r;
 *  5. the index queries vs raw_smp_processor_id().
 * Each row is printed as "@@kecpuhp:bench {json}@@" for the host script.
 * Needs a guest with two CPUs online and 24 never onlined (for the
 * hot-add rows): -smp 26 and maxcpus=2 on the kernel command line.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <kecpuhp/wdm.h>

#include "run_bench.h"

static unsigned int reps = 21;
module_param(reps, uint, 0444);
MODULE_PARM_DESC(reps, "repetitions per measurement (median reported)");
static unsigned int max_r = 10000;
module_param(max_r, uint, 0444);
MODULE_PARM_DESC(max_r, "largest number of registrations");

#define BENCH_MAX_REPS	31

struct bench_native {
	struct hlist_node prep, online;
	void (*fn)(void *ctx);
	void *ctx;
};

static int bench_prep_state, bench_online_state;
static unsigned long bench_sink;

static void bench_consumer(void *ctx)
{
	WRITE_ONCE(bench_sink, bench_sink + 1);
}

static VOID bench_ke_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op)
{
	bench_consumer(ctx);
}

static int bench_native_up(unsigned int cpu, struct hlist_node *node)
{
	struct bench_native *n = hlist_entry(node, struct bench_native, prep);

	n->fn(n->ctx);
	return 0;
}

static int bench_native_online(unsigned int cpu, struct hlist_node *node)
{
	struct bench_native *n = hlist_entry(node, struct bench_native, online);

	n->fn(n->ctx);
	return 0;
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 bench_median(u64 *v, unsigned int n)
{
	sort(v, n, sizeof(*v), bench_cmp_u64, NULL);
	return v[n / 2];
}

static void bench_row(const char *name, const char *unit, u64 native, u64 kecpuhp,
		      const char *note)
{
	u64 milli = native ? div64_u64(kecpuhp * 1000, native) : 0;

	pr_info("@@kecpuhp:bench {\"name\":\"%s\",\"unit\":\"%s\",\"native\":%llu,\"kecpuhp\":%llu,\"ratio\":%llu.%03llu,\"note\":\"%s\"}@@\n",
		name, unit, native, kecpuhp, milli / 1000, milli % 1000, note);
}

/* Native instances and kecpuhp registrations, R of each kind on demand. */
static struct bench_native *bench_natives;
static PVOID *bench_handles;

static int bench_native_add(unsigned int i, bool calls)
{
	struct bench_native *n = &bench_natives[i];
	int ret;

	n->fn = bench_consumer;
	ret = calls ? cpuhp_state_add_instance(bench_prep_state, &n->prep) :
		      cpuhp_state_add_instance_nocalls(bench_prep_state, &n->prep);
	if (ret)
		return ret;
	ret = calls ? cpuhp_state_add_instance(bench_online_state, &n->online) :
		      cpuhp_state_add_instance_nocalls(bench_online_state, &n->online);
	if (ret)
		cpuhp_state_remove_instance_nocalls(bench_prep_state, &n->prep);
	return ret;
}

static void bench_native_del(unsigned int i)
{
	cpuhp_state_remove_instance_nocalls(bench_online_state, &bench_natives[i].online);
	cpuhp_state_remove_instance_nocalls(bench_prep_state, &bench_natives[i].prep);
}

static void bench_set_natives(unsigned int *have, unsigned int want)
{
	while (*have < want && !bench_native_add(*have, false))
		(*have)++;
	while (*have > want)
		bench_native_del(--(*have));
}

static void bench_set_regs(unsigned int *have, unsigned int want)
{
	PVOID h;

	while (*have < want) {
		h = KeRegisterProcessorChangeCallback(bench_ke_callback, NULL, 0);
		if (!h)
			return;
		bench_handles[(*have)++] = h;
	}
	while (*have > want)
		KeDeregisterProcessorChangeCallback(bench_handles[--(*have)]);
}

/* 1. ADD_EXISTING replay vs native add_instance with calls. */
static void bench_register_existing(void)
{
	u64 nat[BENCH_MAX_REPS], ke[BENCH_MAX_REPS], t;
	unsigned int i;
	PVOID h;

	for (i = 0; i < reps; i++) {
		t = ktime_get_ns();
		bench_native_add(0, true);
		nat[i] = ktime_get_ns() - t;
		bench_native_del(0);
		t = ktime_get_ns();
		h = KeRegisterProcessorChangeCallback(bench_ke_callback, NULL,
						      KE_PROCESSOR_CHANGE_ADD_EXISTING);
		ke[i] = ktime_get_ns() - t;
		KeDeregisterProcessorChangeCallback(h);
	}
	bench_row("register with existing CPUs", "ns", bench_median(nat, reps),
		  bench_median(ke, reps), "ADD_EXISTING replay vs cpuhp_state_add_instance x2");
}

static u64 bench_time_online(unsigned int cpu)
{
	u64 t = ktime_get_ns();

	if (add_cpu(cpu))
		return 0;
	return ktime_get_ns() - t;
}

/* The lowest present CPU kecpuhp has never numbered, or -1. */
static int bench_fresh_cpu(void)
{
	unsigned int cpu;

	for_each_present_cpu(cpu)
		if (!cpu_online(cpu) && kecpuhp_cpu_to_index(cpu) == INVALID_PROCESSOR_INDEX)
			return cpu;
	return -1;
}

/* A re-online of numbered CPU 1, or with @fresh the first online of a new CPU. */
static u64 bench_one_online(bool fresh)
{
	int cpu = fresh ? bench_fresh_cpu() : 1;

	if (cpu <= 0)
		return 0;
	if (!fresh)
		remove_cpu(cpu);
	return bench_time_online(cpu);
}

#define BENCH_HOTADD_SAMPLES 3

/*
 * Online latency with R native instances vs R registrations. The sides
 * alternate sample by sample, in the order ABBA, so drift (each hot-add
 * makes later onlines slower under TCG) falls on both alike.
 */
static void bench_online_pair(unsigned int r, bool fresh, u64 *nat, u64 *ke)
{
	unsigned int n = fresh ? BENCH_HOTADD_SAMPLES : reps, nn = 0, nr = 0, i;
	u64 vn[BENCH_MAX_REPS], vk[BENCH_MAX_REPS];

	for (i = 0; i < 2 * n; i++) {
		/* Who goes first alternates too: native, kecpuhp, kecpuhp, native... */
		if (((i >> 1) ^ i) & 1) {
			bench_set_regs(&nr, r);
			vk[i / 2] = bench_one_online(fresh);
			bench_set_regs(&nr, 0);
		} else {
			bench_set_natives(&nn, r);
			vn[i / 2] = bench_one_online(fresh);
			bench_set_natives(&nn, 0);
		}
	}
	*nat = bench_median(vn, n);
	*ke = bench_median(vk, n);
}

static void bench_online(void)
{
	static const unsigned int levels[] = { 1, 100, 1000, 10000 };
	char name[48];
	unsigned int i;
	u64 nat, ke;

	for (i = 0; i < ARRAY_SIZE(levels) && levels[i] <= max_r; i++) {
		bench_online_pair(levels[i], false, &nat, &ke);
		snprintf(name, sizeof(name), "online, R=%u", levels[i]);
		bench_row(name, "ns", nat, ke,
			  "re-online of a numbered CPU (no Windows event), median");
		bench_online_pair(levels[i], true, &nat, &ke);
		snprintf(name, sizeof(name), "hot-add online, R=%u", levels[i]);
		bench_row(name, "ns", nat, ke,
			  "first online of a new CPU (Start+Complete), median of 3");
	}
}

static long bench_slab_bytes(void)
{
	return global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B) * PAGE_SIZE;
}

/* 3. Slab bytes per registration, over many to drown per-CPU drift. */
static void bench_memory(void)
{
	unsigned int n = min(max_r * 10, 100000u), nr = 0, i;
	struct bench_native **objs = vcalloc(n, sizeof(*objs));
	long before;
	u64 nat, ke;

	if (!objs)
		return;
	before = bench_slab_bytes();
	for (i = 0; i < n; i++)
		objs[i] = kzalloc(sizeof(*objs[i]), GFP_KERNEL);
	nat = max(0L, bench_slab_bytes() - before) / n;
	for (i = 0; i < n; i++)
		kfree(objs[i]);
	vfree(objs);
	before = bench_slab_bytes();
	bench_set_regs(&nr, n);
	ke = max(0L, bench_slab_bytes() - before) / max(nr, 1u);
	bench_set_regs(&nr, 0);
	rcu_barrier();	/* let the freed xarray nodes go before timing more */
	bench_row("memory per registration", "bytes", nat, ke,
		  "slab growth; native = the consumer's struct with two hlist_nodes");
}

/* What a driver does per consumer: allocate, add both instances, undo. */
static void bench_native_alloc_cycle(void)
{
	struct bench_native *n = kzalloc(sizeof(*n), GFP_KERNEL);

	if (!n)
		return;
	n->fn = bench_consumer;
	if (!cpuhp_state_add_instance_nocalls(bench_prep_state, &n->prep)) {
		if (!cpuhp_state_add_instance_nocalls(bench_online_state, &n->online))
			cpuhp_state_remove_instance_nocalls(bench_online_state, &n->online);
		cpuhp_state_remove_instance_nocalls(bench_prep_state, &n->prep);
	}
	kfree(n);
}

/* 4. One register+deregister with R others present. */
static void bench_scaling(void)
{
	static const unsigned int levels[] = { 0, 100, 1000, 10000 };
	u64 nat[BENCH_MAX_REPS], ke[BENCH_MAX_REPS], t;
	unsigned int nn = 0, nr = 0, i, j;
	char name[48];
	PVOID h;

	for (i = 0; i < ARRAY_SIZE(levels) && levels[i] <= max_r; i++) {
		bench_set_natives(&nn, levels[i]);
		bench_set_regs(&nr, levels[i]);
		for (j = 0; j < reps; j++) {
			t = ktime_get_ns();
			bench_native_alloc_cycle();
			nat[j] = ktime_get_ns() - t;
			t = ktime_get_ns();
			h = KeRegisterProcessorChangeCallback(bench_ke_callback, NULL, 0);
			KeDeregisterProcessorChangeCallback(h);
			ke[j] = ktime_get_ns() - t;
		}
		snprintf(name, sizeof(name), "register+deregister, R=%u", levels[i]);
		bench_row(name, "ns", bench_median(nat, reps), bench_median(ke, reps),
			  "no calls; native = kzalloc + add/remove_instance_nocalls x2 + kfree");
	}
	bench_set_natives(&nn, 0);
	bench_set_regs(&nr, 0);
}

#define BENCH_LOOPS 1000000

#define bench_loop(expr) ({						\
	u64 __t = ktime_get_ns();					\
	unsigned int __i;						\
	for (__i = 0; __i < BENCH_LOOPS; __i++)				\
		WRITE_ONCE(bench_sink, bench_sink + (expr));		\
	div_u64(1000 * (ktime_get_ns() - __t), BENCH_LOOPS);		\
})

/* 5. The queries, in picoseconds per call, against the raw CPU id. */
static void bench_queries(void)
{
	PROCESSOR_NUMBER pn;
	u64 raw;

	preempt_disable();
	raw = bench_loop(raw_smp_processor_id());
	bench_row("KeGetCurrentProcessorNumberEx", "ps", raw,
		  bench_loop(KeGetCurrentProcessorNumberEx(&pn)), "vs raw_smp_processor_id()");
	bench_row("KeGetProcessorNumberFromIndex", "ps", raw,
		  bench_loop(KeGetProcessorNumberFromIndex(__i & 1, &pn)),
		  "vs raw_smp_processor_id()");
	bench_row("KeQueryActiveProcessorCountEx", "ps", raw,
		  bench_loop(KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS)),
		  "vs raw_smp_processor_id()");
	preempt_enable();
}

static int __init bench_init(void)
{
	int ret = -ENOMEM;

	reps = clamp(reps, 1u, (unsigned int)BENCH_MAX_REPS);
	bench_natives = vcalloc(max_r + 1, sizeof(*bench_natives));
	bench_handles = vcalloc(max(max_r * 10, 100000u), sizeof(*bench_handles));
	if (!bench_natives || !bench_handles)
		goto out;
	ret = cpuhp_setup_state_multi(CPUHP_BP_PREPARE_DYN, "kecpuhp/bench:prepare",
				      bench_native_up, NULL);
	if (ret < 0)
		goto out;
	bench_prep_state = ret;
	ret = cpuhp_setup_state_multi(CPUHP_AP_ONLINE_DYN, "kecpuhp/bench:online",
				      bench_native_online, NULL);
	if (ret < 0)
		goto out_prep;
	bench_online_state = ret;

	bench_register_existing();
	bench_online();
	bench_memory();
	bench_scaling();
	bench_queries();
	bench_run_calls(reps);
	pr_info("@@kecpuhp:bench-done@@\n");

	cpuhp_remove_multi_state(bench_online_state);
	ret = 0;
out_prep:
	cpuhp_remove_multi_state(bench_prep_state);
out:
	vfree(bench_handles);
	vfree(bench_natives);
	return ret;
}

static void __exit bench_exit(void)
{
}

module_init(bench_init);
module_exit(bench_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kecpuhp benchmark against native cpuhp multi-instance states");
MODULE_AUTHOR("The kecpuhp developers");
