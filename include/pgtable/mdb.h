/* SPDX-License-Identifier: MIT */
/**
 * @file mdb.h
 * @brief The L4 mapping database: map, grant, unmap and flush across spaces.
 *
 * The address-space model of L4 (seed 001, section 3) over real page
 * tables. Pages go from one space to another by map (the receiver's page
 * depends on the sender's) and grant (the receiver takes the sender's
 * place); unmap and flush take rights away from every mapping that depends
 * on a page, in every space, transitively. The database keeps one node per
 * leaf entry, reached from the entry through its link word (section 4.1),
 * so revocation follows the derivation tree and never scans spaces.
 *
 * A "page" is a page of the descriptor's smallest size: the semantics are
 * page by page. Leaves may be larger: a whole, aligned source leaf (or
 * physical range) sent to an aligned destination range becomes one leaf
 * and one node of the same size (a 1 GiB origin mapped elsewhere costs one
 * node), whatever the destination held there (flushed first, as the page
 * by page semantics say) and in any root entry, where the format allows
 * leaves in the root; a call that cuts a superpage first splits
 * it, and every superpage derived from it, into pages. Node memory
 * is the caller's, as table memory is: the library never allocates by itself.
 *
 * Every mutating call is all-or-nothing: on any failure (bad argument,
 * PGT_ENOMEM for tables or nodes) every space, every node and every
 * tlb_flush hook call is as before the call.
 *
 * Calls on one database run one at a time, and while a call edits a space
 * no other thread may read that space with pgt_lookup, pgt_translate or
 * pgt_walk (the MMU may: it reads only the tables).
 */
#ifndef PGTABLE_MDB_H
#define PGTABLE_MDB_H

#include <pgtable/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The caller's node memory hooks. The database copies this struct at init. */
struct pgt_mdb_mm {
	/** Returns @p size bytes aligned for any object, or NULL when out of memory. */
	void *(*alloc_node)(void *ctx, size_t size);
	/** Gives back memory from alloc_node, with the same size. */
	void (*free_node)(void *ctx, void *node, size_t size);
	void *ctx; /**< passed to both hooks */
};

/**
 * A mapping database. The caller owns the storage (embed it anywhere);
 * every field is private to the library.
 */
typedef struct pgt_mdb {
	struct pgt_mdb_mm pgt__mm; /**< private */
	void *pgt__spaces;         /**< private: the attached spaces */
	size_t pgt__nodes;         /**< private: live nodes */
	unsigned pgt__magic;       /**< private: set while initialised */
} pgt_mdb_t;

/** Where a page's mapping came from: sigma(n, v) of the model. */
struct pgt_mdb_origin {
	const pgt_space_t *space; /**< the parent's space; NULL: physical memory (map_phys) */
	pgt_vaddr_t va;           /**< the parent's page that corresponds to the asked page */
	pgt_paddr_t pa;           /**< where the page finally translates to */
	unsigned prot;            /**< this mapping's PGT_PROT_* */
	unsigned depth;           /**< 0 for a map_phys root, the parent's depth + 1 otherwise */
};

/**
 * Creates an empty database.
 * @param db  storage for the database
 * @param mm  node hooks; alloc_node and free_node are required
 * @return PGT_OK; PGT_EINVAL for NULL arguments or missing hooks (then
 *         @p db is left uninitialised).
 */
PGT_API int pgt_mdb_init(pgt_mdb_t *db, const struct pgt_mdb_mm *mm);

/**
 * Detaches every space still attached (each loses every page it holds, as
 * pgt_mdb_detach does), then forgets the database. NULL or an
 * uninitialised database is ignored.
 * @param db  the database; its storage stays the caller's
 */
PGT_API void pgt_mdb_destroy(pgt_mdb_t *db);

/**
 * Puts a space under the database: from now on it changes only through
 * the database's calls.
 * @param db  an initialised database
 * @param sp  an initialised space created with PGT_SPACE_LINKS that maps nothing
 * @return PGT_OK; PGT_EINVAL for NULL or uninitialised arguments, a space
 *         without PGT_SPACE_LINKS, already attached (to this database or
 *         another) or mapping something; PGT_ENOMEM when alloc_node fails
 *         (the database keeps one small record per space). Nothing changes
 *         on failure.
 */
PGT_API int pgt_mdb_attach(pgt_mdb_t *db, pgt_space_t *sp);

/**
 * Flushes every page @p sp holds (everything derived from them goes too,
 * in every space) and takes the space out of the database; it is then
 * empty and may be destroyed or attached again.
 * @param db  an initialised database
 * @param sp  a space attached to @p db
 * @return PGT_OK; PGT_EINVAL for NULL or uninitialised arguments or a
 *         space not attached to @p db (nothing changes). Cannot fail
 *         otherwise: it removes whole leaves only, which needs no memory.
 */
PGT_API int pgt_mdb_detach(pgt_mdb_t *db, pgt_space_t *sp);

/**
 * Hands physical memory to a space (sigma0): each page of [va, va+size)
 * is flushed, then becomes a root of the derivation forest translating to
 * the corresponding page of [pa, pa+size) with @p prot. Handing the same
 * physical page out twice is allowed.
 * @param db    an initialised database
 * @param sp    a space attached to @p db
 * @param va    start, aligned to the smallest page
 * @param pa    physical start, aligned to the smallest page
 * @param size  bytes, a multiple of the smallest page; 0 changes nothing
 * @param prot  PGT_PROT_* bits, READ included; the memory type given here
 *              (PGT_PROT_UNCACHED) stays with the page wherever it goes
 * @return PGT_OK; PGT_ENOMEM (tables or nodes); PGT_ENOTSUP for WRITE or
 *         EXEC without READ; PGT_EALIGN, PGT_EWRAP or PGT_ERANGE for a
 *         range (or @p pa) misaligned, wrapping or outside the space (or
 *         the physical width); PGT_EINVAL for no right at all, unknown
 *         bits, a space not attached, or a destination page under a larger
 *         leaf (a space edited behind the database's back).
 *         All-or-nothing.
 */
PGT_API int pgt_mdb_map_phys(pgt_mdb_t *db, pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size,
			     unsigned prot);

/**
 * Maps [va, va+size) of @p src to [dva, dva+size) of @p dst, page by page
 * in ascending order (the model's map1): a source page that is not mapped
 * is skipped; otherwise the destination page is flushed (which removes the
 * source page too when it depended on the destination), and, if the
 * source page is still mapped, the destination page becomes its child with
 * rights @p prot & the source's, PGT_PROT_USER and PGT_PROT_GLOBAL from
 * @p prot and the memory type from the source. @p src == @p dst is allowed.
 * @param db    an initialised database
 * @param src   the sending space, attached to @p db
 * @param va    source start, aligned to the smallest page
 * @param dst   the receiving space, attached to @p db
 * @param dva   destination start, aligned to the smallest page
 * @param size  bytes, a multiple of the smallest page; 0 changes nothing
 * @param prot  PGT_PROT_READ, optionally with WRITE, EXEC, USER, GLOBAL
 * @return PGT_OK; PGT_ENOMEM (tables or nodes); PGT_ENOTSUP for WRITE or
 *         EXEC without READ; PGT_EALIGN, PGT_EWRAP or PGT_ERANGE for a
 *         range misaligned, wrapping or outside its space; PGT_EINVAL for
 *         no right at all, a memory type or unknown bits in @p prot,
 *         spaces not attached or of two page sizes, or a destination page
 *         under a larger leaf.
 *         All-or-nothing.
 */
PGT_API int pgt_mdb_map(pgt_mdb_t *db, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst, pgt_vaddr_t dva,
			uint64_t size, unsigned prot);

/**
 * Grants [va, va+size) of @p src to [dva, dva+size) of @p dst, page by
 * page in ascending order (the model's grant1): for a mapped source page
 * with origin m and rights r, the destination page is flushed; if m is
 * still mapped (always, for physical memory) the destination page takes
 * origin m with rights @p prot & r; then the source page is flushed (its
 * own derived mappings are revoked).
 * @param db    an initialised database
 * @param src   the granting space, attached to @p db
 * @param va    source start, aligned to the smallest page
 * @param dst   the receiving space, attached to @p db (may be @p src)
 * @param dva   destination start, aligned to the smallest page
 * @param size  bytes, a multiple of the smallest page; 0 changes nothing
 * @param prot  PGT_PROT_READ, optionally with WRITE, EXEC, USER, GLOBAL
 * @return as pgt_mdb_map. All-or-nothing.
 */
PGT_API int pgt_mdb_grant(pgt_mdb_t *db, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst, pgt_vaddr_t dva,
			  uint64_t size, unsigned prot);

/**
 * Takes the rights @p prot from every mapping derived (transitively) from
 * the pages of [va, va+size) of @p sp; the pages themselves keep theirs
 * (the model's unmap1). A mapping left without READ is removed, with
 * everything derived from it; one that loses WRITE or EXEC is downgraded.
 * @param db    an initialised database
 * @param sp    a space attached to @p db
 * @param va    start, aligned to the smallest page
 * @param size  bytes, a multiple of the smallest page; 0 changes nothing
 * @param prot  within PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC; 0
 *              changes nothing
 * @return PGT_OK; PGT_ENOMEM when a superpage the range cuts must be split
 *         and the node or table allocator fails; PGT_EALIGN, PGT_EWRAP or
 *         PGT_ERANGE for a range misaligned, wrapping or outside the space;
 *         PGT_EINVAL for other bits in @p prot or a space not attached.
 *         All-or-nothing.
 */
PGT_API int pgt_mdb_unmap(pgt_mdb_t *db, pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot);

/**
 * As pgt_mdb_unmap, and the pages of the range lose @p prot themselves
 * (the model's flush1; all three rights: the paper's flush).
 * @param db    an initialised database
 * @param sp    a space attached to @p db
 * @param va    start, aligned to the smallest page
 * @param size  bytes, a multiple of the smallest page; 0 changes nothing
 * @param prot  within PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC; 0
 *              changes nothing
 * @return as pgt_mdb_unmap.
 */
PGT_API int pgt_mdb_flush(pgt_mdb_t *db, pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot);

/**
 * Where the mapping of the page at @p va came from.
 * @param db   an initialised database
 * @param sp   a space attached to @p db
 * @param va   any address of the space
 * @param out  receives the origin
 * @return PGT_OK; PGT_ENOENT when the page is not mapped; PGT_ERANGE for a
 *         @p va outside the space; PGT_EINVAL for NULL or uninitialised
 *         arguments or a space not attached.
 */
PGT_API int pgt_mdb_origin(const pgt_mdb_t *db, const pgt_space_t *sp, pgt_vaddr_t va,
			   struct pgt_mdb_origin *out);

/**
 * Checks the database against the tables: origins form a forest (no
 * loops), every mapped page reaches physical memory through its origins,
 * each page's leaf translates to its origin chain's physical address with
 * the node's rights, rights shrink down every chain, every leaf of an
 * attached space has a node its link word names and that names it back,
 * no node's leaf is gone, and the live node count matches.
 * @param db      an initialised database
 * @param report  called once per problem (may be NULL), with the space
 *                and page concerned (NULL space for the database itself)
 * @param arg     passed to @p report
 * @return the number of problems (0: consistent), or PGT_EINVAL for a NULL
 *         or uninitialised database.
 */
PGT_API int pgt_mdb_verify(const pgt_mdb_t *db,
			   void (*report)(void *arg, const char *problem, const pgt_space_t *sp,
					  pgt_vaddr_t va),
			   void *arg);

#ifdef __cplusplus
}
#endif

#endif /* PGTABLE_MDB_H */
