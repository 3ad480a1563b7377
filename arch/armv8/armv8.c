/* SPDX-License-Identifier: MIT */
/*
 * ARMv8-A VMSAv8-64 stage-1 descriptors for the 4K, 16K and 64K granules.
 * Arm ARM (DDI 0487) D8.3 "Translation table descriptor formats" (D5.3 in
 * issues before I.a); bits named in pgtable/armv8.h.
 *
 * Table descriptors are 0b11 with APTable/UXNTable/PXNTable left 0 (no
 * restriction, so the leaf decides). Leaves are pages (0b11) at level 0 and
 * blocks (0b01) above. Valid leaves always carry AF, so no access-flag fault
 * is taken on a fresh mapping.
 */
#include <pgtable/arch.h>
#include <pgtable/armv8.h>

#define ARM_TYPE_BITS (PGT_ARMV8_VALID | PGT_ARMV8_TYPE)
#define ARM_PROT_BITS (ARM_TYPE_BITS | PGT_ARMV8_ATTRINDX_MASK | PGT_ARMV8_AP_USER | PGT_ARMV8_AP_RO | \
		       PGT_ARMV8_SH_MASK | PGT_ARMV8_AF | PGT_ARMV8_NG | PGT_ARMV8_PXN | PGT_ARMV8_UXN | \
		       PGT_ARMV8_SW_RESERVED)

/* Execute-never bits: user-executable pages are PXN (the kernel never runs user code). */
static pgt_pte_t arm_xn(unsigned prot)
{
	if (!(prot & PGT_PROT_EXEC))
		return PGT_ARMV8_PXN | PGT_ARMV8_UXN;
	return (prot & PGT_PROT_USER) ? PGT_ARMV8_PXN : PGT_ARMV8_UXN;
}

/*
 * Memory types as AttrIndx into PGT_ARMV8_MAIR: normal write-back, device,
 * normal non-cacheable. Stage 1 has no write-combining type of its own
 * (Normal-NC is the closest): PGT_PROT_WRITECOMBINE is not encoded.
 */
static unsigned arm_attr_index(unsigned prot)
{
	switch (prot & PGT_PROT_MEMTYPE) {
	case PGT_PROT_UNCACHED: return PGT_ARMV8_ATTR_DEVICE;
	case PGT_PROT_NONCACHEABLE: return PGT_ARMV8_ATTR_NORMAL_NC;
	default: return PGT_ARMV8_ATTR_NORMAL;
	}
}

static unsigned arm_memtype_prot(pgt_pte_t pte)
{
	switch (pte & PGT_ARMV8_ATTRINDX_MASK) {
	case PGT_ARMV8_ATTRINDX(PGT_ARMV8_ATTR_NORMAL): return 0;
	case PGT_ARMV8_ATTRINDX(PGT_ARMV8_ATTR_NORMAL_NC): return PGT_PROT_NONCACHEABLE;
	default: return PGT_PROT_UNCACHED; /* device, and indices PGT_ARMV8_MAIR leaves device nGnRnE */
	}
}

/* Attributes that a reserved leaf keeps too (the hardware ignores them while bit 0 is 0). */
static pgt_pte_t arm_attrs(unsigned prot)
{
	pgt_pte_t bits = PGT_ARMV8_SH_INNER | arm_xn(prot);

	bits |= PGT_ARMV8_ATTRINDX(arm_attr_index(prot));
	bits |= (prot & PGT_PROT_USER) ? PGT_ARMV8_AP_USER : 0;
	bits |= (prot & PGT_PROT_WRITE) ? 0 : PGT_ARMV8_AP_RO;
	bits |= (prot & PGT_PROT_GLOBAL) ? 0 : PGT_ARMV8_NG;
	return bits;
}

static int arm_prot_encode(unsigned level, unsigned prot, pgt_pte_t *bits)
{
	unsigned rights = prot & (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC);

	if (rights && !(rights & PGT_PROT_READ))
		return PGT_ENOTSUP; /* stage-1 AP has no write-only or execute-only encoding */
	if (prot & PGT_PROT_WRITECOMBINE)
		return PGT_ENOTSUP;
	if (!rights) {
		*bits = PGT_ARMV8_SW_RESERVED | arm_attrs(prot);
		return PGT_OK;
	}
	pgt_pte_t type = level == 0 ? ARM_TYPE_BITS : PGT_ARMV8_VALID; /* page : block */
	*bits = type | PGT_ARMV8_AF | arm_attrs(prot);
	return PGT_OK;
}

static unsigned arm_prot_decode(unsigned level, pgt_pte_t pte)
{
	unsigned prot = 0;
	int user = !!(pte & PGT_ARMV8_AP_USER);
	pgt_pte_t xn = user ? PGT_ARMV8_UXN : PGT_ARMV8_PXN;

	(void)level;
	if (pte & PGT_ARMV8_VALID) {
		prot |= PGT_PROT_READ;
		prot |= (pte & PGT_ARMV8_AP_RO) ? 0 : PGT_PROT_WRITE;
		prot |= (pte & xn) ? 0 : PGT_PROT_EXEC;
	}
	prot |= user ? PGT_PROT_USER : 0;
	prot |= (pte & PGT_ARMV8_NG) ? 0 : PGT_PROT_GLOBAL;
	return prot | arm_memtype_prot(pte);
}

/*
 * Stage-1 EL1&0 permissions, Arm ARM D8.4 (D5.4 in older issues). A table
 * descriptor's APTable[0] takes EL0 data access from everything below,
 * APTable[1] takes writes, UXNTable and PXNTable take execution. A leaf's
 * AP[1] clear means no EL0 data access, AP[2] read-only; UXN and PXN.
 */
#define ARM_TABLE_RULES                                                                           \
	{                                                                                         \
		{ PGT_ARMV8_APTABLE_NO_EL0, PGT_ARMV8_APTABLE_NO_EL0, PGT_RIGHT_UR | PGT_RIGHT_UW }, \
		{ PGT_ARMV8_APTABLE_RO, PGT_ARMV8_APTABLE_RO, PGT_RIGHT_PW | PGT_RIGHT_UW },       \
		{ PGT_ARMV8_UXNTABLE, PGT_ARMV8_UXNTABLE, PGT_RIGHT_UX },                          \
		{ PGT_ARMV8_PXNTABLE, PGT_ARMV8_PXNTABLE, PGT_RIGHT_PX },                          \
	}
#define ARM_LEAF_RULES                                                                \
	{                                                                             \
		{ PGT_ARMV8_AP_USER, 0, PGT_RIGHT_UR | PGT_RIGHT_UW },                \
		{ PGT_ARMV8_AP_RO, PGT_ARMV8_AP_RO, PGT_RIGHT_PW | PGT_RIGHT_UW },    \
		{ PGT_ARMV8_UXN, PGT_ARMV8_UXN, PGT_RIGHT_UX },                       \
		{ PGT_ARMV8_PXN, PGT_ARMV8_PXN, PGT_RIGHT_PX },                       \
	}

/* Bits [hi-1:lo] of an entry. */
#define ARM_BITS(hi, lo) ((((pgt_pte_t)1 << (hi)) - 1) & ~(((pgt_pte_t)1 << (lo)) - 1))

/*
 * RES0 bits with 48-bit OA (D8.3.1/D8.3.2). Table descriptor: [50:48] and
 * [g-1:12] below the next-table address. Page: [49:48] and [g-1:12]. Block
 * of 2^sh bytes: [49:48] and [sh-1:12] except bit 16 (nT with FEAT_BBM).
 */
#define ARM_TABLE_MBZ(g) (PGT_ARMV8_TABLE_RES0 | ARM_BITS(g, 12))
#define ARM_LEAF_MBZ(g, sh) \
	(PGT_ARMV8_LEAF_RES0 | ((sh) == (g) ? ARM_BITS(g, 12) : ARM_BITS(sh, 12) & ~PGT_ARMV8_BLOCK_NT))

/*
 * One level of a granule of 2^g bytes: tables hold 2^(g-3) entries and point
 * at the next table through OA[47:g]. A leaf here maps 2^sh bytes.
 */
#define ARM_LEVEL(g, sh, leaf)                                                        \
	{                                                                             \
		.shift = (sh), .bits = (g) - 3, .leaf_ok = (leaf),                    \
		.table_size = 1u << (g), .valid = PGT_ARMV8_VALID,                    \
		.type_mask = ARM_TYPE_BITS, .table_type = ARM_TYPE_BITS,              \
		.leaf_type = (sh) == (g) ? ARM_TYPE_BITS : PGT_ARMV8_VALID,           \
		.reserved = PGT_ARMV8_SW_RESERVED, .table_oa = PGT_ARMV8_OA(g),       \
		.table_attrs = 0, .leaf_oa = (leaf) ? PGT_ARMV8_OA(sh) : 0,           \
		.prot_mask = ARM_PROT_BITS,                                           \
		.accessed = (leaf) ? PGT_ARMV8_AF : 0,                                \
		.dirty = (leaf) ? PGT_ARMV8_SW_DIRTY : 0,                             \
		.table_borrowed = (sh) == (g) ? 0 : PGT_ARMV8_SW_BORROWED,            \
		.table_pinned = (sh) == (g) ? 0 : PGT_ARMV8_SW_PINNED,                \
		.table_rules = ARM_TABLE_RULES, .leaf_rules = ARM_LEAF_RULES,         \
		.table_mbz = ARM_TABLE_MBZ(g), .leaf_mbz = ARM_LEAF_MBZ(g, sh),       \
		.table_accessed = 0,                                                  \
		.table_count = (sh) == (g) ? 0 : PGT_ARMV8_SW_COUNT(g),              \
	}

#define ARM_DESC(nm, nlev, va, walks_, ...)                                                \
	{                                                                              \
		.name = (nm), .levels = (nlev), .va_bits = (va), .pa_bits = 48,        \
		.canon = PGT_CANON_SPLIT, .break_before_make = 1,                      \
		.level = { __VA_ARGS__ },                                              \
		.prot_encode = arm_prot_encode, .prot_decode = arm_prot_decode,        \
		/* EL0-writable is never EL1-executable (D8.4, "PXN treated as 1") */  \
		.implied_if = PGT_RIGHT_UW, .implied_removes = PGT_RIGHT_PX,           \
		.af_fault = 1, .malformed_fault = PGT_FAULT_NOT_PRESENT,               \
		.walks = (walks_),                                                     \
	}

/* 4K granule: 4K pages, 2M and 1G blocks; level 3 (ARM's L0) has no blocks. */
#define ARM_4K_39(w) ARM_DESC("armv8-4k-39", 3, 39, w, ARM_LEVEL(12, 12, 1), ARM_LEVEL(12, 21, 1), ARM_LEVEL(12, 30, 1))
#define ARM_4K_48(w)                                                                                \
	ARM_DESC("armv8-4k-48", 4, 48, w, ARM_LEVEL(12, 12, 1), ARM_LEVEL(12, 21, 1), ARM_LEVEL(12, 30, 1), \
		 ARM_LEVEL(12, 39, 0))
/* 16K granule: 16K pages and 32M blocks (64G blocks need FEAT_LPA2). */
#define ARM_16K_47(w) \
	ARM_DESC("armv8-16k-47", 3, 47, w, ARM_LEVEL(14, 14, 1), ARM_LEVEL(14, 25, 1), ARM_LEVEL(14, 36, 0))
/* 64K granule: 64K pages and 512M blocks (4T blocks need FEAT_LPA). */
#define ARM_64K_42(w) ARM_DESC("armv8-64k-42", 2, 42, w, ARM_LEVEL(16, 16, 1), ARM_LEVEL(16, 29, 1))

/* --- walks compiled with these masks as constants ------------------------------ */

#include "../../lib/walks_tpl.h"

/* Defined below by PGT__WALKS; the descriptors point to them. */
static const struct pgt_arch_walks arm_4k_39_walks, arm_4k_48_walks, arm_16k_47_walks, arm_64k_42_walks;

PGT_API const struct pgt_arch pgt_arch_armv8_4k_39 = ARM_4K_39(&arm_4k_39_walks);
PGT_API const struct pgt_arch pgt_arch_armv8_4k_48 = ARM_4K_48(&arm_4k_48_walks);
PGT_API const struct pgt_arch pgt_arch_armv8_16k_47 = ARM_16K_47(&arm_16k_47_walks);
PGT_API const struct pgt_arch pgt_arch_armv8_64k_42 = ARM_64K_42(&arm_64k_42_walks);

/*
 * Static copies of the descriptors, which the compiler folds into the walks
 * (it may not fold the exported ones: a shared library's data can be
 * interposed).
 */
static const struct pgt_arch walk_4k_39 = ARM_4K_39(NULL);
static const struct pgt_arch walk_4k_48 = ARM_4K_48(NULL);
static const struct pgt_arch walk_16k_47 = ARM_16K_47(NULL);
static const struct pgt_arch walk_64k_42 = ARM_64K_42(NULL);

PGT__WALKS(arm_4k_39_walks, &walk_4k_39, &pgt_arch_armv8_4k_39)
PGT__WALKS(arm_4k_48_walks, &walk_4k_48, &pgt_arch_armv8_4k_48)
PGT__WALKS(arm_16k_47_walks, &walk_16k_47, &pgt_arch_armv8_16k_47)
PGT__WALKS(arm_64k_42_walks, &walk_64k_42, &pgt_arch_armv8_64k_42)
