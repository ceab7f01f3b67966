// SPDX-License-Identifier: GPL-2.0
/*
 * The notification recorder: callbacks run in other threads (Complete on
 * the new CPU's hotplug thread), so they only record; the test thread
 * asserts afterwards.
 */
#include <linux/cpu.h>
#include <linux/smp.h>
#include <linux/spinlock.h>

#include "kecpuhp_test.h"

static DEFINE_SPINLOCK(rec_lock);
static struct rec_event rec_events[REC_MAX_EVENTS];
static unsigned int rec_n;

void rec_reset(void)
{
	spin_lock(&rec_lock);
	rec_n = 0;
	spin_unlock(&rec_lock);
}

unsigned int rec_count(void)
{
	return READ_ONCE(rec_n);
}

struct rec_event *rec_get(unsigned int i)
{
	return i < rec_count() ? &rec_events[i] : NULL;
}

unsigned int rec_count_of(int reg, KE_PROCESSOR_CHANGE_NOTIFY_STATE state)
{
	unsigned int i, n = 0;

	for (i = 0; i < rec_count(); i++)
		n += rec_events[i].reg == reg && rec_events[i].state == state;
	return n;
}

static void rec_add(struct test_reg *r, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op)
{
	struct rec_event e = {
		.reg = r->id,
		.state = cc->State,
		.index = cc->NtNumber,
		.status = cc->Status,
		.pn = cc->ProcNumber,
		.op = op,
		.op_in = *op,
		.cpu = raw_smp_processor_id(),
		.task = current,
		.active = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS),
		.back = KeGetProcessorIndexFromNumber(&cc->ProcNumber),
		.index_to_cpu = kecpuhp_index_to_cpu(cc->NtNumber),
		.current_index = KeGetCurrentProcessorNumberEx(NULL),
	};

	e.resolve = KeGetProcessorNumberFromIndex(cc->NtNumber, &e.resolved);
	e.index_cpu_online = e.index_to_cpu >= 0 && cpu_online(e.index_to_cpu);
	spin_lock(&rec_lock);
	if (rec_n < REC_MAX_EVENTS)
		rec_events[rec_n++] = e;
	spin_unlock(&rec_lock);
}

/* Misbehave as configured, in a hot-add Start (not in a replay). */
static void test_start_actions(struct test_reg *r, PNTSTATUS op)
{
	if (r->try_register)
		r->registered_inside = KeRegisterProcessorChangeCallback(test_callback, r, 0);
	if (r->dereg_other) {
		KeDeregisterProcessorChangeCallback(r->dereg_other->handle);
		r->dereg_other->handle = NULL;
	}
	if (r->dereg_self) {
		KeDeregisterProcessorChangeCallback(r->handle);
		r->handle = NULL;
	}
	if (r->veto)
		*op = r->veto;
}

void test_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op)
{
	struct test_reg *r = ctx;

	rec_add(r, cc, op);
	if (cc->State != KeProcessorAddStartNotify) {
		if (r->write_after_start)
			*op = r->write_after_start;
		return;
	}
	if (!r->handle) {		/* still inside Register: a replay */
		if (r->try_register)
			r->registered_inside = KeRegisterProcessorChangeCallback(test_callback,
										 r, 0);
		if (r->veto_in_replay && cc->NtNumber == r->veto_at)
			*op = STATUS_NO_MEMORY;
		return;
	}
	test_start_actions(r, op);
}

void test_reg_init(struct test_reg *r, int id)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
}

PVOID test_register(struct kunit *test, struct test_reg *r, ULONG flags)
{
	PVOID h = KeRegisterProcessorChangeCallback(test_callback, r, flags);

	WRITE_ONCE(r->handle, h);
	return h;
}

void test_deregister(struct test_reg *r)
{
	if (r->handle)
		KeDeregisterProcessorChangeCallback(r->handle);
	r->handle = NULL;
}

/* The lowest CPU that is present, offline and unknown to kecpuhp. */
int test_fresh_cpu(struct kunit *test)
{
	unsigned int cpu;

	for_each_present_cpu(cpu)
		if (!cpu_online(cpu) && kecpuhp_cpu_to_index(cpu) == INVALID_PROCESSOR_INDEX)
			return cpu;
	kunit_skip(test, "no CPU left that kecpuhp has not numbered (boot with maxcpus=2)");
	return -1;
}

void test_expect_event(struct kunit *test, unsigned int i, int reg,
		       KE_PROCESSOR_CHANGE_NOTIFY_STATE state, ULONG index)
{
	struct rec_event *e = rec_get(i);

	KUNIT_ASSERT_NOT_NULL_MSG(test, e, "event %u missing (%u recorded)", i, rec_count());
	KUNIT_EXPECT_EQ_MSG(test, e->reg, reg, "event %u", i);
	KUNIT_EXPECT_EQ_MSG(test, (int)e->state, (int)state, "event %u", i);
	KUNIT_EXPECT_EQ_MSG(test, e->index, index, "event %u", i);
}

/*
 * Hot-add a new CPU with a vetoing registration added last: everyone
 * registered gets Start and Failure, and the CPU stays new for the next
 * case. Returns add_cpu()'s result; *cpu is the CPU tried.
 */
int test_vetoed_add(struct kunit *test, int *cpu)
{
	struct test_reg *v = kunit_kzalloc(test, sizeof(*v), GFP_KERNEL);
	int ret;

	*cpu = test_fresh_cpu(test);
	test_reg_init(v, TEST_VETOER);
	v->veto = STATUS_NO_MEMORY;
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, v, 0));
	ret = add_cpu(*cpu);
	test_deregister(v);
	return ret;
}
