/* SPDX-License-Identifier: MIT */
/**
 * @file arch.h
 * @brief Architecture descriptors: what the engine needs to know about a
 *        page-table format, and how to write your own.
 *
 * A descriptor is const data. The engine's walk uses only the per-level
 * masks and rules below (no indirect call per entry); the two attribute
 * functions are called at most once per field operation. This is version 2
 * of the contract (PGT_ARCH_CONTRACT): address fields that may be shifted,
 * entry classes by any-of sets, encodings the hardware rejects, and the
 * derived data the engine computes itself.
 *
 * An entry is present when any bit of `valid` is set (one valid bit on
 * x86-64, ARMv8 and RISC-V; any of R/W/X in EPT). Entry classes at level l,
 * tested in this order:
 *  - table:    l > 0, present, (pte & type_mask) == table_type and no bit
 *              of leaf_any set
 *  - leaf:     leaf_ok, present, (pte & type_mask) == leaf_type and, when
 *              leaf_any is not 0, one of its bits set   (valid in hardware)
 *  - reserved: leaf_ok, not present and (pte & reserved)
 *              (inserted, no rights yet; the hardware ignores it)
 *  - empty:    not present, anything else; the library writes 0
 *  - anything else is malformed: never written by the library, never
 *    overwritten by it, and reported by the verifier.
 * A present table or leaf is malformed to the MMU (pgt_translate's
 * malformed_fault) when it has a must-be-zero bit set or matches one of
 * its level's `malformed` patterns (RISC-V: W without R).
 *
 * Output addresses: a table entry holds its table's physical address as
 * (pa >> oa_shift) & table_oa, a leaf its page's as (pa >> oa_shift) &
 * leaf_oa (RISC-V keeps PA[55:12] in bits 53:10: oa_shift 2).
 *
 * Every bit of valid must lie below table_size >> oa_shift (bit 0 on every
 * real MMU): a table-aligned address stored in an entry then reads as not
 * present, which the library relies on while tables it unlinked wait for
 * a TLB flush.
 */
#ifndef PGTABLE_ARCH_H
#define PGTABLE_ARCH_H

#include <pgtable/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most levels a descriptor may have. */
#define PGT_MAX_LEVELS 6

/** The version of the descriptor contract this header describes. */
#define PGT_ARCH_CONTRACT 2

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

/** Rules per entry class and level (see struct pgt_rule); ARMv8 stage 2 with FEAT_XNX needs five. */
#define PGT_RULES 6

/** Malformed-encoding patterns per level (see struct pgt_pattern); EPT needs four. */
#define PGT_MALFORMED 4

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

/**
 * An encoding the MMU rejects in a present entry: (pte & mask) == match.
 * A pattern with mask 0 is unused.
 */
struct pgt_pattern {
	pgt_pte_t mask;  /**< the bits the pattern looks at; 0: unused */
	pgt_pte_t match; /**< their rejected value */
};

/** One level of a page-table format. Level 0 holds the smallest pages. */
struct pgt_level {
	uint8_t shift;      /**< lowest VA bit this level indexes = log2 of a leaf's size here */
	uint8_t bits;       /**< index width; a table holds 2^bits entries (a root may be wider) */
	uint8_t leaf_ok;    /**< whether leaves (pages, blocks) may live at this level */
	uint8_t oa_shift;   /**< address fields hold pa >> oa_shift (0: in place) */
	uint32_t table_size; /**< bytes of a table at this level: 8 << bits */
	pgt_pte_t valid;      /**< an entry the hardware walks has one of these set */
	pgt_pte_t type_mask;  /**< bits that tell tables, leaves and the rest apart */
	pgt_pte_t table_type; /**< pointer to a next-level table (ignored at level 0) */
	pgt_pte_t leaf_type;  /**< valid leaf (ignored unless leaf_ok) */
	/**
	 * A leaf has one of these bits set, a table entry none (RISC-V: R, W
	 * or X); 0: type_mask alone tells them apart.
	 */
	pgt_pte_t leaf_any;
	pgt_pte_t reserved;   /**< software bit marking a reserved leaf */
	pgt_pte_t table_oa;   /**< next-table address field of a table entry (pa >> oa_shift) */
	pgt_pte_t table_attrs; /**< other bits of a table entry (grant everything) */
	pgt_pte_t leaf_oa;    /**< output-address field of a leaf (pa >> oa_shift) */
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
	 * Must-be-zero bits of a valid leaf. Those that hold address bits below
	 * `shift` (leaf_oa of a smaller page) mean a misaligned address.
	 */
	pgt_pte_t leaf_mbz;
	/**
	 * Accessed bit the hardware sets in a table entry it walks through, 0
	 * if none. It sets it only where it is clear: with this bit in
	 * table_attrs too, the library writes its table entries with it set,
	 * the MMU never writes them, and their counts (table_count) change by
	 * plain stores instead of atomic instructions.
	 */
	pgt_pte_t table_accessed;
	/** Encodings of a present entry at this level the MMU rejects (RISC-V: W without R). */
	struct pgt_pattern malformed[PGT_MALFORMED];
	/**
	 * Bits of a table entry at this level, ignored by the MMU, where the
	 * library keeps the number of used (non-zero) entries of the table the
	 * entry links: one run of bits, or up to three where no single run is
	 * wide enough (the count's low bits in the lowest run, the rest in
	 * order above), together wide enough for 0 to 2^level[l - 1].bits,
	 * clear of every other bit a table entry uses (valid, type, address,
	 * rules, must-be-zero, accessed, borrowed, pinned). With it, unmap
	 * knows a table emptied without reading the table. 0: no room (and
	 * always at level 0); the engine then scans the table. Entries marked
	 * borrowed or pinned (pgt_share) keep no count: their tables are
	 * shared and never freed through the space.
	 */
	pgt_pte_t table_count;
};

/** The walks compiled for a shipped descriptor (private to the library). */
struct pgt_arch_walks;

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
	/**
	 * Non-zero: a write to a valid leaf without its `dirty` bit takes
	 * PGT_FAULT_DIRTY (RISC-V Svade); 0: the MMU sets the bit itself.
	 */
	uint8_t dirty_fault;
	/**
	 * 1 (or 0) for a first-stage format, virtual to physical; 2 for a
	 * second-stage one, guest-physical to host-physical (FORMATS.md).
	 */
	uint8_t stage;
	/**
	 * Walks the library compiled with this descriptor's masks as constants;
	 * used only when they were compiled for this very descriptor (a copy
	 * gets the engine's walk). NULL in a descriptor of your own.
	 */
	const struct pgt_arch_walks *walks;
	/**
	 * Zero. Room for what later versions of the contract add, each with
	 * a meaning at zero that is today's behaviour; pgt_space_init refuses
	 * a descriptor that sets any of it.
	 */
	uint64_t pgt__room[4];
};

#ifdef __cplusplus
}
#endif

#endif /* PGTABLE_ARCH_H */
