// SPDX-License-Identifier: GPL-2.0
/*
 * DPC objects: KeInitializeDpc(), KeInsertQueueDpc() and the rest, on one
 * queue and one thread per CPU.
 *
 * Each CPU has a queue of KDPCs, linked through their DpcListEntry and
 * guarded by a raw spin lock taken with interrupts off, so DPCs can be
 * queued from any context, hard interrupts included. Each CPU also has a
 * bound SCHED_FIFO kernel thread (kecpuhp_dpc/N, an smpboot thread, so
 * hotplug parks and unparks it) that runs the queue in order: a DPC's
 * routine with preemption disabled (DISPATCH_LEVEL), a threaded DPC's
 * routine with preemption enabled (PASSIVE_LEVEL, high priority). Running
 * in a thread rather than in a softirq keeps the routine in task context,
 * where it may call KeIpiGenericCall() as a Windows DPC may, and lets
 * KeGenericCallDpc() routines wait for each other at a barrier without
 * starving the CPU's stopper (see gencall.c).
 *
 * A queue is open from the shim's CPUHP_AP_ONLINE_DYN startup on its CPU,
 * which comes before the shim's Complete notification, so a DPC aimed at a
 * processor being added runs there from Complete on. The teardown of that
 * state, on the CPU going offline, closes the queue and waits until its
 * thread has run everything queued, on that CPU. A DPC inserted for a CPU
 * whose queue is closed (offline, or not yet online in Start) runs on
 * another processor at once, with a rate-limited error naming the caller
 * and the routine: it is never lost, never waits for a CPU that may not come
 * back, and never moves silently.
 *
 * KeFlushQueuedDpcs() puts a marker DPC at the tail of every queue that is
 * open or still has work, and waits until all markers have run. A module
 * that goes away with DPCs queued has them removed and reported by the
 * module notifier, which costs an unrelated unload one atomic read when no
 * DPC is queued or running anywhere.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/export.h>
#include <linux/hardirq.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/smpboot.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "internal.h"

/* KDPC.Type of an initialised object: the Windows KOBJECTS values. */
#define KECPUHP_DPC_OBJECT		19	/* DpcObject */
#define KECPUHP_THREADED_DPC_OBJECT	24	/* ThreadedDpcObject */
/* KDPC.ProcessorHistory of an initialised object, xor its address. */
#define KECPUHP_DPC_COOKIE		((KAFFINITY)0x6b6563707568705aULL)

#define KECPUHP_DPC_BATCH		64	/* routines per thread_fn call */

struct kecpuhp_dpc_queue {
	raw_spinlock_t lock;
	SINGLE_LIST_ENTRY head;		/* head.Next: the first queued DPC */
	PSINGLE_LIST_ENTRY tail;	/* the last one's entry, or &head */
	bool open;			/* its CPU takes DPCs */
	bool busy;			/* the thread is running a routine */
	unsigned int waiters;		/* tasks in wait_event(idle) */
	PKDEFERRED_ROUTINE running;	/* the routine being run */
	unsigned int cpu;
	wait_queue_head_t idle;
	KDPC marker;			/* KeFlushQueuedDpcs() */
};

static DEFINE_PER_CPU(struct kecpuhp_dpc_queue, kecpuhp_dpc_queues);
static DEFINE_PER_CPU(struct task_struct *, kecpuhp_dpc_threads);
/* DPCs queued or running anywhere: the module notifier's fast path. */
static atomic_t kecpuhp_dpc_pending = ATOMIC_INIT(0);
static DEFINE_MUTEX(kecpuhp_dpc_flush_mutex);
static int kecpuhp_dpc_state;

#define kecpuhp_dpc_err(caller, api, fmt, ...) \
	pr_err_ratelimited("%pS: %s: " fmt "\n", caller, api, ##__VA_ARGS__)

static PKDPC kecpuhp_dpc_of(PSINGLE_LIST_ENTRY e)
{
	return container_of(e, KDPC, DpcListEntry);
}

static KAFFINITY kecpuhp_dpc_cookie(const KDPC *dpc)
{
	return (KAFFINITY)dpc ^ KECPUHP_DPC_COOKIE;
}

/* Initialised by KeInitializeDpc() here, at this address; reads only. */
static bool kecpuhp_dpc_initialised(const KDPC *dpc)
{
	return (dpc->Type == KECPUHP_DPC_OBJECT || dpc->Type == KECPUHP_THREADED_DPC_OBJECT) &&
	       dpc->ProcessorHistory == kecpuhp_dpc_cookie(dpc) && dpc->DeferredRoutine;
}

static bool kecpuhp_dpc_check(const KDPC *dpc, void *caller, const char *api)
{
	if (!dpc) {
		kecpuhp_dpc_err(caller, api, "NULL DPC; ignored");
		return false;
	}
	if (!kecpuhp_dpc_initialised(dpc)) {
		kecpuhp_dpc_err(caller, api, "DPC %p was not initialised with KeInitializeDpc(); ignored",
				dpc);
		return false;
	}
	return true;
}

static void kecpuhp_dpc_init_object(PKDPC dpc, UCHAR type, PKDEFERRED_ROUTINE routine,
				    PVOID context)
{
	*dpc = (KDPC) {
		.Type = type,
		.Importance = MediumImportance,
		.ProcessorHistory = kecpuhp_dpc_cookie(dpc),
		.DeferredRoutine = routine,
		.DeferredContext = context,
	};
}

/* Link @dpc into @q, lock held; false if it is queued already (anywhere). */
static bool kecpuhp_dpc_enqueue(struct kecpuhp_dpc_queue *q, PKDPC dpc, PVOID a1, PVOID a2)
{
	lockdep_assert_held(&q->lock);
	/*
	 * DpcData says where the DPC is queued. Two CPUs may insert the same
	 * DPC into different queues under different locks: the cmpxchg picks
	 * one. It is cleared only under the lock of the queue it names.
	 */
	if (cmpxchg(&dpc->DpcData, NULL, (void *)q))
		return false;
	dpc->SystemArgument1 = a1;
	dpc->SystemArgument2 = a2;
	if (dpc->Importance == HighImportance) {
		dpc->DpcListEntry.Next = q->head.Next;
		q->head.Next = &dpc->DpcListEntry;
		if (q->tail == &q->head)
			q->tail = &dpc->DpcListEntry;
	} else {
		dpc->DpcListEntry.Next = NULL;
		q->tail->Next = &dpc->DpcListEntry;
		q->tail = &dpc->DpcListEntry;
	}
	atomic_inc(&kecpuhp_dpc_pending);
	return true;
}

/* Unlink the entry after @prev, lock held. */
static void kecpuhp_dpc_unlink(struct kecpuhp_dpc_queue *q, PSINGLE_LIST_ENTRY prev)
{
	PSINGLE_LIST_ENTRY e = prev->Next;

	prev->Next = e->Next;
	if (q->tail == e)
		q->tail = prev;
	WRITE_ONCE(kecpuhp_dpc_of(e)->DpcData, NULL);
	atomic_dec(&kecpuhp_dpc_pending);
}

/* Wake @q's thread after an insert, if it may be asleep. Lock not held. */
static void kecpuhp_dpc_kick(struct kecpuhp_dpc_queue *q)
{
	struct task_struct *t = per_cpu(kecpuhp_dpc_threads, q->cpu);

	if (t)
		wake_up_process(t);
}

/* The thread may be idle: nothing was queued and nothing runs. Lock held. */
static bool kecpuhp_dpc_needs_kick(struct kecpuhp_dpc_queue *q)
{
	return !q->head.Next && !q->busy;
}

enum { KECPUHP_DPC_CLOSED = -1, KECPUHP_DPC_ALREADY = 0, KECPUHP_DPC_QUEUED = 1 };

/* Queue @dpc on @q if @q is open; wake its thread if it may sleep. */
static int kecpuhp_dpc_try(struct kecpuhp_dpc_queue *q, PKDPC dpc, PVOID a1, PVOID a2)
{
	int ret = KECPUHP_DPC_CLOSED;
	unsigned long flags;
	bool kick = false;

	raw_spin_lock_irqsave(&q->lock, flags);
	if (q->open) {
		kick = kecpuhp_dpc_needs_kick(q);
		ret = kecpuhp_dpc_enqueue(q, dpc, a1, a2) ? KECPUHP_DPC_QUEUED :
							    KECPUHP_DPC_ALREADY;
	}
	raw_spin_unlock_irqrestore(&q->lock, flags);
	if (ret == KECPUHP_DPC_QUEUED && kick)
		kecpuhp_dpc_kick(q);
	return ret;
}

/* Queue a misdirected DPC on an open queue: this CPU's if it can. */
static int kecpuhp_dpc_fallback(PKDPC dpc, PVOID a1, PVOID a2, unsigned int *ran_on)
{
	unsigned int cpu = raw_smp_processor_id();
	int ret;

	ret = kecpuhp_dpc_try(per_cpu_ptr(&kecpuhp_dpc_queues, cpu), dpc, a1, a2);
	if (ret != KECPUHP_DPC_CLOSED) {
		*ran_on = cpu;
		return ret;
	}
	for_each_online_cpu(cpu) {
		ret = kecpuhp_dpc_try(per_cpu_ptr(&kecpuhp_dpc_queues, cpu), dpc, a1, a2);
		if (ret != KECPUHP_DPC_CLOSED) {
			*ran_on = cpu;
			return ret;
		}
	}
	return KECPUHP_DPC_CLOSED;
}

/**
 * kecpuhp_dpc_cpu_ready - whether a CPU runs DPCs now
 * @cpu: a Linux CPU id
 *
 * True from the shim's online startup on @cpu to its offline teardown. Stable
 * while the hotplug lock is held by anyone.
 *
 * Context: any.
 * Return: whether @cpu's DPC queue is open.
 */
bool kecpuhp_dpc_cpu_ready(unsigned int cpu)
{
	/*
	 * Lockless: written under the queue lock from the cpuhp callbacks, so
	 * a caller holding the hotplug lock (or in a pass) reads a stable value.
	 */
	return READ_ONCE(per_cpu_ptr(&kecpuhp_dpc_queues, cpu)->open);
}

/**
 * kecpuhp_dpc_queue_on - queue a DPC on a CPU, never elsewhere
 * @dpc: an initialised DPC
 * @cpu: a CPU whose queue is open
 * @a1: SystemArgument1
 * @a2: SystemArgument2
 *
 * For the generic calls, which must run on each CPU exactly.
 *
 * Context: any.
 * Return: false if @cpu's queue is closed or @dpc is queued already.
 */
bool kecpuhp_dpc_queue_on(PKDPC dpc, unsigned int cpu, PVOID a1, PVOID a2)
{
	return kecpuhp_dpc_try(per_cpu_ptr(&kecpuhp_dpc_queues, cpu), dpc, a1, a2) ==
	       KECPUHP_DPC_QUEUED;
}

/**
 * kecpuhp_dpc_init_internal - initialise a DPC of the shim's own
 * @dpc: the object
 * @routine: its routine
 * @context: its DeferredContext
 */
void kecpuhp_dpc_init_internal(PKDPC dpc, PKDEFERRED_ROUTINE routine, PVOID context)
{
	kecpuhp_dpc_init_object(dpc, KECPUHP_DPC_OBJECT, routine, context);
}

/* True in a DPC thread: where KeFlushQueuedDpcs() and the like would wait for themselves. */
bool kecpuhp_dpc_in_thread(void)
{
	return current == raw_cpu_read(kecpuhp_dpc_threads);
}

static void kecpuhp_dpc_initialize(PKDPC dpc, UCHAR type, PKDEFERRED_ROUTINE routine,
				   PVOID context, void *caller, const char *api)
{
	if (!dpc) {
		kecpuhp_dpc_err(caller, api, "NULL DPC; ignored");
		return;
	}
	if (kecpuhp_dpc_initialised(dpc) && READ_ONCE(dpc->DpcData)) {
		kecpuhp_dpc_err(caller, api, "DPC %ps is queued; not initialised again",
				dpc->DeferredRoutine);
		return;
	}
	if (!routine) {
		/* Left uninitialised, so a later insert fails cleanly. */
		memset(dpc, 0, sizeof(*dpc));
		kecpuhp_dpc_err(caller, api, "NULL DeferredRoutine; the DPC stays uninitialised");
		return;
	}
	kecpuhp_dpc_init_object(dpc, type, routine, context);
}

/**
 * KeInitializeDpc - initialise a DPC object
 * @Dpc: caller-allocated storage (resident, as on Windows)
 * @DeferredRoutine: called as DeferredRoutine(Dpc, DeferredContext,
 *	SystemArgument1, SystemArgument2) on the target processor, with
 *	preemption disabled (DISPATCH_LEVEL), interrupts enabled; it must not
 *	sleep
 * @DeferredContext: passed to @DeferredRoutine as it is
 *
 * The target is the processor that queues the DPC, until
 * KeSetTargetProcessorDpcEx() says otherwise; importance is medium.
 * Initialising a DPC that is queued is refused with an error.
 *
 * Context: any.
 */
void KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
	kecpuhp_dpc_initialize(Dpc, KECPUHP_DPC_OBJECT, DeferredRoutine, DeferredContext,
			       (void *)_RET_IP_, __func__);
}
EXPORT_SYMBOL_GPL(KeInitializeDpc);

/**
 * KeInitializeThreadedDpc - initialise a threaded DPC object
 * @Dpc: caller-allocated storage
 * @DeferredRoutine: as for KeInitializeDpc(), but called with preemption
 *	enabled (PASSIVE_LEVEL) in the processor's high-priority DPC thread;
 *	it must not sleep either, as on Windows
 * @DeferredContext: passed to @DeferredRoutine as it is
 *
 * Context: any.
 */
void KeInitializeThreadedDpc(PKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine,
			     PVOID DeferredContext)
{
	kecpuhp_dpc_initialize(Dpc, KECPUHP_THREADED_DPC_OBJECT, DeferredRoutine,
			       DeferredContext, (void *)_RET_IP_, __func__);
}
EXPORT_SYMBOL_GPL(KeInitializeThreadedDpc);

/**
 * KeSetTargetProcessorDpcEx - run a DPC on a given processor
 * @Dpc: an initialised DPC
 * @ProcNumber: the processor, by group and number
 *
 * A processor is valid from its Start notification on, so a driver can aim
 * a DPC at a processor being added; the DPC runs there once the processor
 * is online (from Complete on). Set the target while the DPC is not queued.
 *
 * Context: any.
 * Return: %STATUS_SUCCESS, or %STATUS_INVALID_PARAMETER (target unchanged,
 * error logged) for an invalid or NULL @ProcNumber or an uninitialised DPC.
 */
NTSTATUS KeSetTargetProcessorDpcEx(PKDPC Dpc, PPROCESSOR_NUMBER ProcNumber)
{
	void *caller = (void *)_RET_IP_;
	ULONG index;

	if (!kecpuhp_dpc_check(Dpc, caller, __func__))
		return STATUS_INVALID_PARAMETER;
	index = KeGetProcessorIndexFromNumber(ProcNumber);
	if (index == INVALID_PROCESSOR_INDEX || index >= U16_MAX) {
		kecpuhp_dpc_err(caller, __func__, "no processor %u:%u; target unchanged",
				ProcNumber ? ProcNumber->Group : 0,
				ProcNumber ? ProcNumber->Number : 0);
		return STATUS_INVALID_PARAMETER;
	}
	WRITE_ONCE(Dpc->Number, index + 1);
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_GPL(KeSetTargetProcessorDpcEx);

/**
 * KeSetTargetProcessorDpc - the legacy KeSetTargetProcessorDpcEx(), group 0
 * @Dpc: an initialised DPC
 * @Number: a processor number in group 0
 *
 * An invalid number leaves the target unchanged, with an error.
 *
 * Context: any.
 */
void KeSetTargetProcessorDpc(PRKDPC Dpc, CCHAR Number)
{
	PROCESSOR_NUMBER pn = { .Group = 0, .Number = (UCHAR)Number };
	void *caller = (void *)_RET_IP_;
	ULONG index;

	if (!kecpuhp_dpc_check(Dpc, caller, __func__))
		return;
	index = Number < 0 ? INVALID_PROCESSOR_INDEX : KeGetProcessorIndexFromNumber(&pn);
	if (index == INVALID_PROCESSOR_INDEX) {
		kecpuhp_dpc_err(caller, __func__, "no processor %d; target unchanged", Number);
		return;
	}
	WRITE_ONCE(Dpc->Number, index + 1);
}
EXPORT_SYMBOL_GPL(KeSetTargetProcessorDpc);

/**
 * KeSetImportanceDpc - where a DPC goes in its queue
 * @Dpc: an initialised DPC
 * @Importance: %HighImportance queues it at the head, the others at the tail
 *
 * Context: any.
 */
void KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance)
{
	void *caller = (void *)_RET_IP_;

	if (!kecpuhp_dpc_check(Dpc, caller, __func__))
		return;
	if ((unsigned int)Importance > MediumHighImportance) {
		kecpuhp_dpc_err(caller, __func__, "importance %d is not a KDPC_IMPORTANCE; unchanged",
				Importance);
		return;
	}
	WRITE_ONCE(Dpc->Importance, Importance);
}
EXPORT_SYMBOL_GPL(KeSetImportanceDpc);

/**
 * KeInsertQueueDpc - queue a DPC to run on its target processor
 * @Dpc: an initialised DPC
 * @SystemArgument1: passed to the routine
 * @SystemArgument2: passed to the routine
 *
 * The routine runs once per successful insert, on the target processor (the
 * current one if none was set). If that processor does not run DPCs now (it
 * is offline, or still being added and not yet online), the DPC runs on
 * another processor at once and a rate-limited error names the caller and
 * the routine.
 *
 * Context: any, interrupts included.
 * Return: TRUE if queued; FALSE if it was queued already (then the
 * arguments are not updated), or on misuse (NULL or uninitialised DPC).
 */
BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
	void *caller = (void *)_RET_IP_;
	int ret = KECPUHP_DPC_CLOSED, cpu;
	unsigned int ran_on;
	USHORT target;

	if (!kecpuhp_dpc_check(Dpc, caller, __func__))
		return FALSE;
	target = READ_ONCE(Dpc->Number);
	/* No target: this processor, which cannot change under us meanwhile. */
	preempt_disable();
	cpu = target ? kecpuhp_index_to_cpu(target - 1) : smp_processor_id();
	if (cpu >= 0)
		ret = kecpuhp_dpc_try(per_cpu_ptr(&kecpuhp_dpc_queues, cpu), Dpc,
				      SystemArgument1, SystemArgument2);
	if (ret == KECPUHP_DPC_CLOSED) {
		ret = kecpuhp_dpc_fallback(Dpc, SystemArgument1, SystemArgument2, &ran_on);
		if (ret == KECPUHP_DPC_QUEUED)
			kecpuhp_dpc_err(caller, __func__, "DPC %ps aimed at processor %u (CPU%d), which does not run DPCs now (offline); it runs on processor %u instead",
					Dpc->DeferredRoutine, target ? target - 1 : 0, cpu,
					kecpuhp_cpu_to_index(ran_on));
		else if (ret == KECPUHP_DPC_CLOSED)
			kecpuhp_dpc_err(caller, __func__, "DPC %ps: no processor runs DPCs; not queued",
					Dpc->DeferredRoutine);
	}
	preempt_enable();
	return ret == KECPUHP_DPC_QUEUED;
}
EXPORT_SYMBOL_GPL(KeInsertQueueDpc);

/**
 * KeRemoveQueueDpc - take a DPC out of its queue
 * @Dpc: an initialised DPC
 *
 * A routine that has started is not affected: it runs to its end.
 *
 * Context: any, interrupts included.
 * Return: TRUE if the DPC was queued and now is not (its routine will not
 * run for that insert), FALSE if it was not queued or on misuse.
 */
BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc)
{
	struct kecpuhp_dpc_queue *q;
	PSINGLE_LIST_ENTRY prev;
	unsigned long flags;
	bool removed = false;

	if (!kecpuhp_dpc_check(Dpc, (void *)_RET_IP_, __func__))
		return FALSE;
	for (;;) {
		/* Lockless peek; confirmed under the lock of the queue it names. */
		q = READ_ONCE(Dpc->DpcData);
		if (!q)
			return FALSE;
		raw_spin_lock_irqsave(&q->lock, flags);
		if (READ_ONCE(Dpc->DpcData) == q) {
			for (prev = &q->head; prev->Next; prev = prev->Next) {
				if (prev->Next == &Dpc->DpcListEntry) {
					kecpuhp_dpc_unlink(q, prev);
					removed = true;
					break;
				}
			}
			WARN_ON_ONCE(!removed);
			raw_spin_unlock_irqrestore(&q->lock, flags);
			return removed;
		}
		/* Run and queued again elsewhere meanwhile: look again. */
		raw_spin_unlock_irqrestore(&q->lock, flags);
	}
}
EXPORT_SYMBOL_GPL(KeRemoveQueueDpc);

struct kecpuhp_dpc_flush {
	atomic_t left;
	struct completion done;
};

static VOID kecpuhp_dpc_flushed(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct kecpuhp_dpc_flush *f = ctx;

	if (atomic_dec_and_test(&f->left))
		complete(&f->done);
}

/**
 * KeFlushQueuedDpcs - wait until every DPC queued so far has run
 *
 * Returns when the routine of every DPC queued (and not removed) before the
 * call has returned, on every processor, including DPCs that had to run on
 * another processor. It never waits for a processor that is offline: such
 * a processor has no DPC queued.
 *
 * Context: process context, may sleep (Windows: PASSIVE_LEVEL); not from a
 * DPC routine.
 */
void KeFlushQueuedDpcs(void)
{
	struct kecpuhp_dpc_flush f;
	struct kecpuhp_dpc_queue *q;
	unsigned int cpu;
	bool kick;

	if (preempt_count() || irqs_disabled() || kecpuhp_dpc_in_thread()) {
		kecpuhp_dpc_err((void *)_RET_IP_, __func__,
				"called from a DPC or atomic context; not waiting");
		return;
	}
	might_sleep();
	mutex_lock(&kecpuhp_dpc_flush_mutex);
	atomic_set(&f.left, 1);
	init_completion(&f.done);
	for_each_possible_cpu(cpu) {
		q = per_cpu_ptr(&kecpuhp_dpc_queues, cpu);
		kick = false;
		raw_spin_lock_irq(&q->lock);
		/* A closed queue with work is being drained by its teardown. */
		if (q->open || q->head.Next || q->busy) {
			kick = kecpuhp_dpc_needs_kick(q);
			kecpuhp_dpc_init_internal(&q->marker, kecpuhp_dpc_flushed, &f);
			atomic_inc(&f.left);
			WARN_ON_ONCE(!kecpuhp_dpc_enqueue(q, &q->marker, NULL, NULL));
		}
		raw_spin_unlock_irq(&q->lock);
		if (kick)
			kecpuhp_dpc_kick(q);
	}
	if (!atomic_dec_and_test(&f.left))
		wait_for_completion(&f.done);
	mutex_unlock(&kecpuhp_dpc_flush_mutex);
}
EXPORT_SYMBOL_GPL(KeFlushQueuedDpcs);

/* Tell the waiters of @q that its state changed. Lock not held. */
static void kecpuhp_dpc_wake_waiters(struct kecpuhp_dpc_queue *q, bool waiters)
{
	if (waiters)
		wake_up(&q->idle);
}

static int kecpuhp_dpc_should_run(unsigned int cpu)
{
	/* Lockless peek: an insert's wake_up_process() orders its store before our sleep. */
	return !!READ_ONCE(per_cpu_ptr(&kecpuhp_dpc_queues, cpu)->head.Next);
}

/* Run up to a batch of DPCs of this CPU's queue, in order. */
static void kecpuhp_dpc_run(unsigned int cpu)
{
	struct kecpuhp_dpc_queue *q = per_cpu_ptr(&kecpuhp_dpc_queues, cpu);
	PVOID ctx, a1, a2;
	PKDEFERRED_ROUTINE fn;
	bool threaded, waiters;
	unsigned int n;
	PKDPC dpc;

	for (n = 0; n < KECPUHP_DPC_BATCH; n++) {
		raw_spin_lock_irq(&q->lock);
		if (!q->head.Next) {
			raw_spin_unlock_irq(&q->lock);
			break;
		}
		dpc = kecpuhp_dpc_of(q->head.Next);
		fn = dpc->DeferredRoutine;
		ctx = dpc->DeferredContext;
		a1 = dpc->SystemArgument1;
		a2 = dpc->SystemArgument2;
		threaded = dpc->Type == KECPUHP_THREADED_DPC_OBJECT;
		/* Dequeued before the call, so the routine may queue it again. */
		kecpuhp_dpc_unlink(q, &q->head);
		atomic_inc(&kecpuhp_dpc_pending);	/* still running */
		q->busy = true;
		q->running = fn;
		raw_spin_unlock_irq(&q->lock);

		if (threaded) {
			fn(dpc, ctx, a1, a2);
		} else {
			preempt_disable();
			fn(dpc, ctx, a1, a2);
			preempt_enable();
		}

		raw_spin_lock_irq(&q->lock);
		q->busy = false;
		q->running = NULL;
		waiters = q->waiters;
		raw_spin_unlock_irq(&q->lock);
		atomic_dec(&kecpuhp_dpc_pending);
		kecpuhp_dpc_wake_waiters(q, waiters);
	}
}

static void kecpuhp_dpc_setup(unsigned int cpu)
{
	/* Above ordinary threads, like a Windows DPC; below the stopper. */
	sched_set_fifo(current);
}

static struct smp_hotplug_thread kecpuhp_dpc_smpboot = {
	.store = &kecpuhp_dpc_threads,
	.thread_should_run = kecpuhp_dpc_should_run,
	.thread_fn = kecpuhp_dpc_run,
	.setup = kecpuhp_dpc_setup,
	.thread_comm = "kecpuhp_dpc/%u",
};

static bool kecpuhp_dpc_idle(struct kecpuhp_dpc_queue *q)
{
	bool idle;

	raw_spin_lock_irq(&q->lock);
	idle = !q->head.Next && !q->busy;
	raw_spin_unlock_irq(&q->lock);
	return idle;
}

/* Wait until @q has nothing queued or running. */
static void kecpuhp_dpc_wait_idle(struct kecpuhp_dpc_queue *q)
{
	raw_spin_lock_irq(&q->lock);
	q->waiters++;
	raw_spin_unlock_irq(&q->lock);
	wait_event(q->idle, kecpuhp_dpc_idle(q));
	raw_spin_lock_irq(&q->lock);
	q->waiters--;
	raw_spin_unlock_irq(&q->lock);
}

/* CPUHP_AP_ONLINE_DYN startup, on @cpu, before the shim's Complete. */
static int kecpuhp_dpc_online(unsigned int cpu)
{
	struct kecpuhp_dpc_queue *q = per_cpu_ptr(&kecpuhp_dpc_queues, cpu);

	raw_spin_lock_irq(&q->lock);
	WRITE_ONCE(q->open, true);
	raw_spin_unlock_irq(&q->lock);
	return 0;
}

/* Its teardown, on @cpu going offline: close, and run what is queued here. */
static int kecpuhp_dpc_offline(unsigned int cpu)
{
	struct kecpuhp_dpc_queue *q = per_cpu_ptr(&kecpuhp_dpc_queues, cpu);

	raw_spin_lock_irq(&q->lock);
	WRITE_ONCE(q->open, false);
	raw_spin_unlock_irq(&q->lock);
	kecpuhp_dpc_kick(q);
	kecpuhp_dpc_wait_idle(q);
	return 0;
}

/* Remove the DPCs of a going module from @q; report them. */
static void kecpuhp_dpc_purge(struct kecpuhp_dpc_queue *q, struct module *mod)
{
	PKDEFERRED_ROUTINE gone[4];
	PSINGLE_LIST_ENTRY prev;
	unsigned int n = 0, i;
	bool running;
	PKDPC dpc;

	raw_spin_lock_irq(&q->lock);
	prev = &q->head;
	while (prev->Next) {
		dpc = kecpuhp_dpc_of(prev->Next);
		if (!within_module((unsigned long)dpc->DeferredRoutine, mod)) {
			prev = prev->Next;
			continue;
		}
		if (n < ARRAY_SIZE(gone))
			gone[n] = dpc->DeferredRoutine;
		n++;
		kecpuhp_dpc_unlink(q, prev);
	}
	running = q->busy && within_module((unsigned long)q->running, mod);
	raw_spin_unlock_irq(&q->lock);

	for (i = 0; i < min_t(unsigned int, n, ARRAY_SIZE(gone)); i++)
		pr_err("module %s unloaded with DPC %ps queued on CPU%u; removed, it will not run\n",
		       mod->name, gone[i], q->cpu);
	if (n > ARRAY_SIZE(gone))
		pr_err("module %s: %u more DPCs removed from CPU%u\n", mod->name,
		       n - (unsigned int)ARRAY_SIZE(gone), q->cpu);
	if (running) {
		pr_err("module %s unloaded while its DPC runs on CPU%u; waiting for it\n",
		       mod->name, q->cpu);
		kecpuhp_dpc_wait_idle(q);
	}
}

static int kecpuhp_dpc_module_going(struct notifier_block *nb, unsigned long action,
				    void *data)
{
	unsigned int cpu;

	if (action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	/*
	 * The common unload: nothing queued or running anywhere, one atomic
	 * read. The going module's own inserts were ordered before its exit
	 * returned, and the module loader's locking before this notifier.
	 */
	if (!atomic_read(&kecpuhp_dpc_pending))
		return NOTIFY_DONE;
	for_each_possible_cpu(cpu)
		kecpuhp_dpc_purge(per_cpu_ptr(&kecpuhp_dpc_queues, cpu), data);
	return NOTIFY_OK;
}

struct notifier_block kecpuhp_dpc_module_nb = {
	.notifier_call = kecpuhp_dpc_module_going,
};

/**
 * kecpuhp_dpc_init - the DPC threads and queues
 *
 * Called before the shim's own cpuhp states are installed, so that its
 * online state comes first and a new CPU takes DPCs by its Complete.
 *
 * Context: module init.
 * Return: 0 or an errno.
 */
int kecpuhp_dpc_init(void)
{
	struct kecpuhp_dpc_queue *q;
	unsigned int cpu;
	int ret;

	for_each_possible_cpu(cpu) {
		q = per_cpu_ptr(&kecpuhp_dpc_queues, cpu);
		raw_spin_lock_init(&q->lock);
		q->tail = &q->head;
		q->cpu = cpu;
		init_waitqueue_head(&q->idle);
	}
	ret = smpboot_register_percpu_thread(&kecpuhp_dpc_smpboot);
	if (ret)
		return ret;
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "kecpuhp:dpc", kecpuhp_dpc_online,
				kecpuhp_dpc_offline);
	if (ret < 0) {
		smpboot_unregister_percpu_thread(&kecpuhp_dpc_smpboot);
		return ret;
	}
	kecpuhp_dpc_state = ret;
	return 0;
}

/* Unload: close every queue (running what is left there), stop the threads. */
void kecpuhp_dpc_exit(void)
{
	cpuhp_remove_state(kecpuhp_dpc_state);
	smpboot_unregister_percpu_thread(&kecpuhp_dpc_smpboot);
}
