/* lines.h: a line reader over plain, gzip- or zstd-compressed input (told apart by their magic bytes,
 * never by the file name), with line numbers and a bound on line length so that memory stays bounded.
 * Like winnow.h this part never prints and never exits: it returns -1 with a message in a wnw_err. */
#ifndef WINNOW_LINES_H
#define WINNOW_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "winnow.h"

#define WNW_LINES_DEFAULT_MAX (64u << 20)

struct wnw_lines;

/* Opens path ("-" or NULL for stdin). Lines longer than maxline bytes (without the newline) are an
 * error. Messages name the file as `name` (the path, or "stdin"). */
struct wnw_lines *wnw_lines_open(const char *path, size_t maxline, struct wnw_err *e);
/* Like wnw_lines_open on an open descriptor, which wnw_lines_close closes. */
struct wnw_lines *wnw_lines_fdopen(int fd, const char *name, size_t maxline, struct wnw_err *e);
/* Returns 1 with the next line in *line, *len (without its '\n'; valid until the next call), 0 at the
 * end of the input, -1 on error. A last line without a final newline is still a line. */
int wnw_lines_next(struct wnw_lines *l, const char **line, size_t *len, struct wnw_err *e);
/* How wnw_lines_next splits the input: at newlines (the default); at newlines outside double quotes
 * (CSV records, which may span lines); or into the elements of one top-level JSON array, each given
 * without the white space around it (the array itself is never held whole). */
enum wnw_split { WNW_SPLIT_LINES, WNW_SPLIT_CSV, WNW_SPLIT_JSON_ARRAY };
void wnw_lines_split(struct wnw_lines *l, enum wnw_split how);
/* The first byte that is not white space, without consuming anything but a UTF-8 byte order mark at
 * the start of the input: 1 with it in *c, 0 at the end of the input, -1 on error. */
int wnw_lines_peek(struct wnw_lines *l, char *c, struct wnw_err *e);
/* Number of the line last returned (for CSV, the line its record starts on; for a JSON array, the
 * element's number), counting from 1. */
uint64_t wnw_lines_lineno(const struct wnw_lines *l);
/* What wnw_lines_lineno counts, for messages: "line", or "element" in a JSON array. */
const char *wnw_lines_unit(const struct wnw_lines *l);
const char *wnw_lines_name(const struct wnw_lines *l);
/* Bytes read from the file so far (compressed bytes when compressed) and its size, 0 when unknown. */
void wnw_lines_position(const struct wnw_lines *l, uint64_t *done, uint64_t *total);
void wnw_lines_close(struct wnw_lines *l);

#endif
