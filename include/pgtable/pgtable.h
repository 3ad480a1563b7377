/* SPDX-License-Identifier: MIT */
/**
 * @file pgtable.h
 * @brief libpgtable: build, query and edit real multi-level hardware page tables.
 *
 * A space (pgt_space_t) is one page-table tree of one architecture, described
 * by a const descriptor (struct pgt_arch). Tables come from the caller's frame
 * allocator and are reached through the caller's physical-to-virtual hook, so
 * the library itself never allocates memory.
 *
 * Levels are numbered from the leaf: level 0 holds the smallest pages and the
 * root has the highest number.
 *
 * Every mutating call is all-or-nothing: on any error the space is exactly as
 * it was before the call and no table is leaked or freed twice. "As it was"
 * means every entry of every table in the tree and the allocator's books
 * (which frames it has handed out); a frame that the failed call obtained
 * from alloc_table and gave back to free_table may hold the library's
 * scratch data (cleared entries, a half-built branch).
 */
#ifndef PGTABLE_PGTABLE_H
#define PGTABLE_PGTABLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a symbol exported from the shared library; everything else is hidden. */
#if defined(PGT_BUILDING_LIBRARY) && defined(__GNUC__)
#define PGT_API __attribute__((visibility("default")))
#else
#define PGT_API
#endif

typedef uint64_t pgt_paddr_t; /**< physical address */
typedef uint64_t pgt_vaddr_t; /**< virtual address, in canonical form */
typedef uint64_t pgt_pte_t;   /**< one hardware page-table entry */

/** Returned by an alloc_table hook that has no frame left. */
#define PGT_PADDR_NONE ((pgt_paddr_t)-1)

/**
 * Status codes: zero and positive are success, negative are errors. Each
 * misuse class has its own code; PGT_EINVAL is left for what none of them
 * names (a NULL pointer, a space or TLB not initialised, a ref that names
 * no leaf, a boolean field value above 1, a malformed descriptor, two
 * spaces that cannot share). pgt_strerror describes a code, pgt_errname
 * names it.
 */
enum pgt_status {
	PGT_OK = 0,         /**< done */
	PGT_EXISTS = 1,     /**< insert: a mapping containing the request already exists */
	PGT_ENOENT = -1,    /**< nothing is mapped there */
	PGT_ECONFLICT = -2, /**< the request overlaps a mapping that does not contain it */
	PGT_ENOMEM = -3,    /**< the alloc_table hook failed */
	PGT_EINVAL = -4,    /**< a bad argument no code below names */
	PGT_ENOTSUP = -5,   /**< the architecture cannot express the request */
	PGT_EFAULT = -6,    /**< translate: the access faults */
	PGT_EALIGN = -7,    /**< an address, size or pa not aligned as the call or the format needs */
	PGT_ERANGE =
		-8, /**< an address outside the space's range (or not canonical), or wider than the format */
	PGT_EWRAP = -9,    /**< a range that wraps around the top of the address space */
	PGT_ESIZE = -10,   /**< a size the call cannot take: 0, not a power of two, no such page size */
	PGT_EFLAGS = -11,  /**< unknown bits in flags, prot or access, or an unknown field */
	PGT_ENOHOOK = -12, /**< a hook the call needs is missing from struct pgt_mm */
	PGT_EHOOK = -13    /**< a hook answered what cannot be used (p2v NULL, a misaligned frame) */
};

/**
 * Describes a status code.
 * @param status a value returned by a pgt_ function
 * @return a constant English sentence fragment; never NULL (unknown codes
 *         get a generic description)
 */
PGT_API const char *pgt_strerror(int status);

/**
 * Names a status code, as the enumerator is spelt ("PGT_EALIGN"), for logs
 * and test output.
 * @param status a value returned by a pgt_ function
 * @return a constant string; "PGT_UNKNOWN" for a value that is no status
 */
PGT_API const char *pgt_errname(int status);

struct pgt_arch;

/**
 * @def PGT_FORMAT
 * Declares one shipped descriptor, @p desc, named @p name in pgt_arch_by_name().
 *
 * The shipped descriptors (pgtable/formats.h lists them, with their names):
 * first stage pgt_arch_x86_64, pgt_arch_x86_64_la57, pgt_arch_armv8_4k_39,
 * pgt_arch_armv8_4k_48, pgt_arch_armv8_16k_47, pgt_arch_armv8_64k_42,
 * pgt_arch_riscv_sv39, pgt_arch_riscv_sv48, pgt_arch_riscv_sv57; second
 * stage pgt_arch_x86_64_ept, pgt_arch_x86_64_ept5, pgt_arch_armv8_s2_4k_40,
 * pgt_arch_armv8_s2_4k_48, pgt_arch_armv8_s2_16k_40, pgt_arch_armv8_s2_64k_42,
 * pgt_arch_riscv_sv39x4, pgt_arch_riscv_sv48x4, pgt_arch_riscv_sv57x4.
 */
#define PGT_FORMAT(desc, name, what) PGT_API extern const struct pgt_arch desc;
#include <pgtable/formats.h>
#undef PGT_FORMAT

/**
 * Finds a shipped descriptor by name.
 * @param name a name of pgtable/formats.h: "x86_64", "x86_64-la57",
 *             "x86_64-ept", "x86_64-ept5",
 *             "armv8-4k-39", "armv8-4k-48", "armv8-16k-47", "armv8-64k-42",
 *             "riscv-sv39", "riscv-sv48", "riscv-sv57", "riscv-sv39x4",
 *             "riscv-sv48x4", "riscv-sv57x4"
 * @return the descriptor, or NULL for an unknown name or NULL
 */
PGT_API const struct pgt_arch *pgt_arch_by_name(const char *name);

/** The caller's memory hooks. The library copies this struct at init. */
struct pgt_mm {
	/**
	 * Returns the physical address of @p size bytes aligned to @p size,
	 * for a table at @p level, or PGT_PADDR_NONE. Contents may be anything:
	 * the library initialises the table before linking it.
	 */
	pgt_paddr_t (*alloc_table)(void *ctx, size_t size, unsigned level);
	/** Gives back a table obtained from alloc_table, with the same size and level. */
	void (*free_table)(void *ctx, pgt_paddr_t pa, size_t size, unsigned level);
	/** Maps a table's physical address to a pointer; NULL hook: pa + p2v_offset. */
	void *(*p2v)(void *ctx, pgt_paddr_t pa);
	uintptr_t p2v_offset; /**< used when p2v is NULL */
	/**
	 * Optional: called after valid translations of [va, va+size) were
	 * removed or downgraded, before any table they used is freed, and
	 * between the two stores of a break-before-make replacement.
	 */
	void (*tlb_flush)(void *ctx, pgt_vaddr_t va, uint64_t size);
	void *ctx; /**< passed to every hook */
	/**
	 * Optional, for pgt_verify: whether @p pa is a table frame of this
	 * allocator of @p size bytes at @p level (non-zero) or not (zero).
	 */
	int (*owns_table)(void *ctx, pgt_paddr_t pa, size_t size, unsigned level);
	/**
	 * Optional, for readers in other threads (pgt_lookup, pgt_translate,
	 * pgt_walk running while one writer edits): tables that pgt_unmap,
	 * pgt_protect or a replacing pgt_map unlink from the tree are handed
	 * here, after tlb_flush, instead of to free_table. A reader may still
	 * be walking them: the caller gives each back to its allocator once
	 * no reader can (an RCU grace period). Tables never linked (an
	 * operation rolled back) and those of pgt_space_destroy still go to
	 * free_table. NULL: free_table at once.
	 */
	void (*defer_free)(void *ctx, pgt_paddr_t pa, size_t size, unsigned level);
	/**
	 * Optional, for kernels that write dirty pages back: the accessed and
	 * dirty state (@p ad, a mask of enum pgt_ad) of a valid leaf mapping
	 * [va, va+size) to @p pa that pgt_unmap or a replacing pgt_map
	 * removed, or whose entry pgt_protect changed, when either bit was
	 * set. The state is what the atomic exchange that removed or changed
	 * the leaf found, bits the MMU of another CPU set until then included
	 * (a superpage the range cuts is split first: its pieces inherit its
	 * bits). Called during the operation, before its tlb_flush call: a
	 * stale TLB entry may write the page until that returns, so write it
	 * back after the operation. pgt_protect keeps the bits in the leaf.
	 */
	void (*leaf_ad)(void *ctx, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned ad);
	/**
	 * Leave zero (as a designated initialiser does): room for the hooks
	 * of later versions, so that the struct keeps its size.
	 */
	void (*pgt__hooks_to_come[6])(void);
};

/** The bits the leaf_ad hook of struct pgt_mm reports. */
enum pgt_ad {
	PGT_AD_ACCESSED = 1, /**< the leaf's accessed bit was set */
	PGT_AD_DIRTY = 2     /**< the leaf's dirty bit was set: the page was written */
};

/** pgt_space_init flags. */
enum pgt_space_flags {
	PGT_SPACE_LINKS = 1, /**< keep one link word beside every entry (see pgt_set_link) */
	PGT_SPACE_UPPER = 2  /**< ARMv8: translate the upper (TTBR1) range */
};

/** Private: a stack of tables off the tree, threaded through them (lib/table.h). */
struct pgt__table_list {
	pgt_pte_t *head;     /**< private: the top table, or NULL */
	pgt_paddr_t head_pa; /**< private: its physical address (the cache's: plus where its list words are) */
	size_t n;            /**< private: how many */
};

/** 64-bit words a pgt_space_t takes in every version of the library: its private state grows into them. */
#define PGT_SPACE_WORDS 64

/**
 * One address space. The caller owns the storage (embed it anywhere);
 * every field is private to the library, and the size is the same in
 * every version (PGT_SPACE_WORDS), so a caller built against one version
 * works with the next.
 */
typedef struct pgt_space {
	union {
		struct {
			const struct pgt_arch *pgt__arch; /**< private */
			struct pgt_mm pgt__mm;            /**< private */
			pgt_pte_t *pgt__root;             /**< private: root table, virtual */
			pgt_paddr_t pgt__root_pa;         /**< private */
			unsigned pgt__flags;              /**< private */
			unsigned pgt__magic;              /**< private: set while initialised */
			/* --- private, fast paths (lib/walks.c) and translation caches (lib/tlb.c) --- */
			const void *pgt__ops; /**< private: the space's walks (compiled for its descriptor, or the generic ones) */
			void (*pgt__lookup)(void); /**< private: the lookup of pgt__ops, one load closer */
			int64_t pgt__va_lo; /**< private: lowest accepted (int64_t)va >> (va_bits - 1) */
			uint64_t pgt__gen;  /**< private: bumped when a translation is removed or changed */
			pgt_pte_t pgt__rsv[6]; /**< private: a reserved leaf at each level (PGT_MAX_LEVELS) */
			unsigned pgt__rsv_ok;  /**< private: bit l set when pgt__rsv[l] is valid */
			struct pgt_tlb
				*pgt__tlbs;    /**< private: the TLBs attached to the space (pgtable/tlb.h) */
			pgt_pte_t pgt__enc[6]; /**< private: the leaf bits of pgt__enc_prot at each level */
			unsigned pgt__enc_prot; /**< private: the rights pgt__enc holds; all ones when none */
			/** private: empty tables kept for reuse (pgt_space_cache), by level below the root */
			struct pgt__table_list pgt__cache[5];
			size_t pgt__cache_max; /**< private: the most pgt__cache keeps at each level */
			uint8_t pgt__list_bit[6]; /**< private: where each level's tables carry a list link */
			uint8_t pgt__tlb_live; /**< private: an attached TLB may hold translations (lib/tlb.h) */
		};
		uint64_t pgt__room[PGT_SPACE_WORDS]; /**< private: the size of every version's state */
	};
} pgt_space_t;

/**
 * Creates an empty space: allocates and clears its root table.
 * @param sp     storage for the space
 * @param arch   descriptor (a shipped one or the caller's own)
 * @param mm     hooks; alloc_table and free_table are required
 * @param flags  PGT_SPACE_LINKS, PGT_SPACE_UPPER (ARMv8 descriptors only)
 * @return PGT_OK; PGT_EINVAL for a NULL argument or a malformed descriptor;
 *         PGT_ENOHOOK without alloc_table or free_table; PGT_EFLAGS for
 *         unknown flags or PGT_SPACE_UPPER on a descriptor without an upper
 *         range; PGT_ENOMEM when alloc_table fails; PGT_EHOOK for a root
 *         frame that is misaligned, beyond the table address field or that
 *         p2v maps to NULL (the frame is given back).
 *         On failure @p sp is left uninitialised.
 */
PGT_API int pgt_space_init(pgt_space_t *sp, const struct pgt_arch *arch, const struct pgt_mm *mm,
			   unsigned flags);

/**
 * Frees every table the space owns, the root last. The space must be
 * initialised again before further use. NULL or an uninitialised space is ignored.
 * @param sp  the space; its storage stays the caller's
 */
PGT_API void pgt_space_destroy(pgt_space_t *sp);

/**
 * Keeps up to @p tables empty tables per level (below the root) for reuse
 * (a simulator's churn): a table that pgt_unmap leaves empty and unlinks
 * is kept instead of going to free_table, and the next call that needs a
 * table of its level takes it back without calling alloc_table or
 * clearing it. Off (0) after pgt_space_init. Lowering the bound gives the
 * tables above it back to free_table at once; pgt_space_trim gives back
 * all of them, pgt_space_destroy too. Kept tables are the space's: the
 * allocator counts them as allocated.
 * @param sp      an initialised space, not a view
 * @param tables  the most kept at each level; 0 turns the cache off
 * @return PGT_OK; PGT_EINVAL for NULL, an uninitialised space or a view;
 *         PGT_ENOTSUP for a space with a defer_free hook and @p tables
 *         above 0 (readers may still walk an unlinked table, so it
 *         cannot be reused at once)
 */
PGT_API int pgt_space_cache(pgt_space_t *sp, size_t tables);

/**
 * Gives every table the space keeps for reuse (pgt_space_cache) back to
 * free_table, keeping the bound: for a caller short of memory.
 * @param sp  an initialised space; NULL, uninitialised or a view: nothing
 * @return how many tables went back
 */
PGT_API size_t pgt_space_trim(pgt_space_t *sp);

/**
 * The physical address of the root table: what CR3 or TTBRn_EL1 holds.
 * @param sp  an initialised space
 * @return the root, or PGT_PADDR_NONE for NULL or an uninitialised space
 */
PGT_API pgt_paddr_t pgt_space_root(const pgt_space_t *sp);

/**
 * Makes @p sp a read-only view of tables the library did not build (a
 * guest's, a memory image's), rooted at @p root and read through @p mm's
 * p2v hook (or p2v_offset). Every query works on it (pgt_lookup,
 * pgt_get_field, pgt_translate, pgt_walk, pgt_walk_all, pgt_dump,
 * pgt_dump_all, pgt_verify; a view keeps no link words); every call that
 * would write a table (pgt_insert, pgt_set_field, pgt_set_link, pgt_map,
 * pgt_unmap, pgt_protect, pgt_share, pgt_mdb_attach, pgt_translate with
 * PGT_ACC_SET_AD) is PGT_EINVAL and changes nothing, and pgt_space_destroy frees nothing. Nothing about the
 * foreign tables is trusted: each walk takes at most one step per level,
 * malformed entries end it in a fault (pgt_translate) or a report
 * (pgt_verify), and every table is read only at an address p2v gave.
 *
 * @param sp    the space to fill
 * @param arch  the tables' format
 * @param mm    only p2v (or p2v_offset) and ctx are used; the allocation
 *              and flush hooks may be NULL
 * @param root  physical address of the root table, aligned to its size
 *              (for pgt_translate_nested's stage 1: a guest-physical address)
 * @param flags PGT_SPACE_UPPER (ARMv8 stage 1 only)
 * @return PGT_OK; PGT_EINVAL for NULL pointers or a descriptor the library
 *         refuses; PGT_EFLAGS for unknown flags; PGT_EALIGN for a misaligned
 *         root; PGT_ERANGE for a root beyond the format's physical
 *         addresses; PGT_EHOOK when p2v answers NULL for the root
 */
PGT_API int pgt_space_view(pgt_space_t *sp, const struct pgt_arch *arch, const struct pgt_mm *mm,
			   pgt_paddr_t root, unsigned flags);

/**
 * A handle on one leaf entry, as the L4 ADT's (PTEName, PTESize).
 * Valid until the mapping is removed.
 */
typedef struct {
	pgt_pte_t *pte;      /**< the entry, in its table */
	unsigned level;      /**< level of the entry's table (0 = smallest pages) */
	unsigned page_shift; /**< log2 of the mapping's size */
} pgt_ref_t;

/**
 * Reserves a leaf for the page of size 2^page_shift at @p va (the L4 ADT's insert).
 *
 * With nothing mapped in that page, allocates the intermediate tables it
 * needs and reserves a leaf with no rights (not valid in hardware yet;
 * output address 0): PGT_OK. If anything is mapped there, nothing changes:
 * PGT_EXISTS when the mapping at @p va is at least as large as the request
 * (then @p out refers to it), otherwise PGT_ECONFLICT.
 *
 * @param sp   an initialised space
 * @param va   the page's address, aligned to 2^page_shift
 * @param page_shift log2 of a page size the descriptor supports at some level
 * @param out  receives a ref to the new leaf (PGT_OK) or to the mapping
 *             that contains the request (PGT_EXISTS); may be NULL
 * @return PGT_OK, PGT_EXISTS, PGT_ECONFLICT, PGT_ENOMEM; PGT_EINVAL for a
 *         NULL or uninitialised space; PGT_ESIZE for a page size the
 *         descriptor lacks; PGT_EALIGN for a @p va not aligned to it;
 *         PGT_ERANGE for a @p va outside the space; PGT_EHOOK for p2v
 *         returning NULL or an unusable frame from alloc_table; PGT_ENOTSUP
 *         when the descriptor's codec cannot encode a reserved leaf there.
 */
PGT_API int pgt_insert(pgt_space_t *sp, pgt_vaddr_t va, unsigned page_shift, pgt_ref_t *out);

/**
 * Finds the mapping (valid or reserved) that contains @p va.
 * @param sp   an initialised space
 * @param va   any address in the space
 * @param out  receives a ref to the mapping; may be NULL
 * @return PGT_OK; PGT_ENOENT when nothing is mapped; PGT_EINVAL for a NULL
 *         or uninitialised space; PGT_ERANGE for a @p va outside the space;
 *         PGT_EHOOK for a p2v hook returning NULL.
 */
PGT_API int pgt_lookup(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out);

/** Fields of a leaf entry. */
enum pgt_field {
	PGT_FIELD_PADDR,    /**< output address (aligned to the page size) */
	PGT_FIELD_READ,     /**< 0 or 1 */
	PGT_FIELD_WRITE,    /**< 0 or 1 */
	PGT_FIELD_EXEC,     /**< 0 or 1 */
	PGT_FIELD_USER,     /**< 0 or 1: unprivileged access */
	PGT_FIELD_CACHED,   /**< 0 or 1: 1 is write-back memory; writing 0 makes it device memory */
	PGT_FIELD_GLOBAL,   /**< 0 or 1: not tagged with an address-space id */
	PGT_FIELD_ACCESSED, /**< 0 or 1 */
	PGT_FIELD_DIRTY,    /**< 0 or 1 */
	PGT_FIELD_PROT,     /**< all of a PGT_PROT_* mask at once */
	PGT_FIELD_COUNT     /**< number of fields, not a field */
};

/** Protection bits, for PGT_FIELD_PROT and pgt_map. */
enum pgt_prot {
	PGT_PROT_READ = 1,     /**< data reads */
	PGT_PROT_WRITE = 2,    /**< data writes */
	PGT_PROT_EXEC = 4,     /**< instruction fetches */
	PGT_PROT_USER = 8,     /**< unprivileged access (CPL 3, EL0) */
	PGT_PROT_GLOBAL = 16,  /**< not tagged with an address-space id */
	/*
	 * Memory type: none of the three bits is normal write-back memory; at
	 * most one may be set (PGT_EFLAGS otherwise). A format without the type
	 * answers PGT_ENOTSUP (see pgt_arch(3) for each format's encoding).
	 */
	PGT_PROT_UNCACHED = 32,      /**< device memory (MMIO: uncached, strongly ordered) */
	PGT_PROT_NONCACHEABLE = 64,  /**< normal memory, not cached */
	PGT_PROT_WRITECOMBINE = 128  /**< normal memory, uncached, writes combined (frame buffers) */
};
/** The memory-type bits of PGT_PROT_*. */
#define PGT_PROT_MEMTYPE 224u
/** Every defined PGT_PROT_* bit. */
#define PGT_PROT_ALL 255u

/**
 * Reads a field of the leaf @p ref refers to.
 * @param sp   the space the ref came from
 * @param ref  from pgt_insert or pgt_lookup
 * @param f    the field
 * @param val  receives the value (0 or 1 for boolean fields)
 * @return PGT_OK; PGT_EINVAL for a NULL or uninitialised space, a bad ref
 *         (NULL or misaligned entry, level or size that do not match the
 *         descriptor, entry not a leaf) or NULL @p val; PGT_EFLAGS for a
 *         field outside enum pgt_field; PGT_ENOTSUP for ACCESSED or DIRTY
 *         at a level that has no such bit.
 */
PGT_API int pgt_get_field(const pgt_space_t *sp, pgt_ref_t ref, enum pgt_field f, uint64_t *val);

/**
 * Writes a field of the leaf @p ref refers to, with one 64-bit store.
 * Granting the first right makes the entry valid in hardware; removing the
 * last makes it a reserved leaf again.
 * @param sp   the space the ref came from
 * @param ref  from pgt_insert or pgt_lookup
 * @param f    the field
 * @param val  the new value
 * @return PGT_OK; PGT_EINVAL for a NULL or uninitialised space, a bad ref
 *         or a boolean field value other than 0 or 1; PGT_EFLAGS for a
 *         field outside enum pgt_field or PROT bits outside PGT_PROT_ALL;
 *         PGT_EALIGN for a PADDR not aligned to the page; PGT_ERANGE for a
 *         PADDR wider than the leaf's address field; PGT_ENOTSUP for rights
 *         the architecture cannot express (write or execute without read)
 *         or ACCESSED or DIRTY at a level without that bit. The entry is
 *         unchanged on failure.
 */
PGT_API int pgt_set_field(pgt_space_t *sp, pgt_ref_t ref, enum pgt_field f, uint64_t val);

/**
 * Stores @p node ^ @p va in the link word of the entry (PGT_SPACE_LINKS spaces).
 * @param sp    the space the ref came from
 * @param ref   from pgt_insert or pgt_lookup
 * @param node  the caller's word (a pointer to its own bookkeeping, say)
 * @param va    the address the word is keyed with
 * @return PGT_OK; PGT_EINVAL for a NULL or uninitialised space or a bad
 *         ref; PGT_ENOTSUP without PGT_SPACE_LINKS.
 */
PGT_API int pgt_set_link(pgt_space_t *sp, pgt_ref_t ref, uintptr_t node, pgt_vaddr_t va);

/**
 * Reads the link word of the entry back as a node, given the same @p va.
 * @param sp    the space the ref came from
 * @param ref   from pgt_insert or pgt_lookup
 * @param va    the address given to pgt_set_link
 * @param node  receives the word
 * @return PGT_OK; PGT_EINVAL for a NULL or uninitialised space, a bad ref
 *         or NULL @p node; PGT_ENOTSUP without PGT_SPACE_LINKS.
 */
PGT_API int pgt_get_link(const pgt_space_t *sp, pgt_ref_t ref, pgt_vaddr_t va, uintptr_t *node);

/* ------------------------------------------------------------------------ */
/* Beyond the ADT: ranges, translation, walks, sharing, verification.        */

/** Access kinds for pgt_translate; combine one of READ/WRITE/EXEC with USER. */
enum pgt_access {
	PGT_ACC_READ = 1,  /**< data read */
	PGT_ACC_WRITE = 2, /**< data write */
	PGT_ACC_EXEC = 4,  /**< instruction fetch */
	PGT_ACC_USER = 8,  /**< from user mode (CPL 3, EL0); else privileged */
	/** Set the accessed bits on the walk (and dirty on a write), as the hardware would. */
	PGT_ACC_SET_AD = 16
};

/** pgt_map flags. */
enum pgt_map_flags {
	PGT_MAP_NOSUPER = 1, /**< smallest pages only */
	PGT_MAP_REPLACE = 2  /**< overwrite what is mapped in the range (break-before-make) */
};

/** Fault kinds reported by pgt_translate. */
enum pgt_fault_kind {
	PGT_FAULT_NONE = 0,        /**< no fault */
	PGT_FAULT_NOT_PRESENT = 1, /**< no valid entry (reserved leaves included) */
	PGT_FAULT_PERMISSION = 2,  /**< the rights on the walk forbid the access */
	PGT_FAULT_ACCESS_FLAG = 3, /**< ARMv8: a valid leaf without AF */
	/**
	 * x86-64: a \#PF with RSVD=1, a present entry with reserved bits set or
	 * with PS set where no page may be (SDM vol. 3A 4.7). ARMv8 reports
	 * malformed entries as translation faults (PGT_FAULT_NOT_PRESENT).
	 */
	PGT_FAULT_RESERVED_BIT = 4,
	/** A write to a valid leaf whose dirty bit is clear, on a format that faults for it (RISC-V Svade). */
	PGT_FAULT_DIRTY = 5,
	/** An encoding the format calls a misconfiguration, not a fault of the walk (Intel EPT). */
	PGT_FAULT_MISCONFIG = 6
};

/** One leaf mapping, as pgt_walk reports it. */
struct pgt_mapping {
	pgt_vaddr_t va; /**< start, canonical, aligned to size */
	pgt_paddr_t pa; /**< output address */
	uint64_t size;  /**< bytes: 1 << page shift */
	unsigned prot;  /**< PGT_PROT_* (no right: a reserved leaf) */
	unsigned level; /**< level of the leaf's table */
};

/** What pgt_translate found when the access faults. */
struct pgt_fault {
	int kind;       /**< enum pgt_fault_kind */
	unsigned level; /**< level of the entry where the walk stopped (in the faulting stage's tables) */
	pgt_vaddr_t va; /**< the faulting address, as the caller passed it */
	/**
	 * The stage that faulted: 1, or 2 for a second-stage space
	 * (struct pgt_arch's stage) and for the second stage of
	 * pgt_translate_nested.
	 */
	unsigned stage;
	/**
	 * Stage 2 only: non-zero when the fault was taken while reading a
	 * stage-1 table entry (ARMv8 S1PTW), 0 when translating the
	 * stage-1 leaf's output address.
	 */
	unsigned s1ptw;
	/**
	 * Stage 2 only: the guest-physical address that missed, page offset
	 * kept (what HPFAR_EL2, htval and the EPT guest-physical address
	 * report): the stage-1 entry's address when s1ptw is set. 0 for a
	 * stage-1 fault.
	 */
	pgt_paddr_t ipa;
};

/**
 * Maps [va, va+size) to [pa, pa+size) with rights @p prot, using the largest
 * page sizes that the alignment of va and pa and the descriptor allow (only
 * the smallest with PGT_MAP_NOSUPER). @p prot without READ, WRITE or EXEC
 * makes reserved leaves. Conflicts are found before anything is written.
 * @param sp     an initialised space
 * @param va     start, aligned to the smallest page
 * @param pa     physical start, aligned to the smallest page
 * @param size   bytes, a multiple of the smallest page
 * @param prot   PGT_PROT_* bits
 * @param flags  PGT_MAP_NOSUPER, PGT_MAP_REPLACE
 * @return PGT_OK; PGT_ECONFLICT when anything is mapped in the range (unless
 *         PGT_MAP_REPLACE); PGT_ENOMEM; PGT_EINVAL for a NULL or
 *         uninitialised space; PGT_ESIZE for @p size 0; PGT_EALIGN for a
 *         @p va, @p size or @p pa not aligned to the smallest page;
 *         PGT_EWRAP when [va, va+size) or [pa, pa+size) wraps past 2^64;
 *         PGT_ERANGE for a range outside the space or across the x86-64
 *         hole, or a @p pa range wider than the physical width; PGT_EFLAGS
 *         for unknown @p prot or @p flags bits; PGT_ENOTSUP for rights the
 *         architecture cannot express, or a superpage that
 *         PGT_MAP_REPLACE must split where the level below cannot hold its
 *         pages; PGT_EHOOK for p2v returning NULL or an unusable frame from
 *         alloc_table. All-or-nothing: on failure the space is unchanged.
 */
PGT_API int pgt_map(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned prot,
		    unsigned flags);

/**
 * Removes every mapping (valid or reserved) in [va, va+size). A superpage
 * the range covers only in part is split: the rest stays mapped to the same
 * physical addresses with the same rights. Tables left empty are freed
 * (never the root, never a table another space shares). The removed valid
 * range is reported to tlb_flush once, before any table is freed.
 * @param sp    an initialised space
 * @param va    start, aligned to the smallest page
 * @param size  bytes, a multiple of the smallest page
 * @return PGT_OK (also when nothing was mapped); PGT_ENOMEM (a split needs
 *         tables); PGT_EINVAL for a NULL or uninitialised space; PGT_ESIZE,
 *         PGT_EALIGN, PGT_EWRAP, PGT_ERANGE for a bad range, as for pgt_map;
 *         PGT_ENOTSUP for a superpage to split where the level below cannot
 *         hold its pages or rights; PGT_EHOOK for p2v returning NULL or an
 *         unusable frame from alloc_table. All-or-nothing.
 */
PGT_API int pgt_unmap(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size);

/**
 * Sets the rights of every mapping in [va, va+size) to @p prot, splitting
 * superpages as pgt_unmap does. Unmapped parts of the range are skipped.
 * Downgrades of valid entries are reported to tlb_flush.
 * @param sp    an initialised space
 * @param va    start, aligned to the smallest page
 * @param size  bytes, a multiple of the smallest page
 * @param prot  the new PGT_PROT_* bits
 * @return PGT_OK; PGT_ENOMEM (a split needs tables); PGT_EINVAL,
 *         PGT_ESIZE, PGT_EALIGN, PGT_EWRAP, PGT_ERANGE, PGT_EHOOK as for
 *         pgt_unmap; PGT_EFLAGS for @p prot bits outside PGT_PROT_ALL;
 *         PGT_ENOTSUP for rights the architecture cannot express or a split
 *         the level below cannot hold. All-or-nothing.
 */
PGT_API int pgt_protect(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot);

/**
 * Translates @p va as the MMU would for an access of kind @p access
 * (PGT_ACC_*), combining the rights of every entry on the walk as the
 * architecture does.
 *
 * x86-64 (SDM vol. 3A 4.6): R/W and U/S must be set and XD clear in every
 * entry on the walk, assuming CR0.WP = 1 (supervisor writes to read-only
 * pages fault), EFER.NXE = 1, and neither SMEP nor SMAP (supervisor code may
 * read, write and fetch user pages). ARMv8 stage 1 EL1&0 (Arm ARM D8.4):
 * table APTable/UXNTable/PXNTable restrict everything below, the leaf's
 * AP[2:1]/UXN/PXN decide, and a location writable at EL0 is never
 * executable at EL1; a valid leaf with AF clear is PGT_FAULT_ACCESS_FLAG.
 * Assumed there: SCTLR_EL1.WXN = 0, PSTATE.PAN = 0, TCR_EL1.HPD0/HPD1 = 0
 * (hierarchical controls in force), no permission indirection.
 *
 * Empty entries and reserved leaves are PGT_FAULT_NOT_PRESENT at their
 * level. A malformed entry (must-be-zero bits set, a leaf at a level that
 * allows none, an undefined encoding) is PGT_FAULT_RESERVED_BIT on x86-64
 * (\#PF with RSVD = 1) and PGT_FAULT_NOT_PRESENT on ARMv8 (a translation
 * fault), at its level. Permission and access-flag faults are reported at
 * the leaf's level.
 *
 * With PGT_ACC_SET_AD an access that completes sets the accessed bits the
 * walk used (x86: every entry; ARMv8: the leaf's AF, as FEAT_HAFDBS does,
 * instead of an access-flag fault) and, for a write, the leaf's dirty bit,
 * each with an atomic compare-and-swap: when an entry changed meanwhile, the
 * translation starts again, so no concurrent store is lost. A faulting
 * access changes nothing.
 *
 * @param sp     an initialised space
 * @param va     the address accessed
 * @param access one of PGT_ACC_READ, _WRITE, _EXEC, optionally with
 *               PGT_ACC_USER and PGT_ACC_SET_AD
 * @param pa     receives the physical address (page offset included); may be NULL
 * @param fault  receives the fault on PGT_EFAULT; may be NULL
 * @return PGT_OK; PGT_EFAULT (not present, permission, access flag,
 *         reserved bit); PGT_EINVAL for a NULL or uninitialised space;
 *         PGT_EFLAGS for @p access with unknown bits or not exactly one of
 *         READ, WRITE, EXEC; PGT_ERANGE for a @p va outside the space;
 *         PGT_EHOOK for a p2v hook returning NULL. On an error nothing is
 *         written to @p pa or @p fault.
 */
PGT_API int pgt_translate(const pgt_space_t *sp, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa,
			  struct pgt_fault *fault);

/**
 * Translates @p va as an MMU with both stages on: @p s1 maps virtual to
 * guest-physical addresses, @p s2 guest-physical to host-physical ones.
 * As the hardware does, every stage-1 table entry is read at the address
 * stage 2 gives for a read of its guest-physical address (through s2's
 * p2v, never s1's), and the stage-1 leaf's output address is translated by
 * stage 2 with the access itself.
 *
 * A fault in stage 1's own tables is stage 1, as pgt_translate reports it,
 * whatever s1's format: a second-stage format may be the first of two (a
 * guest hypervisor's stage 2 under the host's).
 * A fault in stage 2 is stage 2, at s2's level, with ipa the guest-physical
 * address that missed: the stage-1 entry's address and s1ptw = 1 for a
 * table read, the stage-1 output address (page offset kept) and s1ptw = 0
 * otherwise. fault->va is always @p va.
 *
 * @param s1     the first stage: usually a pgt_space_view whose root is
 *               a guest-physical address; only its format and root are used
 * @param s2     a second-stage space (or any space whose input addresses are
 *               s1's physical addresses, such as an AMD NPT host space)
 * @param va     the virtual address accessed
 * @param access as for pgt_translate, without PGT_ACC_SET_AD; PGT_ACC_USER
 *               applies to both stages (second-stage formats ignore it)
 * @param pa     receives the host-physical address; may be NULL
 * @param fault  receives the fault on PGT_EFAULT; may be NULL
 * @return PGT_OK; PGT_EFAULT; PGT_EINVAL for NULL or uninitialised
 *         spaces; PGT_EFLAGS for a bad @p access; PGT_ERANGE for a @p va
 *         outside s1; PGT_EHOOK when s2's p2v answers NULL for a table
 */
PGT_API int pgt_translate_nested(const pgt_space_t *s1, const pgt_space_t *s2, pgt_vaddr_t va,
				 unsigned access, pgt_paddr_t *pa, struct pgt_fault *fault);

/**
 * Visits the leaf mappings (valid and reserved) that overlap [va, va+size)
 * in ascending address order. Each mapping is reported whole (its va may
 * lie below @p va), with its leaf's own rights: table entries that restrict
 * rights (see pgt_translate) do not show here. Tables under empty entries
 * are never read; malformed entries are skipped (pgt_verify reports them).
 * Recursion depth is bounded by the level count. The range is checked as
 * pgt_unmap checks its range, in bytes rather than pages: a range may end
 * at the top of the 64-bit space (va + size == 2^64), but not cross the
 * x86-64 hole; pgt_walk_all walks the whole space, both halves.
 * @param sp     an initialised space
 * @param va     start: any address of the space
 * @param size   bytes, at least 1
 * @param visit  called once per mapping; a non-zero return stops the walk
 * @param arg    passed to @p visit
 * @return PGT_OK; the first non-zero value @p visit returns (the walk stops);
 *         PGT_EINVAL for a NULL or uninitialised space or NULL @p visit;
 *         PGT_ESIZE for @p size 0 (an empty range, never "everything");
 *         PGT_EWRAP when [va, va+size) wraps past 2^64; PGT_ERANGE for a
 *         range outside the space or across the x86-64 hole; PGT_EHOOK for
 *         a p2v hook returning NULL (mappings before that point were
 *         visited). Nothing is visited when the range is refused.
 */
PGT_API int pgt_walk(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t size,
		     int (*visit)(void *arg, const struct pgt_mapping *m), void *arg);

/**
 * Visits every leaf mapping of the space, as pgt_walk does for a range: in
 * ascending address order (x86-64 and RISC-V: the lower half, then the
 * upper half).
 * @param sp     an initialised space
 * @param visit  called once per mapping; a non-zero return stops the walk
 * @param arg    passed to @p visit
 * @return PGT_OK; the first non-zero value @p visit returns (the walk stops);
 *         PGT_EINVAL for a NULL or uninitialised space or NULL @p visit;
 *         PGT_EHOOK for a p2v hook returning NULL (mappings before that
 *         point were visited).
 */
PGT_API int pgt_walk_all(const pgt_space_t *sp, int (*visit)(void *arg, const struct pgt_mapping *m),
			 void *arg);

/**
 * Prints the mappings in [va, va+size) in the layout of QEMU's x86 `info
 * mem` (target/i386/monitor.c), with two columns more: one line per run of
 * virtually contiguous mappings with the same rights, page size and memory
 * type, "start-end size urwx page type" (16 lower-case hex digits each;
 * end exclusive, 0 at the top of the address space), without a newline,
 * through @p print. The letters are the rights the MMU grants, combined
 * down the walk as pgt_translate does (QEMU ANDs them too): u unprivileged
 * data access, r read, w write, x execute (QEMU has no x column), '-'
 * where denied; reserved leaves show as "----". page is the leaves' size
 * ("4K", "2M", "1G", "16K", "512M", "256T"); type is "wb" (normal
 * write-back), "uc" (PGT_PROT_UNCACHED, device), "nc"
 * (PGT_PROT_NONCACHEABLE) or "wc" (PGT_PROT_WRITECOMBINE). Runs are
 * clipped to [va, va+size). No stdio: the caller decides where lines go.
 * @param sp     an initialised space
 * @param va     as for pgt_walk
 * @param size   as for pgt_walk
 * @param print  called once per line
 * @param arg    passed to @p print
 * @return PGT_OK; PGT_EINVAL for NULL @p print; otherwise what pgt_walk
 *         answers (PGT_EINVAL, PGT_ESIZE, PGT_EWRAP, PGT_ERANGE, PGT_EHOOK).
 */
PGT_API int pgt_dump(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t size,
		     void (*print)(void *arg, const char *line), void *arg);

/**
 * Prints every mapping of the space as pgt_dump prints a range: x86-64 and
 * RISC-V the lower half, then the upper half.
 * @param sp     an initialised space
 * @param print  called once per line
 * @param arg    passed to @p print
 * @return PGT_OK; PGT_EINVAL for a NULL or uninitialised space or NULL
 *         @p print; PGT_EHOOK for a p2v hook returning NULL (runs that
 *         ended before that point were printed).
 */
PGT_API int pgt_dump_all(const pgt_space_t *sp, void (*print)(void *arg, const char *line), void *arg);

/**
 * Makes @p dst use @p src's tables for [va, va+size), which must be whole
 * root entries (512 GiB each on x86-64 4-level: the kernel half that every
 * address space shares). Tables missing in @p src are first created there
 * (owned by @p src), so later mappings made in the range through either
 * space are seen by both. The root entries carry software marks: @p dst
 * never frees a borrowed table (destroy, unmap), and neither space's unmap
 * frees a shared one; tables below them are freed as usual. Both spaces
 * must use the same descriptor, flags and memory hooks (either may free a
 * table the other made). Destroy may happen in either order, but once the
 * owner is destroyed the borrower may only be destroyed. Sharing again
 * what is already shared is PGT_OK and changes nothing. Cost: every table
 * missing under the shared root entries is made up front, one per root
 * entry (about 254 tables, 1 MiB, for the x86-64 upper half when the
 * owner maps nothing there yet).
 * @param dst   the borrowing space
 * @param src   the owning space: same descriptor, flags and hooks
 * @param va    start of the range, aligned to a root entry
 * @param size  bytes, a whole number of root entries
 * @return PGT_OK; PGT_ECONFLICT when @p dst maps something there or @p src
 *         has a leaf in a root entry; PGT_ENOMEM; PGT_EINVAL for NULL or
 *         uninitialised spaces, the same space twice, or mismatched spaces;
 *         PGT_ENOTSUP when the descriptor has no sharing marks; PGT_ESIZE
 *         for @p size 0; PGT_EALIGN for a @p va or @p size that is not a
 *         whole number of root entries; PGT_EWRAP when the range wraps past
 *         2^64; PGT_ERANGE for a range outside the space or across the
 *         x86-64 hole; PGT_EHOOK for an unusable frame from alloc_table.
 *         All-or-nothing, for both spaces.
 */
PGT_API int pgt_share(pgt_space_t *dst, const pgt_space_t *src, pgt_vaddr_t va, uint64_t size);

/**
 * Checks a live tree: malformed entries, must-be-zero bits set in valid
 * entries (below the page or table size: a misaligned address), leaves
 * (valid or reserved) at levels that allow none, output addresses beyond
 * the physical width, a table reachable twice (the root included), tables
 * p2v cannot reach, and, with the owns_table hook, tables that are not the
 * allocator's frames (tables under a borrowed link, from pgt_share, are
 * checked but need not be owned). The subtree under a table reachable
 * twice, disowned or unreachable is not read. Then the tables the space
 * keeps for reuse (pgt_space_cache): the allocator's, not in the tree,
 * empty, no more than the bound (reported at address 0 with their level).
 *
 * Each problem goes to @p report (may be NULL) with the address and level
 * of the entry, in address order. Allocation-free: a table reachable twice
 * is found by re-scanning the tables above level 0 for each table entry,
 * O(table entries x entries of those tables).
 * @param sp      an initialised space
 * @param report  called once per problem; may be NULL
 * @param arg     passed to @p report
 * @return the number of problems (0: consistent), or PGT_EINVAL for a NULL
 *         or uninitialised space.
 */
PGT_API int pgt_verify(const pgt_space_t *sp,
		       void (*report)(void *arg, const char *problem, pgt_vaddr_t va, unsigned level),
		       void *arg);

#ifdef __cplusplus
}
#endif

#endif /* PGTABLE_PGTABLE_H */
