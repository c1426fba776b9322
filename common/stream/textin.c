/* textin.c: text inputs to records (textin.h). */
#include "textin.h"

#include <stdlib.h>
#include <string.h>

void wnw_skip_bom(const char **line, size_t *len)
{
	if (*len >= 3 && memcmp(*line, "\xef\xbb\xbf", 3) == 0) {
		*line += 3;
		*len -= 3;
	}
}

int wnw_textin_start(struct wnw_lines *l, struct wnw_jsonl *js, int njs, struct wnw_err *e)
{
	enum wnw_src src = js[0].src;
	const char *name = wnw_lines_name(l), *line;
	size_t len;
	int rc;
	char first;
	if (src == WNW_SRC_CSV)
		wnw_lines_split(l, WNW_SPLIT_CSV);
	if (src == WNW_SRC_JSONL) {
		if ((rc = wnw_lines_peek(l, &first, e)) < 0)
			return -1;
		if (rc > 0 && first == '[')
			wnw_lines_split(l, WNW_SPLIT_JSON_ARRAY);
		for (int t = 0; t < njs; t++)
			js[t].compact = rc > 0 && first == '[';
	}
	if (src != WNW_SRC_TSV && src != WNW_SRC_CSV)
		return 0;
	if ((rc = wnw_lines_next(l, &line, &len, e)) < 0)
		return -1;
	if (rc == 0)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: no header row", name);
	wnw_skip_bom(&line, &len);
	for (int t = 0; t < njs; t++)
		if (wnw_jsonl_tsv_header(&js[t], line, len, e) < 0) {
			char msg[sizeof e->msg];
			memcpy(msg, e->msg, sizeof msg);
			return wnw_errf(e, e->status, "%s: line 1: %s", name, msg);
		}
	return 0;
}

struct wnw_lines *wnw_textin_open(const char *path, size_t maxline, struct wnw_jsonl *js, int njs,
				  struct wnw_err *e)
{
	struct wnw_lines *l = wnw_lines_open(path, maxline, e);
	if (l && wnw_textin_start(l, js, njs, e) < 0) {
		wnw_lines_close(l);
		return NULL;
	}
	return l;
}

/* --- batches ------------------------------------------------------------------------------------- */

/* The outcome of parsing one line: for a record, its fields serialized in the arena of the thread
 * that parsed it (from off); for a bad line, the message there. */
struct wnw_jitem {
	size_t line_off, line_len;
	uint64_t lineno;
	int rc, status, thread, id_num;
	uint64_t id;
	size_t off;
};

struct wnw_jarena {
	struct wnw_buf b;
	int failed;
};

int wnw_jbatch_init(struct wnw_jbatch *b, int nthreads, enum wnw_src src, const char *text, const char *id,
		    const char *const *fields, size_t nfields, int chat, struct wnw_err *e)
{
	memset(b, 0, sizeof *b);
	b->js = calloc((size_t)nthreads, sizeof *b->js);
	b->arenas = calloc((size_t)nthreads, sizeof *b->arenas);
	b->items = calloc(WNW_JBATCH_LINES, sizeof *b->items);
	b->vals = calloc(nfields ? nfields : 1, sizeof *b->vals);
	if (!b->js || !b->arenas || !b->items || !b->vals)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	for (; b->nthreads < nthreads; b->nthreads++) {
		struct wnw_jsonl *j = &b->js[b->nthreads];
		if (wnw_jsonl_init(j, src, text, id, fields, nfields, e) < 0 || (chat && wnw_jsonl_chat(j, e) < 0)) {
			wnw_jsonl_free(j);
			return -1;
		}
	}
	return 0;
}

static void arena_add(struct wnw_jarena *a, const void *p, size_t n)
{
	if (!a->failed && wnw_buf_add(&a->b, p, n) < 0)
		a->failed = 1;
}

/* Bytes into the arena: a copy, or by_ref a pointer valid until the thread's parser takes another line. */
static void arena_bytes(struct wnw_jarena *a, const char *p, size_t n, int by_ref)
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
	struct wnw_jbatch *b = ctx;
	struct wnw_jitem *it = &b->items[i];
	struct wnw_jsonl *j = &b->js[thread];
	struct wnw_jarena *a = &b->arenas[thread];
	struct wnw_err e;
	it->thread = thread;
	it->off = a->b.n;
	int ref = b->solo != NULL;
	/* a batch of empty lines has no line buffer at all */
	const char *line = ref ? b->solo : b->lines.p ? b->lines.p + it->line_off : "";
	it->rc = wnw_jsonl_parse(j, line, it->line_len, &e);
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

int wnw_jbatch_add(struct wnw_jbatch *b, const char *line, size_t len, uint64_t lineno, struct wnw_err *e)
{
	size_t off = b->lines.n;
	if (wnw_buf_add(&b->lines, line, len) < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	struct wnw_jitem *it = &b->items[b->n++];
	memset(it, 0, sizeof *it);
	it->line_off = off;
	it->line_len = len;
	it->lineno = lineno;
	return 0;
}

void wnw_jbatch_solo(struct wnw_jbatch *b, const char *line, size_t len, uint64_t lineno)
{
	memset(&b->items[0], 0, sizeof b->items[0]);
	b->items[0].line_len = len;
	b->items[0].lineno = lineno;
	b->n = 1;
	b->solo = line;
}

int wnw_jbatch_full(const struct wnw_jbatch *b) { return b->n == WNW_JBATCH_LINES || b->lines.n >= WNW_JBATCH_BYTES; }

void wnw_jbatch_parse(struct wnw_jbatch *b, struct wnw_pool *pool) { wnw_pool_run(pool, b->n, parse_item, b); }

void wnw_jbatch_get(struct wnw_jbatch *b, size_t i, struct wnw_jrec *r)
{
	const struct wnw_jitem *it = &b->items[i];
	const struct wnw_jsonl *j = &b->js[0];
	int ref = b->solo != NULL;
	memset(r, 0, sizeof *r);
	r->rc = it->rc;
	r->status = it->status;
	r->lineno = it->lineno;
	r->vals = b->vals;
	if (it->rc == 0)
		return;
	/* (an empty line leaves nothing in the arena, which may not even be allocated yet) */
	const char *p = b->arenas[it->thread].b.p + it->off;
	if (it->rc < 0) {
		size_t n;
		r->msg = it->status == WNW_EXIT_SYSTEM ? "out of memory" : take_bytes(&p, &n, 0);
		return;
	}
	r->id = it->id;
	r->id_num = it->id_num;
	r->text = take_bytes(&p, &r->ntext, ref);
	if (j->src != WNW_SRC_LINES)
		r->json = take_bytes(&p, &r->njson, ref);
	if (j->id_member)
		r->sid = take_bytes(&p, &r->nsid, ref);
	for (size_t k = 0; k < j->nfields; k++) {
		struct wnw_jval *v = &b->vals[k];
		if (j->fields[k].type == WNW_U64) {
			memcpy(&v->u, p, sizeof v->u);
			p += sizeof v->u;
		} else if (j->fields[k].type == WNW_F64) {
			memcpy(&v->d, p, sizeof v->d);
			p += sizeof v->d;
		} else {
			v->s = take_bytes(&p, &v->n, ref);
		}
	}
}

void wnw_jbatch_clear(struct wnw_jbatch *b)
{
	b->n = 0;
	b->lines.n = 0;
	b->solo = NULL;
	for (int t = 0; t < b->nthreads; t++)
		b->arenas[t].b.n = 0;
}

void wnw_jbatch_free(struct wnw_jbatch *b)
{
	for (int t = 0; t < b->nthreads; t++)
		wnw_jsonl_free(&b->js[t]);
	for (int t = 0; b->arenas && t < b->nthreads; t++)
		free(b->arenas[t].b.p);
	free(b->js);
	free(b->arenas);
	free(b->items);
	free(b->lines.p);
	free(b->vals);
	memset(b, 0, sizeof *b);
}
