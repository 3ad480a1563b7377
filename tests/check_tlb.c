/* SPDX-License-Identifier: MIT */
/*
 * Check suite for pgt_tlb (lib/tlb.c, include/pgtable/tlb.h): init and its
 * error paths, hits and misses, superpages cached whole (one entry each,
 * told apart from small pages and from each other, dropped by every
 * invalidation, split and partly protected),
 * reserved leaves never cached, and coherence: after every change of a
 * valid translation (rights up or down, output address, back to reserved,
 * the generation hook the range operations call, destroy) the TLB answers
 * what the tables say, through every TLB attached to the space, and none
 * after it is detached (pgt_tlb_fini, destroy); also after pgt_unmap (whole and partial), pgt_protect
 * and pgt_map with PGT_MAP_REPLACE. Long random sequences on every shipped descriptor,
 * direct-mapped and 2-way, with TLBs small enough that sets conflict,
 * compare every TLB answer with a model of the mappings and with
 * pgt_lookup + pgt_get_field.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/tlb.h>

#include "harness.h"

#define RW (PGT_PROT_READ | PGT_PROT_WRITE)

struct fx {
	const struct pgt_arch *a;
	struct test_mm t;
	pgt_space_t sp;
	struct pgt_tlb_entry e[64];
	pgt_tlb_t tlb;
};

static void fx_open(struct fx *f, const struct pgt_arch *a, unsigned n, unsigned ways)
{
	f->a = a;
	test_mm_init(&f->t, TEST_MM_OFFSET);
	ck_assert_int_eq(pgt_space_init(&f->sp, a, &f->t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_tlb_init(&f->tlb, &f->sp, f->e, n, ways), PGT_OK);
}

static void fx_close(struct fx *f)
{
	pgt_space_destroy(&f->sp);
	test_mm_fini(&f->t);
}

/** Maps a page with rights @p prot; returns the ref. */
static pgt_ref_t map_page(struct fx *f, pgt_vaddr_t va, unsigned shift, pgt_paddr_t pa, unsigned prot)
{
	pgt_ref_t ref;

	ck_assert_int_eq(pgt_insert(&f->sp, va, shift, &ref), PGT_OK);
	ck_assert_int_eq(pgt_set_field(&f->sp, ref, PGT_FIELD_PADDR, pa), PGT_OK);
	if (prot)
		ck_assert_int_eq(pgt_set_field(&f->sp, ref, PGT_FIELD_PROT, prot), PGT_OK);
	return ref;
}

/** Expects a TLB translation of @p va to @p pa with @p prot, as the format keeps it (test_prot_dropped). */
static void expect(struct fx *f, pgt_vaddr_t va, pgt_paddr_t pa, unsigned prot)
{
	pgt_paddr_t got = 0;
	unsigned p = 0;
	int rc = pgt_tlb_lookup(&f->tlb, va, &got, &p);

	ck_assert_msg(rc == PGT_OK, "%s: va 0x%llx: %d", f->a->name, (unsigned long long)va, rc);
	ck_assert_msg(got == pa, "%s: va 0x%llx: pa 0x%llx, want 0x%llx", f->a->name, (unsigned long long)va,
		      (unsigned long long)got, (unsigned long long)pa);
	ck_assert_uint_eq(p, prot & ~test_prot_dropped(f->a)); /* ARMv8 stage 2 keeps no USER or GLOBAL */
}

/* --- init ----------------------------------------------------------------------------- */

/**
 * x86-64 with every page size scaled down to a smallest page of 2^@p shift
 * bytes (output addresses keep their units: the tests map addresses aligned
 * to the unshrunk page sizes).
 */
static struct pgt_arch scaled_x86_64(unsigned shift)
{
	struct pgt_arch a = pgt_arch_x86_64;

	for (unsigned l = 0; l < a.levels; l++)
		a.level[l].shift = shift + 9 * l;
	a.va_bits = shift + 9 * a.levels;
	return a;
}

/**
 * A TLB caches pages of at least 256 bytes (their entries keep the rights
 * below the page address): smaller ones are refused, and the TLB refuses
 * every lookup; 256 bytes work, superpages included.
 */
START_TEST(init_small_pages)
{
	struct test_mm t;
	pgt_space_t sp;
	struct pgt_tlb_entry e[4];
	pgt_tlb_t tlb;
	struct pgt_arch a7 = scaled_x86_64(7), a8 = scaled_x86_64(8);

	test_mm_init(&t, TEST_MM_OFFSET);
	ck_assert_int_eq(pgt_space_init(&sp, &a7, &t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_map(&sp, 0x100, 0x3000, 0x80, PGT_PROT_READ, 0), PGT_OK);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, e, 4, 2), PGT_ENOTSUP);
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, 0x100, NULL, NULL), PGT_EINVAL);
	pgt_space_destroy(&sp);
	ck_assert_int_eq(pgt_space_init(&sp, &a8, &t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_map(&sp, 0x100, 0x3000, 0x100, PGT_PROT_READ, 0), PGT_OK);
	ck_assert_int_eq(pgt_map(&sp, 1ull << 17, 1ull << 21, 1ull << 17, RW, 0), PGT_OK);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, e, 4, 2), PGT_OK);
	pgt_paddr_t pa = 0;
	unsigned prot = 0;
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, 0x1ff, &pa, &prot), PGT_OK);
	ck_assert_uint_eq(pa, 0x30ff);
	ck_assert_uint_eq(prot, PGT_PROT_READ);
	for (uint64_t off = 0; off < 1ull << 17; off += 0x1010) {
		ck_assert_int_eq(pgt_tlb_lookup(&tlb, (1ull << 17) + off, &pa, &prot), PGT_OK);
		ck_assert_uint_eq(pa, (1ull << 21) + off);
		ck_assert_uint_eq(prot, RW);
	}
	ck_assert_uint_eq(pgt_tlb_misses(&tlb), 2);
	pgt_space_destroy(&sp);
	test_mm_fini(&t);
}
END_TEST

START_TEST(init_errors)
{
	struct test_mm t;
	pgt_space_t sp = { 0 }, dead = { 0 };
	struct pgt_tlb_entry e[8];
	pgt_tlb_t tlb;
	pgt_paddr_t pa = 7;
	unsigned prot = 7;

	test_mm_init(&t, TEST_MM_OFFSET);
	ck_assert_int_eq(pgt_space_init(&sp, &pgt_arch_x86_64, &t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_tlb_init(NULL, &sp, e, 8, 1), PGT_EINVAL);
	ck_assert_int_eq(pgt_tlb_init(&tlb, NULL, e, 8, 1), PGT_EINVAL);
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, 0x1000, &pa, &prot), PGT_EINVAL);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &dead, e, 8, 1), PGT_EINVAL);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, NULL, 8, 1), PGT_EINVAL);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, e, 0, 1), PGT_ESIZE);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, e, 6, 1), PGT_ESIZE);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, e, 8, 0), PGT_ESIZE);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, e, 8, 3), PGT_ESIZE);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, e, 1, 2), PGT_ESIZE);
	/* a failed init leaves a TLB that refuses every lookup */
	ck_assert_int_eq(pgt_tlb_lookup(&tlb, 0x1000, &pa, &prot), PGT_EINVAL);
	ck_assert_uint_eq(pa, 7);
	ck_assert_uint_eq(prot, 7);
	ck_assert_uint_eq(pgt_tlb_misses(&tlb), 0);
	ck_assert_uint_eq(pgt_tlb_misses(NULL), 0);
	pgt_tlb_flush(NULL);
	pgt_tlb_flush(&tlb); /* ignored */
	ck_assert_int_eq(pgt_tlb_fill(NULL, 0x1000, &pa, &prot), PGT_EINVAL);
	/* the smallest TLBs are fine */
	ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, e, 1, 1), PGT_OK);
	ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, e, 2, 2), PGT_OK);
	pgt_space_destroy(&sp);
	test_mm_fini(&t);
}
END_TEST

/* --- hits, misses, what is cached -------------------------------------------------------- */

START_TEST(hit_and_miss)
{
	struct fx f;
	unsigned ways = 1 + (unsigned)_i;

	fx_open(&f, &pgt_arch_x86_64, 16, ways);
	map_page(&f, 0x400000, 12, 0x7000, RW);
	expect(&f, 0x400123, 0x7123, RW);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), 1);
	expect(&f, 0x400fff, 0x7fff, RW); /* a hit: no new miss */
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), 1);
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, 0x400000, NULL, NULL), PGT_OK);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), 1);
	/* unmapped, out of range */
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, 0x401000, NULL, NULL), PGT_ENOENT);
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, 1ull << 47, NULL, NULL), PGT_ERANGE);
	/* misses are not cached: still a miss */
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, 0x401000, NULL, NULL), PGT_ENOENT);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), 4);
	/* flush empties */
	pgt_tlb_flush(&f.tlb);
	expect(&f, 0x400000, 0x7000, RW);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), 5);
	fx_close(&f);
}
END_TEST

/**
 * Which way serves what: in a 2-way set the older translation survives one
 * newer fill and is served without a walk (shown by changing its entry
 * behind the library's back); direct-mapped, the newer fill evicts it.
 */
START_TEST(which_way)
{
	struct fx f;
	unsigned ways = 1 + (unsigned)_i;

	fx_open(&f, &pgt_arch_x86_64, ways, ways); /* one set */
	pgt_ref_t a = map_page(&f, 0x1000, 12, 0xa000, RW);
	map_page(&f, 0x2000, 12, 0xb000, RW);
	expect(&f, 0x1000, 0xa000, RW);
	expect(&f, 0x2000, 0xb000, RW);
	*a.pte = 0; /* not told: only a walk can see it */
	uint64_t walked = pgt_tlb_misses(&f.tlb);
	if (ways == 2) {
		expect(&f, 0x1004, 0xa004, RW); /* from way 1 */
		expect(&f, 0x1008, 0xa008, RW); /* now way 0: a hit */
		expect(&f, 0x2000, 0xb000, RW); /* from way 1 again */
		/* misses are lookups that walked the tables: way 1 served these */
		ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), walked);
	} else {
		ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, 0x1000, NULL, NULL), PGT_ENOENT); /* walked */
		expect(&f, 0x2000, 0xb000, RW);
		ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), walked + 1); /* 0x2000 stayed */
	}
	/* a direct fill of a cached page answers from the cache: no miss */
	walked = pgt_tlb_misses(&f.tlb);
	ck_assert_int_eq(pgt_tlb_fill(&f.tlb, 0x2010, NULL, NULL), PGT_OK);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), walked);
	pgt_paddr_t pa;
	ck_assert_int_eq(pgt_tlb_fill(&f.tlb, 0x2010, &pa, NULL), PGT_OK);
	ck_assert_uint_eq(pa, 0xb010);
	fx_close(&f);
}
END_TEST

/** A reserved leaf has no translation, and becomes one when a right is granted. */
START_TEST(reserved_not_cached)
{
	struct fx f;

	fx_open(&f, test_archs[_i], 8, 2);
	unsigned s = f.a->level[0].shift;
	pgt_ref_t ref = map_page(&f, 5ull << s, s, 9ull << s, 0);
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, 5ull << s, NULL, NULL), PGT_ENOENT);
	ck_assert_int_eq(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, PGT_PROT_READ), PGT_OK);
	expect(&f, (5ull << s) + 8, (9ull << s) + 8, PGT_PROT_READ);
	fx_close(&f);
}
END_TEST

/**
 * The superpage levels a test can use in @p a: leaf levels above the
 * smallest whose page 3 lies in the lower half of the space, and whose
 * page 3 the format can output. Returns how many, in @p level.
 */
static unsigned super_levels(const struct pgt_arch *a, unsigned level[PGT_MAX_LEVELS])
{
	unsigned n = 0;

	for (unsigned l = 1; l < a->levels; l++) {
		unsigned s = a->level[l].shift;
		if (a->level[l].leaf_ok && s + 3 <= a->va_bits && s + 2 <= a->pa_bits)
			level[n++] = l;
	}
	return n;
}

/**
 * A superpage is cached whole, as a hardware TLB caches it: one walk, then
 * every small page of it hits, each with its own physical address and the
 * leaf's own rights; at every superpage level of every format. A direct
 * pgt_tlb_fill of an address the cached superpage covers walks nothing.
 */
START_TEST(superpage_reach)
{
	struct fx f;
	unsigned level[PGT_MAX_LEVELS];
	const unsigned prot = RW | PGT_PROT_EXEC | PGT_PROT_USER;

	fx_open(&f, test_archs[_i / 2], 64, 1 + (_i & 1));
	unsigned n = super_levels(f.a, level);
	ck_assert_uint_gt(n, 0);
	for (unsigned i = 0; i < n; i++) {
		unsigned s = f.a->level[level[i]].shift;
		pgt_vaddr_t va = 1ull << s; /* pages of different levels do not overlap */
		pgt_paddr_t pa = 2ull << s;
		uint64_t before = pgt_tlb_misses(&f.tlb);
		map_page(&f, va, s, pa, prot);
		for (unsigned k = 0; k < 64; k++) {
			uint64_t off = ((uint64_t)k << (s - 6)) + 8u * k + (k & 7);
			expect(&f, va + off, pa + off, prot);
		}
		expect(&f, va + (1ull << s) - 1, pa + (1ull << s) - 1, prot);
		ck_assert_msg(pgt_tlb_misses(&f.tlb) == before + 1,
			      "%s: level %u: %llu walks for one superpage", f.a->name, level[i],
			      (unsigned long long)(pgt_tlb_misses(&f.tlb) - before));
		pgt_paddr_t got = 0;
		ck_assert_int_eq(pgt_tlb_fill(&f.tlb, va + 12345, &got, NULL), PGT_OK);
		ck_assert_uint_eq(got, pa + 12345);
		ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), before + 1);
	}
	fx_close(&f);
}
END_TEST

/**
 * Entries of different page sizes share the TLB's sets and are told apart:
 * a small page and a superpage with the same page number (3), and
 * superpages of two levels with the same number, through a one-entry TLB
 * where each fill evicts the other; every answer is its own page's.
 */
START_TEST(superpage_tags)
{
	struct fx f;
	unsigned level[PGT_MAX_LEVELS];

	fx_open(&f, test_archs[_i], 1, 1);
	unsigned n = super_levels(f.a, level);
	unsigned s0 = f.a->level[0].shift;
	map_page(&f, 3ull << s0, s0, 7ull << s0, PGT_PROT_READ);
	for (unsigned i = 0; i < n; i++) {
		unsigned s = f.a->level[level[i]].shift;
		map_page(&f, 3ull << s, s, 1ull << s, RW);
	}
	for (unsigned round = 0; round < 3; round++) {
		expect(&f, (3ull << s0) + 1, (7ull << s0) + 1, PGT_PROT_READ);
		for (unsigned i = 0; i < n; i++) {
			unsigned s = f.a->level[level[i]].shift;
			expect(&f, (3ull << s) + 2, (1ull << s) + 2, RW);
		}
	}
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), 3 * (n + 1));
	fx_close(&f);
}
END_TEST

/**
 * Superpages use every entry, both ways of a 2-way TLB: as many superpages
 * as entries, with consecutive page numbers, are all held at once (one
 * walk each, then hits in any order); one more evicts one of them. A small
 * page filled after them takes its set's way 0 and moves way 0 to way 1,
 * which drops a superpage held there, and the TLB still answers right.
 */
START_TEST(superpage_capacity)
{
	struct fx f;
	unsigned ways = 1 + (unsigned)_i;

	fx_open(&f, &pgt_arch_x86_64, 4, ways);
	for (unsigned k = 0; k < 5; k++)
		map_page(&f, (4ull + k) << 21, 21, (8ull + k) << 21, RW);
	map_page(&f, 0x1000, 12, 0x5000, RW);
	for (unsigned round = 0; round < 3; round++)
		for (unsigned k = 0; k < 4; k++) {
			uint64_t off = (round * 0x1000u + k * 0x10000u) | 0x10u;
			expect(&f, ((4ull + k) << 21) + off, ((8ull + k) << 21) + off, RW);
		}
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), 4);
	expect(&f, (8ull << 21) + 0x123, (12ull << 21) + 0x123, RW); /* page 8: the entry of page 4 */
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), 5);
	expect(&f, (5ull << 21) + 0x456, (9ull << 21) + 0x456, RW);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), 5);
	expect(&f, (4ull << 21) + 0x789, (8ull << 21) + 0x789, RW);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), 6);
	expect(&f, 0x1010, 0x5010, RW);
	for (unsigned k = 0; k < 4; k++)
		expect(&f, ((4ull + k) << 21) + 0x2020, ((8ull + k) << 21) + 0x2020, RW);
	/*
	 * direct-mapped, the small page took page 5's entry; 2-way, page 5 moved to way 1 over
	 * page 7; and the small page's walk remembered its table in entry 0, page 4's
	 */
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), (ways == 2 ? 10u : 9u));
	fx_close(&f);
}
END_TEST

/**
 * Every fill reports the rights of its own leaf: neighbours with different
 * rights, at level 0 and then at level 1, through a one-entry TLB, in an
 * order where a leaf follows one with other rights or one with the same
 * (the fill may remember the last decoding). The level-1 lookups are each
 * in another small page of their superpage: the same superpage again is a
 * hit all the same, as the same small page is at level 0.
 */
START_TEST(fill_rights)
{
	struct fx f;
	static const unsigned prot[] = { RW, PGT_PROT_READ | PGT_PROT_EXEC | PGT_PROT_USER,
					 RW | PGT_PROT_UNCACHED, PGT_PROT_READ | PGT_PROT_GLOBAL };
	static const unsigned order[] = { 0, 1, 2, 3, 0, 0, 2, 2, 1, 3, 3, 1, 0, 2, 1 };
	const unsigned n = sizeof order / sizeof order[0];
	unsigned fills = 0;

	fx_open(&f, test_archs[_i], 1, 1);
	unsigned s0 = f.a->level[0].shift, s1 = f.a->level[1].shift;
	for (unsigned k = 0; k < 4; k++) {
		map_page(&f, (uint64_t)k << s0, s0, (uint64_t)(k + 8) << s0, prot[k]);
		map_page(&f, (uint64_t)(k + 4) << s1, s1, (uint64_t)(k + 8) << s1, prot[k]);
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned k = order[i];
		fills += i == 0 || order[i - 1] != k; /* the same page again is a hit */
		expect(&f, ((uint64_t)k << s0) + 5, ((uint64_t)(k + 8) << s0) + 5, prot[k]);
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned k = order[i];
		uint64_t off = ((uint64_t)i << s0) + 3;
		expect(&f, ((uint64_t)(k + 4) << s1) + off, ((uint64_t)(k + 8) << s1) + off, prot[k]);
	}
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), 2 * fills);
	fx_close(&f);
}
END_TEST

/* --- coherence ---------------------------------------------------------------------------- */

/** Every field change of a valid leaf is seen by the next lookup. */
START_TEST(field_changes)
{
	struct fx f;

	fx_open(&f, test_archs[_i], 4, 1 + (_i & 1));
	unsigned s = f.a->level[0].shift;
	pgt_vaddr_t va = 7ull << s;
	pgt_ref_t ref = map_page(&f, va, s, 2ull << s, RW);
	expect(&f, va, 2ull << s, RW);
	ck_assert_int_eq(pgt_set_field(&f.sp, ref, PGT_FIELD_WRITE, 0), PGT_OK); /* downgrade */
	expect(&f, va, 2ull << s, PGT_PROT_READ);
	ck_assert_int_eq(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, 4ull << s), PGT_OK); /* move */
	expect(&f, va + 1, (4ull << s) + 1, PGT_PROT_READ);
	ck_assert_int_eq(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, RW | PGT_PROT_USER), PGT_OK); /* upgrade */
	expect(&f, va, 4ull << s, RW | PGT_PROT_USER);
	ck_assert_int_eq(pgt_set_field(&f.sp, ref, PGT_FIELD_CACHED, 0), PGT_OK);
	expect(&f, va, 4ull << s, RW | PGT_PROT_USER | PGT_PROT_UNCACHED);
	ck_assert_int_eq(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, 0), PGT_OK); /* reserved again */
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, va, NULL, NULL), PGT_ENOENT);
	/* a write that changes nothing keeps the cache */
	ck_assert_int_eq(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, PGT_PROT_READ), PGT_OK);
	expect(&f, va, 4ull << s, PGT_PROT_READ);
	uint64_t misses = pgt_tlb_misses(&f.tlb);
	ck_assert_int_eq(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 1), PGT_OK);
	expect(&f, va, 4ull << s, PGT_PROT_READ);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), misses);
	fx_close(&f);
}
END_TEST

/**
 * Range operations invalidate every TLB of the space (through the hook they
 * call), even when what they change was already changed behind the
 * library's back, as the range code itself does before it calls the hook.
 */
START_TEST(generation_hook)
{
	struct fx f;
	struct pgt_tlb_entry e2[2];
	pgt_tlb_t other;

	fx_open(&f, &pgt_arch_armv8_4k_48, 8, 2);
	ck_assert_int_eq(pgt_tlb_init(&other, &f.sp, e2, 2, 1), PGT_OK);
	pgt_ref_t ref = map_page(&f, 0x10000, 12, 0x20000, RW);
	expect(&f, 0x10000, 0x20000, RW);
	ck_assert_int_eq(pgt_tlb_lookup(&other, 0x10000, NULL, NULL), PGT_OK);
	pgt_pte_t old = *ref.pte;
	*ref.pte = 0;
	expect(&f, 0x10000, 0x20000, RW);                              /* not told yet: still cached */
	ck_assert_int_eq(pgt_unmap(&f.sp, 0x7000000, 0x1000), PGT_OK); /* removes nothing, still tells */
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, 0x10000, NULL, NULL), PGT_ENOENT);
	ck_assert_int_eq(pgt_tlb_lookup(&other, 0x10000, NULL, NULL), PGT_ENOENT);
	*ref.pte = old;
	ck_assert_int_eq(pgt_protect(&f.sp, 0x7000000, 0x1000, PGT_PROT_READ), PGT_OK);
	expect(&f, 0x10000, 0x20000, RW);
	fx_close(&f);
	/* destroyed: nothing is served any more */
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, 0x10000, NULL, NULL), PGT_EINVAL);
	ck_assert_int_eq(pgt_tlb_lookup(&other, 0x10000, NULL, NULL), PGT_EINVAL);
}
END_TEST

/** pgt_unmap, pgt_protect (down and up) and pgt_map with PGT_MAP_REPLACE are seen. */
START_TEST(range_changes)
{
	struct fx f;

	fx_open(&f, test_archs[_i], 16, 2);
	unsigned s0 = f.a->level[0].shift, s1 = f.a->level[1].shift;
	pgt_vaddr_t va = 2ull << s1;
	uint64_t small = 1ull << s0;
	ck_assert_int_eq(pgt_map(&f.sp, va, 6ull << s1, 1ull << s1, RW, 0), PGT_OK); /* a superpage */
	expect(&f, va + small + 3, (6ull << s1) + small + 3, RW);
	ck_assert_int_eq(pgt_protect(&f.sp, va, 1ull << s1, PGT_PROT_READ), PGT_OK);
	expect(&f, va + small, (6ull << s1) + small, PGT_PROT_READ);
	ck_assert_int_eq(pgt_protect(&f.sp, va, 1ull << s1, RW | PGT_PROT_EXEC), PGT_OK); /* upgrade */
	expect(&f, va + small, (6ull << s1) + small, RW | PGT_PROT_EXEC);
	ck_assert_int_eq(pgt_map(&f.sp, va, 8ull << s1, 1ull << s1, RW, PGT_MAP_REPLACE), PGT_OK);
	expect(&f, va + small, (8ull << s1) + small, RW);
	/* a partial unmap splits: the rest still translates to the same memory */
	ck_assert_int_eq(pgt_unmap(&f.sp, va, small), PGT_OK);
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, va, NULL, NULL), PGT_ENOENT);
	expect(&f, va + small, (8ull << s1) + small, RW);
	ck_assert_int_eq(pgt_unmap(&f.sp, va, 1ull << s1), PGT_OK);
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, va + small, NULL, NULL), PGT_ENOENT);
	/* mapping into empty space removes nothing: what is cached stays cached */
	ck_assert_int_eq(pgt_map(&f.sp, 0, 0, small, PGT_PROT_READ, 0), PGT_OK);
	expect(&f, 5, 5, PGT_PROT_READ);
	uint64_t misses = pgt_tlb_misses(&f.tlb);
	ck_assert_int_eq(pgt_map(&f.sp, 4 * small, 0, small, PGT_PROT_READ, 0), PGT_OK);
	expect(&f, 6, 6, PGT_PROT_READ);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), misses);
	fx_close(&f);
}
END_TEST

/**
 * Invalidation drops cached superpages: each superpage, cached and then
 * cleared behind the library's back (so that only a walk sees it gone),
 * is still served, until a range operation on one small page inside it
 * (which finds nothing to change, and still tells the TLBs) or
 * pgt_tlb_flush; after either, no small page of it is served, in this TLB
 * or in a second one attached to the space.
 */
START_TEST(superpage_dropped)
{
	struct fx f;
	struct pgt_tlb_entry e2[8];
	pgt_tlb_t other;
	unsigned level[PGT_MAX_LEVELS];

	fx_open(&f, test_archs[_i / 2], 16, 1 + (_i & 1));
	ck_assert_int_eq(pgt_tlb_init(&other, &f.sp, e2, 8, 2), PGT_OK);
	unsigned n = super_levels(f.a, level);
	uint64_t small = 1ull << f.a->level[0].shift;
	for (unsigned i = 0; i < n; i++) {
		unsigned s = f.a->level[level[i]].shift;
		pgt_vaddr_t va = 1ull << s, last = va + (1ull << s) - 1;
		pgt_ref_t ref = map_page(&f, va, s, 2ull << s, RW);
		pgt_pte_t pte = *ref.pte;
		map_page(&f, 2ull << s, s, 3ull << s, RW); /* keeps the table in use while ref's entry is 0 */
		for (unsigned how = 0; how < 3; how++) {
			expect(&f, va, 2ull << s, RW);
			ck_assert_int_eq(pgt_tlb_lookup(&other, va, NULL, NULL), PGT_OK);
			*ref.pte = 0; /* not told */
			expect(&f, va + 5 * small + 1, (2ull << s) + 5 * small + 1, RW);
			expect(&f, last, (2ull << s) + (1ull << s) - 1, RW);
			if (how == 0)
				ck_assert_int_eq(pgt_unmap(&f.sp, va + 5 * small, small), PGT_OK);
			else if (how == 1)
				ck_assert_int_eq(pgt_protect(&f.sp, va + 5 * small, small, PGT_PROT_READ),
						 PGT_OK);
			else {
				pgt_tlb_flush(&f.tlb);
				pgt_tlb_flush(&other);
			}
			ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, va, NULL, NULL), PGT_ENOENT);
			ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, va + 5 * small, NULL, NULL), PGT_ENOENT);
			ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, last, NULL, NULL), PGT_ENOENT);
			ck_assert_int_eq(pgt_tlb_lookup(&other, va + 9 * small, NULL, NULL), PGT_ENOENT);
			*ref.pte = pte;
		}
	}
	fx_close(&f);
}
END_TEST

/**
 * Superpages of every size are held at once: the hit looks at the size
 * filled last, a miss at the others, and neither walks; each fill of
 * another size changes which one the hit looks at. A direct pgt_tlb_fill
 * answers from either without a walk.
 */
START_TEST(superpage_sizes_together)
{
	struct fx f;
	unsigned level[PGT_MAX_LEVELS];

	fx_open(&f, test_archs[_i / 2], 64, 1 + (_i & 1));
	unsigned n = super_levels(f.a, level);
	for (unsigned i = 0; i < n; i++) {
		unsigned s = f.a->level[level[i]].shift;
		/* page number i + 1 at level[i]: entries of their own, pages that do not overlap */
		map_page(&f, (i + 1ull) << s, s, (uint64_t)i << s, RW);
		expect(&f, ((i + 1ull) << s) + 16, ((uint64_t)i << s) + 16, RW);
	}
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), n);
	for (unsigned round = 0; round < 4; round++)
		for (unsigned i = 0; i < n; i++) {
			unsigned k = (i + round) % n, s = f.a->level[level[k]].shift;
			uint64_t off = ((uint64_t)(round + 1) << (s - 3)) + i;
			pgt_vaddr_t va = ((k + 1ull) << s) + off;
			expect(&f, va, ((uint64_t)k << s) + off, RW);
			pgt_paddr_t pa = 0;
			ck_assert_int_eq(pgt_tlb_fill(&f.tlb, va + 8, &pa, NULL), PGT_OK);
			ck_assert_uint_eq(pa, ((uint64_t)k << s) + off + 8);
		}
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), n);
	fx_close(&f);
}
END_TEST

/**
 * A superpage the hit looks at is not served once the TLB is flushed,
 * detached (pgt_tlb_fini) or its space destroyed: a flush walks again, a
 * detached TLB answers PGT_EINVAL, and re-initialised for the space it
 * starts empty.
 */
START_TEST(superpage_detached)
{
	struct test_mm t;
	pgt_space_t sp;
	struct pgt_tlb_entry e[16];
	pgt_tlb_t tlb;
	pgt_paddr_t pa = 7;

	test_mm_init(&t, TEST_MM_OFFSET);
	for (unsigned how = 0; how < 2; how++) {
		ck_assert_int_eq(pgt_space_init(&sp, &pgt_arch_x86_64, &t.mm, 0), PGT_OK);
		ck_assert_int_eq(pgt_map(&sp, 1ull << 21, 1ull << 22, 1ull << 21, RW, 0), PGT_OK);
		ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, e, 16, 2), PGT_OK);
		ck_assert_int_eq(pgt_tlb_lookup(&tlb, (1ull << 21) + 5, &pa, NULL), PGT_OK);
		ck_assert_uint_eq(pa, (1ull << 22) + 5);
		pgt_tlb_flush(&tlb);
		ck_assert_int_eq(pgt_tlb_lookup(&tlb, (1ull << 21) + 6, &pa, NULL), PGT_OK);
		ck_assert_uint_eq(pgt_tlb_misses(&tlb), 2);
		ck_assert_int_eq(pgt_tlb_init(&tlb, &sp, e, 16, 2), PGT_OK); /* again: empty */
		ck_assert_int_eq(pgt_tlb_lookup(&tlb, (1ull << 21) + 7, &pa, NULL), PGT_OK);
		ck_assert_uint_eq(pgt_tlb_misses(&tlb), 1);
		if (how == 0)
			pgt_tlb_fini(&tlb);
		else
			pgt_space_destroy(&sp);
		pa = 7;
		ck_assert_int_eq(pgt_tlb_lookup(&tlb, (1ull << 21) + 8, &pa, NULL), PGT_EINVAL);
		ck_assert_int_eq(pgt_tlb_fill(&tlb, (1ull << 21) + 8, &pa, NULL), PGT_EINVAL);
		ck_assert_uint_eq(pa, 7);
		if (how == 0)
			pgt_space_destroy(&sp);
	}
	test_mm_fini(&t);
}
END_TEST

/**
 * Changes to part of a cached superpage are seen everywhere in it: pgt_unmap
 * of one small page splits the superpage (the page is gone, its neighbours
 * translate to the same memory as before, now as small pages) and
 * pgt_protect of a few small pages gives them their new rights while the
 * rest keep theirs; at each superpage level.
 */
START_TEST(superpage_split)
{
	struct fx f;
	unsigned level[PGT_MAX_LEVELS];
	const unsigned rwx = RW | PGT_PROT_EXEC;

	fx_open(&f, test_archs[_i / 2], 32, 1 + (_i & 1));
	unsigned n = super_levels(f.a, level);
	uint64_t small = 1ull << f.a->level[0].shift;
	for (unsigned i = 0; i < n; i++) {
		unsigned s = f.a->level[level[i]].shift;
		pgt_vaddr_t va = 1ull << s;
		pgt_paddr_t pa = 2ull << s;
		uint64_t size = 1ull << s, mid = size / 2;
		ck_assert_int_eq(pgt_map(&f.sp, va, pa, size, rwx, 0), PGT_OK);
		for (uint64_t off = 0; off < 16 * small; off += small)
			expect(&f, va + off + 4, pa + off + 4, rwx);
		expect(&f, va + mid, pa + mid, rwx);
		ck_assert_int_eq(pgt_unmap(&f.sp, va + 3 * small, small), PGT_OK);
		ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, va + 3 * small + 8, NULL, NULL), PGT_ENOENT);
		ck_assert_int_eq(pgt_protect(&f.sp, va + 8 * small, 4 * small, PGT_PROT_READ), PGT_OK);
		for (uint64_t off = 0; off < 16 * small; off += small) {
			if (off == 3 * small) {
				ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, va + off, NULL, NULL), PGT_ENOENT);
				continue;
			}
			bool ro = off >= 8 * small && off < 12 * small;
			expect(&f, va + off + 4, pa + off + 4, ro ? PGT_PROT_READ : rwx);
		}
		expect(&f, va + mid, pa + mid, rwx);
		expect(&f, va + size - 1, pa + size - 1, rwx);
		ck_assert_int_eq(pgt_unmap(&f.sp, va, size), PGT_OK);
		ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, va + mid, NULL, NULL), PGT_ENOENT);
	}
	fx_close(&f);
}
END_TEST

/**
 * Attaching and detaching: a detached TLB answers PGT_EINVAL and the space
 * no longer writes into it; the others still see every change; a TLB
 * initialised twice for one space is attached once (destroy terminates);
 * fini on NULL, on a failed or a detached TLB is ignored.
 */
START_TEST(attach_detach)
{
	struct fx f;
	struct pgt_tlb_entry e2[4];
	pgt_tlb_t b, gone;

	fx_open(&f, &pgt_arch_x86_64, 8, 1);
	ck_assert_int_eq(pgt_tlb_init(&b, &f.sp, e2, 4, 2), PGT_OK);
	ck_assert_int_eq(pgt_tlb_init(&b, &f.sp, e2, 4, 2), PGT_OK); /* again: attached once */
	pgt_ref_t ref = map_page(&f, 0x3000, 12, 0x9000, RW);
	expect(&f, 0x3000, 0x9000, RW);
	ck_assert_int_eq(pgt_tlb_lookup(&b, 0x3000, NULL, NULL), PGT_OK);
	uint64_t misses = pgt_tlb_misses(&f.tlb);
	pgt_tlb_fini(&f.tlb);
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, 0x3000, NULL, NULL), PGT_EINVAL);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), misses); /* refused, not counted */
	memcpy(&gone, &f.tlb, sizeof gone);
	ck_assert_int_eq(pgt_set_field(&f.sp, ref, PGT_FIELD_WRITE, 0), PGT_OK);
	ck_assert_msg(memcmp(&gone, &f.tlb, sizeof gone) == 0, "the space wrote into a detached TLB");
	unsigned prot = 0;
	ck_assert_int_eq(pgt_tlb_lookup(&b, 0x3000, NULL, &prot), PGT_OK);
	ck_assert_uint_eq(prot, PGT_PROT_READ);
	pgt_tlb_fini(&f.tlb); /* twice: ignored */
	pgt_tlb_fini(NULL);
	ck_assert_int_eq(pgt_tlb_init(&f.tlb, &f.sp, NULL, 8, 1), PGT_EINVAL);
	pgt_tlb_fini(&f.tlb); /* failed init: ignored */
	/* attached again after fini */
	ck_assert_int_eq(pgt_tlb_init(&f.tlb, &f.sp, f.e, 8, 1), PGT_OK);
	expect(&f, 0x3004, 0x9004, PGT_PROT_READ);
	fx_close(&f); /* detaches both */
	ck_assert_int_eq(pgt_tlb_lookup(&b, 0x3000, NULL, NULL), PGT_EINVAL);
	pgt_tlb_fini(&b); /* detached by destroy: ignored */
	ck_assert_int_eq(pgt_tlb_lookup(&b, 0x3000, NULL, NULL), PGT_EINVAL);
}
END_TEST

/**
 * A run of changes with no lookup between them makes the TLBs stale once;
 * a lookup that revives one TLB makes the next change stale them all again,
 * also when another attached TLB stayed stale, and after that other one is
 * detached.
 */
START_TEST(changes_between_lookups)
{
	struct fx f;
	struct pgt_tlb_entry e2[4];
	pgt_tlb_t b;

	fx_open(&f, &pgt_arch_x86_64, 8, 1);
	ck_assert_int_eq(pgt_tlb_init(&b, &f.sp, e2, 4, 1), PGT_OK);
	map_page(&f, 0x3000, 12, 0x9000, RW);
	map_page(&f, 0x4000, 12, 0xa000, RW);
	expect(&f, 0x3000, 0x9000, RW);
	ck_assert_int_eq(pgt_unmap(&f.sp, 0x3000, 0x1000), PGT_OK);
	ck_assert_int_eq(pgt_protect(&f.sp, 0x4000, 0x1000, PGT_PROT_READ), PGT_OK); /* stale already */
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, 0x3000, NULL, NULL), PGT_ENOENT);
	expect(&f, 0x4000, 0xa000, PGT_PROT_READ); /* revived: b is still stale */
	ck_assert_int_eq(pgt_map(&f.sp, 0x3000, 0xb000, 0x1000, RW, 0), PGT_OK);
	ck_assert_int_eq(pgt_protect(&f.sp, 0x4000, 0x1000, RW), PGT_OK);
	expect(&f, 0x4000, 0xa000, RW);
	ck_assert_int_eq(pgt_tlb_lookup(&b, 0x4000, NULL, NULL), PGT_OK);
	pgt_tlb_fini(&b);
	ck_assert_int_eq(pgt_unmap(&f.sp, 0x4000, 0x1000), PGT_OK);
	ck_assert_int_eq(pgt_tlb_lookup(&f.tlb, 0x4000, NULL, NULL), PGT_ENOENT);
	expect(&f, 0x3000, 0xb000, RW);
	fx_close(&f);
}
END_TEST

/* --- random sequences against a model ------------------------------------------------------ */

#define MODEL_MAX 48

/** A mapping as the model keeps it. */
struct model_map {
	pgt_vaddr_t va;
	unsigned shift;
	pgt_paddr_t pa;
	unsigned prot; /**< 0: reserved */
	pgt_ref_t ref;
};

struct model {
	struct model_map m[MODEL_MAX];
	unsigned n;
};

static const struct model_map *model_find(const struct model *md, pgt_vaddr_t va)
{
	for (unsigned i = 0; i < md->n; i++)
		if ((va >> md->m[i].shift) == (md->m[i].va >> md->m[i].shift))
			return &md->m[i];
	return NULL;
}

/** A random page of a small window (so that pages share tables and TLB sets). */
static pgt_vaddr_t window_page(const struct pgt_arch *a, uint64_t *rng, unsigned shift)
{
	uint64_t window = 4ull << a->level[1].shift;
	return (test_rand(rng) % window) & ~((1ull << shift) - 1);
}

/** Random rights @p a can express; execute-only pages where it has them (RISC-V). */
static unsigned random_prot(const struct pgt_arch *a, uint64_t *rng)
{
	static const unsigned rights[] = {
		0, PGT_PROT_READ, RW, PGT_PROT_READ | PGT_PROT_EXEC, RW | PGT_PROT_EXEC, PGT_PROT_EXEC
	};
	unsigned p = rights[test_rand(rng) % (test_exec_only(a) ? 6 : 5)];
	return p | (unsigned)(test_rand(rng) & (PGT_PROT_USER | PGT_PROT_GLOBAL | PGT_PROT_UNCACHED));
}

/** Tries to add a mapping; the model follows the library's answer. */
static void op_map(struct fx *f, struct model *md, uint64_t *rng)
{
	if (md->n == MODEL_MAX)
		return;
	unsigned shift = f->a->level[test_rand(rng) % 4 == 0 ? 1 : 0].shift;
	pgt_vaddr_t va = window_page(f->a, rng, shift);
	pgt_ref_t ref;
	int rc = pgt_insert(&f->sp, va, shift, &ref);
	if (rc != PGT_OK)
		return; /* taken: the model's lookups check that part */
	struct model_map *m = &md->m[md->n++];
	*m = (struct model_map){ .va = va,
				 .shift = shift,
				 .pa = (test_rand(rng) % 1024) << shift,
				 .prot = random_prot(f->a, rng),
				 .ref = ref };
	ck_assert_int_eq(pgt_set_field(&f->sp, ref, PGT_FIELD_PADDR, m->pa), PGT_OK);
	ck_assert_int_eq(pgt_set_field(&f->sp, ref, PGT_FIELD_PROT, m->prot), PGT_OK);
}

/** Changes the rights or the output address of a mapping. */
static void op_change(struct fx *f, struct model *md, uint64_t *rng)
{
	if (md->n == 0)
		return;
	struct model_map *m = &md->m[test_rand(rng) % md->n];
	if (test_rand(rng) & 1) {
		m->prot = random_prot(f->a, rng);
		ck_assert_int_eq(pgt_set_field(&f->sp, m->ref, PGT_FIELD_PROT, m->prot), PGT_OK);
	} else {
		m->pa = (test_rand(rng) % 1024) << m->shift;
		ck_assert_int_eq(pgt_set_field(&f->sp, m->ref, PGT_FIELD_PADDR, m->pa), PGT_OK);
	}
}

/** Removes a mapping with pgt_unmap. */
static void op_unmap(struct fx *f, struct model *md, uint64_t *rng)
{
	if (md->n == 0)
		return;
	unsigned i = (unsigned)(test_rand(rng) % md->n);
	struct model_map *m = &md->m[i];
	ck_assert_int_eq(pgt_unmap(&f->sp, m->va, 1ull << m->shift), PGT_OK);
	*m = md->m[--md->n];
}

/** Changes a mapping's rights with pgt_protect. */
static void op_protect(struct fx *f, struct model *md, uint64_t *rng)
{
	if (md->n == 0)
		return;
	struct model_map *m = &md->m[test_rand(rng) % md->n];
	m->prot = random_prot(f->a, rng);
	ck_assert_int_eq(pgt_protect(&f->sp, m->va, 1ull << m->shift, m->prot), PGT_OK);
}

/** Looks @p va up through the TLB and checks it against the model and the tables. */
static void check_lookup(struct fx *f, const struct model *md, pgt_vaddr_t va)
{
	const struct model_map *m = model_find(md, va);
	pgt_paddr_t pa = 0;
	unsigned prot = 0;
	int rc = pgt_tlb_lookup(&f->tlb, va, &pa, &prot);

	if (!m || !(m->prot & (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC))) {
		ck_assert_msg(rc == PGT_ENOENT, "%s: va 0x%llx: %d, model has no translation", f->a->name,
			      (unsigned long long)va, rc);
		return;
	}
	ck_assert_msg(rc == PGT_OK, "%s: va 0x%llx: %d", f->a->name, (unsigned long long)va, rc);
	ck_assert_uint_eq(pa, m->pa + (va - m->va));
	ck_assert_uint_eq(prot, m->prot & ~test_prot_dropped(f->a));
	/* and the tables agree */
	pgt_ref_t ref;
	uint64_t want;
	ck_assert_int_eq(pgt_lookup(&f->sp, va, &ref), PGT_OK);
	ck_assert_int_eq(pgt_get_field(&f->sp, ref, PGT_FIELD_PROT, &want), PGT_OK);
	ck_assert_uint_eq(want, prot);
}

/** Looks a random address of the window up (see check_lookup). */
static void op_lookup(struct fx *f, const struct model *md, uint64_t *rng)
{
	check_lookup(f, md, window_page(f->a, rng, 0));
}

START_TEST(random_vs_model)
{
	const struct pgt_arch *a = test_archs[_i / 2];
	unsigned ways = 1 + (unsigned)(_i & 1);
	struct fx f;
	struct model md = { .n = 0 };
	uint64_t rng = 0x71b00u + (uint64_t)_i;

	fx_open(&f, a, 8, ways);
	for (unsigned step = 0; step < 20000; step++) {
		unsigned r = (unsigned)(test_rand(&rng) % 16);
		if (r == 0 || r == 1)
			op_map(&f, &md, &rng);
		else if (r == 2)
			op_change(&f, &md, &rng);
		else if (r == 3)
			op_unmap(&f, &md, &rng);
		else if (r == 4)
			op_protect(&f, &md, &rng);
		else
			op_lookup(&f, &md, &rng);
	}
	ck_assert_uint_gt(md.n, 10);
	fx_close(&f);
}
END_TEST

/* --- the table cache --------------------------------------------------------------- */

/** A space of @p a, hook (@p hook) or offset p2v, with a 64-entry direct-mapped TLB. */
static void fx_open_mode(struct fx *f, const struct pgt_arch *a, bool hook)
{
	f->a = a;
	test_mm_init(&f->t, hook ? TEST_MM_HOOK : TEST_MM_OFFSET);
	ck_assert_int_eq(pgt_space_init(&f->sp, a, &f->t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_tlb_init(&f->tlb, &f->sp, f->e, 64, 1), PGT_OK);
}

/** Whether pgt_tlb_lookup of @p va answers @p want and, for PGT_OK, @p pa. */
static void expect_rc(struct fx *f, pgt_tlb_t *tlb, pgt_vaddr_t va, int want, pgt_paddr_t pa)
{
	pgt_paddr_t got = 0;
	int rc = pgt_tlb_lookup(tlb, va, &got, NULL);

	ck_assert_msg(rc == want, "%s: va 0x%llx: %d, want %d", f->a->name, (unsigned long long)va, rc, want);
	ck_assert_msg(rc != PGT_OK || got == pa, "%s: va 0x%llx: pa 0x%llx, want 0x%llx", f->a->name,
		      (unsigned long long)va, (unsigned long long)got, (unsigned long long)pa);
}

/**
 * A miss in a region whose table a walk went through reads its entry
 * straight from that table: with the p2v hook, no hook call (a walk from
 * the root makes one per level below it), for small pages in one leaf
 * table and, where the format has them, superpages in one table of level
 * 1; the answers are the tables', a page mapped into a remembered table
 * afterwards included (no change the TLB is told of). The misses still
 * count. Every format; the table entries sit in entries no page here uses.
 */
START_TEST(table_cache_one_read)
{
	struct fx f;

	fx_open_mode(&f, test_archs[_i], true);
	unsigned s0 = f.a->level[0].shift, s1 = f.a->level[1].shift;
	pgt_vaddr_t base = 5ull << s1; /* table entry 5; the pages' sets are 1, 2, 3 */
	for (unsigned j = 1; j <= 2; j++)
		ck_assert_int_eq(
			pgt_map(&f.sp, base + ((pgt_vaddr_t)j << s0), (8ull + j) << s0, 1ull << s0, RW, 0),
			PGT_OK);
	expect_rc(&f, &f.tlb, base + (1u << s0) + 4, PGT_OK, (9ull << s0) + 4); /* walks */
	long calls = f.t.p2v_calls;
	uint64_t misses = pgt_tlb_misses(&f.tlb);
	expect_rc(&f, &f.tlb, base + (2u << s0) + 4, PGT_OK, (10ull << s0) + 4);
	expect_rc(&f, &f.tlb, base + (3u << s0) + 4, PGT_ENOENT, 0);
	ck_assert_int_eq(f.t.p2v_calls, calls);
	ck_assert_int_eq(pgt_map(&f.sp, base + (3u << s0), 20ull << s0, 1ull << s0, RW, 0), PGT_OK);
	calls = f.t.p2v_calls; /* the map's own walk */
	expect_rc(&f, &f.tlb, base + (3u << s0) + 4, PGT_OK, (20ull << s0) + 4);
	ck_assert_int_eq(f.t.p2v_calls, calls);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), misses + 3);
	if (f.a->levels > 2 && f.a->level[1].leaf_ok) {
		unsigned s2 = f.a->level[2].shift;
		pgt_vaddr_t big = 3ull << s2; /* table entry 3; the superpages' entries 1 and 2, sets 0 */
		for (unsigned k = 1; k <= 2; k++)
			ck_assert_int_eq(pgt_map(&f.sp, big + ((pgt_vaddr_t)k << s1), (4ull + k) << s1,
						 1ull << s1, RW, 0),
					 PGT_OK);
		expect_rc(&f, &f.tlb, big + (1ull << s1) + 8, PGT_OK, (5ull << s1) + 8);
		calls = f.t.p2v_calls;
		expect_rc(&f, &f.tlb, big + (2ull << s1) + 8, PGT_OK, (6ull << s1) + 8);
		expect_rc(&f, &f.tlb, big + (3ull << s1) + 8, PGT_ENOENT, 0);
		ck_assert_int_eq(f.t.p2v_calls, calls);
	}
	fx_close(&f);
}
END_TEST

/**
 * Tables under a root entry borrowed from another space (pgt_share) are
 * never remembered: the owner may free them without telling this space's
 * TLBs. A second miss in the same leaf table walks from the root (a p2v
 * hook call at least), where an owned region's is one read (see above).
 * Formats with sharing marks.
 */
START_TEST(table_cache_not_under_borrowed)
{
	struct fx f;
	pgt_space_t own;

	fx_open_mode(&f, test_archs[_i], true);
	ck_assert_int_eq(pgt_space_init(&own, f.a, &f.t.mm, 0), PGT_OK);
	unsigned s0 = f.a->level[0].shift, root = f.a->levels - 1u;
	pgt_vaddr_t base = 1ull << f.a->level[root].shift; /* root entry 1 */
	for (unsigned j = 1; j <= 2; j++)
		ck_assert_int_eq(
			pgt_map(&own, base + ((pgt_vaddr_t)j << s0), (8ull + j) << s0, 1ull << s0, RW, 0),
			PGT_OK);
	int rc = pgt_share(&f.sp, &own, base, 1ull << f.a->level[root].shift);
	if (rc != PGT_ENOTSUP) {
		ck_assert_int_eq(rc, PGT_OK);
		expect_rc(&f, &f.tlb, base + (1u << s0) + 4, PGT_OK, (9ull << s0) + 4);
		long calls = f.t.p2v_calls;
		expect_rc(&f, &f.tlb, base + (2u << s0) + 4, PGT_OK, (10ull << s0) + 4);
		ck_assert_msg(f.t.p2v_calls > calls,
			      "%s: a miss under a borrowed entry read a remembered table", f.a->name);
	}
	pgt_tlb_fini(&f.tlb);
	pgt_space_destroy(&f.sp);
	pgt_space_destroy(&own);
	test_mm_fini(&f.t);
}
END_TEST

/**
 * A remembered table that leaves the tree is never read again: the leaf
 * table of a page is remembered, the page unmapped (the table is emptied
 * and kept for reuse by pgt_space_cache), and the same table then linked
 * in another region, where a page at the same index maps elsewhere. The
 * first region answers nothing, in two TLBs on the space; every format,
 * offset and hook p2v.
 */
START_TEST(table_cache_reused_table)
{
	struct fx f;
	struct pgt_tlb_entry e2[64];
	pgt_tlb_t other;

	fx_open_mode(&f, test_archs[_i / 2], _i & 1);
	ck_assert_int_eq(pgt_tlb_init(&other, &f.sp, e2, 64, 2), PGT_OK);
	ck_assert_int_eq(pgt_space_cache(&f.sp, 4), PGT_OK);
	unsigned s0 = f.a->level[0].shift, s1 = f.a->level[1].shift;
	pgt_vaddr_t r1 = 5ull << s1, r2 = 9ull << s1, page = 1ull << s0;
	ck_assert_int_eq(pgt_map(&f.sp, r1 + 2 * page, 0x40ull << s0, page, RW, 0), PGT_OK);
	expect_rc(&f, &f.tlb, r1 + 2 * page, PGT_OK, 0x40ull << s0);
	expect_rc(&f, &other, r1 + 2 * page, PGT_OK, 0x40ull << s0);
	size_t tables = test_mm_outstanding(&f.t);
	ck_assert_int_eq(pgt_unmap(&f.sp, r1 + 2 * page, page), PGT_OK);
	ck_assert_int_eq(pgt_map(&f.sp, r2 + 3 * page, 0x80ull << s0, page, RW, 0), PGT_OK);
	ck_assert_uint_eq(test_mm_outstanding(&f.t), tables); /* the same table, from the space's cache */
	expect_rc(&f, &f.tlb, r1 + 3 * page, PGT_ENOENT, 0);
	expect_rc(&f, &other, r1 + 3 * page, PGT_ENOENT, 0);
	expect_rc(&f, &f.tlb, r2 + 3 * page, PGT_OK, 0x80ull << s0);
	expect_rc(&f, &other, r2 + 3 * page, PGT_OK, 0x80ull << s0);
	fx_close(&f);
}
END_TEST

/**
 * A superpage replacing a leaf table that is remembered, and a table
 * replacing a superpage whose table is remembered, are seen: with
 * PGT_MAP_REPLACE; and, told nothing (nothing valid changed), a table
 * linked where a remembered table of level 1 had an empty entry. Every
 * format with superpages of level 1, offset and hook p2v.
 */
START_TEST(table_cache_shape_changes)
{
	struct fx f;

	fx_open_mode(&f, test_archs[_i / 2], _i & 1);
	if (f.a->levels < 3 || !f.a->level[1].leaf_ok) {
		fx_close(&f);
		return;
	}
	unsigned s0 = f.a->level[0].shift, s1 = f.a->level[1].shift;
	pgt_vaddr_t r = 5ull << s1, page = 1ull << s0, big = 1ull << s1;
	/* a superpage replaces the table */
	ck_assert_int_eq(pgt_map(&f.sp, r + page, 0x40ull << s0, 2 * page, RW, 0), PGT_OK);
	expect_rc(&f, &f.tlb, r + page, PGT_OK, 0x40ull << s0);
	ck_assert_int_eq(pgt_map(&f.sp, r, 3ull << s1, big, RW, PGT_MAP_REPLACE), PGT_OK);
	expect_rc(&f, &f.tlb, r + 2 * page + 1, PGT_OK, (3ull << s1) + 2 * page + 1);
	expect_rc(&f, &f.tlb, r + 7 * page, PGT_OK, (3ull << s1) + 7 * page);
	/* a table replaces the superpage */
	ck_assert_int_eq(pgt_map(&f.sp, r + 2 * page, 0x90ull << s0, page, RW, PGT_MAP_REPLACE), PGT_OK);
	expect_rc(&f, &f.tlb, r + 2 * page + 1, PGT_OK, (0x90ull << s0) + 1);
	expect_rc(&f, &f.tlb, r + 6 * page, PGT_OK, (3ull << s1) + 6 * page);
	/* a table where the remembered level-1 table had nothing */
	pgt_vaddr_t r3 = r + 3 * big;
	expect_rc(&f, &f.tlb, r3 + page, PGT_ENOENT, 0);
	uint64_t misses = pgt_tlb_misses(&f.tlb);
	ck_assert_int_eq(pgt_map(&f.sp, r3 + page, 0x70ull << s0, page, RW, 0), PGT_OK);
	ck_assert_uint_eq(pgt_tlb_misses(&f.tlb), misses); /* not told */
	expect_rc(&f, &f.tlb, r3 + page, PGT_OK, 0x70ull << s0);
	expect_rc(&f, &f.tlb, r3 + 2 * page, PGT_ENOENT, 0);
	fx_close(&f);
}
END_TEST

/* --- runs of superpages ------------------------------------------------------------------ */

/** How a run test's space walks: compiled (offset p2v, or the hook), or generic (a copy of the descriptor). */
enum run_mode { RUN_OFFSET, RUN_HOOK, RUN_GENERIC, RUN_MODES };

/** A fixture whose descriptor may be a copy, which gets the generic walks. */
struct run_fx {
	struct fx f;
	struct pgt_arch copy;
};

/** Opens loop case @p i: descriptor i / RUN_MODES, mode i % RUN_MODES, a 64-entry direct-mapped TLB. */
static void run_open(struct run_fx *r, int i)
{
	const struct pgt_arch *a = test_archs[i / RUN_MODES];
	enum run_mode m = (enum run_mode)(i % RUN_MODES);

	r->copy = *a;
	fx_open_mode(&r->f, m == RUN_GENERIC ? &r->copy : a, m == RUN_HOOK);
}

/**
 * The levels below the root where @p a has superpages and eight of them
 * sit in one line of a table, with room for 64 such pages from address 0,
 * virtual and physical.
 */
static unsigned run_levels(const struct pgt_arch *a, unsigned level[PGT_MAX_LEVELS])
{
	unsigned n = 0;

	for (unsigned l = 1; l + 1u < a->levels; l++) {
		unsigned s = a->level[l].shift;
		if (a->level[l].leaf_ok && a->level[l].bits >= 3 && s + 6 <= a->va_bits && s + 6 <= a->pa_bits)
			level[n++] = l;
	}
	return n;
}

/**
 * Eight superpages of 2^s bytes from page @p first (a multiple of eight),
 * mapping memory from page @p pa on, except: page @p moved maps page 2,
 * page @p other_rights is read-only, page @p missing is not mapped (-1:
 * none). With none of them, the eight make a run.
 */
struct eight {
	unsigned s, first, pa;
	int moved, other_rights, missing;
};

static pgt_paddr_t eight_pa(const struct eight *g, int k)
{
	return (pgt_paddr_t)(k == g->moved ? 2u : g->pa + (unsigned)k) << g->s;
}

static unsigned eight_prot(const struct eight *g, int k)
{
	return k == g->other_rights ? PGT_PROT_READ : RW;
}

static void eight_map(struct fx *f, const struct eight *g)
{
	for (int k = 0; k < 8; k++)
		if (k != g->missing)
			map_page(f, (pgt_vaddr_t)(g->first + (unsigned)k) << g->s, g->s, eight_pa(g, k), eight_prot(g, k));
}

/**
 * Looks up three addresses of every page of @p g through the TLB, from
 * page 5 round (a fill from the middle of a run); returns the misses it
 * took.
 */
static uint64_t eight_expect(struct fx *f, const struct eight *g)
{
	uint64_t before = pgt_tlb_misses(&f->tlb);

	for (int j = 0; j < 8; j++) {
		int k = (5 + j) % 8;
		pgt_vaddr_t va = (pgt_vaddr_t)(g->first + (unsigned)k) << g->s;
		uint64_t size = 1ull << g->s;
		if (k == g->missing) {
			expect_rc(f, &f->tlb, va, PGT_ENOENT, 0);
			continue;
		}
		expect(f, va, eight_pa(g, k), eight_prot(g, k));
		expect(f, va + size / 2 + 8u * (unsigned)k, eight_pa(g, k) + size / 2 + 8u * (unsigned)k,
		       eight_prot(g, k));
		expect(f, va + size - 1, eight_pa(g, k) + size - 1, eight_prot(g, k));
	}
	return pgt_tlb_misses(&f->tlb) - before;
}

/**
 * Eight superpages side by side in their table (an aligned group of eight
 * entries), mapping contiguous memory (not aligned to the eight) with the
 * same rights, take one TLB entry: one walk, then every byte of the eight
 * hits, at its own physical address. Eight that break the run (one page
 * elsewhere in memory, one with other rights, one missing) are cached one
 * by one, each answering its own. At every level below the root where the
 * format has superpages; compiled walks with either p2v, and the generic
 * walk.
 */
START_TEST(superpage_runs)
{
	struct run_fx r;
	struct fx *f = &r.f;
	unsigned level[PGT_MAX_LEVELS];

	run_open(&r, _i);
	unsigned n = run_levels(f->a, level); /* 0: superpages only in the root (two-level formats) */
	for (unsigned i = 0; i < n; i++) {
		unsigned s = f->a->level[level[i]].shift;
		const struct eight groups[] = {
			{ s, 8, 3, -1, -1, -1 },  { s, 16, 11, 3, -1, -1 },
			{ s, 24, 19, -1, 5, -1 }, { s, 32, 27, -1, -1, 6 },
		};
		const uint64_t want[] = { 1, 8, 8, 7 + 1 }; /* the missing page's lookup walks too */
		for (unsigned g = 0; g < 4; g++) {
			eight_map(f, &groups[g]);
			uint64_t misses = eight_expect(f, &groups[g]);
			ck_assert_msg(misses == want[g], "%s: level %u, group %u: %llu misses, want %llu",
				      f->a->name, level[i], g, (unsigned long long)misses,
				      (unsigned long long)want[g]);
		}
		/* again: all cached, nothing walks */
		for (unsigned g = 0; g < 3; g++)
			ck_assert_uint_eq(eight_expect(f, &groups[g]), 0);
	}
	fx_close(f);
}
END_TEST

/**
 * A run's entry goes with every change of one of its pages: after
 * pgt_protect, pgt_set_field (output address) and pgt_unmap of one page,
 * that page answers its new translation and the other seven their own.
 */
START_TEST(superpage_run_changes)
{
	struct run_fx r;
	struct fx *f = &r.f;
	unsigned level[PGT_MAX_LEVELS];

	run_open(&r, _i);
	if (run_levels(f->a, level) == 0) { /* superpages only in the root (two-level formats) */
		fx_close(f);
		return;
	}
	struct eight g = { f->a->level[level[0]].shift, 8, 3, -1, -1, -1 };
	uint64_t size = 1ull << g.s;
	eight_map(f, &g);
	ck_assert_uint_eq(eight_expect(f, &g), 1);

	ck_assert_int_eq(pgt_protect(&f->sp, 13 * size, size, PGT_PROT_READ), PGT_OK);
	g.other_rights = 5;
	eight_expect(f, &g);

	pgt_ref_t ref;
	ck_assert_int_eq(pgt_lookup(&f->sp, 10 * size, &ref), PGT_OK);
	ck_assert_int_eq(pgt_set_field(&f->sp, ref, PGT_FIELD_PADDR, 2 * size), PGT_OK);
	g.moved = 2;
	eight_expect(f, &g);

	ck_assert_int_eq(pgt_unmap(&f->sp, 14 * size, size), PGT_OK);
	g.missing = 6;
	eight_expect(f, &g);
	fx_close(f);
}
END_TEST

/** Whether the model maps the eight pages of 2^@p s bytes from @p va0 as a run would. */
static bool model_run(const struct model *md, pgt_vaddr_t va0, unsigned s)
{
	const struct model_map *m0 = model_find(md, va0);

	for (unsigned k = 0; k < 8; k++) {
		const struct model_map *m = model_find(md, va0 + ((uint64_t)k << s));
		if (!m || !m0 || m->shift != s || m->prot != m0->prot || !(m->prot & RW) ||
		    m->pa != m0->pa + ((uint64_t)k << s))
			return false;
	}
	return true;
}

/** Forgets the model's mappings in [@p va, @p va + @p size). */
static void model_unmap(struct model *md, pgt_vaddr_t va, uint64_t size)
{
	for (unsigned i = 0; i < md->n;)
		if (md->m[i].va - va < size)
			md->m[i] = md->m[--md->n];
		else
			i++;
}

/** Maps a page of 2^@p shift bytes at @p va to @p pa with @p prot where nothing is; the model follows. */
static void run_map(struct fx *f, struct model *md, pgt_vaddr_t va, unsigned shift, pgt_paddr_t pa, unsigned prot)
{
	pgt_ref_t ref;

	if (md->n == MODEL_MAX || pgt_insert(&f->sp, va, shift, &ref) != PGT_OK)
		return; /* full, or taken */
	md->m[md->n++] = (struct model_map){ .va = va, .shift = shift, .pa = pa, .prot = prot, .ref = ref };
	ck_assert_int_eq(pgt_set_field(&f->sp, ref, PGT_FIELD_PADDR, pa), PGT_OK);
	ck_assert_int_eq(pgt_set_field(&f->sp, ref, PGT_FIELD_PROT, prot), PGT_OK);
}

/**
 * Random maps, unmaps, protects and changes over 32 superpages (small
 * pages among the last eight), with whole groups of eight mapped as runs
 * now and then, so that runs form and break; every TLB answer checked
 * against the model; many of the lookups land in runs.
 */
START_TEST(superpage_runs_random)
{
	struct run_fx r;
	struct fx *f = &r.f;
	struct model md = { .n = 0 };
	unsigned level[PGT_MAX_LEVELS];
	uint64_t rng = 0x52554e53u + (uint64_t)_i;
	unsigned in_runs = 0;

	run_open(&r, _i);
	if (run_levels(f->a, level) == 0) { /* superpages only in the root (two-level formats) */
		fx_close(f);
		return;
	}
	unsigned s = f->a->level[level[0]].shift, s0 = f->a->level[0].shift;
	const uint64_t run_pa = 5ull << s; /* what a run's pages map: va + this */
	const unsigned steps = test_slow_runner() ? 1500 : 6000;
	for (unsigned step = 0; step < steps; step++) {
		unsigned op = (unsigned)(test_rand(&rng) % 20);
		if (op == 0) { /* a group of eight emptied, then mapped as a run */
			uint64_t first = 8 * (test_rand(&rng) % 3);
			ck_assert_int_eq(pgt_unmap(&f->sp, first << s, 8ull << s), PGT_OK);
			model_unmap(&md, first << s, 8ull << s);
			for (uint64_t k = first; k < first + 8; k++)
				run_map(f, &md, k << s, s, (k << s) + run_pa, RW);
		} else if (op < 4) {
			pgt_vaddr_t va = (test_rand(&rng) % 32) << s;
			pgt_paddr_t pa = test_rand(&rng) % 2 ? va + run_pa : (test_rand(&rng) % 60) << s;
			run_map(f, &md, va, s, pa, test_rand(&rng) % 2 ? RW : random_prot(f->a, &rng));
		} else if (op == 4) {
			pgt_vaddr_t va = ((24 + test_rand(&rng) % 8) << s) + ((test_rand(&rng) % 512) << s0);
			run_map(f, &md, va, s0, (test_rand(&rng) % 1024) << s0, random_prot(f->a, &rng));
		} else if (op < 7) {
			op_unmap(f, &md, &rng);
		} else if (op == 7) {
			op_protect(f, &md, &rng);
		} else if (op == 8) {
			op_change(f, &md, &rng);
		} else {
			pgt_vaddr_t va = test_rand(&rng) % (32ull << s);
			in_runs += model_run(&md, va & ~((8ull << s) - 1), s);
			check_lookup(f, &md, va);
		}
	}
	ck_assert_msg(in_runs > steps / 30, "%s: only %u lookups in runs", f->a->name, in_runs);
	fx_close(f);
}
END_TEST

static Suite *tlb_suite(void)
{
	Suite *s = suite_create("tlb");
	TCase *tc = tcase_create("tlb");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, init_errors);
	tcase_add_test(tc, init_small_pages);
	tcase_add_loop_test(tc, hit_and_miss, 0, 2);
	tcase_add_loop_test(tc, which_way, 0, 2);
	tcase_add_loop_test(tc, reserved_not_cached, 0, (int)test_narchs);
	tcase_add_loop_test(tc, superpage_reach, 0, (int)test_narchs * 2);
	tcase_add_loop_test(tc, superpage_tags, 0, (int)test_narchs);
	tcase_add_loop_test(tc, superpage_capacity, 0, 2);
	tcase_add_loop_test(tc, fill_rights, 0, (int)test_narchs);
	tcase_add_loop_test(tc, field_changes, 0, (int)test_narchs);
	tcase_add_test(tc, generation_hook);
	tcase_add_loop_test(tc, range_changes, 0, (int)test_narchs);
	tcase_add_loop_test(tc, superpage_dropped, 0, (int)test_narchs * 2);
	tcase_add_loop_test(tc, superpage_split, 0, (int)test_narchs * 2);
	tcase_add_loop_test(tc, superpage_sizes_together, 0, (int)test_narchs * 2);
	tcase_add_test(tc, superpage_detached);
	tcase_add_test(tc, attach_detach);
	tcase_add_test(tc, changes_between_lookups);
	tcase_add_loop_test(tc, random_vs_model, 0, (int)test_narchs * 2);
	tcase_add_loop_test(tc, table_cache_one_read, 0, (int)test_narchs);
	tcase_add_loop_test(tc, table_cache_not_under_borrowed, 0, (int)test_narchs);
	tcase_add_loop_test(tc, table_cache_reused_table, 0, (int)test_narchs * 2);
	tcase_add_loop_test(tc, table_cache_shape_changes, 0, (int)test_narchs * 2);
	tcase_add_loop_test(tc, superpage_runs, 0, (int)test_narchs * RUN_MODES);
	tcase_add_loop_test(tc, superpage_run_changes, 0, (int)test_narchs * RUN_MODES);
	tcase_add_loop_test(tc, superpage_runs_random, 0, (int)test_narchs * RUN_MODES);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(tlb_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
