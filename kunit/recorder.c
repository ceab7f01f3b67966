// SPDX-License-Identifier: GPL-2.0
/*
 * The notification recorder: hot-add callbacks run in kecpuhp's add
 * thread, so they only record; the test thread asserts afterwards.
 *
 * Every registration a case makes is remembered, and test_exit() (the
 * .exit of every suite, which also runs after a failed assertion)
 * deregisters what is left before KUnit frees the test_reg it points to,
 * and brings back online the CPUs the case took offline.
 */
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/irqflags.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/preempt.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/umh.h>

#include "kecpuhp_test.h"

static DEFINE_SPINLOCK(rec_lock);
static struct rec_event rec_events[REC_MAX_EVENTS];
static unsigned int rec_n;

/* Touched by the test thread only (test_register() runs there). */
static struct test_reg *test_regs[TEST_MAX_REGS];
static unsigned int test_nregs;
static struct cpumask test_offlined;

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

/* What the callback was given, and what the API answers right now. */
static void rec_fill(struct rec_event *e, struct test_reg *r,
		     PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op)
{
	*e = (struct rec_event) {
		.reg = r->id,
		.state = cc->State,
		.index = cc->NtNumber,
		.status = cc->Status,
		.pn = cc->ProcNumber,
		.op = op,
		.op_in = *op,
		.sleepable = !preempt_count() && !irqs_disabled(),
		.task = current,
		.active = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS),
		.back = KeGetProcessorIndexFromNumber(&cc->ProcNumber),
		.index_to_cpu = kecpuhp_index_to_cpu(cc->NtNumber),
		.moved_cpu = -1,
		.kthread = current->flags & PF_KTHREAD,
		.bound = current->flags & PF_NO_SETAFFINITY,
		.nr_allowed = current->nr_cpus_allowed,
	};
	e->resolve = KeGetProcessorNumberFromIndex(cc->NtNumber, &e->resolved);
	e->index_cpu_online = e->index_to_cpu >= 0 && cpu_online(e->index_to_cpu);
	e->allowed_target = e->index_to_cpu >= 0 &&
			    cpumask_test_cpu(e->index_to_cpu, current->cpus_ptr);
	preempt_disable();
	e->cpu = smp_processor_id();
	e->current_index = KeGetCurrentProcessorNumberEx(&e->current_pn);
	preempt_enable();
}

static void rec_store(const struct rec_event *e)
{
	spin_lock(&rec_lock);
	if (rec_n < REC_MAX_EVENTS)
		rec_events[rec_n++] = *e;
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
	if (r->start_write)
		*op = r->start_write;
	if (r->veto)
		*op = r->veto;
}

/* In a KE_PROCESSOR_CHANGE_ADD_EXISTING replay: the handle is not known yet. */
static void test_replay_actions(struct test_reg *r, ULONG index, PNTSTATUS op)
{
	if (r->try_register)
		r->registered_inside = KeRegisterProcessorChangeCallback(test_callback, r, 0);
	if (r->start_write)
		*op = r->start_write;
	if (r->veto_in_replay && index == r->veto_at)
		*op = STATUS_NO_MEMORY;
}

void test_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op)
{
	struct test_reg *r = ctx;
	struct rec_event e;

	rec_fill(&e, r, cc, op);
	if (r->scribble)
		*cc = (KE_PROCESSOR_CHANGE_NOTIFY_CONTEXT) {
			.State = KeProcessorAddFailureNotify + 1,
			.NtNumber = 0xdead,
			.Status = STATUS_INTERNAL_ERROR,
			.ProcNumber = { .Group = 7, .Number = 7, .Reserved = 7 },
		};
	if (e.state != KeProcessorAddStartNotify) {
		if (r->write_after_start)
			*op = r->write_after_start;
		if (e.state == KeProcessorAddCompleteNotify && r->sleep_in_complete)
			usleep_range(1000, 2000);
		/* as HyperPlatform does, without moving back */
		if (e.state == KeProcessorAddCompleteNotify && r->move_in_complete &&
		    e.index_to_cpu >= 0 &&
		    !set_cpus_allowed_ptr(current, cpumask_of(e.index_to_cpu)))
			e.moved_cpu = raw_smp_processor_id();
	} else if (!r->handle) {	/* still inside Register: a replay */
		test_replay_actions(r, e.index, op);
	} else {
		test_start_actions(r, op);
	}
	e.op_out = *op;
	rec_store(&e);
}

void test_reg_init(struct test_reg *r, int id)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
}

/* A test_reg freed by KUnit after the case (and after test_exit()). */
struct test_reg *test_new_reg(struct kunit *test, int id)
{
	struct test_reg *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	test_reg_init(r, id);
	return r;
}

/* Remember @r for test_exit(); a full table is a bug in the test. */
static void test_track(struct kunit *test, struct test_reg *r)
{
	unsigned int i;

	for (i = 0; i < test_nregs; i++)
		if (test_regs[i] == r)
			return;
	if (test_nregs < TEST_MAX_REGS)
		test_regs[test_nregs++] = r;
	else
		KUNIT_FAIL(test, "more than %d registrations in one case", TEST_MAX_REGS);
}

/* Plain code, so it may be called from atomic context too. */
PVOID test_register(struct kunit *test, struct test_reg *r, ULONG flags)
{
	PVOID h;

	test_track(test, r);
	h = KeRegisterProcessorChangeCallback(test_callback, r, flags);
	WRITE_ONCE(r->handle, h);
	return h;
}

void test_deregister(struct test_reg *r)
{
	if (r->handle)
		KeDeregisterProcessorChangeCallback(r->handle);
	r->handle = NULL;
}

/* remove_cpu(), remembered so that test_exit() brings the CPU back. */
int test_remove_cpu(unsigned int cpu)
{
	int ret = remove_cpu(cpu);

	if (!ret)
		cpumask_set_cpu(cpu, &test_offlined);
	return ret;
}

/*
 * The .exit of every suite: nothing a case registered outlives it, even
 * when an assertion ended it early, and no CPU it took offline stays so.
 */
void test_exit(struct kunit *test)
{
	struct test_reg *r;
	unsigned int i, cpu;

	for (i = 0; i < test_nregs; i++) {
		r = test_regs[i];
		/* a Register from a callback that should have failed */
		if (r->registered_inside && r->registered_inside != TEST_NOT_TRIED)
			KeDeregisterProcessorChangeCallback(r->registered_inside);
		r->registered_inside = NULL;
		test_deregister(r);
	}
	test_nregs = 0;
	for_each_cpu(cpu, &test_offlined) {
		if (!cpu_online(cpu) && add_cpu(cpu))
			kunit_err(test, "cannot bring CPU%u back online\n", cpu);
		cpumask_clear_cpu(cpu, &test_offlined);
	}
}

/* The lowest CPU above @prev that is present, offline and unknown to kecpuhp. */
int test_fresh_cpu_after(struct kunit *test, int prev)
{
	unsigned int cpu;

	for_each_present_cpu(cpu)
		if ((int)cpu > prev && !cpu_online(cpu) &&
		    kecpuhp_cpu_to_index(cpu) == INVALID_PROCESSOR_INDEX)
			return cpu;
	kunit_skip(test, "no CPU left that kecpuhp has not numbered (boot with maxcpus=2)");
	return -1;
}

int test_fresh_cpu(struct kunit *test)
{
	return test_fresh_cpu_after(test, -1);
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
 * Hot-add @cpu with a vetoing registration added last: everyone registered
 * gets Start and Failure, and the CPU stays new for the next case.
 * Returns add_cpu()'s result.
 */
int test_vetoed_add_on(struct kunit *test, int cpu)
{
	struct test_reg *v = test_new_reg(test, TEST_VETOER);
	int ret;

	v->veto = STATUS_NO_MEMORY;
	KUNIT_ASSERT_NOT_NULL(test, test_register(test, v, 0));
	ret = add_cpu(cpu);
	test_deregister(v);
	return ret;
}

/* The same on the lowest new CPU; *cpu is the CPU tried. */
int test_vetoed_add(struct kunit *test, int *cpu)
{
	*cpu = test_fresh_cpu(test);
	return test_vetoed_add_on(test, *cpu);
}

/*
 * filp_open() of a sysfs or debugfs @path. Built into the kernel (kunit.py),
 * the suites run at boot before anything mounted /sys: open through a
 * private mount of the file system instead.
 */
struct file *test_open_sys(const char *path, int flags)
{
	static const struct { const char *prefix, *fs; } mounts[] = {
		{ "/sys/kernel/debug/", "debugfs" },
		{ "/sys/", "sysfs" },
	};
	struct file_system_type *type;
	struct vfsmount *mnt;
	struct file *f;
	unsigned int i;

	if (!IS_BUILTIN(CONFIG_KECPUHP_KUNIT_TEST))
		return filp_open(path, flags, 0);
	for (i = 0; i < ARRAY_SIZE(mounts); i++)
		if (str_has_prefix(path, mounts[i].prefix))
			break;
	if (i == ARRAY_SIZE(mounts))
		return ERR_PTR(-ENOENT);
	type = get_fs_type(mounts[i].fs);
	if (!type)
		return ERR_PTR(-ENODEV);
	mnt = vfs_kern_mount(type, SB_KERNMOUNT, mounts[i].fs, NULL);
	module_put(type->owner);
	if (IS_ERR(mnt))
		return ERR_CAST(mnt);
	f = file_open_root_mnt(mnt, path + strlen(mounts[i].prefix), flags, 0);
	mntput(mnt);	/* an open file keeps its own reference */
	return f;
}

/* Run a busybox applet in user space and wait for it. */
int test_run_applet(char *applet, char *arg1, char *arg2)
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

/* A small sysfs or debugfs file into @buf, NUL-terminated; its length or an errno. */
ssize_t test_read_file(const char *path, char *buf, size_t len)
{
	struct file *f = test_open_sys(path, O_RDONLY);
	loff_t pos = 0;
	ssize_t n;

	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_read(f, buf, len - 1, &pos);
	filp_close(f, NULL);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* Write @val to a sysfs or debugfs file: 0 or an errno. */
int test_write_file(const char *path, const char *val)
{
	struct file *f = test_open_sys(path, O_WRONLY);
	loff_t pos = 0;
	ssize_t n;

	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_write(f, val, strlen(val), &pos);
	filp_close(f, NULL);
	return n < 0 ? n : 0;
}
