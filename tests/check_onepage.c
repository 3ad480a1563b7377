/* SPDX-License-Identifier: MIT */
/*
 * One-page pgt_map, pgt_unmap and pgt_protect: a shipped descriptor's
 * compiled walks finish these calls alone, and hand everything else to the
 * passes. A copy of the descriptor gets the engine's generic walks, which
 * always take the passes. Two spaces, one of each, driven by the same long
 * random sequence of one-page calls (into existing tables, missing tables,
 * conflicts, superpages to split, reserved leaves, the same rights again,
 * bad arguments) must agree after every call: same status, same leaves
 * (address, level and every bit), same tlb_flush calls, same leaf_ad
 * reports, same allocator books; in both p2v kinds, with and without link
 * words and the leaf_ad hook, in both ranges of every format.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/tlb.h>

#include "harness.h"

/** Calls per configuration; fewer on a slow runner (Valgrind runs the suite 50x slower). */
static unsigned steps(void)
{
	return test_slow_runner() ? 60u : 500u;
}


/** What the hooks of one space were told, in order. */
struct hook_log {
	unsigned n;
	uint64_t sum; /**< of every call's arguments, mixed: calls past the kept ones still count */
	struct {
		char kind; /**< 'f' tlb_flush, 'a' leaf_ad */
		pgt_vaddr_t va;
		uint64_t size, pa;
		unsigned ad;
	} call[16];
};

struct side {
	struct pgt_arch arch; /**< the shipped one, or the copy */
	const struct pgt_arch *a;
	struct test_mm t;
	pgt_space_t sp;
	struct hook_log log;
};

static void log_call(struct hook_log *g, char kind, pgt_vaddr_t va, uint64_t size, uint64_t pa, unsigned ad)
{
	if (g->n < sizeof g->call / sizeof g->call[0]) {
		g->call[g->n].kind = kind;
		g->call[g->n].va = va;
		g->call[g->n].size = size;
		g->call[g->n].pa = pa;
		g->call[g->n].ad = ad;
	}
	g->n++;
	g->sum = g->sum * 1000003u + ((uint64_t)kind ^ va ^ (size << 1) ^ (pa << 2) ^ ad);
}

static void on_flush(struct test_mm *t, pgt_vaddr_t va, uint64_t size)
{
	log_call(t->on_flush_arg, 'f', va, size, 0, 0);
}

static void on_leaf_ad(void *ctx, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned ad)
{
	struct test_mm *t = ctx;

	log_call(t->on_flush_arg, 'a', va, size, pa, ad);
}

/** Configuration @p i: descriptor, range (upper or lower), p2v kind, link words, leaf_ad hook. */
struct config {
	const struct pgt_arch *a;
	unsigned flags;
	enum test_mm_mode mode;
	bool ad_hook;
	bool cache; /**< both sides keep emptied tables (pgt_space_cache) */
	bool no_flush; /**< no tlb_flush hook */
	char who[96];
};

static struct config config_of(int i)
{
	struct config cf = { .a = test_archs[i / 8] };
	bool high = (i & 1) && test_has_upper(cf.a);

	cf.flags = (high ? PGT_SPACE_UPPER : 0) | ((i & 2) ? PGT_SPACE_LINKS : 0);
	cf.mode = (i & 4) ? TEST_MM_HOOK : TEST_MM_OFFSET;
	cf.ad_hook = (i & 2) == 0; /* with links off: both hooks and both table sizes are covered */
	cf.cache = (i & 3) == 1 || (i & 3) == 2; /* with and without links, and in both p2v kinds */
	snprintf(cf.who, sizeof cf.who, "%s %s%s (%s)%s%s", cf.a->name, high ? "high" : "low",
		 (i & 2) ? " links" : "", cf.mode == TEST_MM_HOOK ? "hook" : "offset", cf.ad_hook ? " leaf_ad" : "",
		 cf.cache ? " cache" : "");
	return cf;
}

/** Opens one side: the shipped descriptor itself, or (@p copy) a copy that gets the generic walks. */
static void side_open(struct side *s, const struct config *cf, bool copy)
{
	memset(s, 0, sizeof *s);
	s->arch = *cf->a;
	s->a = copy ? &s->arch : cf->a;
	test_mm_init(&s->t, cf->mode);
	s->t.on_flush = on_flush;
	s->t.on_flush_arg = &s->log;
	if (cf->no_flush)
		s->t.mm.tlb_flush = NULL;
	if (cf->ad_hook) {
		s->t.mm.leaf_ad = on_leaf_ad;
		s->t.mm.ctx = &s->t; /* the harness's hooks take the same context */
	}
	ck_assert_int_eq(pgt_space_init(&s->sp, s->a, &s->t.mm, cf->flags), PGT_OK);
	if (cf->cache)
		ck_assert_int_eq(pgt_space_cache(&s->sp, 3), PGT_OK);
}

static void side_close(struct side *s, const struct config *cf)
{
	struct tree_stats st = tree_check(&s->sp, s->a, &s->t);

	CHECK_THAT(st.problems == 0, "%s: %zu problems in the tree", cf->who, st.problems);
	pgt_space_destroy(&s->sp);
	CHECK_THAT(s->t.allocs == s->t.frees && s->t.errors == 0, "%s: books do not balance", cf->who);
	test_mm_fini(&s->t);
}

/** The entry mapping @p va in @p s, and its level (-1 for none), by the library's lookup. */
static uint64_t entry_at(struct side *s, pgt_vaddr_t va, int *level)
{
	pgt_ref_t ref;

	*level = -1;
	if (pgt_lookup(&s->sp, va, &ref) != PGT_OK)
		return 0;
	*level = (int)ref.level;
	return *ref.pte;
}

/** Both spaces map @p va with the same entry at the same level, or neither does. */
static void expect_same_at(struct side *fast, struct side *gen, const struct config *cf, unsigned step,
			   pgt_vaddr_t va)
{
	int lf, lg;
	uint64_t ef = entry_at(fast, va, &lf), eg = entry_at(gen, va, &lg);

	CHECK_THAT(lf == lg && ef == eg,
		      "%s: step %u: at %#" PRIx64 " level %d entry %#" PRIx64 ", the passes: level %d entry %#" PRIx64,
		      cf->who, step, va, lf, ef, lg, eg);
}

/** The two spaces hold the same leaves, bit for bit (a walk of both trees). */
static void expect_same_trees(struct side *fast, struct side *gen, const struct config *cf, unsigned step,
			      const char *what)
{
	size_t nf, ng;
	struct test_leaf *lf = tree_leaves(&fast->sp, fast->a, &fast->t, cf->flags, &nf);
	struct test_leaf *lg = tree_leaves(&gen->sp, gen->a, &gen->t, cf->flags, &ng);

	CHECK_THAT(nf == ng, "%s: step %u (%s): %zu leaves, the passes leave %zu", cf->who, step, what, nf, ng);
	for (size_t k = 0; k < nf; k++)
		CHECK_THAT(lf[k].va == lg[k].va && lf[k].level == lg[k].level && lf[k].pte == lg[k].pte,
			      "%s: step %u (%s): leaf %zu: va %#" PRIx64 " level %u pte %#" PRIx64
			      ", the passes: va %#" PRIx64 " level %u pte %#" PRIx64,
			      cf->who, step, what, k, lf[k].va, lf[k].level, lf[k].pte, lg[k].va, lg[k].level,
			      lg[k].pte);
	free(lf);
	free(lg);
}

/** The two spaces told their hooks the same, and their allocators' books agree. */
static void expect_same_calls(struct side *fast, struct side *gen, const struct config *cf, unsigned step,
			      const char *what)
{
	CHECK_THAT(fast->log.n == gen->log.n && fast->log.sum == gen->log.sum,
		      "%s: step %u (%s): %u hook calls, the passes make %u (first: %c %#" PRIx64 " +%#" PRIx64
		      " / %c %#" PRIx64 " +%#" PRIx64 ")",
		      cf->who, step, what, fast->log.n, gen->log.n, fast->log.call[0].kind, fast->log.call[0].va,
		      fast->log.call[0].size, gen->log.call[0].kind, gen->log.call[0].va, gen->log.call[0].size);
	CHECK_THAT(fast->t.allocs == gen->t.allocs && fast->t.frees == gen->t.frees,
		      "%s: step %u (%s): %ld allocations and %ld frees, the passes %ld and %ld", cf->who, step, what,
		      fast->t.allocs, fast->t.frees, gen->t.allocs, gen->t.frees);
	fast->log.n = gen->log.n = 0;
	fast->log.sum = gen->log.sum = 0;
}

/** The levels of the format's leaves, smallest first. */
static unsigned leaf_levels(const struct pgt_arch *a, unsigned lv[PGT_MAX_LEVELS])
{
	unsigned n = 0;

	for (unsigned l = 0; l < a->levels; l++)
		if (a->level[l].leaf_ok)
			lv[n++] = l;
	return n;
}

/** Rights the calls use: a few, so that most calls find them encoded already. */
static unsigned pick_prot(const struct pgt_arch *a, uint64_t r)
{
	static const unsigned prots[] = {
		PGT_PROT_READ | PGT_PROT_WRITE, PGT_PROT_READ, PGT_PROT_READ | PGT_PROT_EXEC,
		PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_USER, 0 /* a reserved leaf */,
		PGT_PROT_READ | PGT_PROT_UNCACHED, ~0u /* bad */,
	};
	unsigned prot = prots[r % (sizeof prots / sizeof prots[0])];

	return prot == ~0u || test_prot_expressible(a, prot) ? prot : PGT_PROT_READ;
}

START_TEST(test_one_page_as_the_passes)
{
	struct config cf = config_of(_i);
	const struct pgt_arch *a = cf.a;
	struct side fast, gen;
	unsigned lv[PGT_MAX_LEVELS], nlv = leaf_levels(a, lv);
	uint64_t rng = 0x5eed0000u + (uint64_t)_i;
	pgt_vaddr_t base = test_va_bottom(a, cf.flags & PGT_SPACE_UPPER);

	side_open(&fast, &cf, false);
	side_open(&gen, &cf, true);
	unsigned n = steps();

	for (unsigned step = 0; step < n; step++) {
		uint64_t r = test_rand(&rng);
		unsigned level = lv[(r >> 8) % (nlv > 2 ? 3 : nlv)];
		uint64_t size = 1ull << a->level[level].shift;
		/* Pages of a size land in two entries of the level above, at the range's bottom: dense enough to
		 * find their tables, and overlapping the larger pages, which then conflict and split. */
		unsigned above = level + 1u < a->levels ? level + 1u : level;
		uint64_t window = 2ull << a->level[above].shift;
		pgt_vaddr_t va = base + (((r >> 16) % (window / size)) * size);
		/* Now and then a size or an address the short paths do not take. */
		if ((r & 63) == 0)
			size *= 2;
		if ((r & 63) == 1)
			va += 1ull << a->level[0].shift;
		pgt_paddr_t pa = ((r >> 40) % 64) * size;
		unsigned prot = pick_prot(a, r >> 4);
		unsigned flags = (r & 31) == 2 ? PGT_MAP_REPLACE : (r & 31) == 3 ? PGT_MAP_NOSUPER : 0;
		int rf, rg;
		const char *what;

		switch ((r >> 56) % 3) {
		case 0:
			what = "map";
			rf = pgt_map(&fast.sp, va, pa, size, prot, flags);
			rg = pgt_map(&gen.sp, va, pa, size, prot, flags);
			break;
		case 1:
			what = "unmap";
			rf = pgt_unmap(&fast.sp, va, size);
			rg = pgt_unmap(&gen.sp, va, size);
			break;
		default:
			what = "protect";
			rf = pgt_protect(&fast.sp, va, size, prot);
			rg = pgt_protect(&gen.sp, va, size, prot);
			break;
		}
		CHECK_THAT(rf == rg, "%s: step %u: %s va %#" PRIx64 " size %#" PRIx64 " prot %#x: %s, the passes %s",
			      cf.who, step, what, va, size, prot, pgt_errname(rf), pgt_errname(rg));
		expect_same_calls(&fast, &gen, &cf, step, what);
		expect_same_at(&fast, &gen, &cf, step, va);
		expect_same_at(&fast, &gen, &cf, step, va + size - 1);
		if (step % 64 == 63) /* the whole trees now and then: splits reach beyond the call's pages */
			expect_same_trees(&fast, &gen, &cf, step, what);
	}
	expect_same_trees(&fast, &gen, &cf, n, "the end");
	side_close(&fast, &cf);
	side_close(&gen, &cf);
}
END_TEST

/** Maps @p size bytes at @p va in both spaces, and marks the leaf accessed and dirty as an MMU would. */
static void map_touched(struct side *fast, struct side *gen, const struct config *cf, pgt_vaddr_t va, uint64_t size)
{
	struct side *both[2] = { fast, gen };

	for (unsigned k = 0; k < 2; k++) {
		pgt_ref_t ref;
		CHECK_RC(pgt_map(&both[k]->sp, va, 0, size, PGT_PROT_READ | PGT_PROT_WRITE, 0), PGT_OK);
		CHECK_RC(pgt_lookup(&both[k]->sp, va, &ref), PGT_OK);
		const struct pgt_level *L = &cf->a->level[ref.level];
		*ref.pte |= L->accessed | L->dirty;
	}
}

/**
 * Unmaps [@p va, @p va + @p size) in both sides, which their TLBs @p tlb
 * looked up first: the same answers, hook calls (@p calls of them on the
 * library's side) and trees, and the TLBs miss after.
 */
static void unmap_looked_up(struct side *both[2], pgt_tlb_t tlb[2], const struct config *cf, pgt_vaddr_t va,
			    uint64_t size, unsigned calls, const char *what)
{
	for (unsigned s = 0; s < 2; s++) {
		pgt_paddr_t pa;
		CHECK_RC(pgt_tlb_lookup(&tlb[s], va, &pa, NULL), PGT_OK);
		CHECK_RC(pgt_unmap(&both[s]->sp, va, size), PGT_OK);
		CHECK_RC(pgt_tlb_lookup(&tlb[s], va, &pa, NULL), PGT_ENOENT);
	}
	CHECK_THAT(both[0]->log.n == calls, "%s: %s at %#" PRIx64 ": %u hook calls, not %u", cf->who, what, va,
		   both[0]->log.n, calls);
	expect_same_calls(both[0], both[1], cf, 0, what);
	expect_same_trees(both[0], both[1], cf, 0, what);
}

/**
 * One-page unmaps at level @p l (which holds leaves, below the root):
 * one that empties its table while the table above keeps another entry,
 * so that the compiled walk unlinks the table and gives it back itself;
 * one from a table that keeps another page; then the last page, which
 * empties the table above too (the passes' case). Each page looked up by
 * a TLB first, which must be told. The same hook calls (the flush, the
 * accessed and dirty bits), books and trees as the passes, every table
 * given back, and the TLB misses.
 */
static void unmap_empties_table(const struct config *cf, unsigned l)
{
	const struct pgt_arch *a = cf->a;
	const uint64_t size = 1ull << a->level[l].shift;
	const pgt_vaddr_t base = test_va_bottom(a, cf->flags & PGT_SPACE_UPPER);
	/* the next entry of the table above: a table of its own, beside the page's */
	const pgt_vaddr_t other = base + (1ull << a->level[l + 1u].shift);
	struct side fast, gen;
	struct side *both[2] = { &fast, &gen };
	struct pgt_tlb_entry mem[2][64];
	pgt_tlb_t tlb[2];
	const unsigned calls = (cf->no_flush ? 0u : 1u) + (cf->ad_hook ? 1u : 0u); /* for each page */

	side_open(&fast, cf, false);
	side_open(&gen, cf, true);
	map_touched(&fast, &gen, cf, other, size);
	map_touched(&fast, &gen, cf, other + size, size);
	map_touched(&fast, &gen, cf, base, size);
	expect_same_calls(&fast, &gen, cf, l, "the setup");
	for (unsigned s = 0; s < 2; s++)
		CHECK_RC(pgt_tlb_init(&tlb[s], &both[s]->sp, mem[s], 64, 2), PGT_OK);

	long frees = fast.t.frees;
	unmap_looked_up(both, tlb, cf, base, size, calls, "the table empties");
	CHECK_THAT(cf->cache || fast.t.frees == frees + 1, "%s: level %u: %ld tables given back, not 1", cf->who, l,
		   fast.t.frees - frees);
	unmap_looked_up(both, tlb, cf, other, size, calls, "the table keeps a page");
	unmap_looked_up(both, tlb, cf, other + size, size, calls, "the table above empties");
	for (unsigned s = 0; s < 2; s++)
		pgt_tlb_fini(&tlb[s]);
	side_close(&fast, cf);
	side_close(&gen, cf);
}

/** unmap_empties_table at every level that holds leaves below the root, with and without a tlb_flush hook. */
START_TEST(test_one_page_empties_table)
{
	struct config cf = config_of(_i);
	unsigned lv[PGT_MAX_LEVELS], nlv = leaf_levels(cf.a, lv);

	for (unsigned k = 0; k < nlv && lv[k] + 1u < cf.a->levels; k++) {
		cf.no_flush = false;
		unmap_empties_table(&cf, lv[k]);
		cf.no_flush = true;
		unmap_empties_table(&cf, lv[k]);
	}
}
END_TEST

/** The short paths meet a p2v hook that fails: PGT_EHOOK, nothing written, as the passes. */
START_TEST(test_one_page_p2v_failure)
{
	struct config cf = config_of(_i * 8 + 4); /* hook mode */
	struct side fast, gen;
	uint64_t page = 1ull << cf.a->level[0].shift;
	pgt_vaddr_t va = test_va_bottom(cf.a, 0);

	side_open(&fast, &cf, false);
	side_open(&gen, &cf, true);
	CHECK_RC(pgt_map(&fast.sp, va, 0, page, PGT_PROT_READ, 0), PGT_OK);
	CHECK_RC(pgt_map(&gen.sp, va, 0, page, PGT_PROT_READ, 0), PGT_OK);
	fast.t.p2v_null = gen.t.p2v_null = true;
	CHECK_RC(pgt_map(&fast.sp, va + page, 0, page, PGT_PROT_READ, 0), PGT_EHOOK);
	CHECK_RC(pgt_map(&gen.sp, va + page, 0, page, PGT_PROT_READ, 0), PGT_EHOOK);
	CHECK_RC(pgt_protect(&fast.sp, va, page, PGT_PROT_READ | PGT_PROT_WRITE), PGT_EHOOK);
	CHECK_RC(pgt_protect(&gen.sp, va, page, PGT_PROT_READ | PGT_PROT_WRITE), PGT_EHOOK);
	CHECK_RC(pgt_unmap(&fast.sp, va, page), PGT_EHOOK);
	CHECK_RC(pgt_unmap(&gen.sp, va, page), PGT_EHOOK);
	fast.t.p2v_null = gen.t.p2v_null = false;
	expect_same_calls(&fast, &gen, &cf, 0, "p2v failure");
	expect_same_trees(&fast, &gen, &cf, 0, "p2v failure");
	side_close(&fast, &cf);
	side_close(&gen, &cf);
}
END_TEST

/**
 * One page into missing tables, with the N-th table allocation failing for
 * every N the branch needs (and one more, which succeeds), in both p2v
 * kinds: the same status as the passes, nothing written, the books as
 * before; then the same page with a p2v hook that fails for the new tables.
 */
START_TEST(test_one_page_branch_failure)
{
	struct config cf = config_of((_i / 2) * 8 + (_i % 2) * 4);
	const struct pgt_arch *a = cf.a;
	uint64_t page = 1ull << a->level[0].shift;
	pgt_vaddr_t va = test_va_bottom(a, 0);
	/* the next root entry: every table below the root is missing there */
	pgt_vaddr_t far = va + (1ull << a->level[a->levels - 1u].shift);

	for (unsigned n = 1; n <= a->levels; n++) {
		struct side fast, gen;
		side_open(&fast, &cf, false);
		side_open(&gen, &cf, true);
		CHECK_RC(pgt_map(&fast.sp, va, 0, page, PGT_PROT_READ, 0), PGT_OK);
		CHECK_RC(pgt_map(&gen.sp, va, 0, page, PGT_PROT_READ, 0), PGT_OK);
		size_t before = test_mm_outstanding(&fast.t);
		fast.t.fail_at = fast.t.attempts + (long)n;
		gen.t.fail_at = gen.t.attempts + (long)n;
		int want = n < a->levels ? PGT_ENOMEM : PGT_OK;
		CHECK_RC(pgt_map(&fast.sp, far, page, page, PGT_PROT_READ, 0), want);
		CHECK_RC(pgt_map(&gen.sp, far, page, page, PGT_PROT_READ, 0), want);
		CHECK_THAT(want == PGT_OK || test_mm_outstanding(&fast.t) == before,
			   "%s: failure %u: %zu tables kept", cf.who, n, test_mm_outstanding(&fast.t) - before);
		expect_same_calls(&fast, &gen, &cf, n, "branch failure");
		expect_same_trees(&fast, &gen, &cf, n, "branch failure");
		if (cf.mode == TEST_MM_HOOK && want != PGT_OK) {
			fast.t.fail_at = gen.t.fail_at = 0;
			fast.t.p2v_null = gen.t.p2v_null = true;
			CHECK_RC(pgt_map(&fast.sp, far, page, page, PGT_PROT_READ, 0), PGT_EHOOK);
			CHECK_RC(pgt_map(&gen.sp, far, page, page, PGT_PROT_READ, 0), PGT_EHOOK);
			fast.t.p2v_null = gen.t.p2v_null = false;
			expect_same_trees(&fast, &gen, &cf, n, "branch p2v failure");
		}
		side_close(&fast, &cf);
		side_close(&gen, &cf);
	}
}
END_TEST

int main(void)
{
	/* Tables of 64 KiB granules with link words are 128 KiB: kept on the heap, their churn costs no mmap. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	Suite *s = suite_create("one page");
	TCase *tc = tcase_create("as the passes");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_one_page_as_the_passes, 0, (int)test_narchs * 8);
	tcase_add_loop_test(tc, test_one_page_empties_table, 0, (int)test_narchs * 8);
	tcase_add_loop_test(tc, test_one_page_p2v_failure, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_one_page_branch_failure, 0, (int)test_narchs * 2);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
