/* jpath.h: member paths into a JSON object, as pack takes them wherever it takes a member name:
 * a.b.c, a[0], a[-1] (from the end), a[*].b (every element), a[role=assistant].b (the elements that
 * are objects whose member role is that string), and ["a.b"] for a name holding '.', '[' or ']'.
 * Like winnow.h this part never prints and never exits. */
#ifndef WINNOW_JPATH_H
#define WINNOW_JPATH_H

#include <jansson.h>
#include <stddef.h>

#include "winnow.h"

enum wnw_jstep_kind { WNW_JSTEP_NAME, WNW_JSTEP_INDEX, WNW_JSTEP_ALL, WNW_JSTEP_FILTER };

struct wnw_jstep {
	enum wnw_jstep_kind kind;
	char *name;      /* NAME: the member; FILTER: the member compared */
	char *value;     /* FILTER: the string it must equal */
	long long index; /* INDEX; also NAME when the name is all digits and meets an array */
	int digits;
};

struct wnw_jpath {
	struct wnw_jstep *steps;
	size_t n;
	int multi; /* has [*] or a filter: may reach any number of values */
};

/* Parses s[0, n). Returns 0, or -1 with a usage message in e (p then needs wnw_jpath_free). */
int wnw_jpath_parse(struct wnw_jpath *p, const char *s, size_t n, struct wnw_err *e);
/* Calls fn(v, arg) on each value the path reaches from root, in document order, skipping nulls.
 * Returns how many it reached, or -1 as soon as fn returns -1. */
long wnw_jpath_each(const struct wnw_jpath *p, json_t *root, int (*fn)(json_t *v, void *arg), void *arg);
/* The first value the path reaches, or NULL. */
json_t *wnw_jpath_get(const struct wnw_jpath *p, json_t *root);
/* The member name when the path is a single name (as a TSV or CSV column is), else NULL. */
const char *wnw_jpath_name(const struct wnw_jpath *p);
void wnw_jpath_free(struct wnw_jpath *p);

#endif
