/* render.h: a record's fields as text, for unpack's JSON lines and TSV: numbers printed so that they
 * read back exactly (9 significant digits for f32, 17 for f64), strings escaped for JSON or for a TSV
 * cell. Like winnow.h this part never prints and never exits. */
#ifndef WINNOW_RENDER_H
#define WINNOW_RENDER_H

#include <stddef.h>

#include "jsonl.h"
#include "winnow.h"

/* Appends s[0, n) as a JSON string. Returns 0; 1 when s is not UTF-8, which a JSON text cannot hold
 * (nothing appended); -1 when out of memory. */
int wnw_render_json_string(struct wnw_buf *b, const void *s, size_t n);
/* Appends s[0, n) as a TSV cell: backslash, tab, newline and carriage return as \\, \t, \n, \r.
 * Returns 0, or -1 when out of memory. */
int wnw_render_tsv_cell(struct wnw_buf *b, const void *s, size_t n);
/* Appends field f of rec as a JSON value (json != 0: vectors and neighbour lists as arrays, NaN and
 * infinities as null) or as a TSV cell (backslash, tab, newline and carriage return as \\, \t, \n, \r;
 * a vector as comma-separated numbers, neighbours as id:distance). Returns 0, or -1 with e: out of
 * memory, or a bytes field that is not UTF-8 asked for as JSON ("NAME: record N: field 'F' ...", NAME
 * the input's name). */
int wnw_render_value(struct wnw_buf *b, const struct wnw_rec *rec, int f, int json, const char *name,
		     struct wnw_err *e);

#endif
