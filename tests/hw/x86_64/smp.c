/* SPDX-License-Identifier: MIT */
/*
 * x86-64 SMP kernel: starts the second CPU (the AP) with the local APIC's
 * INIT-SIPI-SIPI sequence (Intel SDM vol. 3A, "MP Initialization Example",
 * 9.4.4, and "Issuing Interprocessor Interrupts", 11.6; 8.4.4 and 10.6 in
 * editions before the User Interrupts chapter) on the trampoline of smp.S,
 * and reads the wall clock for the case's time budget.
 */
#include "../kernel.h"

/* The trampoline (smp.S): its copy goes to HW_AP_BASE, whose page number is the startup vector. */
#define HW_AP_BASE 0x8000
extern const char hw_x86_ap_tramp[], hw_x86_ap_tramp_end[];
extern char hw_x86_ap_cr3[], hw_x86_ap_stack[], hw_x86_ap_entry[];
extern const char hw_x86_store_fault_gate[];
void hw_x86_set_trap(unsigned n, uint64_t handler);

/* Local APIC registers, xAPIC mode, at the default base (SDM 11.4.1, table 11-1). */
#define LAPIC_BASE      0xfee00000u
#define LAPIC_SVR       0x0f0
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
/* ICR fields (SDM 11.6.1, figure 11-12). */
#define ICR_INIT        (5u << 8)  /* delivery mode 101 */
#define ICR_STARTUP     (6u << 8)  /* delivery mode 110; the vector is the start page */
#define ICR_PENDING     (1u << 12) /* delivery status: the IPI is not sent yet */
#define ICR_ASSERT      (1u << 14) /* level: assert (INIT and SIPI need it) */
#define ICR_ALL_BUT_ME  (3u << 18) /* shorthand: all excluding self, so no APIC ID is needed */
#define SVR_APIC_ENABLE (1u << 8)

static volatile uint32_t *lapic(unsigned reg)
{
	return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

/* About a microsecond per write on a PC (the POST port), and harmless under QEMU. */
static void io_delay(unsigned n)
{
	while (n--)
		__asm__ volatile("outb %%al, $0x80" : : "a"(0));
}

static int send_ipi(uint32_t icr)
{
	*lapic(LAPIC_ICR_HI) = 0; /* destination unused with a shorthand */
	*lapic(LAPIC_ICR_LO) = icr;
	for (unsigned spins = 0; spins < 1000000; spins++)
		if (!(*lapic(LAPIC_ICR_LO) & ICR_PENDING))
			return PGT_OK;
	return PGT_EFAULT;
}

/* ---- the second CPU's side -------------------------------------------------- */

static void (*ap_fn)(void);
static int ap_up;
static unsigned char ap_stack[16384] __attribute__((aligned(16)));
/* The first CPU's IDT, which the second loads too: same gates, same selectors. */
static struct __attribute__((packed)) {
	uint16_t limit;
	uint64_t base;
} idtr;

/** Called by the trampoline in long mode on ap_stack; never returns. */
_Noreturn void hw_x86_ap_main(void);
_Noreturn void hw_x86_ap_main(void)
{
	__asm__ volatile("lidt %0" : : "m"(idtr));
	__atomic_store_n(&ap_up, 1, __ATOMIC_RELEASE);
	ap_fn();
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- the first CPU's side ---------------------------------------------------- */

/** The local APIC's page, uncached, at its own address: the IPIs go through it. */
static int map_lapic(void)
{
	unsigned prot = PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_UNCACHED;

	if (pgt_lookup(hw_active, LAPIC_BASE, NULL) == PGT_OK)
		return PGT_OK;
	int rc = pgt_map(hw_active, LAPIC_BASE, LAPIC_BASE, 4096, prot, 0);
	if (rc == PGT_OK)
		hw_record(hw_active, LAPIC_BASE, LAPIC_BASE, 4096, prot);
	return rc;
}

/** The trampoline copied below 1 MiB with the active tables, the stack and the entry filled in. */
static void place_trampoline(void)
{
	char *copy = (char *)(uintptr_t)HW_AP_BASE; /* identity-mapped */
	uint64_t cr3 = pgt_space_root(hw_active), stack = (uintptr_t)(ap_stack + sizeof ap_stack);
	uint64_t entry = (uintptr_t)hw_x86_ap_main;

	memcpy(copy, hw_x86_ap_tramp, (size_t)(hw_x86_ap_tramp_end - hw_x86_ap_tramp));
	memcpy(copy + (hw_x86_ap_cr3 - hw_x86_ap_tramp), &cr3, 8);
	memcpy(copy + (hw_x86_ap_stack - hw_x86_ap_tramp), &stack, 8);
	memcpy(copy + (hw_x86_ap_entry - hw_x86_ap_tramp), &entry, 8);
}

int hw_arch_start_cpu(void (*fn)(void))
{
	int rc = map_lapic();

	if (rc != PGT_OK)
		return rc;
	/* Both CPUs' stores to pages may fault: the gate resumes hw_arch_try_store. */
	hw_x86_set_trap(14, (uintptr_t)hw_x86_store_fault_gate);
	__asm__ volatile("sidt %0" : "=m"(idtr));
	ap_fn = fn;
	place_trampoline();
	*lapic(LAPIC_SVR) |= SVR_APIC_ENABLE;
	/* INIT, 10 ms, then two startup IPIs 200 us apart (SDM 9.4.4.1). */
	rc = send_ipi(ICR_ALL_BUT_ME | ICR_ASSERT | ICR_INIT);
	io_delay(10000);
	for (unsigned i = 0; i < 2 && rc == PGT_OK; i++) {
		rc = send_ipi(ICR_ALL_BUT_ME | ICR_ASSERT | ICR_STARTUP | (HW_AP_BASE >> 12));
		io_delay(200);
	}
	for (unsigned long spins = 0; rc == PGT_OK && !__atomic_load_n(&ap_up, __ATOMIC_ACQUIRE); spins++)
		if (spins > 100000000ul)
			rc = PGT_EFAULT;
	return rc;
}

/* ---- wall clock ------------------------------------------------------------------ */

/* The CMOS real-time clock (MC146818): index port, data port, registers. */
#define RTC_INDEX    0x70
#define RTC_DATA     0x71
#define RTC_SECONDS  0x00
#define RTC_MINUTES  0x02
#define RTC_STATUS_A 0x0a
#define RTC_UPDATING 0x80 /* status A: the registers are being updated, do not read them */
#define RTC_STATUS_B 0x0b
#define RTC_BINARY   0x04 /* status B: binary, not BCD */

static unsigned rtc_read(unsigned reg)
{
	unsigned v;

	__asm__ volatile("outb %%al, %1" : : "a"((uint8_t)reg), "Nd"((uint16_t)RTC_INDEX));
	__asm__ volatile("inb %1, %%al" : "=a"(v) : "Nd"((uint16_t)RTC_DATA));
	return v & 0xff;
}

static unsigned rtc_value(unsigned reg)
{
	unsigned v = rtc_read(reg);

	return (rtc_read(RTC_STATUS_B) & RTC_BINARY) ? v : (v >> 4) * 10 + (v & 15);
}

/* QEMU's clock follows the host's; an hour is enough to tell elapsed seconds. */
unsigned hw_arch_seconds(void)
{
	while (rtc_read(RTC_STATUS_A) & RTC_UPDATING)
		;
	return rtc_value(RTC_MINUTES) * 60 + rtc_value(RTC_SECONDS);
}
