/* dedup: keeps one record of every cluster of duplicates: texts equal after normalisation (--exact) or
 * near duplicates found by MinHash LSH over token n-grams and verified by estimated Jaccard (--minhash).
 * Two passes: the first hashes every text (common/dupclust sorts the keys externally, -S), the second
 * writes. --signatures writes the signatures of a shard instead; --merge clusters such signatures. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dupclust.h"
#include "minhash.h"
#include "par.h"
#include "prog.h"
#include "replay.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

static const char synopsis[] =
	"--exact [--raw] [--field NAME] [--keep-by FIELD] [--mark] [-v] [-S SIZE] [-j N] [-o FILE] [-z [LEVEL]]\n"
	"             [FILE]\n"
	"       dedup --minhash [--ngram N] [--perms P] [--bands B] [--threshold J] [--seed X] [--field NAME]\n"
	"             [--keep-by FIELD] [--mark] [-v] [-S SIZE] [-j N] [-o FILE] [-z [LEVEL]] [FILE]\n"
	"       dedup --minhash --signatures [--ngram N] [--perms P] [--seed X] [--field NAME]\n"
	"             [--keep-by FIELD] [-j N] [-o FILE] [-z [LEVEL]] [FILE]\n"
	"       dedup --minhash --merge [--ngram N] [--perms P] [--bands B] [--threshold J] [--seed X] [-v]\n"
	"             [-S SIZE] [-o FILE] [-z [LEVEL]] [FILE]";

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
	"      --signatures      write each record's id and signature (fields id, minhash, minhash_params,\n"
	"                        keep_by), for --merge\n"
	"      --merge           cluster signature streams (joined by shard --merge or cat): write every\n"
	"                        record's id and dup_of, as --mark would in a single run\n"
	"  -v, --verbose         report the clusters and their sizes on stderr\n"
	"  -S, --buffer-size SIZE  memory for sorting keys before they spill to $TMPDIR (default 1G)\n";

enum { OPT_EXACT = WNW_OPT_LONG, OPT_RAW, OPT_MINHASH, OPT_NGRAM, OPT_PERMS, OPT_BANDS, OPT_THRESHOLD, OPT_SEED,
       OPT_FIELD, OPT_KEEPBY, OPT_MARK, OPT_SIGNATURES, OPT_MERGE };

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
	{"signatures", no_argument, NULL, OPT_SIGNATURES},
	{"merge", no_argument, NULL, OPT_MERGE},
	{"verbose", no_argument, NULL, 'v'},
	{"buffer-size", required_argument, NULL, 'S'},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "dedup",
	.synopsis = synopsis,
	.help = help,
	.shortopts = "vS:",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

/* A batch holds at most this many records and this many bytes of records. */
#define BATCH_RECORDS 4096
#define BATCH_BYTES (16u << 20)

struct opts {
	int minhash, raw, mark, verbose, signatures, merge;
	int ngram, perms, bands;
	double threshold;
	uint64_t seed, mem;
	const char *field, *keep_by, *input;
};

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
	struct wnw_reader *r;
	int field, keyf, idf;
	struct mh_perms pm;
	struct mh_shingler *sh; /* one per thread */
	struct wnw_batch batch;
	struct item *items;
	uint32_t *sigs;         /* --minhash: the batch's signatures */
	struct wnw_dups dups;
	uint64_t n, cap;        /* records read */
	uint64_t *id;           /* per record: id (or position from 0) */
	struct wnw_pool *pool;
	uint64_t params;        /* --minhash: a hash of what a signature depends on */
	struct wnw_writer *sigw; /* --signatures: the output */
	int sigf, paramf, keyf2; /* --merge: fields of the signature stream */
	uint64_t hashmask; /* all ones; fewer bits from WINNOW_DEDUP_HASH_BITS, to test collisions */
};

/* Copies n bytes into the item's own buffer; 0 when out of memory. */
static int keep_copy(struct item *it, const uint8_t *p, size_t n)
{
	if (it->cap < n) {
		uint8_t *c = realloc(it->copy, n);
		if (c == NULL)
			return 0;
		it->copy = c;
		it->cap = n;
	}
	if (n > 0)
		memcpy(it->copy, p, n);
	return 1;
}

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
		/* the normalised text outlives the thread's scratch: collect() spools it after the batch */
		if (hemb_tokenise(&sh->s, text, len) < 0 || !keep_copy(it, sh->s.norm, sh->s.nnorm)) {
			it->oom = 1;
			return;
		}
		it->p = it->copy;
		it->n = sh->s.nnorm;
	}
	it->h = XXH3_128bits(it->p, it->n);
	it->h.high64 &= x->hashmask;
	it->h.low64 &= x->hashmask;
}

/* The input: read twice through a replay to dedup, once by a plain reader for --signatures and --merge. */
static struct wnw_reader *input(const struct ctx *x) { return x->rp ? wnw_replay_reader(x->rp) : x->r; }

static int next(struct ctx *x, struct wnw_rec *rec, struct wnw_err *e)
{
	return x->rp ? wnw_replay_next(x->rp, rec, e) : wnw_reader_next(x->r, rec, e);
}

static void die_at(struct ctx *x, const struct wnw_rec *rec, const struct wnw_err *e)
{
	wnw_die(&x->cmd, e->status, "%s: record %" PRIu64 ": %s", wnw_reader_name(input(x)),
		rec->number, e->msg);
}

static void add_id(struct ctx *x, uint64_t id)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 65536;
		x->id = wnw_xrealloc(&x->cmd, x->id, x->cap * sizeof *x->id);
	}
	x->id[x->n++] = id;
}

static double keep_value(struct ctx *x, const struct wnw_rec *rec, int f)
{
	double v = f < 0 ? 0 : wnw_get_number(rec, f);
	if (isnan(v))
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %" PRIu64 ": %s is not a number",
			wnw_reader_name(input(x)), rec->number, x->o.keep_by ? x->o.keep_by : "keep_by");
	return v;
}

/* --signatures: one output record per input record. */
static void write_signature(struct ctx *x, const struct wnw_rec *rec, const uint32_t *sig, double key)
{
	wnw_writer_u64(x->sigw, x->idf >= 0 ? wnw_get_u64(rec, x->idf) : rec->number - 1);
	wnw_writer_bytes(x->sigw, sig, (size_t)x->o.perms * 4);
	wnw_writer_u64(x->sigw, x->params);
	if (x->o.keep_by)
		wnw_writer_f64(x->sigw, key);
	wnw_xend(&x->cmd, x->sigw);
}

/* Records the batch's results in stream order. */
static void collect(struct ctx *x)
{
	struct wnw_err e;
	for (size_t i = 0; i < x->batch.n; i++) {
		const struct wnw_rec *rec = &x->batch.recs[i];
		struct item *it = &x->items[i];
		if (it->oom)
			wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "%s: record %" PRIu64 ": out of memory for the text",
				wnw_reader_name(input(x)), rec->number);
		double key = keep_value(x, rec, x->keyf);
		const uint32_t *sig = x->sigs + i * (size_t)x->o.perms;
		if (x->o.signatures) {
			write_signature(x, rec, sig, key);
			continue;
		}
		add_id(x, x->idf >= 0 ? wnw_get_u64(rec, x->idf) : rec->number - 1);
		if ((x->o.minhash ? wnw_dups_add_sig(&x->dups, sig, key, &e)
				  : wnw_dups_add_text(&x->dups, it->h.high64, it->h.low64, it->p, it->n, key, &e)) < 0)
			die_at(x, rec, &e);
	}
}

/* --merge: one record of a signature stream, checked against this run's options. */
static void take_signature(struct ctx *x, const struct wnw_rec *rec)
{
	struct wnw_err e;
	size_t len;
	const uint8_t *sig = wnw_get_bytes(rec, x->sigf, &len);
	uint32_t buf[MH_MAX_PERMS];
	if (wnw_get_u64(rec, x->paramf) != x->params)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %" PRIu64 ": signature made with other --ngram, --perms "
			"or --seed than these", wnw_reader_name(input(x)), rec->number);
	if (len != (size_t)x->o.perms * 4)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %" PRIu64 ": signature of %zu bytes, not %d",
			wnw_reader_name(input(x)), rec->number, len, x->o.perms * 4);
	for (int k = 0; k < x->o.perms; k++)
		buf[k] = wnw_le32(sig + 4 * k);
	add_id(x, wnw_get_u64(rec, x->idf));
	if (wnw_dups_add_sig(&x->dups, buf, keep_value(x, rec, x->keyf2), &e) < 0)
		die_at(x, rec, &e);
}

/* Pass one: every record's keys and text or signature to the clusters (or, --signatures, out). */
static void read_all(struct ctx *x)
{
	struct wnw_err e;
	struct wnw_rec rec;
	int got = 1;
	while (got == 1) {
		wnw_batch_clear(&x->batch);
		while (x->batch.n < BATCH_RECORDS && wnw_batch_bytes(&x->batch) < BATCH_BYTES &&
		       (got = next(x, &rec, &e)) == 1) {
			wnw_progress(&x->cmd, input(x));
			if (x->o.merge)
				take_signature(x, &rec);
			else if (wnw_batch_add(&x->batch, &rec) < 0)
				wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "out of memory for a batch of records");
		}
		if (got < 0)
			wnw_die_err(&x->cmd, &e);
		wnw_pool_run(x->pool, x->batch.n, hash_one, x);
		collect(x);
	}
	wnw_progress_done(&x->cmd, input(x));
}

/* -v: the clusters of two or more, by size, and the five largest with the id each kept. */
static void report(struct ctx *x)
{
	const struct wnw_dups *d = &x->dups;
	uint32_t *size = wnw_xcalloc(&x->cmd, x->n + 1, sizeof *size);
	uint64_t dropped = 0, clusters = 0, bins[4] = {0};
	for (uint64_t i = 0; i < x->n; i++) {
		size[d->parent[i]]++;
		dropped += wnw_dups_kept(d, i) != i;
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
		 x->n, dropped, clusters, bins[0], bins[1], bins[2], bins[3], d->pairs, d->joined,
		 wnw_xsort_runs(d->xs));
	for (int t = 0; t < ntop; t++)
		wnw_warn(&x->cmd, "cluster of %" PRIu32 ": kept id %" PRIu64, size[top[t]], x->id[wnw_dups_kept(d, top[t])]);
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
	const struct wnw_schema *in = wnw_reader_schema(input(x));
	wnw_xedit(&x->cmd, in, &out, &ed, x->o.mark ? "dup_of" : NULL, WNW_U64, 0);
	struct wnw_writer *w = wnw_xcreate(&x->cmd, &out);
	wnw_schema_free(&out);
	for (uint64_t i = 0; (got = next(x, &rec, &e)) == 1; i++) {
		if (i >= x->n)
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: changed between its two readings", wnw_reader_name(input(x)));
		uint64_t k = wnw_dups_kept(&x->dups, i);
		if (x->o.mark) {
			wnw_edit_begin(w, &rec, &ed);
			wnw_writer_u64(w, x->id[k]);
			if (wnw_edit_end(w, &rec, &ed, &e) < 0)
				wnw_die_err(&x->cmd, &e);
		} else if (k == i) {
			wnw_writer_copy(w, &rec, 0, (int)rec.schema->nfields);
			wnw_xend(&x->cmd, w);
		}
	}
	if (got < 0)
		wnw_die_err(&x->cmd, &e);
	wnw_xclose(&x->cmd, w);
}

/* A new stream of the given u64 fields (id, dup_of) or of a signature's fields, with the input's
 * provenance. */
static struct wnw_writer *new_stream(struct ctx *x, const char *const *names, const int *types, int n)
{
	struct wnw_err e;
	struct wnw_schema out;
	if (wnw_schema_copy(&out, wnw_reader_schema(input(x)), &e) < 0)
		wnw_die_err(&x->cmd, &e);
	while (out.nfields > 0)
		wnw_schema_remove(&out, out.fields[0].name);
	for (int i = 0; i < n; i++)
		if (wnw_schema_set(&out, names[i], types[i], 0, &e) < 0)
			wnw_die_err(&x->cmd, &e);
	struct wnw_writer *w = wnw_xcreate(&x->cmd, &out);
	wnw_schema_free(&out);
	return w;
}

/* --merge: every record's id and the id of the record kept for its cluster, in input order. */
static void write_clusters(struct ctx *x)
{
	static const char *const names[] = {"id", "dup_of"};
	static const int types[] = {WNW_U64, WNW_U64};
	struct wnw_writer *w = new_stream(x, names, types, 2);
	for (uint64_t i = 0; i < x->n; i++) {
		wnw_writer_u64(w, x->id[i]);
		wnw_writer_u64(w, x->id[wnw_dups_kept(&x->dups, i)]);
		wnw_xend(&x->cmd, w);
	}
	wnw_xclose(&x->cmd, w);
}

static void parse(struct ctx *x, int argc, char **argv)
{
	struct opts *o = &x->o;
	int exact = 0, ch, tuned = 0, banded = 0;
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
		case OPT_BANDS: o->bands = (int)wnw_opt_u64(&x->cmd, "--bands", a, 1, MH_MAX_PERMS); banded = 1; break;
		case OPT_THRESHOLD: o->threshold = wnw_opt_double(&x->cmd, "--threshold", a, 0, 1); banded = 1; break;
		case OPT_SEED: o->seed = wnw_opt_u64(&x->cmd, "--seed", a, 0, UINT64_MAX); tuned = 1; break;
		case OPT_FIELD: o->field = a; break;
		case OPT_KEEPBY: o->keep_by = a; break;
		case OPT_MARK: o->mark = 1; break;
		case OPT_SIGNATURES: o->signatures = 1; break;
		case OPT_MERGE: o->merge = 1; break;
		case 'v': o->verbose = 1; break;
		case 'S': o->mem = wnw_opt_size(&x->cmd, "-S", a); break;
		default: wnw_usage(&x->cmd, "unknown option");
		}
	}
	if (exact + o->minhash != 1)
		wnw_usage(&x->cmd, "give exactly one of --exact and --minhash");
	if (o->raw && o->minhash)
		wnw_usage(&x->cmd, "--raw goes with --exact");
	if ((tuned || banded) && !o->minhash)
		wnw_usage(&x->cmd, "--ngram, --perms, --bands, --threshold and --seed go with --minhash");
	if ((o->signatures || o->merge) && !o->minhash)
		wnw_usage(&x->cmd, "--signatures and --merge go with --minhash");
	if (o->signatures && (o->merge || o->mark || o->verbose || banded))
		wnw_usage(&x->cmd, "--signatures takes no --merge, --mark, -v, --bands or --threshold");
	if (o->merge && (o->mark || o->keep_by || (x->cmd.threads_given && x->cmd.threads > 1)))
		wnw_usage(&x->cmd, "--merge takes no --mark, --keep-by or -j (the signatures carry keep_by)");
	if (o->perms % MH_LANES != 0)
		wnw_usage(&x->cmd, "--perms: '%d' is not a multiple of %d", o->perms, MH_LANES);
	if (o->perms % o->bands != 0)
		wnw_usage(&x->cmd, "--bands: '%d' does not divide --perms %d", o->bands, o->perms);
	o->input = wnw_cmd_input(&x->cmd);
}

static int numeric(int t) { return t == WNW_U64 || t == WNW_F32 || t == WNW_F64; }

/* --merge: the fields of a signature stream. */
static void setup_merge(struct ctx *x)
{
	const struct wnw_reader *r = input(x);
	const struct wnw_schema *s = wnw_reader_schema(r);
	x->idf = wnw_xfield(&x->cmd, r, "id", WNW_U64, NULL);
	x->sigf = wnw_xfield(&x->cmd, r, "minhash", WNW_BYTES, NULL);
	x->paramf = wnw_xfield(&x->cmd, r, "minhash_params", WNW_U64, NULL);
	x->keyf2 = wnw_schema_find(s, "keep_by");
	if (x->keyf2 >= 0 && !numeric(s->fields[x->keyf2].type))
		x->keyf2 = -1;
}

static void setup_text(struct ctx *x)
{
	const struct wnw_reader *r = input(x);
	const struct wnw_schema *s = wnw_reader_schema(r);
	x->field = wnw_xfield(&x->cmd, r, x->o.field, WNW_BYTES, NULL);
	x->idf = wnw_schema_find(s, "id");
	if (x->idf >= 0 && s->fields[x->idf].type != WNW_U64)
		x->idf = -1;
	x->keyf = -1;
	if (x->o.keep_by) {
		x->keyf = wnw_xfield(&x->cmd, r, x->o.keep_by, 0, NULL);
		if (!numeric(s->fields[x->keyf].type))
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: field '%s' is %s, not a number", wnw_reader_name(r),
				x->o.keep_by, wnw_type_name(s->fields[x->keyf].type));
	}
	const char *bits = getenv("WINNOW_DEDUP_HASH_BITS");
	x->hashmask = ~(uint64_t)0;
	if (bits != NULL && *bits != '\0') {
		unsigned b = (unsigned)wnw_opt_u64(&x->cmd, "WINNOW_DEDUP_HASH_BITS", bits, 0, 64);
		x->hashmask = b == 64 ? x->hashmask : ((uint64_t)1 << b) - 1;
	}
	if (x->o.signatures) {
		static const char *const names[] = {"id", "minhash", "minhash_params", "keep_by"};
		static const int types[] = {WNW_U64, WNW_BYTES, WNW_U64, WNW_F64};
		x->sigw = new_stream(x, names, types, x->o.keep_by ? 4 : 3);
	}
}

static void setup(struct ctx *x)
{
	struct wnw_err e;
	uint64_t what[4] = {HEMB_RULES, (uint64_t)x->o.ngram, (uint64_t)x->o.perms, x->o.seed};
	x->params = XXH3_64bits(what, sizeof what);
	if (x->o.merge)
		setup_merge(x);
	else
		setup_text(x);
	mh_perms_init(&x->pm, x->o.perms, x->o.seed);
	x->pool = wnw_xpool(&x->cmd, x->cmd.threads);
	x->sh = wnw_xcalloc(&x->cmd, (size_t)x->cmd.threads, sizeof *x->sh);
	x->items = wnw_xcalloc(&x->cmd, BATCH_RECORDS, sizeof *x->items);
	if (x->o.minhash)
		x->sigs = wnw_xmalloc(&x->cmd, (size_t)BATCH_RECORDS * (size_t)x->o.perms * 4);
	if (!x->o.signatures &&
	    wnw_dups_init(&x->dups, x->o.minhash, x->o.perms, x->o.bands, (int)ceil(x->o.threshold * x->o.perms - 1e-9),
			  x->o.keep_by != NULL || x->keyf2 >= 0, x->o.mem, &e) < 0)
		wnw_die_err(&x->cmd, &e);
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
	wnw_dups_free(&x->dups);
	wnw_batch_free(&x->batch);
	wnw_pool_free(x->pool);
	wnw_replay_close(x->rp);
	wnw_reader_close(x->r);
}

int main(int argc, char **argv)
{
	struct ctx x;
	struct wnw_err e;

	memset(&x, 0, sizeof x);
	x.keyf2 = -1;
	parse(&x, argc, argv);
	if (x.o.signatures || x.o.merge)
		x.r = wnw_xopen(&x.cmd, x.o.input);
	else if ((x.rp = wnw_replay_open(x.o.input, NULL, &e)) == NULL)
		wnw_die_err(&x.cmd, &e);
	wnw_cmd_on_die(&x.cmd, wnw_replay_discard, x.rp);
	setup(&x);
	read_all(&x);
	if (x.o.signatures) {
		wnw_xclose(&x.cmd, x.sigw);
	} else {
		if (wnw_dups_cluster(&x.dups, &e) < 0)
			wnw_die_err(&x.cmd, &e);
		if (x.o.verbose)
			report(&x);
		if (x.o.merge)
			write_clusters(&x);
		else
			write_out(&x);
	}
	wnw_cmd_on_die(&x.cmd, NULL, NULL);
	finish(&x);
	return wnw_cmd_done(&x.cmd);
}
