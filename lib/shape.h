/*
 * Walks compiled once per tree shape (generic_pt style).
 *
 * A shape is the number of levels, the index width of every level and the
 * page shift of level 0, plus how tables are reached: through the constant
 * p2v offset or through the caller's hook. Every shipped descriptor has one
 * of a handful of shapes. Inside an instantiation every shift, index mask
 * and level number is a compile-time constant and the level loop is
 * unrolled, so an entry costs a load, a mask, a compare and an add. The
 * descriptor's masks stay data (the engine never names an architecture).
 *
 * pgt__shape_init picks the instantiation once per space; the operations
 * then pay one indirect call each, never one per entry. A descriptor of no
 * known shape (or with table masks that differ between levels) gets the
 * generic walk, which reads shifts and masks from the descriptor.
 */
#ifndef PGT_LIB_SHAPE_H
#define PGT_LIB_SHAPE_H

#include "internal.h"

/** Where a walk towards a target level stopped. */
struct pgt__stop {
	pgt_pte_t *pte; /**< entry at `level` on the path to the address */
	unsigned level;
};

/** The walks of one shape. */
struct pgt__shape_ops {
	/**
	 * pgt_lookup after the space check: PGT_OK (with *out, when not
	 * NULL), PGT_ENOENT, or PGT_EINVAL (address out of range, p2v NULL).
	 */
	int (*lookup)(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out);
	/**
	 * Walks towards level @p target from the root and stops at the first
	 * entry that is not a table, or at the target level's entry. The
	 * address must have been checked. PGT_OK, or PGT_EINVAL when p2v fails.
	 */
	int (*walk_to)(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target, struct pgt__stop *at);
};

/** The walks chosen for the space at init. */
static inline const struct pgt__shape_ops *pgt__ops(const pgt_space_t *sp)
{
	return (const struct pgt__shape_ops *)sp->pgt__ops;
}

/**
 * Chooses the space's walks and fills its cached fields; called by
 * pgt_space_init once the descriptor, hooks, flags and root are set.
 */
void pgt__shape_init(pgt_space_t *sp);

#endif /* PGT_LIB_SHAPE_H */
