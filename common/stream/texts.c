/* texts.c: the texts of a stream or a JSONL file (texts.h). */
#include "texts.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jsonl.h"
#include "lines.h"

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int wnw_texts_is_jsonl(const char *path)
{
	return ends_with(path, ".jsonl") || ends_with(path, ".jsonl.gz") || ends_with(path, ".jsonl.zst") ||
	       ends_with(path, ".ndjson");
}

static int64_t each_jsonl(const char *path, const char *field, wnw_text_fn fn, void *ctx, struct wnw_err *e)
{
	struct wnw_jsonl j;
	struct wnw_lines *l = wnw_lines_open(path, WNW_LINES_DEFAULT_MAX, e);
	const char *line;
	size_t len;
	int rc;
	int64_t n = 0;
	char where[64];
	if (l == NULL)
		return -1;
	if (wnw_jsonl_init(&j, WNW_SRC_JSONL, field, NULL, NULL, 0, e) < 0) {
		wnw_lines_close(l);
		return -1;
	}
	while ((rc = wnw_lines_next(l, &line, &len, e)) == 1) {
		snprintf(where, sizeof where, "line %" PRIu64, wnw_lines_lineno(l));
		rc = wnw_jsonl_parse(&j, line, len, e);
		if (rc < 0) {
			char msg[sizeof e->msg];
			snprintf(msg, sizeof msg, "%s", e->msg);
			wnw_errf(e, WNW_EXIT_DATA, "%s: %s: %s", wnw_lines_name(l), where, msg);
			break;
		}
		if (rc == 0)
			continue;
		if ((rc = fn(ctx, (uint64_t)n, (const uint8_t *)j.text.p, j.text.n, where, e)) < 0)
			break;
		n++;
	}
	wnw_jsonl_free(&j);
	wnw_lines_close(l);
	return rc < 0 ? -1 : n;
}

static int64_t each_stream(const char *path, const char *field, wnw_text_fn fn, void *ctx, struct wnw_err *e)
{
	struct wnw_reader *r = wnw_reader_open(path, e);
	struct wnw_rec rec;
	char where[64];
	int got;
	int64_t n = 0;
	if (r == NULL)
		return -1;
	const struct wnw_schema *s = wnw_reader_schema(r);
	int f = wnw_schema_find(s, field), idf = wnw_schema_find(s, "id");
	if (f < 0 || s->fields[f].type != WNW_BYTES) {
		wnw_errf(e, WNW_EXIT_DATA, "%s: %s '%s'", wnw_reader_name(r), f < 0 ? "no field" : "not a bytes field",
			 field);
		wnw_reader_close(r);
		return -1;
	}
	if (idf >= 0 && s->fields[idf].type != WNW_U64)
		idf = -1;
	while ((got = wnw_reader_next(r, &rec, e)) == 1) {
		size_t len;
		const uint8_t *p = wnw_get_bytes(&rec, f, &len);
		snprintf(where, sizeof where, "record %" PRIu64, rec.number);
		if (fn(ctx, idf >= 0 ? wnw_get_u64(&rec, idf) : rec.number - 1, p, len, where, e) < 0) {
			got = -1;
			break;
		}
		n++;
	}
	wnw_reader_close(r);
	return got < 0 ? -1 : n;
}

int64_t wnw_texts_each(const char *path, const char *field, wnw_text_fn fn, void *ctx, struct wnw_err *e)
{
	return wnw_texts_is_jsonl(path) ? each_jsonl(path, field, fn, ctx, e) : each_stream(path, field, fn, ctx, e);
}
