/* SPDX-License-Identifier: MIT */
/*
 * The extent model of tests/extents.h: an array kept sorted and disjoint,
 * with every operation written as "cut out [va, last], then insert".
 */
#include "extents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ext_init(struct extents *m)
{
	memset(m, 0, sizeof *m);
}

void ext_fini(struct extents *m)
{
	free(m->v);
	memset(m, 0, sizeof *m);
}

static void ext_insert_at(struct extents *m, size_t i, struct ext e)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->v = realloc(m->v, m->cap * sizeof *m->v);
		if (!m->v)
			abort();
	}
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof *m->v);
	m->v[i] = e;
	m->n++;
}

static void ext_delete_at(struct extents *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *m->v);
	m->n--;
}

/** Index of the first extent that ends at or after @p va. */
static size_t first_ending_after(const struct extents *m, pgt_vaddr_t va)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->v[mid].last < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool ext_overlaps(const struct extents *m, pgt_vaddr_t va, pgt_vaddr_t last)
{
	size_t i = first_ending_after(m, va);
	return i < m->n && m->v[i].va <= last;
}

const struct ext *ext_find(const struct extents *m, pgt_vaddr_t va)
{
	size_t i = first_ending_after(m, va);
	return i < m->n && m->v[i].va <= va ? &m->v[i] : NULL;
}

/** Splits the extent containing @p va (if any) so that one starts exactly at @p va. */
static void split_at(struct extents *m, pgt_vaddr_t va)
{
	size_t i = first_ending_after(m, va);
	if (i == m->n || m->v[i].va >= va)
		return;
	struct ext right = m->v[i];
	right.pa += va - right.va;
	right.va = va;
	m->v[i].last = va - 1;
	ext_insert_at(m, i + 1, right);
}

/** Makes extent boundaries at va and last + 1; returns the first index inside. */
static size_t isolate(struct extents *m, pgt_vaddr_t va, pgt_vaddr_t last)
{
	split_at(m, va);
	if (last != ~0ull)
		split_at(m, last + 1);
	return first_ending_after(m, va);
}

void ext_unmap(struct extents *m, pgt_vaddr_t va, pgt_vaddr_t last)
{
	size_t i = isolate(m, va, last);
	while (i < m->n && m->v[i].va <= last)
		ext_delete_at(m, i);
}

void ext_map(struct extents *m, pgt_vaddr_t va, pgt_vaddr_t last, pgt_paddr_t pa, unsigned prot)
{
	ext_unmap(m, va, last);
	ext_insert_at(m, first_ending_after(m, va), (struct ext){ va, last, pa, prot });
}

void ext_protect(struct extents *m, pgt_vaddr_t va, pgt_vaddr_t last, unsigned prot)
{
	for (size_t i = isolate(m, va, last); i < m->n && m->v[i].va <= last; i++)
		m->v[i].prot = prot;
}

/** The rights a leaf with @p prot decodes to at @p level. */
static unsigned kept_prot(const struct pgt_arch *a, unsigned level, unsigned prot)
{
	pgt_pte_t bits = 0;
	if (a->prot_encode(level, prot, &bits) != PGT_OK)
		return ~0u;
	return a->prot_decode(level, bits);
}

static bool leaf_matches(const struct extents *m, const struct pgt_arch *a, const struct test_leaf *lf,
			 char *why, size_t whylen)
{
	const struct pgt_level *L = &a->level[lf->level];
	pgt_vaddr_t last = lf->va + ((1ull << L->shift) - 1);
	const struct ext *x = ext_find(m, lf->va);

	if (!x || last > x->last) {
		snprintf(why, whylen, "leaf %#llx (level %u) is not inside one mapping of the model",
			 (unsigned long long)lf->va, lf->level);
		return false;
	}
	pgt_paddr_t want = x->pa + (lf->va - x->va);
	if (test_leaf_pa(L, lf->pte) != want) {
		snprintf(why, whylen, "leaf %#llx maps %#llx, the model %#llx", (unsigned long long)lf->va,
			 (unsigned long long)test_leaf_pa(L, lf->pte), (unsigned long long)want);
		return false;
	}
	unsigned got = a->prot_decode(lf->level, lf->pte), exp = kept_prot(a, lf->level, x->prot);
	if (got != exp) {
		snprintf(why, whylen, "leaf %#llx has rights %#x, the model %#x", (unsigned long long)lf->va, got, exp);
		return false;
	}
	return true;
}

bool ext_matches_tree(const struct extents *m, const pgt_space_t *sp, const struct pgt_arch *a,
		      const struct test_mm *t, unsigned flags, char *why, size_t whylen)
{
	size_t n;
	struct test_leaf *lv = tree_leaves(sp, a, t, flags, &n);
	uint64_t leaf_pages = 0, model_pages = 0;
	unsigned page_shift = a->level[0].shift;
	bool ok = true;

	for (size_t i = 0; i < n && ok; i++) {
		ok = leaf_matches(m, a, &lv[i], why, whylen);
		leaf_pages += 1ull << (a->level[lv[i].level].shift - page_shift);
	}
	free(lv);
	for (size_t i = 0; i < m->n; i++)
		model_pages += ((m->v[i].last - m->v[i].va) >> page_shift) + 1;
	if (ok && leaf_pages != model_pages) {
		snprintf(why, whylen, "the leaves map %llu pages, the model %llu", (unsigned long long)leaf_pages,
			 (unsigned long long)model_pages);
		ok = false;
	}
	return ok;
}
