/*
 * Check suite for the walks compiled per tree shape (lib/shape.c): on every
 * shipped descriptor, reached through the p2v offset and through the hook,
 * in both halves of the address range, pgt_lookup and pgt_insert must give
 * exactly what a plain walk by the descriptor's masks gives, on random trees
 * mixing every page size, valid and reserved leaves.
 *
 * Covers: hits at every level and byte offset, misses at every level, the
 * first and last address of each range and the addresses just outside it
 * (PGT_EINVAL), a NULL out pointer, a p2v hook returning NULL part way down
 * (PGT_EINVAL), a copy of a shipped descriptor (same walk, found by shape,
 * not by address), and a descriptor whose table masks differ between levels
 * (the generic walk).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/** The reference: a walk by the descriptor's masks, one level at a time. */
static int ref_lookup(const struct pgt_arch *a, const struct test_mm *t, pgt_paddr_t root, pgt_vaddr_t va,
		      pgt_ref_t *out)
{
	pgt_pte_t *table = test_mm_p2v(t, root);

	for (unsigned l = a->levels; l-- > 0;) {
		const struct pgt_level *L = &a->level[l];
		pgt_pte_t *p = table + ((va >> L->shift) & ((1ull << L->bits) - 1));
		pgt_pte_t e = *p;

		if (l > 0 && (e & L->type_mask) == L->table_type) {
			table = test_mm_p2v(t, e & L->table_oa);
			continue;
		}
		bool leaf = (e & L->type_mask) == L->leaf_type || (!(e & L->valid) && (e & L->reserved));
		if (!L->leaf_ok || !leaf)
			return PGT_ENOENT;
		*out = (pgt_ref_t){ .pte = p, .level = l, .page_shift = L->shift };
		return PGT_OK;
	}
	return PGT_ENOENT;
}

/** One space under test. */
struct fx {
	struct pgt_arch copy; /**< a copy of the descriptor, when testing copies */
	const struct pgt_arch *a;
	struct test_mm t;
	pgt_space_t sp;
	unsigned flags;
	pgt_vaddr_t lo, hi; /**< first and last address of the range under test */
	char who[96];
};

static void fx_open(struct fx *f, const struct pgt_arch *a, enum test_mm_mode m, unsigned flags, bool copy)
{
	f->copy = *a;
	f->a = copy ? &f->copy : a;
	f->flags = flags;
	snprintf(f->who, sizeof f->who, "%s%s %s%s", a->name, copy ? " (copy)" : "",
		 m == TEST_MM_HOOK ? "hook" : "offset", (flags & PGT_SPACE_UPPER) ? " upper" : "");
	test_mm_init(&f->t, m);
	ck_assert_int_eq(pgt_space_init(&f->sp, f->a, &f->t.mm, flags), PGT_OK);
	f->lo = test_va_bottom(a, flags);
	f->hi = test_va_top(a, flags);
	if (a->canon == PGT_CANON_SIGN_EXTEND)
		f->hi = (1ull << (a->va_bits - 1)) - 1; /* the low half; callers move to the high one */
}

static void fx_close(struct fx *f)
{
	pgt_space_destroy(&f->sp);
	ck_assert_msg(test_mm_outstanding(&f->t) == 0, "%s: tables leaked", f->who);
	test_mm_fini(&f->t);
}

/** Compares pgt_lookup with the reference at @p va. */
static void same_lookup(const struct fx *f, pgt_vaddr_t va)
{
	pgt_ref_t got = { 0 }, want = { 0 };
	int rc = pgt_lookup(&f->sp, va, &got);
	int ref = ref_lookup(f->a, &f->t, pgt_space_root(&f->sp), va, &want);

	ck_assert_msg(rc == ref, "%s: va 0x%llx: lookup %d, reference %d", f->who, (unsigned long long)va, rc,
		      ref);
	if (rc == PGT_OK) {
		ck_assert_msg(got.pte == want.pte && got.level == want.level &&
				      got.page_shift == want.page_shift,
			      "%s: va 0x%llx: ref differs", f->who, (unsigned long long)va);
		ck_assert_int_eq(pgt_lookup(&f->sp, va, NULL), PGT_OK);
	}
}

/** A random page-aligned address of size 2^shift in one of a few clusters of the range. */
static pgt_vaddr_t random_page(const struct fx *f, uint64_t *rng, unsigned shift)
{
	uint64_t span = f->hi - f->lo; /* last offset */
	unsigned cluster = (unsigned)(test_rand(rng) % 4);
	uint64_t base = cluster == 0 ? 0 : cluster == 3 ? span - (span >> 8) : (span / 3) * cluster;
	uint64_t off = base + (test_rand(rng) % ((span >> 8) + 1));

	return (f->lo + off) & ~((1ull << shift) - 1);
}

/** A leaf level of the descriptor, at random. */
static unsigned random_leaf_shift(const struct pgt_arch *a, uint64_t *rng)
{
	for (;;) {
		unsigned l = (unsigned)(test_rand(rng) % a->levels);
		if (a->level[l].leaf_ok)
			return a->level[l].shift;
	}
}

/** Fills the space with random pages of every size, some valid, some reserved. */
static void fill_random(struct fx *f, uint64_t *rng, unsigned count, pgt_vaddr_t *pages)
{
	for (unsigned i = 0; i < count; i++) {
		unsigned shift = random_leaf_shift(f->a, rng);
		pgt_vaddr_t va = random_page(f, rng, shift);
		pgt_ref_t ref;
		int rc = pgt_insert(&f->sp, va, shift, &ref);

		pages[i] = va;
		ck_assert_msg(rc == PGT_OK || rc == PGT_EXISTS || rc == PGT_ECONFLICT, "%s: insert %d",
			      f->who, rc);
		if (rc == PGT_OK && (test_rand(rng) & 1))
			ck_assert_int_eq(pgt_set_field(&f->sp, ref, PGT_FIELD_PROT, PGT_PROT_READ), PGT_OK);
	}
}

/** Random trees: every lookup agrees with the reference. */
static void check_random(const struct pgt_arch *a, enum test_mm_mode m, unsigned flags, bool copy)
{
	struct fx f;
	uint64_t rng = 0x5eed0000u + a->levels * 131u + m * 7u + flags + copy;
	pgt_vaddr_t pages[300];

	fx_open(&f, a, m, flags, copy);
	fill_random(&f, &rng, 300, pages);
	for (unsigned i = 0; i < 300; i++) {
		same_lookup(&f, pages[i]);
		same_lookup(&f, pages[i] + (test_rand(&rng) & ((1ull << a->level[0].shift) - 1)));
		if (pages[i] > f.lo)
			same_lookup(&f, pages[i] - 1);
		same_lookup(&f, random_page(&f, &rng, 0));
	}
	same_lookup(&f, f.lo);
	same_lookup(&f, f.hi);
	fx_close(&f);
}

START_TEST(random_trees)
{
	const struct pgt_arch *a = test_archs[_i / 8];
	enum test_mm_mode m = (_i & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET;
	bool copy = (_i & 2) != 0;
	bool upper = (_i & 4) != 0;

	if (upper && a->canon != PGT_CANON_SPLIT)
		return; /* x86-64: both halves are in one space, the lower run covers them */
	check_random(a, m, upper ? PGT_SPACE_UPPER : 0, copy);
	if (a->canon == PGT_CANON_SIGN_EXTEND && !upper) {
		/* and the high half of the same kind of space */
		struct fx f;
		uint64_t rng = 99;
		pgt_vaddr_t pages[100];
		fx_open(&f, a, m, 0, copy);
		f.lo = ~0ull << (a->va_bits - 1);
		f.hi = ~0ull;
		fill_random(&f, &rng, 100, pages);
		for (unsigned i = 0; i < 100; i++)
			same_lookup(&f, pages[i]);
		fx_close(&f);
	}
}
END_TEST

/** The addresses just outside the range, and non-canonical ones, are PGT_EINVAL. */
START_TEST(out_of_range)
{
	const struct pgt_arch *a = test_archs[_i / 2];
	unsigned flags = (_i & 1) && a->canon == PGT_CANON_SPLIT ? PGT_SPACE_UPPER : 0;
	struct fx f;
	pgt_ref_t ref;

	fx_open(&f, a, TEST_MM_OFFSET, flags, false);
	if (a->canon == PGT_CANON_SIGN_EXTEND) {
		pgt_vaddr_t half = 1ull << (a->va_bits - 1);
		ck_assert_int_eq(pgt_lookup(&f.sp, half, &ref), PGT_EINVAL);
		ck_assert_int_eq(pgt_lookup(&f.sp, ~0ull - half, &ref), PGT_EINVAL);
		ck_assert_int_eq(pgt_lookup(&f.sp, 1ull << 63, &ref), PGT_EINVAL);
		ck_assert_int_eq(pgt_lookup(&f.sp, half - 1, &ref), PGT_ENOENT);
		ck_assert_int_eq(pgt_lookup(&f.sp, ~0ull - half + 1, &ref), PGT_ENOENT);
	} else if (flags) {
		ck_assert_int_eq(pgt_lookup(&f.sp, f.lo - 1, &ref), PGT_EINVAL);
		ck_assert_int_eq(pgt_lookup(&f.sp, 0, &ref), PGT_EINVAL);
		ck_assert_int_eq(pgt_lookup(&f.sp, 1ull << 63, &ref), PGT_EINVAL);
		ck_assert_int_eq(pgt_lookup(&f.sp, f.lo, &ref), PGT_ENOENT);
		ck_assert_int_eq(pgt_lookup(&f.sp, ~0ull, &ref), PGT_ENOENT);
	} else {
		ck_assert_int_eq(pgt_lookup(&f.sp, f.hi + 1, &ref), PGT_EINVAL);
		ck_assert_int_eq(pgt_lookup(&f.sp, ~0ull, &ref), PGT_EINVAL);
		ck_assert_int_eq(pgt_lookup(&f.sp, 1ull << 63, &ref), PGT_EINVAL);
		ck_assert_int_eq(pgt_lookup(&f.sp, f.hi, &ref), PGT_ENOENT);
		ck_assert_int_eq(pgt_lookup(&f.sp, 0, &ref), PGT_ENOENT);
	}
	fx_close(&f);
}
END_TEST

/** A p2v hook that fails below the root: lookup and insert say PGT_EINVAL and change nothing. */
START_TEST(hook_null)
{
	const struct pgt_arch *a = test_archs[_i];
	struct fx f;
	pgt_ref_t ref;
	unsigned shift = a->level[0].shift;
	pgt_vaddr_t va = (pgt_vaddr_t)5 << shift;

	fx_open(&f, a, TEST_MM_HOOK, 0, false);
	ck_assert_int_eq(pgt_insert(&f.sp, va, shift, &ref), PGT_OK);
	long allocs = f.t.allocs;
	f.t.p2v_null = true;
	ck_assert_int_eq(pgt_lookup(&f.sp, va, &ref), PGT_EINVAL);
	ck_assert_int_eq(pgt_insert(&f.sp, va + (1ull << shift), shift, &ref), PGT_EINVAL);
	ck_assert_int_eq(f.t.allocs, allocs);
	f.t.p2v_null = false;
	ck_assert_int_eq(pgt_lookup(&f.sp, va, &ref), PGT_OK);
	ck_assert_int_eq(pgt_lookup(&f.sp, va + (1ull << shift), &ref), PGT_ENOENT);
	fx_close(&f);
}
END_TEST

/**
 * A descriptor of a known shape whose table masks differ between levels
 * (table entries at level 1 carry an extra type bit): the generic walk must
 * serve it, with each level's masks. A walk using level 1's masks everywhere
 * would take every upper table entry for something else and find nothing.
 */
START_TEST(mixed_masks)
{
	struct pgt_arch a = pgt_arch_armv8_4k_48;
	struct fx f;
	uint64_t rng = 7;
	pgt_vaddr_t pages[200];

	a.level[1].type_mask |= 1ull << 52;
	a.level[1].table_type |= 1ull << 52;
	a.level[1].table_attrs |= 1ull << 52;
	fx_open(&f, &a, TEST_MM_OFFSET, 0, false);
	f.a = &a;
	fill_random(&f, &rng, 200, pages);
	size_t found = 0;
	for (unsigned i = 0; i < 200; i++) {
		pgt_ref_t ref;
		found += pgt_lookup(&f.sp, pages[i], &ref) == PGT_OK;
		same_lookup(&f, pages[i]);
		same_lookup(&f, random_page(&f, &rng, 0));
	}
	ck_assert_uint_gt(found, 100);
	fx_close(&f);
}
END_TEST

static Suite *shape_suite(void)
{
	Suite *s = suite_create("shape");
	TCase *tc = tcase_create("walks");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, random_trees, 0, (int)test_narchs * 8);
	tcase_add_loop_test(tc, out_of_range, 0, (int)test_narchs * 2);
	tcase_add_loop_test(tc, hook_null, 0, (int)test_narchs);
	tcase_add_test(tc, mixed_masks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(shape_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
