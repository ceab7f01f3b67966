// SPDX-License-Identifier: GPL-2.0
/*
 * Handles: what KeRegisterProcessorChangeCallback() gives a driver. A handle
 * names a slot of a table and the generation of the slot's tenant,
 *	handle = generation << 32 | (slot + 1),
 * so it is never NULL, and it is checked, never followed: a stale handle
 * (its registration gone, the slot perhaps taken again) does not match the
 * slot's generation, and a value that never was a handle falls outside the
 * table or does not match either. A slot's generation moves on each time
 * the slot is freed, so a stale handle could name a newer registration only
 * after 2^32 reuses of that one slot.
 *
 * The table holds one word per slot: a live slot holds its registration's
 * address, a free one (low bit set) its next generation and the next free
 * slot. Freed slots are taken again first, so the table is as large as the
 * most registrations ever live at once, and taking, checking and freeing a
 * handle is O(1) with no allocation in the steady state.
 *
 * Locking: all of it under kecpuhp_regs_mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"

#define KECPUHP_SLOT_FREE	1UL
#define KECPUHP_SLOTS_MIN	64

static unsigned long *kecpuhp_slots;
static u32 kecpuhp_nr_slots;
static u32 kecpuhp_free_head;		/* first free slot + 1; 0: none */

/* A free slot's word: its next generation, and the next free slot + 1. */
static unsigned long kecpuhp_free_word(u32 gen, u32 next_plus1)
{
	return (unsigned long)gen << 32 | (unsigned long)next_plus1 << 1 | KECPUHP_SLOT_FREE;
}

static u32 kecpuhp_word_gen(unsigned long word)
{
	return word >> 32;
}

static u32 kecpuhp_word_next(unsigned long word)
{
	return (u32)word >> 1;
}

/* Twice the slots, the new ones free with generation 1. */
static int kecpuhp_slots_grow(void)
{
	u32 n = max_t(u32, KECPUHP_SLOTS_MIN, kecpuhp_nr_slots * 2), i;
	unsigned long *slots;

	if (n > INT_MAX / 2)
		return -ENOSPC;
	slots = kvmalloc_array(n, sizeof(*slots), GFP_KERNEL);
	if (!slots)
		return -ENOMEM;
	if (kecpuhp_nr_slots)
		memcpy(slots, kecpuhp_slots, kecpuhp_nr_slots * sizeof(*slots));
	for (i = kecpuhp_nr_slots; i < n; i++)
		slots[i] = kecpuhp_free_word(1, i + 1 < n ? i + 2 : kecpuhp_free_head);
	kecpuhp_free_head = kecpuhp_nr_slots + 1;
	kvfree(kecpuhp_slots);
	kecpuhp_slots = slots;
	kecpuhp_nr_slots = n;
	return 0;
}

/**
 * kecpuhp_handle_reserve - make sure the next kecpuhp_handle_take() succeeds
 *
 * Context: kecpuhp_regs_mutex held, may sleep.
 * Return: 0, or -ENOMEM.
 */
int kecpuhp_handle_reserve(void)
{
	lockdep_assert_held(&kecpuhp_regs_mutex);
	return kecpuhp_free_head ? 0 : kecpuhp_slots_grow();
}

/**
 * kecpuhp_handle_take - give @reg a slot and its handle
 * @reg: a registration
 *
 * Context: kecpuhp_regs_mutex held since a successful kecpuhp_handle_reserve().
 */
void kecpuhp_handle_take(struct kecpuhp_reg *reg)
{
	u32 slot = kecpuhp_free_head - 1;
	unsigned long word = kecpuhp_slots[slot];

	lockdep_assert_held(&kecpuhp_regs_mutex);
	kecpuhp_free_head = kecpuhp_word_next(word);
	reg->slot = slot;
	reg->gen = kecpuhp_word_gen(word);
	kecpuhp_slots[slot] = (unsigned long)reg;
}

/* The handle of @reg, as the driver holds it. */
unsigned long kecpuhp_handle_of(const struct kecpuhp_reg *reg)
{
	return (unsigned long)reg->gen << 32 | (reg->slot + 1);
}

/**
 * kecpuhp_handle_lookup - the live registration @handle names
 * @handle: what a driver passed
 * @in_range: set to whether @handle names a slot of the table at all
 *
 * Context: kecpuhp_regs_mutex held.
 * Return: the registration, or NULL for a stale or bogus handle.
 */
struct kecpuhp_reg *kecpuhp_handle_lookup(unsigned long handle, bool *in_range)
{
	u32 slot_plus1 = (u32)handle, gen = handle >> 32;
	struct kecpuhp_reg *reg;
	unsigned long word;

	lockdep_assert_held(&kecpuhp_regs_mutex);
	*in_range = slot_plus1 && slot_plus1 <= kecpuhp_nr_slots && gen;
	if (!*in_range)
		return NULL;
	word = kecpuhp_slots[slot_plus1 - 1];
	if (word & KECPUHP_SLOT_FREE)
		return NULL;
	reg = (struct kecpuhp_reg *)word;
	return reg->gen == gen ? reg : NULL;
}

/**
 * kecpuhp_handle_put - free the slot of @reg; its handle goes stale at once
 * @reg: a registration holding a slot
 *
 * Context: kecpuhp_regs_mutex held.
 */
void kecpuhp_handle_put(struct kecpuhp_reg *reg)
{
	/* Generation 0 is never handed out: a zero high word is no handle. */
	u32 gen = reg->gen + 1 ?: 1;

	lockdep_assert_held(&kecpuhp_regs_mutex);
	kecpuhp_slots[reg->slot] = kecpuhp_free_word(gen, kecpuhp_free_head);
	kecpuhp_free_head = reg->slot + 1;
}

/* Module exit: every registration is gone. */
void kecpuhp_handles_exit(void)
{
	kvfree(kecpuhp_slots);
	kecpuhp_slots = NULL;
	kecpuhp_nr_slots = 0;
	kecpuhp_free_head = 0;
}
