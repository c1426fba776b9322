/* knnself.c: k-means and the self-join of a set of vectors, exact or over an inverted-file index
 * (see knn.h). Rows are regrouped by cell so that a cell and each cell it probes are contiguous and one
 * matrix product covers a whole block of a cell against a whole block of another. */
#include "knn.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define QBLOCK 256u  /* rows of a cell searched together */
#define XBLOCK 2048u /* candidate rows per matrix product */

/* assign[i] = the centroid nearest to row i of x, for rows [r0, r1), by the expansion |c|^2 - 2 x.c
 * (ties to the smaller index). g is scratch of 256 * cent->rows floats. */
static void assign_rows(const struct wnw_vecs *x, size_t r0, size_t r1, const struct wnw_vecs *cent,
			uint32_t *assign, float *g)
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

int wnw_kmeans(const struct wnw_vecs *x, uint32_t nlist, int niter, struct wnw_vecs *cent, uint32_t *assign,
	       struct wnw_err *e)
{
	size_t n = x->rows, d = x->d;
	size_t ns = (size_t)nlist * 256 < n ? (size_t)nlist * 256 : n;
	struct wnw_vecs smp;
	wnw_vecs_init(&smp, d);
	wnw_vecs_init(cent, d);
	uint32_t *sa = malloc((ns ? ns : 1) * sizeof *sa);
	double *sum = calloc((size_t)nlist * d, sizeof *sum);
	size_t *cnt = calloc(nlist, sizeof *cnt);
	float *g = malloc((size_t)256 * nlist * sizeof *g);
	int rc = -1;
	if (!sa || !sum || !cnt || !g)
		goto out;
	for (size_t i = 0; i < ns; i++)
		if (copy_row(&smp, x, i * n / ns) != 0)
			goto out;
	for (uint32_t c = 0; c < nlist; c++)
		if (copy_row(cent, &smp, (size_t)c * ns / nlist) != 0)
			goto out;
	for (int it = 0; it < niter; it++) {
		assign_rows(&smp, 0, ns, cent, sa, g);
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
	assign_rows(x, 0, n, cent, assign, g);
	rc = 0;
out:
	if (rc != 0)
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	wnw_vecs_free(&smp);
	free(sa);
	free(sum);
	free(cnt);
	free(g);
	return rc;
}

struct self_job {
	const struct wnw_vecs *xp;  /* rows grouped by cell */
	const size_t *perm;         /* original index of each grouped row, NULL for the identity */
	const size_t *start;        /* rows of cell c: [start[c], start[c + 1]) */
	const uint32_t *probe;      /* nprobe cells per cell */
	uint32_t nprobe;
	const struct wnw_self_opts *o;
	size_t nunits;
	const size_t *unit_cell, *unit_row; /* a unit: QBLOCK rows of a cell from unit_row */
	atomic_size_t next;
	void (*done)(void *ctx, size_t i, const struct wnw_hit *h, uint32_t n);
	void *ctx;
};

struct self_worker {
	struct self_job *job;
	struct wnw_topk top[QBLOCK];
	double limit[QBLOCK];
	float *g;
	size_t q0;
};

static double self_visit(void *ctx, size_t qi, size_t xj, double d2)
{
	struct self_worker *w = ctx;
	const struct self_job *job = w->job;
	struct wnw_topk *t = &w->top[qi - w->q0];
	struct wnw_hit h = {.dist = (float)sqrt(d2), .id = job->xp->id[xj], .ref = job->perm ? job->perm[xj] : xj};
	wnw_topk_offer(t, &h);
	double lim = wnw_topk_limit(t);
	return lim < job->o->r2 ? lim : job->o->r2;
}

static void *self_run(void *arg)
{
	struct self_worker *w = arg;
	struct self_job *job = w->job;
	size_t u;
	while ((u = atomic_fetch_add(&job->next, 1)) < job->nunits) {
		size_t c = job->unit_cell[u], q0 = job->unit_row[u];
		size_t q1 = q0 + QBLOCK < job->start[c + 1] ? q0 + QBLOCK : job->start[c + 1];
		w->q0 = q0;
		for (size_t i = q0; i < q1; i++) {
			wnw_topk_reset(&w->top[i - q0]);
			w->limit[i - q0] = job->o->r2;
		}
		for (uint32_t p = 0; p < job->nprobe; p++) {
			size_t pc = job->probe[c * job->nprobe + p];
			for (size_t a = job->start[pc]; a < job->start[pc + 1]; a += XBLOCK) {
				size_t b = a + XBLOCK < job->start[pc + 1] ? a + XBLOCK : job->start[pc + 1];
				wnw_knn_join(job->xp, q0, q1, job->xp, a, b, w->limit, w->g, self_visit, w);
			}
		}
		for (size_t i = q0; i < q1; i++) {
			struct wnw_topk *t = &w->top[i - q0];
			wnw_topk_sort(t);
			job->done(job->ctx, job->perm ? job->perm[i] : i, t->h, t->n);
		}
	}
	return NULL;
}

/* Probe lists: for each cell, the nprobe cells whose centroids are nearest to its own (itself first). */
static int make_probes(const struct wnw_vecs *cent, uint32_t nprobe, uint32_t *probe)
{
	size_t nc = cent->rows;
	struct wnw_topk t;
	if (wnw_topk_init(&t, nprobe) != 0)
		return -1;
	for (size_t c = 0; c < nc; c++) {
		wnw_topk_reset(&t);
		for (size_t o = 0; o < nc; o++) {
			double d2 = wnw_knn_dist2(cent->v + c * cent->d, cent->v + o * cent->d, cent->d);
			struct wnw_hit hit = {.dist = (float)d2, .id = o == c ? 0 : 1, .ref = o};
			wnw_topk_offer(&t, &hit);
		}
		wnw_topk_sort(&t);
		for (uint32_t p = 0; p < nprobe; p++)
			probe[c * nprobe + p] = (uint32_t)t.h[p].ref;
	}
	wnw_topk_free(&t);
	return 0;
}

int wnw_knn_self(const struct wnw_vecs *x, const struct wnw_self_opts *o,
		 void (*done)(void *ctx, size_t i, const struct wnw_hit *h, uint32_t n), void *ctx,
		 struct wnw_err *e)
{
	size_t n = x->rows, d = x->d;
	if (n == 0)
		return 0;
	uint32_t nlist = o->nlist <= 1 ? 1 : o->nlist < n ? o->nlist : (uint32_t)n;
	uint32_t nprobe = nlist == 1 ? 1 : o->nprobe < 1 ? 1 : o->nprobe < nlist ? o->nprobe : nlist;
	int threads = o->threads < 1 ? 1 : o->threads;
	struct wnw_vecs cent, xp;
	wnw_vecs_init(&cent, d);
	wnw_vecs_init(&xp, d);
	uint32_t *assign = NULL, *probe = NULL;
	size_t *perm = NULL, *start = calloc((size_t)nlist + 1, sizeof *start);
	size_t *unit_cell = NULL, *unit_row = NULL, nunits = 0;
	struct self_worker *w = calloc((size_t)threads, sizeof *w);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	struct self_job job;
	int rc = -1, started = 0;
	if (!start || !w || !tid)
		goto oom;
	if (nlist == 1) {
		start[1] = n;
		if (!(probe = calloc(1, sizeof *probe)))
			goto oom;
		xp = *x; /* x's rows as they are, for the packed copy below (the only thing xp then owns) */
		xp.pk = NULL;
	} else {
		if (!(assign = malloc(n * sizeof *assign)) || !(perm = calloc(n, sizeof *perm)) ||
		    !(probe = malloc((size_t)nlist * nprobe * sizeof *probe)))
			goto oom;
		if (wnw_kmeans(x, nlist, 10, &cent, assign, e) != 0)
			goto fail;
		for (size_t i = 0; i < n; i++)
			start[assign[i] + 1]++;
		for (uint32_t c = 0; c < nlist; c++)
			start[c + 1] += start[c];
		size_t *fill = calloc(nlist, sizeof *fill);
		if (!fill || wnw_vecs_reserve(&xp, n) != 0) {
			free(fill);
			goto oom;
		}
		for (size_t i = 0; i < n; i++)
			perm[start[assign[i]] + fill[assign[i]]++] = i;
		free(fill);
		for (size_t i = 0; i < n; i++)
			copy_row(&xp, x, perm[i]);
		if (make_probes(&cent, nprobe, probe) != 0)
			goto oom;
	}
	/* Packed, the rows are queries of wnw_knn_join's fused screen instead of BLAS products. */
	if (wnw_vecs_pack(&xp) != 0)
		goto oom;
	for (uint32_t c = 0; c < nlist; c++)
		nunits += (start[c + 1] - start[c] + QBLOCK - 1) / QBLOCK;
	if (!(unit_cell = malloc(nunits * sizeof *unit_cell)) || !(unit_row = malloc(nunits * sizeof *unit_row)))
		goto oom;
	nunits = 0;
	for (uint32_t c = 0; c < nlist; c++)
		for (size_t r = start[c]; r < start[c + 1]; r += QBLOCK) {
			unit_cell[nunits] = c;
			unit_row[nunits++] = r;
		}
	job = (struct self_job){.xp = &xp, .perm = perm, .start = start, .probe = probe,
				.nprobe = nprobe, .o = o, .nunits = nunits, .unit_cell = unit_cell,
				.unit_row = unit_row, .done = done, .ctx = ctx};
	atomic_init(&job.next, 0);
	for (int t = 0; t < threads; t++) {
		w[t].job = &job;
		if (!(w[t].g = malloc((size_t)QBLOCK * XBLOCK * sizeof(float))))
			goto oom;
		for (unsigned q = 0; q < QBLOCK; q++)
			if (wnw_topk_init(&w[t].top[q], o->k) != 0)
				goto oom;
	}
	for (started = 1; started < threads; started++)
		if (pthread_create(&tid[started], NULL, self_run, &w[started]) != 0)
			break;
	self_run(&w[0]);
	for (int t = 1; t < started; t++)
		pthread_join(tid[t], NULL);
	rc = 0;
	goto fail;
oom:
	wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
fail:
	if (w)
		for (int t = 0; t < threads; t++) {
			free(w[t].g);
			for (unsigned q = 0; q < QBLOCK; q++)
				wnw_topk_free(&w[t].top[q]);
		}
	free(w);
	free(tid);
	free(assign);
	free(perm);
	free(probe);
	free(start);
	free(unit_cell);
	free(unit_row);
	wnw_vecs_free(&cent);
	if (nlist == 1)
		free(xp.pk);
	else
		wnw_vecs_free(&xp);
	return rc;
}
