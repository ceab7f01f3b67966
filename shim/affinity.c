// SPDX-License-Identifier: GPL-2.0
/*
 * Affinity of the current thread: KeSetSystemGroupAffinityThread() and its
 * relatives, processors named by Windows group and mask, carried out with
 * set_cpus_allowed_ptr() on the current task.
 *
 * Windows keeps two affinities per thread, the user one and a system one
 * set by these calls, and a "previous" of all zeros means "the user one".
 * Linux has one, so the first Set of a thread saves its Linux affinity in a
 * small record, keyed by task, that lives until the revert to the user
 * affinity puts it back exactly as it was and frees the record. Nested Sets
 * only change the system affinity the record remembers, so reverting the
 * inner one and then the outer one works as on Windows.
 *
 * A record holds a reference on its task, so a task that exits without
 * reverting cannot be mistaken for a new task at the same address: its
 * record is reported and dropped by the next Set of any thread that needs a
 * new record, or at unload.
 *
 * Where Linux will not move the thread (a per-CPU or kthread_bind()'ed
 * kernel thread, PF_NO_SETAFFINITY; a user task asked onto a CPU that is not
 * active in the scheduler), where the mask names no processor that is
 * active and online, or the group is not valid, the thread stays where it
 * is, a rate-limited error names the caller, and the record (if any) is
 * unchanged, so the matching revert is harmless.
 *
 * No hotplug lock is taken: set_cpus_allowed_ptr() copes with hotplug, and
 * these calls work from inside a processor-change callback, where the lock
 * is held for the add. A kernel thread (such as the shim's add thread) may
 * run on a CPU that is online but not yet active, so the processor being
 * added can be reached from its Complete notification.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/export.h>
#include <linux/hardirq.h>
#include <linux/hashtable.h>
#include <linux/pid.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>

#include "internal.h"

/* A thread running with a system affinity. */
struct kecpuhp_affinity {
	struct hlist_node node;
	struct task_struct *task;	/* referenced while the record lives */
	GROUP_AFFINITY sys;		/* the system affinity in force */
	cpumask_var_t user;		/* the Linux affinity to revert to */
};

#define KECPUHP_AFFINITY_BITS	6
static DEFINE_HASHTABLE(kecpuhp_affinities, KECPUHP_AFFINITY_BITS);
/* Guards the table; a record's fields are only touched by its own task. */
static DEFINE_SPINLOCK(kecpuhp_affinity_lock);

#define kecpuhp_affinity_err(caller, api, fmt, ...) \
	pr_err_ratelimited("%pS: %s: " fmt "\n", caller, api, ##__VA_ARGS__)

static struct kecpuhp_affinity *kecpuhp_affinity_find(struct task_struct *task)
{
	struct kecpuhp_affinity *rec;

	hash_for_each_possible(kecpuhp_affinities, rec, node, (unsigned long)task)
		if (rec->task == task)
			return rec;
	return NULL;
}

static struct kecpuhp_affinity *kecpuhp_affinity_current(void)
{
	struct kecpuhp_affinity *rec;

	spin_lock(&kecpuhp_affinity_lock);
	rec = kecpuhp_affinity_find(current);
	spin_unlock(&kecpuhp_affinity_lock);
	return rec;
}

static void kecpuhp_affinity_free(struct kecpuhp_affinity *rec)
{
	put_task_struct(rec->task);
	free_cpumask_var(rec->user);
	kfree(rec);
}

/* Insert @new, and take out the records of tasks that exited without reverting. */
static void kecpuhp_affinity_insert(struct kecpuhp_affinity *new)
{
	struct kecpuhp_affinity *rec;
	struct hlist_node *tmp;
	HLIST_HEAD(dead);
	int bkt;

	spin_lock(&kecpuhp_affinity_lock);
	hash_for_each_safe(kecpuhp_affinities, bkt, tmp, rec, node) {
		/* Another task's flags, read racily: PF_EXITING is never cleared. */
		if (!(READ_ONCE(rec->task->flags) & PF_EXITING))
			continue;
		hash_del(&rec->node);
		hlist_add_head(&rec->node, &dead);
	}
	hash_add(kecpuhp_affinities, &new->node, (unsigned long)new->task);
	spin_unlock(&kecpuhp_affinity_lock);

	hlist_for_each_entry_safe(rec, tmp, &dead, node) {
		pr_err_ratelimited("thread %s/%d exited with a system affinity (group %u mask 0x%lx) it never reverted; forgotten\n",
				   rec->task->comm, task_pid_nr(rec->task), rec->sys.Group,
				   rec->sys.Mask);
		kecpuhp_affinity_free(rec);
	}
}

static void kecpuhp_affinity_remove(struct kecpuhp_affinity *rec)
{
	spin_lock(&kecpuhp_affinity_lock);
	hash_del(&rec->node);
	spin_unlock(&kecpuhp_affinity_lock);
}

/* Why the current thread cannot change its affinity, or NULL. */
static const char *kecpuhp_affinity_refused(void)
{
	if (in_interrupt() || irqs_disabled() || preempt_count() || rcu_preempt_depth())
		return "called from atomic context (Windows: IRQL above APC_LEVEL)";
	if (current->flags & PF_NO_SETAFFINITY)
		return "Linux does not let this thread move (a per-CPU or bound kernel thread)";
	return NULL;
}

/*
 * The CPUs of a group affinity that can run the thread: processors whose
 * index is active and whose CPU is online. Returns why there is none, or NULL.
 */
static const char *kecpuhp_affinity_cpus(const GROUP_AFFINITY *ga, struct cpumask *mask)
{
	u32 active = kecpuhp_active_count(), base, bit;
	KAFFINITY bits = ga->Mask;
	int cpu;

	if (ga->Group >= KeQueryMaximumGroupCount())
		return "no such processor group";
	base = ga->Group * MAXIMUM_PROC_PER_GROUP;
	cpumask_clear(mask);
	for_each_set_bit(bit, &bits, BITS_PER_LONG) {
		if (base + bit >= active)
			continue;
		cpu = kecpuhp_index_to_cpu(base + bit);
		if (cpu >= 0 && cpu_online(cpu))
			cpumask_set_cpu(cpu, mask);
	}
	return cpumask_empty(mask) ? "the mask names no active, online processor" : NULL;
}

static struct kecpuhp_affinity *kecpuhp_affinity_new(void)
{
	struct kecpuhp_affinity *rec = kzalloc(sizeof(*rec), GFP_KERNEL);

	if (!rec)
		return NULL;
	if (!alloc_cpumask_var(&rec->user, GFP_KERNEL)) {
		kfree(rec);
		return NULL;
	}
	/* Only this task changes its own record, so no lock for the copy. */
	cpumask_copy(rec->user, &current->cpus_mask);
	get_task_struct(current);
	rec->task = current;
	return rec;
}

/*
 * Give the current thread the system affinity @want; *@prev (if not NULL)
 * receives the one in force before, all zeros for the user affinity.
 */
static void kecpuhp_affinity_set(const GROUP_AFFINITY *want, GROUP_AFFINITY *prev,
				 void *caller, const char *api)
{
	struct kecpuhp_affinity *rec, *new = NULL;
	const char *why;
	cpumask_var_t mask;
	int ret;

	rec = kecpuhp_affinity_current();
	if (prev) {
		memset(prev, 0, sizeof(*prev));
		if (rec)
			*prev = rec->sys;
	}
	why = kecpuhp_affinity_refused();
	if (why) {
		kecpuhp_affinity_err(caller, api, "%s; the thread stays where it is", why);
		return;
	}
	might_sleep();
	/* An empty mask has no effect on Windows; HyperPlatform relies on it. */
	if (!want->Mask)
		return;
	if (!zalloc_cpumask_var(&mask, GFP_KERNEL)) {
		kecpuhp_affinity_err(caller, api, "out of memory; the thread stays where it is");
		return;
	}
	why = kecpuhp_affinity_cpus(want, mask);
	if (why) {
		kecpuhp_affinity_err(caller, api, "%s (group %u mask 0x%lx); the thread stays where it is",
				     why, want->Group, want->Mask);
		goto out;
	}
	if (!rec) {
		new = kecpuhp_affinity_new();
		if (!new) {
			kecpuhp_affinity_err(caller, api, "out of memory; the thread stays where it is");
			goto out;
		}
	}
	ret = set_cpus_allowed_ptr(current, mask);
	if (ret) {
		kecpuhp_affinity_err(caller, api, "Linux refused group %u mask 0x%lx (%d); the thread stays where it is",
				     want->Group, want->Mask, ret);
		if (new)
			kecpuhp_affinity_free(new);
		goto out;
	}
	if (new) {
		new->sys = *want;
		kecpuhp_affinity_insert(new);
	} else {
		rec->sys = *want;
	}
out:
	free_cpumask_var(mask);
}

/* Back to the Linux affinity the thread had before its first Set. */
static void kecpuhp_affinity_revert_user(void *caller, const char *api)
{
	struct kecpuhp_affinity *rec = kecpuhp_affinity_current();
	const char *why;
	int ret;

	if (!rec)
		return;		/* nothing set, or the Set failed: nothing to undo */
	why = kecpuhp_affinity_refused();
	if (why) {
		kecpuhp_affinity_err(caller, api, "%s; the system affinity stays", why);
		return;
	}
	might_sleep();
	kecpuhp_affinity_remove(rec);
	ret = set_cpus_allowed_ptr(current, rec->user);
	if (ret)
		kecpuhp_affinity_err(caller, api, "Linux refused the saved affinity %*pbl (%d)",
				     cpumask_pr_args(rec->user), ret);
	kecpuhp_affinity_free(rec);
}

static void kecpuhp_affinity_revert(const GROUP_AFFINITY *prev, void *caller, const char *api)
{
	if (prev->Mask)
		kecpuhp_affinity_set(prev, NULL, caller, api);
	else
		kecpuhp_affinity_revert_user(caller, api);
}

/**
 * KeSetSystemGroupAffinityThread - run the current thread on given processors
 * @Affinity: a group and a mask of processors in it (bit n: number n)
 * @PreviousAffinity: if not NULL, receives the system affinity in force
 *	before, or all zeros if the thread ran with its user (Linux) affinity
 *
 * When this returns, the thread runs on a processor of the mask that is
 * active and online, including one being added, from its Complete
 * notification on. An empty mask has no effect, as on Windows. A mask
 * naming no active, online processor, a group that is not valid, a thread
 * Linux will not move or a call from atomic context leave the thread where
 * it is, with a rate-limited error naming the caller; *@PreviousAffinity is
 * still written, so the matching revert is harmless.
 *
 * Context: process context, may sleep (Windows: IRQL <= APC_LEVEL); also
 * from inside a processor-change callback.
 */
void KeSetSystemGroupAffinityThread(PGROUP_AFFINITY Affinity, PGROUP_AFFINITY PreviousAffinity)
{
	void *caller = (void *)_RET_IP_;

	if (!Affinity) {
		if (PreviousAffinity)
			memset(PreviousAffinity, 0, sizeof(*PreviousAffinity));
		kecpuhp_affinity_err(caller, __func__, "NULL Affinity; ignored");
		return;
	}
	kecpuhp_affinity_set(Affinity, PreviousAffinity, caller, __func__);
}
EXPORT_SYMBOL_GPL(KeSetSystemGroupAffinityThread);

/**
 * KeRevertToUserGroupAffinityThread - undo KeSetSystemGroupAffinityThread()
 * @PreviousAffinity: what KeSetSystemGroupAffinityThread() returned in its
 *	PreviousAffinity: all zeros reverts to the Linux affinity the thread
 *	had before its first Set, exactly; anything else is set again
 *
 * Reverting without a Set, or after a Set that failed, does nothing.
 *
 * Context: process context, may sleep (Windows: IRQL <= APC_LEVEL).
 */
void KeRevertToUserGroupAffinityThread(PGROUP_AFFINITY PreviousAffinity)
{
	void *caller = (void *)_RET_IP_;

	if (!PreviousAffinity) {
		kecpuhp_affinity_err(caller, __func__, "NULL PreviousAffinity; ignored");
		return;
	}
	kecpuhp_affinity_revert(PreviousAffinity, caller, __func__);
}
EXPORT_SYMBOL_GPL(KeRevertToUserGroupAffinityThread);

/**
 * KeSetSystemAffinityThreadEx - run the current thread on processors of group 0
 * @Affinity: a mask of processors in group 0
 *
 * KeSetSystemGroupAffinityThread() for group 0.
 *
 * Context: process context, may sleep (Windows: IRQL <= APC_LEVEL).
 * Return: the mask of the system affinity in force before, or 0 if the
 * thread ran with its user affinity; pass it to
 * KeRevertToUserAffinityThreadEx().
 */
KAFFINITY KeSetSystemAffinityThreadEx(KAFFINITY Affinity)
{
	GROUP_AFFINITY want = { .Mask = Affinity }, prev;

	kecpuhp_affinity_set(&want, &prev, (void *)_RET_IP_, __func__);
	return prev.Mask;
}
EXPORT_SYMBOL_GPL(KeSetSystemAffinityThreadEx);

/**
 * KeRevertToUserAffinityThreadEx - undo KeSetSystemAffinityThreadEx()
 * @Affinity: what KeSetSystemAffinityThreadEx() returned: 0 reverts to the
 *	user (Linux) affinity, anything else is set again in group 0
 *
 * Context: process context, may sleep (Windows: IRQL <= APC_LEVEL).
 */
void KeRevertToUserAffinityThreadEx(KAFFINITY Affinity)
{
	GROUP_AFFINITY prev = { .Mask = Affinity };

	kecpuhp_affinity_revert(&prev, (void *)_RET_IP_, __func__);
}
EXPORT_SYMBOL_GPL(KeRevertToUserAffinityThreadEx);

/**
 * KeSetSystemAffinityThread - the legacy KeSetSystemAffinityThreadEx()
 * @Affinity: a mask of processors in group 0
 *
 * Context: process context, may sleep (Windows: IRQL <= APC_LEVEL).
 */
void KeSetSystemAffinityThread(KAFFINITY Affinity)
{
	GROUP_AFFINITY want = { .Mask = Affinity };

	kecpuhp_affinity_set(&want, NULL, (void *)_RET_IP_, __func__);
}
EXPORT_SYMBOL_GPL(KeSetSystemAffinityThread);

/**
 * KeRevertToUserAffinityThread - back to the user affinity, whatever the nesting
 *
 * The thread gets back the Linux affinity it had before its first Set.
 *
 * Context: process context, may sleep (Windows: IRQL <= APC_LEVEL).
 */
void KeRevertToUserAffinityThread(void)
{
	kecpuhp_affinity_revert_user((void *)_RET_IP_, __func__);
}
EXPORT_SYMBOL_GPL(KeRevertToUserAffinityThread);

/**
 * kecpuhp_affinity_drop_current - forget the system affinity of the current thread
 * @fn: the callback that returned with it set, for the report
 *
 * For the shim's own threads, which restore their Linux affinity
 * themselves after calling a driver: the record of a Set the driver did not
 * revert goes too, so the next callback starts from the user affinity.
 *
 * Context: process context.
 * Return: true if there was a system affinity to forget.
 */
bool kecpuhp_affinity_drop_current(void *fn)
{
	struct kecpuhp_affinity *rec = kecpuhp_affinity_current();

	if (!rec)
		return false;
	pr_err_ratelimited("%ps returned with a system affinity set (group %u mask 0x%lx); forgotten\n",
			   fn, rec->sys.Group, rec->sys.Mask);
	kecpuhp_affinity_remove(rec);
	kecpuhp_affinity_free(rec);
	return true;
}

/* Unload: dependent modules are gone; report threads still in a Set. */
void kecpuhp_affinity_exit(void)
{
	struct kecpuhp_affinity *rec;
	struct hlist_node *tmp;
	int bkt;

	hash_for_each_safe(kecpuhp_affinities, bkt, tmp, rec, node) {
		pr_err("thread %s/%d still had a system affinity at unload; forgotten\n",
		       rec->task->comm, task_pid_nr(rec->task));
		hash_del(&rec->node);
		kecpuhp_affinity_free(rec);
	}
}
