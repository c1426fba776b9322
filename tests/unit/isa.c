/* Unit tests of isa.c: WINNOW_ISA's check, the cap on the level, and every kernel level the CPU has
 * giving the portable level's bits (the end-to-end form is tests/e2e/isa.sh). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "isa.h"
#include "knn.h"
#include "minhash.h"
#include "pursuit.h"
#include "rng.h"
#include "unit.h"

#define NV 97
#define DMAX 300

/* One pass of every dispatched kernel at the current level, its results in out (n words). */
static size_t run_kernels(const float *v, const uint8_t *bytes, size_t nb, uint32_t *out)
{
	static const size_t dims[] = {1, 7, 8, 16, 31, 64, 100, 256, 300};
	size_t n = 0;
	for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
		size_t d = dims[k];
		float f = wnw_knn_norm2(v, d);
		double g = wnw_knn_dist2(v, v + DMAX, d);
		float p = pur_dot(v, v + 2 * DMAX, (uint32_t)d);
		memcpy(&out[n++], &f, 4);
		memcpy(&out[n], &g, 8), n += 2;
		memcpy(&out[n++], &p, 4);
	}
	for (size_t len = 0; len < nb; len += len < 300 ? 1 : 4099)
		out[n++] = wnw_crc32(0, bytes, len);
	struct mh_perms pm;
	mh_perms_init(&pm, 256, 42);
	uint64_t h[NV];
	for (int i = 0; i < NV; i++)
		h[i] = (uint64_t)i * 0x9e3779b97f4a7c15u;
	mh_signature(&pm, h, NV, out + n);
	return n + 256;
}

/* The visits of one join: (query, candidate, d2) in the order made, and each query's nearest after it. */
struct visits {
	size_t n, cap;
	uint64_t *log;
	double near[64];
	uint32_t nearj[64];
};

static double log_visit(void *ctx, size_t qi, size_t xj, double d2)
{
	struct visits *vs = ctx;
	if (vs->n + 3 <= vs->cap) {
		vs->log[vs->n++] = qi;
		vs->log[vs->n++] = xj;
		memcpy(&vs->log[vs->n++], &d2, 8);
	}
	if (d2 < vs->near[qi] || (d2 == vs->near[qi] && xj < vs->nearj[qi])) {
		vs->near[qi] = d2;
		vs->nearj[qi] = (uint32_t)xj;
	}
	/* A limit that tightens as pairs are seen, as a top-K list's does: twice the nearest so far. */
	return 2.0 * vs->near[qi];
}

/* The fused join of q rows [q0, q1) (packed) against x at the current level, with limits that tighten. */
static void run_join(const struct wnw_vecs *q, size_t q0, size_t q1, const struct wnw_vecs *x, struct visits *vs)
{
	double limit[64];
	for (size_t i = 0; i < 64; i++) {
		limit[i] = INFINITY;
		vs->near[i] = INFINITY;
		vs->nearj[i] = 0;
	}
	vs->n = 0;
	float *g = malloc((q1 - q0) * x->rows * sizeof *g); /* the BLAS product's, at the portable level */
	wnw_knn_join(q, q0, q1, x, 0, x->rows, limit + q0, g, log_visit, vs);
	free(g);
}

/* Joins at every level the CPU has from AVX2 up visit the same pairs in the same order with the same
 * distances (the fused screens compute the same bits), and every level, the BLAS one included, ends with
 * the same nearest neighbours. Query ranges that start and end inside panels, and candidate counts that
 * leave a short group, take every branch of the kernels. */
static void check_joins(struct wnw_rng *s)
{
	static const size_t dims[] = {3, 16, 37, 256};
	static const size_t ranges[][2] = {{0, 64}, {0, 5}, {3, 40}, {9, 64}, {16, 48}, {0, 33}};
	struct visits base = {0, 1 << 20, NULL, {0}, {0}}, got = base;
	base.log = malloc(base.cap * sizeof *base.log);
	got.log = malloc(got.cap * sizeof *got.log);
	for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
		size_t d = dims[di];
		struct wnw_vecs q, x;
		wnw_vecs_init(&q, d);
		wnw_vecs_init(&x, d);
		float *row = malloc(d * sizeof *row);
		for (size_t i = 0; i < 64 + 203; i++) {
			for (size_t k = 0; k < d; k++)
				row[k] = (float)(wnw_rng_uniform(s) * 2.0 - 1.0);
			if (i >= 64 && i % 7 == 0) /* a copy of a query: a distance of 0 */
				memcpy(row, q.v + (i % 64) * d, d * sizeof *row);
			CHECK(wnw_vecs_add_raw(i < 64 ? &q : &x, (const uint8_t *)row, i) == -1, "row added");
		}
		CHECK(wnw_vecs_pack(&q) == 0, "queries packed");
		for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
			size_t q0 = ranges[r][0], q1 = ranges[r][1];
			wnw_isa_force(WNW_ISA_PORTABLE);
			run_join(&q, q0, q1, &x, &base);
			double near[64];
			uint32_t nearj[64];
			memcpy(near, base.near, sizeof near);
			memcpy(nearj, base.nearj, sizeof nearj);
			for (int l = WNW_ISA_AVX2; l <= wnw_isa_cpu(); l++) {
				wnw_isa_force(l);
				run_join(&q, q0, q1, &x, &got);
				CHECK(memcmp(near, got.near, sizeof near) == 0 && memcmp(nearj, got.nearj, sizeof nearj) == 0,
				      "d %zu, queries [%zu, %zu): level %s finds the portable level's nearest", d, q0, q1,
				      wnw_isa_name(l));
				if (l == WNW_ISA_AVX2) {
					base.n = got.n;
					memcpy(base.log, got.log, got.n * sizeof *got.log);
				} else
					CHECK(got.n == base.n && memcmp(base.log, got.log, got.n * sizeof *got.log) == 0,
					      "d %zu, queries [%zu, %zu): level %s visits as AVX2 does (%zu and %zu words)",
					      d, q0, q1, wnw_isa_name(l), got.n, base.n);
			}
		}
		free(row);
		wnw_vecs_free(&q);
		wnw_vecs_free(&x);
	}
	free(base.log);
	free(got.log);
}

int main(void)
{
	CHECK(strcmp(wnw_isa_name(WNW_ISA_PORTABLE), "portable") == 0 && strcmp(wnw_isa_name(WNW_ISA_AVX2), "avx2") == 0 &&
		      strcmp(wnw_isa_name(WNW_ISA_AVX512), "avx512") == 0 && strcmp(wnw_isa_name(7), "unknown") == 0,
	      "level names");

	struct wnw_err e = {0};
	unsetenv("WINNOW_ISA");
	CHECK(wnw_isa_check(&e) == 0, "WINNOW_ISA unset is accepted");
	setenv("WINNOW_ISA", "avx2", 1);
	CHECK(wnw_isa_check(&e) == 0, "WINNOW_ISA=avx2 is accepted");
	setenv("WINNOW_ISA", "AVX2\x1b", 1);
	CHECK(wnw_isa_check(&e) == -1 && e.status == WNW_EXIT_USAGE && strstr(e.msg, "'AVX2\\x1b'"),
	      "an unknown WINNOW_ISA is a usage error quoting it escaped: %s", e.msg);
	setenv("WINNOW_ISA", "portable", 1);
	CHECK(wnw_isa() == WNW_ISA_PORTABLE, "WINNOW_ISA=portable lowers the first choice");
	unsetenv("WINNOW_ISA");
	CHECK(wnw_isa() == WNW_ISA_PORTABLE, "the choice is made once");
	wnw_isa_force(WNW_ISA_AVX512);
	CHECK(wnw_isa() == wnw_isa_cpu(), "a forced level is capped at the CPU's (%s)", wnw_isa_name(wnw_isa_cpu()));

	struct wnw_rng s;
	wnw_rng_seed(&s, 1);
	float *v = malloc(3 * DMAX * sizeof *v);
	size_t nb = 70000;
	uint8_t *bytes = malloc(nb);
	for (size_t i = 0; i < 3 * DMAX; i++)
		v[i] = (float)(wnw_rng_uniform(&s) * 2.0 - 1.0) * (i % 5 == 0 ? 1000.0f : 1.0f);
	for (size_t i = 0; i < nb; i++)
		bytes[i] = (uint8_t)wnw_rng_next(&s);
	static uint32_t base[4096], got[4096];
	wnw_isa_force(WNW_ISA_PORTABLE);
	size_t n = run_kernels(v, bytes, nb, base);
	for (int l = WNW_ISA_AVX2; l <= wnw_isa_cpu(); l++) {
		wnw_isa_force(l);
		size_t m = run_kernels(v, bytes, nb, got);
		CHECK(m == n && memcmp(base, got, n * 4) == 0, "level %s gives the portable bits in %zu results",
		      wnw_isa_name(l), n);
	}
	check_joins(&s);
	printf("# levels on this CPU: portable to %s\n", wnw_isa_name(wnw_isa_cpu()));
	free(v);
	free(bytes);
	return unit_failed;
}
