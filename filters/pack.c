/* pack: JSONL, JSON arrays, CSV, TSV or plain text lines, and embedding matrices from .npy files, to a
 * winnow stream. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nameset.h"
#include "npy.h"
#include "prog.h"
#include "textin.h"

enum { OPT_LINES = WNW_OPT_LONG, OPT_TSV, OPT_CSV, OPT_CHAT, OPT_TEXT, OPT_ID, OPT_VECTORS, OPT_FIELD, OPT_SKIP_BAD, OPT_MAX_LINE };

static const struct option longopts[] = {
	{"lines", no_argument, NULL, OPT_LINES},
	{"tsv", no_argument, NULL, OPT_TSV},
	{"csv", no_argument, NULL, OPT_CSV},
	{"chat", no_argument, NULL, OPT_CHAT},
	{"text", required_argument, NULL, OPT_TEXT},
	{"id", required_argument, NULL, OPT_ID},
	{"vectors", required_argument, NULL, OPT_VECTORS},
	{"field", required_argument, NULL, OPT_FIELD},
	{"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
	{"max-line", required_argument, NULL, OPT_MAX_LINE},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "pack",
	.synopsis = "[--lines | --tsv | --csv] [--text PATH | TEMPLATE | --chat] [--id PATH]\n"
		"            [--field [NAME=]PATH[:TYPE]] [--vectors [NAME=]FILE.npy] [--skip-bad] [--max-line SIZE]\n"
		"            [-j N] [-o FILE] [-z [LEVEL]] [FILE ...]",
	.help = "Packs JSONL or a JSON array (default), CSV, TSV or text lines (plain, .gz or .zst) into a winnow\n"
		"stream with fields id, sid (string ids only), text, json (the original line), then the --field\n"
		"and --vectors fields.\n"
		"      --lines           each input line is a record's text (no json field)\n"
		"      --tsv             tab-separated values whose first row names the columns\n"
		"      --csv             comma-separated values (RFC 4180) whose first row names the columns\n"
		"      --text PATH       the member that holds the text (default: text), a path such as\n"
		"                        'messages[-1].content', or a template such as '{instruction}\\n{input?}'\n"
		"      --chat            the text is the messages (or conversations) array, one 'role: content'\n"
		"                        line per turn\n"
		"      --id PATH         take the id from this member, a number or a string (default: the\n"
		"                        record's index from 0)\n"
		"      --field [NAME=]PATH[:TYPE]  copy a member into field NAME of TYPE u64, f64 or text (default)\n"
		"      --vectors [NAME=]FILE.npy  join the rows of a float16/32/64 matrix as vector field NAME\n"
		"                        (default vec); with no input FILE, one record per row\n"
		"      --skip-bad        skip bad lines and report how many, instead of stopping\n"
		"      --max-line SIZE   longest line accepted (default 64M, at most 256M)\n",
	.shortopts = "",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

struct vecsrc {
	char name[WNW_MAX_NAME + 1];
	const char *path;
	struct wnw_npy_in in;
	float *row;
};

struct opts {
	enum wnw_src src;
	int chat;
	const char *text, *id;
	const char **fields;
	size_t nfields;
	struct vecsrc *vecs;
	size_t nvecs;
	int skip_bad;
	size_t max_line;
};

/* Progress over the input files: bytes of the inputs already finished, plus the current one's. */
static void show_progress(struct wnw_cmd *cmd, const struct wnw_lines *l, uint64_t finished, uint64_t records,
			  int last)
{
	uint64_t done = 0, total = 0;
	if (l)
		wnw_lines_position(l, &done, &total);
	wnw_progress_at(cmd, records, finished + done, l ? finished + total : 0, last);
}

static void add_vectors(struct wnw_cmd *cmd, struct opts *o, const char *arg)
{
	o->vecs = wnw_xrealloc(cmd, o->vecs, (o->nvecs + 1) * sizeof *o->vecs);
	struct vecsrc *v = &o->vecs[o->nvecs++];
	memset(v, 0, sizeof *v);
	const char *eq = strchr(arg, '=');
	/* NAME=FILE when what precedes '=' looks like a field name (no '/'). */
	if (eq && eq > arg && !memchr(arg, '/', (size_t)(eq - arg))) {
		if ((size_t)(eq - arg) > WNW_MAX_NAME)
			wnw_usage(cmd, "--vectors %s: name too long", arg);
		memcpy(v->name, arg, (size_t)(eq - arg));
		v->path = eq + 1;
	} else {
		strcpy(v->name, "vec");
		v->path = arg;
	}
	if (!*v->path)
		wnw_usage(cmd, "--vectors %s: no file name", arg);
}

/* The output schema: id, sid (string ids), text, json (not for --lines), the --field fields, then the
 * vectors. */
static void make_schema(struct wnw_cmd *cmd, const struct opts *o, const struct wnw_jsonl *j, int have_text,
			int sid, struct wnw_schema *s)
{
	struct wnw_err e;
	wnw_schema_init(s);
	int bad = wnw_schema_set(s, "id", WNW_U64, 0, &e) < 0;
	if (sid)
		bad = bad || wnw_schema_set(s, "sid", WNW_BYTES, 0, &e) < 0;
	if (have_text) {
		bad = bad || wnw_schema_set(s, "text", WNW_BYTES, 0, &e) < 0;
		if (o->src != WNW_SRC_LINES)
			bad = bad || wnw_schema_set(s, "json", WNW_BYTES, 0, &e) < 0;
		for (size_t i = 0; i < j->nfields; i++)
			bad = bad || wnw_schema_set(s, j->fields[i].name, j->fields[i].type, 0, &e) < 0;
	}
	if (bad)
		wnw_die_err(cmd, &e);
	for (size_t i = 0; i < o->nvecs; i++) {
		if (wnw_schema_find(s, o->vecs[i].name) >= 0)
			wnw_usage(cmd, "--vectors: field '%s' is written twice", o->vecs[i].name);
		if (wnw_schema_set(s, o->vecs[i].name, WNW_VEC, o->vecs[i].in.info.cols, &e) < 0)
			wnw_die_err(cmd, &e);
	}
}

/* Reads the next row of every vector source into its buffer and writes it. */
static void write_vectors(struct wnw_cmd *cmd, struct opts *o, struct wnw_writer *w, uint64_t record)
{
	struct wnw_err e;
	for (size_t i = 0; i < o->nvecs; i++) {
		struct vecsrc *v = &o->vecs[i];
		if (v->in.row == v->in.info.rows)
			wnw_die(cmd, WNW_EXIT_DATA, "%s: has %llu rows, but the input has more records", v->path,
				(unsigned long long)v->in.info.rows);
		if (wnw_npy_next(&v->in, v->row, &e) < 0)
			wnw_die_err(cmd, &e);
		for (uint32_t k = 0; k < v->in.info.cols; k++)
			if (!isfinite(v->row[k]))
				wnw_die(cmd, WNW_EXIT_DATA, "%s: row %llu: component %u is not a finite number",
					v->path, (unsigned long long)record, k);
		wnw_writer_vec(w, v->row);
	}
}

static void check_vectors_done(struct wnw_cmd *cmd, struct opts *o, uint64_t records)
{
	struct wnw_err e;
	for (size_t i = 0; i < o->nvecs; i++) {
		struct vecsrc *v = &o->vecs[i];
		if (v->in.row != v->in.info.rows)
			wnw_die(cmd, WNW_EXIT_DATA, "%s: has %llu rows, but the input has %llu records", v->path,
				(unsigned long long)v->in.info.rows, (unsigned long long)records);
		if (wnw_npy_next(&v->in, v->row, &e) < 0)
			wnw_die_err(cmd, &e);
	}
}

struct run {
	struct wnw_cmd *cmd;
	struct opts *o;
	struct wnw_writer *w; /* made at the first record, whose id decides between numbers and strings */
	struct wnw_schema schema;
	int have_text;
	int sid;                 /* string ids: -1 until the first record tells */
	struct wnw_hashset seen; /* string ids */
	char *const *files;
	uint32_t file;
	struct wnw_pool *pool;
	struct wnw_jbatch b; /* lines are parsed in batches on -j threads, written in input order */
	uint64_t records, skipped;
};

static void start_output(struct run *r, int sid)
{
	r->sid = sid;
	make_schema(r->cmd, r->o, &r->b.js[0], r->have_text, sid, &r->schema);
	r->w = wnw_xcreate(r->cmd, &r->schema);
}

/* Where a repeated string id was first seen: the inputs are read again, up to the record that repeats
 * it, with a parser of their own. Gives "FILE: line N", or a phrase when an input cannot be reread. */
static void first_seen(struct run *r, const char *sid, size_t n, uint64_t upto, char *where, size_t cap)
{
	struct wnw_err e;
	struct wnw_jsonl j;
	const char *line;
	size_t len;
	uint64_t h = wnw_sid_hash(sid, n);
	snprintf(where, cap, "repeats that of an earlier record (not a regular file: cannot be read again to name it)");
	for (uint32_t f = 0; f <= r->file; f++) {
		struct stat st;
		if (strcmp(r->files[f], "-") == 0 || stat(r->files[f], &st) != 0 || !S_ISREG(st.st_mode))
			return;
	}
	if (wnw_jsonl_init(&j, r->o->src, r->o->text, r->o->id, r->o->fields, r->o->nfields, &e) < 0 ||
	    (r->o->chat && wnw_jsonl_chat(&j, &e) < 0))
		wnw_die_err(r->cmd, &e);
	for (uint32_t f = 0; f <= r->file; f++) {
		struct wnw_lines *l = wnw_textin_open(r->files[f], r->o->max_line, &j, 1, &e);
		if (!l)
			wnw_die_err(r->cmd, &e);
		while (wnw_lines_next(l, &line, &len, &e) > 0 && (f < r->file || wnw_lines_lineno(l) < upto)) {
			if (wnw_jsonl_parse(&j, line, len, &e) <= 0 || wnw_sid_hash(j.sid.p, j.sid.n) != h)
				continue;
			if (j.sid.n == n && memcmp(j.sid.p, sid, n) == 0)
				snprintf(where, cap, "repeats that of %s: %s %llu", r->files[f], wnw_lines_unit(l),
					 (unsigned long long)wnw_lines_lineno(l));
			else
				snprintf(where, cap, "has the 63-bit hash of id \"%.*s\" in %s: %s %llu (pack(1), --id)",
					 j.sid.n > 200 ? 200 : (int)j.sid.n, j.sid.p, r->files[f], wnw_lines_unit(l),
					 (unsigned long long)wnw_lines_lineno(l));
			f = r->file;
			break;
		}
		wnw_lines_close(l);
	}
	wnw_jsonl_free(&j);
}

/* A string id's u64 is its hash; a repeat (or, as rarely as 2^-63 a pair, another string with the
 * same hash) is an error naming both records. */
static uint64_t string_id(struct run *r, const struct wnw_jrec *rec, const char *name, const char *unit)
{
	uint64_t h = wnw_sid_hash(rec->sid, rec->nsid);
	int added = wnw_hashset_add(&r->seen, h);
	if (added < 0)
		wnw_die(r->cmd, WNW_EXIT_SYSTEM, "out of memory");
	if (!added) {
		char where[4200];
		first_seen(r, rec->sid, rec->nsid, rec->lineno, where, sizeof where);
		wnw_die(r->cmd, WNW_EXIT_DATA, "%s: %s %llu: id \"%.*s\" %.4096s", name, unit,
			(unsigned long long)rec->lineno, rec->nsid > 200 ? 200 : (int)rec->nsid, rec->sid, where);
	}
	return h;
}

/* One parsed line as a record: id, sid, text, json, the lifted fields, the vectors. */
static void write_record(struct run *r, const struct wnw_jrec *rec, const char *name, const char *unit)
{
	const struct wnw_jsonl *j = &r->b.js[0];
	if (!r->w)
		start_output(r, r->o->id && !rec->id_num);
	if (r->sid)
		wnw_writer_u64(r->w, string_id(r, rec, name, unit));
	else if (r->o->id && !rec->id_num)
		wnw_die(r->cmd, WNW_EXIT_DATA, "%s: line %llu: id \"%.*s\" is not a number, as the first "
			"record's was (ids are all numbers or all strings)", name, (unsigned long long)rec->lineno,
			rec->nsid > 200 ? 200 : (int)rec->nsid, rec->sid);
	else
		wnw_writer_u64(r->w, r->o->id ? rec->id : r->records);
	if (r->sid)
		wnw_writer_bytes(r->w, rec->sid, rec->nsid);
	wnw_writer_bytes(r->w, rec->text, rec->ntext);
	if (rec->json)
		wnw_writer_bytes(r->w, rec->json, rec->njson);
	for (size_t k = 0; k < j->nfields; k++) {
		if (j->fields[k].type == WNW_U64)
			wnw_writer_u64(r->w, rec->vals[k].u);
		else if (j->fields[k].type == WNW_F64)
			wnw_writer_f64(r->w, rec->vals[k].d);
		else
			wnw_writer_bytes(r->w, rec->vals[k].s, rec->vals[k].n);
	}
	write_vectors(r->cmd, r->o, r->w, r->records);
	wnw_xend(r->cmd, r->w);
	r->records++;
}

/* Parses the batch on the pool, then writes its records in order; a bad line stops here, at the
 * first one in input order, unless --skip-bad. */
static void flush_batch(struct run *r, const char *name, const char *unit)
{
	struct wnw_jrec rec;
	wnw_jbatch_parse(&r->b, r->pool);
	for (size_t i = 0; i < r->b.n; i++) {
		wnw_jbatch_get(&r->b, i, &rec);
		if (rec.rc < 0 && rec.status == WNW_EXIT_SYSTEM)
			wnw_die(r->cmd, WNW_EXIT_SYSTEM, "out of memory");
		if (rec.rc < 0 && !r->o->skip_bad)
			wnw_die(r->cmd, rec.status, "%s: %s %llu: %s", name, unit, (unsigned long long)rec.lineno, rec.msg);
		if (rec.rc < 0)
			r->skipped++;
		else if (rec.rc > 0)
			write_record(r, &rec, name, unit);
	}
	wnw_jbatch_clear(&r->b);
}

/* Packs one input file. */
static void pack_file(struct run *r, const char *path, uint64_t *finished)
{
	struct wnw_err e;
	struct wnw_lines *l = wnw_textin_open(path, r->o->max_line, r->b.js, r->b.nthreads, &e);
	if (!l)
		wnw_die_err(r->cmd, &e);
	const char *name = wnw_lines_name(l), *line;
	size_t len;
	int rc;
	while ((rc = wnw_lines_next(l, &line, &len, &e)) > 0) {
		if (wnw_lines_lineno(l) == 1)
			wnw_skip_bom(&line, &len);
		if (len >= WNW_JBATCH_BYTES) {
			/* a long line is parsed where the reader holds it, alone, and its fields written
			 * from the parser's buffers: no copy of it is made in the batch or the arena */
			flush_batch(r, name, wnw_lines_unit(l));
			wnw_jbatch_solo(&r->b, line, len, wnw_lines_lineno(l));
			flush_batch(r, name, wnw_lines_unit(l));
			continue;
		}
		if (wnw_jbatch_add(&r->b, line, len, wnw_lines_lineno(l), &e) < 0)
			wnw_die_err(r->cmd, &e);
		if (wnw_jbatch_full(&r->b)) {
			flush_batch(r, name, wnw_lines_unit(l));
			show_progress(r->cmd, l, *finished, r->records, 0);
		}
	}
	if (rc < 0)
		wnw_die_err(r->cmd, &e);
	flush_batch(r, name, wnw_lines_unit(l));
	uint64_t done, total;
	wnw_lines_position(l, &done, &total);
	*finished += done;
	wnw_lines_close(l);
}

/* Options into *o, their combinations checked. */
static void parse(struct wnw_cmd *cmd, struct opts *o, int argc, char **argv)
{
	int ch;

	wnw_cmd_init(cmd, &spec, argc, argv);
	wnw_cmd_repeatable(cmd, ",field,vectors,");
	while ((ch = wnw_cmd_opt(cmd)) != -1) {
		switch (ch) {
		case OPT_LINES:
		case OPT_TSV:
		case OPT_CSV:
			if (o->src != WNW_SRC_JSONL)
				wnw_usage(cmd, "--lines, --tsv and --csv exclude each other");
			o->src = ch == OPT_LINES ? WNW_SRC_LINES : ch == OPT_TSV ? WNW_SRC_TSV : WNW_SRC_CSV;
			break;
		case OPT_CHAT:
			o->chat = 1;
			break;
		case OPT_TEXT:
			o->text = cmd->optarg;
			break;
		case OPT_ID:
			o->id = cmd->optarg;
			break;
		case OPT_FIELD:
			o->fields = wnw_xrealloc(cmd, o->fields, (o->nfields + 1) * sizeof *o->fields);
			o->fields[o->nfields++] = cmd->optarg;
			break;
		case OPT_VECTORS:
			add_vectors(cmd, o, cmd->optarg);
			break;
		case OPT_SKIP_BAD:
			o->skip_bad = 1;
			break;
		case OPT_MAX_LINE:
			o->max_line = wnw_opt_size(cmd, "--max-line", cmd->optarg);
			if (o->max_line > (256u << 20))
				wnw_usage(cmd, "--max-line: '%s' is more than 256M", cmd->optarg);
			break;
		default:
			wnw_usage(cmd, "unknown option");
		}
	}
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct opts o = {.src = WNW_SRC_JSONL, .max_line = WNW_LINES_DEFAULT_MAX};
	struct wnw_err e;

	parse(&cmd, &o, argc, argv);
	int nin = wnw_cmd_nargs(&cmd);
	char **in = wnw_cmd_args(&cmd);
	static char dash[] = "-";
	char *stdin_only[] = {dash};
	int have_text = nin > 0 || o.nvecs == 0;
	if (nin == 0 && have_text) {
		in = stdin_only;
		nin = 1;
	}
	if (o.chat && o.text)
		wnw_usage(&cmd, "--chat and --text exclude each other");
	if (o.src == WNW_SRC_LINES && (o.text || o.id || o.nfields || o.chat))
		wnw_usage(&cmd, "--lines takes no --text, --id or --field: plain lines have no members");
	if (!have_text && (o.text || o.id || o.nfields || o.src != WNW_SRC_JSONL || o.skip_bad || o.chat))
		wnw_usage(&cmd, "with --vectors alone there is no text input; name the input FILE (or '-')");
	if (o.skip_bad && o.nvecs)
		wnw_usage(&cmd, "--skip-bad cannot be combined with --vectors: skipped lines would misalign the rows");
	int stdin_users = 0;
	for (int i = 0; i < nin; i++)
		stdin_users += strcmp(in[i], "-") == 0;
	for (size_t i = 0; i < o.nvecs; i++)
		stdin_users += strcmp(o.vecs[i].path, "-") == 0;
	if (stdin_users > 1)
		wnw_usage(&cmd, "standard input ('-') can be read only once");

	struct run r = {.cmd = &cmd, .o = &o, .have_text = have_text, .sid = -1};
	r.pool = wnw_xpool(&cmd, cmd.threads);
	if (wnw_jbatch_init(&r.b, wnw_pool_threads(r.pool), o.src, o.text, o.id, o.fields, o.nfields, o.chat, &e) < 0)
		wnw_die_err(&cmd, &e);
	for (size_t i = 0; i < o.nvecs; i++) {
		if (wnw_npy_open(&o.vecs[i].in, o.vecs[i].path, &e) < 0)
			wnw_die_err(&cmd, &e);
		o.vecs[i].row = wnw_xmalloc(&cmd, (size_t)o.vecs[i].in.info.cols * sizeof(float));
	}
	uint64_t finished = 0;

	if (!have_text) {
		start_output(&r, 0);
		uint64_t rows = o.vecs[0].in.info.rows;
		for (uint64_t row = 0; row < rows; row++) {
			wnw_writer_u64(r.w, row);
			write_vectors(&cmd, &o, r.w, row);
			wnw_xend(&cmd, r.w);
			if ((row & 4095) == 0)
				show_progress(&cmd, NULL, 0, row + 1, 0);
		}
		r.records = rows;
	}
	r.files = in;
	for (int f = 0; have_text && f < nin; f++) {
		r.file = (uint32_t)f;
		pack_file(&r, in[f], &finished);
	}
	if (!r.w)
		start_output(&r, 0);
	check_vectors_done(&cmd, &o, r.records);
	wnw_xclose(&cmd, r.w);
	show_progress(&cmd, NULL, finished, r.records, 1);
	if (r.skipped)
		wnw_warn(&cmd, "skipped %llu bad line%s", (unsigned long long)r.skipped, r.skipped == 1 ? "" : "s");
	for (size_t i = 0; i < o.nvecs; i++) {
		wnw_npy_close(&o.vecs[i].in);
		free(o.vecs[i].row);
	}
	free(o.vecs);
	free(o.fields);
	wnw_jbatch_free(&r.b);
	wnw_pool_free(r.pool);
	wnw_schema_free(&r.schema);
	wnw_hashset_free(&r.seen);
	return wnw_cmd_done(&cmd);
}
