/* SPDX-License-Identifier: MIT */
/*
 * check_translate: pgt_translate against the MMU rules of each architecture.
 *
 * Trees are built with pgt_insert and pgt_set_field; the restrictions the
 * library never writes (table entries that take rights away, leaves with
 * odd AP/XN mixes, malformed entries) are written by hand through pointers
 * into the tables, with literal bit positions from the manuals:
 *
 *   x86-64, Intel SDM vol. 3A 4.5 (tables 4-14 to 4-20) and 4.6 "Access
 *   Rights": bit 1 R/W, bit 2 U/S, bit 5 A, bit 6 D, bit 7 PS, bit 63 XD;
 *   with CR0.WP = 1, EFER.NXE = 1, no SMEP/SMAP: a write needs R/W in every
 *   entry of the walk (supervisor too), a user access needs U/S in every
 *   entry, a fetch needs XD clear in every entry; supervisor code may read
 *   and fetch from user pages. 4.7: reserved bits give #PF with RSVD = 1.
 *   4.8: A is set in every entry used, D in the leaf on a write.
 *
 *   ARMv8-A stage 1 EL1&0, Arm ARM D8.3 (descriptors) and D8.4 (permissions;
 *   D5.3/D5.4 in older issues): leaf AP[1] = bit 6 (EL0 access), AP[2] =
 *   bit 7 (read-only), AF bit 10, PXN bit 53, UXN bit 54; table PXNTable
 *   bit 59, UXNTable bit 60, APTable[0] bit 61 (no EL0 data access below),
 *   APTable[1] bit 62 (read-only below). A location writable at EL0 is
 *   never executable at EL1. Access-flag faults come before permission
 *   faults. Invalid or malformed descriptors give translation faults.
 *
 *   ARMv8-A stage 2, Arm ARM D8.3 (stage 2 attributes) and D8.4 (stage 2
 *   permissions; D5.3.3/D5.4 in older issues): S2AP[0] = bit 6 (read),
 *   S2AP[1] = bit 7 (write), XN[1:0] = bits 54:53 with FEAT_XNX: 0b00 EL0
 *   and EL1 execute, 0b01 EL0 only, 0b10 neither, 0b11 EL1 only. Stage-2
 *   table descriptors have no attribute field: bits 63:59 restrict nothing.
 *
 * The expected results come from small models written from those rules,
 * not from the descriptor's rule tables.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>
#include <pgtable/riscv.h>

#include "harness.h"

#define BIT(n) ((pgt_pte_t)1 << (n))

enum { R = PGT_PROT_READ, W = PGT_PROT_WRITE, X = PGT_PROT_EXEC, U = PGT_PROT_USER };

/* The six access kinds. */
static const unsigned accesses[6] = {
	PGT_ACC_READ,
	PGT_ACC_WRITE,
	PGT_ACC_EXEC,
	PGT_ACC_READ | PGT_ACC_USER,
	PGT_ACC_WRITE | PGT_ACC_USER,
	PGT_ACC_EXEC | PGT_ACC_USER,
};

/* ------------------------------------------------------------------------ */
/* Spaces                                                                    */

struct ctx {
	struct test_mm t;
	pgt_space_t sp;
	const struct pgt_arch *a;
	unsigned flags;
	char who[64];
};

static void ctx_open(struct ctx *c, const struct pgt_arch *a, unsigned flags, enum test_mm_mode mode)
{
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

static bool is_arm(const struct pgt_arch *a)
{
	return strncmp(a->name, "armv8", 5) == 0;
}

static bool is_ept(const struct pgt_arch *a)
{
	return strncmp(a->name, "x86_64-ept", 10) == 0;
}

static bool is_arm_s2(const struct pgt_arch *a)
{
	return strncmp(a->name, "armv8-s2-", 9) == 0;
}

static bool is_riscv(const struct pgt_arch *a)
{
	return strncmp(a->name, "riscv", 5) == 0;
}

/* Spaces to run on: every descriptor, ARMv8 ones in both halves. */
struct variant {
	const struct pgt_arch *a;
	unsigned flags;
};

/** At most two variants (lower and upper range) of every shipped descriptor. */
#define MAX_VARIANTS 24

static unsigned variants(struct variant out[MAX_VARIANTS])
{
	unsigned n = 0;

	for (size_t i = 0; i < test_narchs && n + 2 <= MAX_VARIANTS; i++) {
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

/* Two places to map in: the second root entry's range and the last one's. */
static pgt_vaddr_t region(const struct ctx *c, int high)
{
	uint64_t root = size_at(c->a, c->a->levels - 1u);

	if (high)
		return test_va_top(c->a, c->flags) & ~(root - 1);
	return test_va_bottom(c->a, c->flags) + root;
}

/*
 * The k-th page of @p level's size in the low or high region; root-level
 * pages are counted from the bottom or down from the top of the space.
 */
static pgt_vaddr_t slot_va(const struct ctx *c, int high, unsigned level, unsigned k)
{
	uint64_t size = size_at(c->a, level);

	if (level == c->a->levels - 1u)
		return high ? (test_va_top(c->a, c->flags) & ~(size - 1)) - k * size
			    : test_va_bottom(c->a, c->flags) + (k + 1) * size;
	return region(c, high) + k * size;
}

/* A reserved leaf at @p va of the page size of @p level, then its address and rights. */
static pgt_ref_t map_leaf(struct ctx *c, pgt_vaddr_t va, unsigned level, pgt_paddr_t pa, unsigned prot)
{
	pgt_ref_t ref;

	ck_assert_int_eq(pgt_insert(&c->sp, va, c->a->level[level].shift, &ref), PGT_OK);
	ck_assert_int_eq(pgt_set_field(&c->sp, ref, PGT_FIELD_PADDR, pa), PGT_OK);
	if (prot)
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

/* A physical address for a page of @p size: fits every descriptor's width. */
static pgt_paddr_t pa_for(uint64_t size)
{
	return (0x0000123456789000ull & ~(size - 1)) | size;
}

/* An offset inside a page of @p size that is neither 0 nor the page's end. */
static uint64_t offset_in(uint64_t size)
{
	return 0x5a5a5a5a5a5ull & (size - 1) & ~7ull;
}

/* ------------------------------------------------------------------------ */
/* Models, written from the manuals                                          */

/* SDM 4.6 with CR0.WP = 1, EFER.NXE = 1, no SMEP/SMAP. e[0..n): the walk, leaf last. */
static bool x86_allows(const pgt_pte_t *e, unsigned n, unsigned access)
{
	bool rw = true, us = true, xd = false;

	for (unsigned i = 0; i < n; i++) {
		rw = rw && (e[i] & BIT(1));
		us = us && (e[i] & BIT(2));
		xd = xd || (e[i] & BIT(63));
	}
	if ((access & PGT_ACC_USER) && !us)
		return false;
	if (access & PGT_ACC_WRITE)
		return rw;
	if (access & PGT_ACC_EXEC)
		return !xd;
	return true;
}

/* Arm ARM D8.4: leaf AP[2:1], then APTable, then XN; EL0-writable is PXN. */
static bool arm_allows(const pgt_pte_t *e, unsigned n, unsigned access)
{
	pgt_pte_t leaf = e[n - 1];
	bool el0 = leaf & BIT(6), ro = leaf & BIT(7);
	bool pr = true, pw = !ro, ur = el0, uw = el0 && !ro;
	bool pxn = leaf & BIT(53), uxn = leaf & BIT(54);

	for (unsigned i = 0; i + 1 < n; i++) {
		if (e[i] & BIT(61))
			ur = uw = false;
		if (e[i] & BIT(62))
			pw = uw = false;
		pxn = pxn || (e[i] & BIT(59));
		uxn = uxn || (e[i] & BIT(60));
	}
	bool px = !pxn && !uw, ux = !uxn;
	bool user = access & PGT_ACC_USER;

	if (access & PGT_ACC_READ)
		return user ? ur : pr;
	if (access & PGT_ACC_WRITE)
		return user ? uw : pw;
	return user ? ux : px;
}

/* Arm ARM D8.4 stage 2: S2AP and XN of the leaf alone; EL0 (PGT_ACC_USER) matters for XN only. */
static bool arm_s2_allows(const pgt_pte_t *e, unsigned n, unsigned access)
{
	pgt_pte_t leaf = e[n - 1];
	unsigned xn = (unsigned)(leaf >> 53) & 3;
	bool user = access & PGT_ACC_USER;

	if (access & PGT_ACC_READ)
		return leaf & BIT(6);
	if (access & PGT_ACC_WRITE)
		return leaf & BIT(7);
	return xn == 0 || (xn == 1 && user) || (xn == 3 && !user);
}

/*
 * RISC-V privileged spec 4.3.2 steps 5 and 7 with SUM = 0, MXR = 0 and
 * Svade: non-leaf entries restrict nothing; the leaf's R/W/X grant, U
 * selects user or supervisor, a clear A faults, and so does a write to a
 * leaf with D clear. The G-stage (@p g_stage) checks every access as a
 * user one (8.5.1).
 */
static bool riscv_allows(const pgt_pte_t *e, unsigned n, unsigned access, bool g_stage)
{
	pgt_pte_t leaf = e[n - 1];
	bool user = g_stage || (access & PGT_ACC_USER);

	if (user != !!(leaf & PGT_RISCV_U) || !(leaf & PGT_RISCV_A))
		return false;
	if (access & PGT_ACC_READ)
		return leaf & PGT_RISCV_R;
	if (access & PGT_ACC_WRITE)
		return (leaf & PGT_RISCV_W) && (leaf & PGT_RISCV_D);
	return leaf & PGT_RISCV_X;
}

/*
 * Intel SDM vol. 3C, EPT violations (mode-based execute control off): a
 * read needs bit 0, a write bit 1, a fetch bit 2 in every entry used; the
 * guest's user/supervisor mode plays no part.
 */
static bool ept_allows(const pgt_pte_t *e, unsigned n, unsigned access)
{
	pgt_pte_t need = (access & PGT_ACC_READ) ? BIT(0) : (access & PGT_ACC_WRITE) ? BIT(1) : BIT(2);

	for (unsigned i = 0; i < n; i++)
		if (!(e[i] & need))
			return false;
	return true;
}

/* The walk's entries, root first, read back from the tables. */
static unsigned walk_entries(const struct ctx *c, pgt_vaddr_t va, unsigned leaf_level, pgt_pte_t e[])
{
	unsigned n = 0;

	for (unsigned l = c->a->levels - 1u;; l--) {
		e[n++] = *entry_at(c, va, l);
		if (l == leaf_level)
			return n;
	}
}

static bool model_allows(const struct ctx *c, pgt_vaddr_t va, unsigned leaf_level, unsigned access)
{
	pgt_pte_t e[PGT_MAX_LEVELS];
	unsigned n = walk_entries(c, va, leaf_level, e);

	if (is_riscv(c->a))
		return riscv_allows(e, n, access, c->a->stage == 2);
	if (is_ept(c->a))
		return ept_allows(e, n, access);
	if (is_arm_s2(c->a))
		return arm_s2_allows(e, n, access);
	return is_arm(c->a) ? arm_allows(e, n, access) : x86_allows(e, n, access);
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                    */

static void expect_ok(const struct ctx *c, pgt_vaddr_t va, unsigned access, pgt_paddr_t want,
		      const char *what)
{
	pgt_paddr_t pa = 0;
	struct pgt_fault f = { .kind = -1 };
	int rc = pgt_translate(&c->sp, va, access, &pa, &f);

	ck_assert_msg(rc == PGT_OK, "%s: %s: translate %#llx access %#x: %d (%s), fault kind %d level %u",
		      c->who, what, (unsigned long long)va, access, rc, pgt_strerror(rc), f.kind, f.level);
	ck_assert_msg(pa == want, "%s: %s: pa %#llx, expected %#llx", c->who, what, (unsigned long long)pa,
		      (unsigned long long)want);
}

static void expect_fault(const struct ctx *c, pgt_vaddr_t va, unsigned access, int kind, unsigned level,
			 const char *what)
{
	pgt_paddr_t pa = 0x1234;
	struct pgt_fault f = { .kind = -1 };
	int rc = pgt_translate(&c->sp, va, access, &pa, &f);

	ck_assert_msg(rc == PGT_EFAULT, "%s: %s: translate %#llx access %#x: %d, expected a fault", c->who,
		      what, (unsigned long long)va, access, rc);
	ck_assert_msg(f.kind == kind && f.level == level && f.va == va,
		      "%s: %s: fault kind %d level %u va %#llx, expected kind %d level %u", c->who, what,
		      f.kind, f.level, (unsigned long long)f.va, kind, level);
	ck_assert_msg(pa == 0x1234, "%s: %s: pa written on a fault", c->who, what);
	/* fault may be NULL */
	ck_assert_int_eq(pgt_translate(&c->sp, va, access, NULL, NULL), PGT_EFAULT);
}

/*
 * EPT, root first: an entry with bits 2:0 clear is not present (an EPT
 * violation), one with W without R is a misconfiguration (SDM vol. 3C, EPT
 * misconfigurations); either ends the walk there. False when neither.
 */
static bool ept_walk_stops(const struct ctx *c, pgt_vaddr_t va, unsigned leaf_level, int *kind, unsigned *level)
{
	pgt_pte_t e[PGT_MAX_LEVELS];
	unsigned n = walk_entries(c, va, leaf_level, e);

	for (unsigned i = 0; i < n; i++) {
		*level = c->a->levels - 1u - i;
		if ((e[i] & 7) == 0 || (e[i] & 3) == BIT(1)) {
			*kind = (e[i] & 7) == 0 ? PGT_FAULT_NOT_PRESENT : PGT_FAULT_MISCONFIG;
			return true;
		}
	}
	return false;
}

/* One translation against the model. */
static void expect_model(const struct ctx *c, pgt_vaddr_t va, unsigned leaf_level, pgt_paddr_t pa,
			 unsigned access, const char *what)
{
	pgt_pte_t leaf = *entry_at(c, va, leaf_level);
	int kind;
	unsigned level;

	if (is_ept(c->a) && ept_walk_stops(c, va, leaf_level, &kind, &level))
		expect_fault(c, va, access, kind, level, what);
	else if (is_riscv(c->a) && (leaf & (PGT_RISCV_R | PGT_RISCV_W)) == PGT_RISCV_W)
		expect_fault(c, va, access, c->a->malformed_fault, leaf_level, what); /* W without R: 4.3.2 step 3 */
	else if (model_allows(c, va, leaf_level, access))
		expect_ok(c, va, access, pa, what);
	else
		expect_fault(c, va, access, PGT_FAULT_PERMISSION, leaf_level, what);
}

/* The bits that carry rights, per architecture, and their values in the library's entries. */
struct rights_bits {
	pgt_pte_t leaf[4], table[4];
	unsigned nleaf, ntable;
	unsigned base_prot; /* leaf rights before toggling */
};

static struct rights_bits rights_bits(const struct pgt_arch *a)
{
	/* Stage 2: S2AP[0], S2AP[1], XN[0], XN[1]; table bits 59-62 that must change nothing. */
	if (is_arm_s2(a))
		return (struct rights_bits){ { BIT(6), BIT(7), BIT(53), BIT(54) },
					     { BIT(59), BIT(60), BIT(61), BIT(62) },
					     4,
					     4,
					     R | W };
	if (is_arm(a)) /* AP[1], AP[2], PXN, UXN; PXNTable, UXNTable, APTable[0], APTable[1] */
		return (struct rights_bits){ { BIT(6), BIT(7), BIT(53), BIT(54) },
					     { BIT(59), BIT(60), BIT(61), BIT(62) },
					     4,
					     4,
					     R | W | U };
	/*
	 * RISC-V: R, W and U of the leaf; X stays set, as a valid entry with
	 * R, W and X all clear is a pointer to a table. Non-leaf entries have
	 * no rights bits.
	 */
	if (is_riscv(a))
		return (struct rights_bits){ { PGT_RISCV_R, PGT_RISCV_W, PGT_RISCV_U }, { 0 }, 3, 0, R | X | U };
	/* EPT: R, W, X in leaves and tables alike (SDM vol. 3C, EPT violations) */
	if (is_ept(a))
		return (struct rights_bits){ { BIT(0), BIT(1), BIT(2) }, { BIT(0), BIT(1), BIT(2) }, 3, 3, R | W | X };
	/* R/W, U/S, XD in leaves and tables alike */
	return (struct rights_bits){
		{ BIT(1), BIT(2), BIT(63) }, { BIT(1), BIT(2), BIT(63) }, 3, 3, R | W | X | U
	};
}

static pgt_pte_t toggles(const pgt_pte_t bits[], unsigned n, unsigned mask)
{
	pgt_pte_t t = 0;

	for (unsigned i = 0; i < n; i++)
		t |= (mask >> i & 1) ? bits[i] : 0;
	return t;
}

/*
 * Every leaf rights combination at every leaf level, with every combination
 * of table restrictions at each table level above it, for every access kind.
 */
static void rights_at(struct ctx *c, int high, unsigned leaf_level)
{
	struct rights_bits rb = rights_bits(c->a);
	uint64_t size = size_at(c->a, leaf_level);
	pgt_vaddr_t va = slot_va(c, high, leaf_level, 3);
	pgt_paddr_t pa = pa_for(size);
	pgt_ref_t ref = map_leaf(c, va, leaf_level, pa, rb.base_prot);
	pgt_pte_t leaf0 = *ref.pte;
	uint64_t off = offset_in(size);

	for (unsigned tl = leaf_level + 1; tl < c->a->levels; tl++) {
		pgt_pte_t *tab = entry_at(c, va, tl), tab0 = *tab;
		for (unsigned lm = 0; lm < (1u << rb.nleaf); lm++)
			for (unsigned tm = 0; tm < (1u << rb.ntable); tm++) {
				*ref.pte = leaf0 ^ toggles(rb.leaf, rb.nleaf, lm);
				*tab = tab0 ^ toggles(rb.table, rb.ntable, tm);
				for (unsigned k = 0; k < 6; k++) {
					char what[96];
					snprintf(what, sizeof what, "leaf level %u ^%#x, table level %u ^%#x",
						 leaf_level, lm, tl, tm);
					expect_model(c, va + off, leaf_level, pa + off, accesses[k], what);
				}
			}
		*tab = tab0;
		*ref.pte = leaf0;
	}
	/* The leaf alone decides in a tree the library built. */
	for (unsigned lm = 0; lm < (1u << rb.nleaf); lm++) {
		*ref.pte = leaf0 ^ toggles(rb.leaf, rb.nleaf, lm);
		for (unsigned k = 0; k < 6; k++)
			expect_model(c, va, leaf_level, pa, accesses[k], "unrestricted tables");
	}
	*ref.pte = leaf0;
}

START_TEST(test_rights_every_level)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);

	ck_assert_uint_lt((unsigned)_i, n);
	for (int high = 0; high < 2; high++)
		for (unsigned l = 0; l < v[_i].a->levels; l++) {
			if (!v[_i].a->level[l].leaf_ok)
				continue;
			struct ctx c;
			ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_OFFSET);
			rights_at(&c, high, l);
			ctx_close(&c);
		}
}
END_TEST

/* Restrictions at several levels at once combine (random mixes, checked by the model). */
START_TEST(test_rights_mixed_levels)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);
	uint64_t seed = 0x51ed + (uint64_t)_i;

	ck_assert_uint_lt((unsigned)_i, n);
	struct ctx c;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_HOOK);
	struct rights_bits rb = rights_bits(c.a);
	pgt_vaddr_t va = region(&c, 0);
	pgt_ref_t ref = map_leaf(&c, va, 0, pa_for(size_at(c.a, 0)), rb.base_prot);
	pgt_pte_t saved[PGT_MAX_LEVELS];

	for (unsigned l = 0; l < c.a->levels; l++)
		saved[l] = *entry_at(&c, va, l);
	for (int round = 0; round < 200; round++) {
		*ref.pte = saved[0] ^ toggles(rb.leaf, rb.nleaf, (unsigned)test_rand(&seed));
		for (unsigned l = 1; l < c.a->levels; l++)
			*entry_at(&c, va, l) =
				saved[l] ^ toggles(rb.table, rb.ntable, (unsigned)test_rand(&seed));
		for (unsigned k = 0; k < 6; k++)
			expect_model(&c, va, 0, pa_for(size_at(c.a, 0)), accesses[k], "mixed levels");
	}
	for (unsigned l = c.a->levels; l-- > 0;)
		*entry_at(&c, va, l) = saved[l];
	ctx_close(&c);
}
END_TEST

/* Golden cases, one per rule, worked out by hand from the manuals. */
START_TEST(test_x86_golden)
{
	struct ctx c;
	ctx_open(&c, &pgt_arch_x86_64, 0, TEST_MM_OFFSET);
	pgt_vaddr_t va = 0x7f0000201000ull;
	pgt_paddr_t pa = 0x3000;

	map_leaf(&c, va, 0, pa, R | W | X | U);
	expect_ok(&c, va + 0x123, PGT_ACC_WRITE | PGT_ACC_USER, pa + 0x123, "user RWX page");
	/* PDE with U/S clear: supervisor still reads, writes and fetches; user nothing. */
	*entry_at(&c, va, 1) &= ~BIT(2);
	expect_ok(&c, va, PGT_ACC_EXEC, pa, "supervisor fetch under a supervisor PDE");
	expect_fault(&c, va, PGT_ACC_READ | PGT_ACC_USER, PGT_FAULT_PERMISSION, 0,
		     "user read under U/S=0 PDE");
	*entry_at(&c, va, 1) |= BIT(2);
	/* PML4E with R/W clear: CR0.WP = 1, so supervisor writes fault too. */
	*entry_at(&c, va, 3) &= ~BIT(1);
	expect_fault(&c, va, PGT_ACC_WRITE, PGT_FAULT_PERMISSION, 0, "supervisor write under R/W=0 PML4E");
	expect_ok(&c, va, PGT_ACC_READ | PGT_ACC_USER, pa, "user read under R/W=0 PML4E");
	*entry_at(&c, va, 3) |= BIT(1);
	/* PDPTE with XD: no fetch at all; data accesses unaffected. */
	*entry_at(&c, va, 2) |= BIT(63);
	expect_fault(&c, va, PGT_ACC_EXEC, PGT_FAULT_PERMISSION, 0, "fetch under XD PDPTE");
	expect_ok(&c, va, PGT_ACC_WRITE, pa, "write under XD PDPTE");
	ctx_close(&c);
}
END_TEST

START_TEST(test_arm_golden)
{
	struct ctx c;
	ctx_open(&c, &pgt_arch_armv8_4k_48, 0, TEST_MM_OFFSET);
	pgt_vaddr_t va = 0x0000400000200000ull;
	pgt_paddr_t pa = 0x40000000;
	pgt_ref_t ref = map_leaf(&c, va, 1, pa, R | W | U); /* 2M block, AP = 0b01 */

	expect_ok(&c, va + 0x1fffff, PGT_ACC_WRITE | PGT_ACC_USER, pa + 0x1fffff, "EL0 RW block");
	/* AP = 0b01 with PXN cleared by hand: still not executable at EL1. */
	*ref.pte &= ~BIT(53);
	expect_fault(&c, va, PGT_ACC_EXEC, PGT_FAULT_PERMISSION, 1, "EL1 fetch from EL0-writable block");
	/* ... but executable at EL1 once EL0 loses write through APTable[1]. */
	*entry_at(&c, va, 3) |= BIT(62);
	expect_ok(&c, va, PGT_ACC_EXEC, pa, "EL1 fetch once APTable[1] makes it read-only");
	expect_fault(&c, va, PGT_ACC_WRITE, PGT_FAULT_PERMISSION, 1, "EL1 write under APTable[1]");
	*entry_at(&c, va, 3) &= ~BIT(62);
	/* APTable[0] at level 2 (ARM's level 1): no EL0 data access, EL1 unaffected. */
	*entry_at(&c, va, 2) |= BIT(61);
	expect_fault(&c, va, PGT_ACC_READ | PGT_ACC_USER, PGT_FAULT_PERMISSION, 1,
		     "EL0 read under APTable[0]");
	expect_ok(&c, va, PGT_ACC_WRITE, pa, "EL1 write under APTable[0]");
	/* APTable does not restrict instruction fetches; UXN clear: EL0 may fetch. */
	*ref.pte &= ~BIT(54);
	expect_ok(&c, va, PGT_ACC_EXEC | PGT_ACC_USER, pa, "EL0 fetch under APTable[0]");
	*entry_at(&c, va, 2) |= BIT(60);
	expect_fault(&c, va, PGT_ACC_EXEC | PGT_ACC_USER, PGT_FAULT_PERMISSION, 1,
		     "EL0 fetch under UXNTable");
	ctx_close(&c);
}
END_TEST

/*
 * Level mix-ups: a copy of the x86-64 descriptor whose table entries are
 * controlled by different, otherwise ignored bits at each level (bits 52 to
 * 62), so that applying one level's rules at another fails. Level l > 0:
 * bit 50+2l must be set for writes, bit 51+2l set denies every fetch, and
 * at the root bit 62 set denies user accesses. The leaf keeps x86-64's
 * R/W, U/S and XD. The rule bits the walk tests are derived from these
 * rules by the library.
 */
static struct pgt_arch mixed_arch(void)
{
	struct pgt_arch m = pgt_arch_x86_64;

	m.name = "x86_64-fake-rules";
	for (unsigned l = 1; l < m.levels; l++) {
		struct pgt_level *L = &m.level[l];
		pgt_pte_t w = BIT(50 + 2 * l), x = BIT(51 + 2 * l);
		memset(L->table_rules, 0, sizeof L->table_rules);
		L->table_rules[0] = (struct pgt_rule){ w, 0, PGT_RIGHT_PW | PGT_RIGHT_UW };
		L->table_rules[1] = (struct pgt_rule){ x, x, PGT_RIGHT_PX | PGT_RIGHT_UX };
		if (l == m.levels - 1u)
			L->table_rules[2] = (struct pgt_rule){ BIT(62), BIT(62),
							       PGT_RIGHT_UR | PGT_RIGHT_UW | PGT_RIGHT_UX };
		L->table_attrs |= w;
		L->table_count = 0; /* its bits are the fake's rule bits now */
	}
	return m;
}

/* The fake's rules, written out: tables e[0..n-2] (root first), leaf e[n-1]. */
static bool mixed_allows(const pgt_pte_t *e, unsigned n, unsigned access)
{
	pgt_pte_t leaf = e[n - 1];
	bool w = leaf & BIT(1), us = leaf & BIT(2), xd = leaf & BIT(63);

	for (unsigned i = 0; i + 1 < n; i++) {
		unsigned l = 3 - i;
		w = w && (e[i] & BIT(50 + 2 * l));
		xd = xd || (e[i] & BIT(51 + 2 * l));
		us = us && !(l == 3 && (e[i] & BIT(62)));
	}
	if ((access & PGT_ACC_USER) && !us)
		return false;
	if (access & PGT_ACC_WRITE)
		return w;
	if (access & PGT_ACC_EXEC)
		return !xd;
	return true;
}

START_TEST(test_rights_fake_levels)
{
	static struct pgt_arch fake;
	struct ctx c;
	uint64_t seed = 0xfa4e;

	fake = mixed_arch();
	ctx_open(&c, &fake, 0, TEST_MM_OFFSET);
	pgt_vaddr_t va = 0x0000123456789000ull;
	pgt_paddr_t pa = 0x7000;
	map_leaf(&c, va, 0, pa, R | W | X | U);
	pgt_pte_t saved[4], e[4];
	for (unsigned l = 0; l < 4; l++)
		saved[l] = *entry_at(&c, va, l);
	/* Every table bit the fake uses, at every level, and the x86 bits it ignores there. */
	const pgt_pte_t bits[] = { BIT(52), BIT(53), BIT(54), BIT(55), BIT(56),
				   BIT(57), BIT(62), BIT(1),  BIT(2),  BIT(63) };
	for (int round = 0; round < 400; round++) {
		for (unsigned l = 0; l < 4; l++) {
			pgt_pte_t t = 0;
			for (size_t b = 0; b < sizeof bits / sizeof bits[0]; b++)
				t |= (test_rand(&seed) % 4 == 0) ? bits[b] : 0;
			if (l == 0)
				t &= BIT(1) | BIT(2) | BIT(63);
			*entry_at(&c, va, l) = saved[l] ^ t;
		}
		for (unsigned l = 0; l < 4; l++)
			e[3 - l] = *entry_at(&c, va, l);
		for (unsigned k = 0; k < 6; k++) {
			if (mixed_allows(e, 4, accesses[k]))
				expect_ok(&c, va, accesses[k], pa, "fake rules");
			else
				expect_fault(&c, va, accesses[k], PGT_FAULT_PERMISSION, 0, "fake rules");
		}
	}
	for (unsigned l = 4; l-- > 0;)
		*entry_at(&c, va, l) = saved[l];
	ctx_close(&c);
}
END_TEST

/* Copies of the shipped descriptors: the engine's generic walk, which evaluates the rules of every entry. */
START_TEST(test_rights_no_skip)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);
	static struct pgt_arch copy;

	ck_assert_uint_lt((unsigned)_i, n);
	copy = *v[_i].a;
	struct ctx c;
	ctx_open(&c, &copy, v[_i].flags, TEST_MM_OFFSET);
	rights_at(&c, 0, 0);
	ctx_close(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Not present, reserved leaves, malformed entries                           */

START_TEST(test_not_present_levels)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);

	ck_assert_uint_lt((unsigned)_i, n);
	struct ctx c;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_HOOK);
	unsigned root = c.a->levels - 1u;
	pgt_vaddr_t va = region(&c, 1);

	expect_fault(&c, va, PGT_ACC_READ, PGT_FAULT_NOT_PRESENT, root, "empty space");
	/* A reserved leaf at level 0: the walk stops there. */
	pgt_ref_t ref = map_leaf(&c, va, 0, pa_for(size_at(c.a, 0)), 0);
	expect_fault(&c, va, PGT_ACC_READ, PGT_FAULT_NOT_PRESENT, 0, "reserved leaf");
	/* Its neighbours in each table on the path are empty at that table's level. */
	for (unsigned l = 0; l < root; l++) {
		pgt_vaddr_t other = va ^ size_at(c.a, l);
		expect_fault(&c, other, PGT_ACC_WRITE | PGT_ACC_USER, PGT_FAULT_NOT_PRESENT, l,
			     "empty entry");
	}
	ck_assert_int_eq(pgt_set_field(&c.sp, ref, PGT_FIELD_PROT, R), PGT_OK);
	expect_ok(&c, va, PGT_ACC_READ, pa_for(size_at(c.a, 0)), "once valid");
	/* Reserved superpages too. */
	for (unsigned l = 1; l < c.a->levels; l++) {
		if (!c.a->level[l].leaf_ok)
			continue;
		pgt_vaddr_t sva = region(&c, 0) + size_at(c.a, l);
		map_leaf(&c, sva, l, pa_for(size_at(c.a, l)), 0);
		expect_fault(&c, sva + size_at(c.a, l) - 1, PGT_ACC_EXEC, PGT_FAULT_NOT_PRESENT, l,
			     "reserved superpage");
	}
	ctx_close(&c);
}
END_TEST

struct malformed_case {
	const struct pgt_arch *a;
	unsigned leaf_level;  /* a leaf of this level is mapped first */
	unsigned level;       /* the entry corrupted on its walk */
	pgt_pte_t set, clear; /* bits set and cleared in that entry */
	int kind;
	const char *what;
};

static const struct malformed_case malformed[] = {
	/* SDM 4.5, table 4-15: PS (bit 7) is reserved in a PML4E; 4.7: #PF with RSVD. */
	{ &pgt_arch_x86_64, 0, 3, BIT(7), 0, PGT_FAULT_RESERVED_BIT, "PS in a PML4E" },
	{ &pgt_arch_x86_64_la57, 0, 4, BIT(7), 0, PGT_FAULT_RESERVED_BIT, "PS in a PML5E" },
	{ &pgt_arch_x86_64_la57, 0, 3, BIT(7), 0, PGT_FAULT_RESERVED_BIT, "PS in a PML4E (LA57)" },
	/* Table 4-18: bits 20:13 of a 2M PDE are reserved; table 4-16: 29:13 of a 1G PDPTE. */
	{ &pgt_arch_x86_64, 1, 1, BIT(13), 0, PGT_FAULT_RESERVED_BIT, "bit 13 of a 2M PDE" },
	{ &pgt_arch_x86_64, 1, 1, BIT(20), 0, PGT_FAULT_RESERVED_BIT, "bit 20 of a 2M PDE" },
	{ &pgt_arch_x86_64, 2, 2, BIT(29), 0, PGT_FAULT_RESERVED_BIT, "bit 29 of a 1G PDPTE" },
	{ &pgt_arch_x86_64_la57, 2, 2, BIT(13), 0, PGT_FAULT_RESERVED_BIT, "bit 13 of a 1G PDPTE (LA57)" },
	/* ARMv8 (D8.3): a block at level 0 of the 4K granule (here level 3) is invalid. */
	{ &pgt_arch_armv8_4k_48, 0, 3, 0, BIT(1), PGT_FAULT_NOT_PRESENT, "block at 4K level 0" },
	/* 16K granule, level 1 (here level 2): no blocks without FEAT_LPA2. */
	{ &pgt_arch_armv8_16k_47, 0, 2, 0, BIT(1), PGT_FAULT_NOT_PRESENT, "block at 16K level 1" },
	/* 0b01 at the last level is reserved. */
	{ &pgt_arch_armv8_4k_39, 0, 0, 0, BIT(1), PGT_FAULT_NOT_PRESENT, "0b01 at level 3" },
	{ &pgt_arch_armv8_64k_42, 0, 0, 0, BIT(1), PGT_FAULT_NOT_PRESENT, "0b01 at 64K level 3" },
	/* RES0 bits: [50:48] of a table descriptor, [49:48] and [20:17] of a 2M block. */
	{ &pgt_arch_armv8_4k_48, 0, 2, BIT(48), 0, PGT_FAULT_NOT_PRESENT, "bit 48 of a table descriptor" },
	{ &pgt_arch_armv8_4k_39, 1, 1, BIT(49), 0, PGT_FAULT_NOT_PRESENT, "bit 49 of a block" },
	{ &pgt_arch_armv8_4k_39, 1, 1, BIT(17), 0, PGT_FAULT_NOT_PRESENT, "bit 17 of a 2M block" },
	/* 16K granule: bits [13:12] below a next-table address. */
	{ &pgt_arch_armv8_16k_47, 0, 1, BIT(12), 0, PGT_FAULT_NOT_PRESENT,
	  "bit 12 of a 16K table descriptor" },
	/* 64K granule page: bits [15:12] are OA[51:48] only with FEAT_LPA. */
	{ &pgt_arch_armv8_64k_42, 0, 0, BIT(15), 0, PGT_FAULT_NOT_PRESENT, "bit 15 of a 64K page" },
};

START_TEST(test_malformed)
{
	const struct malformed_case *m = &malformed[_i];
	struct ctx c;

	ctx_open(&c, m->a, 0, TEST_MM_OFFSET);
	pgt_vaddr_t va = region(&c, 0);
	pgt_paddr_t pa = pa_for(size_at(c.a, m->leaf_level));
	map_leaf(&c, va, m->leaf_level, pa, R | W | X);
	expect_ok(&c, va, PGT_ACC_READ, pa, m->what);
	pgt_pte_t *e = entry_at(&c, va, m->level), saved = *e;
	*e = (*e | m->set) & ~m->clear;
	for (unsigned k = 0; k < 6; k++)
		expect_fault(&c, va, accesses[k], m->kind, m->level, m->what);
	*e = saved;
	expect_ok(&c, va, PGT_ACC_WRITE, pa, m->what);
	ctx_close(&c);
}
END_TEST

/* Bits that look odd but are not reserved do not fault. */
START_TEST(test_not_malformed)
{
	struct ctx c;

	/* x86 PAT (bit 12) of a 2M PDE; ARM nT (bit 16) of a block, DBM (bit 51). */
	ctx_open(&c, &pgt_arch_x86_64, 0, TEST_MM_OFFSET);
	pgt_ref_t ref = map_leaf(&c, 0x40000000ull, 1, 0x200000, R);
	*ref.pte |= BIT(12);
	expect_ok(&c, 0x40000000ull + 5, PGT_ACC_READ, 0x200005, "PAT bit of a 2M page");
	ctx_close(&c);
	ctx_open(&c, &pgt_arch_armv8_4k_48, 0, TEST_MM_OFFSET);
	ref = map_leaf(&c, 0x40000000ull, 1, 0x200000, R);
	*ref.pte |= BIT(16) | BIT(51);
	expect_ok(&c, 0x40000000ull + 5, PGT_ACC_READ, 0x200005, "nT and DBM of a block");
	ctx_close(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Page offsets, accessed and dirty bits                                     */

START_TEST(test_page_offset)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);
	uint64_t seed = 77 + (uint64_t)_i;

	ck_assert_uint_lt((unsigned)_i, n);
	struct ctx c;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_OFFSET);
	for (unsigned l = 0; l < c.a->levels; l++) {
		if (!c.a->level[l].leaf_ok)
			continue;
		uint64_t size = size_at(c.a, l);
		pgt_vaddr_t va = slot_va(&c, 1, l, 2);
		pgt_paddr_t pa = pa_for(size);
		map_leaf(&c, va, l, pa, R);
		for (int k = 0; k < 32; k++) {
			uint64_t off = test_rand(&seed) & (size - 1);
			expect_ok(&c, va + off, PGT_ACC_READ, pa + off, "random offset");
		}
		expect_ok(&c, va + size - 1, PGT_ACC_READ, pa + size - 1, "last byte");
	}
	ctx_close(&c);
}
END_TEST

/*
 * x86: A in every entry used (SDM 4.8), D in the leaf on a write; nothing on
 * a fault. The library writes its table entries with A set, so a walk that
 * sets A and D writes none of them: it writes the leaf alone.
 */
START_TEST(test_x86_set_ad)
{
	const struct pgt_arch *a = _i ? &pgt_arch_x86_64_la57 : &pgt_arch_x86_64;
	struct ctx c;

	ctx_open(&c, a, 0, TEST_MM_HOOK);
	pgt_vaddr_t va = 0xffffc00000401000ull;
	pgt_ref_t ref = map_leaf(&c, va, 0, 0x5000, R);
	unsigned root = a->levels - 1u;
	pgt_pte_t tables[PGT_MAX_LEVELS];

	for (unsigned l = 1; l <= root; l++) {
		tables[l] = *entry_at(&c, va, l);
		ck_assert_msg(tables[l] & BIT(5), "table entry at level %u written without A", l);
	}
	expect_ok(&c, va, PGT_ACC_READ, 0x5000, "read, no SET_AD");
	ck_assert_msg(!(*ref.pte & BIT(5)), "A set in the leaf without SET_AD");
	expect_fault(&c, va, PGT_ACC_WRITE | PGT_ACC_SET_AD, PGT_FAULT_PERMISSION, 0, "write to RO page");
	ck_assert_msg(!(*ref.pte & (BIT(5) | BIT(6))), "A/D set in the leaf by a fault");
	expect_ok(&c, va, PGT_ACC_READ | PGT_ACC_SET_AD, 0x5000, "read with SET_AD");
	ck_assert_msg(*ref.pte & BIT(5), "A clear in the leaf");
	ck_assert_msg(!(*ref.pte & BIT(6)), "D set by a read");
	ck_assert_int_eq(pgt_set_field(&c.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
	expect_ok(&c, va, PGT_ACC_WRITE | PGT_ACC_SET_AD, 0x5000, "write with SET_AD");
	ck_assert_msg(*ref.pte & BIT(6), "D clear after a write");
	uint64_t d = 0;
	ck_assert_int_eq(pgt_get_field(&c.sp, ref, PGT_FIELD_DIRTY, &d), PGT_OK);
	ck_assert_uint_eq(d, 1);
	/* No walk wrote a table entry (and table entries have no D). */
	for (unsigned l = 1; l <= root; l++)
		ck_assert_msg(*entry_at(&c, va, l) == tables[l], "table entry at level %u changed: %#llx", l,
			      (unsigned long long)*entry_at(&c, va, l));
	/* A table entry whose A someone cleared gets it again from the next walk that sets A. */
	*entry_at(&c, va, root) &= ~BIT(5);
	expect_ok(&c, va, PGT_ACC_READ | PGT_ACC_SET_AD, 0x5000, "read with SET_AD, root's A cleared");
	ck_assert_msg(*entry_at(&c, va, root) == tables[root], "root entry %#llx",
		      (unsigned long long)*entry_at(&c, va, root));
	ctx_close(&c);
}
END_TEST

/* ARM: AF clear gives an access-flag fault before any permission fault; SET_AD sets it instead. */
START_TEST(test_arm_access_flag)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);

	ck_assert_uint_lt((unsigned)_i, n);
	if (!is_arm(v[_i].a))
		return;
	struct ctx c;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_OFFSET);
	for (unsigned l = 0; l < c.a->levels; l++) {
		if (!c.a->level[l].leaf_ok)
			continue;
		uint64_t size = size_at(c.a, l);
		pgt_vaddr_t va = region(&c, 0) + size;
		pgt_paddr_t pa = pa_for(size);
		pgt_ref_t ref = map_leaf(&c, va, l, pa, R); /* EL1 read-only */
		*ref.pte &= ~BIT(10);
		for (unsigned k = 0; k < 6; k++)
			expect_fault(&c, va, accesses[k], PGT_FAULT_ACCESS_FLAG, l, "AF clear");
		/* With SET_AD a permission fault stays one, and AF stays clear. */
		expect_fault(&c, va, PGT_ACC_WRITE | PGT_ACC_SET_AD, PGT_FAULT_PERMISSION, l,
			     "AF clear, RO write");
		ck_assert_msg(!(*ref.pte & BIT(10)), "AF set by a faulting access");
		expect_ok(&c, va, PGT_ACC_READ | PGT_ACC_SET_AD, pa, "AF clear, SET_AD read");
		ck_assert_msg(*ref.pte & BIT(10), "AF not set");
		ck_assert_msg(!(*ref.pte & BIT(55)), "dirty set by a read");
		expect_ok(&c, va, PGT_ACC_READ, pa, "after AF set");
		ck_assert_int_eq(pgt_set_field(&c.sp, ref, PGT_FIELD_PROT, R | W), PGT_OK);
		expect_ok(&c, va, PGT_ACC_WRITE | PGT_ACC_SET_AD, pa, "SET_AD write");
		uint64_t d = 0;
		ck_assert_int_eq(pgt_get_field(&c.sp, ref, PGT_FIELD_DIRTY, &d), PGT_OK);
		ck_assert_uint_eq(d, 1);
		/* No table entry changed: ARMv8.0 has no table AF. */
		for (unsigned tl = l + 1; tl < c.a->levels; tl++)
			ck_assert_msg((*entry_at(&c, va, tl) & ~c.a->level[tl].table_oa & ~c.a->level[tl].table_count) == 3,
				      "table entry at level %u changed", tl);
	}
	ctx_close(&c);
}
END_TEST

/*
 * A store made to an entry between the walk and the accessed-bit update is
 * not lost: the p2v hook below changes the root entry (an ignored bit) the
 * first time the walk reaches the next table, after the root entry was read.
 */
static pgt_pte_t *racing_entry;
static pgt_pte_t racing_bit;

static void *racing_p2v(void *ctx, pgt_paddr_t pa)
{
	struct test_mm *t = ctx;

	if (racing_entry) {
		__atomic_fetch_or(racing_entry, racing_bit, __ATOMIC_SEQ_CST);
		racing_entry = NULL;
	}
	t->p2v_calls++;
	return test_mm_p2v(t, pa);
}

START_TEST(test_set_ad_race)
{
	struct ctx c;

	test_mm_init(&c.t, TEST_MM_HOOK);
	c.t.mm.p2v = racing_p2v;
	c.a = &pgt_arch_x86_64;
	c.flags = 0;
	snprintf(c.who, sizeof c.who, "x86_64 racing");
	ck_assert_int_eq(pgt_space_init(&c.sp, c.a, &c.t.mm, 0), PGT_OK);
	pgt_vaddr_t va = 0x1000;
	map_leaf(&c, va, 0, 0x7000, R | W);
	racing_bit = BIT(9); /* ignored in a PML4E (table 4-15) */
	racing_entry = entry_at(&c, va, 3);
	/* the library writes table entries with A set: as a kernel scanning them would, clear it */
	*racing_entry &= ~BIT(5);
	long calls = c.t.p2v_calls;
	expect_ok(&c, va, PGT_ACC_WRITE | PGT_ACC_SET_AD, 0x7000, "racing write");
	ck_assert_msg(racing_entry == NULL, "the race did not happen");
	pgt_pte_t root = *entry_at(&c, va, 3);
	ck_assert_msg((root & BIT(9)) && (root & BIT(5)), "root entry %#llx lost a store",
		      (unsigned long long)root);
	/* The walk was done twice: three table reads each. */
	ck_assert_int_eq(c.t.p2v_calls - calls, 6);
	ck_assert_msg(*entry_at(&c, va, 0) & BIT(6), "leaf not dirty");
	ctx_close(&c);
}
END_TEST

/*
 * Trees made by pgt_map: what translate says agrees with pgt_lookup and the
 * leaf's PROT field, by the rules the library's encodings imply (x86-64: a
 * user access needs USER, a supervisor one does not; ARMv8: EL1 may not
 * execute an EL0-accessible page, as the encoder sets PXN there).
 */
static bool prot_allows(const struct pgt_arch *a, unsigned prot, unsigned access)
{
	bool user = access & PGT_ACC_USER;
	unsigned kind = access & (PGT_ACC_READ | PGT_ACC_WRITE | PGT_ACC_EXEC);
	bool right = kind == PGT_ACC_READ ? (prot & R) : kind == PGT_ACC_WRITE ? (prot & W) : (prot & X);

	if (is_arm_s2(a)) /* stage 2: every right alone, for EL0 and EL1 alike */
		return right;
	if (!(prot & R) || !right)
		return false;
	if (a->stage == 2) /* EPT, the RISC-V G-stage: no user/supervisor distinction */
		return true;
	if (user)
		return prot & U;
	if (is_riscv(a)) /* SUM = 0: the supervisor touches no user page */
		return !(prot & U);
	return !(is_arm(a) && kind == PGT_ACC_EXEC && (prot & U));
}

START_TEST(test_translate_after_map)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);
	uint64_t seed = 0x3a9 + (uint64_t)_i;
	static const unsigned map_prots[] = { 0,     R,         R | W,     R | X,        R | W | X,
					      R | U, R | W | U, R | X | U, R | W | X | U };

	ck_assert_uint_lt((unsigned)_i, n);
	struct ctx c;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_OFFSET);
	uint64_t page = size_at(c.a, 0), big = size_at(c.a, 1);
	pgt_vaddr_t base = region(&c, 0);
	for (int k = 0; k < 40; k++) {
		pgt_vaddr_t va = base + (test_rand(&seed) % (8 * big)) / page * page;
		uint64_t size = (1 + test_rand(&seed) % 4) * ((k & 1) ? big : page);
		unsigned prot = map_prots[test_rand(&seed) % (sizeof map_prots / sizeof map_prots[0])];
		int rc = pgt_map(&c.sp, va, (va - base) + big, size, prot, PGT_MAP_REPLACE);
		ck_assert_msg(rc == PGT_OK, "%s: map: %d", c.who, rc);
	}
	unsigned checked = 0;
	for (int k = 0; k < 2000; k++) {
		pgt_vaddr_t va = base + test_rand(&seed) % (10 * big);
		pgt_ref_t ref;
		uint64_t prot = 0, paddr = 0;
		bool mapped = pgt_lookup(&c.sp, va, &ref) == PGT_OK;
		if (mapped) {
			ck_assert_int_eq(pgt_get_field(&c.sp, ref, PGT_FIELD_PROT, &prot), PGT_OK);
			ck_assert_int_eq(pgt_get_field(&c.sp, ref, PGT_FIELD_PADDR, &paddr), PGT_OK);
		}
		unsigned access = accesses[k % 6];
		pgt_paddr_t want = paddr + (va & ((1ull << ref.page_shift) - 1));
		if (mapped && prot_allows(c.a, (unsigned)prot, access)) {
			expect_ok(&c, va, access, want, "after pgt_map");
			ck_assert_uint_eq(want, va - base + big); /* what pgt_map was asked for */
			checked++;
		} else if (mapped && (prot & (R | W | X))) {
			expect_fault(&c, va, access, PGT_FAULT_PERMISSION, ref.level, "after pgt_map");
		} else {
			struct pgt_fault f;
			ck_assert_int_eq(pgt_translate(&c.sp, va, access, NULL, &f), PGT_EFAULT);
			ck_assert_int_eq(f.kind, PGT_FAULT_NOT_PRESENT);
			if (mapped)
				ck_assert_uint_eq(f.level, ref.level);
		}
	}
	ck_assert_uint_gt(checked, 100);
	ctx_close(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Bad input                                                                 */

START_TEST(test_bad_input)
{
	struct variant v[MAX_VARIANTS];
	unsigned n = variants(v);

	ck_assert_uint_lt((unsigned)_i, n);
	struct ctx c;
	ctx_open(&c, v[_i].a, v[_i].flags, TEST_MM_HOOK);
	pgt_vaddr_t va = region(&c, 0);
	map_leaf(&c, va, 0, pa_for(size_at(c.a, 0)), R);
	struct pgt_fault f = { .kind = 99, .level = 99, .va = 99 };
	pgt_paddr_t pa = 99;
	const unsigned bad_access[] = { 0,
					PGT_ACC_USER,
					PGT_ACC_SET_AD,
					PGT_ACC_READ | PGT_ACC_WRITE,
					PGT_ACC_READ | PGT_ACC_EXEC,
					PGT_ACC_WRITE | PGT_ACC_EXEC | PGT_ACC_USER,
					PGT_ACC_READ | 32,
					PGT_ACC_READ | 0x80000000u };

	for (size_t k = 0; k < sizeof bad_access / sizeof bad_access[0]; k++)
		ck_assert_int_eq(pgt_translate(&c.sp, va, bad_access[k], &pa, &f), PGT_EFLAGS);
	/* Outside the space: the first address beyond each end. */
	pgt_vaddr_t out[2] = { test_va_bottom(c.a, c.flags) - 1, test_va_top(c.a, c.flags) + 1 };
	if (c.a->canon == PGT_CANON_SIGN_EXTEND) { /* the non-canonical addresses next to each half */
		out[0] = 1ull << (c.a->va_bits - 1);
		out[1] = (~0ull << (c.a->va_bits - 1)) - 1;
	}
	for (int k = 0; k < 2; k++)
		ck_assert_msg(pgt_translate(&c.sp, out[k], PGT_ACC_READ, &pa, &f) == PGT_ERANGE,
			      "%s: %#llx accepted", c.who, (unsigned long long)out[k]);
	ck_assert_int_eq(pgt_translate(NULL, va, PGT_ACC_READ, &pa, &f), PGT_EINVAL);
	pgt_space_t blank = { 0 };
	ck_assert_int_eq(pgt_translate(&blank, va, PGT_ACC_READ, &pa, &f), PGT_EINVAL);
	/* A p2v hook that returns NULL. */
	c.t.p2v_null = true;
	ck_assert_int_eq(pgt_translate(&c.sp, va, PGT_ACC_READ, &pa, &f), PGT_EHOOK);
	c.t.p2v_null = false;
	ck_assert_msg(f.kind == 99 && f.level == 99 && f.va == 99 && pa == 99,
		      "%s: outputs written on EINVAL", c.who);
	ck_assert_int_eq(pgt_translate(&c.sp, va, PGT_ACC_READ, NULL, NULL), PGT_OK);
	ctx_close(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Runner                                                                    */

static Suite *translate_suite(void)
{
	Suite *s = suite_create("translate");
	struct variant v[MAX_VARIANTS];
	int nv = (int)variants(v);
	TCase *tc;

	tc = tcase_create("rights");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_rights_every_level, 0, nv);
	tcase_add_loop_test(tc, test_rights_mixed_levels, 0, nv);
	tcase_add_test(tc, test_rights_fake_levels);
	tcase_add_loop_test(tc, test_rights_no_skip, 0, nv);
	tcase_add_test(tc, test_x86_golden);
	tcase_add_test(tc, test_arm_golden);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_not_present_levels, 0, nv);
	tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof malformed / sizeof malformed[0]));
	tcase_add_test(tc, test_not_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("addresses and status bits");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_page_offset, 0, nv);
	tcase_add_loop_test(tc, test_x86_set_ad, 0, 2);
	tcase_add_loop_test(tc, test_arm_access_flag, 0, nv);
	tcase_add_test(tc, test_set_ad_race);
	tcase_add_loop_test(tc, test_translate_after_map, 0, nv);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad input");
	tcase_add_loop_test(tc, test_bad_input, 0, nv);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = test_run_suite(translate_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
