/* ncd.h: ZIP-FIT compression alignment (Obbad et al., 2024) between pool examples and a target set.
 *
 * Exact score, over gzip sizes at level L (1..9):
 *     C(b)      = 18 + size of zlib's raw deflate of b (windowBits -15, memLevel 8, default strategy),
 *                 which is len(gzip.compress(b, compresslevel=L)) in Python
 *     NCD(x, t) = (C(x ++ t) - min(C(x), C(t))) / max(C(x), C(t))
 *     score(x)  = 1 - (1/|T|) * sum over t in T of NCD(x, t), summed in target order in double
 * Fast score, over the compressed sizes Z(x | D) of x alone with a dictionary D made of a set of texts
 * (zstd, or zlib): with T the targets and B a background sample of general text of about as many bytes,
 *     fast(x)   = (Z(x | B) - Z(x | T)) / Z(x | B), or 0 when x is empty,
 * the share of x's compressed size that the targets save over the background: a compression form of
 * Moore and Lewis's cross-entropy difference. With no background (B empty) it is the share that the
 * targets save over compressing x alone.
 *
 * Like the rest of common/, this never prints and never exits: errors return -1 with a message in e. */
#ifndef WINNOW_NCD_H
#define WINNOW_NCD_H

#include <stddef.h>
#include <stdint.h>

#include "winnow.h"

#define NCD_GZIP_OVERHEAD 18 /* gzip member header (10) and trailer (8) around the raw deflate data */

/* The target set, read-only once built (threads share it): copies of the texts and each C(t). A set
 * of level 0 holds texts without sizes (a fast-mode background). */
struct ncd_targets {
	int level;          /* gzip level of the exact sizes, or 0 */
	size_t n, cap;
	uint8_t **text;
	size_t *len;
	uint64_t *csize;    /* C(t) at level */
	uint64_t bytes;     /* sum of len */
};

/* Per-thread state of the exact scorer: two deflate states and their memory, allocated once. */
struct ncd_exact;

/* Starts an empty target set for gzip level 1..9, or 0 for texts without sizes. */
int ncd_targets_init(struct ncd_targets *ts, int level, struct wnw_err *e);
/* Copies p[0, n) into the set as its next target and computes C(t) with sc (any scorer of this level),
 * or leaves it 0 when sc is NULL. */
int ncd_targets_add(struct ncd_targets *ts, struct ncd_exact *sc, const uint8_t *p, size_t n,
		    struct wnw_err *e);
void ncd_targets_free(struct ncd_targets *ts);

/* A scorer for gzip level 1..9. prime 1 reuses the deflate state after x for every target
 * (deflateCopy); prime 0 compresses every x ++ t from scratch in one call over a contiguous copy
 * (the reference, holding |x| + |t| more bytes); NCD_PRIME_AUTO primes when that is faster (long x)
 * and otherwise feeds x and then t to a fresh stream. All give the same sizes. */
#define NCD_PRIME_AUTO (-1)
struct ncd_exact *ncd_exact_new(int level, int prime, struct wnw_err *e);
void ncd_exact_free(struct ncd_exact *sc);
/* C(a ++ b) in one deflate call over a contiguous copy is what the definition asks for; this feeds
 * a and then b to one stream (b may be NULL), which the tests prove gives the same size. */
int ncd_gzip_size(struct ncd_exact *sc, const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
		  uint64_t *size, struct wnw_err *e);
/* C(x) into *cx and C(x ++ t) for every target t of ts into cxt[0, ts->n). */
int ncd_exact_sizes(struct ncd_exact *sc, const struct ncd_targets *ts, const uint8_t *x, size_t n,
		    uint64_t *cx, uint64_t *cxt, struct wnw_err *e);
/* score(x) against ts (same level as sc, at least one target). */
int ncd_exact_score(struct ncd_exact *sc, const struct ncd_targets *ts, const uint8_t *x, size_t n,
		    double *score, struct wnw_err *e);
/* NCD from the three sizes, as defined above. */
double ncd_from_sizes(uint64_t cxt, uint64_t cx, uint64_t ct);

/* Fast mode: how a set of texts becomes a dictionary. */
enum ncd_fast_kind {
	NCD_FAST_ZSTD_RAW = 1, /* zstd, the texts concatenated as raw-content dictionary */
	NCD_FAST_ZSTD_TRAINED, /* zstd, a dictionary trained on the texts (ZDICT) */
	NCD_FAST_ZLIB          /* zlib raw deflate, the last 32 KiB of the texts as preset dictionary */
};

/* Fast mode keeps at most the last this many bytes of the concatenated texts (zstd kinds). */
#define NCD_FAST_DICT_MAX (8u << 20)
/* Dictionaries one fast scorer can hold. */
#define NCD_FAST_SLOTS 8

struct ncd_fast_dict; /* shared, read-only once built */
struct ncd_fast;      /* per thread */

/* Builds a dictionary from the texts of ts (exact sizes unused); level is zstd's (1..19) or zlib's
 * (1..9). An empty set gives the empty dictionary: plain compression. */
struct ncd_fast_dict *ncd_fast_dict_new(const struct ncd_targets *ts, enum ncd_fast_kind kind, int level,
					struct wnw_err *e);
void ncd_fast_dict_free(struct ncd_fast_dict *d);
/* Bytes of dictionary content actually used (after training or windowing). */
size_t ncd_fast_dict_size(const struct ncd_fast_dict *d);
/* A scorer for dicts[0, n), n <= NCD_FAST_SLOTS, all of one kind and level. */
struct ncd_fast *ncd_fast_new(const struct ncd_fast_dict *const *dicts, size_t n, struct wnw_err *e);
void ncd_fast_free(struct ncd_fast *f);
/* Z(x | dicts[k]): the compressed size of x with dictionary k (frames carry the same header whatever
 * the dictionary, so sizes of one x compare). */
int ncd_fast_size(struct ncd_fast *f, size_t k, const uint8_t *x, size_t n, uint64_t *size, struct wnw_err *e);
/* fast(x) from Z(x | T) and Z(x | B), as defined above; 0 when both are 0 (x empty). */
double ncd_fast_from_sizes(uint64_t target, uint64_t background);

#endif
