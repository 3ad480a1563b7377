/* SPDX-License-Identifier: MIT */
/*
 * Included before every source of the analysis build (PGT_VERIFY): the
 * model is one thread, so each atomic builtin is the plain access it
 * performs. The analyser does not know the builtins; with these the code it
 * reads is the library's own, less the memory orders.
 */
#ifndef PGT_PROOF_PRELUDE_H
#define PGT_PROOF_PRELUDE_H

#define PGT_VERIFY 1
#define PGT__ATOMIC_LOAD(p, order) (*(p))
#define PGT__ATOMIC_STORE(p, v, order) ((void)(*(p) = (v)))

#define __atomic_load_n(p, order) (*(p))
#define __atomic_store_n(p, v, order) ((void)(*(p) = (v)))
#define __atomic_exchange_n(p, v, order) pgt_proof_exchange((p), (v))
#define __atomic_fetch_or(p, v, order) pgt_proof_fetch_or((p), (v))
#define __atomic_add_fetch(p, v, order) (*(p) += (v))
#define __atomic_compare_exchange_n(p, expected, desired, weak, ok, fail)                          \
	pgt_proof_cas((p), (expected), (desired))

/*
 * Eva does not know where objects lie, so it cannot tell a pointer's
 * alignment from its address. Every object the library is handed a
 * pointer into (the harness's frames of uint64_t, its refs) is aligned to
 * 8 bytes, so for the alignments the library tests the offset in the
 * object decides; the contract says so, and Eva reads contracts.
 */
#define PGT__MISALIGNED(p, align) pgt_proof_misaligned((const void *)(p), (align))

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*@ requires align == 8;
    assigns \result \from indirect: p, indirect: align;
    behavior misaligned: assumes \offset((const char *)p) % align != 0; ensures \result == 1;
    behavior aligned: assumes \offset((const char *)p) % align == 0; ensures \result == 0;
    complete behaviors; disjoint behaviors; */
int pgt_proof_misaligned(const void *p, size_t align);

static inline uint64_t pgt_proof_exchange(uint64_t *p, uint64_t v)
{
	uint64_t old = *p;

	*p = v;
	return old;
}

static inline uint64_t pgt_proof_fetch_or(uint64_t *p, uint64_t v)
{
	uint64_t old = *p;

	*p = old | v;
	return old;
}

static inline bool pgt_proof_cas(uint64_t *p, uint64_t *expected, uint64_t desired)
{
	if (*p != *expected) {
		*expected = *p;
		return false;
	}
	*p = desired;
	return true;
}

#endif
