/* knnunion.h: the union of knn-build's query lists: every record some list holds, kept while one does
 * (copied into a wnw_store, or only its place in a plain input file), the lists of merge mode found by
 * query id, and the writing of the union, each record with its (query id, distance) pairs.
 * Never prints, never exits: errors come back in struct wnw_err, worded as the program shows them. */
#ifndef WINNOW_KNNUNION_H
#define WINNOW_KNNUNION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "knn.h"
#include "knnstore.h"
#include "par.h"
#include "winnow.h"

/* A record of the union, kept while some query's list holds it. Hits carry its slot as their tag, so
 * a hit pushed out of a list finds its record at once; free slots are reused. */
struct wnw_knn_member {
	uint64_t seq;  /* 0-based position in the input */
	uint64_t id;
	uint64_t at;   /* its handle in the store, or (in place) its offset in the input file */
	uint32_t refs; /* how many lists hold it; 0: free */
	uint32_t len;  /* its bytes (used in place) */
	uint32_t sum;  /* in place: wnw_knn_record_sum of its bytes as first read, checked when read again */
};

/* A checksum of a record's len bytes at p, for finding a record whose bytes changed between two reads:
 * the CRC-32 of its whole 16-byte blocks, the last len % 16 bytes mixed in by a multiplication. */
uint32_t wnw_knn_record_sum(const uint8_t *p, uint32_t len);

/* What offers to the lists did: per row of a block, the lists it entered (ins, the caller's); the slots
 * of hits pushed out of a list (out); oom when one could not be recorded. */
struct wnw_knn_events {
	uint32_t *ins;
	uint32_t *out;
	size_t nout, capout;
	int oom;
};

/* Appends slot to ev->out (ev->oom set when it cannot grow). */
void wnw_knn_events_push(struct wnw_knn_events *ev, uint32_t slot);
/* Records what an offer to list t did (r from wnw_topk_offer): the row entered it (*ins counts it),
 * hits were pushed out (their tags go to ev->out), or the list could not grow (ev->oom). Inline: the
 * search calls it for every pair that passes the screen. */
static inline void wnw_knn_events_record(struct wnw_knn_events *ev, const struct wnw_topk *t, int r,
					 uint32_t *ins)
{
	if (r < 0)
		ev->oom = 1;
	if (r != 0)
		(*ins)++;
	for (uint32_t k = 0; (r == 2 || r < 0) && k < t->ndrop; k++)
		wnw_knn_events_push(ev, t->h[t->n + k].tag);
}
void wnw_knn_events_free(struct wnw_knn_events *ev);

/* One list per query: top[i] holds the hits of query qid[i]. */
struct wnw_knn_lists {
	struct wnw_topk *top;
	uint64_t *qid;
	size_t m;
	size_t cap; /* merge mode's room; nonzero when qid is the lists' own */
	uint32_t k;
};

/* m lists of k for the query ids qid (the caller's, kept while the lists are). -1: out of memory. */
int wnw_knn_lists_init(struct wnw_knn_lists *l, uint64_t *qid, size_t m, uint32_t k, struct wnw_err *e);
/* Merge mode: the lists are kept in ascending query id; sets *at to the list of query id q, adding an
 * empty one when q is new. -1: out of memory. */
int wnw_knn_lists_find(struct wnw_knn_lists *l, uint64_t q, size_t *at, struct wnw_err *e);
void wnw_knn_lists_free(struct wnw_knn_lists *l);

/* The records of the union, in slots, read from (and named in messages by) the input r. */
struct wnw_knn_union {
	const struct wnw_reader *r;
	int fid;                     /* r's id field */
	int fv;                      /* its vector field; -1 when every distance is exact (merge mode) */
	const struct wnw_vecs *q;    /* the queries, whose distances to records are made exact */
	struct wnw_knn_member *mem;  /* slots */
	size_t nmem, capmem;
	uint32_t *free;              /* free slots, a stack */
	size_t nfree;
	struct wnw_store *store;
	struct wnw_store_view *view; /* the calling thread's, for reading the store */
	int in_place;                /* records are read again from the input file, not kept in the store */
	struct stat first;           /* in place: the input file when the run began */
};

/* An empty union of the records of r (id field fid), copies kept in memory up to budget bytes. */
int wnw_knn_union_init(struct wnw_knn_union *u, const struct wnw_reader *r, int fid, uint64_t budget,
		       struct wnw_err *e);
/* Records will be read again from r, a plain file (wnw_reader_fd(r) >= 0), instead of copied; notes the
 * file as it is now, for wnw_knn_union_unchanged. */
int wnw_knn_union_in_place(struct wnw_knn_union *u, struct wnw_err *e);
void wnw_knn_union_free(struct wnw_knn_union *u);

/* A free slot, not yet holding a record; -1 when out of memory or past 2^32 slots. */
int64_t wnw_knn_union_take(struct wnw_knn_union *u, struct wnw_err *e);
/* Gives slot the record m (m->refs lists hold it), or frees the slot when no list does. rec: the bytes
 * to copy into the store (m->at is then replaced by their handle); NULL in place (m->at: the offset in
 * the input file). */
int wnw_knn_union_fill(struct wnw_knn_union *u, uint32_t slot, const struct wnw_knn_member *m,
		       const struct wnw_rec *rec, struct wnw_err *e);
/* One list less holds slot's record; at none, its slot is freed. */
int wnw_knn_union_drop(struct wnw_knn_union *u, uint32_t slot, struct wnw_err *e);
/* wnw_knn_union_drop for every hit of ev->out, which is then emptied; -1 also when ev->oom. */
int wnw_knn_union_drop_out(struct wnw_knn_union *u, struct wnw_knn_events *ev, struct wnw_err *e);

/* Makes rec the record of member m, read through view v (NULL: the union's own; one per thread). A
 * record read again from the input file must still hold its id and its first bytes (WNW_EXIT_DATA); upto
 * is wnw_store_view_source's. Errors name the input and the record. */
int wnw_knn_union_get(const struct wnw_knn_union *u, struct wnw_store_view *v, const struct wnw_knn_member *m,
		      uint64_t upto, struct wnw_rec *rec, struct wnw_err *e);
/* In place, before the output is put in place: the input must still be the same file (device and inode,
 * by descriptor and by name), of the same size and modification time (else WNW_EXIT_DATA). */
int wnw_knn_union_unchanged(const struct wnw_knn_union *u, struct wnw_err *e);

/* Sorts every list by exact distance and cuts it to K; the distances needed are made exact from the
 * records (u->fv), those of hits that are among the K best whatever they are stay not exact. The lists
 * are shared among the pool's threads (NULL: this one alone); the result does not depend on how. */
int wnw_knn_union_finish(struct wnw_knn_union *u, struct wnw_knn_lists *l, struct wnw_pool *pool,
			 struct wnw_err *e);

/* The union's records and their pairs: live[0..n) the slots in ascending record id; slot s has the pairs
 * nb[start[s] .. start[s] + refs), in ascending query id, from the lists nbq[...] (a negative distance
 * is not yet exact). */
struct wnw_knn_pairs {
	uint32_t *live;
	size_t n;
	size_t *start;
	struct wnw_nbr *nb;
	uint32_t *nbq;
};

/* Gathers the pairs of the lists (finished) by record. */
int wnw_knn_union_pairs(const struct wnw_knn_union *u, const struct wnw_knn_lists *l,
			struct wnw_knn_pairs *pr, struct wnw_err *e);
/* The first k > 0 whose records live[k - 1] and live[k] have the same id, or 0 when no id repeats. */
size_t wnw_knn_pairs_repeat(const struct wnw_knn_union *u, const struct wnw_knn_pairs *pr);
void wnw_knn_pairs_free(struct wnw_knn_pairs *pr);

/* Writes the union to w (schema out, edit ed: field nbr set) in the order of pr->live, each record with
 * nbr = its pairs, the distances not yet exact computed from it; built by the pool's threads in chunks
 * (wnw_write_parallel), so the bytes do not depend on the thread count. */
int wnw_knn_union_write(const struct wnw_knn_union *u, struct wnw_knn_pairs *pr, const struct wnw_edit *ed,
			struct wnw_writer *w, const struct wnw_schema *out, struct wnw_pool *pool,
			struct wnw_err *e);

#endif
