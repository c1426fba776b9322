/* yamlmap.h: reads a flat YAML mapping (option files, recipe parameters) with libyaml, checks the kinds
 * of value parameter files give, and quotes values safely in messages. */
#ifndef WINNOW_YAMLMAP_H
#define WINNOW_YAMLMAP_H

#include <stddef.h>

#include "winnow.h"

/* Called for each key and scalar value, once per element when the value is a sequence (in_seq then
 * set, so that a caller can refuse a list for a key that takes one value); line counts from 1.
 * Returns 0, or -1 having set e. */
typedef int (*wnw_yaml_fn)(void *ctx, const char *key, const char *val, size_t line, int in_seq,
			   struct wnw_err *e);

/* Reads the mapping in path ("-" or NULL: stdin): one document, one flat mapping. Values are scalars,
 * or sequences of scalars when seqs is set; anything else is an error naming the file and line.
 * Returns 0 or -1 with e set. */
int wnw_yaml_map(const char *path, int seqs, wnw_yaml_fn fn, void *ctx, struct wnw_err *e);

/* The kinds of value a parameter file may give. */
enum wnw_yaml_kind {
	WNW_YAML_PATH,     /* a file name: not empty */
	WNW_YAML_WORD,     /* a file name a make recipe can take: letters, digits and ._+,@/- only */
	WNW_YAML_TEXT,     /* any text */
	WNW_YAML_COUNT,    /* a whole number from 1 */
	WNW_YAML_WHOLE,    /* a whole number from 0 */
	WNW_YAML_LEVEL,    /* a whole number from 1 to 9 */
	WNW_YAML_RANGE,    /* N or LO-HI, LO <= HI */
	WNW_YAML_FRACTION, /* a finite number strictly between 0 and 1 */
	WNW_YAML_POSITIVE, /* a finite number above 0 */
	WNW_YAML_NONNEG,   /* a finite number, 0 or above */
	WNW_YAML_BOOL      /* true or false, as wnw_yaml_bool reads them */
};

/* NULL when v is a value of kind k, else what is wrong with it, to follow the quoted value in a
 * message ("'1.5' is not strictly between 0 and 1"). No kind takes a control character. */
const char *wnw_yaml_check(enum wnw_yaml_kind k, const char *v);

/* 1 for true, yes, on or 1; 0 for false, no, off or 0; -1 for anything else. */
int wnw_yaml_bool(const char *v);

/* s as a message may quote it: control bytes escaped (\xNN), at most about 60 bytes of it
 * and then "... (N bytes)", so that a huge or binary value never floods stderr. Returns buf. */
enum { WNW_QUOTE_MAX = 128 };
const char *wnw_quote(const char *s, char buf[WNW_QUOTE_MAX]);

#endif
