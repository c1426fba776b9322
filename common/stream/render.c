/* render.c: a record's fields as text (render.h). */
#include "render.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int addf(struct wnw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int addf(struct wnw_buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	return wnw_buf_add(b, tmp, n < 0 ? 0 : (size_t)n);
}

/* JSON has no NaN or infinity: those become null there. */
static int add_float(struct wnw_buf *b, double v, int digits, int json)
{
	if (json && !isfinite(v))
		return wnw_buf_add(b, "null", 4);
	return addf(b, "%.*g", digits, v);
}

int wnw_render_json_string(struct wnw_buf *b, const void *str, size_t n)
{
	const uint8_t *s = str;
	if (!wnw_utf8_valid(str, n))
		return 1;
	int bad = wnw_buf_add(b, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		bad |= wnw_buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': bad |= wnw_buf_add(b, "\\\"", 2); break;
		case '\\': bad |= wnw_buf_add(b, "\\\\", 2); break;
		case '\n': bad |= wnw_buf_add(b, "\\n", 2); break;
		case '\t': bad |= wnw_buf_add(b, "\\t", 2); break;
		case '\r': bad |= wnw_buf_add(b, "\\r", 2); break;
		default: bad |= addf(b, "\\u%04x", c); break;
		}
	}
	bad |= wnw_buf_add(b, s + run, n - run);
	bad |= wnw_buf_add(b, "\"", 1);
	return bad ? -1 : 0;
}

int wnw_render_tsv_cell(struct wnw_buf *b, const void *str, size_t n)
{
	const uint8_t *s = str;
	int bad = 0;
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '\t' ? "\\t" : s[i] == '\n' ? "\\n"
				: s[i] == '\r' ? "\\r" : NULL;
		if (!esc)
			continue;
		bad |= wnw_buf_add(b, s + run, i - run);
		bad |= wnw_buf_add(b, esc, 2);
		run = i + 1;
	}
	bad |= wnw_buf_add(b, s + run, n - run);
	return bad;
}

static int add_vec(struct wnw_buf *b, const uint8_t *p, uint32_t dim, int json)
{
	int bad = json ? wnw_buf_add(b, "[", 1) : 0;
	for (uint32_t i = 0; i < dim; i++) {
		if (i)
			bad |= wnw_buf_add(b, ",", 1);
		bad |= add_float(b, wnw_lef32(p + 4 * (size_t)i), 9, json);
	}
	return bad | (json ? wnw_buf_add(b, "]", 1) : 0);
}

static int add_nbrs(struct wnw_buf *b, const struct wnw_rec *rec, int f, int json)
{
	size_t n = wnw_nbr_count(rec, f);
	int bad = json ? wnw_buf_add(b, "[", 1) : 0;
	for (uint32_t i = 0; i < n; i++) {
		struct wnw_nbr nb = wnw_nbr_at(rec, f, i);
		bad |= addf(b, json ? "%s[%llu," : "%s%llu:", i ? "," : "", (unsigned long long)nb.id);
		bad |= add_float(b, nb.dist, 9, json);
		if (json)
			bad |= wnw_buf_add(b, "]", 1);
	}
	return bad | (json ? wnw_buf_add(b, "]", 1) : 0);
}

int wnw_render_value(struct wnw_buf *b, const struct wnw_rec *rec, int f, int json, const char *name,
		     struct wnw_err *e)
{
	const struct wnw_field *fd = &rec->schema->fields[f];
	size_t n;
	const uint8_t *p;
	int rc = 0;
	switch (fd->type) {
	case WNW_U64: rc = addf(b, "%llu", (unsigned long long)wnw_get_u64(rec, f)); break;
	case WNW_F32: rc = add_float(b, wnw_get_f32(rec, f), 9, json); break;
	case WNW_F64: rc = add_float(b, wnw_get_f64(rec, f), 17, json); break;
	case WNW_BYTES:
		p = wnw_get_bytes(rec, f, &n);
		rc = json ? wnw_render_json_string(b, p, n) : wnw_render_tsv_cell(b, p, n);
		if (rc > 0)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: record %llu: field '%s' is not valid UTF-8, so it "
					"cannot go into JSON", name, (unsigned long long)rec->number, fd->name);
		break;
	case WNW_VEC: rc = add_vec(b, wnw_get_vec_raw(rec, f), fd->dim, json); break;
	case WNW_NBR: rc = add_nbrs(b, rec, f, json); break;
	default: break;
	}
	return rc ? wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory") : 0;
}
