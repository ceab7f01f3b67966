// SPDX-License-Identifier: GPL-2.0
/*
 * Running code on a processor: thread affinity, DPCs and generic calls,
 * on the real CPUs of the guest (CPUs 0 and 1 at boot, and those the
 * hot-add suite brought online), with CPUs taken offline and back.
 *
 * Cases that hold a processor busy (a "blocker" DPC spinning on it, so
 * that what is queued after it stays queued) first move the test thread to
 * another processor with KeSetSystemGroupAffinityThread(), so the blocker
 * never starves the thread that will release it.
 *
 * The kecpuhp_run_hotadd suite makes one successful hot-add, shared by its
 * cases, whose Complete callback does what ported drivers do there.
 */
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/kmsg_dump.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/umh.h>

#include "kecpuhp_test.h"

#define RUN_WAIT	(5 * HZ)

static int run_init(struct kunit *test)
{
	rec_reset();
	return 0;
}

/*
 * The cleanup of every case: nothing left queued. (It runs in a thread of
 * its own, so a case that pins itself reverts before it ends.)
 */
static void run_exit(struct kunit *test)
{
	KeFlushQueuedDpcs();
	test_exit(test);
}

static ULONG run_active(void)
{
	return KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
}

/* Whether processor @index is active and its CPU online. */
static bool run_index_online(ULONG index)
{
	int cpu = kecpuhp_index_to_cpu(index);

	return index < run_active() && cpu >= 0 && cpu_online(cpu);
}

static unsigned int run_online_count(void)
{
	unsigned int n = 0;
	ULONG i;

	for (i = 0; i < run_active(); i++)
		n += run_index_online(i);
	return n;
}

/* Two different online processors, or the case is skipped. */
static void run_two_indices(struct kunit *test, ULONG *a, ULONG *b)
{
	ULONG i;

	*a = *b = INVALID_PROCESSOR_INDEX;
	for (i = 0; i < run_active(); i++) {
		if (!run_index_online(i))
			continue;
		if (*a == INVALID_PROCESSOR_INDEX)
			*a = i;
		else if (*b == INVALID_PROCESSOR_INDEX)
			*b = i;
	}
	if (*b == INVALID_PROCESSOR_INDEX)
		kunit_skip(test, "needs two online processors");
}

static GROUP_AFFINITY run_affinity_of(ULONG index)
{
	GROUP_AFFINITY ga = {
		.Mask = BIT(index % MAXIMUM_PROC_PER_GROUP),
		.Group = index / MAXIMUM_PROC_PER_GROUP,
	};

	return ga;
}

static ULONG run_current_index(void)
{
	ULONG index;

	preempt_disable();
	index = KeGetCurrentProcessorNumberEx(NULL);
	preempt_enable();
	return index;
}

/* Move the test thread to processor @index; run_exit() moves it back. */
static void run_pin(struct kunit *test, ULONG index)
{
	GROUP_AFFINITY ga = run_affinity_of(index), prev;

	KeSetSystemGroupAffinityThread(&ga, &prev);
	KUNIT_ASSERT_EQ(test, run_current_index(), index);
}

/* Whether the kernel log holds a line containing all of @a and @b. */
static bool run_log_has(const char *a, const char *b)
{
	struct kmsg_dump_iter iter;
	size_t len;
	bool found = false;
	char *line = kmalloc(1024, GFP_KERNEL);

	if (!line)
		return false;
	kmsg_dump_rewind(&iter);
	while (!found && kmsg_dump_get_line(&iter, false, line, 1023, &len)) {
		line[len] = '\0';
		found = strstr(line, a) && (!b || strstr(line, b));
	}
	kfree(line);
	return found;
}

/* ---- DPC helpers ---- */

struct run_dpc {
	KDPC dpc;
	struct completion done;
	atomic_t runs;
	int cpu;
	ULONG index;
	bool atomic_ctx, irqs_on;
	PKDPC seen_dpc;
	PVOID a1, a2;
	int order;
	atomic_t *order_counter;
};

static VOID run_dpc_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct run_dpc *r = ctx;

	r->cpu = raw_smp_processor_id();
	r->index = KeGetCurrentProcessorNumberEx(NULL);
	r->atomic_ctx = preempt_count() != 0;
	r->irqs_on = !irqs_disabled();
	r->seen_dpc = dpc;
	r->a1 = a1;
	r->a2 = a2;
	if (r->order_counter)
		r->order = atomic_inc_return(r->order_counter);
	atomic_inc(&r->runs);
	complete(&r->done);
}

static struct run_dpc *run_new_dpc(struct kunit *test, bool threaded)
{
	struct run_dpc *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	init_completion(&r->done);
	if (threaded)
		KeInitializeThreadedDpc(&r->dpc, run_dpc_routine, r);
	else
		KeInitializeDpc(&r->dpc, run_dpc_routine, r);
	return r;
}

static void run_target(struct kunit *test, PKDPC dpc, ULONG index)
{
	PROCESSOR_NUMBER pn;

	KUNIT_ASSERT_EQ(test, KeGetProcessorNumberFromIndex(index, &pn), STATUS_SUCCESS);
	KUNIT_ASSERT_EQ(test, KeSetTargetProcessorDpcEx(dpc, &pn), STATUS_SUCCESS);
}

static bool run_wait(struct run_dpc *r)
{
	return wait_for_completion_timeout(&r->done, RUN_WAIT) != 0;
}

/* A DPC that keeps its processor busy until released. */
struct run_blocker {
	KDPC dpc;
	atomic_t started, release;
};

static VOID run_block_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct run_blocker *b = ctx;
	unsigned long limit = jiffies + 10 * HZ;

	atomic_set(&b->started, 1);
	/* Bounded, so a failed case cannot hang the guest for good. */
	while (!atomic_read(&b->release) && time_before(jiffies, limit))
		cpu_relax();
}

static struct run_blocker *run_block(struct kunit *test, ULONG index)
{
	struct run_blocker *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	unsigned long limit = jiffies + RUN_WAIT;

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NE(test, run_current_index(), index);
	KeInitializeDpc(&b->dpc, run_block_routine, b);
	run_target(test, &b->dpc, index);
	KUNIT_ASSERT_TRUE(test, KeInsertQueueDpc(&b->dpc, NULL, NULL));
	while (!atomic_read(&b->started) && time_before(jiffies, limit))
		usleep_range(100, 200);
	KUNIT_ASSERT_TRUE(test, atomic_read(&b->started));
	return b;
}

static void run_unblock(struct run_blocker *b)
{
	atomic_set(&b->release, 1);
}

/* ---- affinity ---- */

/* Set to each online processor in turn: the thread runs there; revert is exact. */
static void affinity_set_runs_on_each(struct kunit *test)
{
	cpumask_var_t before;
	GROUP_AFFINITY ga, prev;
	ULONG i;

	KUNIT_ASSERT_TRUE(test, alloc_cpumask_var(&before, GFP_KERNEL));
	cpumask_copy(before, &current->cpus_mask);
	for (i = 0; i < run_active(); i++) {
		if (!run_index_online(i))
			continue;
		ga = run_affinity_of(i);
		KeSetSystemGroupAffinityThread(&ga, &prev);
		KUNIT_EXPECT_EQ_MSG(test, run_current_index(), i, "processor %u", i);
		KUNIT_EXPECT_EQ(test, prev.Mask, 0UL);
		KUNIT_EXPECT_EQ(test, prev.Group, 0);
		KeRevertToUserGroupAffinityThread(&prev);
		KUNIT_EXPECT_TRUE(test, cpumask_equal(before, &current->cpus_mask));
	}
	free_cpumask_var(before);
}

/* A narrow Linux affinity comes back exactly, not as "all CPUs". */
static void affinity_revert_restores_linux_mask(struct kunit *test)
{
	GROUP_AFFINITY ga, prev;
	cpumask_var_t narrow;
	ULONG a, b;

	run_two_indices(test, &a, &b);
	KUNIT_ASSERT_TRUE(test, zalloc_cpumask_var(&narrow, GFP_KERNEL));
	cpumask_set_cpu(kecpuhp_index_to_cpu(a), narrow);
	KUNIT_ASSERT_EQ(test, set_cpus_allowed_ptr(current, narrow), 0);
	ga = run_affinity_of(b);
	KeSetSystemGroupAffinityThread(&ga, &prev);
	KUNIT_EXPECT_EQ(test, run_current_index(), b);
	KeRevertToUserGroupAffinityThread(&prev);
	KUNIT_EXPECT_TRUE(test, cpumask_equal(narrow, &current->cpus_mask));
	KUNIT_EXPECT_EQ(test, run_current_index(), a);
	set_cpus_allowed_ptr(current, cpu_possible_mask);
	free_cpumask_var(narrow);
}

/* Set A, set B, revert to A, revert to the user affinity. */
static void affinity_nesting(struct kunit *test)
{
	GROUP_AFFINITY ga = {}, gb = {}, prev_a, prev_b;
	cpumask_var_t before;
	ULONG a, b;

	run_two_indices(test, &a, &b);
	KUNIT_ASSERT_TRUE(test, alloc_cpumask_var(&before, GFP_KERNEL));
	cpumask_copy(before, &current->cpus_mask);
	ga = run_affinity_of(a);
	gb = run_affinity_of(b);
	KeSetSystemGroupAffinityThread(&ga, &prev_a);
	KeSetSystemGroupAffinityThread(&gb, &prev_b);
	KUNIT_EXPECT_EQ(test, run_current_index(), b);
	KUNIT_EXPECT_EQ(test, prev_a.Mask, 0UL);
	KUNIT_EXPECT_EQ(test, prev_b.Mask, ga.Mask);
	KUNIT_EXPECT_EQ(test, prev_b.Group, ga.Group);
	KeRevertToUserGroupAffinityThread(&prev_b);
	KUNIT_EXPECT_EQ(test, run_current_index(), a);
	KeRevertToUserGroupAffinityThread(&prev_a);
	KUNIT_EXPECT_TRUE(test, cpumask_equal(before, &current->cpus_mask));
	free_cpumask_var(before);
}

/* The KAFFINITY forms, group 0: Ex returns the previous mask; legacy reverts fully. */
static void affinity_ex_and_legacy(struct kunit *test)
{
	cpumask_var_t before;
	KAFFINITY p1, p2;
	ULONG a, b;

	run_two_indices(test, &a, &b);
	if (b >= MAXIMUM_PROC_PER_GROUP)
		kunit_skip(test, "needs two processors in group 0");
	KUNIT_ASSERT_TRUE(test, alloc_cpumask_var(&before, GFP_KERNEL));
	cpumask_copy(before, &current->cpus_mask);
	p1 = KeSetSystemAffinityThreadEx(BIT(a));
	KUNIT_EXPECT_EQ(test, p1, 0UL);
	KUNIT_EXPECT_EQ(test, run_current_index(), a);
	p2 = KeSetSystemAffinityThreadEx(BIT(b));
	KUNIT_EXPECT_EQ(test, p2, BIT(a));
	KUNIT_EXPECT_EQ(test, run_current_index(), b);
	KeRevertToUserAffinityThreadEx(p2);
	KUNIT_EXPECT_EQ(test, run_current_index(), a);
	KeRevertToUserAffinityThreadEx(p1);
	KUNIT_EXPECT_TRUE(test, cpumask_equal(before, &current->cpus_mask));

	KeSetSystemAffinityThread(BIT(b));
	KUNIT_EXPECT_EQ(test, run_current_index(), b);
	KeSetSystemAffinityThread(BIT(a));
	KUNIT_EXPECT_EQ(test, run_current_index(), a);
	KeRevertToUserAffinityThread();
	KUNIT_EXPECT_TRUE(test, cpumask_equal(before, &current->cpus_mask));
	/* a revert with nothing set is harmless */
	KeRevertToUserAffinityThread();
	KUNIT_EXPECT_TRUE(test, cpumask_equal(before, &current->cpus_mask));
	free_cpumask_var(before);
}

/*
 * No effect, thread stays, *Previous written, revert harmless: an empty
 * mask (silently, as on Windows), and with an error a mask of processors
 * that do not exist, a bad group, an offline processor.
 */
static void affinity_refused_masks_stay(struct kunit *test)
{
	GROUP_AFFINITY bad[4] = {
		{ .Mask = 0 },
		{ .Mask = BIT_ULL(63) },
		{ .Mask = 1, .Group = 200 },
		{ .Mask = 0 },		/* the offline processor, below */
	};
	GROUP_AFFINITY prev = { .Mask = 0x5a };
	cpumask_var_t before;
	unsigned int i, n = 3;
	ULONG a, b;

	run_two_indices(test, &a, &b);
	if (run_active() >= 64)
		bad[1].Mask = 0;
	if (kecpuhp_index_to_cpu(b) != 0 && !test_remove_cpu(kecpuhp_index_to_cpu(b)))
		bad[n++] = run_affinity_of(b);
	KUNIT_ASSERT_TRUE(test, alloc_cpumask_var(&before, GFP_KERNEL));
	cpumask_copy(before, &current->cpus_mask);
	for (i = 0; i < n; i++) {
		KeSetSystemGroupAffinityThread(&bad[i], &prev);
		KUNIT_EXPECT_EQ_MSG(test, prev.Mask, 0UL, "mask %u", i);
		KUNIT_EXPECT_TRUE_MSG(test, cpumask_equal(before, &current->cpus_mask),
				      "mask %u", i);
		KeRevertToUserGroupAffinityThread(&prev);
		KUNIT_EXPECT_TRUE_MSG(test, cpumask_equal(before, &current->cpus_mask),
				      "mask %u", i);
	}
	KUNIT_EXPECT_TRUE(test, run_log_has("affinity_refused_masks_stay",
					    "no such processor group"));
	/* NULL arguments are reported, not followed */
	KeSetSystemGroupAffinityThread(NULL, &prev);
	KeRevertToUserGroupAffinityThread(NULL);
	KUNIT_EXPECT_TRUE(test, cpumask_equal(before, &current->cpus_mask));
	free_cpumask_var(before);
}

/* A nested Set that fails leaves the outer one, and its revert, intact. */
static void affinity_failed_inner_set(struct kunit *test)
{
	GROUP_AFFINITY ga, bad = { .Mask = 1, .Group = 300 }, prev_a, prev_bad;
	ULONG a, b;

	run_two_indices(test, &a, &b);
	ga = run_affinity_of(b);
	KeSetSystemGroupAffinityThread(&ga, &prev_a);
	KeSetSystemGroupAffinityThread(&bad, &prev_bad);
	KUNIT_EXPECT_EQ(test, prev_bad.Mask, ga.Mask);
	KUNIT_EXPECT_EQ(test, run_current_index(), b);
	KeRevertToUserGroupAffinityThread(&prev_bad);
	KUNIT_EXPECT_EQ(test, run_current_index(), b);
	KeRevertToUserGroupAffinityThread(&prev_a);
}

struct run_thread_result {
	struct completion done;
	ULONG before, after;
	GROUP_AFFINITY prev;
	ULONG target;
};

static int run_bound_thread(void *data)
{
	struct run_thread_result *r = data;
	GROUP_AFFINITY ga = run_affinity_of(r->target);

	r->before = run_current_index();
	KeSetSystemGroupAffinityThread(&ga, &r->prev);
	r->after = run_current_index();
	KeRevertToUserGroupAffinityThread(&r->prev);
	complete(&r->done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* A kthread_bind()'ed thread is not moved: Linux says so, and it stays. */
static void affinity_bound_kthread_stays(struct kunit *test)
{
	struct run_thread_result *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct task_struct *t;
	ULONG a, b;

	KUNIT_ASSERT_NOT_NULL(test, r);
	run_two_indices(test, &a, &b);
	init_completion(&r->done);
	r->target = b;
	t = kthread_create(run_bound_thread, r, "kecpuhp_test_bound");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	kthread_bind(t, kecpuhp_index_to_cpu(a));
	get_task_struct(t);
	wake_up_process(t);
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&r->done, RUN_WAIT));
	kthread_stop(t);
	put_task_struct(t);
	KUNIT_EXPECT_EQ(test, r->before, a);
	KUNIT_EXPECT_EQ(test, r->after, a);
	KUNIT_EXPECT_EQ(test, r->prev.Mask, 0UL);
	KUNIT_EXPECT_TRUE(test, run_log_has("run_bound_thread", "does not let this thread move"));
}

/* From atomic context: refused with an error, no sleeping-in-atomic splat. */
static void affinity_atomic_refused(struct kunit *test)
{
	GROUP_AFFINITY ga, prev;
	ULONG a, b, before;

	run_two_indices(test, &a, &b);
	preempt_disable();
	before = KeGetCurrentProcessorNumberEx(NULL);
	ga = run_affinity_of(before == a ? b : a);
	KeSetSystemGroupAffinityThread(&ga, &prev);
	KUNIT_EXPECT_EQ(test, KeGetCurrentProcessorNumberEx(NULL), before);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, prev.Mask, 0UL);
	KeRevertToUserGroupAffinityThread(&prev);
	KUNIT_EXPECT_TRUE(test, run_log_has("affinity_atomic_refused", "atomic context"));
}

/* ---- DPCs ---- */

/* On its target, preemption off, interrupts on, with the DPC and its arguments. */
static void dpc_runs_on_target_at_dispatch(struct kunit *test)
{
	struct run_dpc *r = run_new_dpc(test, false);
	ULONG i;

	for (i = 0; i < run_active(); i++) {
		if (!run_index_online(i))
			continue;
		reinit_completion(&r->done);
		run_target(test, &r->dpc, i);
		KUNIT_ASSERT_TRUE(test, KeInsertQueueDpc(&r->dpc, (PVOID)0x11, (PVOID)0x22));
		KUNIT_ASSERT_TRUE_MSG(test, run_wait(r), "processor %u", i);
		KUNIT_EXPECT_EQ(test, r->index, i);
		KUNIT_EXPECT_EQ(test, r->cpu, kecpuhp_index_to_cpu(i));
		KUNIT_EXPECT_TRUE(test, r->atomic_ctx);
		KUNIT_EXPECT_TRUE(test, r->irqs_on);
		KUNIT_EXPECT_PTR_EQ(test, r->seen_dpc, &r->dpc);
		KUNIT_EXPECT_PTR_EQ(test, r->a1, (PVOID)0x11);
		KUNIT_EXPECT_PTR_EQ(test, r->a2, (PVOID)0x22);
	}
}

/* No target set: the processor that queued it. */
static void dpc_untargeted_runs_here(struct kunit *test)
{
	struct run_dpc *r = run_new_dpc(test, false);
	ULONG here;

	preempt_disable();
	here = KeGetCurrentProcessorNumberEx(NULL);
	KUNIT_EXPECT_TRUE(test, KeInsertQueueDpc(&r->dpc, NULL, NULL));
	preempt_enable();
	KUNIT_ASSERT_TRUE(test, run_wait(r));
	KUNIT_EXPECT_EQ(test, r->index, here);
}

/* A threaded DPC runs on its target in a preemptible high-priority thread. */
static void dpc_threaded_runs_preemptible(struct kunit *test)
{
	struct run_dpc *r = run_new_dpc(test, true);
	ULONG a, b;

	run_two_indices(test, &a, &b);
	run_target(test, &r->dpc, b);
	KUNIT_ASSERT_TRUE(test, KeInsertQueueDpc(&r->dpc, NULL, NULL));
	KUNIT_ASSERT_TRUE(test, run_wait(r));
	KUNIT_EXPECT_EQ(test, r->index, b);
	if (IS_ENABLED(CONFIG_PREEMPT_COUNT))
		KUNIT_EXPECT_FALSE(test, r->atomic_ctx);
	KUNIT_EXPECT_TRUE(test, r->irqs_on);
}

/* Queued twice: FALSE the second time; removed: TRUE once, and it never runs. */
static void dpc_insert_remove_rules(struct kunit *test)
{
	struct run_dpc *r = run_new_dpc(test, false);
	struct run_blocker *blk;
	ULONG a, b;

	run_two_indices(test, &a, &b);
	run_pin(test, a);
	blk = run_block(test, b);
	run_target(test, &r->dpc, b);
	KUNIT_EXPECT_TRUE(test, KeInsertQueueDpc(&r->dpc, (PVOID)1, NULL));
	KUNIT_EXPECT_FALSE(test, KeInsertQueueDpc(&r->dpc, (PVOID)2, NULL));
	KUNIT_EXPECT_TRUE(test, KeRemoveQueueDpc(&r->dpc));
	KUNIT_EXPECT_FALSE(test, KeRemoveQueueDpc(&r->dpc));
	KUNIT_EXPECT_TRUE(test, KeInsertQueueDpc(&r->dpc, (PVOID)3, NULL));
	run_unblock(blk);
	KUNIT_ASSERT_TRUE(test, run_wait(r));
	KeFlushQueuedDpcs();
	KUNIT_EXPECT_EQ(test, atomic_read(&r->runs), 1);
	KUNIT_EXPECT_PTR_EQ(test, r->a1, (PVOID)3);
	KUNIT_EXPECT_FALSE(test, KeRemoveQueueDpc(&r->dpc));
	KeRevertToUserAffinityThread();
}

/* HighImportance goes to the head of the queue, the others to the tail. */
static void dpc_importance_order(struct kunit *test)
{
	static const KDPC_IMPORTANCE imp[4] = {
		MediumImportance, LowImportance, HighImportance, MediumHighImportance,
	};
	static const int want[4] = { 2, 3, 1, 4 };
	struct run_dpc *r[4];
	struct run_blocker *blk;
	atomic_t order = ATOMIC_INIT(0);
	ULONG a, b;
	int i;

	run_two_indices(test, &a, &b);
	run_pin(test, a);
	blk = run_block(test, b);
	for (i = 0; i < 4; i++) {
		r[i] = run_new_dpc(test, false);
		r[i]->order_counter = &order;
		KeSetImportanceDpc(&r[i]->dpc, imp[i]);
		run_target(test, &r[i]->dpc, b);
		KUNIT_EXPECT_TRUE(test, KeInsertQueueDpc(&r[i]->dpc, NULL, NULL));
	}
	run_unblock(blk);
	KeFlushQueuedDpcs();
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ_MSG(test, r[i]->order, want[i], "DPC %d", i);
	KeRevertToUserAffinityThread();
}

struct run_requeue {
	KDPC dpc;
	atomic_t runs;
	int limit;
};

static VOID run_requeue_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct run_requeue *q = ctx;

	if (atomic_inc_return(&q->runs) < q->limit)
		KeInsertQueueDpc(dpc, a1, a2);
}

/* A routine may queue its own DPC again; Flush waits for every run queued before it. */
static void dpc_requeue_and_flush(struct kunit *test)
{
	struct run_requeue *q = kunit_kzalloc(test, sizeof(*q), GFP_KERNEL);
	unsigned long limit = jiffies + RUN_WAIT;

	KUNIT_ASSERT_NOT_NULL(test, q);
	q->limit = 50;
	KeInitializeDpc(&q->dpc, run_requeue_routine, q);
	KUNIT_ASSERT_TRUE(test, KeInsertQueueDpc(&q->dpc, NULL, NULL));
	while (atomic_read(&q->runs) < q->limit && time_before(jiffies, limit)) {
		KeFlushQueuedDpcs();
		KUNIT_EXPECT_GE(test, atomic_read(&q->runs), 1);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&q->runs), q->limit);
	KUNIT_EXPECT_FALSE(test, KeRemoveQueueDpc(&q->dpc));
}

struct run_irq_insert {
	struct hrtimer timer;
	struct run_dpc *r;
	bool inserted, hardirq;
};

static enum hrtimer_restart run_irq_fn(struct hrtimer *t)
{
	struct run_irq_insert *ii = container_of(t, struct run_irq_insert, timer);

	ii->hardirq = in_hardirq();
	ii->inserted = KeInsertQueueDpc(&ii->r->dpc, (PVOID)7, NULL);
	return HRTIMER_NORESTART;
}

/* Queued from a hard interrupt (an hrtimer), it runs. */
static void dpc_insert_from_hardirq(struct kunit *test)
{
	struct run_irq_insert *ii = kunit_kzalloc(test, sizeof(*ii), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ii);
	ii->r = run_new_dpc(test, false);
	hrtimer_init(&ii->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	ii->timer.function = run_irq_fn;
	hrtimer_start(&ii->timer, ns_to_ktime(100 * NSEC_PER_USEC), HRTIMER_MODE_REL_HARD);
	KUNIT_EXPECT_TRUE(test, run_wait(ii->r));
	hrtimer_cancel(&ii->timer);
	KUNIT_EXPECT_TRUE(test, ii->hardirq);
	KUNIT_EXPECT_TRUE(test, ii->inserted);
	KUNIT_EXPECT_PTR_EQ(test, ii->r->a1, (PVOID)7);
}

/* Aimed at an offline processor: runs elsewhere, with an error naming it; Flush returns. */
static void dpc_offline_target_runs_elsewhere(struct kunit *test)
{
	struct run_dpc *r = run_new_dpc(test, false);
	ULONG a, b;
	int cpu;

	run_two_indices(test, &a, &b);
	cpu = kecpuhp_index_to_cpu(b);
	if (cpu == 0)
		kunit_skip(test, "CPU0 cannot go offline here");
	run_target(test, &r->dpc, b);
	KUNIT_ASSERT_EQ(test, test_remove_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, KeInsertQueueDpc(&r->dpc, NULL, NULL));
	KUNIT_ASSERT_TRUE(test, run_wait(r));
	KeFlushQueuedDpcs();
	KUNIT_EXPECT_EQ(test, atomic_read(&r->runs), 1);
	KUNIT_EXPECT_NE(test, r->cpu, cpu);
	KUNIT_EXPECT_TRUE(test, run_log_has("run_dpc_routine", "which does not run DPCs now"));
	/* back online, it is a target again */
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	reinit_completion(&r->done);
	KUNIT_EXPECT_TRUE(test, KeInsertQueueDpc(&r->dpc, NULL, NULL));
	KUNIT_ASSERT_TRUE(test, run_wait(r));
	KUNIT_EXPECT_EQ(test, r->cpu, cpu);
}

static int run_remove_cpu_fn(void *data)
{
	return remove_cpu((unsigned long)data);
}

/* Queued on a processor that goes offline: it runs there, before it goes; no hang. */
static void dpc_target_goes_offline(struct kunit *test)
{
	struct run_dpc *r = run_new_dpc(test, false);
	struct run_blocker *blk;
	struct task_struct *t;
	ULONG a, b;
	int cpu;

	run_two_indices(test, &a, &b);
	cpu = kecpuhp_index_to_cpu(b);
	if (cpu == 0)
		kunit_skip(test, "CPU0 cannot go offline here");
	run_pin(test, a);
	blk = run_block(test, b);
	run_target(test, &r->dpc, b);
	KUNIT_ASSERT_TRUE(test, KeInsertQueueDpc(&r->dpc, NULL, NULL));
	t = kthread_create(run_remove_cpu_fn, (void *)(unsigned long)cpu, "kecpuhp_test_off");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	get_task_struct(t);
	wake_up_process(t);
	msleep(50);
	run_unblock(blk);
	KUNIT_EXPECT_TRUE(test, run_wait(r));
	KUNIT_EXPECT_EQ(test, r->cpu, cpu);
	/* the offline finishes (its teardown waited for the queue), then back */
	KUNIT_EXPECT_EQ(test, kthread_stop(t), 0);
	put_task_struct(t);
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
	KeFlushQueuedDpcs();
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->runs), 1);
	KeRevertToUserAffinityThread();
}

/* NULL, uninitialised and bad arguments: reported, refused, nothing runs. */
static void dpc_misuse(struct kunit *test)
{
	struct run_dpc *r = run_new_dpc(test, false);
	PROCESSOR_NUMBER bad[] = {
		{ .Group = 300, .Number = 0 },
		{ .Group = 0, .Number = 200 },
		{ .Group = 0, .Number = 0, .Reserved = 1 },
		{ .Group = 0, .Number = 63 },
	};
	KDPC *raw = kunit_kzalloc(test, sizeof(*raw), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, raw);
	KUNIT_EXPECT_FALSE(test, KeInsertQueueDpc(NULL, NULL, NULL));
	KUNIT_EXPECT_FALSE(test, KeRemoveQueueDpc(NULL));
	KUNIT_EXPECT_EQ(test, KeSetTargetProcessorDpcEx(NULL, &bad[0]), STATUS_INVALID_PARAMETER);
	KeSetImportanceDpc(NULL, HighImportance);
	KeSetTargetProcessorDpc(NULL, 0);
	KeInitializeDpc(NULL, run_dpc_routine, NULL);
	/* zeroed, then garbage, never initialised */
	KUNIT_EXPECT_FALSE(test, KeInsertQueueDpc(raw, NULL, NULL));
	memset(raw, 0x5a, sizeof(*raw));
	KUNIT_EXPECT_FALSE(test, KeInsertQueueDpc(raw, NULL, NULL));
	KUNIT_EXPECT_FALSE(test, KeRemoveQueueDpc(raw));
	/* a copy of an initialised DPC is not initialised */
	memcpy(raw, &r->dpc, sizeof(*raw));
	KUNIT_EXPECT_FALSE(test, KeInsertQueueDpc(raw, NULL, NULL));
	/* no routine: stays uninitialised */
	KeInitializeDpc(raw, NULL, NULL);
	KUNIT_EXPECT_FALSE(test, KeInsertQueueDpc(raw, NULL, NULL));
	/* bad processor numbers: STATUS_INVALID_PARAMETER, target unchanged */
	run_target(test, &r->dpc, 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (KeGetProcessorIndexFromNumber(&bad[i]) != INVALID_PROCESSOR_INDEX)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, KeSetTargetProcessorDpcEx(&r->dpc, &bad[i]),
				    STATUS_INVALID_PARAMETER, "number %u", i);
	}
	KUNIT_EXPECT_EQ(test, KeSetTargetProcessorDpcEx(&r->dpc, NULL), STATUS_INVALID_PARAMETER);
	KeSetTargetProcessorDpc(&r->dpc, -1);
	KeSetTargetProcessorDpc(&r->dpc, 100);
	KeSetImportanceDpc(&r->dpc, (KDPC_IMPORTANCE)9);
	KUNIT_EXPECT_TRUE(test, KeInsertQueueDpc(&r->dpc, NULL, NULL));
	KUNIT_ASSERT_TRUE(test, run_wait(r));
	KUNIT_EXPECT_EQ(test, r->index, 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->runs), 1);
	KUNIT_EXPECT_TRUE(test, run_log_has("dpc_misuse", "was not initialised"));
	KUNIT_EXPECT_TRUE(test, run_log_has("dpc_misuse", "target unchanged"));
}

/* Initialising a queued DPC again is refused: the queue stays sound. */
static void dpc_reinit_queued_refused(struct kunit *test)
{
	struct run_dpc *r = run_new_dpc(test, false);
	struct run_blocker *blk;
	ULONG a, b;

	run_two_indices(test, &a, &b);
	run_pin(test, a);
	blk = run_block(test, b);
	run_target(test, &r->dpc, b);
	KUNIT_ASSERT_TRUE(test, KeInsertQueueDpc(&r->dpc, NULL, NULL));
	KeInitializeDpc(&r->dpc, run_dpc_routine, NULL);
	run_unblock(blk);
	KUNIT_ASSERT_TRUE(test, run_wait(r));
	KeFlushQueuedDpcs();
	KUNIT_EXPECT_EQ(test, r->index, b);
	KUNIT_EXPECT_TRUE(test, run_log_has("dpc_reinit_queued_refused",
					    "is queued; not initialised again"));
	KeRevertToUserAffinityThread();
}

#define RACE_DPCS	4

struct run_race {
	KDPC dpc[RACE_DPCS];
	atomic_t runs, inserted, removed, flushes;
	unsigned long deadline;
	struct completion done[8];
	ULONG nproc;
};

static VOID run_race_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct run_race *rc = ctx;

	atomic_inc(&rc->runs);
}

static int run_race_thread(void *data)
{
	struct run_race *rc = data;
	PROCESSOR_NUMBER pn;
	u32 x, i;

	while (time_before(jiffies, rc->deadline)) {
		x = get_random_u32();
		i = x % RACE_DPCS;
		switch ((x >> 8) % 16) {
		case 0:
			KeFlushQueuedDpcs();
			atomic_inc(&rc->flushes);
			break;
		case 1 ... 6:
			if (KeRemoveQueueDpc(&rc->dpc[i]))
				atomic_inc(&rc->removed);
			break;
		default:
			/* retarget only what is not queued, as Windows requires */
			if (!READ_ONCE(rc->dpc[i].DpcData) &&
			    NT_SUCCESS(KeGetProcessorNumberFromIndex((x >> 16) % rc->nproc, &pn)))
				KeSetTargetProcessorDpcEx(&rc->dpc[i], &pn);
			if (KeInsertQueueDpc(&rc->dpc[i], NULL, NULL))
				atomic_inc(&rc->inserted);
			break;
		}
		if (!(x & 0xff))
			cond_resched();
	}
	return 0;
}

/*
 * Insert, remove and flush the same DPCs from every processor at once:
 * every successful insert is either run or removed, exactly once.
 */
static void dpc_removal_race(struct kunit *test)
{
	struct run_race *rc = kunit_kzalloc(test, sizeof(*rc), GFP_KERNEL);
	struct task_struct *t[8];
	unsigned int n = 0, i;
	ULONG p;

	KUNIT_ASSERT_NOT_NULL(test, rc);
	for (i = 0; i < RACE_DPCS; i++)
		KeInitializeDpc(&rc->dpc[i], run_race_routine, rc);
	rc->nproc = run_active();
	rc->deadline = jiffies + HZ / 2;
	for (p = 0; p < run_active() && n < ARRAY_SIZE(t); p++) {
		if (!run_index_online(p))
			continue;
		t[n] = kthread_create(run_race_thread, rc, "kecpuhp_test_race/%u", p);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t[n]));
		kthread_bind(t[n], kecpuhp_index_to_cpu(p));
		get_task_struct(t[n]);
		wake_up_process(t[n]);
		n++;
	}
	for (i = 0; i < n; i++) {
		kthread_stop(t[i]);
		put_task_struct(t[i]);
	}
	KeFlushQueuedDpcs();
	KUNIT_EXPECT_GT(test, atomic_read(&rc->inserted), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&rc->inserted),
			atomic_read(&rc->runs) + atomic_read(&rc->removed));
	for (i = 0; i < RACE_DPCS; i++)
		KUNIT_EXPECT_FALSE(test, KeRemoveQueueDpc(&rc->dpc[i]));
	kunit_info(test, "%d inserted, %d ran, %d removed, %d flushes on %u threads\n",
		   atomic_read(&rc->inserted), atomic_read(&rc->runs),
		   atomic_read(&rc->removed), atomic_read(&rc->flushes), n);
}

#define FIXTURE_KO	"/kecpuhp/kecpuhp_fixture.ko"

static int run_rmmod_fixture(void *unused)
{
	return test_run_applet("rmmod", "kecpuhp_fixture", NULL);
}

/*
 * A module unloaded with a DPC still queued (its processor held busy):
 * the DPC is removed and reported by name, and never runs into freed text.
 */
static void dpc_module_unloaded_with_queued(struct kunit *test)
{
	struct run_blocker *blk;
	struct task_struct *t;
	char arg[24];
	struct file *f;
	ULONG a, b;

	f = filp_open(FIXTURE_KO, O_RDONLY, 0);
	if (IS_ERR(f))
		kunit_skip(test, FIXTURE_KO " is not here (run in make check's guest)");
	filp_close(f, NULL);
	run_two_indices(test, &a, &b);
	run_pin(test, a);
	blk = run_block(test, b);
	snprintf(arg, sizeof(arg), "dpc_at=%u", b);
	KUNIT_EXPECT_EQ(test, test_run_applet("insmod", FIXTURE_KO, arg), 0);
	/*
	 * rmmod waits for an RCU grace period after the module notifiers,
	 * which the busy processor holds up: release it from here meanwhile.
	 */
	t = kthread_create(run_rmmod_fixture, NULL, "kecpuhp_test_rmmod");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	get_task_struct(t);
	wake_up_process(t);
	msleep(300);
	run_unblock(blk);
	KUNIT_EXPECT_EQ(test, kthread_stop(t), 0);
	put_task_struct(t);
	KeFlushQueuedDpcs();
	KUNIT_EXPECT_TRUE(test, run_log_has("kecpuhp_fixture unloaded with DPC",
					    "fixture_dpc_routine"));
	KeRevertToUserAffinityThread();
}

/* ---- generic calls ---- */

struct run_ipi {
	atomic_t entered, hits[NR_CPUS > 64 ? 64 : NR_CPUS];
	atomic_t irqs_off, together;
	unsigned int n;
};

static ULONG_PTR run_ipi_worker(ULONG_PTR arg)
{
	struct run_ipi *s = (struct run_ipi *)arg;
	unsigned int cpu = smp_processor_id();
	u64 limit = 100000;

	if (cpu < ARRAY_SIZE(s->hits))
		atomic_inc(&s->hits[cpu]);
	if (irqs_disabled())
		atomic_inc(&s->irqs_off);
	/* every worker is running at the same time: all arrive here */
	atomic_inc(&s->entered);
	while (atomic_read(&s->entered) < s->n && --limit)
		udelay(1);
	if (limit)
		atomic_inc(&s->together);
	return 1000 + cpu;
}

/* Every active online processor, at once, interrupts off; the caller's result. */
static void ipi_runs_everywhere_at_once(struct kunit *test)
{
	struct run_ipi *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	ULONG_PTR ret;
	ULONG i;
	int cpu;

	KUNIT_ASSERT_NOT_NULL(test, s);
	s->n = run_online_count();
	preempt_disable();		/* DISPATCH_LEVEL, and a known caller */
	cpu = smp_processor_id();
	ret = KeIpiGenericCall(run_ipi_worker, (ULONG_PTR)s);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, ret, (ULONG_PTR)(1000 + cpu));
	KUNIT_EXPECT_EQ(test, atomic_read(&s->irqs_off), (int)s->n);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->together), (int)s->n);
	for (i = 0; i < run_active(); i++) {
		int c = kecpuhp_index_to_cpu(i);

		if (run_index_online(i) && c < ARRAY_SIZE(s->hits))
			KUNIT_EXPECT_EQ_MSG(test, atomic_read(&s->hits[c]), 1, "processor %u", i);
	}
	/* and from an ordinary, preemptible thread */
	memset(s, 0, sizeof(*s));
	s->n = run_online_count();
	KUNIT_EXPECT_GE(test, KeIpiGenericCall(run_ipi_worker, (ULONG_PTR)s), (ULONG_PTR)1000);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->together), (int)s->n);
}

struct run_ipi_in_dpc {
	struct run_dpc r;
	struct run_ipi s;
	ULONG_PTR ret;
};

static VOID run_ipi_dpc_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct run_ipi_in_dpc *d = ctx;

	d->ret = KeIpiGenericCall(run_ipi_worker, (ULONG_PTR)&d->s);
	complete(&d->r.done);
}

/* From a DPC routine (DISPATCH_LEVEL), as VirtualBox does. */
static void ipi_from_dpc(struct kunit *test)
{
	struct run_ipi_in_dpc *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, d);
	init_completion(&d->r.done);
	d->s.n = run_online_count();
	KeInitializeDpc(&d->r.dpc, run_ipi_dpc_routine, d);
	KUNIT_ASSERT_TRUE(test, KeInsertQueueDpc(&d->r.dpc, NULL, NULL));
	KUNIT_ASSERT_TRUE(test, run_wait(&d->r));
	KUNIT_EXPECT_GE(test, d->ret, (ULONG_PTR)1000);
	KUNIT_EXPECT_EQ(test, atomic_read(&d->s.together), (int)d->s.n);
}

/* NULL worker, interrupts disabled: reported, nothing runs, 0. */
static void ipi_misuse(struct kunit *test)
{
	struct run_ipi *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	unsigned long flags;
	ULONG_PTR ret;

	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, KeIpiGenericCall(NULL, 0), (ULONG_PTR)0);
	local_irq_save(flags);
	ret = KeIpiGenericCall(run_ipi_worker, (ULONG_PTR)s);
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, ret, (ULONG_PTR)0);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->entered), 0);
	KUNIT_EXPECT_TRUE(test, run_log_has("ipi_misuse", "interrupts disabled"));
}

#define GC_ROUNDS	3

struct run_gencall {
	atomic_t hits[64];
	atomic_t calls, atomic_ctx, irqs_on, bad_order;
	atomic_t trues[GC_ROUNDS];
	atomic_t phase[GC_ROUNDS];
	unsigned int n;
	bool rounds;
};

static VOID run_gencall_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct run_gencall *g = ctx;
	unsigned int cpu = smp_processor_id(), r;

	if (cpu < ARRAY_SIZE(g->hits))
		atomic_inc(&g->hits[cpu]);
	atomic_inc(&g->calls);
	if (preempt_count())
		atomic_inc(&g->atomic_ctx);
	if (!irqs_disabled())
		atomic_inc(&g->irqs_on);
	for (r = 0; g->rounds && r < GC_ROUNDS; r++) {
		atomic_inc(&g->phase[r]);
		if (KeSignalCallDpcSynchronize(a2))
			atomic_inc(&g->trues[r]);
		/* everyone reached this round before anyone left it */
		if (atomic_read(&g->phase[r]) != g->n)
			atomic_inc(&g->bad_order);
	}
	KeSignalCallDpcDone(a1);
}

static void run_expect_gencall(struct kunit *test, struct run_gencall *g)
{
	ULONG i;
	int c;

	KUNIT_EXPECT_EQ(test, atomic_read(&g->calls), (int)g->n);
	KUNIT_EXPECT_EQ(test, atomic_read(&g->atomic_ctx), (int)g->n);
	KUNIT_EXPECT_EQ(test, atomic_read(&g->irqs_on), (int)g->n);
	for (i = 0; i < run_active(); i++) {
		c = kecpuhp_index_to_cpu(i);
		if (run_index_online(i) && c < ARRAY_SIZE(g->hits))
			KUNIT_EXPECT_EQ_MSG(test, atomic_read(&g->hits[c]), 1, "processor %u", i);
	}
}

/* Once on every active processor, DISPATCH_LEVEL, returns after every Done. */
static void gencall_dpc_every_processor(struct kunit *test)
{
	struct run_gencall *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, g);
	g->n = run_online_count();
	KeGenericCallDpc(run_gencall_routine, g);
	run_expect_gencall(test, g);
}

/* The barrier: TRUE on exactly one processor per round, nobody leaves early. */
static void gencall_barrier_true_once(struct kunit *test)
{
	struct run_gencall *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);
	int r;

	KUNIT_ASSERT_NOT_NULL(test, g);
	g->n = run_online_count();
	g->rounds = true;
	KeGenericCallDpc(run_gencall_routine, g);
	run_expect_gencall(test, g);
	for (r = 0; r < GC_ROUNDS; r++)
		KUNIT_EXPECT_EQ_MSG(test, atomic_read(&g->trues[r]), 1, "round %d", r);
	KUNIT_EXPECT_EQ(test, atomic_read(&g->bad_order), 0);
}

struct run_gc_thread {
	struct run_gencall g;
	int calls;
};

static int run_gc_thread_fn(void *data)
{
	struct run_gc_thread *t = data;
	int i;

	for (i = 0; i < 20; i++) {
		memset(t->g.trues, 0, sizeof(t->g.trues));
		memset(t->g.phase, 0, sizeof(t->g.phase));
		KeGenericCallDpc(run_gencall_routine, &t->g);
		WRITE_ONCE(t->calls, t->calls + 1);
	}
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* Concurrent generic calls with barriers neither overlap nor deadlock. */
static void gencall_serialised(struct kunit *test)
{
	struct run_gc_thread *th = kunit_kcalloc(test, 3, sizeof(*th), GFP_KERNEL);
	struct task_struct *t[3];
	int i, r;

	KUNIT_ASSERT_NOT_NULL(test, th);
	for (i = 0; i < 3; i++) {
		th[i].g.n = run_online_count();
		th[i].g.rounds = true;
		t[i] = kthread_run(run_gc_thread_fn, &th[i], "kecpuhp_test_gc/%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t[i]));
		get_task_struct(t[i]);
	}
	/* a barrier shared by two calls would hand out two TRUEs, or none */
	for (i = 0; i < 3; i++) {
		while (READ_ONCE(th[i].calls) < 20)
			msleep(20);
		kthread_stop(t[i]);
		put_task_struct(t[i]);
	}
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, atomic_read(&th[i].g.calls), 20 * (int)th[i].g.n);
		KUNIT_EXPECT_EQ(test, atomic_read(&th[i].g.bad_order), 0);
		for (r = 0; r < GC_ROUNDS; r++)
			KUNIT_EXPECT_EQ(test, atomic_read(&th[i].g.trues[r]), 1);
	}
}

/* NULL routine, bogus sync arguments, atomic context: reported, ignored. */
static void gencall_misuse(struct kunit *test)
{
	struct run_gencall *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, g);
	KeGenericCallDpc(NULL, NULL);
	KeSignalCallDpcDone(g);
	KUNIT_EXPECT_EQ(test, KeSignalCallDpcSynchronize(g), (LOGICAL)FALSE);
	preempt_disable();
	KeGenericCallDpc(run_gencall_routine, g);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, atomic_read(&g->calls), 0);
	KUNIT_EXPECT_TRUE(test, run_log_has("gencall_misuse",
					    "is not the argument of a KeGenericCallDpc"));
	KUNIT_EXPECT_TRUE(test, run_log_has("gencall_misuse", "atomic context"));
}

/* A processor taken offline is not called, and is called again once back. */
static void gencall_skips_offline(struct kunit *test)
{
	struct run_gencall *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);
	ULONG a, b;
	int cpu;

	KUNIT_ASSERT_NOT_NULL(test, g);
	run_two_indices(test, &a, &b);
	cpu = kecpuhp_index_to_cpu(b);
	if (cpu == 0)
		kunit_skip(test, "CPU0 cannot go offline here");
	KUNIT_ASSERT_EQ(test, test_remove_cpu(cpu), 0);
	g->n = run_online_count();
	g->rounds = true;
	KeGenericCallDpc(run_gencall_routine, g);
	run_expect_gencall(test, g);
	KUNIT_EXPECT_EQ(test, atomic_read(&g->hits[cpu]), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&g->trues[0]), 1);
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	memset(g, 0, sizeof(*g));
	g->n = run_online_count();
	KeGenericCallDpc(run_gencall_routine, g);
	KUNIT_EXPECT_EQ(test, atomic_read(&g->hits[cpu]), 1);
}

/* KE_PROCESSOR_CHANGE_ADD_EXISTING replay: generic calls from the callback, no deadlock. */
struct run_replay {
	struct run_gencall g;
	struct run_ipi s;
	ULONG calls, ids_ok;
};

static VOID run_replay_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op)
{
	struct run_replay *rp = ctx;

	if (cc->State != KeProcessorAddCompleteNotify || cc->NtNumber)
		return;
	rp->calls++;
	KeGenericCallDpc(run_gencall_routine, &rp->g);
	KeIpiGenericCall(run_ipi_worker, (ULONG_PTR)&rp->s);
}

static void gencall_from_replay(struct kunit *test)
{
	struct run_replay *rp = kunit_kzalloc(test, sizeof(*rp), GFP_KERNEL);
	PVOID h;

	KUNIT_ASSERT_NOT_NULL(test, rp);
	rp->g.n = run_online_count();
	rp->g.rounds = true;
	rp->s.n = rp->g.n;
	h = KeRegisterProcessorChangeCallback(run_replay_callback, rp,
					      KE_PROCESSOR_CHANGE_ADD_EXISTING);
	KUNIT_ASSERT_NOT_NULL(test, h);
	KeDeregisterProcessorChangeCallback(h);
	KUNIT_EXPECT_EQ(test, rp->calls, 1U);
	run_expect_gencall(test, &rp->g);
	KUNIT_EXPECT_EQ(test, atomic_read(&rp->g.trues[0]), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&rp->s.together), (int)rp->s.n);
}

static VOID run_id_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op)
{
	struct run_replay *rp = ctx;
	PKECPUHP_PROCESSOR_CHANGE_NOTIFY_CONTEXT_EX ex = (void *)cc;
	int cpu = kecpuhp_index_to_cpu(cc->NtNumber);

	if (cc->State != KeProcessorAddCompleteNotify || cpu < 0)
		return;
	rp->calls++;
#ifdef cpu_physical_id
	rp->ids_ok += ex->ProcessorId == cpu_physical_id(cpu);
#else
	rp->ids_ok += ex->ProcessorId == cpu;
#endif
}

/* The 20-byte context: ProcessorId at offset 16 is the APIC id. */
static void context_processor_id(struct kunit *test)
{
	struct run_replay *rp = kunit_kzalloc(test, sizeof(*rp), GFP_KERNEL);
	PVOID h;

	if (!KECPUHP_CONTEXT_HAS_PROCESSOR_ID)
		kunit_skip(test, "the shim does not pass the 20-byte context yet");
	KUNIT_ASSERT_NOT_NULL(test, rp);
	h = KeRegisterProcessorChangeCallback(run_id_callback, rp,
					      KE_PROCESSOR_CHANGE_ADD_EXISTING);
	KUNIT_ASSERT_NOT_NULL(test, h);
	KeDeregisterProcessorChangeCallback(h);
	KUNIT_EXPECT_EQ(test, rp->calls, run_active());
	KUNIT_EXPECT_EQ(test, rp->ids_ok, rp->calls);
}

static struct kunit_case run_cases[] = {
	KUNIT_CASE(affinity_set_runs_on_each),
	KUNIT_CASE(affinity_revert_restores_linux_mask),
	KUNIT_CASE(affinity_nesting),
	KUNIT_CASE(affinity_ex_and_legacy),
	KUNIT_CASE(affinity_refused_masks_stay),
	KUNIT_CASE(affinity_failed_inner_set),
	KUNIT_CASE(affinity_bound_kthread_stays),
	KUNIT_CASE(affinity_atomic_refused),
	KUNIT_CASE(dpc_runs_on_target_at_dispatch),
	KUNIT_CASE(dpc_untargeted_runs_here),
	KUNIT_CASE(dpc_threaded_runs_preemptible),
	KUNIT_CASE(dpc_insert_remove_rules),
	KUNIT_CASE(dpc_importance_order),
	KUNIT_CASE(dpc_requeue_and_flush),
	KUNIT_CASE(dpc_insert_from_hardirq),
	KUNIT_CASE(dpc_offline_target_runs_elsewhere),
	KUNIT_CASE(dpc_target_goes_offline),
	KUNIT_CASE(dpc_misuse),
	KUNIT_CASE(dpc_reinit_queued_refused),
	KUNIT_CASE(dpc_removal_race),
	KUNIT_CASE(dpc_module_unloaded_with_queued),
	KUNIT_CASE(ipi_runs_everywhere_at_once),
	KUNIT_CASE(ipi_from_dpc),
	KUNIT_CASE(ipi_misuse),
	KUNIT_CASE(gencall_dpc_every_processor),
	KUNIT_CASE(gencall_barrier_true_once),
	KUNIT_CASE(gencall_serialised),
	KUNIT_CASE(gencall_misuse),
	KUNIT_CASE(gencall_skips_offline),
	KUNIT_CASE(gencall_from_replay),
	KUNIT_CASE(context_processor_id),
	{}
};

struct kunit_suite kecpuhp_run_suite = {
	.name = "kecpuhp_run",
	.init = run_init,
	.exit = run_exit,
	.test_cases = run_cases,
};

/* ---- one real hot-add, with a Complete that does what ported drivers do ---- */

struct run_hotadd {
	bool done;
	int ret, cpu;
	ULONG index;
	PVOID handle;
	/* Start */
	NTSTATUS start_target;
	unsigned int start_gencall_n, start_online;
	/* Complete */
	bool complete_seen;
	ULONG aff_index;
	GROUP_AFFINITY aff_prev;
	bool aff_reverted_exact;
	struct run_dpc dpc;
	bool dpc_waited;
	struct run_gencall g;
	struct run_ipi s;
	ULONG_PTR ipi_ret;
	bool flushed;
	unsigned int complete_online;
};

static struct run_hotadd run_hotadd_result;

static VOID run_hotadd_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op)
{
	struct run_hotadd *h = ctx;
	GROUP_AFFINITY ga = { .Mask = BIT(cc->ProcNumber.Number), .Group = cc->ProcNumber.Group };
	cpumask_var_t before;

	if (cc->NtNumber != h->index)
		return;
	if (cc->State == KeProcessorAddStartNotify) {
		/* eBPF for Windows aims its DPC at the new processor in Start */
		h->start_target = KeSetTargetProcessorDpcEx(&h->dpc.dpc, &cc->ProcNumber);
		h->start_online = run_online_count();
		h->g.n = h->start_online;
		KeGenericCallDpc(run_gencall_routine, &h->g);
		h->start_gencall_n = atomic_read(&h->g.calls);
		return;
	}
	if (cc->State != KeProcessorAddCompleteNotify)
		return;
	h->complete_seen = true;
	h->complete_online = run_online_count();
	/* HyperPlatform, ksm: switch to the new processor */
	if (alloc_cpumask_var(&before, GFP_KERNEL)) {
		cpumask_copy(before, &current->cpus_mask);
		KeSetSystemGroupAffinityThread(&ga, &h->aff_prev);
		h->aff_index = run_current_index();
		KeRevertToUserGroupAffinityThread(&h->aff_prev);
		h->aff_reverted_exact = cpumask_equal(before, &current->cpus_mask);
		free_cpumask_var(before);
	}
	/* xenbus: a DPC targeted at it, and a wait */
	if (KeInsertQueueDpc(&h->dpc.dpc, (PVOID)1, (PVOID)2))
		h->dpc_waited = run_wait(&h->dpc);
	/* hypervisors: every processor, with the barrier */
	memset(&h->g, 0, sizeof(h->g));
	h->g.n = h->complete_online;
	h->g.rounds = true;
	KeGenericCallDpc(run_gencall_routine, &h->g);
	/* VirtualBox: KeIpiGenericCall */
	h->s.n = h->complete_online;
	h->ipi_ret = KeIpiGenericCall(run_ipi_worker, (ULONG_PTR)&h->s);
	KeFlushQueuedDpcs();
	h->flushed = true;
}

static struct run_hotadd *run_hotadd_run(struct kunit *test)
{
	struct run_hotadd *h = &run_hotadd_result;

	if (!h->done) {
		h->done = true;
		h->ret = -ECANCELED;
		h->cpu = test_fresh_cpu(test);
		h->index = run_active();
		init_completion(&h->dpc.done);
		KeInitializeDpc(&h->dpc.dpc, run_dpc_routine, &h->dpc);
		h->handle = KeRegisterProcessorChangeCallback(run_hotadd_callback, h, 0);
		KUNIT_ASSERT_NOT_NULL(test, h->handle);
		h->ret = add_cpu(h->cpu);
		KeDeregisterProcessorChangeCallback(h->handle);
		KeFlushQueuedDpcs();
	}
	KUNIT_ASSERT_EQ_MSG(test, h->ret, 0, "add_cpu(%d)", h->cpu);
	KUNIT_ASSERT_TRUE(test, h->complete_seen);
	return h;
}

/* In Complete, KeSetSystemGroupAffinityThread(ProcNumber) runs the thread there. */
static void hotadd_affinity_to_new_processor(struct kunit *test)
{
	struct run_hotadd *h = run_hotadd_run(test);

	KUNIT_EXPECT_EQ(test, h->aff_index, h->index);
	KUNIT_EXPECT_EQ(test, h->aff_prev.Mask, 0UL);
	KUNIT_EXPECT_TRUE(test, h->aff_reverted_exact);
}

/* In Start a DPC can be aimed at the new processor; in Complete it runs there. */
static void hotadd_targeted_dpc_runs_on_new(struct kunit *test)
{
	struct run_hotadd *h = run_hotadd_run(test);

	KUNIT_EXPECT_EQ(test, h->start_target, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, h->dpc_waited);
	KUNIT_EXPECT_EQ(test, h->dpc.index, h->index);
	KUNIT_EXPECT_EQ(test, h->dpc.cpu, h->cpu);
	KUNIT_EXPECT_TRUE(test, h->dpc.atomic_ctx);
	KUNIT_EXPECT_EQ(test, atomic_read(&h->dpc.runs), 1);
}

/* KeGenericCallDpc from Complete includes the new processor; barrier TRUE once. */
static void hotadd_gencall_includes_new(struct kunit *test)
{
	struct run_hotadd *h = run_hotadd_run(test);
	int r;

	KUNIT_EXPECT_EQ(test, h->complete_online, h->start_online + 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&h->g.calls), (int)h->complete_online);
	KUNIT_EXPECT_EQ(test, atomic_read(&h->g.hits[h->cpu]), 1);
	for (r = 0; r < GC_ROUNDS; r++)
		KUNIT_EXPECT_EQ(test, atomic_read(&h->g.trues[r]), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&h->g.bad_order), 0);
}

/* KeGenericCallDpc from Start: the old processors only, no deadlock. */
static void hotadd_gencall_in_start(struct kunit *test)
{
	struct run_hotadd *h = run_hotadd_run(test);

	KUNIT_EXPECT_EQ(test, h->start_gencall_n, h->start_online);
}

/* KeIpiGenericCall from Complete includes the new processor. */
static void hotadd_ipi_includes_new(struct kunit *test)
{
	struct run_hotadd *h = run_hotadd_run(test);

	KUNIT_EXPECT_EQ(test, atomic_read(&h->s.hits[h->cpu]), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&h->s.together), (int)h->complete_online);
	KUNIT_EXPECT_GE(test, h->ipi_ret, (ULONG_PTR)1000);
}

/* KeFlushQueuedDpcs from Complete returns. */
static void hotadd_flush_in_complete(struct kunit *test)
{
	struct run_hotadd *h = run_hotadd_run(test);

	KUNIT_EXPECT_TRUE(test, h->flushed);
}

static struct kunit_case run_hotadd_cases[] = {
	KUNIT_CASE(hotadd_affinity_to_new_processor),
	KUNIT_CASE(hotadd_targeted_dpc_runs_on_new),
	KUNIT_CASE(hotadd_gencall_includes_new),
	KUNIT_CASE(hotadd_gencall_in_start),
	KUNIT_CASE(hotadd_ipi_includes_new),
	KUNIT_CASE(hotadd_flush_in_complete),
	{}
};

struct kunit_suite kecpuhp_run_hotadd_suite = {
	.name = "kecpuhp_run_hotadd",
	.init = run_init,
	.exit = run_exit,
	.test_cases = run_hotadd_cases,
};
