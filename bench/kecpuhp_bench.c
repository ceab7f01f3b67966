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
 *     (a hot-add: a CPU is new only once, and is offlined again after the
 *     sample so that every add finds the same CPUs online);
 *  3. in the same hot-adds, the time spent in the notification states
 *     themselves, summed over the prepare and the online state, from the
 *     cpuhp_enter tracepoint (see "State-level timing" below; kecpuhp's
 *     state numbers are given as ke_state);
 *  4. slab bytes per registration;
 *  5. register+deregister cost with R others present, R up to max_r, and
 *     the kernel primitives each side's cycle is made of, timed alone;
 *  6. the index queries against a floor: the same call into functions of
 *     another module that only return (kecpuhp_floor.ko).
 * Each row is printed as "@@kecpuhp:bench {json}@@" for the host script:
 * medians, minimum, maximum and sample count of both sides. The hot-add
 * rows also print their samples ("@@kecpuhp:bench-samples {json}@@") so the
 * host can pool several boots. Needs a guest with two CPUs online and the
 * rest never onlined: -smp N and maxcpus=2 on the kernel command line.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <linux/xarray.h>
#include <kecpuhp/wdm.h>

#include "kecpuhp_floor.h"
#include "run_bench.h"

static unsigned int reps = 21;
module_param(reps, uint, 0444);
MODULE_PARM_DESC(reps, "repetitions per measurement (median reported)");
static unsigned int max_r = 10000;
module_param(max_r, uint, 0444);
MODULE_PARM_DESC(max_r, "largest number of registrations");
static unsigned int hotadds = 31;
module_param(hotadds, uint, 0444);
MODULE_PARM_DESC(hotadds, "hot-adds per side and R, at most (new CPUs permitting)");
static int ke_state[2] = { -1, -1 };
module_param_array(ke_state, int, NULL, 0444);
MODULE_PARM_DESC(ke_state, "kecpuhp's prepare and online cpuhp state numbers (state rows)");

#define BENCH_MAX_REPS	31

struct bench_native {
	struct hlist_node prep, online;
	void (*fn)(void *ctx);
	void *ctx;
};

static int bench_prep_state, bench_online_state;
static unsigned long bench_sink;

/*
 * State-level timing. Every single-instance cpuhp state entered fires the
 * cpuhp_enter tracepoint; multi-instance states fire cpuhp_multi_enter
 * instead, once per instance, and the bench does not probe that one. The
 * bench puts empty single states ("markers") right after kecpuhp's state and
 * right after its own native state, in the prepare and in the online
 * section, so that each measured state is bracketed by two cpuhp_enter
 * events:
 *   kecpuhp's state | marker 1 | the native multi state | marker 2
 * kecpuhp's time is enter(marker 1) - enter(kecpuhp's state), the native
 * time enter(marker 2) - enter(marker 1), which includes marker 1's empty
 * call. The probe stays attached for the whole online phase, for both sides
 * alike, and costs nothing per native instance.
 */
enum { BENCH_KE, BENCH_MARK1, BENCH_MARK2, BENCH_NSTAMP };
static int bench_stamp_state[2][BENCH_NSTAMP];	/* [0] prepare, [1] online */
static u64 bench_stamp[2][BENCH_NSTAMP];
static struct tracepoint *bench_tp;
static bool bench_tp_on;

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

static int bench_mark(unsigned int cpu)
{
	return 0;
}

static void bench_tp_enter(void *data, unsigned int cpu, int target, int idx,
			   int (*fun)(unsigned int))
{
	unsigned int s, i;

	for (s = 0; s < 2; s++)
		for (i = 0; i < BENCH_NSTAMP; i++)
			if (idx == bench_stamp_state[s][i]) {
				bench_stamp[s][i] = ktime_get_ns();
				return;
			}
}

static void bench_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "cpuhp_enter"))
		bench_tp = tp;
}

/* The time in kecpuhp's two states and in the native pair, in the last add. */
static bool bench_state_times(u64 *ke, u64 *nat)
{
	unsigned int s;
	u64 *t;

	*ke = 0;
	*nat = 0;
	for (s = 0; s < 2; s++) {
		t = bench_stamp[s];
		if (!t[BENCH_KE] || t[BENCH_MARK1] < t[BENCH_KE] || t[BENCH_MARK2] < t[BENCH_MARK1])
			return false;
		*ke += t[BENCH_MARK1] - t[BENCH_KE];
		*nat += t[BENCH_MARK2] - t[BENCH_MARK1];
	}
	return true;
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

struct bench_stats {
	u64 med, min, max;
	unsigned int n;
};

/* Sorts @v. */
static struct bench_stats bench_stats(u64 *v, unsigned int n)
{
	struct bench_stats st = { .n = n };

	if (!n)
		return st;
	sort(v, n, sizeof(*v), bench_cmp_u64, NULL);
	st.med = v[n / 2];
	st.min = v[0];
	st.max = v[n - 1];
	return st;
}

static void bench_row(const char *name, const char *unit, const struct bench_stats *nat,
		      const struct bench_stats *ke, const char *note)
{
	u64 milli = nat->med ? div64_u64(ke->med * 1000, nat->med) : 0;

	pr_info("@@kecpuhp:bench {\"name\":\"%s\",\"unit\":\"%s\",\"native\":%llu,\"kecpuhp\":%llu,\"ratio\":%llu.%03llu,\"native_min\":%llu,\"native_max\":%llu,\"kecpuhp_min\":%llu,\"kecpuhp_max\":%llu,\"n\":%u,\"note\":\"%s\"}@@\n",
		name, unit, nat->med, ke->med, milli / 1000, milli % 1000,
		nat->min, nat->max, ke->min, ke->max, min(nat->n, ke->n), note);
}

/* A row from @n samples of each side; sorts both arrays. */
static void bench_row_v(const char *name, const char *unit, u64 *nat, u64 *ke,
			unsigned int n, const char *note)
{
	struct bench_stats sn = bench_stats(nat, n), sk = bench_stats(ke, n);

	bench_row(name, unit, &sn, &sk, note);
}

/* The samples of one side of a row, for pooling over boots. */
static void bench_samples(const char *name, const char *side, const u64 *v, unsigned int n)
{
	char buf[BENCH_MAX_REPS * 21 + 1];
	unsigned int i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += scnprintf(buf + len, sizeof(buf) - len, "%s%llu", i ? "," : "", v[i]);
	pr_info("@@kecpuhp:bench-samples {\"name\":\"%s\",\"side\":\"%s\",\"v\":[%s]}@@\n",
		name, side, buf);
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
	bench_row_v("register with existing CPUs", "ns", nat, ke, reps,
		    "ADD_EXISTING replay vs cpuhp_state_add_instance x2");
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

static unsigned int bench_fresh_cpus(void)
{
	unsigned int cpu, n = 0;

	for_each_present_cpu(cpu)
		if (!cpu_online(cpu) && kecpuhp_cpu_to_index(cpu) == INVALID_PROCESSOR_INDEX)
			n++;
	return n;
}

/* A re-online of numbered CPU 1. */
static u64 bench_reonline(void)
{
	remove_cpu(1);
	return bench_time_online(1);
}

/*
 * The first online of a new CPU: the whole online, and the time in the
 * notification states of the side measured (*@mine) and of the other side,
 * which has nothing registered (*@other); 0 if not measured. The CPU goes
 * offline again, so every add finds the same CPUs online.
 */
static u64 bench_hotadd(bool ke, u64 *mine, u64 *other)
{
	int cpu = bench_fresh_cpu();
	u64 online, k, n;

	*mine = 0;
	*other = 0;
	if (cpu <= 0)
		return 0;
	memset(bench_stamp, 0, sizeof(bench_stamp));
	online = bench_time_online(cpu);
	if (online && bench_tp_on && bench_state_times(&k, &n)) {
		*mine = ke ? k : n;
		*other = ke ? n : k;
	}
	remove_cpu(cpu);
	return online;
}

/*
 * Samples of one side: whole onlines, state times, and the state times of
 * this side with nothing registered, taken in the other side's adds.
 */
struct bench_side {
	u64 online[BENCH_MAX_REPS], states[BENCH_MAX_REPS], empty[BENCH_MAX_REPS];
	unsigned int n_online, n_states, n_empty;
};

static void bench_sample(struct bench_side *side, struct bench_side *other, bool ke,
			 bool fresh)
{
	u64 online, mine = 0, theirs = 0;

	online = fresh ? bench_hotadd(ke, &mine, &theirs) : bench_reonline();
	if (online)
		side->online[side->n_online++] = online;
	if (mine)
		side->states[side->n_states++] = mine;
	if (theirs)
		other->empty[other->n_empty++] = theirs;
}

/*
 * Onlines with R native instances vs R registrations, @n per side. The sides
 * alternate sample by sample, in the order ABBA, so drift falls on both alike.
 */
static void bench_online_pair(unsigned int r, bool fresh, unsigned int n,
			      struct bench_side *nat, struct bench_side *ke)
{
	unsigned int nn = 0, nr = 0, i;

	memset(nat, 0, sizeof(*nat));
	memset(ke, 0, sizeof(*ke));
	for (i = 0; i < 2 * n; i++) {
		/* Who goes first alternates too: native, kecpuhp, kecpuhp, native... */
		if (((i >> 1) ^ i) & 1) {
			bench_set_regs(&nr, r);
			bench_sample(ke, nat, true, fresh);
			bench_set_regs(&nr, 0);
		} else {
			bench_set_natives(&nn, r);
			bench_sample(nat, ke, false, fresh);
			bench_set_natives(&nn, 0);
		}
	}
}

/* A row from the samples of both sides, printed first for pooling. */
static void bench_pair_row(const char *name, u64 *nat, unsigned int nn, u64 *ke,
			   unsigned int nk, const char *note)
{
	struct bench_stats sn, sk;

	bench_samples(name, "native", nat, nn);
	bench_samples(name, "kecpuhp", ke, nk);
	sn = bench_stats(nat, nn);
	sk = bench_stats(ke, nk);
	bench_row(name, "ns", &sn, &sk, note);
}

/* 2 and 3: re-onlines, and hot-adds as the new CPUs permit. */
static void bench_online(void)
{
	static const unsigned int levels[] = { 1, 100, 1000, 10000 };
	static struct bench_side nat, ke;
	unsigned int i, nlev = 0, per;
	char name[48];

	while (nlev < ARRAY_SIZE(levels) && levels[nlev] <= max_r)
		nlev++;
	per = min3(hotadds, (unsigned int)BENCH_MAX_REPS,
		   bench_fresh_cpus() / (2 * max(nlev, 1u)));
	bench_tp_on = bench_stamp_state[0][BENCH_KE] >= 0 && bench_stamp_state[1][BENCH_KE] >= 0 &&
		      bench_tp && !tracepoint_probe_register(bench_tp, bench_tp_enter, NULL);
	pr_info("kecpuhp_bench: %u hot-adds per side and R; state timing %s\n", per,
		bench_tp_on ? "on" : "off");
	for (i = 0; i < nlev; i++) {
		bench_online_pair(levels[i], false, reps, &nat, &ke);
		snprintf(name, sizeof(name), "online, R=%u", levels[i]);
		bench_pair_row(name, nat.online, nat.n_online, ke.online, ke.n_online,
			       "re-online of a numbered CPU (no Windows event)");
		if (!per)
			continue;
		bench_online_pair(levels[i], true, per, &nat, &ke);
		snprintf(name, sizeof(name), "hot-add online, R=%u", levels[i]);
		bench_pair_row(name, nat.online, nat.n_online, ke.online, ke.n_online,
			       "first online of a new CPU (Start+Complete), whole add_cpu()");
		if (!bench_tp_on)
			continue;
		if (i == 0)
			bench_pair_row("hot-add states, nothing registered", nat.empty,
				       nat.n_empty, ke.empty, ke.n_empty,
				       "R=0: measured in the other side's R=1 adds");
		snprintf(name, sizeof(name), "hot-add states, R=%u", levels[i]);
		bench_pair_row(name, nat.states, nat.n_states, ke.states, ke.n_states,
			       "time in the prepare+online states, same adds");
	}
	if (bench_tp_on) {
		tracepoint_probe_unregister(bench_tp, bench_tp_enter, NULL);
		tracepoint_synchronize_unregister();
	}
}

static long bench_slab_bytes(void)
{
	return global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B) * PAGE_SIZE;
}

/* 4. Slab bytes per registration, over many to drown per-CPU drift. */
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
	bench_row_v("memory per registration", "bytes", &nat, &ke, 1,
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

#define BENCH_PART_OPS	16
#define bench_part(v, j, op) do {					\
	u64 __t = ktime_get_ns();					\
	unsigned int __k;						\
	for (__k = 0; __k < BENCH_PART_OPS; __k++)			\
		op;							\
	(v)[j] = div_u64(ktime_get_ns() - __t, BENCH_PART_OPS);	\
} while (0)

/*
 * Where a register+deregister goes: the kernel primitives each side uses,
 * timed alone. kecpuhp's handle is a word of its slot table, taken and
 * given back under the registration lock with no allocation in the steady
 * state: not timed apart from the whole cycle.
 */
static void bench_parts(void)
{
	static DEFINE_MUTEX(mtx);
	u64 nat[BENCH_MAX_REPS], ke[BENCH_MAX_REPS];
	struct hlist_head hh = HLIST_HEAD_INIT;
	struct hlist_node hn;
	struct list_head lh, ln;
	unsigned int j;
	void *p;

	INIT_LIST_HEAD(&lh);
	for (j = 0; j < reps; j++) {
		bench_part(nat, j, kfree(kzalloc(64, GFP_KERNEL)));
		bench_part(ke, j, ({ p = kzalloc(64, GFP_KERNEL); kvfree_rcu_mightsleep(p); }));
	}
	bench_row_v("register+deregister part: allocation", "ns", nat, ke, reps,
		    "kzalloc(64) + kfree vs + kvfree_rcu_mightsleep");
	for (j = 0; j < reps; j++) {
		bench_part(nat, j, ({ cpus_read_lock(); mutex_lock(&mtx); mutex_unlock(&mtx);
				      cpus_read_unlock(); }));
		nat[j] *= 4;
		bench_part(ke, j, ({ mutex_lock(&mtx); mutex_unlock(&mtx);
				     cpus_read_lock(); mutex_lock(&mtx); mutex_unlock(&mtx);
				     cpus_read_unlock(); }));
	}
	bench_row_v("register+deregister part: locks", "ns", nat, ke, reps,
		    "cpus_read_lock + a mutex, x4 vs a mutex (Register) + both (Deregister)");
	for (j = 0; j < reps; j++) {
		bench_part(nat, j, ({ hlist_add_head(&hn, &hh); hlist_del(&hn);
				      hlist_add_head(&hn, &hh); hlist_del(&hn); }));
		bench_part(ke, j, ({ list_add_tail_rcu(&ln, &lh); list_del_rcu(&ln); }));
	}
	bench_row_v("register+deregister part: lists", "ns", nat, ke, reps,
		    "hlist add+del x2 vs list_add_tail_rcu + list_del_rcu");
}

/* 5. One register+deregister with R others present. */
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
		bench_row_v(name, "ns", nat, ke, reps,
			    "no calls; native = kzalloc + add/remove_instance_nocalls x2 + kfree");
	}
	bench_set_natives(&nn, 0);
	bench_set_regs(&nr, 0);
	bench_parts();
}

#define BENCH_LOOPS 20000

#define bench_loop(expr) ({						\
	u64 __t = ktime_get_ns();					\
	unsigned int __i;						\
	for (__i = 0; __i < BENCH_LOOPS; __i++)				\
		WRITE_ONCE(bench_sink, bench_sink + (expr));		\
	div_u64(1000 * (ktime_get_ns() - __t), BENCH_LOOPS);		\
})

enum {
	BENCH_RAW, BENCH_FLOOR_NUM, BENCH_CUR, BENCH_FLOOR_IDX, BENCH_FROM_IDX,
	BENCH_FLOOR_CNT, BENCH_COUNT, BENCH_NQ
};

/* One short loop of query @q: 20000 calls, a few ms at most under TCG. */
static u64 bench_query_loop(unsigned int q)
{
	PROCESSOR_NUMBER pn;

	switch (q) {
	case BENCH_RAW:
		return bench_loop(raw_smp_processor_id());
	case BENCH_FLOOR_NUM:
		return bench_loop(kecpuhp_floor_number(&pn));
	case BENCH_CUR:
		return bench_loop(KeGetCurrentProcessorNumberEx(&pn));
	case BENCH_FLOOR_IDX:
		return bench_loop(kecpuhp_floor_index(__i & 1, &pn));
	case BENCH_FROM_IDX:
		return bench_loop(KeGetProcessorNumberFromIndex(__i & 1, &pn));
	case BENCH_FLOOR_CNT:
		return bench_loop(kecpuhp_floor_count(ALL_PROCESSOR_GROUPS));
	default:
		return bench_loop(KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS));
	}
}

/*
 * 6. The queries, in picoseconds per call, each against a floor of the same
 * signature in kecpuhp_floor.ko; the floor against raw_smp_processor_id().
 * Short loops, interleaved round after round, in reverse order every other
 * round, so that drift and a host's preemption fall on all alike.
 */
static void bench_queries(void)
{
	static u64 q[BENCH_NQ][BENCH_MAX_REPS];
	unsigned int j, k, n = BENCH_MAX_REPS;

	for (j = 0; j < n; j++) {
		for (k = 0; k < BENCH_NQ; k++) {
			unsigned int which = j & 1 ? BENCH_NQ - 1 - k : k;

			preempt_disable();
			q[which][j] = bench_query_loop(which);
			preempt_enable();
		}
		cond_resched();
	}
	bench_row_v("query floor", "ps", q[BENCH_RAW], q[BENCH_FLOOR_NUM], n,
		    "exported no-op in another module vs raw_smp_processor_id()");
	bench_row_v("KeGetCurrentProcessorNumberEx", "ps", q[BENCH_FLOOR_NUM], q[BENCH_CUR], n,
		    "vs the floor of the same signature");
	bench_row_v("KeGetProcessorNumberFromIndex", "ps", q[BENCH_FLOOR_IDX], q[BENCH_FROM_IDX],
		    n, "vs the floor of the same signature");
	bench_row_v("KeQueryActiveProcessorCountEx", "ps", q[BENCH_FLOOR_CNT], q[BENCH_COUNT], n,
		    "vs the floor of the same signature");
}

/*
 * The native multi state of section @s (0 prepare, 1 online) between its
 * two markers; the markers take part in the state timing only if they and
 * kecpuhp's state are adjacent. Return: the native state, or an errno.
 */
static int bench_states_setup(unsigned int s, int (*up)(unsigned int, struct hlist_node *))
{
	static const char * const names[2][3] = {
		{ "kecpuhp/bench:mark1", "kecpuhp/bench:prepare", "kecpuhp/bench:mark2" },
		{ "kecpuhp/bench:mark1", "kecpuhp/bench:online", "kecpuhp/bench:mark2" },
	};
	enum cpuhp_state base = s ? CPUHP_AP_ONLINE_DYN : CPUHP_BP_PREPARE_DYN;
	int *st = bench_stamp_state[s], native;

	st[BENCH_KE] = -1;
	st[BENCH_MARK1] = cpuhp_setup_state_nocalls(base, names[s][0], bench_mark, NULL);
	if (st[BENCH_MARK1] < 0)
		return st[BENCH_MARK1];
	native = cpuhp_setup_state_multi(base, names[s][1], up, NULL);
	if (native < 0)
		goto out_mark1;
	st[BENCH_MARK2] = cpuhp_setup_state_nocalls(base, names[s][2], bench_mark, NULL);
	if (st[BENCH_MARK2] < 0) {
		cpuhp_remove_multi_state(native);
		native = st[BENCH_MARK2];
		goto out_mark1;
	}
	if (ke_state[s] >= 0 && st[BENCH_MARK1] == ke_state[s] + 1 &&
	    native == st[BENCH_MARK1] + 1 && st[BENCH_MARK2] == native + 1)
		st[BENCH_KE] = ke_state[s];
	else
		pr_warn("kecpuhp_bench: cpuhp states %d (kecpuhp), %d, %d, %d not adjacent: no state timing\n",
			ke_state[s], st[BENCH_MARK1], native, st[BENCH_MARK2]);
	return native;

out_mark1:
	cpuhp_remove_state_nocalls(st[BENCH_MARK1]);
	st[BENCH_MARK1] = -1;
	return native;
}

static void bench_states_remove(unsigned int s, int native)
{
	cpuhp_remove_state_nocalls(bench_stamp_state[s][BENCH_MARK2]);
	cpuhp_remove_multi_state(native);
	cpuhp_remove_state_nocalls(bench_stamp_state[s][BENCH_MARK1]);
}

static int __init bench_init(void)
{
	int ret = -ENOMEM;

	reps = clamp(reps, 1u, (unsigned int)BENCH_MAX_REPS);
	bench_natives = vcalloc(max_r + 1, sizeof(*bench_natives));
	bench_handles = vcalloc(max(max_r * 10, 100000u), sizeof(*bench_handles));
	if (!bench_natives || !bench_handles)
		goto out;
	for_each_kernel_tracepoint(bench_find_tp, NULL);
	ret = bench_states_setup(0, bench_native_up);
	if (ret < 0)
		goto out;
	bench_prep_state = ret;
	ret = bench_states_setup(1, bench_native_online);
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

	bench_states_remove(1, bench_online_state);
	ret = 0;
out_prep:
	bench_states_remove(0, bench_prep_state);
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
