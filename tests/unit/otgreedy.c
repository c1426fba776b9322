/* Unit tests of common/otgreedy.c: hand-traced lists (stopping, an empty queue, both tie rules, the
 * over-1/M case), and random problems against a second formulation that sorts every breakpoint
 * instead of using a priority queue. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "otgreedy.h"
#include "rng.h"
#include "unit.h"

struct prob {
	size_t m, start[8];
	double d[64], w[64], share[64];
	size_t last[8];
	struct wnw_ot_out out;
};

static void solve(struct prob *p, double alpha, double c)
{
	struct wnw_ot_in in = {p->m, p->start, p->d, p->w, alpha, c};
	p->out = (struct wnw_ot_out){.last = p->last};
	if (wnw_ot_greedy(&in, &p->out, p->share) != 0)
		abort();
}

/* Query j has k entries with the given distances and densities (w NULL: all 1). */
static void add(struct prob *p, size_t j, size_t k, const double *d, const double *w)
{
	p->m = j + 1;
	p->start[j + 1] = p->start[j] + k;
	for (size_t i = 0; i < k; i++) {
		p->d[p->start[j] + i] = d[i];
		p->w[p->start[j] + i] = w ? w[i] : 1;
	}
}

static int shares_are(const struct prob *p, const double *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fabs(p->share[i] - want[i]) > 1e-15) {
			printf("#   share[%zu] = %.17g, want %.17g\n", i, p->share[i], want[i]);
			return 0;
		}
	return 1;
}

static void test_one_query(void)
{
	struct prob p = {0};
	add(&p, 0, 3, (double[]){0, 1, 3}, NULL);
	/* C = 1: the first step costs E = 1 and (0.5/1) * 1 >= 0.5 * 1 stops at s = 1. */
	solve(&p, 0.5, 1);
	CHECK(p.out.stopped && p.out.steps == 1 && p.out.s == 1 && p.last[0] == 0, "stops at the first step");
	CHECK(shares_are(&p, (double[]){1, 0, 0}, 3), "everything on the nearest candidate");
	/* C = 2: step 1 E = 1 goes on; step 2 at s = 2 makes E = 3*2 - 1 = 5 and stops; L stays 0. */
	solve(&p, 0.5, 2);
	CHECK(p.out.stopped && p.out.steps == 2 && p.out.s == 2 && p.out.cost == 5 && p.last[0] == 0,
	      "stops at the second step with E = 5");
	CHECK(shares_are(&p, (double[]){0.5, 0.5, 0}, 3), "1/(M s w) kept, the rest to the next");
	/* C = 100: never stops; t reaches K - 2 = 1 and the queue runs empty with s = 2, L = 1. */
	solve(&p, 0.5, 100);
	CHECK(!p.out.stopped && p.out.steps == 2 && p.out.s == 2 && p.last[0] == 1, "the queue runs empty");
	CHECK(shares_are(&p, (double[]){0.5, 0.5, 0}, 3), "the last candidate gets only what is left");
}

static void test_ties(void)
{
	/* alpha 0.5, C 2.5, M 2: stop when 0.2 E >= 1, i.e. E >= 5. Equal S and t: the smaller j goes first.
	 * Pops: (1,0,0) E = 1, (1,0,1) E = 2, (2,1,0) E = 2 - 1 + (2*2 - 1) = 4 < 5 so L(0) = 1, then
	 * (2,1,1) E = 4 - 1 + (3*2 - 1) = 8 stops. Taking (2,1,1) first would stop at E = 6 with L(0) = 0. */
	struct prob p = {0};
	add(&p, 0, 3, (double[]){0, 1, 2}, NULL);
	add(&p, 1, 3, (double[]){0, 1, 3}, NULL);
	solve(&p, 0.5, 2.5);
	CHECK(p.out.stopped && p.out.steps == 4 && p.out.cost == 8 && p.out.s == 2,
	      "tie on S and t: four steps, E = 8, s = 2");
	CHECK(p.last[0] == 1 && p.last[1] == 0, "tie on S and t goes to the smaller j");
	CHECK(shares_are(&p, (double[]){0.25, 0.25, 0, 0.25, 0.25, 0}, 6), "tie case shares");

	/* C 1.5: stop when E >= 3. Equal S, different t: (2,0,1) (w = 0.5) goes before (2,1,0). Pops:
	 * (1,0,0) E = 1; then (2,0,1) E = 1 + 1*2 = 3 stops with L = (0, 0). Taking (2,1,0) first would give
	 * E = 1 - 1 + (1.5*2 - 1) = 2 and keep L(0) = 1. */
	struct prob q = {0};
	add(&q, 0, 3, (double[]){0, 1, 1.5}, NULL);
	add(&q, 1, 3, (double[]){0, 1, 1}, (double[]){0.5, 1, 1});
	solve(&q, 0.5, 1.5);
	CHECK(q.out.stopped && q.out.steps == 2 && q.out.s == 2 && q.out.cost == 3,
	      "tie on S: two steps, E = 3, s = 2");
	CHECK(q.last[0] == 0 && q.last[1] == 0, "tie on S goes to the smaller t");
	/* q0: 1/(2*2*1) = 0.25 and 0.25 left; q1: 1/(2*2*0.5) = 0.5 = 1/M, nothing left. */
	CHECK(shares_are(&q, (double[]){0.25, 0.25, 0, 0.5, 0, 0}, 6), "tie on S: shares");
	CHECK(q.out.nover == 0 && q.out.maxover == 1, "no query over 1/M");
}

static void test_over(void)
{
	/* alpha 0.9, C 0.01: the first step (s = 1) stops at once. Query 1 (w = 0.25, first breakpoint 4)
	 * was never reached: 1/(M s w) = 2 > 1/M = 0.5, so its share is scaled back to 0.5. */
	struct prob p = {0};
	add(&p, 0, 3, (double[]){0, 1, 2}, NULL);
	add(&p, 1, 3, (double[]){0, 1, 2}, (double[]){0.25, 1, 1});
	solve(&p, 0.9, 0.01);
	CHECK(p.out.stopped && p.out.steps == 1 && p.out.s == 1, "stops at the first step");
	CHECK(p.out.nover == 1 && p.out.maxover == 4, "one query over 1/M, by a factor 4");
	CHECK(shares_are(&p, (double[]){0.5, 0, 0, 0.5, 0, 0}, 6), "scaled back to exactly 1/M");
}

/* The same procedure written as a sort of all breakpoints (S(j,t), t, j), t <= K-2, instead of a queue. */
struct bp {
	double s;
	size_t t, j;
};

static int bp_cmp(const void *a, const void *b)
{
	const struct bp *x = a, *y = b;
	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->j < y->j ? -1 : x->j > y->j;
}

static double sorted_version(const struct wnw_ot_in *in, size_t *last)
{
	size_t n = 0, m = in->m;
	struct bp *all = malloc(in->start[m] * sizeof *all);
	double *dsum = calloc(m, sizeof *dsum), *e = calloc(m, sizeof *e);
	for (size_t j = 0; j < m; j++) {
		double s = 0;
		for (size_t t = 0; in->start[j] + t + 1 < in->start[j + 1]; t++) {
			s += 1.0 / in->w[in->start[j] + t];
			all[n++] = (struct bp){s, t, j};
		}
		last[j] = 0;
	}
	qsort(all, n, sizeof *all, bp_cmp);
	double total = 0, s = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j = all[i].j, t = all[i].t, b = in->start[j];
		s = all[i].s;
		dsum[j] += in->d[b + t] / in->w[b + t];
		total -= e[j];
		e[j] = in->d[b + t + 1] * s - dsum[j];
		total += e[j];
		if (in->alpha / in->c * total >= (1 - in->alpha) * (double)m)
			break;
		last[j] = t;
	}
	free(all);
	free(dsum);
	free(e);
	return s;
}

static void test_random(void)
{
	struct wnw_rng r;
	wnw_rng_seed(&r, 2024);
	int agree = 1, sums = 1, nonneg = 1;
	for (int trial = 0; trial < 300; trial++) {
		size_t m = 1 + wnw_rng_below(&r, 20), n = 0;
		size_t *start = malloc((m + 1) * sizeof *start);
		start[0] = 0;
		for (size_t j = 0; j < m; j++)
			start[j + 1] = start[j] + 2 + wnw_rng_below(&r, 30);
		n = start[m];
		double *d = malloc(n * sizeof *d), *w = malloc(n * sizeof *w), *share = malloc(n * sizeof *share);
		for (size_t j = 0; j < m; j++) {
			double x = 0;
			for (size_t i = start[j]; i < start[j + 1]; i++) {
				/* Some repeated distances and densities to exercise ties. */
				x += wnw_rng_below(&r, 4) == 0 ? 0 : wnw_rng_uniform(&r);
				d[i] = x;
				w[i] = 1 + (double)wnw_rng_below(&r, 5);
			}
		}
		double alpha = 0.05 + 0.9 * wnw_rng_uniform(&r), c = 0.01 + 20 * wnw_rng_uniform(&r);
		struct wnw_ot_in in = {m, start, d, w, alpha, c};
		size_t *last = malloc(m * sizeof *last), *last2 = malloc(m * sizeof *last2);
		struct wnw_ot_out out = {.last = last};
		if (wnw_ot_greedy(&in, &out, share) != 0)
			abort();
		double s2 = sorted_version(&in, last2);
		agree &= s2 == out.s;
		for (size_t j = 0; j < m; j++) {
			agree &= last[j] == last2[j];
			double q = 0;
			for (size_t i = start[j]; i < start[j + 1]; i++) {
				q += share[i];
				nonneg &= share[i] >= 0;
			}
			sums &= fabs(q - 1.0 / (double)m) < 1e-13;
		}
		free(start);
		free(d);
		free(w);
		free(share);
		free(last);
		free(last2);
	}
	CHECK(agree, "300 random problems: the queue and the sorted breakpoints give the same s and L");
	CHECK(sums, "every query's shares sum to 1/M");
	CHECK(nonneg, "no share is negative");
}

int main(void)
{
	test_one_query();
	test_ties();
	test_over();
	test_random();
	return unit_failed;
}
