/* Unit tests of wnw_pipe_grow (sink.c): pipes grow to what is asked within the system's ceiling, other
 * descriptors are left alone. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sink.h"
#include "unit.h"

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
	return unit_failed;
}
