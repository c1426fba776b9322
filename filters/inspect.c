/* inspect: a winnow stream's header, record count, per-field statistics and first records, as YAML;
 * or, with --check, only the verification of its framing, trailer and CRC. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "jsonl.h"
#include "prog.h"
#include "replay.h"
#include "textout.h"

enum { OPT_CHECK = WNW_OPT_LONG, OPT_HIST, OPT_BINS };

static const struct option longopts[] = {
	{"check", no_argument, NULL, OPT_CHECK},
	{"hist", required_argument, NULL, OPT_HIST},
	{"bins", required_argument, NULL, OPT_BINS},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "inspect",
	.synopsis = "[-n N] [-o FILE] [-z [LEVEL]] [FILE ...]\n       inspect --check [FILE ...]\n"
		"       inspect --hist FIELD [--bins N] [-o FILE] [FILE ...]",
	.help = "Describes winnow streams as YAML: schema, provenance, record count, per-field statistics.\n"
		"  -n N                  also show the first N records (default 0)\n"
		"      --check           only verify the stream (framing, trailer, CRC); print nothing\n"
		"      --hist FIELD      a text histogram of FIELD (value, text length, vector norm or list length)\n"
		"      --bins N          bins of the histogram, 1 to 200 (default 20)\n",
	.shortopts = "n:",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_PROGRESS,
};

/* Vectors and neighbour lists longer than this are shown by their first SHOW_ITEMS items. */
#define SHOW_ITEMS 16

/* Running statistics of one field: of its value (numbers), length (text), norm (vectors) or
 * neighbour count (lists). Sums are kept in long double so that the mean of 10^8 values stays exact
 * to double precision. */
struct stat1 {
	uint64_t n, nonfinite;
	double min, max;
	long double sum;
	uint64_t umin, umax; /* u64 fields, exactly */
};

struct ctx {
	struct wnw_cmd *cmd;
	struct wnw_tout *t;
	struct wnw_err werr; /* the first output error */
	int failed;
	yaml_emitter_t em;
	struct wnw_buf tmp;
};

/* --- YAML output ----------------------------------------------------------------------------------- */

static int write_handler(void *data, unsigned char *buf, size_t size)
{
	struct ctx *c = data;
	if (c->failed)
		return 0;
	if (wnw_tout_write(c->t, buf, size, &c->werr) < 0) {
		c->failed = 1;
		return 0;
	}
	return 1;
}

_Noreturn static void emit_failed(struct ctx *c)
{
	if (c->failed)
		wnw_die_err(c->cmd, &c->werr);
	wnw_die(c->cmd, WNW_EXIT_SYSTEM, "YAML output: %s", c->em.problem ? c->em.problem : "emitter error");
}

static void emit(struct ctx *c, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(&c->em, ev))
		emit_failed(c);
}

static void ev_simple(struct ctx *c, yaml_event_type_t type, int flow)
{
	yaml_event_t ev;
	int ok;
	switch (type) {
	case YAML_MAPPING_START_EVENT:
		ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							  flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
		break;
	case YAML_SEQUENCE_START_EVENT:
		ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							   flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
		break;
	case YAML_MAPPING_END_EVENT:
		ok = yaml_mapping_end_event_initialize(&ev);
		break;
	default:
		ok = yaml_sequence_end_event_initialize(&ev);
		break;
	}
	if (!ok)
		emit_failed(c);
	emit(c, &ev);
}

#define MAP_START(c, flow) ev_simple(c, YAML_MAPPING_START_EVENT, flow)
#define MAP_END(c) ev_simple(c, YAML_MAPPING_END_EVENT, 0)
#define SEQ_START(c, flow) ev_simple(c, YAML_SEQUENCE_START_EVENT, flow)
#define SEQ_END(c) ev_simple(c, YAML_SEQUENCE_END_EVENT, 0)

/* A scalar; quoted forces double quotes (for text, which must not read back as a number or bool). */
static void scalar(struct ctx *c, const char *s, size_t n, int quoted)
{
	yaml_event_t ev;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)s, (int)n, !quoted, 1,
					  quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE))
		emit_failed(c);
	emit(c, &ev);
}

static void str(struct ctx *c, const char *s) { scalar(c, s, strlen(s), 0); }

/* Text from the stream: double-quoted, or a note when it is not UTF-8 (YAML cannot hold that). */
static void text(struct ctx *c, const uint8_t *s, size_t n)
{
	if (wnw_utf8_valid((const char *)s, n)) {
		scalar(c, (const char *)s, n, 1);
	} else {
		char note[80];
		snprintf(note, sizeof note, "(%zu bytes, not UTF-8)", n);
		str(c, note);
	}
}

/* A field name: plain when it cannot read back as anything but that string, else quoted. */
static void name(struct ctx *c, const char *s)
{
	static const char *const special[] = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"};
	int plain = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_';
	for (const char *p = s; *p && plain; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			*p == '_' || *p == '-' || *p == '.';
	for (size_t i = 0; plain && i < sizeof special / sizeof special[0]; i++)
		plain = strcasecmp(s, special[i]) != 0;
	if (plain)
		str(c, s);
	else
		text(c, (const uint8_t *)s, strlen(s));
}

static void num(struct ctx *c, double v, int digits)
{
	char b[40];
	if (isnan(v))
		strcpy(b, ".nan");
	else if (isinf(v))
		strcpy(b, v > 0 ? ".inf" : "-.inf");
	else
		snprintf(b, sizeof b, "%.*g", digits, v);
	str(c, b);
}

static void unum(struct ctx *c, uint64_t v)
{
	char b[24];
	snprintf(b, sizeof b, "%llu", (unsigned long long)v);
	str(c, b);
}

static void kv(struct ctx *c, const char *k, const char *v)
{
	str(c, k);
	str(c, v);
}

/* --- header ------------------------------------------------------------------------------------- */

static void emit_header(struct ctx *c, const struct wnw_reader *r)
{
	const struct wnw_schema *s = wnw_reader_schema(r);
	str(c, "file");
	text(c, (const uint8_t *)wnw_reader_name(r), strlen(wnw_reader_name(r)));
	str(c, "schema");
	SEQ_START(c, 0);
	for (uint32_t i = 0; i < s->nfields; i++) {
		char type[32];
		const struct wnw_field *f = &s->fields[i];
		if (f->type == WNW_VEC)
			snprintf(type, sizeof type, "vec[%u]", f->dim);
		else
			snprintf(type, sizeof type, "%s", wnw_type_name(f->type));
		MAP_START(c, 1);
		str(c, "name");
		name(c, f->name);
		kv(c, "type", type);
		MAP_END(c);
	}
	SEQ_END(c);
	str(c, "provenance");
	SEQ_START(c, 0);
	for (uint32_t i = 0; i < s->nprov; i++) {
		const struct wnw_prov *p = &s->prov[i];
		MAP_START(c, 0);
		str(c, "program");
		text(c, (const uint8_t *)p->program, strlen(p->program));
		str(c, "version");
		text(c, (const uint8_t *)p->version, strlen(p->version));
		str(c, "time");
		text(c, (const uint8_t *)p->time, strlen(p->time));
		str(c, "args");
		SEQ_START(c, 1);
		for (uint32_t k = 0; k < p->argc; k++)
			text(c, (const uint8_t *)p->argv[k], strlen(p->argv[k]));
		SEQ_END(c);
		MAP_END(c);
	}
	SEQ_END(c);
}

/* --- records ------------------------------------------------------------------------------------ */

static void emit_record(struct ctx *c, const struct wnw_rec *rec)
{
	const struct wnw_schema *s = rec->schema;
	MAP_START(c, 0);
	for (uint32_t i = 0; i < s->nfields; i++) {
		const struct wnw_field *f = &s->fields[i];
		int fi = (int)i;
		size_t n;
		const uint8_t *p;
		name(c, f->name);
		switch (f->type) {
		case WNW_U64: unum(c, wnw_get_u64(rec, fi)); break;
		case WNW_F32: num(c, wnw_get_f32(rec, fi), 9); break;
		case WNW_F64: num(c, wnw_get_f64(rec, fi), 17); break;
		case WNW_BYTES:
			p = wnw_get_bytes(rec, fi, &n);
			text(c, p, n);
			break;
		case WNW_VEC:
			p = wnw_get_vec_raw(rec, fi);
			SEQ_START(c, 1);
			for (uint32_t k = 0; k < f->dim && k < SHOW_ITEMS; k++)
				num(c, wnw_lef32(p + 4 * (size_t)k), 9);
			if (f->dim > SHOW_ITEMS) {
				char more[48];
				snprintf(more, sizeof more, "(%u more)", f->dim - SHOW_ITEMS);
				scalar(c, more, strlen(more), 1);
			}
			SEQ_END(c);
			break;
		case WNW_NBR:
			n = wnw_nbr_count(rec, fi);
			SEQ_START(c, 1);
			for (uint32_t k = 0; k < n && k < SHOW_ITEMS; k++) {
				struct wnw_nbr nb = wnw_nbr_at(rec, fi, k);
				SEQ_START(c, 1);
				unum(c, nb.id);
				num(c, nb.dist, 9);
				SEQ_END(c);
			}
			if (n > SHOW_ITEMS) {
				char more[48];
				snprintf(more, sizeof more, "(%zu more)", n - SHOW_ITEMS);
				scalar(c, more, strlen(more), 1);
			}
			SEQ_END(c);
			break;
		default:
			str(c, "~");
		}
	}
	MAP_END(c);
}

/* --- statistics ---------------------------------------------------------------------------------- */

static void stat_add(struct stat1 *st, double v)
{
	if (!isfinite(v)) {
		st->nonfinite++;
		return;
	}
	if (st->n == 0 || v < st->min)
		st->min = v;
	if (st->n == 0 || v > st->max)
		st->max = v;
	st->sum += v;
	st->n++;
}

/* Euclidean norm of a little-endian f32 vector, accumulated in double. */
static double norm(const uint8_t *p, uint32_t dim)
{
	double s = 0;
	for (uint32_t k = 0; k < dim; k++) {
		double x = wnw_lef32(p + 4 * (size_t)k);
		s += x * x;
	}
	return sqrt(s);
}

/* What inspect summarises of a field: its value (numbers), length (text), norm (vectors) or neighbour
 * count (lists). */
static double field_value(const struct wnw_rec *rec, int fi)
{
	const struct wnw_field *f = &rec->schema->fields[fi];
	size_t n;
	switch (f->type) {
	case WNW_BYTES:
		wnw_get_bytes(rec, fi, &n);
		return (double)n;
	case WNW_VEC: return norm(wnw_get_vec_raw(rec, fi), f->dim);
	case WNW_NBR: return wnw_nbr_count(rec, fi);
	default: return wnw_get_number(rec, fi);
	}
}

static void stats_add(struct stat1 *st, const struct wnw_rec *rec)
{
	const struct wnw_schema *s = rec->schema;
	for (uint32_t i = 0; i < s->nfields; i++) {
		struct stat1 *t = &st[i];
		if (s->fields[i].type == WNW_U64) {
			uint64_t u = wnw_get_u64(rec, (int)i);
			if (t->n == 0 || u < t->umin)
				t->umin = u;
			if (t->n == 0 || u > t->umax)
				t->umax = u;
		}
		stat_add(t, field_value(rec, (int)i));
	}
}

static void emit_stats(struct ctx *c, const struct wnw_schema *s, const struct stat1 *st)
{
	str(c, "statistics");
	MAP_START(c, 0);
	for (uint32_t i = 0; i < s->nfields; i++) {
		const struct wnw_field *f = &s->fields[i];
		const struct stat1 *t = &st[i];
		name(c, f->name);
		MAP_START(c, 1);
		const char *what = f->type == WNW_BYTES ? "length" : f->type == WNW_VEC ? "norm"
				 : f->type == WNW_NBR ? "count" : "value";
		kv(c, "of", what);
		if (t->n > 0) {
			str(c, "min");
			if (f->type == WNW_U64)
				unum(c, t->umin);
			else
				num(c, t->min, 9);
			str(c, "mean");
			num(c, (double)(t->sum / (long double)t->n), 9);
			str(c, "max");
			if (f->type == WNW_U64)
				unum(c, t->umax);
			else
				num(c, t->max, 9);
		}
		if (t->nonfinite) {
			str(c, "nonfinite");
			unum(c, t->nonfinite);
		}
		MAP_END(c);
	}
	MAP_END(c);
}

/* --- main ---------------------------------------------------------------------------------------- */

/* Reads every record of one input; unless check, writes one YAML document about it. */
static void inspect_one(struct ctx *c, const char *path, uint64_t show, int check)
{
	struct wnw_err e;
	struct wnw_reader *r = wnw_reader_open(path, &e);
	if (!r)
		wnw_die_err(c->cmd, &e);
	wnw_reader_set_max_record(r, c->cmd->max_record);
	const struct wnw_schema *s = wnw_reader_schema(r);
	struct stat1 *st = wnw_xcalloc(c->cmd, s->nfields + 1, sizeof *st);
	yaml_event_t ev;
	if (!check) {
		if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0))
			emit_failed(c);
		emit(c, &ev);
		MAP_START(c, 0);
		emit_header(c, r);
		if (show) {
			str(c, "records_shown");
			SEQ_START(c, 0);
		}
	}
	struct wnw_rec rec;
	uint64_t n = 0;
	int got;
	while ((got = wnw_reader_next(r, &rec, &e)) > 0) {
		if (!check) {
			if (n < show)
				emit_record(c, &rec);
			if (n + 1 == show)
				SEQ_END(c);
			stats_add(st, &rec);
		}
		n++;
		if (c->cmd->progress)
			wnw_progress(c->cmd, r);
	}
	if (got < 0)
		wnw_die_err(c->cmd, &e);
	if (c->cmd->progress)
		wnw_progress_done(c->cmd, r);
	if (!check) {
		if (show && n < show)
			SEQ_END(c);
		str(c, "records");
		unum(c, n);
		if (n)
			emit_stats(c, s, st);
		MAP_END(c);
		if (!yaml_document_end_event_initialize(&ev, 1))
			emit_failed(c);
		emit(c, &ev);
	}
	free(st);
	wnw_reader_close(r);
}

/* --hist: a text histogram of one field in bins of equal width between its least and greatest finite
 * value. The stream is read twice (a pipe through a temporary copy), so memory stays bounded. */
static void hist_one(struct ctx *c, const char *path, const char *field, uint32_t bins)
{
	struct wnw_err e;
	struct wnw_rec rec;
	struct wnw_replay *rp = wnw_replay_open(path, NULL, &e);
	if (rp == NULL)
		wnw_die_err(c->cmd, &e);
	wnw_cmd_on_die(c->cmd, wnw_replay_discard, rp);
	wnw_replay_set_max_record(rp, c->cmd->max_record);
	const struct wnw_reader *r = wnw_replay_reader(rp);
	int fi = wnw_xfield(c->cmd, r, field, 0, NULL);
	static const char *const of[] = {"", "value", "value", "value", "length", "norm", "neighbours"};
	const char *what = of[wnw_reader_schema(r)->fields[fi].type];
	struct stat1 st = {0};
	int got;
	while ((got = wnw_replay_next(rp, &rec, &e)) == 1)
		stat_add(&st, field_value(&rec, fi));
	if (got < 0 || wnw_replay_rewind(rp, &e) < 0)
		wnw_die_err(c->cmd, &e);
	uint64_t *count = wnw_xcalloc(c->cmd, bins, sizeof *count);
	double width = st.n > 0 && st.max > st.min ? (st.max - st.min) / bins : 0;
	while ((got = wnw_replay_next(rp, &rec, &e)) == 1) {
		double v = field_value(&rec, fi);
		if (!isfinite(v))
			continue;
		uint32_t b = width > 0 ? (uint32_t)((v - st.min) / width) : 0;
		count[b < bins ? b : bins - 1]++;
	}
	if (got < 0)
		wnw_die_err(c->cmd, &e);
	char name[256];
	snprintf(name, sizeof name, "%s", wnw_reader_name(wnw_replay_reader(rp)));
	wnw_cmd_on_die(c->cmd, NULL, NULL);
	wnw_replay_close(rp);
	uint64_t most = 1;
	for (uint32_t b = 0; b < bins; b++)
		most = count[b] > most ? count[b] : most;
	int rc = wnw_tout_printf(c->t, &e, "%s: %s of %s: %llu records, min %.6g, max %.6g%s\n", name, what,
				 field, (unsigned long long)st.n, st.n ? st.min : 0.0, st.n ? st.max : 0.0,
				 st.nonfinite ? " (and some not finite, left out)" : "");
	for (uint32_t b = 0; rc == 0 && b < (width > 0 ? bins : 1); b++) {
		char bar[64];
		size_t len = (size_t)((double)count[b] / (double)most * 50 + 0.5);
		memset(bar, '#', len);
		bar[len] = '\0';
		rc = wnw_tout_printf(c->t, &e, "  %12.6g ..%12.6g %10llu %s\n", st.min + b * width,
				     width > 0 ? st.min + (b + 1) * width : st.max, (unsigned long long)count[b], bar);
	}
	free(count);
	if (rc < 0)
		wnw_die_err(c->cmd, &e);
}

/* inspect's options. */
struct opts {
	uint64_t show, bins;
	int check;
	const char *hist;
};

/* Options into *o, their combinations checked. */
static void parse(struct wnw_cmd *cmd, struct opts *o, int argc, char **argv)
{
	int ch;

	wnw_cmd_init(cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(cmd)) != -1) {
		switch (ch) {
		case 'n':
			o->show = wnw_opt_u64(cmd, "-n", cmd->optarg, 0, UINT64_MAX);
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		case OPT_HIST:
			o->hist = cmd->optarg;
			break;
		case OPT_BINS:
			o->bins = wnw_opt_u64(cmd, "--bins", cmd->optarg, 1, 200);
			break;
		default:
			wnw_usage(cmd, "unknown option");
		}
	}
	if (o->check && (o->show || cmd->output || cmd->zlevel))
		wnw_usage(cmd, "--check prints nothing: it takes no -n, -o or -z");
	if (o->hist != NULL && (o->check || o->show))
		wnw_usage(cmd, "--hist takes no --check or -n");
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct opts o = {.bins = 20};

	parse(&cmd, &o, argc, argv);
	int nin = wnw_cmd_nargs(&cmd);
	char **in = wnw_cmd_args(&cmd);
	static char dash[] = "-";
	char *stdin_only[] = {dash};
	if (nin == 0) {
		in = stdin_only;
		nin = 1;
	}
	struct ctx c = {.cmd = &cmd};
	yaml_event_t ev;
	if (o.hist != NULL) {
		c.t = wnw_xtout_open(&cmd, cmd.output, cmd.zlevel);
		for (int i = 0; i < nin; i++)
			hist_one(&c, in[i], o.hist, (uint32_t)o.bins);
		wnw_xtout_close(&cmd, c.t);
		return wnw_cmd_done(&cmd);
	}
	if (!o.check) {
		c.t = wnw_xtout_open(&cmd, cmd.output, cmd.zlevel);
		if (!yaml_emitter_initialize(&c.em))
			wnw_die(&cmd, WNW_EXIT_SYSTEM, "out of memory");
		yaml_emitter_set_output(&c.em, write_handler, &c);
		yaml_emitter_set_unicode(&c.em, 1);
		yaml_emitter_set_width(&c.em, -1);
		if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING))
			emit_failed(&c);
		emit(&c, &ev);
	}
	for (int i = 0; i < nin; i++)
		inspect_one(&c, in[i], o.show, o.check);
	if (!o.check) {
		if (!yaml_stream_end_event_initialize(&ev))
			emit_failed(&c);
		emit(&c, &ev);
		if (!yaml_emitter_flush(&c.em))
			emit_failed(&c);
		yaml_emitter_delete(&c.em);
		wnw_xtout_close(&cmd, c.t);
	}
	free(c.tmp.p);
	return wnw_cmd_done(&cmd);
}
