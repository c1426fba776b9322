/* unionfind.h: disjoint sets over record indices 0 .. n-1, for clustering duplicates. The root of a set
 * is always its smallest index (union links the larger root under the smaller), so "the first record of
 * a cluster" is its root and the result never depends on the order of the unions. */
#ifndef WINNOW_UNIONFIND_H
#define WINNOW_UNIONFIND_H

#include <stdint.h>

static inline uint32_t wnw_uf_find(uint32_t *parent, uint32_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]]; /* path halving */
		i = parent[i];
	}
	return i;
}

/* Joins the sets of a and b; returns 1 when they were apart. */
static inline int wnw_uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
	a = wnw_uf_find(parent, a);
	b = wnw_uf_find(parent, b);
	if (a == b)
		return 0;
	if (a < b)
		parent[b] = a;
	else
		parent[a] = b;
	return 1;
}

#endif
