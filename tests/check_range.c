/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the range operations (lib/range.c): pgt_map, pgt_unmap and
 * pgt_protect, on every shipped descriptor, in both halves of the address range.
 *
 * Covers: the page sizes pgt_map picks (compared with an independent greedy
 * reference: the largest page that va, pa and the rest of the range allow),
 * PGT_MAP_NOSUPER, conflicts found before anything is written, PGT_MAP_REPLACE,
 * superpage splits by unmap and protect at every level, reclamation of every
 * table left empty (unmapping everything leaves just the root), the exact
 * ranges reported to tlb_flush and break-before-make on ARMv8, the first and
 * last pages of each range, allocation failure at every allocation of every
 * operation leaving the tree bit-for-bit as it was, and bad arguments.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/tlb.h>

#include "extents.h"
#include "harness.h"

/*
 * Check records every passing ck_assert (a write to its message file), so
 * loops over many leaves test with this and only call Check on a failure.
 */
#define REQUIRE(cond, ...)                        \
	do {                                      \
		if (!(cond))                      \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/* --- fixtures --------------------------------------------------------------- */

enum { R = PGT_PROT_READ, W = PGT_PROT_WRITE, X = PGT_PROT_EXEC, U = PGT_PROT_USER };

/** A descriptor, one of its two ranges, and a space over it with its allocator. */
struct ctx {
	const struct pgt_arch *a;
	unsigned flags;
	pgt_vaddr_t bottom, top; /**< first and last byte of the range under test */
	struct test_mm t;
	pgt_space_t sp;
	char who[96];
};

/** Configuration @p i: descriptor i/2, lower (even) or upper (odd) range. */
static void ctx_open(struct ctx *c, int i, enum test_mm_mode mode)
{
	c->a = test_archs[i / 2];
	bool high = i & 1;
	c->flags = high && test_has_upper(c->a) ? PGT_SPACE_UPPER : 0;
	if (c->a->canon == PGT_CANON_SIGN_EXTEND) {
		unsigned b = c->a->va_bits - 1u;
		c->bottom = high ? ~0ull << b : 0;
		c->top = high ? ~0ull : (1ull << b) - 1;
	} else {
		c->bottom = test_va_bottom(c->a, c->flags);
		c->top = test_va_top(c->a, c->flags);
	}
	snprintf(c->who, sizeof c->who, "%s %s (%s)", c->a->name, high ? "high" : "low",
		 mode == TEST_MM_HOOK ? "hook" : "offset");
	test_mm_init(&c->t, mode);
	ck_assert_int_eq(pgt_space_init(&c->sp, c->a, &c->t.mm, c->flags), PGT_OK);
}

/** Checks the tree, destroys the space and checks that the books balance. */
static void ctx_close(struct ctx *c)
{
	struct tree_stats st = tree_check(&c->sp, c->a, &c->t);
	ck_assert_msg(st.problems == 0, "%s: %zu problems in the tree", c->who, st.problems);
	pgt_space_destroy(&c->sp);
	ck_assert_msg(c->t.errors == 0, "%s: bad frees", c->who);
	ck_assert_msg(c->t.allocs == c->t.frees, "%s: %ld tables allocated, %ld freed", c->who, c->t.allocs,
		      c->t.frees);
	test_mm_fini(&c->t);
}

static unsigned shift_of(const struct pgt_arch *a, unsigned level)
{
	return a->level[level].shift;
}

static uint64_t page_of(const struct pgt_arch *a)
{
	return 1ull << shift_of(a, 0);
}

/** The largest leaf size of the descriptor. */
static unsigned top_leaf_level(const struct pgt_arch *a)
{
	unsigned top = 0;
	for (unsigned l = 0; l < a->levels; l++)
		if (a->level[l].leaf_ok)
			top = l;
	return top;
}

/* --- what the tree should hold ------------------------------------------------ */

/** A run of memory mapped with one set of rights, as a test expects it. */
struct want {
	pgt_vaddr_t va;
	uint64_t size;
	pgt_paddr_t pa;
	unsigned prot;
};

/**
 * The tree maps exactly @p e (compared through the extent model of
 * tests/extents.h); no table is empty and the invariants hold.
 */
static void expect_tree(struct ctx *c, const struct want *e, size_t n)
{
	struct extents m;
	char why[200];

	ext_init(&m);
	for (size_t i = 0; i < n; i++)
		ext_map(&m, e[i].va, e[i].va + (e[i].size - 1), e[i].pa, e[i].prot);
	bool same = ext_matches_tree(&m, &c->sp, c->a, &c->t, c->flags, why, sizeof why);
	ext_fini(&m);
	ck_assert_msg(same, "%s: %s", c->who, why);
	struct tree_stats st = tree_check(&c->sp, c->a, &c->t);
	ck_assert_msg(st.problems == 0 && st.empty_tables == 0, "%s: %zu problems, %zu empty tables", c->who,
		      st.problems, st.empty_tables);
}

/** The page size pgt_map should pick at @p va: the largest that fits. */
static unsigned greedy_level(const struct pgt_arch *a, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t left,
			     bool nosuper)
{
	for (unsigned l = top_leaf_level(a); l > 0 && !nosuper; l--) {
		uint64_t s = 1ull << a->level[l].shift;
		if (a->level[l].leaf_ok && !(va & (s - 1)) && !(pa & (s - 1)) && left >= s)
			return l;
	}
	return 0;
}

/** The leaves pgt_map(va, pa, size) made are exactly the greedy ones. */
static void expect_layout(struct ctx *c, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, bool nosuper)
{
	size_t nl, k = 0;
	struct test_leaf *lv = tree_leaves(&c->sp, c->a, &c->t, c->flags, &nl);
	uint64_t done = 0;

	while (done < size) {
		unsigned l = greedy_level(c->a, va + done, pa + done, size - done, nosuper);
		while (k < nl && lv[k].va < va)
			k++;
		REQUIRE(k < nl && lv[k].va == va + done && lv[k].level == l,
			      "%s: map %#llx+%#llx from %#llx: expected a level-%u page at %#llx", c->who,
			      (unsigned long long)va, (unsigned long long)size, (unsigned long long)pa, l,
			      (unsigned long long)(va + done));
		done += 1ull << shift_of(c->a, l);
		k++;
	}
	free(lv);
}

/** Only the root table is left. */
static void expect_only_root(struct ctx *c)
{
	ck_assert_msg(test_mm_outstanding(&c->t) == 1, "%s: %zu tables outstanding, only the root expected", c->who,
		      test_mm_outstanding(&c->t));
}

static pgt_pte_t *snapshot(struct ctx *c, size_t *n)
{
	return tree_snapshot(&c->sp, c->a, &c->t, n);
}

#define EXPECT_UNCHANGED(c, snap, n, what) \
	ck_assert_msg(tree_unchanged(&(c)->sp, (c)->a, &(c)->t, (snap), (n)), "%s: %s changed the tree", (c)->who, (what))

/* --- pgt_map ---------------------------------------------------------------- */

/**
 * The unit of random_range: the largest leaf, but no larger than a level-2
 * one (x86-64's and ARMv8's 1 GiB, RISC-V Sv39's 1 GiB). A range of three
 * units is mapped in level-1 pages when pa does not share va's offset, and
 * in the smallest with PGT_MAP_NOSUPER: about 786,000 leaves for 1 GiB, but
 * 400 million for Sv57's 256 TiB pages (and 786,000 2 MiB ones for Sv48's
 * 512 GiB), which the harness's walks cannot hold. test_map_mixed_sizes
 * maps the largest leaves of every format.
 */
static uint64_t range_unit(const struct pgt_arch *a)
{
	unsigned l = top_leaf_level(a);

	return 1ull << shift_of(a, l < 2u ? l : 2u);
}

/**
 * A random range near the bottom or the top of the range under test. Small
 * ranges get any page alignment of pa; large ones keep pa aligned to the
 * level-1 size at least, so that the tree stays a few thousand leaves.
 */
static void random_range(struct ctx *c, uint64_t *rng, pgt_vaddr_t *va, pgt_paddr_t *pa, uint64_t *size)
{
	uint64_t top = range_unit(c->a);
	uint64_t mid = 1ull << shift_of(c->a, 1), page = page_of(c->a);
	uint64_t room = 4 * top;
	bool small = test_rand(rng) & 1;

	*size = (1 + test_rand(rng) % ((small ? 4 * mid : 3 * top) / page)) * page;
	uint64_t off = (test_rand(rng) % ((room - *size) / page)) * page;
	*va = (test_rand(rng) & 1) ? c->bottom + off : c->top - room + 1 + off;
	uint64_t pbase = (test_rand(rng) % 64) * top, align = small ? page : mid;
	/* half the time pa shares va's offset in the largest page, so every size can be used */
	*pa = pbase + ((test_rand(rng) & 1) ? (*va & (top - 1)) : (test_rand(rng) % (top / align)) * align);
	if (!small)
		*pa += *va & (mid - 1); /* same offset in a level-1 page as va */
	*pa &= ~(page - 1);
}

START_TEST(test_map_layout)
{
	uint64_t rng = 0x1a40u + (uint64_t)_i;

	for (int round = 0; round < 12; round++) {
		struct ctx c;
		ctx_open(&c, _i, round & 1 ? TEST_MM_HOOK : TEST_MM_OFFSET);
		pgt_vaddr_t va;
		pgt_paddr_t pa;
		uint64_t size;
		random_range(&c, &rng, &va, &pa, &size);
		bool nosuper = round % 4 == 3;
		unsigned prot = (round % 3 == 0) ? R | W : R | X | U;

		ck_assert_int_eq(pgt_map(&c.sp, va, pa, size, prot, nosuper ? PGT_MAP_NOSUPER : 0), PGT_OK);
		expect_layout(&c, va, pa, size, nosuper);
		struct want e = { va, size, pa, prot };
		expect_tree(&c, &e, 1);
		ck_assert_int_eq(c.t.flushes, 0); /* nothing was live before */
		ck_assert_int_eq(pgt_unmap(&c.sp, va, size), PGT_OK);
		expect_only_root(&c);
		ctx_close(&c);
	}
}
END_TEST

/** Head, body and middle: smallest pages up to the first superpage boundary, then larger ones. */
START_TEST(test_map_mixed_sizes)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_OFFSET);
	unsigned top = top_leaf_level(c.a);
	uint64_t big = 1ull << shift_of(c.a, top), page = page_of(c.a);
	pgt_vaddr_t va = c.bottom + big - 3 * page;
	uint64_t size = 3 * page + 2 * big + 5 * page;

	ck_assert_int_eq(pgt_map(&c.sp, va, va - c.bottom, size, R | W, 0), PGT_OK);
	expect_layout(&c, va, va - c.bottom, size, false);
	size_t nl;
	struct test_leaf *lv = tree_leaves(&c.sp, c.a, &c.t, c.flags, &nl);
	unsigned largest = 0;
	for (size_t i = 0; i < nl; i++)
		largest = lv[i].level > largest ? lv[i].level : largest;
	free(lv);
	ck_assert_msg(largest == top, "%s: no page of the largest size was used", c.who);
	ctx_close(&c);
}
END_TEST

START_TEST(test_map_conflicts)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_HOOK);
	uint64_t page = page_of(c.a), mid = 1ull << shift_of(c.a, 1);
	pgt_vaddr_t va = c.bottom + 4 * mid;
	struct want e[2] = { { va, 2 * mid, 0x40000000, R | W } };

	ck_assert_int_eq(pgt_map(&c.sp, va, e[0].pa, e[0].size, R | W, 0), PGT_OK);
	/* Inside, straddling either end, covering: all refused, nothing written or allocated. */
	const struct { pgt_vaddr_t va; uint64_t size; } bad[] = {
		{ va + page, page }, { va - page, 2 * page }, { va + 2 * mid - page, 2 * page },
		{ va - mid, 4 * mid }, { va, mid }, { va + 2 * mid - page, page },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n;
		pgt_pte_t *snap = snapshot(&c, &n);
		long allocs = c.t.attempts;
		ck_assert_int_eq(pgt_map(&c.sp, bad[i].va, 0, bad[i].size, R, 0), PGT_ECONFLICT);
		EXPECT_UNCHANGED(&c, snap, n, "a conflicting map");
		ck_assert_int_eq(c.t.attempts, allocs);
	}
	/* A reserved leaf made by pgt_insert counts as mapped. */
	pgt_ref_t ref;
	ck_assert_int_eq(pgt_insert(&c.sp, va + 8 * mid, shift_of(c.a, 0), &ref), PGT_OK);
	ck_assert_int_eq(pgt_map(&c.sp, va + 8 * mid - page, 0, 2 * page, R, 0), PGT_ECONFLICT);
	e[1] = (struct want){ va + 8 * mid, page, 0, 0 };
	expect_tree(&c, e, 2);
	ctx_close(&c);
}
END_TEST

/*
 * Maps inside one existing table of the smallest pages (pgt_map's short
 * path): a run of empty slots is filled with consecutive frames; a run that
 * meets a leaf or a reserved leaf anywhere is refused with nothing written
 * or allocated; a range that crosses into the next table or covers a whole
 * entry of level 1 gets the full treatment.
 */
START_TEST(test_map_into_one_table)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_OFFSET);
	uint64_t page = page_of(c.a), mid = 1ull << shift_of(c.a, 1);
	pgt_vaddr_t va = c.bottom + 6 * mid;
	struct want e[4] = { { va, page, 0x10000000, R } };
	pgt_ref_t ref;

	ck_assert_int_eq(pgt_map(&c.sp, va, e[0].pa, page, R, 0), PGT_OK);
	long attempts = c.t.attempts;
	e[1] = (struct want){ va + page, 3 * page, 0x20000000, R | W };
	ck_assert_int_eq(pgt_map(&c.sp, e[1].va, e[1].pa, e[1].size, R | W, 0), PGT_OK);
	ck_assert_int_eq(c.t.attempts, attempts); /* the table was there */
	expect_tree(&c, e, 2);

	ck_assert_int_eq(pgt_insert(&c.sp, va + 8 * page, shift_of(c.a, 0), &ref), PGT_OK);
	e[2] = (struct want){ va + 8 * page, page, 0, 0 };
	const struct { pgt_vaddr_t va; uint64_t size; } bad[] = {
		{ va + 5 * page, 4 * page }, /* the reserved leaf is the last slot */
		{ va + 6 * page, 6 * page }, /* ... a middle one */
		{ va + 3 * page, 2 * page }, /* a valid leaf is the first */
		{ va, mid },                 /* the whole entry above: the passes decide */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n;
		pgt_pte_t *snap = snapshot(&c, &n);
		ck_assert_int_eq(pgt_map(&c.sp, bad[i].va, 0x30000000, bad[i].size, R, 0), PGT_ECONFLICT);
		EXPECT_UNCHANGED(&c, snap, n, "a conflicting map into one table");
		ck_assert_int_eq(c.t.attempts, attempts);
	}
	/* The last two slots of the table and the first of the next: a new table. */
	e[3] = (struct want){ va + mid - 2 * page, 3 * page, 0x40000000, R };
	ck_assert_int_eq(pgt_map(&c.sp, e[3].va, e[3].pa, e[3].size, R, 0), PGT_OK);
	ck_assert_int_eq(c.t.attempts, attempts + 1);
	expect_tree(&c, e, 4);
	ctx_close(&c);
}
END_TEST

/*
 * Rights that change from one call to the next, and back: each range gets
 * its own, through the one-table path and the passes alike (pgt_map may
 * remember the last encoding). A refused encoding (write without read) and
 * a refused argument in between change nothing and leave the next map right.
 */
START_TEST(test_map_rights_sequence)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_OFFSET);
	uint64_t page = page_of(c.a), mid = 1ull << shift_of(c.a, 1);
	static const unsigned prot[] = { R, R | W, R | W, R | X | U, R, 0, R | W | X, R | W };
	struct want e[sizeof prot / sizeof prot[0] + 1];
	size_t n = 0;

	for (size_t i = 0; i < sizeof prot / sizeof prot[0]; i++) {
		/* odd calls: a page in the table the first made; even ones: a new table (the passes) */
		pgt_vaddr_t va = c.bottom + (i & 1 ? 3 * page * (i + 1) : 4 * mid * (i + 1));
		e[n] = (struct want){ va, page, 0x10000000 + 0x100000 * i, prot[i] };
		if (i & 1)
			e[n].va = e[0].va + (i + 1) * page;
		ck_assert_int_eq(pgt_map(&c.sp, e[n].va, e[n].pa, page, prot[i], 0), PGT_OK);
		n++;
		size_t ns;
		pgt_pte_t *snap = snapshot(&c, &ns);
		if (!test_write_only(c.a)) /* ARMv8 stage 2 has write-only pages */
			ck_assert_int_eq(pgt_map(&c.sp, e[n - 1].va + page, 0, page, W, 0), PGT_ENOTSUP);
		ck_assert_int_eq(pgt_map(&c.sp, e[n - 1].va + page, 0, page, 1u << 30, 0), PGT_EFLAGS);
		ck_assert_int_eq(pgt_map(&c.sp, e[n - 1].va + page, 0, page, ~0u, 0), PGT_EFLAGS);
		ck_assert_int_eq(pgt_protect(&c.sp, e[n - 1].va, page, ~0u), PGT_EFLAGS);
		EXPECT_UNCHANGED(&c, snap, ns, "a refused map");
	}
	e[n] = (struct want){ e[0].va + 2 * mid - page, page, 0x20000000, prot[0] };
	ck_assert_int_eq(pgt_map(&c.sp, e[n].va, e[n].pa, page, prot[0], 0), PGT_OK);
	expect_tree(&c, e, n + 1);
	ctx_close(&c);
}
END_TEST

/*
 * The same short path one level up, for every superpage size: superpages
 * mapped into an existing table of their level are stored without an
 * allocation; a slot that holds a table (a small page below it) is refused
 * with nothing written; PGT_MAP_NOSUPER and an output address aligned only
 * to smaller pages still get smaller pages.
 */
/** Where the superpage tests of level @p l start: entry 4 of the third table of that level. */
static pgt_vaddr_t superpages_va(const struct ctx *c, unsigned l)
{
	uint64_t region = l + 1u < c->a->levels ? 1ull << shift_of(c->a, l + 1u) : 0;

	return c->bottom + 2 * region + 4 * (1ull << shift_of(c->a, l));
}

/** Runs @p test in a new space of configuration @p i for every superpage level of its descriptor. */
static void for_each_superpage_level(int i, void (*test)(struct ctx *c, unsigned l))
{
	const struct pgt_arch *a = test_archs[i / 2];

	for (unsigned l = 1; l < a->levels; l++) {
		if (!a->level[l].leaf_ok)
			continue;
		struct ctx c;
		ctx_open(&c, i, (l & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET);
		test(&c, l);
		ctx_close(&c);
	}
}

static void map_superpages_at(struct ctx *c, unsigned l)
{
	uint64_t big = 1ull << shift_of(c->a, l), page = page_of(c->a);
	pgt_vaddr_t va = superpages_va(c, l);
	struct want e[5] = { { va, big, 8 * big, R } };

	ck_assert_int_eq(pgt_map(&c->sp, va, e[0].pa, big, R, 0), PGT_OK);
	long attempts = c->t.attempts;
	e[1] = (struct want){ va + big, 3 * big, 16 * big, R | W };
	ck_assert_int_eq(pgt_map(&c->sp, e[1].va, e[1].pa, e[1].size, R | W, 0), PGT_OK);
	ck_assert_int_eq(c->t.attempts, attempts); /* the table was there */
	expect_layout(c, e[1].va, e[1].pa, e[1].size, false);

	e[2] = (struct want){ va + 5 * big + page, page, 0x10000000, R };
	ck_assert_int_eq(pgt_map(&c->sp, e[2].va, e[2].pa, page, R, 0), PGT_OK);
	attempts = c->t.attempts;
	size_t n;
	pgt_pte_t *snap = snapshot(c, &n);
	ck_assert_int_eq(pgt_map(&c->sp, va + 4 * big, 32 * big, 2 * big, R, 0), PGT_ECONFLICT);
	EXPECT_UNCHANGED(c, snap, n, "a superpage map over a table");
	snap = snapshot(c, &n); /* tree_unchanged frees the snapshot */
	ck_assert_int_eq(pgt_map(&c->sp, va + 3 * big, 32 * big, big, R, 0), PGT_ECONFLICT);
	EXPECT_UNCHANGED(c, snap, n, "a superpage map over a superpage");
	ck_assert_int_eq(c->t.attempts, attempts);

	/* Smallest pages for a whole superpage: level 1 only, to keep the leaves few. */
	bool nosuper = l == 1;
	e[3] = (struct want){ va + 6 * big, big, 24 * big, R };
	ck_assert_int_eq(pgt_map(&c->sp, e[3].va, e[3].pa, big, R, nosuper ? PGT_MAP_NOSUPER : 0), PGT_OK);
	expect_layout(c, e[3].va, e[3].pa, big, nosuper);
	e[4] = (struct want){ va + 7 * big, big, 40 * big + (1ull << shift_of(c->a, l - 1u)), R };
	ck_assert_int_eq(pgt_map(&c->sp, e[4].va, e[4].pa, big, R, 0), PGT_OK);
	expect_layout(c, e[4].va, e[4].pa, big, false);
	expect_tree(c, e, 5);
}

START_TEST(test_map_superpages_into_one_table)
{
	for_each_superpage_level(_i, map_superpages_at);
}
END_TEST

START_TEST(test_map_replace)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_OFFSET);
	uint64_t page = page_of(c.a), mid = 1ull << shift_of(c.a, 1);
	pgt_vaddr_t va = c.bottom + 8 * mid;

	ck_assert_int_eq(pgt_map(&c.sp, va, 0x10000000, 4 * mid, R | W, 0), PGT_OK);
	/* a smaller-page replacement in the middle of superpages: they are split around it */
	ck_assert_int_eq(pgt_map(&c.sp, va + mid + page, 0x80000000 + page, 3 * page, R | X, PGT_MAP_REPLACE),
			 PGT_OK);
	struct want e[] = {
		{ va, mid + page, 0x10000000, R | W },
		{ va + mid + page, 3 * page, 0x80000000 + page, R | X },
		{ va + mid + 4 * page, 3 * mid - 4 * page, 0x10000000 + mid + 4 * page, R | W },
	};
	expect_tree(&c, e, 3);
	/* a superpage over smaller pages: the table under it goes away */
	ck_assert_int_eq(pgt_map(&c.sp, va, 0x20000000, 2 * mid, R, PGT_MAP_REPLACE), PGT_OK);
	e[0] = (struct want){ va, 2 * mid, 0x20000000, R };
	e[1] = (struct want){ va + 2 * mid, 2 * mid, 0x10000000 + 2 * mid, R | W };
	expect_tree(&c, e, 2);
	expect_layout(&c, va, 0x20000000, 2 * mid, false);
	ck_assert_int_eq(pgt_unmap(&c.sp, c.bottom, 64 * mid), PGT_OK);
	expect_only_root(&c);
	ctx_close(&c);
}
END_TEST

/* --- pgt_unmap and pgt_protect: splits and reclamation --------------------- */

/** Cuts one smallest page out of a superpage at each leaf level: start, middle, end. */
START_TEST(test_unmap_split_every_level)
{
	for (unsigned where = 0; where < 3; where++) {
		struct ctx c;
		ctx_open(&c, _i, where == 1 ? TEST_MM_HOOK : TEST_MM_OFFSET);
		uint64_t page = page_of(c.a);
		for (unsigned l = 1; l < c.a->levels; l++) {
			if (!c.a->level[l].leaf_ok)
				continue;
			uint64_t big = 1ull << shift_of(c.a, l);
			pgt_vaddr_t va = c.bottom + 2 * big;
			pgt_paddr_t pa = 3 * big;
			ck_assert_int_eq(pgt_map(&c.sp, va, pa, big, R | W | U, 0), PGT_OK);
			pgt_ref_t ref;
			ck_assert_int_eq(pgt_lookup(&c.sp, va, &ref), PGT_OK);
			ck_assert_int_eq(pgt_set_field(&c.sp, ref, PGT_FIELD_ACCESSED, 1), PGT_OK);
			ck_assert_int_eq(pgt_set_field(&c.sp, ref, PGT_FIELD_DIRTY, 1), PGT_OK);
			uint64_t cut = where == 0 ? 0 : where == 1 ? big / 2 + 5 * page : big - page;
			ck_assert_int_eq(pgt_unmap(&c.sp, va + cut, page), PGT_OK);
			struct want e[2];
			size_t n = 0;
			if (cut)
				e[n++] = (struct want){ va, cut, pa, R | W | U };
			if (cut + page < big)
				e[n++] = (struct want){ va + cut + page, big - cut - page, pa + cut + page, R | W | U };
			expect_tree(&c, e, n);
			ck_assert_int_eq(pgt_lookup(&c.sp, va + cut, NULL), PGT_ENOENT);
			/* the smaller pages keep the superpage's accessed and dirty state */
			uint64_t acc = 0, dirty = 0;
			ck_assert_int_eq(pgt_lookup(&c.sp, va + (cut ? 0 : big - page), &ref), PGT_OK);
			ck_assert_uint_lt(ref.level, l);
			ck_assert_int_eq(pgt_get_field(&c.sp, ref, PGT_FIELD_ACCESSED, &acc), PGT_OK);
			ck_assert_int_eq(pgt_get_field(&c.sp, ref, PGT_FIELD_DIRTY, &dirty), PGT_OK);
			ck_assert(acc == 1 && dirty == 1);
			ck_assert_int_eq(pgt_unmap(&c.sp, va, big), PGT_OK);
			expect_only_root(&c);
		}
		ctx_close(&c);
	}
}
END_TEST

START_TEST(test_unmap_everything)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_HOOK);
	uint64_t rng = 0x77u + (uint64_t)_i;
	for (int k = 0; k < 20; k++) {
		pgt_vaddr_t va;
		pgt_paddr_t pa;
		uint64_t size;
		random_range(&c, &rng, &va, &pa, &size);
		int rc = pgt_map(&c.sp, va, pa, size, R | W, 0);
		ck_assert(rc == PGT_OK || rc == PGT_ECONFLICT);
	}
	ck_assert_int_eq(pgt_unmap(&c.sp, c.bottom, c.top - c.bottom + 1), PGT_OK);
	expect_only_root(&c);
	/* unmapping nothing is fine, and flushes nothing */
	long flushes = c.t.flushes;
	ck_assert_int_eq(pgt_unmap(&c.sp, c.bottom, c.top - c.bottom + 1), PGT_OK);
	ck_assert_int_eq(c.t.flushes, flushes);
	ctx_close(&c);
}
END_TEST

START_TEST(test_protect_split)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_OFFSET);
	unsigned top = top_leaf_level(c.a);
	uint64_t big = 1ull << shift_of(c.a, top), page = page_of(c.a);
	pgt_vaddr_t va = c.bottom + big;

	ck_assert_int_eq(pgt_map(&c.sp, va, big, big, R | W | X, 0), PGT_OK);
	ck_assert_int_eq(pgt_protect(&c.sp, va + 2 * page, 3 * page, R), PGT_OK);
	struct want e[] = {
		{ va, 2 * page, big, R | W | X },
		{ va + 2 * page, 3 * page, big + 2 * page, R },
		{ va + 5 * page, big - 5 * page, big + 5 * page, R | W | X },
	};
	expect_tree(&c, e, 3);
	ck_assert_int_ge(c.t.flushes, 1);
	long last = c.t.flushes - 1;
	ck_assert_uint_eq(c.t.flush_log[last].va, va + 2 * page);
	ck_assert_uint_eq(c.t.flush_log[last].size, 3 * page);
	/* no rights: reserved leaves, still found by lookup; unmapped parts are skipped */
	ck_assert_int_eq(pgt_protect(&c.sp, va + 2 * page, 3 * page, 0), PGT_OK);
	ck_assert_int_eq(pgt_lookup(&c.sp, va + 3 * page, NULL), PGT_OK);
	ck_assert_int_eq(pgt_protect(&c.sp, va + big, 4 * big, R), PGT_OK);
	e[1].prot = 0;
	expect_tree(&c, e, 3);
	/* an upgrade of reserved leaves flushes nothing */
	long flushes = c.t.flushes;
	ck_assert_int_eq(pgt_protect(&c.sp, va + 2 * page, 3 * page, R | W), PGT_OK);
	ck_assert_int_eq(c.t.flushes, flushes);
	ck_assert_int_eq(pgt_unmap(&c.sp, va, big), PGT_OK);
	expect_only_root(&c);
	ctx_close(&c);
}
END_TEST

/* --- the tlb_flush hook --------------------------------------------------------- */

START_TEST(test_flush_ranges)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_OFFSET);
	uint64_t page = page_of(c.a);
	pgt_vaddr_t va = c.bottom + 16 * page;

	ck_assert_int_eq(pgt_map(&c.sp, va, 0, 8 * page, R | W, PGT_MAP_NOSUPER), PGT_OK);
	ck_assert_int_eq(pgt_map(&c.sp, va + 8 * page, 0, 4 * page, 0, PGT_MAP_NOSUPER), PGT_OK);
	ck_assert_int_eq(c.t.flushes, 0);
	/* one call for the valid entries removed, not one per entry */
	ck_assert_int_eq(pgt_unmap(&c.sp, va + 2 * page, 3 * page), PGT_OK);
	ck_assert_int_eq(c.t.flushes, 1);
	ck_assert_uint_eq(c.t.flush_log[0].va, va + 2 * page);
	ck_assert_uint_eq(c.t.flush_log[0].size, 3 * page);
	/* reserved leaves only: removed without a flush */
	ck_assert_int_eq(pgt_unmap(&c.sp, va + 8 * page, 4 * page), PGT_OK);
	ck_assert_int_eq(c.t.flushes, 1);
	/* the last valid pages, and the tables they leave empty: one call */
	ck_assert_int_eq(pgt_unmap(&c.sp, c.bottom, 64 * page), PGT_OK);
	ck_assert_int_eq(c.t.flushes, 2);
	ck_assert_uint_eq(c.t.flush_log[1].va, c.bottom);
	ck_assert_uint_eq(c.t.flush_log[1].size, 64 * page);
	expect_only_root(&c);
	ctx_close(&c);
}
END_TEST

/** State seen from inside the tlb_flush hook. */
struct bbm_probe {
	struct ctx *c;
	pgt_vaddr_t va;  /**< an address whose old translation must be gone at every flush */
	int seen;        /**< flushes during which va was unmapped */
};

static void probe_flush(struct test_mm *t, pgt_vaddr_t va, uint64_t size)
{
	struct bbm_probe *p = t->on_flush_arg;

	if (p->va >= va && p->va - va < size && pgt_lookup(&p->c->sp, p->va, NULL) == PGT_ENOENT)
		p->seen++;
}

/** Replacing live entries: invalid entries, one flush, then the new ones. */
/*
 * Unmap and protect of pages inside one table of smallest pages that stays
 * in use: exactly the right entries change, one tlb_flush covers the valid
 * ones changed (none when only reserved leaves or unchanged rights are
 * touched), nothing is allocated or freed, and the space's TLBs see it.
 * Unmapping the table's last pages still frees it.
 */
START_TEST(test_change_in_one_table)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_OFFSET);
	uint64_t page = page_of(c.a);
	pgt_vaddr_t va = c.bottom + 16 * page;
	struct pgt_tlb_entry tlbe[4];
	pgt_tlb_t tlb;
	unsigned prot;

	ck_assert_int_eq(pgt_map(&c.sp, va, 0x10000000, 8 * page, R | W, PGT_MAP_NOSUPER), PGT_OK);
	ck_assert_int_eq(pgt_map(&c.sp, va + 8 * page, 0x20000000, 4 * page, 0, PGT_MAP_NOSUPER), PGT_OK);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &c.sp, tlbe, 4, 1), PGT_OK);
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, va + page, NULL, &prot), PGT_OK);
	long attempts = c.t.attempts, frees = c.t.frees;

	ck_assert_int_eq(pgt_protect(&c.sp, va + page, 2 * page, R), PGT_OK);
	ck_assert_int_eq(c.t.flushes, 1);
	ck_assert_uint_eq(c.t.flush_log[0].va, va + page);
	ck_assert_uint_eq(c.t.flush_log[0].size, 2 * page);
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, va + page, NULL, &prot), PGT_OK);
	ck_assert_uint_eq(prot, R);
	ck_assert_int_eq(pgt_protect(&c.sp, va + page, 2 * page, R), PGT_OK); /* no change: no flush */
	ck_assert_int_eq(c.t.flushes, 1);

	ck_assert_int_eq(pgt_unmap(&c.sp, va + 4 * page, page), PGT_OK);
	ck_assert_int_eq(pgt_unmap(&c.sp, va + 3 * page, 3 * page), PGT_OK); /* a hole in the middle */
	ck_assert_int_eq(c.t.flushes, 3);
	ck_assert_uint_eq(c.t.flush_log[2].va, va + 3 * page);
	ck_assert_uint_eq(c.t.flush_log[2].size, 3 * page);
	ck_assert_int_eq(pgt_unmap(&c.sp, va + 9 * page, 2 * page), PGT_OK); /* reserved leaves only */
	ck_assert_int_eq(pgt_protect(&c.sp, va + 10 * page, 2 * page, R), PGT_OK);
	ck_assert_int_eq(c.t.flushes, 3);
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, va + 3 * page, NULL, NULL), PGT_ENOENT);
	ck_assert_int_eq(c.t.attempts, attempts);
	ck_assert_int_eq(c.t.frees, frees);
	const struct want e[] = {
		{ va, page, 0x10000000, R | W },
		{ va + page, 2 * page, 0x10000000 + page, R },
		{ va + 6 * page, 2 * page, 0x10000000 + 6 * page, R | W },
		{ va + 8 * page, page, 0x20000000, 0 },
		{ va + 11 * page, page, 0x20000000 + 3 * page, R },
	};
	expect_tree(&c, e, sizeof e / sizeof e[0]);

	/* the table's last pages: it is freed, and so are the tables above it */
	ck_assert_int_eq(pgt_unmap(&c.sp, va, 12 * page), PGT_OK);
	expect_only_root(&c);
	pgt_tlb_fini(&tlb);
	ctx_close(&c);
}
END_TEST

/*
 * pgt_map of a range inside one missing table: the branch down to it is
 * built with one allocation per missing level and linked once complete. A
 * failed allocation at any of them, or a new table that p2v cannot reach,
 * leaves the tree as it was with nothing leaked; a superpage or a reserved
 * leaf where the walk stops is a conflict, found before any allocation.
 */
START_TEST(test_map_new_branch)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_HOOK);
	unsigned root = c.a->levels - 1u;
	uint64_t page = page_of(c.a), mid = 1ull << shift_of(c.a, 1), slot = 1ull << shift_of(c.a, root);
	pgt_vaddr_t va = c.bottom + 2 * slot + 5 * mid + 7 * page;
	struct want e[4] = { { va, 3 * page, 0x10000000, R | W } };
	size_t n;

	for (long k = 1; k <= (long)root; k++) {
		pgt_pte_t *snap = snapshot(&c, &n);
		long attempts = c.t.attempts;
		c.t.fail_at = attempts + k;
		ck_assert_int_eq(pgt_map(&c.sp, va, e[0].pa, e[0].size, R | W, 0), PGT_ENOMEM);
		c.t.fail_at = 0;
		ck_assert_int_eq(c.t.attempts, attempts + k);
		EXPECT_UNCHANGED(&c, snap, n, "a failed allocation");
		expect_only_root(&c);
	}
	pgt_pte_t *snap = snapshot(&c, &n);
	c.t.p2v_null = true; /* the walk needs no p2v (only the root is there): the new tables do */
	ck_assert_int_eq(pgt_map(&c.sp, va, e[0].pa, e[0].size, R | W, 0), PGT_EHOOK);
	c.t.p2v_null = false;
	EXPECT_UNCHANGED(&c, snap, n, "a new table p2v cannot reach");
	expect_only_root(&c);

	long attempts = c.t.attempts;
	ck_assert_int_eq(pgt_map(&c.sp, va, e[0].pa, e[0].size, R | W, 0), PGT_OK);
	ck_assert_int_eq(c.t.attempts, attempts + (long)root);
	e[1] = (struct want){ va + mid, page, 0x20000000, R };
	ck_assert_int_eq(pgt_map(&c.sp, e[1].va, e[1].pa, page, R, 0), PGT_OK);
	ck_assert_int_eq(c.t.attempts, attempts + (long)root + 1); /* the level-0 table only */

	pgt_vaddr_t big = va - 7 * page + 2 * mid;
	e[2] = (struct want){ big, mid, 64 * mid, R };
	ck_assert_int_eq(pgt_map(&c.sp, big, e[2].pa, mid, R, 0), PGT_OK);
	e[3] = (struct want){ big + mid, mid, 0, 0 };
	ck_assert_int_eq(pgt_insert(&c.sp, e[3].va, shift_of(c.a, 1), NULL), PGT_OK);
	attempts = c.t.attempts;
	for (int i = 0; i < 2; i++) {
		snap = snapshot(&c, &n);
		ck_assert_int_eq(pgt_map(&c.sp, e[2 + i].va + 3 * page, 0x30000000, 2 * page, R, 0),
				 PGT_ECONFLICT);
		EXPECT_UNCHANGED(&c, snap, n, "a map inside a superpage");
		ck_assert_int_eq(c.t.attempts, attempts);
	}
	expect_tree(&c, e, 4);
	ctx_close(&c);
}
END_TEST

/** The tree is sound, its table counts among it (tree_check, pgt_verify), and no table is left empty. */
static void expect_sound(struct ctx *c, const char *after)
{
	struct tree_stats st = tree_check(&c->sp, c->a, &c->t);
	ck_assert_msg(st.problems == 0 && st.empty_tables == 0, "%s: after %s: %zu problems, %zu empty tables",
		      c->who, after, st.problems, st.empty_tables);
	ck_assert_msg(pgt_verify(&c->sp, NULL, NULL) == 0, "%s: after %s: pgt_verify", c->who, after);
}

/** Counts the tables freed before each flush (a tlb_flush hook probe). */
static void count_frees_at_flush(struct test_mm *t, pgt_vaddr_t va, uint64_t size)
{
	(void)va;
	(void)size;
	*(long *)t->on_flush_arg = t->frees;
}

/*
 * Unmap of a table's last pages while the table above stays in use (a
 * second table or a superpage beside it): the table is freed after the
 * one tlb_flush, which covers exactly the range, and the TLB misses.
 */
START_TEST(test_unmap_frees_one_table)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_OFFSET);
	unsigned root = c.a->levels - 1u;
	uint64_t page = page_of(c.a), mid = 1ull << shift_of(c.a, 1), slot = 1ull << shift_of(c.a, root);
	pgt_vaddr_t va = c.bottom + 3 * slot + 4 * mid;
	struct want e[2] = { { va + mid, page, 0x20000000, R }, { va + 2 * mid, mid, 32 * mid, R | W } };
	struct pgt_tlb_entry tlbe[8];
	pgt_tlb_t tlb;
	long frees_at_flush = -1;

	ck_assert_int_eq(pgt_map(&c.sp, va, 0x10000000, 2 * page, R | W, 0), PGT_OK);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pgt_map(&c.sp, e[i].va, e[i].pa, e[i].size, e[i].prot, 0), PGT_OK);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &c.sp, tlbe, 8, 2), PGT_OK);
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, va, NULL, NULL), PGT_OK);
	c.t.on_flush = count_frees_at_flush;
	c.t.on_flush_arg = &frees_at_flush;
	long frees = c.t.frees;

	ck_assert_int_eq(pgt_unmap(&c.sp, va + page, page), PGT_OK);
	ck_assert_int_eq(c.t.frees, frees);
	expect_sound(&c, "a page of two");
	ck_assert_int_eq(pgt_unmap(&c.sp, va, 4 * page), PGT_OK); /* the table's last page */
	ck_assert_int_eq(c.t.frees, frees + 1);
	ck_assert_int_eq(frees_at_flush, frees); /* freed after the flush */
	ck_assert_int_eq(c.t.flushes, 2);
	ck_assert_uint_eq(c.t.flush_log[1].va, va);
	ck_assert_uint_eq(c.t.flush_log[1].size, 4 * page);
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, va, NULL, NULL), PGT_ENOENT);
	expect_tree(&c, e, 2);

	ck_assert_int_eq(pgt_unmap(&c.sp, e[0].va, page), PGT_OK); /* the superpage keeps the table above */
	ck_assert_int_eq(c.t.frees, frees + 2);
	expect_sound(&c, "a table's one page");
	expect_tree(&c, &e[1], 1);
	ck_assert_int_eq(pgt_unmap(&c.sp, e[1].va, mid), PGT_OK);
	expect_sound(&c, "the last superpage");
	expect_only_root(&c);
	c.t.on_flush = NULL;
	pgt_tlb_fini(&tlb);
	ctx_close(&c);
}
END_TEST

/*
 * Unmap and protect of whole superpages inside one table, at every
 * superpage level: exactly those entries change, one tlb_flush covers
 * them, nothing is allocated or freed while the table stays in use, and
 * the TLB sees it; the last ones free the table.
 */
static void change_superpages_at(struct ctx *c, unsigned l)
{
	uint64_t big = 1ull << shift_of(c->a, l), page = page_of(c->a);
	pgt_vaddr_t va = superpages_va(c, l);
	struct want e[2] = { { va, big, 8 * big, R | W }, { va + big, big, 9 * big, R } };
	struct pgt_tlb_entry tlbe[8];
	pgt_tlb_t tlb;
	unsigned prot;

	ck_assert_int_eq(pgt_map(&c->sp, va, 8 * big, 4 * big, R | W, 0), PGT_OK);
	expect_layout(c, va, 8 * big, 4 * big, false);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &c->sp, tlbe, 8, 2), PGT_OK);
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, va + big + page, NULL, &prot), PGT_OK);
	long attempts = c->t.attempts, frees = c->t.frees, flushes = c->t.flushes;

	ck_assert_int_eq(pgt_protect(&c->sp, va + big, big, R), PGT_OK);
	ck_assert_int_eq(pgt_protect(&c->sp, va + big, big, R), PGT_OK); /* no change: no flush */
	ck_assert_int_eq(c->t.flushes, flushes + 1);
	ck_assert_uint_eq(c->t.flush_log[flushes].va, va + big);
	ck_assert_uint_eq(c->t.flush_log[flushes].size, big);
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, va + big + page, NULL, &prot), PGT_OK);
	ck_assert_uint_eq(prot, R);
	ck_assert_int_eq(pgt_unmap(&c->sp, va + 2 * big, 2 * big), PGT_OK);
	ck_assert_int_eq(c->t.flushes, flushes + 2);
	ck_assert_uint_eq(c->t.flush_log[flushes + 1].va, va + 2 * big);
	ck_assert_uint_eq(c->t.flush_log[flushes + 1].size, 2 * big);
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, va + 3 * big, NULL, NULL), PGT_ENOENT);
	ck_assert_int_eq(c->t.attempts, attempts);
	ck_assert_int_eq(c->t.frees, frees);
	expect_tree(c, e, 2);

	/* superpages and a table among them: the table's pages go too, and the table */
	ck_assert_int_eq(pgt_map(&c->sp, va + 2 * big, 2 * big, 2 * big, R, 0), PGT_OK);
	ck_assert_int_eq(pgt_map(&c->sp, va + 4 * big + page, 0x10000000, page, R, 0), PGT_OK);
	frees = c->t.frees;
	ck_assert_int_eq(pgt_unmap(&c->sp, va + 2 * big, 3 * big), PGT_OK);
	ck_assert_int_eq(c->t.frees, frees + (long)l);
	expect_tree(c, e, 2);

	ck_assert_int_eq(pgt_unmap(&c->sp, va, 2 * big), PGT_OK);
	expect_only_root(c);
	pgt_tlb_fini(&tlb);
}

START_TEST(test_change_superpages_in_one_table)
{
	for_each_superpage_level(_i, change_superpages_at);
}
END_TEST

START_TEST(test_replace_break_before_make)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_OFFSET);
	uint64_t page = page_of(c.a);
	pgt_vaddr_t va = c.bottom + 32 * page;
	struct bbm_probe probe = { .c = &c, .va = va + 2 * page };

	ck_assert_int_eq(pgt_map(&c.sp, va, 0x100000, 8 * page, R | W, PGT_MAP_NOSUPER), PGT_OK);
	c.t.on_flush = probe_flush;
	c.t.on_flush_arg = &probe;
	ck_assert_int_eq(pgt_map(&c.sp, va, 0x900000, 4 * page, R, PGT_MAP_REPLACE | PGT_MAP_NOSUPER), PGT_OK);
	ck_assert_int_eq(c.t.flushes, 1);
	ck_assert_int_eq(probe.seen, 1);
	ck_assert_uint_eq(c.t.flush_log[0].va, va);
	ck_assert_uint_eq(c.t.flush_log[0].size, 4 * page);
	struct want e[] = { { va, 4 * page, 0x900000, R }, { va + 4 * page, 4 * page, 0x100000 + 4 * page, R | W } };
	expect_tree(&c, e, 2);
	c.t.on_flush = NULL;
	ctx_close(&c);
}
END_TEST

/** Splitting a live superpage: ARMv8 breaks it first (its own flush); x86-64 rewrites it in one store. */
START_TEST(test_split_break_before_make)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_HOOK);
	uint64_t page = page_of(c.a), mid = 1ull << shift_of(c.a, 1);
	pgt_vaddr_t va = c.bottom + 4 * mid;
	struct bbm_probe probe = { .c = &c, .va = va + mid - page };

	ck_assert_int_eq(pgt_map(&c.sp, va, 0, mid, R | W, 0), PGT_OK);
	c.t.on_flush = probe_flush;
	c.t.on_flush_arg = &probe;
	ck_assert_int_eq(pgt_unmap(&c.sp, va, page), PGT_OK);
	if (c.a->break_before_make) {
		ck_assert_int_eq(c.t.flushes, 2);
		ck_assert_uint_eq(c.t.flush_log[0].va, va); /* the whole block, while it was invalid */
		ck_assert_uint_eq(c.t.flush_log[0].size, mid);
		ck_assert_int_eq(probe.seen, 1);
	} else {
		ck_assert_int_eq(c.t.flushes, 1);
		ck_assert_int_eq(probe.seen, 0);
	}
	ck_assert_uint_eq(c.t.flush_log[c.t.flushes - 1].va, va);
	ck_assert_uint_eq(c.t.flush_log[c.t.flushes - 1].size, page);
	struct want e = { va + page, mid - page, page, R | W };
	expect_tree(&c, &e, 1);
	c.t.on_flush = NULL;
	ctx_close(&c);
}
END_TEST

/* --- edges of the address range ------------------------------------------------ */

START_TEST(test_first_and_last_pages)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_OFFSET);
	uint64_t page = page_of(c.a);
	pgt_vaddr_t last = c.top - page + 1;

	ck_assert_int_eq(pgt_map(&c.sp, c.bottom, 0, page, R, 0), PGT_OK);
	ck_assert_int_eq(pgt_map(&c.sp, last, page, page, R | W, 0), PGT_OK);
	pgt_ref_t ref;
	ck_assert_int_eq(pgt_lookup(&c.sp, c.top, &ref), PGT_OK);
	uint64_t pa;
	ck_assert_int_eq(pgt_get_field(&c.sp, ref, PGT_FIELD_PADDR, &pa), PGT_OK);
	ck_assert_uint_eq(pa, page);
	struct want e[] = { { c.bottom, page, 0, R }, { last, page, page, R | W } };
	expect_tree(&c, e, 2);
	/* the last page's range ends exactly at the top of the 64-bit space or of the half */
	ck_assert_int_eq(pgt_protect(&c.sp, last, page, R), PGT_OK);
	ck_assert_int_eq(pgt_unmap(&c.sp, last, page), PGT_OK);
	ck_assert_int_eq(pgt_unmap(&c.sp, c.bottom, page), PGT_OK);
	expect_only_root(&c);
	ctx_close(&c);
}
END_TEST

/* --- allocation failure ------------------------------------------------------------ */

/** One step of the scripted sequence below. */
struct step {
	enum { S_MAP, S_UNMAP, S_PROTECT } op;
	uint64_t va_pages, size_pages; /**< in units of the level-1 leaf size / 8 */
	unsigned prot, flags;
};

static int run_step(struct ctx *c, const struct step *s)
{
	uint64_t unit = (1ull << shift_of(c->a, 1)) / 8;
	pgt_vaddr_t va = c->bottom + s->va_pages * unit;
	uint64_t size = s->size_pages * unit;

	switch (s->op) {
	case S_MAP: return pgt_map(&c->sp, va, va - c->bottom, size, s->prot, s->flags);
	case S_UNMAP: return pgt_unmap(&c->sp, va, size);
	default: return pgt_protect(&c->sp, va, size, s->prot);
	}
}

/**
 * For every operation of a sequence that allocates, fails its first, second,
 * ... allocation until it succeeds: each failure is PGT_ENOMEM, the tree is
 * unchanged bit for bit and no frame is held on to.
 */
START_TEST(test_fail_every_allocation)
{
	static const struct step steps[] = {
		{ S_MAP, 3, 20, R | W, 0 },      { S_MAP, 64, 64, R, 0 },       { S_MAP, 24, 2, R | X, 0 },
		{ S_PROTECT, 5, 9, R, 0 },       { S_UNMAP, 70, 3, 0, 0 },      { S_MAP, 140, 9, R, PGT_MAP_NOSUPER },
		{ S_MAP, 60, 30, R | W, PGT_MAP_REPLACE },                      { S_PROTECT, 0, 200, R | U, 0 },
		{ S_UNMAP, 1, 300, 0, 0 },
	};

	for (int mode = 0; mode < 2; mode++) {
		struct ctx c;
		ctx_open(&c, _i, mode ? TEST_MM_HOOK : TEST_MM_OFFSET);
		long injected = 0;
		for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
			for (long n = 1;; n++) {
				size_t ns;
				pgt_pte_t *snap = snapshot(&c, &ns);
				size_t live = test_mm_outstanding(&c.t);
				c.t.fail_at = c.t.attempts + n;
				int rc = run_step(&c, &steps[i]);
				c.t.fail_at = 0;
				if (rc == PGT_OK) {
					free(snap);
					break;
				}
				ck_assert_msg(rc == PGT_ENOMEM, "%s: step %zu: %s", c.who, i, pgt_strerror(rc));
				EXPECT_UNCHANGED(&c, snap, ns, "a failed allocation");
				ck_assert_uint_eq(test_mm_outstanding(&c.t), live);
				injected++;
			}
		}
		ck_assert_msg(injected > 5, "%s: only %ld failures injected", c.who, injected);
		ck_assert_int_eq(pgt_unmap(&c.sp, c.bottom, 512 * ((1ull << shift_of(c.a, 1)) / 8)), PGT_OK);
		expect_only_root(&c);
		ctx_close(&c);
	}
}
END_TEST

/** A p2v hook that cannot reach a table: PGT_EHOOK, nothing changed. */
START_TEST(test_p2v_null)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_HOOK);
	uint64_t page = page_of(c.a);
	ck_assert_int_eq(pgt_map(&c.sp, c.bottom, 0, 4 * page, R, 0), PGT_OK);
	size_t n;
	pgt_pte_t *snap = snapshot(&c, &n);
	c.t.p2v_null = true;
	ck_assert_int_eq(pgt_map(&c.sp, c.bottom + 8 * page, 0, page, R, 0), PGT_EHOOK);
	ck_assert_int_eq(pgt_unmap(&c.sp, c.bottom, page), PGT_EHOOK);
	ck_assert_int_eq(pgt_protect(&c.sp, c.bottom, page, R | W), PGT_EHOOK);
	c.t.p2v_null = false;
	EXPECT_UNCHANGED(&c, snap, n, "a p2v failure");
	ctx_close(&c);
}
END_TEST

/* --- the leaf_ad hook: accessed and dirty bits of removed and changed leaves --- */

/** What the leaf_ad hook was told: the first calls, and counts of all. */
static struct ad_report {
	pgt_vaddr_t va;
	pgt_paddr_t pa;
	uint64_t size;
	unsigned ad;
} ad_log[64];
static size_t ad_n, ad_dirty;
static pgt_vaddr_t ad_dirty_va; /**< the last one told dirty */

static void log_leaf_ad(void *ctx, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned ad)
{
	(void)ctx;
	if (ad_n < sizeof ad_log / sizeof ad_log[0])
		ad_log[ad_n] = (struct ad_report){ va, pa, size, ad };
	ad_n++;
	if (ad & PGT_AD_DIRTY) {
		ad_dirty++;
		ad_dirty_va = va;
	}
}

static void ad_clear_log(void)
{
	ad_n = ad_dirty = 0;
}

/** Reopens the space of @p c with the leaf_ad hook. */
static void ad_open(struct ctx *c, int i)
{
	ctx_open(c, i, TEST_MM_OFFSET);
	pgt_space_destroy(&c->sp);
	c->t.mm.leaf_ad = log_leaf_ad;
	ck_assert_int_eq(pgt_space_init(&c->sp, c->a, &c->t.mm, c->flags), PGT_OK);
	ad_clear_log();
}

/** A write to @p va as the MMU makes it: accessed and dirty set in the leaf. */
static void ad_write(struct ctx *c, pgt_vaddr_t va)
{
	ck_assert_int_eq(pgt_translate(&c->sp, va, PGT_ACC_WRITE | PGT_ACC_SET_AD, NULL, NULL), PGT_OK);
}

static void expect_report(const struct ctx *c, size_t k, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned ad)
{
	ck_assert_msg(k < ad_n, "%s: %zu reports, wanted report %zu", c->who, ad_n, k);
	const struct ad_report *r = &ad_log[k];
	ck_assert_msg(r->va == va && r->pa == pa && r->size == size && r->ad == ad,
		      "%s: report %zu: va %#" PRIx64 " pa %#" PRIx64 " size %#" PRIx64 " ad %u, wanted va %#" PRIx64
		      " pa %#" PRIx64 " size %#" PRIx64 " ad %u",
		      c->who, k, r->va, r->pa, r->size, r->ad, va, pa, size, ad);
}

/** The dirty bit of the leaf mapping @p va. */
static uint64_t dirty_at(struct ctx *c, pgt_vaddr_t va, pgt_ref_t *ref)
{
	uint64_t d;

	ck_assert_int_eq(pgt_lookup(&c->sp, va, ref), PGT_OK);
	ck_assert_int_eq(pgt_get_field(&c->sp, *ref, PGT_FIELD_DIRTY, &d), PGT_OK);
	return d;
}

/**
 * Unmap, a replacing map and protect tell the hook the accessed and dirty
 * state of every valid leaf they remove or change that has either bit;
 * reserved leaves and clean ones are not told; a split superpage's pieces
 * carry its bits; protect keeps them in the leaf.
 */
START_TEST(test_leaf_ad)
{
	struct ctx c;
	ad_open(&c, _i);
	uint64_t p = page_of(c.a), t = 1ull << shift_of(c.a, 1), n = t / p;
	unsigned all = PGT_AD_ACCESSED | PGT_AD_DIRTY;
	/*
	 * What a valid leaf is made with where the MMU faults instead of setting
	 * the bits: ARMv8 sets AF; RISC-V (Svade) sets A and D, a clear D
	 * faulting on a write (FORMATS.md: pgt_map sets A and D on valid leaves).
	 * x86-64: neither, until the MMU sets them.
	 */
	unsigned made = c.a->dirty_fault ? all : c.a->af_fault ? (unsigned)PGT_AD_ACCESSED : 0u;
	pgt_vaddr_t va = c.bottom + t;
	pgt_ref_t ref;

	ck_assert_int_eq(pgt_map(&c.sp, va, 0, 4 * p, R | W, 0), PGT_OK);
	ck_assert_int_eq(pgt_map(&c.sp, va + 4 * p, 0, p, 0, 0), PGT_OK); /* reserved: never told */
	ad_write(&c, va + p + 5);
	ck_assert_int_eq(pgt_unmap(&c.sp, va, 5 * p), PGT_OK);
	size_t k = 0;
	if (made)
		expect_report(&c, k++, va, 0, p, made);
	expect_report(&c, k++, va + p, p, p, all);
	if (made) {
		expect_report(&c, k++, va + 2 * p, 2 * p, p, made);
		expect_report(&c, k++, va + 3 * p, 3 * p, p, made);
	}
	ck_assert_uint_eq(ad_n, k);

	/* part of a written superpage: its small pages inherit its bits */
	ad_clear_log();
	ck_assert_int_eq(pgt_map(&c.sp, va, 4 * t, t, R | W, 0), PGT_OK);
	ad_write(&c, va + 7 * p);
	ck_assert_int_eq(pgt_unmap(&c.sp, va + 2 * p, 2 * p), PGT_OK);
	expect_report(&c, 0, va + 2 * p, 4 * t + 2 * p, p, all);
	expect_report(&c, 1, va + 3 * p, 4 * t + 3 * p, p, all);
	ck_assert_uint_eq(ad_n, 2);
	ck_assert_msg(dirty_at(&c, va + 100 * p, &ref) == 1 && ref.page_shift == shift_of(c.a, 0),
		      "%s: a split page lost the dirty bit", c.who);

	/* protect: told, and the bits stay */
	ad_clear_log();
	ck_assert_int_eq(pgt_protect(&c.sp, va + 100 * p, p, R), PGT_OK);
	expect_report(&c, 0, va + 100 * p, 4 * t + 100 * p, p, all);
	ck_assert_uint_eq(ad_n, 1);
	ck_assert_uint_eq(dirty_at(&c, va + 100 * p, &ref), 1);

	/* a replacing map over the table: each valid leaf told, the one written since its clean-up dirty */
	for (uint64_t i = 0; i < n; i++)
		if (i != 2 && i != 3)
			ck_assert_int_eq(pgt_set_field(&c.sp, (pgt_ref_t){ ref.pte - 100 + i, 0, ref.page_shift },
						       PGT_FIELD_DIRTY, 0), PGT_OK);
	ad_write(&c, va + 300 * p);
	ad_clear_log();
	ck_assert_int_eq(pgt_map(&c.sp, va, 8 * t, t, R, PGT_MAP_REPLACE), PGT_OK);
	ck_assert_msg(ad_n == n - 2 && ad_dirty == 1 && ad_dirty_va == va + 300 * p,
		      "%s: replacing %" PRIu64 " leaves: %zu reports, %zu dirty", c.who, n - 2, ad_n, ad_dirty);

	/* a clean leaf that was never accessed is not told (x86-64: A clear until the MMU sets it) */
	ad_clear_log();
	ck_assert_int_eq(pgt_unmap(&c.sp, va, t), PGT_OK);
	ck_assert_uint_eq(ad_n, made ? 1 : 0);
	ck_assert_int_eq(pgt_map(&c.sp, va, 0, p, R, 0), PGT_OK);
	ck_assert_int_eq(pgt_unmap(&c.sp, va, p), PGT_OK);
	ck_assert_uint_eq(ad_n, made ? 2 : 0);
	if (made)
		expect_report(&c, 1, va, 0, p, made);
	ctx_close(&c);
}
END_TEST

/** A descriptor with 1G leaves but no 2M ones cannot split a 1G page: PGT_ENOTSUP, nothing changed. */
START_TEST(test_split_needs_smaller_leaves)
{
	struct pgt_arch a = pgt_arch_x86_64;
	struct test_mm t;
	pgt_space_t sp;

	a.level[1].leaf_ok = 0;
	test_mm_init(&t, TEST_MM_OFFSET);
	ck_assert_int_eq(pgt_space_init(&sp, &a, &t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_map(&sp, 1ull << 30, 1ull << 30, 1ull << 30, R | W, 0), PGT_OK);
	size_t n;
	pgt_pte_t *snap = tree_snapshot(&sp, &a, &t, &n);
	ck_assert_int_eq(pgt_unmap(&sp, 1ull << 30, 4096), PGT_ENOTSUP);
	ck_assert_int_eq(pgt_protect(&sp, 1ull << 30, 4096, R), PGT_ENOTSUP);
	ck_assert(tree_unchanged(&sp, &a, &t, snap, n));
	ck_assert_int_eq(pgt_unmap(&sp, 1ull << 30, 1ull << 30), PGT_OK);
	pgt_space_destroy(&sp);
	ck_assert_int_eq(t.allocs, t.frees);
	test_mm_fini(&t);
}
END_TEST

/** defer_free for the test below: counts mapped-looking entries of every table handed back. */
static long dead_mappings, dead_tables;
static const struct pgt_arch *dead_arch;

static void inspect_dead(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct test_mm *t = ctx;
	const pgt_pte_t *tab = test_mm_p2v(t, pa);
	const struct pgt_level *L = &dead_arch->level[level];

	for (size_t i = 0; i < (size_t)L->table_size / sizeof(pgt_pte_t); i++)
		dead_mappings += (tab[i] & L->valid) || (tab[i] & L->reserved);
	dead_tables++;
	t->mm.free_table(ctx, pa, size, level);
}

/*
 * A table that left the tree is still read by walkers that entered it
 * before the flush (and by readers until the caller's grace period): the
 * list link the library keeps in it must read as empty entries. Here the
 * reserved mark is bit 47, which every physical address of the hook-mode
 * allocator has set, so a raw address in an entry would look like a mapping.
 */
START_TEST(test_dead_tables_read_empty)
{
	struct pgt_arch a = pgt_arch_x86_64;
	struct test_mm t;
	pgt_space_t sp;

	a.level[0].reserved = TEST_PA_XOR;
	test_mm_init(&t, TEST_MM_HOOK);
	t.mm.defer_free = inspect_dead;
	dead_arch = &a;
	ck_assert_int_eq(pgt_space_init(&sp, &a, &t.mm, 0), PGT_OK);
	dead_mappings = dead_tables = 0;
	for (int k = 0; k < 3; k++) {
		pgt_vaddr_t va = (1ull << 30) + ((uint64_t)k << 21);
		ck_assert_int_eq(pgt_map(&sp, va, 0, 8 * 4096, R | W, PGT_MAP_NOSUPER), PGT_OK);
	}
	ck_assert_int_eq(pgt_unmap(&sp, 1ull << 30, 3ull << 21), PGT_OK);
	ck_assert_int_eq(dead_tables, 5); /* three level-0 tables, and the two above them left empty */
	ck_assert_int_eq(dead_mappings, 0);
	pgt_space_destroy(&sp);
	ck_assert_int_eq(t.allocs, t.frees);
	test_mm_fini(&t);
}
END_TEST

/* --- bad arguments ------------------------------------------------------------------ */

START_TEST(test_bad_arguments)
{
	struct ctx c;
	ctx_open(&c, _i, TEST_MM_OFFSET);
	uint64_t page = page_of(c.a);
	pgt_vaddr_t va = c.bottom + 16 * page;
	ck_assert_int_eq(pgt_map(&c.sp, va, 0, 4 * page, R, 0), PGT_OK);
	size_t n;
	pgt_pte_t *snap = snapshot(&c, &n);

	/* ranges, for all three operations */
	/* past the end of the 64-bit space a range wraps; elsewhere it leaves the space */
	int past_top = c.top == ~0ull ? PGT_EWRAP : PGT_ERANGE, below = c.bottom == 0 ? PGT_EWRAP : PGT_ERANGE;
	const struct { pgt_vaddr_t va; uint64_t size; const char *what; int want; } bad[] = {
		{ va, 0, "empty", PGT_ESIZE },
		{ va + 1, page, "misaligned va", PGT_EALIGN },
		{ va, page + 1, "misaligned size", PGT_EALIGN },
		{ c.top - page + 1, 2 * page, "past the top", past_top },
		{ c.bottom - page, 2 * page, "below the bottom", below },
		{ ~0ull - page + 1, 2 * page, "wrapping", PGT_EWRAP },
		{ c.top + 1, page, "outside the range (canonical hole or other half)", PGT_ERANGE },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		bool other_half = c.a->canon == PGT_CANON_SIGN_EXTEND && c.top + 1 == 0;
		if (i == 6 && other_half)
			continue; /* the top of the high half is the end of the 64-bit space */
		int rc = pgt_map(&c.sp, bad[i].va, 0, bad[i].size, R, 0);
		ck_assert_msg(rc == bad[i].want, "%s: map %s: %s", c.who, bad[i].what, pgt_errname(rc));
		rc = pgt_unmap(&c.sp, bad[i].va, bad[i].size);
		ck_assert_msg(rc == bad[i].want, "%s: unmap %s: %s", c.who, bad[i].what, pgt_errname(rc));
		rc = pgt_protect(&c.sp, bad[i].va, bad[i].size, R);
		ck_assert_msg(rc == bad[i].want, "%s: protect %s: %s", c.who, bad[i].what, pgt_errname(rc));
	}
	/* a range crossing the canonical hole of x86-64 */
	if (c.a->canon == PGT_CANON_SIGN_EXTEND) {
		pgt_vaddr_t lowtop = (1ull << (c.a->va_bits - 1)) - page;
		ck_assert_int_eq(pgt_unmap(&c.sp, lowtop, ~0ull - lowtop + 1 - page), PGT_ERANGE);
	}
	/* output addresses and arguments of pgt_map */
	ck_assert_int_eq(pgt_map(&c.sp, va + 8 * page, 1, page, R, 0), PGT_EALIGN);
	ck_assert_int_eq(pgt_map(&c.sp, va + 8 * page, 1ull << c.a->pa_bits, page, R, 0), PGT_ERANGE);
	ck_assert_int_eq(pgt_map(&c.sp, va + 8 * page, (1ull << c.a->pa_bits) - page, 2 * page, R, 0), PGT_ERANGE);
	ck_assert_int_eq(pgt_map(&c.sp, va + 8 * page, ~0ull - page + 1, 2 * page, R, 0), PGT_EWRAP);
	ck_assert_int_eq(pgt_map(&c.sp, va + 8 * page, 0, page, 256, 0), PGT_EFLAGS);
	ck_assert_int_eq(pgt_map(&c.sp, va + 8 * page, 0, page, R, 4), PGT_EFLAGS);
	ck_assert_int_eq(pgt_protect(&c.sp, va, page, 256), PGT_EFLAGS);
	/* rights the architecture cannot express (execute alone is RISC-V's execute-only page; ARMv8
	 * stage 2 expresses every combination) */
	if (!test_write_only(c.a)) {
		ck_assert_int_eq(pgt_map(&c.sp, va + 8 * page, 0, page, W, 0), PGT_ENOTSUP);
		ck_assert_int_eq(pgt_protect(&c.sp, va, page, W | X), PGT_ENOTSUP);
	}
	if (!test_exec_only(c.a))
		ck_assert_int_eq(pgt_protect(&c.sp, va, page, X), PGT_ENOTSUP);
	if (test_no_memtypes(c.a) & PGT_PROT_WRITECOMBINE)
		ck_assert_int_eq(pgt_protect(&c.sp, va, page, R | PGT_PROT_WRITECOMBINE), PGT_ENOTSUP);
	/* spaces */
	pgt_space_t dead = { 0 };
	ck_assert_int_eq(pgt_map(NULL, va, 0, page, R, 0), PGT_EINVAL);
	ck_assert_int_eq(pgt_unmap(NULL, va, page), PGT_EINVAL);
	ck_assert_int_eq(pgt_protect(NULL, va, page, R), PGT_EINVAL);
	ck_assert_int_eq(pgt_map(&dead, va, 0, page, R, 0), PGT_EINVAL);
	ck_assert_int_eq(pgt_unmap(&dead, va, page), PGT_EINVAL);
	ck_assert_int_eq(pgt_protect(&dead, va, page, R), PGT_EINVAL);
	EXPECT_UNCHANGED(&c, snap, n, "a bad argument");
	ck_assert_int_eq(c.t.flushes, 0);
	ctx_close(&c);
}
END_TEST

static Suite *range_suite(void)
{
	Suite *su = suite_create("range");
	int n = (int)(2 * test_narchs);
	TCase *tc = tcase_create("map");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_map_layout, 0, n);
	tcase_add_loop_test(tc, test_map_mixed_sizes, 0, n);
	tcase_add_loop_test(tc, test_map_conflicts, 0, n);
	tcase_add_loop_test(tc, test_map_into_one_table, 0, n);
	tcase_add_loop_test(tc, test_map_superpages_into_one_table, 0, n);
	tcase_add_loop_test(tc, test_map_rights_sequence, 0, n);
	tcase_add_loop_test(tc, test_map_new_branch, 0, n);
	tcase_add_loop_test(tc, test_map_replace, 0, n);
	suite_add_tcase(su, tc);

	tc = tcase_create("unmap-protect");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_unmap_split_every_level, 0, n);
	tcase_add_loop_test(tc, test_unmap_everything, 0, n);
	tcase_add_loop_test(tc, test_protect_split, 0, n);
	suite_add_tcase(su, tc);

	tc = tcase_create("tlb");
	tcase_add_loop_test(tc, test_flush_ranges, 0, n);
	tcase_add_loop_test(tc, test_change_in_one_table, 0, n);
	tcase_add_loop_test(tc, test_unmap_frees_one_table, 0, n);
	tcase_add_loop_test(tc, test_change_superpages_in_one_table, 0, n);
	tcase_add_loop_test(tc, test_replace_break_before_make, 0, n);
	tcase_add_loop_test(tc, test_split_break_before_make, 0, n);
	tcase_add_loop_test(tc, test_leaf_ad, 0, n);
	suite_add_tcase(su, tc);

	tc = tcase_create("edges-and-errors");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_first_and_last_pages, 0, n);
	tcase_add_loop_test(tc, test_fail_every_allocation, 0, n);
	tcase_add_loop_test(tc, test_p2v_null, 0, n);
	tcase_add_loop_test(tc, test_bad_arguments, 0, n);
	tcase_add_test(tc, test_split_needs_smaller_leaves);
	tcase_add_test(tc, test_dead_tables_read_empty);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	int failed = test_run_suite(range_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
