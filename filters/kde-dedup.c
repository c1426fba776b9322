/* kde-dedup: the near-duplicate density of every record (field kde), or removal of near-duplicates
 * within a stream or against a reference stream. See kde-dedup(1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "knn.h"
#include "knnstore.h"
#include "par.h"
#include "prog.h"

enum { OPT_SIGMA = WNW_OPT_LONG, OPT_DROP_WITHIN, OPT_KEEP, OPT_REFERENCE, OPT_EXACT_MAX, OPT_EXACT, OPT_NLIST, OPT_NPROBE, OPT_FIELD };

static const struct option longopts[] = {
	{"sigma", required_argument, NULL, OPT_SIGMA},
	{"neighbours", required_argument, NULL, 'k'},
	{"drop-within", required_argument, NULL, OPT_DROP_WITHIN},
	{"keep", required_argument, NULL, OPT_KEEP},
	{"reference", required_argument, NULL, OPT_REFERENCE},
	{"exact-max", required_argument, NULL, OPT_EXACT_MAX},
	{"exact", no_argument, NULL, OPT_EXACT},
	{"nlist", required_argument, NULL, OPT_NLIST},
	{"nprobe", required_argument, NULL, OPT_NPROBE},
	{"buffer-size", required_argument, NULL, 'S'},
	{"field", required_argument, NULL, OPT_FIELD},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "kde-dedup",
	.synopsis = "--sigma S -k KDE_K [index options] [-S SIZE] [-j N] [-o FILE] [INPUT]\n"
		    "       kde-dedup --drop-within R [--keep one | none] [index options] [-S SIZE] [-j N] [-o FILE]\n"
		    "                 [INPUT]\n"
		    "       kde-dedup --drop-within R --reference FILE [-o FILE] [INPUT]",
	.help = "      --sigma S         kernel bandwidth; 0 makes every kde 1\n"
		"  -k, --neighbours KDE_K  nearest records summed per record (itself included)\n"
		"      --drop-within R   remove near-duplicates within distance R instead of adding kde\n"
		"      --keep one|none   of each group within R keep the smallest id (one, default) or none\n"
		"      --reference FILE  remove the records within R of any record of FILE\n"
		"      --exact           exact search whatever the size\n"
		"      --exact-max N     largest input searched exactly (default 20000); beyond it an inverted file\n"
		"      --nlist N         cells of the inverted file (default: square root of the record count)\n"
		"      --nprobe N        cells searched per cell (default 12)\n"
		"  -S, --buffer-size SIZE  memory for records copied from a pipe or zstd before they spill to\n"
		"                        $TMPDIR (default 1G; a plain file's are read again from it)\n"
		"      --field NAME      the vector field (default vec)\n",
	.shortopts = "k:S:",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

/* Neighbours looked at per record when removing near-duplicates; a record with more within R is
 * checked against every kept record (see keep_one). */
#define DEDUP_CAP 64u

struct opts {
	double sigma, radius;
	int have_sigma, have_radius, keep_none, exact;
	uint32_t k, nlist, nprobe;
	uint64_t exact_max, budget;
	const char *reference, *field;
};

/* The input, held whole: vectors in memory, records in a store that spills beyond the budget. */
struct input {
	struct wnw_reader *r;
	struct wnw_vecs x;
	struct wnw_store *store; /* copies of the records, or their places in a plain input file */
	int fv;
};

struct kde_ctx {
	double sigma;
	float *kde;
	uint32_t *near;
};

/* kde(x) = sum over the hits (the KDE_K nearest within sigma, x included) of 1 - |x - y|^2 / sigma^2. */
static void kde_done(void *ctx, size_t i, const struct wnw_hit *h, uint32_t n)
{
	struct kde_ctx *c = ctx;
	double sum = 0;
	uint32_t pos = 0;
	for (uint32_t j = 0; j < n; j++) {
		/* dist / sigma, not dist^2 / sigma^2: sigma^2 underflows to 0 for sigma below 1e-162. */
		double u = (double)h[j].dist / c->sigma, kern = 1.0 - u * u;
		if (kern > 0) {
			sum += kern;
			pos++;
		}
	}
	c->kde[i] = (float)sum;
	c->near[i] = pos ? pos - 1 : 0;
}

struct dedup_ctx {
	uint32_t **nb;  /* per record: the other rows within R, nearest first, or NULL */
	uint32_t *count, *full;
};

static void dedup_done(void *ctx, size_t i, const struct wnw_hit *h, uint32_t n)
{
	struct dedup_ctx *c = ctx;
	uint32_t m = 0;
	c->full[i] = n == DEDUP_CAP + 1;
	c->nb[i] = n > 1 ? malloc((n - 1) * sizeof **c->nb) : NULL;
	for (uint32_t j = 0; j < n; j++)
		if (h[j].ref != i && c->nb[i])
			c->nb[i][m++] = (uint32_t)h[j].ref;
	c->count[i] = c->nb[i] || n <= 1 ? m : UINT32_MAX; /* UINT32_MAX: out of memory */
}

/* Reads every record: vectors (and ids) into in->x, records (or, from a plain file, where they lie) into
 * the store. */
static void read_all(struct wnw_cmd *cmd, const struct opts *o, struct input *in, const char *path)
{
	struct wnw_err e;
	struct wnw_rec rec;
	uint32_t dim;
	in->r = wnw_xopen(cmd, path);
	int fid = wnw_xfield(cmd, in->r, "id", WNW_U64, NULL);
	in->fv = wnw_xfield(cmd, in->r, o->field, WNW_VEC, &dim);
	wnw_vecs_init(&in->x, dim);
	if (!(in->store = wnw_store_new(o->budget, &e)))
		wnw_die_err(cmd, &e);
	int in_place = wnw_reader_fd(in->r) >= 0;
	if (in_place)
		wnw_store_source(in->store, wnw_reader_fd(in->r), wnw_reader_schema(in->r));
	while (wnw_xnext(cmd, in->r, &rec)) {
		wnw_xvecs_add(cmd, &in->x, in->r, &rec, in->fv, o->field, wnw_get_u64(&rec, fid));
		if ((in_place ? wnw_store_add_ref(in->store, wnw_reader_offset(in->r, &rec), rec.len, &e)
				  : wnw_store_add(in->store, &rec, &e)) < 0)
			wnw_die_err(cmd, &e);
	}
	wnw_progress_done(cmd, in->r);
}

static struct wnw_self_opts self_opts(const struct wnw_cmd *cmd, const struct opts *o, size_t n, uint32_t k,
				      double r2)
{
	struct wnw_self_opts so = {.k = k, .r2 = r2, .nlist = 1, .nprobe = 1, .threads = cmd->threads};
	if (!o->exact && n > o->exact_max) {
		so.nlist = o->nlist ? o->nlist : (uint32_t)ceil(sqrt((double)n));
		so.nprobe = o->nprobe;
	}
	return so;
}

/* Writes the records of the input, in input order, that drop[] does not mark (drop may be NULL); with
 * kde, adds it as field kde. */
static void write_records(struct wnw_cmd *cmd, struct input *in, const uint8_t *drop, const float *kde)
{
	const struct wnw_schema *s = wnw_reader_schema(in->r);
	struct wnw_schema out;
	struct wnw_edit ed;
	struct wnw_err e;
	wnw_xedit(cmd, s, &out, &ed, kde ? "kde" : NULL, WNW_F32, 0);
	struct wnw_writer *w = wnw_xcreate(cmd, &out);
	int fid = wnw_schema_find(s, "id");
	for (size_t i = 0; i < in->x.rows; i++) {
		struct wnw_rec rec = {.schema = s, .number = i + 1};
		if (drop && drop[i])
			continue;
		if (wnw_store_get_checked(in->store, i, fid, in->x.id[i], &rec, &e) != 0)
			wnw_die(cmd, e.status, "%s: record %zu: %s", wnw_reader_name(in->r), i + 1, e.msg);
		if (kde) {
			wnw_edit_begin(w, &rec, &ed);
			wnw_writer_f32(w, kde[i]);
			if (wnw_edit_end(w, &rec, &ed, &e) != 0)
				wnw_die_err(cmd, &e);
		} else {
			wnw_writer_copy(w, &rec, 0, (int)s->nfields);
			wnw_xend(cmd, w);
		}
	}
	wnw_xclose(cmd, w);
	wnw_schema_free(&out);
}

static void kde_mode(struct wnw_cmd *cmd, const struct opts *o, struct input *in)
{
	struct wnw_err e;
	size_t n = in->x.rows;
	struct kde_ctx c = {o->sigma, wnw_xmalloc(cmd, (n ? n : 1) * sizeof(float)),
			    wnw_xcalloc(cmd, n ? n : 1, sizeof(uint32_t))};
	struct wnw_self_stats st = {0};
	struct wnw_self_opts so = self_opts(cmd, o, n, o->k, o->sigma * o->sigma);
	so.stats = &st;
	if (o->sigma == 0) {
		for (size_t i = 0; i < n; i++)
			c.kde[i] = 1.0f;
	} else if (wnw_knn_self(&in->x, &so, kde_done, &c, &e) != 0) {
		wnw_die_err(cmd, &e);
	}
	double near = 0;
	for (size_t i = 0; i < n; i++)
		near += c.near[i];
	char how[96];
	int len = snprintf(how, sizeof how, "%s", so.nlist > 1 ? "inverted file" : "exact");
	if (st.cells)
		snprintf(how + len, sizeof how - (size_t)len, "; %u cells, %u fine, %.3g%% of the pairs compared", st.cells,
			 st.fine, 100.0 * (double)st.pairs / ((double)n * (double)n));
	wnw_warn(cmd, "%zu records, %.4g near-duplicates per record on average (%s)", n, n ? near / (double)n : 0.0, how);
	write_records(cmd, in, NULL, c.kde);
	free(c.kde);
	free(c.near);
}

static int cmp_row_key(const void *a, const void *b, void *ctx)
{
	const uint64_t *id = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return id[x] < id[y] ? -1 : id[x] > id[y] ? 1 : x < y ? -1 : x > y;
}

/* The keeper rule: in ascending (id, position), a record is dropped when it lies within R of a record
 * before it that was kept. Neighbour lists that were cut at DEDUP_CAP fall back to every kept record. */
static void keep_one(const struct input *in, const struct dedup_ctx *c, double r2, uint8_t *drop,
		     size_t *ord, size_t *rank)
{
	size_t n = in->x.rows, d = in->x.d;
	for (size_t i = 0; i < n; i++)
		ord[i] = i;
	qsort_r(ord, n, sizeof *ord, cmp_row_key, in->x.id);
	for (size_t i = 0; i < n; i++)
		rank[ord[i]] = i;
	for (size_t oi = 0; oi < n; oi++) {
		size_t i = ord[oi];
		for (uint32_t j = 0; j < c->count[i] && !drop[i]; j++) {
			uint32_t y = c->nb[i][j];
			if (rank[y] < oi && !drop[y])
				drop[i] = 1;
		}
		if (drop[i] || !c->full[i])
			continue;
		for (size_t oj = 0; oj < oi && !drop[i]; oj++)
			if (!drop[ord[oj]] && wnw_knn_dist2(in->x.v + i * d, in->x.v + ord[oj] * d, d) <= r2)
				drop[i] = 1;
	}
}

static void dedup_mode(struct wnw_cmd *cmd, const struct opts *o, struct input *in)
{
	struct wnw_err e;
	size_t n = in->x.rows, nz = n ? n : 1;
	double r2 = o->radius * o->radius;
	struct dedup_ctx c = {wnw_xcalloc(cmd, nz, sizeof(uint32_t *)), wnw_xcalloc(cmd, nz, sizeof(uint32_t)),
			      wnw_xcalloc(cmd, nz, sizeof(uint32_t))};
	struct wnw_self_opts so = self_opts(cmd, o, n, DEDUP_CAP + 1, r2);
	if (wnw_knn_self(&in->x, &so, dedup_done, &c, &e) != 0)
		wnw_die_err(cmd, &e);
	uint8_t *drop = wnw_xcalloc(cmd, nz, 1);
	size_t *ord = wnw_xmalloc(cmd, nz * sizeof *ord), *rank = wnw_xmalloc(cmd, nz * sizeof *rank);
	double near = 0;
	for (size_t i = 0; i < n; i++) {
		if (c.count[i] == UINT32_MAX)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
		near += c.count[i];
		if (o->keep_none)
			drop[i] = c.count[i] > 0;
	}
	if (!o->keep_none)
		keep_one(in, &c, r2, drop, ord, rank);
	size_t dropped = 0;
	for (size_t i = 0; i < n; i++)
		dropped += drop[i];
	wnw_warn(cmd, "dropped %zu of %zu records within %g (keep %s); %.4g near-duplicates per record on average (%s)",
		 dropped, n, o->radius, o->keep_none ? "none" : "one", n ? near / (double)n : 0.0,
		 so.nlist > 1 ? "inverted file" : "exact");
	write_records(cmd, in, drop, NULL);
	for (size_t i = 0; i < n; i++)
		free(c.nb[i]);
	free(c.nb);
	free(c.count);
	free(c.full);
	free(drop);
	free(ord);
	free(rank);
}

struct ref_ctx {
	uint8_t *hit;
};

static double ref_visit(void *ctx, size_t qi, size_t xj, double d2)
{
	struct ref_ctx *c = ctx;
	(void)xj;
	(void)d2;
	c->hit[qi] = 1;
	return -1.0; /* found one: no need to look further */
}

/* --reference: streams the input in blocks against the reference set held in memory. */
static void reference_mode(struct wnw_cmd *cmd, const struct opts *o, const char *path)
{
	struct wnw_rec rec;
	struct wnw_vecs ref, x;
	struct wnw_batch b;
	uint32_t dim, rdim;
	struct wnw_reader *rr = wnw_xopen(cmd, o->reference);
	const char *rname = wnw_reader_name(rr);
	int rfv = wnw_xfield(cmd, rr, o->field, WNW_VEC, &rdim);
	wnw_vecs_init(&ref, rdim);
	while (wnw_xnext(cmd, rr, &rec)) {
		wnw_xvecs_add(cmd, &ref, rr, &rec, rfv, o->field, rec.number);
	}
	struct wnw_reader *r = wnw_xopen(cmd, path);
	const char *name = wnw_reader_name(r);
	int fv = wnw_xfield(cmd, r, o->field, WNW_VEC, &dim);
	if (dim != rdim)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: %s has dimension %u but the reference's (%s) has %u", name, o->field,
			dim, rname, rdim);
	const size_t bs = 1024, xb = 4096;
	struct ref_ctx c = {wnw_xmalloc(cmd, bs)};
	double *limit = wnw_xmalloc(cmd, bs * sizeof *limit);
	float *g = wnw_xmalloc(cmd, bs * xb * sizeof *g);
	wnw_vecs_init(&x, dim);
	wnw_batch_init(&b);
	struct wnw_writer *w = wnw_xcreate(cmd, wnw_reader_schema(r));
	uint64_t dropped = 0, seen = 0;
	int more = 1;
	while (more) {
		wnw_batch_clear(&b);
		wnw_vecs_clear(&x);
		while (b.n < bs && (more = wnw_xnext(cmd, r, &rec)) != 0) {
			wnw_xvecs_add(cmd, &x, r, &rec, fv, o->field, rec.number);
			if (wnw_batch_add(&b, &rec) != 0)
				wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
		}
		for (size_t i = 0; i < b.n; i++) {
			limit[i] = o->radius * o->radius;
			c.hit[i] = 0;
		}
		for (size_t a = 0; a < ref.rows; a += xb)
			wnw_knn_join(&x, 0, b.n, &ref, a, a + xb < ref.rows ? a + xb : ref.rows, limit, g, ref_visit, &c);
		for (size_t i = 0; i < b.n; i++) {
			seen++;
			if (c.hit[i]) {
				dropped++;
				continue;
			}
			wnw_writer_copy(w, &b.recs[i], 0, (int)wnw_reader_schema(r)->nfields);
			wnw_xend(cmd, w);
		}
	}
	wnw_progress_done(cmd, r);
	wnw_warn(cmd, "dropped %llu of %llu records within %g of %s", (unsigned long long)dropped,
		 (unsigned long long)seen, o->radius, rname);
	wnw_xclose(cmd, w);
	wnw_reader_close(r);
	wnw_reader_close(rr);
	wnw_batch_free(&b);
	wnw_vecs_free(&x);
	wnw_vecs_free(&ref);
	free(c.hit);
	free(limit);
	free(g);
}

/* Options into *o, their combinations checked; returns the input (NULL: standard input). */
static const char *parse(struct wnw_cmd *cmd, struct opts *o, int argc, char **argv)
{
	int ch, have_k = 0, have_keep = 0;

	wnw_cmd_init(cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(cmd)) != -1) {
		switch (ch) {
		case OPT_SIGMA:
			o->sigma = wnw_opt_double(cmd, "--sigma", cmd->optarg, 0, 1e18);
			o->have_sigma = 1;
			break;
		case 'k':
			o->k = (uint32_t)wnw_opt_u64(cmd, "-k", cmd->optarg, 1, (uint64_t)1 << 20);
			have_k = 1;
			break;
		case OPT_DROP_WITHIN:
			o->radius = wnw_opt_double(cmd, "--drop-within", cmd->optarg, 0, 1e18);
			o->have_radius = 1;
			break;
		case OPT_KEEP:
			if (strcmp(cmd->optarg, "one") != 0 && strcmp(cmd->optarg, "none") != 0)
				wnw_usage(cmd, "--keep: '%s' is not one or none", cmd->optarg);
			o->keep_none = strcmp(cmd->optarg, "none") == 0;
			have_keep = 1;
			break;
		case OPT_REFERENCE: o->reference = cmd->optarg; break;
		case OPT_EXACT_MAX: o->exact_max = wnw_opt_u64(cmd, "--exact-max", cmd->optarg, 0, UINT64_MAX); break;
		case OPT_EXACT: o->exact = 1; break;
		case OPT_NLIST: o->nlist = (uint32_t)wnw_opt_u64(cmd, "--nlist", cmd->optarg, 1, (uint64_t)1 << 24); break;
		case OPT_NPROBE: o->nprobe = (uint32_t)wnw_opt_u64(cmd, "--nprobe", cmd->optarg, 1, (uint64_t)1 << 24); break;
		case 'S': o->budget = wnw_opt_size(cmd, "-S", cmd->optarg); break;
		case OPT_FIELD: o->field = cmd->optarg; break;
		default: wnw_usage(cmd, "unknown option");
		}
	}
	if (o->have_radius && (o->have_sigma || have_k))
		wnw_usage(cmd, "--drop-within is a mode of its own: no --sigma or -k with it");
	if (!o->have_radius && (!o->have_sigma || !have_k))
		wnw_usage(cmd, "--sigma S and -k KDE_K are required (or --drop-within R)");
	if (have_keep && (!o->have_radius || o->reference))
		wnw_usage(cmd, "--keep goes with --drop-within R (and without --reference)");
	if (o->reference && !o->have_radius)
		wnw_usage(cmd, "--reference needs --drop-within R");
	return wnw_cmd_input(cmd);
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct opts o = {.field = "vec", .budget = (uint64_t)1 << 30, .exact_max = 20000, .nprobe = 12};

	wnw_blas_setup(argv);
	const char *path = parse(&cmd, &o, argc, argv);

	if (o.reference) {
		reference_mode(&cmd, &o, path);
		return wnw_cmd_done(&cmd);
	}
	struct input in;
	read_all(&cmd, &o, &in, path);
	if (o.have_radius)
		dedup_mode(&cmd, &o, &in);
	else
		kde_mode(&cmd, &o, &in);
	wnw_reader_close(in.r);
	wnw_store_free(in.store);
	wnw_vecs_free(&in.x);
	return wnw_cmd_done(&cmd);
}
