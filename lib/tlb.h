/* SPDX-License-Identifier: MIT */
/*
 * The translation caches (lib/tlb.c) as the rest of the engine sees them:
 * their invalidation when a translation changes, and the end of a pgt_tlb
 * miss, the translation of the leaf a walk found written into the TLB and
 * answered. The latter is inline, so that the walks of lib/walks_tpl.h
 * compile it after their own steps, without a call between the walk and
 * the entry.
 */
#ifndef PGT_LIB_TLB_H
#define PGT_LIB_TLB_H

#include <pgtable/tlb.h>

#include "walks.h"

/** Makes every TLB attached to the space miss until it has emptied itself (lib/tlb.c). */
void pgt__tlb_stale_all(pgt_space_t *sp);
/** Detaches every TLB of a space being destroyed: they answer PGT_EINVAL from then on. */
void pgt__tlb_detach_all(pgt_space_t *sp);

/**
 * Marks every cached translation of the space stale: called by whatever
 * removes, moves or changes a valid translation (unmap, protect, replace,
 * a field write to a valid leaf), before it returns. Bumps the generation
 * and, when TLBs are attached, turns their next lookups into misses, which
 * empty them: a hit checks nothing but its tag.
 */
static inline void pgt__space_changed(pgt_space_t *sp)
{
	__atomic_store_n(&sp->pgt__gen, sp->pgt__gen + 1, __ATOMIC_RELEASE);
	if (sp->pgt__tlbs)
		pgt__tlb_stale_all(sp);
}

/**
 * Writes the translation of @p va to @p pa with @p rights (PGT_PROT_*) into
 * way 0 of its set @p e0, moving way 0 to way 1 in a 2-way TLB, and answers
 * as pgt_tlb_lookup does. @p page_shift is the TLB's (a constant in the
 * compiled walks).
 */
static inline __attribute__((always_inline)) int pgt__tlb_write(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0,
								pgt_vaddr_t va, pgt_paddr_t pa,
								unsigned rights, pgt_paddr_t *pa_out,
								unsigned *prot, unsigned page_shift)
{
	/* pa and va agree below the page size, so this is also the difference of their pages */
	uint64_t delta = pa - va;

	e0[tlb->pgt__way1] = *e0; /* direct-mapped: onto itself */
	*e0 = (struct pgt_tlb_entry){ .pgt__vpn = va >> page_shift, .pgt__delta = delta | rights };
	if (pa_out)
		*pa_out = pa;
	if (prot)
		*prot = rights;
	return PGT_OK;
}

/**
 * pgt__tlb_put for a leaf whose rights are not the ones the TLB decoded
 * last: decodes them (the codec call), remembers them and writes (lib/tlb.c).
 * Out of line, so that the common put makes no call; the leaf comes as
 * scalars, so that the common put builds no struct on the stack for it.
 */
int pgt__tlb_put_decoded(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, const struct pgt_arch *a, pgt_pte_t pte,
			 unsigned level, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot);

/**
 * Caches the translation of @p va by @p leaf (a hardware-valid leaf of the
 * space's descriptor @p a, or a status in leaf.level) in the set of way 0
 * @p e0 and answers as pgt_tlb_lookup does; the TLB is unchanged when there
 * is no valid leaf. Leaves next to each other mostly share their rights,
 * so the TLB remembers the last decoding, by the bits the codec owns
 * (leaf.key) and the level, and the codec runs only for others.
 * @p page_shift as for pgt__tlb_write.
 */
static inline __attribute__((always_inline)) int pgt__tlb_put(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0,
							      const struct pgt_arch *a, struct pgt__leaf leaf,
							      pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot,
							      unsigned page_shift)
{
	if (leaf.level < 0)
		return leaf.level;
	if (leaf.key != tlb->pgt__prot_key || (unsigned)leaf.level != tlb->pgt__prot_level)
		return pgt__tlb_put_decoded(tlb, e0, a, leaf.pte, (unsigned)leaf.level, va, pa, prot);
	return pgt__tlb_write(tlb, e0, va, leaf.pa, tlb->pgt__prot, pa, prot, page_shift);
}

#endif /* PGT_LIB_TLB_H */
