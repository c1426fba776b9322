/* knn-build: exact K nearest neighbours of every query among a streamed pool; writes the union of all
 * queries' lists, each candidate with field nbr = its (query id, distance) pairs. See knn-build(1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "knnunion.h"
#include "nameset.h"
#include "par.h"
#include "prog.h"

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

struct state {
	struct wnw_cmd *cmd;
	struct opts o;
	struct wnw_vecs q;          /* the queries (single run) */
	struct wnw_knn_lists l;     /* one list per query */
	struct wnw_knn_union u;     /* the records the lists hold */
	struct wnw_pool *pool;      /* -j N threads, this one included */
	uint64_t seq;               /* input records seen */
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
	struct wnw_knn_events ev[2];
};

/* Offers the pair (query qi, row xj of the block), its exact squared distance within [lo, hi], to the
 * query's list; returns its new limit. The exact distances wait until the end (or a crowded list). */
static double visit(void *ctx, size_t qi, size_t xj, double lo, double hi)
{
	struct part *p = ctx;
	struct wnw_topk *t = &p->st->l.top[qi];
	struct wnw_hit h = {.tag = p->slot[xj], .id = p->x->id[xj], .ref = p->seq0 + xj};
	wnw_knn_events_record(&p->ev[p->par], t, wnw_topk_offer_bounds(t, &h, lo, hi), &p->ev[p->par].ins[xj]);
	return wnw_topk_limit(t);
}

static void run_part(struct part *p)
{
	for (size_t i = p->q0; i < p->q1; i++)
		p->limit[i] = wnw_topk_limit(&p->st->l.top[i]);
	wnw_knn_join_bounds(&p->st->q, p->q0, p->q1, p->x, 0, p->x->rows, p->limit + p->q0, p->g, visit, p);
}

/* Seeds the lists of queries [q0, q1) from the first block, a panel of 16 at a time (see search). */
static void seed_part(struct part *p)
{
	size_t rows = p->x->rows;
	for (size_t a = p->q0; a < p->q1; a = (a / 16 + 1) * 16) {
		size_t b = (a / 16 + 1) * 16 < p->q1 ? (a / 16 + 1) * 16 : p->q1;
		wnw_knn_join_hi(&p->st->q, a, b, p->x, 0, rows, p->g, p->seed + (a % 16) * rows, rows);
		for (size_t i = a; i < b; i++)
			wnw_topk_seed(&p->st->l.top[i], p->seed + (i % 16) * rows, rows);
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
	struct wnw_err e;
	size_t n = b->x.rows;
	for (size_t j = 0; j < n; j++) {
		struct wnw_knn_member m = {b->seq0 + j, b->x.id[j], b->at[j], 0, b->len[j], b->sum[j]};
		for (size_t p = 0; p < np; p++)
			m.refs += parts[p].ev[par].ins[j];
		if (wnw_knn_union_fill(&st->u, b->slot[j], &m, st->u.in_place ? NULL : &b->b.recs[j], &e) != 0)
			wnw_die_err(st->cmd, &e);
	}
	for (size_t p = 0; p < np; p++) {
		struct wnw_knn_events *ev = &parts[p].ev[par];
		if (wnw_knn_union_drop_out(&st->u, ev, &e) != 0)
			wnw_die_err(st->cmd, &e);
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

/* The vector of query j's hit h: a row of the block b just searched (not yet stored), or read again
 * from the union into v. */
static const float *hit_vec(struct state *st, const struct block *b, const struct wnw_hit *h, float *v)
{
	struct wnw_rec rec;
	struct wnw_err e;
	if (h->ref >= b->seq0)
		return b->x.v + (h->ref - b->seq0) * st->q.d;
	if (wnw_knn_union_get(&st->u, NULL, &st->u.mem[h->tag], 0, &rec, &e) != 0)
		wnw_die_err(st->cmd, &e);
	wnw_get_vec(&rec, st->u.fv, v);
	return v;
}

/* Between blocks: lists crowded with hits at one distance get exact distances and are trimmed, so that
 * no list grows by more than a block. Dropped hits are events of the block b just searched. */
static void settle_crowded(struct state *st, const struct block *b, float *v, struct wnw_knn_events *ev)
{
	for (size_t j = 0; j < st->l.m; j++) {
		struct wnw_topk *t = &st->l.top[j];
		if (!t->crowded)
			continue;
		for (uint32_t k = 0; k < t->n; k++)
			if (t->h[k].dist < 0)
				wnw_topk_exact(t, k, wnw_knn_dist2(st->q.v + j * st->q.d, hit_vec(st, b, &t->h[k], v),
								   st->q.d));
		uint32_t none = 0;
		wnw_knn_events_record(ev, t, wnw_topk_trim(t) ? -1 : 2, &none);
	}
}

/* Reads the query set: ids must be unique (a repeat names both records), vectors finite. */
static void read_queries(struct state *st, uint32_t *dim)
{
	struct wnw_cmd *cmd = st->cmd;
	struct wnw_reader *r = wnw_xopen(cmd, st->o.queries);
	const char *name = wnw_reader_name(r);
	int fid = wnw_xfield(cmd, r, "id", WNW_U64, NULL);
	int fv = wnw_xfield(cmd, r, st->o.field, WNW_VEC, dim);
	struct wnw_idmap seen; /* id -> its record */
	struct wnw_rec rec;
	struct wnw_err e;
	int added;
	char id[WNW_ID_TEXT];
	wnw_vecs_init(&st->q, *dim);
	wnw_idmap_init(&seen);
	while (wnw_xnext(cmd, r, &rec)) {
		uint64_t *first = wnw_idmap_add(&seen, wnw_get_u64(&rec, fid), &added);
		if (!first)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
		if (!added)
			wnw_die(cmd, WNW_EXIT_DATA, "%s: records %llu and %llu: duplicate query id %s", name,
				(unsigned long long)*first, (unsigned long long)rec.number, wnw_id_text(id, &rec, fid));
		*first = rec.number;
		wnw_xvecs_add(cmd, &st->q, r, &rec, fv, st->o.field, wnw_get_u64(&rec, fid));
	}
	if (st->q.rows == 0)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: the query set is empty", name);
	wnw_idmap_free(&seen);
	wnw_reader_close(r);
	if (wnw_vecs_pack(&st->q) != 0)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
	if (wnw_knn_lists_init(&st->l, st->q.id, st->q.rows, st->o.k, &e) != 0)
		wnw_die_err(cmd, &e);
}

/* Pool records per block: about a million dot products per block, within [256, 16384]. */
static size_t block_rows(const struct state *st)
{
	if (st->o.block)
		return st->o.block;
	/* A block of 2^20 / m rows holds the screen's work per block near constant; past 4096 rows (4 MB at
	 * d = 256) a few queries would stream the block from memory once per panel, which measured slower. */
	size_t b = ((size_t)1 << 20) / st->l.m;
	return b < 256 ? 256 : b > 4096 ? 4096 : b;
}

/* Reads up to bs records into blk; returns how many. */
static size_t read_block(struct state *st, struct wnw_reader *r, int fv, size_t bs, struct block *blk)
{
	struct wnw_cmd *cmd = st->cmd;
	int in_place = st->u.in_place;
	struct wnw_rec rec;
	struct wnw_err e;
	wnw_batch_clear(&blk->b);
	wnw_vecs_clear(&blk->x);
	blk->seq0 = st->seq;
	while (blk->x.rows < bs && wnw_xnext(cmd, r, &rec)) {
		wnw_xvecs_add(cmd, &blk->x, r, &rec, fv, st->o.field, wnw_get_u64(&rec, st->u.fid));
		blk->at[blk->x.rows - 1] = in_place ? wnw_reader_offset(r, &rec) : 0;
		blk->len[blk->x.rows - 1] = rec.len;
		blk->sum[blk->x.rows - 1] = in_place ? wnw_knn_record_sum(rec.data, rec.len) : 0;
		if (!in_place && wnw_batch_add(&blk->b, &rec) != 0)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
		st->seq++;
	}
	for (size_t j = 0; j < blk->x.rows; j++) {
		int64_t slot = wnw_knn_union_take(&st->u, &e);
		if (slot < 0)
			wnw_die_err(cmd, &e);
		blk->slot[j] = (uint32_t)slot;
	}
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
	struct wnw_err e;
	int fv = st->u.fv = wnw_xfield(cmd, r, st->o.field, WNW_VEC, &dim);
	if (dim != st->q.d)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: %s has dimension %u but the queries' has %zu", name, st->o.field,
			dim, st->q.d);
	if (wnw_reader_fd(r) >= 0 && wnw_knn_union_in_place(&st->u, &e) != 0)
		wnw_die_err(cmd, &e);
	size_t bs = block_rows(st), bs0 = first_rows(st, bs), panels = (st->l.m + 15) / 16;
	size_t np = (size_t)wnw_pool_threads(st->pool);
	/* One thread takes all the queries as one item, so the block streams through the cache once per
	 * chunk of panels (see knn.c) rather than once per item; more threads take shrinking items. */
	size_t maxp = np == 1 ? panels : (panels + 2 * np - 1) / (2 * np);
	struct part *parts = wnw_xcalloc(cmd, np, sizeof *parts);
	double *limit = wnw_xmalloc(cmd, st->l.m * sizeof *limit);
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
		for (int i = 0; i < 2; i++)
			parts[p].ev[i].ins = wnw_xcalloc(cmd, bs0, sizeof(uint32_t));
	}
	struct searching sg = {.parts = parts, .m = st->l.m};
	float *v = wnw_xmalloc(cmd, (dim + 1) * sizeof(float)); /* a stored vector */
	size_t n = read_block(st, r, fv, bs0, &blk[0]);
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
		n = read_block(st, r, fv, bs, &blk[1]);
		for (;;) {
			wnw_pool_finish(st->pool);
			settle_crowded(st, &blk[cur], v, &parts[0].ev[cur]);
			if (n > 0) {
				aim_parts(parts, np, &blk[1 - cur], 1 - cur);
				wnw_pool_start(st->pool, panels, maxp, search_panels, &sg);
			}
			apply_events(st, &blk[cur], parts, np, cur);
			if (n == 0)
				break;
			cur = 1 - cur;
			n = read_block(st, r, fv, bs, &blk[1 - cur]);
		}
	}
	free(v);
	wnw_progress_done(cmd, r);
	if (st->seq < st->o.k)
		wnw_warn(cmd, "%s: k %u is larger than the pool (%llu records): every query keeps all of them",
			 name, st->o.k, (unsigned long long)st->seq);
	for (size_t p = 0; p < np; p++) {
		free(parts[p].g);
		free(parts[p].seed);
		for (int i = 0; i < 2; i++)
			wnw_knn_events_free(&parts[p].ev[i]);
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

/* Merge mode: the input holds knn-build outputs; their nbr pairs are offered again to per-query lists
 * (kept in ascending query id, so the list of a query is found by bisection). */
static void merge(struct state *st, struct wnw_reader *r)
{
	struct wnw_cmd *cmd = st->cmd;
	const char *name = wnw_reader_name(r);
	int fn = wnw_xfield(cmd, r, "nbr", WNW_NBR, NULL);
	struct wnw_rec rec;
	struct wnw_knn_events ev = {0};
	struct wnw_err e;
	st->l = (struct wnw_knn_lists){.k = st->o.k};
	while (wnw_xnext(cmd, r, &rec)) {
		struct wnw_knn_member m = {.seq = st->seq, .id = wnw_get_u64(&rec, st->u.fid)};
		uint32_t n = wnw_nbr_count(&rec, fn);
		int64_t slot = wnw_knn_union_take(&st->u, &e);
		if (slot < 0)
			wnw_die_err(cmd, &e);
		for (uint32_t i = 0; i < n; i++) {
			struct wnw_nbr nb = wnw_nbr_at(&rec, fn, i);
			size_t qi;
			if (!(nb.dist >= 0) || isinf(nb.dist))
				wnw_die(cmd, WNW_EXIT_DATA, "%s: record %llu: distance %g to query %llu is not a distance",
					name, (unsigned long long)rec.number, (double)nb.dist, (unsigned long long)nb.id);
			if (i > 0 && nb.id <= wnw_nbr_at(&rec, fn, i - 1).id)
				wnw_die(cmd, WNW_EXIT_DATA,
					"%s: record %llu: nbr is not in increasing query id order (not made by knn-build?)",
					name, (unsigned long long)rec.number);
			if (wnw_knn_lists_find(&st->l, nb.id, &qi, &e) != 0)
				wnw_die_err(cmd, &e);
			struct wnw_topk *t = &st->l.top[qi];
			struct wnw_hit h = {.dist = nb.dist, .tag = (uint32_t)slot, .id = m.id, .ref = st->seq};
			wnw_knn_events_record(&ev, t, wnw_topk_offer(t, &h), &m.refs);
		}
		if (wnw_knn_union_fill(&st->u, (uint32_t)slot, &m, &rec, &e) != 0 ||
		    wnw_knn_union_drop_out(&st->u, &ev, &e) != 0)
			wnw_die_err(cmd, &e);
		st->seq++;
	}
	wnw_progress_done(cmd, r);
	for (size_t j = 0; j < st->l.m; j++)
		if (st->l.top[j].n < st->o.k) {
			wnw_warn(cmd, "%s: k %u is larger than the candidates of query %llu (%u): it keeps all of them",
				 name, st->o.k, (unsigned long long)st->l.qid[j], st->l.top[j].n);
			break;
		}
	wnw_knn_events_free(&ev);
}

/* Two records of the union hold one id (records k - 1 and k of pr): an error naming both records and
 * the id, as a string id when the pool has them (winnow(5), String ids). */
static void die_repeat(struct state *st, const struct wnw_knn_pairs *pr, size_t k)
{
	const struct wnw_knn_member *a = &st->u.mem[pr->live[k - 1]], *b = &st->u.mem[pr->live[k]];
	struct wnw_rec rec;
	struct wnw_err e;
	char id[WNW_ID_TEXT];
	if (wnw_knn_union_get(&st->u, NULL, b, 0, &rec, &e) != 0)
		wnw_die_err(st->cmd, &e);
	wnw_die(st->cmd, WNW_EXIT_DATA, "%s: records %llu and %llu: duplicate candidate id %s", wnw_reader_name(st->u.r),
		(unsigned long long)(a->seq < b->seq ? a->seq : b->seq) + 1,
		(unsigned long long)(a->seq < b->seq ? b->seq : a->seq) + 1, wnw_id_text(id, &rec, st->u.fid));
}

/* Writes the union in ascending candidate id, each record with nbr = its (query id, distance) pairs in
 * ascending query id. The distances not yet exact are computed here, from each record as it is written. */
static void write_union(struct state *st, const struct wnw_reader *r)
{
	struct wnw_cmd *cmd = st->cmd;
	struct wnw_schema out;
	struct wnw_edit ed;
	struct wnw_knn_pairs pr;
	struct wnw_err e;
	if (wnw_knn_union_finish(&st->u, &st->l, st->pool, &e) != 0 || wnw_knn_union_pairs(&st->u, &st->l, &pr, &e) != 0)
		wnw_die_err(cmd, &e);
	size_t k = wnw_knn_pairs_repeat(&st->u, &pr);
	if (k)
		die_repeat(st, &pr, k);
	wnw_xedit(cmd, wnw_reader_schema(r), &out, &ed, "nbr", WNW_NBR, 0);
	struct wnw_writer *w = wnw_xcreate(cmd, &out);
	if (wnw_knn_union_write(&st->u, &pr, &ed, w, &out, st->pool, &e) != 0 ||
	    wnw_knn_union_unchanged(&st->u, &e) != 0)
		wnw_die_err(cmd, &e);
	wnw_xclose(cmd, w);
	wnw_schema_free(&out);
	wnw_knn_pairs_free(&pr);
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
	if (wnw_knn_union_init(&st.u, r, wnw_xfield(&cmd, r, "id", WNW_U64, NULL), st.o.budget, &e) != 0)
		wnw_die_err(&cmd, &e);
	st.u.q = &st.q;
	if (st.o.merge)
		merge(&st, r);
	else
		search(&st, r);
	write_union(&st, r);
	wnw_reader_close(r);
	wnw_knn_union_free(&st.u);
	wnw_pool_free(st.pool);
	wnw_knn_lists_free(&st.l);
	wnw_vecs_free(&st.q);
	return wnw_cmd_done(&cmd);
}
