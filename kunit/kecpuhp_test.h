/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the kecpuhp KUnit suites: a recorder of notifications, and
 * registrations configured to misbehave in the ways the contract covers.
 *
 * The guest boots with maxcpus=2 of 10 vCPUs: CPUs 2-9 are new to kecpuhp.
 * A successful add uses one of them for good; a vetoed or failed add does
 * not, so most cases veto. Six adds succeed in the suites here (two in
 * hotadd_test.c, two in addpath_test.c, one in run_test.c, and one CPU of
 * node 1 in topology_test.c: make check boots two NUMA nodes of one 8-slot
 * socket each, CPUs 0-7 on node 0 and 8-9 on node 1), which leaves two new
 * CPUs to spare.
 *
 * Registrations made through test_register() and CPUs taken offline through
 * test_remove_cpu() are undone by test_exit(), the .exit of every suite, so
 * a case that fails half-way leaks nothing into the next one.
 */
#ifndef _KECPUHP_TEST_H
#define _KECPUHP_TEST_H

#include <kunit/test.h>
#include <kecpuhp/wdm.h>

#define REC_MAX_EVENTS	128
#define TEST_VETOER	99	/* id of the registration test_vetoed_add() adds */
#define TEST_MAX_REGS	16	/* registrations one case may make */

/* test_reg.registered_inside before the callback tried to register. */
#define TEST_NOT_TRIED	((PVOID)1)

/* An informational NTSTATUS (STATUS_OBJECT_NAME_EXISTS): not a failure. */
#define TEST_STATUS_INFORMATIONAL	((NTSTATUS)0x40000000L)

/* What one callback invocation saw. */
struct rec_event {
	int reg;				/* test_reg.id */
	KE_PROCESSOR_CHANGE_NOTIFY_STATE state;
	ULONG index;
	NTSTATUS status;
	PROCESSOR_NUMBER pn;
	NTSTATUS *op;
	NTSTATUS op_in;				/* *OperationStatus on entry */
	NTSTATUS op_out;			/* *OperationStatus on return */
	int cpu;				/* smp_processor_id() */
	int moved_cpu;				/* the CPU after move_in_complete */
	bool sleepable;				/* no preempt count, irqs on */
	bool kthread;				/* PF_KTHREAD */
	bool bound;				/* PF_NO_SETAFFINITY: Linux won't move it */
	unsigned int nr_allowed;		/* current->nr_cpus_allowed */
	bool allowed_target;			/* the index's CPU in current->cpus_ptr */
	bool index_cpu_online;
	struct task_struct *task;
	ULONG active;				/* KeQueryActiveProcessorCountEx(ALL) */
	NTSTATUS resolve;			/* KeGetProcessorNumberFromIndex() */
	PROCESSOR_NUMBER resolved;
	ULONG back;				/* KeGetProcessorIndexFromNumber() */
	int index_to_cpu;			/* kecpuhp_index_to_cpu() */
	ULONG current_index;			/* KeGetCurrentProcessorNumberEx() */
	PROCESSOR_NUMBER current_pn;
};

struct test_reg {
	int id;
	PVOID handle;
	/* misbehaviour */
	NTSTATUS start_write;		/* written in any Start, before a veto */
	NTSTATUS veto;			/* written in hot-add Start */
	bool veto_in_replay;
	ULONG veto_at;			/* replay index to veto at */
	NTSTATUS write_after_start;	/* written in Complete/Failure */
	bool sleep_in_complete;		/* sleeps 1-2 ms in Complete */
	bool move_in_complete;		/* moves to the new CPU in Complete, stays */
	bool scribble;			/* overwrites *ChangeContext, any state */
	bool dereg_self;		/* in hot-add Start */
	struct test_reg *dereg_other;	/* in hot-add Start */
	bool try_register;		/* in any Start */
	PVOID registered_inside;	/* what that Register returned */
};

void rec_reset(void);
unsigned int rec_count(void);
struct rec_event *rec_get(unsigned int i);
unsigned int rec_count_of(int reg, KE_PROCESSOR_CHANGE_NOTIFY_STATE state);

void test_reg_init(struct test_reg *r, int id);
struct test_reg *test_new_reg(struct kunit *test, int id);
PVOID test_register(struct kunit *test, struct test_reg *r, ULONG flags);
void test_deregister(struct test_reg *r);
PROCESSOR_CALLBACK_FUNCTION test_callback;

int test_fresh_cpu(struct kunit *test);
int test_fresh_cpu_after(struct kunit *test, int prev);
int test_vetoed_add(struct kunit *test, int *cpu);
int test_vetoed_add_on(struct kunit *test, int cpu);
int test_remove_cpu(unsigned int cpu);
void test_exit(struct kunit *test);
struct file *test_open_sys(const char *path, int flags);
int test_run_applet(char *applet, char *arg1, char *arg2);
ssize_t test_read_file(const char *path, char *buf, size_t len);
int test_write_file(const char *path, const char *val);
void test_expect_event(struct kunit *test, unsigned int i, int reg,
		       KE_PROCESSOR_CHANGE_NOTIFY_STATE state, ULONG index);

extern struct kunit_suite kecpuhp_procnum_suite;
extern struct kunit_suite kecpuhp_add_existing_suite;
extern struct kunit_suite kecpuhp_misuse_suite;
extern struct kunit_suite kecpuhp_hotadd_suite;
extern struct kunit_suite kecpuhp_lifecycle_suite;
extern struct kunit_suite kecpuhp_addpath_suite;
extern struct kunit_suite kecpuhp_topology_suite;
extern struct kunit_suite kecpuhp_available_suite;
extern struct kunit_suite kecpuhp_run_suite;		/* run_test.c */
extern struct kunit_suite kecpuhp_run_hotadd_suite;

#endif /* _KECPUHP_TEST_H */
