/* yamlmap.h: reads a flat YAML mapping (option files, recipe parameters) with libyaml. */
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

/* s as a message may quote it: control bytes escaped (\xNN), at most about 60 bytes of it
 * and then "... (N bytes)", so that a huge or binary value never floods stderr. Returns buf. */
enum { WNW_QUOTE_MAX = 128 };
const char *wnw_quote(const char *s, char buf[WNW_QUOTE_MAX]);

#endif
