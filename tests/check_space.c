/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the life of a space (lib/space.c, lib/strerror.c,
 * arch/registry.c): pgt_space_init/destroy/root, pgt_arch_by_name and
 * pgt_strerror.
 *
 * Covers: every bad argument of pgt_space_init with its exact status and
 * nothing allocated or leaked; the allocator failing, returning a misaligned
 * frame or a frame p2v cannot reach (at init and later on insert/lookup);
 * operations on uninitialised and destroyed spaces; root alignment and
 * ownership; new tables handed over full of garbage and cleared by the
 * library; destroy freeing every table exactly once, the root last;
 * several spaces on different descriptors side by side; PGT_SPACE_LINKS
 * doubling every table allocation. Every test ends with the harness books
 * balanced (nothing outstanding, no bad free).
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* --- small helpers ------------------------------------------------------------ */

static const char *mode_name(enum test_mm_mode m)
{
	return m == TEST_MM_HOOK ? "hook" : "offset";
}

/** Asserts a status, naming what was tried. */
static void expect_rc(int got, int want, const char *who, const char *what)
{
	ck_assert_msg(got == want, "%s: %s: got %d (%s), want %d (%s)", who, what, got, pgt_strerror(got),
		      want, pgt_strerror(want));
}

/** Nothing outstanding, every free matched an allocation; then releases the books. */
static void books_balanced(struct test_mm *t, const char *who)
{
	ck_assert_msg(test_mm_outstanding(t) == 0, "%s: %zu frames still outstanding", who,
		      test_mm_outstanding(t));
	ck_assert_msg(t->errors == 0, "%s: %ld bad frees", who, t->errors);
	ck_assert_msg(t->allocs == t->frees, "%s: %ld allocs but %ld frees", who, t->allocs, t->frees);
	test_mm_fini(t);
}

/** The harness frame with physical address @p pa, or NULL. */
static const struct test_frame *frame_of(const struct test_mm *t, pgt_paddr_t pa)
{
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].mem && t->slots[i].pa == pa)
			return &t->slots[i];
	return NULL;
}

/** Bytes a table at @p level should take in a space with @p flags. */
static size_t table_bytes(const struct pgt_arch *a, unsigned level, unsigned flags)
{
	size_t size = a->level[level].table_size;
	return (flags & PGT_SPACE_LINKS) ? 2 * size : size;
}

/** Are all @p n bytes at @p p zero? */
static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/** The smallest page shift of @p a (level 0 always holds leaves). */
static unsigned small_shift(const struct pgt_arch *a)
{
	return a->level[0].shift;
}

/** A page-aligned address a quarter into the space's range, at every page size. */
static pgt_vaddr_t some_va(const struct pgt_arch *a, unsigned flags)
{
	unsigned span = a->canon == PGT_CANON_SIGN_EXTEND ? a->va_bits - 1u : a->va_bits;
	return test_va_bottom(a, flags) + (1ull << (span - 2));
}

/** Flag sets worth trying on @p a: UPPER only where the descriptor has halves. */
static unsigned flag_sets(const struct pgt_arch *a, unsigned out[4])
{
	unsigned n = 0;
	out[n++] = 0;
	out[n++] = PGT_SPACE_LINKS;
	if (test_has_upper(a)) {
		out[n++] = PGT_SPACE_UPPER;
		out[n++] = PGT_SPACE_UPPER | PGT_SPACE_LINKS;
	}
	return n;
}

/* A reserved-looking entry outside any space, for refs into spaces that are not there. */
static pgt_ref_t fake_ref(pgt_pte_t *cell)
{
	*cell = (pgt_pte_t)1 << 9 | (pgt_pte_t)1 << 58;
	return (pgt_ref_t){ .pte = cell, .level = 0, .page_shift = 12 };
}

/** Every operation on a space that is not initialised is PGT_EINVAL and writes nothing. */
static void expect_dead_space(pgt_space_t *sp, const char *who)
{
	pgt_pte_t cell;
	pgt_ref_t ref = fake_ref(&cell), out = { 0 };
	pgt_pte_t before = cell;
	uint64_t val = 77;
	uintptr_t node = 77;

	ck_assert_msg(pgt_space_root(sp) == PGT_PADDR_NONE, "%s: root of a dead space is not PGT_PADDR_NONE",
		      who);
	expect_rc(pgt_insert(sp, 0, 12, &out), PGT_EINVAL, who, "insert");
	expect_rc(pgt_lookup(sp, 0, &out), PGT_EINVAL, who, "lookup");
	expect_rc(pgt_get_field(sp, ref, PGT_FIELD_PADDR, &val), PGT_EINVAL, who, "get_field");
	expect_rc(pgt_set_field(sp, ref, PGT_FIELD_READ, 1), PGT_EINVAL, who, "set_field");
	expect_rc(pgt_set_link(sp, ref, 5, 0), PGT_EINVAL, who, "set_link");
	expect_rc(pgt_get_link(sp, ref, 0, &node), PGT_EINVAL, who, "get_link");
	ck_assert_msg(cell == before, "%s: an operation on a dead space wrote the entry", who);
}

/* --- pgt_arch_by_name -------------------------------------------------------- */

START_TEST(test_arch_by_name_shipped)
{
	static const struct {
		const char *name;
		const struct pgt_arch *arch;
	} want[] = {
		{ "x86_64", &pgt_arch_x86_64 },
		{ "x86_64-la57", &pgt_arch_x86_64_la57 },
		{ "x86_64-ept", &pgt_arch_x86_64_ept },
		{ "x86_64-ept5", &pgt_arch_x86_64_ept5 },
		{ "armv8-4k-39", &pgt_arch_armv8_4k_39 },
		{ "armv8-4k-48", &pgt_arch_armv8_4k_48 },
		{ "armv8-16k-47", &pgt_arch_armv8_16k_47 },
		{ "armv8-64k-42", &pgt_arch_armv8_64k_42 },
		{ "riscv-sv39", &pgt_arch_riscv_sv39 },
		{ "riscv-sv48", &pgt_arch_riscv_sv48 },
		{ "riscv-sv57", &pgt_arch_riscv_sv57 },
		{ "armv8-s2-4k-40", &pgt_arch_armv8_s2_4k_40 },
		{ "armv8-s2-4k-48", &pgt_arch_armv8_s2_4k_48 },
		{ "armv8-s2-16k-40", &pgt_arch_armv8_s2_16k_40 },
		{ "armv8-s2-64k-42", &pgt_arch_armv8_s2_64k_42 },
		{ "riscv-sv39x4", &pgt_arch_riscv_sv39x4 },
		{ "riscv-sv48x4", &pgt_arch_riscv_sv48x4 },
		{ "riscv-sv57x4", &pgt_arch_riscv_sv57x4 },
	};

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct pgt_arch *a = pgt_arch_by_name(want[i].name);
		ck_assert_msg(a == want[i].arch, "pgt_arch_by_name(\"%s\") gave the wrong descriptor",
			      want[i].name);
		ck_assert_msg(strcmp(a->name, want[i].name) == 0, "descriptor \"%s\" calls itself \"%s\"",
			      want[i].name, a->name);
	}
	/* and every descriptor the harness loops over is reachable by its own name */
	for (size_t i = 0; i < test_narchs; i++)
		ck_assert_msg(pgt_arch_by_name(test_archs[i]->name) == test_archs[i],
			      "%s not found by its name", test_archs[i]->name);
}
END_TEST

START_TEST(test_arch_by_name_unknown)
{
	static const char *const bad[] = {
		"",           "x86",          "x86-64",       "X86_64",       "x86_64 ",
		" x86_64",    "x86_64-la5",   "x86_64-la57x", "armv8",        "armv8-4k",
		"armv8-4k-4", "armv8-4k-480", "ARMV8-4K-48",  "armv8-16k-48", "aarch64",
		"riscv",      "riscv-sv",     "riscv-sv3",    "riscv-sv32",   "riscv-sv64",
		"RISCV-SV39", "riscv_sv39",   "riscv-sv39 ",  "sv39",         "riscv-sv390",
		"x86_64-ept4", "x86_64_ept",  "ept",          "x86_64-EPT",   "x86_64-ept57",
		"armv8-s2",   "armv8-s2-4k",  "armv8-s2-4k-39", "armv8-s2-16k-47", "ARMV8-S2-4K-40",
		"riscv-sv39x", "riscv-sv39x8", "riscv-sv32x4", "sv39x4",      "RISCV-SV39X4",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(pgt_arch_by_name(bad[i]) == NULL, "pgt_arch_by_name(\"%s\") is not NULL",
			      bad[i]);
	ck_assert_msg(pgt_arch_by_name(NULL) == NULL, "pgt_arch_by_name(NULL) is not NULL");
}
END_TEST

/* --- pgt_strerror ------------------------------------------------------------- */

static const int known_codes[] = { PGT_OK,     PGT_EXISTS, PGT_ENOENT,  PGT_ECONFLICT,
				   PGT_ENOMEM, PGT_EINVAL, PGT_ENOTSUP, PGT_EFAULT };
#define NKNOWN (sizeof known_codes / sizeof known_codes[0])

START_TEST(test_strerror_distinct)
{
	for (size_t i = 0; i < NKNOWN; i++) {
		const char *s = pgt_strerror(known_codes[i]);
		ck_assert_msg(s != NULL && s[0] != '\0', "pgt_strerror(%d) is NULL or empty", known_codes[i]);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(strcmp(s, pgt_strerror(known_codes[j])) != 0,
				      "pgt_strerror(%d) and pgt_strerror(%d) are both \"%s\"", known_codes[i],
				      known_codes[j], s);
	}
}
END_TEST

START_TEST(test_strerror_unknown)
{
	static const int unknown[] = { 2, 3, -7, -8, 100, -100, INT_MAX, INT_MIN };

	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		const char *s = pgt_strerror(unknown[i]);
		ck_assert_msg(s != NULL && s[0] != '\0', "pgt_strerror(%d) is NULL or empty", unknown[i]);
		for (size_t j = 0; j < NKNOWN; j++)
			ck_assert_msg(strcmp(s, pgt_strerror(known_codes[j])) != 0,
				      "unknown code %d described as code %d (\"%s\")", unknown[i],
				      known_codes[j], s);
	}
}
END_TEST

/* --- init: good input -------------------------------------------------------- */

/* The root is one frame of the right size, aligned to it, at the root level, and cleared. */
START_TEST(test_init_root)
{
	const struct pgt_arch *a = test_archs[_i];
	unsigned fl[4], nfl = flag_sets(a, fl);
	unsigned root_level = a->levels - 1u;

	for (int m = 0; m < 2; m++)
		for (unsigned k = 0; k < nfl; k++) {
			char who[96];
			struct test_mm t;
			pgt_space_t sp;
			size_t bytes = table_bytes(a, root_level, fl[k]);

			snprintf(who, sizeof who, "%s %s flags %u", a->name, mode_name((enum test_mm_mode)m),
				 fl[k]);
			test_mm_init(&t, (enum test_mm_mode)m);
			expect_rc(pgt_space_init(&sp, a, &t.mm, fl[k]), PGT_OK, who, "init");
			pgt_paddr_t root = pgt_space_root(&sp);
			ck_assert_msg(root != PGT_PADDR_NONE, "%s: no root", who);
			ck_assert_msg(root % bytes == 0, "%s: root %#llx not aligned to %zu", who,
				      (unsigned long long)root, bytes);
			ck_assert_msg(pgt_space_root(&sp) == root, "%s: root changes between calls", who);
			ck_assert_msg(t.allocs == 1 && t.attempts == 1, "%s: init made %ld allocations", who,
				      t.allocs);
			ck_assert_msg(test_mm_owns(&t, root, root_level), "%s: root is not a level-%u frame",
				      who, root_level);
			const struct test_frame *f = frame_of(&t, root);
			ck_assert_msg(f && f->size == bytes, "%s: root frame is %zu bytes, want %zu", who,
				      f ? f->size : 0, bytes);
			/* the allocator filled it with 0xa5: all of it, link half included, must be 0 */
			ck_assert_msg(all_zero(test_mm_p2v(&t, root), bytes), "%s: root not cleared", who);
			struct tree_stats st = tree_check(&sp, a, &t);
			ck_assert_msg(
				st.problems == 0 && st.tables == 1 && st.leaves == 0 && st.reserved == 0,
				"%s: fresh tree has %zu problems, %zu tables", who, st.problems, st.tables);
			pgt_space_destroy(&sp);
			ck_assert_msg(t.frees == 1, "%s: destroy made %ld frees", who, t.frees);
			ck_assert_msg(pgt_space_root(&sp) == PGT_PADDR_NONE, "%s: root after destroy", who);
			books_balanced(&t, who);
		}
}
END_TEST

/* --- init: bad input ---------------------------------------------------------- */

START_TEST(test_init_null_args)
{
	const struct pgt_arch *a = test_archs[_i];
	const char *who = a->name;
	struct test_mm t;
	pgt_space_t sp;
	struct pgt_mm mm;

	test_mm_init(&t, TEST_MM_OFFSET);
	memset(&sp, 0, sizeof sp);
	expect_rc(pgt_space_init(NULL, a, &t.mm, 0), PGT_EINVAL, who, "NULL sp");
	expect_rc(pgt_space_init(&sp, NULL, &t.mm, 0), PGT_EINVAL, who, "NULL arch");
	expect_rc(pgt_space_init(&sp, a, NULL, 0), PGT_EINVAL, who, "NULL mm");
	mm = t.mm;
	mm.alloc_table = NULL;
	expect_rc(pgt_space_init(&sp, a, &mm, 0), PGT_ENOHOOK, who, "NULL alloc_table");
	mm = t.mm;
	mm.free_table = NULL;
	expect_rc(pgt_space_init(&sp, a, &mm, 0), PGT_ENOHOOK, who, "NULL free_table");
	mm = t.mm;
	mm.alloc_table = NULL;
	mm.free_table = NULL;
	expect_rc(pgt_space_init(&sp, a, &mm, PGT_SPACE_LINKS), PGT_ENOHOOK, who, "NULL both hooks");
	ck_assert_msg(t.attempts == 0, "%s: bad arguments reached the allocator", who);
	expect_dead_space(&sp, who);
	pgt_space_destroy(&sp);
	pgt_space_destroy(NULL);
	ck_assert_msg(pgt_space_root(NULL) == PGT_PADDR_NONE, "pgt_space_root(NULL)");
	books_balanced(&t, who);
}
END_TEST

START_TEST(test_init_bad_flags)
{
	const struct pgt_arch *a = test_archs[_i];
	static const unsigned bad[] = {
		4, 8, 0x100, 0x80000000u, ~0u, PGT_SPACE_LINKS | 4, PGT_SPACE_UPPER | 16
	};
	struct test_mm t;
	pgt_space_t sp;
	char who[96];

	test_mm_init(&t, TEST_MM_OFFSET);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(who, sizeof who, "%s flags %#x", a->name, bad[i]);
		memset(&sp, 0, sizeof sp);
		expect_rc(pgt_space_init(&sp, a, &t.mm, bad[i]), PGT_EFLAGS, who, "init");
		expect_dead_space(&sp, who);
	}
	if (!test_has_upper(a)) {
		/* x86-64 and RISC-V have no TTBR1 half (one sign-extended range), a second stage none at all */
		snprintf(who, sizeof who, "%s PGT_SPACE_UPPER", a->name);
		memset(&sp, 0, sizeof sp);
		expect_rc(pgt_space_init(&sp, a, &t.mm, PGT_SPACE_UPPER), PGT_EFLAGS, who, "init");
		expect_rc(pgt_space_init(&sp, a, &t.mm, PGT_SPACE_UPPER | PGT_SPACE_LINKS), PGT_EFLAGS, who,
			  "init with LINKS");
		expect_dead_space(&sp, who);
	}
	ck_assert_msg(t.attempts == 0, "%s: bad flags reached the allocator", a->name);
	books_balanced(&t, a->name);
}
END_TEST

/* A descriptor the engine cannot walk is refused before anything is allocated. */
START_TEST(test_init_bad_descriptor)
{
	const struct pgt_arch *a = test_archs[_i];
	struct test_mm t;
	pgt_space_t sp;
	struct pgt_arch bad;
	char who[96];

	test_mm_init(&t, TEST_MM_OFFSET);
	unsigned top = a->levels - 1u;
	for (int k = 0; k < 18; k++) {
		bad = *a;
		switch (k) {
		case 0: bad.levels = 0; break;
		case 1: bad.levels = PGT_MAX_LEVELS + 1; break;
		case 2: bad.va_bits = (uint8_t)(a->va_bits + 1); break;
		case 3: bad.prot_encode = NULL; break;
		case 4: bad.prot_decode = NULL; break;
		case 5: bad.level[0].leaf_ok = 0; break;
		case 6: bad.stage = 3; break;                           /* contract v2: 1 or 2 */
		case 7: bad.pgt__room[3] = 1; break;                    /* room for later versions: zero */
		case 8: bad.level[0].oa_shift = 17; break;              /* beyond any format */
		case 9: bad.level[0].reserved = bad.level[0].valid; break; /* a reserved leaf must not be present */
		case 10: bad.level[top].table_rules[0] =                 /* the library's table entries restrict */
			(struct pgt_rule){ 0, 0, PGT_RIGHT_PW };
			break;
		case 11: bad.level[top].table_mbz |= bad.level[top].table_attrs | bad.level[top].table_type; break;
		case 12: /* tables taken for leaves (EPT: table_type 0, a table entry is its R|W|X) */
			bad.level[top].leaf_any = bad.level[top].table_type | bad.level[top].table_attrs;
			break;
		/* table counts: not at level 0, at most three runs, wide enough, on ignored bits only */
		case 14: bad.level[0].table_count = ((pgt_pte_t)1 << 60); break;
		case 15: bad.level[top].table_count = 0x7ffull << 52 & ~(0x49ull << 54); break; /* four runs */
		case 16: bad.level[top].table_count = ((pgt_pte_t)1 << 54); break;
		case 17: bad.level[top].table_count = bad.level[top].table_oa; break;
		default: bad.level[0].table_size *= 2; break;
		}
		snprintf(who, sizeof who, "%s broken in way %d", a->name, k);
		expect_rc(pgt_space_init(&sp, &bad, &t.mm, 0), PGT_EINVAL, who, "init");
	}
	ck_assert_msg(t.attempts == 0, "%s: a malformed descriptor reached the allocator", a->name);
	books_balanced(&t, a->name);
}
END_TEST

/*
 * A count field (pgt_level.table_count) may be split in up to three runs of
 * bits when together they hold a full table's count; x86-64's table
 * entries ignore bits 6, 8 and 61:52 besides its own count's.
 */
START_TEST(test_count_field_runs)
{
	static const struct {
		pgt_pte_t count;
		int rc;
		const char *what;
	} cases[] = {
		{ 0x100ull | 0x3feull << 52, PGT_OK, "two runs, 10 bits" },
		{ 0x140ull | 0xffull << 54, PGT_OK, "three runs, 10 bits" },
		{ 0x140ull | 0xfull << 52 | 0x1full << 57, PGT_EINVAL, "four runs, 11 bits" },
		{ 0x100ull | 0xffull << 54, PGT_EINVAL, "two runs, 9 bits: 511 < 512" },
		{ 0x800ull | 0x1ffull << 53, PGT_EINVAL, "two runs, one on the pinned mark (bit 11)" },
	};
	struct test_mm t;

	test_mm_init(&t, TEST_MM_OFFSET);
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct pgt_arch a = pgt_arch_x86_64;
		pgt_space_t sp;
		for (unsigned l = 1; l < a.levels; l++)
			a.level[l].table_count = cases[k].count;
		expect_rc(pgt_space_init(&sp, &a, &t.mm, 0), cases[k].rc, "x86_64 copy", cases[k].what);
		if (cases[k].rc == PGT_OK)
			pgt_space_destroy(&sp);
	}
	books_balanced(&t, "count field runs");
}
END_TEST

START_TEST(test_init_enomem)
{
	const struct pgt_arch *a = test_archs[_i];
	unsigned fl[4], nfl = flag_sets(a, fl);

	for (int m = 0; m < 2; m++)
		for (unsigned k = 0; k < nfl; k++) {
			char who[96];
			struct test_mm t;
			pgt_space_t sp;

			snprintf(who, sizeof who, "%s %s flags %u", a->name, mode_name((enum test_mm_mode)m),
				 fl[k]);
			test_mm_init(&t, (enum test_mm_mode)m);
			t.fail_at = 1;
			memset(&sp, 0, sizeof sp);
			expect_rc(pgt_space_init(&sp, a, &t.mm, fl[k]), PGT_ENOMEM, who, "init, alloc fails");
			ck_assert_msg(t.attempts == 1 && t.allocs == 0 && t.frees == 0,
				      "%s: %ld attempts, %ld allocs, %ld frees", who, t.attempts, t.allocs,
				      t.frees);
			expect_dead_space(&sp, who);
			/* the same storage works once the allocator recovers */
			t.fail_at = 0;
			expect_rc(pgt_space_init(&sp, a, &t.mm, fl[k]), PGT_OK, who, "init after recovery");
			pgt_space_destroy(&sp);
			books_balanced(&t, who);
		}
}
END_TEST

/* Frames the tables cannot use are refused and given back, at init and at insert. */
START_TEST(test_init_misaligned)
{
	const struct pgt_arch *a = test_archs[_i];
	unsigned root_level = a->levels - 1u;

	for (int m = 0; m < 2; m++)
		for (unsigned links = 0; links <= PGT_SPACE_LINKS; links += PGT_SPACE_LINKS) {
			size_t bytes = table_bytes(a, root_level, links);
			const pgt_paddr_t offs[] = { 8, 0x800, bytes / 2, (pgt_paddr_t)1 << a->pa_bits };
			char who[128];
			struct test_mm t;
			pgt_space_t sp;

			for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
				snprintf(who, sizeof who, "%s %s links %u, frame off by %#llx", a->name,
					 mode_name((enum test_mm_mode)m), links, (unsigned long long)offs[i]);
				test_mm_init(&t, (enum test_mm_mode)m);
				t.misalign = offs[i];
				memset(&sp, 0, sizeof sp);
				expect_rc(pgt_space_init(&sp, a, &t.mm, links), PGT_EHOOK, who, "init");
				ck_assert_msg(t.allocs == 1 && t.frees == 1,
					      "%s: frame not given back (%ld allocs, %ld frees)", who,
					      t.allocs, t.frees);
				expect_dead_space(&sp, who);
				books_balanced(&t, who);
			}

			/* later: the space is fine, the allocator goes bad for an insert */
			snprintf(who, sizeof who, "%s %s links %u, insert", a->name,
				 mode_name((enum test_mm_mode)m), links);
			test_mm_init(&t, (enum test_mm_mode)m);
			expect_rc(pgt_space_init(&sp, a, &t.mm, links), PGT_OK, who, "init");
			pgt_vaddr_t va = some_va(a, 0);
			size_t n;
			pgt_pte_t *snap = tree_snapshot(&sp, a, &t, &n);
			t.misalign = 8;
			expect_rc(pgt_insert(&sp, va, small_shift(a), NULL), PGT_EHOOK, who,
				  "insert, misaligned frame");
			ck_assert_msg(test_mm_outstanding(&t) == 1,
				      "%s: %zu frames outstanding after failed insert", who,
				      test_mm_outstanding(&t));
			ck_assert_msg(t.allocs == t.frees + 1, "%s: frame not given back", who);
			ck_assert_msg(tree_unchanged(&sp, a, &t, snap, n),
				      "%s: failed insert changed the tree", who);
			expect_rc(pgt_lookup(&sp, va, NULL), PGT_ENOENT, who, "lookup after failed insert");
			t.misalign = 0;
			expect_rc(pgt_insert(&sp, va, small_shift(a), NULL), PGT_OK, who,
				  "insert after recovery");
			pgt_space_destroy(&sp);
			books_balanced(&t, who);
		}
}
END_TEST

START_TEST(test_init_p2v_null)
{
	const struct pgt_arch *a = test_archs[_i];

	for (unsigned links = 0; links <= PGT_SPACE_LINKS; links += PGT_SPACE_LINKS) {
		char who[96];
		struct test_mm t;
		pgt_space_t sp;

		snprintf(who, sizeof who, "%s hook links %u, p2v NULL", a->name, links);
		test_mm_init(&t, TEST_MM_HOOK);
		t.p2v_null = true;
		memset(&sp, 0, sizeof sp);
		expect_rc(pgt_space_init(&sp, a, &t.mm, links), PGT_EHOOK, who, "init");
		ck_assert_msg(t.p2v_calls > 0, "%s: p2v hook never asked", who);
		ck_assert_msg(t.allocs == 1 && t.frees == 1,
			      "%s: frame not given back (%ld allocs, %ld frees)", who, t.allocs, t.frees);
		expect_dead_space(&sp, who);
		books_balanced(&t, who);
	}
}
END_TEST

/* A space whose p2v hook starts failing: walks that need it fail cleanly. */
START_TEST(test_p2v_fails_later)
{
	const struct pgt_arch *a = test_archs[_i];
	unsigned s = small_shift(a);
	char who[96];
	struct test_mm t;
	pgt_space_t sp;
	size_t n;

	snprintf(who, sizeof who, "%s hook, p2v fails later", a->name);
	test_mm_init(&t, TEST_MM_HOOK);
	expect_rc(pgt_space_init(&sp, a, &t.mm, 0), PGT_OK, who, "init");
	pgt_vaddr_t va = some_va(a, 0);
	/* another root slot: an insert there must allocate a fresh branch */
	pgt_vaddr_t far = va + (1ull << a->level[a->levels - 1u].shift);
	expect_rc(pgt_insert(&sp, va, s, NULL), PGT_OK, who, "insert");
	long allocs = t.allocs;
	pgt_pte_t *snap = tree_snapshot(&sp, a, &t, &n);

	t.p2v_null = true;
	expect_rc(pgt_lookup(&sp, va, NULL), PGT_EHOOK, who, "lookup through a table");
	expect_rc(pgt_insert(&sp, va + (1ull << s), s, NULL), PGT_EHOOK, who, "insert beside");
	expect_rc(pgt_insert(&sp, far, s, NULL), PGT_EHOOK, who, "insert needing new tables");
	ck_assert_msg(t.allocs - allocs == t.frees, "%s: tables of the failed insert not given back", who);
	t.p2v_null = false;
	ck_assert_msg(tree_unchanged(&sp, a, &t, snap, n), "%s: failed operations changed the tree", who);
	ck_assert_msg(test_mm_outstanding(&t) == (size_t)allocs, "%s: outstanding frames changed", who);
	expect_rc(pgt_lookup(&sp, va, NULL), PGT_OK, who, "lookup after recovery");
	expect_rc(pgt_lookup(&sp, far, NULL), PGT_ENOENT, who, "lookup of the failed insert");
	pgt_space_destroy(&sp);
	books_balanced(&t, who);
}
END_TEST

/* --- dead spaces ------------------------------------------------------------- */

START_TEST(test_uninitialised_space)
{
	static const unsigned char fills[] = { 0x00, 0xa5, 0xff };
	pgt_space_t sp;

	for (size_t i = 0; i < sizeof fills / sizeof fills[0]; i++) {
		char who[64];
		snprintf(who, sizeof who, "space filled with %#x", fills[i]);
		memset(&sp, fills[i], sizeof sp);
		expect_dead_space(&sp, who);
		pgt_space_destroy(&sp); /* must not touch the garbage pointers */
	}
	expect_dead_space(NULL, "NULL space");
}
END_TEST

START_TEST(test_destroyed_space)
{
	const struct pgt_arch *a = test_archs[_i];

	for (int m = 0; m < 2; m++) {
		char who[96];
		struct test_mm t;
		pgt_space_t sp;

		snprintf(who, sizeof who, "%s %s, destroyed", a->name, mode_name((enum test_mm_mode)m));
		test_mm_init(&t, (enum test_mm_mode)m);
		expect_rc(pgt_space_init(&sp, a, &t.mm, PGT_SPACE_LINKS), PGT_OK, who, "init");
		expect_rc(pgt_insert(&sp, some_va(a, 0), small_shift(a), NULL), PGT_OK, who, "insert");
		pgt_space_destroy(&sp);
		long frees = t.frees;
		ck_assert_msg(frees == t.allocs, "%s: destroy freed %ld of %ld tables", who, frees, t.allocs);
		expect_dead_space(&sp, who);
		pgt_space_destroy(&sp);
		pgt_space_destroy(&sp);
		ck_assert_msg(t.frees == frees, "%s: destroying twice freed again", who);
		books_balanced(&t, who);
	}
}
END_TEST

/* --- tables ------------------------------------------------------------------- */

/** Inserts pages of every size at a few places; returns how many inserts succeeded. */
static unsigned grow_tree(pgt_space_t *sp, const struct pgt_arch *a, unsigned flags, const char *who)
{
	pgt_vaddr_t base = some_va(a, flags);
	unsigned done = 0;

	for (unsigned l = 0; l < a->levels; l++) {
		if (!a->level[l].leaf_ok)
			continue;
		uint64_t size = 1ull << a->level[l].shift;
		/* a separate root slot per page size, so no insert conflicts with another */
		pgt_vaddr_t slot = base + (uint64_t)(l + 1) * (1ull << a->level[a->levels - 1u].shift);
		if (l == a->levels - 1u)
			slot = base + 8 * size;
		const pgt_vaddr_t vas[] = { slot, slot + 3 * size,
					    test_va_bottom(a, flags) + (uint64_t)l * size,
					    test_va_top(a, flags) + 1 - size };
		for (size_t i = 0; i < sizeof vas / sizeof vas[0]; i++) {
			pgt_vaddr_t va = vas[i] & ~(size - 1);
			int rc = pgt_insert(sp, va, a->level[l].shift, NULL);
			ck_assert_msg(rc == PGT_OK || rc == PGT_EXISTS || rc == PGT_ECONFLICT,
				      "%s: insert %#llx 2^%u: %s", who, (unsigned long long)va,
				      a->level[l].shift, pgt_strerror(rc));
			done += rc == PGT_OK;
		}
	}
	return done;
}

/* New tables arrive full of garbage; every entry and link word must read as empty. */
START_TEST(test_new_tables_cleared)
{
	const struct pgt_arch *a = test_archs[_i];
	static const unsigned char fills[] = { 0xa5, 0xff, 0x01 };
	unsigned fl[4], nfl = flag_sets(a, fl);

	for (size_t f = 0; f < sizeof fills / sizeof fills[0]; f++)
		for (unsigned k = 0; k < nfl; k++) {
			char who[96];
			struct test_mm t;
			pgt_space_t sp;
			int m = (int)((f + k) & 1);

			snprintf(who, sizeof who, "%s %s flags %u fill %#x", a->name,
				 mode_name((enum test_mm_mode)m), fl[k], fills[f]);
			test_mm_init(&t, (enum test_mm_mode)m);
			t.fill = fills[f];
			expect_rc(pgt_space_init(&sp, a, &t.mm, fl[k]), PGT_OK, who, "init");
			unsigned n = grow_tree(&sp, a, fl[k], who);
			struct tree_stats st = tree_check(&sp, a, &t);
			ck_assert_msg(st.problems == 0, "%s: %zu problems in the tree", who, st.problems);
			ck_assert_msg(st.reserved == n && st.leaves == 0, "%s: %zu reserved leaves, want %u",
				      who, st.reserved, n);
			ck_assert_msg(st.tables == test_mm_outstanding(&t),
				      "%s: %zu tables reachable, %zu allocated", who, st.tables,
				      test_mm_outstanding(&t));
			if (fl[k] & PGT_SPACE_LINKS)
				for (size_t i = 0; i < t.nslots; i++) {
					const struct test_frame *fr = &t.slots[i];
					if (!fr->mem)
						continue;
					ck_assert_msg(
						all_zero((const char *)fr->mem + fr->size / 2, fr->size / 2),
						"%s: link half of a level-%u table not zeroed", who,
						fr->level);
				}
			pgt_space_destroy(&sp);
			books_balanced(&t, who);
		}
}
END_TEST

/* Hooks that forward to the harness and remember the order of frees. */
struct recorder {
	struct test_mm *t;
	long frees;
	pgt_paddr_t last_pa;
	unsigned last_level;
};

static pgt_paddr_t rec_alloc(void *ctx, size_t size, unsigned level)
{
	struct recorder *r = ctx;
	return r->t->mm.alloc_table(r->t->mm.ctx, size, level);
}

static void rec_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct recorder *r = ctx;
	r->frees++;
	r->last_pa = pa;
	r->last_level = level;
	r->t->mm.free_table(r->t->mm.ctx, pa, size, level);
}

static void *rec_p2v(void *ctx, pgt_paddr_t pa)
{
	struct recorder *r = ctx;
	return r->t->mm.p2v(r->t->mm.ctx, pa);
}

/* Destroy gives every table back exactly once, with its size and level, the root last. */
START_TEST(test_destroy_frees_all)
{
	const struct pgt_arch *a = test_archs[_i];
	unsigned fl[4], nfl = flag_sets(a, fl);

	for (int m = 0; m < 2; m++)
		for (unsigned k = 0; k < nfl; k++) {
			char who[96];
			struct test_mm t;
			struct recorder rec;
			struct pgt_mm mm;
			pgt_space_t sp;

			snprintf(who, sizeof who, "%s %s flags %u", a->name, mode_name((enum test_mm_mode)m),
				 fl[k]);
			test_mm_init(&t, (enum test_mm_mode)m);
			rec = (struct recorder){ .t = &t };
			mm = t.mm;
			mm.alloc_table = rec_alloc;
			mm.free_table = rec_free;
			mm.p2v = t.mm.p2v ? rec_p2v : NULL;
			mm.ctx = &rec;
			expect_rc(pgt_space_init(&sp, a, &mm, fl[k]), PGT_OK, who, "init");
			pgt_paddr_t root = pgt_space_root(&sp);
			grow_tree(&sp, a, fl[k], who);
			long allocs = t.allocs;
			ck_assert_msg(allocs > 1 || a->levels == 1, "%s: the tree did not grow", who);
			ck_assert_msg(rec.frees == 0, "%s: inserts freed tables", who);
			pgt_space_destroy(&sp);
			ck_assert_msg(rec.frees == allocs, "%s: destroy freed %ld of %ld tables", who,
				      rec.frees, allocs);
			ck_assert_msg(rec.last_pa == root && rec.last_level == a->levels - 1u,
				      "%s: root not freed last", who);
			books_balanced(&t, who);
		}
}
END_TEST

/* Spaces on every descriptor at once, sharing one allocator, plus a pair on one descriptor. */
START_TEST(test_spaces_coexist)
{
	enum { MAXA = 32 };
	struct test_mm t;
	pgt_space_t sp[MAXA + 1];
	pgt_ref_t ref[MAXA + 1];
	pgt_paddr_t root[MAXA + 1];
	size_t n = test_narchs;
	const pgt_vaddr_t va = 0x40000000; /* 1G: aligned to every smallest page */

	ck_assert(n <= MAXA);
	test_mm_init(&t, TEST_MM_HOOK);
	for (size_t i = 0; i <= n; i++) {
		const struct pgt_arch *a = test_archs[i < n ? i : 0];
		expect_rc(pgt_space_init(&sp[i], a, &t.mm, (i & 1) ? PGT_SPACE_LINKS : 0), PGT_OK, a->name,
			  "init");
		root[i] = pgt_space_root(&sp[i]);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(root[i] != root[j], "spaces %zu and %zu share a root", i, j);
	}
	/* the same address in each: each space gets its own entry */
	for (size_t i = 0; i <= n; i++) {
		const struct pgt_arch *a = test_archs[i < n ? i : 0];
		expect_rc(pgt_insert(&sp[i], va, small_shift(a), &ref[i]), PGT_OK, a->name, "insert");
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(ref[i].pte != ref[j].pte, "spaces %zu and %zu share an entry", i, j);
	}
	/* a superpage in the last space only, then a field change in the first only */
	const struct pgt_arch *a0 = test_archs[0];
	pgt_vaddr_t sva = va + (1ull << a0->level[2].shift);
	expect_rc(pgt_insert(&sp[n], sva, a0->level[1].shift, NULL), PGT_OK, "extra x86 space", "insert 2M");
	expect_rc(pgt_set_field(&sp[0], ref[0], PGT_FIELD_READ, 1), PGT_OK, a0->name, "set READ");
	for (size_t i = 0; i <= n; i++) {
		const struct pgt_arch *a = test_archs[i < n ? i : 0];
		pgt_ref_t r;
		uint64_t rd = 9;
		expect_rc(pgt_lookup(&sp[i], va, &r), PGT_OK, a->name, "lookup");
		ck_assert_msg(r.pte == ref[i].pte, "%s (space %zu): lookup found another space's entry",
			      a->name, i);
		expect_rc(pgt_lookup(&sp[i], sva, NULL), i == n ? PGT_OK : PGT_ENOENT, a->name,
			  "lookup of 2M page");
		expect_rc(pgt_get_field(&sp[i], r, PGT_FIELD_READ, &rd), PGT_OK, a->name, "get READ");
		ck_assert_msg(rd == (i == 0), "%s (space %zu): READ is %llu", a->name, i,
			      (unsigned long long)rd);
		ck_assert_msg(pgt_space_root(&sp[i]) == root[i], "%s: root moved", a->name);
	}
	/* destroying one leaves the others whole */
	pgt_space_destroy(&sp[0]);
	for (size_t i = 1; i <= n; i++) {
		const struct pgt_arch *a = test_archs[i < n ? i : 0];
		struct tree_stats st = tree_check(&sp[i], a, &t);
		ck_assert_msg(st.problems == 0 && st.reserved >= 1,
			      "%s (space %zu): damaged by another's destroy", a->name, i);
		expect_rc(pgt_lookup(&sp[i], va, NULL), PGT_OK, a->name, "lookup after another's destroy");
	}
	for (size_t i = n + 1; i-- > 1;)
		pgt_space_destroy(&sp[i]);
	books_balanced(&t, "coexisting spaces");
}
END_TEST

/* PGT_SPACE_LINKS allocates every table at twice its size; without it, at its size. */
START_TEST(test_links_double_size)
{
	const struct pgt_arch *a = test_archs[_i];

	for (unsigned links = 0; links <= PGT_SPACE_LINKS; links += PGT_SPACE_LINKS) {
		char who[96];
		struct test_mm t;
		pgt_space_t sp;

		snprintf(who, sizeof who, "%s links %u", a->name, links);
		test_mm_init(&t, links ? TEST_MM_HOOK : TEST_MM_OFFSET);
		expect_rc(pgt_space_init(&sp, a, &t.mm, links), PGT_OK, who, "init");
		expect_rc(pgt_insert(&sp, some_va(a, 0), small_shift(a), NULL), PGT_OK, who, "insert");
		ck_assert_msg(test_mm_outstanding(&t) == a->levels, "%s: %zu tables for one small page", who,
			      test_mm_outstanding(&t));
		unsigned seen = 0;
		for (size_t i = 0; i < t.nslots; i++) {
			const struct test_frame *f = &t.slots[i];
			if (!f->mem)
				continue;
			size_t want = table_bytes(a, f->level, links);
			ck_assert_msg(f->size == want, "%s: level-%u table is %zu bytes, want %zu", who,
				      f->level, f->size, want);
			ck_assert_msg(f->pa % want == 0, "%s: level-%u table not aligned to its size", who,
				      f->level);
			seen |= 1u << f->level;
		}
		ck_assert_msg(seen == (1u << a->levels) - 1, "%s: not one table per level (%#x)", who, seen);
		pgt_space_destroy(&sp);
		books_balanced(&t, who);
	}
}
END_TEST

/* --- runner ------------------------------------------------------------------- */

static Suite *space_suite(void)
{
	Suite *s = suite_create("space");
	TCase *tc;
	int na = (int)test_narchs;

	tc = tcase_create("names");
	tcase_add_test(tc, test_arch_by_name_shipped);
	tcase_add_test(tc, test_arch_by_name_unknown);
	tcase_add_test(tc, test_strerror_distinct);
	tcase_add_test(tc, test_strerror_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("init");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_init_root, 0, na);
	tcase_add_loop_test(tc, test_init_null_args, 0, na);
	tcase_add_loop_test(tc, test_init_bad_flags, 0, na);
	tcase_add_loop_test(tc, test_init_bad_descriptor, 0, na);
	tcase_add_test(tc, test_count_field_runs);
	tcase_add_loop_test(tc, test_init_enomem, 0, na);
	tcase_add_loop_test(tc, test_init_misaligned, 0, na);
	tcase_add_loop_test(tc, test_init_p2v_null, 0, na);
	tcase_add_loop_test(tc, test_p2v_fails_later, 0, na);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_uninitialised_space);
	tcase_add_loop_test(tc, test_destroyed_space, 0, na);
	tcase_add_loop_test(tc, test_new_tables_cleared, 0, na);
	tcase_add_loop_test(tc, test_destroy_frees_all, 0, na);
	tcase_add_test(tc, test_spaces_coexist);
	tcase_add_loop_test(tc, test_links_double_size, 0, na);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = test_run_suite(space_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
