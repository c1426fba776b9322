/* Unit tests of wnw_pipe_grow (sink.c): pipes grow to what is asked within the system's ceiling, other
 * descriptors are left alone; and of wnw_sink_gift: whole pages into a pipe by vmsplice, the same bytes
 * as a write, and plain writes where the output is a file or compressed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"
#include "unit.h"

/* Reads n bytes from fd into dst; returns 1 when all came. */
static int read_n(int fd, unsigned char *dst, size_t n)
{
	while (n > 0) {
		ssize_t k = read(fd, dst, n);
		if (k <= 0)
			return 0;
		dst += k;
		n -= (size_t)k;
	}
	return 1;
}

/* Gifts n bytes (3 pages and a tail) through a sink on the pipe p and reads them back. */
static void gift_to_pipe(void)
{
	int p[2];
	char name[64];
	size_t n = 3 * WNW_PAGE + 100, gifted = 99;
	unsigned char *buf = aligned_alloc(WNW_PAGE, 4 * WNW_PAGE), *want = malloc(n), *got = malloc(n);
	struct wnw_sink s;
	struct wnw_err e;

	for (size_t i = 0; i < n; i++)
		buf[i] = want[i] = (unsigned char)(i * 7 + 1);
	CHECK(pipe(p) == 0, "a pipe for the gift");
	snprintf(name, sizeof name, "/dev/fd/%d", p[1]);
	CHECK(wnw_sink_open(&s, name, 0, &e) == 0 && s.gift, "a sink on a pipe, written plain, gives pages");
	CHECK(wnw_sink_gift(&s, buf, n, &gifted, &e) == 0 && gifted == 3 * WNW_PAGE,
	      "the whole pages went by vmsplice, the tail by write (%zu bytes gifted)", gifted);
	CHECK(read_n(p[0], got, n) && memcmp(got, want, n) == 0, "the reader gets the bytes in order");
	CHECK(wnw_sink_commit(&s, &e) == 0, "the sink closes");
	CHECK(wnw_sink_open(&s, name, 3, &e) == 0 && !s.gift, "a zstd sink on a pipe gives no pages");
	wnw_sink_abort(&s);
	close(p[0]);
	close(p[1]);
	free(buf); /* the reader has taken the gifted pages out of the pipe */
	free(want);
	free(got);
}

/* A sink on a regular file writes everything. */
static void gift_to_file(void)
{
	char path[] = "/tmp/winnow-pipe-unit.XXXXXX";
	int fd = mkstemp(path);
	size_t n = 2 * WNW_PAGE + 5, gifted = 99;
	unsigned char *buf = aligned_alloc(WNW_PAGE, 3 * WNW_PAGE), *got = malloc(n);
	struct wnw_sink s;
	struct wnw_err e;

	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 13 + 5);
	CHECK(fd >= 0 && wnw_sink_open(&s, path, 0, &e) == 0 && !s.gift, "a sink on a file gives no pages");
	CHECK(wnw_sink_gift(&s, buf, n, &gifted, &e) == 0 && gifted == 0 && wnw_sink_commit(&s, &e) == 0,
	      "wnw_sink_gift on a file writes the bytes");
	int in = open(path, O_RDONLY);
	CHECK(in >= 0 && read_n(in, got, n) && memcmp(got, buf, n) == 0 && read(in, got, 1) == 0,
	      "the file holds them, nothing more");
	if (in >= 0)
		close(in);
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(buf);
	free(got);
}

int main(void)
{
	int p[2];
	long max = 1L << 20;
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 1L << 20;
		fclose(f);
	}
	long want = max < WNW_PIPE_BYTES ? max : WNW_PIPE_BYTES;
	CHECK(pipe(p) == 0, "a pipe");
	CHECK(fcntl(p[1], F_GETPIPE_SZ) < want, "it starts below %ld bytes", want);
	CHECK(wnw_pipe_grow(p[1], WNW_PIPE_BYTES) == want && fcntl(p[0], F_GETPIPE_SZ) == want,
	      "it grows to %ld bytes, seen from both ends", want);
	CHECK(wnw_pipe_grow(p[0], 4096) == want, "asking for less never shrinks it");
	CHECK(wnw_pipe_grow(p[0], 1L << 40) == (max < (1L << 40) ? max : want), "asking past the ceiling stops there");
	close(p[0]);
	close(p[1]);
	FILE *t = tmpfile();
	CHECK(t && wnw_pipe_grow(fileno(t), WNW_PIPE_BYTES) == 0, "a regular file is not a pipe");
	if (t)
		fclose(t);
	CHECK(wnw_pipe_grow(-1, WNW_PIPE_BYTES) == 0, "a closed descriptor is not a pipe");
	gift_to_pipe();
	gift_to_file();
	return unit_failed;
}
