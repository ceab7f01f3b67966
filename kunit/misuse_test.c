// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input and wrong context: each gets the documented outcome, an error
 * in the log, and leaves every other registration working. "Still working"
 * is checked with a vetoed hot-add, which notifies without using a CPU up.
 */
#include <linux/cpu.h>
#include <linux/irqflags.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>

#include "kecpuhp_test.h"

static DEFINE_SPINLOCK(misuse_lock);

static int misuse_init(struct kunit *test)
{
	rec_reset();
	return 0;
}

/* @r still gets Start and Failure of a (vetoed) hot-add. */
static void expect_still_notified(struct kunit *test, struct test_reg *r)
{
	int cpu;

	rec_reset();
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_EXPECT_EQ(test, rec_count_of(r->id, KeProcessorAddStartNotify), 1U);
	KUNIT_EXPECT_EQ(test, rec_count_of(r->id, KeProcessorAddFailureNotify), 1U);
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
}

static void register_null_callback(struct kunit *test)
{
	KUNIT_EXPECT_NULL(test, KeRegisterProcessorChangeCallback(NULL, NULL, 0));
	KUNIT_EXPECT_NULL(test,
			  KeRegisterProcessorChangeCallback(NULL, NULL,
							    KE_PROCESSOR_CHANGE_ADD_EXISTING));
}

/* Unknown flag bits: NULL, and no replay even with ADD_EXISTING set. */
static void register_unknown_flags(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);

	KUNIT_EXPECT_NULL(test, test_register(test, r, 2));
	KUNIT_EXPECT_NULL(test, test_register(test, r, 0x80000001));
	KUNIT_EXPECT_NULL(test, test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING | 2));
	KUNIT_EXPECT_NULL(test, test_register(test, r, ~0U));
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
}

/*
 * From atomic context Register returns NULL, without sleeping and without
 * replaying (ADD_EXISTING is passed to show that nothing is called).
 */
static void register_under_spinlock(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	PVOID h;

	spin_lock(&misuse_lock);
	h = test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING);
	spin_unlock(&misuse_lock);
	KUNIT_EXPECT_NULL(test, h);
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
}

static void register_irqs_disabled(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	unsigned long flags;
	PVOID h;

	local_irq_save(flags);
	h = test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING);
	local_irq_restore(flags);
	KUNIT_EXPECT_NULL(test, h);
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
}

static void register_preempt_disabled(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	PVOID h;

	preempt_disable();
	h = test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING);
	preempt_enable();
	KUNIT_EXPECT_NULL(test, h);
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
}

static void register_rcu_read_lock(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	PVOID h;

	rcu_read_lock();
	h = test_register(test, r, 0);
	rcu_read_unlock();
	KUNIT_EXPECT_NULL(test, h);
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
}

static void deregister_null_handle(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, 0));
	KeDeregisterProcessorChangeCallback(NULL);
	expect_still_notified(test, r);
	test_deregister(r);
}

/* Never-issued values, including real kernel pointers: never followed. */
static void deregister_bogus_handle(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	int on_stack;

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, 0));
	KeDeregisterProcessorChangeCallback((PVOID)0x12345678);
	KeDeregisterProcessorChangeCallback(&on_stack);
	KeDeregisterProcessorChangeCallback(r);
	KeDeregisterProcessorChangeCallback((PVOID)0xdead000000000100UL);
	KeDeregisterProcessorChangeCallback(ERR_PTR(-EINVAL));
	expect_still_notified(test, r);
	test_deregister(r);
}

static void deregister_twice(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1);
	struct test_reg *b = test_new_reg(test, 2);
	PVOID stale;

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	stale = a->handle;
	test_deregister(a);
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, b, 0));
	KUNIT_EXPECT_PTR_NE(test, b->handle, stale);
	KeDeregisterProcessorChangeCallback(stale);	/* stale: must not hit b */
	expect_still_notified(test, b);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddStartNotify), 0U);
	test_deregister(b);
}

/* From atomic context Deregister does nothing: the registration stays. */
static void deregister_atomic_context(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	unsigned long flags;

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, 0));
	spin_lock(&misuse_lock);
	KeDeregisterProcessorChangeCallback(r->handle);
	spin_unlock(&misuse_lock);
	local_irq_save(flags);
	KeDeregisterProcessorChangeCallback(r->handle);
	local_irq_restore(flags);
	expect_still_notified(test, r);
	test_deregister(r);
}

/* After Deregister returns, nothing more arrives. */
static void deregister_stops_notifications(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1);
	struct test_reg *b = test_new_reg(test, 2);

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, b, 0));
	test_deregister(a);
	expect_still_notified(test, b);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddStartNotify), 0U);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddFailureNotify), 0U);
	test_deregister(b);
}

/* Deregistering itself in Start: nothing more for it, others unaffected. */
static void deregister_self_in_callback(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1);
	struct test_reg *b = test_new_reg(test, 2);
	int cpu;

	a->dereg_self = true;
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, b, 0));
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddStartNotify), 1U);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddFailureNotify), 0U);
	KUNIT_EXPECT_EQ(test, rec_count_of(2, KeProcessorAddStartNotify), 1U);
	KUNIT_EXPECT_EQ(test, rec_count_of(2, KeProcessorAddFailureNotify), 1U);
	KUNIT_EXPECT_NULL(test, a->handle);
	expect_still_notified(test, b);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddStartNotify), 0U);
	test_deregister(b);
}

/* Deregistering another in Start: it gets nothing more. */
static void deregister_other_in_callback(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1);
	struct test_reg *b = test_new_reg(test, 2);
	struct test_reg *c = test_new_reg(test, 3);
	int cpu;

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, b, 0));	/* before a */
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, c, 0));	/* after a */
	a->dereg_other = b;
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	/* b had its Start before a ran; it gets no Failure */
	KUNIT_EXPECT_EQ(test, rec_count_of(2, KeProcessorAddStartNotify), 1U);
	KUNIT_EXPECT_EQ(test, rec_count_of(2, KeProcessorAddFailureNotify), 0U);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddFailureNotify), 1U);
	KUNIT_EXPECT_EQ(test, rec_count_of(3, KeProcessorAddFailureNotify), 1U);
	a->dereg_other = c;
	rec_reset();
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	/* c comes after a: it gets nothing at all */
	KUNIT_EXPECT_EQ(test, rec_count_of(3, KeProcessorAddStartNotify), 0U);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddFailureNotify), 1U);
	a->dereg_other = NULL;
	test_deregister(a);
}

/* Register from a hot-add callback returns NULL; the add goes on. */
static void register_inside_callback(struct kunit *test)
{
	struct test_reg *a = test_new_reg(test, 1);
	int cpu;

	a->try_register = true;
	a->registered_inside = TEST_NOT_TRIED;
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, a, 0));
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_EXPECT_NULL(test, a->registered_inside);
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddFailureNotify), 1U);
	test_deregister(a);
}

static struct kunit_case misuse_cases[] = {
	KUNIT_CASE(register_null_callback),
	KUNIT_CASE(register_unknown_flags),
	KUNIT_CASE(register_under_spinlock),
	KUNIT_CASE(register_irqs_disabled),
	KUNIT_CASE(register_preempt_disabled),
	KUNIT_CASE(register_rcu_read_lock),
	KUNIT_CASE(deregister_null_handle),
	KUNIT_CASE(deregister_bogus_handle),
	KUNIT_CASE(deregister_twice),
	KUNIT_CASE(deregister_atomic_context),
	KUNIT_CASE(deregister_stops_notifications),
	KUNIT_CASE(deregister_self_in_callback),
	KUNIT_CASE(deregister_other_in_callback),
	KUNIT_CASE(register_inside_callback),
	{}
};

struct kunit_suite kecpuhp_misuse_suite = {
	.name = "kecpuhp_misuse",
	.init = misuse_init,
	.exit = test_exit,
	.test_cases = misuse_cases,
};
