/* SPDX-License-Identifier: MIT */
/*
 * check_arch_riscv_g: golden encodings of the RISC-V G-stage descriptors
 * pgt_arch_riscv_sv39x4, pgt_arch_riscv_sv48x4 and pgt_arch_riscv_sv57x4
 * (hypervisor extension: guest-physical to supervisor-physical).
 *
 * Entries are built through the public API and compared with literal
 * values worked out by hand from The RISC-V Instruction Set Manual, Volume
 * II: Privileged Architecture, 20211203:
 *   8.2.10  hgatp: MODE 8 Sv39x4, 9 Sv48x4, 10 Sv57x4 (the table "Encoding
 *           of hgatp MODE field"); the root table is 16 KiB, 16 KiB aligned
 *   8.5.1   Guest Physical Address Translation: the address widened by two
 *           bits (41, 50, 59), which only the root indexes (figures
 *           "Sv39x4/Sv48x4/Sv57x4 virtual address": VPN[2] is 11 bits for
 *           Sv39x4); bits 63:41 (63:50, 63:59) must be zero, else a
 *           guest-page fault; the Sv39/48/57 algorithm and PTE formats
 *           unchanged, except that the U bit is checked as for U-mode:
 *           every G-stage access is a user-level access; R/W/X are checked
 *           as in stage 1; the G bit is reserved (software should clear
 *           it, hardware ignores it)
 *   4.3.1, 4.3.2, 4.4.1  the PTE (figure 4.21) and the walk, as in
 *           check_arch_riscv.c: bit 0 V, 1 R, 2 W, 3 X, 4 U, 5 G, 6 A, 7 D,
 *           9:8 RSW, 53:10 PPN = PA[55:12], 60:54 reserved, 62:61 PBMT, 63 N
 *   ch. 6   Svpbmt: PBMT 1 NC, 2 IO, 3 reserved (table 6.1)
 * The PGT_RISCV_* macros are deliberately not used for expected values.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>
#include <pgtable/riscv.h>

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
/* U, bit 4: set in every valid G-stage leaf (8.5.1). */
#define SPEC_U          0x0000000000000010ull
/* G, bit 5: never set by the library (8.5.1: reserved in G-stage PTEs). */
#define SPEC_G          0x0000000000000020ull

/* The descriptors, spelled out by hand. */
struct g_desc {
	const struct pgt_arch *a;
	const char *name;
	unsigned levels, gpa_bits;
	unsigned hgatp_mode; /* 8.2.10 */
};

static const struct g_desc descs[] = {
	{ &pgt_arch_riscv_sv39x4, "riscv-sv39x4", 3, 41, 8 },
	{ &pgt_arch_riscv_sv48x4, "riscv-sv48x4", 4, 50, 9 },
	{ &pgt_arch_riscv_sv57x4, "riscv-sv57x4", 5, 59, 10 },
};
#define NDESCS (sizeof descs / sizeof descs[0])

/* One leaf size: a leaf at `level` maps 2^shift bytes (4.4.1, 4.5.1, 4.6.1). */
struct g_size {
	const char *name;
	unsigned shift, level;
	pgt_paddr_t pa;    /* aligned, with PA bit 55 set where the size allows */
	pgt_pte_t ppn;     /* pa >> 12 placed at bit 10, by hand */
	pgt_pte_t oa_mask; /* the PPN bits a leaf of this size may hold */
};

static const struct g_size sizes[] = {
	/* PPN 0xfedcba98765 << 10. */
	{ "4K", 12, 0, 0x00fedcba98765000ull, 0x003fb72ea61d9400ull, 0x003ffffffffffc00ull },
	/* PPN 0xfedcba986 << 10 (PPN[0] = 0: bits 18:10 clear). */
	{ "2M", 21, 1, 0x00fedcba98600000ull, 0x003fb72ea6180000ull, 0x003ffffffff80000ull },
	/* PPN 0xfedcbac0000 << 10 (PPN[1:0] = 0: bits 27:10 clear). */
	{ "1G", 30, 2, 0x00fedcbac0000000ull, 0x003fb72eb0000000ull, 0x003ffffff0000000ull },
	/* Sv48x4/Sv57x4 terapage (PPN[2:0] = 0: bits 36:10 clear). */
	{ "512G", 39, 3, 0x00fedc8000000000ull, 0x003fb72000000000ull, 0x003fffe000000000ull },
	/* Sv57x4 petapage (PPN[3:0] = 0: bits 45:10 clear). */
	{ "256T", 48, 4, 0x00ab000000000000ull, 0x002ac00000000000ull, 0x003fc00000000000ull },
};

/* ------------------------------------------------------------------------ */
/* Fixture: one space over the harness allocator.                            */

struct fx {
	struct test_mm t;
	pgt_space_t sp;
	const struct g_desc *d;
};

/* Loop index -> descriptor (i / 2) and allocator mode (i % 2). */
static const struct g_desc *desc_of(int i)
{
	return &descs[(unsigned)i / 2];
}

static void fx_open(struct fx *f, int i)
{
	test_mm_init(&f->t, (i % 2) ? TEST_MM_HOOK : TEST_MM_OFFSET);
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
	test_mm_fini(&f->t);
}

/* Lowest GPA bit the root indexes: the stage-1 root's (8.5.1). */
static unsigned root_shift(const struct g_desc *d)
{
	return 12 + 9 * (d->levels - 1);
}

/* Root index of @p gpa: VPN[levels-1], 11 bits wide (8.5.1, the x4 address figures). */
static unsigned root_index(const struct g_desc *d, pgt_vaddr_t gpa)
{
	return (unsigned)(gpa >> root_shift(d)) & 2047u;
}

/* 9-bit VPN[level] of @p gpa below the root. */
static unsigned vpn(pgt_vaddr_t gpa, unsigned level)
{
	return (unsigned)(gpa >> (12 + 9 * level)) & 511u;
}

/*
 * A GPA for leaf size @p s with a root entry of its own; odd sizes in the
 * root's second half (index 1024 and up: the GPA's top bit set).
 */
static pgt_vaddr_t gpa_for(const struct fx *f, unsigned s)
{
	pgt_vaddr_t base = (s & 1) ? 1ull << (f->d->gpa_bits - 1) : 0;

	return base + ((pgt_vaddr_t)(2 * s + 1) << root_shift(f->d));
}

static uint64_t size_of(unsigned s)
{
	return 1ull << sizes[s].shift;
}

static pgt_ref_t map_leaf(struct fx *f, unsigned s, unsigned prot)
{
	pgt_ref_t ref = { 0 };

	CHECK_RC(pgt_map(&f->sp, gpa_for(f, s), sizes[s].pa, size_of(s), prot, 0), PGT_OK);
	CHECK_RC(pgt_lookup(&f->sp, gpa_for(f, s), &ref), PGT_OK);
	ck_assert_uint_eq(ref.level, sizes[s].level);
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

/* The entry for @p gpa at @p level, reached by hand through the non-leaf entries (4.3.2 steps 2, 4). */
static pgt_pte_t *entry_at(const struct fx *f, pgt_vaddr_t gpa, unsigned level)
{
	unsigned top = f->d->levels - 1u;
	pgt_pte_t *table = table_at(f, pgt_space_root(&f->sp));
	pgt_pte_t *e = &table[root_index(f->d, gpa)];

	for (unsigned l = top; l > level; l--) {
		table = table_at(f, (*e & SPEC_PPN) << 2);
		e = &table[vpn(gpa, l - 1)];
	}
	return e;
}

static void translate_ok(struct fx *f, pgt_vaddr_t gpa, unsigned acc, pgt_paddr_t want, const char *what)
{
	pgt_paddr_t pa = 0;
	struct pgt_fault ft = { 0 };
	int rc = pgt_translate(&f->sp, gpa, acc, &pa, &ft);

	ck_assert_msg(rc == PGT_OK, "%s %s: access %#x at %#llx: %s (fault kind %d)", f->d->name, what, acc,
		      (unsigned long long)gpa, pgt_strerror(rc), ft.kind);
	ck_assert_msg(pa == want, "%s %s: pa %#llx, expected %#llx", f->d->name, what, (unsigned long long)pa,
		      (unsigned long long)want);
}

static void translate_fault(struct fx *f, pgt_vaddr_t gpa, unsigned acc, int kind, unsigned level,
			    const char *what)
{
	struct pgt_fault ft = { .kind = -1 };
	int rc = pgt_translate(&f->sp, gpa, acc, NULL, &ft);

	ck_assert_msg(rc == PGT_EFAULT, "%s %s: access %#x at %#llx returned %s, expected a fault",
		      f->d->name, what, acc, (unsigned long long)gpa, pgt_strerror(rc));
	ck_assert_msg(ft.kind == kind && ft.level == level && ft.va == gpa,
		      "%s %s: fault kind %d level %u va %#llx, expected kind %d level %u", f->d->name, what,
		      ft.kind, ft.level, (unsigned long long)ft.va, kind, level);
}

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

static void verify_one(struct fx *f, pgt_vaddr_t gpa, unsigned level, const char *what)
{
	struct verify_log v = { 0 };
	int n = pgt_verify(&f->sp, log_problem, &v);

	ck_assert_msg(n == 1 && v.n == 1, "%s %s: pgt_verify found %d problems, expected 1", f->d->name, what,
		      n);
	ck_assert_msg(v.level == level && v.va == gpa, "%s %s: reported at %#llx level %u", f->d->name, what,
		      (unsigned long long)v.va, v.level);
}

/* Every access kind, privileged then unprivileged: 8.5.1 makes both U-mode accesses. */
static const unsigned accesses[6] = {
	PGT_ACC_READ,
	PGT_ACC_WRITE,
	PGT_ACC_EXEC,
	PGT_ACC_READ | PGT_ACC_USER,
	PGT_ACC_WRITE | PGT_ACC_USER,
	PGT_ACC_EXEC | PGT_ACC_USER,
};

/* ------------------------------------------------------------------------ */
/* Geometry (8.2.10, 8.5.1)                                                  */

START_TEST(test_geometry)
{
	const struct g_desc *d = &descs[_i];
	const struct pgt_arch *a = d->a;
	unsigned top = d->levels - 1u;

	ck_assert_str_eq(a->name, d->name);
	ck_assert_ptr_eq(pgt_arch_by_name(d->name), a);
	ck_assert_uint_eq(a->levels, d->levels);
	ck_assert_uint_eq(a->va_bits, d->gpa_bits);   /* 8.5.1: widened by 2 bits */
	ck_assert_uint_eq(a->pa_bits, 56);            /* supervisor-physical: PA bits 55:0 */
	ck_assert_uint_eq(a->canon, PGT_CANON_SPLIT); /* [0, 2^bits): bits above must be zero */
	ck_assert_uint_eq(a->stage, 2);
	ck_assert_uint_eq(a->malformed_fault, PGT_FAULT_RESERVED_BIT);
	ck_assert_uint_eq(a->af_fault, 1);
	ck_assert_uint_eq(a->dirty_fault, 1);
	for (unsigned l = 0; l < d->levels; l++) {
		const struct pgt_level *L = &a->level[l];
		unsigned bits = l == top ? 11 : 9; /* only the root is widened (8.5.1) */
		ck_assert_msg(L->shift == 12 + 9 * l, "%s level %u shift %u", d->name, l, L->shift);
		ck_assert_msg(L->bits == bits, "%s level %u bits %u", d->name, l, L->bits);
		ck_assert_msg(L->table_size == 8u << bits, "%s level %u table_size %u", d->name, l,
			      L->table_size);
		ck_assert_msg(L->leaf_ok == 1, "%s level %u leaf_ok %u", d->name, l, L->leaf_ok);
		ck_assert_msg(L->oa_shift == 2, "%s level %u oa_shift %u", d->name, l, L->oa_shift);
		CHECK_PTE(L->valid, 0x1, "V is bit 0");
		CHECK_PTE(L->leaf_any, 0xe, "a leaf has R, W or X (table 4.5)");
		CHECK_PTE(L->table_oa, SPEC_PPN, "next-table PPN, bits 53:10");
		CHECK_PTE(L->leaf_oa, sizes[l].oa_mask, sizes[l].name);
		CHECK_PTE(L->accessed, 0x40, "A is bit 6");
		CHECK_PTE(L->dirty, 0x80, "D is bit 7");
		CHECK_PTE(L->reserved, 0x100, "reserved-leaf mark is RSW bit 8");
	}
	ck_assert_uint_eq(a->level[top].shift + 11, d->gpa_bits);
	ck_assert_uint_eq(a->level[top].table_size, 16384);
}
END_TEST

/* hgatp.MODE values: table "Encoding of hgatp MODE field" (8.2.10). */
START_TEST(test_hgatp_modes)
{
	ck_assert_uint_eq(PGT_RISCV_HGATP_SV39X4, 8);
	ck_assert_uint_eq(PGT_RISCV_HGATP_SV48X4, 9);
	ck_assert_uint_eq(PGT_RISCV_HGATP_SV57X4, 10);
	for (unsigned i = 0; i < NDESCS; i++)
		ck_assert_uint_eq(descs[i].hgatp_mode, 8 + i);
}
END_TEST

/* The root is one 16 KiB frame, 16 KiB aligned (8.2.10, 8.5.1); tables below it are pages. */
START_TEST(test_table_frames)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_paddr_t root = pgt_space_root(&f.sp);
	ck_assert_uint_eq(root & 0x3fff, 0);
	ck_assert_uint_eq(test_mm_frame_size(&f.t, root), 16384);
	CHECK_RC(pgt_insert(&f.sp, 0, 12, NULL), PGT_OK);
	ck_assert_uint_eq(test_mm_outstanding(&f.t), f.d->levels);
	for (size_t i = 0; i < f.t.nslots; i++)
		if (f.t.slots[i].mem && f.t.slots[i].pa != root)
			ck_assert_uint_eq(f.t.slots[i].size, 4096);
	fx_close(&f);
}
END_TEST

/*
 * The root's 2048 entries are indexed by GPA[top:root_shift] (11 bits): GPA
 * 2^(bits-1) (for Sv39x4, 2^40) lands in entry 1024, the first of the
 * second half, and the last page in entry 2047. Checked in the table itself.
 */
START_TEST(test_root_index)
{
	struct fx f;

	fx_open(&f, _i);
	const unsigned bits = f.d->gpa_bits;
	const struct {
		pgt_vaddr_t gpa;
		unsigned slot;
	} cases[] = {
		{ 0, 0 },
		{ 1ull << (bits - 3), 256 },
		{ 1ull << (bits - 2), 512 },
		{ (1ull << (bits - 1)) - 4096, 1023 },
		{ 1ull << (bits - 1), 1024 },
		{ (1ull << (bits - 1)) + (1ull << (bits - 2)), 1536 },
		{ (1ull << bits) - 4096, 2047 },
	};
	pgt_pte_t *root = table_at(&f, pgt_space_root(&f.sp));

	for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		pgt_paddr_t pa = 0x80000000ull + ((pgt_paddr_t)k << 12);
		CHECK_RC(pgt_map(&f.sp, cases[k].gpa, pa, 4096, R | W, 0), PGT_OK);
		ck_assert_uint_eq(root_index(f.d, cases[k].gpa), cases[k].slot);
		ck_assert_msg((root[cases[k].slot] & ~SPEC_PPN) == SPEC_TABLE_BITS,
			      "%s: GPA %#llx: root slot %u holds %#llx", f.d->name,
			      (unsigned long long)cases[k].gpa, cases[k].slot,
			      (unsigned long long)root[cases[k].slot]);
		CHECK_PTE(*entry_at(&f, cases[k].gpa, 0), (pa >> 2) | 0xd7, "the leaf reached by hand");
		translate_ok(&f, cases[k].gpa + 0x7f8, PGT_ACC_WRITE, pa + 0x7f8, "mapped GPA");
	}
	/* Exactly the slots above are in use. */
	unsigned used = 0;
	for (unsigned i = 0; i < 2048; i++)
		used += root[i] != 0;
	ck_assert_uint_eq(used, sizeof cases / sizeof cases[0]);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Leaf encodings: the stage-1 leaf (4.3.1, table 4.5, table 6.1) with U    */
/* set on every valid leaf and G never (8.5.1)                               */

struct prot_row {
	unsigned prot;
	const char *name;
	pgt_pte_t bits;   /* V 0x1, R 0x2, W 0x4, X 0x8, U 0x10, G 0x20, A 0x40, D 0x80 */
	unsigned decoded; /* PGT_FIELD_PROT afterwards: USER and GLOBAL mean nothing here */
};

static const struct prot_row rows[] = {
	/* V|R|U|A|D: U on every valid leaf, A and D set by pgt_map. */
	{ R, "R", 0x00000000000000d3ull, R },
	{ R | W, "RW", 0x00000000000000d7ull, R | W },
	/* Table 4.5 "execute-only page". */
	{ X, "X", 0x00000000000000d9ull, X },
	{ R | X, "RX", 0x00000000000000dbull, R | X },
	{ R | W | X, "RWX", 0x00000000000000dfull, R | W | X },
	/* PGT_PROT_USER: accepted, the same entry. */
	{ R | U, "R|USER", 0x00000000000000d3ull, R },
	{ R | W | X | U, "RWX|USER", 0x00000000000000dfull, R | W | X },
	/* PGT_PROT_GLOBAL: accepted, G (0x20) stays clear. */
	{ R | G, "R|GLOBAL", 0x00000000000000d3ull, R },
	{ X | U | G, "X|USER|GLOBAL", 0x00000000000000d9ull, X },
	/* Table 6.1: PBMT 1 NC, PBMT 2 IO. */
	{ R | W | NC, "RW|NONCACHEABLE", 0x20000000000000d7ull, R | W | NC },
	{ R | W | IO, "RW|UNCACHED", 0x40000000000000d7ull, R | W | IO },
	{ R | W | X | U | G | NC, "RWX|USER|GLOBAL|NC", 0x20000000000000dfull, R | W | X | NC },
	{ X | G | IO, "X|GLOBAL|UNCACHED", 0x40000000000000d9ull, X | IO },
	/* No right: a reserved leaf, V clear, RSW bit 8; no U (the MMU reads nothing of it). */
	{ 0, "no rights", 0x0000000000000100ull, 0 },
	{ U | G | IO, "USER|GLOBAL|UNCACHED, no rights", 0x4000000000000100ull, IO },
};
#define NROWS (sizeof rows / sizeof rows[0])

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
			ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), rows[r].decoded);
			ck_assert_uint_eq(get(&f, ref, PGT_FIELD_USER), 0);
			ck_assert_uint_eq(get(&f, ref, PGT_FIELD_GLOBAL), 0);
			ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PADDR), sizes[s].pa);
			CHECK_RC(pgt_unmap(&f.sp, gpa_for(&f, s), size_of(s)), PGT_OK);
		}
	}
	ck_assert_uint_eq(test_mm_outstanding(&f.t), 1);
	fx_close(&f);
}
END_TEST

/*
 * U on every valid leaf however it was made (pgt_map, pgt_set_field of
 * each field, pgt_protect), G on none; the USER and GLOBAL fields take
 * 0 and 1 and change nothing.
 */
START_TEST(test_user_on_every_leaf)
{
	static const unsigned rights[] = { R, R | W, X, R | X, R | W | X };
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++)
		for (unsigned k = 0; k < sizeof rights / sizeof rights[0]; k++)
			for (unsigned extra = 0; extra < 4; extra++) {
				unsigned prot = rights[k] | ((extra & 1) ? U : 0) | ((extra & 2) ? G : 0);
				pgt_ref_t ref = map_leaf(&f, s, prot);
				ck_assert_msg((*ref.pte & (SPEC_U | SPEC_G)) == SPEC_U,
					      "%s %s prot %#x: entry %#llx", f.d->name, sizes[s].name, prot,
					      (unsigned long long)*ref.pte);
				pgt_pte_t before = *ref.pte;
				CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_USER, 0), PGT_OK);
				CHECK_PTE(*ref.pte, before, "USER=0 changes nothing");
				CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_USER, 1), PGT_OK);
				CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_GLOBAL, 1), PGT_OK);
				CHECK_PTE(*ref.pte, before, "USER=1, GLOBAL=1 change nothing");
				CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_USER, 2), PGT_EINVAL);
				CHECK_RC(pgt_unmap(&f.sp, gpa_for(&f, s), size_of(s)), PGT_OK);
			}
	/* A reserved leaf made valid by one right gets U; pgt_protect keeps it. */
	pgt_ref_t ref;
	CHECK_RC(pgt_insert(&f.sp, gpa_for(&f, 0), 12, &ref), PGT_OK);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sizes[0].pa), PGT_OK);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 1), PGT_OK);
	CHECK_PTE(*ref.pte, sizes[0].ppn | 0xd3, "READ=1 on a reserved leaf");
	CHECK_RC(pgt_protect(&f.sp, gpa_for(&f, 0), 4096, R | W | X), PGT_OK);
	CHECK_PTE(*ref.pte, sizes[0].ppn | 0xdf, "pgt_protect to RWX");
	CHECK_RC(pgt_protect(&f.sp, gpa_for(&f, 0), 4096, X | U | G), PGT_OK);
	CHECK_PTE(*ref.pte, sizes[0].ppn | 0xd9, "pgt_protect to X|USER|GLOBAL");
	fx_close(&f);
}
END_TEST

/* Rights without an encoding: W without R (table 4.5) and write-combining (table 6.1). */
START_TEST(test_enotsup)
{
	static const unsigned bad[] = { W, W | X, W | U, W | X | U | G, R | WC, R | W | X | WC, X | WC, WC };
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++)
		for (unsigned b = 0; b < sizeof bad / sizeof bad[0]; b++) {
			CHECK_RC(pgt_map(&f.sp, gpa_for(&f, s), sizes[s].pa, size_of(s), bad[b], 0),
				 PGT_ENOTSUP);
			CHECK_RC(pgt_lookup(&f.sp, gpa_for(&f, s), NULL), PGT_ENOENT);
		}
	ck_assert_uint_eq(test_mm_outstanding(&f.t), 1);
	pgt_ref_t ref = map_leaf(&f, 0, R | W);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, W), PGT_ENOTSUP);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_READ, 0), PGT_ENOTSUP);
	CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PROT, R | W | WC), PGT_ENOTSUP);
	CHECK_PTE(*ref.pte, sizes[0].ppn | 0xd7, "RW leaf after refused changes");
	fx_close(&f);
}
END_TEST

/* pgt_insert's reserved leaf: V clear, RSW bit 8; not present to the walk. */
START_TEST(test_reserved_leaf)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++) {
		pgt_ref_t ref;
		CHECK_RC(pgt_insert(&f.sp, gpa_for(&f, s), sizes[s].shift, &ref), PGT_OK);
		ck_assert_uint_eq(ref.level, sizes[s].level);
		CHECK_PTE(*ref.pte, RESERVED_LEAF, sizes[s].name);
		translate_fault(&f, gpa_for(&f, s), PGT_ACC_READ, PGT_FAULT_NOT_PRESENT, sizes[s].level,
				"reserved leaf");
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_PADDR, sizes[s].pa), PGT_OK);
		CHECK_RC(pgt_set_field(&f.sp, ref, PGT_FIELD_EXEC, 1), PGT_OK);
		CHECK_PTE(*ref.pte, sizes[s].ppn | 0xd9, "EXEC=1 on a reserved leaf: V|X|U|A|D");
	}
	fx_close(&f);
}
END_TEST

/* Non-leaf entries: V and the next table's PPN only (4.3.1), the same below a 16 KiB root. */
START_TEST(test_table_entries)
{
	for (unsigned s = 0; s < desc_of(_i)->levels; s++) {
		struct fx f;
		fx_open(&f, _i);
		pgt_vaddr_t gpa = gpa_for(&f, s) | (0x0f0ull << 21) | (0x13cull << 12);
		gpa &= ~(size_of(s) - 1);
		CHECK_RC(pgt_map(&f.sp, gpa, sizes[s].pa, size_of(s), R | W, 0), PGT_OK);
		for (unsigned l = f.d->levels - 1u; l > sizes[s].level; l--) {
			pgt_pte_t e = *entry_at(&f, gpa, l);
			ck_assert_msg((e & ~SPEC_PPN) == SPEC_TABLE_BITS, "%s level %u entry %#llx",
				      f.d->name, l, (unsigned long long)e);
			ck_assert(test_mm_owns(&f.t, (e & SPEC_PPN) << 2, l - 1));
		}
		CHECK_PTE(*entry_at(&f, gpa, sizes[s].level), sizes[s].ppn | 0xd7, "the leaf");
		translate_ok(&f, gpa + 0x5a8, PGT_ACC_WRITE, sizes[s].pa + 0x5a8, "walk");
		fx_close(&f);
	}
}
END_TEST

/*
 * Bad input: a G-stage space has no upper range (PGT_EFLAGS), and a view of
 * G-stage tables needs its root 16 KiB aligned (8.2.10: hgatp.PPN[1:0] read
 * as zero); a view reads what the space wrote and refuses to write.
 */
START_TEST(test_bad_input)
{
	struct fx f;
	pgt_space_t other, view;
	pgt_paddr_t pa = 0;

	fx_open(&f, _i);
	CHECK_RC(pgt_space_init(&other, f.d->a, &f.t.mm, PGT_SPACE_UPPER), PGT_EFLAGS);
	CHECK_RC(pgt_space_init(&other, f.d->a, &f.t.mm, PGT_SPACE_UPPER | PGT_SPACE_LINKS), PGT_EFLAGS);
	pgt_paddr_t root = pgt_space_root(&f.sp);
	for (pgt_paddr_t off = 0x1000; off < 0x4000; off += 0x1000)
		CHECK_RC(pgt_space_view(&view, f.d->a, &f.t.mm, root + off, 0), PGT_EALIGN);
	CHECK_RC(pgt_space_view(&view, f.d->a, &f.t.mm, root, PGT_SPACE_UPPER), PGT_EFLAGS);
	CHECK_RC(pgt_map(&f.sp, 1ull << (f.d->gpa_bits - 1), 0x80000000ull, 4096, R | W, 0), PGT_OK);
	CHECK_RC(pgt_space_view(&view, f.d->a, &f.t.mm, root, 0), PGT_OK);
	CHECK_RC(pgt_translate(&view, (1ull << (f.d->gpa_bits - 1)) + 8, PGT_ACC_WRITE, &pa, NULL), PGT_OK);
	ck_assert_uint_eq(pa, 0x80000008ull);
	CHECK_RC(pgt_map(&view, 0, 0x80000000ull, 4096, R, 0), PGT_EINVAL);
	pgt_space_destroy(&view);
	ck_assert_uint_eq(test_mm_outstanding(&f.t), f.d->levels);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Guest-physical address width (8.5.1: bits 63:bits must be zero)          */

static void expect_refused(struct fx *f, pgt_vaddr_t gpa)
{
	pgt_vaddr_t page = gpa & ~0xfffull;

	CHECK_RC(pgt_map(&f->sp, page, 0x80000000ull, 4096, R, 0), PGT_ERANGE);
	CHECK_RC(pgt_insert(&f->sp, page, 12, NULL), PGT_ERANGE);
	CHECK_RC(pgt_lookup(&f->sp, gpa, NULL), PGT_ERANGE);
	CHECK_RC(pgt_unmap(&f->sp, page, 4096), PGT_ERANGE);
	CHECK_RC(pgt_protect(&f->sp, page, 4096, R), PGT_ERANGE);
	CHECK_RC(pgt_translate(&f->sp, gpa, PGT_ACC_READ, NULL, NULL), PGT_ERANGE);
	CHECK_RC(pgt_translate(&f->sp, gpa, PGT_ACC_EXEC | PGT_ACC_USER, NULL, NULL), PGT_ERANGE);
}

START_TEST(test_gpa_width)
{
	struct fx f;

	fx_open(&f, _i);
	const unsigned bits = f.d->gpa_bits;
	pgt_vaddr_t last_page = (1ull << bits) - 4096;

	/* The last page of the guest-physical space works... */
	CHECK_RC(pgt_map(&f.sp, last_page, 0x80000000ull, 4096, R | W, 0), PGT_OK);
	translate_ok(&f, last_page | 0xfff, PGT_ACC_WRITE, 0x80000fffull, "last GPA byte");
	/* ...the next address is one bit too wide. */
	expect_refused(&f, 1ull << bits);
	expect_refused(&f, (1ull << bits) | 0x123);
	expect_refused(&f, 1ull << 63);
	/* A stage-1 sign extension is no GPA (8.5.1: zeros, not copies of the top bit). */
	expect_refused(&f, ~0ull << (bits - 1));
	expect_refused(&f, 0xfffffffffffff000ull);
	/* A range that runs over the top. */
	CHECK_RC(pgt_map(&f.sp, last_page - 4096, 0x90000000ull, 3 * 4096, R, 0), PGT_ERANGE);
	CHECK_RC(pgt_lookup(&f.sp, last_page - 4096, NULL), PGT_ENOENT);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* pgt_translate: rights (8.5.1: U-mode checks; table 4.5; MXR = 0)          */

struct rights_case {
	unsigned prot;
	const char *name;
	unsigned allowed; /* bit k: accesses[k] completes */
};

/*
 * Privileged and unprivileged accesses alike; USER in the request changes
 * nothing; a load needs R whatever X says (MXR = 0).
 */
static const struct rights_case rights_cases[] = {
	{ R, "R", 0x09 },
	{ R | W, "RW", 0x1b },
	{ X, "X", 0x24 },
	{ R | X, "RX", 0x2d },
	{ R | W | X, "RWX", 0x3f },
	{ R | U, "R|USER", 0x09 },
	{ R | W | X | U | G, "RWX|USER|GLOBAL", 0x3f },
};

START_TEST(test_translate_rights)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned r = 0; r < sizeof rights_cases / sizeof rights_cases[0]; r++) {
		pgt_vaddr_t gpa = gpa_for(&f, 0) + ((pgt_vaddr_t)r << 12);
		pgt_paddr_t pa = 0x80000000ull + ((pgt_paddr_t)r << 12);

		CHECK_RC(pgt_map(&f.sp, gpa, pa, 4096, rights_cases[r].prot, 0), PGT_OK);
		for (unsigned k = 0; k < 6; k++) {
			if (rights_cases[r].allowed & (1u << k))
				translate_ok(&f, gpa + 0x18, accesses[k], pa + 0x18, rights_cases[r].name);
			else
				translate_fault(&f, gpa + 0x18, accesses[k], PGT_FAULT_PERMISSION, 0,
						rights_cases[r].name);
		}
	}
	fx_close(&f);
}
END_TEST

/*
 * A leaf with U clear, written by hand: every access faults, privileged
 * or not (8.5.1: U is checked as for U-mode; 4.3.1: U-mode may access only
 * U=1 pages). Every other field of the leaf is valid.
 */
START_TEST(test_translate_leaf_without_u)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++) {
		pgt_ref_t ref = map_leaf(&f, s, R | W | X);
		pgt_vaddr_t gpa = gpa_for(&f, s) + 0x40;

		CHECK_PTE(*ref.pte, sizes[s].ppn | 0xdf, "RWX leaf");
		*ref.pte = sizes[s].ppn | 0xcf; /* V|R|W|X|A|D, U clear */
		for (unsigned k = 0; k < 6; k++)
			translate_fault(&f, gpa, accesses[k], PGT_FAULT_PERMISSION, sizes[s].level,
					"U clear");
		translate_fault(&f, gpa, PGT_ACC_WRITE | PGT_ACC_SET_AD, PGT_FAULT_PERMISSION, sizes[s].level,
				"U clear, with update");
		CHECK_PTE(*ref.pte, sizes[s].ppn | 0xcf, "a faulting access changes nothing");
		/* Not malformed: a leaf with U clear is well formed, it just grants nothing here. */
		ck_assert_int_eq(pgt_verify(&f.sp, NULL, NULL), 0);
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), R | W | X);
		/* G set by hand is ignored (8.5.1). */
		*ref.pte = sizes[s].ppn | 0xff;
		translate_ok(&f, gpa, PGT_ACC_EXEC, sizes[s].pa + 0x40, "G set by hand");
		ck_assert_uint_eq(get(&f, ref, PGT_FIELD_PROT), R | W | X);
		*ref.pte = sizes[s].ppn | 0xdf;
		translate_ok(&f, gpa, PGT_ACC_WRITE, sizes[s].pa + 0x40, "U set again");
	}
	fx_close(&f);
}
END_TEST

/* Step 8: a superpage passes the GPA bits below its level through. */
START_TEST(test_translate_superpages)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++) {
		uint64_t off = 0x00a5a5a5a5a5a5a8ull & (size_of(s) - 1);

		(void)map_leaf(&f, s, R | W | X);
		translate_ok(&f, gpa_for(&f, s) + off, PGT_ACC_READ, sizes[s].pa + off, sizes[s].name);
		translate_ok(&f, gpa_for(&f, s) + size_of(s) - 1, PGT_ACC_EXEC | PGT_ACC_USER,
			     sizes[s].pa + size_of(s) - 1, sizes[s].name);
	}
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* pgt_translate: encodings the MMU rejects (4.3.2 steps 3, 4, 6; ch. 6)     */

struct bad_leaf {
	const char *what;
	pgt_pte_t set, clear; /* applied to a valid RW 2M leaf, V|R|W|U|A|D */
};

static const struct bad_leaf bad_leaves[] = {
	{ "misaligned megapage, PPN[0] bit 0", 0x0000000000000400ull, 0 },
	{ "misaligned megapage, PPN[0] bit 8", 0x0000000000040000ull, 0 },
	{ "W without R", 0, 0x0000000000000002ull },
	{ "W and X without R", 0x0000000000000008ull, 0x0000000000000002ull },
	{ "PBMT 3", 0x6000000000000000ull, 0 },
	{ "reserved bit 54", 0x0040000000000000ull, 0 },
	{ "reserved bit 60", 0x1000000000000000ull, 0 },
	{ "N in a megapage", 0x8000000000000000ull, 0 },
};

START_TEST(test_translate_malformed_leaf)
{
	struct fx f;

	fx_open(&f, _i);
	pgt_vaddr_t gpa = gpa_for(&f, 1);
	pgt_ref_t ref = map_leaf(&f, 1, R | W);
	pgt_pte_t good = *ref.pte;

	CHECK_PTE(good, sizes[1].ppn | 0xd7, "the RW megapage");
	for (unsigned k = 0; k < sizeof bad_leaves / sizeof bad_leaves[0]; k++) {
		const struct bad_leaf *b = &bad_leaves[k];
		*ref.pte = (good | b->set) & ~b->clear;
		translate_fault(&f, gpa + 0x1238, PGT_ACC_WRITE, PGT_FAULT_RESERVED_BIT, 1, b->what);
		translate_fault(&f, gpa, PGT_ACC_READ | PGT_ACC_USER, PGT_FAULT_RESERVED_BIT, 1, b->what);
		verify_one(&f, gpa, 1, b->what);
		*ref.pte = good;
	}
	translate_ok(&f, gpa + 0x1238, PGT_ACC_WRITE, sizes[1].pa + 0x1238, "restored megapage");
	fx_close(&f);
}
END_TEST

/*
 * Non-leaf entries, the 16 KiB root's included: U, A, D (reserved there,
 * 4.3.1), PBMT, bits 60:54 and N fault; G and RSW bit 9 do not.
 */
START_TEST(test_translate_malformed_table)
{
	static const pgt_pte_t bad[] = { 0x2000000000000000ull,
					 0x4000000000000000ull,
					 0x0040000000000000ull,
					 0x1000000000000000ull,
					 0x8000000000000000ull,
					 0x10,
					 0x40,
					 0x80 };
	struct fx f;

	fx_open(&f, _i);
	unsigned top = f.d->levels - 1u;
	pgt_vaddr_t gpa = gpa_for(&f, 1) & ~((1ull << sizes[1].shift) - 1);
	CHECK_RC(pgt_map(&f.sp, gpa, sizes[0].pa, 4096, R | W, 0), PGT_OK);
	pgt_pte_t *slot = entry_at(&f, gpa, top);
	pgt_pte_t good = *slot;
	pgt_vaddr_t entry_gpa = gpa & ~((1ull << root_shift(f.d)) - 1);

	ck_assert_uint_ge(root_index(f.d, gpa), 1024); /* an entry in the root's second half */
	CHECK_PTE(good & ~SPEC_PPN, SPEC_TABLE_BITS, "root entry");
	for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		*slot = good | bad[k];
		translate_fault(&f, gpa, PGT_ACC_READ, PGT_FAULT_RESERVED_BIT, top, "bad root entry");
		verify_one(&f, entry_gpa, top, "bad root entry");
		*slot = good;
	}
	*slot = good | 0x220;
	translate_ok(&f, gpa, PGT_ACC_READ, sizes[0].pa, "root entry with G and RSW bit 9");
	*slot = good;
	/* V alone at level 0 points nowhere: malformed (4.3.2 step 4). */
	pgt_pte_t *leaf = entry_at(&f, gpa, 0);
	*leaf = sizes[0].ppn | 0x1;
	translate_fault(&f, gpa, PGT_ACC_READ, PGT_FAULT_RESERVED_BIT, 0, "V only at level 0");
	verify_one(&f, gpa, 0, "V only at level 0");
	*leaf = sizes[0].ppn | 0xd7;
	fx_close(&f);
}
END_TEST

/* A and D (4.3.1, first scheme; 4.3.2 step 7): as stage 1, for user and privileged requests alike. */
START_TEST(test_translate_accessed_dirty)
{
	struct fx f;

	fx_open(&f, _i);
	for (unsigned s = 0; s < f.d->levels; s++) {
		pgt_vaddr_t gpa = gpa_for(&f, s) + 0x40;
		pgt_paddr_t pa = sizes[s].pa + 0x40;
		unsigned lvl = sizes[s].level;
		pgt_pte_t ppn = sizes[s].ppn;
		pgt_ref_t ref = map_leaf(&f, s, R | W | X);

		*ref.pte = ppn | 0x9f; /* A clear */
		translate_fault(&f, gpa, PGT_ACC_READ, PGT_FAULT_ACCESS_FLAG, lvl, "A clear, load");
		translate_fault(&f, gpa, PGT_ACC_EXEC | PGT_ACC_USER, PGT_FAULT_ACCESS_FLAG, lvl,
				"A clear, fetch");
		translate_ok(&f, gpa, PGT_ACC_EXEC | PGT_ACC_SET_AD, pa, "A clear, fetch with update");
		CHECK_PTE(*ref.pte, ppn | 0xdf, "A set by the fetch");
		*ref.pte = ppn | 0x5f; /* D clear */
		translate_ok(&f, gpa, PGT_ACC_READ, pa, "D clear, load");
		translate_fault(&f, gpa, PGT_ACC_WRITE, PGT_FAULT_DIRTY, lvl, "D clear, store");
		translate_ok(&f, gpa, PGT_ACC_WRITE | PGT_ACC_SET_AD, pa, "D clear, store with update");
		CHECK_PTE(*ref.pte, ppn | 0xdf, "D set by the store");
	}
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *riscv_g_suite(void)
{
	Suite *s = suite_create("arch_riscv_g");
	TCase *geo = tcase_create("geometry");
	TCase *enc = tcase_create("encodings");
	TCase *gpa = tcase_create("gpa_width");
	TCase *tr = tcase_create("translate");
	const int n = (int)NDESCS * 2;

	tcase_add_loop_test(geo, test_geometry, 0, (int)NDESCS);
	tcase_add_test(geo, test_hgatp_modes);
	/* Loop index: descriptor i / 2, allocator mode i % 2. */
	tcase_add_loop_test(geo, test_table_frames, 0, n);
	tcase_add_loop_test(geo, test_root_index, 0, n);
	suite_add_tcase(s, geo);

	tcase_add_loop_test(enc, test_leaf_full_literals, 0, n);
	tcase_add_loop_test(enc, test_user_on_every_leaf, 0, n);
	tcase_add_loop_test(enc, test_enotsup, 0, n);
	tcase_add_loop_test(enc, test_reserved_leaf, 0, n);
	tcase_add_loop_test(enc, test_table_entries, 0, n);
	suite_add_tcase(s, enc);

	tcase_add_loop_test(gpa, test_gpa_width, 0, n);
	tcase_add_loop_test(gpa, test_bad_input, 0, n);
	suite_add_tcase(s, gpa);

	tcase_add_loop_test(tr, test_translate_rights, 0, n);
	tcase_add_loop_test(tr, test_translate_leaf_without_u, 0, n);
	tcase_add_loop_test(tr, test_translate_superpages, 0, n);
	tcase_add_loop_test(tr, test_translate_malformed_leaf, 0, n);
	tcase_add_loop_test(tr, test_translate_malformed_table, 0, n);
	tcase_add_loop_test(tr, test_translate_accessed_dirty, 0, n);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	int failed = test_run_suite(riscv_g_suite());
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
