/* SPDX-License-Identifier: MIT */
/*
 * check_arch_x86_64: golden encodings of the x86-64 descriptors
 * (pgt_arch_x86_64, 4-level 48-bit, and pgt_arch_x86_64_la57, 5-level 57-bit).
 *
 * Entries are built through the public API only (pgt_insert, pgt_set_field)
 * and compared with literal values worked out by hand from the Intel SDM
 * vol. 3A chapter 4, section 4.5 "4-Level Paging and 5-Level Paging",
 * tables 4-14 (PML5E), 4-15 (PML4E), 4-16 (PDPTE mapping a 1-GByte page),
 * 4-17 (PDPTE referencing a page directory), 4-18 (PDE mapping a 2-MByte
 * page), 4-19 (PDE referencing a page table) and 4-20 (PTE mapping a 4-KByte
 * page); older issues number the same tables one lower (no PML5E table).
 * The PGT_X86_* macros are deliberately not used: the expected values must
 * not come from the code under test.
 *
 * Bit positions used below (same in every table unless said):
 *   bit 0 P, bit 1 R/W, bit 2 U/S, bit 3 PWT, bit 4 PCD, bit 5 A,
 *   bit 6 D (leaves only), bit 7 PS in a PDPTE/PDE (PAT in a PTE, must be 0
 *   in a PML4E/PML5E), bit 8 G (leaves only), bits 11:9 ignored (libpgtable
 *   marks reserved leaves with bit 9), address 51:12 (PTE and table
 *   references), 51:21 (2-MByte page, bit 12 PAT), 51:30 (1-GByte page,
 *   bit 12 PAT), bit 63 XD.
 *
 * Also checked: the table entries the library writes, refusals with
 * PGT_ENOTSUP, A/D preservation, decoding through pgt_get_field, descriptor
 * geometry and the canonical-address rule at the hole boundaries.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

#include "harness.h"

/* ------------------------------------------------------------------------ */
/* Literals from the SDM (see the file comment).                             */

/*
 * Table 4-15/4-17/4-19: a table reference with P=1, R/W=1, U/S=1, A=1 (bit 5,
 * set by the library so that the processor, which sets A only where it is
 * clear, never writes the entry: section 4.8), PS=0, XD=0.
 */
#define SDM_TABLE_REF_BITS 0x0000000000000027ull
/* Everything in an entry that is not address bits 51:12. */
#define SDM_NON_ADDR_MASK  0xfff0000000000fffull
/* Address bits 51:12 of a table reference (tables 4-14, 4-15, 4-17, 4-19). */
#define SDM_ADDR_51_12     0x000ffffffffff000ull
/*
 * Bits 61:52 of a table reference, within its ignored bits 62:52 (tables
 * 4-14, 4-15, 4-17, 4-19): where libpgtable counts the used entries of the
 * table the reference links.
 */
#define SDM_IGNORED_61_52  0x3ff0000000000000ull

/* Rights rows: the same attribute bits at every level, PS added above level 0. */
struct prot_row {
	unsigned prot;
	const char *name;
	pgt_pte_t pte; /* table 4-20 (PTE, 4K page) */
	pgt_pte_t big; /* tables 4-16 and 4-18 (1G and 2M pages): PS (bit 7) set */
};

enum {
	R = PGT_PROT_READ,
	W = PGT_PROT_WRITE,
	X = PGT_PROT_EXEC,
	U = PGT_PROT_USER,
	G = PGT_PROT_GLOBAL,
	UC = PGT_PROT_UNCACHED
};

static const struct prot_row rows[] = {
	/* P | XD: readable, not writable, not executable (XD bit 63). */
	{ R, "R", 0x8000000000000001ull, 0x8000000000000081ull },
	/* P | R/W | XD. */
	{ R | W, "RW", 0x8000000000000003ull, 0x8000000000000083ull },
	/* P only: XD clear, so instruction fetches are allowed. */
	{ R | X, "RX", 0x0000000000000001ull, 0x0000000000000081ull },
	/* P | R/W. */
	{ R | W | X, "RWX", 0x0000000000000003ull, 0x0000000000000083ull },
	/* P | U/S | XD. */
	{ R | U, "R|USER", 0x8000000000000005ull, 0x8000000000000085ull },
	/* P | R/W | U/S | XD. */
	{ R | W | U, "RW|USER", 0x8000000000000007ull, 0x8000000000000087ull },
	/* P | U/S. */
	{ R | X | U, "RX|USER", 0x0000000000000005ull, 0x0000000000000085ull },
	/* P | G (bit 8) | XD. */
	{ R | G, "R|GLOBAL", 0x8000000000000101ull, 0x8000000000000181ull },
	/* P | PWT (bit 3) | PCD (bit 4) | XD: UC with the default PAT. */
	{ R | UC, "R|UNCACHED", 0x8000000000000019ull, 0x8000000000000099ull },
	/* P | R/W | U/S | PWT | PCD | G. */
	{ R | W | X | U | G | UC, "RWX|USER|GLOBAL|UNCACHED", 0x000000000000011full, 0x000000000000019full },
};
#define NROWS (sizeof rows / sizeof rows[0])

/* One page size: where to put it and which address to give it. */
struct size_case {
	const char *name;
	unsigned shift, level;
	pgt_vaddr_t va;
	pgt_paddr_t pa;     /* a high, aligned address inside 52 bits */
	pgt_pte_t oa_mask;  /* the SDM's address field for this page size */
	pgt_pte_t reserved; /* what pgt_insert leaves there */
	pgt_pte_t rw_full;  /* pa with rights R|W, spelled out */
};

static const struct size_case sizes[] = {
	/* Table 4-20: address 51:12; bit 7 is PAT, left 0. Reserved leaf: bit 9 | XD. */
	{ "4K", 12, 0, 0x0000123456789000ull, 0x000fedcba9876000ull, 0x000ffffffffff000ull,
	  0x8000000000000200ull, 0x800fedcba9876003ull },
	/* Table 4-18: address 51:21, PS. Reserved leaf: bit 9 | PS | XD. */
	{ "2M", 21, 1, 0x0000234567a00000ull, 0x000fedcba9800000ull, 0x000fffffffe00000ull,
	  0x8000000000000280ull, 0x800fedcba9800083ull },
	/* Table 4-16: address 51:30, PS. */
	{ "1G", 30, 2, 0x0000345680000000ull, 0x000fedcbc0000000ull, 0x000fffffc0000000ull,
	  0x8000000000000280ull, 0x800fedcbc0000083ull },
};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* ------------------------------------------------------------------------ */
/* Fixture: one space over the harness allocator.                            */

struct fx {
	struct test_mm t;
	pgt_space_t sp;
	const struct pgt_arch *a;
};

/* Loop index -> (descriptor, allocator mode): both descriptors, both modes. */
static const struct pgt_arch *arch_of(int i)
{
	return (i / 2) ? &pgt_arch_x86_64_la57 : &pgt_arch_x86_64;
}

static enum test_mm_mode mode_of(int i)
{
	return (i % 2) ? TEST_MM_HOOK : TEST_MM_OFFSET;
}

static void fx_open(struct fx *f, const struct pgt_arch *a, enum test_mm_mode mode)
{
	test_mm_init(&f->t, mode);
	f->a = a;
	CHECK_RC(pgt_space_init(&f->sp, a, &f->t.mm, 0), PGT_OK);
}

/* Checks the tree, destroys the space and checks that the books balance. */
static void fx_close(struct fx *f)
{
	struct tree_stats st = tree_check(&f->sp, f->a, &f->t);

	ck_assert_msg(st.problems == 0, "tree_check found %zu problems", st.problems);
	pgt_space_destroy(&f->sp);
	ck_assert_msg(test_mm_outstanding(&f->t) == 0, "%zu tables leaked", test_mm_outstanding(&f->t));
	ck_assert_msg(f->t.errors == 0, "%ld bad frees", f->t.errors);
	ck_assert_msg(f->t.allocs == f->t.frees, "allocs %ld != frees %ld", f->t.allocs, f->t.frees);
	test_mm_fini(&f->t);
}

/* Inserts a page and returns its ref; the insert must be fresh. */
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

/* 9-bit index of @p va at the level whose lowest bit is @p shift. */
static unsigned idx(pgt_vaddr_t va, unsigned shift)
{
	return (unsigned)(va >> shift) & 511u;
}

/* ------------------------------------------------------------------------ */
/* Geometry                                                                  */

/* Section 4.5: 512 8-byte entries per table; levels index 9 VA bits each. */
static void check_geometry(const struct pgt_arch *a, const char *name, unsigned levels, unsigned va_bits)
{
	static const unsigned shifts[] = { 12, 21, 30, 39, 48 };
	static const unsigned leaf_ok[] = { 1, 1, 1, 0, 0 };

	ck_assert_str_eq(a->name, name);
	ck_assert_ptr_eq(pgt_arch_by_name(name), a);
	ck_assert_uint_eq(a->levels, levels);
	ck_assert_uint_eq(a->va_bits, va_bits);
	ck_assert_uint_eq(a->pa_bits, 52); /* MAXPHYADDR is at most 52 (section 4.1.4) */
	ck_assert_uint_eq(a->canon, PGT_CANON_SIGN_EXTEND);
	ck_assert_ptr_nonnull(a->prot_encode);
	ck_assert_ptr_nonnull(a->prot_decode);
	for (unsigned l = 0; l < levels; l++) {
		const struct pgt_level *L = &a->level[l];
		ck_assert_msg(L->shift == shifts[l], "%s level %u shift %u", name, l, L->shift);
		ck_assert_msg(L->bits == 9, "%s level %u bits %u", name, l, L->bits);
		ck_assert_msg(L->table_size == 4096, "%s level %u table_size %u", name, l, L->table_size);
		ck_assert_msg(L->leaf_ok == leaf_ok[l], "%s level %u leaf_ok %u", name, l, L->leaf_ok);
		CHECK_PTE(L->valid, 0x1, "valid bit is P");
	}
	ck_assert_uint_eq(a->level[levels - 1].shift + a->level[levels - 1].bits, va_bits);
}

START_TEST(test_geometry_x86_64)
{
	check_geometry(&pgt_arch_x86_64, "x86_64", 4, 48);
}
END_TEST

START_TEST(test_geometry_la57)
{
	check_geometry(&pgt_arch_x86_64_la57, "x86_64-la57", 5, 57);
}
END_TEST

/* The descriptor's masks agree with the SDM (hand-written literals). */
START_TEST(test_descriptor_masks)
{
	const struct pgt_arch *a = arch_of(_i);

	/* Leaf address fields: 51:12 (table 4-20), 51:21 (4-18), 51:30 (4-16). */
	CHECK_PTE(a->level[0].leaf_oa, 0x000ffffffffff000ull, "PTE address field");
	CHECK_PTE(a->level[1].leaf_oa, 0x000fffffffe00000ull, "2M PDE address field");
	CHECK_PTE(a->level[2].leaf_oa, 0x000fffffc0000000ull, "1G PDPTE address field");
	for (unsigned l = 1; l < a->levels; l++) {
		CHECK_PTE(a->level[l].table_oa, SDM_ADDR_51_12, "table reference address field");
		CHECK_PTE(a->level[l].table_count, SDM_IGNORED_61_52, "count: ignored bits 61:52");
		/* A table reference has P=1 and PS=0 (bit 7 reserved in PML4E/PML5E). */
		CHECK_PTE(a->level[l].type_mask & 0x81, a->level[l].type_mask, "type bits are P and PS");
		CHECK_PTE(a->level[l].table_type, 0x1, "table type: P, PS clear");
	}
	CHECK_PTE(a->level[0].table_count, 0, "a PTE links no table: no count");
	CHECK_PTE(a->level[1].leaf_type, 0x81, "2M leaf type: P|PS");
	CHECK_PTE(a->level[2].leaf_type, 0x81, "1G leaf type: P|PS");
	CHECK_PTE(a->level[0].leaf_type, 0x01, "4K leaf type: P (bit 7 is PAT)");
	for (unsigned l = 0; l < 3; l++) {
		CHECK_PTE(a->level[l].accessed, 0x20, "A is bit 5");
		CHECK_PTE(a->level[l].dirty, 0x40, "D is bit 6");
		CHECK_PTE(a->level[l].reserved, 0x200, "reserved mark is ignored bit 9");
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Leaf encodings                                                            */

/* pgt_insert leaves a not-present entry (P=0) marked with bit 9. */
START_TEST(test_reserved_leaf_from_insert)
{
	struct fx f;

	fx_open(&f, arch_of(_i), mode_of(_i));
	for (unsigned s = 0; s < NSIZES; s++) {
		pgt_ref_t ref = insert_ok(&f, sizes[s].va, sizes[s].shift), found;
		ck_assert_uint_eq(ref.level, sizes[s].level);
		CHECK_PTE(*ref.pte, sizes[s].reserved, sizes[s].name);
		ck_assert_msg((*ref.pte & 1) == 0, "%s: reserved leaf must not be present", sizes[s].name);
		CHECK_RC(pgt_lookup(&f.sp, sizes[s].va + 8, &found), PGT_OK);
		ck_assert_ptr_eq(found.pte, ref.pte);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), 0);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_READ), 0);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PADDR), 0);
	}
	struct tree_stats st = tree_check(&f.sp, f.a, &f.t);
	ck_assert_uint_eq(st.reserved, NSIZES);
	ck_assert_uint_eq(st.leaves, 0);
	fx_close(&f);
}
END_TEST

/* Every rights row at every page size, with the output address set. */
START_TEST(test_leaf_prot_golden)
{
	struct fx f;

	fx_open(&f, arch_of(_i), mode_of(_i));
	for (unsigned s = 0; s < NSIZES; s++) {
		const struct size_case *sc = &sizes[s];
		pgt_ref_t ref = insert_ok(&f, sc->va, sc->shift);

		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sc->pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
		CHECK_PTE(*ref.pte, sc->rw_full, sc->name);
		for (unsigned r = 0; r < NROWS; r++) {
			pgt_pte_t bits = sc->level ? rows[r].big : rows[r].pte;
			CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, rows[r].prot), PGT_OK);
			ck_assert_msg(*ref.pte == (sc->pa | bits), "%s %s: entry %#018llx, expected %#018llx",
				      sc->name, rows[r].name, (unsigned long long)*ref.pte,
				      (unsigned long long)(sc->pa | bits));
			ck_assert_msg(get(&f, ref, PGT_FIELD_PROT) == rows[r].prot,
				      "%s %s: decoded prot %#llx", sc->name, rows[r].name,
				      (unsigned long long)get(&f, ref, PGT_FIELD_PROT));
			ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PADDR), sc->pa);
		}
		/* Back to no rights: not present again, attributes kept, bit 9 marks it. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, U | G | UC), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | (sc->level ? 0x800000000000039cull : 0x800000000000031cull),
			  "reserved leaf keeping U/S, G, PCD, PWT");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), U | G | UC);
	}
	struct tree_stats st = tree_check(&f.sp, f.a, &f.t);
	ck_assert_uint_eq(st.reserved, NSIZES);
	fx_close(&f);
}
END_TEST

/* Two hand-computed entries spelled out whole (no OR-ing in the test). */
START_TEST(test_leaf_full_literals)
{
	struct fx f;

	fx_open(&f, arch_of(_i), mode_of(_i));
	pgt_ref_t p4k = insert_ok(&f, 0x0000000000401000ull, 12);
	CHECK_RC(pgt_set_field(&f.sp, p4k, PGT_FIELD_PADDR, 0x00000000deadb000ull), PGT_OK);
	CHECK_RC(pgt_set_field(&f.sp, p4k, PGT_FIELD_PROT, R | W | U), PGT_OK);
	/* Table 4-20: XD | addr 0xdeadb000 | U/S | R/W | P. */
	CHECK_PTE(*p4k.pte, 0x80000000deadb007ull, "user data page");

	pgt_ref_t p2m = insert_ok(&f, 0xffff800000200000ull, 21);
	CHECK_RC(pgt_set_field(&f.sp, p2m, PGT_FIELD_PADDR, 0x0000000000200000ull), PGT_OK);
	CHECK_RC(pgt_set_field(&f.sp, p2m, PGT_FIELD_PROT, R | X | G), PGT_OK);
	/* Table 4-18: addr 0x200000 | G | PS | P; XD clear. */
	CHECK_PTE(*p2m.pte, 0x0000000000200181ull, "global kernel text 2M page");

	pgt_ref_t p1g = insert_ok(&f, 0xffffc00000000000ull, 30);
	CHECK_RC(pgt_set_field(&f.sp, p1g, PGT_FIELD_PADDR, 0x00000000c0000000ull), PGT_OK);
	CHECK_RC(pgt_set_field(&f.sp, p1g, PGT_FIELD_PROT, R | W | G | UC), PGT_OK);
	/* Table 4-16: XD | addr 0xc0000000 | G | PS | PCD | PWT | R/W | P. */
	CHECK_PTE(*p1g.pte, 0x80000000c000019bull, "global uncached MMIO 1G page");
	fx_close(&f);
}
END_TEST

/* The entries of a 512-entry table that are not 0. */
static unsigned used_entries(const pgt_pte_t *table)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 512; i++)
		n += table[i] != 0;
	return n;
}

/* Checks that the table reference @p e at level @p l counts the used entries of its table in bits 61:52. */
static void check_count(const struct fx *f, pgt_pte_t e, unsigned l)
{
	unsigned count = (unsigned)((e & SDM_IGNORED_61_52) >> 52);
	unsigned used = used_entries(table_at(f, e & SDM_ADDR_51_12));

	ck_assert_msg(count == used, "level %u table reference %#018llx: count %u, table holds %u", l,
		      (unsigned long long)e, count, used);
}

/* Walks from the root to the table at @p stop for @p va, checking every
 * table reference on the way; returns that table. */
static pgt_pte_t *check_table_refs(struct fx *f, pgt_vaddr_t va, unsigned stop)
{
	pgt_pte_t *table = table_at(f, pgt_space_root(&f->sp));

	for (unsigned l = f->a->levels - 1u; l > stop; l--) {
		unsigned shift = 12 + 9 * l;
		pgt_pte_t e = table[idx(va, shift)];
		pgt_paddr_t next = e & SDM_ADDR_51_12;

		/* Tables 4-14/4-15/4-17/4-19: P|R/W|U/S|A, PS=0 (PML4E/PML5E: bit 7 reserved), XD=0. */
		ck_assert_msg((e & SDM_NON_ADDR_MASK & ~SDM_IGNORED_61_52) == SDM_TABLE_REF_BITS,
			      "level %u table reference %#018llx: flags should be exactly P|R/W|U/S|A", l,
			      (unsigned long long)e);
		check_count(f, e, l);
		ck_assert_msg(test_mm_owns(&f->t, next, l - 1),
			      "level %u entry points at %#llx, not a level-%u table", l,
			      (unsigned long long)next, l - 1);
		for (unsigned i = 0; i < 512; i++)
			ck_assert_msg(i == idx(va, shift) || table[i] == 0,
				      "level %u slot %u not cleared: %#llx", l, i,
				      (unsigned long long)table[i]);
		table = table_at(f, next);
	}
	return table;
}

/* The table entries pgt_insert writes, at every level of both descriptors. */
START_TEST(test_table_entries)
{
	const struct pgt_arch *a = arch_of(_i);
	/* Distinct indices at every level: PT 0x13c, PD 0x0f0, PDPT 0x1c3, PML4 0x0a5 (PML5 0x07b). */
	pgt_vaddr_t va = (0x0a5ull << 39) | (0x1c3ull << 30) | (0x0f0ull << 21) | (0x13cull << 12);

	if (a->levels == 5)
		va |= 0x07bull << 48;
	for (unsigned s = 0; s < NSIZES; s++) {
		struct fx f;
		pgt_vaddr_t v = va & ~((1ull << sizes[s].shift) - 1);

		fx_open(&f, a, mode_of(_i));
		pgt_ref_t ref = insert_ok(&f, v, sizes[s].shift);
		pgt_pte_t *table = check_table_refs(&f, v, sizes[s].level);
		ck_assert_ptr_eq(ref.pte, &table[idx(v, sizes[s].shift)]);
		struct tree_stats st = tree_check(&f.sp, f.a, &f.t);
		ck_assert_uint_eq(st.tables, a->levels - sizes[s].level);
		ck_assert_uint_eq(test_mm_outstanding(&f.t), a->levels - sizes[s].level);
		fx_close(&f);
	}
}
END_TEST

/* Write-only and execute-only do not exist on x86-64 (every present page is
 * readable, section 4.6): PGT_ENOTSUP, entry unchanged. */
START_TEST(test_enotsup_unchanged)
{
	static const unsigned bad[] = { W, X, W | X, W | U, X | G, W | X | U | G | UC };
	struct fx f;

	fx_open(&f, arch_of(_i), mode_of(_i));
	for (unsigned s = 0; s < NSIZES; s++) {
		pgt_ref_t ref = insert_ok(&f, sizes[s].va, sizes[s].shift);
		for (unsigned b = 0; b < sizeof bad / sizeof bad[0]; b++) {
			CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, bad[b]), PGT_ENOTSUP);
			CHECK_PTE(*ref.pte, sizes[s].reserved, "reserved leaf after refused prot");
		}
		/* Single fields on a reserved leaf: write or execute alone. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_WRITE, 1), PGT_ENOTSUP);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_EXEC, 1), PGT_ENOTSUP);
		CHECK_PTE(*ref.pte, sizes[s].reserved, "reserved leaf after refused field");

		/* On valid leaves: dropping read while write or exec stays. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sizes[s].pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 0), PGT_ENOTSUP);
		CHECK_PTE(*ref.pte, sizes[s].rw_full, "RW leaf after refused READ=0");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, W), PGT_ENOTSUP);
		CHECK_PTE(*ref.pte, sizes[s].rw_full, "RW leaf after refused write-only");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | X), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 0), PGT_ENOTSUP);
		CHECK_PTE(*ref.pte, sizes[s].pa | (sizes[s].level ? 0x81 : 0x01),
			  "RX leaf after refused exec-only");
	}
	fx_close(&f);
}
END_TEST

/* Bad values are PGT_EINVAL and change nothing. */
START_TEST(test_bad_values_unchanged)
{
	struct fx f;

	fx_open(&f, arch_of(_i), mode_of(_i));
	for (unsigned s = 0; s < NSIZES; s++) {
		const struct size_case *sc = &sizes[s];
		pgt_ref_t ref = insert_ok(&f, sc->va, sc->shift);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sc->pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);

		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, 256), PGT_EFLAGS);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | 512), PGT_EFLAGS);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_USER, 2), PGT_EINVAL);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 2), PGT_EINVAL);
		/* Beyond 52 physical bits (bit 52 is reserved/ignored, tables 4-16..4-20). */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, 0x0010000000000000ull), PGT_ERANGE);
		/* Not aligned to the page: one granule below the page size, and bit 12 (PAT in big pages). */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sc->pa | 0x800), PGT_EALIGN);
		if (sc->level > 0)
			CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sc->pa | 0x1000), PGT_EALIGN);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_COUNT, 0), PGT_EFLAGS);
		CHECK_PTE(*ref.pte, sc->rw_full, "entry after refused values");

		/* The whole field is writable: every address bit 51:shift. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sc->oa_mask), PGT_OK);
		CHECK_PTE(*ref.pte, sc->oa_mask | (sc->level ? 0x8000000000000083ull : 0x8000000000000003ull),
			  "RW leaf at the highest physical address");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sc->level ? 0x8000000000000083ull : 0x8000000000000003ull,
			  "RW leaf at 0");
	}
	fx_close(&f);
}
END_TEST

/* A (bit 5) and D (bit 6) are status bits: kept across rights changes. */
START_TEST(test_accessed_dirty_preserved)
{
	struct fx f;

	fx_open(&f, arch_of(_i), mode_of(_i));
	for (unsigned s = 0; s < NSIZES; s++) {
		const struct size_case *sc = &sizes[s];
		pgt_pte_t ps = sc->level ? 0x80 : 0;
		pgt_ref_t ref = insert_ok(&f, sc->va, sc->shift);

		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sc->pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 0);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 0);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_ACCESSED, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x8000000000000023ull, "RW + A");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x8000000000000063ull, "RW + A + D");

		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | X | U), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x0000000000000065ull, "RX|USER keeps A, D");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_WRITE, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x0000000000000067ull, "WRITE=1 keeps A, D");
		/* No rights: not present, bit 9, XD; A and D still there. */
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x8000000000000260ull, "reserved keeps A, D");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_ACCESSED), 1);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_DIRTY), 1);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x8000000000000063ull, "RW again keeps A, D");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_ACCESSED, 0), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_DIRTY, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x8000000000000003ull, "A, D cleared");
	}
	fx_close(&f);
}
END_TEST

/* Building an entry one field at a time gives the same bits. */
START_TEST(test_single_fields)
{
	struct fx f;

	fx_open(&f, arch_of(_i), mode_of(_i));
	for (unsigned s = 0; s < NSIZES; s++) {
		const struct size_case *sc = &sizes[s];
		pgt_pte_t ps = sc->level ? 0x80 : 0;
		pgt_ref_t ref = insert_ok(&f, sc->va, sc->shift);

		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sc->pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x8000000000000001ull, "READ=1: P|XD");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_WRITE, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x8000000000000003ull, "WRITE=1: R/W");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_EXEC, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x0000000000000003ull, "EXEC=1: XD clear");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_USER, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x0000000000000007ull, "USER=1: U/S");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_GLOBAL, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x0000000000000107ull, "GLOBAL=1: G");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_CACHED, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x000000000000011full, "CACHED=0: PCD|PWT");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_CACHED, 1), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_USER, 0), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_EXEC, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x8000000000000103ull, "back to RW|GLOBAL");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_WRITE, 0), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 0), PGT_OK);
		CHECK_PTE(*ref.pte, sc->pa | ps | 0x8000000000000300ull, "no rights: reserved, G kept");
	}
	fx_close(&f);
}
END_TEST

/* Decoding hand-written entries (written straight into the leaf slot). */
struct decode_case {
	const char *what;
	unsigned size; /* index into sizes[] */
	pgt_pte_t pte;
	unsigned prot;
	uint64_t paddr, accessed, dirty;
};

static const struct decode_case decodes[] = {
	/* Table 4-20: P|R/W|U/S|A|D, XD clear. */
	{ "user RWX 4K, A, D", 0, 0x000fedcba9876067ull, R | W | X | U, 0x000fedcba9876000ull, 1, 1 },
	/* Table 4-20: P|U/S|PWT|PCD|G, XD. */
	{ "user RO global UC 4K", 0, 0x800fedcba987611dull, R | U | G | UC, 0x000fedcba9876000ull, 0, 0 },
	/* Table 4-18: P|R/W|A|D|PS, XD clear. */
	{ "kernel RWX 2M, A, D", 1, 0x000fedcba98000e3ull, R | W | X, 0x000fedcba9800000ull, 1, 1 },
	/* Table 4-16: P|A|PS|G, XD. */
	{ "kernel RO global 1G, A", 2, 0x800fedcbc00001a1ull, R | G, 0x000fedcbc0000000ull, 1, 0 },
};

START_TEST(test_decode_literals)
{
	struct fx f;

	fx_open(&f, arch_of(_i), mode_of(_i));
	for (unsigned s = 0; s < NSIZES; s++)
		(void)insert_ok(&f, sizes[s].va, sizes[s].shift);
	for (unsigned d = 0; d < sizeof decodes / sizeof decodes[0]; d++) {
		const struct decode_case *dc = &decodes[d];
		pgt_ref_t ref;
		CHECK_RC(pgt_lookup(&f.sp, sizes[dc->size].va, &ref), PGT_OK);
		pgt_pte_t saved = *ref.pte;
		*ref.pte = dc->pte;
		ck_assert_msg(get(&f, ref, PGT_FIELD_PROT) == dc->prot, "%s: prot %#llx, expected %#x",
			      dc->what, (unsigned long long)get(&f, ref, PGT_FIELD_PROT), dc->prot);
		ck_assert_msg(get(&f, ref, PGT_FIELD_PADDR) == dc->paddr, "%s: paddr", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_READ) == 1, "%s: read", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_WRITE) == !!(dc->prot & W), "%s: write", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_EXEC) == !!(dc->prot & X), "%s: exec", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_USER) == !!(dc->prot & U), "%s: user", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_GLOBAL) == !!(dc->prot & G), "%s: global", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_CACHED) == !(dc->prot & UC), "%s: cached", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_ACCESSED) == dc->accessed, "%s: accessed", dc->what);
		ck_assert_msg(get(&f, ref, PGT_FIELD_DIRTY) == dc->dirty, "%s: dirty", dc->what);
		*ref.pte = saved;
	}
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Canonical addresses (section 3.3.7.1; 4.5: bits 63:48, or 63:57 with LA57,
 * must equal bit 47, or bit 56).                                            */

struct canon_case {
	pgt_vaddr_t va;
	int ok;
	unsigned root_index; /* when ok */
};

static void check_canon(const struct pgt_arch *a, enum test_mm_mode mode, const struct canon_case *cc,
			size_t n)
{
	struct fx f;
	unsigned char used[512] = { 0 };

	fx_open(&f, a, mode);
	unsigned top = a->levels == 5 ? 48 : 39;
	pgt_pte_t *root = table_at(&f, pgt_space_root(&f.sp));
	for (size_t i = 0; i < n; i++) {
		pgt_vaddr_t va = cc[i].va;
		if (!cc[i].ok) {
			ck_assert_msg(pgt_insert(&f.sp, va, 12, NULL) == PGT_ERANGE, "%#llx must be refused",
				      (unsigned long long)va);
			ck_assert_msg(pgt_lookup(&f.sp, va, NULL) == PGT_ERANGE,
				      "lookup %#llx must be refused", (unsigned long long)va);
			continue;
		}
		ck_assert_msg(pgt_lookup(&f.sp, va, NULL) == PGT_ENOENT, "%#llx: lookup before insert",
			      (unsigned long long)va);
		ck_assert_msg(pgt_insert(&f.sp, va, 12, NULL) == PGT_OK, "%#llx must be accepted",
			      (unsigned long long)va);
		ck_assert_msg(pgt_lookup(&f.sp, va | 0xfff, NULL) == PGT_OK, "%#llx: lookup after insert",
			      (unsigned long long)va);
		ck_assert_msg(idx(va, top) == cc[i].root_index, "test case index");
		ck_assert_msg((root[cc[i].root_index] & SDM_NON_ADDR_MASK & ~SDM_IGNORED_61_52) == SDM_TABLE_REF_BITS,
			      "%#llx: root slot %u holds %#llx", (unsigned long long)va, cc[i].root_index,
			      (unsigned long long)root[cc[i].root_index]);
		check_count(&f, root[cc[i].root_index], top == 48 ? 4 : 3);
		used[cc[i].root_index] = 1;
	}
	for (unsigned i = 0; i < 512; i++)
		ck_assert_msg((root[i] != 0) == used[i], "root slot %u: %#llx", i,
			      (unsigned long long)root[i]);
	fx_close(&f);
}

START_TEST(test_canonical_x86_64)
{
	static const struct canon_case cc[] = {
		{ 0x0000000000000000ull, 1, 0 },
		{ 0x00007ffffffff000ull, 1, 255 }, /* last page below the hole */
		{ 0x0000800000000000ull, 0, 0 },   /* first address in the hole */
		{ 0x0001000000000000ull, 0, 0 },
		{ 0x7ffffffffffff000ull, 0, 0 },
		{ 0x8000000000000000ull, 0, 0 },
		{ 0xffff7ffffffff000ull, 0, 0 },   /* last page in the hole */
		{ 0xffff800000000000ull, 1, 256 }, /* first page above the hole */
		{ 0xfffffffffffff000ull, 1, 511 },
		{ 0x00ff800000000000ull, 0, 0 }, /* canonical for LA57 only */
	};
	check_canon(&pgt_arch_x86_64, mode_of(_i), cc, sizeof cc / sizeof cc[0]);
}
END_TEST

START_TEST(test_canonical_la57)
{
	static const struct canon_case cc[] = {
		{ 0x0000000000000000ull, 1, 0 },
		{ 0x0000800000000000ull, 1, 0 },   /* in the 4-level hole, fine with LA57 */
		{ 0x00fffffffffff000ull, 1, 255 }, /* last page below the hole */
		{ 0x0100000000000000ull, 0, 0 },   /* first address in the hole */
		{ 0x8000000000000000ull, 0, 0 },
		{ 0xfeff800000000000ull, 0, 0 },
		{ 0xfefffffffffff000ull, 0, 0 },   /* last page in the hole */
		{ 0xff00000000000000ull, 1, 256 }, /* first page above the hole */
		{ 0xfffffffffffff000ull, 1, 511 },
	};
	check_canon(&pgt_arch_x86_64_la57, mode_of(_i), cc, sizeof cc / sizeof cc[0]);
}
END_TEST

/* Page sizes the descriptor lacks, misaligned addresses and the TTBR1 flag. */
START_TEST(test_bad_inserts)
{
	struct fx f;
	const struct pgt_arch *a = arch_of(_i);

	fx_open(&f, a, mode_of(_i));
	CHECK_RC(pgt_insert(&f.sp, 0, 39, NULL), PGT_ESIZE); /* PML4E maps no page (bit 7 reserved) */
	CHECK_RC(pgt_insert(&f.sp, 0, 48, NULL), PGT_ESIZE);
	CHECK_RC(pgt_insert(&f.sp, 0, 13, NULL), PGT_ESIZE);
	CHECK_RC(pgt_insert(&f.sp, 0, 0, NULL), PGT_ESIZE);
	CHECK_RC(pgt_insert(&f.sp, 0x1000, 21, NULL), PGT_EALIGN);
	CHECK_RC(pgt_insert(&f.sp, 0x200000, 30, NULL), PGT_EALIGN);
	CHECK_RC(pgt_insert(&f.sp, 0x800, 12, NULL), PGT_EALIGN);
	ck_assert_uint_eq(test_mm_outstanding(&f.t), 1);
	fx_close(&f);

	pgt_space_t sp;
	struct test_mm t;
	test_mm_init(&t, mode_of(_i));
	CHECK_RC(pgt_space_init(&sp, a, &t.mm, PGT_SPACE_UPPER), PGT_EFLAGS);
	ck_assert_uint_eq(t.attempts, 0);
	ck_assert_uint_eq(test_mm_outstanding(&t), 0);
	test_mm_fini(&t);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *x86_suite(void)
{
	Suite *s = suite_create("arch_x86_64");
	TCase *geo = tcase_create("geometry");
	TCase *enc = tcase_create("encodings");
	TCase *can = tcase_create("canonical");

	tcase_add_test(geo, test_geometry_x86_64);
	tcase_add_test(geo, test_geometry_la57);
	tcase_add_loop_test(geo, test_descriptor_masks, 0, 4);
	suite_add_tcase(s, geo);

	/* Loop index: bit 1 picks the descriptor, bit 0 the allocator mode. */
	tcase_add_loop_test(enc, test_reserved_leaf_from_insert, 0, 4);
	tcase_add_loop_test(enc, test_leaf_prot_golden, 0, 4);
	tcase_add_loop_test(enc, test_leaf_full_literals, 0, 4);
	tcase_add_loop_test(enc, test_table_entries, 0, 4);
	tcase_add_loop_test(enc, test_enotsup_unchanged, 0, 4);
	tcase_add_loop_test(enc, test_bad_values_unchanged, 0, 4);
	tcase_add_loop_test(enc, test_accessed_dirty_preserved, 0, 4);
	tcase_add_loop_test(enc, test_single_fields, 0, 4);
	tcase_add_loop_test(enc, test_decode_literals, 0, 4);
	suite_add_tcase(s, enc);

	tcase_add_loop_test(can, test_canonical_x86_64, 0, 2);
	tcase_add_loop_test(can, test_canonical_la57, 0, 2);
	tcase_add_loop_test(can, test_bad_inserts, 0, 4);
	suite_add_tcase(s, can);
	return s;
}

int main(void)
{
	int failed = test_run_suite(x86_suite());
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
