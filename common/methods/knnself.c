/* knnself.c: the self-join of a set of vectors, exact or over an inverted-file index (see knn.h), cell
 * by cell of the partition of knncells.h: a block of a cell's rows is screened against the fine cells of
 * each cell it probes, skipping the pairs of fine cells whose rows are all farther apart than the radius. */
#include "knncells.h"

#include "isa.h"
#include "par.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QBLOCK 256u  /* rows of a cell searched together */
#define XBLOCK 2048u /* candidate rows per matrix product */
/* The exact join splits sets of at least EXACT_SPLIT rows into cells, trained on a small sample: the cells
 * only decide which pairs can be skipped, not the result (8 iterations on 32 rows a cell skip more pairs
 * than 4 on 256, in half the products). The inverted file's cells decide its result. */
#define EXACT_SPLIT 4096u
static const struct wnw_train exact_train = {8, 32}, ivf_train = {10, 256};
#define SETTLE 32u /* exact distances computed together */

/* QBLOCK rows (or fewer) of a cell, made of its fine cells [a0, a1), searched together. */
struct unit {
	uint32_t c;
	size_t a0, a1, q0, q1;
};

struct self_worker {
	const struct self_job *job;
	struct wnw_topk top[QBLOCK];
	double limit[QBLOCK];
	float *g;          /* QBLOCK * XBLOCK: BLAS products of the join */
	size_t q0;
	uint64_t pairs;
};

struct self_job {
	const struct wnw_vecs *xp; /* the rows grouped by cell, then by fine cell */
	const size_t *perm;        /* original index of each grouped row */
	const struct wnw_cells *cl;
	const struct wnw_self_opts *o;
	const struct unit *units;
	struct self_worker *w;     /* per thread */
	void (*done)(void *ctx, size_t i, const struct wnw_hit *h, uint32_t n);
	void *ctx;
};

/* The exact squared distance of grouped rows qi and h->tag (near it in memory, unlike x's h->ref). */
static double hit_d2(const struct self_worker *w, size_t qi, const struct wnw_hit *h)
{
	const struct wnw_vecs *xp = w->job->xp;
	return wnw_knn_dist2(xp->v + qi * xp->d, xp->v + (size_t)h->tag * xp->d, xp->d);
}

/* Makes the distance of every hit of row qi's list exact, SETTLE at a time. */
static void settle(struct self_worker *w, size_t qi, struct wnw_topk *t)
{
	const struct wnw_vecs *xp = w->job->xp;
	const float *row[SETTLE];
	uint32_t at[SETTLE], m = 0;
	double d2[SETTLE];
	for (uint32_t i = 0; i <= t->n; i++) {
		if (i < t->n && t->h[i].dist < 0) {
			row[m] = xp->v + (size_t)t->h[i].tag * xp->d;
			at[m++] = i;
		}
		if (m == SETTLE || (i == t->n && m > 0)) {
			wnw_knn_dist2_many(xp->v + qi * xp->d, row, m, xp->d, d2);
			for (uint32_t j = 0; j < m; j++)
				wnw_topk_exact(t, at[j], d2[j]);
			m = 0;
		}
	}
}

/* Offers row xj, its exact squared distance to row qi within [lo, hi], to qi's list; the exact
 * distances wait for the end, unless many hits crowd one distance. */
static double self_visit(void *ctx, size_t qi, size_t xj, double lo, double hi)
{
	struct self_worker *w = ctx;
	const struct self_job *job = w->job;
	struct wnw_topk *t = &w->top[qi - w->q0];
	struct wnw_hit h = {.tag = (uint32_t)xj, .id = job->xp->id[xj], .ref = job->perm[xj]};
	wnw_topk_offer_bounds(t, &h, lo, hi);
	if (t->crowded) {
		settle(w, qi, t);
		wnw_topk_trim(t);
	}
	double lim = wnw_topk_limit(t);
	return lim < job->o->r2 ? lim : job->o->r2;
}

struct finish_ctx {
	const struct self_worker *w;
	size_t qi;
};

static double finish_d2(void *ctx, const struct wnw_hit *h)
{
	const struct finish_ctx *f = ctx;
	return hit_d2(f->w, f->qi, h);
}

/* Row qi's list as the exact join gives it: the k best, every distance exact, those beyond the radius
 * (offered on their lower bound) dropped, in rank order. */
static void finish_row(struct self_worker *w, size_t qi, struct wnw_topk *t)
{
	double r2 = w->job->o->r2;
	struct finish_ctx f = {w, qi};
	wnw_topk_finish(t, finish_d2, &f);
	settle(w, qi, t);
	wnw_topk_sort(t);
	while (t->n > 0 && (double)t->h[t->n - 1].lo > r2 * (1 - 0x1p-20))
		if ((double)t->h[t->n - 1].hi <= r2 || hit_d2(w, qi, &t->h[t->n - 1]) <= r2)
			break;
		else
			t->n--;
}

/* Joins rows [q0, q1) of the unit with the rows [x0, x1). */
static void join_rows(struct self_worker *w, size_t q0, size_t q1, size_t x0, size_t x1)
{
	w->pairs += (q1 - q0) * (x1 - x0);
	for (size_t a = x0; a < x1; a += XBLOCK) {
		size_t b = a + XBLOCK < x1 ? a + XBLOCK : x1;
		wnw_knn_join_bounds(w->job->xp, q0, q1, w->job->xp, a, b, w->limit + (q0 - w->q0), w->g, self_visit, w);
	}
}

/* Joins the unit with fine cell b of cell B: the runs of the unit's fine cells near it. */
static void join_fine(struct self_worker *w, const struct unit *un, const struct wnw_cells_pair *pr, size_t b)
{
	const struct wnw_cells *cl = w->job->cl;
	size_t run = SIZE_MAX; /* first fine cell of the current run of near ones */
	for (size_t a = un->a0; a <= un->a1; a++) {
		int near = a < un->a1 && wnw_cells_near(cl, pr, a, b);
		if (near && run == SIZE_MAX)
			run = a;
		if (!near && run != SIZE_MAX) {
			size_t r0 = cl->fstart[run] > un->q0 ? cl->fstart[run] : un->q0;
			size_t r1 = cl->fstart[a] < un->q1 ? cl->fstart[a] : un->q1;
			join_rows(w, r0, r1, cl->fstart[b], cl->fstart[b + 1]);
			run = SIZE_MAX;
		}
	}
}

/* Joins the unit with cell B, fine cell by fine cell; its own cell's from the unit's own fine cells on,
 * since the nearest neighbours found first make the lists' limits tight early. */
static void join_cell(struct self_worker *w, const struct unit *un, uint32_t B)
{
	const struct wnw_cells *cl = w->job->cl;
	struct wnw_cells_pair pr;
	if (!wnw_cells_pair(cl, un->c, B, &pr)) {
		join_rows(w, un->q0, un->q1, cl->start[B], cl->start[B + 1]);
		return;
	}
	size_t f0 = cl->ffirst[B], nf = cl->ffirst[B + 1] - f0, first = B == un->c ? un->a0 - f0 : 0;
	for (size_t k = 0; k < nf; k++)
		join_fine(w, un, &pr, f0 + (first + k) % nf);
}

static void self_unit(void *ctx, size_t u, int thread)
{
	const struct self_job *job = ctx;
	const struct wnw_cells *cl = job->cl;
	const struct unit *un = &job->units[u];
	struct self_worker *w = &job->w[thread];
	w->q0 = un->q0;
	for (size_t i = un->q0; i < un->q1; i++) {
		wnw_topk_reset(&w->top[i - un->q0]);
		w->limit[i - un->q0] = job->o->r2;
	}
	for (size_t p = cl->pstart[un->c]; p < cl->pstart[un->c + 1]; p++)
		join_cell(w, un, cl->probe[p]);
	for (size_t i = un->q0; i < un->q1; i++) {
		struct wnw_topk *t = &w->top[i - un->q0];
		finish_row(w, i, t);
		job->done(job->ctx, job->perm[i], t->h, t->n);
	}
}

/* Cells for the exact join: none for a small set, where k-means would cost more than it saves; else the
 * square root of the row count. */
static uint32_t exact_cells(const struct wnw_self_opts *o, size_t n)
{
	if (o->exact_cells)
		return o->exact_cells < n ? o->exact_cells : (uint32_t)n;
	return isinf(o->r2) || n < EXACT_SPLIT ? 1 : (uint32_t)ceil(sqrt((double)n));
}

/* Units of at most QBLOCK rows: runs of whole fine cells of one cell, or a piece of a larger one. */
static struct unit *make_units(const struct wnw_cells *cl, size_t *nunits)
{
	struct unit *u = malloc((cl->nfine + cl->start[cl->nlist] / QBLOCK + 1) * sizeof *u);
	size_t nu = 0;
	if (!u)
		return NULL;
	for (uint32_t c = 0; c < cl->nlist; c++)
		for (size_t a = cl->ffirst[c]; a < cl->ffirst[c + 1];) {
			size_t b = a + 1;
			if (cl->fstart[b] - cl->fstart[a] > QBLOCK) {
				for (size_t q = cl->fstart[a]; q < cl->fstart[b]; q += QBLOCK)
					u[nu++] = (struct unit){c, a, b, q, q + QBLOCK < cl->fstart[b] ? q + QBLOCK : cl->fstart[b]};
			} else {
				while (b < cl->ffirst[c + 1] && cl->fstart[b + 1] - cl->fstart[a] <= QBLOCK)
					b++;
				u[nu++] = (struct unit){c, a, b, cl->fstart[a], cl->fstart[b]};
			}
			a = b;
		}
	*nunits = nu;
	return u;
}

static void free_workers(struct self_worker *w, int threads)
{
	if (w)
		for (int t = 0; t < threads; t++) {
			free(w[t].g);
			for (unsigned q = 0; q < QBLOCK; q++)
				wnw_topk_free(&w[t].top[q]);
		}
	free(w);
}

static struct self_worker *new_workers(const struct self_job *job, int threads)
{
	struct self_worker *w = calloc((size_t)threads, sizeof *w);
	for (int t = 0; w && t < threads; t++) {
		w[t].job = job;
		w[t].g = malloc((size_t)QBLOCK * XBLOCK * sizeof(float));
		int ok = w[t].g != NULL;
		for (unsigned q = 0; q < QBLOCK; q++)
			ok &= wnw_topk_init(&w[t].top[q], job->o->k) == 0;
		if (!ok) {
			free_workers(w, threads);
			return NULL;
		}
	}
	return w;
}

int wnw_knn_self(const struct wnw_vecs *x, const struct wnw_self_opts *o,
		 void (*done)(void *ctx, size_t i, const struct wnw_hit *h, uint32_t n), void *ctx,
		 struct wnw_err *e)
{
	size_t n = x->rows, d = x->d, nunits = 0;
	if (n == 0)
		return 0;
	int exact = o->nlist <= 1, threads = o->threads < 1 ? 1 : o->threads;
	uint32_t nlist = exact ? exact_cells(o, n) : o->nlist < n ? o->nlist : (uint32_t)n;
	uint32_t nprobe = exact ? nlist : o->nprobe < 1 ? 1 : o->nprobe < nlist ? o->nprobe : nlist;
	struct wnw_cells cl = {0};
	struct wnw_vecs xp;
	wnw_vecs_init(&xp, d);
	size_t *perm = calloc(n, sizeof *perm);
	struct unit *units = NULL;
	struct wnw_pool *pool = wnw_pool_new(threads);
	struct self_job job = {.xp = &xp, .perm = perm, .cl = &cl, .o = o, .done = done, .ctx = ctx};
	int rc = -1;
	if (!pool) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "cannot start %d threads", threads);
		goto out;
	}
	if (n > UINT32_MAX) { /* a hit's tag holds a row index */
		wnw_errf(e, WNW_EXIT_USAGE, "more than %u rows", UINT32_MAX);
		goto out;
	}
	if (!perm)
		goto oom;
	struct wnw_train train = exact ? exact_train : ivf_train;
	if (wnw_cells_build(&cl, x, nlist, nprobe, train, sqrt(o->r2), &xp, perm, pool, e) != 0)
		goto out;
	/* Packed, the rows are queries of wnw_knn_join's fused screen instead of BLAS products. */
	if (wnw_isa() >= WNW_ISA_AVX2 && wnw_vecs_pack(&xp) != 0)
		goto oom;
	if (!(units = make_units(&cl, &nunits)) || !(job.w = new_workers(&job, threads)))
		goto oom;
	job.units = units;
	wnw_pool_run(pool, nunits, self_unit, &job);
	if (o->stats) {
		*o->stats = (struct wnw_self_stats){.cells = nlist, .fine = (uint32_t)cl.nfine};
		for (int t = 0; t < threads; t++)
			o->stats->pairs += job.w[t].pairs;
	}
	rc = 0;
	goto out;
oom:
	wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
out:
	free_workers(job.w, threads);
	wnw_pool_free(pool);
	free(perm);
	free(units);
	wnw_cells_free(&cl);
	wnw_vecs_free(&xp);
	return rc;
}
