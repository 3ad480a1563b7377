/* SPDX-License-Identifier: MIT */
/*
 * ARMv8-A VMSAv8-64 stage-2 descriptors: guest-physical (IPA) to physical,
 * 4K, 16K and 64K granules. Arm ARM (DDI 0487) D8.3 "Translation table
 * descriptor formats" with the stage 2 attributes of Block and Page
 * descriptors, D8.4 stage 2 data access permissions (S2AP) and instruction
 * execution (XN with FEAT_XNX); D5.3/D5.4 in issues before I.a. Bits named
 * in pgtable/armv8.h; VTCR_EL2 values for each format are listed there.
 *
 * Table descriptors are 0b11 and nothing else: stage-2 table descriptors
 * have no attribute field, so no hierarchical rule. Leaves are pages (0b11)
 * at level 0 and blocks (0b01) above, and carry AF. PGT_PROT_USER and
 * PGT_PROT_GLOBAL mean nothing to stage 2 (the stage-1 regime decides EL0
 * vs EL1; entries are tagged by VMID): encoding accepts and drops them, and
 * decoding never reports them.
 */
#include <pgtable/arch.h>
#include <pgtable/armv8.h>

#define S2_TYPE_BITS (PGT_ARMV8_VALID | PGT_ARMV8_TYPE)
#define S2_PROT_BITS (S2_TYPE_BITS | PGT_ARMV8_S2_MEMATTR_MASK | PGT_ARMV8_S2AP_R | PGT_ARMV8_S2AP_W | \
		      PGT_ARMV8_SH_MASK | PGT_ARMV8_AF | PGT_ARMV8_S2_XN_MASK | PGT_ARMV8_SW_RESERVED)

/*
 * MemAttr with HCR_EL2.FWB 0: Normal write-back, Normal non-cacheable,
 * Device-nGnRE. Stage 2 has no write-combining type (Normal-NC is the
 * closest): PGT_PROT_WRITECOMBINE is PGT_ENOTSUP.
 */
static int s2_memattr(unsigned prot, pgt_pte_t *bits)
{
	switch (prot & PGT_PROT_MEMTYPE) {
	case 0: *bits = PGT_ARMV8_S2_MEMATTR(PGT_ARMV8_S2_MEMATTR_NORMAL); return PGT_OK;
	case PGT_PROT_NONCACHEABLE: *bits = PGT_ARMV8_S2_MEMATTR(PGT_ARMV8_S2_MEMATTR_NORMAL_NC); return PGT_OK;
	case PGT_PROT_UNCACHED: *bits = PGT_ARMV8_S2_MEMATTR(PGT_ARMV8_S2_MEMATTR_DEVICE); return PGT_OK;
	default: return PGT_ENOTSUP;
	}
}

/*
 * Every Device type (MemAttr[3:2] = 0b00) reads as PGT_PROT_UNCACHED,
 * Normal non-cacheable as PGT_PROT_NONCACHEABLE, any other Normal type
 * (write-through, or mixed inner and outer) as the cached default.
 */
static unsigned s2_memtype_prot(pgt_pte_t pte)
{
	pgt_pte_t m = pte & PGT_ARMV8_S2_MEMATTR_MASK;

	if (!(m & PGT_ARMV8_S2_MEMATTR(0xc)))
		return PGT_PROT_UNCACHED;
	return m == PGT_ARMV8_S2_MEMATTR(PGT_ARMV8_S2_MEMATTR_NORMAL_NC) ? PGT_PROT_NONCACHEABLE : 0;
}

/* Every right is expressible: S2AP has write-only, XN execute without read. */
static int s2_prot_encode(unsigned level, unsigned prot, pgt_pte_t *bits)
{
	pgt_pte_t attrs;

	if (s2_memattr(prot, &attrs) != PGT_OK)
		return PGT_ENOTSUP;
	attrs |= PGT_ARMV8_SH_INNER;
	attrs |= (prot & PGT_PROT_READ) ? PGT_ARMV8_S2AP_R : 0;
	attrs |= (prot & PGT_PROT_WRITE) ? PGT_ARMV8_S2AP_W : 0;
	attrs |= (prot & PGT_PROT_EXEC) ? 0 : PGT_ARMV8_S2_XN_ALL;
	if (!(prot & (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC))) {
		*bits = PGT_ARMV8_SW_RESERVED | attrs; /* bit 0 clear: the MMU reads nothing else */
		return PGT_OK;
	}
	pgt_pte_t type = level == 0 ? S2_TYPE_BITS : PGT_ARMV8_VALID; /* page : block */
	*bits = type | PGT_ARMV8_AF | attrs;
	return PGT_OK;
}

/*
 * EXEC only when every exception level may execute (XN 0b00): a leaf that
 * FEAT_XNX opens to one of EL0 and EL1 reads as not executable, so that
 * writing its prot back never widens it.
 */
static unsigned s2_prot_decode(unsigned level, pgt_pte_t pte)
{
	unsigned prot = 0;

	(void)level;
	if (pte & PGT_ARMV8_VALID) {
		prot |= (pte & PGT_ARMV8_S2AP_R) ? PGT_PROT_READ : 0;
		prot |= (pte & PGT_ARMV8_S2AP_W) ? PGT_PROT_WRITE : 0;
		prot |= (pte & PGT_ARMV8_S2_XN_MASK) ? 0 : PGT_PROT_EXEC;
	}
	return prot | s2_memtype_prot(pte);
}

/*
 * Stage 2 permissions (D8.4): S2AP[0] clear forbids reads, S2AP[1] clear
 * writes, at EL0 and EL1 alike (PGT_ACC_USER changes nothing for data).
 * XN[1:0] (FEAT_XNX): 0b00 everyone executes, 0b01 not EL1, 0b10 no one,
 * 0b11 not EL0; PGT_ACC_USER selects the EL0 case.
 */
#define S2_LEAF_RULES                                                                                     \
	{                                                                                                 \
		{ PGT_ARMV8_S2AP_R, 0, PGT_RIGHT_PR | PGT_RIGHT_UR },                                     \
		{ PGT_ARMV8_S2AP_W, 0, PGT_RIGHT_PW | PGT_RIGHT_UW },                                     \
		{ PGT_ARMV8_S2_XN_MASK, PGT_ARMV8_S2_XN_EL1, PGT_RIGHT_PX },                              \
		{ PGT_ARMV8_S2_XN_MASK, PGT_ARMV8_S2_XN_ALL, PGT_RIGHT_PX | PGT_RIGHT_UX },               \
		{ PGT_ARMV8_S2_XN_MASK, PGT_ARMV8_S2_XN_EL0, PGT_RIGHT_UX },                              \
	}

/* Bits [hi-1:lo] of an entry. */
#define S2_BITS(hi, lo) ((((pgt_pte_t)1 << (hi)) - 1) & ~(((pgt_pte_t)1 << (lo)) - 1))

/*
 * RES0 bits with 48-bit OA, as in stage 1 (D8.3.1/D8.3.2): table [50:48]
 * and [g-1:12]; page [49:48] and [g-1:12]; block of 2^sh bytes [49:48] and
 * [sh-1:12] but bit 16 (nT with FEAT_BBM).
 */
#define S2_TABLE_MBZ(g) (PGT_ARMV8_TABLE_RES0 | S2_BITS(g, 12))
#define S2_LEAF_MBZ(g, sh) \
	(PGT_ARMV8_LEAF_RES0 | ((sh) == (g) ? S2_BITS(g, 12) : S2_BITS(sh, 12) & ~PGT_ARMV8_BLOCK_NT))

/*
 * One level of a granule of 2^g bytes whose tables hold 2^nb entries (more
 * than 2^(g-3) at a start level of concatenated tables). A leaf maps 2^sh
 * bytes; a table entry points at the next table through OA[47:g].
 */
#define S2_LEVEL(g, sh, nb, leaf)                                                     \
	{                                                                             \
		.shift = (sh), .bits = (nb), .leaf_ok = (leaf),                       \
		.table_size = 8u << (nb), .valid = PGT_ARMV8_VALID,                   \
		.type_mask = S2_TYPE_BITS, .table_type = S2_TYPE_BITS,                \
		.leaf_type = (sh) == (g) ? S2_TYPE_BITS : PGT_ARMV8_VALID,            \
		.reserved = PGT_ARMV8_SW_RESERVED, .table_oa = PGT_ARMV8_OA(g),       \
		.table_attrs = 0, .leaf_oa = (leaf) ? PGT_ARMV8_OA(sh) : 0,           \
		.prot_mask = S2_PROT_BITS,                                            \
		.accessed = (leaf) ? PGT_ARMV8_AF : 0,                                \
		.dirty = (leaf) ? PGT_ARMV8_S2_SW_DIRTY : 0,                          \
		.table_borrowed = (sh) == (g) ? 0 : PGT_ARMV8_SW_BORROWED,            \
		.table_pinned = (sh) == (g) ? 0 : PGT_ARMV8_SW_PINNED,                \
		.leaf_rules = S2_LEAF_RULES,                                          \
		.table_mbz = S2_TABLE_MBZ(g), .leaf_mbz = S2_LEAF_MBZ(g, sh),         \
		.table_count = (sh) == (g) ? 0 : PGT_ARMV8_SW_COUNT(g),              \
	}

#define S2_DESC(nm, nlev, ipa, walks_, ...)                                            \
	{                                                                              \
		.name = (nm), .levels = (nlev), .va_bits = (ipa), .pa_bits = 48,       \
		.canon = PGT_CANON_SPLIT, .break_before_make = 1,                      \
		.level = { __VA_ARGS__ },                                              \
		.prot_encode = s2_prot_encode, .prot_decode = s2_prot_decode,          \
		.af_fault = 1, .malformed_fault = PGT_FAULT_NOT_PRESENT,               \
		.stage = 2, .walks = (walks_),                                         \
	}

/* 4K granule, 40-bit IPA: start level 1 (1G blocks) with 2 concatenated tables. */
#define S2_4K_40(w) \
	S2_DESC("armv8-s2-4k-40", 3, 40, w, S2_LEVEL(12, 12, 9, 1), S2_LEVEL(12, 21, 9, 1), S2_LEVEL(12, 30, 10, 1))
/* 4K granule, 48-bit IPA: start level 0, which has no blocks. */
#define S2_4K_48(w)                                                                                      \
	S2_DESC("armv8-s2-4k-48", 4, 48, w, S2_LEVEL(12, 12, 9, 1), S2_LEVEL(12, 21, 9, 1),              \
		S2_LEVEL(12, 30, 9, 1), S2_LEVEL(12, 39, 9, 0))
/* 16K granule, 40-bit IPA: start level 2 (32M blocks) with 16 concatenated tables. */
#define S2_16K_40(w) S2_DESC("armv8-s2-16k-40", 2, 40, w, S2_LEVEL(14, 14, 11, 1), S2_LEVEL(14, 25, 15, 1))
/* 64K granule, 42-bit IPA: start level 2 (512M blocks), one table. */
#define S2_64K_42(w) S2_DESC("armv8-s2-64k-42", 2, 42, w, S2_LEVEL(16, 16, 13, 1), S2_LEVEL(16, 29, 13, 1))

/* --- walks compiled with these masks as constants ------------------------------ */

#include "../../lib/walks_tpl.h"

/* Defined below by PGT__WALKS; the descriptors point to them. */
static const struct pgt_arch_walks s2_4k_40_walks, s2_4k_48_walks, s2_16k_40_walks, s2_64k_42_walks;

PGT_API const struct pgt_arch pgt_arch_armv8_s2_4k_40 = S2_4K_40(&s2_4k_40_walks);
PGT_API const struct pgt_arch pgt_arch_armv8_s2_4k_48 = S2_4K_48(&s2_4k_48_walks);
PGT_API const struct pgt_arch pgt_arch_armv8_s2_16k_40 = S2_16K_40(&s2_16k_40_walks);
PGT_API const struct pgt_arch pgt_arch_armv8_s2_64k_42 = S2_64K_42(&s2_64k_42_walks);

/*
 * Static copies of the descriptors, which the compiler folds into the walks
 * (it may not fold the exported ones: a shared library's data can be
 * interposed).
 */
static const struct pgt_arch walk_4k_40 = S2_4K_40(NULL);
static const struct pgt_arch walk_4k_48 = S2_4K_48(NULL);
static const struct pgt_arch walk_16k_40 = S2_16K_40(NULL);
static const struct pgt_arch walk_64k_42 = S2_64K_42(NULL);

PGT__WALKS(s2_4k_40_walks, &walk_4k_40, &pgt_arch_armv8_s2_4k_40)
PGT__WALKS(s2_4k_48_walks, &walk_4k_48, &pgt_arch_armv8_s2_4k_48)
PGT__WALKS(s2_16k_40_walks, &walk_16k_40, &pgt_arch_armv8_s2_16k_40)
PGT__WALKS(s2_64k_42_walks, &walk_64k_42, &pgt_arch_armv8_s2_64k_42)
