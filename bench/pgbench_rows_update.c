/* SPDX-License-Identifier: MIT */
/*
 * pgbench's rows that change one page at a time in a structure that exists:
 *  - map-1: a one-page pgt_map of each odd-numbered page into the tables the
 *    even-numbered ones made (4K pages in seq-4k and hot-4k, 2M in huge-2m),
 *    compared with the baselines' insert-into;
 *  - unmap: every page of the case removed one call at a time, in order
 *    (seq-4k, hot-4k: each 512th call empties a table);
 *  - unmap-sparse: one page in each of many leaf tables, removed one call at
 *    a time, so that every call leaves its table empty.
 * Each check reads the state the timed pass left, so a pass that did nothing
 * fails the run.
 */
#include <stdbool.h>
#include <stddef.h>

#include "pgbench.h"

/* ------------------------------------------------------------------------- */
/* map-1                                                                     */
/* ------------------------------------------------------------------------- */

/*
 * Contiguous cases of the smallest or the next page size (seq-4k, hot-4k,
 * huge-2m). On rand-4k the map row already times one pgt_map per page.
 */
static bool map_1_in_case(const struct bench_case *c)
{
	return c->nops == 0 && c->n >= 2 && c->va_contiguous &&
	       (c->shift == leaf_shift(c->arch, 0) || c->shift == leaf_shift(c->arch, 1));
}

static const char *map_1_unavailable(const struct impl *im, const struct bench_case *c)
{
	if (!im->map_odd)
		return "";
	return im->map_unavailable ? im->map_unavailable(c) : NULL;
}

static int map_1_prepare(const struct impl *im, void *st, struct bench_case *c)
{
	im->clear(st);
	return im->build_even(st, c);
}

static int run_map_1(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	(void)hit_sum;
	return im->map_odd(st, c) == 0 ? 0 : -1;
}

static bool map_1_check(const struct impl *im, void *st, struct bench_case *c, uint64_t *hit_sum)
{
	(void)hit_sum;
	return im->map_odd_check(st, c) == 0;
}

static size_t ops_half(const struct bench_case *c)
{
	return c->n / 2;
}

const struct row row_map_1 = {
	.name = "map-1",
	.baseline = &row_insert_into,
	.in_case = map_1_in_case,
	.unavailable = map_1_unavailable,
	.prepare = map_1_prepare,
	.run = run_map_1,
	.check = map_1_check,
	.ops = ops_half,
};

/* ------------------------------------------------------------------------- */
/* unmap, unmap-sparse                                                       */
/* ------------------------------------------------------------------------- */

/* oa has no delete: its churn cell says so already, no second note. */
static const char *unmap_unavailable(const struct impl *im, const struct bench_case *c)
{
	if (!im->unmap)
		return "";
	return im->unmap_unavailable ? im->unmap_unavailable(c) : NULL;
}

/*
 * Contiguous cases of the smallest pages (seq-4k, hot-4k): a sequential
 * unmap. Random single unmaps are what unmap-sparse times (each table
 * holding one page); a rand-4k row would rebuild 64 GiB of scattered
 * tables before every pass, longer than the default run can afford.
 */
static bool unmap_in_case(const struct bench_case *c)
{
	return c->nops == 0 && c->va_contiguous && c->shift == leaf_shift(c->arch, 0);
}

static int unmap_prepare(const struct impl *im, void *st, struct bench_case *c)
{
	im->clear(st);
	return im->build(st, c);
}

static int run_unmap(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	(void)hit_sum;
	return im->unmap(st, c, c->va, c->n) == 0 ? 0 : -1;
}

static bool unmap_check(const struct impl *im, void *st, struct bench_case *c, uint64_t *hit_sum)
{
	(void)hit_sum;
	return im->unmap_check(st, c, c->va, c->n) == 0;
}

static size_t ops_n(const struct bench_case *c)
{
	return c->n;
}

const struct row row_unmap = {
	.name = "unmap",
	.baseline = &row_unmap,
	.in_case = unmap_in_case,
	.unavailable = unmap_unavailable,
	.prepare = unmap_prepare,
	.run = run_unmap,
	.check = unmap_check,
	.ops = ops_n,
};

static bool sparse_in_case(const struct bench_case *c)
{
	return c->nops == 0 && c->nsparse != 0;
}

static int sparse_prepare(const struct impl *im, void *st, struct bench_case *c)
{
	im->clear(st);
	return im->sparse_build(st, c);
}

static int run_unmap_sparse(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum)
{
	(void)hit_sum;
	return im->unmap(st, c, c->sparse, c->nsparse) == 0 ? 0 : -1;
}

static bool sparse_check(const struct impl *im, void *st, struct bench_case *c, uint64_t *hit_sum)
{
	(void)hit_sum;
	return im->unmap_check(st, c, c->sparse, c->nsparse) == 0;
}

static size_t ops_sparse(const struct bench_case *c)
{
	return c->nsparse;
}

const struct row row_unmap_sparse = {
	.name = "unmap-sparse",
	.baseline = &row_unmap_sparse,
	.in_case = sparse_in_case,
	.unavailable = unmap_unavailable,
	.prepare = sparse_prepare,
	.run = run_unmap_sparse,
	.check = sparse_check,
	.ops = ops_sparse,
};
