/* SPDX-License-Identifier: MIT */
/*
 * RISC-V half of the test kernel (QEMU -M virt, RV64): M-mode set-up and
 * exit, ns16550a console, satp for the Sv mode this kernel is built for
 * (HW_SV 39, 48 or 57), sfence.vma, and the page-fault decoding the cases
 * compare against (RISC-V privileged specification 20211203: 3.1.8 medeleg,
 * 4.1.1 sstatus, 4.1.9 scause, 4.1.11 satp, 4.2.1 sfence.vma; Svpbmt,
 * chapter 6 of the same specification).
 */
#include "../kernel.h"

#include <pgtable/riscv.h>

#ifndef HW_SV
#define HW_SV 39
#endif

#if HW_SV == 39
#define HW_ARCH   pgt_arch_riscv_sv39
#define SATP_MODE PGT_RISCV_SATP_SV39
#elif HW_SV == 48
#define HW_ARCH   pgt_arch_riscv_sv48
#define SATP_MODE PGT_RISCV_SATP_SV48
#elif HW_SV == 57
#define HW_ARCH   pgt_arch_riscv_sv57
#define SATP_MODE PGT_RISCV_SATP_SV57
#else
#error "HW_SV must be 39, 48 or 57"
#endif

#define STR_(x) #x
#define STR(x)  STR_(x)
#if defined(HW_HS) && (!defined(HW_GSTAGE) || HW_GSTAGE == 39)
#define HW_NAME "riscv-hs" /* the hypervisor kernel (riscv64/hs.c): Sv39 for itself, Sv39x4 for its guest */
#elif defined(HW_HS)
#define HW_NAME "riscv-hs-sv" STR(HW_GSTAGE) "x4" /* ... Sv48x4 or Sv57x4 for its guest */
#else
#define HW_NAME "riscv-sv" STR(HW_SV)
#endif

#define CSR_READ(csr)                                          \
	({                                                     \
		uint64_t v_;                                   \
		__asm__ volatile("csrr %0, " #csr : "=r"(v_)); \
		v_;                                            \
	})
#define CSR_WRITE(csr, v) __asm__ volatile("csrw " #csr ", %0" : : "r"((uint64_t)(v)) : "memory")
#define CSR_SET(csr, v)   __asm__ volatile("csrs " #csr ", %0" : : "r"((uint64_t)(v)) : "memory")
#define CSR_CLEAR(csr, v) __asm__ volatile("csrc " #csr ", %0" : : "r"((uint64_t)(v)) : "memory")

/* ---- console and exit ------------------------------------------------------ */

#define UART_BASE    0x10000000ull /* ns16550a of -M virt, byte registers */
#define UART_RBR     0
#define UART_THR     0
#define UART_LSR     5
#define LSR_DR       0x01
#define LSR_THRE     0x20
#define FINISHER     0x100000ull /* the virt board's test device ("sifive,test1") */
#define FINISHER_ERR 0x3333u     /* QEMU exits with the status in bits 31:16 */

static volatile uint8_t *uart(unsigned reg)
{
	return (volatile uint8_t *)(uintptr_t)(UART_BASE + reg);
}

void hw_arch_putc(char c)
{
	while (!(*uart(UART_LSR) & LSR_THRE))
		;
	*uart(UART_THR) = (uint8_t)c;
}

int hw_arch_getc(void)
{
	while (!(*uart(UART_LSR) & LSR_DR))
		;
	return *uart(UART_RBR);
}

/* Exit goes through M-mode, where the test device needs no mapping in any space. */
_Noreturn void hw_arch_exit(int completed)
{
	register uint64_t a0 __asm__("a0") = completed ? 99 : 33;

	__asm__ volatile("ecall" : : "r"(a0) : "memory");
	for (;;)
		__asm__ volatile("wfi");
}

/* ---- M-mode: delegation, menvcfg, and the exit ------------------------------ */

/* Exception codes (mcause/scause, 3.1.15 table 3.6). */
#define CAUSE_ECALL_U    8
#define CAUSE_ECALL_S    9
#define CAUSE_ECALL_M    11
#define CAUSE_FETCH_PAGE 12
#define CAUSE_LOAD_PAGE  13
#define CAUSE_STORE_PAGE 15
/* Every exception but the ecalls from S and M (the exit) goes to S-mode. */
#define MEDELEG_S                                                                                        \
	((1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | \
	 (1u << CAUSE_ECALL_U) | (1u << CAUSE_FETCH_PAGE) | (1u << CAUSE_LOAD_PAGE) |                    \
	 (1u << CAUSE_STORE_PAGE))
#define MENVCFG_PBMTE (1ull << 62) /* Svpbmt: PBMT is honoured in S-mode's walks */
/*
 * The hypervisor kernel also takes the guest's exceptions in HS-mode: its
 * ecalls (cause 10) and guest-page faults (20, 21, 23; privileged spec
 * 8.6.1), which only M-mode may delegate (8.5.2).
 */
#ifdef HW_HS
#define MEDELEG_GUEST ((1u << 10) | (1u << 20) | (1u << 21) | (1u << 23))
#else
#define MEDELEG_GUEST 0u
#endif
#define MISA_H (1u << 7) /* misa bit 7: the hypervisor extension (3.1.1) */

/* Set in M-mode, read in S-mode (which cannot read menvcfg). */
static int pbmt_enabled;
/* Set in M-mode, read by the hypervisor kernel: whether the hart has the H extension. */
int hw_rv_has_h;

void hw_rv_machine_setup(void);
void hw_rv_machine_setup(void)
{
	CSR_WRITE(medeleg, MEDELEG_S | MEDELEG_GUEST);
	hw_rv_has_h = (CSR_READ(misa) & MISA_H) != 0;
	CSR_WRITE(mideleg, 0);
	CSR_WRITE(mie, 0);
	/* menvcfg (0x30a) is WARL: PBMTE stays clear on a hart without Svpbmt (but see svpbmt_works). */
	CSR_SET(0x30a, MENVCFG_PBMTE);
	pbmt_enabled = (CSR_READ(0x30a) & MENVCFG_PBMTE) != 0;
}

static _Noreturn void finish(uint64_t status)
{
	*(volatile uint32_t *)(uintptr_t)FINISHER = (uint32_t)(status << 16) | FINISHER_ERR;
	for (;;)
		__asm__ volatile("wfi");
}

/* Called by boot.S on any M-mode trap, on the M-mode stack; never returns. */
_Noreturn void hw_rv_mtrap(uint64_t mcause, uint64_t a0);
_Noreturn void hw_rv_mtrap(uint64_t mcause, uint64_t a0)
{
	if (mcause == CAUSE_ECALL_S || mcause == CAUSE_ECALL_M)
		finish(a0);
	hw_printf("@panic M-mode trap: mcause %lx mepc %lx mtval %lx\n", mcause, CSR_READ(mepc),
		  CSR_READ(mtval));
	finish(33);
}

/* ---- layout ---------------------------------------------------------------- */

static struct hw_layout layout = {
	.arch = &HW_ARCH,
	.name = HW_NAME,
	.ram_base = 0x80000000ull,
	.ident_size = 32ull << 20,
	.test_area = 0x81000000ull,
	.test_size = 8ull << 20,
	.device_base = UART_BASE,
	.kernel_never_runs_user = 1, /* S-mode never fetches from a U page (4.3.1) */
	.user_nx_in_tables = 1,      /* ... which the U bit of the leaf says */
	.walker_sets_accessed = 1,   /* QEMU 7.2 sets A and D itself */
	.exec_only = 1,
	.kernel_no_user_data = 1, /* hw_arch_init keeps sstatus.SUM clear */
};

const struct hw_layout *hw_arch_layout(void)
{
	/* Sign-extended addresses: the kernel half is the top half of the range;
	 * the user window sits under a root entry of its own. */
	layout.va_low = 1ull << (HW_SV - 4);
	layout.va_high = ~0ull << (HW_SV - 1);
	layout.va_far = (3ull << (HW_SV - 3)) + 0x38;
	layout.kernel_half = 1ull << (HW_SV - 1);
	return &layout;
}

static void tlb_flush_all(void)
{
	__asm__ volatile("sfence.vma zero, zero" : : : "memory");
}

/* ---- traps ----------------------------------------------------------------- */

/** What hw_rv_strap_entry in boot.S saved: x1-x31 (x[n - 1] is xn), then sepc. */
struct rv_frame {
	uint64_t x[31];
	uint64_t sepc;
};
_Static_assert(sizeof(struct rv_frame) == 256, "boot.S FRAME");

#define REG_A0 9 /* x10 */

/* Shared with boot.S: where a probe resumes after a trap. */
uint64_t hw_fixup_pc, hw_fixup_sp, hw_trap_a0;

static struct {
	int trapped, user;
	uint64_t cause, tval, epc;
} last;

#define SSTATUS_SPIE (1ull << 5)
#define SSTATUS_SPP  (1ull << 8)
#define SSTATUS_SUM  (1ull << 18)
#define SSTATUS_MXR  (1ull << 19)

#ifdef HW_HS
void hw_rv_guest_trap(uint64_t cause, uint64_t tval); /* riscv64/hs.c */
#endif

void hw_rv_strap(struct rv_frame *f);
void hw_rv_strap(struct rv_frame *f)
{
	uint64_t cause = CSR_READ(scause), tval = CSR_READ(stval);
	int from_user = !(CSR_READ(sstatus) & SSTATUS_SPP);

	if (!hw_fixup_pc || (cause >> 63))
		hw_panic("trap scause %lx stval %lx sepc %lx from %s", cause, tval, f->sepc,
			 from_user ? "U" : "S");
	/* ecall ends a user probe normally; anything else is what the probe met. */
	last.trapped = !(from_user && cause == CAUSE_ECALL_U);
	last.user = from_user;
	last.cause = cause;
	last.tval = tval;
	last.epc = f->sepc;
	hw_trap_a0 = f->x[REG_A0];
#ifdef HW_HS
	hw_rv_guest_trap(cause, tval); /* a trap from the guest: resume in HS-mode, not in the guest */
#endif
	/* Resume in S-mode at the probe's fixup, which restores its own stack. */
	f->sepc = hw_fixup_pc;
	CSR_SET(sstatus, SSTATUS_SPP);
	CSR_CLEAR(sstatus, SSTATUS_SPIE);
	hw_fixup_pc = 0;
}

#define GIGA (1ull << 30)

static uint64_t probe_root[512] __attribute__((aligned(4096)));

/*
 * QEMU 7.2 lets M-mode set menvcfg.PBMTE without the extension, and then
 * faults on every leaf with PBMT set: a read through a gigapage with
 * PBMT = IO tells. The tables are this file's own, made before the
 * library's first space is switched to, in Sv39 (which every RV64 hart with
 * paging has): the RAM gigapage as it is, and its alias at the next one
 * with PBMT = IO. Translation is off again afterwards.
 */
static int svpbmt_works(void)
{
	uint64_t ram = 0x80000000ull, ppn = ram >> 2; /* PPN in bits 53:10 */
	pgt_pte_t rwx = PGT_RISCV_V | PGT_RISCV_R | PGT_RISCV_W | PGT_RISCV_X | PGT_RISCV_A | PGT_RISCV_D;
	struct hw_fault f;

	probe_root[ram / GIGA] = ppn | rwx;
	probe_root[ram / GIGA + 1] = ppn | PGT_RISCV_V | PGT_RISCV_R | PGT_RISCV_A | PGT_RISCV_PBMT_IO;
	CSR_WRITE(satp, (uint64_t)PGT_RISCV_SATP_SV39 << 60 | (uintptr_t)probe_root >> 12);
	tlb_flush_all();
	hw_arch_probe(HW_READ, 0, (uintptr_t)probe_root + GIGA, 0, &f);
	CSR_WRITE(satp, 0);
	tlb_flush_all();
	return !f.faulted;
}

void hw_arch_init(void)
{
	/* SUM = 0 and MXR = 0, as pgt_translate models them: the kernel cannot
	 * touch user pages, and execute-only pages cannot be read. */
	CSR_CLEAR(sstatus, SSTATUS_SUM | SSTATUS_MXR);
	/* The library encodes uncached memory (the console's too) with Svpbmt: without it, no console. */
	if (!pbmt_enabled || !svpbmt_works())
		hw_panic("this hart has no Svpbmt (PBMT = IO faults): run QEMU with -cpu rv64,svpbmt=on");
	hw_printf("@note %s: QEMU takes Svpbmt's PBMT = IO (uncached) but models no memory type: case "
		  "uncached shows that the encoding is accepted and reaches its frame\n",
		  HW_NAME);
}

/* ---- translation ----------------------------------------------------------- */

extern char _start[], hw_rv_strap_entry[], boot_stack_top[], strap_stack_top[];

void hw_arch_vital(pgt_vaddr_t out[], unsigned *n)
{
	unsigned i = 0;

	out[i++] = (uintptr_t)_start;
	out[i++] = (uintptr_t)hw_rv_strap_entry;
	out[i++] = (uintptr_t)hw_rv_strap;
	out[i++] = (uintptr_t)boot_stack_top - 8;
	out[i++] = (uintptr_t)strap_stack_top - 8;
	out[i++] = UART_BASE;
	*n = i;
}

int hw_arch_map_devices(pgt_space_t *sp)
{
	unsigned prot = PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_UNCACHED | PGT_PROT_GLOBAL;
	return hw_install(sp, UART_BASE, UART_BASE, HW_ARCH.level[0].shift, prot);
}

/* No ASIDs here: everything cached for the old root goes. */
void hw_arch_switch(pgt_paddr_t root)
{
	uint64_t satp = (uint64_t)SATP_MODE << 60 | root >> 12;

	CSR_WRITE(satp, satp);
	tlb_flush_all();
	/* satp is WARL: a mode the hart lacks leaves it as it was (4.1.11). */
	if (CSR_READ(satp) != satp)
		hw_panic("satp %lx did not take (this hart has no Sv%u?)", satp, HW_SV);
}

/* sfence.vma per page for small ranges (it drops superpage entries too); everything otherwise. */
void hw_arch_flush(pgt_vaddr_t va, uint64_t size)
{
	uint64_t step = 1ull << HW_ARCH.level[0].shift;

	if (size > 64 * step) {
		tlb_flush_all();
		return;
	}
	for (uint64_t off = 0; off < size; off += step)
		__asm__ volatile("sfence.vma %0, zero" : : "r"(va + off) : "memory");
}

/* ---- probes ---------------------------------------------------------------- */

typedef uint64_t (*probe_fn)(uint64_t, uint64_t);
uint64_t hw_rv_try(probe_fn fn, uint64_t a, uint64_t b);
uint64_t hw_rv_try_user(uint64_t entry, uint64_t a, uint64_t b);
uint64_t hw_rv_load(uint64_t va, uint64_t unused);
uint64_t hw_rv_store(uint64_t va, uint64_t v);
extern const char hw_rv_ret_code[], hw_rv_ret_code_end[];
extern const char hw_rv_user_ret_code[], hw_rv_user_ret_code_end[];
extern const char hw_rv_user_stubs[], hw_rv_user_store[], hw_rv_user_stubs_end[];

static pgt_vaddr_t user_stubs_va;

/*
 * A page fault's cause says which access faulted, not why: an invalid
 * entry and a forbidding one raise the same exception, and no level is
 * reported. The kind is left to the case's expectation (HW_KIND_UNKNOWN);
 * pgt_translate must still give that kind.
 */
static void decode(struct hw_fault *f)
{
	*f = (struct hw_fault){ .faulted = last.trapped, .level = -1 };
	if (!last.trapped)
		return;
	f->syndrome = last.cause;
	switch (last.cause) {
	case CAUSE_FETCH_PAGE: f->access = PGT_ACC_EXEC; break;
	case CAUSE_LOAD_PAGE: f->access = PGT_ACC_READ; break;
	case CAUSE_STORE_PAGE: f->access = PGT_ACC_WRITE; break;
	default:
		f->kind = 100 + (int)last.cause; /* not a page fault: no case expects it */
		f->addr = last.epc;
		return;
	}
	f->kind = HW_KIND_UNKNOWN;
	f->access |= last.user ? PGT_ACC_USER : 0;
	f->addr = last.tval;
}

static uint64_t user_entry(enum hw_op op, pgt_vaddr_t va)
{
	if (op == HW_EXEC)
		return va;
	if (op == HW_READ)
		return user_stubs_va;
	return user_stubs_va + (uint64_t)(hw_rv_user_store - hw_rv_user_stubs);
}

uint64_t hw_arch_probe(enum hw_op op, int user, pgt_vaddr_t va, uint64_t val, struct hw_fault *f)
{
	uint64_t r;

	last.trapped = 0;
	if (user) {
		if (!user_stubs_va)
			hw_panic("user probe before the stubs were mapped");
		r = hw_rv_try_user(user_entry(op, va), va, val);
	} else {
		probe_fn fn = op == HW_READ ? hw_rv_load : op == HW_WRITE ? hw_rv_store : (probe_fn)va;
		r = hw_rv_try(fn, va, val);
	}
	decode(f);
	return r;
}

const void *hw_arch_ret_code(int user, size_t *len)
{
	if (user) {
		*len = (size_t)(hw_rv_user_ret_code_end - hw_rv_user_ret_code);
		return hw_rv_user_ret_code;
	}
	*len = (size_t)(hw_rv_ret_code_end - hw_rv_ret_code);
	return hw_rv_ret_code;
}

/* Instruction fetches see earlier stores of the same hart only after fence.i (Zifencei). */
void hw_arch_sync_code(void *wva, size_t len)
{
	(void)wva;
	(void)len;
	__asm__ volatile("fence.i" : : : "memory");
}

const void *hw_arch_user_stubs(size_t *len)
{
	*len = (size_t)(hw_rv_user_stubs_end - hw_rv_user_stubs);
	return hw_rv_user_stubs;
}

void hw_arch_set_user_stubs(pgt_vaddr_t va)
{
	user_stubs_va = va;
}
