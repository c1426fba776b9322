/* logreg.c: see logreg.h. */
#include "logreg.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double logreg_nls(double z)
{
	/* log1p(exp(-|z|)) never overflows; the max(-z, 0) part carries the linear tail. */
	return (z < 0 ? -z : 0.0) + log1p(exp(-fabs(z)));
}

double logreg_sigm(double z)
{
	if (z >= 0) {
		double e = exp(-z);
		return e / (1.0 + e);
	}
	return 1.0 / (1.0 + exp(z));
}

/* LAPACK's Cholesky, as OpenBLAS provides it (blocked, one thread under openblas_set_num_threads(1)). */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);

int logreg_chol(double *A, int d)
{
	/* The row-major lower triangle is LAPACK's column-major upper one: U^T U = A there is
	 * L L^T = A here, with L = U^T. */
	int info = 0;
	dpotrf_("U", &d, A, &d, &info);
	return info == 0 ? 0 : -1;
}

void logreg_chol_solve(const double *L, int d, double *x)
{
	cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, d, L, d, x, 1);
	cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, d, L, d, x, 1);
}

void logreg_accum_rows(const float *G, size_t n, int d, const double *beta, double *f, double *grad,
		       double *hess)
{
	for (size_t r = 0; r < n; r++) {
		const float *g = G + r * (size_t)d;
		double z = 0;
		for (int j = 0; j < d; j++)
			z += (double)g[j] * beta[j];
		*f += logreg_nls(z);
		double q = logreg_sigm(z);
		for (int j = 0; j < d; j++)
			grad[j] -= q * g[j];
		if (!hess)
			continue;
		double w = q * (1.0 - q);
		for (int i = 0; i < d; i++) {
			double wi = w * g[i];
			double *hi = hess + (size_t)i * d;
			for (int j = 0; j < d; j++)
				hi[j] += wi * g[j];
		}
	}
}

static double dot(const double *a, const double *b, int d)
{
	double s = 0;
	for (int i = 0; i < d; i++)
		s += a[i] * b[i];
	return s;
}

/* F with the regularisation added to what eval gives. */
static void eval_full(logreg_eval_fn eval, void *ctx, int d, double C, const double *beta, double *f,
		      double *grad, double *hess)
{
	eval(ctx, beta, f, grad, hess);
	*f += dot(beta, beta, d) / (2 * C);
	for (int i = 0; i < d; i++) {
		grad[i] += beta[i] / C;
		if (hess)
			hess[(size_t)i * d + i] += 1.0 / C;
	}
}

int logreg_newton(int d, logreg_eval_fn eval, void *ctx, const struct logreg_opts *o, double *beta,
		  struct logreg_info *info)
{
	size_t dd = (size_t)d * d;
	double *H = malloc(dd * sizeof *H), *A = malloc(dd * sizeof *A);
	double *g = malloc((size_t)d * sizeof *g), *p = malloc((size_t)d * sizeof *p);
	double *bt = malloc((size_t)d * sizeof *bt), *gt = malloc((size_t)d * sizeof *gt);
	int rc = -1;
	memset(info, 0, sizeof *info);
	if (!H || !A || !g || !p || !bt || !gt)
		goto out;
	double f, ft;
	memset(bt, 0, (size_t)d * sizeof *bt);
	eval_full(eval, ctx, d, o->C, bt, &ft, gt, NULL);
	info->gnorm0 = sqrt(dot(gt, gt, d));
	double goal = fmax(o->atol, o->rtol * info->gnorm0);
	eval_full(eval, ctx, d, o->C, beta, &f, g, H);
	for (;;) {
		info->f = f;
		info->gnorm = sqrt(dot(g, g, d));
		if (info->gnorm <= goal) {
			info->converged = 1;
			break;
		}
		if (info->iters >= o->maxit)
			break;
		memcpy(A, H, dd * sizeof *A);
		if (logreg_chol(A, d) < 0)
			goto out;
		for (int i = 0; i < d; i++)
			p[i] = -g[i];
		logreg_chol_solve(A, d, p);
		double slope = dot(g, p, d), t = 1.0;
		int accepted = 0;
		/* Armijo backtracking; Newton steps on this objective are accepted at t = 1 near the
		 * minimum, so the loop matters only far from it. */
		while (t > 1e-12) {
			for (int i = 0; i < d; i++)
				bt[i] = beta[i] + t * p[i];
			eval_full(eval, ctx, d, o->C, bt, &ft, gt, H);
			/* room for the rounding of F itself, or the last digits would stall the search */
			if (ft <= f + 1e-4 * t * slope + 8 * DBL_EPSILON * fabs(f)) {
				accepted = 1;
				break;
			}
			t *= 0.5;
		}
		if (!accepted)
			break; /* no decrease is representable any more: rounding has the last word */
		memcpy(beta, bt, (size_t)d * sizeof *beta);
		memcpy(g, gt, (size_t)d * sizeof *g);
		f = ft;
		info->iters++;
	}
	rc = 0;
out:
	free(H), free(A), free(g), free(p), free(bt), free(gt);
	return rc;
}

struct rows_ctx {
	const float *G;
	size_t n;
	int d;
};

static void rows_eval(void *ctx, const double *beta, double *f, double *grad, double *hess)
{
	const struct rows_ctx *c = ctx;
	*f = 0;
	memset(grad, 0, (size_t)c->d * sizeof *grad);
	if (hess)
		memset(hess, 0, (size_t)c->d * c->d * sizeof *hess);
	logreg_accum_rows(c->G, c->n, c->d, beta, f, grad, hess);
}

int logreg_fit_rows(const float *G, size_t n, int d, const struct logreg_opts *o, double *beta,
		    struct logreg_info *info)
{
	struct rows_ctx c = {G, n, d};
	return logreg_newton(d, rows_eval, &c, o, beta, info);
}
