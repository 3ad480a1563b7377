/* SPDX-License-Identifier: MIT */
/*
 * x86-64 test kernel: PVH entry, the switch to long mode, trap stubs and
 * the probe trampolines that let a case take a fault and carry on.
 *
 * qemu-system-x86_64 -kernel boots an ELF through PVH when it carries a
 * XEN_ELFNOTE_PHYS32_ENTRY note: 32-bit protected mode, flat segments,
 * paging off (Xen's PVH boot ABI, docs/misc/pvh.pandoc).
 */
#define HW_MAGIC 0x5a17

	.section .note.Xen, "a", @note
	.p2align 2
	.long 4            /* namesz: "Xen\0" */
	.long 8            /* descsz: a 64-bit entry address */
	.long 18           /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.p2align 2
	.quad pvh_start

	.section .text.boot, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	movl $boot_stack_top, %esp
	/* The loader may leave .bss as it was: the boot tables live there. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	cld
	rep stosb
	lgdt gdt_ptr

	/* Boot tables: the first GiB identity-mapped with 2M pages (SDM 4.5). */
#ifdef HW_LA57
	movl $boot_pml4 + 3, boot_pml5          /* P|RW */
#endif
	movl $boot_pdpt + 3, boot_pml4          /* P|RW */
	movl $boot_pd + 3, boot_pdpt
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax                         /* P|RW|PS */
	movl %eax, boot_pd(, %ecx, 8)
	incl %ecx
	cmpl $512, %ecx
	jne 1b

	/* Long mode, SDM 10.8.5: CR4.PAE, CR3, EFER.LME, then CR0.PG. */
	movl %cr4, %eax
	orl $(1 << 5), %eax                     /* PAE */
#ifdef HW_LA57
	orl $(1 << 12), %eax                    /* LA57: settable only while paging is off (SDM 4.1.1) */
	movl %eax, %cr4
	movl $boot_pml5, %eax
#else
	movl %eax, %cr4
	movl $boot_pml4, %eax
#endif
	movl %eax, %cr3
	movl $0xc0000080, %ecx                  /* IA32_EFER */
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax       /* LME; NXE, or bit 63 of an entry is reserved */
	wrmsr
	movl %cr0, %eax
	/* PG; WP, or supervisor stores ignore read-only pages (SDM 4.6.1) */
	orl $((1 << 31) | (1 << 16) | 1), %eax
	/*
	 * No x87 or SSE, whatever the loader left: EM set, MP clear, and CR4's
	 * OSFXSR and OSXMMEXCPT clear make every x87, MMX and SSE instruction
	 * take #UD (SDM 2.5, 13.1), as in a kernel that never enabled them, so
	 * a library built with SIMD registers faults here.
	 */
	orl $(1 << 2), %eax                     /* EM */
	andl $~(1 << 1), %eax                   /* MP */
	movl %eax, %cr0
	movl %cr4, %eax
	andl $~((1 << 9) | (1 << 10)), %eax     /* OSFXSR, OSXMMEXCPT */
	movl %eax, %cr4
	ljmp $0x08, $long_start

	.code64
long_start:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	call hw_main
2:	hlt
	jmp 2b

/*
 * Trap stubs: push a zero where the CPU pushes no error code (SDM table
 * 6-1: 8, 10-14, 17, 21, 29, 30 have one), then the vector number.
 */
	.text
	.macro trap n
	.p2align 4
trap\n:
	.if !(\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	pushq $0
	.endif
	pushq $\n
	jmp trap_common
	.endm

	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	trap \n
	.endr

/* Frame: 15 registers, vector, error code, then what the CPU pushed (struct x86_frame). */
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call hw_x86_trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.section .rodata
	.globl hw_x86_trap_stubs
	.p2align 3
hw_x86_trap_stubs:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad trap\n
	.endr
	.text

/* Saves what the C caller expects kept, and records where a trap resumes. */
	.macro enter_probe fixup
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp                      /* 16-byte aligned for the call below */
	movq %rsp, hw_fixup_rsp(%rip)
	leaq \fixup(%rip), %rax
	movq %rax, hw_fixup_rip(%rip)
	.endm

	.macro leave_probe
	movq $0, hw_fixup_rip(%rip)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
	.endm

/* uint64_t hw_x86_try(uint64_t (*fn)(uint64_t, uint64_t), uint64_t a, uint64_t b): fn(a, b), or 0 after a trap. */
	.globl hw_x86_try
hw_x86_try:
	enter_probe 1f
	movq %rdi, %rax
	movq %rsi, %rdi
	movq %rdx, %rsi
	call *%rax
	leave_probe
1:	movq hw_fixup_rsp(%rip), %rsp      /* the trap handler resumed here */
	xorl %eax, %eax
	leave_probe

/*
 * uint64_t hw_x86_try_user(uint64_t entry, uint64_t a, uint64_t b): runs
 * entry(a, b) at CPL 3. User code ends with int3 (or a fault); the handler
 * leaves its rax in hw_trap_rax and resumes at the fixup in ring 0.
 */
	.globl hw_x86_try_user
hw_x86_try_user:
	enter_probe 1f
	pushq $0x1b                        /* SS: user data, RPL 3 */
	pushq $0                           /* RSP: the stubs use no stack */
	pushq $0x2                         /* RFLAGS: IF clear */
	pushq $0x23                        /* CS: user 64-bit code, RPL 3 */
	pushq %rdi                         /* RIP */
	movq %rsi, %rdi
	movq %rdx, %rsi
	iretq
1:	movq hw_fixup_rsp(%rip), %rsp
	movq hw_trap_rax(%rip), %rax
	leave_probe

	.globl hw_x86_load
hw_x86_load:
	movq (%rdi), %rax
	ret

	.globl hw_x86_store
hw_x86_store:
	movq %rsi, (%rdi)
	ret

/* Copied into test pages: position-independent, each ends its own way. */
	.globl hw_x86_ret_code, hw_x86_ret_code_end
hw_x86_ret_code:
	movl $HW_MAGIC, %eax
	ret
hw_x86_ret_code_end:

	.globl hw_x86_user_ret_code, hw_x86_user_ret_code_end
hw_x86_user_ret_code:
	movl $HW_MAGIC, %eax
	int3
hw_x86_user_ret_code_end:

	.globl hw_x86_user_stubs, hw_x86_user_store, hw_x86_user_stubs_end
hw_x86_user_stubs:                         /* load: rdi = address */
	movq (%rdi), %rax
	int3
hw_x86_user_store:                         /* store: rdi = address, rsi = value */
	movq %rsi, (%rdi)
	int3
hw_x86_user_stubs_end:

	.data
	.p2align 3
gdt:
	.quad 0
	.quad 0x00af9a000000ffff           /* 0x08: kernel code, 64-bit (L=1) */
	.quad 0x00cf92000000ffff           /* 0x10: kernel data */
	.quad 0x00cff2000000ffff           /* 0x18: user data, DPL 3 */
	.quad 0x00affa000000ffff           /* 0x20: user code, 64-bit, DPL 3 */
	.globl hw_x86_gdt_tss
hw_x86_gdt_tss:
	.quad 0, 0                         /* 0x28: TSS, filled in by arch.c */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.p2align 12
boot_pml5: .skip 4096
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd:   .skip 4096
	.p2align 4
	.skip 65536
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
