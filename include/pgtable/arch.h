/**
 * @file arch.h
 * @brief Architecture descriptors: what the engine needs to know about a
 *        page-table format, and how to write your own.
 *
 * A descriptor is const data. The engine's walk uses only the per-level
 * masks below (no indirect call per entry); the two attribute functions are
 * called at most once per field operation.
 *
 * Entry classes at level l, tested in this order:
 *  - table:    l > 0 and (pte & type_mask) == table_type
 *  - leaf:     leaf_ok and (pte & type_mask) == leaf_type   (valid in hardware)
 *  - reserved: leaf_ok and !(pte & valid) and (pte & reserved)
 *              (inserted, no rights yet; the hardware ignores it)
 *  - empty:    !(pte & valid), anything else; the library writes 0
 *  - anything else is malformed: never written by the library, never
 *    overwritten by it, and reported by the verifier.
 *
 * The valid bit must lie below the table size (bit 0 on every real MMU):
 * a table-aligned address stored in an entry then reads as invalid, which
 * the library relies on while tables it unlinked wait for a TLB flush.
 */
#ifndef PGTABLE_ARCH_H
#define PGTABLE_ARCH_H

#include <pgtable/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most levels a descriptor may have. */
#define PGT_MAX_LEVELS 6

/** How a descriptor's virtual addresses must look. */
enum pgt_canon {
	/** x86-64: bits above va_bits-1 are copies of bit va_bits-1. */
	PGT_CANON_SIGN_EXTEND = 0,
	/** ARMv8: [0, 2^va_bits), or [2^64 - 2^va_bits, 2^64) with PGT_SPACE_UPPER. */
	PGT_CANON_SPLIT = 1
};

/** One level of a page-table format. Level 0 holds the smallest pages. */
struct pgt_level {
	uint8_t shift;      /**< lowest VA bit this level indexes = log2 of a leaf's size here */
	uint8_t bits;       /**< index width; a table holds 2^bits entries */
	uint8_t leaf_ok;    /**< whether leaves (pages, blocks) may live at this level */
	uint8_t pad_;       /**< zero */
	uint32_t table_size; /**< bytes of a table at this level: 8 << bits */
	pgt_pte_t valid;      /**< set in every entry the hardware walks */
	pgt_pte_t type_mask;  /**< bits that tell tables, leaves and the rest apart */
	pgt_pte_t table_type; /**< pointer to a next-level table (ignored at level 0) */
	pgt_pte_t leaf_type;  /**< valid leaf (ignored unless leaf_ok) */
	pgt_pte_t reserved;   /**< software bit marking a reserved leaf */
	pgt_pte_t table_oa;   /**< next-table address field of a table entry */
	pgt_pte_t table_attrs; /**< other bits of a table entry (grant everything) */
	pgt_pte_t leaf_oa;    /**< output-address field of a leaf */
	pgt_pte_t prot_mask;  /**< every bit prot_encode may set at this level */
	pgt_pte_t accessed;   /**< accessed bit of a leaf, 0 if none */
	pgt_pte_t dirty;      /**< dirty bit of a leaf, 0 if none */
	/**
	 * Software bits of a table entry for pgt_share (0: the descriptor
	 * cannot share at this level). `borrowed`: the linked table belongs to
	 * another space, never freed through this one. `pinned`: the linked
	 * table is shared with other spaces; it stays while the owner lives.
	 */
	pgt_pte_t table_borrowed;
	pgt_pte_t table_pinned; /**< see table_borrowed */
};

/** A page-table format. */
struct pgt_arch {
	const char *name;   /**< as pgt_arch_by_name knows it */
	uint8_t levels;     /**< number of levels; the root is level levels-1 */
	uint8_t va_bits;    /**< virtual address width */
	uint8_t pa_bits;    /**< physical address width */
	uint8_t canon;      /**< enum pgt_canon */
	/**
	 * Non-zero when a valid entry may not be replaced by one of another
	 * size or output address in one store (ARMv8: break-before-make,
	 * Arm ARM D8.15): the library writes it invalid, calls tlb_flush, then
	 * writes the new entry.
	 */
	uint8_t break_before_make;
	struct pgt_level level[PGT_MAX_LEVELS]; /**< indexed by level number */
	/**
	 * Encodes a leaf's protection (PGT_PROT_* bits) at @p level into *bits,
	 * within level[level].prot_mask. With no right (read, write, exec) it
	 * encodes a reserved leaf: not valid, marked with `reserved`, other
	 * attributes kept. Returns PGT_OK or PGT_ENOTSUP.
	 */
	int (*prot_encode)(unsigned level, unsigned prot, pgt_pte_t *bits);
	/** Decodes the PGT_PROT_* bits of a leaf (valid or reserved) at @p level. */
	unsigned (*prot_decode)(unsigned level, pgt_pte_t pte);
};

#ifdef __cplusplus
}
#endif

#endif /* PGTABLE_ARCH_H */
