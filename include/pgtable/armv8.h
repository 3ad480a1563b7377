/* SPDX-License-Identifier: MIT */
/**
 * @file armv8.h
 * @brief ARMv8-A VMSAv8-64 stage-1 descriptor bits (Arm ARM DDI 0487,
 *        D8.3 "Translation table descriptor formats"; D5.3 in older issues),
 *        as the ARMv8 descriptors encode them.
 */
#ifndef PGTABLE_ARMV8_H
#define PGTABLE_ARMV8_H

#include <pgtable/pgtable.h>

/** MAIR_EL1 matching the AttrIndx convention: attr0 normal write-back
 *  (0xff), attr1 device-nGnRnE (0x00), attr2 normal non-cacheable (0x44). */
#define PGT_ARMV8_MAIR 0x4400ffull

#define PGT_ARMV8_VALID ((pgt_pte_t)1 << 0)   /**< descriptor bit 0 */
#define PGT_ARMV8_TYPE ((pgt_pte_t)1 << 1)    /**< bit 1: table/page (1) or block (0) */
#define PGT_ARMV8_ATTRINDX(i) ((pgt_pte_t)(i) << 2) /**< AttrIndx[2:0], bits 4:2 */
/** All of AttrIndx[2:0]. */
#define PGT_ARMV8_ATTRINDX_MASK ((pgt_pte_t)7 << 2)
#define PGT_ARMV8_ATTR_NORMAL 0   /**< AttrIndx of normal write-back memory */
#define PGT_ARMV8_ATTR_DEVICE 1   /**< AttrIndx of device memory */
#define PGT_ARMV8_ATTR_NORMAL_NC 2 /**< AttrIndx of normal non-cacheable memory */
#define PGT_ARMV8_AP_USER ((pgt_pte_t)1 << 6) /**< AP[1]: EL0 access */
#define PGT_ARMV8_AP_RO ((pgt_pte_t)1 << 7)   /**< AP[2]: read-only */
#define PGT_ARMV8_SH_INNER ((pgt_pte_t)3 << 8) /**< SH[1:0] = 0b11, inner shareable */
/** All of SH[1:0]. */
#define PGT_ARMV8_SH_MASK ((pgt_pte_t)3 << 8)
#define PGT_ARMV8_AF ((pgt_pte_t)1 << 10)     /**< access flag */
#define PGT_ARMV8_NG ((pgt_pte_t)1 << 11)     /**< not global */
#define PGT_ARMV8_PXN ((pgt_pte_t)1 << 53)    /**< privileged execute-never */
#define PGT_ARMV8_UXN ((pgt_pte_t)1 << 54)    /**< unprivileged execute-never */
#define PGT_ARMV8_SW_DIRTY ((pgt_pte_t)1 << 55) /**< software bit: libpgtable's dirty */
#define PGT_ARMV8_SW_RESERVED ((pgt_pte_t)1 << 58) /**< software bit: reserved-leaf mark */
/** Ignored bits [58:53] of a table descriptor: libpgtable's borrowed-table mark and shared-table pin. */
#define PGT_ARMV8_SW_BORROWED ((pgt_pte_t)1 << 56)
#define PGT_ARMV8_SW_PINNED ((pgt_pte_t)1 << 57) /**< see PGT_ARMV8_SW_BORROWED */
/**
 * Bits [11:2] of a table descriptor, ignored there with 48-bit output
 * addresses in every granule (Arm ARM D8.3.1, table descriptor format):
 * the number of used entries of the linked table (pgt_level.table_count),
 * in stage 1 and stage 2; 0 to 512 for the 4K granule. The descriptors
 * assume TCR_ELx.DS = 0 (no FEAT_LPA2, whose 52-bit addresses put
 * OA[51:50] in bits [9:8]) and no hardware access flag in table
 * descriptors (FEAT_HAFT, TCR2_ELx.HAFT = 0, which gives bit 10 that
 * meaning).
 */
#define PGT_ARMV8_SW_COUNT_4K ((pgt_pte_t)0x3ff << 2)
/**
 * The 16K and 64K granules' tables hold 2048 and 8192 entries: their counts
 * need 12 and 14 bits, more than [11:2] holds. The rest go to the ignored
 * bits above the address (D8.3.1: [58:51] in stage 1 and stage 2), from bit
 * 51 up: 51 and 53 for 16K, 51 and [55:53] for 64K. Bit 52 is left alone:
 * a stage-1 table descriptor's Protected attribute when FEAT_THE's
 * TCR2_ELx.PnCH is 1; 56 and 57 hold the borrowed and pinned marks. The
 * count's bits [9:0] are in [11:2], bit 10 in 51, the rest from 53 up.
 */
#define PGT_ARMV8_SW_COUNT_16K (PGT_ARMV8_SW_COUNT_4K | ((pgt_pte_t)1 << 51) | ((pgt_pte_t)1 << 53))
/** The 64K granule's count bits: see PGT_ARMV8_SW_COUNT_16K. */
#define PGT_ARMV8_SW_COUNT_64K (PGT_ARMV8_SW_COUNT_4K | ((pgt_pte_t)1 << 51) | ((pgt_pte_t)7 << 53))
/** The count bits of a table descriptor for the granule of 2^g bytes (12, 14 or 16). */
#define PGT_ARMV8_SW_COUNT(g) \
	((g) == 12 ? PGT_ARMV8_SW_COUNT_4K : (g) == 14 ? PGT_ARMV8_SW_COUNT_16K : PGT_ARMV8_SW_COUNT_64K)
/*
 * Hierarchical controls of a stage-1 table descriptor, bits [63:59] (Arm ARM
 * D8.3.1 "Next-level attributes", D8.4 hierarchical permissions; D5.3/D5.4
 * in older issues). They restrict every lookup below the table.
 */
#define PGT_ARMV8_PXNTABLE ((pgt_pte_t)1 << 59)   /**< PXNTable: no EL1 execution below */
#define PGT_ARMV8_UXNTABLE ((pgt_pte_t)1 << 60)   /**< UXNTable: no EL0 execution below */
#define PGT_ARMV8_APTABLE_NO_EL0 ((pgt_pte_t)1 << 61) /**< APTable[0]: no EL0 data access below */
#define PGT_ARMV8_APTABLE_RO ((pgt_pte_t)1 << 62) /**< APTable[1]: no writes below */
#define PGT_ARMV8_NSTABLE ((pgt_pte_t)1 << 63)    /**< NSTable (Secure state only) */
/** RES0 bits [50:48] of a table descriptor with 48-bit OA (bit 51 is ignored). */
#define PGT_ARMV8_TABLE_RES0 ((pgt_pte_t)7 << 48)
/** RES0 bits [49:48] of a block or page descriptor (50 is GP with BTI, 51 DBM). */
#define PGT_ARMV8_LEAF_RES0 ((pgt_pte_t)3 << 48)
/** Bit 16 of a block: nT with FEAT_BBM, never counted as must-be-zero. */
#define PGT_ARMV8_BLOCK_NT ((pgt_pte_t)1 << 16)

/** Output-address field [47:shift] for a granule or block of 2^shift bytes. */
#define PGT_ARMV8_OA(shift) ((((pgt_pte_t)1 << 48) - 1) & ~(((pgt_pte_t)1 << (shift)) - 1))

/*
 * Stage 2 (guest-physical to host-physical), Arm ARM (DDI 0487) D8.3
 * "Translation table descriptor formats", stage 2 attributes of Block and
 * Page descriptors (D5.3.3 in older issues). Bits [1:0], the output
 * address, AF (bit 10), SH (bits 9:8) and the RES0 bits are those of
 * stage 1. Stage-2 Table descriptors carry no attribute field: the library
 * writes bits [63:59] as 0 and reads no right from them.
 *
 * How a hypervisor programs VTCR_EL2 for each shipped stage-2 format
 * (T0SZ = 64 - IPA bits; SL0 names the start level, whose tables are
 * concatenated when they resolve more bits than one table; TG0 the granule):
 *  - armv8-s2-4k-40:  T0SZ 24, SL0 1 (start level 1, 2 concatenated tables,
 *                     8 KiB root), TG0 0b00
 *  - armv8-s2-4k-48:  T0SZ 16, SL0 2 (start level 0, one 4 KiB table), TG0 0b00
 *  - armv8-s2-16k-40: T0SZ 24, SL0 1 (start level 2, 16 concatenated tables,
 *                     256 KiB root), TG0 0b10
 *  - armv8-s2-64k-42: T0SZ 22, SL0 1 (start level 2, one 64 KiB table), TG0 0b01
 * The root (VTTBR_EL2.BADDR) is aligned to its whole size. PS must cover
 * the 48-bit output addresses (0b101).
 */
#define PGT_ARMV8_S2_MEMATTR(m) ((pgt_pte_t)(m) << 2) /**< MemAttr[3:0], bits 5:2 */
/** All of MemAttr[3:0]. */
#define PGT_ARMV8_S2_MEMATTR_MASK ((pgt_pte_t)15 << 2)
/** MemAttr with HCR_EL2.FWB 0: Normal, outer and inner write-back cacheable. */
#define PGT_ARMV8_S2_MEMATTR_NORMAL 0xfu
/** MemAttr: Normal, outer and inner non-cacheable. */
#define PGT_ARMV8_S2_MEMATTR_NORMAL_NC 0x5u
/** MemAttr: Device-nGnRE (MemAttr[3:2] = 0b00 is Device memory). */
#define PGT_ARMV8_S2_MEMATTR_DEVICE 0x1u
#define PGT_ARMV8_S2AP_R ((pgt_pte_t)1 << 6) /**< S2AP[0]: reads allowed */
#define PGT_ARMV8_S2AP_W ((pgt_pte_t)1 << 7) /**< S2AP[1]: writes allowed */
/** XN[1:0], bits 54:53 (XN[0] with FEAT_XNX). */
#define PGT_ARMV8_S2_XN(x) ((pgt_pte_t)(x) << 53)
/** All of XN[1:0]. */
#define PGT_ARMV8_S2_XN_MASK ((pgt_pte_t)3 << 53)
/** XN 0b01: EL0 may execute, EL1 may not (FEAT_XNX). */
#define PGT_ARMV8_S2_XN_EL1 PGT_ARMV8_S2_XN(1)
/** XN 0b10: no exception level may execute. */
#define PGT_ARMV8_S2_XN_ALL PGT_ARMV8_S2_XN(2)
/** XN 0b11: EL1 may execute, EL0 may not (FEAT_XNX). */
#define PGT_ARMV8_S2_XN_EL0 PGT_ARMV8_S2_XN(3)
/**
 * Software bit of a stage-2 leaf: libpgtable's dirty. Bits [58:55] are for
 * software, but bit 55 is NS in Realm state (FEAT_RME), so bit 56 is used.
 */
#define PGT_ARMV8_S2_SW_DIRTY ((pgt_pte_t)1 << 56)

/*
 * The layouts of the ARMv8 formats for <pgtable/fast.h> (PGT_FAST_ARMV8_*),
 * expanded by fast.h only; @p g is the granule's shift (12, 14, 16), @p st
 * 1 for stage 1 and 0 for stage 2. A table entry has bits 1:0 0b11 above
 * level 0; one that grants everything has its RES0 bits clear (and, at
 * stage 1, no APTable, UXNTable, PXNTable). Leaves: a page (0b11) at level 0,
 * a block (0b01) at level 1, and at level 2 with the 4K granule; AF set,
 * RES0 and the block's low address bits clear (nT aside), and the access's
 * right: AP[2] clear to write, AP[1] set for EL0 data, UXN clear for EL0
 * code; stage 2: S2AP[0] to read, S2AP[1] to write. Privileged execute and
 * stage-2 execute depend on more than one bit: they go to the call.
 */
/** Whether level @p l of granule @p g holds leaves. */
#define PGT_ARMV8_FAST_LEAF_OK(g, l) ((l) <= 1 || ((g) == 12 && (l) == 2))
/** The address bits a leaf at level @p l covers, as a shift. */
#define PGT_ARMV8_FAST_SHIFT(g, l) ((g) + ((g)-3) * (l))
/** Bits 1:0 of a leaf at level @p l: page or block. */
#define PGT_ARMV8_FAST_TYPE(l) ((l) ? PGT_ARMV8_VALID : PGT_ARMV8_VALID | PGT_ARMV8_TYPE)
/** Level @p l of @p n levels over @p vb address bits, as a struct pgt_fast_level. */
#define PGT_ARMV8_FAST_LEVEL(g, st, l, n, vb)                                                                     \
	{ .table = PGT_FAST_RANGE_IF((l) > 0, 3, 3, 0),                                                            \
	  .table_plain = PGT_FAST_RANGE_IF((l) > 0, ((st) ? PGT_ARMV8_PXNTABLE | PGT_ARMV8_UXNTABLE |             \
								PGT_ARMV8_APTABLE_NO_EL0 | PGT_ARMV8_APTABLE_RO   \
							   : 0) | PGT_ARMV8_TABLE_RES0 |                            \
							  ((((pgt_pte_t)1 << (g)) - 1) & ~(pgt_pte_t)0xfff) | 3,     \
					   3, 0),                                                                   \
	  .leaf = PGT_FAST_TEST_IF(PGT_ARMV8_FAST_LEAF_OK(g, l), 3, PGT_ARMV8_FAST_TYPE(l)),                     \
	  .leaf_any = PGT_ARMV8_VALID,                                                                             \
	  .present = PGT_ARMV8_VALID,                                                                              \
	  .reserved = PGT_ARMV8_FAST_LEAF_OK(g, l) ? PGT_ARMV8_SW_RESERVED : 0,                                    \
	  .next_oa = PGT_ARMV8_OA(g),                                                                              \
	  .leaf_oa = PGT_ARMV8_FAST_LEAF_OK(g, l) ? PGT_ARMV8_OA(PGT_ARMV8_FAST_SHIFT(g, l)) : 0,                  \
	  .index_mask = PGT_FAST_INDEX_MASK(l, n, vb, g, (g)-3),                                                   \
	  .shift = PGT_ARMV8_FAST_SHIFT(g, l) }
/** One access's leaf test at level @p l: bits @p m of a valid leaf with AF read @p v. */
#define PGT_ARMV8_FAST_PASS1(g, l, m, v)                                                                          \
	PGT_FAST_TEST_IF(PGT_ARMV8_FAST_LEAF_OK(g, l),                                                             \
			 PGT_ARMV8_LEAF_RES0 | PGT_ARMV8_AF | 3 | (m) |                                            \
				 ((((pgt_pte_t)1 << PGT_ARMV8_FAST_SHIFT(g, l)) - 1) & ~(pgt_pte_t)0xfff &         \
				  ~PGT_ARMV8_BLOCK_NT),                                                            \
			 PGT_ARMV8_AF | PGT_ARMV8_FAST_TYPE(l) | (v))
/** The stage-1 leaf tests of level @p l: read, write, execute; privileged, then user. */
#define PGT_ARMV8_FAST_PASS(g, l)                                                                                 \
	{ PGT_ARMV8_FAST_PASS1(g, l, 0, 0), PGT_ARMV8_FAST_PASS1(g, l, PGT_ARMV8_AP_RO, 0), PGT_FAST_NEVER,       \
	  PGT_ARMV8_FAST_PASS1(g, l, PGT_ARMV8_AP_USER, PGT_ARMV8_AP_USER),                                        \
	  PGT_ARMV8_FAST_PASS1(g, l, PGT_ARMV8_AP_USER | PGT_ARMV8_AP_RO, PGT_ARMV8_AP_USER),                      \
	  PGT_ARMV8_FAST_PASS1(g, l, PGT_ARMV8_UXN, 0) }
/** The stage-2 leaf tests of level @p l: the same for privileged and user accesses. */
#define PGT_ARMV8_S2_FAST_PASS(g, l)                                                                              \
	{ PGT_ARMV8_FAST_PASS1(g, l, PGT_ARMV8_S2AP_R, PGT_ARMV8_S2AP_R),                                          \
	  PGT_ARMV8_FAST_PASS1(g, l, PGT_ARMV8_S2AP_W, PGT_ARMV8_S2AP_W), PGT_FAST_NEVER,                          \
	  PGT_ARMV8_FAST_PASS1(g, l, PGT_ARMV8_S2AP_R, PGT_ARMV8_S2AP_R),                                          \
	  PGT_ARMV8_FAST_PASS1(g, l, PGT_ARMV8_S2AP_W, PGT_ARMV8_S2AP_W), PGT_FAST_NEVER }

#endif /* PGTABLE_ARMV8_H */
