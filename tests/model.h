/* SPDX-License-Identifier: MIT */
/*
 * The abstract model of the L4 page-table ADT that check_model and the
 * fuzzer (tests/fuzz/) run beside the library: written from seed 001
 * section 4.1 and DESIGN.md, sharing no code with the library. A space is
 * the partial map PageTable: va -> (PTE name, size), kept as a sorted array
 * of disjoint mappings with abstract fields.
 */
#ifndef PGT_TESTS_MODEL_H
#define PGT_TESTS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

/** One mapping: the page [va, va + 2^shift) and its abstract PTE. */
struct m_map {
	pgt_vaddr_t va;
	unsigned shift;
	unsigned level; /**< the descriptor's level for pages of this size */
	pgt_pte_t *pte; /**< PTEName the library handed out at insert */
	uint64_t paddr;
	unsigned prot; /**< PGT_PROT_* */
	int accessed;  /**< 0, 1, or -1 where DESIGN.md leaves it open */
	int dirty;
	uint64_t link; /**< link word: node ^ va as last stored */
};

/** One space of the model: disjoint mappings sorted by va. */
struct model {
	const struct pgt_arch *a; /**< geometry only: levels, page sizes, widths */
	unsigned flags;
	bool af_on_valid; /**< ARMv8: a valid leaf always has AF */
	bool exec_only;   /**< execute-only leaves exist (RISC-V) */
	bool ad_by_rights; /**< RISC-V: writing rights sets A and D in a valid leaf and clears them in a reserved one */
	unsigned no_memtypes; /**< PGT_PROT_* memory types the format has not (PGT_ENOTSUP) */
	unsigned ignored;     /**< PGT_PROT_* bits the format takes and drops (RISC-V G-stage USER, GLOBAL) */
	struct m_map *map;
	size_t n, cap;
};

void m_init(struct model *md, const struct pgt_arch *a, unsigned flags);
uint64_t m_size(unsigned shift);
pgt_vaddr_t m_last(const struct m_map *m);
int m_page_level(const struct pgt_arch *a, unsigned shift);
bool m_va_ok(const struct model *md, pgt_vaddr_t va);
long m_floor(const struct model *md, pgt_vaddr_t x);
struct m_map *m_at(const struct model *md, pgt_vaddr_t x);
bool m_overlaps(const struct model *md, pgt_vaddr_t lo, pgt_vaddr_t last);
int m_insert_predict(const struct model *md, pgt_vaddr_t va, unsigned shift, long *hit);
void m_add(struct model *md, pgt_vaddr_t va, unsigned shift, pgt_pte_t *pte);
size_t m_tables(const struct model *md);
size_t m_valid(const struct model *md);
unsigned m_prot_bit(enum pgt_field f);
bool m_get(const struct m_map *m, enum pgt_field f, uint64_t *v);
unsigned m_prot_with(unsigned prot, enum pgt_field f, uint64_t val);
int m_set_predict(const struct model *md, const struct m_map *m, enum pgt_field f, uint64_t val,
		  struct m_map *after);

#endif /* PGT_TESTS_MODEL_H */
