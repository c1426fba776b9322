/* par.h: -j N threads with output in input order. A program reads a batch of records (copies, since a
 * reader reuses its buffer), runs a function over the batch on a pool of threads, then writes the
 * results in batch order, so the bytes written never depend on the thread count. */
#ifndef WINNOW_PAR_H
#define WINNOW_PAR_H

#include <stddef.h>
#include <stdint.h>

#include "winnow.h"

struct wnw_pool;

/* nthreads >= 1 counts the calling thread; returns NULL only when out of memory or threads. */
struct wnw_pool *wnw_pool_new(int nthreads);
/* Calls fn(ctx, i, thread) for every i in [0, n) and returns when all calls have returned.
 * thread is in [0, nthreads): use it to index per-thread scratch state. Items go out in chunks. */
void wnw_pool_run(struct wnw_pool *p, size_t n, void (*fn)(void *ctx, size_t i, int thread), void *ctx);
/* The same work in two halves, for a caller with work of its own meanwhile: wnw_pool_start hands the
 * items [0, n) to the other threads as ranges fn(ctx, from, to, thread) and returns at once;
 * wnw_pool_finish makes the caller (thread 0) join in, then waits until every range has returned.
 * A range is a share of the items left that shrinks as they run out (at most `most` items, at least
 * two), so that the threads finish close together; with one thread, the caller's range is all n.
 * Idle threads spin briefly before they sleep, since waking a sleeping thread costs more than the
 * tail of a short job. */
void wnw_pool_start(struct wnw_pool *p, size_t n, size_t most,
		    void (*fn)(void *ctx, size_t from, size_t to, int thread), void *ctx);
void wnw_pool_finish(struct wnw_pool *p);
int wnw_pool_threads(const struct wnw_pool *p);
void wnw_pool_free(struct wnw_pool *p);

/* Writes records [0, n) to w (schema s) in order, built by the pool's threads at once: they are cut
 * into chunks of about a megabyte (size(ctx, k) estimates record k's bytes), build(ctx, k0, k1, mem,
 * thread, e) writes records [k0, k1) into the memory writer mem (wnw_writer_mem), and the chunks are
 * put into w in order (wnw_writer_put). Memory: about 2 MB per thread besides what build holds.
 * Returns 0, or -1 with e from the first chunk that failed (in writing order), or from w. */
int wnw_write_parallel(struct wnw_writer *w, const struct wnw_schema *s, struct wnw_pool *pool, size_t n,
		       size_t (*size)(void *ctx, size_t k),
		       int (*build)(void *ctx, size_t k0, size_t k1, struct wnw_writer *mem, int thread,
				    struct wnw_err *e),
		       void *ctx, struct wnw_err *e);

/* A batch of copied records; recs[i] stays valid until wnw_batch_clear or wnw_batch_free. */
struct wnw_batch {
	size_t n, cap;
	struct wnw_rec *recs;
	uint8_t *buf;      /* record bytes */
	size_t used, size;
	uint32_t *offs;    /* field offsets, nfields + 1 per record */
	uint32_t nfields;
};

void wnw_batch_init(struct wnw_batch *b);
/* Copies rec into the batch; returns -1 when out of memory. */
int wnw_batch_add(struct wnw_batch *b, const struct wnw_rec *rec);
void wnw_batch_clear(struct wnw_batch *b);
void wnw_batch_free(struct wnw_batch *b);
/* Bytes of record data held, to bound a batch by memory as well as by count. */
static inline size_t wnw_batch_bytes(const struct wnw_batch *b) { return b->used; }

#endif
