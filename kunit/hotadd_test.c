// SPDX-License-Identifier: GPL-2.0
/*
 * Real CPU hot-add through add_cpu(): Start, Complete, Failure, vetoes,
 * bring-up failures after Start, numbering, and re-online.
 *
 * A successful add uses a new CPU up for good, and there are four. This
 * suite makes two: one shared by the hotadd_* cases (hotadd_run(), done
 * once by whichever case comes first, with six registrations that each
 * behave in one way the contract covers), and one in no_flag_sees_only_new.
 * Every other case vetoes or fails the add, which leaves the CPU new.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/sched.h>

#include "kecpuhp_test.h"

static int hotadd_fail_state;
static int hotadd_fail_cpu = -1;

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

static ULONG active(void)
{
	return KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
}

/* The registrations of the shared successful add, by id (= FIFO order). */
enum {
	HA_PLAIN = 1,	/* only records */
	HA_WRITER,	/* Register in Start; writes a failure in Complete */
	HA_INFO,	/* writes an informational status in Start; sleeps in Complete */
	HA_SELF,	/* deregisters itself in Start */
	HA_KILLER,	/* deregisters HA_VICTIM in Start */
	HA_VICTIM,	/* deregistered before its Start */
	HA_MOVER,	/* moves to the new CPU in Complete and stays there */
	HA_AFTER,	/* registered last: what the mover left behind */
	HA_NREGS = HA_AFTER,
};

#define HA_MAX_EVENTS	16

/* The shared successful add, and everything seen during it. */
struct hotadd_result {
	bool done;
	int ret;			/* add_cpu() */
	int cpu;
	ULONG index;			/* the active count before: the new NtNumber */
	struct task_struct *adder;	/* compared, never dereferenced */
	bool online;
	ULONG cpu_index, active_after;
	ULONG max_before[3], max_after[3];
	unsigned int n;
	struct rec_event ev[HA_MAX_EVENTS];
	struct test_reg regs[HA_NREGS + 1];
};

static struct hotadd_result hotadd_result;

static void hotadd_max_counts(ULONG *max)
{
	max[0] = KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS);
	max[1] = KeQueryMaximumProcessorCountEx(0);
	max[2] = KeQueryMaximumGroupCount();
}

static void hotadd_setup_regs(struct hotadd_result *h)
{
	int id;

	for (id = 1; id <= HA_NREGS; id++)
		test_reg_init(&h->regs[id], id);
	h->regs[HA_WRITER].try_register = true;
	h->regs[HA_WRITER].registered_inside = TEST_NOT_TRIED;
	h->regs[HA_WRITER].write_after_start = STATUS_UNSUCCESSFUL;
	h->regs[HA_INFO].start_write = TEST_STATUS_INFORMATIONAL;
	h->regs[HA_INFO].sleep_in_complete = true;
	h->regs[HA_SELF].dereg_self = true;
	h->regs[HA_KILLER].dereg_other = &h->regs[HA_VICTIM];
	h->regs[HA_MOVER].move_in_complete = true;
}

/* Add a new CPU for good, once; the cases check what was recorded. */
static void hotadd_do(struct kunit *test, struct hotadd_result *h)
{
	int cpu = test_fresh_cpu(test), id;

	h->done = true;
	h->ret = -ECANCELED;		/* until add_cpu() has run */
	h->cpu = cpu;
	hotadd_setup_regs(h);
	for (id = 1; id <= HA_NREGS; id++)
		KUNIT_ASSERT_NOT_NULL(test, test_register(test, &h->regs[id], 0));
	rec_reset();
	h->index = active();
	h->adder = current;
	hotadd_max_counts(h->max_before);
	h->ret = add_cpu(cpu);
	hotadd_max_counts(h->max_after);
	h->online = cpu_online(cpu);
	h->cpu_index = kecpuhp_cpu_to_index(cpu);
	h->active_after = active();
	h->n = min_t(unsigned int, rec_count(), HA_MAX_EVENTS);
	memcpy(h->ev, rec_get(0), h->n * sizeof(h->ev[0]));
	for (id = HA_NREGS; id >= 1; id--)
		test_deregister(&h->regs[id]);
}

static struct hotadd_result *hotadd_run(struct kunit *test)
{
	struct hotadd_result *h = &hotadd_result;

	if (!h->done)
		hotadd_do(test, h);
	KUNIT_ASSERT_EQ_MSG(test, h->ret, 0, "add_cpu(%d)", h->cpu);
	return h;
}

/* The notification registration @id got in @state, or NULL (a failure). */
static struct rec_event *hotadd_event(struct kunit *test, struct hotadd_result *h,
				      int id, KE_PROCESSOR_CHANGE_NOTIFY_STATE state)
{
	unsigned int i;

	for (i = 0; i < h->n; i++)
		if (h->ev[i].reg == id && h->ev[i].state == state)
			return &h->ev[i];
	KUNIT_FAIL(test, "registration %d got no notification %d", id, (int)state);
	return NULL;
}

/* add_cpu() returns 0, the CPU is online and numbered with the next index. */
static void hotadd_succeeds(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);

	KUNIT_EXPECT_TRUE(test, h->online);
	KUNIT_EXPECT_EQ(test, h->cpu_index, h->index);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(h->cpu), h->index);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(h->index), h->cpu);
	KUNIT_EXPECT_EQ(test, h->active_after, h->index + 1);
	/* CPUs 0 and 1 were indexed at load: the first add is index 2 or more */
	KUNIT_EXPECT_GE(test, h->index, 2U);
}

/* Start to everyone in FIFO order, then Complete in FIFO order. */
static void hotadd_start_then_complete_fifo(struct kunit *test)
{
	static const struct { int reg; KE_PROCESSOR_CHANGE_NOTIFY_STATE state; } want[] = {
		{ HA_PLAIN, KeProcessorAddStartNotify },
		{ HA_WRITER, KeProcessorAddStartNotify },
		{ HA_INFO, KeProcessorAddStartNotify },
		{ HA_SELF, KeProcessorAddStartNotify },
		{ HA_KILLER, KeProcessorAddStartNotify },
		{ HA_MOVER, KeProcessorAddStartNotify },
		{ HA_AFTER, KeProcessorAddStartNotify },
		{ HA_PLAIN, KeProcessorAddCompleteNotify },
		{ HA_WRITER, KeProcessorAddCompleteNotify },
		{ HA_INFO, KeProcessorAddCompleteNotify },
		{ HA_KILLER, KeProcessorAddCompleteNotify },
		{ HA_MOVER, KeProcessorAddCompleteNotify },
		{ HA_AFTER, KeProcessorAddCompleteNotify },
	};
	struct hotadd_result *h = hotadd_run(test);
	unsigned int i;

	KUNIT_ASSERT_EQ(test, h->n, (unsigned int)ARRAY_SIZE(want));
	for (i = 0; i < h->n; i++) {
		KUNIT_EXPECT_EQ_MSG(test, h->ev[i].reg, want[i].reg, "event %u", i);
		KUNIT_EXPECT_EQ_MSG(test, (int)h->ev[i].state, (int)want[i].state,
				    "event %u", i);
		KUNIT_EXPECT_EQ_MSG(test, h->ev[i].index, h->index, "event %u", i);
	}
}

/* The ChangeContext of Start: the new index, its group and number. */
static void hotadd_start_context(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct rec_event *e;
	int id;

	for (id = HA_PLAIN; id <= HA_KILLER; id++) {
		e = hotadd_event(test, h, id, KeProcessorAddStartNotify);
		if (!e)
			continue;
		KUNIT_EXPECT_EQ(test, e->index, h->index);
		KUNIT_EXPECT_EQ(test, e->status, STATUS_SUCCESS);
		KUNIT_EXPECT_EQ(test, (ULONG)e->pn.Group, h->index / 64);
		KUNIT_EXPECT_EQ(test, (ULONG)e->pn.Number, h->index % 64);
		KUNIT_EXPECT_EQ(test, e->pn.Reserved, 0);
	}
}

/* One OperationStatus for all Starts, STATUS_SUCCESS when nobody vetoed. */
static void hotadd_start_shares_one_status(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct rec_event *first = hotadd_event(test, h, HA_PLAIN, KeProcessorAddStartNotify);
	struct rec_event *e;
	int id;

	KUNIT_ASSERT_NOT_NULL(test, first);
	for (id = HA_PLAIN; id <= HA_KILLER; id++) {
		e = hotadd_event(test, h, id, KeProcessorAddStartNotify);
		if (!e)
			continue;
		KUNIT_EXPECT_PTR_EQ(test, e->op, first->op);
		KUNIT_EXPECT_EQ(test, e->op_in, STATUS_SUCCESS);
	}
}

/* Start runs in the add thread, not the adding task, before the CPU is online. */
static void hotadd_start_in_add_thread_before_online(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct rec_event *e;
	int id;

	for (id = HA_PLAIN; id <= HA_AFTER; id++) {
		if (id == HA_VICTIM)
			continue;
		e = hotadd_event(test, h, id, KeProcessorAddStartNotify);
		if (!e)
			continue;
		KUNIT_EXPECT_PTR_NE(test, e->task, h->adder);
		KUNIT_EXPECT_FALSE(test, e->index_cpu_online);
		KUNIT_EXPECT_TRUE(test, e->sleepable);
	}
}

/* Every notification of one add comes from one task, as on Windows. */
static void hotadd_one_task_for_start_and_complete(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	unsigned int i;

	KUNIT_ASSERT_GT(test, h->n, 0U);
	for (i = 1; i < h->n; i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test, h->ev[i].task, h->ev[0].task, "event %u", i);
}

/* That task is a kthread Linux lets move, not a bound per-CPU one. */
static void hotadd_add_thread_not_per_cpu(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct rec_event *e = hotadd_event(test, h, HA_PLAIN, KeProcessorAddCompleteNotify);

	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_TRUE(test, e->kthread);
	KUNIT_EXPECT_FALSE(test, e->bound);
	KUNIT_EXPECT_GT(test, e->nr_allowed, 1U);
}

/* In Start the new index resolves both ways but is not counted yet. */
static void hotadd_start_index_resolvable(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct rec_event *e = hotadd_event(test, h, HA_PLAIN, KeProcessorAddStartNotify);

	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->resolve, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, e->resolved.Group, e->pn.Group);
	KUNIT_EXPECT_EQ(test, e->resolved.Number, e->pn.Number);
	KUNIT_EXPECT_EQ(test, e->resolved.Reserved, 0);
	KUNIT_EXPECT_EQ(test, e->back, h->index);
	KUNIT_EXPECT_EQ(test, e->index_to_cpu, h->cpu);
	KUNIT_EXPECT_EQ(test, e->active, h->index);
}

/*
 * Complete runs once the new CPU is online, on another CPU that was active
 * before (drivers move to the new one themselves), in a task that may sleep.
 */
static void hotadd_complete_not_on_new_cpu(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct rec_event *e;
	int id;

	for (id = HA_PLAIN; id <= HA_AFTER; id++) {
		if (id == HA_SELF || id == HA_VICTIM)
			continue;
		e = hotadd_event(test, h, id, KeProcessorAddCompleteNotify);
		if (!e)
			continue;
		KUNIT_EXPECT_NE_MSG(test, e->cpu, h->cpu, "registration %d", id);
		KUNIT_EXPECT_TRUE(test, e->index_cpu_online);
		KUNIT_EXPECT_PTR_NE(test, e->task, h->adder);
		KUNIT_EXPECT_TRUE(test, e->sleepable);
	}
	/* HA_INFO slept in Complete; a splat would fail the run */
	KUNIT_EXPECT_NOT_NULL(test, hotadd_event(test, h, HA_INFO,
						 KeProcessorAddCompleteNotify));
}

/* A callback that moves to the new processor in Complete runs there. */
static void hotadd_move_to_new_cpu_in_complete(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct rec_event *e = hotadd_event(test, h, HA_MOVER, KeProcessorAddCompleteNotify);

	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->moved_cpu, h->cpu);
}

/* The affinity the mover left behind is gone by the next callback. */
static void hotadd_affinity_leak_undone(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct rec_event *mover = hotadd_event(test, h, HA_MOVER, KeProcessorAddCompleteNotify);
	struct rec_event *e = hotadd_event(test, h, HA_AFTER, KeProcessorAddCompleteNotify);

	KUNIT_ASSERT_NOT_NULL(test, mover);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_NE(test, e->cpu, h->cpu);
	KUNIT_EXPECT_FALSE(test, e->allowed_target);
	KUNIT_EXPECT_EQ(test, e->nr_allowed, mover->nr_allowed);
}

/* From Complete on, the processor is active and resolves both ways. */
static void hotadd_complete_counts_it(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct rec_event *e = hotadd_event(test, h, HA_PLAIN, KeProcessorAddCompleteNotify);

	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, e->active, h->index + 1);
	KUNIT_EXPECT_NE(test, e->current_index, h->index);
	KUNIT_EXPECT_EQ(test, e->resolve, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, e->resolved.Group, e->pn.Group);
	KUNIT_EXPECT_EQ(test, e->resolved.Number, e->pn.Number);
	KUNIT_EXPECT_EQ(test, e->back, h->index);
	KUNIT_EXPECT_EQ(test, e->index_to_cpu, h->cpu);
}

/* A failure written in Complete is ignored: the next Complete sees SUCCESS. */
static void hotadd_complete_status_write_ignored(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct rec_event *w = hotadd_event(test, h, HA_WRITER, KeProcessorAddCompleteNotify);
	struct rec_event *next = hotadd_event(test, h, HA_INFO, KeProcessorAddCompleteNotify);

	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_ASSERT_NOT_NULL(test, next);
	KUNIT_EXPECT_EQ(test, w->op_out, STATUS_UNSUCCESSFUL);
	KUNIT_EXPECT_EQ(test, next->op_in, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, next->status, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, h->online);
}

/* An informational status written in Start is no veto. */
static void hotadd_informational_status_no_veto(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct rec_event *w = hotadd_event(test, h, HA_INFO, KeProcessorAddStartNotify);
	struct rec_event *next = hotadd_event(test, h, HA_SELF, KeProcessorAddStartNotify);

	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_ASSERT_NOT_NULL(test, next);
	KUNIT_EXPECT_EQ(test, w->op_out, TEST_STATUS_INFORMATIONAL);
	KUNIT_EXPECT_EQ(test, next->op_in, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, h->ret, 0);
}

/* Register from a Start callback returns NULL, and the add completes. */
static void hotadd_register_inside_start(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);

	KUNIT_EXPECT_NULL(test, h->regs[HA_WRITER].registered_inside);
	KUNIT_EXPECT_NOT_NULL(test, hotadd_event(test, h, HA_WRITER,
						 KeProcessorAddCompleteNotify));
}

/* Deregistered from its own Start: no Complete for that add. */
static void hotadd_deregister_self_no_complete(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	unsigned int i, start = 0, other = 0;

	for (i = 0; i < h->n; i++) {
		if (h->ev[i].reg != HA_SELF)
			continue;
		if (h->ev[i].state == KeProcessorAddStartNotify)
			start++;
		else
			other++;
	}
	KUNIT_EXPECT_EQ(test, start, 1U);
	KUNIT_EXPECT_EQ(test, other, 0U);
	KUNIT_EXPECT_NULL(test, h->regs[HA_SELF].handle);
}

/* Deregistered by another registration's Start: nothing at all. */
static void hotadd_deregister_other_nothing(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	unsigned int i;

	for (i = 0; i < h->n; i++)
		KUNIT_EXPECT_NE_MSG(test, h->ev[i].reg, HA_VICTIM, "event %u", i);
	KUNIT_EXPECT_NOT_NULL(test, hotadd_event(test, h, HA_KILLER,
						 KeProcessorAddCompleteNotify));
}

/* The maximum counts do not move when a processor is added. */
static void hotadd_maximum_counts_constant(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(h->max_before); i++)
		KUNIT_EXPECT_EQ_MSG(test, h->max_after[i], h->max_before[i], "count %u", i);
	KUNIT_EXPECT_EQ(test, h->max_before[0], num_possible_cpus());
}

/* Start to all in FIFO order, one shared status; Failure to all; offline. */
static void veto_fifo_shared_status(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1);
	struct test_reg *b = test_new_reg(test, 2);
	struct test_reg *c = test_new_reg(test, 3);
	int cpu = test_fresh_cpu(test);
	ULONG index = active();
	unsigned int i;

	b->veto = STATUS_INSUFFICIENT_RESOURCES;
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, b, 0));
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, c, 0));
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), -ENOMEM);
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
	KUNIT_ASSERT_EQ(test, rec_count(), 6U);
	for (i = 0; i < 3; i++) {
		test_expect_event(test, i, i + 1, KeProcessorAddStartNotify, index);
		test_expect_event(test, i + 3, i + 1, KeProcessorAddFailureNotify, index);
		KUNIT_EXPECT_PTR_EQ(test, rec_get(i)->op, rec_get(0)->op);
		/* Start and Failure from the add thread, one task */
		KUNIT_EXPECT_PTR_NE(test, rec_get(i)->task, current);
		KUNIT_EXPECT_PTR_EQ(test, rec_get(i)->task, rec_get(0)->task);
		KUNIT_EXPECT_PTR_EQ(test, rec_get(i + 3)->task, rec_get(0)->task);
		KUNIT_EXPECT_FALSE(test, rec_get(i)->index_cpu_online);
		KUNIT_EXPECT_EQ(test, rec_get(i + 3)->status, STATUS_INSUFFICIENT_RESOURCES);
		KUNIT_EXPECT_EQ(test, (ULONG)rec_get(i + 3)->pn.Number, index % 64);
	}
	KUNIT_EXPECT_EQ(test, rec_get(0)->op_in, STATUS_SUCCESS);
	/* a later callback sees the failure an earlier one wrote */
	KUNIT_EXPECT_EQ(test, rec_get(2)->op_in, STATUS_INSUFFICIENT_RESOURCES);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), INVALID_PROCESSOR_INDEX);
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
	{ STATUS_NOT_SUPPORTED, -EIO, "STATUS_NOT_SUPPORTED" },
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
	struct test_reg *a = test_new_reg(test, 1);
	int cpu = test_fresh_cpu(test), ret;

	a->veto = v->status;
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	ret = add_cpu(cpu);
	KUNIT_EXPECT_EQ(test, ret, v->err);
	KUNIT_EXPECT_NE(test, ret, -EBUSY);
	KUNIT_EXPECT_NE(test, ret, -EAGAIN);
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddFailureNotify), 1U);
	KUNIT_ASSERT_EQ(test, rec_count(), 2U);
	KUNIT_EXPECT_EQ(test, rec_get(1)->status, v->status);
}

/* A later write cannot undo or replace the first veto. */
static void veto_first_failure_wins(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1);
	struct test_reg *b = test_new_reg(test, 2);
	struct test_reg *c = test_new_reg(test, 3);
	int cpu = test_fresh_cpu(test);

	a->veto = STATUS_ACCESS_DENIED;
	b->veto = STATUS_NO_MEMORY;
	c->veto = STATUS_SUCCESS;
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, b, 0));
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, c, 0));
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), -EACCES);
	KUNIT_ASSERT_EQ(test, rec_count(), 6U);
	KUNIT_EXPECT_EQ(test, rec_get(1)->op_in, STATUS_ACCESS_DENIED);
	KUNIT_EXPECT_EQ(test, rec_get(2)->op_in, STATUS_ACCESS_DENIED);
	KUNIT_EXPECT_EQ(test, rec_get(3)->status, STATUS_ACCESS_DENIED);
	KUNIT_EXPECT_EQ(test, rec_get(4)->status, STATUS_ACCESS_DENIED);
	KUNIT_EXPECT_EQ(test, rec_get(5)->status, STATUS_ACCESS_DENIED);
}

/* In a vetoed Start the new index resolves both ways but is not active. */
static void index_resolvable_in_start(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1);
	ULONG index = active();
	int cpu = test_fresh_cpu(test);
	struct rec_event *e;

	a->veto = STATUS_UNSUCCESSFUL;
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
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
	KUNIT_ASSERT_NOT_NULL(test, rec_get(1));
	KUNIT_EXPECT_EQ(test, rec_get(1)->resolve, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(index), -EINVAL);
}

/* A vetoed add gives its index back: the next add, on any CPU, gets it. */
static void veto_releases_index(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1);
	ULONG index = active();
	PROCESSOR_NUMBER pn = { .Group = index / 64, .Number = index % 64 };
	int first, second;

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &first), -ENOMEM);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, index);
	KUNIT_EXPECT_FALSE(test, cpu_online(first));
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(first), INVALID_PROCESSOR_INDEX);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(index), -EINVAL);
	KUNIT_EXPECT_EQ(test, KeGetProcessorNumberFromIndex(index, &pn),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, KeGetProcessorIndexFromNumber(&pn), INVALID_PROCESSOR_INDEX);
	KUNIT_EXPECT_EQ(test, active(), index);

	/* another new CPU if there is one, else the same */
	for (second = first + 1; second < (int)nr_cpu_ids; second++)
		if (cpu_present(second) && !cpu_online(second) &&
		    kecpuhp_cpu_to_index(second) == INVALID_PROCESSOR_INDEX)
			break;
	if (second >= (int)nr_cpu_ids)
		second = first;
	rec_reset();
	KUNIT_EXPECT_EQ(test, test_vetoed_add_on(test, second), -ENOMEM);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, index);
	KUNIT_EXPECT_EQ(test, rec_get(0)->index_to_cpu, second);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(second), INVALID_PROCESSOR_INDEX);
}

/* Each callback gets its own ChangeContext: scribbling on it misleads nobody. */
static void change_context_is_a_fresh_copy(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1);
	struct test_reg *b = test_new_reg(test, 2);
	ULONG index = active();
	struct rec_event *e;
	unsigned int i;
	int cpu;

	a->scribble = true;
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, b, 0));
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_ASSERT_EQ(test, rec_count(), 6U);
	for (i = 0; i < rec_count(); i++) {
		e = rec_get(i);
		KUNIT_EXPECT_EQ_MSG(test, (int)e->state, i < 3 ? (int)KeProcessorAddStartNotify :
				    (int)KeProcessorAddFailureNotify, "event %u", i);
		KUNIT_EXPECT_EQ_MSG(test, e->index, index, "event %u", i);
		KUNIT_EXPECT_EQ_MSG(test, e->status, i < 3 ? STATUS_SUCCESS : STATUS_NO_MEMORY,
				    "event %u", i);
		KUNIT_EXPECT_EQ_MSG(test, (ULONG)e->pn.Number, index % 64, "event %u", i);
		KUNIT_EXPECT_EQ_MSG(test, e->pn.Reserved, 0, "event %u", i);
	}
}

/* A failure after Start that kecpuhp did not cause: Failure, UNSUCCESSFUL. */
static void bringup_failure_after_start(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1), *b = test_new_reg(test, 2);
	int cpu = test_fresh_cpu(test), ret;
	ULONG index = active();

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, b, 0));
	WRITE_ONCE(hotadd_fail_cpu, cpu);
	ret = add_cpu(cpu);
	WRITE_ONCE(hotadd_fail_cpu, -1);
	KUNIT_EXPECT_EQ(test, ret, -EIO);
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
	KUNIT_ASSERT_EQ_MSG(test, rec_count(), 4U,
			    "the test's prepare state (%d) must run after kecpuhp's",
			    hotadd_fail_state);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, index);
	test_expect_event(test, 1, 2, KeProcessorAddStartNotify, index);
	test_expect_event(test, 2, 1, KeProcessorAddFailureNotify, index);
	test_expect_event(test, 3, 2, KeProcessorAddFailureNotify, index);
	KUNIT_EXPECT_EQ(test, rec_get(2)->status, STATUS_UNSUCCESSFUL);
	KUNIT_EXPECT_EQ(test, rec_get(3)->status, STATUS_UNSUCCESSFUL);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddCompleteNotify), 0U);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), INVALID_PROCESSOR_INDEX);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(index), -EINVAL);
	KUNIT_EXPECT_EQ(test, active(), index);
}

/* A write to *OperationStatus in Failure is ignored: the next sees SUCCESS. */
static void failure_status_change_ignored(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1), *b = test_new_reg(test, 2);
	int cpu;

	a->write_after_start = STATUS_INTERNAL_ERROR;
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, b, 0));
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_ASSERT_EQ(test, rec_count(), 6U);
	KUNIT_EXPECT_EQ(test, rec_get(3)->state, KeProcessorAddFailureNotify);
	KUNIT_EXPECT_EQ(test, rec_get(3)->op_out, STATUS_INTERNAL_ERROR);
	KUNIT_EXPECT_EQ(test, rec_get(4)->op_in, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, rec_get(4)->status, STATUS_NO_MEMORY);
	KUNIT_EXPECT_EQ(test, rec_get(5)->status, STATUS_NO_MEMORY);
}

/* Offline and online again: no notification, same index, still active. */
static void reonline_no_notification(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct test_reg *a = test_new_reg(test, 1);
	ULONG count = active();
	KAFFINITY affinity = KeQueryGroupAffinity(0);
	int cpu = h->cpu;

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	rec_reset();
	KUNIT_ASSERT_EQ(test, test_remove_cpu(cpu), 0);
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
	/* Windows has no hot-remove: still counted, still numbered */
	KUNIT_EXPECT_EQ(test, active(), count);
	KUNIT_EXPECT_EQ(test, KeQueryGroupAffinity(0), affinity);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), h->index);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(h->index), cpu);
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), h->index);
	KUNIT_EXPECT_EQ(test, active(), count);
	/* the same for a CPU numbered at load */
	KUNIT_ASSERT_EQ(test, test_remove_cpu(1), 0);
	KUNIT_EXPECT_EQ(test, active(), count);
	KUNIT_ASSERT_EQ(test, add_cpu(1), 0);
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(1), 1U);
}

/*
 * Registered without the flag: nothing at once, then the new processor.
 * The highest new CPU is used, skipping lower ones: Linux ids get sparse,
 * processor indices stay dense.
 */
static void no_flag_sees_only_new(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1);
	ULONG index = active(), i;
	int cpu, lower;

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
	for (cpu = nr_cpu_ids - 1; cpu > 0; cpu--)
		if (cpu_present(cpu) && !cpu_online(cpu) &&
		    kecpuhp_cpu_to_index(cpu) == INVALID_PROCESSOR_INDEX)
			break;
	if (cpu <= 0)
		kunit_skip(test, "no new CPU left");
	lower = test_fresh_cpu(test);
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	KUNIT_ASSERT_EQ(test, rec_count(), 2U);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, index);
	test_expect_event(test, 1, 1, KeProcessorAddCompleteNotify, index);
	KUNIT_EXPECT_EQ(test, kecpuhp_index_to_cpu(index), cpu);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), index);
	KUNIT_EXPECT_EQ(test, active(), index + 1);
	if (lower != cpu)
		KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(lower), INVALID_PROCESSOR_INDEX);
	for (i = 0; i < active(); i++)
		KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(kecpuhp_index_to_cpu(i)), i);
}

/* Indices of added processors are never reused, online or not. */
static void index_never_reused(struct kunit *test)
{
	struct hotadd_result *h = hotadd_run(test);
	struct test_reg *a = test_new_reg(test, 1);
	ULONG next = active();
	int cpu;

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_ASSERT_EQ(test, test_remove_cpu(h->cpu), 0);
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_ASSERT_GE(test, rec_count(), 1U);
	KUNIT_EXPECT_EQ(test, rec_get(0)->index, next);
	KUNIT_EXPECT_NE(test, rec_get(0)->index, h->index);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(h->cpu), h->index);
	KUNIT_EXPECT_EQ(test, add_cpu(h->cpu), 0);
}

static struct kunit_case hotadd_cases[] = {
	KUNIT_CASE(hotadd_succeeds),
	KUNIT_CASE(hotadd_start_then_complete_fifo),
	KUNIT_CASE(hotadd_start_context),
	KUNIT_CASE(hotadd_start_shares_one_status),
	KUNIT_CASE(hotadd_start_in_add_thread_before_online),
	KUNIT_CASE(hotadd_one_task_for_start_and_complete),
	KUNIT_CASE(hotadd_add_thread_not_per_cpu),
	KUNIT_CASE(hotadd_start_index_resolvable),
	KUNIT_CASE(hotadd_complete_not_on_new_cpu),
	KUNIT_CASE(hotadd_move_to_new_cpu_in_complete),
	KUNIT_CASE(hotadd_affinity_leak_undone),
	KUNIT_CASE(hotadd_complete_counts_it),
	KUNIT_CASE(hotadd_complete_status_write_ignored),
	KUNIT_CASE(hotadd_informational_status_no_veto),
	KUNIT_CASE(hotadd_register_inside_start),
	KUNIT_CASE(hotadd_deregister_self_no_complete),
	KUNIT_CASE(hotadd_deregister_other_nothing),
	KUNIT_CASE(hotadd_maximum_counts_constant),
	KUNIT_CASE(veto_fifo_shared_status),
	KUNIT_CASE_PARAM(veto_errno, veto_errno_gen_params),
	KUNIT_CASE(veto_first_failure_wins),
	KUNIT_CASE(index_resolvable_in_start),
	KUNIT_CASE(veto_releases_index),
	KUNIT_CASE(change_context_is_a_fresh_copy),
	KUNIT_CASE(bringup_failure_after_start),
	KUNIT_CASE(failure_status_change_ignored),
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
	.exit = test_exit,
	.test_cases = hotadd_cases,
};
