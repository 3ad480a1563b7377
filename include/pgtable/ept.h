/* SPDX-License-Identifier: MIT */
/**
 * @file ept.h
 * @brief Intel EPT (extended page table) entry bits, as the descriptors
 *        pgt_arch_x86_64_ept and pgt_arch_x86_64_ept5 encode them, and the
 *        EPTP value that points a VMCS at a space's root.
 *
 * Intel SDM vol. 3C, "VMX Support for Address Translation", section "The
 * Extended Page Table Mechanism (EPT)": the translation mechanism and the
 * entry formats (EPTP and the EPT paging-structure entries: tables "Format
 * of an EPT PML4 Entry" to "Format of an EPT Page-Table Entry"), EPT
 * misconfigurations and violations, accessed and dirty flags for EPT, and
 * EPT and memory typing. 5-level EPT (page-walk length 5, an EPT PML5 table
 * above the PML4 table, entries of the PML4E format) is from the same
 * chapter of current editions.
 */
#ifndef PGTABLE_EPT_H
#define PGTABLE_EPT_H

#include <pgtable/pgtable.h>

#define PGT_EPT_R           ((pgt_pte_t)1 << 0) /**< read access (every entry) */
#define PGT_EPT_W           ((pgt_pte_t)1 << 1) /**< write access (every entry); never without R */
/** Execute access (every entry); with mode-based execute control, supervisor-mode execute only. */
#define PGT_EPT_X           ((pgt_pte_t)1 << 2)
/** EPT memory type of a leaf, bits 5:3 (reserved, must be zero, in a table entry). */
#define PGT_EPT_MT_MASK     ((pgt_pte_t)7 << 3)
#define PGT_EPT_MT_UC       ((pgt_pte_t)0 << 3) /**< uncacheable */
#define PGT_EPT_MT_WC       ((pgt_pte_t)1 << 3) /**< write combining */
#define PGT_EPT_MT_WT       ((pgt_pte_t)4 << 3) /**< write through */
#define PGT_EPT_MT_WP       ((pgt_pte_t)5 << 3) /**< write protected */
#define PGT_EPT_MT_WB       ((pgt_pte_t)6 << 3) /**< write back */
/** Ignore PAT: the leaf's memory type is the effective one, whatever the guest's PAT says. */
#define PGT_EPT_IPAT        ((pgt_pte_t)1 << 6)
/** Page size: set, a PDPTE maps a 1G page and a PDE a 2M page; ignored in a PTE. */
#define PGT_EPT_PS          ((pgt_pte_t)1 << 7)
#define PGT_EPT_A           ((pgt_pte_t)1 << 8) /**< accessed (every entry, when EPTP bit 6 is set) */
#define PGT_EPT_D           ((pgt_pte_t)1 << 9) /**< dirty (leaves, when EPTP bit 6 is set) */
/**
 * Bit 9 of a table entry, ignored there (the dirty flag is a leaf's only):
 * libpgtable's borrowed-table mark (pgt_share).
 */
#define PGT_EPT_SW_BORROWED ((pgt_pte_t)1 << 9)
/**
 * Bit 11, ignored in every EPT entry: libpgtable's reserved-leaf mark in a
 * not-present leaf (bits 2:0 clear), its shared-table pin in a table entry.
 */
#define PGT_EPT_SW_RESERVED ((pgt_pte_t)1 << 11)
#define PGT_EPT_SW_PINNED   ((pgt_pte_t)1 << 11) /**< bit 11 of a table entry (pgt_share) */
/**
 * Bits 61:52 of a table entry (EPT PML5E, PML4E, or a PDPTE or PDE that
 * references a table), ignored there (bits 63:52 of those formats): the
 * number of used entries of the linked table, 0 to 512
 * (pgt_level.table_count). A leaf's bits in that range have meanings of
 * their own (suppress \#VE at 63, and others with later features); no leaf
 * holds a count.
 */
#define PGT_EPT_SW_COUNT    ((pgt_pte_t)0x3ff << 52)
/** Address of a 4K page or of the next table: bits 51:12 (MAXPHYADDR 52 assumed). */
#define PGT_EPT_ADDR_4K     ((pgt_pte_t)0x000ffffffffff000)
/** Address of a 2M page: bits 51:21; bits 20:12 of such a PDE are reserved. */
#define PGT_EPT_ADDR_2M     ((pgt_pte_t)0x000fffffffe00000)
/** Address of a 1G page: bits 51:30; bits 29:12 of such a PDPTE are reserved. */
#define PGT_EPT_ADDR_1G     ((pgt_pte_t)0x000fffffc0000000)

/** @name EPTP, the VMCS field that holds the root (SDM vol. 3C, "Extended-Page-Table Pointer")
 * Bits 2:0 memory type for the EPT paging structures (0 UC, 6 WB), bits 5:3
 * page-walk length minus 1, bit 6 enables accessed and dirty flags, bits
 * 51:12 the root's physical address.
 * @{ */
#define PGT_EPT_EPTP_WB          6u                  /**< EPT paging structures are write-back */
#define PGT_EPT_EPTP_AD          ((pgt_pte_t)1 << 6) /**< the processor sets A and D in EPT entries */
/** Bits 5:3: the walk length (levels of the descriptor) minus 1. */
#define PGT_EPT_EPTP_PWL(levels) ((pgt_pte_t)((levels)-1u) << 3)
/**
 * The EPTP for the root @p root (pgt_space_root) of a space of @p levels
 * levels (pgt_arch_x86_64_ept: 4, pgt_arch_x86_64_ept5: 5): write-back
 * paging structures, accessed and dirty flags on. As the descriptors
 * assume: hardware sets A and D, so no access takes a fault for them.
 * With them on, the processor's accesses to the guest's own paging
 * structures count as writes for EPT violations (SDM vol. 3C, "EPT
 * Violations"): map the guest's page tables writable.
 * pgt_translate_nested translates those reads as reads.
 */
#define PGT_EPT_EPTP(root, levels) \
	((pgt_pte_t)(root) | PGT_EPT_EPTP_WB | PGT_EPT_EPTP_PWL(levels) | PGT_EPT_EPTP_AD)
/** @} */

/*
 * The layout of the EPT 4- and 5-level formats for <pgtable/fast.h>
 * (PGT_FAST_EPT_4, PGT_FAST_EPT_5), expanded by fast.h only. Present is any
 * of R, W, X; a table entry has PS clear, and one that grants everything
 * has R, W, X set and bits 7:3 clear. A leaf the inline walk completes has
 * memory type WT or WB (bit 5 set, bit 3 clear: the others go to the call,
 * as misconfigurations or uncached memory), PS at levels 1 and 2 with the
 * large page's reserved address bits clear, and the access's right.
 */
/** A leaf's output-address field at level @p l (0 above the 1G level). */
#define PGT_EPT_FAST_LEAF_OA(l) \
	((l) == 0 ? PGT_EPT_ADDR_4K : (l) == 1 ? PGT_EPT_ADDR_2M : (l) == 2 ? PGT_EPT_ADDR_1G : 0)
/** PS and the reserved address bits of a large leaf at level @p l. */
#define PGT_EPT_FAST_LARGE(l) \
	((l) == 1 || (l) == 2 ? PGT_EPT_PS | ((((pgt_pte_t)1 << (12 + 9 * (l))) - 1) & ~(pgt_pte_t)0xfff) : 0)
/** Level @p l of @p n levels over @p vb address bits, as a struct pgt_fast_level. */
#define PGT_EPT_FAST_LEVEL(l, n, vb)                                                                            \
	{ .table = PGT_FAST_RANGE_IF((l) > 0, PGT_EPT_PS | PGT_EPT_X | PGT_EPT_W | PGT_EPT_R, 1,                  \
				     (PGT_EPT_X | PGT_EPT_W | PGT_EPT_R) - 1),                                    \
	  .table_plain = PGT_FAST_RANGE_IF((l) > 0, PGT_EPT_PS | PGT_EPT_IPAT | PGT_EPT_MT_MASK | PGT_EPT_X |     \
							    PGT_EPT_W | PGT_EPT_R,                                   \
					   PGT_EPT_X | PGT_EPT_W | PGT_EPT_R, 0),                                 \
	  .leaf = PGT_FAST_TEST_IF((l) <= 2, (l) ? PGT_EPT_PS : 0, (l) ? PGT_EPT_PS : 0),                      \
	  .leaf_any = PGT_EPT_X | PGT_EPT_W | PGT_EPT_R,                                                        \
	  .present = PGT_EPT_X | PGT_EPT_W | PGT_EPT_R,                                                         \
	  .reserved = (l) <= 2 ? PGT_EPT_SW_RESERVED : 0,                                                       \
	  .next_oa = PGT_EPT_ADDR_4K,                                                                           \
	  .leaf_oa = PGT_EPT_FAST_LEAF_OA(l),                                                                   \
	  .index_mask = PGT_FAST_INDEX_MASK(l, n, vb, 12, 9),                                                   \
	  .shift = 12 + 9 * (l) }
/** One access's leaf test at level @p l: right @p r set, memory type WT or WB. */
#define PGT_EPT_FAST_PASS1(l, r)                                                                                 \
	PGT_FAST_TEST_IF((l) <= 2, PGT_EPT_FAST_LARGE(l) | PGT_EPT_MT_WT | PGT_EPT_MT_WC | PGT_EPT_R | (r),      \
			 ((l) ? PGT_EPT_PS : 0) | PGT_EPT_MT_WT | PGT_EPT_R | (r))
/** The leaf tests of level @p l: read, write, execute; user accesses test the same. */
#define PGT_EPT_FAST_PASS(l)                                                                                     \
	{ PGT_EPT_FAST_PASS1(l, 0), PGT_EPT_FAST_PASS1(l, PGT_EPT_W), PGT_EPT_FAST_PASS1(l, PGT_EPT_X),        \
	  PGT_EPT_FAST_PASS1(l, 0), PGT_EPT_FAST_PASS1(l, PGT_EPT_W), PGT_EPT_FAST_PASS1(l, PGT_EPT_X) }

#endif /* PGTABLE_EPT_H */
