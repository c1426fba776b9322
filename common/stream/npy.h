/* npy.h: NumPy .npy matrices, read and written row by row in bounded memory.
 * Reading accepts format versions 1.0, 2.0 and 3.0 holding a C-order 2-D array of float16, float32 or
 * float64 in either byte order, and converts each row to float32. Writing produces version 1.0 files
 * with a header of fixed size, so the row count can be filled in once the last row is known.
 * Like winnow.h this part never prints and never exits: it returns -1 with a message in a wnw_err. */
#ifndef WINNOW_NPY_H
#define WINNOW_NPY_H

#include <stdint.h>
#include <stdio.h>

#include "winnow.h"

/* The largest header a reader accepts (numpy itself refuses more than 10000 bytes by default). */
#define WNW_NPY_MAX_HEADER 65536u

struct wnw_npy_info {
	char descr[8];     /* as in the file, e.g. "<f4" */
	unsigned itemsize; /* 2, 4 or 8 */
	int swap;          /* items are in the other byte order than the host's */
	uint64_t rows;
	uint32_t cols;
	uint32_t header_len; /* bytes before the data */
};

/* Parses a complete .npy header (magic, version, length and the dictionary) held in buf[0, len).
 * Returns 0 with *info filled in, 1 when buf is too short to hold the whole header (the caller reads
 * more; *need receives the total it must have, when known, else 0), or -1 with a message in e. */
int wnw_npy_parse_header(const uint8_t *buf, size_t len, struct wnw_npy_info *info, size_t *need,
			 struct wnw_err *e);

struct wnw_npy_in {
	FILE *fp;
	char *name;
	struct wnw_npy_info info;
	uint64_t row; /* rows read so far */
	uint8_t *raw; /* one row as stored */
};

/* Opens path ("-" for stdin) and reads its header. Regular files are checked to hold exactly the
 * rows the header announces. */
int wnw_npy_open(struct wnw_npy_in *in, const char *path, struct wnw_err *e);
/* Reads the next row into dst[0, cols) as float32. Returns 1 with a row, 0 after the last row (having
 * checked that nothing follows it), -1 on error (short file, trailing data, I/O). */
int wnw_npy_next(struct wnw_npy_in *in, float *dst, struct wnw_err *e);
void wnw_npy_close(struct wnw_npy_in *in);

/* Converts an IEEE 754 binary16 value to float (exactly: every half is a float). */
float wnw_half_to_float(uint16_t h);

/* Formats the version 1.0 header for a C-order array of `descr` items with shape (rows, cols), or the
 * 1-D shape (rows,) when cols is 0, padded with spaces to exactly `total` bytes (a multiple of 64 that
 * leaves room for any 20-digit row count: see wnw_npy_header_size). Returns the size written. */
size_t wnw_npy_format_header(char *buf, size_t total, const char *descr, uint64_t rows, uint32_t cols);
/* The header size wnw_npy_format_header uses for every row count with this descr and cols. */
size_t wnw_npy_header_size(const char *descr, uint32_t cols);

#endif
