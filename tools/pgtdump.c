/* SPDX-License-Identifier: MIT */
/*
 * pgtdump: inspects page tables inside a physical memory image (a raw
 * image, a memory-backend file, or a QEMU dump-guest-memory ELF core)
 * through a read-only pgt_space_view. Nothing in the image is trusted: the
 * p2v hook hands the library a pointer only when a whole table lies inside
 * the loaded memory, so a corrupt table can end a walk but never make it
 * read outside the image. See pgtdump(1).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

/* Exit statuses (pgtdump(1), EXIT STATUS). */
enum {
	EXIT_OK = 0,      /* done; nothing to report */
	EXIT_FOUND = 1,   /* verify found problems, translate faulted, diff found differences */
	EXIT_USAGE = 2,   /* bad command line: unknown option or arch, bad number */
	EXIT_IMAGE = 3    /* the image cannot be used: unreadable, truncated, root outside */
};

static const char *progname = "pgtdump";

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PRINTF_LIKE(fmt, args)
#endif

static _Noreturn void fail(int status, const char *fmt, ...) PRINTF_LIKE(2, 3);

/** Prints "pgtdump: message" and exits with @p status. */
static _Noreturn void fail(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* ------------------------------------------------------------------------ */
/* Numbers and names on the command line                                     */

/** A 64-bit number, decimal or 0x-prefixed hex; anything else is a usage error. */
static uint64_t parse_u64(const char *what, const char *text)
{
	char *end;
	unsigned long long v;

	if (!text || !*text || *text == '-' || *text == '+' || *text == ' ')
		fail(EXIT_USAGE, "%s: '%s' is not a number", what, text ? text : "");
	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno == ERANGE)
		fail(EXIT_USAGE, "%s: '%s' does not fit in 64 bits", what, text);
	if (*end != '\0' || end == text)
		fail(EXIT_USAGE, "%s: '%s' is not a number", what, text);
	return (uint64_t)v;
}

/** The shipped format names, for the message about an unknown one. */
static const char *const format_names[] = {
#define PGT_FORMAT(desc, name, what) name,
#include <pgtable/formats.h>
#undef PGT_FORMAT
};

static const struct pgt_arch *parse_arch(const char *name)
{
	const struct pgt_arch *a = pgt_arch_by_name(name);

	if (a)
		return a;
	fprintf(stderr, "%s: --arch: unknown format '%s'; the formats are:", progname, name ? name : "");
	for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
		fprintf(stderr, " %s", format_names[i]);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

/** An access for translate: one of r, w, x, optionally u (from user mode). */
static unsigned parse_access(const char *text)
{
	unsigned access = 0, kinds = 0;

	for (const char *p = text; *p; p++) {
		unsigned bit = *p == 'r' ? PGT_ACC_READ
			       : *p == 'w' ? PGT_ACC_WRITE
			       : *p == 'x' ? PGT_ACC_EXEC
			       : *p == 'u' ? PGT_ACC_USER
					   : 0;
		if (bit == 0 || (access & bit))
			fail(EXIT_USAGE, "--access: '%s': give one of r, w, x, and u for a user access", text);
		access |= bit;
		kinds += bit != PGT_ACC_USER;
	}
	if (kinds != 1)
		fail(EXIT_USAGE, "--access: '%s': give exactly one of r, w, x, and u for a user access", text);
	return access;
}

/* ------------------------------------------------------------------------ */
/* Physical memory: a raw image or the PT_LOAD segments of an ELF core        */

/** A run of physical memory the image holds. */
struct region {
	uint64_t pa, size;
	const unsigned char *data;
};

struct image {
	const char *path;
	void *map;
	size_t map_len;
	struct region *regions;
	size_t nregions;
	void **copies; /**< segments copied to be 8-byte aligned */
	size_t ncopies;
	size_t table_bytes;  /**< the largest table of the format: what p2v checks */
	bool refused;        /**< p2v refused a table */
	uint64_t refused_pa; /**< the last one */
};

static _Noreturn void bad_image(const struct image *img, const char *fmt, ...) PRINTF_LIKE(2, 3);

static _Noreturn void bad_image(const struct image *img, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", progname, img->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_IMAGE);
}

static void add_region(struct image *img, uint64_t pa, uint64_t size, const unsigned char *data)
{
	struct region *r = realloc(img->regions, (img->nregions + 1) * sizeof *r);

	if (!r)
		bad_image(img, "out of memory");
	img->regions = r;
	r[img->nregions++] = (struct region){ .pa = pa, .size = size, .data = data };
}

/** Little-endian fields of the ELF headers, read byte by byte (any alignment, any host). */
static uint64_t le(const unsigned char *p, unsigned bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | p[bytes];
	return v;
}

/* ELF64 layout (System V gABI): the header, program and section header fields used here. */
enum {
	EHDR_SIZE = 64,
	E_PHOFF = 32,
	E_SHOFF = 40,
	E_PHENTSIZE = 54,
	E_PHNUM = 56,
	PHDR_SIZE = 56,
	P_TYPE = 0,
	P_OFFSET = 8,
	P_PADDR = 24,
	P_FILESZ = 32,
	SHDR_SIZE = 64,
	SH_INFO = 44,
	PT_LOAD_TYPE = 1,
	PN_XNUM_COUNT = 0xffff /* the real count is in section header 0's sh_info */
};

static bool is_elf(const unsigned char *p, size_t len)
{
	return len >= 4 && memcmp(p, "\177ELF", 4) == 0;
}

/** Whether [off, off+len) lies inside a file of @p size bytes. */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/** The number of program headers, PN_XNUM resolved. */
static uint64_t elf_phnum(const struct image *img, const unsigned char *p, size_t len)
{
	uint64_t n = le(p + E_PHNUM, 2);

	if (n != PN_XNUM_COUNT)
		return n;
	uint64_t shoff = le(p + E_SHOFF, 8);
	if (!in_file(shoff, SHDR_SIZE, len))
		bad_image(img, "truncated ELF: section header 0 (for the segment count) lies beyond the file");
	return le(p + shoff + SH_INFO, 4);
}

/**
 * The data of one segment, 8-byte aligned for the library's entry loads:
 * in place when the file offset allows, else copied.
 */
static const unsigned char *segment_data(struct image *img, const unsigned char *at, uint64_t size)
{
	if (((uintptr_t)at & 7) == 0)
		return at;
	void **copies = realloc(img->copies, (img->ncopies + 1) * sizeof *copies);
	void *copy = malloc((size_t)size);
	if (!copies || !copy)
		bad_image(img, "out of memory copying a misaligned segment");
	memcpy(copy, at, (size_t)size);
	img->copies = copies;
	copies[img->ncopies++] = copy;
	return copy;
}

/** One program header: a PT_LOAD segment with file data becomes a region. */
static void elf_segment(struct image *img, const unsigned char *p, size_t len, uint64_t i, const unsigned char *ph)
{
	if (le(ph + P_TYPE, 4) != PT_LOAD_TYPE)
		return;
	uint64_t off = le(ph + P_OFFSET, 8), pa = le(ph + P_PADDR, 8), size = le(ph + P_FILESZ, 8);
	if (size == 0)
		return;
	if (!in_file(off, size, len))
		bad_image(img,
			  "truncated ELF: segment %" PRIu64 " (physical 0x%" PRIx64 ", 0x%" PRIx64
			  " bytes at file offset 0x%" PRIx64 ") ends beyond the file's 0x%zx bytes",
			  i, pa, size, off, len);
	if (pa + size < pa)
		bad_image(img, "segment %" PRIu64 " wraps past the top of physical memory", i);
	add_region(img, pa, size, segment_data(img, p + off, size));
}

/** A QEMU dump-guest-memory core: physical memory is its PT_LOAD segments, at their p_paddr. */
static void load_elf(struct image *img, const unsigned char *p, size_t len)
{
	if (len < EHDR_SIZE)
		bad_image(img, "truncated ELF: %zu bytes, not even the 64-byte ELF64 header", len);
	if (p[4] != 2)
		bad_image(img, "not an ELF64 file (class %u): dump-guest-memory of a 64-bit guest writes ELF64", p[4]);
	if (p[5] != 1)
		bad_image(img, "not a little-endian ELF file (data encoding %u)", p[5]);
	uint64_t phoff = le(p + E_PHOFF, 8), phentsize = le(p + E_PHENTSIZE, 2);
	uint64_t phnum = elf_phnum(img, p, len);
	if (phentsize != PHDR_SIZE)
		bad_image(img, "bad ELF header: program headers of %" PRIu64 " bytes, not %d", phentsize, PHDR_SIZE);
	if (phnum > len / PHDR_SIZE || !in_file(phoff, phnum * PHDR_SIZE, len))
		bad_image(img, "truncated ELF: %" PRIu64 " program headers at offset 0x%" PRIx64 " do not fit in the file",
			  phnum, phoff);
	for (uint64_t i = 0; i < phnum; i++)
		elf_segment(img, p, len, i, p + phoff + i * PHDR_SIZE);
	if (img->nregions == 0)
		bad_image(img, "the ELF file has no PT_LOAD segment with data: no physical memory to read");
}

static int by_pa(const void *a, const void *b)
{
	const struct region *x = a, *y = b;

	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

/** Sorted by address, none overlapping: p2v's answer is then unambiguous. */
static void check_regions(struct image *img)
{
	qsort(img->regions, img->nregions, sizeof *img->regions, by_pa);
	for (size_t i = 1; i < img->nregions; i++) {
		const struct region *a = &img->regions[i - 1], *b = &img->regions[i];
		if (b->pa - a->pa < a->size)
			bad_image(img, "segments overlap at physical 0x%" PRIx64, b->pa);
	}
}

/** Maps @p path read-only: an ELF core when it starts with the ELF magic, else raw memory at @p base. */
static void load_image(struct image *img, const char *path, uint64_t base)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	memset(img, 0, sizeof *img);
	img->path = path;
	if (fd < 0 || fstat(fd, &st) != 0)
		bad_image(img, "cannot read: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		bad_image(img, "not a regular file (an image is a file of known size)");
	if (st.st_size <= 0)
		bad_image(img, "empty file: no memory to read");
	if ((uint64_t)st.st_size > SIZE_MAX)
		bad_image(img, "too large to map on this system");
	img->map_len = (size_t)st.st_size;
	img->map = mmap(NULL, img->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img->map == MAP_FAILED)
		bad_image(img, "cannot map: %s", strerror(errno));
	const unsigned char *p = img->map;
	if (is_elf(p, img->map_len)) {
		load_elf(img, p, img->map_len);
	} else {
		if (base + img->map_len < base)
			bad_image(img, "--base 0x%" PRIx64 " plus the file's size wraps past 2^64", base);
		add_region(img, base, img->map_len, p);
	}
	check_regions(img);
}

static void free_image(struct image *img)
{
	for (size_t i = 0; i < img->ncopies; i++)
		free(img->copies[i]);
	free(img->copies);
	free(img->regions);
	munmap(img->map, img->map_len);
}

/** The region holding [pa, pa+len), or NULL. */
static const struct region *find_region(const struct image *img, uint64_t pa, uint64_t len)
{
	for (size_t i = 0; i < img->nregions; i++) {
		const struct region *r = &img->regions[i];
		if (pa >= r->pa && pa - r->pa <= r->size && len <= r->size - (pa - r->pa))
			return r;
	}
	return NULL;
}

/**
 * The library's p2v hook: a pointer only when a whole table (the format's
 * largest) lies in the loaded memory; NULL elsewhere, remembered for the
 * error message.
 */
static void *image_p2v(void *ctx, pgt_paddr_t pa)
{
	struct image *img = ctx;
	const struct region *r = find_region(img, pa, img->table_bytes);

	if (r)
		return (void *)(uintptr_t)(r->data + (pa - r->pa));
	img->refused = true;
	img->refused_pa = pa;
	return NULL;
}

/** Lists the loaded ranges after a message about an address outside them. */
static void print_loaded(const struct image *img)
{
	fprintf(stderr, "%s: %s holds physical", progname, img->path);
	for (size_t i = 0; i < img->nregions && i < 8; i++)
		fprintf(stderr, " 0x%" PRIx64 "-0x%" PRIx64, img->regions[i].pa,
			img->regions[i].pa + img->regions[i].size - 1);
	fprintf(stderr, "%s\n", img->nregions > 8 ? " ..." : "");
}

/* ------------------------------------------------------------------------ */
/* The view                                                                   */

/** What the command line says about one side: image, base, root, and the format. */
struct side {
	const char *path;
	uint64_t base, root;
	bool have_root;
	const struct pgt_arch *arch;
	unsigned flags;
	struct image img;
	pgt_space_t sp;
};

static size_t largest_table(const struct pgt_arch *a)
{
	size_t bytes = 0;

	for (unsigned l = 0; l < a->levels && l < PGT_MAX_LEVELS; l++)
		if (a->level[l].table_size > bytes)
			bytes = a->level[l].table_size;
	return bytes;
}

/** Loads the image and makes the read-only space over the tables at the root. */
static void open_side(struct side *s, const struct pgt_arch *arch, unsigned flags)
{
	s->arch = arch;
	s->flags = flags;
	load_image(&s->img, s->path, s->base);
	s->img.table_bytes = largest_table(arch);
	struct pgt_mm mm = { .p2v = image_p2v, .ctx = &s->img };
	int rc = pgt_space_view(&s->sp, arch, &mm, s->root, flags);

	switch (rc) {
	case PGT_OK:
		return;
	case PGT_EHOOK:
		fprintf(stderr, "%s: %s: the root table 0x%" PRIx64 " (0x%zx bytes) is outside the image\n", progname,
			s->path, s->root, s->img.table_bytes);
		print_loaded(&s->img);
		exit(EXIT_IMAGE);
	case PGT_EALIGN:
		fail(EXIT_USAGE, "--root 0x%" PRIx64 " is not aligned to the %s root table's size", s->root, arch->name);
	case PGT_ERANGE:
		fail(EXIT_USAGE, "--root 0x%" PRIx64 " is beyond %s's %u-bit physical addresses", s->root, arch->name,
		     arch->pa_bits);
	case PGT_EFLAGS:
		fail(EXIT_USAGE, "--upper: %s has no upper (TTBR1) range", arch->name);
	default:
		fail(EXIT_USAGE, "cannot view the tables: %s (%s)", pgt_strerror(rc), pgt_errname(rc));
	}
}

static void close_side(struct side *s)
{
	pgt_space_destroy(&s->sp);
	free_image(&s->img);
}

/** After a walk: PGT_EHOOK means a table entry pointed outside the image. */
static int walk_status(const struct side *s, int rc, const char *what)
{
	if (rc == PGT_OK)
		return EXIT_OK;
	if (rc == PGT_EHOOK && s->img.refused) {
		fprintf(stderr,
			"%s: %s: a table entry points at 0x%" PRIx64 ", outside the image: %s stopped there "
			"(verify lists such entries)\n",
			progname, s->path, s->img.refused_pa, what);
		print_loaded(&s->img);
		return EXIT_IMAGE;
	}
	fprintf(stderr, "%s: %s: %s failed: %s (%s)\n", progname, s->path, what, pgt_strerror(rc), pgt_errname(rc));
	return EXIT_IMAGE;
}

/* ------------------------------------------------------------------------ */
/* Leaves: collected once, used by dump, walk and diff                       */

struct leaves {
	struct pgt_mapping *m;
	size_t n, cap;
};

static int collect(void *arg, const struct pgt_mapping *m)
{
	struct leaves *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct pgt_mapping *more = realloc(l->m, cap * sizeof *more);
		if (!more)
			return PGT_ENOMEM;
		l->m = more;
		l->cap = cap;
	}
	l->m[l->n++] = *m;
	return 0;
}

/** Every leaf of the space; exits with a message when the walk cannot finish. */
static void collect_leaves(struct side *s, struct leaves *l, const char *what)
{
	int rc = pgt_walk_all(&s->sp, collect, l);

	if (rc == PGT_ENOMEM)
		fail(EXIT_IMAGE, "out of memory after %zu leaves", l->n);
	int status = walk_status(s, rc, what);
	if (status != EXIT_OK)
		exit(status);
}

/** "4K", "2M", "1G", "512G": a page size for people. */
static const char *size_name(uint64_t size, char buf[24])
{
	static const char units[] = "BKMGTPE";
	unsigned u = 0;

	while (u < 6 && size >= 1024 && size % 1024 == 0) {
		size /= 1024;
		u++;
	}
	snprintf(buf, 24, "%" PRIu64 "%c", size, units[u]);
	return buf;
}

/** "urwxg": the leaf's own rights and global bit, '-' where absent. */
static const char *prot_letters(unsigned prot, char buf[6])
{
	buf[0] = (prot & PGT_PROT_USER) ? 'u' : '-';
	buf[1] = (prot & PGT_PROT_READ) ? 'r' : '-';
	buf[2] = (prot & PGT_PROT_WRITE) ? 'w' : '-';
	buf[3] = (prot & PGT_PROT_EXEC) ? 'x' : '-';
	buf[4] = (prot & PGT_PROT_GLOBAL) ? 'g' : '-';
	buf[5] = '\0';
	return buf;
}

/** As pgt_dump(3) names memory types. */
static const char *memtype_name(unsigned prot)
{
	switch (prot & PGT_PROT_MEMTYPE) {
	case PGT_PROT_UNCACHED:
		return "uc";
	case PGT_PROT_NONCACHEABLE:
		return "nc";
	case PGT_PROT_WRITECOMBINE:
		return "wc";
	default:
		return "wb";
	}
}

/* ------------------------------------------------------------------------ */
/* dump                                                                       */

/** Whether @p m continues the run that ends with @p last: addresses, page size, attributes. */
static bool continues(const struct pgt_mapping *last, const struct pgt_mapping *m)
{
	return last->va + last->size == m->va && last->pa + last->size == m->pa && last->size == m->size &&
	       last->prot == m->prot;
}

static void print_run(const struct pgt_mapping *first, const struct pgt_mapping *last)
{
	char page[24], letters[6];
	uint64_t end = last->va + last->size;

	printf("%016" PRIx64 "-%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %s %s %s\n", first->va, end, first->pa,
	       end - first->va, size_name(first->size, page), prot_letters(first->prot, letters),
	       memtype_name(first->prot));
}

static int cmd_dump(struct side *s)
{
	struct leaves l = { 0 };

	collect_leaves(s, &l, "dump");
	for (size_t i = 0, start = 0; i < l.n; i++) {
		if (i + 1 < l.n && continues(&l.m[i], &l.m[i + 1]))
			continue;
		print_run(&l.m[start], &l.m[i]);
		start = i + 1;
	}
	free(l.m);
	return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* walk                                                                       */

static const struct {
	unsigned bit;
	const char *name;
} prot_names[] = {
	{ PGT_PROT_READ, "read" },
	{ PGT_PROT_WRITE, "write" },
	{ PGT_PROT_EXEC, "exec" },
	{ PGT_PROT_USER, "user" },
	{ PGT_PROT_GLOBAL, "global" },
	{ PGT_PROT_UNCACHED, "uncached" },
	{ PGT_PROT_NONCACHEABLE, "noncacheable" },
	{ PGT_PROT_WRITECOMBINE, "writecombine" },
};

/** One leaf as a JSON object: addresses and size as hex strings (beyond a double's 53 bits). */
static void print_json_leaf(const struct pgt_mapping *m)
{
	const char *sep = "";

	printf("{\"va\":\"0x%" PRIx64 "\",\"pa\":\"0x%" PRIx64 "\",\"size\":\"0x%" PRIx64 "\",\"prot\":[", m->va,
	       m->pa, m->size);
	for (size_t i = 0; i < sizeof prot_names / sizeof prot_names[0]; i++) {
		if (m->prot & prot_names[i].bit) {
			printf("%s\"%s\"", sep, prot_names[i].name);
			sep = ",";
		}
	}
	printf("],\"level\":%u}", m->level);
}

static void print_text_leaf(const struct pgt_mapping *m)
{
	char page[24], letters[6];

	printf("%016" PRIx64 " %016" PRIx64 " %s %s %s %u\n", m->va, m->pa, size_name(m->size, page),
	       prot_letters(m->prot, letters), memtype_name(m->prot), m->level);
}

enum walk_form { WALK_TEXT, WALK_JSON_LINES, WALK_JSON_ARRAY };

static int cmd_walk(struct side *s, enum walk_form form)
{
	struct leaves l = { 0 };

	collect_leaves(s, &l, "walk");
	if (form == WALK_JSON_ARRAY)
		printf("[");
	for (size_t i = 0; i < l.n; i++) {
		if (form == WALK_TEXT) {
			print_text_leaf(&l.m[i]);
			continue;
		}
		if (form == WALK_JSON_ARRAY && i > 0)
			printf(",\n");
		print_json_leaf(&l.m[i]);
		if (form == WALK_JSON_LINES)
			printf("\n");
	}
	if (form == WALK_JSON_ARRAY)
		printf("]\n");
	free(l.m);
	return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* translate                                                                  */

static const char *fault_name(int kind)
{
	static const char *const names[] = { "none",	   "not-present", "permission", "access-flag",
					     "reserved-bit", "dirty",	   "misconfig" };

	return kind >= 0 && (size_t)kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

/** One address: "VA PA" or "VA fault KIND level N"; 1 when it faults, else 0. */
static int translate_one(struct side *s, const char *text, unsigned access, int *status)
{
	uint64_t va = parse_u64("translate", text);
	pgt_paddr_t pa;
	struct pgt_fault f;
	int rc = pgt_translate(&s->sp, va, access, &pa, &f);

	if (rc == PGT_OK) {
		printf("%016" PRIx64 " %016" PRIx64 "\n", va, pa);
		return 0;
	}
	if (rc == PGT_EFAULT) {
		printf("%016" PRIx64 " fault %s level %u\n", va, fault_name(f.kind), f.level);
		return 1;
	}
	if (rc == PGT_ERANGE) {
		fprintf(stderr, "%s: translate: 0x%" PRIx64 " is not an address of %s%s\n", progname, va,
			s->arch->name, (s->flags & PGT_SPACE_UPPER) ? " (upper range)" : "");
		*status = EXIT_USAGE;
		return 0;
	}
	*status = walk_status(s, rc, "translate");
	return 0;
}

static int cmd_translate(struct side *s, char **vas, int n, unsigned access)
{
	int status = EXIT_OK, faults = 0;

	for (int i = 0; i < n && status == EXIT_OK; i++)
		faults += translate_one(s, vas[i], access, &status);
	return status != EXIT_OK ? status : faults ? EXIT_FOUND : EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* verify                                                                     */

static void print_problem(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	(void)arg;
	printf("%016" PRIx64 " level %u: %s\n", va, level, problem);
}

static int cmd_verify(struct side *s)
{
	int n = pgt_verify(&s->sp, print_problem, NULL);

	if (n < 0)
		fail(EXIT_IMAGE, "verify failed: %s (%s)", pgt_strerror(n), pgt_errname(n));
	printf("%d problem%s\n", n, n == 1 ? "" : "s");
	return n ? EXIT_FOUND : EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* diff                                                                       */

/** Orders leaves by address, then size. */
static int leaf_cmp(const struct pgt_mapping *a, const struct pgt_mapping *b)
{
	if (a->va != b->va)
		return a->va < b->va ? -1 : 1;
	return a->size < b->size ? -1 : a->size > b->size;
}

static void print_diff_leaf(char mark, const struct pgt_mapping *m)
{
	printf("%c ", mark);
	print_text_leaf(m);
}

/**
 * Leaves in both walks' address order: the same va and size on both sides
 * is a change when pa, rights or level differ; otherwise what only the
 * first side has was removed and what only the second has was added.
 */
static int cmd_diff(struct side *a, struct side *b)
{
	struct leaves la = { 0 }, lb = { 0 };
	size_t i = 0, j = 0, differences = 0;

	collect_leaves(a, &la, "diff");
	collect_leaves(b, &lb, "diff");
	while (i < la.n || j < lb.n) {
		int c = i == la.n ? 1 : j == lb.n ? -1 : leaf_cmp(&la.m[i], &lb.m[j]);
		if (c < 0) {
			print_diff_leaf('-', &la.m[i++]);
			differences++;
		} else if (c > 0) {
			print_diff_leaf('+', &lb.m[j++]);
			differences++;
		} else {
			const struct pgt_mapping *x = &la.m[i++], *y = &lb.m[j++];
			if (x->pa == y->pa && x->prot == y->prot && x->level == y->level)
				continue;
			print_diff_leaf('<', x);
			print_diff_leaf('>', y);
			differences++;
		}
	}
	free(la.m);
	free(lb.m);
	return differences ? EXIT_FOUND : EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                               */

static void usage(FILE *to)
{
	fprintf(to, "usage: %s --arch NAME --root PA [--upper] [--base PA] IMAGE COMMAND [ARGS]\n"
		    "commands:\n"
		    "  dump                        runs of mappings: va range, pa, size, page, urwxg, type\n"
		    "  walk [--json|--json-array]  every leaf: va, pa, page size, rights, type, level\n"
		    "  translate [--access rwxu] VA...  the physical address, or the fault and its level\n"
		    "  verify                      pgt_verify's problems (exit status 1 when any)\n"
		    "  diff [--root PA] [--base PA] [IMAGE2]  leaves removed (-), added (+), changed (< >)\n"
		    "IMAGE: raw physical memory from --base (default 0), or a QEMU dump-guest-memory ELF core\n",
		progname);
}

/** Reads "--name VALUE" or "--name=VALUE" at argv[*i]; NULL when argv[*i] is not that option. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *arg = argv[*i];

	if (strncmp(arg, name, n) != 0)
		return NULL;
	if (arg[n] == '=')
		return arg + n + 1;
	if (arg[n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		fail(EXIT_USAGE, "%s needs a value", name);
	return argv[++*i];
}

struct args {
	const struct pgt_arch *arch;
	unsigned flags; /**< PGT_SPACE_UPPER with --upper */
	struct side first, second;
	const char *command;
	int rest; /**< index of the command's first argument */
};

/** The options before IMAGE and the command. */
static void parse_global(int argc, char **argv, struct args *a)
{
	int i = 1;
	const char *v;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			exit(EXIT_OK);
		} else if ((v = option_value(argc, argv, &i, "--arch"))) {
			a->arch = parse_arch(v);
		} else if ((v = option_value(argc, argv, &i, "--root"))) {
			a->first.root = parse_u64("--root", v);
			a->first.have_root = true;
		} else if ((v = option_value(argc, argv, &i, "--base"))) {
			a->first.base = parse_u64("--base", v);
		} else if (strcmp(argv[i], "--upper") == 0) {
			a->flags = PGT_SPACE_UPPER;
		} else {
			fail(EXIT_USAGE, "unknown option '%s' (--help lists them)", argv[i]);
		}
	}
	if (!a->arch)
		fail(EXIT_USAGE, "--arch NAME is required (--arch help lists the formats)");
	if (!a->first.have_root)
		fail(EXIT_USAGE, "--root PA is required: the physical address of the root table");
	if (i + 2 > argc)
		fail(EXIT_USAGE, "give an IMAGE and a COMMAND (--help lists them)");
	a->first.path = argv[i];
	a->command = argv[i + 1];
	a->rest = i + 2;
}

/** diff's own arguments: the second side, which defaults to the first. */
static void parse_diff(int argc, char **argv, struct args *a)
{
	const char *v;

	a->second = a->first;
	for (int i = a->rest; i < argc; i++) {
		if ((v = option_value(argc, argv, &i, "--root"))) {
			a->second.root = parse_u64("diff --root", v);
		} else if ((v = option_value(argc, argv, &i, "--base"))) {
			a->second.base = parse_u64("diff --base", v);
		} else if (argv[i][0] == '-') {
			fail(EXIT_USAGE, "diff: unknown option '%s'", argv[i]);
		} else if (a->second.path != a->first.path) {
			fail(EXIT_USAGE, "diff: one second image at most ('%s')", argv[i]);
		} else {
			a->second.path = argv[i];
		}
	}
}

/*
 * Each command reads its own arguments (so a bad one is reported before
 * the image is loaded), opens the view and runs.
 */

static void no_arguments(int argc, char **argv, const struct args *a)
{
	if (a->rest < argc)
		fail(EXIT_USAGE, "%s: unexpected argument '%s'", a->command, argv[a->rest]);
}

static int run_dump(int argc, char **argv, struct args *a)
{
	no_arguments(argc, argv, a);
	open_side(&a->first, a->arch, a->flags);
	return cmd_dump(&a->first);
}

static int run_walk(int argc, char **argv, struct args *a)
{
	enum walk_form form = WALK_TEXT;

	for (int i = a->rest; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			form = WALK_JSON_LINES;
		else if (strcmp(argv[i], "--json-array") == 0)
			form = WALK_JSON_ARRAY;
		else
			fail(EXIT_USAGE, "walk: unknown argument '%s'", argv[i]);
	}
	open_side(&a->first, a->arch, a->flags);
	return cmd_walk(&a->first, form);
}

static int run_translate(int argc, char **argv, struct args *a)
{
	unsigned access = PGT_ACC_READ;
	char **vas = calloc((size_t)argc, sizeof *vas);
	int n = 0;
	const char *v;

	if (!vas)
		fail(EXIT_IMAGE, "out of memory");
	for (int i = a->rest; i < argc; i++) {
		if ((v = option_value(argc, argv, &i, "--access")))
			access = parse_access(v);
		else if (argv[i][0] == '-')
			fail(EXIT_USAGE, "translate: unknown option '%s'", argv[i]);
		else
			vas[n++] = argv[i];
	}
	if (n == 0)
		fail(EXIT_USAGE, "translate: give one or more virtual addresses");
	open_side(&a->first, a->arch, a->flags);
	int status = cmd_translate(&a->first, vas, n, access);
	free(vas);
	return status;
}

static int run_verify(int argc, char **argv, struct args *a)
{
	no_arguments(argc, argv, a);
	open_side(&a->first, a->arch, a->flags);
	return cmd_verify(&a->first);
}

static int run_diff(int argc, char **argv, struct args *a)
{
	parse_diff(argc, argv, a);
	open_side(&a->first, a->arch, a->flags);
	open_side(&a->second, a->arch, a->flags);
	int status = cmd_diff(&a->first, &a->second);
	close_side(&a->second);
	return status;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv, struct args *a);
} commands[] = {
	{ "dump", run_dump }, { "walk", run_walk }, { "translate", run_translate },
	{ "verify", run_verify }, { "diff", run_diff },
};

int main(int argc, char **argv)
{
	struct args a = { 0 };
	int status = -1;

	parse_global(argc, argv, &a);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0] && status < 0; i++)
		if (strcmp(a.command, commands[i].name) == 0)
			status = commands[i].run(argc, argv, &a);
	if (status < 0)
		fail(EXIT_USAGE, "unknown command '%s': dump, walk, translate, verify or diff", a.command);
	close_side(&a.first);
	if (fflush(stdout) != 0 || ferror(stdout))
		fail(EXIT_IMAGE, "writing the output: %s", strerror(errno));
	return status;
}
