/* ot-weight: the TSDS probability of every candidate, from the neighbour lists knn-build wrote and the
 * densities kde-dedup wrote (see ot-weight(1)). Two passes: the first rebuilds each query's candidate
 * list from the nbr fields and solves the assignment (common/otgreedy.c), the second writes every
 * record with its prob. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otgreedy.h"
#include "prog.h"
#include "replay.h"
#include "rng.h"

static const char synopsis[] =
	"--alpha A -C C [-k K] [--nbr NAME] [--kde NAME | --no-kde] [--out NAME] [-T DIR] [-v] [-o FILE] [-z [LEVEL]]\n"
	"       [FILE]";

static const char help[] =
	"Adds field prob: the TSDS probability of each record, from its nbr (and kde) fields.\n"
	"  -a, --alpha A         trade-off in (0, 1) between alignment and diversity (required)\n"
	"  -C, --C C             cost scale, on the scale of the distances (required)\n"
	"  -k, --max-k K         use at most the K nearest candidates of each query (default: all, >= 2)\n"
	"      --nbr NAME        the neighbour-list field (default nbr)\n"
	"      --kde NAME        the density field (default kde; densities are 1 when it is absent)\n"
	"      --no-kde          ignore any density field: every density is 1 (sigma 0)\n"
	"      --out NAME        the field to write (default prob)\n"
	"  -T, --tmpdir DIR      temporary copy of piped input here (default $TMPDIR or /tmp)\n"
	"  -v, --verbose         report the queries, the final s and cost, and the steps on stderr\n";

enum { OPT_NBR = WNW_OPT_LONG, OPT_KDE, OPT_NO_KDE, OPT_OUT };

static const struct option longopts[] = {
	{"alpha", required_argument, NULL, 'a'},
	{"C", required_argument, NULL, 'C'},
	{"max-k", required_argument, NULL, 'k'},
	{"nbr", required_argument, NULL, OPT_NBR},
	{"kde", required_argument, NULL, OPT_KDE},
	{"no-kde", no_argument, NULL, OPT_NO_KDE},
	{"out", required_argument, NULL, OPT_OUT},
	{"tmpdir", required_argument, NULL, 'T'},
	{"verbose", no_argument, NULL, 'v'},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "ot-weight",
	.synopsis = synopsis,
	.help = help,
	.shortopts = "a:C:k:T:v",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_PROGRESS,
};

struct opts {
	double alpha, c;
	uint64_t max_k; /* 0: all */
	const char *nbr, *kde, *out, *tmpdir, *input;
	int no_kde, verbose;
};

/* One entry of a query's list during the first pass: query and candidate as dense indices. */
struct entry {
	uint32_t q, c;
	float d;
};

/* An open-addressing map from u64 keys to dense indices 0..n-1 (slot holds index + 1, 0 is empty). */
struct idmap {
	uint32_t *slot;
	size_t cap; /* a power of two, at most half full */
};

/* All that the first pass keeps: O(union + M) scalars and M*K entries. */
struct state {
	size_t n, ncap;      /* union records: the records some query reaches, in stream order */
	uint64_t *id;
	double *w, *prob;
	struct idmap ids;
	size_t m, mcap;      /* queries, in order of first appearance */
	uint64_t *qid;
	uint32_t *qlast;     /* 1 + the union index of the last record that listed the query */
	struct idmap qids;
	size_t ne, ecap;
	struct entry *e;
};

struct ctx {
	struct wnw_cmd cmd;
	struct opts o;
	struct wnw_replay *rp;
	struct state st;
};

static size_t hash_slot(uint64_t key, size_t cap)
{
	uint64_t s = key;
	return (size_t)(wnw_splitmix64(&s) & (cap - 1));
}

/* Finds key among keys[0..n-1] through the map; returns its index, or n when absent (with *at the slot
 * where it would go). */
static size_t idmap_find(const struct idmap *mp, const uint64_t *keys, size_t n, uint64_t key, size_t *at)
{
	size_t i = hash_slot(key, mp->cap);
	while (mp->slot[i] != 0) {
		if (keys[mp->slot[i] - 1] == key)
			return mp->slot[i] - 1;
		i = (i + 1) & (mp->cap - 1);
	}
	*at = i;
	return n;
}

/* Makes room for one more key (n keys present): doubles and rehashes at half load. */
static void idmap_grow(struct ctx *x, struct idmap *mp, const uint64_t *keys, size_t n)
{
	if (2 * (n + 1) <= mp->cap)
		return;
	size_t cap = mp->cap ? 2 * mp->cap : 1024;
	free(mp->slot);
	mp->slot = wnw_xcalloc(&x->cmd, cap, sizeof *mp->slot);
	mp->cap = cap;
	for (size_t k = 0; k < n; k++) {
		size_t i = hash_slot(keys[k], cap);
		while (mp->slot[i] != 0)
			i = (i + 1) & (cap - 1);
		mp->slot[i] = (uint32_t)(k + 1);
	}
}

static void *grow(struct ctx *x, void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : 1024;
	while (c < need)
		c *= 2;
	*cap = c;
	return wnw_xrealloc(&x->cmd, p, c * size);
}

/* Dense index of query id q, added when new. */
static uint32_t query_index(struct ctx *x, uint64_t q)
{
	struct state *st = &x->st;
	size_t at = 0, i;
	idmap_grow(x, &st->qids, st->qid, st->m);
	i = idmap_find(&st->qids, st->qid, st->m, q, &at);
	if (i < st->m)
		return (uint32_t)i;
	if (st->m >= UINT32_MAX - 1)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "more than %u queries", (unsigned)(UINT32_MAX - 1));
	if (st->m == st->mcap) { /* qid and qlast grow together */
		st->mcap = st->mcap ? 2 * st->mcap : 1024;
		st->qid = wnw_xrealloc(&x->cmd, st->qid, st->mcap * sizeof *st->qid);
		st->qlast = wnw_xrealloc(&x->cmd, st->qlast, st->mcap * sizeof *st->qlast);
	}
	st->qid[st->m] = q;
	st->qlast[st->m] = 0;
	st->qids.slot[at] = (uint32_t)(st->m + 1);
	return (uint32_t)st->m++;
}

struct fields {
	int id, nbr, kde;
};

/* First pass, one record: if some query lists it, keep its id and density and its list entries. */
static void take_record(struct ctx *x, const struct wnw_rec *rec, const struct fields *f)
{
	struct state *st = &x->st;
	const char *name = wnw_reader_name(wnw_replay_reader(x->rp));
	uint32_t cnt = wnw_nbr_count(rec, f->nbr);
	if (cnt == 0)
		return;
	uint64_t id = wnw_get_u64(rec, f->id);
	double w = f->kde >= 0 ? wnw_get_number(rec, f->kde) : 1;
	if (!(w > 0) || !isfinite(w))
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu: %s is %g, not a positive number", name,
		     (unsigned long long)rec->number, x->o.kde, w);
	size_t at = 0;
	char idtext[WNW_ID_TEXT];
	idmap_grow(x, &st->ids, st->id, st->n);
	if (idmap_find(&st->ids, st->id, st->n, id, &at) < st->n)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu: id %s appears twice", name,
			(unsigned long long)rec->number, wnw_id_text(idtext, rec, f->id));
	if (st->n >= UINT32_MAX - 1)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu: more than %u records reached by queries", name,
		     (unsigned long long)rec->number, (unsigned)(UINT32_MAX - 1));
	if (st->n == st->ncap) { /* id, w and prob grow together */
		st->ncap = st->ncap ? 2 * st->ncap : 1024;
		st->id = wnw_xrealloc(&x->cmd, st->id, st->ncap * sizeof *st->id);
		st->w = wnw_xrealloc(&x->cmd, st->w, st->ncap * sizeof *st->w);
		st->prob = wnw_xrealloc(&x->cmd, st->prob, st->ncap * sizeof *st->prob);
	}
	st->id[st->n] = id;
	st->w[st->n] = w;
	st->prob[st->n] = 0;
	st->ids.slot[at] = (uint32_t)(st->n + 1);
	uint32_t c = (uint32_t)st->n++;
	st->e = grow(x, st->e, &st->ecap, st->ne + cnt, sizeof *st->e);
	for (uint32_t i = 0; i < cnt; i++) {
		struct wnw_nbr nb = wnw_nbr_at(rec, f->nbr, i);
		if (!(nb.dist >= 0) || !isfinite(nb.dist))
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu: distance %g to query %llu is not a finite "
			     "non-negative number", name, (unsigned long long)rec->number, (double)nb.dist,
			     (unsigned long long)nb.id);
		uint32_t q = query_index(x, nb.id);
		if (st->qlast[q] == c + 1)
			wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu: query %llu is listed twice", name,
			     (unsigned long long)rec->number, (unsigned long long)nb.id);
		st->qlast[q] = c + 1;
		st->e[st->ne++] = (struct entry){q, c, nb.dist};
	}
}

struct qord {
	uint64_t id;
	uint32_t idx;
};

static int qord_cmp(const void *a, const void *b)
{
	const struct qord *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A candidate of one query while its list is sorted: by distance, then by the smaller candidate id. */
struct cand {
	double d;
	uint64_t id;
	uint32_t c;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The problem in CSR form: queries ordered by id, each list sorted and cut to K. */
struct csr {
	size_t *start;
	double *d, *w, *share;
	uint32_t *c;
	size_t kmin, kmax;
};

static void build_csr(struct ctx *x, struct csr *p)
{
	struct state *st = &x->st;
	size_t m = st->m, ne = st->ne;
	struct qord *ord = wnw_xmalloc(&x->cmd, m * sizeof *ord);
	uint32_t *rank = wnw_xmalloc(&x->cmd, m * sizeof *rank);
	size_t *pos = wnw_xcalloc(&x->cmd, m + 1, sizeof *pos);
	struct cand *all = wnw_xmalloc(&x->cmd, ne * sizeof *all);

	for (size_t j = 0; j < m; j++)
		ord[j] = (struct qord){st->qid[j], (uint32_t)j};
	qsort(ord, m, sizeof *ord, qord_cmp);
	for (size_t r = 0; r < m; r++)
		rank[ord[r].idx] = (uint32_t)r;
	for (size_t i = 0; i < ne; i++)
		pos[rank[st->e[i].q] + 1]++;
	for (size_t r = 0; r < m; r++)
		pos[r + 1] += pos[r];
	for (size_t i = 0; i < ne; i++) {
		const struct entry *en = &st->e[i];
		all[pos[rank[en->q]]++] = (struct cand){en->d, st->id[en->c], en->c};
	}
	free(st->e); /* the entries now live in all[] */
	st->e = NULL;
	p->start = wnw_xmalloc(&x->cmd, (m + 1) * sizeof *p->start);
	p->d = wnw_xmalloc(&x->cmd, ne * sizeof *p->d);
	p->w = wnw_xmalloc(&x->cmd, ne * sizeof *p->w);
	p->share = wnw_xmalloc(&x->cmd, ne * sizeof *p->share);
	p->c = wnw_xmalloc(&x->cmd, ne * sizeof *p->c);
	p->kmin = SIZE_MAX;
	p->kmax = 0;
	size_t out = 0, begin = 0;
	p->start[0] = 0;
	for (size_t r = 0; r < m; r++) {
		size_t end = pos[r], k = end - begin; /* pos[r] is now the end of query r's segment */
		qsort(all + begin, k, sizeof *all, cand_cmp);
		if (x->o.max_k > 0 && k > x->o.max_k)
			k = (size_t)x->o.max_k;
		if (k < 2)
			wnw_die(&x->cmd, WNW_EXIT_DATA, "query %llu has %zu candidate%s: ot-weight needs K >= 2 per query "
			     "(knn-build -k 2 or more)", (unsigned long long)ord[r].id, k, k == 1 ? "" : "s");
		for (size_t i = 0; i < k; i++) {
			const struct cand *cd = &all[begin + i];
			p->d[out] = cd->d;
			p->w[out] = st->w[cd->c];
			p->c[out] = cd->c;
			out++;
		}
		p->start[r + 1] = out;
		p->kmin = k < p->kmin ? k : p->kmin;
		p->kmax = k > p->kmax ? k : p->kmax;
		begin = end;
	}
	free(all);
	free(pos);
	free(rank);
	free(ord);
}

static void solve(struct ctx *x)
{
	struct state *st = &x->st;
	struct csr p;
	const char *name = wnw_reader_name(wnw_replay_reader(x->rp));
	if (st->m == 0)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: no record has neighbours in field '%s' (is this knn-build's output?)",
		     name, x->o.nbr);
	build_csr(x, &p);
	size_t *last = wnw_xmalloc(&x->cmd, st->m * sizeof *last);
	struct wnw_ot_in in = {st->m, p.start, p.d, p.w, x->o.alpha, x->o.c};
	struct wnw_ot_out out = {.last = last};
	if (wnw_ot_greedy(&in, &out, p.share) < 0)
		wnw_die(&x->cmd, WNW_EXIT_SYSTEM, "out of memory");
	double total = 0;
	size_t nonzero = 0;
	for (size_t i = 0; i < p.start[st->m]; i++)
		st->prob[p.c[i]] += p.share[i];
	for (size_t c = 0; c < st->n; c++) {
		total += st->prob[c];
		nonzero += st->prob[c] > 0;
	}
	if (out.nover > 0)
		wnw_warn(&x->cmd, "%zu of %zu queries: kept candidates would receive up to %.6g times the query's "
			 "1/M (alpha %g with C %g stops before the greedy reaches them); scaled back to 1/M",
			 out.nover, st->m, out.maxover, x->o.alpha, x->o.c);
	if (x->o.verbose)
		wnw_warn(&x->cmd, "%zu queries, K %zu..%zu, %zu records reached, s %.17g, cost %.17g, %zu steps, "
			 "%s, %zu records with prob > 0, sum of prob %.17g",
			 st->m, p.kmin, p.kmax, st->n, out.s, out.cost, out.steps,
			 out.stopped ? "stopped by the cost condition" : "every query reached its last candidate",
			 nonzero, total);
	free(last);
	free(p.start);
	free(p.d);
	free(p.w);
	free(p.share);
	free(p.c);
}

static void parse(struct ctx *x, int argc, char **argv)
{
	struct opts *o = &x->o;
	int have_a = 0, have_c = 0, ch;
	*o = (struct opts){.nbr = "nbr", .kde = "kde", .out = "prob"};
	wnw_cmd_init(&x->cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(&x->cmd)) != -1) {
		const char *a = x->cmd.optarg;
		switch (ch) {
		case 'a':
			o->alpha = wnw_opt_double(&x->cmd, "--alpha", a, 0, 1);
			if (o->alpha <= 0 || o->alpha >= 1)
				wnw_usage(&x->cmd, "--alpha: '%s' is not strictly between 0 and 1", a);
			have_a = 1;
			break;
		case 'C':
			o->c = wnw_opt_double(&x->cmd, "-C", a, 0, 1e300);
			if (o->c <= 0)
				wnw_usage(&x->cmd, "-C: '%s' is not a positive number", a);
			have_c = 1;
			break;
		case 'k': o->max_k = wnw_opt_u64(&x->cmd, "-k", a, 2, UINT32_MAX); break;
		case OPT_NBR: o->nbr = a; break;
		case OPT_KDE: o->kde = a; break;
		case OPT_NO_KDE: o->no_kde = 1; break;
		case OPT_OUT: o->out = a; break;
		case 'T': o->tmpdir = a; break;
		case 'v': o->verbose = 1; break;
		default: wnw_usage(&x->cmd, "unknown option");
		}
	}
	if (!have_a || !have_c)
		wnw_usage(&x->cmd, "--alpha and -C are required");
	o->input = wnw_cmd_input(&x->cmd);
}

/* Looks up the fields the first pass reads; kde is optional. */
static void find_fields(struct ctx *x, struct fields *f)
{
	const struct wnw_reader *r = wnw_replay_reader(x->rp);
	const struct wnw_schema *s = wnw_reader_schema(r);
	int i;
	f->id = wnw_schema_find(s, "id");
	f->nbr = wnw_schema_find(s, x->o.nbr);
	f->kde = x->o.no_kde ? -1 : wnw_schema_find(s, x->o.kde);
	if (f->id < 0 || s->fields[f->id].type != WNW_U64)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: no u64 field 'id' in the stream", wnw_reader_name(r));
	if (f->nbr < 0 || s->fields[f->nbr].type != WNW_NBR)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: no nbr field '%s' in the stream (run knn-build first)",
		     wnw_reader_name(r), x->o.nbr);
	i = f->kde;
	if (i >= 0 && s->fields[i].type != WNW_F32 && s->fields[i].type != WNW_F64 && s->fields[i].type != WNW_U64)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: field '%s' is %s, not a number", wnw_reader_name(r), x->o.kde,
		     wnw_type_name(s->fields[i].type));
	if (i < 0 && !x->o.no_kde && strcmp(x->o.kde, "kde") != 0)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: no field '%s' in the stream", wnw_reader_name(r), x->o.kde);
}

/* Second pass: every record with its prob; records no query reaches get 0. */
static void write_all(struct ctx *x, const struct fields *f)
{
	struct wnw_err e;
	struct wnw_rec rec;
	struct wnw_edit ed;
	struct wnw_schema out;
	struct wnw_reader *r = wnw_replay_reader(x->rp);
	wnw_xedit(&x->cmd, wnw_reader_schema(r), &out, &ed, x->o.out, WNW_F64, 0);
	struct wnw_writer *w = wnw_xcreate(&x->cmd, &out);
	wnw_schema_free(&out);
	size_t next = 0;
	int got;
	while ((got = wnw_replay_next(x->rp, &rec, &e)) == 1) {
		double p = 0;
		if (wnw_nbr_count(&rec, f->nbr) > 0) {
			if (next >= x->st.n || x->st.id[next] != wnw_get_u64(&rec, f->id))
				wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: record %llu: the input changed while it was being read",
				     wnw_reader_name(r), (unsigned long long)rec.number);
			p = x->st.prob[next++];
		}
		wnw_edit_begin(w, &rec, &ed);
		wnw_writer_f64(w, p);
		if (wnw_edit_end(w, &rec, &ed, &e) < 0)
			wnw_die_err(&x->cmd, &e);
		if (x->cmd.progress)
			wnw_progress(&x->cmd, r);
	}
	if (got < 0)
		wnw_die_err(&x->cmd, &e);
	if (next != x->st.n)
		wnw_die(&x->cmd, WNW_EXIT_DATA, "%s: the input changed while it was being read", wnw_reader_name(r));
	wnw_progress_done(&x->cmd, r);
	wnw_xclose(&x->cmd, w);
}

static void free_state(struct state *st)
{
	free(st->id);
	free(st->w);
	free(st->prob);
	free(st->ids.slot);
	free(st->qid);
	free(st->qlast);
	free(st->qids.slot);
	free(st->e);
}

int main(int argc, char **argv)
{
	struct ctx x;
	struct wnw_err e;
	struct wnw_rec rec;
	struct fields f;
	int got;

	memset(&x, 0, sizeof x);
	parse(&x, argc, argv);
	x.rp = wnw_replay_open(x.o.input, x.o.tmpdir, &e);
	if (x.rp == NULL)
		wnw_die_err(&x.cmd, &e);
	wnw_cmd_on_die(&x.cmd, wnw_replay_discard, x.rp);
	wnw_replay_set_max_record(x.rp, x.cmd.max_record);
	find_fields(&x, &f);
	while ((got = wnw_replay_next(x.rp, &rec, &e)) == 1) {
		take_record(&x, &rec, &f);
		if (x.cmd.progress)
			wnw_progress(&x.cmd, wnw_replay_reader(x.rp));
	}
	if (got < 0)
		wnw_die_err(&x.cmd, &e);
	wnw_progress_done(&x.cmd, wnw_replay_reader(x.rp));
	solve(&x);
	if (wnw_replay_rewind(x.rp, &e) < 0)
		wnw_die_err(&x.cmd, &e);
	write_all(&x, &f);
	wnw_cmd_on_die(&x.cmd, NULL, NULL);
	wnw_replay_close(x.rp);
	free_state(&x.st);
	return wnw_cmd_done(&x.cmd);
}
