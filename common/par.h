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
int wnw_pool_threads(const struct wnw_pool *p);
void wnw_pool_free(struct wnw_pool *p);

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
