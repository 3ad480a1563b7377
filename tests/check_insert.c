/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the L4 page-table ADT's insert and lookup (seed 001
 * section 4.1; lib/insert.c, lib/lookup.c), on every page size of every
 * shipped descriptor, in the lower and upper halves of the address range.
 *
 * Covers: insert into an empty space (status, ref, exactly the tables it
 * needs, a reserved leaf that lookup finds at every byte of the page and
 * nowhere else); the conflicts of the paper's figure 12 with insert-result
 * as its prose says: the same page again and a smaller page inside a
 * superpage give PGT_EXISTS with a ref to the mapping there, a superpage
 * over any smaller page in its page-set gives PGT_ECONFLICT, and no
 * conflict changes the tree or allocates; the first and last pages of each
 * range; out-of-range and non-canonical addresses, misaligned addresses and
 * page sizes the descriptor lacks (PGT_ESIZE); reserved leaves counting as
 * mapped, before and after they become valid; allocation failure part way
 * through a branch leaving the space as it was.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* --- small helpers ------------------------------------------------------------ */

/** One contiguous range of canonical addresses a space can translate. */
struct region {
	unsigned flags; /**< pgt_space_init flags that select it */
	pgt_vaddr_t lo; /**< first byte */
	pgt_vaddr_t hi; /**< last byte */
	const char *name;
};

/**
 * The ranges of @p a: x86-64 and RISC-V have both canonical halves in one
 * space; ARMv8 has [0, 2^bits) and, with PGT_SPACE_UPPER, [2^64 - 2^bits, 2^64).
 */
static unsigned regions_of(const struct pgt_arch *a, struct region r[2])
{
	if (a->canon == PGT_CANON_SIGN_EXTEND) {
		unsigned b = a->va_bits - 1u;
		r[0] = (struct region){ 0, 0, (1ull << b) - 1, "low half" };
		r[1] = (struct region){ 0, ~0ull << b, ~0ull, "high half" };
	} else {
		unsigned b = a->va_bits;
		r[0] = (struct region){ 0, 0, (1ull << b) - 1, "lower (TTBR0)" };
		r[1] = (struct region){ PGT_SPACE_UPPER, ~0ull << b, ~0ull, "upper (TTBR1)" };
	}
	return a->canon == PGT_CANON_SIGN_EXTEND || test_has_upper(a) ? 2 : 1;
}

/** A test's space, its allocator and a label that names descriptor, range, size and mode. */
struct ctx {
	const struct pgt_arch *a;
	struct region r;
	struct test_mm t;
	pgt_space_t sp;
	char who[128];
};

static void ctx_open(struct ctx *c, const struct pgt_arch *a, const struct region *r, unsigned shift,
		     enum test_mm_mode m)
{
	c->a = a;
	c->r = *r;
	snprintf(c->who, sizeof c->who, "%s %s 2^%u (%s)", a->name, r->name, shift,
		 m == TEST_MM_HOOK ? "hook" : "offset");
	test_mm_init(&c->t, m);
	int rc = pgt_space_init(&c->sp, a, &c->t.mm, r->flags);
	ck_assert_msg(rc == PGT_OK, "%s: init: %s", c->who, pgt_strerror(rc));
}

/** Destroys the space and checks the books balance. */
static void ctx_close(struct ctx *c)
{
	struct tree_stats st = tree_check(&c->sp, c->a, &c->t);
	ck_assert_msg(st.problems == 0, "%s: %zu problems in the tree", c->who, st.problems);
	pgt_space_destroy(&c->sp);
	ck_assert_msg(test_mm_outstanding(&c->t) == 0, "%s: %zu frames leaked", c->who,
		      test_mm_outstanding(&c->t));
	ck_assert_msg(c->t.errors == 0 && c->t.allocs == c->t.frees,
		      "%s: %ld bad frees, %ld allocs, %ld frees", c->who, c->t.errors, c->t.allocs,
		      c->t.frees);
	test_mm_fini(&c->t);
}

static void expect_rc(const struct ctx *c, int got, int want, const char *what, pgt_vaddr_t va)
{
	ck_assert_msg(got == want, "%s: %s at %#llx: got %d (%s), want %d (%s)", c->who, what,
		      (unsigned long long)va, got, pgt_strerror(got), want, pgt_strerror(want));
}

static bool same_ref(pgt_ref_t x, pgt_ref_t y)
{
	return x.pte == y.pte && x.level == y.level && x.page_shift == y.page_shift;
}

static void expect_ref(const struct ctx *c, pgt_ref_t got, pgt_ref_t want, const char *what, pgt_vaddr_t va)
{
	ck_assert_msg(same_ref(got, want),
		      "%s: %s at %#llx: ref {%p, level %u, 2^%u}, want {%p, level %u, 2^%u}", c->who, what,
		      (unsigned long long)va, (void *)got.pte, got.level, got.page_shift, (void *)want.pte,
		      want.level, want.page_shift);
}

/** Shift of the pages at @p level. */
static unsigned shift_of(const struct pgt_arch *a, unsigned level)
{
	return a->level[level].shift;
}

static uint64_t size_of(const struct pgt_arch *a, unsigned level)
{
	return 1ull << a->level[level].shift;
}

/**
 * A page-aligned address a quarter into @p r plus three pages of @p level:
 * index 3 in its level-`level` table, index 0 in the tables between, so the
 * page before and the few after share its table.
 */
static pgt_vaddr_t mid_va(const struct ctx *c, unsigned level)
{
	uint64_t span = c->r.hi - c->r.lo + 1;
	return c->r.lo + span / 4 + 3 * size_of(c->a, level);
}

/**
 * An insert that must change nothing: status @p want, ref @p want_ref (if
 * not NULL), the tree as before and no allocation attempted.
 */
static void insert_noop(struct ctx *c, pgt_vaddr_t va, unsigned shift, int want, const pgt_ref_t *want_ref,
			const char *what)
{
	size_t n;
	pgt_pte_t *snap = tree_snapshot(&c->sp, c->a, &c->t, &n);
	long attempts = c->t.attempts;
	pgt_ref_t got = { 0 };
	char label[96];

	snprintf(label, sizeof label, "%s (insert 2^%u)", what, shift);
	expect_rc(c, pgt_insert(&c->sp, va, shift, &got), want, label, va);
	if (want_ref)
		expect_ref(c, got, *want_ref, label, va);
	ck_assert_msg(tree_unchanged(&c->sp, c->a, &c->t, snap, n), "%s: %s at %#llx changed the tree",
		      c->who, label, (unsigned long long)va);
	ck_assert_msg(c->t.attempts == attempts, "%s: %s at %#llx asked for %ld tables", c->who, label,
		      (unsigned long long)va, c->t.attempts - attempts);
}

/** Insert that must succeed with @p tables new tables; returns the ref. */
static pgt_ref_t insert_ok(struct ctx *c, pgt_vaddr_t va, unsigned level, long tables, const char *what)
{
	long allocs = c->t.allocs, attempts = c->t.attempts;
	pgt_ref_t ref = { 0 };

	expect_rc(c, pgt_insert(&c->sp, va, shift_of(c->a, level), &ref), PGT_OK, what, va);
	ck_assert_msg(ref.pte != NULL && ref.level == level && ref.page_shift == shift_of(c->a, level),
		      "%s: %s at %#llx: ref {%p, level %u, 2^%u}, want level %u 2^%u", c->who, what,
		      (unsigned long long)va, (void *)ref.pte, ref.level, ref.page_shift, level,
		      shift_of(c->a, level));
	ck_assert_msg(c->t.allocs - allocs == tables && c->t.attempts - attempts == tables,
		      "%s: %s at %#llx allocated %ld tables, want %ld", c->who, what, (unsigned long long)va,
		      c->t.allocs - allocs, tables);
	return ref;
}

/** Lookup at @p va finds exactly @p want. */
static void lookup_is(const struct ctx *c, pgt_vaddr_t va, pgt_ref_t want, const char *what)
{
	pgt_ref_t got = { 0 };
	expect_rc(c, pgt_lookup(&c->sp, va, &got), PGT_OK, what, va);
	expect_ref(c, got, want, what, va);
}

static void lookup_none(const struct ctx *c, pgt_vaddr_t va, const char *what)
{
	expect_rc(c, pgt_lookup(&c->sp, va, NULL), PGT_ENOENT, what, va);
}

/** The entry is a reserved leaf: not valid in hardware, marked reserved. */
static void expect_reserved(const struct ctx *c, pgt_ref_t ref, const char *what)
{
	const struct pgt_level *L = &c->a->level[ref.level];
	ck_assert_msg(!(*ref.pte & L->valid) && (*ref.pte & L->reserved),
		      "%s: %s: entry %#llx is not a reserved leaf", c->who, what,
		      (unsigned long long)*ref.pte);
}

/* --- insert into an empty space, lookup ------------------------------------ */

START_TEST(test_insert_empty)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);

	for (unsigned ri = 0; ri < nr; ri++)
		for (unsigned l = 0; l < a->levels; l++)
			for (int m = 0; m < 2 && a->level[l].leaf_ok; m++) {
				struct ctx c;
				ctx_open(&c, a, &rg[ri], shift_of(a, l), (enum test_mm_mode)m);
				uint64_t size = size_of(a, l);
				pgt_vaddr_t va = mid_va(&c, l);
				long need = (long)a->levels - 1 - (long)l;

				lookup_none(&c, va, "lookup before insert");
				pgt_ref_t ref = insert_ok(&c, va, l, need, "insert into empty space");
				expect_reserved(&c, ref, "new leaf");
				lookup_is(&c, va, ref, "lookup of first byte");
				lookup_is(&c, va + size - 1, ref, "lookup of last byte");
				lookup_is(&c, va + size / 2, ref, "lookup of middle byte");
				lookup_is(&c, va + 1, ref, "lookup of second byte");
				expect_rc(&c, pgt_lookup(&c.sp, va + size / 3, NULL), PGT_OK,
					  "lookup, out NULL", va);
				lookup_none(&c, va - 1, "lookup of the byte before");
				lookup_none(&c, va + size, "lookup of the byte after");
				lookup_none(&c, va - size, "lookup of the page before");
				struct tree_stats st = tree_check(&c.sp, a, &c.t);
				ck_assert_msg(
					st.tables == (size_t)need + 1 && st.reserved == 1 && st.leaves == 0 &&
						st.problems == 0 && st.empty_tables == 0,
					"%s: tree has %zu tables, %zu reserved, %zu valid, %zu problems",
					c.who, st.tables, st.reserved, st.leaves, st.problems);

				/* the next page shares every table */
				pgt_ref_t next = insert_ok(&c, va + size, l, 0, "insert of the next page");
				ck_assert_msg(next.pte == ref.pte + 1,
					      "%s: next page's entry not beside the first", c.who);
				lookup_is(&c, va + size, next, "lookup of the next page");
				lookup_is(&c, va + size - 1, ref, "lookup of the first page's last byte");
				/* a page in the neighbouring table at this level needs that one table */
				if (l + 1u < a->levels) {
					pgt_vaddr_t far = va + size_of(a, l + 1u);
					pgt_ref_t fr =
						insert_ok(&c, far, l, 1, "insert into a neighbouring table");
					lookup_is(&c, far, fr, "lookup in the neighbouring table");
				}
				/* out may be NULL */
				expect_rc(&c, pgt_insert(&c.sp, va + 2 * size, shift_of(a, l), NULL), PGT_OK,
					  "insert, out NULL", va + 2 * size);
				st = tree_check(&c.sp, a, &c.t);
				ck_assert_msg(
					st.reserved == (l + 1u < a->levels ? 4u : 3u) && st.problems == 0,
					"%s: %zu reserved leaves after four inserts", c.who, st.reserved);
				ctx_close(&c);
			}
}
END_TEST

START_TEST(test_lookup_empty)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);

	for (unsigned ri = 0; ri < nr; ri++) {
		struct ctx c;
		ctx_open(&c, a, &rg[ri], shift_of(a, 0), (enum test_mm_mode)(ri & 1));
		const pgt_vaddr_t vas[] = { c.r.lo, c.r.hi, mid_va(&c, 0), c.r.lo + (c.r.hi - c.r.lo) / 2 };
		for (size_t i = 0; i < sizeof vas / sizeof vas[0]; i++)
			lookup_none(&c, vas[i], "lookup in an empty space");
		ctx_close(&c);
	}
	expect_rc(&(struct ctx){ .who = "NULL space" }, pgt_lookup(NULL, 0, NULL), PGT_EINVAL, "lookup", 0);
	expect_rc(&(struct ctx){ .who = "NULL space" }, pgt_insert(NULL, 0, 12, NULL), PGT_EINVAL, "insert",
		  0);
}
END_TEST

/* --- conflicts (figure 12, insert-result) ----------------------------------- */

/* (a) the same page twice: PGT_EXISTS with a ref to the page already there. */
START_TEST(test_insert_twice)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);

	for (unsigned ri = 0; ri < nr; ri++)
		for (unsigned l = 0; l < a->levels; l++) {
			if (!a->level[l].leaf_ok)
				continue;
			struct ctx c;
			ctx_open(&c, a, &rg[ri], shift_of(a, l), (enum test_mm_mode)((ri + l) & 1));
			pgt_vaddr_t va = mid_va(&c, l);
			pgt_ref_t ref = insert_ok(&c, va, l, (long)a->levels - 1 - (long)l, "first insert");
			insert_noop(&c, va, shift_of(a, l), PGT_EXISTS, &ref, "same page again");
			insert_noop(&c, va, shift_of(a, l), PGT_EXISTS, &ref, "same page a third time");
			expect_rc(&c, pgt_insert(&c.sp, va, shift_of(a, l), NULL), PGT_EXISTS,
				  "same page, out NULL", va);
			lookup_is(&c, va, ref, "lookup after repeats");
			ctx_close(&c);
		}
}
END_TEST

/* (b) a smaller page inside a superpage: PGT_EXISTS with a ref to the superpage. */
START_TEST(test_insert_small_in_super)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);

	for (unsigned ri = 0; ri < nr; ri++)
		for (unsigned l = 1; l < a->levels; l++) {
			if (!a->level[l].leaf_ok)
				continue;
			struct ctx c;
			ctx_open(&c, a, &rg[ri], shift_of(a, l), (enum test_mm_mode)((ri + l) & 1));
			pgt_vaddr_t va = mid_va(&c, l);
			uint64_t big = size_of(a, l);
			pgt_ref_t sup = insert_ok(&c, va, l, (long)a->levels - 1 - (long)l, "superpage");
			for (unsigned s = 0; s < l; s++) {
				if (!a->level[s].leaf_ok)
					continue;
				uint64_t small = size_of(a, s);
				const pgt_vaddr_t at[] = { va, va + big / 2, va + big - small, va + small };
				const char *const pos[] = { "first", "middle", "last", "second" };
				for (size_t p = 0; p < 4; p++) {
					char what[96];
					snprintf(what, sizeof what, "2^%u page, %s in the superpage",
						 shift_of(a, s), pos[p]);
					insert_noop(&c, at[p], shift_of(a, s), PGT_EXISTS, &sup, what);
					lookup_is(&c, at[p], sup, what);
				}
			}
			ctx_close(&c);
		}
}
END_TEST

/*
 * (c), (d) a superpage over a smaller page anywhere in its page-set,
 * whether or not anything is mapped at the superpage's own address:
 * PGT_ECONFLICT, and the superpage's neighbours stay insertable.
 */
START_TEST(test_insert_super_over_small)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);
	const char *const pos[] = { "first", "middle", "last", "second" };

	for (unsigned ri = 0; ri < nr; ri++)
		for (unsigned l = 1; l < a->levels; l++)
			for (unsigned s = 0; s < l && a->level[l].leaf_ok; s++)
				for (size_t p = 0; p < 4 && a->level[s].leaf_ok; p++) {
					struct ctx c;
					ctx_open(&c, a, &rg[ri], shift_of(a, l),
						 (enum test_mm_mode)((p + s) & 1));
					uint64_t big = size_of(a, l), small = size_of(a, s);
					pgt_vaddr_t va = mid_va(&c, l);
					const pgt_vaddr_t at[] = { va, va + big / 2, va + big - small,
								   va + small };
					char what[96];

					insert_ok(&c, at[p], s, (long)a->levels - 1 - (long)s, "small page");
					if (p != 0)
						lookup_none(&c, va,
							    "superpage's own address, small page elsewhere");
					snprintf(what, sizeof what, "superpage over a 2^%u page %s in it",
						 shift_of(a, s), pos[p]);
					insert_noop(&c, va, shift_of(a, l), PGT_ECONFLICT, NULL, what);
					insert_noop(&c, va, shift_of(a, l), PGT_ECONFLICT, NULL,
						    what); /* no side effect */
					/* no false conflict next door */
					insert_ok(&c, va + big, l, 0, "superpage after");
					insert_ok(&c, va - big, l, 0, "superpage before");
					ctx_close(&c);
				}
}
END_TEST

/*
 * A superpage between two smaller pages that share its table: no false
 * conflict either way, and each insert allocates only what it lacks.
 */
START_TEST(test_insert_no_false_conflict)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);

	for (unsigned ri = 0; ri < nr; ri++)
		for (unsigned l = 1; l < a->levels; l++)
			for (unsigned s = 0; s < l && a->level[l].leaf_ok; s++) {
				if (!a->level[s].leaf_ok)
					continue;
				struct ctx c;
				ctx_open(&c, a, &rg[ri], shift_of(a, l), (enum test_mm_mode)((ri + s) & 1));
				uint64_t big = size_of(a, l), small = size_of(a, s);
				pgt_vaddr_t r = mid_va(&c, l) - 3 * big; /* index 0 of a level-l table */
				pgt_vaddr_t before = r + big - small, sup = r + big, after = r + 2 * big;

				pgt_ref_t rb = insert_ok(&c, before, s, (long)a->levels - 1 - (long)s,
							 "small page just below the superpage");
				pgt_ref_t rs = insert_ok(&c, sup, l, 0, "superpage between small pages");
				pgt_ref_t ra = insert_ok(&c, after, s, (long)(l - s),
							 "small page just above the superpage");
				lookup_is(&c, before + small - 1, rb, "lookup of the page below");
				lookup_is(&c, sup, rs, "lookup of the superpage's first byte");
				lookup_is(&c, sup + big - 1, rs, "lookup of the superpage's last byte");
				lookup_is(&c, after, ra, "lookup of the page above");
				lookup_none(&c, r, "lookup of an unmapped page beside");
				lookup_none(&c, after + small, "lookup of an unmapped page beside");
				struct tree_stats st = tree_check(&c.sp, a, &c.t);
				ck_assert_msg(st.reserved == 3 && st.problems == 0,
					      "%s: %zu reserved, %zu problems", c.who, st.reserved,
					      st.problems);
				ctx_close(&c);
			}
}
END_TEST

/* --- the ends of the range and beyond --------------------------------------- */

START_TEST(test_insert_bottom_top)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);

	for (unsigned ri = 0; ri < nr; ri++) {
		if (a->canon == PGT_CANON_SPLIT) {
			ck_assert_msg(test_va_bottom(a, rg[ri].flags) == rg[ri].lo &&
					      test_va_top(a, rg[ri].flags) == rg[ri].hi,
				      "%s %s: harness range disagrees", a->name, rg[ri].name);
		}
		for (unsigned l = 0; l < a->levels; l++)
			for (int m = 0; m < 2 && a->level[l].leaf_ok; m++) {
				struct ctx c;
				ctx_open(&c, a, &rg[ri], shift_of(a, l), (enum test_mm_mode)m);
				uint64_t size = size_of(a, l);
				long need = (long)a->levels - 1 - (long)l;
				pgt_vaddr_t lo = c.r.lo, top = c.r.hi - size + 1;

				pgt_ref_t b = insert_ok(&c, lo, l, need, "insert at the bottom");
				lookup_is(&c, lo, b, "lookup of the lowest byte");
				lookup_is(&c, lo + size - 1, b, "lookup of the bottom page's last byte");
				lookup_none(&c, lo + size, "lookup above the bottom page");
				pgt_ref_t t = insert_ok(&c, top, l, need, "insert at the top");
				lookup_is(&c, c.r.hi, t, "lookup of the highest byte");
				lookup_is(&c, top, t, "lookup of the top page's first byte");
				lookup_none(&c, top - 1, "lookup below the top page");
				insert_noop(&c, top, shift_of(a, l), PGT_EXISTS, &t, "top page again");
				insert_noop(&c, lo, shift_of(a, l), PGT_EXISTS, &b, "bottom page again");
				ck_assert_msg(b.pte != t.pte, "%s: bottom and top share an entry", c.who);
				ctx_close(&c);
			}
	}
}
END_TEST

/** Addresses just outside @p c's range (aligned to @p size), for insert and lookup. */
static unsigned bad_vas(const struct ctx *c, uint64_t size, pgt_vaddr_t out[8])
{
	const struct pgt_arch *a = c->a;
	unsigned n = 0;

	if (a->canon == PGT_CANON_SIGN_EXTEND) {
		unsigned b = a->va_bits - 1u;
		out[n++] = 1ull << b;           /* first address past the low half */
		out[n++] = (~0ull << b) - size; /* last page before the high half */
		out[n++] = 1ull << 63;
		out[n++] = (1ull << 63) - size;
		out[n++] = 1ull << a->va_bits;
		return n;
	}
	unsigned b = a->va_bits;
	if (c->r.flags & PGT_SPACE_UPPER) {
		out[n++] = 0; /* lower-half addresses in an upper space */
		out[n++] = (1ull << b) - size;
		out[n++] = (~0ull << b) - size; /* just below the upper range */
		out[n++] = 1ull << b;
		out[n++] = 1ull << 63;
	} else {
		out[n++] = 1ull << b;  /* 2^bits */
		out[n++] = ~0ull << b; /* upper-half addresses in a lower space */
		out[n++] = ~0ull - size + 1;
		out[n++] = 1ull << 63;
		out[n++] = (~0ull << b) - size;
	}
	return n;
}

START_TEST(test_insert_out_of_range)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);

	for (unsigned ri = 0; ri < nr; ri++)
		for (unsigned l = 0; l < a->levels; l++) {
			if (!a->level[l].leaf_ok)
				continue;
			struct ctx c;
			ctx_open(&c, a, &rg[ri], shift_of(a, l), (enum test_mm_mode)((ri + l) & 1));
			pgt_vaddr_t bad[8];
			unsigned n = bad_vas(&c, size_of(a, l), bad);
			/* a tree that is not empty, so "unchanged" means something */
			insert_ok(&c, mid_va(&c, l), l, (long)a->levels - 1 - (long)l, "insert");
			for (unsigned i = 0; i < n; i++) {
				insert_noop(&c, bad[i], shift_of(a, l), PGT_ERANGE, NULL,
					    "out-of-range address");
				expect_rc(&c, pgt_lookup(&c.sp, bad[i], NULL), PGT_ERANGE,
					  "lookup out of range", bad[i]);
				expect_rc(&c, pgt_lookup(&c.sp, bad[i] + size_of(a, l) - 1, NULL), PGT_ERANGE,
					  "lookup out of range (page's last byte)",
					  bad[i] + size_of(a, l) - 1);
			}
			ctx_close(&c);
		}
}
END_TEST

START_TEST(test_insert_misaligned)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);

	for (unsigned ri = 0; ri < nr; ri++)
		for (unsigned l = 0; l < a->levels; l++) {
			if (!a->level[l].leaf_ok)
				continue;
			struct ctx c;
			ctx_open(&c, a, &rg[ri], shift_of(a, l), (enum test_mm_mode)((ri + l) & 1));
			uint64_t size = size_of(a, l);
			pgt_vaddr_t va = mid_va(&c, l);
			const pgt_vaddr_t off[] = {
				1, 8, size / 2, size - 8, 1ull << (shift_of(a, l) - 1), 0x1000
			};
			for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
				if (off[i] % size == 0)
					continue; /* 0x1000 is aligned for 4K pages */
				insert_noop(&c, va + off[i], shift_of(a, l), PGT_EALIGN, NULL,
					    "misaligned address");
				insert_noop(&c, c.r.hi - size + 1 + off[i], shift_of(a, l), PGT_EALIGN, NULL,
					    "misaligned address in the top page");
			}
			lookup_none(&c, va, "lookup after misaligned inserts");
			ctx_close(&c);
		}
}
END_TEST

/* Every shift that is not one of the descriptor's page sizes is PGT_ESIZE. */
START_TEST(test_insert_bad_shift)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);

	for (unsigned ri = 0; ri < nr; ri++) {
		struct ctx c;
		ctx_open(&c, a, &rg[ri], 0, (enum test_mm_mode)ri);
		insert_ok(&c, mid_va(&c, 0), 0, (long)a->levels - 1, "insert");
		unsigned tried = 0;
		for (unsigned shift = 0; shift <= 256; shift++) {
			bool page = false;
			for (unsigned l = 0; l < a->levels; l++)
				page |= a->level[l].leaf_ok && shift_of(a, l) == shift;
			if (page)
				continue;
			/* the lowest address of the range is aligned to every size that fits it */
			insert_noop(&c, c.r.lo, shift, PGT_ESIZE, NULL, "page size the descriptor lacks");
			tried++;
		}
		insert_noop(&c, c.r.lo, UINT_MAX, PGT_ESIZE, NULL, "page size UINT_MAX");
		insert_noop(&c, c.r.lo, 1u << 31, PGT_ESIZE, NULL, "page size 2^31");
		ck_assert_msg(tried >= 250, "%s: only %u shifts tried", c.who, tried);
		ctx_close(&c);
	}
}
END_TEST

/*
 * The examples of the brief, spelt out so a descriptor change cannot quietly
 * drop them. RISC-V has 4K, 2M and 1G leaves, then 512G (Sv48, Sv57) and
 * 256T (Sv57) ones (privileged spec 4.4 to 4.6).
 */
START_TEST(test_insert_bad_shift_examples)
{
	static const struct {
		const struct pgt_arch *a;
		unsigned shift;
	} cases[] = {
		{ &pgt_arch_x86_64, 13 },       { &pgt_arch_x86_64, 39 },
		{ &pgt_arch_x86_64, 0 },        { &pgt_arch_x86_64, 64 },
		{ &pgt_arch_x86_64, 200 },      { &pgt_arch_x86_64, 11 },
		{ &pgt_arch_x86_64_la57, 39 },  { &pgt_arch_x86_64_la57, 48 },
		{ &pgt_arch_armv8_4k_48, 39 },  { &pgt_arch_armv8_4k_39, 39 },
		{ &pgt_arch_armv8_16k_47, 30 }, { &pgt_arch_armv8_16k_47, 12 },
		{ &pgt_arch_armv8_16k_47, 36 }, { &pgt_arch_armv8_64k_42, 30 },
		{ &pgt_arch_armv8_64k_42, 12 }, { &pgt_arch_armv8_64k_42, 42 },
		{ &pgt_arch_riscv_sv39, 39 },   { &pgt_arch_riscv_sv39, 13 },
		{ &pgt_arch_riscv_sv48, 48 },   { &pgt_arch_riscv_sv57, 57 },
		{ &pgt_arch_riscv_sv57, 16 },   { &pgt_arch_riscv_sv39, 48 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct region rg[2];
		struct ctx c;
		regions_of(cases[i].a, rg);
		ctx_open(&c, cases[i].a, &rg[0], cases[i].shift, TEST_MM_OFFSET);
		insert_noop(&c, 0, cases[i].shift, PGT_ESIZE, NULL, "page size the descriptor lacks");
		ctx_close(&c);
	}
}
END_TEST

/* --- reserved leaves ---------------------------------------------------------- */

/** All the conflicts a mapping at (va, level) must cause; @p ref is the mapping. */
static void expect_mapped(struct ctx *c, pgt_vaddr_t va, unsigned level, pgt_ref_t ref, const char *state)
{
	const struct pgt_arch *a = c->a;
	uint64_t size = size_of(a, level);
	char what[96];

	snprintf(what, sizeof what, "%s: lookup", state);
	lookup_is(c, va, ref, what);
	lookup_is(c, va + size - 1, ref, what);
	snprintf(what, sizeof what, "%s: same page", state);
	insert_noop(c, va, shift_of(a, level), PGT_EXISTS, &ref, what);
	for (unsigned s = 0; s < level; s++) {
		if (!a->level[s].leaf_ok)
			continue;
		snprintf(what, sizeof what, "%s: smaller page inside", state);
		insert_noop(c, va + size - size_of(a, s), shift_of(a, s), PGT_EXISTS, &ref, what);
	}
	for (unsigned L = level + 1; L < a->levels; L++) {
		if (!a->level[L].leaf_ok)
			continue;
		snprintf(what, sizeof what, "%s: larger page around", state);
		insert_noop(c, va & ~(size_of(a, L) - 1), shift_of(a, L), PGT_ECONFLICT, NULL, what);
	}
}

/* A reserved leaf is mapped for lookup and conflicts, and stays so once valid and after. */
START_TEST(test_reserved_then_valid)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);

	for (unsigned ri = 0; ri < nr; ri++)
		for (unsigned l = 0; l < a->levels; l++) {
			if (!a->level[l].leaf_ok)
				continue;
			struct ctx c;
			ctx_open(&c, a, &rg[ri], shift_of(a, l), (enum test_mm_mode)((ri + l + 1) & 1));
			pgt_vaddr_t va = mid_va(&c, l);
			pgt_ref_t ref = insert_ok(&c, va, l, (long)a->levels - 1 - (long)l, "insert");
			const struct pgt_level *L = &a->level[l];

			expect_reserved(&c, ref, "new leaf");
			expect_mapped(&c, va, l, ref, "reserved");

			int rc = pgt_set_field(&c.sp, ref, PGT_FIELD_READ, 1);
			expect_rc(&c, rc, PGT_OK, "set READ", va);
			ck_assert_msg(*ref.pte & L->valid, "%s: entry %#llx not valid after READ", c.who,
				      (unsigned long long)*ref.pte);
			struct tree_stats st = tree_check(&c.sp, a, &c.t);
			ck_assert_msg(st.leaves == 1 && st.reserved == 0 && st.problems == 0,
				      "%s: after READ: %zu valid, %zu reserved", c.who, st.leaves,
				      st.reserved);
			expect_mapped(&c, va, l, ref, "valid");

			rc = pgt_set_field(&c.sp, ref, PGT_FIELD_PROT, 0);
			expect_rc(&c, rc, PGT_OK, "set PROT 0", va);
			expect_reserved(&c, ref, "leaf with its rights taken away");
			expect_mapped(&c, va, l, ref, "reserved again");
			ctx_close(&c);
		}
}
END_TEST

/* --- allocation failure ------------------------------------------------------- */

/** An insert the allocator makes fail: PGT_ENOMEM, tree unchanged, every table given back. */
static void insert_enomem(struct ctx *c, pgt_vaddr_t va, unsigned level, const char *what)
{
	size_t n;
	pgt_pte_t *snap = tree_snapshot(&c->sp, c->a, &c->t, &n);
	long allocs = c->t.allocs, frees = c->t.frees;

	expect_rc(c, pgt_insert(&c->sp, va, shift_of(c->a, level), NULL), PGT_ENOMEM, what, va);
	ck_assert_msg(tree_unchanged(&c->sp, c->a, &c->t, snap, n), "%s: %s changed the tree", c->who, what);
	ck_assert_msg(c->t.allocs - allocs == c->t.frees - frees, "%s: %s: %ld tables taken, %ld given back",
		      c->who, what, c->t.allocs - allocs, c->t.frees - frees);
	lookup_none(c, va, what);
}

/* The allocator failing at any table of a branch: PGT_ENOMEM, nothing changed or kept. */
START_TEST(test_insert_enomem)
{
	const struct pgt_arch *a = test_archs[_i];
	struct region rg[2];
	unsigned nr = regions_of(a, rg);

	for (unsigned ri = 0; ri < nr; ri++)
		for (unsigned l = 0; l < a->levels; l++) {
			long need = (long)a->levels - 1 - (long)l;
			if (!a->level[l].leaf_ok || need == 0)
				continue;
			for (long k = 1; k <= need; k++)
				for (int after = 0; after < 2; after++) {
					struct ctx c;
					ctx_open(&c, a, &rg[ri], shift_of(a, l),
						 (enum test_mm_mode)((k + after) & 1));
					pgt_vaddr_t va = mid_va(&c, l);
					size_t held = test_mm_outstanding(&c.t);
					c.t.fail_at = c.t.attempts + k;
					c.t.fail_after = after;
					char what[96];
					snprintf(what, sizeof what, "allocation %ld of %ld fails%s", k, need,
						 after ? " and later ones too" : "");
					insert_enomem(&c, va, l, what);
					ck_assert_msg(test_mm_outstanding(&c.t) == held,
						      "%s: %s: tables kept", c.who, what);
					c.t.fail_at = 0;
					insert_ok(&c, va, l, need, "insert after the allocator recovers");
					ctx_close(&c);
				}
		}
}
END_TEST

/* --- runner ------------------------------------------------------------------- */

static Suite *insert_suite(void)
{
	Suite *s = suite_create("insert");
	TCase *tc;
	int na = (int)test_narchs;

	tc = tcase_create("insert");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_insert_empty, 0, na);
	tcase_add_loop_test(tc, test_lookup_empty, 0, na);
	tcase_add_loop_test(tc, test_insert_bottom_top, 0, na);
	tcase_add_loop_test(tc, test_insert_no_false_conflict, 0, na);
	suite_add_tcase(s, tc);

	tc = tcase_create("conflict");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_insert_twice, 0, na);
	tcase_add_loop_test(tc, test_insert_small_in_super, 0, na);
	tcase_add_loop_test(tc, test_insert_super_over_small, 0, na);
	tcase_add_loop_test(tc, test_reserved_then_valid, 0, na);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad input");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_insert_out_of_range, 0, na);
	tcase_add_loop_test(tc, test_insert_misaligned, 0, na);
	tcase_add_loop_test(tc, test_insert_bad_shift, 0, na);
	tcase_add_test(tc, test_insert_bad_shift_examples);
	tcase_add_loop_test(tc, test_insert_enomem, 0, na);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = test_run_suite(insert_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
