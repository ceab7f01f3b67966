/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Windows kernel's processor-change and processor index/group API, as
 * declared in the WDK's wdm.h, for Windows drivers ported to Linux. This is
 * the one header such a driver includes; the functions are exported by
 * kecpuhp.ko and documented (kernel-doc) where they are defined, in shim/.
 *
 * Callbacks use the native C calling convention: ported drivers are
 * compiled from source with the kernel's compiler.
 */
#ifndef _KECPUHP_WDM_H
#define _KECPUHP_WDM_H

#include <linux/export.h>
#include <linux/init.h>
#include <kecpuhp/ntdef.h>
#include <kecpuhp/linux.h>

struct module;

#ifndef KECPUHP_HAVE_KE_PROCESSOR_CHANGE
typedef enum _KE_PROCESSOR_CHANGE_NOTIFY_STATE {
	KeProcessorAddStartNotify = 0,
	KeProcessorAddCompleteNotify = 1,
	KeProcessorAddFailureNotify = 2,
} KE_PROCESSOR_CHANGE_NOTIFY_STATE;

/* The Windows 7 and later layout: 16 bytes, ProcNumber at offset 12. */
typedef struct _KE_PROCESSOR_CHANGE_NOTIFY_CONTEXT {
	KE_PROCESSOR_CHANGE_NOTIFY_STATE State;
	ULONG NtNumber;
	NTSTATUS Status;
	PROCESSOR_NUMBER ProcNumber;
} KE_PROCESSOR_CHANGE_NOTIFY_CONTEXT, *PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT;

typedef VOID PROCESSOR_CALLBACK_FUNCTION(PVOID CallbackContext,
					 PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT ChangeContext,
					 PNTSTATUS OperationStatus);
typedef void (*PPROCESSOR_CALLBACK_FUNCTION)(PVOID CallbackContext,
					     PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT ChangeContext,
					     PNTSTATUS OperationStatus);
#endif

#ifndef KE_PROCESSOR_CHANGE_ADD_EXISTING
#define KE_PROCESSOR_CHANGE_ADD_EXISTING 1
#endif

static_assert(sizeof(KE_PROCESSOR_CHANGE_NOTIFY_STATE) == 4);
static_assert(sizeof(KE_PROCESSOR_CHANGE_NOTIFY_CONTEXT) == 16);
static_assert(offsetof(KE_PROCESSOR_CHANGE_NOTIFY_CONTEXT, State) == 0);
static_assert(offsetof(KE_PROCESSOR_CHANGE_NOTIFY_CONTEXT, NtNumber) == 4);
static_assert(offsetof(KE_PROCESSOR_CHANGE_NOTIFY_CONTEXT, Status) == 8);
static_assert(offsetof(KE_PROCESSOR_CHANGE_NOTIFY_CONTEXT, ProcNumber) == 12);

/* Processor-change notification (shim/registry.c). */
PVOID KeRegisterProcessorChangeCallback(PPROCESSOR_CALLBACK_FUNCTION CallbackFunction,
					PVOID CallbackContext, ULONG Flags);
VOID KeDeregisterProcessorChangeCallback(PVOID CallbackHandle);
PVOID kecpuhp_register_processor_change_callback(PPROCESSOR_CALLBACK_FUNCTION fn, PVOID ctx,
						 ULONG flags, struct module *caller);

/*
 * A call written KeRegisterProcessorChangeCallback(...) also tells kecpuhp
 * which module registers, so the registration goes when that module does,
 * whatever module holds the callback. The name alone (a function pointer,
 * &KeRegisterProcessorChangeCallback) is still the exported function.
 */
#ifndef KECPUHP_NO_REGISTER_WRAPPER
#define KeRegisterProcessorChangeCallback(CallbackFunction, CallbackContext, Flags) \
	kecpuhp_register_processor_change_callback(CallbackFunction, CallbackContext, \
						   Flags, THIS_MODULE)
#endif

/* Processor index and group queries (shim/procnum.c). */
ULONG KeQueryActiveProcessorCountEx(USHORT GroupNumber);
ULONG KeQueryMaximumProcessorCountEx(USHORT GroupNumber);
ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors);
ULONG KeQueryMaximumProcessorCount(void);
KAFFINITY KeQueryActiveProcessors(void);
USHORT KeQueryActiveGroupCount(void);
USHORT KeQueryMaximumGroupCount(void);
KAFFINITY KeQueryGroupAffinity(USHORT GroupNumber);
ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber);
NTSTATUS KeGetProcessorNumberFromIndex(ULONG ProcIndex, PPROCESSOR_NUMBER ProcNumber);
ULONG KeGetProcessorIndexFromNumber(PPROCESSOR_NUMBER ProcNumber);

#endif /* _KECPUHP_WDM_H */
