/* SPDX-License-Identifier: MIT */
/*
 * custom-arch: x86 PAE paging (32-bit linear addresses, 64-bit entries)
 * described against <pgtable/arch.h> and <pgtable/pgtable.h> alone, a
 * format the library does not ship. One descriptor holds the whole format
 * and one space the whole 4 GiB: CR3 -> PDPT -> page directory -> page
 * table. Every entry the library writes is a PAE entry in its place, so a
 * PAE MMU walks the tables as they are.
 *
 * It inserts and sets fields (the L4 ADT), looks up, translates accesses
 * as a PAE MMU would, verifies the tree, maps, protects and unmaps ranges
 * with 2 MiB pages (across PDPTEs as well), and checks every entry it
 * built, with literal values and with a walker of its own that starts at
 * CR3, reads the tables as the MMU does and must agree with pgt_translate
 * everywhere it looks.
 *
 * Build it on its own with:
 *     cc -std=c11 -o pae pae.c $(pkg-config --cflags --libs pgtable)
 *
 * Source of every bit: Intel 64 and IA-32 Architectures Software
 * Developer's Manual, volume 3A, section 4.4 "PAE Paging": table 4-7 (CR3),
 * 4-8 (PDPTE), 4-9 (PDE mapping a 2 MiB page), 4-10 (PDE referencing a page
 * table), 4-11 (PTE); 4.6 (access rights), 4.7 (page faults), 4.8
 * (accessed and dirty); the PAT chapter's "Selecting a Memory Type from the
 * PAT" and its table of the power-up PAT (tables 11-11 and 11-12 in the
 * 253668-032 edition, whose chapter 4 numbering the tables above follow).
 *
 * PAE in short: CR3 bits 31:5 hold the 32-byte-aligned page-directory-
 * pointer table (PDPT), four PDPTEs indexed by VA bits 31:30; each present
 * PDPTE points to a page directory of 512 PDEs (VA bits 29:21), a PDE maps
 * a 2 MiB page (PS = 1) or points to a page table of 512 PTEs (VA bits
 * 20:12) that map 4 KiB pages. A PDPTE has P, PWT, PCD and the address
 * only: no R/W, U/S, A or XD (bits 2:1 and 8:5 and 63:M are reserved). The
 * CPU reads the four PDPTEs into internal registers at MOV to CR3 (4.4.1),
 * not on each walk, and a reserved bit in a present PDPTE is #GP(0) there.
 *
 * The PDPT is the space's root: `bits = 2, table_size = 32`. The library
 * takes a root that small because a root never waits on one of its lists
 * of tables out of the tree (those carry a link in their first eight
 * entries) and no entry ever holds a root's address (CR3 does): it asks
 * only that the root's frame be aligned to its own 32 bytes.
 *
 * What stays with the program, as the descriptor contract stands:
 *  - The PDPT must lie below 4 GiB (CR3 holds 32 bits, table 4-7), which no
 *    descriptor field says: that is the allocator's duty. The arena below
 *    lies under 4 GiB and hands out PDPTs as 32-byte slots of one frame,
 *    not on 4 KiB boundaries; pae_init checks CR3 all the same.
 *  - The CPU sees a changed PDPTE only at the next MOV to CR3 (4.4.1). The
 *    library writes a PDPTE when a 1 GiB quarter gets its first page
 *    directory or an unmap frees its last one; the wrappers below reload
 *    CR3 whenever the PDPT changed, and the walker reads PDPTEs from the
 *    registers that reload filled, as the CPU does.
 *  - malformed_fault is one kind per format: PGT_FAULT_RESERVED_BIT, the
 *    #PF with RSVD = 1 that a reserved bit in a PDE or PTE gives (4.7). A
 *    reserved bit in a present PDPTE is #GP(0) at MOV to CR3 on real
 *    hardware, never a #PF; pgt_translate reports it as a reserved-bit
 *    fault at level 2 and pgt_verify as a reserved bit (reserved_bits()
 *    below shows both).
 *
 * ARMv7 LPAE (Arm ARM for ARMv7-A, B3.6) with TTBCR.T0SZ = 0 or 1 has the
 * same kind of root, four or two 8-byte entries, and would be described the
 * same way; tests/check_fake_arch.c runs both root sizes.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

/*
 * MAXPHYADDR (the SDM's M): CPUID.80000008H:EAX[7:0], at most 52. 36 is
 * the first PAE processors' width; a kernel builds its descriptor for the
 * CPU it runs on. Every mask below follows it.
 */
#ifndef PAE_MAXPHYADDR
#define PAE_MAXPHYADDR 36
#endif
_Static_assert(PAE_MAXPHYADDR >= 32 && PAE_MAXPHYADDR <= 52, "MAXPHYADDR is 32 to 52");

#define BIT(n)       ((pgt_pte_t)1 << (n))
#define BITS(hi, lo) ((~(pgt_pte_t)0 >> (63 - (hi))) & ~(BIT(lo) - 1)) /* bits hi:lo */

/* Flags of PDEs and PTEs, tables 4-9 to 4-11 (the PDPTE has only P, PWT, PCD). */
#define PAE_P   BIT(0)  /* present (all entries) */
#define PAE_RW  BIT(1)  /* read/write (PDE, PTE; reserved in a PDPTE) */
#define PAE_US  BIT(2)  /* user/supervisor (PDE, PTE; reserved in a PDPTE) */
#define PAE_PWT BIT(3)  /* page-level write-through: PAT index bit 0 (all entries) */
#define PAE_PCD BIT(4)  /* page-level cache disable: PAT index bit 1 (all entries) */
#define PAE_A   BIT(5)  /* accessed (PDE, PTE) */
#define PAE_D   BIT(6)  /* dirty (2 MiB PDE, PTE; ignored in a PDE referencing a table) */
#define PAE_PS  BIT(7)  /* page size: 1 in a PDE mapping a 2 MiB page (table 4-9); PAT in a PTE */
#define PAE_G   BIT(8)  /* global, with CR4.PGE = 1 (2 MiB PDE, PTE) */
#define PAE_XD  BIT(63) /* execute-disable, with IA32_EFER.NXE = 1 (PDE, PTE; reserved in a PDPTE) */

/* Bits 11:9 are ignored in every PDE and PTE and in the PDPTE (tables 4-8 to 4-11): the library's marks. */
#define PAE_SW_RESERVED BIT(9)  /* a reserved leaf (P = 0): inserted, no rights yet */
#define PAE_SW_BORROWED BIT(10) /* table entry: the table belongs to another space (pgt_share) */
#define PAE_SW_PINNED   BIT(11) /* table entry: the table is shared */

/* Address fields: bits M-1:12 (PDPTE, PDE -> table, PTE; tables 4-8, 4-10, 4-11), M-1:21 (table 4-9). */
#define PAE_ADDR_4K BITS(PAE_MAXPHYADDR - 1, 12)
#define PAE_ADDR_2M BITS(PAE_MAXPHYADDR - 1, 21)

/*
 * Reserved (must-be-zero) bits of present entries. PAE has no ignored high
 * bits: 62:M are reserved in every PDE and PTE (tables 4-9 to 4-11), 20:13
 * in a PDE mapping a 2 MiB page (bit 12 is its PAT bit), and 2:1, 8:5 and
 * 63:M in a PDPTE (table 4-8). Bit 63 is XD, not reserved, since the
 * descriptor assumes IA32_EFER.NXE = 1.
 */
#define PAE_MBZ_HIGH  BITS(62, PAE_MAXPHYADDR)
#define PAE_MBZ_2M    BITS(20, 13)
#define PAE_MBZ_PDPTE (BITS(2, 1) | BITS(8, 5) | BITS(63, PAE_MAXPHYADDR))

/* CR3 with PAE paging (table 4-7): bits 31:5 address the PDPT; 4:0 and 63:32 are ignored. */
#define PAE_CR3_PDPT BITS(31, 5)

#if PAE_MAXPHYADDR == 36
/* The same masks as the literals the manual's bit ranges give, for the width printed on most PAE diagrams. */
_Static_assert(PAE_ADDR_4K == 0x0000000ffffff000ull && PAE_ADDR_2M == 0x0000000fffe00000ull,
	       "address fields");
_Static_assert(PAE_MBZ_HIGH == 0x7ffffff000000000ull && PAE_MBZ_2M == 0x00000000001fe000ull, "reserved bits");
_Static_assert(PAE_MBZ_PDPTE == 0xfffffff0000001e6ull && PAE_CR3_PDPT == 0xffffffe0ull, "PDPTE and CR3");
#endif

/* ------------------------------------------------------------------------ */
/* The rights and memory-type codec.                                         */

/* Bits the codec owns. A and D are status bits and survive it. */
#define PAE_PROT_BITS (PAE_P | PAE_RW | PAE_US | PAE_PWT | PAE_PCD | PAE_G | PAE_XD | PAE_SW_RESERVED)

/*
 * Memory types by PAT index (PAT:PCD:PWT) with the PAT bit 0, assuming the
 * IA32_PAT value of power-up: entry 0 WB, 1 WT, 2 UC-, 3 UC. None of entries
 * 0 to 3 is write-combining, so PGT_PROT_WRITECOMBINE is PGT_ENOTSUP here
 * (a kernel that programs IA32_PAT would encode it).
 */
static int pae_memtype(unsigned prot, pgt_pte_t *bits)
{
	switch (prot & PGT_PROT_MEMTYPE) {
	case 0: *bits = 0; return PGT_OK;                                 /* PAT 0: WB */
	case PGT_PROT_NONCACHEABLE: *bits = PAE_PCD; return PGT_OK;       /* PAT 2: UC- */
	case PGT_PROT_UNCACHED: *bits = PAE_PCD | PAE_PWT; return PGT_OK; /* PAT 3: UC */
	default: return PGT_ENOTSUP;
	}
}

static unsigned pae_memtype_prot(pgt_pte_t pte)
{
	switch (pte & (PAE_PCD | PAE_PWT)) {
	case PAE_PCD: return PGT_PROT_NONCACHEABLE;
	case PAE_PCD | PAE_PWT: return PGT_PROT_UNCACHED;
	default: return 0; /* WB, or WT, which no PGT_PROT_* names */
	}
}

/* Attributes a reserved leaf keeps as well (ignored while P is 0: "the processor ignores bits 63:1"). */
static int pae_attrs(unsigned prot, pgt_pte_t *bits)
{
	int rc = pae_memtype(prot, bits);

	*bits |= (prot & PGT_PROT_USER) ? PAE_US : 0;
	*bits |= (prot & PGT_PROT_GLOBAL) ? PAE_G : 0;
	*bits |= (prot & PGT_PROT_EXEC) ? 0 : PAE_XD;
	return rc;
}

/*
 * Every present page is readable (4.6: data may be read from any linear
 * address with a valid translation, given U/S for user mode), so write or
 * execute without read cannot be said: PGT_ENOTSUP, entry unchanged.
 */
static int pae_prot_encode(unsigned level, unsigned prot, pgt_pte_t *bits)
{
	unsigned rights = prot & (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC);
	pgt_pte_t ps = level == 1 ? PAE_PS : 0; /* PS marks the 2 MiB leaf; a PTE's bit 7 is PAT, left 0 */
	pgt_pte_t attrs = 0;

	if (rights && !(rights & PGT_PROT_READ))
		return PGT_ENOTSUP;
	if (pae_attrs(prot, &attrs) != PGT_OK)
		return PGT_ENOTSUP;
	if (!rights)
		*bits = PAE_SW_RESERVED | ps | attrs;
	else
		*bits = PAE_P | ps | attrs | ((prot & PGT_PROT_WRITE) ? PAE_RW : 0);
	return PGT_OK;
}

static unsigned pae_prot_decode(unsigned level, pgt_pte_t pte)
{
	unsigned prot = 0;

	(void)level; /* the same flags at both leaf levels */
	if (pte & PAE_P) {
		prot |= PGT_PROT_READ;
		prot |= (pte & PAE_RW) ? PGT_PROT_WRITE : 0;
		prot |= (pte & PAE_XD) ? 0 : PGT_PROT_EXEC;
	}
	prot |= (pte & PAE_US) ? PGT_PROT_USER : 0;
	prot |= (pte & PAE_G) ? PGT_PROT_GLOBAL : 0;
	return prot | pae_memtype_prot(pte);
}

/* ------------------------------------------------------------------------ */
/* The descriptors.                                                          */

/*
 * Access rights, 4.6, with CR0.WP = 1 (supervisor writes honour R/W),
 * IA32_EFER.NXE = 1, and neither SMEP nor SMAP (supervisor mode may read,
 * write and fetch user pages): a write needs R/W = 1, a user-mode access
 * U/S = 1, a fetch XD = 0, in every PDE and PTE on the walk. The same rules
 * serve a PDE referencing a table (restricting what is below) and a leaf.
 */
#define PAE_RULES                                                                  \
	{                                                                          \
		{ PAE_RW, 0, PGT_RIGHT_PW | PGT_RIGHT_UW },                        \
			{ PAE_US, 0, PGT_RIGHT_UR | PGT_RIGHT_UW | PGT_RIGHT_UX }, \
			{ PAE_XD, PAE_XD, PGT_RIGHT_PX | PGT_RIGHT_UX },           \
	}

/* Page table: 512 PTEs of 4 KiB pages, VA bits 20:12 (table 4-11). */
#define PAE_LEVEL_PT                                                                                      \
	{                                                                                                 \
		.shift = 12, .bits = 9, .leaf_ok = 1, .table_size = 4096, .valid = PAE_P,                 \
		.type_mask = PAE_P, .table_type = PAE_P, .leaf_type = PAE_P, .reserved = PAE_SW_RESERVED, \
		.table_oa = PAE_ADDR_4K, .leaf_oa = PAE_ADDR_4K, .prot_mask = PAE_PROT_BITS,              \
		.accessed = PAE_A, .dirty = PAE_D, .leaf_rules = PAE_RULES, .leaf_mbz = PAE_MBZ_HIGH,     \
	}

/*
 * Page directory: 512 PDEs, VA bits 29:21; PS = 0 references a page table
 * (table 4-10), PS = 1 maps a 2 MiB page (table 4-9). A table entry is
 * P|R/W|U/S, granting everything, so the leaf decides; the CPU sets its A.
 */
#define PAE_LEVEL_PD                                                                                  \
	{                                                                                             \
		.shift = 21, .bits = 9, .leaf_ok = 1, .table_size = 4096, .valid = PAE_P,             \
		.type_mask = PAE_P | PAE_PS, .table_type = PAE_P, .leaf_type = PAE_P | PAE_PS,        \
		.reserved = PAE_SW_RESERVED, .table_oa = PAE_ADDR_4K, .table_attrs = PAE_RW | PAE_US, \
		.leaf_oa = PAE_ADDR_2M, .prot_mask = PAE_PROT_BITS | PAE_PS, .accessed = PAE_A,       \
		.dirty = PAE_D, .table_borrowed = PAE_SW_BORROWED, .table_pinned = PAE_SW_PINNED,     \
		.table_rules = PAE_RULES, .leaf_rules = PAE_RULES, .table_mbz = PAE_MBZ_HIGH,         \
		.leaf_mbz = PAE_MBZ_HIGH | PAE_MBZ_2M, .table_accessed = PAE_A,                       \
	}

/*
 * PDPT: four PDPTEs, VA bits 31:30, a 32-byte table (table 4-8). No leaves
 * (PS is among the reserved bits 8:5), no rights (R/W and U/S are reserved
 * bits 2:1; rights come from the PDE and PTE), no accessed bit.
 */
#define PAE_LEVEL_PDPT                                                                                      \
	{                                                                                                   \
		.shift = 30, .bits = 2, .leaf_ok = 0, .table_size = 32, .valid = PAE_P, .type_mask = PAE_P, \
		.table_type = PAE_P, .table_oa = PAE_ADDR_4K, .table_attrs = 0,                             \
		.table_borrowed = PAE_SW_BORROWED, .table_pinned = PAE_SW_PINNED,                           \
		.table_mbz = PAE_MBZ_PDPTE,                                                                 \
	}

_Static_assert(4 * sizeof(pgt_pte_t) == 32 && (8u << 2) == 32, "a PDPT is 4 entries, 32 bytes: bits = 2");

/*
 * PAE as the manual describes it, CR3 at the root. Malformed entries
 * (reserved bits set, 20:13 of a 2 MiB PDE included) give #PF with RSVD = 1
 * (4.7), except in a PDPTE (#GP at MOV to CR3: see the top). The CPU sets A
 * and D itself (4.8): no fault on a clear one. Replacing a present entry
 * needs an INVLPG after, no break-before-make.
 */
static const struct pgt_arch pae_full = {
	.name = "x86-pae",
	.levels = 3,
	.va_bits = 32, /* [0, 2^32): linear addresses are 32 bits */
	.pa_bits = PAE_MAXPHYADDR,
	.canon = PGT_CANON_SPLIT,
	.level = { PAE_LEVEL_PT, PAE_LEVEL_PD, PAE_LEVEL_PDPT },
	.prot_encode = pae_prot_encode,
	.prot_decode = pae_prot_decode,
	.malformed_fault = PGT_FAULT_RESERVED_BIT,
};

/* ------------------------------------------------------------------------ */
/* Physical memory: a static arena of frames at a "physical" address below  */
/* 4 GiB (CR3 holds 32 bits), reached at a fixed offset as a kernel would.  */
/* Its last frame is cut into 32-byte slots for PDPTs, as a kernel keeps a  */
/* cache of small objects for them (Linux's pgd_cache with PAE).            */

#define FRAMES     48
#define FRAME_SIZE 4096
#define PHYS_BASE  0x00100000ull /* the arena's physical address: 1 MiB */
#define FREE_LEVEL 0xffu
#define SLOT_FRAME (FRAMES - 1) /* the frame of PDPT slots */
#define SLOT_SIZE  32u          /* a PDPT: 4 entries of 8 bytes */
#define SLOTS      (FRAME_SIZE / SLOT_SIZE)
_Static_assert(PHYS_BASE + (uint64_t)FRAMES * FRAME_SIZE <= 0x100000000ull, "the PDPT must lie below 4 GiB");

static _Alignas(FRAME_SIZE) unsigned char arena[FRAMES][FRAME_SIZE];

struct frames {
	long live;                   /* frames and slots handed out and not given back */
	unsigned char level[FRAMES]; /* each frame's level, or FREE_LEVEL (SLOT_FRAME: never free) */
	unsigned char slot[SLOTS];   /* each slot's level, or FREE_LEVEL */
};

static void *phys_to_virt(pgt_paddr_t pa)
{
	if (pa < PHYS_BASE || pa >= PHYS_BASE + sizeof arena)
		return NULL;
	return &arena[0][0] + (pa - PHYS_BASE);
}

static pgt_paddr_t slot_pa(unsigned i)
{
	return PHYS_BASE + (pgt_paddr_t)SLOT_FRAME * FRAME_SIZE + (pgt_paddr_t)i * SLOT_SIZE;
}

/*
 * A 32-byte table gets the highest free slot, so that the PDPT is on no
 * 4 KiB boundary (nothing may rely on one); anything else up to a frame
 * gets the lowest free frame, so that addresses are the same on every run.
 */
static pgt_paddr_t frame_alloc(void *ctx, size_t size, unsigned level)
{
	struct frames *f = ctx;

	for (unsigned i = SLOTS; size == SLOT_SIZE && i-- > 0;) {
		if (f->slot[i] != FREE_LEVEL)
			continue;
		f->slot[i] = (unsigned char)level;
		f->live++;
		memset(phys_to_virt(slot_pa(i)), 0xa5, SLOT_SIZE); /* the library clears it */
		return slot_pa(i);
	}
	for (unsigned i = 0; size > SLOT_SIZE && size <= FRAME_SIZE && i < FRAMES; i++) {
		if (f->level[i] != FREE_LEVEL)
			continue;
		f->level[i] = (unsigned char)level;
		f->live++;
		memset(arena[i], 0xa5, FRAME_SIZE); /* whatever was there before: the library clears it */
		return PHYS_BASE + (pgt_paddr_t)i * FRAME_SIZE;
	}
	return PGT_PADDR_NONE;
}

/* The frame at @p pa and its index, if the arena handed it out at @p level. */
static long frame_index(const struct frames *f, pgt_paddr_t pa, unsigned level)
{
	if (pa < PHYS_BASE || (pa - PHYS_BASE) % FRAME_SIZE || pa >= PHYS_BASE + sizeof arena)
		return -1;
	long i = (long)((pa - PHYS_BASE) / FRAME_SIZE);
	return f->level[i] == level ? i : -1;
}

/* The slot at @p pa and its index, if the arena handed it out at @p level. */
static long slot_index(const struct frames *f, pgt_paddr_t pa, unsigned level)
{
	if (pa < slot_pa(0) || pa >= slot_pa(0) + FRAME_SIZE || (pa - slot_pa(0)) % SLOT_SIZE)
		return -1;
	long i = (long)((pa - slot_pa(0)) / SLOT_SIZE);
	return f->slot[i] == level ? i : -1;
}

static int failures;

static void frame_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct frames *f = ctx;
	long i = size == SLOT_SIZE ? slot_index(f, pa, level) : frame_index(f, pa, level);

	if (i < 0 || size > FRAME_SIZE) {
		printf("FAIL free of %#" PRIx64 " (%zu bytes, level %u): not a frame handed out\n", pa, size,
		       level);
		failures++;
		return;
	}
	if (size == SLOT_SIZE)
		f->slot[i] = FREE_LEVEL;
	else
		f->level[i] = FREE_LEVEL;
	f->live--;
}

/* Lets pgt_verify tell real tables from whatever a stray entry points at. */
static int frame_owned(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	if (size == SLOT_SIZE)
		return slot_index(ctx, pa, level) >= 0;
	return size == FRAME_SIZE && frame_index(ctx, pa, level) >= 0;
}

/* ------------------------------------------------------------------------ */
/* The PAE address space: one space of the library, and the CPU's view.     */

#define GIB        (1ull << 30)
#define PDPT_LEVEL 2u

struct pae {
	pgt_space_t sp;
	pgt_paddr_t cr3;        /* what MOV to CR3 loads: the PDPT's physical address */
	pgt_pte_t pdpte_reg[4]; /* the PDPTE registers, as the last MOV to CR3 loaded them (4.4.1) */
	bool gp;                /* the last MOV to CR3 took #GP(0): a reserved bit in a present PDPTE */
	unsigned cr3_loads;     /* MOV to CR3 so far */
};

/* The four PDPTEs in memory, where the library writes them. */
static const pgt_pte_t *pdpt(const struct pae *p)
{
	return phys_to_virt(p->cr3 & PAE_CR3_PDPT);
}

/*
 * MOV to CR3 (4.4.1): the CPU loads the four PDPTEs into its registers; a
 * present one with a reserved bit set is #GP(0), and CR3 keeps its value.
 */
static bool mov_cr3(struct pae *p)
{
	const pgt_pte_t *m = pdpt(p);

	p->cr3_loads++;
	for (unsigned i = 0; i < 4; i++)
		if ((m[i] & PAE_P) && (m[i] & PAE_MBZ_PDPTE))
			return !(p->gp = true);
	memcpy(p->pdpte_reg, m, sizeof p->pdpte_reg);
	p->gp = false;
	return true;
}

/* After a library call: reloads CR3 when the PDPT changed, as a kernel must. */
static int synced(struct pae *p, int rc)
{
	if (memcmp(p->pdpte_reg, pdpt(p), sizeof p->pdpte_reg) != 0 && !mov_cr3(p)) {
		puts("FAIL MOV to CR3: #GP after a library call");
		failures++;
	}
	return rc;
}

/* The space, and CR3 pointing at its root: 32-byte aligned and below 4 GiB, or the arena broke its promise.
 */
static int pae_init(struct pae *p, const struct pgt_mm *mm)
{
	int rc = pgt_space_init(&p->sp, &pae_full, mm, 0);

	if (rc != PGT_OK)
		return rc;
	p->cr3 = pgt_space_root(&p->sp);
	p->cr3_loads = 0;
	if ((p->cr3 & ~PAE_CR3_PDPT) || !mov_cr3(p)) {
		printf("FAIL the PDPT at %#" PRIx64 " cannot be loaded into CR3\n", p->cr3);
		pgt_space_destroy(&p->sp);
		return PGT_EHOOK;
	}
	return PGT_OK;
}

static int pae_insert(struct pae *p, pgt_vaddr_t va, unsigned page_shift, pgt_ref_t *ref)
{
	return synced(p, pgt_insert(&p->sp, va, page_shift, ref));
}

static int pae_map(struct pae *p, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned prot)
{
	return synced(p, pgt_map(&p->sp, va, pa, size, prot, 0));
}

static int pae_protect(struct pae *p, pgt_vaddr_t va, uint64_t size, unsigned prot)
{
	return synced(p, pgt_protect(&p->sp, va, size, prot));
}

static int pae_unmap(struct pae *p, pgt_vaddr_t va, uint64_t size)
{
	return synced(p, pgt_unmap(&p->sp, va, size));
}

/* ------------------------------------------------------------------------ */
/* The MMU, written from 4.4.1, 4.4.2, 4.6 and 4.7 alone: it walks from the */
/* PDPTE registers down and shares only the bit definitions above with the */
/* descriptor.                                                              */

struct mmu {
	int rc;          /* PGT_OK, PGT_EFAULT, PGT_ERANGE; PGT_EHOOK: left the arena */
	pgt_paddr_t pa;  /* PGT_OK: the physical address */
	int kind;        /* PGT_EFAULT: enum pgt_fault_kind */
	unsigned level;  /* 2 PDPTE, 1 PDE, 0 PTE: where it stopped or found the page */
	pgt_pte_t entry; /* the entry at that level */
};

/* The 8-byte entry at physical address @p pa; false when that is outside memory. */
static bool phys_load(pgt_paddr_t pa, pgt_pte_t *entry)
{
	const pgt_pte_t *p = phys_to_virt(pa);

	if (!p)
		return false;
	*entry = *p;
	return true;
}

static struct mmu mmu_stop(int kind, unsigned level, pgt_pte_t entry)
{
	return (struct mmu){ .rc = PGT_EFAULT, .kind = kind, .level = level, .entry = entry };
}

/*
 * Reads the entry of @p level on the walk of @p va (a PDPTE from its
 * register, the others from memory at @p table), and says whether it ends
 * the walk: not present, reserved bits, or a page. MOV to CR3 let no
 * reserved PDPTE bit through.
 */
static bool mmu_step(const struct pae *p, pgt_paddr_t table, pgt_vaddr_t va, unsigned level, struct mmu *m)
{
	static const unsigned shift[] = { 12, 21, 30 };
	unsigned index = (unsigned)(va >> shift[level]) & (level == 2 ? 3u : 511u);
	pgt_pte_t e;

	if (level == 2) {
		e = p->pdpte_reg[index];
	} else if (!phys_load(table + (pgt_paddr_t)8 * index, &e)) {
		*m = (struct mmu){ .rc = PGT_EHOOK, .level = level };
		return true;
	}
	m->level = level;
	m->entry = e;
	if (!(e & PAE_P)) {
		*m = mmu_stop(PGT_FAULT_NOT_PRESENT, level, e);
		return true;
	}
	pgt_pte_t mbz = level == 2                   ? PAE_MBZ_PDPTE
			: level == 1 && (e & PAE_PS) ? PAE_MBZ_HIGH | PAE_MBZ_2M
						     : PAE_MBZ_HIGH;
	if (e & mbz) {
		*m = mmu_stop(PGT_FAULT_RESERVED_BIT, level, e);
		return true;
	}
	return level == 0 || (level == 1 && (e & PAE_PS));
}

/* Whether the PDE and PTE on the walk (never the PDPTE) allow @p access (4.6, CR0.WP = 1, no SMEP/SMAP). */
static bool mmu_allows(pgt_pte_t rights_and, pgt_pte_t xd_or, unsigned access)
{
	if ((access & PGT_ACC_USER) && !(rights_and & PAE_US))
		return false;
	if ((access & PGT_ACC_WRITE) && !(rights_and & PAE_RW))
		return false;
	return !((access & PGT_ACC_EXEC) && (xd_or & PAE_XD));
}

static struct mmu mmu_translate(const struct pae *p, pgt_vaddr_t va, unsigned access)
{
	struct mmu m = { .rc = PGT_OK };
	pgt_paddr_t table = 0; /* the PDPT is in the registers */
	pgt_pte_t rights_and = PAE_RW | PAE_US, xd_or = 0;

	if (va >> 32)
		return (struct mmu){ .rc = PGT_ERANGE };
	for (unsigned level = 2;; level--) {
		bool end = mmu_step(p, table, va, level, &m);
		if (m.rc != PGT_OK)
			return m;
		if (level < 2) {
			rights_and &= m.entry;
			xd_or |= m.entry;
		}
		if (end)
			break;
		table = m.entry & PAE_ADDR_4K;
	}
	if (!mmu_allows(rights_and, xd_or, access))
		return mmu_stop(PGT_FAULT_PERMISSION, m.level, m.entry);
	pgt_paddr_t page = m.level == 1 ? m.entry & PAE_ADDR_2M : m.entry & PAE_ADDR_4K;
	m.pa = page | (va & (m.level == 1 ? (1u << 21) - 1 : (1u << 12) - 1));
	return m;
}

/* The entry at @p level on the MMU's walk to @p va, as the MMU reads it (0 if the walk stops above). */
static pgt_pte_t mmu_entry(const struct pae *p, pgt_vaddr_t va, unsigned level)
{
	struct mmu m = { .rc = PGT_OK };
	pgt_paddr_t table = 0;

	for (unsigned l = 2;; l--) {
		bool end = mmu_step(p, table, va, l, &m);
		if (l == level)
			return m.level == level ? m.entry : 0;
		if (end || m.rc != PGT_OK)
			return 0;
		table = m.entry & PAE_ADDR_4K;
	}
}

/* Checks. Each says what it expects and fails loudly.                      */

static void expect_rc(const char *what, int got, int want)
{
	if (got == want)
		return;
	printf("FAIL %s: %s, expected %s\n", what, pgt_errname(got), pgt_errname(want));
	failures++;
}

static void expect_pte(const char *what, pgt_pte_t got, pgt_pte_t want)
{
	printf("  %-44s 0x%016" PRIx64 "\n", what, got);
	if (got != want) {
		printf("FAIL %s: expected 0x%016" PRIx64 "\n", what, want);
		failures++;
	}
}

/* The MMU's entry at @p level for @p va against its PAE encoding. */
static void expect_entry(const struct pae *p, const char *what, pgt_vaddr_t va, unsigned level,
			 pgt_pte_t want)
{
	char name[80];

	(void)snprintf(name, sizeof name, "%s (%s of %#" PRIx64 ")", what,
		       level == 0   ? "PTE"
		       : level == 1 ? "PDE"
				    : "PDPTE",
		       va);
	expect_pte(name, mmu_entry(p, va, level), want);
}

/* Whether the library and the MMU agree on one access. */
static bool same_answer(struct pae *p, pgt_vaddr_t va, unsigned access, struct mmu *hw, int *rc,
			pgt_paddr_t *pa, struct pgt_fault *f)
{
	*pa = 0;
	*f = (struct pgt_fault){ 0 };
	*rc = pgt_translate(&p->sp, va, access, pa, f);
	*hw = mmu_translate(p, va, access);
	if (*rc != hw->rc)
		return false;
	if (*rc == PGT_OK)
		return *pa == hw->pa;
	return *rc != PGT_EFAULT || (f->kind == hw->kind && f->level == hw->level);
}

/* One access with its expected outcome, through pgt_translate and through the MMU. */
static void expect_access(struct pae *p, const char *what, pgt_vaddr_t va, unsigned access, int want_rc,
			  pgt_paddr_t want_pa, int want_kind)
{
	struct mmu hw;
	struct pgt_fault f;
	pgt_paddr_t pa;
	int rc;
	bool agree = same_answer(p, va, access, &hw, &rc, &pa, &f);

	printf("  %-44s %s", what, pgt_errname(rc));
	if (rc == PGT_OK)
		printf(", pa %#" PRIx64, pa);
	if (rc == PGT_EFAULT)
		printf(", kind %d at level %u", f.kind, f.level);
	puts(agree ? "" : "  (the MMU disagrees)");
	expect_rc(what, rc, want_rc);
	if ((rc == PGT_OK && pa != want_pa) || (rc == PGT_EFAULT && f.kind != want_kind) || !agree) {
		printf("FAIL %s: expected pa %#" PRIx64 " or kind %d; the MMU says %s, pa %#" PRIx64
		       ", kind %d\n",
		       what, want_pa, want_kind, pgt_errname(hw.rc), hw.pa, hw.kind);
		failures++;
	}
}

/* Every access kind, privileged and user, at @p va: the library and the MMU must agree. */
static unsigned compare_at(struct pae *p, pgt_vaddr_t va)
{
	static const unsigned kinds[] = { PGT_ACC_READ, PGT_ACC_WRITE, PGT_ACC_EXEC };
	unsigned wrong = 0;

	for (unsigned k = 0; k < 6; k++) {
		unsigned access = kinds[k % 3] | (k >= 3 ? PGT_ACC_USER : 0);
		struct mmu hw;
		struct pgt_fault f;
		pgt_paddr_t pa;
		int rc;
		if (same_answer(p, va, access, &hw, &rc, &pa, &f))
			continue;
		if (wrong++ == 0)
			printf("FAIL at %#" PRIx64 " access %#x: library %s pa %#" PRIx64 " kind %d level %u;"
			       " MMU %s pa %#" PRIx64 " kind %d level %u\n",
			       va, access, pgt_errname(rc), pa, f.kind, f.level, pgt_errname(hw.rc), hw.pa,
			       hw.kind, hw.level);
	}
	return wrong;
}

/*
 * The library and the MMU over many addresses: every 4 KiB page of the
 * first 8 MiB of each quarter and of the 4 MiB around 1 GiB (where this
 * program maps), every 2 MiB of the 4 GiB, and pseudo-random addresses,
 * each at some offset in its page.
 */
static void compare_with_mmu(struct pae *p, const char *stage)
{
	unsigned long checked = 0, wrong = 0;
	uint32_t x = 2463534242u; /* xorshift32 */

	for (uint64_t q = 0; q < 5; q++) {
		uint64_t lo = q < 4 ? q * GIB : GIB - (2u << 20), end = lo + (q < 4 ? 8u << 20 : 4u << 20);
		for (uint64_t va = lo; va < end; va += 4096, checked++)
			wrong += compare_at(p, va + ((va >> 12) * 0x1d8 & 0xff8));
	}
	for (uint64_t va = 0; va < 4 * GIB; va += 1u << 21, checked++)
		wrong += compare_at(p, va + 0x1ff000 + (checked & 0xfff));
	for (unsigned i = 0; i < 4096; i++, checked++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		wrong += compare_at(p, x);
	}
	printf("  %-44s %lu addresses x 6 accesses, %lu disagreements\n", stage, checked, wrong);
	failures += wrong != 0;
}

/* ------------------------------------------------------------------------ */
/* An audit of every entry reachable from CR3 against the PAE formats.      */

struct census {
	unsigned tables;   /* PDEs referencing a page table */
	unsigned pages_2m; /* PDEs mapping a 2 MiB page */
	unsigned pages_4k; /* PTEs mapping a 4 KiB page */
	unsigned reserved; /* reserved leaves: P = 0 and the mark */
	unsigned bad;      /* anything a PAE MMU or the library would not have */
};

/* The bits a present leaf may have: its address, the flags, no ignored bit, PAT 0, no reserved bit. */
#define LEAF_FLAGS (PAE_P | PAE_RW | PAE_US | PAE_PWT | PAE_PCD | PAE_A | PAE_D | PAE_G | PAE_XD)

/* A not-present entry the library wrote: 0, or a reserved leaf (mark, attributes, maybe an address). */
static bool absent_ok(pgt_pte_t e, pgt_pte_t addr, pgt_pte_t ps, struct census *c)
{
	if (e == 0)
		return true;
	c->reserved++;
	return (e & PAE_SW_RESERVED) && !(e & ~(addr | ps | PAE_PROT_BITS | PAE_A | PAE_D));
}

static void audit_pt(pgt_pte_t *pt, struct census *c)
{
	for (unsigned i = 0; i < 512; i++) {
		pgt_pte_t e = pt[i];
		if (!(e & PAE_P)) {
			c->bad += !absent_ok(e, PAE_ADDR_4K, 0, c);
			continue;
		}
		c->pages_4k++;
		c->bad += (e & ~(PAE_ADDR_4K | LEAF_FLAGS)) != 0;
	}
}

static void audit_pd(const struct frames *f, pgt_pte_t *pd, struct census *c)
{
	for (unsigned i = 0; i < 512; i++) {
		pgt_pte_t e = pd[i];
		if (!(e & PAE_P)) {
			c->bad += !absent_ok(e, PAE_ADDR_2M, PAE_PS, c);
		} else if (e & PAE_PS) {
			c->pages_2m++;
			c->bad += (e & ~(PAE_ADDR_2M | LEAF_FLAGS | PAE_PS)) != 0;
		} else {
			/* P|R/W|U/S, maybe A (set by walks), and a page table of the arena: table 4-10. */
			c->tables++;
			pgt_paddr_t pt = e & PAE_ADDR_4K;
			bool ok = (e & ~PAE_ADDR_4K & ~PAE_A) == (PAE_P | PAE_RW | PAE_US) &&
				  frame_index(f, pt, 0) >= 0;
			c->bad += !ok;
			if (ok)
				audit_pt(phys_to_virt(pt), c);
		}
	}
}

/* Walks all of it from the PDPT down and compares what it found with what the program made. */
static void audit(const struct pae *p, const struct frames *f, const char *stage, struct census want)
{
	struct census c = { 0 };

	for (unsigned i = 0; i < 4; i++) {
		pgt_pte_t e = pdpt(p)[i];
		if (e == 0)
			continue; /* a quarter without a page directory */
		/* P and a page directory of the arena, every other bit 0 (table 4-8). */
		if (e != (PAE_P | (e & PAE_ADDR_4K)) || frame_index(f, e & PAE_ADDR_4K, 1) < 0) {
			c.bad++;
			continue;
		}
		audit_pd(f, phys_to_virt(e & PAE_ADDR_4K), &c);
	}
	printf("  %-44s %u tables, %u 2M pages, %u 4K pages, %u reserved, %u bad\n", stage, c.tables,
	       c.pages_2m, c.pages_4k, c.reserved, c.bad);
	if (memcmp(&c, &want, sizeof c) != 0) {
		printf("FAIL %s: expected %u tables, %u 2M pages, %u 4K pages, %u reserved, 0 bad\n", stage,
		       want.tables, want.pages_2m, want.pages_4k, want.reserved);
		failures++;
	}
}

static void print_problem(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	(void)arg;
	printf("  verify: %s at %#" PRIx64 ", level %u\n", problem, va, level);
}

/* ------------------------------------------------------------------------ */
/* The demonstration.                                                        */

/* CR3 points at the PDPT, a 32-byte slot the arena gave (the highest), empty so far. */
static void check_cr3(const struct pae *p)
{
	puts("CR3 and the PDPT (table 4-7, 4-8):");
	expect_pte("CR3: the PDPT, 32-byte aligned, below 4 GiB", p->cr3, 0x000000000012ffe0);
	for (unsigned i = 0; i < 4; i++)
		expect_pte("PDPTE, empty", pdpt(p)[i], 0);
}

/* Sets PADDR and then PROT on a fresh reserved leaf. */
static void set_page(struct pae *p, pgt_ref_t ref, pgt_paddr_t pa, unsigned prot)
{
	expect_rc("set paddr", pgt_set_field(&p->sp, ref, PGT_FIELD_PADDR, pa), PGT_OK);
	expect_rc("set prot", pgt_set_field(&p->sp, ref, PGT_FIELD_PROT, prot), PGT_OK);
}

/* User pages at 64 KiB, the kernel's from 3 GiB (a 3G/1G split), built field by field. */
static void insert_and_set(struct pae *p)
{
	const unsigned r = PGT_PROT_READ, w = PGT_PROT_WRITE, x = PGT_PROT_EXEC;
	pgt_ref_t ref;

	puts("insert, then set fields (entries as the MMU reads them):");
	expect_rc("insert 4K at 0x00010000", pae_insert(p, 0x00010000, 12, &ref), PGT_OK);
	/* Reserved: P = 0, the mark in ignored bit 9, XD kept for when it becomes valid. */
	expect_entry(p, "reserved leaf", 0x00010000, 0, 0x8000000000000200);
	/* The branch, lowest level first: the page table is frame 0, the page directory frame 1. */
	expect_entry(p, "page table link", 0x00010000, 1, 0x0000000000100007);
	expect_entry(p, "page directory link", 0x00010000, 2, 0x0000000000101001);
	set_page(p, ref, 0x00201000, r | x | PGT_PROT_USER);
	expect_entry(p, "user text r-x", 0x00010000, 0, 0x0000000000201005);

	expect_rc("insert 4K at 0x00011000", pae_insert(p, 0x00011000, 12, &ref), PGT_OK);
	set_page(p, ref, 0x00202000, r | w | PGT_PROT_USER);
	expect_entry(p, "user data rw- (XD)", 0x00011000, 0, 0x8000000000202007);

	expect_rc("insert 2M at 0xc0000000", pae_insert(p, 0xc0000000, 21, &ref), PGT_OK);
	expect_entry(p, "page directory link", 0xc0000000, 2, 0x0000000000102001);
	set_page(p, ref, 0x01000000, r | x | PGT_PROT_GLOBAL);
	expect_entry(p, "kernel text r-x G", 0xc0000000, 1, 0x0000000001000181);

	expect_rc("insert 2M at 0xc0200000", pae_insert(p, 0xc0200000, 21, &ref), PGT_OK);
	set_page(p, ref, 0x00400000, r | w | PGT_PROT_GLOBAL);
	expect_rc("accessed", pgt_set_field(&p->sp, ref, PGT_FIELD_ACCESSED, 1), PGT_OK);
	expect_rc("dirty", pgt_set_field(&p->sp, ref, PGT_FIELD_DIRTY, 1), PGT_OK);
	expect_entry(p, "kernel data rw- G A D", 0xc0200000, 1, 0x80000000004001e3);

	expect_rc("insert 4K at 0xc0400000", pae_insert(p, 0xc0400000, 12, &ref), PGT_OK);
	set_page(p, ref, 0x00600000, r | PGT_PROT_GLOBAL);
	expect_entry(p, "kernel rodata r-- G", 0xc0400000, 0, 0x8000000000600101);

	/* A device page: PCD|PWT is PAT entry 3, UC at power-up. */
	expect_rc("insert 4K at 0xc0401000", pae_insert(p, 0xc0401000, 12, &ref), PGT_OK);
	set_page(p, ref, 0xfee00000, r | w | PGT_PROT_UNCACHED);
	expect_entry(p, "device page rw- UC", 0xc0401000, 0, 0x80000000fee0001b);
	/* One at pae_init, and one for each of the two PDPTEs the library wrote. */
	expect_pte("MOV to CR3 so far", p->cr3_loads, 3);
}

/* What the ADT promises, and what PAE cannot say. */
static void lookup_and_refuse(struct pae *p)
{
	pgt_space_t *sp = &p->sp;
	pgt_ref_t ref;
	uint64_t val = 0;

	puts("lookup, the ADT's conflict rules, and what PAE cannot express:");
	expect_rc("lookup 0xc03fffff", pgt_lookup(sp, 0xc03fffff, &ref), PGT_OK);
	if (ref.page_shift != 21 || ref.level != 1) {
		printf("FAIL lookup: level %u, shift %u\n", ref.level, ref.page_shift);
		failures++;
	}
	expect_rc("get paddr", pgt_get_field(sp, ref, PGT_FIELD_PADDR, &val), PGT_OK);
	expect_pte("paddr of the 2M page", val, 0x00400000);
	expect_rc("get prot", pgt_get_field(sp, ref, PGT_FIELD_PROT, &val), PGT_OK);
	expect_pte("prot (PGT_PROT_*)", val, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_GLOBAL);
	expect_rc("4K inside the 2M page", pae_insert(p, 0xc0201000, 12, NULL), PGT_EXISTS);
	expect_rc("a 1G page: none in PAE", pae_insert(p, 0x40000000, 30, NULL), PGT_ESIZE);
	expect_rc("nothing at 0x00020000", pgt_lookup(sp, 0x00020000, NULL), PGT_ENOENT);
	expect_rc("nothing at 0x40000000 (empty PDPTE)", pgt_lookup(sp, 0x40000000, NULL), PGT_ENOENT);
	expect_rc("4 GiB: past the 32-bit space", pgt_lookup(sp, 0x100000000ull, NULL), PGT_ERANGE);

	expect_rc("insert 4K at 0x00030000", pae_insert(p, 0x00030000, 12, &ref), PGT_OK);
	expect_rc("write-only", pgt_set_field(sp, ref, PGT_FIELD_PROT, PGT_PROT_WRITE), PGT_ENOTSUP);
	expect_rc("execute-only", pgt_set_field(sp, ref, PGT_FIELD_PROT, PGT_PROT_EXEC), PGT_ENOTSUP);
	expect_rc("write-combining (no WC in PAT 0-3)",
		  pgt_set_field(sp, ref, PGT_FIELD_PROT, PGT_PROT_READ | PGT_PROT_WRITECOMBINE), PGT_ENOTSUP);
	expect_rc("paddr at 2^MAXPHYADDR",
		  pgt_set_field(sp, ref, PGT_FIELD_PADDR, (pgt_paddr_t)1 << PAE_MAXPHYADDR), PGT_ERANGE);
	expect_entry(p, "left reserved", 0x00030000, 0, 0x8000000000000200);
}

/* Accesses as the MMU makes them (CR0.WP = 1, EFER.NXE = 1, no SMEP or SMAP). */
static void translate_accesses(struct pae *p)
{
	const unsigned user = PGT_ACC_USER, rd = PGT_ACC_READ, wr = PGT_ACC_WRITE, ex = PGT_ACC_EXEC;

	puts("translate (pgt_translate and this program's MMU):");
	expect_access(p, "user fetch, user text", 0x00010123, ex | user | PGT_ACC_SET_AD, PGT_OK, 0x00201123,
		      0);
	expect_access(p, "user write, user text (R/W = 0)", 0x00010123, wr | user, PGT_EFAULT, 0,
		      PGT_FAULT_PERMISSION);
	expect_access(p, "user write, user data", 0x00011ff8, wr | user | PGT_ACC_SET_AD, PGT_OK, 0x00202ff8,
		      0);
	expect_access(p, "user fetch, user data (XD)", 0x00011000, ex | user, PGT_EFAULT, 0,
		      PGT_FAULT_PERMISSION);
	expect_access(p, "kernel read, user data (no SMAP)", 0x00011000, rd, PGT_OK, 0x00202000, 0);
	expect_access(p, "user read, kernel data (U/S = 0)", 0xc0234567, rd | user, PGT_EFAULT, 0,
		      PGT_FAULT_PERMISSION);
	expect_access(p, "kernel write, kernel data", 0xc0234567, wr, PGT_OK, 0x00434567, 0);
	expect_access(p, "kernel fetch, kernel data (XD)", 0xc0234567, ex, PGT_EFAULT, 0,
		      PGT_FAULT_PERMISSION);
	expect_access(p, "kernel fetch, kernel text", 0xc01ffffc, ex, PGT_OK, 0x011ffffc, 0);
	expect_access(p, "kernel write, rodata (CR0.WP = 1)", 0xc0400010, wr, PGT_EFAULT, 0,
		      PGT_FAULT_PERMISSION);
	expect_access(p, "kernel read, device page", 0xc0401300, rd, PGT_OK, 0xfee00300, 0);
	expect_access(p, "user read, reserved leaf", 0x00030000, rd | user, PGT_EFAULT, 0,
		      PGT_FAULT_NOT_PRESENT);
	expect_access(p, "kernel read, empty PTE", 0x00020000, rd, PGT_EFAULT, 0, PGT_FAULT_NOT_PRESENT);
	expect_access(p, "kernel read, empty PDE", 0xc0800000, rd, PGT_EFAULT, 0, PGT_FAULT_NOT_PRESENT);
	expect_access(p, "kernel read, empty PDPTE", 0x80000000, rd, PGT_EFAULT, 0, PGT_FAULT_NOT_PRESENT);
	expect_access(p, "kernel read at 4 GiB", 0x100000000ull, rd, PGT_ERANGE, 0, 0);

	/* PGT_ACC_SET_AD did what the MMU does (4.8): A in the PDE and PTE, D in the PTE written. */
	expect_entry(p, "page table link, A set", 0x00010000, 1, 0x0000000000100027);
	expect_entry(p, "user text, A set", 0x00010000, 0, 0x0000000000201025);
	expect_entry(p, "user data, A and D set", 0x00011000, 0, 0x8000000000202067);
	expect_entry(p, "PDPTE: no A bit to set", 0x00010000, 2, 0x0000000000101001);
}

/*
 * Reserved bits planted in a PTE, a 2 MiB PDE and a PDE referencing a page
 * table: #PF with RSVD = 1 for each (4.7), and pgt_verify reports each.
 * Then one in a PDPTE: the CPU takes #GP(0) at MOV to CR3 and never walks,
 * while the library, with one malformed_fault per format, says a reserved-
 * bit fault at level 2. The entries are restored after each.
 */
static void reserved_bits(struct pae *p)
{
	pgt_space_t *sp = &p->sp;
	pgt_ref_t data, big;
	pgt_pte_t *pdpte = phys_to_virt(p->cr3);
	pgt_pte_t *link = (pgt_pte_t *)phys_to_virt(pdpte[3] & PAE_ADDR_4K) + 2; /* PDE of 0xc0400000 */

	puts("reserved bits (4.7: #PF with RSVD = 1; a PDPTE's: #GP at MOV to CR3):");
	expect_rc("verify", pgt_verify(sp, print_problem, NULL), 0);
	expect_rc("lookup user data", pgt_lookup(sp, 0x00011000, &data), PGT_OK);
	expect_rc("lookup kernel data", pgt_lookup(sp, 0xc0200000, &big), PGT_OK);
	if (failures)
		return;
	pgt_pte_t saved_data = *data.pte, saved_big = *big.pte, saved_link = *link, saved_pdpte = pdpte[3];
	*data.pte |= BIT(62); /* in 62:M, reserved whatever MAXPHYADDR is */
	*big.pte |= BIT(13);  /* 20:13 of a 2 MiB PDE: a misaligned page */
	*link |= BIT(62);     /* 62:M of a PDE referencing a page table (table 4-10) */
	expect_access(p, "user read, PTE bit 62 set", 0x00011000, PGT_ACC_READ | PGT_ACC_USER, PGT_EFAULT, 0,
		      PGT_FAULT_RESERVED_BIT);
	expect_access(p, "kernel read, PDE bit 13 set", 0xc0200000, PGT_ACC_READ, PGT_EFAULT, 0,
		      PGT_FAULT_RESERVED_BIT);
	expect_access(p, "kernel read, page-table PDE bit 62", 0xc0400010, PGT_ACC_READ, PGT_EFAULT, 0,
		      PGT_FAULT_RESERVED_BIT);
	expect_rc("verify finds 3", pgt_verify(sp, print_problem, NULL), 3);
	*data.pte = saved_data;
	*big.pte = saved_big;
	*link = saved_link;

	pdpte[3] |= PAE_RW; /* bit 1: reserved in a PDPTE (table 4-8) */
	struct pgt_fault f = { 0 };
	pgt_paddr_t pa;
	expect_rc("kernel read, PDPTE bit 1 set", pgt_translate(sp, 0xc0000000, PGT_ACC_READ, &pa, &f),
		  PGT_EFAULT);
	printf("  %-44s kind %d at level %u\n", "the library's fault", f.kind, f.level);
	if (f.kind != PGT_FAULT_RESERVED_BIT || f.level != 2) {
		puts("FAIL expected the reserved-bit fault at level 2");
		failures++;
	}
	expect_rc("verify finds 1", pgt_verify(sp, print_problem, NULL), 1);
	bool loaded = mov_cr3(p);
	printf("  %-44s %s\n", "MOV to CR3, PDPTE bit 1 set", loaded ? "loaded" : "#GP(0)");
	if (loaded) {
		puts("FAIL a reserved PDPTE bit must stop MOV to CR3");
		failures++;
	}
	pdpte[3] = saved_pdpte;
	if (!mov_cr3(p)) {
		puts("FAIL MOV to CR3 after repair");
		failures++;
	}
	expect_rc("verify after repair", pgt_verify(sp, print_problem, NULL), 0);
}

/*
 * Ranges across the 1 GiB line, one all-or-nothing operation each: pgt_map
 * picks 2 MiB pages where the alignment allows and writes PDPTE 1,
 * pgt_protect splits one to change a single 4 KiB page, pgt_unmap frees
 * the tables it emptied, page directory and PDPTE 1 included.
 */
static void map_ranges(struct pae *p, const struct frames *f)
{
	const unsigned rw = PGT_PROT_READ | PGT_PROT_WRITE;
	long before = f->live;
	unsigned loads = p->cr3_loads;

	puts("ranges (pgt_map, pgt_protect, pgt_unmap):");
	expect_rc("map 0x3fe00000 + 6 MiB + 4 KiB rw-", pae_map(p, 0x3fe00000, 0x07e00000, 0x601000, rw),
		  PGT_OK);
	expect_entry(p, "2M page below 1 GiB", 0x3fe00000, 1, 0x8000000007e00083);
	expect_entry(p, "the new page directory", 0x40000000, 2, 0x0000000000105001);
	expect_entry(p, "2M page", 0x40000000, 1, 0x8000000008000083);
	expect_entry(p, "2M page", 0x40200000, 1, 0x8000000008200083);
	expect_entry(p, "4K page", 0x40400000, 0, 0x8000000008400003);
	expect_pte("MOV to CR3 for the new PDPTE", p->cr3_loads - loads, 1);
	expect_rc("pa at 2^MAXPHYADDR", pae_map(p, 0x40800000, (pgt_paddr_t)1 << PAE_MAXPHYADDR, 0x1000, rw),
		  PGT_ERANGE);
	expect_rc("past 4 GiB", pae_map(p, 0xfffff000, 0x09000000, 0x2000, rw), PGT_ERANGE);
	expect_rc("overlap", pae_map(p, 0x401ff000, 0x09000000, 0x2000, rw), PGT_ECONFLICT);
	compare_with_mmu(p, "after pgt_map");

	expect_rc("protect 0x40201000 r--", pae_protect(p, 0x40201000, 0x1000, PGT_PROT_READ), PGT_OK);
	expect_entry(p, "the split's page table", 0x40201000, 1, 0x0000000000106007);
	expect_entry(p, "4K page r--", 0x40201000, 0, 0x8000000008201001);
	expect_entry(p, "the rest of the split", 0x40200000, 0, 0x8000000008200003);
	expect_entry(p, "the rest of the split", 0x403ff000, 0, 0x80000000083ff003);
	expect_access(p, "kernel write, 0x40201008", 0x40201008, PGT_ACC_WRITE, PGT_EFAULT, 0,
		      PGT_FAULT_PERMISSION);
	expect_access(p, "kernel write, 0x40202008", 0x40202008, PGT_ACC_WRITE, PGT_OK, 0x08202008, 0);
	compare_with_mmu(p, "after pgt_protect");

	expect_rc("unmap it all", pae_unmap(p, 0x3fe00000, 0x601000), PGT_OK);
	expect_rc("gone", pgt_lookup(&p->sp, 0x40200000, NULL), PGT_ENOENT);
	expect_entry(p, "empty PDE", 0x3fe00000, 1, 0);
	expect_entry(p, "empty PDPTE again", 0x40000000, 2, 0);
	expect_pte("MOV to CR3 for the cleared PDPTE", p->cr3_loads - loads, 2);
	if (f->live != before) {
		printf("FAIL unmap left %ld tables behind\n", f->live - before);
		failures++;
	}
	compare_with_mmu(p, "after pgt_unmap");
}

/* An allocator whose PDPT is 16 bytes off the 32-byte alignment it owes (a hook bug). */
static pgt_paddr_t askew_alloc(void *ctx, size_t size, unsigned level)
{
	pgt_paddr_t pa = frame_alloc(ctx, size, level);

	return pa != PGT_PADDR_NONE && level == PDPT_LEVEL ? pa + 16 : pa;
}

static void askew_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	frame_free(ctx, level == PDPT_LEVEL ? pa - 16 : pa, size, level);
}

/* The library's one rule for the root frame, answered by the library: aligned to its own size. */
static void check_root_rule(const struct pgt_mm *mm, const struct frames *f)
{
	struct pgt_mm askew = *mm;
	long before = f->live;
	pgt_space_t sp;

	puts("the root frame (see the comment at the top):");
	askew.alloc_table = askew_alloc;
	askew.free_table = askew_free;
	int rc = pgt_space_init(&sp, &pae_full, &askew, 0);
	printf("  %-44s %s\n", "a PDPT 16 bytes off its alignment", pgt_errname(rc));
	expect_rc("a PDPT 16 bytes off its alignment", rc, PGT_EHOOK);
	if (rc == PGT_OK)
		pgt_space_destroy(&sp);
	if (f->live != before) {
		puts("FAIL the refused PDPT was not given back");
		failures++;
	}
}

int main(void)
{
	struct frames frames = { 0 };
	struct pgt_mm mm = {
		.alloc_table = frame_alloc,
		.free_table = frame_free,
		.owns_table = frame_owned,
		.p2v_offset = (uintptr_t)&arena[0][0] - (uintptr_t)PHYS_BASE,
		.ctx = &frames,
	};
	struct pae pae;

	memset(frames.level, FREE_LEVEL, sizeof frames.level);
	memset(frames.slot, FREE_LEVEL, sizeof frames.slot);
	frames.level[SLOT_FRAME] = PDPT_LEVEL; /* the slots' frame: never a whole table */
	check_root_rule(&mm, &frames);
	int rc = pae_init(&pae, &mm);
	expect_rc("PAE space", rc, PGT_OK);
	if (rc != PGT_OK)
		return 1;
	check_cr3(&pae);
	insert_and_set(&pae);
	lookup_and_refuse(&pae);
	translate_accesses(&pae);
	reserved_bits(&pae);
	puts("every entry from CR3 down, and the MMU against pgt_translate:");
	audit(&pae, &frames, "entries",
	      (struct census){ .tables = 2, .pages_2m = 2, .pages_4k = 4, .reserved = 1 });
	compare_with_mmu(&pae, "before the ranges");
	map_ranges(&pae, &frames);
	audit(&pae, &frames, "entries after the ranges",
	      (struct census){ .tables = 2, .pages_2m = 2, .pages_4k = 4, .reserved = 1 });
	printf("%ld frames in use (the PDPT's slot, 2 page directories, 2 page tables)\n", frames.live);
	if (frames.live != 5) {
		puts("FAIL expected 5 frames in use");
		failures++;
	}
	pgt_space_destroy(&pae.sp);
	if (frames.live != 0) {
		printf("FAIL %ld frames not given back\n", frames.live);
		failures++;
	}
	puts(failures ? "custom-arch: FAILED" : "custom-arch: all checks passed");
	return failures ? 1 : 0;
}
