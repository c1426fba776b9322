/* otgreedy.h: the TSDS probability assignment restricted to each query's K nearest candidates, solved
 * exactly by its greedy closed form (Liu, Karbasi, Rekatsinas, NeurIPS 2024; see ot-weight(1)).
 * Like the rest of common/, it never prints and never exits. */
#ifndef WINNOW_OTGREEDY_H
#define WINNOW_OTGREEDY_H

#include <stddef.h>

/* The problem: M queries, query j's candidates are entries start[j] .. start[j+1]-1, nearest first. */
struct wnw_ot_in {
	size_t m;            /* number of queries M >= 1 */
	const size_t *start; /* m + 1 offsets; every query has at least 2 entries */
	const double *d;     /* distance of each entry: finite, >= 0, non-decreasing within a query */
	const double *w;     /* density (kde) of each entry's candidate: finite, > 0 */
	double alpha;        /* trade-off in (0, 1): larger favours alignment cost over diversity */
	double c;            /* cost scale C > 0, on the scale of the embeddings' distances */
};

struct wnw_ot_out {
	double s;       /* the final value of the running sum taken from the queue */
	double cost;    /* E, the summed transport cost, when the loop ended */
	int stopped;    /* 1: (alpha/C) E >= (1-alpha) M ended the loop; 0: the queue ran empty */
	size_t steps;   /* entries taken from the queue */
	size_t *last;   /* caller-provided, m entries: L(j), the last kept candidate of query j */
	size_t nover;   /* queries whose kept candidates would have received more than 1/M in total
			   (by more than 1e-9 relative) and were scaled back to exactly 1/M */
	double maxover; /* the largest such total, in units of 1/M (1 when nover == 0) */
};

/* Runs the greedy procedure of ot-weight(1) and writes share[i], the probability mass that entry i
 * receives from its query, for every entry i in [0, start[m]). Queue ties go to the smaller t, then the
 * smaller j. With the final s, entries k = 0..L(j) of query j receive 1/(M s w), entry L(j)+1 receives
 * what is left of 1/M (never less than 0), later entries 0; a query whose kept entries would exceed 1/M
 * has them scaled to exactly 1/M. So every query's shares sum to 1/M and all shares to 1 (up to rounding).
 * Returns 0, or -1 when out of memory (errno set, share untouched). */
int wnw_ot_greedy(const struct wnw_ot_in *in, struct wnw_ot_out *out, double *share);

#endif
