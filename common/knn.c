/* knn.c: dot products, exact distances, the filtered join and top-K lists (see knn.h). */
#include "knn.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Provided by OpenBLAS (declared in its cblas.h on Debian, repeated here for other builds). */
extern char *openblas_get_corename(void);
extern void openblas_set_num_threads(int);

/* Core names of OpenBLAS's generic or pre-AVX2 kernels: seeing one on a CPU with AVX2 and FMA means
 * the library misdetected it. */
static int slow_core(const char *name)
{
	static const char *const fast[] = {"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"};
	for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++)
		if (name && strcasecmp(name, fast[i]) == 0)
			return 0;
	return 1;
}

void wnw_blas_setup(char **argv)
{
	openblas_set_num_threads(1);
	if (getenv("OPENBLAS_CORETYPE") || !argv)
		return;
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ||
	    !slow_core(openblas_get_corename()))
		return;
	const char *core = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
					   __builtin_cpu_supports("avx512vl")
				   ? "SkylakeX"
				   : "Haswell";
	if (setenv("OPENBLAS_CORETYPE", core, 1) != 0)
		return;
	execv("/proc/self/exe", argv);
	/* Could not re-execute: carry on with the kernels we have. */
	unsetenv("OPENBLAS_CORETYPE");
}

void wnw_vecs_init(struct wnw_vecs *s, size_t d)
{
	memset(s, 0, sizeof *s);
	s->d = d;
}

int wnw_vecs_reserve(struct wnw_vecs *s, size_t rows)
{
	if (rows <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 64;
	while (cap < rows)
		cap *= 2;
	size_t vbytes = (cap * s->d * sizeof(float) + 31) & ~(size_t)31;
	float *v = aligned_alloc(32, vbytes ? vbytes : 32);
	float *n2 = realloc(s->n2, cap * sizeof *n2);
	if (n2)
		s->n2 = n2;
	uint64_t *id = realloc(s->id, cap * sizeof *id);
	if (id)
		s->id = id;
	if (!v || !n2 || !id) {
		free(v);
		return -1;
	}
	if (s->rows)
		memcpy(v, s->v, s->rows * s->d * sizeof(float));
	free(s->v);
	s->v = v;
	s->cap = cap;
	return 0;
}

/* --- kernels: a portable form of each, and an AVX2 form chosen at run time ------------------------ */

/* 1 when some component of a is NaN or infinite (all exponent bits set). */
static int nonfinite_plain(const float *a, size_t d)
{
	uint32_t bad = 0;
	for (size_t i = 0; i < d; i++) {
		uint32_t u;
		memcpy(&u, a + i, 4);
		bad |= (u & 0x7f800000u) == 0x7f800000u;
	}
	return bad != 0;
}

/* Lane l of acc sums the elements i = l mod 8; the lanes are added in a fixed tree. */
static float norm2_plain(const float *a, size_t d)
{
	float acc[8] = {0};
	size_t i = 0;
	for (; i + 8 <= d; i += 8)
		for (int l = 0; l < 8; l++)
			acc[l] += a[i + l] * a[i + l];
	for (; i < d; i++)
		acc[i & 7] += a[i] * a[i];
	return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static double dist2_plain(const float *a, const float *b, size_t d)
{
	double acc[8] = {0};
	size_t i = 0;
	for (; i + 8 <= d; i += 8)
		for (int l = 0; l < 8; l++) {
			double t = (double)a[i + l] - (double)b[i + l];
			acc[l] += t * t;
		}
	for (; i < d; i++) {
		double t = (double)a[i] - (double)b[i];
		acc[i & 7] += t * t;
	}
	return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* The first j in [j, n) whose screening value c |x_j|^2 - 2 g_j is not above t, or n. */
static size_t next_plain(const float *g, const float *xn, float c, float t, size_t j, size_t n)
{
	for (; j < n; j++)
		if (!(c * xn[j] - 2.0f * g[j] > t))
			return j;
	return n;
}

/* cppcheck does not see calls through kernels()->...: hence the suppressions. */
struct kernels {
	// cppcheck-suppress unusedStructMember
	int (*nonfinite)(const float *, size_t);
	// cppcheck-suppress unusedStructMember
	float (*norm2)(const float *, size_t);
	// cppcheck-suppress unusedStructMember
	double (*dist2)(const float *, const float *, size_t);
	size_t (*next)(const float *, const float *, float, float, size_t, size_t);
};

static const struct kernels plain_kernels = {nonfinite_plain, norm2_plain, dist2_plain, next_plain};

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The AVX2 forms. norm2 and dist2, whose results are kept, add in the same lanes and order as the plain
 * forms and without fused multiply-adds, so both give the same bits. */
__attribute__((target("avx2"))) static int nonfinite_avx2(const float *a, size_t d)
{
	const __m256i e = _mm256_set1_epi32(0x7f800000);
	__m256i any = _mm256_setzero_si256();
	size_t i = 0;
	for (; i + 8 <= d; i += 8) {
		__m256i u = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(const void *)(a + i)), e);
		any = _mm256_or_si256(any, _mm256_cmpeq_epi32(u, e));
	}
	return !_mm256_testz_si256(any, any) || nonfinite_plain(a + i, d - i);
}

__attribute__((target("avx2"))) static float norm2_avx2(const float *a, size_t d)
{
	__m256 s = _mm256_setzero_ps();
	size_t i = 0;
	for (; i + 8 <= d; i += 8) {
		__m256 v = _mm256_loadu_ps(a + i);
		s = _mm256_add_ps(s, _mm256_mul_ps(v, v));
	}
	float acc[8];
	_mm256_storeu_ps(acc, s);
	for (; i < d; i++)
		acc[i & 7] += a[i] * a[i];
	return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

__attribute__((target("avx2"))) static double dist2_avx2(const float *a, const float *b, size_t d)
{
	__m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
	size_t i = 0;
	for (; i + 8 <= d; i += 8) {
		__m256 fa = _mm256_loadu_ps(a + i), fb = _mm256_loadu_ps(b + i);
		__m256d t0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(fa)),
					   _mm256_cvtps_pd(_mm256_castps256_ps128(fb)));
		__m256d t1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(fa, 1)),
					   _mm256_cvtps_pd(_mm256_extractf128_ps(fb, 1)));
		lo = _mm256_add_pd(lo, _mm256_mul_pd(t0, t0));
		hi = _mm256_add_pd(hi, _mm256_mul_pd(t1, t1));
	}
	double acc[8];
	_mm256_storeu_pd(acc, lo);
	_mm256_storeu_pd(acc + 4, hi);
	for (; i < d; i++) {
		double t = (double)a[i] - (double)b[i];
		acc[i & 7] += t * t;
	}
	return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

__attribute__((target("avx2"))) static size_t next_avx2(const float *g, const float *xn, float c, float t,
							 size_t j, size_t n)
{
	const __m256 vc = _mm256_set1_ps(c), vt = _mm256_set1_ps(t), two = _mm256_set1_ps(2.0f);
	for (; j + 8 <= n; j += 8) {
		__m256 v = _mm256_sub_ps(_mm256_mul_ps(vc, _mm256_loadu_ps(xn + j)),
					 _mm256_mul_ps(two, _mm256_loadu_ps(g + j)));
		int mask = _mm256_movemask_ps(_mm256_cmp_ps(v, vt, _CMP_NGT_UQ));
		if (mask)
			return j + (size_t)__builtin_ctz((unsigned)mask);
	}
	return next_plain(g, xn, c, t, j, n);
}

static const struct kernels avx2_kernels = {nonfinite_avx2, norm2_avx2, dist2_avx2, next_avx2};

static const struct kernels *kernels(void)
{
	static _Atomic(const struct kernels *) chosen;
	const struct kernels *k = atomic_load_explicit(&chosen, memory_order_relaxed);
	if (!k) {
		__builtin_cpu_init();
		k = __builtin_cpu_supports("avx2") ? &avx2_kernels : &plain_kernels;
		atomic_store_explicit(&chosen, k, memory_order_relaxed);
	}
	return k;
}
#else
static const struct kernels *kernels(void) { return &plain_kernels; }
#endif

float wnw_knn_norm2(const float *a, size_t d) { return kernels()->norm2(a, d); }

double wnw_knn_dist2(const float *a, const float *b, size_t d) { return kernels()->dist2(a, b, d); }

/* --- vector sets ---------------------------------------------------------------------------------- */

long wnw_vecs_add_raw(struct wnw_vecs *s, const uint8_t *raw, uint64_t id)
{
	if (wnw_vecs_reserve(s, s->rows + 1) != 0)
		return -2;
	float *row = s->v + s->rows * s->d;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(row, raw, s->d * 4);
#else
	for (size_t i = 0; i < s->d; i++) {
		uint32_t u = wnw_le32(raw + 4 * i);
		memcpy(row + i, &u, 4);
	}
#endif
	if (kernels()->nonfinite(row, s->d)) {
		for (size_t i = 0; i < s->d; i++)
			if (!isfinite(row[i]))
				return (long)i;
	}
	s->n2[s->rows] = wnw_knn_norm2(row, s->d);
	if (!isfinite(s->n2[s->rows]))
		return (long)s->d;
	s->id[s->rows] = id;
	s->rows++;
	return -1;
}

void wnw_vecs_clear(struct wnw_vecs *s) { s->rows = 0; }

void wnw_vecs_free(struct wnw_vecs *s)
{
	free(s->v);
	free(s->n2);
	free(s->id);
	memset(s, 0, sizeof *s);
}

/* --- the join ------------------------------------------------------------------------------------- */
void wnw_knn_dots(const float *a, size_t m, const float *b, size_t n, size_t d, float *g, size_t ldg)
{
	if (m == 0 || n == 0)
		return;
	if (d == 0) {
		for (size_t i = 0; i < m; i++)
			memset(g + i * ldg, 0, n * sizeof *g);
		return;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)d, 1.0f, a, (int)d, b,
		    (int)d, 0.0f, g, (int)ldg);
}

/* The rounding bound of the expansion, relative to |q|^2 + |x|^2: the dot product of d terms errs by at
 * most d u |q||x| <= d u (|q|^2 + |x|^2) / 2 in any summation order (u = 2^-24), each norm by d u of
 * itself, and the float arithmetic of the test below by a few u; doubled for safety. */
static double join_slack(size_t d) { return 4.0 * ((double)d + 16.0) * 0x1p-24; }

void wnw_knn_join(const struct wnw_vecs *q, size_t q0, size_t q1, const struct wnw_vecs *x, size_t x0,
		  size_t x1, double *limit, float *g, wnw_knn_visit fn, void *ctx)
{
	size_t nx = x1 - x0, d = q->d;
	if (q1 <= q0 || nx == 0)
		return;
	wnw_knn_dots(q->v + q0 * d, q1 - q0, x->v + x0 * d, nx, d, g, nx);
	const float c = (float)(1.0 - join_slack(d));
	size_t (*next)(const float *, const float *, float, float, size_t, size_t) = kernels()->next;
	for (size_t i = q0; i < q1; i++) {
		const float *gi = g + (i - q0) * nx;
		const float qa = c * q->n2[i];
		const float *xn = x->n2 + x0;
		/* A pair may matter when its lower bound, (1 - slack)(|q|^2 + |x|^2) - 2 q.x, is <= limit. */
		float t = (float)(limit[i - q0] * (1.0 + 0x1p-20)) - qa;
		if (isinf(limit[i - q0]))
			t = INFINITY;
		for (size_t j = 0; (j = next(gi, xn, c, t, j, nx)) < nx; j++) {
			double d2 = wnw_knn_dist2(q->v + i * d, x->v + (x0 + j) * d, d);
			if (d2 <= limit[i - q0]) {
				limit[i - q0] = fn(ctx, i, x0 + j, d2);
				t = isinf(limit[i - q0]) ? INFINITY : (float)(limit[i - q0] * (1.0 + 0x1p-20)) - qa;
			}
		}
	}
}

int wnw_topk_init(struct wnw_topk *t, uint32_t k)
{
	memset(t, 0, sizeof *t);
	t->k = k;
	t->cap = k > UINT32_MAX / 2 ? UINT32_MAX : k + (k / 4 > 16 ? k / 4 : 16);
	t->h = malloc(((size_t)t->cap + 1) * sizeof *t->h);
	return t->h ? 0 : -1;
}

void wnw_topk_free(struct wnw_topk *t)
{
	free(t->h);
	memset(t, 0, sizeof *t);
}

void wnw_topk_reset(struct wnw_topk *t)
{
	t->n = t->ndrop = 0;
	t->trimmed = 0;
}

static void hit_swap(struct wnw_hit *a, struct wnw_hit *b)
{
	struct wnw_hit t = *a;
	*a = *b;
	*b = t;
}

/* Reorders h[0, n) so that h[k - 1] is the k-th smallest, with the smaller ones before it and the larger
 * after it (quickselect, median-of-three pivots; the rank is total, so the result is unique as a set). */
static void select_k(struct wnw_hit *h, uint32_t n, uint32_t k)
{
	uint32_t lo = 0, hi = n - 1, want = k - 1;
	while (hi > lo) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (wnw_hit_less(&h[mid], &h[lo]))
			hit_swap(&h[mid], &h[lo]);
		if (wnw_hit_less(&h[hi], &h[lo]))
			hit_swap(&h[hi], &h[lo]);
		if (wnw_hit_less(&h[hi], &h[mid]))
			hit_swap(&h[hi], &h[mid]);
		struct wnw_hit pivot = h[mid];
		uint32_t i = lo, j = hi;
		while (i <= j) {
			while (wnw_hit_less(&h[i], &pivot))
				i++;
			while (wnw_hit_less(&pivot, &h[j]))
				j--;
			if (i <= j) {
				hit_swap(&h[i], &h[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (want <= j)
			hi = j;
		else if (want >= i)
			lo = i;
		else
			return;
	}
}

static void trim(struct wnw_topk *t)
{
	t->ndrop = 0;
	if (t->n <= t->k)
		return;
	select_k(t->h, t->n, t->k);
	t->ndrop = t->n - t->k;
	t->n = t->k;
	t->kth = t->h[t->k - 1];
	t->trimmed = 1;
}

int wnw_topk_offer(struct wnw_topk *t, const struct wnw_hit *c)
{
	if (t->k == 0 || (t->trimmed && !wnw_hit_less(c, &t->kth)))
		return 0;
	t->ndrop = 0;
	t->h[t->n++] = *c;
	if (t->n < t->cap)
		return 1;
	trim(t);
	return 2;
}

double wnw_topk_limit(const struct wnw_topk *t)
{
	if (t->k == 0)
		return -1.0;
	if (!t->trimmed)
		return INFINITY;
	/* An exact d2 whose rounded root equals the K-th distance w is below (w (1 + 2^-23))^2. */
	double w = (double)t->kth.dist * (1.0 + 0x1p-22);
	return w * w;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct wnw_hit *x = a, *y = b;
	return wnw_hit_less(x, y) ? -1 : wnw_hit_less(y, x) ? 1 : 0;
}

void wnw_topk_sort(struct wnw_topk *t)
{
	trim(t);
	qsort(t->h, t->n, sizeof *t->h, hit_cmp);
}
