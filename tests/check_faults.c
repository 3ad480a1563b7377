/* SPDX-License-Identifier: MIT */
/*
 * check_faults: fault injection (DESIGN.md: "Every mutating call is
 * all-or-nothing").
 *
 * For every descriptor, with and without link words, with offset and hook
 * P2V (and the ARMv8 upper range), every table allocation an operation makes
 * is failed in turn, once (harness fail_at) and from then on (fail_after):
 * inserts that need 0 to levels-1 new tables (every page size into a space
 * where only the root, or some of the levels on the path, exist), space
 * init, and inserts in the middle of a longer random scenario. A failed
 * call must return PGT_ENOMEM with the tree bit-for-bit unchanged and every
 * table allocated for it freed; once the allocations suffice the insert
 * succeeds having made exactly the tables it needs. Frames the library
 * cannot use (misaligned or beyond the table address field: the harness
 * misalign, or a wrapper spoiling only the k-th frame of the operation) and
 * a p2v hook that starts returning NULL at its k-th call (harness p2v_null,
 * hook mode) must give PGT_EHOOK, again with the space unchanged and
 * nothing leaked. Destroying each space frees every table exactly once.
 * main prints how many injected failures were checked.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"

/** Configurations per descriptor: {plain, links} x {offset, hook}; ARMv8 hook+links also upper. */
enum { NCFG = 4 };

/** Injected failures checked, summed across the forked test processes. */
struct counts {
	unsigned long enomem;    /**< allocations failed (inserts and inits) */
	unsigned long bad_frame; /**< unusable frames handed out */
	unsigned long p2v_null;  /**< p2v calls answered with NULL */
	unsigned long ops;       /**< operations run under injection */
};
static struct counts g_local;
static struct counts *g_cnt = &g_local;

struct cfg {
	const struct pgt_arch *a;
	unsigned flags;
	enum test_mm_mode mode;
	char name[64];
};

static struct cfg cfg_of(int i)
{
	struct cfg c = { .a = test_archs[i / NCFG], .flags = (i & 1) ? PGT_SPACE_LINKS : 0,
			 .mode = (i & 2) ? TEST_MM_HOOK : TEST_MM_OFFSET };

	if (i % NCFG == 3 && test_has_upper(c.a))
		c.flags |= PGT_SPACE_UPPER;
	snprintf(c.name, sizeof c.name, "%s%s%s/%s", c.a->name, (c.flags & PGT_SPACE_LINKS) ? "+links" : "",
		 (c.flags & PGT_SPACE_UPPER) ? "+upper" : "", c.mode == TEST_MM_HOOK ? "hook" : "offset");
	return c;
}

static unsigned root_level(const struct cfg *c)
{
	return c->a->levels - 1u;
}

static unsigned page_shift(const struct cfg *c, unsigned level)
{
	return c->a->level[level].shift;
}

static pgt_vaddr_t base_va(const struct cfg *c)
{
	return (c->flags & PGT_SPACE_UPPER) ? 0 - (1ull << c->a->va_bits) : 0;
}

/** An address with index 1 at every level from @p level up: no neighbour shares its tables by accident. */
static pgt_vaddr_t path_va(const struct cfg *c, unsigned level)
{
	pgt_vaddr_t va = base_va(c);

	for (unsigned l = level; l <= root_level(c); l++)
		va += 1ull << page_shift(c, l);
	return va;
}

/** Bytes the library asks for a table at @p level. */
static size_t table_bytes(const struct cfg *c, unsigned level)
{
	size_t size = c->a->level[level].table_size;
	return (c->flags & PGT_SPACE_LINKS) ? 2 * size : size;
}

/* --- hooks between the library and the harness --- */

/** How the wrapper spoils a frame. */
enum spoil { SPOIL_8, SPOIL_HALF, SPOIL_HIGH, SPOIL_COUNT };
static const char *const spoil_name[SPOIL_COUNT] = { "misaligned by 8", "misaligned by half",
						      "beyond the table address field" };

static pgt_paddr_t spoiled(pgt_paddr_t pa, size_t size, enum spoil how)
{
	switch (how) {
	case SPOIL_8: return pa + 8;
	case SPOIL_HALF: return pa + size / 2;
	default: return pa | 1ull << 56;
	}
}

/**
 * Forwards to the harness, but can hand out the k-th frame of an operation
 * spoiled, and can set the harness's p2v_null from the k-th p2v call on.
 */
struct wrap {
	struct pgt_mm mm; /**< what the space is given */
	struct test_mm *t;
	long allocs;      /**< alloc_table calls seen */
	long spoil_at;    /**< this call's frame is spoiled (0: never) */
	enum spoil how;
	pgt_paddr_t bad_pa, real_pa;
	long p2v_calls;
	long p2v_null_from; /**< set harness p2v_null from this call on (0: never) */
	long p2v_null_once; /**< answer NULL to this call alone (0: never) */
};

static pgt_paddr_t wrap_alloc(void *ctx, size_t size, unsigned level)
{
	struct wrap *w = ctx;
	pgt_paddr_t pa = w->t->mm.alloc_table(w->t->mm.ctx, size, level);

	if (pa == PGT_PADDR_NONE || ++w->allocs != w->spoil_at)
		return pa;
	w->real_pa = pa;
	w->bad_pa = spoiled(pa, size, w->how);
	return w->bad_pa;
}

static pgt_paddr_t unspoil(const struct wrap *w, pgt_paddr_t pa)
{
	return (w->bad_pa && pa == w->bad_pa) ? w->real_pa : pa;
}

static void wrap_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct wrap *w = ctx;

	w->t->mm.free_table(w->t->mm.ctx, unspoil(w, pa), size, level);
}

static void *wrap_p2v(void *ctx, pgt_paddr_t pa)
{
	struct wrap *w = ctx;

	if (++w->p2v_calls == w->p2v_null_from)
		w->t->p2v_null = true;
	if (w->p2v_calls == w->p2v_null_once)
		return NULL; /* a hook that changes its mind: it answered for this table before */
	return w->t->mm.p2v(w->t->mm.ctx, unspoil(w, pa));
}

/* --- a space under test --- */

struct fx {
	struct cfg c;
	struct test_mm t;
	struct wrap w;
	pgt_space_t sp;
};

/** Opens a space through the wrapper (transparent until told otherwise). @p f must not move. */
static void fx_open(struct fx *f, const struct cfg *c)
{
	f->c = *c;
	test_mm_init(&f->t, c->mode);
	f->w = (struct wrap){ .t = &f->t };
	f->w.mm = (struct pgt_mm){ .alloc_table = wrap_alloc, .free_table = wrap_free,
				   .p2v = c->mode == TEST_MM_HOOK ? wrap_p2v : NULL,
				   .p2v_offset = f->t.mm.p2v_offset, .ctx = &f->w };
	int rc = pgt_space_init(&f->sp, c->a, &f->w.mm, c->flags);
	CHECK_THAT(rc == PGT_OK, "%s: pgt_space_init: %s", c->name, pgt_strerror(rc));
}

/** The tree is sound and the books hold exactly its tables. */
static void fx_check(struct fx *f, const char *when)
{
	struct tree_stats st = tree_check(&f->sp, f->c.a, &f->t);

	CHECK_THAT(st.problems == 0 && st.empty_tables == 0, "%s: %s: tree_check: %zu problems, %zu empty tables",
		      f->c.name, when, st.problems, st.empty_tables);
	CHECK_THAT(st.tables == test_mm_outstanding(&f->t) && f->t.errors == 0,
		      "%s: %s: tree has %zu tables, allocator holds %zu (%ld bad frees)", f->c.name, when, st.tables,
		      test_mm_outstanding(&f->t), f->t.errors);
}

/** Destroys the space: every table freed exactly once, books balanced. */
static void fx_close(struct fx *f)
{
	fx_check(f, "before destroy");
	size_t tables = test_mm_outstanding(&f->t);
	long frees = f->t.frees;

	pgt_space_destroy(&f->sp);
	CHECK_THAT(f->t.frees - frees == (long)tables, "%s: destroy made %ld frees for %zu tables", f->c.name,
		      f->t.frees - frees, tables);
	CHECK_THAT(test_mm_outstanding(&f->t) == 0 && f->t.allocs == f->t.frees && f->t.errors == 0,
		      "%s: after destroy: %zu outstanding, %ld allocs, %ld frees, %ld bad frees", f->c.name,
		      test_mm_outstanding(&f->t), f->t.allocs, f->t.frees, f->t.errors);
	test_mm_fini(&f->t);
}

/** What an operation must leave as it was when it fails. */
struct before {
	pgt_pte_t *snap;
	size_t n, out;
	long attempts, allocs, frees, errors;
};

static void take(struct fx *f, struct before *b)
{
	b->snap = tree_snapshot(&f->sp, f->c.a, &f->t, &b->n);
	b->out = test_mm_outstanding(&f->t);
	b->attempts = f->t.attempts;
	b->allocs = f->t.allocs;
	b->frees = f->t.frees;
	b->errors = f->t.errors;
}

/** All-or-nothing: same tree, every frame allocated for the attempt freed, no bad free. */
static void expect_untouched(struct fx *f, struct before *b, const char *what)
{
	CHECK_THAT(tree_unchanged(&f->sp, f->c.a, &f->t, b->snap, b->n), "%s: the tree changed", what);
	b->snap = NULL;
	CHECK_THAT(test_mm_outstanding(&f->t) == b->out, "%s: %zu tables outstanding, %zu before", what,
		      test_mm_outstanding(&f->t), b->out);
	CHECK_THAT(f->t.allocs - b->allocs == f->t.frees - b->frees, "%s: %ld frames allocated, %ld freed", what,
		      f->t.allocs - b->allocs, f->t.frees - b->frees);
	CHECK_THAT(f->t.errors == b->errors, "%s: %ld bad frees", what, f->t.errors - b->errors);
}

/**
 * Inserts with allocation attempt @p n of this call failing (and every
 * later one with @p after). Checks all-or-nothing for every status but
 * PGT_OK, and a found mapping for PGT_OK. *made: allocation attempts made.
 */
static int insert_injected(struct fx *f, pgt_vaddr_t va, unsigned shift, long n, bool after, long *made)
{
	char what[200];
	struct before b;
	pgt_ref_t ref = { NULL, 0, 0 }, found;

	snprintf(what, sizeof what, "%s: insert va %#" PRIx64 " shift %u with attempt %ld failing%s", f->c.name, va,
		 shift, n, after ? " and after" : " once");
	take(f, &b);
	f->t.fail_at = b.attempts + n;
	f->t.fail_after = after;
	int rc = pgt_insert(&f->sp, va, shift, &ref);
	f->t.fail_at = 0;
	f->t.fail_after = false;
	*made = f->t.attempts - b.attempts;
	g_cnt->ops++;
	if (rc == PGT_OK) {
		free(b.snap);
		CHECK_THAT(f->t.allocs - b.allocs == (long)(test_mm_outstanding(&f->t) - b.out),
			      "%s: %ld frames allocated, %zu kept", what, f->t.allocs - b.allocs,
			      test_mm_outstanding(&f->t) - b.out);
		CHECK_THAT(pgt_lookup(&f->sp, va, &found) == PGT_OK && found.pte == ref.pte &&
				      found.page_shift == shift, "%s: the new mapping is not found", what);
		return rc;
	}
	expect_untouched(f, &b, what);
	if (rc == PGT_ENOMEM) {
		CHECK_THAT(*made >= n, "%s: PGT_ENOMEM after %ld attempts: the failing one was never made", what,
			      *made);
		g_cnt->enomem++;
	}
	return rc;
}

/* ======================================================================
 * Tests
 * ====================================================================== */

/**
 * One page of level @p L where the tables on its path exist down to level
 * @p d (made by a neighbour mapping): the insert needs d - L new tables.
 * Fails each allocation in turn, then lets it succeed. Returns failures injected.
 */
static long depth_case(const struct cfg *c, unsigned L, unsigned d, bool after)
{
	struct fx f;
	pgt_vaddr_t va = path_va(c, L);
	long need = (long)(d - L), made;

	fx_open(&f, c);
	if (d < root_level(c)) {
		pgt_vaddr_t other = va + (1ull << page_shift(c, d));
		ck_assert_int_eq(pgt_insert(&f.sp, other, page_shift(c, 0), NULL), PGT_OK);
	}
	size_t tables = test_mm_outstanding(&f.t);
	for (long n = 1; n <= need + 1; n++) {
		int rc = insert_injected(&f, va, page_shift(c, L), n, after, &made);
		if (n <= need) {
			CHECK_THAT(rc == PGT_ENOMEM, "%s: insert shift %u needing %ld tables, attempt %ld failing: %s",
				      c->name, page_shift(c, L), need, n, pgt_strerror(rc));
			continue;
		}
		CHECK_THAT(rc == PGT_OK, "%s: insert shift %u with %ld allocations allowed: %s", c->name,
			      page_shift(c, L), need, pgt_strerror(rc));
		CHECK_THAT(made == need && test_mm_outstanding(&f.t) == tables + (size_t)need,
			      "%s: insert shift %u below level %u made %ld allocations, needs %ld", c->name,
			      page_shift(c, L), d, made, need);
	}
	fx_check(&f, "after the insert");
	fx_close(&f);
	return need;
}

/* Every page size, every depth of existing tables, every allocation failing in turn. */
START_TEST(test_insert_each_allocation)
{
	struct cfg c = cfg_of(_i);
	long injected = 0;

	for (unsigned L = 0; L <= root_level(&c); L++) {
		if (!c.a->level[L].leaf_ok)
			continue;
		for (unsigned d = L; d <= root_level(&c); d++)
			for (int after = 0; after < 2; after++)
				injected += depth_case(&c, L, d, after != 0);
	}
	printf("check_faults: %s: inserts at every depth: %ld allocation failures checked\n", c.name, injected);
}
END_TEST

/** pgt_space_init that must fail with @p want; checks nothing is kept. */
static void init_fails(const struct cfg *c, struct test_mm *t, int want, const char *how)
{
	pgt_space_t sp;
	long allocs = t->allocs, frees = t->frees;

	memset(&sp, 0, sizeof sp);
	int rc = pgt_space_init(&sp, c->a, &t->mm, c->flags);
	CHECK_THAT(rc == want, "%s: init with %s: %s, expected %s", c->name, how, pgt_strerror(rc),
		      pgt_strerror(want));
	CHECK_THAT(test_mm_outstanding(t) == 0 && t->allocs - allocs == t->frees - frees && t->errors == 0,
		      "%s: init with %s kept %zu frames (%ld bad frees)", c->name, how, test_mm_outstanding(t), t->errors);
	CHECK_THAT(pgt_space_root(&sp) == PGT_PADDR_NONE, "%s: init with %s left a root", c->name, how);
	CHECK_THAT(pgt_insert(&sp, base_va(c), page_shift(c, 0), NULL) == PGT_EINVAL,
		      "%s: init with %s left a usable space", c->name, how);
}

/* Space init: its root allocation fails, or comes back unusable. */
START_TEST(test_init_faults)
{
	struct cfg c = cfg_of(_i);
	struct test_mm t;
	pgt_space_t sp;

	test_mm_init(&t, c.mode);
	for (int after = 0; after < 2; after++) {
		t.fail_at = t.attempts + 1;
		t.fail_after = after != 0;
		init_fails(&c, &t, PGT_ENOMEM, after ? "every allocation failing" : "its allocation failing");
		t.fail_at = 0;
		t.fail_after = false;
		g_cnt->enomem++;
		g_cnt->ops++;
	}
	for (int how = 0; how < SPOIL_COUNT; how++) {
		pgt_paddr_t none = 0;
		t.misalign = spoiled(none, table_bytes(&c, root_level(&c)), (enum spoil)how);
		init_fails(&c, &t, PGT_EHOOK, spoil_name[how]);
		t.misalign = 0;
		g_cnt->bad_frame++;
		g_cnt->ops++;
	}
	if (c.mode == TEST_MM_HOOK) {
		t.p2v_null = true;
		init_fails(&c, &t, PGT_EHOOK, "p2v returning NULL");
		t.p2v_null = false;
		g_cnt->p2v_null++;
		g_cnt->ops++;
	}
	long attempts = t.attempts;
	t.fail_at = t.attempts + 2; /* one allocation is all init needs */
	int rc = pgt_space_init(&sp, c.a, &t.mm, c.flags);
	t.fail_at = 0;
	CHECK_THAT(rc == PGT_OK && t.attempts - attempts == 1, "%s: init: %s after %ld allocations", c.name,
		      pgt_strerror(rc), t.attempts - attempts);
	pgt_space_destroy(&sp);
	CHECK_THAT(test_mm_outstanding(&t) == 0 && t.allocs == t.frees && t.errors == 0,
		      "%s: books after destroy: %ld allocs, %ld frees, %ld bad", c.name, t.allocs, t.frees, t.errors);
	test_mm_fini(&t);
}
END_TEST

/* An unusable frame anywhere in an insert's allocations: PGT_EHOOK, nothing kept. */
START_TEST(test_insert_bad_frame)
{
	struct cfg c = cfg_of(_i);
	pgt_vaddr_t va = path_va(&c, 0);
	long need = (long)root_level(&c);
	char what[200];

	for (int how = 0; how < SPOIL_COUNT; how++) {
		struct fx f;
		struct before b;
		fx_open(&f, &c);
		for (long k = 1; k <= need; k++) {
			snprintf(what, sizeof what, "%s: insert needing %ld tables, frame %ld %s", c.name, need, k,
				 spoil_name[how]);
			take(&f, &b);
			f.w.allocs = 0;
			f.w.spoil_at = k;
			f.w.how = (enum spoil)how;
			int rc = pgt_insert(&f.sp, va, page_shift(&c, 0), NULL);
			f.w.spoil_at = 0;
			CHECK_THAT(rc == PGT_EHOOK, "%s: %s", what, pgt_strerror(rc));
			CHECK_THAT(f.w.allocs >= k, "%s: PGT_EHOOK before the frame was handed out", what);
			expect_untouched(&f, &b, what);
			f.w.bad_pa = 0;
			g_cnt->bad_frame++;
			g_cnt->ops++;
		}
		/* the harness's own misalign spoils every frame */
		snprintf(what, sizeof what, "%s: insert with harness misalign (%s)", c.name, spoil_name[how]);
		take(&f, &b);
		f.t.misalign = spoiled(0, table_bytes(&c, 0), (enum spoil)how);
		int rc = pgt_insert(&f.sp, va, page_shift(&c, 0), NULL);
		f.t.misalign = 0;
		CHECK_THAT(rc == PGT_EHOOK, "%s: %s", what, pgt_strerror(rc));
		expect_untouched(&f, &b, what);
		g_cnt->bad_frame++;
		g_cnt->ops++;
		ck_assert_int_eq(pgt_insert(&f.sp, va, page_shift(&c, 0), NULL), PGT_OK);
		fx_close(&f);
	}
}
END_TEST

/** Operations for the p2v tests: each walks existing tables and/or links new ones. */
enum p2v_op { OP_INSERT, OP_LOOKUP, OP_MAP, OP_UNMAP, OP_PROTECT };

/** One operation of the p2v tests and the status it ends with when p2v always answers. */
struct p2v_call {
	enum p2v_op op;
	pgt_vaddr_t va;
	uint64_t size;      /**< range operations */
	pgt_paddr_t pa;     /**< pgt_map */
	unsigned shift;     /**< pgt_insert */
	unsigned flags;     /**< pgt_map */
	int ok;
};

static const char *const p2v_op_name[] = { "insert", "lookup", "map", "unmap", "protect" };

static int p2v_run(struct fx *f, const struct p2v_call *c)
{
	pgt_ref_t ref;

	switch (c->op) {
	case OP_INSERT: return pgt_insert(&f->sp, c->va, c->shift, &ref);
	case OP_LOOKUP: return pgt_lookup(&f->sp, c->va, &ref);
	case OP_MAP: return pgt_map(&f->sp, c->va, c->pa, c->size, PGT_PROT_READ | PGT_PROT_WRITE, c->flags);
	case OP_UNMAP: return pgt_unmap(&f->sp, c->va, c->size);
	default: return pgt_protect(&f->sp, c->va, c->size, PGT_PROT_READ);
	}
}

/**
 * Runs one operation with p2v answering NULL from its k-th call on (or, with
 * @p once, to its k-th call alone: a hook that answered for a table and then
 * does not), for every k the operation reaches; then lets it succeed with
 * c->ok. Every failure must be PGT_EHOOK with the space and the allocator
 * as before.
 */
static long p2v_case(struct fx *f, const struct p2v_call *c, bool once)
{
	char what[200];
	long k;

	for (k = 1;; k++) {
		struct before b;
		CHECK_THAT(k < 4096, "%s: p2v test does not end", f->c.name);
		take(f, &b);
		f->w.p2v_calls = 0;
		f->w.p2v_null_from = once ? 0 : k;
		f->w.p2v_null_once = once ? k : 0;
		int rc = p2v_run(f, c);
		long calls = f->w.p2v_calls;
		f->w.p2v_null_from = f->w.p2v_null_once = 0;
		f->t.p2v_null = false;
		snprintf(what, sizeof what, "%s: %s va %#" PRIx64 " size %#" PRIx64 " shift %u, p2v NULL %s call %ld of %ld",
			 f->c.name, p2v_op_name[c->op], c->va, c->size, c->shift, once ? "at" : "from", k, calls);
		if (calls < k) {
			free(b.snap);
			CHECK_THAT(rc == c->ok, "%s: %s", what, pgt_strerror(rc));
			return k - 1;
		}
		CHECK_THAT(rc == PGT_EHOOK, "%s: %s", what, pgt_strerror(rc));
		expect_untouched(f, &b, what);
		g_cnt->p2v_null++;
		g_cnt->ops++;
	}
}

/**
 * Runs a range operation with allocation attempt @p n of the call failing:
 * PGT_ENOMEM with the space and the allocator unchanged, or the operation's
 * own status (undone by the caller). *made: allocation attempts made.
 */
static int range_enomem(struct fx *f, const struct p2v_call *c, long n, long *made)
{
	char what[200];
	struct before b;

	take(f, &b);
	f->t.fail_at = b.attempts + n;
	int rc = p2v_run(f, c);
	f->t.fail_at = 0;
	*made = f->t.attempts - b.attempts;
	snprintf(what, sizeof what, "%s: %s va %#" PRIx64 " size %#" PRIx64 ", allocation %ld failing", f->c.name,
		 p2v_op_name[c->op], c->va, c->size, n);
	g_cnt->ops++;
	if (rc != PGT_ENOMEM) {
		free(b.snap);
		CHECK_THAT(rc == c->ok, "%s: %s", what, pgt_strerror(rc));
		return rc;
	}
	expect_untouched(f, &b, what);
	g_cnt->enomem++;
	return rc;
}

/* A p2v hook that starts returning NULL mid-operation: PGT_EHOOK, nothing changed. */
START_TEST(test_p2v_null)
{
	struct cfg c = cfg_of((_i / 2) * NCFG + 2 + (_i & 1)); /* hook mode only */
	unsigned s0 = page_shift(&c, 0), top = root_level(&c);
	pgt_vaddr_t va = path_va(&c, 0);
	struct fx f;
	long injected = 0;

	while (!c.a->level[top].leaf_ok)
		top--;
	pgt_vaddr_t far = path_va(&c, top) + (2ull << page_shift(&c, top)); /* index 3 at the top leaf level */
	pgt_vaddr_t big = va & ~((1ull << page_shift(&c, top)) - 1);
	const struct p2v_call calls[] = {
		{ OP_INSERT, va, 0, 0, s0, 0, PGT_OK },                        /* all tables new */
		{ OP_INSERT, va + (1ull << page_shift(&c, 1)), 0, 0, s0, 0, PGT_OK }, /* some exist */
		{ OP_INSERT, va + (1ull << s0), 0, 0, s0, 0, PGT_OK },         /* all exist */
		{ OP_INSERT, va, 0, 0, s0, 0, PGT_EXISTS },                    /* same page */
		{ OP_INSERT, big, 0, 0, page_shift(&c, top), 0, PGT_ECONFLICT }, /* larger over smaller */
		{ OP_INSERT, far, 0, 0, page_shift(&c, top), 0, PGT_OK },      /* largest page */
		{ OP_LOOKUP, va + 5, 0, 0, 0, 0, PGT_OK },
		{ OP_LOOKUP, far + 5, 0, 0, 0, 0, PGT_OK },
	};
	fx_open(&f, &c);
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
		injected += p2v_case(&f, &calls[i], false);
	CHECK_THAT(injected > 0, "%s: the p2v hook was never called", c.name);
	fx_check(&f, "after the p2v test");
	fx_close(&f);
	printf("check_faults: %s: %ld p2v NULL answers checked\n", c.name, injected);
}
END_TEST

/**
 * The range operations over one page in each of 40 tables from @p a: more
 * than a range operation remembers without asking for room. Every
 * allocation failing in turn, then p2v failing at every call (p2v_case).
 * Returns the p2v failures checked.
 */
static long p2v_over_many_tables(struct fx *f, pgt_vaddr_t a, pgt_paddr_t pa, bool once)
{
	uint64_t p = 1ull << page_shift(&f->c, 0), t = 1ull << page_shift(&f->c, 1);
	unsigned rw = PGT_PROT_READ | PGT_PROT_WRITE, nosuper = PGT_MAP_NOSUPER, replace = PGT_MAP_REPLACE;
	long injected = 0;

	for (unsigned k = 0; k < 40; k++)
		ck_assert_int_eq(pgt_map(&f->sp, a + k * t + p, pa, p, rw, 0), PGT_OK);
	const struct p2v_call many[] = {
		{ OP_PROTECT, a, 40 * t, 0, 0, 0, PGT_OK },
		{ OP_MAP, a + p, 40 * t, pa, 0, nosuper | replace, PGT_OK },
		{ OP_UNMAP, a, 40 * t, 0, 0, 0, PGT_OK },
	};
	for (size_t i = 0; i < sizeof many / sizeof many[0]; i++) {
		long allocs = 0, made;
		for (long n = 1; !allocs; n++) /* the room is allocated: every allocation failing in turn */
			allocs = range_enomem(f, &many[i], n, &made) == PGT_OK ? made : 0;
		CHECK_THAT(allocs > 0, "%s: %s over 40 tables allocated nothing", f->c.name, p2v_op_name[many[i].op]);
		ck_assert_int_eq(pgt_unmap(&f->sp, a, 41 * t), PGT_OK);
		for (unsigned k = 0; k < 40; k++)
			ck_assert_int_eq(pgt_map(&f->sp, a + k * t + p, pa, p, rw, 0), PGT_OK);
		long got = p2v_case(f, &many[i], once);
		CHECK_THAT(got > 40, "%s: %s over 40 tables: %ld p2v calls", f->c.name, p2v_op_name[many[i].op], got);
		injected += got;
		fx_check(f, "after a range operation over 40 tables");
	}
	return injected;
}

/**
 * The range operations under a p2v hook that fails at its k-th call, for
 * every k, either from then on or at that call alone (the hook answered in
 * one pass and not in the next): pgt_map into missing tables and existing
 * ones, replacing small pages, a whole table and part of a superpage;
 * pgt_unmap and pgt_protect cutting superpages and crossing tables, and
 * emptying tables. PGT_EHOOK with the space and the allocator unchanged,
 * then the operation succeeds once the hook answers.
 */
START_TEST(test_p2v_null_range)
{
	struct cfg c = cfg_of((_i / 4) * NCFG + 2 + (_i & 1)); /* hook mode only */
	bool once = (_i & 2) != 0;
	uint64_t p = 1ull << page_shift(&c, 0), t = 1ull << page_shift(&c, 1); /* a page, a level-0 table's span */
	pgt_vaddr_t a = path_va(&c, 1);
	pgt_paddr_t pa = 16 * t;
	unsigned rw = PGT_PROT_READ | PGT_PROT_WRITE, nosuper = PGT_MAP_NOSUPER, replace = PGT_MAP_REPLACE;
	struct fx f;
	long injected = 0;

	ck_assert(c.a->level[1].leaf_ok); /* every shipped format has superpages one level up */
	fx_open(&f, &c);
	/* three tables of small pages from a, superpages at a + 4t, 5t and 6t */
	ck_assert_int_eq(pgt_map(&f.sp, a, pa, 3 * t, rw, nosuper), PGT_OK);
	ck_assert_int_eq(pgt_map(&f.sp, a + 4 * t, pa + 4 * t, 3 * t, rw, 0), PGT_OK);
	const struct p2v_call calls[] = {
		{ OP_MAP, a + t - 2 * p, 4 * p, pa, 0, nosuper | replace, PGT_OK },   /* across two tables */
		{ OP_MAP, a + 2 * t, t, pa + 8 * t, 0, replace, PGT_OK },            /* a superpage over a table */
		{ OP_MAP, a + 4 * t + 2 * p, 2 * p, pa, 0, nosuper | replace, PGT_OK }, /* into a superpage */
		{ OP_UNMAP, a + 5 * t + p, p, 0, 0, 0, PGT_OK },                     /* cuts a superpage */
		{ OP_PROTECT, a + 6 * t - p, 2 * p, 0, 0, 0, PGT_OK },              /* a table and a superpage */
		{ OP_PROTECT, a, 3 * t, 0, 0, 0, PGT_OK },                           /* tables and a superpage */
		{ OP_UNMAP, a + t - p, t + 2 * p, 0, 0, 0, PGT_OK },                 /* across and around a superpage */
		{ OP_MAP, a + 8 * t - 2 * p, 4 * p, pa, 0, nosuper, PGT_OK },         /* two missing tables */
		{ OP_MAP, a + 8 * t + p, p, pa, 0, 0, PGT_ECONFLICT },
		{ OP_UNMAP, a, 9 * t, 0, 0, 0, PGT_OK },                             /* everything: tables emptied */
	};
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
		injected += p2v_case(&f, &calls[i], once);
		fx_check(&f, "after a range operation under p2v failures");
	}
	/*
	 * Memcheck and the other slow runners (test_slow_runner) fail p2v from a call on only
	 * here: with a snapshot of the space for every k, both kinds took two minutes of its time.
	 */
	if (!once || !test_slow_runner())
		injected += p2v_over_many_tables(&f, a, pa, once);
	CHECK_THAT(injected > 0, "%s: the p2v hook was never called", c.name);
	fx_close(&f);
	printf("check_faults: %s: range operations: %ld p2v NULL answers checked (%s)\n", c.name, injected,
	       once ? "one call each" : "from a call on");
}
END_TEST

/**
 * An address for a page of @p level: small indices near the bottom of the
 * space, so inserts conflict often; or, one time in @p wild_in, random
 * indices at every level, so inserts need new tables.
 */
static pgt_vaddr_t scenario_va(const struct cfg *c, uint64_t *rng, unsigned level, unsigned wild_in)
{
	pgt_vaddr_t va = base_va(c);
	bool wild = test_rand(rng) % wild_in == 0;

	for (unsigned l = root_level(c) + 1; l-- > level;) {
		/* x86-64 keeps to the lower half: the root's top index bit would be non-canonical */
		unsigned bits = c->a->level[l].bits - (l == root_level(c) && c->a->canon == PGT_CANON_SIGN_EXTEND);
		uint64_t idx = wild ? test_rand(rng) & ((1ull << bits) - 1) : test_rand(rng) % 4;
		va += idx << page_shift(c, l);
	}
	return va;
}

static unsigned random_leaf_level(const struct cfg *c, uint64_t *rng)
{
	for (;;) {
		unsigned l = (unsigned)(test_rand(rng) % c->a->levels);
		if (c->a->level[l].leaf_ok)
			return l;
	}
}

/*
 * Failures in the middle of a longer scenario: a populated space, then every allocation failing in turn.
 * Memcheck and the other slow runners (test_slow_runner) take the first 8 of the 32 inserts: the
 * whole scenario was two minutes of memcheck's time, and the native run checks it all.
 */
START_TEST(test_insert_midway)
{
	struct cfg c = cfg_of(_i);
	uint64_t seed = 0xfa170000ull + (uint64_t)_i, rng = seed;
	struct fx f;
	long injected = 0, made;
	int inserts = test_slow_runner() ? 8 : 32;

	fx_open(&f, &c);
	for (int k = 0; k < 100; k++) {
		unsigned l = random_leaf_level(&c, &rng);
		int rc = pgt_insert(&f.sp, scenario_va(&c, &rng, l, 8), page_shift(&c, l), NULL);
		CHECK_THAT(rc == PGT_OK || rc == PGT_EXISTS || rc == PGT_ECONFLICT, "%s seed %#" PRIx64
			      " populate %d: %s", c.name, seed, k, pgt_strerror(rc));
	}
	fx_check(&f, "after populating");
	for (int k = 0; k < inserts; k++) {
		unsigned l = random_leaf_level(&c, &rng);
		pgt_vaddr_t va = scenario_va(&c, &rng, l, 2);
		int rc;
		long n;
		for (n = 1;; n++) {
			CHECK_THAT(n <= (long)c.a->levels + 1, "%s seed %#" PRIx64 " insert %d: still failing after %ld"
				      " allocations", c.name, seed, k, n);
			rc = insert_injected(&f, va, page_shift(&c, l), n, k & 1, &made);
			if (rc != PGT_ENOMEM)
				break;
			injected++;
		}
		CHECK_THAT(rc == PGT_OK || rc == PGT_EXISTS || rc == PGT_ECONFLICT, "%s seed %#" PRIx64 " insert %d"
			      " va %#" PRIx64 ": %s", c.name, seed, k, va, pgt_strerror(rc));
		CHECK_THAT(made == n - 1, "%s seed %#" PRIx64 " insert %d va %#" PRIx64 ": made %ld allocations, "
			      "but %ld were not enough", c.name, seed, k, va, made, n - 1);
		fx_check(&f, "after an insert under injection");
	}
	fx_close(&f);
	printf("check_faults: %s: midway: %ld allocation failures checked\n", c.name, injected);
}
END_TEST

/**
 * A range operation over more tables than one chunk of the room the passes
 * ask for holds (one page in each of them): the tables are found again in
 * order across chunks. Then the same with p2v failing at its last call.
 */
START_TEST(test_p2v_many_tables)
{
	struct cfg c = cfg_of((_i / 2) * NCFG + 2 + (_i & 1)); /* hook mode only */
	uint64_t p = 1ull << page_shift(&c, 0), t = 1ull << page_shift(&c, 1);
	pgt_vaddr_t a = path_va(&c, 2) & ~((1ull << page_shift(&c, 2)) - 1);
	unsigned n = c.a->level[0].table_size / 8 + 64, rw = PGT_PROT_READ | PGT_PROT_WRITE; /* more than a chunk */
	struct fx f;

	if (n > 2048 || (uint64_t)n * t > (1ull << page_shift(&c, 2)) * c.a->level[2].bits)
		return; /* 16K and 64K tables: a chunk holds 2k-8k tables, too many for a unit test */
	fx_open(&f, &c);
	for (unsigned k = 0; k < n; k++)
		ck_assert_int_eq(pgt_map(&f.sp, a + k * t + (k % 8) * p, k * p, p, rw, 0), PGT_OK);
	const struct p2v_call ops[] = {
		{ OP_PROTECT, a, n * t, 0, 0, 0, PGT_OK },
		{ OP_UNMAP, a, n * t, 0, 0, 0, PGT_OK },
	};
	for (size_t i = 0; i < 2; i++) {
		struct before b;
		take(&f, &b);
		f.w.p2v_calls = 0;
		f.w.p2v_null_once = 1000000;
		int rc = p2v_run(&f, &ops[i]);
		long calls = f.w.p2v_calls;
		CHECK_THAT(rc == PGT_OK && calls > (long)n, "%s: %s over %u tables: %s, %ld p2v calls", c.name,
			      p2v_op_name[ops[i].op], n, pgt_strerror(rc), calls);
		free(b.snap);
		for (unsigned k = 0; k < n && i == 0; k++) {
			pgt_ref_t ref;
			uint64_t prot, pa;
			ck_assert_int_eq(pgt_lookup(&f.sp, a + k * t + (k % 8) * p, &ref), PGT_OK);
			ck_assert_int_eq(pgt_get_field(&f.sp, ref, PGT_FIELD_PROT, &prot), PGT_OK);
			ck_assert_int_eq(pgt_get_field(&f.sp, ref, PGT_FIELD_PADDR, &pa), PGT_OK);
			CHECK_THAT(prot == PGT_PROT_READ && pa == k * p, "%s: page %u: prot %#" PRIx64 " pa %#" PRIx64,
				      c.name, k, prot, pa);
		}
		fx_check(&f, "after a range operation over many tables");
		if (i == 1)
			break;
		/* again, the hook failing at its last call: the space must stay as it is */
		ck_assert_int_eq(pgt_protect(&f.sp, a, n * t, rw), PGT_OK);
		take(&f, &b);
		f.w.p2v_calls = 0;
		f.w.p2v_null_once = calls;
		rc = p2v_run(&f, &ops[i]);
		f.w.p2v_null_once = 0;
		CHECK_THAT(rc == PGT_EHOOK, "%s: p2v NULL at call %ld: %s", c.name, calls, pgt_strerror(rc));
		expect_untouched(&f, &b, "p2v NULL at the last call over many tables");
		ck_assert_int_eq(pgt_protect(&f.sp, a, n * t, PGT_PROT_READ), PGT_OK);
	}
	fx_close(&f);
}
END_TEST

static Suite *faults_suite(void)
{
	Suite *su = suite_create("faults");
	TCase *tc = tcase_create("enomem");
	int ncfg = (int)test_narchs * NCFG;

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_insert_each_allocation, 0, ncfg);
	tcase_add_loop_test(tc, test_init_faults, 0, ncfg);
	tcase_add_loop_test(tc, test_insert_midway, 0, ncfg);
	suite_add_tcase(su, tc);

	tc = tcase_create("bad_hooks");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_insert_bad_frame, 0, ncfg);
	tcase_add_loop_test(tc, test_p2v_null, 0, (int)test_narchs * 2);
	tcase_add_loop_test(tc, test_p2v_null_range, 0, (int)test_narchs * 4);
	tcase_add_loop_test(tc, test_p2v_many_tables, 0, (int)test_narchs * 2);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	void *shared = mmap(NULL, sizeof *g_cnt, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared != MAP_FAILED)
		g_cnt = shared;

	int failed = test_run_suite(faults_suite());
	printf("check_faults: %lu injected failures checked (%lu allocation failures, %lu unusable frames, "
	       "%lu p2v NULL answers) in %lu operations\n",
	       g_cnt->enomem + g_cnt->bad_frame + g_cnt->p2v_null, g_cnt->enomem, g_cnt->bad_frame, g_cnt->p2v_null,
	       g_cnt->ops);
	if (shared != MAP_FAILED)
		munmap(shared, sizeof *g_cnt);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
