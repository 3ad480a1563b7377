/* SPDX-License-Identifier: MIT */
/*
 * check_fast: the inline walks of <pgtable/fast.h> against the calls they
 * stand for.
 *
 * For every shipped format, random trees are built with pgt_map, pgt_insert,
 * pgt_protect and pgt_unmap (pages of the three smallest sizes, reserved
 * leaves, mixed rights, leaves without their accessed or dirty bit), then
 * table entries are made to restrict rights or to be malformed. At every
 * probed address pgt_fast_lookup must give pgt_lookup's status and ref, and
 * pgt_fast_translate pgt_translate's status and physical address for every
 * access value (bad ones and PGT_ACC_SET_AD included); so must the _with
 * walks with the kind a constant, without flags and with the flags
 * pgt_fast_init gave (PGT_FAST_IDENTITY where the tables sit at their
 * physical addresses). The same holds for a view that reaches its tables
 * by a non-zero p2v offset, at the edges of every range (both halves of a
 * sign-extended one, the upper range of a split one), for a descriptor of
 * one's own with a shipped one's entries (which gets the shipped kind), and
 * with the bits x86-64 table entries ignore all set. pgt_fast_init refuses
 * bad input, a space with a p2v hook and a descriptor whose entries are no
 * kind's, changing nothing.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/fast.h>
#include <pgtable/pgtable.h>

#include "harness.h"

enum { R = PGT_PROT_READ, W = PGT_PROT_WRITE, X = PGT_PROT_EXEC, U = PGT_PROT_USER };

/** Random operations per tree, and probes after each batch of them. */
#define OPS     240
#define BATCH   40
#define PROBES  96
#define PLANTED 24

/** Where a test's mappings go: two windows, at the bottom and the top of the space. */
struct region {
	const struct pgt_arch *a;
	unsigned flags;
	unsigned hi_shift; /**< a window spans 8 << hi_shift bytes */
	pgt_vaddr_t base[2];
	uint64_t rng;
};

static unsigned shift_of(const struct pgt_arch *a, unsigned level)
{
	return a->level[level].shift;
}

static void region_init(struct region *g, const struct pgt_arch *a, unsigned flags, uint64_t seed)
{
	g->a = a;
	g->flags = flags;
	g->hi_shift = a->levels > 2 ? shift_of(a, 2) : shift_of(a, 1) + 2;
	g->base[0] = test_va_bottom(a, flags);
	g->base[1] = test_va_top(a, flags) + 1 - (8ull << g->hi_shift);
	g->rng = seed;
}

static uint64_t rnd(struct region *g, uint64_t n)
{
	return test_rand(&g->rng) % n;
}

/** A random level among the three smallest that hold leaves. */
static unsigned leaf_level(struct region *g)
{
	for (;;) {
		unsigned l = (unsigned)rnd(g, g->a->levels < 3 ? g->a->levels : 3);
		if (g->a->level[l].leaf_ok)
			return l;
	}
}

/** A random address in a window, aligned to a page of @p level, clustered so that pages meet. */
static pgt_vaddr_t page_va(struct region *g, unsigned level)
{
	const struct pgt_arch *a = g->a;
	pgt_vaddr_t va = g->base[rnd(g, 2)] + (rnd(g, 8) << g->hi_shift) + (rnd(g, 4) << shift_of(a, 1)) +
			 (rnd(g, 24) << shift_of(a, 0));

	return va & ~((1ull << shift_of(a, level)) - 1);
}

static unsigned random_prot(struct region *g)
{
	static const unsigned prots[] = { R,     R | W, R | X,     R | W | U, 0,         R | U | X,
					  R | U, X,     R | W | X, X | U,     R | W | X | U, W | R | PGT_PROT_UNCACHED };
	for (;;) {
		unsigned prot = prots[rnd(g, sizeof prots / sizeof prots[0])];
		if (test_prot_expressible(g->a, prot))
			return prot;
	}
}

/** One random mutation of the tree; its status does not matter, only the tree it leaves. */
static void random_op(pgt_space_t *sp, struct region *g)
{
	unsigned level = leaf_level(g);
	uint64_t size = 1ull << shift_of(g->a, level);
	pgt_vaddr_t va = page_va(g, level);
	pgt_paddr_t pa = rnd(g, 256) << shift_of(g->a, level);
	pgt_ref_t ref;

	switch (rnd(g, 6)) {
	case 0:
	case 1: (void)pgt_map(sp, va, pa, size * (1 + rnd(g, 3)), random_prot(g), rnd(g, 4) ? 0 : PGT_MAP_REPLACE); break;
	case 2: (void)pgt_insert(sp, va, shift_of(g->a, level), NULL); break;
	case 3: (void)pgt_protect(sp, va, size, random_prot(g)); break;
	case 4: (void)pgt_unmap(sp, va, size); break;
	default:
		/* A leaf the MMU has not marked accessed or dirty (Arm's access flag, RISC-V Svade). */
		if (pgt_lookup(sp, va, &ref) == PGT_OK)
			(void)pgt_set_field(sp, ref, rnd(g, 2) ? PGT_FIELD_ACCESSED : PGT_FIELD_DIRTY, 0);
		break;
	}
}

/** A probed address: in a window (any byte of a page), at an edge of the space, or outside it. */
static pgt_vaddr_t probe_va(struct region *g)
{
	const struct pgt_arch *a = g->a;

	switch (rnd(g, 16)) {
	case 0: return test_va_bottom(a, g->flags) + rnd(g, 1ull << shift_of(a, 0));
	case 1: return test_va_top(a, g->flags) - rnd(g, 1ull << shift_of(a, 0));
	case 2: return (1ull << (a->va_bits - 1)) + rnd(g, 4096); /* out of range unless split-lower */
	case 3: return test_rand(&g->rng);                           /* anywhere, mostly out of range */
	default: return page_va(g, 0) + rnd(g, 1ull << shift_of(a, 0));
	}
}

/*
 * The walks the tests compare with the calls: 0, pgt_fast_lookup (and
 * pgt_fast_translate), which switch on the kind; then the _with walks with
 * the kind a constant, without flags and with the flags pgt_fast_init gave
 * (PGT_FAST_IDENTITY: no offset added), as a loop would choose them once.
 */
enum { VIA_SWITCH, VIA_NO_FLAGS, VIA_FLAGS, VIAS };
static const char *const via_name[VIAS] = { "switch", "no flags", "flags" };

/** The lookup walk of @p f's kind with the constant @p flags. */
#define LOOKUP_WITH(k)                                                                                    \
	case k:                                                                                           \
		return (flags & PGT_FAST_IDENTITY) ? pgt_fast_lookup_with(f, k, PGT_FAST_IDENTITY, va, out) \
						   : pgt_fast_lookup_with(f, k, 0, va, out);

/** The inline lookup @p via at @p va. */
static int fast_lookup_via(unsigned via, const struct pgt_fast *f, pgt_vaddr_t va, pgt_ref_t *out)
{
	unsigned flags = via == VIA_FLAGS ? f->flags : 0u;

	if (via == VIA_SWITCH)
		return pgt_fast_lookup(f, va, out);
	switch (f->kind) {
		PGT_FAST_FOR_EACH_KIND(LOOKUP_WITH)
	}
	ck_abort_msg("kind %u has no walk", f->kind);
	return PGT_EINVAL;
}

/** The translate walk of @p f's kind with the constant @p flags. */
#define TRANSLATE_WITH(k)                                                                                         \
	case k:                                                                                                   \
		return (flags & PGT_FAST_IDENTITY) ? pgt_fast_translate_with(f, k, PGT_FAST_IDENTITY, va, access, pa) \
						   : pgt_fast_translate_with(f, k, 0, va, access, pa);

/** The inline translate @p via at @p va. */
static int fast_translate_via(unsigned via, const struct pgt_fast *f, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa)
{
	unsigned flags = via == VIA_FLAGS ? f->flags : 0u;

	if (via == VIA_SWITCH)
		return pgt_fast_translate(f, va, access, pa);
	switch (f->kind) {
		PGT_FAST_FOR_EACH_KIND(TRANSLATE_WITH)
	}
	ck_abort_msg("kind %u has no walk", f->kind);
	return PGT_EINVAL;
}

/** Every inline lookup and pgt_lookup agree at @p va. */
static void same_lookup(const struct pgt_fast *f, const pgt_space_t *sp, pgt_vaddr_t va)
{
	pgt_ref_t want = { NULL, 77, 77 };
	int rw = pgt_lookup(sp, va, &want);

	for (unsigned via = 0; via < VIAS; via++) {
		pgt_ref_t got = { NULL, 77, 77 };
		int rg = fast_lookup_via(via, f, va, &got);
		ck_assert_msg(rg == rw, "%s: lookup %#llx (%s): fast %s, call %s", sp->pgt__arch->name,
			      (unsigned long long)va, via_name[via], pgt_errname(rg), pgt_errname(rw));
		ck_assert_msg(got.pte == want.pte && got.level == want.level && got.page_shift == want.page_shift,
			      "%s: lookup %#llx (%s): fast ref (%p, %u, %u), call (%p, %u, %u)", sp->pgt__arch->name,
			      (unsigned long long)va, via_name[via], (void *)got.pte, got.level, got.page_shift,
			      (void *)want.pte, want.level, want.page_shift);
		CHECK_RC(fast_lookup_via(via, f, va, NULL), rw);
	}
}

/** Every inline translate and pgt_translate agree at @p va for every access value below 32. */
static void same_translate(const struct pgt_fast *f, const pgt_space_t *sp, pgt_vaddr_t va)
{
	for (unsigned access = 0; access < 32; access++) {
		pgt_paddr_t want = 0x5a5a;
		int rw = pgt_translate(sp, va, access, &want, NULL);
		for (unsigned via = 0; via < VIAS; via++) {
			pgt_paddr_t got = 0x5a5a;
			int rg = fast_translate_via(via, f, va, access, &got);
			ck_assert_msg(rg == rw && got == want,
				      "%s: translate %#llx access %u (%s): fast %s pa %#llx, call %s pa %#llx",
				      sp->pgt__arch->name, (unsigned long long)va, access, via_name[via],
				      pgt_errname(rg), (unsigned long long)got, pgt_errname(rw),
				      (unsigned long long)want);
			CHECK_RC(fast_translate_via(via, f, va, access, NULL), pgt_translate(sp, va, access, NULL, NULL));
		}
	}
}

/** Both walks at @p n probed addresses, and at each mapped page's first and last byte. */
static void probe(const struct pgt_fast *f, const pgt_space_t *sp, struct region *g, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		pgt_vaddr_t va = probe_va(g);
		same_lookup(f, sp, va);
		same_translate(f, sp, va);
	}
}

/** A table entry changed by plant(), to be put back. */
struct planted {
	pgt_pte_t *p;
	pgt_pte_t old;
};

/** The table entry at @p level on @p va's path in @p t's tables (offset mode), or NULL. */
static pgt_pte_t *table_entry(const pgt_space_t *sp, const struct test_mm *t, pgt_vaddr_t va, unsigned level)
{
	const struct pgt_arch *a = sp->pgt__arch;
	pgt_pte_t *table = test_mm_p2v(t, pgt_space_root(sp));

	for (unsigned l = a->levels - 1u;; l--) {
		const struct pgt_level *L = &a->level[l];
		pgt_pte_t *p = table + ((va >> L->shift) & ((1ull << L->bits) - 1));
		if (!test_is_table(L, l, *p))
			return NULL;
		if (l == level)
			return p;
		table = test_mm_p2v(t, test_table_pa(L, *p));
	}
}

/**
 * Makes a table entry on the path of a random address take rights away
 * (one of its level's rules made to apply) or be malformed (a must-be-zero
 * bit set, or a large leaf at a level that holds none): the inline
 * translate must hand such walks over.
 */
static bool plant(const pgt_space_t *sp, const struct test_mm *t, struct region *g, struct planted *out)
{
	const struct pgt_arch *a = g->a;
	unsigned level = 1 + (unsigned)rnd(g, a->levels - 1u);
	const struct pgt_level *L = &a->level[level];
	pgt_pte_t *p = table_entry(sp, t, page_va(g, 0), level);
	const struct pgt_rule *r = &L->table_rules[rnd(g, PGT_RULES)];
	pgt_pte_t v;

	if (!p)
		return false;
	if (!L->leaf_ok && a->level[1].leaf_ok && rnd(g, 4) == 0 && a->prot_encode(1, R | W | X, &v) == PGT_OK)
		v |= *p & L->table_oa; /* a large leaf where the format has none: malformed */
	else if (r->removes && r->mask && !(r->mask & (L->type_mask | L->table_oa)))
		v = (*p & ~r->mask) | r->match;
	else if (L->table_mbz)
		v = *p | (L->table_mbz & -L->table_mbz);
	else
		return false;
	*out = (struct planted){ p, *p };
	*p = v;
	return true;
}

static void same_on_random_trees(const struct pgt_arch *a, unsigned flags, uint64_t seed)
{
	struct test_mm t;
	pgt_space_t sp;
	struct pgt_fast f;
	struct region g;
	struct planted planted[PLANTED];
	unsigned n = 0;

	test_mm_init(&t, TEST_MM_OFFSET);
	CHECK_RC(pgt_space_init(&sp, a, &t.mm, flags), PGT_OK);
	CHECK_RC(pgt_fast_init(&f, &sp), PGT_OK);
	region_init(&g, a, flags, seed);
	for (unsigned i = 0; i < OPS; i++) {
		random_op(&sp, &g);
		if (i % BATCH == BATCH - 1)
			probe(&f, &sp, &g, PROBES);
	}
	for (unsigned try = 0; try < 4 * PLANTED && n < PLANTED; try++)
		n += plant(&sp, &t, &g, &planted[n]); /* a try fails where no table is */
	probe(&f, &sp, &g, PROBES * 4);
	while (n--)
		*planted[n].p = planted[n].old;
	pgt_space_destroy(&sp);
	ck_assert_uint_eq(test_mm_outstanding(&t), 0);
	test_mm_fini(&t);
}

/* Three random trees a format; one under memcheck and the other slow runners (test_slow_runner). */
START_TEST(test_same_answers)
{
	const struct pgt_arch *a = test_archs[_i];
	uint64_t seeds = test_slow_runner() ? 1 : 3;

	for (uint64_t seed = 1; seed <= seeds; seed++)
		same_on_random_trees(a, 0, seed * 0x9e3779b97f4a7c15ull + _i);
	if (test_has_upper(a))
		same_on_random_trees(a, PGT_SPACE_UPPER, 0x1234567ull + _i);
}
END_TEST

/**
 * A view reaching its tables by a non-zero p2v offset: the hook-mode
 * allocator's frames sit TEST_PA_XOR above their pointers (which lie
 * below it), so the view adds its negation. The inline walks must give
 * the view's answers, which are the space's.
 */
START_TEST(test_view_with_offset)
{
	const struct pgt_arch *a = test_archs[_i];
	struct test_mm t;
	pgt_space_t sp, view;
	struct pgt_fast f, before;
	struct region g;

	test_mm_init(&t, TEST_MM_HOOK);
	CHECK_RC(pgt_space_init(&sp, a, &t.mm, 0), PGT_OK);
	memset(&f, 0xa5, sizeof f);
	before = f;
	CHECK_RC(pgt_fast_init(&f, &sp), PGT_ENOTSUP); /* a p2v hook: nothing to add inline */
	ck_assert(memcmp(&f, &before, sizeof f) == 0);
	region_init(&g, a, 0, 99 + _i);
	for (unsigned i = 0; i < OPS; i++)
		random_op(&sp, &g);

	const struct pgt_mm mm = { .p2v_offset = (uintptr_t)0 - (uintptr_t)TEST_PA_XOR };
	CHECK_RC(pgt_space_view(&view, a, &mm, pgt_space_root(&sp), 0), PGT_OK);
	CHECK_RC(pgt_fast_init(&f, &view), PGT_OK);
	ck_assert(f.offset == mm.p2v_offset); /* 0 for 32-bit pointers: the XOR is above them */
	ck_assert_uint_eq(f.flags, (mm.p2v_offset ? 0u : PGT_FAST_IDENTITY));
	for (unsigned i = 0; i < PROBES * 4; i++) {
		pgt_vaddr_t va = probe_va(&g);
		pgt_ref_t in_space, in_view;
		same_lookup(&f, &view, va);
		same_translate(&f, &view, va);
		int rc = pgt_fast_lookup(&f, va, &in_view);
		CHECK_RC(pgt_lookup(&sp, va, &in_space), rc);
		ck_assert(rc != PGT_OK || in_space.pte == in_view.pte);
	}
	pgt_space_destroy(&view);
	pgt_space_destroy(&sp);
	ck_assert_uint_eq(test_mm_outstanding(&t), 0);
	test_mm_fini(&t);
}
END_TEST

/** The edges of a space's range, and of each half of a sign-extended one: their first and last byte, and either side. */
static void range_edges(const struct pgt_arch *a, unsigned flags, pgt_vaddr_t edge[], size_t *n)
{
	const pgt_vaddr_t half = 1ull << (a->va_bits - 1), whole = 1ull << a->va_bits;
	const pgt_vaddr_t at[] = { 0, half, -half, whole, -whole, 1ull << 63, test_va_bottom(a, flags),
				   test_va_top(a, flags) + 1 };

	*n = 0;
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
		for (int d = -2; d <= 1; d++)
			edge[(*n)++] = at[i] + (pgt_vaddr_t)(int64_t)d;
}

/**
 * At the edges of the range (and of each half of a sign-extended range),
 * with a page mapped at every edge that lies inside: the inline walks give
 * the calls' answers, PGT_ERANGE on the outer side of every edge.
 */
static void same_at_edges(const struct pgt_arch *a, unsigned flags)
{
	struct test_mm t;
	pgt_space_t sp;
	struct pgt_fast f;
	pgt_vaddr_t edge[32];
	size_t n;

	test_mm_init(&t, TEST_MM_OFFSET);
	CHECK_RC(pgt_space_init(&sp, a, &t.mm, flags), PGT_OK);
	range_edges(a, flags, edge, &n);
	for (size_t i = 0; i < n; i++) {
		pgt_vaddr_t page = edge[i] & ~((1ull << shift_of(a, 0)) - 1);
		if (pgt_lookup(&sp, page, NULL) == PGT_ENOENT)
			CHECK_RC(pgt_map(&sp, page, 7ull << shift_of(a, 0), 1ull << shift_of(a, 0), R, 0), PGT_OK);
	}
	CHECK_RC(pgt_fast_init(&f, &sp), PGT_OK);
	for (size_t i = 0; i < n; i++) {
		same_lookup(&f, &sp, edge[i]);
		same_translate(&f, &sp, edge[i]);
	}
	pgt_space_destroy(&sp);
	ck_assert_uint_eq(test_mm_outstanding(&t), 0);
	test_mm_fini(&t);
}

START_TEST(test_range_edges)
{
	const struct pgt_arch *a = test_archs[_i];

	same_at_edges(a, 0);
	if (test_has_upper(a))
		same_at_edges(a, PGT_SPACE_UPPER);
}
END_TEST

START_TEST(test_bad_input)
{
	struct test_mm t;
	pgt_space_t sp;
	struct pgt_fast f, before;

	memset(&f, 0x3c, sizeof f);
	before = f;
	test_mm_init(&t, TEST_MM_OFFSET);
	CHECK_RC(pgt_fast_init(NULL, NULL), PGT_EINVAL);
	CHECK_RC(pgt_fast_init(&f, NULL), PGT_EINVAL);
	memset(&sp, 0, sizeof sp);
	CHECK_RC(pgt_fast_init(&f, &sp), PGT_EINVAL); /* never initialised */
	CHECK_RC(pgt_space_init(&sp, &pgt_arch_x86_64, &t.mm, 0), PGT_OK);
	CHECK_RC(pgt_fast_init(NULL, &sp), PGT_EINVAL);
	pgt_space_destroy(&sp);
	CHECK_RC(pgt_fast_init(&f, &sp), PGT_EINVAL); /* destroyed */
	ck_assert(memcmp(&f, &before, sizeof f) == 0);
	test_mm_fini(&t);
}
END_TEST

/** pgt_fast_init's answer for a struct filled from a fresh space: the fields the walks read. */
START_TEST(test_init_fills)
{
	const struct pgt_arch *a = test_archs[_i];
	struct test_mm t;
	pgt_space_t sp;
	struct pgt_fast f;

	test_mm_init(&t, TEST_MM_OFFSET);
	CHECK_RC(pgt_space_init(&sp, a, &t.mm, 0), PGT_OK);
	memset(&f, 0xff, sizeof f);
	CHECK_RC(pgt_fast_init(&f, &sp), PGT_OK);
	ck_assert_ptr_eq(f.space, &sp);
	ck_assert_uint_eq(f.root, (uintptr_t)test_mm_p2v(&t, pgt_space_root(&sp)));
	ck_assert_uint_eq(f.offset, 0);
	ck_assert_uint_eq(f.flags, PGT_FAST_IDENTITY); /* tables at their physical address */
	ck_assert(f.kind > PGT_FAST_NONE && f.kind < PGT_FAST_KINDS);
	const struct pgt_fast_layout *k = &pgt_fast_layouts[f.kind];
	ck_assert_uint_eq(k->levels, a->levels);
	ck_assert_uint_eq(k->va_bits, a->va_bits);
	for (unsigned l = 0; l < a->levels; l++) {
		ck_assert_uint_eq(k->level[l].shift, a->level[l].shift);
		ck_assert_uint_eq(k->level[l].index_mask, (1ull << a->level[l].bits) - 1u);
		ck_assert_uint_eq(k->level[l].next_oa, a->level[l].table_oa);
		ck_assert_uint_eq(k->level[l].leaf_oa, a->level[l].leaf_ok ? a->level[l].leaf_oa : 0);
	}
	/* The root indexes every address bit above its shift: the walks' range check is its index's bound. */
	ck_assert_uint_eq(k->level[k->levels - 1].index_mask, (1ull << (k->va_bits - k->level[k->levels - 1].shift)) - 1);
	for (unsigned i = 0; i < sizeof f.pad / sizeof f.pad[0]; i++)
		ck_assert_uint_eq(f.pad[i], 0);
	for (size_t w = 0; w < sizeof f.pgt__room / sizeof f.pgt__room[0]; w++)
		ck_assert_uint_eq(f.pgt__room[w], 0);
	/* Out of range: the same answer as the calls. */
	pgt_vaddr_t out = a->canon == PGT_CANON_SPLIT ? 1ull << a->va_bits : 1ull << (a->va_bits - 1);
	CHECK_RC(pgt_fast_lookup(&f, out, NULL), PGT_ERANGE);
	CHECK_RC(pgt_fast_translate(&f, out, PGT_ACC_READ, NULL), PGT_ERANGE);
	CHECK_RC(pgt_fast_translate(&f, 0, 3, NULL), PGT_EFLAGS);
	pgt_space_destroy(&sp);
	test_mm_fini(&t);
}
END_TEST

/** Every shipped format has its own kind: no two share a layout. */
START_TEST(test_kinds_distinct)
{
	unsigned seen[PGT_FAST_KINDS] = { 0 };
	struct test_mm t;

	test_mm_init(&t, TEST_MM_OFFSET);
	for (size_t i = 0; i < test_narchs; i++) {
		pgt_space_t sp;
		struct pgt_fast f;
		CHECK_RC(pgt_space_init(&sp, test_archs[i], &t.mm, 0), PGT_OK);
		CHECK_RC(pgt_fast_init(&f, &sp), PGT_OK);
		ck_assert_msg(seen[f.kind]++ == 0, "%s: kind %u given twice", test_archs[i]->name, f.kind);
		pgt_space_destroy(&sp);
	}
	test_mm_fini(&t);
}
END_TEST

/**
 * A descriptor of one's own with a shipped one's entries (a copy under its
 * own name, without the shipped compiled walks) gets the shipped kind, and
 * its inline walks give its calls' answers on random trees.
 */
START_TEST(test_own_descriptor_same_layout)
{
	const struct pgt_arch *a = test_archs[_i];
	struct pgt_arch mine = *a;
	struct test_mm t;
	pgt_space_t sp, theirs;
	struct pgt_fast f, g;

	mine.name = "own-copy";
	test_mm_init(&t, TEST_MM_OFFSET);
	CHECK_RC(pgt_space_init(&sp, &mine, &t.mm, 0), PGT_OK);
	CHECK_RC(pgt_space_init(&theirs, a, &t.mm, 0), PGT_OK);
	CHECK_RC(pgt_fast_init(&f, &sp), PGT_OK);
	CHECK_RC(pgt_fast_init(&g, &theirs), PGT_OK);
	ck_assert_uint_eq(f.kind, g.kind);
	pgt_space_destroy(&theirs);
	pgt_space_destroy(&sp);
	test_mm_fini(&t);
	same_on_random_trees(&mine, 0, 0xabcdefull + _i);
}
END_TEST

/**
 * A descriptor whose entries differ from every kind's (one physical
 * address bit fewer: the top bit of each address field cleared) is
 * refused with PGT_ENOTSUP, and the struct is left as it was.
 */
START_TEST(test_altered_descriptor_refused)
{
	const struct pgt_arch *a = test_archs[_i];
	struct pgt_arch mine = *a;
	struct test_mm t;
	pgt_space_t sp;
	struct pgt_fast f, before;

	mine.name = "own-narrower";
	for (unsigned l = 0; l < a->levels; l++) {
		/* m & ~(m >> 1) is the top bit of a contiguous mask m */
		mine.level[l].table_oa &= ~(mine.level[l].table_oa & ~(mine.level[l].table_oa >> 1));
		if (mine.level[l].leaf_ok)
			mine.level[l].leaf_oa &= ~(mine.level[l].leaf_oa & ~(mine.level[l].leaf_oa >> 1));
	}
	test_mm_init(&t, TEST_MM_OFFSET);
	CHECK_RC(pgt_space_init(&sp, &mine, &t.mm, 0), PGT_OK);
	memset(&f, 0x5c, sizeof f);
	before = f;
	CHECK_RC(pgt_fast_init(&f, &sp), PGT_ENOTSUP);
	ck_assert(memcmp(&f, &before, sizeof f) == 0);
	pgt_space_destroy(&sp);
	test_mm_fini(&t);
}
END_TEST

/**
 * Table entries with every bit the format ignores set (x86-64: bits 62:52,
 * where counts may be kept): the inline walks read only the address field
 * of a table entry, so they still give the calls' answers.
 */
START_TEST(test_ignored_table_bits)
{
	struct test_mm t;
	pgt_space_t sp;
	struct pgt_fast f;
	struct region g;
	const pgt_pte_t ignored = ((1ull << 63) - 1) & ~((1ull << 52) - 1);

	test_mm_init(&t, TEST_MM_OFFSET);
	CHECK_RC(pgt_space_init(&sp, &pgt_arch_x86_64, &t.mm, 0), PGT_OK);
	CHECK_RC(pgt_fast_init(&f, &sp), PGT_OK);
	region_init(&g, &pgt_arch_x86_64, 0, 4242);
	for (unsigned i = 0; i < OPS; i++)
		random_op(&sp, &g);
	for (unsigned i = 0; i < PROBES * 4; i++) {
		for (unsigned l = 1; l < pgt_arch_x86_64.levels; l++) {
			pgt_pte_t *p = table_entry(&sp, &t, page_va(&g, 0), l);
			if (p)
				*p |= ignored;
		}
		pgt_vaddr_t va = probe_va(&g);
		same_lookup(&f, &sp, va);
		same_translate(&f, &sp, va);
	}
	pgt_space_destroy(&sp);
	test_mm_fini(&t);
}
END_TEST

static Suite *fast_suite(void)
{
	Suite *s = suite_create("fast");
	TCase *tc = tcase_create("fast");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_same_answers, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_view_with_offset, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_init_fills, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_range_edges, 0, (int)test_narchs);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_kinds_distinct);
	tcase_add_loop_test(tc, test_own_descriptor_same_layout, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_altered_descriptor_refused, 0, (int)test_narchs);
	tcase_add_test(tc, test_ignored_table_bits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(fast_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
