// SPDX-License-Identifier: GPL-2.0
/*
 * A misbehaving driver for the guest scenarios that need a real module:
 *  - leak=1: registers at load and never deregisters, so unloading it
 *    exercises kecpuhp's module notifier;
 *  - writing 1 to try_register registers (and deregisters) once, with
 *    fault injection armed for this task only, so that a failslab setup
 *    with task-filter=Y fails exactly kecpuhp's allocations; the outcome
 *    is in last_result: "null", "handle" or "none";
 *  - avail_leak=1: registers an available-CPUs callback at load with a
 *    stale sequence number (so a 1 s call starts at once) and never
 *    unregisters it: unloading it exercises that module notifier with a
 *    call running and possibly one queued.
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <kecpuhp/wdm.h>

static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "register at load, never deregister");

static atomic_t fixture_calls = ATOMIC_INIT(0);
module_param_named(calls, fixture_calls.counter, int, 0444);
MODULE_PARM_DESC(calls, "notifications received");

static char last_result[8] = "none";
module_param_string(last_result, last_result, sizeof(last_result), 0444);
MODULE_PARM_DESC(last_result, "outcome of the last try_register");

static int dpc_at = -1;
module_param(dpc_at, int, 0444);
MODULE_PARM_DESC(dpc_at, "queue a DPC for this processor index at load, never flush it");

static KDPC fixture_dpc;

static VOID fixture_dpc_routine(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	atomic_inc(&fixture_calls);
}

static VOID fixture_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op)
{
	atomic_inc(&fixture_calls);
}

/* Arm fault injection (failslab's task-filter) for this task only. */
static void fixture_make_it_fail(bool fail)
{
#ifdef CONFIG_FAULT_INJECTION
	current->make_it_fail = fail;
#endif
}

static int fixture_try_register(const char *val, const struct kernel_param *kp)
{
	PVOID h;

	fixture_make_it_fail(true);
	h = KeRegisterProcessorChangeCallback(fixture_callback, NULL,
					      KE_PROCESSOR_CHANGE_ADD_EXISTING);
	fixture_make_it_fail(false);
	strscpy(last_result, h ? "handle" : "null", sizeof(last_result));
	if (h)
		KeDeregisterProcessorChangeCallback(h);
	return 0;
}

static const struct kernel_param_ops fixture_try_ops = {
	.set = fixture_try_register,
};
module_param_cb(try_register, &fixture_try_ops, NULL, 0200);
MODULE_PARM_DESC(try_register, "write 1: register once with fault injection armed");

/* --- issue 13: available-CPUs registration left behind --- */
static bool avail_leak;
module_param(avail_leak, bool, 0444);
MODULE_PARM_DESC(avail_leak, "register an available-CPUs callback at load, never unregister");

static atomic_t fixture_avail_calls = ATOMIC_INIT(0);
module_param_named(avail_calls, fixture_avail_calls.counter, int, 0444);
MODULE_PARM_DESC(avail_calls, "available-CPUs calls received");

static VOID fixture_avail_callback(PVOID ctx)
{
	atomic_inc(&fixture_avail_calls);
	msleep(1000);
}

static int fixture_avail_leak(void)
{
	PS_AVAILABLE_CPUS_CHANGE_REGISTRATION h;
	ULONG64 stale = 1;	/* odd: never the current sequence number */

	if (PsRegisterSystemAvailableCpusChangeNotification(fixture_avail_callback, NULL, &stale,
							    &h) != STATUS_SUCCESS)
		return -ENOMEM;
	return 0;
}

/* --- end issue 13 --- */

static int __init fixture_init(void)
{
	PROCESSOR_NUMBER pn;

	if (leak && !KeRegisterProcessorChangeCallback(fixture_callback, NULL, 0))
		return -ENOMEM;
	if (dpc_at >= 0) {
		KeInitializeDpc(&fixture_dpc, fixture_dpc_routine, NULL);
		if (!NT_SUCCESS(KeGetProcessorNumberFromIndex(dpc_at, &pn)) ||
		    !NT_SUCCESS(KeSetTargetProcessorDpcEx(&fixture_dpc, &pn)) ||
		    !KeInsertQueueDpc(&fixture_dpc, NULL, NULL))
			return -EINVAL;
	}
	if (avail_leak)
		return fixture_avail_leak();
	return 0;
}

static void __exit fixture_exit(void)
{
	/* With leak=1 or dpc_at, the registration or DPC is deliberately left behind. */
}

module_init(fixture_init);
module_exit(fixture_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kecpuhp test fixture: a driver that misbehaves on purpose");
MODULE_AUTHOR("The kecpuhp developers");
