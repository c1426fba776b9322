/* minhash.h: token n-gram shingles of a text (the tokens of embed-hash(1)), their MinHash signatures,
 * the band keys of locality-sensitive hashing, and the estimated Jaccard similarity of two signatures;
 * shared by dedup(1) (near duplicates) and decontam(1) (shared n-grams). Never prints, never exits. */
#ifndef WINNOW_MINHASH_H
#define WINNOW_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#include "hashembed.h"

#define MH_MAX_NGRAM 64 /* longest shingle, in tokens */
#define MH_MAX_PERMS 1024
#define MH_LANES 8 /* --perms is a multiple of this (one AVX2 register of 32-bit minima) */

/* Per-thread working memory, reused from text to text; zero-initialise it. */
struct mh_shingler {
	struct hemb_scratch s;
	uint64_t *h; /* the shingle hashes of the last text, in text order, repeats kept */
	size_t nh, cap;
	uint64_t *th; /* its token hashes */
};

void mh_shingler_free(struct mh_shingler *sh);

/* The shingles of text: tokenised as embed-hash(1) does (case folded, separators dropped), a text of
 * t >= n tokens has the t - n + 1 n-grams of consecutive tokens, each a 64-bit hash of its tokens'
 * hemb_hash_token hashes (seed 0) (see minhash.c); a text of 1 <= t < n tokens has one shingle, the hash of all its tokens; an
 * empty text has none. Fills sh->h[0 .. sh->nh). Returns 0, or -1 when out of memory or the text is
 * longer than HEMB_MAX_TEXT. 1 <= n <= MH_MAX_NGRAM. */
int mh_shingles(struct mh_shingler *sh, const uint8_t *text, size_t len, int n);

/* P hash functions of 32-bit shingle keys x (the low half of the shingle hash xor its high half), each a
 * bijection of the 32-bit integers: h_i(x) = m(c_i m(a_i x + b_i)) mod 2^32 with m(v) = v ^ (v >> 16),
 * a_i and c_i odd. MinHash needs every h_i to order a set like a random permutation; the final multiply
 * and shift mix the high bits, which alone decide the minimum, from all bits of x. */
struct mh_perms {
	int p;
	int plain; /* 1: never the AVX2 loop (the tests compare the two) */
	uint32_t a[MH_MAX_PERMS], b[MH_MAX_PERMS], c[MH_MAX_PERMS];
};

/* Draws the P functions from seed (the same seed, the same functions everywhere). p is a multiple of
 * MH_LANES in [MH_LANES, MH_MAX_PERMS]. */
void mh_perms_init(struct mh_perms *pm, int p, uint64_t seed);

/* The MinHash signature of a set of shingle hashes (repeats change nothing): sig[i] = the minimum of
 * h_i over the shingles; UINT32_MAX everywhere for no shingles. Identical bits with or without AVX2. */
void mh_signature(const struct mh_perms *pm, const uint64_t *h, size_t n, uint32_t *sig);

/* The key of band b (rows b r .. b r + r - 1 of sig): a 64-bit hash of those r values, seeded by b. */
uint64_t mh_band_key(const uint32_t *sig, int b, int r);

/* The fraction of the p positions where two signatures agree: an unbiased estimate of the Jaccard
 * similarity of the two shingle sets, with variance J (1 - J) / p. Two empty texts agree everywhere. */
double mh_jaccard(const uint32_t *x, const uint32_t *y, int p);

/* Whether two signatures agree in at least need of their p positions (p a multiple of MH_LANES), as
 * p mh_jaccard >= need but stopping as soon as need is out of reach. */
int mh_agree(const uint32_t *x, const uint32_t *y, int p, int need);

/* The probability that two texts of Jaccard similarity s share at least one of b bands of r rows:
 * 1 - (1 - s^r)^b (the LSH S-curve). */
double mh_collide(double s, int b, int r);

#endif
