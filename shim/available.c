// SPDX-License-Identifier: GPL-2.0
/*
 * The Windows 11 24H2 available-CPUs API, system-wide:
 * PsRegisterSystemAvailableCpusChangeNotification(),
 * PsUnregisterAvailableCpusChangeNotification(), PsQuerySystemAvailableCpus()
 * and PsQuerySystemAvailableCpusCount(). (The per-process variants take a
 * PEPROCESS and are not provided.)
 *
 * The available set is the processors with an active Windows index that
 * Linux runs now: cpu_active(), i.e. online and scheduled on. A CPU going
 * offline keeps its index and stays in the Windows active set (Windows has
 * no offline: this is its force-parked state) but leaves the available set.
 *
 * How a change is seen. The shim's cpuhp state "kecpuhp:available"
 * (CPUHP_AP_ONLINE_DYN) runs on every online and offline of every CPU, but
 * at the wrong moment: on online it runs before CPUHP_AP_ACTIVE makes the
 * CPU active, on offline after it was deactivated, and always with the
 * hotplug lock held for writing, where no driver callback may run. So the
 * callback only queues the refresh work. The work takes cpus_read_lock(),
 * which waits until the whole hotplug operation is over (a hot-add
 * included: its index is then active), recomputes the set from the index
 * table and cpu_active(), and publishes it if it changed. Changes that end
 * before the work runs are seen together (a CPU that went off and came back
 * meanwhile is no change at all). A CPU parked by hotplug/target between
 * this state and CPUHP_AP_ACTIVE changes cpu_active() without running the
 * state: it is seen at the next hotplug operation.
 *
 * The same state also takes the topology snapshot (topology.c) of a CPU
 * coming online: it is installed before the state that sends Complete, so
 * it runs first.
 *
 * Publication is Windows' tick lock: the sequence number is odd while the
 * set is updated, +2 per change and even when stable. Readers take no lock
 * (Windows: up to DISPATCH_LEVEL) and retry while it is odd or moved. The
 * writer holds a spinlock with interrupts off, so a reader can never spin
 * on the writer it interrupted.
 *
 * The refresh runs on an ordered workqueue of its own, so a slow driver
 * callback never delays what the queries answer. Callbacks run from
 * another ordered workqueue, in process context, with no lock held, one at
 * a time. Each registration has its own work item, so a
 * change that arrives while its call is queued is absorbed by it, and one
 * that arrives while it runs queues exactly one more. Unregister unlinks
 * the registration and waits for its call (cancel_work_sync()); from inside
 * a callback the ordered queue guarantees that no other callback is
 * running, so that wait never deadlocks, and a callback unregistering
 * itself is freed when it returns.
 */
#define pr_fmt(fmt) "kecpuhp: " fmt

#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/export.h>
#include <linux/hardirq.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "internal.h"

struct kecpuhp_avail_reg {
	struct list_head node;		/* kecpuhp_avail_regs, RCU */
	struct work_struct work;	/* one call of ->fn */
	PS_AVAILABLE_CPUS_CHANGE_CALLBACK *fn;
	PVOID ctx;
	u32 id;				/* the handle */
	bool free_after_call;		/* unregistered itself from ->fn */
	struct rcu_head rcu;
};

static LIST_HEAD(kecpuhp_avail_regs);
static DEFINE_MUTEX(kecpuhp_avail_mutex);	/* the list and the handles */
static DEFINE_XARRAY_ALLOC1(kecpuhp_avail_handles);
static u32 kecpuhp_avail_next_id;
static struct workqueue_struct *kecpuhp_avail_wq;	/* the callbacks */
static struct task_struct *kecpuhp_avail_caller;	/* runs a callback now */
static struct workqueue_struct *kecpuhp_refresh_wq;	/* the refresh */
static int kecpuhp_avail_state;

/* The published set: written under the lock, read under the sequence. */
static DEFINE_SPINLOCK(kecpuhp_avail_lock);
static atomic64_t kecpuhp_avail_seq = ATOMIC64_INIT(0);
static u64 *kecpuhp_avail_map;		/* one word per group */
static u32 kecpuhp_avail_words;		/* words that cover the active indexes */
static u32 kecpuhp_avail_count;		/* bits set */
static u64 *kecpuhp_avail_scratch;	/* the refresh's new set */
static u32 kecpuhp_map_words;		/* capacity: all possible CPUs */
static bool kecpuhp_avail_ready;	/* indexes exist: refresh may run */

#define kecpuhp_avail_misuse(caller, fmt, ...) \
	pr_err_ratelimited("%pS: " fmt "\n", caller, ##__VA_ARGS__)

/* --- the sequence --- */

/* Wait for a stable (even) sequence; the reads that follow see its set. */
static u64 kecpuhp_avail_read_begin(void)
{
	u64 seq;

	while ((seq = atomic64_read(&kecpuhp_avail_seq)) & 1)
		cpu_relax();
	/* Order the sequence read before the data reads (pairs with the writer's wmb). */
	smp_rmb();
	return seq;
}

/* Did the set change while it was read? */
static bool kecpuhp_avail_read_retry(u64 seq)
{
	/* Order the data reads before the sequence re-read. */
	smp_rmb();
	return atomic64_read(&kecpuhp_avail_seq) != seq;
}

/*
 * Recompute the available set; publish it if it changed (@bump: as a
 * change, +2 to the sequence; else as the initial set). Caller holds
 * cpus_read_lock(), so no add or offline is in flight, and is the only
 * refresher (init, then the ordered refresh workqueue).
 */
static bool kecpuhp_avail_refresh(bool bump)
{
	u32 active = kecpuhp_active_count(), words, count = 0, i;
	unsigned long flags;
	int cpu;

	words = max_t(u32, DIV_ROUND_UP(active, MAXIMUM_PROC_PER_GROUP), 1);
	memset(kecpuhp_avail_scratch, 0, kecpuhp_map_words * sizeof(u64));
	for (i = 0; i < active; i++) {
		cpu = kecpuhp_index_to_cpu(i);
		if (cpu >= 0 && cpu_active(cpu)) {
			kecpuhp_avail_scratch[i / MAXIMUM_PROC_PER_GROUP] |=
				BIT_ULL(i % MAXIMUM_PROC_PER_GROUP);
			count++;
		}
	}
	if (bump && words == kecpuhp_avail_words &&
	    !memcmp(kecpuhp_avail_scratch, kecpuhp_avail_map, words * sizeof(u64)))
		return false;

	spin_lock_irqsave(&kecpuhp_avail_lock, flags);
	if (bump)
		atomic64_inc(&kecpuhp_avail_seq);	/* odd: readers wait */
	/* The odd sequence is visible before any word changes. */
	smp_wmb();
	for (i = 0; i < kecpuhp_map_words; i++)
		WRITE_ONCE(kecpuhp_avail_map[i], kecpuhp_avail_scratch[i]);
	WRITE_ONCE(kecpuhp_avail_words, words);
	WRITE_ONCE(kecpuhp_avail_count, count);
	/* Every word is written before the sequence is even again. */
	smp_wmb();
	if (bump)
		atomic64_inc(&kecpuhp_avail_seq);
	spin_unlock_irqrestore(&kecpuhp_avail_lock, flags);
	return bump;
}

/* --- callbacks --- */

/* One call of one registration, on the ordered workqueue. */
static void kecpuhp_avail_call(struct work_struct *work)
{
	struct kecpuhp_avail_reg *reg = container_of(work, struct kecpuhp_avail_reg, work);

	WRITE_ONCE(kecpuhp_avail_caller, current);
	reg->fn(reg->ctx);
	WRITE_ONCE(kecpuhp_avail_caller, NULL);
	/* Set by Unregister from inside ->fn, which cancelled any requeue. */
	if (reg->free_after_call)
		kfree_rcu(reg, rcu);
}

static void kecpuhp_avail_notify_all(void)
{
	struct kecpuhp_avail_reg *reg;

	mutex_lock(&kecpuhp_avail_mutex);
	list_for_each_entry(reg, &kecpuhp_avail_regs, node)
		queue_work(kecpuhp_avail_wq, &reg->work);
	mutex_unlock(&kecpuhp_avail_mutex);
}

static void kecpuhp_avail_update(struct work_struct *work)
{
	bool changed;

	/* Pairs with the release in kecpuhp_available_start(). */
	if (!smp_load_acquire(&kecpuhp_avail_ready))
		return;
	/* Waits for the hotplug operation that queued us to finish. */
	cpus_read_lock();
	changed = kecpuhp_avail_refresh(true);
	cpus_read_unlock();
	if (changed)
		kecpuhp_avail_notify_all();
}

/* One refresh at a time: the ordered refresh queue. */
static DECLARE_WORK(kecpuhp_avail_update_work, kecpuhp_avail_update);

/* cpuhp callbacks: hotplug lock held for writing, so only queue the work. */
static int kecpuhp_avail_cpu_online(unsigned int cpu)
{
	kecpuhp_topology_snapshot(cpu);
	queue_work(kecpuhp_refresh_wq, &kecpuhp_avail_update_work);
	return 0;
}

static int kecpuhp_avail_cpu_offline(unsigned int cpu)
{
	queue_work(kecpuhp_refresh_wq, &kecpuhp_avail_update_work);
	return 0;
}

/* --- the API --- */

/**
 * PsRegisterSystemAvailableCpusChangeNotification - be called when the set
 *	of available processors changes
 * @Callback: called as @Callback(@Context) after each change
 * @Context: passed to @Callback as it is
 * @ObservedSequenceNumber: optional; the last sequence number the caller
 *	saw. If it differs from the current one, a call is queued at once
 * @Handle: receives the handle for
 *	PsUnregisterAvailableCpusChangeNotification(), before any call
 *
 * The set changes when a processor is added (after its Complete
 * notification) and when a Linux CPU with an index goes offline or comes
 * back online. @Callback runs in process context, may sleep, and is called
 * with no lock held, after the change is complete, one callback at a time.
 * Changes that arrive while a call is queued are absorbed by it; one that
 * arrives while it runs queues one more call. The callback gets no sequence
 * number: it queries the set again.
 *
 * Context: process context, may sleep (Windows: PASSIVE_LEVEL).
 * Return: %STATUS_SUCCESS; %STATUS_INSUFFICIENT_RESOURCES without memory;
 * %STATUS_INVALID_PARAMETER (logged) for a NULL @Callback or @Handle or a
 * call from atomic context.
 */
NTSTATUS
PsRegisterSystemAvailableCpusChangeNotification(PS_AVAILABLE_CPUS_CHANGE_CALLBACK *Callback,
						PVOID Context, PULONG64 ObservedSequenceNumber,
						PS_AVAILABLE_CPUS_CHANGE_REGISTRATION *Handle)
{
	void *caller = __builtin_return_address(0);
	struct kecpuhp_avail_reg *reg;

	if (!Callback || !Handle || preempt_count() || irqs_disabled()) {
		kecpuhp_avail_misuse(caller, "%s: %s; STATUS_INVALID_PARAMETER", __func__,
				     !Callback ? "NULL Callback" : !Handle ?
				     "NULL Handle" : "called from atomic context");
		return STATUS_INVALID_PARAMETER;
	}
	might_sleep();
	reg = kzalloc(sizeof(*reg), GFP_KERNEL);
	if (!reg)
		return STATUS_INSUFFICIENT_RESOURCES;
	reg->fn = Callback;
	reg->ctx = Context;
	INIT_WORK(&reg->work, kecpuhp_avail_call);

	mutex_lock(&kecpuhp_avail_mutex);
	if (xa_alloc_cyclic(&kecpuhp_avail_handles, &reg->id, reg, xa_limit_32b,
			    &kecpuhp_avail_next_id, GFP_KERNEL) < 0) {
		mutex_unlock(&kecpuhp_avail_mutex);
		kfree(reg);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	list_add_tail_rcu(&reg->node, &kecpuhp_avail_regs);
	*Handle = (PS_AVAILABLE_CPUS_CHANGE_REGISTRATION)(unsigned long)reg->id;
	/* An odd sequence is a change in progress: a call follows anyway. */
	if (ObservedSequenceNumber &&
	    *ObservedSequenceNumber != (ULONG64)atomic64_read(&kecpuhp_avail_seq))
		queue_work(kecpuhp_avail_wq, &reg->work);
	mutex_unlock(&kecpuhp_avail_mutex);
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_GPL(PsRegisterSystemAvailableCpusChangeNotification);

/* Unlink @handle's registration; NULL if it names none. Mutex held. */
static struct kecpuhp_avail_reg *kecpuhp_avail_unlink(PS_AVAILABLE_CPUS_CHANGE_REGISTRATION handle)
{
	unsigned long id = (unsigned long)handle;
	struct kecpuhp_avail_reg *reg;

	lockdep_assert_held(&kecpuhp_avail_mutex);
	if (!id || id > U32_MAX)
		return NULL;
	reg = xa_erase(&kecpuhp_avail_handles, id);
	if (reg)
		list_del_rcu(&reg->node);
	return reg;
}

/**
 * PsUnregisterAvailableCpusChangeNotification - cancel a registration
 * @Handle: what PsRegisterSystemAvailableCpusChangeNotification() returned
 *
 * When this returns, the callback is not running and will not be called
 * again: a queued call is cancelled, a running one is waited for. Unlike
 * Windows, it may be called from inside any available-CPUs callback, its
 * own included (then the registration is freed when the callback returns).
 * Called from inside a processor-change callback, the wait for a running
 * call must not meet a callback that takes the CPU hotplug lock.
 *
 * A NULL, unknown or already unregistered handle is logged and ignored.
 *
 * Context: process context, may sleep.
 */
void PsUnregisterAvailableCpusChangeNotification(PS_AVAILABLE_CPUS_CHANGE_REGISTRATION Handle)
{
	void *caller = __builtin_return_address(0);
	struct kecpuhp_avail_reg *reg;

	if (preempt_count() || irqs_disabled()) {
		kecpuhp_avail_misuse(caller, "%s: called from atomic context; %s",
				     __func__, "the handle stays registered");
		return;
	}
	might_sleep();
	mutex_lock(&kecpuhp_avail_mutex);
	reg = kecpuhp_avail_unlink(Handle);
	if (reg && current_work() == &reg->work) {
		/* From its own callback: drop a requeue, free after the call. */
		cancel_work(&reg->work);
		reg->free_after_call = true;
		mutex_unlock(&kecpuhp_avail_mutex);
		return;
	}
	mutex_unlock(&kecpuhp_avail_mutex);
	if (!reg && (unsigned long)Handle <= U32_MAX) {
		kecpuhp_avail_misuse(caller, "%s: unknown or already unregistered handle %lu; %s",
				     __func__, (unsigned long)Handle, "ignored");
		return;
	}
	if (!reg) {
		/* Not a handle kecpuhp ever gave out: hash it like any pointer. */
		kecpuhp_avail_misuse(caller, "%s: invalid handle %p; ignored", __func__, Handle);
		return;
	}
	/*
	 * Unlinked: nothing queues it again. From inside another callback, the
	 * ordered queue runs nothing else: dropping a queued call is enough
	 * (and a flush from a work item of the same class would upset lockdep).
	 */
	if (READ_ONCE(kecpuhp_avail_caller) == current)
		cancel_work(&reg->work);
	else
		cancel_work_sync(&reg->work);
	kfree_rcu(reg, rcu);
}
EXPORT_SYMBOL_GPL(PsUnregisterAvailableCpusChangeNotification);

/**
 * PsQuerySystemAvailableCpus - the processors available now
 * @Affinity: receives the set, by Windows processor index; its Size (in
 *	groups) must cover the active groups
 * @ObservedSequenceNumber: optional; if it equals the current sequence
 *	number, nothing is copied and %STATUS_NO_WORK_DONE is returned
 * @SequenceNumber: receives the sequence number of the answer (even)
 *
 * Context: any; lock-free, never sleeps (Windows: IRQL <= DISPATCH_LEVEL).
 * Return: %STATUS_SUCCESS; %STATUS_NO_WORK_DONE (a warning, not a success:
 * @Affinity untouched, *@SequenceNumber written); %STATUS_BUFFER_TOO_SMALL
 * if @Affinity->Size is smaller than the active group count;
 * %STATUS_INVALID_PARAMETER if @Affinity or @SequenceNumber is NULL.
 */
NTSTATUS PsQuerySystemAvailableCpus(PKAFFINITY_EX Affinity, PULONG64 ObservedSequenceNumber,
				    PULONG64 SequenceNumber)
{
	u32 words, i, size;
	u64 *dst, seq;

	if (!Affinity || !SequenceNumber)
		return STATUS_INVALID_PARAMETER;
	dst = (u64 *)((u8 *)Affinity + offsetof(KAFFINITY_EX, Bitmap));
	do {
		seq = kecpuhp_avail_read_begin();
		*SequenceNumber = seq;
		if (ObservedSequenceNumber && *ObservedSequenceNumber == seq)
			return STATUS_NO_WORK_DONE;
		words = READ_ONCE(kecpuhp_avail_words);
		size = Affinity->Size;
		if (size < words)
			return STATUS_BUFFER_TOO_SMALL;
		for (i = 0; i < size; i++)
			dst[i] = i < words ? READ_ONCE(kecpuhp_avail_map[i]) : 0;
		Affinity->Count = words;
	} while (kecpuhp_avail_read_retry(seq));
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_GPL(PsQuerySystemAvailableCpus);

/**
 * PsQuerySystemAvailableCpusCount - count the processors available now
 * @AvailableCpuCount: receives the count
 * @SequenceNumber: receives the sequence number of the answer (even)
 *
 * Context: any; lock-free, never sleeps (Windows: IRQL <= DISPATCH_LEVEL).
 * Return: %STATUS_SUCCESS, or %STATUS_INVALID_PARAMETER if either pointer
 * is NULL.
 */
NTSTATUS PsQuerySystemAvailableCpusCount(PULONG AvailableCpuCount, PULONG64 SequenceNumber)
{
	u32 count;
	u64 seq;

	if (!AvailableCpuCount || !SequenceNumber)
		return STATUS_INVALID_PARAMETER;
	do {
		seq = kecpuhp_avail_read_begin();
		count = READ_ONCE(kecpuhp_avail_count);
	} while (kecpuhp_avail_read_retry(seq));
	*AvailableCpuCount = count;
	*SequenceNumber = seq;
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_GPL(PsQuerySystemAvailableCpusCount);

/* --- module unload, init, exit --- */

/*
 * Unregister what a going module left behind. Unrelated unloads only walk
 * the list under RCU: they never wait on kecpuhp's locks.
 */
static int kecpuhp_avail_module_going(struct notifier_block *nb, unsigned long action,
				      void *data)
{
	struct kecpuhp_avail_reg *reg;
	struct module *mod = data;
	bool found = false;
	unsigned long id;

	if (action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	rcu_read_lock();
	list_for_each_entry_rcu(reg, &kecpuhp_avail_regs, node)
		found |= within_module((unsigned long)reg->fn, mod);
	rcu_read_unlock();
	if (!found)
		return NOTIFY_DONE;

	/*
	 * One at a time, waiting without the mutex: the call being waited for
	 * may itself unregister something.
	 */
	for (;;) {
		mutex_lock(&kecpuhp_avail_mutex);
		xa_for_each(&kecpuhp_avail_handles, id, reg)
			if (within_module((unsigned long)reg->fn, mod))
				break;
		if (reg)
			kecpuhp_avail_unlink((PS_AVAILABLE_CPUS_CHANGE_REGISTRATION)id);
		mutex_unlock(&kecpuhp_avail_mutex);
		if (!reg)
			break;
		pr_err("module %s unloaded without unregistering available-CPUs callback %ps (handle %lu); unregistered on its behalf\n",
		       mod->name, reg->fn, id);
		/* Its text is still there: a running call may finish. */
		cancel_work_sync(&reg->work);
		kfree_rcu(reg, rcu);
	}
	return NOTIFY_OK;
}

static struct notifier_block kecpuhp_avail_module_nb = {
	.notifier_call = kecpuhp_avail_module_going,
};

/*
 * Before the processor-change states: the workqueue, the topology table,
 * and the cpuhp state (its startup snapshots the CPUs online now; the
 * refresh it queues waits for kecpuhp_available_start()).
 */
int kecpuhp_available_init(void)
{
	int ret;

	kecpuhp_map_words = max_t(u32, DIV_ROUND_UP(num_possible_cpus(), MAXIMUM_PROC_PER_GROUP),
				  1);
	kecpuhp_avail_map = kcalloc(kecpuhp_map_words, sizeof(u64), GFP_KERNEL);
	kecpuhp_avail_scratch = kcalloc(kecpuhp_map_words, sizeof(u64), GFP_KERNEL);
	kecpuhp_avail_wq = alloc_ordered_workqueue("kecpuhp_available", 0);
	kecpuhp_refresh_wq = alloc_ordered_workqueue("kecpuhp_refresh", 0);
	ret = kecpuhp_topology_init();
	if (!kecpuhp_avail_map || !kecpuhp_avail_scratch || !kecpuhp_avail_wq ||
	    !kecpuhp_refresh_wq || ret) {
		ret = -ENOMEM;
		goto err;
	}
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "kecpuhp:available",
				kecpuhp_avail_cpu_online, kecpuhp_avail_cpu_offline);
	if (ret < 0)
		goto err;
	kecpuhp_avail_state = ret;
	ret = register_module_notifier(&kecpuhp_avail_module_nb);
	if (ret) {
		cpuhp_remove_state_nocalls(kecpuhp_avail_state);
		goto err;
	}
	return 0;
err:
	if (kecpuhp_refresh_wq)
		destroy_workqueue(kecpuhp_refresh_wq);
	if (kecpuhp_avail_wq)
		destroy_workqueue(kecpuhp_avail_wq);
	kecpuhp_topology_exit();
	kfree(kecpuhp_avail_scratch);
	kfree(kecpuhp_avail_map);
	return ret;
}

/* After the processor-change states: the indexes exist, publish the set. */
void kecpuhp_available_start(void)
{
	cpus_read_lock();
	kecpuhp_avail_refresh(false);
	/* Pairs with the acquire in kecpuhp_avail_update(). */
	smp_store_release(&kecpuhp_avail_ready, true);
	cpus_read_unlock();
}

/* Module exit: dependent modules are gone, so no registration is left. */
void kecpuhp_available_exit(void)
{
	struct kecpuhp_avail_reg *reg;
	unsigned long id;

	unregister_module_notifier(&kecpuhp_avail_module_nb);
	cpuhp_remove_state_nocalls(kecpuhp_avail_state);
	/* Both run what is queued: the registrations are still valid. */
	destroy_workqueue(kecpuhp_refresh_wq);
	destroy_workqueue(kecpuhp_avail_wq);
	xa_for_each(&kecpuhp_avail_handles, id, reg) {
		pr_err("available-CPUs registration %lu (%ps) left at unload; freed\n",
		       id, reg->fn);
		xa_erase(&kecpuhp_avail_handles, id);
		list_del(&reg->node);
		kfree(reg);
	}
	xa_destroy(&kecpuhp_avail_handles);
	rcu_barrier();			/* the kfree_rcu()s of Unregister */
	kecpuhp_topology_exit();
	kfree(kecpuhp_avail_scratch);
	kfree(kecpuhp_avail_map);
}
