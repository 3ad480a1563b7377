/* SPDX-License-Identifier: MIT */
/*
 * pgbench's GHashTable column (glib): a map from virtual page number to
 * physical address, page numbers stored in the key pointer.
 */
#include <stdlib.h>

#ifdef HAVE_GLIB
#include <glib.h>
#endif

#include "pgbench.h"

#ifdef HAVE_GLIB
struct ghash_state {
	GHashTable *h;
};

static const char *ghash_unavailable(const struct bench_case *c)
{
	(void)c;
	/* Page numbers are stored directly in the key pointer. */
	return sizeof(gpointer) < sizeof(uint64_t) ? "pointers too narrow for page numbers" : NULL;
}

static void *ghash_open(const struct bench_case *c)
{
	(void)c;
	return xcalloc(1, sizeof(struct ghash_state));
}

static void ghash_clear(void *st)
{
	struct ghash_state *s = st;

	if (s->h)
		g_hash_table_destroy(s->h);
	s->h = NULL;
}

static void ghash_close(void *st)
{
	ghash_clear(st);
	free(st);
}

/* g_direct_hash: the fastest GHashTable setup for integer keys (no key allocation). */
static int ghash_build(void *st, struct bench_case *c)
{
	struct ghash_state *s = st;

	s->h = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (size_t i = 0; i < c->n; i++)
		g_hash_table_insert(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, c->va[i])),
				    GSIZE_TO_POINTER((gsize)pa_of(c, i)));
	return 0;
}

static struct lookup_result ghash_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct ghash_state *s = st;
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		gpointer v = g_hash_table_lookup(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, va[i])));
		if (v) { /* values are physical addresses >= PA_BASE, never NULL */
			r.sum += (uint64_t)GPOINTER_TO_SIZE(v);
			r.found++;
		}
	}
	return r;
}

static int ghash_validate(void *st, const struct bench_case *c, uint64_t *hit_sum)
{
	const struct ghash_state *s = st;

	*hit_sum = c->hit_pa_sum;
	if (g_hash_table_size(s->h) != c->n)
		return bad_mapping("GHashTable", c, 0, "size");
	for (size_t i = 0; i < c->n; i++) {
		gpointer v = g_hash_table_lookup(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, c->va[i])));
		if (check_vpn_value("GHashTable", c, i, v != NULL, (uint64_t)GPOINTER_TO_SIZE(v)))
			return -1;
	}
	return 0;
}

static int ghash_churn_setup(void *st, struct bench_case *c)
{
	struct ghash_state *s = st;

	s->h = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (size_t i = 0; i < c->ninit; i++)
		g_hash_table_insert(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, c->init[i].va)),
				    GSIZE_TO_POINTER((gsize)c->init[i].pa));
	return 0;
}

static int ghash_churn(void *st, struct bench_case *c)
{
	struct ghash_state *s = st;

	for (size_t k = 0; k < c->nops; k++) {
		gpointer key = GSIZE_TO_POINTER((gsize)vpn_of(c, c->ops[k].va));
		if (c->ops[k].map)
			g_hash_table_insert(s->h, key, GSIZE_TO_POINTER((gsize)c->ops[k].pa));
		else if (!g_hash_table_remove(s->h, key))
			return -1;
	}
	return 0;
}

static int ghash_churn_check(void *st, const struct bench_case *c)
{
	const struct ghash_state *s = st;

	for (size_t i = 0; i < c->nfinal; i++) {
		gpointer v = g_hash_table_lookup(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, c->final[i].va)));
		if (c->final[i].map ? (uint64_t)GPOINTER_TO_SIZE(v) != c->final[i].pa : v != NULL)
			return bad_mapping("GHashTable", c, c->final[i].va, "churn state");
	}
	return 0;
}

static int ghash_sparse_build(void *st, struct bench_case *c)
{
	struct ghash_state *s = st;

	s->h = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (size_t i = 0; i < c->nsparse; i++)
		g_hash_table_insert(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, c->sparse[i])),
				    GSIZE_TO_POINTER((gsize)pa_of(c, i)));
	return 0;
}

static int ghash_unmap(void *st, struct bench_case *c, const uint64_t *va, size_t n)
{
	struct ghash_state *s = st;

	for (size_t i = 0; i < n; i++)
		if (!g_hash_table_remove(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, va[i]))))
			return -1;
	return 0;
}

static int ghash_unmap_check(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct ghash_state *s = st;

	for (size_t i = 0; i < n; i++)
		if (g_hash_table_lookup(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, va[i]))))
			return bad_mapping("GHashTable", c, va[i], "still present after remove");
	return 0;
}

static double ghash_bytes(void *st, const struct bench_case *c, long long heap_delta, bool *estimated)
{
	(void)st;
	*estimated = true; /* the heap's growth, allocator overhead included */
	return heap_delta < 0 ? -1.0 : (double)heap_delta / (double)c->n;
}

const struct impl ghash_impl = {
	.name = "GHashTable",
	.unavailable = ghash_unavailable,
	.open = ghash_open,
	.close = ghash_close,
	.build = ghash_build,
	.clear = ghash_clear,
	.lookup = ghash_lookup,
	.validate = ghash_validate,
	.churn_setup = ghash_churn_setup,
	.churn = ghash_churn,
	.churn_check = ghash_churn_check,
	.sparse_build = ghash_sparse_build,
	.unmap = ghash_unmap,
	.unmap_check = ghash_unmap_check,
	.bytes = ghash_bytes,
};
#else
static const char *ghash_unavailable(const struct bench_case *c)
{
	(void)c;
	return "built without glib";
}

const struct impl ghash_impl = { .name = "GHashTable", .unavailable = ghash_unavailable };
#endif
