/* SPDX-License-Identifier: MIT */
/*
 * x86-64 SMP kernel, second CPU: the real-mode trampoline a startup IPI
 * starts it in, its page-fault path, and the store it probes pages with.
 *
 * A startup IPI starts the CPU in real mode at CS:IP = (vector << 8):0
 * (Intel SDM vol. 3A, "MP Initialization Example", 9.4.4; 8.4.4 in
 * editions before the User Interrupts chapter), so the trampoline is
 * copied to a page below 1 MiB (HW_AP_BASE) and its absolute addresses
 * are computed from there. It goes to protected mode, then long mode with
 * the tables the first CPU is using, and calls the C entry on its own stack.
 */
#define HW_AP_BASE 0x8000
/* Where the copy at HW_AP_BASE holds label @x. */
#define AT(x) (HW_AP_BASE + (x) - hw_x86_ap_tramp)

	.text
	.globl hw_x86_ap_tramp, hw_x86_ap_tramp_end, hw_x86_ap_cr3, hw_x86_ap_stack, hw_x86_ap_entry
	.code16
hw_x86_ap_tramp:
	cli
	cld
	/* DS = 0: the copy's absolute addresses are below 64K. */
	xorw %ax, %ax
	movw %ax, %ds
	/* Protected mode (SDM 10.9.1): a GDT with a 32-bit code segment, CR0.PE, a far jump. */
	lgdtl AT(ap_gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax                            /* PE */
	movl %eax, %cr0
	ljmpl $0x18, $AT(ap_prot)

	.code32
ap_prot:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	/* Long mode as on the first CPU (SDM 10.8.5): PAE, CR3, EFER.LME and NXE, then CR0.PG. */
	movl %cr4, %eax
	orl $(1 << 5), %eax                     /* PAE */
	movl %eax, %cr4
	movl AT(hw_x86_ap_cr3), %eax            /* the active space's root: in the kernel image, below 4G */
	movl %eax, %cr3
	movl $0xc0000080, %ecx                  /* IA32_EFER */
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax       /* LME; NXE, or bit 63 of a leaf is reserved */
	wrmsr
	movl %cr0, %eax
	/* PG; WP, or this CPU's stores would ignore read-only pages (SDM 4.6.1): the case needs them to fault */
	orl $((1 << 31) | (1 << 16)), %eax
	movl %eax, %cr0
	/* The trampoline page is identity-mapped in those tables, so the fetch after PG works. */
	ljmp $0x08, $AT(ap_long)

	.code64
ap_long:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	/* Position-independent from here: the copy's own fields. */
	movq hw_x86_ap_stack(%rip), %rsp
	movq hw_x86_ap_entry(%rip), %rax
	call *%rax
1:	cli
	hlt
	jmp 1b

	.p2align 3
	/* Selectors as in the kernel's GDT (0x08 64-bit code, 0x10 data), so its trap gates work here. */
ap_gdt:
	.quad 0
	.quad 0x00af9a000000ffff                /* 0x08: code, 64-bit (L=1) */
	.quad 0x00cf92000000ffff                /* 0x10: data, flat */
	.quad 0x00cf9a000000ffff                /* 0x18: code, 32-bit (D=1), for the step through protected mode */
ap_gdt_end:
ap_gdt_ptr:
	.word ap_gdt_end - ap_gdt - 1
	.long AT(ap_gdt)
	/* Filled in by the first CPU in the copy. */
	.p2align 3
hw_x86_ap_cr3:   .quad 0
hw_x86_ap_stack: .quad 0
hw_x86_ap_entry: .quad 0
hw_x86_ap_tramp_end:

/*
 * uint64_t hw_arch_try_store(uint64_t va, uint64_t v): stores v at va after
 * dropping this CPU's own translation of va, so the store walks the live
 * tables (nobody shoots down the second CPU's TLB). Returns 0 when the
 * store completed, else bit 32 | the page fault's error code.
 */
	.globl hw_arch_try_store
hw_arch_try_store:
	invlpg (%rdi)
	xorl %eax, %eax
ap_store_at:
	movq %rsi, (%rdi)
ap_store_resume:
	ret

/*
 * The SMP kernel's page-fault gate, on both CPUs: a fault of the store
 * above resumes after it with the error code in rax; any other goes on to
 * the common trap path (the probes' fixups, or a report that stops the
 * machine). The store needs no state shared between the CPUs.
 */
	.globl hw_x86_store_fault_gate
hw_x86_store_fault_gate:
	cmpq $ap_store_at, 8(%rsp)              /* error code, then RIP (SDM 6.14.2) */
	jne 1f
	popq %rax
	btsq $32, %rax
	movq $ap_store_resume, (%rsp)
	iretq
1:	jmpq *hw_x86_trap_stubs + 14 * 8

	.section .note.GNU-stack, "", @progbits
