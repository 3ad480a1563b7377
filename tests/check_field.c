/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the fields and link words of a leaf (lib/field.c): the
 * L4 ADT's get/set operations, on every page size of every shipped
 * descriptor.
 *
 * Covers: pgt_get_field/pgt_set_field round-trips for PADDR, READ, WRITE,
 * EXEC, USER, CACHED, GLOBAL, ACCESSED, DIRTY and PROT; bad values (PADDR
 * misaligned: PGT_EALIGN, or beyond the physical width: PGT_ERANGE;
 * booleans other than 0 and 1: PGT_EINVAL; PROT bits outside PGT_PROT_ALL:
 * PGT_EFLAGS) and rights without read (PGT_ENOTSUP; execute alone is
 * taken where the format has execute-only leaves, RISC-V, and every
 * combination on ARMv8 stage 2, which drops USER and GLOBAL) leave the entry
 * unchanged; the first right
 * making the entry valid in hardware and the last one taken making it a
 * reserved leaf again, still found and still conflicting; field writes
 * keeping the other fields; bad refs and pointers (PGT_EINVAL), unknown
 * fields (PGT_EFLAGS);
 * link words (PGT_SPACE_LINKS) holding node ^ va one table size after the
 * entry, zeroed in new tables, and PGT_ENOTSUP without the flag.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/armv8.h>
#include <pgtable/riscv.h>
#include <pgtable/x86_64.h>
#include <pgtable/ept.h>

#include "harness.h"

/* --- small helpers ------------------------------------------------------------ */

static const char *const field_names[PGT_FIELD_COUNT] = {
	[PGT_FIELD_PADDR] = "PADDR",   [PGT_FIELD_READ] = "READ",         [PGT_FIELD_WRITE] = "WRITE",
	[PGT_FIELD_EXEC] = "EXEC",     [PGT_FIELD_USER] = "USER",         [PGT_FIELD_CACHED] = "CACHED",
	[PGT_FIELD_GLOBAL] = "GLOBAL", [PGT_FIELD_ACCESSED] = "ACCESSED", [PGT_FIELD_DIRTY] = "DIRTY",
	[PGT_FIELD_PROT] = "PROT",
};

static const char *fname(enum pgt_field f)
{
	return (unsigned)f < PGT_FIELD_COUNT ? field_names[f] : "(bad field)";
}

/** The boolean fields, PADDR and PROT aside. */
static const enum pgt_field bool_fields[] = {
	PGT_FIELD_READ,   PGT_FIELD_WRITE,  PGT_FIELD_EXEC,     PGT_FIELD_USER,
	PGT_FIELD_CACHED, PGT_FIELD_GLOBAL, PGT_FIELD_ACCESSED, PGT_FIELD_DIRTY,
};
#define NBOOL (sizeof bool_fields / sizeof bool_fields[0])

/** A space with one leaf of the size of @p level, and a label naming it all. */
struct ctx {
	const struct pgt_arch *a;
	unsigned flags;
	unsigned level;
	pgt_vaddr_t va;
	pgt_ref_t ref;
	struct test_mm t;
	pgt_space_t sp;
	char who[128];
};

/** The families whose bits the tests below spell out. */
enum family { FAM_X86, FAM_ARMV8, FAM_RISCV, FAM_EPT };

static enum family family(const struct pgt_arch *a)
{
	if (strncmp(a->name, "riscv", 5) == 0)
		return FAM_RISCV;
	if (strncmp(a->name, "x86_64-ept", 10) == 0)
		return FAM_EPT;
	return strncmp(a->name, "armv8", 5) == 0 ? FAM_ARMV8 : FAM_X86;
}

/** What @p v written to boolean field @p f reads back: 0 for a bit the format drops (every second stage). */
static uint64_t kept(const struct pgt_arch *a, enum pgt_field f, uint64_t v)
{
	unsigned bit = f == PGT_FIELD_USER ? PGT_PROT_USER : f == PGT_FIELD_GLOBAL ? PGT_PROT_GLOBAL : 0;

	return (test_prot_dropped(a) & bit) ? 0 : v;
}

/** x86-64 and RISC-V: bits above va_bits-1 copy bit va_bits-1; no upper half of its own. */
static bool sign_extended(const struct pgt_arch *a)
{
	return a->canon == PGT_CANON_SIGN_EXTEND;
}

/**
 * The bit DESIGN.md names for "valid in hardware": x86 P, ARMv8 descriptor
 * bit 0, RISC-V V (privileged spec 4.3.1, figure 4.18).
 */
static pgt_pte_t hw_valid_bit(const struct pgt_arch *a)
{
	switch (family(a)) {
	case FAM_X86: return PGT_X86_P;
	case FAM_ARMV8: return PGT_ARMV8_VALID;
	case FAM_EPT: return PGT_EPT_R | PGT_EPT_W | PGT_EPT_X; /* any of them (SDM vol. 3C, EPT) */
	default: return PGT_RISCV_V;
	}
}

/**
 * ARMv8: AF belongs to validity (forced on every valid leaf), ACCESSED is no
 * field of its own on a valid leaf.
 */
static bool accessed_settable(const struct pgt_arch *a)
{
	return family(a) != FAM_ARMV8;
}

/**
 * RISC-V: the codec sets A and D on every valid leaf it encodes (FORMATS.md;
 * Svade hardware then never faults, privileged spec 4.3.1), so ACCESSED and
 * DIRTY read 1 after any change of rights that leaves the entry valid.
 */
static bool codec_sets_ad(const struct pgt_arch *a)
{
	return family(a) == FAM_RISCV;
}

static uint64_t page_size(const struct ctx *c)
{
	return 1ull << c->a->level[c->level].shift;
}

/**
 * Opens a space on @p a with @p flags, its new tables filled with @p fill,
 * and inserts one page of @p level a quarter into the range.
 */
static void ctx_open_fill(struct ctx *c, const struct pgt_arch *a, unsigned level, unsigned flags,
			  enum test_mm_mode m, unsigned char fill)
{
	unsigned span = sign_extended(a) ? a->va_bits - 1u : a->va_bits;

	c->a = a;
	c->flags = flags;
	c->level = level;
	snprintf(c->who, sizeof c->who, "%s 2^%u%s%s (%s)", a->name, a->level[level].shift,
		 (flags & PGT_SPACE_UPPER) ? " upper" : "", (flags & PGT_SPACE_LINKS) ? " links" : "",
		 m == TEST_MM_HOOK ? "hook" : "offset");
	test_mm_init(&c->t, m);
	c->t.fill = fill;
	int rc = pgt_space_init(&c->sp, a, &c->t.mm, flags);
	ck_assert_msg(rc == PGT_OK, "%s: init: %s", c->who, pgt_strerror(rc));
	/* index 3 in its table, so the entries on either side are empty */
	c->va = test_va_bottom(a, flags) + (1ull << (span - 2)) + 3 * page_size(c);
	rc = pgt_insert(&c->sp, c->va, a->level[level].shift, &c->ref);
	ck_assert_msg(rc == PGT_OK, "%s: insert: %s", c->who, pgt_strerror(rc));
	ck_assert_msg(c->ref.level == level, "%s: insert gave level %u", c->who, c->ref.level);
}

static void ctx_open(struct ctx *c, const struct pgt_arch *a, unsigned level, unsigned flags,
		     enum test_mm_mode m)
{
	ctx_open_fill(c, a, level, flags, m, 0xa5);
}

static void ctx_close(struct ctx *c)
{
	struct tree_stats st = tree_check(&c->sp, c->a, &c->t);
	ck_assert_msg(st.problems == 0, "%s: %zu problems in the tree", c->who, st.problems);
	pgt_space_destroy(&c->sp);
	ck_assert_msg(test_mm_outstanding(&c->t) == 0, "%s: %zu frames leaked", c->who,
		      test_mm_outstanding(&c->t));
	ck_assert_msg(c->t.errors == 0 && c->t.allocs == c->t.frees,
		      "%s: %ld bad frees, %ld allocs, %ld frees", c->who, c->t.errors, c->t.allocs,
		      c->t.frees);
	test_mm_fini(&c->t);
}

static uint64_t get(const struct ctx *c, enum pgt_field f)
{
	uint64_t v = 0xdeadbeef;
	int rc = pgt_get_field(&c->sp, c->ref, f, &v);
	ck_assert_msg(rc == PGT_OK, "%s: get %s: %s", c->who, fname(f), pgt_strerror(rc));
	return v;
}

static void set_ok(struct ctx *c, enum pgt_field f, uint64_t v)
{
	int rc = pgt_set_field(&c->sp, c->ref, f, v);
	ck_assert_msg(rc == PGT_OK, "%s: set %s = %#llx: %s (entry %#llx)", c->who, fname(f),
		      (unsigned long long)v, pgt_strerror(rc), (unsigned long long)*c->ref.pte);
}

/** A set that must fail with @p want and leave the entry as it was. */
static void set_fails(struct ctx *c, enum pgt_field f, uint64_t v, int want)
{
	pgt_pte_t before = *c->ref.pte;
	int rc = pgt_set_field(&c->sp, c->ref, f, v);

	ck_assert_msg(rc == want, "%s: set %s = %#llx: got %d (%s), want %d (%s)", c->who, fname(f),
		      (unsigned long long)v, rc, pgt_strerror(rc), want, pgt_strerror(want));
	ck_assert_msg(*c->ref.pte == before, "%s: failed set %s = %#llx changed the entry %#llx -> %#llx",
		      c->who, fname(f), (unsigned long long)v, (unsigned long long)before,
		      (unsigned long long)*c->ref.pte);
}

/** Is the entry valid in hardware? */
static bool hw_valid(const struct ctx *c)
{
	return (*c->ref.pte & hw_valid_bit(c->a)) != 0;
}

/** The entry is a reserved leaf and still behaves as a mapping. */
static void expect_reserved(struct ctx *c, const char *what)
{
	const struct pgt_level *L = &c->a->level[c->level];
	ck_assert_msg(!hw_valid(c) && (*c->ref.pte & L->reserved),
		      "%s: %s: entry %#llx is not a reserved leaf", c->who, what,
		      (unsigned long long)*c->ref.pte);
}

/** Lookup finds the entry, inserting the same page is PGT_EXISTS, a larger one conflicts. */
static void expect_still_mapped(struct ctx *c, const char *what)
{
	const struct pgt_arch *a = c->a;
	pgt_ref_t got = { 0 };
	int rc = pgt_lookup(&c->sp, c->va + page_size(c) - 1, &got);

	ck_assert_msg(rc == PGT_OK && got.pte == c->ref.pte && got.level == c->level,
		      "%s: %s: lookup: %s, entry %p (want %p)", c->who, what, pgt_strerror(rc),
		      (void *)got.pte, (void *)c->ref.pte);
	rc = pgt_insert(&c->sp, c->va, a->level[c->level].shift, &got);
	ck_assert_msg(rc == PGT_EXISTS && got.pte == c->ref.pte, "%s: %s: insert again: %s", c->who, what,
		      pgt_strerror(rc));
	for (unsigned L = c->level + 1u; L < a->levels; L++) {
		if (!a->level[L].leaf_ok)
			continue;
		pgt_vaddr_t big = c->va & ~((1ull << a->level[L].shift) - 1);
		rc = pgt_insert(&c->sp, big, a->level[L].shift, NULL);
		ck_assert_msg(rc == PGT_ECONFLICT, "%s: %s: larger page 2^%u around it: %s", c->who, what,
			      a->level[L].shift, pgt_strerror(rc));
	}
}

/** PGT_PROT_* bits the boolean fields describe. */
static uint64_t prot_from_fields(const struct ctx *c)
{
	return get(c, PGT_FIELD_READ) * PGT_PROT_READ | get(c, PGT_FIELD_WRITE) * PGT_PROT_WRITE |
	       get(c, PGT_FIELD_EXEC) * PGT_PROT_EXEC | get(c, PGT_FIELD_USER) * PGT_PROT_USER |
	       get(c, PGT_FIELD_GLOBAL) * PGT_PROT_GLOBAL;
}


/** The link word of an entry: one table size after it. */
static uint64_t *link_word(const struct ctx *c, pgt_pte_t *pte)
{
	return (uint64_t *)(void *)((char *)pte + c->a->level[c->level].table_size);
}

/** The next level above @p l that holds leaves, or a->levels (level 0 always does). */
static unsigned next_leaf_level(const struct pgt_arch *a, unsigned l)
{
	while (++l < a->levels && !a->level[l].leaf_ok)
		;
	return l;
}

/* --- values --------------------------------------------------------------------- */

/* A fresh leaf: no rights, output address 0, default attributes. */
START_TEST(test_field_initial)
{
	const struct pgt_arch *a = test_archs[_i];

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l))
		for (int m = 0; m < 2; m++) {
			struct ctx c;
			ctx_open(&c, a, l, 0, (enum test_mm_mode)m);
			ck_assert_msg(get(&c, PGT_FIELD_PADDR) == 0, "%s: fresh PADDR not 0", c.who);
			ck_assert_msg(get(&c, PGT_FIELD_PROT) == 0, "%s: fresh PROT %#llx", c.who,
				      (unsigned long long)get(&c, PGT_FIELD_PROT));
			for (size_t i = 0; i < NBOOL; i++) {
				uint64_t v = get(&c, bool_fields[i]);
				uint64_t want = bool_fields[i] == PGT_FIELD_CACHED;
				ck_assert_msg(v == want, "%s: fresh %s is %llu, want %llu", c.who,
					      fname(bool_fields[i]), (unsigned long long)v,
					      (unsigned long long)want);
			}
			expect_reserved(&c, "fresh leaf");
			ctx_close(&c);
		}
}
END_TEST

START_TEST(test_field_paddr)
{
	const struct pgt_arch *a = test_archs[_i];
	uint64_t seed = 0x5eed0000u + (uint64_t)_i;

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l))
		for (int m = 0; m < 2; m++) {
			struct ctx c;
			ctx_open(&c, a, l, 0, (enum test_mm_mode)m);
			uint64_t size = page_size(&c), width = 1ull << a->pa_bits;
			const uint64_t good[] = {
				size,      3 * size, width - size,
				width / 2, 0,        test_rand(&seed) & (width - 1) & ~(size - 1)
			};
			const uint64_t bad[] = { 1,
						 8,
						 size / 2,
						 size - 8,
						 width,
						 width + size,
						 width | size,
						 1ull << 63,
						 ~0ull,
						 ~0ull & ~(size - 1),
						 width - size + 1 };

			for (int valid = 0; valid < 2; valid++) {
				if (valid)
					set_ok(&c, PGT_FIELD_PROT, PGT_PROT_READ | PGT_PROT_WRITE);
				for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
					set_ok(&c, PGT_FIELD_PADDR, good[i]);
					ck_assert_msg(get(&c, PGT_FIELD_PADDR) == good[i],
						      "%s: PADDR %#llx reads back %#llx", c.who,
						      (unsigned long long)good[i],
						      (unsigned long long)get(&c, PGT_FIELD_PADDR));
					ck_assert_msg(hw_valid(&c) == (valid != 0),
						      "%s: PADDR write changed validity", c.who);
				}
				set_ok(&c, PGT_FIELD_PADDR, 5 * size);
				for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
					/* bits below the page: not aligned; beyond the width: out of range */
					set_fails(&c, PGT_FIELD_PADDR, bad[i],
						  (bad[i] & (size - 1)) ? PGT_EALIGN : PGT_ERANGE);
					ck_assert_msg(get(&c, PGT_FIELD_PADDR) == 5 * size,
						      "%s: PADDR changed by a bad write", c.who);
				}
				struct tree_stats st = tree_check(&c.sp, a, &c.t);
				ck_assert_msg(st.problems == 0 && st.leaves == (size_t)valid,
					      "%s: %zu problems, %zu valid", c.who, st.problems, st.leaves);
			}
			ctx_close(&c);
		}
}
END_TEST

/* Booleans take 0 or 1 only. */
START_TEST(test_field_bool_values)
{
	const struct pgt_arch *a = test_archs[_i];
	const uint64_t bad[] = { 2, 3, 0x100, 1ull << 32, ~0ull };

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l)) {
		struct ctx c;
		ctx_open(&c, a, l, 0, (enum test_mm_mode)(l & 1));
		for (int valid = 0; valid < 2; valid++) {
			if (valid)
				set_ok(&c, PGT_FIELD_PROT, PGT_PROT_READ);
			for (size_t i = 0; i < NBOOL; i++)
				for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
					set_fails(&c, bool_fields[i], bad[k], PGT_EINVAL);
		}
		ctx_close(&c);
	}
}
END_TEST

/* Each boolean reads back what was written, on a reserved and on a valid leaf. */
START_TEST(test_field_bool_roundtrip)
{
	const struct pgt_arch *a = test_archs[_i];
	static const enum pgt_field attrs[] = { PGT_FIELD_USER, PGT_FIELD_CACHED, PGT_FIELD_GLOBAL,
						PGT_FIELD_ACCESSED, PGT_FIELD_DIRTY };

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l))
		for (int m = 0; m < 2; m++) {
			struct ctx c;
			ctx_open(&c, a, l, 0, (enum test_mm_mode)m);
			/* attributes on a reserved leaf: it stays reserved */
			for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
				for (int k = 0; k < 4; k++) {
					uint64_t v = (uint64_t)((k + 1) & 1); /* 1, 0, 1, 0 */
					set_ok(&c, attrs[i], v);
					ck_assert_msg(get(&c, attrs[i]) == kept(a, attrs[i], v),
						      "%s: reserved leaf: %s = %llu reads back %llu", c.who,
						      fname(attrs[i]), (unsigned long long)v,
						      (unsigned long long)get(&c, attrs[i]));
					expect_reserved(&c, fname(attrs[i]));
				}
			set_ok(&c, PGT_FIELD_CACHED, 1);
			/* rights */
			set_ok(&c, PGT_FIELD_READ, 1);
			ck_assert_msg(get(&c, PGT_FIELD_READ) == 1 && hw_valid(&c),
				      "%s: READ = 1 did not take", c.who);
			static const enum pgt_field rights[] = { PGT_FIELD_WRITE, PGT_FIELD_EXEC };
			for (size_t i = 0; i < 2; i++)
				for (int k = 0; k < 4; k++) {
					uint64_t v = (uint64_t)((k + 1) & 1);
					set_ok(&c, rights[i], v);
					ck_assert_msg(get(&c, rights[i]) == v &&
							      get(&c, PGT_FIELD_READ) == 1 && hw_valid(&c),
						      "%s: valid leaf: %s = %llu reads back %llu", c.who,
						      fname(rights[i]), (unsigned long long)v,
						      (unsigned long long)get(&c, rights[i]));
				}
			/* attributes on a valid leaf (ARM's AF is forced on valid leaves: ACCESSED only on
			 * x86 and RISC-V) */
			for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
				if (attrs[i] == PGT_FIELD_ACCESSED && !accessed_settable(a))
					continue;
				for (int k = 0; k < 4; k++) {
					uint64_t v = (uint64_t)(k & 1); /* 0, 1, 0, 1 */
					set_ok(&c, attrs[i], v);
					ck_assert_msg(get(&c, attrs[i]) == kept(a, attrs[i], v) && hw_valid(&c),
						      "%s: valid leaf: %s = %llu reads back %llu", c.who,
						      fname(attrs[i]), (unsigned long long)v,
						      (unsigned long long)get(&c, attrs[i]));
				}
			}
			ctx_close(&c);
		}
}
END_TEST

/**
 * The execute control of a valid leaf made with @p prot: a non-executable
 * leaf has x86-64 NX, or ARMv8 UXN and PXN, set; RISC-V and EPT have an X bit
 * instead (privileged spec 4.3.1, table 4.5), set exactly when EXEC is
 * asked.
 */
static void check_exec_bits(const struct ctx *c, unsigned prot, pgt_pte_t pte)
{
	bool exec = (prot & PGT_PROT_EXEC) != 0;

	if (family(c->a) == FAM_RISCV || family(c->a) == FAM_EPT) {
		pgt_pte_t x = family(c->a) == FAM_RISCV ? PGT_RISCV_X : PGT_EPT_X;
		ck_assert_msg(((pte & x) != 0) == exec, "%s: PROT %#x: leaf %#llx has X = %d", c->who, prot,
			      (unsigned long long)pte, (pte & x) != 0);
		return;
	}
	if (test_write_only(c->a)) { /* ARMv8 stage 2: XN[1:0] 0b10 none, 0b00 every level executes */
		ck_assert_msg((pte & PGT_ARMV8_S2_XN_MASK) == (exec ? 0 : PGT_ARMV8_S2_XN_ALL),
			      "%s: PROT %#x: stage-2 leaf %#llx has XN %llu", c->who, prot, (unsigned long long)pte,
			      (unsigned long long)((pte >> 53) & 3));
		return;
	}
	pgt_pte_t xn = family(c->a) == FAM_X86 ? PGT_X86_NX : (PGT_ARMV8_UXN | PGT_ARMV8_PXN);
	if (!exec)
		ck_assert_msg((pte & xn) == xn, "%s: PROT %#x: non-executable leaf %#llx lacks XN", c->who,
			      prot, (unsigned long long)pte);
}

/* Every PROT value: accepted exactly when expressible, read back whole, valid exactly with a right. */
START_TEST(test_field_prot_all)
{
	const struct pgt_arch *a = test_archs[_i];
	const uint64_t bad[] = { 256, 257, 511, 512, 1ull << 31, 1ull << 32, 1ull << 63, ~0ull };

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l))
		for (int m = 0; m < 2; m++) {
			struct ctx c;
			ctx_open(&c, a, l, 0, (enum test_mm_mode)m);
			set_ok(&c, PGT_FIELD_PADDR, 7 * page_size(&c));
			for (unsigned prot = 0; prot <= PGT_PROT_ALL; prot++) {
				unsigned memtype = prot & PGT_PROT_MEMTYPE;
				if (memtype & (memtype - 1)) {
					set_fails(&c, PGT_FIELD_PROT, prot, PGT_EFLAGS); /* two memory types */
					continue;
				}
				if (!test_prot_expressible(a, prot)) {
					set_fails(&c, PGT_FIELD_PROT, prot, PGT_ENOTSUP);
					continue;
				}
				set_ok(&c, PGT_FIELD_PROT, prot);
				pgt_pte_t pte = *c.ref.pte;
				bool any = (prot & (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC)) != 0;
				unsigned kept_prot = prot & ~test_prot_dropped(a);
				ck_assert_msg(get(&c, PGT_FIELD_PROT) == kept_prot,
					      "%s: PROT %#x reads back %#llx", c.who, prot,
					      (unsigned long long)get(&c, PGT_FIELD_PROT));
				ck_assert_msg(get(&c, PGT_FIELD_CACHED) == !memtype,
					      "%s: PROT %#x: CACHED reads %llu", c.who, prot,
					      (unsigned long long)get(&c, PGT_FIELD_CACHED));
				ck_assert_msg(prot_from_fields(&c) == (kept_prot & ~PGT_PROT_MEMTYPE),
					      "%s: PROT %#x but the single fields say %#llx", c.who, prot,
					      (unsigned long long)prot_from_fields(&c));
				ck_assert_msg(hw_valid(&c) == any, "%s: PROT %#x: entry %#llx valid=%d",
					      c.who, prot, (unsigned long long)pte, hw_valid(&c));
				if (!any)
					expect_reserved(&c, "PROT without rights");
				if (any)
					check_exec_bits(&c, prot, pte);
				if (any && family(a) == FAM_ARMV8)
					ck_assert_msg(pte & PGT_ARMV8_AF,
						      "%s: PROT %#x: valid ARM leaf %#llx lacks AF", c.who,
						      prot, (unsigned long long)pte);
				if (any && codec_sets_ad(a))
					ck_assert_msg((pte & (PGT_RISCV_A | PGT_RISCV_D)) ==
							      (PGT_RISCV_A | PGT_RISCV_D),
						      "%s: PROT %#x: valid RISC-V leaf %#llx lacks A or D",
						      c.who, prot, (unsigned long long)pte);
				ck_assert_msg(get(&c, PGT_FIELD_PADDR) == 7 * page_size(&c),
					      "%s: PROT %#x lost PADDR", c.who, prot);
				struct tree_stats st = tree_check(&c.sp, a, &c.t);
				ck_assert_msg(st.problems == 0 && st.leaves + st.reserved == 1 &&
						      st.leaves == (size_t)any,
					      "%s: PROT %#x: tree has %zu valid, %zu reserved, %zu problems",
					      c.who, prot, st.leaves, st.reserved, st.problems);
			}
			for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
				set_fails(&c, PGT_FIELD_PROT, bad[i], PGT_EFLAGS);
			expect_still_mapped(&c, "after every PROT");
			ctx_close(&c);
		}
}
END_TEST

/**
 * Rights without read, asked of a leaf whose PROT is @p was: refused with
 * PGT_ENOTSUP and the entry unchanged where the format cannot say them;
 * where it can (execute alone on RISC-V, privileged spec 4.3.1 table 4.5),
 * taken, read back, valid in hardware, and then @p was again.
 */
static void no_read(struct ctx *c, unsigned prot, unsigned was)
{
	if (!test_prot_expressible(c->a, prot)) {
		set_fails(c, PGT_FIELD_PROT, prot, PGT_ENOTSUP);
		return;
	}
	ck_assert_msg(test_write_only(c->a) ||
			      (test_exec_only(c->a) && (prot & (PGT_PROT_READ | PGT_PROT_WRITE)) == 0),
		      "%s: PROT %#x expressible without read", c->who, prot);
	set_ok(c, PGT_FIELD_PROT, prot);
	ck_assert_msg(get(c, PGT_FIELD_PROT) == (prot & ~test_prot_dropped(c->a)) && hw_valid(c),
		      "%s: PROT %#x without read: %#llx", c->who, prot, (unsigned long long)*c->ref.pte);
	set_ok(c, PGT_FIELD_PROT, was);
}

/*
 * Write without read cannot be expressed: PGT_ENOTSUP, entry unchanged.
 * Execute without read neither, except where the format has execute-only
 * leaves.
 */
START_TEST(test_field_need_read)
{
	const struct pgt_arch *a = test_archs[_i];
	static const unsigned no_reads[] = {
		PGT_PROT_WRITE,
		PGT_PROT_EXEC,
		PGT_PROT_WRITE | PGT_PROT_EXEC,
		PGT_PROT_WRITE | PGT_PROT_USER,
		PGT_PROT_EXEC | PGT_PROT_GLOBAL | PGT_PROT_UNCACHED,
	};
	bool xo = test_exec_only(a);

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l)) {
		struct ctx c;
		ctx_open(&c, a, l, 0, (enum test_mm_mode)(l & 1));
		set_ok(&c, PGT_FIELD_PADDR, page_size(&c));
		/* from a reserved leaf */
		if (test_write_only(a)) {
			set_ok(&c, PGT_FIELD_WRITE, 1);
			ck_assert_msg(get(&c, PGT_FIELD_PROT) == PGT_PROT_WRITE && hw_valid(&c),
				      "%s: WRITE = 1 on a reserved leaf: %#llx", c.who,
				      (unsigned long long)*c.ref.pte);
			set_ok(&c, PGT_FIELD_WRITE, 0);
			expect_reserved(&c, "write-only taken back");
		} else {
			set_fails(&c, PGT_FIELD_WRITE, 1, PGT_ENOTSUP);
		}
		if (xo) {
			set_ok(&c, PGT_FIELD_EXEC, 1);
			ck_assert_msg(get(&c, PGT_FIELD_PROT) == PGT_PROT_EXEC && hw_valid(&c),
				      "%s: EXEC = 1 on a reserved leaf: %#llx", c.who,
				      (unsigned long long)*c.ref.pte);
			set_ok(&c, PGT_FIELD_EXEC, 0);
			expect_reserved(&c, "execute-only taken back");
		} else {
			set_fails(&c, PGT_FIELD_EXEC, 1, PGT_ENOTSUP);
		}
		for (size_t i = 0; i < sizeof no_reads / sizeof no_reads[0]; i++)
			no_read(&c, no_reads[i], 0);
		expect_reserved(&c, "after refused rights");
		ck_assert_msg(get(&c, PGT_FIELD_PADDR) == page_size(&c), "%s: PADDR lost", c.who);
		/* taking read away while write or exec remain */
		static const unsigned with_rw[] = { PGT_PROT_READ | PGT_PROT_WRITE,
						    PGT_PROT_READ | PGT_PROT_EXEC,
						    PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC |
							    PGT_PROT_USER };
		for (size_t i = 0; i < 3; i++) {
			unsigned left = with_rw[i] & ~(unsigned)PGT_PROT_READ;
			set_ok(&c, PGT_FIELD_PROT, with_rw[i]);
			if (test_prot_expressible(a, left)) {
				set_ok(&c, PGT_FIELD_READ, 0);
				ck_assert_msg(get(&c, PGT_FIELD_PROT) == (left & ~test_prot_dropped(a)) && hw_valid(&c),
					      "%s: READ = 0 from PROT %#x: %#llx", c.who, with_rw[i],
					      (unsigned long long)*c.ref.pte);
				set_ok(&c, PGT_FIELD_READ, 1);
			} else {
				set_fails(&c, PGT_FIELD_READ, 0, PGT_ENOTSUP);
			}
			for (size_t k = 0; k < sizeof no_reads / sizeof no_reads[0]; k++)
				no_read(&c, no_reads[k], with_rw[i]);
			ck_assert_msg(get(&c, PGT_FIELD_PROT) == (with_rw[i] & ~test_prot_dropped(a)),
				      "%s: refused write changed PROT",
				      c.who);
		}
		ctx_close(&c);
	}
}
END_TEST

/* The first right makes the entry valid; the last one taken makes it reserved: mapped all along. */
START_TEST(test_field_valid_cycle)
{
	const struct pgt_arch *a = test_archs[_i];

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l))
		for (unsigned upper = 0; upper < (test_has_upper(a) ? 2u : 1u); upper++) {
			struct ctx c;
			ctx_open(&c, a, l, upper ? PGT_SPACE_UPPER : 0, (enum test_mm_mode)upper);
			set_ok(&c, PGT_FIELD_PADDR, 2 * page_size(&c));
			expect_reserved(&c, "fresh leaf");
			expect_still_mapped(&c, "reserved");

			set_ok(&c, PGT_FIELD_READ, 1);
			ck_assert_msg(hw_valid(&c), "%s: READ did not make %#llx valid", c.who,
				      (unsigned long long)*c.ref.pte);
			expect_still_mapped(&c, "valid after READ");
			set_ok(&c, PGT_FIELD_READ, 0);
			expect_reserved(&c, "after READ taken away");
			expect_still_mapped(&c, "reserved after READ taken away");

			set_ok(&c, PGT_FIELD_PROT, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC);
			ck_assert_msg(hw_valid(&c), "%s: PROT RWX not valid", c.who);
			set_ok(&c, PGT_FIELD_WRITE, 0);
			ck_assert_msg(hw_valid(&c), "%s: RX not valid", c.who);
			set_ok(&c, PGT_FIELD_EXEC, 0);
			ck_assert_msg(hw_valid(&c), "%s: R not valid", c.who);
			expect_still_mapped(&c, "valid read-only");
			set_ok(&c, PGT_FIELD_READ, 0);
			expect_reserved(&c, "after the last right taken away");
			expect_still_mapped(&c, "reserved again");
			ck_assert_msg(get(&c, PGT_FIELD_PADDR) == 2 * page_size(&c),
				      "%s: PADDR lost in the cycle", c.who);
			struct tree_stats st = tree_check(&c.sp, a, &c.t);
			ck_assert_msg(st.reserved == 1 && st.leaves == 0, "%s: %zu reserved, %zu valid",
				      c.who, st.reserved, st.leaves);
			ctx_close(&c);
		}
}
END_TEST

/** Reads every field but PROT into @p v (indexed by field). */
static void get_all(const struct ctx *c, uint64_t v[PGT_FIELD_COUNT])
{
	v[PGT_FIELD_PADDR] = get(c, PGT_FIELD_PADDR);
	for (size_t i = 0; i < NBOOL; i++)
		v[bool_fields[i]] = get(c, bool_fields[i]);
}

/* Writing one field leaves the others alone. */
START_TEST(test_field_keeps_others)
{
	const struct pgt_arch *a = test_archs[_i];
	static const unsigned bases[] = { PGT_PROT_READ, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC |
								 PGT_PROT_USER | PGT_PROT_GLOBAL |
								 PGT_PROT_UNCACHED };
	static const enum pgt_field toggles[] = { PGT_FIELD_WRITE,  PGT_FIELD_EXEC,   PGT_FIELD_USER,
						  PGT_FIELD_CACHED, PGT_FIELD_GLOBAL, PGT_FIELD_ACCESSED,
						  PGT_FIELD_DIRTY };

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l))
		for (size_t b = 0; b < 2; b++) {
			struct ctx c;
			ctx_open(&c, a, l, 0, (enum test_mm_mode)b);
			uint64_t pa = (1ull << (a->pa_bits - 1)) + 9 * page_size(&c);
			set_ok(&c, PGT_FIELD_PADDR, pa);
			set_ok(&c, PGT_FIELD_PROT, bases[b]);
			/*
			 * RISC-V: a rights change sets A and D again, so the toggles start with
			 * them set (and toggle them too); elsewhere they keep what was written.
			 */
			uint64_t ad = codec_sets_ad(a) ? 1 : b;
			set_ok(&c, PGT_FIELD_DIRTY, ad);
			if (accessed_settable(a))
				set_ok(&c, PGT_FIELD_ACCESSED, ad);
			for (size_t i = 0; i < sizeof toggles / sizeof toggles[0]; i++) {
				enum pgt_field f = toggles[i];
				if (f == PGT_FIELD_ACCESSED && !accessed_settable(a))
					continue; /* AF belongs to validity on ARMv8 */
				if (kept(a, f, 1) == 0)
					continue; /* a bit the format drops (ARMv8 stage 2: USER, GLOBAL) */
				uint64_t v0[PGT_FIELD_COUNT], v1[PGT_FIELD_COUNT];
				pgt_pte_t pte0 = *c.ref.pte;
				get_all(&c, v0);
				set_ok(&c, f, !v0[f]);
				get_all(&c, v1);
				for (unsigned g = 0; g < PGT_FIELD_PROT; g++)
					ck_assert_msg(v1[g] == (g == (unsigned)f ? !v0[g] : v0[g]),
						      "%s: setting %s changed %s from %#llx to %#llx", c.who,
						      fname(f), fname((enum pgt_field)g),
						      (unsigned long long)v0[g], (unsigned long long)v1[g]);
				ck_assert_msg(get(&c, PGT_FIELD_PROT) ==
						      (prot_from_fields(&c) |
						       (get(&c, PGT_FIELD_CACHED) ? 0 : PGT_PROT_UNCACHED)),
					      "%s: after %s PROT disagrees", c.who, fname(f));
				set_ok(&c, f, v0[f]);
				ck_assert_msg(*c.ref.pte == pte0,
					      "%s: %s there and back: entry %#llx, was %#llx", c.who,
					      fname(f), (unsigned long long)*c.ref.pte,
					      (unsigned long long)pte0);
			}
			/* PADDR survives PROT changes, the reserved state included */
			static const unsigned cycle[] = { PGT_PROT_READ | PGT_PROT_WRITE,
							  0,
							  PGT_PROT_READ | PGT_PROT_UNCACHED,
							  PGT_PROT_USER | PGT_PROT_GLOBAL,
							  PGT_PROT_READ | PGT_PROT_EXEC | PGT_PROT_GLOBAL,
							  PGT_PROT_READ };
			for (size_t k = 0; k < sizeof cycle / sizeof cycle[0]; k++) {
				if (codec_sets_ad(a) && hw_valid(&c)) {
					/* cleared now, set again by the next valid PROT */
					set_ok(&c, PGT_FIELD_DIRTY, b);
					set_ok(&c, PGT_FIELD_ACCESSED, b);
				}
				set_ok(&c, PGT_FIELD_PROT, cycle[k]);
				ck_assert_msg(get(&c, PGT_FIELD_PADDR) == pa, "%s: PROT %#x lost PADDR",
					      c.who, cycle[k]);
				if (family(a) == FAM_X86 || family(a) == FAM_EPT) {
					ck_assert_msg(get(&c, PGT_FIELD_DIRTY) == b,
						      "%s: PROT %#x lost DIRTY", c.who, cycle[k]);
					ck_assert_msg(get(&c, PGT_FIELD_ACCESSED) == b,
						      "%s: PROT %#x lost ACCESSED", c.who, cycle[k]);
				}
				if (codec_sets_ad(a) && hw_valid(&c))
					ck_assert_msg(get(&c, PGT_FIELD_DIRTY) == 1 &&
							      get(&c, PGT_FIELD_ACCESSED) == 1,
						      "%s: valid PROT %#x without A and D: %#llx", c.who,
						      cycle[k], (unsigned long long)*c.ref.pte);
			}
			/* PROT survives PADDR changes */
			set_ok(&c, PGT_FIELD_PROT, bases[b]);
			const uint64_t pas[] = { 0, page_size(&c), (1ull << a->pa_bits) - page_size(&c), pa };
			for (size_t k = 0; k < sizeof pas / sizeof pas[0]; k++) {
				set_ok(&c, PGT_FIELD_PADDR, pas[k]);
				ck_assert_msg(get(&c, PGT_FIELD_PROT) == (bases[b] & ~test_prot_dropped(a)),
					      "%s: PADDR %#llx changed PROT", c.who,
					      (unsigned long long)pas[k]);
				ck_assert_msg(get(&c, PGT_FIELD_DIRTY) == b ||
						      (family(a) != FAM_X86 && family(a) != FAM_EPT),
					      "%s: PADDR change lost DIRTY", c.who);
				ck_assert_msg(get(&c, PGT_FIELD_DIRTY) == 1 || !codec_sets_ad(a),
					      "%s: PADDR change lost DIRTY", c.who);
			}
			ctx_close(&c);
		}
}
END_TEST

/* --- bad refs, fields, pointers ------------------------------------------------- */

/** The entry at @p level on the path to @p va, found by reading the tables directly. */
static pgt_pte_t *raw_entry(const struct ctx *c, unsigned level)
{
	const struct pgt_arch *a = c->a;
	pgt_pte_t *table = test_mm_p2v(&c->t, pgt_space_root(&c->sp));

	for (unsigned l = a->levels - 1u;; l--) {
		const struct pgt_level *L = &a->level[l];
		pgt_pte_t *e = table + ((c->va >> L->shift) & ((1ull << L->bits) - 1));
		if (l == level)
			return e;
		table = test_mm_p2v(&c->t, test_table_pa(L, *e));
	}
}

/** Every operation taking @p ref refuses it with PGT_EINVAL and writes nothing. */
static void expect_bad_ref(struct ctx *c, pgt_ref_t ref, const char *what)
{
	size_t n;
	pgt_pte_t *snap = tree_snapshot(&c->sp, c->a, &c->t, &n);
	uint64_t links[3];
	uint64_t v = 0;
	uintptr_t node = 0;

	for (int i = 0; i < 3; i++)
		links[i] = *link_word(c, c->ref.pte + i - 1);
	for (unsigned f = 0; f < PGT_FIELD_COUNT; f++) {
		int rc = pgt_get_field(&c->sp, ref, (enum pgt_field)f, &v);
		ck_assert_msg(rc == PGT_EINVAL, "%s: %s: get %s: %s", c->who, what, fname((enum pgt_field)f),
			      pgt_strerror(rc));
		rc = pgt_set_field(&c->sp, ref, (enum pgt_field)f, f == PGT_FIELD_PADDR ? 0 : 1);
		ck_assert_msg(rc == PGT_EINVAL, "%s: %s: set %s: %s", c->who, what, fname((enum pgt_field)f),
			      pgt_strerror(rc));
	}
	int rc = pgt_set_link(&c->sp, ref, 0x1234, c->va);
	ck_assert_msg(rc == PGT_EINVAL, "%s: %s: set_link: %s", c->who, what, pgt_strerror(rc));
	rc = pgt_get_link(&c->sp, ref, c->va, &node);
	ck_assert_msg(rc == PGT_EINVAL, "%s: %s: get_link: %s", c->who, what, pgt_strerror(rc));
	ck_assert_msg(tree_unchanged(&c->sp, c->a, &c->t, snap, n), "%s: %s changed the tree", c->who, what);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(*link_word(c, c->ref.pte + i - 1) == links[i], "%s: %s changed a link word",
			      c->who, what);
}

START_TEST(test_field_bad_refs)
{
	const struct pgt_arch *a = test_archs[_i];

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l))
		for (int m = 0; m < 2; m++) {
			struct ctx c;
			ctx_open(&c, a, l, PGT_SPACE_LINKS, (enum test_mm_mode)m);
			pgt_ref_t good = c.ref, r;
			unsigned shift = good.page_shift;

			set_ok(&c, PGT_FIELD_PROT,
			       PGT_PROT_READ); /* a valid leaf, the hardest to tell apart */
			r = good, r.pte = NULL;
			expect_bad_ref(&c, r, "NULL pte");
			r = good, r.pte = (pgt_pte_t *)((uintptr_t)good.pte + 1);
			expect_bad_ref(&c, r, "pte pointer + 1");
			r = good, r.pte = (pgt_pte_t *)((uintptr_t)good.pte + 4);
			expect_bad_ref(&c, r, "pte pointer + 4");
			r = good, r.level = a->levels;
			expect_bad_ref(&c, r, "level == levels");
			r = good, r.level = 255;
			expect_bad_ref(&c, r, "level 255");
			r = good, r.level = UINT_MAX;
			expect_bad_ref(&c, r, "level UINT_MAX");
			r = good, r.page_shift = shift + 1;
			expect_bad_ref(&c, r, "page_shift + 1");
			r = good, r.page_shift = shift - 1;
			expect_bad_ref(&c, r, "page_shift - 1");
			r = good, r.page_shift = 0;
			expect_bad_ref(&c, r, "page_shift 0");
			r = good, r.page_shift = 64;
			expect_bad_ref(&c, r, "page_shift 64");
			r = good, r.page_shift = a->level[l == 0 ? 1 : 0].shift;
			expect_bad_ref(&c, r, "another level's page_shift");
			r = good, r.pte = good.pte + 1;
			expect_bad_ref(&c, r, "empty entry after");
			r = good, r.pte = good.pte - 1;
			expect_bad_ref(&c, r, "empty entry before");
			if (l + 1u < a->levels) {
				r = (pgt_ref_t){ .pte = raw_entry(&c, l + 1u),
						 .level = l + 1u,
						 .page_shift = a->level[l + 1u].shift };
				expect_bad_ref(&c, r, "table entry above the leaf");
			}

			/* bad fields, NULL out-pointers, spaces that are not there */
			static const unsigned bad_fields[] = { PGT_FIELD_COUNT, PGT_FIELD_COUNT + 1, 1000,
							       UINT_MAX };
			uint64_t v;
			pgt_pte_t before = *good.pte;
			for (size_t i = 0; i < sizeof bad_fields / sizeof bad_fields[0]; i++) {
				enum pgt_field f = (enum pgt_field)bad_fields[i];
				ck_assert_msg(pgt_get_field(&c.sp, good, f, &v) == PGT_EFLAGS,
					      "%s: get field %u", c.who, bad_fields[i]);
				ck_assert_msg(pgt_set_field(&c.sp, good, f, 0) == PGT_EFLAGS,
					      "%s: set field %u = 0", c.who, bad_fields[i]);
				ck_assert_msg(pgt_set_field(&c.sp, good, f, 1) == PGT_EFLAGS,
					      "%s: set field %u = 1", c.who, bad_fields[i]);
			}
			for (unsigned f = 0; f < PGT_FIELD_COUNT; f++)
				ck_assert_msg(pgt_get_field(&c.sp, good, (enum pgt_field)f, NULL) ==
						      PGT_EINVAL,
					      "%s: get %s with NULL val", c.who, fname((enum pgt_field)f));
			ck_assert_msg(pgt_get_link(&c.sp, good, c.va, NULL) == PGT_EINVAL,
				      "%s: get_link with NULL node", c.who);
			pgt_space_t dead;
			memset(&dead, 0, sizeof dead);
			ck_assert_msg(pgt_get_field(NULL, good, PGT_FIELD_READ, &v) == PGT_EINVAL,
				      "%s: NULL space", c.who);
			ck_assert_msg(pgt_set_field(NULL, good, PGT_FIELD_READ, 0) == PGT_EINVAL,
				      "%s: NULL space", c.who);
			ck_assert_msg(pgt_set_field(&dead, good, PGT_FIELD_READ, 0) == PGT_EINVAL,
				      "%s: dead space", c.who);
			ck_assert_msg(pgt_set_link(&dead, good, 1, 0) == PGT_EINVAL,
				      "%s: dead space set_link", c.who);
			ck_assert_msg(*good.pte == before, "%s: a refused call changed the entry", c.who);
			ck_assert_msg(*link_word(&c, good.pte) == 0, "%s: a refused call wrote the link word",
				      c.who);
			ctx_close(&c);
		}
}
END_TEST

/* --- link words --------------------------------------------------------------------- */

/* x86-64's codec, except that leaves above level 0 cannot be uncached. */
static int encode_no_uncached_super(unsigned level, unsigned prot, pgt_pte_t *bits)
{
	if (level > 0 && (prot & PGT_PROT_UNCACHED))
		return PGT_ENOTSUP;
	return pgt_arch_x86_64.prot_encode(level, prot, bits);
}

/**
 * Rights that one leaf level can express and another cannot: PROT on a
 * leaf asks only its own level, before and after pgt_map (which needs
 * every level and remembers the encodings it made) and between other
 * rights; the refusal changes nothing.
 */
START_TEST(test_field_prot_per_level)
{
	struct pgt_arch a = pgt_arch_x86_64;
	struct test_mm t;
	pgt_space_t sp;
	pgt_ref_t small, big;
	uint64_t prot;
	const unsigned uc = PGT_PROT_READ | PGT_PROT_UNCACHED, rw = PGT_PROT_READ | PGT_PROT_WRITE;

	a.prot_encode = encode_no_uncached_super;
	test_mm_init(&t, TEST_MM_OFFSET);
	ck_assert_int_eq(pgt_space_init(&sp, &a, &t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_insert(&sp, 0x1000, 12, &small), PGT_OK);
	ck_assert_int_eq(pgt_insert(&sp, 0x400000, 21, &big), PGT_OK);
	for (unsigned round = 0; round < 2; round++) {
		ck_assert_int_eq(pgt_set_field(&sp, small, PGT_FIELD_PROT, uc), PGT_OK);
		ck_assert_int_eq(pgt_get_field(&sp, small, PGT_FIELD_PROT, &prot), PGT_OK);
		ck_assert_uint_eq(prot, uc);
		ck_assert_int_eq(pgt_set_field(&sp, big, PGT_FIELD_PROT, rw), PGT_OK);
		pgt_pte_t before = *big.pte;
		ck_assert_int_eq(pgt_set_field(&sp, big, PGT_FIELD_PROT, uc), PGT_ENOTSUP);
		ck_assert_uint_eq(*big.pte, before);
		ck_assert_int_eq(pgt_set_field(&sp, small, PGT_FIELD_PROT, rw), PGT_OK);
		ck_assert_int_eq(pgt_get_field(&sp, small, PGT_FIELD_PROT, &prot), PGT_OK);
		ck_assert_uint_eq(prot, rw);
		/* pgt_map wants every leaf level: refused, then a map that remembers rw */
		ck_assert_int_eq(pgt_map(&sp, 0x2000, 0x2000, 0x1000, uc, 0), PGT_ENOTSUP);
		ck_assert_int_eq(pgt_map(&sp, 0x3000 + round * 0x1000, 0x3000, 0x1000, rw, 0), PGT_OK);
	}
	pgt_space_destroy(&sp);
	test_mm_fini(&t);
}
END_TEST

START_TEST(test_link_roundtrip)
{
	const struct pgt_arch *a = test_archs[_i];
	uint64_t seed = 0x11c0 + (uint64_t)_i;

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l))
		for (unsigned k = 0; k < (test_has_upper(a) ? 4u : 2u); k++) {
			struct ctx c;
			unsigned flags = PGT_SPACE_LINKS | (k >= 2 ? PGT_SPACE_UPPER : 0);
			ctx_open(&c, a, l, flags, (enum test_mm_mode)(k & 1));
			pgt_ref_t first = c.ref, second;
			ck_assert_msg(pgt_insert(&c.sp, c.va + page_size(&c), a->level[l].shift, &second) ==
					      PGT_OK,
				      "%s: second insert", c.who);
			set_ok(&c, PGT_FIELD_PROT, PGT_PROT_READ | PGT_PROT_WRITE);
			const uintptr_t nodes[] = { 0,
						    1,
						    (uintptr_t)&c,
						    UINTPTR_MAX,
						    (uintptr_t)0x8000000000000000ull,
						    (uintptr_t)test_rand(&seed),
						    (uintptr_t)test_rand(&seed) };
			const pgt_vaddr_t vas[] = {
				c.va, 0, ~0ull, c.va + 5, test_rand(&seed), test_rand(&seed), 1ull << 63
			};

			for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
				uintptr_t node = nodes[i], got = 0;
				pgt_vaddr_t va = vas[i], other = vas[(i + 3) % (sizeof vas / sizeof vas[0])];
				pgt_pte_t pte = *first.pte;
				int rc = pgt_set_link(&c.sp, first, node, va);
				ck_assert_msg(rc == PGT_OK, "%s: set_link: %s", c.who, pgt_strerror(rc));
				ck_assert_msg(*first.pte == pte, "%s: set_link changed the entry", c.who);
				ck_assert_msg(*link_word(&c, first.pte) == ((uint64_t)node ^ va),
					      "%s: link word %#llx, want node %#llx ^ va %#llx", c.who,
					      (unsigned long long)*link_word(&c, first.pte),
					      (unsigned long long)node, (unsigned long long)va);
				rc = pgt_get_link(&c.sp, first, va, &got);
				ck_assert_msg(rc == PGT_OK && got == node,
					      "%s: get_link with the same va: %s, %#llx want %#llx", c.who,
					      pgt_strerror(rc), (unsigned long long)got,
					      (unsigned long long)node);
				rc = pgt_get_link(&c.sp, first, other, &got);
				ck_assert_msg(rc == PGT_OK && got == (uintptr_t)(node ^ va ^ other),
					      "%s: get_link with another va: %#llx, want %#llx", c.who,
					      (unsigned long long)got,
					      (unsigned long long)(node ^ va ^ other));
				/* the entries beside keep their own words */
				ck_assert_msg(*link_word(&c, first.pte - 1) == 0,
					      "%s: set_link wrote the word before", c.who);
				rc = pgt_set_link(&c.sp, second, ~node, other);
				ck_assert_msg(rc == PGT_OK, "%s: set_link on the second page: %s", c.who,
					      pgt_strerror(rc));
				rc = pgt_get_link(&c.sp, first, va, &got);
				ck_assert_msg(rc == PGT_OK && got == node,
					      "%s: the neighbour's set_link changed this one", c.who);
				rc = pgt_get_link(&c.sp, second, other, &got);
				ck_assert_msg(rc == PGT_OK && got == ~node, "%s: second page's link lost",
					      c.who);
			}
			/* link words and fields are independent */
			uintptr_t got = 0;
			ck_assert(pgt_set_link(&c.sp, first, 0xabcd, c.va) == PGT_OK);
			set_ok(&c, PGT_FIELD_PROT, 0);
			set_ok(&c, PGT_FIELD_PADDR, page_size(&c));
			set_ok(&c, PGT_FIELD_PROT, PGT_PROT_READ | PGT_PROT_EXEC);
			ck_assert_msg(pgt_get_link(&c.sp, first, c.va, &got) == PGT_OK && got == 0xabcd,
				      "%s: field writes changed the link word", c.who);
			ck_assert_msg(get(&c, PGT_FIELD_PROT) == (PGT_PROT_READ | PGT_PROT_EXEC) &&
					      get(&c, PGT_FIELD_PADDR) == page_size(&c),
				      "%s: link writes changed fields", c.who);
			ctx_close(&c);
		}
}
END_TEST

START_TEST(test_link_without_flag)
{
	const struct pgt_arch *a = test_archs[_i];

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l))
		for (int m = 0; m < 2; m++) {
			struct ctx c;
			ctx_open(&c, a, l, 0, (enum test_mm_mode)m);
			for (int valid = 0; valid < 2; valid++) {
				uintptr_t node = 0;
				pgt_pte_t before = *c.ref.pte;
				int rc = pgt_set_link(&c.sp, c.ref, 0x1234, c.va);
				ck_assert_msg(rc == PGT_ENOTSUP, "%s: set_link without links: %s", c.who,
					      pgt_strerror(rc));
				rc = pgt_get_link(&c.sp, c.ref, c.va, &node);
				ck_assert_msg(rc == PGT_ENOTSUP, "%s: get_link without links: %s", c.who,
					      pgt_strerror(rc));
				ck_assert_msg(*c.ref.pte == before, "%s: refused link call changed the entry",
					      c.who);
				set_ok(&c, PGT_FIELD_READ, 1);
			}
			ctx_close(&c);
		}
}
END_TEST

/* New tables of a links space come full of garbage; every link word must start at 0. */
START_TEST(test_link_new_tables_zeroed)
{
	const struct pgt_arch *a = test_archs[_i];
	static const unsigned char fills[] = { 0xa5, 0xff };

	for (unsigned l = 0; l < a->levels; l = next_leaf_level(a, l))
		for (size_t fi = 0; fi < 2; fi++) {
			struct ctx c;
			ctx_open_fill(&c, a, l, PGT_SPACE_LINKS, (enum test_mm_mode)fi, fills[fi]);
			pgt_ref_t far;
			pgt_vaddr_t fva =
				c.va + (1ull << a->level[a->levels - 1u].shift); /* another root slot */
			ck_assert_msg(pgt_insert(&c.sp, fva, a->level[l].shift, &far) == PGT_OK,
				      "%s: far insert", c.who);
			for (size_t i = 0; i < c.t.nslots; i++) {
				const struct test_frame *f = &c.t.slots[i];
				if (!f->mem)
					continue;
				const uint64_t *w = (const uint64_t *)f->mem;
				size_t words = f->size / sizeof *w;
				for (size_t k = words / 2; k < words; k++)
					ck_assert_msg(
						w[k] == 0,
						"%s fill %#x: link word %zu of a level-%u table is %#llx",
						c.who, fills[fi], k - words / 2, f->level,
						(unsigned long long)w[k]);
			}
			uintptr_t got = 1;
			ck_assert_msg(pgt_get_link(&c.sp, c.ref, 0, &got) == PGT_OK && got == 0,
				      "%s: fresh link not 0", c.who);
			ck_assert_msg(pgt_get_link(&c.sp, far, fva, &got) == PGT_OK && got == (uintptr_t)fva,
				      "%s: fresh link read with va is not va", c.who);
			ctx_close(&c);
		}
}
END_TEST

/* --- runner ------------------------------------------------------------------- */

static Suite *field_suite(void)
{
	Suite *s = suite_create("field");
	TCase *tc;
	int na = (int)test_narchs;

	tc = tcase_create("fields");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_field_initial, 0, na);
	tcase_add_loop_test(tc, test_field_paddr, 0, na);
	tcase_add_loop_test(tc, test_field_bool_values, 0, na);
	tcase_add_loop_test(tc, test_field_bool_roundtrip, 0, na);
	tcase_add_loop_test(tc, test_field_prot_all, 0, na);
	tcase_add_loop_test(tc, test_field_need_read, 0, na);
	tcase_add_loop_test(tc, test_field_valid_cycle, 0, na);
	tcase_add_loop_test(tc, test_field_keeps_others, 0, na);
	tcase_add_loop_test(tc, test_field_bad_refs, 0, na);
	tcase_add_test(tc, test_field_prot_per_level);
	suite_add_tcase(s, tc);

	tc = tcase_create("links");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_link_roundtrip, 0, na);
	tcase_add_loop_test(tc, test_link_without_flag, 0, na);
	tcase_add_loop_test(tc, test_link_new_tables_zeroed, 0, na);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = test_run_suite(field_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
