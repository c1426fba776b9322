/* Unit test of common/jsonl.c: text from a member or a template, ids, lifted fields, TSV rows, bad
 * lines with jansson's message, and the UTF-8 validator. */
#include <string.h>

#include "jsonl.h"
#include "unit.h"

static int text_is(const struct wnw_jsonl *j, const char *want)
{
	return j->text.n == strlen(want) && memcmp(j->text.p, want, j->text.n) == 0;
}

#define LINE(s) s, sizeof s - 1

int main(void)
{
	struct wnw_jsonl j;
	struct wnw_err e;
	const char *fields[] = {"label", "loss:f64", "n:u64"};

	CHECK(wnw_jsonl_init(&j, WNW_SRC_JSONL, NULL, "id", fields, 3, &e) == 0, "init with id and fields");
#define L1 "{\"text\":\"a\\tb\\u00e9\",\"id\":42,\"label\":{\"x\":[1, 2]},\"loss\":-1.5,\"n\":7}"
	CHECK(wnw_jsonl_parse(&j, LINE(L1), &e) == 1 &&
		      text_is(&j, "a\tb\xc3\xa9") && j.id == 42,
	      "text decoded from its JSON string; id from the member");
	CHECK(j.fields[0].s.n == 11 && memcmp(j.fields[0].s.p, "{\"x\":[1,2]}", 11) == 0,
	      "a text field holding an object gets its compact JSON");
	CHECK(j.fields[1].d == -1.5 && j.fields[2].u == 7, "f64 and u64 fields");
	CHECK(j.json_len == strlen(L1) && memcmp(j.json, L1, j.json_len) == 0, "json is the line itself");
	CHECK(wnw_jsonl_parse(&j, LINE("{\"text\":\"a\",\"id\":-1,\"label\":\"x\",\"loss\":1,\"n\":1}"), &e) == -1 &&
		      strcmp(e.msg, "member \"id\" is neither a string nor an unsigned integer") == 0,
	      "a negative id: %s", e.msg);
	CHECK(wnw_jsonl_parse(&j, LINE("{\"text\":\"a\",\"id\":1,\"label\":\"x\",\"loss\":\"1\",\"n\":1}"), &e) == -1 &&
		      strcmp(e.msg, "member \"loss\" is not a number") == 0,
	      "a string for f64: %s", e.msg);
	CHECK(wnw_jsonl_parse(&j, LINE("{\"text\":\"a\",\"id\":1,\"label\":null,\"loss\":1,\"n\":1}"), &e) == -1 &&
		      strcmp(e.msg, "member \"label\" is missing or null") == 0,
	      "null: %s", e.msg);
	CHECK(wnw_jsonl_parse(&j, LINE("{\"text\":\"a\",\"id\":1,\"loss\":1,\"n\":1.5}"), &e) == -1 &&
		      strcmp(e.msg, "member \"label\" is missing or null") == 0,
	      "missing: %s", e.msg);
	CHECK(wnw_jsonl_parse(&j, LINE("{\"text\": \"a\""), &e) == -1 &&
		      strcmp(e.msg, "'}' expected near end of file") == 0,
	      "an unfinished object gives jansson's message: %s", e.msg);
	CHECK(wnw_jsonl_parse(&j, LINE("{\"text\":\"a\"} x"), &e) == -1 && strstr(e.msg, "end of file expected"),
	      "trailing garbage: %s", e.msg);
	CHECK(wnw_jsonl_parse(&j, LINE("\"just a string\""), &e) == -1, "a top-level string is refused");
	CHECK(wnw_jsonl_parse(&j, "", 0, &e) == 0 && wnw_jsonl_parse(&j, "\r", 1, &e) == 0,
	      "an empty line is not a record");
	wnw_jsonl_free(&j);

	CHECK(wnw_jsonl_init(&j, WNW_SRC_JSONL, "Q: {q}\\nA: {a} {{lit}}", NULL, NULL, 0, &e) == 0, "template");
	CHECK(wnw_jsonl_parse(&j, LINE("{\"q\":\"why\",\"a\":42}"), &e) == 1 && text_is(&j, "Q: why\nA: 42 {lit}"),
	      "template: members, \\n, {{ }}, a number member as JSON");
	wnw_jsonl_free(&j);
	static const char *const bad_templates[] = {"{a", "a}", "{}", "x\\q{a}", "{a{b}}"};
	int all = 1;
	for (size_t i = 0; i < 5; i++) {
		all &= wnw_jsonl_init(&j, WNW_SRC_JSONL, bad_templates[i], NULL, NULL, 0, &e) == -1 &&
		       e.status == WNW_EXIT_USAGE;
		wnw_jsonl_free(&j);
	}
	CHECK(all, "malformed templates are usage errors");
	const char *clash[] = {"text"}, *dup[] = {"a", "a:u64"}, *badtype[] = {"a:int"};
	CHECK(wnw_jsonl_init(&j, WNW_SRC_JSONL, NULL, NULL, clash, 1, &e) == -1, "--field text is refused");
	wnw_jsonl_free(&j);
	CHECK(wnw_jsonl_init(&j, WNW_SRC_JSONL, NULL, NULL, dup, 2, &e) == -1, "a field given twice is refused");
	wnw_jsonl_free(&j);
	CHECK(wnw_jsonl_init(&j, WNW_SRC_JSONL, NULL, NULL, badtype, 1, &e) == -1, "an unknown type is refused");
	wnw_jsonl_free(&j);

	const char *tf[] = {"score:f64"};
	CHECK(wnw_jsonl_init(&j, WNW_SRC_TSV, "{t} ({k})", "k", tf, 1, &e) == 0 &&
		      wnw_jsonl_tsv_header(&j, LINE("k\tt\tscore\r"), &e) == 0,
	      "TSV header (CR stripped)");
	CHECK(wnw_jsonl_parse(&j, LINE("5\thi \"x\"\t2.5e-3"), &e) == 1 && j.id == 5 && text_is(&j, "hi \"x\" (5)") &&
		      j.fields[0].d == 2.5e-3,
	      "TSV row: id, template text, f64");
#define J1 "{\"k\":\"5\",\"t\":\"hi \\\"x\\\"\",\"score\":\"2.5e-3\"}"
	CHECK(j.json_len == strlen(J1) && memcmp(j.json, J1, j.json_len) == 0,
	      "TSV row as a JSON object of strings");
	CHECK(wnw_jsonl_parse(&j, LINE("5\tx"), &e) == -1 && strcmp(e.msg, "2 columns, the header has 3") == 0,
	      "too few columns: %s", e.msg);
	CHECK(wnw_jsonl_parse(&j, LINE("x5\tx\t1"), &e) == 1 && !j.id_num && j.sid.n == 2 && memcmp(j.sid.p, "x5", 2) == 0,
	      "an id cell that is not a number is a string id");
	CHECK(wnw_jsonl_parse(&j, LINE("5\tx\t1z"), &e) == -1 && strstr(e.msg, "not a number"), "a bad number");
	CHECK(wnw_jsonl_parse(&j, LINE("5\t\xff\t1"), &e) == -1 && strstr(e.msg, "UTF-8"), "bad UTF-8 in TSV");
	CHECK(wnw_jsonl_tsv_header(&j, LINE("t\tt"), &e) == -1, "a header naming a column twice");
	CHECK(wnw_jsonl_tsv_header(&j, LINE("a\tb"), &e) == -1 && strstr(e.msg, "no column 't'"),
	      "a header without a needed column: %s", e.msg);
	wnw_jsonl_free(&j);

	CHECK(wnw_jsonl_init(&j, WNW_SRC_LINES, NULL, NULL, NULL, 0, &e) == 0, "plain lines");
	CHECK(wnw_jsonl_parse(&j, LINE("a line\r"), &e) == 1 && text_is(&j, "a line"), "CR stripped");
	CHECK(wnw_jsonl_parse(&j, "", 0, &e) == 1 && j.text.n == 0, "an empty line is a record");
	wnw_jsonl_free(&j);

	CHECK(wnw_utf8_valid(LINE("ascii \xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82")), "UTF-8: valid 1-4 byte forms");
	CHECK(!wnw_utf8_valid(LINE("\xc0\xaf")), "UTF-8: overlong refused");
	CHECK(!wnw_utf8_valid(LINE("\xed\xa0\x80")), "UTF-8: surrogate refused");
	CHECK(!wnw_utf8_valid(LINE("\xf4\x90\x80\x80")), "UTF-8: above U+10FFFF refused");
	CHECK(!wnw_utf8_valid(LINE("\xe2\x82")), "UTF-8: truncated sequence refused");
	CHECK(!wnw_utf8_valid(LINE("\x80")), "UTF-8: lone continuation refused");
	return unit_failed;
}
