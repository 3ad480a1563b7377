/* SPDX-License-Identifier: MIT */
/*
 * The mapping database (seed 001, section 3 over section 4.1): map, grant,
 * unmap and flush between spaces, with one node per leaf, whatever its size.
 *
 * A node records its leaf (space, va, level), the physical address that
 * leaf translates to, its rights, and its place in the derivation forest:
 * its parent, the address in the parent's space its first page came from
 * (pva), its first child and siblings. A child is never larger than its
 * parent and lies inside it. The leaf's link word names the node
 * (node ^ va), so a page's node is one table walk away and revocation
 * walks the forest, never a space.
 *
 * Every call runs in three steps:
 *
 *   PREPARE  checks the arguments and works out what the call needs:
 *            the superpage nodes it cuts (with their superpage
 *            descendants, which the cut reaches), one node per piece of
 *            those and per destination page or superpage, and every table
 *            the splits and the destination lack. It takes all of that
 *            from the caller into private pools. A failure can only happen
 *            here, before the first table is linked: the pools go back,
 *            nothing has changed, and no tlb_flush was called. Then it
 *            splits the cut superpages into smallest pages (tables and
 *            nodes), and reserves a leaf (pgt_insert, fed from the pool)
 *            wherever the destination has none: a superpage where a whole
 *            source leaf goes into empty, aligned memory, else a page.
 *            A superpage over what the destination holds cannot be
 *            reserved (the pages there keep their link words until
 *            APPLY): its node waits on the planned list instead.
 *   DECIDE   runs the model page by page on nodes and link words only.
 *            Leaves are not edited, so none disappears: a link word stays
 *            writable until the end. Removed nodes are kept (marked dead)
 *            so that a later step can still read them. A superpage node is
 *            handled whole: PREPARE split every one the call would cut.
 *            Cannot fail.
 *   APPLY    makes the tables say what the nodes say, touching only what
 *            DECIDE touched: leaves of live nodes are rewritten in place
 *            (pgt_protect, or pgt_map with PGT_MAP_REPLACE: neither needs
 *            a table for a leaf that exists), leaves left without a node
 *            are removed (pgt_unmap of a whole leaf needs no table), then
 *            each planned superpage is made where its step's flush and
 *            those removals left nothing (the tables of its path that the
 *            removals emptied come from the pool: PREPARE counted them),
 *            and dead nodes go back to the caller. Cannot fail.
 *
 * While a call edits a space, the space's memory hooks are the call's
 * (struct attached): its alloc_table hands out the prepared tables, its
 * tlb_flush gathers the ranges into one call per space at the end (a
 * break-before-make replacement still flushes at once), and tables that
 * leave the tree wait for that flush before they go back to the caller.
 * The swap is why other threads may not walk a space with pgt_translate,
 * pgt_lookup or pgt_walk while a call of the database edits it (the MMU
 * may: it reads only the tables).
 *
 * Superpages follow the page-by-page model exactly because they are made
 * only where no step of the call can tell them from their pages: a whole
 * source leaf into an aligned destination range, never within one space's
 * overlapping ranges. A destination range that held mappings is flushed
 * first, whole. That flush reaches the source only when the source is
 * derived from a leaf of the destination range; a child is never larger
 * than its parent, so that leaf is then exactly the planned range, and the
 * page-by-page model removes the source page by page before each page
 * could be mapped: the step checks the source is still there after the
 * flush, and makes nothing. Every other superpage of the destination range
 * is split by PREPARE with everything derived from it (mark_destination),
 * unless a planned superpage covers it whole: its step flushes it whole.
 *
 * Recursion: none. Derivation chains may be as long as the caller likes,
 * so trees are walked iteratively through the parent and sibling links.
 */
#include <pgtable/mdb.h>

#include "table.h"
#include "tlb.h"

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
	NODE_DEAD = 2,    /**< removed from the forest; freed at the end of the call */
	NODE_SPLIT = 4,   /**< a superpage PREPARE splits into pages (on the split list) */
	NODE_SPENT = 8,   /**< split: its pieces took its place; freed at the end of the call */
	NODE_PENDING = 16 /**< a superpage over what the destination held: APPLY makes its leaf */
};

struct attached;

/** One mapping: a leaf, and its place in the derivation forest. */
struct node {
	pgt_space_t *sp;
	struct attached *home; /**< the attachment of sp */
	pgt_vaddr_t va;        /**< the leaf's first address */
	pgt_vaddr_t pva;       /**< the parent's address va came from (roots: 0) */
	pgt_paddr_t pa;        /**< where va translates: the physical page the chain ends in */
	unsigned prot;         /**< PGT_PROT_*: rights, attributes, memory type */
	unsigned state;        /**< enum node_state */
	unsigned level;        /**< the leaf's level */
	struct node *parent, *child, *next, *prev;
	struct node *work;  /**< the call's pool or touched list */
	struct node *split; /**< the call's split list */
};

/**
 * One attached space and, while a call works on it, the call's state for
 * it. The lists and counts are empty between calls.
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
	size_t need[PGT_MAX_LEVELS];                 /**< PREPARE: tables to take, by level */
	struct pgt__table_list pool[PGT_MAX_LEVELS]; /**< prepared tables, by level */
	struct pgt__table_list dead[PGT_MAX_LEVELS]; /**< unlinked tables, after the flush */
};

/** What a call does page by page (enum op_kind of the model). */
enum mdb_kind { KIND_REVOKE, KIND_MAP, KIND_GRANT, KIND_PHYS };

/** One call in progress. */
struct mdb_op {
	pgt_mdb_t *db;
	enum mdb_kind kind;
	pgt_space_t *src, *dst; /**< transfers: both; map_phys, revocations: dst */
	pgt_vaddr_t va, dva;    /**< transfers: the two starts; map_phys, revocations: dva */
	pgt_paddr_t pa;         /**< map_phys */
	uint64_t size;
	unsigned prot;
	bool self;                  /**< revocations: flush (the pages themselves lose rights too) */
	bool whole;                 /**< superpages may be made (no overlap within one space) */
	struct node *pool;          /**< nodes taken in PREPARE, not used yet */
	uint64_t nodes;             /**< PREPARE: nodes to take */
	struct node *touched;       /**< nodes DECIDE created, changed or removed */
	struct node *split, **tail; /**< superpages PREPARE splits, in the order marked */
	struct attached *home;      /**< the destination, where nodes are created, or NULL */
	struct attached *hooked;    /**< spaces whose hooks the call holds */
	bool reserved;              /**< PREPARE reserved leaves in the destination range */
	struct node *planned, **planned_tail; /**< nodes of pending superpages, ascending */
};

/* ------------------------------------------------------------------------ */
/* Spaces, leaves and link words                                             */

/** Bytes of a leaf at @p level of @p sp. */
static uint64_t level_size(const pgt_space_t *sp, unsigned level)
{
	return 1ull << sp->pgt__arch->level[level].shift;
}

/** Bytes of a smallest page of @p sp. */
static uint64_t page_size(const pgt_space_t *sp)
{
	return level_size(sp, 0);
}

static uint64_t node_size(const struct node *n)
{
	return level_size(n->sp, n->level);
}

static bool db_ok(const pgt_mdb_t *db)
{
	return db != NULL && db->pgt__magic == MDB_MAGIC;
}

/**
 * The attachment mark: the link word beside the root's entry 0. It names
 * the database, so that a space attached to one is refused by another.
 * A link word is read only for a leaf, so the mark may stay there while
 * root entry 0 is empty or a table. A root-level leaf in entry 0 takes the
 * word for its node (root_leaf_0); the mark is not needed then, since a
 * space that maps something is refused by attach anyway, and the word is
 * not 0 either. The mark comes back when that leaf goes (mark_restore).
 */
static uint64_t *mark_word(const pgt_space_t *sp)
{
	return pgt__link_word(pgt__level(sp, pgt__root_level(sp)), sp->pgt__root);
}

static uint64_t mark_of(const pgt_mdb_t *db)
{
	return (uint64_t)(uintptr_t)db ^ MDB_MAGIC;
}

/** Whether root entry 0 of @p sp is a leaf (valid or reserved): its link word is a node's then. */
static bool root_leaf_0(const pgt_space_t *sp)
{
	unsigned root = pgt__root_level(sp);
	const struct pgt_level *L = pgt__level(sp, root);
	enum pgt__kind kind = pgt__classify(L, root, pgt__pte_load(sp->pgt__root));

	return kind == PGT__LEAF || kind == PGT__RESERVED;
}

/**
 * Puts the mark of @p db back in root entry 0's link word unless a leaf
 * there owns the word: the library clears the word when it unlinks or
 * splits what entry 0 held.
 */
static void mark_restore(const pgt_mdb_t *db, pgt_space_t *sp)
{
	if (!root_leaf_0(sp))
		*mark_word(sp) = mark_of(db);
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
static int range_check(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t size)
{
	return pgt__range_check(sp, va, size, page_size(sp));
}

/** The leaf (valid or reserved, any size) holding @p va, if there is one. */
static bool leaf_at(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *ref)
{
	return pgt_lookup(sp, va, ref) == PGT_OK;
}

/** The first address of the leaf @p ref names, which holds @p va. */
static pgt_vaddr_t leaf_base(pgt_ref_t ref, pgt_vaddr_t va)
{
	return va & ~((1ull << ref.page_shift) - 1);
}

/** The node the link word of the leaf holding @p va names; NULL for a word of 0 or no leaf. */
static struct node *node_at(const pgt_space_t *sp, pgt_vaddr_t va)
{
	pgt_ref_t ref;

	if (!leaf_at(sp, va, &ref))
		return NULL;
	uint64_t w = *pgt__link_word(pgt__level(sp, ref.level), ref.pte);
	if (!w)
		return NULL;
	/* The link word holds node ^ va (seed 001, section 4.1): the node comes back from an integer. */
	// NOLINTNEXTLINE(performance-no-int-to-ptr)
	return (struct node *)(uintptr_t)(w ^ leaf_base(ref, va));
}

/**
 * Points the link word of the leaf holding @p va at @p n (NULL: none).
 * Stored as n ^ (the leaf's address) (section 4.1) and 0 for none: a word
 * the library cleared reads as no node. Called only where a leaf exists.
 */
static void link_set(pgt_space_t *sp, pgt_vaddr_t va, struct node *n)
{
	pgt_ref_t ref;
	bool found = leaf_at(sp, va, &ref);

	PGT_ASSERT(found);
	if (found)
		*pgt__link_word(pgt__level(sp, ref.level), ref.pte) =
			n ? (uint64_t)(uintptr_t)n ^ leaf_base(ref, va) : 0;
}

/**
 * The first address after what holds @p va: its leaf, or the empty entry
 * where a walk to it stops (nothing is mapped up to there), so that a range
 * is walked in strides of what is there rather than page by page. Bounded
 * by the level count.
 */
static pgt_vaddr_t stride_end(const pgt_space_t *sp, pgt_vaddr_t va)
{
	const pgt_pte_t *tab = sp->pgt__root;

	for (unsigned l = pgt__root_level(sp);; l--) {
		const struct pgt_level *L = pgt__level(sp, l);
		pgt_pte_t pte = pgt__pte_load(&tab[pgt__index(L, va)]);
		if (l == 0 || !pgt__is_table(L, l, pte) || !(tab = pgt__next_table(sp, L, pte)))
			return (va | ((1ull << L->shift) - 1)) + 1; /* 0 past the top: offsets wrap right */
	}
}

/** Whether the leaf @p ref names is reserved (no right). */
static bool leaf_reserved(pgt_space_t *sp, pgt_ref_t ref)
{
	uint64_t prot = 0;

	return pgt_get_field(sp, ref, PGT_FIELD_PROT, &prot) == PGT_OK && !(prot & MDB_RIGHTS);
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

/** Whether the next pending superpage PREPARE planned is the leaf of @p level at @p va of @p sp. */
static bool planned_at(const struct mdb_op *op, const pgt_space_t *sp, pgt_vaddr_t va, unsigned level)
{
	const struct node *p = op->planned;

	return p && p->sp == sp && p->va == va && p->level == level;
}

/**
 * A node for a leaf of @p home's space, not touched: a pending superpage's
 * own node, which no leaf names until APPLY makes the leaf, or one from
 * the pool, linked from its leaf.
 */
static struct node *node_take(struct mdb_op *op, struct attached *home, unsigned level, pgt_vaddr_t va,
			      pgt_paddr_t pa, unsigned prot)
{
	bool pending = planned_at(op, home->sp, va, level);
	struct node *n = pending ? op->planned : op->pool;

	PGT_ASSERT(n != NULL); /* PREPARE took one per piece and per destination leaf */
	if (pending)
		op->planned = n->work;
	else
		op->pool = n->work;
	*n = (struct node){ .sp = home->sp, .home = home, .level = level, .va = va, .pa = pa, .prot = prot };
	if (pending)
		n->state = NODE_PENDING;
	else
		link_set(n->sp, va, n);
	op->db->pgt__nodes++;
	return n;
}

/** A new mapping of the destination, derived from @p parent (NULL: physical memory). */
static void node_new(struct mdb_op *op, struct node *parent, unsigned level, pgt_vaddr_t va, pgt_vaddr_t pva,
		     pgt_paddr_t pa, unsigned prot)
{
	struct node *n = node_take(op, op->home, level, va, pa, prot);

	n->pva = pva;
	adopt(parent, n);
	touch(op, n);
}

/** Removes a node without children: its leaf has no node any more; the node stays readable. */
static void bury(struct mdb_op *op, struct node *n)
{
	orphan(n);
	if (!(n->state & NODE_PENDING)) /* a pending superpage has no leaf yet */
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

/** The next node of a pre-order walk of the subtree under @p top, or NULL; @p down: enter n's children. */
static struct node *preorder_next(const struct node *top, struct node *n, bool down)
{
	if (down && n->child)
		return n->child;
	while (n != top && !n->next)
		n = n->parent;
	return n == top ? NULL : n->next;
}

/**
 * Everything derived from @p n loses the rights @p r. Losing READ removes
 * every descendant (each holds READ, as every mapping does); otherwise no
 * one is removed and each is downgraded in place. Descendants lie inside
 * @p n, so they lose @p r whole.
 */
static void revoke_below(struct mdb_op *op, struct node *n, unsigned r)
{
	if (r & PGT_PROT_READ) {
		while (n->child)
			kill_subtree(op, n->child);
		return;
	}
	for (struct node *d = n->child; d; d = preorder_next(n, d, true))
		if (d->prot & r) {
			d->prot &= ~r;
			touch(op, d);
		}
}

/**
 * The model's flush1 (@p self) or unmap1 (not @p self) of every page of
 * the leaf holding @p va, which the call covers whole (PREPARE split any
 * superpage it cuts). Returns the address after that leaf.
 */
static pgt_vaddr_t revoke_at(struct mdb_op *op, pgt_space_t *sp, pgt_vaddr_t va, unsigned r, bool self)
{
	struct node *n = node_at(sp, va);

	if (!n)
		return va + page_size(sp);
	revoke_below(op, n, r);
	if (self && (n->prot & r)) {
		if (r & PGT_PROT_READ) {
			kill_subtree(op, n);
		} else {
			n->prot &= ~r;
			touch(op, n);
		}
	}
	return n->va + node_size(n);
}

/**
 * The model's flush1 of every page of the destination leaf of @p level at
 * @p dva: of what is there, leaf by leaf (leaves without a node, reserved
 * or removed by this call, and holes are stepped over whole).
 */
static void flush_destination(struct mdb_op *op, pgt_vaddr_t dva, unsigned level)
{
	uint64_t size = level_size(op->dst, level);

	for (uint64_t off = 0; off < size;) {
		pgt_vaddr_t va = dva + off;
		pgt_ref_t ref;
		pgt_vaddr_t next;
		if (node_at(op->dst, va))
			next = revoke_at(op, op->dst, va, MDB_RIGHTS, true);
		else if (leaf_at(op->dst, va, &ref))
			next = leaf_base(ref, va) + (1ull << ref.page_shift);
		else
			next = stride_end(op->dst, va);
		off = next - dva; /* 0 past the top: off becomes size */
	}
}

/** A mapping's prot when derived from one with @p from, asked with @p p. */
static unsigned derived_prot(unsigned from, unsigned p)
{
	return (p & from & MDB_RIGHTS) | (p & MDB_ATTRS) | (from & MDB_MEMTYPE);
}

/**
 * The model's map1 for the leaf of @p level at @p dva: a page, or a
 * superpage whose source the flush removes only whole (when it derives
 * from the leaf that held exactly this range: see the file's comment),
 * which the page-by-page model does page by page before mapping each.
 */
static void map_step(struct mdb_op *op, pgt_vaddr_t va, pgt_vaddr_t dva, unsigned level)
{
	struct node *s = node_at(op->src, va);

	if (!s)
		return;
	flush_destination(op, dva, level); /* may remove s, when it is a page that came from dva */
	if (!(s->state & NODE_DEAD))
		node_new(op, s, level, dva, va, s->pa + (va - s->va), derived_prot(s->prot, op->prot));
}

/**
 * The model's grant1: the receiver takes the sender's place under its
 * origin m (physical memory when the sender is a root), then the sender
 * goes. Dead nodes stay readable until the call ends, so m may be checked
 * after the destination flush. The sender is a whole leaf of @p level
 * (PREPARE split the others).
 */
static void grant_step(struct mdb_op *op, pgt_vaddr_t va, pgt_vaddr_t dva, unsigned level)
{
	struct node *s = node_at(op->src, va);

	if (!s)
		return;
	PGT_ASSERT(s->va == va && s->level == level);
	struct node *m = s->parent;
	unsigned rho = s->prot;
	pgt_vaddr_t pva = s->pva;
	pgt_paddr_t pa = s->pa;
	flush_destination(op, dva, level);
	if (!m || !(m->state & NODE_DEAD))
		node_new(op, m, level, dva, pva, pa, derived_prot(rho, op->prot));
	(void)revoke_at(op, op->src, va, MDB_RIGHTS, true);
}

/** The model's map_phys1 for the leaf of @p level at @p dva. */
static void phys_step(struct mdb_op *op, pgt_vaddr_t dva, pgt_paddr_t pa, unsigned level)
{
	flush_destination(op, dva, level);
	node_new(op, NULL, level, dva, 0, pa, op->prot);
}

/* ------------------------------------------------------------------------ */
/* The call's memory hooks                                                   */

/** A table of the space, by the caller's own p2v. */
static pgt_pte_t *orig_p2v(const struct attached *a, pgt_paddr_t pa)
{
	if (a->orig.p2v)
		return a->orig.p2v(a->orig.ctx, pa);
	/* The caller's constant p2v offset: a table's address is its physical address plus it. */
	// NOLINTNEXTLINE(performance-no-int-to-ptr)
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
	(void)pgt__list_pop(&a->pool[level], pgt__list_at(a->sp, level), &pa);
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
	pgt__list_push(&a->dead[level], pgt__list_at(a->sp, level), orig_p2v(a, pa), pa);
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
		mark_restore(op->db, a->sp); /* a split of a leaf in root entry 0 clears the word */
		pgt__list_retire_all(a->sp, a->dead);
		pgt__list_free_all(a->sp, a->pool);
	}
}

/* ------------------------------------------------------------------------ */
/* PREPARE: what the call needs                                              */

/**
 * Marks the superpage @p x and every superpage derived from it for
 * splitting, in pre-order, onto the call's split list. Pages have no
 * superpage below them (a child is never larger than its parent), and a
 * marked node's subtree is marked already: neither is entered.
 */
static void mark_split(struct mdb_op *op, struct node *x)
{
	for (struct node *d = x; d;) {
		bool fresh = d->level > 0 && !(d->state & NODE_SPLIT);
		if (fresh) {
			d->state |= NODE_SPLIT;
			d->split = NULL;
			*op->tail = d;
			op->tail = &d->split;
		}
		d = preorder_next(x, d, fresh);
	}
}

/** Unmarks what mark_split marked: the call failed. */
static void unmark_all(struct mdb_op *op)
{
	for (struct node *x = op->split; x; x = x->split)
		x->state &= ~NODE_SPLIT;
	op->split = NULL;
	op->tail = &op->split;
}

/** Whether the level-@p level entry for @p va, and everything above it down the walk, holds nothing. */
static bool region_empty(const pgt_space_t *sp, pgt_vaddr_t va, unsigned level)
{
	const pgt_pte_t *tab = sp->pgt__root;

	for (unsigned l = pgt__root_level(sp);; l--) {
		const struct pgt_level *L = pgt__level(sp, l);
		pgt_pte_t pte = pgt__pte_load(&tab[pgt__index(L, va)]);
		enum pgt__kind kind = pgt__classify(L, l, pte);
		if (kind == PGT__EMPTY)
			return true;
		if (l == level || kind != PGT__TABLE)
			return false;
		tab = pgt__next_table(sp, L, pte);
		if (!tab)
			return false;
	}
}

/** Whether source node @p s covers [sv, sv+S) as the call needs for a superpage there. */
static bool source_fits(const struct mdb_op *op, const struct node *s, pgt_vaddr_t sv, uint64_t S)
{
	if (op->kind == KIND_GRANT) /* the sender goes whole */
		return s->va == sv && node_size(s) == S;
	return sv - s->va < node_size(s) && sv - s->va + S <= node_size(s);
}

/**
 * The level of the destination leaf the call makes at offset @p off: a
 * superpage level when a whole source leaf (or physical memory) of that
 * size, aligned on both sides, goes there; else 0 (a page). Where the
 * destination holds mappings, the step's flush empties the range first and
 * cannot touch the source (map_step), so the superpage is the page-by-page
 * result too. The root level as well, where the format allows leaves
 * there (in root entry 0 too: its leaf takes the mark's word, mark_word).
 * Reads only; PREPARE and its reservations ask it in the same order and
 * get the same answers (the splits between them empty no range and fill
 * none).
 */
static unsigned plan_level(const struct mdb_op *op, uint64_t off)
{
	pgt_vaddr_t d = op->dva + off, sv = op->va + off;
	struct node *s = NULL;

	if (!op->whole)
		return 0;
	if (op->kind != KIND_PHYS) {
		s = node_at(op->src, sv);
		if (!s || s->level == 0 || (s->state & NODE_SPLIT))
			return 0;
	}
	for (unsigned l = pgt__root_level(op->dst) + 1; l-- > 1;) {
		uint64_t S = level_size(op->dst, l);
		pgt_vaddr_t from = op->kind == KIND_PHYS ? op->pa + off : sv;
		if (!pgt__level(op->dst, l)->leaf_ok || S > op->size - off || (d & (S - 1)) ||
		    (from & (S - 1)))
			continue;
		if (!s || source_fits(op, s, sv, S))
			return l;
	}
	return 0;
}

/** Marks every superpage with a leaf in [va, va+size) of @p sp (grant sources: those not moved whole). */
static void mark_range(struct mdb_op *op, pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, bool grant_source)
{
	for (uint64_t off = 0; off < size;) {
		struct node *n = node_at(sp, va + off);
		if (!n) {
			off = stride_end(sp, va + off) - va;
			continue;
		}
		if (n->level > 0 && !(grant_source && n->va - va < size && plan_level(op, n->va - va) > 0))
			mark_split(op, n);
		off = n->va + node_size(n) - va;
	}
}

/**
 * Whether the destination leaf of @p n lies inside a superpage the call
 * plans (as the marks stand): that step flushes the superpage's range
 * whole, so @p n goes whole and need not be split. Steps are aligned to
 * their size, so a planned leaf holding @p n starts at @p n's address
 * rounded down to the leaf's size; tried from the largest size down, such
 * an address that no larger planned leaf covers starts a step.
 */
static bool inside_planned(const struct mdb_op *op, const struct node *n)
{
	for (unsigned l = pgt__root_level(op->dst); l >= n->level && l > 0; l--) {
		uint64_t S = level_size(op->dst, l);
		pgt_vaddr_t start = n->va & ~(S - 1);
		uint64_t off = start - op->dva;
		if (start < op->dva || off >= op->size || S > op->size - off)
			continue;
		if (plan_level(op, off) == l)
			return true;
	}
	return false;
}

/**
 * Marks every superpage of the destination range that no planned
 * superpage covers (those are flushed whole); returns whether it marked
 * one. A mark may split a source that a planned superpage needed whole
 * (one derived from a marked superpage), and then that step takes pages:
 * so the caller repeats until nothing more is marked (marks only grow).
 */
static bool mark_destination(struct mdb_op *op)
{
	bool marked = false;

	for (uint64_t off = 0; off < op->size;) {
		struct node *n = node_at(op->dst, op->dva + off);
		if (!n) {
			off = stride_end(op->dst, op->dva + off) - op->dva;
			continue;
		}
		if (n->level > 0 && !(n->state & NODE_SPLIT) && !inside_planned(op, n)) {
			mark_split(op, n);
			marked = true;
		}
		off = n->va + node_size(n) - op->dva;
	}
	return marked;
}

/** Marks a superpage holding @p va that the range [lo, last] cuts. */
static void mark_cut(struct mdb_op *op, pgt_space_t *sp, pgt_vaddr_t va, pgt_vaddr_t lo, pgt_vaddr_t last)
{
	struct node *n = node_at(sp, va);

	if (n && n->level > 0 && (n->va < lo || last - n->va < node_size(n) - 1))
		mark_split(op, n);
}

/**
 * Marks the superpages the call would otherwise cut: for a revocation,
 * those at the ends of its range; for the others, every one in the
 * destination range that a step flushes page by page (not those inside a
 * planned superpage), the grant's senders that do not go whole, and, for
 * ranges that overlap in one space, every one in either range.
 */
static void mark_cuts(struct mdb_op *op)
{
	pgt_vaddr_t last = op->dva + (op->size - 1);

	if (op->kind == KIND_REVOKE) {
		mark_cut(op, op->dst, op->dva, op->dva, last);
		mark_cut(op, op->dst, last, op->dva, last);
		return;
	}
	(void)mark_destination(op);
	if (op->kind == KIND_GRANT || (op->kind == KIND_MAP && !op->whole))
		mark_range(op, op->src, op->va, op->size, op->kind == KIND_GRANT && op->whole);
	while (mark_destination(op))
		;
}

/**
 * Counts the tables a reservation of a leaf at @p level for @p va lacks,
 * by level, into the destination's needs; @p last holds the span of the
 * last table counted per level (pages come in ascending order, and a
 * missing table serves its whole span). A leaf above @p level in the way
 * is a superpage being split (which brings its own tables); PGT_EINVAL
 * for anything else (a space edited behind the database's back).
 */
static int count_missing(struct mdb_op *op, pgt_vaddr_t va, unsigned level, uint64_t last[])
{
	const pgt_space_t *sp = op->dst;
	const pgt_pte_t *tab = sp->pgt__root;
	uint64_t o = pgt__va_offset(sp, va);

	for (unsigned l = pgt__root_level(sp); l > level; l--) {
		const struct pgt_level *L = pgt__level(sp, l);
		pgt_pte_t pte = pgt__pte_load(&tab[pgt__index(L, va)]);
		enum pgt__kind kind = pgt__classify(L, l, pte);
		if (kind == PGT__EMPTY) {
			for (unsigned m = level; m < l; m++) {
				const struct pgt_level *M = pgt__level(sp, m);
				if ((o >> (M->shift + M->bits)) != last[m]) {
					op->home->need[m]++;
					last[m] = o >> (M->shift + M->bits);
				}
			}
			return PGT_OK;
		}
		if (kind != PGT__TABLE) {
			struct node *n = node_at(op->dst, va);
			return n && (n->state & NODE_SPLIT) ? PGT_OK : PGT_EINVAL;
		}
		tab = pgt__next_table(sp, L, pte);
		if (!tab)
			return PGT_EINVAL;
	}
	return PGT_OK;
}

/**
 * Counts the tables a superpage of @p level planned at @p va over what the
 * destination holds may need in APPLY: removing the leaves it covers first
 * may free every table of its path below the root (the emptied tables go),
 * and then its leaf needs them again. One per level and span (@p last, as
 * count_missing's): the first superpage made there brings the table back.
 */
static void count_vanishing(struct mdb_op *op, pgt_vaddr_t va, unsigned level, uint64_t last[])
{
	const pgt_space_t *sp = op->dst;
	uint64_t o = pgt__va_offset(sp, va);

	for (unsigned m = level; m < pgt__root_level(sp); m++) {
		const struct pgt_level *M = pgt__level(sp, m);
		if ((o >> (M->shift + M->bits)) != last[m]) {
			op->home->need[m]++;
			last[m] = o >> (M->shift + M->bits);
		}
	}
}

/** Counts the nodes and tables of the destination's leaves, in the order DECIDE makes them. */
static int count_destination(struct mdb_op *op)
{
	uint64_t last[PGT_MAX_LEVELS], gone[PGT_MAX_LEVELS];

	for (unsigned l = 0; l < PGT_MAX_LEVELS; l++)
		last[l] = gone[l] = ~0ull;
	for (uint64_t off = 0; off < op->size;) {
		unsigned level = plan_level(op, off);
		int rc = count_missing(op, op->dva + off, level, last);
		if (rc != PGT_OK)
			return rc;
		if (level > 0 && !region_empty(op->dst, op->dva + off, level))
			count_vanishing(op, op->dva + off, level, gone);
		op->nodes++;
		off += level_size(op->dst, level);
	}
	return PGT_OK;
}

/** Counts the pieces and tables of the marked superpages: each becomes smallest pages. */
static void count_splits(struct mdb_op *op)
{
	for (struct node *x = op->split; x; x = x->split) {
		uint64_t size = node_size(x);
		op->nodes += size / page_size(x->sp);
		for (unsigned l = 0; l < x->level; l++)
			x->home->need[l] += size >> x->sp->pgt__arch->level[l + 1].shift;
	}
}

/* ------------------------------------------------------------------------ */
/* PREPARE: taking it                                                        */

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

/** Takes the call's nodes from the caller into the pool: all or none. */
static int pool_fill(struct mdb_op *op)
{
	const struct pgt_mdb_mm *mm = &op->db->pgt__mm;

	for (uint64_t i = 0; i < op->nodes; i++) {
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

/** Takes the tables @p a's space needs from the caller, into its (empty) pool: all or none. */
static int tables_fill(struct attached *a)
{
	int rc = pgt__pool_fill(a->sp, a->pool, a->need);

	for (unsigned l = 0; l < PGT_MAX_LEVELS; l++)
		a->need[l] = 0;
	return rc;
}

/** Takes every counted table and node: all or none (then the marks go too). */
static int take_all(struct mdb_op *op)
{
	int rc = pool_fill(op);

	for (struct attached *a = op->db->pgt__spaces; a && rc == PGT_OK; a = a->next)
		rc = tables_fill(a);
	if (rc == PGT_OK)
		return PGT_OK;
	for (struct attached *a = op->db->pgt__spaces; a; a = a->next) {
		pgt__list_free_all(a->sp, a->pool);
		for (unsigned l = 0; l < PGT_MAX_LEVELS; l++)
			a->need[l] = 0;
	}
	pool_release(op);
	unmark_all(op);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* PREPARE: splitting and reserving (cannot fail)                            */

/** The parent of a piece from @p pva of a node whose parent was @p parent (which may be split already). */
static struct node *piece_parent(struct node *parent, pgt_vaddr_t pva)
{
	if (!parent || !(parent->state & NODE_SPENT))
		return parent;
	return node_at(parent->sp, pva);
}

/**
 * Splits the superpage @p x into smallest pages: its leaf (the splits
 * pgt_protect makes, page by page, so no operation needs more than a few
 * words of memory of its own; the pieces keep the accessed and dirty
 * bits) and its node (one piece per page, under the matching piece of a
 * split parent). Children that are pages go under
 * their piece; superpage children are marked and split later, and find
 * their pieces' parents through the link words.
 */
static void split_node(struct mdb_op *op, struct node *x)
{
	pgt_space_t *sp = x->sp;
	uint64_t pg = page_size(sp), size = node_size(x);
	struct node *parent = x->parent;

	hooks_take(op, x->home);
	x->home->now = true; /* a format with break-before-make flushes each split at once */
	for (uint64_t off = 0; off < size; off += pg) {
		/* same rights, one page: splits whatever still holds the page, one table per level */
		int rc = pgt_protect(sp, x->va + off, pg, x->prot);
		PGT_ASSERT(rc == PGT_OK); /* the tables are in the pool */
		(void)rc;
	}
	x->home->now = false;
	if (parent && (parent->state & NODE_SPENT))
		x->parent = NULL; /* never among the spent parent's children */
	else
		orphan(x);
	for (uint64_t off = 0; off < size; off += pg) {
		struct node *p = node_take(op, x->home, 0, x->va + off, x->pa + off, x->prot);
		p->pva = parent ? x->pva + off : 0;
		adopt(piece_parent(parent, p->pva), p);
	}
	while (x->child) {
		struct node *c = x->child;
		orphan(c);
		if (c->state & NODE_SPLIT)
			c->parent = x; /* not among x's children: read by its own split */
		else
			adopt(node_at(sp, c->pva), c);
	}
	x->state |= NODE_SPENT;
	op->db->pgt__nodes--;
}

/**
 * Plans a superpage of @p level at @p dva over what the destination holds:
 * its node comes from the pool now, and waits on the call's planned list
 * (ascending, as DECIDE meets them) for the step that makes it.
 */
static void plan_pending(struct mdb_op *op, pgt_vaddr_t dva, unsigned level)
{
	struct node *n = op->pool;

	PGT_ASSERT(n != NULL); /* count_destination counted one node per leaf */
	op->pool = n->work;
	n->sp = op->dst;
	n->va = dva;
	n->level = level;
	n->work = NULL;
	*op->planned_tail = n;
	op->planned_tail = &n->work;
}

/**
 * Reserves the destination's leaves where there are none, as
 * count_destination counted them; plans the superpages that go over what
 * the destination holds.
 */
static void reserve_destination(struct mdb_op *op)
{
	hooks_take(op, op->home);
	op->reserved = true;
	op->planned_tail = &op->planned;
	for (uint64_t off = 0; off < op->size;) {
		unsigned level = plan_level(op, off);
		pgt_vaddr_t dva = op->dva + off;
		if (level > 0 && !region_empty(op->dst, dva, level)) {
			plan_pending(op, dva, level);
		} else {
			int rc = pgt_insert(op->dst, dva, op->dst->pgt__arch->level[level].shift, NULL);
			PGT_ASSERT(rc >= 0); /* the tables are in the pool */
			(void)rc;
			if (level == pgt__root_level(op->dst))
				link_set(op->dst, dva, NULL); /* in root entry 0 the word held the mark */
		}
		off += level_size(op->dst, level);
	}
}

/**
 * PREPARE: marks the cuts, counts, takes everything (the only step that
 * may fail), then splits and reserves.
 */
static int prepare(struct mdb_op *op)
{
	int rc = PGT_OK;

	op->tail = &op->split;
	mark_cuts(op);
	count_splits(op);
	if (op->kind != KIND_REVOKE)
		rc = count_destination(op);
	if (rc != PGT_OK) {
		for (struct attached *a = op->db->pgt__spaces; a; a = a->next)
			for (unsigned l = 0; l < PGT_MAX_LEVELS; l++)
				a->need[l] = 0;
		unmark_all(op);
		return rc;
	}
	rc = take_all(op);
	if (rc != PGT_OK)
		return rc;
	for (struct node *x = op->split; x; x = x->split)
		split_node(op, x);
	if (op->kind != KIND_REVOKE)
		reserve_destination(op);
	return PGT_OK;
}

/* ------------------------------------------------------------------------ */
/* DECIDE                                                                    */

/** The level of the superpage PREPARE reserved at @p dva for the call, or 0 (a page). */
static unsigned reserved_level(struct mdb_op *op, pgt_vaddr_t dva)
{
	pgt_ref_t ref;

	if (!leaf_at(op->dst, dva, &ref) || ref.level == 0 || leaf_base(ref, dva) != dva)
		return 0;
	return leaf_reserved(op->dst, ref) && !node_at(op->dst, dva) ? ref.level : 0;
}

/** Gives a pending superpage's node back to the pool: its step made nothing (the sender went). */
static void unplan(struct mdb_op *op)
{
	struct node *n = op->planned;

	op->planned = n->work;
	n->work = op->pool;
	op->pool = n;
}

/** map, grant and map_phys: each destination leaf in ascending order. */
static void decide_transfer(struct mdb_op *op)
{
	for (uint64_t off = 0; off < op->size;) {
		pgt_vaddr_t dva = op->dva + off;
		unsigned level =
			op->planned && op->planned->va == dva ? op->planned->level : reserved_level(op, dva);
		if (op->kind == KIND_MAP)
			map_step(op, op->va + off, op->dva + off, level);
		else if (op->kind == KIND_GRANT)
			grant_step(op, op->va + off, op->dva + off, level);
		else
			phys_step(op, op->dva + off, op->pa + off, level);
		if (planned_at(op, op->dst, dva, level))
			unplan(op);
		off += level_size(op->dst, level);
	}
}

/** unmap and flush: each leaf of the range (whole: PREPARE split those it cuts). */
static void decide_revoke(struct mdb_op *op)
{
	for (uint64_t off = 0; off < op->size;)
		off = revoke_at(op, op->dst, op->dva + off, op->prot, op->self) - op->dva;
}

/* ------------------------------------------------------------------------ */
/* APPLY                                                                     */

/** Removes the leaf [va, va+size) of @p a's space: a whole leaf needs no table. */
static void unmap_leaf(struct mdb_op *op, struct attached *a, pgt_vaddr_t va, uint64_t size)
{
	hooks_take(op, a);
	int rc = pgt_unmap(a->sp, va, size);
	PGT_ASSERT(rc == PGT_OK);
	(void)rc;
	/* unmap may free the table or the leaf in root entry 0, and clear the mark with the word */
	mark_restore(op->db, a->sp);
}

/** Makes the leaf of the live node @p n say what @p n says; keeps its link word. */
static void write_leaf(struct mdb_op *op, struct node *n)
{
	uint64_t size = node_size(n), pa = PGT_PADDR_NONE, prot = 0;
	pgt_ref_t ref;
	int rc;

	hooks_take(op, n->home);
	if (leaf_at(n->sp, n->va, &ref) && ref.level == n->level) {
		(void)pgt_get_field(n->sp, ref, PGT_FIELD_PADDR, &pa);
		(void)pgt_get_field(n->sp, ref, PGT_FIELD_PROT, &prot);
	}
	/* Same page: new rights in place. Another page, or a reserved leaf: replace it. */
	if ((prot & MDB_RIGHTS) && pa == n->pa) {
		rc = pgt_protect(n->sp, n->va, size, n->prot);
	} else {
		n->home->now = true; /* break-before-make flushes between its two stores */
		rc = pgt_map(n->sp, n->va, n->pa, size, n->prot,
			     (n->level ? 0 : PGT_MAP_NOSUPER) | PGT_MAP_REPLACE);
		n->home->now = false;
	}
	PGT_ASSERT(rc == PGT_OK); /* the leaf exists: no table needed */
	(void)rc;
	link_set(n->sp, n->va, n); /* a replacing map clears the word */
}

/** Removes the leaf of a dead node, unless a live node took it. */
static void remove_leaf(struct mdb_op *op, struct node *n)
{
	pgt_ref_t ref;

	if (leaf_at(n->sp, n->va, &ref) && ref.level == n->level && !node_at(n->sp, n->va))
		unmap_leaf(op, n->home, n->va, node_size(n));
}

/**
 * Removes the reserved leaves left in the destination range: those PREPARE
 * made and no node took. Attached spaces hold no reserved leaf otherwise.
 */
static void reserved_release(struct mdb_op *op)
{
	for (uint64_t off = 0; op->reserved && off < op->size;) {
		pgt_ref_t ref;
		pgt_vaddr_t va = op->dva + off;
		uint64_t step = stride_end(op->dst, va) - va;
		if (leaf_at(op->dst, va, &ref)) {
			step = (1ull << ref.page_shift) - (va - leaf_base(ref, va));
			if (leaf_reserved(op->dst, ref))
				unmap_leaf(op, op->home, leaf_base(ref, va), 1ull << ref.page_shift);
		}
		off += step;
	}
}

/** Gives nodes the call is done with back: the dead, and the split superpages. */
static void nodes_release(struct mdb_op *op)
{
	const struct pgt_mdb_mm *mm = &op->db->pgt__mm;

	while (op->touched) {
		struct node *n = op->touched;
		op->touched = n->work;
		if (n->state & NODE_DEAD)
			mm->free_node(mm->ctx, n, sizeof *n);
		else
			n->state = 0;
	}
	while (op->split) {
		struct node *x = op->split;
		op->split = x->split;
		mm->free_node(mm->ctx, x, sizeof *x);
	}
	while (op->planned)
		unplan(op);
	pool_release(op);
}

/** Whether [lo, last] and the @p size bytes at @p va overlap. */
static bool meets(pgt_vaddr_t lo, pgt_vaddr_t last, pgt_vaddr_t va, uint64_t size)
{
	return va <= last && lo <= va + (size - 1);
}

/**
 * Makes the leaf of a pending superpage, once the leaves it covers are
 * gone (with every table they emptied: the leaf then replaces nothing,
 * whatever the size, and the tables its path lost come from the pool,
 * count_vanishing). Where the format breaks before it makes, the TLB
 * entries of what was there go first: a larger leaf may not meet them.
 */
static void write_pending(struct mdb_op *op, struct node *n)
{
	struct attached *a = n->home;
	uint64_t size = node_size(n);

	hooks_take(op, a);
	if (n->sp->pgt__arch->break_before_make && a->flush && a->orig.tlb_flush &&
	    meets(a->flush_lo, a->flush_last, n->va, size))
		a->orig.tlb_flush(a->orig.ctx, n->va, size);
	write_leaf(op, n);
}

/**
 * APPLY: live leaves first (they exist: no table needed), then removals,
 * then the pending superpages over what the removals cleared, then the
 * nodes go back.
 */
static void apply(struct mdb_op *op)
{
	for (struct node *n = op->touched; n; n = n->work)
		if (!(n->state & (NODE_DEAD | NODE_PENDING)))
			write_leaf(op, n);
	for (struct node *n = op->touched; n; n = n->work)
		if (n->state & NODE_DEAD)
			remove_leaf(op, n);
	for (struct node *n = op->touched; n; n = n->work)
		if ((n->state & (NODE_DEAD | NODE_PENDING)) == NODE_PENDING)
			write_pending(op, n);
	reserved_release(op);
	hooks_give_back(op);
	nodes_release(op);
}

/** A whole call: PREPARE, DECIDE, APPLY. */
static int run(struct mdb_op *op)
{
	int rc = prepare(op);

	if (rc != PGT_OK)
		return rc;
	if (op->kind == KIND_REVOKE)
		decide_revoke(op);
	else
		decide_transfer(op);
	apply(op);
	return PGT_OK;
}

/* ------------------------------------------------------------------------ */
/* Argument checks                                                           */

/** A map, grant or map_phys prot: READ and defined bits; @p memtype allowed for map_phys only. */
static int prot_check(const pgt_space_t *sp, unsigned prot, bool memtype)
{
	pgt_pte_t bits;

	if (!pgt__prot_ok(prot) || (!memtype && (prot & MDB_MEMTYPE)) || !(prot & MDB_RIGHTS))
		return PGT_EINVAL;
	if (!(prot & PGT_PROT_READ))
		return PGT_ENOTSUP;
	return sp->pgt__arch->prot_encode(0, prot, &bits);
}

/** Checks a transfer between two attached spaces (size 0: PGT_OK, nothing to do). */
static int transfer_check(const pgt_mdb_t *db, const pgt_space_t *src, pgt_vaddr_t va, const pgt_space_t *dst,
			  pgt_vaddr_t dva, uint64_t size, unsigned prot)
{
	if (!db_ok(db) || !attached_ok(db, src) || !attached_ok(db, dst))
		return PGT_EINVAL;
	if (size == 0)
		return PGT_OK;
	if (page_size(src) != page_size(dst))
		return PGT_EINVAL;
	int rc = range_check(src, va, size);
	if (rc == PGT_OK)
		rc = range_check(dst, dva, size);
	return rc == PGT_OK ? prot_check(dst, prot, false) : rc;
}

/** Whether [a, a+size) and [b, b+size) overlap. */
static bool overlap(pgt_vaddr_t a, pgt_vaddr_t b, uint64_t size)
{
	return a - b < size || b - a < size;
}

/** pgt_mdb_map and pgt_mdb_grant. */
static int transfer(pgt_mdb_t *db, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst, pgt_vaddr_t dva,
		    uint64_t size, unsigned prot, enum mdb_kind kind)
{
	int rc = transfer_check(db, src, va, dst, dva, size, prot);

	if (rc != PGT_OK || size == 0)
		return rc;
	struct mdb_op op = { .db = db,
			     .kind = kind,
			     .src = src,
			     .dst = dst,
			     .va = va,
			     .dva = dva,
			     .size = size,
			     .prot = prot,
			     .home = attachment(db, dst) };
	/* within one space, pages the call makes may be sources of its later steps: pages only */
	op.whole = src != dst || !overlap(va, dva, size);
	return run(&op);
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
	if (!db_ok(db) || !pgt__space_writable(sp) || !(sp->pgt__flags & PGT_SPACE_LINKS))
		return PGT_EINVAL;
	if (*mark_word(sp) != 0 || attachment(db, sp))
		return PGT_EINVAL; /* attached here or to another database */
	if (pgt_walk_all(sp, any_mapping, NULL) != PGT_OK)
		return PGT_EINVAL;
	struct attached *a = db->pgt__mm.alloc_node(db->pgt__mm.ctx, sizeof *a);
	if (!a)
		return PGT_ENOMEM;
	*a = (struct attached){ .sp = sp, .next = db->pgt__spaces };
	db->pgt__spaces = a;
	*mark_word(sp) = mark_of(db);
	return PGT_OK;
}

/** pgt_walk visitor for detach: flushes each leaf the space holds (DECIDE only: tables stay). */
static int flush_visit(void *arg, const struct pgt_mapping *m)
{
	struct mdb_op *op = arg;

	(void)revoke_at(op, op->dst, m->va, MDB_RIGHTS, true);
	return 0;
}

/** Flushes everything @p a's space holds and forgets the space. */
static void detach_now(pgt_mdb_t *db, struct attached *a)
{
	struct mdb_op op = { .db = db, .kind = KIND_REVOKE, .dst = a->sp };
	struct attached **pp = (struct attached **)&db->pgt__spaces;

	op.tail = &op.split;
	(void)pgt_walk_all(a->sp, flush_visit, &op);
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
	if (!db_ok(db) || !attached_ok(db, sp))
		return PGT_EINVAL;
	if (size == 0)
		return PGT_OK;
	uint64_t pg = page_size(sp);
	int rc = range_check(sp, va, size);
	if (rc != PGT_OK)
		return rc;
	if (pa & (pg - 1))
		return PGT_EALIGN;
	if (pa + (size - pg) < pa)
		return PGT_EWRAP;
	if (!pgt__leaf_oa_fits(pgt__level(sp, 0), pa + (size - pg)))
		return PGT_ERANGE;
	rc = prot_check(sp, prot, true);
	if (rc != PGT_OK)
		return rc;
	struct mdb_op op = { .db = db,
			     .kind = KIND_PHYS,
			     .dst = sp,
			     .dva = va,
			     .pa = pa,
			     .size = size,
			     .prot = prot,
			     .whole = true,
			     .home = attachment(db, sp) };
	return run(&op);
}

int pgt_mdb_map(pgt_mdb_t *db, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst, pgt_vaddr_t dva,
		uint64_t size, unsigned prot)
{
	return transfer(db, src, va, dst, dva, size, prot, KIND_MAP);
}

int pgt_mdb_grant(pgt_mdb_t *db, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst, pgt_vaddr_t dva,
		  uint64_t size, unsigned prot)
{
	return transfer(db, src, va, dst, dva, size, prot, KIND_GRANT);
}

/** pgt_mdb_unmap (not @p self) and pgt_mdb_flush (@p self). */
static int revoke(pgt_mdb_t *db, pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot, bool self)
{
	if (!db_ok(db) || !attached_ok(db, sp))
		return PGT_EINVAL;
	if (size == 0)
		return PGT_OK;
	int rc = range_check(sp, va, size);
	if (rc != PGT_OK)
		return rc;
	if (prot & ~MDB_RIGHTS)
		return PGT_EINVAL;
	if (prot == 0)
		return PGT_OK;
	struct mdb_op op = {
		.db = db, .kind = KIND_REVOKE, .dst = sp, .dva = va, .size = size, .prot = prot, .self = self
	};
	return run(&op);
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
	if (!db_ok(db) || !out || !attached_ok(db, sp))
		return PGT_EINVAL;
	if (!pgt__va_ok(sp, va))
		return PGT_ERANGE;
	pgt_vaddr_t page = va & ~(page_size(sp) - 1);
	struct node *n = node_at(sp, page);
	if (!n)
		return PGT_ENOENT;
	*out = (struct pgt_mdb_origin){ .space = n->parent ? n->parent->sp : NULL,
					.va = n->parent ? n->pva + (page - n->va) : 0,
					.pa = n->pa + (page - n->va),
					.prot = n->prot };
	for (struct node *p = n->parent; p; p = p->parent)
		out->depth++;
	return PGT_OK;
}

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
	return attached_ok(c->db, n->sp) && !(n->state & (NODE_DEAD | NODE_SPENT)) &&
	       node_at(n->sp, n->va) == n;
}

/** Whether @p k's pages lie inside its parent @p p and translate where p's do. */
static bool inside_parent(const struct node *k, const struct node *p)
{
	uint64_t off = k->pva - p->va;

	return off < node_size(p) && node_size(k) <= node_size(p) - off && k->pa == p->pa + off;
}

/**
 * Theorems 1 and 2 for @p n: following origins ends at a root (physical
 * memory) within as many steps as there are nodes, through placed nodes
 * whose rights contain the child's, each page inside its parent's and
 * translating where the parent's corresponding page does.
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
		if (!inside_parent(k, p) || (k->prot & MDB_MEMTYPE) != (p->prot & MDB_MEMTYPE))
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
	struct node *n = node_at(c->sp, m->va);

	if (!n) {
		problem(c, "leaf without a node", c->sp, m->va);
		return 0;
	}
	c->nodes++;
	if (n->sp != c->sp || n->va != m->va || n->level != m->level || (n->state & (NODE_DEAD | NODE_SPENT)))
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
		if (!root_leaf_0(a->sp) && *mark_word(a->sp) != mark_of(db))
			problem(&c, "attachment mark lost", a->sp, 0);
		if (pgt_walk_all(a->sp, check_leaf, &c) != PGT_OK)
			problem(&c, "space cannot be walked", a->sp, 0);
	}
	if (c.nodes != db->pgt__nodes)
		problem(&c, "live node count differs from the leaves", NULL, 0);
	return c.problems;
}
