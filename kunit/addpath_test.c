// SPDX-License-Identifier: GPL-2.0
/*
 * The add path's own rules, on real hotplug: an add parked between Start
 * and Complete with the per-CPU hotplug/target control (completed, or
 * rolled back), a second add refused while one is parked, and a failure in
 * a state after kecpuhp's online state, which comes after Complete.
 *
 * Parking needs CONFIG_CPU_HOTPLUG_STATE_CONTROL and a CPU present at boot
 * (a hot-added CPU has no hotplug/ directory); the guest boots with
 * maxcpus=2, so the CPUs it has not onlined qualify. Elsewhere the parking
 * cases skip. Two cases use a new CPU up for good.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "kecpuhp_test.h"

#define CPUHP_STATES	"/sys/devices/system/cpu/hotplug/states"

static int addpath_fail_state;
static int addpath_fail_cpu = -1;

/* An online state placed after kecpuhp's: a failure after Complete. */
static int addpath_fail_online(unsigned int cpu)
{
	return READ_ONCE(addpath_fail_cpu) == cpu ? -EIO : 0;
}

static int addpath_suite_init(struct kunit_suite *suite)
{
	int ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "kecpuhp/test:fail-online",
					    addpath_fail_online, NULL);

	if (ret < 0)
		return ret;
	addpath_fail_state = ret;
	return 0;
}

static void addpath_suite_exit(struct kunit_suite *suite)
{
	cpuhp_remove_state_nocalls(addpath_fail_state);
}

static int addpath_init(struct kunit *test)
{
	rec_reset();
	return 0;
}

static int set_target(unsigned int cpu, int value);
static int addpath_parked = -1;	/* the CPU a case parked, until it is done */

/* A case that failed half-way must not leave an add parked for the next. */
static void addpath_exit(struct kunit *test)
{
	if (addpath_parked >= 0)
		set_target(addpath_parked, CPUHP_OFFLINE);
	addpath_parked = -1;
	test_exit(test);
}

/* Write "@value" to the hotplug/target of @cpu: park it at that state. */
static int set_target(unsigned int cpu, int value)
{
	char path[64], val[16];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/hotplug/target", cpu);
	snprintf(val, sizeof(val), "%d", value);
	return test_write_file(path, val);
}

/* kecpuhp's prepare state, from the kernel's list of states. */
static int shim_prepare_state(struct kunit *test)
{
	char *buf = kunit_kzalloc(test, 2 * PAGE_SIZE, GFP_KERNEL), *name, *line;
	int state, found;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	if (test_read_file(CPUHP_STATES, buf, 2 * PAGE_SIZE) <= 0)
		kunit_skip(test, "no " CPUHP_STATES);
	name = strstr(buf, ": kecpuhp:prepare\n");
	KUNIT_ASSERT_NOT_NULL(test, name);
	for (line = name; line > buf && line[-1] != '\n'; line--)
		;
	found = sscanf(line, "%d:", &state);
	KUNIT_ASSERT_EQ(test, found, 1);
	return state;
}

/* Park @cpu right after kecpuhp's Start: its add is in flight. */
static void park_after_start(struct kunit *test, int cpu)
{
	int ret = set_target(cpu, shim_prepare_state(test));

	if (!ret)
		addpath_parked = cpu;
	if (ret == -ENOENT || ret == -EINVAL)
		kunit_skip(test, "cpu%d/hotplug/target cannot park at a prepare state (%d): %s",
			   cpu, ret,
			   "needs CONFIG_CPU_HOTPLUG_STATE_CONTROL and a CPU present at boot");
	KUNIT_ASSERT_EQ(test, ret, 0);
}

static ULONG active(void)
{
	return KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
}

/* Parked after Start: B is refused cleanly; A's online then completes A. */
static void parked_add_completes(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	int a = test_fresh_cpu(test), b = test_fresh_cpu_after(test, a);
	ULONG index = active();
	PROCESSOR_NUMBER pn;

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, 0));
	park_after_start(test, a);
	KUNIT_ASSERT_EQ(test, rec_count(), 1U);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, index);
	KUNIT_EXPECT_FALSE(test, cpu_online(a));
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(a), index);
	KUNIT_EXPECT_EQ(test, KeGetProcessorNumberFromIndex(index, &pn), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, active(), index);

	/* one add at a time: B gets nothing, not even Start */
	KUNIT_EXPECT_EQ(test, add_cpu(b), -EPERM);
	KUNIT_EXPECT_FALSE(test, cpu_online(b));
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(b), INVALID_PROCESSOR_INDEX);
	KUNIT_EXPECT_EQ(test, rec_count(), 1U);

	KUNIT_ASSERT_EQ(test, add_cpu(a), 0);
	addpath_parked = -1;
	KUNIT_ASSERT_EQ(test, rec_count(), 2U);
	test_expect_event(test, 1, 1, KeProcessorAddCompleteNotify, index);
	KUNIT_EXPECT_PTR_EQ(test, rec_get(1)->task, rec_get(0)->task);
	KUNIT_EXPECT_EQ(test, active(), index + 1);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(a), index);
}

/* Parked after Start, then rolled back: Failure, and the index goes to B. */
static void parked_add_rolled_back(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	int a = test_fresh_cpu(test), b = test_fresh_cpu_after(test, a);
	ULONG index = active();

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, 0));
	park_after_start(test, a);
	KUNIT_EXPECT_EQ(test, add_cpu(b), -EPERM);
	KUNIT_ASSERT_EQ(test, set_target(a, CPUHP_OFFLINE), 0);
	addpath_parked = -1;
	KUNIT_ASSERT_EQ(test, rec_count(), 2U);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, index);
	test_expect_event(test, 1, 1, KeProcessorAddFailureNotify, index);
	KUNIT_EXPECT_EQ(test, rec_get(1)->status, STATUS_UNSUCCESSFUL);
	KUNIT_EXPECT_PTR_EQ(test, rec_get(1)->task, rec_get(0)->task);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(a), INVALID_PROCESSOR_INDEX);
	KUNIT_EXPECT_EQ(test, active(), index);

	/* B is added (and vetoed) with the index A gave back */
	rec_reset();
	KUNIT_EXPECT_EQ(test, test_vetoed_add_on(test, b), -ENOMEM);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, index);
	KUNIT_EXPECT_EQ(test, rec_get(0)->index_to_cpu, b);
}

/* A registration made while an add is parked does not hear of it. */
static void parked_add_new_registration_not_told(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	struct test_reg *late = test_new_reg(test, 2);
	int a = test_fresh_cpu(test);
	ULONG index = active();

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, 0));
	park_after_start(test, a);
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, late, 0));
	KUNIT_ASSERT_EQ(test, set_target(a, CPUHP_OFFLINE), 0);
	addpath_parked = -1;
	KUNIT_EXPECT_EQ(test, rec_count_of(1, KeProcessorAddFailureNotify), 1U);
	KUNIT_EXPECT_EQ(test, rec_count_of(2, KeProcessorAddStartNotify), 0U);
	KUNIT_EXPECT_EQ(test, rec_count_of(2, KeProcessorAddFailureNotify), 0U);
	KUNIT_EXPECT_EQ(test, active(), index);
}

/*
 * A state after kecpuhp's online state fails: the drivers had Start and
 * Complete, the CPU stays offline, and the index stays active (Windows
 * never withdraws one); the next online is a plain re-online.
 */
static void failure_after_complete(struct kunit *test)
{
	struct test_reg *r = test_new_reg(test, 1);
	int cpu = test_fresh_cpu(test), ret;
	ULONG index = active();

	KUNIT_ASSERT_NOT_NULL(test, test_register(test, r, 0));
	WRITE_ONCE(addpath_fail_cpu, cpu);
	ret = add_cpu(cpu);
	WRITE_ONCE(addpath_fail_cpu, -1);
	KUNIT_EXPECT_EQ(test, ret, -EIO);
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
	KUNIT_ASSERT_EQ(test, rec_count(), 2U);
	test_expect_event(test, 0, 1, KeProcessorAddStartNotify, index);
	test_expect_event(test, 1, 1, KeProcessorAddCompleteNotify, index);
	KUNIT_EXPECT_EQ(test, kecpuhp_cpu_to_index(cpu), index);
	KUNIT_EXPECT_EQ(test, active(), index + 1);

	KUNIT_EXPECT_EQ(test, add_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, cpu_online(cpu));
	KUNIT_EXPECT_EQ(test, rec_count(), 2U);
}

static struct kunit_case addpath_cases[] = {
	KUNIT_CASE(parked_add_rolled_back),
	KUNIT_CASE(parked_add_new_registration_not_told),
	KUNIT_CASE(parked_add_completes),
	KUNIT_CASE(failure_after_complete),
	{}
};

struct kunit_suite kecpuhp_addpath_suite = {
	.name = "kecpuhp_addpath",
	.suite_init = addpath_suite_init,
	.suite_exit = addpath_suite_exit,
	.init = addpath_init,
	.exit = addpath_exit,
	.test_cases = addpath_cases,
};
