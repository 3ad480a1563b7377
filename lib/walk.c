/* SPDX-License-Identifier: MIT */
/*
 * Walk and dump: the leaves of a range in ascending address order, and the
 * QEMU `info mem` style listing built on top of them. A range, or the whole
 * space (the _all calls), becomes offsets into the space (see
 * pgt__va_offset), and one walker works on offsets.
 */
#include "internal.h"

/** A walk in progress. */
struct walk {
	const pgt_space_t *sp;
	uint64_t lo, end; /**< offsets: [lo, end) */
	int (*visit)(void *arg, const struct pgt_mapping *m);
	void *arg;
};

/**
 * [va, va + size) as offsets [*lo, *end), after the checks every range call
 * makes (pgt__range_check), in bytes: walks and dumps may start and end
 * anywhere. The last byte, not the end, is converted, so that a range
 * ending at 2^64 needs no special case.
 */
static int range_offsets(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, uint64_t *lo, uint64_t *end)
{
	int rc = pgt__range_check(sp, va, size, 1);

	if (rc != PGT_OK)
		return rc;
	*lo = pgt__va_offset(sp, va);
	*end = pgt__va_offset(sp, va + (size - 1)) + 1;
	return PGT_OK;
}

/** Reports one leaf to the visitor. */
static int visit_leaf(const struct walk *w, unsigned level, pgt_pte_t pte, uint64_t off)
{
	const struct pgt_level *L = pgt__level(w->sp, level);
	struct pgt_mapping m = {
		.va = pgt__offset_va(w->sp, off),
		.pa = pgt__leaf_oa(L, pte),
		.size = 1ull << L->shift,
		.prot = w->sp->pgt__arch->prot_decode(level, pte),
		.level = level,
	};

	return w->visit(w->arg, &m);
}

/**
 * Visits the leaves under @p table (a table at @p level covering offsets
 * from @p base) that overlap the walk's range. Empty entries are skipped
 * without looking below them; malformed ones too (pgt_verify reports them).
 * Recursion depth is bounded by the level count.
 */
static int walk_table(const struct walk *w, unsigned level, const pgt_pte_t *table, uint64_t base)
{
	const struct pgt_level *L = pgt__level(w->sp, level);
	uint64_t from = w->lo > base ? w->lo - base : 0;
	uint64_t last = ((w->end - 1 - base) >> L->shift);
	unsigned first = (unsigned)(from >> L->shift);
	unsigned stop = last < pgt__entries(L) ? (unsigned)last : pgt__entries(L) - 1u;

	for (unsigned i = first; i <= stop; i++) {
		pgt_pte_t pte = pgt__pte_load(&table[i]);
		uint64_t off = base + ((uint64_t)i << L->shift);
		int rc = 0;

		if (pgt__is_table(L, level, pte)) {
			const pgt_pte_t *next = pgt__next_table(w->sp, L, pte);
			rc = next ? walk_table(w, level - 1, next, off) : PGT_EHOOK;
		} else if (pgt__is_mapped_leaf(L, pte)) {
			rc = visit_leaf(w, level, pte, off);
		}
		if (rc != 0)
			return rc;
	}
	return PGT_OK;
}

/** Visits the leaves overlapping offsets [lo, end): the one walker under the four public calls. */
static int walk_offsets(const pgt_space_t *sp, uint64_t lo, uint64_t end,
			int (*visit)(void *arg, const struct pgt_mapping *m), void *arg)
{
	const struct walk w = { .sp = sp, .lo = lo, .end = end, .visit = visit, .arg = arg };

	return walk_table(&w, pgt__root_level(sp), sp->pgt__root, 0);
}

int pgt_walk(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t size,
	     int (*visit)(void *arg, const struct pgt_mapping *m), void *arg)
{
	uint64_t lo, end;

	if (!pgt__space_ok(sp) || !visit)
		return PGT_EINVAL;
	int rc = range_offsets(sp, va, size, &lo, &end);
	return rc == PGT_OK ? walk_offsets(sp, lo, end, visit, arg) : rc;
}

int pgt_walk_all(const pgt_space_t *sp, int (*visit)(void *arg, const struct pgt_mapping *m), void *arg)
{
	if (!pgt__space_ok(sp) || !visit)
		return PGT_EINVAL;
	return walk_offsets(sp, 0, pgt__space_span(sp), visit, arg);
}

/* ------------------------------------------------------------------------ */
/* Dump                                                                      */

/** Letters of a line, as bits: u, r, w, x. */
enum { DUMP_U = 8, DUMP_R = 4, DUMP_W = 2, DUMP_X = 1 };

/**
 * "start-end size urwx page type": three 16-digit numbers, separators, four
 * letters, a page size of at most four characters ("512M"), a two-letter type.
 */
#define DUMP_LINE (3 * 16 + 3 + 4 + 1 + 4 + 1 + 2 + 1)

/** A run of virtually contiguous leaves with the same rights, page size and memory type. */
struct dump {
	const pgt_space_t *sp;
	pgt_vaddr_t lo, last;   /**< the requested range, last byte included */
	pgt_vaddr_t start, end; /**< the open run, [start, end); end 0: the top */
	unsigned letters;       /**< DUMP_* */
	uint64_t page;          /**< the leaves' size */
	unsigned memtype;       /**< their PGT_PROT_MEMTYPE bits */
	bool open;
	void (*print)(void *arg, const char *line);
	void *arg;
};

/** Writes @p v as 16 lower-case hex digits. */
static char *put_hex(char *out, uint64_t v)
{
	for (int shift = 60; shift >= 0; shift -= 4)
		*out++ = "0123456789abcdef"[(v >> shift) & 15];
	return out;
}

/** Writes a page size as a number and a unit: "4K", "2M", "512G", "256T". */
static char *put_page_size(char *out, uint64_t size)
{
	static const char units[] = "KMGT";
	unsigned u = 0;
	char digits[4];
	unsigned n = 0;

	size >>= 10;
	while (u + 1 < sizeof units - 1 && size >= 1024 && (size & 1023) == 0) {
		size >>= 10;
		u++;
	}
	do
		digits[n++] = (char)('0' + size % 10);
	while ((size /= 10) != 0 && n < sizeof digits);
	while (n)
		*out++ = digits[--n];
	*out++ = units[u];
	return out;
}

/** The two letters of a memory type: wb normal write-back, uc device, nc non-cacheable, wc write-combining. */
static const char *memtype_name(unsigned memtype)
{
	switch (memtype) {
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

/**
 * Prints the open run, as QEMU's `info mem` (target/i386/monitor.c) lays it
 * out, plus an x column, the page size and the memory type.
 */
static void dump_flush(struct dump *d)
{
	char line[DUMP_LINE], *p = line;

	if (!d->open)
		return;
	p = put_hex(p, d->start);
	*p++ = '-';
	p = put_hex(p, d->end);
	*p++ = ' ';
	p = put_hex(p, d->end - d->start);
	*p++ = ' ';
	*p++ = (d->letters & DUMP_U) ? 'u' : '-';
	*p++ = (d->letters & DUMP_R) ? 'r' : '-';
	*p++ = (d->letters & DUMP_W) ? 'w' : '-';
	*p++ = (d->letters & DUMP_X) ? 'x' : '-';
	*p++ = ' ';
	p = put_page_size(p, d->page);
	*p++ = ' ';
	for (const char *t = memtype_name(d->memtype); *t; t++)
		*p++ = *t;
	*p = '\0';
	d->print(d->arg, line);
	d->open = false;
}

/**
 * The letters of a leaf: what the MMU grants there, as QEMU shows the rights
 * ANDed down the walk. u: unprivileged data access; r, w, x: read, write,
 * execute at either privilege. A reserved leaf grants nothing.
 */
static unsigned dump_letters(const pgt_space_t *sp, const struct pgt_mapping *m)
{
	unsigned r = pgt__rights(sp, m->va);
	unsigned letters = (r & PGT_RIGHT_UR) ? DUMP_U : 0;

	letters |= (r & (PGT_RIGHT_PR | PGT_RIGHT_UR)) ? DUMP_R : 0;
	letters |= (r & (PGT_RIGHT_PW | PGT_RIGHT_UW)) ? DUMP_W : 0;
	return letters | ((r & (PGT_RIGHT_PX | PGT_RIGHT_UX)) ? DUMP_X : 0);
}

/**
 * Extends the open run with one leaf (clipped to the range) or starts a new
 * one where the rights, the page size or the memory type change.
 */
static int dump_visit(void *arg, const struct pgt_mapping *m)
{
	struct dump *d = arg;
	pgt_vaddr_t start = m->va < d->lo ? d->lo : m->va;
	pgt_vaddr_t last = m->va + (m->size - 1);
	unsigned letters = dump_letters(d->sp, m);
	unsigned memtype = m->prot & PGT_PROT_MEMTYPE;
	pgt_vaddr_t end = (last > d->last ? d->last : last) + 1; /* 0 at the top of the address space */

	if (d->open && d->end == start && d->letters == letters && d->page == m->size && d->memtype == memtype) {
		d->end = end;
		return 0;
	}
	dump_flush(d);
	d->start = start;
	d->end = end;
	d->letters = letters;
	d->page = m->size;
	d->memtype = memtype;
	d->open = true;
	return 0;
}

/** Prints the runs in offsets [lo, end), clipped to them. */
static int dump_offsets(const pgt_space_t *sp, uint64_t lo, uint64_t end,
			void (*print)(void *arg, const char *line), void *arg)
{
	struct dump d = {
		.sp = sp,
		.lo = pgt__offset_va(sp, lo),
		.last = pgt__offset_va(sp, end - 1),
		.print = print,
		.arg = arg,
	};
	int rc = walk_offsets(sp, lo, end, dump_visit, &d);

	if (rc != PGT_OK)
		return rc;
	dump_flush(&d);
	return PGT_OK;
}

int pgt_dump(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, void (*print)(void *arg, const char *line),
	     void *arg)
{
	uint64_t lo, end;

	if (!pgt__space_ok(sp) || !print)
		return PGT_EINVAL;
	int rc = range_offsets(sp, va, size, &lo, &end);
	return rc == PGT_OK ? dump_offsets(sp, lo, end, print, arg) : rc;
}

int pgt_dump_all(const pgt_space_t *sp, void (*print)(void *arg, const char *line), void *arg)
{
	if (!pgt__space_ok(sp) || !print)
		return PGT_EINVAL;
	return dump_offsets(sp, 0, pgt__space_span(sp), print, arg);
}
