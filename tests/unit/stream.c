/* Unit tests of the stream library: round trip of every type, truncation at every byte, corruption,
 * concatenation, zstd, schema mismatch, hostile lengths, the one-field edit. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "winnow.h"

static char dir[] = "/tmp/winnow-unit.XXXXXX";

static const char *path(const char *name)
{
	static char buf[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
	return buf[k];
}

static void make_schema(struct wnw_schema *s)
{
	struct wnw_err e;
	char flag[] = "--flag", value[] = "value";
	char *argv[] = {flag, value};
	wnw_schema_init(s);
	wnw_schema_set(s, "id", WNW_U64, 0, &e);
	wnw_schema_set(s, "f", WNW_F32, 0, &e);
	wnw_schema_set(s, "d", WNW_F64, 0, &e);
	wnw_schema_set(s, "text", WNW_BYTES, 0, &e);
	wnw_schema_set(s, "vec", WNW_VEC, 3, &e);
	wnw_schema_set(s, "nbr", WNW_NBR, 0, &e);
	wnw_schema_add_prov(s, "unit", 2, argv, &e);
}

/* Writes record i: id i, f i/2, d i/3, text "rec i", vec (i, -i, 0.5), i % 8 neighbours. */
static int write_record(struct wnw_writer *w, uint64_t i)
{
	struct wnw_err e;
	char t[32];
	float v[3] = {(float)i, -(float)i, 0.5f};
	struct wnw_nbr nb[8];
	for (uint32_t k = 0; k < i % 8; k++)
		nb[k] = (struct wnw_nbr){i * 10 + k, (float)k / 4};
	snprintf(t, sizeof t, "rec %llu", (unsigned long long)i);
	wnw_writer_u64(w, i);
	wnw_writer_f32(w, (float)i / 2);
	wnw_writer_f64(w, (double)i / 3);
	wnw_writer_bytes(w, t, strlen(t));
	wnw_writer_vec(w, v);
	wnw_writer_nbr(w, nb, (uint32_t)(i % 8));
	return wnw_writer_end(w, &e);
}

/* Writes records 0 .. n - 1. */
static int write_file(const char *p, uint64_t n, int zlevel)
{
	struct wnw_schema s;
	struct wnw_err e;
	make_schema(&s);
	struct wnw_writer *w = wnw_writer_open(p, &s, zlevel, &e);
	wnw_schema_free(&s);
	if (w == NULL)
		return -1;
	for (uint64_t i = 0; i < n; i++)
		if (write_record(w, i) < 0)
			return -1;
	return wnw_writer_close(w, &e);
}

/* Reads a whole stream and checks every value; returns records read, or -1 (with e set). */
static long long read_check(const char *p, struct wnw_err *e, int *values_ok)
{
	struct wnw_reader *r = wnw_reader_open(p, e);
	struct wnw_rec rec;
	long long n = 0;
	int got;
	*values_ok = 1;
	if (r == NULL)
		return -1;
	while ((got = wnw_reader_next(r, &rec, e)) == 1) {
		uint64_t i = wnw_get_u64(&rec, 0);
		size_t len;
		const uint8_t *t = wnw_get_bytes(&rec, 3, &len);
		char want[32];
		float v[3];
		snprintf(want, sizeof want, "rec %llu", (unsigned long long)i);
		wnw_get_vec(&rec, 4, v);
		if (wnw_get_f32(&rec, 1) != (float)i / 2 || wnw_get_f64(&rec, 2) != (double)i / 3 ||
		    len != strlen(want) || memcmp(t, want, len) != 0 || v[1] != -(float)i ||
		    wnw_nbr_count(&rec, 5) != i % 8 ||
		    (i % 8 > 1 && wnw_nbr_at(&rec, 5, 1).id != i * 10 + 1))
			*values_ok = 0;
		n++;
	}
	wnw_reader_close(r);
	return got < 0 ? -1 : n;
}

static size_t slurp(const char *p, uint8_t **buf)
{
	FILE *f = fopen(p, "rb");
	fseek(f, 0, SEEK_END);
	size_t n = (size_t)ftell(f);
	rewind(f);
	*buf = malloc(n + 1);
	if (fread(*buf, 1, n, f) != n)
		n = 0;
	fclose(f);
	return n;
}

static void spit(const char *p, const uint8_t *buf, size_t n)
{
	FILE *f = fopen(p, "wb");
	fwrite(buf, 1, n, f);
	fclose(f);
}

static void test_round_trip(void)
{
	struct wnw_err e;
	int vok;
	CHECK(write_file(path("a.wnw"), 100, 0) == 0, "write 100 records of every type");
	CHECK(read_check(path("a.wnw"), &e, &vok) == 100 && vok, "read them back with every value intact");
	CHECK(write_file(path("a.wnw.zst"), 100, 3) == 0, "write a zstd-compressed stream");
	CHECK(read_check(path("a.wnw.zst"), &e, &vok) == 100 && vok, "read the zstd stream transparently");
	CHECK(write_file(path("empty.wnw"), 0, 0) == 0 && read_check(path("empty.wnw"), &e, &vok) == 0,
	      "a stream with no records is valid");
	struct stat st;
	CHECK(stat(path("a.wnw.tmp"), &st) != 0, "no temporary file is left behind");
}

static void test_truncation(void)
{
	uint8_t *buf;
	struct wnw_err e;
	int vok, all = 1, said = 1;
	write_file(path("t.wnw"), 12, 0);
	size_t n = slurp(path("t.wnw"), &buf);
	for (size_t cut = 0; cut < n; cut++) {
		spit(path("cut.wnw"), buf, cut);
		long long got = read_check(path("cut.wnw"), &e, &vok);
		if (got >= 0 || e.status != WNW_EXIT_DATA)
			all = 0;
		if (cut > 16 && strstr(e.msg, "truncated") == NULL)
			said = 0;
	}
	CHECK(all, "a stream cut at any of its %zu byte offsets is an error with status 1", n);
	CHECK(said, "and past the magic the message says truncated");
	write_file(path("tz.wnw"), 40, 3);
	free(buf);
	n = slurp(path("tz.wnw"), &buf);
	all = 1;
	for (size_t cut = 0; cut < n; cut++) {
		spit(path("cut.wnw"), buf, cut);
		if (read_check(path("cut.wnw"), &e, &vok) >= 0 || e.status != WNW_EXIT_DATA)
			all = 0;
	}
	CHECK(all, "a zstd stream cut at any byte offset is an error too");
	free(buf);
}

static void test_corruption(void)
{
	uint8_t *buf;
	struct wnw_err e;
	int vok, all = 1;
	write_file(path("c.wnw"), 12, 0);
	size_t n = slurp(path("c.wnw"), &buf);
	for (size_t at = 0; at < n; at++) {
		buf[at] ^= 0x40;
		spit(path("flip.wnw"), buf, n);
		buf[at] ^= 0x40;
		long long got = read_check(path("flip.wnw"), &e, &vok);
		if (got >= 0 && vok) {
			all = 0;
			printf("# offset %zu reads as good\n", at);
		}
	}
	CHECK(all, "a flipped bit at any of %zu offsets never reads as a good stream", n);
	/* A record length claiming a gigabyte in a small file is refused before any allocation. */
	free(buf);
	write_file(path("h.wnw"), 0, 0);
	n = slurp(path("h.wnw"), &buf) - 16; /* header only */
	uint8_t huge[14] = {0xf0, 0xff, 0xff, 0x3f, 'x'};
	memcpy(buf + n, huge, sizeof huge);
	spit(path("huge.wnw"), buf, n + sizeof huge);
	CHECK(read_check(path("huge.wnw"), &e, &vok) < 0 && strstr(e.msg, "more than the file holds"),
	      "a record length larger than the file is refused: %s", e.msg);
	free(buf);
}

static void test_concat(void)
{
	uint8_t *a, *b;
	struct wnw_err e;
	int vok;
	write_file(path("p1.wnw"), 5, 0);
	write_file(path("p2.wnw"), 7, 0);
	size_t na = slurp(path("p1.wnw"), &a), nb = slurp(path("p2.wnw"), &b);
	uint8_t *ab = malloc(na + nb);
	memcpy(ab, a, na);
	memcpy(ab + na, b, nb);
	spit(path("ab.wnw"), ab, na + nb);
	CHECK(read_check(path("ab.wnw"), &e, &vok) == 12 && vok, "two concatenated streams read as one");

	struct wnw_schema s;
	wnw_schema_init(&s);
	wnw_schema_set(&s, "id", WNW_U64, 0, &e);
	struct wnw_writer *w = wnw_writer_open(path("other.wnw"), &s, 0, &e);
	wnw_writer_u64(w, 1);
	wnw_writer_end(w, &e);
	wnw_writer_close(w, &e);
	wnw_schema_free(&s);
	uint8_t *o;
	size_t no = slurp(path("other.wnw"), &o);
	memcpy(ab + na, o, no);
	spit(path("mixed.wnw"), ab, na + no);
	CHECK(read_check(path("mixed.wnw"), &e, &vok) < 0 && strstr(e.msg, "disagree") &&
		      strstr(e.msg, "id:u64"),
	      "streams with other fields are refused, naming both field lists");
	free(a);
	free(b);
	free(o);
	free(ab);
}

static void test_edit_and_misuse(void)
{
	struct wnw_schema in, out;
	struct wnw_err e;
	struct wnw_edit ed;
	int vok;
	write_file(path("e.wnw"), 3, 0);
	struct wnw_reader *r = wnw_reader_open(path("e.wnw"), &e);
	wnw_schema_copy(&in, wnw_reader_schema(r), &e);
	wnw_schema_copy(&out, &in, &e);
	CHECK(wnw_edit_init(&ed, &in, &out, "d", WNW_F64, 0, &e) == 0 && ed.out_idx == 2 &&
		      out.nfields == in.nfields,
	      "setting an existing field replaces it in place");
	struct wnw_writer *w = wnw_writer_open(path("e2.wnw"), &out, 0, &e);
	struct wnw_rec rec;
	while (wnw_reader_next(r, &rec, &e) == 1) {
		wnw_edit_begin(w, &rec, &ed);
		wnw_writer_f64(w, wnw_get_f64(&rec, 2));
		wnw_edit_end(w, &rec, &ed, &e);
	}
	CHECK(wnw_writer_close(w, &e) == 0 && read_check(path("e2.wnw"), &e, &vok) == 3 && vok,
	      "a one-field edit keeps every other field");
	wnw_reader_close(r);
	struct wnw_schema s2;
	wnw_schema_copy(&s2, &in, &e);
	CHECK(wnw_edit_init(&ed, &in, &s2, "score", WNW_F64, 0, &e) == 0 && ed.out_idx == 6,
	      "a new field is appended");
	w = wnw_writer_open(path("bad.wnw"), &in, 0, &e);
	wnw_writer_f64(w, 1.0);
	CHECK(wnw_writer_end(w, &e) < 0 && strstr(e.msg, "internal error"), "writing the wrong type is reported");
	wnw_writer_abort(w);
	CHECK(access(path("bad.wnw"), F_OK) != 0, "an aborted output leaves no file");
	CHECK(wnw_schema_set(&s2, "bad name", WNW_U64, 0, &e) < 0, "field names are checked");
	wnw_schema_free(&in);
	wnw_schema_free(&out);
	wnw_schema_free(&s2);
}

/* The bytes of a stream after its header (which holds the time it was written). */
static size_t body(const char *p, uint8_t **buf)
{
	size_t n = slurp(p, buf), at = n >= 16 ? 16 + 4 + (size_t)wnw_le32(*buf + 12) : n;
	at = at < n ? at : n;
	memmove(*buf, *buf + at, n - at);
	return n - at;
}

/* Records built in memory writers (as threads do) and put in order equal the same records written. */
static void test_memory_writers(void)
{
	struct wnw_schema s;
	struct wnw_err e;
	int vok;
	enum { N = 30100 };
	make_schema(&s);
	struct wnw_writer *w = wnw_writer_open(path("put.wnw"), &s, 0, &e), *m[2];
	m[0] = wnw_writer_mem(&s, &e);
	m[1] = wnw_writer_mem(&s, &e);
	struct wnw_writer *bad = wnw_writer_mem(&s, &e);
	wnw_schema_free(&s);
	int ok = w && m[0] && m[1];
	if (bad)
		wnw_writer_f64(bad, 1.0);
	CHECK(bad && wnw_writer_end(bad, &e) < 0 && strcmp(e.msg, "internal error: a field written with the wrong type") == 0,
	      "a memory writer's error leaves the record's number to its caller");
	wnw_writer_abort(bad);
	/* 0..9999 from m0; 10000 directly; 10001..24999 from m1 (over 1 MB, so its CRC is folded as it
	 * grows); 25000..30099 from m0 again, emptied by the first put. */
	for (uint64_t i = 0; ok && i < 10000; i++)
		ok = write_record(m[0], i) == 0;
	for (uint64_t i = 10001; ok && i < 25000; i++)
		ok = write_record(m[1], i) == 0;
	ok = ok && wnw_writer_put(w, m[0], &e) == 0 && write_record(w, 10000) == 0 &&
	     wnw_writer_put(w, m[1], &e) == 0;
	for (uint64_t i = 25000; ok && i < N; i++)
		ok = write_record(m[0], i) == 0;
	ok = ok && wnw_writer_put(w, m[0], &e) == 0 && wnw_writer_put(w, m[1], &e) == 0; /* m1 is empty */
	CHECK(ok && wnw_writer_put(m[0], m[1], &e) != 0 && strstr(e.msg, "internal error"),
	      "records are put only from a memory writer into a stream");

	ok = ok && wnw_writer_close(w, &e) == 0 && write_file(path("direct.wnw"), N, 0) == 0;
	CHECK(ok && read_check(path("put.wnw"), &e, &vok) == N && vok, "records put from memory writers read back");
	uint8_t *a = NULL, *b = NULL;
	size_t na = ok ? body(path("put.wnw"), &a) : 0, nb = ok ? body(path("direct.wnw"), &b) : 1;
	CHECK(na == nb && memcmp(a, b, na) == 0, "they are the bytes of the same records written directly, trailer too");
	free(a);
	free(b);
	wnw_writer_abort(m[0]);
	wnw_writer_abort(m[1]);
}

static void test_types(void)
{
	uint8_t t;
	uint32_t d;
	CHECK(wnw_type_parse("vec[256]", &t, &d) == 0 && t == WNW_VEC && d == 256, "vec[256] parses");
	CHECK(wnw_type_parse("text", &t, &d) == 0 && t == WNW_BYTES, "text is bytes");
	CHECK(wnw_type_parse("vec[0]", &t, &d) < 0 && wnw_type_parse("vec[x]", &t, &d) < 0 &&
		      wnw_type_parse("u32", &t, &d) < 0,
	      "bad types are refused");
}

int main(void)
{
	if (mkdtemp(dir) == NULL)
		return 3;
	test_types();
	test_round_trip();
	test_truncation();
	test_corruption();
	test_concat();
	test_edit_and_misuse();
	test_memory_writers();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 3;
	return unit_failed;
}
