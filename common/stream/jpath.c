/* jpath.c: parsing member paths and walking them through a jansson value (jpath.h). */
#include "jpath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct wnw_jstep *new_step(struct wnw_jpath *p, enum wnw_jstep_kind kind)
{
	struct wnw_jstep *s = realloc(p->steps, (p->n + 1) * sizeof *s);
	if (!s)
		return NULL;
	p->steps = s;
	s += p->n++;
	memset(s, 0, sizeof *s);
	s->kind = kind;
	return s;
}

/* "17" or "-3" (a whole string of digits after an optional minus) into *out. */
static int parse_index(const char *s, size_t n, int sign_ok, long long *out)
{
	size_t i = sign_ok && n && s[0] == '-';
	if (i == n || n - i > 18)
		return 0;
	long long x = 0;
	for (size_t k = i; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return 0;
		x = x * 10 + (s[k] - '0');
	}
	*out = i ? -x : x;
	return 1;
}

/* A double-quoted name at s (s[0] == '"'), with \" and \\ as escapes; *end gets the byte after it. */
static char *quoted(const char *s, const char *lim, const char **end)
{
	char *out = malloc((size_t)(lim - s) + 1), *o = out;
	if (!out)
		return NULL;
	for (s++; s < lim && *s != '"'; s++) {
		if (*s == '\\' && s + 1 < lim)
			s++;
		*o++ = *s;
	}
	*o = 0;
	if (s == lim) {
		free(out);
		errno = EINVAL;
		return NULL;
	}
	*end = s + 1;
	return out;
}

/* One bracket [ ... ] whose inside is in[0, n). */
static int parse_bracket(struct wnw_jpath *p, const char *in, size_t n)
{
	struct wnw_jstep *st;
	long long ix;
	const char *eq = memchr(in, '=', n);
	if (n >= 2 && in[0] == '"') {
		const char *end;
		if (!(st = new_step(p, WNW_JSTEP_NAME)) || !(st->name = quoted(in, in + n, &end)))
			return -1;
		return end == in + n ? 0 : -1;
	}
	if (n == 1 && in[0] == '*') {
		p->multi = 1;
		return new_step(p, WNW_JSTEP_ALL) ? 0 : -1;
	}
	if (parse_index(in, n, 1, &ix)) {
		if (!(st = new_step(p, WNW_JSTEP_INDEX)))
			return -1;
		st->index = ix;
		return 0;
	}
	if (!eq || eq == in)
		return -1;
	p->multi = 1;
	if (!(st = new_step(p, WNW_JSTEP_FILTER)) || !(st->name = strndup(in, (size_t)(eq - in))))
		return -1;
	const char *v = eq + 1, *lim = in + n, *end;
	if (v < lim && *v == '"')
		return (st->value = quoted(v, lim, &end)) && end == lim ? 0 : -1;
	return (st->value = strndup(v, (size_t)(lim - v))) ? 0 : -1;
}

int wnw_jpath_parse(struct wnw_jpath *p, const char *s, size_t n, struct wnw_err *e)
{
	memset(p, 0, sizeof *p);
	errno = 0;
	const char *c = s, *lim = s + n;
	if (c < lim && *c == '.')
		c++;
	int need_name = c == lim || *c != '[';
	while (c < lim) {
		if (*c == '[') {
			const char *close = c + 1;
			/* a ']' inside a quoted name does not close the bracket */
			for (int q = 0; close < lim && (q || *close != ']'); close++) {
				if (*close == '\\' && q && close + 1 < lim)
					close++;
				else if (*close == '"')
					q = !q;
			}
			if (close == lim || parse_bracket(p, c + 1, (size_t)(close - c - 1)) < 0)
				goto bad;
			c = close + 1;
			if (c < lim && *c != '.' && *c != '[')
				goto bad;
			need_name = c < lim && *c == '.';
			c += need_name;
			continue;
		}
		const char *stop = c;
		while (stop < lim && *stop != '.' && *stop != '[' && *stop != ']')
			stop++;
		if (stop == c || (stop < lim && *stop == ']'))
			goto bad;
		struct wnw_jstep *st = new_step(p, WNW_JSTEP_NAME);
		if (!st || !(st->name = strndup(c, (size_t)(stop - c))))
			goto bad;
		st->digits = parse_index(c, (size_t)(stop - c), 0, &st->index);
		c = stop;
		need_name = c < lim && *c == '.';
		c += need_name;
	}
	if (need_name || p->n == 0)
		goto bad;
	return 0;
bad:
	if (errno == ENOMEM)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	return wnw_errf(e, WNW_EXIT_USAGE, "bad member path '%.*s' (see pack(1), MEMBER PATHS)", (int)(n > 200 ? 200 : n),
			s);
}

static int filter_match(json_t *el, const struct wnw_jstep *st)
{
	json_t *v = json_is_object(el) ? json_object_get(el, st->name) : NULL;
	return v && json_is_string(v) && strcmp(json_string_value(v), st->value) == 0;
}

static long walk(const struct wnw_jpath *p, size_t i, json_t *v, int (*fn)(json_t *, void *), void *arg)
{
	if (!v || json_is_null(v))
		return 0;
	if (i == p->n)
		return fn(v, arg) < 0 ? -1 : 1;
	const struct wnw_jstep *st = &p->steps[i];
	long long ix = st->index;
	size_t len = json_is_array(v) ? json_array_size(v) : 0;
	long got = 0, k;
	switch (st->kind) {
	case WNW_JSTEP_NAME:
		if (json_is_object(v))
			return walk(p, i + 1, json_object_get(v, st->name), fn, arg);
		/* messages.2.content reads as messages[2].content */
		if (!st->digits || !json_is_array(v))
			return 0;
		/* fall through */
	case WNW_JSTEP_INDEX:
		if (ix < 0)
			ix += (long long)len;
		if (!json_is_array(v) || ix < 0 || (size_t)ix >= len)
			return 0;
		return walk(p, i + 1, json_array_get(v, (size_t)ix), fn, arg);
	case WNW_JSTEP_ALL:
	case WNW_JSTEP_FILTER:
		for (size_t a = 0; a < len; a++) {
			json_t *el = json_array_get(v, a);
			if (st->kind == WNW_JSTEP_FILTER && !filter_match(el, st))
				continue;
			if ((k = walk(p, i + 1, el, fn, arg)) < 0)
				return -1;
			got += k;
		}
		return got;
	}
	return 0;
}

long wnw_jpath_each(const struct wnw_jpath *p, json_t *root, int (*fn)(json_t *v, void *arg), void *arg)
{
	return walk(p, 0, root, fn, arg);
}

static int take_first(json_t *v, void *arg)
{
	json_t **out = arg;
	if (!*out)
		*out = v;
	return 0;
}

json_t *wnw_jpath_get(const struct wnw_jpath *p, json_t *root)
{
	json_t *v = NULL;
	walk(p, 0, root, take_first, &v);
	return v;
}

const char *wnw_jpath_name(const struct wnw_jpath *p)
{
	return p->n == 1 && p->steps[0].kind == WNW_JSTEP_NAME ? p->steps[0].name : NULL;
}

void wnw_jpath_free(struct wnw_jpath *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->steps[i].name);
		free(p->steps[i].value);
	}
	free(p->steps);
	memset(p, 0, sizeof *p);
}
