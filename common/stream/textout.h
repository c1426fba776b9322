/* textout.h: output that is not a winnow stream (JSONL, TSV, .npy, reports), with the same rules as the
 * stream writer: -o FILE goes to a temporary file beside FILE renamed only at a successful close; -z
 * compresses with zstd; a closed downstream pipe is reported as WNW_EXIT_PIPE so the program ends
 * quietly. Like winnow.h this part never prints and never exits. */
#ifndef WINNOW_TEXTOUT_H
#define WINNOW_TEXTOUT_H

#include <stddef.h>
#include <stdint.h>

#include "winnow.h"

struct wnw_tout;

/* path NULL or "-" writes stdout; zlevel 0 writes plain, 1..22 zstd. */
struct wnw_tout *wnw_tout_open(const char *path, int zlevel, struct wnw_err *e);
int wnw_tout_write(struct wnw_tout *t, const void *p, size_t n, struct wnw_err *e);
int wnw_tout_printf(struct wnw_tout *t, struct wnw_err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The descriptor of an uncompressed output that can be rewritten in place with pwrite (a temporary
 * file, or stdout when it is a regular file), after flushing; -1 otherwise. Offsets count from the
 * first byte this output wrote. */
int wnw_tout_seekable(struct wnw_tout *t, int64_t *base, struct wnw_err *e);
/* Flushes (ending the zstd frame), closes, and renames the temporary file into place. Frees t. */
int wnw_tout_close(struct wnw_tout *t, struct wnw_err *e);
/* Drops the output: removes the temporary file, if any. Frees t. Safe on NULL. */
void wnw_tout_abort(struct wnw_tout *t);

#endif
