/* jsonl.c: one input line to the fields of a record, with jansson as the JSON parser. */
#include "jsonl.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

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

int wnw_buf_add(struct wnw_buf *b, const void *s, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	return 0;
}

/* 63 bits, so that the id also fits a signed 64-bit JSON integer (jansson's limit, and most readers'). */
uint64_t wnw_sid_hash(const void *s, size_t n) { return XXH3_64bits(s, n) >> 1; }

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

int wnw_jsonl_field_spec(const char *arg, char *name, size_t cap, uint8_t *type, const char **path, size_t *plen,
			 struct wnw_err *e)
{
	const char *colon = strrchr(arg, ':');
	size_t n = strlen(arg);
	*type = WNW_BYTES;
	if (colon) {
		const char *t = colon + 1;
		if (strcmp(t, "u64") == 0)
			*type = WNW_U64;
		else if (strcmp(t, "f64") == 0)
			*type = WNW_F64;
		else if (strcmp(t, "text") != 0 && !strpbrk(arg, "[=."))
			return wnw_errf(e, WNW_EXIT_USAGE, "bad field type in '%s' (u64, f64 or text)", arg);
		if (strcmp(t, "u64") == 0 || strcmp(t, "f64") == 0 || strcmp(t, "text") == 0)
			n = (size_t)(colon - arg);
	}
	/* NAME=PATH when '=' comes before any '.' or '[' (a filter's '=' is inside brackets) */
	size_t lead = strcspn(arg, "=.[");
	const char *p = arg;
	size_t namelen = n;
	if (lead < n && arg[lead] == '=') {
		namelen = lead;
		p = arg + lead + 1;
	} else if (lead < n) {
		return wnw_errf(e, WNW_EXIT_USAGE, "--field %s: a path needs a field name: NAME=%s", arg, arg);
	}
	*path = p;
	*plen = n - (size_t)(p - arg);
	if (namelen == 0 || namelen >= cap || namelen > WNW_MAX_NAME || *plen == 0)
		return wnw_errf(e, WNW_EXIT_USAGE, "bad field name in '%s'", arg);
	memcpy(name, arg, namelen);
	name[namelen] = 0;
	return 0;
}

static struct wnw_tpart *new_part(struct wnw_jsonl *j)
{
	struct wnw_tpart *p = realloc(j->parts, (j->nparts + 1) * sizeof *p);
	if (!p)
		return NULL;
	j->parts = p;
	p += j->nparts++;
	memset(p, 0, sizeof *p);
	p->col = -1;
	return p;
}

static int add_literal(struct wnw_jsonl *j, const char *lit, size_t len)
{
	struct wnw_tpart *p = new_part(j);
	if (!p || !(p->lit = malloc(len ? len : 1)))
		return -1;
	memcpy(p->lit, lit, len);
	p->len = len;
	return 0;
}

/* A member reference: a path, with a final '?' when it is optional. */
static int add_member(struct wnw_jsonl *j, const char *m, size_t n, int may_be_optional, struct wnw_err *e)
{
	struct wnw_tpart *p = new_part(j);
	if (!p)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	if (may_be_optional && n > 1 && m[n - 1] == '?') {
		p->optional = 1;
		n--;
	}
	if (!(p->member = strndup(m, n)))
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	return wnw_jpath_parse(&p->path, m, n, e);
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
			rc = wnw_buf_add(&lit, &c, 1);
			s += 2;
		} else if ((*s == '{' && s[1] == '{') || (*s == '}' && s[1] == '}')) {
			rc = wnw_buf_add(&lit, s, 1);
			s += 2;
		} else if (*s == '{') {
			const char *close = strchr(s, '}');
			if (!close || close == s + 1 || memchr(s + 1, '{', (size_t)(close - s - 1))) {
				rc = wnw_errf(e, WNW_EXIT_USAGE, "template '%s': bad member reference", t);
				break;
			}
			if (lit.n && add_literal(j, lit.p, lit.n) < 0)
				rc = -1;
			lit.n = 0;
			if (rc == 0 && add_member(j, s + 1, (size_t)(close - s - 1), 1, e) < 0)
				break;
			s = close + 1;
		} else if (*s == '}') {
			rc = wnw_errf(e, WNW_EXIT_USAGE, "template '%s': unmatched '}' (write '}}')", t);
		} else {
			rc = wnw_buf_add(&lit, s, 1);
			s++;
		}
		if (rc < 0 && e->msg[0] == 0)
			wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	if (rc == 0 && lit.n && add_literal(j, lit.p, lit.n) < 0)
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
		j->template = 1;
		if (parse_template(j, text, e) < 0)
			return -1;
	} else if (add_member(j, text, strlen(text), 0, e) < 0) {
		return -1;
	}
	if (id && (!(j->id_member = strdup(id)) || wnw_jpath_parse(&j->id_path, id, strlen(id), e) < 0))
		return e->msg[0] ? -1 : wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	if (nfields) {
		j->fields = calloc(nfields, sizeof *j->fields);
		if (!j->fields)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	for (size_t i = 0; i < nfields; i++) {
		char name[WNW_MAX_NAME + 1];
		const char *path;
		size_t plen;
		struct wnw_jfield *f = &j->fields[j->nfields];
		if (wnw_jsonl_field_spec(fields[i], name, sizeof name, &f->type, &path, &plen, e) < 0)
			return -1;
		if (strcmp(name, "id") == 0 || strcmp(name, "text") == 0 || strcmp(name, "json") == 0 ||
		    strcmp(name, "sid") == 0)
			return wnw_errf(e, WNW_EXIT_USAGE, "--field %s: '%s' is a field pack writes", fields[i], name);
		for (size_t k = 0; k < j->nfields; k++)
			if (j->fields[k].name && strcmp(j->fields[k].name, name) == 0)
				return wnw_errf(e, WNW_EXIT_USAGE, "--field %s: '%s' given twice", fields[i], name);
		f->col = -1;
		if (!(f->name = strdup(name)) || !(f->member = strndup(path, plen)))
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		j->nfields++;
		if (wnw_jpath_parse(&f->path, path, plen, e) < 0)
			return -1;
	}
	return 0;
}

int wnw_jsonl_chat(struct wnw_jsonl *j, struct wnw_err *e)
{
	if (j->src != WNW_SRC_JSONL)
		return wnw_errf(e, WNW_EXIT_USAGE, "--chat reads JSON: TSV, CSV and plain lines hold no conversations");
	for (size_t i = 0; i < j->nparts; i++) {
		free(j->parts[i].lit);
		free(j->parts[i].member);
		wnw_jpath_free(&j->parts[i].path);
	}
	j->nparts = 0;
	struct wnw_tpart *p = new_part(j);
	if (!p)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	p->chat = 1;
	return 0;
}

/* The column a path names: TSV and CSV cells have no inner structure, so only a plain name will do. */
static int path_col(const struct wnw_jsonl *j, const struct wnw_jpath *p, const char *spelling, struct wnw_err *e);

static int path_col(const struct wnw_jsonl *j, const struct wnw_jpath *p, const char *spelling, struct wnw_err *e)
{
	const char *name = wnw_jpath_name(p);
	if (!name)
		return wnw_errf(e, WNW_EXIT_USAGE, "'%s': columns have no members inside; name a column", spelling);
	for (size_t i = 0; i < j->ncols; i++)
		if (strcmp(j->cols[i], name) == 0)
			return (int)i;
	return wnw_errf(e, WNW_EXIT_DATA, "the header has no column '%s'", name);
}

static int add_cell(struct wnw_jsonl *j, size_t n, size_t off, size_t len)
{
	if (n < j->ncols) {
		j->cell_off[n] = off;
		j->cell_len[n] = len;
	}
	return 0;
}

/* Splits a TSV row into cells pointing into the line. */
static void split_tsv(struct wnw_jsonl *j, const char *line, size_t len, size_t *count)
{
	size_t n = 0;
	const char *s = line, *end = line + len;
	for (;;) {
		const char *tab = memchr(s, '\t', (size_t)(end - s));
		const char *stop = tab ? tab : end;
		add_cell(j, n++, (size_t)(s - line), (size_t)(stop - s));
		if (!tab)
			break;
		s = tab + 1;
	}
	for (size_t i = 0; i < n && i < j->ncols; i++)
		j->cell[i] = line + j->cell_off[i];
	*count = n;
}

/* Splits a CSV record (RFC 4180) into cells unquoted into j->row. Returns 0, or -1 with a message. */
static int split_csv(struct wnw_jsonl *j, const char *line, size_t len, size_t *count, struct wnw_err *e)
{
	size_t n = 0, i = 0;
	j->row.n = 0;
	if (buf_reserve(&j->row, len + 1) < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	for (;;) {
		size_t start = j->row.n;
		if (i < len && line[i] == '"') {
			for (i++;; i++) {
				if (i == len)
					return wnw_errf(e, WNW_EXIT_DATA, "a quoted field is not closed");
				if (line[i] == '"' && (i + 1 == len || line[i + 1] != '"'))
					break;
				i += line[i] == '"';
				j->row.p[j->row.n++] = line[i];
			}
			i++;
			if (i < len && line[i] != ',')
				return wnw_errf(e, WNW_EXIT_DATA, "field %zu: text after its closing quote", n + 1);
		} else {
			for (; i < len && line[i] != ','; i++) {
				if (line[i] == '"')
					return wnw_errf(e, WNW_EXIT_DATA, "field %zu: a quote inside an unquoted field", n + 1);
				j->row.p[j->row.n++] = line[i];
			}
		}
		add_cell(j, n++, start, j->row.n - start);
		if (i >= len)
			break;
		i++; /* the comma */
	}
	for (size_t k = 0; k < n && k < j->ncols; k++)
		j->cell[k] = j->row.p + j->cell_off[k];
	*count = n;
	return 0;
}

static size_t strip_cr(const char *line, size_t len)
{
	return len && line[len - 1] == '\r' ? len - 1 : len;
}

static int split_row(struct wnw_jsonl *j, const char *line, size_t len, size_t *count, struct wnw_err *e)
{
	if (j->src == WNW_SRC_CSV)
		return split_csv(j, line, len, count, e);
	split_tsv(j, line, len, count);
	return 0;
}

static void forget_header(struct wnw_jsonl *j)
{
	for (size_t i = 0; i < j->ncols; i++)
		free(j->cols[i]);
	free(j->cols);
	free(j->cell);
	free(j->cell_off);
	free(j->cell_len);
	j->cols = NULL;
	j->cell = NULL;
	j->cell_off = j->cell_len = NULL;
	j->ncols = 0;
}

int wnw_jsonl_tsv_header(struct wnw_jsonl *j, const char *line, size_t len, struct wnw_err *e)
{
	len = strip_cr(line, len);
	/* Each input file has its own header row: forget the previous one. */
	forget_header(j);
	size_t n = WNW_MAX_FIELDS + 1;
	j->cols = calloc(n, sizeof *j->cols);
	j->cell = calloc(n, sizeof *j->cell);
	j->cell_off = calloc(n, sizeof *j->cell_off);
	j->cell_len = calloc(n, sizeof *j->cell_len);
	if (!j->cols || !j->cell || !j->cell_off || !j->cell_len)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	j->ncols = n;
	size_t count;
	if (split_row(j, line, len, &count, e) < 0)
		return -1;
	j->ncols = count;
	if (len == 0 || count > WNW_MAX_FIELDS)
		return wnw_errf(e, WNW_EXIT_DATA, "the header row names no columns or too many");
	for (size_t i = 0; i < count; i++) {
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
		if (j->parts[i].member &&
		    (j->parts[i].col = path_col(j, &j->parts[i].path, j->parts[i].member, e)) < 0)
			return -1;
	if (j->id_member && (j->id_col = path_col(j, &j->id_path, j->id_member, e)) < 0)
		return -1;
	for (size_t i = 0; i < j->nfields; i++)
		if ((j->fields[i].col = path_col(j, &j->fields[i].path, j->fields[i].member, e)) < 0)
			return -1;
	return 0;
}

static int jdump_cb(const char *s, size_t n, void *data) { return wnw_buf_add(data, s, n); }

/* Appends a member's value as text: a string as it is, anything else as compact JSON. */
static int add_value_text(struct wnw_buf *b, json_t *v)
{
	if (json_is_string(v))
		return wnw_buf_add(b, json_string_value(v), json_string_length(v));
	return json_dump_callback(v, jdump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

static json_t *member(struct wnw_jsonl *j, const struct wnw_jpath *p, const char *spelling, struct wnw_err *e)
{
	json_t *v = wnw_jpath_get(p, j->root);
	if (!v)
		wnw_errf(e, WNW_EXIT_DATA, "member \"%s\" is missing or null", spelling);
	return v;
}

static int json_u64(json_t *v, const char *name, uint64_t *out, struct wnw_err *e)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return wnw_errf(e, WNW_EXIT_DATA, "member \"%s\" is not an unsigned integer", name);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* 1 with the value in *out when s[0, n) is an unsigned decimal integer that fits 64 bits, else 0. */
static int digits_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return 0;
		x = x * 10 + d;
	}
	*out = x;
	return 1;
}

static int text_u64(const char *s, size_t n, const char *name, uint64_t *out, struct wnw_err *e)
{
	if (digits_u64(s, n, out))
		return 0;
	return wnw_errf(e, WNW_EXIT_DATA, "column \"%s\" is not an unsigned integer", name);
}

static int text_f64(struct wnw_jsonl *j, const char *s, size_t n, const char *name, double *out,
		    struct wnw_err *e)
{
	j->tmp.n = 0;
	if (n == 0 || n > 400 || wnw_buf_add(&j->tmp, s, n) < 0 || wnw_buf_add(&j->tmp, "", 1) < 0)
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

/* Values a path reaches, appended to a buffer one per line. */
struct joiner {
	struct wnw_buf *b;
	long n;
	int strings_only, not_string;
};

static int join_value(json_t *v, void *arg)
{
	struct joiner *jn = arg;
	if (jn->strings_only && !json_is_string(v)) {
		jn->not_string = 1;
		return -1;
	}
	if (jn->n++ && wnw_buf_add(jn->b, "\n", 1) < 0)
		return -1;
	return add_value_text(jn->b, v);
}

/* Appends the values of a path joined by newlines; returns how many there were, or -1. */
static long add_path_text(struct wnw_buf *b, const struct wnw_jpath *p, json_t *root, int strings_only,
			  const char *spelling, struct wnw_err *e)
{
	struct joiner jn = {.b = b, .strings_only = strings_only};
	long n = wnw_jpath_each(p, root, join_value, &jn);
	if (n >= 0)
		return n;
	if (jn.not_string)
		return wnw_errf(e, WNW_EXIT_DATA, "member \"%s\" is not a string", spelling);
	return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
}

/* A turn's content: a string as it is; a list of parts (multimodal chat) as the text of its text parts;
 * anything else as compact JSON. */
static int add_content(struct wnw_buf *b, json_t *c)
{
	if (!c || json_is_null(c))
		return 0;
	if (!json_is_array(c))
		return add_value_text(b, c);
	size_t i, texts = 0;
	json_t *part;
	json_array_foreach(c, i, part) {
		json_t *t = json_is_object(part) ? json_object_get(part, "text") : NULL;
		if (json_is_string(t) && ((texts++ && wnw_buf_add(b, "\n", 1) < 0) || add_value_text(b, t) < 0))
			return -1;
	}
	return texts ? 0 : add_value_text(b, c);
}

/* --chat: "role: content", one line per turn (a newline inside a content stays as it is). */
static int add_chat(struct wnw_jsonl *j, struct wnw_err *e)
{
	json_t *turns = json_object_get(j->root, "messages");
	int sharegpt = !json_is_array(turns);
	if (sharegpt)
		turns = json_object_get(j->root, "conversations");
	if (!json_is_array(turns))
		return wnw_errf(e, WNW_EXIT_DATA, "neither \"messages\" nor \"conversations\" is an array");
	size_t i;
	json_t *t;
	json_array_foreach(turns, i, t) {
		json_t *role = json_object_get(t, sharegpt ? "from" : "role");
		if (!json_is_object(t) || !json_is_string(role))
			return wnw_errf(e, WNW_EXIT_DATA, "%s[%zu] has no \"%s\" string", sharegpt ? "conversations" : "messages",
					i, sharegpt ? "from" : "role");
		if ((i && wnw_buf_add(&j->text, "\n", 1) < 0) || add_value_text(&j->text, role) < 0 ||
		    wnw_buf_add(&j->text, ": ", 2) < 0 ||
		    add_content(&j->text, json_object_get(t, sharegpt ? "value" : "content")) < 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	return 0;
}

/* The text from the parts. A missing optional member drops the literal after it, so that
 * "{a}\n{b?}\n{c}" gives "a\nc"; when no member follows it, the literal before it goes too, so that
 * "{a} ({b?})" gives "a". */
static int render_json(struct wnw_jsonl *j, struct wnw_err *e)
{
	size_t before_lit = 0;
	int skip_lit = 0;
	for (size_t i = 0; i < j->nparts; i++) {
		const struct wnw_tpart *p = &j->parts[i];
		if (p->chat) {
			if (add_chat(j, e) < 0)
				return -1;
			continue;
		}
		if (!p->member) {
			before_lit = j->text.n;
			if (!skip_lit && wnw_buf_add(&j->text, p->lit, p->len) < 0)
				return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
			skip_lit = 0;
			continue;
		}
		long n = add_path_text(&j->text, &p->path, j->root, !j->template, p->member, e);
		if (n < 0)
			return -1;
		if (n > 0)
			continue;
		if (!p->optional)
			return wnw_errf(e, WNW_EXIT_DATA, "member \"%s\" is missing or null", p->member);
		int later = 0;
		for (size_t k = i + 1; k < j->nparts; k++)
			later |= j->parts[k].member != NULL || j->parts[k].chat;
		skip_lit = 1;
		if (!later)
			j->text.n = before_lit;
	}
	return 0;
}

static int set_sid(struct wnw_jsonl *j, const char *s, size_t n, struct wnw_err *e)
{
	j->sid.n = 0;
	if (n == 0)
		return wnw_errf(e, WNW_EXIT_DATA, "the id \"%s\" is empty", j->id_member);
	if (wnw_buf_add(&j->sid, s, n) < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	return 0;
}

static int json_id(struct wnw_jsonl *j, struct wnw_err *e)
{
	json_t *v = member(j, &j->id_path, j->id_member, e);
	if (!v)
		return -1;
	if (json_is_string(v))
		return set_sid(j, json_string_value(v), json_string_length(v), e);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return wnw_errf(e, WNW_EXIT_DATA, "member \"%s\" is neither a string nor an unsigned integer",
				j->id_member);
	char digits[24];
	j->id = (uint64_t)json_integer_value(v);
	j->id_num = 1;
	return set_sid(j, digits, (size_t)snprintf(digits, sizeof digits, "%llu", (unsigned long long)j->id), e);
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
	if (j->compact && memchr(line, '\n', len)) {
		j->jsonbuf.n = 0;
		if (json_dump_callback(root, jdump_cb, &j->jsonbuf, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		j->json = j->jsonbuf.p;
		j->json_len = j->jsonbuf.n;
	}
	if (render_json(j, e) < 0)
		return -1;
	if (j->id_member && json_id(j, e) < 0)
		return -1;
	for (size_t i = 0; i < j->nfields; i++) {
		struct wnw_jfield *f = &j->fields[i];
		if (f->type == WNW_BYTES) {
			f->s.n = 0;
			long n = add_path_text(&f->s, &f->path, root, 0, f->member, e);
			if (n == 0)
				wnw_errf(e, WNW_EXIT_DATA, "member \"%s\" is missing or null", f->member);
			if (n <= 0)
				return -1;
			continue;
		}
		json_t *v = member(j, &f->path, f->member, e);
		if (!v)
			return -1;
		if (f->type == WNW_U64) {
			if (json_u64(v, f->member, &f->u, e) < 0)
				return -1;
		} else {
			if (!json_is_number(v))
				return wnw_errf(e, WNW_EXIT_DATA, "member \"%s\" is not a number", f->member);
			f->d = json_number_value(v);
		}
	}
	return 1;
}

static int parse_tsv(struct wnw_jsonl *j, const char *line, size_t len, struct wnw_err *e)
{
	size_t count;
	if (split_row(j, line, len, &count, e) < 0)
		return -1;
	if (count != j->ncols)
		return wnw_errf(e, WNW_EXIT_DATA, "%zu columns, the header has %zu", count, j->ncols);
	for (size_t i = 0; i < count; i++)
		if (!wnw_utf8_valid(j->cell[i], j->cell_len[i]))
			return wnw_errf(e, WNW_EXIT_DATA, "column \"%s\" is not valid UTF-8", j->cols[i]);
	for (size_t i = 0; i < j->nparts; i++) {
		const struct wnw_tpart *p = &j->parts[i];
		int rc = p->member ? wnw_buf_add(&j->text, j->cell[p->col], j->cell_len[p->col])
				   : wnw_buf_add(&j->text, p->lit, p->len);
		if (rc < 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	if (j->id_member) {
		if (set_sid(j, j->cell[j->id_col], j->cell_len[j->id_col], e) < 0)
			return -1;
		j->id_num = digits_u64(j->sid.p, j->sid.n, &j->id);
	}
	for (size_t i = 0; i < j->nfields; i++) {
		struct wnw_jfield *f = &j->fields[i];
		const char *s = j->cell[f->col];
		size_t n = j->cell_len[f->col];
		f->s.n = 0;
		if ((f->type == WNW_U64 && text_u64(s, n, f->name, &f->u, e) < 0) ||
		    (f->type == WNW_F64 && text_f64(j, s, n, f->name, &f->d, e) < 0))
			return -1;
		if (f->type == WNW_BYTES && wnw_buf_add(&f->s, s, n) < 0)
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
	j->id_num = 0;
	if (j->src == WNW_SRC_LINES) {
		len = strip_cr(line, len);
		if (!wnw_utf8_valid(line, len))
			return wnw_errf(e, WNW_EXIT_DATA, "not valid UTF-8");
		if (wnw_buf_add(&j->text, line, len) < 0)
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
		wnw_jpath_free(&j->parts[i].path);
	}
	free(j->parts);
	free(j->id_member);
	wnw_jpath_free(&j->id_path);
	for (size_t i = 0; i < j->nfields; i++) {
		free(j->fields[i].name);
		free(j->fields[i].member);
		wnw_jpath_free(&j->fields[i].path);
		free(j->fields[i].s.p);
	}
	free(j->fields);
	forget_header(j);
	json_decref(j->root);
	free(j->text.p);
	free(j->jsonbuf.p);
	free(j->tmp.p);
	free(j->sid.p);
	free(j->row.p);
	memset(j, 0, sizeof *j);
}
