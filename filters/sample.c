/* sample: chooses records from a stream in one pass: N weighted draws with replacement (TSDS), weighted
 * sampling without replacement, the N highest scores (ZIP-FIT), or a uniform random subset (see sample(1)).
 * Memory is O(N): the chosen records are held until the end of the stream and written in stream order. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prog.h"
#include "rng.h"

static const char synopsis[] =
	"-n N [--by FIELD] [--without-replacement] [--seed X] [--expand] [-o FILE] [-z] [FILE]\n"
	"       sample --top N [--by FIELD] [--expand] [-o FILE] [-z] [FILE]\n"
	"       sample --random N [--seed X] [--expand] [-o FILE] [-z] [FILE]";

static const char help[] =
	"Writes the chosen records, in stream order, with field count (times drawn).\n"
	"  -n, --draws N             N draws with replacement, in proportion to FIELD\n"
	"      --without-replacement with -n: N distinct records, weighted (reservoir keys E/w)\n"
	"      --top N               the N records with the highest FIELD, ties to the smaller id\n"
	"      --random N            N distinct records uniformly at random\n"
	"      --by FIELD            the weight or score field (default prob; score with --top)\n"
	"      --seed X              seed of the generator (default 0); same seed, same output anywhere\n"
	"      --expand              write each chosen record count times, without the count field\n";

enum { OPT_WOR = 0x100, OPT_TOP, OPT_RANDOM, OPT_BY, OPT_SEED, OPT_EXPAND };

static const struct option longopts[] = {
	{"draws", required_argument, NULL, 'n'},
	{"without-replacement", no_argument, NULL, OPT_WOR},
	{"top", required_argument, NULL, OPT_TOP},
	{"random", required_argument, NULL, OPT_RANDOM},
	{"by", required_argument, NULL, OPT_BY},
	{"seed", required_argument, NULL, OPT_SEED},
	{"expand", no_argument, NULL, OPT_EXPAND},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	"sample", synopsis, help, "n:", longopts, WNW_OPT_OUTPUT | WNW_OPT_PROGRESS,
};

enum mode { DRAW, WEIGHTED, TOP, RANDOM };

struct opts {
	enum mode mode;
	uint64_t n, seed;
	const char *by, *input;
	int expand;
};

/* A record kept for the output: a copy of its bytes and field offsets. */
struct held {
	uint64_t pos;    /* 0-based position in the stream: the output order */
	uint64_t number; /* 1-based record number, for messages */
	double key;      /* selection key: smaller is better */
	uint64_t tie;    /* breaks equal keys: smaller is better */
	uint64_t count;  /* times drawn (with replacement: the slots that hold it) */
	uint32_t len;
	uint32_t *off;   /* nfields + 1 offsets, followed in the same block by the record bytes */
};

struct ctx {
	struct wnw_cmd cmd;
	struct opts o;
	struct wnw_reader *r;
	int by, id;         /* field indices, -1 when absent */
	uint32_t nf;
	struct wnw_rng rng;
	struct held **keep; /* WEIGHTED, TOP, RANDOM: a heap of at most n, worst at the root */
	size_t nkeep, kcap; /* keep grows as records arrive, so a large N costs nothing up front */
	struct held **slot; /* DRAW: the record each of the n draws currently holds */
	uint64_t *perm;     /* DRAW: a permutation of the slots, for choosing distinct slots */
	double wsum;        /* DRAW: total weight so far */
};

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

/* The weight or score of a record, checked: NaN never; negative or infinite not as a weight. */
static double value(struct ctx *x, const struct wnw_rec *rec)
{
	double v = wnw_get_number(rec, x->by);
	const char *what = isnan(v) ? "not a number" : v < 0 ? "negative" : "infinite";
	if (isnan(v) || (x->o.mode != TOP && (v < 0 || isinf(v)))) {
		if (x->id >= 0)
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu (id %llu): %s %g is %s",
				wnw_reader_name(x->r), (unsigned long long)rec->number,
				(unsigned long long)wnw_get_u64(rec, x->id), x->o.by, v, what);
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu: %s %g is %s", wnw_reader_name(x->r),
			(unsigned long long)rec->number, x->o.by, v, what);
	}
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

/* Offers a record with its key to the heap of the best n; copies it only when it is kept. */
static void offer(struct ctx *x, const struct wnw_rec *rec, double key, uint64_t tie)
{
	if (x->nkeep == x->o.n) {
		struct held probe = {.key = key, .tie = tie};
		if (x->o.n == 0 || !worse(x->keep[0], &probe))
			return;
		drop(x->keep[0]);
		x->keep[0] = hold(x, rec);
		x->keep[0]->key = key;
		x->keep[0]->tie = tie;
		x->keep[0]->count = 1;
		heap_down(x->keep, x->nkeep, 0);
		return;
	}
	struct held *h = hold(x, rec);
	h->key = key;
	h->tie = tie;
	h->count = 1;
	keep_room(x);
	x->keep[x->nkeep++] = h;
	heap_up(x->keep, x->nkeep - 1);
}

/* --- N draws with replacement in one pass ------------------------------------------------------------
 * Each of the N draws is a weighted reservoir of size one: record i takes the draw with probability
 * w_i / W_i (W_i: the weight of records 1..i), which leaves every draw on record i with probability
 * w_i / W_n at the end, independently across draws. The number of draws record i takes is therefore
 * Binomial(N, w_i / W_i), and which draws is a uniformly random subset of that size. */
static void draw(struct ctx *x, const struct wnw_rec *rec, double w)
{
	uint64_t n = x->o.n;
	if (w == 0)
		return;
	x->wsum += w;
	uint64_t b = wnw_rng_binomial(&x->rng, n, w / x->wsum);
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
		 * replacement; E/w orders like -log(u)/w, i.e. like the keys u^(1/w) of A-Res. */
		double w = value(x, rec);
		if (w > 0)
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

/* The chosen records, each once, in stream order; DRAW's slots are emptied into keep. */
static void gather(struct ctx *x)
{
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
			wnw_w_u64(w, x->keep[i]->count);
			if (wnw_edit_end(w, &rec, &ed, &e) < 0)
				wnw_die_err(&x->cmd, &e);
			continue;
		}
		for (uint64_t c = 0; c < x->keep[i]->count; c++) {
			wnw_w_copy(w, &rec, 0, (int)x->nf);
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
		default: wnw_usage(&x->cmd, "unexpected option");
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
	if (o->by == NULL)
		o->by = o->mode == TOP ? "score" : "prob";
	if (wnw_cmd_nargs(&x->cmd) > 1)
		wnw_usage(&x->cmd, "one input at most");
	o->input = wnw_cmd_nargs(&x->cmd) == 1 ? wnw_cmd_args(&x->cmd)[0] : NULL;
}

static void setup(struct ctx *x)
{
	const struct wnw_schema *s = wnw_reader_schema(x->r);
	x->nf = s->nfields;
	x->id = wnw_schema_find(s, "id");
	if (x->id >= 0 && s->fields[x->id].type != WNW_U64)
		x->id = -1;
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
	if (x.o.mode == DRAW && !(x.wsum > 0))
		wnw_die(&x.cmd, WNW_EXIT_DATA, "%s: nothing to draw: no record has a positive %s",
			wnw_reader_name(x.r), x.o.by);
	if (x.o.mode == DRAW && !isfinite(x.wsum))
		wnw_die(&x.cmd, WNW_EXIT_DATA, "%s: the sum of %s overflows", wnw_reader_name(x.r), x.o.by);
	gather(&x);
	if (x.o.mode != DRAW && x.nkeep < x.o.n)
		wnw_warn(&x.cmd, "%s: asked for %llu records, %s only %zu: all taken", wnw_reader_name(x.r),
			 (unsigned long long)x.o.n, x.o.mode == WEIGHTED ? "with a positive weight there are" : "there are",
			 x.nkeep);
	write_out(&x);
	for (size_t i = 0; i < x.nkeep; i++)
		drop(x.keep[i]);
	free(x.keep);
	free(x.slot);
	free(x.perm);
	wnw_reader_close(x.r);
	return wnw_cmd_done(&x.cmd);
}
