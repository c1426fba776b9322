/* otgreedy.c: the greedy solution of the TSDS assignment (contract in otgreedy.h).
 *
 * Why the greedy is exact: for a fixed scale s, the optimal plan of query j sends mass 1/(M s w) to its
 * nearest candidates in order until its 1/M is used up, so the kept set of query j grows as s grows, one
 * candidate at a time, at the breakpoints S(j, t) = sum_{k<=t} 1/w(j,k). Taking the breakpoints of all
 * queries from one priority queue in increasing order visits the values of s in order; the transport
 * cost E(s) = sum_j (d(j, t+1) s - sum_{k<=t} d(j,k)/w(j,k)) only grows, so the first breakpoint where
 * (alpha/C) E reaches (1-alpha) M is where the objective stops improving. */
#include "otgreedy.h"

#include <stdlib.h>

struct qent {
	double s; /* S(j) at pointer t */
	size_t t;
	size_t j;
};

/* Queue order: smaller S first, then smaller t, then smaller j. */
static int qless(const struct qent *a, const struct qent *b)
{
	if (a->s != b->s)
		return a->s < b->s;
	if (a->t != b->t)
		return a->t < b->t;
	return a->j < b->j;
}

static void sift_down(struct qent *h, size_t n, size_t i)
{
	struct qent x = h[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && qless(&h[c + 1], &h[c]))
			c++;
		if (!qless(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/* The loop of the procedure: fills out->s, cost, stopped, steps and last[]. D(j) lives in dsum. */
static void run_queue(const struct wnw_ot_in *in, struct wnw_ot_out *out, struct qent *h, double *dsum,
		      double *e)
{
	const size_t m = in->m, *st = in->start;
	const double *d = in->d, *w = in->w;
	size_t n = m;
	for (size_t j = 0; j < m; j++) {
		h[j] = (struct qent){1.0 / w[st[j]], 0, j};
		dsum[j] = d[st[j]] / w[st[j]];
		e[j] = 0;
		out->last[j] = 0;
	}
	for (size_t i = n / 2; i-- > 0;)
		sift_down(h, n, i);
	double total = 0, s = 0;
	out->stopped = 0;
	out->steps = 0;
	while (n > 0) {
		struct qent top = h[0];
		size_t j = top.j, t = top.t, b = st[j], k = st[j + 1] - b;
		s = top.s;
		out->steps++;
		total -= e[j];
		e[j] = d[b + t + 1] * s - dsum[j];
		total += e[j];
		if (in->alpha / in->c * total >= (1 - in->alpha) * (double)m) {
			out->stopped = 1;
			break;
		}
		out->last[j] = t;
		/* The popped entry is the minimum and its successor is larger, so it replaces the root. */
		if (t + 2 < k) { /* t < K - 2: the pointer can move on */
			h[0] = (struct qent){s + 1.0 / w[b + t + 1], t + 1, j};
			dsum[j] += d[b + t + 1] / w[b + t + 1];
		} else {
			h[0] = h[--n];
		}
		if (n > 0)
			sift_down(h, n, 0);
	}
	out->s = s;
	out->cost = total;
}

/* Query j's shares for the final s, including the deliberate handling of the over-1/M case. */
static void assign(const struct wnw_ot_in *in, struct wnw_ot_out *out, size_t j, double *share)
{
	const size_t m = in->m, b = in->start[j], k = in->start[j + 1] - b, last = out->last[j];
	const double *w = in->w, s = out->s;
	double sum = 0;
	for (size_t i = 0; i < k; i++)
		share[b + i] = 0;
	for (size_t i = 0; i <= last; i++) {
		share[b + i] = 1.0 / (double)m / s / w[b + i];
		sum += share[b + i];
	}
	double left = 1.0 / (double)m - sum;
	if (left < 0) {
		/* Only a query the loop never reached can get here (its first breakpoint lies above s, so
		 * 1/(M s w(j,0)) > 1/M): its plan at scale s would send more than its mass. Scale back. */
		double over = sum * (double)m;
		if (over > 1 + 1e-9) {
			out->nover++;
			if (over > out->maxover)
				out->maxover = over;
		}
		double f = 1.0 / (double)m / sum;
		for (size_t i = 0; i <= last; i++)
			share[b + i] *= f;
		left = 0;
	}
	share[b + last + 1] = left;
}

int wnw_ot_greedy(const struct wnw_ot_in *in, struct wnw_ot_out *out, double *share)
{
	size_t m = in->m;
	struct qent *h = malloc(m * sizeof *h);
	double *dsum = malloc(m * sizeof *dsum), *e = malloc(m * sizeof *e);
	if (!h || !dsum || !e) {
		free(h);
		free(dsum);
		free(e);
		return -1;
	}
	run_queue(in, out, h, dsum, e);
	out->nover = 0;
	out->maxover = 1;
	for (size_t j = 0; j < m; j++)
		assign(in, out, j, share);
	free(h);
	free(dsum);
	free(e);
	return 0;
}
