/* SPDX-License-Identifier: MIT */
/*
 * Translate: what the MMU does for one access. The walk is masks and shifts
 * over the descriptor's data: each table entry's hierarchical rules take
 * rights from everything below it, the leaf's rules say what it grants, and
 * one descriptor-wide "implied" rule runs at the end. No indirect call,
 * except the caller's p2v hook per table when the space has one (with a
 * constant p2v_offset there is none).
 *
 * Accessed and dirty bits (PGT_ACC_SET_AD) are set after a walk that ends
 * in a completed access, with compare-and-swap on each entry, so a store
 * made meanwhile by another walker or by the library is never lost: when an
 * entry changed under us the whole translation is done again.
 */
#include "rights.h"
#include "walks.h"

/** Access bits pgt_translate accepts. */
#define ACC_ALL (PGT__ACC_KIND | PGT_ACC_USER | PGT_ACC_SET_AD)

/**
 * One walk: where it stopped, what it saw, the rights the tables left. The
 * entries above the leaf are recorded only for PGT_ACC_SET_AD.
 */
struct tr_walk {
	pgt_pte_t *stop; /**< the entry where the walk stopped */
	pgt_pte_t pte;   /**< its value as read */
	unsigned level;  /**< its level */
	unsigned rights; /**< enum pgt_rights the table entries leave */
	enum pgt__tr_end end;
	pgt_pte_t *slot[PGT_MAX_LEVELS]; /**< recorded: table entry read at each level above `level` */
	pgt_pte_t seen[PGT_MAX_LEVELS];  /**< recorded: its value as read */
};

/** Exactly one access kind, and no unknown bit. */
static inline bool access_ok(unsigned access)
{
	unsigned kind = access & PGT__ACC_KIND;

	return !(access & ~ACC_ALL) &&
	       (kind == PGT_ACC_READ || kind == PGT_ACC_WRITE || kind == PGT_ACC_EXEC);
}

/**
 * Walks from the root to the entry that ends the translation of @p va,
 * recording the entries above it when @p record (a constant at each call
 * site, so each caller gets its own copy). One step per level: at most
 * `levels` iterations.
 */
static inline __attribute__((always_inline)) void tr_walk_n(const pgt_space_t *sp, pgt_vaddr_t va,
							    struct tr_walk *w, bool record, unsigned levels)
{
	const struct pgt_arch *a = sp->pgt__arch;
	pgt_pte_t *table = sp->pgt__root;
	unsigned rights = PGT_RIGHTS_ALL;
	unsigned l = levels - 1u;
	pgt_pte_t *p, pte;

	/* Never the answer: no level-0 entry is a table, so a break ends the loop. */
	w->end = PGT__TR_MALFORMED;
#pragma GCC unroll 6
	for (unsigned i = 0; i < levels; i++, l--) {
		const struct pgt_level *L = &a->level[l];
		p = table + pgt__index(L, va);
		pte = pgt__pte_load(p);
		if (record) {
			w->slot[l] = p;
			w->seen[l] = pte;
		}
		if (!pgt__is_table(L, l, pte)) {
			w->end = pgt__tr_stop(L, pte);
			break;
		}
		if (pgt__table_malformed(L, pte)) {
			w->end = PGT__TR_MALFORMED;
			break;
		}
		rights &= ~pgt__rules_remove(L->table_rules, pte);
		table = pgt__next_table(sp, L, pte);
		if (!table) {
			w->end = PGT__TR_NO_TABLE;
			break;
		}
	}
	w->stop = p;
	w->pte = pte;
	w->level = l;
	w->rights = rights;
}

/**
 * The walk with the level count as a constant, so that the compiler unrolls
 * it for each count a descriptor may have.
 */
static inline __attribute__((always_inline)) void tr_walk(const pgt_space_t *sp, pgt_vaddr_t va,
							  struct tr_walk *w, bool record)
{
	switch (sp->pgt__arch->levels) {
	case 1: tr_walk_n(sp, va, w, record, 1); break;
	case 2: tr_walk_n(sp, va, w, record, 2); break;
	case 3: tr_walk_n(sp, va, w, record, 3); break;
	case 4: tr_walk_n(sp, va, w, record, 4); break;
	case 5: tr_walk_n(sp, va, w, record, 5); break;
	default: tr_walk_n(sp, va, w, record, PGT_MAX_LEVELS); break;
	}
}

unsigned pgt__rights(const pgt_space_t *sp, pgt_vaddr_t va)
{
	struct tr_walk w;

	tr_walk(sp, va, &w, false);
	return w.end == PGT__TR_LEAF ? pgt__leaf_rights(sp->pgt__arch, w.level, w.pte, w.rights) : 0;
}

/** Sets @p bits in the entry if it still holds what the walk saw. */
static bool set_bits(pgt_pte_t *p, pgt_pte_t seen, pgt_pte_t bits)
{
	if ((seen & bits) == bits)
		return true;
	return __atomic_compare_exchange_n(p, &seen, seen | bits, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/**
 * Sets the accessed bits of every entry on the walk and, for a write, the
 * leaf's dirty bit (SDM vol. 3A 4.8; Arm ARM D8.5 hardware AF/dirty update).
 * @return false when an entry changed since the walk read it
 */
static bool set_ad(const struct pgt_arch *a, const struct tr_walk *w, unsigned access)
{
	const struct pgt_level *L = &a->level[w->level];
	pgt_pte_t leaf = L->accessed | ((access & PGT_ACC_WRITE) ? L->dirty : 0);

	for (unsigned l = a->levels - 1u; l > w->level; l--)
		if (!set_bits(w->slot[l], w->seen[l], a->level[l].table_accessed))
			return false;
	return set_bits(w->stop, w->pte, leaf);
}

/* The full walk (walks.h). Retried only when a concurrent store changed an
 * entry between the walk and the accessed/dirty update. */
int pgt__translate_leaf_at(const struct pgt_arch *a, unsigned level, pgt_pte_t pte, pgt_vaddr_t va,
			   unsigned access, pgt_paddr_t *pa, struct pgt_fault *fault)
{
	return pgt__translate_leaf(a, level, pte, va, access, pa, fault);
}

int pgt__translate_full(const pgt_space_t *sp, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa,
			struct pgt_fault *fault)
{
	const struct pgt_arch *a = sp->pgt__arch;
	struct tr_walk w;

	for (;;) {
		if (access & PGT_ACC_SET_AD)
			tr_walk(sp, va, &w, true);
		else
			tr_walk(sp, va, &w, false);
		if (w.end == PGT__TR_NO_TABLE)
			return PGT_EHOOK;
		if (w.end != PGT__TR_LEAF)
			return pgt__report(a, fault, pgt__walk_fault(a, w.end), w.level, va);
		int kind = pgt__leaf_fault(a, w.level, w.pte, w.rights, access);
		if (kind != PGT_FAULT_NONE)
			return pgt__report(a, fault, kind, w.level, va);
		if (!(access & PGT_ACC_SET_AD) || set_ad(a, &w, access))
			break;
	}
	if (pa)
		*pa = pgt__leaf_pa(&a->level[w.level], w.pte, va);
	return PGT_OK;
}

/**
 * pgt_translate of an access with PGT_ACC_SET_AD or a bad one. Out of line,
 * so that the common case saves no registers for its calls.
 */
static __attribute__((noinline)) int translate_other(const pgt_space_t *sp, pgt_vaddr_t va, unsigned access,
						     pgt_paddr_t *pa, struct pgt_fault *fault)
{
	if (!access_ok(access))
		return PGT_EFLAGS;
	if ((access & PGT_ACC_SET_AD) && !pgt__space_writable(sp))
		return PGT_EINVAL; /* a view's tables are never written */
	return pgt__va_ok(sp, va) ? pgt__translate_full(sp, va, access, pa, fault) : PGT_ERANGE;
}

int pgt_translate(const pgt_space_t *sp, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa,
		  struct pgt_fault *fault)
{
	if (!pgt__space_ok(sp))
		return PGT_EINVAL;
	/*
	 * The common case, by the space's walk for this access (one
	 * indirect call; for a shipped format constant masks, rules and
	 * access; the address checked there; no entry for a bad access). It hands
	 * over to the full walk when a table entry on the way restricts
	 * anything or is malformed.
	 */
	if (access < PGT__ACC_PLAIN) {
		pgt__translate_fn walk = pgt__ops(sp)->translate[access];
		return walk ? walk(sp, va, access, pa, fault) : PGT_EFLAGS;
	}
	return translate_other(sp, va, access, pa, fault);
}
