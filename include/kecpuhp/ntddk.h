/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What drivers ask about processors besides index and group: the processor
 * topology query and the NUMA node calls (WDK ntddk.h/wdm.h), and the
 * Windows 11 24H2 available-CPUs API with its KAFFINITY_EX (wdm.h), with
 * the layouts and values of the WDK (x64). Included by kecpuhp/wdm.h; the
 * functions are exported by kecpuhp.ko and documented where they are
 * defined: shim/topology.c, shim/available.c and shim/affinity_ex.c.
 *
 * As in ntdef.h, a driver that already defines one of these structures
 * defines the matching KECPUHP_HAVE_* macro first; the static assertions at
 * the end then check that its layout is the Windows one.
 */
#ifndef _KECPUHP_NTDDK_H
#define _KECPUHP_NTDDK_H

#include <kecpuhp/ntdef.h>

typedef unsigned char BOOLEAN;
typedef unsigned long long ULONGLONG;
typedef unsigned long long ULONG64;
typedef unsigned long long *PULONG64;
typedef unsigned int *PULONG;
typedef unsigned short *PUSHORT;

#ifndef ANYSIZE_ARRAY
#define ANYSIZE_ARRAY	1	/* the WDK's trailing arrays: part of sizeof */
#endif

#ifndef TRUE
#define TRUE	1
#endif
#ifndef FALSE
#define FALSE	0
#endif

#ifndef STATUS_INFO_LENGTH_MISMATCH
#define STATUS_INFO_LENGTH_MISMATCH	((NTSTATUS)0xC0000004L)
#endif
#ifndef STATUS_BUFFER_TOO_SMALL
#define STATUS_BUFFER_TOO_SMALL		((NTSTATUS)0xC0000023L)
#endif
/* A warning, not a success: NT_SUCCESS(STATUS_NO_WORK_DONE) is false. */
#ifndef STATUS_NO_WORK_DONE
#define STATUS_NO_WORK_DONE		((NTSTATUS)0x80000032L)
#endif

/* --- Topology: KeQueryLogicalProcessorRelationship() --- */

#ifndef KECPUHP_HAVE_LOGICAL_PROCESSOR_INFORMATION_EX
typedef enum _LOGICAL_PROCESSOR_RELATIONSHIP {
	RelationProcessorCore = 0,
	RelationNumaNode = 1,
	RelationCache = 2,
	RelationProcessorPackage = 3,
	RelationGroup = 4,
	RelationProcessorDie = 5,
	RelationNumaNodeEx = 6,
	RelationProcessorModule = 7,
	RelationAll = 0xffff,
} LOGICAL_PROCESSOR_RELATIONSHIP;

typedef enum _PROCESSOR_CACHE_TYPE {
	CacheUnified = 0,
	CacheInstruction = 1,
	CacheData = 2,
	CacheTrace = 3,
	CacheUnknown = 4,
} PROCESSOR_CACHE_TYPE;

/* The GroupMask arrays are variable length: a record is Size bytes long. */
typedef struct _PROCESSOR_RELATIONSHIP {
	UCHAR Flags;			/* LTP_PC_SMT */
	UCHAR EfficiencyClass;
	UCHAR Reserved[20];
	USHORT GroupCount;
	GROUP_AFFINITY GroupMask[ANYSIZE_ARRAY];
} PROCESSOR_RELATIONSHIP, *PPROCESSOR_RELATIONSHIP;

typedef struct _NUMA_NODE_RELATIONSHIP {
	ULONG NodeNumber;
	UCHAR Reserved[18];
	USHORT GroupCount;
	union {
		GROUP_AFFINITY GroupMask;
		GROUP_AFFINITY GroupMasks[ANYSIZE_ARRAY];
	};
} NUMA_NODE_RELATIONSHIP, *PNUMA_NODE_RELATIONSHIP;

typedef struct _CACHE_RELATIONSHIP {
	UCHAR Level;
	UCHAR Associativity;		/* CACHE_FULLY_ASSOCIATIVE */
	USHORT LineSize;
	ULONG CacheSize;
	PROCESSOR_CACHE_TYPE Type;
	UCHAR Reserved[18];
	USHORT GroupCount;
	union {
		GROUP_AFFINITY GroupMask;
		GROUP_AFFINITY GroupMasks[ANYSIZE_ARRAY];
	};
} CACHE_RELATIONSHIP, *PCACHE_RELATIONSHIP;

typedef struct _PROCESSOR_GROUP_INFO {
	UCHAR MaximumProcessorCount;
	UCHAR ActiveProcessorCount;
	UCHAR Reserved[38];
	KAFFINITY ActiveProcessorMask;
} PROCESSOR_GROUP_INFO, *PPROCESSOR_GROUP_INFO;

typedef struct _GROUP_RELATIONSHIP {
	USHORT MaximumGroupCount;
	USHORT ActiveGroupCount;
	UCHAR Reserved[20];
	PROCESSOR_GROUP_INFO GroupInfo[ANYSIZE_ARRAY];
} GROUP_RELATIONSHIP, *PGROUP_RELATIONSHIP;

typedef struct _SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX {
	LOGICAL_PROCESSOR_RELATIONSHIP Relationship;
	ULONG Size;
	union {
		PROCESSOR_RELATIONSHIP Processor;
		NUMA_NODE_RELATIONSHIP NumaNode;
		CACHE_RELATIONSHIP Cache;
		GROUP_RELATIONSHIP Group;
	};
} SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX, *PSYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX;
#endif

#ifndef LTP_PC_SMT
#define LTP_PC_SMT			0x1
#endif
#ifndef CACHE_FULLY_ASSOCIATIVE
#define CACHE_FULLY_ASSOCIATIVE		0xFF
#endif

static_assert(sizeof(LOGICAL_PROCESSOR_RELATIONSHIP) == 4);
static_assert(sizeof(PROCESSOR_CACHE_TYPE) == 4);
static_assert(offsetof(PROCESSOR_RELATIONSHIP, EfficiencyClass) == 1);
static_assert(offsetof(PROCESSOR_RELATIONSHIP, GroupCount) == 22);
static_assert(offsetof(PROCESSOR_RELATIONSHIP, GroupMask) == 24);
static_assert(sizeof(PROCESSOR_RELATIONSHIP) == 40);
static_assert(offsetof(NUMA_NODE_RELATIONSHIP, GroupCount) == 22);
static_assert(offsetof(NUMA_NODE_RELATIONSHIP, GroupMask) == 24);
static_assert(sizeof(NUMA_NODE_RELATIONSHIP) == 40);
static_assert(offsetof(CACHE_RELATIONSHIP, LineSize) == 2);
static_assert(offsetof(CACHE_RELATIONSHIP, CacheSize) == 4);
static_assert(offsetof(CACHE_RELATIONSHIP, Type) == 8);
static_assert(offsetof(CACHE_RELATIONSHIP, GroupCount) == 30);
static_assert(offsetof(CACHE_RELATIONSHIP, GroupMask) == 32);
static_assert(sizeof(CACHE_RELATIONSHIP) == 48);
static_assert(offsetof(PROCESSOR_GROUP_INFO, ActiveProcessorMask) == 40);
static_assert(sizeof(PROCESSOR_GROUP_INFO) == 48);
static_assert(offsetof(GROUP_RELATIONSHIP, GroupInfo) == 24);
static_assert(sizeof(GROUP_RELATIONSHIP) == 72);
static_assert(offsetof(SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX, Size) == 4);
static_assert(offsetof(SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX, Processor) == 8);
static_assert(sizeof(SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX) == 80);

NTSTATUS KeQueryLogicalProcessorRelationship(PPROCESSOR_NUMBER ProcessorNumber,
					     LOGICAL_PROCESSOR_RELATIONSHIP RelationshipType,
					     PSYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX Information,
					     PULONG Length);

/* NUMA nodes (shim/topology.c). */
VOID KeQueryNodeActiveAffinity(USHORT NodeNumber, PGROUP_AFFINITY Affinity, PUSHORT Count);
NTSTATUS KeQueryNodeActiveAffinity2(USHORT NodeNumber, PGROUP_AFFINITY GroupAffinities,
				    USHORT GroupAffinitiesCount, PUSHORT GroupAffinitiesRequired);
ULONG KeQueryNodeActiveProcessorCount(USHORT NodeNumber);
USHORT KeQueryHighestNodeNumber(void);
USHORT KeQueryNodeMaximumProcessorCount(USHORT NodeNumber);
USHORT KeGetCurrentNodeNumber(void);

/* --- Available CPUs (Windows 11 24H2): KAFFINITY_EX --- */

/* The Windows 11 layout, 0x108 bytes; Size is the capacity in groups. */
#define KECPUHP_AFFINITY_EX_WORDS	32
#ifndef KECPUHP_HAVE_KAFFINITY_EX
typedef struct _KAFFINITY_EX {
	USHORT Count;			/* group words in use */
	USHORT Size;			/* group words the buffer holds */
	ULONG Reserved;
	union {
		ULONGLONG Bitmap[ANYSIZE_ARRAY];
		ULONGLONG StaticBitmap[KECPUHP_AFFINITY_EX_WORDS];
	};
} KAFFINITY_EX, *PKAFFINITY_EX;
#endif

static_assert(offsetof(KAFFINITY_EX, Size) == 2);
static_assert(offsetof(KAFFINITY_EX, Bitmap) == 8);
static_assert(offsetof(KAFFINITY_EX, StaticBitmap) == 8);
static_assert(sizeof(KAFFINITY_EX) == 0x108);

/* shim/affinity_ex.c */
VOID KeInitializeAffinityEx(PKAFFINITY_EX Affinity);
VOID KeInitializeAffinityEx2(PKAFFINITY_EX Affinity, USHORT Size);
VOID KeAddProcessorAffinityEx(PKAFFINITY_EX Affinity, ULONG ProcessorIndex);
VOID KeRemoveProcessorAffinityEx(PKAFFINITY_EX Affinity, ULONG ProcessorIndex);
BOOLEAN KeCheckProcessorAffinityEx(PKAFFINITY_EX Affinity, ULONG ProcessorIndex);
BOOLEAN KeIsEmptyAffinityEx(PKAFFINITY_EX Affinity);
ULONG KeCountSetBitsAffinityEx(PKAFFINITY_EX Affinity);

/* shim/available.c. The callback gets its Context only: query again. */
typedef VOID PS_AVAILABLE_CPUS_CHANGE_CALLBACK(PVOID Context);
/*
 * An opaque handle; kecpuhp never dereferences what a driver passes back.
 * (The WDK calls the handle parameters RegistrationHandle; the names are
 * shorter here to fit the kernel's line length.)
 */
typedef PVOID PS_AVAILABLE_CPUS_CHANGE_REGISTRATION;

NTSTATUS
PsRegisterSystemAvailableCpusChangeNotification(PS_AVAILABLE_CPUS_CHANGE_CALLBACK *Callback,
						PVOID Context, PULONG64 ObservedSequenceNumber,
						PS_AVAILABLE_CPUS_CHANGE_REGISTRATION *Handle);
VOID PsUnregisterAvailableCpusChangeNotification(PS_AVAILABLE_CPUS_CHANGE_REGISTRATION Handle);
NTSTATUS PsQuerySystemAvailableCpus(PKAFFINITY_EX Affinity, PULONG64 ObservedSequenceNumber,
				    PULONG64 SequenceNumber);
NTSTATUS PsQuerySystemAvailableCpusCount(PULONG AvailableCpuCount, PULONG64 SequenceNumber);

#endif /* _KECPUHP_NTDDK_H */
