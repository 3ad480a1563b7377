/* SPDX-License-Identifier: MIT */
/*
 * check_badinput: every class of invalid argument, for every public
 * function, in one table (DESIGN.md: "Every mutating call is all-or-nothing:
 * when ... an argument is bad the space is exactly as before").
 *
 * Each row names a function, an argument class and the one argument it
 * spoils; everything else in the call is good. For every shipped descriptor
 * the row runs against a fresh space holding a valid and a reserved mapping
 * (link words on; an ARMv8 upper-range space on odd descriptors): the status
 * must be the row's, the tree bit-for-bit unchanged, no frame allocated or
 * freed, and the harness books balanced at the end. Each function also has a
 * control row, the same call with nothing spoiled, which must succeed: a
 * refusal is then the spoiled argument's doing.
 *
 * main prints the number of rows, classes and checks run.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"

/** Argument classes: what is wrong with the spoiled argument. */
enum bad_class {
	C_CONTROL,     /**< nothing: the call must succeed */
	C_NULL,        /**< a NULL pointer where one is forbidden */
	C_UNINIT,      /**< a space that was never initialised, or was destroyed */
	C_LEVEL,       /**< a ref level the descriptor lacks, or that does not match its size */
	C_REF,         /**< a ref that names no leaf: misaligned, empty or table entry */
	C_VA_RANGE,    /**< an address outside the space (x86-64 hole, ARMv8 other half) */
	C_VA_ALIGN,    /**< an address not aligned to the page */
	C_SHIFT,       /**< a page shift the descriptor lacks */
	C_FLAGS,       /**< flags outside the defined set */
	C_FIELD,       /**< a field outside enum pgt_field */
	C_VALUE,       /**< a field value outside its range (prot bits, booleans) */
	C_PA_ALIGN,    /**< a physical address not aligned to the page */
	C_PA_WIDTH,    /**< a physical address beyond the descriptor's width */
	C_DESCRIPTOR,  /**< a malformed descriptor or hook set */
	C_UNSUPPORTED, /**< a request the architecture or space cannot express */
	C_SIZE,        /**< a range size that is zero or not a multiple of the page */
	C_OVERFLOW,    /**< va + size (or pa + size) wraps past 2^64 */
	C_HOLE,        /**< a range leaving the space or crossing the x86-64 canonical hole */
	C_CONFLICT,    /**< a range over an existing mapping */
	C_SPACES,      /**< spaces that cannot share: the same one, other descriptor, flags or allocator */
	C_COUNT
};

static const char *const class_name[C_COUNT] = {
	"control",
	"NULL pointer",
	"uninitialised space",
	"ref level",
	"ref to no leaf",
	"address out of range",
	"misaligned address",
	"page shift",
	"unknown flags",
	"unknown field",
	"value out of range",
	"misaligned physical address",
	"physical address too wide",
	"malformed descriptor or hooks",
	"not expressible",
	"range size",
	"wrapping range",
	"range leaving the space or crossing the hole",
	"overlapping range",
	"spaces that cannot share",
};

/** A space holding a valid mapping at va and a reserved one beside it. */
struct env {
	const struct pgt_arch *a;
	unsigned flags;
	struct test_mm t;
	pgt_space_t sp;
	pgt_vaddr_t va;      /**< valid mapping, smallest page */
	pgt_vaddr_t free_va; /**< an unmapped page, aligned to the smallest page */
	pgt_ref_t ref;       /**< ref to the valid mapping */
	pgt_ref_t table_ref; /**< a ref to the table entry above va, as if it were a leaf */
	pgt_ref_t empty_ref; /**< a ref to an empty entry beside the mappings */
};

/** One row: a function, a class, and the call with its argument spoiled. */
struct row {
	const char *fn;
	enum bad_class cls;
	const char *what;
	int (*call)(struct env *e);
	int want;
};

static unsigned small_shift(const struct env *e)
{
	return e->a->level[0].shift;
}

static uint64_t page(const struct env *e)
{
	return 1ull << small_shift(e);
}

/** An address outside the space: the canonical hole, or the other ARMv8 half. */
static pgt_vaddr_t outside_va(const struct env *e)
{
	if (e->a->canon == PGT_CANON_SIGN_EXTEND)
		return 1ull << (e->a->va_bits - 1);
	return (e->flags & PGT_SPACE_UPPER) ? 0 : 1ull << e->a->va_bits;
}

/* --- pgt_space_init ----------------------------------------------------------- */

/** Inits a second space with @p a, @p mm and @p flags; destroys it again on success. */
static int init_with(const struct pgt_arch *a, const struct pgt_mm *mm, unsigned flags)
{
	pgt_space_t sp2;

	memset(&sp2, 0, sizeof sp2);
	int rc = pgt_space_init(&sp2, a, mm, flags);
	if (rc == PGT_OK)
		pgt_space_destroy(&sp2);
	else
		CHECK_THAT(pgt_space_root(&sp2) == PGT_PADDR_NONE, "failed init left a space behind");
	return rc;
}

static int init_ok(struct env *e)
{
	return init_with(e->a, &e->t.mm, e->flags);
}
static int init_null_sp(struct env *e)
{
	return pgt_space_init(NULL, e->a, &e->t.mm, e->flags);
}
static int init_null_arch(struct env *e)
{
	return init_with(NULL, &e->t.mm, e->flags);
}
static int init_null_mm(struct env *e)
{
	return init_with(e->a, NULL, e->flags);
}

static int init_no_alloc(struct env *e)
{
	struct pgt_mm mm = e->t.mm;

	mm.alloc_table = NULL;
	return init_with(e->a, &mm, e->flags);
}

static int init_no_free(struct env *e)
{
	struct pgt_mm mm = e->t.mm;

	mm.free_table = NULL;
	return init_with(e->a, &mm, e->flags);
}

static int init_flag_unknown(struct env *e)
{
	return init_with(e->a, &e->t.mm, e->flags | 4u);
}
static int init_flag_top(struct env *e)
{
	return init_with(e->a, &e->t.mm, e->flags | 0x80000000u);
}

/** PGT_SPACE_UPPER is ARMv8's; on x86-64 it is a flag outside the set. */
static int init_upper_x86(struct env *e)
{
	return init_with(&pgt_arch_x86_64, &e->t.mm, PGT_SPACE_UPPER);
}

/** A copy of the descriptor with one part broken. */
static int init_broken(struct env *e, void (*spoil)(struct pgt_arch *))
{
	struct pgt_arch a = *e->a;

	spoil(&a);
	return init_with(&a, &e->t.mm, e->flags & ~(unsigned)PGT_SPACE_UPPER);
}

static void no_levels(struct pgt_arch *a)
{
	a->levels = 0;
}
static void many_levels(struct pgt_arch *a)
{
	a->levels = PGT_MAX_LEVELS + 1;
}
static void wide_va(struct pgt_arch *a)
{
	a->va_bits = 64;
}
static void no_encode(struct pgt_arch *a)
{
	a->prot_encode = NULL;
}
static void bad_canon(struct pgt_arch *a)
{
	a->canon = 7;
}
static void bad_table_size(struct pgt_arch *a)
{
	a->level[0].table_size *= 2;
}

static int init_no_levels(struct env *e)
{
	return init_broken(e, no_levels);
}
static int init_many_levels(struct env *e)
{
	return init_broken(e, many_levels);
}
static int init_wide_va(struct env *e)
{
	return init_broken(e, wide_va);
}
static int init_no_encode(struct env *e)
{
	return init_broken(e, no_encode);
}
static int init_bad_canon(struct env *e)
{
	return init_broken(e, bad_canon);
}
static int init_bad_table_size(struct env *e)
{
	return init_broken(e, bad_table_size);
}

/* --- pgt_space_destroy, pgt_space_root, pgt_arch_by_name, pgt_strerror ------- */

/** The space that is no space: zeroed storage, never initialised. */
static pgt_space_t *uninit(void)
{
	static pgt_space_t sp;

	memset(&sp, 0, sizeof sp);
	return &sp;
}

/** Destroy has no status: it must ignore what is no space, and return. */
static int destroy_null(struct env *e)
{
	(void)e;
	pgt_space_destroy(NULL);
	return PGT_OK;
}

static int destroy_uninit(struct env *e)
{
	(void)e;
	pgt_space_destroy(uninit());
	return PGT_OK;
}

/** Root has no status: PGT_PADDR_NONE becomes PGT_EINVAL, a root PGT_OK. */
static int root_status(const pgt_space_t *sp)
{
	return pgt_space_root(sp) == PGT_PADDR_NONE ? PGT_EINVAL : PGT_OK;
}

static int root_ok(struct env *e)
{
	return root_status(&e->sp);
}
static int root_null(struct env *e)
{
	(void)e;
	return root_status(NULL);
}
static int root_uninit(struct env *e)
{
	(void)e;
	return root_status(uninit());
}

static int by_name_status(const char *name)
{
	return pgt_arch_by_name(name) ? PGT_OK : PGT_EINVAL;
}

static int by_name_ok(struct env *e)
{
	return by_name_status(e->a->name);
}
static int by_name_null(struct env *e)
{
	(void)e;
	return by_name_status(NULL);
}
static int by_name_unknown(struct env *e)
{
	(void)e;
	return by_name_status("x86_65");
}

/** strerror never fails: an unknown status still gets a sentence. */
static int strerror_unknown(struct env *e)
{
	(void)e;
	const char *s = pgt_strerror(-12345);
	return s && *s ? PGT_OK : PGT_EINVAL;
}

/* --- pgt_insert ------------------------------------------------------------------ */

static int ins(pgt_space_t *sp, pgt_vaddr_t va, unsigned shift)
{
	pgt_ref_t out;

	return pgt_insert(sp, va, shift, &out);
}

static int ins_ok(struct env *e)
{
	return ins(&e->sp, e->free_va, small_shift(e));
}
static int ins_null(struct env *e)
{
	return ins(NULL, e->free_va, small_shift(e));
}
static int ins_uninit(struct env *e)
{
	return ins(uninit(), e->free_va, small_shift(e));
}
static int ins_outside(struct env *e)
{
	return ins(&e->sp, outside_va(e), small_shift(e));
}
static int ins_top_bits(struct env *e)
{
	return ins(&e->sp, e->free_va ^ (1ull << 62), small_shift(e));
}
static int ins_misaligned(struct env *e)
{
	return ins(&e->sp, e->free_va + 8, small_shift(e));
}
static int ins_shift_small(struct env *e)
{
	return ins(&e->sp, e->free_va, small_shift(e) - 1);
}
static int ins_shift_zero(struct env *e)
{
	return ins(&e->sp, e->free_va, 0);
}
static int ins_shift_64(struct env *e)
{
	return ins(&e->sp, e->free_va, 64);
}
static int ins_shift_huge(struct env *e)
{
	return ins(&e->sp, e->free_va, 1000);
}

/** The shift of a level that holds no leaves; where every level does, one between two levels. */
static unsigned shift_without_leaves(const struct env *e)
{
	for (unsigned l = 0; l < e->a->levels; l++)
		if (!e->a->level[l].leaf_ok)
			return e->a->level[l].shift;
	return e->a->level[1].shift - 1;
}

/** At the bottom of the range: aligned to every page size, so only the shift is wrong. */
static int ins_shift_noleaf(struct env *e)
{
	return ins(&e->sp, test_va_bottom(e->a, e->flags), shift_without_leaves(e));
}

/** A superpage shift with the address aligned only to the smallest page. */
static int ins_super_misaligned(struct env *e)
{
	return ins(&e->sp, e->free_va | page(e), e->a->level[1].shift);
}

/* --- pgt_lookup ------------------------------------------------------------------ */

static int look(pgt_space_t *sp, pgt_vaddr_t va)
{
	pgt_ref_t out;

	return pgt_lookup(sp, va, &out);
}

static int look_ok(struct env *e)
{
	return look(&e->sp, e->va);
}
static int look_null(struct env *e)
{
	return look(NULL, e->va);
}
static int look_uninit(struct env *e)
{
	return look(uninit(), e->va);
}
static int look_outside(struct env *e)
{
	return look(&e->sp, outside_va(e));
}
static int look_top_bits(struct env *e)
{
	return look(&e->sp, e->va ^ (1ull << 62));
}

/* --- pgt_get_field / pgt_set_field ---------------------------------------------- */

static int get(struct env *e, pgt_space_t *sp, pgt_ref_t ref, enum pgt_field f)
{
	uint64_t v;

	(void)e;
	return pgt_get_field(sp, ref, f, &v);
}

static pgt_ref_t with_level(pgt_ref_t r, unsigned level)
{
	r.level = level;
	return r;
}

static pgt_ref_t with_shift(pgt_ref_t r, unsigned shift)
{
	r.page_shift = shift;
	return r;
}

static pgt_ref_t with_pte(pgt_ref_t r, pgt_pte_t *pte)
{
	r.pte = pte;
	return r;
}

static pgt_pte_t *misaligned(pgt_pte_t *p)
{
	return (pgt_pte_t *)(void *)((char *)p + 4);
}

static int get_ok(struct env *e)
{
	return get(e, &e->sp, e->ref, PGT_FIELD_PADDR);
}
static int get_null_sp(struct env *e)
{
	return get(e, NULL, e->ref, PGT_FIELD_PADDR);
}
static int get_uninit(struct env *e)
{
	return get(e, uninit(), e->ref, PGT_FIELD_PADDR);
}
static int get_null_val(struct env *e)
{
	return pgt_get_field(&e->sp, e->ref, PGT_FIELD_PADDR, NULL);
}
static int get_null_pte(struct env *e)
{
	return get(e, &e->sp, with_pte(e->ref, NULL), PGT_FIELD_PADDR);
}
static int get_level_high(struct env *e)
{
	return get(e, &e->sp, with_level(e->ref, e->a->levels), PGT_FIELD_PROT);
}
static int get_level_huge(struct env *e)
{
	return get(e, &e->sp, with_level(e->ref, ~0u), PGT_FIELD_PROT);
}
static int get_level_other(struct env *e)
{
	return get(e, &e->sp, with_level(e->ref, 1), PGT_FIELD_PROT);
}
static int get_shift_other(struct env *e)
{
	return get(e, &e->sp, with_shift(e->ref, small_shift(e) + 1), PGT_FIELD_PROT);
}
static int get_misaligned(struct env *e)
{
	return get(e, &e->sp, with_pte(e->ref, misaligned(e->ref.pte)), PGT_FIELD_PROT);
}
static int get_empty(struct env *e)
{
	return get(e, &e->sp, e->empty_ref, PGT_FIELD_PROT);
}
static int get_table(struct env *e)
{
	return get(e, &e->sp, e->table_ref, PGT_FIELD_PROT);
}
static int get_field_count(struct env *e)
{
	return get(e, &e->sp, e->ref, PGT_FIELD_COUNT);
}
static int get_field_neg(struct env *e)
{
	return get(e, &e->sp, e->ref, (enum pgt_field) - 1);
}

static int set(struct env *e, pgt_space_t *sp, pgt_ref_t ref, enum pgt_field f, uint64_t v)
{
	(void)e;
	return pgt_set_field(sp, ref, f, v);
}

static int set_ok(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_PROT, PGT_PROT_READ | PGT_PROT_WRITE);
}
static int set_null_sp(struct env *e)
{
	return set(e, NULL, e->ref, PGT_FIELD_PROT, PGT_PROT_READ);
}
static int set_uninit(struct env *e)
{
	return set(e, uninit(), e->ref, PGT_FIELD_PROT, PGT_PROT_READ);
}
static int set_null_pte(struct env *e)
{
	return set(e, &e->sp, with_pte(e->ref, NULL), PGT_FIELD_PROT, PGT_PROT_READ);
}
static int set_level_high(struct env *e)
{
	return set(e, &e->sp, with_level(e->ref, e->a->levels), PGT_FIELD_PROT, 0);
}
static int set_level_other(struct env *e)
{
	return set(e, &e->sp, with_level(e->ref, 1), PGT_FIELD_PROT, 0);
}
static int set_shift_other(struct env *e)
{
	return set(e, &e->sp, with_shift(e->ref, 63), PGT_FIELD_PROT, 0);
}
static int set_misaligned(struct env *e)
{
	return set(e, &e->sp, with_pte(e->ref, misaligned(e->ref.pte)), PGT_FIELD_PROT, 0);
}
static int set_empty(struct env *e)
{
	return set(e, &e->sp, e->empty_ref, PGT_FIELD_PROT, PGT_PROT_READ);
}
static int set_table(struct env *e)
{
	return set(e, &e->sp, e->table_ref, PGT_FIELD_PROT, PGT_PROT_READ);
}
static int set_field_count(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_COUNT, 0);
}
static int set_field_big(struct env *e)
{
	return set(e, &e->sp, e->ref, (enum pgt_field)1000, 0);
}
static int set_prot_next(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_PROT, PGT_PROT_ALL + 1);
}
static int set_prot_top(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_PROT, PGT_PROT_READ | 1ull << 63);
}
static int set_bool_two(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_USER, 2);
}
static int set_bool_max(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_READ, ~0ull);
}
static int set_dirty_two(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_DIRTY, 2);
}
static int set_pa_odd(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_PADDR, 0x200000 + 8);
}
static int set_pa_half(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_PADDR, 0x200000 + page(e) / 2);
}
static int set_pa_wide(struct env *e)
{
	ck_assert_uint_lt(e->a->pa_bits, 64);
	return set(e, &e->sp, e->ref, PGT_FIELD_PADDR, 1ull << e->a->pa_bits);
}
static int set_pa_top(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_PADDR, 1ull << 63);
}
static int set_write_only(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_PROT, PGT_PROT_WRITE);
}
static int set_exec_only(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_PROT, PGT_PROT_EXEC);
}
/* Write-combining: x86-64's PAT has it; ARMv8 and RISC-V (Svpbmt) have no such type. */
static int set_write_combine(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_PROT, PGT_PROT_READ | PGT_PROT_WRITECOMBINE);
}
/* Write and execute without read: no format has it (RISC-V: W without R is reserved). */
static int set_write_exec(struct env *e)
{
	return set(e, &e->sp, e->ref, PGT_FIELD_PROT, PGT_PROT_WRITE | PGT_PROT_EXEC);
}

/* --- pgt_set_link / pgt_get_link ------------------------------------------------- */

static int setl(pgt_space_t *sp, pgt_ref_t ref)
{
	return pgt_set_link(sp, ref, 0x1234, 0);
}

static int getl(pgt_space_t *sp, pgt_ref_t ref)
{
	uintptr_t node;

	return pgt_get_link(sp, ref, 0, &node);
}

static int setl_ok(struct env *e)
{
	return setl(&e->sp, e->ref);
}
static int setl_null_sp(struct env *e)
{
	return setl(NULL, e->ref);
}
static int setl_uninit(struct env *e)
{
	return setl(uninit(), e->ref);
}
static int setl_null_pte(struct env *e)
{
	return setl(&e->sp, with_pte(e->ref, NULL));
}
static int setl_level(struct env *e)
{
	return setl(&e->sp, with_level(e->ref, e->a->levels + 3));
}
static int setl_shift(struct env *e)
{
	return setl(&e->sp, with_shift(e->ref, 0));
}
static int setl_misaligned(struct env *e)
{
	return setl(&e->sp, with_pte(e->ref, misaligned(e->ref.pte)));
}
static int setl_empty(struct env *e)
{
	return setl(&e->sp, e->empty_ref);
}
static int setl_table(struct env *e)
{
	return setl(&e->sp, e->table_ref);
}
static int getl_ok(struct env *e)
{
	return getl(&e->sp, e->ref);
}
static int getl_null_sp(struct env *e)
{
	return getl(NULL, e->ref);
}
static int getl_uninit(struct env *e)
{
	return getl(uninit(), e->ref);
}
static int getl_null_node(struct env *e)
{
	return pgt_get_link(&e->sp, e->ref, 0, NULL);
}
static int getl_null_pte(struct env *e)
{
	return getl(&e->sp, with_pte(e->ref, NULL));
}
static int getl_level(struct env *e)
{
	return getl(&e->sp, with_level(e->ref, e->a->levels));
}
static int getl_shift(struct env *e)
{
	return getl(&e->sp, with_shift(e->ref, 99));
}
static int getl_misaligned(struct env *e)
{
	return getl(&e->sp, with_pte(e->ref, misaligned(e->ref.pte)));
}
static int getl_empty(struct env *e)
{
	return getl(&e->sp, e->empty_ref);
}
static int getl_table(struct env *e)
{
	return getl(&e->sp, e->table_ref);
}

/* --- pgt_map / pgt_unmap / pgt_protect ------------------------------------------- */

/** The top page of the space's range (the last byte is the top of its range). */
static pgt_vaddr_t top_page(const struct env *e)
{
	return test_va_top(e->a, e->flags) - (page(e) - 1);
}

/**
 * A range of two @p unit blocks that leaves the space: on x86-64 from the
 * last block below the canonical hole to the first above it (both ends
 * canonical); on ARMv8 across the end of the range (wrapping, for the upper one).
 */
static void hole_range(const struct env *e, uint64_t unit, pgt_vaddr_t *va, uint64_t *size)
{
	if (e->a->canon == PGT_CANON_SIGN_EXTEND) {
		uint64_t half = 1ull << (e->a->va_bits - 1);
		*va = half - unit;
		*size = (0 - half + unit) - *va; /* last byte: the first block above the hole */
		return;
	}
	*va = test_va_top(e->a, e->flags) - (unit - 1);
	*size = 2 * unit;
}

static int map(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned prot, unsigned flags)
{
	return pgt_map(sp, va, pa, size, prot, flags);
}

static int map_ok(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000, page(e), PGT_PROT_READ, 0);
}

static int map_null(struct env *e)
{
	return map(NULL, e->free_va, 0x400000, page(e), PGT_PROT_READ, 0);
}

static int map_uninit(struct env *e)
{
	return map(uninit(), e->free_va, 0x400000, page(e), PGT_PROT_READ, 0);
}

static int map_outside(struct env *e)
{
	return map(&e->sp, outside_va(e), 0x400000, page(e), PGT_PROT_READ, 0);
}

static int map_misaligned(struct env *e)
{
	return map(&e->sp, e->free_va + 8, 0x400000, page(e), PGT_PROT_READ, 0);
}

static int map_size_zero(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000, 0, PGT_PROT_READ, 0);
}

static int map_size_odd(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000, page(e) + 8, PGT_PROT_READ, 0);
}

static int map_va_wraps(struct env *e)
{
	return map(&e->sp, top_page(e), 0x400000, 2 * page(e), PGT_PROT_READ, 0);
}

static int map_pa_wraps(struct env *e)
{
	return map(&e->sp, e->free_va, 0 - page(e), 2 * page(e), PGT_PROT_READ, 0);
}

static int map_hole(struct env *e)
{
	pgt_vaddr_t va;
	uint64_t size;

	hole_range(e, page(e), &va, &size);
	return map(&e->sp, va, 0x400000, size, PGT_PROT_READ, 0);
}

static int map_pa_odd(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000 + 8, page(e), PGT_PROT_READ, 0);
}

/** The output range ends one page beyond the physical width. */
static int map_pa_wide(struct env *e)
{
	ck_assert_uint_lt(e->a->pa_bits, 64);
	return map(&e->sp, e->free_va, (1ull << e->a->pa_bits) - page(e), 2 * page(e), PGT_PROT_READ, 0);
}

static int map_flag_unknown(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000, page(e), PGT_PROT_READ, 4);
}

static int map_flag_top(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000, page(e), PGT_PROT_READ, 0x80000000u);
}

static int map_prot_next(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000, page(e), PGT_PROT_ALL + 1, 0);
}

static int map_prot_top(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000, page(e), PGT_PROT_READ | 0x80000000u, 0);
}

static int map_write_only(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000, page(e), PGT_PROT_WRITE, 0);
}

static int map_exec_only(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000, page(e), PGT_PROT_EXEC, 0);
}

static int map_write_combine(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000, page(e), PGT_PROT_READ | PGT_PROT_WRITECOMBINE, 0);
}

static int map_write_exec(struct env *e)
{
	return map(&e->sp, e->free_va, 0x400000, page(e), PGT_PROT_WRITE | PGT_PROT_EXEC, 0);
}

/** Three pages from the free one back over the valid mapping. */
static int map_over(struct env *e)
{
	return map(&e->sp, e->va, 0x400000, 3 * page(e), PGT_PROT_READ, 0);
}

static int map_over_reserved(struct env *e)
{
	return map(&e->sp, e->va + 2 * page(e), 0x400000, page(e), PGT_PROT_READ, 0);
}

static int unmap_ok(struct env *e)
{
	return pgt_unmap(&e->sp, e->free_va, page(e));
}

static int unmap_null(struct env *e)
{
	return pgt_unmap(NULL, e->va, page(e));
}

static int unmap_uninit(struct env *e)
{
	return pgt_unmap(uninit(), e->va, page(e));
}

static int unmap_outside(struct env *e)
{
	return pgt_unmap(&e->sp, outside_va(e), page(e));
}

static int unmap_misaligned(struct env *e)
{
	return pgt_unmap(&e->sp, e->va + 8, page(e));
}

static int unmap_size_zero(struct env *e)
{
	return pgt_unmap(&e->sp, e->va, 0);
}

static int unmap_size_odd(struct env *e)
{
	return pgt_unmap(&e->sp, e->va, page(e) + 8);
}

static int unmap_va_wraps(struct env *e)
{
	return pgt_unmap(&e->sp, top_page(e), 2 * page(e));
}

static int unmap_hole(struct env *e)
{
	pgt_vaddr_t va;
	uint64_t size;

	hole_range(e, page(e), &va, &size);
	return pgt_unmap(&e->sp, va, size);
}

static int protect_ok(struct env *e)
{
	return pgt_protect(&e->sp, e->va, page(e), PGT_PROT_READ | PGT_PROT_WRITE);
}

static int protect_null(struct env *e)
{
	return pgt_protect(NULL, e->va, page(e), PGT_PROT_READ);
}

static int protect_uninit(struct env *e)
{
	return pgt_protect(uninit(), e->va, page(e), PGT_PROT_READ);
}

static int protect_outside(struct env *e)
{
	return pgt_protect(&e->sp, outside_va(e), page(e), PGT_PROT_READ);
}

static int protect_misaligned(struct env *e)
{
	return pgt_protect(&e->sp, e->va + 8, page(e), PGT_PROT_READ);
}

static int protect_size_zero(struct env *e)
{
	return pgt_protect(&e->sp, e->va, 0, PGT_PROT_READ);
}

static int protect_size_odd(struct env *e)
{
	return pgt_protect(&e->sp, e->va, page(e) + 8, PGT_PROT_READ);
}

static int protect_va_wraps(struct env *e)
{
	return pgt_protect(&e->sp, top_page(e), 2 * page(e), PGT_PROT_READ);
}

static int protect_hole(struct env *e)
{
	pgt_vaddr_t va;
	uint64_t size;

	hole_range(e, page(e), &va, &size);
	return pgt_protect(&e->sp, va, size, PGT_PROT_READ);
}

static int protect_prot_next(struct env *e)
{
	return pgt_protect(&e->sp, e->va, page(e), PGT_PROT_ALL + 1);
}

static int protect_write_only(struct env *e)
{
	return pgt_protect(&e->sp, e->va, page(e), PGT_PROT_WRITE);
}

static int protect_exec_only(struct env *e)
{
	return pgt_protect(&e->sp, e->va, page(e), PGT_PROT_EXEC);
}

static int protect_write_exec(struct env *e)
{
	return pgt_protect(&e->sp, e->va, page(e), PGT_PROT_WRITE | PGT_PROT_EXEC);
}

/* --- pgt_share ---------------------------------------------------------------------- */

/** Bytes one root entry covers: pgt_share's unit. */
static uint64_t root_entry(const struct env *e)
{
	return 1ull << e->a->level[e->a->levels - 1].shift;
}

/** The root entry holding the env's mappings. */
static pgt_vaddr_t share_va(const struct env *e)
{
	return e->va & ~(root_entry(e) - 1);
}

/**
 * Shares [va, va+size) of the env's space into a fresh space of descriptor
 * @p a and @p flags on allocator @p mm (or @p dst itself when given). A
 * refused share must leave the fresh space empty; it is destroyed before
 * returning, borrower before owner.
 */
static int share_into(struct env *e, const struct pgt_arch *a, unsigned flags, const struct pgt_mm *mm,
		      pgt_space_t *dst, pgt_vaddr_t va, uint64_t size)
{
	pgt_space_t fresh;

	if (!dst) {
		ck_assert_int_eq(pgt_space_init(&fresh, a, mm, flags), PGT_OK);
		dst = &fresh;
	}
	int rc = pgt_share(dst, &e->sp, va, size);
	if (dst == &fresh) {
		if (rc < 0) {
			struct tree_stats st = tree_check(&fresh, a, mm->ctx);
			CHECK_THAT(st.tables == 1 && st.leaves == 0 && st.reserved == 0,
				      "refused share changed the borrower (%zu tables)", st.tables);
		}
		pgt_space_destroy(&fresh);
	}
	return rc;
}

static int share(struct env *e, pgt_vaddr_t va, uint64_t size)
{
	return share_into(e, e->a, e->flags, &e->t.mm, NULL, va, size);
}

static int share_ok(struct env *e)
{
	return share(e, share_va(e), root_entry(e));
}

static int share_null_dst(struct env *e)
{
	return pgt_share(NULL, &e->sp, share_va(e), root_entry(e));
}

static int share_null_src(struct env *e)
{
	pgt_space_t dst;

	ck_assert_int_eq(pgt_space_init(&dst, e->a, &e->t.mm, e->flags), PGT_OK);
	int rc = pgt_share(&dst, NULL, share_va(e), root_entry(e));
	pgt_space_destroy(&dst);
	return rc;
}

static int share_uninit_src(struct env *e)
{
	pgt_space_t dst;

	ck_assert_int_eq(pgt_space_init(&dst, e->a, &e->t.mm, e->flags), PGT_OK);
	int rc = pgt_share(&dst, uninit(), share_va(e), root_entry(e));
	pgt_space_destroy(&dst);
	return rc;
}

static int share_same_space(struct env *e)
{
	return share_into(e, e->a, e->flags, &e->t.mm, &e->sp, share_va(e), root_entry(e));
}

/** Another descriptor with the same flags (link words; no upper range). */
static int share_other_arch(struct env *e)
{
	const struct pgt_arch *other = e->a == &pgt_arch_x86_64 ? &pgt_arch_x86_64_la57 : &pgt_arch_x86_64;

	return share_into(e, other, PGT_SPACE_LINKS, &e->t.mm, NULL, share_va(e), root_entry(e));
}

static int share_other_flags(struct env *e)
{
	return share_into(e, e->a, e->flags & ~(unsigned)PGT_SPACE_LINKS, &e->t.mm, NULL, share_va(e),
			  root_entry(e));
}

/** The same hooks on another context: another allocator, whose frees the owner could not take. */
static int share_other_mm(struct env *e)
{
	struct test_mm other;

	test_mm_init(&other, e->t.mm.p2v ? TEST_MM_HOOK : TEST_MM_OFFSET);
	int rc = share_into(e, e->a, e->flags, &other.mm, NULL, share_va(e), root_entry(e));
	ck_assert_uint_eq(test_mm_outstanding(&other), 0);
	test_mm_fini(&other);
	return rc;
}

static int share_misaligned(struct env *e)
{
	return share(e, share_va(e) + page(e), root_entry(e));
}

static int share_outside(struct env *e)
{
	return share(e, outside_va(e) & ~(root_entry(e) - 1), root_entry(e));
}

static int share_size_zero(struct env *e)
{
	return share(e, share_va(e), 0);
}

static int share_size_part(struct env *e)
{
	return share(e, share_va(e), root_entry(e) / 2);
}

static int share_va_wraps(struct env *e)
{
	return share(e, test_va_top(e->a, e->flags) - (root_entry(e) - 1), 2 * root_entry(e));
}

static int share_hole(struct env *e)
{
	pgt_vaddr_t va;
	uint64_t size;

	hole_range(e, root_entry(e), &va, &size);
	return share(e, va, size);
}

/** The borrower already maps a page there. */
static int share_over_mapping(struct env *e)
{
	pgt_space_t dst;

	ck_assert_int_eq(pgt_space_init(&dst, e->a, &e->t.mm, e->flags), PGT_OK);
	ck_assert_int_eq(pgt_map(&dst, e->va, 0x400000, page(e), PGT_PROT_READ, 0), PGT_OK);
	int rc = pgt_share(&dst, &e->sp, share_va(e), root_entry(e));
	pgt_space_destroy(&dst);
	return rc;
}

/* --- pgt_translate / pgt_walk(_all) / pgt_dump(_all) / pgt_verify -------------------- */

static int tr(pgt_space_t *sp, pgt_vaddr_t va, unsigned access)
{
	pgt_paddr_t pa;
	struct pgt_fault fault;

	return pgt_translate(sp, va, access, &pa, &fault);
}

static int tr_ok(struct env *e)
{
	return tr(&e->sp, e->va, PGT_ACC_READ);
}

static int tr_null(struct env *e)
{
	return tr(NULL, e->va, PGT_ACC_READ);
}

static int tr_uninit(struct env *e)
{
	return tr(uninit(), e->va, PGT_ACC_READ);
}

static int tr_outside(struct env *e)
{
	return tr(&e->sp, outside_va(e), PGT_ACC_READ);
}

static int tr_no_kind(struct env *e)
{
	return tr(&e->sp, e->va, PGT_ACC_USER);
}

static int tr_two_kinds(struct env *e)
{
	return tr(&e->sp, e->va, PGT_ACC_READ | PGT_ACC_WRITE);
}

static int tr_unknown_bit(struct env *e)
{
	return tr(&e->sp, e->va, PGT_ACC_READ | 1u << 10);
}

/** Counts what the walk reports; nothing to stop it. */
static int count_visit(void *arg, const struct pgt_mapping *m)
{
	(void)m;
	++*(unsigned *)arg;
	return 0;
}

static int walk(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size)
{
	unsigned n = 0;

	return pgt_walk(sp, va, size, count_visit, &n);
}

static int walk_ok(struct env *e)
{
	return walk(&e->sp, e->va, e->free_va - e->va);
}

static int walk_null(struct env *e)
{
	return walk(NULL, e->va, page(e));
}

static int walk_uninit(struct env *e)
{
	return walk(uninit(), e->va, page(e));
}

static int walk_null_visit(struct env *e)
{
	return pgt_walk(&e->sp, e->va, page(e), NULL, NULL);
}

static int walk_outside(struct env *e)
{
	return walk(&e->sp, outside_va(e), page(e));
}

static int walk_size_zero(struct env *e)
{
	return walk(&e->sp, e->va, 0);
}

static int walk_va_wraps(struct env *e)
{
	return walk(&e->sp, top_page(e), 2 * page(e));
}

static int walk_hole(struct env *e)
{
	pgt_vaddr_t va;
	uint64_t size;

	hole_range(e, page(e), &va, &size);
	return walk(&e->sp, va, size);
}

static int walk_all_ok(struct env *e)
{
	unsigned n = 0;

	return pgt_walk_all(&e->sp, count_visit, &n);
}

static int walk_all_null(struct env *e)
{
	unsigned n = 0;

	(void)e;
	return pgt_walk_all(NULL, count_visit, &n);
}

static int walk_all_uninit(struct env *e)
{
	unsigned n = 0;

	(void)e;
	return pgt_walk_all(uninit(), count_visit, &n);
}

static int walk_all_null_visit(struct env *e)
{
	return pgt_walk_all(&e->sp, NULL, NULL);
}

static void ignore_line(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static int dump(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size)
{
	return pgt_dump(sp, va, size, ignore_line, NULL);
}

static int dump_ok(struct env *e)
{
	return dump(&e->sp, e->va, e->free_va - e->va);
}

static int dump_null(struct env *e)
{
	return dump(NULL, e->va, page(e));
}

static int dump_uninit(struct env *e)
{
	return dump(uninit(), e->va, page(e));
}

static int dump_null_print(struct env *e)
{
	return pgt_dump(&e->sp, e->va, page(e), NULL, NULL);
}

static int dump_outside(struct env *e)
{
	return dump(&e->sp, outside_va(e), page(e));
}

static int dump_size_zero(struct env *e)
{
	return dump(&e->sp, e->va, 0);
}

static int dump_va_wraps(struct env *e)
{
	return dump(&e->sp, top_page(e), 2 * page(e));
}

static int dump_hole(struct env *e)
{
	pgt_vaddr_t va;
	uint64_t size;

	hole_range(e, page(e), &va, &size);
	return dump(&e->sp, va, size);
}

static int dump_all_ok(struct env *e)
{
	return pgt_dump_all(&e->sp, ignore_line, NULL);
}

static int dump_all_null(struct env *e)
{
	(void)e;
	return pgt_dump_all(NULL, ignore_line, NULL);
}

static int dump_all_uninit(struct env *e)
{
	(void)e;
	return pgt_dump_all(uninit(), ignore_line, NULL);
}

static int dump_all_null_print(struct env *e)
{
	return pgt_dump_all(&e->sp, NULL, NULL);
}

/** A consistent tree has no problem: 0 is PGT_OK. */
static int verify_ok(struct env *e)
{
	return pgt_verify(&e->sp, NULL, NULL);
}

static int verify_null(struct env *e)
{
	(void)e;
	return pgt_verify(NULL, NULL, NULL);
}

static int verify_uninit(struct env *e)
{
	(void)e;
	return pgt_verify(uninit(), NULL, NULL);
}

/* --- the table ------------------------------------------------------------------- */

/*
 * Rows whose status depends on the space: a range past the top of the
 * space wraps when that top is the end of the 64-bit address space, and
 * leaves the space otherwise; the x86-64 hole is always left. Execute
 * alone is not expressible, except in a format with execute-only leaves
 * (RISC-V), where the row is a control row; so is write-combining where
 * the format has that memory type (x86-64), and write without read where
 * every combination of rights is a leaf (ARMv8 stage 2).
 */
#define WANT_PAST_TOP     1000
#define WANT_HOLE         1001
#define WANT_EXEC_ONLY    1002
#define WANT_WRITECOMBINE 1003
#define WANT_WRITE_ONLY   1004

/** Does @p e's format express what row @p r asks, making it a control row? */
static bool row_expressible(const struct row *r, const struct env *e)
{
	if (r->want == WANT_EXEC_ONLY)
		return test_exec_only(e->a);
	if (r->want == WANT_WRITE_ONLY)
		return test_write_only(e->a);
	return r->want == WANT_WRITECOMBINE && !(test_no_memtypes(e->a) & PGT_PROT_WRITECOMBINE);
}

/** Is @p r a call that must succeed on @p e's format? */
static bool row_is_control(const struct row *r, const struct env *e)
{
	return r->cls == C_CONTROL || row_expressible(r, e);
}

static int row_want(const struct row *r, const struct env *e)
{
	int past_top = test_va_top(e->a, e->flags) == ~0ull ? PGT_EWRAP : PGT_ERANGE;

	if (r->want == WANT_HOLE)
		return e->a->canon == PGT_CANON_SIGN_EXTEND ? PGT_ERANGE : past_top;
	if (r->want == WANT_EXEC_ONLY || r->want == WANT_WRITECOMBINE || r->want == WANT_WRITE_ONLY)
		return row_expressible(r, e) ? PGT_OK : PGT_ENOTSUP;
	return r->want == WANT_PAST_TOP ? past_top : r->want;
}

#define ROW(fn, cls, call, want)           \
	{                                  \
		fn, cls, #call, call, want \
	}

static const struct row rows[] = {
	ROW("pgt_space_init", C_CONTROL, init_ok, PGT_OK),
	ROW("pgt_space_init", C_NULL, init_null_sp, PGT_EINVAL),
	ROW("pgt_space_init", C_NULL, init_null_arch, PGT_EINVAL),
	ROW("pgt_space_init", C_NULL, init_null_mm, PGT_EINVAL),
	ROW("pgt_space_init", C_NULL, init_no_alloc, PGT_ENOHOOK),
	ROW("pgt_space_init", C_NULL, init_no_free, PGT_ENOHOOK),
	ROW("pgt_space_init", C_FLAGS, init_flag_unknown, PGT_EFLAGS),
	ROW("pgt_space_init", C_FLAGS, init_flag_top, PGT_EFLAGS),
	ROW("pgt_space_init", C_FLAGS, init_upper_x86, PGT_EFLAGS),
	ROW("pgt_space_init", C_DESCRIPTOR, init_no_levels, PGT_EINVAL),
	ROW("pgt_space_init", C_DESCRIPTOR, init_many_levels, PGT_EINVAL),
	ROW("pgt_space_init", C_DESCRIPTOR, init_wide_va, PGT_EINVAL),
	ROW("pgt_space_init", C_DESCRIPTOR, init_no_encode, PGT_EINVAL),
	ROW("pgt_space_init", C_DESCRIPTOR, init_bad_canon, PGT_EINVAL),
	ROW("pgt_space_init", C_DESCRIPTOR, init_bad_table_size, PGT_EINVAL),

	ROW("pgt_space_destroy", C_NULL, destroy_null, PGT_OK),
	ROW("pgt_space_destroy", C_UNINIT, destroy_uninit, PGT_OK),
	ROW("pgt_space_root", C_CONTROL, root_ok, PGT_OK),
	ROW("pgt_space_root", C_NULL, root_null, PGT_EINVAL),
	ROW("pgt_space_root", C_UNINIT, root_uninit, PGT_EINVAL),
	ROW("pgt_arch_by_name", C_CONTROL, by_name_ok, PGT_OK),
	ROW("pgt_arch_by_name", C_NULL, by_name_null, PGT_EINVAL),
	ROW("pgt_arch_by_name", C_VALUE, by_name_unknown, PGT_EINVAL),
	ROW("pgt_strerror", C_VALUE, strerror_unknown, PGT_OK),

	ROW("pgt_insert", C_CONTROL, ins_ok, PGT_OK),
	ROW("pgt_insert", C_NULL, ins_null, PGT_EINVAL),
	ROW("pgt_insert", C_UNINIT, ins_uninit, PGT_EINVAL),
	ROW("pgt_insert", C_VA_RANGE, ins_outside, PGT_ERANGE),
	ROW("pgt_insert", C_VA_RANGE, ins_top_bits, PGT_ERANGE),
	ROW("pgt_insert", C_VA_ALIGN, ins_misaligned, PGT_EALIGN),
	ROW("pgt_insert", C_VA_ALIGN, ins_super_misaligned, PGT_EALIGN),
	ROW("pgt_insert", C_SHIFT, ins_shift_small, PGT_ESIZE),
	ROW("pgt_insert", C_SHIFT, ins_shift_zero, PGT_ESIZE),
	ROW("pgt_insert", C_SHIFT, ins_shift_64, PGT_ESIZE),
	ROW("pgt_insert", C_SHIFT, ins_shift_huge, PGT_ESIZE),
	ROW("pgt_insert", C_SHIFT, ins_shift_noleaf, PGT_ESIZE),

	ROW("pgt_lookup", C_CONTROL, look_ok, PGT_OK),
	ROW("pgt_lookup", C_NULL, look_null, PGT_EINVAL),
	ROW("pgt_lookup", C_UNINIT, look_uninit, PGT_EINVAL),
	ROW("pgt_lookup", C_VA_RANGE, look_outside, PGT_ERANGE),
	ROW("pgt_lookup", C_VA_RANGE, look_top_bits, PGT_ERANGE),

	ROW("pgt_get_field", C_CONTROL, get_ok, PGT_OK),
	ROW("pgt_get_field", C_NULL, get_null_sp, PGT_EINVAL),
	ROW("pgt_get_field", C_NULL, get_null_val, PGT_EINVAL),
	ROW("pgt_get_field", C_NULL, get_null_pte, PGT_EINVAL),
	ROW("pgt_get_field", C_UNINIT, get_uninit, PGT_EINVAL),
	ROW("pgt_get_field", C_LEVEL, get_level_high, PGT_EINVAL),
	ROW("pgt_get_field", C_LEVEL, get_level_huge, PGT_EINVAL),
	ROW("pgt_get_field", C_LEVEL, get_level_other, PGT_EINVAL),
	ROW("pgt_get_field", C_LEVEL, get_shift_other, PGT_EINVAL),
	ROW("pgt_get_field", C_REF, get_misaligned, PGT_EINVAL),
	ROW("pgt_get_field", C_REF, get_empty, PGT_EINVAL),
	ROW("pgt_get_field", C_REF, get_table, PGT_EINVAL),
	ROW("pgt_get_field", C_FIELD, get_field_count, PGT_EFLAGS),
	ROW("pgt_get_field", C_FIELD, get_field_neg, PGT_EFLAGS),

	ROW("pgt_set_field", C_CONTROL, set_ok, PGT_OK),
	ROW("pgt_set_field", C_NULL, set_null_sp, PGT_EINVAL),
	ROW("pgt_set_field", C_NULL, set_null_pte, PGT_EINVAL),
	ROW("pgt_set_field", C_UNINIT, set_uninit, PGT_EINVAL),
	ROW("pgt_set_field", C_LEVEL, set_level_high, PGT_EINVAL),
	ROW("pgt_set_field", C_LEVEL, set_level_other, PGT_EINVAL),
	ROW("pgt_set_field", C_LEVEL, set_shift_other, PGT_EINVAL),
	ROW("pgt_set_field", C_REF, set_misaligned, PGT_EINVAL),
	ROW("pgt_set_field", C_REF, set_empty, PGT_EINVAL),
	ROW("pgt_set_field", C_REF, set_table, PGT_EINVAL),
	ROW("pgt_set_field", C_FIELD, set_field_count, PGT_EFLAGS),
	ROW("pgt_set_field", C_FIELD, set_field_big, PGT_EFLAGS),
	ROW("pgt_set_field", C_VALUE, set_prot_next, PGT_EFLAGS),
	ROW("pgt_set_field", C_VALUE, set_prot_top, PGT_EFLAGS),
	ROW("pgt_set_field", C_VALUE, set_bool_two, PGT_EINVAL),
	ROW("pgt_set_field", C_VALUE, set_bool_max, PGT_EINVAL),
	ROW("pgt_set_field", C_VALUE, set_dirty_two, PGT_EINVAL),
	ROW("pgt_set_field", C_PA_ALIGN, set_pa_odd, PGT_EALIGN),
	ROW("pgt_set_field", C_PA_ALIGN, set_pa_half, PGT_EALIGN),
	ROW("pgt_set_field", C_PA_WIDTH, set_pa_wide, PGT_ERANGE),
	ROW("pgt_set_field", C_PA_WIDTH, set_pa_top, PGT_ERANGE),
	ROW("pgt_set_field", C_UNSUPPORTED, set_write_only, WANT_WRITE_ONLY),
	ROW("pgt_set_field", C_UNSUPPORTED, set_exec_only, WANT_EXEC_ONLY),
	ROW("pgt_set_field", C_UNSUPPORTED, set_write_exec, WANT_WRITE_ONLY),
	ROW("pgt_set_field", C_UNSUPPORTED, set_write_combine, WANT_WRITECOMBINE),

	ROW("pgt_set_link", C_CONTROL, setl_ok, PGT_OK),
	ROW("pgt_set_link", C_NULL, setl_null_sp, PGT_EINVAL),
	ROW("pgt_set_link", C_NULL, setl_null_pte, PGT_EINVAL),
	ROW("pgt_set_link", C_UNINIT, setl_uninit, PGT_EINVAL),
	ROW("pgt_set_link", C_LEVEL, setl_level, PGT_EINVAL),
	ROW("pgt_set_link", C_LEVEL, setl_shift, PGT_EINVAL),
	ROW("pgt_set_link", C_REF, setl_misaligned, PGT_EINVAL),
	ROW("pgt_set_link", C_REF, setl_empty, PGT_EINVAL),
	ROW("pgt_set_link", C_REF, setl_table, PGT_EINVAL),

	ROW("pgt_get_link", C_CONTROL, getl_ok, PGT_OK),
	ROW("pgt_get_link", C_NULL, getl_null_sp, PGT_EINVAL),
	ROW("pgt_get_link", C_NULL, getl_null_node, PGT_EINVAL),
	ROW("pgt_get_link", C_NULL, getl_null_pte, PGT_EINVAL),
	ROW("pgt_get_link", C_UNINIT, getl_uninit, PGT_EINVAL),
	ROW("pgt_get_link", C_LEVEL, getl_level, PGT_EINVAL),
	ROW("pgt_get_link", C_LEVEL, getl_shift, PGT_EINVAL),
	ROW("pgt_get_link", C_REF, getl_misaligned, PGT_EINVAL),
	ROW("pgt_get_link", C_REF, getl_empty, PGT_EINVAL),
	ROW("pgt_get_link", C_REF, getl_table, PGT_EINVAL),

	ROW("pgt_map", C_CONTROL, map_ok, PGT_OK),
	ROW("pgt_map", C_NULL, map_null, PGT_EINVAL),
	ROW("pgt_map", C_UNINIT, map_uninit, PGT_EINVAL),
	ROW("pgt_map", C_VA_RANGE, map_outside, PGT_ERANGE),
	ROW("pgt_map", C_VA_ALIGN, map_misaligned, PGT_EALIGN),
	ROW("pgt_map", C_SIZE, map_size_zero, PGT_ESIZE),
	ROW("pgt_map", C_SIZE, map_size_odd, PGT_EALIGN),
	ROW("pgt_map", C_OVERFLOW, map_va_wraps, WANT_PAST_TOP),
	ROW("pgt_map", C_OVERFLOW, map_pa_wraps, PGT_EWRAP),
	ROW("pgt_map", C_HOLE, map_hole, WANT_HOLE),
	ROW("pgt_map", C_PA_ALIGN, map_pa_odd, PGT_EALIGN),
	ROW("pgt_map", C_PA_WIDTH, map_pa_wide, PGT_ERANGE),
	ROW("pgt_map", C_FLAGS, map_flag_unknown, PGT_EFLAGS),
	ROW("pgt_map", C_FLAGS, map_flag_top, PGT_EFLAGS),
	ROW("pgt_map", C_VALUE, map_prot_next, PGT_EFLAGS),
	ROW("pgt_map", C_VALUE, map_prot_top, PGT_EFLAGS),
	ROW("pgt_map", C_UNSUPPORTED, map_write_only, WANT_WRITE_ONLY),
	ROW("pgt_map", C_UNSUPPORTED, map_exec_only, WANT_EXEC_ONLY),
	ROW("pgt_map", C_UNSUPPORTED, map_write_exec, WANT_WRITE_ONLY),
	ROW("pgt_map", C_UNSUPPORTED, map_write_combine, WANT_WRITECOMBINE),
	ROW("pgt_map", C_CONFLICT, map_over, PGT_ECONFLICT),
	ROW("pgt_map", C_CONFLICT, map_over_reserved, PGT_ECONFLICT),

	ROW("pgt_unmap", C_CONTROL, unmap_ok, PGT_OK),
	ROW("pgt_unmap", C_NULL, unmap_null, PGT_EINVAL),
	ROW("pgt_unmap", C_UNINIT, unmap_uninit, PGT_EINVAL),
	ROW("pgt_unmap", C_VA_RANGE, unmap_outside, PGT_ERANGE),
	ROW("pgt_unmap", C_VA_ALIGN, unmap_misaligned, PGT_EALIGN),
	ROW("pgt_unmap", C_SIZE, unmap_size_zero, PGT_ESIZE),
	ROW("pgt_unmap", C_SIZE, unmap_size_odd, PGT_EALIGN),
	ROW("pgt_unmap", C_OVERFLOW, unmap_va_wraps, WANT_PAST_TOP),
	ROW("pgt_unmap", C_HOLE, unmap_hole, WANT_HOLE),

	ROW("pgt_protect", C_CONTROL, protect_ok, PGT_OK),
	ROW("pgt_protect", C_NULL, protect_null, PGT_EINVAL),
	ROW("pgt_protect", C_UNINIT, protect_uninit, PGT_EINVAL),
	ROW("pgt_protect", C_VA_RANGE, protect_outside, PGT_ERANGE),
	ROW("pgt_protect", C_VA_ALIGN, protect_misaligned, PGT_EALIGN),
	ROW("pgt_protect", C_SIZE, protect_size_zero, PGT_ESIZE),
	ROW("pgt_protect", C_SIZE, protect_size_odd, PGT_EALIGN),
	ROW("pgt_protect", C_OVERFLOW, protect_va_wraps, WANT_PAST_TOP),
	ROW("pgt_protect", C_HOLE, protect_hole, WANT_HOLE),
	ROW("pgt_protect", C_VALUE, protect_prot_next, PGT_EFLAGS),
	ROW("pgt_protect", C_UNSUPPORTED, protect_write_only, WANT_WRITE_ONLY),
	ROW("pgt_protect", C_UNSUPPORTED, protect_exec_only, WANT_EXEC_ONLY),
	ROW("pgt_protect", C_UNSUPPORTED, protect_write_exec, WANT_WRITE_ONLY),

	ROW("pgt_share", C_CONTROL, share_ok, PGT_OK),
	ROW("pgt_share", C_NULL, share_null_dst, PGT_EINVAL),
	ROW("pgt_share", C_NULL, share_null_src, PGT_EINVAL),
	ROW("pgt_share", C_UNINIT, share_uninit_src, PGT_EINVAL),
	ROW("pgt_share", C_SPACES, share_same_space, PGT_EINVAL),
	ROW("pgt_share", C_SPACES, share_other_arch, PGT_EINVAL),
	ROW("pgt_share", C_SPACES, share_other_flags, PGT_EINVAL),
	ROW("pgt_share", C_SPACES, share_other_mm, PGT_EINVAL),
	ROW("pgt_share", C_VA_ALIGN, share_misaligned, PGT_EALIGN),
	ROW("pgt_share", C_VA_RANGE, share_outside, PGT_ERANGE),
	ROW("pgt_share", C_SIZE, share_size_zero, PGT_ESIZE),
	ROW("pgt_share", C_SIZE, share_size_part, PGT_EALIGN),
	ROW("pgt_share", C_OVERFLOW, share_va_wraps, WANT_PAST_TOP),
	ROW("pgt_share", C_HOLE, share_hole, WANT_HOLE),
	ROW("pgt_share", C_CONFLICT, share_over_mapping, PGT_ECONFLICT),

	ROW("pgt_translate", C_CONTROL, tr_ok, PGT_OK),
	ROW("pgt_translate", C_NULL, tr_null, PGT_EINVAL),
	ROW("pgt_translate", C_UNINIT, tr_uninit, PGT_EINVAL),
	ROW("pgt_translate", C_VA_RANGE, tr_outside, PGT_ERANGE),
	ROW("pgt_translate", C_VALUE, tr_no_kind, PGT_EFLAGS),
	ROW("pgt_translate", C_VALUE, tr_two_kinds, PGT_EFLAGS),
	ROW("pgt_translate", C_FLAGS, tr_unknown_bit, PGT_EFLAGS),

	ROW("pgt_walk", C_CONTROL, walk_ok, PGT_OK),
	ROW("pgt_walk", C_NULL, walk_null, PGT_EINVAL),
	ROW("pgt_walk", C_NULL, walk_null_visit, PGT_EINVAL),
	ROW("pgt_walk", C_UNINIT, walk_uninit, PGT_EINVAL),
	ROW("pgt_walk", C_VA_RANGE, walk_outside, PGT_ERANGE),
	ROW("pgt_walk", C_SIZE, walk_size_zero, PGT_ESIZE),
	ROW("pgt_walk", C_OVERFLOW, walk_va_wraps, WANT_PAST_TOP),
	ROW("pgt_walk", C_HOLE, walk_hole, WANT_HOLE),

	ROW("pgt_walk_all", C_CONTROL, walk_all_ok, PGT_OK),
	ROW("pgt_walk_all", C_NULL, walk_all_null, PGT_EINVAL),
	ROW("pgt_walk_all", C_NULL, walk_all_null_visit, PGT_EINVAL),
	ROW("pgt_walk_all", C_UNINIT, walk_all_uninit, PGT_EINVAL),

	ROW("pgt_dump", C_CONTROL, dump_ok, PGT_OK),
	ROW("pgt_dump", C_NULL, dump_null, PGT_EINVAL),
	ROW("pgt_dump", C_NULL, dump_null_print, PGT_EINVAL),
	ROW("pgt_dump", C_UNINIT, dump_uninit, PGT_EINVAL),
	ROW("pgt_dump", C_VA_RANGE, dump_outside, PGT_ERANGE),
	ROW("pgt_dump", C_SIZE, dump_size_zero, PGT_ESIZE),
	ROW("pgt_dump", C_OVERFLOW, dump_va_wraps, WANT_PAST_TOP),
	ROW("pgt_dump", C_HOLE, dump_hole, WANT_HOLE),

	ROW("pgt_dump_all", C_CONTROL, dump_all_ok, PGT_OK),
	ROW("pgt_dump_all", C_NULL, dump_all_null, PGT_EINVAL),
	ROW("pgt_dump_all", C_NULL, dump_all_null_print, PGT_EINVAL),
	ROW("pgt_dump_all", C_UNINIT, dump_all_uninit, PGT_EINVAL),

	ROW("pgt_verify", C_CONTROL, verify_ok, PGT_OK),
	ROW("pgt_verify", C_NULL, verify_null, PGT_EINVAL),
	ROW("pgt_verify", C_UNINIT, verify_uninit, PGT_EINVAL),
};
#define NROWS (sizeof rows / sizeof rows[0])

/* --- running a row ----------------------------------------------------------------- */

/** Checks run, summed across the forked test processes. */
struct counts {
	unsigned long rows, checks;
	unsigned long per_class[C_COUNT];
};
static struct counts g_local;
static struct counts *g_cnt = &g_local;

/** The entry that maps @p va at @p level's table, found by the test's own walk. */
static pgt_pte_t *entry_at(const struct env *e, pgt_vaddr_t va, unsigned level)
{
	pgt_pte_t *tab = test_mm_p2v(&e->t, pgt_space_root(&e->sp));

	for (unsigned l = e->a->levels - 1u;; l--) {
		const struct pgt_level *L = &e->a->level[l];
		pgt_pte_t *p = tab + ((va >> L->shift) & ((1ull << L->bits) - 1));
		if (l == level)
			return p;
		CHECK_THAT(test_is_table(L, l, *p), "%s: no table above level %u", e->a->name, l);
		tab = test_mm_p2v(&e->t, test_table_pa(L, *p));
	}
}

/**
 * A fresh space with a valid mapping (RW, output address 2 MiB) at a page a
 * quarter into the range, a reserved one two pages on, an empty entry
 * between them, and a free page beyond.
 */
static void env_open(struct env *e, size_t arch, enum test_mm_mode mode)
{
	memset(e, 0, sizeof *e);
	e->a = test_archs[arch];
	e->flags = PGT_SPACE_LINKS | ((arch & 1) && test_has_upper(e->a) ? PGT_SPACE_UPPER : 0u);
	test_mm_init(&e->t, mode);
	ck_assert_int_eq(pgt_space_init(&e->sp, e->a, &e->t.mm, e->flags), PGT_OK);
	e->va = test_va_bottom(e->a, e->flags) + (1ull << (e->a->va_bits - 2));
	e->free_va = e->va + 4 * page(e);
	ck_assert_int_eq(pgt_insert(&e->sp, e->va, small_shift(e), &e->ref), PGT_OK);
	ck_assert_int_eq(pgt_set_field(&e->sp, e->ref, PGT_FIELD_PADDR, 0x200000), PGT_OK);
	ck_assert_int_eq(pgt_set_field(&e->sp, e->ref, PGT_FIELD_PROT, PGT_PROT_READ), PGT_OK);
	ck_assert_int_eq(pgt_insert(&e->sp, e->va + 2 * page(e), small_shift(e), NULL), PGT_OK);
	e->empty_ref = with_pte(e->ref, entry_at(e, e->va + page(e), 0));
	e->table_ref = (pgt_ref_t){ entry_at(e, e->va, 1), 1, e->a->level[1].shift };
}

static void env_close(struct env *e)
{
	pgt_space_destroy(&e->sp);
	CHECK_THAT(test_mm_outstanding(&e->t) == 0 && e->t.errors == 0 && e->t.allocs == e->t.frees,
		      "%s: books: %zu outstanding, %ld bad frees", e->a->name, test_mm_outstanding(&e->t),
		      e->t.errors);
	test_mm_fini(&e->t);
}

/** Runs one row on one descriptor: status, tree and books. */
static void run_row(const struct row *r, size_t arch, enum test_mm_mode mode)
{
	struct env e;

	env_open(&e, arch, mode);
	size_t n, frames = test_mm_outstanding(&e.t);
	long allocs = e.t.allocs;
	pgt_pte_t *snap = tree_snapshot(&e.sp, e.a, &e.t, &n);
	int rc = r->call(&e), want = row_want(r, &e);

	CHECK_THAT(rc == want, "%s (%s: %s) on %s: status %s (%s), want %s (%s)", r->fn, class_name[r->cls],
		      r->what, e.a->name, pgt_errname(rc), pgt_strerror(rc), pgt_errname(want), pgt_strerror(want));
	if (row_is_control(r, &e)) {
		free(snap); /* a good call may change the tree */
	} else {
		CHECK_THAT(tree_unchanged(&e.sp, e.a, &e.t, snap, n), "%s (%s) on %s changed the tree",
			      r->fn, r->what, e.a->name);
		/* pgt_share rows make (and destroy) a borrower on the same allocator */
		CHECK_THAT(test_mm_outstanding(&e.t) == frames &&
				      (e.t.allocs == allocs || strcmp(r->fn, "pgt_share") == 0),
			      "%s (%s) on %s: frames %zu -> %zu, %ld allocated", r->fn, r->what, e.a->name,
			      frames, test_mm_outstanding(&e.t), e.t.allocs - allocs);
	}
	env_close(&e);
	g_cnt->checks++;
}

START_TEST(test_badinput_table)
{
	const struct row *r = &rows[_i];

	for (size_t a = 0; a < test_narchs; a++)
		run_row(r, a, (enum test_mm_mode)(a & 1));
	g_cnt->rows++;
	g_cnt->per_class[r->cls]++;
}
END_TEST

/* The table is honest: every function named has a control row and at least one bad class. */
START_TEST(test_badinput_table_complete)
{
	for (size_t i = 0; i < NROWS; i++) {
		bool control = false, bad = false;
		for (size_t j = 0; j < NROWS; j++) {
			if (strcmp(rows[i].fn, rows[j].fn) != 0)
				continue;
			control |= rows[j].cls == C_CONTROL;
			bad |= rows[j].cls != C_CONTROL;
		}
		/* destroy and strerror have no failure to show, only inputs to survive */
		bool needs_control =
			strcmp(rows[i].fn, "pgt_space_destroy") && strcmp(rows[i].fn, "pgt_strerror");
		CHECK_THAT(bad && (control || !needs_control), "%s: control %d, bad rows %d", rows[i].fn,
			      control, bad);
	}
}
END_TEST

static Suite *badinput_suite(void)
{
	Suite *su = suite_create("badinput");
	TCase *tc = tcase_create("table");

	tcase_add_loop_test(tc, test_badinput_table, 0, (int)NROWS);
	tcase_add_test(tc, test_badinput_table_complete);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	void *shared = mmap(NULL, sizeof *g_cnt, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared != MAP_FAILED)
		g_cnt = shared;

	int failed = test_run_suite(badinput_suite());
	unsigned classes = 0;
	for (unsigned c = 1; c < C_COUNT; c++)
		classes += g_cnt->per_class[c] != 0;
	printf("check_badinput: %lu rows (%lu control), %u classes, %lu checks over %zu descriptors;",
	       g_cnt->rows, g_cnt->per_class[C_CONTROL], classes, g_cnt->checks, test_narchs);
	for (unsigned c = 1; c < C_COUNT; c++)
		printf(" %s %lu%s", class_name[c], g_cnt->per_class[c], c + 1 < C_COUNT ? "," : "\n");
	if (shared != MAP_FAILED)
		munmap(shared, sizeof *g_cnt);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
