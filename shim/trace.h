/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kecpuhp

#if !defined(_KECPUHP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KECPUHP_TRACE_H

#include <linux/sched.h>
#include <linux/tracepoint.h>

/*
 * One event per callback invocation: what the driver was told, by which
 * task (the add thread for a hot-add, the registering task for a replay),
 * and how long it took.
 */
TRACE_EVENT(kecpuhp_notify,
	    TP_PROTO(const void *callback, u32 state, u32 index, int cpu,
		     s32 status, s32 op_status, u64 duration_ns),
	    TP_ARGS(callback, state, index, cpu, status, op_status, duration_ns),
	    TP_STRUCT__entry(__field(const void *, callback)
			     __field(u32, state)
			     __field(u32, index)
			     __field(int, cpu)
			     __field(s32, status)
			     __field(s32, op_status)
			     __field(u64, duration_ns)
			     __field(pid_t, pid)
			     __array(char, comm, TASK_COMM_LEN)),
	    TP_fast_assign(__entry->callback = callback;
			   __entry->state = state;
			   __entry->index = index;
			   __entry->cpu = cpu;
			   __entry->status = status;
			   __entry->op_status = op_status;
			   __entry->duration_ns = duration_ns;
			   __entry->pid = current->pid;
			   memcpy(__entry->comm, current->comm, TASK_COMM_LEN);),
	    TP_printk("%s index=%u group=%u number=%u cpu=%d callback=%ps status=0x%08x op_status=0x%08x duration_ns=%llu task=%s/%d",
		      __print_symbolic(__entry->state, { 0, "Start" },
				       { 1, "Complete" }, { 2, "Failure" }),
		      __entry->index, __entry->index / 64, __entry->index % 64,
		      __entry->cpu, __entry->callback, __entry->status,
		      __entry->op_status, __entry->duration_ns, __entry->comm,
		      __entry->pid)
);

#endif /* _KECPUHP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
