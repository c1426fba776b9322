/* Unit tests for render.c: each field type as a JSON value and as a TSV cell, against hand-written
 * expectations; strings that JSON cannot hold; numbers that read back exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "unit.h"

/* A record built by hand: u64, f32, f64, bytes, vec of 2, nbr of 2 (winnow(5)'s layouts). */
struct rec_buf {
	struct wnw_schema s;
	uint8_t data[256];
	uint32_t off[7];
	struct wnw_rec rec;
};

static uint8_t *put(struct rec_buf *b, size_t *n, const void *p, size_t len)
{
	uint8_t *at = b->data + *n;
	memcpy(at, p, len);
	*n += len;
	return at;
}

static void make_rec(struct rec_buf *b, double f64, const char *text, size_t tlen)
{
	struct wnw_err e;
	static const char *const names[] = {"u", "f", "d", "t", "v", "nb"};
	static const int types[] = {WNW_U64, WNW_F32, WNW_F64, WNW_BYTES, WNW_VEC, WNW_NBR};
	wnw_schema_init(&b->s);
	for (int i = 0; i < 6; i++)
		wnw_schema_set(&b->s, names[i], types[i], types[i] == WNW_VEC ? 2 : 0, &e);
	size_t n = 0;
	uint64_t u = 18446744073709551615ull;
	float f = 0.1f, v[2] = {1.5f, -0.25f};
	uint32_t len = (uint32_t)tlen, two = 2;
	b->off[0] = (uint32_t)n, put(b, &n, &u, 8);
	b->off[1] = (uint32_t)n, put(b, &n, &f, 4);
	b->off[2] = (uint32_t)n, put(b, &n, &f64, 8);
	b->off[3] = (uint32_t)n, put(b, &n, &len, 4), put(b, &n, text, tlen);
	b->off[4] = (uint32_t)n, put(b, &n, v, 8);
	b->off[5] = (uint32_t)n, put(b, &n, &two, 4);
	for (uint64_t id = 7; id <= 8; id++) {
		float dist = id == 7 ? 0.5f : 2.0f;
		put(b, &n, &id, 8), put(b, &n, &dist, 4);
	}
	b->off[6] = (uint32_t)n;
	b->rec = (struct wnw_rec){.data = b->data, .len = (uint32_t)n, .number = 3, .schema = &b->s, .off = b->off};
}

/* Field f rendered, or NULL on failure (the message then in *e). */
static char *rendered(const struct rec_buf *b, int f, int json, struct wnw_err *e)
{
	static struct wnw_buf out;
	out.n = 0;
	if (wnw_render_value(&out, &b->rec, f, json, "in.wnw", e) < 0 || wnw_buf_add(&out, "", 1) < 0)
		return NULL;
	return out.p;
}

static int is(const char *got, const char *want) { return got && strcmp(got, want) == 0; }

int main(void)
{
	struct wnw_err e;
	struct rec_buf b;
	make_rec(&b, 1.0 / 3, "a\"b\\c\nd\te\rf\x01g\xc3\xa9", 15);
	CHECK(is(rendered(&b, 0, 1, &e), "18446744073709551615"), "u64: all 20 digits");
	CHECK(is(rendered(&b, 1, 1, &e), "0.100000001"), "f32: 9 significant digits, which read back exactly");
	CHECK(is(rendered(&b, 2, 1, &e), "0.33333333333333331"), "f64: 17 significant digits");
	CHECK(strtod(rendered(&b, 2, 0, &e), NULL) == 1.0 / 3, "and the f64 reads back to the same double");
	CHECK(is(rendered(&b, 3, 1, &e), "\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\xc3\xa9\""),
	      "JSON string: quote, backslash, \\n, \\t, \\r, \\u0001 escaped; UTF-8 kept");
	CHECK(is(rendered(&b, 3, 0, &e), "a\"b\\\\c\\nd\\te\\rf\x01g\xc3\xa9"),
	      "TSV cell: only backslash, newline, tab and carriage return escaped");
	CHECK(is(rendered(&b, 4, 1, &e), "[1.5,-0.25]") && is(rendered(&b, 4, 0, &e), "1.5,-0.25"),
	      "a vector: a JSON array, or comma-separated in TSV");
	CHECK(is(rendered(&b, 5, 1, &e), "[[7,0.5],[8,2]]") && is(rendered(&b, 5, 0, &e), "7:0.5,8:2"),
	      "neighbours: [id,distance] pairs, or id:distance in TSV");

	wnw_schema_free(&b.s);
	make_rec(&b, NAN, "x\xff", 2);
	CHECK(is(rendered(&b, 2, 1, &e), "null") && is(rendered(&b, 2, 0, &e), "nan"),
	      "NaN: null in JSON, which has no NaN; nan in TSV");
	wnw_schema_free(&b.s);
	make_rec(&b, -INFINITY, "x\xff", 2);
	CHECK(is(rendered(&b, 2, 1, &e), "null") && is(rendered(&b, 2, 0, &e), "-inf"), "-infinity likewise");
	CHECK(rendered(&b, 3, 1, &e) == NULL && e.status == WNW_EXIT_DATA &&
		      strcmp(e.msg, "in.wnw: record 3: field 't' is not valid UTF-8, so it cannot go into JSON") == 0,
	      "bytes that are not UTF-8 cannot go into JSON, named by input, record and field: %s", e.msg);
	CHECK(is(rendered(&b, 3, 0, &e), "x\xff"), "but go into a TSV cell as they are");

	struct wnw_buf s = {0};
	CHECK(wnw_render_json_string(&s, "\xc0\x80", 2) == 1 && s.n == 0,
	      "an overlong form is not UTF-8: 1, and nothing appended");
	CHECK(wnw_render_json_string(&s, "", 0) == 0 && s.n == 2 && memcmp(s.p, "\"\"", 2) == 0, "the empty string");
	free(s.p);
	wnw_schema_free(&b.s);
	return unit_failed;
}
