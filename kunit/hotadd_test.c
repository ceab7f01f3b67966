// SPDX-License-Identifier: GPL-2.0
/*
 * Real CPU hot-add through add_cpu(): Start, Complete, Failure, vetoes,
 * bring-up failures after Start, numbering, and re-online. Two cases bring a
 * new CPU up for good (hotadd_complete, no_flag_sees_only_new); the rest
 * veto or fail, which leaves the CPU new.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/sched.h>

#include "kecpuhp_test.h"

static int hotadd_fail_state;
static int hotadd_fail_cpu = -1;
static int hotadd_first_index = -1, hotadd_first_cpu = -1;

/* A prepare state placed after kecpuhp's: a bring-up failure after Start. */
static int hotadd_fail_prepare(unsigned int cpu)
{
	return READ_ONCE(hotadd_fail_cpu) == cpu ? -EIO : 0;
}

static int hotadd_suite_init(struct kunit_suite *suite)
{
	int ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "kecpuhp/test:fail",
					    hotadd_fail_prepare, NULL);

	if (ret < 0)
		return ret;
	hotadd_fail_state = ret;
	return 0;
}

static void hotadd_suite_exit(struct kunit_suite *suite)
{
	cpuhp_remove_state_nocalls(hotadd_fail_state);
}

static int hotadd_init(struct kunit *test)
{
	rec_reset();
	return 0;
}

static struct test_reg *new_reg(struct kunit *test, int id)
{
	struct test_reg *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	test_reg_init(r, id);
	return r;
}

/* Start to all in FIFO order, one shared status; Failure to all; offline. */
static void veto_fifo_shared_status(struct kunit *test)
{
	struct test_reg *a = new_reg(test, 1), *b = new_reg(test, 2), *c = new_reg(test, 3);
	int cpu = test_fresh_cpu(test);
	ULONG index = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	unsigned int i;

	b->veto = STATUS_INSUFFICIENT_RESOURCES;
	test_register(test, a, 0);
	test_register(test, b, 0);
	test_register(test, c, 0);
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), -ENOMEM);
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
	KUNIT_ASSERT_EQ(test, rec_count(), 6U);
	for (i = 0; i < 3; i++) {
		test_expect_event(test, i, i + 1, KeProcessorAddStartNotify, index);
		test_expect_event(test, i + 3, i + 1, KeProcessorAddFailureNotify, index);
		KUNIT_EXPECT_PTR_EQ(test, rec_get(i)->op, rec_get(0)->op);
		KUNIT_EXPECT_PTR_EQ(test, rec_get(i)->task, current);
		KUNIT_EXPECT_FALSE(test, rec_get(i)->index_cpu_online);
		KUNIT_EXPECT_EQ(test, rec_get(i + 3)->status, STATUS_INSUFFICIENT_RESOURCES);
	}
	KUNIT_EXPECT_EQ(test, rec_get(0)->op_in, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, rec_get(2)->op_in, STATUS_INSUFFICIENT_RESOURCES);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), INVALID_PROCESSOR_INDEX);
	test_deregister(c);
	test_deregister(b);
	test_deregister(a);
}

struct veto_errno {
	NTSTATUS status;
	int err;
	const char *name;
};

static const struct veto_errno veto_errnos[] = {
	{ STATUS_NO_MEMORY, -ENOMEM, "STATUS_NO_MEMORY" },
	{ STATUS_INSUFFICIENT_RESOURCES, -ENOMEM, "STATUS_INSUFFICIENT_RESOURCES" },
	{ STATUS_INVALID_PARAMETER, -EINVAL, "STATUS_INVALID_PARAMETER" },
	{ STATUS_ACCESS_DENIED, -EACCES, "STATUS_ACCESS_DENIED" },
	{ STATUS_DEVICE_BUSY, -EIO, "STATUS_DEVICE_BUSY" },
	{ STATUS_UNSUCCESSFUL, -EIO, "STATUS_UNSUCCESSFUL" },
	{ STATUS_INTERNAL_ERROR, -EIO, "STATUS_INTERNAL_ERROR" },
};

static void veto_errno_desc(const struct veto_errno *v, char *desc)
{
	strscpy(desc, v->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(veto_errno, veto_errnos, veto_errno_desc);

/* The errno of the refused online follows the status, never EBUSY/EAGAIN. */
static void veto_errno(struct kunit *test)
{
	const struct veto_errno *v = test->param_value;
	struct test_reg *a = new_reg(test, 1);
	int cpu = test_fresh_cpu(test), ret;

	a->veto = v->status;
	test_register(test, a, 0);
	ret = add_cpu(cpu);
	KUNIT_EXPECT_EQ(test, ret, v->err);
	KUNIT_EXPECT_NE(test, ret, -EBUSY);
	KUNIT_EXPECT_NE(test, ret, -EAGAIN);
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddFailureNotify), 1U);
	test_deregister(a);
}

/* A later write cannot undo or replace the first veto. */
static void veto_first_failure_wins(struct kunit *test)
{
	struct test_reg *a = new_reg(test, 1), *b = new_reg(test, 2), *c = new_reg(test, 3);
	int cpu = test_fresh_cpu(test);

	a->veto = STATUS_ACCESS_DENIED;
	b->veto = STATUS_NO_MEMORY;
	c->veto = STATUS_SUCCESS;
	test_register(test, a, 0);
	test_register(test, b, 0);
	test_register(test, c, 0);
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), -EACCES);
	KUNIT_ASSERT_EQ(test, rec_count(), 6U);
	KUNIT_EXPECT_EQ(test, rec_get(2)->op_in, STATUS_ACCESS_DENIED);
	KUNIT_EXPECT_EQ(test, rec_get(3)->status, STATUS_ACCESS_DENIED);
	KUNIT_EXPECT_EQ(test, rec_get(5)->status, STATUS_ACCESS_DENIED);
	test_deregister(c);
	test_deregister(b);
	test_deregister(a);
}

/* In Start the new index resolves both ways but is not active yet. */
static void index_resolvable_in_start(struct kunit *test)
{
	struct test_reg *a = new_reg(test, 1);
	ULONG index = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	int cpu = test_fresh_cpu(test);
	struct rec_event *e;

	a->veto = STATUS_UNSUCCESSFUL;
	test_register(test, a, 0);
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), -EIO);
	e = rec_get(0);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->index, index);
	KUNIT_EXPECT_EQ(test, e->resolve, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, e->resolved.Group, e->pn.Group);
	KUNIT_EXPECT_EQ(test, e->resolved.Number, e->pn.Number);
	KUNIT_EXPECT_EQ(test, e->back, index);
	KUNIT_EXPECT_EQ(test, e->index_to_cpu, cpu);
	KUNIT_EXPECT_EQ(test, e->active, index);
	KUNIT_EXPECT_EQ(test, (ULONG)e->pn.Group, index / 64);
	KUNIT_EXPECT_EQ(test, (ULONG)e->pn.Number, index % 64);
	KUNIT_EXPECT_EQ(test, e->pn.Reserved, 0);
	/* in Failure it still resolves; afterwards it is released */
	KUNIT_EXPECT_EQ(test, rec_get(1)->resolve, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(index), -EINVAL);
	test_deregister(a);
}

/* A failure after Start that kecpuhp did not cause: Failure, UNSUCCESSFUL. */
static void bringup_failure_after_start(struct kunit *test)
{
	struct test_reg *a = new_reg(test, 1), *b = new_reg(test, 2);
	int cpu = test_fresh_cpu(test);
	ULONG index = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);

	test_register(test, a, 0);
	test_register(test, b, 0);
	WRITE_ONCE(hotadd_fail_cpu, cpu);
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), -EIO);
	WRITE_ONCE(hotadd_fail_cpu, -1);
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
	KUNIT_ASSERT_EQ(test, rec_count(), 4U);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, index);
	test_expect_event(test, 1, 2, KeProcessorAddStartNotify, index);
	test_expect_event(test, 2, 1, KeProcessorAddFailureNotify, index);
	test_expect_event(test, 3, 2, KeProcessorAddFailureNotify, index);
	KUNIT_EXPECT_EQ(test, rec_get(2)->status, STATUS_UNSUCCESSFUL);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddCompleteNotify), 0U);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), INVALID_PROCESSOR_INDEX);
	test_deregister(b);
	test_deregister(a);
}

/* A write to *OperationStatus in Failure is ignored: the next sees SUCCESS. */
static void failure_status_change_ignored(struct kunit *test)
{
	struct test_reg *a = new_reg(test, 1), *b = new_reg(test, 2);
	int cpu;

	a->write_after_start = STATUS_INTERNAL_ERROR;
	test_register(test, a, 0);
	test_register(test, b, 0);
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_ASSERT_EQ(test, rec_count(), 6U);
	KUNIT_EXPECT_EQ(test, rec_get(3)->state, KeProcessorAddFailureNotify);
	KUNIT_EXPECT_EQ(test, rec_get(4)->op_in, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, rec_get(4)->status, STATUS_NO_MEMORY);
	test_deregister(b);
	test_deregister(a);
}

/* The add goes through: Start here, then Complete on the new CPU. */
static void hotadd_complete(struct kunit *test)
{
	struct test_reg *a = new_reg(test, 1), *b = new_reg(test, 2), *c = new_reg(test, 3);
	ULONG index = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	ULONG max = KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS);
	int cpu = test_fresh_cpu(test);
	struct rec_event *e;
	unsigned int i;

	b->write_after_start = STATUS_UNSUCCESSFUL;	/* ignored in Complete */
	test_register(test, a, 0);
	test_register(test, b, 0);
	test_register(test, c, 0);
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	hotadd_first_index = index;
	hotadd_first_cpu = cpu;
	KUNIT_ASSERT_EQ(test, rec_count(), 6U);
	for (i = 0; i < 3; i++) {
		test_expect_event(test, i, i + 1, KeProcessorAddStartNotify, index);
		e = rec_get(i + 3);
		test_expect_event(test, i + 3, i + 1, KeProcessorAddCompleteNotify, index);
		KUNIT_EXPECT_EQ(test, e->cpu, cpu);
		KUNIT_EXPECT_TRUE(test, e->index_cpu_online);
		KUNIT_EXPECT_PTR_NE(test, e->task, current);
		KUNIT_EXPECT_EQ(test, e->status, STATUS_SUCCESS);
		KUNIT_EXPECT_EQ(test, e->op_in, STATUS_SUCCESS);
		KUNIT_EXPECT_EQ(test, e->active, index + 1);
		KUNIT_EXPECT_EQ(test, e->current_index, index);
	}
	KUNIT_EXPECT_EQ(test, KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS), index + 1);
	KUNIT_EXPECT_EQ(test, KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS), max);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), index);
	test_deregister(c);
	test_deregister(b);
	test_deregister(a);
}

/* Offline and online again: no notification, same index, still active. */
static void reonline_no_notification(struct kunit *test)
{
	struct test_reg *a = new_reg(test, 1);
	ULONG active = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	int cpu = hotadd_first_cpu;

	if (cpu < 0)
		kunit_skip(test, "hotadd_complete did not add a CPU");
	test_register(test, a, KE_PROCESSOR_CHANGE_ADD_EXISTING);
	rec_reset();
	KUNIT_ASSERT_EQ(test, remove_cpu(cpu), 0);
	KUNIT_EXPECT_EQ(test, KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS), active);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), (ULONG)hotadd_first_index);
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), (ULONG)hotadd_first_index);
	KUNIT_EXPECT_EQ(test, KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS), active);
	test_deregister(a);
}

/* Registered without the flag: nothing at once, then the new processor. */
static void no_flag_sees_only_new(struct kunit *test)
{
	struct test_reg *a = new_reg(test, 1);
	ULONG index = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	int cpu;

	test_register(test, a, 0);
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
	/* the highest new CPU, so that Linux ids and indices diverge */
	for (cpu = nr_cpu_ids - 1; cpu > 0; cpu--)
		if (cpu_present(cpu) && !cpu_online(cpu) &&
		    kecpuhp_cpu_to_index(cpu) == INVALID_PROCESSOR_INDEX)
			break;
	if (cpu <= 0)
		kunit_skip(test, "no new CPU left");
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	KUNIT_ASSERT_EQ(test, rec_count(), 2U);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, index);
	test_expect_event(test, 1, 1, KeProcessorAddCompleteNotify, index);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(index), cpu);
	test_deregister(a);
}

/* Indices of added processors are never reused, online or not. */
static void index_never_reused(struct kunit *test)
{
	ULONG next = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	struct test_reg *a = new_reg(test, 1);
	int cpu, offline = hotadd_first_cpu;

	if (offline < 0)
		kunit_skip(test, "hotadd_complete did not add a CPU");
	test_register(test, a, 0);
	KUNIT_ASSERT_EQ(test, remove_cpu(offline), 0);
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_ASSERT_GE(test, rec_count(), 1U);
	KUNIT_EXPECT_EQ(test, rec_get(0)->index, next);
	KUNIT_EXPECT_NE(test, rec_get(0)->index, (ULONG)hotadd_first_index);
	KUNIT_EXPECT_EQ(test, add_cpu(offline), 0);
	test_deregister(a);
}

static struct kunit_case hotadd_cases[] = {
	KUNIT_CASE(veto_fifo_shared_status),
	KUNIT_CASE_PARAM(veto_errno, veto_errno_gen_params),
	KUNIT_CASE(veto_first_failure_wins),
	KUNIT_CASE(index_resolvable_in_start),
	KUNIT_CASE(bringup_failure_after_start),
	KUNIT_CASE(failure_status_change_ignored),
	KUNIT_CASE(hotadd_complete),
	KUNIT_CASE(reonline_no_notification),
	KUNIT_CASE(no_flag_sees_only_new),
	KUNIT_CASE(index_never_reused),
	{}
};

struct kunit_suite kecpuhp_hotadd_suite = {
	.name = "kecpuhp_hotadd",
	.suite_init = hotadd_suite_init,
	.suite_exit = hotadd_suite_exit,
	.init = hotadd_init,
	.test_cases = hotadd_cases,
};
