// SPDX-License-Identifier: GPL-2.0
/*
 * Processor numbering: the Windows processor index of every processor the
 * shim has seen come online, and the Windows index/group queries on it.
 *
 * Indices are dense and never withdrawn: CPUs online at load get 0..N-1 in
 * ascending Linux CPU id, then each new CPU gets the next index in its
 * Start notification (so it resolves from Start on) and counts as active
 * from Complete on. A failed add gives its index back for the next add.
 * Windows has no hot-remove, so a CPU going offline keeps its index and
 * stays counted. Groups hold 64 processors: index = group * 64 + number.
 *
 * Writers are serialized by the CPU hotplug lock (they run from cpuhp
 * callbacks or under cpus_read_lock() at load). Readers take no lock and
 * may run in any context: the counts are published with release stores
 * after the table entries they cover.
 */
#include <linux/cpumask.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/percpu.h>
#include <linux/slab.h>

#include "internal.h"

static u32 kecpuhp_max_count;		/* possible CPUs: constant */
static int *kecpuhp_index_cpu;		/* index -> Linux CPU id */
static u32 kecpuhp_assigned;		/* indices that resolve */
static u32 kecpuhp_active;		/* indices whose add completed */
static DEFINE_PER_CPU(u32, kecpuhp_cpu_index) = INVALID_PROCESSOR_INDEX;

static u32 kecpuhp_max_groups(void)
{
	return DIV_ROUND_UP(kecpuhp_max_count, MAXIMUM_PROC_PER_GROUP);
}

/* The part of @total indices that falls in @group, or all of it. */
static u32 kecpuhp_in_group(u32 total, USHORT group)
{
	if (group == ALL_PROCESSOR_GROUPS)
		return total;
	if (group >= kecpuhp_max_groups())
		return 0;
	return clamp_t(s64, (s64)total - group * MAXIMUM_PROC_PER_GROUP,
		       0, MAXIMUM_PROC_PER_GROUP);
}

static KAFFINITY kecpuhp_low_bits(u32 count)
{
	return count >= BITS_PER_LONG ? ~0UL : BIT(count) - 1;
}

PROCESSOR_NUMBER kecpuhp_index_number(u32 index)
{
	PROCESSOR_NUMBER pn = {
		.Group = index / MAXIMUM_PROC_PER_GROUP,
		.Number = index % MAXIMUM_PROC_PER_GROUP,
	};

	return pn;
}

u32 kecpuhp_assigned_count(void)
{
	/* Pairs with the release in reserve: the entries below are written. */
	return smp_load_acquire(&kecpuhp_assigned);
}

u32 kecpuhp_active_count(void)
{
	/* Pairs with the release in activate. */
	return smp_load_acquire(&kecpuhp_active);
}

/* Give @cpu the next index; it resolves as soon as this returns. */
u32 kecpuhp_index_reserve(unsigned int cpu)
{
	u32 index = kecpuhp_assigned;

	WRITE_ONCE(kecpuhp_index_cpu[index], cpu);
	WRITE_ONCE(per_cpu(kecpuhp_cpu_index, cpu), index);
	/* Publish the count after the entries it covers. */
	smp_store_release(&kecpuhp_assigned, index + 1);
	return index;
}

/* Take back the index of @cpu, whose add failed: always the last one. */
void kecpuhp_index_release(unsigned int cpu)
{
	u32 index = per_cpu(kecpuhp_cpu_index, cpu);

	WARN_ON_ONCE(index + 1 != kecpuhp_assigned || index < kecpuhp_active);
	/* Withdraw the count before the entry goes stale. */
	smp_store_release(&kecpuhp_assigned, index);
	WRITE_ONCE(per_cpu(kecpuhp_cpu_index, cpu), INVALID_PROCESSOR_INDEX);
}

void kecpuhp_index_activate(u32 index)
{
	WARN_ON_ONCE(index != kecpuhp_active || index >= kecpuhp_assigned);
	/* Pairs with kecpuhp_active_count(). */
	smp_store_release(&kecpuhp_active, index + 1);
}

bool kecpuhp_index_is_active(u32 index)
{
	return index < kecpuhp_active_count();
}

/* Number the CPUs online at load. Called with the hotplug lock held. */
int kecpuhp_procnum_init(void)
{
	unsigned int cpu;

	kecpuhp_max_count = num_possible_cpus();
	kecpuhp_index_cpu = kcalloc(kecpuhp_max_count, sizeof(*kecpuhp_index_cpu),
				    GFP_KERNEL);
	if (!kecpuhp_index_cpu)
		return -ENOMEM;
	for_each_online_cpu(cpu)
		kecpuhp_index_activate(kecpuhp_index_reserve(cpu));
	return 0;
}

void kecpuhp_procnum_exit(void)
{
	kfree(kecpuhp_index_cpu);
}

/**
 * KeQueryActiveProcessorCountEx - count the active processors
 * @GroupNumber: a processor group, or %ALL_PROCESSOR_GROUPS for all of them
 *
 * A processor is active from its Complete notification on (or from load,
 * for CPUs online then) and stays active: the count never decreases.
 *
 * Context: any, lock-free.
 * Return: the number of active processors in the group or the system, or 0
 * for a group number that is not valid.
 */
ULONG KeQueryActiveProcessorCountEx(USHORT GroupNumber)
{
	return kecpuhp_in_group(kecpuhp_active_count(), GroupNumber);
}
EXPORT_SYMBOL_GPL(KeQueryActiveProcessorCountEx);

/**
 * KeQueryMaximumProcessorCountEx - the most processors there can ever be
 * @GroupNumber: a processor group, or %ALL_PROCESSOR_GROUPS for all of them
 *
 * The system maximum is the number of possible Linux CPUs, constant while
 * the system runs.
 *
 * Context: any, lock-free.
 * Return: the maximum for the group or the system, 0 for an invalid group.
 */
ULONG KeQueryMaximumProcessorCountEx(USHORT GroupNumber)
{
	return kecpuhp_in_group(kecpuhp_max_count, GroupNumber);
}
EXPORT_SYMBOL_GPL(KeQueryMaximumProcessorCountEx);

/**
 * KeQueryActiveProcessorCount - count the active processors of group 0
 * @ActiveProcessors: if not NULL, receives the affinity mask of group 0
 *
 * The legacy, single-group form of KeQueryActiveProcessorCountEx().
 *
 * Context: any, lock-free.
 * Return: the number of active processors in group 0.
 */
ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors)
{
	u32 count = kecpuhp_in_group(kecpuhp_active_count(), 0);

	if (ActiveProcessors)
		*ActiveProcessors = kecpuhp_low_bits(count);
	return count;
}
EXPORT_SYMBOL_GPL(KeQueryActiveProcessorCount);

/**
 * KeQueryMaximumProcessorCount - the most processors group 0 can hold
 *
 * Context: any, lock-free.
 * Return: KeQueryMaximumProcessorCountEx(0).
 */
ULONG KeQueryMaximumProcessorCount(void)
{
	return kecpuhp_in_group(kecpuhp_max_count, 0);
}
EXPORT_SYMBOL_GPL(KeQueryMaximumProcessorCount);

/**
 * KeQueryGroupAffinity - the active processors of a group, as a mask
 * @GroupNumber: a processor group
 *
 * Indices are dense, so the mask is the low bits, one per active processor.
 *
 * Context: any, lock-free.
 * Return: the affinity mask, or 0 for a group number that is not valid.
 */
KAFFINITY KeQueryGroupAffinity(USHORT GroupNumber)
{
	if (GroupNumber >= kecpuhp_max_groups())
		return 0;
	return kecpuhp_low_bits(kecpuhp_in_group(kecpuhp_active_count(),
						 GroupNumber));
}
EXPORT_SYMBOL_GPL(KeQueryGroupAffinity);

/**
 * KeQueryActiveProcessors - the active processors of group 0, as a mask
 *
 * Context: any, lock-free.
 * Return: KeQueryGroupAffinity(0).
 */
KAFFINITY KeQueryActiveProcessors(void)
{
	return KeQueryGroupAffinity(0);
}
EXPORT_SYMBOL_GPL(KeQueryActiveProcessors);

/**
 * KeQueryActiveGroupCount - count the groups that hold an active processor
 *
 * Context: any, lock-free.
 * Return: the number of active groups; it never decreases.
 */
USHORT KeQueryActiveGroupCount(void)
{
	return DIV_ROUND_UP(kecpuhp_active_count(), MAXIMUM_PROC_PER_GROUP);
}
EXPORT_SYMBOL_GPL(KeQueryActiveGroupCount);

/**
 * KeQueryMaximumGroupCount - the most processor groups there can be
 *
 * Context: any, lock-free.
 * Return: the number of groups needed for all possible CPUs, constant.
 */
USHORT KeQueryMaximumGroupCount(void)
{
	return kecpuhp_max_groups();
}
EXPORT_SYMBOL_GPL(KeQueryMaximumGroupCount);

/**
 * KeGetCurrentProcessorNumberEx - the processor the caller runs on
 * @ProcNumber: if not NULL, receives its group and group-relative number
 *
 * The answer may be stale as soon as it is returned unless the caller
 * cannot migrate (preemption or interrupts disabled, or a bound thread).
 *
 * Context: any, lock-free.
 * Return: the processor index of the current CPU.
 */
ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber)
{
	u32 index = this_cpu_read(kecpuhp_cpu_index);

	if (ProcNumber)
		*ProcNumber = kecpuhp_index_number(index);
	return index;
}
EXPORT_SYMBOL_GPL(KeGetCurrentProcessorNumberEx);

/**
 * KeGetProcessorNumberFromIndex - convert a processor index to group/number
 * @ProcIndex: a processor index
 * @ProcNumber: receives the group and group-relative number
 *
 * An index is valid from the Start notification of its processor on, so a
 * driver can resolve the NtNumber it is handed in Start.
 *
 * Context: any, lock-free.
 * Return: %STATUS_SUCCESS, or %STATUS_INVALID_PARAMETER if @ProcIndex is not
 * a valid processor index or @ProcNumber is NULL (then nothing is written).
 */
NTSTATUS KeGetProcessorNumberFromIndex(ULONG ProcIndex, PPROCESSOR_NUMBER ProcNumber)
{
	if (!ProcNumber || ProcIndex >= kecpuhp_assigned_count())
		return STATUS_INVALID_PARAMETER;
	*ProcNumber = kecpuhp_index_number(ProcIndex);
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_GPL(KeGetProcessorNumberFromIndex);

/**
 * KeGetProcessorIndexFromNumber - convert a group/number to a processor index
 * @ProcNumber: a group and group-relative processor number
 *
 * Context: any, lock-free.
 * Return: the processor index, or %INVALID_PROCESSOR_INDEX if @ProcNumber
 * is NULL, has a non-zero Reserved field, or names no valid processor.
 */
ULONG KeGetProcessorIndexFromNumber(PPROCESSOR_NUMBER ProcNumber)
{
	u32 index;

	if (!ProcNumber || ProcNumber->Reserved ||
	    ProcNumber->Number >= MAXIMUM_PROC_PER_GROUP)
		return INVALID_PROCESSOR_INDEX;
	index = ProcNumber->Group * MAXIMUM_PROC_PER_GROUP + ProcNumber->Number;
	if (index >= kecpuhp_assigned_count())
		return INVALID_PROCESSOR_INDEX;
	return index;
}
EXPORT_SYMBOL_GPL(KeGetProcessorIndexFromNumber);

/**
 * kecpuhp_index_to_cpu - the Linux CPU id of a processor index
 * @index: a processor index, such as the NtNumber of a notification
 *
 * Context: any, lock-free.
 * Return: the Linux CPU id, or -EINVAL if @index is not a valid index.
 */
int kecpuhp_index_to_cpu(u32 index)
{
	if (index >= kecpuhp_assigned_count())
		return -EINVAL;
	return READ_ONCE(kecpuhp_index_cpu[index]);
}
EXPORT_SYMBOL_GPL(kecpuhp_index_to_cpu);

/**
 * kecpuhp_cpu_to_index - the processor index of a Linux CPU
 * @cpu: a Linux CPU id
 *
 * Context: any, lock-free.
 * Return: the processor index, or %INVALID_PROCESSOR_INDEX if @cpu has
 * none (never came online since the shim loaded, or no such CPU).
 */
u32 kecpuhp_cpu_to_index(unsigned int cpu)
{
	if (cpu >= nr_cpu_ids || !cpu_possible(cpu))
		return INVALID_PROCESSOR_INDEX;
	return READ_ONCE(per_cpu(kecpuhp_cpu_index, cpu));
}
EXPORT_SYMBOL_GPL(kecpuhp_cpu_to_index);
