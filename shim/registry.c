// SPDX-License-Identifier: GPL-2.0
/*
 * The registration list: KeRegisterProcessorChangeCallback() and
 * KeDeregisterProcessorChangeCallback(), the handles they exchange, and the
 * clean-up when a driver module goes away with registrations left.
 *
 * Registrations live on one list in registration order; the notification
 * passes in notify.c walk it, so the shim needs two cpuhp states whatever
 * the number of registrations. A handle is a registration id, looked up in
 * an xarray: a NULL, stale, bogus or doubly-freed handle is reported, never
 * followed. Ids are allocated cyclically, so a stale handle does not name a
 * newer registration until the 32-bit id space wraps.
 *
 * Locking: kecpuhp_regs_mutex guards the list and the registrations on it.
 * Only a KE_PROCESSOR_CHANGE_ADD_EXISTING registration also takes
 * cpus_read_lock(), first, for its replay; hot-add passes run in the add
 * thread under the mutex while the adding task holds the hotplug lock.
 * Driver callbacks run with the mutex held, by exactly one task at a time:
 * that task is recorded, so a call back into the API from a callback is
 * recognised instead of deadlocking. Deregistration from inside a callback
 * marks the registration dead; it is unlinked and freed when the pass ends.
 * Otherwise Register and Deregister are O(log R): an xarray operation and a
 * list insertion or removal.
 *
 * The list is also walked under RCU alone, by the module notifier, so an
 * unrelated module unload never waits for a notification pass: entries are
 * unlinked with list_del_rcu() and freed after a grace period.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
/* This file defines the exported function the header's wrapper calls. */
#define KECPUHP_NO_REGISTER_WRAPPER

#include <linux/cpu.h>
#include <linux/export.h>
#include <linux/hardirq.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/rculist.h>
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
	pr_err_ratelimited("%pS: " fmt "\n", (void *)(caller), ##__VA_ARGS__)

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
				list_del_rcu(&reg->node);
				kvfree_rcu_mightsleep(reg);
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

/*
 * Only as good as the kernel's preempt count: without CONFIG_PREEMPT_COUNT
 * a spinlock leaves no trace. might_sleep() after a passed check lets a
 * debug kernel report what this cannot see.
 */
static bool kecpuhp_atomic_context(void)
{
	return preempt_count() || irqs_disabled() || rcu_preempt_depth();
}

/* Check what Register is given and where it is called from. */
static bool kecpuhp_register_allowed(PPROCESSOR_CALLBACK_FUNCTION fn,
				     ULONG flags, unsigned long caller)
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

/* A new registration, not yet on the list. */
static struct kecpuhp_reg *kecpuhp_reg_alloc(PPROCESSOR_CALLBACK_FUNCTION fn,
					     PVOID ctx, ULONG flags,
					     struct module *owner)
{
	struct kecpuhp_reg *reg = kzalloc(sizeof(*reg), GFP_KERNEL);

	if (!reg)
		return NULL;
	reg->fn = fn;
	reg->ctx = ctx;
	reg->flags = flags;
	reg->owner = owner;
	return reg;
}

/*
 * Give @reg its handle: resolvable at once when @entry is @reg, reserved
 * only (resolving to nothing) when @entry is NULL.
 */
static int kecpuhp_reg_id(struct kecpuhp_reg *reg, void *entry)
{
	int ret = xa_alloc_cyclic(&kecpuhp_handles, &reg->id, entry, xa_limit_32b,
				  &kecpuhp_next_id, GFP_KERNEL);

	return ret < 0 ? ret : 0;
}

/* A plain registration: it hears of processors added from now on. */
static bool kecpuhp_register_plain(struct kecpuhp_reg *reg)
{
	bool ok;

	kecpuhp_regs_lock();
	ok = !kecpuhp_reg_id(reg, reg);
	if (ok)
		list_add_tail_rcu(&reg->node, &kecpuhp_regs);
	kecpuhp_regs_unlock();
	return ok;
}

/*
 * KE_PROCESSOR_CHANGE_ADD_EXISTING: the replay and the insertion under the
 * hotplug read lock, so no processor comes or goes in between. The id is
 * reserved first: nothing may fail once the driver was told Complete.
 */
static bool kecpuhp_register_existing(struct kecpuhp_reg *reg)
{
	bool ok;

	if (kecpuhp_reg_id(reg, NULL))
		return false;
	cpus_read_lock();
	kecpuhp_regs_lock();
	ok = kecpuhp_replay_existing(reg);
	if (ok) {
		/* The slot is reserved: storing into it does not allocate. */
		xa_store(&kecpuhp_handles, reg->id, reg, GFP_KERNEL);
		list_add_tail_rcu(&reg->node, &kecpuhp_regs);
	}
	kecpuhp_regs_unlock();
	cpus_read_unlock();
	if (!ok)
		xa_erase(&kecpuhp_handles, reg->id);
	return ok;
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
	list_del_rcu(&reg->node);
	kvfree_rcu_mightsleep(reg);
}

static PVOID kecpuhp_register(PPROCESSOR_CALLBACK_FUNCTION fn, PVOID ctx, ULONG flags,
			      struct module *owner, unsigned long caller)
{
	struct kecpuhp_reg *reg;
	bool ok;

	if (!kecpuhp_register_allowed(fn, flags, caller))
		return NULL;
	might_sleep();
	reg = kecpuhp_reg_alloc(fn, ctx, flags, owner);
	if (!reg) {
		kecpuhp_misuse(caller, "%s: out of memory; returning NULL",
			       "KeRegisterProcessorChangeCallback");
		return NULL;
	}
	if (flags & KE_PROCESSOR_CHANGE_ADD_EXISTING)
		ok = kecpuhp_register_existing(reg);
	else
		ok = kecpuhp_register_plain(reg);
	if (!ok) {
		if (!(flags & KE_PROCESSOR_CHANGE_ADD_EXISTING))
			kecpuhp_misuse(caller, "%s: out of memory; returning NULL",
				       "KeRegisterProcessorChangeCallback");
		kfree(reg);
		return NULL;
	}
	return (PVOID)(unsigned long)reg->id;
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
 * A call through the name in <kecpuhp/wdm.h> goes to
 * kecpuhp_register_processor_change_callback(), which also records the
 * calling module; this is the exported function itself, for drivers that
 * take its address. Its registrations are owned by the callback's module.
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
	return kecpuhp_register(CallbackFunction, CallbackContext, Flags, NULL, _RET_IP_);
}
EXPORT_SYMBOL_GPL(KeRegisterProcessorChangeCallback);

/**
 * kecpuhp_register_processor_change_callback - KeRegisterProcessorChangeCallback() with its caller
 * @fn: the CallbackFunction
 * @ctx: the CallbackContext
 * @flags: the Flags
 * @caller: the module making the call (THIS_MODULE), or NULL
 *
 * What a call to KeRegisterProcessorChangeCallback() in a driver compiles
 * to. The registration is owned by @caller as well as by the module that
 * holds @fn: when either goes away with it live, kecpuhp deregisters it.
 *
 * Context: process context, may sleep; not from inside a processor-change
 * callback.
 * Return: as KeRegisterProcessorChangeCallback().
 */
PVOID kecpuhp_register_processor_change_callback(PPROCESSOR_CALLBACK_FUNCTION fn, PVOID ctx,
						 ULONG flags, struct module *caller)
{
	return kecpuhp_register(fn, ctx, flags, caller, _RET_IP_);
}
EXPORT_SYMBOL_GPL(kecpuhp_register_processor_change_callback);

/* Deregister @handle with the registration lock held by this task. */
static void kecpuhp_deregister_locked(PVOID handle, unsigned long caller, bool in_pass)
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
	unsigned long caller = _RET_IP_;

	if (!CallbackHandle) {
		kecpuhp_misuse(caller, "%s: NULL handle; ignored", __func__);
		return;
	}
	if (kecpuhp_atomic_context()) {
		kecpuhp_misuse(caller, "%s: called from atomic context; handle %lu stays",
			       __func__, (unsigned long)CallbackHandle);
		return;
	}
	if (kecpuhp_in_callback()) {
		kecpuhp_deregister_locked(CallbackHandle, caller, true);
		return;
	}
	might_sleep();
	kecpuhp_regs_lock();
	kecpuhp_deregister_locked(CallbackHandle, caller, false);
	kecpuhp_regs_unlock();
}
EXPORT_SYMBOL_GPL(KeDeregisterProcessorChangeCallback);

/* The callback of @reg lives in @mod, or @mod registered it. */
static bool kecpuhp_reg_owned_by(const struct kecpuhp_reg *reg, struct module *mod)
{
	return reg->owner == mod || within_module((unsigned long)reg->fn, mod);
}

/*
 * Without a lock: every module unload in the system passes here, and must
 * not wait for a notification pass of drivers it has nothing to do with.
 */
static bool kecpuhp_module_owns_any(struct module *mod)
{
	struct kecpuhp_reg *reg;
	bool found = false;

	rcu_read_lock();
	list_for_each_entry_rcu(reg, &kecpuhp_regs, node) {
		if (kecpuhp_reg_owned_by(reg, mod)) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* Deregister what a going module left behind, before its text is freed. */
static int kecpuhp_module_going(struct notifier_block *nb, unsigned long action,
				void *data)
{
	struct module *mod = data;
	struct kecpuhp_reg *reg, *tmp;

	if (action != MODULE_STATE_GOING || !kecpuhp_module_owns_any(mod))
		return NOTIFY_DONE;
	kecpuhp_regs_lock();
	list_for_each_entry_safe(reg, tmp, &kecpuhp_regs, node) {
		if (!kecpuhp_reg_live(reg) || !kecpuhp_reg_owned_by(reg, mod))
			continue;
		pr_err("module %s unloaded without deregistering processor-change callback %ps registered by %s (handle %u); deregistered on its behalf\n",
		       mod->name, reg->fn, reg->owner ? reg->owner->name : "an unknown caller",
		       reg->id);
		kecpuhp_reg_kill(reg, false);
	}
	kecpuhp_regs_unlock();
	return NOTIFY_OK;
}

struct notifier_block kecpuhp_module_nb = {
	.notifier_call = kecpuhp_module_going,
};

/* Module exit: dependent modules are gone, so nothing should be left. */
void __exit kecpuhp_registry_exit(void)
{
	struct kecpuhp_reg *reg, *tmp;

	list_for_each_entry_safe(reg, tmp, &kecpuhp_regs, node) {
		pr_err("registration %u (%ps) left at unload; freed\n",
		       reg->id, reg->fn);
		list_del_rcu(&reg->node);
		kvfree_rcu_mightsleep(reg);
	}
	xa_destroy(&kecpuhp_handles);
}
