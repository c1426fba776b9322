/* textout.c: buffered, optionally zstd-compressed output to stdout or to a file renamed into place. */
#include "textout.h"
#include "npy.h"
#include "sink.h"
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOUT_BUF (256u << 10)

struct wnw_tout {
	struct wnw_sink sink;
	char *buf;
	size_t n;
	int64_t base; /* offset of stdout when we started */
};

/* Writes (or compresses) the buffer; with end, also ends the zstd frame. */
static int flush(struct wnw_tout *t, int end, struct wnw_err *e)
{
	int rc = wnw_sink_write(&t->sink, t->buf, t->n, end, e);
	t->n = 0;
	return rc;
}

struct wnw_tout *wnw_tout_open(const char *path, int zlevel, struct wnw_err *e)
{
	if (zlevel > 0 && wnw_sink_gz_name(path)) {
		wnw_errf(e, WNW_EXIT_USAGE, "-o %s: -z compresses with zstd: name the file .zst, or drop -z for gzip", path);
		return NULL;
	}
	struct wnw_tout *t = calloc(1, sizeof *t);
	if (!t || !(t->buf = malloc(TOUT_BUF))) {
		free(t);
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	if (wnw_sink_open(&t->sink, path, zlevel, e) < 0) {
		free(t->buf);
		free(t);
		return NULL;
	}
	/* -o FILE.gz writes gzip, as FILE.zst writes zstd (prog.c sets the level for that) */
	if (zlevel == 0 && wnw_sink_gz_name(path) && wnw_sink_gzip(&t->sink, e) < 0) {
		wnw_tout_abort(t);
		return NULL;
	}
	if (t->sink.tmp == NULL) {
		off_t off = lseek(t->sink.fd, 0, SEEK_CUR);
		t->base = off < 0 ? 0 : (int64_t)off;
	}
	return t;
}

int wnw_tout_write(struct wnw_tout *t, const void *p, size_t n, struct wnw_err *e)
{
	if (n >= TOUT_BUF) {
		if (flush(t, 0, e) < 0)
			return -1;
		if (!t->sink.cs)
			return wnw_sink_write(&t->sink, p, n, 0, e);
	}
	const char *s = p;
	while (n > 0) {
		size_t k = TOUT_BUF - t->n < n ? TOUT_BUF - t->n : n;
		memcpy(t->buf + t->n, s, k);
		t->n += k;
		s += k;
		n -= k;
		if (t->n == TOUT_BUF && flush(t, 0, e) < 0)
			return -1;
	}
	return 0;
}

int wnw_tout_printf(struct wnw_tout *t, struct wnw_err *e, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "bad format");
	if ((size_t)n < sizeof small)
		return wnw_tout_write(t, small, (size_t)n, e);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = wnw_tout_write(t, big, (size_t)n, e);
	free(big);
	return rc;
}

int wnw_tout_seekable(struct wnw_tout *t, int64_t *base, struct wnw_err *e)
{
	struct stat st;
	/* pwrite on a descriptor opened for appending (>>) would append, not rewrite. */
	int fl = fcntl(t->sink.fd, F_GETFL);
	if (t->sink.cs || t->sink.gz || fstat(t->sink.fd, &st) < 0 || !S_ISREG(st.st_mode) || fl < 0 || (fl & O_APPEND))
		return -1;
	if (flush(t, 0, e) < 0)
		return -2;
	*base = t->sink.tmp ? 0 : t->base;
	return t->sink.fd;
}

int wnw_tout_close(struct wnw_tout *t, struct wnw_err *e)
{
	int rc = flush(t, 1, e);
	if (rc == 0)
		rc = wnw_sink_commit(&t->sink, e);
	wnw_tout_abort(t);
	return rc;
}

void wnw_tout_abort(struct wnw_tout *t)
{
	if (!t)
		return;
	wnw_sink_abort(&t->sink);
	free(t->buf);
	free(t);
}

/* --- .npy ---------------------------------------------------------------------------------------- */

static FILE *spool_file(struct wnw_err *e)
{
	const char *dir = wnw_tmpdir(NULL);
	char path[4096];
	if (snprintf(path, sizeof path, "%s/winnow-npy.XXXXXX", dir) >= (int)sizeof path) {
		wnw_errf(e, WNW_EXIT_USAGE, "TMPDIR: '%.200s' is too long", dir);
		return NULL;
	}
	int fd = mkstemp(path);
	if (fd < 0) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "%s: cannot create a temporary file: %s", dir, strerror(errno));
		return NULL;
	}
	unlink(path);
	FILE *f = fdopen(fd, "w+");
	if (!f) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "cannot open a temporary file: %s", strerror(errno));
		close(fd);
	}
	return f;
}

int wnw_npyout_start(struct wnw_npyout *n, struct wnw_tout *t, const char *descr, uint32_t cols,
		     size_t row_bytes, struct wnw_err *e)
{
	memset(n, 0, sizeof *n);
	n->t = t, n->descr = descr, n->cols = cols, n->row_bytes = row_bytes;
	n->hdr = wnw_npy_header_size(descr, cols);
	n->fd = wnw_tout_seekable(t, &n->base, e);
	if (n->fd == -2)
		return -1;
	if (n->fd >= 0) {
		char hdr[512];
		wnw_npy_format_header(hdr, n->hdr, descr, 0, cols);
		return wnw_tout_write(t, hdr, n->hdr, e);
	}
	return (n->spool = spool_file(e)) ? 0 : -1;
}

int wnw_npyout_row(struct wnw_npyout *n, const void *row, struct wnw_err *e)
{
	n->rows++;
	if (!n->spool)
		return wnw_tout_write(n->t, row, n->row_bytes, e);
	if (fwrite(row, 1, n->row_bytes, n->spool) != n->row_bytes)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "temporary file: write error: %s", strerror(errno));
	return 0;
}

/* The spooled rows after the header. */
static int copy_spool(struct wnw_npyout *n, struct wnw_err *e)
{
	char buf[1 << 16];
	size_t k;
	if (fflush(n->spool) != 0 || fseek(n->spool, 0, SEEK_SET) != 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "temporary file: %s", strerror(errno));
	while ((k = fread(buf, 1, sizeof buf, n->spool)) > 0)
		if (wnw_tout_write(n->t, buf, k, e) < 0)
			return -1;
	if (ferror(n->spool))
		return wnw_errf(e, WNW_EXIT_SYSTEM, "temporary file: read error: %s", strerror(errno));
	return 0;
}

int wnw_npyout_finish(struct wnw_npyout *n, struct wnw_err *e)
{
	char hdr[512];
	int64_t base;
	int rc;
	wnw_npy_format_header(hdr, n->hdr, n->descr, n->rows, n->cols);
	if (n->fd >= 0) {
		if (wnw_tout_seekable(n->t, &base, e) < 0)
			return -1;
		if (pwrite(n->fd, hdr, n->hdr, (off_t)n->base) != (ssize_t)n->hdr)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "cannot rewrite the .npy header: %s", strerror(errno));
		return 0;
	}
	rc = wnw_tout_write(n->t, hdr, n->hdr, e) < 0 ? -1 : copy_spool(n, e);
	wnw_npyout_free(n);
	return rc;
}

void wnw_npyout_free(struct wnw_npyout *n)
{
	if (n->spool)
		fclose(n->spool);
	n->spool = NULL;
}
