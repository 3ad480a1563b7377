/* SPDX-License-Identifier: MIT */
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

/**
 * Rights of one translation, as pgt_translate combines them: privileged and
 * unprivileged read, write and execute. An access of kind PGT_ACC_* needs
 * the right (access & 7) << (PGT_ACC_USER ? 3 : 0).
 */
enum pgt_rights {
	PGT_RIGHT_PR = 1,  /**< privileged read */
	PGT_RIGHT_PW = 2,  /**< privileged write */
	PGT_RIGHT_PX = 4,  /**< privileged execute */
	PGT_RIGHT_UR = 8,  /**< unprivileged read */
	PGT_RIGHT_UW = 16, /**< unprivileged write */
	PGT_RIGHT_UX = 32, /**< unprivileged execute */
	PGT_RIGHTS_ALL = 63
};

/** Rules per entry class and level (see struct pgt_rule). */
#define PGT_RULES 4

/**
 * One access-control rule of an entry: when (pte & mask) == match, the
 * rights in `removes` are lost (for a table entry: for everything below it).
 * A zero rule matches every entry and removes nothing.
 */
struct pgt_rule {
	pgt_pte_t mask;   /**< the bits the rule looks at */
	pgt_pte_t match;  /**< their value when the rule applies */
	uint32_t removes; /**< enum pgt_rights */
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
	/**
	 * Hierarchical controls of a table entry (x86-64 RW/US/NX, ARMv8
	 * APTable/UXNTable/PXNTable): rights it takes from everything below.
	 * Data, not code, so that pgt_translate stays masks and shifts.
	 */
	struct pgt_rule table_rules[PGT_RULES];
	/** The rights a valid leaf grants: every right minus what these rules remove. */
	struct pgt_rule leaf_rules[PGT_RULES];
	/** Must-be-zero (reserved, RES0) bits of a valid table entry. */
	pgt_pte_t table_mbz;
	/**
	 * Must-be-zero bits of a valid leaf. Those below `shift` lie in the
	 * output-address field of a smaller page: set, the address is misaligned.
	 */
	pgt_pte_t leaf_mbz;
	/** Accessed bit the hardware sets in a table entry it walks through, 0 if none. */
	pgt_pte_t table_accessed;
	/**
	 * The union of the table_rules masks. A table entry that agrees with
	 * table_attrs on these bits matches no rule (table_attrs grants
	 * everything), so the walk skips its rules; 0: always evaluate them.
	 */
	pgt_pte_t table_rule_bits;
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
	/**
	 * Decodes the PGT_PROT_* bits of a leaf (valid or reserved) at
	 * @p level, reading no bit outside level[level].prot_mask. Both
	 * codec functions are pure: the library may remember their answers.
	 */
	unsigned (*prot_decode)(unsigned level, pgt_pte_t pte);
	/**
	 * Applied after the rules of the whole walk: when every right in
	 * `implied_if` survives, the rights in `implied_removes` are lost
	 * (ARMv8: a location writable at EL0 is never executable at EL1).
	 * 0 and 0: nothing.
	 */
	uint8_t implied_if;
	uint8_t implied_removes; /**< see implied_if */
	/** Non-zero: a valid leaf without its `accessed` bit takes PGT_FAULT_ACCESS_FLAG. */
	uint8_t af_fault;
	/**
	 * The enum pgt_fault_kind a malformed entry on the walk gives (must-be-zero
	 * bits set, a leaf where the level allows none, an undefined encoding).
	 */
	uint8_t malformed_fault;
};

#ifdef __cplusplus
}
#endif

#endif /* PGTABLE_ARCH_H */
