/* decontam: drops (or marks) the records that share a token n-gram with a reference set, such as a
 * benchmark's test items; the reference's n-gram hashes are held in an exact set or a Bloom filter. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "minhash.h"
#include "ngramset.h"
#include "par.h"
#include "prog.h"
#include "texts.h"

static const char synopsis[] =
	"-r REFERENCE [--ngram N] [--min-overlap F] [--bloom] [--field NAME] [--mark] [-v] [-j N]\n"
	"                [-o FILE] [-z [LEVEL]] [FILE]";

static const char help[] =
	"Writes the records that share no token n-gram with REFERENCE (all records with --mark, and field\n"
	"contam: how many of their n-grams REFERENCE holds).\n"
	"  -r, --reference REFERENCE  a stream, or JSONL (.jsonl, .jsonl.gz, .jsonl.zst, .ndjson)\n"
	"      --ngram N         tokens per n-gram (default 13)\n"
	"      --min-overlap F   drop only when at least this fraction of a record's n-grams is shared\n"
	"                        (default 0: one shared n-gram is enough)\n"
	"      --bloom           hold REFERENCE's n-grams in a Bloom filter (4 bytes each; false positive\n"
	"                        rate 2.1e-7 per n-gram looked up) instead of an exact set (16 to 32 bytes)\n"
	"      --field NAME      the text field of the input and of REFERENCE (default text)\n"
	"      --mark            keep every record and add field contam\n"
	"  -v, --verbose         report what was dropped and the reference records that caused most of it\n";

enum { OPT_NGRAM = WNW_OPT_LONG, OPT_OVERLAP, OPT_BLOOM, OPT_FIELD, OPT_MARK };

static const struct option longopts[] = {
	{"reference", required_argument, NULL, 'r'},
	{"ngram", required_argument, NULL, OPT_NGRAM},
	{"min-overlap", required_argument, NULL, OPT_OVERLAP},
	{"bloom", no_argument, NULL, OPT_BLOOM},
	{"field", required_argument, NULL, OPT_FIELD},
	{"mark", no_argument, NULL, OPT_MARK},
	{"verbose", no_argument, NULL, 'v'},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "decontam",
	.synopsis = synopsis,
	.help = help,
	.shortopts = "r:v",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

#define BATCH_RECORDS 4096
#define BATCH_BYTES (16u << 20)
#define TOP 10 /* -v: reference records named */
#define EXAMPLE 100 /* -v: bytes of an n-gram shown */

struct opts {
	const char *reference, *field, *input;
	int ngram, bloom, mark, verbose;
	double overlap;
};

/* What a thread finds for one record of the batch. */
struct hit {
	uint64_t shared, total; /* n-grams the reference holds, n-grams */
	uint32_t src;           /* the reference record of the first shared n-gram */
	int oom;
	char first[EXAMPLE];    /* -v: the first shared n-gram, normalised, cut short */
};

struct ctx {
	struct wnw_cmd cmd;
	struct opts o;
	struct ngramset set;
	struct mh_shingler *sh; /* one per thread */
	uint64_t *ref_id;       /* per reference record: its id */
	uint64_t nref, refcap, ngrams;
	uint64_t *caused;       /* per reference record: input records it was the first cause of */
	char **example;         /* per reference record: the first n-gram it was the cause by */
	struct wnw_batch batch;
	struct hit *hits;
	struct wnw_pool *pool;
	struct wnw_reader *r;
	int field;
	uint64_t dropped, seen;
};

/* --- the reference --------------------------------------------------------------------------------- */

static int add_reference(void *arg, uint64_t id, const uint8_t *p, size_t n, const char *where, struct wnw_err *e)
{
	struct ctx *x = arg;
	if (x->nref >= NGS_NONE)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: %s: more than %u reference records", x->o.reference, where,
				NGS_NONE - 1);
	if (mh_shingles(&x->sh[0], p, n, x->o.ngram) < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: %s: out of memory for the text", x->o.reference, where);
	for (size_t i = 0; i < x->sh[0].nh; i++)
		if (ngs_add(&x->set, x->sh[0].h[i], (uint32_t)x->nref, e) < 0)
			return -1;
	if (x->nref == x->refcap) {
		x->refcap = x->refcap ? 2 * x->refcap : 1024;
		x->ref_id = wnw_xrealloc(&x->cmd, x->ref_id, x->refcap * sizeof *x->ref_id);
	}
	x->ref_id[x->nref++] = id;
	x->ngrams += x->sh[0].nh;
	return 0;
}

static int count_ngrams(void *arg, uint64_t id, const uint8_t *p, size_t n, const char *where, struct wnw_err *e)
{
	struct ctx *x = arg;
	(void)id;
	if (mh_shingles(&x->sh[0], p, n, x->o.ngram) < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: %s: out of memory for the text", x->o.reference, where);
	x->ngrams += x->sh[0].nh;
	return 0;
}

/* Reads the reference into the set; a Bloom filter is sized by a first reading that counts n-grams. */
static void load_reference(struct ctx *x)
{
	struct wnw_err e;
	struct stat st;
	uint64_t expect = 0;
	if (x->o.bloom) {
		if (stat(x->o.reference, &st) != 0 || !S_ISREG(st.st_mode))
			wnw_usage(&x->cmd, "--bloom reads REFERENCE twice: '%s' is not a regular file", x->o.reference);
		if (wnw_texts_each(x->o.reference, x->o.field, count_ngrams, x, &e) < 0)
			wnw_die_err(&x->cmd, &e);
		expect = x->ngrams;
		x->ngrams = 0;
	}
	if (ngs_init(&x->set, x->o.bloom, expect, &e) < 0 ||
	    wnw_texts_each(x->o.reference, x->o.field, add_reference, x, &e) < 0)
		wnw_die_err(&x->cmd, &e);
	if (x->o.verbose)
		wnw_warn(&x->cmd, "%s: %" PRIu64 " records, %" PRIu64 " %d-grams, %" PRIu64 " distinct%s in %.1f MiB",
			 x->o.reference, x->nref, x->ngrams, x->o.ngram, x->set.n,
			 x->o.bloom ? " (Bloom: counted with repeats)" : "", (double)ngs_bytes(&x->set) / 1048576);
	x->caused = wnw_xcalloc(&x->cmd, x->nref + 1, sizeof *x->caused);
	if (x->o.verbose)
		x->example = wnw_xcalloc(&x->cmd, x->nref + 1, sizeof *x->example);
}

/* --- the input ------------------------------------------------------------------------------------- */

/* Keeps the text of the n-gram at shingle k (tokens k .. k + n - 1, or fewer in a short text). */
static void first_ngram(struct hit *h, const struct mh_shingler *sh, size_t k, int n)
{
	const struct hemb_tok *t = sh->s.tok;
	size_t last = k + (size_t)n - 1 < sh->s.ntok ? k + (size_t)n - 1 : sh->s.ntok - 1;
	size_t from = t[k].off, len = t[last].off + t[last].len - from;
	if (len >= EXAMPLE)
		len = EXAMPLE - 1;
	memcpy(h->first, sh->s.norm + from, len);
	h->first[len] = '\0';
}

static void look_up(void *arg, size_t i, int thread)
{
	struct ctx *x = arg;
	struct hit *h = &x->hits[i];
	struct mh_shingler *sh = &x->sh[thread];
	size_t len;
	const uint8_t *text = wnw_get_bytes(&x->batch.recs[i], x->field, &len);
	h->shared = h->total = 0;
	h->src = NGS_NONE;
	h->oom = 0;
	if (mh_shingles(sh, text, len, x->o.ngram) < 0) {
		h->oom = 1;
		return;
	}
	h->total = sh->nh;
	for (size_t k = 0; k < sh->nh; k++) {
		uint32_t src;
		if (ngs_has(&x->set, sh->h[k], &src)) {
			if (h->shared++ == 0) {
				h->src = src;
				first_ngram(h, sh, k, x->o.ngram);
			}
		}
	}
}

static int contaminated(const struct ctx *x, const struct hit *h)
{
	return h->shared > 0 && (double)h->shared >= x->o.overlap * (double)h->total;
}

static void write_batch(struct ctx *x, struct wnw_writer *w, const struct wnw_edit *ed)
{
	struct wnw_err e;
	for (size_t i = 0; i < x->batch.n; i++) {
		const struct wnw_rec *rec = &x->batch.recs[i];
		const struct hit *h = &x->hits[i];
		if (h->oom)
			wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "%s: record %" PRIu64 ": out of memory for the text",
				wnw_reader_name(x->r), rec->number);
		int bad = contaminated(x, h);
		if (bad) {
			x->dropped++;
			if (h->src != NGS_NONE && x->caused[h->src]++ == 0 && x->o.verbose) {
				size_t len = strlen(h->first) + 1;
				x->example[h->src] = memcpy(wnw_xmalloc(&x->cmd, len), h->first, len);
			}
		}
		if (x->o.mark) {
			wnw_edit_begin(w, rec, ed);
			wnw_writer_u64(w, h->shared);
			if (wnw_edit_end(w, rec, ed, &e) < 0)
				wnw_die_err(&x->cmd, &e);
		} else if (!bad) {
			wnw_writer_copy(w, rec, 0, (int)rec->schema->nfields);
			wnw_xend(&x->cmd, w);
		}
	}
	x->seen += x->batch.n;
}

static void run(struct ctx *x)
{
	struct wnw_edit ed;
	struct wnw_schema out;
	struct wnw_rec rec;
	const struct wnw_schema *in = wnw_reader_schema(x->r);
	wnw_xedit(&x->cmd, in, &out, &ed, x->o.mark ? "contam" : NULL, WNW_U64, 0);
	struct wnw_writer *w = wnw_xcreate(&x->cmd, &out);
	wnw_schema_free(&out);
	int got = 1;
	while (got == 1) {
		wnw_batch_clear(&x->batch);
		while (x->batch.n < BATCH_RECORDS && wnw_batch_bytes(&x->batch) < BATCH_BYTES &&
		       (got = wnw_xnext(&x->cmd, x->r, &rec)) == 1) {
			if (wnw_batch_add(&x->batch, &rec) < 0)
				wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "out of memory for a batch of records");
			wnw_progress(&x->cmd, x->r);
		}
		wnw_pool_run(x->pool, x->batch.n, look_up, x);
		write_batch(x, w, &ed);
	}
	wnw_progress_done(&x->cmd, x->r);
	wnw_xclose(&x->cmd, w);
}

/* -v: how many records went, and the reference records that were the first cause of most of them. */
static void report(struct ctx *x)
{
	wnw_warn(&x->cmd, "%s: %" PRIu64 " of %" PRIu64 " records %s", wnw_reader_name(x->r), x->dropped, x->seen,
		 x->o.mark ? "contaminated (marked)" : "dropped");
	if (x->o.bloom || x->dropped == 0)
		return;
	uint32_t top[TOP];
	int ntop = 0;
	for (uint64_t i = 0; i < x->nref; i++) {
		if (x->caused[i] == 0)
			continue;
		int at = ntop < TOP ? ntop++ : TOP;
		while (at > 0 && x->caused[top[at - 1]] < x->caused[i]) {
			if (at < TOP)
				top[at] = top[at - 1];
			at--;
		}
		if (at < TOP)
			top[at] = (uint32_t)i;
	}
	for (int t = 0; t < ntop; t++)
		wnw_warn(&x->cmd, "reference id %" PRIu64 " caused %" PRIu64 " (first shared n-gram: '%s')",
			 x->ref_id[top[t]], x->caused[top[t]], x->example[top[t]]);
}

static void parse(struct ctx *x, int argc, char **argv)
{
	struct opts *o = &x->o;
	int ch;
	*o = (struct opts){.field = "text", .ngram = 13};
	wnw_cmd_init(&x->cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(&x->cmd)) != -1) {
		const char *a = x->cmd.optarg;
		switch (ch) {
		case 'r': o->reference = a; break;
		case OPT_NGRAM: o->ngram = (int)wnw_opt_u64(&x->cmd, "--ngram", a, 1, MH_MAX_NGRAM); break;
		case OPT_OVERLAP: o->overlap = wnw_opt_double(&x->cmd, "--min-overlap", a, 0, 1); break;
		case OPT_BLOOM: o->bloom = 1; break;
		case OPT_FIELD: o->field = a; break;
		case OPT_MARK: o->mark = 1; break;
		case 'v': o->verbose = 1; break;
		default: wnw_usage(&x->cmd, "unknown option");
		}
	}
	if (o->reference == NULL)
		wnw_usage(&x->cmd, "-r REFERENCE is required");
	o->input = wnw_cmd_input(&x->cmd);
}

int main(int argc, char **argv)
{
	struct ctx x;

	memset(&x, 0, sizeof x);
	parse(&x, argc, argv);
	x.sh = wnw_xcalloc(&x.cmd, (size_t)x.cmd.threads, sizeof *x.sh);
	x.hits = wnw_xcalloc(&x.cmd, BATCH_RECORDS, sizeof *x.hits);
	x.pool = wnw_xpool(&x.cmd, x.cmd.threads);
	load_reference(&x);
	x.r = wnw_xopen(&x.cmd, x.o.input);
	x.field = wnw_xfield(&x.cmd, x.r, x.o.field, WNW_BYTES, NULL);
	wnw_batch_init(&x.batch);
	run(&x);
	if (x.o.verbose)
		report(&x);
	for (int t = 0; t < x.cmd.threads; t++)
		mh_shingler_free(&x.sh[t]);
	free(x.sh);
	free(x.hits);
	free(x.ref_id);
	for (uint64_t i = 0; x.example != NULL && i < x.nref; i++)
		free(x.example[i]);
	free(x.example);
	free(x.caused);
	ngs_free(&x.set);
	wnw_batch_free(&x.batch);
	wnw_pool_free(x.pool);
	wnw_reader_close(x.r);
	return wnw_cmd_done(&x.cmd);
}
