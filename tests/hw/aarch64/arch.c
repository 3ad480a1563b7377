/* SPDX-License-Identifier: MIT */
/*
 * AArch64 half of the test kernel (QEMU -M virt): PL011 console, MMU set-up
 * for the granule this kernel is built for (HW_GRANULE 4, 16 or 64; HW_VA39
 * for the 3-level 4K format), TLB
 * maintenance, and the abort decoding the cases compare against
 * (Arm ARM DDI 0487: D17.2.37 ESR_EL1, D17.2.131 TCR_EL1, D17.2.118 SCTLR_EL1).
 */
#include "../kernel.h"

#include <pgtable/armv8.h>

#ifndef HW_GRANULE
#define HW_GRANULE 4
#endif

#define SYSREG_READ(name)                                      \
	({                                                     \
		uint64_t v_;                                   \
		__asm__ volatile("mrs %0, " #name : "=r"(v_)); \
		v_;                                            \
	})
#define SYSREG_WRITE(name, v) __asm__ volatile("msr " #name ", %0" : : "r"((uint64_t)(v)) : "memory")

static inline void isb(void)
{
	__asm__ volatile("isb" : : : "memory");
}

/* ---- console and exit ------------------------------------------------------ */

#define UART_BASE 0x09000000ull /* PL011 of -M virt */
#define UART_DR   0x00
#define UART_FR   0x18
#define FR_RXFE   (1u << 4)
#define FR_TXFF   (1u << 5)

static volatile uint32_t *uart(unsigned reg)
{
	return (volatile uint32_t *)(uintptr_t)(UART_BASE + reg);
}

void hw_arch_putc(char c)
{
	while (*uart(UART_FR) & FR_TXFF)
		;
	*uart(UART_DR) = (uint8_t)c;
}

int hw_arch_getc(void)
{
	while (*uart(UART_FR) & FR_RXFE)
		;
	return (int)(*uart(UART_DR) & 0xff);
}

/* Semihosting SYS_EXIT (0x18) with ADP_Stopped_ApplicationExit: QEMU exits with the subcode. */
#define SYS_EXIT                     0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

_Noreturn void hw_arch_exit(int completed)
{
	uint64_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, completed ? 99 : 33 };
	register uint64_t x0 __asm__("x0") = SYS_EXIT;
	register uint64_t *x1 __asm__("x1") = block;

	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	for (;;)
		__asm__ volatile("wfe");
}

/* ---- layout ---------------------------------------------------------------- */

#if HW_GRANULE == 4 && defined(HW_VA39)
#define HW_ARCH pgt_arch_armv8_4k_39
#define TCR_TG0 (0ull << 14)
#define HW_NAME "armv8-4k-39"
#elif HW_GRANULE == 4
#define HW_ARCH pgt_arch_armv8_4k_48
#define TCR_TG0 (0ull << 14)
#elif HW_GRANULE == 16
#define HW_ARCH pgt_arch_armv8_16k_47
#define TCR_TG0 (2ull << 14)
#elif HW_GRANULE == 64
#define HW_ARCH pgt_arch_armv8_64k_42
#define TCR_TG0 (1ull << 14)
#else
#error "HW_GRANULE must be 4, 16 or 64"
#endif

#define STR_(x) #x
#define STR(x)  STR_(x)
#ifndef HW_NAME
#define HW_NAME "armv8-" STR(HW_GRANULE) "k"
#endif

static struct hw_layout layout = {
	.arch = &HW_ARCH,
	.name = HW_NAME,
	.ram_base = 0x40000000ull,
	.ident_size = 32ull << 20,
	.test_area = 0x41000000ull,
	.test_size = 8ull << 20,
	.device_base = UART_BASE,
	.kernel_never_runs_user = 1, /* user-executable leaves are PXN */
	.user_nx_in_tables = 1,
};

const struct hw_layout *hw_arch_layout(void)
{
	/* TTBR0 only: the "kernel half" is the upper half of its range; the
	 * user window sits well below it, under a root entry of its own. */
	layout.va_low = 1ull << (HW_ARCH.va_bits - 4);
	layout.va_high = 1ull << (HW_ARCH.va_bits - 1);
	layout.va_far = layout.va_low + (layout.va_high - layout.va_low) / 2 + 0x38;
	layout.kernel_half = layout.va_high;
	return &layout;
}

/* ---- traps ----------------------------------------------------------------- */

/** What trap_common in boot.S saved. */
struct arm_frame {
	uint64_t x[31];
	uint64_t elr, spsr, vector;
};
_Static_assert(sizeof(struct arm_frame) == 272, "boot.S FRAME");

/* Shared with boot.S: where a probe resumes after a trap. */
uint64_t hw_fixup_pc, hw_fixup_sp, hw_trap_x0;

static struct {
	int trapped;
	uint64_t esr, far, elr;
} last;

/* ESR_EL1.EC values (D17.2.37). */
#define EC_SVC64          0x15
#define EC_IABT_LOWER     0x20
#define EC_IABT_SAME      0x21
#define EC_DABT_LOWER     0x24
#define EC_DABT_SAME      0x25
#define VECTOR_LOWER_SYNC 8 /* vector table entry: synchronous, from EL0 in AArch64 */
#define SPSR_EL1H_MASKED  0x3c5

void hw_arm_trap(struct arm_frame *f);
void hw_arm_trap(struct arm_frame *f)
{
	uint64_t esr = SYSREG_READ(esr_el1), far = SYSREG_READ(far_el1);
	int from_user = f->vector == VECTOR_LOWER_SYNC;

	if (!hw_fixup_pc)
		hw_panic("exception %lu esr %lx far %lx elr %lx", f->vector, esr, far, f->elr);
	/* svc ends a user probe normally; anything else is what the probe met. */
	last.trapped = !(from_user && (esr >> 26) == EC_SVC64);
	last.esr = esr;
	last.far = far;
	last.elr = f->elr;
	hw_trap_x0 = f->x[0];
	f->elr = hw_fixup_pc;
	f->spsr = SPSR_EL1H_MASKED;
	hw_fixup_pc = 0;
}

void hw_arch_init(void)
{
	uint64_t mmfr0 = SYSREG_READ(id_aa64mmfr0_el1);
	/* ID_AA64MMFR0_EL1 (D17.2.64): TGran4 [31:28] 0 = yes; TGran64 [27:24] 0 = yes;
	 * TGran16 [23:20] 1 = yes. */
	int ok = HW_GRANULE == 4    ? ((mmfr0 >> 28) & 0xf) != 0xf
		 : HW_GRANULE == 64 ? ((mmfr0 >> 24) & 0xf) != 0xf
				    : ((mmfr0 >> 20) & 0xf) != 0;
	if (!ok)
		hw_panic("this CPU has no %uK granule (ID_AA64MMFR0_EL1 %lx)", HW_GRANULE, mmfr0);
}

/* ---- translation ----------------------------------------------------------- */

extern char _start[], hw_arm_vectors[], boot_stack_top[];

void hw_arch_vital(pgt_vaddr_t out[], unsigned *n)
{
	unsigned i = 0;

	out[i++] = (uintptr_t)_start;
	out[i++] = (uintptr_t)hw_arm_vectors;
	out[i++] = (uintptr_t)hw_arm_trap;
	out[i++] = (uintptr_t)boot_stack_top - 8;
	out[i++] = UART_BASE;
	*n = i;
}

int hw_arch_map_devices(pgt_space_t *sp)
{
	unsigned prot = PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_UNCACHED | PGT_PROT_GLOBAL;
	return hw_install(sp, UART_BASE, UART_BASE, HW_ARCH.level[0].shift, prot);
}

static void tlb_flush_all(void)
{
	__asm__ volatile("dsb ishst; tlbi vmalle1is; dsb ish; isb" : : : "memory");
}

/* TCR_EL1 (D17.2.131): TTBR0 walks of this granule, inner-shareable write-back; TTBR1 walks off. */
static uint64_t tcr_value(void)
{
	uint64_t parange = SYSREG_READ(id_aa64mmfr0_el1) & 0xf;
	uint64_t t0sz = 64u - HW_ARCH.va_bits;

	return t0sz | (1ull << 8) /* IRGN0 WB */ | (1ull << 10) /* ORGN0 WB */ |
	       (3ull << 12) /* SH0 inner */ | TCR_TG0 | (1ull << 23) /* EPD1 */ | (2ull << 30) /* TG1 4K */ |
	       (parange << 32) /* IPS */;
}

static void mmu_on(pgt_paddr_t root)
{
	SYSREG_WRITE(mair_el1, PGT_ARMV8_MAIR);
	SYSREG_WRITE(tcr_el1, tcr_value());
	SYSREG_WRITE(ttbr0_el1, root);
	isb();
	tlb_flush_all();
	uint64_t sctlr = SYSREG_READ(sctlr_el1);
	sctlr |= (1ull << 0) | (1ull << 2) | (1ull << 12); /* M, C, I */
	sctlr &= ~((1ull << 1) | (1ull << 19));            /* A (alignment checks), WXN */
	SYSREG_WRITE(sctlr_el1, sctlr);
	isb();
}

void hw_arch_switch(pgt_paddr_t root)
{
	static int mmu_enabled;

	if (!mmu_enabled) {
		mmu_enabled = 1;
		mmu_on(root);
		return;
	}
	/* No ASIDs here: everything cached for the old root goes. */
	SYSREG_WRITE(ttbr0_el1, root);
	isb();
	tlb_flush_all();
}

/* tlbi vae1is takes VA[55:12] whatever the granule (D8.15); big ranges flush everything. */
void hw_arch_flush(pgt_vaddr_t va, uint64_t size)
{
	uint64_t step = 1ull << HW_ARCH.level[0].shift;

	if (size > 64 * step) {
		tlb_flush_all();
		return;
	}
	__asm__ volatile("dsb ishst" : : : "memory");
	for (uint64_t off = 0; off < size; off += step)
		__asm__ volatile("tlbi vae1is, %0"
				 :
				 : "r"(((va + off) >> 12) & ((1ull << 44) - 1))
				 : "memory");
	__asm__ volatile("dsb ish; isb" : : : "memory");
}

/* ---- probes ---------------------------------------------------------------- */

typedef uint64_t (*probe_fn)(uint64_t, uint64_t);
uint64_t hw_arm_try(probe_fn fn, uint64_t a, uint64_t b);
uint64_t hw_arm_try_user(uint64_t entry, uint64_t a, uint64_t b);
uint64_t hw_arm_load(uint64_t va, uint64_t unused);
uint64_t hw_arm_store(uint64_t va, uint64_t v);
extern const char hw_arm_ret_code[], hw_arm_ret_code_end[];
extern const char hw_arm_user_ret_code[], hw_arm_user_ret_code_end[];
extern const char hw_arm_user_stubs[], hw_arm_user_store[], hw_arm_user_stubs_end[];

static pgt_vaddr_t user_stubs_va;

/* Fault status codes, ISS DFSC/IFSC [5:0] (D17.2.37): level in bits [1:0]. */
#define FSC_TYPE(fsc)   ((fsc)&0x3c)
#define FSC_TRANSLATION 0x04
#define FSC_ACCESS_FLAG 0x08
#define FSC_PERMISSION  0x0c
#define ISS_WNR         (1u << 6)

static int fault_kind(unsigned fsc)
{
	switch (FSC_TYPE(fsc)) {
	case FSC_TRANSLATION: return PGT_FAULT_NOT_PRESENT;
	case FSC_ACCESS_FLAG: return PGT_FAULT_ACCESS_FLAG;
	case FSC_PERMISSION: return PGT_FAULT_PERMISSION;
	default: return 200 + (int)fsc; /* no case expects it */
	}
}

static void decode(struct hw_fault *f)
{
	unsigned ec = (unsigned)(last.esr >> 26), fsc = (unsigned)(last.esr & 0x3f);
	int iabt = ec == EC_IABT_LOWER || ec == EC_IABT_SAME;

	*f = (struct hw_fault){ .faulted = last.trapped, .level = -1 };
	if (!last.trapped)
		return;
	f->syndrome = last.esr;
	if (!iabt && ec != EC_DABT_LOWER && ec != EC_DABT_SAME) {
		f->kind = 100 + (int)ec; /* not an abort: no case expects it */
		f->addr = last.elr;
		return;
	}
	f->kind = fault_kind(fsc);
	f->level = 3 - (int)(fsc & 3); /* Arm's lookup level, counted from the root; ours from the leaf */
	f->access = iabt ? PGT_ACC_EXEC : (last.esr & ISS_WNR) ? PGT_ACC_WRITE : PGT_ACC_READ;
	f->access |= (ec == EC_IABT_LOWER || ec == EC_DABT_LOWER) ? PGT_ACC_USER : 0;
	f->addr = last.far;
}

static uint64_t user_entry(enum hw_op op, pgt_vaddr_t va)
{
	if (op == HW_EXEC)
		return va;
	if (op == HW_READ)
		return user_stubs_va;
	return user_stubs_va + (uint64_t)(hw_arm_user_store - hw_arm_user_stubs);
}

uint64_t hw_arch_probe(enum hw_op op, int user, pgt_vaddr_t va, uint64_t val, struct hw_fault *f)
{
	uint64_t r;

	last.trapped = 0;
	if (user) {
		if (!user_stubs_va)
			hw_panic("user probe before the stubs were mapped");
		r = hw_arm_try_user(user_entry(op, va), va, val);
	} else {
		probe_fn fn = op == HW_READ ? hw_arm_load : op == HW_WRITE ? hw_arm_store : (probe_fn)va;
		r = hw_arm_try(fn, va, val);
	}
	decode(f);
	return r;
}

const void *hw_arch_ret_code(int user, size_t *len)
{
	if (user) {
		*len = (size_t)(hw_arm_user_ret_code_end - hw_arm_user_ret_code);
		return hw_arm_user_ret_code;
	}
	*len = (size_t)(hw_arm_ret_code_end - hw_arm_ret_code);
	return hw_arm_ret_code;
}

/*
 * Instruction fetches are not coherent with stores: clean the data cache to
 * the point of unification, then drop the I-cache (B2.4.4).
 */
void hw_arch_sync_code(void *wva, size_t len)
{
	for (uintptr_t p = (uintptr_t)wva & ~(uintptr_t)63; p < (uintptr_t)wva + len; p += 64)
		__asm__ volatile("dc cvau, %0" : : "r"(p) : "memory");
	__asm__ volatile("dsb ish; ic iallu; dsb ish; isb" : : : "memory");
}

const void *hw_arch_user_stubs(size_t *len)
{
	*len = (size_t)(hw_arm_user_stubs_end - hw_arm_user_stubs);
	return hw_arm_user_stubs;
}

void hw_arch_set_user_stubs(pgt_vaddr_t va)
{
	user_stubs_va = va;
}
