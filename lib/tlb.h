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

#include "rights.h"
#include "walks.h"

/** Makes every TLB attached to the space miss until it has emptied itself (lib/tlb.c). */
void pgt__tlb_stale_all(pgt_space_t *sp);
/** Detaches every TLB of a space being destroyed: they answer PGT_EINVAL from then on. */
void pgt__tlb_detach_all(pgt_space_t *sp);

/** What pgt__space_changed does while no TLB is live: the generation moves on. */
static inline __attribute__((always_inline)) void pgt__space_gen_bump(pgt_space_t *sp)
{
	__atomic_store_n(&sp->pgt__gen, sp->pgt__gen + 1, __ATOMIC_RELEASE);
}

/**
 * Marks every cached translation of the space stale: called by whatever
 * removes, moves or changes a valid translation (unmap, protect, replace,
 * a field write to a valid leaf), before it returns. Bumps the generation
 * and, when an attached TLB was used since the last change, turns every
 * attached TLB's next lookups into misses, which empty them: a hit checks
 * nothing but its tag.
 */
static inline void pgt__space_changed(pgt_space_t *sp)
{
	pgt__space_gen_bump(sp);
	if (sp->pgt__tlb_live) /* a run of changes with no lookup between them stales the TLBs once */
		pgt__tlb_stale_all(sp);
}

/**
 * The end of a change of the valid translations of [@p va, @p va +
 * @p size) made by a compiled walk: the caller's tlb_flush hook when
 * @p flush, then pgt__space_changed. Out of line, for the walks' rare
 * ends: PGT_OK.
 */
int pgt__changed_notify(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, bool flush);

/**
 * The tag of a superpage entry of level @p level (> 0) for page number
 * @p n (the address shifted by the level's page size): the level sits
 * above the bits any page number of the smallest size can have, so a small
 * page's tag (its bare page number, what the inline hit compares) never
 * equals it, nor does another level's or the empty entry's (all ones: the
 * level is below 2^page_shift - 1, pgt_tlb_init checks the page size).
 * @p tag_shift is 64 - the smallest page shift.
 */
static inline __attribute__((always_inline)) uint64_t pgt__tlb_super_tag(uint64_t n, unsigned level,
									 unsigned tag_shift)
{
	return n | (uint64_t)level << tag_shift;
}

/**
 * log2 of the number of superpages a run entry covers: eight, one 64-byte
 * line of their table (pgt__tlb_run).
 */
#define PGT__TLB_RUN_SHIFT 3u

/**
 * Added to a superpage's level in the tag of a run entry, in the levels a
 * TLB may hold (pgt__levels) and in the level its inline probe looks at
 * (pgt__slevel): above the table entries' tags (pgt__tlb_table_tag), below
 * the all-ones of an empty entry.
 */
#define PGT__TLB_RUN_MARK 16u

/**
 * Whether the valid leaf at @p p, of level @p L for @p va, is one of a run:
 * the aligned group of eight entries of its table it belongs to (one cache
 * line, which reading @p p fetched) holds eight leaves whose words differ
 * only by their output addresses, each the last one plus the page size.
 * Every page of a run then maps with the leaf's rights at the same
 * distance from its virtual address, so one TLB entry can answer for all
 * of them, as hardware TLBs that coalesce contiguous translations do. The
 * bits that say valid, leaf and rights must lie outside the address field
 * (then the eight have the leaf's), and the root is left out (its entry
 * count may be below eight). @p below_root: @p L is not the root's level.
 */
static inline __attribute__((always_inline)) bool pgt__tlb_run(const struct pgt_level *L, bool below_root,
								const pgt_pte_t *p, pgt_vaddr_t va)
{
	const unsigned n = 1u << PGT__TLB_RUN_SHIFT;

	if (!below_root || L->bits < PGT__TLB_RUN_SHIFT ||
	    ((L->type_mask | L->leaf_any | L->prot_mask) & L->leaf_oa))
		return false;
	const pgt_pte_t *q = p - (pgt__index(L, va) & (n - 1u));
	const pgt_pte_t first = pgt__pte_load(q), step = (pgt_pte_t)1 << (L->shift - L->oa_shift);
	pgt_pte_t last = first;

#pragma GCC unroll 8
	for (unsigned i = 1; i < n; i++) {
		last = pgt__pte_load(q + i);
		if (last != first + i * step)
			return false;
	}
	/* no carry out of the address field: the bits above it are the first's, and no wrap */
	return last > first && !((last ^ first) & ~L->leaf_oa);
}

/**
 * What a TLB needs of the entry @p pte at @p p, of level @p l (@p L) for
 * @p va, which links no table: the leaf when it is valid, whether it is in
 * a run, and its decoding key. @p below_root: @p l is not the root's level.
 */
static inline __attribute__((always_inline)) struct pgt__leaf
pgt__tlb_leaf_at(const struct pgt_level *L, unsigned l, bool below_root, const pgt_pte_t *p, pgt_pte_t pte,
		 pgt_vaddr_t va)
{
	bool valid = pgt__is_valid_leaf(L, pte);

	return (struct pgt__leaf){ .pte = pte,
				   .level = valid ? (int)l : PGT_ENOENT,
				   .pa = pgt__leaf_pa(L, pte, va),
				   .key = pte & L->prot_mask,
				   .run = valid && l > 0 && pgt__tlb_run(L, below_root, p, va) };
}

/**
 * Added to a table's level in the tag of a table entry (pgt__tlb_table_tag):
 * above every superpage level and the level the empty superpage probe
 * compares with, below the all-ones of an empty entry.
 */
#define PGT__TLB_TABLE_MARK 8u

/**
 * The tag of a table entry, which remembers where the table of level
 * @p level (the table whose entries are of that level) for region number
 * @p n sits (@p n: the address shifted by the page size of the level
 * above, the region one such table covers). Like a superpage's tag,
 * with the level moved up by PGT__TLB_TABLE_MARK: no small page, superpage
 * or empty entry has it, so the inline hit never takes a table entry for
 * a translation.
 */
static inline __attribute__((always_inline)) uint64_t pgt__tlb_table_tag(uint64_t n, unsigned level,
									 unsigned tag_shift)
{
	return pgt__tlb_super_tag(n, level + PGT__TLB_TABLE_MARK, tag_shift);
}

/**
 * The table of level @p level the TLB remembers for @p va (tables of that
 * level cover 2^@p span_shift bytes), or NULL: the table entry of its
 * region number, in the entry that number picks among all of them, as a
 * superpage's (a paging-structure cache, Intel SDM vol. 3 section 4.10.3,
 * kept in the TLB's own entries). Its delta word holds the table's address
 * as the walk found it (after the p2v offset or hook).
 */
static inline __attribute__((always_inline)) pgt_pte_t *pgt__tlb_table_at(const pgt_tlb_t *tlb,
									  pgt_vaddr_t va, unsigned level,
									  unsigned span_shift,
									  unsigned tag_shift)
{
	uint64_t n = va >> span_shift;
	const struct pgt_tlb_entry *e = tlb->pgt__mem + (n & tlb->pgt__all_mask);

	if (e->pgt__vpn != pgt__tlb_table_tag(n, level, tag_shift))
		return NULL;
	return (pgt_pte_t *)(uintptr_t)e->pgt__delta;
}

/**
 * Remembers that @p tab is the table of level @p level that covers @p va
 * (see pgt__tlb_table_at), so that the next misses in its region read
 * their entry there instead of walking from the root. Valid until the
 * space changes: every change that can take a table off the tree bumps
 * the generation (pgt__space_changed), and the TLB then empties itself,
 * table entries included. Not when the table's entry would be one of the
 * set of @p va's small page: that set is left to the translations, so a TLB of one set never holds a
 * table, and a fill never evicts the page it is about to push to way 1.
 * @p tag_shift is 64 - the smallest page shift.
 */
static inline __attribute__((always_inline)) void pgt__tlb_keep_table(pgt_tlb_t *tlb, pgt_vaddr_t va,
								      unsigned level, pgt_pte_t *tab,
								      unsigned span_shift, unsigned tag_shift)
{
	uint64_t n = va >> span_shift;

	if (!((n ^ va >> (64u - tag_shift)) & tlb->pgt__set_mask))
		return;
	tlb->pgt__mem[n & tlb->pgt__all_mask] =
		(struct pgt_tlb_entry){ .pgt__vpn = pgt__tlb_table_tag(n, level, tag_shift),
					.pgt__delta = (uint64_t)(uintptr_t)tab };
	tlb->pgt__tlevels |= 1u << level;
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

/** Way 0 of the set of @p va's small page (pages of 2^@p shift bytes). */
static inline __attribute__((always_inline)) struct pgt_tlb_entry *
pgt__tlb_set(const pgt_tlb_t *tlb, pgt_vaddr_t va, unsigned shift)
{
	return tlb->pgt__mem + ((va >> shift) & tlb->pgt__set_mask);
}

/**
 * The superpage entry of level @p level (pages of 2^@p shift bytes) that
 * covers @p va, or NULL.
 */
static inline __attribute__((always_inline)) const struct pgt_tlb_entry *
pgt__tlb_super_at(const pgt_tlb_t *tlb, pgt_vaddr_t va, unsigned level, unsigned shift, unsigned tag_shift)
{
	uint64_t n = va >> shift;
	const struct pgt_tlb_entry *e = tlb->pgt__mem + (n & tlb->pgt__all_mask);

	return e->pgt__vpn == pgt__tlb_super_tag(n, level, tag_shift) ? e : NULL;
}

/**
 * The superpage the TLB holds for @p va, or NULL, at the levels whose
 * superpages it may hold but the one the inline hit looked at: one entry
 * per level, the levels and their sizes those of descriptor @p a
 * (constants in the compiled walks; only levels above the smallest where
 * @p a allows leaves are looked at).
 */
static inline __attribute__((always_inline)) const struct pgt_tlb_entry *
pgt__tlb_find_super(const pgt_tlb_t *tlb, const struct pgt_arch *a, pgt_vaddr_t va)
{
	unsigned levels = tlb->pgt__levels & ~(1u << tlb->pgt__slevel), tag_shift = 64u - a->level[0].shift;
	const struct pgt_tlb_entry *e = NULL;

#pragma GCC unroll 6
	for (unsigned l = 1; l < PGT_MAX_LEVELS; l++)
		if (l < a->levels && a->level[l].leaf_ok) {
			unsigned in_run = l + PGT__TLB_RUN_MARK; /* the kind of a run of level l */
			if ((levels >> l & 1u) && !e)
				e = pgt__tlb_super_at(tlb, va, l, a->level[l].shift, tag_shift);
			if ((levels >> in_run & 1u) && !e)
				e = pgt__tlb_super_at(tlb, va, in_run, a->level[l].shift + PGT__TLB_RUN_SHIFT,
						      tag_shift);
		}
	return e;
}

/**
 * Makes way 1 of the set @p e0 the most recent when it holds the small page
 * @p vpn (way 0 does not; in a direct-mapped TLB way 1 is way 0) and
 * returns it as way 0, else NULL.
 */
static inline __attribute__((always_inline)) const struct pgt_tlb_entry *
pgt__tlb_from_way1(const pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, uint64_t vpn)
{
	struct pgt_tlb_entry *e1 = e0 + tlb->pgt__way1;

	if (e1->pgt__vpn != vpn)
		return NULL;
	struct pgt_tlb_entry t = *e1;
	*e1 = *e0;
	*e0 = t;
	return e0;
}

/**
 * Whether the TLB may hold superpages of a kind the inline hit does not
 * look at (pgt__tlb_find_super looks for them).
 */
static inline __attribute__((always_inline)) bool pgt__tlb_more_supers(const pgt_tlb_t *tlb)
{
	return tlb->pgt__levels & ~(1u << tlb->pgt__slevel);
}

/**
 * The start of a miss of a TLB in step with its space, for @p va, whose
 * small page way 0 of its set @p e0 does not hold (pages of 2^@p shift
 * bytes, descriptor @p a): the entry that holds it after all, in way 1 or
 * as a superpage, or NULL when the tables must be walked, which is then
 * counted as a miss. Superpages are looked for only while the TLB may
 * hold some, so that a TLB of small pages pays one test.
 */
static inline __attribute__((always_inline)) const struct pgt_tlb_entry *
pgt__tlb_probe(pgt_tlb_t *tlb, const struct pgt_arch *a, struct pgt_tlb_entry *e0, pgt_vaddr_t va,
	       unsigned shift)
{
	const struct pgt_tlb_entry *e = pgt__tlb_from_way1(tlb, e0, va >> shift);

	if (!e && pgt__tlb_more_supers(tlb))
		e = pgt__tlb_find_super(tlb, a, va);
	if (!e)
		tlb->pgt__fills++;
	return e;
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
 * pgt__tlb_put for a small page whose rights are not the ones the TLB
 * decoded last: decodes them (the codec call), remembers them and writes
 * (lib/tlb.c). Out of line, so that the common put makes no call; the leaf
 * comes as scalars, and six arguments at most, so that the common put
 * builds nothing on the stack and the walk ends in a jump here.
 */
int pgt__tlb_put_decoded(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, pgt_pte_t pte, pgt_vaddr_t va,
			 pgt_paddr_t *pa, unsigned *prot);

/**
 * pgt__tlb_put for a superpage (of @p kind, as pgt__tlb_put_super takes it)
 * whose rights are not the ones the TLB decoded last for superpages:
 * decodes them (the codec call), remembers them and writes (lib/tlb.c).
 * Out of line, as pgt__tlb_put_decoded; the descriptor and the leaf's
 * address are found again there.
 */
int pgt__tlb_put_super_decoded(pgt_tlb_t *tlb, pgt_pte_t pte, unsigned kind, pgt_vaddr_t va, pgt_paddr_t *pa,
			       unsigned *prot);

/**
 * Writes the translation of @p va to @p leaf_pa by a superpage of @p kind
 * with the rights remembered for superpages (lib/tlb.c): its level (> 0),
 * plus PGT__TLB_RUN_MARK for a superpage of a run, whose entry covers the
 * run whole. The entry is tagged with its kind, in the entry its page
 * number (of its kind's size) picks among all of them. Out of line, and
 * with its arguments in registers, so that the walks' put of a small
 * page, the common one, saves no register and the walk ends in a jump
 * here.
 */
int pgt__tlb_put_super(pgt_tlb_t *tlb, unsigned kind, pgt_paddr_t leaf_pa, pgt_vaddr_t va, pgt_paddr_t *pa,
		       unsigned *prot);

/**
 * Caches the translation of @p va by @p leaf (a hardware-valid leaf of the
 * space's descriptor, or a status in leaf.level), a small page in the
 * set of way 0 @p e0, a superpage whole, and answers
 * as pgt_tlb_lookup does; the TLB is unchanged when there is no valid
 * leaf. Small pages next to each other mostly share their rights, so the
 * TLB remembers the last decoding, by the bits the codec owns (leaf.key),
 * and the codec runs only for others. @p page_shift is the size of the
 * smallest page (a constant in the compiled walks).
 */
static inline __attribute__((always_inline)) int pgt__tlb_put(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0,
							      struct pgt__leaf leaf, pgt_vaddr_t va,
							      pgt_paddr_t *pa, unsigned *prot,
							      unsigned page_shift)
{
	if (leaf.level < 0)
		return leaf.level;
	if (leaf.level > 0) {
		unsigned kind = (unsigned)leaf.level + (leaf.run ? PGT__TLB_RUN_MARK : 0u);
		if (leaf.key != tlb->pgt__sprot_key || (unsigned)leaf.level != tlb->pgt__sprot_level)
			return pgt__tlb_put_super_decoded(tlb, leaf.pte, kind, va, pa, prot);
		return pgt__tlb_put_super(tlb, kind, leaf.pa, va, pa, prot);
	}
	if (leaf.key != tlb->pgt__prot_key)
		return pgt__tlb_put_decoded(tlb, e0, leaf.pte, va, pa, prot);
	return pgt__tlb_write_small(tlb, e0, va, leaf.pa, tlb->pgt__prot, pa, prot, page_shift);
}

#endif /* PGT_LIB_TLB_H */
