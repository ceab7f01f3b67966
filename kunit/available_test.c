// SPDX-License-Identifier: GPL-2.0
/*
 * The available-CPUs API on real CPU offline/online: the set agrees with
 * cpu_active_mask in Windows indexes, the sequence number moves by 2 per
 * change, every registration is called after the change, stale observed
 * sequences call back, calls coalesce, and Unregister is safe from inside
 * a callback and on module unload. KAFFINITY_EX helpers too.
 *
 * Changes are published by a work item after the hotplug operation, so
 * the cases wait for the sequence number (and the calls) with a timeout.
 */
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/umh.h>

#include "kecpuhp_test.h"

#define AVAIL_WAIT_MS	10000
#define FIXTURE_KO	"/kecpuhp/kecpuhp_fixture.ko"

struct avail_reg {
	PS_AVAILABLE_CPUS_CHANGE_REGISTRATION handle;
	atomic_t calls;
	bool sleepable;			/* every call: process context */
	bool unregister_self;
	struct avail_reg *unregister_other;
	struct completion started;	/* first call entered */
	struct completion release;	/* first call may return */
	bool hold_first;
	unsigned int hold_ms;		/* first call: how long to wait for release */
	bool returned;			/* first call is over */
	ULONG64 seq_seen;		/* PsQuerySystemAvailableCpusCount() */
};

static void avail_reg_init(struct avail_reg *r)
{
	memset(r, 0, sizeof(*r));
	r->sleepable = true;
	init_completion(&r->started);
	init_completion(&r->release);
}

static VOID avail_callback(PVOID ctx)
{
	struct avail_reg *r = ctx;
	ULONG count;
	int n = atomic_inc_return(&r->calls);

	if (preempt_count() || irqs_disabled())
		r->sleepable = false;
	PsQuerySystemAvailableCpusCount(&count, &r->seq_seen);
	if (n == 1) {
		complete(&r->started);
		if (r->hold_first)
			wait_for_completion_timeout(&r->release,
						    msecs_to_jiffies(r->hold_ms ?: AVAIL_WAIT_MS));
	}
	if (r->unregister_other) {
		PsUnregisterAvailableCpusChangeNotification(r->unregister_other->handle);
		r->unregister_other->handle = NULL;
		r->unregister_other = NULL;
	}
	if (r->unregister_self) {
		PsUnregisterAvailableCpusChangeNotification(r->handle);
		r->handle = NULL;
	}
	WRITE_ONCE(r->returned, true);
}

static void avail_register(struct kunit *test, struct avail_reg *r, ULONG64 *observed)
{
	KUNIT_ASSERT_EQ(test, PsRegisterSystemAvailableCpusChangeNotification(avail_callback, r,
									      observed,
									      &r->handle),
			STATUS_SUCCESS);
	KUNIT_ASSERT_NOT_NULL(test, r->handle);
}

static void avail_unregister(struct avail_reg *r)
{
	if (r->handle)
		PsUnregisterAvailableCpusChangeNotification(r->handle);
	r->handle = NULL;
}

static ULONG64 seq_now(void)
{
	ULONG64 seq = 1;
	ULONG count;

	PsQuerySystemAvailableCpusCount(&count, &seq);
	return seq;
}

static bool wait_seq(ULONG64 want)
{
	int ms;

	for (ms = 0; ms < AVAIL_WAIT_MS; ms += 20) {
		if (seq_now() == want)
			return true;
		msleep(20);
	}
	return seq_now() == want;
}

static bool wait_calls(struct avail_reg *r, int want)
{
	int ms;

	for (ms = 0; ms < AVAIL_WAIT_MS; ms += 20) {
		if (atomic_read(&r->calls) >= want)
			return true;
		msleep(20);
	}
	return atomic_read(&r->calls) >= want;
}

/* Does the published set match cpu_active_mask now? */
static bool avail_matches_linux(void)
{
	ULONG i, active = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	ULONG64 seq;
	KAFFINITY_EX a;
	int cpu;

	KeInitializeAffinityEx(&a);
	if (PsQuerySystemAvailableCpus(&a, NULL, &seq) != STATUS_SUCCESS)
		return false;
	for (i = 0; i < active; i++) {
		cpu = kecpuhp_index_to_cpu(i);
		if (cpu < 0 || !!KeCheckProcessorAffinityEx(&a, i) != cpu_active(cpu))
			return false;
	}
	return true;
}

/*
 * Let the refreshes queued by earlier cases (test_exit() brings CPUs back
 * online) finish: the set matches Linux and the sequence stays put.
 */
static int available_init(struct kunit *test)
{
	ULONG64 seq;
	int ms;

	rec_reset();
	for (ms = 0; ms < AVAIL_WAIT_MS; ms += 100) {
		seq = seq_now();
		msleep(100);
		if (avail_matches_linux() && seq_now() == seq)
			return 0;
	}
	kunit_err(test, "the available set did not settle\n");
	return 0;
}

/* An online processor other than CPU0 to take offline. */
static int victim_cpu(struct kunit *test)
{
	int cpu;

	for_each_online_cpu(cpu)
		if (cpu && kecpuhp_cpu_to_index(cpu) != INVALID_PROCESSOR_INDEX)
			return cpu;
	kunit_skip(test, "no second online processor");
	return -1;
}

/* What the query says, checked against cpu_active_mask. */
static void check_matches_active_mask(struct kunit *test)
{
	ULONG i, active = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS), count, n = 0;
	ULONG64 seq, seq2;
	KAFFINITY_EX a;
	int cpu;

	KeInitializeAffinityEx(&a);
	KUNIT_ASSERT_EQ(test, PsQuerySystemAvailableCpus(&a, NULL, &seq), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, seq & 1, 0ULL);
	KUNIT_EXPECT_EQ(test, a.Count, (USHORT)KeQueryActiveGroupCount());
	for (i = 0; i < active; i++) {
		cpu = kecpuhp_index_to_cpu(i);
		KUNIT_EXPECT_EQ_MSG(test, (bool)KeCheckProcessorAffinityEx(&a, i),
				    cpu_active(cpu), "index %u (CPU%d)", i, cpu);
		n += cpu_active(cpu);
	}
	KUNIT_EXPECT_FALSE(test, KeCheckProcessorAffinityEx(&a, active));
	KUNIT_EXPECT_EQ(test, KeCountSetBitsAffinityEx(&a), n);
	KUNIT_EXPECT_EQ(test, PsQuerySystemAvailableCpusCount(&count, &seq2), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, count, n);
	KUNIT_EXPECT_EQ(test, seq2, seq);
}

static void query_agrees_with_cpu_active_mask(struct kunit *test)
{
	check_matches_active_mask(test);
}

static void no_work_done_on_unchanged_sequence(struct kunit *test)
{
	ULONG64 seq, observed, out = 0;
	KAFFINITY_EX a, pattern;
	NTSTATUS st;

	KeInitializeAffinityEx(&a);
	KUNIT_ASSERT_EQ(test, PsQuerySystemAvailableCpus(&a, NULL, &seq), STATUS_SUCCESS);
	memset(&pattern, 0xa5, sizeof(pattern));
	a = pattern;
	observed = seq;
	st = PsQuerySystemAvailableCpus(&a, &observed, &out);
	KUNIT_EXPECT_EQ(test, st, STATUS_NO_WORK_DONE);
	KUNIT_EXPECT_FALSE(test, NT_SUCCESS(st));
	KUNIT_EXPECT_EQ(test, out, seq);
	KUNIT_EXPECT_EQ(test, memcmp(&a, &pattern, sizeof(a)), 0);
	/* another observed number: a real answer */
	observed = seq + 2;
	KeInitializeAffinityEx(&a);
	KUNIT_EXPECT_EQ(test, PsQuerySystemAvailableCpus(&a, &observed, &out), STATUS_SUCCESS);
	KUNIT_EXPECT_FALSE(test, KeIsEmptyAffinityEx(&a));
}

static void query_bad_arguments(struct kunit *test)
{
	ULONG64 seq;
	ULONG count;
	KAFFINITY_EX a;

	KeInitializeAffinityEx(&a);
	KUNIT_EXPECT_EQ(test, PsQuerySystemAvailableCpus(NULL, NULL, &seq),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, PsQuerySystemAvailableCpus(&a, NULL, NULL),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, PsQuerySystemAvailableCpusCount(NULL, &seq),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, PsQuerySystemAvailableCpusCount(&count, NULL),
			STATUS_INVALID_PARAMETER);
	/* room for no group at all */
	KeInitializeAffinityEx2(&a, 0);
	KUNIT_EXPECT_EQ(test, PsQuerySystemAvailableCpus(&a, NULL, &seq),
			STATUS_BUFFER_TOO_SMALL);
	/* Windows 11 size */
	KeInitializeAffinityEx2(&a, KECPUHP_AFFINITY_EX_WORDS);
	KUNIT_EXPECT_EQ(test, PsQuerySystemAvailableCpus(&a, NULL, &seq), STATUS_SUCCESS);
}

static void affinity_ex_helpers(struct kunit *test)
{
	KAFFINITY_EX a;

	memset(&a, 0xff, sizeof(a));
	KeInitializeAffinityEx(&a);
	KUNIT_EXPECT_EQ(test, a.Count, 1);
	KUNIT_EXPECT_EQ(test, a.Size, 20);
	KUNIT_EXPECT_EQ(test, a.StaticBitmap[19], 0ULL);
	KUNIT_EXPECT_TRUE(test, KeIsEmptyAffinityEx(&a));
	KeAddProcessorAffinityEx(&a, 3);
	KeAddProcessorAffinityEx(&a, 130);
	KUNIT_EXPECT_EQ(test, a.Count, 3);
	KUNIT_EXPECT_EQ(test, a.StaticBitmap[0], BIT_ULL(3));
	KUNIT_EXPECT_EQ(test, a.StaticBitmap[2], BIT_ULL(2));
	KUNIT_EXPECT_TRUE(test, KeCheckProcessorAffinityEx(&a, 130));
	KUNIT_EXPECT_FALSE(test, KeCheckProcessorAffinityEx(&a, 129));
	KUNIT_EXPECT_FALSE(test, KeCheckProcessorAffinityEx(&a, 64 * 40));
	KUNIT_EXPECT_EQ(test, KeCountSetBitsAffinityEx(&a), 2U);
	KeRemoveProcessorAffinityEx(&a, 3);
	KeRemoveProcessorAffinityEx(&a, 64 * 40);	/* beyond Size: ignored */
	KUNIT_EXPECT_EQ(test, KeCountSetBitsAffinityEx(&a), 1U);
	KeAddProcessorAffinityEx(&a, 64 * 20);		/* beyond Size 20: ignored */
	KUNIT_EXPECT_EQ(test, a.StaticBitmap[20], ~0ULL);	/* untouched */
	KeRemoveProcessorAffinityEx(&a, 130);
	KUNIT_EXPECT_TRUE(test, KeIsEmptyAffinityEx(&a));
	KeInitializeAffinityEx2(&a, 32);
	KUNIT_EXPECT_EQ(test, a.Size, 32);
	KUNIT_EXPECT_EQ(test, a.StaticBitmap[31], 0ULL);
	KeAddProcessorAffinityEx(&a, 64 * 31 + 63);
	KUNIT_EXPECT_EQ(test, a.Count, 32);
	KUNIT_EXPECT_TRUE(test, KeCheckProcessorAffinityEx(&a, 64 * 31 + 63));
	KUNIT_EXPECT_TRUE(test, KeIsEmptyAffinityEx(NULL));
}

/* The core case: offline and online each bump by 2 and call everyone. */
static void offline_online_bumps_sequence_and_calls_each(struct kunit *test)
{
	struct avail_reg *r = kunit_kzalloc(test, 2 * sizeof(*r), GFP_KERNEL);
	int cpu = victim_cpu(test);
	ULONG index = kecpuhp_cpu_to_index(cpu);
	ULONG64 s0, s;
	KAFFINITY_EX a;

	KUNIT_ASSERT_NOT_NULL(test, r);
	avail_reg_init(&r[0]);
	avail_reg_init(&r[1]);
	s0 = seq_now();
	avail_register(test, &r[0], &s0);
	avail_register(test, &r[1], NULL);

	KUNIT_ASSERT_EQ(test, test_remove_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE_MSG(test, wait_seq(s0 + 2), "sequence %llu, want %llu", seq_now(),
			      s0 + 2);
	KUNIT_EXPECT_TRUE(test, wait_calls(&r[0], 1));
	KUNIT_EXPECT_TRUE(test, wait_calls(&r[1], 1));
	KeInitializeAffinityEx(&a);
	KUNIT_EXPECT_EQ(test, PsQuerySystemAvailableCpus(&a, NULL, &s), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, s, s0 + 2);
	KUNIT_EXPECT_FALSE(test, KeCheckProcessorAffinityEx(&a, index));
	/* still active for Windows: no processor was removed */
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), index);
	check_matches_active_mask(test);

	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, wait_seq(s0 + 4));
	KUNIT_EXPECT_TRUE(test, wait_calls(&r[0], 2));
	KUNIT_EXPECT_TRUE(test, wait_calls(&r[1], 2));
	KeInitializeAffinityEx(&a);
	KUNIT_EXPECT_EQ(test, PsQuerySystemAvailableCpus(&a, NULL, &s), STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, KeCheckProcessorAffinityEx(&a, index));
	check_matches_active_mask(test);
	/* the calls saw the new sequence: they ran after the change */
	KUNIT_EXPECT_EQ(test, r[0].seq_seen, s0 + 4);
	KUNIT_EXPECT_TRUE(test, r[0].sleepable && r[1].sleepable);
	msleep(100);
	KUNIT_EXPECT_EQ(test, atomic_read(&r[0].calls), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&r[1].calls), 2);
	avail_unregister(&r[0]);
	avail_unregister(&r[1]);
}

static void stale_observed_sequence_calls_back(struct kunit *test)
{
	struct avail_reg *r = kunit_kzalloc(test, 3 * sizeof(*r), GFP_KERNEL);
	ULONG64 stale, current_seq;

	KUNIT_ASSERT_NOT_NULL(test, r);
	avail_reg_init(&r[0]);
	avail_reg_init(&r[1]);
	avail_reg_init(&r[2]);
	current_seq = seq_now();
	stale = current_seq + 1;	/* odd: never current */
	avail_register(test, &r[0], &stale);
	avail_register(test, &r[1], &current_seq);
	avail_register(test, &r[2], NULL);
	KUNIT_EXPECT_TRUE(test, wait_calls(&r[0], 1));
	msleep(100);
	KUNIT_EXPECT_EQ(test, atomic_read(&r[0].calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&r[1].calls), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&r[2].calls), 0);
	avail_unregister(&r[0]);
	avail_unregister(&r[1]);
	avail_unregister(&r[2]);
}

/* Unregister returns only after the running call has returned. */
static void unregister_waits_for_running_call(struct kunit *test)
{
	struct avail_reg *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	ULONG64 stale = 1;

	KUNIT_ASSERT_NOT_NULL(test, r);
	avail_reg_init(r);
	r->hold_first = true;
	r->hold_ms = 300;		/* nobody releases it: it returns on its own */
	avail_register(test, r, &stale);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&r->started,
							    msecs_to_jiffies(AVAIL_WAIT_MS)));
	KUNIT_EXPECT_FALSE(test, READ_ONCE(r->returned));
	avail_unregister(r);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(r->returned));
	KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), 1);
}

/* Changes while a call runs: exactly one more call. */
static void changes_during_a_call_coalesce(struct kunit *test)
{
	struct avail_reg *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	int cpu = victim_cpu(test);
	ULONG64 stale = 1, s0;

	KUNIT_ASSERT_NOT_NULL(test, r);
	avail_reg_init(r);
	r->hold_first = true;
	s0 = seq_now();
	avail_register(test, r, &stale);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&r->started,
							    msecs_to_jiffies(AVAIL_WAIT_MS)));
	KUNIT_ASSERT_EQ(test, test_remove_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, wait_seq(s0 + 2));
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, wait_seq(s0 + 4));
	/* the set is current although the callback is still running */
	check_matches_active_mask(test);
	complete(&r->release);
	KUNIT_EXPECT_TRUE(test, wait_calls(r, 2));
	msleep(200);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), 2);
	avail_unregister(r);
}

static void unregister_from_inside_callback(struct kunit *test)
{
	struct avail_reg *r = kunit_kzalloc(test, 3 * sizeof(*r), GFP_KERNEL);
	int cpu = victim_cpu(test);
	ULONG64 stale = 1, s0;

	KUNIT_ASSERT_NOT_NULL(test, r);
	avail_reg_init(&r[0]);
	avail_reg_init(&r[1]);
	avail_reg_init(&r[2]);
	r[0].unregister_self = true;
	r[1].unregister_other = &r[2];
	/* r[2] is queued behind r[1], which removes it first or after */
	avail_register(test, &r[2], NULL);
	avail_register(test, &r[0], &stale);
	avail_register(test, &r[1], &stale);
	KUNIT_EXPECT_TRUE(test, wait_calls(&r[0], 1));
	KUNIT_EXPECT_TRUE(test, wait_calls(&r[1], 1));
	msleep(50);
	KUNIT_EXPECT_NULL(test, r[0].handle);
	KUNIT_EXPECT_NULL(test, r[2].handle);
	/* a change now calls only r[1] */
	s0 = seq_now();
	KUNIT_ASSERT_EQ(test, test_remove_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, wait_seq(s0 + 2));
	KUNIT_EXPECT_TRUE(test, wait_calls(&r[1], 2));
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, wait_seq(s0 + 4));
	KUNIT_EXPECT_TRUE(test, wait_calls(&r[1], 3));
	KUNIT_EXPECT_EQ(test, atomic_read(&r[0].calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&r[2].calls), 0);
	avail_unregister(&r[1]);
}

static void register_unregister_bad_arguments(struct kunit *test)
{
	PS_AVAILABLE_CPUS_CHANGE_REGISTRATION h = NULL;
	struct avail_reg r;

	avail_reg_init(&r);
	KUNIT_EXPECT_EQ(test, PsRegisterSystemAvailableCpusChangeNotification(NULL, NULL, NULL,
									      &h),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_NULL(test, h);
	KUNIT_EXPECT_EQ(test, PsRegisterSystemAvailableCpusChangeNotification(avail_callback, &r,
									      NULL, NULL),
			STATUS_INVALID_PARAMETER);
	/* logged and ignored: NULL, never given out, already gone */
	PsUnregisterAvailableCpusChangeNotification(NULL);
	PsUnregisterAvailableCpusChangeNotification((PVOID)0xdeadbeefUL);
	avail_register(test, &r, NULL);
	h = r.handle;
	avail_unregister(&r);
	PsUnregisterAvailableCpusChangeNotification(h);
	KUNIT_EXPECT_EQ(test, atomic_read(&r.calls), 0);
}

/* Processor-change callbacks do not hear about offline; this API does. */
static void offline_is_not_a_processor_change(struct kunit *test)
{
	struct test_reg *pr = test_new_reg(test, 1);
	struct avail_reg *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	int cpu = victim_cpu(test);
	ULONG64 s0 = seq_now();

	KUNIT_ASSERT_NOT_NULL(test, r);
	avail_reg_init(r);
	avail_register(test, r, NULL);
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, pr, 0));
	KUNIT_ASSERT_EQ(test, test_remove_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, wait_seq(s0 + 2));
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, wait_seq(s0 + 4));
	KUNIT_EXPECT_TRUE(test, wait_calls(r, 2));
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);
	test_deregister(pr);
	avail_unregister(r);
}

/* --- a module unloaded with a call running and one queued --- */

static bool fixture_here(void)
{
	struct file *f = filp_open(FIXTURE_KO, O_RDONLY, 0);

	if (IS_ERR(f))
		return false;
	filp_close(f, NULL);
	return true;
}

static void module_unloaded_with_call_pending(struct kunit *test)
{
	int cpu = victim_cpu(test);
	ULONG64 s0;

	if (!fixture_here())
		kunit_skip(test, FIXTURE_KO " is not here (run in make check's guest)");
	/* It registers with a stale sequence: a call (1 s long) starts at once. */
	KUNIT_ASSERT_EQ(test, test_run_applet("insmod", FIXTURE_KO, "avail_leak=1"), 0);
	s0 = seq_now();
	/* a change queues a second call behind the running one */
	KUNIT_ASSERT_EQ(test, test_remove_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, wait_seq(s0 + 2));
	KUNIT_ASSERT_EQ(test, test_run_applet("rmmod", "kecpuhp_fixture", NULL), 0);
	/* its text is gone: any later call would oops */
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, wait_seq(s0 + 4));
	msleep(300);
	check_matches_active_mask(test);
}

static struct kunit_case available_cases[] = {
	KUNIT_CASE(query_agrees_with_cpu_active_mask),
	KUNIT_CASE(no_work_done_on_unchanged_sequence),
	KUNIT_CASE(query_bad_arguments),
	KUNIT_CASE(affinity_ex_helpers),
	KUNIT_CASE(offline_online_bumps_sequence_and_calls_each),
	KUNIT_CASE(stale_observed_sequence_calls_back),
	KUNIT_CASE(unregister_waits_for_running_call),
	KUNIT_CASE(changes_during_a_call_coalesce),
	KUNIT_CASE(unregister_from_inside_callback),
	KUNIT_CASE(register_unregister_bad_arguments),
	KUNIT_CASE(offline_is_not_a_processor_change),
	KUNIT_CASE(module_unloaded_with_call_pending),
	{}
};

struct kunit_suite kecpuhp_available_suite = {
	.name = "kecpuhp_available",
	.init = available_init,
	.exit = test_exit,
	.test_cases = available_cases,
};
