/* SPDX-License-Identifier: MIT */
/*
 * The mapping database (pgtable/mdb.h) under the MMU: a page handed to
 * space A (pgt_mdb_map_phys) and mapped from A to B and C (pgt_mdb_map) is
 * one frame in all three, then pgt_mdb_unmap in A takes it from B and C,
 * and only there: the MMU faults in the receivers and not in A.
 *
 * Spaces under a database hold only what the database put there, so each
 * space gets the kernel's memory the way a microkernel hands memory to its
 * first process: pgt_mdb_map_phys of the RAM identity map (and the console
 * registers), as the boot code maps it in the kernel space.
 */
#include <pgtable/mdb.h>

#include "cases.h"

static const struct hw_layout *L;
static pgt_space_t *ksp;

/* ---- node memory: a static arena, as a kernel without a heap would ------- */

#define ARENA_SIZE (256u << 10)
static unsigned char arena[ARENA_SIZE] __attribute__((aligned(64)));
static size_t arena_next;
static long nodes_live;

static void *node_alloc(void *ctx, size_t size)
{
	size_t start = (arena_next + 15) & ~(size_t)15;

	(void)ctx;
	if (start > ARENA_SIZE || size > ARENA_SIZE - start)
		return NULL;
	arena_next = start + size;
	nodes_live++;
	return arena + start;
}

/* Freed nodes are cleared (a use after free reads zeros) and counted, never reused. */
static void node_free(void *ctx, void *node, size_t size)
{
	unsigned char *p = node;

	(void)ctx;
	if (p < arena || p + size > arena + ARENA_SIZE)
		hw_panic("free of a node not from the arena: %lx", (uint64_t)(uintptr_t)node);
	memset(node, 0, size);
	nodes_live--;
}

static const struct pgt_mdb_mm node_mm = { .alloc_node = node_alloc, .free_node = node_free };

/* ---- the spaces -------------------------------------------------------------- */

static pgt_mdb_t db;
static pgt_space_t space_a, space_b, space_c;
static pgt_space_t *const spaces[3] = { &space_a, &space_b, &space_c };
static const char *const names[3] = { "A", "B", "C" };

static void report_problem(void *arg, const char *problem, const pgt_space_t *sp, pgt_vaddr_t va)
{
	(void)arg;
	hw_printf("# mdb problem: %s (space %lx, va %lx)\n", problem, sp ? pgt_space_root(sp) : 0, va);
}

static int verify_clean(const char *when)
{
	int n = pgt_mdb_verify(&db, report_problem, NULL);

	HW_EXPECT(n == 0, "pgt_mdb_verify %s: %d", when, n);
	return 1;
}

/* The RAM identity map, in the leaves the boot code uses (tests/hw/kernel.c). */
static uint64_t ident_step(void)
{
	unsigned level = L->arch->levels > 2 && L->arch->level[1].leaf_ok ? 1 : 0;
	return 1ull << L->arch->level[level].shift;
}

/** What the kernel needs to run in @p sp, handed to it as physical memory. */
static int give_kernel(pgt_space_t *sp, const char *name)
{
	uint64_t step = ident_step(), size = (L->ident_size + step - 1) & ~(step - 1);
	unsigned prot = PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC;
	int rc = pgt_mdb_map_phys(&db, sp, L->ram_base, L->ram_base, size, prot);

	HW_EXPECT(rc == PGT_OK, "map_phys RAM into %s: %s", name, pgt_strerror(rc));
	hw_record_run(sp, L->ram_base, L->ram_base, size, step, prot);
	if (L->device_base) {
		rc = pgt_mdb_map_phys(&db, sp, L->device_base, L->device_base, hw_page(),
				      PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_UNCACHED);
		HW_EXPECT(rc == PGT_OK, "map_phys the console into %s: %s", name, pgt_strerror(rc));
		hw_record(sp, L->device_base, L->device_base, hw_page(),
			  PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_UNCACHED);
	}
	/* A bad root livelocks the MMU (the vector fetch faults too): check before switching. */
	pgt_vaddr_t vital[8];
	unsigned n = 0;
	hw_arch_vital(vital, &n);
	for (unsigned i = 0; i < n; i++)
		HW_EXPECT(pgt_lookup(sp, vital[i], NULL) == PGT_OK, "space %s lacks %lx", name, vital[i]);
	return 1;
}

static void drop_spaces(void)
{
	hw_switch(ksp);
	pgt_mdb_destroy(&db); /* detaches the three: they are empty again */
	for (unsigned i = 0; i < 3; i++) {
		hw_forget_space(spaces[i]);
		pgt_space_destroy(spaces[i]);
	}
	hw_arch_flush(0, ~0ull);
}

static int make_spaces(void)
{
	unsigned made = 0;
	int rc = pgt_mdb_init(&db, &node_mm);

	HW_EXPECT(rc == PGT_OK, "pgt_mdb_init: %s", pgt_strerror(rc));
	for (; made < 3; made++) {
		rc = pgt_space_init(spaces[made], L->arch, &hw_mm, PGT_SPACE_LINKS);
		if (rc != PGT_OK)
			break;
		rc = pgt_mdb_attach(&db, spaces[made]);
		if (rc != PGT_OK) {
			pgt_space_destroy(spaces[made]);
			break;
		}
	}
	if (rc != PGT_OK) {
		pgt_mdb_destroy(&db);
		while (made)
			pgt_space_destroy(spaces[--made]);
		return hw_fail("space %s: %s", names[made], pgt_strerror(rc));
	}
	for (unsigned i = 0; i < 3; i++)
		if (!give_kernel(spaces[i], names[i])) {
			drop_spaces();
			return 0;
		}
	return 1;
}

/* ---- the case ------------------------------------------------------------------- */

/** Monitor checkpoint in B: QEMU's walk of B against what the case recorded there. */
static int checkpoint_b(const char *tag)
{
	pgt_space_t *was = hw_active;

	hw_switch(&space_b);
	hw_checkpoint(tag);
	hw_switch(was);
	return 1;
}

/** The page in each space: A and B at one address, C at another. */
static pgt_vaddr_t page_va(unsigned i)
{
	return hw_slot_va(i == 2 ? S_MDB_C : S_MDB);
}

/** Word @p w of the page: each space writes its own. */
static pgt_vaddr_t word(unsigned i, unsigned w)
{
	return page_va(i) + 0x40 + 8 * (uint64_t)w;
}

static int mapped_everywhere(void)
{
	pgt_vaddr_t va = hw_slot_va(S_MDB);
	pgt_paddr_t frame = hw_slot_frame(S_MDB);
	int rc = pgt_mdb_map_phys(&db, &space_a, va, frame, hw_page(), RW);

	HW_EXPECT(rc == PGT_OK, "map_phys the page into A: %s", pgt_strerror(rc));
	rc = pgt_mdb_map(&db, &space_a, va, &space_b, page_va(1), hw_page(), RW);
	HW_EXPECT(rc == PGT_OK, "map A -> B: %s", pgt_strerror(rc));
	rc = pgt_mdb_map(&db, &space_a, va, &space_c, page_va(2), hw_page(), RW);
	HW_EXPECT(rc == PGT_OK, "map A -> C: %s", pgt_strerror(rc));
	for (unsigned i = 0; i < 3; i++) {
		struct pgt_mdb_origin o;
		rc = pgt_mdb_origin(&db, spaces[i], page_va(i), &o);
		HW_EXPECT(rc == PGT_OK, "origin in %s: %s", names[i], pgt_strerror(rc));
		HW_EXPECT(o.pa == frame && o.depth == (i ? 1u : 0u), "origin in %s: pa %lx depth %u",
			  names[i], o.pa, o.depth);
	}
	for (unsigned i = 0; i < 3; i++)
		hw_record(spaces[i], page_va(i), frame, hw_page(), RW);
	return verify_clean("after the maps") && checkpoint_b("mdb_b");
}

/* Each space stores its word; the next space reads it back, and so does the identity map. */
static int written_through_all(void)
{
	pgt_paddr_t frame = hw_slot_frame(S_MDB);

	for (unsigned w = 0; w < 3; w++)
		*hw_ident(frame + 0x40 + 8 * w) = 0;
	for (unsigned i = 0; i < 3; i++) {
		unsigned next = (i + 1) % 3;
		uint64_t v = hw_pattern(word(i, i));
		hw_switch(spaces[i]);
		if (!hw_store_ok(word(i, i), v, 0) ||
		    !hw_translate_ok(word(i, i), PGT_ACC_WRITE, frame + 0x40 + 8 * i))
			return 0;
		HW_EXPECT(*hw_ident(frame + 0x40 + 8 * i) == v, "store in %s missed the frame", names[i]);
		hw_switch(spaces[next]);
		if (!hw_load_is(word(next, i), v, 0))
			return 0;
	}
	return 1;
}

/* In A the page stays; in B and C, reads and writes fault and change nothing. */
static int revoked_in_receivers(void)
{
	pgt_paddr_t frame = hw_slot_frame(S_MDB);
	struct hw_fault f;

	hw_switch(&space_a);
	int rc = pgt_mdb_unmap(&db, &space_a, hw_slot_va(S_MDB), hw_page(), PGT_PROT_READ);
	HW_EXPECT(rc == PGT_OK, "unmap in A: %s", pgt_strerror(rc));
	if (!hw_load_is(word(0, 2), hw_pattern(word(2, 2)), 0) || !hw_same_memory(word(0, 0), frame + 0x40))
		return 0;
	uint64_t before = *hw_ident(frame + 0x40);
	for (unsigned i = 1; i < 3; i++) {
		hw_switch(spaces[i]);
		hw_arch_probe(HW_READ, 0, word(i, 1), 0, &f);
		if (!hw_expect_fault(&f, word(i, 1), PGT_FAULT_NOT_PRESENT, PGT_ACC_READ))
			return 0;
		hw_arch_probe(HW_WRITE, 0, word(i, 0), ~before, &f);
		if (!hw_expect_fault(&f, word(i, 0), PGT_FAULT_NOT_PRESENT, PGT_ACC_WRITE))
			return 0;
		HW_EXPECT(*hw_ident(frame + 0x40) == before, "a faulting store in %s changed the frame",
			  names[i]);
		struct pgt_mdb_origin o;
		rc = pgt_mdb_origin(&db, spaces[i], page_va(i), &o);
		HW_EXPECT(rc == PGT_ENOENT, "origin in %s after the unmap: %s", names[i], pgt_strerror(rc));
		hw_forget(spaces[i], page_va(i), hw_page());
	}
	hw_switch(&space_a);
	return hw_load_is(word(0, 0), before, 0) && verify_clean("after the unmap") &&
	       checkpoint_b("mdb_b_revoked");
}

int hw_case_mdb_revoke(pgt_space_t *kernel)
{
	long tables = hw_tables_live;

	L = hw_arch_layout();
	ksp = kernel;
	if (!make_spaces())
		return 0;
	int ok = mapped_everywhere() && written_through_all() && revoked_in_receivers();
	drop_spaces();
	if (!ok)
		return 0;
	HW_EXPECT(nodes_live == 0, "%ld database nodes live after destroy", nodes_live);
	HW_EXPECT(hw_tables_live == tables, "%ld tables live after destroy, expected %ld", hw_tables_live,
		  tables);
	return 1;
}
