/* SPDX-License-Identifier: MIT */
/*
 * kernel-style: the page tables an x86-64 kernel builds at boot, written the
 * way a kernel would write them.
 *
 *  - Table frames come from a bump allocator over a static arena (the
 *    boot-time pool a kernel has before its real allocator runs); nothing
 *    is malloc'd.
 *  - Tables are reached at a fixed offset from their physical address, the
 *    KERNBASE case: the library adds p2v_offset, no hook is called.
 *  - The kernel image is mapped with per-section rights, all physical RAM
 *    through a direct map that gets 1 GiB pages, and a user stack at the
 *    top of the lower half; then the space is printed with pgt_dump_all.
 *
 * The only hosted parts are printf and the exit status; in a kernel, print
 * goes to the console and the root to CR3. Build it on its own with:
 *     cc -std=c11 -o kernel-style kernel-style.c $(pkg-config --cflags --libs pgtable)
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include <pgtable/pgtable.h>

/* The layout Linux uses on x86-64 (4-level paging). */
#define KERNBASE       0xffffffff80000000ull /* the kernel image's virtual base */
#define DIRECT_MAP     0xffff888000000000ull /* all of RAM, at a fixed offset */
#define USER_STACK_TOP 0x00007ffffffff000ull

/* The machine: 4 GiB of RAM; the kernel was loaded at 16 MiB. */
#define RAM_SIZE  (4ull << 30)
#define KERNEL_PA 0x1000000ull

/* The kernel image's sections, as a linker script would lay them out. */
struct section {
	const char *name;
	uint64_t offset, size;
	unsigned prot;
};

static const struct section image[] = {
	{ ".text", 0x000000, 0x600000, PGT_PROT_READ | PGT_PROT_EXEC | PGT_PROT_GLOBAL },
	{ ".rodata", 0x600000, 0x1ff000, PGT_PROT_READ | PGT_PROT_GLOBAL },
	{ ".data+.bss", 0x800000, 0x340000, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_GLOBAL },
};

/* ------------------------------------------------------------------------ */
/* Boot-time frame pool.                                                     */

/*
 * The pool is a static array; its "physical" address is where a boot
 * loader would have put it. Tables are reached at pa + p2v_offset, so the
 * offset is the distance between the array and that physical address.
 */
#define POOL_FRAMES 32
#define POOL_PA     0x3000000ull
static _Alignas(4096) unsigned char pool[POOL_FRAMES][4096];

struct bump {
	unsigned next;  /* next free frame */
	unsigned freed; /* frames given back (a bump allocator cannot reuse them) */
};

static pgt_paddr_t bump_alloc(void *ctx, size_t size, unsigned level)
{
	struct bump *b = ctx;

	(void)level;
	if (size != sizeof pool[0] || b->next == POOL_FRAMES)
		return PGT_PADDR_NONE;
	return POOL_PA + (pgt_paddr_t)b->next++ * sizeof pool[0];
}

static void bump_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct bump *b = ctx;

	(void)pa;
	(void)size;
	(void)level;
	b->freed++;
}

/* ------------------------------------------------------------------------ */
/* Building the space.                                                       */

static int failed(const char *what, int rc)
{
	printf("%s: %s\n", what, pgt_strerror(rc));
	return 1;
}

static int map_image(pgt_space_t *sp)
{
	for (size_t i = 0; i < sizeof image / sizeof image[0]; i++) {
		const struct section *s = &image[i];
		int rc = pgt_map(sp, KERNBASE + KERNEL_PA + s->offset, KERNEL_PA + s->offset, s->size,
				 s->prot, 0);
		if (rc != PGT_OK)
			return failed(s->name, rc);
	}
	return 0;
}

/* RAM through the direct map: aligned to 1 GiB on both sides, so 1 GiB pages. */
static int map_direct(pgt_space_t *sp)
{
	int rc = pgt_map(sp, DIRECT_MAP, 0, RAM_SIZE, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_GLOBAL, 0);

	return rc == PGT_OK ? 0 : failed("direct map", rc);
}

/* 64 KiB of user stack, with the page below it left unmapped as a guard. */
static int map_user_stack(pgt_space_t *sp)
{
	uint64_t size = 0x10000;
	pgt_paddr_t frames = 0x5000000; /* 16 frames from the kernel's page allocator */
	int rc = pgt_map(sp, USER_STACK_TOP - size, frames, size,
			 PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_USER, PGT_MAP_NOSUPER);

	return rc == PGT_OK ? 0 : failed("user stack", rc);
}

/* ------------------------------------------------------------------------ */
/* Checking what was built, with the ADT's lookup.                           */

static int expect_page(const pgt_space_t *sp, pgt_vaddr_t va, unsigned shift, pgt_paddr_t pa)
{
	pgt_ref_t ref;
	uint64_t got = 0;

	if (pgt_lookup(sp, va, &ref) != PGT_OK || ref.page_shift != shift ||
	    pgt_get_field(sp, ref, PGT_FIELD_PADDR, &got) != PGT_OK || got != pa) {
		printf("%#" PRIx64 ": expected a 2^%u page at %#" PRIx64 "\n", va, shift, pa);
		return 1;
	}
	return 0;
}

static int check_space(const pgt_space_t *sp)
{
	int bad = 0;

	bad += expect_page(sp, KERNBASE + KERNEL_PA, 21, KERNEL_PA); /* text: 2 MiB */
	bad += expect_page(sp, KERNBASE + KERNEL_PA + 0x7fe000, 12, KERNEL_PA + 0x7fe000);
	bad += expect_page(sp, DIRECT_MAP + 0x40000000, 30, 0x40000000); /* 1 GiB */
	bad += expect_page(sp, USER_STACK_TOP - 0x1000, 12, 0x500f000);
	if (pgt_lookup(sp, USER_STACK_TOP - 0x11000, NULL) != PGT_ENOENT) {
		puts("the stack guard page is mapped");
		bad++;
	}
	return bad;
}

static void console_print(void *arg, const char *line)
{
	unsigned *lines = arg;

	(*lines)++;
	printf("  %s\n", line);
}

int main(void)
{
	struct bump bump = { 0 };
	struct pgt_mm mm = {
		.alloc_table = bump_alloc,
		.free_table = bump_free,
		.p2v_offset = (uintptr_t)pool - (uintptr_t)POOL_PA,
		.ctx = &bump,
	};
	pgt_space_t kernel;
	unsigned lines = 0;
	int bad;

	int rc = pgt_space_init(&kernel, &pgt_arch_x86_64, &mm, 0);
	if (rc != PGT_OK)
		return failed("space", rc);
	bad = map_image(&kernel) || map_direct(&kernel) || map_user_stack(&kernel);
	bad = bad || check_space(&kernel);

	printf("CR3 = %#" PRIx64 ", %u page-table frames used\n", pgt_space_root(&kernel), bump.next);
	rc = pgt_dump_all(&kernel, console_print, &lines);
	if (rc != PGT_OK)
		bad = failed("dump", rc);
	else if (lines == 0)
		bad = puts("the dump printed nothing") > 0;

	pgt_space_destroy(&kernel);
	if (bump.freed != bump.next) {
		printf("%u frames used, %u given back\n", bump.next, bump.freed);
		bad = 1;
	}
	puts(bad ? "kernel-style: FAILED" : "kernel-style: ok");
	return bad ? 1 : 0;
}
