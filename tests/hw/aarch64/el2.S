/* SPDX-License-Identifier: MIT */
/*
 * AArch64 EL2 test kernel (QEMU -M virt,virtualization=on -kernel enters
 * at EL2 with the MMU off): EL2 exception vectors, the switch into a guest
 * at EL1 and back, and the guest's code. The guest runs one probe per
 * entry and leaves by HVC; a stage-2 abort leaves too: either way
 * el2_run_guest returns to its caller with what EL2 saw in el2_exit.
 */
	.section .text.boot, "ax"
	.globl _start
_start:
	ldr x0, =el2_stack_top
	mov sp, x0
	ldr x0, =__bss_start        /* the loader leaves .bss as it was */
	ldr x1, =__bss_end
1:	cmp x0, x1
	b.hs 2f
	str xzr, [x0], #8
	b 1b
2:	ldr x0, =el2_vectors
	msr vbar_el2, x0
	isb
	bl el2_main
3:	wfe
	b 3b

/*
 * EL2 vector table (Arm ARM D1.10.2): 16 entries of 0x80 bytes. Entries
 * 0-7 are exceptions taken from EL2 itself (a bug: el2_host_trap panics),
 * 8 (offset 0x400) a synchronous exception from the guest at EL1: HVC or
 * a stage-2 abort. The rest (guest IRQs, SErrors) never happen here.
 */
	.macro host_vector idx
	.p2align 7
	mov x0, #\idx
	mrs x1, esr_el2
	mrs x2, elr_el2
	mrs x3, far_el2
	b el2_host_trap
	.endm

	.text
	.p2align 11
	.globl el2_vectors
el2_vectors:
	.irp i, 0,1,2,3,4,5,6,7
	host_vector \i
	.endr
	.p2align 7
	b guest_exit
	.irp i, 9,10,11,12,13,14,15
	host_vector \i
	.endr

/* Records the exit (ESR_EL2, FAR_EL2, HPFAR_EL2, the guest's x0, ELR_EL2), then returns from el2_run_guest. */
guest_exit:
	ldr x9, =el2_exit
	mrs x10, esr_el2
	str x10, [x9, #0]
	mrs x10, far_el2
	str x10, [x9, #8]
	mrs x10, hpfar_el2
	str x10, [x9, #16]
	str x0, [x9, #24]
	mrs x10, elr_el2
	str x10, [x9, #32]
	ldr x9, =el2_host_sp
	ldr x9, [x9]
	mov sp, x9
	ldp x19, x20, [sp, #16]
	ldp x21, x22, [sp, #32]
	ldp x23, x24, [sp, #48]
	ldp x25, x26, [sp, #64]
	ldp x27, x28, [sp, #80]
	ldp x29, x30, [sp], #96
	ldr x0, =el2_exit
	ldr x0, [x0, #24]
	ret

/*
 * uint64_t el2_run_guest(uint64_t entry, uint64_t a0, uint64_t a1, uint64_t
 * spsr): enters the guest at @entry in the mode @spsr names (EL1h or EL0t,
 * DAIF masked) with x0 = a0, x1 = a1; returns the guest's x0 when it next
 * leaves (el2_exit says how).
 */
	.globl el2_run_guest
el2_run_guest:
	stp x29, x30, [sp, #-96]!
	stp x19, x20, [sp, #16]
	stp x21, x22, [sp, #32]
	stp x23, x24, [sp, #48]
	stp x25, x26, [sp, #64]
	stp x27, x28, [sp, #80]
	ldr x9, =el2_host_sp
	mov x10, sp
	str x10, [x9]
	msr elr_el2, x0
	msr spsr_el2, x3
	mov x0, x1
	mov x1, x2
	eret

/* ---- the guest: probes, each one access and HVC #0 -------------------------- */

	.globl guest_load, guest_store, guest_exec, guest_vectors
guest_load:                         /* x0: address */
	ldr x0, [x0]
	hvc #0
guest_store:                        /* x0: address, x1: value */
	str x1, [x0]
	mov x0, #0
	hvc #0
guest_exec:                         /* x0: code that returns a value in x0 */
	blr x0
	hvc #0

/* Runs the guest kernel's C function x0 with argument x1 on the guest's stack (SP_EL1), then leaves. */
	.globl guest_call
guest_call:
	mov x9, x0
	mov x0, x1
	blr x9
	hvc #0

/* The same at EL0, which has no HVC: SVC to the guest's EL1 vectors, which leave by HVC #1. */
	.globl guest_load_el0, guest_exec_el0
guest_load_el0:
	ldr x0, [x0]
	svc #0
guest_exec_el0:
	blr x0
	svc #0

/* VBAR_EL1: any exception the guest takes itself (a stage-1 fault) leaves by HVC #1. */
	.p2align 11
guest_vectors:
	.rept 16
	.p2align 7
	hvc #1
	.endr

/* Copied into test pages: returns 0x5a17. */
	.globl guest_ret_code, guest_ret_code_end
guest_ret_code:
	mov w0, #0x5a17
	ret
guest_ret_code_end:

	.ltorg

	.bss
	.p2align 4
	.skip 65536
	.globl el2_stack_top
el2_stack_top:

	.section .note.GNU-stack, "", @progbits
