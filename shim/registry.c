// SPDX-License-Identifier: GPL-2.0
/*
 * The registration list: KeRegisterProcessorChangeCallback() and
 * KeDeregisterProcessorChangeCallback(), the handles they exchange, and the
 * clean-up when a driver module goes away with registrations left.
 *
 * Registrations live on one list in registration order; the cpuhp callbacks
 * in notify.c walk it, so the shim needs two cpuhp states whatever the number
 * of registrations. A handle is a registration id, looked up in an xarray:
 * a NULL, stale, bogus or doubly-freed handle is reported, never followed.
 * Ids are allocated cyclically, so a stale handle does not name a newer
 * registration until the 32-bit id space wraps.
 *
 * Locking: cpus_read_lock() first, then kecpuhp_regs_mutex, never the
 * reverse. cpuhp callbacks already run under the hotplug lock and take only
 * the mutex. Callbacks of drivers run with the mutex held, by exactly one
 * task at a time: that task is recorded, so a call back into the API from a
 * callback is recognised instead of deadlocking. Deregistration from inside
 * a callback marks the registration dead; it is unlinked and freed when the
 * pass ends. Otherwise Register and Deregister are O(log R): an xarray
 * operation and a list insertion or removal.
 */
#include <linux/cpu.h>
#include <linux/export.h>
#include <linux/hardirq.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "internal.h"

LIST_HEAD(kecpuhp_regs);
/* Guards kecpuhp_regs and the registrations on it; see the top comment. */
DEFINE_MUTEX(kecpuhp_regs_mutex);
static struct task_struct *kecpuhp_regs_owner;
static bool kecpuhp_regs_reap;		/* a callback deregistered something */
static DEFINE_XARRAY_ALLOC1(kecpuhp_handles);
static u32 kecpuhp_next_id;

#define kecpuhp_misuse(caller, fmt, ...) \
	pr_err_ratelimited("kecpuhp: %pS: " fmt "\n", caller, ##__VA_ARGS__)

/* Take the registration lock; every driver callback runs under it. */
void kecpuhp_regs_lock(void)
{
	mutex_lock(&kecpuhp_regs_mutex);
	WRITE_ONCE(kecpuhp_regs_owner, current);
}

/* Free what callbacks deregistered during the pass, then release the lock. */
void kecpuhp_regs_unlock(void)
{
	struct kecpuhp_reg *reg, *tmp;

	if (kecpuhp_regs_reap) {
		list_for_each_entry_safe(reg, tmp, &kecpuhp_regs, node) {
			if (reg->bits & KECPUHP_REG_DEAD) {
				list_del(&reg->node);
				kfree(reg);
			}
		}
		kecpuhp_regs_reap = false;
	}
	WRITE_ONCE(kecpuhp_regs_owner, NULL);
	mutex_unlock(&kecpuhp_regs_mutex);
}

bool kecpuhp_reg_live(const struct kecpuhp_reg *reg)
{
	return !(reg->bits & KECPUHP_REG_DEAD);
}

/*
 * True in a driver callback, or anywhere else this task holds the lock. The
 * hotplug state cannot change meanwhile, and cpus_read_lock() must not be
 * taken: the task that started the pass already holds the hotplug lock.
 */
bool kecpuhp_in_callback(void)
{
	return READ_ONCE(kecpuhp_regs_owner) == current;
}

static bool kecpuhp_atomic_context(void)
{
	return preempt_count() || irqs_disabled() || rcu_preempt_depth();
}

/* Check what Register is given and where it is called from. */
static bool kecpuhp_register_allowed(PPROCESSOR_CALLBACK_FUNCTION fn,
				     ULONG flags, void *caller)
{
	const char *why = NULL;

	if (!fn)
		why = "NULL CallbackFunction";
	else if (flags & ~KE_PROCESSOR_CHANGE_ADD_EXISTING)
		why = "unknown Flags bits";
	else if (kecpuhp_atomic_context())
		why = "called from atomic context";
	else if (kecpuhp_in_callback())
		why = "called from inside a processor-change callback";
	if (why)
		kecpuhp_misuse(caller, "%s: %s (flags 0x%x); returning NULL",
			       "KeRegisterProcessorChangeCallback", why, flags);
	return !why;
}

/* A new registration, its handle reserved but not yet resolvable. */
static struct kecpuhp_reg *kecpuhp_reg_alloc(PPROCESSOR_CALLBACK_FUNCTION fn,
					     PVOID ctx, ULONG flags)
{
	struct kecpuhp_reg *reg = kzalloc(sizeof(*reg), GFP_KERNEL);

	if (!reg)
		return NULL;
	reg->fn = fn;
	reg->ctx = ctx;
	reg->flags = flags;
	if (xa_alloc_cyclic(&kecpuhp_handles, &reg->id, NULL, xa_limit_32b,
			    &kecpuhp_next_id, GFP_KERNEL) < 0) {
		kfree(reg);
		return NULL;
	}
	return reg;
}

/*
 * Make a registration unreachable by handle. Inside a notification pass the
 * list is being walked, so it is only marked dead, and freed when the pass
 * ends; outside one it goes at once.
 */
static void kecpuhp_reg_kill(struct kecpuhp_reg *reg, bool in_pass)
{
	lockdep_assert_held(&kecpuhp_regs_mutex);
	xa_erase(&kecpuhp_handles, reg->id);
	if (in_pass) {
		reg->bits |= KECPUHP_REG_DEAD;
		kecpuhp_regs_reap = true;
		return;
	}
	list_del(&reg->node);
	kfree(reg);
}

/**
 * KeRegisterProcessorChangeCallback - register for processor-add notifications
 * @CallbackFunction: called with Start, then Complete or Failure, for every
 *	processor added from now on
 * @CallbackContext: passed to @CallbackFunction as it is
 * @Flags: 0, or %KE_PROCESSOR_CHANGE_ADD_EXISTING to be called first for
 *	every active processor: Start for indices 0..N-1, then Complete for
 *	0..N-1, in the calling task, before this returns
 *
 * With %KE_PROCESSOR_CHANGE_ADD_EXISTING, a veto (a failure status written
 * to *OperationStatus in Start) at index k stops the replay: Failure goes to
 * indices 0..k-1 and the registration is dropped. No processor can come or
 * go between the replay and the moment the registration starts receiving
 * hot-add notifications.
 *
 * Context: process context, may sleep; not from inside a processor-change
 * callback.
 * Return: an opaque handle for KeDeregisterProcessorChangeCallback(), or
 * NULL (an error is logged) for a NULL callback, unknown flag bits, a call
 * from a wrong context, no memory, or a veto during the replay.
 */
PVOID KeRegisterProcessorChangeCallback(PPROCESSOR_CALLBACK_FUNCTION CallbackFunction,
					PVOID CallbackContext, ULONG Flags)
{
	void *caller = __builtin_return_address(0);
	struct kecpuhp_reg *reg;
	bool ok = true;

	if (!kecpuhp_register_allowed(CallbackFunction, Flags, caller))
		return NULL;
	reg = kecpuhp_reg_alloc(CallbackFunction, CallbackContext, Flags);
	if (!reg) {
		kecpuhp_misuse(caller, "%s: out of memory; returning NULL", __func__);
		return NULL;
	}

	cpus_read_lock();
	kecpuhp_regs_lock();
	if (Flags & KE_PROCESSOR_CHANGE_ADD_EXISTING)
		ok = kecpuhp_replay_existing(reg);
	if (ok) {
		/* The slot is reserved: storing into it does not allocate. */
		xa_store(&kecpuhp_handles, reg->id, reg, GFP_KERNEL);
		list_add_tail(&reg->node, &kecpuhp_regs);
	}
	kecpuhp_regs_unlock();
	cpus_read_unlock();

	if (!ok) {
		xa_erase(&kecpuhp_handles, reg->id);
		kfree(reg);
		return NULL;
	}
	return (PVOID)(unsigned long)reg->id;
}
EXPORT_SYMBOL_GPL(KeRegisterProcessorChangeCallback);

/* Deregister @handle with the registration lock held by this task. */
static void kecpuhp_deregister_locked(PVOID handle, void *caller, bool in_pass)
{
	unsigned long id = (unsigned long)handle;
	struct kecpuhp_reg *reg = NULL;

	if (id <= U32_MAX)
		reg = xa_load(&kecpuhp_handles, id);
	if (!reg && id <= U32_MAX) {
		kecpuhp_misuse(caller, "%s: unknown or already deregistered handle %lu; ignored",
			       "KeDeregisterProcessorChangeCallback", id);
		return;
	}
	if (!reg) {
		/* Not a handle kecpuhp ever gave out: hash it like any pointer. */
		kecpuhp_misuse(caller, "%s: invalid handle %p; ignored",
			       "KeDeregisterProcessorChangeCallback", handle);
		return;
	}
	kecpuhp_reg_kill(reg, in_pass);
}

/**
 * KeDeregisterProcessorChangeCallback - cancel a registration
 * @CallbackHandle: the handle KeRegisterProcessorChangeCallback() returned
 *
 * When this returns, the callback is not running and will never be called
 * again. It may be called from inside any processor-change callback, for
 * its own handle or another: that registration then gets nothing more, and
 * its memory is released after the notification pass.
 *
 * A NULL, unknown or already deregistered handle, or a call from atomic
 * context, is logged and ignored; the registration, if any, stays.
 *
 * Context: process context, may sleep (not when called from a callback).
 */
void KeDeregisterProcessorChangeCallback(PVOID CallbackHandle)
{
	void *caller = __builtin_return_address(0);

	if (!CallbackHandle) {
		kecpuhp_misuse(caller, "%s: NULL handle; ignored", __func__);
		return;
	}
	if (kecpuhp_atomic_context()) {
		kecpuhp_misuse(caller, "%s: called from atomic context; handle %p stays registered",
			       __func__, CallbackHandle);
		return;
	}
	if (kecpuhp_in_callback()) {
		kecpuhp_deregister_locked(CallbackHandle, caller, true);
		return;
	}
	cpus_read_lock();
	kecpuhp_regs_lock();
	kecpuhp_deregister_locked(CallbackHandle, caller, false);
	kecpuhp_regs_unlock();
	cpus_read_unlock();
}
EXPORT_SYMBOL_GPL(KeDeregisterProcessorChangeCallback);

/* Deregister what a going module left behind, before its text is freed. */
static int kecpuhp_module_going(struct notifier_block *nb, unsigned long action,
				void *data)
{
	struct module *mod = data;
	struct kecpuhp_reg *reg, *tmp;

	if (action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	cpus_read_lock();
	kecpuhp_regs_lock();
	list_for_each_entry_safe(reg, tmp, &kecpuhp_regs, node) {
		if (!within_module((unsigned long)reg->fn, mod))
			continue;
		pr_err("kecpuhp: module %s unloaded without deregistering processor-change callback %ps (handle %u); deregistered on its behalf\n",
		       mod->name, reg->fn, reg->id);
		kecpuhp_reg_kill(reg, false);
	}
	kecpuhp_regs_unlock();
	cpus_read_unlock();
	return NOTIFY_OK;
}

struct notifier_block kecpuhp_module_nb = {
	.notifier_call = kecpuhp_module_going,
};

/* Module exit: dependent modules are gone, so nothing should be left. */
void kecpuhp_registry_exit(void)
{
	struct kecpuhp_reg *reg, *tmp;

	list_for_each_entry_safe(reg, tmp, &kecpuhp_regs, node) {
		pr_err("kecpuhp: registration %u (%ps) left at unload; freed\n",
		       reg->id, reg->fn);
		list_del(&reg->node);
		kfree(reg);
	}
	xa_destroy(&kecpuhp_handles);
}
