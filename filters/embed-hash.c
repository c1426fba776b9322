/* embed-hash: turns the text field of every record into an L2-normalised vector by signed feature
 * hashing of word and character n-grams (see embed-hash(1)); or, with --fit-idf, counts the document
 * frequencies of the features into an IDF file. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hashembed.h"
#include "par.h"
#include "prog.h"

#define PROG "embed-hash"
/* A batch holds at most this many records, this many bytes of records, and this many bytes of vectors:
 * the three batches in flight stay within the L3 cache (8 MB batches, 36 MB with their vectors, took
 * 10-15% more CPU time with two threads on the eval corpus). */
#define BATCH_RECORDS 4096u
#define BATCH_BYTES (2u << 20)
#define BATCH_VEC_BYTES (4u << 20)

enum { OPT_FIELD = WNW_OPT_LONG, OPT_OUT, OPT_DIM, OPT_WORD, OPT_CHAR, OPT_SEED, OPT_IDF, OPT_FIT_IDF, OPT_IDF_BITS };

static const struct option longopts[] = {
	{"field", required_argument, NULL, OPT_FIELD},
	{"out", required_argument, NULL, OPT_OUT},
	{"dim", required_argument, NULL, OPT_DIM},
	{"word", required_argument, NULL, OPT_WORD},
	{"char", required_argument, NULL, OPT_CHAR},
	{"seed", required_argument, NULL, OPT_SEED},
	{"idf", required_argument, NULL, OPT_IDF},
	{"fit-idf", required_argument, NULL, OPT_FIT_IDF},
	{"idf-bits", required_argument, NULL, OPT_IDF_BITS},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = PROG,
	.synopsis = "[--field NAME] [--out NAME] [--dim D] [--word N[-M]] [--char N[-M]] [--seed S]\n"
		    "       [--idf FILE | --fit-idf FILE [--idf-bits B]] [-j N] [-o FILE] [-z [LEVEL]] [FILE]",
	.help = "  --field NAME      text field to embed (default: text)\n"
		"  --out NAME        vector field to write, replaced if it exists (default: vec)\n"
		"  --dim D           dimension, 1 to 65536 (default: 256)\n"
		"  --word N[-M]      word n-gram orders, 0 for none (default: 1-2)\n"
		"  --char N[-M]      character n-gram orders, 0 for none (default: 0)\n"
		"  --seed S          hash seed (default: 0)\n"
		"  --idf FILE        weight features by the IDF file FILE\n"
		"  --fit-idf FILE    write the document frequencies of the input to FILE; no vector output\n"
		"  --idf-bits B      with --fit-idf: 2^B IDF buckets, 10 to 26 (default: 20)\n",
	.shortopts = "",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

struct opts {
	const char *input; /* NULL: standard input */
	const char *field, *out, *idf, *fit_idf;
	unsigned idf_bits;
	int idf_bits_set;
	struct hemb_config c;
};

/* --fit-idf: the distinct IDF buckets of one record. */
struct idf_list {
	uint32_t *b;
	size_t n, cap;
};

/* What the threads share: the options, the text field and a scratch per thread; for --fit-idf also the
 * batch and its per-record results. */
struct job {
	const struct hemb_config *c;
	struct wnw_batch batch;
	int field;
	struct hemb_scratch *scratch; /* one per thread */
	long *nfeat;                  /* hemb_features's outcome per record */
	struct idf_list *lists;       /* --fit-idf: distinct IDF buckets per record */
	unsigned bits;
};

static void parse(struct wnw_cmd *cmd, struct opts *o)
{
	int ch;
	memset(o, 0, sizeof *o);
	o->field = "text";
	o->out = "vec";
	o->idf_bits = HEMB_IDF_BITS_DEFAULT;
	o->c.dim = 256;
	o->c.word_lo = 1;
	o->c.word_hi = 2;
	while ((ch = wnw_cmd_opt(cmd)) != -1) {
		const char *a = cmd->optarg;
		switch (ch) {
		case OPT_FIELD: o->field = a; break;
		case OPT_OUT: o->out = a; break;
		case OPT_DIM: o->c.dim = (uint32_t)wnw_opt_u64(cmd, "--dim", a, 1, HEMB_MAX_DIM); break;
		case OPT_WORD:
			if (hemb_parse_range(a, &o->c.word_lo, &o->c.word_hi) < 0)
				wnw_usage(cmd, "--word: '%s' is not N or N-M with 1 <= N <= M <= %d, or 0", a, HEMB_MAX_N);
			break;
		case OPT_CHAR:
			if (hemb_parse_range(a, &o->c.char_lo, &o->c.char_hi) < 0)
				wnw_usage(cmd, "--char: '%s' is not N or N-M with 1 <= N <= M <= %d, or 0", a, HEMB_MAX_N);
			break;
		case OPT_SEED: o->c.seed = wnw_opt_u64(cmd, "--seed", a, 0, UINT64_MAX); break;
		case OPT_IDF: o->idf = a; break;
		case OPT_FIT_IDF: o->fit_idf = a; break;
		case OPT_IDF_BITS:
			o->idf_bits = (unsigned)wnw_opt_u64(cmd, "--idf-bits", a, HEMB_IDF_BITS_MIN, HEMB_IDF_BITS_MAX);
			o->idf_bits_set = 1;
			break;
		default: wnw_usage(cmd, "unknown option");
		}
	}
	struct wnw_err e;
	if (hemb_config_check(&o->c, &e) < 0)
		wnw_usage(cmd, "%s", e.msg);
	if (o->idf && o->fit_idf)
		wnw_usage(cmd, "--idf and --fit-idf exclude each other");
	if (o->idf_bits_set && !o->fit_idf)
		wnw_usage(cmd, "--idf-bits needs --fit-idf");
	if (o->fit_idf && cmd->output)
		wnw_usage(cmd, "--fit-idf FILE is the output: -o is not allowed with it");
	o->input = wnw_cmd_input(cmd);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* The distinct IDF buckets of record i's features, sorted, into lists[i]. */
static void buckets_one(void *ctx, size_t i, int thread)
{
	struct job *j = ctx;
	struct hemb_scratch *s = &j->scratch[thread];
	struct idf_list *l = &j->lists[i];
	size_t len;
	const uint8_t *text = wnw_get_bytes(&j->batch.recs[i], j->field, &len);
	j->nfeat[i] = -1;
	l->n = 0;
	if (hemb_features(j->c, s, text, len) < 0)
		return;
	if (s->nfeat > l->cap) {
		uint32_t *b = realloc(l->b, s->nfeat * sizeof *b);
		if (!b)
			return;
		l->b = b;
		l->cap = s->nfeat;
	}
	for (size_t k = 0; k < s->nfeat; k++)
		l->b[k] = hemb_idf_bucket(s->feat[k].hash, j->bits);
	qsort(l->b, s->nfeat, sizeof *l->b, cmp_u32);
	for (size_t k = 0; k < s->nfeat; k++)
		if (l->n == 0 || l->b[l->n - 1] != l->b[k])
			l->b[l->n++] = l->b[k];
	j->nfeat[i] = (long)s->nfeat;
}

/* Reads the next batch into b; returns 0 at the end of the input. */
static int read_batch(struct wnw_cmd *cmd, struct wnw_reader *r, struct wnw_batch *b, size_t max)
{
	struct wnw_rec rec;
	wnw_batch_clear(b);
	while (b->n < max && wnw_batch_bytes(b) < BATCH_BYTES && wnw_xnext(cmd, r, &rec) == 1)
		if (wnw_batch_add(b, &rec) < 0)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory for a batch of records");
	return b->n > 0;
}

static void check_result(struct wnw_cmd *cmd, const struct wnw_reader *r, const struct wnw_rec *rec, long nf)
{
	if (nf < 0)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "%s: record %" PRIu64 ": out of memory for the features of the text",
			wnw_reader_name(r), rec->number);
}

static void warn_empty(const struct wnw_cmd *cmd, const struct wnw_reader *r, uint64_t empty)
{
	if (empty > 0)
		wnw_warn(cmd, "%s: %" PRIu64 " of %" PRIu64 " records had no features (empty text): zero vectors",
			 wnw_reader_name(r), empty, wnw_reader_count(r));
}

/* --fit-idf: counts in how many records each IDF bucket occurs and writes the IDF file. */
static void fit_idf(struct wnw_cmd *cmd, const struct opts *o, struct wnw_reader *r, struct job *j,
		    struct wnw_pool *pool)
{
	size_t nb = (size_t)1 << o->idf_bits;
	uint64_t *df = wnw_xcalloc(cmd, nb, sizeof *df), docs = 0, empty = 0;
	struct wnw_batch *b = &j->batch;
	j->bits = o->idf_bits;
	j->lists = wnw_xcalloc(cmd, BATCH_RECORDS, sizeof *j->lists);
	while (read_batch(cmd, r, b, BATCH_RECORDS)) {
		wnw_pool_run(pool, b->n, buckets_one, j);
		for (size_t i = 0; i < b->n; i++) {
			check_result(cmd, r, &b->recs[i], j->nfeat[i]);
			empty += j->nfeat[i] == 0;
			for (size_t k = 0; k < j->lists[i].n; k++)
				df[j->lists[i].b[k]]++;
		}
		docs += b->n;
	}
	if (cmd->progress)
		wnw_progress_done(cmd, r);

	struct wnw_schema s;
	struct wnw_err e;
	if (wnw_schema_copy(&s, wnw_reader_schema(r), &e) < 0)
		wnw_die_err(cmd, &e);
	while (s.nfields > 0)
		wnw_schema_remove(&s, s.fields[0].name);
	if (wnw_schema_set(&s, "bucket", WNW_U64, 0, &e) < 0 || wnw_schema_set(&s, "df", WNW_U64, 0, &e) < 0)
		wnw_die_err(cmd, &e);
	cmd->output = o->fit_idf;
	struct wnw_writer *w = wnw_xcreate(cmd, &s);
	const uint64_t meta[HEMB_META_N] = {
		[HEMB_META_DOCS] = docs, [HEMB_META_BITS] = o->idf_bits, [HEMB_META_SEED] = o->c.seed,
		[HEMB_META_WORD_LO] = (uint64_t)o->c.word_lo, [HEMB_META_WORD_HI] = (uint64_t)o->c.word_hi,
		[HEMB_META_CHAR_LO] = (uint64_t)o->c.char_lo, [HEMB_META_CHAR_HI] = (uint64_t)o->c.char_hi,
		[HEMB_META_RULES] = HEMB_RULES,
	};
	for (int k = 0; k < HEMB_META_N; k++) {
		wnw_writer_u64(w, HEMB_IDF_META + (uint64_t)k);
		wnw_writer_u64(w, meta[k]);
		wnw_xend(cmd, w);
	}
	for (size_t i = 0; i < nb; i++) {
		if (df[i] == 0)
			continue;
		wnw_writer_u64(w, i);
		wnw_writer_u64(w, df[i]);
		wnw_xend(cmd, w);
	}
	wnw_xclose(cmd, w);
	warn_empty(cmd, r, empty);
	for (size_t i = 0; i < BATCH_RECORDS; i++)
		free(j->lists[i].b);
	free(j->lists);
	wnw_schema_free(&s);
	free(df);
}

/* The vector output runs as a pipeline of three batches so that reading and writing overlap the
 * embedding: while the threads embed batch k, one of them writes batch k - 1 and one reads batch k + 1.
 * Batch boundaries depend only on the input, and batches are written in order, so the bytes written
 * do not depend on the number of threads. Errors met by the reading or writing item are kept and
 * reported by the main thread once the pool is idle (a thread other than main must not die while
 * another one writes). */
struct stage {
	struct wnw_batch b;
	float *vecs; /* dim floats per record */
	long *nfeat; /* hemb_embed's result per record */
};

struct pipeline {
	const struct job *j;
	struct stage st[3];
	int cur, prev, next; /* stage being embedded, written, read; -1: none */
	/* reading */
	struct wnw_cmd *cmd;
	struct wnw_reader *r;
	size_t max;
	int eof, rfail;
	struct wnw_err rerr;
	/* writing */
	struct wnw_writer *w;
	const struct wnw_edit *ed;
	uint64_t empty;
	int wfail;
	struct wnw_err werr;
};

static void read_stage(struct pipeline *p, struct stage *s)
{
	struct wnw_rec rec;
	wnw_batch_clear(&s->b);
	while (s->b.n < p->max && wnw_batch_bytes(&s->b) < BATCH_BYTES) {
		int got = wnw_reader_next(p->r, &rec, &p->rerr);
		if (got <= 0) {
			p->eof = 1;
			p->rfail = got < 0;
			return;
		}
		if (p->cmd->progress)
			wnw_progress(p->cmd, p->r);
		if (wnw_batch_add(&s->b, &rec) < 0) {
			p->rfail = 1;
			wnw_errf(&p->rerr, WNW_EXIT_SYSTEM, "out of memory for a batch of records");
			return;
		}
	}
}

/* Writes rec with its vector; nf is hemb_embed's result. Returns 0, or -1 with the error kept in p. */
static int write_one(struct pipeline *p, const struct wnw_rec *rec, const float *vec, long nf)
{
	if (nf < 0) {
		p->wfail = 1;
		return wnw_errf(&p->werr, WNW_EXIT_SYSTEM, "%s: record %" PRIu64 ": out of memory for the features "
				"of the text", wnw_reader_name(p->r), rec->number);
	}
	p->empty += nf == 0;
	wnw_edit_begin(p->w, rec, p->ed);
	wnw_writer_vec(p->w, vec);
	if (wnw_edit_end(p->w, rec, p->ed, &p->werr) < 0) {
		p->wfail = 1;
		return -1;
	}
	return 0;
}

static void write_stage(struct pipeline *p, const struct stage *s)
{
	for (size_t i = 0; i < s->b.n; i++)
		if (write_one(p, &s->b.recs[i], s->vecs + i * p->j->c->dim, s->nfeat[i]) < 0)
			return;
}

/* Item 0 reads the next batch, item 1 writes the previous one, item 2 + i embeds record i. */
static void pipeline_item(void *ctx, size_t i, int thread)
{
	struct pipeline *p = ctx;
	if (i == 0) {
		if (p->next >= 0)
			read_stage(p, &p->st[p->next]);
	} else if (i == 1) {
		if (p->prev >= 0)
			write_stage(p, &p->st[p->prev]);
	} else {
		struct stage *s = &p->st[p->cur];
		size_t len;
		const uint8_t *text = wnw_get_bytes(&s->b.recs[i - 2], p->j->field, &len);
		s->nfeat[i - 2] = hemb_embed(p->j->c, &p->j->scratch[thread], text, len,
					     s->vecs + (i - 2) * p->j->c->dim);
	}
}

static void pipeline_check(const struct pipeline *p)
{
	if (p->wfail)
		wnw_die_err(p->cmd, &p->werr);
	if (p->rfail)
		wnw_die_err(p->cmd, &p->rerr);
}

/* One thread: each record embedded and written as it is read, straight from the reader's buffer.
 * The batches' copies and the three stages' working set, megabytes that leave the caches between
 * copying and embedding, cost a seventh of the time of a run on one core. */
static void embed_serial(struct pipeline *p)
{
	struct wnw_rec rec;
	float *vec = wnw_xmalloc(p->cmd, p->j->c->dim * sizeof *vec);
	while (wnw_xnext(p->cmd, p->r, &rec)) {
		size_t len;
		const uint8_t *text = wnw_get_bytes(&rec, p->j->field, &len);
		if (write_one(p, &rec, vec, hemb_embed(p->j->c, &p->j->scratch[0], text, len, vec)) < 0)
			pipeline_check(p);
	}
	free(vec);
}

/* Several threads: the batches run through the three stages (see struct pipeline). */
static void embed_batches(struct pipeline *p, struct wnw_pool *pool)
{
	uint32_t dim = p->j->c->dim;
	p->max = BATCH_VEC_BYTES / (dim * sizeof(float));
	p->max = p->max < 1 ? 1 : p->max > BATCH_RECORDS ? BATCH_RECORDS : p->max;
	for (int k = 0; k < 3; k++) {
		wnw_batch_init(&p->st[k].b);
		p->st[k].vecs = wnw_xmalloc(p->cmd, p->max * dim * sizeof(float));
		p->st[k].nfeat = wnw_xcalloc(p->cmd, p->max, sizeof(long));
	}
	int has[3] = {0, 0, 0};
	read_stage(p, &p->st[0]);
	pipeline_check(p);
	has[0] = p->st[0].b.n > 0;
	for (unsigned k = 0;; k++) {
		int c = (int)(k % 3), pw = (int)((k + 2) % 3), nx = (int)((k + 1) % 3);
		if (!has[c] && !has[pw])
			break;
		p->cur = has[c] ? c : -1;
		p->prev = has[pw] ? pw : -1;
		p->next = has[c] && !p->eof ? nx : -1;
		wnw_pool_run(pool, 2 + (has[c] ? p->st[c].b.n : 0), pipeline_item, p);
		pipeline_check(p);
		has[pw] = 0;
		if (p->next >= 0)
			has[nx] = p->st[nx].b.n > 0;
	}
	for (int k = 0; k < 3; k++) {
		wnw_batch_free(&p->st[k].b);
		free(p->st[k].vecs);
		free(p->st[k].nfeat);
	}
}

/* The vectors: input records with the vector field set. */
static void embed(struct wnw_cmd *cmd, const struct opts *o, struct wnw_reader *r, const struct job *j,
		  struct wnw_pool *pool)
{
	struct wnw_schema out;
	struct wnw_edit ed;
	wnw_xedit(cmd, wnw_reader_schema(r), &out, &ed, o->out, WNW_VEC, o->c.dim);
	struct pipeline p = {.j = j, .cmd = cmd, .r = r, .ed = &ed, .cur = -1, .prev = -1, .next = -1};
	p.w = wnw_xcreate(cmd, &out);
	if (wnw_pool_threads(pool) == 1)
		embed_serial(&p);
	else
		embed_batches(&p, pool);
	if (cmd->progress)
		wnw_progress_done(cmd, r);
	wnw_xclose(cmd, p.w);
	warn_empty(cmd, r, p.empty);
	wnw_schema_free(&out);
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct opts o;
	wnw_cmd_init(&cmd, &spec, argc, argv);
	parse(&cmd, &o);

	struct hemb_idf idf = {0};
	if (o.idf) {
		struct wnw_err e;
		if (hemb_idf_load(o.idf, &o.c, &idf, &e) < 0)
			wnw_die_err(&cmd, &e);
		o.c.idf = &idf;
	}
	struct wnw_reader *r = wnw_xopen(&cmd, o.input);
	struct job j = {.c = &o.c};
	wnw_batch_init(&j.batch);
	j.field = wnw_xfield(&cmd, r, o.field, WNW_BYTES, NULL);
	struct wnw_pool *pool = wnw_xpool(&cmd, cmd.threads);
	j.scratch = wnw_xcalloc(&cmd, (size_t)cmd.threads, sizeof *j.scratch);
	j.nfeat = wnw_xcalloc(&cmd, BATCH_RECORDS, sizeof *j.nfeat);

	if (o.fit_idf)
		fit_idf(&cmd, &o, r, &j, pool);
	else
		embed(&cmd, &o, r, &j, pool);

	wnw_pool_free(pool);
	wnw_batch_free(&j.batch);
	for (int t = 0; t < cmd.threads; t++)
		hemb_scratch_free(&j.scratch[t]);
	free(j.scratch);
	free(j.nfeat);
	hemb_idf_free(&idf);
	wnw_reader_close(r);
	return wnw_cmd_done(&cmd);
}
