/* dupclust.h: clusters of duplicate records for dedup(1), in bounded memory. Records are added in
 * order with either a text and its hash (exact duplicates) or a MinHash signature (near duplicates);
 * keys go to an external sort, texts or signatures to a spooled temporary file; clustering then walks
 * the sorted keys, verifies each candidate pair and joins the pairs that pass with union-find.
 * Never prints, never exits. */
#ifndef WINNOW_DUPCLUST_H
#define WINNOW_DUPCLUST_H

#include <stddef.h>
#include <stdint.h>

#include "extsort.h"
#include "spool.h"
#include "winnow.h"

#define DUPS_MAX_RECORDS (UINT32_MAX - 2u)

struct wnw_dups {
	int minhash;            /* 0: exact texts; 1: signatures of perms values in bands bands */
	int perms, bands, need; /* need: agreeing positions a verified pair has, at least */
	int keep_by;            /* keep the largest key, not the first */
	struct wnw_xsort *xs;
	struct wnw_spool spool; /* texts or signatures by record */
	uint64_t n, cap;
	uint64_t *off;          /* exact: text offsets in the spool, n + 1 of them */
	double *key;            /* keep_by: the records' keys */
	uint32_t *parent, *keep; /* after clustering: each record's cluster root; keep[root] (keep_by) */
	uint64_t pairs, joined; /* candidate pairs verified, and joined */
};

/* minhash 0: exact; otherwise perms (a multiple of MH_LANES) in bands bands, a pair joined when its
 * signatures agree in at least need positions. mem: the sort's buffer. Returns 0 or -1. */
int wnw_dups_init(struct wnw_dups *d, int minhash, int perms, int bands, int need, int keep_by, size_t mem,
		  struct wnw_err *e);
/* Adds the next record: exact, its (normalised) text p[0 .. n) and the 128-bit hash of it as (hi, lo);
 * or minhash, its signature sig[0 .. perms). key is its --keep-by value (ignored unless keep_by).
 * Returns 0, or -1 (I/O, out of memory, more than DUPS_MAX_RECORDS records). */
int wnw_dups_add_text(struct wnw_dups *d, uint64_t hi, uint64_t lo, const void *p, size_t n, double key,
		      struct wnw_err *e);
int wnw_dups_add_sig(struct wnw_dups *d, const uint32_t *sig, double key, struct wnw_err *e);
/* Clusters the records added. Within a group of equal keys (in record order), exact: a record joins the
 * first earlier record of byte-equal text (a hash match alone never joins); minhash: a record joins the
 * group's first record if their signatures agree enough, else the record before it if theirs do (two
 * comparisons per record, so a crowded band key costs linear time). Returns 0 or -1. */
int wnw_dups_cluster(struct wnw_dups *d, struct wnw_err *e);
/* After clustering: the record kept for record i's cluster (the first, or the largest key, ties to the
 * first). */
static inline uint64_t wnw_dups_kept(const struct wnw_dups *d, uint64_t i)
{
	uint32_t r = d->parent[i];
	return d->keep ? d->keep[r] : r;
}
void wnw_dups_free(struct wnw_dups *d);

#endif
