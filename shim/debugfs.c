// SPDX-License-Identifier: GPL-2.0
/*
 * The debug surface, root only, under /sys/kernel/debug/kecpuhp/:
 *   registrations  one line per registration: handle, callback, owner
 *                  module, flags and notifications delivered per state
 *   processors     one line per processor index: Linux CPU, group/number,
 *                  add state (started, active), Linux online state, and
 *                  whether Linux rolled back its online after Complete
 *   add_thread     the task that delivers hot-add notifications, and the
 *                  add in flight, if any
 *   cpuhp_states   the cpuhp state numbers the shim owns
 * Callbacks are printed as symbols, never as raw addresses. The
 * registrations are listed a record at a time under the registration lock,
 * so a long list never holds it for the whole read.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/err.h>
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

static void *kecpuhp_regs_seq_start(struct seq_file *m, loff_t *pos)
{
	if (mutex_lock_interruptible(&kecpuhp_regs_mutex))
		return ERR_PTR(-EINTR);
	return seq_list_start_head(&kecpuhp_regs, *pos);
}

static void *kecpuhp_regs_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next(v, &kecpuhp_regs, pos);
}

static void kecpuhp_regs_seq_stop(struct seq_file *m, void *v)
{
	if (!IS_ERR(v))
		mutex_unlock(&kecpuhp_regs_mutex);
}

static int kecpuhp_regs_seq_show(struct seq_file *m, void *v)
{
	struct kecpuhp_reg *reg = list_entry(v, struct kecpuhp_reg, node);
	char owner[MODULE_NAME_LEN];

	if (v == &kecpuhp_regs) {
		seq_puts(m, "handle callback owner flags start complete failure registered-by\n");
		return 0;
	}
	if (!kecpuhp_reg_live(reg))
		return 0;
	kecpuhp_owner_name(reg->fn, owner, sizeof(owner));
	seq_printf(m, "%u %ps %s 0x%x %u %u %u %s\n", reg->id, reg->fn, owner,
		   reg->flags, reg->count[KeProcessorAddStartNotify],
		   reg->count[KeProcessorAddCompleteNotify],
		   reg->count[KeProcessorAddFailureNotify],
		   reg->owner ? reg->owner->name : "-");
	return 0;
}

static const struct seq_operations kecpuhp_registrations_sops = {
	.start = kecpuhp_regs_seq_start,
	.next = kecpuhp_regs_seq_next,
	.stop = kecpuhp_regs_seq_stop,
	.show = kecpuhp_regs_seq_show,
};
DEFINE_SEQ_ATTRIBUTE(kecpuhp_registrations);

static int kecpuhp_processors_show(struct seq_file *m, void *v)
{
	u32 n = kecpuhp_assigned_count(), i;

	seq_puts(m, "index cpu group number state online note\n");
	for (i = 0; i < n; i++) {
		PROCESSOR_NUMBER pn = kecpuhp_index_number(i);
		int cpu = kecpuhp_index_to_cpu(i);

		if (cpu < 0)
			break;
		seq_printf(m, "%u %d %u %u %s %d %s\n", i, cpu, pn.Group, pn.Number,
			   kecpuhp_index_is_active(i) ? "active" : "started",
			   cpu_online(cpu),
			   kecpuhp_index_failed_online(i) ?
			   "online-failed-after-Complete:index-kept" : "-");
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kecpuhp_processors);

static int kecpuhp_add_thread_show(struct seq_file *m, void *v)
{
	int cpu = kecpuhp_add_in_flight();

	seq_printf(m, "pid %d\n", kecpuhp_add_thread_pid());
	if (cpu < 0)
		seq_puts(m, "in-flight none\n");
	else
		seq_printf(m, "in-flight cpu %d index %u state started\n", cpu,
			   kecpuhp_cpu_to_index(cpu));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kecpuhp_add_thread);

static int kecpuhp_cpuhp_states_show(struct seq_file *m, void *v)
{
	seq_printf(m, "prepare %d\nonline %d\n", kecpuhp_debugfs_states[0],
		   kecpuhp_debugfs_states[1]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kecpuhp_cpuhp_states);

void __init kecpuhp_debugfs_init(int prepare_state, int online_state)
{
	kecpuhp_debugfs_states[0] = prepare_state;
	kecpuhp_debugfs_states[1] = online_state;
	kecpuhp_debugfs_dir = debugfs_create_dir("kecpuhp", NULL);
	debugfs_create_file("registrations", 0400, kecpuhp_debugfs_dir, NULL,
			    &kecpuhp_registrations_fops);
	debugfs_create_file("processors", 0400, kecpuhp_debugfs_dir, NULL,
			    &kecpuhp_processors_fops);
	debugfs_create_file("add_thread", 0400, kecpuhp_debugfs_dir, NULL,
			    &kecpuhp_add_thread_fops);
	debugfs_create_file("cpuhp_states", 0400, kecpuhp_debugfs_dir, NULL,
			    &kecpuhp_cpuhp_states_fops);
}

void __exit kecpuhp_debugfs_exit(void)
{
	debugfs_remove_recursive(kecpuhp_debugfs_dir);
}
