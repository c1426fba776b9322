/* par.c: a small thread pool that runs one function over the items of a batch (par.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "par.h"

/* wnw_pool_run's items go out in chunks of up to this many so that threads rarely meet on the counter;
 * fewer when the batch is small, so that every thread gets a share. */
#define GRAIN 16

/* A thread that runs out of work spins this many pauses (about 0.1 ms) before it sleeps. */
#define SPINS 4096

struct wnw_pool {
	int n;
	pthread_t *tids;
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	/* the job being run: per item (item) or per range (range) */
	void (*item)(void *ctx, size_t i, int thread);
	void (*range)(void *ctx, size_t from, size_t to, int thread);
	void *ctx;
	size_t items, most;
	_Atomic size_t next;
	_Atomic unsigned generation;
	_Atomic int busy; /* threads besides the caller still on the job */
	_Atomic int quit;
};

struct worker_arg {
	struct wnw_pool *p;
	int id;
};

static void spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Takes the next range [*from, *to) of the job; 0 when none is left. */
static int take(struct wnw_pool *p, size_t *from, size_t *to)
{
	size_t at = atomic_load_explicit(&p->next, memory_order_relaxed), take;
	do {
		if (at >= p->items)
			return 0;
		size_t left = p->items - at;
		if (p->range == NULL) {
			take = p->items / (4 * (size_t)p->n);
			take = take < 1 ? 1 : take > GRAIN ? GRAIN : take;
		} else if (p->n == 1) {
			take = left;
		} else {
			take = left / (2 * (size_t)p->n);
			take = take > p->most ? p->most : take < 2 ? 2 : take;
		}
		take = take < left ? take : left;
	} while (!atomic_compare_exchange_weak_explicit(&p->next, &at, at + take, memory_order_relaxed,
							memory_order_relaxed));
	*from = at;
	*to = at + take;
	return 1;
}

static void run_share(struct wnw_pool *p, int id)
{
	size_t from, to;
	while (take(p, &from, &to))
		if (p->range)
			p->range(p->ctx, from, to, id);
		else
			for (size_t i = from; i < to; i++)
				p->item(p->ctx, i, id);
}

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct wnw_pool *p = wa->p;
	int id = wa->id;
	unsigned seen = 0;

	free(wa);
	for (;;) {
		for (int i = 0; i < SPINS && !p->quit && p->generation == seen; i++)
			spin_pause();
		pthread_mutex_lock(&p->mu);
		while (!p->quit && p->generation == seen)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->quit) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		seen = p->generation;
		pthread_mutex_unlock(&p->mu);
		run_share(p, id);
		pthread_mutex_lock(&p->mu);
		if (atomic_fetch_sub(&p->busy, 1) == 1)
			pthread_cond_signal(&p->idle);
		pthread_mutex_unlock(&p->mu);
	}
}

struct wnw_pool *wnw_pool_new(int nthreads)
{
	struct wnw_pool *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->n = nthreads < 1 ? 1 : nthreads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->tids = calloc((size_t)p->n, sizeof *p->tids);
	if (p->tids == NULL) {
		free(p);
		return NULL;
	}
	for (int i = 1; i < p->n; i++) {
		struct worker_arg *wa = malloc(sizeof *wa);
		if (wa == NULL)
			goto fail;
		wa->p = p;
		wa->id = i;
		if (pthread_create(&p->tids[i], NULL, worker, wa) != 0) {
			free(wa);
			goto fail;
		}
	}
	return p;
fail:
	wnw_pool_free(p);
	return NULL;
}

int wnw_pool_threads(const struct wnw_pool *p) { return p->n; }

static void start_job(struct wnw_pool *p, size_t n, size_t most, void (*item)(void *, size_t, int),
		      void (*range)(void *, size_t, size_t, int), void *ctx)
{
	pthread_mutex_lock(&p->mu);
	p->item = item;
	p->range = range;
	p->ctx = ctx;
	p->items = n;
	p->most = most < 2 ? 2 : most;
	atomic_store(&p->next, 0);
	atomic_store(&p->busy, p->n - 1);
	p->generation++;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
}

void wnw_pool_start(struct wnw_pool *p, size_t n, size_t most,
		    void (*fn)(void *ctx, size_t from, size_t to, int thread), void *ctx)
{
	start_job(p, n, most, NULL, fn, ctx);
}

void wnw_pool_finish(struct wnw_pool *p)
{
	run_share(p, 0);
	for (int i = 0; i < SPINS && p->busy > 0; i++)
		spin_pause();
	pthread_mutex_lock(&p->mu);
	while (p->busy > 0)
		pthread_cond_wait(&p->idle, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void wnw_pool_run(struct wnw_pool *p, size_t n, void (*fn)(void *ctx, size_t i, int thread), void *ctx)
{
	if (p->n == 1 || n <= 1) {
		for (size_t i = 0; i < n; i++)
			fn(ctx, i, 0);
		return;
	}
	start_job(p, n, 0, fn, NULL, ctx);
	wnw_pool_finish(p);
}

void wnw_pool_free(struct wnw_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 1; i < p->n; i++)
		if (p->tids[i])
			pthread_join(p->tids[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	free(p->tids);
	free(p);
}

void wnw_batch_init(struct wnw_batch *b)
{
	memset(b, 0, sizeof *b);
}

/* Record pointers are kept as offsets while the batch grows and fixed up after each reallocation. */
static void rebase(struct wnw_batch *b)
{
	size_t at = 0;
	for (size_t i = 0; i < b->n; i++) {
		b->recs[i].data = b->buf + at;
		b->recs[i].off = b->offs + i * (b->nfields + 1);
		at += b->recs[i].len;
	}
}

int wnw_batch_add(struct wnw_batch *b, const struct wnw_rec *rec)
{
	uint32_t nf = rec->schema->nfields;

	if (b->n > 0 && nf != b->nfields)
		return -1;
	b->nfields = nf;
	int moved = 0;
	if (b->n == b->cap) {
		size_t ncap = b->cap ? 2 * b->cap : 256;
		struct wnw_rec *nr = realloc(b->recs, ncap * sizeof *nr);
		if (nr == NULL)
			return -1;
		b->recs = nr;
		uint32_t *no = realloc(b->offs, ncap * (nf + 1) * sizeof *no);
		if (no == NULL)
			return -1;
		b->offs = no;
		b->cap = ncap;
		moved = 1;
	}
	if (b->used + rec->len > b->size) {
		size_t nsize = b->size ? 2 * b->size : 1u << 20;
		while (nsize < b->used + rec->len)
			nsize *= 2;
		uint8_t *nb = realloc(b->buf, nsize);
		if (nb == NULL)
			return -1;
		b->buf = nb;
		b->size = nsize;
		moved = 1;
	}
	if (moved)
		rebase(b);
	struct wnw_rec *r = &b->recs[b->n];
	memcpy(b->buf + b->used, rec->data, rec->len);
	memcpy(b->offs + b->n * (nf + 1), rec->off, (nf + 1) * sizeof *b->offs);
	*r = *rec;
	r->data = b->buf + b->used;
	r->off = b->offs + b->n * (nf + 1);
	b->used += rec->len;
	b->n++;
	return 0;
}

void wnw_batch_clear(struct wnw_batch *b)
{
	b->n = 0;
	b->used = 0;
}

void wnw_batch_free(struct wnw_batch *b)
{
	free(b->recs);
	free(b->offs);
	free(b->buf);
	wnw_batch_init(b);
}
