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
#include "internal.h"

/** Access bits pgt_translate accepts. */
#define ACC_KIND (PGT_ACC_READ | PGT_ACC_WRITE | PGT_ACC_EXEC)
#define ACC_ALL  (ACC_KIND | PGT_ACC_USER | PGT_ACC_SET_AD)

/** How a walk ended. */
enum tr_end { TR_LEAF, TR_NOT_PRESENT, TR_MALFORMED, TR_NO_TABLE };

/**
 * One walk: where it stopped, what it saw, the rights the tables left. The
 * entries above the leaf are recorded only for PGT_ACC_SET_AD.
 */
struct tr_walk {
	pgt_pte_t *stop; /**< the entry where the walk stopped */
	pgt_pte_t pte;   /**< its value as read */
	unsigned level;  /**< its level */
	unsigned rights; /**< enum pgt_rights the table entries leave */
	enum tr_end end;
	pgt_pte_t *slot[PGT_MAX_LEVELS]; /**< recorded: table entry read at each level above `level` */
	pgt_pte_t seen[PGT_MAX_LEVELS];  /**< recorded: its value as read */
};

/** Exactly one access kind, and no unknown bit. */
static inline bool access_ok(unsigned access)
{
	unsigned kind = access & ACC_KIND;

	return !(access & ~ACC_ALL) &&
	       (kind == PGT_ACC_READ || kind == PGT_ACC_WRITE || kind == PGT_ACC_EXEC);
}

/** The right an access needs: its kind, moved to the unprivileged half for user accesses. */
static inline unsigned access_right(unsigned access)
{
	return (access & ACC_KIND) << ((access & PGT_ACC_USER) ? 3 : 0);
}

/** The rights the rules of one entry take away (fixed count: unrolled). */
static inline unsigned rules_remove(const struct pgt_rule rules[PGT_RULES], pgt_pte_t pte)
{
	unsigned removed = 0;

#pragma GCC unroll 4
	for (unsigned i = 0; i < PGT_RULES; i++)
		removed |= (pte & rules[i].mask) == rules[i].match ? rules[i].removes : 0;
	return removed;
}

/** How the walk ends at an entry that is not a table entry. */
static inline enum tr_end tr_stop(const struct pgt_level *L, pgt_pte_t pte)
{
	if (L->leaf_ok && (pte & L->type_mask) == L->leaf_type)
		return (pte & L->leaf_mbz) ? TR_MALFORMED : TR_LEAF;
	return (pte & L->valid) ? TR_MALFORMED : TR_NOT_PRESENT;
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
			w->end = tr_stop(L, pte);
			break;
		}
		if (pte & L->table_mbz) {
			w->end = TR_MALFORMED;
			break;
		}
		if (!L->table_rule_bits || ((pte ^ L->table_attrs) & L->table_rule_bits))
			rights &= ~rules_remove(L->table_rules, pte); /* rare: a restricting table entry */
		table = pgt__next_table(sp, L, pte);
		if (!table) {
			w->end = TR_NO_TABLE;
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

/** The rights of the leaf that ended walk @p w, combined with its tables'. */
static inline unsigned leaf_rights(const struct pgt_arch *a, const struct tr_walk *w)
{
	const struct pgt_level *L = &a->level[w->level];
	unsigned rights = w->rights & ~rules_remove(L->leaf_rules, w->pte);

	if (a->implied_if && (rights & a->implied_if) == a->implied_if)
		rights &= ~(unsigned)a->implied_removes;
	return rights;
}

/** The fault kind of an access that reached a valid leaf; PGT_FAULT_NONE if it completes. */
static inline int leaf_fault(const struct pgt_arch *a, const struct tr_walk *w, unsigned access)
{
	const struct pgt_level *L = &a->level[w->level];

	/* Access-flag faults come before permission faults (Arm ARM D8.5). */
	if (a->af_fault && !(w->pte & L->accessed) && !(access & PGT_ACC_SET_AD))
		return PGT_FAULT_ACCESS_FLAG;
	unsigned need = access_right(access);
	return (leaf_rights(a, w) & need) == need ? PGT_FAULT_NONE : PGT_FAULT_PERMISSION;
}

unsigned pgt__rights(const pgt_space_t *sp, pgt_vaddr_t va)
{
	struct tr_walk w;

	tr_walk(sp, va, &w, false);
	return w.end == TR_LEAF ? leaf_rights(sp->pgt__arch, &w) : 0;
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

/** Records a fault; @p fault may be NULL. */
static int report(struct pgt_fault *fault, int kind, unsigned level, pgt_vaddr_t va)
{
	if (fault)
		*fault = (struct pgt_fault){ .kind = kind, .level = level, .va = va };
	return PGT_EFAULT;
}

/** The fault kind of a walk that did not reach a valid leaf. */
static int walk_fault(const struct pgt_arch *a, enum tr_end end)
{
	return end == TR_MALFORMED ? a->malformed_fault : PGT_FAULT_NOT_PRESENT;
}

int pgt_translate(const pgt_space_t *sp, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa,
		  struct pgt_fault *fault)
{
	if (!pgt__space_ok(sp) || !access_ok(access) || !pgt__va_ok(sp, va))
		return PGT_EINVAL;
	const struct pgt_arch *a = sp->pgt__arch;
	struct tr_walk w;

	/* Retried only when a concurrent store changed an entry between walk and update. */
	for (;;) {
		if (access & PGT_ACC_SET_AD)
			tr_walk(sp, va, &w, true);
		else
			tr_walk(sp, va, &w, false);
		if (w.end == TR_NO_TABLE)
			return PGT_EINVAL;
		if (w.end != TR_LEAF)
			return report(fault, walk_fault(a, w.end), w.level, va);
		int kind = leaf_fault(a, &w, access);
		if (kind != PGT_FAULT_NONE)
			return report(fault, kind, w.level, va);
		if (!(access & PGT_ACC_SET_AD) || set_ad(a, &w, access))
			break;
	}
	const struct pgt_level *L = &a->level[w.level];
	if (pa)
		*pa = (w.pte & L->leaf_oa) | (va & ((1ull << L->shift) - 1));
	return PGT_OK;
}
