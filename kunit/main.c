// SPDX-License-Identifier: GPL-2.0
/*
 * kecpuhp_test.ko: the KUnit suites, run when the module is loaded into the
 * test kernel after kecpuhp.ko (see scripts/guest/kunit.sh).
 */
#include <linux/module.h>

#include "kecpuhp_test.h"

kunit_test_suites(&kecpuhp_procnum_suite, &kecpuhp_add_existing_suite,
		  &kecpuhp_misuse_suite, &kecpuhp_hotadd_suite, &kecpuhp_addpath_suite,
		  &kecpuhp_lifecycle_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suites for kecpuhp, on real CPU hotplug");
MODULE_AUTHOR("The kecpuhp developers");
