/* dupclust.c: keys, verification and union-find of duplicate clusters (dupclust.h).
 * A sort key is a struct wnw_pair: a = the text hash's high 64 bits (exact) or the band key (minhash);
 * b = 32 more bits of the text hash, or the band number, above the record's index. Equal keys are the a
 * and the high half of b; the index in the low half puts a group's members in record order and makes
 * the order total, so the clusters never depend on how the sort spilled. */
#include "dupclust.h"

#include <stdlib.h>
#include <string.h>

#include "minhash.h"
#include "unionfind.h"

#define INDEX(b) ((b) & 0xFFFFFFFFu)

int wnw_dups_init(struct wnw_dups *d, int minhash, int perms, int bands, int need, int keep_by, size_t mem,
		  struct wnw_err *e)
{
	memset(d, 0, sizeof *d);
	d->minhash = minhash;
	d->perms = perms;
	d->bands = bands;
	d->need = need;
	d->keep_by = keep_by;
	d->xs = wnw_xsort_new(sizeof(struct wnw_pair), NULL, mem, NULL, e);
	if (d->xs == NULL || wnw_spool_open(&d->spool, NULL, e) < 0) {
		wnw_dups_free(d);
		return -1;
	}
	return 0;
}

static int room(struct wnw_dups *d, struct wnw_err *e)
{
	if (d->n >= DUPS_MAX_RECORDS)
		return wnw_errf(e, WNW_EXIT_DATA, "more than %u records", DUPS_MAX_RECORDS);
	if (d->n + 2 <= d->cap)
		return 0;
	size_t c = d->cap ? 2 * d->cap : 65536;
	uint64_t *off = d->minhash ? d->off : realloc(d->off, c * sizeof *off);
	if (off != NULL)
		d->off = off;
	double *key = !d->keep_by ? d->key : realloc(d->key, c * sizeof *key);
	if (key != NULL)
		d->key = key;
	if ((!d->minhash && off == NULL) || (d->keep_by && key == NULL))
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for %zu records", c);
	d->cap = c;
	return 0;
}

static int add_key(struct wnw_dups *d, uint64_t a, uint64_t b, struct wnw_err *e)
{
	struct wnw_pair k = {a, (b << 32) | d->n};
	return wnw_xsort_add(d->xs, &k, e);
}

int wnw_dups_add_text(struct wnw_dups *d, uint64_t hi, uint64_t lo, const void *p, size_t n, double key,
		      struct wnw_err *e)
{
	if (room(d, e) < 0)
		return -1;
	d->off[d->n] = d->spool.size;
	if (add_key(d, hi, lo >> 32, e) < 0 || wnw_spool_add(&d->spool, p, n, e) < 0)
		return -1;
	if (d->keep_by)
		d->key[d->n] = key;
	d->off[++d->n] = d->spool.size;
	return 0;
}

int wnw_dups_add_sig(struct wnw_dups *d, const uint32_t *sig, double key, struct wnw_err *e)
{
	int r = d->perms / d->bands;
	if (room(d, e) < 0)
		return -1;
	for (int b = 0; b < d->bands; b++)
		if (add_key(d, mh_band_key(sig, b, r), (uint64_t)b, e) < 0)
			return -1;
	if (wnw_spool_add(&d->spool, sig, (size_t)d->perms * 4, e) < 0)
		return -1;
	if (d->keep_by)
		d->key[d->n] = key;
	d->n++;
	return 0;
}

static int same_text(struct wnw_dups *d, uint64_t a, uint64_t b)
{
	uint64_t na = d->off[a + 1] - d->off[a], nb = d->off[b + 1] - d->off[b];
	return na == nb &&
	       memcmp(wnw_spool_at(&d->spool, d->off[a], na), wnw_spool_at(&d->spool, d->off[b], nb), na) == 0;
}

static const uint32_t *signature(struct wnw_dups *d, uint64_t a)
{
	size_t bytes = (size_t)d->perms * 4;
	return (const uint32_t *)(const void *)wnw_spool_at(&d->spool, a * bytes, bytes);
}

static int near(struct wnw_dups *d, uint64_t a, uint64_t b)
{
	const uint32_t *sa = signature(d, a);
	return mh_agree(sa, signature(d, b), d->perms, d->need);
}

/* One group of equal keys being walked. */
struct group {
	uint64_t *reps; /* exact: the group's distinct texts so far (one, unless 128-bit hashes collide) */
	size_t nreps, cap;
	uint64_t first, prev;
};

static void join(struct wnw_dups *d, uint64_t a, uint64_t b)
{
	d->joined += (uint64_t)wnw_uf_union(d->parent, (uint32_t)a, (uint32_t)b);
}

static int add_exact(struct wnw_dups *d, struct group *g, uint64_t idx, struct wnw_err *e)
{
	for (size_t k = 0; k < g->nreps; k++) {
		d->pairs++;
		if (same_text(d, g->reps[k], idx)) {
			join(d, g->reps[k], idx);
			return 0;
		}
	}
	if (g->nreps == g->cap) {
		size_t c = g->cap ? 2 * g->cap : 8;
		uint64_t *r = realloc(g->reps, c * sizeof *r);
		if (r == NULL)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		g->reps = r;
		g->cap = c;
	}
	g->reps[g->nreps++] = idx;
	return 0;
}

static void add_near(struct wnw_dups *d, struct group *g, uint64_t idx)
{
	d->pairs++;
	if (near(d, g->first, idx))
		join(d, g->first, idx);
	else if (g->prev != g->first && (d->pairs++, near(d, g->prev, idx)))
		join(d, g->prev, idx);
	g->prev = idx;
}

static int walk(struct wnw_dups *d, struct wnw_err *e)
{
	struct group g = {0};
	const struct wnw_pair *k;
	struct wnw_pair last = {0, 0};
	int got, any = 0, rc = 0;
	while (rc == 0 && (got = wnw_xsort_next(d->xs, (const void **)&k, e)) == 1) {
		uint64_t idx = INDEX(k->b);
		if (!any || k->a != last.a || k->b >> 32 != last.b >> 32) {
			g.nreps = 0;
			g.first = g.prev = idx;
			if (!d->minhash)
				rc = add_exact(d, &g, idx, e);
		} else if (d->minhash) {
			add_near(d, &g, idx);
		} else {
			rc = add_exact(d, &g, idx, e);
		}
		last = *k;
		any = 1;
	}
	free(g.reps);
	return rc < 0 || got < 0 ? -1 : 0;
}

int wnw_dups_cluster(struct wnw_dups *d, struct wnw_err *e)
{
	if (wnw_xsort_finish(d->xs, e) < 0 || wnw_spool_map(&d->spool, e) < 0)
		return -1;
	d->parent = malloc((d->n + 1) * sizeof *d->parent);
	d->keep = d->keep_by ? malloc((d->n + 1) * sizeof *d->keep) : NULL;
	if (d->parent == NULL || (d->keep_by && d->keep == NULL))
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for %llu records", (unsigned long long)d->n);
	for (uint64_t i = 0; i < d->n; i++)
		d->parent[i] = (uint32_t)i;
	if (walk(d, e) < 0)
		return -1;
	for (uint64_t i = 0; i < d->n; i++)
		d->parent[i] = wnw_uf_find(d->parent, (uint32_t)i);
	for (uint64_t i = 0; d->keep && i < d->n; i++) { /* a root comes first in its cluster */
		uint32_t r = d->parent[i];
		if (r == i || d->key[i] > d->key[d->keep[r]])
			d->keep[r] = (uint32_t)i;
	}
	return 0;
}

void wnw_dups_free(struct wnw_dups *d)
{
	wnw_xsort_free(d->xs);
	wnw_spool_close(&d->spool);
	free(d->off);
	free(d->key);
	free(d->parent);
	free(d->keep);
	memset(d, 0, sizeof *d);
}
