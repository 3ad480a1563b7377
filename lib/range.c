/* SPDX-License-Identifier: MIT */
/*
 * Range operations: pgt_map, pgt_unmap, pgt_protect.
 *
 * Every operation is one recursive visit of the range, run in passes:
 *
 *   PLAN    reads the tree only: finds conflicts and counts the tables each
 *           level will need (splits of superpages, new branches). Children
 *           that do not exist yet are visited as virtual tables (all empty,
 *           or all leaves for a superpage that will be split), so the count
 *           is exact.
 *   BREAK   (pgt_map with PGT_MAP_REPLACE only) clears what the new
 *           mappings replace, so that the flush between BREAK and COMMIT is
 *           the "break" of break-before-make for the whole range at once.
 *   COMMIT  writes the new state; it cannot fail, because PLAN allocated
 *           every table beforehand into a pool.
 *
 * Tables that leave the tree go to a list and are freed only after the
 * tlb_flush hook has been told about the range: until then a hardware
 * walker may still hold them in its paging-structure caches.
 *
 * Both lists (the pool and the dead tables) are pgt__table_list stacks,
 * threaded through the tables themselves in bits no reader takes for a
 * mapping (internal.h).
 *
 * With the caller's p2v hook, only PLAN calls it: the tables it reaches are
 * remembered (struct op_memo) and BREAK and COMMIT read them back, so a
 * hook that stops answering after PLAN cannot leave an operation half done.
 *
 * A valid leaf is rewritten or removed by an atomic exchange
 * (pgt__leaf_update): the MMU of another CPU may set its accessed and dirty
 * bits at any moment, and they are kept, or reported to leaf_ad.
 */
#include <stddef.h>

#include "table.h"
#include "tlb.h"
#include "walks.h"

enum op_kind { OP_MAP, OP_UNMAP, OP_PROTECT };
enum op_pass { PASS_PLAN, PASS_BREAK, PASS_COMMIT };

/** A table as a pass sees it: real, or virtual while PLAN runs. */
struct tview {
	pgt_pte_t *tab; /**< the table, or NULL for a virtual one */
	pgt_pte_t fill; /**< virtual: every entry's kind stands for this entry */
};

/**
 * The tables an operation allocates and frees, by level: cleared by run()
 * and by change_in_one_table when it may free one, not by op_init. Most
 * calls change leaves only, and clearing these lists cost them more than
 * their work.
 */
struct op_tables {
	size_t need[PGT_MAX_LEVELS]; /**< counted by PLAN */
	struct pgt__table_list pool[PGT_MAX_LEVELS], dead[PGT_MAX_LEVELS];
};

/** Tables an operation remembers in itself before it asks the allocator for room (op_memo). */
#define MEMO_INLINE 24u

/** What a remembered table stands for. */
enum memo_tag {
	MEMO_TABLE,   /**< an existing table PLAN descended into */
	MEMO_SUBTREE, /**< a table under an entry a replacing map removes whole */
	MEMO_SPLIT    /**< a superpage to split: the table, once the split is made */
};

/** One remembered table. */
struct memo_word {
	pgt_pte_t *tab;
	enum memo_tag tag;
};

/**
 * Room for more words: a level-0 table from the allocator, laid out as
 * this (the first words carry the chunks' own pgt__table_list link).
 */
struct memo_chunk {
	pgt_pte_t list[PGT__LIST_WORDS]; /**< written by pgt__list_push, through the table */
	struct memo_chunk *next;         /**< the chunk after this one, or NULL */
	struct memo_word w[];
};

/** A place in the memo: the inline words (chunk NULL) or a chunk's, and a word there. */
struct memo_pos {
	struct memo_chunk *chunk;
	size_t i;
};

/**
 * The tables PLAN reached through the caller's p2v hook, in the order it
 * reached them, and a word for each superpage it will split. BREAK reaches
 * the same tables in the same order; COMMIT reaches those it descends into
 * (not the removed subtrees), split superpages included. Each pass reads
 * from the start. Words beyond the inline ones go to chunks.
 */
struct op_memo {
	bool on;                       /**< the space has a p2v hook */
	struct memo_pos put, get;      /**< where PLAN writes, where a writing pass reads */
	struct memo_chunk *first;      /**< the first chunk, or NULL */
	struct pgt__table_list chunks; /**< every chunk, to give back */
	struct memo_word inl[MEMO_INLINE];
};

/** One range operation: its arguments, and what its passes found and need. */
struct range_op {
	pgt_space_t *sp;
	enum op_kind kind;
	enum op_pass pass;
	pgt_vaddr_t lo, last; /**< the range, last byte included (no overflow at the top) */
	pgt_paddr_t pa;       /**< pgt_map: the output address of lo */
	unsigned flags;
	pgt_pte_t bits[PGT_MAX_LEVELS]; /**< encoded prot of a leaf at each level */
	int status;                     /**< first failure PLAN found */
	struct op_tables t;             /**< not cleared by op_init */
	bool flush;                     /**< valid entries were removed or changed */
	pgt_vaddr_t flush_lo, flush_last;
	struct op_memo memo; /**< set by run(): only the passes use it */
};

/** Allocates the tables PLAN counted: all or none. */
static int pool_fill(struct range_op *op)
{
	return pgt__pool_fill(op->sp, op->t.pool, op->t.need);
}

/** A cleared table from the pool, for level @p level. */
static pgt_pte_t *pool_take(struct range_op *op, unsigned level, pgt_paddr_t *pa)
{
	return pgt__list_take_cleared(op->sp, &op->t.pool[level], level, pa);
}

/* ------------------------------------------------------------------------ */
/* Remembering what the p2v hook answered (struct op_memo)                   */

static void memo_init(struct op_memo *m, const pgt_space_t *sp)
{
	m->on = sp->pgt__mm.p2v != NULL;
	m->put = (struct memo_pos){ NULL, 0 };
	m->get = m->put;
	m->first = NULL;
	m->chunks = (struct pgt__table_list){ 0 };
}

/** The words at @p c: a chunk's, or the inline ones. */
static struct memo_word *memo_words(struct op_memo *m, struct memo_chunk *c)
{
	return c ? c->w : m->inl;
}

/** How many words @p c holds. */
static size_t memo_capacity(const struct range_op *op, const struct memo_chunk *c)
{
	size_t bytes = pgt__level(op->sp, 0)->table_size;

	return c ? (bytes - offsetof(struct memo_chunk, w)) / sizeof(struct memo_word) : MEMO_INLINE;
}

/** The chunk after @p c (NULL: the inline words), or NULL. */
static struct memo_chunk *memo_next(const struct op_memo *m, const struct memo_chunk *c)
{
	return c ? c->next : m->first;
}

/**
 * A new chunk after the words PLAN fills: PGT_OK, the allocator's failure,
 * or PGT_ENOTSUP when a level-0 table is too small to hold a chunk's
 * header and one word (a format of 8-entry tables: a call through a p2v
 * hook may then reach at most MEMO_INLINE tables).
 */
static int memo_grow(struct range_op *op)
{
	struct op_memo *m = &op->memo;
	pgt_paddr_t pa;
	pgt_pte_t *tab;

	if (pgt__level(op->sp, 0)->table_size < offsetof(struct memo_chunk, w) + sizeof(struct memo_word))
		return PGT_ENOTSUP;
	int rc = pgt__table_alloc(op->sp, 0, &pa, &tab);

	if (rc != PGT_OK)
		return rc;
	pgt__list_push(&m->chunks, pgt__list_at(op->sp, 0), tab, pa);
	struct memo_chunk *c = (struct memo_chunk *)(void *)tab;
	c->next = NULL;
	if (m->put.chunk)
		m->put.chunk->next = c;
	else
		m->first = c;
	m->put = (struct memo_pos){ c, 0 };
	return PGT_OK;
}

/** PLAN: remembers @p tab as @p tag (a failure to find room stops PLAN). */
static void memo_put(struct range_op *op, enum memo_tag tag, pgt_pte_t *tab)
{
	struct op_memo *m = &op->memo;

	if (!m->on)
		return;
	if (m->put.i == memo_capacity(op, m->put.chunk)) {
		int rc = memo_grow(op);
		if (rc != PGT_OK) {
			op->status = rc;
			return;
		}
	}
	memo_words(m, m->put.chunk)[m->put.i++] = (struct memo_word){ tab, tag };
}

/**
 * BREAK, COMMIT: the next remembered word; @p subtree: one of a removed
 * subtree, else the next of the others (COMMIT passes over the subtrees,
 * which BREAK removed).
 */
static struct memo_word *memo_take(struct range_op *op, bool subtree)
{
	struct op_memo *m = &op->memo;

	for (;;) {
		if (m->get.i == memo_capacity(op, m->get.chunk)) {
			m->get = (struct memo_pos){ memo_next(m, m->get.chunk), 0 };
			PGT_ASSERT(m->get.chunk != NULL); /* PLAN remembered every word the passes read */
		}
		struct memo_word *w = &memo_words(m, m->get.chunk)[m->get.i++];
		if (subtree || w->tag != MEMO_SUBTREE) {
			PGT_ASSERT((w->tag == MEMO_SUBTREE) == subtree);
			return w;
		}
	}
}

/** Gives the chunks back. */
static void memo_free(struct range_op *op)
{
	pgt_paddr_t pa;

	while (op->memo.chunks.n) {
		(void)pgt__list_pop(&op->memo.chunks, pgt__list_at(op->sp, 0), &pa);
		pgt__table_free(op->sp, 0, pa);
	}
}

/** The table a table entry links, for BREAK and COMMIT: remembered by PLAN, or at the p2v offset. */
static pgt_pte_t *table_again(struct range_op *op, const struct pgt_level *L, pgt_pte_t pte, bool subtree)
{
	return op->memo.on ? memo_take(op, subtree)->tab : pgt__next_table(op->sp, L, pte);
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static void note_flush(struct range_op *op, pgt_vaddr_t lo, pgt_vaddr_t last)
{
	if (!op->flush || lo < op->flush_lo)
		op->flush_lo = lo;
	if (!op->flush || last > op->flush_last)
		op->flush_last = last;
	op->flush = true;
}

/** The entry at @p i of a view; a virtual view answers with its fill. */
static pgt_pte_t view_entry(struct tview t, unsigned i)
{
	return t.tab ? pgt__pte_load(&t.tab[i]) : t.fill;
}

/** A table entry whose table this space must never free. */
static bool table_kept(const struct pgt_level *L, pgt_pte_t pte)
{
	return (pte & (L->table_borrowed | L->table_pinned)) != 0;
}

/** Clears an entry and, in a space with link words, its link word. */
static void entry_clear(const pgt_space_t *sp, const struct pgt_level *L, pgt_pte_t *p)
{
	pgt__pte_store(p, 0);
	if (sp->pgt__flags & PGT_SPACE_LINKS)
		*pgt__link_word(L, p) = 0;
}

/* ------------------------------------------------------------------------ */
/* Splitting a superpage                                                     */

/** The first entry of the table that splits @p leaf (level @p level) one level down. */
static int split_base(const pgt_space_t *sp, unsigned level, pgt_pte_t leaf, pgt_pte_t *base)
{
	const struct pgt_level *L = pgt__level(sp, level), *C = pgt__level(sp, level - 1);
	unsigned prot = sp->pgt__arch->prot_decode(level, leaf);
	int rc = sp->pgt__arch->prot_encode(level - 1, prot, base);

	if (rc != PGT_OK)
		return rc;
	*base = pgt__leaf_make(C, *base, pgt__leaf_oa(L, leaf));
	*base |= (leaf & L->accessed) ? C->accessed : 0;
	*base |= (leaf & L->dirty) ? C->dirty : 0;
	return PGT_OK;
}

/**
 * Fills @p tab (level - 1) with leaves that map what @p leaf maps, with the
 * same rights, accessed and dirty state. Bits the prot codec does not know
 * (link words included) are not carried over.
 */
static void split_fill(const pgt_space_t *sp, unsigned level, pgt_pte_t leaf, pgt_pte_t *tab)
{
	const struct pgt_level *C = pgt__level(sp, level - 1);
	pgt_pte_t base = 0;
	int rc = split_base(sp, level, leaf, &base);

	PGT_ASSERT(rc == PGT_OK); /* PLAN encoded the same rights */
	(void)rc;
	for (unsigned i = 0; i < pgt__entries(C); i++)
		tab[i] = base + i * pgt__leaf_step(C);
}

/* ------------------------------------------------------------------------ */
/* The visit                                                                 */

static int visit_table(struct range_op *op, unsigned level, struct tview t, pgt_vaddr_t base);

/** What the operation does with one entry its range touches. */
enum plan { PLAN_WHOLE, PLAN_DESCEND };

/** Can pgt_map put one leaf for the whole entry [elo, elast] at @p level? */
static bool map_leaf_fits(const struct range_op *op, unsigned level, pgt_vaddr_t elo, pgt_vaddr_t elast)
{
	const struct pgt_level *L = pgt__level(op->sp, level);
	pgt_paddr_t pa = op->pa + (elo - op->lo);

	if (elo < op->lo || elast > op->last || !L->leaf_ok)
		return false;
	if (level > 0 && (op->flags & PGT_MAP_NOSUPER))
		return false;
	return (pa & ((1ull << L->shift) - 1)) == 0;
}

static enum plan plan_entry(const struct range_op *op, unsigned level, pgt_pte_t pte, enum pgt__kind kind,
			    pgt_vaddr_t elo, pgt_vaddr_t elast)
{
	const struct pgt_level *L = pgt__level(op->sp, level);

	if (op->kind != OP_MAP)
		return (elo >= op->lo && elast <= op->last && kind != PGT__TABLE) ? PLAN_WHOLE : PLAN_DESCEND;
	if (!map_leaf_fits(op, level, elo, elast))
		return PLAN_DESCEND;
	/* A table stays unless it is replaced and is this space's own. */
	if (kind == PGT__TABLE && (!(op->flags & PGT_MAP_REPLACE) || table_kept(L, pte)))
		return PLAN_DESCEND;
	return PLAN_WHOLE;
}

/** The child table of a table entry, or NULL (and a status) when p2v fails. */
static pgt_pte_t *child_of(struct range_op *op, const struct pgt_level *L, pgt_pte_t pte)
{
	pgt_pte_t *tab = pgt__next_table(op->sp, L, pte);

	if (!tab && op->status == PGT_OK)
		op->status = PGT_EHOOK;
	return tab;
}

/**
 * Pushes a subtree (this space's own tables only), unlinked from the tree,
 * to the dead list; its table at @p level maps from @p base. With a leaf_ad
 * hook, each valid leaf is taken first: the MMU may still set its bits
 * through a cached path until the flush, and the hook gets them.
 */
static void release_subtree(struct range_op *op, unsigned level, pgt_pte_t *tab, pgt_paddr_t pa,
			    pgt_vaddr_t base)
{
	const struct pgt_level *L = pgt__level(op->sp, level);
	bool report = op->sp->pgt__mm.leaf_ad != NULL;

	for (unsigned i = 0; (level > 0 || report) && i < pgt__entries(L); i++) {
		pgt_pte_t pte = pgt__pte_load(&tab[i]);
		pgt_vaddr_t va = base + ((pgt_vaddr_t)i << L->shift);
		if (pgt__is_table(L, level, pte) && !table_kept(L, pte))
			release_subtree(op, level - 1, table_again(op, L, pte, true), pgt__table_pa(L, pte),
					va);
		else if (report && pgt__is_valid_leaf(L, pte))
			pgt__report_ad(op->sp, L, va, pgt__leaf_update(L, &tab[i], pte, ~(pgt_pte_t)0, 0));
	}
	pgt__list_push(&op->t.dead[level], pgt__list_at(op->sp, level), tab, pa);
}

static bool table_empty(const pgt_space_t *sp, unsigned level, const pgt_pte_t *tab)
{
	return !pgt__any_entry(tab, pgt__entries(pgt__level(sp, level)));
}

/**
 * Adds @p delta, what a pass changed in the table that the entry at @p p
 * (level @p level) links, to the entry's count when it keeps one, and
 * tells whether the table is now empty: by the count, or else by reading
 * the table (@p child), only when @p look asks.
 */
static bool count_and_test_empty(const struct range_op *op, unsigned level, pgt_pte_t *p, pgt_pte_t pte,
				 const pgt_pte_t *child, int delta, bool look)
{
	const struct pgt_level *L = pgt__level(op->sp, level);

	if (pgt__counted(L, pte))
		return (delta ? pgt__count_add(L, p, delta) : pgt__count_of(L, pte)) == 0;
	return look && table_empty(op->sp, level - 1, child);
}

/* --- PLAN ----------------------------------------------------------------- */

static void plan_descend(struct range_op *op, unsigned level, pgt_pte_t pte, enum pgt__kind kind,
			 pgt_vaddr_t elo)
{
	const struct pgt_level *L = pgt__level(op->sp, level);
	bool replace = (op->flags & PGT_MAP_REPLACE) != 0;
	struct tview child = { 0 };

	switch (kind) {
	case PGT__TABLE:
		child.tab = child_of(op, L, pte);
		if (!child.tab)
			return;
		memo_put(op, MEMO_TABLE, child.tab);
		break;
	case PGT__EMPTY:
		if (op->kind != OP_MAP)
			return;
		op->t.need[level - 1]++;
		break;
	case PGT__LEAF:
	case PGT__RESERVED:
		if (op->kind == OP_MAP && !replace) {
			op->status = PGT_ECONFLICT;
			return;
		}
		/* a split needs leaves one level down, in rights that level can encode */
		if (!pgt__level(op->sp, level - 1)->leaf_ok ||
		    split_base(op->sp, level, pte, &child.fill) != PGT_OK) {
			op->status = PGT_ENOTSUP;
			return;
		}
		op->t.need[level - 1]++;
		memo_put(op, MEMO_SPLIT, NULL); /* the table, once the split is made */
		break;
	default:
		if (op->kind == OP_MAP)
			op->status = PGT_ECONFLICT; /* never build over a malformed entry */
		return;
	}
	(void)visit_table(op, level - 1, child, elo);
}

/** Can every table below this table entry be reached (so that COMMIT can free them)? */
static void plan_reachable(struct range_op *op, unsigned level, pgt_pte_t pte)
{
	const struct pgt_level *L = pgt__level(op->sp, level);
	pgt_pte_t *tab = child_of(op, L, pte);

	if (tab)
		memo_put(op, MEMO_SUBTREE, tab);
	if (!tab || level < 2)
		return;
	/* The child's entries: a wide root's count is not its children's (RISC-V x4, ARMv8 concatenated). */
	const struct pgt_level *C = pgt__level(op->sp, level - 1);
	for (unsigned i = 0; i < pgt__entries(C) && op->status == PGT_OK; i++) {
		pgt_pte_t e = pgt__pte_load(&tab[i]);
		if (pgt__is_table(C, level - 1, e) && !table_kept(C, e)) /* as release_subtree goes */
			plan_reachable(op, level - 1, e);
	}
}

static void plan_whole(struct range_op *op, unsigned level, pgt_pte_t pte, enum pgt__kind kind)
{
	if (op->kind != OP_MAP)
		return;
	if (kind == PGT__BAD || (kind != PGT__EMPTY && !(op->flags & PGT_MAP_REPLACE)))
		op->status = PGT_ECONFLICT;
	else if (kind == PGT__TABLE)
		plan_reachable(op, level, pte); /* a subtree the new leaf replaces */
}

/* --- BREAK and COMMIT ------------------------------------------------------ */

/**
 * Replaces the superpage at @p p by a table of smaller pages mapping the same
 * memory, and returns that table. A valid block is broken first where the
 * architecture requires it (invalid, flush, then the table).
 */
static pgt_pte_t *split_now(struct range_op *op, unsigned level, pgt_pte_t *p, pgt_pte_t leaf,
			    pgt_vaddr_t elo, pgt_vaddr_t elast)
{
	const struct pgt_level *L = pgt__level(op->sp, level);
	pgt_paddr_t pa;
	pgt_pte_t *tab = pool_take(op, level - 1, &pa);
	/* every entry of the new table is a leaf */
	pgt_pte_t link = pgt__table_entry(L, pa) | pgt__count_bits(L, pgt__entries(pgt__level(op->sp, level - 1)));

	if (op->memo.on) /* the pass after BREAK finds the table here */
		memo_take(op, false)->tab = tab;
	if (op->sp->pgt__flags & PGT_SPACE_LINKS)
		*pgt__link_word(L, p) = 0; /* the leaf it belonged to is gone */
	if (pgt__is_present(L, leaf) && op->sp->pgt__arch->break_before_make) {
		leaf = pgt__leaf_update(L, p, leaf, ~(pgt_pte_t)0, 0);
		pgt__tlb_flush_hook(op->sp, elo, elast);
		split_fill(op->sp, level, leaf, tab);
		pgt__pte_store(p, link);
		return tab;
	}
	/* The small pages inherit the accessed and dirty bits the block has when it goes. */
	split_fill(op->sp, level, leaf, tab);
	while (!__atomic_compare_exchange_n(p, &leaf, link, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		split_fill(op->sp, level, leaf, tab);
	return tab;
}

/**
 * Removes the entry at @p p: a leaf, or (PGT_MAP_REPLACE) a whole subtree.
 * Returns what that changes in its table's count: -1, or 0 when nothing went.
 */
static int remove_entry(struct range_op *op, unsigned level, pgt_pte_t *p, pgt_pte_t pte,
			enum pgt__kind kind, pgt_vaddr_t elo, pgt_vaddr_t elast)
{
	const struct pgt_level *L = pgt__level(op->sp, level);

	if (kind == PGT__EMPTY || kind == PGT__BAD)
		return 0;
	if (kind == PGT__TABLE) {
		entry_clear(op->sp, L, p);
		release_subtree(op, level - 1, table_again(op, L, pte, true), pgt__table_pa(L, pte), elo);
	} else {
		pgt__report_ad(op->sp, L, elo, pgt__leaf_update(L, p, pte, ~(pgt_pte_t)0, 0));
		if (op->sp->pgt__flags & PGT_SPACE_LINKS)
			*pgt__link_word(L, p) = 0;
	}
	if (pgt__is_present(L, pte))
		note_flush(op, elo > op->lo ? elo : op->lo, elast < op->last ? elast : op->last);
	return -1;
}

/** pgt_protect on one whole leaf: new rights, same output address and status bits. */
static void protect_entry(struct range_op *op, unsigned level, pgt_pte_t *p, pgt_pte_t pte, pgt_vaddr_t elo,
			  pgt_vaddr_t elast)
{
	const struct pgt_level *L = pgt__level(op->sp, level);
	pgt_pte_t next = (pte & ~L->prot_mask) | op->bits[level];

	if (next == pte)
		return;
	pgt__report_ad(op->sp, L, elo, pgt__leaf_update(L, p, pte, L->prot_mask, op->bits[level]));
	if (pgt__is_present(L, pte))
		note_flush(op, elo, elast);
}

/** Writes an entry the range covers whole; returns what that changes in its table's count. */
static int write_whole(struct range_op *op, unsigned level, pgt_pte_t *p, pgt_pte_t pte, enum pgt__kind kind,
		       pgt_vaddr_t elo, pgt_vaddr_t elast)
{
	if (op->pass == PASS_BREAK || op->kind == OP_UNMAP)
		return remove_entry(op, level, p, pte, kind, elo, elast);
	if (op->kind == OP_MAP) { /* an empty slot: PLAN saw to it, BREAK emptied a replaced one */
		pgt__pte_store(p, pgt__leaf_make(pgt__level(op->sp, level), op->bits[level], op->pa + (elo - op->lo)));
		return pte == 0;
	}
	if (kind == PGT__LEAF || kind == PGT__RESERVED)
		protect_entry(op, level, p, pte, elo, elast);
	return 0;
}

/**
 * Unlinks the table @p child, which unmap left @p empty, unless another
 * space shares it; returns what that changes in the count of the table
 * that holds @p p: -1, or 0.
 */
static int reclaim_if_empty(struct range_op *op, unsigned level, pgt_pte_t *p, pgt_pte_t pte,
			    pgt_pte_t *child, bool empty, pgt_vaddr_t elo, pgt_vaddr_t elast)
{
	const struct pgt_level *L = pgt__level(op->sp, level);

	if (table_kept(L, pte) || !empty)
		return 0;
	entry_clear(op->sp, L, p);
	note_flush(op, elo > op->lo ? elo : op->lo, elast < op->last ? elast : op->last);
	/* it holds nothing (link words go with their entries): the cache may keep it */
	pgt__list_push_as(&op->t.dead[level - 1], pgt__list_at(op->sp, level - 1), child, pgt__table_pa(L, pte),
			  true);
	return -1;
}

/**
 * Writes below an entry the range cuts: into its table (a split superpage's,
 * a new one's), and the table's count into the entry once, on the way up.
 * Returns what that changes in the count of the table that holds @p p.
 */
static int write_descend(struct range_op *op, unsigned level, pgt_pte_t *p, pgt_pte_t pte,
			 enum pgt__kind kind, pgt_vaddr_t elo, pgt_vaddr_t elast)
{
	const struct pgt_level *L = pgt__level(op->sp, level);
	struct tview child = { 0 };

	if (kind == PGT__TABLE) {
		bool unmap = op->kind == OP_UNMAP;
		child.tab = table_again(op, L, pte, false);
		int delta = visit_table(op, level - 1, child, elo);
		bool empty = count_and_test_empty(op, level, p, pte, child.tab, delta, unmap && !table_kept(L, pte));
		return unmap ? reclaim_if_empty(op, level, p, pte, child.tab, empty, elo, elast) : 0;
	}
	if (kind == PGT__LEAF || kind == PGT__RESERVED) {
		/* a superpage cut by the range (BREAK: one that a new map replaces in part) */
		child.tab = split_now(op, level, p, pte, elo, elast);
		int delta = visit_table(op, level - 1, child, elo);
		(void)count_and_test_empty(op, level, p, pgt__pte_load(p), child.tab, delta, false);
		return 0; /* a leaf became a table entry */
	}
	if (kind == PGT__EMPTY && op->kind == OP_MAP && op->pass == PASS_COMMIT) {
		pgt_paddr_t pa;
		child.tab = pool_take(op, level - 1, &pa);
		int used = visit_table(op, level - 1, child, elo);
		/* The branch is complete before this store makes it reachable. */
		pgt__pte_store(p, pgt__table_entry(L, pa) | pgt__count_bits(L, (uint64_t)used));
		return 1;
	}
	return 0;
}

/* --- the walk ------------------------------------------------------------- */

/** Visits one entry; returns what a writing pass changed in the count of table @p t (PLAN: 0). */
static int visit_entry(struct range_op *op, unsigned level, struct tview t, unsigned i, pgt_vaddr_t elo)
{
	const struct pgt_level *L = pgt__level(op->sp, level);
	pgt_vaddr_t elast = elo + ((1ull << L->shift) - 1);
	pgt_pte_t pte = view_entry(t, i);
	enum pgt__kind kind = pgt__classify(L, level, pte);
	enum plan plan = plan_entry(op, level, pte, kind, elo, elast);

	if (op->pass == PASS_PLAN) {
		if (plan == PLAN_WHOLE)
			plan_whole(op, level, pte, kind);
		else
			plan_descend(op, level, pte, kind, elo);
		return 0;
	}
	if (plan == PLAN_WHOLE)
		return write_whole(op, level, &t.tab[i], pte, kind, elo, elast);
	return write_descend(op, level, &t.tab[i], pte, kind, elo, elast);
}

/** Do leaves at @p level fit wherever the range covers a whole entry (pgt_map)? */
static bool map_level_fits(const struct range_op *op, unsigned level)
{
	const struct pgt_level *L = pgt__level(op->sp, level);

	if (op->kind != OP_MAP || !L->leaf_ok || (level > 0 && (op->flags & PGT_MAP_NOSUPER)))
		return false;
	/* every entry is aligned to its size, so pa is aligned wherever op->pa - op->lo is */
	return ((op->pa - op->lo) & ((1ull << L->shift) - 1)) == 0;
}

/*
 * Runs of entries the range covers whole, in tight loops: an empty slot
 * pgt_map fills, a leaf unmap clears or protect rewrites, an entry PLAN has
 * nothing to say about. Each returns the index where its run stopped: the
 * first entry it does not handle (a table, a conflict), which visit_entry
 * then takes. Filling or clearing thus costs about a load and a store each.
 */

/** pgt_map where leaves of this level fit: empty slots get consecutive leaves (each one more in *used). */
static unsigned map_run(struct range_op *op, unsigned level, pgt_pte_t *tab, unsigned i, unsigned stop,
			pgt_vaddr_t elo, int *used)
{
	const struct pgt_level *L = pgt__level(op->sp, level);
	pgt_pte_t leaf = pgt__leaf_make(L, op->bits[level], op->pa + (elo - op->lo));
	uint64_t step = pgt__leaf_step(L);

	if (op->pass == PASS_PLAN) {
		while (i < stop && pgt__pte_load(&tab[i]) == 0)
			i++;
		return i;
	}
	unsigned start = i;

	for (; i < stop && pgt__pte_load(&tab[i]) == 0; i++, leaf += step)
		pgt__pte_store(&tab[i], leaf);
	*used += (int)(i - start);
	return i;
}

/**
 * pgt_unmap and pgt_protect: leaves (valid or reserved) cleared (each one
 * less in *used) or given the new rights.
 */
static unsigned leaf_run(struct range_op *op, unsigned level, pgt_pte_t *tab, unsigned i, unsigned stop,
			 pgt_vaddr_t elo, int *used)
{
	const struct pgt_level *L = pgt__level(op->sp, level);
	bool links = (op->sp->pgt__flags & PGT_SPACE_LINKS) != 0, unmap = op->kind == OP_UNMAP;
	bool report = op->sp->pgt__mm.leaf_ad != NULL;
	unsigned start = i, live_first = stop, live_last = 0;

	for (; i < stop; i++) {
		pgt_pte_t pte = pgt__pte_load(&tab[i]);
		if (pgt__is_table(L, level, pte))
			break;
		if (op->pass == PASS_PLAN || !pgt__is_mapped_leaf(L, pte))
			continue; /* PLAN: nothing to count; COMMIT: empty or malformed, left alone */
		pgt_pte_t next = unmap ? 0 : (pte & ~L->prot_mask) | op->bits[level];
		if (next == pte)
			continue;
		if (unmap && !report) /* the entry goes: its bits would matter only to a hook */
			pgt__pte_store(&tab[i], 0);
		else
			pgt__report_ad(op->sp, L, elo + ((pgt_vaddr_t)(i - start) << L->shift),
				       pgt__leaf_update(L, &tab[i], pte, unmap ? ~(pgt_pte_t)0 : L->prot_mask,
							unmap ? 0 : op->bits[level]));
		if (unmap && links)
			*pgt__link_word(L, &tab[i]) = 0;
		*used -= unmap;
		if (pgt__is_present(L, pte)) {
			live_first = live_first < i ? live_first : i;
			live_last = i;
		}
	}
	if (live_first < stop)
		note_flush(op, elo + ((pgt_vaddr_t)(live_first - start) << L->shift),
			   elo + ((pgt_vaddr_t)(live_last - start + 1) << L->shift) - 1);
	return i;
}

/**
 * Visits the entries of a table at @p level whose range meets the operation's.
 * @p base is the address the table's entry 0 maps. Recursion depth is bounded
 * by the level count; PLAN stops at its first failure. Returns the change
 * in the number of used entries of the table that a writing pass made
 * (PLAN: 0), for the count in the entry above (count_and_test_empty).
 */
static int visit_table(struct range_op *op, unsigned level, struct tview t, pgt_vaddr_t base)
{
	const struct pgt_level *L = pgt__level(op->sp, level);
	uint64_t size = 1ull << L->shift;
	pgt_vaddr_t span_last = base + ((pgt_vaddr_t)pgt__entries(L) << L->shift) - 1;
	pgt_vaddr_t lo = op->lo > base ? op->lo : base;
	pgt_vaddr_t last = op->last < span_last ? op->last : span_last;
	unsigned first = (unsigned)((lo - base) >> L->shift), end = (unsigned)((last - base) >> L->shift);
	/* entries the range covers whole: [whole_first, whole_end) */
	unsigned whole_first = first + (base + ((pgt_vaddr_t)first << L->shift) < op->lo);
	unsigned whole_end = end + (base + ((pgt_vaddr_t)end << L->shift) + (size - 1) <= op->last);
	bool fast = op->pass != PASS_BREAK && (op->kind != OP_MAP || map_level_fits(op, level));
	int used = 0;

	for (unsigned i = first; i <= end && op->status == PGT_OK;) {
		pgt_vaddr_t elo = base + ((pgt_vaddr_t)i << L->shift);
		if (fast && i >= whole_first && i < whole_end) {
			/* A virtual table (PLAN) is all empty or all leaves: whole entries need nothing. */
			unsigned j = !t.tab               ? whole_end
				     : op->kind == OP_MAP ? map_run(op, level, t.tab, i, whole_end, elo, &used)
							  : leaf_run(op, level, t.tab, i, whole_end, elo, &used);
			if (j > i) {
				i = j;
				continue;
			}
		}
		used += visit_entry(op, level, t, i, elo);
		i++;
	}
	return used;
}

/* ------------------------------------------------------------------------ */
/* Running an operation                                                      */

static void run_pass(struct range_op *op, enum op_pass pass)
{
	pgt_space_t *sp = op->sp;
	unsigned root = pgt__root_level(sp);
	const struct pgt_level *R = pgt__level(sp, root);
	pgt_vaddr_t span = (pgt_vaddr_t)pgt__entries(R) << R->shift;

	op->pass = pass;
	op->memo.get = (struct memo_pos){ NULL, 0 };
	(void)visit_table(op, root, (struct tview){ .tab = sp->pgt__root }, op->lo & ~(span - 1)); /* the root has no count */
}

/** Whether any of the per-level lists @p lists holds a table. */
static bool tables_listed(const pgt_space_t *sp, const struct pgt__table_list lists[])
{
	for (unsigned l = 0; l < sp->pgt__arch->levels; l++)
		if (lists[l].n)
			return true;
	return false;
}

/** PLAN, allocate, then BREAK/COMMIT, flush, and free what left the tree. */
static int run(struct range_op *op)
{
	op->t = (struct op_tables){ 0 };
	memo_init(&op->memo, op->sp);
	run_pass(op, PASS_PLAN);
	int rc = op->status == PGT_OK ? pool_fill(op) : op->status;
	if (rc != PGT_OK) {
		memo_free(op);
		return rc;
	}
	if (op->kind == OP_MAP && (op->flags & PGT_MAP_REPLACE)) {
		run_pass(op, PASS_BREAK);
		if (op->flush)
			pgt__tlb_flush_hook(op->sp, op->flush_lo, op->flush_last);
		op->flush = false;
	}
	run_pass(op, PASS_COMMIT);
	if (op->flush)
		pgt__tlb_flush_hook(op->sp, op->flush_lo, op->flush_last);
	bool unlinked = tables_listed(op->sp, op->t.dead);
	pgt__list_retire_all(op->sp, op->t.dead);
	PGT_ASSERT(op->t.pool[0].n == 0); /* PLAN counted exactly */
	pgt__list_free_all(op->sp, op->t.pool);
	memo_free(op);
	/*
	 * Translations may have gone or changed, or tables a TLB remembers
	 * left the tree: cached copies (pgt_tlb) are stale.
	 */
	if (op->kind != OP_MAP || (op->flags & PGT_MAP_REPLACE) || unlinked)
		pgt__space_changed(op->sp);
	return PGT_OK;
}

/** Checks the range of an operation: in pages of the smallest size, in the space (pgt__range_check). */
static inline __attribute__((always_inline)) int range_check(const pgt_space_t *sp, pgt_vaddr_t va,
							     uint64_t size)
{
	if (!pgt__space_writable(sp))
		return PGT_EINVAL;
	return pgt__range_check(sp, va, size, 1ull << pgt__level(sp, 0)->shift);
}

static int op_init(struct range_op *op, pgt_space_t *sp, enum op_kind kind, pgt_vaddr_t va, uint64_t size)
{
	int rc = range_check(sp, va, size);

	if (rc != PGT_OK)
		return rc;
	/* Field by field: op->t is left to the paths that allocate or free. */
	op->sp = sp;
	op->kind = kind;
	op->pass = PASS_PLAN;
	op->lo = va;
	op->last = va + size - 1;
	op->pa = 0;
	op->flags = 0;
	for (unsigned l = 0; l < PGT_MAX_LEVELS; l++)
		op->bits[l] = 0;
	op->status = PGT_OK;
	op->flush = false;
	op->flush_lo = op->flush_last = 0;
	return PGT_OK;
}

/** The leaf bits the operation writes at each level (from pgt__encode_all). */
static void op_set_bits(struct range_op *op, const pgt_pte_t bits[PGT_MAX_LEVELS])
{
	for (unsigned l = 0; l < op->sp->pgt__arch->levels; l++)
		op->bits[l] = bits[l];
}

/** pgt_map's argument checks, beyond the range's: PGT_OK or the status that says what is wrong. */
static int map_args_check(const pgt_space_t *sp, pgt_paddr_t pa, uint64_t size, unsigned flags)
{
	const struct pgt_arch *a = sp->pgt__arch;
	uint64_t page = 1ull << pgt__level(sp, 0)->shift;

	if (flags & ~(unsigned)(PGT_MAP_NOSUPER | PGT_MAP_REPLACE))
		return PGT_EFLAGS;
	if (pa & (page - 1))
		return PGT_EALIGN;
	if (pa + (size - 1) < pa)
		return PGT_EWRAP;
	return a->pa_bits < 64 && ((pa + (size - 1)) >> a->pa_bits) ? PGT_ERANGE : PGT_OK;
}

/**
 * The level of the pages pgt_map uses for a range that fits in one entry
 * of the level above: the largest whose size va, pa and size are all
 * multiples of (the passes' choice at every position of such a range).
 */
static unsigned map_level(const struct pgt_arch *a, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size,
			  unsigned flags)
{
	uint64_t low = va | pa | size;
	unsigned l = 0;

	/* Upwards, as page sizes grow with the level: a small page stops at level 1. */
	for (unsigned k = 1; k < a->levels && !(flags & PGT_MAP_NOSUPER); k++) {
		if (low & ((1ull << a->level[k].shift) - 1))
			break;
		if (a->level[k].leaf_ok)
			l = k;
	}
	return l;
}

/** What a short path of pgt_map answers when the passes must decide (no status is positive). */
#define BY_PASSES 1

/**
 * The branch a range inside one missing table needs, built off-tree and
 * linked from the empty entry @p at where the walk stopped (insert's
 * commit, with @p n leaves): no conflict is possible below an empty
 * entry, and the tables are those the passes would allocate, in the same
 * order. PGT_OK, or the allocator's failure with nothing changed.
 */
static int map_new_branch(pgt_space_t *sp, pgt_vaddr_t va, size_t n, pgt_pte_t leaf, unsigned l,
			  struct pgt__stop at)
{
	struct pgt__branch b;

	if (pgt__classify(pgt__level(sp, at.level), at.level, pgt__pte_load(at.pte)) != PGT__EMPTY)
		return BY_PASSES; /* a superpage or a malformed entry: a conflict */
	int rc = pgt__branch_alloc(sp, l, at.level, &b);
	if (rc == PGT_OK) {
		pgt__branch_commit(sp, va, l, at.level, &b, leaf, n, at.pte);
		pgt__stop_count_note(sp, &at, 1);
	}
	return rc;
}

/**
 * pgt_map's everyday cases without the passes: a range inside one table,
 * smaller than the entry above it (so no larger page can fit), of pages
 * of one size (see map_level), no PGT_MAP_REPLACE. When the table exists
 * and every slot is empty, the leaves are stored in a row, as COMMIT
 * would store them; when the table is missing, map_new_branch builds it.
 * Nothing can conflict in either case. Returns BY_PASSES, having written
 * nothing, when neither applies.
 */
static int map_in_one_table(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, pgt_paddr_t pa,
			    const pgt_pte_t bits[PGT_MAX_LEVELS], unsigned flags)
{
	const struct pgt_arch *a = sp->pgt__arch;
	pgt_vaddr_t last = va + (size - 1);
	struct pgt__stop at;

	if (flags & PGT_MAP_REPLACE)
		return BY_PASSES;
	unsigned l = map_level(a, va, pa, size, flags);
	if (l + 1u < a->levels) {
		unsigned above = a->level[l + 1u].shift;
		if ((va >> above) != (last >> above) || (size >> above))
			return BY_PASSES; /* crosses an entry of the level above, or covers one whole */
	}
	if (pgt__ops(sp)->walk_to(sp, va, l, &at) != PGT_OK)
		return PGT_EHOOK; /* p2v failed: the hook is asked once per table and call */
	const struct pgt_level *L = &a->level[l];
	size_t n = (size_t)(size >> L->shift);
	pgt_pte_t first = pgt__leaf_make(L, bits[l], pa);
	if (at.level != l)
		return map_new_branch(sp, va, n, first, l, at);
	if (pgt__any_entry(at.pte, n))
		return BY_PASSES;
	pgt__store_leaves(at.pte, n, first, pgt__leaf_step(L));
	pgt__stop_count_note(sp, &at, (int)n);
	return PGT_OK;
}

/**
 * pgt_map by the passes, for checked arguments. Out of line, so that the
 * short path of pgt_map keeps no operation on its stack.
 */
static __attribute__((noinline)) int map_passes(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa,
						uint64_t size, const pgt_pte_t *bits, unsigned flags)
{
	struct range_op op;

	(void)op_init(&op, sp, OP_MAP, va, size); /* checked by pgt_map */
	op.pa = pa;
	op.flags = flags;
	op_set_bits(&op, bits);
	return run(&op);
}

int pgt__map_general(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned prot,
		     unsigned flags)
{
	const pgt_pte_t *bits;
	int rc = range_check(sp, va, size);

	if (rc == PGT_OK)
		rc = map_args_check(sp, pa, size, flags);
	if (rc == PGT_OK)
		rc = pgt__encode_all(sp, prot, &bits);
	if (rc != PGT_OK)
		return rc;
	rc = map_in_one_table(sp, va, size, pa, bits, flags);
	return rc == BY_PASSES ? map_passes(sp, va, pa, size, bits, flags) : rc;
}

/**
 * Whether the range of @p op consists of whole entries of one table at
 * @p level (a range of leaves there, when none of them is a table).
 */
static bool whole_entries_of_one_table(const struct range_op *op, unsigned level)
{
	const struct pgt_arch *a = op->sp->pgt__arch;
	uint64_t size = 1ull << a->level[level].shift;

	/* range_check has checked the alignment to the smallest pages */
	if (level > 0 && ((op->lo | (op->last + 1)) & (size - 1)))
		return false;
	return level + 1u >= a->levels || ((op->lo ^ op->last) >> a->level[level + 1u].shift) == 0;
}

/** Whether one of the @p n entries from @p p at @p level is a table. */
static bool any_table(const struct pgt_level *L, unsigned level, const pgt_pte_t *p, unsigned n)
{
	for (unsigned i = 0; level > 0 && i < n; i++)
		if (pgt__is_table(L, level, pgt__pte_load(&p[i])))
			return true;
	return false;
}

/**
 * Where unmap may leave the table of level @p level (not the root) that
 * holds the range empty: finds the entry linking it (*up, at level + 1)
 * when freeing the table would leave the table around that entry in use,
 * as the passes would leave it: PGT_OK. BY_PASSES when that one may
 * empty too: the passes then free what empties, level by level. PGT_EHOOK
 * when p2v fails.
 */
static int reclaim_stops_above(const struct range_op *op, unsigned level, struct pgt__stop *up)
{
	pgt_space_t *sp = op->sp;

	if (pgt__ops(sp)->walk_to(sp, op->lo, level + 1u, up) != PGT_OK)
		return PGT_EHOOK;
	if (up->level != level + 1u)
		return BY_PASSES;
	const struct pgt_level *U = pgt__level(sp, up->level);
	unsigned i = pgt__index(U, op->lo);
	if (up->level == pgt__root_level(sp) || table_kept(U, pgt__pte_load(up->pte)))
		return PGT_OK;
	const struct pgt_level *G = pgt__level(sp, up->level + 1u);
	pgt_pte_t g = pgt__pte_load(up->up);
	bool stops = pgt__counted(G, g) ? pgt__count_of(G, g) > 1
					: pgt__used_near(up->pte - i, pgt__entries(U), i, i + 1);
	return stops ? PGT_OK : BY_PASSES;
}

/** How many of the @p n entries from @p p at @p L are leaves the library keeps: those unmap clears. */
static unsigned mapped_leaves(const struct pgt_level *L, const pgt_pte_t *p, unsigned n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		k += pgt__is_mapped_leaf(L, pgt__pte_load(&p[i]));
	return k;
}

/**
 * Whether unmapping [first, first + n) of the table @p tab at @p level,
 * which the entry at->up links, may leave it empty: by its count, when
 * those are all its leaves; without a count, when no entry near the
 * range is in use. Never the root.
 */
static bool unmap_may_empty(const struct range_op *op, unsigned level, const struct pgt__stop *at,
			    const pgt_pte_t *tab, unsigned first, unsigned n)
{
	const struct pgt_level *L = pgt__level(op->sp, level);

	if (op->kind != OP_UNMAP || level >= pgt__root_level(op->sp))
		return false;
	const struct pgt_level *U = pgt__level(op->sp, level + 1u);
	pgt_pte_t u = pgt__pte_load(at->up);
	if (pgt__counted(U, u))
		return pgt__count_of(U, u) <= mapped_leaves(L, tab + first, n);
	return !pgt__used_near(tab, pgt__entries(L), first, first + n);
}

/**
 * pgt_unmap and pgt_protect without the passes, for a range of whole
 * leaves (or empty entries) of one existing table: nothing is allocated or
 * split, so COMMIT's leaf loop does the work. When unmap may leave the
 * table empty, it is freed as the passes would free it, provided the table
 * above stays in use (reclaim_stops_above). Then the flush, and the dead
 * table given back. Returns BY_PASSES, having written nothing, when the
 * case does not apply, and PGT_EHOOK, having written nothing, when p2v
 * fails (the hook is asked once per table and call: the passes would ask
 * again).
 */
static int change_in_one_table(struct range_op *op)
{
	pgt_space_t *sp = op->sp;
	struct pgt__stop at, up;

	if (pgt__ops(sp)->walk_to(sp, op->lo, 0, &at) != PGT_OK)
		return PGT_EHOOK;
	unsigned level = at.level;
	const struct pgt_level *L = pgt__level(sp, level);
	if (!whole_entries_of_one_table(op, level) ||
	    (level > 0 && !pgt__is_mapped_leaf(L, pgt__pte_load(at.pte))))
		return BY_PASSES; /* leaves to split, or nothing at the start to say which level */
	unsigned first = pgt__index(L, op->lo), n = (unsigned)((op->last - op->lo) >> L->shift) + 1;
	pgt_pte_t *tab = at.pte - first;
	if (any_table(L, level, at.pte, n))
		return BY_PASSES;
	bool may_empty = unmap_may_empty(op, level, &at, tab, first, n);
	int rc = may_empty ? reclaim_stops_above(op, level, &up) : PGT_OK;
	if (rc != PGT_OK)
		return rc;
	op->pass = PASS_COMMIT;
	int used = 0;
	leaf_run(op, level, tab, first, first + n, op->lo, &used);
	if (may_empty) { /* the range lies inside the entry above: the flush covers it alone */
		op->t = (struct op_tables){ 0 };
		pgt_pte_t link = pgt__pte_load(up.pte);
		bool empty = count_and_test_empty(op, up.level, up.pte, link, tab, used, true);
		pgt__stop_count_note(sp, &up, reclaim_if_empty(op, up.level, up.pte, link, tab, empty, op->lo,
							       op->last));
	} else {
		pgt__stop_count_note(sp, &at, used);
	}
	if (op->flush)
		pgt__tlb_flush_hook(sp, op->flush_lo, op->flush_last);
	if (may_empty)
		pgt__list_retire_all(sp, op->t.dead);
	pgt__space_changed(sp);
	return PGT_OK;
}

/** pgt_unmap and pgt_protect, for checked arguments: without the passes when one table holds the range. */
static int change(struct range_op *op)
{
	int rc = change_in_one_table(op);

	return rc == BY_PASSES ? run(op) : rc;
}

int pgt__unmap_general(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size)
{
	struct range_op op;
	int rc = op_init(&op, sp, OP_UNMAP, va, size);

	return rc == PGT_OK ? change(&op) : rc;
}

int pgt__protect_general(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot)
{
	struct range_op op;
	const pgt_pte_t *bits;
	int rc = op_init(&op, sp, OP_PROTECT, va, size);

	if (rc == PGT_OK)
		rc = pgt__encode_all(sp, prot, &bits);
	if (rc != PGT_OK)
		return rc;
	op_set_bits(&op, bits);
	return change(&op);
}

/*
 * The calls: one page at a time is the everyday case, which the space's
 * walks (compiled for its format) finish alone; they hand everything
 * else to the general functions above.
 */

int pgt_map(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned prot, unsigned flags)
{
	if (!pgt__space_writable(sp))
		return PGT_EINVAL;
	return pgt__ops(sp)->map(sp, va, pa, size, prot, flags);
}

int pgt_unmap(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size)
{
	if (!pgt__space_writable(sp))
		return PGT_EINVAL;
	return pgt__ops(sp)->unmap(sp, va, size);
}

int pgt_protect(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot)
{
	if (!pgt__space_writable(sp))
		return PGT_EINVAL;
	return pgt__ops(sp)->protect(sp, va, size, prot);
}
