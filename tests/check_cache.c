/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the cache of empty tables (pgt_space_cache,
 * pgt_space_trim; lib/table.c, lib/space.c, lib/verify.c).
 *
 * Covers: every bad argument with its status and nothing changed; tables
 * an unmap empties kept (no free_table call) and taken back by the next
 * map or insert (no alloc_table call), at every level, on every format;
 * the bound per level, lowering it, trim and destroy giving everything
 * back; allocation failure at every N with tables in the cache: the tree,
 * the cache and the books as before; link words of a reused table zero;
 * pgt_verify reporting a kept table that is not empty. The same random
 * operations on a space with a cache and one without give the same trees
 * (tests/check_range_model.c runs its model with caches too).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/** A space on the harness allocator, its books, and optionally a cache. */
struct env {
	const struct pgt_arch *a;
	struct test_mm t;
	pgt_space_t sp;
	unsigned flags;
};

static void env_open(struct env *e, const struct pgt_arch *a, unsigned flags, size_t cache)
{
	e->a = a;
	e->flags = flags;
	test_mm_init(&e->t, TEST_MM_OFFSET);
	e->t.fill = 0xa5; /* new tables hold garbage: only kept ones are known to be zero */
	ck_assert_int_eq(pgt_space_init(&e->sp, a, &e->t.mm, flags), PGT_OK);
	ck_assert_int_eq(pgt_space_cache(&e->sp, cache), PGT_OK);
}

/** Destroys the space: every table, kept ones included, goes back exactly once. */
static void env_close(struct env *e)
{
	pgt_space_destroy(&e->sp);
	CHECK_THAT(test_mm_outstanding(&e->t) == 0 && e->t.errors == 0 && e->t.allocs == e->t.frees,
		   "%s: books: %zu outstanding, %ld bad frees, %ld allocs, %ld frees", e->a->name,
		   test_mm_outstanding(&e->t), e->t.errors, e->t.allocs, e->t.frees);
	test_mm_fini(&e->t);
}

static void count_problem(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	(void)va;
	(void)level;
	if (arg)
		snprintf(arg, 80, "%s", problem);
}

/** pgt_verify's count, the last problem's words in @p why (80 bytes) when not NULL. */
static int verify_count(const struct env *e, char *why)
{
	return pgt_verify(&e->sp, count_problem, why);
}

/** The tree and the library agree, and nothing is wrong by either checker. */
static void env_sound(const struct env *e)
{
	char why[80] = "";
	int n = verify_count(e, why);
	struct tree_stats st = tree_check(&e->sp, e->a, &e->t);

	CHECK_THAT(n == 0, "%s: pgt_verify: %d problems (%s)", e->a->name, n, why);
	CHECK_THAT(st.problems == 0 && st.empty_tables == 0, "%s: %zu problems, %zu empty tables", e->a->name,
		   st.problems, st.empty_tables);
}

static uint64_t smallest(const struct pgt_arch *a)
{
	return 1ull << a->level[0].shift;
}

/**
 * The lowest address of slot @p k (k < 4) in the low range: an entry of
 * the root, or of the level below it when the root has fewer than four
 * (ARMv8 16K/47). A page in a slot of its own needs a table at every level
 * below the root.
 */
static pgt_vaddr_t root_slot_va(const struct pgt_arch *a, unsigned k)
{
	unsigned root = a->levels - 1u;

	return (pgt_vaddr_t)k << a->level[a->level[root].bits >= 2 ? root : root - 1].shift;
}

/** Maps one smallest page at @p va (pa = va + 1 GiB, read/write). */
static int map_page(struct env *e, pgt_vaddr_t va)
{
	return pgt_map(&e->sp, va, va + (1ull << 30), smallest(e->a), PGT_PROT_READ | PGT_PROT_WRITE, 0);
}

/** Whether two leaf lists say the same, field by field (the struct has padding). */
static bool leaves_equal(const struct test_leaf *x, size_t nx, const struct test_leaf *y, size_t ny)
{
	if (nx != ny)
		return false;
	for (size_t i = 0; i < nx; i++)
		if (x[i].va != y[i].va || x[i].level != y[i].level || x[i].pte != y[i].pte)
			return false;
	return true;
}

/* --- bad input ----------------------------------------------------------------- */

static void no_defer(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)ctx;
	(void)pa;
	(void)size;
	(void)level;
}

START_TEST(test_cache_bad_input)
{
	struct env e;
	pgt_space_t blank;

	memset(&blank, 0, sizeof blank);
	CHECK_RC(pgt_space_cache(NULL, 1), PGT_EINVAL);
	CHECK_RC(pgt_space_cache(&blank, 1), PGT_EINVAL);
	ck_assert_uint_eq(pgt_space_trim(NULL), 0);
	ck_assert_uint_eq(pgt_space_trim(&blank), 0);

	/* a view keeps no tables of its own */
	env_open(&e, &pgt_arch_x86_64, 0, 0);
	pgt_space_t view;
	CHECK_RC(pgt_space_view(&view, e.a, &e.t.mm, pgt_space_root(&e.sp), 0), PGT_OK);
	CHECK_RC(pgt_space_cache(&view, 4), PGT_EINVAL);
	ck_assert_uint_eq(pgt_space_trim(&view), 0);
	pgt_space_destroy(&view);

	/* a destroyed space */
	pgt_space_t dead = e.sp;
	pgt_space_destroy(&dead);
	CHECK_RC(pgt_space_cache(&dead, 4), PGT_EINVAL);
	test_mm_fini(&e.t);

	/* defer_free: unlinked tables may still be walked, none can be reused at once */
	test_mm_init(&e.t, TEST_MM_OFFSET);
	e.a = &pgt_arch_x86_64;
	e.t.mm.defer_free = no_defer;
	CHECK_RC(pgt_space_init(&e.sp, e.a, &e.t.mm, 0), PGT_OK);
	CHECK_RC(pgt_space_cache(&e.sp, 1), PGT_ENOTSUP);
	CHECK_RC(pgt_space_cache(&e.sp, 0), PGT_OK);
	/* refused: nothing kept, the unmapped table goes where it always did */
	long frees = e.t.frees;
	CHECK_RC(map_page(&e, 0), PGT_OK);
	CHECK_RC(pgt_unmap(&e.sp, 0, smallest(e.a)), PGT_OK);
	ck_assert_uint_eq(test_mm_outstanding(&e.t), 1 + (e.a->levels - 1u)); /* defer_free holds them */
	ck_assert_int_eq(e.t.frees, frees);
	pgt_space_destroy(&e.sp);
	test_mm_fini(&e.t);
}
END_TEST

/* --- reuse ----------------------------------------------------------------------- */

/*
 * One page in root slot 1 needs a table at every level below the root;
 * unmapping it empties them all, and a page in root slot 2 takes them
 * back: no free_table, no alloc_table, the same frames.
 */
START_TEST(test_cache_reuses_every_level)
{
	struct env e;
	unsigned below = test_archs[_i]->levels - 1u;

	env_open(&e, test_archs[_i], 0, 2);
	pgt_vaddr_t va1 = root_slot_va(e.a, 1), va2 = root_slot_va(e.a, 2);
	CHECK_RC(map_page(&e, va1), PGT_OK);
	long allocs = e.t.allocs, frees = e.t.frees;
	ck_assert_uint_eq(test_mm_outstanding(&e.t), 1 + below);

	CHECK_RC(pgt_unmap(&e.sp, va1, smallest(e.a)), PGT_OK);
	CHECK_THAT(e.t.frees == frees && test_mm_outstanding(&e.t) == 1 + below,
		   "%s: unmap freed %ld tables", e.a->name, e.t.frees - frees);
	env_sound(&e);

	CHECK_RC(map_page(&e, va2), PGT_OK);
	CHECK_THAT(e.t.allocs == allocs, "%s: map allocated %ld tables", e.a->name, e.t.allocs - allocs);
	pgt_ref_t ref;
	pgt_paddr_t pa;
	CHECK_RC(pgt_lookup(&e.sp, va1, &ref), PGT_ENOENT);
	CHECK_RC(pgt_lookup(&e.sp, va2, &ref), PGT_OK);
	CHECK_RC(pgt_get_field(&e.sp, ref, PGT_FIELD_PADDR, &pa), PGT_OK);
	ck_assert_uint_eq(pa, va2 + (1ull << 30));
	env_sound(&e);

	/* pgt_insert (the L4 ADT's branch) takes kept tables too */
	CHECK_RC(pgt_unmap(&e.sp, va2, smallest(e.a)), PGT_OK);
	CHECK_RC(pgt_insert(&e.sp, va1, e.a->level[0].shift, &ref), PGT_OK);
	CHECK_THAT(e.t.allocs == allocs, "%s: insert allocated %ld tables", e.a->name, e.t.allocs - allocs);
	env_sound(&e);
	env_close(&e);
}
END_TEST

/* Without a cache (the default) nothing is kept: every emptied table goes back at once. */
START_TEST(test_cache_off_by_default)
{
	struct env e;

	env_open(&e, test_archs[_i], 0, 0);
	CHECK_RC(map_page(&e, root_slot_va(e.a, 1)), PGT_OK);
	CHECK_RC(pgt_unmap(&e.sp, root_slot_va(e.a, 1), smallest(e.a)), PGT_OK);
	ck_assert_uint_eq(test_mm_outstanding(&e.t), 1);
	ck_assert_uint_eq(pgt_space_trim(&e.sp), 0);
	env_close(&e);
}
END_TEST

/** Maps @p n pages, each in its own level-0 table of one level-1 table, from root slot 1. */
static void map_spread(struct env *e, unsigned n)
{
	uint64_t step = 1ull << e->a->level[1].shift;

	for (unsigned k = 0; k < n; k++)
		CHECK_RC(map_page(e, root_slot_va(e->a, 1) + k * step), PGT_OK);
}

static void unmap_spread(struct env *e, unsigned n)
{
	uint64_t step = 1ull << e->a->level[1].shift;

	CHECK_RC(pgt_unmap(&e->sp, root_slot_va(e->a, 1), n * step), PGT_OK);
}

/* The bound holds per level: what is above it goes back; lowering it and trim give back the rest. */
START_TEST(test_cache_bound_lower_trim)
{
	struct env e;
	unsigned below = test_archs[_i]->levels - 1u;

	env_open(&e, test_archs[_i], 0, 2);
	map_spread(&e, 3);
	ck_assert_uint_eq(test_mm_outstanding(&e.t), 1 + below + 2); /* three level-0 tables */
	unmap_spread(&e, 3);
	/* level 0 emptied three and keeps two; every level above emptied one and keeps it */
	ck_assert_uint_eq(test_mm_outstanding(&e.t), 1 + below + 1);
	env_sound(&e);

	CHECK_RC(pgt_space_cache(&e.sp, 1), PGT_OK);
	ck_assert_uint_eq(test_mm_outstanding(&e.t), 1 + below);
	env_sound(&e);
	/* raising the bound keeps what is there */
	CHECK_RC(pgt_space_cache(&e.sp, 8), PGT_OK);
	ck_assert_uint_eq(test_mm_outstanding(&e.t), 1 + below);
	ck_assert_uint_eq(pgt_space_trim(&e.sp), below);
	ck_assert_uint_eq(test_mm_outstanding(&e.t), 1);
	ck_assert_uint_eq(pgt_space_trim(&e.sp), 0);
	env_sound(&e);

	/* trim keeps the bound: the cache fills again */
	map_spread(&e, 3);
	unmap_spread(&e, 3);
	ck_assert_uint_eq(test_mm_outstanding(&e.t), 1 + below + 2);
	/* 0 turns it off and gives everything back */
	CHECK_RC(pgt_space_cache(&e.sp, 0), PGT_OK);
	ck_assert_uint_eq(test_mm_outstanding(&e.t), 1);
	map_spread(&e, 1);
	unmap_spread(&e, 1);
	ck_assert_uint_eq(test_mm_outstanding(&e.t), 1);
	env_close(&e);
}
END_TEST

/* destroy gives kept tables back exactly once (env_close checks the books). */
START_TEST(test_cache_destroy_gives_back)
{
	struct env e;

	env_open(&e, test_archs[_i], PGT_SPACE_LINKS, 4);
	map_spread(&e, 3);
	unmap_spread(&e, 2); /* two kept, one table still in the tree */
	env_sound(&e);
	env_close(&e);
}
END_TEST

/* --- failure ------------------------------------------------------------------------ */

/*
 * A map that needs more tables than the cache holds (some kept, some new),
 * failing at its N-th
 * allocation for every N: on PGT_ENOMEM the tree, the books and the kept
 * tables are as before (a kept table the failed call took is back).
 */
START_TEST(test_cache_alloc_failure_every_n)
{
	struct env e;
	unsigned below = test_archs[_i]->levels - 1u;

	env_open(&e, test_archs[_i], 0, 1);
	map_spread(&e, 1);
	unmap_spread(&e, 1); /* one kept at every level below the root */
	size_t kept = test_mm_outstanding(&e.t);
	ck_assert_uint_eq(kept, 1 + below);
	/* the last page of slot 1 and the first of slot 2: two tables at every level below the slot */
	uint64_t page = smallest(e.a), size = 2 * page;
	pgt_vaddr_t lo = root_slot_va(e.a, 2) - page;
	int rc = PGT_ENOMEM;
	for (long n = 1; rc == PGT_ENOMEM; n++) {
		size_t nsnap;
		pgt_pte_t *snap = tree_snapshot(&e.sp, e.a, &e.t, &nsnap);
		e.t.fail_at = e.t.attempts + n;
		rc = pgt_map(&e.sp, lo, 1ull << 30, size, PGT_PROT_READ, PGT_MAP_NOSUPER);
		e.t.fail_at = 0;
		if (rc == PGT_OK) {
			free(snap);
			break;
		}
		CHECK_THAT(rc == PGT_ENOMEM, "%s: failure %ld: %s", e.a->name, n, pgt_strerror(rc));
		CHECK_THAT(tree_unchanged(&e.sp, e.a, &e.t, snap, nsnap), "%s: failure %ld changed the tree",
			   e.a->name, n);
		CHECK_THAT(test_mm_outstanding(&e.t) == kept, "%s: failure %ld: %zu frames, %zu before", e.a->name,
			   n, test_mm_outstanding(&e.t), kept);
		env_sound(&e);
		CHECK_THAT(n < 100000, "%s: map never succeeded", e.a->name);
	}
	pgt_ref_t ref;
	CHECK_RC(pgt_lookup(&e.sp, lo + size - page, &ref), PGT_OK);
	env_sound(&e);
	CHECK_RC(pgt_unmap(&e.sp, lo, size), PGT_OK);
	env_close(&e);
}
END_TEST

/* The one-page paths (pgt_insert's branch, pgt_map into one missing table) fail the same way. */
START_TEST(test_cache_branch_failure_every_n)
{
	struct env e;

	env_open(&e, test_archs[_i], 0, 1);
	map_spread(&e, 2);
	/* the second page's level-0 table empties and is kept; the tables above stay in use */
	CHECK_RC(pgt_unmap(&e.sp, root_slot_va(e.a, 1) + (1ull << e.a->level[1].shift), smallest(e.a)), PGT_OK);
	size_t kept = test_mm_outstanding(&e.t);
	ck_assert_uint_eq(kept, 1 + (e.a->levels - 1u) + 1);
	/* a page in slot 2 takes the kept table first, then allocates (but on 2-level formats) */
	pgt_vaddr_t va = root_slot_va(e.a, 2);
	for (int which = 0; which < 2; which++) {
		int rc = PGT_ENOMEM;
		for (long n = 1; rc == PGT_ENOMEM; n++) {
			pgt_ref_t ref;
			e.t.fail_at = e.t.attempts + n;
			rc = which ? pgt_insert(&e.sp, va, e.a->level[0].shift, &ref) : map_page(&e, va);
			e.t.fail_at = 0;
			if (rc == PGT_OK)
				break;
			CHECK_THAT(rc == PGT_ENOMEM, "%s: failure %ld: %s", e.a->name, n, pgt_strerror(rc));
			CHECK_RC(pgt_lookup(&e.sp, va, &ref), PGT_ENOENT);
			CHECK_THAT(test_mm_outstanding(&e.t) == kept, "%s: failure %ld: %zu frames, %zu before",
				   e.a->name, n, test_mm_outstanding(&e.t), kept);
			env_sound(&e);
		}
		CHECK_RC(pgt_unmap(&e.sp, va, smallest(e.a)), PGT_OK);
		env_sound(&e);
	}
	env_close(&e);
}
END_TEST

/* --- contents -------------------------------------------------------------------------- */

/*
 * A reused table is as a new one: its link words are zero, as in a space
 * without a cache (compared link by link), and its entries too.
 */
START_TEST(test_cache_reused_links_zero)
{
	struct env e, fresh;
	pgt_vaddr_t va1 = root_slot_va(test_archs[_i], 1), va2 = root_slot_va(test_archs[_i], 2);
	uint64_t page = smallest(test_archs[_i]);

	env_open(&e, test_archs[_i], PGT_SPACE_LINKS, 2);
	env_open(&fresh, test_archs[_i], PGT_SPACE_LINKS, 0);
	/* a link word on every page of the first table */
	CHECK_RC(pgt_map(&e.sp, va1, 1ull << 30, 8 * page, PGT_PROT_READ, PGT_MAP_NOSUPER), PGT_OK);
	for (unsigned k = 0; k < 8; k++) {
		pgt_ref_t ref;
		CHECK_RC(pgt_lookup(&e.sp, va1 + k * page, &ref), PGT_OK);
		CHECK_RC(pgt_set_link(&e.sp, ref, 0x1000 + k, va1 + k * page), PGT_OK);
	}
	CHECK_RC(pgt_unmap(&e.sp, va1, 8 * page), PGT_OK);
	env_sound(&e);
	long allocs = e.t.allocs;
	CHECK_RC(pgt_map(&e.sp, va2, 1ull << 30, 8 * page, PGT_PROT_READ, PGT_MAP_NOSUPER), PGT_OK);
	CHECK_RC(pgt_map(&fresh.sp, va2, 1ull << 30, 8 * page, PGT_PROT_READ, PGT_MAP_NOSUPER), PGT_OK);
	ck_assert_int_eq(e.t.allocs, allocs); /* reused */
	for (unsigned k = 0; k < 8; k++) {
		pgt_ref_t r1, r2;
		uintptr_t n1, n2;
		CHECK_RC(pgt_lookup(&e.sp, va2 + k * page, &r1), PGT_OK);
		CHECK_RC(pgt_lookup(&fresh.sp, va2 + k * page, &r2), PGT_OK);
		CHECK_RC(pgt_get_link(&e.sp, r1, va2 + k * page, &n1), PGT_OK);
		CHECK_RC(pgt_get_link(&fresh.sp, r2, va2 + k * page, &n2), PGT_OK);
		CHECK_THAT(n1 == n2 && *r1.pte == *r2.pte, "%s: page %u: link %#lx / %#lx, entry %#llx / %#llx",
			   e.a->name, k, (unsigned long)n1, (unsigned long)n2, (unsigned long long)*r1.pte,
			   (unsigned long long)*r2.pte);
	}
	/* the whole tables are alike: the harness compares them leaf by leaf */
	size_t n1, n2;
	struct test_leaf *l1 = tree_leaves(&e.sp, e.a, &e.t, e.flags, &n1);
	struct test_leaf *l2 = tree_leaves(&fresh.sp, fresh.a, &fresh.t, fresh.flags, &n2);
	ck_assert(leaves_equal(l1, n1, l2, n2));
	free(l1);
	free(l2);
	env_sound(&e);
	env_close(&fresh);
	env_close(&e);
}
END_TEST

/** The level-0 table holding the page at @p va, as the library's lookup finds it. */
static pgt_pte_t *leaf_table(struct env *e, pgt_vaddr_t va)
{
	pgt_ref_t ref;
	const struct pgt_level *L = &e->a->level[0];

	CHECK_RC(pgt_lookup(&e->sp, va, &ref), PGT_OK);
	return ref.pte - ((va >> L->shift) & ((1ull << L->bits) - 1));
}

/* pgt_verify reports a kept table with an entry or a link word set, and stops when it is clean again. */
START_TEST(test_cache_verify_catches_dirty_table)
{
	struct env e;
	pgt_vaddr_t va = root_slot_va(test_archs[_i], 1);
	char why[80] = "";

	env_open(&e, test_archs[_i], PGT_SPACE_LINKS, 2);
	CHECK_RC(map_page(&e, va), PGT_OK);
	pgt_pte_t *tab = leaf_table(&e, va);
	size_t entries = (size_t)1 << e.a->level[0].bits;
	CHECK_RC(pgt_unmap(&e.sp, va, smallest(e.a)), PGT_OK);
	ck_assert_int_eq(verify_count(&e, NULL), 0);

	size_t spots[] = { 9, entries - 1, entries + 3 /* a link word */ };
	for (size_t k = 0; k < sizeof spots / sizeof spots[0]; k++) {
		tab[spots[k]] = 0x40;
		ck_assert_int_eq(verify_count(&e, why), 1);
		ck_assert_str_eq(why, "table kept for reuse not empty");
		tab[spots[k]] = 0;
		ck_assert_int_eq(verify_count(&e, NULL), 0);
	}
	env_close(&e);
}
END_TEST

/*
 * A table that a one-page unmap empties and frees by itself (the format
 * keeps occupancy counts, and the table above keeps other entries) links the
 * cache through the two entries next to the one that unmap cleared, the
 * cache line it had just written: table B, emptied at entry 37, holds table
 * A's pointer in entry 36 and A's address word in 37, and nothing else.
 * Without counts the general unmap frees it, through its first two entries,
 * which its list of dead tables wrote. pgt_verify reports an address word
 * that puts the list between two entries. Taking B back leaves it zero but
 * for the new page.
 */
START_TEST(test_cache_words_next_to_the_last_entry)
{
	struct env e;
	const struct pgt_arch *a = test_archs[_i];
	uint64_t page = smallest(a), span = page << a->level[0].bits;
	pgt_vaddr_t va_a = root_slot_va(a, 1), va_b = va_a + 2 * span + 37 * page, va_c = va_a + 4 * span;
	size_t entries = (size_t)1 << a->level[0].bits, w = a->level[1].table_count ? 36 : 0;
	char why[80] = "";

	env_open(&e, a, 0, 2);
	CHECK_RC(map_page(&e, va_a), PGT_OK);
	CHECK_RC(map_page(&e, va_b), PGT_OK);
	CHECK_RC(map_page(&e, va_c), PGT_OK); /* keeps the table above A's and B's */
	pgt_pte_t *tab_a = leaf_table(&e, va_a), *tab_b = leaf_table(&e, va_b);
	CHECK_RC(pgt_unmap(&e.sp, va_a, page), PGT_OK);
	CHECK_RC(pgt_unmap(&e.sp, va_b, page), PGT_OK);
	ck_assert_int_eq(verify_count(&e, NULL), 0);
	ck_assert_ptr_eq((void *)(uintptr_t)tab_b[w], tab_a);
	ck_assert(tab_b[w + 1] != 0);
	for (size_t k = 0; k < entries; k++)
		CHECK_THAT(k == w || k == w + 1 || tab_b[k] == 0, "%s: entry %zu of the kept table: %#llx", a->name,
			   k, (unsigned long long)tab_b[k]);

	e.sp.pgt__cache[0].head_pa += sizeof(pgt_pte_t);
	ck_assert_int_eq(verify_count(&e, why), 1);
	ck_assert_str_eq(why, "table kept for reuse links the list from between two entries");
	e.sp.pgt__cache[0].head_pa -= sizeof(pgt_pte_t);
	ck_assert_int_eq(verify_count(&e, NULL), 0);

	CHECK_RC(map_page(&e, va_b + page), PGT_OK); /* takes B: the top of the cache */
	ck_assert_ptr_eq(leaf_table(&e, va_b + page), tab_b);
	for (size_t k = 0; k < entries; k++)
		CHECK_THAT(k == 38 || tab_b[k] == 0, "%s: entry %zu of the table taken back: %#llx", a->name, k,
			   (unsigned long long)tab_b[k]);
	ck_assert_int_eq(verify_count(&e, NULL), 0);
	env_close(&e);
}
END_TEST

/* --- the same operations with and without a cache -------------------------------------- */

/*
 * Random one-page and small-range maps, unmaps and protects in a window of
 * a few level-1 entries, on a space with a small cache and one without:
 * the same statuses and the same leaves after every call, both sound.
 */
START_TEST(test_cache_same_trees)
{
	struct env c, plain;
	uint64_t rng = 0xcac4e + (uint64_t)_i;
	const struct pgt_arch *a = test_archs[_i];
	uint64_t page = smallest(a), span = 4ull << a->level[1].shift;
	pgt_vaddr_t lo = root_slot_va(a, 1);
	unsigned steps = test_slow_runner() ? 150 : 600;

	env_open(&c, a, 0, 1);
	env_open(&plain, a, 0, 0);
	for (unsigned s = 0; s < steps; s++) {
		uint64_t size = page * (1 + test_rand(&rng) % 4);
		pgt_vaddr_t va = lo + page * (test_rand(&rng) % ((span - size) / page));
		if (test_rand(&rng) % 4 == 0) /* a table's worth at once, sometimes */
			va &= ~((1ull << a->level[1].shift) - 1), size = 1ull << a->level[1].shift;
		unsigned op = (unsigned)(test_rand(&rng) % 3);
		int r1, r2;
		if (op == 0) {
			r1 = pgt_map(&c.sp, va, va, size, PGT_PROT_READ, 0);
			r2 = pgt_map(&plain.sp, va, va, size, PGT_PROT_READ, 0);
		} else if (op == 1) {
			r1 = pgt_unmap(&c.sp, va, size);
			r2 = pgt_unmap(&plain.sp, va, size);
		} else {
			r1 = pgt_protect(&c.sp, va, size, PGT_PROT_READ | PGT_PROT_WRITE);
			r2 = pgt_protect(&plain.sp, va, size, PGT_PROT_READ | PGT_PROT_WRITE);
		}
		CHECK_THAT(r1 == r2, "%s: step %u op %u: %s with a cache, %s without", a->name, s, op,
			   pgt_strerror(r1), pgt_strerror(r2));
		size_t n1, n2;
		struct test_leaf *l1 = tree_leaves(&c.sp, a, &c.t, 0, &n1);
		struct test_leaf *l2 = tree_leaves(&plain.sp, a, &plain.t, 0, &n2);
		CHECK_THAT(leaves_equal(l1, n1, l2, n2), "%s: step %u: trees differ", a->name, s);
		free(l1);
		free(l2);
		env_sound(&c);
		CHECK_THAT(test_mm_outstanding(&c.t) <= test_mm_outstanding(&plain.t) + (a->levels - 1u),
			   "%s: step %u: %zu frames, %zu without a cache", a->name, s, test_mm_outstanding(&c.t),
			   test_mm_outstanding(&plain.t));
	}
	env_close(&plain);
	env_close(&c);
}
END_TEST

static Suite *cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("cache");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cache_bad_input);
	tcase_add_loop_test(tc, test_cache_reuses_every_level, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_cache_off_by_default, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_cache_bound_lower_trim, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_cache_destroy_gives_back, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_cache_alloc_failure_every_n, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_cache_branch_failure_every_n, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_cache_reused_links_zero, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_cache_verify_catches_dirty_table, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_cache_words_next_to_the_last_entry, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_cache_same_trees, 0, (int)test_narchs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(cache_suite());
}
