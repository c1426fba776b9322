/* Unit test of common/jpath.c: member paths parsed and walked, and of the line reader's CSV and JSON
 * array splitting (common/lines.c) on small files. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jpath.h"
#include "lines.h"
#include "unit.h"

static const char *const DOC =
	"{\"m\": [{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"assistant\", \"content\": \"a1\"},"
	" {\"role\": \"assistant\", \"content\": \"a2\"}], \"a.b\": {\"c]\": 7}, \"a\": {\"b\": null}, \"n\": [10, 20]}";

static int join(json_t *v, void *arg)
{
	char *out = arg;
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s%s", *out ? "|" : "",
		 json_is_string(v) ? json_string_value(v) : json_is_integer(v) ? "int" : "other");
	strcat(out, tmp);
	return 0;
}

/* The values the path reaches in DOC, joined by '|', or "BAD" when it does not parse. */
static const char *walk(json_t *root, const char *path)
{
	static char out[256];
	struct wnw_jpath p;
	struct wnw_err e;
	out[0] = 0;
	if (wnw_jpath_parse(&p, path, strlen(path), &e) < 0) {
		wnw_jpath_free(&p);
		return e.status == WNW_EXIT_USAGE ? "BAD" : "OOM";
	}
	wnw_jpath_each(&p, root, join, out);
	wnw_jpath_free(&p);
	return out;
}

/* The records of a small file read with the given splitting, joined by '|'. */
static const char *records(const char *text, enum wnw_split how, int *rc)
{
	static char out[512];
	struct wnw_err e;
	int fds[2];
	out[0] = 0;
	if (pipe(fds) != 0 || write(fds[1], text, strlen(text)) != (ssize_t)strlen(text))
		return "pipe";
	close(fds[1]);
	struct wnw_lines *l = wnw_lines_fdopen(fds[0], "t", 0, &e);
	const char *line;
	size_t len;
	wnw_lines_split(l, how);
	while ((*rc = wnw_lines_next(l, &line, &len, &e)) > 0) {
		if (out[0])
			strcat(out, "|");
		strncat(out, line, len);
		char num[24];
		snprintf(num, sizeof num, "@%llu", (unsigned long long)wnw_lines_lineno(l));
		strcat(out, num);
	}
	wnw_lines_close(l);
	return out;
}

int main(void)
{
	json_error_t jerr;
	json_t *root = json_loads(DOC, 0, &jerr);
	CHECK(root != NULL, "the document parses");
	CHECK(strcmp(walk(root, "m[-1].content"), "a2") == 0, "a[-1]: the last element");
	CHECK(strcmp(walk(root, "m[0].role"), "user") == 0 && strcmp(walk(root, "m.1.content"), "a1") == 0,
	      "a[0] and a.1");
	CHECK(strcmp(walk(root, "m[role=assistant].content"), "a1|a2") == 0, "a filter keeps matching elements");
	CHECK(strcmp(walk(root, "m[role=\"user\"].content"), "q") == 0, "a quoted filter value");
	CHECK(strcmp(walk(root, "m[*].role"), "user|assistant|assistant") == 0, "[*]: every element");
	CHECK(strcmp(walk(root, "[\"a.b\"][\"c]\"]"), "int") == 0, "quoted names hold '.' and ']'");
	CHECK(strcmp(walk(root, ".n[1]"), "int") == 0, "a leading dot");
	CHECK(strcmp(walk(root, "a.b"), "") == 0, "null reaches nothing");
	CHECK(strcmp(walk(root, "m[3].content"), "") == 0 && strcmp(walk(root, "m[-4].content"), "") == 0,
	      "indexes out of range reach nothing");
	CHECK(strcmp(walk(root, "n.x"), "") == 0 && strcmp(walk(root, "m.role"), "") == 0,
	      "a name on an array, an index on an object reach nothing");
	static const char *const bad[] = {"", ".", "a..b", "a.", "a[", "a[]", "a]", "a[0]b", "a[\"x]", "[=v]"};
	int all = 1;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		all &= strcmp(walk(root, bad[i]), "BAD") == 0;
	CHECK(all, "malformed paths are usage errors");
	json_decref(root);

	int rc;
	CHECK(strcmp(records("a,b\n\"x\ny\",1\n\"q\"\"\",2\n", WNW_SPLIT_CSV, &rc), "a,b@1|\"x\ny\",1@2|\"q\"\"\",2@4") ==
		      0 && rc == 0,
	      "CSV: a record spans lines; numbered by the line it starts on");
	CHECK(strcmp(records(" [ {\"a\": \"],\"}, {\"b\": [1, {\"c\": 2}]}\n ]\n", WNW_SPLIT_JSON_ARRAY, &rc),
		     "{\"a\": \"],\"}@1|{\"b\": [1, {\"c\": 2}]}@2") == 0 && rc == 0,
	      "JSON array: elements without the white space around them, numbered");
	CHECK(strcmp(records("[]", WNW_SPLIT_JSON_ARRAY, &rc), "") == 0 && rc == 0, "JSON array: empty");
	CHECK(strcmp(records("", WNW_SPLIT_JSON_ARRAY, &rc), "") == 0 && rc == 0, "JSON array: an empty file");
	records("[{}] x", WNW_SPLIT_JSON_ARRAY, &rc);
	CHECK(rc == -1, "JSON array: text after it");
	records("[{}, {", WNW_SPLIT_JSON_ARRAY, &rc);
	CHECK(rc == -1, "JSON array: not closed");
	records("{}", WNW_SPLIT_JSON_ARRAY, &rc);
	CHECK(rc == -1, "JSON array: an object is not an array");
	return unit_failed;
}
