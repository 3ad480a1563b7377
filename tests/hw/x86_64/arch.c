/* SPDX-License-Identifier: MIT */
/*
 * x86-64 half of the test kernel: COM1 console, IDT and TSS, CR3 switches,
 * invlpg, and the page-fault decoding the cases compare against
 * (Intel SDM vol. 3A, 4.7 "Page-Fault Exceptions", figure 4-12).
 */
#include "../kernel.h"

#include <pgtable/x86_64.h>

/* ---- I/O ports ------------------------------------------------------------ */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define COM1           0x3f8
#define COM1_LSR       (COM1 + 5)
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

void hw_arch_putc(char c)
{
	while (!(inb(COM1_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1, (uint8_t)c);
}

int hw_arch_getc(void)
{
	while (!(inb(COM1_LSR) & LSR_DATA_READY))
		;
	return inb(COM1);
}

/* isa-debug-exit at 0xf4: QEMU exits with (value << 1) | 1. */
#define DEBUG_EXIT     0xf4
#define EXIT_COMPLETED 0x31 /* status 99 */
#define EXIT_CRASHED   0x10 /* status 33 */

_Noreturn void hw_arch_exit(int completed)
{
	outl(DEBUG_EXIT, completed ? EXIT_COMPLETED : EXIT_CRASHED);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- layout --------------------------------------------------------------- */

#ifdef HW_LA57
/* 5-level paging: the windows sit under PML5 entries of their own. */
static struct hw_layout layout = {
	.arch = &pgt_arch_x86_64_la57,
	.name = "x86_64-la57",
	.ram_base = 0,
	.ident_size = 32ull << 20,
	.test_area = 16ull << 20,
	.test_size = 8ull << 20,
	.va_low = 0x0001000000000000ull,  /* PML5 slot 1 */
	.va_high = 0xff00000000000000ull, /* PML5 slot 256: the kernel half */
	.va_far = 0x00e0000000000038ull,  /* PML5 slot 224: no table below */
	.kernel_half = 1ull << 56,
	.walker_sets_accessed = 1,
};
#else
static struct hw_layout layout = {
	.arch = &pgt_arch_x86_64,
	.name = "x86_64",
	.ram_base = 0,
	.ident_size = 32ull << 20,
	.test_area = 16ull << 20,
	.test_size = 8ull << 20,
	.va_low = 0x0000010000000000ull,  /* PML4 slot 2 */
	.va_high = 0xffff800000000000ull, /* PML4 slot 256: the kernel half */
	.va_far = 0x0000700000000038ull,  /* PML4 slot 224: no table below */
	.kernel_half = 1ull << 47,
	.walker_sets_accessed = 1,
};
#endif

const struct hw_layout *hw_arch_layout(void)
{
	return &layout;
}

/* ---- traps ---------------------------------------------------------------- */

/** What trap_common in boot.S pushed, lowest address first. */
struct x86_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU (SDM 6.14.2) */
};

/* Shared with boot.S: where a probe resumes after a trap. */
uint64_t hw_fixup_rip, hw_fixup_rsp, hw_trap_rax;

/** The last trap taken inside a probe. */
static struct {
	int trapped;
	uint64_t vector, error, cr2, rip;
} last;

#define VEC_BREAKPOINT 3
#define VEC_PAGE_FAULT 14
#define SEL_KCODE      0x08
#define SEL_KDATA      0x10

static uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

void hw_x86_trap(struct x86_frame *f);
void hw_x86_trap(struct x86_frame *f)
{
	int from_user = (f->cs & 3) == 3;

	if (!hw_fixup_rip)
		hw_panic("trap %lu error %lx at %lx, cr2 %lx", f->vector, f->error, f->rip, read_cr2());
	/* int3 ends a user probe normally; anything else is what the probe met. */
	last.trapped = !(from_user && f->vector == VEC_BREAKPOINT);
	last.vector = f->vector;
	last.error = f->error;
	last.cr2 = f->vector == VEC_PAGE_FAULT ? read_cr2() : 0;
	last.rip = f->rip;
	hw_trap_rax = f->rax;
	/* Resume in ring 0 at the probe's fixup, which restores its own stack. */
	f->rip = hw_fixup_rip;
	f->cs = SEL_KCODE;
	f->ss = SEL_KDATA;
	f->rsp = hw_fixup_rsp;
	hw_fixup_rip = 0;
}

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes (SDM figure 6-8)");

static struct idt_gate idt[32] __attribute__((aligned(16)));
extern const uint64_t hw_x86_trap_stubs[32];

/* Interrupt gates (type 0xE, present); int3 may be raised from ring 3. */
static void set_gate(unsigned n, uint64_t handler)
{
	unsigned dpl = n == VEC_BREAKPOINT ? 3 : 0;
	idt[n] = (struct idt_gate){ .off_lo = (uint16_t)handler,
				    .sel = SEL_KCODE,
				    .type = (uint8_t)(0x8e | dpl << 5),
				    .off_mid = (uint16_t)(handler >> 16),
				    .off_hi = (uint32_t)(handler >> 32) };
}

/** Points trap @p n at @p handler instead (the SMP kernel's page-fault gate, smp.S). */
void hw_x86_set_trap(unsigned n, uint64_t handler);
void hw_x86_set_trap(unsigned n, uint64_t handler)
{
	set_gate(n, handler);
}

static void load_idt(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} ptr = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };

	for (unsigned n = 0; n < 32; n++)
		set_gate(n, hw_x86_trap_stubs[n]);
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

/* 64-bit TSS (SDM 8.7, figure 8-11): only RSP0 matters, the stack traps from ring 3 use. */
static struct __attribute__((packed)) {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap;
} tss;
static unsigned char trap_stack[16384] __attribute__((aligned(16)));
extern uint64_t hw_x86_gdt_tss[2];
#define SEL_TSS 0x28

static void load_tss(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof tss - 1;

	tss.rsp[0] = (uint64_t)(uintptr_t)(trap_stack + sizeof trap_stack);
	tss.iomap = sizeof tss;
	/* System descriptor (SDM figure 8-4): type 9 = available 64-bit TSS, present. */
	hw_x86_gdt_tss[0] =
		(limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 | ((base >> 24) & 0xff) << 56;
	hw_x86_gdt_tss[1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

/* CPUID.(EAX=7,ECX=0):EBX bit 7 is SMEP; CR4 bit 20 turns it on (SDM 4.6.1). */
static void enable_smep(void)
{
	uint32_t a = 7, b, c = 0, d;
	uint64_t cr4;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	if (!(b & (1u << 7)))
		return;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= 1ull << 20;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	layout.kernel_never_runs_user = 1;
}

void hw_arch_init(void)
{
	load_idt();
	load_tss();
	enable_smep();
}

/* ---- translation ---------------------------------------------------------- */

extern char pvh_start[], boot_stack_top[];

void hw_arch_vital(pgt_vaddr_t out[], unsigned *n)
{
	unsigned i = 0;

	out[i++] = (uintptr_t)pvh_start;
	out[i++] = (uintptr_t)hw_x86_trap;
	out[i++] = (uintptr_t)boot_stack_top - 8;
	out[i++] = (uintptr_t)trap_stack;
	out[i++] = (uintptr_t)idt;
	out[i++] = (uintptr_t)&tss;
	*n = i;
}

int hw_arch_map_devices(pgt_space_t *sp)
{
	(void)sp; /* the console and the exit device are I/O ports */
	return PGT_OK;
}

void hw_arch_switch(pgt_paddr_t root)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(root) : "memory");
}

/* invlpg per page for small ranges; a CR3 reload (no global pages: CR4.PGE is off) otherwise. */
void hw_arch_flush(pgt_vaddr_t va, uint64_t size)
{
	if (size > 64 * 4096) {
		uint64_t cr3;
		__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
		return;
	}
	for (uint64_t off = 0; off < size; off += 4096)
		__asm__ volatile("invlpg (%0)" : : "r"(va + off) : "memory");
}

/* ---- probes --------------------------------------------------------------- */

typedef uint64_t (*probe_fn)(uint64_t, uint64_t);
uint64_t hw_x86_try(probe_fn fn, uint64_t a, uint64_t b);
uint64_t hw_x86_try_user(uint64_t entry, uint64_t a, uint64_t b);
uint64_t hw_x86_load(uint64_t va, uint64_t unused);
uint64_t hw_x86_store(uint64_t va, uint64_t v);
extern const char hw_x86_ret_code[], hw_x86_ret_code_end[];
extern const char hw_x86_user_ret_code[], hw_x86_user_ret_code_end[];
extern const char hw_x86_user_stubs[], hw_x86_user_store[], hw_x86_user_stubs_end[];

static pgt_vaddr_t user_stubs_va;

/* Page-fault error code bits (SDM figure 4-12). */
#define PF_P  (1u << 0)
#define PF_W  (1u << 1)
#define PF_U  (1u << 2)
#define PF_ID (1u << 4)

static void decode(struct hw_fault *f)
{
	*f = (struct hw_fault){ .faulted = last.trapped, .level = -1 };
	if (!last.trapped)
		return;
	f->syndrome = last.error;
	if (last.vector != VEC_PAGE_FAULT) {
		f->kind = 100 + (int)last.vector; /* not a page fault: no case expects it */
		f->addr = last.rip;
		return;
	}
	f->kind = (last.error & PF_P) ? PGT_FAULT_PERMISSION : PGT_FAULT_NOT_PRESENT;
	f->access = (last.error & PF_W) ? PGT_ACC_WRITE : (last.error & PF_ID) ? PGT_ACC_EXEC : PGT_ACC_READ;
	f->access |= (last.error & PF_U) ? PGT_ACC_USER : 0;
	f->addr = last.cr2;
}

static uint64_t user_entry(enum hw_op op, pgt_vaddr_t va)
{
	if (op == HW_EXEC)
		return va;
	if (op == HW_READ)
		return user_stubs_va;
	return user_stubs_va + (uint64_t)(hw_x86_user_store - hw_x86_user_stubs);
}

uint64_t hw_arch_probe(enum hw_op op, int user, pgt_vaddr_t va, uint64_t val, struct hw_fault *f)
{
	uint64_t r;

	last.trapped = 0;
	if (user) {
		if (!user_stubs_va)
			hw_panic("user probe before the stubs were mapped");
		r = hw_x86_try_user(user_entry(op, va), va, val);
	} else {
		probe_fn fn = op == HW_READ ? hw_x86_load : op == HW_WRITE ? hw_x86_store : (probe_fn)va;
		r = hw_x86_try(fn, va, val);
	}
	decode(f);
	return r;
}

const void *hw_arch_ret_code(int user, size_t *len)
{
	if (user) {
		*len = (size_t)(hw_x86_user_ret_code_end - hw_x86_user_ret_code);
		return hw_x86_user_ret_code;
	}
	*len = (size_t)(hw_x86_ret_code_end - hw_x86_ret_code);
	return hw_x86_ret_code;
}

/* x86 keeps instruction fetches coherent with stores (SDM 11.6); a CR3 write or invlpg is not needed. */
void hw_arch_sync_code(void *wva, size_t len)
{
	(void)wva;
	(void)len;
}

const void *hw_arch_user_stubs(size_t *len)
{
	*len = (size_t)(hw_x86_user_stubs_end - hw_x86_user_stubs);
	return hw_x86_user_stubs;
}

void hw_arch_set_user_stubs(pgt_vaddr_t va)
{
	user_stubs_va = va;
}
