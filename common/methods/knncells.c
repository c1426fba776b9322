/* knncells.c: k-means, and the partition of the self-join into cells and fine cells with the test that
 * skips pairs of them (knncells.h). */
#include "knncells.h"

#include "par.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Fine cells of about FINE_ROWS rows (fine_train: 4 Lloyd iterations on all of a cell's rows): testing a
 * pair of them costs a product of the rows with the fine cells' centroids, about 2 / FINE_ROWS of the
 * join it may save. */
#define FINE_ROWS 24u
static const struct wnw_train fine_train = {4, 256};
#define RBLOCK 256u /* rows per product with the anchors */

/* reach[c] = max(reach[c], g[c] - own) for c < n: from the products g of a row x with points c and own,
 * its product with the point it belongs to, the largest x.c - x.own so far. */
static void note_reach(float *reach, const float *g, size_t n, float own)
{
	for (size_t c = 0; c < n; c++) {
		float t = g[c] - own;
		reach[c] = t > reach[c] ? t : reach[c];
	}
}

/* assign[i] = the centroid nearest to row i of x, for rows [r0, r1), by the expansion |c|^2 - 2 x.c
 * (ties to the smaller index); with reach, note_reach for each row in the row of its cell. g is scratch
 * of 256 * cent->rows floats. */
static void assign_rows(const struct wnw_vecs *x, size_t r0, size_t r1, const struct wnw_vecs *cent,
			uint32_t *assign, float *g, float *reach)
{
	size_t nc = cent->rows;
	for (size_t a = r0; a < r1; a += 256) {
		size_t b = a + 256 < r1 ? a + 256 : r1;
		wnw_knn_dots(x->v + a * x->d, b - a, cent->v, nc, x->d, g, nc);
		for (size_t i = a; i < b; i++) {
			const float *gi = g + (i - a) * nc;
			uint32_t best = 0;
			float bs = cent->n2[0] - 2.0f * gi[0];
			for (size_t c = 1; c < nc; c++) {
				float s = cent->n2[c] - 2.0f * gi[c];
				if (s < bs) {
					bs = s;
					best = (uint32_t)c;
				}
			}
			assign[i] = best;
			if (reach)
				note_reach(reach + (size_t)best * nc, gi, nc, gi[best]);
		}
	}
}

static int copy_row(struct wnw_vecs *dst, const struct wnw_vecs *src, size_t i)
{
	if (wnw_vecs_reserve(dst, dst->rows + 1) != 0)
		return -1;
	memcpy(dst->v + dst->rows * dst->d, src->v + i * src->d, src->d * sizeof(float));
	dst->n2[dst->rows] = src->n2[i];
	dst->id[dst->rows] = src->id[i];
	dst->rows++;
	return 0;
}

/* Assignment of rows to centroids on a pool's threads, 256 rows an item: each thread its own product
 * matrix and reaches (merged by max, in which order does not matter). */
struct assign_job {
	const struct wnw_vecs *x, *cent;
	uint32_t *assign;
	float **g, **reach; /* per thread; reach NULL when not wanted */
};

static void assign_block(void *ctx, size_t blk, int thread)
{
	const struct assign_job *aj = ctx;
	size_t a = blk * 256, b = a + 256 < aj->x->rows ? a + 256 : aj->x->rows;
	assign_rows(aj->x, a, b, aj->cent, aj->assign, aj->g[thread], aj->reach ? aj->reach[thread] : NULL);
}

static int assign_all(const struct wnw_vecs *x, const struct wnw_vecs *cent, uint32_t *assign, float *reach,
		      struct wnw_pool *pool)
{
	int nt = pool ? wnw_pool_threads(pool) : 1, rc = -1;
	size_t nc = cent->rows, nr = reach ? nc * nc : 0;
	float **g = calloc((size_t)nt, sizeof *g), **rt = calloc((size_t)nt, sizeof *rt);
	struct assign_job aj = {x, cent, assign, g, reach ? rt : NULL};
	for (int t = 0; g && rt && t < nt; t++) {
		if (!(g[t] = malloc(256 * nc * sizeof(float))) || (reach && !(rt[t] = malloc(nr * sizeof(float)))))
			goto out;
		for (size_t i = 0; i < nr; i++)
			rt[t][i] = -INFINITY;
	}
	if (!g || !rt)
		goto out;
	if (pool)
		wnw_pool_run(pool, (x->rows + 255) / 256, assign_block, &aj);
	else
		for (size_t blk = 0; blk < (x->rows + 255) / 256; blk++)
			assign_block(&aj, blk, 0);
	for (size_t i = 0; i < nr; i++) {
		reach[i] = rt[0][i];
		for (int t = 1; t < nt; t++)
			reach[i] = rt[t][i] > reach[i] ? rt[t][i] : reach[i];
	}
	rc = 0;
out:
	for (int t = 0; g && rt && t < nt; t++) {
		free(g[t]);
		free(rt[t]);
	}
	free(g);
	free(rt);
	return rc;
}

int wnw_kmeans(const struct wnw_vecs *x, uint32_t nlist, struct wnw_train t, struct wnw_vecs *cent,
	       uint32_t *assign, float *reach, struct wnw_pool *pool, struct wnw_err *e)
{
	size_t n = x->rows, d = x->d;
	size_t ns = (size_t)nlist * t.per_cell < n ? (size_t)nlist * t.per_cell : n;
	struct wnw_vecs smp;
	wnw_vecs_init(&smp, d);
	wnw_vecs_init(cent, d);
	uint32_t *sa = malloc((ns ? ns : 1) * sizeof *sa);
	double *sum = calloc((size_t)nlist * d, sizeof *sum);
	size_t *cnt = calloc(nlist, sizeof *cnt);
	int rc = -1;
	if (!sa || !sum || !cnt)
		goto out;
	for (size_t i = 0; i < ns; i++)
		if (copy_row(&smp, x, i * n / ns) != 0)
			goto out;
	for (uint32_t c = 0; c < nlist; c++)
		if (copy_row(cent, &smp, (size_t)c * ns / nlist) != 0)
			goto out;
	for (int it = 0; it < t.iters; it++) {
		if (assign_all(&smp, cent, sa, NULL, pool) != 0)
			goto out;
		memset(sum, 0, (size_t)nlist * d * sizeof *sum);
		memset(cnt, 0, nlist * sizeof *cnt);
		for (size_t i = 0; i < ns; i++) {
			double *s = sum + (size_t)sa[i] * d;
			const float *v = smp.v + i * d;
			for (size_t j = 0; j < d; j++)
				s[j] += v[j];
			cnt[sa[i]]++;
		}
		for (uint32_t c = 0; c < nlist; c++) {
			if (cnt[c] == 0)
				continue; /* an empty cell keeps its centroid */
			float *v = cent->v + (size_t)c * d;
			for (size_t j = 0; j < d; j++)
				v[j] = (float)(sum[(size_t)c * d + j] / (double)cnt[c]);
			cent->n2[c] = wnw_knn_norm2(v, d);
		}
	}
	rc = assign_all(x, cent, assign, reach, pool);
out:
	if (rc != 0)
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	wnw_vecs_free(&smp);
	free(sa);
	free(sum);
	free(cnt);
	return rc;
}

/* Rows x of a set a and y of a set b are at least (y - x).u apart, u the unit vector from any point c_a
 * to any point c_b, and (y - x).u >= (-reach_b - reach_a) / |c_b - c_a| with reach_a the largest
 * x.c_b - x.c_a over a and reach_b the largest y.c_a - y.c_b over b: on the line through the two points,
 * the rows of a end where those of b begin. The sets are too far apart when that gap, less slack for the
 * rounding of the products behind the reaches, exceeds r. d2 = |c_b - c_a|^2. */
static int too_far(float reach_a, float reach_b, double d2, double r, double slack)
{
	return -(double)reach_a - (double)reach_b - slack > r * sqrt(d2) * (1 + 0x1p-20);
}

/* The column of cell b's first anchor in the reach rows of cell a, a partner of b. */
static size_t partner_col(const struct wnw_cells *cl, uint32_t a, uint32_t b)
{
	size_t lo = cl->ptstart[a], hi = cl->ptstart[a + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cl->partner[mid] < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	return cl->pcol[lo];
}

/* The cells joined with each cell: of the nprobe whose centroids are nearest to its own (itself first),
 * those not too_far. */
static int make_probes(struct wnw_cells *cl, uint32_t nprobe)
{
	size_t nc = cl->nlist, d = cl->cent.d, np = 0;
	struct wnw_topk t;
	double *d2 = malloc(nc * sizeof *d2);
	cl->probe = malloc(nc * nprobe * sizeof *cl->probe);
	cl->pstart = malloc((nc + 1) * sizeof *cl->pstart);
	if (!d2 || !cl->probe || !cl->pstart || wnw_topk_init(&t, nprobe) != 0) {
		free(d2);
		return -1;
	}
	for (uint32_t c = 0; c < nc; c++) {
		wnw_topk_reset(&t);
		for (uint32_t o = 0; o < nc; o++) {
			d2[o] = wnw_knn_dist2(cl->cent.v + c * d, cl->cent.v + o * d, d);
			struct wnw_hit hit = {.dist = (float)d2[o], .id = o == c ? 0 : 1, .ref = o};
			wnw_topk_offer(&t, &hit);
		}
		wnw_topk_sort(&t);
		cl->pstart[c] = np;
		for (uint32_t p = 0; p < t.n; p++) {
			uint32_t o = (uint32_t)t.h[p].ref;
			if (o == c || !too_far(cl->reach[(size_t)c * nc + o], cl->reach[(size_t)o * nc + c], d2[o], cl->r,
					       cl->slack))
				cl->probe[np++] = o;
		}
	}
	cl->pstart[nc] = np;
	wnw_topk_free(&t);
	free(d2);
	return 0;
}

static float max_n2(const struct wnw_vecs *s)
{
	float m = 0;
	for (size_t i = 0; i < s->rows; i++)
		m = s->n2[i] > m ? s->n2[i] : m;
	return m;
}

/* Slack for too_far: each product x.c (BLAS or a plain loop, any order of summation) is off by at most
 * about d 2^-24 |x||c|, and each difference of two by 2^-24 of 2|x||c| more; a gap sums two differences.
 * Four times that bound, with the largest norms of the rows and of the centroids, also covers the
 * rounding of the norms themselves. */
static double reach_slack(const struct wnw_vecs *x, float cn2)
{
	return 16.0 * (double)(x->d + 2) * 0x1p-24 * sqrt((double)max_n2(x) * cn2);
}

/* Copies the rows of x into xp grouped by cell (perm: the original index of each), the cells by k-means
 * unless there is one, and lists the cells each is joined with. */
static int split(const struct wnw_vecs *x, uint32_t nprobe, struct wnw_train t, struct wnw_cells *cl,
		 struct wnw_vecs *xp, size_t *perm, struct wnw_pool *pool, struct wnw_err *e)
{
	size_t n = x->rows, nc = cl->nlist;
	uint32_t *assign = calloc(n, sizeof *assign);
	size_t *fill = calloc(nc, sizeof *fill);
	int rc = -1;
	if (!assign || !fill || !(cl->reach = malloc(nc * nc * sizeof *cl->reach)) || wnw_vecs_reserve(xp, n) != 0)
		goto oom;
	if (nc == 1) {
		cl->reach[0] = 0;
		if (wnw_vecs_reserve(&cl->cent, 1) != 0)
			goto oom;
		cl->cent.rows = 1; /* the one cell's centroid: any point serves as its fine cells' anchor */
		memset(cl->cent.v, 0, x->d * sizeof(float));
		cl->cent.n2[0] = 0;
	} else if (wnw_kmeans(x, cl->nlist, t, &cl->cent, assign, cl->reach, pool, e) != 0) {
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		cl->start[assign[i] + 1]++;
	for (size_t c = 0; c < nc; c++)
		cl->start[c + 1] += cl->start[c];
	for (size_t i = 0; i < n; i++)
		perm[cl->start[assign[i]] + fill[assign[i]]++] = i;
	for (size_t i = 0; i < n; i++)
		copy_row(xp, x, perm[i]);
	cl->slack = reach_slack(x, max_n2(&cl->cent));
	if (make_probes(cl, nprobe) != 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
out:
	free(assign);
	free(fill);
	return rc;
}

struct fine_job {
	struct wnw_cells *cl;
	struct wnw_vecs *xp;
	size_t *perm;
	atomic_int failed;
};

/* Reorders rows [s, s + len) of xp (and perm) by their fine cell fa[], counting rows per fine cell into
 * the fine cells' fstart. */
static int regroup(struct fine_job *fj, size_t s, size_t len, const uint32_t *fa, size_t f0, size_t nf)
{
	struct wnw_vecs *xp = fj->xp;
	size_t d = xp->d, *fstart = fj->cl->fstart + f0;
	size_t *order = malloc(len * sizeof *order), *at = calloc(nf + 1, sizeof *at);
	float *v = malloc(len * d * sizeof *v), *n2 = malloc(len * sizeof *n2);
	uint64_t *id = malloc(len * sizeof *id);
	size_t *pm = malloc(len * sizeof *pm);
	int rc = -1;
	if (!order || !at || !v || !n2 || !id || !pm)
		goto out;
	for (size_t i = 0; i < len; i++)
		at[fa[i] + 1]++;
	for (size_t f = 0; f < nf; f++) {
		at[f + 1] += at[f];
		fstart[f] = s + at[f];
	}
	for (size_t i = 0; i < len; i++)
		order[at[fa[i]]++] = i;
	memcpy(v, xp->v + s * d, len * d * sizeof *v);
	memcpy(n2, xp->n2 + s, len * sizeof *n2);
	memcpy(id, xp->id + s, len * sizeof *id);
	memcpy(pm, fj->perm + s, len * sizeof *pm);
	for (size_t i = 0; i < len; i++) {
		memcpy(xp->v + (s + i) * d, v + order[i] * d, d * sizeof *v);
		xp->n2[s + i] = n2[order[i]];
		xp->id[s + i] = id[order[i]];
		fj->perm[s + i] = pm[order[i]];
	}
	rc = 0;
out:
	free(order);
	free(at);
	free(v);
	free(n2);
	free(id);
	free(pm);
	return rc;
}

static float dot(const float *a, const float *b, size_t d)
{
	float s = 0;
	for (size_t k = 0; k < d; k++)
		s += a[k] * b[k];
	return s;
}

/* Splits cell c into its fine cells by k-means (one fine cell: the cell as it is, anchored at its
 * centroid), and notes each row's product with its anchor. */
static void split_cell(void *ctx, size_t c, int thread)
{
	(void)thread;
	struct fine_job *fj = ctx;
	struct wnw_cells *cl = fj->cl;
	struct wnw_vecs *xp = fj->xp, fc;
	size_t d = xp->d, s = cl->start[c], len = cl->start[c + 1] - s;
	size_t f0 = cl->ffirst[c], nf = cl->ffirst[c + 1] - f0;
	struct wnw_err e;
	wnw_vecs_init(&fc, d);
	if (nf <= 1) {
		memcpy(cl->anchor.v + f0 * d, cl->cent.v + c * d, d * sizeof(float));
		cl->anchor.n2[f0] = cl->cent.n2[c];
		cl->fstart[f0] = s;
	} else {
		struct wnw_vecs view = {.v = xp->v + s * d, .n2 = xp->n2 + s, .id = xp->id + s, .rows = len, .cap = len, .d = d};
		uint32_t *fa = malloc(len * sizeof *fa);
		if (!fa || wnw_kmeans(&view, (uint32_t)nf, fine_train, &fc, fa, NULL, NULL, &e) != 0 ||
		    regroup(fj, s, len, fa, f0, nf) != 0) {
			atomic_store(&fj->failed, 1);
			free(fa);
			wnw_vecs_free(&fc);
			return;
		}
		free(fa);
		memcpy(cl->anchor.v + f0 * d, fc.v, nf * d * sizeof(float));
		memcpy(cl->anchor.n2 + f0, fc.n2, nf * sizeof(float));
	}
	for (size_t f = f0; f < f0 + nf; f++) {
		size_t end = f + 1 < f0 + nf ? cl->fstart[f + 1] : s + len;
		for (size_t i = cl->fstart[f]; i < end; i++)
			cl->own[i] = dot(xp->v + i * d, cl->anchor.v + f * d, d);
	}
	wnw_vecs_free(&fc);
}

/* Splits every cell into fine cells of about FINE_ROWS rows (none without a radius: nothing could be
 * skipped), on the pool's threads. */
static int split_fine(struct wnw_cells *cl, struct wnw_vecs *xp, size_t *perm, struct wnw_pool *pool)
{
	size_t n = xp->rows;
	if (!(cl->ffirst = malloc((cl->nlist + 1) * sizeof *cl->ffirst)) || !(cl->own = malloc(n * sizeof *cl->own)))
		return -1;
	cl->nfine = 0;
	for (uint32_t c = 0; c < cl->nlist; c++) {
		size_t len = cl->start[c + 1] - cl->start[c];
		cl->ffirst[c] = cl->nfine;
		cl->nfine += isinf(cl->r) || len < 2 * FINE_ROWS ? 1 : len / FINE_ROWS;
	}
	cl->ffirst[cl->nlist] = cl->nfine;
	if (!(cl->fstart = malloc((cl->nfine + 1) * sizeof *cl->fstart)) || wnw_vecs_reserve(&cl->anchor, cl->nfine) != 0)
		return -1;
	cl->anchor.rows = cl->nfine;
	cl->fstart[cl->nfine] = n;
	struct fine_job fj = {.cl = cl, .xp = xp, .perm = perm};
	atomic_init(&fj.failed, 0);
	wnw_pool_run(pool, cl->nlist, split_cell, &fj);
	if (atomic_load(&fj.failed))
		return -1;
	float an2 = max_n2(&cl->anchor), cn2 = max_n2(&cl->cent);
	cl->slack = reach_slack(xp, an2 > cn2 ? an2 : cn2);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Partners: each probe both ways, sorted and without repeats; the columns of their anchors. */
static int make_partners(struct wnw_cells *cl)
{
	size_t np = cl->pstart[cl->nlist], n = 0;
	uint64_t *pair = malloc(2 * np * sizeof *pair);
	if (!pair || !(cl->partner = malloc(2 * np * sizeof *cl->partner)) ||
	    !(cl->pcol = malloc(2 * np * sizeof *cl->pcol)) || !(cl->ptstart = calloc(cl->nlist + 1, sizeof *cl->ptstart)) ||
	    !(cl->rwidth = calloc(cl->nlist, sizeof *cl->rwidth))) {
		free(pair);
		return -1;
	}
	for (uint32_t c = 0; c < cl->nlist; c++)
		for (size_t p = cl->pstart[c]; p < cl->pstart[c + 1]; p++) {
			pair[n++] = (uint64_t)c << 32 | cl->probe[p];
			pair[n++] = (uint64_t)cl->probe[p] << 32 | c;
		}
	qsort(pair, n, sizeof *pair, cmp_u64);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && pair[i] == pair[i - 1])
			continue;
		uint32_t c = (uint32_t)(pair[i] >> 32), b = (uint32_t)pair[i];
		cl->partner[m] = b;
		cl->pcol[m++] = cl->rwidth[c];
		cl->rwidth[c] += cl->ffirst[b + 1] - cl->ffirst[b];
		cl->ptstart[c + 1] = m;
	}
	for (uint32_t c = 0; c < cl->nlist; c++)
		cl->ptstart[c + 1] = cl->ptstart[c + 1] > cl->ptstart[c] ? cl->ptstart[c + 1] : cl->ptstart[c];
	free(pair);
	return 0;
}

/* Upper bounds of the squared distances between the anchors of cell c's fine cells and an, its partners'
 * (norms an2): |a|^2 + |b|^2 - 2 a.b from float products, plus four times their rounding (each term off
 * by at most about d 2^-24 (|a|^2 + |b|^2) / 2), rounded up to a float. */
static void anchor_dists(const struct wnw_cells *cl, size_t c, const float *an, const float *an2, float *g)
{
	size_t d = cl->anchor.d, wd = cl->rwidth[c], f0 = cl->ffirst[c], f1 = cl->ffirst[c + 1];
	float *fd = cl->fdist + cl->rstart[c];
	double gam = (double)(d + 2) * 0x1p-24;
	for (size_t a0 = f0; a0 < f1; a0 += RBLOCK) {
		size_t a1 = a0 + RBLOCK < f1 ? a0 + RBLOCK : f1;
		wnw_knn_dots(cl->anchor.v + a0 * d, a1 - a0, an, wd, d, g, wd);
		for (size_t a = a0; a < a1; a++)
			for (size_t j = 0; j < wd; j++) {
				double s = (double)cl->anchor.n2[a] + an2[j];
				double v = s - 2.0 * g[(a - a0) * wd + j] + 4 * gam * s;
				float f = (float)(v > 0 ? v : 0);
				fd[(a - f0) * wd + j] = (double)f < v ? nextafterf(f, INFINITY) : f;
			}
	}
}

/* The reach rows of cell c: the products of its rows with its partners' anchors (gathered, one BLAS
 * product per block of rows), each row's reduced into its fine cell's row; and the anchors' distances. */
static void cell_reaches(void *ctx, size_t c, int thread)
{
	(void)thread;
	struct fine_job *fj = ctx;
	const struct wnw_cells *cl = fj->cl;
	const struct wnw_vecs *xp = fj->xp;
	size_t d = xp->d, wd = cl->rwidth[c], f0 = cl->ffirst[c];
	float *rc = cl->freach + cl->rstart[c];
	float *an = malloc((wd ? wd : 1) * d * sizeof *an), *an2 = malloc((wd ? wd : 1) * sizeof *an2);
	float *g = malloc((size_t)RBLOCK * (wd ? wd : 1) * sizeof *g);
	if (!an || !an2 || !g) {
		atomic_store(&fj->failed, 1);
		free(an);
		free(an2);
		free(g);
		return;
	}
	for (size_t k = cl->ptstart[c]; k < cl->ptstart[c + 1]; k++) {
		uint32_t b = cl->partner[k];
		size_t nb = cl->ffirst[b + 1] - cl->ffirst[b];
		memcpy(an + cl->pcol[k] * d, cl->anchor.v + cl->ffirst[b] * d, nb * d * sizeof *an);
		memcpy(an2 + cl->pcol[k], cl->anchor.n2 + cl->ffirst[b], nb * sizeof *an2);
	}
	for (size_t i = 0; i < (cl->ffirst[c + 1] - f0) * wd; i++)
		rc[i] = -INFINITY;
	size_t f = f0;
	for (size_t q0 = cl->start[c]; q0 < cl->start[c + 1]; q0 += RBLOCK) {
		size_t q1 = q0 + RBLOCK < cl->start[c + 1] ? q0 + RBLOCK : cl->start[c + 1];
		wnw_knn_dots(xp->v + q0 * d, q1 - q0, an, wd, d, g, wd);
		for (size_t i = q0; i < q1; i++) {
			while (i >= cl->fstart[f + 1])
				f++;
			note_reach(rc + (f - f0) * wd, g + (i - q0) * wd, wd, cl->own[i]);
		}
	}
	anchor_dists(cl, c, an, an2, g);
	free(an);
	free(an2);
	free(g);
}

/* The reaches of every fine cell towards the anchors of its cell's partners, and their distances, unless
 * they would take more memory than 64 floats a row (or 16M in all), when fine cells are not tested (pairs
 * of cells still are). */
static int fine_reaches(struct wnw_cells *cl, struct wnw_vecs *xp, struct wnw_pool *pool)
{
	if (isinf(cl->r) || make_partners(cl) != 0 || !(cl->rstart = malloc((cl->nlist + 1) * sizeof *cl->rstart)))
		return isinf(cl->r) ? 0 : -1;
	cl->rstart[0] = 0;
	for (uint32_t c = 0; c < cl->nlist; c++)
		cl->rstart[c + 1] = cl->rstart[c] + (cl->ffirst[c + 1] - cl->ffirst[c]) * cl->rwidth[c];
	size_t total = cl->rstart[cl->nlist];
	if (2 * total > (xp->rows * 64 > (1u << 24) ? xp->rows * 64 : (1u << 24)))
		return 0;
	if (!(cl->freach = malloc((total ? total : 1) * sizeof *cl->freach)) ||
	    !(cl->fdist = malloc((total ? total : 1) * sizeof *cl->fdist)))
		return -1;
	struct fine_job fj = {.cl = cl, .xp = xp};
	atomic_init(&fj.failed, 0);
	wnw_pool_run(pool, cl->nlist, cell_reaches, &fj);
	return atomic_load(&fj.failed) ? -1 : 0;
}

int wnw_cells_build(struct wnw_cells *cl, const struct wnw_vecs *x, uint32_t nlist, uint32_t nprobe,
		    struct wnw_train t, double r, struct wnw_vecs *xp, size_t *perm, struct wnw_pool *pool,
		    struct wnw_err *e)
{
	memset(cl, 0, sizeof *cl);
	cl->nlist = nlist;
	cl->r = r;
	wnw_vecs_init(&cl->cent, x->d);
	wnw_vecs_init(&cl->anchor, x->d);
	if (!(cl->start = calloc((size_t)nlist + 1, sizeof *cl->start)))
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	if (split(x, nprobe, t, cl, xp, perm, pool, e) != 0)
		return -1;
	if (split_fine(cl, xp, perm, pool) != 0 || fine_reaches(cl, xp, pool) != 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	return 0;
}

void wnw_cells_free(struct wnw_cells *cl)
{
	free(cl->start);
	free(cl->reach);
	free(cl->probe);
	free(cl->pstart);
	free(cl->ffirst);
	free(cl->fstart);
	free(cl->own);
	free(cl->partner);
	free(cl->ptstart);
	free(cl->pcol);
	free(cl->rstart);
	free(cl->rwidth);
	free(cl->freach);
	free(cl->fdist);
	wnw_vecs_free(&cl->cent);
	wnw_vecs_free(&cl->anchor);
}

int wnw_cells_pair(const struct wnw_cells *cl, uint32_t a, uint32_t b, struct wnw_cells_pair *p)
{
	if (!cl->freach)
		return 0;
	size_t ca = cl->rstart[a] + partner_col(cl, a, b), cb = cl->rstart[b] + partner_col(cl, b, a);
	*p = (struct wnw_cells_pair){cl->freach + ca, cl->freach + cb, cl->fdist + ca, cl->rwidth[a], cl->rwidth[b],
				     cl->ffirst[a], cl->ffirst[b]};
	return 1;
}

int wnw_cells_near(const struct wnw_cells *cl, const struct wnw_cells_pair *p, size_t fa, size_t fb)
{
	size_t ia = (fa - p->fa) * p->wa + (fb - p->fb);
	return !too_far(p->ra[ia], p->rb[(fb - p->fb) * p->wb + (fa - p->fa)], p->d2[ia], cl->r, cl->slack);
}
