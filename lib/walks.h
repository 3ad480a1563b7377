/* SPDX-License-Identifier: MIT */
/*
 * The walks of a space: a table of functions chosen once per space, so that
 * the operations pay one indirect call each, never one per entry.
 *
 * A shipped format points its descriptor at walks compiled with its own
 * masks as constants (lib/walks_tpl.h, instantiated in arch/<format>/):
 * every shift, index mask, level number and rule is an immediate there.
 * Any other descriptor (a user's own, or a copy of a shipped one) gets the
 * engine's generic walk (lib/walks.c), which reads them from the descriptor.
 */
#ifndef PGT_LIB_WALKS_H
#define PGT_LIB_WALKS_H

#include <pgtable/tlb.h>

#include "internal.h"

/** Where a walk towards a target level stopped. */
struct pgt__stop {
	pgt_pte_t *pte; /**< entry at `level` on the path to the address */
	pgt_pte_t *up;  /**< the table entry (level + 1) linking pte's table; NULL at the root */
	unsigned level;
};

/**
 * Adds @p delta to the count of the table that holds the entry a walk
 * stopped at (pgt__count_note): nothing at the root, or where no count is kept.
 */
static inline void pgt__stop_count_note(const pgt_space_t *sp, const struct pgt__stop *at, int delta)
{
	if (at->level < pgt__root_level(sp))
		pgt__count_note(pgt__level(sp, at->level + 1u), at->up, delta, at->level + 1u == pgt__root_level(sp));
}

/**
 * Writes @p leaf (level @p target) for @p va under a new branch of tables
 * linked into the empty entry a walk stopped at (@p at, above the target),
 * and counts that entry in its table: the address of the leaf in *made.
 * PGT_ENOMEM or PGT_EHOOK, having changed nothing, when a table is missing.
 */
int pgt__branch_make(pgt_space_t *sp, pgt_vaddr_t va, unsigned target, pgt_pte_t leaf, const struct pgt__stop *at,
		     pgt_pte_t **made);

/**
 * The hardware-valid leaf a walk found (for pgt__walk_ops.tlb_refill): its
 * entry and level, or in @p level a status when there is none; and what a
 * TLB entry needs of it, worked out where the walk knew the level.
 */
struct pgt__leaf {
	pgt_pte_t pte;
	int level; /**< the leaf's level; PGT_ENOENT, PGT_ERANGE or PGT_EHOOK when there is no valid leaf */
	bool run;  /**< a superpage of a run (pgt__tlb_run): one TLB entry covers the run */
	pgt_paddr_t pa; /**< the physical address of the walked va (pgt__leaf_pa) */
	pgt_pte_t key;  /**< the entry's bits that its level's codec owns (prot_mask) */
};

/** Accesses without PGT_ACC_SET_AD are below this: the size of pgt__walk_ops.translate. */
#define PGT__ACC_PLAIN PGT_ACC_SET_AD

typedef int (*pgt__translate_fn)(const pgt_space_t *sp, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa,
				 struct pgt_fault *fault);

/** A translate table with @p fn for every good access. */
#define PGT__TRANSLATE_ALL(fn) PGT__TRANSLATE_EACH(fn, fn, fn, fn, fn, fn)

/** A translate table with one function per good access (privileged, then user). */
#define PGT__TRANSLATE_EACH(r, w, x, ur, uw, ux)                                             \
	{                                                                                    \
		[PGT_ACC_READ] = (r), [PGT_ACC_WRITE] = (w), [PGT_ACC_EXEC] = (x),           \
		[PGT_ACC_READ | PGT_ACC_USER] = (ur), [PGT_ACC_WRITE | PGT_ACC_USER] = (uw), \
		[PGT_ACC_EXEC | PGT_ACC_USER] = (ux),                                        \
	}

/** The walks of a descriptor, for one kind of p2v. */
struct pgt__walk_ops {
	/**
	 * pgt_lookup after the space check: PGT_OK (with *out, when not
	 * NULL), PGT_ENOENT, PGT_ERANGE (address out of range) or PGT_EHOOK (p2v NULL).
	 */
	int (*lookup)(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out);
	/**
	 * Walks towards level @p target from the root and stops at the first
	 * entry that is not a table, or at the target level's entry. PGT_OK,
	 * PGT_ERANGE for an address out of range, PGT_EHOOK when p2v fails.
	 */
	int (*walk_to)(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target, struct pgt__stop *at);
	/**
	 * pgt_translate after its space check, one per access without
	 * PGT_ACC_SET_AD, indexed by the access: NULL for a bad access
	 * (not exactly one kind). Decides at the leaf when no table entry on
	 * the way differs from the library's own (table_attrs) in a bit a
	 * hierarchical rule or a must-be-zero mask looks at; otherwise hands
	 * the access to pgt__translate_full.
	 */
	pgt__translate_fn translate[PGT__ACC_PLAIN];
	/**
	 * pgt_insert after its space check. Decides when @p page_shift is
	 * a leaf size of the descriptor's first three levels, the reserved leaf
	 * is cached and the tables down to that level exist with the slot
	 * empty (PGT_OK, with *out when not NULL), or the address is bad
	 * (PGT_EALIGN, PGT_ERANGE, PGT_ESIZE, PGT_EHOOK); otherwise hands
	 * the insert to pgt__insert_page or pgt__insert_general, having
	 * changed nothing.
	 */
	int (*insert)(pgt_space_t *sp, pgt_vaddr_t va, unsigned page_shift, pgt_ref_t *out);
	/**
	 * The miss of a pgt_tlb in step with its space (what pgt_tlb_lookup
	 * calls through the TLB when way 0 of the set does not hold the
	 * small page of @p va): way 1 and the cached superpages, else a walk
	 * of the tables that, when a hardware-valid leaf maps @p va, caches
	 * and answers its translation (lib/tlb.h); else PGT_ENOENT (nothing,
	 * or a reserved leaf), PGT_ERANGE or PGT_EHOOK, with the TLB's
	 * entries unchanged.
	 */
	int (*tlb_refill)(pgt_tlb_t *tlb, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot);
	/**
	 * pgt_set_field after the space and pointer checks (lib/field.h):
	 * the output address and remembered rights with the ref's level as
	 * a constant, the other fields through pgt__set_field_coded.
	 */
	int (*set_field)(pgt_space_t *sp, pgt_ref_t ref, enum pgt_field f, uint64_t val);
	/**
	 * pgt_map after the space check. Decides when the range is one page
	 * of the two smallest sizes, the rights are those the space encoded
	 * last, and the slot in the existing table of the page's level is
	 * empty (PGT_OK), or when p2v fails on the way (PGT_EHOOK); otherwise
	 * hands the call to pgt__map_general, having written nothing.
	 */
	int (*map)(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned prot, unsigned flags);
	/**
	 * pgt_unmap after the space check. Decides when the range is exactly
	 * one leaf (valid or reserved) whose table keeps an entry in use
	 * nearby, or when p2v fails; otherwise hands the call to
	 * pgt__unmap_general, having written nothing.
	 */
	int (*unmap)(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size);
	/**
	 * pgt_protect after the space check. Decides when the range is exactly
	 * one leaf and the rights are those the space encoded last, or when
	 * p2v fails; otherwise hands the call to pgt__protect_general, having
	 * written nothing.
	 */
	int (*protect)(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot);
};

/** pgt_map, pgt_unmap and pgt_protect for any range, by the passes (lib/range.c). */
int pgt__map_general(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned prot,
		     unsigned flags);
int pgt__unmap_general(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size);
int pgt__protect_general(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot);

/**
 * pgt_translate's full walk, for an address already checked to be in the
 * space's range: every hierarchical rule, malformed table entries and
 * PGT_ACC_SET_AD (lib/translate.c).
 */
int pgt__translate_full(const pgt_space_t *sp, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa,
			struct pgt_fault *fault);

/**
 * pgt__translate_leaf (lib/rights.h) out of line (lib/translate.c): the
 * leaf decision of a compiled translate whose leaf failed its one-compare
 * test, as a tail call.
 */
int pgt__translate_leaf_at(const struct pgt_arch *a, unsigned level, pgt_pte_t pte, pgt_vaddr_t va,
			   unsigned access, pgt_paddr_t *pa, struct pgt_fault *fault);

/**
 * pgt_insert after its space, size and alignment checks (lib/insert.c):
 * allocates missing tables, answers conflicts.
 */
int pgt__insert_general(pgt_space_t *sp, pgt_vaddr_t va, unsigned target, pgt_ref_t *out);

/**
 * pgt_insert after its space check, by the descriptor's levels (lib/insert.c):
 * the page size and alignment checks, then pgt__insert_general.
 */
int pgt__insert_page(pgt_space_t *sp, pgt_vaddr_t va, unsigned page_shift, pgt_ref_t *out);

/** The type of pgt__walk_ops.lookup, which pgt_space_t keeps as void (*)(void). */
typedef int (*pgt__lookup_fn)(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out);

/** The lookup chosen for the space at init. */
static inline pgt__lookup_fn pgt__lookup_of(const pgt_space_t *sp)
{
#ifdef PGT_VERIFY /* the analysis build: the same lookup, without a function-pointer cast */
	return ((const struct pgt__walk_ops *)sp->pgt__ops)->lookup;
#else
	return (pgt__lookup_fn)sp->pgt__lookup;
#endif
}

/** The walks chosen for the space at init. */
static inline const struct pgt__walk_ops *pgt__ops(const pgt_space_t *sp)
{
	return (const struct pgt__walk_ops *)sp->pgt__ops;
}

/** What a shipped descriptor points to (pgt_arch.walks): its compiled walks. */
struct pgt_arch_walks {
	const struct pgt_arch *arch;          /**< the descriptor they were compiled for */
	const struct pgt__walk_ops *ops[2]; /**< [0] p2v offset, [1] p2v hook */
};

/**
 * Chooses the space's walks and fills its cached fields; called by
 * pgt_space_init once the descriptor, hooks, flags and root are set.
 */
void pgt__walks_init(pgt_space_t *sp);

#endif /* PGT_LIB_WALKS_H */
