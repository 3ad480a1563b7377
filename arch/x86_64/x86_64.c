/* SPDX-License-Identifier: MIT */
/*
 * x86-64 descriptors: 4-level (48-bit) and 5-level LA57 (57-bit) paging.
 * Intel SDM vol. 3A, chapter 4: section 4.5 "4-Level Paging and 5-Level
 * Paging", tables 4-14 (PML5E) to 4-20 (PTE); bits named in pgtable/x86_64.h.
 */
#include <pgtable/arch.h>
#include <pgtable/x86_64.h>

#include "x86_64_desc.h"

/* Bits the rights/attribute codec owns. A and D are status bits and survive it. */
#define X86_PROT_BITS (PGT_X86_P | PGT_X86_RW | PGT_X86_US | PGT_X86_PWT | PGT_X86_PCD | \
		       PGT_X86_G | PGT_X86_NX | PGT_X86_SW_RESERVED)

/*
 * Memory types as PAT indices 0-3 (PAT = 0, SDM vol. 3A 12.12.3), with the
 * IA32_PAT layout Linux programs: 0 WB, 1 WC, 2 UC-, 3 UC. Entries 0, 2
 * and 3 are the power-on values; entry 1 is write-through until the kernel
 * makes it WC (pgt_arch(3)).
 */
#define X86_MEMTYPE_BITS (PGT_X86_PCD | PGT_X86_PWT)

static pgt_pte_t x86_memtype(unsigned prot)
{
	switch (prot & PGT_PROT_MEMTYPE) {
	case PGT_PROT_WRITECOMBINE: return PGT_X86_PWT;           /* PAT 1 */
	case PGT_PROT_NONCACHEABLE: return PGT_X86_PCD;           /* PAT 2: UC- */
	case PGT_PROT_UNCACHED: return PGT_X86_PCD | PGT_X86_PWT; /* PAT 3: UC */
	default: return 0;                                        /* PAT 0: WB */
	}
}

static unsigned x86_memtype_prot(pgt_pte_t pte)
{
	switch (pte & X86_MEMTYPE_BITS) {
	case PGT_X86_PWT: return PGT_PROT_WRITECOMBINE;
	case PGT_X86_PCD: return PGT_PROT_NONCACHEABLE;
	case PGT_X86_PCD | PGT_X86_PWT: return PGT_PROT_UNCACHED;
	default: return 0;
	}
}

/* Attributes that a reserved leaf keeps too (the hardware ignores them while P is 0). */
static pgt_pte_t x86_attrs(unsigned prot)
{
	pgt_pte_t bits = 0;

	if (prot & PGT_PROT_USER)
		bits |= PGT_X86_US;
	if (prot & PGT_PROT_GLOBAL)
		bits |= PGT_X86_G;
	bits |= x86_memtype(prot);
	if (!(prot & PGT_PROT_EXEC))
		bits |= PGT_X86_NX;
	return bits;
}

int pgt_x86_64_prot_encode(unsigned level, unsigned prot, pgt_pte_t *bits)
{
	unsigned rights = prot & (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC);
	/* PS marks a leaf in a PDPTE or PDE; at level 0 bit 7 is PAT and stays 0. */
	pgt_pte_t ps = level > 0 ? PGT_X86_PS : 0;

	if (rights && !(rights & PGT_PROT_READ))
		return PGT_ENOTSUP; /* every present x86 page is readable */
	if (!rights) {
		*bits = PGT_X86_SW_RESERVED | ps | x86_attrs(prot);
		return PGT_OK;
	}
	*bits = PGT_X86_P | ps | x86_attrs(prot) | ((prot & PGT_PROT_WRITE) ? PGT_X86_RW : 0);
	return PGT_OK;
}

unsigned pgt_x86_64_prot_decode(unsigned level, pgt_pte_t pte)
{
	unsigned prot = 0;

	(void)level;
	if (pte & PGT_X86_P) {
		prot |= PGT_PROT_READ;
		prot |= (pte & PGT_X86_RW) ? PGT_PROT_WRITE : 0;
		prot |= (pte & PGT_X86_NX) ? 0 : PGT_PROT_EXEC;
	}
	prot |= (pte & PGT_X86_US) ? PGT_PROT_USER : 0;
	prot |= (pte & PGT_X86_G) ? PGT_PROT_GLOBAL : 0;
	return prot | x86_memtype_prot(pte);
}

/*
 * Access rights, SDM vol. 3A 4.6 (with CR0.WP = 1, EFER.NXE = 1, no SMEP or
 * SMAP): every entry on the walk, tables and leaf alike, must have RW for a
 * write, US for a user-mode access, and XD clear for a fetch. The same three
 * rules serve table entries (restricting what is below) and leaves.
 */
#define X86_RULES                                                                                \
	{                                                                                        \
		{ PGT_X86_RW, 0, PGT_RIGHT_PW | PGT_RIGHT_UW },                                  \
		{ PGT_X86_US, 0, PGT_RIGHT_UR | PGT_RIGHT_UW | PGT_RIGHT_UX },                   \
		{ PGT_X86_NX, PGT_X86_NX, PGT_RIGHT_PX | PGT_RIGHT_UX },                          \
	}

/* Reserved bits of a present leaf at the level whose pages are 2^sh bytes. */
#define X86_LEAF_MBZ(sh) ((sh) == 21 ? PGT_X86_MBZ_2M : (sh) == 30 ? PGT_X86_MBZ_1G : 0)

/*
 * The bits of a table entry the library writes besides P and the address:
 * RW and US (the leaf decides the rights) and A, set from the start as
 * Linux and FreeBSD do. The MMU sets A only where it is clear (SDM vol. 3A
 * 4.8), so it never writes these entries: the space's one writer changes
 * their counts with plain stores, not locked instructions.
 */
#define X86_TABLE_ATTRS(sh) (PGT_X86_RW | PGT_X86_US | ((sh) == 12 ? 0 : PGT_X86_A))

/*
 * One level. Tables hold 512 entries at every level. A table entry is
 * P|RW|US|A (X86_TABLE_ATTRS) with PS clear; a leaf above level 0 has PS set.
 */
#define X86_LEVEL(sh, leaf, oa)                                                   \
	{                                                                         \
		.shift = (sh), .bits = 9, .leaf_ok = (leaf), .table_size = 4096,  \
		.valid = PGT_X86_P,                                               \
		.type_mask = (sh) == 12 ? PGT_X86_P : PGT_X86_P | PGT_X86_PS,     \
		.table_type = PGT_X86_P,                                          \
		.leaf_type = (sh) == 12 ? PGT_X86_P : PGT_X86_P | PGT_X86_PS,     \
		.reserved = PGT_X86_SW_RESERVED, .table_oa = PGT_X86_ADDR_4K,     \
		.table_attrs = X86_TABLE_ATTRS(sh), .leaf_oa = (oa),             \
		.prot_mask = X86_PROT_BITS | ((sh) == 12 ? 0 : PGT_X86_PS),       \
		.accessed = (leaf) ? PGT_X86_A : 0, .dirty = (leaf) ? PGT_X86_D : 0, \
		.table_borrowed = (sh) == 12 ? 0 : PGT_X86_SW_BORROWED,           \
		.table_pinned = (sh) == 12 ? 0 : PGT_X86_SW_PINNED,               \
		.table_rules = X86_RULES, .leaf_rules = X86_RULES,                \
		.table_mbz = 0, .leaf_mbz = X86_LEAF_MBZ(sh),                     \
		.table_accessed = (sh) == 12 ? 0 : PGT_X86_A,                     \
		.table_count = (sh) == 12 ? 0 : PGT_X86_SW_COUNT,                 \
	}

#define X86_PT X86_LEVEL(12, 1, PGT_X86_ADDR_4K)   /* PTE: 4K pages */
#define X86_PD X86_LEVEL(21, 1, PGT_X86_ADDR_2M)   /* PDE: 2M pages */
#define X86_PDPT X86_LEVEL(30, 1, PGT_X86_ADDR_1G) /* PDPTE: 1G pages */

#define X86_DESC(nm, nlev, va, walks_, ...)                                               \
	{                                                                                 \
		.name = (nm), .levels = (nlev), .va_bits = (va), .pa_bits = 52,           \
		.canon = PGT_CANON_SIGN_EXTEND,                                           \
		.level = { __VA_ARGS__ },                                                 \
		.prot_encode = pgt_x86_64_prot_encode,                                    \
		.prot_decode = pgt_x86_64_prot_decode,                                    \
		.malformed_fault = PGT_FAULT_RESERVED_BIT, /* #PF with RSVD = 1, SDM 4.7 */ \
		.walks = (walks_),                                                        \
	}

#define X86_4LEVEL(w) X86_DESC("x86_64", 4, 48, w, X86_PT, X86_PD, X86_PDPT, X86_LEVEL(39, 0, 0) /* PML4E */)
#define X86_5LEVEL(w)                                                                      \
	X86_DESC("x86_64-la57", 5, 57, w, X86_PT, X86_PD, X86_PDPT, X86_LEVEL(39, 0, 0), \
		 X86_LEVEL(48, 0, 0) /* PML5E */)

/* --- walks compiled with these masks as constants ------------------------------ */

#include "../../lib/walks_tpl.h"

/* Defined below by PGT__WALKS; the descriptors point to them. */
static const struct pgt_arch_walks x86_4_walks, x86_5_walks;

PGT_API const struct pgt_arch pgt_arch_x86_64 = X86_4LEVEL(&x86_4_walks);
PGT_API const struct pgt_arch pgt_arch_x86_64_la57 = X86_5LEVEL(&x86_5_walks);

/*
 * Static copies of the descriptors, which the compiler folds into the walks
 * (it may not fold the exported ones: a shared library's data can be
 * interposed).
 */
static const struct pgt_arch walk_4level = X86_4LEVEL(NULL);
static const struct pgt_arch walk_5level = X86_5LEVEL(NULL);

PGT__WALKS(x86_4_walks, &walk_4level, &pgt_arch_x86_64)
PGT__WALKS(x86_5_walks, &walk_5level, &pgt_arch_x86_64_la57)
