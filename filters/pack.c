/* pack: JSONL, TSV or plain text lines, and embedding matrices from .npy files, to a winnow stream. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "lines.h"
#include "npy.h"
#include "par.h"
#include "prog.h"

enum { OPT_LINES = 0x100, OPT_TSV, OPT_TEXT, OPT_ID, OPT_VECTORS, OPT_FIELD, OPT_SKIP_BAD, OPT_MAX_LINE };

static const struct option longopts[] = {
	{"lines", no_argument, NULL, OPT_LINES},
	{"tsv", no_argument, NULL, OPT_TSV},
	{"text", required_argument, NULL, OPT_TEXT},
	{"id", required_argument, NULL, OPT_ID},
	{"vectors", required_argument, NULL, OPT_VECTORS},
	{"field", required_argument, NULL, OPT_FIELD},
	{"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
	{"max-line", required_argument, NULL, OPT_MAX_LINE},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	"pack",
	"[--lines | --tsv] [--text FIELD | TEMPLATE] [--id FIELD] [--field NAME[:TYPE]]\n"
	"            [--vectors [NAME=]FILE.npy] [--skip-bad] [--max-line SIZE] [-j N] [-o FILE] [-z [LEVEL]]\n"
	"            [FILE ...]",
	"Packs JSONL (default), TSV or text lines (plain, .gz or .zst) into a winnow stream with fields\n"
	"id, text, json (the original line), then the --field and --vectors fields.\n"
	"      --lines           each input line is a record's text (no json field)\n"
	"      --tsv             tab-separated values whose first row names the columns\n"
	"      --text FIELD      the member that holds the text (default: text), or a template\n"
	"                        such as '{instruction}\\n{output}'\n"
	"      --id FIELD        take the id from this member (default: the record's index from 0)\n"
	"      --field NAME[:TYPE]  copy member NAME into a field of TYPE u64, f64 or text (default text)\n"
	"      --vectors [NAME=]FILE.npy  join the rows of a float16/32/64 matrix as vector field NAME\n"
	"                        (default vec); with no input FILE, one record per row\n"
	"      --skip-bad        skip bad lines and report how many, instead of stopping\n"
	"      --max-line SIZE   longest line accepted (default 64M, at most 256M)\n",
	"",
	longopts,
	WNW_OPT_OUTPUT | WNW_OPT_THREADS | WNW_OPT_PROGRESS,
};

struct vecsrc {
	char name[WNW_MAX_NAME + 1];
	const char *path;
	struct wnw_npy_in in;
	float *row;
};

struct opts {
	enum wnw_src src;
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

/* The output schema: id, text, json (not for --lines), the --field fields, then the vectors. */
static void make_schema(struct wnw_cmd *cmd, const struct opts *o, const struct wnw_jsonl *j, int have_text,
			struct wnw_schema *s)
{
	struct wnw_err e;
	wnw_schema_init(s);
	int bad = wnw_schema_set(s, "id", WNW_U64, 0, &e) < 0;
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
		wnw_w_vec(w, v->row);
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

/* Lines are parsed in batches on -j threads, then written in input order, so the output does not
 * depend on the thread count. A batch holds at most BATCH_LINES lines or BATCH_BYTES bytes of them
 * (and always at least one line). */
#define BATCH_LINES 4096
#define BATCH_BYTES (16u << 20)

/* The outcome of parsing one line: for a record, its fields serialized in the arena of the thread
 * that parsed it; for a bad line, the message there. */
struct item {
	size_t line_off, line_len;
	uint64_t lineno;
	int rc, status, thread;
	uint64_t id;
	size_t off;
};

struct arena {
	char *p;
	size_t n, cap;
	int failed;
};

struct batch {
	char *lines;
	size_t used, cap;
	struct item *items;
	size_t n;
	struct wnw_jsonl *js; /* one parser state per thread */
	struct arena *arenas;
};

static void arena_add(struct arena *a, const void *p, size_t n)
{
	if (a->failed)
		return;
	if (n > a->cap - a->n) {
		size_t cap = a->cap ? a->cap : 1u << 16;
		while (cap - a->n < n)
			cap *= 2;
		char *q = realloc(a->p, cap);
		if (!q) {
			a->failed = 1;
			return;
		}
		a->p = q;
		a->cap = cap;
	}
	if (n)
		memcpy(a->p + a->n, p, n);
	a->n += n;
}

static void arena_bytes(struct arena *a, const char *p, size_t n)
{
	arena_add(a, &n, sizeof n);
	arena_add(a, p, n);
}

static const char *take_bytes(const char **p, size_t *n)
{
	memcpy(n, *p, sizeof *n);
	const char *s = *p + sizeof *n;
	*p = s + *n;
	return s;
}

/* Runs on a pool thread: parses line i with that thread's parser state. */
static void parse_item(void *ctx, size_t i, int thread)
{
	struct batch *b = ctx;
	struct item *it = &b->items[i];
	struct wnw_jsonl *j = &b->js[thread];
	struct arena *a = &b->arenas[thread];
	struct wnw_err e;
	it->thread = thread;
	it->off = a->n;
	it->rc = wnw_jsonl_parse(j, b->lines + it->line_off, it->line_len, &e);
	if (it->rc < 0) {
		it->status = e.status;
		arena_bytes(a, e.msg, strlen(e.msg) + 1);
	} else if (it->rc > 0) {
		it->id = j->id;
		arena_bytes(a, j->text.p, j->text.n);
		if (j->src != WNW_SRC_LINES)
			arena_bytes(a, j->json, j->json_len);
		for (size_t k = 0; k < j->nfields; k++) {
			const struct wnw_jfield *f = &j->fields[k];
			if (f->type == WNW_U64)
				arena_add(a, &f->u, sizeof f->u);
			else if (f->type == WNW_F64)
				arena_add(a, &f->d, sizeof f->d);
			else
				arena_bytes(a, f->s.p, f->s.n);
		}
	}
	if (a->failed) {
		it->rc = -1;
		it->status = WNW_EXIT_SYSTEM;
	}
}

static void batch_add(struct wnw_cmd *cmd, struct batch *b, const char *line, size_t len, uint64_t lineno)
{
	if (len > b->cap - b->used || !b->lines) {
		size_t cap = b->cap ? b->cap : 1u << 20;
		while (cap - b->used < len)
			cap *= 2;
		b->lines = wnw_xrealloc(cmd, b->lines, cap);
		b->cap = cap;
	}
	if (len)
		memcpy(b->lines + b->used, line, len);
	struct item *it = &b->items[b->n++];
	memset(it, 0, sizeof *it);
	it->line_off = b->used;
	it->line_len = len;
	it->lineno = lineno;
	b->used += len;
}

struct run {
	struct wnw_cmd *cmd;
	struct opts *o;
	struct wnw_writer *w;
	struct wnw_pool *pool;
	struct batch b;
	uint64_t records, skipped;
};

/* Parses the batch on the pool, then writes its records in order; a bad line stops here, at the
 * first one in input order, unless --skip-bad. */
static void flush_batch(struct run *r, const char *name)
{
	struct batch *b = &r->b;
	wnw_pool_run(r->pool, b->n, parse_item, b);
	for (size_t i = 0; i < b->n; i++) {
		const struct item *it = &b->items[i];
		const char *p = b->arenas[it->thread].p + it->off;
		size_t n;
		if (it->rc < 0) {
			if (it->status == WNW_EXIT_SYSTEM)
				wnw_die(r->cmd, WNW_EXIT_SYSTEM, "out of memory");
			if (!r->o->skip_bad)
				wnw_die(r->cmd, it->status, "%s: line %llu: %s", name, (unsigned long long)it->lineno,
					take_bytes(&p, &n));
			r->skipped++;
			continue;
		}
		if (it->rc == 0)
			continue;
		wnw_w_u64(r->w, r->o->id ? it->id : r->records);
		const char *s = take_bytes(&p, &n);
		wnw_w_bytes(r->w, s, n);
		if (r->o->src != WNW_SRC_LINES) {
			s = take_bytes(&p, &n);
			wnw_w_bytes(r->w, s, n);
		}
		for (size_t k = 0; k < b->js[0].nfields; k++) {
			uint8_t type = b->js[0].fields[k].type;
			if (type == WNW_U64) {
				uint64_t u;
				memcpy(&u, p, sizeof u);
				p += sizeof u;
				wnw_w_u64(r->w, u);
			} else if (type == WNW_F64) {
				double d;
				memcpy(&d, p, sizeof d);
				p += sizeof d;
				wnw_w_f64(r->w, d);
			} else {
				s = take_bytes(&p, &n);
				wnw_w_bytes(r->w, s, n);
			}
		}
		write_vectors(r->cmd, r->o, r->w, r->records);
		wnw_xend(r->cmd, r->w);
		r->records++;
	}
	b->n = 0;
	b->used = 0;
	for (int t = 0; t < wnw_pool_threads(r->pool); t++)
		b->arenas[t].n = 0;
}

/* A UTF-8 byte order mark, which some editors put at the start of a file, is not part of its first
 * line. */
static void skip_bom(const char **line, size_t *len)
{
	if (*len >= 3 && memcmp(*line, "\xef\xbb\xbf", 3) == 0) {
		*line += 3;
		*len -= 3;
	}
}

/* Packs one input file. */
static void pack_file(struct run *r, const char *path, uint64_t *finished)
{
	struct wnw_err e;
	struct wnw_lines *l = wnw_lines_open(path, r->o->max_line, &e);
	if (!l)
		wnw_die_err(r->cmd, &e);
	const char *name = wnw_lines_name(l), *line;
	size_t len;
	int rc, nthreads = wnw_pool_threads(r->pool);
	if (r->o->src == WNW_SRC_TSV) {
		rc = wnw_lines_next(l, &line, &len, &e);
		if (rc < 0)
			wnw_die_err(r->cmd, &e);
		if (rc == 0)
			wnw_die(r->cmd, WNW_EXIT_DATA, "%s: no header row", name);
		skip_bom(&line, &len);
		for (int t = 0; t < nthreads; t++)
			if (wnw_jsonl_tsv_header(&r->b.js[t], line, len, &e) < 0)
				wnw_die(r->cmd, e.status, "%s: line 1: %s", name, e.msg);
	}
	while ((rc = wnw_lines_next(l, &line, &len, &e)) > 0) {
		if (wnw_lines_lineno(l) == 1)
			skip_bom(&line, &len);
		batch_add(r->cmd, &r->b, line, len, wnw_lines_lineno(l));
		if (r->b.n == BATCH_LINES || r->b.used >= BATCH_BYTES) {
			flush_batch(r, name);
			show_progress(r->cmd, l, *finished, r->records, 0);
		}
	}
	if (rc < 0)
		wnw_die_err(r->cmd, &e);
	flush_batch(r, name);
	uint64_t done, total;
	wnw_lines_position(l, &done, &total);
	*finished += done;
	wnw_lines_close(l);
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct opts o = {.src = WNW_SRC_JSONL, .max_line = WNW_LINES_DEFAULT_MAX};
	struct wnw_err e;
	int ch;

	wnw_cmd_init(&cmd, &spec, argc, argv);
	wnw_cmd_repeatable(&cmd, ",field,vectors,");
	while ((ch = wnw_cmd_opt(&cmd)) != -1) {
		switch (ch) {
		case OPT_LINES:
		case OPT_TSV:
			if (o.src != WNW_SRC_JSONL)
				wnw_usage(&cmd, "--lines and --tsv exclude each other");
			o.src = ch == OPT_LINES ? WNW_SRC_LINES : WNW_SRC_TSV;
			break;
		case OPT_TEXT:
			o.text = cmd.optarg;
			break;
		case OPT_ID:
			o.id = cmd.optarg;
			break;
		case OPT_FIELD:
			o.fields = wnw_xrealloc(&cmd, o.fields, (o.nfields + 1) * sizeof *o.fields);
			o.fields[o.nfields++] = cmd.optarg;
			break;
		case OPT_VECTORS:
			add_vectors(&cmd, &o, cmd.optarg);
			break;
		case OPT_SKIP_BAD:
			o.skip_bad = 1;
			break;
		case OPT_MAX_LINE:
			o.max_line = wnw_opt_size(&cmd, "--max-line", cmd.optarg);
			if (o.max_line > (256u << 20))
				wnw_usage(&cmd, "--max-line: '%s' is more than 256M", cmd.optarg);
			break;
		default:
			wnw_usage(&cmd, "unknown option");
		}
	}
	int nin = wnw_cmd_nargs(&cmd);
	char **in = wnw_cmd_args(&cmd);
	static char dash[] = "-";
	char *stdin_only[] = {dash};
	int have_text = nin > 0 || o.nvecs == 0;
	if (nin == 0 && have_text) {
		in = stdin_only;
		nin = 1;
	}
	if (o.src == WNW_SRC_LINES && (o.text || o.id || o.nfields))
		wnw_usage(&cmd, "--lines takes no --text, --id or --field: plain lines have no members");
	if (!have_text && (o.text || o.id || o.nfields || o.src != WNW_SRC_JSONL || o.skip_bad))
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

	struct run r = {.cmd = &cmd, .o = &o};
	if (!(r.pool = wnw_pool_new(cmd.threads)))
		wnw_die(&cmd, WNW_EXIT_SYSTEM, "cannot start %d threads", cmd.threads);
	int nthreads = wnw_pool_threads(r.pool);
	r.b.js = wnw_xcalloc(&cmd, (size_t)nthreads, sizeof *r.b.js);
	r.b.arenas = wnw_xcalloc(&cmd, (size_t)nthreads, sizeof *r.b.arenas);
	r.b.items = wnw_xcalloc(&cmd, BATCH_LINES, sizeof *r.b.items);
	for (int t = 0; t < nthreads; t++)
		if (wnw_jsonl_init(&r.b.js[t], o.src, o.text, o.id, o.fields, o.nfields, &e) < 0)
			wnw_die_err(&cmd, &e);
	for (size_t i = 0; i < o.nvecs; i++) {
		if (wnw_npy_open(&o.vecs[i].in, o.vecs[i].path, &e) < 0)
			wnw_die_err(&cmd, &e);
		o.vecs[i].row = wnw_xmalloc(&cmd, (size_t)o.vecs[i].in.info.cols * sizeof(float));
	}
	struct wnw_schema schema;
	make_schema(&cmd, &o, &r.b.js[0], have_text, &schema);
	r.w = wnw_xcreate(&cmd, &schema);
	uint64_t finished = 0;

	if (!have_text) {
		uint64_t rows = o.vecs[0].in.info.rows;
		for (uint64_t row = 0; row < rows; row++) {
			wnw_w_u64(r.w, row);
			write_vectors(&cmd, &o, r.w, row);
			wnw_xend(&cmd, r.w);
			if ((row & 4095) == 0)
				show_progress(&cmd, NULL, 0, row + 1, 0);
		}
		r.records = rows;
	}
	for (int f = 0; have_text && f < nin; f++)
		pack_file(&r, in[f], &finished);
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
	for (int t = 0; t < nthreads; t++) {
		wnw_jsonl_free(&r.b.js[t]);
		free(r.b.arenas[t].p);
	}
	free(r.b.js);
	free(r.b.arenas);
	free(r.b.items);
	free(r.b.lines);
	wnw_pool_free(r.pool);
	wnw_schema_free(&schema);
	return wnw_cmd_done(&cmd);
}
