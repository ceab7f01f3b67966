// SPDX-License-Identifier: GPL-2.0
/*
 * Generic calls: a routine on every active processor at once.
 *
 * An active processor, in Linux terms: a CPU with an active kecpuhp index
 * (its add completed) that is online and whose DPC queue is open (it has
 * passed the shim's CPUHP_AP_ONLINE_DYN startup and not started going
 * offline). A CPU being added is one from its Complete notification on; a
 * CPU Linux took offline keeps its index but is not called.
 *
 * KeIpiGenericCall() is on_each_cpu_mask() with a rendezvous: every CPU,
 * the caller's included, spins with interrupts off until all have arrived,
 * then runs the worker, as Windows starts them together at IPI_LEVEL.
 * Spinning with interrupts off is safe because a CPU waiting for the call's
 * lock waits with interrupts on, and so still answers the IPI.
 *
 * KeGenericCallDpc() queues one DPC per active processor on the DPC queues
 * of dpc.c and sleeps until every routine has called KeSignalCallDpcDone().
 * KeSignalCallDpcSynchronize() is a sense-reversing barrier. Routines spin
 * there with preemption disabled; to not deadlock with stop_machine() (whose
 * stopper on this CPU would wait behind the spinning routine, while the
 * routine waits for a CPU already held in the stopper), the spin lets the
 * scheduler in when the routine holds nothing else (preempt count 1): only
 * the stopper and deadline tasks outrank the DPC thread.
 *
 * Serialisation: one KeGenericCallDpc() at a time (a mutex), one
 * KeIpiGenericCall() at a time (a spin lock); an IPI call may run while the
 * routines of a DPC call wait at their barrier, which answers the IPI with
 * interrupts on. Both take cpus_read_lock() so the set of processors cannot
 * change during the call, except inside a processor-change callback
 * (kecpuhp_in_callback()), where the hotplug lock is already held for the
 * add or the replay, so the set cannot change either, and taking it again
 * would deadlock. A KeIpiGenericCall() with preemption disabled cannot
 * sleep on the lock; disabling preemption already keeps every CPU it calls
 * online until it returns.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/export.h>
#include <linux/hardirq.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/spinlock.h>

#include "internal.h"

#define kecpuhp_gencall_err(caller, api, fmt, ...) \
	pr_err_ratelimited("%pS: %s: " fmt "\n", caller, api, ##__VA_ARGS__)

/* Fill @mask with the active processors; see the top comment. */
static void kecpuhp_active_cpus(struct cpumask *mask)
{
	u32 active = kecpuhp_active_count();
	unsigned int cpu;

	cpumask_clear(mask);
	for_each_online_cpu(cpu) {
		if (kecpuhp_cpu_to_index(cpu) < active && kecpuhp_dpc_cpu_ready(cpu))
			cpumask_set_cpu(cpu, mask);
	}
}

/* Hotplug lock, unless the current task's pass already holds it. */
static bool kecpuhp_gencall_lock_hotplug(void)
{
	if (kecpuhp_in_callback())
		return false;
	cpus_read_lock();
	return true;
}

struct kecpuhp_ipi_call {
	PKIPI_BROADCAST_WORKER fn;
	ULONG_PTR arg;
	atomic_t arrived;
	unsigned int n;
	unsigned int caller_cpu;
	ULONG_PTR result;
};

static DEFINE_SPINLOCK(kecpuhp_ipi_lock);
static struct cpumask kecpuhp_ipi_mask;		/* guarded by kecpuhp_ipi_lock */

static void kecpuhp_ipi_worker(void *info)
{
	struct kecpuhp_ipi_call *c = info;
	ULONG_PTR r;

	/* Start together, as Windows does: nobody runs until all are here. */
	atomic_inc(&c->arrived);
	while (atomic_read(&c->arrived) < c->n)
		cpu_relax();
	r = c->fn(c->arg);
	if (smp_processor_id() == c->caller_cpu)
		c->result = r;
}

/**
 * KeIpiGenericCall - run a worker on every active processor at once
 * @BroadcastFunction: called as BroadcastFunction(Context) on each active
 *	processor, all of them together, with interrupts disabled; it must
 *	not sleep or wait for anything that needs interrupts
 * @Context: passed to @BroadcastFunction
 *
 * The calling processor is always one of them. Calls are serialised.
 *
 * Context: task context with interrupts enabled (Windows: IRQL <=
 * DISPATCH_LEVEL), preemption may be disabled; from a DPC routine too, and
 * from inside a processor-change callback. Not from interrupt or softirq
 * context, which Linux forbids for a waiting cross-CPU call: that is
 * reported and nothing runs.
 * Return: what @BroadcastFunction returned on the calling processor, or 0
 * if it was not called.
 */
ULONG_PTR KeIpiGenericCall(PKIPI_BROADCAST_WORKER BroadcastFunction, ULONG_PTR Context)
{
	struct kecpuhp_ipi_call c = { .fn = BroadcastFunction, .arg = Context };
	void *caller = (void *)_RET_IP_;
	bool hotplug = false;

	if (!BroadcastFunction) {
		kecpuhp_gencall_err(caller, __func__, "NULL BroadcastFunction; nothing run");
		return 0;
	}
	if (!in_task() || irqs_disabled()) {
		kecpuhp_gencall_err(caller, __func__,
				    "called from interrupt context or with interrupts disabled; %ps not run",
				    BroadcastFunction);
		return 0;
	}
	/*
	 * Not in a DPC thread: a CPU going offline waits in its teardown for
	 * that thread, so the thread must not wait for the hotplug lock.
	 */
	if (preemptible() && !kecpuhp_dpc_in_thread())
		hotplug = kecpuhp_gencall_lock_hotplug();
	preempt_disable();
	spin_lock(&kecpuhp_ipi_lock);
	kecpuhp_active_cpus(&kecpuhp_ipi_mask);
	c.caller_cpu = smp_processor_id();
	cpumask_set_cpu(c.caller_cpu, &kecpuhp_ipi_mask);
	c.n = cpumask_weight(&kecpuhp_ipi_mask);
	on_each_cpu_mask(&kecpuhp_ipi_mask, kecpuhp_ipi_worker, &c, true);
	spin_unlock(&kecpuhp_ipi_lock);
	preempt_enable();
	if (hotplug)
		cpus_read_unlock();
	return c.result;
}
EXPORT_SYMBOL_GPL(KeIpiGenericCall);

/* One KeGenericCallDpc() in flight; SystemArgument1/2 point into it. */
struct kecpuhp_dpc_call {
	atomic_t done_left;		/* SystemArgument1 */
	atomic_t barrier_left;		/* SystemArgument2 */
	atomic_t barrier_gen;
	unsigned int n;
	struct completion done;
};

static DEFINE_MUTEX(kecpuhp_dpc_call_mutex);
static DEFINE_PER_CPU(KDPC, kecpuhp_dpc_call_dpcs);
static struct cpumask kecpuhp_dpc_call_mask;	/* guarded by the mutex */
/* The call in flight, to recognise the sync arguments; NULL between calls. */
static struct kecpuhp_dpc_call *kecpuhp_dpc_call_current;

/**
 * KeGenericCallDpc - run a DPC routine on every active processor
 * @Routine: called as Routine(Dpc, Context, SystemArgument1,
 *	SystemArgument2) once on each active processor, with preemption
 *	disabled (DISPATCH_LEVEL) and interrupts enabled; it must not sleep,
 *	and must call KeSignalCallDpcDone(SystemArgument1) once; it may call
 *	KeSignalCallDpcSynchronize(SystemArgument2) to wait for all the others
 * @Context: passed to @Routine
 *
 * Returns when every processor has called KeSignalCallDpcDone(). Inside a
 * processor's Complete notification, that processor is one of them.
 *
 * Context: process context, may sleep (Windows: PASSIVE_LEVEL); also from
 * inside a processor-change callback; not from a DPC routine.
 */
void KeGenericCallDpc(PKDEFERRED_ROUTINE Routine, PVOID Context)
{
	void *caller = (void *)_RET_IP_;
	struct kecpuhp_dpc_call c;
	bool hotplug;
	unsigned int cpu;

	if (!Routine) {
		kecpuhp_gencall_err(caller, __func__, "NULL Routine; nothing run");
		return;
	}
	if (preempt_count() || irqs_disabled() || kecpuhp_dpc_in_thread()) {
		kecpuhp_gencall_err(caller, __func__, "called from a DPC or atomic context; %ps not run",
				    Routine);
		return;
	}
	might_sleep();
	hotplug = kecpuhp_gencall_lock_hotplug();
	mutex_lock(&kecpuhp_dpc_call_mutex);
	kecpuhp_active_cpus(&kecpuhp_dpc_call_mask);
	c.n = cpumask_weight(&kecpuhp_dpc_call_mask);
	atomic_set(&c.done_left, c.n);
	atomic_set(&c.barrier_left, c.n);
	atomic_set(&c.barrier_gen, 0);
	init_completion(&c.done);
	WRITE_ONCE(kecpuhp_dpc_call_current, &c);
	for_each_cpu(cpu, &kecpuhp_dpc_call_mask) {
		PKDPC dpc = per_cpu_ptr(&kecpuhp_dpc_call_dpcs, cpu);

		kecpuhp_dpc_init_internal(dpc, Routine, Context);
		/* The hotplug lock keeps every queue of the mask open. */
		if (WARN_ON_ONCE(!kecpuhp_dpc_queue_on(dpc, cpu, &c.done_left, &c.barrier_left)))
			KeSignalCallDpcDone(&c.done_left);
	}
	if (c.n)
		wait_for_completion(&c.done);
	WRITE_ONCE(kecpuhp_dpc_call_current, NULL);
	mutex_unlock(&kecpuhp_dpc_call_mutex);
	if (hotplug)
		cpus_read_unlock();
}
EXPORT_SYMBOL_GPL(KeGenericCallDpc);

/* The call @arg belongs to, or NULL (reported) for anything else. */
static struct kecpuhp_dpc_call *kecpuhp_dpc_call_of(PVOID arg, size_t offset,
						    void *caller, const char *api)
{
	/*
	 * Set before the call's DPCs are queued (the queue lock orders it
	 * before their routines run) and cleared after the last Done.
	 */
	struct kecpuhp_dpc_call *c = READ_ONCE(kecpuhp_dpc_call_current);

	if (c && arg == (void *)c + offset)
		return c;
	kecpuhp_gencall_err(caller, api, "%p is not the argument of a KeGenericCallDpc() in progress; ignored",
			    arg);
	return NULL;
}

/**
 * KeSignalCallDpcDone - this processor is done with a KeGenericCallDpc()
 * @SystemArgument1: the routine's SystemArgument1
 *
 * Context: the routine of a KeGenericCallDpc(), once per processor.
 */
void KeSignalCallDpcDone(PVOID SystemArgument1)
{
	struct kecpuhp_dpc_call *c;

	c = kecpuhp_dpc_call_of(SystemArgument1, offsetof(struct kecpuhp_dpc_call, done_left),
				(void *)_RET_IP_, __func__);
	if (c && atomic_dec_and_test(&c->done_left))
		complete(&c->done);
}
EXPORT_SYMBOL_GPL(KeSignalCallDpcDone);

/* Wait at the barrier; see the top comment for the scheduler window. */
static void kecpuhp_barrier_relax(void)
{
	cpu_relax();
	if (IS_ENABLED(CONFIG_PREEMPT_COUNT) && preempt_count() == 1 && !irqs_disabled() &&
	    kecpuhp_dpc_in_thread()) {
		preempt_enable();
		cond_resched();
		preempt_disable();
	}
}

/**
 * KeSignalCallDpcSynchronize - wait until every processor of the call is here
 * @SystemArgument2: the routine's SystemArgument2
 *
 * A barrier across the routines of one KeGenericCallDpc(); it can be used
 * several times in a routine, by every processor the same number of times.
 *
 * Context: the routine of a KeGenericCallDpc().
 * Return: TRUE on exactly one processor (the last to arrive), FALSE on the
 * others.
 */
LOGICAL KeSignalCallDpcSynchronize(PVOID SystemArgument2)
{
	struct kecpuhp_dpc_call *c;
	int gen;

	c = kecpuhp_dpc_call_of(SystemArgument2, offsetof(struct kecpuhp_dpc_call, barrier_left),
				(void *)_RET_IP_, __func__);
	if (!c)
		return FALSE;
	/* Read the generation before arriving: the decrement is fully ordered. */
	gen = atomic_read(&c->barrier_gen);
	if (atomic_dec_and_test(&c->barrier_left)) {
		atomic_set(&c->barrier_left, c->n);
		/* Pairs with the acquire below: the reset is seen before the release. */
		atomic_set_release(&c->barrier_gen, gen + 1);
		return TRUE;
	}
	while (atomic_read_acquire(&c->barrier_gen) == gen)
		kecpuhp_barrier_relax();
	return FALSE;
}
EXPORT_SYMBOL_GPL(KeSignalCallDpcSynchronize);
