/* SPDX-License-Identifier: MIT */
/*
 * pgbench's libpgtable column: each row made of the library's calls, into
 * tables from the bench's arena, and checked with pgt_lookup and
 * pgt_get_field.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <pgtable/pgtable.h>
#include <pgtable/tlb.h>

#include "pgbench.h"

struct lib_state {
	struct arena arena;
	pgt_space_t space;
	bool built;
	pgt_tlb_t tlb;
	struct pgt_tlb_entry tlb_mem[TLB_ENTRIES];
};

/** One mapping, as a kernel would make it: reserve the leaf, then fill it in. */
static int lib_map_one(pgt_space_t *sp, pgt_vaddr_t va, unsigned shift, pgt_paddr_t pa)
{
	pgt_ref_t ref;
	int rc = pgt_insert(sp, va, shift, &ref);

	if (rc == PGT_OK)
		rc = pgt_set_field(sp, ref, PGT_FIELD_PADDR, pa);
	if (rc == PGT_OK)
		rc = pgt_set_field(sp, ref, PGT_FIELD_PROT, RW);
	return rc;
}

static void *lib_open(const struct bench_case *c)
{
	(void)c;
	return xcalloc(1, sizeof(struct lib_state));
}

static void lib_clear(void *st)
{
	struct lib_state *s = st;

	if (s->built) {
		pgt_space_destroy(&s->space);
		/* Destroy must give back every table: anything else is a leak. */
		if (s->arena.freed != s->arena.bytes)
			fprintf(stderr, "pgbench: pgt_space_destroy freed %zu of %zu table bytes\n",
				s->arena.freed, s->arena.bytes);
	}
	s->built = false;
	arena_reset(&s->arena);
}

static void lib_close(void *st)
{
	struct lib_state *s = st;

	lib_clear(s);
	arena_release(&s->arena);
	free(s);
}

/** A fresh space (its TLB is attached by lib_validate, outside the timed builds). */
static int lib_space(struct lib_state *s, struct bench_case *c)
{
	const struct pgt_mm mm = { .alloc_table = arena_alloc_table,
				   .free_table = arena_free_table,
				   .ctx = &s->arena };
	int rc = pgt_space_init(&s->space, c->arch, &mm, 0);

	if (rc != PGT_OK)
		return rc;
	s->built = true;
	c->lib_space = &s->space;
	return PGT_OK;
}

static int lib_build(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	int rc = lib_space(s, c);

	for (size_t i = 0; i < c->n && rc == PGT_OK; i++)
		rc = lib_map_one(&s->space, c->va[i], c->shift, pa_of(c, i));
	return rc;
}

static int lib_build_even(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	int rc = lib_space(s, c);

	for (size_t i = 0; i < c->n && rc == PGT_OK; i += 2)
		rc = lib_map_one(&s->space, c->va[i], c->shift, pa_of(c, i));
	return rc;
}

/** The L4 ADT's insert alone: a reserved leaf, into tables that exist. */
static int lib_insert_odd(void *st, struct bench_case *c)
{
	struct lib_state *s = st;

	for (size_t i = 1; i < c->n; i += 2) {
		pgt_ref_t ref;
		if (pgt_insert(&s->space, c->va[i], c->shift, &ref) != PGT_OK)
			return -1;
	}
	return 0;
}

/** Every odd-numbered page holds a reserved leaf of its size (no rights yet). */
static int lib_insert_odd_check(void *st, const struct bench_case *c)
{
	struct lib_state *s = st;

	for (size_t i = 1; i < c->n; i += 2) {
		pgt_ref_t ref;
		uint64_t prot = 1;
		if (pgt_lookup(&s->space, c->va[i], &ref) != PGT_OK || ref.page_shift != c->shift ||
		    pgt_get_field(&s->space, ref, PGT_FIELD_PROT, &prot) != PGT_OK || prot != 0)
			return bad_mapping("libpgtable", c, c->va[i], "not reserved after insert-into");
	}
	return 0;
}

static int lib_map_into_prepare(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	size_t per = table_run(c);
	int rc = lib_space(s, c);

	for (size_t i = 0; i < c->n && rc == PGT_OK; i += per)
		rc = lib_map_one(&s->space, c->va[i], c->shift, pa_of(c, i));
	return rc;
}

/** One pgt_map per table: its pages after the first, into the table that exists. */
static int lib_map_into(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	size_t per = table_run(c);

	for (size_t i = 0; i < c->n; i += per) {
		size_t rest = (c->n - i < per ? c->n - i : per) - 1;
		if (rest && pgt_map(&s->space, c->va[i + 1], pa_of(c, i + 1), (uint64_t)rest << c->shift, RW,
				    PGT_MAP_NOSUPER) != PGT_OK)
			return -1;
	}
	return 0;
}

static const char *lib_map_unavailable(const struct bench_case *c)
{
	(void)c;
	return pgt_map ? NULL : "pgt_map is not in this build of the library";
}

/* One call for a contiguous case (only the case's page size), else one per page. */
static int lib_map_build(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	int rc = lib_space(s, c);
	unsigned flags = c->shift == leaf_shift(c->arch, 0) ? PGT_MAP_NOSUPER : 0;
	uint64_t page = (uint64_t)1 << c->shift;

	if (rc == PGT_OK && c->va_contiguous && flags)
		return pgt_map(&s->space, c->base, pa_of(c, 0), c->n * page, RW, flags);
	for (size_t i = 0; i < c->n && rc == PGT_OK; i++)
		rc = pgt_map(&s->space, c->va[i], pa_of(c, i), page, RW, 0);
	return rc;
}

static struct lookup_result lib_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct lib_state *s = st;
	struct lookup_result r = { 0, 0 };

	(void)c;
	for (size_t i = 0; i < n; i++) {
		pgt_ref_t ref;
		if (pgt_lookup(&s->space, va[i], &ref) == PGT_OK) {
			r.sum += (uint64_t)(uintptr_t)ref.pte;
			r.found++;
		}
	}
	return r;
}

static struct lookup_result lib_translate(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct lib_state *s = st;
	struct lookup_result r = { 0, 0 };

	(void)c;
	for (size_t i = 0; i < n; i++) {
		pgt_paddr_t pa;
		if (pgt_translate(&s->space, va[i], PGT_ACC_READ, &pa, NULL) == PGT_OK) {
			r.sum += pa;
			r.found++;
		}
	}
	return r;
}

static struct lookup_result lib_tlb(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	struct lib_state *s = st;
	struct lookup_result r = { 0, 0 };

	(void)c;
	for (size_t i = 0; i < n; i++) {
		pgt_paddr_t pa;
		if (pgt_tlb_lookup(&s->tlb, va[i], &pa, NULL) == PGT_OK) {
			r.sum += pa;
			r.found++;
		}
	}
	return r;
}

/** Checks that @p va is mapped by a page of 2^shift at @p pa with RW. */
static int lib_check_one(const struct lib_state *s, const struct bench_case *c, uint64_t va, unsigned shift,
			 uint64_t pa, pgt_ref_t *ref)
{
	uint64_t got, prot;

	if (pgt_lookup(&s->space, va, ref) != PGT_OK || ref->page_shift != shift)
		return bad_mapping("libpgtable", c, va, "lookup");
	if (pgt_get_field(&s->space, *ref, PGT_FIELD_PADDR, &got) != PGT_OK || got != pa)
		return bad_mapping("libpgtable", c, va, "PADDR");
	if (pgt_get_field(&s->space, *ref, PGT_FIELD_PROT, &prot) != PGT_OK || prot != RW)
		return bad_mapping("libpgtable", c, va, "PROT");
	return 0;
}

/** Every mapping right; the checksum of one lookup pass is the sum of the hits' entry addresses. */
/*
 * Checks every mapping, and attaches an empty TLB to the space for the tlb
 * row: clearing its 4096 entries is a simulator's start-up cost, not part
 * of the build timed before (64 KiB, more than 64 1G inserts take).
 */
static int lib_validate(void *st, const struct bench_case *c, uint64_t *hit_sum)
{
	struct lib_state *s = st;
	uint64_t *pte = xmalloc(c->n * sizeof *pte);
	int rc = pgt_tlb_init(&s->tlb, &s->space, s->tlb_mem, TLB_ENTRIES, TLB_WAYS);

	for (size_t i = 0; i < c->n && rc == 0; i++) {
		pgt_ref_t ref;
		rc = lib_check_one(s, c, c->va[i], c->shift, pa_of(c, i), &ref);
		pte[i] = (uint64_t)(uintptr_t)ref.pte;
	}
	*hit_sum = 0;
	for (size_t j = 0; j < c->nhit && rc == 0; j++)
		*hit_sum += pte[c->hit_idx[j]];
	free(pte);
	return rc;
}

static int lib_churn_setup(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	int rc = lib_space(s, c);

	for (size_t i = 0; i < c->ninit && rc == PGT_OK; i++)
		rc = lib_map_one(&s->space, c->init[i].va, c->init[i].shift, c->init[i].pa);
	return rc;
}

static int lib_churn(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	int rc = 0;

	for (size_t k = 0; k < c->nops && rc == 0; k++) {
		const struct churn_op *o = &c->ops[k];
		uint64_t size = (uint64_t)1 << o->shift;
		rc = o->map ? pgt_map(&s->space, o->va, o->pa, size, RW, 0) : pgt_unmap(&s->space, o->va, size);
	}
	return rc;
}

static int lib_churn_check(void *st, const struct bench_case *c)
{
	const struct lib_state *s = st;

	for (size_t i = 0; i < c->nfinal; i++) {
		const struct churn_op *o = &c->final[i];
		pgt_ref_t ref;
		if (!o->map && pgt_lookup(&s->space, o->va, &ref) != PGT_ENOENT)
			return bad_mapping("libpgtable", c, o->va, "still mapped");
		if (o->map && lib_check_one(s, c, o->va, o->shift, o->pa, &ref) != 0)
			return -1;
	}
	return 0;
}

/** Each odd-numbered page by a one-page pgt_map, into the tables build_even made. */
static int lib_map_odd(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	uint64_t page = (uint64_t)1 << c->shift;

	for (size_t i = 1; i < c->n; i += 2)
		if (pgt_map(&s->space, c->va[i], pa_of(c, i), page, RW, 0) != PGT_OK)
			return -1;
	return 0;
}

static int lib_map_odd_check(void *st, const struct bench_case *c)
{
	const struct lib_state *s = st;

	for (size_t i = 1; i < c->n; i += 2) {
		pgt_ref_t ref;
		if (lib_check_one(s, c, c->va[i], c->shift, pa_of(c, i), &ref) != 0)
			return -1;
	}
	return 0;
}

static int lib_sparse_build(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	int rc = lib_space(s, c);

	for (size_t i = 0; i < c->nsparse && rc == PGT_OK; i++)
		rc = lib_map_one(&s->space, c->sparse[i], c->shift, pa_of(c, i));
	return rc;
}

/** One pgt_unmap per page, as a kernel unmaps what a process gives back page by page. */
static int lib_unmap(void *st, struct bench_case *c, const uint64_t *va, size_t n)
{
	struct lib_state *s = st;
	uint64_t page = (uint64_t)1 << c->shift;

	for (size_t i = 0; i < n; i++)
		if (pgt_unmap(&s->space, va[i], page) != PGT_OK)
			return -1;
	return 0;
}

/*
 * Nothing left mapped, and every table below the root given back: pgt_unmap
 * frees a table its last page leaves empty, so the unmap rows time that too.
 */
static int lib_unmap_check(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct lib_state *s = st;
	size_t root = c->arch->level[c->arch->levels - 1].table_size;

	for (size_t i = 0; i < n; i++) {
		pgt_ref_t ref;
		if (pgt_lookup(&s->space, va[i], &ref) != PGT_ENOENT)
			return bad_mapping("libpgtable", c, va[i], "still mapped after unmap");
	}
	if (s->arena.bytes - s->arena.freed > root) {
		fprintf(stderr, "pgbench: libpgtable, %s, %s: %zu table bytes held after unmapping every page\n",
			c->arch->name, c->name, s->arena.bytes - s->arena.freed);
		return -1;
	}
	return 0;
}

static const char *lib_churn_unavailable(const struct bench_case *c)
{
	(void)c;
	return pgt_map && pgt_unmap ? NULL : "pgt_map/pgt_unmap are not in this build of the library";
}

static const char *lib_unmap_unavailable(const struct bench_case *c)
{
	(void)c;
	return pgt_unmap ? NULL : "pgt_unmap is not in this build of the library";
}

static double lib_bytes(void *st, const struct bench_case *c, long long heap_delta, bool *estimated)
{
	const struct lib_state *s = st;

	(void)heap_delta;
	*estimated = false;
	return (double)s->arena.bytes / (double)c->n;
}

const struct impl lib_impl = {
	.name = "libpgtable",
	.open = lib_open,
	.close = lib_close,
	.build = lib_build,
	.map_build = lib_map_build,
	.build_even = lib_build_even,
	.map_into_prepare = lib_map_into_prepare,
	.map_into = lib_map_into,
	.insert_odd = lib_insert_odd,
	.insert_odd_check = lib_insert_odd_check,
	.map_unavailable = lib_map_unavailable,
	.map_odd = lib_map_odd,
	.map_odd_check = lib_map_odd_check,
	.sparse_build = lib_sparse_build,
	.unmap = lib_unmap,
	.unmap_check = lib_unmap_check,
	.unmap_unavailable = lib_unmap_unavailable,
	.clear = lib_clear,
	.lookup = lib_lookup,
	.translate = lib_translate,
	.tlb = lib_tlb,
	.validate = lib_validate,
	.churn_setup = lib_churn_setup,
	.churn = lib_churn,
	.churn_check = lib_churn_check,
	.churn_unavailable = lib_churn_unavailable,
	.bytes = lib_bytes,
};

/* ------------------------------------------------------------------------- */
