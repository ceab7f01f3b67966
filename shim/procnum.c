// SPDX-License-Identifier: GPL-2.0
/*
 * Processor numbering: the Windows processor index of every processor the
 * shim has seen come online, its add state, and the Windows index/group
 * queries on it.
 *
 * Indices are dense and never withdrawn: CPUs online at load get 0..N-1 in
 * ascending Linux CPU id, then each new CPU gets the next index when its
 * add starts (so it resolves from Start on) and counts as active from
 * Complete on. Each CPU has an explicit add state, none -> started ->
 * active, and at most one CPU is started at a time (notify.c refuses a
 * second add while one is parked), so the started index is always the
 * last one and a failed add gives it back for the next add. Windows has no
 * hot-remove, so a CPU going offline keeps its index and stays counted.
 * Groups hold 64 processors: index = group * 64 + number.
 *
 * Writers are serialized by the CPU hotplug lock (they run from cpuhp
 * callbacks or under cpus_read_lock() at load). Readers take no lock and
 * may run in any context: every count is published with a release store
 * after the table entries it covers, and read with an acquire load.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/cpumask.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/slab.h>

#include "internal.h"

static u32 kecpuhp_max_count;		/* possible CPUs: constant */
static int *kecpuhp_index_cpu;		/* index -> Linux CPU id */
static unsigned long *kecpuhp_failed_online;	/* by index: see notify.c */
static u32 kecpuhp_assigned;		/* indices that resolve */
static u32 kecpuhp_active;		/* indices whose add completed */
static int kecpuhp_in_flight = -1;	/* the CPU in KECPUHP_ADD_STARTED */
static DEFINE_PER_CPU(u32, kecpuhp_cpu_index) = INVALID_PROCESSOR_INDEX;
static DEFINE_PER_CPU(u8, kecpuhp_cpu_state);	/* enum kecpuhp_add_state */

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
	/* Pairs with the releases in reserve/release: the entries are written. */
	return smp_load_acquire(&kecpuhp_assigned);
}

u32 kecpuhp_active_count(void)
{
	/* Pairs with the release in activate. */
	return smp_load_acquire(&kecpuhp_active);
}

enum kecpuhp_add_state kecpuhp_add_state(unsigned int cpu)
{
	return READ_ONCE(per_cpu(kecpuhp_cpu_state, cpu));
}

/* The CPU whose add is between Start and Complete/Failure, or -1. */
int kecpuhp_add_in_flight(void)
{
	return READ_ONCE(kecpuhp_in_flight);
}

/* A transition from a state @cpu is not in: refused, and said. */
static int kecpuhp_add_mismatch(unsigned int cpu, const char *what)
{
	pr_err("CPU%u: cannot %s in add state %d (CPU%d in flight); refused\n",
	       cpu, what, kecpuhp_add_state(cpu), kecpuhp_add_in_flight());
	return -EINVAL;
}

static void kecpuhp_set_add_state(unsigned int cpu, enum kecpuhp_add_state state)
{
	WRITE_ONCE(per_cpu(kecpuhp_cpu_state, cpu), state);
}

/* none -> started: give @cpu the next index; it resolves from now on. */
int kecpuhp_index_reserve(unsigned int cpu, u32 *index)
{
	u32 next = kecpuhp_assigned;

	if (kecpuhp_add_state(cpu) != KECPUHP_ADD_NONE || kecpuhp_in_flight >= 0 ||
	    next >= kecpuhp_max_count)
		return kecpuhp_add_mismatch(cpu, "reserve an index");
	WRITE_ONCE(kecpuhp_index_cpu[next], cpu);
	/* The count covers the table entry before the per-CPU index names it. */
	smp_store_release(&kecpuhp_assigned, next + 1);
	/* Pairs with kecpuhp_cpu_to_index(): the count is seen covering it. */
	smp_store_release(per_cpu_ptr(&kecpuhp_cpu_index, cpu), next);
	kecpuhp_set_add_state(cpu, KECPUHP_ADD_STARTED);
	WRITE_ONCE(kecpuhp_in_flight, cpu);
	*index = next;
	return 0;
}

/* started -> none: the add of @cpu failed; its index goes back. */
int kecpuhp_index_release(unsigned int cpu)
{
	u32 index = per_cpu(kecpuhp_cpu_index, cpu);

	if (kecpuhp_add_state(cpu) != KECPUHP_ADD_STARTED || kecpuhp_in_flight != cpu)
		return kecpuhp_add_mismatch(cpu, "release its index");
	/* Unname the index before the count stops covering it. */
	smp_store_release(per_cpu_ptr(&kecpuhp_cpu_index, cpu), INVALID_PROCESSOR_INDEX);
	/* Pairs with kecpuhp_assigned_count(): the entry is unnamed first. */
	smp_store_release(&kecpuhp_assigned, index);
	kecpuhp_set_add_state(cpu, KECPUHP_ADD_NONE);
	WRITE_ONCE(kecpuhp_in_flight, -1);
	return 0;
}

/* started -> active: the index of @cpu counts as active for good. */
int kecpuhp_index_activate(unsigned int cpu)
{
	u32 index = per_cpu(kecpuhp_cpu_index, cpu);

	if (kecpuhp_add_state(cpu) != KECPUHP_ADD_STARTED || kecpuhp_in_flight != cpu)
		return kecpuhp_add_mismatch(cpu, "activate its index");
	/* Pairs with kecpuhp_active_count(). */
	smp_store_release(&kecpuhp_active, index + 1);
	kecpuhp_set_add_state(cpu, KECPUHP_ADD_ACTIVE);
	WRITE_ONCE(kecpuhp_in_flight, -1);
	return 0;
}

bool kecpuhp_index_is_active(u32 index)
{
	return index < kecpuhp_active_count();
}

/* Linux rolled back the online that delivered Complete for @index. */
void kecpuhp_index_mark_failed_online(u32 index)
{
	set_bit(index, kecpuhp_failed_online);
}

bool kecpuhp_index_failed_online(u32 index)
{
	return index < kecpuhp_max_count && test_bit(index, kecpuhp_failed_online);
}

/* Number the CPUs online at load. Called with the hotplug lock held. */
int __init kecpuhp_procnum_init(void)
{
	unsigned int cpu;
	u32 index;

	kecpuhp_max_count = num_possible_cpus();
	kecpuhp_index_cpu = kcalloc(kecpuhp_max_count, sizeof(*kecpuhp_index_cpu),
				    GFP_KERNEL);
	kecpuhp_failed_online = bitmap_zalloc(kecpuhp_max_count, GFP_KERNEL);
	if (!kecpuhp_index_cpu || !kecpuhp_failed_online) {
		kecpuhp_procnum_exit();
		return -ENOMEM;
	}
	for_each_online_cpu(cpu) {
		if (kecpuhp_index_reserve(cpu, &index) || kecpuhp_index_activate(cpu)) {
			kecpuhp_procnum_exit();
			return -EINVAL;
		}
	}
	return 0;
}

void kecpuhp_procnum_exit(void)
{
	kfree(kecpuhp_index_cpu);
	bitmap_free(kecpuhp_failed_online);
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
 * The answer may be stale by one add as soon as it is returned: a CPU
 * whose add is in flight gets or loses its index under the caller's feet.
 *
 * Context: any, lock-free.
 * Return: the processor index, or %INVALID_PROCESSOR_INDEX if @cpu has
 * none (never came online since the shim loaded, or no such CPU).
 */
u32 kecpuhp_cpu_to_index(unsigned int cpu)
{
	u32 index;

	if (cpu >= nr_cpu_ids || !cpu_possible(cpu))
		return INVALID_PROCESSOR_INDEX;
	/*
	 * Pairs with the releases in reserve/release: an index read here is
	 * covered by the count read next, unless its add failed meanwhile,
	 * which the bound check catches.
	 */
	index = smp_load_acquire(per_cpu_ptr(&kecpuhp_cpu_index, cpu));
	if (index >= kecpuhp_assigned_count())
		return INVALID_PROCESSOR_INDEX;
	return index;
}
EXPORT_SYMBOL_GPL(kecpuhp_cpu_to_index);
