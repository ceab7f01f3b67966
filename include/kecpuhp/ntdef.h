/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Windows base types and status codes used by the kecpuhp API, with the
 * sizes and values of the WDK (LLP64: a Windows LONG is 32 bits).
 *
 * A ported driver often carries its own Windows-type header. C11 allows a
 * typedef to be repeated with the same type, so the scalar typedefs below
 * combine with any correct definition, and a wrong one (ULONG as a 64-bit
 * long) fails to compile instead of corrupting the ABI. Structures cannot be
 * repeated: a driver that already defines them defines the matching
 * KECPUHP_HAVE_* macro before including this file, and the static assertions
 * at the end check that its layout is the Windows one.
 */
#ifndef _KECPUHP_NTDEF_H
#define _KECPUHP_NTDEF_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>

#ifndef VOID
#define VOID void
#endif

typedef unsigned char UCHAR;
typedef unsigned short USHORT;
typedef unsigned int ULONG;
typedef int LONG;
typedef unsigned long ULONG_PTR;
typedef void *PVOID;
typedef LONG NTSTATUS, *PNTSTATUS;
typedef ULONG_PTR KAFFINITY, *PKAFFINITY;

#ifndef NT_SUCCESS
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#endif

#ifndef STATUS_SUCCESS
#define STATUS_SUCCESS			((NTSTATUS)0x00000000L)
#endif
#ifndef STATUS_UNSUCCESSFUL
#define STATUS_UNSUCCESSFUL		((NTSTATUS)0xC0000001L)
#endif
#ifndef STATUS_NOT_IMPLEMENTED
#define STATUS_NOT_IMPLEMENTED		((NTSTATUS)0xC0000002L)
#endif
#ifndef STATUS_INVALID_PARAMETER
#define STATUS_INVALID_PARAMETER	((NTSTATUS)0xC000000DL)
#endif
#ifndef STATUS_NO_MEMORY
#define STATUS_NO_MEMORY		((NTSTATUS)0xC0000017L)
#endif
#ifndef STATUS_ACCESS_DENIED
#define STATUS_ACCESS_DENIED		((NTSTATUS)0xC0000022L)
#endif
#ifndef STATUS_INSUFFICIENT_RESOURCES
#define STATUS_INSUFFICIENT_RESOURCES	((NTSTATUS)0xC000009AL)
#endif
#ifndef STATUS_NOT_SUPPORTED
#define STATUS_NOT_SUPPORTED		((NTSTATUS)0xC00000BBL)
#endif
#ifndef STATUS_INTERNAL_ERROR
#define STATUS_INTERNAL_ERROR		((NTSTATUS)0xC00000E5L)
#endif
#ifndef STATUS_DEVICE_BUSY
#define STATUS_DEVICE_BUSY		((NTSTATUS)0x80000011L)
#endif

#ifndef MAXIMUM_PROC_PER_GROUP
#define MAXIMUM_PROC_PER_GROUP		64
#endif
#ifndef MAXIMUM_PROCESSORS
#define MAXIMUM_PROCESSORS		MAXIMUM_PROC_PER_GROUP
#endif
#ifndef ALL_PROCESSOR_GROUPS
#define ALL_PROCESSOR_GROUPS		0xffff
#endif
#ifndef INVALID_PROCESSOR_INDEX
#define INVALID_PROCESSOR_INDEX		0xffffffff
#endif

#ifndef KECPUHP_HAVE_PROCESSOR_NUMBER
typedef struct _PROCESSOR_NUMBER {
	USHORT Group;
	UCHAR Number;
	UCHAR Reserved;
} PROCESSOR_NUMBER, *PPROCESSOR_NUMBER;
#endif

#ifndef KECPUHP_HAVE_GROUP_AFFINITY
typedef struct _GROUP_AFFINITY {
	KAFFINITY Mask;
	USHORT Group;
	USHORT Reserved[3];
} GROUP_AFFINITY, *PGROUP_AFFINITY;
#endif

static_assert(sizeof(ULONG) == 4 && sizeof(LONG) == 4 && sizeof(USHORT) == 2);
static_assert(sizeof(KAFFINITY) == sizeof(void *));
static_assert(sizeof(PROCESSOR_NUMBER) == 4);
static_assert(offsetof(PROCESSOR_NUMBER, Group) == 0);
static_assert(offsetof(PROCESSOR_NUMBER, Number) == 2);
static_assert(offsetof(PROCESSOR_NUMBER, Reserved) == 3);
static_assert(sizeof(GROUP_AFFINITY) == 16);

#endif /* _KECPUHP_NTDEF_H */
