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
/** Ignored bits [58:52] of a table descriptor: libpgtable's borrowed-table mark and shared-table pin. */
#define PGT_ARMV8_SW_BORROWED ((pgt_pte_t)1 << 56)
#define PGT_ARMV8_SW_PINNED ((pgt_pte_t)1 << 57) /**< see PGT_ARMV8_SW_BORROWED */
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

#endif /* PGTABLE_ARMV8_H */
