/* dsir: DSIR importance weights: hashed word n-gram models of a target and of the raw distribution, and
 * each pool record's log importance weight logw under them (see dsir(1)). Passes: the target, the raw
 * texts (a --raw stream, or the pool itself, replayed), then the pool. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsir.h"
#include "prog.h"
#include "replay.h"

static const char synopsis[] =
	"-t TARGET [--raw RAW] [--buckets B] [--ngram N[-M]] [--field NAME] [--out NAME] [-T DIR]\n"
	"       [-o FILE] [-z [LEVEL]] [POOL]\n"
	"       dsir -t TARGET [--raw RAW] [--buckets B] [--ngram N[-M]] [--field NAME] --fit FILE [POOL]\n"
	"       dsir --model FILE [-t TARGET] [--field NAME] [--out NAME] [-o FILE] [-z [LEVEL]] [POOL]";

static const char help[] =
	"Adds field logw: the sum over a record's word n-grams of log p_target - log p_raw (hashed, add-one).\n"
	"  -t, --target FILE   the target texts (a stream)\n"
	"      --raw FILE      the raw distribution's texts (default: the pool, in a first pass)\n"
	"      --buckets B     hash buckets of each model, 1 to 67108864 (default 10000)\n"
	"      --ngram N[-M]   word n-gram orders (default 1-2)\n"
	"      --field NAME    the text field of every input (default text)\n"
	"      --out NAME      the field to write (default logw)\n"
	"      --fit FILE      write the two fitted models to FILE, and nothing else\n"
	"      --model FILE    use the models of FILE (-t refits the target model only)\n"
	"  -T, --tmpdir DIR    temporary copy of piped input here (default $TMPDIR or /tmp)\n";

enum { OPT_RAW = WNW_OPT_LONG, OPT_BUCKETS, OPT_NGRAM, OPT_FIELD, OPT_OUT, OPT_FIT, OPT_MODEL };

static const struct option longopts[] = {
	{"target", required_argument, NULL, 't'},
	{"raw", required_argument, NULL, OPT_RAW},
	{"buckets", required_argument, NULL, OPT_BUCKETS},
	{"ngram", required_argument, NULL, OPT_NGRAM},
	{"field", required_argument, NULL, OPT_FIELD},
	{"out", required_argument, NULL, OPT_OUT},
	{"fit", required_argument, NULL, OPT_FIT},
	{"model", required_argument, NULL, OPT_MODEL},
	{"tmpdir", required_argument, NULL, 'T'},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "dsir",
	.synopsis = synopsis,
	.help = help,
	.shortopts = "t:T:",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_PROGRESS,
};

struct opts {
	const char *target, *raw, *field, *out, *fit, *model, *tmpdir, *pool;
	uint32_t buckets;
	int lo, hi, shape_set; /* shape_set: --buckets or --ngram given */
};

struct ctx {
	struct wnw_cmd cmd;
	struct opts o;
	struct dsir_model m;
	struct hemb_scratch s;
	struct wnw_replay *rp; /* the pool, when it is also the raw distribution */
};

static void parse(struct ctx *x, int argc, char **argv)
{
	struct opts *o = &x->o;
	int ch;
	*o = (struct opts){.field = "text", .out = "logw", .buckets = 10000, .lo = 1, .hi = 2};
	wnw_cmd_init(&x->cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(&x->cmd)) != -1) {
		const char *a = x->cmd.optarg;
		switch (ch) {
		case 't': o->target = a; break;
		case 'T': o->tmpdir = a; break;
		case OPT_RAW: o->raw = a; break;
		case OPT_BUCKETS:
			o->buckets = (uint32_t)wnw_opt_u64(&x->cmd, "--buckets", a, 1, DSIR_MAX_BUCKETS);
			o->shape_set = 1;
			break;
		case OPT_NGRAM:
			if (hemb_parse_range(a, &o->lo, &o->hi) < 0 || o->lo < 1)
				wnw_usage(&x->cmd, "--ngram: '%s' is not N or N-M with 1 <= N <= M <= %d", a, HEMB_MAX_N);
			o->shape_set = 1;
			break;
		case OPT_FIELD: o->field = a; break;
		case OPT_OUT: o->out = a; break;
		case OPT_FIT: o->fit = a; break;
		case OPT_MODEL: o->model = a; break;
		default: wnw_usage(&x->cmd, "unknown option");
		}
	}
	if (o->model == NULL && o->target == NULL)
		wnw_usage(&x->cmd, "give -t TARGET, --model FILE, or both");
	if (o->model && (o->raw || o->shape_set))
		wnw_usage(&x->cmd, "--model holds the raw model, its buckets and n-grams: no --raw, --buckets or --ngram");
	if (o->fit && x->cmd.output)
		wnw_usage(&x->cmd, "--fit writes only the models: no -o");
	if (wnw_cmd_nargs(&x->cmd) > 1)
		wnw_usage(&x->cmd, "one POOL at most");
	o->pool = wnw_cmd_nargs(&x->cmd) == 1 ? wnw_cmd_args(&x->cmd)[0] : NULL;
	if (o->fit && o->raw && o->pool)
		wnw_usage(&x->cmd, "--fit with --raw reads no POOL");
}

/* The text field of a stream's records, which must be bytes. */
static int text_field(struct ctx *x, const struct wnw_reader *r)
{
	return wnw_xfield(&x->cmd, r, x->o.field, WNW_BYTES, NULL);
}

/* Adds one record's n-grams to counts; dies when out of memory. */
static void count_rec(struct ctx *x, const struct wnw_reader *r, const struct wnw_rec *rec, int f, double *counts)
{
	size_t len;
	const uint8_t *p = wnw_get_bytes(rec, f, &len);
	if (dsir_count(&x->m, &x->s, counts, p, len) < 0)
		wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "%s: record %llu: out of memory", wnw_reader_name(r),
			(unsigned long long)rec->number);
}

/* Counts every record of a stream at path into counts; returns the number of records. */
static uint64_t count_stream(struct ctx *x, const char *path, double *counts)
{
	struct wnw_reader *r = wnw_xopen(&x->cmd, path);
	int f = text_field(x, r);
	struct wnw_rec rec;
	while (wnw_xnext(&x->cmd, r, &rec))
		count_rec(x, r, &rec, f, counts);
	wnw_progress_done(&x->cmd, r);
	uint64_t n = wnw_reader_count(r);
	wnw_reader_close(r);
	return n;
}

/* The pool's first pass, as the raw distribution. */
static void count_pool(struct ctx *x)
{
	struct wnw_err e;
	x->rp = wnw_replay_open(x->o.pool, x->o.tmpdir, &e);
	if (x->rp == NULL)
		wnw_die_err(&x->cmd, &e);
	wnw_cmd_on_die(&x->cmd, wnw_replay_discard, x->rp);
	struct wnw_reader *r = wnw_replay_reader(x->rp);
	int f = text_field(x, r), got;
	struct wnw_rec rec;
	while ((got = wnw_replay_next(x->rp, &rec, &e)) == 1) {
		count_rec(x, r, &rec, f, x->m.raw);
		wnw_progress(&x->cmd, r);
	}
	if (got < 0)
		wnw_die_err(&x->cmd, &e);
	wnw_progress_done(&x->cmd, r);
	x->m.rdocs = wnw_reader_count(r);
	if (wnw_replay_rewind(x->rp, &e) < 0)
		wnw_die_err(&x->cmd, &e);
}

/* The two models: from --model, then the target refitted from -t, and the raw from --raw or the pool. */
static void fit(struct ctx *x)
{
	struct wnw_err e;
	const struct opts *o = &x->o;
	if (o->model ? dsir_model_load(o->model, &x->m, &e) : dsir_model_init(&x->m, o->buckets, o->lo, o->hi, 0, &e))
		wnw_die_err(&x->cmd, &e);
	if (o->target) {
		memset(x->m.target, 0, x->m.c.dim * sizeof *x->m.target);
		x->m.tdocs = count_stream(x, o->target, x->m.target);
		if (x->m.tdocs == 0)
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: no target texts", o->target);
	}
	if (o->raw || (o->fit && o->model == NULL)) /* --fit reads the pool once: no replay */
		x->m.rdocs = count_stream(x, o->raw ? o->raw : o->pool, x->m.raw);
	else if (o->model == NULL)
		count_pool(x);
}

/* --fit: the model file, parameter records first (dsir(1), MODEL FILES). */
static void write_model(struct ctx *x)
{
	struct wnw_schema s;
	struct wnw_err e;
	wnw_schema_init(&s);
	if (wnw_schema_set(&s, "bucket", WNW_U64, 0, &e) < 0 || wnw_schema_set(&s, "target", WNW_U64, 0, &e) < 0 ||
	    wnw_schema_set(&s, "raw", WNW_U64, 0, &e) < 0)
		wnw_die_err(&x->cmd, &e);
	x->cmd.output = x->o.fit;
	struct wnw_writer *w = wnw_xcreate(&x->cmd, &s);
	uint64_t meta[DSIR_META_N];
	dsir_model_meta(&x->m, meta);
	for (int k = 0; k < DSIR_META_N; k++) {
		wnw_writer_u64(w, DSIR_META + (uint64_t)k);
		wnw_writer_u64(w, meta[k]);
		wnw_writer_u64(w, 0);
		wnw_xend(&x->cmd, w);
	}
	for (uint32_t b = 0; b < x->m.c.dim; b++) {
		if (x->m.target[b] == 0 && x->m.raw[b] == 0)
			continue;
		wnw_writer_u64(w, b);
		wnw_writer_u64(w, (uint64_t)x->m.target[b]);
		wnw_writer_u64(w, (uint64_t)x->m.raw[b]);
		wnw_xend(&x->cmd, w);
	}
	wnw_xclose(&x->cmd, w);
	wnw_schema_free(&s);
}

/* Reads the next pool record of the scoring pass; 0 at the end. */
static int next_pool(struct ctx *x, struct wnw_reader *r, struct wnw_rec *rec)
{
	struct wnw_err e;
	if (x->rp == NULL)
		return wnw_xnext(&x->cmd, r, rec);
	int got = wnw_replay_next(x->rp, rec, &e);
	if (got < 0)
		wnw_die_err(&x->cmd, &e);
	if (got)
		wnw_progress(&x->cmd, r);
	return got;
}

/* The scoring pass: every pool record with its log weight. */
static void score(struct ctx *x)
{
	struct wnw_reader *r = x->rp ? wnw_replay_reader(x->rp) : wnw_xopen(&x->cmd, x->o.pool);
	const struct wnw_schema *in = wnw_reader_schema(r);
	int f = text_field(x, r);
	struct wnw_err e;
	struct wnw_edit ed;
	struct wnw_schema out;
	if (wnw_schema_copy(&out, in, &e) < 0 || wnw_edit_init(&ed, in, &out, x->o.out, WNW_F64, 0, &e) < 0)
		wnw_die(&x->cmd, e.status == WNW_EXIT_SYSTEM ? e.status : WNW_EXIT_DATA, "%s: %s", wnw_reader_name(r),
			e.msg);
	struct wnw_writer *w = wnw_xcreate(&x->cmd, &out);
	wnw_schema_free(&out);
	struct wnw_rec rec;
	while (next_pool(x, r, &rec)) {
		size_t len;
		const uint8_t *p = wnw_get_bytes(&rec, f, &len);
		double lw;
		if (dsir_logw(&x->m, &x->s, p, len, &lw) < 0)
			wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "%s: record %llu: out of memory", wnw_reader_name(r),
				(unsigned long long)rec.number);
		wnw_edit_begin(w, &rec, &ed);
		wnw_writer_f64(w, lw);
		if (wnw_edit_end(w, &rec, &ed, &e) < 0)
			wnw_die_err(&x->cmd, &e);
	}
	wnw_progress_done(&x->cmd, r);
	wnw_xclose(&x->cmd, w);
	if (x->rp == NULL)
		wnw_reader_close(r);
}

int main(int argc, char **argv)
{
	struct ctx x;
	memset(&x, 0, sizeof x);
	parse(&x, argc, argv);
	wnw_cleanup_on_signal();
	fit(&x);
	if (x.o.fit) {
		write_model(&x);
	} else {
		dsir_weights(&x.m);
		score(&x);
	}
	wnw_cmd_on_die(&x.cmd, NULL, NULL);
	wnw_replay_close(x.rp);
	hemb_scratch_free(&x.s);
	dsir_model_free(&x.m);
	return wnw_cmd_done(&x.cmd);
}
