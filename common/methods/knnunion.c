/* knnunion.c: the union of knn-build's query lists: its records' slots, reading them again, merge mode's
 * lists by query id, and the writing of the union with its pairs (see knnunion.h). */
#include "knnunion.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "sort.h"

/* realloc that leaves p as it was when it fails. */
static void *resize(void *p, size_t n, struct wnw_err *e)
{
	void *np = realloc(p, n ? n : 1);
	if (np == NULL)
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory (%zu bytes)", n);
	return np;
}

void wnw_knn_events_push(struct wnw_knn_events *ev, uint32_t slot)
{
	if (ev->nout == ev->capout) {
		size_t cap = ev->capout ? 2 * ev->capout : 1024;
		uint32_t *p = realloc(ev->out, cap * sizeof *p);
		if (!p) {
			ev->oom = 1;
			return;
		}
		ev->out = p;
		ev->capout = cap;
	}
	ev->out[ev->nout++] = slot;
}

void wnw_knn_events_free(struct wnw_knn_events *ev)
{
	free(ev->ins);
	free(ev->out);
}

int wnw_knn_lists_init(struct wnw_knn_lists *l, uint64_t *qid, size_t m, uint32_t k, struct wnw_err *e)
{
	*l = (struct wnw_knn_lists){.qid = qid, .m = m, .k = k};
	if (!(l->top = calloc(m ? m : 1, sizeof *l->top)))
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory (%zu x %zu bytes)", m, sizeof *l->top);
	for (size_t i = 0; i < m; i++)
		if (wnw_topk_init(&l->top[i], k) != 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	return 0;
}

int wnw_knn_lists_find(struct wnw_knn_lists *l, uint64_t q, size_t *at, struct wnw_err *e)
{
	size_t lo = 0, hi = l->m;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->qid[mid] < q)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	if (lo < l->m && l->qid[lo] == q)
		return 0;
	if (l->m == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		uint64_t *qid = resize(l->qid, cap * sizeof *qid, e);
		if (!qid)
			return -1;
		l->qid = qid;
		struct wnw_topk *top = resize(l->top, cap * sizeof *top, e);
		if (!top)
			return -1;
		l->top = top;
		l->cap = cap;
	}
	memmove(l->qid + lo + 1, l->qid + lo, (l->m - lo) * sizeof *l->qid);
	memmove(l->top + lo + 1, l->top + lo, (l->m - lo) * sizeof *l->top);
	l->qid[lo] = q;
	if (wnw_topk_init(&l->top[lo], l->k) != 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	l->m++;
	return 0;
}

void wnw_knn_lists_free(struct wnw_knn_lists *l)
{
	for (size_t j = 0; j < l->m; j++)
		wnw_topk_free(&l->top[j]);
	free(l->top);
	if (l->cap)
		free(l->qid);
}

int wnw_knn_union_init(struct wnw_knn_union *u, const struct wnw_reader *r, int fid, uint64_t budget,
		       struct wnw_err *e)
{
	*u = (struct wnw_knn_union){.r = r, .fid = fid, .fv = -1};
	if ((u->store = wnw_store_new(budget, e)) == NULL || (u->view = wnw_store_view_new(e)) == NULL)
		return -1;
	return 0;
}

int wnw_knn_union_in_place(struct wnw_knn_union *u, struct wnw_err *e)
{
	int fd = wnw_reader_fd(u->r);
	wnw_store_source(u->store, fd, wnw_reader_schema(u->r));
	u->in_place = 1;
	if (fstat(fd, &u->first) != 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: %s", wnw_reader_name(u->r), strerror(errno));
	return 0;
}

void wnw_knn_union_free(struct wnw_knn_union *u)
{
	wnw_store_view_free(u->view);
	wnw_store_free(u->store);
	free(u->mem);
	free(u->free);
}

int64_t wnw_knn_union_take(struct wnw_knn_union *u, struct wnw_err *e)
{
	if (u->nfree)
		return u->free[--u->nfree];
	if (u->nmem == u->capmem) {
		size_t cap = u->capmem ? 2 * u->capmem : 1024;
		struct wnw_knn_member *mem = resize(u->mem, cap * sizeof *mem, e);
		if (!mem)
			return -1;
		u->mem = mem;
		uint32_t *fr = resize(u->free, cap * sizeof *fr, e);
		if (!fr)
			return -1;
		u->free = fr;
		u->capmem = cap;
	}
	if (u->nmem >= UINT32_MAX)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "more than 2^32 records in the union");
	u->mem[u->nmem].refs = 0;
	return (int64_t)u->nmem++;
}

int wnw_knn_union_fill(struct wnw_knn_union *u, uint32_t slot, const struct wnw_knn_member *m,
		       const struct wnw_rec *rec, struct wnw_err *e)
{
	if (!m->refs) {
		u->free[u->nfree++] = slot;
		return 0;
	}
	int64_t h = rec ? wnw_store_add(u->store, rec, e) : 0;
	if (h < 0)
		return -1;
	u->mem[slot] = *m;
	if (rec)
		u->mem[slot].at = (uint64_t)h;
	return 0;
}

int wnw_knn_union_drop(struct wnw_knn_union *u, uint32_t slot, struct wnw_err *e)
{
	if (slot >= u->nmem || u->mem[slot].refs == 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "internal error: lost track of slot %u", slot);
	if (--u->mem[slot].refs == 0) {
		if (!u->in_place && wnw_store_drop(u->store, u->mem[slot].at, e) != 0)
			return -1;
		u->free[u->nfree++] = slot;
	}
	return 0;
}

int wnw_knn_union_drop_out(struct wnw_knn_union *u, struct wnw_knn_events *ev, struct wnw_err *e)
{
	if (ev->oom)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	for (size_t i = 0; i < ev->nout; i++)
		if (wnw_knn_union_drop(u, ev->out[i], e) != 0)
			return -1;
	ev->nout = 0;
	return 0;
}

/* CRC-32 takes the whole blocks at the carry-less fold's speed; zlib's byte-wise tail, a call for a few
 * bytes, cost a third as much again on records of 1 KB (d = 256). Any change to one of the tail's
 * words changes the product, a multiplication by an odd constant being one-to-one. */
uint32_t wnw_knn_record_sum(const uint8_t *p, uint32_t len)
{
	uint32_t body = len & ~15u;
	uint64_t t[2] = {0, 0};
	memcpy(t, p + body, len - body);
	uint64_t h = (t[0] ^ (uint64_t)len << 40) * 0x9e3779b97f4a7c15u ^ t[1] * 0xc2b2ae3d27d4eb4fu;
	return wnw_crc32(0, p, body) ^ (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* The error of member m, naming the input and record. */
static int member_error(const struct wnw_knn_union *u, const struct wnw_knn_member *m, const struct wnw_err *why,
			struct wnw_err *e)
{
	return wnw_errf(e, why->status, "%s: record %llu: %s", wnw_reader_name(u->r), (unsigned long long)m->seq + 1,
			why->msg);
}

int wnw_knn_union_get(const struct wnw_knn_union *u, struct wnw_store_view *v, const struct wnw_knn_member *m,
		      uint64_t upto, struct wnw_rec *rec, struct wnw_err *e)
{
	struct wnw_err why;
	*rec = (struct wnw_rec){.schema = wnw_reader_schema(u->r), .number = m->seq + 1};
	if (!v)
		v = u->view;
	if (!u->in_place) {
		if (wnw_store_view_get(u->store, v, m->at, u->fid, m->id, rec, &why) != 0)
			return member_error(u, m, &why, e);
		return 0;
	}
	if (wnw_store_view_source(u->store, v, m->at, m->len, upto, u->fid, m->id, rec, &why) != 0)
		return member_error(u, m, &why, e);
	if (wnw_knn_record_sum(rec->data, rec->len) != m->sum) {
		wnw_errf(&why, WNW_EXIT_DATA, "read again, its bytes differ from those first read: "
			 "the file changed during the run");
		return member_error(u, m, &why, e);
	}
	return 0;
}

int wnw_knn_union_unchanged(const struct wnw_knn_union *u, struct wnw_err *e)
{
	struct stat now, byname;
	const char *name = wnw_reader_name(u->r);
	if (!u->in_place)
		return 0;
	if (fstat(wnw_reader_fd(u->r), &now) != 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: %s", name, strerror(errno));
	int same = now.st_dev == u->first.st_dev && now.st_ino == u->first.st_ino &&
		   now.st_size == u->first.st_size && now.st_mtim.tv_sec == u->first.st_mtim.tv_sec &&
		   now.st_mtim.tv_nsec == u->first.st_mtim.tv_nsec;
	if (same && strcmp(name, "stdin") != 0 && stat(name, &byname) == 0)
		same = byname.st_dev == now.st_dev && byname.st_ino == now.st_ino;
	if (!same)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: the file changed during the run (its size, time or identity "
				"differ): run again on a file left alone", name);
	return 0;
}

/* What wnw_topk_finish's distance function needs, one per thread: query j's exact squared distance to a
 * hit's record, read through the thread's view; the first error stops the thread's other lists. */
struct finishing {
	const struct wnw_knn_union *u;
	struct wnw_knn_lists *l;
	struct wnw_store_view *view;
	size_t j;
	float *v;
	struct wnw_err e;
	size_t bad; /* the list of the first error, or SIZE_MAX */
};

static double finish_d2(void *ctx, const struct wnw_hit *h)
{
	struct finishing *f = ctx;
	const struct wnw_vecs *q = f->u->q;
	struct wnw_rec rec;
	if (f->bad != SIZE_MAX || wnw_knn_union_get(f->u, f->view, &f->u->mem[h->tag], 0, &rec, &f->e) != 0) {
		if (f->bad == SIZE_MAX)
			f->bad = f->j;
		return 0;
	}
	wnw_get_vec(&rec, f->u->fv, f->v);
	return wnw_knn_dist2(q->v + f->j * q->d, f->v, q->d);
}

/* wnw_pool_run's item: finishes list j with the calling thread's finishing. */
static void finish_list(void *ctx, size_t j, int thread)
{
	struct finishing *f = (struct finishing *)ctx + thread;
	if (f->bad != SIZE_MAX)
		return;
	f->j = j;
	if (wnw_topk_finish(&f->l->top[j], finish_d2, f) != 0 && f->bad == SIZE_MAX) {
		wnw_errf(&f->e, WNW_EXIT_SYSTEM, "out of memory");
		f->bad = j;
	}
}

int wnw_knn_union_finish(struct wnw_knn_union *u, struct wnw_knn_lists *l, struct wnw_pool *pool, struct wnw_err *e)
{
	size_t nt = pool ? (size_t)wnw_pool_threads(pool) : 1, first = SIZE_MAX;
	struct finishing *f = calloc(nt, sizeof *f);
	int rc = f ? 0 : wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	for (size_t t = 0; t < nt && rc == 0; t++) {
		f[t] = (struct finishing){.u = u, .l = l, .bad = SIZE_MAX};
		if (!(f[t].view = wnw_store_view_new(e)) || !(f[t].v = resize(NULL, (u->q->d + 1) * sizeof(float), e)))
			rc = -1;
	}
	if (rc == 0) {
		/* Lists are independent: threads finish them in any order. The error reported is that of the
		 * first list with one, as one thread would report it (a thread stops at its first). */
		if (pool)
			wnw_pool_run(pool, l->m, finish_list, f);
		else
			for (size_t j = 0; j < l->m; j++)
				finish_list(f, j, 0);
		for (size_t t = 0; t < nt; t++)
			if (f[t].bad < first) {
				first = f[t].bad;
				*e = f[t].e;
			}
		rc = first != SIZE_MAX ? -1 : 0;
	}
	/* The hits dropped, after all lists are done: slots and their counts are not the threads'. */
	for (size_t j = 0; j < l->m && rc == 0; j++)
		for (uint32_t k = 0; k < l->top[j].ndrop && rc == 0; k++)
			rc = wnw_knn_union_drop(u, l->top[j].h[l->top[j].n + k].tag, e);
	for (size_t t = 0; f && t < nt; t++) {
		wnw_store_view_free(f[t].view);
		free(f[t].v);
	}
	free(f);
	return rc;
}

static int cmp_u64_idx(const void *a, const void *b, void *ctx)
{
	const uint64_t *key = ctx;
	uint64_t x = key[*(const size_t *)a], y = key[*(const size_t *)b];
	return x < y ? -1 : x > y;
}

/* Orders live[0..n) by ascending record id. */
static int sort_by_id(const struct wnw_knn_union *u, uint32_t *live, size_t n, struct wnw_err *e)
{
	struct wnw_keyed *a = resize(NULL, (n ? n : 1) * sizeof *a, e);
	if (!a)
		return -1;
	for (size_t i = 0; i < n; i++)
		a[i] = (struct wnw_keyed){u->mem[live[i]].id, live[i]};
	int rc = wnw_sort_keyed(a, n) != 0 ? wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory") : 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		live[i] = a[i].val;
	free(a);
	return rc;
}

/* A hit on its way to its record's pairs: its slot, list and distance. */
struct pairhit {
	uint32_t slot, j;
	float dist;
};

/* Each list's hits to its records' pairs, the lists taken in ascending query id. Placing each hit at its
 * slot's next free place writes all over arrays larger than the cache, so the hits are first dealt, in
 * order, into 256 runs by slot range; each run's places then lie close together. */
static int fill_pairs(const struct wnw_knn_lists *l, struct wnw_knn_pairs *pr, size_t ns, struct wnw_err *e)
{
	size_t np = pr->start[ns], at[257] = {0};
	int shift = 0;
	while ((ns - 1) >> shift >= 256)
		shift++;
	struct pairhit *run = resize(NULL, (np ? np : 1) * sizeof *run, e);
	size_t *fill = calloc(ns ? ns : 1, sizeof *fill);
	size_t *qord = resize(NULL, (l->m ? l->m : 1) * sizeof *qord, e);
	int rc = run && fill && qord ? 0 : wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	for (size_t j = 0; j < l->m && rc == 0; j++) {
		qord[j] = j;
		for (uint32_t k = 0; k < l->top[j].n; k++)
			at[(l->top[j].h[k].tag >> shift) + 1]++;
	}
	if (rc == 0) {
		qsort_r(qord, l->m, sizeof *qord, cmp_u64_idx, l->qid);
		for (int r = 0; r < 256; r++)
			at[r + 1] += at[r];
	}
	for (size_t jj = 0; jj < l->m && rc == 0; jj++) {
		const struct wnw_topk *t = &l->top[qord[jj]];
		for (uint32_t k = 0; k < t->n; k++)
			run[at[t->h[k].tag >> shift]++] = (struct pairhit){t->h[k].tag, (uint32_t)qord[jj], t->h[k].dist};
	}
	for (size_t i = 0; i < np && rc == 0; i++) {
		size_t to = pr->start[run[i].slot] + fill[run[i].slot]++;
		pr->nbq[to] = run[i].j;
		pr->nb[to] = (struct wnw_nbr){l->qid[run[i].j], run[i].dist};
	}
	free(run);
	free(fill);
	free(qord);
	return rc;
}

int wnw_knn_union_pairs(const struct wnw_knn_union *u, const struct wnw_knn_lists *l,
			struct wnw_knn_pairs *pr, struct wnw_err *e)
{
	size_t ns = u->nmem;
	*pr = (struct wnw_knn_pairs){0};
	if (!(pr->start = resize(NULL, (ns + 1) * sizeof *pr->start, e)) ||
	    !(pr->live = resize(NULL, (ns ? ns : 1) * sizeof *pr->live, e)))
		return -1;
	pr->start[0] = 0;
	for (size_t i = 0; i < ns; i++) { /* offsets from the reference counts (free slots have none) */
		pr->start[i + 1] = pr->start[i] + u->mem[i].refs;
		if (u->mem[i].refs)
			pr->live[pr->n++] = (uint32_t)i;
	}
	size_t np = pr->start[ns] ? pr->start[ns] : 1;
	if (!(pr->nb = resize(NULL, np * sizeof *pr->nb, e)) || !(pr->nbq = resize(NULL, np * sizeof *pr->nbq, e)))
		return -1;
	if (fill_pairs(l, pr, ns, e) != 0)
		return -1;
	return sort_by_id(u, pr->live, pr->n, e);
}

size_t wnw_knn_pairs_repeat(const struct wnw_knn_union *u, const struct wnw_knn_pairs *pr)
{
	for (size_t k = 1; k < pr->n; k++)
		if (u->mem[pr->live[k - 1]].id == u->mem[pr->live[k]].id)
			return k;
	return 0;
}

void wnw_knn_pairs_free(struct wnw_knn_pairs *pr)
{
	free(pr->start);
	free(pr->live);
	free(pr->nb);
	free(pr->nbq);
}

/* One writing thread's buffers. */
struct builder {
	struct wnw_store_view *view;
	float *v;
};

struct writing {
	const struct wnw_knn_union *u;
	const struct wnw_edit *ed;
	struct wnw_knn_pairs *pr;
	struct builder *bld; /* one per thread */
};

/* Completes the distances of member m's pairs p (lists q) that are not yet exact, from its record. */
static void exact_pairs(const struct wnw_knn_union *u, const struct wnw_rec *rec, const struct wnw_knn_member *m,
			struct wnw_nbr *p, const uint32_t *q, float *v)
{
	size_t d = u->q->d;
	for (uint32_t k = 0, have = 0; k < m->refs; k++) {
		if (p[k].dist >= 0)
			continue;
		if (!have++)
			wnw_get_vec(rec, u->fv, v);
		p[k].dist = (float)sqrt(wnw_knn_dist2(u->q->v + q[k] * d, v, d));
	}
}

/* In place, the records from the k-th of the writing order on that are worth reading from the input file
 * at once (in file order, gaps of at most WNW_STORE_GAP, within WNW_STORE_SPAN): sets *next to the
 * first past them and returns where they end. */
static uint64_t span(const struct wnw_knn_union *u, const uint32_t *live, size_t k, size_t k1, size_t *next)
{
	const struct wnw_knn_member *m = &u->mem[live[k]];
	uint64_t end = m->at + m->len;
	for (k++; k < k1; k++) {
		const struct wnw_knn_member *x = &u->mem[live[k]];
		if (x->at < end || x->at - end > WNW_STORE_GAP || x->at + x->len - m->at > WNW_STORE_SPAN)
			break;
		end = x->at + x->len;
	}
	*next = k;
	return end;
}

/* Writes records [k0, k1) of the writing order to the memory writer w (wnw_write_parallel's build). */
static int build_chunk(void *ctx, size_t k0, size_t k1, struct wnw_writer *w, int thread, struct wnw_err *named)
{
	struct writing *wr = ctx;
	const struct wnw_knn_union *u = wr->u;
	struct builder *b = &wr->bld[thread];
	const uint32_t *live = wr->pr->live;
	uint64_t upto = 0;
	for (size_t k = k0, next = k; k < k1; k++) {
		const struct wnw_knn_member *m = &u->mem[live[k]];
		struct wnw_rec rec;
		struct wnw_err e;
		if (u->in_place && k == next)
			upto = span(u, live, k, k1, &next);
		if (!u->in_place && k + 2 < k1) /* records lie anywhere in memory: fetch ahead of their turn */
			wnw_store_prefetch(u->store, u->mem[live[k + 2]].at);
		if (wnw_knn_union_get(u, b->view, m, upto, &rec, named) != 0)
			return -1;
		size_t at = wr->pr->start[live[k]];
		exact_pairs(u, &rec, m, wr->pr->nb + at, wr->pr->nbq + at, b->v);
		wnw_edit_begin(w, &rec, wr->ed);
		wnw_writer_nbr(w, wr->pr->nb + at, m->refs);
		if (wnw_edit_end(w, &rec, wr->ed, &e) != 0)
			return member_error(u, m, &e, named);
	}
	return 0;
}

/* The bytes of the k-th record of the writing order, about. */
static size_t chunk_size(void *ctx, size_t k)
{
	const struct writing *wr = ctx;
	const struct wnw_knn_union *u = wr->u;
	const struct wnw_knn_member *m = &u->mem[wr->pr->live[k]];
	return (u->in_place ? m->len : wnw_store_size(u->store, m->at)) + (size_t)m->refs * sizeof *wr->pr->nb;
}

int wnw_knn_union_write(const struct wnw_knn_union *u, struct wnw_knn_pairs *pr, const struct wnw_edit *ed,
			struct wnw_writer *w, const struct wnw_schema *out, struct wnw_pool *pool,
			struct wnw_err *e)
{
	size_t nt = (size_t)wnw_pool_threads(pool);
	struct writing wr = {.u = u, .ed = ed, .pr = pr, .bld = calloc(nt, sizeof *wr.bld)};
	int rc = wr.bld ? 0 : wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	for (size_t t = 0; t < nt && rc == 0; t++) {
		if (!(wr.bld[t].view = wnw_store_view_new(e)) ||
		    !(wr.bld[t].v = resize(NULL, (u->q->d + 1) * sizeof(float), e)))
			rc = -1;
	}
	if (rc == 0)
		rc = wnw_write_parallel(w, out, pool, pr->n, chunk_size, build_chunk, &wr, e);
	for (size_t t = 0; wr.bld && t < nt; t++) {
		wnw_store_view_free(wr.bld[t].view);
		free(wr.bld[t].v);
	}
	free(wr.bld);
	return rc;
}
