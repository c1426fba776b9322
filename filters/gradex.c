/* gradex: scores data groups (sources, tasks, clusters) by GradEx estimates of the target loss after
 * fine-tuning on subsets of them; writes one record per group. See gradex(1) and common/gradex.h. */
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gradex.h"
#include "knn.h"
#include "nameset.h"
#include "par.h"
#include "prog.h"
#include "render.h"

enum { OPT_GRAD = WNW_OPT_LONG, OPT_F0, OPT_SEED, OPT_STEP, OPT_TOL, OPT_MAX_ITER, OPT_BATCH, OPT_FORWARD, OPT_TABLE, OPT_LOSSES };

static const struct option longopts[] = {
	{"target", required_argument, NULL, 't'},
	{"group", required_argument, NULL, 'g'},
	{"grad", required_argument, NULL, OPT_GRAD},
	{"f0", required_argument, NULL, OPT_F0},
	{"subsets", required_argument, NULL, 'M'},
	{"size", required_argument, NULL, 'A'},
	{"seed", required_argument, NULL, OPT_SEED},
	{"C", required_argument, NULL, 'C'},
	{"step", required_argument, NULL, OPT_STEP},
	{"tol", required_argument, NULL, OPT_TOL},
	{"max-iter", required_argument, NULL, OPT_MAX_ITER},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"forward", required_argument, NULL, OPT_FORWARD},
	{"table", no_argument, NULL, OPT_TABLE},
	{"losses", required_argument, NULL, OPT_LOSSES},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "gradex",
	.synopsis = "-t TARGET [--group NAME] [--subsets M] [--size A] [--seed X] [-C C] [--step S]\n"
		    "              [--forward K] [--table] [--losses FILE] [-j N] [-o FILE] [-z [LEVEL]]\n"
		    "              [POOL]",
	.help = "  -t, --target FILE   target stream (fields grad and f0), held in memory\n"
		"  -g, --group NAME    the pool's group field, text or u64 (default source)\n"
		"      --grad NAME     the projected-gradient vector field (default grad)\n"
		"      --f0 NAME       the target's model-output field (default f0)\n"
		"  -M, --subsets M     random subsets in the ensemble (default 1000)\n"
		"  -A, --size A        each subset holds floor(A * groups) groups (default 0.5)\n"
		"      --seed X        seed of the subset draws (default 0)\n"
		"  -C, --C C           inverse L2 strength of the fit, penalty ||beta||^2/(2C) (default 1)\n"
		"      --step S        norm of the weight change in projected space (default 1)\n"
		"      --tol T         relative gradient tolerance of every fit (default 1e-6)\n"
		"      --max-iter N    iterations per fit at most (default 100)\n"
		"      --batch N       subsets solved together in one pass over the data (default 128)\n"
		"      --forward K     forward stepwise selection of K groups instead of the ensemble\n"
		"      --table         write TSV (group, count, score) instead of a stream\n"
		"      --losses FILE   also write every estimated subset as TSV (subset, loss, group)\n",
	.shortopts = "t:g:M:A:C:",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

struct opts {
	const char *target, *group, *grad, *f0, *losses;
	uint64_t subsets, seed, forward;
	double size, C, step, tol;
	int maxit, batch, table;
};

/* The pool in memory, rows in input order until grouped. */
struct pool {
	uint32_t d;
	size_t n, cap;
	float *g;
	uint32_t *grp;
	struct wnw_names names;
	int numeric; /* the group field is u64 (names hold its decimal text) */
	size_t *off;
	uint32_t ng;
};

static void read_pool(struct wnw_cmd *cmd, const struct opts *o, struct pool *p, const char *path,
		      struct wnw_schema *schema)
{
	struct wnw_reader *r = wnw_xopen(cmd, path);
	const char *name = wnw_reader_name(r);
	struct wnw_err e;
	if (wnw_schema_copy(schema, wnw_reader_schema(r), &e) < 0)
		wnw_die_err(cmd, &e);
	int fg = wnw_xfield(cmd, r, o->grad, WNW_VEC, &p->d);
	int fk = wnw_xfield(cmd, r, o->group, 0, NULL);
	int kt = wnw_reader_schema(r)->fields[fk].type;
	if (kt != WNW_BYTES && kt != WNW_U64)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: group field '%s' is %s, not text or u64", name, o->group,
			wnw_type_name(kt));
	if (p->d == 0)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: field '%s' has dimension 0", name, o->grad);
	p->numeric = kt == WNW_U64;
	wnw_names_init(&p->names);
	struct wnw_rec rec;
	while (wnw_xnext(cmd, r, &rec)) {
		wnw_progress(cmd, r);
		if (p->n == p->cap) {
			p->cap = p->cap ? 2 * p->cap : 4096;
			p->g = wnw_xrealloc(cmd, p->g, p->cap * p->d * sizeof *p->g);
			p->grp = wnw_xrealloc(cmd, p->grp, p->cap * sizeof *p->grp);
		}
		float *row = p->g + p->n * p->d;
		wnw_get_vec(&rec, fg, row);
		for (uint32_t j = 0; j < p->d; j++)
			if (!isfinite(row[j]))
				wnw_die(cmd, WNW_EXIT_DATA, "%s: record %llu: component %u of %s is not a finite number",
					name, (unsigned long long)rec.number, j, o->grad);
		char num[24];
		const void *key;
		size_t len;
		if (p->numeric) {
			len = (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)wnw_get_u64(&rec, fk));
			key = num;
		} else {
			key = wnw_get_bytes(&rec, fk, &len);
		}
		if (len == 0)
			wnw_die(cmd, WNW_EXIT_DATA, "%s: record %llu: empty group name in field '%s'", name,
				(unsigned long long)rec.number, o->group);
		int added;
		int64_t k = wnw_names_add(&p->names, key, len, &added);
		if (k < 0)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
		p->grp[p->n++] = (uint32_t)k;
	}
	wnw_progress_done(cmd, r);
	if (p->n == 0)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: the pool has no examples", name);
	wnw_reader_close(r);
	p->ng = (uint32_t)p->names.n;
}

/* Puts the rows in group order, in place, each group's rows in input order: every row's destination
 * is computed first (8 bytes a row, freed after), then each permutation cycle is followed carrying
 * one row. */
static void group_rows(struct wnw_cmd *cmd, struct pool *p)
{
	uint32_t ng = p->ng, d = p->d;
	p->off = wnw_xcalloc(cmd, ng + 1, sizeof *p->off);
	size_t *next = wnw_xcalloc(cmd, ng, sizeof *next);
	for (size_t i = 0; i < p->n; i++)
		p->off[p->grp[i] + 1]++;
	for (uint32_t k = 0; k < ng; k++)
		p->off[k + 1] += p->off[k];
	float *tmp = wnw_xmalloc(cmd, 2 * (size_t)d * sizeof *tmp);
	size_t *pos = wnw_xmalloc(cmd, p->n * sizeof *pos);
	for (size_t i = 0; i < p->n; i++)
		pos[i] = p->off[p->grp[i]] + next[p->grp[i]]++;
	for (size_t i = 0; i < p->n; i++) {
		if (pos[i] == i)
			continue;
		/* follow the cycle through i, carrying one row */
		memcpy(tmp, p->g + i * d, d * sizeof *tmp);
		size_t j = pos[i];
		pos[i] = i;
		while (j != i) {
			memcpy(tmp + d, p->g + j * d, d * sizeof *tmp);
			memcpy(p->g + j * d, tmp, d * sizeof *tmp);
			memcpy(tmp, tmp + d, d * sizeof *tmp);
			size_t nx = pos[j];
			pos[j] = j;
			j = nx;
		}
		memcpy(p->g + i * d, tmp, d * sizeof *tmp);
	}
	free(pos), free(tmp), free(next);
	free(p->grp);
	p->grp = NULL;
}

struct target {
	size_t n;
	float *g;
	double *f0;
};

static void read_target(struct wnw_cmd *cmd, const struct opts *o, uint32_t d, struct target *t)
{
	struct wnw_reader *r = wnw_xopen(cmd, o->target);
	const char *name = wnw_reader_name(r);
	uint32_t td;
	int fg = wnw_xfield(cmd, r, o->grad, WNW_VEC, &td);
	int ff = wnw_xfield(cmd, r, o->f0, 0, NULL);
	int ft = wnw_reader_schema(r)->fields[ff].type;
	if (ft != WNW_F64 && ft != WNW_F32 && ft != WNW_U64)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: field '%s' is %s, not a number", name, o->f0, wnw_type_name(ft));
	if (td != d)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: dimension mismatch: target %s has %u components, the pool's %u",
			name, o->grad, td, d);
	size_t cap = 0;
	struct wnw_rec rec;
	while (wnw_xnext(cmd, r, &rec)) {
		if (t->n == cap) {
			cap = cap ? 2 * cap : 1024;
			t->g = wnw_xrealloc(cmd, t->g, cap * d * sizeof *t->g);
			t->f0 = wnw_xrealloc(cmd, t->f0, cap * sizeof *t->f0);
		}
		float *row = t->g + t->n * d;
		wnw_get_vec(&rec, fg, row);
		for (uint32_t j = 0; j < d; j++)
			if (!isfinite(row[j]))
				wnw_die(cmd, WNW_EXIT_DATA, "%s: record %llu: component %u of %s is not a finite number",
					name, (unsigned long long)rec.number, j, o->grad);
		t->f0[t->n] = wnw_get_number(&rec, ff);
		if (!isfinite(t->f0[t->n]))
			wnw_die(cmd, WNW_EXIT_DATA, "%s: record %llu: %s is not a finite number", name,
				(unsigned long long)rec.number, o->f0);
		t->n++;
	}
	if (t->n == 0)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: the target has no examples", name);
	wnw_reader_close(r);
}

/* The estimated subsets, kept for scoring and for --losses. */
struct subsets {
	size_t n;
	uint32_t **mem;
	uint32_t *size;
	double *loss;
};

static void subsets_alloc(struct wnw_cmd *cmd, struct subsets *s, size_t n)
{
	s->n = n;
	s->mem = wnw_xcalloc(cmd, n, sizeof *s->mem);
	s->size = wnw_xcalloc(cmd, n, sizeof *s->size);
	s->loss = wnw_xcalloc(cmd, n, sizeof *s->loss);
}

static void subsets_free(struct subsets *s)
{
	for (size_t j = 0; j < s->n; j++)
		free(s->mem[j]);
	free(s->mem), free(s->size), free(s->loss);
}

static void estimate(struct wnw_cmd *cmd, struct gx_engine *x, struct subsets *s)
{
	struct wnw_err e;
	if (gx_losses(x, s->n, (const uint32_t *const *)s->mem, s->size, s->loss, NULL, &e) < 0)
		wnw_die_err(cmd, &e);
}

/* A group name as a TSV cell (render.h: backslash, tab, newline and carriage return escaped). */
static void put_text(struct wnw_cmd *cmd, struct wnw_tout *t, const char *s, size_t len)
{
	struct wnw_err e;
	struct wnw_buf b = {0};
	if (wnw_render_tsv_cell(&b, s, len) < 0)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
	if (wnw_tout_write(t, b.p, b.n, &e) < 0)
		wnw_die_err(cmd, &e);
	free(b.p);
}

/* printf to a text output, dying on a write error. */
static void put_fmt(struct wnw_cmd *cmd, struct wnw_tout *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void put_fmt(struct wnw_cmd *cmd, struct wnw_tout *t, const char *fmt, ...)
{
	struct wnw_err e;
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "internal error: a TSV field too long");
	if (wnw_tout_write(t, buf, (size_t)n, &e) < 0)
		wnw_die_err(cmd, &e);
}

/* --losses goes, like every output, to a temporary file renamed when complete. */
static struct wnw_tout *losses_file(struct wnw_cmd *cmd, const char *path)
{
	struct wnw_tout *t = wnw_xtout_open(cmd, path, 0);
	put_fmt(cmd, t, "subset\tloss\tgroup\n");
	return t;
}

static void write_losses(struct wnw_cmd *cmd, struct wnw_tout *f, const struct pool *p, const struct subsets *s,
			 size_t first)
{
	for (size_t j = 0; j < s->n; j++) {
		for (uint32_t i = 0; i < s->size[j]; i++) {
			size_t len;
			const char *nm = wnw_names_get(&p->names, s->mem[j][i], &len);
			put_fmt(cmd, f, "%zu\t%.17g\t", first + j + 1, s->loss[j]);
			put_text(cmd, f, nm, len);
			put_fmt(cmd, f, "\n");
		}
	}
}

/* The random ensemble: scores for every group (NaN when a group is in all subsets or in none). */
static void ensemble(struct wnw_cmd *cmd, const struct opts *o, struct gx_engine *x, const struct pool *p,
		     double *score, struct wnw_tout *lf)
{
	uint32_t k = (uint32_t)floor(o->size * p->ng);
	if (k == 0)
		wnw_usage(cmd, "--size %g takes no group out of %u: raise it", o->size, p->ng);
	if (k >= p->ng)
		wnw_usage(cmd, "--size %g takes all %u groups in every subset: nothing to compare", o->size, p->ng);
	struct subsets s;
	subsets_alloc(cmd, &s, o->subsets);
	uint32_t *scratch = wnw_xmalloc(cmd, p->ng * sizeof *scratch);
	for (size_t j = 0; j < s.n; j++) {
		s.mem[j] = wnw_xmalloc(cmd, k * sizeof *s.mem[j]);
		s.size[j] = k;
		gx_draw_subset(o->seed, j, p->ng, k, s.mem[j], scratch);
	}
	free(scratch);
	estimate(cmd, x, &s);
	if (lf)
		write_losses(cmd, lf, p, &s, 0);
	uint64_t *in = wnw_xmalloc(cmd, p->ng * sizeof *in);
	gx_scores(p->ng, s.n, (const uint32_t *const *)s.mem, s.size, s.loss, score, in);
	uint32_t missing = 0;
	for (uint32_t g = 0; g < p->ng; g++)
		missing += isnan(score[g]);
	if (missing)
		wnw_warn(cmd, "%u of %u groups are in every subset or in none, and have no score (NaN): "
			 "raise --subsets", missing, p->ng);
	free(in);
	subsets_free(&s);
}

/* Forward stepwise selection: order[0..K-1] are chosen one at a time, each the group whose addition
 * gives the lowest estimated loss (ties: the earlier group); score is that loss. The groups not chosen
 * are scored by the loss of adding them to the final selection. */
static void forward(struct wnw_cmd *cmd, const struct opts *o, struct gx_engine *x, const struct pool *p,
		    double *score, uint32_t *order, struct wnw_tout *lf)
{
	uint32_t K = o->forward > p->ng ? p->ng : (uint32_t)o->forward;
	uint8_t *chosen = wnw_xcalloc(cmd, p->ng, 1);
	size_t evaluated = 0;
	for (uint32_t step = 0; step <= K && step < p->ng; step++) {
		struct subsets s;
		subsets_alloc(cmd, &s, p->ng - step);
		uint32_t *cand = wnw_xmalloc(cmd, s.n * sizeof *cand);
		size_t j = 0;
		for (uint32_t g = 0; g < p->ng; g++) {
			if (chosen[g])
				continue;
			cand[j] = g;
			s.mem[j] = wnw_xmalloc(cmd, (step + 1) * sizeof *s.mem[j]);
			memcpy(s.mem[j], order, step * sizeof *order);
			s.mem[j][step] = g;
			s.size[j] = step + 1;
			j++;
		}
		estimate(cmd, x, &s);
		if (lf)
			write_losses(cmd, lf, p, &s, evaluated);
		evaluated += s.n;
		if (step == K) { /* the groups left: the loss of adding each to the selection */
			for (j = 0; j < s.n; j++)
				score[cand[j]] = s.loss[j];
		} else {
			size_t best = 0;
			for (j = 1; j < s.n; j++)
				if (s.loss[j] < s.loss[best])
					best = j;
			order[step] = cand[best];
			chosen[cand[best]] = 1;
			score[cand[best]] = s.loss[best];
		}
		free(cand);
		subsets_free(&s);
	}
	free(chosen);
}

struct rank_ctx {
	const double *score;
	const uint32_t *prefix; /* forward: position in the chosen order + 1, 0 if not chosen */
};

/* Chosen groups first in their order; then by score, NaN last; ties by first appearance. */
static int cmp_rank(const void *a, const void *b, void *ctx)
{
	const struct rank_ctx *c = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (c->prefix) {
		uint32_t px = c->prefix[x] ? c->prefix[x] : UINT32_MAX, py = c->prefix[y] ? c->prefix[y] : UINT32_MAX;
		if (px != py)
			return px < py ? -1 : 1;
	}
	double sx = c->score[x], sy = c->score[y];
	int nx = isnan(sx), ny = isnan(sy);
	if (nx != ny)
		return nx - ny;
	if (!nx && sx != sy)
		return sx < sy ? -1 : 1;
	return (x > y) - (x < y);
}

/* The TSV table, on stdout or, like a stream, through a temporary file renamed when complete. */
static void write_table(struct wnw_cmd *cmd, const struct pool *p, const uint32_t *rank, const double *score)
{
	struct wnw_tout *t = wnw_xtout_open(cmd, cmd->output, cmd->zlevel);
	put_fmt(cmd, t, "group\tcount\tscore\n");
	for (uint32_t i = 0; i < p->ng; i++) {
		uint32_t g = rank[i];
		size_t len;
		const char *nm = wnw_names_get(&p->names, g, &len);
		put_text(cmd, t, nm, len);
		put_fmt(cmd, t, "\t%zu\t%.17g\n", p->off[g + 1] - p->off[g], score[g]);
	}
	wnw_xtout_close(cmd, t);
}

static void write_stream(struct wnw_cmd *cmd, const struct wnw_schema *in, const struct pool *p,
			 const uint32_t *rank, const double *score)
{
	struct wnw_schema out;
	struct wnw_err e;
	wnw_schema_init(&out);
	/* A new kind of record, but the pool's provenance carries over. */
	if (wnw_schema_copy(&out, in, &e) < 0)
		wnw_die_err(cmd, &e);
	while (out.nfields)
		wnw_schema_remove(&out, out.fields[0].name);
	if (wnw_schema_set(&out, "group", WNW_BYTES, 0, &e) < 0 || wnw_schema_set(&out, "count", WNW_U64, 0, &e) < 0 ||
	    wnw_schema_set(&out, "score", WNW_F64, 0, &e) < 0)
		wnw_die_err(cmd, &e);
	struct wnw_writer *w = wnw_xcreate(cmd, &out);
	for (uint32_t i = 0; i < p->ng; i++) {
		uint32_t g = rank[i];
		size_t len;
		const char *nm = wnw_names_get(&p->names, g, &len);
		wnw_writer_bytes(w, nm, len);
		wnw_writer_u64(w, p->off[g + 1] - p->off[g]);
		wnw_writer_f64(w, score[g]);
		wnw_xend(cmd, w);
	}
	wnw_xclose(cmd, w);
	wnw_schema_free(&out);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Warnings about the fits; with --progress, a summary with the time of each phase (t[0..3]: start,
 * data read, full-pool fit done, subsets done). */
static void report(struct wnw_cmd *cmd, const struct opts *o, const struct gx_engine *x, const double *t)
{
	const struct gx_stats *st = gx_stats(x);
	if (st->full_rel > o->tol)
		wnw_warn(cmd, "the full-pool fit stopped at relative gradient %.3g, above --tol %g", st->full_rel,
			 o->tol);
	if (st->unconverged)
		wnw_warn(cmd, "%llu of %llu subset fits stopped above --tol %g (worst relative gradient %.3g): "
			 "raise --max-iter", (unsigned long long)st->unconverged, (unsigned long long)st->subsets,
			 o->tol, st->worst_rel);
	if (!cmd->progress)
		return;
	double per = st->subsets ? 1.0 / (double)st->subsets : 0;
	wnw_warn(cmd, "read %.2f s; full-pool fit %.2f s (%d Newton steps); %llu subsets %.2f s (%.4f s each; "
		 "%.1f iterations, %.1f evaluations each; %llu passes)", t[1] - t[0], t[2] - t[1], st->full_iters,
		 (unsigned long long)st->subsets, t[3] - t[2], (t[3] - t[2]) * per, (double)st->iters * per,
		 (double)st->evals * per, (unsigned long long)st->rounds);
}

/* Options into *o, their combinations checked; returns the pool (NULL: standard input). */
static const char *parse(struct wnw_cmd *cmd, struct opts *o, int argc, char **argv)
{
	int ch;

	wnw_cmd_init(cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(cmd)) != -1) {
		switch (ch) {
		case 't': o->target = cmd->optarg; break;
		case 'g': o->group = cmd->optarg; break;
		case OPT_GRAD: o->grad = cmd->optarg; break;
		case OPT_F0: o->f0 = cmd->optarg; break;
		case 'M': o->subsets = wnw_opt_u64(cmd, "--subsets", cmd->optarg, 1, (uint64_t)1 << 32); break;
		case 'A': o->size = wnw_opt_double(cmd, "--size", cmd->optarg, 0, 1); break;
		case OPT_SEED: o->seed = wnw_opt_u64(cmd, "--seed", cmd->optarg, 0, UINT64_MAX); break;
		case 'C': o->C = wnw_opt_double(cmd, "-C", cmd->optarg, 1e-300, 1e300); break;
		case OPT_STEP: o->step = wnw_opt_double(cmd, "--step", cmd->optarg, 0, 1e300); break;
		case OPT_TOL: o->tol = wnw_opt_double(cmd, "--tol", cmd->optarg, 0, 1); break;
		case OPT_MAX_ITER: o->maxit = (int)wnw_opt_u64(cmd, "--max-iter", cmd->optarg, 1, 100000); break;
		case OPT_BATCH: o->batch = (int)wnw_opt_u64(cmd, "--batch", cmd->optarg, 1, 4096); break;
		case OPT_FORWARD: o->forward = wnw_opt_u64(cmd, "--forward", cmd->optarg, 1, UINT32_MAX); break;
		case OPT_TABLE: o->table = 1; break;
		case OPT_LOSSES: o->losses = cmd->optarg; break;
		default: wnw_usage(cmd, "unknown option");
		}
	}
	if (!o->target)
		wnw_usage(cmd, "-t TARGET is required");
	return wnw_cmd_input(cmd);
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct opts o = {.group = "source", .grad = "grad", .f0 = "f0", .subsets = 1000, .size = 0.5, .C = 1.0,
			 .step = 1.0, .tol = 1e-6, .maxit = 100, .batch = 128};
	struct wnw_err e;

	wnw_blas_setup(argv);
	const char *path = parse(&cmd, &o, argc, argv);

	double t[4];
	t[0] = now();
	struct pool p = {0};
	struct target tg = {0};
	struct wnw_schema pool_schema; /* for the output's provenance */
	wnw_schema_init(&pool_schema);
	read_pool(&cmd, &o, &p, path, &pool_schema);
	group_rows(&cmd, &p);
	read_target(&cmd, &o, p.d, &tg);
	t[1] = now();
	if (!o.forward && p.ng < 2) {
		size_t len;
		const char *nm = wnw_names_get(&p.names, 0, &len);
		wnw_die(&cmd, WNW_EXIT_DATA, "%s: one group ('%.*s') only: nothing to compare", path ? path : "stdin",
			(int)len, nm);
	}

	struct wnw_pool *tp = wnw_xpool(&cmd, cmd.threads);
	struct gx_data dt = {(int)p.d, p.n, p.ng, p.off, p.g, tg.n, tg.g, tg.f0};
	struct gx_params prm = {o.C, o.step, o.tol, o.maxit, o.batch};
	struct gx_engine *x = gx_new(&dt, &prm, tp, &e);
	if (!x)
		wnw_die_err(&cmd, &e);
	t[2] = now();
	struct wnw_tout *lf = o.losses ? losses_file(&cmd, o.losses) : NULL;
	double *score = wnw_xcalloc(&cmd, p.ng, sizeof *score);
	uint32_t *order = wnw_xcalloc(&cmd, p.ng, sizeof *order), *prefix = NULL;
	if (o.forward) {
		forward(&cmd, &o, x, &p, score, order, lf);
		prefix = wnw_xcalloc(&cmd, p.ng, sizeof *prefix);
		uint32_t K = o.forward > p.ng ? p.ng : (uint32_t)o.forward;
		for (uint32_t i = 0; i < K; i++)
			prefix[order[i]] = i + 1;
	} else {
		ensemble(&cmd, &o, x, &p, score, lf);
	}
	if (lf)
		wnw_xtout_close(&cmd, lf);
	t[3] = now();
	report(&cmd, &o, x, t);
	uint32_t *rank = wnw_xmalloc(&cmd, p.ng * sizeof *rank);
	for (uint32_t g = 0; g < p.ng; g++)
		rank[g] = g;
	struct rank_ctx rc = {score, prefix};
	qsort_r(rank, p.ng, sizeof *rank, cmp_rank, &rc);
	if (o.table)
		write_table(&cmd, &p, rank, score);
	else
		write_stream(&cmd, &pool_schema, &p, rank, score);
	gx_free(x);
	wnw_pool_free(tp);
	free(rank), free(order), free(prefix), free(score);
	free(p.g), free(p.off), free(tg.g), free(tg.f0);
	wnw_names_free(&p.names);
	wnw_schema_free(&pool_schema);
	return wnw_cmd_done(&cmd);
}
