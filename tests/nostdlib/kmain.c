/* SPDX-License-Identifier: MIT */
/*
 * A program with no C library at all, linked against
 * libpgtable-freestanding.a the way a kernel is: its own entry point, its
 * own memset/memcpy/memmove/memcmp (the only symbols the archive may need),
 * a bump allocator over a static arena and pa == address (p2v_offset 0).
 * The exit status says which step failed (0: all passed).
 *
 * Built with -O0: at higher levels the compiler may turn the loops of the
 * mem* functions below into calls to themselves.
 */
#include <stddef.h>
#include <stdint.h>

#include <pgtable/fast.h>
#include <pgtable/pgtable.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void _start(void);

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	if (p < q)
		return memcpy(d, s, n);
	while (n--)
		p[n] = q[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n--; p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

/* Frames for the tables: the kernel's boot-time pool. */
#define FRAMES 16
static _Alignas(4096) unsigned char arena[FRAMES][4096];
static unsigned used, freed;

static pgt_paddr_t bump_alloc(void *ctx, size_t size, unsigned level)
{
	(void)ctx;
	(void)level;
	if (size != 4096 || used == FRAMES)
		return PGT_PADDR_NONE;
	return (pgt_paddr_t)(uintptr_t)arena[used++];
}

static void bump_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)ctx;
	(void)pa;
	(void)size;
	(void)level;
	freed++;
}

static int kmain(void)
{
	struct pgt_mm mm = { .alloc_table = bump_alloc, .free_table = bump_free };
	pgt_space_t sp;
	pgt_ref_t ref;
	uint64_t pa = 0;
	struct pgt_fast fast;

	if (pgt_space_init(&sp, &pgt_arch_x86_64, &mm, 0) != PGT_OK)
		return 1;
	if (pgt_insert(&sp, 0xffffffff80000000, 21, &ref) != PGT_OK)
		return 2;
	if (pgt_set_field(&sp, ref, PGT_FIELD_PADDR, 0x200000) != PGT_OK ||
	    pgt_set_field(&sp, ref, PGT_FIELD_PROT, PGT_PROT_READ | PGT_PROT_EXEC) != PGT_OK)
		return 3;
	if (pgt_lookup(&sp, 0xffffffff80123456, &ref) != PGT_OK || ref.page_shift != 21)
		return 4;
	if (pgt_get_field(&sp, ref, PGT_FIELD_PADDR, &pa) != PGT_OK || pa != 0x200000)
		return 5;
	/* The inline walks need nothing from a C library either. */
	if (pgt_fast_init(&fast, &sp) != PGT_OK ||
	    pgt_fast_translate(&fast, 0xffffffff80123456, PGT_ACC_EXEC, &pa) != PGT_OK || pa != 0x323456)
		return 8;
	if (pgt_insert(&sp, 0xffffffff80001000, 12, 0) != PGT_EXISTS)
		return 6;
	pgt_space_destroy(&sp);
	return used == 3 && freed == 3 ? 0 : 7; /* root, PDPT and PD */
}

/* Process entry: no C runtime, so leave through the exit system call. */
#if defined(__x86_64__)
__attribute__((noreturn)) static void sys_exit(long code)
{
	__asm__ volatile("syscall" : : "a"(60L), "D"(code) : "rcx", "r11", "memory");
	for (;;)
		;
}

/* The kernel enters with the stack 16-byte aligned, not as a call would. */
__attribute__((force_align_arg_pointer, noreturn)) void _start(void)
{
	sys_exit(kmain());
}
#elif defined(__aarch64__)
__attribute__((noreturn)) static void sys_exit(long code)
{
	register long x0 __asm__("x0") = code;
	register long x8 __asm__("x8") = 93;

	__asm__ volatile("svc #0" : : "r"(x0), "r"(x8) : "memory");
	for (;;)
		;
}

__attribute__((noreturn)) void _start(void)
{
	sys_exit(kmain());
}
#else
/* No exit stub for this host: the test only links. */
void _start(void)
{
	(void)kmain();
	for (;;)
		;
}
#endif
