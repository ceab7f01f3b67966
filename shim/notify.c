// SPDX-License-Identifier: GPL-2.0
/*
 * Notification sequencing: when each registration is told what.
 *
 * A hot-added CPU is announced to Windows drivers when it first comes
 * online, by two cpuhp states:
 *  - kecpuhp_cpu_prepare(), a CPUHP_BP_PREPARE_DYN startup, runs on the
 *    control CPU before the new CPU boots: Start to every registration in
 *    registration order, all sharing one OperationStatus. A veto makes
 *    the startup fail, so the CPU stays offline; the core does not call the
 *    teardown of the state that failed, so Failure is delivered here.
 *  - kecpuhp_cpu_online(), a CPUHP_AP_ONLINE_DYN startup, runs on the new
 *    CPU once it is online: Complete to every registration that got Start.
 *  - kecpuhp_cpu_dead(), the prepare teardown, runs on rollback when the
 *    bring-up fails after Start for another reason: Failure with
 *    STATUS_UNSUCCESSFUL. It also runs on every ordinary offline, which is
 *    told apart by the processor numbering: the CPU's index is active.
 * Windows has no hot-remove: a CPU that already has an index going offline
 * and online again produces no notification.
 *
 * KE_PROCESSOR_CHANGE_ADD_EXISTING replays run in the registering task, under
 * the hotplug read lock, from kecpuhp_replay_existing().
 */
#include <linux/errno.h>
#include <linux/ktime.h>
#include <linux/printk.h>

#include "internal.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static const char * const kecpuhp_state_names[KECPUHP_NR_STATES] = {
	[KeProcessorAddStartNotify] = "Start",
	[KeProcessorAddCompleteNotify] = "Complete",
	[KeProcessorAddFailureNotify] = "Failure",
};

/*
 * The errno the failed online returns. Never -EBUSY or -EAGAIN: the sysfs
 * online path retries those, which would replay the whole add.
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

/* Call one registration with a fresh context it may scribble on. */
static void kecpuhp_call(struct kecpuhp_reg *reg,
			 KE_PROCESSOR_CHANGE_NOTIFY_STATE state, u32 index,
			 NTSTATUS status, NTSTATUS *op)
{
	KE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc = {
		.State = state,
		.NtNumber = index,
		.Status = status,
		.ProcNumber = kecpuhp_index_number(index),
	};
	u64 t0 = 0;

	if (trace_kecpuhp_notify_enabled())
		t0 = ktime_get_ns();
	reg->fn(reg->ctx, &cc, op);
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
	pr_warn("kecpuhp: %ps changed *OperationStatus to 0x%08x in a %s notification; ignored\n",
		reg->fn, op, kecpuhp_state_names[state]);
}

/* Start to every registration; the first failure written is the veto. */
static NTSTATUS kecpuhp_start_all(unsigned int cpu, u32 index)
{
	NTSTATUS op = STATUS_SUCCESS, veto = STATUS_SUCCESS;
	struct kecpuhp_reg *reg, *vetoer = NULL;

	list_for_each_entry(reg, &kecpuhp_regs, node) {
		if (!kecpuhp_reg_live(reg))
			continue;
		reg->bits |= KECPUHP_REG_STARTED;
		kecpuhp_call(reg, KeProcessorAddStartNotify, index,
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
		pr_warn("kecpuhp: adding CPU%u (processor index %u) vetoed by %ps with NTSTATUS 0x%08x\n",
			cpu, index, vetoer->fn, veto);
	return veto;
}

/* Complete or Failure to every registration that got Start. */
static void kecpuhp_finish_all(KE_PROCESSOR_CHANGE_NOTIFY_STATE state,
			       u32 index, NTSTATUS status)
{
	struct kecpuhp_reg *reg;

	list_for_each_entry(reg, &kecpuhp_regs, node) {
		if (!kecpuhp_reg_live(reg) || !(reg->bits & KECPUHP_REG_STARTED))
			continue;
		reg->bits &= ~KECPUHP_REG_STARTED;
		kecpuhp_tell(reg, state, index, status, STATUS_SUCCESS);
	}
}

/**
 * kecpuhp_cpu_prepare - cpuhp prepare startup: Start, and Failure on a veto
 * @cpu: the CPU coming online
 *
 * Context: the task bringing @cpu up, hotplug lock held for writing.
 * Return: 0, or the errno for the veto status.
 */
int kecpuhp_cpu_prepare(unsigned int cpu)
{
	NTSTATUS veto;
	u32 index;

	if (kecpuhp_cpu_to_index(cpu) != INVALID_PROCESSOR_INDEX)
		return 0;
	index = kecpuhp_index_reserve(cpu);
	kecpuhp_regs_lock();
	veto = kecpuhp_start_all(cpu, index);
	if (!NT_SUCCESS(veto))
		kecpuhp_finish_all(KeProcessorAddFailureNotify, index, veto);
	kecpuhp_regs_unlock();
	if (NT_SUCCESS(veto))
		return 0;
	kecpuhp_index_release(cpu);
	return kecpuhp_status_errno(veto);
}

/**
 * kecpuhp_cpu_online - cpuhp online startup: Complete for a new processor
 * @cpu: the CPU coming online
 *
 * Context: the hotplug thread of @cpu, on @cpu.
 * Return: 0.
 */
int kecpuhp_cpu_online(unsigned int cpu)
{
	u32 index = kecpuhp_cpu_to_index(cpu);

	if (index == INVALID_PROCESSOR_INDEX || kecpuhp_index_is_active(index))
		return 0;
	kecpuhp_index_activate(index);
	kecpuhp_regs_lock();
	kecpuhp_finish_all(KeProcessorAddCompleteNotify, index, STATUS_SUCCESS);
	kecpuhp_regs_unlock();
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
	u32 index = kecpuhp_cpu_to_index(cpu);

	if (index == INVALID_PROCESSOR_INDEX || kecpuhp_index_is_active(index))
		return 0;
	pr_warn("kecpuhp: adding CPU%u (processor index %u) failed after Start\n",
		cpu, index);
	kecpuhp_regs_lock();
	kecpuhp_finish_all(KeProcessorAddFailureNotify, index, STATUS_UNSUCCESSFUL);
	kecpuhp_regs_unlock();
	kecpuhp_index_release(cpu);
	return 0;
}

/**
 * kecpuhp_replay_existing - KE_PROCESSOR_CHANGE_ADD_EXISTING for a new registration
 * @reg: the registration, not yet on the list
 *
 * Start for every active index, *OperationStatus reset before each, then
 * Complete for all of them; a veto at index k stops the Starts and sends
 * Failure to 0..k-1, the veto status left in *OperationStatus.
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
		pr_info_ratelimited("kecpuhp: registration of %ps vetoed at processor index %u with NTSTATUS 0x%08x\n",
				    reg->fn, k, op);
		return false;
	}
	for (i = 0; i < n; i++)
		kecpuhp_tell(reg, KeProcessorAddCompleteNotify, i, STATUS_SUCCESS,
			     STATUS_SUCCESS);
	return true;
}
