/* SPDX-License-Identifier: MIT */
/*
 * What the MMU decides at the end of a walk, from the descriptor's rules:
 * how the walk ended, the rights a leaf grants, the fault an access takes
 * and the physical address it reaches. Shared by the full walk of
 * lib/translate.c and the compiled walks of lib/walks_tpl.h, where the
 * descriptor is a constant and every rule folds into immediates.
 */
#ifndef PGT_LIB_RIGHTS_H
#define PGT_LIB_RIGHTS_H

#include "internal.h"

/** Access bits that name the kind of an access. */
#define PGT__ACC_KIND (PGT_ACC_READ | PGT_ACC_WRITE | PGT_ACC_EXEC)

/** How a walk ended. */
enum pgt__tr_end { PGT__TR_LEAF, PGT__TR_NOT_PRESENT, PGT__TR_MALFORMED, PGT__TR_NO_TABLE };

/** The right an access needs: its kind, moved to the unprivileged half for user accesses. */
static inline unsigned pgt__access_right(unsigned access)
{
	return (access & PGT__ACC_KIND) << ((access & PGT_ACC_USER) ? 3 : 0);
}

/** The rights the rules of one entry take away (fixed count: unrolled). */
static inline unsigned pgt__rules_remove(const struct pgt_rule rules[PGT_RULES], pgt_pte_t pte)
{
	unsigned removed = 0;

#pragma GCC unroll 8
	for (unsigned i = 0; i < PGT_RULES; i++)
		removed |= (pte & rules[i].mask) == rules[i].match ? rules[i].removes : 0;
	return removed;
}

/** How the walk ends at an entry that is not a table entry. */
static inline enum pgt__tr_end pgt__tr_stop(const struct pgt_level *L, pgt_pte_t pte)
{
	if (pgt__is_valid_leaf(L, pte))
		return pgt__leaf_malformed(L, pte) ? PGT__TR_MALFORMED : PGT__TR_LEAF;
	return pgt__is_present(L, pte) ? PGT__TR_MALFORMED : PGT__TR_NOT_PRESENT;
}

/** The rights of a leaf @p pte at @p level, combined with the @p rights its tables left. */
static inline unsigned pgt__leaf_rights(const struct pgt_arch *a, unsigned level, pgt_pte_t pte,
					unsigned rights)
{
	rights &= ~pgt__rules_remove(a->level[level].leaf_rules, pte);
	if (a->implied_if && (rights & a->implied_if) == a->implied_if)
		rights &= ~(unsigned)a->implied_removes;
	return rights;
}

/** The fault kind of an access that reached a valid leaf; PGT_FAULT_NONE if it completes. */
static inline int pgt__leaf_fault(const struct pgt_arch *a, unsigned level, pgt_pte_t pte, unsigned rights,
				  unsigned access)
{
	const struct pgt_level *L = &a->level[level];
	bool sets_ad = (access & PGT_ACC_SET_AD) != 0;

	/* Access-flag faults come before permission faults (Arm ARM D8.5). */
	if (a->af_fault && !(pte & L->accessed) && !sets_ad)
		return PGT_FAULT_ACCESS_FLAG;
	unsigned need = pgt__access_right(access);
	if ((pgt__leaf_rights(a, level, pte, rights) & need) != need)
		return PGT_FAULT_PERMISSION;
	/* A write the rights allow to a clean page (RISC-V Svade: after the permission check). */
	if (a->dirty_fault && (access & PGT_ACC_WRITE) && !(pte & L->dirty) && !sets_ad)
		return PGT_FAULT_DIRTY;
	return PGT_FAULT_NONE;
}

/** The fault kind of a walk that did not reach a valid leaf. */
static inline int pgt__walk_fault(const struct pgt_arch *a, enum pgt__tr_end end)
{
	return end == PGT__TR_MALFORMED ? a->malformed_fault : PGT_FAULT_NOT_PRESENT;
}

/** The physical address a leaf @p pte at @p level gives @p va. */
static inline pgt_paddr_t pgt__leaf_pa(const struct pgt_level *L, pgt_pte_t pte, pgt_vaddr_t va)
{
	return pgt__leaf_oa(L, pte) | (va & ((1ull << L->shift) - 1));
}

/** Records a fault (@p fault may be NULL) and returns PGT_EFAULT. */
static inline int pgt__report(const struct pgt_arch *a, struct pgt_fault *fault, int kind, unsigned level,
			      pgt_vaddr_t va)
{
	if (!fault)
		return PGT_EFAULT;
	*fault = (struct pgt_fault){ .kind = kind, .level = level, .va = va, .stage = 1 };
	if (a->stage == 2) {
		/* A second-stage space's input addresses are guest-physical ones. */
		fault->stage = 2;
		fault->ipa = va;
	}
	return PGT_EFAULT;
}

/**
 * The end of a translation at the entry @p pte of level @p level, when no
 * table entry above it took any right away: PGT_OK with *pa (when not
 * NULL), or PGT_EFAULT with *fault (when not NULL).
 */
static inline int pgt__translate_leaf(const struct pgt_arch *a, unsigned level, pgt_pte_t pte, pgt_vaddr_t va,
				      unsigned access, pgt_paddr_t *pa, struct pgt_fault *fault)
{
	const struct pgt_level *L = &a->level[level];
	enum pgt__tr_end end = pgt__tr_stop(L, pte);

	if (end != PGT__TR_LEAF)
		return pgt__report(a, fault, pgt__walk_fault(a, end), level, va);
	int kind = pgt__leaf_fault(a, level, pte, PGT_RIGHTS_ALL, access);
	if (kind != PGT_FAULT_NONE)
		return pgt__report(a, fault, kind, level, va);
	if (pa)
		*pa = pgt__leaf_pa(L, pte, va);
	return PGT_OK;
}

/**
 * A one-compare test for the common end of a translation: a leaf @p pte
 * with (pte & mask) == match is valid, well formed, accessed where the
 * descriptor faults on a clear access flag, and grants the right the
 * access needs. It is sound, not complete: a leaf that fails it goes to
 * pgt__translate_leaf, which decides (and names the fault). It holds for
 * descriptors whose rules that take the right away each look at one bit;
 * for any other rule, and for a right the implied rule can take, the test
 * is one no entry passes (match has a bit mask lacks).
 */
struct pgt__leaf_pass {
	pgt_pte_t mask, match;
};

#define PGT__PASS_NONE ((struct pgt__leaf_pass){ 0, 1 })

/** Adds "bits @p bits of the entry read @p want" to @p p; false when it contradicts what @p p asks. */
static inline __attribute__((always_inline)) bool pgt__pass_add(struct pgt__leaf_pass *p, pgt_pte_t bits,
								pgt_pte_t want)
{
	if ((p->mask & bits) & (p->match ^ want))
		return false;
	p->mask |= bits;
	p->match |= want & bits;
	return true;
}

/** Whether @p need survives every rule of @p rules that could take it, as one-bit tests added to @p p. */
static inline __attribute__((always_inline)) bool
pgt__pass_rules(struct pgt__leaf_pass *p, const struct pgt_rule rules[PGT_RULES], unsigned need)
{
#pragma GCC unroll 8
	for (unsigned i = 0; i < PGT_RULES; i++) {
		const struct pgt_rule *r = &rules[i];
		if (!(r->removes & need) || (r->match & ~r->mask))
			continue; /* takes something else, or never applies */
		if (!r->mask || (r->mask & (r->mask - 1)))
			return false; /* always applies, or looks at several bits */
		if (!pgt__pass_add(p, r->mask, r->mask & ~r->match))
			return false;
	}
	return true;
}

/**
 * Whether every entry that passes @p p is a valid leaf of @p L: present, of
 * the leaf type, with a bit of leaf_any, and not a table entry.
 */
static inline __attribute__((always_inline)) bool pgt__pass_is_leaf(const struct pgt_level *L, unsigned level,
								    struct pgt__leaf_pass p)
{
	pgt_pte_t ones = p.mask & p.match; /* bits the test requires set */
	bool any = !L->leaf_any || (ones & L->leaf_any);
	bool not_table = level == 0 || ((L->leaf_type ^ L->table_type) & L->type_mask) || (ones & L->leaf_any);

	return (ones & L->valid) && any && not_table;
}

/** The one-compare test of a leaf at @p level for an access that needs right @p need (see pgt__leaf_pass). */
static inline __attribute__((always_inline)) struct pgt__leaf_pass
pgt__leaf_pass_for(const struct pgt_arch *a, unsigned level, unsigned need)
{
	const struct pgt_level *L = &a->level[level];
	struct pgt__leaf_pass p = { L->type_mask, L->leaf_type & L->type_mask };

	if (!L->leaf_ok || (L->leaf_type & ~L->type_mask) || (a->implied_if && (need & a->implied_removes)))
		return PGT__PASS_NONE;
	if (!pgt__pass_add(&p, L->leaf_mbz, 0))
		return PGT__PASS_NONE;
	if (a->af_fault && (!L->accessed || !pgt__pass_add(&p, L->accessed, L->accessed)))
		return PGT__PASS_NONE;
	if (a->dirty_fault && (need & (PGT_RIGHT_PW | PGT_RIGHT_UW)) &&
	    (!L->dirty || !pgt__pass_add(&p, L->dirty, L->dirty)))
		return PGT__PASS_NONE;
	if (!pgt__pass_rules(&p, L->leaf_rules, need))
		return PGT__PASS_NONE;
	return pgt__pass_is_leaf(L, level, p) ? p : PGT__PASS_NONE;
}

#endif /* PGT_LIB_RIGHTS_H */
