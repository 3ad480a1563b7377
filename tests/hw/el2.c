/* SPDX-License-Identifier: MIT */
/*
 * The EL2 kernel: a hypervisor's second stage judged by the MMU. For each
 * ARMv8 stage-2 format it builds a guest's stage-2 tables with pgt_map and
 * pgt_insert, programs VTCR_EL2, VTTBR_EL2 and HCR_EL2.VM, and runs a guest
 * at EL1 (its stage 1 off, so its addresses are IPAs; its code is this
 * image, mapped at the same IPA) that reads, writes and executes pages of
 * every kind: RW, RO, write-only, execute-only, RX, XN 0b01 and 0b11
 * (FEAT_XNX, also fetched from EL0), device, non-cacheable, without AF,
 * reserved, unmapped near and far, a block, and the top half of a
 * concatenated root. Then both stages: the guest's stage 1 in guest
 * memory, enabled at EL1, against pgt_translate_nested and AT S12E1R/W. Each access's outcome on the hardware
 * (QEMU's walk of the tables) is held against pgt_translate on the same space: success and the data at the
 * output address, or the stage-2 fault's kind and level (ESR_EL2 EC and DFSC/IFSC, WnR) and the IPA
 * (HPFAR_EL2, FAR_EL2) against struct pgt_fault's kind, level, stage and ipa. Arm ARM DDI 0487: D8.3
 * descriptors, D8.4 stage 2 permissions, D1.10 exception entry, the
 * ESR_EL2 and HPFAR_EL2 register descriptions (ISS encoding for an
 * exception from a Data Abort / Instruction Abort).
 *
 * Prints the protocol of tests/hw/hwrun.py: one @case line per access,
 * @done at the end. Freestanding, linked with the installed archive.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <pgtable/arch.h>
#include <pgtable/armv8.h>
#include <pgtable/pgtable.h>

/* ---- console and exit ------------------------------------------------------ */

#define UART_BASE    0x09000000ull /* PL011 of -M virt */
#define UART_FR_TXFF (1u << 5)

static void putc_(char c)
{
	volatile uint32_t *uart = (volatile uint32_t *)(uintptr_t)UART_BASE;

	while (uart[0x18 / 4] & UART_FR_TXFF)
		;
	uart[0] = (uint8_t)c;
}

static void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static void put_hex(uint64_t v)
{
	char buf[17];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	while (n)
		putc_(buf[--n]);
}

static void put_dec(uint64_t v)
{
	char buf[21];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		putc_(buf[--n]);
}

/* %s, %u (unsigned), %x (uint64_t, hex): all this kernel prints. */
static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 's': puts_(va_arg(ap, const char *)); break;
		case 'u': put_dec(va_arg(ap, unsigned)); break;
		case 'x': put_hex(va_arg(ap, uint64_t)); break;
		default: putc_('?'); break;
		}
	}
	va_end(ap);
}

/* Semihosting SYS_EXIT with ADP_Stopped_ApplicationExit: QEMU exits with the subcode (99: completed). */
static _Noreturn void el2_exit_qemu(int completed)
{
	uint64_t block[2] = { 0x20026, completed ? 99 : 33 };
	register uint64_t x0 __asm__("x0") = 0x18;
	register uint64_t *x1 __asm__("x1") = block;

	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	for (;;)
		__asm__ volatile("wfe");
}

/* ---- what el2.S shares ------------------------------------------------------- */

/** How the guest last left: ESR_EL2, FAR_EL2, HPFAR_EL2, its x0, ELR_EL2. */
struct el2_exit {
	uint64_t esr, far, hpfar, x0, elr;
};

struct el2_exit el2_exit;
uint64_t el2_host_sp;

uint64_t el2_run_guest(uint64_t entry, uint64_t a0, uint64_t a1, uint64_t spsr);
extern const char guest_load[], guest_store[], guest_exec[], guest_vectors[];
extern const char guest_load_el0[], guest_exec_el0[], guest_call[];

#define SPSR_EL1H 0x3c5ull /* SPSR_EL2: EL1 with SP_EL1, D, A, I, F masked */
#define SPSR_EL0T 0x3c0ull /* EL0 */
extern const char guest_ret_code[], guest_ret_code_end[];
void el2_host_trap(uint64_t idx, uint64_t esr, uint64_t elr, uint64_t far);
_Noreturn void el2_main(void);

/* The compiler may emit calls to these for struct copies and clears. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

void el2_host_trap(uint64_t idx, uint64_t esr, uint64_t elr, uint64_t far)
{
	out("@panic EL2 took exception %u: ESR_EL2 %x ELR_EL2 %x FAR_EL2 %x\n", (unsigned)idx, esr, elr, far);
	el2_exit_qemu(0);
}

/* ---- system registers -------------------------------------------------------- */

#define READ_SYSREG(reg)                                                   \
	({                                                                 \
		uint64_t v_;                                               \
		__asm__ volatile("mrs %0, " #reg : "=r"(v_) : : "memory"); \
		v_;                                                        \
	})
#define WRITE_SYSREG(reg, v) __asm__ volatile("msr " #reg ", %0" : : "r"((uint64_t)(v)) : "memory")

static void tlb_flush_all(void)
{
	/* stage 1 and 2 entries of the current VMID, every CPU (there is one) */
	__asm__ volatile("dsb ishst\n\ttlbi vmalls12e1is\n\tdsb ish\n\tisb" : : : "memory");
}

static void icache_sync(void)
{
	__asm__ volatile("dsb sy\n\tic iallu\n\tdsb sy\n\tisb" : : : "memory");
}

/* ---- table memory: a bump allocator over an arena (EL2 runs with its MMU off: pa == pointer) ---- */

#define ARENA_SIZE (4u << 20)
static unsigned char arena[ARENA_SIZE] __attribute__((aligned(262144)));
static uint64_t arena_used;

static pgt_paddr_t arena_alloc(void *ctx, size_t size, unsigned level)
{
	(void)ctx;
	(void)level;
	uint64_t at = (arena_used + size - 1) & ~(uint64_t)(size - 1);
	if (at + size > ARENA_SIZE)
		return PGT_PADDR_NONE;
	arena_used = at + size;
	return (pgt_paddr_t)(uintptr_t)(arena + at);
}

static void arena_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)ctx, (void)pa, (void)size, (void)level; /* the arena is reset per format */
}

static void flush_hook(void *ctx, pgt_vaddr_t va, uint64_t size)
{
	(void)ctx, (void)va, (void)size;
	tlb_flush_all();
}

static const struct pgt_mm el2_mm = {
	.alloc_table = arena_alloc, .free_table = arena_free, .tlb_flush = flush_hook, .p2v_offset = 0
};

/* ---- the formats and the guest's memory ------------------------------------------ */

/** One stage-2 format and the VTCR_EL2 its header documents. */
struct format {
	const struct pgt_arch *arch;
	const char *name;
	unsigned t0sz, sl0, tg0;
	uint64_t block; /**< a block size this RAM can hold (0: none) */
};

static const struct format formats[] = {
	{ &pgt_arch_armv8_s2_4k_40, "s2-4k-40", 24, 1, 0, 2u << 20 },
	{ &pgt_arch_armv8_s2_4k_48, "s2-4k-48", 16, 2, 0, 2u << 20 },
	{ &pgt_arch_armv8_s2_16k_40, "s2-16k-40", 24, 1, 2, 32u << 20 },
	{ &pgt_arch_armv8_s2_64k_42, "s2-64k-42", 22, 1, 1, 0 }, /* 512M blocks: more than the RAM */
};

/*
 * VTCR_EL2: T0SZ [5:0], SL0 [7:6], IRGN0 [9:8] and ORGN0 [11:10] write-back
 * write-allocate (0b01), SH0 [13:12] inner shareable (0b11), TG0 [15:14],
 * PS [18:16] 0b101 (48-bit output addresses), bit 31 RES1.
 */
static uint64_t vtcr_of(const struct format *f)
{
	return f->t0sz | (uint64_t)f->sl0 << 6 | 1u << 8 | 1u << 10 | 3u << 12 | (uint64_t)f->tg0 << 14 |
	       5ull << 16 | 1ull << 31;
}

#define RAM_BASE        0x40000000ull
#define GUEST_CODE_SIZE (64ull << 20) /* this image (the guest's code) and the arena: identity RWX */
#define TEST_PA         0x44000000ull /* test pages: one every 64K */
#define SLOT(k)         (TEST_PA + (uint64_t)(k)*0x10000)
#define BLOCK_PA        0x46000000ull /* 32M aligned, inside the 128M of RAM */
#define FAR_IPA         0x80000000ull /* nothing mapped in its root entry */
#define TOP_IPA         (1ull << 39)  /* the second table of a 4K-40 root (index 512) */
#define CODE_OFF        0x100         /* where the test code sits in a page */
#define PATTERN         0x1f2e3d4c5b6a7988ull

/* Accesses by the guest at EL1, and at EL0 (PGT_ACC_USER: what FEAT_XNX tells apart). */
enum op { OP_READ, OP_WRITE, OP_EXEC, OP_READ_EL0, OP_EXEC_EL0 };
static const char *const op_names[] = { "read", "write", "exec", "read_el0", "exec_el0" };

/** One guest page of the probe set. */
struct page {
	const char *name;
	pgt_vaddr_t ipa;
	pgt_paddr_t pa;
	unsigned prot; /**< PGT_PROT_*; 0 with map: a reserved leaf */
	int map;       /**< 0: left unmapped */
	int no_af;     /**< AF cleared after mapping */
	int block;     /**< mapped as one block of the format's block size */
	unsigned xn;   /**< non-zero: XN[1:0] written by hand afterwards (FEAT_XNX: 1 or 3) */
	int el0;       /**< probed from EL0 too */
};

static const struct page pages[] = {
	{ "rw", SLOT(0), SLOT(0), PGT_PROT_READ | PGT_PROT_WRITE, 1, 0, 0, 0, 1 },
	{ "ro", SLOT(1), SLOT(1), PGT_PROT_READ, 1, 0, 0, 0, 1 },
	{ "wo", SLOT(2), SLOT(2), PGT_PROT_WRITE, 1, 0, 0, 0, 1 },
	{ "xo", SLOT(3), SLOT(3), PGT_PROT_EXEC, 1, 0, 0, 0, 1 },
	{ "rx", SLOT(4), SLOT(4), PGT_PROT_READ | PGT_PROT_EXEC, 1, 0, 0, 0, 1 },
	/* FEAT_XNX: XN 0b01 (EL0 only) and 0b11 (EL1 only), which the codec never writes */
	{ "xn_el1", SLOT(12), SLOT(12), PGT_PROT_READ | PGT_PROT_EXEC, 1, 0, 0, 1, 1 },
	{ "xn_el0", SLOT(13), SLOT(13), PGT_PROT_READ | PGT_PROT_EXEC, 1, 0, 0, 3, 1 },
	{ "device", SLOT(5), SLOT(5), PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_UNCACHED, 1, 0, 0, 0, 0 },
	{ "noncacheable", SLOT(6), SLOT(6), PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_NONCACHEABLE, 1, 0, 0,
	  0, 0 },
	{ "no_af", SLOT(7), SLOT(7), PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC, 1, 1, 0, 0, 0 },
	{ "reserved", SLOT(8), SLOT(8), 0, 1, 0, 0, 0, 0 },
	{ "unmapped", SLOT(9), SLOT(9), 0, 0, 0, 0, 0, 0 },
	{ "far", FAR_IPA, SLOT(10), 0, 0, 0, 0, 0, 0 },
	{ "top_half", TOP_IPA, SLOT(11), PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC, 1, 0, 0, 0, 0 },
	{ "block", BLOCK_PA, BLOCK_PA, PGT_PROT_READ | PGT_PROT_WRITE, 1, 0, 1, 0, 0 },
};
#define NPAGES (sizeof pages / sizeof pages[0])

/* ---- building the second stage ----------------------------------------------------- */

static int map_page(pgt_space_t *s2, const struct format *f, const struct page *p)
{
	uint64_t size = p->block ? f->block : 1ull << f->arch->level[0].shift;
	unsigned shift = p->block ? (f->block == (2u << 20) ? 21 : 25) : f->arch->level[0].shift;
	pgt_ref_t ref;
	int rc;

	if (p->prot == 0) /* a reserved leaf: inserted, no rights */
		return pgt_insert(s2, p->ipa, shift, NULL);
	rc = pgt_map(s2, p->ipa, p->pa, size, p->prot, 0);
	if (rc != PGT_OK || (!p->no_af && !p->xn))
		return rc;
	rc = pgt_lookup(s2, p->ipa, &ref);
	if (rc != PGT_OK || p->no_af)
		return rc != PGT_OK ? rc : pgt_set_field(s2, ref, PGT_FIELD_ACCESSED, 0);
	*ref.pte = (*ref.pte & ~PGT_ARMV8_S2_XN_MASK) | PGT_ARMV8_S2_XN(p->xn); /* before the guest runs */
	return PGT_OK;
}

/* Fills a test page: the data pattern at 0 and code returning 0x5a17 at CODE_OFF. */
static void fill_page(pgt_paddr_t pa)
{
	volatile uint64_t *data = (volatile uint64_t *)(uintptr_t)pa;
	unsigned char *code = (unsigned char *)(uintptr_t)(pa + CODE_OFF);
	size_t n = (size_t)(guest_ret_code_end - guest_ret_code);

	data[0] = PATTERN ^ pa;
	data[2] = 0;
	for (size_t i = 0; i < n; i++)
		code[i] = (unsigned char)guest_ret_code[i];
}

static int build_stage2(pgt_space_t *s2, const struct format *f)
{
	int rc;

	arena_used = 0;
	rc = pgt_space_init(s2, f->arch, &el2_mm, 0);
	if (rc != PGT_OK)
		return rc;
	rc = pgt_map(s2, RAM_BASE, RAM_BASE, GUEST_CODE_SIZE, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC,
		     0);
	for (unsigned i = 0; rc == PGT_OK && i < NPAGES; i++) {
		if (pages[i].block && !f->block)
			continue;
		fill_page(pages[i].pa);
		if (pages[i].map)
			rc = map_page(s2, f, &pages[i]);
	}
	return rc;
}

/* Makes @p s2 the guest's second stage: VTCR_EL2, VTTBR_EL2 (VMID 1), HCR_EL2.VM and .RW. */
static void enter_stage2(const pgt_space_t *s2, const struct format *f)
{
	WRITE_SYSREG(vtcr_el2, vtcr_of(f));
	WRITE_SYSREG(vttbr_el2, pgt_space_root(s2) | 1ull << 48);
	WRITE_SYSREG(hcr_el2, 1ull << 31 | 1ull); /* RW: EL1 is AArch64; VM: stage 2 on */
	__asm__ volatile("isb");
	tlb_flush_all();
	icache_sync();
}

/* ---- one access, on the hardware and by pgt_translate ------------------------------- */

#define EC_HVC64      0x16
#define EC_IABT_LOWER 0x20
#define EC_DABT_LOWER 0x24

/** The PGT_FAULT_* kind of a fault status code (ESR ISS[5:0]): translation, access flag, permission. */
static int kind_of_fsc(unsigned fsc)
{
	switch (fsc >> 2) {
	case 1: return PGT_FAULT_NOT_PRESENT;
	case 2: return PGT_FAULT_ACCESS_FLAG;
	case 3: return PGT_FAULT_PERMISSION;
	default: return -1;
	}
}

static unsigned cases, failed;

static const char *const kind_names[] = { "none", "translation", "permission", "access flag" };

/* A passing case says what both agreed on: completed, or the fault's kind and level. */
static void result(const struct format *f, const struct page *p, enum op op, const char *why, uint64_t a,
		   uint64_t b, int rc, const struct pgt_fault *ft)
{
	cases++;
	out("@case %s_%s_%s ", f->name, p->name, op_names[op]);
	if (!why) {
		if (rc == PGT_OK)
			out("pass completed\n");
		else
			out("pass %s fault level %u\n",
			    (unsigned)ft->kind < 4 ? kind_names[ft->kind] : "other", ft->level);
		return;
	}
	failed++;
	out("fail %s (%x, %x)\n", why, a, b);
}

/** What the guest's access did: completed (value) or a stage-2 abort. */
static const char *judge_success(const struct page *p, enum op op, pgt_paddr_t pa, uint64_t got, uint64_t *a,
				 uint64_t *b)
{
	uint64_t ec = el2_exit.esr >> 26;

	int el0 = op == OP_READ_EL0 || op == OP_EXEC_EL0;

	*a = el2_exit.esr;
	*b = el2_exit.far;
	if (ec != EC_HVC64 || (el2_exit.esr & 0xffff) != (el0 ? 1u : 0u))
		return "pgt_translate allows it, the guest faulted";
	if (el0 && READ_SYSREG(esr_el1) >> 26 != 0x15) /* EL0 ended with its SVC, not a fault of its own */
		return *a = READ_SYSREG(esr_el1), "EL0 did not reach its SVC";
	if ((op == OP_READ || op == OP_READ_EL0) && got != (PATTERN ^ (pa & ~0xfffull)))
		return *a = got, "read the wrong data";
	if (op == OP_WRITE && *(volatile uint64_t *)(uintptr_t)pa != (PATTERN ^ p->ipa))
		return *a = pa, "the write did not land at pgt_translate's address";
	if ((op == OP_EXEC || op == OP_EXEC_EL0) && got != 0x5a17)
		return *a = got, "the code did not run";
	return NULL;
}

static const char *judge_fault(enum op op, const struct pgt_fault *ft, pgt_vaddr_t ipa, uint64_t *a,
			       uint64_t *b)
{
	uint64_t esr = el2_exit.esr, ec = esr >> 26;
	unsigned fsc = (unsigned)esr & 0x3f;
	/* HPFAR_EL2.FIPA [43:4] holds IPA[51:12]; FAR_EL2 the address (its stage 1 is off: the IPA) */
	uint64_t hw_ipa = ((el2_exit.hpfar >> 4) & ((1ull << 40) - 1)) << 12 | (el2_exit.far & 0xfff);

	*a = esr;
	*b = ft->kind;
	int fetch = op == OP_EXEC || op == OP_EXEC_EL0;

	if (ec != (fetch ? EC_IABT_LOWER : EC_DABT_LOWER))
		return "pgt_translate faults, the guest did not (or not a stage-2 abort)";
	if (kind_of_fsc(fsc) != ft->kind)
		return "fault kinds differ (ESR_EL2, pgt kind)";
	if (3u - (fsc & 3) != ft->level)
		return *b = ft->level, "fault levels differ (ESR_EL2, pgt level)";
	if (!fetch && ((esr >> 6) & 1) != (op == OP_WRITE))
		return "WnR is not the access";
	if ((esr >> 7) & 1)
		return "S1PTW set with stage 1 off";
	if (ft->stage != 2 || ft->s1ptw != 0)
		return *b = ft->stage, "pgt_fault is not a stage-2 fault";
	if (hw_ipa != ft->ipa || ft->ipa != ipa || el2_exit.far != ipa)
		return *a = hw_ipa, *b = ft->ipa, "IPAs differ (HPFAR_EL2:FAR_EL2, pgt ipa)";
	return NULL;
}

/* The guest's probe for @p op at @p addr; returns what it read or ran. */
static uint64_t run_op(enum op op, uint64_t addr, uint64_t val)
{
	switch (op) {
	case OP_READ: return el2_run_guest((uint64_t)(uintptr_t)guest_load, addr, 0, SPSR_EL1H);
	case OP_WRITE: return el2_run_guest((uint64_t)(uintptr_t)guest_store, addr, val, SPSR_EL1H);
	case OP_EXEC: return el2_run_guest((uint64_t)(uintptr_t)guest_exec, addr, 0, SPSR_EL1H);
	case OP_READ_EL0: return el2_run_guest((uint64_t)(uintptr_t)guest_load_el0, addr, 0, SPSR_EL0T);
	default: return el2_run_guest((uint64_t)(uintptr_t)guest_exec_el0, addr, 0, SPSR_EL0T);
	}
}

static void probe(const pgt_space_t *s2, const struct format *f, const struct page *p, enum op op)
{
	static const unsigned acc[] = { PGT_ACC_READ, PGT_ACC_WRITE, PGT_ACC_EXEC,
					PGT_ACC_READ | PGT_ACC_USER, PGT_ACC_EXEC | PGT_ACC_USER };
	pgt_vaddr_t ipa = p->ipa + (op == OP_EXEC || op == OP_EXEC_EL0 ? CODE_OFF
				    : op == OP_WRITE                   ? 0x10
								       : 0);
	pgt_paddr_t pa = 0;
	struct pgt_fault ft = { 0 };
	int rc = pgt_translate(s2, ipa, acc[op], &pa, &ft);
	uint64_t got, a = 0, b = 0;
	const char *why;

	if (rc != PGT_OK && rc != PGT_EFAULT) {
		result(f, p, op, "pgt_translate failed", (uint64_t)(int64_t)rc, ipa, rc, &ft);
		return;
	}
	got = run_op(op, ipa, PATTERN ^ p->ipa);
	why = rc == PGT_OK ? judge_success(p, op, pa, got, &a, &b) : judge_fault(op, &ft, ipa, &a, &b);
	result(f, p, op, why, a, b, rc, &ft);
}

static void run_format(const struct format *f)
{
	pgt_space_t s2;
	int rc = build_stage2(&s2, f);

	if (rc != PGT_OK) {
		out("@case %s_build fail %s\n", f->name, pgt_strerror(rc));
		cases++, failed++;
		return;
	}
	enter_stage2(&s2, f);
	for (unsigned i = 0; i < NPAGES; i++) {
		if (pages[i].block && !f->block) {
			out("@case %s_block skip no block of this granule fits in 128M of RAM\n", f->name);
			continue;
		}
		for (unsigned op = OP_READ; op <= (pages[i].el0 ? OP_EXEC_EL0 : OP_EXEC); op++)
			probe(&s2, f, &pages[i], (enum op)op);
	}
	out("@note %s: %u tables' bytes, root %x\n", f->name, (unsigned)arena_used,
	    (uint64_t)pgt_space_root(&s2));
	pgt_space_destroy(&s2);
}

/* ---- both stages: a guest's stage 1 over the stage 2 -------------------------------------- */

/*
 * The guest's stage 1 (armv8-4k-39, TTBR0_EL1) lives in guest memory at
 * GUEST_TABLES: the guest's kernel builds it there itself, at EL1 with its
 * MMU off, with the library linked into this image (guest_setup_stage1),
 * and enables it. EL2 then reads those tables through a pgt_space_view.
 */
#define GUEST_TABLES      0x43000000ull
#define GUEST_TABLES_SIZE (8ull << 20)
static uint64_t guest_tables_used;

static pgt_paddr_t guest_alloc(void *ctx, size_t size, unsigned level)
{
	(void)ctx;
	(void)level;
	uint64_t at = (guest_tables_used + size - 1) & ~(uint64_t)(size - 1);
	if (at + size > GUEST_TABLES_SIZE)
		return PGT_PADDR_NONE;
	guest_tables_used = at + size;
	return GUEST_TABLES + at;
}

/* The guest's own TLB maintenance: EL1 may invalidate its stage-1 entries only (TLBI VMALLE1IS). */
static void guest_flush(void *ctx, pgt_vaddr_t va, uint64_t size)
{
	(void)ctx, (void)va, (void)size;
	__asm__ volatile("dsb ishst\n\ttlbi vmalle1is\n\tdsb ish\n\tisb" : : : "memory");
}

/* Guest-physical addresses are pointers to the guest while its MMU is off, and to EL2 (identity stage 2). */
static const struct pgt_mm guest_mm = {
	.alloc_table = guest_alloc, .free_table = arena_free, .tlb_flush = guest_flush, .p2v_offset = 0
};

/** One guest virtual address and what each stage does there. */
struct gva {
	const char *name;
	pgt_vaddr_t va;
	pgt_paddr_t ipa;  /**< where stage 1 sends it */
	unsigned s1prot;  /**< 0: stage 1 leaves it unmapped */
	int s1ptw_victim; /**< its last stage-1 table sits in a page stage 2 then unmaps */
};

#define GVA(k) (0x10000000ull + (uint64_t)(k)*0x200000) /* a 2M region (a level-0 table) each */

static const struct gva gvas[] = {
	{ "n_rw", GVA(0), SLOT(0), PGT_PROT_READ | PGT_PROT_WRITE, 0 },     /* both allow */
	{ "n_s2ro", GVA(1), SLOT(1), PGT_PROT_READ | PGT_PROT_WRITE, 0 },   /* stage 2 read-only */
	{ "n_s1ro", GVA(2), SLOT(0), PGT_PROT_READ, 0 },                    /* stage 1 read-only */
	{ "n_s1none", GVA(3), 0, 0, 0 },                                    /* stage 1 unmapped */
	{ "n_s2none", GVA(4), SLOT(9), PGT_PROT_READ | PGT_PROT_WRITE, 0 }, /* stage 2 unmapped */
	{ "n_s2wo", GVA(5), SLOT(2), PGT_PROT_READ | PGT_PROT_WRITE, 0 },   /* stage 2 write-only */
	{ "n_s1ptw", GVA(6), SLOT(0), PGT_PROT_READ | PGT_PROT_WRITE, 1 },  /* stage-1 table unreadable */
	{ "n_xo", GVA(7), SLOT(3), PGT_PROT_READ | PGT_PROT_EXEC, 0 },      /* stage 2 execute-only */
};
#define NGVAS (sizeof gvas / sizeof gvas[0])

/* A passing case says what both agreed on: completed, or the stage, kind, level and S1PTW of the fault. */
static void nested_result(const char *name, const char *what, const char *why, uint64_t a, uint64_t b, int rc,
			  const struct pgt_fault *ft)
{
	cases++;
	out("@case s2-4k-40_%s_%s ", name, what);
	if (!why && rc == PGT_OK) {
		out("pass completed\n");
		return;
	}
	if (!why) {
		out("pass stage %u %s fault level %u%s\n", ft->stage,
		    (unsigned)ft->kind < 4 ? kind_names[ft->kind] : "other", ft->level,
		    ft->s1ptw ? " s1ptw" : "");
		return;
	}
	failed++;
	out("fail %s (%x, %x)\n", why, a, b);
}

/* Builds the guest's stage 1 in guest memory: its code identity-mapped, the test addresses. */
static int build_stage1(pgt_space_t *s1)
{
	int rc = pgt_space_init(s1, &pgt_arch_armv8_4k_39, &guest_mm, 0);

	if (rc != PGT_OK)
		return rc;
	rc = pgt_map(s1, RAM_BASE, RAM_BASE, GUEST_CODE_SIZE, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC,
		     0);
	for (unsigned i = 0; rc == PGT_OK && i < NGVAS; i++)
		if (gvas[i].s1prot)
			rc = pgt_map(s1, gvas[i].va, gvas[i].ipa, 4096, gvas[i].s1prot, 0);
	return rc;
}

/* The guest-physical page of the last stage-1 table on the walk of @p va (read through the view). */
static pgt_paddr_t last_table_of(const pgt_space_t *view, pgt_vaddr_t va)
{
	pgt_ref_t ref;

	if (pgt_lookup(view, va, &ref) != PGT_OK)
		return 0;
	return (pgt_paddr_t)(uintptr_t)ref.pte & ~0xfffull; /* EL2's pointers are guest-physical here */
}

/*
 * TCR_EL1 for armv8-4k-39 on TTBR0: T0SZ 25, IRGN0/ORGN0 write-back (0b01),
 * SH0 inner (0b11), TG0 4K, EPD1 (no TTBR1 walks), IPS 48 bits (0b101).
 */
#define GUEST_TCR (25ull | 1ull << 8 | 1ull << 10 | 3ull << 12 | 1ull << 23 | 5ull << 32)

/* The guest's stage 1 and its stack, in guest memory (this image's .bss). */
static pgt_space_t guest_s1;
static unsigned char guest_stack[16384] __attribute__((aligned(16)));

/*
 * Guest code, at EL1: builds its stage 1 with the library and turns its
 * MMU on (MAIR_EL1, TCR_EL1, TTBR0_EL1, then SCTLR_EL1.M). Returns the
 * library's status.
 */
static uint64_t guest_setup_stage1(uint64_t unused)
{
	(void)unused;
	guest_tables_used = 0;
	int rc = build_stage1(&guest_s1);
	if (rc != PGT_OK)
		return (uint64_t)(int64_t)rc;
	WRITE_SYSREG(mair_el1, PGT_ARMV8_MAIR);
	WRITE_SYSREG(tcr_el1, GUEST_TCR);
	WRITE_SYSREG(ttbr0_el1, pgt_space_root(&guest_s1));
	__asm__ volatile("dsb sy\n\tisb\n\ttlbi vmalle1\n\tdsb nsh\n\tisb" : : : "memory");
	WRITE_SYSREG(sctlr_el1, 0x30d00801); /* M: stage 1 on */
	__asm__ volatile("isb");
	return PGT_OK;
}

/* Enters the guest at guest_setup_stage1 on its own stack; the status it returns. */
static int guest_builds_stage1(void)
{
	WRITE_SYSREG(sp_el1, (uint64_t)(uintptr_t)(guest_stack + sizeof guest_stack));
	uint64_t rc = el2_run_guest((uint64_t)(uintptr_t)guest_call, (uint64_t)(uintptr_t)guest_setup_stage1,
				    0, SPSR_EL1H);
	if ((el2_exit.esr >> 26) != EC_HVC64 || (el2_exit.esr & 0xffff) != 0)
		return PGT_EHOOK; /* the guest faulted: no status of its own */
	return (int)(int64_t)rc;
}

/* A stage-1 fault the guest took itself (HVC #1 from its vectors): ESR_EL1, FAR_EL1. */
static const char *judge_stage1(enum op op, const struct pgt_fault *ft, pgt_vaddr_t va, uint64_t *a,
				uint64_t *b)
{
	uint64_t esr = READ_SYSREG(esr_el1), ec = esr >> 26;
	unsigned fsc = (unsigned)esr & 0x3f;

	*a = esr;
	*b = ft->stage;
	if (ft->stage != 1)
		return "the guest faulted at stage 1, pgt_translate_nested says stage 2";
	if (ec != (op == OP_EXEC ? 0x21u : 0x25u)) /* abort taken without a change of EL */
		return "not a stage-1 abort";
	if (kind_of_fsc(fsc) != ft->kind || 3u - (fsc & 3) != ft->level)
		return *b = (uint64_t)ft->kind << 8 | ft->level,
		       "kind or level differ (ESR_EL1, pgt kind/level)";
	if (READ_SYSREG(far_el1) != va || ft->va != va)
		return *a = READ_SYSREG(far_el1), "FAR_EL1 is not the address";
	return NULL;
}

/* A stage-2 fault of a nested access: as judge_fault, with S1PTW and the VA in FAR_EL2. */
static const char *judge_stage2(enum op op, const struct pgt_fault *ft, pgt_vaddr_t va, uint64_t *a,
				uint64_t *b)
{
	uint64_t esr = el2_exit.esr, ec = esr >> 26, fipa = (el2_exit.hpfar >> 4) & ((1ull << 40) - 1);
	unsigned fsc = (unsigned)esr & 0x3f, s1ptw = (unsigned)(esr >> 7) & 1;

	*a = esr;
	*b = (uint64_t)ft->stage << 8 | ft->s1ptw;
	if (ft->stage != 2)
		return "stage 2 faulted, pgt_translate_nested says stage 1";
	if (ec != (op == OP_EXEC ? EC_IABT_LOWER : EC_DABT_LOWER)) /* S1PTW: the access's own kind */
		return "not a stage-2 abort of this access";
	if (s1ptw != ft->s1ptw)
		return "S1PTW differs (ESR_EL2, pgt stage<<8|s1ptw)";
	if (kind_of_fsc(fsc) != ft->kind || 3u - (fsc & 3) != ft->level)
		return *b = (uint64_t)ft->kind << 8 | ft->level,
		       "kind or level differ (ESR_EL2, pgt kind/level)";
	if (fipa != ft->ipa >> 12 || el2_exit.far != va || ft->va != va)
		return *a = fipa, *b = ft->ipa, "IPA or VA differ (HPFAR_EL2.FIPA, pgt ipa)";
	if (!s1ptw && (ft->ipa & 0xfff) != (va & 0xfff))
		return *b = ft->ipa, "the IPA's page offset is not the VA's";
	return NULL;
}

/* One nested access by the guest at EL1, against pgt_translate_nested. */
static void nested_access(const pgt_space_t *view, const pgt_space_t *s2, const struct gva *g, enum op op)
{
	static const unsigned acc[] = { PGT_ACC_READ, PGT_ACC_WRITE, PGT_ACC_EXEC };
	pgt_vaddr_t va = g->va + (op == OP_EXEC ? CODE_OFF : op == OP_WRITE ? 0x10 : 0);
	pgt_paddr_t pa = 0;
	struct pgt_fault ft = { 0 };
	int rc = pgt_translate_nested(view, s2, va, acc[op], &pa, &ft);
	uint64_t got, a = 0, b = 0;
	const char *why;
	const struct page p = { g->name, va & ~0xfffull, 0, 0, 0, 0, 0, 0, 0 };

	got = run_op(op, va, PATTERN ^ p.ipa);
	uint64_t ec = el2_exit.esr >> 26;
	if (rc == PGT_OK)
		why = judge_success(&p, op, pa, got, &a, &b);
	else if (rc != PGT_EFAULT)
		why = "pgt_translate_nested failed", a = (uint64_t)(int64_t)rc;
	else if (ec == EC_HVC64 && (el2_exit.esr & 0xffff) == 1)
		why = judge_stage1(op, &ft, va, &a, &b);
	else
		why = judge_stage2(op, &ft, va, &a, &b);
	nested_result(g->name, op_names[op], why, a, b, rc, &ft);
}

/*
 * AT S12E1R / S12E1W from EL2: the MMU's answer for both stages in
 * PAR_EL1 (F bit 0; a fault: FST [6:1], PTW bit 8, S bit 9; else PA[47:12]).
 */
static void nested_at(const pgt_space_t *view, const pgt_space_t *s2, const struct gva *g, int write)
{
	pgt_paddr_t pa = 0;
	struct pgt_fault ft = { 0 };
	int rc = pgt_translate_nested(view, s2, g->va, write ? PGT_ACC_WRITE : PGT_ACC_READ, &pa, &ft);
	uint64_t par;
	const char *why = NULL;

	if (write)
		__asm__ volatile("at s12e1w, %0\n\tisb" : : "r"(g->va) : "memory");
	else
		__asm__ volatile("at s12e1r, %0\n\tisb" : : "r"(g->va) : "memory");
	par = READ_SYSREG(par_el1);
	unsigned fst = (unsigned)(par >> 1) & 0x3f, ptw = (unsigned)(par >> 8) & 1,
		 stage2 = (unsigned)(par >> 9) & 1;
	if (!(par & 1)) {
		if (rc != PGT_OK || (par & 0x0000fffffffff000ull) != (pa & ~0xfffull))
			why = "PAR_EL1 translates, pgt_translate_nested does not say this address";
	} else if (rc != PGT_EFAULT) {
		why = "PAR_EL1 faults, pgt_translate_nested does not";
	} else if (stage2 + 1 != ft.stage || ptw != ft.s1ptw) {
		why = "PAR_EL1.S/PTW differ from the fault's stage and s1ptw";
	} else if (kind_of_fsc(fst) != ft.kind || 3u - (fst & 3) != ft.level) {
		why = "PAR_EL1.FST differs from the fault's kind and level";
	}
	nested_result(g->name, write ? "at_s12e1w" : "at_s12e1r", why, par, (uint64_t)ft.kind << 8 | ft.level,
		      rc, &ft);
}

/* Both stages on s2-4k-40: every access and AT against pgt_translate_nested over a view of the guest's
 * tables. */
static void run_nested(void)
{
	const struct format *f = &formats[0];
	pgt_space_t s2, view;
	int rc = build_stage2(&s2, f);

	if (rc == PGT_OK) {
		enter_stage2(&s2, f);
		rc = guest_builds_stage1();
		cases++;
		out("@case s2-4k-40_guest_builds_stage1 %s %s\n", rc == PGT_OK ? "pass" : "fail",
		    pgt_strerror(rc));
		failed += rc != PGT_OK;
	}
	if (rc == PGT_OK) /* what the guest left in TTBR0_EL1 */
		rc = pgt_space_view(&view, &pgt_arch_armv8_4k_39, &guest_mm, READ_SYSREG(ttbr0_el1), 0);
	/* the S1PTW victim: stage 2 unmaps the guest page that holds its last stage-1 table */
	for (unsigned i = 0; rc == PGT_OK && i < NGVAS; i++)
		if (gvas[i].s1ptw_victim)
			rc = pgt_unmap(&s2, last_table_of(&view, gvas[i].va), 4096);
	if (rc != PGT_OK) {
		out("@case s2-4k-40_nested_build fail %s\n", pgt_strerror(rc));
		cases++, failed++;
		return;
	}
	tlb_flush_all(); /* after the S1PTW victim's unmap */
	for (unsigned i = 0; i < NGVAS; i++) {
		for (unsigned op = OP_READ; op <= OP_EXEC; op++)
			nested_access(&view, &s2, &gvas[i], (enum op)op);
		nested_at(&view, &s2, &gvas[i], 0);
		nested_at(&view, &s2, &gvas[i], 1);
	}
	WRITE_SYSREG(sctlr_el1, 0x30d00800); /* the guest's stage 1 off again */
	__asm__ volatile("isb");
	out("@note nested: guest stage 1 armv8-4k-39 in %u bytes of guest memory, over s2-4k-40\n",
	    (unsigned)guest_tables_used);
	pgt_space_destroy(&view);
	pgt_space_destroy(&guest_s1); /* its tables are guest memory: nothing to give back */
	pgt_space_destroy(&s2);
}

/* ---- entry ------------------------------------------------------------------------ */

_Noreturn void el2_main(void)
{
	uint64_t el;

	__asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
	if (((el >> 2) & 3) != 2) {
		out("@panic not entered at EL2 (CurrentEL %x): QEMU needs -M virt,virtualization=on\n", el);
		el2_exit_qemu(0);
	}
	/* The guest: EL1 with its MMU off (SCTLR_EL1 RES1 bits only), exceptions to guest_vectors. */
	WRITE_SYSREG(sctlr_el1, 0x30d00800);
	WRITE_SYSREG(vbar_el1, (uint64_t)(uintptr_t)guest_vectors);
	for (unsigned i = 0; i < sizeof formats / sizeof formats[0]; i++)
		run_format(&formats[i]);
	run_nested();
	out("@note %u accesses compared with pgt_translate over %u stage-2 formats\n", cases,
	    (unsigned)(sizeof formats / sizeof formats[0]));
	out("@done %u\n", failed);
	el2_exit_qemu(1);
}
