/* unpack: a winnow stream to JSONL, TSV, plain lines, a list of ids, or a .npy matrix. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "prog.h"
#include "render.h"
#include "textout.h"

enum { OPT_ADD = WNW_OPT_LONG, OPT_REPLACE, OPT_TSV, OPT_IDS, OPT_LINES, OPT_NPY };
enum mode { JSONL, TSV, IDS, LINES, NPY };

static const struct option longopts[] = {
	{"add", required_argument, NULL, OPT_ADD},
	{"replace", no_argument, NULL, OPT_REPLACE},
	{"lines", no_argument, NULL, OPT_LINES},
	{"tsv", required_argument, NULL, OPT_TSV},
	{"ids", no_argument, NULL, OPT_IDS},
	{"npy", required_argument, NULL, OPT_NPY},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "unpack",
	.synopsis = "[--add FIELD[=NAME],... [--replace]] [-o FILE] [-z [LEVEL]] [FILE ...]\n"
		"       unpack --tsv FIELD[,FIELD ...] [-o FILE] [-z [LEVEL]] [FILE ...]\n"
		"       unpack --ids [-o FILE] [-z [LEVEL]] [FILE ...]\n"
		"       unpack --lines [-o FILE] [-z [LEVEL]] [FILE ...]\n"
		"       unpack --npy FIELD [-o FILE] [-z [LEVEL]] [FILE ...]",
	.help = "Writes the records of winnow streams as JSONL (default): the json field as it is, or an object\n"
		"of the scalar and text fields when there is no json field. -o FILE.gz writes gzip, FILE.zst zstd.\n"
		"      --add FIELD[=NAME],...  add these fields to each JSON object (as member NAME); a line\n"
		"                        that already has such a member is an error\n"
		"      --replace         with --add: replace members that are already there\n"
		"      --tsv FIELD,...   tab-separated values of these fields, after a header line\n"
		"      --ids             the id (a string id as it was given), one per line\n"
		"      --lines           the text field, one per line (what pack --lines read)\n"
		"      --npy FIELD       a vector (or numeric) field as a .npy array that numpy.load reads\n",
	.shortopts = "",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_PROGRESS,
};

/* The output (opened with wnw_xtout_open, so that any failure drops a half-written file), the .npy
 * state, and the line being built. */
struct out {
	struct wnw_cmd *cmd;
	struct wnw_tout *t;
	struct wnw_npyout npy;
	struct wnw_buf line;
};

_Noreturn static void die_data(struct out *o, const struct wnw_rec *rec, const char *name, const char *what,
			       const char *field)
{
	struct wnw_err e;
	wnw_errf(&e, WNW_EXIT_DATA, "%s: record %llu: field '%s' %s", name, (unsigned long long)rec->number,
		 field, what);
	wnw_die_err(o->cmd, &e);
}

static void put(struct out *o, const void *p, size_t n)
{
	struct wnw_err e;
	if (wnw_tout_write(o->t, p, n, &e) < 0)
		wnw_die_err(o->cmd, &e);
}

static void add(struct wnw_buf *b, struct out *o, const void *p, size_t n)
{
	if (wnw_buf_add(b, p, n) < 0)
		wnw_die(o->cmd, WNW_EXIT_SYSTEM, "out of memory");
}

/* Field f of rec as JSON (json != 0) or as a TSV cell (render.h). */
static void add_value(struct wnw_buf *b, struct out *o, const struct wnw_rec *rec, int f, int json,
		      const char *name)
{
	struct wnw_err e;
	if (wnw_render_value(b, rec, f, json, name, &e) < 0)
		wnw_die_err(o->cmd, &e);
}

/* A member name from the command line as a JSON string. */
static void add_name(struct wnw_buf *b, struct out *o, const char *s)
{
	if (wnw_render_json_string(b, s, strlen(s)) < 0)
		wnw_die(o->cmd, WNW_EXIT_SYSTEM, "out of memory");
}

/* --- field lists ------------------------------------------------------------------------------- */

struct list {
	int n;
	int *idx;
	char **names; /* as written out: the member names of --add */
	char *copy; /* the names point into it */
};

/* The field shown for field f: a string id (sid) for the u64 id made from it. */
static int shown_field(const struct wnw_reader *r, int f)
{
	const struct wnw_schema *s = wnw_reader_schema(r);
	int sid = wnw_schema_find(s, "sid");
	if (sid >= 0 && s->fields[sid].type == WNW_BYTES && strcmp(s->fields[f].name, "id") == 0 &&
	    s->fields[f].type == WNW_U64)
		return sid;
	return f;
}

/* Resolves "a,b,c" against the schema; every name must exist. */
static void parse_list(struct wnw_cmd *cmd, const struct wnw_reader *r, const char *opt, const char *arg,
		       struct list *l)
{
	char *copy = strdup(arg), *save = NULL;
	if (!copy)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
	l->copy = copy;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		l->idx = wnw_xrealloc(cmd, l->idx, (size_t)(l->n + 1) * sizeof *l->idx);
		l->names = wnw_xrealloc(cmd, l->names, (size_t)(l->n + 1) * sizeof *l->names);
		char *eq = strchr(tok, '=');
		if (eq && strcmp(opt, "--add") != 0)
			wnw_usage(cmd, "%s: '%s': only --add renames (FIELD=NAME)", opt, tok);
		if (eq)
			*eq++ = 0;
		if (eq && !*eq)
			wnw_usage(cmd, "%s: '%s=': no member name", opt, tok);
		l->idx[l->n] = shown_field(r, wnw_xfield(cmd, r, tok, 0, NULL));
		l->names[l->n] = eq ? eq : tok;
		for (int k = 0; k < l->n; k++)
			if (l->idx[k] == l->idx[l->n])
				wnw_usage(cmd, "%s: field '%s' named twice", opt, tok);
		l->n++;
	}
	if (l->n == 0)
		wnw_usage(cmd, "%s: no field named", opt);
}

/* --- the output modes -------------------------------------------------------------------------- */

struct job {
	enum mode mode;
	int replace;
	int text_f, sid_f;
	const char *list_arg;
	const char *npy_field;
	struct list list;
	int json_f, id_f, npy_f;
	const char *npy_descr;
	uint32_t npy_cols;
	size_t npy_item;
};

/* JSONL with a json field and --add fields: splice them in before the closing brace when none exists
 * yet (so the original bytes stay as they are), else rebuild the object with jansson. */
static void jsonl_merge(struct out *o, struct job *jb, const struct wnw_rec *rec, const char *name,
			const uint8_t *js, size_t n)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)js, n, JSON_ALLOW_NUL, &jerr);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		die_data(o, rec, name, "is not a JSON object", "json");
	}
	int clash = 0;
	for (int i = 0; i < jb->list.n; i++) {
		int here = json_object_get(root, jb->list.names[i]) != NULL;
		if (here && !jb->replace) {
			char what[WNW_MAX_NAME * 2 + 96];
			snprintf(what, sizeof what, "already has a member \"%s\" (rename: --add %s=NEW, or --replace)",
				 jb->list.names[i], rec->schema->fields[jb->list.idx[i]].name);
			json_decref(root);
			die_data(o, rec, name, what, "json");
		}
		clash |= here;
	}
	struct wnw_buf *b = &o->line;
	b->n = 0;
	if (!clash) {
		size_t end = n;
		while (end > 0 && js[end - 1] != '}')
			end--;
		add(b, o, js, end - 1);
		int first = json_object_size(root) == 0;
		for (int i = 0; i < jb->list.n; i++) {
			add(b, o, first && i == 0 ? "" : ",", first && i == 0 ? 0 : 1);
			add_name(b, o, jb->list.names[i]);
			add(b, o, ":", 1);
			add_value(b, o, rec, jb->list.idx[i], 1, name);
		}
		add(b, o, js + end - 1, n - (end - 1));
	} else {
		struct wnw_buf v = {0};
		for (int i = 0; i < jb->list.n; i++) {
			v.n = 0;
			add_value(&v, o, rec, jb->list.idx[i], 1, name);
			json_t *val = json_loadb(v.p, v.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
			if (!val || json_object_set_new(root, jb->list.names[i], val) < 0)
				wnw_die(o->cmd, WNW_EXIT_SYSTEM, "internal error: cannot merge field '%s'",
					jb->list.names[i]);
		}
		free(v.p);
		char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s)
			add(b, o, s, strlen(s));
		else
			wnw_die(o->cmd, WNW_EXIT_SYSTEM, "out of memory");
		free(s);
	}
	json_decref(root);
	add(b, o, "\n", 1);
	put(o, b->p, b->n);
}

static void do_jsonl(struct out *o, struct job *jb, const struct wnw_rec *rec, const char *name)
{
	struct wnw_buf *b = &o->line;
	if (jb->json_f >= 0) {
		size_t n;
		const uint8_t *js = wnw_get_bytes(rec, jb->json_f, &n);
		if (memchr(js, '\n', n))
			die_data(o, rec, name, "holds a newline, so it is not one JSON line", "json");
		if (jb->list.n) {
			jsonl_merge(o, jb, rec, name, js, n);
			return;
		}
		b->n = 0;
		add(b, o, js, n);
		add(b, o, "\n", 1);
		put(o, b->p, b->n);
		return;
	}
	/* No json field: an object of the scalar and text fields, plus the --add fields. */
	const struct wnw_schema *s = rec->schema;
	b->n = 0;
	add(b, o, "{", 1);
	int first = 1;
	for (uint32_t f = 0; f < s->nfields; f++) {
		int listed = 0;
		for (int i = 0; i < jb->list.n; i++)
			listed |= jb->list.idx[i] == (int)f;
		if (!listed && (s->fields[f].type == WNW_VEC || s->fields[f].type == WNW_NBR || (int)f == jb->sid_f))
			continue;
		if (!first)
			add(b, o, ",", 1);
		first = 0;
		add_name(b, o, s->fields[f].name);
		add(b, o, ":", 1);
		add_value(b, o, rec, listed ? (int)f : jb->id_f == (int)f && jb->sid_f >= 0 ? jb->sid_f : (int)f, 1,
			  name);
	}
	add(b, o, "}\n", 2);
	put(o, b->p, b->n);
}

static void do_tsv(struct out *o, struct job *jb, const struct wnw_rec *rec, const char *name)
{
	struct wnw_buf *b = &o->line;
	b->n = 0;
	for (int i = 0; i < jb->list.n; i++) {
		if (i)
			add(b, o, "\t", 1);
		add_value(b, o, rec, jb->list.idx[i], 0, name);
	}
	add(b, o, "\n", 1);
	put(o, b->p, b->n);
}

/* --lines: the text field as a line; a text holding a newline cannot be one. */
static void do_lines(struct out *o, struct job *jb, const struct wnw_rec *rec, const char *name)
{
	size_t n;
	const uint8_t *p = wnw_get_bytes(rec, jb->text_f, &n);
	if (memchr(p, '\n', n))
		die_data(o, rec, name, "holds a newline, so it is not one line", "text");
	put(o, p, n);
	put(o, "\n", 1);
}

/* Resolves the job's fields against the first stream's schema. */
static void setup(struct wnw_cmd *cmd, struct job *jb, const struct wnw_reader *r)
{
	const struct wnw_schema *s = wnw_reader_schema(r);
	jb->json_f = wnw_schema_find(s, "json");
	if (jb->json_f >= 0 && s->fields[jb->json_f].type != WNW_BYTES)
		jb->json_f = -1;
	jb->id_f = wnw_schema_find(s, "id");
	jb->sid_f = jb->id_f >= 0 ? shown_field(r, jb->id_f) : -1;
	if (jb->sid_f == jb->id_f)
		jb->sid_f = -1;
	if (jb->list_arg)
		parse_list(cmd, r, jb->mode == TSV ? "--tsv" : "--add", jb->list_arg, &jb->list);
	if (jb->mode == IDS)
		jb->id_f = shown_field(r, wnw_xfield(cmd, r, "id", WNW_U64, NULL));
	if (jb->mode == LINES)
		jb->text_f = wnw_xfield(cmd, r, "text", WNW_BYTES, NULL);
	if (jb->mode == NPY) {
		jb->npy_f = wnw_xfield(cmd, r, jb->npy_field, 0, NULL);
		const struct wnw_field *f = &s->fields[jb->npy_f];
		switch (f->type) {
		case WNW_VEC: jb->npy_descr = "<f4", jb->npy_item = 4, jb->npy_cols = f->dim; break;
		case WNW_F32: jb->npy_descr = "<f4", jb->npy_item = 4; break;
		case WNW_F64: jb->npy_descr = "<f8", jb->npy_item = 8; break;
		case WNW_U64: jb->npy_descr = "<u8", jb->npy_item = 8; break;
		default:
			wnw_die(cmd, WNW_EXIT_DATA, "%s: field '%s' is %s: --npy takes a vector or a number",
				wnw_reader_name(r), f->name, wnw_type_name(f->type));
		}
	}
}

/* Options into *jb, their combinations checked. */
static void parse(struct wnw_cmd *cmd, struct job *jb, int argc, char **argv)
{
	int ch, modes = 0;

	wnw_cmd_init(cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(cmd)) != -1) {
		switch (ch) {
		case OPT_ADD:
			jb->list_arg = cmd->optarg;
			break;
		case OPT_REPLACE:
			jb->replace = 1;
			break;
		case OPT_LINES:
			jb->mode = LINES, modes++;
			break;
		case OPT_TSV:
			jb->mode = TSV, jb->list_arg = cmd->optarg, modes++;
			break;
		case OPT_IDS:
			jb->mode = IDS, modes++;
			break;
		case OPT_NPY:
			jb->mode = NPY, jb->npy_field = cmd->optarg, modes++;
			break;
		default:
			wnw_usage(cmd, "unknown option");
		}
	}
	if (modes > 1)
		wnw_usage(cmd, "--tsv, --ids, --lines and --npy exclude each other");
	if (jb->replace && (modes || !jb->list_arg))
		wnw_usage(cmd, "--replace goes with --add");
	if (modes == 1 && jb->mode != TSV && jb->list_arg)
		wnw_usage(cmd, "--add goes with JSONL output only");
	if (jb->mode == TSV && jb->list_arg == NULL)
		wnw_usage(cmd, "--tsv needs a list of fields");
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct job jb = {.mode = JSONL, .json_f = -1, .id_f = -1, .sid_f = -1, .npy_f = -1};
	struct out o = {.cmd = &cmd};
	struct wnw_err e;

	parse(&cmd, &jb, argc, argv);
	int nin = wnw_cmd_nargs(&cmd);
	char **in = wnw_cmd_args(&cmd);
	static char dash[] = "-";
	char *stdin_only[] = {dash};
	if (nin == 0) {
		in = stdin_only;
		nin = 1;
	}

	struct wnw_schema first;
	wnw_schema_init(&first);
	for (int i = 0; i < nin; i++) {
		struct wnw_reader *r = wnw_reader_open(in[i], &e);
		if (!r)
			wnw_die_err(&cmd, &e);
		const struct wnw_schema *s = wnw_reader_schema(r);
		if (i == 0) {
			setup(&cmd, &jb, r);
			if (wnw_schema_copy(&first, s, &e) < 0)
				wnw_die_err(&cmd, &e);
			if (jb.mode == NPY)
				wnw_xrefuse_tty(&cmd);
			o.t = wnw_xtout_open(&cmd, cmd.output, cmd.zlevel);
			for (int k = 0; jb.mode == TSV && k < jb.list.n; k++) {
				put(&o, jb.list.names[k], strlen(jb.list.names[k]));
				put(&o, k + 1 < jb.list.n ? "\t" : "\n", 1);
			}
			if (jb.mode == NPY && wnw_npyout_start(&o.npy, o.t, jb.npy_descr, jb.npy_cols,
							       jb.npy_item * (jb.npy_cols ? jb.npy_cols : 1), &e) < 0)
				wnw_die_err(&cmd, &e);
		} else if (!wnw_schema_same_fields(&first, s)) {
			char a[512], b[512];
			wnw_schema_describe(&first, a, sizeof a);
			wnw_schema_describe(s, b, sizeof b);
			wnw_errf(&e, WNW_EXIT_DATA, "%s: schema (%s) differs from that of %s (%s)", in[i], b, in[0], a);
			wnw_die_err(&cmd, &e);
		}
		const char *name = wnw_reader_name(r);
		struct wnw_rec rec;
		int got;
		while ((got = wnw_reader_next(r, &rec, &e)) > 0) {
			switch (jb.mode) {
			case JSONL: do_jsonl(&o, &jb, &rec, name); break;
			case TSV: do_tsv(&o, &jb, &rec, name); break;
			case IDS:
				o.line.n = 0;
				add_value(&o.line, &o, &rec, jb.id_f, 0, name);
				add(&o.line, &o, "\n", 1);
				put(&o, o.line.p, o.line.n);
				break;
			case LINES: do_lines(&o, &jb, &rec, name); break;
			case NPY:
				/* the stream stores little-endian values, which is what '<f4', '<f8' and '<u8' say */
				if (wnw_npyout_row(&o.npy, rec.data + rec.off[jb.npy_f], &e) < 0)
					wnw_die_err(&cmd, &e);
				break;
			}
			if (cmd.progress)
				wnw_progress(&cmd, r);
		}
		if (got < 0)
			wnw_die_err(&cmd, &e);
		if (cmd.progress)
			wnw_progress_done(&cmd, r);
		wnw_reader_close(r);
	}
	if (jb.mode == NPY && wnw_npyout_finish(&o.npy, &e) < 0)
		wnw_die_err(&cmd, &e);
	wnw_xtout_close(&cmd, o.t);
	wnw_schema_free(&first);
	free(jb.list.idx);
	free(jb.list.names);
	free(jb.list.copy);
	free(o.line.p);
	return wnw_cmd_done(&cmd);
}
