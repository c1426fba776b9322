/* textout.h: output that is not a winnow stream (JSONL, TSV, .npy, reports), with the same rules as the
 * stream writer: -o FILE goes to a temporary file beside FILE renamed only at a successful close; -z
 * compresses with zstd; a closed downstream pipe is reported as WNW_EXIT_PIPE so the program ends
 * quietly. Like winnow.h this part never prints and never exits. */
#ifndef WINNOW_TEXTOUT_H
#define WINNOW_TEXTOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* A .npy array written to a text output row by row, its row count known only at the end: the header is
 * rewritten in place when the output allows it (wnw_tout_seekable), else the rows wait in an unlinked
 * temporary file in $TMPDIR (else /tmp) and follow the header at the end. descr is numpy's ("<f4",
 * "<f8", "<u8"), cols 0 for a 1-d array; each row is row_bytes of little-endian values. The calls
 * return 0, or -1 with e; after a failure the caller aborts the output and calls wnw_npyout_free. */
struct wnw_npyout {
	struct wnw_tout *t;
	const char *descr;
	uint32_t cols;
	size_t row_bytes, hdr;
	uint64_t rows;
	FILE *spool; /* an output that cannot be rewritten in place */
	int fd;      /* one that can, else -1 */
	int64_t base;
};

int wnw_npyout_start(struct wnw_npyout *n, struct wnw_tout *t, const char *descr, uint32_t cols,
		     size_t row_bytes, struct wnw_err *e);
int wnw_npyout_row(struct wnw_npyout *n, const void *row, struct wnw_err *e);
/* Writes the header with the final row count (and the spooled rows); frees what start took. */
int wnw_npyout_finish(struct wnw_npyout *n, struct wnw_err *e);
void wnw_npyout_free(struct wnw_npyout *n);

#endif
