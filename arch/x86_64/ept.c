/* SPDX-License-Identifier: MIT */
/*
 * Intel EPT descriptors (stage 2: guest-physical to host-physical): 4-level
 * (48-bit guest-physical addresses) and 5-level (57-bit). Intel SDM vol.
 * 3C, "The Extended Page Table Mechanism (EPT)": the translation
 * mechanism, the entry formats, EPT misconfigurations and violations,
 * accessed and dirty flags for EPT, EPT and memory typing; bits named in
 * pgtable/ept.h.
 *
 * An entry is present when any of R, W, X (bits 2:0) is set. A PDPTE or PDE
 * with bit 7 set maps a page, any present PTE maps one; bit 7 of a PML4E or
 * PML5E is reserved. R, W and X clear in any entry of the walk, table or
 * leaf, take that access away. What the descriptors assume of the VMCS:
 *  - EPTP bit 6 set (PGT_EPT_EPTP): the processor sets A and D itself, so
 *    no access faults for them;
 *  - IA32_VMX_EPT_VPID_CAP bit 0 (execute-only translations): X alone is a
 *    valid leaf, not a misconfiguration;
 *  - mode-based execute control off: bit 2 is the one execute right, for
 *    supervisor and user linear addresses alike, so PGT_ACC_USER changes
 *    nothing and bit 10 is not written;
 *  - MAXPHYADDR 52: no address bit is reserved.
 * PGT_PROT_USER and PGT_PROT_GLOBAL mean nothing at stage 2: accepted and
 * dropped, as every second-stage format does (FORMATS.md).
 */
#include <pgtable/arch.h>
#include <pgtable/ept.h>

#define EPT_RWX (PGT_EPT_R | PGT_EPT_W | PGT_EPT_X)
#define EPT_MEMTYPE_BITS (PGT_EPT_MT_MASK | PGT_EPT_IPAT)

/*
 * Memory types (SDM "EPT and Memory Typing"). With IPAT clear the guest's
 * PAT type combines with the EPT type as with an MTRR type (SDM vol. 3A,
 * table "Effective Page-Level Memory Types"), so the guest may only make
 * the type stricter; with IPAT set the EPT type is the effective one.
 *  - write-back: WB, IPAT clear: the guest's PAT decides, as on bare metal;
 *  - write-combining: WC, IPAT clear: the guest may make it UC, never cached;
 *  - non-cacheable: UC, IPAT clear: the guest may make it WC, never cached;
 *  - device: UC, IPAT set: UC whatever the guest asks (UC under a guest's
 *    WC would combine to WC, which MMIO must not get).
 */
static pgt_pte_t ept_memtype(unsigned prot)
{
	switch (prot & PGT_PROT_MEMTYPE) {
	case PGT_PROT_WRITECOMBINE: return PGT_EPT_MT_WC;
	case PGT_PROT_NONCACHEABLE: return PGT_EPT_MT_UC;
	case PGT_PROT_UNCACHED: return PGT_EPT_MT_UC | PGT_EPT_IPAT;
	default: return PGT_EPT_MT_WB;
	}
}

/*
 * The PGT_PROT_* memory type of a leaf: what ept_memtype writes, and the
 * types it never writes read as the nearest: WT, WP and WB with IPAT
 * are cached (write-back), WC with IPAT write-combining. Types 2, 3 and 7
 * are reserved (a misconfiguration): read as device memory.
 */
static unsigned ept_memtype_prot(pgt_pte_t pte)
{
	switch (pte & PGT_EPT_MT_MASK) {
	case PGT_EPT_MT_UC: return (pte & PGT_EPT_IPAT) ? PGT_PROT_UNCACHED : PGT_PROT_NONCACHEABLE;
	case PGT_EPT_MT_WC: return PGT_PROT_WRITECOMBINE;
	case PGT_EPT_MT_WT:
	case PGT_EPT_MT_WP:
	case PGT_EPT_MT_WB: return 0;
	default: return PGT_PROT_UNCACHED;
	}
}

/* Attributes a reserved leaf keeps too (the processor ignores bits 62:3 while bits 2:0 are clear). */
static pgt_pte_t ept_attrs(unsigned level, unsigned prot)
{
	return ept_memtype(prot) | (level > 0 ? PGT_EPT_PS : 0);
}

static int ept_prot_encode(unsigned level, unsigned prot, pgt_pte_t *bits)
{
	unsigned rights = prot & (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC);

	if ((rights & PGT_PROT_WRITE) && !(rights & PGT_PROT_READ))
		return PGT_ENOTSUP; /* write without read is a misconfiguration */
	if (!rights) {
		*bits = PGT_EPT_SW_RESERVED | ept_attrs(level, prot);
		return PGT_OK;
	}
	*bits = ept_attrs(level, prot);
	*bits |= (rights & PGT_PROT_READ) ? PGT_EPT_R : 0;
	*bits |= (rights & PGT_PROT_WRITE) ? PGT_EPT_W : 0;
	*bits |= (rights & PGT_PROT_EXEC) ? PGT_EPT_X : 0;
	return PGT_OK;
}

static unsigned ept_prot_decode(unsigned level, pgt_pte_t pte)
{
	unsigned prot = ept_memtype_prot(pte);

	(void)level;
	prot |= (pte & PGT_EPT_R) ? PGT_PROT_READ : 0;
	prot |= (pte & PGT_EPT_W) ? PGT_PROT_WRITE : 0;
	prot |= (pte & PGT_EPT_X) ? PGT_PROT_EXEC : 0;
	return prot;
}

/*
 * EPT violations (SDM "EPT Violations", mode-based execute control off): a
 * read needs bit 0, a write bit 1, a fetch bit 2 set in every entry used,
 * tables and leaf alike; the user/supervisor split of the guest's access
 * plays no part.
 */
#define EPT_RULES                                                           \
	{                                                                   \
		{ PGT_EPT_R, 0, PGT_RIGHT_PR | PGT_RIGHT_UR },              \
		{ PGT_EPT_W, 0, PGT_RIGHT_PW | PGT_RIGHT_UW },              \
		{ PGT_EPT_X, 0, PGT_RIGHT_PX | PGT_RIGHT_UX },              \
	}

/*
 * EPT misconfigurations (SDM "EPT Misconfigurations") besides reserved
 * bits: write without read in any present entry, and a leaf's memory
 * type 2, 3 or 7 (bits 5:3 of a table entry are reserved anyway).
 */
#define EPT_MALFORMED                                             \
	{                                                         \
		{ PGT_EPT_R | PGT_EPT_W, PGT_EPT_W },             \
		{ PGT_EPT_MT_MASK, (pgt_pte_t)2 << 3 },           \
		{ PGT_EPT_MT_MASK, (pgt_pte_t)3 << 3 },           \
		{ PGT_EPT_MT_MASK, (pgt_pte_t)7 << 3 },           \
	}

/* Bits every leaf's codec owns; A and D are status bits and survive it. */
#define EPT_PROT_BITS (EPT_RWX | EPT_MEMTYPE_BITS | PGT_EPT_SW_RESERVED)

/* Bits [hi:lo] of an entry. */
#define EPT_BITS(hi, lo) ((((pgt_pte_t)2 << (hi)) - 1) & ~(((pgt_pte_t)1 << (lo)) - 1))

/*
 * Reserved bits of a present leaf of 2^sh bytes: bits 20:12 of a PDE that
 * maps a 2M page, 29:12 of a PDPTE that maps a 1G page (none in a PTE).
 */
#define EPT_LEAF_MBZ(sh) ((sh) == 21 ? EPT_BITS(20, 12) : (sh) == 30 ? EPT_BITS(29, 12) : 0)

/*
 * Reserved bits of a table entry: 7:3 of a PML4E or PML5E, 6:3 of a PDPTE
 * or PDE that references a table (bit 7 set makes those a leaf).
 */
#define EPT_TABLE_MBZ(leaf) ((leaf) ? EPT_BITS(6, 3) : EPT_BITS(7, 3))

/*
 * The bits of a table entry the library writes besides the address: R, W
 * and X (the leaf decides the rights) and the accessed bit 8, set from the
 * start, so that a processor with EPT accessed and dirty flags never writes
 * the entry (it sets the bit only where it is clear; ignored without them)
 * and the count in it changes by plain stores.
 */
#define EPT_TABLE_ATTRS(sh) (EPT_RWX | ((sh) == 12 ? 0 : PGT_EPT_A))

/*
 * One level: 512 entries at every level. The library writes table entries
 * with EPT_TABLE_ATTRS and bit 7 clear.
 */
#define EPT_LEVEL(sh, leaf, oa)                                                                    \
	{                                                                                          \
		.shift = (sh), .bits = 9, .leaf_ok = (leaf), .table_size = 4096, .valid = EPT_RWX, \
		.type_mask = (sh) == 12 ? 0 : PGT_EPT_PS, .table_type = 0,                         \
		.leaf_type = (sh) == 12 ? 0 : PGT_EPT_PS, .reserved = PGT_EPT_SW_RESERVED,         \
		.table_oa = PGT_EPT_ADDR_4K, .table_attrs = EPT_TABLE_ATTRS(sh), .leaf_oa = (oa),  \
		.prot_mask = EPT_PROT_BITS | ((sh) == 12 ? 0 : PGT_EPT_PS),                        \
		.accessed = (leaf) ? PGT_EPT_A : 0, .dirty = (leaf) ? PGT_EPT_D : 0,               \
		.table_borrowed = (sh) == 12 ? 0 : PGT_EPT_SW_BORROWED,                            \
		.table_pinned = (sh) == 12 ? 0 : PGT_EPT_SW_PINNED,                                \
		.table_rules = EPT_RULES, .leaf_rules = EPT_RULES,                                 \
		.table_mbz = EPT_TABLE_MBZ(leaf), .leaf_mbz = EPT_LEAF_MBZ(sh),                    \
		.table_accessed = (sh) == 12 ? 0 : PGT_EPT_A, .malformed = EPT_MALFORMED,          \
		.table_count = (sh) == 12 ? 0 : PGT_EPT_SW_COUNT,                                  \
	}

#define EPT_PT EPT_LEVEL(12, 1, PGT_EPT_ADDR_4K)   /* PTE: 4K pages */
#define EPT_PD EPT_LEVEL(21, 1, PGT_EPT_ADDR_2M)   /* PDE: 2M pages */
#define EPT_PDPT EPT_LEVEL(30, 1, PGT_EPT_ADDR_1G) /* PDPTE: 1G pages */
#define EPT_PML4 EPT_LEVEL(39, 0, 0)
#define EPT_PML5 EPT_LEVEL(48, 0, 0)

#define EPT_DESC(nm, nlev, gpa, walks_, ...)                                          \
	{                                                                             \
		.name = (nm), .levels = (nlev), .va_bits = (gpa), .pa_bits = 52,      \
		.canon = PGT_CANON_SPLIT, /* guest-physical: [0, 2^gpa) */            \
		.level = { __VA_ARGS__ },                                             \
		.prot_encode = ept_prot_encode, .prot_decode = ept_prot_decode,       \
		.malformed_fault = PGT_FAULT_MISCONFIG,                               \
		.af_fault = 0, .dirty_fault = 0, /* EPTP bit 6: hardware sets A, D */ \
		.stage = 2, .walks = (walks_),                                        \
	}

#define EPT_4LEVEL(w) EPT_DESC("x86_64-ept", 4, 48, w, EPT_PT, EPT_PD, EPT_PDPT, EPT_PML4)
#define EPT_5LEVEL(w) EPT_DESC("x86_64-ept5", 5, 57, w, EPT_PT, EPT_PD, EPT_PDPT, EPT_PML4, EPT_PML5)

/* --- walks compiled with these masks as constants ------------------------------ */

#include "../../lib/walks_tpl.h"

/* Defined below by PGT__WALKS; the descriptors point to them. */
static const struct pgt_arch_walks ept_4_walks, ept_5_walks;

PGT_API const struct pgt_arch pgt_arch_x86_64_ept = EPT_4LEVEL(&ept_4_walks);
PGT_API const struct pgt_arch pgt_arch_x86_64_ept5 = EPT_5LEVEL(&ept_5_walks);

/*
 * Static copies of the descriptors, which the compiler folds into the walks
 * (it may not fold the exported ones: a shared library's data can be
 * interposed).
 */
static const struct pgt_arch walk_ept4 = EPT_4LEVEL(NULL);
static const struct pgt_arch walk_ept5 = EPT_5LEVEL(NULL);

PGT__WALKS(ept_4_walks, &walk_ept4, &pgt_arch_x86_64_ept)
PGT__WALKS(ept_5_walks, &walk_ept5, &pgt_arch_x86_64_ept5)
