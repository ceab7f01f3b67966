// SPDX-License-Identifier: GPL-2.0
/*
 * kecpuhp_test_helper.ko: a second driver for the lifecycle suite, loaded
 * and unloaded by it. It links to nothing of kecpuhp_test's (on 6.1 the
 * suites run before kecpuhp_test is live, when nothing can link to it):
 * the addresses it needs come as parameters.
 *   mode=caller cb=ADDR  registers the callback at ADDR (kecpuhp_test's) and
 *                        leaves it: the registration was made by this module
 *   mode=callee          offers its own callback in the "callback" parameter
 *                        for kecpuhp_test to register; "calls" counts it
 *   mode=fail            its init fails (loaded through request_module())
 *   mode=none            does nothing: a module unrelated to kecpuhp
 */
#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/module.h>
#include <linux/string.h>
#include <kecpuhp/wdm.h>

static char *mode = "none";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "caller, callee, fail or none");

static unsigned long cb;
module_param(cb, ulong, 0400);
MODULE_PARM_DESC(cb, "mode=caller: the callback to register");

static unsigned long callback;
module_param(callback, ulong, 0400);
MODULE_PARM_DESC(callback, "mode=callee: this module's callback");

static atomic_t helper_calls = ATOMIC_INIT(0);
module_param_named(calls, helper_calls.counter, int, 0444);
MODULE_PARM_DESC(calls, "notifications the callback of this module received");

static VOID helper_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc,
			    PNTSTATUS op)
{
	atomic_inc(&helper_calls);
}

static int __init helper_init(void)
{
	if (!strcmp(mode, "fail"))
		return -ENODEV;
	if (!strcmp(mode, "caller") &&
	    !KeRegisterProcessorChangeCallback((PPROCESSOR_CALLBACK_FUNCTION)cb, NULL, 0))
		return -EINVAL;
	if (!strcmp(mode, "callee"))
		callback = (unsigned long)helper_callback;
	return 0;
}

static void __exit helper_exit(void)
{
	/* The registrations are left behind on purpose: kecpuhp cleans up. */
}

module_init(helper_init);
module_exit(helper_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kecpuhp KUnit helper: a second driver that leaves registrations behind");
MODULE_AUTHOR("The kecpuhp developers");
