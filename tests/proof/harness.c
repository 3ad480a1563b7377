/* SPDX-License-Identifier: MIT */
/*
 * Eva harnesses on the library's own code (tests/proof/run.sh builds and
 * runs them). Eva is sound: a property below holds for every input the
 * harness allows when the analysis ends with no alarm and every CHECK's
 * failure branch dead.
 *
 * Compiled once per format: PROOF_ARCH is the descriptor, PROOF_FRAME the
 * bytes of one table, PROOF_FRAMES the frames of the arena. The allocator
 * hands out arena frames and fails at the call the harness chooses (or
 * never); free_table checks the frame is one it gave out.
 *
 * Entry points (Eva's -main):
 *  proof_safety:  init, insert and lookup at any va, any page shift, with
 *                 frames that start as garbage and a failure at any call:
 *                 no undefined behaviour; then pgt_space_destroy of a tree
 *                 of bounded shape (a leaf of each of the three smallest
 *                 sizes, tables at every level, one insert failing at any
 *                 allocation): no undefined behaviour, every table freed
 *                 exactly once.
 *  proof_insert:  bounded addresses and every failure point: insert OK
 *                 means every address of the page looks up the new leaf
 *                 with its level and shift; an error leaves the tables and
 *                 the allocator's books as they were; set_field changes
 *                 one entry only; no double free.
 *  proof_offset:  proof_safety's first part in the constant-offset P2V
 *                 mode (no p2v hook), over the arena as absolute memory
 *                 (with PROOF_WIDE_TABLES its frames start zeroed).
 *  proof_range:   pgt_map (new tables), pgt_unmap and pgt_protect (a
 *                 superpage split) all-or-nothing under a failure of
 *                 alloc_table or p2v at every call.
 *  proof_destroy: (PROOF_WIDE_TABLES only) proof_safety's destroy part
 *                 where tables are too wide for it: every table freed
 *                 exactly once.
 * A frame the allocator gets back holds anything from then on.
 *
 * PROOF_ANY_TABLES (tables too wide for Eva to unroll the loops over their
 * entries, ARMv8 64K's 8192): run.sh then unrolls no such loop, so Eva
 * merges a loop's entries: a write at a loop's index may land in any entry
 * the loop passes, a read gives what any of them holds. Only proof_safety
 * runs, its frames starting zeroed (garbage would stay garbage through a
 * clearing loop so merged, and insert reads the entry where its walk
 * stopped twice: Eva, not relating the two reads, would follow an empty
 * entry that was not empty a moment before). p2v turns every address into
 * an arena frame, whatever the entry it came from says, and free_table
 * takes any address: destroy is shown free of undefined behaviour, not
 * that it frees each table once (proof_destroy, in mode wide, shows that).
 *
 * PROOF_WIDE_TABLES (the same tables, for proof_offset, proof_insert,
 * proof_range and proof_destroy): no table loop is unrolled either, but
 * the frames start zeroed and the library writes at the few known indices
 * of the harness's addresses, so Eva keeps every table exact. A loop over
 * a table's entries is exact for its first iterations (Eva keeps up to its
 * slevel, 250 at -eva-precision 7, of states apart before it merges) and
 * merged after: a clearing loop writes zero over zero there, a split's
 * fill writes a range of leaves that no check reads (the checks read
 * entries 0 and 1), destroy's loop reads zero. So every table and leaf the
 * harnesses place lies at a low index or is written outside a loop; the
 * test that a frame is as before unrolls its first and last two words only
 * (frame_as_before). proof_offset keeps its any va and any shift: a write
 * at an index Eva does not know leaves every entry of the table what it
 * held or the value written, so from zeroed frames every entry holds zero
 * or a value the library wrote, a leaf or a link to an arena frame, and a
 * walk follows no link out of the arena.
 */
#include "__fc_builtin.h"
#include <pgtable/arch.h>
#include <pgtable/pgtable.h>
#include <string.h>

#ifndef PROOF_ARCH
#error "PROOF_ARCH names the descriptor under proof"
#endif
#ifndef PROOF_FRAMES
#define PROOF_FRAMES 6
#endif

#define ARENA_BASE ((pgt_paddr_t)PROOF_FRAME * 16)
#define NEVER (-1)

static const struct pgt_arch *const arch = &PROOF_ARCH;
/*
 * Each frame its own object: Eva bounds an access by its object, so a
 * table the library overruns is an alarm, not a write into the next frame.
 */
#if PROOF_FRAMES > 8
#error "at most 8 frames"
#endif
static uint64_t frame_0[PROOF_FRAME / 8], frame_1[PROOF_FRAME / 8], frame_2[PROOF_FRAME / 8],
	frame_3[PROOF_FRAME / 8], frame_4[PROOF_FRAME / 8], frame_5[PROOF_FRAME / 8], frame_6[PROOF_FRAME / 8],
	frame_7[PROOF_FRAME / 8];
static uint64_t *const arena[8] = { frame_0, frame_1, frame_2, frame_3, frame_4, frame_5, frame_6, frame_7 };
static uint64_t before[PROOF_FRAMES][PROOF_FRAME / 8];

/** The allocator's books, and the failure plan of this run. */
static struct {
	unsigned char used[PROOF_FRAMES];
	int allocs;     /* alloc_table calls so far */
	int p2vs;       /* p2v calls so far */
	int fail_alloc; /* the alloc_table call that fails, or NEVER */
	int fail_p2v;   /* the p2v call that answers NULL, or NEVER */
} books;

/** The failure branch of a CHECK: Eva must find it unreachable. */
static void proof_failed(int line)
{
	Frama_C_show_each_failed_check_at_line(line);
	/*@ assert proof_check: \false; */
}

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			proof_failed(__LINE__);                                                          \
	} while (0)

static pgt_paddr_t frame_pa(int i)
{
	return ARENA_BASE + (pgt_paddr_t)i * PROOF_FRAME;
}

/** The arena index of @p pa, or -1 for an address that is no arena frame. */
static int frame_index(pgt_paddr_t pa)
{
	pgt_paddr_t k = (pa - ARENA_BASE) / PROOF_FRAME;

	if (pa < ARENA_BASE || (pa - ARENA_BASE) % PROOF_FRAME != 0 || k >= PROOF_FRAMES)
		return -1;
	return (int)k;
}

/** Counts a call of one hook in *@p calls; whether the plan makes it fail (counting stops at 1000). */
static int fails_now(int *calls, int plan)
{
	int n = *calls;

	if (*calls < 1000)
		(*calls)++;
	return n == plan;
}

static pgt_paddr_t alloc_table(void *ctx, size_t size, unsigned level)
{
	(void)ctx;
	(void)level;
	CHECK(size == PROOF_FRAME);
	if (fails_now(&books.allocs, books.fail_alloc))
		return PGT_PADDR_NONE;
	for (int i = 0; i < PROOF_FRAMES; i++) {
		if (!books.used[i]) {
			books.used[i] = 1;
			return frame_pa(i);
		}
	}
	return PGT_PADDR_NONE;
}

static void free_table(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	int i = frame_index(pa);

	(void)ctx;
	(void)level;
	CHECK(size == PROOF_FRAME);
#ifndef PROOF_ANY_TABLES
	CHECK(i >= 0);             /* a frame of this allocator */
	CHECK(i >= 0 && books.used[i]); /* given out and not yet freed */
#endif
	if (i >= 0) {
		books.used[i] = 0;
		Frama_C_make_unknown((char *)arena[i], PROOF_FRAME); /* a free frame holds anything */
	}
}

#ifdef PROOF_ANY_TABLES
/** Any address is some arena frame: an entry read from a table may say anything. */
static void *p2v(void *ctx, pgt_paddr_t pa)
{
	(void)ctx;
	if (fails_now(&books.p2vs, books.fail_p2v))
		return NULL;
	return arena[(pa / PROOF_FRAME) % PROOF_FRAMES];
}
#else
static void *p2v(void *ctx, pgt_paddr_t pa)
{
	int i = frame_index(pa);

	(void)ctx;
	if (fails_now(&books.p2vs, books.fail_p2v))
		return NULL;
	CHECK(i >= 0 && books.used[i]); /* the library reads only frames it holds */
	return i >= 0 ? arena[i] : NULL;
}
#endif

static const struct pgt_mm mm = { .alloc_table = alloc_table, .free_table = free_table, .p2v = p2v };

static void start(int fail_alloc, int fail_p2v)
{
	memset(&books, 0, sizeof books);
	books.fail_alloc = fail_alloc;
	books.fail_p2v = fail_p2v;
}

/* ------------------------------------------------------------------------ */

/** The tables' words and the allocator's books, before an operation. */
static unsigned char used_before[PROOF_FRAMES];
static int frame_as_before(int i, const pgt_pte_t *skip);

static void snapshot(void)
{
	for (int i = 0; i < PROOF_FRAMES; i++)
		memcpy(before[i], arena[i], PROOF_FRAME);
	memcpy(used_before, books.used, sizeof used_before);
}

/**
 * All-or-nothing as pgtable.h states it: the allocator's books as before,
 * and every word of every frame that was a table before as it was (frames
 * allocated and freed within the failed call may hold scratch data).
 */
static void check_unchanged(void)
{
	for (int i = 0; i < PROOF_FRAMES; i++) {
		CHECK(books.used[i] == used_before[i]);
		if (used_before[i])
			CHECK(frame_as_before(i, NULL));
	}
}

/* Whether word w of frame i is as at the snapshot, or is the word at skip (a macro: a call per word costs Eva). */
#define WORD_AS_BEFORE(i, w, skip) (arena[i] + (w) == (skip) || arena[i][w] == before[i][w])

/** Whether frame @p i holds what it held at the snapshot, but for the word at @p skip (or NULL). */
static int frame_as_before(int i, const pgt_pte_t *skip)
{
	int same = 1;

#ifdef PROOF_WIDE_TABLES
	/*
	 * The same test, with only the words at the ends unrolled: the rest
	 * Eva merges, which proves them as before only when none of them was
	 * written (the harness's addresses have indices 0, 1 and the last).
	 */
	/*@ loop unroll 2; */
	for (int w = 0; w < 2; w++)
		same &= WORD_AS_BEFORE(i, w, skip);
	for (int w = 2; w < PROOF_FRAME / 8 - 2; w++)
		same &= WORD_AS_BEFORE(i, w, skip);
	/*@ loop unroll 2; */
	for (int w = PROOF_FRAME / 8 - 2; w < PROOF_FRAME / 8; w++)
		same &= WORD_AS_BEFORE(i, w, skip);
#else
	/*@ loop unroll PROOF_FRAME / 8; */
	for (int w = 0; w < PROOF_FRAME / 8; w++)
		same &= WORD_AS_BEFORE(i, w, skip);
#endif
	return same;
}

/** Every word of every table as at the snapshot but the entry *@p p. */
static void check_only_changed(const pgt_pte_t *p)
{
	for (int i = 0; i < PROOF_FRAMES; i++) {
		CHECK(books.used[i] == used_before[i]);
		CHECK(frame_as_before(i, p));
	}
}

static void check_all_freed(void)
{
	for (int i = 0; i < PROOF_FRAMES; i++)
		CHECK(!books.used[i]);
}

/** A clean space with the failure plan for what follows (init itself never fails here). */
static void fresh_space(pgt_space_t *sp)
{
	for (int i = 0; i < PROOF_FRAMES; i++)
		memset(arena[i], 0, PROOF_FRAME);
	start(NEVER, NEVER);
	if (pgt_space_init(sp, arch, &mm, 0) != PGT_OK)
		proof_failed(__LINE__);
}

static void plan(int fail_alloc, int fail_p2v)
{
	books.allocs = 0;
	books.p2vs = 0;
	books.fail_alloc = fail_alloc;
	books.fail_p2v = fail_p2v;
}

/** The address whose index is @p ix at every level below the root, and 0 at the root (the lower half). */
static pgt_vaddr_t va_at(unsigned ix)
{
	pgt_vaddr_t va = 0;

	for (unsigned l = 0; l + 1 < arch->levels; l++) {
		unsigned top = (1u << arch->level[l].bits) - 1;
		va |= (pgt_vaddr_t)(ix == 2 ? top : ix) << arch->level[l].shift;
	}
	return va;
}

/** A leaf page shift of the format, the @p k-th from the smallest (the smallest when there are fewer). */
static unsigned leaf_shift(unsigned k)
{
	unsigned shift = arch->level[0].shift;

	for (unsigned l = 0; l < arch->levels; l++) {
		if (arch->level[l].leaf_ok && k-- == 0)
			return arch->level[l].shift;
	}
	return shift;
}

/** A first mapping (a smallest page beside va_at(1)), so that later inserts meet existing tables. */
static int map_first(pgt_space_t *sp)
{
	return pgt_insert(sp, va_at(1) ^ ((pgt_vaddr_t)1 << arch->level[0].shift), arch->level[0].shift, NULL);
}

static int same_ref(pgt_ref_t a, pgt_ref_t b)
{
	return a.pte == b.pte && a.level == b.level && a.page_shift == b.page_shift;
}

/* ------------------------------------------------------------------------ */

/** Any canonical-or-not address: the library must refuse what it cannot take. */
static pgt_vaddr_t any_va(void)
{
	pgt_vaddr_t va;

	Frama_C_make_unknown((char *)&va, sizeof va);
	return va;
}

/** Init, insert at any address and shift, lookups: no undefined behaviour. */
static void safety_any_va(void)
{
	pgt_space_t sp;
	pgt_ref_t ref, got;
	pgt_vaddr_t va = any_va();
	unsigned shift = (unsigned)Frama_C_interval_split(0, 70);

	for (int i = 0; i < PROOF_FRAMES; i++)
#ifdef PROOF_ANY_TABLES
		memset(arena[i], 0, PROOF_FRAME);
#else
		Frama_C_make_unknown((char *)arena[i], PROOF_FRAME);
#endif
	start(Frama_C_interval_split(NEVER, PGT_MAX_LEVELS), NEVER); /* more than init and insert allocate */
	if (pgt_space_init(&sp, arch, &mm, 0) != PGT_OK)
		return;
	if (pgt_insert(&sp, va, shift, &ref) == PGT_OK)
		(void)pgt_lookup(&sp, va, &got);
	(void)pgt_lookup(&sp, any_va(), &got);
}

/** The start of the page of @p shift that holds @p va. */
static pgt_vaddr_t page_of(pgt_vaddr_t va, unsigned shift)
{
	return va & ~(((pgt_vaddr_t)1 << shift) - 1);
}

/**
 * pgt_insert with an allocation failure at any of its first @p calls
 * allocations, or at none. The failure points' states are merged again
 * after the call (but for the status, -eva-split-return), so that what
 * follows is analysed once per outcome, not once per failure point.
 */
static int insert_failing(pgt_space_t *sp, pgt_vaddr_t va, unsigned shift, int calls)
{
	int fail = Frama_C_interval(NEVER, calls - 1);

	//@ split fail;
	plan(fail, NEVER);
	int rc = pgt_insert(sp, va, shift, NULL);
	plan(NEVER, NEVER);
	//@ merge fail;
	return rc;
}

/**
 * pgt_space_destroy of a tree with a leaf of each of the three smallest
 * sizes and a table at every level (some at index 0, 1 and the last), one
 * insert of which fails at any allocation: no undefined behaviour, and
 * every table freed exactly once (free_table checks each frame is one
 * given out and not yet freed). One tree shape per failure point, not any
 * tree: Eva writes an entry at an unknown index into all entries at once,
 * and a destroy walking such a table cannot tell which entries link
 * tables; each shape costs Eva a pass over every entry of every table.
 */
static void safety_destroy(void)
{
	pgt_space_t sp;
	unsigned small = leaf_shift(0), mid = leaf_shift(1);

	for (int i = 0; i < PROOF_FRAMES; i++)
		Frama_C_make_unknown((char *)arena[i], PROOF_FRAME);
	start(NEVER, NEVER);
	if (pgt_space_init(&sp, arch, &mm, 0) != PGT_OK)
		return;
	(void)map_first(&sp);
	(void)pgt_insert(&sp, page_of(va_at(0), leaf_shift(2)), leaf_shift(2), NULL);
	(void)insert_failing(&sp, page_of(va_at(2), small), small, 2); /* a new branch of up to two tables */
	(void)pgt_insert(&sp, page_of(va_at(2), mid) - ((pgt_vaddr_t)1 << mid), mid, NULL);
	pgt_space_destroy(&sp);
	check_all_freed();
}

#ifdef PROOF_ANY_TABLES
/**
 * pgt_space_destroy of a tree with a leaf of each size, one insert of which
 * fails at any allocation: no undefined behaviour.
 */
static void safety_destroy_any(void)
{
	pgt_space_t sp;

	for (int i = 0; i < PROOF_FRAMES; i++)
		memset(arena[i], 0, PROOF_FRAME);
	start(NEVER, NEVER);
	if (pgt_space_init(&sp, arch, &mm, 0) != PGT_OK)
		return;
	(void)insert_failing(&sp, va_at(1), leaf_shift(0), 2);
	(void)pgt_insert(&sp, page_of(va_at(2), leaf_shift(1)), leaf_shift(1), NULL);
	pgt_space_destroy(&sp);
}
#endif

#ifdef PROOF_WIDE_TABLES
/** The lowest address of root entry @p k. */
static pgt_vaddr_t va_root(unsigned k)
{
	return (pgt_vaddr_t)k << arch->level[arch->levels - 1].shift;
}

/**
 * pgt_space_destroy of a tree with tables under root entries 0 and 1 and a
 * leaf of the second size in root entry 2, the insert that needs the
 * second table failing at its allocation or not: every table freed
 * exactly once (free_table checks each frame is one given out and not yet
 * freed), no undefined behaviour. Only low root indices: destroy's loop
 * over the root is exact only for its first iterations.
 */
void proof_destroy(void)
{
	pgt_space_t sp;
	unsigned small = leaf_shift(0);

	fresh_space(&sp);
	CHECK(map_first(&sp) == PGT_OK);
	(void)insert_failing(&sp, va_root(1) + ((pgt_vaddr_t)1 << small), small, 2);
	CHECK(pgt_insert(&sp, va_root(2), leaf_shift(1), NULL) == PGT_OK);
	pgt_space_destroy(&sp);
	check_all_freed();
}
#endif

void proof_safety(void)
{
	safety_any_va();
#ifdef PROOF_ANY_TABLES
	safety_destroy_any();
#else
	safety_destroy();
#endif
}

/*
 * The constant-offset P2V mode (no p2v hook: a table is at pa + offset),
 * whose compiled walks are their own instantiations: init, insert at any
 * va and shift, lookups, with no undefined behaviour. Eva cannot turn an
 * integer into a pointer to one of the frame objects, so run.sh declares
 * the arena's physical range valid absolute memory (offset 0; contents
 * unknown; with PROOF_WIDE_TABLES zeroed first, as a merged clearing loop
 * would leave unknown contents unknown): an access outside the arena is
 * an alarm, one that strays from a table into the next frame is not: the
 * walks' assertions in lib/walks_tpl.h rule that out. A frame given back
 * holds anything at its physical address too.
 */
static void free_table_offset(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	free_table(ctx, pa, size, level);
	if (frame_index(pa) >= 0) /* the frame at its physical address holds anything too */
		Frama_C_make_unknown((char *)(uintptr_t)pa, PROOF_FRAME);
}

static const struct pgt_mm mm_offset = { .alloc_table = alloc_table, .free_table = free_table_offset };

void proof_offset(void)
{
	pgt_space_t sp;
	pgt_ref_t ref, got;
	pgt_vaddr_t va = any_va();
	unsigned shift = (unsigned)Frama_C_interval_split(0, 70);

#ifdef PROOF_WIDE_TABLES
	memset((void *)(uintptr_t)ARENA_BASE, 0, (size_t)PROOF_FRAME * PROOF_FRAMES);
#endif
	start(Frama_C_interval_split(NEVER, PGT_MAX_LEVELS), NEVER);
	if (pgt_space_init(&sp, arch, &mm_offset, 0) != PGT_OK)
		return;
	if (pgt_insert(&sp, va, shift, &ref) == PGT_OK)
		(void)pgt_lookup(&sp, va, &got);
	(void)pgt_lookup(&sp, any_va(), &got);
}

/* ------------------------------------------------------------------------ */

void proof_insert(void)
{
	pgt_space_t sp;
	pgt_ref_t ref, got, nb_before, nb_after;
	unsigned ix = (unsigned)Frama_C_interval_split(0, 2);
	unsigned shift = leaf_shift((unsigned)Frama_C_interval_split(0, 2));
	int fail = Frama_C_interval_split(NEVER, PROOF_FRAMES);
	pgt_vaddr_t va = va_at(ix) & ~(((pgt_vaddr_t)1 << shift) - 1);
	pgt_vaddr_t size = (pgt_vaddr_t)1 << shift;
	pgt_vaddr_t neighbour = va ? va - 1 : va + size;

	fresh_space(&sp);
	CHECK(map_first(&sp) == PGT_OK);
	int nb_rc = pgt_lookup(&sp, neighbour, &nb_before);
	snapshot();
	plan(fail, NEVER);
	int rc = pgt_insert(&sp, va, shift, &ref);
	CHECK(books.allocs <= PROOF_FRAMES); /* the failure points cover every allocation */
	if (rc < 0) {
		CHECK(rc == PGT_ENOMEM || rc == PGT_ECONFLICT);
		check_unchanged();
	} else if (rc == PGT_OK) {
		CHECK(ref.page_shift == shift);
		CHECK(pgt_lookup(&sp, va, &got) == PGT_OK && same_ref(got, ref));
		CHECK(pgt_lookup(&sp, va + size / 2, &got) == PGT_OK && same_ref(got, ref));
		CHECK(pgt_lookup(&sp, va + size - 1, &got) == PGT_OK && same_ref(got, ref));
		/* set_field writes that one entry. */
		snapshot();
		int set_rc = pgt_set_field(&sp, ref, PGT_FIELD_PROT, PGT_PROT_READ | PGT_PROT_WRITE);
		CHECK(set_rc == PGT_OK);
		uint64_t prot = 0;
		CHECK(pgt_get_field(&sp, ref, PGT_FIELD_PROT, &prot) == PGT_OK);
		CHECK(prot == (PGT_PROT_READ | PGT_PROT_WRITE));
		check_only_changed(ref.pte);
	}
	if (rc == PGT_OK || rc < 0) {
		int nb_rc2 = pgt_lookup(&sp, neighbour, &nb_after);
		CHECK(nb_rc2 == nb_rc);
		CHECK(nb_rc != PGT_OK || same_ref(nb_after, nb_before));
	}
	/* pgt_space_destroy: proof_safety. */
}

/* ------------------------------------------------------------------------ */

/* No fewer alloc_table or p2v calls than an operation below makes (checked): about two per level. */
#define RANGE_CALLS (2 * (int)arch->levels + 1)

/** The operations under proof: map (new tables), and unmap and protect of one page of a superpage (a split). */
enum range_op { OP_MAP, OP_UNMAP, OP_PROTECT };

static int run_op(pgt_space_t *sp, enum range_op op, pgt_vaddr_t super, pgt_vaddr_t fresh, uint64_t small)
{
	switch (op) {
	case OP_MAP:
		return pgt_map(sp, fresh, 0x200000000ull, 2 * small, PGT_PROT_READ, PGT_MAP_NOSUPER);
	case OP_UNMAP:
		return pgt_unmap(sp, super + small, small);
	default:
		return pgt_protect(sp, super + small, small, PGT_PROT_READ);
	}
}

/** What a successful @p op left: the pages it touched as it says, the superpage's other pages as before. */
static void check_op_done(const pgt_space_t *sp, enum range_op op, pgt_vaddr_t super, pgt_vaddr_t fresh,
			  uint64_t small)
{
	pgt_ref_t got;
	uint64_t prot = 0, pa = 0;

	if (op == OP_MAP) {
		CHECK(pgt_lookup(sp, fresh + small, &got) == PGT_OK && got.level == 0);
		CHECK(pgt_get_field(sp, got, PGT_FIELD_PADDR, &pa) == PGT_OK && pa == 0x200000000ull + small);
		return;
	}
	int rc = pgt_lookup(sp, super + small, &got);
	if (op == OP_UNMAP) {
		CHECK(rc == PGT_ENOENT);
	} else {
		CHECK(rc == PGT_OK && got.level == 0);
		CHECK(pgt_get_field(sp, got, PGT_FIELD_PROT, &prot) == PGT_OK && prot == PGT_PROT_READ);
	}
	/* The rest of the split superpage: small pages at the same physical addresses. */
	CHECK(pgt_lookup(sp, super, &got) == PGT_OK && got.level == 0 && got.page_shift == arch->level[0].shift);
	CHECK(pgt_get_field(sp, got, PGT_FIELD_PADDR, &pa) == PGT_OK && pa == 0x100000000ull);
	CHECK(pgt_get_field(sp, got, PGT_FIELD_PROT, &prot) == PGT_OK &&
	      prot == (PGT_PROT_READ | PGT_PROT_WRITE));
}

void proof_range(void)
{
	pgt_space_t sp;
	enum range_op op = (enum range_op)Frama_C_interval_split(OP_MAP, OP_PROTECT);
	int hook = Frama_C_interval_split(0, 1); /* 0: alloc_table fails, 1: p2v answers NULL */
	int fail = Frama_C_interval_split(NEVER, RANGE_CALLS);
	unsigned big = leaf_shift(1);
	uint64_t small = (uint64_t)1 << arch->level[0].shift;
	pgt_vaddr_t super = va_at(1) & ~(((pgt_vaddr_t)1 << big) - 1);
	pgt_vaddr_t fresh = va_at(2) & ~(2 * small - 1);

	/*
	 * With two levels every va_at has root index 0, the superpage's own
	 * entry: a map there conflicts. The fresh pages then go one root
	 * entry up, where the map needs one new table (straddling two root
	 * entries, for two, Eva loses the pool's second table: a list keeps
	 * a table's pointer in 16-bit pieces, which Eva cannot put back).
	 */
	if ((fresh ^ super) >> big == 0)
		fresh += (pgt_vaddr_t)1 << big;
	fresh_space(&sp);
	CHECK(pgt_map(&sp, super, 0x100000000ull, (uint64_t)1 << big, PGT_PROT_READ | PGT_PROT_WRITE, 0) == PGT_OK);
	snapshot();
	plan(hook ? NEVER : fail, hook ? fail : NEVER);
	int rc = run_op(&sp, op, super, fresh, small);
	/* The failure points cover every call the operation made. */
	CHECK(books.allocs <= RANGE_CALLS && books.p2vs <= RANGE_CALLS);
	plan(NEVER, NEVER);
	if (rc != PGT_OK) {
		CHECK(fail != NEVER && (rc == PGT_ENOMEM || rc == PGT_EHOOK));
		check_unchanged();
	} else {
		check_op_done(&sp, op, super, fresh, small);
	}
	/* pgt_space_destroy: proof_safety. */
}
