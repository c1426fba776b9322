/* sample: chooses records from a stream in one pass: N weighted draws with replacement (TSDS), weighted
 * sampling without replacement, the N highest scores (ZIP-FIT), or a uniform random subset, by weights or
 * log weights (DSIR), up to a size budget (see sample(1)). Memory is O(N): the chosen records are held
 * until the end of the stream and written in stream order. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prog.h"
#include "rng.h"

static const char synopsis[] =
	"-n N [--by FIELD] [--log] [--without-replacement] [--budget SIZE [--size FIELD]] [--seed X]\n"
	"       [--expand] [-o FILE] [-z [LEVEL]] [FILE]\n"
	"       sample --top N [--by FIELD] [--budget SIZE [--size FIELD]] [--expand] [-o FILE] [-z [LEVEL]] [FILE]\n"
	"       sample --random N [--budget SIZE [--size FIELD]] [--seed X] [--expand] [-o FILE] [-z [LEVEL]] [FILE]";

static const char help[] =
	"Writes the chosen records, in stream order, with field count (times drawn).\n"
	"  -n, --draws N             N draws with replacement, in proportion to FIELD\n"
	"      --without-replacement with -n: N distinct records, weighted (reservoir keys E/w)\n"
	"      --top N               the N records with the highest FIELD, ties to the smaller id\n"
	"      --random N            N distinct records uniformly at random\n"
	"      --by FIELD            the weight or score field (default prob; score with --top)\n"
	"      --log                 FIELD holds log weights (Gumbel top-k; -inf is weight 0)\n"
	"      --budget SIZE         stop before the record that would pass SIZE (k, M, G: 2^10, 2^20, 2^30)\n"
	"      --size FIELD          a record's size: a number, or a bytes field's length (default text)\n"
	"      --seed X              seed of the generator (default 0); same seed, same output anywhere\n"
	"      --expand              write each chosen record count times, without the count field\n";

enum { OPT_WOR = WNW_OPT_LONG, OPT_TOP, OPT_RANDOM, OPT_BY, OPT_SEED, OPT_EXPAND, OPT_LOG, OPT_BUDGET, OPT_SIZE };

static const struct option longopts[] = {
	{"draws", required_argument, NULL, 'n'},
	{"without-replacement", no_argument, NULL, OPT_WOR},
	{"top", required_argument, NULL, OPT_TOP},
	{"random", required_argument, NULL, OPT_RANDOM},
	{"by", required_argument, NULL, OPT_BY},
	{"seed", required_argument, NULL, OPT_SEED},
	{"expand", no_argument, NULL, OPT_EXPAND},
	{"log", no_argument, NULL, OPT_LOG},
	{"budget", required_argument, NULL, OPT_BUDGET},
	{"size", required_argument, NULL, OPT_SIZE},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "sample",
	.synopsis = synopsis,
	.help = help,
	.shortopts = "n:",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_PROGRESS,
};

enum mode { DRAW, WEIGHTED, TOP, RANDOM };

struct opts {
	enum mode mode;
	uint64_t n, seed;
	double budget; /* 0: none */
	const char *by, *size, *input;
	int expand, log;
};

/* A record kept for the output: a copy of its bytes and field offsets. */
struct held {
	uint64_t pos;    /* 0-based position in the stream: the output order */
	uint64_t number; /* 1-based record number, for messages */
	double key;      /* selection key: smaller is better */
	uint64_t tie;    /* breaks equal keys: smaller is better */
	uint64_t count;  /* times drawn (with replacement: the slots that hold it) */
	double size;     /* its size, for --budget */
	uint32_t len;
	uint32_t *off;   /* nfields + 1 offsets, followed in the same block by the record bytes */
};

struct ctx {
	struct wnw_cmd cmd;
	struct opts o;
	struct wnw_reader *r;
	int by, id, size;   /* field indices, -1 when absent */
	uint32_t nf;
	struct wnw_rng rng;
	struct held **keep; /* WEIGHTED, TOP, RANDOM: a heap of at most n, worst at the root */
	size_t nkeep, kcap; /* keep grows as records arrive, so a large N costs nothing up front */
	struct held **slot; /* DRAW: the record each of the n draws currently holds */
	uint64_t *perm;     /* DRAW: a permutation of the slots, for choosing distinct slots */
	double wsum;        /* DRAW: total weight so far (--log: its logarithm) */
	double hsize;       /* --budget: total size of the records in keep */
	int full;           /* --budget: a record did not fit */
};

static double rec_size(struct ctx *x, const struct wnw_rec *rec);

static struct held *hold(struct ctx *x, const struct wnw_rec *rec)
{
	size_t offs = (x->nf + 1) * sizeof(uint32_t);
	struct held *h = wnw_xmalloc(&x->cmd, sizeof *h);
	h->off = wnw_xmalloc(&x->cmd, offs + rec->len);
	memcpy(h->off, rec->off, offs);
	memcpy((uint8_t *)h->off + offs, rec->data, rec->len);
	h->len = rec->len;
	h->pos = rec->number - 1;
	h->number = rec->number;
	h->count = 0;
	h->key = 0;
	h->tie = 0;
	h->size = x->size >= 0 ? rec_size(x, rec) : 0;
	return h;
}

static void drop(struct held *h)
{
	free(h->off);
	free(h);
}

static struct wnw_rec as_rec(const struct ctx *x, const struct held *h)
{
	struct wnw_rec rec = {(const uint8_t *)h->off + (x->nf + 1) * sizeof(uint32_t), h->len, h->number,
			      wnw_reader_schema(x->r), h->off};
	return rec;
}

/* Dies naming the record (and its id) whose field name has the bad value v. */
static void bad_value(struct ctx *x, const struct wnw_rec *rec, const char *name, double v, const char *what)
	__attribute__((noreturn));
static void bad_value(struct ctx *x, const struct wnw_rec *rec, const char *name, double v, const char *what)
{
	if (x->id >= 0)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu (id %llu): %s %g is %s", wnw_reader_name(x->r),
			(unsigned long long)rec->number, (unsigned long long)wnw_get_u64(rec, x->id), name, v, what);
	wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu: %s %g is %s", wnw_reader_name(x->r),
		(unsigned long long)rec->number, name, v, what);
}

/* The weight or score of a record, checked: NaN never; negative or infinite not as a weight; as a log
 * weight any value but +inf and NaN (-inf is weight 0). */
static double value(struct ctx *x, const struct wnw_rec *rec)
{
	double v = wnw_get_number(rec, x->by);
	if (isnan(v))
		bad_value(x, rec, x->o.by, v, "not a number");
	if (x->o.mode == TOP)
		return v;
	if (x->o.log ? v == INFINITY : v < 0 || isinf(v))
		bad_value(x, rec, x->o.by, v, v < 0 ? "negative" : "infinite");
	return v;
}

/* A record's size for --budget: the value of a number field, or the length of a bytes field. */
static double rec_size(struct ctx *x, const struct wnw_rec *rec)
{
	if (wnw_reader_schema(x->r)->fields[x->size].type == WNW_BYTES) {
		size_t len;
		wnw_get_bytes(rec, x->size, &len);
		return (double)len;
	}
	double v = wnw_get_number(rec, x->size);
	if (!(v >= 0) || isinf(v))
		bad_value(x, rec, x->o.size, v, isnan(v) ? "not a number" : v < 0 ? "negative" : "infinite");
	return v;
}

/* --- a bounded heap of the best n, the worst at the root ------------------------------------------ */

static int worse(const struct held *a, const struct held *b)
{
	if (a->key != b->key)
		return a->key > b->key;
	return a->tie > b->tie;
}

static void heap_down(struct held **h, size_t n, size_t i)
{
	struct held *v = h[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && worse(h[c + 1], h[c]))
			c++;
		if (!worse(h[c], v))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
}

static void heap_up(struct held **h, size_t i)
{
	struct held *v = h[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!worse(v, h[p]))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = v;
}

static void keep_room(struct ctx *x)
{
	if (x->nkeep < x->kcap)
		return;
	x->kcap = x->kcap ? 2 * x->kcap : 1024;
	x->keep = wnw_xrealloc(&x->cmd, x->keep, x->kcap * sizeof *x->keep);
}

/* Removes the worst record of the heap. */
static void pop_worst(struct ctx *x)
{
	x->hsize -= x->keep[0]->size;
	drop(x->keep[0]);
	x->keep[0] = x->keep[--x->nkeep];
	if (x->nkeep > 0)
		heap_down(x->keep, x->nkeep, 0);
}

/* With --budget the selection is the best records, best first, up to the first that does not fit; so
 * the worst held record can go once the others alone pass the budget: it would come after that one. */
static void trim_to_budget(struct ctx *x)
{
	while (x->o.budget > 0 && x->nkeep > 1 && x->hsize - x->keep[0]->size > x->o.budget)
		pop_worst(x);
}

/* Offers a record with its key to the heap of the best n; copies it only when it is kept. */
static void offer(struct ctx *x, const struct wnw_rec *rec, double key, uint64_t tie)
{
	if (x->nkeep == x->o.n) {
		struct held probe = {.key = key, .tie = tie};
		if (x->o.n == 0 || !worse(x->keep[0], &probe))
			return;
		pop_worst(x);
	}
	struct held *h = hold(x, rec);
	h->key = key;
	h->tie = tie;
	h->count = 1;
	keep_room(x);
	x->keep[x->nkeep++] = h;
	x->hsize += h->size;
	heap_up(x->keep, x->nkeep - 1);
	trim_to_budget(x);
}

/* --- N draws with replacement in one pass ------------------------------------------------------------
 * Each of the N draws is a weighted reservoir of size one: record i takes the draw with probability
 * w_i / W_i (W_i: the weight of records 1..i), which leaves every draw on record i with probability
 * w_i / W_n at the end, independently across draws. The number of draws record i takes is therefore
 * Binomial(N, w_i / W_i), and which draws is a uniformly random subset of that size. */
static void draw(struct ctx *x, const struct wnw_rec *rec, double w)
{
	uint64_t n = x->o.n;
	double p;
	if (x->o.log) { /* w / W as exp(log w - log W), W summed as log(exp(a) + exp(b)) without overflow */
		if (w == -INFINITY)
			return;
		double hi = fmax(x->wsum, w), lo = fmin(x->wsum, w);
		x->wsum = lo == -INFINITY ? hi : hi + wnw_log1p(wnw_exp(lo - hi));
		p = fmin(1, wnw_exp(w - x->wsum));
	} else {
		if (w == 0)
			return;
		x->wsum += w;
		p = w / x->wsum;
	}
	uint64_t b = wnw_rng_binomial(&x->rng, n, p);
	if (b == 0)
		return;
	struct held *h = hold(x, rec);
	h->count = b;
	for (uint64_t k = 0; k < b; k++) { /* a partial Fisher-Yates shuffle picks b distinct slots */
		uint64_t r = k + wnw_rng_below(&x->rng, n - k), s = x->perm[r];
		x->perm[r] = x->perm[k];
		x->perm[k] = s;
		struct held *old = x->slot[s];
		if (old != NULL && --old->count == 0)
			drop(old);
		x->slot[s] = h;
	}
}

static void take(struct ctx *x, const struct wnw_rec *rec)
{
	uint64_t tie = rec->number;
	switch (x->o.mode) {
	case DRAW:
		draw(x, rec, value(x, rec));
		break;
	case WEIGHTED: {
		/* Efraimidis-Spirakis: the n smallest E/w (E exponential) are a weighted sample without
		 * replacement; E/w orders like -log(u)/w, i.e. like the keys u^(1/w) of A-Res. With log
		 * weights the key is its logarithm, log E - log w: minus a Gumbel variate minus the log
		 * weight, so this is the Gumbel top-k trick, and no weight is ever exponentiated. */
		double w = value(x, rec);
		if (x->o.log && w > -INFINITY)
			offer(x, rec, wnw_log(wnw_rng_exponential(&x->rng)) - w, tie);
		else if (!x->o.log && w > 0)
			offer(x, rec, wnw_rng_exponential(&x->rng) / w, tie);
		break;
	}
	case TOP:
		if (x->id >= 0)
			tie = wnw_get_u64(rec, x->id);
		offer(x, rec, -value(x, rec), tie);
		break;
	case RANDOM:
		offer(x, rec, wnw_rng_uniform(&x->rng), tie);
		break;
	}
}

static int by_pos(const void *a, const void *b)
{
	const struct held *x = *(struct held *const *)a, *y = *(struct held *const *)b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int best_first(const void *a, const void *b)
{
	const struct held *x = *(struct held *const *)a, *y = *(struct held *const *)b;
	return worse(x, y) ? 1 : worse(y, x) ? -1 : 0;
}

/* --budget: the draws in slot order (each slot an independent draw), or the records best first, up to
 * the first that would pass the budget; the rest are let go. */
static void cut_to_budget(struct ctx *x)
{
	double used = 0;
	if (x->o.mode == DRAW) {
		for (uint64_t s = 0; s < x->o.n; s++) {
			struct held *h = x->slot[s];
			if (h == NULL)
				continue;
			if (!x->full && used + h->size <= x->o.budget) {
				used += h->size;
				continue;
			}
			x->full = 1;
			if (--h->count == 0)
				drop(h);
			x->slot[s] = NULL;
		}
		return;
	}
	if (x->nkeep > 1)
		qsort(x->keep, x->nkeep, sizeof *x->keep, best_first);
	size_t k = 0;
	while (k < x->nkeep && used + x->keep[k]->size <= x->o.budget)
		used += x->keep[k++]->size;
	x->full = k < x->nkeep;
	for (size_t i = k; i < x->nkeep; i++)
		drop(x->keep[i]);
	x->nkeep = k;
}

/* The chosen records, each once, in stream order; DRAW's slots are emptied into keep. */
static void gather(struct ctx *x)
{
	if (x->o.budget > 0)
		cut_to_budget(x);
	if (x->o.mode == DRAW) {
		x->nkeep = 0;
		for (uint64_t s = 0; s < x->o.n; s++) {
			struct held *h = x->slot[s];
			if (h != NULL && h->tie != UINT64_MAX) {
				h->tie = UINT64_MAX; /* marks it as gathered */
				keep_room(x);
				x->keep[x->nkeep++] = h;
			}
		}
	}
	if (x->nkeep > 1) /* qsort must not see the NULL of an empty array */
		qsort(x->keep, x->nkeep, sizeof *x->keep, by_pos);
}

/* A result short of what was asked says so: fewer records than N (not for a budget that stopped it), or
 * a budget that N, or the end of the stream, left unspent. */
static void say_short(const struct ctx *x)
{
	const char *name = wnw_reader_name(x->r);
	if (x->o.budget > 0 && !x->full) {
		if (x->o.mode == DRAW || x->nkeep == x->o.n)
			wnw_warn(&x->cmd, "%s: N = %llu was reached before the budget of %.17g", name,
				 (unsigned long long)x->o.n, x->o.budget);
		else
			wnw_warn(&x->cmd, "%s: the budget of %.17g was not reached: all %zu records%s taken", name,
				 x->o.budget, x->nkeep, x->o.mode == WEIGHTED ? " with a positive weight" : "");
	} else if (x->o.budget > 0 && x->nkeep == 0) {
		wnw_warn(&x->cmd, "%s: the first choice is larger than the budget of %.17g: nothing taken", name,
			 x->o.budget);
	} else if (x->o.budget == 0 && x->o.mode != DRAW && x->nkeep < x->o.n) {
		wnw_warn(&x->cmd, "%s: asked for %llu records, %s only %zu: all taken", name,
			 (unsigned long long)x->o.n,
			 x->o.mode == WEIGHTED ? "with a positive weight there are" : "there are", x->nkeep);
	}
}

static void write_out(struct ctx *x)
{
	struct wnw_err e;
	struct wnw_edit ed;
	struct wnw_schema out;
	const struct wnw_schema *in = wnw_reader_schema(x->r);
	if (wnw_schema_copy(&out, in, &e) < 0 ||
	    (!x->o.expand && wnw_edit_init(&ed, in, &out, "count", WNW_U64, 0, &e) < 0))
		wnw_die_err(&x->cmd, &e);
	struct wnw_writer *w = wnw_xcreate(&x->cmd, &out);
	wnw_schema_free(&out);
	for (size_t i = 0; i < x->nkeep; i++) {
		struct wnw_rec rec = as_rec(x, x->keep[i]);
		if (!x->o.expand) {
			wnw_edit_begin(w, &rec, &ed);
			wnw_writer_u64(w, x->keep[i]->count);
			if (wnw_edit_end(w, &rec, &ed, &e) < 0)
				wnw_die_err(&x->cmd, &e);
			continue;
		}
		for (uint64_t c = 0; c < x->keep[i]->count; c++) {
			wnw_writer_copy(w, &rec, 0, (int)x->nf);
			wnw_xend(&x->cmd, w);
		}
	}
	wnw_xclose(&x->cmd, w);
}

static void parse(struct ctx *x, int argc, char **argv)
{
	struct opts *o = &x->o;
	int modes = 0, wor = 0, ch;
	const uint64_t max = 1000000000;
	*o = (struct opts){0};
	wnw_cmd_init(&x->cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(&x->cmd)) != -1) {
		const char *a = x->cmd.optarg;
		switch (ch) {
		case 'n': o->n = wnw_opt_u64(&x->cmd, "-n", a, 1, max); o->mode = DRAW; modes++; break;
		case OPT_TOP: o->n = wnw_opt_u64(&x->cmd, "--top", a, 0, max); o->mode = TOP; modes++; break;
		case OPT_RANDOM:
			o->n = wnw_opt_u64(&x->cmd, "--random", a, 0, max);
			o->mode = RANDOM;
			modes++;
			break;
		case OPT_WOR: wor = 1; break;
		case OPT_BY: o->by = a; break;
		case OPT_SEED: o->seed = wnw_opt_u64(&x->cmd, "--seed", a, 0, UINT64_MAX); break;
		case OPT_EXPAND: o->expand = 1; break;
		case OPT_LOG: o->log = 1; break;
		case OPT_BUDGET: o->budget = (double)wnw_opt_size(&x->cmd, "--budget", a); break;
		case OPT_SIZE: o->size = a; break;
		default: wnw_usage(&x->cmd, "unknown option");
		}
	}
	if (modes != 1)
		wnw_usage(&x->cmd, "give exactly one of -n, --top and --random");
	if (wor && o->mode != DRAW)
		wnw_usage(&x->cmd, "--without-replacement goes with -n");
	if (wor)
		o->mode = WEIGHTED;
	if (o->by != NULL && o->mode == RANDOM)
		wnw_usage(&x->cmd, "--random is uniform: it takes no --by");
	if (o->log && o->mode == RANDOM)
		wnw_usage(&x->cmd, "--random is uniform: it takes no --log");
	if (o->size != NULL && o->budget == 0)
		wnw_usage(&x->cmd, "--size goes with --budget");
	if (o->budget > 0 && o->size == NULL)
		o->size = "text";
	if (o->by == NULL)
		o->by = o->mode == TOP ? "score" : "prob";
	o->input = wnw_cmd_input(&x->cmd);
}

static void setup(struct ctx *x)
{
	const struct wnw_schema *s = wnw_reader_schema(x->r);
	x->nf = s->nfields;
	x->id = wnw_schema_find(s, "id");
	if (x->id >= 0 && s->fields[x->id].type != WNW_U64)
		x->id = -1;
	if (!x->o.expand && wnw_schema_find(s, "count") < 0 && s->nfields >= WNW_MAX_FIELDS)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: too many fields to add 'count' (at most %u)",
			wnw_reader_name(x->r), WNW_MAX_FIELDS);
	x->size = -1;
	if (x->o.size != NULL) {
		x->size = wnw_xfield(&x->cmd, x->r, x->o.size, 0, NULL);
		int t = s->fields[x->size].type;
		if (t != WNW_U64 && t != WNW_F32 && t != WNW_F64 && t != WNW_BYTES)
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: field '%s' is %s, not a number or bytes",
				wnw_reader_name(x->r), x->o.size, wnw_type_name(t));
	}
	x->wsum = x->o.log ? -INFINITY : 0;
	x->by = -1;
	if (x->o.mode != RANDOM) {
		x->by = wnw_xfield(&x->cmd, x->r, x->o.by, 0, NULL);
		int t = s->fields[x->by].type;
		if (t != WNW_U64 && t != WNW_F32 && t != WNW_F64)
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: field '%s' is %s, not a number", wnw_reader_name(x->r),
				x->o.by, wnw_type_name(t));
	}
	wnw_rng_seed(&x->rng, x->o.seed);
	if (x->o.mode == DRAW) {
		x->slot = wnw_xcalloc(&x->cmd, x->o.n, sizeof *x->slot);
		x->perm = wnw_xmalloc(&x->cmd, x->o.n * sizeof *x->perm);
		for (uint64_t i = 0; i < x->o.n; i++)
			x->perm[i] = i;
	}
}

int main(int argc, char **argv)
{
	struct ctx x;
	struct wnw_rec rec;

	memset(&x, 0, sizeof x);
	parse(&x, argc, argv);
	x.r = wnw_xopen(&x.cmd, x.o.input);
	setup(&x);
	while (wnw_xnext(&x.cmd, x.r, &rec) == 1)
		take(&x, &rec);
	wnw_progress_done(&x.cmd, x.r);
	if (x.o.mode == DRAW && !(x.wsum > (x.o.log ? -INFINITY : 0)))
		wnw_die(&x.cmd, WNW_EXIT_DATA, "%s: nothing to draw: no record has a positive %s",
			wnw_reader_name(x.r), x.o.by);
	if (x.o.mode == DRAW && !isfinite(x.wsum))
		wnw_die(&x.cmd, WNW_EXIT_DATA, "%s: the sum of %s overflows", wnw_reader_name(x.r), x.o.by);
	gather(&x);
	say_short(&x);
	write_out(&x);
	for (size_t i = 0; i < x.nkeep; i++)
		drop(x.keep[i]);
	free(x.keep);
	free(x.slot);
	free(x.perm);
	wnw_reader_close(x.r);
	return wnw_cmd_done(&x.cmd);
}
