/* sink.h: where every program's output goes, stream or text: stdout, a device written in place, or
 * FILE by way of a temporary file beside it that is renamed only when the output is complete (and
 * removed on failure or on SIGINT, SIGTERM, SIGHUP); plain or zstd-compressed. Never prints, never
 * exits; a closed downstream pipe is reported as WNW_EXIT_PIPE. */
#ifndef WINNOW_SINK_H
#define WINNOW_SINK_H

#include <stddef.h>
#include <zlib.h>
#include <zstd.h>

#include "winnow.h"

struct wnw_sink {
	int fd, own_fd;    /* own_fd: a device opened by name, closed at the end */
	char *path, *tmp;  /* tmp: the temporary file, NULL for stdout or a device */
	ZSTD_CStream *cs;  /* NULL when writing plain */
	z_stream *gz;      /* gzip instead, when not NULL */
	unsigned char *zout;
	size_t zcap;
	int gift;          /* a pipe written plain: wnw_sink_gift may hand it whole pages */
};

/* path NULL or "-" is stdout; zlevel 0 plain, 1..22 zstd. On failure nothing is left to free. */
int wnw_sink_open(struct wnw_sink *s, const char *path, int zlevel, struct wnw_err *e);
/* Compresses with gzip (level 6) from here on, instead of writing plain. */
int wnw_sink_gzip(struct wnw_sink *s, struct wnw_err *e);
/* 1 when path (NULL or "-": stdout) ends in ".gz". */
int wnw_sink_gz_name(const char *path);
/* Writes n bytes, compressed when zstd or gzip; end also finishes the zstd frame. */
int wnw_sink_write(struct wnw_sink *s, const void *p, size_t n, int end, struct wnw_err *e);
/* Like wnw_sink_write (not the end of a zstd frame): when the output is a pipe written plain, the
 * whole 4 KiB pages of p (p page-aligned) go into the pipe by vmsplice(2) with SPLICE_F_GIFT, without
 * a copy, and only the bytes after the last whole page are written. Those pages then belong to the
 * pipe: the caller must never write them again (it may unmap them). *gifted is how many bytes went
 * that way; 0 when the output is not such a pipe or the kernel refused (then the sink writes from here
 * on). */
int wnw_sink_gift(struct wnw_sink *s, const void *p, size_t n, size_t *gifted, struct wnw_err *e);
#define WNW_PAGE 4096u
/* Closes a temporary file (so that a late write error shows) without renaming it; the sink stays for
 * wnw_sink_commit or wnw_sink_abort. Nothing to do for stdout or a device. */
int wnw_sink_finish(struct wnw_sink *s, struct wnw_err *e);
/* Closes the output and renames the temporary file into place; frees what the sink holds. */
int wnw_sink_commit(struct wnw_sink *s, struct wnw_err *e);
/* When fd is a pipe, raises its buffer towards want bytes (at most /proc/sys/fs/pipe-max-size, less when
 * the user's pipe pages run short): a pipe hop then moves up to want bytes per system call and wakes the
 * other side a sixteenth as often as with the 64 KiB default. Best effort; returns the buffer size, or 0
 * for no pipe. */
long wnw_pipe_grow(int fd, long want);
/* What the reader and the sink ask for: the writer flushes 1 MiB at a time (the default ceiling). */
#define WNW_PIPE_BYTES (1L << 20)
/* Drops the output, removing the temporary file; frees what the sink holds. Safe after commit. */
void wnw_sink_abort(struct wnw_sink *s);

#endif
