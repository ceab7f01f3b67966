// SPDX-License-Identifier: GPL-2.0
/*
 * KAFFINITY_EX, the extended affinity the available-CPUs API answers with,
 * and the helpers drivers import to build and read one: bit i of word g is
 * processor index g * 64 + i. Count is the number of words in use, Size
 * the number the buffer holds (32 in the Windows 11 layout, 20 for the
 * Windows 10 one, which is what KeInitializeAffinityEx() sets so that a
 * driver built with the older, smaller structure is not overrun).
 *
 * Windows does not check its arguments here; these helpers ignore a NULL
 * affinity and a processor beyond Size instead of writing past the buffer.
 * They only touch the caller's structure: any context.
 */
#include <linux/bitops.h>
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include "internal.h"

#define KECPUHP_AFFINITY_EX_DEFAULT_SIZE	20

/*
 * The bitmap words, through a plain pointer: Size may exceed the 32 words
 * of the static array when the caller allocated more.
 */
static ULONGLONG *kecpuhp_words(PKAFFINITY_EX a)
{
	return (ULONGLONG *)((u8 *)a + offsetof(KAFFINITY_EX, Bitmap));
}

/* Words that hold meaning: never more than the buffer has. */
static u32 kecpuhp_used(PKAFFINITY_EX a)
{
	return min_t(u32, a->Count, a->Size);
}

/**
 * KeInitializeAffinityEx2 - initialise an empty extended affinity
 * @Affinity: the structure
 * @Size: the number of 64-bit group words the caller's buffer holds
 *
 * Sets Count to 1 and Size to @Size, and clears @Size words.
 *
 * Context: any.
 */
void KeInitializeAffinityEx2(PKAFFINITY_EX Affinity, USHORT Size)
{
	if (!Affinity)
		return;
	Affinity->Count = 1;
	Affinity->Size = Size;
	Affinity->Reserved = 0;
	memset(kecpuhp_words(Affinity), 0, Size * sizeof(ULONGLONG));
}
EXPORT_SYMBOL_GPL(KeInitializeAffinityEx2);

/**
 * KeInitializeAffinityEx - initialise an empty extended affinity
 * @Affinity: the structure, at least the Windows 10 size (20 words)
 *
 * KeInitializeAffinityEx2(@Affinity, 20), as Windows does.
 *
 * Context: any.
 */
void KeInitializeAffinityEx(PKAFFINITY_EX Affinity)
{
	KeInitializeAffinityEx2(Affinity, KECPUHP_AFFINITY_EX_DEFAULT_SIZE);
}
EXPORT_SYMBOL_GPL(KeInitializeAffinityEx);

/**
 * KeAddProcessorAffinityEx - add a processor to an extended affinity
 * @Affinity: the structure
 * @ProcessorIndex: a processor index
 *
 * Count grows to cover the processor's group. An index beyond Size words is
 * ignored.
 *
 * Context: any.
 */
void KeAddProcessorAffinityEx(PKAFFINITY_EX Affinity, ULONG ProcessorIndex)
{
	u32 g = ProcessorIndex / MAXIMUM_PROC_PER_GROUP, i;
	ULONGLONG *w;

	if (!Affinity || g >= Affinity->Size)
		return;
	w = kecpuhp_words(Affinity);
	for (i = Affinity->Count; i <= g; i++)
		w[i] = 0;
	if (g >= Affinity->Count)
		Affinity->Count = g + 1;
	w[g] |= BIT_ULL(ProcessorIndex % MAXIMUM_PROC_PER_GROUP);
}
EXPORT_SYMBOL_GPL(KeAddProcessorAffinityEx);

/**
 * KeRemoveProcessorAffinityEx - remove a processor from an extended affinity
 * @Affinity: the structure
 * @ProcessorIndex: a processor index
 *
 * Context: any.
 */
void KeRemoveProcessorAffinityEx(PKAFFINITY_EX Affinity, ULONG ProcessorIndex)
{
	u32 g = ProcessorIndex / MAXIMUM_PROC_PER_GROUP;

	if (!Affinity || g >= kecpuhp_used(Affinity))
		return;
	kecpuhp_words(Affinity)[g] &= ~BIT_ULL(ProcessorIndex % MAXIMUM_PROC_PER_GROUP);
}
EXPORT_SYMBOL_GPL(KeRemoveProcessorAffinityEx);

/**
 * KeCheckProcessorAffinityEx - is a processor in an extended affinity?
 * @Affinity: the structure
 * @ProcessorIndex: a processor index
 *
 * Context: any.
 * Return: TRUE if the processor's bit is set, FALSE otherwise.
 */
BOOLEAN KeCheckProcessorAffinityEx(PKAFFINITY_EX Affinity, ULONG ProcessorIndex)
{
	u32 g = ProcessorIndex / MAXIMUM_PROC_PER_GROUP;

	if (!Affinity || g >= kecpuhp_used(Affinity))
		return FALSE;
	return !!(kecpuhp_words(Affinity)[g] & BIT_ULL(ProcessorIndex % MAXIMUM_PROC_PER_GROUP));
}
EXPORT_SYMBOL_GPL(KeCheckProcessorAffinityEx);

/**
 * KeCountSetBitsAffinityEx - count the processors in an extended affinity
 * @Affinity: the structure
 *
 * Context: any.
 * Return: the number of set bits in the Count words in use.
 */
ULONG KeCountSetBitsAffinityEx(PKAFFINITY_EX Affinity)
{
	u32 g, n = 0;

	if (!Affinity)
		return 0;
	for (g = 0; g < kecpuhp_used(Affinity); g++)
		n += hweight64(kecpuhp_words(Affinity)[g]);
	return n;
}
EXPORT_SYMBOL_GPL(KeCountSetBitsAffinityEx);

/**
 * KeIsEmptyAffinityEx - is an extended affinity empty?
 * @Affinity: the structure
 *
 * Context: any.
 * Return: TRUE if no processor is set (or @Affinity is NULL).
 */
BOOLEAN KeIsEmptyAffinityEx(PKAFFINITY_EX Affinity)
{
	return KeCountSetBitsAffinityEx(Affinity) == 0;
}
EXPORT_SYMBOL_GPL(KeIsEmptyAffinityEx);
