/* knn.c: dot products, exact distances, the filtered join and top-K lists (see knn.h). */
#include "knn.h"
#include "isa.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
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
	if (!argv)
		return;
	/* OpenBLAS starts its own threads when it loads, and openblas_set_num_threads wakes them to spin
	 * (sched_yield) for a while: a tenth of a second of a core taken from the callers' threads, unless
	 * OPENBLAS_NUM_THREADS=1 was in the environment at load time. */
	int set_threads = !getenv("OPENBLAS_NUM_THREADS"), set_core = 0;
	const char *core = NULL;
	if (!getenv("OPENBLAS_CORETYPE")) {
		set_core = wnw_isa_cpu() >= WNW_ISA_AVX2 && slow_core(openblas_get_corename());
		core = wnw_isa_cpu() >= WNW_ISA_AVX512 ? "SkylakeX" : "Haswell";
	}
	if ((set_threads && setenv("OPENBLAS_NUM_THREADS", "1", 1) != 0) ||
	    (set_core && setenv("OPENBLAS_CORETYPE", core, 1) != 0))
		set_threads = set_core = 0; /* no room in the environment: carry on as we are */
	if (set_threads || set_core) {
		/* By its own path rather than /proc/self/exe, so that ps and top still show its name. */
		char path[4096];
		ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
		if (n > 0) {
			path[n] = 0;
			execv(path, argv);
		}
		execv("/proc/self/exe", argv);
	}
	/* Not re-executed: carry on with the kernels and threads we have. */
	if (set_threads)
		unsetenv("OPENBLAS_NUM_THREADS");
	if (set_core)
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

/* The fixed tree in which the eight lanes of a squared norm are added. */
static float lanes_sum(const float *acc)
{
	return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
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
	return lanes_sum(acc);
}

/* Copies components [i, d) of a record's vector (little-endian floats at raw) into row. */
static void copy_le(float *row, const uint8_t *raw, size_t i, size_t d)
{
	for (; i < d; i++) {
		uint32_t u = wnw_le32(raw + 4 * i);
		memcpy(row + i, &u, 4);
	}
}

/* Copies the vector at raw into row and returns its squared norm as norm2 computes it, or NaN when
 * some component is not finite (a sum of squares of finite floats is never NaN). */
static float load_plain(float *row, const uint8_t *raw, size_t d)
{
	copy_le(row, raw, 0, d);
	return nonfinite_plain(row, d) ? NAN : norm2_plain(row, d);
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

/* Rows per packed panel (wnw_vecs_pack): the 16 lanes of two AVX2 registers or one AVX-512 register. */
#define PANEL 16

/* One call of wnw_knn_join: its arguments, and c = 1 - join_slack(d). */
struct join {
	const struct wnw_vecs *q, *x;
	size_t q0, q1, x0, x1;
	double *limit;
	wnw_knn_visit fn;   /* exact visits (wnw_knn_join) */
	wnw_knn_bvisit bfn; /* or visits with bounds (wnw_knn_join_bounds) */
	void *ctx;
	float c;
	float *hi;          /* or every pair's upper bound, at hi[(qi - q0) ldh + xj - x0] (wnw_knn_join_hi) */
	size_t ldh;
};

/* cppcheck does not see calls through kernels()->...: hence the suppressions. */
struct kernels {
	// cppcheck-suppress unusedStructMember
	float (*load)(float *, const uint8_t *, size_t);
	// cppcheck-suppress unusedStructMember
	float (*norm2)(const float *, size_t);
	// cppcheck-suppress unusedStructMember
	double (*dist2)(const float *, const float *, size_t);
	size_t (*next)(const float *, const float *, float, float, size_t, size_t);
	/* the fused screen of a join with packed queries; NULL: the BLAS product is used */
	void (*fused)(const struct join *);
};

static const struct kernels plain_kernels = {load_plain, norm2_plain, dist2_plain, next_plain, NULL};

/* The screening threshold of a query with limit lim and qa = c |q|^2: a pair may matter when its lower
 * bound c (|q|^2 + |x|^2) - 2 q.x is <= lim, that is when c |x|^2 - 2 q.x is not above the result. The
 * factor 1 + 2^-20 covers the rounding of lim to a float and of the subtraction. */
static float screen_t(double lim, float qa)
{
	return isinf(lim) ? INFINITY : (float)(lim * (1.0 + 0x1p-20)) - qa;
}

/* The bounds [lo, hi] of the exact squared distance of the pair (query i, candidate xj) with screening
 * value v = c |x|^2 - 2 q.x. With S = |q|^2 + |x|^2 as computed and s = 1 - c, the screen's lower bound
 * lo = c |q|^2 + v is at most the exact squared distance: the expansion errs by at most about
 * 2 d 2^-24 S (join_slack), s S is twice that, and the roundings of lo add a few 2^-24 S. The exact value
 * is at most the expansion plus the same, so hi = lo + 2 s S is an upper bound. */
static inline void pair_bounds(const struct join *j, size_t i, size_t xj, float v, double *lo, double *hi)
{
	float nq = j->q->n2[i];
	*lo = (double)(j->c * nq) + (double)v;
	*hi = *lo + 2.0 * (1.0 - (double)j->c) * ((double)nq + (double)j->x->n2[xj]);
	if (!(*lo >= 0.0)) /* a negative bound, or an overflow in the product: no bound but 0 */
		*lo = 0.0;
	if (!(*hi >= *lo))
		*hi = INFINITY;
}

/* An upper bound as a float, rounded up. */
static inline float hi_up(double hi) { return (float)(hi * (1.0 + 0x1p-23)); }

/* Hands the pair (query i, candidate xj) with screening value v to the bounds visitor and returns the
 * query's new limit; in a join for upper bounds only, stores the pair's. */
static double offer_pair(const struct join *j, size_t i, size_t xj, float v)
{
	double lo, hi;
	pair_bounds(j, i, xj, v, &lo, &hi);
	if (j->hi) {
		j->hi[(i - j->q0) * j->ldh + xj - j->x0] = hi_up(hi);
		return INFINITY;
	}
	double *lim = &j->limit[i - j->q0];
	*lim = j->bfn(j->ctx, i, xj, lo, hi);
	return *lim;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "isa512.h"

/* The AVX2 forms. load, norm2 and dist2, whose results are kept, add in the same lanes and order as the
 * plain forms and without fused multiply-adds, so both give the same bits; load does the copy, the check
 * of the exponent bits and the squares in one pass. */
__attribute__((target("avx2"))) static float load_avx2(float *row, const uint8_t *raw, size_t d)
{
	const __m256i e = _mm256_set1_epi32(0x7f800000);
	__m256i any = _mm256_setzero_si256();
	__m256 s = _mm256_setzero_ps();
	size_t i = 0;
	for (; i + 8 <= d; i += 8) {
		__m256 v = _mm256_loadu_ps((const float *)(const void *)(raw + 4 * i));
		_mm256_storeu_ps(row + i, v);
		any = _mm256_or_si256(any, _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(v), e), e));
		s = _mm256_add_ps(s, _mm256_mul_ps(v, v));
	}
	copy_le(row, raw, i, d);
	if (!_mm256_testz_si256(any, any) || nonfinite_plain(row + i, d - i))
		return NAN;
	float acc[8];
	_mm256_storeu_ps(acc, s);
	for (; i < d; i++)
		acc[i & 7] += row[i] * row[i];
	return lanes_sum(acc);
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
	return lanes_sum(acc);
}

/* The scalar tail of the AVX2 dist2 from component i on, and the fixed tree over the eight lanes. */
static double dist2_finish(double *acc, const float *a, const float *b, size_t i, size_t d)
{
	for (; i < d; i++) {
		double t = (double)a[i] - (double)b[i];
		acc[i & 7] += t * t;
	}
	return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* One step of dist2 over components [i, i + 8): the squared differences added into the lanes lo, hi. */
#define DIST2_STEP(a, b, i, lo, hi)                                                                    \
	{                                                                                               \
		__m256 fa_ = _mm256_loadu_ps((a) + (i)), fb_ = _mm256_loadu_ps((b) + (i));              \
		__m256d t0_ = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(fa_)),               \
					    _mm256_cvtps_pd(_mm256_castps256_ps128(fb_)));              \
		__m256d t1_ = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(fa_, 1)),             \
					    _mm256_cvtps_pd(_mm256_extractf128_ps(fb_, 1)));            \
		lo = _mm256_add_pd(lo, _mm256_mul_pd(t0_, t0_));                                        \
		hi = _mm256_add_pd(hi, _mm256_mul_pd(t1_, t1_));                                        \
	}

__attribute__((target("avx2"))) static double dist2_avx2(const float *a, const float *b, size_t d)
{
	__m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
	size_t i = 0;
	for (; i + 8 <= d; i += 8)
		DIST2_STEP(a, b, i, lo, hi)
	double acc[8];
	_mm256_storeu_pd(acc, lo);
	_mm256_storeu_pd(acc + 4, hi);
	return dist2_finish(acc, a, b, i, d);
}

/* dist2_avx2 of four pairs (a[p], b[p]) at once, each with the same lanes, order and bits as alone: the
 * four chains of dependent adds overlap instead of waiting on each other. Never inlined into the FMA
 * code that calls it, where a compiler allowed to contract could fuse a multiply and an add and change
 * the bits. */
__attribute__((target("avx2"), noinline)) static void dist2_avx2_x4(const float *const *a, const float *const *b, size_t d,
							  double *out)
{
	const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *b0 = b[0], *b1 = b[1], *b2 = b[2], *b3 = b[3];
	__m256d l0 = _mm256_setzero_pd(), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0, h3 = l0;
	size_t i = 0;
	for (; i + 8 <= d; i += 8) {
		DIST2_STEP(a0, b0, i, l0, h0)
		DIST2_STEP(a1, b1, i, l1, h1)
		DIST2_STEP(a2, b2, i, l2, h2)
		DIST2_STEP(a3, b3, i, l3, h3)
	}
	double acc[4][8];
	_mm256_storeu_pd(acc[0], l0);
	_mm256_storeu_pd(acc[0] + 4, h0);
	_mm256_storeu_pd(acc[1], l1);
	_mm256_storeu_pd(acc[1] + 4, h1);
	_mm256_storeu_pd(acc[2], l2);
	_mm256_storeu_pd(acc[2] + 4, h2);
	_mm256_storeu_pd(acc[3], l3);
	_mm256_storeu_pd(acc[3] + 4, h3);
	for (int p = 0; p < 4; p++)
		out[p] = dist2_finish(acc[p], a[p], b[p], i, d);
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

/* The fused screen: queries in packed panels of 16 (wnw_vecs_pack) against groups of GROUP candidates
 * read in place, as in a Goto-style matrix product with a 16 x 6 register tile (12 accumulators, two
 * panel loads and six broadcasts per step of k). A chunk of panels (CHUNK_BYTES, to stay in L2) meets
 * every group of the block in turn; a group's rows (6 d floats) stay in L1 while the chunk's panels pass.
 * The only stores are the tile's 96 screening values, to a buffer in L1. */
#define GROUP 6
#define CHUNK_BYTES (192u << 10)
#define CHUNK_MAX 64

/* The tile of panel a by the candidates at xr[0..5], with cxn[c] = c |x_c|^2: v[c * 16 + r] = cxn[c] -
 * 2 q_r.x_c, the dot products accumulated in float over k in order with fused multiply-adds. Bit r of
 * mk[c] is set when v[c * 16 + r] is not above t[r] (or is NaN); returns nonzero when some bit is. */
__attribute__((target("avx2,fma"))) static int tile(const float *a, const float *const *xr, size_t d,
						    const float *cxn, const float *t, float *v, uint32_t *mk)
{
	const float *b0 = xr[0], *b1 = xr[1], *b2 = xr[2], *b3 = xr[3], *b4 = xr[4], *b5 = xr[5];
	__m256 s00 = _mm256_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00;
	__m256 s30 = s00, s31 = s00, s40 = s00, s41 = s00, s50 = s00, s51 = s00;
	for (size_t k = 0; k < d; k++, a += PANEL) {
		__m256 a0 = _mm256_load_ps(a), a1 = _mm256_load_ps(a + 8), b;
#define STEP(i)                                         \
	b = _mm256_broadcast_ss(b##i + k);              \
	s##i##0 = _mm256_fmadd_ps(a0, b, s##i##0);      \
	s##i##1 = _mm256_fmadd_ps(a1, b, s##i##1);
		STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)
#undef STEP
	}
	const __m256 t0 = _mm256_loadu_ps(t), t1 = _mm256_loadu_ps(t + 8), two = _mm256_set1_ps(2.0f);
	/* 2 q.x is exact, so the fused c |x|^2 - 2 q.x rounds once, as the separate operations would. */
#define SCREEN(i)                                                                                        \
	{                                                                                                \
		__m256 xc = _mm256_set1_ps(cxn[i]);                                                      \
		__m256 v0 = _mm256_fnmadd_ps(two, s##i##0, xc), v1 = _mm256_fnmadd_ps(two, s##i##1, xc); \
		_mm256_storeu_ps(v + PANEL * (i), v0);                                                    \
		_mm256_storeu_ps(v + PANEL * (i) + 8, v1);                                                \
		mk[i] = (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v0, t0, _CMP_NGT_UQ)) |                 \
			(uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v1, t1, _CMP_NGT_UQ)) << 8;            \
	}
	SCREEN(0) SCREEN(1) SCREEN(2) SCREEN(3) SCREEN(4) SCREEN(5)
#undef SCREEN
	return (mk[0] | mk[1] | mk[2] | mk[3] | mk[4] | mk[5]) != 0;
}

/* The half tile: lanes [h, h + 8) of panel a only (h = 0 or 8), for a panel whose rows in the join all
 * lie in that half, as the last panel of a query count that is not a multiple of 16 often does. Same
 * results as tile() for those lanes; the other half of v is left alone. */
__attribute__((target("avx2,fma"))) static int tile_half(const float *a, size_t h, const float *const *xr,
							 size_t d, const float *cxn, const float *t, float *v,
							 uint32_t *mk)
{
	const float *b0 = xr[0], *b1 = xr[1], *b2 = xr[2], *b3 = xr[3], *b4 = xr[4], *b5 = xr[5];
	__m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0;
	for (size_t k = 0; k < d; k++, a += PANEL) {
		__m256 a0 = _mm256_load_ps(a + h);
#define STEP(i) s##i = _mm256_fmadd_ps(a0, _mm256_broadcast_ss(b##i + k), s##i);
		STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)
#undef STEP
	}
	const __m256 t0 = _mm256_loadu_ps(t + h), two = _mm256_set1_ps(2.0f);
#define SCREEN(i)                                                                                  \
	{                                                                                          \
		__m256 v0 = _mm256_fnmadd_ps(two, s##i, _mm256_set1_ps(cxn[i]));                    \
		_mm256_storeu_ps(v + PANEL * (i) + h, v0);                                          \
		mk[i] = (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v0, t0, _CMP_NGT_UQ)) << h;       \
	}
	SCREEN(0) SCREEN(1) SCREEN(2) SCREEN(3) SCREEN(4) SCREEN(5)
#undef SCREEN
	return (mk[0] | mk[1] | mk[2] | mk[3] | mk[4] | mk[5]) != 0;
}

/* A pair that passed the screen: query i - pc * PANEL of chunk pc, candidate x0 + j, screening value v
 * (checked again against the query's threshold when visited). */
struct pend {
	uint32_t i, j;
	float v;
};

/* Pairs held before they are visited: those of a whole chunk and block, if they fit. */
#define PENDING 2048

/* Visits the pending pairs pd[0, n) of chunk pc (rows of the chunk, t its thresholds) query by query, each
 * query's in the order found (increasing candidate), so that the query's row and list stay in cache
 * while its pairs are visited; exact distances are computed four at a time. A distance computed for a
 * pair whose query limit has just tightened is only wasted: fn sees a pair only when its distance is
 * within the limit at that moment, as when pairs are visited one by one. Returns 0, the pairs left. */
__attribute__((target("avx2"))) static size_t flush(const struct join *j, size_t pc, size_t rows, float *t,
						    const struct pend *pd, size_t n)
{
	struct pend by[PENDING];
	uint32_t at[CHUNK_MAX * PANEL + 1];
	memset(at, 0, (rows + 1) * sizeof *at);
	for (size_t k = 0; k < n; k++)
		at[pd[k].i + 1]++;
	for (size_t r = 0; r < rows; r++)
		at[r + 1] += at[r];
	for (size_t k = 0; k < n; k++) /* a stable counting sort by query */
		by[at[pd[k].i]++] = pd[k];
	size_t d = j->q->d, r0 = pc * PANEL;
	for (size_t k = 0; k < n;) {
		const float *a[4], *b[4];
		size_t sel[4], nb = 0;
		for (; k < n && nb < 4; k++)
			if (!(by[k].v > t[by[k].i])) {
				a[nb] = j->q->v + (r0 + by[k].i) * d;
				b[nb] = j->x->v + (j->x0 + by[k].j) * d;
				sel[nb++] = k;
			}
		if (nb == 0)
			break;
		for (size_t u = nb; u < 4; u++) { /* a short batch repeats its first pair */
			a[u] = a[0];
			b[u] = b[0];
		}
		double d2[4];
		dist2_avx2_x4(a, b, d, d2);
		for (size_t u = 0; u < nb; u++) {
			const struct pend *e = &by[sel[u]];
			size_t i = r0 + e->i;
			double *lim = &j->limit[i - j->q0];
			if (d2[u] <= *lim) {
				*lim = j->fn(j->ctx, i, j->x0 + e->j, d2[u]);
				t[e->i] = screen_t(*lim, j->c * j->q->n2[i]);
			}
		}
	}
	return 0;
}

/* A join for upper bounds only: stores those of every pair of the tile (panel p, candidates x0 + c for
 * c < nc, values v) whose query is in [q0, q1). Every such pair passes a screen with no limit. */
static void store_hi(const struct join *j, size_t p, size_t x0, size_t nc, const float *v)
{
	size_t r0 = p * PANEL, a = j->q0 > r0 ? j->q0 - r0 : 0, b = j->q1 - r0 < PANEL ? j->q1 - r0 : PANEL;
	for (size_t r = a; r < b; r++) {
		float *row = j->hi + (r0 + r - j->q0) * j->ldh + (x0 - j->x0);
		for (size_t c = 0; c < nc; c++) {
			double lo, hi;
			pair_bounds(j, r0 + r, x0 + c, v[c * PANEL + r], &lo, &hi);
			row[c] = hi_up(hi);
		}
	}
}

/* Appends the pairs of one tile (panel p, candidates x0 + c for c < nc, values v, screen masks mk) that
 * pass the screen, by candidate then query, flushing when full; returns the new count. A join with
 * bounds offers each pair at once instead. */
__attribute__((target("avx2"))) static size_t collect(const struct join *j, size_t pc, size_t rows, size_t p,
						      size_t x0, size_t nc, const float *v, const uint32_t *mk,
						      float *t, struct pend *pd, size_t n)
{
	if (j->hi) {
		store_hi(j, p, x0, nc, v);
		return n;
	}
	for (size_t c = 0; c < nc; c++)
		for (uint32_t bits = mk[c]; bits; bits &= bits - 1) {
			size_t r = (size_t)__builtin_ctz(bits), i = p * PANEL + r;
			if (i < j->q0 || i >= j->q1 || v[c * PANEL + r] > t[i - pc * PANEL])
				continue;
			if (!j->fn) { /* a join with bounds */
				double lim = offer_pair(j, i, x0 + c, v[c * PANEL + r]);
				t[i - pc * PANEL] = screen_t(lim, j->c * j->q->n2[i]);
				continue;
			}
			if (n == PENDING)
				n = flush(j, pc, rows, t, pd, n);
			pd[n++] = (struct pend){(uint32_t)(i - pc * PANEL), (uint32_t)(x0 + c - j->x0), v[c * PANEL + r]};
		}
	return n;
}

/* Rows a panel's few rows in the join at most take the row tile, not the half tile. */
#define FEW_ROWS 4

/* The dot products of two query rows qa, qb with the six candidates xr[0..5], eight lanes over k, each
 * lane's products fused into it in order of k, the lanes then added in a fixed tree and the last d % 8
 * products after them in order: dot[c] for qa, dot[GROUP + c] for qb. */
__attribute__((target("avx2,fma"))) static void dots_2x6(const float *qa, const float *qb, const float *const *xr,
							 size_t d, float *dot)
{
	const float *b0 = xr[0], *b1 = xr[1], *b2 = xr[2], *b3 = xr[3], *b4 = xr[4], *b5 = xr[5];
	/* named, not an array, so that they stay in registers */
	__m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0;
	__m256 t0 = s0, t1 = s0, t2 = s0, t3 = s0, t4 = s0, t5 = s0;
	size_t k = 0;
	for (; k + 8 <= d; k += 8) {
		__m256 a = _mm256_loadu_ps(qa + k), b = _mm256_loadu_ps(qb + k), x;
#define STEP(i)                                    \
	x = _mm256_loadu_ps(b##i + k);             \
	s##i = _mm256_fmadd_ps(a, x, s##i);        \
	t##i = _mm256_fmadd_ps(b, x, t##i);
		STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)
#undef STEP
	}
	float l[2 * GROUP][8];
	_mm256_storeu_ps(l[0], s0), _mm256_storeu_ps(l[1], s1), _mm256_storeu_ps(l[2], s2);
	_mm256_storeu_ps(l[3], s3), _mm256_storeu_ps(l[4], s4), _mm256_storeu_ps(l[5], s5);
	_mm256_storeu_ps(l[6], t0), _mm256_storeu_ps(l[7], t1), _mm256_storeu_ps(l[8], t2);
	_mm256_storeu_ps(l[9], t3), _mm256_storeu_ps(l[10], t4), _mm256_storeu_ps(l[11], t5);
	for (int c = 0; c < 2 * GROUP; c++) {
		const float *q = c < GROUP ? qa : qb, *x = xr[c % GROUP];
		float sum = lanes_sum(l[c]);
		for (size_t i = k; i < d; i++)
			sum = fmaf(q[i], x[i], sum);
		dot[c] = sum;
	}
}

/* The tile of rows [r0 + h0, r0 + h1) of panel p (at most FEW_ROWS of them, in one half of it), taken
 * from the queries' rows rather than the panel: in lanes over k, two rows at a time, they cost a
 * quarter of the half tile's multiply-adds per row, where the half tile spends eight lanes on them
 * whatever their number. The last panel of a query count 16 p + 1 .. 16 p + 4 (m = 100 among them)
 * goes this way. Its sums are in another order than the panel tiles', so other bits, but the same at
 * every ISA level: they all call it for such panels. Results as tile()'s for those lanes. */
__attribute__((target("avx2,fma"))) static int tile_rows(const struct wnw_vecs *q, size_t r0, size_t h0, size_t h1,
							 const float *const *xr, const float *cxn, const float *t,
							 float *v, uint32_t *mk)
{
	size_t d = q->d;
	for (int c = 0; c < GROUP; c++)
		mk[c] = 0;
	for (size_t r = h0; r < h1; r += 2) {
		size_t r2 = r + 1 < h1 ? r + 1 : r; /* an odd last row is paired with itself */
		float dot[2 * GROUP];
		dots_2x6(q->v + (r0 + r) * d, q->v + (r0 + r2) * d, xr, d, dot);
		for (size_t u = r; u <= r2; u++)
			for (int c = 0; c < GROUP; c++) {
				/* as tile()'s fused c |x|^2 - 2 q.x */
				float val = fmaf(-2.0f, dot[(u - r) * GROUP + c], cxn[c]);
				v[PANEL * c + u] = val;
				mk[c] |= (uint32_t)!(val > t[u]) << u;
			}
	}
	return (mk[0] | mk[1] | mk[2] | mk[3] | mk[4] | mk[5]) != 0;
}

/* One panel against one group: the whole tile, or the half that holds all the panel's rows in
 * [q0, q1), or the row tile when there are few of them. */
__attribute__((target("avx2,fma"))) static int panel_screen(const struct join *j, size_t p,
							    const float *const *xr, const float *cxn,
							    const float *t, float *v, uint32_t *mk)
{
	size_t d = j->q->d, r0 = p * PANEL;
	size_t h0 = j->q0 > r0 ? j->q0 - r0 : 0, h1 = j->q1 - r0 < PANEL ? j->q1 - r0 : PANEL;
	const float *a = j->q->pk + p * d * PANEL;
	if (h1 - h0 <= FEW_ROWS && (h1 <= PANEL / 2 || h0 >= PANEL / 2))
		return tile_rows(j->q, r0, h0, h1, xr, cxn, t, v, mk);
	if (h1 <= PANEL / 2)
		return tile_half(a, 0, xr, d, cxn, t, v, mk);
	if (h0 >= PANEL / 2)
		return tile_half(a, PANEL / 2, xr, d, cxn, t, v, mk);
	return tile(a, xr, d, cxn, t, v, mk);
}

/* The next group's rows, fetched to L1 a slice per panel while this group's tiles run: with few panels,
 * the first tile of a group would otherwise wait on them, and fetching all 6 KB (d = 256) at once
 * stalled on the misses in flight (3.9% of knn-build m 100 in perf, on the instruction after). */
struct ahead {
	const char *p;
	size_t left, slice;
};

static void fetch_ahead(struct ahead *a)
{
	size_t n = a->slice < a->left ? a->slice : a->left;
	for (size_t o = 0; o < n; o += 64)
		_mm_prefetch(a->p + o, _MM_HINT_T0);
	a->p += n;
	a->left -= n;
}

/* Screens panels [pc, pe) of a chunk (thresholds t, rows from pc * PANEL) against one group (rows xr, cxn
 * as in tile(), nc < GROUP of them real when the group is short) and collects the pairs that pass;
 * returns the count pending; fetches the next group's rows (ah) as it goes. One form per ISA level; the
 * chunk and group loops are join_fused's. */
typedef size_t (*screen_group_fn)(const struct join *j, size_t pc, size_t pe, size_t x0, size_t nc,
				  const float *const *xr, const float *cxn, float *t, struct pend *pd, size_t np,
				  struct ahead *ah);

__attribute__((target("avx2,fma"))) static size_t group_avx2(const struct join *j, size_t pc, size_t pe, size_t x0,
							  size_t nc, const float *const *xr, const float *cxn, float *t,
							  struct pend *pd, size_t np, struct ahead *ah)
{
	float v[GROUP * PANEL];
	uint32_t mk[GROUP];
	for (size_t p = pc; p < pe; p++) {
		fetch_ahead(ah);
		if (panel_screen(j, p, xr, cxn, t + (p - pc) * PANEL, v, mk))
			np = collect(j, pc, (pe - pc) * PANEL, p, x0, nc, v, mk, t, pd, np);
	}
	return np;
}

static void join_fused(const struct join *j, screen_group_fn screen_group)
{
	const struct wnw_vecs *q = j->q, *x = j->x;
	size_t d = q->d, p0 = j->q0 / PANEL, p1 = (j->q1 + PANEL - 1) / PANEL;
	size_t chunk = CHUNK_BYTES / (PANEL * sizeof(float) * (d ? d : 1));
	chunk = chunk < 1 ? 1 : chunk > CHUNK_MAX ? CHUNK_MAX : chunk;
	float t[CHUNK_MAX * PANEL], cxn[GROUP];
	const float *xr[GROUP];
	struct pend pd[PENDING];
	size_t np = 0;
	for (size_t pc = p0; pc < p1; pc += chunk) {
		size_t pe = pc + chunk < p1 ? pc + chunk : p1, rows = (pe - pc) * PANEL;
		/* Rows of the chunk outside [q0, q1) never pass: collect skips them too. */
		for (size_t i = pc * PANEL; i < pe * PANEL; i++)
			t[i - pc * PANEL] = i < j->q0 || i >= j->q1 ? -INFINITY
					    : j->hi	    ? INFINITY
							    : screen_t(j->limit[i - j->q0], j->c * q->n2[i]);
		for (size_t x0 = j->x0; x0 < j->x1; x0 += GROUP) {
			size_t nc = j->x1 - x0 < GROUP ? j->x1 - x0 : GROUP;
			for (size_t c = 0; c < GROUP; c++) {
				size_t r = x0 + c < j->x1 ? x0 + c : x0; /* a short group repeats its first row */
				xr[c] = x->v + r * d;
				cxn[c] = j->c * x->n2[r];
			}
			struct ahead ah = {(const char *)(x->v + (x0 + GROUP) * d), 0, 0};
			if (x0 + GROUP < j->x1) {
				ah.left = (j->x1 - x0 - GROUP < GROUP ? j->x1 - x0 - GROUP : GROUP) * d * sizeof(float);
				ah.slice = (ah.left / (pe - pc) + 127) & ~(size_t)63;
			}
			np = screen_group(j, pc, pe, x0, nc, xr, cxn, t, pd, np, &ah);
		}
		if (np)
			np = flush(j, pc, rows, t, pd, np);
	}
}

static void join_avx2(const struct join *j) { join_fused(j, group_avx2); }

static const struct kernels avx2_kernels = {load_avx2, norm2_avx2, dist2_avx2, next_avx2, join_avx2};

/* tile() of two panels at once, a and the next, a + d PANEL: one 16-lane register a panel, a 32 x 6
 * register tile (12 accumulators, two panel loads and six broadcasts per step of k). Each lane adds the
 * same products in the same order with the same fused operations as tile(), so v holds the same bits;
 * v, t and mk hold the first panel's then the second's. Bit 0 of the result is set when some bit of the
 * first panel's masks is, bit 1 for the second. */
WNW_TARGET_AVX512 static int tile2_avx512(const float *a, const float *const *xr, size_t d, const float *cxn,
				   const float *t, float *v, uint32_t *mk)
{
	const float *b0 = xr[0], *b1 = xr[1], *b2 = xr[2], *b3 = xr[3], *b4 = xr[4], *b5 = xr[5];
	const float *a2 = a + d * PANEL;
	__m512 s00 = _mm512_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00;
	__m512 s30 = s00, s31 = s00, s40 = s00, s41 = s00, s50 = s00, s51 = s00;
	for (size_t k = 0; k < d; k++) {
		__m512 a0 = _mm512_loadu_ps(a + k * PANEL), a1 = _mm512_loadu_ps(a2 + k * PANEL), b;
#define STEP(i)                                         \
	b = _mm512_set1_ps(b##i[k]);                    \
	s##i##0 = _mm512_fmadd_ps(a0, b, s##i##0);      \
	s##i##1 = _mm512_fmadd_ps(a1, b, s##i##1);
		STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)
#undef STEP
	}
	const __m512 t0 = _mm512_loadu_ps(t), t1 = _mm512_loadu_ps(t + PANEL), two = _mm512_set1_ps(2.0f);
	uint32_t any0 = 0, any1 = 0;
#define SCREEN(i)                                                                                          \
	{                                                                                                  \
		__m512 xc = _mm512_set1_ps(cxn[i]);                                                        \
		__m512 v0 = _mm512_fnmadd_ps(two, s##i##0, xc), v1 = _mm512_fnmadd_ps(two, s##i##1, xc);   \
		_mm512_storeu_ps(v + PANEL * (i), v0);                                                      \
		_mm512_storeu_ps(v + PANEL * (GROUP + (i)), v1);                                            \
		any0 |= mk[i] = _mm512_cmp_ps_mask(v0, t0, _CMP_NGT_UQ);                                    \
		any1 |= mk[GROUP + (i)] = _mm512_cmp_ps_mask(v1, t1, _CMP_NGT_UQ);                          \
	}
	SCREEN(0) SCREEN(1) SCREEN(2) SCREEN(3) SCREEN(4) SCREEN(5)
#undef SCREEN
	return (any0 != 0) | (any1 != 0) << 1;
}

/* Whether panel p goes through the whole tile in panel_screen (rows in both of its halves). */
static int whole_panel(const struct join *j, size_t p)
{
	return j->q1 > p * PANEL + PANEL / 2 && j->q0 < p * PANEL + PANEL / 2;
}

/* group_avx2 with two whole panels a tile. The second panel's masks are taken before the first panel's
 * pairs are collected, so with thresholds that collecting may have lowered since: a superset of the bits
 * group_avx2 would find, and collect checks each pair against the threshold of the moment, so the same
 * pairs are collected in the same order. */
WNW_TARGET_AVX512 static size_t group_avx512(const struct join *j, size_t pc, size_t pe, size_t x0, size_t nc,
				      const float *const *xr, const float *cxn, float *t, struct pend *pd, size_t np,
				      struct ahead *ah)
{
	float v[2 * GROUP * PANEL];
	uint32_t mk[2 * GROUP];
	size_t d = j->q->d, rows = (pe - pc) * PANEL;
	for (size_t p = pc; p < pe;) {
		fetch_ahead(ah);
		if (p + 1 < pe && whole_panel(j, p) && whole_panel(j, p + 1)) {
			fetch_ahead(ah);
			int any = tile2_avx512(j->q->pk + p * d * PANEL, xr, d, cxn, t + (p - pc) * PANEL, v, mk);
			if (any & 1)
				np = collect(j, pc, rows, p, x0, nc, v, mk, t, pd, np);
			if (any & 2)
				np = collect(j, pc, rows, p + 1, x0, nc, v + GROUP * PANEL, mk + GROUP, t, pd, np);
			p += 2;
			continue;
		}
		if (panel_screen(j, p, xr, cxn, t + (p - pc) * PANEL, v, mk))
			np = collect(j, pc, rows, p, x0, nc, v, mk, t, pd, np);
		p++;
	}
	return np;
}

static void join_avx512(const struct join *j) { join_fused(j, group_avx512); }

/* The other kernels keep their AVX2 forms at this level: their results are kept, so they must add in the
 * plain forms' eight lanes, and they wait on memory, not on arithmetic. */
static const struct kernels avx512_kernels = {load_avx2, norm2_avx2, dist2_avx2, next_avx2, join_avx512};

/* By wnw_isa(): the AVX2 level includes FMA, the AVX-512 level F, BW and VL. */
static const struct kernels *const by_level[WNW_ISA_LEVELS] = {&plain_kernels, &avx2_kernels, &avx512_kernels};

static const struct kernels *kernels(void) { return by_level[wnw_isa()]; }
#else
static const struct kernels *kernels(void) { return &plain_kernels; }
#endif

float wnw_knn_norm2(const float *a, size_t d) { return kernels()->norm2(a, d); }

double wnw_knn_dist2(const float *a, const float *b, size_t d) { return kernels()->dist2(a, b, d); }

void wnw_knn_dist2_many(const float *a, const float *const *b, size_t n, size_t d, double *out)
{
	size_t i = 0;
	if (kernels()->fused) /* the AVX2 level and above: four distances interleaved, the same bits each */
		for (; i + 4 <= n; i += 4)
			dist2_avx2_x4((const float *const[4]){a, a, a, a}, b + i, d, out + i);
	for (; i < n; i++)
		out[i] = wnw_knn_dist2(a, b[i], d);
}

/* --- vector sets ---------------------------------------------------------------------------------- */

long wnw_vecs_add_raw(struct wnw_vecs *s, const uint8_t *raw, uint64_t id)
{
	if (wnw_vecs_reserve(s, s->rows + 1) != 0)
		return -2;
	float *row = s->v + s->rows * s->d;
	float n2 = kernels()->load(row, raw, s->d);
	if (isnan(n2))
		for (size_t i = 0; i < s->d; i++)
			if (!isfinite(row[i]))
				return (long)i;
	if (!isfinite(n2))
		return (long)s->d;
	s->n2[s->rows] = n2;
	s->id[s->rows] = id;
	s->rows++;
	s->pkrows = 0;
	return -1;
}

void wnw_vecs_clear(struct wnw_vecs *s) { s->rows = s->pkrows = 0; }

void wnw_vecs_free(struct wnw_vecs *s)
{
	free(s->v);
	free(s->n2);
	free(s->id);
	free(s->pk);
	memset(s, 0, sizeof *s);
}

int wnw_vecs_pack(struct wnw_vecs *s)
{
	size_t np = (s->rows + PANEL - 1) / PANEL, d = s->d;
	size_t bytes = np * d * PANEL * sizeof(float);
	float *pk = aligned_alloc(32, bytes ? bytes : 32);
	if (!pk)
		return -1;
	memset(pk, 0, bytes);
	for (size_t i = 0; i < s->rows; i++)
		for (size_t k = 0; k < d; k++)
			pk[((i / PANEL) * d + k) * PANEL + i % PANEL] = s->v[i * d + k];
	free(s->pk);
	s->pk = pk;
	s->pkrows = s->rows;
	return 0;
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

/* The rounding bound of the expansion, relative to |q|^2 + |x|^2. A dot product of d terms summed in
 * float errs by at most gamma_d sum |q_k x_k| <= gamma_d |q||x| (gamma_d = d u / (1 - d u), u = 2^-24)
 * in any order of summation, blocked or not, and whether or not the products are fused into the adds:
 * an FMA rounds once where a multiply and an add round twice, so the step-by-step argument holds as is.
 * That is at most about d u (|q|^2 + |x|^2) / 2; each norm errs by d u of itself, and the float
 * arithmetic of the screen by a few u; doubled for safety. So BLAS and the fused kernel screen with
 * different bits but never set aside a pair that can rank. */
static double join_slack(size_t d) { return 4.0 * ((double)d + 16.0) * 0x1p-24; }

/* The screen from one BLAS product into g, then a scan of each query's row of g. */
static void join_blas(const struct join *j, float *g)
{
	const struct wnw_vecs *q = j->q, *x = j->x;
	size_t nx = j->x1 - j->x0, d = q->d;
	wnw_knn_dots(q->v + j->q0 * d, j->q1 - j->q0, x->v + j->x0 * d, nx, d, g, nx);
	size_t (*next)(const float *, const float *, float, float, size_t, size_t) = kernels()->next;
	for (size_t i = j->q0; i < j->q1 && j->hi; i++) /* a join for upper bounds only */
		for (size_t k = 0; k < nx; k++) {
			float cx = j->c * x->n2[j->x0 + k], v = cx - 2.0f * g[(i - j->q0) * nx + k]; /* as next() */
			double lo, hi;
			pair_bounds(j, i, j->x0 + k, v, &lo, &hi);
			j->hi[(i - j->q0) * j->ldh + k] = hi_up(hi);
		}
	for (size_t i = j->q0; i < j->q1 && !j->hi; i++) {
		const float *gi = g + (i - j->q0) * nx;
		const float qa = j->c * q->n2[i];
		const float *xn = x->n2 + j->x0;
		double *lim = &j->limit[i - j->q0];
		float t = screen_t(*lim, qa);
		for (size_t k = 0; (k = next(gi, xn, j->c, t, k, nx)) < nx; k++) {
			if (!j->fn) { /* a join with bounds */
				/* the same two roundings as next() */
				float cx = j->c * xn[k], v = cx - 2.0f * gi[k];
				t = screen_t(offer_pair(j, i, j->x0 + k, v), qa);
				continue;
			}
			double d2 = wnw_knn_dist2(q->v + i * d, x->v + (j->x0 + k) * d, d);
			if (d2 <= *lim) {
				*lim = j->fn(j->ctx, i, j->x0 + k, d2);
				t = screen_t(*lim, qa);
			}
		}
	}
}

static void join(const struct join *j, float *g)
{
	void (*fused)(const struct join *) = kernels()->fused;
	if (fused && j->q->pk && j->q->pkrows == j->q->rows && j->x1 - j->x0 <= UINT32_MAX)
		fused(j);
	else
		join_blas(j, g);
}

void wnw_knn_join(const struct wnw_vecs *q, size_t q0, size_t q1, const struct wnw_vecs *x, size_t x0,
		  size_t x1, double *limit, float *g, wnw_knn_visit fn, void *ctx)
{
	if (q1 > q0 && x1 > x0)
		join(&(const struct join){q, x, q0, q1, x0, x1, limit, fn, NULL, ctx, (float)(1.0 - join_slack(q->d)),
					  NULL, 0},
		     g);
}

void wnw_knn_join_bounds(const struct wnw_vecs *q, size_t q0, size_t q1, const struct wnw_vecs *x, size_t x0,
			 size_t x1, double *limit, float *g, wnw_knn_bvisit fn, void *ctx)
{
	if (q1 > q0 && x1 > x0)
		join(&(const struct join){q, x, q0, q1, x0, x1, limit, NULL, fn, ctx, (float)(1.0 - join_slack(q->d)),
					  NULL, 0},
		     g);
}

void wnw_knn_join_hi(const struct wnw_vecs *q, size_t q0, size_t q1, const struct wnw_vecs *x, size_t x0,
		     size_t x1, float *g, float *hi, size_t ldh)
{
	if (q1 > q0 && x1 > x0)
		join(&(const struct join){q, x, q0, q1, x0, x1, NULL, NULL, NULL, NULL, (float)(1.0 - join_slack(q->d)),
					  hi, ldh},
		     g);
}

int wnw_topk_init(struct wnw_topk *t, uint32_t k)
{
	memset(t, 0, sizeof *t);
	t->k = k;
	t->cap = t->base = k > UINT32_MAX / 2 ? UINT32_MAX : k + (k / 4 > 16 ? k / 4 : 16);
	t->h = malloc(((size_t)t->cap + 1) * sizeof *t->h);
	t->limit = k ? INFINITY : -1.0;
	return t->h ? 0 : -1;
}

void wnw_topk_free(struct wnw_topk *t)
{
	free(t->h);
	memset(t, 0, sizeof *t);
}

void wnw_topk_reset(struct wnw_topk *t)
{
	t->n = t->ndrop = t->nbound = 0;
	t->crowded = t->exact_kth = 0;
	t->limit = t->k ? INFINITY : -1.0;
}

static void hit_swap(struct wnw_hit *a, struct wnw_hit *b)
{
	struct wnw_hit t = *a;
	*a = *b;
	*b = t;
}

/* NAME(a, n, k) reorders a[0, n) so that a[k - 1] is the k-th smallest under LESS, with the smaller ones
 * before it and the larger after it (quickselect, median-of-three pivots; under a total order the result
 * is unique as a set). One body for each element type and order, each compiled with its comparison
 * inlined. */
#define DEFINE_SELECT(NAME, T, LESS, SWAP)                                                          \
	static void NAME(T *a, size_t n, size_t k)                                                  \
	{                                                                                           \
		size_t lo = 0, hi = n - 1, want = k - 1;                                            \
		while (hi > lo) {                                                                   \
			size_t mid = lo + (hi - lo) / 2;                                            \
			if (LESS(&a[mid], &a[lo]))                                                  \
				SWAP(&a[mid], &a[lo]);                                              \
			if (LESS(&a[hi], &a[lo]))                                                   \
				SWAP(&a[hi], &a[lo]);                                               \
			if (LESS(&a[hi], &a[mid]))                                                  \
				SWAP(&a[hi], &a[mid]);                                              \
			T pivot = a[mid];                                                           \
			size_t i = lo, j = hi;                                                      \
			while (i <= j) {                                                            \
				while (LESS(&a[i], &pivot))                                         \
					i++;                                                        \
				while (LESS(&pivot, &a[j]))                                         \
					j--;                                                        \
				if (i <= j) {                                                       \
					SWAP(&a[i], &a[j]);                                         \
					i++;                                                        \
					if (j == 0)                                                 \
						break;                                              \
					j--;                                                        \
				}                                                                   \
			}                                                                           \
			if (want <= j)                                                              \
				hi = j;                                                             \
			else if (want >= i)                                                         \
				lo = i;                                                             \
			else                                                                        \
				return;                                                             \
		}                                                                                   \
	}

DEFINE_SELECT(select_rank, struct wnw_hit, wnw_hit_less, hit_swap)

/* The bits of f as an unsigned key that orders as the floats do (NaN aside; -0 before +0). */
static uint32_t float_key(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u & 0x80000000u ? ~u : u | 0x80000000u;
}

/* The k-th smallest (1 <= k <= n) of a[0, n), none NaN, reordering a: a radix selection on float_key,
 * a digit at a time from the highest (8 bits, or 11 for more than 4096 values, where the counts cost
 * less than the passes), each round keeping only the values in the k-th's bucket, so that the last
 * values left share every bit. Two counts, for even and odd elements, so that runs of one bucket (values
 * close together, as a list's bounds are) do not wait on each other's increments. Quickselect took
 * 72 us on 8,000 bounds near one value, on the unpredictable branches of its partitions; this takes
 * 26 us (and 4-9 us on 1,250, against 14-21 us). */
static float kth_float(float *a, size_t n, size_t k)
{
	static const int shift[2][4] = {{24, 16, 8, 0}, {21, 10, 0, 0}}, width[2][4] = {{8, 8, 8, 8}, {11, 11, 10, 0}};
	int wide = n > 4096;
	for (int l = 0; l < 4 && width[wide][l]; l++) {
		uint32_t c0[2048], c1[2048], mask = (1u << width[wide][l]) - 1, b = 0;
		int sh = shift[wide][l];
		size_t i = 0, m = 0;
		memset(c0, 0, (mask + 1) * sizeof *c0);
		memset(c1, 0, (mask + 1) * sizeof *c1);
		for (; i + 2 <= n; i += 2) {
			c0[float_key(a[i]) >> sh & mask]++;
			c1[float_key(a[i + 1]) >> sh & mask]++;
		}
		if (i < n)
			c0[float_key(a[i]) >> sh & mask]++;
		for (; k > c0[b] + c1[b]; b++)
			k -= c0[b] + c1[b];
		for (i = 0; i < n; i++) { /* without a branch: half the values may be kept, in any order */
			float f = a[i];
			a[m] = f;
			m += (float_key(f) >> sh & mask) == b;
		}
		n = m;
	}
	return a[0];
}

/* The largest squared distance whose rounded root can equal that of u: an exact d2 above it has a float
 * distance above every distance of a squared value <= u (the double root and its rounding to float move
 * it by less than the 2^-22 relative margin, two float steps). */
static double class_limit(double u)
{
	double w = sqrt(u) * (1.0 + 0x1p-22);
	return w * w;
}

/* Bounds as floats, rounded outwards (the 2^-23 margin covers rounding to nearest). */
static float f_down(double v) { return v < (double)FLT_MIN ? 0.0f : (float)(v * (1.0 - 0x1p-23)); }
static float f_up(double v) { return v < (double)FLT_MIN ? FLT_MIN : (float)(v * (1.0 + 0x1p-23)); }

/* Keeps the exact K best of h[0, n) when every hit is exact: select by rank, exact limit. */
static void keep_exact(struct wnw_topk *t, uint32_t n)
{
	if (n > t->k)
		select_rank(t->h, n, t->k);
	t->kth = t->h[t->k - 1];
	t->exact_kth = 1;
	t->limit = class_limit((double)t->kth.dist * t->kth.dist);
}

/* Drops the hits that cannot rank (see struct wnw_topk): the K smallest upper bounds first, U the largest
 * of them, then the other hits whose lower bound is within class_limit(U); sets *keep to how many are
 * kept. The K-th smallest is found on the bounds alone, as floats, in hv (room for n), rather than by
 * moving hits about: the hits are then partitioned in three linear passes. */
static void keep_bounded(struct wnw_topk *t, float *hv, uint32_t *keep)
{
	struct wnw_hit *h = t->h;
	uint32_t n = t->n, k = 0, nb = 0;
	for (uint32_t i = 0; i < n; i++)
		hv[i] = h[i].hi;
	float u = kth_float(hv, n, t->k);
	double lim = class_limit(u);
	for (uint32_t i = 0; i < n; i++)
		if (h[i].hi < u)
			hit_swap(&h[k++], &h[i]);
	for (uint32_t i = k; k < t->k; i++) /* fewer than K lie below U, at least K at or below it */
		if (h[i].hi == u)
			hit_swap(&h[k++], &h[i]);
	for (uint32_t i = k; i < n; i++)
		if ((double)h[i].lo <= lim)
			hit_swap(&h[k++], &h[i]);
	for (uint32_t i = 0; i < k; i++)
		nb += h[i].dist < 0;
	t->nbound = nb;
	t->exact_kth = 0;
	t->limit = lim;
	if (nb == 0) /* every kept hit exact: ties at the K-th distance are settled by id */
		keep_exact(t, k), k = t->k;
	*keep = k;
}

static int resize(struct wnw_topk *t, uint32_t cap)
{
	struct wnw_hit *h = realloc(t->h, ((size_t)cap + 1) * sizeof *h);
	if (!h)
		return -1;
	t->h = h;
	t->cap = cap;
	return 0;
}

int wnw_topk_trim(struct wnw_topk *t)
{
	t->ndrop = 0;
	if (t->n <= t->k) {
		t->crowded = 0;
		return 0;
	}
	uint32_t keep = t->k;
	if (!t->nbound)
		keep_exact(t, t->n);
	else if (t->n <= 2048) {
		float hv[2048];
		keep_bounded(t, hv, &keep);
	} else {
		float *hv = malloc(t->n * sizeof *hv);
		if (!hv)
			return -1;
		keep_bounded(t, hv, &keep);
		free(hv);
	}
	t->ndrop = t->n - keep;
	t->n = keep;
	t->crowded = t->n - t->k > (t->cap - t->k) / 2;
	if (t->crowded && t->cap <= UINT32_MAX / 2)
		return resize(t, 2 * t->cap);
	return 0;
}

static int add(struct wnw_topk *t, const struct wnw_hit *c)
{
	if (t->cap > t->base && !t->crowded && t->n < t->base) /* settled: the buffer shrinks back */
		resize(t, t->base);
	if (t->k == 0 || (double)c->lo > t->limit ||
	    (t->exact_kth && c->dist >= 0 && !wnw_hit_less(c, &t->kth)))
		return 0;
	t->ndrop = 0;
	/* No room only after a crowded buffer could not grow: give up rather than lose a hit. */
	if (t->n >= t->cap && (t->cap > UINT32_MAX / 2 || resize(t, 2 * t->cap) != 0))
		return -1;
	t->h[t->n++] = *c;
	t->nbound += c->dist < 0;
	if (t->n < t->cap)
		return 1;
	return wnw_topk_trim(t) != 0 ? -1 : 2;
}

int wnw_topk_offer(struct wnw_topk *t, const struct wnw_hit *c)
{
	struct wnw_hit h = *c;
	/* The exact square is unknown, but rounds to within 2^-23 of dist^2. */
	double d2 = (double)c->dist * c->dist;
	h.lo = f_down(d2 * (1.0 - 0x1p-21));
	h.hi = f_up(d2 * (1.0 + 0x1p-21));
	return add(t, &h);
}

int wnw_topk_offer_bounds(struct wnw_topk *t, const struct wnw_hit *c, double lo, double hi)
{
	struct wnw_hit h = *c;
	h.dist = -1.0f;
	h.lo = f_down(lo);
	h.hi = f_up(hi);
	return add(t, &h);
}

void wnw_topk_exact(struct wnw_topk *t, uint32_t i, double d2)
{
	struct wnw_hit *h = &t->h[i];
	t->nbound -= h->dist < 0;
	h->dist = (float)sqrt(d2);
	h->lo = f_down(d2);
	h->hi = f_up(d2);
}

void wnw_topk_seed(struct wnw_topk *t, float *hi, size_t n)
{
	if (t->k == 0 || n <= t->k)
		return;
	double lim = class_limit(kth_float(hi, n, t->k));
	t->limit = lim < t->limit ? lim : t->limit;
}

double wnw_topk_limit(const struct wnw_topk *t) { return t->limit; }

static int hit_cmp(const void *a, const void *b)
{
	const struct wnw_hit *x = a, *y = b;
	return wnw_hit_less(x, y) ? -1 : wnw_hit_less(y, x) ? 1 : 0;
}

void wnw_topk_sort(struct wnw_topk *t)
{
	wnw_topk_trim(t);
	qsort(t->h, t->n, sizeof *t->h, hit_cmp);
}

int wnw_topk_finish(struct wnw_topk *t, double (*d2)(void *ctx, const struct wnw_hit *h), void *ctx)
{
	uint32_t n0 = t->n;
	if (wnw_topk_trim(t) != 0)
		return -1;
	if (t->n <= t->k) {
		t->ndrop = n0 - t->n;
		return 0;
	}
	/* Kept beyond the K smallest upper bounds: hits whose bounds straddle the K-th. Every hit whose
	 * distance class lies below all their lower bounds ranks before them all and stays; the rest (the
	 * K-th among them) are settled by their exact distances. */
	struct wnw_hit *h = t->h;
	float lo = h[t->k].lo;
	for (uint32_t i = t->k + 1; i < t->n; i++)
		lo = h[i].lo < lo ? h[i].lo : lo;
	double below = (double)lo / ((1.0 + 0x1p-22) * (1.0 + 0x1p-22));
	uint32_t p = 0;
	for (uint32_t i = 0; i < t->k; i++)
		if ((double)h[i].hi < below)
			hit_swap(&h[p++], &h[i]);
	for (uint32_t i = p; i < t->n; i++)
		if (h[i].dist < 0)
			wnw_topk_exact(t, i, d2(ctx, &h[i]));
	select_rank(h + p, t->n - p, t->k - p);
	t->ndrop = n0 - t->k;
	t->n = t->k;
	return 0;
}
