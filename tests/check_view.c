/* SPDX-License-Identifier: MIT */
/*
 * check_view: pgt_space_view, a read-only space over tables the library
 * did not build.
 *
 * A view over a space's own root must answer every query exactly as the
 * space does (lookup, get_field, translate, walk, dump, verify), refuse
 * every mutation with PGT_EINVAL and leave every table word, every frame
 * and every hook untouched, and free nothing when destroyed. Foreign
 * tables written by hand (a self-referencing root, every entry pointing
 * back at the root, entries p2v refuses to reach, reserved bits) must end
 * every walk in a fault, an error or a verify report.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/mdb.h>
#include <pgtable/pgtable.h>
#include <pgtable/tlb.h>
#include <pgtable/x86_64.h>

#include "harness.h"

enum { R = PGT_PROT_READ, W = PGT_PROT_WRITE, X = PGT_PROT_EXEC, U = PGT_PROT_USER };

/** A space with some mappings, and a view over its root. */
struct fixture {
	struct test_mm t;
	pgt_space_t sp, view;
	const struct pgt_arch *a;
	unsigned flags;
	pgt_vaddr_t base; /**< where the mappings start */
	uint64_t span;    /**< and how far they reach */
};

/** The mm a view of @p t's tables takes: p2v only, no allocation or flush hook. */
static struct pgt_mm read_only_mm(const struct test_mm *t)
{
	return (struct pgt_mm){ .p2v = t->mm.p2v, .p2v_offset = t->mm.p2v_offset, .ctx = t->mm.ctx };
}

/** The prot of the @p i-th range: rights the format can express, some reserved. */
static unsigned range_prot(const struct pgt_arch *a, unsigned i)
{
	static const unsigned prots[] = { R, R | W, R | X, R | W | U, 0, R | U | X, R | PGT_PROT_UNCACHED };
	unsigned prot = prots[i % (sizeof prots / sizeof prots[0])];

	return test_prot_expressible(a, prot) ? prot : R;
}

/**
 * Maps a few ranges from @p base: small pages, one of the format's second
 * page size (a superpage where it has one), reserved leaves, gaps between.
 */
static void fill_space(struct fixture *f)
{
	const struct pgt_level *L0 = &f->a->level[0], *L1 = &f->a->level[1];
	uint64_t small = 1ull << L0->shift, big = L1->leaf_ok ? 1ull << L1->shift : small * 4;
	pgt_vaddr_t va = f->base;

	for (unsigned i = 0; i < 7; i++) {
		uint64_t size = (i == 3) ? big : small * (i + 1);
		va = (va + size - 1) & ~(size - 1); /* aligned to its size: a superpage where one fits */
		CHECK_RC(pgt_map(&f->sp, va, 0x40000000ull + (va - f->base), size, range_prot(f->a, i), 0), PGT_OK);
		va += size + small; /* a gap */
	}
	f->span = va - f->base;
}

static void fixture_open(struct fixture *f, const struct pgt_arch *a, unsigned flags, enum test_mm_mode mode)
{
	memset(f, 0, sizeof *f);
	test_mm_init(&f->t, mode);
	f->a = a;
	f->flags = flags;
	f->base = test_va_bottom(a, flags) + (1ull << a->level[1].shift);
	CHECK_RC(pgt_space_init(&f->sp, a, &f->t.mm, flags), PGT_OK);
	fill_space(f);
	struct pgt_mm mm = read_only_mm(&f->t);
	CHECK_RC(pgt_space_view(&f->view, a, &mm, pgt_space_root(&f->sp), flags), PGT_OK);
}

static void fixture_close(struct fixture *f)
{
	long frees = f->t.frees;

	pgt_space_destroy(&f->view);
	CHECK_THAT(f->t.frees == frees, "%s: destroying a view freed a table", f->a->name);
	pgt_space_destroy(&f->sp);
	CHECK_THAT(test_mm_outstanding(&f->t) == 0 && f->t.errors == 0, "%s: leaked", f->a->name);
	test_mm_fini(&f->t);
}

/** The variants: every format's lower range, and the upper one where it has one. */
static unsigned variant(int i, const struct pgt_arch **a)
{
	*a = test_archs[(size_t)i / 2];
	return (i & 1) ? PGT_SPACE_UPPER : 0;
}

static bool variant_exists(const struct pgt_arch *a, unsigned flags)
{
	return !(flags & PGT_SPACE_UPPER) || (a->canon == PGT_CANON_SPLIT && a->stage != 2);
}

/** Addresses to ask about: every small page of the mapped span and around it. */
static pgt_vaddr_t probe(const struct fixture *f, unsigned i)
{
	uint64_t small = 1ull << f->a->level[0].shift;

	return f->base - 2 * small + (pgt_vaddr_t)i * small + (i % 3) * 8;
}

static unsigned probes(const struct fixture *f)
{
	return (unsigned)(f->span >> f->a->level[0].shift) + 4;
}

static void same_lookup(const struct fixture *f, pgt_vaddr_t va)
{
	pgt_ref_t rs, rv;
	int a = pgt_lookup(&f->sp, va, &rs), b = pgt_lookup(&f->view, va, &rv);

	CHECK_THAT(a == b, "%s: lookup %#llx: space %d, view %d", f->a->name, (unsigned long long)va, a, b);
	if (a != PGT_OK)
		return;
	ck_assert(rs.pte == rv.pte && rs.level == rv.level && rs.page_shift == rv.page_shift);
	for (int fld = 0; fld < PGT_FIELD_COUNT; fld++) {
		uint64_t x = 1, y = 2;
		int ra = pgt_get_field(&f->sp, rs, (enum pgt_field)fld, &x);
		int rb = pgt_get_field(&f->view, rv, (enum pgt_field)fld, &y);
		CHECK_THAT(ra == rb && (ra != PGT_OK || x == y), "%s: field %d differs", f->a->name, fld);
	}
}

static void same_translate(const struct fixture *f, pgt_vaddr_t va)
{
	static const unsigned kinds[] = { PGT_ACC_READ, PGT_ACC_WRITE, PGT_ACC_EXEC };

	for (unsigned k = 0; k < 3; k++) {
		for (unsigned user = 0; user <= PGT_ACC_USER; user += PGT_ACC_USER) {
			pgt_paddr_t ps = 1, pv = 2;
			struct pgt_fault fs = { 0 }, fv = { 0 };
			int a = pgt_translate(&f->sp, va, kinds[k] | user, &ps, &fs);
			int b = pgt_translate(&f->view, va, kinds[k] | user, &pv, &fv);
			CHECK_THAT(a == b, "%s: translate %#llx: %d vs %d", f->a->name, (unsigned long long)va, a, b);
			if (a == PGT_OK)
				ck_assert(ps == pv);
			if (a == PGT_EFAULT)
				ck_assert(memcmp(&fs, &fv, sizeof fs) == 0);
		}
	}
}

/** What pgt_walk and pgt_dump report, collected. */
struct seen {
	struct pgt_mapping m[64];
	size_t n;
	char text[8192];
	size_t len;
};

static int collect(void *arg, const struct pgt_mapping *m)
{
	struct seen *s = arg;

	ck_assert(s->n < 64);
	s->m[s->n++] = *m;
	return 0;
}

static void collect_line(void *arg, const char *line)
{
	struct seen *s = arg;
	size_t n = strlen(line);

	ck_assert(s->len + n + 1 < sizeof s->text);
	memcpy(s->text + s->len, line, n);
	s->len += n;
	s->text[s->len++] = '\n';
}

/** The same leaves and lines from the space and the view: s[0] and s[1]. */
static void same_seen(const struct seen s[2])
{
	ck_assert(s[0].n >= 7 && s[0].n == s[1].n); /* each range one leaf or more */
	ck_assert(memcmp(s[0].m, s[1].m, sizeof s[0].m) == 0);
	ck_assert(s[0].len > 0 && s[0].len == s[1].len && memcmp(s[0].text, s[1].text, s[0].len) == 0);
}

static void same_walk_and_dump(const struct fixture *f)
{
	struct seen *s = calloc(2, sizeof *s);

	CHECK_RC(pgt_walk(&f->sp, f->base, f->span, collect, &s[0]), PGT_OK);
	CHECK_RC(pgt_walk(&f->view, f->base, f->span, collect, &s[1]), PGT_OK);
	CHECK_RC(pgt_dump(&f->sp, f->base, f->span, collect_line, &s[0]), PGT_OK);
	CHECK_RC(pgt_dump(&f->view, f->base, f->span, collect_line, &s[1]), PGT_OK);
	same_seen(s);
	/* Everything: the fixture maps nothing else, so the same again. */
	struct seen *all = calloc(2, sizeof *all);
	CHECK_RC(pgt_walk_all(&f->sp, collect, &all[0]), PGT_OK);
	CHECK_RC(pgt_walk_all(&f->view, collect, &all[1]), PGT_OK);
	CHECK_RC(pgt_dump_all(&f->sp, collect_line, &all[0]), PGT_OK);
	CHECK_RC(pgt_dump_all(&f->view, collect_line, &all[1]), PGT_OK);
	same_seen(all);
	ck_assert(memcmp(all, s, 2 * sizeof *s) == 0);
	free(all);
	free(s);
}

/* A view answers every query as the space it looks at. */
START_TEST(test_view_answers_as_the_space)
{
	const struct pgt_arch *a;
	unsigned flags = variant(_i, &a);

	if (!variant_exists(a, flags))
		return;
	for (int mode = TEST_MM_OFFSET; mode <= TEST_MM_HOOK; mode++) {
		struct fixture f;
		fixture_open(&f, a, flags, (enum test_mm_mode)mode);
		ck_assert(pgt_space_root(&f.view) == pgt_space_root(&f.sp));
		for (unsigned i = 0; i < probes(&f); i++) {
			same_lookup(&f, probe(&f, i));
			same_translate(&f, probe(&f, i));
		}
		same_walk_and_dump(&f);
		CHECK_RC(pgt_verify(&f.view, NULL, NULL), 0);
		fixture_close(&f);
	}
}
END_TEST

static void *node_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void node_free(void *ctx, void *node, size_t size)
{
	(void)ctx;
	(void)size;
	free(node);
}

/** Every call that writes a table, on the view: PGT_EINVAL. */
static void every_mutation_refused(struct fixture *f, pgt_space_t *other)
{
	pgt_space_t *v = &f->view;
	uint64_t small = 1ull << f->a->level[0].shift;
	pgt_vaddr_t hole = f->base - small, mapped = f->base;
	pgt_ref_t ref;

	CHECK_RC(pgt_insert(v, hole, f->a->level[0].shift, &ref), PGT_EINVAL);
	CHECK_RC(pgt_lookup(v, mapped, &ref), PGT_OK);
	CHECK_RC(pgt_set_field(v, ref, PGT_FIELD_PROT, R), PGT_EINVAL);
	CHECK_RC(pgt_set_field(v, ref, PGT_FIELD_PADDR, 0x80000000ull), PGT_EINVAL);
	CHECK_RC(pgt_set_field(v, ref, PGT_FIELD_WRITE, 1), PGT_EINVAL);
	CHECK_RC(pgt_set_link(v, ref, 0x1234, mapped), PGT_EINVAL);
	CHECK_RC(pgt_map(v, hole, 0x1000000, small, R, 0), PGT_EINVAL);
	CHECK_RC(pgt_map(v, mapped, 0x1000000, small, R, PGT_MAP_REPLACE), PGT_EINVAL);
	CHECK_RC(pgt_unmap(v, mapped, small), PGT_EINVAL);
	CHECK_RC(pgt_protect(v, mapped, small, R), PGT_EINVAL);
	CHECK_RC(pgt_translate(v, mapped, PGT_ACC_READ | PGT_ACC_SET_AD, NULL, NULL), PGT_EINVAL);
	CHECK_RC(pgt_translate(v, mapped, PGT_ACC_WRITE | PGT_ACC_SET_AD, NULL, NULL), PGT_EINVAL);
	/* pgt_share writes both spaces: the borrowing one and the lender's missing tables. */
	uint64_t top = 1ull << f->a->level[f->a->levels - 1].shift;
	pgt_vaddr_t share_va = test_va_bottom(f->a, f->flags) + top;
	CHECK_RC(pgt_share(v, other, share_va, top), PGT_EINVAL);
	CHECK_RC(pgt_share(other, v, share_va, top), PGT_EINVAL);
	pgt_mdb_t db;
	CHECK_RC(pgt_mdb_init(&db, &(struct pgt_mdb_mm){ node_alloc, node_free, NULL }), PGT_OK);
	CHECK_RC(pgt_mdb_attach(&db, v), PGT_EINVAL);
	pgt_mdb_destroy(&db);
}

/* Every mutation on a view is PGT_EINVAL and changes no table, frame or hook call. */
START_TEST(test_view_refuses_every_mutation)
{
	const struct pgt_arch *a;
	unsigned flags = variant(_i, &a);

	if (!variant_exists(a, flags))
		return;
	struct fixture f;
	fixture_open(&f, a, flags, TEST_MM_HOOK);
	pgt_space_t other;
	CHECK_RC(pgt_space_init(&other, a, &f.t.mm, flags), PGT_OK);
	size_t n;
	pgt_pte_t *before = tree_snapshot(&f.sp, a, &f.t, &n);
	long allocs = f.t.attempts, frees = f.t.frees, flushes = f.t.flushes;

	every_mutation_refused(&f, &other);
	CHECK_THAT(tree_unchanged(&f.sp, a, &f.t, before, n), "%s: a refused call changed the tree", a->name);
	ck_assert(f.t.attempts == allocs && f.t.frees == frees && f.t.flushes == flushes);
	pgt_space_destroy(&other);
	fixture_close(&f);
}
END_TEST

/* A software TLB caches a view's translations like any space's. */
START_TEST(test_view_tlb)
{
	struct fixture f;
	struct pgt_tlb_entry e[16];
	pgt_tlb_t tlb;

	fixture_open(&f, &pgt_arch_x86_64, 0, TEST_MM_OFFSET);
	CHECK_RC(pgt_tlb_init(&tlb, &f.view, e, 16, 1), PGT_OK);
	for (unsigned i = 0; i < probes(&f); i++) {
		pgt_paddr_t p1 = 1, p2 = 2;
		unsigned prot1 = 0, prot2 = 0;
		int r1 = pgt_tlb_fill(&tlb, probe(&f, i), &p1, &prot1);
		int r2 = pgt_tlb_fill(&tlb, probe(&f, i), &p2, &prot2);
		ck_assert(r1 == r2 && (r1 != PGT_OK || (p1 == p2 && prot1 == prot2)));
	}
	pgt_tlb_fini(&tlb);
	fixture_close(&f);
}
END_TEST

/* --- bad input ------------------------------------------------------------ */

/** A view call that must fail with @p want and leave @p sp as it was. */
#define CHECK_VIEW_FAILS(sp, arch, mm, root, flags, want)                        \
	do {                                                                     \
		pgt_space_t before_;                                             \
		memcpy(&before_, (sp), sizeof before_);                          \
		CHECK_RC(pgt_space_view((sp), (arch), (mm), (root), (flags)), (want)); \
		ck_assert(memcmp(&before_, (sp), sizeof before_) == 0);          \
	} while (0)

static void *p2v_null(void *ctx, pgt_paddr_t pa)
{
	(void)ctx;
	(void)pa;
	return NULL;
}

START_TEST(test_view_bad_input)
{
	static pgt_pte_t table[512] __attribute__((aligned(4096)));
	struct pgt_mm mm = { 0 }; /* p2v_offset 0: pa == pointer */
	struct pgt_mm refusing = { .p2v = p2v_null };
	pgt_paddr_t root = (pgt_paddr_t)(uintptr_t)table;
	struct pgt_arch broken = pgt_arch_x86_64, second = pgt_arch_armv8_4k_48;
	pgt_space_t sp;

	memset(&sp, 0x5a, sizeof sp);
	broken.pgt__room[0] = 1;
	second.stage = 2; /* a second stage has no upper range */
	CHECK_RC(pgt_space_view(NULL, &pgt_arch_x86_64, &mm, root, 0), PGT_EINVAL);
	CHECK_VIEW_FAILS(&sp, NULL, &mm, root, 0, PGT_EINVAL);
	CHECK_VIEW_FAILS(&sp, &pgt_arch_x86_64, NULL, root, 0, PGT_EINVAL);
	CHECK_VIEW_FAILS(&sp, &broken, &mm, root, 0, PGT_EINVAL);
	CHECK_VIEW_FAILS(&sp, &pgt_arch_x86_64, &mm, root, PGT_SPACE_LINKS, PGT_EFLAGS);
	CHECK_VIEW_FAILS(&sp, &pgt_arch_x86_64, &mm, root, 64, PGT_EFLAGS);
	CHECK_VIEW_FAILS(&sp, &pgt_arch_x86_64, &mm, root, PGT_SPACE_UPPER, PGT_EFLAGS);
	CHECK_VIEW_FAILS(&sp, &second, &mm, root, PGT_SPACE_UPPER, PGT_EFLAGS);
	CHECK_VIEW_FAILS(&sp, &pgt_arch_x86_64, &mm, root + 8, 0, PGT_EALIGN);
	CHECK_VIEW_FAILS(&sp, &pgt_arch_x86_64, &mm, 1ull << 52, 0, PGT_ERANGE);
	CHECK_VIEW_FAILS(&sp, &pgt_arch_x86_64, &mm, PGT_PADDR_NONE & ~0xfffull, 0, PGT_ERANGE);
	CHECK_VIEW_FAILS(&sp, &pgt_arch_x86_64, &refusing, root, 0, PGT_EHOOK);

	/* A space with no upper range refuses it at init too. */
	struct test_mm t;
	test_mm_init(&t, TEST_MM_OFFSET);
	CHECK_RC(pgt_space_init(&sp, &second, &t.mm, PGT_SPACE_UPPER), PGT_EFLAGS);
	test_mm_fini(&t);

	/* Allocation hooks are not needed; an ARMv8 upper view is fine. */
	memset(table, 0, sizeof table);
	CHECK_RC(pgt_space_view(&sp, &pgt_arch_armv8_4k_48, &mm, root, PGT_SPACE_UPPER), PGT_OK);
	CHECK_RC(pgt_translate(&sp, ~0ull << 48, PGT_ACC_READ, NULL, NULL), PGT_EFAULT);
	pgt_space_destroy(&sp);
	CHECK_RC(pgt_translate(&sp, ~0ull << 48, PGT_ACC_READ, NULL, NULL), PGT_EINVAL);
}
END_TEST

/* --- foreign tables built by hand ---------------------------------------- */

/** Frames of hand-made tables, and a p2v that reaches only them. */
struct foreign {
	pgt_pte_t *mem; /**< FOREIGN_FRAMES 4 KiB frames */
	pgt_paddr_t base;
	long refused; /**< p2v calls outside the frames */
};

#define FOREIGN_FRAMES 4
#define FOREIGN_BASE 0x100000000ull

static void *foreign_p2v(void *ctx, pgt_paddr_t pa)
{
	struct foreign *fo = ctx;

	if (pa < fo->base || pa >= fo->base + FOREIGN_FRAMES * 4096ull) {
		fo->refused++;
		return NULL;
	}
	return (char *)fo->mem + (pa - fo->base);
}

static pgt_pte_t *frame(struct foreign *fo, unsigned i)
{
	return fo->mem + 512u * i;
}

static pgt_paddr_t frame_pa(const struct foreign *fo, unsigned i)
{
	return fo->base + 4096ull * i;
}

static void foreign_open(struct foreign *fo, pgt_space_t *sp, struct pgt_mm *mm)
{
	fo->mem = aligned_alloc(4096, FOREIGN_FRAMES * 4096);
	memset(fo->mem, 0, FOREIGN_FRAMES * 4096);
	fo->base = FOREIGN_BASE;
	fo->refused = 0;
	*mm = (struct pgt_mm){ .p2v = foreign_p2v, .ctx = fo };
	CHECK_RC(pgt_space_view(sp, &pgt_arch_x86_64, mm, frame_pa(fo, 0), 0), PGT_OK);
}

static int count_and_stop(void *arg, const struct pgt_mapping *m)
{
	long *n = arg;

	(void)m;
	return ++*n >= 100000;
}

static void count_problem(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	(void)problem;
	(void)va;
	(void)level;
	++*(long *)arg;
}

/* The x86-64 table entry the tests write: present, writable, user. */
#define TABLE_ENTRY(pa) ((pa) | PGT_X86_P | PGT_X86_RW | PGT_X86_US)

/* A root whose entry 0 points at itself (a recursive slot): every walk ends after four steps. */
START_TEST(test_view_self_referencing_root)
{
	struct foreign fo;
	struct pgt_mm mm;
	pgt_space_t sp;
	pgt_paddr_t pa = 0;
	pgt_ref_t ref;
	long leaves = 0, problems = 0;

	foreign_open(&fo, &sp, &mm);
	frame(&fo, 0)[0] = TABLE_ENTRY(frame_pa(&fo, 0));
	/* Four steps through the root: the last reads its entry 0 as a 4K leaf mapping the root. */
	CHECK_RC(pgt_translate(&sp, 0x10, PGT_ACC_READ, &pa, NULL), PGT_OK);
	ck_assert(pa == frame_pa(&fo, 0) + 0x10);
	CHECK_RC(pgt_lookup(&sp, 0, &ref), PGT_OK);
	ck_assert(ref.level == 0 && ref.pte == frame(&fo, 0));
	CHECK_RC(pgt_walk(&sp, 0, 1ull << 39, count_and_stop, &leaves), PGT_OK);
	ck_assert_int_eq(leaves, 1);
	CHECK_RC(pgt_walk_all(&sp, count_and_stop, &leaves), PGT_OK);
	ck_assert_int_eq(leaves, 2);
	ck_assert_int_gt(pgt_verify(&sp, count_problem, &problems), 0);
	ck_assert_int_gt(problems, 0);
	ck_assert_int_eq(fo.refused, 0);
	pgt_space_destroy(&sp);
	free(fo.mem);
}
END_TEST

/* Every root entry points back at the root: walks stay bounded; a visitor can stop the long one. */
START_TEST(test_view_cyclic_everywhere)
{
	struct foreign fo;
	struct pgt_mm mm;
	pgt_space_t sp;
	long leaves = 0;
	uint64_t rng = 7;

	foreign_open(&fo, &sp, &mm);
	for (unsigned i = 0; i < 512; i++)
		frame(&fo, 0)[i] = TABLE_ENTRY(frame_pa(&fo, 0));
	for (int i = 0; i < 1000; i++) {
		pgt_vaddr_t va = test_rand(&rng) & ((1ull << 47) - 1);
		pgt_paddr_t pa;
		CHECK_RC(pgt_translate(&sp, va, PGT_ACC_READ, &pa, NULL), PGT_OK);
		ck_assert(pa == frame_pa(&fo, 0) + (va & 0xfff));
	}
	/* 2^35 leaves: the walk would end, but the visitor stops it (its value is returned). */
	ck_assert_int_eq(pgt_walk(&sp, 0, 1ull << 47, count_and_stop, &leaves), 1);
	ck_assert_int_eq(leaves, 100000);
	leaves = 0;
	ck_assert_int_eq(pgt_walk_all(&sp, count_and_stop, &leaves), 1);
	ck_assert_int_eq(leaves, 100000);
	ck_assert_int_gt(pgt_verify(&sp, NULL, NULL), 0);
	ck_assert_int_eq(fo.refused, 0);
	pgt_space_destroy(&sp);
	free(fo.mem);
}
END_TEST

/* Entries pointing where p2v does not reach: errors and reports, no read there. */
START_TEST(test_view_unreachable_tables)
{
	struct foreign fo;
	struct pgt_mm mm;
	pgt_space_t sp;
	pgt_ref_t ref;
	long leaves = 0, problems = 0;

	foreign_open(&fo, &sp, &mm);
	frame(&fo, 0)[0] = TABLE_ENTRY(0x7000000000ull); /* outside the frames */
	frame(&fo, 0)[1] = TABLE_ENTRY(frame_pa(&fo, 1));
	frame(&fo, 1)[0] = TABLE_ENTRY(0x5000ull); /* below them */
	CHECK_RC(pgt_translate(&sp, 0, PGT_ACC_READ, NULL, NULL), PGT_EHOOK);
	CHECK_RC(pgt_lookup(&sp, 0, &ref), PGT_EHOOK);
	CHECK_RC(pgt_translate(&sp, 1ull << 39, PGT_ACC_READ, NULL, NULL), PGT_EHOOK);
	CHECK_RC(pgt_walk(&sp, 0, 1ull << 40, count_and_stop, &leaves), PGT_EHOOK);
	CHECK_RC(pgt_walk_all(&sp, count_and_stop, &leaves), PGT_EHOOK);
	ck_assert_int_eq(pgt_verify(&sp, count_problem, &problems), 2);
	ck_assert_int_gt(fo.refused, 0);
	pgt_space_destroy(&sp);
	free(fo.mem);
}
END_TEST

/* Reserved bits in foreign entries: translate's malformed fault at their level, verify reports. */
START_TEST(test_view_malformed_entries)
{
	struct foreign fo;
	struct pgt_mm mm;
	pgt_space_t sp;
	struct pgt_fault fault;

	foreign_open(&fo, &sp, &mm);
	frame(&fo, 0)[0] = TABLE_ENTRY(frame_pa(&fo, 1));
	frame(&fo, 1)[0] = TABLE_ENTRY(frame_pa(&fo, 2)) | PGT_X86_PS | (1ull << 13); /* 1G leaf, misaligned */
	frame(&fo, 0)[2] = TABLE_ENTRY(frame_pa(&fo, 1)) | PGT_X86_PS; /* PS is reserved in a PML4E */
	CHECK_RC(pgt_translate(&sp, 0, PGT_ACC_READ, NULL, &fault), PGT_EFAULT);
	ck_assert(fault.kind == PGT_FAULT_RESERVED_BIT && fault.level == 2 && fault.stage == 1 && fault.ipa == 0);
	CHECK_RC(pgt_translate(&sp, 2ull << 39, PGT_ACC_READ, NULL, &fault), PGT_EFAULT);
	ck_assert(fault.kind == PGT_FAULT_RESERVED_BIT && fault.level == 3 && fault.va == 2ull << 39);
	ck_assert_int_eq(pgt_verify(&sp, NULL, NULL), 2);
	pgt_space_destroy(&sp);
	free(fo.mem);
}
END_TEST

static Suite *view_suite(void)
{
	Suite *s = suite_create("view");
	TCase *tc = tcase_create("view");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_view_answers_as_the_space, 0, (int)test_narchs * 2);
	tcase_add_loop_test(tc, test_view_refuses_every_mutation, 0, (int)test_narchs * 2);
	tcase_add_test(tc, test_view_tlb);
	tcase_add_test(tc, test_view_bad_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("foreign");
	tcase_add_test(tc, test_view_self_referencing_root);
	tcase_add_test(tc, test_view_cyclic_everywhere);
	tcase_add_test(tc, test_view_unreachable_tables);
	tcase_add_test(tc, test_view_malformed_entries);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = test_run_suite(view_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
