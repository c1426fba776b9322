/* gzfit: ZIP-FIT compression alignment (see gzfit(1)): adds to every record a score (f64) of how well
 * its text compresses together with a set of target texts, exactly as ZIP-FIT defines it over gzip
 * sizes, or with --fast from one compression against the target set as a zstd dictionary. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "lines.h"
#include "ncd.h"
#include "par.h"
#include "prog.h"

#define PROG "gzfit"
/* A batch holds at most this many records and this many bytes of records. */
#define BATCH_RECORDS 1024u
#define BATCH_BYTES (16u << 20)
#define DEFAULT_LEVEL 9
#define DEFAULT_FAST_LEVEL 3

enum { OPT_FIELD = 256, OPT_TEXT, OPT_LEVEL, OPT_FAST, OPT_DICT, OPT_FAST_LEVEL, OPT_NO_PRIME };

static const struct option longopts[] = {
	{"targets", required_argument, NULL, 't'},
	{"field", required_argument, NULL, OPT_FIELD},
	{"text", required_argument, NULL, OPT_TEXT},
	{"level", required_argument, NULL, OPT_LEVEL},
	{"fast", no_argument, NULL, OPT_FAST},
	{"dict", required_argument, NULL, OPT_DICT},
	{"fast-level", required_argument, NULL, OPT_FAST_LEVEL},
	{"no-prime", no_argument, NULL, OPT_NO_PRIME},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = PROG,
	.synopsis = "-t TARGETS [--text NAME] [--field NAME] [--level L] [--no-prime] [-j N] [-o FILE] [-z [LEVEL]]\n"
		    "             [FILE]\n"
		    "       gzfit -t TARGETS --fast [--dict raw | trained | zlib] [--fast-level N] [--text NAME]\n"
		    "             [--field NAME] [-j N] [-o FILE] [-z [LEVEL]] [FILE]",
	.help = "  -t, --targets FILE    target texts: a winnow stream, or JSONL when the name ends in\n"
		"                        .jsonl, .jsonl.gz, .jsonl.zst or .ndjson\n"
		"      --text NAME       the targets' text field or JSON member (default: text)\n"
		"      --field NAME      the pool's text field (default: text)\n"
		"      --level L         exact mode: gzip level 1 to 9 (default: 9)\n"
		"      --no-prime        exact mode: compress every pair from scratch (same scores, for checks)\n"
		"      --fast            fast mode: one compression per record, the targets as dictionary\n"
		"      --dict KIND       fast mode dictionary: raw, trained or zlib (default: raw)\n"
		"      --fast-level N    fast mode level: zstd 1 to 19, zlib 1 to 9 (default: 3)\n",
	.shortopts = "t:",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

struct opts {
	const char *targets, *field, *text;
	int level, fast, fast_level, prime;
	enum ncd_fast_kind kind;
};

/* What the threads share for one batch. */
struct job {
	const struct wnw_batch *batch;
	int field;
	const struct ncd_targets *ts;
	struct ncd_exact **exact;  /* one per thread (exact mode) */
	struct ncd_fast **fast;    /* one per thread (fast mode) */
	double *score;             /* per record of the batch */
	struct wnw_err *err;       /* per record: status 0 when scored */
};

static void parse_options(struct wnw_cmd *cmd, struct opts *o)
{
	int ch, level_set = 0, fast_set = 0;

	memset(o, 0, sizeof *o);
	o->field = "text";
	o->text = "text";
	o->level = DEFAULT_LEVEL;
	o->fast_level = DEFAULT_FAST_LEVEL;
	o->prime = NCD_PRIME_AUTO;
	o->kind = NCD_FAST_ZSTD_RAW;
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
		default: wnw_usage(cmd, "unknown option");
		}
	}
	if (o->targets == NULL)
		wnw_usage(cmd, "no targets: -t FILE is required");
	if (o->fast && level_set)
		wnw_usage(cmd, "--level is the exact mode's gzip level; with --fast use --fast-level");
	if (!o->fast && fast_set)
		wnw_usage(cmd, "--dict and --fast-level need --fast");
	if (o->fast && o->prime == 0)
		wnw_usage(cmd, "--no-prime is for exact mode only");
	if (o->fast && o->kind == NCD_FAST_ZLIB && o->fast_level > 9)
		wnw_usage(cmd, "--fast-level: '%d' is above zlib's 9", o->fast_level);
	if (wnw_cmd_nargs(cmd) > 1)
		wnw_usage(cmd, "at most one input file");
	if (strcmp(o->targets, "-") == 0 && wnw_cmd_nargs(cmd) == 0)
		wnw_usage(cmd, "-t -: the pool is on standard input already; name the pool FILE");
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_jsonl(const char *path)
{
	return ends_with(path, ".jsonl") || ends_with(path, ".jsonl.gz") || ends_with(path, ".jsonl.zst") ||
	       ends_with(path, ".ndjson");
}

static void add_target(struct wnw_cmd *cmd, struct ncd_targets *ts, struct ncd_exact *sc, const void *p,
		       size_t n)
{
	struct wnw_err e;
	if (ncd_targets_add(ts, sc, p, n, &e) < 0)
		wnw_die_err(cmd, &e);
}

/* Targets from JSONL: member o->text of every line, as UTF-8 bytes. */
static void load_jsonl(struct wnw_cmd *cmd, const struct opts *o, struct ncd_targets *ts, struct ncd_exact *sc)
{
	struct wnw_err e;
	struct wnw_jsonl j;
	struct wnw_lines *l = wnw_lines_open(o->targets, WNW_LINES_DEFAULT_MAX, &e);
	const char *line;
	size_t len;
	int rc;

	if (l == NULL)
		wnw_die_err(cmd, &e);
	if (wnw_jsonl_init(&j, WNW_SRC_JSONL, o->text, NULL, NULL, 0, &e) < 0)
		wnw_usage(cmd, "--text: %s", e.msg);
	while ((rc = wnw_lines_next(l, &line, &len, &e)) == 1) {
		rc = wnw_jsonl_parse(&j, line, len, &e);
		if (rc < 0)
			wnw_die(cmd, WNW_EXIT_DATA, "%s: line %" PRIu64 ": %s", wnw_lines_name(l),
				wnw_lines_lineno(l), e.msg);
		if (rc == 1)
			add_target(cmd, ts, sc, j.text.p, j.text.n);
	}
	if (rc < 0)
		wnw_die_err(cmd, &e);
	wnw_jsonl_free(&j);
	wnw_lines_close(l);
}

static void load_stream(struct wnw_cmd *cmd, const struct opts *o, struct ncd_targets *ts, struct ncd_exact *sc)
{
	struct wnw_reader *r = wnw_xopen(cmd, o->targets);
	int f = wnw_xfield(cmd, r, o->text, WNW_BYTES, NULL);
	struct wnw_rec rec;

	while (wnw_xnext(cmd, r, &rec) == 1) {
		size_t n;
		const uint8_t *p = wnw_get_bytes(&rec, f, &n);
		add_target(cmd, ts, sc, p, n);
	}
	wnw_reader_close(r);
}

/* Reads the target set and sizes every target once (C(t) at the exact level). */
static void load_targets(struct wnw_cmd *cmd, const struct opts *o, struct ncd_targets *ts)
{
	struct wnw_err e;
	struct ncd_exact *sc = ncd_exact_new(o->level, 0, &e);

	if (sc == NULL || ncd_targets_init(ts, o->level, &e) < 0)
		wnw_die_err(cmd, &e);
	if (is_jsonl(o->targets))
		load_jsonl(cmd, o, ts, sc);
	else
		load_stream(cmd, o, ts, sc);
	ncd_exact_free(sc);
	if (ts->n == 0)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: no targets", o->targets);
}

static void score_one(void *ctx, size_t i, int thread)
{
	struct job *j = ctx;
	size_t len;
	const uint8_t *text = wnw_get_bytes(&j->batch->recs[i], j->field, &len);

	j->err[i].status = 0;
	if (j->fast != NULL)
		ncd_fast_score(j->fast[thread], text, len, &j->score[i], &j->err[i]);
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

/* Per-thread compressors, allocated once. */
static void make_scorers(struct wnw_cmd *cmd, const struct opts *o, const struct ncd_targets *ts,
			 struct job *j, struct ncd_fast_dict **dict)
{
	struct wnw_err e;
	int n = cmd->threads;

	if (o->fast) {
		*dict = ncd_fast_dict_new(ts, o->kind, o->fast_level, &e);
		if (*dict == NULL)
			wnw_die(cmd, e.status, "%s: %s", o->targets, e.msg);
		j->fast = wnw_xcalloc(cmd, (size_t)n, sizeof(struct ncd_fast *));
		for (int t = 0; t < n; t++)
			if ((j->fast[t] = ncd_fast_new(*dict, &e)) == NULL)
				wnw_die_err(cmd, &e);
	} else {
		j->exact = wnw_xcalloc(cmd, (size_t)n, sizeof(struct ncd_exact *));
		for (int t = 0; t < n; t++)
			if ((j->exact[t] = ncd_exact_new(o->level, o->prime, &e)) == NULL)
				wnw_die_err(cmd, &e);
	}
}

static void free_scorers(int n, struct job *j, struct ncd_fast_dict *dict)
{
	for (int t = 0; t < n; t++) {
		if (j->fast)
			ncd_fast_free(j->fast[t]);
		if (j->exact)
			ncd_exact_free(j->exact[t]);
	}
	free(j->fast);
	free(j->exact);
	ncd_fast_dict_free(dict);
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct opts o;
	struct wnw_err e;
	struct ncd_targets ts;
	struct ncd_fast_dict *dict = NULL;

	wnw_cmd_init(&cmd, &spec, argc, argv);
	parse_options(&cmd, &o);
	struct wnw_reader *r = wnw_xopen(&cmd, wnw_cmd_nargs(&cmd) ? wnw_cmd_args(&cmd)[0] : NULL);
	struct job j = {0};
	j.field = wnw_xfield(&cmd, r, o.field, WNW_BYTES, NULL);
	load_targets(&cmd, &o, &ts);
	j.ts = &ts;

	struct wnw_schema out;
	struct wnw_edit ed;
	if (wnw_schema_copy(&out, wnw_reader_schema(r), &e) < 0 ||
	    wnw_edit_init(&ed, wnw_reader_schema(r), &out, "score", WNW_F64, 0, &e) < 0)
		wnw_die_err(&cmd, &e);
	struct wnw_pool *pool = wnw_pool_new(cmd.threads);
	if (pool == NULL)
		wnw_die(&cmd, WNW_EXIT_SYSTEM, "cannot start %d threads", cmd.threads);
	make_scorers(&cmd, &o, &ts, &j, &dict);
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
			wnw_w_f64(w, j.score[i]);
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
	wnw_schema_free(&out);
	ncd_targets_free(&ts);
	wnw_reader_close(r);
	return wnw_cmd_done(&cmd);
}
