/* dedup: keeps one record of every cluster of duplicates: texts equal after normalisation (--exact) or
 * near duplicates found by MinHash LSH over token n-grams and verified by estimated Jaccard (--minhash).
 * Two passes: the first hashes every text and sorts the keys externally (-S), the second writes. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "extsort.h"
#include "minhash.h"
#include "par.h"
#include "prog.h"
#include "replay.h"
#include "spool.h"
#include "unionfind.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

static const char synopsis[] =
	"--exact [--raw] [--field NAME] [--keep-by FIELD] [--mark] [-v] [-S SIZE] [-j N] [-o FILE] [-z]\n"
	"             [FILE]\n"
	"       dedup --minhash [--ngram N] [--perms P] [--bands B] [--threshold J] [--seed X] [--field NAME]\n"
	"             [--keep-by FIELD] [--mark] [-v] [-S SIZE] [-j N] [-o FILE] [-z] [FILE]";

static const char help[] =
	"Writes one record of every cluster of duplicates (all records with --mark, and field dup_of).\n"
	"      --exact           duplicates: equal texts after case folding and whitespace normalisation\n"
	"      --raw             with --exact: equal bytes\n"
	"      --minhash         duplicates: estimated Jaccard of token n-gram sets >= J, joined transitively\n"
	"      --ngram N         tokens per shingle (default 5)\n"
	"      --perms P         MinHash functions, a multiple of 8 (default 128)\n"
	"      --bands B         LSH bands, dividing P (default 16: pairs collide with probability\n                        1/2 at J = 0.67, 0.947 at J = 0.8, 0.9999 at J = 0.9)\n"
	"      --threshold J     estimated Jaccard a candidate pair needs (default 0.8)\n"
	"      --seed X          seed of the hash functions (default 0)\n"
	"      --field NAME      the text field (default text)\n"
	"      --keep-by FIELD   keep the record with the largest FIELD (default: the first in the stream)\n"
	"      --mark            keep every record, adding field dup_of (the id of its cluster's kept record)\n"
	"  -v, --verbose         report the clusters and their sizes on stderr\n"
	"  -S, --buffer-size SIZE  memory for sorting keys before they spill to $TMPDIR (default 1G)\n";

enum { OPT_EXACT = 0x100, OPT_RAW, OPT_MINHASH, OPT_NGRAM, OPT_PERMS, OPT_BANDS, OPT_THRESHOLD, OPT_SEED,
       OPT_FIELD, OPT_KEEPBY, OPT_MARK };

static const struct option longopts[] = {
	{"exact", no_argument, NULL, OPT_EXACT},
	{"raw", no_argument, NULL, OPT_RAW},
	{"minhash", no_argument, NULL, OPT_MINHASH},
	{"ngram", required_argument, NULL, OPT_NGRAM},
	{"perms", required_argument, NULL, OPT_PERMS},
	{"bands", required_argument, NULL, OPT_BANDS},
	{"threshold", required_argument, NULL, OPT_THRESHOLD},
	{"seed", required_argument, NULL, OPT_SEED},
	{"field", required_argument, NULL, OPT_FIELD},
	{"keep-by", required_argument, NULL, OPT_KEEPBY},
	{"mark", no_argument, NULL, OPT_MARK},
	{"verbose", no_argument, NULL, 'v'},
	{"buffer-size", required_argument, NULL, 'S'},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	"dedup", synopsis, help, "vS:", longopts, WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

/* A batch holds at most this many records and this many bytes of records. */
#define BATCH_RECORDS 4096
#define BATCH_BYTES (16u << 20)

struct opts {
	int minhash, raw, mark, verbose;
	int ngram, perms, bands;
	double threshold;
	uint64_t seed, mem;
	const char *field, *keep_by, *input;
};

/* A sort key is a struct wnw_pair: a = the text hash's high 64 bits (--exact) or the band key
 * (--minhash); b = 32 more bits of the text hash, or the band number, above the record's index. Equal
 * keys are the a and the high half of b; the index in the low half puts a group's members in stream
 * order and makes the order total. */
#define INDEX(b) ((b) & 0xFFFFFFFFu)

/* What a thread computes for one record of the batch. */
struct item {
	XXH128_hash_t h;   /* --exact: hash of the (normalised) text */
	const uint8_t *p;  /* --exact: the bytes hashed (in the thread's scratch or the record) */
	size_t n;
	uint8_t *copy;     /* --exact with normalisation: the normalised text, owned */
	size_t cap;
	int oom;
};

struct ctx {
	struct wnw_cmd cmd;
	struct opts o;
	struct wnw_replay *rp;
	int field, keyf, idf;
	struct mh_perms pm;
	struct mh_shingler *sh; /* one per thread */
	struct wnw_batch batch;
	struct item *items;
	uint32_t *sigs;         /* --minhash: the batch's signatures */
	struct wnw_xsort *xs;
	struct wnw_spool spool; /* texts (--exact) or signatures (--minhash) by record index */
	uint64_t n, cap;        /* records read */
	uint64_t *id, *off;     /* per record: id (or position), --exact: spool offset (n + 1 of them) */
	double *key;            /* --keep-by values */
	uint32_t *parent, *keep; /* union-find; keep[root]: the index kept for a cluster */
	uint64_t pairs, joined; /* candidate pairs verified, of them joined */
	struct wnw_pool *pool;
	int need;          /* --minhash: agreeing positions a pair needs, ceil(J P) */
	uint64_t hashmask; /* all ones; fewer bits from WINNOW_DEDUP_HASH_BITS, to test collisions */
};

static void hash_one(void *arg, size_t i, int thread)
{
	struct ctx *x = arg;
	struct item *it = &x->items[i];
	size_t len;
	const uint8_t *text = wnw_get_bytes(&x->batch.recs[i], x->field, &len);
	struct mh_shingler *sh = &x->sh[thread];
	it->oom = 0;
	if (x->o.minhash) {
		if (mh_shingles(sh, text, len, x->o.ngram) < 0)
			it->oom = 1;
		else
			mh_signature(&x->pm, sh->h, sh->nh, x->sigs + i * (size_t)x->o.perms);
		return;
	}
	it->p = text;
	it->n = len;
	if (!x->o.raw) {
		if (hemb_tokenise(&sh->s, text, len) < 0 ||
		    (it->cap < sh->s.nnorm && (free(it->copy), it->cap = 0,
					       (it->copy = malloc(sh->s.nnorm)) == NULL))) {
			it->oom = 1;
			return;
		}
		if (it->cap < sh->s.nnorm)
			it->cap = sh->s.nnorm;
		if (sh->s.nnorm > 0)
			memcpy(it->copy, sh->s.norm, sh->s.nnorm);
		it->p = it->copy;
		it->n = sh->s.nnorm;
	}
	it->h = XXH3_128bits(it->p, it->n);
	it->h.high64 &= x->hashmask;
	it->h.low64 &= x->hashmask;
}

static void grow_arrays(struct ctx *x)
{
	if (x->n + 2 <= x->cap)
		return;
	x->cap = x->cap ? 2 * x->cap : 65536;
	x->id = wnw_xrealloc(&x->cmd, x->id, x->cap * sizeof *x->id);
	if (!x->o.minhash)
		x->off = wnw_xrealloc(&x->cmd, x->off, x->cap * sizeof *x->off);
	if (x->o.keep_by)
		x->key = wnw_xrealloc(&x->cmd, x->key, x->cap * sizeof *x->key);
}

static void add_key(struct ctx *x, uint64_t k1, uint64_t k2)
{
	struct wnw_err e;
	struct wnw_pair k = {k1, (k2 << 32) | x->n};
	if (wnw_xsort_add(x->xs, &k, &e) < 0)
		wnw_die_err(&x->cmd, &e);
}

/* Records the batch's results in stream order: keys to the sort, texts or signatures to the spool. */
static void collect(struct ctx *x)
{
	struct wnw_err e;
	const char *name = wnw_reader_name(wnw_replay_reader(x->rp));
	size_t sigbytes = (size_t)x->o.perms * 4;
	int r = x->o.perms / x->o.bands;
	for (size_t i = 0; i < x->batch.n; i++) {
		const struct wnw_rec *rec = &x->batch.recs[i];
		struct item *it = &x->items[i];
		if (it->oom)
			wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "%s: record %" PRIu64 ": out of memory for the text",
				name, rec->number);
		if (x->n >= UINT32_MAX - 1)
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: more than %u records", name, UINT32_MAX - 2);
		grow_arrays(x);
		x->id[x->n] = x->idf >= 0 ? wnw_get_u64(rec, x->idf) : rec->number - 1;
		if (x->o.keep_by) {
			double v = wnw_get_number(rec, x->keyf);
			if (isnan(v))
				wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %" PRIu64 ": %s is not a number", name,
					rec->number, x->o.keep_by);
			x->key[x->n] = v;
		}
		int rc;
		if (x->o.minhash) {
			const uint32_t *sig = x->sigs + i * (size_t)x->o.perms;
			for (int b = 0; b < x->o.bands; b++)
				add_key(x, mh_band_key(sig, b, r), (uint64_t)b);
			rc = wnw_spool_add(&x->spool, sig, sigbytes, &e);
		} else {
			x->off[x->n] = x->spool.size;
			add_key(x, it->h.high64, it->h.low64 >> 32);
			rc = wnw_spool_add(&x->spool, it->p, it->n, &e);
		}
		if (rc < 0)
			wnw_die_err(&x->cmd, &e);
		x->n++;
	}
	if (!x->o.minhash)
		x->off[x->n] = x->spool.size;
}

/* Pass one: every record's keys to the sort, its text or signature to the spool. */
static void read_all(struct ctx *x)
{
	struct wnw_err e;
	struct wnw_rec rec;
	int got = 1;
	while (got == 1) {
		wnw_batch_clear(&x->batch);
		while (x->batch.n < BATCH_RECORDS && wnw_batch_bytes(&x->batch) < BATCH_BYTES &&
		       (got = wnw_replay_next(x->rp, &rec, &e)) == 1) {
			if (wnw_batch_add(&x->batch, &rec) < 0)
				wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "out of memory for a batch of records");
			wnw_progress(&x->cmd, wnw_replay_reader(x->rp));
		}
		if (got < 0)
			wnw_die_err(&x->cmd, &e);
		wnw_pool_run(x->pool, x->batch.n, hash_one, x);
		collect(x);
	}
	wnw_progress_done(&x->cmd, wnw_replay_reader(x->rp));
}

/* --exact: whether records a and b hold the same (normalised) text; a hash match alone never joins. */
static int same_text(const struct ctx *x, uint64_t a, uint64_t b)
{
	uint64_t na = x->off[a + 1] - x->off[a], nb = x->off[b + 1] - x->off[b];
	return na == nb && memcmp(x->spool.map + x->off[a], x->spool.map + x->off[b], na) == 0;
}

static int near(const struct ctx *x, uint64_t a, uint64_t b)
{
	const uint32_t *s = (const uint32_t *)x->spool.map;
	size_t p = (size_t)x->o.perms;
	return mh_agree(s + a * p, s + b * p, x->o.perms, x->need);
}

/* One group of keys that are equal, members in stream order. --exact: a member joins the first earlier
 * member of equal text (a group holds more than one text only if 128-bit hashes collide). --minhash: a
 * member joins the group's first member if their estimated Jaccard reaches J, else the member before it
 * if theirs does; two comparisons per member, so a crowded band key costs linear time. */
struct group {
	uint64_t *reps; /* --exact: the group's distinct texts so far */
	size_t nreps, cap;
	uint64_t first, prev;
};

static void join(struct ctx *x, uint64_t a, uint64_t b)
{
	x->joined += (uint64_t)wnw_uf_union(x->parent, (uint32_t)a, (uint32_t)b);
}

static void group_add(struct ctx *x, struct group *g, uint64_t idx, int starts)
{
	if (starts) {
		g->nreps = 0;
		g->first = g->prev = idx;
	} else if (x->o.minhash) {
		x->pairs++;
		if (near(x, g->first, idx))
			join(x, g->first, idx);
		else if (g->prev != g->first && (x->pairs++, near(x, g->prev, idx)))
			join(x, g->prev, idx);
		g->prev = idx;
		return;
	} else {
		for (size_t k = 0; k < g->nreps; k++) {
			x->pairs++;
			if (same_text(x, g->reps[k], idx)) {
				join(x, g->reps[k], idx);
				return;
			}
		}
	}
	if (!x->o.minhash) {
		if (g->nreps == g->cap) {
			g->cap = g->cap ? 2 * g->cap : 8;
			g->reps = wnw_xrealloc(&x->cmd, g->reps, g->cap * sizeof *g->reps);
		}
		g->reps[g->nreps++] = idx;
	}
}

/* Joins the records of every group of equal keys, then picks each cluster's kept record. */
static void cluster(struct ctx *x)
{
	struct wnw_err e;
	struct group g = {0};
	const struct wnw_pair *k;
	int got, any = 0;
	if (wnw_xsort_finish(x->xs, &e) < 0 || wnw_spool_map(&x->spool, &e) < 0)
		wnw_die_err(&x->cmd, &e);
	x->parent = wnw_xmalloc(&x->cmd, (x->n + 1) * sizeof *x->parent);
	for (uint64_t i = 0; i < x->n; i++)
		x->parent[i] = (uint32_t)i;
	struct wnw_pair prev = {0, 0};
	while ((got = wnw_xsort_next(x->xs, (const void **)&k, &e)) == 1) {
		int starts = !any || k->a != prev.a || k->b >> 32 != prev.b >> 32;
		group_add(x, &g, INDEX(k->b), starts);
		prev = *k;
		any = 1;
	}
	if (got < 0)
		wnw_die_err(&x->cmd, &e);
	free(g.reps);
	for (uint64_t i = 0; i < x->n; i++)
		x->parent[i] = wnw_uf_find(x->parent, (uint32_t)i);
	if (x->o.keep_by == NULL)
		return;
	x->keep = wnw_xmalloc(&x->cmd, (x->n + 1) * sizeof *x->keep);
	for (uint64_t i = 0; i < x->n; i++) { /* roots come first in their clusters */
		uint32_t r = x->parent[i];
		if (r == i || x->key[i] > x->key[x->keep[r]])
			x->keep[r] = (uint32_t)i;
	}
}

static uint64_t kept_for(const struct ctx *x, uint64_t i)
{
	uint32_t r = x->parent[i];
	return x->keep ? x->keep[r] : r;
}

/* -v: the clusters of two or more, by size, and the five largest with the id each kept. */
static void report(struct ctx *x)
{
	uint32_t *size = wnw_xcalloc(&x->cmd, x->n + 1, sizeof *size);
	uint64_t dropped = 0, clusters = 0, bins[4] = {0};
	for (uint64_t i = 0; i < x->n; i++) {
		size[x->parent[i]]++;
		dropped += kept_for(x, i) != i;
	}
	uint32_t top[5] = {0};
	int ntop = 0;
	for (uint64_t i = 0; i < x->n; i++) {
		if (size[i] < 2)
			continue;
		clusters++;
		bins[size[i] < 3 ? 0 : size[i] < 10 ? 1 : size[i] < 100 ? 2 : 3]++;
		int at = ntop < 5 ? ntop++ : 5;
		while (at > 0 && size[top[at - 1]] < size[i]) {
			if (at < 5)
				top[at] = top[at - 1];
			at--;
		}
		if (at < 5)
			top[at] = (uint32_t)i;
	}
	wnw_warn(&x->cmd, "%" PRIu64 " records, %" PRIu64 " dropped, in %" PRIu64 " clusters of two or more "
		 "(sizes 2: %" PRIu64 ", 3-9: %" PRIu64 ", 10-99: %" PRIu64 ", 100 or more: %" PRIu64 "); "
		 "%" PRIu64 " candidate pairs compared, %" PRIu64 " joined; %" PRIu64 " sorted runs on disk",
		 x->n, dropped, clusters, bins[0], bins[1], bins[2], bins[3], x->pairs, x->joined,
		 wnw_xsort_runs(x->xs));
	for (int t = 0; t < ntop; t++)
		wnw_warn(&x->cmd, "cluster of %" PRIu32 ": kept id %" PRIu64, size[top[t]],
			 x->id[kept_for(x, top[t])]);
	free(size);
}

/* Pass two: the kept records, or with --mark every record and its dup_of. */
static void write_out(struct ctx *x)
{
	struct wnw_err e;
	struct wnw_edit ed;
	struct wnw_schema out;
	struct wnw_rec rec;
	int got;
	if (wnw_replay_rewind(x->rp, &e) < 0)
		wnw_die_err(&x->cmd, &e);
	const struct wnw_schema *in = wnw_reader_schema(wnw_replay_reader(x->rp));
	if (wnw_schema_copy(&out, in, &e) < 0 ||
	    (x->o.mark && wnw_edit_init(&ed, in, &out, "dup_of", WNW_U64, 0, &e) < 0))
		wnw_die_err(&x->cmd, &e);
	struct wnw_writer *w = wnw_xcreate(&x->cmd, &out);
	wnw_schema_free(&out);
	for (uint64_t i = 0; (got = wnw_replay_next(x->rp, &rec, &e)) == 1; i++) {
		if (i >= x->n)
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: changed between its two readings",
				wnw_reader_name(wnw_replay_reader(x->rp)));
		uint64_t k = kept_for(x, i);
		if (x->o.mark) {
			wnw_edit_begin(w, &rec, &ed);
			wnw_w_u64(w, x->id[k]);
			if (wnw_edit_end(w, &rec, &ed, &e) < 0)
				wnw_die_err(&x->cmd, &e);
		} else if (k == i) {
			wnw_w_copy(w, &rec, 0, (int)rec.schema->nfields);
			wnw_xend(&x->cmd, w);
		}
	}
	if (got < 0)
		wnw_die_err(&x->cmd, &e);
	wnw_xclose(&x->cmd, w);
}

static void parse(struct ctx *x, int argc, char **argv)
{
	struct opts *o = &x->o;
	int exact = 0, ch, tuned = 0;
	*o = (struct opts){.ngram = 5, .perms = 128, .bands = 16, .threshold = 0.8, .mem = (uint64_t)1 << 30,
			   .field = "text"};
	wnw_cmd_init(&x->cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(&x->cmd)) != -1) {
		const char *a = x->cmd.optarg;
		switch (ch) {
		case OPT_EXACT: exact = 1; break;
		case OPT_MINHASH: o->minhash = 1; break;
		case OPT_RAW: o->raw = 1; break;
		case OPT_NGRAM: o->ngram = (int)wnw_opt_u64(&x->cmd, "--ngram", a, 1, MH_MAX_NGRAM); tuned = 1; break;
		case OPT_PERMS:
			o->perms = (int)wnw_opt_u64(&x->cmd, "--perms", a, MH_LANES, MH_MAX_PERMS);
			tuned = 1;
			break;
		case OPT_BANDS: o->bands = (int)wnw_opt_u64(&x->cmd, "--bands", a, 1, MH_MAX_PERMS); tuned = 1; break;
		case OPT_THRESHOLD: o->threshold = wnw_opt_double(&x->cmd, "--threshold", a, 0, 1); tuned = 1; break;
		case OPT_SEED: o->seed = wnw_opt_u64(&x->cmd, "--seed", a, 0, UINT64_MAX); tuned = 1; break;
		case OPT_FIELD: o->field = a; break;
		case OPT_KEEPBY: o->keep_by = a; break;
		case OPT_MARK: o->mark = 1; break;
		case 'v': o->verbose = 1; break;
		case 'S': o->mem = wnw_opt_size(&x->cmd, "-S", a); break;
		default: wnw_usage(&x->cmd, "unexpected option");
		}
	}
	if (exact + o->minhash != 1)
		wnw_usage(&x->cmd, "give exactly one of --exact and --minhash");
	if (o->raw && o->minhash)
		wnw_usage(&x->cmd, "--raw goes with --exact");
	if (tuned && !o->minhash)
		wnw_usage(&x->cmd, "--ngram, --perms, --bands, --threshold and --seed go with --minhash");
	if (o->perms % MH_LANES != 0)
		wnw_usage(&x->cmd, "--perms: '%d' is not a multiple of %d", o->perms, MH_LANES);
	if (o->perms % o->bands != 0)
		wnw_usage(&x->cmd, "--bands: '%d' does not divide --perms %d", o->bands, o->perms);
	if (wnw_cmd_nargs(&x->cmd) > 1)
		wnw_usage(&x->cmd, "one input at most (concatenate with cat)");
	o->input = wnw_cmd_nargs(&x->cmd) == 1 ? wnw_cmd_args(&x->cmd)[0] : NULL;
}

static void setup(struct ctx *x)
{
	struct wnw_err e;
	const struct wnw_reader *r = wnw_replay_reader(x->rp);
	const struct wnw_schema *s = wnw_reader_schema(r);
	x->field = wnw_xfield(&x->cmd, r, x->o.field, WNW_BYTES, NULL);
	x->idf = wnw_schema_find(s, "id");
	if (x->idf >= 0 && s->fields[x->idf].type != WNW_U64)
		x->idf = -1;
	x->keyf = -1;
	if (x->o.keep_by) {
		x->keyf = wnw_xfield(&x->cmd, r, x->o.keep_by, 0, NULL);
		int t = s->fields[x->keyf].type;
		if (t != WNW_U64 && t != WNW_F32 && t != WNW_F64)
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: field '%s' is %s, not a number", wnw_reader_name(r),
				x->o.keep_by, wnw_type_name(t));
	}
	const char *bits = getenv("WINNOW_DEDUP_HASH_BITS");
	x->hashmask = ~(uint64_t)0;
	if (bits != NULL && *bits != '\0') {
		unsigned b = (unsigned)wnw_opt_u64(&x->cmd, "WINNOW_DEDUP_HASH_BITS", bits, 0, 64);
		x->hashmask = b == 64 ? x->hashmask : ((uint64_t)1 << b) - 1;
	}
	mh_perms_init(&x->pm, x->o.perms, x->o.seed);
	x->need = (int)ceil(x->o.threshold * x->o.perms - 1e-9);
	x->pool = wnw_pool_new(x->cmd.threads);
	x->sh = wnw_xcalloc(&x->cmd, (size_t)x->cmd.threads, sizeof *x->sh);
	x->items = wnw_xcalloc(&x->cmd, BATCH_RECORDS, sizeof *x->items);
	if (x->o.minhash)
		x->sigs = wnw_xmalloc(&x->cmd, (size_t)BATCH_RECORDS * (size_t)x->o.perms * 4);
	x->xs = wnw_xsort_new(sizeof(struct wnw_pair), NULL, x->o.mem, NULL, &e);
	if (x->pool == NULL || x->xs == NULL || wnw_spool_open(&x->spool, NULL, &e) < 0)
		wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "%s", x->pool == NULL ? "cannot start threads" : e.msg);
	wnw_batch_init(&x->batch);
}

static void finish(struct ctx *x)
{
	for (int t = 0; t < x->cmd.threads; t++)
		mh_shingler_free(&x->sh[t]);
	for (size_t i = 0; i < BATCH_RECORDS; i++)
		free(x->items[i].copy);
	free(x->sh);
	free(x->items);
	free(x->sigs);
	free(x->id);
	free(x->off);
	free(x->key);
	free(x->parent);
	free(x->keep);
	wnw_batch_free(&x->batch);
	wnw_xsort_free(x->xs);
	wnw_spool_close(&x->spool);
	wnw_pool_free(x->pool);
	wnw_replay_close(x->rp);
}

int main(int argc, char **argv)
{
	struct ctx x;
	struct wnw_err e;

	memset(&x, 0, sizeof x);
	parse(&x, argc, argv);
	if ((x.rp = wnw_replay_open(x.o.input, NULL, &e)) == NULL)
		wnw_die_err(&x.cmd, &e);
	wnw_cmd_on_die(&x.cmd, wnw_replay_discard, x.rp);
	setup(&x);
	read_all(&x);
	cluster(&x);
	if (x.o.verbose)
		report(&x);
	write_out(&x);
	wnw_cmd_on_die(&x.cmd, NULL, NULL);
	finish(&x);
	return wnw_cmd_done(&x.cmd);
}
