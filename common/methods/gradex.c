/* gradex.c: see gradex.h for the method and its guarantees. */
#include "gradex.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logreg.h"
#include "rng.h"

#define GX_CHUNK 2048  /* rows per block of a subset pass */
#define GX_PIECE 32768 /* rows per block of the full-pool Hessian pass */
#define GX_SUB 256     /* rows converted to double at a time in the Hessian pass */
#define GX_MEM 8       /* L-BFGS pairs kept per subset */

struct gx_block {
	size_t r0, r1;
	uint32_t group;
};

/* One subset being solved. */
struct gx_slot {
	int64_t sub;       /* subset index, -1 when idle */
	int pending;       /* a trial point x waits for evaluation */
	int done;
	uint32_t nmem;     /* groups in the subset */
	uint32_t *members; /* sorted group indices */
	uint32_t *pos;     /* per member: its column in the group's list this round */
	double *L;         /* Cholesky factor of sum_{k in S} H_k + I/C */
	double *beta, *g, *p, *x, *gt, *alpha;
	double *S, *Y, *rho; /* L-BFGS pairs, ring buffer */
	int npairs, head;
	double f, t, slope, goal, scale;
	int iters, evals;
};

struct gx_scratch {
	double *gd, *xs, *z, *out, *v;
	struct logreg_sum *acc; /* per subset of a block */
};

struct gx_engine {
	struct gx_data dt;
	struct gx_params p;
	struct wnw_pool *tp;
	int nthreads;
	size_t dd;
	double *H, *gk, *fk; /* per group at beta_0: data-term Hessian, gradient, value */
	double *sumg, *sq;   /* per group: sum of rows, sum of squared row norms */
	double *beta0;
	double *tgd; /* target gradients in double */
	struct gx_block *pieces, *chunks;
	size_t npieces, nchunks;
	size_t *cfirst; /* chunks of group k: [cfirst[k], cfirst[k+1]) */
	double *pextra, *pg, *pf; /* Hessian-pass partials */
	const double *pbeta;      /* point of the current Hessian pass */
	double *lastbeta;         /* point of the last pass with the Hessian */
	int phess;
	struct gx_scratch *scr;
	struct gx_slot *slots;
	int nslots;
	/* the current round */
	int *act, nact;
	uint32_t *gcnt;
	size_t *goff;
	int *gcol;
	size_t *coff;
	double *part;
	size_t partcap;
	/* the current job */
	const uint32_t *const *mem;
	const uint32_t *size;
	double *loss, *bout;
	int *init;
	int ninit;
	int oom;
	struct gx_stats st;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

void gx_draw_subset(uint64_t seed, uint64_t j, uint32_t ngroups, uint32_t k, uint32_t *out,
		    uint32_t *scratch)
{
	struct wnw_rng r;
	uint64_t h = seed ^ (j * 0xD1B54A32D192ED03ull);
	wnw_rng_seed(&r, wnw_splitmix64(&h));
	for (uint32_t i = 0; i < ngroups; i++)
		scratch[i] = i;
	/* partial Fisher-Yates: the first k entries are a uniform k-subset */
	for (uint32_t i = 0; i < k; i++) {
		uint32_t c = i + (uint32_t)wnw_rng_below(&r, ngroups - i);
		uint32_t t = scratch[i];
		scratch[i] = scratch[c];
		scratch[c] = t;
	}
	memcpy(out, scratch, (size_t)k * sizeof *out);
	qsort(out, k, sizeof *out, cmp_u32);
}

void gx_scores(uint32_t ngroups, size_t nsub, const uint32_t *const *mem, const uint32_t *size,
	       const double *loss, double *score, uint64_t *in)
{
	double total = 0;
	for (uint32_t g = 0; g < ngroups; g++) {
		in[g] = 0;
		score[g] = 0; /* first the sum of losses over the subsets containing g */
	}
	for (size_t j = 0; j < nsub; j++) {
		total += loss[j];
		for (uint32_t i = 0; i < size[j]; i++) {
			in[mem[j][i]]++;
			score[mem[j][i]] += loss[j];
		}
	}
	for (uint32_t g = 0; g < ngroups; g++) {
		uint64_t nin = in[g], nout = nsub - nin;
		double s = score[g];
		score[g] = (nin == 0 || nout == 0) ? NAN : s / (double)nin - (total - s) / (double)nout;
	}
}

/* ---- helpers ---- */

static void *xalloc(struct gx_engine *x, size_t n)
{
	/* 64-byte alignment keeps BLAS kernels on the same code path whatever the allocation. */
	size_t sz = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, sz ? sz : 64);
	if (!p)
		x->oom = 1;
	else
		memset(p, 0, sz ? sz : 64);
	return p;
}

static double dot(const double *a, const double *b, int d)
{
	double s = 0;
	for (int i = 0; i < d; i++)
		s += a[i] * b[i];
	return s;
}

static void run(struct gx_engine *x, size_t n, void (*fn)(void *, size_t, int))
{
	if (x->tp) {
		wnw_pool_run(x->tp, n, fn, x);
	} else {
		for (size_t i = 0; i < n; i++)
			fn(x, i, 0);
	}
}

static void to_double(const float *src, size_t rows, int d, double *dst)
{
	size_t n = rows * (size_t)d;
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i];
}

/* Cuts every group into blocks of at most len rows. */
static struct gx_block *make_blocks(struct gx_engine *x, size_t len, size_t *count, size_t *first)
{
	size_t nb = 0;
	for (uint32_t k = 0; k < x->dt.ngroups; k++)
		nb += (x->dt.off[k + 1] - x->dt.off[k] + len - 1) / len;
	struct gx_block *b = xalloc(x, nb * sizeof *b);
	if (!b)
		return NULL;
	size_t i = 0;
	for (uint32_t k = 0; k < x->dt.ngroups; k++) {
		if (first)
			first[k] = i;
		for (size_t r = x->dt.off[k]; r < x->dt.off[k + 1]; r += len) {
			b[i].r0 = r;
			b[i].r1 = r + len < x->dt.off[k + 1] ? r + len : x->dt.off[k + 1];
			b[i].group = k;
			i++;
		}
	}
	if (first)
		first[x->dt.ngroups] = i;
	*count = nb;
	return b;
}

/* ---- the full-pool fit: Newton over pieces, keeping per-group parts ---- */

/* Piece i: data term, gradient and (when x->phess) Hessian of its rows at x->pbeta. The first piece
 * of a group writes its Hessian straight into the group's slot, the others into pextra. */
static void piece_work(void *ctx, size_t i, int thread)
{
	struct gx_engine *x = ctx;
	const struct gx_block *b = &x->pieces[i];
	int d = x->dt.d;
	struct gx_scratch *s = &x->scr[thread];
	int first = i == 0 || x->pieces[i - 1].group != b->group;
	double *H = first ? x->H + b->group * x->dd : x->pextra + (i - b->group - 1) * x->dd;
	double *g = x->pg + i * (size_t)d;
	struct logreg_sum f;
	logreg_sum_init(&f);
	memset(g, 0, (size_t)d * sizeof *g);
	if (x->phess)
		memset(H, 0, x->dd * sizeof *H);
	for (size_t r = b->r0; r < b->r1; r += GX_SUB) {
		int m = (int)(b->r1 - r < GX_SUB ? b->r1 - r : GX_SUB);
		to_double(x->dt.g + r * (size_t)d, (size_t)m, d, s->gd);
		cblas_dgemv(CblasRowMajor, CblasNoTrans, m, d, 1.0, s->gd, d, x->pbeta, 1, 0.0, s->v, 1);
		for (int j = 0; j < m; j++)
			s->v[j] = -logreg_sum_add(&f, s->v[j]);
		cblas_dgemv(CblasRowMajor, CblasTrans, m, d, 1.0, s->gd, d, s->v, 1, 1.0, g, 1);
		if (!x->phess)
			continue;
		for (int j = 0; j < m; j++) {
			double q = -s->v[j], w = sqrt(q * (1.0 - q));
			double *row = s->gd + (size_t)j * d;
			for (int c = 0; c < d; c++)
				row[c] *= w;
		}
		cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, d, m, 1.0, s->gd, d, 1.0, H, d);
	}
	x->pf[i] = logreg_sum_value(&f);
}

/* logreg_eval_fn over the whole pool; leaves per-group parts in H, gk, fk. */
static void full_eval(void *ctx, const double *beta, double *f, double *grad, double *hess)
{
	struct gx_engine *x = ctx;
	int d = x->dt.d;
	x->pbeta = beta;
	x->phess = hess != NULL;
	if (hess)
		memcpy(x->lastbeta, beta, (size_t)d * sizeof *beta);
	run(x, x->npieces, piece_work);
	*f = 0;
	memset(grad, 0, (size_t)d * sizeof *grad);
	if (hess)
		memset(hess, 0, x->dd * sizeof *hess);
	size_t i = 0;
	for (uint32_t k = 0; k < x->dt.ngroups; k++) {
		double *gk = x->gk + (size_t)k * d, *Hk = x->H + k * x->dd;
		x->fk[k] = 0;
		memset(gk, 0, (size_t)d * sizeof *gk);
		for (; i < x->npieces && x->pieces[i].group == k; i++) {
			x->fk[k] += x->pf[i];
			for (int c = 0; c < d; c++)
				gk[c] += x->pg[i * (size_t)d + c];
			if (hess && (i > 0 && x->pieces[i - 1].group == k)) {
				const double *E = x->pextra + (i - k - 1) * x->dd;
				for (size_t c = 0; c < x->dd; c++)
					Hk[c] += E[c];
			}
		}
		*f += x->fk[k];
		for (int c = 0; c < d; c++)
			grad[c] += gk[c];
		if (!hess)
			continue;
		for (int r = 0; r < d; r++) /* dsyrk filled the lower triangle */
			for (int c = r + 1; c < d; c++)
				Hk[(size_t)r * d + c] = Hk[(size_t)c * d + r];
		for (size_t c = 0; c < x->dd; c++)
			hess[c] += Hk[c];
	}
}

/* Per-group sums of rows and of squared row norms, for the tolerance scale. */
static void group_sums(struct gx_engine *x)
{
	int d = x->dt.d;
	for (uint32_t k = 0; k < x->dt.ngroups; k++) {
		double *sg = x->sumg + (size_t)k * d, sq = 0;
		for (size_t r = x->dt.off[k]; r < x->dt.off[k + 1]; r++) {
			const float *row = x->dt.g + r * (size_t)d;
			for (int c = 0; c < d; c++) {
				sg[c] += row[c];
				sq += (double)row[c] * row[c];
			}
		}
		x->sq[k] = sq;
	}
}

static double scale_of(const struct gx_engine *x, const uint32_t *mem, uint32_t n, double *tmp)
{
	int d = x->dt.d;
	double sq = 0;
	memset(tmp, 0, (size_t)d * sizeof *tmp);
	for (uint32_t i = 0; i < n; i++) {
		const double *sg = x->sumg + (size_t)mem[i] * d;
		for (int c = 0; c < d; c++)
			tmp[c] += sg[c];
		sq += x->sq[mem[i]];
	}
	return 0.5 * fmax(sqrt(dot(tmp, tmp, d)), sqrt(sq));
}

static int alloc_engine(struct gx_engine *x)
{
	int d = x->dt.d, B = x->p.batch;
	uint32_t ng = x->dt.ngroups;
	x->dd = (size_t)d * d;
	x->H = xalloc(x, ng * x->dd * sizeof(double));
	x->gk = xalloc(x, (size_t)ng * d * sizeof(double));
	x->fk = xalloc(x, ng * sizeof(double));
	x->sumg = xalloc(x, (size_t)ng * d * sizeof(double));
	x->sq = xalloc(x, ng * sizeof(double));
	x->beta0 = xalloc(x, (size_t)d * sizeof(double));
	x->lastbeta = xalloc(x, (size_t)d * sizeof(double));
	x->tgd = xalloc(x, x->dt.nt * d * sizeof(double));
	x->cfirst = xalloc(x, (ng + 1) * sizeof(size_t));
	x->gcnt = xalloc(x, ng * sizeof(uint32_t));
	x->goff = xalloc(x, (ng + 1) * sizeof(size_t));
	x->gcol = xalloc(x, (size_t)ng * B * sizeof(int));
	x->act = xalloc(x, (size_t)B * sizeof(int));
	x->init = xalloc(x, (size_t)B * sizeof(int));
	if (x->oom)
		return -1;
	x->pieces = make_blocks(x, GX_PIECE, &x->npieces, NULL);
	x->chunks = make_blocks(x, GX_CHUNK, &x->nchunks, x->cfirst);
	if (x->oom)
		return -1;
	x->coff = xalloc(x, (x->nchunks + 1) * sizeof(size_t));
	x->pextra = xalloc(x, (x->npieces - ng) * x->dd * sizeof(double));
	x->pg = xalloc(x, x->npieces * d * sizeof(double));
	x->pf = xalloc(x, x->npieces * sizeof(double));
	x->scr = xalloc(x, (size_t)x->nthreads * sizeof *x->scr);
	if (x->oom)
		return -1;
	size_t rows = GX_CHUNK > GX_SUB ? GX_CHUNK : GX_SUB;
	for (int t = 0; t < x->nthreads; t++) {
		struct gx_scratch *s = &x->scr[t];
		s->gd = xalloc(x, rows * d * sizeof(double));
		s->xs = xalloc(x, (size_t)d * B * sizeof(double));
		s->z = xalloc(x, (size_t)GX_CHUNK * B * sizeof(double));
		s->out = xalloc(x, (size_t)d * B * sizeof(double));
		s->v = xalloc(x, (rows > x->dt.nt ? rows : x->dt.nt) * sizeof(double));
		s->acc = xalloc(x, (size_t)B * sizeof *s->acc);
	}
	x->slots = xalloc(x, (size_t)B * sizeof *x->slots);
	if (x->oom)
		return -1;
	x->nslots = B;
	for (int i = 0; i < B; i++) {
		struct gx_slot *s = &x->slots[i];
		s->sub = -1;
		s->members = xalloc(x, ng * sizeof(uint32_t));
		s->pos = xalloc(x, ng * sizeof(uint32_t));
		s->L = xalloc(x, x->dd * sizeof(double));
		s->beta = xalloc(x, (size_t)d * sizeof(double));
		s->g = xalloc(x, (size_t)d * sizeof(double));
		s->p = xalloc(x, (size_t)d * sizeof(double));
		s->x = xalloc(x, (size_t)d * sizeof(double));
		s->gt = xalloc(x, (size_t)d * sizeof(double));
		s->alpha = xalloc(x, GX_MEM * sizeof(double));
		s->S = xalloc(x, (size_t)GX_MEM * d * sizeof(double));
		s->Y = xalloc(x, (size_t)GX_MEM * d * sizeof(double));
		s->rho = xalloc(x, GX_MEM * sizeof(double));
	}
	return x->oom ? -1 : 0;
}

struct gx_engine *gx_new(const struct gx_data *data, const struct gx_params *p, struct wnw_pool *tp,
			 struct wnw_err *e)
{
	struct gx_engine *x = calloc(1, sizeof *x);
	if (!x) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	x->dt = *data;
	x->p = *p;
	if (x->p.batch < 1)
		x->p.batch = 1;
	x->tp = tp;
	x->nthreads = tp ? wnw_pool_threads(tp) : 1;
	/* Parallelism is ours, over blocks that do not depend on the thread count; one BLAS thread per
	 * call keeps every product's rounding the same whatever -j. */
	openblas_set_num_threads(1);
	if (alloc_engine(x) < 0) {
		gx_free(x);
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	to_double(x->dt.tg, x->dt.nt, x->dt.d, x->tgd);
	group_sums(x);
	uint32_t *all = malloc(x->dt.ngroups * sizeof *all);
	double *tmp = malloc((size_t)x->dt.d * sizeof *tmp);
	if (!all || !tmp) {
		free(all), free(tmp);
		gx_free(x);
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	for (uint32_t k = 0; k < x->dt.ngroups; k++)
		all[k] = k;
	double scale = scale_of(x, all, x->dt.ngroups, tmp);
	free(all), free(tmp);
	struct logreg_opts o = {x->p.C, x->p.tol * scale, 0, x->p.maxit};
	struct logreg_info info;
	if (logreg_newton(x->dt.d, full_eval, x, &o, x->beta0, &info) < 0) {
		gx_free(x);
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory or a singular Hessian in the full-pool fit");
		return NULL;
	}
	/* The per-group parts must be those at beta_0: re-evaluate there unless the last pass was
	 * (it was not when the fit ended on a rejected trial step). */
	if (memcmp(x->lastbeta, x->beta0, (size_t)x->dt.d * sizeof *x->beta0) != 0) {
		double fdummy;
		double *gd = malloc((size_t)x->dt.d * sizeof *gd), *hd = malloc(x->dd * sizeof *hd);
		if (!gd || !hd) {
			free(gd), free(hd);
			gx_free(x);
			wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
			return NULL;
		}
		full_eval(x, x->beta0, &fdummy, gd, hd);
		free(gd), free(hd);
	}
	x->st.full_iters = info.iters;
	x->st.full_rel = scale > 0 ? info.gnorm / scale : 0;
	return x;
}

const double *gx_beta0(const struct gx_engine *x) { return x->beta0; }
const struct gx_stats *gx_stats(const struct gx_engine *x) { return &x->st; }

void gx_free(struct gx_engine *x)
{
	if (!x)
		return;
	if (x->slots) {
		for (int i = 0; i < x->nslots; i++) {
			struct gx_slot *s = &x->slots[i];
			free(s->members), free(s->pos), free(s->L), free(s->beta), free(s->g);
			free(s->p), free(s->x), free(s->gt), free(s->alpha), free(s->S), free(s->Y);
			free(s->rho);
		}
	}
	if (x->scr) {
		for (int t = 0; t < x->nthreads; t++) {
			struct gx_scratch *s = &x->scr[t];
			free(s->gd), free(s->xs), free(s->z), free(s->out), free(s->v), free(s->acc);
		}
	}
	free(x->slots), free(x->scr), free(x->H), free(x->gk), free(x->fk), free(x->sumg), free(x->sq);
	free(x->beta0), free(x->lastbeta), free(x->tgd), free(x->pieces), free(x->chunks), free(x->cfirst);
	free(x->pextra), free(x->pg), free(x->pf), free(x->act), free(x->gcnt), free(x->goff);
	free(x->gcol), free(x->coff), free(x->part), free(x->init);
	free(x);
}

/* ---- subset solves ---- */

/* L-BFGS direction p = -H~ g with initial inverse Hessian (L L^T)^-1. */
static void direction(const struct gx_engine *x, struct gx_slot *s)
{
	int d = x->dt.d;
	memcpy(s->p, s->g, (size_t)d * sizeof *s->p);
	for (int k = 0; k < s->npairs; k++) {
		int i = (s->head - 1 - k + GX_MEM) % GX_MEM;
		s->alpha[i] = s->rho[i] * dot(s->S + (size_t)i * d, s->p, d);
		const double *y = s->Y + (size_t)i * d;
		for (int c = 0; c < d; c++)
			s->p[c] -= s->alpha[i] * y[c];
	}
	logreg_chol_solve(s->L, d, s->p);
	for (int k = s->npairs - 1; k >= 0; k--) {
		int i = (s->head - 1 - k + GX_MEM) % GX_MEM;
		double b = s->rho[i] * dot(s->Y + (size_t)i * d, s->p, d);
		const double *sv = s->S + (size_t)i * d;
		for (int c = 0; c < d; c++)
			s->p[c] += sv[c] * (s->alpha[i] - b);
	}
	for (int c = 0; c < d; c++)
		s->p[c] = -s->p[c];
	s->slope = dot(s->g, s->p, d);
}

static void set_trial(const struct gx_engine *x, struct gx_slot *s)
{
	for (int c = 0; c < x->dt.d; c++)
		s->x[c] = s->beta[c] + s->t * s->p[c];
	s->pending = 1;
}

/* Target loss at the slot's solution; marks it done. */
static void finish(struct gx_engine *x, struct gx_slot *s, struct gx_scratch *sc)
{
	int d = x->dt.d;
	size_t nt = x->dt.nt;
	double norm = sqrt(dot(s->beta, s->beta, d)), sum = 0;
	if (norm > 0) {
		cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)nt, d, x->p.step / norm, x->tgd, d, s->beta, 1,
			    0.0, sc->v, 1);
	} else {
		memset(sc->v, 0, nt * sizeof *sc->v);
	}
	for (size_t t = 0; t < nt; t++)
		sum += logreg_nls(x->dt.tf0[t] + sc->v[t]);
	x->loss[s->sub] = sum / (double)nt;
	if (x->bout)
		memcpy(x->bout + (size_t)s->sub * d, s->beta, (size_t)d * sizeof *s->beta);
	s->done = 1;
	s->pending = 0;
}

static int converged(const struct gx_engine *x, const struct gx_slot *s)
{
	return sqrt(dot(s->g, s->g, x->dt.d)) <= s->goal;
}

/* Loads subset s->sub: its preconditioner, the start at beta_0 (known without a pass), and the
 * first trial point. */
static void slot_init(void *ctx, size_t i, int thread)
{
	struct gx_engine *x = ctx;
	struct gx_slot *s = &x->slots[x->init[i]];
	int d = x->dt.d;
	size_t j = (size_t)s->sub;
	s->nmem = x->size[j];
	memcpy(s->members, x->mem[j], s->nmem * sizeof *s->members);
	qsort(s->members, s->nmem, sizeof *s->members, cmp_u32);
	memset(s->L, 0, x->dd * sizeof *s->L);
	s->f = dot(x->beta0, x->beta0, d) / (2 * x->p.C);
	for (int c = 0; c < d; c++)
		s->g[c] = x->beta0[c] / x->p.C;
	for (uint32_t m = 0; m < s->nmem; m++) {
		uint32_t k = s->members[m];
		const double *Hk = x->H + k * x->dd, *gk = x->gk + (size_t)k * d;
		for (int r = 0; r < d; r++) /* the lower triangle is all the factorisation reads */
			for (int c = 0; c <= r; c++)
				s->L[(size_t)r * d + c] += Hk[(size_t)r * d + c];
		for (int c = 0; c < d; c++)
			s->g[c] += gk[c];
		s->f += x->fk[k];
	}
	for (int c = 0; c < d; c++)
		s->L[(size_t)c * d + c] += 1.0 / x->p.C;
	memcpy(s->beta, x->beta0, (size_t)d * sizeof *s->beta);
	s->scale = scale_of(x, s->members, s->nmem, s->gt);
	s->goal = x->p.tol * s->scale;
	s->npairs = s->head = 0;
	s->iters = s->evals = 0;
	s->done = s->pending = 0;
	/* Sums of positive semidefinite parts plus I/C stay positive definite in exact arithmetic;
	 * should rounding say otherwise, the identity scaled by C is a safe preconditioner. */
	if (logreg_chol(s->L, d) < 0) {
		memset(s->L, 0, x->dd * sizeof *s->L);
		for (int c = 0; c < d; c++)
			s->L[(size_t)c * d + c] = 1.0 / sqrt(x->p.C);
	}
	if (converged(x, s) || x->p.maxit == 0) {
		finish(x, s, &x->scr[thread]);
		return;
	}
	direction(x, s);
	s->t = 1.0;
	set_trial(x, s);
}

/* Margins and residuals of chunk c for every active subset containing its group, then the partial
 * gradients G_c^T r and losses, stored at part[coff[c] ...]. */
static void chunk_work(void *ctx, size_t c, int thread)
{
	struct gx_engine *x = ctx;
	const struct gx_block *b = &x->chunks[c];
	size_t J = x->coff[c + 1] - x->coff[c];
	if (J == 0)
		return;
	int d = x->dt.d, m = (int)(b->r1 - b->r0), nj = (int)J;
	struct gx_scratch *s = &x->scr[thread];
	const int *cols = x->gcol + x->goff[b->group];
	for (int col = 0; col < nj; col++) {
		const double *xv = x->slots[cols[col]].x;
		for (int r = 0; r < d; r++)
			s->xs[(size_t)r * nj + col] = xv[r];
	}
	to_double(x->dt.g + b->r0 * (size_t)d, (size_t)m, d, s->gd);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, nj, d, 1.0, s->gd, d, s->xs, nj, 0.0,
		    s->z, nj);
	double *out = x->part + x->coff[c] * (size_t)(d + 1);
	for (int col = 0; col < nj; col++)
		logreg_sum_init(&s->acc[col]);
	for (int r = 0; r < m; r++) {
		double *zr = s->z + (size_t)r * nj;
		for (int col = 0; col < nj; col++)
			zr[col] = -logreg_sum_add(&s->acc[col], zr[col]);
	}
	for (int col = 0; col < nj; col++)
		out[(size_t)col * (d + 1) + d] = logreg_sum_value(&s->acc[col]);
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, nj, m, 1.0, s->gd, d, s->z, nj, 0.0, s->out,
		    nj);
	for (int col = 0; col < nj; col++)
		for (int r = 0; r < d; r++)
			out[(size_t)col * (d + 1) + r] = s->out[(size_t)r * nj + col];
}

/* Sums the slot's parts in group and chunk order, then takes one line-search / L-BFGS step. */
static void slot_step(void *ctx, size_t i, int thread)
{
	struct gx_engine *x = ctx;
	struct gx_slot *s = &x->slots[x->act[i]];
	int d = x->dt.d;
	double ft = dot(s->x, s->x, d) / (2 * x->p.C);
	for (int c = 0; c < d; c++)
		s->gt[c] = s->x[c] / x->p.C;
	for (uint32_t m = 0; m < s->nmem; m++) {
		uint32_t k = s->members[m];
		for (size_t c = x->cfirst[k]; c < x->cfirst[k + 1]; c++) {
			const double *pp = x->part + (x->coff[c] + s->pos[m]) * (size_t)(d + 1);
			for (int r = 0; r < d; r++)
				s->gt[r] += pp[r];
			ft += pp[d];
		}
	}
	s->evals++;
	s->pending = 0;
	/* Armijo, with room for the rounding of F itself so that the last digits cannot stall it. */
	if (isfinite(ft) && ft <= s->f + 1e-4 * s->t * s->slope + 8 * DBL_EPSILON * fabs(s->f)) {
		int h = s->head;
		double *sv = s->S + (size_t)h * d, *yv = s->Y + (size_t)h * d;
		for (int c = 0; c < d; c++) {
			sv[c] = s->x[c] - s->beta[c];
			yv[c] = s->gt[c] - s->g[c];
		}
		double sy = dot(sv, yv, d);
		if (sy > 1e-300) {
			s->rho[h] = 1.0 / sy;
			s->head = (h + 1) % GX_MEM;
			if (s->npairs < GX_MEM)
				s->npairs++;
		}
		memcpy(s->beta, s->x, (size_t)d * sizeof *s->beta);
		memcpy(s->g, s->gt, (size_t)d * sizeof *s->g);
		s->f = ft;
		s->iters++;
		if (converged(x, s) || s->iters >= x->p.maxit) {
			finish(x, s, &x->scr[thread]);
			return;
		}
		direction(x, s);
		if (!(s->slope < 0)) { /* not a descent direction: forget the pairs */
			s->npairs = s->head = 0;
			direction(x, s);
		}
		s->t = 1.0;
	} else {
		double t = s->t, den = 2 * (ft - s->f - s->slope * t);
		double tn = isfinite(ft) && den > 0 ? -s->slope * t * t / den : 0.1 * t;
		s->t = fmin(fmax(tn, 0.1 * t), 0.5 * t);
		if (s->t < 1e-12 || !(s->slope < 0)) { /* no representable decrease left */
			finish(x, s, &x->scr[thread]);
			return;
		}
	}
	set_trial(x, s);
}

/* One pass over the data for every pending trial point. */
static int round_eval(struct gx_engine *x)
{
	uint32_t ng = x->dt.ngroups;
	memset(x->gcnt, 0, ng * sizeof *x->gcnt);
	for (int i = 0; i < x->nact; i++) {
		struct gx_slot *s = &x->slots[x->act[i]];
		for (uint32_t m = 0; m < s->nmem; m++)
			s->pos[m] = x->gcnt[s->members[m]]++;
	}
	x->goff[0] = 0;
	for (uint32_t k = 0; k < ng; k++)
		x->goff[k + 1] = x->goff[k] + x->gcnt[k];
	for (int i = 0; i < x->nact; i++) {
		struct gx_slot *s = &x->slots[x->act[i]];
		for (uint32_t m = 0; m < s->nmem; m++)
			x->gcol[x->goff[s->members[m]] + s->pos[m]] = x->act[i];
	}
	x->coff[0] = 0;
	for (size_t c = 0; c < x->nchunks; c++)
		x->coff[c + 1] = x->coff[c] + x->gcnt[x->chunks[c].group];
	size_t need = x->coff[x->nchunks] * (size_t)(x->dt.d + 1);
	if (need > x->partcap) {
		free(x->part);
		x->part = xalloc(x, need * sizeof *x->part);
		if (!x->part)
			return -1;
		x->partcap = need;
	}
	run(x, x->nchunks, chunk_work);
	run(x, (size_t)x->nact, slot_step);
	x->st.rounds++;
	return 0;
}

static void slot_release(struct gx_engine *x, struct gx_slot *s)
{
	x->st.subsets++;
	x->st.iters += (uint64_t)s->iters;
	x->st.evals += (uint64_t)s->evals;
	double rel = s->scale > 0 ? sqrt(dot(s->g, s->g, x->dt.d)) / s->scale : 0;
	if (rel > x->p.tol)
		x->st.unconverged++;
	if (rel > x->st.worst_rel)
		x->st.worst_rel = rel;
	s->sub = -1;
	s->done = 0;
}

int gx_losses(struct gx_engine *x, size_t nsub, const uint32_t *const *mem, const uint32_t *size,
	      double *loss, double *beta, struct wnw_err *e)
{
	x->mem = mem;
	x->size = size;
	x->loss = loss;
	x->bout = beta;
	size_t next = 0;
	for (;;) {
		/* Fill idle slots in slot order; a subset solved at its start frees its slot at once. */
		for (;;) {
			x->ninit = 0;
			for (int i = 0; i < x->nslots && next < nsub; i++) {
				if (x->slots[i].sub >= 0)
					continue;
				x->slots[i].sub = (int64_t)next++;
				x->init[x->ninit++] = i;
			}
			if (x->ninit == 0)
				break;
			run(x, (size_t)x->ninit, slot_init);
			int freed = 0;
			for (int i = 0; i < x->ninit; i++) {
				struct gx_slot *s = &x->slots[x->init[i]];
				if (s->done) {
					slot_release(x, s);
					freed = 1;
				}
			}
			if (!freed)
				break;
		}
		x->nact = 0;
		for (int i = 0; i < x->nslots; i++)
			if (x->slots[i].sub >= 0 && x->slots[i].pending)
				x->act[x->nact++] = i;
		if (x->nact == 0)
			break;
		if (round_eval(x) < 0) {
			wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
			return -1;
		}
		for (int i = 0; i < x->nact; i++) {
			struct gx_slot *s = &x->slots[x->act[i]];
			if (s->done)
				slot_release(x, s);
		}
	}
	return 0;
}
