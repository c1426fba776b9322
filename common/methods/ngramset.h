/* ngramset.h: a set of 64-bit n-gram hashes, for decontam(1): exact (an open-addressing table that also
 * remembers which reference record brought each hash first) or a Bloom filter (no record, 4 bytes a
 * hash, false positives at a stated rate). Never prints, never exits. */
#ifndef WINNOW_NGRAMSET_H
#define WINNOW_NGRAMSET_H

#include <stddef.h>
#include <stdint.h>

#include "winnow.h"

/* Bloom filter: NGS_BLOOM_BITS bits per hash expected and NGS_BLOOM_K probes, which give a false
 * positive rate of (1 - e^(-k/b))^k = 2.1e-7 per lookup when the expected count was right. */
#define NGS_BLOOM_BITS 32
#define NGS_BLOOM_K 22
#define NGS_NONE UINT32_MAX /* the source of a hash the set does not hold, or of any Bloom hit */

struct ngs_slot {
	uint64_t h;   /* 0: empty (hash 0 is stored as 1) */
	uint32_t src; /* the reference record that brought it first */
};

struct ngramset {
	int bloom;
	struct ngs_slot *slot; /* exact: 2^bits slots, at most half full */
	uint64_t mask, n;
	uint64_t *bits;        /* bloom: m bits */
	uint64_t m;
};

/* An exact set (bloom 0), or a Bloom filter for about `expect` hashes. Returns 0 or -1 (out of memory). */
int ngs_init(struct ngramset *s, int bloom, uint64_t expect, struct wnw_err *e);
/* Adds h, brought by reference record src. Returns 0 or -1 (out of memory). */
int ngs_add(struct ngramset *s, uint64_t h, uint32_t src, struct wnw_err *e);
/* Whether h is in the set: 1 with *src its first reference record (NGS_NONE for a Bloom filter), else 0.
 * Safe from many threads at once while nothing is added. */
int ngs_has(const struct ngramset *s, uint64_t h, uint32_t *src);
/* Bytes held. */
uint64_t ngs_bytes(const struct ngramset *s);
void ngs_free(struct ngramset *s);

#endif
