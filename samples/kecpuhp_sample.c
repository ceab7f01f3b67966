// SPDX-License-Identifier: GPL-2.0
/*
 * A Windows driver's per-processor bookkeeping, ported with kecpuhp.
 *
 * It does what such drivers do (xenbus, VirtualBox): register with
 * KE_PROCESSOR_CHANGE_ADD_EXISTING so existing and future processors arrive
 * the same way; in Start, grow the per-processor array to NtNumber + 1, or
 * veto with STATUS_INSUFFICIENT_RESOURCES; in Complete, run per-processor
 * work on the new processor the Windows way, with kecpuhp's calls only:
 *  - switch the thread's group affinity to ProcNumber, read the processor's
 *    APIC id there (HyperPlatform, ksm), revert;
 *  - queue a DPC targeted at it and wait for it (xenbus, VirtualBox);
 *  - KeGenericCallDpc() over every processor, with its barrier (hypervisors);
 * on Failure, drop what Start prepared; on unload, deregister, flush the
 * DPCs, then free.
 *
 * Waiting for the DPC uses a Linux completion: events, spin locks, pool,
 * timers, Mm and Ps are not kecpuhp's, a port brings its own compatibility
 * layer for those (a KEVENT would be a completion there too).
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
#include <linux/completion.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <kecpuhp/wdm.h>
#ifdef CONFIG_X86
#include <asm/processor.h>
#endif

struct sample_processor {
	ULONG index;
	PROCESSOR_NUMBER number;
	bool active;
	KDPC dpc;
	struct completion dpc_done;
	ULONG dpc_ran_on;
	int dpc_cpu;
};

/* What one KeGenericCallDpc() saw. */
struct sample_generic_call {
	atomic_t processors;
	atomic_t barrier_true;
	ULONG wanted;
	atomic_t wanted_seen;
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

/* The processor's own view of its id: meaningful only when run on it. */
static u32 sample_read_apic_id(void)
{
#ifdef CONFIG_X86
	return cpuid_ebx(1) >> 24;
#else
	return 0;
#endif
}

static VOID sample_dpc_routine(PKDPC dpc, PVOID context, PVOID arg1, PVOID arg2)
{
	struct sample_processor *p = context;

	p->dpc_ran_on = KeGetCurrentProcessorNumberEx(NULL);
	p->dpc_cpu = raw_smp_processor_id();
	complete(&p->dpc_done);
}

static VOID sample_generic_routine(PKDPC dpc, PVOID context, PVOID done, PVOID barrier)
{
	struct sample_generic_call *g = context;

	atomic_inc(&g->processors);
	if (KeGetCurrentProcessorNumberEx(NULL) == g->wanted)
		atomic_inc(&g->wanted_seen);
	/* every processor gets here before any goes on: TRUE on exactly one */
	if (KeSignalCallDpcSynchronize(barrier))
		atomic_inc(&g->barrier_true);
	KeSignalCallDpcDone(done);
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
	init_completion(&p->dpc_done);
	/* Aimed from Start, as eBPF for Windows does; it runs from Complete on. */
	KeInitializeDpc(&p->dpc, sample_dpc_routine, p);
	if (!NT_SUCCESS(KeSetTargetProcessorDpcEx(&p->dpc, &change->ProcNumber))) {
		kfree(p);
		return STATUS_INTERNAL_ERROR;
	}
	kfree(sample_processors[change->NtNumber]);
	sample_processors[change->NtNumber] = p;
	return STATUS_SUCCESS;
}

/* Complete: the processor is ours; do per-processor work on it. */
static void sample_processor_complete(PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT change)
{
	struct sample_processor *p = sample_processors[change->NtNumber];
	GROUP_AFFINITY affinity = {
		.Mask = (KAFFINITY)1 << change->ProcNumber.Number,
		.Group = change->ProcNumber.Group,
	};
	struct sample_generic_call g = { .wanted = change->NtNumber };
	GROUP_AFFINITY previous;
	ULONG here;
	u32 apic;

	p->active = true;

	/* 1. Run this thread on the new processor, read it there, come back. */
	KeSetSystemGroupAffinityThread(&affinity, &previous);
	here = KeGetCurrentProcessorNumberEx(NULL);
	apic = sample_read_apic_id();
	pr_info("kecpuhp_sample: work for index=%u ran on cpu=%d (index %u, APIC id %u) by thread affinity\n",
		p->index, raw_smp_processor_id(), here, apic);
	KeRevertToUserGroupAffinityThread(&previous);

	/* 2. A DPC targeted at it (in Start), and a wait. */
	reinit_completion(&p->dpc_done);
	if (KeInsertQueueDpc(&p->dpc, NULL, NULL) &&
	    wait_for_completion_timeout(&p->dpc_done, 5 * HZ))
		pr_info("kecpuhp_sample: DPC for index=%u ran on cpu=%d (index %u)\n",
			p->index, p->dpc_cpu, p->dpc_ran_on);

	/* 3. Every processor at once, with the barrier. */
	KeGenericCallDpc(sample_generic_routine, &g);
	pr_info("kecpuhp_sample: KeGenericCallDpc ran on %d processors (index %u among them: %s), barrier TRUE on %d\n",
		atomic_read(&g.processors), p->index,
		atomic_read(&g.wanted_seen) ? "yes" : "no", atomic_read(&g.barrier_true));
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

	pr_info("kecpuhp_sample: %s index=%u group=%u number=%u status=0x%08x\n",
		sample_state_names[change->State], change->NtNumber,
		change->ProcNumber.Group, change->ProcNumber.Number, change->Status);
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

	/* No DPC of ours may run into freed memory: unqueue, then wait. */
	for (i = 0; i < sample_processor_count; i++)
		if (sample_processors[i])
			KeRemoveQueueDpc(&sample_processors[i]->dpc);
	KeFlushQueuedDpcs();
	for (i = 0; i < sample_processor_count; i++)
		kfree(sample_processors[i]);
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
