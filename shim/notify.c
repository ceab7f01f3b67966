// SPDX-License-Identifier: GPL-2.0
/*
 * Notification sequencing: when each registration is told what.
 *
 * A hot-added CPU is announced to Windows drivers when it first comes
 * online. Every hot-add notification is delivered by the add thread
 * (addthread.c), which the cpuhp callbacks below hand a pass and wait for:
 *  - kecpuhp_cpu_prepare(), a CPUHP_BP_PREPARE_DYN startup, before the new
 *    CPU boots: its index is reserved and Start goes to every registration
 *    in registration order, all sharing one OperationStatus. A veto fails
 *    the startup, so the CPU stays offline; the core does not call the
 *    teardown of the state that failed, so Failure is delivered here.
 *  - kecpuhp_cpu_online(), a CPUHP_AP_ONLINE_DYN startup, once the new CPU
 *    is online: the index becomes active and Complete goes to every
 *    registration that got this add's Start.
 *  - kecpuhp_cpu_dead(), the prepare teardown, on the rollback of an add
 *    between Start and Complete: Failure with STATUS_UNSUCCESSFUL, and the
 *    index is given back.
 *  - kecpuhp_cpu_offline(), the online teardown, notices the rollback of an
 *    online after Complete (see kecpuhp_cpu_offline()).
 * The per-processor add state (procnum.c: none -> started -> active) drives
 * all of it; a callback that finds a state it does not expect refuses with
 * an error. Which registrations got Start is the add's own mark: its epoch,
 * stored in each registration that Start reached.
 *
 * One add at a time: an add parked between Start and Complete (the
 * hotplug/target control) must finish or roll back before another CPU can
 * be added, which keeps the indices dense. A CPU that already has an index
 * going offline and online again produces no notification: Windows has no
 * hot-remove.
 *
 * KE_PROCESSOR_CHANGE_ADD_EXISTING replays run in the registering task,
 * under the hotplug read lock, from kecpuhp_replay_existing().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/device.h>
#include <linux/errno.h>
#include <linux/ktime.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/smp.h>

#include "internal.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* The context Windows passes: the public 16 bytes, then the hardware id. */
struct kecpuhp_notify_context {
	KE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc;
	ULONG ProcessorId;
};

static_assert(offsetof(struct kecpuhp_notify_context, ProcessorId) == 16);
static_assert(sizeof(struct kecpuhp_notify_context) == 20);

/* The hot-add in flight; written under the hotplug lock by the callbacks. */
struct kecpuhp_add {
	unsigned int cpu;
	u32 index;
	u32 epoch;		/* the mark of the registrations Start reached */
	NTSTATUS veto;
};

static struct kecpuhp_add kecpuhp_add;
static u32 kecpuhp_add_epoch;
/* Complete delivered by the online now in progress: see kecpuhp_cpu_offline(). */
static DEFINE_PER_CPU(bool, kecpuhp_completed_in_op);

static const char * const kecpuhp_state_names[KECPUHP_NR_STATES] = {
	[KeProcessorAddStartNotify] = "Start",
	[KeProcessorAddCompleteNotify] = "Complete",
	[KeProcessorAddFailureNotify] = "Failure",
};

/*
 * The errno the failed online returns. Never -EBUSY: 6.12's sysfs online
 * path (cpu_subsys_online()) retries it five more times, which would replay
 * the whole add; 6.1 retries nothing.
 */
static int kecpuhp_status_errno(NTSTATUS status)
{
	switch (status) {
	case STATUS_NO_MEMORY:
	case STATUS_INSUFFICIENT_RESOURCES:
		return -ENOMEM;
	case STATUS_INVALID_PARAMETER:
		return -EINVAL;
	case STATUS_ACCESS_DENIED:
		return -EACCES;
	default:
		return -EIO;
	}
}

/* The hardware id Windows passes at offset 16: the APIC id on x86. */
static ULONG kecpuhp_processor_id(u32 index)
{
	int cpu = kecpuhp_index_to_cpu(index);

	return cpu < 0 ? 0 : cpu_physical_id(cpu);
}

/* Call one registration with a fresh context it may scribble on. */
static void kecpuhp_call(struct kecpuhp_reg *reg,
			 KE_PROCESSOR_CHANGE_NOTIFY_STATE state, u32 index,
			 NTSTATUS status, NTSTATUS *op)
{
	struct kecpuhp_notify_context nc = {
		.cc = {
			.State = state,
			.NtNumber = index,
			.Status = status,
			.ProcNumber = kecpuhp_index_number(index),
		},
		.ProcessorId = kecpuhp_processor_id(index),
	};
	u64 t0 = 0;

	if (trace_kecpuhp_notify_enabled())
		t0 = ktime_get_ns();
	kecpuhp_add_thread_calling(reg->fn);
	reg->fn(reg->ctx, &nc.cc, op);
	kecpuhp_add_thread_calling(NULL);
	reg->count[state]++;
	if (trace_kecpuhp_notify_enabled())
		trace_kecpuhp_notify(reg->fn, state, index,
				     kecpuhp_index_to_cpu(index), status, *op,
				     t0 ? ktime_get_ns() - t0 : 0);
}

/* Complete or Failure: a change of *OperationStatus is ignored, and said once. */
static void kecpuhp_tell(struct kecpuhp_reg *reg,
			 KE_PROCESSOR_CHANGE_NOTIFY_STATE state, u32 index,
			 NTSTATUS status, NTSTATUS initial)
{
	NTSTATUS op = initial;

	kecpuhp_call(reg, state, index, status, &op);
	if (op == initial || (reg->bits & KECPUHP_REG_REPORTED))
		return;
	reg->bits |= KECPUHP_REG_REPORTED;
	pr_warn("%ps changed *OperationStatus to 0x%08x in a %s notification; ignored\n",
		reg->fn, op, kecpuhp_state_names[state]);
}

/* Start to every registration; the first failure written is the veto. */
static NTSTATUS kecpuhp_start_all(struct kecpuhp_add *add)
{
	NTSTATUS op = STATUS_SUCCESS, veto = STATUS_SUCCESS;
	struct kecpuhp_reg *reg, *vetoer = NULL;

	list_for_each_entry(reg, &kecpuhp_regs, node) {
		if (!kecpuhp_reg_live(reg))
			continue;
		reg->add_epoch = add->epoch;
		kecpuhp_call(reg, KeProcessorAddStartNotify, add->index,
			     STATUS_SUCCESS, &op);
		if (NT_SUCCESS(veto) && !NT_SUCCESS(op)) {
			veto = op;
			vetoer = reg;
		} else if (op != veto) {
			/* A veto stands; a non-failure status is no veto. */
			op = veto;
		}
	}
	if (vetoer)
		pr_warn("adding CPU%u (processor index %u) vetoed by %ps with NTSTATUS 0x%08x\n",
			add->cpu, add->index, vetoer->fn, veto);
	return veto;
}

/* Complete or Failure to every registration that got this add's Start. */
static void kecpuhp_finish_all(struct kecpuhp_add *add,
			       KE_PROCESSOR_CHANGE_NOTIFY_STATE state,
			       NTSTATUS status)
{
	struct kecpuhp_reg *reg;

	list_for_each_entry(reg, &kecpuhp_regs, node) {
		if (!kecpuhp_reg_live(reg) || reg->add_epoch != add->epoch)
			continue;
		reg->add_epoch = 0;
		kecpuhp_tell(reg, state, add->index, status, STATUS_SUCCESS);
	}
}

/* The passes, run by the add thread with the registration lock held. */
static void kecpuhp_pass_start(void *arg)
{
	struct kecpuhp_add *add = arg;

	kecpuhp_regs_lock();
	add->veto = kecpuhp_start_all(add);
	if (!NT_SUCCESS(add->veto))
		kecpuhp_finish_all(add, KeProcessorAddFailureNotify, add->veto);
	kecpuhp_regs_unlock();
}

static void kecpuhp_pass_complete(void *arg)
{
	kecpuhp_regs_lock();
	kecpuhp_finish_all(arg, KeProcessorAddCompleteNotify, STATUS_SUCCESS);
	kecpuhp_regs_unlock();
}

static void kecpuhp_pass_failure(void *arg)
{
	kecpuhp_regs_lock();
	kecpuhp_finish_all(arg, KeProcessorAddFailureNotify, STATUS_UNSUCCESSFUL);
	kecpuhp_regs_unlock();
}

/* Reserve an index for @cpu and deliver Start; on a veto, Failure, and the index goes back. */
static int kecpuhp_add_begin(unsigned int cpu)
{
	struct kecpuhp_add *add = &kecpuhp_add;
	int busy = kecpuhp_add_in_flight();

	if (busy >= 0) {
		pr_err_ratelimited("CPU%u cannot be added while the add of CPU%d (processor index %u) is parked between Start and Complete; finish or roll back that one first\n",
				   cpu, busy, add->index);
		return -EPERM;
	}
	*add = (struct kecpuhp_add) { .cpu = cpu };
	if (kecpuhp_index_reserve(cpu, &add->index))
		return -EINVAL;
	/* Zero marks a registration that got no Start: skip it. */
	add->epoch = ++kecpuhp_add_epoch ?: ++kecpuhp_add_epoch;
	kecpuhp_add_thread_run(kecpuhp_pass_start, add);
	if (NT_SUCCESS(add->veto))
		return 0;
	kecpuhp_index_release(cpu);
	return kecpuhp_status_errno(add->veto);
}

/* started -> active, then Complete to those the add's Start reached. */
static void kecpuhp_add_complete(unsigned int cpu)
{
	if (kecpuhp_index_activate(cpu))
		return;
	per_cpu(kecpuhp_completed_in_op, cpu) = true;
	kecpuhp_add_thread_run(kecpuhp_pass_complete, &kecpuhp_add);
}

/**
 * kecpuhp_cpu_prepare - cpuhp prepare startup: Start, and Failure on a veto
 * @cpu: the CPU coming online
 *
 * Context: the task bringing @cpu up, hotplug lock held for writing.
 * Return: 0, or an errno: the veto status's, or -EPERM while another add
 * is parked.
 */
int kecpuhp_cpu_prepare(unsigned int cpu)
{
	switch (kecpuhp_add_state(cpu)) {
	case KECPUHP_ADD_ACTIVE:
		return 0;		/* a re-online: Windows sees nothing */
	case KECPUHP_ADD_STARTED:
		pr_err("CPU%u: Start was already delivered for its add; not repeated\n", cpu);
		return 0;
	default:
		return kecpuhp_add_begin(cpu);
	}
}

/**
 * kecpuhp_cpu_online - cpuhp online startup: Complete for a new processor
 * @cpu: the CPU coming online
 *
 * A CPU that was parked past the prepare state when the shim loaded gets
 * its Start here, then Complete at once, so a veto still works.
 *
 * Context: the hotplug thread of @cpu, on @cpu.
 * Return: 0, or the errno of a late add's veto.
 */
int kecpuhp_cpu_online(unsigned int cpu)
{
	int ret;

	switch (kecpuhp_add_state(cpu)) {
	case KECPUHP_ADD_ACTIVE:
		return 0;
	case KECPUHP_ADD_NONE:
		pr_info("CPU%u comes online without Start (parked past the prepare state when kecpuhp loaded): Start and Complete now\n",
			cpu);
		ret = kecpuhp_add_begin(cpu);
		if (ret)
			return ret;
		break;
	default:
		break;
	}
	kecpuhp_add_complete(cpu);
	return 0;
}

/*
 * True while @cpu's device still says offline: the online in progress has
 * not finished. device_online() clears it only once cpu_up() succeeded, so
 * a teardown that sees it set is the rollback of that online, not an
 * offline.
 */
static bool kecpuhp_online_unfinished(unsigned int cpu)
{
	struct device *dev = get_cpu_device(cpu);

	return dev && dev->offline;
}

/**
 * kecpuhp_cpu_offline - cpuhp online teardown: a failure after Complete
 * @cpu: the CPU going offline
 *
 * When a state after the shim's online state fails, Linux rolls the online
 * back after the drivers got Complete. Windows never withdraws a processor
 * index, so the index stays active; the log and debugfs say so, once per
 * processor.
 *
 * Context: the hotplug thread of @cpu, hotplug lock held for writing.
 * Return: 0; teardowns must not fail.
 */
int kecpuhp_cpu_offline(unsigned int cpu)
{
	u32 index;

	if (!per_cpu(kecpuhp_completed_in_op, cpu))
		return 0;
	per_cpu(kecpuhp_completed_in_op, cpu) = false;
	if (!kecpuhp_online_unfinished(cpu))
		return 0;
	index = kecpuhp_cpu_to_index(cpu);
	kecpuhp_index_mark_failed_online(index);
	pr_warn("the online of CPU%u failed after Complete: processor index %u stays active, as Windows never withdraws a processor; the CPU is offline\n",
		cpu, index);
	return 0;
}

/**
 * kecpuhp_cpu_dead - cpuhp prepare teardown: Failure if an add is rolled back
 * @cpu: the CPU going or gone offline
 *
 * Context: a task on another CPU, hotplug lock held for writing.
 * Return: 0; teardowns must not fail.
 */
int kecpuhp_cpu_dead(unsigned int cpu)
{
	if (kecpuhp_add_state(cpu) != KECPUHP_ADD_STARTED)
		return 0;
	pr_warn("adding CPU%u (processor index %u) failed after Start\n",
		cpu, kecpuhp_add.index);
	kecpuhp_add_thread_run(kecpuhp_pass_failure, &kecpuhp_add);
	kecpuhp_index_release(cpu);
	return 0;
}

/**
 * kecpuhp_replay_existing - KE_PROCESSOR_CHANGE_ADD_EXISTING for a new registration
 * @reg: the registration, not yet on the list
 *
 * Start for every active index, *OperationStatus reset before each, then
 * Complete for all of them; a veto at index k stops the Starts and sends
 * Failure to 0..k-1, the veto status left in *OperationStatus. An add
 * parked between Start and Complete is not active: the new registration
 * does not hear of that processor.
 *
 * Context: the registering task, hotplug read lock and registration lock held.
 * Return: true if no Start vetoed.
 */
bool kecpuhp_replay_existing(struct kecpuhp_reg *reg)
{
	u32 n = kecpuhp_active_count(), i, k;
	NTSTATUS op = STATUS_SUCCESS;

	lockdep_assert_held(&kecpuhp_regs_mutex);
	for (k = 0; k < n; k++) {
		op = STATUS_SUCCESS;
		kecpuhp_call(reg, KeProcessorAddStartNotify, k, STATUS_SUCCESS, &op);
		if (!NT_SUCCESS(op))
			break;
	}
	if (k < n) {
		for (i = 0; i < k; i++)
			kecpuhp_tell(reg, KeProcessorAddFailureNotify, i, op, op);
		pr_info_ratelimited("registration of %ps vetoed at processor index %u with NTSTATUS 0x%08x\n",
				    reg->fn, k, op);
		return false;
	}
	for (i = 0; i < n; i++)
		kecpuhp_tell(reg, KeProcessorAddCompleteNotify, i, STATUS_SUCCESS,
			     STATUS_SUCCESS);
	return true;
}
