// SPDX-License-Identifier: GPL-2.0
/*
 * Where a processor sits: KeQueryLogicalProcessorRelationship() and the
 * NUMA node calls, answered from Linux's own topology, cacheinfo and node
 * maps, with every mask over Windows processor indexes.
 *
 * What Linux knows, and when. The node of a CPU is known from boot (ACPI
 * SRAT), so a processor's node answers from its Start notification on.
 * Core, die, package and caches are known once the CPU has booted: the
 * shim takes a snapshot of them in its "kecpuhp:topology" cpuhp online
 * state, which is installed before the state that delivers Complete and so
 * runs before it (dynamic states run in ascending order). The snapshot is
 * taken the first time a CPU comes online and kept: Linux empties the
 * sibling masks of an offline CPU and removes its cacheinfo devices, but on
 * Windows a processor keeps its core and caches whatever its state, and the
 * available-CPUs API (available.c) is what reports offline.
 *
 * cacheinfo is not exported (get_cpu_cacheinfo() is not), so the snapshot
 * reads it where the driver core publishes it: the "cache/indexN" children
 * of the CPU device, whose driver data is the struct cacheinfo of the leaf.
 * Caches are told apart by (level, type, id), the id being kecpuhp's own:
 * the smallest CPU among the known CPUs that Linux's shared_cpu_map links
 * together, updated on every online (the only writes after the snapshot).
 *
 * A mask holds the processors whose index resolves (from Start on) and
 * whose answer for that relation is known: for the node, every one; for
 * the others, the processors whose add completed or that are online in
 * their add (a snapshot left by an earlier, failed add does not count
 * while the CPU is back in Start).
 *
 * Queries are callable up to DISPATCH_LEVEL on Windows: they take no lock,
 * allocate nothing and never sleep. Snapshot entries are written once, by
 * the cpuhp callback, and published with a release store of ->known.
 */
#define pr_fmt(fmt) "kecpuhp: " fmt

#include <linux/cacheinfo.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/export.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/topology.h>

#include "internal.h"

#define KECPUHP_MAX_CACHES	8	/* leaves kept per CPU */
#define KECPUHP_MAX_LEAF_DEVS	16	/* cache/indexN looked at */

struct kecpuhp_cache {
	u32 id;
	u32 size;
	u16 line;
	u8 level;
	u8 type;			/* PROCESSOR_CACHE_TYPE */
	u8 ways;			/* or CACHE_FULLY_ASSOCIATIVE */
};

struct kecpuhp_topo {
	bool known;			/* release-published, written once */
	u8 nr_caches;
	u32 package;
	u32 die;
	u32 core;
	struct kecpuhp_cache cache[KECPUHP_MAX_CACHES];
};

static struct kecpuhp_topo *kecpuhp_topo;	/* by Linux CPU id */

/* The snapshot of @cpu, or NULL before the CPU first came online. */
static const struct kecpuhp_topo *kecpuhp_topo_of(int cpu)
{
	if (cpu < 0 || cpu >= nr_cpu_ids)
		return NULL;
	/* Pairs with the release in kecpuhp_topology_snapshot(). */
	if (!smp_load_acquire(&kecpuhp_topo[cpu].known))
		return NULL;
	return &kecpuhp_topo[cpu];
}

/*
 * The topology of processor @index (Linux CPU @cpu), if it counts as known:
 * its add completed, or it is online in its add (Complete is next). A CPU
 * that came online in an earlier, failed add has a snapshot too, but while
 * it is back in Start nothing says it will come online again.
 */
static const struct kecpuhp_topo *kecpuhp_known_topo(u32 index, int cpu)
{
	const struct kecpuhp_topo *t = kecpuhp_topo_of(cpu);

	if (t && (kecpuhp_index_is_active(index) || cpu_online(cpu)))
		return t;
	return NULL;
}

static u8 kecpuhp_cache_type(enum cache_type type)
{
	switch (type) {
	case CACHE_TYPE_INST:
		return CacheInstruction;
	case CACHE_TYPE_DATA:
		return CacheData;
	case CACHE_TYPE_UNIFIED:
		return CacheUnified;
	default:
		return CacheUnknown;
	}
}

static void kecpuhp_snapshot_leaf(struct kecpuhp_cache *c, const struct cacheinfo *ci,
				  unsigned int cpu)
{
	c->level = ci->level;
	c->type = kecpuhp_cache_type(ci->type);
	c->size = ci->size;
	c->line = ci->coherency_line_size;
	/* One set is a fully associative cache. */
	if (ci->number_of_sets == 1 || ci->ways_of_associativity >= CACHE_FULLY_ASSOCIATIVE)
		c->ways = CACHE_FULLY_ASSOCIATIVE;
	else
		c->ways = ci->ways_of_associativity;
	c->id = cpu;		/* until kecpuhp_link_caches() finds its sharers */
}

static struct kecpuhp_cache *kecpuhp_find_leaf(struct kecpuhp_topo *t, u8 level, u8 type)
{
	unsigned int i;

	for (i = 0; i < t->nr_caches; i++)
		if (t->cache[i].level == level && t->cache[i].type == type)
			return &t->cache[i];
	return NULL;
}

/* Every known cache of (@level, @type) with id @from gets id @to. */
static void kecpuhp_cache_relabel(u8 level, u8 type, u32 from, u32 to)
{
	struct kecpuhp_cache *c;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		if (!kecpuhp_topo[cpu].known)
			continue;
		c = kecpuhp_find_leaf(&kecpuhp_topo[cpu], level, type);
		if (c && c->id == from)
			WRITE_ONCE(c->id, to);
	}
}

/*
 * One cache leaf of @cpu as Linux sees it now: on the first online, take
 * it into the snapshot; on every online, give it the id of the caches of
 * the CPUs its shared_cpu_map names (the smallest id wins).
 */
static void kecpuhp_leaf_online(unsigned int cpu, struct kecpuhp_topo *t,
				const struct cacheinfo *ci, bool first)
{
	struct kecpuhp_cache *mine, *theirs;
	unsigned int other;
	u8 type;

	if (ci->type == CACHE_TYPE_NOCACHE || !ci->level)
		return;
	type = kecpuhp_cache_type(ci->type);
	if (first && t->nr_caches < KECPUHP_MAX_CACHES)
		kecpuhp_snapshot_leaf(&t->cache[t->nr_caches++], ci, cpu);
	if (first)
		return;
	mine = kecpuhp_find_leaf(t, ci->level, type);
	for_each_cpu(other, &ci->shared_cpu_map) {
		theirs = other == cpu || !kecpuhp_topo[other].known ? NULL :
			 kecpuhp_find_leaf(&kecpuhp_topo[other], ci->level, type);
		if (mine && theirs && theirs->id != mine->id)
			kecpuhp_cache_relabel(ci->level, type, max(mine->id, theirs->id),
					      min(mine->id, theirs->id));
	}
}

/*
 * The cache leaves the driver core published under cpuN/cache/: their
 * driver data is the struct cacheinfo. Linux's cacheinfo id is not used to
 * tell caches apart: on x86 the sharing is the arch's (cpu_llc_shared_mask
 * for an AMD L3) and the id need not follow it (seen under QEMU).
 */
static void kecpuhp_caches_online(unsigned int cpu, struct kecpuhp_topo *t, bool first)
{
	struct device *cpu_dev = get_cpu_device(cpu), *cache_dev, *leaf_dev;
	char name[12];
	unsigned int i;

	if (!cpu_dev)
		return;
	cache_dev = device_find_child_by_name(cpu_dev, "cache");
	if (!cache_dev)
		return;
	/* indexN may have gaps: leaves hidden from sysfs are skipped. */
	for (i = 0; i < KECPUHP_MAX_LEAF_DEVS; i++) {
		snprintf(name, sizeof(name), "index%u", i);
		leaf_dev = device_find_child_by_name(cache_dev, name);
		if (!leaf_dev)
			continue;
		if (dev_get_drvdata(leaf_dev))
			kecpuhp_leaf_online(cpu, t, dev_get_drvdata(leaf_dev), first);
		put_device(leaf_dev);
	}
	put_device(cache_dev);
}

/*
 * Remember what Linux knows of @cpu, which is coming online: called from
 * the shim's cpuhp online state on @cpu, after cacheinfo's own state
 * (CPUHP_AP_BASE_CACHEINFO_ONLINE) and before Complete. Writers are
 * serialized by the hotplug lock. The first online takes the snapshot;
 * every online links the CPU's caches with those Linux says it shares
 * (a sharer may have been offline at the first one).
 */
void kecpuhp_topology_snapshot(unsigned int cpu)
{
	struct kecpuhp_topo *t = &kecpuhp_topo[cpu];

	if (!t->known) {
		t->package = topology_physical_package_id(cpu);
		t->die = topology_die_id(cpu);
		t->core = topology_core_id(cpu);
		t->nr_caches = 0;
		kecpuhp_caches_online(cpu, t, true);
		/* Publish the entry after its contents. */
		smp_store_release(&t->known, true);
	}
	kecpuhp_caches_online(cpu, t, false);
}

int kecpuhp_topology_init(void)
{
	kecpuhp_topo = kcalloc(nr_cpu_ids, sizeof(*kecpuhp_topo), GFP_KERNEL);
	return kecpuhp_topo ? 0 : -ENOMEM;
}

void kecpuhp_topology_exit(void)
{
	kfree(kecpuhp_topo);
	kecpuhp_topo = NULL;
}

/* --- matching processors --- */

/* Which processors one record covers: those like @cpu for @rel. */
struct kecpuhp_match {
	LOGICAL_PROCESSOR_RELATIONSHIP rel;
	int cpu;
	const struct kecpuhp_cache *cache;	/* RelationCache */
	bool active_only;			/* the node calls */
};

static int kecpuhp_node_of(int cpu)
{
	int node = cpu_to_node(cpu);

	return node < 0 ? 0 : node;
}

/* The L2 a core shares with others is Windows' module; else the core. */
static const struct kecpuhp_cache *kecpuhp_module_cache(const struct kecpuhp_topo *t)
{
	unsigned int i;

	for (i = 0; i < t->nr_caches; i++)
		if (t->cache[i].level == 2 && t->cache[i].type == CacheUnified)
			return &t->cache[i];
	return NULL;
}

static bool kecpuhp_same_cache(const struct kecpuhp_topo *t, const struct kecpuhp_cache *c)
{
	unsigned int i;

	/* Ids change only when an online links caches; any id is a whole one. */
	for (i = 0; i < t->nr_caches; i++)
		if (t->cache[i].level == c->level && t->cache[i].type == c->type &&
		    READ_ONCE(t->cache[i].id) == READ_ONCE(c->id))
			return true;
	return false;
}

static bool kecpuhp_same_module(const struct kecpuhp_topo *a, const struct kecpuhp_topo *b)
{
	const struct kecpuhp_cache *l2 = kecpuhp_module_cache(a);

	if (l2)
		return kecpuhp_same_cache(b, l2);
	return a->package == b->package && a->die == b->die && a->core == b->core;
}

/* Does processor @index belong to the record @m describes? */
static bool kecpuhp_matches(const struct kecpuhp_match *m, u32 index)
{
	const struct kecpuhp_topo *a, *b;
	int cpu = kecpuhp_index_to_cpu(index);

	if (cpu < 0)
		return false;
	if (m->active_only && !kecpuhp_index_is_active(index))
		return false;
	if (m->rel == RelationNumaNode || m->rel == RelationNumaNodeEx)
		return kecpuhp_node_of(cpu) == m->cpu;	/* ->cpu is the node */
	a = kecpuhp_topo_of(m->cpu);		/* the record's own processor: known */
	b = kecpuhp_known_topo(index, cpu);
	if (!a || !b)
		return false;
	switch (m->rel) {
	case RelationProcessorCore:
		return a->package == b->package && a->die == b->die && a->core == b->core;
	case RelationProcessorDie:
		return a->package == b->package && a->die == b->die;
	case RelationProcessorPackage:
		return a->package == b->package;
	case RelationProcessorModule:
		return kecpuhp_same_module(a, b);
	case RelationCache:
		return kecpuhp_same_cache(b, m->cache);
	default:
		return false;
	}
}

static u32 kecpuhp_nr_groups(u32 count)
{
	return DIV_ROUND_UP(count, MAXIMUM_PROC_PER_GROUP);
}

/* The processors of group @group that match @m, as a mask. */
static KAFFINITY kecpuhp_group_mask(const struct kecpuhp_match *m, u32 group, u32 count)
{
	u32 first = group * MAXIMUM_PROC_PER_GROUP, i;
	KAFFINITY mask = 0;

	for (i = first; i < count && i < first + MAXIMUM_PROC_PER_GROUP; i++)
		if (kecpuhp_matches(m, i))
			mask |= BIT(i - first);
	return mask;
}

/*
 * Write the non-empty group masks of @m to @out (up to @room entries; NULL
 * to count them). With @primary, only the group with the most processors.
 * Returns the number of entries the answer has.
 */
static u16 kecpuhp_masks(const struct kecpuhp_match *m, bool primary, GROUP_AFFINITY *out,
			 u32 room)
{
	u32 count = kecpuhp_assigned_count(), groups = kecpuhp_nr_groups(count), g;
	GROUP_AFFINITY best = { 0 }, ga;
	u16 n = 0;

	for (g = 0; g < groups; g++) {
		memset(&ga, 0, sizeof(ga));
		ga.Mask = kecpuhp_group_mask(m, g, count);
		ga.Group = g;
		if (!ga.Mask)
			continue;
		if (primary) {
			if (hweight_long(ga.Mask) > hweight_long(best.Mask))
				best = ga;
			continue;
		}
		if (out && n < room)
			memcpy(&out[n], &ga, sizeof(ga));
		n++;
	}
	if (!primary)
		return n;
	if (out && room)
		memcpy(out, &best, sizeof(best));
	return 1;
}

/* --- records --- */

/* Where records go: @buf is NULL while measuring. */
struct kecpuhp_out {
	u8 *buf;
	u32 cap;
	u32 len;
	bool all;		/* RelationAll: node records carry all groups */
};

#define KECPUHP_REC_HDR		offsetof(SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX, Processor)
#define KECPUHP_PROC_MASKS	offsetof(PROCESSOR_RELATIONSHIP, GroupMask)
#define KECPUHP_NODE_MASKS	offsetof(NUMA_NODE_RELATIONSHIP, GroupMask)
#define KECPUHP_CACHE_MASKS	offsetof(CACHE_RELATIONSHIP, GroupMask)
#define KECPUHP_GROUP_INFOS	offsetof(GROUP_RELATIONSHIP, GroupInfo)

/*
 * Append one record: @body (@body_len bytes) followed by the masks of @m.
 * The GroupCount at @count_off in @body is filled in. Nothing is written
 * past the buffer; the length grows by the full record size regardless.
 */
static void kecpuhp_emit(struct kecpuhp_out *o, LOGICAL_PROCESSOR_RELATIONSHIP rel, void *body,
			 size_t body_len, size_t count_off, const struct kecpuhp_match *m,
			 bool primary)
{
	u16 groups = kecpuhp_masks(m, primary, NULL, 0);
	u32 size = KECPUHP_REC_HDR + body_len + max_t(u32, groups, 1) * sizeof(GROUP_AFFINITY);
	SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX hdr = { .Relationship = rel, .Size = size };
	u8 *rec;

	memcpy((u8 *)body + count_off, &groups, sizeof(groups));
	if (o->buf && o->len + size <= o->cap) {
		rec = o->buf + o->len;
		memset(rec, 0, size);
		memcpy(rec, &hdr, KECPUHP_REC_HDR);
		memcpy(rec + KECPUHP_REC_HDR, body, body_len);
		kecpuhp_masks(m, primary, (GROUP_AFFINITY *)(rec + KECPUHP_REC_HDR + body_len),
			      groups);
	}
	o->len += size;
}

static void kecpuhp_emit_processor(struct kecpuhp_out *o, LOGICAL_PROCESSOR_RELATIONSHIP rel,
				   int cpu)
{
	struct kecpuhp_match m = { .rel = rel, .cpu = cpu };
	PROCESSOR_RELATIONSHIP p = { 0 };
	u32 count = kecpuhp_assigned_count(), g, n = 0;

	if (rel == RelationProcessorCore) {
		for (g = 0; g < kecpuhp_nr_groups(count); g++)
			n += hweight_long(kecpuhp_group_mask(&m, g, count));
		if (n > 1)
			p.Flags = LTP_PC_SMT;
	}
	kecpuhp_emit(o, rel, &p, KECPUHP_PROC_MASKS, offsetof(PROCESSOR_RELATIONSHIP, GroupCount),
		     &m, false);
}

static void kecpuhp_emit_node(struct kecpuhp_out *o, LOGICAL_PROCESSOR_RELATIONSHIP rel,
			      int node, bool all_groups)
{
	struct kecpuhp_match m = { .rel = RelationNumaNode, .cpu = node };
	NUMA_NODE_RELATIONSHIP n = { .NodeNumber = node };

	kecpuhp_emit(o, rel, &n, KECPUHP_NODE_MASKS, offsetof(NUMA_NODE_RELATIONSHIP, GroupCount),
		     &m, !all_groups);
}

static void kecpuhp_emit_cache(struct kecpuhp_out *o, int cpu, const struct kecpuhp_cache *c)
{
	struct kecpuhp_match m = { .rel = RelationCache, .cpu = cpu, .cache = c };
	CACHE_RELATIONSHIP r = {
		.Level = c->level,
		.Associativity = c->ways,
		.LineSize = c->line,
		.CacheSize = c->size,
		.Type = c->type,
	};

	kecpuhp_emit(o, RelationCache, &r, KECPUHP_CACHE_MASKS,
		     offsetof(CACHE_RELATIONSHIP, GroupCount), &m, false);
}

/* The system's groups: the same record whichever processor is asked about. */
static void kecpuhp_emit_group(struct kecpuhp_out *o)
{
	USHORT active = KeQueryActiveGroupCount(), g;
	u32 size = KECPUHP_REC_HDR + KECPUHP_GROUP_INFOS +
		   max_t(u32, active, 1) * sizeof(PROCESSOR_GROUP_INFO);
	SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX hdr = {
		.Relationship = RelationGroup,
		.Size = size,
	};
	GROUP_RELATIONSHIP r = { .MaximumGroupCount = KeQueryMaximumGroupCount(),
				 .ActiveGroupCount = active };
	PROCESSOR_GROUP_INFO gi;
	u8 *rec;

	if (o->buf && o->len + size <= o->cap) {
		rec = o->buf + o->len;
		memset(rec, 0, size);
		memcpy(rec, &hdr, KECPUHP_REC_HDR);
		memcpy(rec + KECPUHP_REC_HDR, &r, KECPUHP_GROUP_INFOS);
		for (g = 0; g < active; g++) {
			memset(&gi, 0, sizeof(gi));
			gi.MaximumProcessorCount = KeQueryMaximumProcessorCountEx(g);
			gi.ActiveProcessorCount = KeQueryActiveProcessorCountEx(g);
			gi.ActiveProcessorMask = KeQueryGroupAffinity(g);
			memcpy(rec + KECPUHP_REC_HDR + KECPUHP_GROUP_INFOS + g * sizeof(gi), &gi,
			       sizeof(gi));
		}
	}
	o->len += size;
}

/* Has a processor below @index the same core/die/package/module as @cpu? */
static bool kecpuhp_seen_before(LOGICAL_PROCESSOR_RELATIONSHIP rel, int cpu, u32 index)
{
	struct kecpuhp_match m = { .rel = rel, .cpu = cpu };
	u32 i;

	for (i = 0; i < index; i++)
		if (kecpuhp_matches(&m, i))
			return true;
	return false;
}

static bool kecpuhp_cache_seen_before(int cpu, const struct kecpuhp_cache *c, u32 index)
{
	struct kecpuhp_match m = { .rel = RelationCache, .cpu = cpu, .cache = c };
	u32 i;

	for (i = 0; i < index; i++)
		if (kecpuhp_matches(&m, i))
			return true;
	return false;
}

static bool kecpuhp_node_seen_before(int node, u32 index)
{
	u32 i;
	int cpu;

	for (i = 0; i < index; i++) {
		cpu = kecpuhp_index_to_cpu(i);
		if (cpu >= 0 && kecpuhp_node_of(cpu) == node)
			return true;
	}
	return false;
}

/*
 * The records of relation @rel for processor @index (running on @cpu).
 * With @dedup (a query for all processors), only the first processor of
 * each core, node, cache... writes one.
 */
static void kecpuhp_emit_for(struct kecpuhp_out *o, LOGICAL_PROCESSOR_RELATIONSHIP rel,
			     u32 index, int cpu, bool dedup)
{
	const struct kecpuhp_topo *t = kecpuhp_known_topo(index, cpu);
	int node = kecpuhp_node_of(cpu);
	unsigned int i;

	switch (rel) {
	case RelationNumaNode:
	case RelationNumaNodeEx:
		if (!dedup || !kecpuhp_node_seen_before(node, index))
			kecpuhp_emit_node(o, rel, node, rel == RelationNumaNodeEx || o->all);
		break;
	case RelationProcessorCore:
	case RelationProcessorPackage:
	case RelationProcessorDie:
	case RelationProcessorModule:
		if (t && (!dedup || !kecpuhp_seen_before(rel, cpu, index)))
			kecpuhp_emit_processor(o, rel, cpu);
		break;
	case RelationCache:
		for (i = 0; t && i < t->nr_caches; i++)
			if (!dedup || !kecpuhp_cache_seen_before(cpu, &t->cache[i], index))
				kecpuhp_emit_cache(o, cpu, &t->cache[i]);
		break;
	default:
		break;
	}
}

/* RelationAll: every relation, in the order of their values. */
static const LOGICAL_PROCESSOR_RELATIONSHIP kecpuhp_all_relations[] = {
	RelationProcessorCore, RelationNumaNode, RelationCache, RelationProcessorPackage,
	RelationGroup, RelationProcessorDie, RelationProcessorModule,
};

static void kecpuhp_emit_relation(struct kecpuhp_out *o, LOGICAL_PROCESSOR_RELATIONSHIP rel,
				  s64 only)
{
	u32 count = kecpuhp_assigned_count(), i;
	int cpu;

	if (rel == RelationGroup) {
		kecpuhp_emit_group(o);
		return;
	}
	for (i = 0; i < count; i++) {
		if (only >= 0 && i != only)
			continue;
		cpu = kecpuhp_index_to_cpu(i);
		if (cpu >= 0)
			kecpuhp_emit_for(o, rel, i, cpu, only < 0);
	}
}

static void kecpuhp_emit_all(struct kecpuhp_out *o, LOGICAL_PROCESSOR_RELATIONSHIP rel, s64 only)
{
	unsigned int r;

	if (rel != RelationAll) {
		kecpuhp_emit_relation(o, rel, only);
		return;
	}
	o->all = true;
	for (r = 0; r < ARRAY_SIZE(kecpuhp_all_relations); r++)
		kecpuhp_emit_relation(o, kecpuhp_all_relations[r], only);
}

static bool kecpuhp_relation_valid(LOGICAL_PROCESSOR_RELATIONSHIP rel)
{
	return (rel >= RelationProcessorCore && rel <= RelationProcessorModule) ||
	       rel == RelationAll;
}

/* Is the relation known for processor @index? Core and friends need a boot. */
static bool kecpuhp_relation_known(LOGICAL_PROCESSOR_RELATIONSHIP rel, u32 index)
{
	switch (rel) {
	case RelationNumaNode:
	case RelationNumaNodeEx:
	case RelationGroup:
	case RelationAll:
		return true;
	default:
		return kecpuhp_known_topo(index, kecpuhp_index_to_cpu(index));
	}
}

/**
 * KeQueryLogicalProcessorRelationship - where processors sit: cores,
 *	nodes, caches, packages, dies, modules, groups
 * @ProcessorNumber: one processor, or NULL for all processors
 * @RelationshipType: a LOGICAL_PROCESSOR_RELATIONSHIP value, or %RelationAll
 * @Information: the buffer for the records; may be NULL when *@Length is 0
 * @Length: in: the size of @Information in bytes; out: the size the
 *	answer needs (written whatever the outcome, once the arguments are
 *	valid)
 *
 * Fills @Information with variable-length SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX
 * records, each Size bytes long; walk them by Size. Masks are GROUP_AFFINITY
 * over Windows processor indexes. %RelationNumaNode records carry the
 * node's primary group only (the one with the most processors; GroupCount
 * 1); %RelationNumaNodeEx and %RelationAll carry all of its groups.
 * For one processor, RelationGroup is the system's group record.
 *
 * Masks hold the processors whose index resolves and whose relation is
 * known: a processor's node is known from its Start notification on, its
 * core, die, package, module and caches once it has come online (before
 * its Complete notification). Asked about a processor in Start, a query
 * for one of those relations returns %STATUS_INVALID_PARAMETER, and
 * %RelationAll returns its node and group records only. Processors that
 * went offline keep their topology. Modules are the processors sharing an
 * L2 cache (the core where there is none); EfficiencyClass is 0.
 *
 * Context: any; lock-free, never sleeps (Windows: IRQL <= DISPATCH_LEVEL).
 * Return: %STATUS_SUCCESS; %STATUS_INFO_LENGTH_MISMATCH if *@Length is
 * smaller than the answer (or @Information is NULL and the answer is not
 * empty), with the needed size in *@Length; %STATUS_INVALID_PARAMETER for
 * a NULL @Length, an unknown @RelationshipType or a @ProcessorNumber that
 * names no processor (or a processor whose relation is not known yet).
 */
NTSTATUS KeQueryLogicalProcessorRelationship(PPROCESSOR_NUMBER ProcessorNumber,
					     LOGICAL_PROCESSOR_RELATIONSHIP RelationshipType,
					     PSYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX Information,
					     PULONG Length)
{
	struct kecpuhp_out o = { 0 };
	s64 only = -1;
	u32 index;

	if (!Length || !kecpuhp_relation_valid(RelationshipType))
		return STATUS_INVALID_PARAMETER;
	if (ProcessorNumber) {
		index = KeGetProcessorIndexFromNumber(ProcessorNumber);
		if (index == INVALID_PROCESSOR_INDEX ||
		    !kecpuhp_relation_known(RelationshipType, index))
			return STATUS_INVALID_PARAMETER;
		only = index;
	}
	/* Measure, then write if it fits: an add may grow the answer between. */
	kecpuhp_emit_all(&o, RelationshipType, only);
	if (!Information || o.len > *Length) {
		*Length = o.len;
		return o.len ? STATUS_INFO_LENGTH_MISMATCH : STATUS_SUCCESS;
	}
	o = (struct kecpuhp_out){ .buf = (u8 *)Information, .cap = *Length };
	kecpuhp_emit_all(&o, RelationshipType, only);
	*Length = o.len;
	return o.len > o.cap ? STATUS_INFO_LENGTH_MISMATCH : STATUS_SUCCESS;
}
EXPORT_SYMBOL_GPL(KeQueryLogicalProcessorRelationship);

/* --- NUMA nodes --- */

static bool kecpuhp_node_valid(USHORT node)
{
	return node < nr_node_ids;
}

/**
 * KeQueryHighestNodeNumber - the highest NUMA node number
 *
 * Nodes are Linux's: 0..nr_node_ids - 1. A node may have no processor.
 *
 * Context: any, lock-free.
 * Return: the highest possible node number.
 */
USHORT KeQueryHighestNodeNumber(void)
{
	return nr_node_ids - 1;
}
EXPORT_SYMBOL_GPL(KeQueryHighestNodeNumber);

/**
 * KeGetCurrentNodeNumber - the NUMA node of the processor the caller runs on
 *
 * Stale as soon as it returns unless the caller cannot migrate.
 *
 * Context: any, lock-free.
 * Return: the node number.
 */
USHORT KeGetCurrentNodeNumber(void)
{
	int node = numa_node_id();

	return node < 0 ? 0 : node;
}
EXPORT_SYMBOL_GPL(KeGetCurrentNodeNumber);

/**
 * KeQueryNodeActiveAffinity - the active processors of a node, one group
 * @NodeNumber: a node number
 * @Affinity: if not NULL, receives the node's primary group (the group with
 *	the most of its active processors) and their mask
 * @Count: if not NULL, receives the number of processors in that mask
 *
 * A processor is active from its Complete notification on (see
 * KeQueryActiveProcessorCountEx()), offline or not. For an invalid node or
 * a node without active processors, the mask, group and count are 0.
 *
 * Context: any, lock-free.
 */
void KeQueryNodeActiveAffinity(USHORT NodeNumber, PGROUP_AFFINITY Affinity, PUSHORT Count)
{
	struct kecpuhp_match m = { .rel = RelationNumaNode, .cpu = NodeNumber,
				   .active_only = true };
	GROUP_AFFINITY ga = { 0 };

	if (kecpuhp_node_valid(NodeNumber))
		kecpuhp_masks(&m, true, &ga, 1);
	if (Affinity)
		*Affinity = ga;
	if (Count)
		*Count = hweight_long(ga.Mask);
}
EXPORT_SYMBOL_GPL(KeQueryNodeActiveAffinity);

/**
 * KeQueryNodeActiveAffinity2 - the active processors of a node, all groups
 * @NodeNumber: a node number
 * @GroupAffinities: receives one GROUP_AFFINITY per group with active
 *	processors of the node, in ascending group order
 * @GroupAffinitiesCount: the number of entries @GroupAffinities holds
 * @GroupAffinitiesRequired: receives the number of entries the answer has
 *	(0 for a node without processors)
 *
 * Context: any, lock-free.
 * Return: %STATUS_SUCCESS; %STATUS_BUFFER_TOO_SMALL if @GroupAffinitiesCount
 * is smaller than the answer (nothing is written to @GroupAffinities);
 * %STATUS_INVALID_PARAMETER for an invalid node, a NULL
 * @GroupAffinitiesRequired, or a NULL @GroupAffinities with a non-zero count.
 */
NTSTATUS KeQueryNodeActiveAffinity2(USHORT NodeNumber, PGROUP_AFFINITY GroupAffinities,
				    USHORT GroupAffinitiesCount, PUSHORT GroupAffinitiesRequired)
{
	struct kecpuhp_match m = { .rel = RelationNumaNode, .cpu = NodeNumber,
				   .active_only = true };
	u16 need;

	if (!kecpuhp_node_valid(NodeNumber) || !GroupAffinitiesRequired ||
	    (!GroupAffinities && GroupAffinitiesCount))
		return STATUS_INVALID_PARAMETER;
	need = kecpuhp_masks(&m, false, NULL, 0);
	*GroupAffinitiesRequired = need;
	if (need > GroupAffinitiesCount)
		return STATUS_BUFFER_TOO_SMALL;
	/* Fewer if an add raced with the count; never more than the room. */
	*GroupAffinitiesRequired = kecpuhp_masks(&m, false, GroupAffinities,
						 GroupAffinitiesCount);
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_GPL(KeQueryNodeActiveAffinity2);

/**
 * KeQueryNodeActiveProcessorCount - count the active processors of a node
 * @NodeNumber: a node number
 *
 * Context: any, lock-free.
 * Return: the number of active processors on the node, in all groups; 0
 * for an invalid node.
 */
ULONG KeQueryNodeActiveProcessorCount(USHORT NodeNumber)
{
	struct kecpuhp_match m = { .rel = RelationNumaNode, .cpu = NodeNumber,
				   .active_only = true };
	u32 count = kecpuhp_assigned_count(), g, n = 0;

	if (!kecpuhp_node_valid(NodeNumber))
		return 0;
	for (g = 0; g < kecpuhp_nr_groups(count); g++)
		n += hweight_long(kecpuhp_group_mask(&m, g, count));
	return n;
}
EXPORT_SYMBOL_GPL(KeQueryNodeActiveProcessorCount);

/**
 * KeQueryNodeMaximumProcessorCount - the most processors a node can have
 * @NodeNumber: a node number
 *
 * Counts the possible Linux CPUs of the node (hot-add slots included).
 *
 * Context: any, lock-free.
 * Return: the count, 0 for an invalid node.
 */
USHORT KeQueryNodeMaximumProcessorCount(USHORT NodeNumber)
{
	unsigned int cpu, n = 0;

	if (!kecpuhp_node_valid(NodeNumber))
		return 0;
	for_each_possible_cpu(cpu)
		n += kecpuhp_node_of(cpu) == NodeNumber;
	return n;
}
EXPORT_SYMBOL_GPL(KeQueryNodeMaximumProcessorCount);
