/* jsonl.c: one input line to the fields of a record, with jansson as the JSON parser. */
#include "jsonl.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(struct wnw_buf *b, size_t more)
{
	if (more <= b->cap - b->n)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->n < more) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int buf_add(struct wnw_buf *b, const void *s, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	return 0;
}

int wnw_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + n;
	while (s < end) {
		unsigned c = *s;
		if (c < 0x80) {
			s++;
			continue;
		}
		size_t k;
		unsigned cp, min;
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if ((size_t)(end - s) <= k)
			return 0;
		for (size_t i = 1; i <= k; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += k + 1;
	}
	return 1;
}

int wnw_jsonl_field_spec(const char *arg, char *name, size_t cap, uint8_t *type, struct wnw_err *e)
{
	const char *colon = strrchr(arg, ':');
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
	const char *t = colon ? colon + 1 : "text";
	if (n == 0 || n >= cap || n > WNW_MAX_NAME)
		return wnw_errf(e, WNW_EXIT_USAGE, "bad field name in '%s'", arg);
	if (strcmp(t, "u64") == 0)
		*type = WNW_U64;
	else if (strcmp(t, "f64") == 0)
		*type = WNW_F64;
	else if (strcmp(t, "text") == 0)
		*type = WNW_BYTES;
	else
		return wnw_errf(e, WNW_EXIT_USAGE, "bad field type in '%s' (u64, f64 or text)", arg);
	memcpy(name, arg, n);
	name[n] = 0;
	return 0;
}

static int add_part(struct wnw_jsonl *j, const char *lit, size_t len, const char *member, size_t mlen)
{
	struct wnw_tpart *p = realloc(j->parts, (j->nparts + 1) * sizeof *p);
	if (!p)
		return -1;
	j->parts = p;
	p += j->nparts++;
	memset(p, 0, sizeof *p);
	p->col = -1;
	if (member) {
		p->member = strndup(member, mlen);
		return p->member ? 0 : -1;
	}
	p->lit = malloc(len ? len : 1);
	if (!p->lit)
		return -1;
	memcpy(p->lit, lit, len);
	p->len = len;
	return 0;
}

/* Splits a template into literal and member parts. */
static int parse_template(struct wnw_jsonl *j, const char *t, struct wnw_err *e)
{
	struct wnw_buf lit = {0};
	int rc = 0;
	for (const char *s = t; *s && rc == 0;) {
		if (*s == '\\') {
			char c = s[1] == 'n' ? '\n' : s[1] == 't' ? '\t' : s[1] == 'r' ? '\r' : s[1] == '\\' ? '\\' : 0;
			if (!c) {
				rc = wnw_errf(e, WNW_EXIT_USAGE, "template '%s': unknown escape '\\%.1s'", t, s + 1);
				break;
			}
			rc = buf_add(&lit, &c, 1);
			s += 2;
		} else if ((*s == '{' && s[1] == '{') || (*s == '}' && s[1] == '}')) {
			rc = buf_add(&lit, s, 1);
			s += 2;
		} else if (*s == '{') {
			const char *close = strchr(s, '}');
			if (!close || close == s + 1 || memchr(s + 1, '{', (size_t)(close - s - 1))) {
				rc = wnw_errf(e, WNW_EXIT_USAGE, "template '%s': bad member reference", t);
				break;
			}
			if (lit.n && add_part(j, lit.p, lit.n, NULL, 0) < 0)
				rc = -1;
			lit.n = 0;
			if (rc == 0 && add_part(j, NULL, 0, s + 1, (size_t)(close - s - 1)) < 0)
				rc = -1;
			s = close + 1;
		} else if (*s == '}') {
			rc = wnw_errf(e, WNW_EXIT_USAGE, "template '%s': unmatched '}' (write '}}')", t);
		} else {
			rc = buf_add(&lit, s, 1);
			s++;
		}
		if (rc < 0 && e->msg[0] == 0)
			wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	if (rc == 0 && lit.n && add_part(j, lit.p, lit.n, NULL, 0) < 0)
		rc = wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	free(lit.p);
	return rc;
}

int wnw_jsonl_init(struct wnw_jsonl *j, enum wnw_src src, const char *text, const char *id,
		   const char *const *fields, size_t nfields, struct wnw_err *e)
{
	memset(j, 0, sizeof *j);
	j->src = src;
	j->id_col = -1;
	e->msg[0] = 0;
	if (src == WNW_SRC_LINES) {
		if (text || id || nfields)
			return wnw_errf(e, WNW_EXIT_USAGE, "plain lines have no members to choose from");
		return 0;
	}
	if (!text)
		text = "text";
	if (strchr(text, '{') || strchr(text, '}')) {
		if (parse_template(j, text, e) < 0)
			return -1;
	} else if (add_part(j, NULL, 0, text, strlen(text)) < 0) {
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	if (id && !(j->id_member = strdup(id)))
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	if (nfields) {
		j->fields = calloc(nfields, sizeof *j->fields);
		if (!j->fields)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	for (size_t i = 0; i < nfields; i++) {
		char name[WNW_MAX_NAME + 1];
		struct wnw_jfield *f = &j->fields[j->nfields];
		if (wnw_jsonl_field_spec(fields[i], name, sizeof name, &f->type, e) < 0)
			return -1;
		if (strcmp(name, "id") == 0 || strcmp(name, "text") == 0 || strcmp(name, "json") == 0)
			return wnw_errf(e, WNW_EXIT_USAGE, "--field %s: '%s' is a field pack always writes",
					fields[i], name);
		for (size_t k = 0; k < j->nfields; k++)
			if (j->fields[k].name && strcmp(j->fields[k].name, name) == 0)
				return wnw_errf(e, WNW_EXIT_USAGE, "--field %s: '%s' given twice", fields[i], name);
		f->col = -1;
		if (!(f->name = strdup(name)))
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		j->nfields++;
	}
	return 0;
}

static int find_col(const struct wnw_jsonl *j, const char *name, struct wnw_err *e)
{
	for (size_t i = 0; i < j->ncols; i++)
		if (strcmp(j->cols[i], name) == 0)
			return (int)i;
	return wnw_errf(e, WNW_EXIT_DATA, "the header has no column '%s'", name);
}

/* Splits a TSV row into j->cell[0, j->ncols) (the header row sets ncols). */
static int split_row(struct wnw_jsonl *j, const char *line, size_t len, size_t *count)
{
	size_t n = 0;
	const char *s = line, *end = line + len;
	for (;;) {
		const char *tab = memchr(s, '\t', (size_t)(end - s));
		const char *stop = tab ? tab : end;
		if (n < j->ncols) {
			j->cell[n] = s;
			j->cell_len[n] = (size_t)(stop - s);
		}
		n++;
		if (!tab)
			break;
		s = tab + 1;
	}
	*count = n;
	return 0;
}

static size_t strip_cr(const char *line, size_t len)
{
	return len && line[len - 1] == '\r' ? len - 1 : len;
}

int wnw_jsonl_tsv_header(struct wnw_jsonl *j, const char *line, size_t len, struct wnw_err *e)
{
	len = strip_cr(line, len);
	/* Each input file has its own header row: forget the previous one. */
	for (size_t i = 0; i < j->ncols; i++)
		free(j->cols[i]);
	free(j->cols);
	free(j->cell);
	free(j->cell_len);
	j->cols = NULL;
	j->cell = NULL;
	j->cell_len = NULL;
	j->ncols = 0;
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		n += line[i] == '\t';
	if (len == 0 || n > WNW_MAX_FIELDS)
		return wnw_errf(e, WNW_EXIT_DATA, "the header row names no columns or too many");
	j->cols = calloc(n, sizeof *j->cols);
	j->cell = calloc(n, sizeof *j->cell);
	j->cell_len = calloc(n, sizeof *j->cell_len);
	if (!j->cols || !j->cell || !j->cell_len)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	j->ncols = n;
	size_t count;
	split_row(j, line, len, &count);
	for (size_t i = 0; i < n; i++) {
		if (!wnw_utf8_valid(j->cell[i], j->cell_len[i]))
			return wnw_errf(e, WNW_EXIT_DATA, "column %zu of the header row is not valid UTF-8", i + 1);
		if (!(j->cols[i] = strndup(j->cell[i], j->cell_len[i])))
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		for (size_t k = 0; k < i; k++)
			if (strcmp(j->cols[k], j->cols[i]) == 0)
				return wnw_errf(e, WNW_EXIT_DATA, "the header row names column '%s' twice",
						j->cols[i]);
	}
	for (size_t i = 0; i < j->nparts; i++)
		if (j->parts[i].member && (j->parts[i].col = find_col(j, j->parts[i].member, e)) < 0)
			return -1;
	if (j->id_member && (j->id_col = find_col(j, j->id_member, e)) < 0)
		return -1;
	for (size_t i = 0; i < j->nfields; i++)
		if ((j->fields[i].col = find_col(j, j->fields[i].name, e)) < 0)
			return -1;
	return 0;
}

static int jdump_cb(const char *s, size_t n, void *data) { return buf_add(data, s, n); }

/* Appends a member's value as text: a string as it is, anything else as compact JSON. */
static int add_value_text(struct wnw_buf *b, json_t *v)
{
	if (json_is_string(v))
		return buf_add(b, json_string_value(v), json_string_length(v));
	return json_dump_callback(v, jdump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

static json_t *member(struct wnw_jsonl *j, const char *name, struct wnw_err *e)
{
	json_t *v = json_object_get(j->root, name);
	if (!v || json_is_null(v))
		wnw_errf(e, WNW_EXIT_DATA, "member \"%s\" is %s", name, v ? "null" : "missing");
	return v && !json_is_null(v) ? v : NULL;
}

static int json_u64(json_t *v, const char *name, uint64_t *out, struct wnw_err *e)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return wnw_errf(e, WNW_EXIT_DATA, "member \"%s\" is not an unsigned integer", name);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int text_u64(const char *s, size_t n, const char *name, uint64_t *out, struct wnw_err *e)
{
	uint64_t x = 0;
	if (n == 0)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			goto bad;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
bad:
	return wnw_errf(e, WNW_EXIT_DATA, "column \"%s\" is not an unsigned integer", name);
}

static int text_f64(struct wnw_jsonl *j, const char *s, size_t n, const char *name, double *out,
		    struct wnw_err *e)
{
	j->tmp.n = 0;
	if (n == 0 || n > 400 || buf_add(&j->tmp, s, n) < 0 || buf_add(&j->tmp, "", 1) < 0)
		goto bad;
	char *end;
	errno = 0;
	double d = strtod(j->tmp.p, &end);
	if (*end || end == j->tmp.p || isspace((unsigned char)j->tmp.p[0]))
		goto bad;
	*out = d;
	return 0;
bad:
	return wnw_errf(e, WNW_EXIT_DATA, "column \"%s\" is not a number", name);
}

static int parse_json(struct wnw_jsonl *j, const char *line, size_t len, struct wnw_err *e)
{
	json_error_t jerr;
	json_decref(j->root);
	json_t *root = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	j->root = root;
	if (!root)
		return wnw_errf(e, WNW_EXIT_DATA, "%s", jerr.text);
	if (!json_is_object(root))
		return wnw_errf(e, WNW_EXIT_DATA, "not a JSON object");
	j->json = line;
	j->json_len = len;
	for (size_t i = 0; i < j->nparts; i++) {
		const struct wnw_tpart *p = &j->parts[i];
		if (!p->member) {
			if (buf_add(&j->text, p->lit, p->len) < 0)
				return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
			continue;
		}
		json_t *v = member(j, p->member, e);
		if (!v)
			return -1;
		if (j->nparts == 1 && !json_is_string(v))
			return wnw_errf(e, WNW_EXIT_DATA, "member \"%s\" is not a string", p->member);
		if (add_value_text(&j->text, v) < 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	if (j->id_member) {
		json_t *v = member(j, j->id_member, e);
		if (!v || json_u64(v, j->id_member, &j->id, e) < 0)
			return -1;
	}
	for (size_t i = 0; i < j->nfields; i++) {
		struct wnw_jfield *f = &j->fields[i];
		json_t *v = member(j, f->name, e);
		if (!v)
			return -1;
		if (f->type == WNW_U64) {
			if (json_u64(v, f->name, &f->u, e) < 0)
				return -1;
		} else if (f->type == WNW_F64) {
			if (!json_is_number(v))
				return wnw_errf(e, WNW_EXIT_DATA, "member \"%s\" is not a number", f->name);
			f->d = json_number_value(v);
		} else {
			f->s.n = 0;
			if (add_value_text(&f->s, v) < 0)
				return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		}
	}
	return 1;
}

static int parse_tsv(struct wnw_jsonl *j, const char *line, size_t len, struct wnw_err *e)
{
	size_t count;
	split_row(j, line, len, &count);
	if (count != j->ncols)
		return wnw_errf(e, WNW_EXIT_DATA, "%zu columns, the header has %zu", count, j->ncols);
	for (size_t i = 0; i < count; i++)
		if (!wnw_utf8_valid(j->cell[i], j->cell_len[i]))
			return wnw_errf(e, WNW_EXIT_DATA, "column \"%s\" is not valid UTF-8", j->cols[i]);
	for (size_t i = 0; i < j->nparts; i++) {
		const struct wnw_tpart *p = &j->parts[i];
		int rc = p->member ? buf_add(&j->text, j->cell[p->col], j->cell_len[p->col])
				   : buf_add(&j->text, p->lit, p->len);
		if (rc < 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	if (j->id_member &&
	    text_u64(j->cell[j->id_col], j->cell_len[j->id_col], j->id_member, &j->id, e) < 0)
		return -1;
	for (size_t i = 0; i < j->nfields; i++) {
		struct wnw_jfield *f = &j->fields[i];
		const char *s = j->cell[f->col];
		size_t n = j->cell_len[f->col];
		f->s.n = 0;
		if ((f->type == WNW_U64 && text_u64(s, n, f->name, &f->u, e) < 0) ||
		    (f->type == WNW_F64 && text_f64(j, s, n, f->name, &f->d, e) < 0))
			return -1;
		if (f->type == WNW_BYTES && buf_add(&f->s, s, n) < 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	/* The row as a JSON object of strings, in column order. */
	json_t *obj = json_object();
	int rc = obj ? 0 : -1;
	for (size_t i = 0; i < count && rc == 0; i++)
		rc = json_object_set_new(obj, j->cols[i], json_stringn(j->cell[i], j->cell_len[i]));
	j->jsonbuf.n = 0;
	if (rc == 0)
		rc = json_dump_callback(obj, jdump_cb, &j->jsonbuf, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (rc < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	j->json = j->jsonbuf.p;
	j->json_len = j->jsonbuf.n;
	return 1;
}

int wnw_jsonl_parse(struct wnw_jsonl *j, const char *line, size_t len, struct wnw_err *e)
{
	j->text.n = 0;
	j->id = 0;
	if (j->src == WNW_SRC_LINES) {
		len = strip_cr(line, len);
		if (!wnw_utf8_valid(line, len))
			return wnw_errf(e, WNW_EXIT_DATA, "not valid UTF-8");
		if (buf_add(&j->text, line, len) < 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		return 1;
	}
	if (strip_cr(line, len) == 0)
		return 0;
	if (j->src == WNW_SRC_JSONL)
		return parse_json(j, line, len, e);
	len = strip_cr(line, len);
	return len ? parse_tsv(j, line, len, e) : 0;
}

void wnw_jsonl_free(struct wnw_jsonl *j)
{
	for (size_t i = 0; i < j->nparts; i++) {
		free(j->parts[i].lit);
		free(j->parts[i].member);
	}
	free(j->parts);
	free(j->id_member);
	for (size_t i = 0; i < j->nfields; i++) {
		free(j->fields[i].name);
		free(j->fields[i].s.p);
	}
	free(j->fields);
	for (size_t i = 0; i < j->ncols; i++)
		free(j->cols[i]);
	free(j->cols);
	free(j->cell);
	free(j->cell_len);
	json_decref(j->root);
	free(j->text.p);
	free(j->jsonbuf.p);
	free(j->tmp.p);
	memset(j, 0, sizeof *j);
}
