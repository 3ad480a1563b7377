/* SPDX-License-Identifier: MIT */
/*
 * RISC-V test kernel: entry in M-mode at the start of RAM (QEMU -M virt
 * -bios none), the drop to S-mode, the trap entries of both modes, and the
 * probe trampolines that let a case take a fault in S- or U-mode and carry
 * on at a fixup (RISC-V privileged specification 20211203: 3.1 machine
 * CSRs, 3.7 PMP, 4.1 supervisor CSRs).
 */
#define HW_MAGIC 0x5a17
#define FRAME    256 /* struct rv_frame in arch.c: x1-x31, sepc */

/* mstatus fields (privileged spec 3.1.6). */
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_MPP   (3 << 11)
/* sstatus fields (4.1.1). */
#define SSTATUS_SPP (1 << 8)
#define SSTATUS_SPIE (1 << 5)
/* pmpcfg: R, W, X and A = NAPOT (3.7.1). */
#define PMPCFG_NAPOT_RWX 0x1f

	.section .text.boot, "ax"
	.globl _start
_start:
	/* Only hart 0 runs the kernel (-smp 1 anyway). */
	csrr t0, mhartid
	bnez t0, park
	la t0, hw_rv_mtrap_entry
	csrw mtvec, t0
	la sp, boot_stack_top
	la t0, mtrap_stack_top
	csrw mscratch, t0
	/* The loader leaves .bss as it was. */
	la t0, __bss_start
	la t1, __bss_end
1:	bgeu t0, t1, 2f
	sd zero, 0(t0)
	addi t0, t0, 8
	j 1b
	/* S- and U-mode may reach all of physical memory: one PMP entry, NAPOT over everything. */
2:	li t0, -1
	csrw pmpaddr0, t0
	li t0, PMPCFG_NAPOT_RWX
	csrw pmpcfg0, t0
	/* Exceptions, delegation and menvcfg are chosen in C (hw_rv_machine_setup). */
	call hw_rv_machine_setup
	/* mret to S-mode with translation off, interrupts off, FP off (mstatus.FS 0). */
	csrw satp, zero
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, MSTATUS_MPP_S
	csrs mstatus, t0
	la t0, supervisor_start
	csrw mepc, t0
	mret

supervisor_start:
	la t0, hw_rv_strap_entry
	csrw stvec, t0
	la t0, strap_stack_top
	csrw sscratch, t0
	call hw_main
park:
	wfi
	j park

/*
 * M-mode traps: an exit request (ecall from S or M, a0 the status) or an
 * unexpected trap. Neither returns: C reports and stops QEMU.
 */
	.p2align 2
	.globl hw_rv_mtrap_entry
hw_rv_mtrap_entry:
	csrr sp, mscratch
	mv a1, a0
	csrr a0, mcause
	call hw_rv_mtrap
1:	wfi
	j 1b

/*
 * S-mode traps, from S or U: the trap stack's top lives in sscratch, so a
 * user probe's sp is never used. Saves x1-x31 and sepc, lets C decide where
 * to resume, and returns there with sret.
 */
	.p2align 2
	.globl hw_rv_strap_entry
hw_rv_strap_entry:
	csrrw sp, sscratch, sp
	addi sp, sp, -FRAME
	sd x1, 0(sp)
	.irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	sd x\n, ((\n - 1) * 8)(sp)
	.endr
	csrr t0, sscratch               /* the interrupted sp */
	sd t0, 8(sp)
	csrr t0, sepc
	sd t0, 248(sp)
	mv a0, sp
	call hw_rv_strap
	ld t0, 248(sp)
	csrw sepc, t0
	ld t0, 8(sp)                    /* the interrupted sp goes back to sscratch ... */
	csrw sscratch, t0
	ld x1, 0(sp)
	.irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ld x\n, ((\n - 1) * 8)(sp)
	.endr
	addi sp, sp, FRAME
	csrrw sp, sscratch, sp          /* ... and is swapped with the trap stack's top */
	sret

/* Saves what the C caller expects kept, and records where a trap resumes. */
	.macro enter_probe fixup
	addi sp, sp, -112
	sd ra, 0(sp)
	sd s0, 8(sp)
	sd s1, 16(sp)
	sd s2, 24(sp)
	sd s3, 32(sp)
	sd s4, 40(sp)
	sd s5, 48(sp)
	sd s6, 56(sp)
	sd s7, 64(sp)
	sd s8, 72(sp)
	sd s9, 80(sp)
	sd s10, 88(sp)
	sd s11, 96(sp)
	la t0, hw_fixup_sp
	sd sp, 0(t0)
	la t0, hw_fixup_pc
	la t1, \fixup
	sd t1, 0(t0)
	.endm

	.macro leave_probe
	la t0, hw_fixup_pc
	sd zero, 0(t0)
	ld ra, 0(sp)
	ld s0, 8(sp)
	ld s1, 16(sp)
	ld s2, 24(sp)
	ld s3, 32(sp)
	ld s4, 40(sp)
	ld s5, 48(sp)
	ld s6, 56(sp)
	ld s7, 64(sp)
	ld s8, 72(sp)
	ld s9, 80(sp)
	ld s10, 88(sp)
	ld s11, 96(sp)
	addi sp, sp, 112
	ret
	.endm

	.text
/* uint64_t hw_rv_try(uint64_t (*fn)(uint64_t, uint64_t), uint64_t a, uint64_t b): fn(a, b), or 0 after a trap. */
	.globl hw_rv_try
hw_rv_try:
	enter_probe 1f
	mv t2, a0
	mv a0, a1
	mv a1, a2
	jalr t2
	leave_probe
1:	la t0, hw_fixup_sp              /* the trap handler resumed here */
	ld sp, 0(t0)
	li a0, 0
	leave_probe

/*
 * uint64_t hw_rv_try_user(uint64_t entry, uint64_t a, uint64_t b): runs
 * entry(a, b) in U-mode. User code ends with ecall (or a fault); the
 * handler leaves its a0 in hw_trap_a0 and resumes at the fixup in S-mode.
 */
	.globl hw_rv_try_user
hw_rv_try_user:
	enter_probe 1f
	csrw sepc, a0
	li t0, SSTATUS_SPP | SSTATUS_SPIE  /* to U-mode, interrupts stay off */
	csrc sstatus, t0
	mv a0, a1
	mv a1, a2
	li sp, 0                        /* the stubs use no stack */
	sret
1:	la t0, hw_fixup_sp
	ld sp, 0(t0)
	la t0, hw_trap_a0
	ld a0, 0(t0)
	leave_probe

#ifdef HW_HS
/*
 * uint64_t hw_rv_try_guest(uint64_t entry, uint64_t a, uint64_t b): runs
 * entry(a, b) in VS-mode (hstatus.SPV = 1 and sstatus.SPP = 1 make sret
 * enter V = 1, privileged spec 8.2.1 and 8.6.4). Guest code ends with
 * ecall (or a fault); the HS trap handler leaves its a0 in hw_trap_a0,
 * clears SPV and resumes at the fixup in HS-mode.
 */
#define CSR_HSTATUS 0x600
#define HSTATUS_SPV (1 << 7)
	.globl hw_rv_try_guest
hw_rv_try_guest:
	enter_probe 1f
	csrw sepc, a0
	li t0, SSTATUS_SPP
	csrs sstatus, t0
	li t0, SSTATUS_SPIE
	csrc sstatus, t0
	li t0, HSTATUS_SPV
	csrs CSR_HSTATUS, t0
	mv a0, a1
	mv a1, a2
	li sp, 0                        /* the guest stubs use no stack */
	sret
1:	la t0, hw_fixup_sp
	ld sp, 0(t0)
	la t0, hw_trap_a0
	ld a0, 0(t0)
	leave_probe
#endif

	.globl hw_rv_load
hw_rv_load:
	ld a0, 0(a0)
	ret

	.globl hw_rv_store
hw_rv_store:
	sd a1, 0(a0)
	ret

/* Copied into test pages: position-independent, each ends its own way. */
	.globl hw_rv_ret_code, hw_rv_ret_code_end
hw_rv_ret_code:
	li a0, HW_MAGIC
	ret
hw_rv_ret_code_end:

	.globl hw_rv_user_ret_code, hw_rv_user_ret_code_end
hw_rv_user_ret_code:
	li a0, HW_MAGIC
	ecall
hw_rv_user_ret_code_end:

	.globl hw_rv_user_stubs, hw_rv_user_store, hw_rv_user_stubs_end
hw_rv_user_stubs:                   /* load: a0 = address */
	ld a0, 0(a0)
	ecall
hw_rv_user_store:                   /* store: a0 = address, a1 = value */
	sd a1, 0(a0)
	ecall
hw_rv_user_stubs_end:

	.bss
	.p2align 4
	.skip 65536
	.globl boot_stack_top
boot_stack_top:
	.skip 16384
	.globl strap_stack_top
strap_stack_top:
	.skip 16384
mtrap_stack_top:

	.section .note.GNU-stack, "", @progbits
