/* spool.h: bytes appended to an unlinked temporary file, then mapped read-only for random access, so
 * that what a program must look up again (texts, signatures) costs page cache, not heap, and at most a
 * window of it counts in the process's resident memory. Never prints, never exits. */
#ifndef WINNOW_SPOOL_H
#define WINNOW_SPOOL_H

#include <stdint.h>
#include <stdio.h>

#include "winnow.h"

struct wnw_spool {
	FILE *f;
	uint64_t size;       /* bytes appended */
	const uint8_t *map;  /* after wnw_spool_map: the whole file */
	uint64_t window;     /* bytes of pages looked up between releases (wnw_spool_open: 256 MiB) */
	uint64_t touched;    /* bytes of the blocks seen since the last release */
	uint64_t *seen;      /* a bit per 64 KiB block of the map */
};

/* The directory for temporary files: dir, or when it is NULL or empty $TMPDIR, or else /tmp. */
const char *wnw_tmpdir(const char *dir);

/* tmpdir NULL means $TMPDIR or else /tmp. Returns 0 or -1. */
int wnw_spool_open(struct wnw_spool *s, const char *tmpdir, struct wnw_err *e);
int wnw_spool_add(struct wnw_spool *s, const void *p, size_t n, struct wnw_err *e);
/* Ends the appending; s->map then holds s->size bytes. Returns 0 or -1. */
int wnw_spool_map(struct wnw_spool *s, struct wnw_err *e);
/* The n bytes at off of the map, to read. Once the pages looked up this way pass s->window bytes, every
 * page is given back first (it stays in the page cache, and a later look-up maps it again; pointers
 * already returned stay valid), so that the map's share of resident memory stays within the window
 * however large the file and however random the look-ups. */
const uint8_t *wnw_spool_at(struct wnw_spool *s, uint64_t off, size_t n);
void wnw_spool_close(struct wnw_spool *s);

#endif
