/* SPDX-License-Identifier: MIT */
/*
 * check_fake_arch: the engine against a FAKE architecture whose entry bits
 * differ at every level, so that any level mix-up in lib/ (wrong masks, wrong
 * index width, wrong table size, wrong level passed to the codec) shows up
 * as a wrong entry value, a wrong slot, or a bad free in the harness books.
 *
 * The fake has 3 levels with different index widths (9, 8 and 7 bits:
 * shifts 12, 21, 29; va_bits 36; split address ranges like ARMv8), leaves at
 * every level, and its own prot codec that uses the level. Layout, by level:
 *
 *   level 0 (4K pages, 4 KiB tables of 512 entries)
 *     valid bit 0; type bits[1:0]: leaf 0b01; reserved mark bit 48;
 *     R 2, W 3, X 4, USER 5, GLOBAL 6, UNCACHED 7; accessed 8, dirty 9;
 *     output address [47:12]
 *   level 1 (2M leaves, 2 KiB tables of 256 entries)
 *     valid bit 1; type bits[2:1]: table 0b01, leaf 0b11; reserved bit 50;
 *     R 12, W 13, X 14, USER 15, GLOBAL 16, UNCACHED 17 (inside the table
 *     address field, outside the leaf's); accessed 3, dirty 0;
 *     table entry: address [47:12] | bit 51 | bit 1; output address [47:21]
 *   level 2 (512M leaves, root, 1 KiB table of 128 entries)
 *     valid bit 2; type bits {2,0}: table both, leaf bit 2 only; reserved
 *     bit 52; R 21, W 22, X 23, USER 24, GLOBAL 25, UNCACHED 26; accessed 1,
 *     dirty 3; table entry: address [47:10] | bit 55 | bits 2, 0;
 *     output address [47:29]
 *
 * Write without read is PGT_ENOTSUP in the fake; execute-only is allowed
 * (so nothing in the engine may assume x86/ARM rules).
 *
 * Also checked: link words at every level, the per-level entry classes
 * (table / leaf / reserved / empty / malformed), all-or-nothing allocation
 * failure, and that pgt_space_init refuses malformed descriptors.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

#include "harness.h"

#define BIT(n) ((pgt_pte_t)1 << (n))

enum {
	R = PGT_PROT_READ,
	W = PGT_PROT_WRITE,
	X = PGT_PROT_EXEC,
	U = PGT_PROT_USER,
	G = PGT_PROT_GLOBAL,
	UC = PGT_PROT_UNCACHED
};

/* ------------------------------------------------------------------------ */
/* The fake descriptor                                                       */

#define FAKE_LEVELS 3u

/* Per-level bits the fake codec uses. */
struct fake_bits {
	pgt_pte_t valid, leaf_type, reserved;
	pgt_pte_t r, w, x, user, global, uncached;
};

static const struct fake_bits fake_bits[FAKE_LEVELS] = {
	{ BIT(0), BIT(0), BIT(48), BIT(2), BIT(3), BIT(4), BIT(5), BIT(6), BIT(7) },
	{ BIT(1), BIT(1) | BIT(2), BIT(50), BIT(12), BIT(13), BIT(14), BIT(15), BIT(16), BIT(17) },
	{ BIT(2), BIT(2), BIT(52), BIT(21), BIT(22), BIT(23), BIT(24), BIT(25), BIT(26) },
};

/* Codec calls with a level the fake does not have (the engine passed garbage). */
static unsigned fake_bad_level_calls;

/* Attributes a reserved leaf keeps too. */
static pgt_pte_t fake_attrs(const struct fake_bits *b, unsigned prot)
{
	return ((prot & U) ? b->user : 0) | ((prot & G) ? b->global : 0) | ((prot & UC) ? b->uncached : 0);
}

static int fake_encode(unsigned level, unsigned prot, pgt_pte_t *bits)
{
	if (level >= FAKE_LEVELS) {
		fake_bad_level_calls++;
		return PGT_EINVAL;
	}
	const struct fake_bits *b = &fake_bits[level];
	unsigned rights = prot & (R | W | X);

	if ((rights & W) && !(rights & R))
		return PGT_ENOTSUP;
	if (!rights) {
		*bits = b->reserved | fake_attrs(b, prot);
		return PGT_OK;
	}
	*bits = b->leaf_type | fake_attrs(b, prot) | ((prot & R) ? b->r : 0) | ((prot & W) ? b->w : 0) |
		((prot & X) ? b->x : 0);
	return PGT_OK;
}

static unsigned fake_decode(unsigned level, pgt_pte_t pte)
{
	if (level >= FAKE_LEVELS) {
		fake_bad_level_calls++;
		return 0;
	}
	const struct fake_bits *b = &fake_bits[level];
	unsigned prot = 0;

	if (pte & b->valid) {
		prot |= (pte & b->r) ? R : 0;
		prot |= (pte & b->w) ? W : 0;
		prot |= (pte & b->x) ? X : 0;
	}
	prot |= (pte & b->user) ? U : 0;
	prot |= (pte & b->global) ? G : 0;
	prot |= (pte & b->uncached) ? UC : 0;
	return prot;
}

/* Literal masks (the descriptor below and the expected values share nothing computed). */
#define L0_OA       0x0000fffffffff000ull /* [47:12] */
#define L1_OA       0x0000ffffffe00000ull /* [47:21] */
#define L2_OA       0x0000ffffe0000000ull /* [47:29] */
#define L1_TABLE_OA 0x0000fffffffff000ull /* [47:12]: level-0 tables are 4 KiB aligned */
#define L2_TABLE_OA 0x0000fffffffffc00ull /* [47:10]: level-1 tables 2 KiB, the root 1 KiB */

static const struct pgt_arch fake_arch = {
	.name = "fake-3level",
	.levels = 3,
	.va_bits = 36,
	.pa_bits = 48,
	.canon = PGT_CANON_SPLIT,
	.level = {
		{ .shift = 12, .bits = 9, .leaf_ok = 1, .table_size = 4096,
		  .valid = 0x1, .type_mask = 0x3, .table_type = 0x3, .leaf_type = 0x1,
		  .reserved = BIT(48), .table_oa = 0, .table_attrs = 0, .leaf_oa = L0_OA,
		  .prot_mask = 0x3 | 0xfc | BIT(48), .accessed = BIT(8), .dirty = BIT(9) },
		{ .shift = 21, .bits = 8, .leaf_ok = 1, .table_size = 2048,
		  .valid = 0x2, .type_mask = 0x6, .table_type = 0x2, .leaf_type = 0x6,
		  .reserved = BIT(50), .table_oa = L1_TABLE_OA, .table_attrs = BIT(51), .leaf_oa = L1_OA,
		  .prot_mask = 0x6 | 0x3f000 | BIT(50), .accessed = BIT(3), .dirty = BIT(0) },
		{ .shift = 29, .bits = 7, .leaf_ok = 1, .table_size = 1024,
		  .valid = 0x4, .type_mask = 0x5, .table_type = 0x5, .leaf_type = 0x4,
		  .reserved = BIT(52), .table_oa = L2_TABLE_OA, .table_attrs = BIT(55), .leaf_oa = L2_OA,
		  .prot_mask = 0x5 | 0x7e00000 | BIT(52), .accessed = BIT(1), .dirty = BIT(3) },
	},
	.prot_encode = fake_encode,
	.prot_decode = fake_decode,
};

/* ------------------------------------------------------------------------ */
/* Golden values                                                             */

/* Table entries: everything but the address. */
#define L2_TABLE_BITS 0x0080000000000005ull /* bit 55 | bits 2, 0 */
#define L1_TABLE_BITS 0x0008000000000002ull /* bit 51 | bit 1 */

struct level_case {
	unsigned shift;
	pgt_vaddr_t va; /* distinct indices at every level */
	pgt_paddr_t pa; /* aligned, high, inside 48 bits */
	pgt_pte_t oa_mask;
	pgt_pte_t reserved;     /* what pgt_insert writes */
	pgt_pte_t reserved_ugu; /* no rights, USER|GLOBAL|UNCACHED kept */
	pgt_pte_t accessed, dirty;
	uint32_t table_size;
	unsigned entries;
};

/* va0: L2 index 5, L1 index 0xa7, L0 index 0x1c3; va1: L2 6, L1 0x3b; va2: L2 0x7f. */
static const struct level_case lv[FAKE_LEVELS] = {
	{ 12, 0x00000000b4fc3000ull, 0x0000fedcba987000ull, L0_OA, 0x0001000000000000ull,
	  0x00010000000000e0ull, 0x100, 0x200, 4096, 512 },
	{ 21, 0x00000000c7600000ull, 0x0000fedcba800000ull, L1_OA, 0x0004000000000000ull,
	  0x0004000000038000ull, 0x8, 0x1, 2048, 256 },
	{ 29, 0x0000000fe0000000ull, 0x0000fedca0000000ull, L2_OA, 0x0010000000000000ull,
	  0x0010000007000000ull, 0x2, 0x8, 1024, 128 },
};

struct prot_row {
	unsigned prot;
	const char *name;
	pgt_pte_t bits[FAKE_LEVELS];
};

static const struct prot_row rows[] = {
	{ R, "R", { 0x05, 0x1006, 0x0200004 } },
	{ R | W, "RW", { 0x0d, 0x3006, 0x0600004 } },
	{ R | X, "RX", { 0x15, 0x5006, 0x0a00004 } },
	{ R | W | X, "RWX", { 0x1d, 0x7006, 0x0e00004 } },
	{ X, "X only", { 0x11, 0x4006, 0x0800004 } },
	{ R | U, "R|USER", { 0x25, 0x9006, 0x1200004 } },
	{ R | G, "R|GLOBAL", { 0x45, 0x11006, 0x2200004 } },
	{ R | UC, "R|UNCACHED", { 0x85, 0x21006, 0x4200004 } },
	{ X | U | G, "X|USER|GLOBAL", { 0x71, 0x1c006, 0x3800004 } },
	{ R | W | X | U | G | UC, "all", { 0xfd, 0x3f006, 0x7e00004 } },
};
#define NROWS (sizeof rows / sizeof rows[0])

/* ------------------------------------------------------------------------ */
/* Fixture                                                                   */

struct fx {
	struct test_mm t;
	pgt_space_t sp;
	unsigned flags;
};

/* Loop index: bit 0 picks the allocator mode, bit 1 PGT_SPACE_LINKS. */
static void fx_open(struct fx *f, int i)
{
	fake_bad_level_calls = 0;
	test_mm_init(&f->t, (i & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET);
	f->flags = (i & 2) ? PGT_SPACE_LINKS : 0;
	CHECK_RC(pgt_space_init(&f->sp, &fake_arch, &f->t.mm, f->flags), PGT_OK);
}

static void fx_close(struct fx *f)
{
	struct tree_stats st = tree_check(&f->sp, &fake_arch, &f->t);

	ck_assert_msg(st.problems == 0, "tree_check found %zu problems", st.problems);
	pgt_space_destroy(&f->sp);
	ck_assert_msg(test_mm_outstanding(&f->t) == 0, "%zu tables leaked", test_mm_outstanding(&f->t));
	ck_assert_msg(f->t.errors == 0, "%ld bad frees (wrong size or level?)", f->t.errors);
	ck_assert_msg(f->t.allocs == f->t.frees, "allocs %ld != frees %ld", f->t.allocs, f->t.frees);
	ck_assert_msg(fake_bad_level_calls == 0, "codec called with a level >= 3");
	test_mm_fini(&f->t);
}

static pgt_ref_t insert_ok(struct fx *f, unsigned level)
{
	pgt_ref_t ref = { 0 };

	CHECK_RC(pgt_insert(&f->sp, lv[level].va, lv[level].shift, &ref), PGT_OK);
	ck_assert_ptr_nonnull(ref.pte);
	ck_assert_msg(ref.level == level, "ref.level %u, expected %u", ref.level, level);
	ck_assert_uint_eq(ref.page_shift, lv[level].shift);
	return ref;
}

static uint64_t get(struct fx *f, pgt_ref_t ref, enum pgt_field fld)
{
	uint64_t v = 0xdeadbeef;

	CHECK_RC(pgt_get_field(&f->sp, ref, fld, &v), PGT_OK);
	return v;
}

static pgt_pte_t *table_at(const struct fx *f, pgt_paddr_t pa)
{
	return test_mm_p2v(&f->t, pa);
}

static pgt_pte_t *root_table(const struct fx *f)
{
	return table_at(f, pgt_space_root(&f->sp));
}

/* Bytes a table of @p level occupies in this space. */
static size_t table_bytes(const struct fx *f, unsigned level)
{
	return (f->flags & PGT_SPACE_LINKS) ? 2u * lv[level].table_size : lv[level].table_size;
}

/* Index bits by level, written out: [35:29] 7 bits, [28:21] 8 bits, [20:12] 9 bits. */
static unsigned idx2(pgt_vaddr_t va)
{
	return (unsigned)(va >> 29) & 0x7f;
}

static unsigned idx1(pgt_vaddr_t va)
{
	return (unsigned)(va >> 21) & 0xff;
}

static unsigned idx0(pgt_vaddr_t va)
{
	return (unsigned)(va >> 12) & 0x1ff;
}

/* Checks a table entry at @p level (2 or 1) and returns the table it links. */
static pgt_pte_t *follow(struct fx *f, pgt_pte_t e, unsigned level)
{
	pgt_pte_t oa = level == 2 ? L2_TABLE_OA : L1_TABLE_OA;
	pgt_pte_t want = level == 2 ? L2_TABLE_BITS : L1_TABLE_BITS;
	pgt_paddr_t next = e & oa;

	ck_assert_msg((e & ~oa) == want, "level %u table entry %#018llx: other bits should be %#llx", level,
		      (unsigned long long)e, (unsigned long long)want);
	ck_assert_msg(test_mm_owns(&f->t, next, level - 1),
		      "level %u entry points at %#llx, not a level-%u table", level, (unsigned long long)next,
		      level - 1);
	ck_assert_msg(test_mm_frame_size(&f->t, next) == table_bytes(f, level - 1), "level-%u table is %zu bytes",
		      level - 1, test_mm_frame_size(&f->t, next));
	return table_at(f, next);
}

/* Non-zero entries of a table of @p level (link words not included). */
static unsigned used_entries(const pgt_pte_t *table, unsigned level)
{
	unsigned n = 0;

	for (unsigned i = 0; i < lv[level].entries; i++)
		n += table[i] != 0;
	return n;
}

/* ------------------------------------------------------------------------ */
/* Space and tables                                                          */

START_TEST(test_fake_init)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_paddr_t root = pgt_space_root(&f.sp);
	ck_assert_msg(test_mm_owns(&f.t, root, 2), "root is a level-2 frame");
	ck_assert_uint_eq(test_mm_frame_size(&f.t, root), table_bytes(&f, 2));
	ck_assert_msg((root & 0x3ff) == 0, "root 1 KiB aligned");
	/* The harness fills new frames with 0xa5: everything, link words too, must be 0. */
	pgt_pte_t *r = root_table(&f);
	for (size_t i = 0; i < table_bytes(&f, 2) / 8; i++)
		ck_assert_msg(r[i] == 0, "root word %zu not cleared", i);
	fx_close(&f);
}
END_TEST

/* pgt_insert at every level: the level's own reserved mark, in the right slot. */
START_TEST(test_fake_insert_each_level)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_ref_t r0 = insert_ok(&f, 0), r1 = insert_ok(&f, 1), r2 = insert_ok(&f, 2);
	CHECK_PTE(*r0.pte, 0x0001000000000000ull, "level-0 reserved leaf: bit 48");
	CHECK_PTE(*r1.pte, 0x0004000000000000ull, "level-1 reserved leaf: bit 50");
	CHECK_PTE(*r2.pte, 0x0010000000000000ull, "level-2 reserved leaf: bit 52");

	pgt_pte_t *root = root_table(&f);
	ck_assert_ptr_eq(r2.pte, &root[0x7f]);
	pgt_pte_t *t1 = follow(&f, root[5], 2);
	pgt_pte_t *t0 = follow(&f, t1[0xa7], 1);
	ck_assert_ptr_eq(r0.pte, &t0[0x1c3]);
	pgt_pte_t *t1b = follow(&f, root[6], 2);
	ck_assert_ptr_eq(r1.pte, &t1b[0x3b]);
	ck_assert_uint_eq(used_entries(root, 2), 3);
	ck_assert_uint_eq(used_entries(t1, 1), 1);
	ck_assert_uint_eq(used_entries(t1b, 1), 1);
	ck_assert_uint_eq(used_entries(t0, 0), 1);
	ck_assert_uint_eq(idx2(lv[0].va), 5);
	ck_assert_uint_eq(idx1(lv[0].va), 0xa7);
	ck_assert_uint_eq(idx0(lv[0].va), 0x1c3);

	struct tree_stats st = tree_check(&f.sp, &fake_arch, &f.t);
	ck_assert_uint_eq(st.tables, 4);
	ck_assert_uint_eq(st.reserved, 3);
	ck_assert_uint_eq(st.leaves, 0);

	/* Lookup finds each reserved leaf at its level, anywhere inside it. */
	for (unsigned l = 0; l < FAKE_LEVELS; l++) {
		pgt_ref_t got;
		CHECK_RC(pgt_lookup(&f.sp, lv[l].va + (1ull << lv[l].shift) - 1, &got), PGT_OK);
		ck_assert_uint_eq(got.level, l);
		ck_assert_uint_eq(got.page_shift, lv[l].shift);
		ck_assert_uint_eq(get(&f, got, PGT_FIELD_PROT), 0);
	}
	CHECK_RC(pgt_lookup(&f.sp, lv[0].va + 0x1000, NULL), PGT_ENOENT);
	CHECK_RC(pgt_lookup(&f.sp, lv[1].va + 0x200000, NULL), PGT_ENOENT);
	fx_close(&f);
}
END_TEST

/* Conflicts are judged per level: EXISTS under a larger leaf, ECONFLICT over tables. */
START_TEST(test_fake_exists_conflict)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_ref_t r0 = insert_ok(&f, 0), r1 = insert_ok(&f, 1), r2 = insert_ok(&f, 2), got;
	/* A 4K page inside the level-1 leaf, and a 2M one inside the level-2 leaf. */
	CHECK_RC(pgt_insert(&f.sp, lv[1].va + 0x5000, 12, &got), PGT_EXISTS);
	ck_assert_ptr_eq(got.pte, r1.pte);
	ck_assert_uint_eq(got.level, 1);
	ck_assert_uint_eq(got.page_shift, 21);
	CHECK_RC(pgt_insert(&f.sp, lv[2].va + 0x600000, 21, &got), PGT_EXISTS);
	ck_assert_ptr_eq(got.pte, r2.pte);
	ck_assert_uint_eq(got.level, 2);
	CHECK_RC(pgt_insert(&f.sp, lv[2].va + 0x1000, 12, &got), PGT_EXISTS);
	ck_assert_ptr_eq(got.pte, r2.pte);
	CHECK_RC(pgt_insert(&f.sp, lv[0].va, 12, &got), PGT_EXISTS);
	ck_assert_ptr_eq(got.pte, r0.pte);
	/* Larger pages over the tables holding smaller ones. */
	CHECK_RC(pgt_insert(&f.sp, lv[0].va & ~0x1fffffull, 21, NULL), PGT_ECONFLICT);
	CHECK_RC(pgt_insert(&f.sp, lv[0].va & ~0x1fffffffull, 29, NULL), PGT_ECONFLICT);
	CHECK_RC(pgt_insert(&f.sp, lv[1].va & ~0x1fffffffull, 29, NULL), PGT_ECONFLICT);
	CHECK_PTE(*r0.pte, lv[0].reserved, "level 0 unchanged");
	CHECK_PTE(*r1.pte, lv[1].reserved, "level 1 unchanged");
	CHECK_PTE(*r2.pte, lv[2].reserved, "level 2 unchanged");
	ck_assert_uint_eq(test_mm_outstanding(&f.t), 4);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Fields                                                                    */

START_TEST(test_fake_prot_each_level)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned l = 0; l < FAKE_LEVELS; l++) {
		pgt_ref_t ref = insert_ok(&f, l);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, lv[l].pa), PGT_OK);
		CHECK_PTE(*ref.pte, lv[l].pa | lv[l].reserved, "reserved leaf with address");
		for (unsigned r = 0; r < NROWS; r++) {
			CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, rows[r].prot), PGT_OK);
			ck_assert_msg(*ref.pte == (lv[l].pa | rows[r].bits[l]),
				      "level %u %s: entry %#018llx, expected %#018llx", l, rows[r].name,
				      (unsigned long long)*ref.pte,
				      (unsigned long long)(lv[l].pa | rows[r].bits[l]));
			ck_assert_msg(get(&f, ref, PGT_FIELD_PROT) == rows[r].prot,
				      "level %u %s: decoded %#llx", l, rows[r].name,
				      (unsigned long long)get(&f, ref, PGT_FIELD_PROT));
		}
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, U | G | UC), PGT_OK);
		CHECK_PTE(*ref.pte, lv[l].pa | lv[l].reserved_ugu, "reserved leaf keeping attributes");
		struct tree_stats st = tree_check(&f.sp, &fake_arch, &f.t);
		ck_assert_uint_eq(st.reserved, l + 1);
		ck_assert_uint_eq(st.problems, 0);
	}
	fx_close(&f);
}
END_TEST

/* Write without read is refused by the fake codec: entry unchanged. */
START_TEST(test_fake_enotsup)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned l = 0; l < FAKE_LEVELS; l++) {
		pgt_ref_t ref = insert_ok(&f, l);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, W), PGT_ENOTSUP);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, W | X | U), PGT_ENOTSUP);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_WRITE, 1), PGT_ENOTSUP);
		CHECK_PTE(*ref.pte, lv[l].reserved, "reserved leaf after refusals");
		/* Execute-only is fine here, and so is building RWX one field at a time. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_EXEC, 1), PGT_OK);
		CHECK_PTE(*ref.pte, rows[4].bits[l], "X only");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 1), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_WRITE, 1), PGT_OK);
		CHECK_PTE(*ref.pte, rows[3].bits[l], "RWX by fields");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 0), PGT_ENOTSUP);
		CHECK_PTE(*ref.pte, rows[3].bits[l], "RWX after refused READ=0");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, 0x100), PGT_EFLAGS);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_EXEC, 3), PGT_EINVAL);
		CHECK_PTE(*ref.pte, rows[3].bits[l], "RWX after bad values");
	}
	fx_close(&f);
}
END_TEST

START_TEST(test_fake_paddr_each_level)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned l = 0; l < FAKE_LEVELS; l++) {
		pgt_ref_t ref = insert_ok(&f, l);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, lv[l].oa_mask), PGT_OK);
		CHECK_PTE(*ref.pte, lv[l].oa_mask | rows[1].bits[l], "every address bit");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PADDR), lv[l].oa_mask);
		/* One bit below the level's page size, and bit 48. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, 1ull << (lv[l].shift - 1)), PGT_EALIGN);
		static const pgt_paddr_t off[FAKE_LEVELS] = { 0x800, 0x1000, 0x200000 };
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, lv[l].pa | off[l]), PGT_EALIGN);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, 1ull << 48), PGT_ERANGE);
		CHECK_PTE(*ref.pte, lv[l].oa_mask | rows[1].bits[l], "after refused addresses");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, lv[l].pa), PGT_OK);
		CHECK_PTE(*ref.pte, lv[l].pa | rows[1].bits[l], "RW with address");
	}
	fx_close(&f);
}
END_TEST

/* Accessed and dirty live at a different bit on every level and outlive rights changes. */
START_TEST(test_fake_status_bits)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned l = 0; l < FAKE_LEVELS; l++) {
		pgt_ref_t ref = insert_ok(&f, l);
		pgt_pte_t ad = lv[l].accessed | lv[l].dirty;

		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, lv[l].pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R), PGT_OK);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 0);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_ACCESSED, 1), PGT_OK);
		CHECK_PTE(*ref.pte, lv[l].pa | rows[0].bits[l] | lv[l].accessed, "accessed");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 1), PGT_OK);
		CHECK_PTE(*ref.pte, lv[l].pa | rows[0].bits[l] | ad, "accessed + dirty");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W | X | U | G | UC), PGT_OK);
		CHECK_PTE(*ref.pte, lv[l].pa | rows[9].bits[l] | ad, "all rights keep A/D");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, 0), PGT_OK);
		CHECK_PTE(*ref.pte, lv[l].pa | lv[l].reserved | ad, "reserved keeps A/D");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 1);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 1);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 0), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_ACCESSED, 0), PGT_OK);
		CHECK_PTE(*ref.pte, lv[l].pa | lv[l].reserved, "A/D cleared");
	}
	fx_close(&f);
}
END_TEST

/* Decoding every field from hand-written entries at every level. */
START_TEST(test_fake_get_fields)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned l = 0; l < FAKE_LEVELS; l++) {
		pgt_ref_t ref = insert_ok(&f, l);
		/* X|USER|GLOBAL, accessed, dirty: built from the layout in the file comment. */
		static const pgt_pte_t xug_ad[FAKE_LEVELS] = { 0x371, 0x1c00f, 0x380000e };
		*ref.pte = lv[l].pa | xug_ad[l];
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), X | U | G);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_READ), 0);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_WRITE), 0);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_EXEC), 1);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_USER), 1);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_GLOBAL), 1);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_CACHED), 1);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 1);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 1);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PADDR), lv[l].pa);
		*ref.pte = lv[l].pa | rows[7].bits[l]; /* R|UNCACHED */
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_CACHED), 0);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 0);
		uint64_t v;
		CHECK_RC(pgt_get_field(&f.sp, ref, PGT_FIELD_COUNT, &v), PGT_EFLAGS);
		CHECK_RC(pgt_get_field(&f.sp, ref, PGT_FIELD_PROT, NULL), PGT_EINVAL);
		/* A reserved leaf seen through a ref of another level is not a leaf there. */
		*ref.pte = lv[l].reserved;
		pgt_ref_t wrong = { .pte = ref.pte,
				    .level = (l + 1) % FAKE_LEVELS,
				    .page_shift = lv[(l + 1) % FAKE_LEVELS].shift };
		CHECK_RC(pgt_get_field(&f.sp, wrong, PGT_FIELD_PROT, &v), PGT_EINVAL);
		wrong = (pgt_ref_t){ .pte = ref.pte,
				     .level = l,
				     .page_shift = lv[(l + 1) % FAKE_LEVELS].shift };
		CHECK_RC(pgt_get_field(&f.sp, wrong, PGT_FIELD_PROT, &v), PGT_EINVAL);
		wrong = (pgt_ref_t){ .pte = ref.pte, .level = FAKE_LEVELS, .page_shift = 37 };
		CHECK_RC(pgt_get_field(&f.sp, wrong, PGT_FIELD_PROT, &v), PGT_EINVAL);
		CHECK_RC(pgt_set_field(&f.sp, wrong, PGT_FIELD_PROT, R), PGT_EINVAL);
		CHECK_PTE(*ref.pte, lv[l].reserved, "entry after refused refs");
	}
	/* A table entry is not a leaf. */
	pgt_pte_t *root = root_table(&f);
	pgt_ref_t tab = { .pte = &root[5], .level = 2, .page_shift = 29 };
	uint64_t v;
	CHECK_RC(pgt_get_field(&f.sp, tab, PGT_FIELD_PROT, &v), PGT_EINVAL);
	CHECK_RC(pgt_set_field(&f.sp, tab, PGT_FIELD_PROT, R), PGT_EINVAL);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Link words: one table size after the entry, table sizes differ per level. */

START_TEST(test_fake_links)
{
	struct fx f;

	fx_open(&f, _i | 2);
	const uintptr_t node[FAKE_LEVELS] = { 0x1111000, 0x2222000, 0x3333000 };
	pgt_ref_t ref[FAKE_LEVELS];
	for (unsigned l = 0; l < FAKE_LEVELS; l++) {
		ref[l] = insert_ok(&f, l);
		CHECK_RC(pgt_set_link(&f.sp, ref[l], node[l], lv[l].va), PGT_OK);
	}
	for (unsigned l = 0; l < FAKE_LEVELS; l++) {
		uintptr_t got = 0;
		/* Link word of entry i sits at byte offset table_size: 4096, 2048 or 1024. */
		const pgt_pte_t *word =
			(const pgt_pte_t *)(const void *)((const char *)ref[l].pte + lv[l].table_size);
		CHECK_PTE(*word, (uint64_t)node[l] ^ lv[l].va, "raw link word");
		CHECK_RC(pgt_get_link(&f.sp, ref[l], lv[l].va, &got), PGT_OK);
		ck_assert_msg(got == node[l], "level %u link %#lx", l, (unsigned long)got);
		CHECK_PTE(*ref[l].pte, lv[l].reserved, "entry untouched by its link word");
	}
	/* Every other link word stays zero, in tables of every level. */
	pgt_pte_t *root = root_table(&f);
	pgt_pte_t *t1 = follow(&f, root[5], 2), *t0 = follow(&f, t1[0xa7], 1);
	unsigned nonzero = 0;
	for (unsigned i = 0; i < 128; i++)
		nonzero += root[128 + i] != 0;
	for (unsigned i = 0; i < 256; i++)
		nonzero += t1[256 + i] != 0;
	for (unsigned i = 0; i < 512; i++)
		nonzero += t0[512 + i] != 0;
	ck_assert_uint_eq(nonzero, 2); /* root slot 0x7f and t0 slot 0x1c3 */
	uintptr_t tmp;
	CHECK_RC(pgt_get_link(&f.sp, ref[0], 0, NULL), PGT_EINVAL);
	CHECK_RC(pgt_get_link(&f.sp, ref[0], 0, &tmp), PGT_OK);
	fx_close(&f);
}
END_TEST

START_TEST(test_fake_links_off)
{
	struct fx f;
	uintptr_t got;

	fx_open(&f, _i & 1);
	for (unsigned l = 0; l < FAKE_LEVELS; l++) {
		pgt_ref_t ref = insert_ok(&f, l);
		CHECK_RC(pgt_set_link(&f.sp, ref, 0x1234, lv[l].va), PGT_ENOTSUP);
		CHECK_RC(pgt_get_link(&f.sp, ref, lv[l].va, &got), PGT_ENOTSUP);
	}
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Entry classes per level: a mark that means something at one level means
 * nothing (or something else) at another.                                   */

struct poke {
	pgt_pte_t value;
	int found; /* lookup: 1 mapped here, 0 PGT_ENOENT */
	unsigned prot;
};

static void check_pokes(struct fx *f, pgt_pte_t *slot, pgt_vaddr_t va, unsigned level, const struct poke *p,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		pgt_ref_t got;
		*slot = p[i].value;
		int rc = pgt_lookup(&f->sp, va, &got);
		ck_assert_msg(rc == (p[i].found ? PGT_OK : PGT_ENOENT), "level %u entry %#llx: lookup %d",
			      level, (unsigned long long)p[i].value, rc);
		if (p[i].found) {
			ck_assert_ptr_eq(got.pte, slot);
			ck_assert_uint_eq(got.level, level);
			ck_assert_uint_eq(get(f, got, PGT_FIELD_PROT), p[i].prot);
			CHECK_RC(pgt_insert(&f->sp, va, lv[level].shift, NULL), PGT_EXISTS);
		}
		*slot = 0;
	}
}

START_TEST(test_fake_classes)
{
	/* Level 2 (root): reserved bit 52, leaf type bit 2 alone. */
	static const struct poke p2[] = {
		{ BIT(52), 1, 0 },       { BIT(50), 0, 0 }, { BIT(48), 0, 0 }, { 0x4 | BIT(21), 1, R },
		{ 0x6 | BIT(21), 1, R }, { 0x2, 0, 0 },     { 0x1, 0, 0 },     { BIT(52) | 0x1, 1, 0 },
	};
	/* Level 1: reserved bit 50, leaf type bits 2 and 1. */
	static const struct poke p1[] = {
		{ BIT(50), 1, 0 }, { BIT(52), 0, 0 }, { BIT(48), 0, 0 },           { 0x6 | BIT(12), 1, R },
		{ 0x1, 0, 0 },     { 0x4, 0, 0 },     { 0x6 | BIT(2 + 12), 1, X }, { BIT(50) | 0x4, 1, 0 },
	};
	/* Level 0: reserved bit 48, leaf type bit 0 alone; 0b11 is malformed, never a table. */
	static const struct poke p0[] = {
		{ BIT(48), 1, 0 },       { BIT(50), 0, 0 },
		{ BIT(52), 0, 0 },       { 0x1 | BIT(2), 1, R },
		{ 0x2, 0, 0 },           { 0x3, 0, 0 },
		{ 0x3 | BIT(48), 0, 0 }, { 0x1 | BIT(3) | BIT(2), 1, R | W },
	};
	struct fx f;

	fx_open(&f, _i);
	(void)insert_ok(&f, 0);
	pgt_pte_t *root = root_table(&f);
	pgt_pte_t *t1 = follow(&f, root[5], 2), *t0 = follow(&f, t1[0xa7], 1);
	/* Empty slots next to the branch: root 0x10, level-1 0x10, level-0 0x10. */
	check_pokes(&f, &root[0x10], 0x10ull << 29, 2, p2, sizeof p2 / sizeof p2[0]);
	check_pokes(&f, &t1[0x10], (5ull << 29) | (0x10ull << 21), 1, p1, sizeof p1 / sizeof p1[0]);
	check_pokes(&f, &t0[0x10], (5ull << 29) | (0xa7ull << 21) | (0x10ull << 12), 0, p0,
		    sizeof p0 / sizeof p0[0]);

	/* A malformed level-0 entry (0b11) is neither replaced nor followed. */
	t0[0x11] = 0x3;
	CHECK_RC(pgt_insert(&f.sp, (5ull << 29) | (0xa7ull << 21) | (0x11ull << 12), 12, NULL),
		 PGT_ECONFLICT);
	CHECK_PTE(t0[0x11], 0x3, "malformed entry left alone");
	t0[0x11] = 0;
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Allocation failure: all or nothing, frees with each level's own size.     */

START_TEST(test_fake_alloc_failure)
{
	struct fx f;

	fx_open(&f, _i);
	for (long k = 1; k <= 2; k++) {
		size_t n;
		pgt_pte_t *before = tree_snapshot(&f.sp, &fake_arch, &f.t, &n);
		f.t.fail_at = f.t.attempts + k;
		CHECK_RC(pgt_insert(&f.sp, lv[0].va, 12, NULL), PGT_ENOMEM);
		ck_assert_msg(tree_unchanged(&f.sp, &fake_arch, &f.t, before, n),
			      "tree changed by failed insert");
		ck_assert_uint_eq(test_mm_outstanding(&f.t), 1);
		ck_assert_uint_eq(f.t.errors, 0);
	}
	f.t.fail_at = 0;
	(void)insert_ok(&f, 0);
	ck_assert_uint_eq(test_mm_outstanding(&f.t), 3);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Address ranges of a PGT_CANON_SPLIT fake: [0, 2^36) or [2^64 - 2^36, 2^64). */

START_TEST(test_fake_ranges)
{
	struct test_mm t;
	pgt_space_t sp;

	test_mm_init(&t, (_i & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET);
	unsigned upper = (_i & 2) ? PGT_SPACE_UPPER : 0;
	CHECK_RC(pgt_space_init(&sp, &fake_arch, &t.mm, upper), PGT_OK);
	pgt_vaddr_t lo = upper ? 0xfffffff000000000ull : 0,
		    hi = upper ? 0xfffffffffffff000ull : 0x0000000ffffff000ull;
	CHECK_RC(pgt_insert(&sp, lo, 12, NULL), PGT_OK);
	CHECK_RC(pgt_insert(&sp, hi, 12, NULL), PGT_OK);
	CHECK_RC(pgt_insert(&sp, hi & ~0x1fffffffull, 29, NULL), PGT_ECONFLICT);
	CHECK_RC(pgt_insert(&sp, (hi & ~0x1fffffffull) - 0x20000000, 29, NULL), PGT_OK);
	CHECK_RC(pgt_insert(&sp, upper ? lo - 0x1000 : 0x0000001000000000ull, 12, NULL), PGT_ERANGE);
	CHECK_RC(pgt_insert(&sp, upper ? 0 : 0xfffffff000000000ull, 12, NULL), PGT_ERANGE);
	CHECK_RC(pgt_lookup(&sp, upper ? lo - 1 : 0x0000001000000000ull, NULL), PGT_ERANGE);
	pgt_pte_t *root = test_mm_p2v(&t, pgt_space_root(&sp));
	ck_assert_msg((root[0] & ~L2_TABLE_OA) == L2_TABLE_BITS, "root slot 0 links a table");
	ck_assert_msg((root[127] & ~L2_TABLE_OA) == L2_TABLE_BITS, "root slot 127 links a table");
	CHECK_PTE(root[126], 0x0010000000000000ull, "root slot 126: reserved 512M leaf");
	struct tree_stats st = tree_check(&sp, &fake_arch, &t);
	ck_assert_uint_eq(st.problems, 0);
	ck_assert_uint_eq(st.reserved, 3);
	pgt_space_destroy(&sp);
	ck_assert_uint_eq(test_mm_outstanding(&t), 0);
	ck_assert_uint_eq(t.errors, 0);
	test_mm_fini(&t);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Small roots: the fake's two lower levels under a root of 4 entries (32    */
/* bytes, x86 PAE's PDPT) or 2 entries (16 bytes, ARMv7 LPAE, T0SZ = 1). No  */
/* entry holds a root's address and a root never goes on a table list, so   */
/* neither needs eight entries nor a frame aligned as level-1 tables are.    */

/* [0]: 4 entries, va_bits 31; [1]: 2 entries, va_bits 30. Set up by main(). */
static struct pgt_arch small_roots[2];

static void small_roots_init(void)
{
	static const char *const names[2] = { "fake-root4", "fake-root2" };

	for (unsigned k = 0; k < 2; k++) {
		unsigned bits = 2 - k;
		small_roots[k] = fake_arch;
		small_roots[k].name = names[k];
		small_roots[k].level[2].bits = (uint8_t)bits;
		small_roots[k].level[2].table_size = 8u << bits;
		small_roots[k].va_bits = (uint8_t)(29 + bits);
	}
}

struct sx {
	struct test_mm t;
	pgt_space_t sp;
	const struct pgt_arch *a;
	unsigned flags;
};

/* Loop index: bit 0 hook mode, bit 1 PGT_SPACE_LINKS, bit 2 the 2-entry root. */
static void sx_open(struct sx *x, int i)
{
	fake_bad_level_calls = 0;
	x->a = &small_roots[(i >> 2) & 1];
	test_mm_init(&x->t, (i & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET);
	x->flags = (i & 2) ? PGT_SPACE_LINKS : 0;
	CHECK_RC(pgt_space_init(&x->sp, x->a, &x->t.mm, x->flags), PGT_OK);
}

static void sx_close(struct sx *x)
{
	struct tree_stats st = tree_check(&x->sp, x->a, &x->t);

	ck_assert_msg(st.problems == 0, "tree_check found %zu problems", st.problems);
	pgt_space_destroy(&x->sp);
	ck_assert_msg(test_mm_outstanding(&x->t) == 0, "%zu tables leaked", test_mm_outstanding(&x->t));
	ck_assert_msg(x->t.errors == 0, "%ld bad frees (wrong size or level?)", x->t.errors);
	ck_assert_msg(x->t.allocs == x->t.frees, "allocs %ld != frees %ld", x->t.allocs, x->t.frees);
	ck_assert_msg(fake_bad_level_calls == 0, "codec called with a level >= 3");
	test_mm_fini(&x->t);
}

/* Bytes of the root frame: 8 << bits, doubled with link words. */
static size_t sx_root_bytes(const struct sx *x)
{
	size_t size = x->a->level[2].table_size;
	return (x->flags & PGT_SPACE_LINKS) ? 2 * size : size;
}

/* Checks a table entry at @p level (2 or 1) of a small-root space and returns the table it links. */
static pgt_pte_t *sx_follow(struct sx *x, pgt_pte_t e, unsigned level)
{
	pgt_pte_t oa = level == 2 ? L2_TABLE_OA : L1_TABLE_OA;
	pgt_pte_t want = level == 2 ? L2_TABLE_BITS : L1_TABLE_BITS;
	pgt_paddr_t next = e & oa;
	size_t bytes = ((x->flags & PGT_SPACE_LINKS) ? 2u : 1u) * lv[level - 1].table_size;

	ck_assert_msg((e & ~oa) == want, "level %u table entry %#018llx", level, (unsigned long long)e);
	ck_assert_msg(test_mm_owns(&x->t, next, level - 1), "level %u entry points at %#llx", level,
		      (unsigned long long)next);
	ck_assert_uint_eq(test_mm_frame_size(&x->t, next), bytes);
	return test_mm_p2v(&x->t, next);
}

/* The last root entry's 512M: 0x60000000 under 4 entries, 0x20000000 under 2. */
static pgt_vaddr_t sx_top(const struct sx *x)
{
	return (pgt_vaddr_t)((1u << x->a->level[2].bits) - 1) << 29;
}

#define SR_VA_4K    0x00345000ull /* root 0, level-1 index 1 */
#define SR_VA_2M    0x00400000ull /* root 0, level-1 index 2 */
#define SR_MAP_VA   0x1fdff000ull /* 4K, 2M | root 0 -> 1 | 2M, 4K */
#define SR_MAP_SIZE 0x402000ull
#define SR_MAP_PA   0x5fdff000ull /* va + 1 GiB: the 2M pages stay 2M-aligned */

/* The operations both small-root tests run, in order; each allocates or frees tables. */
enum sr_step {
	SR_INSERT_4K,
	SR_INSERT_2M,
	SR_INSERT_TOP,
	SR_UNMAP_TOP,
	SR_MAP,
	SR_PROTECT,
	SR_UNMAP_PAGE,
	SR_STEPS
};

static int sr_step(struct sx *x, enum sr_step s)
{
	switch (s) {
	case SR_INSERT_4K: return pgt_insert(&x->sp, SR_VA_4K, 12, NULL);
	case SR_INSERT_2M: return pgt_insert(&x->sp, SR_VA_2M, 21, NULL);
	case SR_INSERT_TOP: return pgt_insert(&x->sp, sx_top(x), 29, NULL);
	case SR_UNMAP_TOP: return pgt_unmap(&x->sp, sx_top(x), 1ull << 29);
	case SR_MAP: return pgt_map(&x->sp, SR_MAP_VA, SR_MAP_PA, SR_MAP_SIZE, R | W, 0);
	case SR_PROTECT: return pgt_protect(&x->sp, 0x1fe01000, 0x1000, R); /* splits a 2M page */
	case SR_UNMAP_PAGE: return pgt_unmap(&x->sp, 0x20003000, 0x1000);   /* splits the next one */
	default: return PGT_EINVAL;
	}
}

/* One access through pgt_translate: PGT_OK and @p want, or a fault of @p kind at @p level. */
static void sx_translate(struct sx *x, pgt_vaddr_t va, int want_rc, pgt_paddr_t want, int kind,
			 unsigned level)
{
	pgt_paddr_t pa = 0;
	struct pgt_fault f = { 0 };
	int rc = pgt_translate(&x->sp, va, PGT_ACC_READ, &pa, &f);

	ck_assert_msg(rc == want_rc, "translate %#llx: %d (%s)", (unsigned long long)va, rc,
		      pgt_strerror(rc));
	if (rc == PGT_OK)
		ck_assert_msg(pa == want, "translate %#llx: pa %#llx, expected %#llx", (unsigned long long)va,
			      (unsigned long long)pa, (unsigned long long)want);
	else
		ck_assert_msg(f.kind == kind && f.level == level, "translate %#llx: fault %d at level %u",
			      (unsigned long long)va, f.kind, f.level);
}

/* What the script leaves: checked the same way with and without injected failures. */
static void sr_check_final(struct sx *x)
{
	struct tree_stats st = tree_check(&x->sp, x->a, &x->t);

	/* root; level-1 tables under roots 0 and 1; level-0 tables at 1, 0xfe, 0xff and 1:0, 1:1 */
	ck_assert_uint_eq(st.tables, 8);
	ck_assert_uint_eq(st.leaves, 1 + 512 + 511 + 1);
	ck_assert_uint_eq(st.reserved, 2);
	ck_assert_uint_eq(st.problems, 0);
	ck_assert_int_eq(pgt_verify(&x->sp, NULL, NULL), 0);
	sx_translate(x, 0x1fdff123, PGT_OK, 0x5fdff123, 0, 0);
	sx_translate(x, 0x1fe01008, PGT_OK, 0x5fe01008, 0, 0);
	sx_translate(x, 0x1fffffff, PGT_OK, 0x5fffffff, 0, 0);
	sx_translate(x, 0x20000010, PGT_OK, 0x60000010, 0, 0);
	sx_translate(x, 0x20003000, PGT_EFAULT, 0, PGT_FAULT_NOT_PRESENT, 0);
	sx_translate(x, 0x20004000, PGT_OK, 0x60004000, 0, 0);
	sx_translate(x, 0x20200ff8, PGT_OK, 0x60200ff8, 0, 0);
	sx_translate(x, 0x20201000, PGT_EFAULT, 0, PGT_FAULT_NOT_PRESENT, 0);
	sx_translate(x, SR_VA_4K, PGT_EFAULT, 0, PGT_FAULT_NOT_PRESENT, 0); /* reserved */
	sx_translate(x, SR_VA_2M, PGT_EFAULT, 0, PGT_FAULT_NOT_PRESENT, 1);
	if (sx_top(x) != 0x20000000)
		sx_translate(x, sx_top(x), PGT_EFAULT, 0, PGT_FAULT_NOT_PRESENT, 2);
	sx_translate(x, 1ull << x->a->va_bits, PGT_ERANGE, 0, 0, 0);
	/* Everything goes; the root stays until destroy. */
	CHECK_RC(pgt_unmap(&x->sp, 0, 1ull << x->a->va_bits), PGT_OK);
	ck_assert_uint_eq(test_mm_outstanding(&x->t), 1);
	st = tree_check(&x->sp, x->a, &x->t);
	ck_assert_uint_eq(st.tables, 1);
	ck_assert_uint_eq(st.leaves + st.reserved, 0);
}

START_TEST(test_small_root_init)
{
	struct sx x;

	sx_open(&x, _i);
	pgt_paddr_t root = pgt_space_root(&x.sp);
	ck_assert_msg(test_mm_owns(&x.t, root, 2), "root is a level-2 frame");
	ck_assert_uint_eq(test_mm_frame_size(&x.t, root), sx_root_bytes(&x));
	ck_assert_msg((root & (sx_root_bytes(&x) - 1)) == 0, "root aligned to its size");
	const pgt_pte_t *r = test_mm_p2v(&x.t, root);
	for (size_t i = 0; i < sx_root_bytes(&x) / 8; i++)
		ck_assert_msg(r[i] == 0, "root word %zu not cleared", i);
	ck_assert_uint_eq(test_mm_outstanding(&x.t), 1);
	sx_close(&x);
}
END_TEST

/* Insert, lookup, fields, map across root entries, protect, unmap, translate, verify. */
START_TEST(test_small_root_ops)
{
	struct sx x;
	pgt_ref_t ref;

	sx_open(&x, _i);
	pgt_pte_t *root = test_mm_p2v(&x.t, pgt_space_root(&x.sp));
	CHECK_RC(sr_step(&x, SR_INSERT_4K), PGT_OK);
	CHECK_RC(sr_step(&x, SR_INSERT_2M), PGT_OK);
	CHECK_RC(sr_step(&x, SR_INSERT_TOP), PGT_OK);
	CHECK_PTE(root[(1u << x.a->level[2].bits) - 1], lv[2].reserved,
		  "reserved 512M leaf in the last root entry");
	pgt_pte_t *t1 = sx_follow(&x, root[0], 2);
	CHECK_RC(pgt_lookup(&x.sp, SR_VA_4K + 0xfff, &ref), PGT_OK);
	ck_assert_uint_eq(ref.level, 0);
	ck_assert_ptr_eq(ref.pte, sx_follow(&x, t1[1], 1) + 0x145);
	CHECK_RC(pgt_set_field(&x.sp, ref, PGT_FIELD_PADDR, 0x12345000), PGT_OK);
	CHECK_RC(pgt_set_field(&x.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
	CHECK_PTE(*ref.pte, 0x12345000 | rows[1].bits[0], "RW 4K leaf under a small root");
	sx_translate(&x, SR_VA_4K + 0x10, PGT_OK, 0x12345010, 0, 0);
	CHECK_RC(pgt_set_field(&x.sp, ref, PGT_FIELD_PROT, 0), PGT_OK); /* reserved again */
	CHECK_RC(pgt_lookup(&x.sp, SR_VA_2M + 0x1fffff, &ref), PGT_OK);
	ck_assert_uint_eq(ref.level, 1);
	ck_assert_ptr_eq(ref.pte, &t1[2]);
	CHECK_RC(pgt_lookup(&x.sp, sx_top(&x) + 0x1234, &ref), PGT_OK);
	ck_assert_uint_eq(ref.level, 2);
	CHECK_RC(pgt_insert(&x.sp, sx_top(&x) + 0x1000, 12, NULL), PGT_EXISTS);
	CHECK_RC(pgt_insert(&x.sp, 1ull << x.a->va_bits, 12, NULL), PGT_ERANGE);
	CHECK_RC(sr_step(&x, SR_UNMAP_TOP), PGT_OK);
	CHECK_PTE(root[(1u << x.a->level[2].bits) - 1], 0, "last root entry empty again");
	CHECK_RC(pgt_lookup(&x.sp, sx_top(&x), NULL), PGT_ENOENT);

	CHECK_RC(sr_step(&x, SR_MAP), PGT_OK);
	t1 = sx_follow(&x, root[0], 2);
	CHECK_PTE(t1[0xff], 0x5fe00000 | rows[1].bits[1], "2M page below the root-entry line");
	pgt_pte_t *t1b = sx_follow(&x, root[1], 2);
	CHECK_PTE(t1b[0], 0x60000000 | rows[1].bits[1], "2M page above it");
	CHECK_RC(pgt_map(&x.sp, 0x1ffff000, 0x1000, 0x1000, R, 0), PGT_ECONFLICT);
	CHECK_RC(sr_step(&x, SR_PROTECT), PGT_OK);
	CHECK_RC(sr_step(&x, SR_UNMAP_PAGE), PGT_OK);
	sr_check_final(&x);
	sx_close(&x);
}
END_TEST

/* The same script with the N-th allocation failing, for every N: all or nothing each time. */
START_TEST(test_small_root_alloc_failure)
{
	struct sx x;
	long failed = 0;

	/* pgt_space_init: its one allocation. */
	test_mm_init(&x.t, (_i & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET);
	x.t.fail_at = 1;
	CHECK_RC(pgt_space_init(&x.sp, &small_roots[(_i >> 2) & 1], &x.t.mm, (_i & 2) ? PGT_SPACE_LINKS : 0),
		 PGT_ENOMEM);
	ck_assert_uint_eq(test_mm_outstanding(&x.t), 0);
	test_mm_fini(&x.t);

	sx_open(&x, _i);
	for (unsigned s = 0; s < SR_STEPS; s++) {
		for (long k = 1;; k++) {
			size_t n, live = test_mm_outstanding(&x.t);
			pgt_pte_t *before = tree_snapshot(&x.sp, x.a, &x.t, &n);
			x.t.fail_at = x.t.attempts + k;
			int rc = sr_step(&x, (enum sr_step)s);
			x.t.fail_at = 0;
			if (rc == PGT_OK) {
				free(before);
				break;
			}
			ck_assert_msg(rc == PGT_ENOMEM, "step %u, allocation %ld failing: %s", s, k,
				      pgt_strerror(rc));
			ck_assert_msg(tree_unchanged(&x.sp, x.a, &x.t, before, n), "step %u: tree changed",
				      s);
			ck_assert_uint_eq(test_mm_outstanding(&x.t), live);
			ck_assert_uint_eq(x.t.errors, 0);
			failed++;
		}
	}
	ck_assert_msg(failed >= 6, "only %ld failures injected", failed);
	sr_check_final(&x);
	sx_close(&x);
}
END_TEST

/*
 * A root frame aligned to its own size and nothing more (not to the 1 KiB
 * the root's table-address field would need) is taken; one off by half its
 * size is PGT_EHOOK, and the library gives it back.
 */
struct carve {
	struct test_mm t; /* first: the harness's hooks take the same ctx */
	pgt_paddr_t (*alloc)(void *ctx, size_t size, unsigned level);
	void (*free)(void *ctx, pgt_paddr_t pa, size_t size, unsigned level);
	int (*owns)(void *ctx, pgt_paddr_t pa, size_t size, unsigned level);
	unsigned char *buf;
	size_t off, size;
	long root_allocs, root_frees;
};

static pgt_paddr_t carve_alloc(void *ctx, size_t size, unsigned level)
{
	struct carve *c = ctx;

	if (level != 2)
		return c->alloc(ctx, size, level);
	ck_assert_uint_eq(size, c->size);
	c->root_allocs++;
	memset(c->buf, 0xa5, 8192);
	return (pgt_paddr_t)(uintptr_t)(c->buf + c->off);
}

static void carve_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct carve *c = ctx;

	if (level != 2) {
		c->free(ctx, pa, size, level);
		return;
	}
	ck_assert_msg(pa == (pgt_paddr_t)(uintptr_t)(c->buf + c->off) && size == c->size, "bad root free");
	c->root_frees++;
}

static int carve_owns(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct carve *c = ctx;

	if (level == 2)
		return pa == (pgt_paddr_t)(uintptr_t)(c->buf + c->off) && size == c->size;
	return c->owns(ctx, pa, size, level);
}

START_TEST(test_small_root_frame_alignment)
{
	const struct pgt_arch *a = &small_roots[(_i >> 1) & 1];
	unsigned flags = (_i & 1) ? PGT_SPACE_LINKS : 0;
	struct carve c = { 0 };
	pgt_space_t sp;

	test_mm_init(&c.t, TEST_MM_OFFSET);
	c.alloc = c.t.mm.alloc_table;
	c.free = c.t.mm.free_table;
	c.t.mm.alloc_table = carve_alloc;
	c.t.mm.free_table = carve_free;
	c.owns = c.t.mm.owns_table;
	c.t.mm.owns_table = carve_owns;
	c.buf = aligned_alloc(4096, 8192);
	ck_assert_ptr_nonnull(c.buf);
	c.size = (flags ? 2u : 1u) * a->level[2].table_size;

	c.off = 4096 + c.size; /* aligned to the root's size, not to twice it, not to 1 KiB */
	CHECK_RC(pgt_space_init(&sp, a, &c.t.mm, flags), PGT_OK);
	pgt_paddr_t root = pgt_space_root(&sp);
	ck_assert_msg((root & (c.size - 1)) == 0 && (root & 0x3ff) != 0, "root at %#llx",
		      (unsigned long long)root);
	for (size_t i = 0; i < c.size / 8; i++)
		ck_assert_msg(((const pgt_pte_t *)(uintptr_t)root)[i] == 0, "root word %zu not cleared", i);
	CHECK_RC(pgt_map(&sp, SR_MAP_VA, SR_MAP_PA, SR_MAP_SIZE, R, 0), PGT_OK);
	pgt_paddr_t pa = 0;
	struct pgt_fault f;
	CHECK_RC(pgt_translate(&sp, 0x20200010, PGT_ACC_READ, &pa, &f), PGT_OK);
	ck_assert_uint_eq(pa, 0x60200010);
	ck_assert_int_eq(pgt_verify(&sp, NULL, NULL), 0);
	CHECK_RC(pgt_unmap(&sp, 0, 1ull << a->va_bits), PGT_OK);
	ck_assert_uint_eq(test_mm_outstanding(&c.t), 0); /* the harness's books hold all but the root */
	pgt_space_destroy(&sp);
	ck_assert_uint_eq(c.root_frees, 1);

	c.off = 4096 + c.size / 2; /* misaligned: the hook's bug */
	CHECK_RC(pgt_space_init(&sp, a, &c.t.mm, flags), PGT_EHOOK);
	ck_assert_uint_eq(c.root_allocs, 2);
	ck_assert_uint_eq(c.root_frees, 2);
	ck_assert_uint_eq(test_mm_outstanding(&c.t), 0);
	ck_assert_uint_eq(c.t.errors, 0);
	free(c.buf);
	test_mm_fini(&c.t);

	/* The harness's frames, off by half the root, or past the address field's top bit (47). */
	const pgt_paddr_t offs[] = { c.size / 2, 8, 1ull << 48 };
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		struct test_mm t;
		test_mm_init(&t, TEST_MM_OFFSET);
		t.misalign = offs[i];
		CHECK_RC(pgt_space_init(&sp, a, &t.mm, flags), PGT_EHOOK);
		ck_assert_uint_eq(t.allocs, 1);
		ck_assert_uint_eq(t.frees, 1);
		ck_assert_uint_eq(t.errors, 0);
		test_mm_fini(&t);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Malformed descriptors: PGT_EINVAL, nothing allocated.                     */

struct defect {
	const char *what;
	void (*apply)(struct pgt_arch *a);
};

static void d_levels0(struct pgt_arch *a)
{
	a->levels = 0;
}
static void d_levels7(struct pgt_arch *a)
{
	a->levels = PGT_MAX_LEVELS + 1;
}
static void d_levels2(struct pgt_arch *a)
{
	a->levels = 2;
}
static void d_shift1(struct pgt_arch *a)
{
	a->level[1].shift = 20;
}
static void d_shift2(struct pgt_arch *a)
{
	a->level[2].shift = 30;
	a->va_bits = 37;
}
static void d_va37(struct pgt_arch *a)
{
	a->va_bits = 37;
}
static void d_va35(struct pgt_arch *a)
{
	a->va_bits = 35;
}
static void d_va0(struct pgt_arch *a)
{
	a->va_bits = 0;
}
static void d_enc(struct pgt_arch *a)
{
	a->prot_encode = NULL;
}
static void d_dec(struct pgt_arch *a)
{
	a->prot_decode = NULL;
}
static void d_tsize1(struct pgt_arch *a)
{
	a->level[1].table_size = 4096;
}
static void d_tsize0(struct pgt_arch *a)
{
	a->level[0].table_size = 2048;
}
static void d_bits0(struct pgt_arch *a)
{
	a->level[1].bits = 0;
	a->level[1].table_size = 8;
}
static void d_bits17(struct pgt_arch *a)
{
	a->level[0].bits = 17;
	a->level[0].table_size = 8u << 17;
}
static void d_oa1(struct pgt_arch *a)
{
	a->level[1].leaf_oa = 0x0000fffffff00000ull;
} /* [47:20] */
static void d_oa2(struct pgt_arch *a)
{
	a->level[2].leaf_oa = L0_OA;
}
static void d_oa0(struct pgt_arch *a)
{
	a->level[0].leaf_oa = 0x0000ffffffffff00ull;
}
static void d_leaf0(struct pgt_arch *a)
{
	a->level[0].leaf_ok = 0;
}
static void d_valid0(struct pgt_arch *a)
{
	a->level[0].valid = 0;
}
static void d_valid2(struct pgt_arch *a)
{
	a->level[2].valid = 0;
}
static void d_resv1(struct pgt_arch *a)
{
	a->level[1].reserved = 0;
}
static void d_canon(struct pgt_arch *a)
{
	a->canon = 2;
}
static void d_pa0(struct pgt_arch *a)
{
	a->pa_bits = 0;
}
static void d_pa65(struct pgt_arch *a)
{
	a->pa_bits = 65;
}
/* Levels below the root go on the lists of tables out of the tree: eight entries at least. */
static void d_l1_four(struct pgt_arch *a)
{
	a->level[1].bits = 2;
	a->level[1].table_size = 32;
	a->level[2].shift = 23;
	a->va_bits = 30;
}
static void d_l0_four(struct pgt_arch *a)
{
	a->level[0].bits = 2;
	a->level[0].table_size = 32;
	a->level[1].shift = 14;
	a->level[2].shift = 22;
	a->va_bits = 29;
}
static void d_small_root_l1_two(struct pgt_arch *a)
{
	a->level[1].bits = 1;
	a->level[1].table_size = 16;
	a->level[2].shift = 22;
	a->level[2].bits = 2;
	a->level[2].table_size = 32;
	a->va_bits = 24;
}
static void d_one_level_four(struct pgt_arch *a)
{
	a->levels = 1;
	a->level[0].bits = 2;
	a->level[0].table_size = 32;
	a->va_bits = 14;
}

static const struct defect defects[] = {
	{ "0 levels", d_levels0 },
	{ "more levels than PGT_MAX_LEVELS", d_levels7 },
	{ "2 levels: root does not reach va_bits", d_levels2 },
	{ "level-1 shift does not chain", d_shift1 },
	{ "level-2 shift does not chain", d_shift2 },
	{ "va_bits 37 != root shift + bits", d_va37 },
	{ "va_bits 35 != root shift + bits", d_va35 },
	{ "va_bits 0", d_va0 },
	{ "NULL prot_encode", d_enc },
	{ "NULL prot_decode", d_dec },
	{ "level-1 table_size 4096 for 256 entries", d_tsize1 },
	{ "level-0 table_size 2048 for 512 entries", d_tsize0 },
	{ "level-1 index of 0 bits", d_bits0 },
	{ "level-0 index of 17 bits", d_bits17 },
	{ "level-1 leaf_oa overlaps the 2M page offset", d_oa1 },
	{ "level-2 leaf_oa overlaps the 512M page offset", d_oa2 },
	{ "level-0 leaf_oa overlaps the 4K page offset", d_oa0 },
	{ "level 0 without leaves", d_leaf0 },
	{ "level-0 valid == 0", d_valid0 },
	{ "level-2 valid == 0", d_valid2 },
	{ "leaf level without a reserved mark", d_resv1 },
	{ "unknown canonical rule", d_canon },
	{ "pa_bits 0", d_pa0 },
	{ "pa_bits 65", d_pa65 },
	{ "level-1 table of 4 entries (not the root)", d_l1_four },
	{ "level-0 table of 4 entries (not the root)", d_l0_four },
	{ "4-entry root over a 2-entry level 1", d_small_root_l1_two },
	{ "1 level: a 4-entry root at level 0, whose tables are memo chunks", d_one_level_four },
};
#define NDEFECTS (sizeof defects / sizeof defects[0])

START_TEST(test_fake_malformed)
{
	const struct defect *d = &defects[_i / 2];
	struct pgt_arch bad = fake_arch;
	struct test_mm t;
	pgt_space_t sp;

	d->apply(&bad);
	test_mm_init(&t, (_i & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET);
	int rc = pgt_space_init(&sp, &bad, &t.mm, 0);
	ck_assert_msg(rc == PGT_EINVAL, "%s: pgt_space_init returned %d (%s)", d->what, rc, pgt_strerror(rc));
	ck_assert_msg(t.attempts == 0, "%s: %ld allocations tried", d->what, t.attempts);
	ck_assert_uint_eq(test_mm_outstanding(&t), 0);
	test_mm_fini(&t);
}
END_TEST

/* Well-formed variations are accepted: only level-0 leaves (no reserved mark
 * needed above), and the descriptor itself in both allocator modes. */
START_TEST(test_fake_variants_accepted)
{
	struct pgt_arch only4k = fake_arch;
	struct test_mm t;
	pgt_space_t sp;

	only4k.level[1].leaf_ok = 0;
	only4k.level[1].reserved = 0;
	only4k.level[2].leaf_ok = 0;
	only4k.level[2].reserved = 0;
	test_mm_init(&t, (_i & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET);
	CHECK_RC(pgt_space_init(&sp, &only4k, &t.mm, 0), PGT_OK);
	CHECK_RC(pgt_insert(&sp, lv[1].va, 21, NULL), PGT_ESIZE);
	CHECK_RC(pgt_insert(&sp, lv[2].va, 29, NULL), PGT_ESIZE);
	CHECK_RC(pgt_insert(&sp, lv[0].va, 12, NULL), PGT_OK);
	ck_assert_uint_eq(tree_check(&sp, &only4k, &t).problems, 0);
	pgt_space_destroy(&sp);
	ck_assert_uint_eq(test_mm_outstanding(&t), 0);
	ck_assert_uint_eq(t.errors, 0);
	test_mm_fini(&t);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *fake_suite(void)
{
	Suite *s = suite_create("fake_arch");
	TCase *tab = tcase_create("tables");
	TCase *fld = tcase_create("fields");
	TCase *lnk = tcase_create("links");
	TCase *cls = tcase_create("classes");
	TCase *dsc = tcase_create("descriptor");
	TCase *sml = tcase_create("small_root");

	/* Loop index 0..3: bit 0 hook mode, bit 1 PGT_SPACE_LINKS. */
	tcase_add_loop_test(tab, test_fake_init, 0, 4);
	tcase_add_loop_test(tab, test_fake_insert_each_level, 0, 4);
	tcase_add_loop_test(tab, test_fake_exists_conflict, 0, 4);
	tcase_add_loop_test(tab, test_fake_alloc_failure, 0, 4);
	tcase_add_loop_test(tab, test_fake_ranges, 0, 4);
	suite_add_tcase(s, tab);

	tcase_add_loop_test(fld, test_fake_prot_each_level, 0, 4);
	tcase_add_loop_test(fld, test_fake_enotsup, 0, 4);
	tcase_add_loop_test(fld, test_fake_paddr_each_level, 0, 4);
	tcase_add_loop_test(fld, test_fake_status_bits, 0, 4);
	tcase_add_loop_test(fld, test_fake_get_fields, 0, 4);
	suite_add_tcase(s, fld);

	tcase_add_loop_test(lnk, test_fake_links, 0, 2);
	tcase_add_loop_test(lnk, test_fake_links_off, 0, 2);
	suite_add_tcase(s, lnk);

	tcase_add_loop_test(cls, test_fake_classes, 0, 4);
	suite_add_tcase(s, cls);

	tcase_add_loop_test(dsc, test_fake_malformed, 0, (int)NDEFECTS * 2);
	tcase_add_loop_test(dsc, test_fake_variants_accepted, 0, 2);
	suite_add_tcase(s, dsc);

	/* Loop index 0..7: bit 0 hook mode, bit 1 PGT_SPACE_LINKS, bit 2 the 2-entry root. */
	tcase_add_loop_test(sml, test_small_root_init, 0, 8);
	tcase_add_loop_test(sml, test_small_root_ops, 0, 8);
	tcase_add_loop_test(sml, test_small_root_alloc_failure, 0, 8);
	tcase_add_loop_test(sml, test_small_root_frame_alignment, 0, 4);
	suite_add_tcase(s, sml);
	return s;
}

int main(void)
{
	small_roots_init();
	int failed = test_run_suite(fake_suite());
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
