/* SPDX-License-Identifier: MIT */
/*
 * hypervisor: the memory side of a small hypervisor. It builds a guest's
 * second-stage map (RAM, a read-only boot ROM, a passed-through device
 * window; an emulated UART left unmapped so that its accesses trap), lets
 * the "guest kernel" build its own first-stage tables inside guest RAM,
 * then replays the guest's accesses as the MMU would with both stages on
 * (pgt_translate_nested over a pgt_space_view of the guest's tables) and
 * handles every fault as a hypervisor does: an access to the UART is
 * emulated from the guest-physical address the fault reports, a write to
 * the ROM is dropped, a stage-1 fault goes back to the guest.
 *
 * It runs once per pair of formats: ARMv8 stage 2 under an ARMv8 guest,
 * the RISC-V G-stage under an Sv39 guest, Intel EPT and AMD nested paging
 * (an ordinary x86-64 space whose leaves all carry PGT_PROT_USER) under an
 * x86-64 guest. Every outcome is checked against what the map says.
 *
 * Build it on its own with:
 *     cc -std=c11 -o hypervisor hypervisor.c $(pkg-config --cflags --libs pgtable)
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

/* ------------------------------------------------------------------------ */
/* The machine the guest sees (guest-physical addresses).                    */

#define ROM_GPA     0x00000000ull /* boot ROM: read and execute */
#define ROM_SIZE    0x10000ull
#define UART_GPA    0x09000000ull /* emulated: never mapped, every access traps */
#define DEV_GPA     0x0a000000ull /* passed through to a host device, uncached */
#define DEV_HPA     0xfe000000ull
#define DEV_SIZE    0x10000ull
#define RAM_GPA     0x40000000ull
#define RAM_SIZE    (8ull << 20)
#define GUEST_PT    (RAM_GPA + (4ull << 20)) /* the guest kernel's table frames */

/** The virtual machine: its RAM (host memory) and the hypervisor's view of it. */
struct vm {
	unsigned char *ram;    /**< RAM_SIZE bytes of host memory */
	unsigned char *rom;    /**< ROM_SIZE bytes of host memory */
	pgt_space_t stage2;    /**< guest-physical to host-physical */
	pgt_paddr_t guest_pt;  /**< the guest kernel's frame allocator (bump) */
	char uart_out[64];
	unsigned uart_len;
};

/* Host-physical addresses here are host pointers (p2v_offset 0), the usual case in a user-space VMM. */
static pgt_paddr_t host_pa(const void *p)
{
	return (pgt_paddr_t)(uintptr_t)p;
}

static pgt_paddr_t host_alloc(void *ctx, size_t size, unsigned level)
{
	void *p = NULL;

	(void)ctx;
	(void)level;
	if (posix_memalign(&p, size, size) != 0)
		return PGT_PADDR_NONE;
	return host_pa(p);
}

static void host_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)ctx;
	(void)size;
	(void)level;
	free((void *)(uintptr_t)pa);
}

/* ------------------------------------------------------------------------ */
/* The guest kernel: it builds its own page tables in its RAM.              */

static pgt_paddr_t guest_alloc(void *ctx, size_t size, unsigned level)
{
	struct vm *vm = ctx;
	pgt_paddr_t gpa = (vm->guest_pt + size - 1) & ~(pgt_paddr_t)(size - 1);

	(void)level;
	if (gpa + size > RAM_GPA + RAM_SIZE)
		return PGT_PADDR_NONE;
	vm->guest_pt = gpa + size;
	return gpa;
}

static void guest_free(void *ctx, pgt_paddr_t gpa, size_t size, unsigned level)
{
	(void)ctx;
	(void)gpa;
	(void)size;
	(void)level;
}

/** The guest's own view of its memory: guest-physical RAM to a pointer, nothing else. */
static void *guest_p2v(void *ctx, pgt_paddr_t gpa)
{
	struct vm *vm = ctx;

	if (gpa < RAM_GPA || gpa >= RAM_GPA + RAM_SIZE)
		return NULL;
	return vm->ram + (gpa - RAM_GPA);
}

/* The guest's virtual layout. */
#define G_TEXT  0x400000ull   /* kernel text, in RAM */
#define G_DATA  0x600000ull   /* kernel data, in RAM */
#define G_ROM   0x800000ull   /* the ROM, mapped writable by a careless guest */
#define G_UART  0xa00000ull   /* the UART */
#define G_DEV   0xc00000ull   /* the passed-through device */
#define G_HOLE  0xe00000ull   /* nothing */

/** The guest kernel maps its text, data, the ROM, the UART and the device; returns its root. */
static pgt_paddr_t guest_boot(struct vm *vm, const struct pgt_arch *arch, pgt_space_t *guest)
{
	const struct pgt_mm mm = { .alloc_table = guest_alloc, .free_table = guest_free, .p2v = guest_p2v, .ctx = vm };
	const unsigned r = PGT_PROT_READ, w = PGT_PROT_WRITE, x = PGT_PROT_EXEC;
	const uint64_t page = 1ull << arch->level[0].shift;
	int rc = pgt_space_init(guest, arch, &mm, 0);

	if (rc == PGT_OK)
		rc = pgt_map(guest, G_TEXT, RAM_GPA, 0x10000, r | x, 0);
	if (rc == PGT_OK)
		rc = pgt_map(guest, G_DATA, RAM_GPA + 0x100000, 0x10000, r | w, 0);
	if (rc == PGT_OK)
		rc = pgt_map(guest, G_ROM, ROM_GPA, ROM_SIZE, r | w, 0);
	if (rc == PGT_OK)
		rc = pgt_map(guest, G_UART, UART_GPA, page, r | w | PGT_PROT_UNCACHED, 0);
	if (rc == PGT_OK)
		rc = pgt_map(guest, G_DEV, DEV_GPA, DEV_SIZE, r | w | PGT_PROT_UNCACHED, 0);
	if (rc != PGT_OK) {
		fprintf(stderr, "guest boot: %s\n", pgt_strerror(rc));
		exit(EXIT_FAILURE);
	}
	return pgt_space_root(guest);
}

/* ------------------------------------------------------------------------ */
/* The hypervisor.                                                           */

/**
 * The rights stage 2 gives: a second-stage format ignores PGT_PROT_USER;
 * AMD nested paging checks every guest access as a user access.
 */
static unsigned s2_rights(const struct pgt_arch *s2, unsigned prot)
{
	return s2->stage == 2 ? prot : prot | PGT_PROT_USER;
}

/** Builds the guest's stage-2 map: RAM, the ROM, the device window; the UART stays a hole. */
static void vm_create(struct vm *vm, const struct pgt_arch *s2)
{
	static const struct pgt_mm mm = { .alloc_table = host_alloc, .free_table = host_free };
	const unsigned r = PGT_PROT_READ, w = PGT_PROT_WRITE, x = PGT_PROT_EXEC;
	int rc;

	memset(vm, 0, sizeof *vm);
	/* Host memory aligned for the largest pages, so stage 2 can use them. */
	if (posix_memalign((void **)&vm->ram, 1u << 21, RAM_SIZE) != 0 ||
	    posix_memalign((void **)&vm->rom, ROM_SIZE, ROM_SIZE) != 0)
		exit(EXIT_FAILURE);
	memset(vm->ram, 0, RAM_SIZE);
	memset(vm->rom, 0, ROM_SIZE);
	memcpy(vm->rom, "boot rom", 8);
	vm->guest_pt = GUEST_PT;
	rc = pgt_space_init(&vm->stage2, s2, &mm, 0);
	if (rc == PGT_OK)
		rc = pgt_map(&vm->stage2, RAM_GPA, host_pa(vm->ram), RAM_SIZE, s2_rights(s2, r | w | x), 0);
	if (rc == PGT_OK)
		rc = pgt_map(&vm->stage2, ROM_GPA, host_pa(vm->rom), ROM_SIZE, s2_rights(s2, r | x), 0);
	if (rc == PGT_OK)
		rc = pgt_map(&vm->stage2, DEV_GPA, DEV_HPA, DEV_SIZE, s2_rights(s2, r | w | PGT_PROT_UNCACHED), 0);
	if (rc != PGT_OK) {
		fprintf(stderr, "%s: stage 2: %s\n", s2->name, pgt_strerror(rc));
		exit(EXIT_FAILURE);
	}
}

static void vm_destroy(struct vm *vm)
{
	pgt_space_destroy(&vm->stage2);
	free(vm->ram);
	free(vm->rom);
}

/** What the hypervisor did with one guest access. */
enum outcome { DONE, EMULATED, DROPPED, TO_GUEST, OUTCOMES };
static const char *const outcome_name[OUTCOMES] = { "done", "emulated", "dropped", "to guest" };

/** The guest wrote @p byte to its UART: the device model's whole job. */
static void uart_write(struct vm *vm, uint8_t byte)
{
	if (vm->uart_len + 1 < sizeof vm->uart_out)
		vm->uart_out[vm->uart_len++] = (char)byte;
}

/**
 * A stage-2 fault: decode it from the guest-physical address, as from
 * HPFAR_EL2, htval or the EPT guest-physical address.
 */
static bool in_window(pgt_paddr_t gpa, pgt_paddr_t base, uint64_t size)
{
	return gpa - base < size;
}

static enum outcome stage2_fault(struct vm *vm, const struct pgt_fault *f, unsigned access, uint8_t byte)
{
	if (!f->s1ptw && in_window(f->ipa, UART_GPA, 0x1000)) {
		if (access & PGT_ACC_WRITE)
			uart_write(vm, byte);
		return EMULATED;
	}
	if (!f->s1ptw && in_window(f->ipa, ROM_GPA, ROM_SIZE) && (access & PGT_ACC_WRITE))
		return DROPPED; /* a ROM ignores writes */
	fprintf(stderr, "unexpected stage-2 fault at guest-physical %#" PRIx64 "%s\n", f->ipa,
		f->s1ptw ? " (reading the guest's tables)" : "");
	exit(EXIT_FAILURE);
}

/** One guest access, through both stages, and what the hypervisor does about it. */
static enum outcome guest_access(struct vm *vm, const pgt_space_t *guest, pgt_vaddr_t va, unsigned access,
				 uint8_t byte)
{
	struct pgt_fault f;
	pgt_paddr_t hpa;
	int rc = pgt_translate_nested(guest, &vm->stage2, va, access, &hpa, &f);

	if (rc == PGT_OK) {
		if ((access & PGT_ACC_WRITE) && hpa >= host_pa(vm->ram) && hpa < host_pa(vm->ram) + RAM_SIZE)
			*(uint8_t *)(uintptr_t)hpa = byte;
		return DONE;
	}
	if (rc != PGT_EFAULT) {
		fprintf(stderr, "translate: %s\n", pgt_strerror(rc));
		exit(EXIT_FAILURE);
	}
	return f.stage == 2 ? stage2_fault(vm, &f, access, byte) : TO_GUEST;
}

/** One access of the replayed guest, and the outcome the map above implies. */
struct step {
	pgt_vaddr_t va;
	unsigned access;
	uint8_t byte;
	enum outcome expect;
};

static const struct step trace[] = {
	{ G_TEXT + 0x40, PGT_ACC_EXEC, 0, DONE },
	{ G_DATA + 0x10, PGT_ACC_WRITE, 'x', DONE },
	{ G_DATA + 0x10, PGT_ACC_READ, 0, DONE },
	{ G_UART, PGT_ACC_WRITE, 'h', EMULATED },
	{ G_UART, PGT_ACC_WRITE, 'i', EMULATED },
	{ G_UART + 4, PGT_ACC_READ, 0, EMULATED },
	{ G_ROM + 0x100, PGT_ACC_READ, 0, DONE },
	{ G_ROM + 0x100, PGT_ACC_WRITE, 'z', DROPPED }, /* the guest maps it writable; stage 2 does not */
	{ G_DEV + 0x20, PGT_ACC_WRITE, 1, DONE },
	{ G_TEXT + 0x40, PGT_ACC_WRITE, 0, TO_GUEST },  /* the guest's own protection */
	{ G_HOLE, PGT_ACC_READ, 0, TO_GUEST },
	{ G_DATA + 0x20, PGT_ACC_EXEC, 0, TO_GUEST },
};

/** Runs the guest on one pair of formats; returns the number of surprises. */
static int run(const char *s2_name, const char *s1_name)
{
	const struct pgt_arch *s2 = pgt_arch_by_name(s2_name), *s1 = pgt_arch_by_name(s1_name);
	unsigned count[OUTCOMES] = { 0 };
	int surprises = 0;
	pgt_space_t built, view;
	struct vm *vm = malloc(sizeof *vm);

	if (!s2 || !s1 || !vm) {
		fprintf(stderr, "no format %s or %s\n", s2_name, s1_name);
		return 1;
	}
	vm_create(vm, s2);
	pgt_paddr_t root = guest_boot(vm, s1, &built);
	/* The hypervisor knows only the guest's root register: it looks at the tables through a view. */
	const struct pgt_mm gmm = { .p2v = guest_p2v, .ctx = vm };
	int rc = pgt_space_view(&view, s1, &gmm, root, 0);
	if (rc != PGT_OK) {
		fprintf(stderr, "view: %s\n", pgt_strerror(rc));
		exit(EXIT_FAILURE);
	}
	for (size_t i = 0; i < sizeof trace / sizeof trace[0]; i++) {
		enum outcome got = guest_access(vm, &view, trace[i].va, trace[i].access, trace[i].byte);
		count[got]++;
		if (got != trace[i].expect) {
			fprintf(stderr, "%s/%s: access %zu: %s, expected %s\n", s2_name, s1_name, i,
				outcome_name[got], outcome_name[trace[i].expect]);
			surprises++;
		}
	}
	if (strcmp(vm->uart_out, "hi") != 0 || vm->ram[0x100010] != 'x')
		surprises++;
	printf("%-15s under %-12s %u done, %u emulated (UART said \"%s\"), %u dropped, %u back to the guest\n",
	       s2_name, s1_name, count[DONE], count[EMULATED], vm->uart_out, count[DROPPED], count[TO_GUEST]);
	pgt_space_destroy(&view);
	pgt_space_destroy(&built);
	vm_destroy(vm);
	free(vm);
	return surprises;
}

int main(void)
{
	static const char *const pairs[][2] = {
		{ "armv8-s2-4k-40", "armv8-4k-48" }, { "armv8-s2-64k-42", "armv8-4k-39" },
		{ "riscv-sv39x4", "riscv-sv39" },    { "x86_64-ept", "x86_64" },
		{ "x86_64", "x86_64" }, /* AMD nested paging */
	};
	int surprises = 0;

	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		surprises += run(pairs[i][0], pairs[i][1]);
	return surprises ? EXIT_FAILURE : EXIT_SUCCESS;
}
