/* gzfit: ZIP-FIT compression alignment (see gzfit(1)): adds to every record a score (f64) of how well
 * its text compresses together with a set of target texts, exactly as ZIP-FIT defines it over gzip
 * sizes, or with --fast from compressions against the targets and against background samples of the
 * pool as zstd dictionaries. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ncd.h"
#include "par.h"
#include "prog.h"
#include "replay.h"
#include "rng.h"
#include "texts.h"

#define PROG "gzfit"
/* A batch holds at most this many records and this many bytes of records. */
#define BATCH_RECORDS 1024u
#define BATCH_BYTES (16u << 20)
#define DEFAULT_LEVEL 9
#define DEFAULT_FAST_LEVEL 3

/* Mixed into the ids that choose the background sample, so that it is not the set that shard(1) puts
 * first. */
#define SAMPLE_SALT 0x67a7f17b6ac4d3e5u

enum { OPT_FIELD = WNW_OPT_LONG, OPT_TEXT, OPT_LEVEL, OPT_FAST, OPT_DICT, OPT_FAST_LEVEL, OPT_NO_PRIME, OPT_BACKGROUND };

static const struct option longopts[] = {
	{"targets", required_argument, NULL, 't'},
	{"field", required_argument, NULL, OPT_FIELD},
	{"text", required_argument, NULL, OPT_TEXT},
	{"level", required_argument, NULL, OPT_LEVEL},
	{"fast", no_argument, NULL, OPT_FAST},
	{"dict", required_argument, NULL, OPT_DICT},
	{"fast-level", required_argument, NULL, OPT_FAST_LEVEL},
	{"no-prime", no_argument, NULL, OPT_NO_PRIME},
	{"background", required_argument, NULL, OPT_BACKGROUND},
	{"tmpdir", required_argument, NULL, 'T'},
	{"verbose", no_argument, NULL, 'v'},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = PROG,
	.synopsis = "-t TARGETS [--text NAME] [--field NAME] [--level L] [--no-prime] [-j N] [-o FILE] [-z [LEVEL]]\n"
		    "             [FILE]\n"
		    "       gzfit -t TARGETS --fast [--background pool | none | FILE] [--dict raw | trained | zlib]\n"
		    "             [--fast-level N] [--text NAME] [--field NAME] [-T DIR] [-v] [-j N] [-o FILE]\n"
		    "             [-z [LEVEL]] [FILE]",
	.help = "  -t, --targets FILE    target texts: a winnow stream, or JSONL when the name ends in\n"
		"                        .jsonl, .jsonl.gz, .jsonl.zst or .ndjson\n"
		"      --text NAME       the targets' text field or JSON member (default: text)\n"
		"      --field NAME      the pool's text field (default: text)\n"
		"      --level L         exact mode: gzip level 1 to 9 (default: 9)\n"
		"      --no-prime        exact mode: compress every pair from scratch (same scores, for checks)\n"
		"      --fast            fast mode: the targets and background samples as dictionaries\n"
		"      --background B    fast mode backgrounds: pool (samples of the input, read twice),\n"
		"                        none, or FILE, a stream holding the pool (default: pool)\n"
		"      --dict KIND       fast mode dictionary: raw, trained or zlib (default: raw)\n"
		"      --fast-level N    fast mode level: zstd 1 to 19, zlib 1 to 9 (default: 3)\n"
		"  -T, --tmpdir DIR      --background pool: temporary copy of piped input here\n"
		"                        (default $TMPDIR or /tmp)\n"
		"  -v, --verbose         fast mode: report the dictionaries' sizes on stderr\n",
	.shortopts = "t:T:v",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

struct opts {
	const char *targets, *field, *text, *background, *tmpdir, *input;
	int level, fast, fast_level, prime, verbose;
	enum ncd_fast_kind kind;
};

/* Fast mode: the scorers' dictionary slots are the targets' and then NBACK backgrounds', independent
 * samples of the pool; a record's background size is the smallest of them (see gzfit(1)). */
#define NBACK 3
#define NDICTS (1 + NBACK)

/* A record of the pool that is in background g. */
struct member {
	uint64_t id;
	size_t g;
};

/* What the threads share for one batch. */
struct job {
	const struct wnw_batch *batch;
	int field, fid;            /* the pool's text and id fields */
	const struct ncd_targets *ts;
	struct ncd_exact **exact;  /* one per thread (exact mode) */
	struct ncd_fast **fast;    /* one per thread (fast mode) */
	size_t nback;              /* backgrounds: NBACK, or 1 (the empty one) with --background none */
	struct member *insample;   /* the records in a background, by id */
	size_t ninsample;
	double *score;             /* per record of the batch */
	struct wnw_err *err;       /* per record: status 0 when scored */
};

static void parse(struct wnw_cmd *cmd, struct opts *o)
{
	int ch, level_set = 0, fast_set = 0;

	memset(o, 0, sizeof *o);
	o->field = "text";
	o->text = "text";
	o->level = DEFAULT_LEVEL;
	o->fast_level = DEFAULT_FAST_LEVEL;
	o->prime = NCD_PRIME_AUTO;
	o->kind = NCD_FAST_ZSTD_RAW;
	o->background = "pool";
	while ((ch = wnw_cmd_opt(cmd)) != -1) {
		const char *a = cmd->optarg;
		switch (ch) {
		case 't': o->targets = a; break;
		case OPT_FIELD: o->field = a; break;
		case OPT_TEXT: o->text = a; break;
		case OPT_LEVEL:
			o->level = (int)wnw_opt_u64(cmd, "--level", a, 1, 9);
			level_set = 1;
			break;
		case OPT_FAST: o->fast = 1; break;
		case OPT_DICT:
			if (strcmp(a, "raw") == 0)
				o->kind = NCD_FAST_ZSTD_RAW;
			else if (strcmp(a, "trained") == 0)
				o->kind = NCD_FAST_ZSTD_TRAINED;
			else if (strcmp(a, "zlib") == 0)
				o->kind = NCD_FAST_ZLIB;
			else
				wnw_usage(cmd, "--dict: '%s' is not raw, trained or zlib", a);
			fast_set = 1;
			break;
		case OPT_FAST_LEVEL:
			o->fast_level = (int)wnw_opt_u64(cmd, "--fast-level", a, 1, 19);
			fast_set = 1;
			break;
		case OPT_NO_PRIME: o->prime = 0; break;
		case OPT_BACKGROUND:
			o->background = a;
			fast_set = 1;
			break;
		case 'T': o->tmpdir = a; break;
		case 'v': o->verbose = 1; break;
		default: wnw_usage(cmd, "unknown option");
		}
	}
	if (o->targets == NULL)
		wnw_usage(cmd, "no targets: -t FILE is required");
	if (o->fast && level_set)
		wnw_usage(cmd, "--level is the exact mode's gzip level; with --fast use --fast-level");
	if (!o->fast && fast_set)
		wnw_usage(cmd, "--dict, --fast-level and --background need --fast");
	if (o->fast && o->prime == 0)
		wnw_usage(cmd, "--no-prime is for exact mode only");
	if (o->fast && o->kind == NCD_FAST_ZLIB && o->fast_level > 9)
		wnw_usage(cmd, "--fast-level: '%d' is above zlib's 9", o->fast_level);
	o->input = wnw_cmd_input(cmd);
	if (o->input == NULL && (strcmp(o->targets, "-") == 0 || (o->fast && strcmp(o->background, "-") == 0)))
		wnw_usage(cmd, "the pool is on standard input already; name the pool FILE");
}

static int background_is(const struct opts *o, const char *what)
{
	return o->fast && strcmp(o->background, what) == 0;
}

static void add_text(struct wnw_cmd *cmd, struct ncd_targets *ts, struct ncd_exact *sc, const void *p, size_t n)
{
	struct wnw_err e;
	if (ncd_targets_add(ts, sc, p, n, &e) < 0)
		wnw_die_err(cmd, &e);
}

/* What add_target fills: the target set, and the scorer that sizes each target. */
struct target_load {
	struct ncd_targets *ts;
	struct ncd_exact *sc;
};

/* One target text into the set, sized by the scorer in ctx. */
static int add_target(void *ctx, uint64_t id, const uint8_t *p, size_t n, const char *where, struct wnw_err *e)
{
	struct target_load *t = ctx;
	(void)id, (void)where;
	return ncd_targets_add(t->ts, t->sc, p, n, e);
}

/* Reads the target set and sizes every target once (C(t) at the exact level). */
static void load_targets(struct wnw_cmd *cmd, const struct opts *o, struct ncd_targets *ts)
{
	struct wnw_err e;
	struct ncd_exact *sc = ncd_exact_new(o->level, 0, &e);

	if (sc == NULL || ncd_targets_init(ts, o->level, &e) < 0)
		wnw_die_err(cmd, &e);
	struct target_load t = {ts, sc};
	if (wnw_texts_each(o->targets, o->text, add_target, &t, &e) < 0)
		wnw_die_err(cmd, &e);
	ncd_exact_free(sc);
	if (ts->n == 0)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: no targets", o->targets);
}

/* ---- the background samples of the pool ---- */

/* A record of a sample: its key, input position and a copy of its text. */
struct pick {
	uint64_t key, seq, id;
	uint8_t *text;
	size_t len;
};

/* The non-empty records of smallest (key, position) among those offered, whose texts add up to at least
 * want bytes: a max-heap, so memory stays near want whatever the pool's size. */
struct sample {
	struct pick *h;
	size_t n, cap;
	uint64_t bytes, want;
};

static int pick_after(const struct pick *a, const struct pick *b)
{
	return a->key != b->key ? a->key > b->key : a->seq > b->seq;
}

static void pick_swap(struct pick *a, struct pick *b)
{
	struct pick t = *a;
	*a = *b;
	*b = t;
}

static void heap_up(struct pick *h, size_t i)
{
	for (; i > 0 && pick_after(&h[i], &h[(i - 1) / 2]); i = (i - 1) / 2)
		pick_swap(&h[i], &h[(i - 1) / 2]);
}

static void heap_down(struct pick *h, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && pick_after(&h[c + 1], &h[c]))
			c++;
		if (!pick_after(&h[c], &h[i]))
			return;
		pick_swap(&h[c], &h[i]);
		i = c;
	}
}

static void sample_offer(struct wnw_cmd *cmd, struct sample *s, const struct pick *p, const uint8_t *text)
{
	if (p->len == 0 || s->want == 0 || (s->n > 0 && s->bytes >= s->want && pick_after(p, &s->h[0])))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->h = wnw_xrealloc(cmd, s->h, s->cap * sizeof *s->h);
	}
	s->h[s->n] = *p;
	s->h[s->n].text = wnw_xmalloc(cmd, p->len);
	memcpy(s->h[s->n].text, text, p->len);
	heap_up(s->h, s->n++);
	s->bytes += p->len;
	while (s->n > 1 && s->bytes - s->h[0].len >= s->want) {
		s->bytes -= s->h[0].len;
		free(s->h[0].text);
		s->h[0] = s->h[--s->n];
		heap_down(s->h, s->n, 0);
	}
}

static int pick_cmp(const void *a, const void *b)
{
	return pick_after(a, b) - pick_after(b, a);
}

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

/* Samples the records of r into NBACK backgrounds: with key = splitmix64(id ^ SAMPLE_SALT), background g
 * takes the records of key % NBACK = g with the smallest keys (then input positions) whose texts add up
 * to want bytes. The sample depends only on the ids and texts, not on their order or on -j, so a file
 * that holds the pool (--background FILE) gives the same backgrounds as the pool itself. */
static void sample_backgrounds(struct wnw_cmd *cmd, struct wnw_reader *r, struct wnw_replay *rp, int field,
			       uint64_t want, struct ncd_targets bg[NBACK], struct job *j)
{
	int fid = wnw_xfield(cmd, r, "id", WNW_U64, NULL);
	struct sample s[NBACK] = {{0}};
	struct wnw_rec rec;
	struct wnw_err e;
	uint64_t seq = 0;
	int got;

	for (size_t g = 0; g < NBACK; g++)
		s[g].want = want;
	while ((got = rp ? wnw_replay_next(rp, &rec, &e) : wnw_reader_next(r, &rec, &e)) == 1) {
		struct pick p = {.id = wnw_get_u64(&rec, fid), .seq = seq};
		uint64_t state = p.id ^ SAMPLE_SALT;
		const uint8_t *text = wnw_get_bytes(&rec, field, &p.len);
		p.key = wnw_splitmix64(&state);
		sample_offer(cmd, &s[p.key % NBACK], &p, text);
		seq++;
		wnw_progress(cmd, r);
	}
	if (got < 0)
		wnw_die_err(cmd, &e);
	size_t total = 0;
	for (size_t g = 0; g < NBACK; g++)
		total += s[g].n;
	j->insample = wnw_xcalloc(cmd, total + 1, sizeof *j->insample);
	for (size_t g = 0; g < NBACK; g++) {
		if (s[g].n > 0)
			qsort(s[g].h, s[g].n, sizeof *s[g].h, pick_cmp);
		for (size_t i = 0; i < s[g].n; i++) {
			struct pick *p = &s[g].h[i];
			add_text(cmd, &bg[g], NULL, p->text, p->len);
			free(p->text);
			j->insample[j->ninsample++] = (struct member){p->id, g};
		}
		free(s[g].h);
	}
	qsort(j->insample, j->ninsample, sizeof *j->insample, member_cmp);
}

/* The background a record belongs to, or NBACK. */
static size_t own_background(const struct job *j, uint64_t id)
{
	struct member key = {id, 0};
	const struct member *m = bsearch(&key, j->insample, j->ninsample, sizeof key, member_cmp);
	return m ? m->g : NBACK;
}

/* Z(x | T) and the smallest Z(x | B_g) over the backgrounds that do not hold x itself. */
static void fast_score(struct job *j, size_t i, int thread, const uint8_t *text, size_t len)
{
	struct ncd_fast *f = j->fast[thread];
	size_t own = j->ninsample ? own_background(j, wnw_get_u64(&j->batch->recs[i], j->fid)) : NBACK;
	uint64_t zt = 0, zb = UINT64_MAX, z;

	j->score[i] = 0;
	if (len == 0 || ncd_fast_size(f, 0, text, len, &zt, &j->err[i]) < 0)
		return;
	for (size_t g = 0; g < j->nback; g++) {
		if (g == own)
			continue;
		if (ncd_fast_size(f, 1 + g, text, len, &z, &j->err[i]) < 0)
			return;
		if (z < zb)
			zb = z;
	}
	j->score[i] = ncd_fast_from_sizes(zt, zb);
}

static void score_one(void *ctx, size_t i, int thread)
{
	struct job *j = ctx;
	size_t len;
	const uint8_t *text = wnw_get_bytes(&j->batch->recs[i], j->field, &len);

	j->err[i].status = 0;
	if (j->fast != NULL)
		fast_score(j, i, thread, text, len);
	else
		ncd_exact_score(j->exact[thread], j->ts, text, len, &j->score[i], &j->err[i]);
}

/* Reads the next batch into b; returns 0 at the end of the input. */
static int read_batch(struct wnw_cmd *cmd, struct wnw_reader *r, struct wnw_batch *b)
{
	struct wnw_rec rec;

	wnw_batch_clear(b);
	while (b->n < BATCH_RECORDS && wnw_batch_bytes(b) < BATCH_BYTES && wnw_xnext(cmd, r, &rec) == 1) {
		if (wnw_batch_add(b, &rec) < 0)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory for a batch of records");
		wnw_progress(cmd, r);
	}
	return b->n > 0;
}

static struct ncd_fast_dict *make_dict(struct wnw_cmd *cmd, const struct opts *o, const struct ncd_targets *ts,
				       const char *what)
{
	struct wnw_err e;
	struct ncd_fast_dict *d = ncd_fast_dict_new(ts, o->kind, o->fast_level, &e);
	if (d == NULL)
		wnw_die(cmd, e.status, "%s: %s", what, e.msg);
	return d;
}

/* Per-thread compressors, allocated once; in fast mode over the targets' dictionary and the
 * backgrounds'. */
static void make_scorers(struct wnw_cmd *cmd, const struct opts *o, const struct ncd_targets *ts,
			 const struct ncd_targets bg[NBACK], struct job *j, struct ncd_fast_dict *dict[NDICTS])
{
	struct wnw_err e;
	int n = cmd->threads;

	if (o->fast) {
		const char *bgname = background_is(o, "pool") ? "the background sample of the input" : o->background;
		dict[0] = make_dict(cmd, o, ts, o->targets);
		for (size_t g = 0; g < j->nback; g++)
			dict[1 + g] = make_dict(cmd, o, &bg[g], bgname);
		for (size_t d = 0; o->verbose && d <= j->nback; d++)
			wnw_warn(cmd, "%s: %zu texts, %" PRIu64 " bytes, a dictionary of %zu bytes",
				 d == 0 ? "targets" : "background", d == 0 ? ts->n : bg[d - 1].n,
				 d == 0 ? ts->bytes : bg[d - 1].bytes, ncd_fast_dict_size(dict[d]));
		j->fast = wnw_xcalloc(cmd, (size_t)n, sizeof(struct ncd_fast *));
		for (int t = 0; t < n; t++)
			if ((j->fast[t] = ncd_fast_new((const struct ncd_fast_dict *const *)dict, 1 + j->nback, &e)) ==
			    NULL)
				wnw_die_err(cmd, &e);
	} else {
		j->exact = wnw_xcalloc(cmd, (size_t)n, sizeof(struct ncd_exact *));
		for (int t = 0; t < n; t++)
			if ((j->exact[t] = ncd_exact_new(o->level, o->prime, &e)) == NULL)
				wnw_die_err(cmd, &e);
	}
}

static void free_scorers(int n, struct job *j, struct ncd_fast_dict *dict[NDICTS])
{
	for (int t = 0; t < n; t++) {
		if (j->fast)
			ncd_fast_free(j->fast[t]);
		if (j->exact)
			ncd_exact_free(j->exact[t]);
	}
	free(j->fast);
	free(j->exact);
	for (int d = 0; d < NDICTS; d++)
		ncd_fast_dict_free(dict[d]);
}

/* The backgrounds of fast mode: none (one empty background), or samples of the pool, read from a file
 * or in a first pass over the input. */
static void load_backgrounds(struct wnw_cmd *cmd, const struct opts *o, const struct ncd_targets *ts,
			     struct wnw_replay *rp, int field, struct ncd_targets bg[NBACK], struct job *j)
{
	struct wnw_err e;
	uint64_t want = ts->bytes < NCD_FAST_DICT_MAX ? ts->bytes : NCD_FAST_DICT_MAX;

	for (int g = 0; g < NBACK; g++)
		if (ncd_targets_init(&bg[g], 0, &e) < 0)
			wnw_die_err(cmd, &e);
	j->nback = background_is(o, "none") ? 1 : NBACK;
	if (!o->fast || j->nback == 1)
		return;
	if (rp != NULL) {
		sample_backgrounds(cmd, wnw_replay_reader(rp), rp, field, want, bg, j);
		if (wnw_replay_rewind(rp, &e) < 0)
			wnw_die_err(cmd, &e);
		return;
	}
	struct wnw_reader *r = wnw_xopen(cmd, o->background);
	sample_backgrounds(cmd, r, NULL, wnw_xfield(cmd, r, o->field, WNW_BYTES, NULL), want, bg, j);
	wnw_reader_close(r);
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct opts o;
	struct wnw_err e;
	struct ncd_targets ts = {0}, bg[NBACK];
	struct ncd_fast_dict *dict[NDICTS] = {0};
	struct wnw_replay *rp = NULL;
	struct wnw_reader *r;

	wnw_cmd_init(&cmd, &spec, argc, argv);
	parse(&cmd, &o);
	if (background_is(&o, "pool")) {
		if ((rp = wnw_replay_open(o.input, o.tmpdir, &e)) == NULL)
			wnw_die_err(&cmd, &e);
		wnw_cmd_on_die(&cmd, wnw_replay_discard, rp);
		wnw_replay_set_max_record(rp, cmd.max_record);
		r = wnw_replay_reader(rp);
	} else {
		r = wnw_xopen(&cmd, o.input);
	}
	struct job j = {0};
	j.field = wnw_xfield(&cmd, r, o.field, WNW_BYTES, NULL);
	if (o.fast && !background_is(&o, "none"))
		j.fid = wnw_xfield(&cmd, r, "id", WNW_U64, NULL);
	load_targets(&cmd, &o, &ts);
	j.ts = &ts;
	load_backgrounds(&cmd, &o, &ts, rp, j.field, bg, &j);
	if (rp != NULL)
		r = wnw_replay_reader(rp);

	struct wnw_schema out;
	struct wnw_edit ed;
	wnw_xedit(&cmd, wnw_reader_schema(r), &out, &ed, "score", WNW_F64, 0);
	struct wnw_pool *pool = wnw_xpool(&cmd, cmd.threads);
	make_scorers(&cmd, &o, &ts, bg, &j, dict);
	j.score = wnw_xcalloc(&cmd, BATCH_RECORDS, sizeof *j.score);
	j.err = wnw_xcalloc(&cmd, BATCH_RECORDS, sizeof *j.err);
	struct wnw_writer *w = wnw_xcreate(&cmd, &out);

	struct wnw_batch b;
	wnw_batch_init(&b);
	j.batch = &b;
	while (read_batch(&cmd, r, &b)) {
		wnw_pool_run(pool, b.n, score_one, &j);
		for (size_t i = 0; i < b.n; i++) {
			if (j.err[i].status != 0)
				wnw_die(&cmd, j.err[i].status, "%s: record %" PRIu64 ": %s", wnw_reader_name(r),
					b.recs[i].number, j.err[i].msg);
			wnw_edit_begin(w, &b.recs[i], &ed);
			wnw_writer_f64(w, j.score[i]);
			if (wnw_edit_end(w, &b.recs[i], &ed, &e) < 0)
				wnw_die_err(&cmd, &e);
		}
	}
	wnw_xclose(&cmd, w);
	wnw_progress_done(&cmd, r);

	wnw_batch_free(&b);
	wnw_pool_free(pool);
	free_scorers(cmd.threads, &j, dict);
	free(j.score);
	free(j.err);
	free(j.insample);
	wnw_schema_free(&out);
	ncd_targets_free(&ts);
	for (int g = 0; g < NBACK; g++)
		ncd_targets_free(&bg[g]);
	if (rp != NULL) {
		wnw_cmd_on_die(&cmd, NULL, NULL);
		wnw_replay_close(rp);
	} else {
		wnw_reader_close(r);
	}
	return wnw_cmd_done(&cmd);
}
