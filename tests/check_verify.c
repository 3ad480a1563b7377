/* SPDX-License-Identifier: MIT */
/*
 * check_verify: pgt_verify finds every corruption class it claims, with the
 * address and level of the entry, and nothing on trees the library built.
 *
 * Corruptions are written by hand with literal bits from the manuals:
 *   x86-64 (Intel SDM vol. 3A 4.5): bit 0 P, bit 7 PS (reserved in a PML4E
 *   or PML5E, table 4-15/4-14), bit 9 ignored (libpgtable's reserved-leaf
 *   mark), bits 20:13 of a 2M PDE and 29:13 of a 1G PDPTE reserved (tables
 *   4-18 and 4-16); table address bits 51:12.
 *   ARMv8 (Arm ARM D8.3): bits[1:0] 0b11 table/page, 0b01 block (not at the
 *   last level, not at the 4K granule's level 0); RES0: [50:48] of a table
 *   descriptor, [49:48] of a block or page, [sh-1:17] of a block, [g-1:12]
 *   below a next-table address or in a 16K/64K page; bit 58 software
 *   (libpgtable's reserved-leaf mark).
 *   RISC-V (privileged spec 20211203, 4.3.1, 4.3.2, 4.4.1, ch. 6): bit 0 V,
 *   1 R, 2 W, 3 X, 4 U, 6 A, 7 D; V with R=W=X=0 points to the next table
 *   (a leaf must be found by level 0, 4.3.2 step 4); W without R is
 *   reserved (table 4.5); U, A and D are reserved in a non-leaf entry;
 *   PPN = PA[55:12] in bits 53:10, so PA bit n is entry bit n-2, and a
 *   superpage's PPN bits below its size must be zero (4.3.2 step 6); bits
 *   60:54 reserved (4.4.1); PBMT bits 62:61, 3 reserved, reserved in a
 *   non-leaf entry (Svpbmt, table 6.1); N bit 63 reserved without Svnapot.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

#include "harness.h"

#define BIT(n) ((pgt_pte_t)1 << (n))

enum { R = PGT_PROT_READ, W = PGT_PROT_WRITE, X = PGT_PROT_EXEC, U = PGT_PROT_USER, G = PGT_PROT_GLOBAL };

struct ctx {
	struct test_mm t;
	pgt_space_t sp;
	const struct pgt_arch *a;
	unsigned flags;
	char who[64];
};

/* Set: the owns_table hook below disowns every frame. */
static bool own_none;

/* owns_table for the test allocator: an outstanding frame of that level. */
static int owns(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)size;
	return !own_none && test_mm_owns(ctx, pa, level);
}

static void ctx_open(struct ctx *c, const struct pgt_arch *a, unsigned flags, enum test_mm_mode mode,
		     bool hook)
{
	memset(c, 0, sizeof *c);
	test_mm_init(&c->t, mode);
	c->t.mm.owns_table = hook ? owns : NULL; /* this suite's own hook, or none at all */
	c->a = a;
	c->flags = flags;
	snprintf(c->who, sizeof c->who, "%s%s%s", a->name, (flags & PGT_SPACE_UPPER) ? " upper" : "",
		 (flags & PGT_SPACE_LINKS) ? " links" : "");
	ck_assert_int_eq(pgt_space_init(&c->sp, a, &c->t.mm, flags), PGT_OK);
}

static void ctx_close(struct ctx *c)
{
	pgt_space_destroy(&c->sp);
	ck_assert_msg(test_mm_outstanding(&c->t) == 0 && c->t.errors == 0, "%s: tables leaked or bad frees",
		      c->who);
	test_mm_fini(&c->t);
}

static uint64_t size_at(const struct pgt_arch *a, unsigned level)
{
	return 1ull << a->level[level].shift;
}

static pgt_ref_t map_page(struct ctx *c, pgt_vaddr_t va, unsigned level, pgt_paddr_t pa, unsigned prot)
{
	pgt_ref_t ref;

	ck_assert_int_eq(pgt_insert(&c->sp, va, c->a->level[level].shift, &ref), PGT_OK);
	ck_assert_int_eq(pgt_set_field(&c->sp, ref, PGT_FIELD_PADDR, pa), PGT_OK);
	ck_assert_int_eq(pgt_set_field(&c->sp, ref, PGT_FIELD_PROT, prot), PGT_OK);
	return ref;
}

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
 * A corruption that fills or empties an entry at @p level on the walk to
 * @p va changes how many entries of its table are used: the count the entry
 * above keeps of it (pgt_level.table_count) follows by @p delta, so that
 * verify reports the corruption alone.
 */
static void count_follows(const struct ctx *c, pgt_vaddr_t va, unsigned level, int delta)
{
	if (level + 1u >= c->a->levels || !c->a->level[level + 1u].table_count)
		return;
	const struct pgt_level *above = &c->a->level[level + 1u];
	pgt_pte_t *up = entry_at(c, va, level + 1u);
	if (!(*up & (above->table_borrowed | above->table_pinned)))
		*up = test_count_set(above, *up, test_count_get(above, *up) + (uint64_t)(int64_t)delta);
}

/* ------------------------------------------------------------------------ */
/* Reports                                                                   */

struct report {
	char what[16][80];
	pgt_vaddr_t va[16];
	unsigned level[16];
	int n;
};

static void keep(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	struct report *r = arg;

	if (r->n < 16) {
		snprintf(r->what[r->n], sizeof r->what[0], "%s", problem);
		r->va[r->n] = va;
		r->level[r->n] = level;
	}
	r->n++;
}

static void expect_clean(const struct ctx *c, const char *what)
{
	struct report r = { 0 };
	int n = pgt_verify(&c->sp, keep, &r);

	ck_assert_msg(n == 0 && r.n == 0, "%s: %s: %d problems, first \"%s\" at %#llx level %u", c->who, what,
		      n, r.n ? r.what[0] : "", (unsigned long long)r.va[0], r.level[0]);
}

/* Exactly one problem, this one, here. */
static void expect_one(const struct ctx *c, const char *problem, pgt_vaddr_t va, unsigned level,
		       const char *what)
{
	struct report r = { 0 };
	int n = pgt_verify(&c->sp, keep, &r);

	ck_assert_msg(n == 1 && r.n == 1, "%s: %s: %d problems (first \"%s\"), expected one", c->who, what, n,
		      r.n ? r.what[0] : "");
	ck_assert_msg(strcmp(r.what[0], problem) == 0 && r.va[0] == va && r.level[0] == level,
		      "%s: %s: \"%s\" at %#llx level %u, expected \"%s\" at %#llx level %u", c->who, what,
		      r.what[0], (unsigned long long)r.va[0], r.level[0], problem, (unsigned long long)va,
		      level);
	ck_assert_int_eq(pgt_verify(&c->sp, NULL, NULL), 1); /* report may be NULL */
}

/* ------------------------------------------------------------------------ */
/* Clean trees                                                               */

static const unsigned prots[] = { 0, R, R | W, R | X, R | W | X, U, R | U, R | W | U, R | X | U | G };

START_TEST(test_clean_random_trees)
{
	const unsigned flag_sets[] = { 0, PGT_SPACE_LINKS, PGT_SPACE_UPPER,
				       PGT_SPACE_UPPER | PGT_SPACE_LINKS };
	uint64_t seed = 0xc1ea + (uint64_t)_i;

	for (size_t fi = 0; fi < 4; fi++) {
		const struct pgt_arch *a = test_archs[_i];
		if ((flag_sets[fi] & PGT_SPACE_UPPER) && !test_has_upper(a))
			continue;
		struct ctx c;
		ctx_open(&c, a, flag_sets[fi], fi & 1 ? TEST_MM_HOOK : TEST_MM_OFFSET, true);
		expect_clean(&c, "empty space");
		uint64_t span = 16 * size_at(a, 1);
		pgt_vaddr_t base[2] = { test_va_bottom(a, c.flags), test_va_top(a, c.flags) - span + 1 };
		for (int k = 0; k < 400; k++) {
			unsigned level = test_rand(&seed) % 3 ? 0 : 1;
			uint64_t size = size_at(a, level);
			pgt_vaddr_t va = base[k & 1] + ((test_rand(&seed) % span) & ~(size - 1));
			pgt_ref_t ref;
			if (pgt_insert(&c.sp, va, a->level[level].shift, &ref) != PGT_OK)
				continue;
			pgt_paddr_t pa = test_rand(&seed) & 0x0000fffffffff000ull & ~(size - 1);
			ck_assert_int_eq(pgt_set_field(&c.sp, ref, PGT_FIELD_PADDR, pa), PGT_OK);
			ck_assert_int_eq(
				pgt_set_field(&c.sp, ref, PGT_FIELD_PROT,
					      prots[test_rand(&seed) % (sizeof prots / sizeof prots[0])]),
				PGT_OK);
			if (k % 50 == 0)
				expect_clean(&c, "random inserts");
		}
		struct tree_stats st = tree_check(&c.sp, a, &c.t);
		ck_assert_uint_eq(st.problems, 0);
		ck_assert_uint_gt(st.tables, 10);
		expect_clean(&c, "random inserts");
		ctx_close(&c);
	}
}
END_TEST

/*
 * Random pgt_map / pgt_unmap / pgt_protect sequences, and a second space
 * sharing root entries with the first and mapping through them: both
 * verify clean after every step (with the owns_table hook set).
 */
START_TEST(test_clean_after_range_ops)
{
	const struct pgt_arch *a = test_archs[_i];
	uint64_t seed = 0x7a49e + (uint64_t)_i;
	struct ctx c;
	pgt_space_t other;

	ctx_open(&c, a, 0, TEST_MM_HOOK, true);
	ck_assert_int_eq(pgt_space_init(&other, a, &c.t.mm, 0), PGT_OK);
	uint64_t root = size_at(a, a->levels - 1u), page = size_at(a, 0), big = size_at(a, 1);
	pgt_vaddr_t base = 2 * root;
	ck_assert_int_eq(pgt_share(&other, &c.sp, base, root), PGT_OK);
	for (int step = 0; step < 150; step++) {
		pgt_space_t *sp = (step & 3) == 3 ? &other : &c.sp;
		uint64_t r = test_rand(&seed);
		pgt_vaddr_t va = base + (r % (4 * big)) / page * page;
		uint64_t size = (1 + test_rand(&seed) % 8) * ((r & 1) ? big : page);
		if (va + size > base + root)
			continue;
		unsigned prot = prots[test_rand(&seed) % (sizeof prots / sizeof prots[0])];
		int rc;
		switch (test_rand(&seed) % 3) {
		case 0:
			rc = pgt_map(sp, va & ~(big - 1), va & ~(big - 1), size, prot, PGT_MAP_REPLACE);
			break;
		case 1: rc = pgt_unmap(sp, va, size); break;
		default: rc = pgt_protect(sp, va, size, prot); break;
		}
		ck_assert_msg(rc == PGT_OK, "%s: step %d: %d (%s)", a->name, step, rc, pgt_strerror(rc));
		expect_clean(&c, "range operations");
		ck_assert_int_eq(pgt_verify(&other, NULL, NULL), 0);
	}
	pgt_space_destroy(&other);
	ctx_close(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* One corruption of each class                                              */

struct corruption {
	const struct pgt_arch *a;
	unsigned leaf_level; /* a page of this level is mapped at va */
	unsigned level;      /* the entry on its walk that is corrupted */
	pgt_pte_t set, clear;
	const char *problem;
};

static const struct corruption corruptions[] = {
	/* Leaves where the level allows none: PS in a PML4E/PML5E, a block at ARM's 4K level 0 or 16K
	   level 1. */
	{ &pgt_arch_x86_64, 0, 3, BIT(7), 0, "leaf at a level that allows none" },
	{ &pgt_arch_x86_64_la57, 0, 4, BIT(7), 0, "leaf at a level that allows none" },
	{ &pgt_arch_armv8_4k_48, 0, 3, 0, BIT(1), "leaf at a level that allows none" },
	{ &pgt_arch_armv8_16k_47, 0, 2, 0, BIT(1), "leaf at a level that allows none" },
	/* ... and reserved-leaf marks there: P / bit 0 clear, the software bit set. */
	{ &pgt_arch_x86_64, 0, 3, BIT(9), BIT(0), "leaf at a level that allows none" },
	{ &pgt_arch_armv8_4k_48, 0, 3, BIT(58), BIT(0), "leaf at a level that allows none" },
	/* Undefined encodings: 0b01 at the last level. */
	{ &pgt_arch_armv8_4k_39, 0, 0, 0, BIT(1), "malformed entry" },
	{ &pgt_arch_armv8_64k_42, 0, 0, 0, BIT(1), "malformed entry" },
	/* Reserved bits below the page size: the output address is misaligned. */
	{ &pgt_arch_x86_64, 1, 1, BIT(13), 0, "misaligned output address" },
	{ &pgt_arch_x86_64, 1, 1, BIT(20), 0, "misaligned output address" },
	{ &pgt_arch_x86_64_la57, 2, 2, BIT(29), 0, "misaligned output address" },
	{ &pgt_arch_armv8_4k_48, 1, 1, BIT(17), 0, "misaligned output address" },
	{ &pgt_arch_armv8_64k_42, 1, 1, BIT(28), 0, "misaligned output address" },
	{ &pgt_arch_armv8_16k_47, 0, 0, BIT(13), 0, "misaligned output address" },
	{ &pgt_arch_armv8_16k_47, 0, 1, BIT(12), 0, "misaligned table address" },
	{ &pgt_arch_armv8_64k_42, 0, 1, BIT(15), 0, "misaligned table address" },
	/* Reserved bits above: ARM RES0 [49:48] of leaves, [50:48] of tables. */
	{ &pgt_arch_armv8_4k_39, 0, 0, BIT(48), 0, "reserved bits set in a leaf" },
	{ &pgt_arch_armv8_4k_48, 2, 2, BIT(49), 0, "reserved bits set in a leaf" },
	{ &pgt_arch_armv8_4k_48, 0, 3, BIT(50), 0, "reserved bits set in a table entry" },
	{ &pgt_arch_armv8_16k_47, 0, 1, BIT(48), 0, "reserved bits set in a table entry" },
	/* RISC-V: W without R (table 4.5) and PBMT 3 (table 6.1) in a leaf. */
	{ &pgt_arch_riscv_sv39, 0, 0, 0, BIT(1), "reserved encoding in a leaf" },
	{ &pgt_arch_riscv_sv48, 2, 2, 0, BIT(1), "reserved encoding in a leaf" },
	{ &pgt_arch_riscv_sv57, 0, 0, BIT(61) | BIT(62), 0, "reserved encoding in a leaf" },
	/* ... V alone at level 0 points nowhere (4.3.2 step 4). */
	{ &pgt_arch_riscv_sv39, 0, 0, 0, BIT(1) | BIT(2), "malformed entry" },
	{ &pgt_arch_riscv_sv57, 0, 0, 0, BIT(1) | BIT(2), "malformed entry" },
	/* ... PPN bits below a superpage: PA bit 12 of a 2M page, 20 of a 2M, 29 of a 1G, 38 of a
	   512G (4.3.2 step 6). */
	{ &pgt_arch_riscv_sv39, 1, 1, BIT(10), 0, "misaligned output address" },
	{ &pgt_arch_riscv_sv39, 1, 1, BIT(18), 0, "misaligned output address" },
	{ &pgt_arch_riscv_sv48, 2, 2, BIT(27), 0, "misaligned output address" },
	{ &pgt_arch_riscv_sv57, 3, 3, BIT(36), 0, "misaligned output address" },
	/* ... bits 60:54 (4.4.1) and N (Svnapot absent) in a leaf. */
	{ &pgt_arch_riscv_sv39, 0, 0, BIT(54), 0, "reserved bits set in a leaf" },
	{ &pgt_arch_riscv_sv48, 1, 1, BIT(60), 0, "reserved bits set in a leaf" },
	{ &pgt_arch_riscv_sv57, 0, 0, BIT(63), 0, "reserved bits set in a leaf" },
	/* ... and in a non-leaf entry: bit 54, PBMT, U, A, D (4.3.1; ch. 6). */
	{ &pgt_arch_riscv_sv39, 0, 1, BIT(54), 0, "reserved bits set in a table entry" },
	{ &pgt_arch_riscv_sv48, 0, 3, BIT(61), 0, "reserved bits set in a table entry" },
	{ &pgt_arch_riscv_sv57, 0, 2, BIT(4), 0, "reserved bits set in a table entry" },
	{ &pgt_arch_riscv_sv39, 0, 2, BIT(6), 0, "reserved bits set in a table entry" },
	{ &pgt_arch_riscv_sv48, 0, 1, BIT(7), 0, "reserved bits set in a table entry" },
};

START_TEST(test_each_corruption)
{
	const struct corruption *k = &corruptions[_i];

	for (unsigned flags = 0; flags <= (test_has_upper(k->a) ? PGT_SPACE_UPPER : 0u);
	     flags += PGT_SPACE_UPPER) {
		struct ctx c;
		ctx_open(&c, k->a, flags, TEST_MM_HOOK, true);
		uint64_t size = size_at(c.a, k->leaf_level);
		pgt_vaddr_t va = test_va_top(c.a, flags) - 8 * size_at(c.a, c.a->levels - 1u) + 1 + 5 * size;
		map_page(&c, va, k->leaf_level, 7 * size, R | W);
		expect_clean(&c, "before");
		pgt_pte_t *e = entry_at(&c, va, k->level), saved = *e;
		*e = (*e | k->set) & ~k->clear;
		pgt_vaddr_t at = va & ~(size_at(c.a, k->level) - 1);
		expect_one(&c, k->problem, at, k->level, k->problem);
		*e = saved;
		expect_clean(&c, "after");
		ctx_close(&c);
	}
}
END_TEST

/* A table linked twice from one table, from two tables, and the root linked from below. */
START_TEST(test_reachable_twice)
{
	struct ctx c;
	const struct pgt_arch *a = test_archs[_i];

	ctx_open(&c, a, 0, TEST_MM_HOOK, true);
	unsigned root = a->levels - 1u;
	uint64_t big = size_at(a, 1);
	pgt_vaddr_t va = test_va_bottom(a, 0) + 3 * size_at(a, root) + 2 * big;
	pgt_vaddr_t other = va + 4 * big; /* another entry of the same level-1 table */
	map_page(&c, va, 0, size_at(a, 0), R);
	map_page(&c, va + 8 * size_at(a, 0), 0, size_at(a, 0), R);
	/* The level-1 entry of `va` copied into the slot of `other`: its table is now reached twice. */
	pgt_pte_t *e = entry_at(&c, va, 1), *f = e + 4;
	*f = *e;
	count_follows(&c, va, 1, 1);
	expect_one(&c, "table reachable twice", other, 1, "two entries of one table");
	*f = 0;
	count_follows(&c, va, 1, -1);
	expect_clean(&c, "after");
	/* The same table linked from a level-1 table in another branch. */
	if (root >= 2) {
		pgt_vaddr_t far = va + size_at(a, root);
		map_page(&c, far, 0, size_at(a, 0), R);
		pgt_pte_t *g = entry_at(&c, far, 1), saved = *g;
		*g = *e;
		expect_one(&c, "table reachable twice", far & ~(big - 1), 1, "two branches");
		*g = saved;
		expect_clean(&c, "after");
	}
	/* The root linked from a level-1 entry (a loop). */
	pgt_pte_t saved = *f;
	*f = test_with_table_pa(&a->level[1], *e, pgt_space_root(&c.sp));
	count_follows(&c, va, 1, 1);
	expect_one(&c, "table reachable twice", other, 1, "root linked from below");
	*f = saved;
	count_follows(&c, va, 1, -1);
	expect_clean(&c, "after");
	ctx_close(&c);
}
END_TEST

/**
 * A level-0 leaf with must-be-zero bits set, and the problem verify must
 * report (*problem), for a table the library did not write: ARMv8 page
 * with AF and RES0 bit 48; RISC-V readable page with A and reserved bit 54
 * (4.4.1); EPT readable page of the reserved memory type 2. x86-64 has
 * no reserved bit above a 52-bit address: a plain present page, *problem
 * left NULL.
 */
static pgt_pte_t bad_leaf(const struct pgt_arch *a, const char **problem)
{
	if (strncmp(a->name, "x86_64-ept", 10) == 0) { /* R with memory type 2 (SDM vol. 3C, EPT misconfigurations) */
		*problem = "reserved encoding in a leaf";
		return BIT(0) | BIT(4);
	}
	if (strncmp(a->name, "armv8", 5) == 0) {
		*problem = "reserved bits set in a leaf";
		return a->level[0].leaf_type | BIT(48) | BIT(10);
	}
	if (strncmp(a->name, "riscv", 5) == 0) {
		*problem = "reserved bits set in a leaf";
		return BIT(0) | BIT(1) | BIT(6) | BIT(54);
	}
	return a->level[0].leaf_type | BIT(0);
}

/*
 * A table's count (pgt_level.table_count) one above and one below what the
 * table holds, at every level that keeps one: one problem each, at the
 * entry that keeps it. A format with no room for counts has nothing to check.
 */
START_TEST(test_count_corrupted)
{
	const struct pgt_arch *a = test_archs[_i];
	struct ctx c;

	ctx_open(&c, a, 0, TEST_MM_HOOK, true);
	pgt_vaddr_t va = test_va_bottom(a, 0) + size_at(a, a->levels - 1u);
	map_page(&c, va, 0, 0, R);
	map_page(&c, va + 3 * size_at(a, 0), 0, size_at(a, 0), R);
	expect_clean(&c, "two pages");
	for (unsigned l = 1; l < a->levels; l++) {
		const struct pgt_level *L = &a->level[l];
		if (!L->table_count)
			continue;
		pgt_pte_t *e = entry_at(&c, va, l), saved = *e;
		uint64_t n = test_count_get(L, saved);
		pgt_vaddr_t at = va & ~(size_at(a, l) - 1);
		*e = test_count_set(L, saved, n + 1);
		expect_one(&c, "table count differs from the table's used entries", at, l, "count one above");
		*e = test_count_set(L, saved, n - 1);
		expect_one(&c, "table count differs from the table's used entries", at, l, "count one below");
		*e = saved & ~L->table_count;
		expect_one(&c, "table count differs from the table's used entries", at, l, "count cleared");
		*e = saved;
		expect_clean(&c, "count restored");
	}
	ctx_close(&c);
}
END_TEST

/* A shared root entry (pgt_share) keeps no count: bits set there are a problem of their own. */
START_TEST(test_count_in_shared_entry)
{
	const struct pgt_arch *a = test_archs[_i];
	unsigned root = a->levels - 1u;
	const struct pgt_level *top = &a->level[root];
	struct ctx c;
	pgt_space_t other;

	if (!top->table_count || !top->table_pinned)
		return;
	ctx_open(&c, a, 0, TEST_MM_HOOK, true);
	ck_assert_int_eq(pgt_space_init(&other, a, &c.t.mm, 0), PGT_OK);
	pgt_vaddr_t va = test_va_bottom(a, 0) + size_at(a, root);
	map_page(&c, va, 0, 0, R);
	ck_assert_int_eq(pgt_share(&other, &c.sp, va, size_at(a, root)), PGT_OK);
	pgt_pte_t *e = entry_at(&c, va, root);
	ck_assert_msg((*e & top->table_pinned) && !(*e & top->table_count), "%s: pinned entry %#llx keeps a count",
		      a->name, (unsigned long long)*e);
	expect_clean(&c, "shared");
	*e |= top->table_count & -top->table_count;
	expect_one(&c, "count bits set in a shared table entry", va, root, "shared entry counted");
	*e &= ~top->table_count;
	expect_clean(&c, "restored");
	ck_assert_int_eq(pgt_verify(&other, NULL, NULL), 0);
	pgt_space_destroy(&other);
	ctx_close(&c);
}
END_TEST

/* A table that is not a frame of the allocator, linked by hand; borrowed links are exempt. */
START_TEST(test_foreign_table)
{
	const struct pgt_arch *a = test_archs[_i];

	for (int hook = 0; hook < 2; hook++) {
		struct ctx c;
		ctx_open(&c, a, 0, TEST_MM_OFFSET, hook);
		unsigned root = a->levels - 1u;
		pgt_vaddr_t va = test_va_bottom(a, 0) + size_at(a, root);
		map_page(&c, va, 0, size_at(a, 0), R);
		/* A level-0 table from outside the allocator, cleared: linked from the level-1 entry next
		 * door. */
		size_t bytes = a->level[0].table_size;
		void *foreign = NULL;
		ck_assert_int_eq(posix_memalign(&foreign, bytes, bytes), 0);
		memset(foreign, 0, bytes);
		pgt_pte_t *e = entry_at(&c, va, 1), *f = e + 1;
		/* empty, so it counts no entry */
		*f = test_with_table_pa(&a->level[1], *e, (pgt_paddr_t)(uintptr_t)foreign) & ~a->level[1].table_count;
		count_follows(&c, va, 1, 1);
		pgt_vaddr_t at = va + size_at(a, 1);
		if (hook)
			expect_one(&c, "table not a frame of the allocator", at, 1, "foreign table");
		else
			expect_clean(&c, "no owns_table hook");
		/* Marked borrowed, ownership is not asked, but its entries are still checked. */
		*f |= a->level[1].table_borrowed;
		expect_clean(&c, "borrowed foreign table");
		pgt_pte_t *inner = foreign;
		const char *problem = NULL;
		inner[3] = bad_leaf(a, &problem);
		if (problem)
			expect_one(&c, problem, at + 3 * size_at(a, 0), 0, "inside a borrowed table");
		else
			expect_clean(&c, "a good leaf inside a borrowed table");
		*f = 0;
		count_follows(&c, va, 1, -1);
		expect_clean(&c, "unlinked");
		free(foreign);
		ctx_close(&c);
	}
}
END_TEST

/* The root itself not the allocator's: one problem, nothing else read. */
START_TEST(test_foreign_root)
{
	struct ctx c;

	ctx_open(&c, &pgt_arch_x86_64, 0, TEST_MM_OFFSET, true);
	map_page(&c, 0x1000, 0, 0x1000, R);
	own_none = true;
	expect_one(&c, "root table not a frame of the allocator", 0, 3, "root");
	own_none = false;
	expect_clean(&c, "owned again");
	ctx_close(&c);
}
END_TEST

/* An output address beyond the physical width: a descriptor with a narrower one. */
START_TEST(test_beyond_physical_width)
{
	static struct pgt_arch narrow;
	struct ctx c;

	narrow = pgt_arch_x86_64;
	narrow.name = "x86_64-40bit";
	narrow.pa_bits = 40;
	ctx_open(&c, &narrow, 0, TEST_MM_OFFSET, true);
	map_page(&c, 0x200000, 1, 1ull << 45, R);
	expect_one(&c, "output address beyond the physical width", 0x200000, 1, "pa bit 45 of 40");
	ctx_close(&c);
}
END_TEST

/* A p2v hook that cannot reach a table. */
START_TEST(test_p2v_null)
{
	struct ctx c;
	const struct pgt_arch *a = test_archs[_i];

	ctx_open(&c, a, 0, TEST_MM_HOOK, true);
	pgt_vaddr_t va = test_va_bottom(a, 0) + 2 * size_at(a, a->levels - 1u);
	map_page(&c, va, 0, size_at(a, 0), R);
	c.t.p2v_null = true;
	expect_one(&c, "table not reachable through p2v", va, a->levels - 1u, "p2v NULL");
	c.t.p2v_null = false;
	expect_clean(&c, "p2v back");
	ctx_close(&c);
}
END_TEST

/* Several problems at once are all counted. */
START_TEST(test_many_problems)
{
	struct ctx c;

	ctx_open(&c, &pgt_arch_armv8_4k_48, 0, TEST_MM_HOOK, true);
	map_page(&c, 0x40000000, 1, 0x200000, R);
	map_page(&c, 0x80000000, 1, 0x400000, R);
	map_page(&c, 0x1000, 0, 0x1000, R);
	*entry_at(&c, 0x40000000, 1) |= BIT(18);  /* misaligned */
	*entry_at(&c, 0x80000000, 1) |= BIT(48);  /* reserved */
	*entry_at(&c, 0x1000, 0) &= ~BIT(1);      /* malformed */
	*(entry_at(&c, 0x1000, 3) + 7) = BIT(58); /* reserved mark at level 3 */
	struct report r = { 0 };
	ck_assert_int_eq(pgt_verify(&c.sp, keep, &r), 4);
	ck_assert_int_eq(r.n, 4);
	/* In address order: 0x1000, 0x40000000, 0x80000000, then entry 7 of the root. */
	ck_assert_uint_eq(r.va[0], 0x1000);
	ck_assert_uint_eq(r.va[1], 0x40000000);
	ck_assert_uint_eq(r.va[2], 0x80000000);
	ck_assert_uint_eq(r.va[3], 7ull << 39);
	ctx_close(&c);
}
END_TEST

START_TEST(test_bad_input)
{
	pgt_space_t blank = { 0 };
	struct report r = { 0 };

	ck_assert_int_eq(pgt_verify(NULL, keep, &r), PGT_EINVAL);
	ck_assert_int_eq(pgt_verify(&blank, keep, &r), PGT_EINVAL);
	ck_assert_int_eq(r.n, 0);
}
END_TEST

/*
 * A table-shaped entry pointing at memory that is not there (the bottom of
 * the address space, never mapped in a process): with the owns_table hook,
 * verify reports the frame without reading it, also when an earlier link
 * points there (the duplicate scan asks first too); with must-be-zero bits
 * set in the entry, it is reported and not followed, hook or not.
 */
START_TEST(test_stray_link_not_followed)
{
	const struct pgt_arch *a = test_archs[_i];
	/* a level-0 table's worth above 0, and twice that: below where a process maps anything */
	pgt_paddr_t stray = a->level[0].table_size, stray2 = 2 * stray;

	for (int hook = 1; hook >= 0; hook--) {
		struct ctx c;
		ctx_open(&c, a, 0, TEST_MM_OFFSET, hook);
		pgt_vaddr_t va = test_va_bottom(a, 0) + size_at(a, a->levels - 1u);
		map_page(&c, va, 0, 0, R);
		pgt_pte_t *e = entry_at(&c, va, 1), saved[2] = { e[1], e[2] };
		pgt_pte_t link = test_with_table_pa(&a->level[1], *e, stray);
		pgt_pte_t mbz = a->level[1].table_mbz & ~(pgt_pte_t)(a->level[0].table_size - 1);
		if (hook) {
			e[1] = link;
			/* its dup scan must not read e[1] */
			e[2] = test_with_table_pa(&a->level[1], link, stray2);
			count_follows(&c, va, 1, 2);
			struct report r = { 0 };
			ck_assert_int_eq(pgt_verify(&c.sp, keep, &r), 2);
			ck_assert_str_eq(r.what[0], "table not a frame of the allocator");
			ck_assert_str_eq(r.what[1], "table not a frame of the allocator");
			count_follows(&c, va, 1, -2);
		} else if (mbz) {
			e[1] = link | (mbz & -mbz);
			count_follows(&c, va, 1, 1);
			expect_one(&c, "reserved bits set in a table entry", va + size_at(a, 1), 1, "stray, malformed");
			count_follows(&c, va, 1, -1);
		}
		e[1] = saved[0];
		e[2] = saved[1];
		expect_clean(&c, "restored");
		ctx_close(&c);
	}
}
END_TEST

static Suite *verify_suite(void)
{
	Suite *s = suite_create("verify");
	int na = (int)test_narchs;
	TCase *tc;

	tc = tcase_create("clean");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_clean_random_trees, 0, na);
	tcase_add_loop_test(tc, test_clean_after_range_ops, 0, na);
	suite_add_tcase(s, tc);

	tc = tcase_create("corruptions");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_each_corruption, 0, (int)(sizeof corruptions / sizeof corruptions[0]));
	tcase_add_loop_test(tc, test_reachable_twice, 0, na);
	tcase_add_loop_test(tc, test_foreign_table, 0, na);
	tcase_add_loop_test(tc, test_count_corrupted, 0, na);
	tcase_add_loop_test(tc, test_count_in_shared_entry, 0, na);
	tcase_add_loop_test(tc, test_stray_link_not_followed, 0, na);
	tcase_add_test(tc, test_foreign_root);
	tcase_add_test(tc, test_beyond_physical_width);
	tcase_add_loop_test(tc, test_p2v_null, 0, na);
	tcase_add_test(tc, test_many_problems);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = test_run_suite(verify_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
