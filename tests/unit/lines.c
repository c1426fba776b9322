/* Unit test of common/lines.c: the same lines come out of plain, gzip (one or several members) and
 * zstd input, across buffer boundaries; line numbers; the line limit; truncated compressed input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>

#include "lines.h"
#include "unit.h"

/* A text of n lines whose lengths vary from 0 to ~3000 bytes, so lines straddle every chunk edge. */
static char *make_text(size_t nlines, size_t *len)
{
	size_t cap = nlines * 3100 + 1, n = 0;
	char *t = malloc(cap);
	uint32_t x = 12345;
	for (size_t i = 0; i < nlines; i++) {
		x = x * 1103515245u + 12345u;
		size_t l = (x >> 8) % 3000;
		for (size_t k = 0; k < l; k++)
			t[n++] = (char)('a' + (i + k) % 26);
		t[n++] = '\n';
	}
	*len = n;
	return t;
}

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(p, 1, n, f) == n;
	return f && fclose(f) == 0 && ok;
}

static int write_gz(const char *path, const char *p, size_t n, int members)
{
	FILE *f = fopen(path, "wb");
	size_t per = n / (size_t)members;
	for (int m = 0; m < members; m++) {
		size_t len = m + 1 == members ? n - per * (size_t)m : per;
		z_stream z;
		memset(&z, 0, sizeof z);
		deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
		uLong cap = deflateBound(&z, len);
		uint8_t *out = malloc(cap);
		z.next_in = (const Bytef *)(p + per * (size_t)m);
		z.avail_in = (uInt)len;
		z.next_out = out;
		z.avail_out = (uInt)cap;
		deflate(&z, Z_FINISH);
		fwrite(out, 1, cap - z.avail_out, f);
		deflateEnd(&z);
		free(out);
	}
	return fclose(f) == 0;
}

/* Reads path and compares its lines with text; returns the number of lines or -1. */
static long compare(const char *path, const char *text, size_t len, size_t maxline, struct wnw_err *e)
{
	struct wnw_lines *l = wnw_lines_open(path, maxline, e);
	if (!l)
		return -1;
	const char *line;
	size_t n, at = 0;
	long count = 0;
	int rc;
	while ((rc = wnw_lines_next(l, &line, &n, e)) > 0) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t want = nl ? (size_t)(nl - (text + at)) : len - at;
		if (n != want || memcmp(line, text + at, n) != 0 || wnw_lines_lineno(l) != (uint64_t)count + 1) {
			wnw_lines_close(l);
			return -1;
		}
		at += want + 1;
		count++;
	}
	wnw_lines_close(l);
	return rc < 0 || at < len ? -1 : count;
}

int main(void)
{
	struct wnw_err e;
	size_t len;
	char *text = make_text(1500, &len);
	char dir[] = "/tmp/lines-unit-XXXXXX";
	char plain[64], gz[64], gz3[64], zst[64], cut[64];
	if (!mkdtemp(dir))
		return 1;
	snprintf(plain, sizeof plain, "%s/plain", dir);
	snprintf(gz, sizeof gz, "%s/one.gz", dir);
	snprintf(gz3, sizeof gz3, "%s/three", dir);
	snprintf(zst, sizeof zst, "%s/z", dir);
	snprintf(cut, sizeof cut, "%s/cut", dir);
	write_file(plain, text, len);
	write_gz(gz, text, len, 1);
	write_gz(gz3, text, len, 3);
	size_t zcap = ZSTD_compressBound(len);
	char *z = malloc(zcap);
	size_t zn = ZSTD_compress(z, zcap, text, len, 3);
	write_file(zst, z, zn);

	CHECK(compare(plain, text, len, 0, &e) == 1500, "plain: every line, numbered from 1");
	CHECK(compare(gz, text, len, 0, &e) == 1500, "gzip: the same lines");
	CHECK(compare(gz3, text, len, 0, &e) == 1500, "three concatenated gzip members: the same lines");
	CHECK(compare(zst, text, len, 0, &e) == 1500, "zstd (told by magic, not name): the same lines");
	CHECK(compare(plain, text, len, 2999, &e) == 1500, "a limit equal to the longest line passes");
	CHECK(compare(plain, text, len, 100, &e) == -1 && strstr(e.msg, "line longer than 100 bytes"),
	      "a longer line is an error: %s", e.msg);
	CHECK(compare(zst, text, len, 100, &e) == -1 && strstr(e.msg, ": line "), "also when compressed");

	write_file(cut, z, zn / 2);
	CHECK(compare(cut, text, len, 0, &e) == -1 && strstr(e.msg, "truncated zstd input"),
	      "a truncated zstd file is an error: %s", e.msg);
	FILE *f = fopen(gz, "rb");
	char *g = malloc(len);
	size_t gn = fread(g, 1, len, f);
	fclose(f);
	write_file(cut, g, gn - 5);
	CHECK(compare(cut, text, len, 0, &e) == -1 && strstr(e.msg, "truncated gzip input"),
	      "a gzip file without its trailer is an error: %s", e.msg);
	g[gn / 2] ^= 0x55;
	write_file(cut, g, gn);
	CHECK(compare(cut, text, len, 0, &e) == -1 && strstr(e.msg, "gzip"), "corrupt gzip is an error: %s", e.msg);

	write_file(cut, "a\n\nb", 4);
	CHECK(compare(cut, "a\n\nb", 4, 0, &e) == 3, "empty lines and a last line without newline");
	write_file(cut, "", 0);
	CHECK(compare(cut, "", 0, 0, &e) == 0, "an empty file has no lines");
	CHECK(wnw_lines_open(dir, 0, &e) == NULL && e.status == WNW_EXIT_SYSTEM && strstr(e.msg, "read error"),
	      "a directory is a read error: %s", e.msg);
	CHECK(wnw_lines_open("/nonexistent/x", 0, &e) == NULL && e.status == WNW_EXIT_USAGE,
	      "a missing file is named: %s", e.msg);

	unlink(plain), unlink(gz), unlink(gz3), unlink(zst), unlink(cut), rmdir(dir);
	free(text), free(z), free(g);
	return unit_failed;
}
