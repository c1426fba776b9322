/* gradex.h: GradEx estimates of fine-tuning loss for subsets of data groups (Li, Zhang, Wang, Zhang,
 * EMNLP Findings 2024), the engine behind gradex(1).
 *
 * Pool example x has a projected output gradient g_x (d floats) and belongs to one group; a subset S
 * is a set of groups. The estimator fits
 *     beta_S = argmin_beta  F_S(beta) = sum_{x in S} -log sigmoid(g_x . beta) + ||beta||^2 / (2 C)
 * and predicts each target output as f0(t) + s * g_t . beta_S / ||beta_S||; L(S) is the mean over
 * targets of -log sigmoid(prediction).
 *
 * How many subsets are solved cheaply: the full pool is fitted once by Newton's method (beta_0), and
 * each group's Hessian H_k and gradient at beta_0 are kept. A subset starts at beta_0, whose gradient
 * sum_{k in S} grad_k + beta_0 / C is known without touching the data, and is solved by L-BFGS whose
 * initial inverse Hessian is (sum_{k in S} H_k + I/C)^-1 (one Cholesky per subset), with Armijo
 * backtracking. Each iteration needs F_S and its gradient at a new point, one pass over the subset's
 * rows; many subsets (a batch) share each pass, so the pass is two matrix products per block of
 * rows (margins Z = G_block B, then G_block^T r(Z)) instead of memory-bound vector products.
 * Each subset is solved to ||grad F_S|| <= tol * scale_S with
 *     scale_S = max(||sum_{x in S} g_x||, sqrt(sum_{x in S} ||g_x||^2)) / 2,
 * ||grad F_S(0)|| or the size of a sum of |S| unrelated gradients, whichever is larger.
 *
 * Determinism: the work is cut into blocks that do not depend on the thread count, BLAS runs one
 * thread per call, and partial sums are added in block order, so every result is the same bits for
 * any number of threads. Pure computation: never prints, never exits. */
#ifndef WINNOW_GRADEX_H
#define WINNOW_GRADEX_H

#include <stddef.h>
#include <stdint.h>

#include "par.h"
#include "winnow.h"

/* The data, owned by the caller for the engine's lifetime. */
struct gx_data {
	int d;
	size_t n;          /* pool rows */
	uint32_t ngroups;  /* >= 1, each with at least one row */
	const size_t *off; /* ngroups + 1 offsets: group k is rows [off[k], off[k+1]) */
	const float *g;    /* n x d pool gradients, row-major, rows ordered by group */
	size_t nt;         /* target rows, >= 1 */
	const float *tg;   /* nt x d target gradients */
	const double *tf0; /* nt target outputs f0 */
};

struct gx_params {
	double C;    /* regularisation, > 0 */
	double step; /* s: norm of the weight change in projected space, >= 0 */
	double tol;  /* relative gradient tolerance of every fit, see above */
	int maxit;   /* iterations per fit at most */
	int batch;   /* subsets sharing each pass over the data */
};

struct gx_stats {
	int full_iters;        /* Newton steps of the full-pool fit */
	double full_rel;       /* its final ||grad|| / scale */
	uint64_t subsets;      /* subsets solved */
	uint64_t iters;        /* accepted L-BFGS steps, all subsets */
	uint64_t evals;        /* gradient evaluations, all subsets */
	uint64_t rounds;       /* passes over the data */
	uint64_t unconverged;  /* subsets that stopped above the tolerance */
	double worst_rel;      /* largest final ||grad|| / scale over subsets */
};

struct gx_engine;

/* Fits the full pool and prepares the per-group pieces (memory: ngroups * d^2 doubles plus per-thread
 * blocks). tp runs the work; NULL runs it on the calling thread. Returns NULL with e set on failure. */
struct gx_engine *gx_new(const struct gx_data *data, const struct gx_params *p, struct wnw_pool *tp,
			 struct wnw_err *e);
/* L(S_j) for nsub subsets: subset j is the size[j] distinct group indices mem[j][0..size[j]-1]
 * (size[j] >= 1). When beta is not NULL it receives the nsub x d solutions beta_{S_j}.
 * Returns 0, or -1 with e set. */
int gx_losses(struct gx_engine *x, size_t nsub, const uint32_t *const *mem, const uint32_t *size,
	      double *loss, double *beta, struct wnw_err *e);
/* The full-pool solution beta_0 (d entries). */
const double *gx_beta0(const struct gx_engine *x);
const struct gx_stats *gx_stats(const struct gx_engine *x);
void gx_free(struct gx_engine *x);

/* Subset j of the random ensemble: k distinct groups out of ngroups, uniformly (a partial Fisher-Yates
 * shuffle driven by wnw_rng seeded from seed and j, so subset j never depends on the others), written to
 * out in increasing order. scratch holds ngroups entries. */
void gx_draw_subset(uint64_t seed, uint64_t j, uint32_t ngroups, uint32_t k, uint32_t *out,
		    uint32_t *scratch);

/* Ensemble scores: score[g] = mean of loss over the subsets containing g minus the mean over those
 * not containing it; NaN when either side is empty. in[g] receives how many subsets contain g. */
void gx_scores(uint32_t ngroups, size_t nsub, const uint32_t *const *mem, const uint32_t *size,
	       const double *loss, double *score, uint64_t *in);

#endif
