/* SPDX-License-Identifier: MIT */
/*
 * pgbench's "fast" column: the inline walks of <pgtable/fast.h>
 * (pgt_fast_lookup, pgt_fast_translate) over a space libpgtable builds.
 * Building, checking and clearing are libpgtable's own (lib_impl), so the
 * column's update rows repeat libpgtable's; its lookup and translate rows
 * are the inline walks, compiled into the batch loops below. fast / limit
 * is what the inline walk costs over the hand-written one.
 */
#include <pgtable/fast.h>
#include <pgtable/pgtable.h>

#include "pgbench.h"

extern const struct impl lib_impl; /* pgbench_lib.c */

static void *fast_open(const struct bench_case *c)
{
	return lib_impl.open(c);
}

static void fast_close(void *st)
{
	lib_impl.close(st);
}

static int fast_build(void *st, struct bench_case *c)
{
	return lib_impl.build(st, c);
}

static void fast_clear(void *st)
{
	lib_impl.clear(st);
}

static int fast_validate(void *st, const struct bench_case *c, uint64_t *hit_sum)
{
	return lib_impl.validate(st, c, hit_sum);
}

static double fast_bytes(void *st, const struct bench_case *c, long long heap_delta, bool *estimated)
{
	return lib_impl.bytes(st, c, heap_delta, estimated);
}

/*
 * The batches walk a local copy of the struct, as <pgtable/fast.h> advises:
 * the caller's was given to pgt_fast_init, so the compiler must read its
 * fields again after every acquire load of an entry; the copy's stay in
 * registers, as the limit's root does.
 */

/** The lookup batch for the constant @p kind and @p flags: pgt_fast_lookup with the switch taken out. */
PGT_FAST_INLINE struct lookup_result lookup_batch(const struct pgt_fast *fp, unsigned kind, unsigned flags,
						  const uint64_t *va, size_t n)
{
	const struct pgt_fast f = *fp;
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		pgt_ref_t ref;
		if (pgt_fast_lookup_with(&f, kind, flags, va[i], &ref) == PGT_OK) {
			r.sum += (uint64_t)(uintptr_t)ref.pte;
			r.found++;
		}
	}
	return r;
}

/** The translate batch for the constant @p kind and @p flags. */
PGT_FAST_INLINE struct lookup_result translate_batch(const struct pgt_fast *fp, unsigned kind, unsigned flags,
						     const uint64_t *va, size_t n)
{
	const struct pgt_fast f = *fp;
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		pgt_paddr_t pa;
		if (pgt_fast_translate_with(&f, kind, flags, va[i], PGT_ACC_READ, &pa) == PGT_OK) {
			r.sum += pa;
			r.found++;
		}
	}
	return r;
}

/*
 * The batches fill a struct pgt_fast from the space the last build made
 * (c->lib_space: this column's own, as lib_impl's build records it), and
 * choose the kind and the flags once, around the loop, as <pgtable/fast.h>
 * shows a loop should: the switch of pgt_fast_lookup inside it would cost
 * a jump table per lookup, which the compiler keeps in the loop. This
 * column's spaces reach their tables at their physical addresses
 * (PGT_FAST_IDENTITY), as the limit assumes.
 */
static struct lookup_result fast_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	struct pgt_fast f;

	(void)st;
	if (pgt_fast_init(&f, c->lib_space) != PGT_OK)
		return (struct lookup_result){ 0, 0 };
	switch (f.kind) {
#define LOOKUP_CASE(k)                                                                                \
	case k:                                                                                       \
		return (f.flags & PGT_FAST_IDENTITY) ? lookup_batch(&f, k, PGT_FAST_IDENTITY, va, n) \
						     : lookup_batch(&f, k, 0, va, n);
		PGT_FAST_FOR_EACH_KIND(LOOKUP_CASE)
#undef LOOKUP_CASE
	}
	return (struct lookup_result){ 0, 0 };
}

static struct lookup_result fast_translate(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	struct pgt_fast f;

	(void)st;
	if (pgt_fast_init(&f, c->lib_space) != PGT_OK)
		return (struct lookup_result){ 0, 0 };
	switch (f.kind) {
#define TRANSLATE_CASE(k)                                                                                   \
	case k:                                                                                             \
		return (f.flags & PGT_FAST_IDENTITY) ? translate_batch(&f, k, PGT_FAST_IDENTITY, va, n) \
						     : translate_batch(&f, k, 0, va, n);
		PGT_FAST_FOR_EACH_KIND(TRANSLATE_CASE)
#undef TRANSLATE_CASE
	}
	return (struct lookup_result){ 0, 0 };
}

const struct impl fast_impl = {
	.name = "fast",
	.open = fast_open,
	.close = fast_close,
	.build = fast_build,
	.clear = fast_clear,
	.lookup = fast_lookup,
	.translate = fast_translate,
	.validate = fast_validate,
	.bytes = fast_bytes,
};
