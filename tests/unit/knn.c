/* Unit tests of the neighbour engine (common/knn.c, knnself.c, knnstore.c) against a brute force written
 * plainly here: every distance by a direct double loop, every list by sorting all candidates. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "knn.h"
#include "knnstore.h"
#include "unit.h"

static uint64_t rng_state = 88172645463325252ull;

static double uniform(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) * 0x1p-53;
}

static double gauss(void)
{
	double u = uniform() + 1e-300, v = uniform();
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Fills s with n vectors: offset + scale * gaussian, ids given by id0 + i * step (mod n for ties). */
static void fill(struct wnw_vecs *s, size_t n, size_t d, double offset, double scale, int dup)
{
	uint8_t *raw = malloc(d * 4);
	wnw_vecs_init(s, d);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d; j++) {
			float f = (float)(offset + scale * gauss());
			memcpy(raw + 4 * j, &f, 4);
		}
		if (dup && i > 0 && i % 7 == 0)
			memcpy(raw, s->v + (i - 1) * d, d * 4); /* exact duplicate of the previous row */
		wnw_vecs_add_raw(s, raw, (uint64_t)((i * 7919) % n));
	}
	free(raw);
}

/* The reference distance: a plain double loop, rounded to float after the square root. */
static float plain_dist(const float *a, const float *b, size_t d)
{
	double s = 0;
	for (size_t i = 0; i < d; i++)
		s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
	return (float)sqrt(s);
}

struct ref_hit {
	float dist;
	uint64_t id;
};

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int float_cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct ref_hit *x = a, *y = b;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct visit_ctx {
	struct wnw_topk *top;
	const struct wnw_vecs *q, *x;
	size_t outside; /* bounds visits whose exact squared distance was outside [lo, hi] */
	size_t crowded; /* lists found crowded between blocks */
};

static double visit(void *ctx, size_t qi, size_t xj, double d2)
{
	struct visit_ctx *c = ctx;
	struct wnw_hit h = {.dist = (float)sqrt(d2), .id = c->x->id[xj], .ref = xj};
	wnw_topk_offer(&c->top[qi], &h);
	return wnw_topk_limit(&c->top[qi]);
}

static double bounds_visit(void *ctx, size_t qi, size_t xj, double lo, double hi)
{
	struct visit_ctx *c = ctx;
	double d2 = wnw_knn_dist2(c->q->v + qi * c->q->d, c->x->v + xj * c->x->d, c->x->d);
	c->outside += !(lo <= d2 && d2 <= hi);
	struct wnw_hit h = {.id = c->x->id[xj], .ref = xj};
	wnw_topk_offer_bounds(&c->top[qi], &h, lo, hi);
	return wnw_topk_limit(&c->top[qi]);
}

struct exact_ctx {
	const struct visit_ctx *c;
	size_t qi;
};

static double exact_d2(void *ctx, const struct wnw_hit *h)
{
	const struct exact_ctx *e = ctx;
	size_t d = e->c->x->d;
	return wnw_knn_dist2(e->c->q->v + e->qi * d, e->c->x->v + h->ref * d, d);
}

/* What knn-build does between blocks: a crowded list gets exact distances and is trimmed. */
static void settle(struct visit_ctx *c, size_t m)
{
	for (size_t i = 0; i < m; i++) {
		struct wnw_topk *t = &c->top[i];
		if (!t->crowded)
			continue;
		c->crowded++;
		struct exact_ctx e = {c, i};
		for (uint32_t k = 0; k < t->n; k++)
			if (t->h[k].dist < 0)
				wnw_topk_exact(t, k, exact_d2(&e, &t->h[k]));
		wnw_topk_trim(t);
	}
}

/* The end of a join with bounds: the K best by wnw_topk_finish, then every distance exact and sorted. */
static void finish(struct visit_ctx *c, size_t i)
{
	struct wnw_topk *t = &c->top[i];
	struct exact_ctx e = {c, i};
	wnw_topk_finish(t, exact_d2, &e);
	for (uint32_t k = 0; k < t->n; k++)
		if (t->h[k].dist < 0)
			wnw_topk_exact(t, k, exact_d2(&e, &t->h[k]));
	wnw_topk_sort(t);
}

/* knn through wnw_knn_join in blocks of bs candidates, compared with sorting every candidate. packed:
 * the queries are packed, so the fused kernel screens (on a CPU with AVX2 and FMA), else BLAS; the
 * queries are joined in parts [m p / parts, m (p + 1) / parts), as threads would. */
static void check_join_as(const char *what, size_t m, size_t n, size_t d, uint32_t k, size_t bs, double offset,
			  double scale, int dup, int packed, size_t parts, int bounds)
{
	struct wnw_vecs q, x;
	fill(&q, m, d, offset, scale, 0);
	fill(&x, n, d, offset, scale, dup);
	if (packed)
		CHECK(wnw_vecs_pack(&q) == 0, "%s: queries packed", what);
	struct wnw_topk *top = calloc(m, sizeof *top);
	double *limit = malloc(m * sizeof *limit);
	float *g = malloc(m * bs * sizeof *g);
	struct visit_ctx c = {top, &q, &x, 0, 0};
	for (size_t i = 0; i < m; i++)
		wnw_topk_init(&top[i], k);
	for (size_t a = 0; a < n; a += bs) {
		for (size_t i = 0; i < m; i++)
			limit[i] = wnw_topk_limit(&top[i]);
		for (size_t p = 0; p < parts; p++) {
			size_t q0 = m * p / parts, q1 = m * (p + 1) / parts;
			if (bounds)
				wnw_knn_join_bounds(&q, q0, q1, &x, a, a + bs < n ? a + bs : n, limit + q0, g,
						    bounds_visit, &c);
			else
				wnw_knn_join(&q, q0, q1, &x, a, a + bs < n ? a + bs : n, limit + q0, g, visit, &c);
		}
		settle(&c, m);
	}
	int same_ids = 1, close_dist = 1, nonneg = 1;
	double worst = 0;
	struct ref_hit *all = malloc(n * sizeof *all);
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < n; j++)
			all[j] = (struct ref_hit){plain_dist(q.v + i * d, x.v + j * d, d), x.id[j]};
		qsort(all, n, sizeof *all, ref_cmp);
		finish(&c, i);
		uint32_t want = k < n ? k : (uint32_t)n;
		if (top[i].n != want)
			same_ids = 0;
		for (uint32_t r = 0; r < top[i].n && r < want; r++) {
			if (top[i].h[r].id != all[r].id)
				same_ids = 0;
			double rel = fabs((double)top[i].h[r].dist - all[r].dist) / (all[r].dist > 0 ? all[r].dist : 1);
			worst = rel > worst ? rel : worst;
			if (rel > 1e-5)
				close_dist = 0;
			if (!(top[i].h[r].dist >= 0))
				nonneg = 0;
		}
	}
	CHECK(same_ids, "%s: same neighbour lists as brute force (m %zu, n %zu, d %zu, k %u, block %zu, %s, %zu parts%s)",
	      what, m, n, d, k, bs, packed ? "packed" : "BLAS", parts, bounds ? ", bounds" : "");
	if (bounds)
		CHECK(c.outside == 0, "%s: every exact squared distance within the bounds of its visit (%zu outside)",
		      what, c.outside);
	CHECK(close_dist, "%s: distances within 1e-5 relative of brute force (worst %.3g)", what, worst);
	CHECK(nonneg, "%s: no negative or NaN distance", what);
	for (size_t i = 0; i < m; i++)
		wnw_topk_free(&top[i]);
	free(top);
	free(limit);
	free(g);
	free(all);
	wnw_vecs_free(&q);
	wnw_vecs_free(&x);
}

/* The same join screened by BLAS and by the fused kernel, whole and in parts. */
static void check_join(const char *what, size_t m, size_t n, size_t d, uint32_t k, size_t bs, double offset,
		       double scale, int dup)
{
	for (int bounds = 0; bounds < 2; bounds++) {
		check_join_as(what, m, n, d, k, bs, offset, scale, dup, 0, 1, bounds);
		check_join_as(what, m, n, d, k, bs, offset, scale, dup, 1, 1, bounds);
		check_join_as(what, m, n, d, k, bs, offset, scale, dup, 1, 3, bounds);
	}
}

/* Records every pair's upper bound as knn-build's seeding did before wnw_knn_join_hi, rounded up. */
struct hi_ctx {
	float *hi;
	size_t q0, n;
};

static double hi_visit(void *ctx, size_t qi, size_t xj, double lo, double hi)
{
	struct hi_ctx *c = ctx;
	(void)lo;
	c->hi[(qi - c->q0) * c->n + xj] = (float)(hi * (1.0 + 0x1p-23));
	return INFINITY;
}

/* wnw_knn_join_hi gives the bits of the upper bounds that wnw_knn_join_bounds gives its visitor with no
 * limit, every pair once, through BLAS and through the fused kernel, for query ranges that start and end
 * inside panels. */
static void check_join_hi(void)
{
	static const size_t ranges[][2] = {{0, 37}, {3, 16}, {5, 13}, {17, 37}, {36, 37}};
	for (int packed = 0; packed < 2; packed++) {
		struct wnw_vecs q, x;
		fill(&q, 37, 40, 0, 1, 0);
		fill(&x, 301, 40, 0, 1, 1);
		if (packed)
			CHECK(wnw_vecs_pack(&q) == 0, "queries packed");
		float *g = malloc(37 * 301 * sizeof *g), *want = malloc(37 * 301 * sizeof *want);
		float *got = malloc(37 * 301 * sizeof *got);
		double limit[37];
		for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
			size_t q0 = ranges[r][0], q1 = ranges[r][1], cells = (q1 - q0) * 301;
			for (size_t i = 0; i < 37; i++)
				limit[i] = INFINITY;
			memset(want, 0xff, cells * sizeof *want); /* NaN: a pair never visited */
			memset(got, 0xff, cells * sizeof *got);
			struct hi_ctx c = {want, q0, 301};
			wnw_knn_join_bounds(&q, q0, q1, &x, 0, 301, limit, g, hi_visit, &c);
			wnw_knn_join_hi(&q, q0, q1, &x, 0, 301, g, got, 301);
			int every = 1;
			for (size_t i = 0; i < cells; i++)
				every &= !isnan(want[i]);
			CHECK(every && memcmp(want, got, cells * sizeof *got) == 0,
			      "upper bounds of queries [%zu, %zu) (%s) as the bounds visitor sees them", q0, q1,
			      packed ? "packed" : "BLAS");
		}
		free(g);
		free(want);
		free(got);
		wnw_vecs_free(&q);
		wnw_vecs_free(&x);
	}
}

/* wnw_topk_seed limits a list by the K-th smallest of the bounds it is given, whatever their order,
 * repeats and spread (values on both sides of a power of two, many equal, negative ones, odd counts). */
static void check_seed(void)
{
	static const size_t ns[] = {2, 3, 17, 1000, 8001};
	int same = 1;
	for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++)
		for (int kind = 0; kind < 4; kind++) {
			size_t n = ns[c];
			float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
			for (size_t i = 0; i < n; i++) {
				double u = uniform();
				a[i] = kind == 0   ? (float)(2.0 + 0.25 * (u - 0.5)) /* around 2: two exponents */
				       : kind == 1 ? (float)(int)(u * 5)         /* five values, zeros among them */
				       : kind == 2 ? (float)(u * 1e6 - 1e5)      /* some negative */
						   : (float)(1e-30 * u);
				b[i] = a[i];
			}
			qsort(b, n, sizeof *b, float_cmp);
			for (uint32_t k = 1; k < n; k += k < 4 ? 1 : (uint32_t)(n / 3)) {
				struct wnw_topk t;
				wnw_topk_init(&t, k);
				float *h = malloc(n * sizeof *h);
				memcpy(h, a, n * sizeof *h);
				wnw_topk_seed(&t, h, n);
				double w = sqrt((double)b[k - 1]) * (1.0 + 0x1p-22), lim = w * w;
				double want = lim < INFINITY ? lim : INFINITY; /* a negative K-th limits nothing */
				same &= wnw_topk_limit(&t) == want;
				free(h);
				wnw_topk_free(&t);
			}
			free(a);
			free(b);
		}
	CHECK(same, "a list seeded with n bounds is limited by the K-th smallest");
}

struct radius_ctx {
	double r2;
	size_t n;
	uint8_t *seen; /* m x n: visited */
	const struct wnw_vecs *q, *x;
	int bits;      /* every d2 had the bits of wnw_knn_dist2 */
};

static double radius_visit(void *ctx, size_t qi, size_t xj, double d2)
{
	struct radius_ctx *c = ctx;
	c->seen[qi * c->n + xj] = 1;
	size_t d = c->q->d;
	c->bits &= d2 == wnw_knn_dist2(c->q->v + qi * d, c->x->v + xj * d, d);
	return c->r2;
}

/* With a fixed limit r2 (a radius join), fn must see every pair within r2 by a plain double loop and no
 * other, for both screens: the visited set of each screen contains the exact set. */
static void check_radius(size_t m, size_t n, size_t d, double offset, double scale)
{
	struct wnw_vecs q, x;
	fill(&q, m, d, offset, scale, 0);
	fill(&x, n, d, offset, scale, 1);
	double *all = malloc(m * n * sizeof *all), *sorted = malloc(m * n * sizeof *sorted);
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++) {
			double s2 = 0;
			for (size_t l = 0; l < d; l++)
				s2 += ((double)q.v[i * d + l] - x.v[j * d + l]) * ((double)q.v[i * d + l] - x.v[j * d + l]);
			all[i * n + j] = sorted[i * n + j] = s2;
		}
	/* r2 at the 2% quantile of all pairs, then lowered to the middle of a gap between two distances so
	 * that the summation order of the reference cannot move a pair across it. */
	size_t at = m * n / 50;
	qsort(sorted, m * n, sizeof *sorted, dbl_cmp);
	while (at > 0 && sorted[at] - sorted[at - 1] <= 1e-9 * sorted[at])
		at--;
	double r2 = at > 0 ? (sorted[at] + sorted[at - 1]) / 2 : -1;
	for (int packed = 0; packed < 2; packed++) {
		if (packed)
			wnw_vecs_pack(&q);
		struct radius_ctx c = {r2, n, calloc(m * n, 1), &q, &x, 1};
		double *limit = malloc(m * sizeof *limit);
		float *g = malloc(m * 64 * sizeof *g);
		for (size_t a = 0; a < n; a += 64) {
			for (size_t i = 0; i < m; i++)
				limit[i] = r2;
			wnw_knn_join(&q, 0, m, &x, a, a + 64 < n ? a + 64 : n, limit, g, radius_visit, &c);
		}
		size_t missed = 0, visited = 0, within = 0;
		for (size_t i = 0; i < m * n; i++) {
			within += all[i] <= r2;
			visited += c.seen[i];
			missed += all[i] <= r2 && !c.seen[i];
		}
		CHECK(missed == 0 && within > 0, "radius join (%s, d %zu, offset %g): all %zu pairs within r2 visited",
		      packed ? "fused" : "BLAS", d, offset, within);
		CHECK(visited == within, "radius join (%s): fn sees exactly the pairs within r2 (%zu, %zu)",
		      packed ? "fused" : "BLAS", visited, within);
		CHECK(c.bits, "radius join (%s): the distances given to fn have the bits of wnw_knn_dist2",
		      packed ? "fused" : "BLAS");
		free(c.seen);
		free(limit);
		free(g);
	}
	free(all);
	free(sorted);
	wnw_vecs_free(&q);
	wnw_vecs_free(&x);
}

struct self_ref {
	uint32_t *n;
	uint64_t (*ids)[8];
};

static void self_done(void *ctx, size_t i, const struct wnw_hit *h, uint32_t n)
{
	struct self_ref *c = ctx;
	c->n[i] = n;
	for (uint32_t j = 0; j < n && j < 8; j++)
		c->ids[i][j] = h[j].ref;
}

/* The exact self-join (any thread count) equals brute force; the inverted file finds most of it. */
static void check_self(int threads)
{
	size_t n = 700, d = 12;
	struct wnw_vecs x;
	fill(&x, n, d, 0, 1, 1);
	struct self_ref c = {calloc(n, sizeof(uint32_t)), calloc(n, sizeof(uint64_t[8]))};
	struct wnw_self_opts o = {.k = 8, .r2 = 16.0, .nlist = 1, .nprobe = 1, .threads = threads};
	struct wnw_err e;
	CHECK(wnw_knn_self(&x, &o, self_done, &c, &e) == 0, "self-join runs with %d threads", threads);
	int same = 1;
	struct ref_hit *all = malloc(n * sizeof *all);
	size_t agree = 0;
	for (size_t i = 0; i < n; i++) {
		size_t m = 0;
		for (size_t j = 0; j < n; j++) {
			double s2 = 0;
			for (size_t l = 0; l < d; l++)
				s2 += ((double)x.v[i * d + l] - x.v[j * d + l]) * ((double)x.v[i * d + l] - x.v[j * d + l]);
			if (s2 <= 16.0)
				all[m++] = (struct ref_hit){(float)sqrt(s2), ((uint64_t)x.id[j] << 20) | j};
		}
		qsort(all, m, sizeof *all, ref_cmp);
		uint32_t want = m < 8 ? (uint32_t)m : 8;
		if (c.n[i] < want)
			same = 0;
		for (uint32_t r = 0; r < want; r++)
			if (c.ids[i][r] != (all[r].id & 0xfffff))
				same = 0;
	}
	CHECK(same, "exact self-join with radius equals brute force (%d threads)", threads);
	struct self_ref a = {calloc(n, sizeof(uint32_t)), calloc(n, sizeof(uint64_t[8]))};
	struct wnw_self_opts oi = {.k = 8, .r2 = 16.0, .nlist = 16, .nprobe = 16, .threads = threads};
	CHECK(wnw_knn_self(&x, &oi, self_done, &a, &e) == 0, "inverted-file self-join runs");
	for (size_t i = 0; i < n; i++)
		agree += a.n[i] == c.n[i] && memcmp(a.ids[i], c.ids[i], sizeof a.ids[i]) == 0;
	CHECK(agree == n, "inverted file probing every cell is exact (%zu of %zu)", agree, n);
	free(all);
	free(c.n);
	free(c.ids);
	free(a.n);
	free(a.ids);
	wnw_vecs_free(&x);
}

static int hit_order(const void *a, const void *b)
{
	const struct wnw_hit *x = a, *y = b;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->ref < y->ref ? -1 : x->ref > y->ref;
}

/* A sorted list holds the first K of all[0, n) once those are sorted by rank. */
static int same_as_sorted(const struct wnw_topk *t, struct wnw_hit *all, uint32_t n)
{
	qsort(all, n, sizeof *all, hit_order);
	if (t->n != (n < t->k ? n : t->k))
		return 0;
	for (uint32_t i = 0; i < t->n; i++)
		if (t->h[i].ref != all[i].ref)
			return 0;
	return 1;
}

static void check_topk(void)
{
	struct wnw_topk t;
	wnw_topk_init(&t, 3);
	struct wnw_hit h[] = {{.dist = 2, .id = 5, .ref = 0}, {.dist = 1, .id = 9, .ref = 1},
			      {.dist = 2, .id = 4, .ref = 2}, {.dist = 3, .id = 1, .ref = 3},
			      {.dist = 2, .id = 3, .ref = 4}, {.dist = 1, .id = 9, .ref = 0},
			      {.dist = 2, .id = 4, .ref = 9}};
	int r[7], last = 0;
	CHECK(isinf(wnw_topk_limit(&t)), "the limit is infinite before the list is first trimmed");
	for (int i = 0; i < 6; i++)
		r[i] = wnw_topk_offer(&t, &h[i]);
	for (uint64_t i = 0; last != 2 && i < 1000; i++) /* worse hits until the buffer fills */
		last = wnw_topk_offer(&t, &(struct wnw_hit){.dist = 5, .id = 100 + i, .ref = 100 + i});
	CHECK(last == 2 && t.n == 3 && t.ndrop == t.cap - 3, "a full buffer is trimmed to K, reporting the dropped hits");
	CHECK(r[0] == 1 && r[5] == 1, "hits are added before the first trim");
	r[6] = wnw_topk_offer(&t, &h[6]);
	CHECK(r[6] == 0, "after a trim a hit that cannot rank is refused");
	wnw_topk_sort(&t);
	CHECK(t.n == 3 && t.h[0].id == 9 && t.h[0].ref == 0 && t.h[1].id == 9 && t.h[2].id == 3,
	      "top-K keeps (distance, id, ref) order with ties to the smaller id");
	wnw_topk_free(&t);

	/* Many hits with few distinct distances, against sorting them all. */
	int same = 1;
	for (int trial = 0; trial < 50; trial++) {
		uint32_t k = 1 + (uint32_t)(uniform() * 40), n = (uint32_t)(uniform() * 500);
		struct wnw_hit *all = malloc((n + 1) * sizeof *all);
		wnw_topk_init(&t, k);
		for (uint32_t i = 0; i < n; i++) {
			all[i] = (struct wnw_hit){.dist = (float)(int)(uniform() * 8), .id = (uint64_t)(uniform() * 20),
						  .ref = i};
			wnw_topk_offer(&t, &all[i]);
		}
		wnw_topk_sort(&t);
		same = same && same_as_sorted(&t, all, n);
		wnw_topk_free(&t);
		free(all);
	}
	CHECK(same, "top-K equals sorting every hit, over 50 random lists with many ties");
}

static double true_d2(void *ctx, const struct wnw_hit *h) { return ((const double *)ctx)[h->ref]; }

/* Lists fed bounds only (some wide, some exact ties, some crowds of one distance), made exact where
 * asked as knn-build does, against sorting the exact hits. */
static void check_topk_bounds(void)
{
	int same = 1, crowded = 0;
	for (int trial = 0; trial < 60; trial++) {
		uint32_t k = 1 + (uint32_t)(uniform() * 40), n = (uint32_t)(uniform() * 800);
		int crowd = trial % 3 == 0; /* most hits at one distance */
		double *d2 = malloc((n + 1) * sizeof *d2);
		struct wnw_hit *all = malloc((n + 1) * sizeof *all);
		double *lo = malloc((n + 1) * sizeof *lo), *hi = malloc((n + 1) * sizeof *hi);
		float *seed = malloc((n + 1) * sizeof *seed);
		struct wnw_topk t;
		wnw_topk_init(&t, k);
		for (uint32_t i = 0; i < n; i++) {
			d2[i] = crowd && uniform() < 0.8 ? 2.0 : 1.0 + (double)(int)(uniform() * 50) / 16;
			double w = uniform() < 0.2 ? 0.5 : 1e-3;
			lo[i] = d2[i] - w * uniform();
			hi[i] = d2[i] + w * uniform();
			seed[i] = (float)(hi[i] * (1 + 0x1p-23));
		}
		if (trial % 2) /* seeded with every upper bound, as knn-build's first block */
			wnw_topk_seed(&t, seed, n);
		size_t held = 0;
		for (uint32_t i = 0; i < n; i++) {
			all[i] = (struct wnw_hit){.dist = (float)sqrt(d2[i]), .id = (uint64_t)(uniform() * 30), .ref = i};
			struct wnw_hit h = {.id = all[i].id, .ref = i};
			int r = wnw_topk_offer_bounds(&t, &h, lo[i], hi[i]);
			held += r != 0;
			if (r == 2)
				held -= t.ndrop;
			if (t.crowded) {
				crowded++;
				for (uint32_t j = 0; j < t.n; j++)
					if (t.h[j].dist < 0)
						wnw_topk_exact(&t, j, d2[t.h[j].ref]);
				uint32_t before = t.n;
				wnw_topk_trim(&t);
				held -= before - t.n;
			}
		}
		same = same && held == t.n;
		wnw_topk_finish(&t, true_d2, d2);
		for (uint32_t j = 0; j < t.n; j++)
			if (t.h[j].dist < 0)
				wnw_topk_exact(&t, j, d2[t.h[j].ref]);
		wnw_topk_sort(&t);
		same = same && same_as_sorted(&t, all, n);
		wnw_topk_free(&t);
		free(all);
		free(d2);
		free(lo);
		free(hi);
		free(seed);
	}
	CHECK(same, "top-K from bounds (half of the lists seeded), made exact at the end, equals sorting the exact "
		    "hits (60 lists)");
	CHECK(crowded > 0, "lists crowded with one distance are flagged (%d times)", crowded);
}

static void check_store(void)
{
	struct wnw_err e;
	struct wnw_schema s = {0};
	struct wnw_field f = {"x", WNW_U64, 0};
	s.nfields = 1;
	s.fields = &f;
	struct wnw_store *st = wnw_store_new(100, &e); /* a tiny budget: most records spill */
	int ok = st != NULL;
	for (uint32_t i = 0; i < 1000 && ok; i++) {
		uint8_t data[8];
		uint32_t off[2] = {0, 8};
		uint64_t v = (uint64_t)i * 1000003u;
		memcpy(data, &v, 8);
		struct wnw_rec rec = {data, 8, i + 1, &s, off};
		ok = wnw_store_add(st, &rec, &e) == (int64_t)i;
		if (ok && i % 3 == 0)
			ok = wnw_store_drop(st, i, &e) == 0;
	}
	for (uint32_t i = 999; ok && i < 1000; i--) {
		struct wnw_rec rec = {.schema = &s};
		if (i % 3 == 0)
			continue;
		ok = wnw_store_get(st, i, &rec, &e) == 0 && rec.len == 8 && rec.off[1] == 8 &&
		     wnw_le64(rec.data) == (uint64_t)i * 1000003u;
	}
	CHECK(ok, "store: records read back the same after spilling, in any order");
	CHECK(wnw_store_spilled(st) > 0, "store: a tiny budget spills to the temporary file");
	wnw_store_free(st);
}

/* A record of the source file: id and a text of id % 50 bytes (placed with gaps of 1 to 20 KB, so that
 * reads in file order take both windows and single records). */
static void source_record(uint32_t i, uint8_t *d, uint32_t *len)
{
	uint64_t v = (uint64_t)i * 1000003u;
	uint32_t n = i % 50;
	memcpy(d, &v, 8);
	memcpy(d + 8, &n, 4);
	memset(d + 12, 'a' + (int)(i % 26), n);
	*len = 12 + n;
}

/* Record i read back through view v (NULL: the store's own) is the one written. */
static int source_same_in(struct wnw_store *st, struct wnw_store_view *v, uint64_t h, uint32_t i,
			  const struct wnw_schema *s)
{
	struct wnw_err e;
	struct wnw_rec rec = {.schema = s};
	uint8_t d[64];
	uint32_t len;
	source_record(i, d, &len);
	int got = v ? wnw_store_view_get(st, v, h, 0, (uint64_t)i * 1000003u, &rec, &e) : wnw_store_get(st, h, &rec, &e);
	return got == 0 && rec.len == len && rec.off[1] == 8 && rec.off[2] == len && memcmp(rec.data, d, len) == 0;
}

static int source_same(struct wnw_store *st, uint64_t h, uint32_t i, const struct wnw_schema *s)
{
	return source_same_in(st, NULL, h, i, s);
}

/* A thread reading every live record of the store through its own view, from record first on. */
struct view_reader {
	struct wnw_store *st;
	const struct wnw_schema *s;
	const uint64_t *h;
	uint32_t n, first;
	int ok;
};

static void *read_through_view(void *arg)
{
	struct view_reader *vr = arg;
	struct wnw_err e;
	struct wnw_store_view *v = wnw_store_view_new(&e);
	vr->ok = v != NULL;
	for (int pass = 0; pass < 20 && vr->ok; pass++)
		for (uint32_t k = 0; k < vr->n && vr->ok; k++) {
			uint32_t i = (vr->first + k) % vr->n;
			vr->ok = i % 5 == 0 || source_same_in(vr->st, v, vr->h[i], i, vr->s);
		}
	wnw_store_view_free(v);
	return NULL;
}

static void check_store_source(void)
{
	struct wnw_err e;
	struct wnw_field f[2] = {{"id", WNW_U64, 0}, {"text", WNW_BYTES, 0}};
	struct wnw_schema s = {.nfields = 2, .fields = f};
	char path[] = "/tmp/winnow-unit.XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	enum { N = 400 };
	uint64_t at[N] = {0}, h[N] = {0}, pos = 0;
	uint32_t len[N] = {0};
	struct wnw_store *st = wnw_store_new(300, &e); /* records added by copy spill */
	int ok = fd >= 0 && st != NULL;
	if (ok)
		wnw_store_source(st, fd, &s);
	for (uint32_t i = 0; i < N && ok; i++) {
		uint8_t d[64];
		pos += 1 + (uint64_t)(i * 7919u) % 20000u;
		if (i == 61) /* straddles the end of the first window, which starts at record 1 */
			pos = at[1] + (1u << 20) - 5;
		source_record(i, d, &len[i]);
		at[i] = pos;
		ok = pwrite(fd, d, len[i], (off_t)pos) == (ssize_t)len[i];
		pos += len[i];
		uint32_t off[3] = {0, 8, len[i]};
		struct wnw_rec rec = {d, len[i], i + 1, &s, off};
		/* every third record by copy, the others by reference */
		h[i] = (uint64_t)(i % 3 ? wnw_store_add_ref(st, at[i], len[i], &e) : wnw_store_add(st, &rec, &e));
		if (ok && i % 5 == 0)
			ok = wnw_store_drop(st, h[i], &e) == 0;
	}
	for (uint32_t i = 0; i < N && ok; i++) /* in file order: windows */
		ok = i % 5 == 0 || source_same(st, h[i], i, &s);
	for (uint32_t i = N - 1; i < N && ok; i--) /* backwards: single records */
		ok = i % 5 == 0 || source_same(st, h[i], i, &s);
	CHECK(ok, "store: records referred to in their file read back the same, beside copied and spilled ones");
	struct view_reader vr[2] = {{st, &s, h, N, 0, 0}, {st, &s, h, N, N / 2, 0}};
	pthread_t tid[2];
	int started = 0;
	for (int t = 0; t < 2; t++)
		started += pthread_create(&tid[t], NULL, read_through_view, &vr[t]) == 0;
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	CHECK(started == 2 && vr[0].ok && vr[1].ok, "store: two threads read it at once, each through a view");
	struct wnw_store_view *v = wnw_store_view_new(&e);
	ok = v != NULL;
	for (uint32_t i = 0; i < N && ok; i++) { /* alone, told too little, two at once, the last past the end */
		uint32_t next = i + 1 < N ? i + 1 : i;
		uint64_t upto = i % 3 == 0 ? at[i] + len[i] : i % 3 == 1 ? at[i] + 1 : at[next] + len[next];
		if (i == N - 1)
			upto = pos + 100000;
		struct wnw_rec rec = {.schema = &s};
		uint8_t d[64];
		uint32_t n;
		source_record(i, d, &n);
		ok = wnw_store_view_source(st, v, at[i], len[i], upto, 0, (uint64_t)i * 1000003u, &rec, &e) == 0 &&
		     rec.len == n && memcmp(rec.data, d, n) == 0;
	}
	CHECK(ok, "store: records read from the file by offset through a view, told how far to read");
	wnw_store_view_free(v);
	struct wnw_rec got = {.schema = &s};
	ok = wnw_store_get_checked(st, h[4], 0, 4u * 1000003u, &got, &e) == 0 &&
	     wnw_store_get_checked(st, h[3], 0, 1, &got, &e) == 0; /* a copy is not checked */
	CHECK(ok, "store: a checked record holding its id reads back");
	ok = wnw_store_get_checked(st, h[4], 0, 5u * 1000003u, &got, &e) != 0 && e.status == WNW_EXIT_DATA &&
	     strstr(e.msg, "changed");
	CHECK(ok, "store: a record read again from its file with another id is an error");
	struct wnw_rec rec = {.schema = &s};
	uint32_t big = 4000; /* the text of record 1 now runs past its end (read again: 2 is read between) */
	ok = pwrite(fd, &big, 4, (off_t)(at[1] + 8)) == 4 && source_same(st, h[2], 2, &s) &&
	     wnw_store_get(st, h[1], &rec, &e) != 0 &&
	     e.status == WNW_EXIT_DATA && strstr(e.msg, "changed");
	CHECK(ok, "store: a record changed in its file is an error");
	ok = ftruncate(fd, (off_t)at[N - 2]) == 0 && wnw_store_get(st, h[N - 2], &rec, &e) != 0 &&
	     e.status == WNW_EXIT_DATA && strstr(e.msg, "shrank");
	CHECK(ok, "store: a record cut off its file is an error");
	wnw_store_free(st);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	check_topk();
	check_topk_bounds();
	check_store();
	check_store_source();
	check_join_hi();
	check_seed();
	check_join("random", 13, 500, 16, 10, 64, 0, 1, 1);
	check_join("k above n", 3, 20, 5, 50, 7, 0, 1, 0);
	check_join("one block", 40, 300, 33, 25, 1000, 0, 1, 1);
	/* Far from the origin the expansion |q|^2 + |x|^2 - 2 q.x loses almost every digit: the ranking must
	 * still be exact because every pair near the limit is recomputed. */
	check_join("cancellation", 9, 400, 64, 15, 50, 1000, 0.01, 1);
	/* Query counts around the panels of 16 (and half panels of 8) of the fused kernel; a d with a tail. */
	check_join("panels", 37, 700, 40, 20, 128, 0, 1, 1);
	check_join("half panel", 8, 300, 19, 7, 33, 0, 1, 1);
	check_join("panels of 16", 48, 500, 256, 30, 200, 0, 1, 1);
	check_join("one query", 1, 200, 7, 5, 13, 0, 1, 0);
	check_radius(40, 600, 32, 0, 1);
	check_radius(21, 500, 64, 1000, 0.01);
	check_radius(19, 300, 45, 0, 1); /* d with a tail past the last 8 */
	check_self(1);
	check_self(3);
	float a[5] = {1e-3f, -2, 3, 4, 5}, b[5] = {1e-3f, -2, 3, 4, 5};
	CHECK(wnw_knn_dist2(a, b, 5) == 0, "distance of a vector to itself is exactly 0");
	struct wnw_vecs v;
	wnw_vecs_init(&v, 2);
	uint8_t raw[8];
	float bad[2] = {1, NAN};
	memcpy(raw, bad, 8);
	CHECK(wnw_vecs_add_raw(&v, raw, 1) == 1 && v.rows == 0, "a NaN component is reported by its index");
	float big[2] = {3e38f, 1};
	memcpy(raw, big, 8);
	CHECK(wnw_vecs_add_raw(&v, raw, 1) == 2, "an overflowing norm is reported");
	wnw_vecs_free(&v);
	return unit_failed;
}
