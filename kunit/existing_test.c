// SPDX-License-Identifier: GPL-2.0
/*
 * KE_PROCESSOR_CHANGE_ADD_EXISTING: the replay at registration, its veto,
 * and registration without the flag. No CPU is added for good here: the
 * cases that need a later hot-add veto it.
 */
#include <linux/sched.h>

#include "kecpuhp_test.h"

static ULONG active(void)
{
	return KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
}

static void existing_init_rec(struct kunit *test)
{
	rec_reset();
}

/* Start 0..N-1, then Complete 0..N-1, in the registering task. */
static void replay_sequence(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	ULONG n = active(), i;
	struct rec_event *e;

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	KUNIT_ASSERT_EQ(test, rec_count(), 2 * n);
	for (i = 0; i < 2 * n; i++) {
		test_expect_event(test, i, 1, i < n ? KeProcessorAddStartNotify :
				  KeProcessorAddCompleteNotify, i % n);
		e = rec_get(i);
		KUNIT_EXPECT_PTR_EQ(test, e->task, current);
		KUNIT_EXPECT_EQ(test, e->status, STATUS_SUCCESS);
		KUNIT_EXPECT_EQ(test, e->op_in, STATUS_SUCCESS);
		KUNIT_EXPECT_EQ(test, (ULONG)e->pn.Group, e->index / 64);
		KUNIT_EXPECT_EQ(test, (ULONG)e->pn.Number, e->index % 64);
		KUNIT_EXPECT_EQ(test, e->pn.Reserved, 0);
		KUNIT_EXPECT_EQ(test, e->back, e->index);
		KUNIT_EXPECT_EQ(test, e->active, n);
		KUNIT_EXPECT_EQ(test, e->resolve, STATUS_SUCCESS);
		KUNIT_EXPECT_EQ(test, e->index_to_cpu, kecpuhp_index_to_cpu(e->index));
		KUNIT_EXPECT_TRUE(test, e->sleepable);
	}
	test_deregister(r);
}

/*
 * Each replayed Start starts from STATUS_SUCCESS, although the callback
 * leaves a (non-failure) status behind every time; a write in Complete is
 * ignored too.
 */
static void replay_resets_status(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	struct rec_event *e;
	unsigned int i;

	r->start_write = TEST_STATUS_INFORMATIONAL;	/* no veto */
	r->write_after_start = STATUS_UNSUCCESSFUL;	/* ignored in Complete */
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddStartNotify), active());
	for (i = 0; i < rec_count(); i++) {
		e = rec_get(i);
		KUNIT_EXPECT_EQ_MSG(test, e->op_in, STATUS_SUCCESS, "event %u", i);
		if (e->state == KeProcessorAddStartNotify)
			KUNIT_EXPECT_EQ(test, e->op_out, TEST_STATUS_INFORMATIONAL);
	}
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddCompleteNotify), active());
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddFailureNotify), 0U);
	test_deregister(r);
}

/* Only the new registration is called back; the others see nothing. */
static void replay_only_new_callback(struct kunit *test)
{
	struct test_reg *old = test_new_reg(test, 1);
	struct test_reg *r = test_new_reg(test, 2);

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, old, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	rec_reset();
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddStartNotify), 0U);
	KUNIT_EXPECT_EQ(test, rec_count_of(2, KeProcessorAddStartNotify), active());
	test_deregister(r);
	test_deregister(old);
}

/* A veto at k: Start 0..k, Failure 0..k-1 with the veto status, NULL. */
static void replay_veto_at_k(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	struct rec_event *e;

	r->veto_in_replay = true;
	r->veto_at = 1;
	KUNIT_EXPECT_NULL(test, test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	KUNIT_ASSERT_EQ(test, rec_count(), 3U);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, 0);
	test_expect_event(test, 1, 1, KeProcessorAddStartNotify, 1);
	test_expect_event(test, 2, 1, KeProcessorAddFailureNotify, 0);
	e = rec_get(2);
	KUNIT_EXPECT_EQ(test, e->status, STATUS_NO_MEMORY);
	KUNIT_EXPECT_EQ(test, e->op_in, STATUS_NO_MEMORY);
	KUNIT_EXPECT_PTR_EQ(test, e->task, current);
}

/* A veto at the first index: no Failure at all. */
static void replay_veto_at_0(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);

	r->veto_in_replay = true;
	r->veto_at = 0;
	KUNIT_EXPECT_NULL(test, test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	KUNIT_EXPECT_EQ(test, rec_count(), 1U);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, 0);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddFailureNotify), 0U);
}

/* A veto at the last index: Start to all, Failure to all but the last. */
static void replay_veto_at_last(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	ULONG n = active(), i;

	r->veto_in_replay = true;
	r->veto_at = n - 1;
	KUNIT_EXPECT_NULL(test, test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	KUNIT_ASSERT_EQ(test, rec_count(), 2 * n - 1);
	for (i = 0; i < n; i++)
		test_expect_event(test, i, 1, KeProcessorAddStartNotify, i);
	for (i = 0; i + 1 < n; i++)
		test_expect_event(test, n + i, 1, KeProcessorAddFailureNotify, i);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddCompleteNotify), 0U);
}

/* A registration vetoed in its replay is gone: a later hot-add skips it. */
static void replay_vetoed_never_called_again(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	struct test_reg *other = test_new_reg(test, 2);
	int cpu;

	r->veto_in_replay = true;
	r->veto_at = 1;
	KUNIT_EXPECT_NULL(test, test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, other, 0));
	rec_reset();
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_EXPECT_EQ(test, rec_count_of(2, KeProcessorAddStartNotify), 1U);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddStartNotify), 0U);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddFailureNotify), 0U);
}

/* After its replay, a registration is told about new processors too. */
static void replay_then_new_processors(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	ULONG n = active();
	int cpu;

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	KUNIT_EXPECT_EQ(test, rec_count(), 2 * n);
	rec_reset();
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, n);
	test_expect_event(test, 2, 1, KeProcessorAddFailureNotify, n);
	KUNIT_EXPECT_EQ(test, rec_get(0)->index_to_cpu, cpu);
	test_deregister(r);
}

/* Without the flag, registering calls nothing. */
static void no_flag_no_calls(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, 0));
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
	test_deregister(r);
}

/* Register from inside a replay callback fails instead of deadlocking. */
static void register_inside_replay(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);

	r->try_register = true;
	r->registered_inside = TEST_NOT_TRIED;
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	KUNIT_EXPECT_NULL(test, r->registered_inside);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddCompleteNotify), active());
	test_deregister(r);
}

static struct kunit_case existing_cases[] = {
	KUNIT_CASE(replay_sequence),
	KUNIT_CASE(replay_resets_status),
	KUNIT_CASE(replay_only_new_callback),
	KUNIT_CASE(replay_veto_at_k),
	KUNIT_CASE(replay_veto_at_0),
	KUNIT_CASE(replay_veto_at_last),
	KUNIT_CASE(replay_vetoed_never_called_again),
	KUNIT_CASE(replay_then_new_processors),
	KUNIT_CASE(no_flag_no_calls),
	KUNIT_CASE(register_inside_replay),
	{}
};

static int existing_init(struct kunit *test)
{
	existing_init_rec(test);
	return 0;
}

struct kunit_suite kecpuhp_add_existing_suite = {
	.name = "kecpuhp_add_existing",
	.init = existing_init,
	.exit = test_exit,
	.test_cases = existing_cases,
};
