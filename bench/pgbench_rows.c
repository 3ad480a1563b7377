/* SPDX-License-Identifier: MIT */
/*
 * pgbench's rows that build a structure and look it up: insert,
 * insert-into, map, map-into, lookup, translate, tlb, lookup-miss, and
 * churn. Each row says which cases have it, how a pass is prepared
 * (untimed), what is timed, and how the state a pass leaves is checked.
 */
#include <stdbool.h>
#include <stddef.h>

#include "pgbench.h"

/* ------------------------------------------------------------------------- */
/* Shared pieces                                                             */
/* ------------------------------------------------------------------------- */

/** Every case but churn's. */
static bool in_mapping_case(const struct bench_case *c)
{
	return c->nops == 0;
}

static const char *always_available(const struct impl *im, const struct bench_case *c)
{
	(void)im;
	(void)c;
	return NULL;
}

/** A fresh structure: what build-like rows start from. */
static int prepare_clear(const struct impl *im, void *st, struct bench_case *c)
{
	(void)c;
	im->clear(st);
	return 0;
}

static int prepare_nothing(const struct impl *im, void *st, struct bench_case *c)
{
	(void)im;
	(void)st;
	(void)c;
	return 0;
}

/** Every mapping of the case right, and the checksum of a lookup pass. */
static bool check_validate(const struct impl *im, void *st, struct bench_case *c, uint64_t *hit_sum)
{
	return im->validate(st, c, hit_sum) == 0;
}

/** Lookups change nothing: their passes check their own results. */
static bool check_nothing(const struct impl *im, void *st, struct bench_case *c, uint64_t *hit_sum)
{
	(void)im;
	(void)st;
	(void)c;
	(void)hit_sum;
	return true;
}

static size_t ops_n(const struct bench_case *c)
{
	return c->n;
}

static size_t ops_lookups(const struct bench_case *c)
{
	return lookups_per_pass(c);
}

int lookups_right(const struct bench_case *c, lookup_fn f, void *st, uint64_t want)
{
	struct lookup_result r = { 0, 0 };

	for (unsigned k = 0; k < c->rounds; k++) {
		struct lookup_result p = f(st, c, c->hit, c->nhit);
		r.sum += p.sum;
		r.found += p.found;
	}
	return (r.found == lookups_per_pass(c) && r.sum == want * c->rounds) ? 0 : -1;
}

/* ------------------------------------------------------------------------- */
/* insert: pgt_insert + PADDR + PROT of every page into a fresh space        */
/* ------------------------------------------------------------------------- */

static int run_insert(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	(void)hit_sum;
	return im->build(st, c) == 0 ? 0 : -1;
}

const struct row row_insert = {
	.name = "insert",
	.baseline = &row_insert,
	.in_case = in_mapping_case,
	.unavailable = always_available,
	.prepare = prepare_clear,
	.run = run_insert,
	.check = check_validate,
	.ops = ops_n,
	.builds_case = true,
};

/* ------------------------------------------------------------------------- */
/* insert-into: pgt_insert alone of the odd pages into existing tables       */
/* ------------------------------------------------------------------------- */

static bool into_in_case(const struct bench_case *c)
{
	return in_mapping_case(c) && c->n >= 2;
}

static const char *into_unavailable(const struct impl *im, const struct bench_case *c)
{
	(void)c;
	return im->insert_odd ? NULL : "";
}

static int into_prepare(const struct impl *im, void *st, struct bench_case *c)
{
	im->clear(st);
	return im->build_even(st, c);
}

static int run_into(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	(void)hit_sum;
	return im->insert_odd(st, c) == 0 ? 0 : -1;
}

/* Then the whole case again, for the rows that look up what is there. */
static bool into_check(const struct impl *im, void *st, struct bench_case *c, uint64_t *hit_sum)
{
	if (im->insert_odd_check(st, c) != 0)
		return false;
	im->clear(st);
	return im->build(st, c) == 0 && im->validate(st, c, hit_sum) == 0;
}

static size_t ops_half(const struct bench_case *c)
{
	return c->n / 2;
}

const struct row row_insert_into = {
	.name = "insert-into",
	.baseline = &row_insert_into,
	.in_case = into_in_case,
	.unavailable = into_unavailable,
	.prepare = into_prepare,
	.run = run_into,
	.check = into_check,
	.ops = ops_half,
};

/* ------------------------------------------------------------------------- */
/* map: pgt_map into a fresh space                                           */
/* ------------------------------------------------------------------------- */

static const char *map_unavailable(const struct impl *im, const struct bench_case *c)
{
	if (!im->map_build)
		return "";
	return im->map_unavailable ? im->map_unavailable(c) : NULL;
}

static int run_map(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	(void)hit_sum;
	return im->map_build(st, c) == 0 ? 0 : -1;
}

const struct row row_map = {
	.name = "map",
	.baseline = &row_insert,
	.in_case = in_mapping_case,
	.unavailable = map_unavailable,
	.prepare = prepare_clear,
	.run = run_map,
	.check = check_validate,
	.ops = ops_n,
	.builds_case = true,
};

/* ------------------------------------------------------------------------- */
/* map-into: pgt_map of the rest of each leaf table whose first page is there */
/* ------------------------------------------------------------------------- */

static bool map_into_in_case(const struct bench_case *c)
{
	return in_mapping_case(c) && table_run(c);
}

static const char *map_into_unavailable(const struct impl *im, const struct bench_case *c)
{
	if (!im->map_into)
		return "";
	return im->map_unavailable ? im->map_unavailable(c) : NULL;
}

static int map_into_prepare(const struct impl *im, void *st, struct bench_case *c)
{
	im->clear(st);
	return im->map_into_prepare(st, c);
}

static int run_map_into(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	(void)hit_sum;
	return im->map_into(st, c) == 0 ? 0 : -1;
}

static size_t ops_map_into(const struct bench_case *c)
{
	return c->n - (c->n + table_run(c) - 1) / table_run(c);
}

const struct row row_map_into = {
	.name = "map-into",
	.baseline = &row_map_into,
	.in_case = map_into_in_case,
	.unavailable = map_into_unavailable,
	.prepare = map_into_prepare,
	.run = run_map_into,
	.check = check_validate,
	.ops = ops_map_into,
};

/* ------------------------------------------------------------------------- */
/* lookup, translate, tlb: the hit sequence; lookup-miss: unmapped pages     */
/* ------------------------------------------------------------------------- */

static int run_lookup(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	return lookups_right(c, im->lookup, st, hit_sum);
}

const struct row row_lookup = {
	.name = "lookup",
	.baseline = &row_lookup,
	.in_case = in_mapping_case,
	.unavailable = always_available,
	.prepare = prepare_nothing,
	.run = run_lookup,
	.check = check_nothing,
	.ops = ops_lookups,
};

static const char *translate_unavailable(const struct impl *im, const struct bench_case *c)
{
	(void)c;
	if (!im->translate)
		return "";
	return pgt_translate ? NULL : "pgt_translate is not in this build of the library";
}

static int run_translate(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	(void)hit_sum;
	return lookups_right(c, im->translate, st, c->hit_pa_osum);
}

const struct row row_translate = {
	.name = "translate",
	.baseline = &row_lookup,
	.in_case = in_mapping_case,
	.unavailable = translate_unavailable,
	.prepare = prepare_nothing,
	.run = run_translate,
	.check = check_nothing,
	.ops = ops_lookups,
};

static const char *tlb_unavailable(const struct impl *im, const struct bench_case *c)
{
	(void)c;
	return im->tlb ? NULL : "";
}

static int run_tlb(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	(void)hit_sum;
	return lookups_right(c, im->tlb, st, c->hit_pa_osum);
}

const struct row row_tlb = {
	.name = "tlb",
	.baseline = &row_lookup,
	.in_case = in_mapping_case,
	.unavailable = tlb_unavailable,
	.prepare = prepare_nothing,
	.run = run_tlb,
	.check = check_nothing,
	.ops = ops_lookups,
};

static bool miss_in_case(const struct bench_case *c)
{
	return in_mapping_case(c) && c->nmiss;
}

static int run_miss(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	(void)hit_sum;
	return im->lookup(st, c, c->miss, c->nmiss).found == 0 ? 0 : -1;
}

static size_t ops_miss(const struct bench_case *c)
{
	return c->nmiss;
}

const struct row row_lookup_miss = {
	.name = "lookup-miss",
	.baseline = &row_lookup_miss,
	.in_case = miss_in_case,
	.unavailable = always_available,
	.prepare = prepare_nothing,
	.run = run_miss,
	.check = check_nothing,
	.ops = ops_miss,
};

/* ------------------------------------------------------------------------- */
/* churn: random map and unmap at 50% occupancy                              */
/* ------------------------------------------------------------------------- */

static bool churn_in_case(const struct bench_case *c)
{
	return c->nops != 0;
}

static const char *churn_unavailable(const struct impl *im, const struct bench_case *c)
{
	if (!im->churn)
		return "no delete operation";
	return im->churn_unavailable ? im->churn_unavailable(c) : NULL;
}

static int churn_prepare(const struct impl *im, void *st, struct bench_case *c)
{
	im->clear(st);
	return im->churn_setup(st, c);
}

static int run_churn(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	(void)hit_sum;
	return im->churn(st, c) == 0 ? 0 : -1;
}

static bool churn_check(const struct impl *im, void *st, struct bench_case *c, uint64_t *hit_sum)
{
	(void)hit_sum;
	return im->churn_check(st, c) == 0;
}

static size_t ops_churn(const struct bench_case *c)
{
	return c->nops;
}

const struct row row_churn = {
	.name = "churn",
	.baseline = &row_churn,
	.in_case = churn_in_case,
	.unavailable = churn_unavailable,
	.prepare = churn_prepare,
	.run = run_churn,
	.check = churn_check,
	.ops = ops_churn,
};
