/* Unit tests of common/dsir.c: importance weights computed by hand on a three-word case, the n-gram
 * counts, the model file's round trip, and its rejection of malformed files. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dsir.h"
#include "unit.h"

#define NB 1024u

static uint32_t bucket_of(const char *word)
{
	return hemb_bucket(hemb_hash_token(0, word, strlen(word)), NB);
}

static long count(const struct dsir_model *m, struct hemb_scratch *s, double *c, const char *text)
{
	return dsir_count(m, s, c, (const uint8_t *)text, strlen(text));
}

static double logw(const struct dsir_model *m, struct hemb_scratch *s, const char *text)
{
	double w = NAN;
	if (dsir_logw(m, s, (const uint8_t *)text, strlen(text), &w) < 0)
		return NAN;
	return w;
}

/* Target "a a b"; raw texts "a b c" and "c c"; unigrams in 1024 buckets. By hand, with t, r the
 * counts and T = 3, R = 5 the totals:
 *   w(a) = log(3 / 1027) - log(2 / 1029)     (t = 2, r = 1)
 *   w(b) = log(2 / 1027) - log(2 / 1029)     (t = 1, r = 1)
 *   w(c) = log(1 / 1027) - log(4 / 1029)     (t = 0, r = 3)
 * and a text's log weight is the sum over its word occurrences. */
static void test_by_hand(void)
{
	struct dsir_model m;
	struct hemb_scratch s = {0};
	struct wnw_err e;
	uint32_t ba = bucket_of("a"), bb = bucket_of("b"), bc = bucket_of("c");
	CHECK(ba != bb && bb != bc && ba != bc, "a, b and c fall in three buckets (the case needs it)");
	CHECK(dsir_model_init(&m, NB, 1, 1, 0, &e) == 0, "a model of 1024 buckets, unigrams");
	CHECK(count(&m, &s, m.target, "A a, b") == 4 && m.target[ba] == 2 && m.target[bb] == 1,
	      "counting the target: case folded, punctuation its own token (4 occurrences)");
	m.target[bucket_of(",")] = 0; /* leaves the target "a a b" */
	CHECK(count(&m, &s, m.raw, "a b c") == 3 && count(&m, &s, m.raw, "c c") == 2 && m.raw[bc] == 3,
	      "counting the raw texts");
	dsir_weights(&m);
	double wa = log(3.0 / 1027) - log(2.0 / 1029), wb = log(2.0 / 1027) - log(2.0 / 1029),
	       wc = log(1.0 / 1027) - log(4.0 / 1029);
	CLOSE(m.target[ba], wa, 1e-13, "w(a) by hand");
	CLOSE(m.target[bc], wc, 1e-13, "w(c) by hand");
	CLOSE(logw(&m, &s, "a b"), wa + wb, 1e-13, "logw(\"a b\") = w(a) + w(b)");
	CLOSE(logw(&m, &s, "c a c"), 2 * wc + wa, 1e-13, "logw(\"c a c\") counts each occurrence");
	CLOSE(logw(&m, &s, "d"), log(1.0 / 1027) - log(1.0 / 1029), 1e-13,
	      "a word neither model saw: the smoothed ratio log((0+1)/1027) - log((0+1)/1029)");
	CHECK(logw(&m, &s, " \t") == 0, "a text without n-grams has logw 0");
	dsir_model_free(&m);

	CHECK(dsir_model_init(&m, NB, 1, 2, 0, &e) == 0, "a model of unigrams and bigrams");
	CHECK(count(&m, &s, m.raw, "a b c") == 5, "\"a b c\" has 3 unigrams and 2 bigrams");
	dsir_model_free(&m);
	hemb_scratch_free(&s);
}

static void test_init_errors(void)
{
	struct dsir_model m;
	struct wnw_err e;
	CHECK(dsir_model_init(&m, 0, 1, 2, 0, &e) < 0 && e.status == WNW_EXIT_USAGE, "0 buckets refused");
	CHECK(dsir_model_init(&m, 10, 0, 2, 0, &e) < 0 && e.status == WNW_EXIT_USAGE, "n-gram order 0 refused");
	CHECK(dsir_model_init(&m, 10, 2, 9, 0, &e) < 0 && e.status == WNW_EXIT_USAGE, "n-gram order 9 refused");
}

/* Writes a model file of the given (bucket, target, raw) rows. */
static void write_file(const char *path, const uint64_t (*rows)[3], size_t n)
{
	struct wnw_schema s;
	struct wnw_err e;
	wnw_schema_init(&s);
	wnw_schema_set(&s, "bucket", WNW_U64, 0, &e);
	wnw_schema_set(&s, "target", WNW_U64, 0, &e);
	wnw_schema_set(&s, "raw", WNW_U64, 0, &e);
	struct wnw_writer *w = wnw_writer_open(path, &s, 0, &e);
	for (size_t i = 0; w && i < n; i++) {
		for (int j = 0; j < 3; j++)
			wnw_writer_u64(w, rows[i][j]);
		wnw_writer_end(w, &e);
	}
	if (w)
		wnw_writer_close(w, &e);
	wnw_schema_free(&s);
}

static void test_file(void)
{
	char path[] = "/tmp/winnow-dsir-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "a temporary file");
	if (fd < 0)
		return;
	close(fd);
	const uint64_t M = DSIR_META;
	uint64_t good[][3] = {{M, 8, 0}, {M + 1, 1, 0}, {M + 2, 2, 0}, {M + 3, 0, 0}, {M + 4, HEMB_RULES, 0},
			      {M + 5, 3, 0}, {M + 6, 9, 0}, {2, 5, 1}, {7, 0, 4}};
	write_file(path, good, 9);
	struct dsir_model m;
	struct wnw_err e;
	int rc = dsir_model_load(path, &m, &e);
	CHECK(rc == 0, "a model file loads");
	if (rc == 0) {
		CHECK(m.c.dim == 8 && m.c.word_lo == 1 && m.c.word_hi == 2 && m.tdocs == 3 && m.rdocs == 9,
		      "its parameters");
		CHECK(m.target[2] == 5 && m.raw[2] == 1 && m.raw[7] == 4 && m.target[0] == 0, "its counts");
		dsir_model_free(&m);
	}
	uint64_t order[][3] = {{M, 8, 0}, {M + 1, 1, 0}, {M + 2, 2, 0}, {M + 3, 0, 0}, {M + 4, HEMB_RULES, 0},
			       {M + 5, 3, 0}, {M + 6, 9, 0}, {7, 5, 1}, {2, 0, 4}};
	write_file(path, order, 9);
	CHECK(dsir_model_load(path, &m, &e) < 0 && e.status == WNW_EXIT_DATA && strstr(e.msg, "record 9"),
	      "buckets out of order: bad data naming the record (%s)", e.msg);
	uint64_t beyond[][3] = {{M, 8, 0}, {M + 1, 1, 0}, {M + 2, 2, 0}, {M + 3, 0, 0}, {M + 4, HEMB_RULES, 0},
				{M + 5, 3, 0}, {M + 6, 9, 0}, {8, 5, 1}};
	write_file(path, beyond, 8);
	CHECK(dsir_model_load(path, &m, &e) < 0 && e.status == WNW_EXIT_DATA, "a bucket beyond B is bad data");
	write_file(path, good, 4);
	CHECK(dsir_model_load(path, &m, &e) < 0 && e.status == WNW_EXIT_DATA && strstr(e.msg, "rules"),
	      "a missing parameter record is named (%s)", e.msg);
	unlink(path);
}

int main(void)
{
	test_by_hand();
	test_init_errors();
	test_file();
	return unit_failed;
}
