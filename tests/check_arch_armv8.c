/* SPDX-License-Identifier: MIT */
/*
 * check_arch_armv8: golden encodings of the four ARMv8-A descriptors
 * (armv8-4k-39, armv8-4k-48, armv8-16k-47, armv8-64k-42), lower (TTBR0)
 * and upper (TTBR1, PGT_SPACE_UPPER) spaces.
 *
 * Entries are built through the public API only and compared with literal
 * values worked out by hand from the Arm ARM (DDI 0487) D8.3 "Translation
 * table descriptor formats" (D5.3 in older issues; the stage-1 attribute
 * fields are in its "Memory attribute fields" subsection). The
 * PGT_ARMV8_* macros are deliberately not used for expected values.
 *
 * VMSAv8-64 stage-1 bits used below:
 *   bits[1:0]  0b11 table (levels above the last) or page (last level),
 *              0b01 block; bit 0 clear: invalid (all else ignored)
 *   bits[4:2]  AttrIndx[2:0] (MAIR_EL1 index; 0 normal WB, 1 device here)
 *   bit 6      AP[1]: EL0 access      bit 7  AP[2]: read-only
 *   bits[9:8]  SH[1:0] (0b11 inner shareable)
 *   bit 10     AF   bit 11 nG   bit 53 PXN   bit 54 UXN
 *   bits[58:55] reserved for software (libpgtable: 55 dirty, 58 reserved leaf)
 *   OA: [47:12] 4K page, [47:21] 2M block, [47:30] 1G block,
 *       [47:14] 16K page, [47:25] 32M block, [47:16] 64K page,
 *       [47:29] 512M block; next-level table address [47:granule shift];
 *   table descriptor attributes [63:59] (NSTable, APTable, UXNTable,
 *   PXNTable) left 0 so the leaf decides.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include <pgtable/arch.h>
#include <pgtable/armv8.h>
#include <pgtable/pgtable.h>

#include "harness.h"

enum {
	R = PGT_PROT_READ,
	W = PGT_PROT_WRITE,
	X = PGT_PROT_EXEC,
	U = PGT_PROT_USER,
	G = PGT_PROT_GLOBAL,
	UC = PGT_PROT_UNCACHED
};

/* ------------------------------------------------------------------------ */
/* Golden attribute bits (everything but the output address).                */

struct prot_row {
	unsigned prot;
	const char *name;
	pgt_pte_t page;  /* last level: bits[1:0] = 0b11 */
	pgt_pte_t block; /* block: bits[1:0] = 0b01 */
};

/*
 * Column sums, low bits: 0x3 page / 0x1 block, AttrIndx 0x0 or 0x4 (index 1),
 * AP[1] 0x40, AP[2] 0x80, SH 0x300, AF 0x400, nG 0x800.
 * High bits: PXN 0x0020000000000000, UXN 0x0040000000000000.
 */
static const struct prot_row rows[] = {
	/* RO kernel, no exec: AP[2] | SH | AF | nG | PXN | UXN. */
	{ R, "R", 0x0060000000000f83ull, 0x0060000000000f81ull },
	/* RW kernel: AP[2] clear. */
	{ R | W, "RW", 0x0060000000000f03ull, 0x0060000000000f01ull },
	/* Kernel exec: UXN=1, PXN=0. */
	{ R | X, "RX", 0x0040000000000f83ull, 0x0040000000000f81ull },
	{ R | W | X, "RWX", 0x0040000000000f03ull, 0x0040000000000f01ull },
	/* EL0 access: AP[1]. */
	{ R | U, "R|USER", 0x0060000000000fc3ull, 0x0060000000000fc1ull },
	{ R | W | U, "RW|USER", 0x0060000000000f43ull, 0x0060000000000f41ull },
	/* User exec: PXN=1, UXN=0. */
	{ R | X | U, "RX|USER", 0x0020000000000fc3ull, 0x0020000000000fc1ull },
	{ R | W | X | U, "RWX|USER", 0x0020000000000f43ull, 0x0020000000000f41ull },
	/* Global: nG clear. */
	{ R | G, "R|GLOBAL", 0x0060000000000783ull, 0x0060000000000781ull },
	/* Device memory: AttrIndx = 1. */
	{ R | UC, "R|UNCACHED", 0x0060000000000f87ull, 0x0060000000000f85ull },
	{ R | W | G | UC, "RW|GLOBAL|UNCACHED", 0x0060000000000707ull, 0x0060000000000705ull },
	{ R | W | X | U | G | UC, "RWX|USER|GLOBAL|UNCACHED", 0x0020000000000747ull, 0x0020000000000745ull },
};
#define NROWS (sizeof rows / sizeof rows[0])

/* What pgt_insert leaves: invalid (bit 0 clear), software bit 58, plus the
 * attributes of "no rights": SH, AP[2], nG, PXN, UXN. No AF. */
#define RESERVED_LEAF      0x0460000000000b80ull
/* Same with USER|GLOBAL|UNCACHED kept: AttrIndx 1, AP[1], nG clear. */
#define RESERVED_LEAF_UGUC 0x04600000000003c4ull
/* A table descriptor: 0b11 and nothing but the next-table address. */
#define TABLE_DESC_BITS    0x3ull
/*
 * Where libpgtable counts the used entries of the linked table in a table
 * descriptor: ignored bits [11:2] (D8.3.1, 48-bit output addresses), and
 * for the 16K and 64K granules (12 and 14 bits of count) ignored bits of
 * [58:51] too: 51 and 53 (16K), 51 and 55:53 (64K). Bit 52 is stage 1's
 * Protected attribute when TCR2_ELx.PnCH is 1; 56 and 57 are the
 * borrowed and pinned marks. Count bits [9:0] sit in [11:2], bit 10 in
 * 51, bits 11 and up from 53.
 */
#define TABLE_IGNORED_11_2 0xffcull
#define TABLE_COUNT_16K    0x0028000000000ffcull
#define TABLE_COUNT_64K    0x00e8000000000ffcull

static pgt_pte_t count_bits_of(unsigned granule)
{
	return granule == 12 ? TABLE_IGNORED_11_2 : granule == 14 ? TABLE_COUNT_16K : TABLE_COUNT_64K;
}

/* The count a table descriptor holds, spelled out from the layout above. */
static unsigned count_in(unsigned granule, pgt_pte_t e)
{
	unsigned n = (unsigned)(e >> 2) & 0x3ff;

	if (granule != 12)
		n |= (unsigned)(e >> 51 & 1) << 10 | (unsigned)(e >> 53 & (granule == 14 ? 1 : 7)) << 11;
	return n;
}

/* ------------------------------------------------------------------------ */
/* The descriptors, spelled out by hand.                                     */

struct arm_size {
	unsigned shift, level;
	pgt_paddr_t pa;    /* a high, aligned address inside 48 bits */
	pgt_pte_t oa_mask; /* OA[47:shift] */
	const char *name;
};

struct arm_desc {
	const struct pgt_arch *a;
	const char *name;
	unsigned levels, va_bits, granule, bits, root_shift;
	uint32_t table_size;
	pgt_pte_t table_oa; /* next-level table address [47:granule] */
	unsigned leaf_ok[4];
	unsigned nsizes;
	struct arm_size size[3];
	/* address-range boundaries */
	pgt_vaddr_t lower_top_page, lower_end, upper_bottom, upper_below, upper_top_page;
	unsigned root_last; /* last index of the root table */
};

static const struct arm_desc descs[] = {
	{ .a = &pgt_arch_armv8_4k_39,
	  .name = "armv8-4k-39",
	  .levels = 3,
	  .va_bits = 39,
	  .granule = 12,
	  .bits = 9,
	  .root_shift = 30,
	  .table_size = 4096,
	  .table_oa = 0x0000fffffffff000ull,
	  .leaf_ok = { 1, 1, 1, 0 },
	  .nsizes = 3,
	  .size = { { 12, 0, 0x0000fedcba987000ull, 0x0000fffffffff000ull, "4K page" },
		    { 21, 1, 0x0000fedcba800000ull, 0x0000ffffffe00000ull, "2M block" },
		    { 30, 2, 0x0000fedcc0000000ull, 0x0000ffffc0000000ull, "1G block" } },
	  .lower_top_page = 0x0000007ffffff000ull,
	  .lower_end = 0x0000008000000000ull,
	  .upper_bottom = 0xffffff8000000000ull,
	  .upper_below = 0xffffff7ffffff000ull,
	  .upper_top_page = 0xfffffffffffff000ull,
	  .root_last = 511 },
	{ .a = &pgt_arch_armv8_4k_48,
	  .name = "armv8-4k-48",
	  .levels = 4,
	  .va_bits = 48,
	  .granule = 12,
	  .bits = 9,
	  .root_shift = 39,
	  .table_size = 4096,
	  .table_oa = 0x0000fffffffff000ull,
	  .leaf_ok = { 1, 1, 1, 0 },
	  .nsizes = 3,
	  .size = { { 12, 0, 0x0000fedcba987000ull, 0x0000fffffffff000ull, "4K page" },
		    { 21, 1, 0x0000fedcba800000ull, 0x0000ffffffe00000ull, "2M block" },
		    { 30, 2, 0x0000fedcc0000000ull, 0x0000ffffc0000000ull, "1G block" } },
	  .lower_top_page = 0x0000fffffffff000ull,
	  .lower_end = 0x0001000000000000ull,
	  .upper_bottom = 0xffff000000000000ull,
	  .upper_below = 0xfffefffffffff000ull,
	  .upper_top_page = 0xfffffffffffff000ull,
	  .root_last = 511 },
	{ .a = &pgt_arch_armv8_16k_47,
	  .name = "armv8-16k-47",
	  .levels = 3,
	  .va_bits = 47,
	  .granule = 14,
	  .bits = 11,
	  .root_shift = 36,
	  .table_size = 16384,
	  .table_oa = 0x0000ffffffffc000ull,
	  .leaf_ok = { 1, 1, 0, 0 },
	  .nsizes = 2,
	  .size = { { 14, 0, 0x0000fedcba98c000ull, 0x0000ffffffffc000ull, "16K page" },
		    { 25, 1, 0x0000fedcbe000000ull, 0x0000fffffe000000ull, "32M block" } },
	  .lower_top_page = 0x00007fffffffc000ull,
	  .lower_end = 0x0000800000000000ull,
	  .upper_bottom = 0xffff800000000000ull,
	  .upper_below = 0xffff7fffffffc000ull,
	  .upper_top_page = 0xffffffffffffc000ull,
	  .root_last = 2047 },
	{ .a = &pgt_arch_armv8_64k_42,
	  .name = "armv8-64k-42",
	  .levels = 2,
	  .va_bits = 42,
	  .granule = 16,
	  .bits = 13,
	  .root_shift = 29,
	  .table_size = 65536,
	  .table_oa = 0x0000ffffffff0000ull,
	  .leaf_ok = { 1, 1, 0, 0 },
	  .nsizes = 2,
	  .size = { { 16, 0, 0x0000fedcba990000ull, 0x0000ffffffff0000ull, "64K page" },
		    { 29, 1, 0x0000fedca0000000ull, 0x0000ffffe0000000ull, "512M block" } },
	  .lower_top_page = 0x000003ffffff0000ull,
	  .lower_end = 0x0000040000000000ull,
	  .upper_bottom = 0xfffffc0000000000ull,
	  .upper_below = 0xfffffbffffff0000ull,
	  .upper_top_page = 0xffffffffffff0000ull,
	  .root_last = 8191 },
};
#define NDESCS (sizeof descs / sizeof descs[0])

/* ------------------------------------------------------------------------ */
/* Fixture                                                                   */

struct fx {
	struct test_mm t;
	pgt_space_t sp;
	const struct arm_desc *d;
	unsigned flags;
};

/* Loop index -> descriptor (i / 4), allocator mode (bit 1), upper half (bit 0). */
static const struct arm_desc *desc_of(int i)
{
	return &descs[(unsigned)i / 4];
}

static enum test_mm_mode mode_of(int i)
{
	return (i & 2) ? TEST_MM_HOOK : TEST_MM_OFFSET;
}

static unsigned flags_of(int i)
{
	return (i & 1) ? PGT_SPACE_UPPER : 0;
}

static void fx_open(struct fx *f, int i)
{
	test_mm_init(&f->t, mode_of(i));
	f->d = desc_of(i);
	f->flags = flags_of(i);
	CHECK_RC(pgt_space_init(&f->sp, f->d->a, &f->t.mm, f->flags), PGT_OK);
}

/* Checks the tree, destroys the space and checks that the books balance. */
static void fx_close(struct fx *f)
{
	struct tree_stats st = tree_check(&f->sp, f->d->a, &f->t);

	ck_assert_msg(st.problems == 0, "tree_check found %zu problems", st.problems);
	pgt_space_destroy(&f->sp);
	ck_assert_msg(test_mm_outstanding(&f->t) == 0, "%zu tables leaked", test_mm_outstanding(&f->t));
	ck_assert_msg(f->t.errors == 0, "%ld bad frees", f->t.errors);
	ck_assert_msg(f->t.allocs == f->t.frees, "allocs %ld != frees %ld", f->t.allocs, f->t.frees);
	test_mm_fini(&f->t);
}

/* Lowest address of the space: 0 or 2^64 - 2^va_bits. */
static pgt_vaddr_t bottom(const struct fx *f)
{
	return (f->flags & PGT_SPACE_UPPER) ? f->d->upper_bottom : 0;
}

/* A VA for page size @p s with a root entry of its own (odd root indices). */
static pgt_vaddr_t va_for(const struct fx *f, unsigned s)
{
	return bottom(f) + ((pgt_vaddr_t)(2 * s + 1) << f->d->root_shift);
}

static pgt_ref_t insert_ok(struct fx *f, pgt_vaddr_t va, unsigned shift)
{
	pgt_ref_t ref = { 0 };

	CHECK_RC(pgt_insert(&f->sp, va, shift, &ref), PGT_OK);
	ck_assert_ptr_nonnull(ref.pte);
	ck_assert_uint_eq(ref.page_shift, shift);
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

/* Index of @p va in a table whose lowest VA bit is @p shift. */
static unsigned idx(const struct arm_desc *d, pgt_vaddr_t va, unsigned shift)
{
	return (unsigned)(va >> shift) & ((1u << d->bits) - 1);
}

static unsigned shift_of_level(const struct arm_desc *d, unsigned level)
{
	return d->granule + level * d->bits;
}

/* ------------------------------------------------------------------------ */
/* Geometry and MAIR                                                         */

START_TEST(test_geometry)
{
	const struct arm_desc *d = &descs[_i];
	const struct pgt_arch *a = d->a;

	ck_assert_str_eq(a->name, d->name);
	ck_assert_ptr_eq(pgt_arch_by_name(d->name), a);
	ck_assert_uint_eq(a->levels, d->levels);
	ck_assert_uint_eq(a->va_bits, d->va_bits);
	ck_assert_uint_eq(a->pa_bits, 48);
	ck_assert_uint_eq(a->canon, PGT_CANON_SPLIT);
	for (unsigned l = 0; l < d->levels; l++) {
		const struct pgt_level *L = &a->level[l];
		ck_assert_msg(L->shift == shift_of_level(d, l), "%s level %u shift %u", d->name, l, L->shift);
		ck_assert_msg(L->bits == d->bits, "%s level %u bits %u", d->name, l, L->bits);
		ck_assert_msg(L->table_size == d->table_size, "%s level %u table size %u", d->name, l,
			      L->table_size);
		ck_assert_msg(L->leaf_ok == d->leaf_ok[l], "%s level %u leaf_ok %u", d->name, l, L->leaf_ok);
		CHECK_PTE(L->valid, 0x1, "valid is bit 0");
		CHECK_PTE(L->type_mask, 0x3, "type is bits[1:0]");
		if (l > 0) {
			CHECK_PTE(L->table_type, 0x3, "table descriptor 0b11");
			CHECK_PTE(L->table_oa, d->table_oa, "next-level table address");
		}
		/* ignored bits of a table descriptor: [11:2], and more of [58:51] for 16K and 64K */
		CHECK_PTE(L->table_count, l > 0 ? count_bits_of(d->granule) : 0, "count bits");
		if (L->leaf_ok)
			CHECK_PTE(L->leaf_type, l == 0 ? 0x3 : 0x1, "page 0b11, block 0b01");
	}
	ck_assert_uint_eq(d->root_shift, shift_of_level(d, d->levels - 1));
	for (unsigned s = 0; s < d->nsizes; s++) {
		const struct pgt_level *L = &a->level[d->size[s].level];
		ck_assert_uint_eq(L->shift, d->size[s].shift);
		CHECK_PTE(L->leaf_oa, d->size[s].oa_mask, d->size[s].name);
	}
}
END_TEST

/* MAIR_EL1 Attr<n> is bits [8n+7:8n] (MAIR_EL1 register description): attr0 0xff normal inner/outer
 * write-back non-transient RW-allocate, attr1 0x00 Device-nGnRnE, attr2 0x44
 * normal inner/outer non-cacheable. */
START_TEST(test_mair)
{
	ck_assert_uint_eq(PGT_ARMV8_MAIR, 0x4400ffull);
	ck_assert_uint_eq(PGT_ARMV8_MAIR & 0xff, 0xff);
	ck_assert_uint_eq((PGT_ARMV8_MAIR >> 8) & 0xff, 0x00);
	ck_assert_uint_eq((PGT_ARMV8_MAIR >> 16) & 0xff, 0x44);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Leaf encodings                                                            */

START_TEST(test_reserved_leaf_from_insert)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		pgt_vaddr_t va = va_for(&f, s);
		pgt_ref_t ref = insert_ok(&f, va, f.d->size[s].shift), found;
		ck_assert_uint_eq(ref.level, f.d->size[s].level);
		CHECK_PTE(*ref.pte, RESERVED_LEAF, f.d->size[s].name);
		CHECK_RC(pgt_lookup(&f.sp, va + 0x10, &found), PGT_OK);
		ck_assert_ptr_eq(found.pte, ref.pte);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), 0);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 0);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PADDR), 0);
	}
	struct tree_stats st = tree_check(&f.sp, f.d->a, &f.t);
	ck_assert_uint_eq(st.reserved, f.d->nsizes);
	ck_assert_uint_eq(st.leaves, 0);
	fx_close(&f);
}
END_TEST

/* Every rights row at every page/block size of every descriptor. */
START_TEST(test_leaf_prot_golden)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		const struct arm_size *sz = &f.d->size[s];
		pgt_ref_t ref = insert_ok(&f, va_for(&f, s), sz->shift);

		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->pa), PGT_OK);
		for (unsigned r = 0; r < NROWS; r++) {
			pgt_pte_t bits = sz->level == 0 ? rows[r].page : rows[r].block;
			CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, rows[r].prot), PGT_OK);
			ck_assert_msg(*ref.pte == (sz->pa | bits),
				      "%s %s %s: entry %#018llx, expected %#018llx", f.d->name, sz->name,
				      rows[r].name, (unsigned long long)*ref.pte,
				      (unsigned long long)(sz->pa | bits));
			ck_assert_msg(get(&f, ref, PGT_FIELD_PROT) == rows[r].prot,
				      "%s %s %s: decoded prot %#llx", f.d->name, sz->name, rows[r].name,
				      (unsigned long long)get(&f, ref, PGT_FIELD_PROT));
			ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 1); /* valid leaves carry AF */
			ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PADDR), sz->pa);
		}
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, U | G | UC), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | RESERVED_LEAF_UGUC, "reserved leaf keeping attributes");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), U | G | UC);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | RESERVED_LEAF, "reserved leaf, no attributes");
	}
	fx_close(&f);
}
END_TEST

/* Entries spelled out whole, one per descriptor, 4K granule and 64K. */
START_TEST(test_leaf_full_literals)
{
	struct fx f;

	fx_open(&f, _i);
	const struct arm_size *pg = &f.d->size[0], *blk = &f.d->size[1];
	pgt_ref_t p = insert_ok(&f, va_for(&f, 0), pg->shift);
	pgt_ref_t b = insert_ok(&f, va_for(&f, 1), blk->shift);

	CHECK_RC(pgt_set_field(&f.sp, p, PGT_FIELD_PADDR, 0x0000000040000000ull), PGT_OK);
	CHECK_RC(pgt_set_field(&f.sp, p, PGT_FIELD_PROT, R | W | U), PGT_OK);
	/* user data page: PXN|UXN, nG, AF, SH=11, AP=01, AttrIndx 0, page. */
	CHECK_PTE(*p.pte, 0x0060000040000f43ull, "user RW page at 1G");
	CHECK_RC(pgt_set_field(&f.sp, b, PGT_FIELD_PADDR, 0x0000000080000000ull), PGT_OK);
	CHECK_RC(pgt_set_field(&f.sp, b, PGT_FIELD_PROT, R | X | G), PGT_OK);
	/* global kernel text block: UXN, AF, SH=11, AP=10, block. */
	CHECK_PTE(*b.pte, 0x0040000080000781ull, "kernel RX global block at 2G");
	CHECK_RC(pgt_set_field(&f.sp, b, PGT_FIELD_PROT, R | W | UC), PGT_OK);
	/* device MMIO block: PXN|UXN, nG, AF, SH=11, AP=00, AttrIndx 1, block. */
	CHECK_PTE(*b.pte, 0x0060000080000f05ull, "kernel RW device block at 2G");
	fx_close(&f);
}
END_TEST

/* Execute-never: user exec leaves UXN clear and PXN set, kernel exec the reverse. */
START_TEST(test_execute_never)
{
	struct fx f;
	const pgt_pte_t pxn = 0x0020000000000000ull, uxn = 0x0040000000000000ull;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		pgt_ref_t ref = insert_ok(&f, va_for(&f, s), f.d->size[s].shift);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | X | U), PGT_OK);
		ck_assert_msg((*ref.pte & (pxn | uxn)) == pxn, "user exec: PXN=1, UXN=0 (%#llx)",
			      (unsigned long long)*ref.pte);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_EXEC), 1);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_USER, 0), PGT_OK);
		ck_assert_msg((*ref.pte & (pxn | uxn)) == uxn, "kernel exec: UXN=1, PXN=0 (%#llx)",
			      (unsigned long long)*ref.pte);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_EXEC), 1);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_EXEC, 0), PGT_OK);
		ck_assert_msg((*ref.pte & (pxn | uxn)) == (pxn | uxn), "no exec: both (%#llx)",
			      (unsigned long long)*ref.pte);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_USER, 1), PGT_OK);
		ck_assert_msg((*ref.pte & (pxn | uxn)) == (pxn | uxn), "no exec user: both (%#llx)",
			      (unsigned long long)*ref.pte);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_EXEC), 0);
	}
	fx_close(&f);
}
END_TEST

/* The entries of a table of @p n entries that are not 0. */
static unsigned used_entries(const pgt_pte_t *table, unsigned n)
{
	unsigned used = 0;

	for (unsigned i = 0; i < n; i++)
		used += table[i] != 0;
	return used;
}

/* Walks from the root to the table at @p stop for @p va, checking every
 * table descriptor on the way; returns that table. */
static pgt_pte_t *check_table_descs(struct fx *f, pgt_vaddr_t va, unsigned stop)
{
	const struct arm_desc *d = f->d;
	pgt_pte_t *table = table_at(f, pgt_space_root(&f->sp));

	ck_assert_uint_eq(test_mm_frame_size(&f->t, pgt_space_root(&f->sp)), d->table_size);
	for (unsigned l = d->levels - 1u; l > stop; l--) {
		unsigned i = idx(d, va, shift_of_level(d, l));
		pgt_pte_t e = table[i];
		pgt_paddr_t next = e & d->table_oa;

		ck_assert_msg((e & ~d->table_oa & ~count_bits_of(d->granule)) == TABLE_DESC_BITS,
			      "%s level %u table descriptor %#018llx: expected 0b11, the address and the count only",
			      d->name, l, (unsigned long long)e);
		ck_assert_msg(count_in(d->granule, e) == used_entries(table_at(f, next), 1u << d->bits),
			      "%s level %u table descriptor %#018llx: count", d->name, l, (unsigned long long)e);
		ck_assert_msg(test_mm_owns(&f->t, next, l - 1),
			      "%s level %u points at %#llx, not a level-%u table", d->name, l,
			      (unsigned long long)next, l - 1);
		ck_assert_uint_eq(test_mm_frame_size(&f->t, next), d->table_size);
		for (unsigned k = 0; k < (1u << d->bits); k++)
			ck_assert_msg(k == i || table[k] == 0, "%s level %u slot %u not cleared", d->name, l,
				      k);
		table = table_at(f, next);
	}
	return table;
}

START_TEST(test_table_descriptors)
{
	const struct arm_desc *d = desc_of(_i);

	for (unsigned s = 0; s < d->nsizes; s++) {
		struct fx f;
		fx_open(&f, _i);
		/* The last page/block of the space: every index is at its maximum. */
		pgt_vaddr_t top = (f.flags & PGT_SPACE_UPPER) ? d->upper_top_page : d->lower_top_page;
		pgt_vaddr_t va = top & ~((1ull << d->size[s].shift) - 1);
		pgt_ref_t ref = insert_ok(&f, va, d->size[s].shift);
		pgt_pte_t *table = check_table_descs(&f, va, d->size[s].level);
		ck_assert_ptr_eq(ref.pte, &table[idx(d, va, d->size[s].shift)]);
		ck_assert_uint_eq(test_mm_outstanding(&f.t), d->levels - d->size[s].level);
		/* And one in the middle, sharing the root. */
		pgt_vaddr_t mid = va_for(&f, 0) + ((pgt_vaddr_t)5 << d->size[s].shift);
		pgt_ref_t r2 = insert_ok(&f, mid, d->size[s].shift);
		CHECK_PTE(*r2.pte, RESERVED_LEAF, "second reserved leaf");
		fx_close(&f);
	}
}
END_TEST

/* The table descriptor that links the leaf table for @p va. */
static pgt_pte_t *leaf_table_desc(const struct fx *f, pgt_vaddr_t va)
{
	const struct arm_desc *d = f->d;
	pgt_pte_t *table = table_at(f, pgt_space_root(&f->sp));

	for (unsigned l = d->levels - 1u; l > 1; l--)
		table = table_at(f, table[idx(d, va, shift_of_level(d, l))] & d->table_oa);
	return &table[idx(d, va, shift_of_level(d, 1))];
}

/* Where the count of a leaf table moves between the runs of its field, and the bits it has there. */
static const struct count_at {
	unsigned granule, used;
	pgt_pte_t bits;
} count_at[] = {
	{ 12, 512, 0x800 }, { 12, 511, 0x7fc }, { 12, 1, 0x4 },
	{ 14, 2048, 0x0020000000000000ull }, { 14, 2047, 0x0008000000000ffcull },
	{ 14, 1024, 0x0008000000000000ull }, { 14, 1023, 0xffc }, { 14, 1, 0x4 },
	{ 16, 8192, 0x0080000000000000ull }, { 16, 8191, 0x0068000000000ffcull },
	{ 16, 4096, 0x0040000000000000ull }, { 16, 2048, 0x0020000000000000ull },
	{ 16, 2047, 0x0008000000000ffcull }, { 16, 1024, 0x0008000000000000ull }, { 16, 1023, 0xffc },
	{ 16, 1, 0x4 },
};

/*
 * Brings the leaf table at @p va from *@p used pages (its first ones) to
 * @p c->used, by one-page calls or by one range, then checks its
 * descriptor against @p c and the table's contents.
 */
static void count_moves_to(struct fx *f, pgt_vaddr_t va, unsigned *used, const struct count_at *c, bool by_page)
{
	const struct arm_desc *d = f->d;
	uint64_t page = 1ull << d->granule;
	unsigned lo = *used < c->used ? *used : c->used, hi = *used < c->used ? c->used : *used;
	bool up = *used < c->used;

	if (!by_page && lo < hi)
		CHECK_RC(up ? pgt_map(&f->sp, va + lo * page, (1ull << 32) + lo * page, (hi - lo) * page, R | W, 0)
			    : pgt_unmap(&f->sp, va + lo * page, (hi - lo) * page),
			 PGT_OK);
	for (unsigned k = lo; by_page && k < hi; k++) {
		unsigned i = up ? k : hi - 1u - (k - lo); /* unmaps from the top down */
		CHECK_RC(up ? pgt_map(&f->sp, va + i * page, (1ull << 32) + i * page, page, R | W, 0)
			    : pgt_unmap(&f->sp, va + i * page, page),
			 PGT_OK);
	}
	*used = c->used;
	pgt_pte_t *desc = leaf_table_desc(f, va);
	ck_assert_msg((*desc & ~d->table_oa) == (c->bits | TABLE_DESC_BITS),
		      "%s, %u used: descriptor %#018llx, expected count bits %#018llx", d->name, c->used,
		      (unsigned long long)*desc, (unsigned long long)c->bits);
	ck_assert_uint_eq(count_in(d->granule, *desc), used_entries(table_at(f, *desc & d->table_oa), 1u << d->bits));
	ck_assert_int_eq(pgt_verify(&f->sp, NULL, NULL), 0);
}

/*
 * A leaf table emptied and filled again, by one-page calls and by ranges in
 * turn: the count its descriptor keeps, at the numbers where it moves
 * between the runs of its field, against literals from the layout above
 * (TABLE_COUNT_16K...).
 */
START_TEST(test_count_across_runs)
{
	const size_t n = sizeof count_at / sizeof count_at[0];
	struct fx f;

	fx_open(&f, _i);
	const struct arm_desc *d = f.d;
	uint64_t page = 1ull << d->granule;
	unsigned used = 1u << d->bits;
	pgt_vaddr_t va = va_for(&f, 0);
	CHECK_RC(pgt_map(&f.sp, va, 1ull << 32, page * used, R | W, PGT_MAP_NOSUPER), PGT_OK);
	size_t tables = test_mm_outstanding(&f.t);
	bool by_page = true;
	for (size_t k = 0; k < 2 * n; k++) { /* down the list, then up again */
		const struct count_at *c = &count_at[k < n ? k : 2 * n - 1 - k];
		if (c->granule == d->granule) {
			count_moves_to(&f, va, &used, c, by_page);
			by_page = !by_page;
		}
	}
	ck_assert_uint_eq(used, 1u << d->bits);
	/* the last page out frees the table */
	CHECK_RC(pgt_unmap(&f.sp, va + page, (used - 1) * page), PGT_OK);
	CHECK_RC(pgt_unmap(&f.sp, va, page), PGT_OK);
	ck_assert_uint_lt(test_mm_outstanding(&f.t), tables);
	CHECK_RC(pgt_lookup(&f.sp, va, NULL), PGT_ENOENT);
	fx_close(&f);
}
END_TEST

/* Write-only and execute-only have no stage-1 AP encoding: PGT_ENOTSUP. */
START_TEST(test_enotsup_unchanged)
{
	static const unsigned bad[] = { W, X, W | X, W | U, X | U, W | X | U | G | UC };
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		const struct arm_size *sz = &f.d->size[s];
		pgt_ref_t ref = insert_ok(&f, va_for(&f, s), sz->shift);
		for (unsigned b = 0; b < sizeof bad / sizeof bad[0]; b++) {
			CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, bad[b]), PGT_ENOTSUP);
			CHECK_PTE(*ref.pte, RESERVED_LEAF, "reserved leaf after refused prot");
		}
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_WRITE, 1), PGT_ENOTSUP);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_EXEC, 1), PGT_ENOTSUP);
		CHECK_PTE(*ref.pte, RESERVED_LEAF, "reserved leaf after refused field");

		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W | U), PGT_OK);
		pgt_pte_t want = sz->pa | (sz->level ? 0x0060000000000f41ull : 0x0060000000000f43ull);
		CHECK_PTE(*ref.pte, want, "RW|USER");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 0), PGT_ENOTSUP);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, W | U), PGT_ENOTSUP);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, 256), PGT_EFLAGS);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_GLOBAL, 2), PGT_EINVAL);
		CHECK_PTE(*ref.pte, want, "RW|USER after refused changes");
	}
	fx_close(&f);
}
END_TEST

/* Output-address fields: exactly OA[47:shift]. */
START_TEST(test_output_address)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		const struct arm_size *sz = &f.d->size[s];
		pgt_ref_t ref = insert_ok(&f, va_for(&f, s), sz->shift);
		pgt_pte_t attrs = sz->level ? 0x0060000000000f01ull : 0x0060000000000f03ull;

		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->oa_mask), PGT_OK);
		CHECK_PTE(*ref.pte, sz->oa_mask | attrs, "every OA bit set");
		/* Bit 48 is beyond the 48-bit output address. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, 0x0001000000000000ull), PGT_ERANGE);
		/* Half a page/block off: below OA[shift]. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->pa | (1ull << (sz->shift - 1))),
			 PGT_EALIGN);
		/* One granule off, for blocks (bit 16 is nT in a block with FEAT_BBM). */
		if (sz->level)
			CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->pa | (1ull << f.d->granule)),
				 PGT_EALIGN);
		CHECK_PTE(*ref.pte, sz->oa_mask | attrs, "entry after refused addresses");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->pa), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | attrs, sz->name);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PADDR), sz->pa);
	}
	fx_close(&f);
}
END_TEST

/* AF is set on every valid leaf; the software dirty bit 55 survives rights changes. */
START_TEST(test_af_and_dirty)
{
	struct fx f;
	const pgt_pte_t af = 0x400, dbm_sw = 0x0080000000000000ull;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		const struct arm_size *sz = &f.d->size[s];
		pgt_ref_t ref = insert_ok(&f, va_for(&f, s), sz->shift);
		pgt_pte_t t = sz->level ? 0x1 : 0x3;

		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
		CHECK_PTE(*ref.pte & af, af, "AF on a new valid leaf");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 0);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | dbm_sw | 0x0060000000000f00ull | t, "RW + software dirty");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | U), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | dbm_sw | 0x0060000000000fc0ull | t, "R|USER keeps dirty");
		/* Software access-flag management: AF can be cleared (access-flag fault). */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_ACCESSED, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | dbm_sw | 0x0060000000000bc0ull | t, "AF cleared");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 0);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_ACCESSED, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | dbm_sw | 0x0060000000000fc0ull | t, "AF set again");
		/* No rights: reserved, AF gone with validity, dirty kept. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | dbm_sw | RESERVED_LEAF, "reserved keeps dirty");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 1);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | dbm_sw | 0x0060000000000f00ull | t,
			  "RW again: AF back, dirty kept");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | 0x0060000000000f00ull | t, "dirty cleared");
	}
	fx_close(&f);
}
END_TEST

/* Decoding hand-written descriptors (stored straight into the leaf slot). */
struct decode_case {
	const char *what;
	unsigned size;  /* 0 page, 1 block */
	pgt_pte_t bits; /* OR-ed with that size's pa */
	unsigned prot;
	uint64_t accessed, dirty;
};

static const struct decode_case decodes[] = {
	/* page, AP=01 (EL0 RW), SH, AF, nG clear, PXN=UXN=0: user RWX, global. */
	{ "user RWX global page", 0, 0x0000000000000743ull, R | W | X | U | G, 1, 0 },
	/* page, AttrIndx 2 (normal non-cacheable), AP=10, SH, AF, nG, PXN|UXN, sw dirty. */
	/* AttrIndx 2, Normal-NC in PGT_ARMV8_MAIR: PGT_PROT_NONCACHEABLE (device before contract v2) */
	{ "kernel RO NC page, dirty", 0, 0x00e0000000000f8bull, R | PGT_PROT_NONCACHEABLE, 1, 1 },
	/* page, AP=10, UXN only: kernel RX. */
	{ "kernel RX page", 0, 0x0040000000000f83ull, R | X, 1, 0 },
	/* block, AP=11 (EL0 RO), PXN only: user RX; AF clear. */
	{ "user RX block without AF", 1, 0x0020000000000bc1ull, R | X | U, 0, 0 },
	/* block, AttrIndx 1, AP=00, PXN|UXN, nG clear: kernel RW device, global. */
	{ "kernel RW device block", 1, 0x0060000000000705ull, R | W | G | UC, 1, 0 },
};

START_TEST(test_decode_literals)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < 2; s++)
		(void)insert_ok(&f, va_for(&f, s), f.d->size[s].shift);
	for (unsigned k = 0; k < sizeof decodes / sizeof decodes[0]; k++) {
		const struct decode_case *dc = &decodes[k];
		const struct arm_size *sz = &f.d->size[dc->size];
		pgt_ref_t ref;
		CHECK_RC(pgt_lookup(&f.sp, va_for(&f, dc->size), &ref), PGT_OK);
		pgt_pte_t saved = *ref.pte;
		*ref.pte = sz->pa | dc->bits;
		ck_assert_msg(get(&f, ref, PGT_FIELD_PROT) == dc->prot, "%s: prot %#llx, expected %#x",
			      dc->what, (unsigned long long)get(&f, ref, PGT_FIELD_PROT), dc->prot);
		ck_assert_msg(get(&f, ref, PGT_FIELD_PADDR) == sz->pa, "%s: paddr", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_WRITE) == !!(dc->prot & W), "%s: write", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_EXEC) == !!(dc->prot & X), "%s: exec", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_USER) == !!(dc->prot & U), "%s: user", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_GLOBAL) == !!(dc->prot & G), "%s: global", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_CACHED) == !(dc->prot & PGT_PROT_MEMTYPE), "%s: cached", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_ACCESSED) == dc->accessed, "%s: accessed", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_DIRTY) == dc->dirty, "%s: dirty", dc->what);
		*ref.pte = saved;
	}
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Address ranges: [0, 2^bits) without the flag, [2^64 - 2^bits, 2^64) with. */

static void expect_refused(struct fx *f, pgt_vaddr_t va, unsigned shift)
{
	ck_assert_msg(pgt_insert(&f->sp, va, shift, NULL) == PGT_ERANGE,
		      "%s%s: insert at %#llx must be refused", f->d->name,
		      (f->flags & PGT_SPACE_UPPER) ? " upper" : "", (unsigned long long)va);
	ck_assert_msg(pgt_lookup(&f->sp, va, NULL) == PGT_ERANGE, "%s: lookup at %#llx must be refused",
		      f->d->name, (unsigned long long)va);
}

static void expect_accepted(struct fx *f, pgt_vaddr_t va, unsigned shift, unsigned root_index)
{
	pgt_pte_t *root = table_at(f, pgt_space_root(&f->sp));

	ck_assert_msg(pgt_lookup(&f->sp, va, NULL) == PGT_ENOENT, "%s: lookup at %#llx before insert",
		      f->d->name, (unsigned long long)va);
	ck_assert_msg(pgt_insert(&f->sp, va, shift, NULL) == PGT_OK, "%s%s: insert at %#llx must be accepted",
		      f->d->name, (f->flags & PGT_SPACE_UPPER) ? " upper" : "", (unsigned long long)va);
	ck_assert_msg(pgt_lookup(&f->sp, va + (1ull << shift) - 1, NULL) == PGT_OK, "%s: lookup of last byte",
		      f->d->name);
	ck_assert_msg(root[root_index] != 0, "%s: root slot %u unused after insert at %#llx", f->d->name,
		      root_index, (unsigned long long)va);
}

START_TEST(test_address_range)
{
	struct fx f;

	fx_open(&f, _i);
	const struct arm_desc *d = f.d;
	unsigned g = d->granule;
	if (f.flags & PGT_SPACE_UPPER) {
		expect_accepted(&f, d->upper_bottom, g, 0);
		expect_accepted(&f, d->upper_top_page, g, d->root_last);
		expect_refused(&f, d->upper_below, g); /* just below the range */
		expect_refused(&f, 0, g);
		expect_refused(&f, d->lower_top_page, g);
		expect_refused(&f, 0x8000000000000000ull, g);
	} else {
		expect_accepted(&f, 0, g, 0);
		expect_accepted(&f, d->lower_top_page, g, d->root_last);
		expect_refused(&f, d->lower_end, g); /* first address above the range */
		expect_refused(&f, d->upper_bottom, g);
		expect_refused(&f, d->upper_top_page, g);
		expect_refused(&f, 0x8000000000000000ull, g);
	}
	/* Every page and block size at the top of the range. */
	pgt_vaddr_t top = (f.flags & PGT_SPACE_UPPER) ? d->upper_top_page : d->lower_top_page;
	for (unsigned s = 1; s < d->nsizes; s++) {
		pgt_vaddr_t va = (top & ~((1ull << d->size[s].shift) - 1)) - (1ull << d->size[s].shift);
		pgt_ref_t ref = insert_ok(&f, va, d->size[s].shift);
		CHECK_PTE(*ref.pte, RESERVED_LEAF, d->size[s].name);
	}
	fx_close(&f);
}
END_TEST

/* Page sizes the descriptor lacks and misaligned addresses; no TTBR1 for x86. */
START_TEST(test_bad_inserts)
{
	struct fx f;

	fx_open(&f, _i);
	const struct arm_desc *d = f.d;
	pgt_vaddr_t b = bottom(&f);
	for (unsigned l = 0; l < d->levels; l++)
		if (!d->leaf_ok[l])
			CHECK_RC(pgt_insert(&f.sp, b, shift_of_level(d, l), NULL), PGT_ESIZE);
	CHECK_RC(pgt_insert(&f.sp, b, d->granule + 1, NULL), PGT_ESIZE);
	CHECK_RC(pgt_insert(&f.sp, b, 12 + (d->granule == 12 ? 1 : 0), NULL), PGT_ESIZE);
	CHECK_RC(pgt_insert(&f.sp, b + (1ull << (d->granule - 1)), d->granule, NULL), PGT_EALIGN);
	CHECK_RC(pgt_insert(&f.sp, b + (1ull << d->granule), d->size[1].shift, NULL), PGT_EALIGN);
	ck_assert_uint_eq(test_mm_outstanding(&f.t), 1);
	fx_close(&f);
}
END_TEST

START_TEST(test_unknown_flags)
{
	struct test_mm t;
	pgt_space_t sp;

	test_mm_init(&t, mode_of(_i));
	CHECK_RC(pgt_space_init(&sp, descs[_i / 4].a, &t.mm, 4), PGT_EFLAGS);
	ck_assert_uint_eq(t.attempts, 0);
	test_mm_fini(&t);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *armv8_suite(void)
{
	Suite *s = suite_create("arch_armv8");
	TCase *geo = tcase_create("geometry");
	TCase *enc = tcase_create("encodings");
	TCase *rng = tcase_create("ranges");
	const int n = (int)NDESCS * 4;

	tcase_add_loop_test(geo, test_geometry, 0, (int)NDESCS);
	tcase_add_test(geo, test_mair);
	suite_add_tcase(s, geo);

	/* Loop index: descriptor i / 4, hook mode (bit 1), upper half (bit 0). */
	tcase_add_loop_test(enc, test_reserved_leaf_from_insert, 0, n);
	tcase_add_loop_test(enc, test_leaf_prot_golden, 0, n);
	tcase_add_loop_test(enc, test_leaf_full_literals, 0, n);
	tcase_add_loop_test(enc, test_execute_never, 0, n);
	tcase_add_loop_test(enc, test_table_descriptors, 0, n);
	tcase_add_loop_test(enc, test_count_across_runs, 0, n);
	tcase_add_loop_test(enc, test_enotsup_unchanged, 0, n);
	tcase_add_loop_test(enc, test_output_address, 0, n);
	tcase_add_loop_test(enc, test_af_and_dirty, 0, n);
	tcase_add_loop_test(enc, test_decode_literals, 0, n);
	suite_add_tcase(s, enc);

	tcase_add_loop_test(rng, test_address_range, 0, n);
	tcase_add_loop_test(rng, test_bad_inserts, 0, n);
	tcase_add_loop_test(rng, test_unknown_flags, 0, n);
	suite_add_tcase(s, rng);
	return s;
}

int main(void)
{
	int failed = test_run_suite(armv8_suite());
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
