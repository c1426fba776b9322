/* Unit tests of common/yamlmap.c: the flat mapping reader (one document, lists flagged, nested mappings
 * refused after a mapping has ended), the value kinds of parameter files, and quoting for messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "yamlmap.h"

struct seen {
	char text[512];
};

/* Records "key=value" or "key[]=value" for each entry, in order. */
static int collect(void *ctx, const char *key, const char *val, size_t line, int in_seq, struct wnw_err *e)
{
	struct seen *s = ctx;
	size_t n = strlen(s->text);
	(void)line, (void)e;
	snprintf(s->text + n, sizeof s->text - n, "%s%s=%s;", key, in_seq ? "[]" : "", val);
	return 0;
}

/* Reads text as a YAML file; returns 0 or -1, with what collect saw in s and any error in e. */
static int read_text(const char *text, int seqs, struct seen *s, struct wnw_err *e)
{
	char path[] = "/tmp/winnow-yamlmap.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -2;
	close(fd);
	s->text[0] = '\0';
	e->msg[0] = '\0';
	int rc = wnw_yaml_map(path, seqs, collect, s, e);
	unlink(path);
	return rc;
}

static void test_reader(void)
{
	struct seen s;
	struct wnw_err e;

	CHECK(read_text("a: 1\nb: [x, y]\n", 1, &s, &e) == 0 && strcmp(s.text, "a=1;b[]=x;b[]=y;") == 0,
	      "scalars, and a list's elements flagged as such (%s)", s.text);
	CHECK(read_text("b: [x, y]\n", 0, &s, &e) == -1 && strstr(e.msg, "line 1: expected a scalar value") != NULL,
	      "a list refused where lists are not allowed (%s)", e.msg);
	CHECK(read_text("a: 1\n---\na: 2\n", 0, &s, &e) == -1 && strstr(e.msg, "line 2: a second YAML document") != NULL,
	      "a second document named as such, not as a nested mapping (%s)", e.msg);
	CHECK(read_text("a: 1\n...\n", 0, &s, &e) == 0 && strcmp(s.text, "a=1;") == 0,
	      "one document with its end marker");
	CHECK(read_text("a:\n  b: 1\n", 0, &s, &e) == -1 && strstr(e.msg, "line 2: nested mappings") != NULL,
	      "a nested mapping refused (%s)", e.msg);
}

static void test_kinds(void)
{
	static const struct {
		enum wnw_yaml_kind k;
		const char *v;
		int good;
	} cases[] = {
		{WNW_YAML_COUNT, "1", 1},        {WNW_YAML_COUNT, "0", 0},          {WNW_YAML_COUNT, "+3", 0},
		{WNW_YAML_COUNT, " 3", 0},       {WNW_YAML_COUNT, "3.0", 0},        {WNW_YAML_COUNT, "99999999999999999999999", 0},
		{WNW_YAML_WHOLE, "0", 1},        {WNW_YAML_WHOLE, "-1", 0},         {WNW_YAML_LEVEL, "9", 1},
		{WNW_YAML_LEVEL, "10", 0},       {WNW_YAML_RANGE, "3-5", 1},        {WNW_YAML_RANGE, "0", 1},
		{WNW_YAML_RANGE, "5-3", 0},      {WNW_YAML_RANGE, "3-", 0},         {WNW_YAML_FRACTION, "0.5", 1},
		{WNW_YAML_FRACTION, "1", 0},     {WNW_YAML_FRACTION, "nan", 0},     {WNW_YAML_POSITIVE, "1e-320", 1},
		{WNW_YAML_POSITIVE, "0", 0},     {WNW_YAML_POSITIVE, "inf", 0},     {WNW_YAML_NONNEG, "0", 1},
		{WNW_YAML_NONNEG, "-0.1", 0},    {WNW_YAML_BOOL, "yes", 1},         {WNW_YAML_BOOL, "maybe", 0},
		{WNW_YAML_WORD, "a/b.jsonl", 1}, {WNW_YAML_WORD, "a b.jsonl", 0},   {WNW_YAML_WORD, "o;x", 0},
		{WNW_YAML_WORD, "$(x)", 0},      {WNW_YAML_PATH, "a b.jsonl", 1},   {WNW_YAML_PATH, "", 0},
		{WNW_YAML_TEXT, "$(x) `y` #z", 1}, {WNW_YAML_TEXT, "a\nb", 0},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if ((wnw_yaml_check(cases[i].k, cases[i].v) == NULL) != cases[i].good) {
			printf("#   kind %d, '%s': wanted %s\n", (int)cases[i].k, cases[i].v, cases[i].good ? "good" : "bad");
			bad++;
		}
	CHECK(bad == 0, "each kind takes its values and refuses the rest (%zu cases)", sizeof cases / sizeof cases[0]);
	CHECK(wnw_yaml_bool("on") == 1 && wnw_yaml_bool("0") == 0 && wnw_yaml_bool("") == -1, "booleans");
}

static void test_quote(void)
{
	char q[WNW_QUOTE_MAX], big[100001];

	CHECK(strcmp(wnw_quote("a\x01" "b\n", q), "a\\x01b\\x0a") == 0, "control bytes escaped (%s)", q);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	wnw_quote(big, q);
	CHECK(strlen(q) < 100 && strstr(q, "... (100000 bytes)") != NULL, "a long value cut, its length given (%s)", q);
	memset(big, '\x01', 1000);
	big[1000] = '\0';
	CHECK(strlen(wnw_quote(big, q)) < WNW_QUOTE_MAX, "escapes never overflow the buffer");
}

int main(void)
{
	test_reader();
	test_kinds();
	test_quote();
	return unit_failed;
}
