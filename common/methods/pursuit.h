/* pursuit.h: non-negative greedy pursuit (Gradient Trajectory Pursuit, winnow's definition; pursuit(1)).
 *
 * Given candidate vectors a_1..a_n (the rows of a pur_mat) and a goal vector b, it looks for weights
 *     beta >= 0 with at most K non-zero entries minimising || sum_i beta_i a_i - K b ||^2
 * by a non-negative orthogonal matching pursuit (batch == 0) or a CoSaMP-style batch variant
 * (batch == B). Correlations are computed in f32 by one kernel whose summation order depends only on
 * the dimension, so results are bit-identical for any thread count; everything else is in double.
 * Like the rest of common/, this never prints and never exits. */
#ifndef WINNOW_PURSUIT_H
#define WINNOW_PURSUIT_H

#include <stddef.h>
#include <stdint.h>

#include "par.h"
#include "winnow.h"

/* The candidates: n rows of d floats, held in memory (4 n d bytes, plus 9 n for norms and flags; OMP
 * adds 2 n d bytes for an f16 copy of the unit rows that screens each pass, with exact rescoring). */
struct pur_mat {
	size_t n, cap;
	uint32_t d;
	float *v;   /* n x d, row-major */
	float *inv; /* 1 / ||a_i|| in f32, 0 for a zero row */
};

void pur_mat_init(struct pur_mat *m, uint32_t d);
void pur_mat_free(struct pur_mat *m);
void pur_mat_clear(struct pur_mat *m);
/* Room for one more row; returns its storage (d floats) or NULL when out of memory. Call
 * pur_mat_commit after filling it. */
float *pur_mat_push(struct pur_mat *m);
void pur_mat_commit(struct pur_mat *m);
/* Removes the rows idx[0..k-1] (distinct, any order), keeping the others in order, and the entries of
 * tag (n of them, or NULL) alongside: what a new round of the pursuit runs on. */
void pur_mat_remove(struct pur_mat *m, const size_t *idx, size_t k, uint64_t *tag);

enum pur_stop {
	PUR_STOP_K = 1,   /* K vectors have non-zero weight */
	PUR_STOP_NOCORR,  /* no unused candidate has a positive correlation with the residual */
	PUR_STOP_STALL,   /* a step (OMP) or round (batch) did not lower the residual */
	PUR_STOP_TOL,     /* residual <= tol * ||K b|| */
	PUR_STOP_STEPS    /* the step limit: 2K + 10 steps (OMP), 2 ceil(K/B) + 10 rounds (batch) */
};
const char *pur_stop_name(int stop);

/* One line of --report: after step (OMP) or round (batch) `step`, `size` vectors have non-zero
 * weight and the residual norm is resid (rel = resid / ||K b||). */
struct pur_step {
	uint32_t step, size;
	double resid, rel;
};

struct pur_opts {
	uint32_t k;     /* K >= 1 */
	uint32_t batch; /* 0: OMP; B >= 1: batch variant */
	double tol;     /* relative residual at which to stop (0: never) */
	int exact;      /* 1: no f16 screening of the OMP pass (the result is the same; for tests) */
	struct wnw_pool *pool; /* threads for the correlation pass, or NULL */
	void (*report)(void *ctx, const struct pur_step *st);
	void *report_ctx;
};

/* The selection in order of selection: rows idx[0..n-1] with weights beta[] > 0 (not normalised). */
struct pur_sel {
	uint32_t n;
	size_t *idx;
	double *beta;
	double resid, rel;
	int stop;
	uint32_t steps;
	uint32_t exact_passes; /* OMP steps whose pick needed the full f32 pass (the rest were screened) */
};

/* Runs the pursuit of goal b (d floats) over the rows of A. Returns 0 with *out filled (free it with
 * pur_sel_free), or -1 with e set (out of memory: WNW_EXIT_SYSTEM). */
int pur_run(const struct pur_mat *A, const float *b, const struct pur_opts *o, struct pur_sel *out,
	    struct wnw_err *e);
void pur_sel_free(struct pur_sel *s);

/* Correlation kernel, exposed for tests and benchmarks: the f32 inner product of x and y (d floats)
 * in the fixed summation order every pass uses. */
float pur_dot(const float *x, const float *y, uint32_t d);

#endif
