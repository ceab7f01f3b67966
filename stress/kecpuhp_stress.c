// SPDX-License-Identifier: GPL-2.0
/*
 * Stress test for kecpuhp, run in a guest with CPUs the shim has not seen.
 *
 * Worker threads register and deregister in a loop, with and without
 * KE_PROCESSOR_CHANGE_ADD_EXISTING; some registrations veto, some
 * deregister themselves from inside their callback, some try to register
 * from inside it. Meanwhile a hotplug thread takes CPUs offline and online
 * and adds new ones, parks a new CPU's add between Start and Complete (the
 * per-CPU hotplug/target control) and later completes or rolls it back,
 * and two cpuhp states of this module make bring-ups fail at random: after
 * the shim's Start, and after its Complete. Every registration checks its
 * own view:
 *  - per index, at most one Start at a time, and Start carries the index
 *    that the active count says comes next;
 *  - every Start is followed by exactly one Complete or Failure (unless the
 *    registration deregistered itself in that Start), from the same task;
 *  - Complete only for an index that is active, in order, with no index
 *    missed after the ADD_EXISTING replay;
 *  - nothing after Deregister returned;
 *  - the ADD_EXISTING replay is Start 0..N-1, Complete 0..N-1 for the N
 *    active processors, or Start 0..k, Failure 0..k-1 on a veto at k.
 * One more thread registers and unregisters available-CPUs callbacks
 * (Windows 11 24H2) during all this, some with a stale sequence number,
 * some unregistering themselves from inside the callback; every call
 * must come in process context, before Unregister returned, and see an
 * even sequence number and a set that agrees with its count.
 * A further thread (run=1) runs code on processors during all that: DPCs
 * aimed at random processors, removed and flushed at random, thread
 * affinity switches and KeGenericCallDpc() with its barrier; see
 * stress_run_worker().
 * insmod runs it for duration_s seconds and prints its figures; the result
 * is "violations=0" or not.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <kecpuhp/wdm.h>

static unsigned int duration_s = 60;
module_param(duration_s, uint, 0444);
MODULE_PARM_DESC(duration_s, "how long to run, in seconds");
static unsigned int workers = 4;
module_param(workers, uint, 0444);
MODULE_PARM_DESC(workers, "registering threads");
static bool run = true;
module_param(run, bool, 0444);
MODULE_PARM_DESC(run, "also run DPCs, affinity switches and generic calls");
static unsigned int fail_percent = 60;
module_param(fail_percent, uint, 0444);
MODULE_PARM_DESC(fail_percent, "how often a new CPU's bring-up is made to fail");
static unsigned int fail_online_percent = 20;
module_param(fail_online_percent, uint, 0444);
MODULE_PARM_DESC(fail_online_percent, "how often an online fails after the shim's Complete");
static unsigned int park_percent = 40;
module_param(park_percent, uint, 0444);
MODULE_PARM_DESC(park_percent, "how often a new CPU's add is parked after Start");

#define STRESS_NONE	U32_MAX

struct stress_reg {
	PVOID handle;			/* xchg'ed: whoever takes it deregisters */
	struct task_struct *owner;	/* replays run in the registering task */
	bool done;			/* Deregister has returned */
	bool veto, self_dereg, reenter;
	u32 pending;			/* index with Start not yet finished */
	bool pending_parked;		/* that add may be parked: no end promised */
	struct task_struct *start_task;	/* that Start's task: compared only */
	u32 next;			/* next index to complete, or NONE */
	u32 replay_n, replay_start, replay_complete, replay_fail;
	bool dropped_in_start;
};

static atomic_long_t stress_regs, stress_hotplug_ops, stress_notes, stress_violations;
/* Odd while a hotplug operation is in progress. */
static atomic_t stress_hotplug_seq = ATOMIC_INIT(0);
static atomic_long_t stress_parks, stress_refused;
static atomic_long_t stress_avail_regs, stress_avail_calls;
static int stress_fail_state, stress_fail_online_state;
static int stress_shim_prepare = -1;	/* the shim's prepare state */
static int stress_parked = -1;		/* the CPU parked after Start */
static bool stress_parking;		/* a park was asked for and may hold */
/* CPUs whose add is parked: no failure above a parked state, see below. */
static struct cpumask stress_parked_mask;
static unsigned long stress_deadline;

static bool stress_chance(unsigned int percent)
{
	return get_random_u32() % 100 < percent;
}

#define stress_violation(fmt, ...) do {					\
	atomic_long_inc(&stress_violations);					\
	pr_err("kecpuhp_stress: VIOLATION %s: " fmt "\n", __func__, ##__VA_ARGS__); \
} while (0)

static void stress_replay(struct stress_reg *s, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc,
			  PNTSTATUS op)
{
	u32 i = cc->NtNumber;

	switch (cc->State) {
	case KeProcessorAddStartNotify:
		if (s->replay_start == 0)
			s->replay_n = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
		if (i != s->replay_start || s->replay_complete || *op != STATUS_SUCCESS)
			stress_violation("replay Start %u, expected %u", i, s->replay_start);
		s->replay_start++;
		if (s->veto && stress_chance(20))
			*op = STATUS_NO_MEMORY;
		break;
	case KeProcessorAddCompleteNotify:
		if (i != s->replay_complete || s->replay_start != s->replay_n)
			stress_violation("replay Complete %u, expected %u", i,
					 s->replay_complete);
		s->replay_complete++;
		break;
	case KeProcessorAddFailureNotify:
		if (i != s->replay_fail || cc->Status != STATUS_NO_MEMORY)
			stress_violation("replay Failure %u, expected %u", i, s->replay_fail);
		s->replay_fail++;
		break;
	}
}

static VOID stress_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op);

/* A hot-add Start: check it, then maybe misbehave. */
static void stress_start(struct stress_reg *s, u32 i, PNTSTATUS op)
{
	PVOID h;

	if (s->pending != STRESS_NONE)
		stress_violation("Start %u while %u is pending", i, s->pending);
	if (i != KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS) ||
	    (s->next != STRESS_NONE && i != s->next))
		stress_violation("Start %u, active %u, next %u", i,
				 KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS), s->next);
	s->pending = i;
	s->pending_parked = READ_ONCE(stress_parking);
	s->start_task = current;
	if (s->reenter && KeRegisterProcessorChangeCallback(stress_callback, s, 0))
		stress_violation("Register from a callback succeeded");
	if (s->veto && stress_chance(50) && NT_SUCCESS(*op))
		*op = STATUS_INSUFFICIENT_RESOURCES;
	if (s->self_dereg && stress_chance(30)) {
		h = xchg(&s->handle, NULL);
		if (h) {
			KeDeregisterProcessorChangeCallback(h);
			s->dropped_in_start = true;
			WRITE_ONCE(s->done, true);
		}
	}
}

/* Complete or Failure comes from the task that delivered the Start. */
static void stress_same_task(struct stress_reg *s, u32 i)
{
	if (s->start_task != current)
		stress_violation("index %u: Start and its end from two tasks", i);
}

static VOID stress_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op)
{
	struct stress_reg *s = ctx;
	PROCESSOR_NUMBER pn;
	u32 i = cc->NtNumber;

	atomic_long_inc(&stress_notes);
	if (READ_ONCE(s->done))
		stress_violation("state %d index %u after Deregister returned", cc->State, i);
	if (!NT_SUCCESS(KeGetProcessorNumberFromIndex(i, &pn)) ||
	    pn.Group != cc->ProcNumber.Group || pn.Number != cc->ProcNumber.Number)
		stress_violation("index %u does not resolve", i);
	if (current == s->owner) {
		stress_replay(s, cc, op);
		return;
	}
	switch (cc->State) {
	case KeProcessorAddStartNotify:
		stress_start(s, i, op);
		break;
	case KeProcessorAddCompleteNotify:
		if (s->pending != i || i >= KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS))
			stress_violation("Complete %u, pending %u", i, s->pending);
		stress_same_task(s, i);
		s->pending = STRESS_NONE;
		s->next = i + 1;
		break;
	case KeProcessorAddFailureNotify:
		if (s->pending != i)
			stress_violation("Failure %u, pending %u", i, s->pending);
		stress_same_task(s, i);
		s->pending = STRESS_NONE;
		break;
	}
}

/* After Register returned: the replay must match what it returned. */
static void stress_check_registered(struct stress_reg *s, ULONG flags, PVOID h)
{
	if (!(flags & KE_PROCESSOR_CHANGE_ADD_EXISTING)) {
		if (!h || s->replay_start)
			stress_violation("flags 0: handle %d, %u Starts", !!h, s->replay_start);
		return;
	}
	if (h && (s->replay_start != s->replay_n || s->replay_complete != s->replay_n ||
		  s->replay_fail))
		stress_violation("replay of %u: %u Start, %u Complete, %u Failure",
				 s->replay_n, s->replay_start, s->replay_complete, s->replay_fail);
	if (!h && (s->replay_fail + 1 != s->replay_start || s->replay_complete))
		stress_violation("vetoed replay: %u Start, %u Complete, %u Failure",
				 s->replay_start, s->replay_complete, s->replay_fail);
	s->next = s->replay_n;
}

static void stress_one_registration(void)
{
	struct stress_reg *s = kzalloc(sizeof(*s), GFP_KERNEL);
	ULONG flags = stress_chance(50) ? KE_PROCESSOR_CHANGE_ADD_EXISTING : 0;
	PVOID h;

	if (!s)
		return;
	s->owner = current;
	s->pending = STRESS_NONE;
	s->next = STRESS_NONE;
	s->veto = stress_chance(15);
	s->self_dereg = stress_chance(15);
	s->reenter = stress_chance(10);
	h = KeRegisterProcessorChangeCallback(stress_callback, s, flags);
	atomic_long_inc(&stress_regs);
	stress_check_registered(s, flags, h);
	if (h) {
		WRITE_ONCE(s->handle, h);
		msleep(get_random_u32() % 20);
		h = xchg(&s->handle, NULL);
	}
	if (h) {
		KeDeregisterProcessorChangeCallback(h);
		WRITE_ONCE(s->done, true);
	} else {
		/* Dropped in a callback: wait for that hotplug operation to end. */
		cpus_read_lock();
		cpus_read_unlock();
	}
	/* Deregister waits for an add in progress, but not for a parked one. */
	if (s->pending != STRESS_NONE && !s->dropped_in_start && !s->pending_parked)
		stress_violation("Start %u never finished", s->pending);
	kfree(s);
}

static int stress_worker(void *unused)
{
	while (time_before(jiffies, READ_ONCE(stress_deadline)))
		stress_one_registration();
	return 0;
}

/* --- issue 13: available-CPUs registrations against hotplug --- */
struct stress_avail {
	PS_AVAILABLE_CPUS_CHANGE_REGISTRATION handle;	/* xchg'ed, as above */
	bool done;			/* Unregister has returned */
	bool self_unregister;
	atomic_t running;		/* calls inside the callback */
};

static VOID stress_avail_callback(PVOID ctx)
{
	struct stress_avail *a = ctx;
	PS_AVAILABLE_CPUS_CHANGE_REGISTRATION h;
	ULONG64 seq, seq2;
	KAFFINITY_EX set;
	ULONG count;

	atomic_inc(&a->running);
	atomic_long_inc(&stress_avail_calls);
	if (READ_ONCE(a->done))
		stress_violation("available-CPUs call after Unregister returned");
	if (preempt_count() || irqs_disabled())
		stress_violation("available-CPUs call in atomic context");
	KeInitializeAffinityEx(&set);
	if (PsQuerySystemAvailableCpus(&set, NULL, &seq) != STATUS_SUCCESS || (seq & 1))
		stress_violation("query failed or odd sequence %llu", seq);
	if (PsQuerySystemAvailableCpusCount(&count, &seq2) != STATUS_SUCCESS || (seq2 & 1))
		stress_violation("count query failed or odd sequence %llu", seq2);
	if (seq2 == seq && count != KeCountSetBitsAffinityEx(&set))
		stress_violation("count %u, set has %u at sequence %llu", count,
				 KeCountSetBitsAffinityEx(&set), seq);
	if (KeCheckProcessorAffinityEx(&set, KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS)))
		stress_violation("an index beyond the active ones is available");
	if (a->self_unregister && stress_chance(50)) {
		h = xchg(&a->handle, NULL);
		if (h) {
			PsUnregisterAvailableCpusChangeNotification(h);
			WRITE_ONCE(a->done, true);
		}
	}
	atomic_dec(&a->running);
}

static void stress_one_available(void)
{
	struct stress_avail *a = kzalloc(sizeof(*a), GFP_KERNEL);
	PS_AVAILABLE_CPUS_CHANGE_REGISTRATION h = NULL;
	ULONG64 seq = 0;
	ULONG count;

	if (!a)
		return;
	a->self_unregister = stress_chance(30);
	PsQuerySystemAvailableCpusCount(&count, &seq);
	if (stress_chance(50))
		seq += 2;	/* stale: a call at once */
	if (PsRegisterSystemAvailableCpusChangeNotification(stress_avail_callback, a, &seq, &h) !=
	    STATUS_SUCCESS || !h) {
		stress_violation("available-CPUs Register failed");
		kfree(a);
		return;
	}
	atomic_long_inc(&stress_avail_regs);
	WRITE_ONCE(a->handle, h);
	msleep(get_random_u32() % 30);
	h = xchg(&a->handle, NULL);
	if (h) {
		PsUnregisterAvailableCpusChangeNotification(h);
		WRITE_ONCE(a->done, true);
		if (atomic_read(&a->running))
			stress_violation("available-CPUs call running after Unregister");
	} else {
		/* Unregistered by its own callback: let that call return. */
		while (atomic_read(&a->running))
			usleep_range(1000, 2000);
	}
	kfree(a);
}

static int stress_available_worker(void *unused)
{
	while (time_before(jiffies, READ_ONCE(stress_deadline)))
		stress_one_available();
	return 0;
}

/* --- end issue 13 --- */

/* Make bring-ups of CPUs fail after the shim's Start. */
static int stress_fail_prepare(unsigned int cpu)
{
	return stress_chance(fail_percent) ? -EIO : 0;
}

/*
 * And after its Complete: this online state comes after the shim's. Not
 * for an online that continues a parked add: Linux 6.12 would roll it back
 * only to the parked state, past RCU's prepare state, and the CPU's next
 * online then queues RCU callbacks on a disabled list (a WARN in RCU).
 */
static int stress_fail_online(unsigned int cpu)
{
	if (cpumask_test_cpu(cpu, &stress_parked_mask))
		return 0;
	return stress_chance(fail_online_percent) ? -EIO : 0;
}

/* A small text file into @buf. */
static int stress_read(const char *path, char *buf, size_t len)
{
	struct file *f = filp_open(path, O_RDONLY, 0);
	loff_t pos = 0;
	ssize_t n;

	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_read(f, buf, len - 1, &pos);
	filp_close(f, NULL);
	buf[n > 0 ? n : 0] = '\0';
	return n < 0 ? n : 0;
}

/* Move @cpu to cpuhp state @state through its hotplug/target file. */
static int stress_set_target(unsigned int cpu, int state)
{
	char path[64], val[16];
	struct file *f;
	loff_t pos = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/hotplug/target", cpu);
	snprintf(val, sizeof(val), "%d", state);
	f = filp_open(path, O_WRONLY, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_write(f, val, strlen(val), &pos);
	filp_close(f, NULL);
	return n < 0 ? n : 0;
}

/* The shim's prepare state, from the kernel's list; no parking without it. */
static void stress_find_shim_state(void)
{
	char *buf = kzalloc(2 * PAGE_SIZE, GFP_KERNEL), *name, *line;

	stress_shim_prepare = -1;
	if (!buf)
		return;
	name = stress_read("/sys/devices/system/cpu/hotplug/states", buf, 2 * PAGE_SIZE) ?
	       NULL : strstr(buf, ": kecpuhp:prepare\n");
	if (name) {
		for (line = name; line > buf && line[-1] != '\n'; line--)
			;
		if (sscanf(line, "%d:", &stress_shim_prepare) != 1)
			stress_shim_prepare = -1;
	}
	kfree(buf);
}

/* Park a new CPU's add after Start, or end the parked one either way. */
/*
 * End the parked add one way or the other. A failed attempt leaves it
 * parked (a failure above it rolls back only to the parked state), so it
 * stays known until it really ends.
 */
static void stress_unpark(void)
{
	int cpu = stress_parked, ret;

	ret = stress_chance(50) ? add_cpu(cpu) : stress_set_target(cpu, CPUHP_OFFLINE);
	if (ret && (cpu_online(cpu) || kecpuhp_cpu_to_index(cpu) != INVALID_PROCESSOR_INDEX))
		return;
	cpumask_clear_cpu(cpu, &stress_parked_mask);
	stress_parked = -1;
	WRITE_ONCE(stress_parking, false);
}

/* Park a new CPU's add after Start, or end the parked one. */
static bool stress_park_step(unsigned int cpu)
{
	if (stress_parked >= 0 && stress_chance(30)) {
		stress_unpark();
		return true;
	}
	if (stress_parked >= 0 || stress_shim_prepare < 0 || cpu_online(cpu) ||
	    kecpuhp_cpu_to_index(cpu) != INVALID_PROCESSOR_INDEX ||
	    !stress_chance(park_percent))
		return false;
	WRITE_ONCE(stress_parking, true);
	cpumask_set_cpu(cpu, &stress_parked_mask);
	if (!stress_set_target(cpu, stress_shim_prepare)) {
		stress_parked = cpu;
		atomic_long_inc(&stress_parks);
	} else {
		cpumask_clear_cpu(cpu, &stress_parked_mask);
		WRITE_ONCE(stress_parking, false);
	}
	return true;
}

static int stress_hotplug(void *unused)
{
	unsigned int cpu;
	int ret;

	while (time_before(jiffies, READ_ONCE(stress_deadline))) {
		cpu = get_random_u32() % nr_cpu_ids;
		if (cpu == 0 || !cpu_present(cpu))
			continue;
		atomic_inc(&stress_hotplug_seq);
		/* stress_park_step() also ends a parked add: nothing else does */
		if (stress_park_step(cpu) || (int)cpu == stress_parked)
			ret = 0;
		else if (cpu_online(cpu))
			ret = remove_cpu(cpu);
		else
			ret = add_cpu(cpu);
		atomic_inc(&stress_hotplug_seq);
		/* a new CPU while another's add is parked */
		if (ret == -EPERM)
			atomic_long_inc(&stress_refused);
		atomic_long_inc(&stress_hotplug_ops);
		msleep(get_random_u32() % 10);
	}
	/* Leave no add parked behind. */
	if (stress_parked >= 0 && !stress_set_target(stress_parked, CPUHP_OFFLINE))
		cpumask_clear_cpu(stress_parked, &stress_parked_mask);
	return 0;
}

#define STRESS_DPCS	8

struct stress_dpc {
	KDPC dpc;
	ULONG target;		/* processor index, or STRESS_NONE: any */
};

static atomic_long_t stress_dpc_inserted, stress_dpc_ran, stress_dpc_removed;
static atomic_long_t stress_affinity_ops, stress_generic_calls;

/* a1: stress_hotplug_seq at insert, odd if the target was not online; a2: the target. */
static VOID stress_dpc_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	ULONG here = KeGetCurrentProcessorNumberEx(NULL), target = (ULONG)(long)a2;
	int seq = (int)(long)a1;

	atomic_long_inc(&stress_dpc_ran);
	if (!preempt_count())
		stress_violation("DPC routine runs preemptible");
	/* no hotplug operation since the insert: it must be on its target */
	if (target != STRESS_NONE && here != target && !(seq & 1) &&
	    seq == atomic_read(&stress_hotplug_seq))
		stress_violation("DPC for processor %u ran on %u", target, here);
}

/* What to pass as SystemArgument1 for an insert aimed at @target. */
static long stress_dpc_seq(ULONG target)
{
	int seq = atomic_read(&stress_hotplug_seq);
	int cpu = target == STRESS_NONE ? -1 : kecpuhp_index_to_cpu(target);

	return cpu >= 0 && cpu_online(cpu) ? seq : 1;
}

struct stress_call {
	atomic_t runs, trues;
};

static VOID stress_call_routine(PKDPC dpc, PVOID ctx, PVOID done, PVOID barrier)
{
	struct stress_call *c = ctx;

	atomic_inc(&c->runs);
	if (KeSignalCallDpcSynchronize(barrier))
		atomic_inc(&c->trues);
	KeSignalCallDpcDone(done);
}

static void stress_affinity_once(ULONG n)
{
	ULONG index = get_random_u32() % n, here;
	GROUP_AFFINITY ga = {
		.Mask = (KAFFINITY)1 << (index % MAXIMUM_PROC_PER_GROUP),
		.Group = index / MAXIMUM_PROC_PER_GROUP,
	}, prev;
	int seq = atomic_read(&stress_hotplug_seq);
	int cpu = kecpuhp_index_to_cpu(index);
	bool online = cpu >= 0 && cpu_online(cpu);

	KeSetSystemGroupAffinityThread(&ga, &prev);
	here = KeGetCurrentProcessorNumberEx(NULL);
	if (online && !(seq & 1) && seq == atomic_read(&stress_hotplug_seq) && here != index)
		stress_violation("affinity to processor %u, running on %u", index, here);
	KeRevertToUserGroupAffinityThread(&prev);
	atomic_long_inc(&stress_affinity_ops);
}

/* DPCs, affinity switches and generic calls while CPUs come and go. */
static int stress_run_worker(void *unused)
{
	struct stress_dpc *d = kcalloc(STRESS_DPCS, sizeof(*d), GFP_KERNEL);
	struct stress_call c;
	PROCESSOR_NUMBER pn;
	ULONG n;
	u32 x, i;

	if (!d)
		return -ENOMEM;
	for (i = 0; i < STRESS_DPCS; i++) {
		KeInitializeDpc(&d[i].dpc, stress_dpc_routine, &d[i]);
		d[i].target = STRESS_NONE;
	}
	while (time_before(jiffies, READ_ONCE(stress_deadline))) {
		n = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
		x = get_random_u32();
		i = x % STRESS_DPCS;
		switch ((x >> 8) % 32) {
		case 0:
			KeFlushQueuedDpcs();
			break;
		case 1:
			atomic_set(&c.runs, 0);
			atomic_set(&c.trues, 0);
			KeGenericCallDpc(stress_call_routine, &c);
			if (atomic_read(&c.trues) != 1 || !atomic_read(&c.runs))
				stress_violation("generic call: %d runs, barrier TRUE %d times",
						 atomic_read(&c.runs), atomic_read(&c.trues));
			atomic_long_inc(&stress_generic_calls);
			break;
		case 2 ... 5:
			stress_affinity_once(n);
			break;
		case 6 ... 11:
			if (KeRemoveQueueDpc(&d[i].dpc))
				atomic_long_inc(&stress_dpc_removed);
			break;
		default:
			if (!READ_ONCE(d[i].dpc.DpcData) &&
			    NT_SUCCESS(KeGetProcessorNumberFromIndex((x >> 16) % n, &pn)) &&
			    NT_SUCCESS(KeSetTargetProcessorDpcEx(&d[i].dpc, &pn)))
				d[i].target = (x >> 16) % n;
			if (KeInsertQueueDpc(&d[i].dpc, (PVOID)stress_dpc_seq(d[i].target),
					     (PVOID)(long)d[i].target))
				atomic_long_inc(&stress_dpc_inserted);
			break;
		}
		if (!(x & 0x3f))
			usleep_range(50, 200);
	}
	KeFlushQueuedDpcs();
	if (atomic_long_read(&stress_dpc_inserted) !=
	    atomic_long_read(&stress_dpc_ran) + atomic_long_read(&stress_dpc_removed))
		stress_violation("DPCs: %ld inserted, %ld ran, %ld removed",
				 atomic_long_read(&stress_dpc_inserted),
				 atomic_long_read(&stress_dpc_ran),
				 atomic_long_read(&stress_dpc_removed));
	kfree(d);
	return 0;
}

/* Thread 0 hotplugs, 1 registers available-CPUs callbacks, 2 runs code on processors. */
static int stress_thread_fn(void *arg)
{
	long i = (long)arg;

	if (i == 0)
		return stress_hotplug(NULL);
	if (i == 1)
		return stress_available_worker(NULL);
	if (i == 2 && run)
		return stress_run_worker(NULL);
	return stress_worker(NULL);
}

/* Start the hotplug thread and the workers, and wait for all of them. */
static int stress_run(void)
{
	struct task_struct *threads[16];
	unsigned int n = min(workers + run, 14u) + 2, i;
	int ret = 0;

	stress_deadline = jiffies + duration_s * HZ;
	for (i = 0; i < n; i++) {
		threads[i] = kthread_run(stress_thread_fn, (void *)(long)i,
					 "kecpuhp_stress/%u", i);
		if (IS_ERR(threads[i])) {
			ret = PTR_ERR(threads[i]);
			WRITE_ONCE(stress_deadline, jiffies);
			n = i;
			break;
		}
		get_task_struct(threads[i]);
	}
	/* Sleep interruptibly: a long run must not look like a hung insmod. */
	while (time_before(jiffies, READ_ONCE(stress_deadline)))
		msleep_interruptible(1000);
	for (i = 0; i < n; i++) {
		kthread_stop(threads[i]);
		put_task_struct(threads[i]);
	}
	return ret;
}

static int __init stress_init(void)
{
	int ret;

	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "kecpuhp/stress:fail",
					stress_fail_prepare, NULL);
	if (ret < 0)
		return ret;
	stress_fail_state = ret;
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "kecpuhp/stress:fail-online",
					stress_fail_online, NULL);
	if (ret < 0)
		goto out_fail_state;
	stress_fail_online_state = ret;
	stress_find_shim_state();
	ret = stress_run();
	cpuhp_remove_state_nocalls(stress_fail_online_state);
out_fail_state:
	cpuhp_remove_state_nocalls(stress_fail_state);
	if (ret)
		return ret;
	pr_info("kecpuhp_stress: dpcs_inserted=%ld dpcs_ran=%ld dpcs_removed=%ld affinity_switches=%ld generic_calls=%ld\n",
		atomic_long_read(&stress_dpc_inserted), atomic_long_read(&stress_dpc_ran),
		atomic_long_read(&stress_dpc_removed), atomic_long_read(&stress_affinity_ops),
		atomic_long_read(&stress_generic_calls));
	pr_info("kecpuhp_stress: seconds=%u registrations=%ld hotplug_ops=%ld parks=%ld refused=%ld notifications=%ld available_registrations=%ld available_calls=%ld active=%u violations=%ld\n",
		duration_s, atomic_long_read(&stress_regs),
		atomic_long_read(&stress_hotplug_ops), atomic_long_read(&stress_parks),
		atomic_long_read(&stress_refused), atomic_long_read(&stress_notes),
		atomic_long_read(&stress_avail_regs), atomic_long_read(&stress_avail_calls),
		KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS),
		atomic_long_read(&stress_violations));
	return 0;
}

static void __exit stress_exit(void)
{
}

module_init(stress_init);
module_exit(stress_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kecpuhp stress test: registrations against CPU hotplug");
MODULE_AUTHOR("The kecpuhp developers");
