// SPDX-License-Identifier: GPL-2.0
/*
 * The floor for the index queries: exported functions in a module of their
 * own that do nothing but return, with the signatures of the queries they
 * stand beside. The benchmark calls them the way a driver calls Ke*: a call
 * into another module, return thunk and all. That call is the price of the
 * Windows ABI, where a driver may take a query's address.
 */
#include <linux/export.h>
#include <linux/module.h>
#include "kecpuhp_floor.h"

ULONG kecpuhp_floor_number(PPROCESSOR_NUMBER pn)
{
	return 0;
}
EXPORT_SYMBOL_GPL(kecpuhp_floor_number);

NTSTATUS kecpuhp_floor_index(ULONG index, PPROCESSOR_NUMBER pn)
{
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_GPL(kecpuhp_floor_index);

ULONG kecpuhp_floor_count(USHORT group)
{
	return 0;
}
EXPORT_SYMBOL_GPL(kecpuhp_floor_count);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kecpuhp benchmark floor: exported functions that only return");
MODULE_AUTHOR("The kecpuhp developers");
