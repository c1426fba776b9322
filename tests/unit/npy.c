/* Unit test of common/npy.c: header parsing (valid and hostile headers), float16 conversion against
 * exact reference values, header formatting round trips, and row reading of a written file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"
#include "unit.h"

/* Builds a version 1.0 file image around the dictionary text dict (padding to a multiple of 64). */
static size_t image(uint8_t *buf, const char *dict, int major)
{
	size_t pre = major == 1 ? 10 : 12, n = strlen(dict);
	size_t total = (pre + n + 1 + 63) / 64 * 64, hlen = total - pre;
	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (uint8_t)major;
	buf[7] = 0;
	if (major == 1) {
		buf[8] = (uint8_t)hlen;
		buf[9] = (uint8_t)(hlen >> 8);
	} else {
		buf[8] = (uint8_t)hlen, buf[9] = (uint8_t)(hlen >> 8), buf[10] = 0, buf[11] = 0;
	}
	memcpy(buf + pre, dict, n);
	memset(buf + pre + n, ' ', hlen - n - 1);
	buf[total - 1] = '\n';
	return total;
}

static int parse(const char *dict, int major, struct wnw_npy_info *info, struct wnw_err *e)
{
	uint8_t buf[4096];
	size_t need, n = image(buf, dict, major);
	return wnw_npy_parse_header(buf, n, info, &need, e);
}

int main(void)
{
	struct wnw_npy_info info;
	struct wnw_err e;

	CHECK(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }", 1, &info, &e) == 0 &&
		      info.rows == 3 && info.cols == 5 && info.itemsize == 4 && !info.swap && info.header_len == 128,
	      "numpy's own header: (3, 5) float32");
	CHECK(parse("{\"shape\":(7,2),\"fortran_order\":False,\"descr\":\">f8\"}", 2, &info, &e) == 0 &&
		      info.rows == 7 && info.cols == 2 && info.itemsize == 8 && info.swap,
	      "version 2, keys in any order, double quotes, big-endian float64");
	CHECK(parse("{'descr': '<f2', 'fortran_order': False, 'shape': (0, 9)}", 1, &info, &e) == 0 &&
		      info.rows == 0 && info.itemsize == 2,
	      "float16 with no rows");
	static const char *const bad[] = {
		"{'descr': '<f4', 'fortran_order': True, 'shape': (3, 5), }",
		"{'descr': '<i8', 'fortran_order': False, 'shape': (3, 5), }",
		"{'descr': '|u1', 'fortran_order': False, 'shape': (3, 5), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5, 2), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 0), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 99999999), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 5), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
		"{'descr': '<f4', 'shape': (3, 5), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), 'extra': 1}",
		"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 5)}",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5)} trailing",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5)",
		"{'descr': '<f4' 'fortran_order': False, 'shape': (3, 5)}",
		"{'descr': '<f4\\'', 'fortran_order': False, 'shape': (3, 5)}",
		"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3, 5)}",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (1,2,3,4,5,6,7,8,9)}",
		"",
	};
	int all = 1;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.msg[0] = 0;
		int rc = parse(bad[i], 1, &info, &e);
		if (rc != -1 || e.status != WNW_EXIT_DATA || e.msg[0] == 0) {
			printf("#   accepted or unclear: %s\n", bad[i]);
			all = 0;
		}
	}
	CHECK(all, "%zu malformed or unsupported headers are refused with a message", sizeof bad / sizeof bad[0]);

	uint8_t buf[256];
	size_t need;
	size_t n = image(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }", 1);
	CHECK(wnw_npy_parse_header(buf, 5, &info, &need, &e) == 1, "a short buffer asks for more");
	CHECK(wnw_npy_parse_header(buf, 20, &info, &need, &e) == 1 && need == n, "and says how much");
	buf[0] = 'x';
	CHECK(wnw_npy_parse_header(buf, n, &info, &need, &e) == -1, "bad magic is refused");
	buf[0] = 0x93;
	buf[6] = 4;
	CHECK(wnw_npy_parse_header(buf, n, &info, &need, &e) == -1, "version 4 is refused");
	buf[6] = 2, buf[8] = 0xff, buf[9] = 0xff, buf[10] = 0xff, buf[11] = 0x7f;
	CHECK(wnw_npy_parse_header(buf, n, &info, &need, &e) == -1, "a 2 GB header length is refused before reading");

	/* binary16 reference values: exact by the IEEE 754 definition. */
	CHECK(wnw_half_to_float(0x3c00) == 1.0f && wnw_half_to_float(0xc000) == -2.0f, "half: 1 and -2");
	CHECK(wnw_half_to_float(0x7bff) == 65504.0f, "half: largest normal 65504");
	CHECK(wnw_half_to_float(0x0001) == ldexpf(1, -24), "half: smallest subnormal 2^-24");
	CHECK(wnw_half_to_float(0x0400) == ldexpf(1, -14), "half: smallest normal 2^-14");
	CHECK(wnw_half_to_float(0x3555) == 1365.0f / 4096.0f, "half: 0x3555 = 0.333251953125");
	CHECK(isinf(wnw_half_to_float(0x7c00)) && isinf(wnw_half_to_float(0xfc00)) &&
		      wnw_half_to_float(0xfc00) < 0, "half: +-inf");
	CHECK(isnan(wnw_half_to_float(0x7e00)), "half: NaN");
	CHECK(wnw_half_to_float(0x8000) == 0 && signbit(wnw_half_to_float(0x8000)), "half: -0");

	char hdr[512];
	size_t hs = wnw_npy_header_size("<f4", 384);
	CHECK(hs % 64 == 0, "header size is a multiple of 64 (%zu)", hs);
	CHECK(wnw_npy_format_header(hdr, hs, "<f4", UINT64_MAX, 384) == hs &&
		      wnw_npy_parse_header((uint8_t *)hdr, hs, &info, &need, &e) == -1,
	      "the largest row count still fits the fixed header (and is refused as implausible on read)");
	wnw_npy_format_header(hdr, hs, "<f4", 123456789, 384);
	CHECK(wnw_npy_parse_header((uint8_t *)hdr, hs, &info, &need, &e) == 0 && info.rows == 123456789 &&
		      info.cols == 384 && info.header_len == hs,
	      "a formatted header parses back");
	hs = wnw_npy_header_size("<u8", 0);
	wnw_npy_format_header(hdr, hs, "<u8", 5, 0);
	CHECK(memmem(hdr, hs, "'shape': (5,)", 13) != NULL, "1-D header for cols 0");

	/* Write a float64 file by hand and read it back row by row. */
	char path[] = "/tmp/npy-unit-XXXXXX";
	int fd = mkstemp(path);
	hs = wnw_npy_header_size("<f8", 3);
	wnw_npy_format_header(hdr, hs, "<f8", 2, 3);
	double vals[6] = {1.5, -2.25, 1e30, 3.0, 0.1, -0.0};
	int wrote = write(fd, hdr, hs) == (ssize_t)hs && write(fd, vals, sizeof vals) == (ssize_t)sizeof vals;
	close(fd);
	struct wnw_npy_in in;
	float row[3];
	CHECK(wrote && wnw_npy_open(&in, path, &e) == 0, "open a written file");
	CHECK(wnw_npy_next(&in, row, &e) == 1 && row[0] == 1.5f && row[1] == -2.25f && row[2] == 1e30f,
	      "row 1 converted to float32");
	CHECK(wnw_npy_next(&in, row, &e) == 1 && row[0] == 3.0f && row[1] == 0.1f && signbit(row[2]), "row 2");
	CHECK(wnw_npy_next(&in, row, &e) == 0, "then the end");
	wnw_npy_close(&in);
	truncate(path, (off_t)(hs + 40));
	CHECK(wnw_npy_open(&in, path, &e) == -1 && strstr(e.msg, "header announces") != NULL,
	      "a short file is refused at open: %s", e.msg);
	unlink(path);
	return unit_failed;
}
