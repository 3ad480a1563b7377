/* SPDX-License-Identifier: MIT */
/*
 * check_arch_armv8_s2: golden encodings of the four ARMv8-A stage-2
 * descriptors (armv8-s2-4k-40, armv8-s2-4k-48, armv8-s2-16k-40,
 * armv8-s2-64k-42) and pgt_translate's answers on them.
 *
 * Expected values are literals worked out by hand from the Arm ARM (DDI
 * 0487): D8.3 "Translation table descriptor formats" with the stage 2
 * attributes of Block and Page descriptors (D5.3.3 in older issues), D8.4
 * stage 2 access permissions and execute-never (D5.4), the VTCR_EL2
 * register description for start levels and concatenated tables (D8.2 in
 * current issues: "Concatenated translation tables for the initial stage 2
 * lookup"). The PGT_ARMV8_* macros are deliberately not used for expected
 * values.
 *
 * VMSAv8-64 stage-2 bits used below:
 *   bits[1:0]   0b11 table (levels above the last) or page (last level),
 *               0b01 block; bit 0 clear: invalid (all else ignored)
 *   bits[5:2]   MemAttr[3:0] (HCR_EL2.FWB 0): 0b1111 Normal outer and inner
 *               write-back, 0b0101 Normal non-cacheable, 0b0001 Device-nGnRE,
 *               [3:2] = 0b00 any Device type
 *   bit 6       S2AP[0]: read      bit 7  S2AP[1]: write
 *   bits[9:8]   SH[1:0] (0b11 inner shareable)    bit 10 AF
 *   bits[54:53] XN[1:0] (FEAT_XNX): 0b00 EL0 and EL1 execute, 0b01 EL0
 *               only, 0b10 neither, 0b11 EL1 only
 *   bits[58:55] software (bit 55 is NS in Realm state; libpgtable: 56
 *               dirty, 58 reserved leaf)
 *   table descriptors: no attribute field ("Table descriptors for stage 2
 *   translations do not include any attribute field", D5.3.3 in issue A);
 *   RES0 with 48-bit OA: table [50:48], leaf [49:48], and the address bits
 *   below a block's size (bit 16 is nT with FEAT_BBM).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

#include "harness.h"

enum {
	R = PGT_PROT_READ,
	W = PGT_PROT_WRITE,
	X = PGT_PROT_EXEC,
	U = PGT_PROT_USER,
	G = PGT_PROT_GLOBAL,
	UC = PGT_PROT_UNCACHED,
	NC = PGT_PROT_NONCACHEABLE,
	WC = PGT_PROT_WRITECOMBINE
};

#define BIT(n)      ((pgt_pte_t)1 << (n))
#define XN_NONE     0x0040000000000000ull /* XN[1:0] = 0b10 */
#define XN_EL1      0x0020000000000000ull /* 0b01: EL1 may not execute */
#define XN_EL0      0x0060000000000000ull /* 0b11: EL0 may not execute */
#define SW_RESERVED 0x0400000000000000ull
#define SW_DIRTY    0x0100000000000000ull

/* ------------------------------------------------------------------------ */
/* The descriptors, spelled out by hand.                                     */

struct s2_size {
	unsigned shift, level;
	pgt_paddr_t pa;    /* a high, aligned address inside 48 bits */
	pgt_pte_t oa_mask; /* OA[47:shift] */
};

struct s2_desc {
	const struct pgt_arch *a;
	const char *name;
	unsigned levels, ipa_bits, granule;
	unsigned bits[4];   /* index width per library level */
	uint32_t root_size; /* bytes of the start-level tables together */
	unsigned nsizes;
	struct s2_size size[3];
	unsigned idx_2_39; /* root index of IPA 2^39 */
};

static const struct s2_desc descs[] = {
	/* Start level 1 (library level 2), VTCR_EL2.SL0 = 1, T0SZ = 24: IPA[39:30] indexes two tables. */
	{ .a = &pgt_arch_armv8_s2_4k_40,
	  .name = "armv8-s2-4k-40",
	  .levels = 3,
	  .ipa_bits = 40,
	  .granule = 12,
	  .bits = { 9, 9, 10 },
	  .root_size = 8192,
	  .nsizes = 3,
	  .size = { { 12, 0, 0x0000fedcba987000ull, 0x0000fffffffff000ull },
		    { 21, 1, 0x0000fedcba800000ull, 0x0000ffffffe00000ull },
		    { 30, 2, 0x0000fedcc0000000ull, 0x0000ffffc0000000ull } },
	  .idx_2_39 = 512 },
	/* Start level 0, SL0 = 2, T0SZ = 16: one table; level 0 has no blocks. */
	{ .a = &pgt_arch_armv8_s2_4k_48,
	  .name = "armv8-s2-4k-48",
	  .levels = 4,
	  .ipa_bits = 48,
	  .granule = 12,
	  .bits = { 9, 9, 9, 9 },
	  .root_size = 4096,
	  .nsizes = 3,
	  .size = { { 12, 0, 0x0000fedcba987000ull, 0x0000fffffffff000ull },
		    { 21, 1, 0x0000fedcba800000ull, 0x0000ffffffe00000ull },
		    { 30, 2, 0x0000fedcc0000000ull, 0x0000ffffc0000000ull } },
	  .idx_2_39 = 1 },
	/* Start level 2, SL0 = 1, T0SZ = 24: IPA[39:25], 16 concatenated 16K tables. */
	{ .a = &pgt_arch_armv8_s2_16k_40,
	  .name = "armv8-s2-16k-40",
	  .levels = 2,
	  .ipa_bits = 40,
	  .granule = 14,
	  .bits = { 11, 15 },
	  .root_size = 262144,
	  .nsizes = 2,
	  .size = { { 14, 0, 0x0000fedcba98c000ull, 0x0000ffffffffc000ull },
		    { 25, 1, 0x0000fedcbe000000ull, 0x0000fffffe000000ull } },
	  .idx_2_39 = 16384 },
	/* Start level 2, SL0 = 1, T0SZ = 22: IPA[41:29] fills one 64K table. */
	{ .a = &pgt_arch_armv8_s2_64k_42,
	  .name = "armv8-s2-64k-42",
	  .levels = 2,
	  .ipa_bits = 42,
	  .granule = 16,
	  .bits = { 13, 13 },
	  .root_size = 65536,
	  .nsizes = 2,
	  .size = { { 16, 0, 0x0000fedcba990000ull, 0x0000ffffffff0000ull },
		    { 29, 1, 0x0000fedca0000000ull, 0x0000ffffe0000000ull } },
	  .idx_2_39 = 1024 },
};
#define NDESCS (sizeof descs / sizeof descs[0])

/* ------------------------------------------------------------------------ */
/* Fixture: loop index -> descriptor (i / 2), allocator mode (bit 0).        */

struct fx {
	struct test_mm t;
	pgt_space_t sp;
	const struct s2_desc *d;
};

static void fx_open(struct fx *f, int i)
{
	test_mm_init(&f->t, (i & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET);
	f->d = &descs[(unsigned)i / 2];
	CHECK_RC(pgt_space_init(&f->sp, f->d->a, &f->t.mm, 0), PGT_OK);
}

static void fx_close(struct fx *f)
{
	struct tree_stats st = tree_check(&f->sp, f->d->a, &f->t);

	ck_assert_msg(st.problems == 0, "tree_check found %zu problems", st.problems);
	pgt_space_destroy(&f->sp);
	ck_assert_msg(test_mm_outstanding(&f->t) == 0, "%zu tables leaked", test_mm_outstanding(&f->t));
	ck_assert_msg(f->t.errors == 0, "%ld bad frees", f->t.errors);
	test_mm_fini(&f->t);
}

/* An IPA with a root entry of its own for size @p s (odd root indices). */
static pgt_vaddr_t ipa_for(const struct fx *f, unsigned s)
{
	unsigned root = f->d->levels - 1u;

	return (pgt_vaddr_t)(2 * s + 1) << f->d->a->level[root].shift;
}

static pgt_ref_t insert_ok(struct fx *f, pgt_vaddr_t va, unsigned shift)
{
	pgt_ref_t ref = { 0 };

	CHECK_RC(pgt_insert(&f->sp, va, shift, &ref), PGT_OK);
	ck_assert_uint_eq(ref.page_shift, shift);
	return ref;
}

static uint64_t get(struct fx *f, pgt_ref_t ref, enum pgt_field fld)
{
	uint64_t v = 0xdeadbeef;

	CHECK_RC(pgt_get_field(&f->sp, ref, fld, &v), PGT_OK);
	return v;
}

/*
 * The entry bits (address aside) of @p prot, from the table in the file
 * comment: MemAttr, S2AP, XN, SH, then AF and the type for a valid leaf,
 * the reserved-leaf mark for one without rights.
 */
static pgt_pte_t golden_bits(bool page, unsigned prot)
{
	pgt_pte_t bits = (prot & UC) ? 0x04 : (prot & NC) ? 0x14 : 0x3c;

	bits |= 0x300;
	bits |= (prot & R) ? 0x40 : 0;
	bits |= (prot & W) ? 0x80 : 0;
	bits |= (prot & X) ? 0 : XN_NONE;
	if (!(prot & (R | W | X)))
		return bits | SW_RESERVED;
	return bits | 0x400 | (page ? 0x3 : 0x1);
}

/* ------------------------------------------------------------------------ */
/* Geometry                                                                  */

START_TEST(test_geometry)
{
	const struct s2_desc *d = &descs[_i];
	const struct pgt_arch *a = d->a;

	ck_assert_str_eq(a->name, d->name);
	ck_assert_ptr_eq(pgt_arch_by_name(d->name), a);
	ck_assert_uint_eq(a->levels, d->levels);
	ck_assert_uint_eq(a->va_bits, d->ipa_bits);
	ck_assert_uint_eq(a->pa_bits, 48);
	ck_assert_uint_eq(a->canon, PGT_CANON_SPLIT);
	ck_assert_uint_eq(a->stage, 2);
	ck_assert_uint_eq(a->af_fault, 1);
	ck_assert_uint_eq(a->malformed_fault, PGT_FAULT_NOT_PRESENT); /* translation fault */
	ck_assert_uint_eq(a->implied_if, 0);                          /* no WXN-like rule in stage 2 */
	ck_assert_uint_eq(a->break_before_make, 1);
	unsigned shift = d->granule;
	for (unsigned l = 0; l < d->levels; l++) {
		const struct pgt_level *L = &a->level[l];
		ck_assert_uint_eq(L->shift, shift);
		ck_assert_uint_eq(L->bits, d->bits[l]);
		ck_assert_uint_eq(L->table_size, 8u << d->bits[l]);
		CHECK_PTE(L->valid, 0x1, "valid is bit 0");
		CHECK_PTE(L->type_mask, 0x3, "type is bits[1:0]");
		if (l > 0)
			CHECK_PTE(L->table_type, 0x3, "table descriptor 0b11");
		/* the count: ignored [11:2] (D8.3.1); 16K and 64K also 51 and 53, or 51 and [55:53], of [58:51] */
		pgt_pte_t count = d->granule == 12 ? 0xffcull : d->granule == 14 ? 0x0028000000000ffcull
										  : 0x00e8000000000ffcull;
		CHECK_PTE(L->table_count, l > 0 ? count : 0, "count bits");
		for (unsigned i = 0; i < PGT_RULES; i++)
			ck_assert_msg(L->table_rules[i].removes == 0, "level %u: a stage-2 table restricts",
				      l);
		shift += d->bits[l];
	}
	ck_assert_uint_eq(shift, d->ipa_bits);
	ck_assert_uint_eq(a->level[d->levels - 1].table_size, d->root_size);
	/* 4K: blocks at Arm levels 1 and 2 only; 16K and 64K: level 2 only (no FEAT_LPA/LPA2). */
	for (unsigned s = 0; s < d->nsizes; s++) {
		const struct pgt_level *L = &a->level[d->size[s].level];
		ck_assert_uint_eq(L->shift, d->size[s].shift);
		ck_assert(L->leaf_ok);
		CHECK_PTE(L->leaf_oa, d->size[s].oa_mask, "output address field");
		CHECK_PTE(L->leaf_type, d->size[s].level ? 0x1 : 0x3, "page 0b11, block 0b01");
	}
	if (d->levels == 4)
		ck_assert(!a->level[3].leaf_ok);
}
END_TEST

/* The concatenated start level: one frame of the whole size, aligned to it (VTTBR_EL2.BADDR). */
START_TEST(test_root_frame)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_paddr_t root = pgt_space_root(&f.sp);
	ck_assert_uint_eq(test_mm_frame_size(&f.t, root), f.d->root_size);
	ck_assert_uint_eq(root & (f.d->root_size - 1), 0);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Leaf encodings                                                            */

/* Every PGT_PROT_* value at every page and block size: exact bits, or the refusal. */
START_TEST(test_every_prot)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		const struct s2_size *sz = &f.d->size[s];
		pgt_ref_t ref = insert_ok(&f, ipa_for(&f, s), sz->shift);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->pa), PGT_OK);
		for (unsigned prot = 0; prot <= PGT_PROT_ALL; prot++) {
			unsigned memtype = prot & PGT_PROT_MEMTYPE;
			pgt_pte_t before = *ref.pte;
			if (memtype & (memtype - 1)) {
				CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, prot), PGT_EFLAGS);
			} else if (prot & WC) { /* no write-combining type in stage 2 MemAttr */
				CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, prot), PGT_ENOTSUP);
			} else {
				CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, prot), PGT_OK);
				ck_assert_msg(
					*ref.pte == (sz->pa | golden_bits(sz->level == 0, prot)),
					"%s 2^%u prot %#x: entry %#018llx, expected %#018llx", f.d->name,
					sz->shift, prot, (unsigned long long)*ref.pte,
					(unsigned long long)(sz->pa | golden_bits(sz->level == 0, prot)));
				/* USER and GLOBAL are accepted and dropped: decoding never reports them */
				ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), prot & ~(unsigned)(U | G));
				ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PADDR), sz->pa);
				continue;
			}
			CHECK_PTE(*ref.pte, before, "entry after a refused prot");
		}
	}
	fx_close(&f);
}
END_TEST

/* Whole entries spelled out, one per rights case that stage 1 cannot say. */
struct literal {
	const char *what;
	unsigned prot;
	pgt_pte_t page, block; /* attributes only */
};

static const struct literal literals[] = {
	/* RW normal: MemAttr 0b1111, S2AP 0b11, SH 0b11, AF, XN 0b10. */
	{ "RW", R | W, 0x00400000000007ffull, 0x00400000000007fdull },
	/* Write-only: S2AP 0b10. */
	{ "W", W, 0x00400000000007bfull, 0x00400000000007bdull },
	/* Execute-only: S2AP 0b00, XN 0b00. */
	{ "X", X, 0x000000000000073full, 0x000000000000073dull },
	/* RWX device-nGnRE: MemAttr 0b0001. */
	{ "RWX|UNCACHED", R | W | X | UC, 0x00000000000007c7ull, 0x00000000000007c5ull },
	/* R normal non-cacheable: MemAttr 0b0101; USER and GLOBAL dropped. */
	{ "R|NONCACHEABLE|USER|GLOBAL", R | NC | U | G, 0x0040000000000757ull, 0x0040000000000755ull },
	/* No rights: bit 0 clear, software bit 58, XN 0b10, MemAttr kept. */
	{ "reserved", 0, 0x044000000000033cull, 0x044000000000033cull },
	{ "reserved|UNCACHED", UC, 0x0440000000000304ull, 0x0440000000000304ull },
};

START_TEST(test_literals)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		const struct s2_size *sz = &f.d->size[s];
		pgt_ref_t ref = insert_ok(&f, ipa_for(&f, s), sz->shift);
		/* what pgt_insert leaves: the reserved leaf of prot 0, address 0 */
		CHECK_PTE(*ref.pte, 0x044000000000033cull, "fresh reserved leaf");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->pa), PGT_OK);
		for (unsigned k = 0; k < sizeof literals / sizeof literals[0]; k++) {
			const struct literal *lt = &literals[k];
			CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, lt->prot), PGT_OK);
			CHECK_PTE(*ref.pte, sz->pa | (sz->level ? lt->block : lt->page), lt->what);
		}
	}
	fx_close(&f);
}
END_TEST

/* USER and GLOBAL: accepted by every setter, never stored, always read 0. */
START_TEST(test_user_global_dropped)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_ref_t ref = insert_ok(&f, ipa_for(&f, 0), f.d->granule);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
	pgt_pte_t rw = *ref.pte;
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_USER, 1), PGT_OK);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_GLOBAL, 1), PGT_OK);
	CHECK_PTE(*ref.pte, rw, "USER and GLOBAL change nothing");
	ck_assert_uint_eq(get(&f, ref, PGT_FIELD_USER), 0);
	ck_assert_uint_eq(get(&f, ref, PGT_FIELD_GLOBAL), 0);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W | U | G), PGT_OK);
	CHECK_PTE(*ref.pte, rw, "PROT with USER and GLOBAL");
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_USER, 2), PGT_EINVAL);
	fx_close(&f);
}
END_TEST

/* Software dirty bit 56 and AF survive rights changes; AF goes with validity. */
START_TEST(test_af_and_dirty)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		const struct s2_size *sz = &f.d->size[s];
		pgt_ref_t ref = insert_ok(&f, ipa_for(&f, s), sz->shift);
		pgt_pte_t t = sz->level ? 0x1 : 0x3;
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 1);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 0);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | SW_DIRTY | 0x00400000000007fcull | t, "RW + software dirty");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_ACCESSED, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | SW_DIRTY | 0x00400000000003fcull | t, "AF cleared");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | SW_DIRTY | 0x044000000000033cull, "reserved keeps dirty");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 1);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, X), PGT_OK);
		CHECK_PTE(*ref.pte, sz->pa | SW_DIRTY | 0x000000000000073cull | t, "X: AF back, dirty kept");
	}
	fx_close(&f);
}
END_TEST

/* Decoding entries written by hand. */
struct decode_case {
	const char *what;
	pgt_pte_t bits; /* a page; OR-ed with the page's address */
	unsigned prot;
	uint64_t accessed, dirty;
};

static const struct decode_case decodes[] = {
	/* XN 0b01 (EL0 only) and 0b11 (EL1 only) read as not executable: writing back never widens. */
	{ "RW, XN 0b01", 0x00200000000007ffull, R | W, 1, 0 },
	{ "R, XN 0b11", 0x006000000000077full, R, 1, 0 },
	/* MemAttr 0b0000 Device-nGnRnE and 0b0011 Device-GRE: device. */
	{ "R, nGnRnE", 0x0040000000000743ull, R | UC, 1, 0 },
	{ "R, GRE", 0x004000000000074full, R | UC, 1, 0 },
	/* MemAttr 0b1010 (write-through) and 0b1101 (mixed): the cached default. */
	{ "R, write-through", 0x004000000000076bull, R, 1, 0 },
	{ "W, WB outer NC inner", 0x00400000000007b7ull, W, 1, 0 },
	/* AF clear, software dirty set, execute-only. */
	{ "X without AF, dirty", 0x010000000000033full, X, 0, 1 },
	/* Reserved leaf keeping Normal-NC. */
	{ "reserved NC", 0x0440000000000314ull, NC, 0, 0 },
};

START_TEST(test_decode_literals)
{
	struct fx f;

	fx_open(&f, _i);
	const struct s2_size *sz = &f.d->size[0];
	pgt_ref_t ref = insert_ok(&f, ipa_for(&f, 0), sz->shift);
	pgt_pte_t inserted = *ref.pte;
	for (unsigned k = 0; k < sizeof decodes / sizeof decodes[0]; k++) {
		const struct decode_case *dc = &decodes[k];
		*ref.pte = sz->pa | dc->bits;
		ck_assert_msg(get(&f, ref, PGT_FIELD_PROT) == dc->prot, "%s: prot %#llx, expected %#x",
			      dc->what, (unsigned long long)get(&f, ref, PGT_FIELD_PROT), dc->prot);
		ck_assert_msg(get(&f, ref, PGT_FIELD_ACCESSED) == dc->accessed, "%s: accessed", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_DIRTY) == dc->dirty, "%s: dirty", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_CACHED) == !(dc->prot & (UC | NC)), "%s: cached",
			      dc->what);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PADDR), sz->pa);
	}
	/* the leaf the library wrote, back for pgt_unmap, which keeps the table's count */
	*ref.pte = inserted;
	CHECK_RC(pgt_unmap(&f.sp, ipa_for(&f, 0), 1ull << sz->shift), PGT_OK);
	fx_close(&f);
}
END_TEST

/* Output addresses: exactly OA[47:shift]. */
START_TEST(test_output_address)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		const struct s2_size *sz = &f.d->size[s];
		pgt_ref_t ref = insert_ok(&f, ipa_for(&f, s), sz->shift);
		pgt_pte_t attrs = sz->level ? 0x00400000000007fdull : 0x00400000000007ffull;
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->oa_mask), PGT_OK);
		CHECK_PTE(*ref.pte, sz->oa_mask | attrs, "every OA bit set");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, BIT(48)), PGT_ERANGE);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->pa | BIT(sz->shift - 1)), PGT_EALIGN);
		CHECK_PTE(*ref.pte, sz->oa_mask | attrs, "after refused addresses");
	}
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Tables and the concatenated root                                          */

/* Table descriptors are 0b11, the next table's address and its count, nothing else. */
START_TEST(test_table_descriptors)
{
	struct fx f;

	fx_open(&f, _i);
	const struct s2_desc *d = f.d;
	pgt_vaddr_t ipa = ((pgt_vaddr_t)1 << d->ipa_bits) - ((pgt_vaddr_t)1 << d->granule); /* last page */
	(void)insert_ok(&f, ipa, d->granule);
	pgt_pte_t *table = test_mm_p2v(&f.t, pgt_space_root(&f.sp));
	for (unsigned l = d->levels - 1u; l > 0; l--) {
		const struct pgt_level *L = &d->a->level[l];
		pgt_pte_t e = table[(ipa >> L->shift) & ((1ull << L->bits) - 1)];
		pgt_paddr_t next = e & (0x0000ffffffffffffull & ~((1ull << d->granule) - 1));
		/* one used entry below, counted from ignored bit 2 up (D8.3.1) */
		CHECK_PTE(e & ~next, 0x3 | 1ull << 2, "table descriptor: 0b11, the address and the count");
		ck_assert(test_mm_owns(&f.t, next, l - 1));
		table = test_mm_p2v(&f.t, next);
	}
	fx_close(&f);
}
END_TEST

/*
 * IPA 2^39 and the one below it land in the two halves of a 4K root (index
 * 512 and 511) and in tables 8 and 7 of the 16K root (index 16384 and
 * 16383); both translate. 2^40 (2^42 for 64K, 2^48 for 4K-48) is out of range.
 */
START_TEST(test_concatenated_root)
{
	struct fx f;

	fx_open(&f, _i);
	const struct s2_desc *d = f.d;
	pgt_pte_t *root = test_mm_p2v(&f.t, pgt_space_root(&f.sp));
	uint64_t page = 1ull << d->granule;
	pgt_vaddr_t hi = 1ull << 39, lo = hi - page;
	pgt_paddr_t pa = 0x80000000;

	CHECK_RC(pgt_map(&f.sp, hi, pa, page, R, 0), PGT_OK);
	CHECK_RC(pgt_map(&f.sp, lo, pa + page, page, R | W, 0), PGT_OK);
	ck_assert_msg(root[d->idx_2_39] != 0, "%s: root slot %u empty", d->name, d->idx_2_39);
	ck_assert_msg(d->idx_2_39 == 1 || root[d->idx_2_39 - 1] != 0, "%s: root slot below empty", d->name);
	pgt_paddr_t got = 0;
	CHECK_RC(pgt_translate(&f.sp, hi + 0x18, PGT_ACC_READ, &got, NULL), PGT_OK);
	ck_assert_uint_eq(got, pa + 0x18);
	CHECK_RC(pgt_translate(&f.sp, lo + 0x20, PGT_ACC_WRITE, &got, NULL), PGT_OK);
	ck_assert_uint_eq(got, pa + page + 0x20);
	/* the top of the IPA space, then one past it */
	pgt_vaddr_t end = 1ull << d->ipa_bits;
	CHECK_RC(pgt_map(&f.sp, end - page, pa, page, R, 0), PGT_OK);
	CHECK_RC(pgt_translate(&f.sp, end - 1, PGT_ACC_READ, &got, NULL), PGT_OK);
	ck_assert_uint_eq(got, pa + page - 1);
	CHECK_RC(pgt_map(&f.sp, end, pa, page, R, 0), PGT_ERANGE);
	CHECK_RC(pgt_insert(&f.sp, end, d->granule, NULL), PGT_ERANGE);
	CHECK_RC(pgt_lookup(&f.sp, end, NULL), PGT_ERANGE);
	CHECK_RC(pgt_translate(&f.sp, end, PGT_ACC_READ, &got, NULL), PGT_ERANGE);
	CHECK_RC(pgt_translate(&f.sp, ~0ull, PGT_ACC_READ, &got, NULL), PGT_ERANGE);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Translate: rights per S2AP and XN, EL0 and EL1 (PGT_ACC_USER)             */

struct rights_case {
	pgt_pte_t s2ap_xn; /* bits 7:6 and 54:53 */
	/* allowed: read, write, EL1 fetch, EL0 fetch (D8.4 stage 2 tables) */
	bool r, w, px, ux;
};

static const struct rights_case rights[] = {
	{ 0x00, 0, 0, 1, 1 },          { 0x40, 1, 0, 1, 1 },           { 0x80, 0, 1, 1, 1 },
	{ 0xc0, 1, 1, 1, 1 },          { 0xc0 | XN_EL1, 1, 1, 0, 1 },  { 0xc0 | XN_NONE, 1, 1, 0, 0 },
	{ 0xc0 | XN_EL0, 1, 1, 1, 0 }, { 0x80 | XN_NONE, 0, 1, 0, 0 }, { 0x40 | XN_EL0, 1, 0, 1, 0 },
	{ 0x00 | XN_EL1, 0, 0, 0, 1 }, { 0x00 | XN_NONE, 0, 0, 0, 0 },
};

static void expect_access(struct fx *f, pgt_vaddr_t ipa, unsigned acc, bool ok, pgt_paddr_t pa,
			  unsigned level)
{
	pgt_paddr_t got = 0;
	struct pgt_fault ft = { .kind = -1 };
	int rc = pgt_translate(&f->sp, ipa, acc, &got, &ft);

	if (ok) {
		ck_assert_msg(rc == PGT_OK && got == pa, "%s: access %#x at %#llx: %d", f->d->name, acc,
			      (unsigned long long)ipa, rc);
		return;
	}
	ck_assert_msg(rc == PGT_EFAULT && ft.kind == PGT_FAULT_PERMISSION && ft.level == level &&
			      ft.va == ipa,
		      "%s: access %#x at %#llx: %d kind %d level %u", f->d->name, acc,
		      (unsigned long long)ipa, rc, ft.kind, ft.level);
}

START_TEST(test_translate_rights)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		const struct s2_size *sz = &f.d->size[s];
		pgt_vaddr_t ipa = ipa_for(&f, s);
		pgt_ref_t ref = insert_ok(&f, ipa, sz->shift);
		pgt_pte_t inserted = *ref.pte;
		pgt_pte_t base = sz->pa | 0x73c | (sz->level ? 0x1 : 0x3); /* MemAttr, SH, AF, type */
		pgt_vaddr_t at = ipa + 0x48;
		for (unsigned k = 0; k < sizeof rights / sizeof rights[0]; k++) {
			const struct rights_case *rc = &rights[k];
			*ref.pte = base | rc->s2ap_xn;
			for (unsigned user = 0; user < 2; user++) {
				unsigned u = user ? PGT_ACC_USER : 0; /* EL0 stage 1: matters for XN only */
				expect_access(&f, at, PGT_ACC_READ | u, rc->r, sz->pa + 0x48, sz->level);
				expect_access(&f, at, PGT_ACC_WRITE | u, rc->w, sz->pa + 0x48, sz->level);
				expect_access(&f, at, PGT_ACC_EXEC | u, user ? rc->ux : rc->px, sz->pa + 0x48,
					      sz->level);
			}
		}
		*ref.pte = inserted; /* the library's leaf again: unmapped as pgt_unmap does, count and all */
		CHECK_RC(pgt_unmap(&f.sp, ipa, 1ull << sz->shift), PGT_OK);
	}
	fx_close(&f);
}
END_TEST

/* Table descriptor bits 63:59 restrict nothing in stage 2 (no attribute field). */
START_TEST(test_table_bits_ignored)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_vaddr_t ipa = ipa_for(&f, 0);
	uint64_t page = 1ull << f.d->granule;
	CHECK_RC(pgt_map(&f.sp, ipa, 0x40000000, page, R | W | X, 0), PGT_OK);
	pgt_pte_t *table = test_mm_p2v(&f.t, pgt_space_root(&f.sp));
	for (unsigned l = f.d->levels - 1u; l > 0; l--) {
		const struct pgt_level *L = &f.d->a->level[l];
		pgt_pte_t *e = &table[(ipa >> L->shift) & ((1ull << L->bits) - 1)];
		*e |= 0xf800000000000000ull; /* what stage 1 calls NSTable, APTable, UXNTable, PXNTable */
		table = test_mm_p2v(&f.t, *e & 0x0000fffffffff000ull & ~(page - 1));
	}
	for (unsigned k = 0; k < 6; k++) {
		unsigned acc = (1u << (k % 3)) | (k >= 3 ? PGT_ACC_USER : 0);
		expect_access(&f, ipa + 8, acc, true, 0x40000008, 0);
	}
	fx_close(&f);
}
END_TEST

/* A valid leaf without AF: access-flag fault before any permission check, at the leaf. */
START_TEST(test_access_flag_fault)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->nsizes; s++) {
		const struct s2_size *sz = &f.d->size[s];
		pgt_vaddr_t ipa = ipa_for(&f, s);
		pgt_ref_t ref = insert_ok(&f, ipa, sz->shift);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sz->pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_ACCESSED, 0), PGT_OK);
		for (unsigned acc = PGT_ACC_READ; acc <= PGT_ACC_EXEC; acc <<= 1) {
			struct pgt_fault ft = { .kind = -1 };
			CHECK_RC(pgt_translate(&f.sp, ipa, acc, NULL, &ft), PGT_EFAULT);
			ck_assert_int_eq(ft.kind, PGT_FAULT_ACCESS_FLAG);
			ck_assert_uint_eq(ft.level, sz->level);
		}
		/* the MMU's update (VTCR_EL2.HA): the read completes and sets AF */
		CHECK_RC(pgt_translate(&f.sp, ipa, PGT_ACC_READ | PGT_ACC_SET_AD, NULL, NULL), PGT_OK);
		CHECK_PTE(*ref.pte & 0x400, 0x400, "AF set by the access");
	}
	fx_close(&f);
}
END_TEST

/* Reserved leaves and empty entries: translation faults at their level. */
START_TEST(test_not_present)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_vaddr_t ipa = ipa_for(&f, 0);
	struct pgt_fault ft = { .kind = -1 };
	unsigned root = f.d->levels - 1u;
	CHECK_RC(pgt_translate(&f.sp, ipa, PGT_ACC_READ, NULL, &ft), PGT_EFAULT);
	ck_assert_int_eq(ft.kind, PGT_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(ft.level, root);
	ck_assert_uint_eq(ft.va, ipa);
	/* a stage-2 space's faults are stage 2, the IPA that missed in ipa (HPFAR_EL2's page and FAR's
	 * offset) */
	ck_assert_uint_eq(ft.stage, 2);
	ck_assert_uint_eq(ft.s1ptw, 0);
	ck_assert_uint_eq(ft.ipa, ipa);
	(void)insert_ok(&f, ipa, f.d->granule);
	CHECK_RC(pgt_translate(&f.sp, ipa + 4, PGT_ACC_WRITE, NULL, &ft), PGT_EFAULT);
	ck_assert_int_eq(ft.kind, PGT_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(ft.level, 0);
	ck_assert_uint_eq(ft.va, ipa + 4);
	ck_assert_uint_eq(ft.stage, 2);
	ck_assert_uint_eq(ft.ipa, ipa + 4);
	fx_close(&f);
}
END_TEST

/* Malformed entries (RES0 bits, wrong types): translation faults at their level. */
struct malformed_case {
	unsigned desc;  /* index into descs */
	unsigned level; /* library level of the entry */
	unsigned leaf;  /* 1: the entry is a leaf of that level's size */
	pgt_pte_t set, clear;
	const char *what;
};

static const struct malformed_case malformed[] = {
	{ 1, 3, 0, 0, BIT(1), "block at 4K start level 0" },
	{ 0, 0, 1, 0, BIT(1), "0b01 at level 3 (4K)" },
	{ 3, 0, 1, 0, BIT(1), "0b01 at level 3 (64K)" },
	{ 0, 2, 0, BIT(48), 0, "bit 48 of a table descriptor" },
	{ 2, 1, 0, BIT(50), 0, "bit 50 of a 16K table descriptor" },
	{ 0, 1, 1, BIT(49), 0, "bit 49 of a 2M block" },
	{ 0, 1, 1, BIT(17), 0, "bit 17 of a 2M block" },
	{ 2, 1, 1, BIT(24), 0, "bit 24 of a 32M block" },
	{ 3, 0, 1, BIT(15), 0, "bit 15 of a 64K page" },
	{ 2, 1, 0, BIT(12), 0, "bit 12 of a 16K table descriptor" },
};

START_TEST(test_malformed)
{
	const struct malformed_case *mc = &malformed[_i];
	struct fx f;

	fx_open(&f, (int)mc->desc * 2);
	const struct pgt_arch *a = f.d->a;
	unsigned lvl = mc->leaf ? mc->level : 0;
	pgt_vaddr_t ipa = ipa_for(&f, 0);
	uint64_t size = 1ull << a->level[lvl].shift;
	CHECK_RC(pgt_map(&f.sp, ipa, 0x40000000, size, R | W, 0), PGT_OK);
	pgt_pte_t *table = test_mm_p2v(&f.t, pgt_space_root(&f.sp)), *e = NULL;
	for (unsigned l = a->levels - 1u;; l--) {
		const struct pgt_level *L = &a->level[l];
		e = &table[(ipa >> L->shift) & ((1ull << L->bits) - 1)];
		if (l == mc->level)
			break;
		table = test_mm_p2v(&f.t, *e & 0x0000ffffffffffffull & ~((1ull << f.d->granule) - 1));
	}
	pgt_pte_t saved = *e;
	*e = (saved | mc->set) & ~mc->clear;
	struct pgt_fault ft = { .kind = -1 };
	CHECK_RC(pgt_translate(&f.sp, ipa, PGT_ACC_READ, NULL, &ft), PGT_EFAULT);
	ck_assert_msg(ft.kind == PGT_FAULT_NOT_PRESENT && ft.level == mc->level, "%s: kind %d level %u",
		      mc->what, ft.kind, ft.level);
	*e = saved;
	CHECK_RC(pgt_translate(&f.sp, ipa, PGT_ACC_READ, NULL, &ft), PGT_OK);
	fx_close(&f);
}
END_TEST

/* Block sizes the granule lacks at a level, misaligned IPAs, no second range. */
START_TEST(test_bad_inserts)
{
	struct fx f;

	fx_open(&f, _i);
	const struct s2_desc *d = f.d;
	if (d->levels == 4)
		CHECK_RC(pgt_insert(&f.sp, 0, 39, NULL), PGT_ESIZE); /* no 512G block at start level 0 */
	CHECK_RC(pgt_insert(&f.sp, 0, d->granule + 1, NULL), PGT_ESIZE);
	CHECK_RC(pgt_insert(&f.sp, 1ull << (d->granule - 1), d->granule, NULL), PGT_EALIGN);
	CHECK_RC(pgt_insert(&f.sp, 1ull << d->granule, d->size[1].shift, NULL), PGT_EALIGN);
	CHECK_RC(pgt_insert(&f.sp, 0xffffff0000000000ull, d->granule, NULL), PGT_ERANGE);
	CHECK_RC(pgt_map(&f.sp, 0, 0, 1ull << d->granule, R | WC, 0), PGT_ENOTSUP);
	CHECK_RC(pgt_map(&f.sp, 0, 0, 1ull << d->granule, R | UC | NC, 0), PGT_EFLAGS);
	ck_assert_uint_eq(test_mm_outstanding(&f.t), 1);
	/* VTTBR_EL2 has one range from 0: no PGT_SPACE_UPPER */
	pgt_space_t up;
	CHECK_RC(pgt_space_init(&up, d->a, &f.t.mm, PGT_SPACE_UPPER), PGT_EFLAGS);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *armv8_s2_suite(void)
{
	Suite *s = suite_create("arch_armv8_s2");
	TCase *geo = tcase_create("geometry");
	TCase *enc = tcase_create("encodings");
	TCase *tr = tcase_create("translate");
	const int n = (int)NDESCS * 2;

	tcase_add_loop_test(geo, test_geometry, 0, (int)NDESCS);
	tcase_add_loop_test(geo, test_root_frame, 0, n);
	suite_add_tcase(s, geo);

	/* Loop index: descriptor i / 2, hook mode (bit 0). */
	tcase_add_loop_test(enc, test_every_prot, 0, n);
	tcase_add_loop_test(enc, test_literals, 0, n);
	tcase_add_loop_test(enc, test_user_global_dropped, 0, n);
	tcase_add_loop_test(enc, test_af_and_dirty, 0, n);
	tcase_add_loop_test(enc, test_decode_literals, 0, n);
	tcase_add_loop_test(enc, test_output_address, 0, n);
	tcase_add_loop_test(enc, test_table_descriptors, 0, n);
	tcase_add_loop_test(enc, test_bad_inserts, 0, n);
	suite_add_tcase(s, enc);

	tcase_add_loop_test(tr, test_concatenated_root, 0, n);
	tcase_add_loop_test(tr, test_translate_rights, 0, n);
	tcase_add_loop_test(tr, test_table_bits_ignored, 0, n);
	tcase_add_loop_test(tr, test_access_flag_fault, 0, n);
	tcase_add_loop_test(tr, test_not_present, 0, n);
	tcase_add_loop_test(tr, test_malformed, 0, (int)(sizeof malformed / sizeof malformed[0]));
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	int failed = test_run_suite(armv8_s2_suite());
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
