/* SPDX-License-Identifier: MIT */
/*
 * Writing a leaf's fields through a ref: the part the compiled walks
 * (lib/walks_tpl.h) instantiate per format and level, so that a write of
 * the output address or of remembered rights costs masks and compares with
 * constants, and the rest lib/field.c does with the codec.
 */
#ifndef PGT_LIB_FIELD_H
#define PGT_LIB_FIELD_H

#include "tlb.h"

/**
 * Stores the new entry @p next of the leaf @p p, read as @p pte: only the
 * bits that differ, so an accessed or dirty bit the MMU sets meanwhile
 * stays (pgt__leaf_update). Cached copies (pgt_tlb) of a valid translation
 * it changes are stale.
 */
static inline __attribute__((always_inline)) int pgt__field_store(pgt_space_t *sp, const struct pgt_level *L,
								  pgt_pte_t *p, pgt_pte_t pte, pgt_pte_t next)
{
	if (next != pte) {
		pgt_pte_t change = pte ^ next;
		(void)pgt__leaf_update(L, p, pte, change, next & change);
		if (pgt__is_present(L, pte)) /* a mapped leaf: present is valid */
			pgt__space_changed(sp);
	}
	return PGT_OK;
}

/**
 * pgt_set_field of a ref already checked, read as @p pte, for the fields
 * the codec decides (lib/field.c); PGT_EFLAGS for an unknown field.
 */
int pgt__set_field_coded(pgt_space_t *sp, pgt_ref_t ref, pgt_pte_t pte, enum pgt_field f, uint64_t val);

/**
 * pgt_set_field after the space and pointer checks, for the level @p l of
 * the ref (below a->levels; a constant in the compiled walks): the ref
 * must name a leaf the library keeps; the output address and rights the
 * space has encoded before are written here, every other field by
 * pgt__set_field_coded.
 */
static inline __attribute__((always_inline)) int pgt__set_field_at(pgt_space_t *sp, const struct pgt_arch *a,
								   pgt_ref_t ref, enum pgt_field f,
								   uint64_t val, unsigned l)
{
	const struct pgt_level *L = &a->level[l];

	if (ref.page_shift != L->shift)
		return PGT_EINVAL;
	pgt_pte_t pte = pgt__pte_load(ref.pte);
	if (!pgt__is_mapped_leaf(L, pte))
		return PGT_EINVAL;
	if (f == PGT_FIELD_PADDR) {
		if (!pgt__leaf_oa_fits(L, val)) /* bits below the page: misaligned; else wider than the format */
			return (val & ((1ull << L->shift) - 1)) ? PGT_EALIGN : PGT_ERANGE;
		return pgt__field_store(sp, L, ref.pte, pte, pgt__leaf_with_oa(L, pte, val));
	}
	if (f == PGT_FIELD_PROT && val <= PGT_PROT_ALL && val == sp->pgt__enc_prot)
		return pgt__field_store(sp, L, ref.pte, pte, (pte & ~L->prot_mask) | sp->pgt__enc[l]);
	return pgt__set_field_coded(sp, ref, pte, f, val);
}

#endif /* PGT_LIB_FIELD_H */
