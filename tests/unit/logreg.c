/* Unit tests of common/logreg.c (the estimator's logistic regression) and common/gradex.c (batched
 * subset solves, ensemble scores), against independent reference computations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradex.h"
#include "logreg.h"
#include "par.h"
#include "rng.h"
#include "unit.h"

/* Rows uniform in [-1, 1]^d plus a shift, so that the all-positive fit is neither trivial nor
 * separable. */
static float *random_rows(struct wnw_rng *r, size_t n, int d, const double *shift)
{
	float *G = malloc(n * (size_t)d * sizeof *G);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < d; j++)
			G[i * (size_t)d + j] = (float)(2 * wnw_rng_uniform(r) - 1 + shift[j]);
	return G;
}

/* The full gradient of F in long double, computed independently of logreg.c. */
static long double grad_norm_ref(const float *G, size_t n, int d, double C, const double *beta)
{
	long double g[64] = {0}, s = 0;
	for (size_t i = 0; i < n; i++) {
		long double z = 0;
		for (int j = 0; j < d; j++)
			z += (long double)G[i * (size_t)d + j] * beta[j];
		long double q = 1.0L / (1.0L + expl(z));
		for (int j = 0; j < d; j++)
			g[j] -= q * G[i * (size_t)d + j];
	}
	for (int j = 0; j < d; j++) {
		g[j] += beta[j] / C;
		s += g[j] * g[j];
	}
	return sqrtl(s);
}

static void test_scalar_functions(void)
{
	CLOSE(logreg_nls(0), log(2.0), 1e-16, "nls(0) is log 2");
	CLOSE(logreg_nls(40), exp(-40), 1e-30, "nls(40) keeps its tiny value exp(-40)");
	CLOSE(logreg_nls(-800), 800, 1e-12, "nls(-800) is 800 without overflow");
	CHECK(logreg_nls(800) == 0 || logreg_nls(800) < 1e-300, "nls(800) underflows quietly");
	CLOSE(logreg_sigm(-800), 1, 0, "sigm(-800) is 1");
	CLOSE(logreg_sigm(800), 0, 1e-300, "sigm(800) is 0, not NaN");
	CLOSE(logreg_sigm(1.5) + logreg_sigm(-1.5), 1, 1e-16, "sigm(z) + sigm(-z) = 1");
	/* The blocked sum against a long-double sum of the separate functions, over 3000 terms. */
	struct logreg_sum acc;
	long double ref = 0;
	int same = 1;
	logreg_sum_init(&acc);
	for (int i = 0; i < 3000; i++) {
		double z = -30 + 60.0 * i / 2999, q = logreg_sum_add(&acc, z);
		ref += logreg_nls(z);
		same &= fabs(q - logreg_sigm(z)) <= 1e-16;
	}
	CHECK(same, "the summing accumulator returns sigm(z)");
	CLOSE(logreg_sum_value(&acc), (double)ref, 3000 * 2.3e-16 + 1e-15 * (double)ref,
	      "the blocked sum of nls matches the plain sum");
}

static void test_cholesky(void)
{
	double A[9] = {4, 12, -16, 12, 37, -43, -16, -43, 98}, L[9];
	memcpy(L, A, sizeof A);
	CHECK(logreg_chol(L, 3) == 0, "cholesky of a positive definite matrix succeeds");
	CLOSE(L[0], 2, 1e-15, "L[0][0]");
	CLOSE(L[3], 6, 1e-15, "L[1][0]");
	CLOSE(L[4], 1, 1e-15, "L[1][1]");
	CLOSE(L[6], -8, 1e-15, "L[2][0]");
	CLOSE(L[7], 5, 1e-15, "L[2][1]");
	CLOSE(L[8], 3, 1e-15, "L[2][2]");
	const double b[3] = {1, 2, 3};
	double x[3] = {1, 2, 3};
	logreg_chol_solve(L, 3, x);
	double worst = 0;
	for (int i = 0; i < 3; i++) {
		double r = -b[i];
		for (int j = 0; j < 3; j++)
			r += A[i * 3 + j] * x[j];
		worst = fmax(worst, fabs(r));
	}
	CLOSE(worst, 0, 1e-12, "the Cholesky solve satisfies A x = b");
	double N[4] = {1, 2, 2, 1};
	CHECK(logreg_chol(N, 2) == -1, "an indefinite matrix is refused");
}

/* One dimension, n equal rows c: F'(b) = -n c sigm(c b) + b / C, solved by bisection. */
static void test_scalar_problem(void)
{
	const double c = 0.7, C = 0.05;
	const size_t n = 40;
	float G[40];
	for (size_t i = 0; i < n; i++)
		G[i] = (float)c;
	double cf = (float)c, lo = 0, hi = 100;
	for (int it = 0; it < 200; it++) {
		double mid = 0.5 * (lo + hi);
		if (-(double)n * cf * logreg_sigm(cf * mid) + mid / C < 0)
			lo = mid;
		else
			hi = mid;
	}
	double beta = 0;
	struct logreg_opts o = {C, 1e-12, 0, 50};
	struct logreg_info info;
	CHECK(logreg_fit_rows(G, n, 1, &o, &beta, &info) == 0 && info.converged, "1-d fit converges");
	CLOSE(beta, 0.5 * (lo + hi), 1e-12, "1-d fit matches bisection on the derivative");
}

/* d = 5, n = 60: Newton against long-double gradient descent run to its own fixed point. */
static void test_small_problem(void)
{
	struct wnw_rng r;
	wnw_rng_seed(&r, 7);
	const int d = 5;
	const size_t n = 60;
	const double C = 2.0, shift[5] = {0.4, -0.2, 0.1, 0, 0.3};
	float *G = random_rows(&r, n, d, shift);
	double beta[5] = {0};
	struct logreg_opts o = {C, 1e-11, 0, 50};
	struct logreg_info info;
	CHECK(logreg_fit_rows(G, n, d, &o, beta, &info) == 0 && info.converged, "Newton converges (%d steps)",
	      info.iters);
	long double gn = grad_norm_ref(G, n, d, C, beta);
	CHECK(gn < 1e-8L, "gradient norm at the Newton solution below 1e-8 (%.3Lg)", gn);
	/* Reference: gradient descent with step 1/Lip, Lip = sum ||g||^2 / 4 + 1/C, in long double. */
	long double b[5] = {0}, lip = 1.0L / C;
	for (size_t i = 0; i < n * (size_t)d; i++)
		lip += 0.25L * G[i] * G[i];
	for (int it = 0; it < 20000; it++) {
		long double g[5] = {0};
		for (size_t i = 0; i < n; i++) {
			long double z = 0;
			for (int j = 0; j < d; j++)
				z += (long double)G[i * (size_t)d + j] * b[j];
			long double q = 1.0L / (1.0L + expl(z));
			for (int j = 0; j < d; j++)
				g[j] -= q * G[i * (size_t)d + j];
		}
		for (int j = 0; j < d; j++)
			b[j] -= (g[j] + b[j] / C) / lip;
	}
	double worst = 0;
	for (int j = 0; j < d; j++)
		worst = fmax(worst, fabs((double)b[j] - beta[j]));
	CLOSE(worst, 0, 1e-9, "Newton matches the gradient-descent reference solution");
	free(G);
}

/* A pool of groups large enough for several blocks of both passes (one group above 32768 rows). */
struct pool {
	int d;
	uint32_t ng;
	size_t n, off[7], nt;
	float *g, *tg;
	double *tf0;
};

static void make_pool(struct pool *p)
{
	static const size_t sizes[6] = {40000, 3000, 57, 900, 2500, 1};
	struct wnw_rng r;
	wnw_rng_seed(&r, 11);
	p->d = 8;
	p->ng = 6;
	p->off[0] = 0;
	for (int k = 0; k < 6; k++)
		p->off[k + 1] = p->off[k] + sizes[k];
	p->n = p->off[6];
	p->g = malloc(p->n * (size_t)p->d * sizeof *p->g);
	for (int k = 0; k < 6; k++) {
		double shift[8];
		for (int j = 0; j < 8; j++)
			shift[j] = 0.6 * (2 * wnw_rng_uniform(&r) - 1);
		float *rows = random_rows(&r, sizes[k], p->d, shift);
		memcpy(p->g + p->off[k] * p->d, rows, sizes[k] * p->d * sizeof *rows);
		free(rows);
	}
	double tshift[8] = {0.3, 0.1, -0.2, 0, 0, 0.2, -0.1, 0.4};
	p->nt = 50;
	p->tg = random_rows(&r, p->nt, p->d, tshift);
	p->tf0 = malloc(p->nt * sizeof *p->tf0);
	for (size_t t = 0; t < p->nt; t++)
		p->tf0[t] = 2 * wnw_rng_uniform(&r) - 1;
}

/* The estimator computed the plain way: Newton on the subset's rows, then the target loss. */
static double direct_loss(const struct pool *p, const uint32_t *mem, uint32_t k, double C, double s,
			  double *beta)
{
	size_t rows = 0;
	for (uint32_t i = 0; i < k; i++)
		rows += p->off[mem[i] + 1] - p->off[mem[i]];
	float *G = malloc((rows ? rows : 1) * p->d * sizeof *G);
	size_t at = 0;
	for (uint32_t i = 0; i < k; i++) {
		size_t m = p->off[mem[i] + 1] - p->off[mem[i]];
		memcpy(G + at * p->d, p->g + p->off[mem[i]] * p->d, m * p->d * sizeof *G);
		at += m;
	}
	struct logreg_opts o = {C, 1e-9, 0, 60};
	struct logreg_info info;
	memset(beta, 0, p->d * sizeof *beta);
	logreg_fit_rows(G, rows, p->d, &o, beta, &info);
	free(G);
	double norm = 0, L = 0;
	for (int j = 0; j < p->d; j++)
		norm += beta[j] * beta[j];
	norm = sqrt(norm);
	for (size_t t = 0; t < p->nt; t++) {
		double z = 0;
		for (int j = 0; j < p->d; j++)
			z += p->tg[t * p->d + j] * beta[j];
		L += logreg_nls(p->tf0[t] + s * z / norm);
	}
	return L / (double)p->nt;
}

static void test_engine(void)
{
	struct pool p;
	make_pool(&p);
	struct gx_data dt = {p.d, p.n, p.ng, p.off, p.g, p.nt, p.tg, p.tf0};
	struct gx_params prm = {0.01, 1.5, 1e-11, 200, 3};
	struct wnw_err e;
	enum { NSUB = 12 };
	uint32_t memb[NSUB][6], size[NSUB], scratch[6];
	const uint32_t *mem[NSUB];
	for (int j = 0; j < NSUB; j++) {
		size[j] = 1 + (uint32_t)j % 6;
		gx_draw_subset(5, (uint64_t)j, 6, size[j], memb[j], scratch);
		mem[j] = memb[j];
	}
	double loss1[NSUB], loss2[NSUB], loss3[NSUB], beta1[NSUB * 8], beta2[NSUB * 8];
	struct gx_engine *x = gx_new(&dt, &prm, NULL, &e);
	CHECK(x != NULL, "engine fits the full pool");
	if (!x)
		return;
	CHECK(gx_stats(x)->full_rel <= 1e-11, "full-pool fit meets its tolerance (%.3g)", gx_stats(x)->full_rel);
	CHECK(gx_losses(x, NSUB, mem, size, loss1, beta1, &e) == 0, "engine solves 12 subsets");
	CHECK(gx_stats(x)->unconverged == 0, "every subset solve converged (worst %.3g)",
	      gx_stats(x)->worst_rel);
	double worst_b = 0, worst_l = 0;
	for (int j = 0; j < NSUB; j++) {
		double b[8];
		double L = direct_loss(&p, mem[j], size[j], prm.C, prm.step, b);
		worst_l = fmax(worst_l, fabs(L - loss1[j]));
		for (int c = 0; c < 8; c++)
			worst_b = fmax(worst_b, fabs(b[c] - beta1[j * 8 + c]));
	}
	CLOSE(worst_b, 0, 1e-8, "batched L-BFGS solutions match Newton on each subset's rows");
	CLOSE(worst_l, 0, 1e-10, "estimated target losses match the direct computation");
	gx_free(x);

	struct wnw_pool *tp = wnw_pool_new(2);
	x = gx_new(&dt, &prm, tp, &e);
	CHECK(x && gx_losses(x, NSUB, mem, size, loss2, beta2, &e) == 0, "engine runs on two threads");
	CHECK(memcmp(loss1, loss2, sizeof loss1) == 0 && memcmp(beta1, beta2, sizeof beta1) == 0,
	      "two threads give the same bits as one");
	gx_free(x);
	prm.batch = 64;
	x = gx_new(&dt, &prm, tp, &e);
	CHECK(x && gx_losses(x, NSUB, mem, size, loss3, NULL, &e) == 0, "engine runs with a wide batch");
	worst_l = 0;
	for (int j = 0; j < NSUB; j++)
		worst_l = fmax(worst_l, fabs(loss3[j] - loss1[j]));
	CLOSE(worst_l, 0, 1e-10, "batch width changes nothing beyond rounding");
	gx_free(x);
	wnw_pool_free(tp);
	free(p.g), free(p.tg), free(p.tf0);
}

static void test_subsets_and_scores(void)
{
	uint32_t a[5], b[5], scratch[20];
	uint64_t count[20] = {0};
	int sorted = 1, same = 1;
	for (uint64_t j = 0; j < 4000; j++) {
		gx_draw_subset(42, j, 20, 5, a, scratch);
		gx_draw_subset(42, j, 20, 5, b, scratch);
		same &= memcmp(a, b, sizeof a) == 0;
		for (int i = 0; i < 5; i++) {
			sorted &= a[i] < 20 && (i == 0 || a[i - 1] < a[i]);
			count[a[i]]++;
		}
	}
	CHECK(same, "a subset depends only on seed and index");
	CHECK(sorted, "subsets hold distinct groups in increasing order");
	uint64_t lo = count[0], hi = count[0];
	for (int g = 1; g < 20; g++) {
		lo = count[g] < lo ? count[g] : lo;
		hi = count[g] > hi ? count[g] : hi;
	}
	/* Each group is in a subset with probability 1/4: mean 1000, sd about 27 over 4000 draws. */
	CHECK(lo > 880 && hi < 1120, "groups are drawn uniformly (%llu..%llu of 1000)", (unsigned long long)lo,
	      (unsigned long long)hi);

	/* Three groups, four subsets: {0}, {0,1}, {1,2}, {2} with losses 1, 2, 3, 4. */
	uint32_t s0[] = {0}, s1[] = {0, 1}, s2[] = {1, 2}, s3[] = {2};
	const uint32_t *mem[] = {s0, s1, s2, s3};
	uint32_t size[] = {1, 2, 2, 1};
	double loss[] = {1, 2, 3, 4}, score[3];
	uint64_t in[3];
	gx_scores(3, 4, mem, size, loss, score, in);
	CLOSE(score[0], 1.5 - 3.5, 1e-15, "score of group 0: mean(1,2) - mean(3,4)");
	CLOSE(score[1], 2.5 - 2.5, 1e-15, "score of group 1: mean(2,3) - mean(1,4)");
	CLOSE(score[2], 3.5 - 1.5, 1e-15, "score of group 2: mean(3,4) - mean(1,2)");
	CHECK(in[0] == 2 && in[1] == 2 && in[2] == 2, "membership counts");
	uint32_t t0[] = {0, 1};
	const uint32_t *mem2[] = {t0};
	uint32_t size2[] = {2};
	gx_scores(2, 1, mem2, size2, loss, score, in);
	CHECK(isnan(score[0]), "a group in every subset has no score (NaN)");
}

int main(void)
{
	test_scalar_functions();
	test_cholesky();
	test_scalar_problem();
	test_small_problem();
	test_engine();
	test_subsets_and_scores();
	return unit_failed;
}
