/* SPDX-License-Identifier: MIT */
/*
 * AArch64 test kernel: entry at EL1 with the MMU off (QEMU -M virt -kernel
 * with an ELF), exception vectors, and the probe trampolines that let a
 * case take a fault at EL1 or EL0 and carry on at a fixup.
 */
#define HW_MAGIC 0x5a17
#define FRAME 272 /* struct arm_frame in arch.c: x0-x30, elr, spsr, vector */

	.section .text.boot, "ax"
	.globl _start
_start:
	ldr x0, =boot_stack_top
	mov sp, x0
	/*
	 * CPACR_EL1.FPEN 0: FP/SIMD instructions trap (Arm ARM D17.2.30), as in a
	 * kernel that never enabled them, so a library built with FP/SIMD
	 * registers faults here.
	 */
	msr cpacr_el1, xzr
	isb
	ldr x0, =__bss_start        /* the loader leaves .bss as it was */
	ldr x1, =__bss_end
1:	cmp x0, x1
	b.hs 2f
	str xzr, [x0], #8
	b 1b
2:	ldr x0, =hw_arm_vectors
	msr vbar_el1, x0
	isb
	bl hw_main
3:	wfe
	b 3b

/*
 * Vector table (Arm ARM D1.10.2): 16 entries of 0x80 bytes, 2K-aligned.
 * Each saves x0/x1, puts its index in x0 and joins trap_common.
 */
	.macro vector idx
	.p2align 7
	sub sp, sp, #FRAME
	stp x0, x1, [sp, #0]
	mov x0, #\idx
	b trap_common
	.endm

	.text
	.p2align 11
	.globl hw_arm_vectors
hw_arm_vectors:
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vector \i
	.endr

trap_common:
	stp x2, x3, [sp, #16]
	stp x4, x5, [sp, #32]
	stp x6, x7, [sp, #48]
	stp x8, x9, [sp, #64]
	stp x10, x11, [sp, #80]
	stp x12, x13, [sp, #96]
	stp x14, x15, [sp, #112]
	stp x16, x17, [sp, #128]
	stp x18, x19, [sp, #144]
	stp x20, x21, [sp, #160]
	stp x22, x23, [sp, #176]
	stp x24, x25, [sp, #192]
	stp x26, x27, [sp, #208]
	stp x28, x29, [sp, #224]
	str x30, [sp, #240]
	mrs x1, elr_el1
	mrs x2, spsr_el1
	stp x1, x2, [sp, #248]
	str x0, [sp, #264]
	mov x0, sp
	bl hw_arm_trap
	ldp x1, x2, [sp, #248]
	msr elr_el1, x1
	msr spsr_el1, x2
	ldp x2, x3, [sp, #16]
	ldp x4, x5, [sp, #32]
	ldp x6, x7, [sp, #48]
	ldp x8, x9, [sp, #64]
	ldp x10, x11, [sp, #80]
	ldp x12, x13, [sp, #96]
	ldp x14, x15, [sp, #112]
	ldp x16, x17, [sp, #128]
	ldp x18, x19, [sp, #144]
	ldp x20, x21, [sp, #160]
	ldp x22, x23, [sp, #176]
	ldp x24, x25, [sp, #192]
	ldp x26, x27, [sp, #208]
	ldp x28, x29, [sp, #224]
	ldr x30, [sp, #240]
	ldp x0, x1, [sp, #0]
	add sp, sp, #FRAME
	eret

/* Saves what the C caller expects kept, and records where a trap resumes. */
	.macro enter_probe fixup
	stp x29, x30, [sp, #-96]!
	stp x19, x20, [sp, #16]
	stp x21, x22, [sp, #32]
	stp x23, x24, [sp, #48]
	stp x25, x26, [sp, #64]
	stp x27, x28, [sp, #80]
	mov x29, sp
	ldr x9, =hw_fixup_sp
	mov x10, sp
	str x10, [x9]
	ldr x9, =hw_fixup_pc
	adr x10, \fixup
	str x10, [x9]
	.endm

	.macro leave_probe
	ldr x9, =hw_fixup_pc
	str xzr, [x9]
	ldp x19, x20, [sp, #16]
	ldp x21, x22, [sp, #32]
	ldp x23, x24, [sp, #48]
	ldp x25, x26, [sp, #64]
	ldp x27, x28, [sp, #80]
	ldp x29, x30, [sp], #96
	ret
	.endm

/* uint64_t hw_arm_try(uint64_t (*fn)(uint64_t, uint64_t), uint64_t a, uint64_t b): fn(a, b), or 0 after a trap. */
	.globl hw_arm_try
hw_arm_try:
	enter_probe 1f
	mov x9, x0
	mov x0, x1
	mov x1, x2
	blr x9
	leave_probe
1:	ldr x9, =hw_fixup_sp        /* the trap handler resumed here */
	ldr x9, [x9]
	mov sp, x9
	mov x0, #0
	leave_probe

/*
 * uint64_t hw_arm_try_user(uint64_t entry, uint64_t a, uint64_t b): runs
 * entry(a, b) at EL0. User code ends with svc (or a fault); the handler
 * leaves its x0 in hw_trap_x0 and returns to the fixup at EL1.
 */
	.globl hw_arm_try_user
hw_arm_try_user:
	enter_probe 1f
	msr elr_el1, x0
	mov x9, #0x3c0              /* SPSR: EL0t, DAIF masked */
	msr spsr_el1, x9
	msr sp_el0, xzr             /* the stubs use no stack */
	mov x0, x1
	mov x1, x2
	eret
1:	ldr x9, =hw_fixup_sp
	ldr x9, [x9]
	mov sp, x9
	ldr x0, =hw_trap_x0
	ldr x0, [x0]
	leave_probe

	.globl hw_arm_load
hw_arm_load:
	ldr x0, [x0]
	ret

	.globl hw_arm_store
hw_arm_store:
	str x1, [x0]
	ret

/* Copied into test pages: position-independent, each ends its own way. */
	.globl hw_arm_ret_code, hw_arm_ret_code_end
hw_arm_ret_code:
	mov w0, #HW_MAGIC
	ret
hw_arm_ret_code_end:

	.globl hw_arm_user_ret_code, hw_arm_user_ret_code_end
hw_arm_user_ret_code:
	mov w0, #HW_MAGIC
	svc #0
hw_arm_user_ret_code_end:

	.globl hw_arm_user_stubs, hw_arm_user_store, hw_arm_user_stubs_end
hw_arm_user_stubs:                  /* load: x0 = address */
	ldr x0, [x0]
	svc #0
hw_arm_user_store:                  /* store: x0 = address, x1 = value */
	str x1, [x0]
	svc #0
hw_arm_user_stubs_end:

	.ltorg

	.bss
	.p2align 4
	.skip 65536
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
