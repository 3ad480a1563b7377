/*
 * The mapping database (seed 001, section 3 over section 4.1): map, grant,
 * unmap and flush between spaces, with one node per leaf.
 *
 * A node records its page (space, va), the physical page it finally
 * translates to, its rights, and its place in the derivation forest
 * (parent, first child, siblings). The leaf's link word names the node
 * (node ^ va), so a page's node is one table walk away and revocation walks
 * the forest, never a space.
 *
 * Every call runs in three steps:
 *
 *   PREPARE  checks the arguments, takes from the caller every node the
 *            call may need (one per destination page) and every table the
 *            destination range lacks, into private pools, and only then
 *            reserves a leaf (pgt_insert, fed from the pool) at every
 *            destination page that has none. A failure can only happen
 *            before the first table is linked: the pools go back, nothing
 *            has changed, and no tlb_flush was called.
 *   DECIDE   runs the model page by page on nodes and link words only.
 *            Leaves are not edited yet, so none disappears: every page that
 *            had a leaf keeps it, and a link word stays writable until the
 *            end. Removed nodes are kept (marked dead) so that a later step
 *            can still read them. Cannot fail.
 *   APPLY    makes the tables say what the nodes say, touching only the
 *            pages DECIDE touched: leaves of live nodes are rewritten in
 *            place (pgt_protect, or pgt_map with PGT_MAP_REPLACE: neither
 *            needs a table for a leaf that exists), pages left without a
 *            node are removed (pgt_unmap: removing a smallest page needs no
 *            table), and dead nodes go back to the caller. Cannot fail.
 *
 * While a call edits a space, the space's memory hooks are the call's
 * (struct attached): its alloc_table hands out the prepared tables, its
 * tlb_flush gathers the ranges into one call per space at the end (a
 * break-before-make replacement still flushes at once), and tables that
 * leave the tree wait for that flush before they go back to the caller.
 *
 * The swap is why other threads may not walk a space with pgt_translate,
 * pgt_lookup or pgt_walk while a call of the database edits it (the MMU
 * may: it reads only the tables).
 *
 * Every mapping the database makes is a page of the smallest size: the
 * superpages of item 3 of the design are not done yet.
 *
 * Recursion: none. Derivation chains may be as long as the caller likes,
 * so trees are walked iteratively through the parent and sibling links.
 */
#include <pgtable/mdb.h>

#include "internal.h"

/** pgt_mdb_t.pgt__magic while the database is initialised. */
#define MDB_MAGIC 0x6d646231u

/** The rights a mapping carries down its chain. */
#define MDB_RIGHTS  (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC)
/** Attributes each map or grant chooses for itself. */
#define MDB_ATTRS   (PGT_PROT_USER | PGT_PROT_GLOBAL)
/** The memory type: fixed by map_phys, inherited by everything derived. */
#define MDB_MEMTYPE (PGT_PROT_ALL & ~(MDB_RIGHTS | MDB_ATTRS))

/** What one call did to a node. */
enum node_state {
	NODE_TOUCHED = 1, /**< on the call's touched list */
	NODE_DEAD = 2     /**< removed from the forest; freed at the end of the call */
};

struct attached;

/** One mapping: a leaf of the smallest size, and its place in the derivation forest. */
struct node {
	pgt_space_t *sp;
	struct attached *home; /**< the attachment of sp */
	pgt_vaddr_t va;
	pgt_paddr_t pa; /**< the physical page the chain ends in */
	unsigned prot;  /**< PGT_PROT_*: rights, attributes, memory type */
	unsigned state; /**< enum node_state */
	struct node *parent, *child, *next, *prev;
	struct node *work; /**< the call's pool or touched list */
};

/**
 * One attached space and, while a call edits it, the call's hooks' state.
 * The lists are empty between calls.
 */
struct attached {
	pgt_space_t *sp;
	struct attached *next;
	struct pgt_mm orig;       /**< the caller's hooks, while the call's are in place */
	struct attached *op_next; /**< the call's list of spaces whose hooks it holds */
	bool hooked;              /**< the call's hooks are in place */
	bool now;                 /**< pass tlb_flush through at once (break-before-make) */
	bool flush;               /**< [flush_lo, flush_last] waits for the caller's tlb_flush */
	pgt_vaddr_t flush_lo, flush_last;
	struct pgt__table_list pool[PGT_MAX_LEVELS]; /**< prepared tables, by level */
	struct pgt__table_list dead[PGT_MAX_LEVELS]; /**< unlinked tables, after the flush */
};

/** One call in progress. */
struct mdb_op {
	pgt_mdb_t *db;
	struct node *pool;       /**< nodes taken in PREPARE, not used yet */
	struct node *touched;    /**< nodes DECIDE created, changed or removed */
	struct attached *home;   /**< where the call creates nodes, or NULL */
	struct attached *hooked; /**< spaces whose hooks the call holds */
	pgt_space_t *walked;     /**< detach: the space its walk flushes */
	pgt_vaddr_t rsv_va;
	uint64_t rsv_size; /**< 0: none */
};

/* ------------------------------------------------------------------------ */
/* Spaces, pages and link words                                              */

/** Bytes of a smallest page of @p sp. */
static uint64_t page_size(const pgt_space_t *sp)
{
	return 1ull << sp->pgt__arch->level[0].shift;
}

static bool db_ok(const pgt_mdb_t *db)
{
	return db != NULL && db->pgt__magic == MDB_MAGIC;
}

/**
 * The attachment mark: the link word beside the root's entry 0, which no
 * mapping of the database uses (its leaves are all at level 0). It names
 * the database, so that a space attached to one is refused by another.
 */
static uint64_t *mark_word(const pgt_space_t *sp)
{
	return pgt__link_word(pgt__level(sp, pgt__root_level(sp)), sp->pgt__root);
}

static uint64_t mark_of(const pgt_mdb_t *db)
{
	return (uint64_t)(uintptr_t)db ^ MDB_MAGIC;
}

/** The attachment record of @p sp, or NULL when it is not attached to @p db. */
static struct attached *attachment(const pgt_mdb_t *db, const pgt_space_t *sp)
{
	for (struct attached *a = db->pgt__spaces; a; a = a->next)
		if (a->sp == sp)
			return a;
	return NULL;
}

/** Whether @p sp is an initialised space attached to @p db. */
static bool attached_ok(const pgt_mdb_t *db, const pgt_space_t *sp)
{
	return pgt__space_ok(sp) && attachment(db, sp) != NULL;
}

/**
 * Whether [va, va+size) is a non-empty run of whole smallest pages of @p sp
 * without a hole (x86-64's non-canonical gap) inside.
 */
static bool range_ok(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t size)
{
	uint64_t pg = page_size(sp);
	pgt_vaddr_t last = va + size - 1;

	if (size == 0 || (va & (pg - 1)) || (size & (pg - 1)) || last < va)
		return false;
	if (!pgt__va_ok(sp, va) || !pgt__va_ok(sp, last))
		return false;
	return pgt__va_offset(sp, last) - pgt__va_offset(sp, va) == last - va;
}

/** The level-0 leaf at @p va, if there is one. */
static bool leaf_at(pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *ref)
{
	return pgt_lookup(sp, va, ref) == PGT_OK && ref->level == 0;
}

/** The node the link word of the leaf at @p va names; NULL for a word of 0 or no leaf. */
static struct node *node_at(pgt_space_t *sp, pgt_vaddr_t va)
{
	pgt_ref_t ref;

	if (!leaf_at(sp, va, &ref))
		return NULL;
	uint64_t w = *pgt__link_word(pgt__level(sp, 0), ref.pte);
	return w ? (struct node *)(uintptr_t)(w ^ va) : NULL;
}

/**
 * Points the link word of the leaf at @p va at @p n (NULL: none). Stored
 * as n ^ va (section 4.1) and 0 for none: a word the library cleared reads
 * as no node. DECIDE calls it only where a leaf exists.
 */
static void link_set(pgt_space_t *sp, pgt_vaddr_t va, struct node *n)
{
	pgt_ref_t ref;
	bool found = leaf_at(sp, va, &ref);

	PGT_ASSERT(found);
	if (found)
		*pgt__link_word(pgt__level(sp, 0), ref.pte) = n ? (uint64_t)(uintptr_t)n ^ va : 0;
}

/* ------------------------------------------------------------------------ */
/* The derivation forest                                                     */

/** Makes @p n the first child of @p parent (NULL: a root). */
static void adopt(struct node *parent, struct node *n)
{
	n->parent = parent;
	n->prev = NULL;
	n->next = parent ? parent->child : NULL;
	if (n->next)
		n->next->prev = n;
	if (parent)
		parent->child = n;
}

/** Takes @p n (and its subtree) out of its parent's children. */
static void orphan(struct node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else if (n->parent)
		n->parent->child = n->next;
	if (n->next)
		n->next->prev = n->prev;
	n->parent = n->next = n->prev = NULL;
}

/** Puts @p n on the call's touched list, once. */
static void touch(struct mdb_op *op, struct node *n)
{
	if (n->state & NODE_TOUCHED)
		return;
	n->state |= NODE_TOUCHED;
	n->work = op->touched;
	op->touched = n;
}

/** A node from the pool, for the page (sp, va), linked from its leaf. */
static struct node *node_new(struct mdb_op *op, pgt_vaddr_t va, pgt_paddr_t pa, unsigned prot)
{
	struct node *n = op->pool;

	PGT_ASSERT(n != NULL && op->home != NULL); /* PREPARE took one per destination page */
	op->pool = n->work;
	*n = (struct node){ .sp = op->home->sp, .home = op->home, .va = va, .pa = pa, .prot = prot };
	link_set(n->sp, va, n);
	touch(op, n);
	op->db->pgt__nodes++;
	return n;
}

/** Removes a node without children: its page has no node any more; the node stays readable. */
static void bury(struct mdb_op *op, struct node *n)
{
	orphan(n);
	link_set(n->sp, n->va, NULL);
	n->state |= NODE_DEAD;
	touch(op, n);
	op->db->pgt__nodes--;
}

/** Removes @p top and everything derived from it, deepest first, without a stack. */
static void kill_subtree(struct mdb_op *op, struct node *top)
{
	struct node *n = top;

	for (;;) {
		while (n->child)
			n = n->child;
		struct node *up = n->parent;
		bool last = n == top;
		bury(op, n);
		if (last)
			return;
		n = up;
	}
}

/** The next node of a pre-order walk of the subtree under @p top, or NULL. */
static struct node *preorder_next(struct node *top, struct node *n)
{
	if (n->child)
		return n->child;
	while (n != top && !n->next)
		n = n->parent;
	return n == top ? NULL : n->next;
}

/**
 * Everything derived from @p n loses the rights @p r. Losing READ removes
 * every descendant (each holds READ, as every mapping does); otherwise no
 * one is removed and each is downgraded in place.
 */
static void revoke_below(struct mdb_op *op, struct node *n, unsigned r)
{
	if (r & PGT_PROT_READ) {
		while (n->child)
			kill_subtree(op, n->child);
		return;
	}
	for (struct node *d = n->child; d; d = preorder_next(n, d))
		if (d->prot & r) {
			d->prot &= ~r;
			touch(op, d);
		}
}

/** The model's flush1 (@p self) or unmap1 (not @p self) of one page. */
static void revoke_page(struct mdb_op *op, pgt_space_t *sp, pgt_vaddr_t va, unsigned r, bool self)
{
	struct node *n = node_at(sp, va);

	if (!n)
		return;
	revoke_below(op, n, r);
	if (!self || !(n->prot & r))
		return;
	if (r & PGT_PROT_READ) {
		kill_subtree(op, n);
	} else {
		n->prot &= ~r;
		touch(op, n);
	}
}

/** A mapping's prot when derived from one with @p from, asked with @p p. */
static unsigned derived_prot(unsigned from, unsigned p)
{
	return (p & from & MDB_RIGHTS) | (p & MDB_ATTRS) | (from & MDB_MEMTYPE);
}

/** The model's map1. */
static void map_page(struct mdb_op *op, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst, pgt_vaddr_t dva,
		     unsigned p)
{
	struct node *s = node_at(src, va);

	if (!s)
		return;
	revoke_page(op, dst, dva, MDB_RIGHTS, true); /* may remove s, when it came from dva */
	if (s->state & NODE_DEAD)
		return;
	adopt(s, node_new(op, dva, s->pa, derived_prot(s->prot, p)));
}

/**
 * The model's grant1: the receiver takes the sender's place under its
 * origin m (physical memory when the sender is a root), then the sender
 * goes. Dead nodes stay readable until the call ends, so m may be checked
 * after the destination flush.
 */
static void grant_page(struct mdb_op *op, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst, pgt_vaddr_t dva,
		       unsigned p)
{
	struct node *s = node_at(src, va);

	if (!s)
		return;
	struct node *m = s->parent;
	unsigned rho = s->prot;
	pgt_paddr_t pa = s->pa;
	revoke_page(op, dst, dva, MDB_RIGHTS, true);
	if (!m || !(m->state & NODE_DEAD))
		adopt(m, node_new(op, dva, pa, derived_prot(rho, p)));
	revoke_page(op, src, va, MDB_RIGHTS, true);
}

/** The model's map_phys1. */
static void phys_page(struct mdb_op *op, pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, unsigned p)
{
	revoke_page(op, sp, va, MDB_RIGHTS, true);
	adopt(NULL, node_new(op, va, pa, p));
}

/* ------------------------------------------------------------------------ */
/* The call's memory hooks                                                   */

/** A table of the space, by the caller's own p2v. */
static pgt_pte_t *orig_p2v(const struct attached *a, pgt_paddr_t pa)
{
	if (a->orig.p2v)
		return a->orig.p2v(a->orig.ctx, pa);
	return (pgt_pte_t *)(uintptr_t)(pa + a->orig.p2v_offset);
}

/** alloc_table: a table PREPARE took; none left means PREPARE counted wrong. */
static pgt_paddr_t hook_alloc(void *ctx, size_t size, unsigned level)
{
	struct attached *a = ctx;
	pgt_paddr_t pa;

	PGT_ASSERT(level < a->sp->pgt__arch->levels && a->pool[level].n > 0);
	if (level >= a->sp->pgt__arch->levels || a->pool[level].n == 0 ||
	    size != pgt__table_bytes(a->sp, level))
		return PGT_PADDR_NONE;
	(void)pgt__list_pop(&a->pool[level], pgt__level(a->sp, level), &pa);
	return pa;
}

static void hook_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct attached *a = ctx;

	a->orig.free_table(a->orig.ctx, pa, size, level);
}

static void *hook_p2v(void *ctx, pgt_paddr_t pa)
{
	return orig_p2v(ctx, pa);
}

/** tlb_flush: gathered into one range, unless a replacement needs it now. */
static void hook_flush(void *ctx, pgt_vaddr_t va, uint64_t size)
{
	struct attached *a = ctx;
	pgt_vaddr_t last = va + size - 1;

	if (a->now) {
		if (a->orig.tlb_flush)
			a->orig.tlb_flush(a->orig.ctx, va, size);
		return;
	}
	if (!a->flush || va < a->flush_lo)
		a->flush_lo = va;
	if (!a->flush || last > a->flush_last)
		a->flush_last = last;
	a->flush = true;
}

/** defer_free: an unlinked table waits for the gathered flush. */
static void hook_defer(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct attached *a = ctx;

	(void)size;
	pgt__list_push(&a->dead[level], pgt__level(a->sp, level), orig_p2v(a, pa), pa);
}

static void hook_leaf_ad(void *ctx, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned ad)
{
	struct attached *a = ctx;

	a->orig.leaf_ad(a->orig.ctx, va, pa, size, ad);
}

static int hook_owns(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct attached *a = ctx;

	return a->orig.owns_table(a->orig.ctx, pa, size, level);
}

/**
 * Puts the call's hooks in place on @p a's space, once per call. Optional
 * hooks stay absent where the caller has none (the range operations take
 * other paths with them), and p2v stays an offset where it was one.
 */
static void hooks_take(struct mdb_op *op, struct attached *a)
{
	pgt_space_t *sp = a->sp;

	if (a->hooked)
		return;
	a->orig = sp->pgt__mm;
	sp->pgt__mm = (struct pgt_mm){
		.alloc_table = hook_alloc,
		.free_table = hook_free,
		.p2v = a->orig.p2v ? hook_p2v : NULL,
		.p2v_offset = a->orig.p2v_offset,
		.tlb_flush = hook_flush,
		.ctx = a,
		.owns_table = a->orig.owns_table ? hook_owns : NULL,
		.defer_free = hook_defer,
		.leaf_ad = a->orig.leaf_ad ? hook_leaf_ad : NULL,
	};
	a->hooked = true;
	a->flush = false;
	a->op_next = op->hooked;
	op->hooked = a;
}

/**
 * Gives every space its own hooks back, then per space: one tlb_flush for
 * everything the call removed or downgraded there, and only after it the
 * tables that left the tree; prepared tables not used were never linked.
 */
static void hooks_give_back(struct mdb_op *op)
{
	while (op->hooked) {
		struct attached *a = op->hooked;
		op->hooked = a->op_next;
		a->sp->pgt__mm = a->orig;
		a->hooked = false;
		if (a->flush && a->orig.tlb_flush)
			a->orig.tlb_flush(a->orig.ctx, a->flush_lo, a->flush_last - a->flush_lo + 1);
		pgt__list_retire_all(a->sp, a->dead);
		pgt__list_free_all(a->sp, a->pool);
	}
}

/* ------------------------------------------------------------------------ */
/* PREPARE                                                                   */

/** Gives the pool's nodes back to the caller. */
static void pool_release(struct mdb_op *op)
{
	const struct pgt_mdb_mm *mm = &op->db->pgt__mm;

	while (op->pool) {
		struct node *n = op->pool;
		op->pool = n->work;
		mm->free_node(mm->ctx, n, sizeof *n);
	}
}

/** Takes @p count nodes from the caller into the pool: all or none. */
static int pool_fill(struct mdb_op *op, uint64_t count)
{
	const struct pgt_mdb_mm *mm = &op->db->pgt__mm;

	for (uint64_t i = 0; i < count; i++) {
		struct node *n = mm->alloc_node(mm->ctx, sizeof *n);
		if (!n) {
			pool_release(op);
			return PGT_ENOMEM;
		}
		n->work = op->pool;
		op->pool = n;
	}
	return PGT_OK;
}

/**
 * The level of the entry where a walk to @p va stops in *level: 0 when the
 * level-0 table exists, else the level whose entry is empty (the tables of
 * every level below it are missing). PGT_EINVAL when a larger leaf or a
 * malformed entry is in the way (the space was edited behind the
 * database's back) or p2v fails: then pgt_insert could not reserve the
 * page. Reads only; bounded by the level count.
 */
static int missing_below(const pgt_space_t *sp, pgt_vaddr_t va, unsigned *level)
{
	const pgt_pte_t *tab = sp->pgt__root;

	for (*level = pgt__root_level(sp); *level > 0; --*level) {
		const struct pgt_level *L = pgt__level(sp, *level);
		pgt_pte_t pte = pgt__pte_load(&tab[pgt__index(L, va)]);
		if (!pgt__is_table(L, *level, pte))
			return pgt__classify(L, *level, pte) == PGT__EMPTY ? PGT_OK : PGT_EINVAL;
		tab = pgt__next_table(sp, L, pte);
		if (!tab)
			return PGT_EINVAL;
	}
	return PGT_OK;
}

/**
 * Counts, by level, the tables the pages of [va, va+size) lack. A missing
 * table serves every page of its span, and pages come in ascending order:
 * a table is new when its span differs from the last one counted.
 * PGT_EINVAL when a page cannot be reserved (see missing_below).
 */
static int count_tables(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, size_t need[])
{
	uint64_t last[PGT_MAX_LEVELS], pg = page_size(sp);

	for (unsigned l = 0; l < PGT_MAX_LEVELS; l++) {
		need[l] = 0;
		last[l] = ~0ull;
	}
	for (uint64_t off = 0; off < size; off += pg) {
		uint64_t o = pgt__va_offset(sp, va + off);
		unsigned top;
		int rc = missing_below(sp, va + off, &top);
		if (rc != PGT_OK)
			return rc;
		for (unsigned l = 0; l < top; l++) {
			const struct pgt_level *L = pgt__level(sp, l);
			uint64_t span = o >> (L->shift + L->bits);
			if (span != last[l]) {
				need[l]++;
				last[l] = span;
			}
		}
	}
	return PGT_OK;
}

/** Takes the tables [va, va+size) lacks from the caller, into @p a's pool: all or none. */
static int tables_fill(struct attached *a, pgt_vaddr_t va, uint64_t size)
{
	size_t need[PGT_MAX_LEVELS];
	int rc = count_tables(a->sp, va, size, need);

	if (rc != PGT_OK)
		return rc;
	for (unsigned l = 0; l < a->sp->pgt__arch->levels; l++)
		for (size_t i = 0; i < need[l]; i++) {
			pgt_paddr_t pa;
			pgt_pte_t *tab;
			rc = pgt__table_alloc(a->sp, l, &pa, &tab);
			if (rc != PGT_OK) {
				pgt__list_free_all(a->sp, a->pool);
				return rc;
			}
			pgt__list_push(&a->pool[l], pgt__level(a->sp, l), tab, pa);
		}
	return PGT_OK;
}

/**
 * Removes the smallest page at @p va of @p a's space: needs no table.
 * Unmap may free the table under root entry 0 and clear the mark with the
 * entry's link word: the mark is put back.
 */
static void unmap_page(struct mdb_op *op, struct attached *a, pgt_vaddr_t va)
{
	hooks_take(op, a);
	int rc = pgt_unmap(a->sp, va, page_size(a->sp));
	PGT_ASSERT(rc == PGT_OK);
	(void)rc;
	*mark_word(a->sp) = mark_of(op->db);
}

/**
 * Removes the reserved leaves left in the call's reserved range: those
 * PREPARE made and no node took. Attached spaces hold no reserved leaf
 * otherwise.
 */
static void reserved_release(struct mdb_op *op)
{
	pgt_space_t *sp = op->home ? op->home->sp : NULL;
	uint64_t pg;

	if (!sp || !op->rsv_size)
		return;
	pg = page_size(sp);
	for (uint64_t off = 0; off < op->rsv_size; off += pg) {
		pgt_ref_t ref;
		uint64_t prot;
		if (leaf_at(sp, op->rsv_va + off, &ref) &&
		    pgt_get_field(sp, ref, PGT_FIELD_PROT, &prot) == PGT_OK && !(prot & MDB_RIGHTS))
			unmap_page(op, op->home, op->rsv_va + off);
	}
}

/** Reserves a leaf at every page of [va, va+size) that has none, from the prepared tables. */
static void reserve_range(struct mdb_op *op, pgt_vaddr_t va, uint64_t size)
{
	pgt_space_t *sp = op->home->sp;
	uint64_t pg = page_size(sp);
	unsigned shift = sp->pgt__arch->level[0].shift;

	op->rsv_va = va;
	op->rsv_size = size;
	hooks_take(op, op->home);
	for (uint64_t off = 0; off < size; off += pg) {
		int rc = pgt_insert(sp, va + off, shift, NULL);
		PGT_ASSERT(rc >= 0); /* the tables are in the pool */
		(void)rc;
	}
}

/**
 * PREPARE for the calls that create one node per page of [va, va+size) of
 * @p dst: nodes, then tables, then the reserved leaves, which cannot fail.
 */
static int prepare_nodes(struct mdb_op *op, struct attached *dst, pgt_vaddr_t va, uint64_t size)
{
	int rc = pool_fill(op, size / page_size(dst->sp));

	if (rc != PGT_OK)
		return rc;
	rc = tables_fill(dst, va, size);
	if (rc != PGT_OK) {
		pool_release(op);
		return rc;
	}
	op->home = dst;
	reserve_range(op, va, size);
	return PGT_OK;
}

/* ------------------------------------------------------------------------ */
/* APPLY                                                                     */

/** Makes the leaf of the live node @p n say what @p n says; keeps its link word. */
static void write_leaf(struct mdb_op *op, struct node *n)
{
	uint64_t pg = page_size(n->sp), pa = PGT_PADDR_NONE, prot = 0;
	pgt_ref_t ref;
	int rc;

	hooks_take(op, n->home);
	if (leaf_at(n->sp, n->va, &ref)) {
		(void)pgt_get_field(n->sp, ref, PGT_FIELD_PADDR, &pa);
		(void)pgt_get_field(n->sp, ref, PGT_FIELD_PROT, &prot);
	}
	/* Same page: new rights in place. Another page, or a reserved leaf: replace it. */
	if ((prot & MDB_RIGHTS) && pa == n->pa) {
		rc = pgt_protect(n->sp, n->va, pg, n->prot);
	} else {
		n->home->now = true; /* break-before-make flushes between its two stores */
		rc = pgt_map(n->sp, n->va, n->pa, pg, n->prot, PGT_MAP_NOSUPER | PGT_MAP_REPLACE);
		n->home->now = false;
	}
	PGT_ASSERT(rc == PGT_OK); /* the leaf exists: no table needed */
	(void)rc;
	link_set(n->sp, n->va, n); /* a replacing map clears the word */
}

/** Removes the leaf of a dead node, unless a live node took its page. */
static void remove_leaf(struct mdb_op *op, struct node *n)
{
	pgt_ref_t ref;

	if (leaf_at(n->sp, n->va, &ref) && !node_at(n->sp, n->va))
		unmap_page(op, n->home, n->va);
}

/** APPLY: live leaves first (they need no table), then removals, then the nodes go back. */
static void apply(struct mdb_op *op)
{
	const struct pgt_mdb_mm *mm = &op->db->pgt__mm;

	for (struct node *n = op->touched; n; n = n->work)
		if (!(n->state & NODE_DEAD))
			write_leaf(op, n);
	for (struct node *n = op->touched; n; n = n->work)
		if (n->state & NODE_DEAD)
			remove_leaf(op, n);
	reserved_release(op);
	hooks_give_back(op);
	while (op->touched) {
		struct node *n = op->touched;
		op->touched = n->work;
		if (n->state & NODE_DEAD)
			mm->free_node(mm->ctx, n, sizeof *n);
		else
			n->state = 0;
	}
	pool_release(op);
}

/* ------------------------------------------------------------------------ */
/* Argument checks                                                           */

/** A map, grant or map_phys prot: READ and defined bits; @p memtype allowed for map_phys only. */
static int prot_check(const pgt_space_t *sp, unsigned prot, bool memtype)
{
	pgt_pte_t bits;

	if ((prot & ~PGT_PROT_ALL) || (!memtype && (prot & MDB_MEMTYPE)) || !(prot & MDB_RIGHTS))
		return PGT_EINVAL;
	if (!(prot & PGT_PROT_READ))
		return PGT_ENOTSUP;
	return sp->pgt__arch->prot_encode(0, prot, &bits);
}

/** Checks a transfer between two attached spaces; PGT_OK with *empty set for size 0. */
static int transfer_check(const pgt_mdb_t *db, const pgt_space_t *src, pgt_vaddr_t va, const pgt_space_t *dst,
			  pgt_vaddr_t dva, uint64_t size, unsigned prot)
{
	if (!db_ok(db) || !attached_ok(db, src) || !attached_ok(db, dst))
		return PGT_EINVAL;
	if (size == 0)
		return PGT_OK;
	if (page_size(src) != page_size(dst) || !range_ok(src, va, size) || !range_ok(dst, dva, size))
		return PGT_EINVAL;
	return prot_check(dst, prot, false);
}

/** What one page of a transfer does. */
typedef void (*page_fn)(struct mdb_op *op, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst,
			pgt_vaddr_t dva, unsigned p);

/** pgt_mdb_map and pgt_mdb_grant: PREPARE, each page in ascending order, APPLY. */
static int transfer(pgt_mdb_t *db, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst, pgt_vaddr_t dva,
		    uint64_t size, unsigned prot, page_fn fn)
{
	struct mdb_op op = { .db = db };
	int rc = transfer_check(db, src, va, dst, dva, size, prot);

	if (rc != PGT_OK || size == 0)
		return rc;
	rc = prepare_nodes(&op, attachment(db, dst), dva, size);
	if (rc != PGT_OK)
		return rc;
	for (uint64_t off = 0, pg = page_size(src); off < size; off += pg)
		fn(&op, src, va + off, dst, dva + off, prot);
	apply(&op);
	return PGT_OK;
}

/* ------------------------------------------------------------------------ */
/* The API                                                                   */

int pgt_mdb_init(pgt_mdb_t *db, const struct pgt_mdb_mm *mm)
{
	if (!db || !mm || !mm->alloc_node || !mm->free_node)
		return PGT_EINVAL;
	*db = (pgt_mdb_t){ .pgt__mm = *mm, .pgt__magic = MDB_MAGIC };
	return PGT_OK;
}

/** pgt_walk visitor: stops at the first mapping. */
static int any_mapping(void *arg, const struct pgt_mapping *m)
{
	(void)arg;
	(void)m;
	return 1;
}

int pgt_mdb_attach(pgt_mdb_t *db, pgt_space_t *sp)
{
	if (!db_ok(db) || !pgt__space_ok(sp) || !(sp->pgt__flags & PGT_SPACE_LINKS))
		return PGT_EINVAL;
	if (*mark_word(sp) != 0 || attachment(db, sp))
		return PGT_EINVAL; /* attached here or to another database */
	if (pgt_walk(sp, pgt__offset_va(sp, 0), 0, any_mapping, NULL) != PGT_OK)
		return PGT_EINVAL;
	struct attached *a = db->pgt__mm.alloc_node(db->pgt__mm.ctx, sizeof *a);
	if (!a)
		return PGT_ENOMEM;
	*a = (struct attached){ .sp = sp, .next = db->pgt__spaces };
	db->pgt__spaces = a;
	*mark_word(sp) = mark_of(db);
	return PGT_OK;
}

/** pgt_walk visitor for detach: flushes each page the space holds (DECIDE only: tables stay). */
static int flush_visit(void *arg, const struct pgt_mapping *m)
{
	struct mdb_op *op = arg;
	pgt_space_t *sp = op->walked;

	for (uint64_t off = 0; off < m->size; off += page_size(sp))
		revoke_page(op, sp, m->va + off, MDB_RIGHTS, true);
	return 0;
}

/** Flushes everything @p sp holds and forgets it. */
static void detach_now(pgt_mdb_t *db, struct attached *a)
{
	struct mdb_op op = { .db = db, .walked = a->sp };
	struct attached **pp = (struct attached **)&db->pgt__spaces;

	(void)pgt_walk(a->sp, pgt__offset_va(a->sp, 0), 0, flush_visit, &op);
	apply(&op);
	*mark_word(a->sp) = 0;
	while (*pp != a)
		pp = &(*pp)->next;
	*pp = a->next;
	db->pgt__mm.free_node(db->pgt__mm.ctx, a, sizeof *a);
}

int pgt_mdb_detach(pgt_mdb_t *db, pgt_space_t *sp)
{
	if (!db_ok(db) || !pgt__space_ok(sp))
		return PGT_EINVAL;
	struct attached *a = attachment(db, sp);
	if (!a)
		return PGT_EINVAL;
	detach_now(db, a);
	return PGT_OK;
}

void pgt_mdb_destroy(pgt_mdb_t *db)
{
	if (!db_ok(db))
		return;
	while (db->pgt__spaces)
		detach_now(db, db->pgt__spaces);
	db->pgt__magic = 0;
}

int pgt_mdb_map_phys(pgt_mdb_t *db, pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size,
		     unsigned prot)
{
	struct mdb_op op = { .db = db };

	if (!db_ok(db) || !attached_ok(db, sp))
		return PGT_EINVAL;
	if (size == 0)
		return PGT_OK;
	uint64_t pg = page_size(sp);
	pgt_pte_t oa = pgt__level(sp, 0)->leaf_oa;
	if (!range_ok(sp, va, size) || (pa & (pg - 1)) || pa + (size - pg) < pa || ((pa + (size - pg)) & ~oa))
		return PGT_EINVAL;
	int rc = prot_check(sp, prot, true);
	if (rc == PGT_OK)
		rc = prepare_nodes(&op, attachment(db, sp), va, size);
	if (rc != PGT_OK)
		return rc;
	for (uint64_t off = 0; off < size; off += pg)
		phys_page(&op, sp, va + off, pa + off, prot);
	apply(&op);
	return PGT_OK;
}

int pgt_mdb_map(pgt_mdb_t *db, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst, pgt_vaddr_t dva,
		uint64_t size, unsigned prot)
{
	return transfer(db, src, va, dst, dva, size, prot, map_page);
}

int pgt_mdb_grant(pgt_mdb_t *db, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst, pgt_vaddr_t dva,
		  uint64_t size, unsigned prot)
{
	return transfer(db, src, va, dst, dva, size, prot, grant_page);
}

/** pgt_mdb_unmap (not @p self) and pgt_mdb_flush (@p self): need no node and no table. */
static int revoke(pgt_mdb_t *db, pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot, bool self)
{
	struct mdb_op op = { .db = db };

	if (!db_ok(db) || !attached_ok(db, sp))
		return PGT_EINVAL;
	if (size == 0)
		return PGT_OK;
	if (!range_ok(sp, va, size) || (prot & ~MDB_RIGHTS))
		return PGT_EINVAL;
	if (prot == 0)
		return PGT_OK;
	for (uint64_t off = 0, pg = page_size(sp); off < size; off += pg)
		revoke_page(&op, sp, va + off, prot, self);
	apply(&op);
	return PGT_OK;
}

int pgt_mdb_unmap(pgt_mdb_t *db, pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot)
{
	return revoke(db, sp, va, size, prot, false);
}

int pgt_mdb_flush(pgt_mdb_t *db, pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot)
{
	return revoke(db, sp, va, size, prot, true);
}

int pgt_mdb_origin(const pgt_mdb_t *db, const pgt_space_t *sp, pgt_vaddr_t va, struct pgt_mdb_origin *out)
{
	if (!db_ok(db) || !out || !attached_ok(db, sp) || !pgt__va_ok(sp, va))
		return PGT_EINVAL;
	/* node_at only reads: the space is not changed through it */
	struct node *n = node_at((pgt_space_t *)(uintptr_t)sp, va & ~(page_size(sp) - 1));
	if (!n)
		return PGT_ENOENT;
	*out = (struct pgt_mdb_origin){ .space = n->parent ? n->parent->sp : NULL,
					.va = n->parent ? n->parent->va : 0,
					.pa = n->pa,
					.prot = n->prot };
	for (struct node *p = n->parent; p; p = p->parent)
		out->depth++;
	return PGT_OK;
}

/* ------------------------------------------------------------------------ */
/* pgt_mdb_verify                                                            */

/** A verification in progress. */
struct mdb_check {
	const pgt_mdb_t *db;
	pgt_space_t *sp; /**< the space being walked */
	void (*report)(void *arg, const char *problem, const pgt_space_t *sp, pgt_vaddr_t va);
	void *arg;
	int problems;
	size_t nodes; /**< nodes found through leaves */
};

static void problem(struct mdb_check *c, const char *what, const pgt_space_t *sp, pgt_vaddr_t va)
{
	c->problems++;
	if (c->report)
		c->report(c->arg, what, sp, va);
}

/** Whether @p n is the live node of its own page: the page's link word names it. */
static bool node_placed(const struct mdb_check *c, const struct node *n)
{
	return attached_ok(c->db, n->sp) && !(n->state & NODE_DEAD) && node_at(n->sp, n->va) == n;
}

/**
 * Theorems 1 and 2 for @p n: following origins ends at a root (physical
 * memory) within as many steps as there are nodes, through placed nodes
 * whose rights contain the child's, all ending in the same physical page.
 */
static void check_chain(struct mdb_check *c, const struct node *n)
{
	size_t steps = 0;

	for (const struct node *k = n; k->parent; k = k->parent) {
		const struct node *p = k->parent;
		if (++steps > c->db->pgt__nodes || !node_placed(c, p)) {
			problem(c, steps > c->db->pgt__nodes ? "origin loop" : "origin has no leaf", n->sp,
				n->va);
			return;
		}
		if ((k->prot & MDB_RIGHTS) & ~(p->prot & MDB_RIGHTS))
			problem(c, "rights grow down a chain", k->sp, k->va);
		if (k->pa != p->pa || (k->prot & MDB_MEMTYPE) != (p->prot & MDB_MEMTYPE))
			problem(c, "page differs from its origin's", k->sp, k->va);
	}
}

/** Each child names @p n as its parent, is placed, and the sibling links agree. */
static void check_children(struct mdb_check *c, const struct node *n)
{
	size_t count = 0;

	for (const struct node *k = n->child; k; k = k->next) {
		if (++count > c->db->pgt__nodes) {
			problem(c, "children loop", n->sp, n->va);
			return;
		}
		if (k->parent != n || (k->next && k->next->prev != k) || (k == n->child && k->prev))
			problem(c, "derivation links disagree", k->sp, k->va);
		if (!node_placed(c, k))
			problem(c, "node whose leaf is gone", k->sp, k->va);
	}
}

/** pgt_walk visitor: one leaf of an attached space, its node, and the node's place. */
static int check_leaf(void *arg, const struct pgt_mapping *m)
{
	struct mdb_check *c = arg;
	struct node *n = m->level == 0 ? node_at(c->sp, m->va) : NULL;

	if (!n) {
		problem(c, m->level ? "leaf larger than a page" : "leaf without a node", c->sp, m->va);
		return 0;
	}
	c->nodes++;
	if (n->sp != c->sp || n->va != m->va || (n->state & NODE_DEAD))
		problem(c, "link word names another page's node", c->sp, m->va);
	else if (n->pa != m->pa || n->prot != m->prot)
		problem(c, "leaf and node disagree", c->sp, m->va);
	check_chain(c, n);
	check_children(c, n);
	return 0;
}

int pgt_mdb_verify(const pgt_mdb_t *db,
		   void (*report)(void *arg, const char *problem, const pgt_space_t *sp, pgt_vaddr_t va),
		   void *arg)
{
	struct mdb_check c = { .db = db, .report = report, .arg = arg };

	if (!db_ok(db))
		return PGT_EINVAL;
	for (const struct attached *a = db->pgt__spaces; a; a = a->next) {
		c.sp = a->sp;
		if (*mark_word(a->sp) != mark_of(db))
			problem(&c, "attachment mark lost", a->sp, 0);
		if (pgt_walk(a->sp, pgt__offset_va(a->sp, 0), 0, check_leaf, &c) != PGT_OK)
			problem(&c, "space cannot be walked", a->sp, 0);
	}
	if (c.nodes != db->pgt__nodes)
		problem(&c, "live node count differs from the leaves", NULL, 0);
	return c.problems;
}
