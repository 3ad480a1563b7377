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
 * The tag of a superpage entry of level @p level (> 0) for page number
 * @p n (the address shifted by the level's page size): the level sits
 * above the bits any page number of the smallest size can have, so a small
 * page's tag (its bare page number, what the inline hit compares first)
 * never equals it, nor does another level's or the empty entry's (all
 * ones: the level is below 2^page_shift - 1, pgt_tlb_init checks the page
 * size).
 */
static inline uint64_t pgt__tlb_super_tag(const pgt_tlb_t *tlb, uint64_t n, unsigned level)
{
	return n | (uint64_t)level << tlb->pgt__tag_shift;
}

/** All the TLB's entries - 1: superpages are direct-mapped over both ways. */
static inline uint64_t pgt__tlb_all_mask(const pgt_tlb_t *tlb)
{
	return tlb->pgt__set_mask + tlb->pgt__way1;
}

/** What a TLB answers from entry @p e for @p va (pgt_tlb_lookup's contract). */
static inline __attribute__((always_inline)) int
pgt__tlb_answer(const struct pgt_tlb_entry *e, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)
{
	if (pa)
		*pa = va + (e->pgt__delta & ~(uint64_t)PGT__TLB_PROT_BITS);
	if (prot)
		*prot = (unsigned)(e->pgt__delta & PGT__TLB_PROT_BITS);
	return PGT_OK;
}

/** What pgt_tlb_lookup answers for a translation just written. */
static inline __attribute__((always_inline)) int pgt__tlb_answer_new(pgt_paddr_t pa, unsigned rights,
								     pgt_paddr_t *pa_out, unsigned *prot)
{
	if (pa_out)
		*pa_out = pa;
	if (prot)
		*prot = rights;
	return PGT_OK;
}

/**
 * Writes the translation of @p va to @p pa with @p rights (PGT_PROT_*) by a
 * small page (level 0, pages of 2^@p shift bytes) into way 0 of its set
 * @p e0, way 0 moving to way 1 in a 2-way TLB, and answers as
 * pgt_tlb_lookup does.
 */
static inline __attribute__((always_inline)) int
pgt__tlb_write_small(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, pgt_vaddr_t va, pgt_paddr_t pa,
		     unsigned rights, pgt_paddr_t *pa_out, unsigned *prot, unsigned shift)
{
	/* pa and va agree below the page size, so this is also the difference of their pages */
	uint64_t delta = pa - va;

	e0[tlb->pgt__way1] = *e0; /* direct-mapped: onto itself */
	*e0 = (struct pgt_tlb_entry){ .pgt__vpn = va >> shift, .pgt__delta = delta | rights };
	return pgt__tlb_answer_new(pa, rights, pa_out, prot);
}

/**
 * Writes the translation of @p va to @p pa with @p rights by a superpage
 * of @p level (> 0, pages of 2^@p shift bytes), tagged with its level, into
 * the entry its page number picks among all of them, makes its level the
 * one the inline hit looks at, and answers as pgt_tlb_lookup does.
 */
static inline __attribute__((always_inline)) int pgt__tlb_write_super(pgt_tlb_t *tlb, pgt_vaddr_t va,
								      pgt_paddr_t pa, unsigned rights,
								      pgt_paddr_t *pa_out, unsigned *prot,
								      unsigned level, unsigned shift)
{
	uint64_t delta = pa - va;
	uint64_t n = va >> shift, all = pgt__tlb_all_mask(tlb);
	uint64_t sindex = all << 6 | shift;

	/*
	 * Stored only when they change: the next lookups read them, and a
	 * store on every fill would make each lookup wait for the fill before.
	 */
	if (tlb->pgt__sindex != sindex) {
		tlb->pgt__levels |= 1u << level;
		tlb->pgt__sindex = tlb->pgt__live_sindex = sindex;
		tlb->pgt__smark = pgt__tlb_super_tag(tlb, 0, level);
	}
	tlb->pgt__mem[n & all] = (struct pgt_tlb_entry){ .pgt__vpn = pgt__tlb_super_tag(tlb, n, level),
							 .pgt__delta = delta | rights };
	return pgt__tlb_answer_new(pa, rights, pa_out, prot);
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
 * pgt__tlb_put for a superpage (a leaf @p pte at @p level > 0) (lib/tlb.c):
 * out of line, so that the walks' put of a small page, the common one,
 * keeps its page size and level constants, makes no call and saves no
 * register; one call per superpage is little against the walks it saves.
 */
int pgt__tlb_put_super(pgt_tlb_t *tlb, const struct pgt_arch *a, pgt_pte_t pte, unsigned level,
		       pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot);

/**
 * Caches the translation of @p va by @p leaf (a hardware-valid leaf of the
 * space's descriptor @p a, or a status in leaf.level), a small page in the
 * set of way 0 @p e0, a superpage whole (pgt__tlb_put_super), and answers
 * as pgt_tlb_lookup does; the TLB is unchanged when there
 * is no valid leaf. Leaves next to each other mostly share their rights,
 * so the TLB remembers the last decoding, by the bits the codec owns
 * (leaf.key) and the level, and the codec runs only for others.
 * @p page_shift is the size of the smallest page (a constant in the
 * compiled walks).
 */
static inline __attribute__((always_inline)) int pgt__tlb_put(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0,
							      const struct pgt_arch *a, struct pgt__leaf leaf,
							      pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot,
							      unsigned page_shift)
{
	if (leaf.level < 0)
		return leaf.level;
	if (leaf.level > 0)
		return pgt__tlb_put_super(tlb, a, leaf.pte, (unsigned)leaf.level, va, pa, prot);
	if (leaf.key != tlb->pgt__prot_key || tlb->pgt__prot_level != 0)
		return pgt__tlb_put_decoded(tlb, e0, a, leaf.pte, 0, va, pa, prot);
	return pgt__tlb_write_small(tlb, e0, va, leaf.pa, tlb->pgt__prot, pa, prot, page_shift);
}

#endif /* PGT_LIB_TLB_H */
