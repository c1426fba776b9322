/* pursuit.c: non-negative OMP and its CoSaMP-style batch variant (see pursuit.h and pursuit(1)). */
#include "pursuit.h"
#include "isa.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnls.h"

/* Rows per work item of the correlation pass: fixed, so the reduction order never depends on -j. */
#define CHUNK 4096

/* A step (or round) must lower the residual by more than this relative amount to count as progress. */
#define STALL_EPS 1e-12

enum { ROW_FREE = 0, ROW_CHOSEN = 1, ROW_EXCLUDED = 2 };

void pur_mat_init(struct pur_mat *m, uint32_t d)
{
	memset(m, 0, sizeof *m);
	m->d = d;
}

void pur_mat_free(struct pur_mat *m)
{
	free(m->v);
	free(m->inv);
	memset(m, 0, sizeof *m);
}

void pur_mat_clear(struct pur_mat *m) { m->n = 0; }

float *pur_mat_push(struct pur_mat *m)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1 + ((size_t)1 << 22) / ((size_t)m->d + 1); /* ~16 MB first */
		float *v = realloc(m->v, cap * m->d * sizeof *v + sizeof *v);
		if (!v)
			return NULL;
		m->v = v;
		float *inv = realloc(m->inv, cap * sizeof *inv);
		if (!inv)
			return NULL;
		m->inv = inv;
		m->cap = cap;
	}
	return m->v + m->n * m->d;
}

void pur_mat_commit(struct pur_mat *m)
{
	const float *a = m->v + m->n * m->d;
	double s = 0;
	for (uint32_t j = 0; j < m->d; j++)
		s += (double)a[j] * a[j];
	m->inv[m->n] = s > 0 ? (float)(1 / sqrt(s)) : 0;
	m->n++;
}

void pur_mat_remove(struct pur_mat *m, const size_t *idx, size_t k, uint64_t *tag)
{
	for (size_t i = 0; i < k; i++) /* marks the rows to go by a NaN norm, which no committed row has */
		m->inv[idx[i]] = NAN;
	size_t w = 0;
	for (size_t r = 0; r < m->n; r++) {
		if (isnan(m->inv[r]))
			continue;
		if (w != r) {
			memmove(m->v + w * m->d, m->v + r * m->d, m->d * sizeof *m->v);
			m->inv[w] = m->inv[r];
			if (tag)
				tag[w] = tag[r];
		}
		w++;
	}
	m->n = w;
}

/* The summation order of every f32 inner product: 32 lanes of fused multiply-adds over blocks of 32,
 * then blocks of 8 into lanes 0..7, the lanes added pairwise (4 x 8 -> 8 -> 1), then the tail one by
 * one. dot_avx2 and dot_scalar compute exactly the same sums. */
__attribute__((target("avx2,fma"))) static float dot_avx2(const float *x, const float *y, uint32_t d)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
	uint32_t j = 0;
	for (; j + 32 <= d; j += 32) {
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j + 8), _mm256_loadu_ps(y + j + 8), s1);
		s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j + 16), _mm256_loadu_ps(y + j + 16), s2);
		s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j + 24), _mm256_loadu_ps(y + j + 24), s3);
	}
	for (; j + 8 <= d; j += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j), s0);
	__m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
	float t[8];
	_mm256_storeu_ps(t, s);
	float r = ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
	for (; j < d; j++)
		r = fmaf(x[j], y[j], r);
	return r;
}

static float dot_scalar(const float *x, const float *y, uint32_t d)
{
	float acc[32] = {0};
	uint32_t j = 0;
	for (; j + 32 <= d; j += 32)
		for (int l = 0; l < 32; l++)
			acc[l] = fmaf(x[j + l], y[j + l], acc[l]);
	for (; j + 8 <= d; j += 8)
		for (int l = 0; l < 8; l++)
			acc[l] = fmaf(x[j + l], y[j + l], acc[l]);
	float t[8];
	for (int l = 0; l < 8; l++)
		t[l] = (acc[l] + acc[l + 8]) + (acc[l + 16] + acc[l + 24]);
	float r = ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
	for (; j < d; j++)
		r = fmaf(x[j], y[j], r);
	return r;
}

/* The screening kernel: the same summation order over f16 components (converted exactly to f32). */
__attribute__((target("avx2,fma,f16c"))) static float dot_f16(const uint16_t *x, const float *y, uint32_t d)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
	uint32_t j = 0;
	for (; j + 32 <= d; j += 32) {
		s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + j))),
				     _mm256_loadu_ps(y + j), s0);
		s1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + j + 8))),
				     _mm256_loadu_ps(y + j + 8), s1);
		s2 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + j + 16))),
				     _mm256_loadu_ps(y + j + 16), s2);
		s3 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + j + 24))),
				     _mm256_loadu_ps(y + j + 24), s3);
	}
	for (; j + 8 <= d; j += 8)
		s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + j))),
				     _mm256_loadu_ps(y + j), s0);
	__m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
	float t[8];
	_mm256_storeu_ps(t, s);
	float r = ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
	for (; j < d; j++)
		r = fmaf(_cvtsh_ss(x[j]), y[j], r);
	return r;
}

/* Row i scaled to unit norm and rounded to f16 (round to nearest even). */
__attribute__((target("avx2,fma,f16c"))) static void to_f16(const float *a, float inv, uint32_t d, uint16_t *h)
{
	uint32_t j = 0;
	__m256 s = _mm256_set1_ps(inv);
	for (; j + 8 <= d; j += 8)
		_mm_storeu_si128((__m128i *)(void *)(h + j),
				 _mm256_cvtps_ph(_mm256_mul_ps(_mm256_loadu_ps(a + j), s), _MM_FROUND_TO_NEAREST_INT));
	for (; j < d; j++)
		h[j] = _cvtss_sh(a[j] * inv, _MM_FROUND_TO_NEAREST_INT);
}

/* AVX2 (with FMA and F16C) by wnw_isa(); the AVX-512 slot (dot over zmm, same summation order) is empty. */
static int have_avx2(void) { return wnw_isa() >= WNW_ISA_AVX2; }

float pur_dot(const float *x, const float *y, uint32_t d)
{
	return have_avx2() ? dot_avx2(x, y, d) : dot_scalar(x, y, d);
}

const char *pur_stop_name(int stop)
{
	switch (stop) {
	case PUR_STOP_K: return "K reached";
	case PUR_STOP_NOCORR: return "no positive correlation";
	case PUR_STOP_STALL: return "residual no longer decreasing";
	case PUR_STOP_TOL: return "tolerance reached";
	case PUR_STOP_STEPS: return "step limit";
	default: return "not run";
	}
}

struct run {
	const struct pur_mat *A;
	const struct pur_opts *o;
	uint32_t d;
	int avx;
	uint8_t *state;   /* per row: ROW_* */
	double *y, *r;    /* goal K b and residual, d each */
	float *rf;        /* residual in f32 for the pass */
	double ynorm, rho;
	struct nnls nn;
	size_t *slot_row;
	uint64_t *slot_seq, seq;
	double *g;        /* one Gram row, by slot */
	size_t nchunks;
	float *cbest;     /* per chunk: best correlation (OMP pass) */
	size_t *ibest;
	float *c;         /* per row: correlation (batch pass) or its f16 estimate (OMP screening) */
	uint32_t exact_passes;
	uint16_t *h;      /* n x d: unit rows in f16 for the screening pass, or NULL (no screening) */
	double eps_rel;   /* |estimate - correlation| <= eps_rel * ||rf|| for every row */
	size_t *cand;     /* screening survivors */
};

/* Rows per screening survivor list: beyond this, the exact pass is cheaper. */
#define MAX_CAND 8192

static float dot(const struct run *R, const float *x, const float *y)
{
	return R->avx ? dot_avx2(x, y, R->d) : dot_scalar(x, y, R->d);
}

/* OMP pass over one chunk: the free row of largest positive cosine with the residual (lowest index on
 * ties), or none. */
static void pass_best(void *ctx, size_t ci, int thread)
{
	struct run *R = ctx;
	(void)thread;
	size_t lo = ci * CHUNK, hi = lo + CHUNK < R->A->n ? lo + CHUNK : R->A->n;
	float best = 0;
	size_t arg = SIZE_MAX;
	for (size_t i = lo; i < hi; i++) {
		if (R->state[i] != ROW_FREE)
			continue;
		float v = dot(R, R->A->v + i * R->d, R->rf) * R->A->inv[i];
		if (v > best) {
			best = v;
			arg = i;
		}
	}
	R->cbest[ci] = best;
	R->ibest[ci] = arg;
}

/* Batch pass over one chunk: every free row's cosine with the residual (-1 for rows not free). */
static void pass_all(void *ctx, size_t ci, int thread)
{
	struct run *R = ctx;
	(void)thread;
	size_t lo = ci * CHUNK, hi = lo + CHUNK < R->A->n ? lo + CHUNK : R->A->n;
	for (size_t i = lo; i < hi; i++)
		R->c[i] = R->state[i] == ROW_FREE ? dot(R, R->A->v + i * R->d, R->rf) * R->A->inv[i] : -1;
}

/* Screening pass over one chunk: f16 estimates of every free row's cosine, and the chunk's largest. */
static void pass_screen(void *ctx, size_t ci, int thread)
{
	struct run *R = ctx;
	(void)thread;
	size_t lo = ci * CHUNK, hi = lo + CHUNK < R->A->n ? lo + CHUNK : R->A->n;
	float best = -INFINITY;
	for (size_t i = lo; i < hi; i++) {
		if (R->state[i] != ROW_FREE)
			continue;
		float v = dot_f16(R->h + i * R->d, R->rf, R->d);
		R->c[i] = v;
		if (v > best)
			best = v;
	}
	R->cbest[ci] = best;
}

static void fill_f16(void *ctx, size_t ci, int thread)
{
	struct run *R = ctx;
	(void)thread;
	size_t lo = ci * CHUNK, hi = lo + CHUNK < R->A->n ? lo + CHUNK : R->A->n;
	for (size_t i = lo; i < hi; i++)
		to_f16(R->A->v + i * R->d, R->A->inv[i], R->d, R->h + i * R->d);
}

/* The bound on |f16 estimate - f32 correlation| relative to ||rf||, with a factor 2 to spare:
 * rounding the unit row to f16 (2^-11 relative, 2^-25 absolute below the normal range, 2^-22 for the
 * scaling in f32), and the f32 accumulation error of both products, gamma_k with k = d/8 + 16
 * sequential additions at most, plus the final multiplication by 1/||a_i||. */
static double screen_eps(uint32_t d)
{
	double u = 0x1p-24, k = d / 8.0 + 16, gamma = k * u / (1 - k * u);
	return 2 * ((0x1p-11 + 0x1p-22) * (1 + 0x1p-10) + 0x1p-25 * sqrt((double)d) + 2 * (gamma + 2 * u));
}

static void run_pass(struct run *R, void (*fn)(void *, size_t, int))
{
	for (uint32_t j = 0; j < R->d; j++)
		R->rf[j] = (float)R->r[j];
	if (R->o->pool)
		wnw_pool_run(R->o->pool, R->nchunks, fn, R);
	else
		for (size_t ci = 0; ci < R->nchunks; ci++)
			fn(R, ci, 0);
}

/* The exact argmax by way of the f16 estimates: every row whose exact correlation could be the largest
 * has an estimate within 2 eps of the largest estimate; those are rescored with the f32 kernel, in
 * row order, so the pick is the one the full f32 pass would make. Returns 0 when there are too many
 * survivors (then the caller runs the full pass). */
static int screened_pick(struct run *R, size_t *pick)
{
	run_pass(R, pass_screen);
	float m = -INFINITY;
	for (size_t ci = 0; ci < R->nchunks; ci++)
		if (R->cbest[ci] > m)
			m = R->cbest[ci];
	*pick = SIZE_MAX;
	if (m == -INFINITY)
		return 1;
	double rr = 0;
	for (uint32_t j = 0; j < R->d; j++)
		rr += (double)R->rf[j] * R->rf[j];
	double eps = R->eps_rel * sqrt(rr), tau = m - 2 * eps;
	if (tau < -eps) /* a pick needs a positive correlation, hence an estimate above -eps */
		tau = -eps;
	size_t nc = 0;
	for (size_t i = 0; i < R->A->n; i++)
		if (R->state[i] == ROW_FREE && R->c[i] >= tau) {
			if (nc == MAX_CAND)
				return 0;
			R->cand[nc++] = i;
		}
	float best = 0;
	for (size_t k = 0; k < nc; k++) {
		size_t i = R->cand[k];
		float v = dot(R, R->A->v + i * R->d, R->rf) * R->A->inv[i];
		if (v > best) {
			best = v;
			*pick = i;
		}
	}
	return 1;
}

/* Index of the free row most positively correlated with the residual, or SIZE_MAX. */
static size_t omp_pick(struct run *R)
{
	size_t pick;
	if (R->h && screened_pick(R, &pick))
		return pick;
	R->exact_passes++;
	run_pass(R, pass_best);
	float best = 0;
	size_t arg = SIZE_MAX;
	for (size_t ci = 0; ci < R->nchunks; ci++)
		if (R->ibest[ci] != SIZE_MAX && R->cbest[ci] > best) {
			best = R->cbest[ci];
			arg = R->ibest[ci];
		}
	return arg;
}

/* "a ranks before b": larger correlation, then lower row index. */
static int ranks_before(const float *c, size_t a, size_t b)
{
	float ca = c[a], cb = c[b];
	return ca > cb || (ca == cb && a < b);
}

static void sift_down(const float *c, size_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && ranks_before(c, h[m], h[l]))
			m = l;
		if (l + 1 < n && ranks_before(c, h[m], h[l + 1]))
			m = l + 1;
		if (m == i)
			return;
		size_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* The (up to) B free rows of largest positive correlation, best first, into out; returns how many.
 * A heap whose root is the worst kept row. */
static size_t batch_pick(struct run *R, size_t B, size_t *out)
{
	run_pass(R, pass_all);
	const float *c = R->c;
	size_t n = 0;
	for (size_t i = 0; i < R->A->n; i++) {
		if (!(c[i] > 0))
			continue;
		if (n < B) {
			out[n++] = i;
			for (size_t k = n - 1; k > 0;) { /* sift up */
				size_t p = (k - 1) / 2;
				if (!ranks_before(c, out[p], out[k]))
					break;
				size_t t = out[p];
				out[p] = out[k];
				out[k] = t;
				k = p;
			}
		} else if (ranks_before(c, i, out[0])) {
			out[0] = i;
			sift_down(c, out, n, 0);
		}
	}
	/* heap sort: repeatedly move the worst to the end */
	for (size_t m = n; m > 1; m--) {
		size_t t = out[0];
		out[0] = out[m - 1];
		out[m - 1] = t;
		sift_down(c, out, m - 1, 0);
	}
	return n;
}

/* Adds row i to the NNLS problem: its Gram row against the chosen rows and its product with y. */
static int add_row(struct run *R, size_t i)
{
	const float *a = R->A->v + i * R->d;
	double gjj = 0, hj = 0;
	for (uint32_t s = 0; s < R->nn.cap; s++) {
		if (!R->nn.used[s])
			continue;
		const float *b = R->A->v + R->slot_row[s] * R->d;
		double v = 0;
		for (uint32_t j = 0; j < R->d; j++)
			v += (double)a[j] * b[j];
		R->g[s] = v;
	}
	for (uint32_t j = 0; j < R->d; j++) {
		gjj += (double)a[j] * a[j];
		hj += (double)a[j] * R->y[j];
	}
	int s = nnls_add(&R->nn, R->g, gjj, hj);
	if (s < 0)
		return -1;
	R->slot_row[s] = i;
	R->slot_seq[s] = R->seq++;
	R->state[i] = ROW_CHOSEN;
	return s;
}

/* Drops the rows left at zero weight from the problem: a dependent (blocked) row, or `failed`, never
 * comes back; the others become free again. */
static void drop_zeros(struct run *R, int failed)
{
	for (uint32_t s = 0; s < R->nn.cap; s++) {
		if (!R->nn.used[s] || R->nn.passive[s])
			continue;
		R->state[R->slot_row[s]] = R->nn.blocked[s] || (int)s == failed ? ROW_EXCLUDED : ROW_FREE;
		nnls_remove(&R->nn, s);
	}
}

/* r = y - sum beta_s a_s over the passive slots (in slot order); returns ||r||. */
static double residual(struct run *R)
{
	memcpy(R->r, R->y, R->d * sizeof *R->r);
	for (uint32_t s = 0; s < R->nn.cap; s++) {
		if (!R->nn.passive[s])
			continue;
		const float *a = R->A->v + R->slot_row[s] * R->d;
		double x = R->nn.x[s];
		for (uint32_t j = 0; j < R->d; j++)
			R->r[j] -= x * a[j];
	}
	double q = 0;
	for (uint32_t j = 0; j < R->d; j++)
		q += R->r[j] * R->r[j];
	return sqrt(q);
}

static void report(struct run *R, uint32_t step)
{
	if (!R->o->report)
		return;
	struct pur_step st = {step, R->nn.np, R->rho, R->ynorm > 0 ? R->rho / R->ynorm : 0};
	R->o->report(R->o->report_ctx, &st);
}

/* The passive slots as a selection, sorted by the order in which they were added. */
static int take(struct run *R, struct pur_sel *out)
{
	uint32_t n = 0;
	out->idx = malloc((R->nn.np + 1) * sizeof *out->idx);
	out->beta = malloc((R->nn.np + 1) * sizeof *out->beta);
	uint64_t *seq = malloc((R->nn.np + 1) * sizeof *seq);
	if (!out->idx || !out->beta || !seq) {
		free(seq);
		return -1;
	}
	for (uint32_t s = 0; s < R->nn.cap; s++) {
		if (!R->nn.passive[s])
			continue;
		uint32_t k = n++;
		while (k > 0 && seq[k - 1] > R->slot_seq[s]) { /* insertion by sequence number */
			seq[k] = seq[k - 1];
			out->idx[k] = out->idx[k - 1];
			out->beta[k] = out->beta[k - 1];
			k--;
		}
		seq[k] = R->slot_seq[s];
		out->idx[k] = R->slot_row[s];
		out->beta[k] = R->nn.x[s];
	}
	free(seq);
	out->n = n;
	out->resid = R->rho;
	out->rel = R->ynorm > 0 ? R->rho / R->ynorm : 0;
	return 0;
}

static int omp(struct run *R, struct pur_sel *out)
{
	const struct pur_opts *o = R->o;
	uint32_t limit = 2 * o->k + 10, step = 0;
	for (;;) {
		if (R->nn.np >= o->k) {
			out->stop = PUR_STOP_K;
			break;
		}
		if (R->rho <= o->tol * R->ynorm) {
			out->stop = PUR_STOP_TOL;
			break;
		}
		if (step == limit) {
			out->stop = PUR_STOP_STEPS;
			break;
		}
		size_t t = omp_pick(R);
		if (t == SIZE_MAX) {
			out->stop = PUR_STOP_NOCORR;
			break;
		}
		step++;
		int slot = add_row(R, t);
		if (slot < 0)
			return -1;
		nnls_solve(&R->nn);
		drop_zeros(R, slot);
		double rho = residual(R);
		int stalled = !(rho < R->rho * (1 - STALL_EPS));
		R->rho = rho;
		report(R, step);
		if (stalled) {
			out->stop = PUR_STOP_STALL;
			break;
		}
	}
	out->steps = step;
	out->exact_passes = R->exact_passes;
	return take(R, out);
}

/* Keeps the K passive slots of largest weight (ties: the earlier added), removing the rest. */
static void prune(struct run *R, uint32_t k)
{
	while (R->nn.np > k) {
		uint32_t worst = UINT32_MAX;
		for (uint32_t i = 0; i < R->nn.np; i++) {
			uint32_t s = R->nn.pas[i];
			if (worst == UINT32_MAX || R->nn.x[s] < R->nn.x[worst] ||
			    (R->nn.x[s] == R->nn.x[worst] && R->slot_seq[s] > R->slot_seq[worst]))
				worst = s;
		}
		R->state[R->slot_row[worst]] = ROW_FREE;
		nnls_remove(&R->nn, worst);
	}
}

static int batch(struct run *R, struct pur_sel *out)
{
	const struct pur_opts *o = R->o;
	uint32_t B = o->batch, limit = 2 * ((o->k + B - 1) / B) + 10, round = 0;
	size_t *cand = malloc((size_t)B * sizeof *cand);
	struct pur_sel best = {0};
	if (!cand)
		return -1;
	if (take(R, &best) < 0)
		goto oom;
	for (;;) {
		if (R->rho <= o->tol * R->ynorm) {
			out->stop = PUR_STOP_TOL;
			break;
		}
		if (round == limit) {
			out->stop = PUR_STOP_STEPS;
			break;
		}
		size_t nc = batch_pick(R, B, cand);
		if (nc == 0) {
			out->stop = PUR_STOP_NOCORR;
			break;
		}
		round++;
		for (size_t i = 0; i < nc; i++)
			if (add_row(R, cand[i]) < 0)
				goto oom;
		nnls_solve(&R->nn);
		if (R->nn.np > o->k) {
			drop_zeros(R, -1);
			prune(R, o->k);
			nnls_solve(&R->nn);
		}
		drop_zeros(R, -1);
		double rho = residual(R);
		int stalled = !(rho < R->rho * (1 - STALL_EPS));
		R->rho = rho;
		report(R, round);
		if (stalled) {
			out->stop = PUR_STOP_STALL;
			break;
		}
		pur_sel_free(&best);
		if (take(R, &best) < 0)
			goto oom;
	}
	free(cand);
	best.stop = out->stop;
	best.steps = round;
	*out = best;
	return 0;
oom:
	free(cand);
	pur_sel_free(&best);
	return -1;
}

void pur_sel_free(struct pur_sel *s)
{
	free(s->idx);
	free(s->beta);
	memset(s, 0, sizeof *s);
}

static void run_free(struct run *R)
{
	free(R->state);
	free(R->y);
	free(R->r);
	free(R->rf);
	free(R->slot_row);
	free(R->slot_seq);
	free(R->g);
	free(R->cbest);
	free(R->ibest);
	free(R->c);
	free(R->h);
	free(R->cand);
	nnls_free(&R->nn);
}

int pur_run(const struct pur_mat *A, const float *b, const struct pur_opts *o, struct pur_sel *out,
	    struct wnw_err *e)
{
	struct run R = {0};
	uint32_t d = A->d, cap = o->k + o->batch + 1;
	memset(out, 0, sizeof *out);
	R.A = A;
	R.o = o;
	R.d = d;
	R.avx = have_avx2();
	R.nchunks = (A->n + CHUNK - 1) / CHUNK;
	R.state = calloc(A->n + 1, 1);
	R.y = malloc((d + 1) * sizeof *R.y);
	R.r = malloc((d + 1) * sizeof *R.r);
	R.rf = malloc((d + 1) * sizeof *R.rf);
	R.slot_row = malloc(cap * sizeof *R.slot_row);
	R.slot_seq = malloc(cap * sizeof *R.slot_seq);
	R.g = calloc(cap, sizeof *R.g);
	R.cbest = malloc((R.nchunks + 1) * sizeof *R.cbest);
	R.ibest = malloc((R.nchunks + 1) * sizeof *R.ibest);
	R.c = malloc((A->n + 1) * sizeof *R.c);
	if (!R.state || !R.y || !R.r || !R.rf || !R.slot_row || !R.slot_seq || !R.g || !R.cbest || !R.ibest ||
	    !R.c || nnls_init(&R.nn, cap) < 0)
		goto oom;
	/* f16 screening for OMP: half the memory traffic per step; without memory for it, every step
	 * runs the exact pass, with the same result. */
	if (!o->batch && !o->exact && R.avx && (R.h = malloc(A->n * d * sizeof *R.h + 1)) != NULL &&
	    (R.cand = malloc(MAX_CAND * sizeof *R.cand)) != NULL) {
		R.eps_rel = screen_eps(d);
		if (o->pool)
			wnw_pool_run(o->pool, R.nchunks, fill_f16, &R);
		else
			for (size_t ci = 0; ci < R.nchunks; ci++)
				fill_f16(&R, ci, 0);
	} else {
		free(R.h);
		R.h = NULL;
	}
	double yy = 0;
	for (uint32_t j = 0; j < d; j++) {
		R.y[j] = (double)o->k * b[j];
		yy += R.y[j] * R.y[j];
	}
	R.nn.yy = yy;
	R.ynorm = R.rho = sqrt(yy);
	memcpy(R.r, R.y, d * sizeof *R.r);
	if ((o->batch ? batch(&R, out) : omp(&R, out)) < 0)
		goto oom;
	run_free(&R);
	return 0;
oom:
	run_free(&R);
	pur_sel_free(out);
	return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
}
