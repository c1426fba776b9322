/* pwrite.c: parallel writing of a stream in order, through memory writers (par.h). */
#include <stdlib.h>

#include "par.h"

/* Chunks of about CHUNK_BYTES, ROUND chunks per thread at a time: enough that a thread slowed by other
 * work does not hold up the round, little enough that a round's memory stays small. */
#define CHUNK_BYTES ((size_t)1 << 20)
#define ROUND 2

struct chunk {
	size_t k0, k1; /* records [k0, k1) */
	struct wnw_writer *mem;
	struct wnw_err e;
	int bad;
};

struct round {
	struct chunk *ck;
	int (*build)(void *ctx, size_t k0, size_t k1, struct wnw_writer *mem, int thread, struct wnw_err *e);
	void *ctx;
};

static void build_chunk(void *ctx, size_t i, int thread)
{
	struct round *rd = ctx;
	struct chunk *c = &rd->ck[i];
	c->bad = rd->build(rd->ctx, c->k0, c->k1, c->mem, thread, &c->e) != 0;
}

/* Cuts the next round's chunks from record *k on; returns how many. */
static size_t cut_round(struct chunk *ck, size_t nc, size_t *k, size_t n, size_t (*size)(void *, size_t),
			void *ctx)
{
	size_t c = 0;
	for (; c < nc && *k < n; c++) {
		size_t bytes = 0;
		ck[c].k0 = *k;
		while (*k < n && bytes < CHUNK_BYTES)
			bytes += size(ctx, (*k)++);
		ck[c].k1 = *k;
	}
	return c;
}

int wnw_write_parallel(struct wnw_writer *w, const struct wnw_schema *s, struct wnw_pool *pool, size_t n,
		       size_t (*size)(void *ctx, size_t k),
		       int (*build)(void *ctx, size_t k0, size_t k1, struct wnw_writer *mem, int thread,
				    struct wnw_err *e),
		       void *ctx, struct wnw_err *e)
{
	size_t nc = (size_t)wnw_pool_threads(pool) * ROUND;
	struct round rd = {.ck = calloc(nc, sizeof *rd.ck), .build = build, .ctx = ctx};
	int rc = 0;

	if (rd.ck == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	for (size_t i = 0; i < nc && rc == 0; i++)
		if ((rd.ck[i].mem = wnw_writer_mem(s, e)) == NULL)
			rc = -1;
	for (size_t k = 0; k < n && rc == 0;) {
		size_t c = cut_round(rd.ck, nc, &k, n, size, ctx);
		wnw_pool_run(pool, c, build_chunk, &rd);
		for (size_t i = 0; i < c && rc == 0; i++)
			if (rd.ck[i].bad) {
				*e = rd.ck[i].e;
				rc = -1;
			} else {
				rc = wnw_writer_put(w, rd.ck[i].mem, e);
			}
	}
	for (size_t i = 0; i < nc; i++)
		wnw_writer_abort(rd.ck[i].mem);
	free(rd.ck);
	return rc;
}
