/* SPDX-License-Identifier: MIT */
/**
 * @file riscv.h
 * @brief RISC-V Sv39/Sv48/Sv57 page-table entry bits, as the RISC-V
 *        descriptors encode them. The RISC-V Instruction Set Manual, Volume
 *        II: Privileged Architecture (20211203): section 4.3.1 (PTE
 *        format, Sv32 with the same flag bits), 4.4.1 (Sv39 PTE, figure
 *        4.21), 4.5 (Sv48), 4.6 (Sv57), and the Svpbmt chapter. The
 *        hypervisor extension's G-stage (Sv39x4/Sv48x4/Sv57x4, 8.5.1) uses
 *        the same entries.
 */
#ifndef PGTABLE_RISCV_H
#define PGTABLE_RISCV_H

#include <pgtable/pgtable.h>

#define PGT_RISCV_V ((pgt_pte_t)1 << 0) /**< valid */
#define PGT_RISCV_R ((pgt_pte_t)1 << 1) /**< readable */
#define PGT_RISCV_W ((pgt_pte_t)1 << 2) /**< writable (never without R) */
#define PGT_RISCV_X ((pgt_pte_t)1 << 3) /**< executable */
#define PGT_RISCV_U ((pgt_pte_t)1 << 4) /**< user mode (leaves; reserved in non-leaf entries) */
#define PGT_RISCV_G ((pgt_pte_t)1 << 5) /**< global mapping */
#define PGT_RISCV_A ((pgt_pte_t)1 << 6) /**< accessed (leaves; reserved in non-leaf entries) */
#define PGT_RISCV_D ((pgt_pte_t)1 << 7) /**< dirty (leaves; reserved in non-leaf entries) */
/**
 * RSW bit 8, reserved for supervisor software: libpgtable's reserved-leaf
 * mark in an invalid entry, its borrowed-table mark in a non-leaf entry.
 */
#define PGT_RISCV_SW_RESERVED ((pgt_pte_t)1 << 8)
#define PGT_RISCV_SW_BORROWED ((pgt_pte_t)1 << 8) /**< RSW bit 8 in a non-leaf entry (pgt_share) */
#define PGT_RISCV_SW_PINNED ((pgt_pte_t)1 << 9)   /**< RSW bit 9 in a non-leaf entry (pgt_share) */
/** The PPN field, bits 53:10: physical address bits 55:12, so an entry holds pa >> 2. */
#define PGT_RISCV_PPN ((pgt_pte_t)0x003ffffffffffc00)
/** Bits 60:54: reserved; set in a valid entry, the walk takes a page fault. */
#define PGT_RISCV_RESERVED ((pgt_pte_t)0x1fc0000000000000)
/** Svpbmt's PBMT field, bits 62:61 (leaves; must be zero in non-leaf entries). */
#define PGT_RISCV_PBMT_MASK ((pgt_pte_t)3 << 61)
#define PGT_RISCV_PBMT_NC ((pgt_pte_t)1 << 61) /**< non-cacheable, idempotent, weakly ordered main memory */
#define PGT_RISCV_PBMT_IO ((pgt_pte_t)2 << 61) /**< non-cacheable, non-idempotent, strongly ordered I/O */
/** Svnapot's N bit 63: never set by libpgtable (without Svnapot it is reserved). */
#define PGT_RISCV_N ((pgt_pte_t)1 << 63)

/** @name satp.MODE values (section 4.1.11, table 4.4)
 * @{ */
#define PGT_RISCV_SATP_SV39 8u  /**< Sv39 */
#define PGT_RISCV_SATP_SV48 9u  /**< Sv48 */
#define PGT_RISCV_SATP_SV57 10u /**< Sv57 */
/** @} */

/** @name hgatp.MODE values (section 8.2.10, the table "Encoding of hgatp MODE field")
 * G-stage translation of guest-physical addresses (pgt_arch_riscv_sv39x4 and siblings); the root
 * table's physical address goes in hgatp.PPN (bits 43:0) as root >> 12, MODE in bits 63:60.
 * @{ */
#define PGT_RISCV_HGATP_SV39X4 8u  /**< Sv39x4: 41-bit guest-physical addresses */
#define PGT_RISCV_HGATP_SV48X4 9u  /**< Sv48x4: 50-bit guest-physical addresses */
#define PGT_RISCV_HGATP_SV57X4 10u /**< Sv57x4: 59-bit guest-physical addresses */
/** @} */

/*
 * The layouts of the RISC-V formats for <pgtable/fast.h> (PGT_FAST_RISCV_*),
 * expanded by fast.h only; @p g is 1 for the G-stage (x4), whose accesses
 * all need U. A table entry is V with none of R, W, X; one that grants
 * everything has U, A, D, N, PBMT and the reserved bits clear. Every level
 * holds leaves (V with one of R, W, X); the inline walk completes a leaf
 * with A set (and D to write), N, the reserved bits and PBMT's NC bit clear,
 * a superpage's low PPN bits clear, R (execute-only pages go to the call)
 * and the access's own right and U.
 */
/** A leaf's PPN field at level @p l: the PPN without its low 9 * l bits. */
#define PGT_RISCV_FAST_LEAF_OA(l) (PGT_RISCV_PPN & ~(((pgt_pte_t)1 << (10 + 9 * (l))) - 1))
/** Level @p l of @p n levels over @p vb address bits, as a struct pgt_fast_level. */
#define PGT_RISCV_FAST_LEVEL(l, n, vb)                                                                          \
	{ .table = PGT_FAST_RANGE_IF((l) > 0, PGT_RISCV_X | PGT_RISCV_W | PGT_RISCV_R | PGT_RISCV_V, PGT_RISCV_V, 0), \
	  .table_plain = PGT_FAST_RANGE_IF((l) > 0, PGT_RISCV_N | PGT_RISCV_PBMT_MASK | PGT_RISCV_RESERVED |      \
							    PGT_RISCV_D | PGT_RISCV_A | PGT_RISCV_U | PGT_RISCV_X |  \
							    PGT_RISCV_W | PGT_RISCV_R | PGT_RISCV_V,                 \
					   PGT_RISCV_V, 0),                                                       \
	  .leaf = { PGT_RISCV_V, PGT_RISCV_V },                                                                 \
	  .leaf_any = PGT_RISCV_X | PGT_RISCV_W | PGT_RISCV_R,                                                  \
	  .present = PGT_RISCV_V,                                                                               \
	  .reserved = PGT_RISCV_SW_RESERVED,                                                                    \
	  .next_oa = PGT_RISCV_PPN,                                                                             \
	  .leaf_oa = PGT_RISCV_FAST_LEAF_OA(l),                                                                 \
	  .index_mask = PGT_FAST_INDEX_MASK(l, n, vb, 12, 9),                                                   \
	  .shift = 12 + 9 * (l),                                                                                \
	  .oa_shift = 2 }
/** One access's leaf test at level @p l: bits @p m of a leaf read @p v. */
#define PGT_RISCV_FAST_PASS1(l, m, v)                                                                            \
	{ PGT_RISCV_N | PGT_RISCV_RESERVED | PGT_RISCV_PBMT_NC | (PGT_RISCV_PPN & ~PGT_RISCV_FAST_LEAF_OA(l)) |   \
		  PGT_RISCV_A | PGT_RISCV_U | PGT_RISCV_R | PGT_RISCV_V | (m),                                     \
	  PGT_RISCV_A | PGT_RISCV_R | PGT_RISCV_V | (v) }
/** The leaf tests of level @p l: read, write, execute; privileged (U clear unless @p g), then user. */
#define PGT_RISCV_FAST_PASS(g, l)                                                                                \
	{ PGT_RISCV_FAST_PASS1(l, 0, (g) ? PGT_RISCV_U : 0),                                                     \
	  PGT_RISCV_FAST_PASS1(l, PGT_RISCV_W | PGT_RISCV_D, PGT_RISCV_W | PGT_RISCV_D | ((g) ? PGT_RISCV_U : 0)), \
	  PGT_RISCV_FAST_PASS1(l, PGT_RISCV_X, PGT_RISCV_X | ((g) ? PGT_RISCV_U : 0)),                           \
	  PGT_RISCV_FAST_PASS1(l, 0, PGT_RISCV_U),                                                               \
	  PGT_RISCV_FAST_PASS1(l, PGT_RISCV_W | PGT_RISCV_D, PGT_RISCV_W | PGT_RISCV_D | PGT_RISCV_U),           \
	  PGT_RISCV_FAST_PASS1(l, PGT_RISCV_X, PGT_RISCV_X | PGT_RISCV_U) }

#endif /* PGTABLE_RISCV_H */
