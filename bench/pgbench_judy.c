/* SPDX-License-Identifier: MIT */
/*
 * pgbench's JudyL column (libJudy): a map from virtual page number to
 * physical address.
 */
#include <stdlib.h>

#ifdef HAVE_JUDY
#include <Judy.h>
#endif

#include "pgbench.h"

#ifdef HAVE_JUDY
struct judy_state {
	Pvoid_t a;
};

static const char *judy_unavailable(const struct bench_case *c)
{
	(void)c;
	return sizeof(Word_t) < sizeof(uint64_t) ? "Judy words too narrow for physical addresses" : NULL;
}

static void *judy_open(const struct bench_case *c)
{
	(void)c;
	return xcalloc(1, sizeof(struct judy_state));
}

static void judy_clear(void *st)
{
	struct judy_state *s = st;

	JudyLFreeArray(&s->a, PJE0);
	s->a = NULL;
}

static void judy_close(void *st)
{
	judy_clear(st);
	free(st);
}

static int judy_build(void *st, struct bench_case *c)
{
	struct judy_state *s = st;

	for (size_t i = 0; i < c->n; i++) {
		PPvoid_t v = JudyLIns(&s->a, (Word_t)vpn_of(c, c->va[i]), PJE0);
		if (!v || v == PPJERR)
			return -1;
		*(PWord_t)v = (Word_t)pa_of(c, i);
	}
	return 0;
}

/** The value stored for @p key, or NULL. */
static const Word_t *judy_get(const struct judy_state *s, uint64_t key)
{
	PPvoid_t v = JudyLGet(s->a, (Word_t)key, PJE0);

	return (v && v != PPJERR) ? (const Word_t *)v : NULL;
}

static struct lookup_result judy_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct judy_state *s = st;
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		const Word_t *v = judy_get(s, vpn_of(c, va[i]));
		if (v) {
			r.sum += (uint64_t)*v;
			r.found++;
		}
	}
	return r;
}

static int judy_validate(void *st, const struct bench_case *c, uint64_t *hit_sum)
{
	const struct judy_state *s = st;

	*hit_sum = c->hit_pa_sum;
	for (size_t i = 0; i < c->n; i++) {
		const Word_t *v = judy_get(s, vpn_of(c, c->va[i]));
		if (check_vpn_value("JudyL", c, i, v != NULL, v ? (uint64_t)*v : 0))
			return -1;
	}
	return 0;
}

static int judy_churn_setup(void *st, struct bench_case *c)
{
	struct judy_state *s = st;

	for (size_t i = 0; i < c->ninit; i++) {
		PPvoid_t v = JudyLIns(&s->a, (Word_t)vpn_of(c, c->init[i].va), PJE0);
		if (!v || v == PPJERR)
			return -1;
		*(PWord_t)v = (Word_t)c->init[i].pa;
	}
	return 0;
}

static int judy_churn(void *st, struct bench_case *c)
{
	struct judy_state *s = st;

	for (size_t k = 0; k < c->nops; k++) {
		Word_t key = (Word_t)vpn_of(c, c->ops[k].va);
		if (c->ops[k].map) {
			PPvoid_t v = JudyLIns(&s->a, key, PJE0);
			if (!v || v == PPJERR)
				return -1;
			*(PWord_t)v = (Word_t)c->ops[k].pa;
		} else if (JudyLDel(&s->a, key, PJE0) != 1) {
			return -1;
		}
	}
	return 0;
}

static int judy_churn_check(void *st, const struct bench_case *c)
{
	const struct judy_state *s = st;

	for (size_t i = 0; i < c->nfinal; i++) {
		const Word_t *v = judy_get(s, vpn_of(c, c->final[i].va));
		if (c->final[i].map ? !v || (uint64_t)*v != c->final[i].pa : v != NULL)
			return bad_mapping("JudyL", c, c->final[i].va, "churn state");
	}
	return 0;
}

static int judy_sparse_build(void *st, struct bench_case *c)
{
	struct judy_state *s = st;

	for (size_t i = 0; i < c->nsparse; i++) {
		PPvoid_t v = JudyLIns(&s->a, (Word_t)vpn_of(c, c->sparse[i]), PJE0);
		if (!v || v == PPJERR)
			return -1;
		*(PWord_t)v = (Word_t)pa_of(c, i);
	}
	return 0;
}

static int judy_unmap(void *st, struct bench_case *c, const uint64_t *va, size_t n)
{
	struct judy_state *s = st;

	for (size_t i = 0; i < n; i++)
		if (JudyLDel(&s->a, (Word_t)vpn_of(c, va[i]), PJE0) != 1)
			return -1;
	return 0;
}

static int judy_unmap_check(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct judy_state *s = st;

	for (size_t i = 0; i < n; i++)
		if (judy_get(s, vpn_of(c, va[i])))
			return bad_mapping("JudyL", c, va[i], "still present after delete");
	return 0;
}

static double judy_bytes(void *st, const struct bench_case *c, long long heap_delta, bool *estimated)
{
	const struct judy_state *s = st;

	(void)heap_delta;
	*estimated = false;
	return (double)JudyLMemUsed(s->a) / (double)c->n;
}

const struct impl judy_impl = {
	.name = "JudyL",
	.unavailable = judy_unavailable,
	.open = judy_open,
	.close = judy_close,
	.build = judy_build,
	.clear = judy_clear,
	.lookup = judy_lookup,
	.validate = judy_validate,
	.churn_setup = judy_churn_setup,
	.churn = judy_churn,
	.churn_check = judy_churn_check,
	.sparse_build = judy_sparse_build,
	.unmap = judy_unmap,
	.unmap_check = judy_unmap_check,
	.bytes = judy_bytes,
};
#else
static const char *judy_unavailable(const struct bench_case *c)
{
	(void)c;
	return "built without Judy";
}

const struct impl judy_impl = { .name = "JudyL", .unavailable = judy_unavailable };
#endif
