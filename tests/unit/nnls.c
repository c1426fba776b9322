/* Unit tests of common/nnls.c: Lawson-Hanson against brute force over all supports on small random
 * problems, KKT conditions to 1e-9, warm starts after adding and removing columns, dependent columns. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnls.h"
#include "rng.h"
#include "unit.h"

/* A small deterministic generator (splitmix64) so the problems are the same on every run. */
static uint64_t rng_state = 42;
static double urand(void)
{
	return (double)(wnw_splitmix64(&rng_state) >> 11) / 9007199254740992.0;
}
static double nrand(void)
{
	double u = urand(), v = urand();
	return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* objective 1/2 x'Gx - h'x */
static double objective(uint32_t m, const double *G, const double *h, const double *x)
{
	double f = 0;
	for (uint32_t i = 0; i < m; i++) {
		double gx = 0;
		for (uint32_t j = 0; j < m; j++)
			gx += G[i * m + j] * x[j];
		f += 0.5 * x[i] * gx - h[i] * x[i];
	}
	return f;
}

/* Gaussian elimination with partial pivoting on the k x k system; returns -1 if singular. */
static int gauss(uint32_t k, double *M, double *v)
{
	for (uint32_t c = 0; c < k; c++) {
		uint32_t p = c;
		for (uint32_t r = c + 1; r < k; r++)
			if (fabs(M[r * k + c]) > fabs(M[p * k + c]))
				p = r;
		if (fabs(M[p * k + c]) < 1e-12)
			return -1;
		for (uint32_t j = 0; j < k; j++) {
			double t = M[c * k + j];
			M[c * k + j] = M[p * k + j];
			M[p * k + j] = t;
		}
		double t = v[c];
		v[c] = v[p];
		v[p] = t;
		for (uint32_t r = c + 1; r < k; r++) {
			double f = M[r * k + c] / M[c * k + c];
			for (uint32_t j = c; j < k; j++)
				M[r * k + j] -= f * M[c * k + j];
			v[r] -= f * v[c];
		}
	}
	for (uint32_t c = k; c-- > 0;) {
		for (uint32_t j = c + 1; j < k; j++)
			v[c] -= M[c * k + j] * v[j];
		v[c] /= M[c * k + c];
	}
	return 0;
}

/* The NNLS optimum by trying every support: the least-squares solution on each subset, kept when it is
 * non-negative; the best objective among them is the optimum (the optimum's support is one of them). */
static double brute(uint32_t m, const double *G, const double *h, double *best_x)
{
	double best = 0;
	memset(best_x, 0, m * sizeof *best_x);
	double M[64], v[8], x[8];
	uint32_t idx[8];
	for (uint32_t mask = 1; mask < (1u << m); mask++) {
		uint32_t k = 0;
		for (uint32_t j = 0; j < m; j++)
			if (mask >> j & 1)
				idx[k++] = j;
		for (uint32_t a = 0; a < k; a++) {
			v[a] = h[idx[a]];
			for (uint32_t b = 0; b < k; b++)
				M[a * k + b] = G[idx[a] * m + idx[b]];
		}
		if (gauss(k, M, v) < 0)
			continue;
		int feasible = 1;
		for (uint32_t a = 0; a < k; a++)
			if (v[a] < 0)
				feasible = 0;
		if (!feasible)
			continue;
		memset(x, 0, sizeof x);
		for (uint32_t a = 0; a < k; a++)
			x[idx[a]] = v[a];
		double f = objective(m, G, h, x);
		if (f < best) {
			best = f;
			memcpy(best_x, x, m * sizeof *x);
		}
	}
	return best;
}

/* Random problem: G = A'A, h = A'y with A of rows x m Gaussian entries. */
static void make_problem(uint32_t rows, uint32_t m, double *G, double *h, double *yy)
{
	double A[64 * 8] = {0}, y[64] = {0};
	for (uint32_t i = 0; i < rows * m; i++)
		A[i] = nrand();
	*yy = 0;
	for (uint32_t i = 0; i < rows; i++) {
		y[i] = nrand();
		*yy += y[i] * y[i];
	}
	for (uint32_t a = 0; a < m; a++) {
		h[a] = 0;
		for (uint32_t i = 0; i < rows; i++)
			h[a] += A[i * m + a] * y[i];
		for (uint32_t b = 0; b < m; b++) {
			G[a * m + b] = 0;
			for (uint32_t i = 0; i < rows; i++)
				G[a * m + b] += A[i * m + a] * A[i * m + b];
		}
	}
}

static void load(struct nnls *s, uint32_t m, const double *G, const double *h, double yy)
{
	double g[8];
	s->yy = yy;
	for (uint32_t j = 0; j < m; j++) {
		for (uint32_t k = 0; k < m; k++)
			g[k] = G[j * m + k];
		nnls_add(s, g, G[j * m + j], h[j]);
	}
}

/* Largest KKT violation: x >= 0, gradient zero on the support, <= 0 off it. */
static double kkt_violation(const struct nnls *s, uint32_t m)
{
	double worst = 0;
	for (uint32_t j = 0; j < m; j++) {
		double w = nnls_gradient(s, j);
		double v = s->x[j] > 0 ? fabs(w) : (w > 0 ? w : 0);
		if (s->x[j] < 0)
			v = -s->x[j];
		if (v > worst)
			worst = v;
	}
	return worst;
}

static void random_problems(void)
{
	int bad_obj = 0, bad_kkt = 0, bad_x = 0, fails = 0, n = 0;
	double worst_kkt = 0;
	for (int trial = 0; trial < 400; trial++) {
		uint32_t m = 1 + (uint32_t)trial % 8, rows = trial % 3 == 0 ? m + 2 : 3 + (uint32_t)trial % 5;
		if (rows < m && trial % 2)
			rows = m; /* a mix of over- and under-determined problems */
		double G[64], h[8], yy, bx[8];
		make_problem(rows, m, G, h, &yy);
		struct nnls s;
		if (nnls_init(&s, m) < 0)
			abort();
		load(&s, m, G, h, yy);
		if (nnls_solve(&s) < 0)
			fails++;
		double f = objective(m, G, h, s.x), fb = brute(m, G, h, bx);
		double scale = 1 + fabs(fb);
		if (fabs(f - fb) > 1e-9 * scale)
			bad_obj++;
		double kv = kkt_violation(&s, m);
		if (kv > worst_kkt)
			worst_kkt = kv;
		if (kv > 1e-9)
			bad_kkt++;
		if (rows >= m) /* full column rank: the optimum is unique */
			for (uint32_t j = 0; j < m; j++)
				if (fabs(s.x[j] - bx[j]) > 1e-7 * (1 + fabs(bx[j])))
					bad_x++;
		nnls_free(&s);
		n++;
	}
	CHECK(fails == 0, "nnls converges on %d random problems", n);
	CHECK(bad_obj == 0, "nnls objective equals brute force over all supports to 1e-9 (%d off)", bad_obj);
	CHECK(bad_kkt == 0, "KKT conditions hold to 1e-9 (worst %.3g)", worst_kkt);
	CHECK(bad_x == 0, "nnls solution equals the brute-force one where it is unique (%d off)", bad_x);
}

/* Warm starts: solve on a subset, add the rest one by one, remove some, and compare each state with a
 * fresh solve of the same columns. */
static void warm_starts(void)
{
	int bad = 0;
	for (int trial = 0; trial < 100; trial++) {
		uint32_t m = 8, rows = 12;
		double G[64], h[8], yy, bx[8];
		make_problem(rows, m, G, h, &yy);
		struct nnls s;
		if (nnls_init(&s, m) < 0)
			abort();
		s.yy = yy;
		double g[8];
		for (uint32_t j = 0; j < m; j++) {
			for (uint32_t k = 0; k < m; k++)
				g[k] = G[j * m + k];
			if (nnls_add(&s, g, G[j * m + j], h[j]) != (int)j)
				bad++;
			nnls_solve(&s);
			/* brute() reads G with stride j + 1: build the leading block */
			double Gs[64];
			for (uint32_t a = 0; a <= j; a++)
				for (uint32_t b = 0; b <= j; b++)
					Gs[a * (j + 1) + b] = G[a * m + b];
			double fb = brute(j + 1, Gs, h, bx);
			double f = objective(j + 1, Gs, h, s.x);
			if (fabs(f - fb) > 1e-9 * (1 + fabs(fb)))
				bad++;
		}
		/* drop slots 0 and 3 (whatever their weights), re-solve, compare with the other six alone */
		nnls_remove(&s, 0);
		nnls_remove(&s, 3);
		nnls_solve(&s);
		const uint32_t keep[6] = {1, 2, 4, 5, 6, 7};
		double Gs[36], hs[6], xs[6];
		for (uint32_t a = 0; a < 6; a++) {
			hs[a] = h[keep[a]];
			xs[a] = s.x[keep[a]];
			for (uint32_t b = 0; b < 6; b++)
				Gs[a * 6 + b] = G[keep[a] * m + keep[b]];
		}
		double fb = brute(6, Gs, hs, bx);
		if (fabs(objective(6, Gs, hs, xs) - fb) > 1e-9 * (1 + fabs(fb)))
			bad++;
		/* the freed slots are reused lowest first */
		if (nnls_add(&s, g, G[7 * m + 7], h[7]) != 0)
			bad++;
		nnls_free(&s);
	}
	CHECK(bad == 0, "warm starts after adding and removing columns reach the optimum (%d off)", bad);
}

/* An exact copy of a column explains nothing new: it is blocked and stays at zero. */
static void duplicates(void)
{
	double G[64], h[8], yy;
	make_problem(10, 3, G, h, &yy);
	/* column 3 = column 0 repeated: G rows and h copied */
	double G4[16], h4[4];
	for (uint32_t a = 0; a < 4; a++) {
		h4[a] = h[a == 3 ? 0 : a];
		for (uint32_t b = 0; b < 4; b++)
			G4[a * 4 + b] = G[(a == 3 ? 0 : a) * 3 + (b == 3 ? 0 : b)];
	}
	struct nnls s;
	if (nnls_init(&s, 4) < 0)
		abort();
	load(&s, 4, G4, h4, yy);
	int rc = nnls_solve(&s);
	double bx[8], fb = brute(3, G, h, bx);
	CHECK(rc == 0, "nnls with a duplicated column converges");
	CHECK(s.x[0] == 0 || s.x[3] == 0, "at most one copy of a duplicated column has weight");
	CLOSE(objective(4, G4, h4, s.x), fb, 1e-9 * (1 + fabs(fb)), "the duplicate does not change the optimum");
	nnls_free(&s);
}

int main(void)
{
	random_problems();
	warm_starts();
	duplicates();
	return unit_failed;
}
