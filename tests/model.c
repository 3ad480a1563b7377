/* SPDX-License-Identifier: MIT */
/*
 * The abstract model (see model.h), written from the paper's prose and
 * DESIGN.md.
 */
#include "harness.h"
#include "model.h"

#include <stdlib.h>
#include <string.h>

uint64_t m_size(unsigned shift)
{
	return 1ull << shift;
}

/** Last byte of a mapping (inclusive, so the top page does not wrap). */
pgt_vaddr_t m_last(const struct m_map *m)
{
	return m->va + (m_size(m->shift) - 1);
}

/** Level holding pages of 2^shift bytes, or -1 when the descriptor has none. */
int m_page_level(const struct pgt_arch *a, unsigned shift)
{
	for (unsigned l = 0; l < a->levels; l++)
		if (a->level[l].leaf_ok && a->level[l].shift == shift)
			return (int)l;
	return -1;
}

/** DESIGN.md "Address ranges", written from the prose. */
bool m_va_ok(const struct model *md, pgt_vaddr_t va)
{
	const struct pgt_arch *a = md->a;

	if (a->canon == PGT_CANON_SIGN_EXTEND) {
		pgt_vaddr_t half = 1ull << (a->va_bits - 1);
		return va < half || va >= 0 - half;
	}
	pgt_vaddr_t span = 1ull << a->va_bits;
	return (md->flags & PGT_SPACE_UPPER) ? va >= 0 - span : va < span;
}

/** Index of the last mapping starting at or below @p x, or -1. */
long m_floor(const struct model *md, pgt_vaddr_t x)
{
	size_t lo = 0, hi = md->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (md->map[mid].va <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

/** The mapping containing @p x (the ADT's lookup), or NULL. */
struct m_map *m_at(const struct model *md, pgt_vaddr_t x)
{
	long i = m_floor(md, x);

	return (i >= 0 && x <= m_last(&md->map[i])) ? &md->map[i] : NULL;
}

/** Does any mapping intersect [lo, last]? */
bool m_overlaps(const struct model *md, pgt_vaddr_t lo, pgt_vaddr_t last)
{
	long i = m_floor(md, last);

	return i >= 0 && m_last(&md->map[i]) >= lo;
}

/**
 * The ADT's insert, by the paper's prose: no conflict -> PGT_OK; conflict ->
 * PGT_EXISTS with the mapping at va if it is at least as large, else
 * PGT_ECONFLICT. *hit is the index of the existing mapping for PGT_EXISTS.
 */
int m_insert_predict(const struct model *md, pgt_vaddr_t va, unsigned shift, long *hit)
{
	if (m_page_level(md->a, shift) < 0)
		return PGT_ESIZE;
	if (va & (m_size(shift) - 1))
		return PGT_EALIGN;
	if (!m_va_ok(md, va))
		return PGT_ERANGE;
	struct m_map *c = m_at(md, va);
	if (c && c->shift >= shift) {
		*hit = c - md->map;
		return PGT_EXISTS;
	}
	return m_overlaps(md, va, va + (m_size(shift) - 1)) ? PGT_ECONFLICT : PGT_OK;
}

/** Adds a fresh reserved mapping: no rights, output address 0, link word 0. */
void m_add(struct model *md, pgt_vaddr_t va, unsigned shift, pgt_pte_t *pte)
{
	if (md->n == md->cap) {
		md->cap = md->cap ? 2 * md->cap : 64;
		md->map = realloc(md->map, md->cap * sizeof *md->map);
		if (!md->map)
			abort();
	}
	size_t at = (size_t)(m_floor(md, va) + 1);
	memmove(&md->map[at + 1], &md->map[at], (md->n - at) * sizeof *md->map);
	md->map[at] = (struct m_map){
		.va = va, .shift = shift, .pte = pte, .level = (unsigned)m_page_level(md->a, shift)
	};
	md->n++;
}

/**
 * Tables the mappings need: the root, and at each lower level one table per
 * distinct region of 2^shift(level + 1) bytes holding a mapping at or below
 * that level. Sorted mappings give sorted region keys.
 */
size_t m_tables(const struct model *md)
{
	size_t n = 1;

	for (unsigned l = 0; l + 1u < md->a->levels; l++) {
		unsigned cover = md->a->level[l + 1].shift;
		bool any = false;
		pgt_vaddr_t prev = 0;
		for (size_t i = 0; i < md->n; i++) {
			pgt_vaddr_t key = md->map[i].va >> cover;
			if (md->map[i].level > l || (any && key == prev))
				continue;
			n++;
			any = true;
			prev = key;
		}
	}
	return n;
}

/** Mappings with at least one right: valid in hardware. */
size_t m_valid(const struct model *md)
{
	size_t n = 0;

	for (size_t i = 0; i < md->n; i++)
		n += (md->map[i].prot & 7u) != 0;
	return n;
}

/**
 * An empty model of a space of descriptor @p a: the geometry from the
 * descriptor, and what each shipped family can encode (pgt_arch(3)).
 */
void m_init(struct model *md, const struct pgt_arch *a, unsigned flags)
{
	*md = (struct model){ .a = a,
			      .flags = flags,
			      .af_on_valid = strncmp(a->name, "armv8", 5) == 0,
			      .exec_only = test_exec_only(a),
			      .ad_by_rights = strncmp(a->name, "riscv", 5) == 0,
			      .no_memtypes = test_no_memtypes(a),
			      .ignored = test_prot_ignored(a) };
}

/** The PGT_PROT_* bit of a boolean rights field, 0 for the others. */
unsigned m_prot_bit(enum pgt_field f)
{
	switch (f) {
	case PGT_FIELD_READ: return PGT_PROT_READ;
	case PGT_FIELD_WRITE: return PGT_PROT_WRITE;
	case PGT_FIELD_EXEC: return PGT_PROT_EXEC;
	case PGT_FIELD_USER: return PGT_PROT_USER;
	case PGT_FIELD_GLOBAL: return PGT_PROT_GLOBAL;
	default: return 0;
	}
}

/** A field as the model holds it; false when DESIGN.md leaves it open. */
bool m_get(const struct m_map *m, enum pgt_field f, uint64_t *v)
{
	switch (f) {
	case PGT_FIELD_PADDR: *v = m->paddr; return true;
	case PGT_FIELD_PROT: *v = m->prot; return true;
	case PGT_FIELD_CACHED: *v = !(m->prot & PGT_PROT_MEMTYPE); return true;
	case PGT_FIELD_ACCESSED: *v = (uint64_t)m->accessed; return m->accessed >= 0;
	case PGT_FIELD_DIRTY: *v = (uint64_t)m->dirty; return true;
	default: *v = !!(m->prot & m_prot_bit(f)); return true;
	}
}

/**
 * New rights for a single boolean rights field. CACHED 1 is write-back;
 * CACHED 0 keeps an uncached memory type, or makes write-back device memory.
 */
unsigned m_prot_with(unsigned prot, enum pgt_field f, uint64_t val)
{
	if (f == PGT_FIELD_CACHED) {
		if (val)
			return prot & ~(unsigned)PGT_PROT_MEMTYPE;
		return (prot & PGT_PROT_MEMTYPE) ? prot : prot | PGT_PROT_UNCACHED;
	}
	return val ? prot | m_prot_bit(f) : prot & ~m_prot_bit(f);
}

/**
 * The ADT's set operations: the status and, for PGT_OK, the mapping after.
 * Unknown fields and prot bits are PGT_EFLAGS, a misaligned or too wide
 * PADDR PGT_EALIGN or PGT_ERANGE, a boolean above 1 PGT_EINVAL, two memory
 * types PGT_EFLAGS; rights the format cannot express (write or exec without
 * read, but exec alone where execute-only exists) and memory types it has
 * not are PGT_ENOTSUP; failures change nothing.
 */
int m_set_predict(const struct model *md, const struct m_map *m, enum pgt_field f, uint64_t val,
		  struct m_map *after)
{
	unsigned prot;

	*after = *m;
	if ((unsigned)f >= PGT_FIELD_COUNT)
		return PGT_EFLAGS;
	if (f == PGT_FIELD_PADDR) {
		if (val & (m_size(m->shift) - 1))
			return PGT_EALIGN;
		if (md->a->pa_bits < 64 && (val >> md->a->pa_bits))
			return PGT_ERANGE;
		after->paddr = val;
		return PGT_OK;
	}
	if (f == PGT_FIELD_PROT) {
		unsigned memtype = (unsigned)val & PGT_PROT_MEMTYPE;
		if ((val & ~(uint64_t)PGT_PROT_ALL) || (memtype & (memtype - 1)))
			return PGT_EFLAGS;
		prot = (unsigned)val;
	} else {
		if (val > 1)
			return PGT_EINVAL;
		if (f == PGT_FIELD_ACCESSED || f == PGT_FIELD_DIRTY) {
			*(f == PGT_FIELD_ACCESSED ? &after->accessed : &after->dirty) = (int)val;
			return PGT_OK;
		}
		prot = m_prot_with(m->prot, f, val);
	}
	unsigned rights = prot & 7u;
	if (rights && !(rights & PGT_PROT_READ) && !(md->exec_only && rights == PGT_PROT_EXEC))
		return PGT_ENOTSUP;
	if (prot & md->no_memtypes)
		return PGT_ENOTSUP;
	after->prot = prot & ~md->ignored;
	if (md->af_on_valid) /* valid ARMv8 leaves carry AF; a reserved one is left open */
		after->accessed = rights ? 1 : -1;
	if (md->ad_by_rights) /* the RISC-V codec owns A and D (FORMATS.md) */
		after->accessed = after->dirty = rights ? 1 : 0;
	return PGT_OK;
}
