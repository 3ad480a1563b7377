/* SPDX-License-Identifier: MIT */
/*
 * custom-arch: a RISC-V Sv39 descriptor written against <pgtable/arch.h>
 * alone, the proof that page-table formats plug into libpgtable without
 * touching the library.
 *
 * It inserts and sets fields (the L4 ADT), looks up, translates accesses
 * as an Sv39 MMU would, verifies the tree, maps, protects and unmaps
 * ranges, and checks every entry against the Sv39 encoding.
 *
 * Build it on its own with:
 *     cc -std=c11 -o sv39 sv39.c $(pkg-config --cflags --libs pgtable)
 *
 * Source of every bit below: "The RISC-V Instruction Set Manual, Volume II:
 * Privileged Architecture", version 20211203 (privileged spec 1.12),
 * section 4.4 "Sv39: Page-Based 39-bit Virtual-Memory System" (its figures
 * of the virtual address, physical address and PTE), section 4.3.1 for the
 * PTE fields it shares with Sv32 (the table "Encoding of PTE R/W/X fields",
 * numbered differently from one issue to the next) and section 4.3.2, the
 * translation process. Memory types come from the Svpbmt extension (PBMT,
 * bits 62:61).
 *
 * What the descriptor expresses exactly: three levels of 512 eight-byte
 * entries indexing VA bits 38:30, 29:21 and 20:12; 4 KiB pages, 2 MiB
 * megapages and 1 GiB gigapages; addresses whose bits 63:39 copy bit 38;
 * V, R, W, X, U, G, A, D and PBMT; RSW (bits 9:8, free for software) for
 * the library's own marks; table entries with R=W=X=0.
 *
 * Where it has to bend, because arch.h describes entries by masks:
 *  1. The address. arch.h reads an entry's address as `pte & mask`, in
 *     place, while Sv39 stores PPN = PA[55:12] in PTE bits 53:10, two bits
 *     lower. This descriptor keeps PA[55:12] in bits 55:12 instead, and
 *     sv39_hardware_pte() shifts it down to the real encoding; a kernel
 *     would run that conversion when it copies a finished tree to the
 *     tables satp points at. Every other bit is already in its Sv39 place.
 *  2. Leaf types. arch.h names one `(pte & type_mask)` value for leaves.
 *     Sv39 leaves have R or X set; the descriptor uses "V and R" and so
 *     refuses execute-only pages (X without R) with PGT_ENOTSUP, as
 *     x86-64 and ARMv8 must.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

/* Sv39 PTE bits, section 4.3.1 (section 4.4.1 for the Sv39 layout). */
#define SV39_V         ((pgt_pte_t)1 << 0) /* valid */
#define SV39_R         ((pgt_pte_t)1 << 1) /* readable */
#define SV39_W         ((pgt_pte_t)1 << 2) /* writable */
#define SV39_X         ((pgt_pte_t)1 << 3) /* executable */
#define SV39_U         ((pgt_pte_t)1 << 4) /* accessible to U-mode */
#define SV39_G         ((pgt_pte_t)1 << 5) /* global mapping */
#define SV39_A         ((pgt_pte_t)1 << 6) /* accessed */
#define SV39_D         ((pgt_pte_t)1 << 7) /* dirty */
#define SV39_RSW0      ((pgt_pte_t)1 << 8) /* reserved for supervisor software */
#define SV39_RSW1      ((pgt_pte_t)1 << 9) /* reserved for supervisor software */
/* Svpbmt: PBMT = 2 is IO (non-cacheable, strongly ordered), 0 is PMA. */
#define SV39_PBMT_IO   ((pgt_pte_t)2 << 61)
#define SV39_PBMT_MASK ((pgt_pte_t)3 << 61)
/* The real PPN field: PTE bits 53:10 hold PA bits 55:12. */
#define SV39_PPN_FIELD ((pgt_pte_t)0x003ffffffffffc00)

/* This descriptor's address field: PA bits 55:12 kept in place (note 1). */
#define SV39_PA_FIELD       ((pgt_pte_t)0x00fffffffffff000)
/* A leaf's address field at a level whose pages are 2^shift bytes. */
#define SV39_LEAF_PA(shift) (SV39_PA_FIELD & ~(((pgt_pte_t)1 << (shift)) - 1))

/* Bits 63:54 are reserved (section 4.4.1) except PBMT; 55:54 hold PA here. */
#define SV39_HIGH_MBZ (((pgt_pte_t)1 << 63) | ((pgt_pte_t)0x1f << 56))

/* Library marks, all in RSW so the hardware ignores them. */
#define SV39_SW_RESERVED SV39_RSW0 /* reserved leaf (V=0) */
#define SV39_SW_BORROWED SV39_RSW0 /* table entry: the table is another space's */
#define SV39_SW_PINNED   SV39_RSW1 /* table entry: the table is shared */

/* Bits the rights codec owns. A and D are status bits and survive it. */
#define SV39_PROT_BITS \
	(SV39_V | SV39_R | SV39_W | SV39_X | SV39_U | SV39_G | SV39_PBMT_MASK | SV39_SW_RESERVED)

/* Attributes a reserved leaf keeps as well (ignored while V is 0). */
static pgt_pte_t sv39_attrs(unsigned prot)
{
	pgt_pte_t bits = 0;

	if (prot & PGT_PROT_USER)
		bits |= SV39_U;
	if (prot & PGT_PROT_GLOBAL)
		bits |= SV39_G;
	if (prot & PGT_PROT_UNCACHED)
		bits |= SV39_PBMT_IO;
	return bits;
}

/*
 * R/W/X encodings: XWR = 010 and 110 are reserved, 100 is execute-only; the
 * descriptor's single leaf type (V and R) leaves execute-only out too.
 */
static int sv39_prot_encode(unsigned level, unsigned prot, pgt_pte_t *bits)
{
	unsigned rights = prot & (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC);

	(void)level; /* the same leaf format at every level */
	if (rights && !(rights & PGT_PROT_READ))
		return PGT_ENOTSUP;
	if (!rights) {
		*bits = SV39_SW_RESERVED | sv39_attrs(prot);
		return PGT_OK;
	}
	*bits = SV39_V | SV39_R | sv39_attrs(prot) | ((prot & PGT_PROT_WRITE) ? SV39_W : 0) |
		((prot & PGT_PROT_EXEC) ? SV39_X : 0);
	return PGT_OK;
}

static unsigned sv39_prot_decode(unsigned level, pgt_pte_t pte)
{
	unsigned prot = 0;

	(void)level;
	if (pte & SV39_V) {
		prot |= (pte & SV39_R) ? PGT_PROT_READ : 0;
		prot |= (pte & SV39_W) ? PGT_PROT_WRITE : 0;
		prot |= (pte & SV39_X) ? PGT_PROT_EXEC : 0;
	}
	prot |= (pte & SV39_U) ? PGT_PROT_USER : 0;
	prot |= (pte & SV39_G) ? PGT_PROT_GLOBAL : 0;
	prot |= ((pte & SV39_PBMT_MASK) == SV39_PBMT_IO) ? PGT_PROT_UNCACHED : 0;
	return prot;
}

/*
 * What a valid leaf grants, for pgt_translate (section 4.3.1): W and X as
 * the bits say (R is always set, note 2); a page without U is out of reach
 * of U-mode, and one with U is out of reach of S-mode, assuming
 * sstatus.SUM = 0 (S-mode never executes U pages, whatever SUM says).
 */
#define SV39_LEAF_RULES                                                                                 \
	{                                                                                               \
		{ SV39_W, 0, PGT_RIGHT_PW | PGT_RIGHT_UW }, { SV39_X, 0, PGT_RIGHT_PX | PGT_RIGHT_UX }, \
			{ SV39_U, 0, PGT_RIGHT_UR | PGT_RIGHT_UW | PGT_RIGHT_UX },                      \
			{ SV39_U, SV39_U, PGT_RIGHT_PR | PGT_RIGHT_PW | PGT_RIGHT_PX },                 \
	}

/*
 * A valid table entry has R=W=X=0 ("pointer to next level of page table"), and
 * D, A, U and PBMT are reserved in it (section 4.3.1 and Svpbmt). Putting W
 * and X among its must-be-zero bits turns the encodings this descriptor
 * cannot hold (V and W or X without R) into malformed entries instead of
 * tables.
 */
#define SV39_TABLE_MBZ (SV39_HIGH_MBZ | SV39_PBMT_MASK | SV39_D | SV39_A | SV39_U | SV39_W | SV39_X)

/* A superpage whose PPN is not aligned to its size is reserved: a page fault. */
#define SV39_LEAF_MBZ(shift) (SV39_HIGH_MBZ | (SV39_PA_FIELD & (((pgt_pte_t)1 << (shift)) - 1)))

/*
 * One level (section 4.4.1: every table is one 4 KiB page of 512 PTEs, and
 * a leaf may sit at any level). A table entry is V alone plus the address:
 * it grants nothing by itself (Sv39 has no hierarchical rights), so the leaf
 * decides.
 */
#define SV39_LEVEL(sh)                                                                            \
	{                                                                                         \
		.shift = (sh), .bits = 9, .leaf_ok = 1, .table_size = 4096, .valid = SV39_V,      \
		.type_mask = SV39_V | SV39_R, .table_type = SV39_V, .leaf_type = SV39_V | SV39_R, \
		.reserved = SV39_SW_RESERVED, .table_oa = SV39_PA_FIELD, .table_attrs = 0,        \
		.leaf_oa = SV39_LEAF_PA(sh), .prot_mask = SV39_PROT_BITS, .accessed = SV39_A,     \
		.dirty = SV39_D, .table_borrowed = (sh) == 12 ? 0 : SV39_SW_BORROWED,             \
		.table_pinned = (sh) == 12 ? 0 : SV39_SW_PINNED, .leaf_rules = SV39_LEAF_RULES,   \
		.table_mbz = SV39_TABLE_MBZ, .leaf_mbz = SV39_LEAF_MBZ(sh),                       \
	}

static const struct pgt_arch sv39 = {
	.name = "riscv-sv39",
	.levels = 3,
	.va_bits = 39, /* bits 63:39 must equal bit 38 (section 4.4.1) */
	.pa_bits = 56,
	.canon = PGT_CANON_SIGN_EXTEND,
	.level = { SV39_LEVEL(12), SV39_LEVEL(21), SV39_LEVEL(30) },
	.prot_encode = sv39_prot_encode,
	.prot_decode = sv39_prot_decode,
	/*
	 * Reserved encodings raise the same page fault as V=0 (section 4.3.2,
	 * step 3). A and D are updated by the hardware (the Svadu behaviour),
	 * so a clear A is no fault; and replacing a valid PTE needs only an
	 * SFENCE.VMA afterwards, no break-before-make.
	 */
	.malformed_fault = PGT_FAULT_NOT_PRESENT,
};

/** The entry as Sv39 hardware reads it: the address moved to PPN, bits 53:10. */
static pgt_pte_t sv39_hardware_pte(pgt_pte_t pte)
{
	/* Bits 55:54 of the real entry are reserved: the PPN ends at bit 53. */
	return (pte & ~SV39_PA_FIELD) | (((pte & SV39_PA_FIELD) >> 2) & SV39_PPN_FIELD);
}

/* ------------------------------------------------------------------------ */
/* A hosted frame allocator: "physical" addresses are host pointers.         */

#define MAX_FRAMES 64

struct frames {
	long live;                  /* frames handed out and not yet returned */
	pgt_paddr_t pa[MAX_FRAMES]; /* which ones, for owns_table */
	unsigned level[MAX_FRAMES];
};

static pgt_paddr_t frame_alloc(void *ctx, size_t size, unsigned level)
{
	struct frames *f = ctx;
	void *p = f->live < MAX_FRAMES ? aligned_alloc(size, size) : NULL;

	if (!p)
		return PGT_PADDR_NONE;
	f->pa[f->live] = (pgt_paddr_t)(uintptr_t)p;
	f->level[f->live++] = level;
	return (pgt_paddr_t)(uintptr_t)p;
}

static long frame_index(const struct frames *f, pgt_paddr_t pa)
{
	for (long i = 0; i < f->live; i++)
		if (f->pa[i] == pa)
			return i;
	return -1;
}

static void frame_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct frames *f = ctx;
	long i = frame_index(f, pa);

	(void)size;
	(void)level;
	if (i < 0)
		return; /* not ours: a library bug, which the live count shows */
	f->live--;
	f->pa[i] = f->pa[f->live];
	f->level[i] = f->level[f->live];
	free((void *)(uintptr_t)pa);
}

/* Lets pgt_verify tell real tables from whatever a stray entry points at. */
static int frame_owned(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	const struct frames *f = ctx;
	long i = frame_index(f, pa);

	(void)size;
	return i >= 0 && f->level[i] == level;
}

/* ------------------------------------------------------------------------ */
/* The demonstration. Each step says what it expects and fails loudly.       */

static int failures;

static void expect_rc(const char *what, int got, int want)
{
	if (got == want)
		return;
	printf("FAIL %s: %s, expected %s\n", what, pgt_strerror(got), pgt_strerror(want));
	failures++;
}

static void expect_pte(const char *what, pgt_pte_t got, pgt_pte_t want)
{
	printf("  %-34s %#018" PRIx64 "\n", what, got);
	if (got != want) {
		printf("FAIL %s: expected %#018" PRIx64 "\n", what, want);
		failures++;
	}
}

/* A user code page and a kernel data megapage, built field by field. */
static void insert_and_set(pgt_space_t *sp)
{
	pgt_ref_t ref;

	puts("insert, then set fields (entries as Sv39 hardware reads them):");
	expect_rc("insert 4K at 0x10000", pgt_insert(sp, 0x10000, 12, &ref), PGT_OK);
	expect_pte("reserved leaf", *ref.pte, SV39_RSW0);
	expect_rc("paddr", pgt_set_field(sp, ref, PGT_FIELD_PADDR, 0x80201000), PGT_OK);
	expect_rc("prot r-x user",
		  pgt_set_field(sp, ref, PGT_FIELD_PROT, PGT_PROT_READ | PGT_PROT_EXEC | PGT_PROT_USER),
		  PGT_OK);
	/* PPN = 0x80201000 >> 12 = 0x80201 at bit 10; U|X|R|V = 0x1b. */
	expect_pte("user text 0x10000", sv39_hardware_pte(*ref.pte), (0x80201ull << 10) | 0x1b);

	expect_rc("insert 2M at 0xffffffffc0200000", pgt_insert(sp, 0xffffffffc0200000, 21, &ref), PGT_OK);
	expect_rc("paddr", pgt_set_field(sp, ref, PGT_FIELD_PADDR, 0x80400000), PGT_OK);
	expect_rc("prot rw- global",
		  pgt_set_field(sp, ref, PGT_FIELD_PROT, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_GLOBAL),
		  PGT_OK);
	expect_rc("accessed", pgt_set_field(sp, ref, PGT_FIELD_ACCESSED, 1), PGT_OK);
	expect_rc("dirty", pgt_set_field(sp, ref, PGT_FIELD_DIRTY, 1), PGT_OK);
	/* PPN 0x80400 at bit 10; D|A|G|W|R|V = 0xe7. */
	expect_pte("kernel data 0xffffffffc0200000", sv39_hardware_pte(*ref.pte), (0x80400ull << 10) | 0xe7);
}

/* What the ADT promises, seen through a descriptor the library never saw. */
static void lookup_and_refuse(pgt_space_t *sp)
{
	pgt_ref_t ref;
	uint64_t val = 0;

	puts("lookup and the ADT's conflict rules:");
	expect_rc("lookup inside the megapage", pgt_lookup(sp, 0xffffffffc03fffff, &ref), PGT_OK);
	if (ref.page_shift != 21 || ref.level != 1) {
		printf("FAIL lookup: level %u, shift %u\n", ref.level, ref.page_shift);
		failures++;
	}
	expect_rc("read paddr", pgt_get_field(sp, ref, PGT_FIELD_PADDR, &val), PGT_OK);
	if (val != 0x80400000) {
		printf("FAIL paddr read back as %#" PRIx64 "\n", val);
		failures++;
	}
	expect_rc("4K inside the megapage", pgt_insert(sp, 0xffffffffc0201000, 12, NULL), PGT_EXISTS);
	expect_rc("1G over the megapage", pgt_insert(sp, 0xffffffffc0000000, 30, NULL), PGT_ECONFLICT);
	expect_rc("nothing at 0x20000", pgt_lookup(sp, 0x20000, NULL), PGT_ENOENT);
	expect_rc("bit 38 not copied above", pgt_lookup(sp, 0x0000004000000000, NULL), PGT_ERANGE);

	puts("rights Sv39 cannot express through this descriptor:");
	expect_rc("insert 4K at 0x30000", pgt_insert(sp, 0x30000, 12, &ref), PGT_OK);
	expect_rc("write-only (XWR = 010: reserved)", pgt_set_field(sp, ref, PGT_FIELD_PROT, PGT_PROT_WRITE),
		  PGT_ENOTSUP);
	expect_rc("execute-only (note 2)", pgt_set_field(sp, ref, PGT_FIELD_PROT, PGT_PROT_EXEC),
		  PGT_ENOTSUP);
	expect_pte("left reserved", *ref.pte, SV39_RSW0);
}

/* One access through pgt_translate, and what Sv39 hardware would do. */
static void expect_access(const pgt_space_t *sp, pgt_vaddr_t va, unsigned access, int want_rc,
			  pgt_paddr_t want_pa, int want_kind)
{
	pgt_paddr_t pa = 0;
	struct pgt_fault f = { 0 };
	int rc = pgt_translate(sp, va, access, &pa, &f);
	char what[64];

	snprintf(what, sizeof what, "access %#x at %#" PRIx64, access, va);
	expect_rc(what, rc, want_rc);
	if (rc == PGT_OK && pa != want_pa) {
		printf("FAIL %s: pa %#" PRIx64 ", expected %#" PRIx64 "\n", what, pa, want_pa);
		failures++;
	}
	if (rc == PGT_EFAULT && f.kind != want_kind) {
		printf("FAIL %s: fault kind %d, expected %d\n", what, f.kind, want_kind);
		failures++;
	}
	printf("  %-34s %s", what, rc == PGT_OK ? "ok" : pgt_strerror(rc));
	if (rc == PGT_OK)
		printf(", pa %#" PRIx64 "\n", pa);
	else
		printf(rc == PGT_EFAULT ? ", kind %d at level %u\n" : "\n", f.kind, f.level);
}

static void print_problem(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	(void)arg;
	printf("  verify: %s at %#" PRIx64 ", level %u\n", problem, va, level);
}

/*
 * The MMU's view: the leaf rules decide user/supervisor and write/execute,
 * reserved leaves and holes fault, and an entry this descriptor cannot
 * hold is reported both by pgt_translate and by pgt_verify.
 */
static void translate_and_verify(pgt_space_t *sp)
{
	const unsigned user = PGT_ACC_USER, set_ad = PGT_ACC_SET_AD;
	pgt_pte_t *root = (pgt_pte_t *)(uintptr_t)pgt_space_root(sp);
	pgt_ref_t ref;
	uint64_t accessed = 0;

	puts("translate (sstatus.SUM = 0):");
	expect_access(sp, 0x10123, PGT_ACC_EXEC | user | set_ad, PGT_OK, 0x80201123, 0);
	expect_access(sp, 0x10123, PGT_ACC_WRITE | user, PGT_EFAULT, 0, PGT_FAULT_PERMISSION);
	expect_access(sp, 0x10123, PGT_ACC_READ, PGT_EFAULT, 0, PGT_FAULT_PERMISSION);
	expect_access(sp, 0xffffffffc0234567, PGT_ACC_WRITE, PGT_OK, 0x80434567, 0);
	expect_access(sp, 0xffffffffc0234567, PGT_ACC_READ | user, PGT_EFAULT, 0, PGT_FAULT_PERMISSION);
	expect_access(sp, 0xffffffffc0234567, PGT_ACC_EXEC, PGT_EFAULT, 0, PGT_FAULT_PERMISSION);
	expect_access(sp, 0x30000, PGT_ACC_READ | user, PGT_EFAULT, 0, PGT_FAULT_NOT_PRESENT);
	expect_access(sp, 0x20000, PGT_ACC_READ | user, PGT_EFAULT, 0, PGT_FAULT_NOT_PRESENT);
	expect_access(sp, 0x0000004000000000, PGT_ACC_READ, PGT_ERANGE, 0, 0);
	/* PGT_ACC_SET_AD set A on the leaf, as Svadu hardware would. */
	expect_rc("lookup user text", pgt_lookup(sp, 0x10000, &ref), PGT_OK);
	expect_rc("accessed", pgt_get_field(sp, ref, PGT_FIELD_ACCESSED, &accessed), PGT_OK);
	if (accessed != 1) {
		puts("FAIL the fetch did not set A");
		failures++;
	}

	/*
	 * An execute-only gigapage (XWR = 100) that someone else wrote: legal
	 * Sv39, but this descriptor reads it as a table entry with reserved
	 * bits. pgt_verify reads what a table-shaped entry points at, so the
	 * demonstration points it at a zeroed page.
	 */
	static _Alignas(4096) pgt_pte_t harmless[512];
	int problems;

	expect_rc("verify a clean tree", pgt_verify(sp, NULL, NULL), 0);
	root[2] = SV39_V | SV39_X | (pgt_pte_t)(uintptr_t)harmless;
	expect_access(sp, 0x80000000, PGT_ACC_EXEC, PGT_EFAULT, 0, PGT_FAULT_NOT_PRESENT);
	problems = pgt_verify(sp, print_problem, NULL);
	if (problems <= 0) {
		printf("FAIL pgt_verify found nothing (%d)\n", problems);
		failures++;
	}
	root[2] = 0; /* else destroy would take it for a table */
}

/* A leaf's page size and its entry as the hardware reads it. */
static void expect_leaf(pgt_space_t *sp, pgt_vaddr_t va, unsigned shift, pgt_pte_t want)
{
	pgt_ref_t ref;
	char what[48];

	snprintf(what, sizeof what, "2^%u page at %#" PRIx64, shift, va);
	expect_rc(what, pgt_lookup(sp, va, &ref), PGT_OK);
	if (failures)
		return;
	if (ref.page_shift != shift) {
		printf("FAIL %s: found a 2^%u page\n", what, ref.page_shift);
		failures++;
	}
	expect_pte(what, sv39_hardware_pte(*ref.pte), want);
}

/*
 * Ranges: pgt_map picks megapages where the alignment allows, pgt_protect
 * splits one to change a single 4 KiB page, pgt_unmap frees what it emptied.
 */
static void map_ranges(pgt_space_t *sp, const struct frames *f)
{
	long before = f->live;

	puts("ranges (pgt_map, pgt_protect, pgt_unmap):");
	expect_rc("map 4 MiB + 4 KiB rw-",
		  pgt_map(sp, 0x40000000, 0x81000000, 0x401000, PGT_PROT_READ | PGT_PROT_WRITE, 0), PGT_OK);
	/* W|R|V = 0x07; PPN = PA >> 12 at bit 10. */
	expect_leaf(sp, 0x40200000, 21, (0x81200ull << 10) | 0x07);
	expect_leaf(sp, 0x40400000, 12, (0x81400ull << 10) | 0x07);
	expect_rc("protect one page r--", pgt_protect(sp, 0x40201000, 0x1000, PGT_PROT_READ), PGT_OK);
	expect_leaf(sp, 0x40201000, 12, (0x81201ull << 10) | 0x03);
	expect_leaf(sp, 0x40200000, 12, (0x81200ull << 10) | 0x07); /* the rest of the split */
	expect_rc("unmap it all", pgt_unmap(sp, 0x40000000, 0x401000), PGT_OK);
	expect_rc("gone", pgt_lookup(sp, 0x40200000, NULL), PGT_ENOENT);
	if (f->live != before) {
		printf("FAIL unmap left %ld tables behind\n", f->live - before);
		failures++;
	}
}

/* The intermediate tables carry V only, pointing at the next table's PPN. */
static void check_root(const pgt_space_t *sp)
{
	const pgt_pte_t *root = (const pgt_pte_t *)(uintptr_t)pgt_space_root(sp);
	pgt_pte_t low = root[0];      /* VPN[2] = 0 */
	pgt_pte_t high = root[0x1ff]; /* VPN[2] = 511: 0xffffffffc0000000 */

	puts("root table entries:");
	expect_pte("root[0] (table)", sv39_hardware_pte(low) & 0x3ff, SV39_V);
	expect_pte("root[511] (table)", sv39_hardware_pte(high) & 0x3ff, SV39_V);
	printf("satp.PPN = %#" PRIx64 "\n", pgt_space_root(sp) >> 12);
}

int main(void)
{
	struct frames frames = { 0 };
	struct pgt_mm mm = {
		.alloc_table = frame_alloc,
		.free_table = frame_free,
		.owns_table = frame_owned,
		.ctx = &frames,
	};
	pgt_space_t sp;

	expect_rc("space init", pgt_space_init(&sp, &sv39, &mm, 0), PGT_OK);
	if (failures)
		return 1;
	insert_and_set(&sp);
	lookup_and_refuse(&sp);
	translate_and_verify(&sp);
	map_ranges(&sp, &frames);
	check_root(&sp);
	printf("%ld tables in use\n", frames.live);
	pgt_space_destroy(&sp);
	if (frames.live != 0) {
		printf("FAIL %ld tables not given back\n", frames.live);
		failures++;
	}
	puts(failures ? "custom-arch: FAILED" : "custom-arch: all checks passed");
	return failures ? 1 : 0;
}
