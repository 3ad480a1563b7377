/* SPDX-License-Identifier: MIT */
/*
 * Check suite for pgt_share (lib/share.c): two spaces sharing a range of root
 * entries (the kernel half of seed 000, section 2.1), on every descriptor.
 *
 * Covers: the owner's tables made on demand; mappings made through either
 * space seen by both (the same entry, not a copy); unmap through the
 * borrower never frees a shared table; sharing twice is a no-op; destroy in
 * both orders frees every table exactly once; conflicts, mismatched spaces
 * and bad ranges refused with nothing changed; allocation failure at every
 * allocation leaving both spaces as they were.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include <pgtable/armv8.h>
#include <pgtable/riscv.h>
#include <pgtable/x86_64.h>
#include <pgtable/ept.h>

enum { R = PGT_PROT_READ, W = PGT_PROT_WRITE };

/** Two spaces of one descriptor on one allocator, and the root entries to share. */
struct pair {
	const struct pgt_arch *a;
	struct test_mm t;
	pgt_space_t src, dst;
	pgt_vaddr_t va;  /**< first shared byte: root entry 2 */
	uint64_t entry;  /**< bytes a root entry maps */
};

static void pair_open(struct pair *p, int i, enum test_mm_mode mode)
{
	p->a = test_archs[i];
	test_mm_init(&p->t, mode);
	ck_assert_int_eq(pgt_space_init(&p->src, p->a, &p->t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_space_init(&p->dst, p->a, &p->t.mm, 0), PGT_OK);
	p->entry = 1ull << p->a->level[p->a->levels - 1u].shift;
	p->va = 2 * p->entry;
}

static void books_balance(struct pair *p)
{
	ck_assert_int_eq(p->t.errors, 0);
	ck_assert_int_eq(p->t.allocs, p->t.frees);
	ck_assert_uint_eq(test_mm_outstanding(&p->t), 0);
	test_mm_fini(&p->t);
}

static uint64_t page_of(const struct pgt_arch *a)
{
	return 1ull << a->level[0].shift;
}

START_TEST(test_share_both_ways)
{
	struct pair p;
	pair_open(&p, _i, TEST_MM_HOOK);
	uint64_t page = page_of(p.a);
	long before = p.t.allocs;

	ck_assert_int_eq(pgt_share(&p.dst, &p.src, p.va, 2 * p.entry), PGT_OK);
	ck_assert_int_eq(p.t.allocs - before, 2); /* the owner's two tables, made now */
	/* through the owner, seen by the borrower: the very same entry */
	ck_assert_int_eq(pgt_map(&p.src, p.va + 5 * page, 0x5000 * page, page, R | W, 0), PGT_OK);
	pgt_ref_t a, b;
	ck_assert_int_eq(pgt_lookup(&p.src, p.va + 5 * page, &a), PGT_OK);
	ck_assert_int_eq(pgt_lookup(&p.dst, p.va + 5 * page, &b), PGT_OK);
	ck_assert_ptr_eq(a.pte, b.pte);
	/* through the borrower, seen by the owner */
	ck_assert_int_eq(pgt_map(&p.dst, p.va + p.entry, 0, 3 * page, R, 0), PGT_OK);
	ck_assert_int_eq(pgt_lookup(&p.src, p.va + p.entry + 2 * page, NULL), PGT_OK);
	/* outside the shared range the spaces stay apart */
	ck_assert_int_eq(pgt_map(&p.dst, 0, 0, page, R, 0), PGT_OK);
	ck_assert_int_eq(pgt_lookup(&p.src, 0, NULL), PGT_ENOENT);
	struct tree_stats st = tree_check(&p.dst, p.a, &p.t);
	ck_assert_uint_eq(st.problems, 0);
	/* unmap through the borrower: gone in both, the shared tables stay linked */
	ck_assert_int_eq(pgt_unmap(&p.dst, p.va, 2 * p.entry), PGT_OK);
	ck_assert_int_eq(pgt_lookup(&p.src, p.va + 5 * page, NULL), PGT_ENOENT);
	ck_assert_int_eq(pgt_map(&p.src, p.va + 7 * page, 0, page, R, 0), PGT_OK);
	ck_assert_int_eq(pgt_lookup(&p.dst, p.va + 7 * page, NULL), PGT_OK);
	/* sharing again changes nothing and allocates nothing */
	before = p.t.attempts;
	ck_assert_int_eq(pgt_share(&p.dst, &p.src, p.va, 2 * p.entry), PGT_OK);
	ck_assert_int_eq(p.t.attempts, before);
	pgt_space_destroy(&p.dst);
	/* the owner still has all its mappings after the borrower is gone */
	ck_assert_int_eq(pgt_lookup(&p.src, p.va + 7 * page, NULL), PGT_OK);
	pgt_space_destroy(&p.src);
	books_balance(&p);
}
END_TEST

/** The owner first: the borrower's destroy must not touch the tables it borrowed. */
START_TEST(test_destroy_owner_first)
{
	struct pair p;
	pair_open(&p, _i, TEST_MM_OFFSET);
	ck_assert_int_eq(pgt_map(&p.src, p.va, 0, p.entry / 2, R, 0), PGT_OK);
	ck_assert_int_eq(pgt_share(&p.dst, &p.src, p.va, p.entry), PGT_OK);
	ck_assert_int_eq(pgt_map(&p.dst, 0, 0, page_of(p.a), R, 0), PGT_OK);
	pgt_space_destroy(&p.src);
	pgt_space_destroy(&p.dst);
	books_balance(&p);
}
END_TEST

/** A superpage where a shared table sits goes inside the table, never over it. */
START_TEST(test_shared_table_kept_by_map)
{
	struct pair p;
	pair_open(&p, _i, TEST_MM_OFFSET);
	ck_assert_int_eq(pgt_share(&p.dst, &p.src, p.va, p.entry), PGT_OK);
	pgt_ref_t r;
	ck_assert_int_eq(pgt_map(&p.dst, p.va, 0, p.entry, R, PGT_MAP_REPLACE), PGT_OK);
	ck_assert_int_eq(pgt_lookup(&p.src, p.va, &r), PGT_OK);
	ck_assert_uint_lt(r.level, p.a->levels - 1u);
	ck_assert_int_eq(pgt_unmap(&p.src, p.va, p.entry), PGT_OK);
	ck_assert_int_eq(pgt_map(&p.src, p.va, 0, p.entry, R, 0), PGT_OK);
	ck_assert_int_eq(pgt_lookup(&p.dst, p.va, &r), PGT_OK);
	pgt_space_destroy(&p.dst);
	pgt_space_destroy(&p.src);
	books_balance(&p);
}
END_TEST

START_TEST(test_share_refused)
{
	struct pair p;
	pair_open(&p, _i, TEST_MM_HOOK);
	uint64_t page = page_of(p.a);
	ck_assert_int_eq(pgt_map(&p.dst, p.va + p.entry, 0, page, R, 0), PGT_OK);
	size_t ns, nd;
	pgt_pte_t *snap_src = tree_snapshot(&p.src, p.a, &p.t, &ns);
	pgt_pte_t *snap_dst = tree_snapshot(&p.dst, p.a, &p.t, &nd);
	long attempts = p.t.attempts;

	/* the borrower maps something there already */
	ck_assert_int_eq(pgt_share(&p.dst, &p.src, p.va, 2 * p.entry), PGT_ECONFLICT);
	/* ranges */
	ck_assert_int_eq(pgt_share(&p.dst, &p.src, p.va + page, p.entry), PGT_EALIGN);
	ck_assert_int_eq(pgt_share(&p.dst, &p.src, p.va, p.entry / 2), PGT_EALIGN);
	ck_assert_int_eq(pgt_share(&p.dst, &p.src, p.va, 0), PGT_ESIZE);
	ck_assert_int_eq(pgt_share(&p.dst, &p.src, ~0ull - p.entry + 1, 2 * p.entry), PGT_EWRAP);
	ck_assert_int_eq(pgt_share(&p.dst, &p.src, 1ull << p.a->va_bits, p.entry), PGT_ERANGE);
	/* spaces */
	ck_assert_int_eq(pgt_share(&p.dst, &p.dst, p.va, p.entry), PGT_EINVAL);
	ck_assert_int_eq(pgt_share(NULL, &p.src, p.va, p.entry), PGT_EINVAL);
	ck_assert_int_eq(pgt_share(&p.dst, NULL, p.va, p.entry), PGT_EINVAL);
	struct test_mm other;
	pgt_space_t foreign, otherarch;
	test_mm_init(&other, TEST_MM_HOOK);
	ck_assert_int_eq(pgt_space_init(&foreign, p.a, &other.mm, 0), PGT_OK);
	const struct pgt_arch *b = test_archs[(_i + 1) % (int)test_narchs];
	ck_assert_int_eq(pgt_space_init(&otherarch, b, &p.t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_share(&foreign, &p.src, p.va, p.entry), PGT_EINVAL);   /* another allocator */
	ck_assert_int_eq(pgt_share(&otherarch, &p.src, p.va, p.entry), PGT_EINVAL); /* another format */
	pgt_space_destroy(&otherarch);
	pgt_space_destroy(&foreign);
	test_mm_fini(&other);
	attempts = p.t.attempts - attempts - 1; /* otherarch's root */
	ck_assert_int_eq(attempts, 0);
	ck_assert(tree_unchanged(&p.src, p.a, &p.t, snap_src, ns));
	ck_assert(tree_unchanged(&p.dst, p.a, &p.t, snap_dst, nd));
	pgt_space_destroy(&p.dst);
	pgt_space_destroy(&p.src);
	books_balance(&p);
}
END_TEST

/** A leaf in the owner's root cannot be linked from another space. */
START_TEST(test_share_root_leaf)
{
	struct pair p;
	pair_open(&p, _i, TEST_MM_OFFSET);
	if (p.a->level[p.a->levels - 1u].leaf_ok) {
		ck_assert_int_eq(pgt_map(&p.src, p.va, 0, p.entry, R, 0), PGT_OK);
		pgt_ref_t r;
		ck_assert_int_eq(pgt_lookup(&p.src, p.va, &r), PGT_OK);
		ck_assert_uint_eq(r.level, p.a->levels - 1u);
		ck_assert_int_eq(pgt_share(&p.dst, &p.src, p.va, p.entry), PGT_ECONFLICT);
	}
	pgt_space_destroy(&p.dst);
	pgt_space_destroy(&p.src);
	books_balance(&p);
}
END_TEST

START_TEST(test_share_fail_every_allocation)
{
	struct pair p;
	pair_open(&p, _i, TEST_MM_HOOK);
	ck_assert_int_eq(pgt_map(&p.src, p.va + p.entry, 0, page_of(p.a), R, 0), PGT_OK);
	long injected = 0;
	for (long n = 1;; n++) {
		size_t ns, nd;
		pgt_pte_t *snap_src = tree_snapshot(&p.src, p.a, &p.t, &ns);
		pgt_pte_t *snap_dst = tree_snapshot(&p.dst, p.a, &p.t, &nd);
		size_t live = test_mm_outstanding(&p.t);
		p.t.fail_at = p.t.attempts + n;
		int rc = pgt_share(&p.dst, &p.src, p.va, 4 * p.entry);
		p.t.fail_at = 0;
		if (rc == PGT_OK) {
			free(snap_src);
			free(snap_dst);
			break;
		}
		ck_assert_int_eq(rc, PGT_ENOMEM);
		ck_assert(tree_unchanged(&p.src, p.a, &p.t, snap_src, ns));
		ck_assert(tree_unchanged(&p.dst, p.a, &p.t, snap_dst, nd));
		ck_assert_uint_eq(test_mm_outstanding(&p.t), live);
		injected++;
	}
	ck_assert_int_eq(injected, 3); /* three of the four root entries had no table yet */
	ck_assert_int_eq(pgt_lookup(&p.dst, p.va + p.entry, NULL), PGT_OK);
	pgt_space_destroy(&p.dst);
	pgt_space_destroy(&p.src);
	books_balance(&p);
}
END_TEST

/** One family's table-entry literals for test_share_marks_golden. */
struct marks {
	pgt_pte_t pinned, borrowed;
	pgt_pte_t pinned_macro, borrowed_macro; /**< the header's names for them */
	pgt_pte_t attr_bits;                    /**< every bit of a table entry but its address */
	pgt_pte_t plain;                        /**< those bits in the owner's entry, the marks aside */
	int bbm;                                /**< break_before_make */
};

/*
 * The marks sit in bits the hardware ignores in a table entry: x86-64 bits
 * 11 and 10 (Intel SDM vol. 3A tables 4-14 to 4-17: bits 11:8 of a PML5E,
 * PML4E or PDPTE/PDE referencing a table are ignored), ARMv8 bits 57 and 56
 * (Arm ARM D8.3.1, table descriptor bits [58:51] are IGNORED), RISC-V RSW
 * bits 9 and 8 (privileged spec 4.3.1, figure 4.18: RSW is reserved for
 * supervisor software and ignored by the implementation). Otherwise the
 * two entries are the owner's plain table entry, address included.
 */
static struct marks marks_of(const struct pgt_arch *a)
{
	if (strncmp(a->name, "riscv", 5) == 0)
		/* V alone besides the PPN in bits 53:10 (4.3.1, table 4.5: X=W=R=0 points to the
		 * next level; D, A and U are reserved there, 4.3.1); no break-before-make: a valid
		 * entry may be replaced in one store before SFENCE.VMA (4.2.1) */
		return (struct marks){ .pinned = 1ull << 9,
				       .borrowed = 1ull << 8,
				       .pinned_macro = PGT_RISCV_SW_PINNED,
				       .borrowed_macro = PGT_RISCV_SW_BORROWED,
				       .attr_bits = 0xffc00000000003ffull,
				       .plain = 0x1,
				       .bbm = 0 };
	if (strncmp(a->name, "x86_64-ept", 10) == 0)
		/* R|W|X, A (bit 8, set by the library) and the address; bits 9 and 11 are ignored in an
		 * EPT table entry (SDM vol. 3C, tables "Format of an EPT PML4 Entry" and after); no
		 * break-before-make rule */
		return (struct marks){ .pinned = 1ull << 11,
				       .borrowed = 1ull << 9,
				       .pinned_macro = PGT_EPT_SW_PINNED,
				       .borrowed_macro = PGT_EPT_SW_BORROWED,
				       .attr_bits = 0xfff0000000000fffull,
				       .plain = 0x107,
				       .bbm = 0 };
	if (strncmp(a->name, "armv8", 5) == 0)
		/* 0b11 and the address; break-before-make, Arm ARM D8.15 */
		return (struct marks){ .pinned = 1ull << 57,
				       .borrowed = 1ull << 56,
				       .pinned_macro = PGT_ARMV8_SW_PINNED,
				       .borrowed_macro = PGT_ARMV8_SW_BORROWED,
				       .attr_bits = 0xfff0000000000fffull,
				       .plain = 0x3,
				       .bbm = 1 };
	/* P|RW|US|A (A set by the library) and the address; x86 has no break-before-make rule */
	return (struct marks){ .pinned = 1ull << 11,
			       .borrowed = 1ull << 10,
			       .pinned_macro = PGT_X86_SW_PINNED,
			       .borrowed_macro = PGT_X86_SW_BORROWED,
			       .attr_bits = 0xfffull,
			       .plain = 0x27,
			       .bbm = 0 };
}

START_TEST(test_share_marks_golden)
{
	struct pair p;
	pair_open(&p, _i, TEST_MM_OFFSET);
	struct marks m = marks_of(p.a);
	ck_assert_uint_eq(m.pinned, m.pinned_macro);
	ck_assert_uint_eq(m.borrowed, m.borrowed_macro);
	ck_assert_int_eq(p.a->break_before_make, m.bbm);

	ck_assert_int_eq(pgt_share(&p.dst, &p.src, p.va, p.entry), PGT_OK);
	unsigned i = (unsigned)(p.va >> p.a->level[p.a->levels - 1u].shift);
	const pgt_pte_t *rs = test_mm_p2v(&p.t, pgt_space_root(&p.src));
	const pgt_pte_t *rd = test_mm_p2v(&p.t, pgt_space_root(&p.dst));
	pgt_pte_t plain = rs[i] & ~m.pinned;
	ck_assert_uint_eq(plain & m.attr_bits, m.plain);
	/* the address: the owner's next-level table, shifted as the format keeps it */
	const struct pgt_level *top = &p.a->level[p.a->levels - 1u];
	ck_assert(test_mm_owns(&p.t, test_table_pa(top, plain), p.a->levels - 2u));
	ck_assert_uint_eq(rs[i], plain | m.pinned);
	ck_assert_uint_eq(rd[i], plain | m.borrowed);
	pgt_space_destroy(&p.dst);
	pgt_space_destroy(&p.src);
	books_balance(&p);
}
END_TEST

static Suite *share_suite(void)
{
	Suite *su = suite_create("share");
	TCase *tc = tcase_create("share");
	int n = (int)test_narchs;

	tcase_add_loop_test(tc, test_share_both_ways, 0, n);
	tcase_add_loop_test(tc, test_destroy_owner_first, 0, n);
	tcase_add_loop_test(tc, test_shared_table_kept_by_map, 0, n);
	tcase_add_loop_test(tc, test_share_refused, 0, n);
	tcase_add_loop_test(tc, test_share_root_leaf, 0, n);
	tcase_add_loop_test(tc, test_share_fail_every_allocation, 0, n);
	tcase_add_loop_test(tc, test_share_marks_golden, 0, n);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	int failed = test_run_suite(share_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
