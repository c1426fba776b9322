/* Unit tests for textin.c: an input opened in its format (JSON array, TSV header with a byte order
 * mark, a missing or bad header), and batches of lines parsed on 1 and 3 threads giving the same
 * results in input order, the long line parsed alone included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "textin.h"
#include "unit.h"

static char dir[] = "/tmp/winnow-textin.XXXXXX";

static const char *file_with(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
	return path;
}

/* Parses the batch and prints its results into out; returns the bytes printed. */
static size_t flush(struct wnw_jbatch *b, struct wnw_pool *pool, char *out, size_t cap)
{
	size_t used = 0;
	wnw_jbatch_parse(b, pool);
	for (size_t i = 0; i < b->n; i++) {
		struct wnw_jrec r;
		wnw_jbatch_get(b, i, &r);
		if (r.rc < 0)
			used += (size_t)snprintf(out + used, cap - used, "%llu -1 %d %s\n", (unsigned long long)r.lineno,
						 r.status, r.msg);
		else if (r.rc > 0)
			used += (size_t)snprintf(out + used, cap - used, "%llu 1 %.*s %.*s %llu\n",
						 (unsigned long long)r.lineno, (int)r.nsid, r.sid, (int)r.ntext, r.text,
						 (unsigned long long)r.vals[0].u);
	}
	wnw_jbatch_clear(b);
	return used;
}

/* Every record of path (JSONL, ids "id", field "n:u64") parsed on nthreads, as one line of text a
 * record ("lineno rc id text n" or "lineno -1 status msg"), into out. */
static void run(const char *path, int nthreads, size_t solo_from, char *out, size_t cap)
{
	struct wnw_err e;
	struct wnw_jbatch b;
	const char *fields[] = {"n:u64"};
	struct wnw_pool *pool = wnw_pool_new(nthreads);
	size_t used = 0;
	out[0] = 0;
	if (!pool || wnw_jbatch_init(&b, nthreads, WNW_SRC_JSONL, NULL, "id", fields, 1, 0, &e) < 0)
		abort();
	struct wnw_lines *l = wnw_textin_open(path, 1 << 20, b.js, nthreads, &e);
	const char *line;
	size_t len;
	while (l && wnw_lines_next(l, &line, &len, &e) > 0) {
		int alone = len >= solo_from;
		if (alone)
			used += flush(&b, pool, out + used, cap - used); /* a long line goes into an empty batch */
		if (alone)
			wnw_jbatch_solo(&b, line, len, wnw_lines_lineno(l));
		else if (wnw_jbatch_add(&b, line, len, wnw_lines_lineno(l), &e) < 0)
			abort();
		if (alone || wnw_jbatch_full(&b) || b.n == 3)
			used += flush(&b, pool, out + used, cap - used);
	}
	used += flush(&b, pool, out + used, cap - used);
	if (l)
		wnw_lines_close(l);
	wnw_jbatch_free(&b);
	wnw_pool_free(pool);
}

static void test_batches(void)
{
	const char *path = file_with("b.jsonl", "{\"id\":\"a\",\"text\":\"one\",\"n\":1}\n"
					      "\n"
					      "{\"id\":\"b\",\"text\":\"two\",\"n\":2}\n"
					      "{\"id\":\"c\",\"text\":\"three\"}\n"
					      "{\"id\":7,\"text\":\"a longer line than the others\",\"n\":4}\n"
					      "not json\n"
					      "{\"id\":\"d\",\"text\":\"five\",\"n\":5}\n");
	char one[2048], three[2048], solo[2048];
	run(path, 1, 1 << 20, one, sizeof one);
	CHECK(strcmp(one, "1 1 a one 1\n3 1 b two 2\n4 -1 1 member \"n\" is missing or null\n"
			  "5 1 7 a longer line than the others 4\n"
			  "6 -1 1 '[' or '{' expected near 'not'\n7 1 d five 5\n") == 0,
	      "records, an empty line skipped, bad lines with their messages, in input order");
	if (unit_failed)
		printf("# got:\n%s", one);
	run(path, 3, 1 << 20, three, sizeof three);
	CHECK(strcmp(one, three) == 0, "3 threads give what 1 gives");
	run(path, 3, 40, solo, sizeof solo);
	CHECK(strcmp(one, solo) == 0, "and so does the long line parsed alone, not copied");
}

static void test_open(void)
{
	struct wnw_err e;
	struct wnw_jsonl j;
	const char *line;
	size_t len;
	const char *path = file_with("a.json", " \n[{\"text\":\"x\"},\n {\"text\": \"y\"}]\n");
	CHECK(wnw_jsonl_init(&j, WNW_SRC_JSONL, NULL, NULL, NULL, 0, &e) == 0, "a JSONL parser");
	struct wnw_lines *l = wnw_textin_open(path, 1 << 20, &j, 1, &e);
	CHECK(l && j.compact && wnw_lines_next(l, &line, &len, &e) == 1 && len == 12 &&
		      strcmp(wnw_lines_unit(l), "element") == 0,
	      "a file whose first byte is '[' is a JSON array, its elements re-serialised");
	if (l)
		wnw_lines_close(l);
	wnw_jsonl_free(&j);

	wnw_jsonl_init(&j, WNW_SRC_TSV, "b", NULL, NULL, 0, &e);
	path = file_with("h.tsv", "\xef\xbb\xbf" "a\tb\n1\tx\n");
	l = wnw_textin_open(path, 1 << 20, &j, 1, &e);
	CHECK(l && wnw_lines_next(l, &line, &len, &e) == 1 && wnw_jsonl_parse(&j, line, len, &e) == 1 &&
		      j.text.n == 1 && j.text.p[0] == 'x',
	      "TSV: the header row is read, its byte order mark dropped");
	if (l)
		wnw_lines_close(l);
	path = file_with("empty.tsv", "");
	CHECK(!wnw_textin_open(path, 1 << 20, &j, 1, &e) && e.status == WNW_EXIT_DATA &&
		      strstr(e.msg, "empty.tsv: no header row"),
	      "an empty TSV file has no header row: %s", e.msg);
	path = file_with("nob.tsv", "a\tc\n1\tx\n");
	CHECK(!wnw_textin_open(path, 1 << 20, &j, 1, &e) && strstr(e.msg, "nob.tsv: line 1: ") && e.status,
	      "a header without the text column: named with line 1: %s", e.msg);
	wnw_jsonl_free(&j);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 3;
	test_batches();
	test_open();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 3;
	return unit_failed;
}
