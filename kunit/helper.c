// SPDX-License-Identifier: GPL-2.0
/*
 * kecpuhp_test_helper.ko: a second driver for the lifecycle suite, loaded
 * and unloaded by it while kecpuhp_test.ko is loaded (it uses its exports).
 *   mode=caller  registers kecpuhp_test's callback itself and leaves it: the
 *                registration was made by this module
 *   mode=callee  hands kecpuhp_test a callback of its own to register: the
 *                registration's callback lives in this module
 *   mode=fail    its init fails (loaded through request_module())
 *   mode=none    does nothing: a module unrelated to kecpuhp
 */
#include <linux/errno.h>
#include <linux/module.h>
#include <linux/string.h>
#include <kecpuhp/wdm.h>

#include "kecpuhp_test.h"

static char *mode = "none";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "caller, callee, fail or none");

static VOID helper_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc,
			    PNTSTATUS op)
{
	test_helper_called(cc->State);
}

static int __init helper_init(void)
{
	if (!strcmp(mode, "fail"))
		return -ENODEV;
	if (!strcmp(mode, "caller") &&
	    !KeRegisterProcessorChangeCallback(test_helper_callback, NULL, 0))
		return -ENOMEM;
	if (!strcmp(mode, "callee"))
		test_helper_publish(helper_callback);
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
