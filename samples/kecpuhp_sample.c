// SPDX-License-Identifier: GPL-2.0
/*
 * A Windows driver's per-processor bookkeeping, ported with kecpuhp.
 *
 * It does what such drivers do (xenbus, VirtualBox): register with
 * KE_PROCESSOR_CHANGE_ADD_EXISTING so existing and future processors arrive
 * the same way; in Start, grow the per-processor array to NtNumber + 1, or
 * veto with STATUS_INSUFFICIENT_RESOURCES; after Complete, run per-processor
 * work on the new processor; on Failure, drop what Start prepared; on
 * unload, deregister first, then free.
 *
 * veto_next=1 (module parameter, writable) makes it veto the next Start,
 * as if the allocation had failed.
 *
 * Where the new processor sits: in Complete it asks
 * KeQueryLogicalProcessorRelationship() for the processor's NUMA node and
 * core siblings (the sizing protocol: ask for the length, allocate, ask
 * again). What Windows never tells a processor-change callback, a CPU
 * going offline and coming back, reaches it through the Windows 11 24H2
 * available-CPUs callback, which logs what left or rejoined the set.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/workqueue.h>
#include <kecpuhp/wdm.h>

struct sample_processor {
	ULONG index;
	PROCESSOR_NUMBER number;
	bool active;
	struct work_struct work;
};

static bool veto_next;
module_param(veto_next, bool, 0644);
MODULE_PARM_DESC(veto_next, "veto the next processor add (Start) once");

static PVOID sample_handle;
static DEFINE_MUTEX(sample_lock);
static struct sample_processor **sample_processors;
static ULONG sample_processor_count;

static const char *const sample_state_names[] = {
	[KeProcessorAddStartNotify] = "Start",
	[KeProcessorAddCompleteNotify] = "Complete",
	[KeProcessorAddFailureNotify] = "Failure",
};

static void sample_processor_work(struct work_struct *work)
{
	struct sample_processor *p = container_of(work, struct sample_processor, work);

	pr_info("kecpuhp_sample: work for index=%u ran on cpu=%d\n", p->index,
		raw_smp_processor_id());
}

/* Start: make room for the new processor, like xenbus does. */
static NTSTATUS sample_processor_start(PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT change)
{
	struct sample_processor **grown, *p;
	ULONG n = change->NtNumber + 1;

	if (veto_next) {
		veto_next = false;
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	if (n > sample_processor_count) {
		grown = krealloc_array(sample_processors, n, sizeof(*grown),
				       GFP_KERNEL | __GFP_ZERO);
		if (!grown)
			return STATUS_INSUFFICIENT_RESOURCES;
		sample_processors = grown;
		sample_processor_count = n;
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return STATUS_INSUFFICIENT_RESOURCES;
	p->index = change->NtNumber;
	p->number = change->ProcNumber;
	INIT_WORK(&p->work, sample_processor_work);
	kfree(sample_processors[change->NtNumber]);
	sample_processors[change->NtNumber] = p;
	return STATUS_SUCCESS;
}

/* Complete: the processor is ours; do per-processor work on it. */
static void sample_processor_complete(PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT change)
{
	struct sample_processor *p = sample_processors[change->NtNumber];

	p->active = true;
	queue_work_on(kecpuhp_index_to_cpu(change->NtNumber), system_wq, &p->work);
}

/* Failure: undo Start; the vetoing driver may find nothing to undo. */
static void sample_processor_failure(PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT change)
{
	if (change->NtNumber >= sample_processor_count)
		return;
	kfree(sample_processors[change->NtNumber]);
	sample_processors[change->NtNumber] = NULL;
}

/* --- issue 13: topology and available CPUs --- */

/* One relation of one processor, with the sizing protocol; kfree() it. */
static PSYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX
sample_query(PPROCESSOR_NUMBER number, LOGICAL_PROCESSOR_RELATIONSHIP relation)
{
	PSYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX info;
	ULONG length = 0;

	if (KeQueryLogicalProcessorRelationship(number, relation, NULL, &length) !=
	    STATUS_INFO_LENGTH_MISMATCH)
		return NULL;
	info = kzalloc(length, GFP_KERNEL);
	if (info && KeQueryLogicalProcessorRelationship(number, relation, info, &length) !=
	    STATUS_SUCCESS) {
		kfree(info);
		info = NULL;
	}
	return info;
}

/* Complete: where the new processor sits, in Windows terms only. */
static void sample_report_topology(PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT change)
{
	PSYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX node, core;
	char siblings[96] = "";
	USHORT g;
	int bit, at = 0;

	node = sample_query(&change->ProcNumber, RelationNumaNode);
	core = sample_query(&change->ProcNumber, RelationProcessorCore);
	for (g = 0; core && g < core->Processor.GroupCount; g++)
		for (bit = 0; bit < MAXIMUM_PROC_PER_GROUP; bit++)
			if (core->Processor.GroupMask[g].Mask & BIT(bit))
				at += scnprintf(siblings + at, sizeof(siblings) - at, "%s%u",
						at ? "," : "",
						core->Processor.GroupMask[g].Group *
						MAXIMUM_PROC_PER_GROUP + bit);
	pr_info("kecpuhp_sample: index=%u is on NUMA node %d; core siblings (indexes) %s%s\n",
		change->NtNumber, node ? (int)node->NumaNode.NodeNumber : -1,
		siblings[0] ? siblings : "?",
		core && (core->Processor.Flags & LTP_PC_SMT) ? " (SMT)" : "");
	kfree(node);
	kfree(core);
}

static PS_AVAILABLE_CPUS_CHANGE_REGISTRATION sample_available_handle;
static ULONG64 sample_available_seq;
static KAFFINITY_EX sample_available;	/* the set last seen; calls never overlap */

/* Log the processors that left or rejoined the set since last time. */
static void sample_available_diff(PKAFFINITY_EX now)
{
	ULONG i, n = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	BOOLEAN was, is;

	for (i = 0; i < n; i++) {
		was = KeCheckProcessorAffinityEx(&sample_available, i);
		is = KeCheckProcessorAffinityEx(now, i);
		if (was && !is)
			pr_info("kecpuhp_sample: index=%u is no longer available (offline)\n", i);
		else if (!was && is)
			pr_info("kecpuhp_sample: index=%u is available\n", i);
	}
}

static VOID sample_available_changed(PVOID context)
{
	KAFFINITY_EX now;
	ULONG64 seq;

	KeInitializeAffinityEx(&now);
	if (PsQuerySystemAvailableCpus(&now, &sample_available_seq, &seq) != STATUS_SUCCESS)
		return;		/* STATUS_NO_WORK_DONE: seen already */
	pr_info("kecpuhp_sample: available CPUs changed: %u available, sequence %llu\n",
		KeCountSetBitsAffinityEx(&now), seq);
	sample_available_diff(&now);
	sample_available = now;
	sample_available_seq = seq;
}

/* Take the current set, then be called when it changes from that one on. */
static int sample_available_register(void)
{
	KeInitializeAffinityEx(&sample_available);
	if (PsQuerySystemAvailableCpus(&sample_available, NULL, &sample_available_seq) !=
	    STATUS_SUCCESS)
		return -EINVAL;
	/* A change between the query and here calls us at once. */
	if (PsRegisterSystemAvailableCpusChangeNotification(sample_available_changed, NULL,
							    &sample_available_seq,
							    &sample_available_handle) !=
	    STATUS_SUCCESS)
		return -ENOMEM;
	return 0;
}

/* --- end issue 13 --- */

static VOID sample_processor_change(PVOID context,
				    PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT change,
				    PNTSTATUS operation_status)
{
	NTSTATUS status = STATUS_SUCCESS;

	pr_info("kecpuhp_sample: %s index=%u group=%u number=%u cpu=%d on=%d status=0x%08x\n",
		sample_state_names[change->State], change->NtNumber,
		change->ProcNumber.Group, change->ProcNumber.Number,
		kecpuhp_index_to_cpu(change->NtNumber), raw_smp_processor_id(),
		change->Status);
	mutex_lock(&sample_lock);
	switch (change->State) {
	case KeProcessorAddStartNotify:
		status = sample_processor_start(change);
		break;
	case KeProcessorAddCompleteNotify:
		sample_processor_complete(change);
		sample_report_topology(change);
		break;
	case KeProcessorAddFailureNotify:
		sample_processor_failure(change);
		break;
	}
	mutex_unlock(&sample_lock);
	/* Only a Start may fail, and only over a success. */
	if (!NT_SUCCESS(status) && NT_SUCCESS(*operation_status))
		*operation_status = status;
}

static void sample_free_processors(void)
{
	ULONG i;

	for (i = 0; i < sample_processor_count; i++) {
		if (sample_processors[i])
			cancel_work_sync(&sample_processors[i]->work);
		kfree(sample_processors[i]);
	}
	kfree(sample_processors);
}

static int __init sample_init(void)
{
	sample_handle = KeRegisterProcessorChangeCallback(sample_processor_change, NULL,
							  KE_PROCESSOR_CHANGE_ADD_EXISTING);
	if (!sample_handle) {
		sample_free_processors();
		return -ENOMEM;
	}
	if (sample_available_register()) {
		KeDeregisterProcessorChangeCallback(sample_handle);
		sample_free_processors();
		return -ENOMEM;
	}
	pr_info("kecpuhp_sample: registered; %u active processors of %u\n",
		KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS),
		KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS));
	return 0;
}

static void __exit sample_exit(void)
{
	PsUnregisterAvailableCpusChangeNotification(sample_available_handle);
	KeDeregisterProcessorChangeCallback(sample_handle);
	sample_free_processors();
	pr_info("kecpuhp_sample: deregistered and freed\n");
}

module_init(sample_init);
module_exit(sample_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kecpuhp sample: a ported driver's per-processor data");
MODULE_AUTHOR("The kecpuhp developers");
