// SPDX-License-Identifier: GPL-2.0
/*
 * kecpuhp: the Windows kernel's processor-change API on Linux CPU hotplug.
 *
 * Module glue: number the CPUs online now and install the shim's two cpuhp
 * states in one hotplug-locked step, so no CPU can come online unseen, then
 * watch module unloads and publish the debug surface. The add thread runs
 * before the states exist and stops after they are gone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/module.h>

#include "internal.h"

static int kecpuhp_prepare_state;
static int kecpuhp_online_state;

static int __init kecpuhp_cpuhp_init(void)
{
	int ret;

	cpus_read_lock();
	ret = kecpuhp_procnum_init();
	if (ret)
		goto out_unlock;
	ret = cpuhp_setup_state_nocalls_cpuslocked(CPUHP_BP_PREPARE_DYN, "kecpuhp:prepare",
						   kecpuhp_cpu_prepare, kecpuhp_cpu_dead);
	if (ret < 0)
		goto out_procnum;
	kecpuhp_prepare_state = ret;
	ret = cpuhp_setup_state_nocalls_cpuslocked(CPUHP_AP_ONLINE_DYN, "kecpuhp:online",
						   kecpuhp_cpu_online, kecpuhp_cpu_offline);
	if (ret < 0)
		goto out_prepare;
	kecpuhp_online_state = ret;
	cpus_read_unlock();
	return 0;

out_prepare:
	cpuhp_remove_state_nocalls_cpuslocked(kecpuhp_prepare_state);
out_procnum:
	kecpuhp_procnum_exit();
out_unlock:
	cpus_read_unlock();
	return ret;
}

static void kecpuhp_cpuhp_exit(void)
{
	cpuhp_remove_state_nocalls(kecpuhp_online_state);
	cpuhp_remove_state_nocalls(kecpuhp_prepare_state);
	kecpuhp_procnum_exit();
}

static int __init kecpuhp_init(void)
{
	int ret;

	ret = kecpuhp_add_thread_start();
	if (ret)
		return ret;
	ret = kecpuhp_cpuhp_init();
	if (ret) {
		pr_err("cannot install the cpuhp states: %d\n", ret);
		goto out_thread;
	}
	ret = register_module_notifier(&kecpuhp_module_nb);
	if (ret)
		goto out_cpuhp;
	kecpuhp_debugfs_init(kecpuhp_prepare_state, kecpuhp_online_state);
	pr_info("%u processors active of %u possible (cpuhp states %d, %d; add thread pid %d)\n",
		kecpuhp_active_count(), num_possible_cpus(),
		kecpuhp_prepare_state, kecpuhp_online_state, kecpuhp_add_thread_pid());
	return 0;

out_cpuhp:
	kecpuhp_cpuhp_exit();
out_thread:
	kecpuhp_add_thread_stop();
	return ret;
}

static void __exit kecpuhp_exit(void)
{
	kecpuhp_debugfs_exit();
	unregister_module_notifier(&kecpuhp_module_nb);
	kecpuhp_cpuhp_exit();
	kecpuhp_add_thread_stop();
	kecpuhp_registry_exit();
}

module_init(kecpuhp_init);
module_exit(kecpuhp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Windows KeRegisterProcessorChangeCallback and processor index API on Linux cpuhp");
MODULE_AUTHOR("The kecpuhp developers");
MODULE_VERSION("0.1.0");
