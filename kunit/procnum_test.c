// SPDX-License-Identifier: GPL-2.0
/*
 * The processor index/group queries: documented results for valid and
 * invalid input, the enumeration idiom, calls from atomic context and hard
 * IRQ, and the Linux extension. Values during a real hot-add are checked in
 * hotadd_test.c. Here no add is in flight, so "resolvable" == "active".
 */
#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/hardirq.h>
#include <linux/hrtimer.h>
#include <linux/irqflags.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "kecpuhp_test.h"

static ULONG active(void)
{
	return KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
}

static void active_count_ex(struct kunit *test)
{
	ULONG n = active();

	KUNIT_EXPECT_GE(test, n, 2U);
	KUNIT_EXPECT_LE(test, n, num_possible_cpus());
	KUNIT_EXPECT_EQ(test, KeQueryActiveProcessorCountEx(0), min_t(ULONG, n, 64));
	KUNIT_EXPECT_EQ(test, KeQueryActiveProcessorCountEx(1), 0U);
	KUNIT_EXPECT_EQ(test, KeQueryActiveProcessorCountEx(7), 0U);
	KUNIT_EXPECT_EQ(test, KeQueryActiveProcessorCountEx(0xfffe), 0U);
}

static void maximum_count_ex(struct kunit *test)
{
	ULONG max = num_possible_cpus();

	KUNIT_EXPECT_EQ(test, KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS), max);
	KUNIT_EXPECT_EQ(test, KeQueryMaximumProcessorCountEx(0), min_t(ULONG, max, 64));
	KUNIT_EXPECT_EQ(test, KeQueryMaximumProcessorCountEx(7), 0U);
	KUNIT_EXPECT_EQ(test, KeQueryMaximumProcessorCountEx(0xfffe), 0U);
	KUNIT_EXPECT_EQ(test, KeQueryMaximumProcessorCount(), KeQueryMaximumProcessorCountEx(0));
	KUNIT_EXPECT_GE(test, max, active());
}

static void group_counts(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, (unsigned int)KeQueryMaximumGroupCount(),
			DIV_ROUND_UP(num_possible_cpus(), 64));
	KUNIT_EXPECT_EQ(test, (unsigned int)KeQueryActiveGroupCount(), 1U);
}

static void group_affinity(struct kunit *test)
{
	ULONG n = KeQueryActiveProcessorCountEx(0);
	KAFFINITY mask = 0x55;

	KUNIT_EXPECT_EQ(test, KeQueryGroupAffinity(0), (KAFFINITY)GENMASK(n - 1, 0));
	KUNIT_EXPECT_EQ(test, KeQueryGroupAffinity(KeQueryMaximumGroupCount()), 0UL);
	KUNIT_EXPECT_EQ(test, KeQueryGroupAffinity(ALL_PROCESSOR_GROUPS), 0UL);
	KUNIT_EXPECT_EQ(test, KeQueryActiveProcessors(), KeQueryGroupAffinity(0));
	KUNIT_EXPECT_EQ(test, KeQueryActiveProcessorCount(&mask), n);
	KUNIT_EXPECT_EQ(test, mask, KeQueryGroupAffinity(0));
	KUNIT_EXPECT_EQ(test, KeQueryActiveProcessorCount(NULL), n);
}

struct current_number {
	int cpu;
	ULONG index, index_null;
	PROCESSOR_NUMBER pn;
};

static long take_current_number(void *arg)
{
	struct current_number *c = arg;

	c->pn = (PROCESSOR_NUMBER){ .Group = 0x5555, .Number = 0x55, .Reserved = 0x55 };
	preempt_disable();
	c->cpu = smp_processor_id();
	c->index = KeGetCurrentProcessorNumberEx(&c->pn);
	c->index_null = KeGetCurrentProcessorNumberEx(NULL);
	preempt_enable();
	return 0;
}

static void expect_current_number(struct kunit *test, const struct current_number *c)
{
	ULONG index = kecpuhp_cpu_to_index(c->cpu);

	KUNIT_EXPECT_NE_MSG(test, index, INVALID_PROCESSOR_INDEX, "CPU%d", c->cpu);
	KUNIT_EXPECT_EQ_MSG(test, c->index, index, "CPU%d", c->cpu);
	KUNIT_EXPECT_EQ_MSG(test, c->index_null, index, "CPU%d", c->cpu);
	KUNIT_EXPECT_EQ(test, (ULONG)c->pn.Group, index / 64);
	KUNIT_EXPECT_EQ(test, (ULONG)c->pn.Number, index % 64);
	KUNIT_EXPECT_EQ(test, c->pn.Reserved, 0);
	KUNIT_EXPECT_LT(test, c->index, active());
}

/* Here, and bound to every online CPU in turn. */
static void current_processor_number(struct kunit *test)
{
	struct current_number c;
	unsigned int cpu;

	take_current_number(&c);
	expect_current_number(test, &c);
	for_each_online_cpu(cpu) {
		memset(&c, 0, sizeof(c));
		KUNIT_EXPECT_EQ(test, work_on_cpu(cpu, take_current_number, &c), 0L);
		KUNIT_EXPECT_EQ(test, c.cpu, (int)cpu);
		expect_current_number(test, &c);
	}
}

static void number_from_index(struct kunit *test)
{
	PROCESSOR_NUMBER pn;
	ULONG n = active(), i;

	for (i = 0; i < n; i++) {
		pn = (PROCESSOR_NUMBER){ .Group = 0x5555, .Number = 0x55, .Reserved = 0x55 };
		KUNIT_EXPECT_EQ_MSG(test, KeGetProcessorNumberFromIndex(i, &pn), STATUS_SUCCESS,
				    "index %u", i);
		KUNIT_EXPECT_EQ(test, (ULONG)pn.Group, i / 64);
		KUNIT_EXPECT_EQ(test, (ULONG)pn.Number, i % 64);
		KUNIT_EXPECT_EQ(test, pn.Reserved, 0);
	}
	KUNIT_EXPECT_EQ(test, KeGetProcessorNumberFromIndex(n, &pn), STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, KeGetProcessorNumberFromIndex(n + 1, &pn), STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, KeGetProcessorNumberFromIndex(num_possible_cpus(), &pn),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, KeGetProcessorNumberFromIndex(4096, &pn), STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, KeGetProcessorNumberFromIndex(INVALID_PROCESSOR_INDEX, &pn),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, KeGetProcessorNumberFromIndex(0, NULL), STATUS_INVALID_PARAMETER);
}

static void index_from_number(struct kunit *test)
{
	PROCESSOR_NUMBER pn = { .Group = 0, .Number = 1 };

	KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(&pn), 1U);
	pn.Reserved = 1;
	KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(&pn), INVALID_PROCESSOR_INDEX);
	pn.Reserved = 0;
	pn.Number = 64;
	KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(&pn), INVALID_PROCESSOR_INDEX);
	pn.Number = active();
	KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(&pn), INVALID_PROCESSOR_INDEX);
	pn.Number = 0;
	pn.Group = KeQueryMaximumGroupCount();
	KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(&pn), INVALID_PROCESSOR_INDEX);
	pn.Group = 1;
	KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(&pn), INVALID_PROCESSOR_INDEX);
	pn.Group = 7;
	KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(&pn), INVALID_PROCESSOR_INDEX);
	pn.Group = 0xffff;
	KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(&pn), INVALID_PROCESSOR_INDEX);
	pn.Group = 0;
	pn.Number = 255;
	KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(&pn), INVALID_PROCESSOR_INDEX);
	KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(NULL), INVALID_PROCESSOR_INDEX);
}

/* The documented idiom: every active index round-trips through its number. */
static void enumeration_idiom(struct kunit *test)
{
	PROCESSOR_NUMBER pn;
	ULONG i;

	for (i = 0; i < KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS); i++) {
		KUNIT_ASSERT_EQ(test, KeGetProcessorNumberFromIndex(i, &pn), STATUS_SUCCESS);
		KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(&pn), i);
		KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(kecpuhp_index_to_cpu(i)), i);
	}
	KUNIT_EXPECT_EQ(test, i, active());
}

struct snapshot {
	ULONG active, max, index;
	KAFFINITY affinity;
	NTSTATUS resolve;
	ULONG back;
	int cpu;
	bool hardirq;
};

/* Every context: the queries are lock-free. */
static void take_snapshot(void *arg)
{
	struct snapshot *s = arg;
	PROCESSOR_NUMBER pn;

	s->active = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	s->max = KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS);
	s->affinity = KeQueryGroupAffinity(0);
	s->index = KeGetCurrentProcessorNumberEx(&pn);
	s->resolve = KeGetProcessorNumberFromIndex(s->index, &pn);
	s->back = KeGetProcessorIndexFromNumber(&pn);
	s->cpu = smp_processor_id();
	s->hardirq = in_hardirq();
}

static void expect_snapshot(struct kunit *test, const struct snapshot *s, const char *where)
{
	KUNIT_EXPECT_EQ_MSG(test, s->active, active(), "%s", where);
	KUNIT_EXPECT_EQ_MSG(test, s->max, num_possible_cpus(), "%s", where);
	KUNIT_EXPECT_EQ_MSG(test, s->affinity, KeQueryGroupAffinity(0), "%s", where);
	KUNIT_EXPECT_EQ_MSG(test, s->index, kecpuhp_cpu_to_index(s->cpu), "%s", where);
	KUNIT_EXPECT_EQ_MSG(test, s->resolve, STATUS_SUCCESS, "%s", where);
	KUNIT_EXPECT_EQ_MSG(test, s->back, s->index, "%s", where);
}

static DEFINE_SPINLOCK(test_lock);

static void queries_irqs_disabled(struct kunit *test)
{
	struct snapshot s = {};
	unsigned long flags;

	local_irq_save(flags);
	take_snapshot(&s);
	local_irq_restore(flags);
	expect_snapshot(test, &s, "irqs off");
}

static void queries_under_spinlock(struct kunit *test)
{
	struct snapshot s = {};

	spin_lock(&test_lock);
	take_snapshot(&s);
	spin_unlock(&test_lock);
	expect_snapshot(test, &s, "spinlock held");
}

/* In the hard IRQ of a function-call IPI sent to another CPU. */
static void queries_in_ipi(struct kunit *test)
{
	struct snapshot s = {};
	unsigned int self, target;
	int ret = -ENODEV;

	self = get_cpu();
	target = cpumask_any_but(cpu_online_mask, self);
	if (target < nr_cpu_ids)
		ret = smp_call_function_single(target, take_snapshot, &s, 1);
	put_cpu();
	if (target >= nr_cpu_ids)
		kunit_skip(test, "only one CPU online");
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, s.cpu, (int)target);
	KUNIT_EXPECT_TRUE(test, s.hardirq);
	expect_snapshot(test, &s, "IPI");
}

struct snapshot_timer {
	struct hrtimer timer;
	struct completion done;
	struct snapshot s;
};

static enum hrtimer_restart snapshot_timer_fn(struct hrtimer *timer)
{
	struct snapshot_timer *t = container_of(timer, struct snapshot_timer, timer);

	take_snapshot(&t->s);
	complete(&t->done);
	return HRTIMER_NORESTART;
}

/* In a hard hrtimer callback. */
static void queries_in_hrtimer(struct kunit *test)
{
	struct snapshot_timer *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	unsigned long left;

	KUNIT_ASSERT_NOT_NULL(test, t);
	init_completion(&t->done);
	hrtimer_init(&t->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	t->timer.function = snapshot_timer_fn;
	hrtimer_start(&t->timer, ns_to_ktime(100 * NSEC_PER_USEC), HRTIMER_MODE_REL_HARD);
	left = wait_for_completion_timeout(&t->done, 10 * HZ);
	hrtimer_cancel(&t->timer);
	KUNIT_ASSERT_GT_MSG(test, left, 0UL, "the hrtimer did not fire");
	KUNIT_EXPECT_TRUE(test, t->s.hardirq);
	expect_snapshot(test, &t->s, "hrtimer");
}

static void linux_extension(struct kunit *test)
{
	ULONG n = active(), i;
	unsigned int cpu, numbered = 0;

	/* CPUs online when kecpuhp loaded are numbered by ascending id */
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(0), 0);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(1), 1);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(0), 0U);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(1), 1U);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(kecpuhp_index_to_cpu(i)), i);
	for_each_possible_cpu(cpu) {
		i = kecpuhp_cpu_to_index(cpu);
		if (i == INVALID_PROCESSOR_INDEX) {
			/* never online since kecpuhp loaded */
			KUNIT_EXPECT_FALSE_MSG(test, cpu_online(cpu), "CPU%u", cpu);
			continue;
		}
		numbered++;
		KUNIT_EXPECT_LT_MSG(test, i, n, "CPU%u", cpu);
		KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(i), (int)cpu);
	}
	KUNIT_EXPECT_EQ(test, numbered, n);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(n), -EINVAL);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(num_possible_cpus()), -EINVAL);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(INVALID_PROCESSOR_INDEX), -EINVAL);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(nr_cpu_ids), INVALID_PROCESSOR_INDEX);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(nr_cpu_ids + 1), INVALID_PROCESSOR_INDEX);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(UINT_MAX), INVALID_PROCESSOR_INDEX);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(test_fresh_cpu(test)),
			INVALID_PROCESSOR_INDEX);
}

static struct kunit_case procnum_cases[] = {
	KUNIT_CASE(active_count_ex),
	KUNIT_CASE(maximum_count_ex),
	KUNIT_CASE(group_counts),
	KUNIT_CASE(group_affinity),
	KUNIT_CASE(current_processor_number),
	KUNIT_CASE(number_from_index),
	KUNIT_CASE(index_from_number),
	KUNIT_CASE(enumeration_idiom),
	KUNIT_CASE(queries_irqs_disabled),
	KUNIT_CASE(queries_under_spinlock),
	KUNIT_CASE(queries_in_ipi),
	KUNIT_CASE(queries_in_hrtimer),
	KUNIT_CASE(linux_extension),
	{}
};

struct kunit_suite kecpuhp_procnum_suite = {
	.name = "kecpuhp_procnum",
	.exit = test_exit,
	.test_cases = procnum_cases,
};
