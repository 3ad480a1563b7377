/* SPDX-License-Identifier: MIT */
/**
 * @file x86_64.h
 * @brief x86-64 paging-structure entry bits (Intel SDM vol. 3A, section 4.5,
 *        tables 4-14 to 4-20), as the x86-64 descriptors encode them.
 */
#ifndef PGTABLE_X86_64_H
#define PGTABLE_X86_64_H

#include <pgtable/pgtable.h>

#define PGT_X86_P ((pgt_pte_t)1 << 0)    /**< present (all entries) */
#define PGT_X86_RW ((pgt_pte_t)1 << 1)   /**< read/write (all entries) */
#define PGT_X86_US ((pgt_pte_t)1 << 2)   /**< user/supervisor (all entries) */
#define PGT_X86_PWT ((pgt_pte_t)1 << 3)  /**< page-level write-through */
#define PGT_X86_PCD ((pgt_pte_t)1 << 4)  /**< page-level cache disable */
#define PGT_X86_A ((pgt_pte_t)1 << 5)    /**< accessed */
#define PGT_X86_D ((pgt_pte_t)1 << 6)    /**< dirty (leaves only) */
#define PGT_X86_PS ((pgt_pte_t)1 << 7)   /**< page size: leaf in a PDPTE or PDE */
#define PGT_X86_G ((pgt_pte_t)1 << 8)    /**< global (leaves only) */
#define PGT_X86_SW_RESERVED ((pgt_pte_t)1 << 9) /**< ignored bit: libpgtable's reserved-leaf mark */
/** Ignored bit of a table entry (SDM tables 4-14 to 4-19, bits 11:8): libpgtable's borrowed-table mark. */
#define PGT_X86_SW_BORROWED ((pgt_pte_t)1 << 10)
/** Ignored bit of a table entry (used by HLAT paging only): libpgtable's shared-table pin. */
#define PGT_X86_SW_PINNED ((pgt_pte_t)1 << 11)
/**
 * Bits 61:52 of a table entry (PML5E, PML4E, PDPTE or PDE that references
 * a table), ignored there (SDM vol. 3A tables 4-14, 4-15, 4-17 and 4-19,
 * bits 62:52): the number of used entries of the linked table, 0 to 512
 * (pgt_level.table_count). Bits 62:59 are a leaf's protection key, never a
 * table entry's.
 */
#define PGT_X86_SW_COUNT ((pgt_pte_t)0x3ff << 52)
#define PGT_X86_NX ((pgt_pte_t)1 << 63)  /**< execute-disable (needs EFER.NXE) */
/** Address of a 4K page or of the next table: bits 51:12. */
#define PGT_X86_ADDR_4K ((pgt_pte_t)0x000ffffffffff000)
/** Address of a 2M page: bits 51:21. */
#define PGT_X86_ADDR_2M ((pgt_pte_t)0x000fffffffe00000)
/** Address of a 1G page: bits 51:30. */
#define PGT_X86_ADDR_1G ((pgt_pte_t)0x000fffffc0000000)

/*
 * Reserved (must-be-zero) bits of present leaves, SDM vol. 3A tables 4-16
 * (PDPTE mapping a 1G page: bits 29:13) and 4-18 (PDE mapping a 2M page:
 * bits 20:13); bit 12 of both is PAT. Bits 51:MAXPHYADDR are reserved too;
 * the descriptors assume MAXPHYADDR = 52, so there are none. With
 * EFER.NXE = 1 (assumed) bit 63 is XD, not reserved. A set reserved bit
 * gives #PF with RSVD = 1 (SDM 4.7).
 */
#define PGT_X86_MBZ_2M ((pgt_pte_t)0x00000000001fe000) /**< PDE 2M page: bits 20:13 */
#define PGT_X86_MBZ_1G ((pgt_pte_t)0x000000003fffe000) /**< PDPTE 1G page: bits 29:13 */

/*
 * The layout of the x86-64 4- and 5-level formats for <pgtable/fast.h>
 * (PGT_FAST_X86_64_4, PGT_FAST_X86_64_5): the tests pgt_fast_init works
 * out of a descriptor with these entries, written with the bits above so
 * that the inline walks fold them into constants. Expanded by fast.h only.
 * A table entry is P without PS; one that grants everything has RW and US
 * and no XD. Leaves: PS at levels 1 and 2 (2M, 1G), with their reserved
 * bits clear; the bit an access needs set (RW, US) or clear (XD).
 */
/** A leaf's output-address field at level @p l (0 above the 1G level). */
#define PGT_X86_FAST_LEAF_OA(l) \
	((l) == 0 ? PGT_X86_ADDR_4K : (l) == 1 ? PGT_X86_ADDR_2M : (l) == 2 ? PGT_X86_ADDR_1G : 0)
/** PS and the must-be-zero bits of a large leaf at level @p l. */
#define PGT_X86_FAST_LARGE(l) \
	((l) == 1 ? PGT_X86_PS | PGT_X86_MBZ_2M : (l) == 2 ? PGT_X86_PS | PGT_X86_MBZ_1G : 0)
/** Level @p l of @p n levels over @p vb address bits, as a struct pgt_fast_level. */
#define PGT_X86_FAST_LEVEL(l, n, vb)                                                                          \
	{ .table = PGT_FAST_RANGE_IF((l) > 0, PGT_X86_P | PGT_X86_PS, PGT_X86_P, 0),                          \
	  .table_plain = PGT_FAST_RANGE_IF((l) > 0, PGT_X86_NX | PGT_X86_PS | PGT_X86_US | PGT_X86_RW | PGT_X86_P, \
					   PGT_X86_US | PGT_X86_RW | PGT_X86_P, 0),                           \
	  .leaf = PGT_FAST_TEST_IF((l) <= 2, PGT_X86_P | ((l) ? PGT_X86_PS : 0), PGT_X86_P | ((l) ? PGT_X86_PS : 0)), \
	  .leaf_any = PGT_X86_P,                                                                              \
	  .present = PGT_X86_P,                                                                               \
	  .reserved = (l) <= 2 ? PGT_X86_SW_RESERVED : 0,                                                     \
	  .next_oa = PGT_X86_ADDR_4K,                                                                         \
	  .leaf_oa = PGT_X86_FAST_LEAF_OA(l),                                                                 \
	  .index_mask = PGT_FAST_INDEX_MASK(l, n, vb, 12, 9),                                                 \
	  .shift = 12 + 9 * (l) }
/** One access's leaf test at level @p l: bits @p m of a leaf read @p v (with P, PS and reserved bits). */
#define PGT_X86_FAST_PASS1(l, m, v) \
	PGT_FAST_TEST_IF((l) <= 2, PGT_X86_P | PGT_X86_FAST_LARGE(l) | (m), PGT_X86_P | ((l) ? PGT_X86_PS : 0) | (v))
/** The leaf tests of level @p l: read, write, execute; privileged, then user. */
#define PGT_X86_FAST_PASS(l)                                                                                  \
	{ PGT_X86_FAST_PASS1(l, 0, 0), PGT_X86_FAST_PASS1(l, PGT_X86_RW, PGT_X86_RW),                         \
	  PGT_X86_FAST_PASS1(l, PGT_X86_NX, 0), PGT_X86_FAST_PASS1(l, PGT_X86_US, PGT_X86_US),                \
	  PGT_X86_FAST_PASS1(l, PGT_X86_RW | PGT_X86_US, PGT_X86_RW | PGT_X86_US),                            \
	  PGT_X86_FAST_PASS1(l, PGT_X86_NX | PGT_X86_US, PGT_X86_US) }

#endif /* PGTABLE_X86_64_H */
