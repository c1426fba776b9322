/* spool.h: bytes appended to an unlinked temporary file, then mapped read-only for random access, so
 * that what a program must look up again (texts, signatures) costs page cache, not heap. Never prints,
 * never exits. */
#ifndef WINNOW_SPOOL_H
#define WINNOW_SPOOL_H

#include <stdint.h>
#include <stdio.h>

#include "winnow.h"

struct wnw_spool {
	FILE *f;
	uint64_t size;       /* bytes appended */
	const uint8_t *map;  /* after wnw_spool_map: the whole file */
};

/* The directory for temporary files: dir, or when it is NULL or empty $TMPDIR, or else /tmp. */
const char *wnw_tmpdir(const char *dir);

/* tmpdir NULL means $TMPDIR or else /tmp. Returns 0 or -1. */
int wnw_spool_open(struct wnw_spool *s, const char *tmpdir, struct wnw_err *e);
int wnw_spool_add(struct wnw_spool *s, const void *p, size_t n, struct wnw_err *e);
/* Ends the appending; s->map then holds s->size bytes. Returns 0 or -1. */
int wnw_spool_map(struct wnw_spool *s, struct wnw_err *e);
void wnw_spool_close(struct wnw_spool *s);

#endif
