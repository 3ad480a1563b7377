/* SPDX-License-Identifier: MIT */
/*
 * RISC-V Sv39, Sv48 and Sv57 descriptors (stage 1), and the hypervisor
 * extension's G-stage Sv39x4, Sv48x4 and Sv57x4 (stage 2). The RISC-V
 * Instruction Set Manual, Volume II (20211203): 4.3.2 "Virtual Address
 * Translation Process", 4.4 Sv39, 4.5 Sv48, 4.6 Sv57, the Svpbmt chapter,
 * and 8.5.1 "Guest Physical Address Translation"; bits named in
 * pgtable/riscv.h.
 *
 * A valid entry with R, W and X clear points to the next table; with any
 * of them set it is a leaf, at any level (4K, 2M, 1G, 512G, 256T pages).
 * Output addresses sit two bits lower than in the address: PPN = PA[55:12]
 * in bits 53:10. Non-leaf entries restrict nothing: the leaf alone decides.
 *
 * The G-stage formats are the stage-1 ones with two more address bits,
 * taken by a root of 2048 entries (16 KiB, 16 KiB aligned), and with every
 * access checked as a U-mode access (8.5.1): the codec sets U on every
 * valid leaf, and a leaf without U grants nothing.
 */
#include <pgtable/arch.h>
#include <pgtable/riscv.h>

#define RV_RWX (PGT_RISCV_R | PGT_RISCV_W | PGT_RISCV_X)
#define RV_PROT_BITS (PGT_RISCV_V | RV_RWX | PGT_RISCV_U | PGT_RISCV_G | PGT_RISCV_A | PGT_RISCV_D | \
		      PGT_RISCV_SW_RESERVED | PGT_RISCV_PBMT_MASK)

/* Svpbmt memory types; write-combining has no type of its own (NC is the closest). */
static int rv_pbmt(unsigned prot, pgt_pte_t *bits)
{
	switch (prot & PGT_PROT_MEMTYPE) {
	case 0: *bits = 0; return PGT_OK; /* PMA: the platform's type, write-back for RAM */
	case PGT_PROT_NONCACHEABLE: *bits = PGT_RISCV_PBMT_NC; return PGT_OK;
	case PGT_PROT_UNCACHED: *bits = PGT_RISCV_PBMT_IO; return PGT_OK;
	default: return PGT_ENOTSUP;
	}
}

static int rv_prot_encode(unsigned level, unsigned prot, pgt_pte_t *bits)
{
	unsigned rights = prot & (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC);
	pgt_pte_t attrs;

	(void)level; /* the same leaf encoding at every level */
	if ((rights & PGT_PROT_WRITE) && !(rights & PGT_PROT_READ))
		return PGT_ENOTSUP; /* W without R is a reserved encoding */
	if (rv_pbmt(prot, &attrs) != PGT_OK)
		return PGT_ENOTSUP;
	attrs |= (prot & PGT_PROT_USER) ? PGT_RISCV_U : 0;
	attrs |= (prot & PGT_PROT_GLOBAL) ? PGT_RISCV_G : 0;
	if (!rights) {
		*bits = PGT_RISCV_SW_RESERVED | attrs; /* V clear: the MMU reads nothing else */
		return PGT_OK;
	}
	/* A and D set: hardware that faults on clear ones (Svade) then never faults. */
	*bits = PGT_RISCV_V | PGT_RISCV_A | PGT_RISCV_D | attrs;
	*bits |= (rights & PGT_PROT_READ) ? PGT_RISCV_R : 0;
	*bits |= (rights & PGT_PROT_WRITE) ? PGT_RISCV_W : 0;
	*bits |= (rights & PGT_PROT_EXEC) ? PGT_RISCV_X : 0;
	return PGT_OK;
}

static unsigned rv_prot_decode(unsigned level, pgt_pte_t pte)
{
	unsigned prot = 0;

	(void)level;
	if (pte & PGT_RISCV_V) {
		prot |= (pte & PGT_RISCV_R) ? PGT_PROT_READ : 0;
		prot |= (pte & PGT_RISCV_W) ? PGT_PROT_WRITE : 0;
		prot |= (pte & PGT_RISCV_X) ? PGT_PROT_EXEC : 0;
	}
	prot |= (pte & PGT_RISCV_U) ? PGT_PROT_USER : 0;
	prot |= (pte & PGT_RISCV_G) ? PGT_PROT_GLOBAL : 0;
	switch (pte & PGT_RISCV_PBMT_MASK) {
	case 0: return prot;
	case PGT_RISCV_PBMT_NC: return prot | PGT_PROT_NONCACHEABLE;
	default: return prot | PGT_PROT_UNCACHED; /* IO (3 is reserved: the walk faults) */
	}
}

/*
 * G-stage codec: the stage-1 leaf with U set on every valid leaf (8.5.1:
 * the walk checks U as for a U-mode access, so a leaf without it faults)
 * and G never set (8.5.1: reserved, software should clear it). Neither
 * PGT_PROT_USER nor PGT_PROT_GLOBAL means anything here: both are taken
 * and dropped, and decoding reports neither.
 */
#define RV_G_IGNORED (PGT_PROT_USER | PGT_PROT_GLOBAL)

static int rv_g_prot_encode(unsigned level, unsigned prot, pgt_pte_t *bits)
{
	int rc = rv_prot_encode(level, prot & ~(unsigned)RV_G_IGNORED, bits);

	if (rc == PGT_OK && (*bits & PGT_RISCV_V))
		*bits |= PGT_RISCV_U;
	return rc;
}

static unsigned rv_g_prot_decode(unsigned level, pgt_pte_t pte)
{
	return rv_prot_decode(level, pte) & ~(unsigned)RV_G_IGNORED;
}

/*
 * Leaf permissions (4.3.2 step 5, with SUM = 0 and MXR = 0): R, W and X
 * grant their access; U set means user mode only (the supervisor may not
 * touch it), U clear supervisor only.
 */
#define RV_LEAF_RULES                                                                    \
	{                                                                                \
		{ PGT_RISCV_R, 0, PGT_RIGHT_PR | PGT_RIGHT_UR },                         \
		{ PGT_RISCV_W, 0, PGT_RIGHT_PW | PGT_RIGHT_UW },                         \
		{ PGT_RISCV_X, 0, PGT_RIGHT_PX | PGT_RIGHT_UX },                         \
		{ PGT_RISCV_U, PGT_RISCV_U, PGT_RIGHT_PR | PGT_RIGHT_PW | PGT_RIGHT_PX }, \
		{ PGT_RISCV_U, 0, PGT_RIGHT_UR | PGT_RIGHT_UW | PGT_RIGHT_UX },          \
	}

/*
 * G-stage leaf permissions (8.5.1): every access is a U-mode access, so a
 * leaf grants R, W and X to privileged and unprivileged accesses alike
 * (PGT_ACC_USER changes nothing), and a leaf with U clear grants nothing.
 */
#define RV_G_LEAF_RULES                                                  \
	{                                                                \
		{ PGT_RISCV_R, 0, PGT_RIGHT_PR | PGT_RIGHT_UR },         \
		{ PGT_RISCV_W, 0, PGT_RIGHT_PW | PGT_RIGHT_UW },         \
		{ PGT_RISCV_X, 0, PGT_RIGHT_PX | PGT_RIGHT_UX },         \
		{ PGT_RISCV_U, 0, PGT_RIGHTS_ALL },                      \
	}

/* Bits [hi-1:lo] of an entry. */
#define RV_BITS(hi, lo) ((((pgt_pte_t)1 << (hi)) - 1) & ~(((pgt_pte_t)1 << (lo)) - 1))

/* The PPN bits of a leaf of 2^sh bytes: PA[55:sh] in bits 53:sh-2. */
#define RV_LEAF_OA(sh) (PGT_RISCV_PPN & ~RV_BITS((sh) - 2, 0))

/*
 * A valid entry with a reserved bit (60:54) or N set faults; so does a
 * non-leaf entry with PBMT set (Svpbmt) or with U, A or D (reserved in
 * non-leaf entries, 4.3.1; 4.3.2 step 3), and a superpage whose PPN bits
 * below its size are not zero (4.3.2 step 6: misaligned superpage).
 */
#define RV_TABLE_MBZ (PGT_RISCV_N | PGT_RISCV_PBMT_MASK | PGT_RISCV_RESERVED | PGT_RISCV_U | PGT_RISCV_A | PGT_RISCV_D)
#define RV_LEAF_MBZ(sh) (PGT_RISCV_N | PGT_RISCV_RESERVED | (PGT_RISCV_PPN & RV_BITS((sh) - 2, 0)))

/*
 * Encodings 4.3.2 rejects in a valid entry: W without R (step 3), and
 * Svpbmt's reserved PBMT value 3.
 */
#define RV_MALFORMED                                                          \
	{                                                                     \
		{ PGT_RISCV_R | PGT_RISCV_W, PGT_RISCV_W },                   \
		{ PGT_RISCV_PBMT_MASK, PGT_RISCV_PBMT_MASK },                 \
	}

/*
 * One level: 2^nbits entries of 8 bytes (512; the G-stage root 2048); a
 * leaf here maps 2^sh bytes and grants what the rules of `stage` (S1 or G:
 * RV_RULES_S1, RV_RULES_G) leave. The rules are named by pasting, not
 * passed: a braced list is no macro argument the analysers accept.
 */
#define RV_RULES_S1 RV_LEAF_RULES
#define RV_RULES_G  RV_G_LEAF_RULES
#define RV_LEVEL_OF(sh, nbits, stage)                                                              \
	{                                                                                          \
		.shift = (sh), .bits = (nbits), .leaf_ok = 1, .oa_shift = 2,                       \
		.table_size = 8u << (nbits), .valid = PGT_RISCV_V, .type_mask = PGT_RISCV_V,       \
		.table_type = PGT_RISCV_V, .leaf_type = PGT_RISCV_V, .leaf_any = RV_RWX,           \
		.reserved = PGT_RISCV_SW_RESERVED, .table_oa = PGT_RISCV_PPN, .table_attrs = 0,    \
		.leaf_oa = RV_LEAF_OA(sh), .prot_mask = RV_PROT_BITS, .accessed = PGT_RISCV_A,     \
		.dirty = PGT_RISCV_D, .table_borrowed = (sh) == 12 ? 0 : PGT_RISCV_SW_BORROWED,    \
		.table_pinned = (sh) == 12 ? 0 : PGT_RISCV_SW_PINNED, .leaf_rules = RV_RULES_##stage,\
		.table_mbz = RV_TABLE_MBZ, .leaf_mbz = RV_LEAF_MBZ(sh), .malformed = RV_MALFORMED, \
	}

#define RV_LEVEL(sh) RV_LEVEL_OF(sh, 9, S1)
/* G-stage levels: the root indexes two more address bits (8.5.1: 16 KiB root). */
#define RV_G_LEVEL(sh) RV_LEVEL_OF(sh, 9, G)
#define RV_G_ROOT(sh)  RV_LEVEL_OF(sh, 11, G)

#define RV_DESC(nm, nlev, va, walks_, ...)                                          \
	{                                                                           \
		.name = (nm), .levels = (nlev), .va_bits = (va), .pa_bits = 56,     \
		.canon = PGT_CANON_SIGN_EXTEND,                                     \
		.level = { __VA_ARGS__ },                                           \
		.prot_encode = rv_prot_encode, .prot_decode = rv_prot_decode,       \
		.af_fault = 1, .dirty_fault = 1, /* Svade; pgt_map sets A and D */  \
		.malformed_fault = PGT_FAULT_RESERVED_BIT,                          \
		.walks = (walks_),                                                  \
	}

/*
 * G-stage: guest-physical addresses are [0, 2^va) (8.5.1: bits 63:va must
 * be zero, not a sign extension), host-physical ones 56 bits as in stage 1.
 */
#define RV_G_DESC(nm, nlev, va, walks_, ...)                                        \
	{                                                                           \
		.name = (nm), .levels = (nlev), .va_bits = (va), .pa_bits = 56,     \
		.canon = PGT_CANON_SPLIT,                                           \
		.level = { __VA_ARGS__ },                                           \
		.prot_encode = rv_g_prot_encode, .prot_decode = rv_g_prot_decode,   \
		.af_fault = 1, .dirty_fault = 1, /* Svade; pgt_map sets A and D */  \
		.malformed_fault = PGT_FAULT_RESERVED_BIT,                          \
		.stage = 2, .walks = (walks_),                                      \
	}

#define RV_SV39(w) RV_DESC("riscv-sv39", 3, 39, w, RV_LEVEL(12), RV_LEVEL(21), RV_LEVEL(30))
#define RV_SV48(w) RV_DESC("riscv-sv48", 4, 48, w, RV_LEVEL(12), RV_LEVEL(21), RV_LEVEL(30), RV_LEVEL(39))
#define RV_SV57(w) \
	RV_DESC("riscv-sv57", 5, 57, w, RV_LEVEL(12), RV_LEVEL(21), RV_LEVEL(30), RV_LEVEL(39), RV_LEVEL(48))
#define RV_SV39X4(w) RV_G_DESC("riscv-sv39x4", 3, 41, w, RV_G_LEVEL(12), RV_G_LEVEL(21), RV_G_ROOT(30))
#define RV_SV48X4(w) \
	RV_G_DESC("riscv-sv48x4", 4, 50, w, RV_G_LEVEL(12), RV_G_LEVEL(21), RV_G_LEVEL(30), RV_G_ROOT(39))
#define RV_SV57X4(w)                                                                       \
	RV_G_DESC("riscv-sv57x4", 5, 59, w, RV_G_LEVEL(12), RV_G_LEVEL(21), RV_G_LEVEL(30), \
		  RV_G_LEVEL(39), RV_G_ROOT(48))

/* --- walks compiled with these masks as constants ------------------------------ */

#include "../../lib/walks_tpl.h"

/* Defined below by PGT__WALKS; the descriptors point to them. */
static const struct pgt_arch_walks rv_sv39_walks, rv_sv48_walks, rv_sv57_walks;
static const struct pgt_arch_walks rv_sv39x4_walks, rv_sv48x4_walks, rv_sv57x4_walks;

PGT_API const struct pgt_arch pgt_arch_riscv_sv39 = RV_SV39(&rv_sv39_walks);
PGT_API const struct pgt_arch pgt_arch_riscv_sv48 = RV_SV48(&rv_sv48_walks);
PGT_API const struct pgt_arch pgt_arch_riscv_sv57 = RV_SV57(&rv_sv57_walks);
PGT_API const struct pgt_arch pgt_arch_riscv_sv39x4 = RV_SV39X4(&rv_sv39x4_walks);
PGT_API const struct pgt_arch pgt_arch_riscv_sv48x4 = RV_SV48X4(&rv_sv48x4_walks);
PGT_API const struct pgt_arch pgt_arch_riscv_sv57x4 = RV_SV57X4(&rv_sv57x4_walks);

/*
 * Static copies of the descriptors, which the compiler folds into the walks
 * (it may not fold the exported ones: a shared library's data can be
 * interposed).
 */
static const struct pgt_arch walk_sv39 = RV_SV39(NULL);
static const struct pgt_arch walk_sv48 = RV_SV48(NULL);
static const struct pgt_arch walk_sv57 = RV_SV57(NULL);
static const struct pgt_arch walk_sv39x4 = RV_SV39X4(NULL);
static const struct pgt_arch walk_sv48x4 = RV_SV48X4(NULL);
static const struct pgt_arch walk_sv57x4 = RV_SV57X4(NULL);

PGT__WALKS(rv_sv39_walks, &walk_sv39, &pgt_arch_riscv_sv39)
PGT__WALKS(rv_sv48_walks, &walk_sv48, &pgt_arch_riscv_sv48)
PGT__WALKS(rv_sv57_walks, &walk_sv57, &pgt_arch_riscv_sv57)
PGT__WALKS(rv_sv39x4_walks, &walk_sv39x4, &pgt_arch_riscv_sv39x4)
PGT__WALKS(rv_sv48x4_walks, &walk_sv48x4, &pgt_arch_riscv_sv48x4)
PGT__WALKS(rv_sv57x4_walks, &walk_sv57x4, &pgt_arch_riscv_sv57x4)
