// SPDX-License-Identifier: GPL-2.0
/*
 * The debug surface, root only, under /sys/kernel/debug/kecpuhp/:
 *   registrations  one line per registration: handle, callback, owner
 *                  module, flags and notifications delivered per state
 *   processors     one line per processor index: Linux CPU, group/number,
 *                  index state (starting, active) and Linux online state
 *   cpuhp_states   the cpuhp state numbers the shim owns
 * Callbacks are printed as symbols, never as raw addresses.
 */
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "internal.h"

static struct dentry *kecpuhp_debugfs_dir;
static int kecpuhp_debugfs_states[2];

/* The module a callback lives in, from the "[module]" suffix of %ps. */
static void kecpuhp_owner_name(const void *fn, char *buf, size_t len)
{
	char sym[KSYM_SYMBOL_LEN];
	char *open, *close;

	snprintf(sym, sizeof(sym), "%ps", fn);
	open = strchr(sym, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!close) {
		strscpy(buf, "vmlinux", len);
		return;
	}
	*close = '\0';
	strscpy(buf, open + 1, len);
}

static int kecpuhp_registrations_show(struct seq_file *m, void *v)
{
	struct kecpuhp_reg *reg;
	char owner[MODULE_NAME_LEN];
	int ret;

	ret = mutex_lock_interruptible(&kecpuhp_regs_mutex);
	if (ret)
		return ret;
	seq_puts(m, "handle callback owner flags start complete failure\n");
	list_for_each_entry(reg, &kecpuhp_regs, node) {
		if (!kecpuhp_reg_live(reg))
			continue;
		kecpuhp_owner_name(reg->fn, owner, sizeof(owner));
		seq_printf(m, "%u %ps %s 0x%x %u %u %u\n", reg->id, reg->fn, owner,
			   reg->flags, reg->count[KeProcessorAddStartNotify],
			   reg->count[KeProcessorAddCompleteNotify],
			   reg->count[KeProcessorAddFailureNotify]);
	}
	mutex_unlock(&kecpuhp_regs_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kecpuhp_registrations);

static int kecpuhp_processors_show(struct seq_file *m, void *v)
{
	u32 n = kecpuhp_assigned_count(), i;

	seq_puts(m, "index cpu group number state online\n");
	for (i = 0; i < n; i++) {
		PROCESSOR_NUMBER pn = kecpuhp_index_number(i);
		int cpu = kecpuhp_index_to_cpu(i);

		if (cpu < 0)
			break;
		seq_printf(m, "%u %d %u %u %s %d\n", i, cpu, pn.Group, pn.Number,
			   kecpuhp_index_is_active(i) ? "active" : "starting",
			   cpu_online(cpu));
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kecpuhp_processors);

static int kecpuhp_cpuhp_states_show(struct seq_file *m, void *v)
{
	seq_printf(m, "prepare %d\nonline %d\n", kecpuhp_debugfs_states[0],
		   kecpuhp_debugfs_states[1]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kecpuhp_cpuhp_states);

void kecpuhp_debugfs_init(int prepare_state, int online_state)
{
	kecpuhp_debugfs_states[0] = prepare_state;
	kecpuhp_debugfs_states[1] = online_state;
	kecpuhp_debugfs_dir = debugfs_create_dir("kecpuhp", NULL);
	debugfs_create_file("registrations", 0400, kecpuhp_debugfs_dir, NULL,
			    &kecpuhp_registrations_fops);
	debugfs_create_file("processors", 0400, kecpuhp_debugfs_dir, NULL,
			    &kecpuhp_processors_fops);
	debugfs_create_file("cpuhp_states", 0400, kecpuhp_debugfs_dir, NULL,
			    &kecpuhp_cpuhp_states_fops);
}

void kecpuhp_debugfs_exit(void)
{
	debugfs_remove_recursive(kecpuhp_debugfs_dir);
}
