/* SPDX-License-Identifier: MIT */
/*
 * Test harness shared by the Check suites: a frame allocator that keeps
 * books and fails on request, and a checker for the invariants of a tree.
 */
#ifndef PGT_TESTS_HARNESS_H
#define PGT_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>

/*
 * Every passing assertion sends Check's runner the place it reached
 * (_mark_point: a message allocated and written), which names where a
 * forked test crashed. On the slow runners (test_slow_runner) that was
 * most of the time of the suites that assert in long loops (up to a
 * million assertions a suite; check_walk under ASan 35 s, 3 s without),
 * and there it tells little: under Valgrind tests run in-process, where a
 * crash ends the run and memcheck reports it, and ASan reports its own
 * with a stack. test_run_suite turns them off there; a crash under
 * qemu-user is then named by its test only.
 */
extern bool test_mark_points;
#define _mark_point(file, line) (test_mark_points ? _mark_point(file, line) : (void)0)

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

/** How the test allocator names frames. */
enum test_mm_mode {
	TEST_MM_OFFSET, /**< pa == pointer, reached through p2v_offset (0) */
	TEST_MM_HOOK    /**< pa == pointer ^ TEST_PA_XOR, reached through the p2v hook */
};

/** Physical addresses in hook mode differ from pointers by this (keeps alignment). */
#define TEST_PA_XOR ((uint64_t)1 << 47)

/** tlb_flush calls whose arguments test_mm keeps. */
#define TEST_FLUSH_LOG 64

struct test_frame {
	pgt_paddr_t pa;
	size_t size;
	unsigned level;
	void *mem;
	unsigned long visit; /**< tree walks mark the frames they reach */
};

/** The allocator's books. Embed it; `mm` is what pgt_space_init takes. */
struct test_mm {
	struct pgt_mm mm;
	long allocs;       /**< successful alloc_table calls */
	long frees;        /**< free_table calls */
	long attempts;     /**< alloc_table calls, failed ones included */
	long fail_at;      /**< fail the attempt with this number (1-based); 0: never */
	bool fail_after;   /**< with fail_at: fail every attempt from fail_at on */
	long errors;       /**< frees of unknown frames, wrong size or level */
	bool p2v_null;     /**< p2v hook returns NULL (hook mode) */
	long p2v_calls;    /**< p2v hook calls */
	pgt_paddr_t misalign; /**< added to every returned pa (to test hook misbehaviour) */
	unsigned char fill; /**< new tables are filled with this byte (contents are unspecified) */
	/* outstanding frames, open addressing keyed by pa */
	struct test_frame *slots;
	size_t nslots, live;
	/* tlb_flush calls, recorded */
	long flushes;
	struct { pgt_vaddr_t va; uint64_t size; } flush_log[TEST_FLUSH_LOG]; /**< the first calls */
	/** Optional: called from the tlb_flush hook (to look at the tree mid-operation). */
	void (*on_flush)(struct test_mm *t, pgt_vaddr_t va, uint64_t size);
	void *on_flush_arg;
};

void test_mm_init(struct test_mm *t, enum test_mm_mode mode);
/** Frees whatever is still outstanding (a leak the test should have caught). */
void test_mm_fini(struct test_mm *t);
/** Frames allocated and not freed. */
size_t test_mm_outstanding(const struct test_mm *t);
/** Is @p pa an outstanding frame of this allocator, with this level? */
bool test_mm_owns(const struct test_mm *t, pgt_paddr_t pa, unsigned level);
/** Pointer for a pa, as the space's hooks would give it. */
void *test_mm_p2v(const struct test_mm *t, pgt_paddr_t pa);
/** The size the harness recorded for the outstanding frame at @p pa; 0 if there is none. */
size_t test_mm_frame_size(const struct test_mm *t, pgt_paddr_t pa);

/** What a tree holds. */
struct tree_stats {
	size_t tables;      /**< root included */
	size_t leaves;      /**< valid leaves */
	size_t reserved;    /**< reserved leaves */
	size_t empty_tables; /**< non-root tables with no entry */
	size_t problems;    /**< invariant violations (details on stderr) */
};

/**
 * Walks the whole tree by the descriptor's masks and checks the invariants:
 * every table is an outstanding frame of @p t at the right level and is
 * reachable once (no loops, no sharing), no entry is malformed, every valid
 * leaf's output address is aligned and inside the physical width.
 */
struct tree_stats tree_check(const pgt_space_t *sp, const struct pgt_arch *a, const struct test_mm *t);

/** Every entry of the tree in depth-first order (malloc'd; *n entries). */
pgt_pte_t *tree_snapshot(const pgt_space_t *sp, const struct pgt_arch *a, const struct test_mm *t, size_t *n);
/** Same snapshot as before? Frees @p before. */
bool tree_unchanged(const pgt_space_t *sp, const struct pgt_arch *a, const struct test_mm *t,
		    pgt_pte_t *before, size_t n);

/** One leaf of a tree, as tree_leaves reports it. */
struct test_leaf {
	pgt_vaddr_t va;  /**< canonical */
	unsigned level;
	pgt_pte_t pte;
};

/**
 * Every leaf (valid or reserved) of the tree in ascending address order,
 * found by the harness's own walk (not the library's): malloc'd, *n leaves.
 * @p flags are the space's (for PGT_SPACE_UPPER).
 */
struct test_leaf *tree_leaves(const pgt_space_t *sp, const struct pgt_arch *a, const struct test_mm *t,
			      unsigned flags, size_t *n);

/** All descriptors that ship, for loops over them. */
extern const struct pgt_arch *const test_archs[];
extern const size_t test_narchs;

/*
 * Assertion helpers: macros, so that a failure reports the caller's line.
 * They call Check only when the assertion fails: ck_assert writes its
 * location down (a system call) every time it holds, which the loops of
 * the model and fault suites would pay for millions of times.
 */

/** @p cond holds; else the test fails with the printf-style message. */
#define CHECK_THAT(cond, ...)                      \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/** A call returns @p want; else both statuses are named. */
#define CHECK_RC(expr, want)                                                                      \
	do {                                                                                      \
		int rc_ = (expr);                                                                 \
		CHECK_THAT(rc_ == (want), "%s returned %d (%s), expected %d (%s)", #expr, rc_,        \
		       pgt_strerror(rc_), (int)(want), pgt_strerror(want));                       \
	} while (0)

/** An entry holds @p want; else the bits that differ are shown. */
#define CHECK_PTE(got, want, what)                                                                   \
	do {                                                                                         \
		uint64_t g_ = (got), w_ = (want);                                                    \
		CHECK_THAT(g_ == w_, "%s: entry %#018llx, expected %#018llx (xor %#llx)", (what),        \
		       (unsigned long long)g_, (unsigned long long)w_, (unsigned long long)(g_ ^ w_)); \
	} while (0)

/*
 * The descriptor contract's entry classes and address fields (arch.h),
 * written out again for the tests: an oracle of its own, not the engine's.
 */
static inline bool test_present(const struct pgt_level *L, pgt_pte_t e)
{
	return (e & L->valid) != 0;
}

static inline bool test_is_table(const struct pgt_level *L, unsigned level, pgt_pte_t e)
{
	return level > 0 && test_present(L, e) && (e & L->type_mask) == L->table_type && !(e & L->leaf_any);
}

static inline bool test_is_leaf(const struct pgt_level *L, pgt_pte_t e)
{
	return L->leaf_ok && test_present(L, e) && (e & L->type_mask) == L->leaf_type &&
	       (!L->leaf_any || (e & L->leaf_any));
}

static inline bool test_is_reserved(const struct pgt_level *L, pgt_pte_t e)
{
	return L->leaf_ok && !test_present(L, e) && (e & L->reserved);
}

static inline pgt_paddr_t test_table_pa(const struct pgt_level *L, pgt_pte_t e)
{
	return (e & L->table_oa) << L->oa_shift;
}

static inline pgt_paddr_t test_leaf_pa(const struct pgt_level *L, pgt_pte_t e)
{
	return (e & L->leaf_oa) << L->oa_shift;
}

/**
 * The count the table entry @p e keeps in @p L's count field
 * (pgt_level.table_count), read bit by bit from the field's lowest bit up:
 * a reading independent of the library's, which works a run at a time.
 */
static inline uint64_t test_count_get(const struct pgt_level *L, pgt_pte_t e)
{
	uint64_t n = 0;
	unsigned k = 0;

	for (unsigned b = 0; b < 64; b++)
		if (L->table_count >> b & 1)
			n |= (uint64_t)(e >> b & 1) << k++;
	return n;
}

/** @p e with @p n written in @p L's count field bit by bit (test_count_get reads it back). */
static inline pgt_pte_t test_count_set(const struct pgt_level *L, pgt_pte_t e, uint64_t n)
{
	unsigned k = 0;

	e &= ~L->table_count;
	for (unsigned b = 0; b < 64; b++)
		if (L->table_count >> b & 1)
			e |= (pgt_pte_t)(n >> k++ & 1) << b;
	return e;
}

/** @p e with its table address replaced by @p pa. */
static inline pgt_pte_t test_with_table_pa(const struct pgt_level *L, pgt_pte_t e, pgt_paddr_t pa)
{
	return (e & ~L->table_oa) | ((pa >> L->oa_shift) & L->table_oa);
}

/** Whether the shipped format @p a has execute-only leaves (PGT_PROT_EXEC alone). */
bool test_exec_only(const struct pgt_arch *a);
/** Whether format @p a has an upper range (PGT_SPACE_UPPER): a split first-stage format, ARMv8's. */
bool test_has_upper(const struct pgt_arch *a);
/** Whether every combination of rights is a valid leaf in format @p a (ARMv8 stage 2: write-only too). */
bool test_write_only(const struct pgt_arch *a);
/**
 * The PGT_PROT_* bits format @p a accepts and drops (every second stage: USER
 * and GLOBAL mean nothing there, and decoding never reports them).
 */
unsigned test_prot_dropped(const struct pgt_arch *a);
/** Whether the rights (READ, WRITE, EXEC) of @p prot make a valid or reserved leaf of format @p a. */
bool test_rights_expressible(const struct pgt_arch *a, unsigned rights);
/** Whether a privileged access to a user page faults in format @p a (RISC-V stage 1 with SUM = 0). */
bool test_user_pages_private(const struct pgt_arch *a);
/** The PGT_PROT_* memory types the shipped format @p a cannot encode (PGT_ENOTSUP). */
unsigned test_no_memtypes(const struct pgt_arch *a);
/** Whether the format can encode @p prot: its rights and its memory type (one at most). */
bool test_prot_expressible(const struct pgt_arch *a, unsigned prot);

/** Whether format @p a has an upper range (PGT_SPACE_UPPER): split and first-stage (ARMv8 TTBR1). */
bool test_has_upper(const struct pgt_arch *a);

/** Lowest and highest canonical page-aligned addresses of a space (top = last byte). */
pgt_vaddr_t test_va_bottom(const struct pgt_arch *a, unsigned flags);
pgt_vaddr_t test_va_top(const struct pgt_arch *a, unsigned flags);

/** Small deterministic PRNG (xorshift64*), so failures replay. */
uint64_t test_rand(uint64_t *state);

/**
 * Whether the suites run on a slow runner, where the long random sequences
 * are cut short: under Valgrind (make check-valgrind sets VALGRIND), or
 * where PGT_TEST_SLOW is set (tests/run_build.sh: sanitizers, emulation).
 * The full lengths run in every plain make check.
 */
bool test_slow_runner(void);

/**
 * Runs a suite and returns how many of its tests failed. Under
 * `make check-valgrind` (VALGRIND is set) tests run in-process: a forked
 * child exits with the runner's memory still allocated, which memcheck
 * would report as a leak that is not ours.
 */
int test_run_suite(Suite *su);

#endif /* PGT_TESTS_HARNESS_H */
