// SPDX-License-Identifier: GPL-2.0
/*
 * KeQueryLogicalProcessorRelationship() and the NUMA node calls, checked
 * against Linux's own answers in Windows indexes: topology_*_cpumask(),
 * cpumask_of_node(), and the cacheinfo the kernel publishes in sysfs
 * (read as user space would, an independent path from the shim's).
 *
 * make check boots this guest with two NUMA nodes (one socket each: CPUs
 * 0-3 and 4-5 present, 6-7 empty slots) and CPUs 0-1 online; one case
 * hot-adds a CPU of node 1 and looks at what the API answers in its Start
 * and Complete notifications.
 */
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/topology.h>

#include "kecpuhp_test.h"

typedef SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX slpi_t;

#define TOPO_MAX_BUF	65536

static int topo_init(struct kunit *test)
{
	rec_reset();
	return 0;
}

/* The Linux CPUs that have a Windows index. */
static void indexed_cpus(struct cpumask *out)
{
	ULONG i, n = KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS);
	int cpu;

	cpumask_clear(out);
	for (i = 0; i < n; i++) {
		cpu = kecpuhp_index_to_cpu(i);
		if (cpu >= 0)
			cpumask_set_cpu(cpu, out);
	}
}

/*
 * The cases walk the online CPUs that have an index: Linux's masks cover
 * online CPUs only (offline ones keep their topology in kecpuhp, see the
 * last case).
 */
static bool unindexed(int cpu)
{
	return kecpuhp_cpu_to_index(cpu) == INVALID_PROCESSOR_INDEX;
}

static PROCESSOR_NUMBER pn_of_cpu(int cpu)
{
	PROCESSOR_NUMBER pn = { 0 };

	KeGetProcessorNumberFromIndex(kecpuhp_cpu_to_index(cpu), &pn);
	return pn;
}

/* GROUP_AFFINITY entries over Windows indexes, as Linux CPUs. */
static void masks_to_cpus(struct kunit *test, const GROUP_AFFINITY *ga, unsigned int n,
			  struct cpumask *out)
{
	unsigned int i, bit;
	int cpu;

	cpumask_clear(out);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, ga[i].Reserved[0] | ga[i].Reserved[1] | ga[i].Reserved[2], 0);
		for (bit = 0; bit < BITS_PER_LONG; bit++) {
			if (!(ga[i].Mask & BIT(bit)))
				continue;
			cpu = kecpuhp_index_to_cpu(ga[i].Group * MAXIMUM_PROC_PER_GROUP + bit);
			KUNIT_EXPECT_GE_MSG(test, cpu, 0, "group %u bit %u names no processor",
					    ga[i].Group, bit);
			if (cpu >= 0)
				cpumask_set_cpu(cpu, out);
		}
	}
}

/*
 * The sizing protocol, checked on every query: NULL → the needed length,
 * one byte short → the same mismatch, exact → success with that length.
 */
static slpi_t *query(struct kunit *test, PPROCESSOR_NUMBER pn,
		     LOGICAL_PROCESSOR_RELATIONSHIP rel, ULONG *len)
{
	ULONG need = 0, l;
	NTSTATUS st;
	slpi_t *buf;

	st = KeQueryLogicalProcessorRelationship(pn, rel, NULL, &need);
	if (st == STATUS_SUCCESS && need == 0) {
		*len = 0;
		return NULL;
	}
	KUNIT_ASSERT_EQ(test, st, STATUS_INFO_LENGTH_MISMATCH);
	KUNIT_ASSERT_GT(test, need, 0U);
	KUNIT_ASSERT_LE(test, need, (ULONG)TOPO_MAX_BUF);
	buf = kunit_kzalloc(test, need, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	l = need - 1;
	KUNIT_EXPECT_EQ(test, KeQueryLogicalProcessorRelationship(pn, rel, buf, &l),
			STATUS_INFO_LENGTH_MISMATCH);
	KUNIT_EXPECT_EQ(test, l, need);
	l = need;
	KUNIT_ASSERT_EQ(test, KeQueryLogicalProcessorRelationship(pn, rel, buf, &l),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, l, need);
	*len = l;
	return buf;
}

/* The record after @r in the @len bytes at @buf, or NULL at the end. */
static slpi_t *next_record(slpi_t *r, slpi_t *buf, ULONG len)
{
	slpi_t *next;

	if (!r || !r->Size)
		return NULL;
	next = (slpi_t *)((u8 *)r + r->Size);
	return (u8 *)next < (u8 *)buf + len ? next : NULL;
}

static slpi_t *first_record(slpi_t *buf, ULONG len)
{
	return buf && len ? buf : NULL;
}

static unsigned int count_records(slpi_t *buf, ULONG len, LOGICAL_PROCESSOR_RELATIONSHIP rel)
{
	unsigned int n = 0;
	slpi_t *r;

	for (r = first_record(buf, len); r; r = next_record(r, buf, len))
		n += r->Relationship == rel;
	return n;
}

/* Records walk exactly to the end, each Size covering its masks. */
static void check_walk(struct kunit *test, slpi_t *buf, ULONG len)
{
	ULONG at = 0;
	slpi_t *r;

	for (r = first_record(buf, len); r; r = next_record(r, buf, len)) {
		KUNIT_EXPECT_GE(test, r->Size, 48U);
		at += r->Size;
	}
	KUNIT_EXPECT_EQ(test, at, len);
}

/* One PROCESSOR_RELATIONSHIP record of @rel for @cpu equals @want ∩ indexed. */
static void check_processor_relation(struct kunit *test, int cpu,
				     LOGICAL_PROCESSOR_RELATIONSHIP rel,
				     const struct cpumask *linux_mask)
{
	PROCESSOR_NUMBER pn = pn_of_cpu(cpu);
	struct cpumask got, want, idx;
	ULONG len;
	slpi_t *r = query(test, &pn, rel, &len);

	KUNIT_ASSERT_NOT_NULL(test, r);
	check_walk(test, r, len);
	KUNIT_EXPECT_EQ(test, count_records(r, len, rel), 1U);
	KUNIT_EXPECT_EQ(test, r->Relationship, rel);
	KUNIT_EXPECT_EQ(test, r->Size, (ULONG)(8 + 24 + 16 * r->Processor.GroupCount));
	masks_to_cpus(test, r->Processor.GroupMask, r->Processor.GroupCount, &got);
	indexed_cpus(&idx);
	cpumask_and(&want, linux_mask, &idx);
	cpumask_and(&got, &got, cpu_online_mask);
	KUNIT_EXPECT_TRUE_MSG(test, cpumask_equal(&got, &want),
			      "CPU%d relation %d: got %*pbl, Linux says %*pbl", cpu, rel,
			      cpumask_pr_args(&got), cpumask_pr_args(&want));
	KUNIT_EXPECT_TRUE(test, cpumask_test_cpu(cpu, &got));
	if (rel == RelationProcessorCore)
		KUNIT_EXPECT_EQ(test, r->Processor.Flags,
				cpumask_weight(&got) > 1 ? LTP_PC_SMT : 0);
}

/* Every indexed CPU is online here: earlier suites bring back what they took. */
static void core_is_linux_sibling_mask(struct kunit *test)
{
	int cpu;

	for_each_online_cpu(cpu)
		if (!unindexed(cpu))
			check_processor_relation(test, cpu, RelationProcessorCore,
						 topology_sibling_cpumask(cpu));
}

static void package_is_linux_core_cpumask(struct kunit *test)
{
	int cpu;

	for_each_online_cpu(cpu)
		if (!unindexed(cpu))
			check_processor_relation(test, cpu, RelationProcessorPackage,
						 topology_core_cpumask(cpu));
}

static void die_is_linux_die_cpumask(struct kunit *test)
{
	int cpu;

	for_each_online_cpu(cpu)
		if (!unindexed(cpu))
			check_processor_relation(test, cpu, RelationProcessorDie,
						 topology_die_cpumask(cpu));
}

/* A module lies between the core and the package. */
static void module_between_core_and_package(struct kunit *test)
{
	struct cpumask got, idx, core, pkg;
	PROCESSOR_NUMBER pn;
	ULONG len;
	slpi_t *r;
	int cpu;

	indexed_cpus(&idx);
	for_each_online_cpu(cpu) {
		if (unindexed(cpu))
			continue;
		pn = pn_of_cpu(cpu);
		r = query(test, &pn, RelationProcessorModule, &len);
		KUNIT_ASSERT_NOT_NULL(test, r);
		KUNIT_EXPECT_EQ(test, count_records(r, len, RelationProcessorModule), 1U);
		masks_to_cpus(test, r->Processor.GroupMask, r->Processor.GroupCount, &got);
		cpumask_and(&core, topology_sibling_cpumask(cpu), &idx);
		cpumask_and(&pkg, topology_core_cpumask(cpu), &idx);
		KUNIT_EXPECT_TRUE(test, cpumask_subset(&core, &got));
		KUNIT_EXPECT_TRUE(test, cpumask_subset(&got, &pkg));
	}
}

static void node_is_cpumask_of_node(struct kunit *test)
{
	struct cpumask got, want, idx;
	PROCESSOR_NUMBER pn;
	ULONG len;
	slpi_t *r;
	int cpu;

	indexed_cpus(&idx);
	for_each_online_cpu(cpu) {
		if (unindexed(cpu))
			continue;
		pn = pn_of_cpu(cpu);
		r = query(test, &pn, RelationNumaNode, &len);
		KUNIT_ASSERT_NOT_NULL(test, r);
		/* Server 2022 on: one fixed-size record, the primary group */
		KUNIT_EXPECT_EQ(test, len, 48U);
		KUNIT_EXPECT_EQ(test, r->Relationship, RelationNumaNode);
		KUNIT_EXPECT_EQ(test, r->NumaNode.NodeNumber, (ULONG)cpu_to_node(cpu));
		KUNIT_EXPECT_EQ(test, r->NumaNode.GroupCount, 1);
		masks_to_cpus(test, &r->NumaNode.GroupMask, 1, &got);
		cpumask_and(&want, cpumask_of_node(cpu_to_node(cpu)), &idx);
		cpumask_and(&got, &got, cpu_online_mask);
		KUNIT_EXPECT_TRUE_MSG(test, cpumask_equal(&got, &want),
				      "CPU%d node %d: got %*pbl, Linux says %*pbl", cpu,
				      cpu_to_node(cpu), cpumask_pr_args(&got),
				      cpumask_pr_args(&want));

		r = query(test, &pn, RelationNumaNodeEx, &len);
		KUNIT_ASSERT_NOT_NULL(test, r);
		KUNIT_EXPECT_EQ(test, r->Relationship, RelationNumaNodeEx);
		KUNIT_EXPECT_EQ(test, r->Size, (ULONG)(8 + 24 + 16 * r->NumaNode.GroupCount));
		masks_to_cpus(test, r->NumaNode.GroupMasks, r->NumaNode.GroupCount, &got);
		cpumask_and(&got, &got, cpu_online_mask);
		KUNIT_EXPECT_TRUE(test, cpumask_equal(&got, &want));
	}
}

/* --- cacheinfo, as sysfs publishes it --- */

static int read_sysfs(const char *path, char *buf, size_t len)
{
	ssize_t n = test_read_file(path, buf, len);

	if (n < 0)
		return n;
	strim(buf);
	return 0;
}

struct sysfs_cache {
	unsigned int level, line, size;
	PROCESSOR_CACHE_TYPE type;
	struct cpumask shared;
};

/* cpuN/cache/indexI, or -ENOENT. */
static int read_cache(int cpu, unsigned int i, struct sysfs_cache *c)
{
	char path[96], val[256];
	unsigned int mult;
	char *end;
	int ret;

#define CACHE_ATTR(name) \
	(snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cache/index%u/" name, \
		  cpu, i), read_sysfs(path, val, sizeof(val)))
	ret = CACHE_ATTR("level");
	if (ret)
		return ret;
	if (kstrtouint(val, 10, &c->level))
		return -EINVAL;
	if (CACHE_ATTR("type"))
		return -EINVAL;
	c->type = !strcmp(val, "Data") ? CacheData : !strcmp(val, "Instruction") ?
		  CacheInstruction : !strcmp(val, "Unified") ? CacheUnified : CacheUnknown;
	if (CACHE_ATTR("coherency_line_size") || kstrtouint(val, 10, &c->line))
		return -EINVAL;
	if (CACHE_ATTR("size"))
		return -EINVAL;
	/* "32K", "4096K", "16M" */
	end = val + strlen(val) - 1;
	mult = *end == 'K' ? 1024 : *end == 'M' ? 1024 * 1024 : 1;
	if (mult > 1)
		*end = 0;
	if (kstrtouint(val, 10, &c->size))
		return -EINVAL;
	c->size *= mult;
	if (CACHE_ATTR("shared_cpu_list") || cpulist_parse(val, &c->shared))
		return -EINVAL;
#undef CACHE_ATTR
	return 0;
}

static void cache_matches_sysfs_cacheinfo(struct kunit *test)
{
	struct cpumask got, want, idx;
	struct sysfs_cache *c;
	unsigned int i, leaves, matched;
	PROCESSOR_NUMBER pn;
	ULONG len;
	slpi_t *buf, *r;
	int cpu;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	indexed_cpus(&idx);
	for_each_online_cpu(cpu) {
		if (unindexed(cpu))
			continue;
		pn = pn_of_cpu(cpu);
		buf = query(test, &pn, RelationCache, &len);
		leaves = 0;
		matched = 0;
		for (i = 0; i < 16; i++) {
			if (read_cache(cpu, i, c))
				continue;
			leaves++;
			cpumask_and(&want, &c->shared, &idx);
			for (r = first_record(buf, len); r; r = next_record(r, buf, len)) {
				if (r->Cache.Level != c->level || r->Cache.Type != c->type)
					continue;
				masks_to_cpus(test, r->Cache.GroupMasks, r->Cache.GroupCount, &got);
				cpumask_and(&got, &got, cpu_online_mask);
				KUNIT_EXPECT_EQ(test, r->Cache.CacheSize, c->size);
				KUNIT_EXPECT_EQ(test, r->Cache.LineSize, c->line);
				KUNIT_EXPECT_TRUE_MSG(test, cpumask_equal(&got, &want),
						      "CPU%d L%u: got %*pbl, sysfs says %*pbl",
						      cpu, c->level, cpumask_pr_args(&got),
						      cpumask_pr_args(&want));
				matched++;
			}
		}
		KUNIT_EXPECT_EQ_MSG(test, count_records(buf, len, RelationCache), leaves,
				    "CPU%d", cpu);
		KUNIT_EXPECT_EQ(test, matched, leaves);
		if (!leaves)
			kunit_info(test, "CPU%d has no cacheinfo in sysfs\n", cpu);
	}
}

/* NULL: one record per core, disjoint, covering every processor. */
static void all_processors_one_record_per_core(struct kunit *test)
{
	struct cpumask got, seen, idx;
	unsigned int n = 0, cores = 0;
	ULONG len;
	slpi_t *buf = query(test, NULL, RelationProcessorCore, &len), *r;
	int cpu;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	check_walk(test, buf, len);
	cpumask_clear(&seen);
	for (r = first_record(buf, len); r; r = next_record(r, buf, len)) {
		KUNIT_EXPECT_EQ(test, r->Relationship, RelationProcessorCore);
		masks_to_cpus(test, r->Processor.GroupMask, r->Processor.GroupCount, &got);
		KUNIT_EXPECT_FALSE(test, cpumask_intersects(&got, &seen));
		cpumask_or(&seen, &seen, &got);
		n++;
	}
	indexed_cpus(&idx);
	KUNIT_EXPECT_TRUE(test, cpumask_equal(&seen, &idx));
	if (!cpumask_subset(&idx, cpu_online_mask))
		kunit_skip(test, "a processor is offline: Linux's masks miss it");
	for_each_cpu(cpu, &idx)
		cores += cpu == cpumask_first(topology_sibling_cpumask(cpu));
	KUNIT_EXPECT_EQ(test, n, cores);

	/* and one node record per node with processors */
	buf = query(test, NULL, RelationNumaNode, &len);
	n = 0;
	for (r = first_record(buf, len); r; r = next_record(r, buf, len))
		n++;
	cores = 0;
	for_each_cpu(cpu, &idx)
		cores += cpu == cpumask_first(cpumask_of_node(cpu_to_node(cpu)));
	KUNIT_EXPECT_EQ(test, n, cores);
}

static void group_relation_is_the_system(struct kunit *test)
{
	PROCESSOR_NUMBER pn = { 0 };
	ULONG len;
	slpi_t *r = query(test, NULL, RelationGroup, &len);
	USHORT g;

	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, count_records(r, len, RelationGroup), 1U);
	KUNIT_EXPECT_EQ(test, r->Group.MaximumGroupCount, KeQueryMaximumGroupCount());
	KUNIT_EXPECT_EQ(test, r->Group.ActiveGroupCount, KeQueryActiveGroupCount());
	KUNIT_EXPECT_EQ(test, r->Size, (ULONG)(8 + 24 + 48 * r->Group.ActiveGroupCount));
	for (g = 0; g < r->Group.ActiveGroupCount; g++) {
		KUNIT_EXPECT_EQ(test, r->Group.GroupInfo[g].MaximumProcessorCount,
				KeQueryMaximumProcessorCountEx(g));
		KUNIT_EXPECT_EQ(test, r->Group.GroupInfo[g].ActiveProcessorCount,
				KeQueryActiveProcessorCountEx(g));
		KUNIT_EXPECT_EQ(test, r->Group.GroupInfo[g].ActiveProcessorMask,
				KeQueryGroupAffinity(g));
	}
	/* the same record for one processor */
	r = query(test, &pn, RelationGroup, &len);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, r->Group.ActiveGroupCount, KeQueryActiveGroupCount());
}

/* RelationAll: every relation, node records with all groups, sizes add up. */
static void relation_all_has_every_relation(struct kunit *test)
{
	static const LOGICAL_PROCESSOR_RELATIONSHIP rels[] = {
		RelationProcessorCore, RelationNumaNode, RelationProcessorPackage,
		RelationGroup, RelationProcessorDie, RelationProcessorModule,
	};
	PROCESSOR_NUMBER pn = pn_of_cpu(raw_smp_processor_id());
	ULONG len, clen = 0, sum = 0;
	slpi_t *buf, *r;
	unsigned int i;

	buf = query(test, &pn, RelationAll, &len);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	check_walk(test, buf, len);
	for (i = 0; i < ARRAY_SIZE(rels); i++)
		KUNIT_EXPECT_EQ_MSG(test, count_records(buf, len, rels[i]), 1U, "relation %d",
				    rels[i]);
	query(test, &pn, RelationCache, &clen);
	for (r = first_record(buf, len); r; r = next_record(r, buf, len))
		if (r->Relationship == RelationCache)
			sum += r->Size;
	KUNIT_EXPECT_EQ(test, sum, clen);
	KUNIT_EXPECT_EQ(test, count_records(buf, len, RelationNumaNodeEx), 0U);

	/* all processors */
	buf = query(test, NULL, RelationAll, &len);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	check_walk(test, buf, len);
	KUNIT_EXPECT_EQ(test, count_records(buf, len, RelationGroup), 1U);
	KUNIT_EXPECT_GE(test, count_records(buf, len, RelationProcessorCore), 1U);
}

/* The sizing protocol on its own: big buffers, NULL, zero. */
static void sizing_protocol(struct kunit *test)
{
	ULONG need = 12345, len;
	slpi_t *buf;

	/* NULL buffer with a large claimed length still asks for the size */
	KUNIT_EXPECT_EQ(test, KeQueryLogicalProcessorRelationship(NULL, RelationAll, NULL, &need),
			STATUS_INFO_LENGTH_MISMATCH);
	KUNIT_ASSERT_GT(test, need, 0U);
	buf = kunit_kzalloc(test, need + 100, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	len = 0;
	KUNIT_EXPECT_EQ(test, KeQueryLogicalProcessorRelationship(NULL, RelationAll, buf, &len),
			STATUS_INFO_LENGTH_MISMATCH);
	KUNIT_EXPECT_EQ(test, len, need);
	/* a larger buffer: success, the length of the answer */
	len = need + 100;
	KUNIT_EXPECT_EQ(test, KeQueryLogicalProcessorRelationship(NULL, RelationAll, buf, &len),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, len, need);
	KUNIT_EXPECT_EQ(test, buf->Relationship, RelationProcessorCore);
}

static void bad_arguments(struct kunit *test)
{
	PROCESSOR_NUMBER pn = { 0 };
	ULONG len = 0;
	u8 buf[64];

	KUNIT_EXPECT_EQ(test, KeQueryLogicalProcessorRelationship(NULL, RelationAll, NULL, NULL),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, KeQueryLogicalProcessorRelationship(NULL, RelationProcessorModule + 1,
								  NULL, &len),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, KeQueryLogicalProcessorRelationship(NULL, 0x1234, NULL, &len),
			STATUS_INVALID_PARAMETER);
	pn.Reserved = 1;
	KUNIT_EXPECT_EQ(test, KeQueryLogicalProcessorRelationship(&pn, RelationProcessorCore,
								  NULL, &len),
			STATUS_INVALID_PARAMETER);
	pn.Reserved = 0;
	pn.Number = 64;
	KUNIT_EXPECT_EQ(test, KeQueryLogicalProcessorRelationship(&pn, RelationProcessorCore,
								  NULL, &len),
			STATUS_INVALID_PARAMETER);
	/* an index that is not assigned: the first one after the last */
	pn = (PROCESSOR_NUMBER) { 0 };
	pn.Number = KeQueryMaximumProcessorCountEx(0);
	len = sizeof(buf);
	KUNIT_EXPECT_EQ(test, KeQueryLogicalProcessorRelationship(&pn, RelationNumaNode,
								  (slpi_t *)buf, &len),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, len, (ULONG)sizeof(buf));	/* untouched */
}

/* --- node calls --- */

static unsigned int active_on_node(int node)
{
	ULONG i, n = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	unsigned int count = 0;

	for (i = 0; i < n; i++)
		count += cpu_to_node(kecpuhp_index_to_cpu(i)) == node;
	return count;
}

static void node_calls_agree_with_linux(struct kunit *test)
{
	USHORT highest = KeQueryHighestNodeNumber(), node, count, need;
	unsigned int total = 0, possible = 0, cpu;
	GROUP_AFFINITY ga[2], one;

	KUNIT_EXPECT_EQ(test, (unsigned int)highest, nr_node_ids - 1);
	for (node = 0; node <= highest; node++) {
		KUNIT_EXPECT_EQ(test, KeQueryNodeActiveProcessorCount(node), active_on_node(node));
		total += KeQueryNodeActiveProcessorCount(node);
		possible += KeQueryNodeMaximumProcessorCount(node);

		KeQueryNodeActiveAffinity(node, &one, &count);
		KUNIT_EXPECT_EQ(test, count, (USHORT)hweight_long(one.Mask));
		KUNIT_EXPECT_EQ(test, (unsigned int)count, active_on_node(node));

		/* the sizing of KeQueryNodeActiveAffinity2 */
		need = 99;
		if (active_on_node(node)) {
			KUNIT_EXPECT_EQ(test, KeQueryNodeActiveAffinity2(node, NULL, 0, &need),
					STATUS_BUFFER_TOO_SMALL);
			KUNIT_EXPECT_EQ(test, need, 1);
		}
		KUNIT_EXPECT_EQ(test, KeQueryNodeActiveAffinity2(node, ga, ARRAY_SIZE(ga), &need),
				STATUS_SUCCESS);
		KUNIT_EXPECT_EQ(test, need, active_on_node(node) ? 1 : 0);
		if (need)
			KUNIT_EXPECT_EQ(test, ga[0].Mask, one.Mask);
		for_each_possible_cpu(cpu)
			if (cpu_to_node(cpu) == node && kecpuhp_cpu_to_index(cpu) !=
			    INVALID_PROCESSOR_INDEX && KeQueryActiveProcessorCountEx(0) >
			    kecpuhp_cpu_to_index(cpu))
				KUNIT_EXPECT_TRUE(test, one.Mask & BIT(kecpuhp_cpu_to_index(cpu)));
	}
	KUNIT_EXPECT_EQ(test, total, KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS));
	KUNIT_EXPECT_EQ(test, possible, num_possible_cpus());

	preempt_disable();
	KUNIT_EXPECT_EQ(test, (int)KeGetCurrentNodeNumber(), cpu_to_node(smp_processor_id()));
	preempt_enable();
}

static void node_calls_bad_arguments(struct kunit *test)
{
	USHORT bad = nr_node_ids, count = 7, need = 7;
	GROUP_AFFINITY ga = { .Mask = 1, .Group = 3 };

	KeQueryNodeActiveAffinity(bad, &ga, &count);
	KUNIT_EXPECT_EQ(test, ga.Mask, 0UL);
	KUNIT_EXPECT_EQ(test, ga.Group, 0);
	KUNIT_EXPECT_EQ(test, count, 0);
	KeQueryNodeActiveAffinity(0, NULL, NULL);	/* both optional */
	KUNIT_EXPECT_EQ(test, KeQueryNodeActiveAffinity2(bad, &ga, 1, &need),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, KeQueryNodeActiveAffinity2(0, &ga, 1, NULL),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, KeQueryNodeActiveAffinity2(0, NULL, 1, &need),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, KeQueryNodeActiveProcessorCount(bad), 0U);
	KUNIT_EXPECT_EQ(test, KeQueryNodeMaximumProcessorCount(bad), 0);
}

/* The queries allocate nothing and take no sleeping lock. */
static void queries_work_in_atomic_context(struct kunit *test)
{
	PROCESSOR_NUMBER pn = { 0 };
	u8 buf[512];
	ULONG len = sizeof(buf);
	GROUP_AFFINITY ga;
	unsigned long flags;
	NTSTATUS st;

	local_irq_save(flags);
	st = KeQueryLogicalProcessorRelationship(&pn, RelationNumaNode, (slpi_t *)buf, &len);
	KeQueryNodeActiveAffinity(0, &ga, NULL);
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, st, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, len, 48U);
}

/* --- a processor added on node 1: what Start and Complete see --- */

static struct {
	ULONG index;
	NTSTATUS start_node_st, start_core_st, complete_core_st, complete_all_st;
	ULONG start_node, complete_core_weight;
	bool complete_core_has_self;
	int calls;
} seen;

static VOID topo_callback(PVOID ctx, PKE_PROCESSOR_CHANGE_NOTIFY_CONTEXT cc, PNTSTATUS op)
{
	union { slpi_t r; u8 b[1024]; } *u = ctx;
	ULONG len;

	if (cc->NtNumber != seen.index)
		return;
	seen.calls++;
	if (cc->State == KeProcessorAddStartNotify) {
		len = sizeof(u->b);
		seen.start_node_st = KeQueryLogicalProcessorRelationship(&cc->ProcNumber,
									 RelationNumaNode, &u->r,
									 &len);
		seen.start_node = u->r.NumaNode.NodeNumber;
		len = sizeof(u->b);
		seen.start_core_st = KeQueryLogicalProcessorRelationship(&cc->ProcNumber,
									 RelationProcessorCore,
									 &u->r, &len);
	} else if (cc->State == KeProcessorAddCompleteNotify) {
		len = sizeof(u->b);
		seen.complete_core_st = KeQueryLogicalProcessorRelationship(&cc->ProcNumber,
									    RelationProcessorCore,
									    &u->r, &len);
		seen.complete_core_weight = hweight_long(u->r.Processor.GroupMask[0].Mask);
		seen.complete_core_has_self = u->r.Processor.GroupMask[0].Group ==
					      cc->ProcNumber.Group &&
					      (u->r.Processor.GroupMask[0].Mask &
					       BIT(cc->ProcNumber.Number));
		len = sizeof(u->b);
		seen.complete_all_st = KeQueryLogicalProcessorRelationship(&cc->ProcNumber,
									   RelationAll, &u->r,
									   &len);
	}
}

/* The lowest new CPU of node 1, or -1. */
static int fresh_cpu_on_node1(void)
{
	unsigned int cpu;

	for_each_present_cpu(cpu)
		if (!cpu_online(cpu) && cpu_to_node(cpu) == 1 &&
		    kecpuhp_cpu_to_index(cpu) == INVALID_PROCESSOR_INDEX)
			return cpu;
	return -1;
}

static void hot_added_cpu_on_second_node(struct kunit *test)
{
	void *scratch = kunit_kzalloc(test, 1024, GFP_KERNEL);
	struct cpumask node1;
	PVOID h;
	int cpu;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	if (nr_node_ids < 2)
		kunit_skip(test, "one NUMA node (make check boots two: scripts/qemu.py --numa)");
	cpu = fresh_cpu_on_node1();
	if (cpu < 0)
		kunit_skip(test, "no new CPU left on node 1");
	memset(&seen, 0, sizeof(seen));
	seen.index = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
	h = KeRegisterProcessorChangeCallback(topo_callback, scratch, 0);
	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), 0);
	KeDeregisterProcessorChangeCallback(h);

	KUNIT_EXPECT_EQ(test, seen.calls, 2);
	/* Start: the node is known, the core is not yet */
	KUNIT_EXPECT_EQ(test, seen.start_node_st, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, seen.start_node, 1U);
	KUNIT_EXPECT_EQ(test, seen.start_core_st, STATUS_INVALID_PARAMETER);
	/* Complete: the core is known and holds the processor */
	KUNIT_EXPECT_EQ(test, seen.complete_core_st, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, seen.complete_core_has_self);
	KUNIT_EXPECT_GE(test, seen.complete_core_weight, 1U);
	KUNIT_EXPECT_EQ(test, seen.complete_all_st, STATUS_SUCCESS);
	/* afterwards: node 1 has an active processor, and it is this one */
	KUNIT_EXPECT_GE(test, KeQueryNodeActiveProcessorCount(1), 1U);
	cpumask_and(&node1, cpumask_of_node(1), cpu_online_mask);
	KUNIT_EXPECT_TRUE(test, cpumask_test_cpu(cpu, &node1));
	check_processor_relation(test, cpu, RelationProcessorCore, topology_sibling_cpumask(cpu));
}

/* Offline keeps the topology: Windows has no offline, only force-parked. */
static void offline_processor_keeps_its_topology(struct kunit *test)
{
	PROCESSOR_NUMBER pn;
	ULONG before, after;
	int cpu = 1;

	if (!cpu_online(cpu) || kecpuhp_cpu_to_index(cpu) == INVALID_PROCESSOR_INDEX)
		kunit_skip(test, "CPU1 is not an online processor");
	pn = pn_of_cpu(cpu);
	query(test, &pn, RelationAll, &before);
	KUNIT_ASSERT_EQ(test, test_remove_cpu(cpu), 0);
	query(test, &pn, RelationAll, &after);
	KUNIT_EXPECT_EQ(test, after, before);
	query(test, &pn, RelationProcessorCore, &after);
	KUNIT_EXPECT_GT(test, after, 0U);
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), 0);
}

static struct kunit_case topology_cases[] = {
	KUNIT_CASE(sizing_protocol),
	KUNIT_CASE(bad_arguments),
	KUNIT_CASE(core_is_linux_sibling_mask),
	KUNIT_CASE(package_is_linux_core_cpumask),
	KUNIT_CASE(die_is_linux_die_cpumask),
	KUNIT_CASE(module_between_core_and_package),
	KUNIT_CASE(node_is_cpumask_of_node),
	KUNIT_CASE(cache_matches_sysfs_cacheinfo),
	KUNIT_CASE(all_processors_one_record_per_core),
	KUNIT_CASE(group_relation_is_the_system),
	KUNIT_CASE(relation_all_has_every_relation),
	KUNIT_CASE(node_calls_agree_with_linux),
	KUNIT_CASE(node_calls_bad_arguments),
	KUNIT_CASE(queries_work_in_atomic_context),
	KUNIT_CASE(hot_added_cpu_on_second_node),
	KUNIT_CASE(offline_processor_keeps_its_topology),
	{}
};

struct kunit_suite kecpuhp_topology_suite = {
	.name = "kecpuhp_topology",
	.init = topo_init,
	.exit = test_exit,
	.test_cases = topology_cases,
};
