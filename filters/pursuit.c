/* pursuit: joint, non-negatively weighted sparse selection by gradient-trajectory matching (GTP): the
 * records whose weighted vectors best sum to K times the target's mean vector (see pursuit(1)).
 * Passes: [the pool's mean, for --in-domain with --shard-size], the vectors (held whole, or shard by
 * shard with only each shard's shortlist kept), the pursuit (common/pursuit.c), then a second reading
 * of the pool that collects the chosen records and writes them in order of selection. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "par.h"
#include "knn.h"
#include "prog.h"
#include "pursuit.h"
#include "replay.h"

static const char synopsis[] =
	"-k K (-t TARGET | --in-domain) [--field NAME] [--out NAME] [--batch B] [--tol T] [--rounds R]\n"
	"       [--segments T [--segment-weights W1,...,WT]] [--shard-size N [--keep-per-shard M] | --merge]\n"
	"       [--report] [-T DIR] [-j N] [-o FILE] [-z [LEVEL]] [POOL]";

static const char help[] =
	"Chooses at most K pool records and non-negative weights (field weight, summing to 1) whose vectors\n"
	"sum closest to K times the target's mean vector; writes them in order of selection.\n"
	"  -k, --size K          the most records to choose (required, 1 to 8192)\n"
	"  -t, --target FILE     the goal is the mean vector of this stream's records\n"
	"      --in-domain       the goal is the mean vector of the pool itself\n"
	"      --field NAME      the vector field (default grad)\n"
	"      --out NAME        the weight field to write (default weight)\n"
	"      --batch B         CoSaMP-style: add the B best each round, refit, prune to K (default 0: OMP)\n"
	"      --tol T           stop when the residual is at most T * ||K b|| (default 1e-6)\n"
	"      --rounds R        pursuits on the rest of the pool while fewer than K are chosen (default\n"
	"                        0: until K or no more can be; 1: a single pursuit)\n"
	"      --segments T      the vectors are T checkpoint blocks of equal length\n"
	"      --segment-weights W1,...,WT\n"
	"                        scales of the blocks, T of them (default all 1)\n"
	"      --shard-size N    pursue within shards of N records, then over their shortlists\n"
	"      --keep-per-shard M\n"
	"                        shortlist size per shard (default K)\n"
	"      --merge           the input is shortlists made by pursuit -k M: do the final pursuit\n"
	"      --report          the residual after each step on stderr\n"
	"  -T, --tmpdir DIR      temporary copy of piped input here (default $TMPDIR or /tmp)\n";

enum { OPT_IN_DOMAIN = WNW_OPT_LONG, OPT_FIELD, OPT_OUT, OPT_BATCH, OPT_TOL, OPT_SEGMENTS, OPT_SEGW, OPT_SHARD,
       OPT_KEEP, OPT_MERGE, OPT_REPORT, OPT_ROUNDS };

static const struct option longopts[] = {
	{"size", required_argument, NULL, 'k'},
	{"target", required_argument, NULL, 't'},
	{"in-domain", no_argument, NULL, OPT_IN_DOMAIN},
	{"field", required_argument, NULL, OPT_FIELD},
	{"out", required_argument, NULL, OPT_OUT},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"tol", required_argument, NULL, OPT_TOL},
	{"segments", required_argument, NULL, OPT_SEGMENTS},
	{"segment-weights", required_argument, NULL, OPT_SEGW},
	{"shard-size", required_argument, NULL, OPT_SHARD},
	{"keep-per-shard", required_argument, NULL, OPT_KEEP},
	{"merge", no_argument, NULL, OPT_MERGE},
	{"report", no_argument, NULL, OPT_REPORT},
	{"rounds", required_argument, NULL, OPT_ROUNDS},
	{"tmpdir", required_argument, NULL, 'T'},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "pursuit",
	.synopsis = synopsis,
	.help = help,
	.shortopts = "k:t:T:",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

/* K and B bound the NNLS state, 16 (K + B)^2 bytes. */
#define MAX_K 8192
#define MAX_SEGMENTS 4096

struct opts {
	uint32_t k, batch, keep, segments, rounds;
	uint64_t shard;
	double tol;
	double *segw;
	const char *target, *field, *out, *tmpdir, *pool;
	int in_domain, merge, report;
};

struct ctx {
	struct wnw_cmd cmd;
	struct opts o;
	struct wnw_pool *threads;
	struct wnw_replay *rp;
	uint32_t d;
	const char *label; /* for --report: "shard N" or NULL */
	char labelbuf[64];
};

static void parse_segw(struct ctx *x, const char *s)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	if (n > MAX_SEGMENTS)
		wnw_usage(&x->cmd, "--segment-weights: more than %u weights", MAX_SEGMENTS);
	size_t len = strlen(s) + 1;
	char *copy = wnw_xmalloc(&x->cmd, len);
	memcpy(copy, s, len);
	free(x->o.segw);
	x->o.segw = wnw_xcalloc(&x->cmd, n, sizeof *x->o.segw);
	char *save = NULL, *tok = strtok_r(copy, ",", &save);
	size_t i = 0;
	for (; tok != NULL; tok = strtok_r(NULL, ",", &save))
		x->o.segw[i++] = wnw_opt_double(&x->cmd, "--segment-weights", tok, 0, 1e30);
	if (i != n)
		wnw_usage(&x->cmd, "--segment-weights: '%s' has an empty weight", s);
	free(copy);
	x->o.segments = x->o.segments ? x->o.segments : (uint32_t)n;
	if (x->o.segments != n)
		wnw_usage(&x->cmd, "--segment-weights: %zu weights for %u segments", n, x->o.segments);
}

static void parse(struct ctx *x, int argc, char **argv)
{
	struct opts *o = &x->o;
	const char *segw = NULL;
	memset(o, 0, sizeof *o);
	o->field = "grad";
	o->out = "weight";
	o->tol = 1e-6;
	wnw_cmd_init(&x->cmd, &spec, argc, argv);
	int ch;
	while ((ch = wnw_cmd_opt(&x->cmd)) != -1) {
		const char *v = x->cmd.optarg;
		switch (ch) {
		case 'k': o->k = (uint32_t)wnw_opt_u64(&x->cmd, "-k", v, 1, MAX_K); break;
		case 't': o->target = v; break;
		case 'T': o->tmpdir = v; break;
		case OPT_IN_DOMAIN: o->in_domain = 1; break;
		case OPT_FIELD: o->field = v; break;
		case OPT_OUT: o->out = v; break;
		case OPT_BATCH: o->batch = (uint32_t)wnw_opt_u64(&x->cmd, "--batch", v, 0, MAX_K); break;
		case OPT_TOL: o->tol = wnw_opt_double(&x->cmd, "--tol", v, 0, 1); break;
		case OPT_SEGMENTS: o->segments = (uint32_t)wnw_opt_u64(&x->cmd, "--segments", v, 1, MAX_SEGMENTS); break;
		case OPT_SEGW: segw = v; break;
		case OPT_SHARD: o->shard = wnw_opt_u64(&x->cmd, "--shard-size", v, 1, UINT64_MAX / 2); break;
		case OPT_KEEP: o->keep = (uint32_t)wnw_opt_u64(&x->cmd, "--keep-per-shard", v, 1, MAX_K); break;
		case OPT_MERGE: o->merge = 1; break;
		case OPT_REPORT: o->report = 1; break;
		case OPT_ROUNDS: o->rounds = (uint32_t)wnw_opt_u64(&x->cmd, "--rounds", v, 0, MAX_K); break;
		default: wnw_usage(&x->cmd, "unknown option");
		}
	}
	if (o->k == 0)
		wnw_usage(&x->cmd, "-k K is required");
	if (!o->target == !o->in_domain)
		wnw_usage(&x->cmd, "give exactly one of -t TARGET and --in-domain");
	if (o->batch > o->k)
		wnw_usage(&x->cmd, "--batch %u is larger than -k %u", o->batch, o->k);
	if (o->keep && !o->shard)
		wnw_usage(&x->cmd, "--keep-per-shard needs --shard-size");
	if (o->merge && o->shard)
		wnw_usage(&x->cmd, "--merge and --shard-size exclude each other");
	if (o->merge && o->in_domain)
		wnw_usage(&x->cmd, "--merge needs -t: the shortlists do not hold the pool's mean");
	if (segw)
		parse_segw(x, segw);
	if (o->keep == 0)
		o->keep = o->k;
	if (o->batch > o->keep)
		wnw_usage(&x->cmd, "--batch %u is larger than --keep-per-shard %u", o->batch, o->keep);
	int nargs = wnw_cmd_nargs(&x->cmd);
	if (nargs > 1)
		wnw_usage(&x->cmd, "at most one POOL operand");
	o->pool = nargs == 1 ? wnw_cmd_args(&x->cmd)[0] : NULL;
	if (o->in_domain && o->shard && (o->pool == NULL || strcmp(o->pool, "-") == 0))
		wnw_usage(&x->cmd, "--in-domain with --shard-size reads the pool three times: name it as POOL");
}

/* The vector field of rec into dst (d floats), checked finite and scaled block by block. */
static void load_vec(struct ctx *x, const struct wnw_reader *r, const struct wnw_rec *rec, int f, float *dst)
{
	wnw_get_vec(rec, f, dst);
	for (uint32_t j = 0; j < x->d; j++)
		if (!isfinite(dst[j]))
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu: field '%s': component %u is not finite",
			     wnw_reader_name(r), (unsigned long long)rec->number, x->o.field, j);
	if (x->o.segments && x->o.segw) {
		uint32_t len = x->d / x->o.segments;
		for (uint32_t j = 0; j < x->d; j++)
			dst[j] = (float)(dst[j] * x->o.segw[j / len]);
	}
	/* As knn-build and kde-dedup: a vector whose squared norm is not a finite float is refused, since
	 * every residual and correlation built on it would be infinite or NaN. */
	if (!isfinite(wnw_knn_norm2(dst, x->d)))
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu: the squared norm of %s overflows a float",
			wnw_reader_name(r), (unsigned long long)rec->number, x->o.field);
}

/* The vector field of a stream: its index, with the dimension checked against x->d (0: set it). */
static int vec_field(struct ctx *x, const struct wnw_reader *r)
{
	uint32_t dim;
	int f = wnw_xfield(&x->cmd, r, x->o.field, WNW_VEC, &dim);
	if (x->d == 0) {
		x->d = dim;
		if (x->o.segments && dim % x->o.segments != 0)
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: field '%s' has dimension %u, not a multiple of %u segments",
			     wnw_reader_name(r), x->o.field, dim, x->o.segments);
	} else if (dim != x->d) {
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: field '%s' has dimension %u, the target's has %u", wnw_reader_name(r),
		     x->o.field, dim, x->d);
	}
	return f;
}

/* Mean of sum over n rows, rounded to f32 (the goal b). */
static void finish_mean(const double *sum, uint64_t n, uint32_t d, float *b)
{
	for (uint32_t j = 0; j < d; j++)
		b[j] = n ? (float)(sum[j] / (double)n) : 0;
}

/* The mean vector of the stream at path (the target, or the named pool for --in-domain with shards),
 * into a new array; an empty stream has no mean. */
static float *stream_mean(struct ctx *x, const char *path)
{
	struct wnw_reader *r = wnw_xopen(&x->cmd, path);
	int f = vec_field(x, r);
	double *sum = wnw_xcalloc(&x->cmd, x->d + 1, sizeof *sum);
	float *v = wnw_xcalloc(&x->cmd, x->d + 1, sizeof *v);
	struct wnw_rec rec;
	while (wnw_xnext(&x->cmd, r, &rec)) {
		load_vec(x, r, &rec, f, v);
		for (uint32_t j = 0; j < x->d; j++)
			sum[j] += v[j];
	}
	uint64_t n = wnw_reader_count(r);
	if (n == 0)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: no records to take the mean of", wnw_reader_name(r));
	finish_mean(sum, n, x->d, v);
	wnw_reader_close(r);
	free(sum);
	return v;
}

static void report_step(void *ctx, const struct pur_step *st)
{
	const struct ctx *x = ctx;
	wnw_warn(&x->cmd, "%s%sstep %u: %u chosen, residual %.9g (%.6g of ||K b||)",
		 x->label ? x->label : "", x->label ? ": " : "", st->step, st->size, st->resid, st->rel);
}

/* Runs the pursuit over A with K = k; dies when out of memory. */
static void pursue(struct ctx *x, const struct pur_mat *A, const float *b, uint32_t k, struct pur_sel *sel)
{
	struct pur_opts po = {
		.k = k, .batch = x->o.batch, .tol = x->o.tol, .pool = x->threads,
		.report = x->o.report ? report_step : NULL, .report_ctx = x,
	};
	struct wnw_err e;
	if (pur_run(A, b, &po, sel, &e) < 0)
		wnw_die_err(&x->cmd, &e);
	if (x->o.report)
		wnw_warn(&x->cmd, "%s%sstopped after %u %s: %s; %u chosen, residual %.9g (%.6g of ||K b||)"
			 "; %u exact passes",
			x->label ? x->label : "", x->label ? ": " : "", sel->steps, x->o.batch ? "rounds" : "steps",
			pur_stop_name(sel->stop), sel->n, sel->resid, sel->rel, x->o.batch ? sel->steps : sel->exact_passes);
}

/* The chosen rows' stream positions (0-based) and weights, in order of selection. */
struct choice {
	uint32_t n;
	uint64_t *pos;
	double *w;
};

/* Sorts pairs (pos, rank) by pos: the order in which the second pass meets the chosen records. */
static int by_pos(const void *a, const void *b)
{
	const uint64_t *p = a, *q = b;
	return p[0] < q[0] ? -1 : p[0] > q[0];
}

/* Second reading of the pool: collects the chosen records, then writes them in order of selection with
 * the normalised weight. */
static void write_chosen(struct ctx *x, const struct choice *ch)
{
	struct wnw_err e;
	if (wnw_replay_rewind(x->rp, &e) < 0)
		wnw_die_err(&x->cmd, &e);
	struct wnw_reader *r = wnw_replay_reader(x->rp);
	const struct wnw_schema *in = wnw_reader_schema(r);
	struct wnw_schema out;
	struct wnw_edit ed;
	wnw_xedit(&x->cmd, in, &out, &ed, x->o.out, WNW_F64, 0);
	uint64_t *order = wnw_xcalloc(&x->cmd, 2 * (size_t)ch->n + 2, sizeof *order);
	for (uint32_t i = 0; i < ch->n; i++) {
		order[2 * i] = ch->pos[i];
		order[2 * i + 1] = i;
	}
	qsort(order, ch->n, 2 * sizeof *order, by_pos);
	size_t *slot = wnw_xcalloc(&x->cmd, ch->n + 1, sizeof *slot); /* rank -> batch index */
	struct wnw_batch batch;
	wnw_batch_init(&batch);
	struct wnw_rec rec;
	uint64_t p = 0;
	uint32_t next = 0;
	while (next < ch->n) {
		int got = wnw_replay_next(x->rp, &rec, &e);
		if (got < 0)
			wnw_die_err(&x->cmd, &e);
		if (got == 0)
			break;
		if (p++ != order[2 * next])
			continue;
		slot[order[2 * next + 1]] = batch.n;
		if (wnw_batch_add(&batch, &rec) < 0)
			wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "out of memory");
		next++;
	}
	if (next < ch->n)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: the input changed while it was being read", wnw_reader_name(r));
	double sum = 0;
	for (uint32_t i = 0; i < ch->n; i++)
		sum += ch->w[i];
	struct wnw_writer *w = wnw_xcreate(&x->cmd, &out);
	for (uint32_t i = 0; i < ch->n; i++) {
		const struct wnw_rec *rc = &batch.recs[slot[i]];
		wnw_edit_begin(w, rc, &ed);
		wnw_writer_f64(w, ch->w[i] / sum);
		if (wnw_edit_end(w, rc, &ed, &e) < 0)
			wnw_die_err(&x->cmd, &e);
	}
	wnw_xclose(&x->cmd, w);
	wnw_batch_free(&batch);
	wnw_schema_free(&out);
	free(order);
	free(slot);
}

/* Reads the next record of the first pass; 0 at the end. */
static int next_rec(struct ctx *x, struct wnw_rec *rec)
{
	struct wnw_err e;
	int got = wnw_replay_next(x->rp, rec, &e);
	if (got < 0)
		wnw_die_err(&x->cmd, &e);
	if (got)
		wnw_progress(&x->cmd, wnw_replay_reader(x->rp));
	return got;
}

static float *push_row(struct ctx *x, struct pur_mat *A)
{
	float *row = pur_mat_push(A);
	if (row == NULL)
		wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "out of memory holding %zu vectors of dimension %u", A->n, x->d);
	return row;
}

/* The final pursuit over A, in rounds: while fewer than K are chosen and a round chose some, the chosen
 * rows leave A and the next round pursues the same goal with K less those chosen. Each round's weights
 * are scaled to sum to its number of records (so a round weighs in proportion to its size; the whole
 * is normalised when written). The choice holds each chosen row's stream position (pos[row], or the
 * row itself when pos is NULL) and weight, in order of selection. A and pos are consumed. */
static void take_choice(struct ctx *x, struct pur_mat *A, const float *b, uint64_t *pos, struct choice *ch)
{
	uint64_t *tag = pos;
	if (tag == NULL) {
		tag = wnw_xcalloc(&x->cmd, A->n + 1, sizeof *tag);
		for (size_t i = 0; i < A->n; i++)
			tag[i] = i;
	}
	ch->n = 0;
	ch->pos = wnw_xcalloc(&x->cmd, x->o.k + 1, sizeof *ch->pos);
	ch->w = wnw_xcalloc(&x->cmd, x->o.k + 1, sizeof *ch->w);
	uint32_t round = 0;
	int stop = 0;
	while (ch->n < x->o.k && A->n > 0 && (x->o.rounds == 0 || round < x->o.rounds)) {
		struct pur_sel sel;
		pursue(x, A, b, x->o.k - ch->n, &sel);
		round++;
		stop = sel.stop;
		double sum = 0;
		for (uint32_t i = 0; i < sel.n; i++)
			sum += sel.beta[i];
		for (uint32_t i = 0; i < sel.n; i++) {
			ch->pos[ch->n] = tag[sel.idx[i]];
			ch->w[ch->n++] = sel.beta[i] / sum * sel.n;
		}
		uint32_t got = sel.n;
		pur_mat_remove(A, sel.idx, sel.n, tag);
		pur_sel_free(&sel);
		if (got == 0)
			break;
	}
	if (ch->n < x->o.k)
		wnw_warn(&x->cmd, "%s: asked for %u records, chose %u in %u round%s: %s",
			 wnw_reader_name(wnw_replay_reader(x->rp)), x->o.k, ch->n, round,
			 round == 1 ? "" : "s", A->n == 0 ? "the pool is exhausted" : pur_stop_name(stop));
	if (pos == NULL)
		free(tag);
}

/* Whole pool in memory: one pursuit. With --in-domain the goal is the pool's mean, summed on the way. */
static void run_whole(struct ctx *x, int f, float *b, struct choice *ch)
{
	struct wnw_reader *r = wnw_replay_reader(x->rp);
	struct pur_mat A;
	pur_mat_init(&A, x->d);
	double *sum = x->o.in_domain ? wnw_xcalloc(&x->cmd, x->d, sizeof *sum) : NULL;
	struct wnw_rec rec;
	while (next_rec(x, &rec)) {
		float *row = push_row(x, &A);
		load_vec(x, r, &rec, f, row);
		if (sum)
			for (uint32_t j = 0; j < x->d; j++)
				sum[j] += row[j];
		pur_mat_commit(&A);
	}
	wnw_progress_done(&x->cmd, r);
	if (x->o.merge && A.n > 0 && wnw_schema_find(wnw_reader_schema(r), x->o.out) < 0)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: no field '%s': --merge reads shortlists written by pursuit",
		     wnw_reader_name(r), x->o.out);
	if (sum && A.n == 0) /* as for an empty target: and before any work of the declared dimension */
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: no records to take the mean of", wnw_reader_name(r));
	if (sum)
		finish_mean(sum, A.n, x->d, b);
	take_choice(x, &A, b, NULL, ch);
	pur_mat_free(&A);
	free(sum);
}

/* Shards: a pursuit with K = keep per shard of N records; the shortlists' vectors (and stream
 * positions) are kept, in shard order and order of selection, and the final pursuit runs over them. */
static void run_sharded(struct ctx *x, int f, const float *b, struct choice *ch)
{
	struct wnw_reader *r = wnw_replay_reader(x->rp);
	struct pur_mat A, U;
	pur_mat_init(&A, x->d);
	pur_mat_init(&U, x->d);
	uint64_t *upos = NULL, p = 0, shard = 0;
	size_t ucap = 0;
	struct wnw_rec rec;
	int more = 1;
	while (more) {
		pur_mat_clear(&A);
		uint64_t first = p;
		while (A.n < x->o.shard && (more = next_rec(x, &rec))) {
			load_vec(x, r, &rec, f, push_row(x, &A));
			pur_mat_commit(&A);
			p++;
		}
		if (A.n == 0)
			break;
		snprintf(x->labelbuf, sizeof x->labelbuf, "shard %llu", (unsigned long long)++shard);
		x->label = x->labelbuf;
		struct pur_sel sel;
		pursue(x, &A, b, x->o.keep, &sel);
		for (uint32_t i = 0; i < sel.n; i++) {
			memcpy(push_row(x, &U), A.v + sel.idx[i] * x->d, x->d * sizeof *A.v);
			U.inv[U.n] = A.inv[sel.idx[i]];
			if (upos == NULL || U.n >= ucap) {
				ucap = ucap ? 2 * ucap : 1024;
				upos = wnw_xrealloc(&x->cmd, upos, ucap * sizeof *upos);
			}
			upos[U.n] = first + sel.idx[i];
			U.n++;
		}
		pur_sel_free(&sel);
	}
	wnw_progress_done(&x->cmd, r);
	pur_mat_free(&A);
	x->label = shard ? "final" : NULL;
	take_choice(x, &U, b, upos, ch);
	pur_mat_free(&U);
	free(upos);
}

int main(int argc, char **argv)
{
	struct ctx x;
	memset(&x, 0, sizeof x);
	parse(&x, argc, argv);
	wnw_cleanup_on_signal();
	float *b = x.o.target ? stream_mean(&x, x.o.target) : NULL;
	if (x.o.in_domain && x.o.shard)
		b = stream_mean(&x, x.o.pool);
	struct wnw_err e;
	x.rp = wnw_replay_open(x.o.pool, x.o.tmpdir, &e);
	if (x.rp == NULL)
		wnw_die_err(&x.cmd, &e);
	wnw_cmd_on_die(&x.cmd, wnw_replay_discard, x.rp);
	wnw_replay_set_max_record(x.rp, x.cmd.max_record);
	int f = vec_field(&x, wnw_replay_reader(x.rp));
	if (b == NULL)
		b = wnw_xcalloc(&x.cmd, x.d + 1, sizeof *b);
	x.threads = wnw_xpool(&x.cmd, x.cmd.threads);
	struct choice ch;
	if (x.o.shard)
		run_sharded(&x, f, b, &ch);
	else
		run_whole(&x, f, b, &ch);
	write_chosen(&x, &ch);
	wnw_cmd_on_die(&x.cmd, NULL, NULL);
	wnw_replay_close(x.rp);
	wnw_pool_free(x.threads);
	free(ch.pos);
	free(ch.w);
	free(b);
	free(x.o.segw);
	return wnw_cmd_done(&x.cmd);
}
