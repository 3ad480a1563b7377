/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the walks compiled per format (lib/walks_tpl.h): on every
 * shipped descriptor, reached through the p2v offset and through the hook,
 * in both halves of the address range, pgt_lookup and pgt_insert must give
 * exactly what a plain walk by the descriptor's masks gives, on random trees
 * mixing every page size, valid and reserved leaves.
 *
 * Covers: hits at every level and byte offset, misses at every level, the
 * first and last address of each range and the addresses just outside it
 * (PGT_EINVAL), a NULL out pointer, a p2v hook returning NULL part way down
 * (PGT_EINVAL), a copy of a shipped descriptor (the generic walk: the
 * compiled one belongs to the original), and a descriptor whose table masks
 * differ between levels (the generic walk).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/armv8.h>
#include <pgtable/tlb.h>
#include <pgtable/x86_64.h>

#include "harness.h"
#include "rights.h"

/** The reference: a walk by the descriptor's masks, one level at a time. */
static int ref_lookup(const struct pgt_arch *a, const struct test_mm *t, pgt_paddr_t root, pgt_vaddr_t va,
		      pgt_ref_t *out)
{
	pgt_pte_t *table = test_mm_p2v(t, root);

	for (unsigned l = a->levels; l-- > 0;) {
		const struct pgt_level *L = &a->level[l];
		pgt_pte_t *p = table + ((va >> L->shift) & ((1ull << L->bits) - 1));
		pgt_pte_t e = *p;

		if (test_is_table(L, l, e)) {
			table = test_mm_p2v(t, test_table_pa(L, e));
			continue;
		}
		bool leaf = test_is_leaf(L, e) || test_is_reserved(L, e);
		if (!L->leaf_ok || !leaf)
			return PGT_ENOENT;
		*out = (pgt_ref_t){ .pte = p, .level = l, .page_shift = L->shift };
		return PGT_OK;
	}
	return PGT_ENOENT;
}

/** One space under test. */
struct fx {
	struct pgt_arch copy; /**< a copy of the descriptor, when testing copies */
	const struct pgt_arch *a;
	struct test_mm t;
	pgt_space_t sp;
	unsigned flags;
	pgt_vaddr_t lo, hi; /**< first and last address of the range under test */
	char who[96];
	struct pgt_tlb_entry tlbe[1]; /**< one entry: nearly every pgt_tlb_fill walks */
	pgt_tlb_t tlb;
};

static void fx_open(struct fx *f, const struct pgt_arch *a, enum test_mm_mode m, unsigned flags, bool copy)
{
	f->copy = *a;
	f->a = copy ? &f->copy : a;
	f->flags = flags;
	snprintf(f->who, sizeof f->who, "%s%s %s%s", a->name, copy ? " (copy)" : "",
		 m == TEST_MM_HOOK ? "hook" : "offset", (flags & PGT_SPACE_UPPER) ? " upper" : "");
	test_mm_init(&f->t, m);
	ck_assert_int_eq(pgt_space_init(&f->sp, f->a, &f->t.mm, flags), PGT_OK);
	ck_assert_int_eq(pgt_tlb_init(&f->tlb, &f->sp, f->tlbe, 1, 1), PGT_OK);
	f->lo = test_va_bottom(a, flags);
	f->hi = test_va_top(a, flags);
	if (a->canon == PGT_CANON_SIGN_EXTEND)
		f->hi = (1ull << (a->va_bits - 1)) - 1; /* the low half; callers move to the high one */
}

static void fx_close(struct fx *f)
{
	pgt_space_destroy(&f->sp);
	CHECK_THAT(test_mm_outstanding(&f->t) == 0, "%s: tables leaked", f->who);
	test_mm_fini(&f->t);
}

/**
 * Compares a TLB fill (the compiled valid-leaf walk) with the reference
 * lookup's answer @p ref and entry @p want: a translation exactly for a
 * valid leaf, with its output address and decoded rights.
 */
static void same_fill(struct fx *f, pgt_vaddr_t va, int ref, pgt_ref_t want)
{
	pgt_paddr_t pa = 0;
	unsigned prot = 0;
	int rc = pgt_tlb_fill(&f->tlb, va, &pa, &prot);
	const struct pgt_level *L = ref == PGT_OK ? &f->a->level[want.level] : NULL;
	pgt_pte_t e = L ? *want.pte : 0;

	if (L && test_is_leaf(L, e)) {
		CHECK_THAT(rc == PGT_OK, "%s: va 0x%llx: fill %d, valid leaf", f->who,
			      (unsigned long long)va, rc);
		ck_assert_uint_eq(pa, test_leaf_pa(L, e) | (va & ((1ull << L->shift) - 1)));
		ck_assert_uint_eq(prot, f->a->prot_decode(want.level, e) & 63u);
	} else {
		int expect = ref == PGT_EINVAL ? PGT_EINVAL : PGT_ENOENT;
		CHECK_THAT(rc == expect, "%s: va 0x%llx: fill %d, want %d", f->who, (unsigned long long)va,
			      rc, expect);
	}
}

/** Compares pgt_lookup, and a TLB fill, with the reference at @p va. */
static void same_lookup(struct fx *f, pgt_vaddr_t va)
{
	pgt_ref_t got = { 0 }, want = { 0 };
	int rc = pgt_lookup(&f->sp, va, &got);
	int ref = ref_lookup(f->a, &f->t, pgt_space_root(&f->sp), va, &want);

	same_fill(f, va, ref, want);

	CHECK_THAT(rc == ref, "%s: va 0x%llx: lookup %d, reference %d", f->who, (unsigned long long)va, rc,
		      ref);
	if (rc == PGT_OK) {
		CHECK_THAT(got.pte == want.pte && got.level == want.level &&
				      got.page_shift == want.page_shift,
			      "%s: va 0x%llx: ref differs", f->who, (unsigned long long)va);
		ck_assert_int_eq(pgt_lookup(&f->sp, va, NULL), PGT_OK);
	}
}

/** A random page-aligned address of size 2^shift in one of a few clusters of the range. */
static pgt_vaddr_t random_page(const struct fx *f, uint64_t *rng, unsigned shift)
{
	uint64_t span = f->hi - f->lo; /* last offset */
	unsigned cluster = (unsigned)(test_rand(rng) % 4);
	uint64_t base = cluster == 0 ? 0 : cluster == 3 ? span - (span >> 8) : (span / 3) * cluster;
	uint64_t off = base + (test_rand(rng) % ((span >> 8) + 1));

	return (f->lo + off) & ~((1ull << shift) - 1);
}

/** A leaf level of the descriptor, at random. */
static unsigned random_leaf_shift(const struct pgt_arch *a, uint64_t *rng)
{
	for (;;) {
		unsigned l = (unsigned)(test_rand(rng) % a->levels);
		if (a->level[l].leaf_ok)
			return a->level[l].shift;
	}
}

/** Fills the space with random pages of every size, some valid, some reserved. */
static void fill_random(struct fx *f, uint64_t *rng, unsigned count, pgt_vaddr_t *pages)
{
	for (unsigned i = 0; i < count; i++) {
		unsigned shift = random_leaf_shift(f->a, rng);
		pgt_vaddr_t va = random_page(f, rng, shift);
		pgt_ref_t ref;
		int rc = pgt_insert(&f->sp, va, shift, &ref);

		pages[i] = va;
		CHECK_THAT(rc == PGT_OK || rc == PGT_EXISTS || rc == PGT_ECONFLICT, "%s: insert %d",
			      f->who, rc);
		if (rc == PGT_OK && (test_rand(rng) & 1))
			ck_assert_int_eq(pgt_set_field(&f->sp, ref, PGT_FIELD_PROT, PGT_PROT_READ), PGT_OK);
	}
}

/** Random trees: every lookup agrees with the reference. */
static void check_random(const struct pgt_arch *a, enum test_mm_mode m, unsigned flags, bool copy)
{
	struct fx f;
	uint64_t rng = 0x5eed0000u + a->levels * 131u + m * 7u + flags + copy;
	pgt_vaddr_t pages[300];

	fx_open(&f, a, m, flags, copy);
	fill_random(&f, &rng, 300, pages);
	for (unsigned i = 0; i < 300; i++) {
		same_lookup(&f, pages[i]);
		same_lookup(&f, pages[i] + (test_rand(&rng) & ((1ull << a->level[0].shift) - 1)));
		if (pages[i] > f.lo)
			same_lookup(&f, pages[i] - 1);
		same_lookup(&f, random_page(&f, &rng, 0));
	}
	same_lookup(&f, f.lo);
	same_lookup(&f, f.hi);
	fx_close(&f);
}

START_TEST(random_trees)
{
	const struct pgt_arch *a = test_archs[_i / 8];
	enum test_mm_mode m = (_i & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET;
	bool copy = (_i & 2) != 0;
	bool upper = (_i & 4) != 0;

	if (upper && !test_has_upper(a))
		return; /* x86-64: both halves are in one space, the lower run covers them */
	check_random(a, m, upper ? PGT_SPACE_UPPER : 0, copy);
	if (a->canon == PGT_CANON_SIGN_EXTEND && !upper) {
		/* and the high half of the same kind of space */
		struct fx f;
		uint64_t rng = 99;
		pgt_vaddr_t pages[100];
		fx_open(&f, a, m, 0, copy);
		f.lo = ~0ull << (a->va_bits - 1);
		f.hi = ~0ull;
		fill_random(&f, &rng, 100, pages);
		for (unsigned i = 0; i < 100; i++)
			same_lookup(&f, pages[i]);
		fx_close(&f);
	}
}
END_TEST

/** The addresses just outside the range, and non-canonical ones, are PGT_EINVAL. */
START_TEST(out_of_range)
{
	const struct pgt_arch *a = test_archs[_i / 2];
	unsigned flags = (_i & 1) && test_has_upper(a) ? PGT_SPACE_UPPER : 0;
	struct fx f;
	pgt_ref_t ref;

	fx_open(&f, a, TEST_MM_OFFSET, flags, false);
	if (a->canon == PGT_CANON_SIGN_EXTEND) {
		pgt_vaddr_t half = 1ull << (a->va_bits - 1);
		ck_assert_int_eq(pgt_lookup(&f.sp, half, &ref), PGT_ERANGE);
		ck_assert_int_eq(pgt_lookup(&f.sp, ~0ull - half, &ref), PGT_ERANGE);
		ck_assert_int_eq(pgt_lookup(&f.sp, 1ull << 63, &ref), PGT_ERANGE);
		ck_assert_int_eq(pgt_lookup(&f.sp, half - 1, &ref), PGT_ENOENT);
		ck_assert_int_eq(pgt_lookup(&f.sp, ~0ull - half + 1, &ref), PGT_ENOENT);
	} else if (flags) {
		ck_assert_int_eq(pgt_lookup(&f.sp, f.lo - 1, &ref), PGT_ERANGE);
		ck_assert_int_eq(pgt_lookup(&f.sp, 0, &ref), PGT_ERANGE);
		ck_assert_int_eq(pgt_lookup(&f.sp, 1ull << 63, &ref), PGT_ERANGE);
		ck_assert_int_eq(pgt_lookup(&f.sp, f.lo, &ref), PGT_ENOENT);
		ck_assert_int_eq(pgt_lookup(&f.sp, ~0ull, &ref), PGT_ENOENT);
	} else {
		ck_assert_int_eq(pgt_lookup(&f.sp, f.hi + 1, &ref), PGT_ERANGE);
		ck_assert_int_eq(pgt_lookup(&f.sp, ~0ull, &ref), PGT_ERANGE);
		ck_assert_int_eq(pgt_lookup(&f.sp, 1ull << 63, &ref), PGT_ERANGE);
		ck_assert_int_eq(pgt_lookup(&f.sp, f.hi, &ref), PGT_ENOENT);
		ck_assert_int_eq(pgt_lookup(&f.sp, 0, &ref), PGT_ENOENT);
	}
	fx_close(&f);
}
END_TEST

/** A p2v hook that fails below the root: lookup and insert say PGT_EINVAL and change nothing. */
START_TEST(hook_null)
{
	const struct pgt_arch *a = test_archs[_i];
	struct fx f;
	pgt_ref_t ref;
	unsigned shift = a->level[0].shift;
	pgt_vaddr_t va = (pgt_vaddr_t)5 << shift;

	fx_open(&f, a, TEST_MM_HOOK, 0, false);
	ck_assert_int_eq(pgt_insert(&f.sp, va, shift, &ref), PGT_OK);
	long allocs = f.t.allocs;
	f.t.p2v_null = true;
	ck_assert_int_eq(pgt_lookup(&f.sp, va, &ref), PGT_EHOOK);
	ck_assert_int_eq(pgt_tlb_fill(&f.tlb, va, NULL, NULL), PGT_EHOOK);
	ck_assert_int_eq(pgt_insert(&f.sp, va + (1ull << shift), shift, &ref), PGT_EHOOK);
	ck_assert_int_eq(f.t.allocs, allocs);
	f.t.p2v_null = false;
	ck_assert_int_eq(pgt_lookup(&f.sp, va, &ref), PGT_OK);
	ck_assert_int_eq(pgt_lookup(&f.sp, va + (1ull << shift), &ref), PGT_ENOENT);
	fx_close(&f);
}
END_TEST

/**
 * A descriptor whose table masks differ between levels
 * (table entries at level 1 carry an extra type bit): the generic walk must
 * serve it, with each level's masks. A walk using level 1's masks everywhere
 * would take every upper table entry for something else and find nothing.
 */
START_TEST(mixed_masks)
{
	struct pgt_arch a = pgt_arch_armv8_4k_48;
	struct fx f;
	uint64_t rng = 7;
	pgt_vaddr_t pages[200];

	a.level[1].type_mask |= 1ull << 52;
	a.level[1].table_type |= 1ull << 52;
	a.level[1].table_attrs |= 1ull << 52;
	fx_open(&f, &a, TEST_MM_OFFSET, 0, false);
	f.a = &a;
	fill_random(&f, &rng, 200, pages);
	size_t found = 0;
	for (unsigned i = 0; i < 200; i++) {
		pgt_ref_t ref;
		found += pgt_lookup(&f.sp, pages[i], &ref) == PGT_OK;
		same_lookup(&f, pages[i]);
		same_lookup(&f, random_page(&f, &rng, 0));
	}
	ck_assert_uint_gt(found, 100);
	fx_close(&f);
}
END_TEST

/* --- translate: the compiled walks and the full walk, against a reference ------------ */

/** The rights @p rules take from an entry @p e. */
static unsigned ref_removed(const struct pgt_rule rules[PGT_RULES], pgt_pte_t e)
{
	unsigned removed = 0;

	for (unsigned i = 0; i < PGT_RULES; i++)
		if ((e & rules[i].mask) == rules[i].match)
			removed |= rules[i].removes;
	return removed;
}

/** Whether the MMU rejects the present entry @p e: must-be-zero bits @p mbz or a malformed pattern. */
static bool ref_malformed(const struct pgt_level *L, pgt_pte_t e, pgt_pte_t mbz)
{
	if (e & mbz)
		return true;
	for (unsigned i = 0; i < PGT_MALFORMED; i++)
		if (L->malformed[i].mask && (e & L->malformed[i].mask) == L->malformed[i].match)
			return true;
	return false;
}

/** The fault a valid leaf @p e at level @p l gives an access, or -1 when it completes. */
static int ref_leaf_fault(const struct pgt_arch *a, unsigned l, pgt_pte_t e, unsigned rights, unsigned access)
{
	const struct pgt_level *L = &a->level[l];
	unsigned need = (access & 7u) << ((access & PGT_ACC_USER) ? 3 : 0);

	rights &= ~ref_removed(L->leaf_rules, e);
	if (a->implied_if && (rights & a->implied_if) == a->implied_if)
		rights &= ~(unsigned)a->implied_removes;
	if (a->af_fault && !(e & L->accessed))
		return PGT_FAULT_ACCESS_FLAG;
	if ((rights & need) != need)
		return PGT_FAULT_PERMISSION;
	return a->dirty_fault && (access & PGT_ACC_WRITE) && !(e & L->dirty) ? PGT_FAULT_DIRTY : -1;
}

/**
 * The reference: the walk as arch.h describes a descriptor's rules, one
 * level at a time (table rules take rights from everything below, then the
 * leaf's rules and the implied rule; malformed entries by the must-be-zero
 * masks; the access flag before permissions).
 */
static int ref_translate(const struct fx *f, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa,
			 struct pgt_fault *fault)
{
	const struct pgt_arch *a = f->a;
	pgt_pte_t *table = test_mm_p2v(&f->t, pgt_space_root(&f->sp));
	unsigned rights = PGT_RIGHTS_ALL;

	for (unsigned l = a->levels - 1;; l--) {
		const struct pgt_level *L = &a->level[l];
		pgt_pte_t e = table[(va >> L->shift) & ((1ull << L->bits) - 1)];
		int kind;

		if (test_is_table(L, l, e) && !ref_malformed(L, e, L->table_mbz)) {
			rights &= ~ref_removed(L->table_rules, e);
			table = test_mm_p2v(&f->t, test_table_pa(L, e));
			continue;
		}
		if (test_is_table(L, l, e))
			kind = a->malformed_fault;
		else if (test_is_leaf(L, e))
			kind = ref_malformed(L, e, L->leaf_mbz) ? a->malformed_fault : ref_leaf_fault(a, l, e, rights, access);
		else
			kind = test_present(L, e) ? a->malformed_fault : PGT_FAULT_NOT_PRESENT;
		if (kind < 0) {
			*pa = test_leaf_pa(L, e) | (va & ((1ull << L->shift) - 1));
			return PGT_OK;
		}
		*fault = (struct pgt_fault){ .kind = kind, .level = l, .va = va };
		return PGT_EFAULT;
	}
}

/** pgt_translate and the reference agree on every access kind at @p va. */
static void same_translate(const struct fx *f, pgt_vaddr_t va, unsigned *faults)
{
	static const unsigned kinds[] = { PGT_ACC_READ, PGT_ACC_WRITE, PGT_ACC_EXEC };

	for (unsigned k = 0; k < 6; k++) {
		unsigned access = kinds[k % 3] | (k >= 3 ? PGT_ACC_USER : 0);
		pgt_paddr_t pa1 = 1, pa2 = 2;
		struct pgt_fault f1 = { .kind = -1 }, f2 = { .kind = -2 };
		int r1 = pgt_translate(&f->sp, va, access, &pa1, &f1);
		int r2 = ref_translate(f, va, access, &pa2, &f2);

		if (r1 != r2 || (r1 == PGT_OK && pa1 != pa2) ||
		    (r1 == PGT_EFAULT && (f1.kind != f2.kind || f1.level != f2.level || f1.va != f2.va)))
			ck_abort_msg("%s: va 0x%llx access %#x: translate %d (pa 0x%llx, fault %d at %u), "
				     "reference %d (pa 0x%llx, fault %d at %u)",
				     f->who, (unsigned long long)va, access, r1, (unsigned long long)pa1, f1.kind,
				     f1.level, r2, (unsigned long long)pa2, f2.kind, f2.level);
		*faults += r1 == PGT_EFAULT;
	}
}

/** The entry at @p level on the path to @p va, or NULL when the path ends above it. */
static pgt_pte_t *entry_at(const struct fx *f, pgt_vaddr_t va, unsigned level)
{
	pgt_pte_t *table = test_mm_p2v(&f->t, pgt_space_root(&f->sp));

	for (unsigned l = f->a->levels - 1;; l--) {
		const struct pgt_level *L = &f->a->level[l];
		pgt_pte_t *p = table + ((va >> L->shift) & ((1ull << L->bits) - 1));
		if (l == level)
			return p;
		if (!test_is_table(L, l, *p))
			return NULL;
		table = test_mm_p2v(&f->t, test_table_pa(L, *p));
	}
}

/** The bits of a leaf at @p L that its rules and accessed flag look at. */
static pgt_pte_t leaf_bits(const struct pgt_level *L)
{
	pgt_pte_t bits = L->accessed;

	for (unsigned i = 0; i < PGT_RULES; i++)
		bits |= L->leaf_rules[i].mask;
	return bits & ~L->type_mask;
}

/** Every bit the rules of a table entry look at. */
static pgt_pte_t rule_bits(const struct pgt_level *L)
{
	pgt_pte_t bits = 0;

	for (unsigned i = 0; i < PGT_RULES; i++)
		bits |= L->table_rules[i].mask;
	return bits;
}

/**
 * Flips random bits of the entry at a random level on @p va's path: rule
 * bits of a table entry, rule and accessed bits of a leaf, or (one time in
 * four) must-be-zero bits. Links and entry types stay, so destroy still
 * frees every table.
 */
static void poke(struct fx *f, uint64_t *rng, pgt_vaddr_t va)
{
	unsigned l = (unsigned)(test_rand(rng) % f->a->levels);
	const struct pgt_level *L = &f->a->level[l];
	pgt_pte_t *p = entry_at(f, va, l);

	if (!p || !*p)
		return;
	bool table = test_is_table(L, l, *p);
	bool malform = test_rand(rng) % 4 == 0; /* else the entry stays well-formed */
	pgt_pte_t bits = table ? (malform ? L->table_mbz : rule_bits(L))
			       : (malform ? L->leaf_mbz & ~L->type_mask : leaf_bits(L));
	pgt_pte_t poked = *p ^ (bits & test_rand(rng) & test_rand(rng));
	if (!table && test_is_table(L, l, poked))
		return; /* a RISC-V leaf left without R, W and X would point at a table nowhere */
	if (table && !test_is_table(L, l, poked))
		return; /* an EPT table entry left without R, W and X is not present: its table would leak */
	*p = poked;
}

/** Maps a random page with random rights and frame (or finds the space full there). */
static pgt_vaddr_t map_random(struct fx *f, uint64_t *rng)
{
	static const unsigned prots[] = {
		PGT_PROT_READ, PGT_PROT_READ | PGT_PROT_WRITE, PGT_PROT_READ | PGT_PROT_EXEC,
		PGT_PROT_READ | PGT_PROT_USER, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_USER,
		PGT_PROT_READ | PGT_PROT_EXEC | PGT_PROT_USER,
		PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC | PGT_PROT_USER,
	};
	unsigned shift = random_leaf_shift(f->a, rng);
	pgt_vaddr_t va = random_page(f, rng, shift);
	pgt_ref_t ref;

	if (pgt_insert(&f->sp, va, shift, &ref) != PGT_OK)
		return va;
	unsigned prot = prots[test_rand(rng) % (sizeof prots / sizeof prots[0])];
	pgt_paddr_t pa = (test_rand(rng) << shift) & ((1ull << f->a->pa_bits) - 1);
	int rc = pgt_set_field(&f->sp, ref, PGT_FIELD_PROT, prot);
	CHECK_THAT(rc == PGT_OK || rc == PGT_ENOTSUP, "%s: set PROT %d", f->who, rc);
	ck_assert_int_eq(pgt_set_field(&f->sp, ref, PGT_FIELD_PADDR, pa), PGT_OK);
	return va;
}

/**
 * pgt_translate against the reference on random trees whose entries have
 * random rule, accessed and must-be-zero bits: through the walk compiled
 * for a shipped descriptor (the leaf decides unless a table entry on the
 * way is odd), and through a copy, which the engine's generic walk serves
 * (the full walk for every translation).
 */
START_TEST(translate_agrees)
{
	const struct pgt_arch *a = test_archs[_i / 4];
	enum test_mm_mode m = (_i & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET;
	bool full_walk = (_i & 2) != 0;
	struct fx f;
	uint64_t rng = 0x7a0000u + (uint64_t)_i;
	pgt_vaddr_t pages[200];
	unsigned faults = 0;

	fx_open(&f, a, m, 0, full_walk);
	for (unsigned i = 0; i < 200; i++)
		pages[i] = map_random(&f, &rng);
	for (unsigned round = 0; round < 4; round++) {
		for (unsigned i = 0; i < 200; i++) {
			same_translate(&f, pages[i], &faults);
			same_translate(&f, pages[i] + (test_rand(&rng) & 0xfff), &faults);
			same_translate(&f, random_page(&f, &rng, 0), &faults);
		}
		for (unsigned i = 0; i < 60; i++)
			poke(&f, &rng, pages[test_rand(&rng) % 200]);
	}
	ck_assert_uint_gt(faults, 100); /* faults were reached, not only completions */
	fx_close(&f);
}
END_TEST

/* --- the one-compare leaf test (lib/rights.h) ------------------------------------ */

static const unsigned accesses[6] = { PGT_ACC_READ,
				      PGT_ACC_WRITE,
				      PGT_ACC_EXEC,
				      PGT_ACC_READ | PGT_ACC_USER,
				      PGT_ACC_WRITE | PGT_ACC_USER,
				      PGT_ACC_EXEC | PGT_ACC_USER };

/** A random leaf of level @p L: random rule, accessed and must-be-zero bits, mostly of the leaf type. */
static pgt_pte_t random_leaf(const struct pgt_level *L, uint64_t *rng)
{
	pgt_pte_t e = test_rand(rng) & test_rand(rng);

	if (test_rand(rng) % 8)
		e = (e & ~L->type_mask) | L->leaf_type;
	if (test_rand(rng) % 2)
		e &= ~(L->leaf_mbz & ~L->type_mask);
	return e;
}

/**
 * The leaf test of descriptor @p a is sound (a leaf that passes it completes
 * the access by the leaf decision, at the same address) at every leaf level
 * for every access; returns how many of the leaves the decision completes
 * it also passed, and counts those in *@p completed.
 */
static unsigned leaf_pass_check(const struct pgt_arch *a, uint64_t *rng, unsigned *completed)
{
	unsigned passed = 0;

	for (unsigned l = 0; l < a->levels; l++) {
		if (!a->level[l].leaf_ok)
			continue;
		for (unsigned k = 0; k < 6; k++) {
			struct pgt__leaf_pass t = pgt__leaf_pass_for(a, l, pgt__access_right(accesses[k]));
			for (unsigned i = 0; i < 4000; i++) {
				pgt_pte_t e = random_leaf(&a->level[l], rng);
				pgt_vaddr_t va = test_rand(rng) & ((1ull << a->level[l].shift) - 1);
				pgt_paddr_t pa = 0;
				struct pgt_fault fault;
				int rc = pgt__translate_leaf(a, l, e, va, accesses[k], &pa, &fault);
				/* the fast path tests the malformed patterns beside the one compare */
				bool pass = (e & t.mask) == t.match && !pgt__matches_malformed(&a->level[l], e);

				CHECK_THAT(!pass || rc == PGT_OK,
					      "%s: level %u access %#x: leaf %#llx passes, decision %d",
					      a->name, l, accesses[k], (unsigned long long)e, rc);
				CHECK_THAT(!pass || pa == pgt__leaf_pa(&a->level[l], e, va), "%s: pa",
					      a->name);
				*completed += rc == PGT_OK;
				passed += pass;
			}
		}
	}
	return passed;
}

/** Whether a leaf rule of @p a that takes an execute right looks at more than one bit (FEAT_XNX). */
static bool exec_rule_wide(const struct pgt_arch *a)
{
	for (unsigned l = 0; l < a->levels; l++)
		for (unsigned i = 0; i < PGT_RULES; i++) {
			const struct pgt_rule *r = &a->level[l].leaf_rules[i];
			if ((r->removes & (PGT_RIGHT_PX | PGT_RIGHT_UX)) && (r->mask & (r->mask - 1)))
				return true;
		}
	return false;
}

/**
 * On the shipped descriptors, whose rules look at one bit each, the test is
 * also complete: it passes every leaf the decision completes, except for
 * the right the implied rule can take (ARMv8's privileged execute), and
 * execution where XN is two bits (ARMv8 stage 2 with FEAT_XNX), which
 * always go to the decision.
 */
START_TEST(leaf_pass_shipped)
{
	const struct pgt_arch *a = test_archs[_i];
	uint64_t rng = 0x1eaf00u + (uint64_t)_i;
	unsigned completed = 0, implied = 0;

	for (unsigned l = 0; l < a->levels; l++)
		for (unsigned k = 0; k < 6 && a->level[l].leaf_ok; k++)
			implied += a->implied_if && (pgt__access_right(accesses[k]) & a->implied_removes);
	unsigned passed = leaf_pass_check(a, &rng, &completed);
	/* RISC-V leaves need A, D and U to agree too: fewer complete; the G-stage needs U for every access */
	ck_assert_uint_gt(passed, 250);
	if (!implied && !exec_rule_wide(a))
		ck_assert_uint_eq(passed, completed);
	else
		ck_assert_uint_lt(passed, completed);
}
END_TEST

/**
 * Descriptors the one-bit form cannot express get a test no leaf passes
 * for the right concerned, and stay sound: a rule over two bits, a rule
 * that always applies, the implied rule, an access flag the level lacks,
 * must-be-zero bits inside the type bits; a rule that never applies (its
 * match outside its mask) is left out.
 */
START_TEST(leaf_pass_inexpressible)
{
	static struct pgt_arch a;
	uint64_t rng = 0x1eaf80u + (uint64_t)_i;
	unsigned completed = 0, need = PGT_RIGHT_PW;
	bool none = true;

	a = *(_i < 3 ? &pgt_arch_x86_64 : &pgt_arch_armv8_4k_48);
	struct pgt_rule *r0 = &a.level[0].leaf_rules[0];
	switch (_i) {
	case 0: *r0 = (struct pgt_rule){ PGT_X86_RW | PGT_X86_US, 0, PGT_RIGHT_PW }; break;
	case 1: *r0 = (struct pgt_rule){ 0, 0, PGT_RIGHT_PW }; break;
	case 2: a.implied_if = PGT_RIGHT_UR, a.implied_removes = PGT_RIGHT_PW; break;
	case 3: a.level[0].accessed = 0; break;
	case 4: a.level[0].leaf_mbz |= PGT_ARMV8_VALID; break;
	case 5:
		/* APTable-like rule with its match outside the mask: never applies */
		*r0 = (struct pgt_rule){ PGT_ARMV8_AP_RO, PGT_ARMV8_AP_USER, PGT_RIGHT_PW };
		none = false;
		break;
	}
	struct pgt__leaf_pass t = pgt__leaf_pass_for(&a, 0, need);
	bool never = (t.match & ~t.mask) != 0;
	CHECK_THAT(never == none, "case %d: the test %s", _i, none ? "passes leaves" : "passes none");
	leaf_pass_check(&a, &rng, &completed);
	if (_i != 3 && _i != 4) /* in those two no leaf completes anything */
		ck_assert_uint_gt(completed, 100);
}
END_TEST

static Suite *shape_suite(void)
{
	Suite *s = suite_create("shape");
	TCase *tc = tcase_create("walks");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, random_trees, 0, (int)test_narchs * 8);
	tcase_add_loop_test(tc, out_of_range, 0, (int)test_narchs * 2);
	tcase_add_loop_test(tc, hook_null, 0, (int)test_narchs);
	tcase_add_test(tc, mixed_masks);
	tcase_add_loop_test(tc, translate_agrees, 0, (int)test_narchs * 4);
	tcase_add_loop_test(tc, leaf_pass_shipped, 0, (int)test_narchs);
	tcase_add_loop_test(tc, leaf_pass_inexpressible, 0, 6);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(shape_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
