/* knn.h: the neighbour engine of knn-build and kde-dedup (and of any program that needs exact L2
 * neighbours between vectors): blocked dot products on BLAS, an exact recomputation of every distance
 * that can matter, bounded top-K lists ordered by (distance, id). The records their callers keep are in
 * knnstore.h's store.
 * Like the rest of common/, it never prints and never exits (wnw_blas_setup may re-execute the program). */
#ifndef WINNOW_KNN_H
#define WINNOW_KNN_H

#include <stddef.h>
#include <stdint.h>

#include "winnow.h"

/* Makes OpenBLAS use its proper kernels and one thread of its own (the callers thread themselves).
 * Some OpenBLAS builds misdetect a CPU and fall back to slow generic kernels unless OPENBLAS_CORETYPE is
 * in the environment when the library loads, and OpenBLAS's idle threads spin (sched_yield) for a tenth
 * of a second of a core unless OPENBLAS_NUM_THREADS=1 is: when either is missing this sets it and
 * re-executes /proc/self/exe with argv, once. Returns normally in every other case. */
void wnw_blas_setup(char **argv);

/* A set of row vectors of dimension d, row-major, with their squared norms. */
struct wnw_vecs {
	float *v;     /* rows * d floats, 32-byte aligned */
	float *n2;    /* squared norms, as wnw_knn_norm2 computes them */
	uint64_t *id; /* the records' ids */
	size_t rows, cap, d;
	float *pk;    /* wnw_vecs_pack's copy, valid while pkrows == rows (adding or clearing rows voids it) */
	size_t pkrows;
};

void wnw_vecs_init(struct wnw_vecs *s, size_t d);
/* Room for at least rows vectors; -1 when out of memory. */
int wnw_vecs_reserve(struct wnw_vecs *s, size_t rows);
/* Appends a vector from raw little-endian f32 components; returns the index of the first component that is
 * NaN or infinite, or d when its squared norm overflows a float (the vector is then not added), -2 when out
 * of memory, -1 on success. */
long wnw_vecs_add_raw(struct wnw_vecs *s, const uint8_t *raw, uint64_t id);
void wnw_vecs_clear(struct wnw_vecs *s);
void wnw_vecs_free(struct wnw_vecs *s);
/* Copies the rows, as they are now, into panels of 16 (component k of row 16 p + r at pk[(p d + k) 16 + r],
 * zeros past the last row): the form in which wnw_knn_join's fused kernel reads the queries q. Worth it
 * for a set that is joined many times; -1 when out of memory. */
int wnw_vecs_pack(struct wnw_vecs *s);

/* Squared norm of a, summed in float in a fixed order (error at most d * 2^-24 relative). */
float wnw_knn_norm2(const float *a, size_t d);
/* Squared L2 distance, accumulated in double in a fixed order, so every caller gets the same bits
 * for the same pair: the rounding of the f32 inputs is the only error that matters. Never negative. */
double wnw_knn_dist2(const float *a, const float *b, size_t d);
/* out[i] = wnw_knn_dist2(a, b[i], d) for i < n, with the same bits, several at a time where the CPU allows. */
void wnw_knn_dist2_many(const float *a, const float *const *b, size_t n, size_t d, double *out);
/* G[i * ldg + j] = a_i . b_j for i < m, j < n (single-precision BLAS). */
void wnw_knn_dots(const float *a, size_t m, const float *b, size_t n, size_t d, float *g, size_t ldg);

/* The visitor of wnw_knn_join: told the exact squared distance d2 of query qi and candidate xj, returns
 * the new limit of query qi (no later candidate with an exact squared distance above it is wanted). */
typedef double (*wnw_knn_visit)(void *ctx, size_t qi, size_t xj, double d2);

/* For queries q0 <= qi < q1 of q and candidates x0 <= xj < x1 of x: screens every pair by the expansion
 * |q|^2 + |x|^2 - 2 q.x less its rounding bound, computes the exact distance d2 (wnw_knn_dist2) of every
 * pair the screen lets through, and calls fn for those with d2 <= limit[qi - q0] at that moment. Pairs of
 * one query are visited in increasing xj (those of different queries may interleave). So fn sees every
 * pair whose exact squared distance is <= limit[qi - q0] (as updated by fn), whatever the block size,
 * kernel or BLAS. When q is packed (wnw_vecs_pack) and the CPU has AVX2 and FMA, the dot products and the
 * screen are fused in one kernel that writes no matrix; otherwise they come from one BLAS matrix product
 * into g, scratch of (q1 - q0) * (x1 - x0) floats. */
void wnw_knn_join(const struct wnw_vecs *q, size_t q0, size_t q1, const struct wnw_vecs *x, size_t x0,
		  size_t x1, double *limit, float *g, wnw_knn_visit fn, void *ctx);
/* The visitor of wnw_knn_join_bounds: the exact squared distance of query qi and candidate xj lies in
 * [lo, hi] (hi - lo about 8 (d + 16) 2^-24 (|q|^2 + |x|^2)); returns the new limit of query qi. */
typedef double (*wnw_knn_bvisit)(void *ctx, size_t qi, size_t xj, double lo, double hi);

/* wnw_knn_join without the exact distances: calls fn for every pair whose lower bound is <= limit[qi - q0]
 * at that moment (so for every pair whose exact squared distance is), with bounds from the screen's own
 * products, in an order that may differ between kernels and block sizes. For callers that need exact
 * distances only of the few pairs that end up mattering: computing each one costs more than the screen. */
void wnw_knn_join_bounds(const struct wnw_vecs *q, size_t q0, size_t q1, const struct wnw_vecs *x, size_t x0,
			 size_t x1, double *limit, float *g, wnw_knn_bvisit fn, void *ctx);

/* For queries q0 <= qi < q1 and candidates x0 <= xj < x1: hi[(qi - q0) ldh + xj - x0] = the upper bound
 * that wnw_knn_join_bounds would give its visitor for the pair, rounded up to a float; g as there. */
void wnw_knn_join_hi(const struct wnw_vecs *q, size_t q0, size_t q1, const struct wnw_vecs *x, size_t x0,
		     size_t x1, float *g, float *hi, size_t ldh);

/* One neighbour in a top-K list. ref is the caller's handle for the candidate (the last key of the rank);
 * tag is 32 more bits for the caller that take no part in the rank. A hit offered with bounds only has
 * dist < 0 until wnw_topk_exact gives its distance; lo and hi always bound its exact squared distance. */
struct wnw_hit {
	float dist;
	uint32_t tag;
	uint64_t id;
	uint64_t ref;
	float lo, hi;
};

/* hit a ranks before b: smaller distance, then smaller id, then smaller ref. */
static inline int wnw_hit_less(const struct wnw_hit *a, const struct wnw_hit *b)
{
	if (a->dist != b->dist)
		return a->dist < b->dist;
	if (a->id != b->id)
		return a->id < b->id;
	return a->ref < b->ref;
}

/* The K best hits of one query under the rank of wnw_hit_less, or a few more while some distances are
 * known only within bounds. Hits are appended to a buffer of 5K/4 (at least K + 16) while their lower
 * bound is within the limit of the last trim; a full buffer is trimmed by selection, so each hit costs
 * O(1) amortised instead of a heap's O(log K). A trim keeps every hit that may still rank among the K
 * best: with U the K-th smallest upper bound, it drops the hits whose lower bound puts their distance
 * above every distance up to sqrt(U); when all kept hits are exact it keeps exactly the K best. When the
 * hits whose bounds straddle U fill half the spare room (many candidates at one distance), the buffer
 * doubles and `crowded` is set: the caller should make their distances exact and trim again. */
struct wnw_topk {
	struct wnw_hit *h;
	uint32_t n, k, cap;
	uint32_t base;    /* the usual cap, to which a crowded buffer returns once settled */
	uint32_t ndrop;   /* after a trim: the hits dropped, at h[n .. n + ndrop) */
	uint32_t nbound;  /* hits in h[0, n) known only within bounds */
	int crowded;
	int exact_kth;    /* kth holds the K-th best at the last trim (all hits exact then) */
	struct wnw_hit kth;
	double limit;     /* wnw_topk_limit */
};

int wnw_topk_init(struct wnw_topk *t, uint32_t k);
void wnw_topk_free(struct wnw_topk *t);
/* Empties the list (same K). */
void wnw_topk_reset(struct wnw_topk *t);
/* Offers c, whose distance is exact: returns 0 when it cannot rank, 1 when added, 2 when added and the
 * buffer was then trimmed: the t->ndrop hits dropped are at t->h[t->n ...], valid until the next call
 * on t; -1 when a crowded buffer could not grow (out of memory: the list is no longer whole). */
int wnw_topk_offer(struct wnw_topk *t, const struct wnw_hit *c);
/* Offers c (its dist ignored) whose exact squared distance lies in [lo, hi]; returns as wnw_topk_offer. */
int wnw_topk_offer_bounds(struct wnw_topk *t, const struct wnw_hit *c, double lo, double hi);
/* Makes the distance of hit i exact, from its exact squared distance d2 (wnw_knn_dist2). */
void wnw_topk_exact(struct wnw_topk *t, uint32_t i, double d2);
/* Trims now (dropped hits as after wnw_topk_offer), setting crowded anew. -1 when out of memory. */
int wnw_topk_trim(struct wnw_topk *t);
/* Limits the list from the start by the upper bounds hi[0, n) of n candidates that will all be offered to
 * it (hi is reordered): with n > K, a candidate whose distance exceeds the K-th smallest cannot rank. */
void wnw_topk_seed(struct wnw_topk *t, float *hi, size_t n);
/* The largest exact squared distance a candidate may have and still rank: +inf until the first trim
 * or seed, then a bound just above the square of the K-th distance, or of sqrt(U), then (float rounding
 * included). */
double wnw_topk_limit(const struct wnw_topk *t);
/* Trims to the K best (dropped hits as after wnw_topk_offer) and sorts them in rank order. Every hit
 * must be exact. */
void wnw_topk_sort(struct wnw_topk *t);
/* Trims to the K best, in no particular order, making exact (by d2(ctx, hit), its exact squared distance)
 * only the hits whose bounds overlap at the K-th place: the others keep dist < 0 and are among the K best
 * whatever their exact distances. Dropped hits as after wnw_topk_offer; -1 when out of memory. */
int wnw_topk_finish(struct wnw_topk *t, double (*d2)(void *ctx, const struct wnw_hit *h), void *ctx);

/* Self-join: the k nearest rows of x to each row of x (itself included), among rows at exact squared
 * distance <= r2 (INFINITY: no radius). With nlist <= 1 it is exact: every pair within r2 is found.
 * Otherwise an inverted-file index: k-means (on the same kernel, deterministic seeding) splits the rows
 * into nlist cells; the rows of a cell are compared with the rows of the nprobe cells whose centroids are
 * nearest to its own centroid (its own included), so a neighbour in a farther cell may be missed.
 * In both, cell pairs whose rows are provably all farther apart than sqrt(r2) (by their projections on
 * the line between the centroids) are skipped; for that the exact join, too, splits a set of more than a
 * few thousand rows into cells (exact_cells: their number, 0 for the square root of the row count).
 * Calls done(ctx, i, hits, n) once per row i, from any of `threads` threads, with its hits in rank order
 * (ref = row index). Returns 0, or -1 with e set (out of memory, no thread). */
struct wnw_self_stats {
	uint32_t cells;  /* cells of the partition (1: none) */
	uint32_t fine;   /* fine cells */
	uint64_t pairs;  /* pairs of rows compared, of n^2 */
};
struct wnw_self_opts {
	uint32_t k;
	double r2;
	uint32_t nlist, nprobe;
	uint32_t exact_cells;
	int threads;
	struct wnw_self_stats *stats; /* filled when not NULL */
};
int wnw_knn_self(const struct wnw_vecs *x, const struct wnw_self_opts *o,
		 void (*done)(void *ctx, size_t i, const struct wnw_hit *h, uint32_t n), void *ctx,
		 struct wnw_err *e);

#endif
