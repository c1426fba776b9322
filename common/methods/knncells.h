/* knncells.h: the partition behind the self-join (knnself.c). k-means splits the rows into cells and
 * each cell again into fine cells of a few dozen rows; a pair of cells or of fine cells is skipped when
 * the rows' projections on the line between their centroids show every pair of their rows to be farther
 * apart than the radius. Like the rest of common/, it never prints and never exits. */
#ifndef WINNOW_KNNCELLS_H
#define WINNOW_KNNCELLS_H

#include "knn.h"

struct wnw_pool;

/* A partition of a set of rows: cells, each split again into fine cells, and the cells each cell is
 * joined with. */
struct wnw_cells {
	uint32_t nlist;
	struct wnw_vecs cent;   /* the cells' centroids */
	float *reach;           /* reach[a * nlist + b] = max over the rows x of cell a of x.c_b - x.c_a */
	size_t *start;          /* rows of cell c (grouped): [start[c], start[c + 1]) */
	uint32_t *probe;        /* cells joined with cell c: probe[pstart[c] .. pstart[c + 1]), itself first */
	size_t *pstart;
	size_t nfine;
	size_t *ffirst;         /* fine cells of cell c: [ffirst[c], ffirst[c + 1]) */
	size_t *fstart;         /* rows of fine cell f: [fstart[f], fstart[f + 1]) */
	struct wnw_vecs anchor; /* the fine cells' centroids (of a cell not split: the cell's) */
	float *own;             /* per row: its product with its fine cell's anchor */
	double r, slack;        /* the radius; the rounding allowance of the test */
	/* Partners: the cells a cell is joined with either way (its probes and the cells probing it), by
	 * index; the reaches of each fine cell towards the anchors of its cell's partners. */
	uint32_t *partner;
	size_t *ptstart;        /* partners of cell c: [ptstart[c], ptstart[c + 1]) */
	size_t *pcol;           /* per partner: the column of its first anchor in its cell's reach rows */
	size_t *rstart;         /* the reach rows of cell c: freach + rstart[c], one per fine cell, */
	size_t *rwidth;         /* each rwidth[c] wide (the anchors of its partners); */
	float *freach;          /* NULL when fine cells are not tested */
	float *fdist;           /* in the same places: the anchors' squared distances, rounded up */
};

/* How k-means trains: Lloyd iterations, on a sample of at most per_cell rows per centroid spread evenly
 * through the rows. */
struct wnw_train {
	int iters;
	uint32_t per_cell;
};

/* k-means on the rows of x with nlist centroids (nlist <= rows), trained as t says from rows spread
 * evenly through x. Fills cent (a set of dimension x->d) and assign[i] = nearest centroid of row i (ties
 * to the smaller index); when reach is not NULL, reach[a * nlist + b] = the largest x.c_b - x.c_a over the rows x of cell a (-inf for an empty
 * cell), from the float products. On the threads of pool when not NULL (the same result). */
int wnw_kmeans(const struct wnw_vecs *x, uint32_t nlist, struct wnw_train t, struct wnw_vecs *cent,
	       uint32_t *assign, float *reach, struct wnw_pool *pool, struct wnw_err *e);

/* Partitions the rows of x into nlist cells (k-means trained as t says; nlist 1: one cell) and the
 * cells into fine cells, copying the rows into xp (initialised, of x's dimension) grouped by cell and
 * then by fine cell, perm[i] the index in x of row i of xp (perm holds x->rows). The probes of a cell are
 * the nprobe cells whose centroids are nearest to its own (itself first), less those too far from it for
 * radius r (INFINITY: none, and no fine cells). Returns 0, or -1 with e set. */
int wnw_cells_build(struct wnw_cells *cl, const struct wnw_vecs *x, uint32_t nlist, uint32_t nprobe,
		    struct wnw_train t, double r, struct wnw_vecs *xp, size_t *perm, struct wnw_pool *pool,
		    struct wnw_err *e);
void wnw_cells_free(struct wnw_cells *cl);

/* The fine cells of cell a and of b, a probe of a: their reach rows towards each other's anchors. */
struct wnw_cells_pair {
	const float *ra, *rb, *d2; /* d2: the anchors' squared distances, in ra's places */
	size_t wa, wb, fa, fb;
};
/* Sets p for cells a and b; returns 0 when fine cells are not tested (every pair of them is near). */
int wnw_cells_pair(const struct wnw_cells *cl, uint32_t a, uint32_t b, struct wnw_cells_pair *p);
/* Whether fine cell fa of cell a and fine cell fb of cell b (p from wnw_cells_pair) may hold rows within
 * the radius of each other. */
int wnw_cells_near(const struct wnw_cells *cl, const struct wnw_cells_pair *p, size_t fa, size_t fb);

#endif
