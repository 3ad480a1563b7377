/* SPDX-License-Identifier: MIT */
/*
 * pgbench's open-addr column: a tuned open-addressing hash (power-of-two
 * table, linear probing, multiplicative hash) from virtual page number to
 * physical address. It has no delete: churn and unmap rows are n/a.
 */
#define _GNU_SOURCE /* posix_memalign */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgbench.h"

/* Key and value side by side: a hit costs one cache line. */
struct oa_slot {
	uint64_t key;
	uint64_t val;
};

/* No page number is all ones (pages are at least 4K). */
#define OA_EMPTY UINT64_MAX

struct oa_state {
	struct oa_slot *slot;
	size_t mask;   /**< capacity - 1; capacity is a power of two >= 2n */
	unsigned bits; /**< log2 of the capacity */
};

/** Fibonacci hashing: the top bits of key * 2^64/phi spread consecutive keys. */
static inline size_t oa_home(const struct oa_state *s, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - s->bits));
}

static inline void oa_put(struct oa_state *s, uint64_t key, uint64_t val)
{
	size_t i = oa_home(s, key);

	while (s->slot[i].key != OA_EMPTY && s->slot[i].key != key)
		i = (i + 1) & s->mask;
	s->slot[i] = (struct oa_slot){ key, val };
}

/** The slot holding @p key, or NULL. Terminates: the table is at most half full. */
static inline const struct oa_slot *oa_get(const struct oa_state *s, uint64_t key)
{
	for (size_t i = oa_home(s, key);; i = (i + 1) & s->mask) {
		if (s->slot[i].key == key)
			return &s->slot[i];
		if (s->slot[i].key == OA_EMPTY)
			return NULL;
	}
}

/* Sized once for the case (load factor <= 1/2), as a tuned user would. */
static void *oa_open(const struct bench_case *c)
{
	struct oa_state *s = xcalloc(1, sizeof *s);
	void *p;

	s->bits = 1;
	while (((size_t)1 << s->bits) < 2 * c->n)
		s->bits++;
	s->mask = ((size_t)1 << s->bits) - 1;
	if (posix_memalign(&p, 64, (s->mask + 1) * sizeof *s->slot) != 0) {
		fprintf(stderr, "pgbench: out of memory (open-addr table)\n");
		exit(2);
	}
	s->slot = p;
	return s;
}

static void oa_close(void *st)
{
	struct oa_state *s = st;

	free(s->slot);
	free(s);
}

/* Clearing is part of build (timed), as libpgtable clears its new tables. */
static void oa_clear(void *st)
{
	(void)st;
}

static int oa_build(void *st, struct bench_case *c)
{
	struct oa_state *s = st;

	memset(s->slot, 0xff, (s->mask + 1) * sizeof *s->slot); /* every key OA_EMPTY */
	for (size_t i = 0; i < c->n; i++)
		oa_put(s, vpn_of(c, c->va[i]), pa_of(c, i));
	return 0;
}

static struct lookup_result oa_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct oa_state *s = st;
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		const struct oa_slot *e = oa_get(s, vpn_of(c, va[i]));
		if (e) {
			r.sum += e->val;
			r.found++;
		}
	}
	return r;
}

static int oa_validate(void *st, const struct bench_case *c, uint64_t *hit_sum)
{
	const struct oa_state *s = st;

	*hit_sum = c->hit_pa_sum;
	for (size_t i = 0; i < c->n; i++) {
		const struct oa_slot *e = oa_get(s, vpn_of(c, c->va[i]));
		if (check_vpn_value("open-addr", c, i, e != NULL, e ? e->val : 0))
			return -1;
	}
	return 0;
}

static double oa_bytes(void *st, const struct bench_case *c, long long heap_delta, bool *estimated)
{
	const struct oa_state *s = st;

	(void)heap_delta;
	*estimated = false;
	return (double)((s->mask + 1) * sizeof *s->slot) / (double)c->n;
}

const struct impl oa_impl = {
	.name = "open-addr",
	.open = oa_open,
	.close = oa_close,
	.build = oa_build,
	.clear = oa_clear,
	.lookup = oa_lookup,
	.validate = oa_validate,
	.bytes = oa_bytes,
};
