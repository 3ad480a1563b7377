/* SPDX-License-Identifier: MIT */
/*
 * pgtdump_fixture FORMAT [upper] DIR: the live side of tests/check_pgtdump.py.
 *
 * Builds spaces of FORMAT with the library in a buffer that stands for
 * physical memory (at PA_BASE), writes the buffer to DIR as a raw image
 * (image.raw), as a minimal ELF core like QEMU's dump-guest-memory
 * (image.elf: a note and two PT_LOAD segments, out of file order, one at a
 * file offset that is not 8-byte aligned), after a few changes (image2.raw),
 * and with two corruptions (bad.raw: a must-be-zero bit in a leaf of space
 * A, a root entry of space B pointing at a table outside the buffer). On stdout: what the library
 * answers on the live spaces (walks, translations, verify), one record a
 * line, for the test to hold pgtdump's output against.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

#define PA_BASE 0x80000000ull
#define MEM_SIZE (4u << 20)

enum { R = PGT_PROT_READ, W = PGT_PROT_WRITE, X = PGT_PROT_EXEC, U = PGT_PROT_USER, G = PGT_PROT_GLOBAL };

/** Physical memory: the buffer, and a bump allocator of table frames in it. */
struct memory {
	unsigned char *buf;
	uint64_t next; /**< offset of the next free byte */
};

static pgt_paddr_t alloc_table(void *ctx, size_t size, unsigned level)
{
	struct memory *m = ctx;
	uint64_t at = (m->next + size - 1) & ~(uint64_t)(size - 1);

	(void)level;
	if (at + size > MEM_SIZE)
		return PGT_PADDR_NONE;
	m->next = at + size;
	return PA_BASE + at;
}

static void free_table(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)ctx, (void)pa, (void)size, (void)level; /* a bump allocator keeps its frames */
}

/** The p2v of a view over a copy of the buffer: whole tables inside it, else NULL (as pgtdump's). */
struct copy {
	unsigned char *buf;
	size_t table;
};

static void *copy_p2v(void *ctx, pgt_paddr_t pa)
{
	struct copy *c = ctx;

	if (pa < PA_BASE || pa - PA_BASE > MEM_SIZE || c->table > MEM_SIZE - (pa - PA_BASE))
		return NULL;
	return c->buf + (pa - PA_BASE);
}

static size_t largest_table(const struct pgt_arch *a)
{
	size_t bytes = 0;

	for (unsigned l = 0; l < a->levels; l++)
		if (a->level[l].table_size > bytes)
			bytes = a->level[l].table_size;
	return bytes;
}

static _Noreturn void die(const char *what, int rc)
{
	fprintf(stderr, "pgtdump_fixture: %s: %s\n", what, pgt_errname(rc));
	exit(1);
}

/* ---- the spaces ------------------------------------------------------------- */

struct fixture {
	const struct pgt_arch *a;
	unsigned flags;
	struct memory mem;
	pgt_space_t A, B;
	pgt_vaddr_t bottom; /**< lowest address of the spaces */
	uint64_t small, big;
};

/** Maps with @p prot, or with plain read where the format cannot express it. */
static void map(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned prot)
{
	int rc = pgt_map(sp, va, pa, size, prot, 0);

	if (rc == PGT_ENOTSUP)
		rc = pgt_map(sp, va, pa, size, R, 0);
	if (rc != PGT_OK)
		die("pgt_map", rc);
}

/** The same mappings in a space: rights, memory types, a superpage, reserved leaves, both halves. */
static void fill(struct fixture *f, pgt_space_t *sp)
{
	static const struct {
		unsigned pages, prot;
	} ranges[] = {
		{ 3, R | W },	    { 2, R },	      { 0, R | W | X | G }, { 4, R | W | U }, { 1, 0 },
		{ 2, R | X | U }, { 1, R | PGT_PROT_UNCACHED }, { 1, R | W | PGT_PROT_NONCACHEABLE },
		{ 1, R | W | PGT_PROT_WRITECOMBINE }, { 1, X },
	};
	pgt_vaddr_t va = f->bottom + f->big;
	pgt_paddr_t pa = 0x40000000ull;

	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
		uint64_t size = ranges[i].pages ? ranges[i].pages * f->small : f->big; /* 0: one superpage */
		va = (va + size - 1) & ~(size - 1);
		pa = (pa + size - 1) & ~(size - 1);
		map(sp, va, pa, size, ranges[i].prot);
		va += size + f->small; /* a gap */
		pa += size + 3 * f->small;
	}
	if (f->a->canon == PGT_CANON_SIGN_EXTEND) { /* the upper half, its last page included */
		map(sp, (pgt_vaddr_t)0 - 4 * f->big, 0x20000000ull, f->big, R | W | G);
		map(sp, (pgt_vaddr_t)0 - f->small, 0x30000000ull, f->small, R);
	}
}

/** B is A changed: a range unmapped, one protected, one added, one moved. */
static void change(struct fixture *f, pgt_space_t *sp)
{
	pgt_vaddr_t first = f->bottom + f->big;
	int rc;

	if ((rc = pgt_unmap(sp, first + f->small, f->small)) != PGT_OK) /* a page of range 0 */
		die("pgt_unmap", rc);
	if ((rc = pgt_protect(sp, first, f->small, R)) != PGT_OK)
		die("pgt_protect", rc);
	map(sp, f->bottom + 8 * f->big, 0x50000000ull, 2 * f->small, R | W | U);
	if ((rc = pgt_map(sp, first + 2 * f->small, 0x60000000ull, f->small, R | W, PGT_MAP_REPLACE)) != PGT_OK)
		die("pgt_map replace", rc);
}

static void fixture_open(struct fixture *f, const char *name, unsigned flags)
{
	memset(f, 0, sizeof *f);
	f->a = pgt_arch_by_name(name);
	if (!f->a) {
		fprintf(stderr, "pgtdump_fixture: unknown format %s\n", name);
		exit(2);
	}
	f->flags = flags;
	f->mem.buf = aligned_alloc(1u << 16, MEM_SIZE);
	if (!f->mem.buf)
		die("aligned_alloc", PGT_ENOMEM);
	memset(f->mem.buf, 0, MEM_SIZE);
	f->mem.next = 0x10000; /* the first frames stay zero: a root there is an empty space */
	f->bottom = (flags & PGT_SPACE_UPPER) ? (pgt_vaddr_t)0 - ((pgt_vaddr_t)1 << f->a->va_bits) : 0;
	f->small = 1ull << f->a->level[0].shift;
	f->big = f->a->level[1].leaf_ok ? 1ull << f->a->level[1].shift : 4 * f->small;

	struct pgt_mm mm = {
		.alloc_table = alloc_table,
		.free_table = free_table,
		.p2v_offset = (uintptr_t)f->mem.buf - (uintptr_t)PA_BASE,
		.ctx = &f->mem,
	};
	int rc;
	if ((rc = pgt_space_init(&f->A, f->a, &mm, flags)) != PGT_OK ||
	    (rc = pgt_space_init(&f->B, f->a, &mm, flags)) != PGT_OK)
		die("pgt_space_init", rc);
	fill(f, &f->A);
	fill(f, &f->B);
	change(f, &f->B);
}

/* ---- the library's answers -------------------------------------------------- */

struct printer {
	const char *tag;
};

static int print_leaf(void *arg, const struct pgt_mapping *m)
{
	const struct printer *p = arg;

	printf("%s %" PRIx64 " %" PRIx64 " %" PRIx64 " %x %u\n", p->tag, m->va, m->pa, m->size, m->prot, m->level);
	return 0;
}

/** Every leaf, and the walk's status. */
static void print_walk(const char *tag, const pgt_space_t *sp)
{
	struct printer p = { tag };
	int rc = pgt_walk_all(sp, print_leaf, &p);

	printf("%sdone %d\n", tag, rc);
}

static const char *const accesses[] = { "r", "w", "x", "ru", "wu", "xu" };

static unsigned access_bits(const char *text)
{
	unsigned a = 0;

	for (; *text; text++)
		a |= *text == 'r' ? PGT_ACC_READ : *text == 'w' ? PGT_ACC_WRITE : *text == 'x' ? PGT_ACC_EXEC : PGT_ACC_USER;
	return a;
}

/** "xlate TAG ACCESS VA PA", "... VA fault KIND LEVEL" or "... VA error STATUS". */
static void print_translation(const char *tag, const pgt_space_t *sp, const char *access, pgt_vaddr_t va)
{
	pgt_paddr_t pa;
	struct pgt_fault f;
	int rc = pgt_translate(sp, va, access_bits(access), &pa, &f);

	if (rc == PGT_OK)
		printf("%s %s %" PRIx64 " %" PRIx64 "\n", tag, access, va, pa);
	else if (rc == PGT_EFAULT)
		printf("%s %s %" PRIx64 " fault %d %u\n", tag, access, va, f.kind, f.level);
	else
		printf("%s %s %" PRIx64 " error %d\n", tag, access, va, rc);
}

struct sampler {
	const char *tag;
	const pgt_space_t *sp;
};

/** The first and last word of a leaf and the word after it, for every access. */
static int sample_leaf(void *arg, const struct pgt_mapping *m)
{
	const struct sampler *s = arg;
	pgt_vaddr_t at[3] = { m->va, m->va + m->size - 8, m->va + m->size };

	for (size_t k = 0; k < sizeof accesses / sizeof accesses[0]; k++)
		for (unsigned i = 0; i < 3; i++)
			if (i < 2 || at[2] != 0)
				print_translation(s->tag, s->sp, accesses[k], at[i]);
	return 0;
}

static void print_problem(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	printf("%s %" PRIx64 " %u %s\n", (const char *)arg, va, level, problem);
}

static void print_verify(const char *tag, const pgt_space_t *sp)
{
	char problem_tag[32];

	snprintf(problem_tag, sizeof problem_tag, "%sproblem", tag);
	printf("%s %d\n", tag, pgt_verify(sp, print_problem, problem_tag));
}

/* ---- files ------------------------------------------------------------------ */

static FILE *create(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (!(f = fopen(path, "wb"))) {
		perror(path);
		exit(1);
	}
	return f;
}

static void finish(FILE *f)
{
	if (ferror(f) || fclose(f) != 0) {
		perror("pgtdump_fixture: write");
		exit(1);
	}
}

static void write_raw(const char *dir, const char *name, const unsigned char *buf)
{
	FILE *f = create(dir, name);

	fwrite(buf, 1, MEM_SIZE, f);
	finish(f);
}

/** Stores @p v little-endian in @p bytes bytes. */
static void put_le(unsigned char *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/** ELF e_machine (System V gABI registry): EM_X86_64 62, EM_AARCH64 183, EM_RISCV 243. */
static unsigned elf_machine(const struct pgt_arch *a)
{
	return strncmp(a->name, "x86", 3) == 0 ? 62 : strncmp(a->name, "armv8", 5) == 0 ? 183 : 243;
}

static void put_phdr(unsigned char *ph, unsigned type, uint64_t off, uint64_t pa, uint64_t size)
{
	put_le(ph + 0, type, 4);
	put_le(ph + 8, off, 8);
	put_le(ph + 16, 0, 8); /* p_vaddr: dump-guest-memory without paging leaves it 0 */
	put_le(ph + 24, pa, 8);
	put_le(ph + 32, size, 8);
	put_le(ph + 40, size, 8);
}

/**
 * An ELF64 core: header, a PT_NOTE of nothing, then the buffer's upper half
 * at file offset 0x1000 and its lower half after it at an offset 4 bytes
 * off 8-byte alignment (p_offset is a file offset, not an address).
 */
static void write_elf(const char *dir, const struct pgt_arch *a, const unsigned char *buf)
{
	enum { PHOFF = 64, PHSIZE = 56, HALF = MEM_SIZE / 2, UPPER_OFF = 0x1000, LOWER_OFF = 0x1000 + HALF + 4 };
	unsigned char head[UPPER_OFF] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	FILE *f = create(dir, "image.elf");

	put_le(head + 16, 4, 2); /* ET_CORE */
	put_le(head + 18, elf_machine(a), 2);
	put_le(head + 20, 1, 4);
	put_le(head + 32, PHOFF, 8);
	put_le(head + 52, 64, 2);
	put_le(head + 54, PHSIZE, 2);
	put_le(head + 56, 3, 2);
	put_phdr(head + PHOFF, 4, PHOFF + 3 * PHSIZE, 0, 0); /* PT_NOTE */
	put_phdr(head + PHOFF + PHSIZE, 1, LOWER_OFF, PA_BASE, HALF);
	put_phdr(head + PHOFF + 2 * PHSIZE, 1, UPPER_OFF, PA_BASE + HALF, HALF);
	fwrite(head, 1, sizeof head, f);
	fwrite(buf + HALF, 1, HALF, f);
	fwrite("pad!", 1, 4, f);
	fwrite(buf, 1, HALF, f);
	finish(f);
}

/* ---- corruption ------------------------------------------------------------- */

/** The first table entry of the root table of @p sp, in @p buf. */
static pgt_pte_t *first_table_entry(const struct fixture *f, const pgt_space_t *sp, unsigned char *buf)
{
	unsigned top = f->a->levels - 1u;
	const struct pgt_level *L = &f->a->level[top];
	pgt_pte_t *root = (pgt_pte_t *)(void *)(buf + (pgt_space_root(sp) - PA_BASE));

	for (size_t i = 0; i < L->table_size / 8; i++) {
		pgt_pte_t e = root[i];
		if ((e & L->valid) && (e & L->type_mask) == L->table_type && !(e & L->leaf_any))
			return &root[i];
	}
	die("no table entry in the root", PGT_ENOENT);
}

/**
 * bad.raw: B's first root entry points 16 tables past the end of the buffer,
 * and a level-0 leaf of A gets its lowest must-be-zero bit.
 */
static void corrupt(const struct fixture *f, unsigned char *bad, pgt_vaddr_t *leaf_va)
{
	const struct pgt_level *top = &f->a->level[f->a->levels - 1u], *L0 = &f->a->level[0];
	pgt_pte_t *e = first_table_entry(f, &f->B, bad);
	pgt_paddr_t outside = PA_BASE + MEM_SIZE + 16 * largest_table(f->a);
	pgt_ref_t ref;

	*e = (*e & ~top->table_oa) | ((outside >> top->oa_shift) & top->table_oa);
	*leaf_va = f->bottom + f->big + 4 * f->small; /* in range 1: 2 pages, read-only */
	if (pgt_lookup(&f->A, *leaf_va, &ref) != PGT_OK || ref.level != 0)
		die("the leaf to corrupt", PGT_ENOENT);
	pgt_pte_t *leaf = (pgt_pte_t *)(void *)(bad + ((unsigned char *)ref.pte - f->mem.buf));
	if (L0->leaf_mbz)
		*leaf |= L0->leaf_mbz & -L0->leaf_mbz;
}

/** The library's answers on the corrupted copy, through a view as pgtdump makes it ("badA...", "badB..."). */
static void print_bad(const struct fixture *f, unsigned char *bad, const pgt_space_t *sp, char side,
		      pgt_vaddr_t leaf_va)
{
	struct copy c = { bad, largest_table(f->a) };
	struct pgt_mm mm = { .p2v = copy_p2v, .ctx = &c };
	pgt_space_t view;
	char tag[32];
	int rc = pgt_space_view(&view, f->a, &mm, pgt_space_root(sp), f->flags);

	if (rc != PGT_OK)
		die("pgt_space_view", rc);
	snprintf(tag, sizeof tag, "bad%cwalk", side);
	print_walk(tag, &view);
	snprintf(tag, sizeof tag, "bad%cverify", side);
	print_verify(tag, &view);
	snprintf(tag, sizeof tag, "bad%cxlate", side);
	for (size_t k = 0; k < sizeof accesses / sizeof accesses[0]; k++)
		print_translation(tag, &view, accesses[k], leaf_va);
	pgt_space_destroy(&view);
}

int main(int argc, char **argv)
{
	static struct fixture f;

	if (argc != 3 && !(argc == 4 && strcmp(argv[2], "upper") == 0)) {
		fprintf(stderr, "usage: pgtdump_fixture FORMAT [upper] DIR\n");
		return 2;
	}
	const char *dir = argv[argc - 1];
	fixture_open(&f, argv[1], argc == 4 ? PGT_SPACE_UPPER : 0);
	printf("base %llx\nrootA %" PRIx64 "\nrootB %" PRIx64 "\nempty %llx\n", PA_BASE, pgt_space_root(&f.A),
	       pgt_space_root(&f.B), PA_BASE);
	printf("bottom %" PRIx64 "\nsmall %" PRIx64 "\n", f.bottom, f.small);
	print_walk("walkA", &f.A);
	print_walk("walkB", &f.B);
	struct sampler s = { "xlateA", &f.A };
	pgt_walk_all(&f.A, sample_leaf, &s);
	print_verify("verifyA", &f.A);
	write_raw(dir, "image.raw", f.mem.buf);
	write_elf(dir, f.a, f.mem.buf);

	unsigned char *bad = malloc(MEM_SIZE);
	pgt_vaddr_t leaf_va;
	if (!bad)
		die("malloc", PGT_ENOMEM);
	memcpy(bad, f.mem.buf, MEM_SIZE);
	corrupt(&f, bad, &leaf_va);
	write_raw(dir, "bad.raw", bad);
	print_bad(&f, bad, &f.A, 'A', leaf_va);
	print_bad(&f, bad, &f.B, 'B', leaf_va);
	free(bad);

	change(&f, &f.A); /* A now maps what B maps: image2.raw's root A is image.raw's B */
	write_raw(dir, "image2.raw", f.mem.buf);
	print_walk("walkA2", &f.A);
	pgt_space_destroy(&f.A);
	pgt_space_destroy(&f.B);
	free(f.mem.buf);
	return ferror(stdout) ? 1 : 0;
}
