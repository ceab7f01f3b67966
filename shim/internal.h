/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kecpuhp internals shared by the files of the module. Each file has one job:
 *   registry.c   the registration list, Register/Deregister, unload
 *   handles.c    the handles Register gives out and Deregister checks
 *   notify.c     the notification sequencing: the add path and its
 *                per-processor add state, the cpuhp callbacks, replays
 *   addthread.c  the add thread that delivers every hot-add notification
 *   procnum.c    the processor numbering and the index/group queries
 *   debugfs.c    the debug surface
 *   topology.c   KeQueryLogicalProcessorRelationship, the NUMA node calls
 *   available.c  the available-CPUs API (and the cpuhp state it shares
 *                with the topology snapshot); affinity_ex.c KAFFINITY_EX
 *   affinity.c   affinity of the current thread (KeSetSystemGroupAffinityThread...)
 *   dpc.c        DPC objects, the per-CPU DPC queues and threads
 *   gencall.c    KeIpiGenericCall() and KeGenericCallDpc()
 *   main.c       module init/exit: the cpuhp states and the module notifier
 */
#ifndef _KECPUHP_INTERNAL_H
#define _KECPUHP_INTERNAL_H

#include <linux/cpumask.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/sched.h>
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
	u32 slot, gen;			/* its handle: see handles.c */
	u32 add_epoch;			/* the hot-add whose Start it got */
	u16 flags;			/* the Windows Flags argument */
	u16 bits;			/* KECPUHP_REG_* */
	u16 count[KECPUHP_NR_STATES];	/* notifications delivered, up to U16_MAX */
};

static_assert(sizeof(struct kecpuhp_reg) <= 64);

/* registry.c */
extern struct list_head kecpuhp_regs;
extern struct mutex kecpuhp_regs_mutex;
void kecpuhp_regs_lock(void);
void kecpuhp_regs_unlock(void);

static inline bool kecpuhp_reg_live(const struct kecpuhp_reg *reg)
{
	return !(reg->bits & KECPUHP_REG_DEAD);
}

bool kecpuhp_in_callback(void);
extern struct notifier_block kecpuhp_module_nb;
void kecpuhp_registry_exit(void);

/* handles.c */
int kecpuhp_handle_reserve(void);
void kecpuhp_handle_take(struct kecpuhp_reg *reg);
unsigned long kecpuhp_handle_of(const struct kecpuhp_reg *reg);
struct kecpuhp_reg *kecpuhp_handle_lookup(unsigned long handle, bool *in_range);
void kecpuhp_handle_put(struct kecpuhp_reg *reg);
void kecpuhp_handles_exit(void);

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
bool kecpuhp_in_add_thread(void);
pid_t kecpuhp_add_thread_pid(void);
void kecpuhp_add_thread_reaffine(void);
extern const void *kecpuhp_add_fn;
extern cpumask_var_t kecpuhp_add_mask;

/*
 * Around each callback of a pass, in the add thread: the callback a
 * waiter that runs out of patience names, and the thread's affinity put
 * back if the callback moved it. Inline: they run once per registration.
 */
static inline void kecpuhp_add_thread_before(const void *fn)
{
	WRITE_ONCE(kecpuhp_add_fn, fn);
}

static inline void kecpuhp_add_thread_after(void)
{
	if (unlikely(!cpumask_equal(current->cpus_ptr, kecpuhp_add_mask)))
		kecpuhp_add_thread_reaffine();
}

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

/* --- issue 13: topology and available CPUs --- */
/* topology.c */
int kecpuhp_topology_init(void);
void kecpuhp_topology_exit(void);
void kecpuhp_topology_snapshot(unsigned int cpu);

/* available.c */
int kecpuhp_available_init(void);
void kecpuhp_available_start(void);
void kecpuhp_available_exit(void);
/* --- end issue 13 --- */
/* Running code on a processor (issue 11): affinity.c, dpc.c, gencall.c. */
bool kecpuhp_affinity_drop_current(void *fn);
void kecpuhp_affinity_exit(void);
int kecpuhp_dpc_init(void);
void kecpuhp_dpc_exit(void);
extern struct notifier_block kecpuhp_dpc_module_nb;
bool kecpuhp_dpc_cpu_ready(unsigned int cpu);
bool kecpuhp_dpc_in_thread(void);
void kecpuhp_dpc_init_internal(PKDPC dpc, PKDEFERRED_ROUTINE routine, PVOID context);
bool kecpuhp_dpc_queue_on(PKDPC dpc, unsigned int cpu, PVOID a1, PVOID a2);
/* end of issue 11 */

#endif /* _KECPUHP_INTERNAL_H */
