/* extsort.h: an external sort of fixed-size items, as sort(1) does it: items collect in a buffer of at
 * most mem bytes; a full buffer is sorted and written as a run to one temporary file (unlinked at once,
 * so nothing is left behind); the runs are then merged. Never prints, never exits. */
#ifndef WINNOW_EXTSORT_H
#define WINNOW_EXTSORT_H

#include <stddef.h>
#include <stdint.h>

#include "winnow.h"

struct wnw_xsort;

/* A pair of 64-bit words, the item of the fast path: ordered by a, then b, as unsigned integers. */
struct wnw_pair {
	uint64_t a, b;
};

/* Items of size bytes ordered by cmp (which must be a total order for the output to be reproducible),
 * or with cmp NULL struct wnw_pair items (size 16) by an inlined comparison, several times faster;
 * mem is the buffer's size in bytes (at least 64 items' worth is used); tmpdir NULL means $TMPDIR or
 * else /tmp. The merge reads each run through a buffer of mem / runs bytes (at least 64 KiB). */
struct wnw_xsort *wnw_xsort_new(size_t size, int (*cmp)(const void *, const void *), size_t mem,
				const char *tmpdir, struct wnw_err *e);
/* Adds one item (copied). Returns 0, or -1 on a write error or out of memory. */
int wnw_xsort_add(struct wnw_xsort *x, const void *item, struct wnw_err *e);
/* Ends the input: sorts what is buffered and prepares the merge. Returns 0 or -1. */
int wnw_xsort_finish(struct wnw_xsort *x, struct wnw_err *e);
/* The items in order: 1 with *item valid until the next call, 0 after the last, -1 on error. */
int wnw_xsort_next(struct wnw_xsort *x, const void **item, struct wnw_err *e);
/* Runs written to disk (0: everything fitted in memory). */
uint64_t wnw_xsort_runs(const struct wnw_xsort *x);
void wnw_xsort_free(struct wnw_xsort *x);

#endif
