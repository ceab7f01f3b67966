/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kecpuhp internals shared by the files of the module. Each file has one job:
 *   registry.c   the registration list, handles, Register/Deregister, unload
 *   notify.c     the notification sequencing: the add path and its
 *                per-processor add state, the cpuhp callbacks, replays
 *   addthread.c  the add thread that delivers every hot-add notification
 *   procnum.c    the processor numbering and the index/group queries
 *   debugfs.c    the debug surface
 *   main.c       module init/exit: the cpuhp states and the module notifier
 */
#ifndef _KECPUHP_INTERNAL_H
#define _KECPUHP_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <kecpuhp/wdm.h>

#define KECPUHP_NR_STATES	3	/* Start, Complete, Failure */

/* kecpuhp_reg.bits */
#define KECPUHP_REG_DEAD	BIT(0)	/* deregistered; freed after the pass */
#define KECPUHP_REG_REPORTED	BIT(1)	/* status misuse already reported */

/*
 * One registration. Kept within 64 bytes (one kmalloc-64 object): drivers
 * may register one per device, and the count is unlimited.
 */
struct kecpuhp_reg {
	struct list_head node;		/* kecpuhp_regs, registration order; RCU */
	PPROCESSOR_CALLBACK_FUNCTION fn;
	PVOID ctx;
	struct module *owner;		/* the module that called Register, if known */
	u32 id;				/* the handle given to the driver */
	u32 add_epoch;			/* the hot-add whose Start it got */
	u16 flags;			/* the Windows Flags argument */
	u16 bits;			/* KECPUHP_REG_* */
	u32 count[KECPUHP_NR_STATES];	/* notifications delivered, by state */
};

/* registry.c */
extern struct list_head kecpuhp_regs;
extern struct mutex kecpuhp_regs_mutex;
void kecpuhp_regs_lock(void);
void kecpuhp_regs_unlock(void);
bool kecpuhp_reg_live(const struct kecpuhp_reg *reg);
bool kecpuhp_in_callback(void);
extern struct notifier_block kecpuhp_module_nb;
void kecpuhp_registry_exit(void);

/* notify.c */
int kecpuhp_cpu_prepare(unsigned int cpu);
int kecpuhp_cpu_online(unsigned int cpu);
int kecpuhp_cpu_offline(unsigned int cpu);
int kecpuhp_cpu_dead(unsigned int cpu);
bool kecpuhp_replay_existing(struct kecpuhp_reg *reg);

/* addthread.c */
int kecpuhp_add_thread_start(void);
void kecpuhp_add_thread_stop(void);
void kecpuhp_add_thread_run(void (*pass)(void *arg), void *arg);
void kecpuhp_add_thread_calling(const void *fn);
bool kecpuhp_in_add_thread(void);
pid_t kecpuhp_add_thread_pid(void);

/* procnum.c: the per-processor add state, driven by notify.c */
enum kecpuhp_add_state {
	KECPUHP_ADD_NONE,	/* no index: never announced, or its add failed */
	KECPUHP_ADD_STARTED,	/* index reserved, Start delivered */
	KECPUHP_ADD_ACTIVE,	/* Complete delivered: an index for good */
};

int kecpuhp_procnum_init(void);
void kecpuhp_procnum_exit(void);
enum kecpuhp_add_state kecpuhp_add_state(unsigned int cpu);
int kecpuhp_add_in_flight(void);
int kecpuhp_index_reserve(unsigned int cpu, u32 *index);
int kecpuhp_index_release(unsigned int cpu);
int kecpuhp_index_activate(unsigned int cpu);
bool kecpuhp_index_is_active(u32 index);
u32 kecpuhp_assigned_count(void);
u32 kecpuhp_active_count(void);
PROCESSOR_NUMBER kecpuhp_index_number(u32 index);
void kecpuhp_index_mark_failed_online(u32 index);
bool kecpuhp_index_failed_online(u32 index);

/* debugfs.c */
void kecpuhp_debugfs_init(int prepare_state, int online_state);
void kecpuhp_debugfs_exit(void);

#endif /* _KECPUHP_INTERNAL_H */
