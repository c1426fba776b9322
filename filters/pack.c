/* pack: JSONL, JSON arrays, CSV, TSV or plain text lines, and embedding matrices from .npy files, to a
 * winnow stream. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jsonl.h"
#include "lines.h"
#include "npy.h"
#include "par.h"
#include "prog.h"

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
	int rc, status, thread, id_num;
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
	/* a batch of one line of BATCH_BYTES or more: the line where the reader holds it, and the arena
	 * holding pointers to the parser's results rather than copies (pack(1), MEMORY) */
	const char *solo;
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

/* Bytes into the arena: a copy, or by_ref a pointer valid until the thread's parser takes another line. */
static void arena_bytes(struct arena *a, const char *p, size_t n, int by_ref)
{
	arena_add(a, &n, sizeof n);
	if (by_ref)
		arena_add(a, &p, sizeof p);
	else
		arena_add(a, p, n);
}

static const char *take_bytes(const char **p, size_t *n, int by_ref)
{
	memcpy(n, *p, sizeof *n);
	const char *s = *p + sizeof *n;
	if (by_ref) {
		const char *q;
		memcpy(&q, s, sizeof q);
		*p += sizeof *n + sizeof q;
		return q;
	}
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
	int ref = b->solo != NULL;
	it->rc = wnw_jsonl_parse(j, ref ? b->solo : b->lines + it->line_off, it->line_len, &e);
	if (it->rc < 0) {
		it->status = e.status;
		arena_bytes(a, e.msg, strlen(e.msg) + 1, 0);
	} else if (it->rc > 0) {
		it->id = j->id;
		it->id_num = j->id_num;
		arena_bytes(a, j->text.p, j->text.n, ref);
		if (j->src != WNW_SRC_LINES)
			arena_bytes(a, j->json, j->json_len, ref);
		if (j->id_member)
			arena_bytes(a, j->sid.p, j->sid.n, ref);
		for (size_t k = 0; k < j->nfields; k++) {
			const struct wnw_jfield *f = &j->fields[k];
			if (f->type == WNW_U64)
				arena_add(a, &f->u, sizeof f->u);
			else if (f->type == WNW_F64)
				arena_add(a, &f->d, sizeof f->d);
			else
				arena_bytes(a, f->s.p, f->s.n, ref);
		}
	}
	if (a->failed) {
		it->rc = -1;
		it->status = WNW_EXIT_SYSTEM;
	}
}

/* line NULL: a solo line, which is not copied. */
static void batch_add(struct wnw_cmd *cmd, struct batch *b, const char *line, size_t len, uint64_t lineno)
{
	if (!line) {
		memset(&b->items[b->n], 0, sizeof b->items[0]);
		b->items[b->n].line_len = len;
		b->items[b->n++].lineno = lineno;
		return;
	}
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

/* The set of string ids seen, as their hashes: 8 bytes a slot, at most 7/8 full (h | 2^63 marks a
 * used slot; the hashes have 63 bits). */
struct idset {
	uint64_t *slot;
	size_t mask, n;
};

struct run {
	struct wnw_cmd *cmd;
	struct opts *o;
	struct wnw_writer *w; /* made at the first record, whose id decides between numbers and strings */
	struct wnw_schema schema;
	int have_text;
	int sid;                 /* string ids: -1 until the first record tells */
	struct idset seen;       /* string ids */
	char *const *files;
	uint32_t file;
	struct wnw_pool *pool;
	struct batch b;
	uint64_t records, skipped;
};

static void start_output(struct run *r, int sid)
{
	r->sid = sid;
	make_schema(r->cmd, r->o, &r->b.js[0], r->have_text, sid, &r->schema);
	r->w = wnw_xcreate(r->cmd, &r->schema);
}

static void idset_grow(struct wnw_cmd *cmd, struct idset *s)
{
	size_t cap = s->slot ? 2 * (s->mask + 1) : 1u << 16;
	uint64_t *slot = wnw_xcalloc(cmd, cap, sizeof *slot);
	for (size_t i = 0; s->slot && i <= s->mask; i++) {
		size_t k = s->slot[i] & (cap - 1);
		while (s->slot[i] && slot[k])
			k = (k + 1) & (cap - 1);
		slot[k] = s->slot[i];
	}
	free(s->slot);
	s->slot = slot;
	s->mask = cap - 1;
}

/* Adds h; returns 0 when it was there already. */
static int idset_add(struct wnw_cmd *cmd, struct idset *s, uint64_t h)
{
	if (!s->slot || 8 * (s->n + 1) > 7 * (s->mask + 1))
		idset_grow(cmd, s);
	uint64_t key = h | 1ull << 63;
	size_t k = h & s->mask;
	for (; s->slot[k]; k = (k + 1) & s->mask)
		if (s->slot[k] == key)
			return 0;
	s->slot[k] = key;
	s->n++;
	return 1;
}

static struct wnw_lines *open_input(struct run *r, const char *path, struct wnw_jsonl *js, int njs);

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
		struct wnw_lines *l = open_input(r, r->files[f], &j, 1);
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
static uint64_t string_id(struct run *r, const struct item *it, const char *sid, size_t n, const char *name,
			  const char *unit)
{
	uint64_t h = wnw_sid_hash(sid, n);
	if (!idset_add(r->cmd, &r->seen, h)) {
		char where[4200];
		first_seen(r, sid, n, it->lineno, where, sizeof where);
		wnw_die(r->cmd, WNW_EXIT_DATA, "%s: %s %llu: id \"%.*s\" %.4096s", name, unit,
			(unsigned long long)it->lineno, n > 200 ? 200 : (int)n, sid, where);
	}
	return h;
}

/* Parses the batch on the pool, then writes its records in order; a bad line stops here, at the
 * first one in input order, unless --skip-bad. */
static void flush_batch(struct run *r, const char *name, const char *unit)
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
				wnw_die(r->cmd, it->status, "%s: %s %llu: %s", name, unit, (unsigned long long)it->lineno,
					take_bytes(&p, &n, 0));
			r->skipped++;
			continue;
		}
		if (it->rc == 0)
			continue;
		int ref = b->solo != NULL;
		const char *text = take_bytes(&p, &n, ref), *json = NULL, *sid = NULL;
		size_t ntext = n, njson = 0, nsid = 0;
		if (r->o->src != WNW_SRC_LINES)
			json = take_bytes(&p, &njson, ref);
		if (r->o->id)
			sid = take_bytes(&p, &nsid, ref);
		if (!r->w)
			start_output(r, r->o->id && !it->id_num);
		if (r->sid)
			wnw_w_u64(r->w, string_id(r, it, sid, nsid, name, unit));
		else if (r->o->id && !it->id_num)
			wnw_die(r->cmd, WNW_EXIT_DATA, "%s: line %llu: id \"%.*s\" is not a number, as the first "
				"record's was (ids are all numbers or all strings)", name, (unsigned long long)it->lineno,
				nsid > 200 ? 200 : (int)nsid, sid);
		else
			wnw_w_u64(r->w, r->o->id ? it->id : r->records);
		if (r->sid)
			wnw_w_bytes(r->w, sid, nsid);
		wnw_w_bytes(r->w, text, ntext);
		if (json)
			wnw_w_bytes(r->w, json, njson);
		const char *s;
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
				s = take_bytes(&p, &n, ref);
				wnw_w_bytes(r->w, s, n);
			}
		}
		write_vectors(r->cmd, r->o, r->w, r->records);
		wnw_xend(r->cmd, r->w);
		r->records++;
	}
	b->n = 0;
	b->used = 0;
	b->solo = NULL;
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

/* Opens an input and readies the parsers js[0, njs) for it: CSV records, a JSON array told by its
 * first byte, the header row of TSV and CSV. */
static struct wnw_lines *open_input(struct run *r, const char *path, struct wnw_jsonl *js, int njs)
{
	struct wnw_err e;
	const char *line;
	size_t len;
	int rc;
	char first;
	struct wnw_lines *l = wnw_lines_open(path, r->o->max_line, &e);
	if (!l)
		wnw_die_err(r->cmd, &e);
	const char *name = wnw_lines_name(l);
	if (r->o->src == WNW_SRC_CSV)
		wnw_lines_split(l, WNW_SPLIT_CSV);
	if (r->o->src == WNW_SRC_JSONL) {
		/* A file whose first byte (after white space and a byte order mark) is '[' holds one array. */
		if ((rc = wnw_lines_peek(l, &first, &e)) < 0)
			wnw_die_err(r->cmd, &e);
		if (rc > 0 && first == '[')
			wnw_lines_split(l, WNW_SPLIT_JSON_ARRAY);
		for (int t = 0; t < njs; t++)
			js[t].compact = rc > 0 && first == '[';
	}
	if (r->o->src == WNW_SRC_TSV || r->o->src == WNW_SRC_CSV) {
		rc = wnw_lines_next(l, &line, &len, &e);
		if (rc < 0)
			wnw_die_err(r->cmd, &e);
		if (rc == 0)
			wnw_die(r->cmd, WNW_EXIT_DATA, "%s: no header row", name);
		skip_bom(&line, &len);
		for (int t = 0; t < njs; t++)
			if (wnw_jsonl_tsv_header(&js[t], line, len, &e) < 0)
				wnw_die(r->cmd, e.status, "%s: line 1: %s", name, e.msg);
	}
	return l;
}

/* Packs one input file. */
static void pack_file(struct run *r, const char *path, uint64_t *finished)
{
	struct wnw_err e;
	struct wnw_lines *l = open_input(r, path, r->b.js, wnw_pool_threads(r->pool));
	const char *name = wnw_lines_name(l), *line;
	size_t len;
	int rc;
	while ((rc = wnw_lines_next(l, &line, &len, &e)) > 0) {
		if (wnw_lines_lineno(l) == 1)
			skip_bom(&line, &len);
		if (len >= BATCH_BYTES) {
			/* a long line is parsed where the reader holds it, alone, and its fields written
			 * from the parser's buffers: no copy of it is made in the batch or the arena */
			flush_batch(r, name, wnw_lines_unit(l));
			batch_add(r->cmd, &r->b, NULL, len, wnw_lines_lineno(l));
			r->b.solo = line;
			flush_batch(r, name, wnw_lines_unit(l));
			continue;
		}
		batch_add(r->cmd, &r->b, line, len, wnw_lines_lineno(l));
		if (r->b.n == BATCH_LINES || r->b.used >= BATCH_BYTES) {
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
	int nthreads = wnw_pool_threads(r.pool);
	r.b.js = wnw_xcalloc(&cmd, (size_t)nthreads, sizeof *r.b.js);
	r.b.arenas = wnw_xcalloc(&cmd, (size_t)nthreads, sizeof *r.b.arenas);
	r.b.items = wnw_xcalloc(&cmd, BATCH_LINES, sizeof *r.b.items);
	for (int t = 0; t < nthreads; t++)
		if (wnw_jsonl_init(&r.b.js[t], o.src, o.text, o.id, o.fields, o.nfields, &e) < 0 ||
		    (o.chat && wnw_jsonl_chat(&r.b.js[t], &e) < 0))
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
			wnw_w_u64(r.w, row);
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
	for (int t = 0; t < nthreads; t++) {
		wnw_jsonl_free(&r.b.js[t]);
		free(r.b.arenas[t].p);
	}
	free(r.b.js);
	free(r.b.arenas);
	free(r.b.items);
	free(r.b.lines);
	wnw_pool_free(r.pool);
	wnw_schema_free(&r.schema);
	free(r.seen.slot);
	return wnw_cmd_done(&cmd);
}
