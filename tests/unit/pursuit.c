/* Unit tests of common/pursuit.c: synthetic recovery and duplicates (pursuit against top-K by cosine,
 * asserting both sides), the batch variant, thread-count independence, and the f32 kernel. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "par.h"
#include "pursuit.h"
#include "rng.h"
#include "unit.h"

static uint64_t rng_state = 7;
static double urand(void)
{
	return (double)(wnw_splitmix64(&rng_state) >> 11) / 9007199254740992.0;
}
static double nrand(void)
{
	double u = urand(), v = urand();
	return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

static void gauss_row(float *a, uint32_t d, double scale)
{
	for (uint32_t j = 0; j < d; j++)
		a[j] = (float)(nrand() * scale);
}

static double cosine(const float *a, const float *b, uint32_t d)
{
	double ab = 0, aa = 0, bb = 0;
	for (uint32_t j = 0; j < d; j++) {
		ab += (double)a[j] * b[j];
		aa += (double)a[j] * a[j];
		bb += (double)b[j] * b[j];
	}
	return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

/* The baseline: the k rows of largest cosine with b (ties: lower index), into out. */
static void topk_cosine(const struct pur_mat *A, const float *b, uint32_t k, size_t *out)
{
	double *c = malloc(A->n * sizeof *c);
	for (size_t i = 0; i < A->n; i++)
		c[i] = cosine(A->v + i * A->d, b, A->d);
	for (uint32_t t = 0; t < k; t++) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < A->n; i++)
			if (c[i] > -2 && (best == SIZE_MAX || c[i] > c[best]))
				best = i;
		out[t] = best;
		c[best] = -3;
	}
	free(c);
}

/* b = (8 a_0 + sum_{i=1}^{K-1} u_i a_i) / K + noise over K planted rows of a Gaussian pool, plus 60
 * near-copies of a_0 (0.9 a_0 + 0.44 g): top-K by cosine fills up on the near-copies, the pursuit
 * finds the planted rows. */
struct planted {
	struct pur_mat A;
	float *b;
	uint8_t *is_planted;
	uint32_t k;
};

static void make_planted(struct planted *P, uint32_t n, uint32_t d, uint32_t k)
{
	pur_mat_init(&P->A, d);
	P->k = k;
	P->is_planted = calloc(n, 1);
	P->b = calloc(d, sizeof *P->b);
	double *b = calloc(d, sizeof *b);
	for (uint32_t i = 0; i < n; i++) {
		float *a = pur_mat_push(&P->A);
		gauss_row(a, d, 1 / sqrt(d));
		pur_mat_commit(&P->A);
	}
	/* planted rows spread over the pool; row 17 is the dominant one */
	for (uint32_t t = 0; t < k; t++) {
		size_t i = 17 + (size_t)t * (n / k);
		P->is_planted[i] = 1;
		double c = t == 0 ? 8 : 0.5 + urand();
		for (uint32_t j = 0; j < d; j++)
			b[j] += c * P->A.v[i * d + j] / k;
	}
	for (uint32_t j = 0; j < d; j++)
		P->b[j] = (float)(b[j] + 0.002 * nrand() / sqrt(d));
	/* near-copies of the dominant row overwrite unplanted rows */
	for (uint32_t t = 0, placed = 0; placed < 60; t++) {
		size_t i = 5 + (size_t)t * 31;
		if (P->is_planted[i])
			continue;
		float *a = P->A.v + i * d;
		gauss_row(a, d, 1 / sqrt(d));
		for (uint32_t j = 0; j < d; j++)
			a[j] = (float)(0.9 * P->A.v[17 * d + j] + 0.44 * a[j]);
		double s = 0;
		for (uint32_t j = 0; j < d; j++)
			s += (double)a[j] * a[j];
		P->A.inv[i] = (float)(1 / sqrt(s));
		placed++;
	}
	free(b);
}

static void free_planted(struct planted *P)
{
	pur_mat_free(&P->A);
	free(P->b);
	free(P->is_planted);
}

static uint32_t count_planted(const struct planted *P, const size_t *idx, uint32_t n)
{
	uint32_t c = 0;
	for (uint32_t i = 0; i < n; i++)
		c += P->is_planted[idx[i]];
	return c;
}

static void recovery(struct wnw_pool *pool)
{
	struct planted P;
	uint32_t k = 40;
	make_planted(&P, 4000, 512, k);
	struct wnw_err e;
	struct pur_opts o = {.k = k, .tol = 0, .pool = NULL};
	struct pur_sel s;
	int rc = pur_run(&P.A, P.b, &o, &s, &e);
	CHECK(rc == 0, "pursuit runs on the planted problem");
	uint32_t got = count_planted(&P, s.idx, s.n);
	CHECK(s.n <= k && got * 100 >= 95 * k, "OMP recovers >= 95%% of %u planted rows (%u of %u chosen)", k, got,
	      s.n);
	CHECK(s.stop == PUR_STOP_K, "OMP stops with K reached (%s)", pur_stop_name(s.stop));
	int pos = 1;
	double sum = 0;
	for (uint32_t i = 0; i < s.n; i++) {
		pos &= s.beta[i] > 0;
		sum += s.beta[i];
	}
	CHECK(pos, "all chosen weights are positive");
	CLOSE(s.beta[0] / sum, 8.0 / (8 + (k - 1)), 0.05, "the dominant row gets its share of the weight");
	CHECK(s.idx[0] == 17, "the dominant row is chosen first");

	size_t *top = malloc(k * sizeof *top);
	topk_cosine(&P.A, P.b, k, top);
	uint32_t gt = count_planted(&P, top, k);
	CHECK(gt * 100 < 95 * k, "top-K by cosine does not (%u of %u)", gt, k);
	free(top);

	/* same selection and bit-identical weights on two threads */
	o.pool = pool;
	struct pur_sel s2;
	pur_run(&P.A, P.b, &o, &s2, &e);
	CHECK(s2.n == s.n && !memcmp(s2.idx, s.idx, s.n * sizeof *s.idx) &&
		      !memcmp(s2.beta, s.beta, s.n * sizeof *s.beta),
	      "two threads give the same rows and bit-identical weights");
	pur_sel_free(&s2);

	/* without the f16 screening: the same, bit for bit */
	o.exact = 1;
	pur_run(&P.A, P.b, &o, &s2, &e);
	CHECK(s2.n == s.n && !memcmp(s2.idx, s.idx, s.n * sizeof *s.idx) &&
		      !memcmp(s2.beta, s.beta, s.n * sizeof *s.beta),
	      "the exact pass gives the same rows and weights as the screened one");
	pur_sel_free(&s2);
	o.exact = 0;

	/* the batch variant */
	o.batch = 8;
	struct pur_sel sb;
	rc = pur_run(&P.A, P.b, &o, &sb, &e);
	got = count_planted(&P, sb.idx, sb.n);
	CHECK(rc == 0 && sb.n <= k && got * 100 >= 95 * k, "batch 8 recovers >= 95%% (%u of %u chosen, %s)", got, sb.n,
	      pur_stop_name(sb.stop));
	CHECK(sb.resid <= s.resid * 1.0001, "batch residual %.6g is no worse than OMP's %.6g", sb.resid, s.resid);
	pur_sel_free(&sb);
	pur_sel_free(&s);
	free_planted(&P);
}

/* 100 exact copies of the row that best matches b: the pursuit takes at most one, top-K by cosine all. */
static void duplicates(void)
{
	uint32_t n = 3000, d = 256, k = 100;
	struct pur_mat A;
	pur_mat_init(&A, d);
	for (uint32_t i = 0; i < n; i++) {
		gauss_row(pur_mat_push(&A), d, 1);
		pur_mat_commit(&A);
	}
	float *b = calloc(d, sizeof *b);
	for (uint32_t t = 0; t < 30; t++)
		for (uint32_t j = 0; j < d; j++)
			b[j] += A.v[(size_t)(t * 97 + 3) * d + j] * (t == 0 ? 5.0f : 1.0f) / 30;
	size_t best;
	topk_cosine(&A, b, 1, &best);
	const float *src = A.v + best * d;
	uint8_t *copy = calloc(n, 1);
	for (uint32_t c = 0, placed = 0; placed < 100; c++) {
		size_t i = 11 + (size_t)c * 29 % n;
		if (i == best || copy[i])
			continue;
		memcpy(A.v + i * d, src, d * sizeof *src);
		A.inv[i] = A.inv[best];
		copy[i] = 1;
		placed++;
	}
	copy[best] = 1;
	struct pur_opts o = {.k = k};
	struct pur_sel s;
	struct wnw_err e;
	pur_run(&A, b, &o, &s, &e);
	uint32_t dup = 0;
	for (uint32_t i = 0; i < s.n; i++)
		dup += copy[s.idx[i]];
	CHECK(dup == 1, "pursuit chooses one of the 101 identical rows (%u, %u chosen, %s)", dup, s.n,
	      pur_stop_name(s.stop));
	size_t top[100];
	topk_cosine(&A, b, k, top);
	uint32_t tdup = 0;
	for (uint32_t i = 0; i < k; i++)
		tdup += copy[top[i]];
	CHECK(tdup == 100, "top-K by cosine takes 100 of them (%u)", tdup);
	o.batch = 50;
	pur_sel_free(&s);
	pur_run(&A, b, &o, &s, &e);
	dup = 0;
	for (uint32_t i = 0; i < s.n; i++)
		dup += copy[s.idx[i]];
	CHECK(dup <= 1, "batch 50 takes at most one of them (%u)", dup);
	pur_sel_free(&s);
	free(copy);
	free(b);
	pur_mat_free(&A);
}

/* The kernel agrees with a double-precision product to f32 rounding, for every tail length. */
static void kernel(void)
{
	float x[300], y[300];
	gauss_row(x, 300, 1);
	gauss_row(y, 300, 1);
	int bad = 0;
	for (uint32_t d = 0; d <= 300; d++) {
		double ref = 0, mag = 0;
		for (uint32_t j = 0; j < d; j++) {
			ref += (double)x[j] * y[j];
			mag += fabs((double)x[j] * y[j]);
		}
		if (fabs(pur_dot(x, y, d) - ref) > 1e-6 * mag + 1e-30)
			bad++;
	}
	CHECK(bad == 0, "pur_dot matches the double product to 1e-6 relative for d = 0..300 (%d off)", bad);
}

/* Edge cases: an empty pool, a zero goal, zero rows, a pool smaller than K. */
static void edges(void)
{
	struct pur_mat A;
	pur_mat_init(&A, 4);
	float b[4] = {1, 2, 0, 0};
	struct pur_opts o = {.k = 5};
	struct pur_sel s;
	struct wnw_err e;
	CHECK(pur_run(&A, b, &o, &s, &e) == 0 && s.n == 0, "an empty pool gives an empty selection");
	pur_sel_free(&s);
	float rows[3][4] = {{0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}};
	for (int i = 0; i < 3; i++) {
		memcpy(pur_mat_push(&A), rows[i], sizeof rows[i]);
		pur_mat_commit(&A);
	}
	pur_run(&A, b, &o, &s, &e);
	CHECK(s.n == 2 && s.idx[0] == 2 && s.idx[1] == 1, "exact fit: rows 2 then 1, the zero row never");
	CLOSE(s.beta[0], 10, 1e-12, "weight of row 2 is K * 2");
	CLOSE(s.resid, 0, 1e-12, "zero residual");
	pur_sel_free(&s);
	float zero[4] = {0};
	pur_run(&A, zero, &o, &s, &e);
	CHECK(s.n == 0, "a zero goal selects nothing (%s)", pur_stop_name(s.stop));
	pur_sel_free(&s);
	pur_mat_free(&A);
}

/* A larger pool with many near-ties: screened and exact passes choose the same rows, 300 steps. */
static void screening(struct wnw_pool *pool)
{
	uint32_t n = 30000, d = 48;
	struct pur_mat A;
	pur_mat_init(&A, d);
	for (uint32_t i = 0; i < n; i++) {
		float *a = pur_mat_push(&A);
		gauss_row(a, d, 1);
		if (i % 3 == 0) /* coarse values: many equal products */
			for (uint32_t j = 0; j < d; j++)
				a[j] = roundf(a[j] * 2) / 2;
		if (i % 10 == 1) /* a cluster closer together than f16 resolves: estimates misorder it */
			for (uint32_t j = 0; j < d; j++)
				a[j] = (float)(1 + 0.5 * (j % 3) + 2e-4 * nrand());
		pur_mat_commit(&A);
	}
	float b[48];
	for (uint32_t j = 0; j < d; j++)
		b[j] = (float)(1 + 0.5 * (j % 3) + 0.3 * nrand());
	struct pur_opts o = {.k = 300, .pool = pool};
	struct pur_sel s1, s2;
	struct wnw_err e;
	pur_run(&A, b, &o, &s1, &e);
	o.exact = 1;
	pur_run(&A, b, &o, &s2, &e);
	CHECK(s1.n == s2.n && s1.steps == s2.steps && !memcmp(s1.idx, s2.idx, s1.n * sizeof *s1.idx) &&
		      !memcmp(s1.beta, s2.beta, s1.n * sizeof *s1.beta),
	      "screened and exact OMP agree bit for bit on 30000 x 48 (%u chosen, %u steps, %s)", s1.n, s1.steps,
	      pur_stop_name(s1.stop));
	CHECK(s1.exact_passes < s1.steps / 2 && s2.exact_passes == s2.steps,
	      "most screened steps need no full pass (%u of %u did)", s1.exact_passes, s1.steps);
	pur_sel_free(&s1);
	pur_sel_free(&s2);
	pur_mat_free(&A);
}

/* pur_mat_remove, which the rounds of pursuit(1) run on: the other rows keep their order, values,
 * norms and tags. */
static void removal(void)
{
	struct pur_mat A;
	pur_mat_init(&A, 3);
	uint64_t tag[6];
	for (uint32_t i = 0; i < 6; i++) {
		float *row = pur_mat_push(&A);
		for (uint32_t j = 0; j < 3; j++)
			row[j] = (float)(i + 1);
		pur_mat_commit(&A);
		tag[i] = 100 + i;
	}
	const size_t gone[] = {4, 0, 2};
	pur_mat_remove(&A, gone, 3, tag);
	int ok = A.n == 3;
	for (uint32_t r = 0; ok && r < 3; r++) {
		float want = (float)(2 * r + 2); /* rows 1, 3, 5 hold 2, 4, 6 */
		ok = A.v[r * 3] == want && A.v[r * 3 + 2] == want && tag[r] == 101 + 2 * r &&
		     fabsf(A.inv[r] - (float)(1 / (want * sqrt(3.0)))) < 1e-7f;
	}
	CHECK(ok, "pur_mat_remove keeps the other rows in order with their norms and tags");
	pur_mat_remove(&A, (const size_t[]){0, 1, 2}, 3, NULL);
	CHECK(A.n == 0, "removing every row leaves an empty matrix");
	pur_mat_free(&A);
}

int main(void)
{
	struct wnw_pool *pool = wnw_pool_new(2);
	removal();
	kernel();
	edges();
	recovery(pool);
	duplicates();
	screening(pool);
	wnw_pool_free(pool);
	return unit_failed;
}
