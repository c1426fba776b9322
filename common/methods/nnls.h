/* nnls.h: non-negative least squares on a Gram matrix, by the Lawson-Hanson active-set method with an
 * incrementally updated Cholesky factor, in double.
 *
 * The problem is   minimise 1/2 x'Gx - h'x  subject to x >= 0,
 * which for G = A'A and h = A'y is  minimise ||Ax - y||^2 / 2  over x >= 0. Columns live in slots
 * (0 .. cap-1) that a caller adds and removes between solves, so that a greedy pursuit can grow and
 * shrink its chosen set without refactoring: adding a column costs O(m) to store, moving a column into
 * the passive set O(p^2), dropping one O(p^2) (Givens rotations), where m is the number of slots in use
 * and p the size of the passive set.
 *
 * Like the rest of common/, this never prints and never exits. */
#ifndef WINNOW_NNLS_H
#define WINNOW_NNLS_H

#include <stdint.h>

struct nnls {
	uint32_t cap;      /* slots */
	uint32_t np;       /* columns in the passive set (x > 0) */
	uint8_t *used;     /* slot holds a column */
	uint8_t *passive;  /* slot is in the passive set */
	uint8_t *blocked;  /* set by the last solve: column numerically dependent on the passive set */
	double *G;         /* cap x cap, row-major, symmetric: entries between used slots */
	double *h;         /* cap */
	double *x;         /* cap: the current solution; 0 off the passive set */
	uint32_t *pas;     /* the passive slots in factor order */
	double *L;         /* cap x cap, row-major: lower Cholesky factor of G[pas, pas] */
	double *z, *tmp;   /* scratch */
	double dep_eps;    /* a column whose squared distance to the span of the passive columns is at most
			    * dep_eps * G[j][j] is treated as dependent and kept at zero (default 1e-10) */
	double kkt_tol;    /* a zero column enters the passive set only when its gradient h - Gx exceeds
			    * kkt_tol * sqrt(G[j][j] * yy) (default 1e-12) */
	double yy;         /* ||y||^2 for the tolerance above; the caller sets it, 1 by default */
	uint64_t iters;    /* factor changes made by the last solve */
};

/* Allocates an empty problem of cap slots. Returns 0, or -1 when out of memory. */
int nnls_init(struct nnls *s, uint32_t cap);
void nnls_free(struct nnls *s);

/* Stores a new column in the lowest free slot and returns the slot, or -1 when all are used.
 * g[k] must hold G[new][k] for every used slot k (other entries are ignored), gjj its squared norm,
 * hj its inner product with y. The new column starts at x = 0, outside the passive set. */
int nnls_add(struct nnls *s, const double *g, double gjj, double hj);

/* Frees slot j, first dropping it from the passive set (x_j = 0) if it is there. The other x values
 * are kept: the point stays feasible, and the next solve continues from it. */
void nnls_remove(struct nnls *s, uint32_t j);

/* Solves from the current x, which must be feasible (x >= 0, x > 0 exactly on the passive set). On
 * return x minimises the objective over the used slots, except for blocked columns, which stay at 0:
 * x >= 0, (Gx - h)_j = 0 (to rounding) where x_j > 0, and (h - Gx)_j <= kkt_tol * sqrt(G_jj yy)
 * where x_j = 0. Returns 0, or -1 if the iteration limit (30 * cap + 100 factor changes) was hit, which
 * only rounding trouble on a nearly singular problem can cause; x is then feasible but not optimal. */
int nnls_solve(struct nnls *s);

/* The gradient (h - Gx)_j of slot j at the current x. */
double nnls_gradient(const struct nnls *s, uint32_t j);

#endif
