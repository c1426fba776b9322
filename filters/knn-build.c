/* knn-build: exact K nearest neighbours of every query among a streamed pool; writes the union of all
 * queries' lists, each candidate with field nbr = its (query id, distance) pairs. See knn-build(1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crc.h"
#include "knn.h"
#include "knnstore.h"
#include "par.h"
#include "prog.h"
#include "sort.h"

enum { OPT_MERGE = WNW_OPT_LONG, OPT_FIELD, OPT_BLOCK };

static const struct option longopts[] = {
	{"queries", required_argument, NULL, 'q'},
	{"neighbours", required_argument, NULL, 'k'},
	{"merge", no_argument, NULL, OPT_MERGE},
	{"buffer-size", required_argument, NULL, 'S'},
	{"field", required_argument, NULL, OPT_FIELD},
	{"block", required_argument, NULL, OPT_BLOCK},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "knn-build",
	.synopsis = "-q QUERIES -k K [-S SIZE] [--field NAME] [--block N] [-j N] [-o FILE] [-z [LEVEL]]\n"
		    "                 [POOL]\n"
		    "       knn-build --merge -k K [-S SIZE] [-o FILE] [-z [LEVEL]] [FILE]",
	.help = "  -q, --queries FILE    the query stream (fields id and vec), held in memory\n"
		"  -k, --neighbours K    neighbours kept per query\n"
		"      --merge           merge knn-build outputs of shards of one pool (read from the input)\n"
		"  -S, --buffer-size SIZE  memory for kept records copied from a pipe or zstd before they spill\n"
		"                        to $TMPDIR (default 1G; a plain file's are read again from it)\n"
		"      --field NAME      the vector field (default vec)\n"
		"      --block N         pool records per block (default: chosen from the query count)\n",
	.shortopts = "q:k:S:",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

struct opts {
	const char *queries, *field;
	uint32_t k;
	int merge;
	uint64_t budget;
	size_t block;
};

/* A record of the union, kept while some query's list holds it. Hits carry its slot as their tag, so
 * a hit pushed out of a list finds its record at once; free slots are reused. */
struct member {
	uint64_t seq; /* 0-based position in the input */
	uint64_t id;
	uint64_t at;  /* its handle in the store, or (in place) its offset in the input file */
	uint32_t refs; /* how many lists hold it; 0: free */
	uint32_t len;  /* in place: its bytes */
	uint32_t sum;  /* in place: CRC-32 of its bytes as first read, checked when they are read again */
};

/* What one part of the queries did to the lists during a block. */
struct events {
	uint32_t *ins;  /* per block row: lists it entered */
	uint32_t *out;  /* slots of hits pushed out of a list */
	size_t nout, capout;
	int oom;
};

struct state {
	struct wnw_cmd *cmd;
	struct opts o;
	struct wnw_vecs q;       /* the queries (single run) */
	uint64_t *qid;           /* query ids, by list index */
	size_t m, mcap;
	struct wnw_topk *top;    /* one list per query */
	struct member *mem;     /* slots */
	size_t nmem, capmem;
	uint32_t *free;         /* free slots, a stack */
	size_t nfree;
	struct wnw_store *store;
	struct wnw_store_view *view; /* this thread's, for reading the store */
	struct wnw_pool *pool;      /* -j N threads, this one included */
	int in_place;            /* records are read again from the input file, not kept in the store */
	struct stat first;       /* in place: the input file when the run began */
	uint64_t seq;            /* input records seen */
};

/* One searching thread's state: the block being searched (set by aim_parts), the queries [q0, q1) of the
 * item at hand, and its events. Events go to ev[par], par the block's parity, so that the events of one
 * block are applied while the next is searched. */
struct part {
	struct state *st;
	const struct wnw_vecs *x;
	const uint32_t *slot; /* the slot reserved for each row of the block */
	uint64_t seq0;
	size_t q0, q1;
	double *limit;
	float *g;
	float *seed; /* the seeding pass's upper bounds, a panel of queries by the first block */
	int par;
	struct events ev[2];
};

static void ev_push(struct events *ev, uint32_t slot)
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

/* Records what an offer to list t did (r from wnw_topk_offer): the row entered it (*ins), hits were
 * pushed out (their slots), or the list could not grow. */
static void record(struct events *ev, const struct wnw_topk *t, int r, uint32_t *ins)
{
	if (r < 0)
		ev->oom = 1;
	if (r != 0)
		(*ins)++;
	for (uint32_t k = 0; (r == 2 || r < 0) && k < t->ndrop; k++)
		ev_push(ev, t->h[t->n + k].tag);
}

/* Offers the pair (query qi, row xj of the block), its exact squared distance within [lo, hi], to the
 * query's list; returns its new limit. The exact distances wait until the end (or a crowded list). */
static double visit(void *ctx, size_t qi, size_t xj, double lo, double hi)
{
	struct part *p = ctx;
	struct wnw_topk *t = &p->st->top[qi];
	struct wnw_hit h = {.tag = p->slot[xj], .id = p->x->id[xj], .ref = p->seq0 + xj};
	record(&p->ev[p->par], t, wnw_topk_offer_bounds(t, &h, lo, hi), &p->ev[p->par].ins[xj]);
	return wnw_topk_limit(t);
}

static void run_part(struct part *p)
{
	for (size_t i = p->q0; i < p->q1; i++)
		p->limit[i] = wnw_topk_limit(&p->st->top[i]);
	wnw_knn_join_bounds(&p->st->q, p->q0, p->q1, p->x, 0, p->x->rows, p->limit + p->q0, p->g, visit, p);
}

/* The seeding pass records every upper bound of a panel's pairs. */
static double seed_visit(void *ctx, size_t qi, size_t xj, double lo, double hi)
{
	struct part *p = ctx;
	(void)lo;
	float f = (float)(hi * (1.0 + 0x1p-23)); /* rounded up */
	p->seed[(qi % 16) * p->x->rows + xj] = f;
	return INFINITY;
}

/* Seeds the lists of queries [q0, q1) from the first block, a panel of 16 at a time (see search). */
static void seed_part(struct part *p)
{
	size_t rows = p->x->rows;
	for (size_t a = p->q0; a < p->q1; a = (a / 16 + 1) * 16) {
		size_t b = (a / 16 + 1) * 16 < p->q1 ? (a / 16 + 1) * 16 : p->q1;
		for (size_t i = a; i < b; i++)
			p->limit[i] = INFINITY;
		wnw_knn_join_bounds(&p->st->q, a, b, p->x, 0, rows, p->limit + a, p->g, seed_visit, p);
		for (size_t i = a; i < b; i++)
			wnw_topk_seed(&p->st->top[i], p->seed + (i % 16) * rows, rows);
	}
}

/* A block is searched as ranges of query panels of 16 (the packing of the queries), which the pool's
 * threads take in turn as they come free (wnw_pool_start), so that a thread slowed by other work on
 * the machine does not hold the others back. Each query is in one range, so its candidates are still
 * offered in order, and the lists do not depend on who searched what. */
struct searching {
	struct part *parts; /* one per thread of the pool; parts[0] is the reading thread's */
	size_t m;
	int seeding; /* the ranges are seed_part's, not run_part's */
};

static void search_panels(void *ctx, size_t a, size_t b, int thread)
{
	struct searching *sg = ctx;
	struct part *p = &sg->parts[thread];
	p->q0 = 16 * a;
	p->q1 = 16 * b < sg->m ? 16 * b : sg->m;
	if (sg->seeding)
		seed_part(p);
	else
		run_part(p);
}

/* A free slot (not yet holding a record). */
static uint32_t take_slot(struct state *st)
{
	if (st->nfree)
		return st->free[--st->nfree];
	if (st->nmem == st->capmem) {
		st->capmem = st->capmem ? 2 * st->capmem : 1024;
		st->mem = wnw_xrealloc(st->cmd, st->mem, st->capmem * sizeof *st->mem);
		st->free = wnw_xrealloc(st->cmd, st->free, st->capmem * sizeof *st->free);
	}
	if (st->nmem >= UINT32_MAX)
		wnw_die(st->cmd, WNW_EXIT_SYSTEM, "more than 2^32 records in the union");
	st->mem[st->nmem].refs = 0;
	return (uint32_t)st->nmem++;
}

/* Gives slot its record (or frees it when no list took it): a copy of rec, or with rec NULL the len bytes
 * at off of the input file. */
static void fill_slot(struct state *st, uint32_t slot, const struct wnw_rec *rec, uint64_t off, uint32_t len,
		      uint32_t sum, uint64_t seq, uint64_t id, uint32_t refs)
{
	struct wnw_err e;
	if (!refs) {
		st->free[st->nfree++] = slot;
		return;
	}
	int64_t h = rec ? wnw_store_add(st->store, rec, &e) : 0;
	if (h < 0)
		wnw_die_err(st->cmd, &e);
	st->mem[slot] = (struct member){seq, id, rec ? (uint64_t)h : off, refs, len, sum};
}

static void drop_ref(struct state *st, uint32_t slot)
{
	struct wnw_err e;
	if (slot >= st->nmem || st->mem[slot].refs == 0)
		wnw_die(st->cmd, WNW_EXIT_SYSTEM, "internal error: lost track of slot %u", slot);
	if (--st->mem[slot].refs == 0) {
		if (!st->in_place && wnw_store_drop(st->store, st->mem[slot].at, &e) != 0)
			wnw_die_err(st->cmd, &e);
		st->free[st->nfree++] = slot;
	}
}

/* One block of the pool: its vectors and reserved slots, and its records: copies of them, or when the
 * input is a plain file only where they lie in it, to be read again if they join the union. */
struct block {
	struct wnw_batch b;
	uint64_t *at; /* the records' offsets in the input file (0 when copied) */
	uint32_t *len;
	uint32_t *sum; /* CRC-32 of the records' bytes (in place) */
	struct wnw_vecs x;
	uint32_t *slot;
	uint64_t seq0;
};

/* After a block: rows that entered some list join the union, then hits pushed out lose a reference
 * (in that order, so a row that entered and left during the block is counted right). The events are
 * those of the block's parity par; a hit pushed out of a list during a later block only reports it then,
 * so reference counts never fall below the number of lists that hold a record. */
static void apply_events(struct state *st, const struct block *b, struct part *parts, size_t np, int par)
{
	size_t n = b->x.rows;
	for (size_t j = 0; j < n; j++) {
		uint32_t refs = 0;
		for (size_t p = 0; p < np; p++)
			refs += parts[p].ev[par].ins[j];
		fill_slot(st, b->slot[j], st->in_place ? NULL : &b->b.recs[j], b->at[j], b->len[j], b->sum[j], b->seq0 + j,
			  b->x.id[j], refs);
	}
	for (size_t p = 0; p < np; p++) {
		struct events *ev = &parts[p].ev[par];
		if (ev->oom)
			wnw_die(st->cmd, WNW_EXIT_SYSTEM, "out of memory");
		for (size_t i = 0; i < ev->nout; i++)
			drop_ref(st, ev->out[i]);
		ev->nout = 0;
		memset(ev->ins, 0, n * sizeof *ev->ins);
	}
}

/* Rows of the first block: enough, when K is small next to them, that seeding from it spares the lists
 * most of their early churn (a list filled in stream order takes in about K ln(rows / K) candidates
 * beyond its K over the first rows, each to be pushed out again), at most 16384 (16 MB at d = 256). */
static size_t first_rows(const struct state *st, size_t bs)
{
	if (st->o.block)
		return bs;
	size_t want = st->o.k < 16384 / 8 ? (size_t)st->o.k * 8 : 16384;
	return want > bs ? want : bs;
}

/* Where the vectors of hits are read: rows of the block just searched (not yet stored) from the block,
 * the others from the store (of the input r; fid, fv: the id and vector fields). */
struct vecsrc {
	const struct block *blk;
	const struct wnw_reader *r;
	int fid, fv;
	float *v; /* a stored vector, as floats */
};

/* Makes rec the record of member m (of the input r, id field fid), read through view v; a record read
 * again from the input file must still hold its id, and upto is wnw_store_view_source's. */
static int read_member(const struct state *st, struct wnw_store_view *v, const struct wnw_reader *r, int fid,
		       const struct member *m, uint64_t upto, struct wnw_rec *rec, struct wnw_err *e)
{
	*rec = (struct wnw_rec){.schema = wnw_reader_schema(r), .number = m->seq + 1};
	if (st->in_place) {
		if (wnw_store_view_source(st->store, v, m->at, m->len, upto, fid, m->id, rec, e) != 0)
			return -1;
		if (wnw_crc32(0, rec->data, rec->len) != m->sum)
			return wnw_errf(e, WNW_EXIT_DATA, "read again, its bytes differ from those first read: "
					"the file changed during the run");
		return 0;
	}
	return wnw_store_view_get(st->store, v, m->at, fid, m->id, rec, e);
}

/* The error of reading member m again, naming the input and record. */
static void member_error(struct wnw_err *to, const struct wnw_reader *r, const struct member *m,
			 const struct wnw_err *e)
{
	wnw_errf(to, e->status, "%s: record %llu: %s", wnw_reader_name(r), (unsigned long long)m->seq + 1, e->msg);
}

/* Records read again from the input file (in place) must be those first read: each is checked against
 * its CRC-32 as it is read again, and here, before the output is put in place, the file must still be
 * the same file (device and inode, by descriptor and by name), of the same size and modification time. */
static void check_unchanged(const struct state *st, const struct wnw_reader *r)
{
	struct stat now, byname;
	const char *name = wnw_reader_name(r);
	if (!st->in_place)
		return;
	if (fstat(wnw_reader_fd(r), &now) != 0)
		wnw_die(st->cmd, WNW_EXIT_SYSTEM, "%s: %m", name);
	int same = now.st_dev == st->first.st_dev && now.st_ino == st->first.st_ino &&
		   now.st_size == st->first.st_size && now.st_mtim.tv_sec == st->first.st_mtim.tv_sec &&
		   now.st_mtim.tv_nsec == st->first.st_mtim.tv_nsec;
	if (same && strcmp(name, "stdin") != 0 && stat(name, &byname) == 0)
		same = byname.st_dev == now.st_dev && byname.st_ino == now.st_ino;
	if (!same)
		wnw_die(st->cmd, WNW_EXIT_DATA, "%s: the file changed during the run (its size, time or identity "
			"differ): run again on a file left alone", name);
}

/* read_member through this thread's view, or dies. */
static void get_member(struct state *st, const struct wnw_reader *r, int fid, const struct member *m,
		       struct wnw_rec *rec)
{
	struct wnw_err e, named;
	if (read_member(st, st->view, r, fid, m, 0, rec, &e) != 0) {
		member_error(&named, r, m, &e);
		wnw_die_err(st->cmd, &named);
	}
}

/* The vector of the record in slot s (ref its position in the input). */
static const float *slot_vec(struct state *st, struct vecsrc *src, uint32_t s, uint64_t ref)
{
	if (src->blk && ref >= src->blk->seq0)
		return src->blk->x.v + (ref - src->blk->seq0) * st->q.d;
	struct wnw_rec rec;
	get_member(st, src->r, src->fid, &st->mem[s], &rec);
	wnw_get_vec(&rec, src->fv, src->v);
	return src->v;
}

/* The exact squared distance of query j to the hit h of its list. */
static double hit_d2(struct state *st, struct vecsrc *src, size_t j, const struct wnw_hit *h)
{
	return wnw_knn_dist2(st->q.v + j * st->q.d, slot_vec(st, src, h->tag, h->ref), st->q.d);
}

/* Between blocks: lists crowded with hits at one distance get exact distances and are trimmed, so that
 * no list grows by more than a block. Dropped hits are events of the block just searched. */
static void settle_crowded(struct state *st, struct vecsrc *src, struct events *ev)
{
	for (size_t j = 0; j < st->m; j++) {
		struct wnw_topk *t = &st->top[j];
		if (!t->crowded)
			continue;
		for (uint32_t k = 0; k < t->n; k++)
			if (t->h[k].dist < 0)
				wnw_topk_exact(t, k, hit_d2(st, src, j, &t->h[k]));
		uint32_t none = 0;
		record(ev, t, wnw_topk_trim(t) ? -1 : 2, &none);
	}
}

static int cmp_u64_idx(const void *a, const void *b, void *ctx)
{
	const uint64_t *key = ctx;
	uint64_t x = key[*(const size_t *)a], y = key[*(const size_t *)b];
	return x < y ? -1 : x > y;
}

/* Reads the query set: ids must be unique, vectors finite. */
static void read_queries(struct state *st, uint32_t *dim)
{
	struct wnw_cmd *cmd = st->cmd;
	struct wnw_reader *r = wnw_xopen(cmd, st->o.queries);
	const char *name = wnw_reader_name(r);
	int fid = wnw_xfield(cmd, r, "id", WNW_U64, NULL);
	int fv = wnw_xfield(cmd, r, st->o.field, WNW_VEC, dim);
	struct wnw_rec rec;
	wnw_vecs_init(&st->q, *dim);
	while (wnw_xnext(cmd, r, &rec)) {
		wnw_xvecs_add(cmd, &st->q, r, &rec, fv, st->o.field, wnw_get_u64(&rec, fid));
	}
	st->m = st->q.rows;
	if (st->m == 0)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: the query set is empty", name);
	size_t *ord = wnw_xmalloc(cmd, st->m * sizeof *ord);
	for (size_t i = 0; i < st->m; i++)
		ord[i] = i;
	qsort_r(ord, st->m, sizeof *ord, cmp_u64_idx, st->q.id);
	for (size_t i = 1; i < st->m; i++)
		if (st->q.id[ord[i]] == st->q.id[ord[i - 1]])
			wnw_die(cmd, WNW_EXIT_DATA, "%s: records %zu and %zu: duplicate query id %llu", name,
				(ord[i - 1] < ord[i] ? ord[i - 1] : ord[i]) + 1, (ord[i - 1] < ord[i] ? ord[i] : ord[i - 1]) + 1,
				(unsigned long long)st->q.id[ord[i]]);
	free(ord);
	wnw_reader_close(r);
	if (wnw_vecs_pack(&st->q) != 0)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
	st->qid = st->q.id;
	st->top = wnw_xcalloc(cmd, st->m, sizeof *st->top);
	for (size_t i = 0; i < st->m; i++)
		if (wnw_topk_init(&st->top[i], st->o.k) != 0)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
}

/* Pool records per block: about a million dot products per block, within [256, 16384]. */
static size_t block_rows(const struct state *st)
{
	if (st->o.block)
		return st->o.block;
	/* A block of 2^20 / m rows holds the screen's work per block near constant; past 4096 rows (4 MB at
	 * d = 256) a few queries would stream the block from memory once per panel, which measured slower. */
	size_t b = ((size_t)1 << 20) / st->m;
	return b < 256 ? 256 : b > 4096 ? 4096 : b;
}

/* Reads up to bs records into blk; returns how many. */
static size_t read_block(struct state *st, struct wnw_reader *r, int fid, int fv, size_t bs, struct block *blk)
{
	struct wnw_cmd *cmd = st->cmd;
	struct wnw_rec rec;
	wnw_batch_clear(&blk->b);
	wnw_vecs_clear(&blk->x);
	blk->seq0 = st->seq;
	while (blk->x.rows < bs && wnw_xnext(cmd, r, &rec)) {
		wnw_xvecs_add(cmd, &blk->x, r, &rec, fv, st->o.field, wnw_get_u64(&rec, fid));
		blk->at[blk->x.rows - 1] = st->in_place ? wnw_reader_offset(r, &rec) : 0;
		blk->len[blk->x.rows - 1] = rec.len;
		blk->sum[blk->x.rows - 1] = st->in_place ? wnw_crc32(0, rec.data, rec.len) : 0;
		if (!st->in_place && wnw_batch_add(&blk->b, &rec) != 0)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
		st->seq++;
	}
	for (size_t j = 0; j < blk->x.rows; j++)
		blk->slot[j] = take_slot(st);
	return blk->x.rows;
}

/* Points every part at block b, whose events go to parity par. */
static void aim_parts(struct part *parts, size_t np, const struct block *b, int par)
{
	for (size_t p = 0; p < np; p++) {
		parts[p].x = &b->x;
		parts[p].slot = b->slot;
		parts[p].seq0 = b->seq0;
		parts[p].par = par;
	}
}

/* The single run: streams the pool through the query lists, block by block. With -j N, N - 1 threads
 * search a block while this one applies the events of the block before and reads the next one into
 * its buffer, then joins the search, so that reading, bookkeeping and search overlap and N threads stay
 * busy. With -j 1 this thread alone reads and searches, one after the other. */
static void search(struct state *st, struct wnw_reader *r)
{
	struct wnw_cmd *cmd = st->cmd;
	const char *name = wnw_reader_name(r);
	uint32_t dim;
	int fid = wnw_xfield(cmd, r, "id", WNW_U64, NULL);
	int fv = wnw_xfield(cmd, r, st->o.field, WNW_VEC, &dim);
	if (dim != st->q.d)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: %s has dimension %u but the queries' has %zu", name, st->o.field,
			dim, st->q.d);
	if (wnw_reader_fd(r) >= 0) {
		wnw_store_source(st->store, wnw_reader_fd(r), wnw_reader_schema(r));
		st->in_place = 1;
		if (fstat(wnw_reader_fd(r), &st->first) != 0)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "%s: %m", name);
	}
	size_t bs = block_rows(st), bs0 = first_rows(st, bs), panels = (st->m + 15) / 16;
	size_t np = (size_t)wnw_pool_threads(st->pool);
	/* One thread takes all the queries as one item, so the block streams through the cache once per
	 * chunk of panels (see knn.c) rather than once per item; more threads take shrinking items. */
	size_t maxp = np == 1 ? panels : (panels + 2 * np - 1) / (2 * np);
	struct part *parts = wnw_xcalloc(cmd, np, sizeof *parts);
	double *limit = wnw_xmalloc(cmd, st->m * sizeof *limit);
	struct block blk[2];
	for (int i = 0; i < 2; i++) {
		wnw_vecs_init(&blk[i].x, dim);
		wnw_batch_init(&blk[i].b); /* its vectors grow with the records read, not with rows x dim */
		blk[i].slot = wnw_xmalloc(cmd, bs0 * sizeof *blk[i].slot);
		blk[i].at = wnw_xmalloc(cmd, bs0 * sizeof *blk[i].at);
		blk[i].len = wnw_xmalloc(cmd, bs0 * sizeof *blk[i].len);
		blk[i].sum = wnw_xmalloc(cmd, bs0 * sizeof *blk[i].sum);
	}
	for (size_t p = 0; p < np; p++) {
		parts[p].st = st;
		parts[p].limit = limit;
		/* Scratch of the BLAS screen, used only without the fused kernel (untouched pages otherwise). */
		parts[p].g = wnw_xmalloc(cmd, (16 * (maxp > 2 ? maxp : 2) * bs0 + 1) * sizeof(float));
		parts[p].seed = wnw_xmalloc(cmd, 16 * bs0 * sizeof(float));
		for (int e = 0; e < 2; e++)
			parts[p].ev[e].ins = wnw_xcalloc(cmd, bs0, sizeof(uint32_t));
	}
	struct searching sg = {.parts = parts, .m = st->m};
	struct vecsrc src = {.r = r, .fid = fid, .fv = fv, .v = wnw_xmalloc(cmd, (dim + 1) * sizeof(float))};
	size_t n = read_block(st, r, fid, fv, bs0, &blk[0]);
	if (n > st->o.k) {
		/* Seeding: the first block is searched once without the lists, to limit each list from the
		 * start by the K-th smallest upper bound among the block's candidates. */
		aim_parts(parts, np, &blk[0], 0);
		sg.seeding = 1;
		wnw_pool_start(st->pool, panels, maxp, search_panels, &sg);
		wnw_pool_finish(st->pool);
		sg.seeding = 0;
	}
	if (n > 0) {
		/* blk[cur] is being searched while blk[1 - cur] holds the next block, already read. */
		int cur = 0;
		aim_parts(parts, np, &blk[0], 0);
		wnw_pool_start(st->pool, panels, maxp, search_panels, &sg);
		n = read_block(st, r, fid, fv, bs, &blk[1]);
		for (;;) {
			wnw_pool_finish(st->pool);
			src.blk = &blk[cur];
			settle_crowded(st, &src, &parts[0].ev[cur]);
			if (n > 0) {
				aim_parts(parts, np, &blk[1 - cur], 1 - cur);
				wnw_pool_start(st->pool, panels, maxp, search_panels, &sg);
			}
			apply_events(st, &blk[cur], parts, np, cur);
			if (n == 0)
				break;
			cur = 1 - cur;
			n = read_block(st, r, fid, fv, bs, &blk[1 - cur]);
		}
	}
	free(src.v);
	wnw_progress_done(cmd, r);
	if (st->seq < st->o.k)
		wnw_warn(cmd, "%s: k %u is larger than the pool (%llu records): every query keeps all of them",
			 name, st->o.k, (unsigned long long)st->seq);
	for (size_t p = 0; p < np; p++) {
		free(parts[p].g);
		free(parts[p].seed);
		for (int e = 0; e < 2; e++) {
			free(parts[p].ev[e].ins);
			free(parts[p].ev[e].out);
		}
	}
	free(parts);
	free(limit);
	for (int i = 0; i < 2; i++) {
		wnw_batch_free(&blk[i].b);
		free(blk[i].at);
		free(blk[i].len);
		free(blk[i].sum);
		wnw_vecs_free(&blk[i].x);
		free(blk[i].slot);
	}
}

/* The list index of query id qid in merge mode, adding a list when the id is new. */
static size_t merge_query(struct state *st, uint64_t qid)
{
	size_t lo = 0, hi = st->m;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->qid[mid] < qid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < st->m && st->qid[lo] == qid)
		return lo;
	if (st->m == st->mcap) {
		st->mcap = st->mcap ? 2 * st->mcap : 64;
		st->qid = wnw_xrealloc(st->cmd, st->qid, st->mcap * sizeof *st->qid);
		st->top = wnw_xrealloc(st->cmd, st->top, st->mcap * sizeof *st->top);
	}
	memmove(st->qid + lo + 1, st->qid + lo, (st->m - lo) * sizeof *st->qid);
	memmove(st->top + lo + 1, st->top + lo, (st->m - lo) * sizeof *st->top);
	st->qid[lo] = qid;
	if (wnw_topk_init(&st->top[lo], st->o.k) != 0)
		wnw_die(st->cmd, WNW_EXIT_SYSTEM, "out of memory");
	st->m++;
	return lo;
}

/* Merge mode: the input holds knn-build outputs; their nbr pairs are offered again to per-query lists
 * (kept in ascending query id, so the list of a query is found by bisection). */
static void merge(struct state *st, struct wnw_reader *r)
{
	struct wnw_cmd *cmd = st->cmd;
	const char *name = wnw_reader_name(r);
	int fid = wnw_xfield(cmd, r, "id", WNW_U64, NULL);
	int fn = wnw_xfield(cmd, r, "nbr", WNW_NBR, NULL);
	struct wnw_rec rec;
	struct events ev = {0};
	uint32_t ins;
	while (wnw_xnext(cmd, r, &rec)) {
		uint64_t id = wnw_get_u64(&rec, fid);
		uint32_t n = wnw_nbr_count(&rec, fn), slot = take_slot(st);
		ins = 0;
		for (uint32_t i = 0; i < n; i++) {
			struct wnw_nbr nb = wnw_nbr_at(&rec, fn, i);
			if (!(nb.dist >= 0) || isinf(nb.dist))
				wnw_die(cmd, WNW_EXIT_DATA, "%s: record %llu: distance %g to query %llu is not a distance",
					name, (unsigned long long)rec.number, (double)nb.dist, (unsigned long long)nb.id);
			if (i > 0 && nb.id <= wnw_nbr_at(&rec, fn, i - 1).id)
				wnw_die(cmd, WNW_EXIT_DATA,
					"%s: record %llu: nbr is not in increasing query id order (not made by knn-build?)",
					name, (unsigned long long)rec.number);
			size_t qi = merge_query(st, nb.id);
			struct wnw_topk *t = &st->top[qi];
			struct wnw_hit h = {.dist = nb.dist, .tag = slot, .id = id, .ref = st->seq};
			record(&ev, t, wnw_topk_offer(t, &h), &ins);
		}
		fill_slot(st, slot, &rec, 0, 0, 0, st->seq, id, ins);
		if (ev.oom)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
		for (size_t i = 0; i < ev.nout; i++)
			drop_ref(st, ev.out[i]);
		ev.nout = 0;
		st->seq++;
	}
	wnw_progress_done(cmd, r);
	for (size_t j = 0; j < st->m; j++)
		if (st->top[j].n < st->o.k) {
			wnw_warn(cmd, "%s: k %u is larger than the candidates of query %llu (%u): it keeps all of them",
				 name, st->o.k, (unsigned long long)st->qid[j], st->top[j].n);
			break;
		}
	free(ev.out);
}

/* Orders live[0..n) by ascending candidate id. */
static void sort_by_id(struct state *st, uint32_t *live, size_t n)
{
	struct wnw_keyed *a = wnw_xmalloc(st->cmd, (n ? n : 1) * sizeof *a);
	for (size_t i = 0; i < n; i++)
		a[i] = (struct wnw_keyed){st->mem[live[i]].id, live[i]};
	if (wnw_sort_keyed(a, n) != 0)
		wnw_die(st->cmd, WNW_EXIT_SYSTEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		live[i] = a[i].val;
	free(a);
}

struct finish_ctx {
	struct state *st;
	struct vecsrc *src;
	size_t j;
};

static double finish_d2(void *ctx, const struct wnw_hit *h)
{
	struct finish_ctx *c = ctx;
	return hit_d2(c->st, c->src, c->j, h);
}

/* Sorts every list by exact distance and cuts it to K. */
static void finish_lists(struct state *st, struct vecsrc *src)
{
	for (size_t j = 0; j < st->m; j++) {
		struct finish_ctx fc = {st, src, j};
		if (wnw_topk_finish(&st->top[j], finish_d2, &fc) != 0)
			wnw_die(st->cmd, WNW_EXIT_SYSTEM, "out of memory");
		for (uint32_t k = 0; k < st->top[j].ndrop; k++)
			drop_ref(st, st->top[j].h[st->top[j].n + k].tag);
	}
}

/* The union's records and their pairs: live[0..n) the slots in writing order; slot s has the pairs
 * nb[start[s] .. start[s] + refs), in ascending query id, from the lists nbq[...] (a negative
 * distance is not yet exact). */
struct pairs {
	uint32_t *live;
	size_t n;
	size_t *start;
	struct wnw_nbr *nb;
	uint32_t *nbq;
};

static void gather_pairs(struct state *st, struct pairs *pr)
{
	struct wnw_cmd *cmd = st->cmd;
	size_t ns = st->nmem;
	pr->n = 0;
	pr->start = wnw_xmalloc(cmd, (ns + 1) * sizeof *pr->start);
	pr->live = wnw_xmalloc(cmd, (ns ? ns : 1) * sizeof *pr->live);
	pr->start[0] = 0;
	for (size_t i = 0; i < ns; i++) { /* offsets from the reference counts (free slots have none) */
		pr->start[i + 1] = pr->start[i] + st->mem[i].refs;
		if (st->mem[i].refs)
			pr->live[pr->n++] = (uint32_t)i;
	}
	size_t np = pr->start[ns] ? pr->start[ns] : 1;
	pr->nb = wnw_xmalloc(cmd, np * sizeof *pr->nb);
	pr->nbq = wnw_xmalloc(cmd, np * sizeof *pr->nbq);
	size_t *fill = wnw_xcalloc(cmd, ns ? ns : 1, sizeof *fill);
	size_t *qord = wnw_xmalloc(cmd, st->m * sizeof *qord);
	for (size_t j = 0; j < st->m; j++)
		qord[j] = j;
	qsort_r(qord, st->m, sizeof *qord, cmp_u64_idx, st->qid);
	for (size_t jj = 0; jj < st->m; jj++) {
		size_t j = qord[jj];
		for (uint32_t k = 0; k < st->top[j].n; k++) {
			const struct wnw_hit *h = &st->top[j].h[k];
			size_t at = pr->start[h->tag] + fill[h->tag]++;
			pr->nbq[at] = (uint32_t)j;
			pr->nb[at] = (struct wnw_nbr){st->qid[j], h->dist};
		}
	}
	free(fill);
	free(qord);
}

struct builder {
	struct wnw_store_view *view;
	float *v;
};

struct writing {
	struct state *st;
	const struct wnw_reader *r;
	const struct wnw_edit *ed;
	int fid, fv;
	struct pairs *pr;
	struct builder *bld;   /* one per thread */
};

/* Completes the distances of member m's pairs p (lists q) that are not yet exact, from its record. */
static void exact_pairs(const struct state *st, const struct wnw_rec *rec, int fv, const struct member *m,
			struct wnw_nbr *p, const uint32_t *q, float *v)
{
	size_t d = st->q.d;
	for (uint32_t k = 0, have = 0; k < m->refs; k++) {
		if (p[k].dist >= 0)
			continue;
		if (!have++)
			wnw_get_vec(rec, fv, v);
		p[k].dist = (float)sqrt(wnw_knn_dist2(st->q.v + q[k] * d, v, d));
	}
}

/* In place, the records from the k-th of the writing order on that are worth reading from the input file
 * at once (in file order, gaps of at most WNW_STORE_GAP, within WNW_STORE_SPAN): sets *next to the
 * first past them and returns where they end. */
static uint64_t span(const struct state *st, const uint32_t *live, size_t k, size_t k1, size_t *next)
{
	const struct member *m = &st->mem[live[k]];
	uint64_t end = m->at + m->len;
	for (k++; k < k1; k++) {
		const struct member *x = &st->mem[live[k]];
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
	const struct state *st = wr->st;
	struct builder *b = &wr->bld[thread];
	const uint32_t *live = wr->pr->live;
	uint64_t upto = 0;
	for (size_t k = k0, next = k; k < k1; k++) {
		const struct member *m = &st->mem[live[k]];
		struct wnw_rec rec;
		struct wnw_err e;
		if (st->in_place && k == next)
			upto = span(st, live, k, k1, &next);
		if (!st->in_place && k + 2 < k1) /* records lie anywhere in memory: fetch ahead of their turn */
			wnw_store_prefetch(st->store, st->mem[live[k + 2]].at);
		if (read_member(st, b->view, wr->r, wr->fid, m, upto, &rec, &e) != 0) {
			member_error(named, wr->r, m, &e);
			return -1;
		}
		size_t at = wr->pr->start[live[k]];
		exact_pairs(st, &rec, wr->fv, m, wr->pr->nb + at, wr->pr->nbq + at, b->v);
		wnw_edit_begin(w, &rec, wr->ed);
		wnw_w_nbr(w, wr->pr->nb + at, m->refs);
		if (wnw_edit_end(w, &rec, wr->ed, &e) != 0) {
			member_error(named, wr->r, m, &e);
			return -1;
		}
	}
	return 0;
}

/* The bytes of the k-th record of the writing order, about. */
static size_t chunk_size(void *ctx, size_t k)
{
	const struct writing *wr = ctx;
	const struct state *st = wr->st;
	const struct member *m = &st->mem[wr->pr->live[k]];
	return (st->in_place ? m->len : wnw_store_size(st->store, m->at)) + (size_t)m->refs * sizeof *wr->pr->nb;
}

/* Writes the records in the order of pr->live to w, built by the threads in chunks. */
static void write_records(struct state *st, struct writing *wr, struct wnw_writer *w, const struct wnw_schema *out)
{
	struct wnw_cmd *cmd = st->cmd;
	struct wnw_err e;
	size_t nt = (size_t)wnw_pool_threads(st->pool);
	wr->bld = wnw_xcalloc(cmd, nt, sizeof *wr->bld);
	for (size_t t = 0; t < nt; t++) {
		if (!(wr->bld[t].view = wnw_store_view_new(&e)))
			wnw_die_err(cmd, &e);
		wr->bld[t].v = wnw_xmalloc(cmd, (st->q.d + 1) * sizeof(float));
	}
	if (wnw_write_parallel(w, out, st->pool, wr->pr->n, chunk_size, build_chunk, wr, &e) != 0)
		wnw_die_err(cmd, &e);
	for (size_t t = 0; t < nt; t++) {
		wnw_store_view_free(wr->bld[t].view);
		free(wr->bld[t].v);
	}
	free(wr->bld);
}

/* Writes the union in ascending candidate id, each record with nbr = its (query id, distance) pairs in
 * ascending query id. The distances not yet exact are computed here, from each record as it is written. */
static void write_union(struct state *st, const struct wnw_reader *r)
{
	struct wnw_cmd *cmd = st->cmd;
	const struct wnw_schema *in = wnw_reader_schema(r);
	struct wnw_schema out;
	struct wnw_edit ed;
	struct vecsrc src = {.r = r,
			     .fid = wnw_xfield(cmd, r, "id", WNW_U64, NULL),
			     .fv = st->o.merge ? -1 : wnw_xfield(cmd, r, st->o.field, WNW_VEC, NULL),
			     .v = wnw_xmalloc(cmd, (st->q.d + 1) * sizeof(float))};
	finish_lists(st, &src);
	free(src.v);
	struct pairs pr;
	gather_pairs(st, &pr);
	sort_by_id(st, pr.live, pr.n);
	for (size_t i = 1; i < pr.n; i++) {
		const struct member *a = &st->mem[pr.live[i - 1]], *b = &st->mem[pr.live[i]];
		if (a->id == b->id)
			wnw_die(cmd, WNW_EXIT_DATA, "%s: records %llu and %llu: duplicate candidate id %llu",
				wnw_reader_name(r), (unsigned long long)(a->seq < b->seq ? a->seq : b->seq) + 1,
				(unsigned long long)(a->seq < b->seq ? b->seq : a->seq) + 1, (unsigned long long)a->id);
	}
	wnw_xedit(cmd, in, &out, &ed, "nbr", WNW_NBR, 0);
	struct wnw_writer *w = wnw_xcreate(cmd, &out);
	struct writing wr = {.st = st, .r = r, .ed = &ed, .fid = src.fid, .fv = src.fv, .pr = &pr};
	write_records(st, &wr, w, &out);
	check_unchanged(st, r);
	wnw_xclose(cmd, w);
	wnw_schema_free(&out);
	free(pr.start);
	free(pr.live);
	free(pr.nb);
	free(pr.nbq);
}

/* Options into st->o, their combinations checked. */
static void parse(struct state *st, int argc, char **argv)
{
	struct wnw_cmd *cmd = st->cmd;
	struct opts *o = &st->o;
	int ch, have_k = 0;

	wnw_cmd_init(cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(cmd)) != -1) {
		switch (ch) {
		case 'q': o->queries = cmd->optarg; break;
		case 'k':
			o->k = (uint32_t)wnw_opt_u64(cmd, "-k", cmd->optarg, 1, (uint64_t)1 << 24);
			have_k = 1;
			break;
		case OPT_MERGE: o->merge = 1; break;
		case 'S': o->budget = wnw_opt_size(cmd, "-S", cmd->optarg); break;
		case OPT_FIELD: o->field = cmd->optarg; break;
		case OPT_BLOCK: o->block = (size_t)wnw_opt_u64(cmd, "--block", cmd->optarg, 1, (uint64_t)1 << 20); break;
		default: wnw_usage(cmd, "unknown option");
		}
	}
	if (!have_k)
		wnw_usage(cmd, "-k K is required");
	if (o->merge && o->queries)
		wnw_usage(cmd, "--merge takes no -q: the query ids come from the nbr fields");
	if (!o->merge && !o->queries)
		wnw_usage(cmd, "-q QUERIES is required (or --merge)");
	if (!o->merge && wnw_cmd_nargs(cmd) > 1)
		wnw_usage(cmd, "one pool at most (concatenate shards with cat, or use --merge)");
	if (o->merge && wnw_cmd_nargs(cmd) > 1)
		wnw_usage(cmd, "--merge reads one stream: cat the shards into it");
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct state st = {.cmd = &cmd, .o = {.field = "vec", .budget = (uint64_t)1 << 30}};
	struct wnw_err e;

	wnw_blas_setup(argv);
	parse(&st, argc, argv);

	uint32_t dim = 0;
	if (!st.o.merge)
		read_queries(&st, &dim);
	struct wnw_reader *r = wnw_xopen(&cmd, wnw_cmd_nargs(&cmd) ? wnw_cmd_args(&cmd)[0] : NULL);
	st.pool = wnw_xpool(&cmd, cmd.threads);
	if ((st.store = wnw_store_new(st.o.budget, &e)) == NULL || (st.view = wnw_store_view_new(&e)) == NULL)
		wnw_die_err(&cmd, &e);
	if (st.o.merge)
		merge(&st, r);
	else
		search(&st, r);
	write_union(&st, r);
	wnw_reader_close(r);
	wnw_store_view_free(st.view);
	wnw_store_free(st.store);
	wnw_pool_free(st.pool);
	for (size_t j = 0; j < st.m; j++)
		wnw_topk_free(&st.top[j]);
	free(st.top);
	free(st.mem);
	free(st.free);
	if (st.o.merge)
		free(st.qid);
	wnw_vecs_free(&st.q);
	return wnw_cmd_done(&cmd);
}
