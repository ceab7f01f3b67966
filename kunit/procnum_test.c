// SPDX-License-Identifier: GPL-2.0
/*
 * The processor index/group queries: documented results for valid and
 * invalid input, the enumeration idiom, calls from atomic context and hard
 * IRQ, and the Linux extension. Values during a real hot-add are checked in
 * hotadd_test.c. Here no add is in flight, so "resolvable" == "active".
 */
#include <linux/bits.h>
#include <linux/cpumask.h>
#include <linux/irqflags.h>
#include <linux/smp.h>
#include <linux/spinlock.h>

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

static void current_processor_number(struct kunit *test)
{
	PROCESSOR_NUMBER pn = { .Group = 0x5555, .Number = 0x55, .Reserved = 0x55 };
	ULONG index;
	int cpu;

	preempt_disable();
	cpu = smp_processor_id();
	index = KeGetCurrentProcessorNumberEx(&pn);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, index, kecpuhp_cpu_to_index(cpu));
	KUNIT_EXPECT_EQ(test, (ULONG)pn.Group, index / 64);
	KUNIT_EXPECT_EQ(test, (ULONG)pn.Number, index % 64);
	KUNIT_EXPECT_EQ(test, pn.Reserved, 0);
	KUNIT_EXPECT_LT(test, KeGetCurrentProcessorNumberEx(NULL), active());
}

static void number_from_index(struct kunit *test)
{
	PROCESSOR_NUMBER pn = { .Reserved = 0x55 };
	ULONG n = active();

	KUNIT_EXPECT_EQ(test, KeGetProcessorNumberFromIndex(1, &pn), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, pn.Group, 0);
	KUNIT_EXPECT_EQ(test, pn.Number, 1);
	KUNIT_EXPECT_EQ(test, pn.Reserved, 0);
	KUNIT_EXPECT_EQ(test, KeGetProcessorNumberFromIndex(n, &pn), STATUS_INVALID_PARAMETER);
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
};

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

static void atomic_context_queries(struct kunit *test)
{
	struct snapshot s = {};
	unsigned long flags;

	local_irq_save(flags);
	take_snapshot(&s);
	local_irq_restore(flags);
	expect_snapshot(test, &s, "irqs off");

	spin_lock(&test_lock);
	take_snapshot(&s);
	spin_unlock(&test_lock);
	expect_snapshot(test, &s, "spinlock held");

	memset(&s, 0, sizeof(s));
	KUNIT_ASSERT_EQ(test, smp_call_function_single(1, take_snapshot, &s, 1), 0);
	KUNIT_EXPECT_EQ(test, s.cpu, 1);
	expect_snapshot(test, &s, "hard IRQ on CPU1");
}

static void linux_extension(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(0), 0);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(1), 1);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(0), 0U);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(1), 1U);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(active()), -EINVAL);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(INVALID_PROCESSOR_INDEX), -EINVAL);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(nr_cpu_ids), INVALID_PROCESSOR_INDEX);
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
	KUNIT_CASE(atomic_context_queries),
	KUNIT_CASE(linux_extension),
	{}
};

struct kunit_suite kecpuhp_procnum_suite = {
	.name = "kecpuhp_procnum",
	.test_cases = procnum_cases,
};
