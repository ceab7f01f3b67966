/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kecpuhp's Linux extension: between a Windows processor index (the
 * NtNumber of a processor-change notification) and the Linux CPU id, so a
 * ported driver can use queue_work_on(), per_cpu() and friends with it.
 */
#ifndef _KECPUHP_LINUX_H
#define _KECPUHP_LINUX_H

#include <linux/types.h>

int kecpuhp_index_to_cpu(u32 index);
u32 kecpuhp_cpu_to_index(unsigned int cpu);

#endif /* _KECPUHP_LINUX_H */
