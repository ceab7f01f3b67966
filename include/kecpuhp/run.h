/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running code on a processor, as declared in the WDK's wdm.h: the
 * affinity of the current thread, DPC objects, and the generic calls that
 * run a routine on every active processor. Included by <kecpuhp/wdm.h>;
 * the functions are documented where they are defined, in shim/affinity.c,
 * shim/dpc.c and shim/gencall.c.
 *
 * Events, spin locks, pool, timers, Mm and Ps are not kecpuhp's: a port
 * brings its own compatibility layer for those.
 */
#ifndef _KECPUHP_RUN_H
#define _KECPUHP_RUN_H

#include <kecpuhp/ntdef.h>

typedef char CCHAR;
typedef UCHAR BOOLEAN;
typedef ULONG LOGICAL;

#ifndef TRUE
#define TRUE	1
#endif
#ifndef FALSE
#define FALSE	0
#endif

#ifndef KECPUHP_HAVE_SINGLE_LIST_ENTRY
typedef struct _SINGLE_LIST_ENTRY {
	struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;
#endif

#ifndef KECPUHP_HAVE_KDPC
typedef enum _KDPC_IMPORTANCE {
	LowImportance = 0,
	MediumImportance = 1,
	HighImportance = 2,
	MediumHighImportance = 3,
} KDPC_IMPORTANCE;

struct _KDPC;

typedef VOID KDEFERRED_ROUTINE(struct _KDPC *Dpc, PVOID DeferredContext,
			       PVOID SystemArgument1, PVOID SystemArgument2);
typedef void (*PKDEFERRED_ROUTINE)(struct _KDPC *Dpc, PVOID DeferredContext,
				   PVOID SystemArgument1, PVOID SystemArgument2);

/*
 * The WDK layout (64 bytes on x86-64). A driver embeds or allocates it
 * and never touches the fields; kecpuhp keeps its own state in them:
 * Type and ProcessorHistory mark an initialised object, Number is the
 * target (0: the current processor, else the processor index + 1),
 * DpcListEntry links the object into a per-processor queue, and DpcData
 * is that queue while the object is queued, NULL otherwise. The WDK
 * declares Number and DpcData volatile; kecpuhp reads and writes them with
 * READ_ONCE()/WRITE_ONCE() and cmpxchg() instead, as kernel style asks.
 */
typedef struct _KDPC {
	union {
		ULONG TargetInfoAsUlong;
		struct {
			UCHAR Type;
			UCHAR Importance;
			USHORT Number;
		};
	};
	SINGLE_LIST_ENTRY DpcListEntry;
	KAFFINITY ProcessorHistory;
	PKDEFERRED_ROUTINE DeferredRoutine;
	PVOID DeferredContext;
	PVOID SystemArgument1;
	PVOID SystemArgument2;
	PVOID DpcData;
} KDPC, *PKDPC, *PRKDPC;
#endif

typedef ULONG_PTR KIPI_BROADCAST_WORKER(ULONG_PTR Argument);
/* unsigned long is ULONG_PTR, spelt out for checkpatch's sake */
typedef unsigned long (*PKIPI_BROADCAST_WORKER)(ULONG_PTR Argument);

static_assert(sizeof(KDPC_IMPORTANCE) == 4);
static_assert(offsetof(KDPC, Type) == 0 && offsetof(KDPC, Number) == 2);
static_assert(offsetof(KDPC, DpcListEntry) == sizeof(void *));
static_assert(offsetof(KDPC, DeferredRoutine) == 3 * sizeof(void *));
static_assert(offsetof(KDPC, DpcData) == 7 * sizeof(void *));
static_assert(sizeof(KDPC) == 8 * sizeof(void *));

/*
 * The processor-change context Windows really passes: the 16 public bytes,
 * then the processor's hardware id (the APIC id on x86). A driver built with
 * the public 16-byte struct is unaffected; one that reads ProcessorId casts
 * the ChangeContext it is given to this type.
 */
/* The shim passes the 20-byte context to every callback (shim/notify.c). */
#define KECPUHP_CONTEXT_HAS_PROCESSOR_ID	1

typedef struct _KECPUHP_PROCESSOR_CHANGE_NOTIFY_CONTEXT_EX {
	ULONG State;			/* KE_PROCESSOR_CHANGE_NOTIFY_STATE */
	ULONG NtNumber;
	NTSTATUS Status;
	PROCESSOR_NUMBER ProcNumber;
	ULONG ProcessorId;
} KECPUHP_PROCESSOR_CHANGE_NOTIFY_CONTEXT_EX, *PKECPUHP_PROCESSOR_CHANGE_NOTIFY_CONTEXT_EX;

static_assert(sizeof(KECPUHP_PROCESSOR_CHANGE_NOTIFY_CONTEXT_EX) == 20);
static_assert(offsetof(KECPUHP_PROCESSOR_CHANGE_NOTIFY_CONTEXT_EX, NtNumber) == 4);
static_assert(offsetof(KECPUHP_PROCESSOR_CHANGE_NOTIFY_CONTEXT_EX, ProcNumber) == 12);
static_assert(offsetof(KECPUHP_PROCESSOR_CHANGE_NOTIFY_CONTEXT_EX, ProcessorId) == 16);

/* Affinity of the current thread (shim/affinity.c). */
VOID KeSetSystemGroupAffinityThread(PGROUP_AFFINITY Affinity, PGROUP_AFFINITY PreviousAffinity);
VOID KeRevertToUserGroupAffinityThread(PGROUP_AFFINITY PreviousAffinity);
KAFFINITY KeSetSystemAffinityThreadEx(KAFFINITY Affinity);
VOID KeRevertToUserAffinityThreadEx(KAFFINITY Affinity);
VOID KeSetSystemAffinityThread(KAFFINITY Affinity);
VOID KeRevertToUserAffinityThread(void);

/* DPC objects (shim/dpc.c). */
VOID KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext);
VOID KeInitializeThreadedDpc(PKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine,
			     PVOID DeferredContext);
NTSTATUS KeSetTargetProcessorDpcEx(PKDPC Dpc, PPROCESSOR_NUMBER ProcNumber);
VOID KeSetTargetProcessorDpc(PRKDPC Dpc, CCHAR Number);
VOID KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance);
BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2);
BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc);
VOID KeFlushQueuedDpcs(void);

/* Generic calls on every active processor (shim/gencall.c). */
ULONG_PTR KeIpiGenericCall(PKIPI_BROADCAST_WORKER BroadcastFunction, ULONG_PTR Context);
VOID KeGenericCallDpc(PKDEFERRED_ROUTINE Routine, PVOID Context);
VOID KeSignalCallDpcDone(PVOID SystemArgument1);
LOGICAL KeSignalCallDpcSynchronize(PVOID SystemArgument2);

#endif /* _KECPUHP_RUN_H */
