/* sink.c: output to stdout, a device, or a file renamed into place when complete (sink.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sink.h"

/* Temporary files and directories to remove when a signal ends the process. A signal handler can only
 * reach them through static storage; this is the one place in common/ that keeps any. The table holds
 * every part shard may write (WNW_MAX_PARTS) with room for a program's other outputs. */
#define MAX_TMP (WNW_MAX_PARTS + 64)
#define MAX_TMPDIR 8
static char *volatile tmp_paths[MAX_TMP];
static char *volatile tmp_dirs[MAX_TMPDIR];

static void unlink_tmp_and_reraise(int sig)
{
	for (int i = 0; i < MAX_TMP; i++)
		if (tmp_paths[i] != NULL)
			unlink(tmp_paths[i]);
	for (int i = 0; i < MAX_TMPDIR; i++)
		if (tmp_dirs[i] != NULL)
			rmdir(tmp_dirs[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

void wnw_cleanup_on_signal(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = unlink_tmp_and_reraise;
		sigaction(sigs[i], &sa, NULL);
	}
}

static int track_in(char *volatile *table, int n, char *path, int on)
{
	for (int i = 0; i < n; i++)
		if (on ? table[i] == NULL : table[i] == path) {
			table[i] = on ? path : NULL;
			return 0;
		}
	return -1;
}

static int track_tmp(char *path, int on) { return track_in(tmp_paths, MAX_TMP, path, on); }

int wnw_track_tmpdir(char *dir, int on) { return track_in(tmp_dirs, MAX_TMPDIR, dir, on); }

static int open_file(struct wnw_sink *s, const char *path, struct wnw_err *e)
{
	struct stat st;

	/* The path names the output in messages, a device's too (-o /dev/full: "/dev/full: write: ..."). */
	if ((s->path = strdup(path)) == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	/* A device or a fifo (-o /dev/null) is written in place: a rename over it would replace it. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if ((s->fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: cannot open: %s", path, strerror(errno));
		s->own_fd = 1;
		return 0;
	}
	size_t n = strlen(path);
	if ((s->tmp = malloc(n + 16)) == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	snprintf(s->tmp, n + 16, "%s.tmp.XXXXXX", path);
	if ((s->fd = mkstemp(s->tmp)) < 0) {
		int err = errno;
		free(s->tmp);
		s->tmp = NULL;
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: cannot create: %s", path, strerror(err));
	}
	if (track_tmp(s->tmp, 1) < 0) {
		close(s->fd);
		unlink(s->tmp);
		free(s->tmp);
		s->tmp = NULL;
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: more than %d outputs open at once", path, MAX_TMP);
	}
	/* mkstemp makes the file 0600; the finished file gets the permissions any new file would. */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(s->fd, 0666 & ~mask);
	return 0;
}

/* The unprivileged ceiling of F_SETPIPE_SZ, or 1 MiB (its default) when it cannot be read. */
static long pipe_max(void)
{
	long max = 1L << 20;
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	if (f != NULL) {
		if (fscanf(f, "%ld", &max) != 1 || max < 4096)
			max = 1L << 20;
		fclose(f);
	}
	return max;
}

long wnw_pipe_grow(int fd, long want)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))
		return 0;
	long now = fcntl(fd, F_GETPIPE_SZ), max = pipe_max();
	/* EPERM past the user's soft limit of pipe pages: try smaller. */
	for (long sz = want < max ? want : max; sz > now; sz /= 2)
		if (fcntl(fd, F_SETPIPE_SZ, (int)sz) >= 0)
			return fcntl(fd, F_GETPIPE_SZ);
	return now;
}

int wnw_sink_open(struct wnw_sink *s, const char *path, int zlevel, struct wnw_err *e)
{
	memset(s, 0, sizeof *s);
	s->fd = 1;
	if (zlevel > 0) {
		s->cs = ZSTD_createCStream();
		s->zcap = ZSTD_CStreamOutSize();
		s->zout = malloc(s->zcap);
		if (s->cs == NULL || s->zout == NULL ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(s->cs, ZSTD_c_compressionLevel, zlevel))) {
			wnw_sink_abort(s);
			return wnw_errf(e, WNW_EXIT_SYSTEM, "zstd: cannot set up level %d", zlevel);
		}
	}
	if (path != NULL && strcmp(path, "-") != 0 && open_file(s, path, e) < 0) {
		wnw_sink_abort(s);
		return -1;
	}
	s->gift = wnw_pipe_grow(s->fd, WNW_PIPE_BYTES) > 0 && zlevel == 0;
	return 0;
}

static int write_all(struct wnw_sink *s, const unsigned char *p, size_t n, struct wnw_err *e)
{
	while (n > 0) {
		ssize_t k = write(s->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			if (errno == EPIPE)
				return wnw_errf(e, WNW_EXIT_PIPE, "downstream closed");
			return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: write: %s", s->path ? s->path : "stdout",
					strerror(errno));
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int wnw_sink_gift(struct wnw_sink *s, const void *p, size_t n, size_t *gifted, struct wnw_err *e)
{
	struct iovec iov = {(void *)(uintptr_t)p, n & ~(size_t)(WNW_PAGE - 1)};

	*gifted = 0;
	while (s->gift && s->gz == NULL && s->cs == NULL && iov.iov_len > 0) {
		ssize_t k = vmsplice(s->fd, &iov, 1, SPLICE_F_GIFT);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EPIPE)
			return wnw_errf(e, WNW_EXIT_PIPE, "downstream closed");
		if (k < 0) { /* EINVAL, ENOSYS, ...: this pipe takes writes only; write(2) reports a real error */
			s->gift = 0;
			break;
		}
		if (k == 0)
			break;
		iov.iov_base = (char *)iov.iov_base + k;
		iov.iov_len -= (size_t)k;
		*gifted += (size_t)k;
	}
	return wnw_sink_write(s, (const char *)p + *gifted, n - *gifted, 0, e);
}

int wnw_sink_gz_name(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	return n > 3 && strcmp(path + n - 3, ".gz") == 0;
}

int wnw_sink_gzip(struct wnw_sink *s, struct wnw_err *e)
{
	if ((s->gz = calloc(1, sizeof *s->gz)) == NULL || (s->zout = malloc(1u << 16)) == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	s->zcap = 1u << 16;
	if (deflateInit2(s->gz, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(s->gz);
		s->gz = NULL;
		return wnw_errf(e, WNW_EXIT_SYSTEM, "zlib: cannot set up gzip");
	}
	return 0;
}

static int gzip_write(struct wnw_sink *s, const void *p, size_t n, int end, struct wnw_err *e)
{
	s->gz->next_in = (Bytef *)(uintptr_t)p;
	s->gz->avail_in = (uInt)n;
	int rc;
	do {
		s->gz->next_out = s->zout;
		s->gz->avail_out = (uInt)s->zcap;
		rc = deflate(s->gz, end ? Z_FINISH : Z_NO_FLUSH);
		if (rc == Z_STREAM_ERROR)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "zlib: deflate failed");
		if (write_all(s, s->zout, s->zcap - s->gz->avail_out, e) < 0)
			return -1;
	} while (s->gz->avail_out == 0 || (end && rc != Z_STREAM_END));
	return 0;
}

int wnw_sink_write(struct wnw_sink *s, const void *p, size_t n, int end, struct wnw_err *e)
{
	if (s->gz != NULL)
		return gzip_write(s, p, n, end, e);
	if (s->cs == NULL)
		return write_all(s, p, n, e);
	ZSTD_inBuffer in = {p, n, 0};
	size_t left;
	do {
		ZSTD_outBuffer out = {s->zout, s->zcap, 0};
		left = ZSTD_compressStream2(s->cs, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return wnw_errf(e, WNW_EXIT_SYSTEM, "zstd: %s", ZSTD_getErrorName(left));
		if (write_all(s, s->zout, out.pos, e) < 0)
			return -1;
	} while (end ? left != 0 : in.pos < in.size);
	return 0;
}

static void release(struct wnw_sink *s)
{
	if (s->own_fd)
		close(s->fd);
	ZSTD_freeCStream(s->cs);
	if (s->gz != NULL)
		deflateEnd(s->gz);
	free(s->gz);
	free(s->zout);
	free(s->path);
	free(s->tmp);
	memset(s, 0, sizeof *s);
	s->fd = -1;
}

int wnw_sink_finish(struct wnw_sink *s, struct wnw_err *e)
{
	if (s->tmp == NULL || s->fd < 0)
		return 0;
	int rc = close(s->fd);
	s->fd = -1;
	return rc < 0 ? wnw_errf(e, WNW_EXIT_SYSTEM, "%s: %s", s->path, strerror(errno)) : 0;
}

int wnw_sink_commit(struct wnw_sink *s, struct wnw_err *e)
{
	if (s->tmp != NULL) {
		if (wnw_sink_finish(s, e) < 0) {
			wnw_sink_abort(s);
			return -1;
		}
		if (rename(s->tmp, s->path) < 0) {
			wnw_errf(e, WNW_EXIT_SYSTEM, "%s: %s", s->path, strerror(errno));
			s->fd = -1;
			wnw_sink_abort(s);
			return -1;
		}
		track_tmp(s->tmp, 0);
	}
	release(s);
	return 0;
}

void wnw_sink_abort(struct wnw_sink *s)
{
	if (s->tmp != NULL) {
		if (s->fd >= 0)
			close(s->fd);
		unlink(s->tmp);
		track_tmp(s->tmp, 0);
	}
	release(s);
}
