/* SPDX-License-Identifier: MIT */
/*
 * pgbench's "limit" and "call" columns.
 *
 * limit: a hand-written radix walk with the architecture's masks and shifts
 * as constants and no checks. Its lookup walks libpgtable's own tables, so
 * the ratio is the library's overhead over the physical limit of the data
 * structure; its insert builds the same format from the same kind of arena,
 * reading each leaf slot before it writes it (an insert must refuse a slot
 * in use); its unmap walks and clears the leaf, and frees no table.
 *
 * call: the limit's walk and insert compiled out of line and called through
 * a pointer, once per operation: what a library call costs before it checks
 * anything. libpgtable / call is the library's own overhead.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/armv8.h>
#include <pgtable/pgtable.h>
#include <pgtable/x86_64.h>

#include "pgbench.h"

/* ------------------------------------------------------------------------- */
/* limit: hand-written radix walk, constants only, no checks                 */
/* ------------------------------------------------------------------------- */

/*
 * Both supported formats have 4-level trees of 512-entry tables over a 12-bit
 * page offset, so they share the index; they differ in how an entry says
 * "table", "leaf" or "nothing".
 */
static inline unsigned idx4k(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * level)) & 511u;
}

/* x86-64 4-level: P is bit 0, PS (bit 7) marks 1G/2M leaves at levels 2 and
 * 1, the next table's address is bits 51:12 (Intel SDM 4.5). */
static inline const pgt_pte_t *x86_next(pgt_pte_t e)
{
	return (const pgt_pte_t *)(uintptr_t)(e & PGT_X86_ADDR_4K);
}

static inline const pgt_pte_t *limit_x86_walk(const pgt_pte_t *root, uint64_t va)
{
	const pgt_pte_t *p = root + idx4k(va, 3);

	if (!(*p & PGT_X86_P))
		return NULL;
	p = x86_next(*p) + idx4k(va, 2);
	if (!(*p & PGT_X86_P))
		return NULL;
	if (*p & PGT_X86_PS)
		return p;
	p = x86_next(*p) + idx4k(va, 1);
	if (!(*p & PGT_X86_P))
		return NULL;
	if (*p & PGT_X86_PS)
		return p;
	p = x86_next(*p) + idx4k(va, 0);
	return (*p & PGT_X86_P) ? p : NULL;
}

/* ARMv8 4K granule, 48-bit: bits[1:0] 0b11 is a table above level 0 and a
 * page at level 0, 0b01 a block at levels 1-2, address bits 47:12 (Arm ARM
 * D8.3). */
static inline const pgt_pte_t *arm_next(pgt_pte_t e)
{
	return (const pgt_pte_t *)(uintptr_t)(e & PGT_ARMV8_OA(12));
}

static inline const pgt_pte_t *limit_arm_walk(const pgt_pte_t *root, uint64_t va)
{
	const pgt_pte_t *p = root + idx4k(va, 3);

	if ((*p & 3) != 3)
		return NULL;
	p = arm_next(*p) + idx4k(va, 2);
	if ((*p & 3) != 3)
		return (*p & 3) == 1 ? p : NULL;
	p = arm_next(*p) + idx4k(va, 1);
	if ((*p & 3) != 3)
		return (*p & 3) == 1 ? p : NULL;
	p = arm_next(*p) + idx4k(va, 0);
	return (*p & 3) == 3 ? p : NULL;
}

/* One batch loop per format, so each walk is inlined with its constants. */
static struct lookup_result limit_x86_batch(const pgt_pte_t *root, const uint64_t *va, size_t n)
{
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		const pgt_pte_t *p = limit_x86_walk(root, va[i]);
		if (p) {
			r.sum += (uint64_t)(uintptr_t)p;
			r.found++;
		}
	}
	return r;
}

static struct lookup_result limit_arm_batch(const pgt_pte_t *root, const uint64_t *va, size_t n)
{
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		const pgt_pte_t *p = limit_arm_walk(root, va[i]);
		if (p) {
			r.sum += (uint64_t)(uintptr_t)p;
			r.found++;
		}
	}
	return r;
}

/** A zeroed 4K table from the arena. */
static pgt_pte_t *limit_table(struct arena *a)
{
	pgt_pte_t *t = arena_alloc(a, 4096);

	if (t)
		memset(t, 0, 4096);
	return t;
}

/**
 * The leaf slot for @p va at @p level, creating missing tables on the way.
 * The format's constants come in as arguments so that inlining into each
 * per-format loop folds them: (e & tmask) == ttype says "table", a new table
 * entry is its address | tbits.
 */
static inline pgt_pte_t *limit_slot(struct arena *a, pgt_pte_t *t, uint64_t va, unsigned level,
				    pgt_pte_t tmask, pgt_pte_t ttype, pgt_pte_t tbits, pgt_pte_t addr)
{
	for (unsigned l = 3; l > level; l--) {
		pgt_pte_t *e = t + idx4k(va, l);
		if ((*e & tmask) != ttype) {
			pgt_pte_t *next = limit_table(a);
			if (!next)
				return NULL;
			*e = (pgt_pte_t)(uintptr_t)next | tbits;
		}
		t = (pgt_pte_t *)(uintptr_t)(*e & addr);
	}
	return t + idx4k(va, level);
}

/*
 * One page of the limit's insert: the walk, creating missing tables, then the
 * leaf slot read and, when it is empty, written. An insert must read the slot
 * (the L4 ADT refuses a page that is mapped already), so the limit reads it
 * as its lookup walk does; this workload never finds it taken.
 */
static inline int limit_x86_insert(struct arena *a, pgt_pte_t *root, uint64_t va, unsigned level, uint64_t pa)
{
	const pgt_pte_t leaf = PGT_X86_P | PGT_X86_RW | PGT_X86_NX | (level ? PGT_X86_PS : 0);
	pgt_pte_t *e = limit_slot(a, root, va, level, PGT_X86_P | PGT_X86_PS, PGT_X86_P,
				  PGT_X86_P | PGT_X86_RW | PGT_X86_US, PGT_X86_ADDR_4K);

	if (!e || *e)
		return -1;
	*e = pa | leaf;
	return 0;
}

static inline int limit_arm_insert(struct arena *a, pgt_pte_t *root, uint64_t va, unsigned level, uint64_t pa)
{
	const pgt_pte_t leaf =
		(level ? 1 : 3) | PGT_ARMV8_AF | PGT_ARMV8_SH_INNER | PGT_ARMV8_UXN | PGT_ARMV8_PXN;
	pgt_pte_t *e = limit_slot(a, root, va, level, 3, 3, 3, PGT_ARMV8_OA(12));

	if (!e || *e)
		return -1;
	*e = pa | leaf;
	return 0;
}

/*
 * The same code out of line, for the "call" column: each operation is one
 * call through a pointer, as a library call is. The ratio to "limit" is what
 * the call alone costs; libpgtable's ratio to "call" is what it adds.
 */
typedef const pgt_pte_t *(*call_walk_fn)(const pgt_pte_t *root, uint64_t va);
typedef int (*call_insert_fn)(struct arena *a, pgt_pte_t *root, uint64_t va, unsigned level, uint64_t pa);

/*
 * Maps the pages first, first + step, ... of the case by @p insert. Always
 * inlined: the limit passes its per-format insert as a constant, which the
 * compiler then inlines with that format's masks; the call column passes a
 * pointer it only knows at run time.
 */
static inline __attribute__((always_inline)) int fill_pages(call_insert_fn insert, struct arena *a,
							    pgt_pte_t *root, const struct bench_case *c,
							    const uint64_t *va, size_t n, unsigned level,
							    size_t first, size_t step)
{
	for (size_t i = first; i < n; i += step)
		if (insert(a, root, va[i], level, pa_of(c, i)) != 0)
			return -1;
	return 0;
}

/*
 * The store limit of an unmap: the walk, then the leaf cleared. Inlined the
 * same way as fill_pages. Tables are never freed: knowing that one is empty
 * takes a count the limit does not keep.
 */
static inline __attribute__((always_inline)) int clear_pages(call_walk_fn walk, pgt_pte_t *root,
							     const uint64_t *va, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		pgt_pte_t *p = (pgt_pte_t *)(uintptr_t)walk(root, va[i]);
		if (!p)
			return -1;
		*p = 0;
	}
	return 0;
}

static __attribute__((noinline)) const pgt_pte_t *call_x86_walk(const pgt_pte_t *root, uint64_t va)
{
	return limit_x86_walk(root, va);
}

static __attribute__((noinline)) const pgt_pte_t *call_arm_walk(const pgt_pte_t *root, uint64_t va)
{
	return limit_arm_walk(root, va);
}

static __attribute__((noinline)) int call_x86_insert(struct arena *a, pgt_pte_t *root, uint64_t va,
						     unsigned level, uint64_t pa)
{
	return limit_x86_insert(a, root, va, level, pa);
}

static __attribute__((noinline)) int call_arm_insert(struct arena *a, pgt_pte_t *root, uint64_t va,
						     unsigned level, uint64_t pa)
{
	return limit_arm_insert(a, root, va, level, pa);
}

struct limit_state {
	struct arena arena;
	pgt_pte_t *root; /**< the tree build made (lookups walk libpgtable's) */
	bool arm;
	/** The "call" column's out-of-line operations; NULL for "limit", whose loops inline them. */
	call_walk_fn walk;
	call_insert_fn insert;
};

/** Whether two levels agree on everything a walk reads: size, index, entry types, addresses. */
static bool same_walk_level(const struct pgt_level *a, const struct pgt_level *b)
{
	return a->shift == b->shift && a->bits == b->bits && a->leaf_ok == b->leaf_ok && a->valid == b->valid &&
	       a->type_mask == b->type_mask && a->table_type == b->table_type && a->leaf_type == b->leaf_type &&
	       a->leaf_any == b->leaf_any && a->table_oa == b->table_oa && a->leaf_oa == b->leaf_oa &&
	       a->oa_shift == b->oa_shift;
}

/**
 * Whether @p a is walked as @p model is. Compared by data, not by name: a
 * copy of a descriptor qualifies, and so does another format whose entries
 * say "table", "leaf" and "nothing" the same way (armv8-s2-4k-48's stage-2
 * descriptors do, for armv8-4k-48's walk).
 */
static bool same_walk(const struct pgt_arch *a, const struct pgt_arch *model)
{
	if (a->levels != model->levels)
		return false;
	for (unsigned l = 0; l < a->levels; l++)
		if (!same_walk_level(&a->level[l], &model->level[l]))
			return false;
	return true;
}

static const char *limit_unavailable(const struct bench_case *c)
{
	if (!same_walk(c->arch, &pgt_arch_x86_64) && !same_walk(c->arch, &pgt_arch_armv8_4k_48))
		return "no hand-written walk for this descriptor";
	if (c->shift != 12 && c->shift != 21 && c->shift != 30)
		return "hand-written walk covers 4K, 2M and 1G pages only";
	return NULL;
}

/*
 * The limit's own tree uses the model's leaf attributes (stage 1's for a
 * stage-2 format): only the bits its walk reads matter there.
 */
static void *limit_open(const struct bench_case *c)
{
	struct limit_state *s = xcalloc(1, sizeof *s);

	s->arm = !same_walk(c->arch, &pgt_arch_x86_64);
	return s;
}

static void *call_open(const struct bench_case *c)
{
	struct limit_state *s = limit_open(c);

	s->walk = s->arm ? call_arm_walk : call_x86_walk;
	s->insert = s->arm ? call_arm_insert : call_x86_insert;
	return s;
}

static void limit_clear(void *st)
{
	struct limit_state *s = st;

	s->root = NULL;
	arena_reset(&s->arena);
}

static void limit_close(void *st)
{
	struct limit_state *s = st;

	arena_release(&s->arena);
	free(s);
}

/**
 * Maps va[first], va[first + step], ... (mapping i -> pa_of(i)) into the
 * tree, making the root first when there is none.
 */
static int limit_fill_pages(struct limit_state *s, struct bench_case *c, const uint64_t *va, size_t n,
			    size_t first, size_t step)
{
	unsigned level = (c->shift - 12) / 9;

	if (!s->root)
		s->root = limit_table(&s->arena);
	if (!s->root)
		return -1;
	if (s->insert)
		return fill_pages(s->insert, &s->arena, s->root, c, va, n, level, first, step);
	return s->arm ? fill_pages(limit_arm_insert, &s->arena, s->root, c, va, n, level, first, step)
		      : fill_pages(limit_x86_insert, &s->arena, s->root, c, va, n, level, first, step);
}

/** The case's pages first, first + step, ... */
static int limit_fill(struct limit_state *s, struct bench_case *c, size_t first, size_t step)
{
	return limit_fill_pages(s, c, c->va, c->n, first, step);
}

static int limit_sparse_build(void *st, struct bench_case *c)
{
	return limit_fill_pages(st, c, c->sparse, c->nsparse, 0, 1);
}

static int limit_build(void *st, struct bench_case *c)
{
	return limit_fill(st, c, 0, 1);
}

static int limit_build_even(void *st, struct bench_case *c)
{
	return limit_fill(st, c, 0, 2);
}

/** The walk, the slot read and one store per page: the tables are there. */
static int limit_insert_odd(void *st, struct bench_case *c)
{
	return limit_fill(st, c, 1, 2);
}

/** libpgtable's root as a pointer (p2v_offset is 0), or NULL before it is built. */
static const pgt_pte_t *lib_root(const struct bench_case *c)
{
	pgt_paddr_t root = pgt_space_root(c->lib_space);

	return root == PGT_PADDR_NONE ? NULL : (const pgt_pte_t *)(uintptr_t)root;
}

static struct lookup_result limit_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct limit_state *s = st;
	const pgt_pte_t *root = lib_root(c);

	if (!root)
		return (struct lookup_result){ 0, 0 };
	return s->arm ? limit_arm_batch(root, va, n) : limit_x86_batch(root, va, n);
}

static struct lookup_result call_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct limit_state *s = st;
	const pgt_pte_t *root = lib_root(c);
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n && root; i++) {
		const pgt_pte_t *p = s->walk(root, va[i]);
		if (p) {
			r.sum += (uint64_t)(uintptr_t)p;
			r.found++;
		}
	}
	return r;
}

static const pgt_pte_t *limit_walk(const struct limit_state *s, const pgt_pte_t *root, uint64_t va)
{
	return s->arm ? limit_arm_walk(root, va) : limit_x86_walk(root, va);
}

static int limit_validate(void *st, const struct bench_case *c, uint64_t *hit_sum)
{
	const struct limit_state *s = st;
	const pgt_pte_t *root = lib_root(c);
	const pgt_pte_t addr = s->arm ? PGT_ARMV8_OA(12) : PGT_X86_ADDR_4K;
	uint64_t *pte = xmalloc(c->n * sizeof *pte);
	int rc = 0;

	*hit_sum = 0;
	if (!root)
		rc = bad_mapping("limit", c, 0, "libpgtable's tree is missing");
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		/* Its own tree holds what its insert wrote... */
		const pgt_pte_t *own = limit_walk(s, s->root, c->va[i]);
		if (!own || (*own & addr) != pa_of(c, i))
			rc = bad_mapping("limit", c, c->va[i], "own tree");
		/* ...and its walk of libpgtable's tree finds what pgt_lookup finds. */
		pgt_ref_t ref;
		const pgt_pte_t *p = limit_walk(s, root, c->va[i]);
		if (rc == 0 && (pgt_lookup(c->lib_space, c->va[i], &ref) != PGT_OK || p != ref.pte))
			rc = bad_mapping("limit", c, c->va[i], "walk of libpgtable's tree");
		pte[i] = (uint64_t)(uintptr_t)p;
	}
	for (size_t j = 0; j < c->nhit && rc == 0; j++)
		*hit_sum += pte[c->hit_idx[j]];
	free(pte);
	return rc;
}

static int limit_map_into_prepare(void *st, struct bench_case *c)
{
	return limit_fill(st, c, 0, table_run(c));
}

/** The store limit: one walk per table, then its entries stored in a row. */
static int limit_map_into(void *st, struct bench_case *c)
{
	struct limit_state *s = st;
	size_t per = table_run(c);
	const pgt_pte_t leaf = s->arm ? 3 | PGT_ARMV8_AF | PGT_ARMV8_SH_INNER | PGT_ARMV8_UXN | PGT_ARMV8_PXN
				      : PGT_X86_P | PGT_X86_RW | PGT_X86_NX;

	for (size_t i = 0; i < c->n; i += per) {
		pgt_pte_t *e =
			s->arm ? limit_slot(&s->arena, s->root, c->va[i], 0, 3, 3, 3, PGT_ARMV8_OA(12))
			       : limit_slot(&s->arena, s->root, c->va[i], 0, PGT_X86_P | PGT_X86_PS,
					    PGT_X86_P, PGT_X86_P | PGT_X86_RW | PGT_X86_US, PGT_X86_ADDR_4K);
		size_t end = c->n - i < per ? c->n - i : per;
		if (!e)
			return -1;
		for (size_t j = 1; j < end; j++)
			e[j] = pa_of(c, i + j) | leaf;
	}
	return 0;
}

static int limit_insert_odd_check(void *st, const struct bench_case *c)
{
	const struct limit_state *s = st;
	const pgt_pte_t addr = s->arm ? PGT_ARMV8_OA(12) : PGT_X86_ADDR_4K;

	for (size_t i = 1; i < c->n; i += 2) {
		const pgt_pte_t *own = limit_walk(s, s->root, c->va[i]);
		if (!own || (*own & addr) != pa_of(c, i))
			return bad_mapping("limit", c, c->va[i], "own tree after insert-into");
	}
	return 0;
}

/** Clears the leaves of va[0..n) in the limit's own tree. */
static int limit_unmap(void *st, struct bench_case *c, const uint64_t *va, size_t n)
{
	struct limit_state *s = st;

	(void)c;
	if (!s->root)
		return -1;
	if (s->walk)
		return clear_pages(s->walk, s->root, va, n);
	return s->arm ? clear_pages(limit_arm_walk, s->root, va, n) : clear_pages(limit_x86_walk, s->root, va, n);
}

static int limit_unmap_check(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct limit_state *s = st;

	for (size_t i = 0; i < n; i++)
		if (limit_walk(s, s->root, va[i]))
			return bad_mapping("limit", c, va[i], "own tree still maps it after unmap");
	return 0;
}

static double limit_bytes(void *st, const struct bench_case *c, long long heap_delta, bool *estimated)
{
	const struct limit_state *s = st;

	(void)heap_delta;
	*estimated = false;
	return (double)s->arena.bytes / (double)c->n;
}

const struct impl limit_impl = {
	.name = "limit",
	.unavailable = limit_unavailable,
	.open = limit_open,
	.close = limit_close,
	.build = limit_build,
	.build_even = limit_build_even,
	.map_into_prepare = limit_map_into_prepare,
	.map_into = limit_map_into,
	.insert_odd = limit_insert_odd,
	.insert_odd_check = limit_insert_odd_check,
	.sparse_build = limit_sparse_build,
	.unmap = limit_unmap,
	.unmap_check = limit_unmap_check,
	.clear = limit_clear,
	.lookup = limit_lookup,
	.validate = limit_validate,
	.bytes = limit_bytes,
};

/** The limit's walk and insert out of line, one call per operation (no map-into: one walk per table). */
const struct impl call_impl = {
	.name = "call",
	.unavailable = limit_unavailable,
	.open = call_open,
	.close = limit_close,
	.build = limit_build,
	.build_even = limit_build_even,
	.insert_odd = limit_insert_odd,
	.insert_odd_check = limit_insert_odd_check,
	.sparse_build = limit_sparse_build,
	.unmap = limit_unmap,
	.unmap_check = limit_unmap_check,
	.clear = limit_clear,
	.lookup = call_lookup,
	.validate = limit_validate,
	.bytes = limit_bytes,
};
