// SPDX-License-Identifier: GPL-2.0
/*
 * Misuse that needs the world around the test: a driver module unloaded
 * with a live registration (loaded and unloaded through the usermode
 * helper), and allocation failures inside Register (failslab, armed for
 * the test thread only). The guest of make check provides the fixture
 * module in /kecpuhp and debugfs; elsewhere these cases skip.
 */
#include <linux/fault-inject.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/umh.h>

#include "kecpuhp_test.h"

#define FIXTURE_KO	"/kecpuhp/kecpuhp_fixture.ko"
#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define FAILSLAB_FOR_MARKED_TASKS \
	"echo Y > task-filter && echo N > ignore-gfp-wait && echo 0 > verbose && echo -1 > times"

static int lifecycle_init(struct kunit *test)
{
	rec_reset();
	return 0;
}

/* Run a busybox applet in user space and wait for it. */
static int run_applet(char *applet, char *arg1, char *arg2)
{
	char *argv[5], *envp[2];

	argv[0] = "/bin/busybox";
	argv[1] = applet;
	argv[2] = arg1;
	argv[3] = arg2;
	argv[4] = NULL;
	envp[0] = "PATH=/bin:/sbin";
	envp[1] = NULL;
	return call_usermodehelper(argv[0], argv, envp, UMH_WAIT_PROC);
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

/* Unloaded without deregistering: kecpuhp deregisters it, nothing calls it. */
static void module_unloaded_with_live_registration(struct kunit *test)
{
	int cpu;

	if (!file_exists(FIXTURE_KO))
		kunit_skip(test, FIXTURE_KO " is not here (run in make check's guest)");
	KUNIT_ASSERT_EQ(test, run_applet("insmod", FIXTURE_KO, "leak=1"), 0);
	KUNIT_EXPECT_EQ(test, test_vetoed_add(test, &cpu), -ENOMEM);
	/* Start and Failure reached the fixture: it was registered */
	KUNIT_EXPECT_EQ(test, read_number("/sys/module/kecpuhp_fixture/parameters/calls"), 2);
	KUNIT_ASSERT_EQ(test, run_applet("rmmod", "kecpuhp_fixture", NULL), 0);
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
		return run_applet("sh", "-c", "echo 0 > " FAILSLAB "probability");
	cmd = kasprintf(GFP_KERNEL, "cd %s && %s && echo %s > space && echo 100 > probability",
			FAILSLAB, FAILSLAB_FOR_MARKED_TASKS, space);
	if (!cmd)
		return -ENOMEM;
	ret = run_applet("sh", "-c", cmd);
	kfree(cmd);
	return ret;
}

/* Register with its allocations failing, then (failslab off) once more. */
static void register_allocation_failure(struct kunit *test)
{
	static const char * const spaces[] = { "0", "64", "200" };
	struct test_reg *r = test_new_reg(test, 1);
	unsigned int i;
	PVOID h;

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

static struct kunit_case lifecycle_cases[] = {
	KUNIT_CASE(module_unloaded_with_live_registration),
	KUNIT_CASE(register_allocation_failure),
	{}
};

struct kunit_suite kecpuhp_lifecycle_suite = {
	.name = "kecpuhp_lifecycle",
	.init = lifecycle_init,
	.exit = test_exit,
	.test_cases = lifecycle_cases,
};
