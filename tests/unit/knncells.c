/* Unit tests of the self-join's partition (common/methods/knncells.c) and of the pruned self-join
 * (knnself.c): whatever pairs of cells and fine cells it skips, the join must find what a brute force
 * over every pair finds, on data built so that skipping is worth it and pairs sit right at the radius. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knn.h"
#include "knncells.h"
#include "par.h"
#include "unit.h"

#define K 12u

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
	double u = uniform(), v = uniform();
	return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

static void add_row(struct wnw_vecs *x, const double *v, size_t d)
{
	uint8_t raw[4 * 64];
	for (size_t j = 0; j < d; j++) {
		float f = (float)v[j];
		memcpy(raw + 4 * j, &f, 4);
	}
	wnw_vecs_add_raw(x, raw, (uint64_t)((x->rows * 7919) % 100003));
}

/* nc tight clusters of per rows far apart (in input order interleaved), and across the gaps pairs of
 * outliers at distances just inside and just outside r. */
static void fill_clusters(struct wnw_vecs *x, size_t nc, size_t per, size_t d, double r)
{
	double *c = malloc(nc * d * sizeof *c), v[64], u[64];
	wnw_vecs_init(x, d);
	for (size_t i = 0; i < nc * d; i++)
		c[i] = 6 * gauss();
	for (size_t i = 0; i < nc * per; i++) {
		const double *ci = c + (i % nc) * d;
		for (size_t j = 0; j < d; j++)
			v[j] = ci[j] + 0.35 * gauss();
		add_row(x, v, d);
	}
	for (size_t p = 0; p < 2 * nc; p++) {
		const double *a = c + (p % nc) * d, *b = c + ((p * 7 + 3) % nc) * d;
		double len = 0, rr = r * (p % 2 ? 1 + 1e-6 : 1 - 1e-6);
		for (size_t j = 0; j < d; j++)
			len += (b[j] - a[j]) * (b[j] - a[j]);
		len = sqrt(len);
		for (size_t j = 0; j < d; j++) {
			u[j] = len > 0 ? (b[j] - a[j]) / len : 0;
			v[j] = a[j] + (0.5 * len - 0.5 * rr) * u[j];
		}
		add_row(x, v, d);
		for (size_t j = 0; j < d; j++)
			v[j] += rr * u[j];
		add_row(x, v, d);
	}
	free(c);
}

struct lists {
	uint32_t *n;
	uint64_t *ref; /* K a row */
	float *dist;
};

static void lists_init(struct lists *l, size_t n)
{
	l->n = calloc(n, sizeof *l->n);
	l->ref = calloc(n * K, sizeof *l->ref);
	l->dist = calloc(n * K, sizeof *l->dist);
}

static void lists_free(struct lists *l)
{
	free(l->n);
	free(l->ref);
	free(l->dist);
}

static void done(void *ctx, size_t i, const struct wnw_hit *h, uint32_t n)
{
	struct lists *l = ctx;
	l->n[i] = n;
	for (uint32_t j = 0; j < n && j < K; j++) {
		l->ref[i * K + j] = h[j].ref;
		l->dist[i * K + j] = h[j].dist;
	}
}

static int rank_cmp(const void *a, const void *b)
{
	const struct wnw_hit *x = a, *y = b;
	return wnw_hit_less(x, y) ? -1 : wnw_hit_less(y, x);
}

/* Every pair, its distance by wnw_knn_dist2 (the join's own), the K best within r2 in rank order. */
static void brute(const struct wnw_vecs *x, double r2, struct lists *l)
{
	size_t n = x->rows, d = x->d;
	struct wnw_hit *all = malloc(n * sizeof *all);
	for (size_t i = 0; i < n; i++) {
		size_t m = 0;
		for (size_t j = 0; j < n; j++) {
			double s2 = wnw_knn_dist2(x->v + i * d, x->v + j * d, d);
			if (s2 <= r2)
				all[m++] = (struct wnw_hit){.dist = (float)sqrt(s2), .id = x->id[j], .ref = j};
		}
		qsort(all, m, sizeof *all, rank_cmp);
		done(l, i, all, m < K ? (uint32_t)m : K);
	}
	free(all);
}

static int same_lists(const struct lists *a, const struct lists *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a->n[i] != b->n[i] || memcmp(a->ref + i * K, b->ref + i * K, a->n[i] * sizeof *a->ref) != 0 ||
		    memcmp(a->dist + i * K, b->dist + i * K, a->n[i] * sizeof *a->dist) != 0)
			return 0;
	return 1;
}

/* The exact join, split into cells or only into fine cells, equals the brute force and skips pairs. */
static void check_exact(const struct wnw_vecs *x, double r2, uint32_t cells, int threads, const struct lists *want)
{
	size_t n = x->rows;
	struct lists got;
	struct wnw_self_stats st = {0};
	struct wnw_self_opts o = {.k = K, .r2 = r2, .nlist = 1, .exact_cells = cells, .threads = threads, .stats = &st};
	struct wnw_err e;
	lists_init(&got, n);
	CHECK(wnw_knn_self(x, &o, done, &got, &e) == 0, "exact self-join, %u cells, %d threads, runs", cells, threads);
	CHECK(same_lists(&got, want, n), "exact self-join, %u cells (%u fine), %d threads, equals the brute force",
	      st.cells, st.fine, threads);
	CHECK(st.fine > st.cells && st.pairs < (uint64_t)n * n / 2,
	      "exact self-join, %u cells: fine cells (%u) skip pairs (%.3g of n^2 compared)", cells, st.fine,
	      (double)st.pairs / ((double)n * (double)n));
	lists_free(&got);
}

/* The inverted file with a radius finds, of what it finds without one, exactly the hits within it. */
static void check_ivf(const struct wnw_vecs *x, double r2)
{
	size_t n = x->rows;
	struct lists inf, rad;
	struct wnw_self_stats si = {0}, sr = {0};
	struct wnw_self_opts oi = {.k = K, .r2 = INFINITY, .nlist = 9, .nprobe = 3, .threads = 2, .stats = &si};
	struct wnw_self_opts orad = oi;
	struct wnw_err e;
	orad.r2 = r2;
	orad.stats = &sr;
	lists_init(&inf, n);
	lists_init(&rad, n);
	CHECK(wnw_knn_self(x, &oi, done, &inf, &e) == 0 && wnw_knn_self(x, &orad, done, &rad, &e) == 0,
	      "inverted-file self-joins run");
	for (size_t i = 0; i < n; i++) {
		uint32_t m = 0;
		while (m < inf.n[i] && (double)inf.dist[i * K + m] * inf.dist[i * K + m] <= r2 * (1 - 1e-6))
			m++;
		inf.n[i] = m; /* hits at the radius itself: compared below from rad's side */
		if (rad.n[i] > m && (double)rad.dist[i * K + m] * rad.dist[i * K + m] >= r2 * (1 - 1e-6))
			rad.n[i] = m;
	}
	CHECK(same_lists(&inf, &rad, n), "inverted file with a radius: the hits within it of the one without");
	CHECK(sr.pairs < si.pairs / 2, "inverted file with a radius skips pairs (%llu of %llu compared)",
	      (unsigned long long)sr.pairs, (unsigned long long)si.pairs);
	lists_free(&inf);
	lists_free(&rad);
}

/* k-means gives the same bits on any number of threads. */
static void check_kmeans_threads(const struct wnw_vecs *x)
{
	uint32_t nl = 11;
	struct wnw_train train = {5, 16}; /* a sample of 176 rows */
	struct wnw_vecs c1, c2;
	uint32_t *a1 = malloc(x->rows * sizeof *a1), *a2 = malloc(x->rows * sizeof *a2);
	float *r1 = malloc(nl * nl * sizeof *r1), *r2 = malloc(nl * nl * sizeof *r2);
	struct wnw_pool *pool = wnw_pool_new(3);
	struct wnw_err e;
	CHECK(wnw_kmeans(x, nl, train, &c1, a1, r1, NULL, &e) == 0 &&
		      wnw_kmeans(x, nl, train, &c2, a2, r2, pool, &e) == 0,
	      "k-means runs on one and three threads");
	CHECK(memcmp(c1.v, c2.v, nl * x->d * sizeof(float)) == 0 && memcmp(a1, a2, x->rows * sizeof *a1) == 0 &&
		      memcmp(r1, r2, nl * nl * sizeof *r1) == 0,
	      "k-means: the same centroids, cells and reaches on one and three threads");
	int reach_ok = 1;
	for (size_t i = 0; i < x->rows; i++)
		for (uint32_t b = 0; b < nl; b++) {
			const float *xi = x->v + i * x->d;
			double t = 0;
			for (size_t j = 0; j < x->d; j++)
				t += (double)xi[j] * (c1.v[b * x->d + j] - c1.v[a1[i] * x->d + j]);
			reach_ok &= t <= r1[a1[i] * nl + b] + 1e-3;
		}
	CHECK(reach_ok, "k-means: no row reaches past its cell's reach towards another centroid");
	wnw_pool_free(pool);
	wnw_vecs_free(&c1);
	wnw_vecs_free(&c2);
	free(a1);
	free(a2);
	free(r1);
	free(r2);
}

int main(void)
{
	struct wnw_vecs x;
	size_t d = 24;
	double r = 2.2, r2 = r * r;
	fill_clusters(&x, 30, 40, d, r);
	struct lists want;
	lists_init(&want, x.rows);
	brute(&x, r2, &want);
	size_t within = 0;
	for (size_t i = 0; i < x.rows; i++)
		within += want.n[i] > 1;
	CHECK(within > x.rows / 2, "the data has neighbours within the radius (%zu of %zu rows)", within, x.rows);
	check_exact(&x, r2, 6, 1, &want);
	check_exact(&x, r2, 6, 2, &want);
	check_exact(&x, r2, 0, 2, &want); /* below the size that splits into cells: fine cells only */
	check_ivf(&x, r2);
	check_kmeans_threads(&x);
	lists_free(&want);
	wnw_vecs_free(&x);
	return unit_failed;
}
