/* SPDX-License-Identifier: MIT */
/*
 * check_walk: pgt_walk, pgt_walk_all, pgt_dump and pgt_dump_all.
 *
 * Trees come from random pgt_insert + pgt_set_field sequences, kept in a
 * model (a plain array of the mappings made). A walk of [va, va + size)
 * must report exactly the model's mappings overlapping it, and
 * pgt_walk_all every mapping, in ascending address order,
 * with their va, pa, size, prot and level; a visitor's non-zero return
 * stops it; empty entries are not looked below (counted through the p2v
 * hook). pgt_dump lines are compared with lines written out by hand in the
 * layout of QEMU's x86 `info mem` ("start-end size" in 16 hex digits, then
 * the rights letters u/r/w, here followed by x). A bad range is refused by
 * both with the status pgt_unmap gives it, and nothing is visited or printed.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

#include "harness.h"

enum { R = PGT_PROT_READ, W = PGT_PROT_WRITE, X = PGT_PROT_EXEC, U = PGT_PROT_USER, G = PGT_PROT_GLOBAL };

struct ctx {
	struct test_mm t;
	pgt_space_t sp;
	const struct pgt_arch *a;
	unsigned flags;
	char who[64];
	struct pgt_mapping model[512];
	size_t n;
};

static void ctx_open(struct ctx *c, const struct pgt_arch *a, unsigned flags, enum test_mm_mode mode)
{
	memset(c, 0, sizeof *c);
	test_mm_init(&c->t, mode);
	c->a = a;
	c->flags = flags;
	snprintf(c->who, sizeof c->who, "%s%s", a->name, (flags & PGT_SPACE_UPPER) ? " upper" : "");
	ck_assert_int_eq(pgt_space_init(&c->sp, a, &c->t.mm, flags), PGT_OK);
}

static void ctx_close(struct ctx *c)
{
	pgt_space_destroy(&c->sp);
	ck_assert_msg(test_mm_outstanding(&c->t) == 0 && c->t.errors == 0, "%s: tables leaked or bad frees",
		      c->who);
	test_mm_fini(&c->t);
}

struct variant {
	const struct pgt_arch *a;
	unsigned flags;
};

/** Room for every descriptor's variants: its lower range, and its upper one if it has one. */
#define MAX_VARIANTS 32

static unsigned variants(struct variant out[MAX_VARIANTS])
{
	unsigned n = 0;

	for (size_t i = 0; i < test_narchs; i++) {
		if (n + 2u > MAX_VARIANTS) { /* also called outside a test: no ck_assert */
			fprintf(stderr, "check_walk: more than %d variants\n", MAX_VARIANTS);
			abort();
		}
		out[n++] = (struct variant){ test_archs[i], 0 };
		if (test_has_upper(test_archs[i]))
			out[n++] = (struct variant){ test_archs[i], PGT_SPACE_UPPER };
	}
	return n;
}

static uint64_t size_at(const struct pgt_arch *a, unsigned level)
{
	return 1ull << a->level[level].shift;
}

/* Maps a page (prot 0: a reserved leaf) and records it in the model, as the format keeps it. */
static int map_page(struct ctx *c, pgt_vaddr_t va, unsigned level, pgt_paddr_t pa, unsigned prot)
{
	pgt_ref_t ref;
	int rc = pgt_insert(&c->sp, va, c->a->level[level].shift, &ref);

	if (rc != PGT_OK)
		return rc;
	ck_assert_int_eq(pgt_set_field(&c->sp, ref, PGT_FIELD_PADDR, pa), PGT_OK);
	ck_assert_int_eq(pgt_set_field(&c->sp, ref, PGT_FIELD_PROT, prot), PGT_OK);
	ck_assert_uint_lt(c->n, sizeof c->model / sizeof c->model[0]);
	c->model[c->n++] = (struct pgt_mapping){
		.va = va, .pa = pa, .size = size_at(c->a, level),
		.prot = prot & ~test_prot_dropped(c->a), /* ARMv8 stage 2 keeps no USER or GLOBAL */
		.level = level
	};
	return PGT_OK;
}

static int by_va(const void *x, const void *y)
{
	const struct pgt_mapping *p = x, *q = y;
	return p->va < q->va ? -1 : p->va > q->va;
}

/* Rights the descriptors can all express, reserved (no right) included. */
static const unsigned prots[] = {
	0, R, R | W, R | X, R | W | X, U, R | U, R | W | U, R | X | U | G, R | W | G
};

/* The largest leaf level below or at the root. */
static unsigned top_leaf(const struct pgt_arch *a)
{
	unsigned l = a->levels - 1u;

	while (!a->level[l].leaf_ok)
		l--;
	return l;
}

/* Random pages in two windows: at the bottom and at the top of the space. */
static void random_tree(struct ctx *c, uint64_t *seed, int count)
{
	uint64_t span = 8 * size_at(c->a, top_leaf(c->a));
	pgt_vaddr_t base[2] = { test_va_bottom(c->a, c->flags), test_va_top(c->a, c->flags) - span + 1 };

	for (int k = 0; k < count; k++) {
		unsigned level;
		do
			level = (unsigned)(test_rand(seed) % c->a->levels);
		while (!c->a->level[level].leaf_ok);
		/* Small pages mostly, so that tables fill up. */
		if (test_rand(seed) % 4)
			level = 0;
		uint64_t size = size_at(c->a, level);
		pgt_vaddr_t va = base[k & 1] + ((test_rand(seed) % span) & ~(size - 1));
		pgt_paddr_t pa = (test_rand(seed) & 0x0000fffffffff000ull) & ~(size - 1);
		unsigned prot = prots[test_rand(seed) % (sizeof prots / sizeof prots[0])];
		int rc = map_page(c, va, level, pa, prot);
		ck_assert_msg(rc == PGT_OK || rc == PGT_EXISTS || rc == PGT_ECONFLICT, "%s: insert: %d",
			      c->who, rc);
	}
	qsort(c->model, c->n, sizeof c->model[0], by_va);
}

/* ------------------------------------------------------------------------ */
/* Parts of a space                                                          */

/*
 * The first and last address of the part of the space that holds @p va:
 * its half where addresses are sign-extended (x86-64, RISC-V: one range
 * call cannot cross the hole), the whole range otherwise.
 */
static pgt_vaddr_t part_bottom(const struct ctx *c, pgt_vaddr_t va)
{
	if (c->a->canon == PGT_CANON_SIGN_EXTEND)
		return (va >> 63) ? ~0ull << (c->a->va_bits - 1) : 0;
	return test_va_bottom(c->a, c->flags);
}

static pgt_vaddr_t part_top(const struct ctx *c, pgt_vaddr_t va)
{
	if (c->a->canon == PGT_CANON_SIGN_EXTEND)
		return (va >> 63) ? ~0ull : (1ull << (c->a->va_bits - 1)) - 1;
	return test_va_top(c->a, c->flags);
}

/* The size of [va, last]: 2^64 - va when last is the top of the 64-bit space. */
static uint64_t upto(pgt_vaddr_t va, pgt_vaddr_t last)
{
	return last - va + 1;
}

/* The parts of the space in address order (two where sign-extended), as [bottom, top] pairs. */
static unsigned parts(const struct ctx *c, pgt_vaddr_t bottom[2], pgt_vaddr_t top[2])
{
	bottom[0] = test_va_bottom(c->a, c->flags);
	top[0] = part_top(c, bottom[0]);
	if (c->a->canon != PGT_CANON_SIGN_EXTEND)
		return 1;
	top[1] = test_va_top(c->a, c->flags);
	bottom[1] = part_bottom(c, top[1]);
	return 2;
}

/* ------------------------------------------------------------------------ */
/* Collecting a walk and a dump                                              */

struct seen {
	struct pgt_mapping m[512];
	size_t n;
	size_t stop_after; /* 0: never stop */
	int stop_value;
};

static int collect(void *arg, const struct pgt_mapping *m)
{
	struct seen *s = arg;

	ck_assert_uint_lt(s->n, sizeof s->m / sizeof s->m[0]);
	s->m[s->n++] = *m;
	return s->stop_after && s->n == s->stop_after ? s->stop_value : 0;
}

#define MAX_LINES 512

struct lines {
	char text[MAX_LINES][80];
	size_t n;
};

static void keep_line(void *arg, const char *line)
{
	struct lines *l = arg;

	ck_assert_uint_lt(l->n, MAX_LINES);
	ck_assert_uint_lt(strlen(line), sizeof l->text[0]);
	strcpy(l->text[l->n++], line);
}

/* Whether @p m overlaps [va, va + size) (size > 0; va + size may be 2^64). */
static bool overlaps(const struct pgt_mapping *m, pgt_vaddr_t va, uint64_t size)
{
	pgt_vaddr_t last = m->va + (m->size - 1);

	return last >= va && m->va <= va + (size - 1);
}

static void same_mapping(const struct ctx *c, const struct pgt_mapping *got, const struct pgt_mapping *want,
			 size_t i)
{
	ck_assert_msg(
		got->va == want->va && got->pa == want->pa && got->size == want->size &&
			got->prot == want->prot && got->level == want->level,
		"%s: mapping %zu: va %#llx pa %#llx size %#llx prot %#x level %u, expected va %#llx pa %#llx "
		"size %#llx prot %#x level %u",
		c->who, i, (unsigned long long)got->va, (unsigned long long)got->pa,
		(unsigned long long)got->size, got->prot, got->level, (unsigned long long)want->va,
		(unsigned long long)want->pa, (unsigned long long)want->size, want->prot, want->level);
}

/* What a walk collected against the model's mappings in [va, va + size) (size 0: all of them). */
static void expect_model(const struct ctx *c, const struct seen *s, pgt_vaddr_t va, uint64_t size)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (size && !overlaps(&c->model[i], va, size))
			continue;
		ck_assert_msg(k < s->n, "%s: [%#llx, +%#llx): walk ended after %zu mappings", c->who,
			      (unsigned long long)va, (unsigned long long)size, s->n);
		same_mapping(c, &s->m[k], &c->model[i], k);
		k++;
	}
	ck_assert_msg(k == s->n, "%s: [%#llx, +%#llx): %zu mappings walked, %zu expected", c->who,
		      (unsigned long long)va, (unsigned long long)size, s->n, k);
}

/* A walk of [va, va + size) against the model. */
static void expect_walk(const struct ctx *c, pgt_vaddr_t va, uint64_t size)
{
	static struct seen s;

	memset(&s, 0, sizeof s);
	ck_assert_int_eq(pgt_walk(&c->sp, va, size, collect, &s), PGT_OK);
	expect_model(c, &s, va, size);
}

/* pgt_walk_all against the whole model. */
static void expect_walk_all(const struct ctx *c)
{
	static struct seen s;

	memset(&s, 0, sizeof s);
	ck_assert_int_eq(pgt_walk_all(&c->sp, collect, &s), PGT_OK);
	expect_model(c, &s, 0, 0);
}

/* [va, va + size) is refused with @p want by pgt_walk and pgt_dump, which visit and print nothing. */
static void expect_refused(const struct ctx *c, pgt_vaddr_t va, uint64_t size, int want)
{
	static struct seen s;
	static struct lines got;

	memset(&s, 0, sizeof s);
	memset(&got, 0, sizeof got);
	ck_assert_msg(pgt_walk(&c->sp, va, size, collect, &s) == want, "%s: walk [%#llx, +%#llx): not %s",
		      c->who, (unsigned long long)va, (unsigned long long)size, pgt_errname(want));
	ck_assert_msg(pgt_dump(&c->sp, va, size, keep_line, &got) == want, "%s: dump [%#llx, +%#llx): not %s",
		      c->who, (unsigned long long)va, (unsigned long long)size, pgt_errname(want));
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(got.n, 0);
}

/* ------------------------------------------------------------------------ */
/* Walk                                                                      */

/* A window from inside mapping p to inside mapping q: walked, or refused when it crosses the hole. */
static void random_window(const struct ctx *c, uint64_t *seed)
{
	const struct pgt_mapping *p = &c->model[test_rand(seed) % c->n];
	const struct pgt_mapping *q = &c->model[test_rand(seed) % c->n];

	if (p->va > q->va) {
		const struct pgt_mapping *t = p;
		p = q;
		q = t;
	}
	pgt_vaddr_t va = p->va + (test_rand(seed) % p->size);
	pgt_vaddr_t last = q->va + (test_rand(seed) % q->size);
	if (last < va || upto(va, last) == 0) /* reversed, or all 2^64 bytes */
		return;
	if (part_bottom(c, va) == part_bottom(c, last))
		expect_walk(c, va, upto(va, last));
	else
		expect_refused(c, va, upto(va, last), PGT_ERANGE);
}

START_TEST(test_walk_random_trees)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);
	uint64_t seed = 0xa11 + (uint64_t)_i;

	ck_assert_uint_lt((unsigned)_i, n);
	static struct ctx c;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_HOOK);
	expect_walk_all(&c);
	random_tree(&c, &seed, 300);
	ck_assert_uint_gt(c.n, 50);
	expect_walk_all(&c);
	/* Bounds: around every mapping's edges, to the ends of its part, and random windows. */
	for (size_t i = 0; i < c.n; i += 7) {
		const struct pgt_mapping *m = &c.model[i];
		pgt_vaddr_t last = m->va + m->size - 1;
		expect_walk(&c, m->va, m->size);
		expect_walk(&c, last, upto(last, part_top(&c, m->va)));
		if (m->va != part_bottom(&c, m->va))
			expect_walk(&c, part_bottom(&c, m->va), m->va - part_bottom(&c, m->va));
	}
	for (int k = 0; k < 100; k++)
		random_window(&c, &seed);
	ctx_close(&c);
}
END_TEST

START_TEST(test_walk_stop)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);
	uint64_t seed = 0x5709 + (uint64_t)_i;

	ck_assert_uint_lt((unsigned)_i, n);
	static struct ctx c;
	static struct seen s;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_OFFSET);
	random_tree(&c, &seed, 60);
	for (size_t k = 1; k <= c.n; k += 5) {
		memset(&s, 0, sizeof s);
		s.stop_after = k;
		s.stop_value = (int)k * 3 - 100; /* negative and positive values both stop it */
		ck_assert_int_eq(pgt_walk_all(&c.sp, collect, &s), s.stop_value);
		ck_assert_uint_eq(s.n, k);
		same_mapping(&c, &s.m[k - 1], &c.model[k - 1], k - 1);
		/* pgt_walk stops alike */
		const struct pgt_mapping *first = &c.model[0];
		memset(&s, 0, sizeof s);
		s.stop_after = 1;
		s.stop_value = (int)k;
		pgt_vaddr_t from = first->va;
		ck_assert_int_eq(pgt_walk(&c.sp, from, upto(from, part_top(&c, from)), collect, &s), (int)k);
		ck_assert_uint_eq(s.n, 1);
	}
	ctx_close(&c);
}
END_TEST

/*
 * x86-64 and RISC-V: pgt_walk_all gives both halves, in ascending order,
 * the upper half's pages sign-extended; pgt_walk takes one half at a time
 * and refuses a range that crosses the hole.
 */
START_TEST(test_walk_sign_extended_halves)
{
	const struct pgt_arch *a = test_archs[_i];
	static struct ctx c;
	pgt_vaddr_t upper = ~0ull << (a->va_bits - 1), half = 1ull << (a->va_bits - 1);

	if (a->canon != PGT_CANON_SIGN_EXTEND)
		return; /* ARMv8: one half per space, the variants above */

	ctx_open(&c, a, 0, TEST_MM_OFFSET);
	map_page(&c, upper, 0, 0x1000, R);
	map_page(&c, ~0ull - 0x1fffff, 1, 0x200000, R | W);
	map_page(&c, half - 0x1000, 0, 0x3000, R); /* last page of the lower half */
	map_page(&c, 0, 0, 0x4000, R | X);
	qsort(c.model, c.n, sizeof c.model[0], by_va);
	ck_assert_uint_eq(c.model[3].va, ~0ull - 0x1fffff);
	expect_walk_all(&c);
	expect_walk(&c, 0, half);          /* the lower half, to its last byte */
	expect_walk(&c, upper, 0 - upper); /* the upper half, to 2^64 */
	expect_walk(&c, upper + 0x1000, 0 - (upper + 0x1000));
	expect_walk(&c, ~0ull - 0xfff, 0x1000); /* the last page: the 2M page over it, whole */
	expect_refused(&c, 0x1000, upper + 1 - 0x1000, PGT_ERANGE);         /* both ends canonical */
	expect_refused(&c, half - 0x1000, 0x2000, PGT_ERANGE);              /* into the hole */
	expect_refused(&c, half - 0x1000, 0 - (half - 0x1000), PGT_ERANGE); /* to 2^64, across */
	ctx_close(&c);
}
END_TEST

/* Empty entries are skipped without reading below them: p2v calls = tables on the path. */
START_TEST(test_walk_skips_empty)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);

	ck_assert_uint_lt((unsigned)_i, n);
	static struct ctx c;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_HOOK);
	pgt_vaddr_t va = test_va_top(c.a, c.flags) - size_at(c.a, 0) + 1;
	map_page(&c, va, 0, 0x10000, R);
	long before = c.t.p2v_calls;
	expect_walk_all(&c);
	ck_assert_int_eq(c.t.p2v_calls - before, c.a->levels - 1);
	/* A range with no table below the root reads no table at all. */
	before = c.t.p2v_calls;
	expect_walk(&c, test_va_bottom(c.a, c.flags), size_at(c.a, c.a->levels - 1u));
	ck_assert_int_eq(c.t.p2v_calls - before, 0);
	ctx_close(&c);
}
END_TEST

/* A range ending at the top of its part (2^64 where that is the top of the 64-bit space) is walked. */
START_TEST(test_walk_to_the_top)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);

	ck_assert_uint_lt((unsigned)_i, n);
	static struct ctx c;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_OFFSET);
	pgt_vaddr_t top = test_va_top(c.a, c.flags), page = size_at(c.a, 0);
	pgt_vaddr_t bottom = part_bottom(&c, top);
	map_page(&c, bottom, 0, 0x10000, R);
	map_page(&c, top - page + 1, 0, 0x20000, R | W);
	expect_walk(&c, top - page + 1, page);
	expect_walk(&c, top, 1);
	expect_walk(&c, bottom, upto(bottom, top));
	static struct lines got;
	char want[128];
	memset(&got, 0, sizeof got);
	ck_assert_int_eq(pgt_dump(&c.sp, top - page + 1, page, keep_line, &got), PGT_OK);
	ck_assert_uint_eq(got.n, 1);
	snprintf(want, sizeof want, "%016llx-%016llx %016llx", (unsigned long long)(top - page + 1),
		 (unsigned long long)(top + 1), (unsigned long long)page); /* end 0 at 2^64 */
	ck_assert_msg(strncmp(got.text[0], want, strlen(want)) == 0, "%s: \"%s\", expected \"%s...\"", c.who,
		      got.text[0], want);
	ctx_close(&c);
}
END_TEST

/* The smallest leaf level above 0 a format has, or 0 when it has none. */
static unsigned first_superpage(const struct pgt_arch *a)
{
	for (unsigned l = 1; l < a->levels; l++)
		if (a->level[l].leaf_ok)
			return l;
	return 0;
}

/* A mapping that begins below va (or ends past va + size) is reported whole; dump clips it. */
START_TEST(test_walk_straddling)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);

	ck_assert_uint_lt((unsigned)_i, n);
	static struct ctx c;
	static struct seen s;
	static struct lines got;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_OFFSET);
	unsigned level = first_superpage(c.a);
	ck_assert_msg(level > 0, "%s: no superpage", c.who);
	uint64_t page = size_at(c.a, 0), big = size_at(c.a, level);
	pgt_vaddr_t va = test_va_bottom(c.a, c.flags) + big;
	map_page(&c, va, level, big, R);
	expect_walk(&c, va + page, page);
	expect_walk(&c, va + big - 1, 1); /* its last byte */
	expect_walk(&c, va - 1, 2);       /* a byte on either side of its start */
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(pgt_walk(&c.sp, va + page, page, collect, &s), PGT_OK);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.m[0].va, va);
	ck_assert_uint_eq(s.m[0].size, big);
	memset(&got, 0, sizeof got);
	ck_assert_int_eq(pgt_dump(&c.sp, va + page, page, keep_line, &got), PGT_OK);
	ck_assert_uint_eq(got.n, 1);
	char want[64];
	snprintf(want, sizeof want, "%016llx-%016llx %016llx", (unsigned long long)(va + page),
		 (unsigned long long)(va + 2 * page), (unsigned long long)page);
	ck_assert_msg(strncmp(got.text[0], want, strlen(want)) == 0, "%s: \"%s\", expected \"%s...\"", c.who,
		      got.text[0], want);
	ctx_close(&c);
}
END_TEST

START_TEST(test_walk_bad_input)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);

	ck_assert_uint_lt((unsigned)_i, n);
	static struct ctx c;
	static struct seen s;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_HOOK);
	pgt_vaddr_t lo = test_va_bottom(c.a, c.flags), top = test_va_top(c.a, c.flags);
	uint64_t page = size_at(c.a, 0);
	map_page(&c, lo, 0, page, R);

	memset(&s, 0, sizeof s);
	ck_assert_int_eq(pgt_walk(NULL, lo, page, collect, &s), PGT_EINVAL);
	ck_assert_int_eq(pgt_walk(&c.sp, lo, page, NULL, &s), PGT_EINVAL);
	ck_assert_int_eq(pgt_walk_all(NULL, collect, &s), PGT_EINVAL);
	ck_assert_int_eq(pgt_walk_all(&c.sp, NULL, &s), PGT_EINVAL);
	pgt_space_t blank = { 0 };
	ck_assert_int_eq(pgt_walk(&blank, lo, page, collect, &s), PGT_EINVAL);
	ck_assert_int_eq(pgt_walk_all(&blank, collect, &s), PGT_EINVAL);
	ck_assert_uint_eq(s.n, 0);
	/* The statuses pgt_unmap gives the same ranges (lib/internal.h, pgt__range_check). */
	expect_refused(&c, lo, 0, PGT_ESIZE);
	expect_refused(&c, 0, 0, PGT_ESIZE); /* [0, 0) is empty, not everything */
	expect_refused(&c, lo + page, ~0ull, PGT_EWRAP);
	expect_refused(&c, top - page + 1, 2 * page, top == ~0ull ? PGT_EWRAP : PGT_ERANGE);
	if (c.a->canon == PGT_CANON_SPLIT) /* below the space (at the top of 2^64 for a lower one) */
		expect_refused(&c, lo - page, page, PGT_ERANGE);
	if (lo != 0) /* from below an upper space into it */
		expect_refused(&c, lo - page, 2 * page, PGT_ERANGE);
	if (top != ~0ull) /* a byte above it */
		expect_refused(&c, lo, top + 2 - lo, PGT_ERANGE);
	if (c.a->canon == PGT_CANON_SIGN_EXTEND) { /* the non-canonical hole */
		pgt_vaddr_t hole = 1ull << (c.a->va_bits - 1);
		expect_refused(&c, hole, page, PGT_ERANGE);
		expect_refused(&c, lo, hole + 1 - lo, PGT_ERANGE);
	}
	c.t.p2v_null = true;
	ck_assert_int_eq(pgt_walk(&c.sp, lo, page, collect, &s), PGT_EHOOK);
	ck_assert_int_eq(pgt_walk_all(&c.sp, collect, &s), PGT_EHOOK);
	c.t.p2v_null = false;
	ck_assert_uint_eq(s.n, 0);
	ctx_close(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Dump                                                                      */

static void expect_lines(const struct ctx *c, const struct lines *got, const char *const want[], size_t n)
{
	for (size_t i = 0; i < n && i < got->n; i++)
		ck_assert_msg(strcmp(got->text[i], want[i]) == 0, "%s: line %zu: \"%s\", expected \"%s\"",
			      c->who, i, got->text[i], want[i]);
	ck_assert_msg(got->n == n, "%s: %zu lines, expected %zu", c->who, got->n, n);
}

static void expect_dump(const struct ctx *c, pgt_vaddr_t va, uint64_t size, const char *const want[],
			size_t n)
{
	static struct lines got;

	memset(&got, 0, sizeof got);
	ck_assert_int_eq(pgt_dump(&c->sp, va, size, keep_line, &got), PGT_OK);
	expect_lines(c, &got, want, n);
}

static void expect_dump_all(const struct ctx *c, const char *const want[], size_t n)
{
	static struct lines got;

	memset(&got, 0, sizeof got);
	ck_assert_int_eq(pgt_dump_all(&c->sp, keep_line, &got), PGT_OK);
	expect_lines(c, &got, want, n);
}

/* "4K", "2M", "512M", "256T": a page size as pgt_dump(3) prints it. */
static void size_name(char *out, size_t n, uint64_t size)
{
	static const char units[] = "KMGT";
	unsigned u = 0;

	size >>= 10;
	while (u < 3 && size % 1024 == 0) {
		size /= 1024;
		u++;
	}
	snprintf(out, n, "%llu%c", (unsigned long long)size, units[u]);
}

/* One line of pgt_dump: [va, end), rights, page size, write-back memory. */
static void dump_line(char *out, size_t n, pgt_vaddr_t va, pgt_vaddr_t end, const char *letters, uint64_t page)
{
	char name[24];

	size_name(name, sizeof name, page);
	snprintf(out, n, "%016llx-%016llx %016llx %s %s wb", (unsigned long long)va, (unsigned long long)end,
		 (unsigned long long)(end - va), letters, name);
}

/*
 * A pgt_map range of mixed page sizes walks as contiguous pieces and dumps
 * as one line per page size: small pages, superpages, small pages.
 */
START_TEST(test_walk_after_map)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);
	static struct ctx c;
	static struct seen s;

	ck_assert_uint_lt((unsigned)_i, n);
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_HOOK);
	uint64_t page = size_at(c.a, 0), big = size_at(c.a, 1);
	pgt_vaddr_t va = test_va_bottom(c.a, c.flags) + 3 * big - 2 * page;
	pgt_paddr_t pa = 5 * big - 2 * page;
	uint64_t size = 2 * big + 5 * page;
	ck_assert_int_eq(pgt_map(&c.sp, va, pa, size, R | W, 0), PGT_OK);
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(pgt_walk(&c.sp, va, size, collect, &s), PGT_OK);
	pgt_vaddr_t at = va;
	unsigned supers = 0;
	for (size_t i = 0; i < s.n; i++) {
		ck_assert_uint_eq(s.m[i].va, at);
		ck_assert_uint_eq(s.m[i].pa, pa + (at - va));
		ck_assert_uint_eq(s.m[i].prot, R | W);
		supers += s.m[i].level > 0;
		at += s.m[i].size;
	}
	ck_assert_uint_eq(at, va + size);
	ck_assert_uint_eq(supers, 2);
	ck_assert_uint_eq(s.n, 2 + 5);
	static struct lines got;
	memset(&got, 0, sizeof got);
	ck_assert_int_eq(pgt_dump_all(&c.sp, keep_line, &got), PGT_OK);
	ck_assert_uint_eq(got.n, 3);
	char want[128];
	/* 'u': unprivileged reads pass; at stage 2 every data right holds for both privileges */
	const char *rw = c.a->stage == 2 ? "urw-" : "-rw-";
	dump_line(want, sizeof want, va, va + 2 * page, rw, page);
	ck_assert_str_eq(got.text[0], want);
	dump_line(want, sizeof want, va + 2 * page, va + 2 * page + 2 * big, rw, big);
	ck_assert_str_eq(got.text[1], want);
	dump_line(want, sizeof want, va + 2 * page + 2 * big, va + size, rw, page);
	ck_assert_str_eq(got.text[2], want);
	ctx_close(&c);
}
END_TEST

/* On random trees, pgt_dump_all prints what pgt_dump prints part by part, and not nothing. */
START_TEST(test_dump_all_is_its_parts)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);
	uint64_t seed = 0xd0 + (uint64_t)_i;
	static struct ctx c;
	static struct lines all, some;
	pgt_vaddr_t bottom[2], top[2];

	ck_assert_uint_lt((unsigned)_i, n);
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_OFFSET);
	random_tree(&c, &seed, 120);
	memset(&all, 0, sizeof all);
	memset(&some, 0, sizeof some);
	ck_assert_int_eq(pgt_dump_all(&c.sp, keep_line, &all), PGT_OK);
	for (unsigned p = 0; p < parts(&c, bottom, top); p++)
		ck_assert_int_eq(pgt_dump(&c.sp, bottom[p], upto(bottom[p], top[p]), keep_line, &some),
				 PGT_OK);
	ck_assert_uint_gt(all.n, 1);
	ck_assert_uint_eq(all.n, some.n);
	for (size_t i = 0; i < all.n; i++)
		ck_assert_str_eq(all.text[i], some.text[i]);
	ctx_close(&c);
}
END_TEST

START_TEST(test_dump_x86)
{
	static struct ctx c;

	ctx_open(&c, &pgt_arch_x86_64, 0, TEST_MM_OFFSET);
	/* Three 4K pages, virtually contiguous, same rights, scattered physically: one run. */
	map_page(&c, 0x1000, 0, 0x9000, R | W);
	map_page(&c, 0x2000, 0, 0x5000, R | W);
	map_page(&c, 0x3000, 0, 0x7000, R | W | G); /* global does not split a run */
	map_page(&c, 0x4000, 0, 0x8000, R);         /* other rights: a new run */
	map_page(&c, 0x6000, 0, 0xa000, R);         /* a gap: a new run */
	map_page(&c, 0x7000, 0, 0xb000, R | PGT_PROT_UNCACHED); /* another memory type: a new run */
	/* A 4K page followed by a 2M page with the same rights: another page size, a new run. */
	map_page(&c, 0x1ff000, 0, 0x100000, R | W | X | U);
	map_page(&c, 0x200000, 1, 0x400000, R | W | X | U);
	map_page(&c, 0x40000000, 2, 0x40000000, 0); /* reserved 1G page */
	map_page(&c, 0xffffffff80000000ull, 1, 0x1000000, R | X);
	map_page(&c, 0xfffffffffffff000ull, 0, 0x2000, R);
	static const char *const all[] = {
		"0000000000001000-0000000000004000 0000000000003000 -rw- 4K wb",
		"0000000000004000-0000000000005000 0000000000001000 -r-- 4K wb",
		"0000000000006000-0000000000007000 0000000000001000 -r-- 4K wb",
		"0000000000007000-0000000000008000 0000000000001000 -r-- 4K uc",
		"00000000001ff000-0000000000200000 0000000000001000 urwx 4K wb",
		"0000000000200000-0000000000400000 0000000000200000 urwx 2M wb",
		"0000000040000000-0000000080000000 0000000040000000 ---- 1G wb",
		"ffffffff80000000-ffffffff80200000 0000000000200000 -r-x 2M wb",
		"fffffffffffff000-0000000000000000 0000000000001000 -r-- 4K wb",
	};
	expect_dump_all(&c, all, sizeof all / sizeof all[0]);
	expect_dump(&c, 0, 1ull << 47, all, 7);                         /* the lower half */
	expect_dump(&c, 0xffff800000000000ull, 1ull << 47, all + 7, 2); /* the upper half */
	/* Runs are clipped to the range. */
	static const char *const clipped[] = {
		"0000000000002800-0000000000004000 0000000000001800 -rw- 4K wb",
		"0000000000004000-0000000000004800 0000000000000800 -r-- 4K wb",
	};
	expect_dump(&c, 0x2800, 0x2000, clipped, 2);
	static const char *const upper[] = {
		"ffffffff80100000-ffffffff80200000 0000000000100000 -r-x 2M wb",
		"fffffffffffff000-0000000000000000 0000000000001000 -r-- 4K wb",
	};
	expect_dump(&c, 0xffffffff80100000ull, 0 - 0xffffffff80100000ull, upper, 2);
	expect_dump(&c, 0x8000, 0x1ff000 - 0x8000, NULL, 0);
	ctx_close(&c);
}
END_TEST

/*
 * RISC-V Sv39 (privileged spec 20211203, 4.3.1 table 4.5, with SUM = 0 and
 * MXR = 0 as pgt_translate models them, 4.1.1): a page without U is the
 * supervisor's, one with U the user's alone; execute-only pages exist. The
 * letters are what pgt_dump(3) documents: u for unprivileged data access,
 * r, w, x at either privilege, so an execute-only page shows "---x" with or
 * without U. Both halves, sign-extended from bit 38 (4.4.1).
 */
START_TEST(test_dump_riscv)
{
	static struct ctx c;

	ctx_open(&c, &pgt_arch_riscv_sv39, 0, TEST_MM_OFFSET);
	map_page(&c, 0x1000, 0, 0x9000, R | W);
	map_page(&c, 0x2000, 0, 0x5000, R | W | G); /* global does not split a run */
	map_page(&c, 0x3000, 0, 0x7000, X);         /* execute-only */
	map_page(&c, 0x5000, 0, 0x8000, X | U);     /* a gap, then a user execute-only page */
	map_page(&c, 0x6000, 0, 0xa000, R | U);
	map_page(&c, 0x7000, 0, 0xb000, R | U | PGT_PROT_NONCACHEABLE); /* Svpbmt NC: a new run */
	map_page(&c, 0x1ff000, 0, 0x100000, R | W | X | U);
	map_page(&c, 0x200000, 1, 0x400000, R | W | X | U);
	map_page(&c, 0x40000000, 2, 0x40000000, 0);                /* reserved 1G page */
	map_page(&c, 0xffffffc000000000ull, 2, 0x80000000, R | W); /* first 1G of the upper half */
	map_page(&c, 0xffffffff80000000ull, 1, 0x1000000, R | X);
	map_page(&c, 0xfffffffffffff000ull, 0, 0x2000, R);
	static const char *const all[] = {
		"0000000000001000-0000000000003000 0000000000002000 -rw- 4K wb",
		"0000000000003000-0000000000004000 0000000000001000 ---x 4K wb",
		"0000000000005000-0000000000006000 0000000000001000 ---x 4K wb",
		"0000000000006000-0000000000007000 0000000000001000 ur-- 4K wb",
		"0000000000007000-0000000000008000 0000000000001000 ur-- 4K nc",
		"00000000001ff000-0000000000200000 0000000000001000 urwx 4K wb",
		"0000000000200000-0000000000400000 0000000000200000 urwx 2M wb",
		"0000000040000000-0000000080000000 0000000040000000 ---- 1G wb",
		"ffffffc000000000-ffffffc040000000 0000000040000000 -rw- 1G wb",
		"ffffffff80000000-ffffffff80200000 0000000000200000 -r-x 2M wb",
		"fffffffffffff000-0000000000000000 0000000000001000 -r-- 4K wb",
	};
	expect_dump_all(&c, all, sizeof all / sizeof all[0]);
	expect_dump(&c, 0xffffffc000000000ull, 1ull << 38, all + 8, 3); /* the upper half */
	static const char *const upper[] = {
		"ffffffc03ffff000-ffffffc040000000 0000000000001000 -rw- 1G wb",
	};
	expect_dump(&c, 0xffffffc03ffff000ull, 0x1000, upper, 1);
	ctx_close(&c);
}
END_TEST

/* The entry at @p level on the walk to @p va (the tables must exist). */
static pgt_pte_t *entry_at(const struct ctx *c, pgt_vaddr_t va, unsigned level)
{
	pgt_pte_t *table = test_mm_p2v(&c->t, pgt_space_root(&c->sp));

	for (unsigned l = c->a->levels - 1u;; l--) {
		const struct pgt_level *L = &c->a->level[l];
		pgt_pte_t *p = table + ((va >> L->shift) & ((1ull << L->bits) - 1));
		if (l == level)
			return p;
		table = test_mm_p2v(&c->t, test_table_pa(L, *p));
	}
}

/*
 * Lines show what the MMU grants, as QEMU's `info mem` ANDs the rights down
 * the walk: table entries restricted by hand change the letters and split runs.
 */
START_TEST(test_dump_effective_rights)
{
	static struct ctx c;

	ctx_open(&c, &pgt_arch_x86_64, 0, TEST_MM_OFFSET);
	map_page(&c, 0x1000, 0, 0x1000, R | W | X | U);
	map_page(&c, 0x200000, 1, 0x200000, R | W | X | U);
	map_page(&c, 0x400000, 1, 0x400000, R | W | X | U);
	static const char *const before[] = { "0000000000001000-0000000000002000 0000000000001000 urwx 4K wb",
					      "0000000000200000-0000000000600000 0000000000400000 urwx 2M wb" };
	expect_dump_all(&c, before, 2);
	*entry_at(&c, 0x1000, 1) &= ~(pgt_pte_t)2;        /* PDE R/W clear (SDM 4.6) */
	*entry_at(&c, 0x400000, 1) |= (pgt_pte_t)1 << 63; /* 2M PDE with XD */
	static const char *const after[] = { "0000000000001000-0000000000002000 0000000000001000 ur-x 4K wb",
					     "0000000000200000-0000000000400000 0000000000200000 urwx 2M wb",
					     "0000000000400000-0000000000600000 0000000000200000 urw- 2M wb" };
	expect_dump_all(&c, after, 3);
	*entry_at(&c, 0x1000, 2) &= ~(pgt_pte_t)4; /* PDPTE U/S clear: everything below */
	static const char *const kernel[] = { "0000000000001000-0000000000002000 0000000000001000 -r-x 4K wb",
					      "0000000000200000-0000000000400000 0000000000200000 -rwx 2M wb",
					      "0000000000400000-0000000000600000 0000000000200000 -rw- 2M wb" };
	expect_dump_all(&c, kernel, 3);
	*entry_at(&c, 0x1000, 2) |= 4;
	*entry_at(&c, 0x1000, 1) |= 2;
	ctx_close(&c);

	/* ARMv8: APTable[0] (bit 61) takes EL0 access; an EL0-writable page is not EL1-executable. */
	ctx_open(&c, &pgt_arch_armv8_4k_48, 0, TEST_MM_OFFSET);
	map_page(&c, 0x1000, 0, 0x1000, R | W | U);
	map_page(&c, 0x2000, 0, 0x2000, R | X);
	static const char *const arm[] = { "0000000000001000-0000000000002000 0000000000001000 urw- 4K wb",
					   "0000000000002000-0000000000003000 0000000000001000 -r-x 4K wb" };
	expect_dump_all(&c, arm, 2);
	*entry_at(&c, 0x1000, 1) |= (pgt_pte_t)1 << 61;
	static const char *const arm_el1[] = { "0000000000001000-0000000000002000 0000000000001000 -rw- 4K wb",
					       "0000000000002000-0000000000003000 0000000000001000 -r-x 4K wb" };
	expect_dump_all(&c, arm_el1, 2);
	*entry_at(&c, 0x1000, 1) &= ~((pgt_pte_t)1 << 61);
	ctx_close(&c);
}
END_TEST

START_TEST(test_dump_arm_upper)
{
	static struct ctx c;

	ctx_open(&c, &pgt_arch_armv8_4k_39, PGT_SPACE_UPPER, TEST_MM_HOOK);
	map_page(&c, 0xffffff8000000000ull, 2, 0x80000000, R | W); /* first 1G of the space */
	map_page(&c, 0xffffff8040000000ull, 1, 0x200000, R | W);
	map_page(&c, 0xffffffffffe00000ull, 1, 0x400000, R | U);
	static const char *const all[] = {
		"ffffff8000000000-ffffff8040000000 0000000040000000 -rw- 1G wb",
		"ffffff8040000000-ffffff8040200000 0000000000200000 -rw- 2M wb",
		"ffffffffffe00000-0000000000000000 0000000000200000 ur-- 2M wb",
	};
	expect_dump_all(&c, all, 3);
	expect_dump(&c, 0xffffff8000000000ull, 1ull << 39, all, 3); /* the whole space, to 2^64 */
	ctx_close(&c);
}
END_TEST

START_TEST(test_dump_bad_input)
{
	static struct ctx c;
	static struct lines got;

	ctx_open(&c, &pgt_arch_x86_64, 0, TEST_MM_HOOK);
	map_page(&c, 0x1000, 0, 0x1000, R);
	ck_assert_int_eq(pgt_dump(&c.sp, 0x1000, 0x1000, NULL, &got), PGT_EINVAL);
	ck_assert_int_eq(pgt_dump_all(&c.sp, NULL, &got), PGT_EINVAL);
	ck_assert_int_eq(pgt_dump(NULL, 0x1000, 0x1000, keep_line, &got), PGT_EINVAL);
	ck_assert_int_eq(pgt_dump_all(NULL, keep_line, &got), PGT_EINVAL);
	pgt_space_t blank = { 0 };
	ck_assert_int_eq(pgt_dump(&blank, 0x1000, 0x1000, keep_line, &got), PGT_EINVAL);
	ck_assert_int_eq(pgt_dump_all(&blank, keep_line, &got), PGT_EINVAL);
	ck_assert_int_eq(pgt_dump(&c.sp, 1ull << 47, 0x1000, keep_line, &got), PGT_ERANGE);
	ck_assert_int_eq(pgt_dump(&c.sp, 0x2000, 0, keep_line, &got), PGT_ESIZE);
	ck_assert_int_eq(pgt_dump(&c.sp, 0, 0, keep_line, &got), PGT_ESIZE); /* not everything */
	ck_assert_int_eq(pgt_dump(&c.sp, 0x2000, ~0ull, keep_line, &got), PGT_EWRAP);
	c.t.p2v_null = true;
	ck_assert_int_eq(pgt_dump(&c.sp, 0x1000, 0x1000, keep_line, &got), PGT_EHOOK);
	ck_assert_int_eq(pgt_dump_all(&c.sp, keep_line, &got), PGT_EHOOK);
	c.t.p2v_null = false;
	ck_assert_uint_eq(got.n, 0);
	ctx_close(&c);
}
END_TEST

static Suite *walk_suite(void)
{
	Suite *s = suite_create("walk");
	struct variant v[MAX_VARIANTS];
	int nv = (int)variants(v);
	TCase *tc;

	tc = tcase_create("walk");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_walk_random_trees, 0, nv);
	tcase_add_loop_test(tc, test_walk_stop, 0, nv);
	tcase_add_loop_test(tc, test_walk_sign_extended_halves, 0, (int)test_narchs);
	tcase_add_loop_test(tc, test_walk_skips_empty, 0, nv);
	tcase_add_loop_test(tc, test_walk_to_the_top, 0, nv);
	tcase_add_loop_test(tc, test_walk_straddling, 0, nv);
	tcase_add_loop_test(tc, test_walk_bad_input, 0, nv);
	tcase_add_loop_test(tc, test_walk_after_map, 0, nv);
	suite_add_tcase(s, tc);

	tc = tcase_create("dump");
	tcase_add_loop_test(tc, test_dump_all_is_its_parts, 0, nv);
	tcase_add_test(tc, test_dump_x86);
	tcase_add_test(tc, test_dump_arm_upper);
	tcase_add_test(tc, test_dump_riscv);
	tcase_add_test(tc, test_dump_effective_rights);
	tcase_add_test(tc, test_dump_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = test_run_suite(walk_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
