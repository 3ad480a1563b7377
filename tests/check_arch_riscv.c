/* SPDX-License-Identifier: MIT */
/*
 * check_arch_riscv: golden encodings of the RISC-V stage-1 descriptors
 * pgt_arch_riscv_sv39, pgt_arch_riscv_sv48 and pgt_arch_riscv_sv57.
 *
 * Entries are built through the public API (pgt_map, pgt_insert,
 * pgt_set_field) and compared with literal values worked out by hand from
 * The RISC-V Instruction Set Manual, Volume II: Privileged Architecture,
 * 20211203 (privileged architecture 1.12):
 *   4.1.1   sstatus SUM and MXR (translate models SUM = 0, MXR = 0)
 *   4.3.1   PTE flag bits (figure 4.18), table 4.5 (R/W/X encodings), U,
 *           G, RSW, the two A/D schemes, superpage alignment, D/A/U of
 *           non-leaf entries
 *   4.3.2   the translation process, steps 1 to 8
 *   4.4.1   Sv39: addresses and PTE (figures 4.19 to 4.21), bits 63:54
 *   4.5.1   Sv48 (figures 4.22 to 4.24), 4.6.1 Sv57 (figures 4.25 to 4.27)
 *   ch. 5   Svnapot: N is bit 63; reserved at levels above 0 (table 5.1)
 *   ch. 6   Svpbmt: PBMT is bits 62:61 (table 6.1), reserved in non-leaf entries
 * The PGT_RISCV_* macros are deliberately not used for expected values: the
 * expected values must not come from the code under test.
 *
 * PTE bits (figure 4.21; figures 4.24 and 4.27 only split the PPN further):
 *   bit 0 V, 1 R, 2 W, 3 X, 4 U, 5 G, 6 A, 7 D, 9:8 RSW (libpgtable marks a
 *   reserved leaf with bit 8 and V clear), 53:10 PPN = PA[55:12], 60:54
 *   reserved, 62:61 PBMT (0 PMA, 1 NC, 2 IO, 3 reserved), 63 N.
 *   An entry therefore holds pa >> 2 in bits 53:10. PPN[0] is bits 18:10,
 *   PPN[1] 27:19, PPN[2] 36:28, PPN[3] 45:37; the top PPN runs to bit 53
 *   (Sv39 PPN[2] 53:28, Sv48 PPN[3] 53:37, Sv57 PPN[4] 53:46). A leaf at
 *   level i has PPN[i-1:0] zero (4.3.2 step 6).
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
	IO = PGT_PROT_UNCACHED,
	NC = PGT_PROT_NONCACHEABLE,
	WC = PGT_PROT_WRITECOMBINE
};

/* ------------------------------------------------------------------------ */
/* Literals from the specification (see the file comment).                   */

/* Figure 4.21: the PPN field, bits 53:10. */
#define SPEC_PPN        0x003ffffffffffc00ull
/* A non-leaf entry (4.3.1, table 4.5 row X=W=R=0): V alone besides the PPN. */
#define SPEC_TABLE_BITS 0x0000000000000001ull
/* What pgt_insert leaves: V clear (4.3.1: every other bit is software's), RSW bit 8. */
#define RESERVED_LEAF   0x0000000000000100ull

/* The descriptors, spelled out by hand. */
struct rv_desc {
	const struct pgt_arch *a;
	const char *name;
	unsigned levels, va_bits;
	/* 4.4.1/4.5.1/4.6.1: bits 63:va_bits equal bit va_bits-1. */
	pgt_vaddr_t lower_last;  /* last page of the lower half */
	pgt_vaddr_t upper_first; /* first address of the upper half */
};

static const struct rv_desc descs[] = {
	{ &pgt_arch_riscv_sv39, "riscv-sv39", 3, 39, 0x0000003ffffff000ull, 0xffffffc000000000ull },
	{ &pgt_arch_riscv_sv48, "riscv-sv48", 4, 48, 0x00007ffffffff000ull, 0xffff800000000000ull },
	{ &pgt_arch_riscv_sv57, "riscv-sv57", 5, 57, 0x00fffffffffff000ull, 0xff00000000000000ull },
};
#define NDESCS (sizeof descs / sizeof descs[0])

/* One leaf size: a leaf at `level` maps 2^shift bytes (4.4.1, 4.5.1, 4.6.1). */
struct rv_size {
	const char *name;
	unsigned shift, level;
	pgt_paddr_t pa;    /* aligned, with PA bit 55 set where the size allows: the top PPN bit */
	pgt_pte_t ppn;     /* pa >> 12 placed at bit 10, by hand */
	pgt_pte_t oa_mask; /* the PPN bits a leaf of this size may hold: PPN[levels-1:level] */
};

static const struct rv_size sizes[] = {
	/* PPN 0xfedcba98765 << 10. */
	{ "4K", 12, 0, 0x00fedcba98765000ull, 0x003fb72ea61d9400ull, 0x003ffffffffffc00ull },
	/* PPN 0xfedcba986 << 10 (PPN[0] = 0: bits 18:10 clear). */
	{ "2M", 21, 1, 0x00fedcba98600000ull, 0x003fb72ea6180000ull, 0x003ffffffff80000ull },
	/* PPN 0xfedcbac0000 << 10 (PPN[1:0] = 0: bits 27:10 clear). */
	{ "1G", 30, 2, 0x00fedcbac0000000ull, 0x003fb72eb0000000ull, 0x003ffffff0000000ull },
	/* Sv48/Sv57 terapage (PPN[2:0] = 0: bits 36:10 clear). */
	{ "512G", 39, 3, 0x00fedc8000000000ull, 0x003fb72000000000ull, 0x003fffe000000000ull },
	/* Sv57 petapage (PPN[3:0] = 0: bits 45:10 clear). */
	{ "256T", 48, 4, 0x00ab000000000000ull, 0x002ac00000000000ull, 0x003fc00000000000ull },
};

/* ------------------------------------------------------------------------ */
/* Fixture: one space over the harness allocator.                            */

struct fx {
	struct test_mm t;
	pgt_space_t sp;
	const struct rv_desc *d;
};

/* Loop index -> descriptor (i / 2) and allocator mode (i % 2). */
static const struct rv_desc *desc_of(int i)
{
	return &descs[(unsigned)i / 2];
}

static enum test_mm_mode mode_of(int i)
{
	return (i % 2) ? TEST_MM_HOOK : TEST_MM_OFFSET;
}

static void fx_open(struct fx *f, int i)
{
	test_mm_init(&f->t, mode_of(i));
	f->d = desc_of(i);
	CHECK_RC(pgt_space_init(&f->sp, f->d->a, &f->t.mm, 0), PGT_OK);
}

/* Checks the tree, destroys the space and checks that the books balance. */
static void fx_close(struct fx *f)
{
	struct tree_stats st = tree_check(&f->sp, f->d->a, &f->t);

	ck_assert_msg(st.problems == 0, "tree_check found %zu problems", st.problems);
	ck_assert_int_eq(pgt_verify(&f->sp, NULL, NULL), 0);
	pgt_space_destroy(&f->sp);
	ck_assert_msg(test_mm_outstanding(&f->t) == 0, "%zu tables leaked", test_mm_outstanding(&f->t));
	ck_assert_msg(f->t.errors == 0, "%ld bad frees", f->t.errors);
	ck_assert_msg(f->t.allocs == f->t.frees, "allocs %ld != frees %ld", f->t.allocs, f->t.frees);
	test_mm_fini(&f->t);
}

/* Lowest VA bit the root indexes. */
static unsigned root_shift(const struct rv_desc *d)
{
	return 12 + 9 * (d->levels - 1);
}

/*
 * A VA for leaf size @p s with a root entry of its own, in the upper half
 * for odd sizes so that both halves are exercised.
 */
static pgt_vaddr_t va_for(const struct fx *f, unsigned s)
{
	pgt_vaddr_t base = (s & 1) ? f->d->upper_first : 0;

	return base + ((pgt_vaddr_t)(2 * s + 1) << root_shift(f->d));
}

static uint64_t size_of(unsigned s)
{
	return 1ull << sizes[s].shift;
}

/* Maps one leaf of size @p s with @p prot and returns its ref, found by lookup. */
static pgt_ref_t map_leaf(struct fx *f, unsigned s, unsigned prot)
{
	pgt_ref_t ref = { 0 };

	CHECK_RC(pgt_map(&f->sp, va_for(f, s), sizes[s].pa, size_of(s), prot, 0), PGT_OK);
	CHECK_RC(pgt_lookup(&f->sp, va_for(f, s), &ref), PGT_OK);
	ck_assert_uint_eq(ref.level, sizes[s].level);
	ck_assert_uint_eq(ref.page_shift, sizes[s].shift);
	return ref;
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

/* The table at a physical address, as the space's hooks reach it. */
static pgt_pte_t *table_at(const struct fx *f, pgt_paddr_t pa)
{
	return test_mm_p2v(&f->t, pa);
}

/* 9-bit VPN[level] of @p va (4.4.1 figure 4.19 and its Sv48/Sv57 siblings). */
static unsigned vpn(pgt_vaddr_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * level)) & 511u;
}

/* The entry for @p va at @p level, reached through the non-leaf entries above it (4.3.2 steps 2 and 4). */
static pgt_pte_t *entry_at(const struct fx *f, pgt_vaddr_t va, unsigned level)
{
	pgt_pte_t *table = table_at(f, pgt_space_root(&f->sp));

	for (unsigned l = f->d->levels - 1u; l > level; l--)
		table = table_at(f, (table[vpn(va, l)] & SPEC_PPN) << 2);
	return &table[vpn(va, level)];
}

/* Translates and expects success at @p want (page offset included). */
static void translate_ok(struct fx *f, pgt_vaddr_t va, unsigned acc, pgt_paddr_t want, const char *what)
{
	pgt_paddr_t pa = 0;
	struct pgt_fault ft = { 0 };
	int rc = pgt_translate(&f->sp, va, acc, &pa, &ft);

	ck_assert_msg(rc == PGT_OK, "%s %s: access %#x at %#llx: %s (fault kind %d)", f->d->name, what, acc,
		      (unsigned long long)va, pgt_strerror(rc), ft.kind);
	ck_assert_msg(pa == want, "%s %s: pa %#llx, expected %#llx", f->d->name, what, (unsigned long long)pa,
		      (unsigned long long)want);
}

/* Translates and expects a fault of @p kind at @p level. */
static void translate_fault(struct fx *f, pgt_vaddr_t va, unsigned acc, int kind, unsigned level,
			    const char *what)
{
	struct pgt_fault ft = { .kind = -1 };
	int rc = pgt_translate(&f->sp, va, acc, NULL, &ft);

	ck_assert_msg(rc == PGT_EFAULT, "%s %s: access %#x at %#llx returned %s, expected a fault",
		      f->d->name, what, acc, (unsigned long long)va, pgt_strerror(rc));
	ck_assert_msg(ft.kind == kind && ft.level == level && ft.va == va,
		      "%s %s: fault kind %d level %u va %#llx, expected kind %d level %u", f->d->name, what,
		      ft.kind, ft.level, (unsigned long long)ft.va, kind, level);
}

/* pgt_verify's reports, counted. */
struct verify_log {
	int n;
	unsigned level;
	pgt_vaddr_t va;
};

static void log_problem(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	struct verify_log *v = arg;

	(void)problem;
	v->n++;
	v->level = level;
	v->va = va;
}

/* pgt_verify must report exactly one problem, at @p va and @p level. */
static void verify_one(struct fx *f, pgt_vaddr_t va, unsigned level, const char *what)
{
	struct verify_log v = { 0 };
	int n = pgt_verify(&f->sp, log_problem, &v);

	ck_assert_msg(n == 1 && v.n == 1, "%s %s: pgt_verify found %d problems, expected 1", f->d->name, what,
		      n);
	ck_assert_msg(v.level == level && v.va == va, "%s %s: reported at %#llx level %u", f->d->name, what,
		      (unsigned long long)v.va, v.level);
}

/* ------------------------------------------------------------------------ */
/* Geometry (4.4.1, 4.5.1, 4.6.1)                                            */

/* Sv39/48/57 tables hold 2^9 eight-byte entries, a page each; any level may be a leaf. */
START_TEST(test_geometry)
{
	const struct rv_desc *d = &descs[_i];
	const struct pgt_arch *a = d->a;

	ck_assert_str_eq(a->name, d->name);
	ck_assert_ptr_eq(pgt_arch_by_name(d->name), a);
	ck_assert_uint_eq(a->levels, d->levels);
	ck_assert_uint_eq(a->va_bits, d->va_bits);
	ck_assert_uint_eq(a->pa_bits, 56); /* figures 4.20/4.23/4.26: PA bits 55:0 */
	ck_assert_uint_eq(a->canon, PGT_CANON_SIGN_EXTEND);
	ck_assert_uint_eq(a->malformed_fault, PGT_FAULT_RESERVED_BIT);
	ck_assert_uint_eq(a->af_fault, 1);    /* 4.3.1, first A/D scheme */
	ck_assert_uint_eq(a->dirty_fault, 1); /* same scheme, D on a store */
	for (unsigned l = 0; l < d->levels; l++) {
		const struct pgt_level *L = &a->level[l];
		ck_assert_msg(L->shift == 12 + 9 * l, "%s level %u shift %u", d->name, l, L->shift);
		ck_assert_msg(L->bits == 9, "%s level %u bits %u", d->name, l, L->bits);
		ck_assert_msg(L->table_size == 4096, "%s level %u table_size %u", d->name, l, L->table_size);
		ck_assert_msg(L->leaf_ok == 1, "%s level %u leaf_ok %u", d->name, l, L->leaf_ok);
		ck_assert_msg(L->oa_shift == 2, "%s level %u oa_shift %u", d->name, l, L->oa_shift);
		CHECK_PTE(L->valid, 0x1, "V is bit 0");
		CHECK_PTE(L->leaf_any, 0xe, "a leaf has R, W or X (table 4.5)");
		CHECK_PTE(L->table_oa, SPEC_PPN, "next-table PPN, bits 53:10");
		CHECK_PTE(L->table_count, 0, "no count: RSW 9:8 is all a non-leaf entry ignores (4.3.1)");
		CHECK_PTE(L->leaf_oa, sizes[l].oa_mask, sizes[l].name);
		CHECK_PTE(L->accessed, 0x40, "A is bit 6");
		CHECK_PTE(L->dirty, 0x80, "D is bit 7");
		CHECK_PTE(L->reserved, 0x100, "reserved-leaf mark is RSW bit 8");
	}
	ck_assert_uint_eq(a->level[d->levels - 1].shift + 9, d->va_bits);
}
END_TEST

/* The tables pgt_insert allocates: one page each, page-aligned (4.4.1). */
START_TEST(test_table_frames)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_paddr_t root = pgt_space_root(&f.sp);
	ck_assert_uint_eq(root & 0xfff, 0);
	ck_assert_uint_eq(test_mm_frame_size(&f.t, root), 4096);
	(void)insert_ok(&f, 0, 12);
	ck_assert_uint_eq(test_mm_outstanding(&f.t), f.d->levels);
	for (size_t i = 0; i < f.t.nslots; i++)
		if (f.t.slots[i].mem)
			ck_assert_uint_eq(f.t.slots[i].size, 4096);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Leaf encodings (4.3.1, table 4.5; figure 4.21; table 6.1)                 */

/* Attribute bits of a leaf at any level: the RISC-V leaf has one format. */
struct prot_row {
	unsigned prot;
	const char *name;
	pgt_pte_t bits;
};

/* V 0x1, R 0x2, W 0x4, X 0x8, U 0x10, G 0x20, A 0x40, D 0x80; PBMT NC 1 << 61, IO 2 << 61. */
static const struct prot_row rows[] = {
	/* Table 4.5 "read-only page"; pgt_map sets A and D on every valid leaf. */
	{ R, "R", 0x00000000000000c3ull },
	{ R | W, "RW", 0x00000000000000c7ull },
	/* Table 4.5 "execute-only page": valid with X alone. */
	{ X, "X", 0x00000000000000c9ull },
	{ R | X, "RX", 0x00000000000000cbull },
	{ R | W | X, "RWX", 0x00000000000000cfull },
	{ R | U, "R|USER", 0x00000000000000d3ull },
	{ X | U, "X|USER", 0x00000000000000d9ull },
	{ R | W | X | U, "RWX|USER", 0x00000000000000dfull },
	{ R | G, "R|GLOBAL", 0x00000000000000e3ull },
	/* Table 6.1: PBMT 1, NC. */
	{ R | W | NC, "RW|NONCACHEABLE", 0x20000000000000c7ull },
	/* Table 6.1: PBMT 2, IO. */
	{ R | W | IO, "RW|UNCACHED", 0x40000000000000c7ull },
	{ R | W | X | U | G | NC, "RWX|USER|GLOBAL|NONCACHEABLE", 0x20000000000000ffull },
	{ X | G | IO, "X|GLOBAL|UNCACHED", 0x40000000000000e9ull },
	/* No right: a reserved leaf, V clear (4.3.1: the rest is software's), RSW bit 8 set, pa kept. */
	{ 0, "no rights", 0x0000000000000100ull },
	{ U | G | IO, "USER|GLOBAL|UNCACHED, no rights", 0x4000000000000130ull },
};
#define NROWS (sizeof rows / sizeof rows[0])

/* Every row at every leaf size the descriptor has: PPN in 53:10 exactly, flags as above. */
START_TEST(test_leaf_full_literals)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++) {
		for (unsigned r = 0; r < NROWS; r++) {
			pgt_ref_t ref = map_leaf(&f, s, rows[r].prot);
			pgt_pte_t want = sizes[s].ppn | rows[r].bits;
			ck_assert_msg(*ref.pte == want, "%s %s %s: entry %#018llx, expected %#018llx",
				      f.d->name, sizes[s].name, rows[r].name, (unsigned long long)*ref.pte,
				      (unsigned long long)want);
			ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), rows[r].prot);
			ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PADDR), sizes[s].pa);
			CHECK_RC(pgt_unmap(&f.sp, va_for(&f, s), size_of(s)), PGT_OK);
		}
	}
	ck_assert_uint_eq(test_mm_outstanding(&f.t), 1);
	fx_close(&f);
}
END_TEST

/* PA[55:12] lands in bits 53:10 whole: every PPN bit, and nothing past PA bit 55. */
START_TEST(test_output_address_width)
{
	struct fx f;

	fx_open(&f, _i);
	/* The last page below 2^56: PPN all ones. */
	CHECK_RC(pgt_map(&f.sp, va_for(&f, 0), 0x00fffffffffff000ull, 4096, R | W, 0), PGT_OK);
	pgt_ref_t ref;
	CHECK_RC(pgt_lookup(&f.sp, va_for(&f, 0), &ref), PGT_OK);
	CHECK_PTE(*ref.pte, 0x003ffffffffffcc7ull, "RW page at PA 0x00fffffffffff000");
	translate_ok(&f, va_for(&f, 0) + 0xabc, PGT_ACC_READ, 0x00fffffffffffabcull, "top page");
	/* PA bit 56 is beyond the 56-bit physical address (figure 4.20). */
	CHECK_RC(pgt_map(&f.sp, va_for(&f, 2), 0x0100000000000000ull, 4096, R, 0), PGT_ERANGE);
	CHECK_RC(pgt_map(&f.sp, va_for(&f, 2), 0x00fffffffffff000ull, 8192, R, 0), PGT_ERANGE);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, 0x0100000000000000ull), PGT_ERANGE);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, 0x0000000080000000ull), PGT_OK);
	CHECK_PTE(*ref.pte, 0x00000000200000c7ull, "RW page at PA 0x80000000");
	/* A megapage refuses a pa aligned below 2M (4.4.1: superpages are physically aligned to their size).
	 */
	pgt_ref_t big = map_leaf(&f, 1, R);
	CHECK_RC(pgt_set_field(&f.sp, big, PGT_FIELD_PADDR, sizes[1].pa | 0x1000), PGT_EALIGN);
	CHECK_RC(pgt_set_field(&f.sp, big, PGT_FIELD_PADDR, sizes[1].pa | 0x100000), PGT_EALIGN);
	CHECK_PTE(*big.pte, sizes[1].ppn | 0xc3, "2M leaf after refused addresses");
	fx_close(&f);
}
END_TEST

/*
 * Rights without an encoding: W without R (table 4.5 rows 010 and 110) and
 * write-combining (table 6.1 has no such type). Refused whole, nothing allocated.
 */
START_TEST(test_enotsup)
{
	static const unsigned bad[] = { W, W | X, W | U, W | X | U | G, R | WC, R | W | X | WC, X | WC, WC };
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++)
		for (unsigned b = 0; b < sizeof bad / sizeof bad[0]; b++) {
			CHECK_RC(pgt_map(&f.sp, va_for(&f, s), sizes[s].pa, size_of(s), bad[b], 0),
				 PGT_ENOTSUP);
			CHECK_RC(pgt_lookup(&f.sp, va_for(&f, s), NULL), PGT_ENOENT);
		}
	ck_assert_uint_eq(test_mm_outstanding(&f.t), 1);

	/* On a valid leaf: the same refusals leave the entry as it was. */
	pgt_ref_t ref = map_leaf(&f, 0, R | W);
	pgt_pte_t rw = sizes[0].ppn | 0xc7;
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, W), PGT_ENOTSUP);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 0), PGT_ENOTSUP);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W | WC), PGT_ENOTSUP);
	CHECK_PTE(*ref.pte, rw, "RW leaf after refused changes");
	/* Execute-only is table 4.5's row 100: accepted. */
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, X), PGT_OK);
	CHECK_PTE(*ref.pte, sizes[0].ppn | 0xc9, "execute-only");
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_WRITE, 1), PGT_ENOTSUP); /* row 110 */
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 1), PGT_OK);
	CHECK_PTE(*ref.pte, sizes[0].ppn | 0xcb, "read-execute");
	fx_close(&f);
}
END_TEST

/* pgt_insert's reserved leaf: V clear, RSW bit 8, nothing else; the MMU ignores it (4.3.1). */
START_TEST(test_reserved_leaf)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++) {
		pgt_ref_t ref = insert_ok(&f, va_for(&f, s), sizes[s].shift);
		ck_assert_uint_eq(ref.level, sizes[s].level);
		CHECK_PTE(*ref.pte, RESERVED_LEAF, sizes[s].name);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), 0);
		translate_fault(&f, va_for(&f, s), PGT_ACC_READ, PGT_FAULT_NOT_PRESENT, sizes[s].level,
				"reserved leaf");
		/* Attributes without rights stay in the invalid entry. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, U | G | IO), PGT_OK);
		CHECK_PTE(*ref.pte, 0x4000000000000130ull, "reserved leaf with U, G, PBMT IO");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), U | G | IO);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, 0), PGT_OK);
		CHECK_PTE(*ref.pte, RESERVED_LEAF, "no rights again");
		/* Granting execute alone makes it a valid execute-only leaf. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sizes[s].pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_EXEC, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sizes[s].ppn | 0xc9, "EXEC=1 on a reserved leaf");
	}
	struct tree_stats st = tree_check(&f.sp, f.d->a, &f.t);
	ck_assert_uint_eq(st.leaves, f.d->levels);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Non-leaf entries (4.3.1: X=W=R=0; D, A, U reserved; ch. 6: PBMT reserved)  */

/*
 * Walks from the root to the table at @p stop for @p va, checking every
 * non-leaf entry: V and the next table's PPN, nothing else, and every other
 * slot empty. Returns that table.
 */
static pgt_pte_t *check_table_entries(struct fx *f, pgt_vaddr_t va, unsigned stop)
{
	pgt_pte_t *table = table_at(f, pgt_space_root(&f->sp));

	for (unsigned l = f->d->levels - 1u; l > stop; l--) {
		pgt_pte_t e = table[vpn(va, l)];
		pgt_paddr_t next = (e & SPEC_PPN) << 2; /* PPN x PAGESIZE (4.3.2 step 4) */

		ck_assert_msg((e & ~SPEC_PPN) == SPEC_TABLE_BITS,
			      "%s level %u non-leaf entry %#018llx: expected V and the PPN only", f->d->name,
			      l, (unsigned long long)e);
		ck_assert_msg(test_mm_owns(&f->t, next, l - 1),
			      "%s level %u points at %#llx, not a level-%u table", f->d->name, l,
			      (unsigned long long)next, l - 1);
		ck_assert_uint_eq(test_mm_frame_size(&f->t, next), 4096);
		for (unsigned i = 0; i < 512; i++)
			ck_assert_msg(i == vpn(va, l) || table[i] == 0, "%s level %u slot %u not cleared",
				      f->d->name, l, i);
		table = table_at(f, next);
	}
	return table;
}

/* Sign-extends a VA from bit va_bits-1 (4.4.1). */
static pgt_vaddr_t canonical(const struct rv_desc *d, pgt_vaddr_t va)
{
	unsigned sh = 64 - d->va_bits;

	return (pgt_vaddr_t)((int64_t)(va << sh) >> sh);
}

START_TEST(test_table_entries)
{
	/* Distinct VPNs at every level; Sv39's VPN[2] 0x1c3 lies in the upper half. */
	static const unsigned vpns[] = { 0x13c, 0x0f0, 0x1c3, 0x0a5, 0x07b };
	const struct rv_desc *d = desc_of(_i);
	pgt_vaddr_t raw = 0;

	for (unsigned l = 0; l < d->levels; l++)
		raw |= (pgt_vaddr_t)vpns[l] << (12 + 9 * l);
	for (unsigned s = 0; s < d->levels; s++) {
		struct fx f;
		pgt_vaddr_t va = canonical(d, raw) & ~(size_of(s) - 1);

		fx_open(&f, _i);
		CHECK_RC(pgt_map(&f.sp, va, sizes[s].pa, size_of(s), R | W | U, 0), PGT_OK);
		pgt_pte_t *table = check_table_entries(&f, va, sizes[s].level);
		CHECK_PTE(table[vpn(va, sizes[s].level)], sizes[s].ppn | 0xd7,
			  "the leaf at the end of the walk");
		ck_assert_uint_eq(test_mm_outstanding(&f.t), d->levels - sizes[s].level);
		translate_ok(&f, va + 0x5a8, PGT_ACC_WRITE | PGT_ACC_USER, sizes[s].pa + 0x5a8, "walk");
		fx_close(&f);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Decoding hand-written entries (stored straight into the leaf slot)        */

struct decode_case {
	const char *what;
	unsigned size;  /* index into sizes[] */
	pgt_pte_t bits; /* OR-ed with that size's PPN */
	unsigned prot;
	uint64_t accessed, dirty;
};

static const struct decode_case decodes[] = {
	/* V|R|W|X|U|A|D. */
	{ "user RWX 4K, A, D", 0, 0x00000000000000dfull, R | W | X | U, 1, 1 },
	/* V|X|G|A: execute-only, global, clean. */
	{ "global execute-only 4K, A", 0, 0x0000000000000069ull, X | G, 1, 0 },
	/* V|R|G|A|D, PBMT 1. */
	{ "global RO NC 2M", 1, 0x20000000000000e3ull, R | G | NC, 1, 1 },
	/* V|R|W, PBMT 2, A and D clear. */
	{ "RW IO 2M, no A, no D", 1, 0x4000000000000007ull, R | W | IO, 0, 0 },
	/* V|R|X|U|A. */
	{ "user RX 1G, A", 2, 0x000000000000005bull, R | X | U, 1, 0 },
	/* V clear: R, W, X mean nothing (4.3.1); U and the RSW mark stay the library's. */
	{ "reserved 1G with R, W, X and U", 2, 0x000000000000011eull, U, 0, 0 },
};

START_TEST(test_decode_literals)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < 3; s++)
		(void)insert_ok(&f, va_for(&f, s), sizes[s].shift);
	for (unsigned k = 0; k < sizeof decodes / sizeof decodes[0]; k++) {
		const struct decode_case *dc = &decodes[k];
		pgt_ref_t ref;
		CHECK_RC(pgt_lookup(&f.sp, va_for(&f, dc->size), &ref), PGT_OK);
		pgt_pte_t saved = *ref.pte;
		*ref.pte = sizes[dc->size].ppn | dc->bits;
		ck_assert_msg(get(&f, ref, PGT_FIELD_PROT) == dc->prot, "%s: prot %#llx, expected %#x",
			      dc->what, (unsigned long long)get(&f, ref, PGT_FIELD_PROT), dc->prot);
		ck_assert_msg(get(&f, ref, PGT_FIELD_PADDR) == sizes[dc->size].pa, "%s: paddr", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_READ) == !!(dc->prot & R), "%s: read", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_WRITE) == !!(dc->prot & W), "%s: write", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_EXEC) == !!(dc->prot & X), "%s: exec", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_USER) == !!(dc->prot & U), "%s: user", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_GLOBAL) == !!(dc->prot & G), "%s: global", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_CACHED) == !(dc->prot & PGT_PROT_MEMTYPE), "%s: cached",
			      dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_ACCESSED) == dc->accessed, "%s: accessed", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_DIRTY) == dc->dirty, "%s: dirty", dc->what);
		*ref.pte = saved;
	}
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Fields: A, D and the memory type (4.3.1; table 6.1)                       */

START_TEST(test_accessed_dirty_fields)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++) {
		pgt_pte_t ppn = sizes[s].ppn;
		pgt_ref_t ref = map_leaf(&f, s, R | W);

		CHECK_PTE(*ref.pte, ppn | 0xc7, "RW with A and D");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 1);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 1);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_ACCESSED, 0), PGT_OK);
		CHECK_PTE(*ref.pte, ppn | 0x87, "A cleared");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 0);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 0), PGT_OK);
		CHECK_PTE(*ref.pte, ppn | 0x07, "A and D cleared");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 0);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 1), PGT_OK);
		CHECK_PTE(*ref.pte, ppn | 0x87, "D set alone");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 1);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_ACCESSED, 1), PGT_OK);
		CHECK_PTE(*ref.pte, ppn | 0xc7, "A set again");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 2), PGT_EINVAL);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_ACCESSED, 2), PGT_EINVAL);
		CHECK_PTE(*ref.pte, ppn | 0xc7, "after refused values");
		/* The status bits of an execute-only user leaf are the same two bits. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, X | U), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 0), PGT_OK);
		CHECK_PTE(*ref.pte, ppn | 0x59, "X|USER without D");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 1);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 0);
	}
	fx_close(&f);
}
END_TEST

/* CACHED is 1 for PMA (PBMT 0) only; writing 0 asks for device memory: IO. */
START_TEST(test_memtype_fields)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_pte_t ppn = sizes[0].ppn;
	pgt_ref_t ref = map_leaf(&f, 0, R | W | NC);
	CHECK_PTE(*ref.pte, ppn | 0x20000000000000c7ull, "NC");
	ck_assert_uint_eq(get(&f, ref, PGT_FIELD_CACHED), 0);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_CACHED, 1), PGT_OK);
	CHECK_PTE(*ref.pte, ppn | 0xc7, "CACHED=1: PBMT 0");
	ck_assert_uint_eq(get(&f, ref, PGT_FIELD_CACHED), 1);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_CACHED, 0), PGT_OK);
	CHECK_PTE(*ref.pte, ppn | 0x40000000000000c7ull, "CACHED=0: PBMT IO");
	ck_assert_uint_eq(get(&f, ref, PGT_FIELD_CACHED), 0);
	ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), R | W | IO);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | NC), PGT_OK);
	CHECK_PTE(*ref.pte, ppn | 0x20000000000000c3ull, "R|NONCACHEABLE");
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | WC), PGT_ENOTSUP);
	CHECK_PTE(*ref.pte, ppn | 0x20000000000000c3ull, "after a refused write-combining");
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Canonical addresses (4.4.1, 4.5.1, 4.6.1: bits 63:va_bits equal bit va_bits-1) */

/* Accepted by pgt_map, pgt_insert, pgt_lookup and pgt_translate, in root slot @p slot. */
static void expect_canonical(struct fx *f, pgt_vaddr_t va, unsigned slot)
{
	pgt_pte_t *root = table_at(f, pgt_space_root(&f->sp));
	pgt_paddr_t pa = 0x0000000080000000ull + ((pgt_paddr_t)slot << 12);

	CHECK_RC(pgt_lookup(&f->sp, va, NULL), PGT_ENOENT);
	CHECK_RC(pgt_insert(&f->sp, va, 12, NULL), PGT_OK);
	translate_fault(f, va, PGT_ACC_READ, PGT_FAULT_NOT_PRESENT, 0,
			"reserved leaf at a canonical address");
	CHECK_RC(pgt_unmap(&f->sp, va, 4096), PGT_OK);
	CHECK_RC(pgt_map(&f->sp, va, pa, 4096, R | W, 0), PGT_OK);
	CHECK_RC(pgt_lookup(&f->sp, va | 0xfff, NULL), PGT_OK);
	translate_ok(f, va, PGT_ACC_READ, pa, "first byte of a canonical page");
	translate_ok(f, va | 0xfff, PGT_ACC_WRITE, pa | 0xfff, "last byte of a canonical page");
	ck_assert_msg((root[slot] & ~SPEC_PPN) == SPEC_TABLE_BITS, "%s: root slot %u holds %#llx after %#llx",
		      f->d->name, slot, (unsigned long long)root[slot], (unsigned long long)va);
}

/* Refused by every call that takes an address, translate included. */
static void expect_refused(struct fx *f, pgt_vaddr_t va)
{
	pgt_vaddr_t page = va & ~0xfffull;

	CHECK_RC(pgt_map(&f->sp, page, 0x80000000ull, 4096, R, 0), PGT_ERANGE);
	CHECK_RC(pgt_insert(&f->sp, page, 12, NULL), PGT_ERANGE);
	CHECK_RC(pgt_lookup(&f->sp, va, NULL), PGT_ERANGE);
	CHECK_RC(pgt_unmap(&f->sp, page, 4096), PGT_ERANGE);
	CHECK_RC(pgt_translate(&f->sp, va, PGT_ACC_READ, NULL, NULL), PGT_ERANGE);
	CHECK_RC(pgt_translate(&f->sp, va, PGT_ACC_EXEC | PGT_ACC_USER, NULL, NULL), PGT_ERANGE);
	CHECK_RC(pgt_translate(&f->sp, va, PGT_ACC_WRITE | PGT_ACC_SET_AD, NULL, NULL), PGT_ERANGE);
}

START_TEST(test_canonical)
{
	struct fx f;

	fx_open(&f, _i);
	const struct rv_desc *d = f.d;
	pgt_vaddr_t first_bad = d->lower_last + 0x1000; /* 2^(va_bits-1) */
	pgt_vaddr_t last_bad = d->upper_first - 1;

	expect_canonical(&f, 0, 0);
	expect_canonical(&f, d->lower_last, 255);
	expect_canonical(&f, d->upper_first, 256);
	expect_canonical(&f, 0xfffffffffffff000ull, 511);
	expect_refused(&f, first_bad);
	expect_refused(&f, first_bad | 0xfff);
	expect_refused(&f, last_bad);
	expect_refused(&f, 0x8000000000000000ull);
	expect_refused(&f, 0x7ffffffffffff000ull);
	/* A range from the last canonical page into the first non-canonical one. */
	CHECK_RC(pgt_map(&f.sp, d->lower_last - 0x1000, 0x90000000ull, 0x3000, R, 0), PGT_ERANGE);
	CHECK_RC(pgt_map(&f.sp, last_bad & ~0xfffull, 0x90000000ull, 0x2000, R, 0), PGT_ERANGE);
	ck_assert_uint_eq(test_mm_outstanding(&f.t), 1 + 4 * (d->levels - 1u));
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* pgt_translate: permissions (4.3.1, table 4.5; 4.1.1 SUM = 0, MXR = 0; 4.3.2 step 5) */

/* S-mode load, store, fetch, then the same from U-mode; bit k of `allowed` below is accesses[k]. */
static const unsigned accesses[6] = {
	PGT_ACC_READ,
	PGT_ACC_WRITE,
	PGT_ACC_EXEC,
	PGT_ACC_READ | PGT_ACC_USER,
	PGT_ACC_WRITE | PGT_ACC_USER,
	PGT_ACC_EXEC | PGT_ACC_USER,
};

struct rights_case {
	unsigned prot;
	const char *name;
	unsigned allowed; /* bit k: accesses[k] completes */
};

/*
 * U-mode touches only U=1 pages; with SUM=0 S-mode touches no U=1 page, and
 * never executes one; with MXR=0 a load needs R, whatever X says.
 */
static const struct rights_case rights[] = {
	{ R, "R", 0x01 },
	{ R | W, "RW", 0x03 },
	{ X, "X", 0x04 },
	{ R | X, "RX", 0x05 },
	{ R | W | X, "RWX", 0x07 },
	{ R | U, "R|USER", 0x08 },
	{ R | W | U, "RW|USER", 0x18 },
	{ X | U, "X|USER", 0x20 },
	{ R | W | X | U, "RWX|USER", 0x38 },
};

START_TEST(test_translate_rights)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned r = 0; r < sizeof rights / sizeof rights[0]; r++) {
		pgt_vaddr_t va = va_for(&f, 0) + ((pgt_vaddr_t)r << 12);
		pgt_paddr_t pa = 0x0000000080000000ull + ((pgt_paddr_t)r << 12);

		CHECK_RC(pgt_map(&f.sp, va, pa, 4096, rights[r].prot, 0), PGT_OK);
		for (unsigned k = 0; k < 6; k++) {
			if (rights[r].allowed & (1u << k))
				translate_ok(&f, va + 0x18, accesses[k], pa + 0x18, rights[r].name);
			else
				translate_fault(&f, va + 0x18, accesses[k], PGT_FAULT_PERMISSION, 0,
						rights[r].name);
		}
	}
	fx_close(&f);
}
END_TEST

/* Step 8: a superpage passes the VPNs below its level through to the PA. */
START_TEST(test_translate_superpages)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++) {
		uint64_t off = 0x00a5a5a5a5a5a5a8ull & (size_of(s) - 1);

		(void)map_leaf(&f, s, R | W | X);
		translate_ok(&f, va_for(&f, s) + off, PGT_ACC_READ, sizes[s].pa + off, sizes[s].name);
		translate_ok(&f, va_for(&f, s) + size_of(s) - 1, PGT_ACC_EXEC, sizes[s].pa + size_of(s) - 1,
			     sizes[s].name);
	}
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* pgt_translate: encodings the MMU rejects (4.3.2 steps 3, 4 and 6)         */

struct bad_leaf {
	const char *what;
	pgt_pte_t set, clear; /* applied to a valid RW 2M leaf, V|R|W|A|D */
};

static const struct bad_leaf bad_leaves[] = {
	/* Step 6: PPN[0] (bits 18:10) not zero in a level-1 leaf. */
	{ "misaligned megapage, PPN[0] bit 0", 0x0000000000000400ull, 0 },
	{ "misaligned megapage, PPN[0] bit 8", 0x0000000000040000ull, 0 },
	/* Step 3: W without R (table 4.5 rows 010 and 110). */
	{ "W without R", 0, 0x0000000000000002ull },
	{ "W and X without R", 0x0000000000000008ull, 0x0000000000000002ull },
	/* Step 3 with table 6.1: PBMT 3 is reserved. */
	{ "PBMT 3", 0x6000000000000000ull, 0 },
	/* 4.4.1: bits 60:54 reserved; set, the walk faults. */
	{ "reserved bit 54", 0x0040000000000000ull, 0 },
	{ "reserved bit 60", 0x1000000000000000ull, 0 },
	/* Chapter 5, table 5.1: N at a level above 0 is reserved with or without Svnapot. */
	{ "N in a megapage", 0x8000000000000000ull, 0 },
};

START_TEST(test_translate_malformed_leaf)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_vaddr_t va = va_for(&f, 1);
	pgt_ref_t ref = map_leaf(&f, 1, R | W);
	pgt_pte_t good = *ref.pte;

	CHECK_PTE(good, sizes[1].ppn | 0xc7, "the RW megapage");
	for (unsigned k = 0; k < sizeof bad_leaves / sizeof bad_leaves[0]; k++) {
		const struct bad_leaf *b = &bad_leaves[k];
		*ref.pte = (good | b->set) & ~b->clear;
		translate_fault(&f, va + 0x1238, PGT_ACC_WRITE, PGT_FAULT_RESERVED_BIT, 1, b->what);
		translate_fault(&f, va, PGT_ACC_READ | PGT_ACC_SET_AD, PGT_FAULT_RESERVED_BIT, 1, b->what);
		verify_one(&f, va, 1, b->what);
		*ref.pte = good;
	}
	/* The good leaf again: the walk completes. */
	translate_ok(&f, va + 0x1238, PGT_ACC_WRITE, sizes[1].pa + 0x1238, "restored megapage");
	fx_close(&f);
}
END_TEST

/* Step 4: a pointer (V=1, R=W=X=0) at level 0 leaves i < 0: the walk faults. */
START_TEST(test_translate_pointer_at_level0)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_vaddr_t va = va_for(&f, 0);
	pgt_ref_t ref = map_leaf(&f, 0, R | W);
	pgt_pte_t good = *ref.pte;

	*ref.pte = sizes[0].ppn | 0x1;
	translate_fault(&f, va, PGT_ACC_READ, PGT_FAULT_RESERVED_BIT, 0, "V only at level 0");
	verify_one(&f, va, 0, "V only at level 0");
	/* With U, A, D (reserved in a non-leaf entry) it is no better. */
	*ref.pte = sizes[0].ppn | 0xd1;
	translate_fault(&f, va, PGT_ACC_READ | PGT_ACC_USER, PGT_FAULT_RESERVED_BIT, 0, "V|U|A|D at level 0");
	/* V clear: not valid, whatever else the entry holds (4.3.1). */
	*ref.pte = good & ~1ull;
	translate_fault(&f, va, PGT_ACC_READ, PGT_FAULT_NOT_PRESENT, 0, "V clear");
	*ref.pte = good;
	fx_close(&f);
}
END_TEST

/*
 * Non-leaf entries: PBMT (chapter 6), bits 60:54 (4.4.1) and N (chapter 5)
 * fault there too, and so do U, A and D (reserved in non-leaf PTEs, 4.3.1;
 * a reserved bit set faults, 4.3.2 step 3).
 */
START_TEST(test_translate_malformed_table)
{
	static const pgt_pte_t bad[] = { 0x2000000000000000ull, 0x4000000000000000ull, 0x0040000000000000ull,
					 0x1000000000000000ull, 0x8000000000000000ull, 0x10, 0x40, 0x80 };
	struct fx f;

	fx_open(&f, _i);
	unsigned top = f.d->levels - 1u;
	pgt_vaddr_t va = va_for(&f, 0);
	(void)map_leaf(&f, 0, R | W);
	pgt_pte_t *root = table_at(&f, pgt_space_root(&f.sp));
	pgt_pte_t *slot = &root[vpn(va, top)];
	pgt_pte_t good = *slot;
	pgt_vaddr_t entry_va = va & ~((1ull << root_shift(f.d)) - 1);

	CHECK_PTE(good & ~SPEC_PPN, SPEC_TABLE_BITS, "root entry");
	for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		*slot = good | bad[k];
		translate_fault(&f, va, PGT_ACC_READ, PGT_FAULT_RESERVED_BIT, top, "bad non-leaf entry");
		verify_one(&f, entry_va, top, "bad non-leaf entry");
		*slot = good;
	}
	/* G and RSW bit 9 are no fault in a non-leaf entry (4.3.1). */
	*slot = good | 0x220;
	translate_ok(&f, va, PGT_ACC_READ, sizes[0].pa, "non-leaf entry with G and RSW bit 9");
	*slot = good;
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* pgt_translate: A and D (4.3.1, the first scheme; 4.3.2 step 7)            */

START_TEST(test_translate_accessed_dirty)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++) {
		pgt_vaddr_t va = va_for(&f, s) + 0x40;
		pgt_paddr_t pa = sizes[s].pa + 0x40;
		unsigned lvl = sizes[s].level;
		pgt_pte_t ppn = sizes[s].ppn;
		pgt_ref_t ref = map_leaf(&f, s, R | W | X);

		/* A clear: every access faults; with the update, A is set and, for a store, D. */
		*ref.pte = ppn | 0x8f;
		translate_fault(&f, va, PGT_ACC_READ, PGT_FAULT_ACCESS_FLAG, lvl, "A clear, load");
		translate_fault(&f, va, PGT_ACC_EXEC, PGT_FAULT_ACCESS_FLAG, lvl, "A clear, fetch");
		CHECK_PTE(*ref.pte, ppn | 0x8f, "a faulting access changes nothing");
		translate_ok(&f, va, PGT_ACC_EXEC | PGT_ACC_SET_AD, pa, "A clear, fetch with update");
		CHECK_PTE(*ref.pte, ppn | 0xcf, "A set by the fetch");

		/* D clear, W set: loads complete, stores fault; the update sets D. */
		*ref.pte = ppn | 0x4f;
		translate_ok(&f, va, PGT_ACC_READ, pa, "D clear, load");
		translate_fault(&f, va, PGT_ACC_WRITE, PGT_FAULT_DIRTY, lvl, "D clear, store");
		CHECK_PTE(*ref.pte, ppn | 0x4f, "a faulting store changes nothing");
		translate_ok(&f, va, PGT_ACC_WRITE | PGT_ACC_SET_AD, pa, "D clear, store with update");
		CHECK_PTE(*ref.pte, ppn | 0xcf, "D set by the store");

		/* Both clear: a load sets A only, a store both. */
		*ref.pte = ppn | 0x0f;
		translate_ok(&f, va, PGT_ACC_READ | PGT_ACC_SET_AD, pa, "A and D clear, load with update");
		CHECK_PTE(*ref.pte, ppn | 0x4f, "only A set by the load");
		*ref.pte = ppn | 0x0f;
		translate_ok(&f, va, PGT_ACC_WRITE | PGT_ACC_SET_AD, pa, "A and D clear, store with update");
		CHECK_PTE(*ref.pte, ppn | 0xcf, "A and D set by the store");

		/* Step 5 comes before step 7: a store to a read-only clean page is a permission fault. */
		*ref.pte = ppn | 0x4b;
		translate_fault(&f, va, PGT_ACC_WRITE, PGT_FAULT_PERMISSION, lvl, "store to a clean RX page");
		translate_fault(&f, va, PGT_ACC_WRITE | PGT_ACC_SET_AD, PGT_FAULT_PERMISSION, lvl,
				"store to a clean RX page, with update");
		CHECK_PTE(*ref.pte, ppn | 0x4b, "no D on a store that faults");
		*ref.pte = ppn | 0xcf;
		/* Non-leaf entries have no A or D to set (4.3.1: reserved there). */
		for (unsigned l = f.d->levels - 1u; l > lvl; l--)
			CHECK_PTE(*entry_at(&f, va, l) & ~SPEC_PPN, SPEC_TABLE_BITS,
				  "non-leaf entry after updates");
	}
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *riscv_suite(void)
{
	Suite *s = suite_create("arch_riscv");
	TCase *geo = tcase_create("geometry");
	TCase *enc = tcase_create("encodings");
	TCase *can = tcase_create("canonical");
	TCase *tr = tcase_create("translate");
	const int n = (int)NDESCS * 2;

	tcase_add_loop_test(geo, test_geometry, 0, (int)NDESCS);
	/* Loop index: descriptor i / 2, allocator mode i % 2. */
	tcase_add_loop_test(geo, test_table_frames, 0, n);
	suite_add_tcase(s, geo);

	tcase_add_loop_test(enc, test_leaf_full_literals, 0, n);
	tcase_add_loop_test(enc, test_output_address_width, 0, n);
	tcase_add_loop_test(enc, test_enotsup, 0, n);
	tcase_add_loop_test(enc, test_reserved_leaf, 0, n);
	tcase_add_loop_test(enc, test_table_entries, 0, n);
	tcase_add_loop_test(enc, test_decode_literals, 0, n);
	tcase_add_loop_test(enc, test_accessed_dirty_fields, 0, n);
	tcase_add_loop_test(enc, test_memtype_fields, 0, n);
	suite_add_tcase(s, enc);

	tcase_add_loop_test(can, test_canonical, 0, n);
	suite_add_tcase(s, can);

	tcase_add_loop_test(tr, test_translate_rights, 0, n);
	tcase_add_loop_test(tr, test_translate_superpages, 0, n);
	tcase_add_loop_test(tr, test_translate_malformed_leaf, 0, n);
	tcase_add_loop_test(tr, test_translate_pointer_at_level0, 0, n);
	tcase_add_loop_test(tr, test_translate_malformed_table, 0, n);
	tcase_add_loop_test(tr, test_translate_accessed_dirty, 0, n);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	int failed = test_run_suite(riscv_suite());
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
