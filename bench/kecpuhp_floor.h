/* SPDX-License-Identifier: GPL-2.0 */
/* The floor functions of kecpuhp_floor.ko, for the benchmark. */
#ifndef _KECPUHP_FLOOR_H
#define _KECPUHP_FLOOR_H

#include <kecpuhp/wdm.h>

ULONG kecpuhp_floor_number(PPROCESSOR_NUMBER pn);
NTSTATUS kecpuhp_floor_index(ULONG index, PPROCESSOR_NUMBER pn);
ULONG kecpuhp_floor_count(USHORT group);

#endif /* _KECPUHP_FLOOR_H */
