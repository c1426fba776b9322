/* yamlmap.c: a flat YAML mapping, read event by event with libyaml (yamlmap.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "yamlmap.h"

struct walk {
	const char *name;
	char *key;
	int depth, in_seq, seqs, docs;
};

const char *wnw_quote(const char *s, char buf[WNW_QUOTE_MAX])
{
	size_t n = strlen(s), o = 0, i = 0;

	for (; i < n && o < 60; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, WNW_QUOTE_MAX - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	if (i < n)
		snprintf(buf + o, WNW_QUOTE_MAX - o, "... (%zu bytes)", n);
	return buf;
}

int wnw_yaml_bool(const char *v)
{
	static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcmp(v, yes[i]) == 0)
			return 1;
		if (strcmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* A whole number of digits only (no sign, no blanks), into *n. */
static int whole(const char *v, unsigned long long *n)
{
	char *end;
	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	*n = strtoull(v, &end, 10);
	return *end == '\0' && errno == 0 ? 0 : -1;
}

static const char *check_range(const char *v)
{
	const char *dash = strchr(v, '-');
	unsigned long long lo, hi;
	char buf[32];

	if (dash == NULL)
		return whole(v, &lo) < 0 ? "is not N or LO-HI" : NULL;
	if ((size_t)(dash - v) >= sizeof buf)
		return "is not N or LO-HI";
	memcpy(buf, v, (size_t)(dash - v));
	buf[dash - v] = '\0';
	return whole(buf, &lo) < 0 || whole(dash + 1, &hi) < 0 || lo > hi ? "is not N or LO-HI" : NULL;
}

static const char *check_number(enum wnw_yaml_kind k, const char *v)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || !isfinite(x))
		return "is not a number";
	if (errno == ERANGE && x == 0) /* a subnormal result is a number like any other */
		return "is too close to 0 for a double";
	if (k == WNW_YAML_FRACTION && !(x > 0 && x < 1))
		return "is not strictly between 0 and 1";
	if (k == WNW_YAML_POSITIVE && !(x > 0))
		return "is not positive";
	if (k == WNW_YAML_NONNEG && !(x >= 0))
		return "is negative";
	return NULL;
}

/* What a make recipe can name without quoting: nothing make or a shell would read as syntax. */
#define WORD_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+,@/-"

const char *wnw_yaml_check(enum wnw_yaml_kind k, const char *v)
{
	unsigned long long n;

	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "holds a control character (write a template's newline as \\n)";
	switch (k) {
	case WNW_YAML_PATH:
		return *v == '\0' ? "is empty" : NULL;
	case WNW_YAML_WORD:
		return *v == '\0' || v[strspn(v, WORD_CHARS)] != '\0' ? "is not a file name of letters, digits and ._+,@/-"
									: NULL;
	case WNW_YAML_TEXT:
		return NULL;
	case WNW_YAML_COUNT:
		return whole(v, &n) < 0 || n < 1 ? "is not a whole number from 1" : NULL;
	case WNW_YAML_WHOLE:
		return whole(v, &n) < 0 ? "is not a whole number" : NULL;
	case WNW_YAML_LEVEL:
		return whole(v, &n) < 0 || n < 1 || n > 9 ? "is not a level from 1 to 9" : NULL;
	case WNW_YAML_RANGE:
		return check_range(v);
	case WNW_YAML_BOOL:
		return wnw_yaml_bool(v) < 0 ? "is not true or false" : NULL;
	default:
		return check_number(k, v);
	}
}

/* One event; returns 1 at the end of the stream, 0 to go on, -1 on error. */
static int on_event(struct walk *w, const yaml_event_t *ev, wnw_yaml_fn fn, void *ctx, struct wnw_err *e)
{
	size_t line = ev->start_mark.line + 1;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++w->docs > 1)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: a second YAML document: give one mapping",
					w->name, line);
		return 0;
	case YAML_MAPPING_START_EVENT:
		if (++w->depth > 1)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: nested mappings are not allowed", w->name, line);
		return 0;
	case YAML_MAPPING_END_EVENT:
		w->depth--;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
		if (!w->seqs || w->key == NULL || w->in_seq)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: expected a scalar value", w->name, line);
		w->in_seq = 1;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
		w->in_seq = 0;
		free(w->key);
		w->key = NULL;
		return 0;
	case YAML_SCALAR_EVENT:
		if (w->depth != 1)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: expected a mapping", w->name, line);
		if (w->key == NULL) {
			if ((w->key = strdup((const char *)ev->data.scalar.value)) == NULL)
				return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
			return 0;
		}
		if (fn(ctx, w->key, (const char *)ev->data.scalar.value, line, w->in_seq, e) < 0)
			return -1;
		if (!w->in_seq) {
			free(w->key);
			w->key = NULL;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		return wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: aliases are not supported", w->name, line);
	case YAML_STREAM_END_EVENT:
		return 1;
	default:
		return 0;
	}
}

int wnw_yaml_map(const char *path, int seqs, wnw_yaml_fn fn, void *ctx, struct wnw_err *e)
{
	int use_stdin = path == NULL || strcmp(path, "-") == 0;
	struct walk w = {use_stdin ? "stdin" : path, NULL, 0, 0, seqs, 0};
	FILE *f = use_stdin ? stdin : fopen(path, "rb");
	yaml_parser_t p;
	int rc = 0;

	if (f == NULL)
		return wnw_errf(e, WNW_EXIT_USAGE, "%s: cannot open: %s", path, strerror(errno));
	if (!yaml_parser_initialize(&p)) {
		if (!use_stdin)
			fclose(f);
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	yaml_parser_set_input_file(&p, f);
	while (rc == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			rc = wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: %s", w.name, p.problem_mark.line + 1,
				      p.problem ? p.problem : "YAML error");
			break;
		}
		rc = on_event(&w, &ev, fn, ctx, e);
		yaml_event_delete(&ev);
	}
	free(w.key);
	yaml_parser_delete(&p);
	if (!use_stdin)
		fclose(f);
	return rc < 0 ? -1 : 0;
}
