/* nnls.c: Lawson-Hanson NNLS on a Gram matrix with an updated Cholesky factor (see nnls.h). */
#include "nnls.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int nnls_init(struct nnls *s, uint32_t cap)
{
	memset(s, 0, sizeof *s);
	s->cap = cap;
	s->dep_eps = 1e-10;
	s->kkt_tol = 1e-12;
	s->yy = 1;
	size_t c = cap ? cap : 1;
	s->used = calloc(c, 1);
	s->passive = calloc(c, 1);
	s->blocked = calloc(c, 1);
	s->G = calloc(c * c, sizeof *s->G);
	s->L = calloc(c * c, sizeof *s->L);
	s->h = calloc(c, sizeof *s->h);
	s->x = calloc(c, sizeof *s->x);
	s->z = calloc(c, sizeof *s->z);
	s->tmp = calloc(c, sizeof *s->tmp);
	s->pas = calloc(c, sizeof *s->pas);
	if (!s->used || !s->passive || !s->blocked || !s->G || !s->L || !s->h || !s->x || !s->z || !s->tmp ||
	    !s->pas) {
		nnls_free(s);
		return -1;
	}
	return 0;
}

void nnls_free(struct nnls *s)
{
	free(s->used);
	free(s->passive);
	free(s->blocked);
	free(s->G);
	free(s->L);
	free(s->h);
	free(s->x);
	free(s->z);
	free(s->tmp);
	free(s->pas);
	memset(s, 0, sizeof *s);
}

int nnls_add(struct nnls *s, const double *g, double gjj, double hj)
{
	uint32_t j = 0;
	while (j < s->cap && s->used[j])
		j++;
	if (j == s->cap)
		return -1;
	for (uint32_t k = 0; k < s->cap; k++) {
		double v = s->used[k] ? g[k] : 0;
		s->G[(size_t)j * s->cap + k] = v;
		s->G[(size_t)k * s->cap + j] = v;
	}
	s->G[(size_t)j * s->cap + j] = gjj;
	s->h[j] = hj;
	s->x[j] = 0;
	s->used[j] = 1;
	s->passive[j] = 0;
	s->blocked[j] = 0;
	return (int)j;
}

double nnls_gradient(const struct nnls *s, uint32_t j)
{
	const double *gj = s->G + (size_t)j * s->cap;
	double v = s->h[j];
	for (uint32_t i = 0; i < s->np; i++)
		v -= gj[s->pas[i]] * s->x[s->pas[i]];
	return v;
}

/* Appends slot j to the passive set, extending the factor L L' = G[pas, pas] by one row.
 * Returns -1 (and changes nothing) when column j is numerically in the span of the passive columns. */
static int chol_append(struct nnls *s, uint32_t j)
{
	uint32_t n = s->np, c = s->cap;
	double *l = s->L + (size_t)n * c;
	const double *gj = s->G + (size_t)j * c;
	double d2 = gj[j];
	for (uint32_t i = 0; i < n; i++) {
		const double *li = s->L + (size_t)i * c;
		double v = gj[s->pas[i]];
		for (uint32_t k = 0; k < i; k++)
			v -= li[k] * l[k];
		l[i] = v / li[i];
		d2 -= l[i] * l[i];
	}
	if (!(d2 > s->dep_eps * gj[j]))
		return -1;
	l[n] = sqrt(d2);
	s->pas[n] = j;
	s->passive[j] = 1;
	s->np = n + 1;
	return 0;
}

/* Removes the passive column at factor position pos: deletes its row of L, then restores the lower
 * triangle with Givens rotations applied from the right (L Q Q' L' = L L'), one per later column. */
static void chol_delete(struct nnls *s, uint32_t pos)
{
	uint32_t n = s->np, c = s->cap;
	double *L = s->L;
	s->passive[s->pas[pos]] = 0;
	for (uint32_t i = pos; i + 1 < n; i++) {
		memcpy(L + (size_t)i * c, L + (size_t)(i + 1) * c, (i + 2) * sizeof *L);
		s->pas[i] = s->pas[i + 1];
	}
	for (uint32_t i = pos; i + 1 < n; i++) {
		double a = L[(size_t)i * c + i], b = L[(size_t)i * c + i + 1];
		double r = hypot(a, b);
		double cs = a / r, sn = b / r;
		for (uint32_t k = i; k + 1 < n; k++) {
			double *row = L + (size_t)k * c;
			double u = row[i], v = row[i + 1];
			row[i] = cs * u + sn * v;
			row[i + 1] = -sn * u + cs * v;
		}
		L[(size_t)i * c + i + 1] = 0;
	}
	s->np = n - 1;
}

/* z[pas[i]] = the unconstrained least-squares solution on the passive set: G_PP z_P = h_P. */
static void chol_solve(struct nnls *s)
{
	uint32_t n = s->np, c = s->cap;
	double *y = s->tmp;
	for (uint32_t i = 0; i < n; i++) {
		const double *li = s->L + (size_t)i * c;
		double v = s->h[s->pas[i]];
		for (uint32_t k = 0; k < i; k++)
			v -= li[k] * y[k];
		y[i] = v / li[i];
	}
	for (uint32_t i = n; i-- > 0;) {
		double v = y[i];
		for (uint32_t k = i + 1; k < n; k++)
			v -= s->L[(size_t)k * c + i] * y[k];
		y[i] = v / s->L[(size_t)i * c + i];
	}
	for (uint32_t i = 0; i < n; i++)
		s->z[s->pas[i]] = y[i];
}

/* The inner loop of Lawson-Hanson: from a feasible x, moves towards the least-squares solution z of the
 * passive set, stopping at the boundary and dropping the columns that reach zero, until z > 0 on the
 * passive set; then x = z. `entered` is the column that has just entered (or -1): if its own
 * least-squares weight is not positive, rounding has made the entry useless, so it is blocked. */
static int inner(struct nnls *s, int entered, uint64_t *budget)
{
	for (;;) {
		if (*budget == 0)
			return -1;
		(*budget)--;
		s->iters++;
		chol_solve(s);
		if (entered >= 0 && !(s->z[entered] > 0)) {
			for (uint32_t i = 0; i < s->np; i++)
				if (s->pas[i] == (uint32_t)entered) {
					chol_delete(s, i);
					break;
				}
			s->x[entered] = 0;
			s->blocked[entered] = 1;
			return 0;
		}
		entered = -1;
		double alpha = 2;
		uint32_t arg = 0;
		for (uint32_t i = 0; i < s->np; i++) {
			uint32_t j = s->pas[i];
			if (s->z[j] <= 0) {
				double a = s->x[j] / (s->x[j] - s->z[j]);
				if (a < alpha) {
					alpha = a;
					arg = j;
				}
			}
		}
		if (alpha > 1) {
			for (uint32_t i = 0; i < s->np; i++)
				s->x[s->pas[i]] = s->z[s->pas[i]];
			return 0;
		}
		for (uint32_t i = 0; i < s->np; i++) {
			uint32_t j = s->pas[i];
			s->x[j] += alpha * (s->z[j] - s->x[j]);
		}
		s->x[arg] = 0;
		for (uint32_t i = s->np; i-- > 0;) {
			uint32_t j = s->pas[i];
			if (s->x[j] <= 0) {
				s->x[j] = 0;
				chol_delete(s, i);
			}
		}
	}
}

int nnls_solve(struct nnls *s)
{
	uint64_t budget = 30 * (uint64_t)s->cap + 100;
	s->iters = 0;
	memset(s->blocked, 0, s->cap);
	if (s->np && inner(s, -1, &budget) < 0)
		return -1;
	for (;;) {
		double best = 0;
		int t = -1;
		for (uint32_t j = 0; j < s->cap; j++) {
			if (!s->used[j] || s->passive[j] || s->blocked[j])
				continue;
			double w = nnls_gradient(s, j);
			double tol = s->kkt_tol * sqrt(s->G[(size_t)j * s->cap + j] * s->yy);
			if (w > tol && (t < 0 || w > best)) {
				best = w;
				t = (int)j;
			}
		}
		if (t < 0)
			return 0;
		if (chol_append(s, (uint32_t)t) < 0) {
			s->blocked[t] = 1;
			continue;
		}
		if (inner(s, t, &budget) < 0)
			return -1;
	}
}

void nnls_remove(struct nnls *s, uint32_t j)
{
	if (s->passive[j])
		for (uint32_t i = 0; i < s->np; i++)
			if (s->pas[i] == j) {
				chol_delete(s, i);
				break;
			}
	s->x[j] = 0;
	s->used[j] = 0;
	s->passive[j] = 0;
	s->blocked[j] = 0;
}
