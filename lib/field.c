/* SPDX-License-Identifier: MIT */
/*
 * Fields and link words of a leaf, reached through a ref (the L4 ADT's
 * get/set operations). Rights go through the descriptor's prot codec, so
 * combinations the hardware cannot express are refused in one place.
 */
#include "field.h"

/** A ref's entry pointer: not NULL, aligned. */
static inline bool ref_pointer_ok(pgt_ref_t ref)
{
	return ref.pte && !PGT__MISALIGNED(ref.pte, sizeof(pgt_pte_t));
}

/** Checks a ref against the descriptor and reads its entry. */
static inline __attribute__((always_inline)) int ref_load(const pgt_space_t *sp, pgt_ref_t ref,
							  pgt_pte_t *pte, bool write)
{
	if (!(write ? pgt__space_writable(sp) : pgt__space_ok(sp)) || !ref_pointer_ok(ref))
		return PGT_EINVAL;
	if (ref.level >= sp->pgt__arch->levels)
		return PGT_EINVAL;
	const struct pgt_level *L = pgt__level(sp, ref.level);
	if (ref.page_shift != L->shift)
		return PGT_EINVAL;
	*pte = pgt__pte_load(ref.pte);
	return pgt__is_mapped_leaf(L, *pte) ? PGT_OK : PGT_EINVAL;
}

/** The PGT_PROT_* bit a boolean rights field stands for; 0 for other fields. */
static unsigned prot_bit(enum pgt_field f)
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

/** The status bit behind ACCESSED or DIRTY; 0 when the level has none. */
static pgt_pte_t status_bit(const struct pgt_level *L, enum pgt_field f)
{
	return f == PGT_FIELD_ACCESSED ? L->accessed : L->dirty;
}

int pgt_get_field(const pgt_space_t *sp, pgt_ref_t ref, enum pgt_field f, uint64_t *val)
{
	pgt_pte_t pte;
	int rc = ref_load(sp, ref, &pte, false);

	if (rc != PGT_OK || !val)
		return PGT_EINVAL;
	if ((unsigned)f >= PGT_FIELD_COUNT)
		return PGT_EFLAGS;
	const struct pgt_level *L = pgt__level(sp, ref.level);
	unsigned prot = sp->pgt__arch->prot_decode(ref.level, pte);

	switch (f) {
	case PGT_FIELD_PADDR: *val = pgt__leaf_oa(L, pte); return PGT_OK;
	case PGT_FIELD_PROT: *val = prot; return PGT_OK;
	case PGT_FIELD_CACHED: *val = !(prot & PGT_PROT_MEMTYPE); return PGT_OK;
	case PGT_FIELD_ACCESSED:
	case PGT_FIELD_DIRTY:
		if (!status_bit(L, f))
			return PGT_ENOTSUP;
		*val = !!(pte & status_bit(L, f));
		return PGT_OK;
	default: *val = !!(prot & prot_bit(f)); return PGT_OK;
	}
}

/** Re-encodes the rights and attributes of a leaf, keeping its other bits. */
static int with_prot(const pgt_space_t *sp, unsigned level, pgt_pte_t pte, unsigned prot, pgt_pte_t *out)
{
	pgt_pte_t bits;
	int rc = sp->pgt__arch->prot_encode(level, prot, &bits);

	if (rc != PGT_OK)
		return rc;
	*out = (pte & ~pgt__level(sp, level)->prot_mask) | bits;
	return PGT_OK;
}

/** @p prot with CACHED written 0: an uncached memory type stays, write-back becomes device memory. */
static unsigned cached_off(unsigned prot)
{
	return (prot & PGT_PROT_MEMTYPE) ? prot : prot | PGT_PROT_UNCACHED;
}

/** Computes the new entry for a write of a boolean field without touching the old one. */
static int field_update(const pgt_space_t *sp, unsigned level, pgt_pte_t pte, enum pgt_field f, uint64_t val,
			pgt_pte_t *out)
{
	const struct pgt_level *L = pgt__level(sp, level);

	if (val > 1)
		return PGT_EINVAL;
	if (f == PGT_FIELD_ACCESSED || f == PGT_FIELD_DIRTY) {
		pgt_pte_t bit = status_bit(L, f);
		if (!bit)
			return PGT_ENOTSUP;
		*out = val ? pte | bit : pte & ~bit;
		return PGT_OK;
	}
	/* One right or attribute: decoded only here, the common fields need no codec call. */
	unsigned prot = sp->pgt__arch->prot_decode(level, pte);
	if (f == PGT_FIELD_CACHED) /* 1: write-back; 0: device, unless already some uncached type */
		return with_prot(sp, level, pte, val ? prot & ~PGT_PROT_MEMTYPE : cached_off(prot), out);
	return with_prot(sp, level, pte, val ? prot | prot_bit(f) : prot & ~prot_bit(f), out);
}

/** pgt_set_field of a boolean field, for a ref already checked. */
static int set_coded_field(pgt_space_t *sp, pgt_ref_t ref, pgt_pte_t pte, enum pgt_field f, uint64_t val)
{
	pgt_pte_t next;
	int rc = field_update(sp, ref.level, pte, f, val, &next);

	return rc == PGT_OK ? pgt__field_store(sp, pgt__level(sp, ref.level), ref.pte, pte, next) : rc;
}

/**
 * pgt_set_field of PROT with rights the space has not encoded last. They
 * come from the encoding of every level when each can express them (the
 * space then remembers it), else from the codec for the ref's level alone
 * (which may accept what another level refuses).
 */
static int set_prot_field(pgt_space_t *sp, pgt_ref_t ref, pgt_pte_t pte, uint64_t val)
{
	const struct pgt_level *L = pgt__level(sp, ref.level);
	const pgt_pte_t *bits;
	pgt_pte_t next;

	if (val > PGT_PROT_ALL || !pgt__prot_ok((unsigned)val))
		return PGT_EFLAGS;
	if (pgt__encode_all(sp, (unsigned)val, &bits) == PGT_OK)
		return pgt__field_store(sp, L, ref.pte, pte, (pte & ~L->prot_mask) | bits[ref.level]);
	int rc = with_prot(sp, ref.level, pte, (unsigned)val, &next);
	return rc == PGT_OK ? pgt__field_store(sp, L, ref.pte, pte, next) : rc;
}

int pgt__set_field_coded(pgt_space_t *sp, pgt_ref_t ref, pgt_pte_t pte, enum pgt_field f, uint64_t val)
{
	if ((unsigned)f >= PGT_FIELD_COUNT)
		return PGT_EFLAGS;
	if (f == PGT_FIELD_PROT)
		return set_prot_field(sp, ref, pte, val);
	return set_coded_field(sp, ref, pte, f, val);
}

int pgt_set_field(pgt_space_t *sp, pgt_ref_t ref, enum pgt_field f, uint64_t val)
{
	if (!pgt__space_writable(sp) || !ref_pointer_ok(ref))
		return PGT_EINVAL;
	return pgt__ops(sp)->set_field(sp, ref, f, val); /* the space's walk: lib/field.h */
}

int pgt_set_link(pgt_space_t *sp, pgt_ref_t ref, uintptr_t node, pgt_vaddr_t va)
{
	pgt_pte_t pte;
	int rc = ref_load(sp, ref, &pte, true);

	if (rc != PGT_OK)
		return rc;
	if (!(sp->pgt__flags & PGT_SPACE_LINKS))
		return PGT_ENOTSUP;
	*pgt__link_word(pgt__level(sp, ref.level), ref.pte) = (uint64_t)node ^ va;
	return PGT_OK;
}

int pgt_get_link(const pgt_space_t *sp, pgt_ref_t ref, pgt_vaddr_t va, uintptr_t *node)
{
	pgt_pte_t pte;
	int rc = ref_load(sp, ref, &pte, false);

	if (rc != PGT_OK || !node)
		return rc != PGT_OK ? rc : PGT_EINVAL;
	if (!(sp->pgt__flags & PGT_SPACE_LINKS))
		return PGT_ENOTSUP;
	*node = (uintptr_t)(*pgt__link_word(pgt__level(sp, ref.level), ref.pte) ^ va);
	return PGT_OK;
}
