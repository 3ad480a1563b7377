/* SPDX-License-Identifier: MIT */
/*
 * The architecture-independent half of the test kernels: console
 * formatting, the frame allocator behind every space, the records of what
 * was installed (for the monitor comparison), and the boot sequence that
 * builds the kernel's own space with the library and switches to it.
 */
#include "kernel.h"

/* ---- libc pieces the compiler may call (the library needs these four) --- */

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;
	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	if (dp < sp)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

/* ---- formatting: %s %c %d %u %x, with l/ll for 64 bits ------------------ */

struct sink {
	char *buf; /**< NULL: straight to the console */
	size_t size, len;
};

static void put(struct sink *s, char c)
{
	if (!s->buf)
		hw_arch_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len++] = c;
}

static void put_num(struct sink *s, uint64_t v, unsigned base, int negative)
{
	char digits[24];
	unsigned n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (negative)
		put(s, '-');
	while (n)
		put(s, digits[--n]);
}

/** Reads one integer argument of the width the conversion's l/ll prefix says. */
static uint64_t arg_int(va_list *ap, int longs, int is_signed, int *negative)
{
	int64_t v;

	if (is_signed) {
		v = longs ? va_arg(*ap, long long) : va_arg(*ap, int);
		*negative = v < 0;
		return *negative ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	}
	*negative = 0;
	return longs ? va_arg(*ap, unsigned long long) : va_arg(*ap, unsigned);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	va_list aq;

	va_copy(aq, ap);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(s, *fmt);
			continue;
		}
		int longs = 0, negative;
		while (*++fmt == 'l')
			longs = 1;
		if (*fmt == 's') {
			for (const char *p = va_arg(aq, const char *); p && *p; p++)
				put(s, *p);
		} else if (*fmt == 'c') {
			put(s, (char)va_arg(aq, int));
		} else if (*fmt == 'd' || *fmt == 'u' || *fmt == 'x') {
			uint64_t v = arg_int(&aq, longs, *fmt == 'd', &negative);
			put_num(s, v, *fmt == 'x' ? 16 : 10, negative);
		} else {
			put(s, '%');
			if (!*fmt)
				break;
			put(s, *fmt);
		}
	}
	va_end(aq);
	if (s->buf)
		s->buf[s->len] = 0;
}

void hw_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { .buf = buf, .size = size };
	format(&s, fmt, ap);
}

void hw_format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hw_vformat(buf, size, fmt, ap);
	va_end(ap);
}

void hw_printf(const char *fmt, ...)
{
	struct sink s = { 0 };
	va_list ap;

	va_start(ap, fmt);
	format(&s, fmt, ap);
	va_end(ap);
}

_Noreturn void hw_panic(const char *fmt, ...)
{
	struct sink s = { 0 };
	va_list ap;

	hw_printf("@panic ");
	va_start(ap, fmt);
	format(&s, fmt, ap);
	va_end(ap);
	hw_printf("\n");
	hw_arch_exit(0);
}

/* ---- frames for tables --------------------------------------------------- */

/*
 * Tables come from a bump pool in the kernel image, which the identity map
 * covers, so pa == va before and after paging is on (p2v_offset 0). Freed
 * frames are only counted: a run is short, and a leak still shows.
 */
#define POOL_SIZE (4u << 20)
static unsigned char pool[POOL_SIZE] __attribute__((aligned(65536)));
static uintptr_t pool_next;
long hw_tables_live;
unsigned long hw_flushes;

static pgt_paddr_t pool_alloc(void *ctx, size_t size, unsigned level)
{
	uintptr_t start = ((uintptr_t)pool + pool_next + size - 1) & ~(uintptr_t)(size - 1);

	(void)ctx;
	(void)level;
	if (start + size > (uintptr_t)pool + POOL_SIZE)
		return PGT_PADDR_NONE;
	pool_next = start + size - (uintptr_t)pool;
	hw_tables_live++;
	return (pgt_paddr_t)start;
}

/* A freed table is cleared, so a walk that still reaches it faults instead of working by luck. */
static void pool_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)ctx;
	(void)level;
	if (pa < (uintptr_t)pool || pa + size > (uintptr_t)pool + POOL_SIZE)
		hw_panic("free of a frame not from the pool: %lx", pa);
	memset((void *)(uintptr_t)pa, 0, size);
	hw_tables_live--;
}

/* The library calls this after it removed or downgraded valid translations. */
static void flush_hook(void *ctx, pgt_vaddr_t va, uint64_t size)
{
	(void)ctx;
	hw_flushes++;
	hw_arch_flush(va, size);
}

void (*hw_leaf_ad)(pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned ad);

/* Accessed/dirty state of leaves the library removed or changed: for the case that asked. */
static void leaf_ad_hook(void *ctx, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned ad)
{
	(void)ctx;
	if (hw_leaf_ad)
		hw_leaf_ad(va, pa, size, ad);
}

struct pgt_mm hw_mm = {
	.alloc_table = pool_alloc,
	.free_table = pool_free,
	.p2v_offset = 0,
	.tlb_flush = flush_hook,
	.leaf_ad = leaf_ad_hook,
};

/* ---- records of installed leaves ----------------------------------------- */

/*
 * A record is a run of equal leaves (one leaf when page == size). Records
 * of a range another space borrows (pgt_share) are kept under the owner,
 * whichever space the mapping was made through: both see the same tables.
 */
#define MAX_LEAVES 512
#define MAX_SHARES 8
static struct hw_leaf leaves[MAX_LEAVES];
static unsigned nleaves;
static struct {
	const pgt_space_t *dst, *src;
	pgt_vaddr_t va;
	uint64_t size;
} shares[MAX_SHARES];
static unsigned nshares;

void hw_note_share(const pgt_space_t *dst, const pgt_space_t *src, pgt_vaddr_t va, uint64_t size)
{
	if (nshares == MAX_SHARES)
		hw_panic("too many shares");
	shares[nshares].dst = dst;
	shares[nshares].src = src;
	shares[nshares].va = va;
	shares[nshares++].size = size;
}

void hw_drop_shares(const pgt_space_t *dst)
{
	unsigned j = 0;

	for (unsigned i = 0; i < nshares; i++)
		if (shares[i].dst != dst)
			shares[j++] = shares[i];
	nshares = j;
}

/** The space whose tables hold @p va for @p sp. */
static const pgt_space_t *owner(const pgt_space_t *sp, pgt_vaddr_t va)
{
	for (unsigned i = 0; i < nshares; i++)
		if (shares[i].dst == sp && va - shares[i].va <= shares[i].size - 1)
			return shares[i].src;
	return sp;
}

static void add_record(struct hw_leaf r)
{
	if (nleaves == MAX_LEAVES)
		hw_panic("too many leaf records");
	leaves[nleaves++] = r;
}

void hw_record_run(const pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, uint64_t page,
		   unsigned prot)
{
	hw_forget(sp, va, size);
	add_record((struct hw_leaf){
		.sp = owner(sp, va), .va = va, .pa = pa, .size = size, .page = page, .prot = prot });
}

void hw_record(const pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned prot)
{
	hw_record_run(sp, va, pa, size, size, prot);
}

/** Keeps the part of @p r outside [va, last] (runs split at page boundaries). */
static void keep_outside(const struct hw_leaf *r, pgt_vaddr_t va, pgt_vaddr_t last, struct hw_leaf out[2],
			 unsigned *n)
{
	pgt_vaddr_t r_last = r->va + r->size - 1;

	*n = 0;
	if (r->va < va)
		out[(*n)++] = (struct hw_leaf){ .sp = r->sp,
						.va = r->va,
						.pa = r->pa,
						.size = va - r->va,
						.page = r->page,
						.prot = r->prot };
	if (r_last > last)
		out[(*n)++] = (struct hw_leaf){ .sp = r->sp,
						.va = last + 1,
						.pa = r->pa + (last + 1 - r->va),
						.size = r_last - last,
						.page = r->page,
						.prot = r->prot };
}

void hw_forget(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t size)
{
	const pgt_space_t *o = owner(sp, va);
	pgt_vaddr_t last = va + size - 1;
	static struct hw_leaf kept[MAX_LEAVES];
	unsigned n = 0;

	for (unsigned i = 0; i < nleaves; i++) {
		const struct hw_leaf *r = &leaves[i];
		struct hw_leaf part[2];
		unsigned np = 0;
		if (r->sp != o || r->va > last || r->va + r->size - 1 < va) {
			kept[n++] = *r;
			continue;
		}
		keep_outside(r, va, last, part, &np);
		if (n + np > MAX_LEAVES)
			hw_panic("too many leaf records");
		for (unsigned k = 0; k < np; k++)
			kept[n++] = part[k];
	}
	memcpy(leaves, kept, n * sizeof kept[0]);
	nleaves = n;
}

void hw_split_record(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t page)
{
	const pgt_space_t *o = owner(sp, va);

	for (unsigned i = 0; i < nleaves; i++)
		if (leaves[i].sp == o && va - leaves[i].va < leaves[i].size)
			leaves[i].page = page;
}

void hw_forget_space(const pgt_space_t *sp)
{
	unsigned j = 0;

	for (unsigned i = 0; i < nleaves; i++)
		if (leaves[i].sp != sp)
			leaves[j++] = leaves[i];
	nleaves = j;
}

/** Whether the active space sees record @p r: its own, or one it borrows. */
static int visible(const struct hw_leaf *r, const pgt_space_t *sp)
{
	return r->sp == sp || owner(sp, r->va) == r->sp;
}

static int install_leaf(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, unsigned shift, unsigned prot)
{
	pgt_ref_t ref;
	int rc = pgt_insert(sp, va, shift, &ref);

	if (rc != PGT_OK)
		return rc;
	rc = pgt_set_field(sp, ref, PGT_FIELD_PADDR, pa);
	return rc != PGT_OK ? rc : pgt_set_field(sp, ref, PGT_FIELD_PROT, prot);
}

int hw_install(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, unsigned shift, unsigned prot)
{
	int rc = install_leaf(sp, va, pa, shift, prot);

	if (rc == PGT_OK && (prot & (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC)))
		hw_record(sp, va, pa, 1ull << shift, prot);
	return rc;
}

#ifndef HW_BROKEN
#define HW_BROKEN 0
#endif

/*
 * Self-test sabotage, one kind per broken build: 1 points the leaf at the
 * next frame, 2 drops the write right. The record keeps what was asked for,
 * so both the case and the monitor comparison must notice.
 */
int hw_install_victim(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, unsigned shift, unsigned prot)
{
	pgt_paddr_t real_pa = HW_BROKEN == 1 ? pa + (1ull << shift) : pa;
	unsigned real_prot = HW_BROKEN == 2 ? prot & ~(unsigned)PGT_PROT_WRITE : prot;
	int rc = install_leaf(sp, va, real_pa, shift, real_prot);

	if (HW_BROKEN)
		hw_printf("@sabotage %s\n", HW_BROKEN == 1 ? "wrong-frame" : "missing-write");
	if (rc == PGT_OK)
		hw_record(sp, va, pa, 1ull << shift, prot);
	return rc;
}

/* ---- the active space and monitor checkpoints ---------------------------- */

pgt_space_t *hw_active;

void hw_switch(pgt_space_t *sp)
{
	hw_active = sp;
	hw_arch_switch(pgt_space_root(sp));
}

/** Every mapping the library's walk finds, for the harness to hold against QEMU's walk. */
static int print_mapping(void *arg, const struct pgt_mapping *m)
{
	(void)arg;
	hw_printf("@walk %lx %lx %lx %x %u\n", m->va, m->pa, m->size, m->prot, m->level);
	return 0;
}

/**
 * What pgt_translate says for a read at @p va, for the harness to ask QEMU
 * too. QEMU's gva2gpa reads as a debugger does: privileged, but seeing
 * user pages (on RISC-V as if sstatus.SUM were set, which the kernel keeps
 * clear). So where the privileged read is refused, a user read is asked as
 * well; where the kernel may read every page a user may (x86-64 without
 * SMAP, ARMv8 without PAN), that changes no answer.
 */
static void print_translation(pgt_vaddr_t va)
{
	pgt_paddr_t pa;
	struct pgt_fault f, uf;

	if (pgt_translate(hw_active, va, PGT_ACC_READ, &pa, &f) == PGT_OK ||
	    (f.kind == PGT_FAULT_PERMISSION &&
	     pgt_translate(hw_active, va, PGT_ACC_READ | PGT_ACC_USER, &pa, &uf) == PGT_OK))
		hw_printf("@xlate %lx %lx\n", va, pa);
	else
		hw_printf("@xlate %lx none %d %u\n", va, f.kind, f.level);
}

/** First and last word of each run the active space sees, and the word after it. */
static void print_translations(void)
{
	for (unsigned i = 0; i < nleaves; i++) {
		const struct hw_leaf *l = &leaves[i];
		if (!visible(l, hw_active))
			continue;
		print_translation(l->va);
		print_translation(l->va + l->size - 8);
		if (l->va + l->size != 0)
			print_translation(l->va + l->size);
	}
}

static void print_dump_line(void *arg, const char *line)
{
	(void)arg;
	hw_printf("@dump %s\n", line);
}

static void print_problem(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	(void)arg;
	hw_printf("@problem %lx %u %s\n", va, level, problem);
}

/** pgt_dump's lines (QEMU's `info mem` layout) and pgt_verify's findings on the live tree. */
static void print_dump_and_verify(void)
{
	int rc = pgt_dump_all(hw_active, print_dump_line, NULL);

	hw_printf("@dumpdone %d\n", rc);
	hw_printf("@verify %d\n", pgt_verify(hw_active, print_problem, NULL));
}

void hw_checkpoint(const char *tag)
{
	hw_printf("@space %s %lx\n", tag, pgt_space_root(hw_active));
	for (unsigned i = 0; i < nleaves; i++) {
		const struct hw_leaf *l = &leaves[i];
		if (visible(l, hw_active))
			hw_printf("@leaf %lx %lx %lx %x %lx\n", l->va, l->pa, l->size, l->prot, l->page);
	}
	int rc = pgt_walk_all(hw_active, print_mapping, NULL);
	hw_printf("@walkdone %d\n", rc);
	print_translations();
	print_dump_and_verify();
	hw_printf("@sync %s\n", tag);
	if (hw_arch_getc() < 0)
		hw_panic("no go-ahead from the harness");
}

/* ---- boot ---------------------------------------------------------------- */

/*
 * The identity map of the kernel's RAM, in level-1 leaves unless level 1 is
 * the root (a root-level leaf could not be shared with pgt_share), made
 * with pgt_insert and pgt_set_field and recorded as one run.
 */
static int map_identity(pgt_space_t *sp, const struct hw_layout *L)
{
	unsigned level = L->arch->levels > 2 && L->arch->level[1].leaf_ok ? 1 : 0;
	unsigned shift = L->arch->level[level].shift;
	uint64_t step = 1ull << shift, size = (L->ident_size + step - 1) & ~(step - 1);
	unsigned prot = PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC | PGT_PROT_GLOBAL;

	for (uint64_t off = 0; off < size; off += step) {
		int rc = install_leaf(sp, L->ram_base + off, L->ram_base + off, shift, prot);
		if (rc != PGT_OK)
			return rc;
	}
	hw_record_run(sp, L->ram_base, L->ram_base, size, step, prot);
	return PGT_OK;
}

/* A bad root livelocks the MMU (the vector fetch faults too): check first. */
static void check_vital(const pgt_space_t *sp)
{
	pgt_vaddr_t vital[8];
	unsigned n = 0;

	hw_arch_vital(vital, &n);
	for (unsigned i = 0; i < n; i++)
		if (pgt_lookup(sp, vital[i], NULL) != PGT_OK)
			hw_panic("kernel space lacks %lx", vital[i]);
}

static pgt_space_t kernel_space;

/** Entered from the boot code, on the boot stack, with the boot translation. */
_Noreturn void hw_main(void);
_Noreturn void hw_main(void)
{
	const struct hw_layout *L = hw_arch_layout();
	int rc;

	hw_arch_init();
	hw_printf("@boot %s\n", L->name);
	hw_printf("@format %s\n", L->arch->name);
	rc = pgt_space_init(&kernel_space, L->arch, &hw_mm, 0);
	if (rc != PGT_OK)
		hw_panic("pgt_space_init: %s", pgt_strerror(rc));
	rc = map_identity(&kernel_space, L);
	if (rc == PGT_OK)
		rc = hw_arch_map_devices(&kernel_space);
	if (rc != PGT_OK)
		hw_panic("kernel map: %s", pgt_strerror(rc));
	check_vital(&kernel_space);
	hw_switch(&kernel_space);
	hw_printf("@switched %lx\n", pgt_space_root(&kernel_space));

	unsigned failed = hw_run_cases(&kernel_space);
	hw_printf("@done %u\n", failed);
	hw_arch_exit(1);
}
