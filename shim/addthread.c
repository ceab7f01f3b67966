// SPDX-License-Identifier: GPL-2.0
/*
 * The add thread: one kthread of the shim's own that delivers every hot-add
 * notification, Start and then Complete or Failure, as Windows'
 * KiStartDynamicProcessor does from one thread. Drivers rely on it: they
 * keep per-add state between Start and Complete, and move themselves to
 * the new processor in Complete, which a bound cpuhp/N thread cannot do.
 *
 * The cpuhp callbacks hand the thread one pass at a time and wait for it
 * uninterruptibly, so the add still waits for every driver and a veto still
 * fails the online. Adds are serialised by the hotplug lock, so one job
 * slot is enough. The thread takes no hotplug lock itself (the waiter holds
 * it), runs nothing but these passes, and is not freezable.
 *
 * Each pass starts on an active CPU, never the one being added, and the
 * thread's affinity is put back after every callback, so a callback that
 * moves to the new processor and forgets to move back leaks nothing into
 * the next callback or the next add.
 *
 * lockdep sees the hand-off through kecpuhp_add_map: the waiter acquires it
 * before waiting, the thread holds it around a pass. A callback that waits
 * for something the waiter holds (cpus_read_lock(), add_cpu(), ...) is then
 * reported as a circular dependency instead of hanging silently.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/lockdep.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "internal.h"

/* How long a waiter waits before saying which callback holds the add up. */
#define KECPUHP_ADD_PATIENCE	(30 * HZ)

struct kecpuhp_add_job {
	void (*pass)(void *arg);
	void *arg;
	struct completion done;
};

static struct task_struct *kecpuhp_add_task;
static struct kecpuhp_add_job *kecpuhp_add_slot;
static DECLARE_WAIT_QUEUE_HEAD(kecpuhp_add_wq);
static const void *kecpuhp_add_fn;	/* the callback being called */
static cpumask_var_t kecpuhp_add_mask;	/* the pass's CPUs: active ones */
static struct lock_class_key kecpuhp_add_key __maybe_unused;
static struct lockdep_map kecpuhp_add_map __maybe_unused;

bool kecpuhp_in_add_thread(void)
{
	return current == kecpuhp_add_task;
}

pid_t kecpuhp_add_thread_pid(void)
{
	return kecpuhp_add_task ? task_pid_nr(kecpuhp_add_task) : 0;
}

/*
 * Called by the pass before each driver callback, and with NULL after it:
 * a waiter that runs out of patience names the callback, and a callback
 * that changed the thread's affinity gets it put back.
 */
void kecpuhp_add_thread_calling(const void *fn)
{
	if (!kecpuhp_in_add_thread())
		return;
	WRITE_ONCE(kecpuhp_add_fn, fn);
	if (!fn && !cpumask_equal(current->cpus_ptr, kecpuhp_add_mask))
		set_cpus_allowed_ptr(current, kecpuhp_add_mask);
}

/*
 * Run one pass. The waiter holds the hotplug lock, so cpu_active_mask
 * stands still; a CPU being added is not in it (it becomes active only
 * after the shim's states).
 */
static void kecpuhp_add_thread_do(struct kecpuhp_add_job *job)
{
	cpumask_copy(kecpuhp_add_mask, cpu_active_mask);
	set_cpus_allowed_ptr(current, kecpuhp_add_mask);
	lock_map_acquire(&kecpuhp_add_map);
	job->pass(job->arg);
	lock_map_release(&kecpuhp_add_map);
	WRITE_ONCE(kecpuhp_add_fn, NULL);
	/* Between passes CPUs may come and go: let it run anywhere. */
	set_cpus_allowed_ptr(current, cpu_possible_mask);
}

static int kecpuhp_add_thread_fn(void *unused)
{
	struct kecpuhp_add_job *job;

	while (!kthread_should_stop()) {
		/* Idle, not uninterruptible: no load, no hung-task report. */
		wait_event_idle(kecpuhp_add_wq, READ_ONCE(kecpuhp_add_slot) ||
				kthread_should_stop());
		/* Pairs with the release in run(): the job is written. */
		job = smp_load_acquire(&kecpuhp_add_slot);
		if (!job)
			continue;
		kecpuhp_add_thread_do(job);
		WRITE_ONCE(kecpuhp_add_slot, NULL);
		complete(&job->done);
	}
	return 0;
}

/**
 * kecpuhp_add_thread_run - run a notification pass in the add thread
 * @pass: the pass; called with @arg in the add thread
 * @arg: its argument
 *
 * Waits uninterruptibly until @pass has returned, however long the drivers
 * take; every KECPUHP_ADD_PATIENCE it says which callback it waits for.
 *
 * Context: a cpuhp callback of the shim, hotplug lock held for writing.
 */
void kecpuhp_add_thread_run(void (*pass)(void *arg), void *arg)
{
	struct kecpuhp_add_job job = { .pass = pass, .arg = arg };
	unsigned long waited = 0;

	init_completion(&job.done);
	lock_map_acquire(&kecpuhp_add_map);
	lock_map_release(&kecpuhp_add_map);
	if (WARN_ON_ONCE(READ_ONCE(kecpuhp_add_slot) || kecpuhp_in_add_thread()))
		return;
	/* Pairs with the acquire in the thread: it sees the job written. */
	smp_store_release(&kecpuhp_add_slot, &job);
	wake_up(&kecpuhp_add_wq);
	while (!wait_for_completion_timeout(&job.done, KECPUHP_ADD_PATIENCE)) {
		waited += KECPUHP_ADD_PATIENCE / HZ;
		pr_warn("the add of a processor has waited %lus for %ps (add thread pid %d); still waiting\n",
			waited, READ_ONCE(kecpuhp_add_fn), kecpuhp_add_thread_pid());
	}
}

int __init kecpuhp_add_thread_start(void)
{
	struct task_struct *task;

	if (!zalloc_cpumask_var(&kecpuhp_add_mask, GFP_KERNEL))
		return -ENOMEM;
	lockdep_init_map(&kecpuhp_add_map, "kecpuhp_add_thread", &kecpuhp_add_key, 0);
	task = kthread_run(kecpuhp_add_thread_fn, NULL, "kecpuhp_add");
	if (IS_ERR(task)) {
		free_cpumask_var(kecpuhp_add_mask);
		return PTR_ERR(task);
	}
	kecpuhp_add_task = task;
	return 0;
}

void kecpuhp_add_thread_stop(void)
{
	kthread_stop(kecpuhp_add_task);
	kecpuhp_add_task = NULL;
	free_cpumask_var(kecpuhp_add_mask);
}
