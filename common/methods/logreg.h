/* logreg.h: L2-regularised logistic regression with every example a positive, the estimator inside
 * gradex(1). The objective over rows g_1..g_n of a design matrix is
 *     F(beta) = sum_i -log sigmoid(g_i . beta) + ||beta||^2 / (2 C),
 * strictly convex for C > 0, so it has one minimiser. Pure computation: never prints, never exits. */
#ifndef WINNOW_LOGREG_H
#define WINNOW_LOGREG_H

#include <math.h>
#include <stddef.h>

/* -log sigmoid(z) = log(1 + exp(-z)), without overflow or loss of precision for any finite z. */
double logreg_nls(double z);
/* sigmoid(-z) = 1 / (1 + exp(z)): minus the derivative of logreg_nls at z. */
double logreg_sigm(double z);
/* A sum of nls(z) over many z with one logarithm per 512 terms: nls(z) = max(-z, 0) + log(1 + e) with
 * e = exp(-|z|), and the logarithms of a block are taken as the logarithm of the product of its 1 + e
 * factors (each in (1, 2], so a block's product stays below 2^512). Rounding is about 2.3e-16 absolute
 * per term, as with one logarithm of the rounded 1 + e per term. */
struct logreg_sum {
	double lin, prod, total;
	int k;
};

static inline void logreg_sum_init(struct logreg_sum *s)
{
	s->lin = 0, s->prod = 1, s->total = 0, s->k = 0;
}

/* Adds nls(z) to the sum and returns sigm(z), with one exponential for both. */
static inline double logreg_sum_add(struct logreg_sum *s, double z)
{
	double e = exp(-fabs(z)), den = 1.0 + e;
	if (z < 0)
		s->lin -= z;
	s->prod *= den;
	if (++s->k == 512) {
		s->total += log(s->prod);
		s->prod = 1, s->k = 0;
	}
	return z >= 0 ? e / den : 1.0 / den;
}

static inline double logreg_sum_value(const struct logreg_sum *s) { return (s->total + log(s->prod)) + s->lin; }

/* In-place Cholesky factorisation of the symmetric positive definite d x d matrix A (row-major; only
 * the lower triangle is read): on return the lower triangle holds L with A = L L^T. Returns 0, or -1
 * when a pivot is not positive (A not positive definite to working precision). */
int logreg_chol(double *A, int d);
/* Solves L L^T x = b in place (x holds b on entry), L from logreg_chol. */
void logreg_chol_solve(const double *L, int d, double *x);

/* Data term over n float rows of G (row-major, n x d), accumulated into the outputs:
 * *f += sum_i nls(z_i), grad += sum_i -sigm(z_i) g_i, and when hess is not NULL,
 * hess += sum_i w_i g_i g_i^T with w_i = sigmoid(z_i) sigmoid(-z_i) (full d x d, both triangles),
 * where z_i = g_i . beta. All arithmetic in double. */
void logreg_accum_rows(const float *G, size_t n, int d, const double *beta, double *f, double *grad,
		       double *hess);

/* The data term at beta: sets *f, grad (d) and hess (d x d, symmetric). */
typedef void (*logreg_eval_fn)(void *ctx, const double *beta, double *f, double *grad, double *hess);

struct logreg_opts {
	double C;    /* regularisation: the penalty is ||beta||^2 / (2 C); C > 0 */
	double atol; /* stop when ||grad F|| <= atol ... */
	double rtol; /* ... or when ||grad F|| <= rtol * ||grad F(0)|| */
	int maxit;   /* Newton iterations at most */
};

struct logreg_info {
	int iters;      /* Newton steps taken */
	int converged;  /* 1 when the gradient test was met */
	double f;       /* F at the returned beta, regularisation included */
	double gnorm;   /* ||grad F|| there */
	double gnorm0;  /* ||grad F(0)|| */
};

/* Minimises F by Newton's method with a Cholesky solve and Armijo backtracking, starting from beta
 * (d entries, read and overwritten; zeros are a safe start). eval gives the data term; this adds the
 * regularisation. Stops at the gradient test, after maxit steps, or when no step decreases F any more
 * (rounding has the last word; info->converged says which). Returns 0, or -1 when out of memory or
 * the Hessian cannot be factored. */
int logreg_newton(int d, logreg_eval_fn eval, void *ctx, const struct logreg_opts *o, double *beta,
		  struct logreg_info *info);

/* logreg_newton over the n float rows of G, single-threaded. */
int logreg_fit_rows(const float *G, size_t n, int d, const struct logreg_opts *o, double *beta,
		    struct logreg_info *info);

#endif
