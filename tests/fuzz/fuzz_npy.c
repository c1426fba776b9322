/* fuzz_npy: libFuzzer target for the .npy reader: the header parser on the input as given, then the
 * input as a file (a memfd, so a regular file as on disk) through wnw_npy_open and wnw_npy_next, row by
 * row, as pack --vectors, pursuit and gradex read it. Bad input must be an error: never a crash, a leak,
 * an allocation beyond the header's one row, or an exit. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "npy.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wnw_err e;
	struct wnw_npy_info info;
	size_t need;
	(void)wnw_npy_parse_header(data, size, &info, &need, &e);

	int fd = mem_file("fuzz_npy", data, size);
	char path[64];
	mem_path(fd, path, sizeof path);
	struct wnw_npy_in in;
	if (wnw_npy_open(&in, path, &e) == 0) {
		float *row = malloc(((size_t)in.info.cols + 1) * sizeof *row);
		if (!row)
			abort();
		volatile float sum = 0;
		while (wnw_npy_next(&in, row, &e) == 1)
			sum += row[in.info.cols - 1]; /* the last component: a short row shows up under ASan */
		(void)sum;
		free(row);
		wnw_npy_close(&in);
	}
	close(fd);
	return 0;
}
