// SPDX-License-Identifier: GPL-2.0
/*
 * Misuse that needs the world around the test: driver modules unloaded
 * with live registrations (loaded and unloaded through the usermode
 * helper), whether the module made the registration or holds its
 * callback; module unloads and loads while a notification pass runs; and
 * allocation failures inside Register (failslab, armed for the test thread
 * only). The guest of make check provides the fixture modules in /kecpuhp
 * and debugfs; elsewhere these cases skip, and so they do built into the
 * kernel (kunit.py), where the suites run at boot, before user space.
 */
#include <linux/delay.h>
#include <linux/fault-inject.h>
#include <linux/fs.h>
#include <linux/kmod.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/umh.h>

#include "kecpuhp_test.h"

#define FIXTURE_KO	"/kecpuhp/kecpuhp_fixture.ko"
#define HELPER_KO	"/kecpuhp/kecpuhp_test_helper.ko"
#define HELPER		"kecpuhp_test_helper"
#define MODPROBE	"/proc/sys/kernel/modprobe"
#define MODPROBE_FIXTURE "/kecpuhp/modprobe-fixture.sh"

#define HELPER_PARAM	"/sys/module/" HELPER "/parameters/"

static atomic_t helper_calls = ATOMIC_INIT(0);

/* The callback kecpuhp_test_helper registers in mode=caller. */
static VOID test_helper_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc,
				 PNTSTATUS op)
{
	atomic_inc(&helper_calls);
}

#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define FAILSLAB_FOR_MARKED_TASKS \
	"echo Y > task-filter && echo N > ignore-gfp-wait && echo 0 > verbose && echo -1 > times"

static int lifecycle_init(struct kunit *test)
{
	rec_reset();
	return 0;
}

static bool file_exists(const char *path)
{
	struct file *f = filp_open(path, O_RDONLY, 0);

	if (IS_ERR(f))
		return false;
	filp_close(f, NULL);
	return true;
}

/* Arm fault injection (failslab's task-filter) for this task only. */
static void make_it_fail(bool fail)
{
#ifdef CONFIG_FAULT_INJECTION
	current->make_it_fail = fail;
#endif
}

static long read_number(const char *path)
{
	struct file *f = filp_open(path, O_RDONLY, 0);
	char buf[24] = "";
	loff_t pos = 0;
	long v = -1;

	if (IS_ERR(f))
		return PTR_ERR(f);
	if (kernel_read(f, buf, sizeof(buf) - 1, &pos) > 0 && kstrtol(strim(buf), 10, &v))
		v = -1;
	filp_close(f, NULL);
	return v;
}

static unsigned long read_ulong(const char *path)
{
	struct file *f = filp_open(path, O_RDONLY, 0);
	char buf[24] = "";
	unsigned long v = 0;
	loff_t pos = 0;

	if (IS_ERR(f))
		return 0;
	if (kernel_read(f, buf, sizeof(buf) - 1, &pos) > 0 && kstrtoul(strim(buf), 10, &v))
		v = 0;
	filp_close(f, NULL);
	return v;
}

/* Unloaded without deregistering: kecpuhp deregisters it, nothing calls it. */
static void module_unloaded_with_live_registration(struct kunit *test)
{
	int cpu;

	if (IS_BUILTIN(CONFIG_KECPUHP_KUNIT_TEST))
		kunit_skip(test, "built into the kernel (kunit.py): no module to load or unload");
	if (!file_exists(FIXTURE_KO))
		kunit_skip(test, FIXTURE_KO " is not here (run in make check's guest)");
	KUNIT_ASSERT_EQ(test, test_run_applet("insmod", FIXTURE_KO, "leak=1"), 0);
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	/* Start and Failure reached the fixture: it was registered */
	KUNIT_EXPECT_EQ(test, read_number("/sys/module/kecpuhp_fixture/parameters/calls"), 2);
	KUNIT_ASSERT_EQ(test, test_run_applet("rmmod", "kecpuhp_fixture", NULL), 0);
	/* its text is gone: a hot-add that still called it would oops here */
	rec_reset();
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_EXPECT_EQ(test, rec_count_of(TEST_VETOER, KeProcessorAddFailureNotify), 1U);
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
}

/*
 * failslab for tasks that ask for it, failing once @space bytes were
 * allocated. Its debugfs files have no write_iter, so kernel_write() cannot
 * set them: a shell does.
 */
static int failslab_set(const char *space)
{
	char *cmd;
	int ret;

	if (!space)
		return test_run_applet("sh", "-c", "echo 0 > " FAILSLAB "probability");
	cmd = kasprintf(GFP_KERNEL, "cd %s && %s && echo %s > space && echo 100 > probability",
			FAILSLAB, FAILSLAB_FOR_MARKED_TASKS, space);
	if (!cmd)
		return -ENOMEM;
	ret = test_run_applet("sh", "-c", cmd);
	kfree(cmd);
	return ret;
}

/* Register with its allocations failing, then (failslab off) once more. */
static void register_allocation_failure(struct kunit *test)
{
	static const char * const spaces[] = { "0", "32" };
	struct test_reg *r = test_new_reg(test, 1);
	unsigned int i;
	PVOID h;

	if (IS_BUILTIN(CONFIG_KECPUHP_KUNIT_TEST))
		kunit_skip(test, "built in (kunit.py): runs before the user space failslab needs");
	if (!IS_ENABLED(CONFIG_FAILSLAB) || !file_exists(FAILSLAB "probability"))
		kunit_skip(test, "no failslab in debugfs");
	for (i = 0; i < ARRAY_SIZE(spaces); i++) {
		KUNIT_ASSERT_EQ(test, failslab_set(spaces[i]), 0);
		make_it_fail(true);
		h = KeRegisterProcessorChangeCallback(test_callback, r,
						      KE_PROCESSOR_CHANGE_ADD_EXISTING);
		make_it_fail(false);
		KUNIT_EXPECT_EQ(test, failslab_set(NULL), 0);
		KUNIT_EXPECT_NULL_MSG(test, h, "failslab space %s", spaces[i]);
		if (h)
			KeDeregisterProcessorChangeCallback(h);
	}
	KUNIT_EXPECT_EQ(test, rec_count(), 0U);		/* no replay began */
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, KE_PROCESSOR_CHANGE_ADD_EXISTING));
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddCompleteNotify),
			KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS));
	test_deregister(r);
}

static void need_helper(struct kunit *test)
{
	if (IS_BUILTIN(CONFIG_KECPUHP_KUNIT_TEST))
		kunit_skip(test, "built in (kunit.py): no helper module to load or unload");
	if (!file_exists(HELPER_KO))
		kunit_skip(test, HELPER_KO " is not here (run in make check's guest)");
}

/* Made by a helper module, callback in this one: cleaned up with the helper. */
static void registration_cleaned_with_its_caller(struct kunit *test)
{
	int cpu, calls;

	char *cmd;
	int ret;

	need_helper(test);
	atomic_set(&helper_calls, 0);
	cmd = kasprintf(GFP_KERNEL, "insmod %s mode=caller cb=%lu", HELPER_KO,
			(unsigned long)test_helper_callback);
	KUNIT_ASSERT_NOT_NULL(test, cmd);
	ret = test_run_applet("sh", "-c", cmd);
	kfree(cmd);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_EXPECT_EQ(test, atomic_read(&helper_calls), 2);	/* Start, Failure */
	KUNIT_ASSERT_EQ(test, test_run_applet("rmmod", HELPER, NULL), 0);
	/* the caller's context may be gone: nothing may call the callback now */
	calls = atomic_read(&helper_calls);
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_EXPECT_EQ(test, atomic_read(&helper_calls), calls);
}

/* Made by this module, callback in a helper: cleaned up with the helper. */
static void registration_cleaned_with_its_callback(struct kunit *test)
{
	PPROCESSOR_CALLBACK_FUNCTION fn;
	int cpu;
	PVOID h;

	need_helper(test);
	rec_reset();
	KUNIT_ASSERT_EQ(test, test_run_applet("insmod", HELPER_KO, "mode=callee"), 0);
	fn = (PPROCESSOR_CALLBACK_FUNCTION)read_ulong(HELPER_PARAM "callback");
	KUNIT_ASSERT_NOT_NULL(test, fn);
	h = KeRegisterProcessorChangeCallback(fn, NULL, 0);
	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_EXPECT_EQ(test, read_number(HELPER_PARAM "calls"), 2);	/* Start, Failure */
	KUNIT_ASSERT_EQ(test, test_run_applet("rmmod", HELPER, NULL), 0);
	/* its text is gone: a hot-add that still called it would oops here */
	rec_reset();
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	KUNIT_EXPECT_EQ(test, rec_count_of(TEST_VETOER, KeProcessorAddFailureNotify), 1U);
}

/* A replay whose first Start sleeps, and a task to run it. */
struct slow_replay {
	struct completion in_callback;
	struct completion done;
	PVOID handle;
	bool sleeping;
};

static VOID slow_replay_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc,
				 PNTSTATUS op)
{
	struct slow_replay *s = ctx;

	if (cc->State != KeProcessorAddStartNotify || cc->NtNumber)
		return;
	WRITE_ONCE(s->sleeping, true);
	complete(&s->in_callback);
	msleep(2000);
	WRITE_ONCE(s->sleeping, false);
}

static int slow_replay_thread(void *arg)
{
	struct slow_replay *s = arg;

	s->handle = KeRegisterProcessorChangeCallback(slow_replay_callback, s,
						      KE_PROCESSOR_CHANGE_ADD_EXISTING);
	complete(&s->done);
	return 0;
}

/* An unrelated module unloads at once while a callback sleeps 2 s in a pass. */
static void unrelated_unload_does_not_wait_for_a_pass(struct kunit *test)
{
	struct slow_replay *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	struct task_struct *t;
	ktime_t t0;
	s64 ms;

	need_helper(test);
	KUNIT_ASSERT_NOT_NULL(test, s);
	init_completion(&s->in_callback);
	init_completion(&s->done);
	KUNIT_ASSERT_EQ(test, test_run_applet("insmod", HELPER_KO, "mode=none"), 0);
	t = kthread_run(slow_replay_thread, s, "kecpuhp-test-slow");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	wait_for_completion(&s->in_callback);
	t0 = ktime_get();
	KUNIT_EXPECT_EQ(test, test_run_applet("rmmod", HELPER, NULL), 0);
	ms = ktime_ms_delta(ktime_get(), t0);
	KUNIT_EXPECT_TRUE_MSG(test, READ_ONCE(s->sleeping),
			      "rmmod took %lld ms: it waited for the pass", ms);
	wait_for_completion(&s->done);
	KUNIT_EXPECT_NOT_NULL(test, s->handle);
	if (s->handle)
		KeDeregisterProcessorChangeCallback(s->handle);
}

/* Write @path through a shell: /proc/sys files are set like this in the guest. */
static int write_proc(const char *path, const char *value)
{
	char *cmd = kasprintf(GFP_KERNEL, "echo %s > %s", value, path);
	int ret;

	if (!cmd)
		return -ENOMEM;
	ret = test_run_applet("sh", "-c", cmd);
	kfree(cmd);
	return ret;
}

static int request_module_ret;

/* As a driver's Start might: pull in a helper module whose init fails. */
static VOID request_module_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc,
				    PNTSTATUS op)
{
	if (cc->State == KeProcessorAddStartNotify && !cc->NtNumber)
		request_module_ret = request_module(HELPER);
}

/*
 * request_module() from a replay callback, the module's init failing: its
 * unload must not wait for the replay that waits for it.
 */
static void request_module_in_replay_completes(struct kunit *test)
{
	PVOID h;

	need_helper(test);
	if (!file_exists(MODPROBE_FIXTURE))
		kunit_skip(test, MODPROBE_FIXTURE " is not here");
	KUNIT_ASSERT_EQ(test, write_proc(MODPROBE, MODPROBE_FIXTURE), 0);
	request_module_ret = 0;
	h = KeRegisterProcessorChangeCallback(request_module_callback, NULL,
					      KE_PROCESSOR_CHANGE_ADD_EXISTING);
	KUNIT_EXPECT_EQ(test, write_proc(MODPROBE, "/sbin/modprobe"), 0);
	KUNIT_EXPECT_NOT_NULL(test, h);
	/* modprobe ran, and the module's init failed */
	KUNIT_EXPECT_NE(test, request_module_ret, 0);
	KUNIT_EXPECT_FALSE(test, file_exists("/sys/module/" HELPER));
	if (h)
		KeDeregisterProcessorChangeCallback(h);
}

static struct kunit_case lifecycle_cases[] = {
	KUNIT_CASE(module_unloaded_with_live_registration),
	KUNIT_CASE(registration_cleaned_with_its_caller),
	KUNIT_CASE(registration_cleaned_with_its_callback),
	KUNIT_CASE(unrelated_unload_does_not_wait_for_a_pass),
	KUNIT_CASE(request_module_in_replay_completes),
	KUNIT_CASE(register_allocation_failure),
	{}
};

struct kunit_suite kecpuhp_lifecycle_suite = {
	.name = "kecpuhp_lifecycle",
	.init = lifecycle_init,
	.exit = test_exit,
	.test_cases = lifecycle_cases,
};
