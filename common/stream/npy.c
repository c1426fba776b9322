/* npy.c: the .npy format (NumPy's NEP 1): magic "\x93NUMPY", major and minor version, a little-endian
 * header length (2 bytes in version 1, 4 in versions 2 and 3), then a Python dict literal with keys
 * 'descr', 'fortran_order' and 'shape', padded with spaces and ended by '\n'; then the raw items. */
#include "npy.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const uint8_t npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* A cursor over the header dictionary text. */
struct dict {
	const char *p, *end;
};

static void skip_space(struct dict *d)
{
	while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
		d->p++;
}

static int accept(struct dict *d, char c)
{
	skip_space(d);
	if (d->p < d->end && *d->p == c) {
		d->p++;
		return 1;
	}
	return 0;
}

/* A quoted string without escapes (numpy never writes any in these keys); copies at most cap-1 bytes. */
static int parse_str(struct dict *d, char *out, size_t cap)
{
	skip_space(d);
	if (d->p >= d->end || (*d->p != '\'' && *d->p != '"'))
		return -1;
	char q = *d->p++;
	size_t n = 0;
	while (d->p < d->end && *d->p != q) {
		if (*d->p == '\\' || n + 1 >= cap)
			return -1;
		out[n++] = *d->p++;
	}
	if (d->p >= d->end)
		return -1;
	d->p++;
	out[n] = 0;
	return 0;
}

static int parse_uint(struct dict *d, uint64_t *v)
{
	skip_space(d);
	if (d->p >= d->end || *d->p < '0' || *d->p > '9')
		return -1;
	uint64_t x = 0;
	while (d->p < d->end && *d->p >= '0' && *d->p <= '9') {
		unsigned digit = (unsigned)(*d->p++ - '0');
		if (x > (UINT64_MAX - digit) / 10)
			return -1;
		x = x * 10 + digit;
	}
	if (d->p < d->end && *d->p == 'L') /* Python 2 long suffix, written by old numpy */
		d->p++;
	*v = x;
	return 0;
}

/* A shape tuple: (), (n,), (n, m), ...; at most 8 dimensions. */
static int parse_shape(struct dict *d, uint64_t *dims, int *ndim)
{
	if (!accept(d, '('))
		return -1;
	*ndim = 0;
	if (accept(d, ')'))
		return 0;
	for (;;) {
		if (*ndim == 8 || parse_uint(d, &dims[*ndim]) < 0)
			return -1;
		++*ndim;
		if (accept(d, ')'))
			return 0;
		if (!accept(d, ','))
			return -1;
		if (accept(d, ')'))
			return 0;
	}
}

static int parse_bool(struct dict *d, int *v)
{
	skip_space(d);
	size_t left = (size_t)(d->end - d->p);
	if (left >= 4 && memcmp(d->p, "True", 4) == 0) {
		d->p += 4;
		*v = 1;
		return 0;
	}
	if (left >= 5 && memcmp(d->p, "False", 5) == 0) {
		d->p += 5;
		*v = 0;
		return 0;
	}
	return -1;
}

static int host_little(void)
{
	const uint16_t one = 1;
	uint8_t b;
	memcpy(&b, &one, 1);
	return b == 1;
}

/* Checks descr ("<f4", ">f2", "=f8", "|f4" is not valid for floats) and sets itemsize and swap. */
static int check_descr(struct wnw_npy_info *info, struct wnw_err *e)
{
	const char *s = info->descr;
	if (strlen(s) == 3 && (s[0] == '<' || s[0] == '>' || s[0] == '=') && s[1] == 'f' &&
	    (s[2] == '2' || s[2] == '4' || s[2] == '8')) {
		info->itemsize = (unsigned)(s[2] - '0');
		int little = s[0] == '<' || (s[0] == '=' && host_little());
		info->swap = little != host_little();
		return 0;
	}
	return wnw_errf(e, WNW_EXIT_DATA, "dtype '%s' is not float16, float32 or float64", s);
}

int wnw_npy_parse_header(const uint8_t *buf, size_t len, struct wnw_npy_info *info, size_t *need,
			 struct wnw_err *e)
{
	*need = 0;
	if (len < 8)
		return 1;
	if (memcmp(buf, npy_magic, 6) != 0)
		return wnw_errf(e, WNW_EXIT_DATA, "not a .npy file (bad magic)");
	unsigned major = buf[6], minor = buf[7];
	if (major < 1 || major > 3 || minor != 0)
		return wnw_errf(e, WNW_EXIT_DATA, ".npy format version %u.%u not supported", major, minor);
	size_t pre = major == 1 ? 10 : 12;
	if (len < pre)
		return 1;
	uint32_t hlen = major == 1 ? (uint32_t)(buf[8] | buf[9] << 8) : wnw_le32(buf + 8);
	if (hlen > WNW_NPY_MAX_HEADER)
		return wnw_errf(e, WNW_EXIT_DATA, ".npy header of %u bytes is too long", hlen);
	*need = pre + hlen;
	if (len < *need)
		return 1;
	struct dict d = {(const char *)buf + pre, (const char *)buf + pre + hlen};
	if (hlen == 0 || d.end[-1] != '\n')
		return wnw_errf(e, WNW_EXIT_DATA, "malformed .npy header (no final newline)");
	/* Version 3 allows UTF-8 in the header; the keys we need are ASCII, so bytes >= 0x80 simply fail
	 * to match anything below. A NUL anywhere is rejected. */
	if (memchr(d.p, 0, hlen))
		return wnw_errf(e, WNW_EXIT_DATA, "malformed .npy header (NUL byte)");

	int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0, ndim = 0;
	uint64_t dims[8];
	memset(info, 0, sizeof *info);
	if (!accept(&d, '{'))
		return wnw_errf(e, WNW_EXIT_DATA, "malformed .npy header (no dictionary)");
	while (!accept(&d, '}')) {
		char key[32];
		if (parse_str(&d, key, sizeof key) < 0 || !accept(&d, ':'))
			return wnw_errf(e, WNW_EXIT_DATA, "malformed .npy header (bad key)");
		int bad;
		if (strcmp(key, "descr") == 0 && !have_descr) {
			bad = parse_str(&d, info->descr, sizeof info->descr) < 0;
			have_descr = 1;
		} else if (strcmp(key, "fortran_order") == 0 && !have_order) {
			bad = parse_bool(&d, &fortran) < 0;
			have_order = 1;
		} else if (strcmp(key, "shape") == 0 && !have_shape) {
			bad = parse_shape(&d, dims, &ndim) < 0;
			have_shape = 1;
		} else {
			return wnw_errf(e, WNW_EXIT_DATA, "malformed .npy header (unexpected key '%s')", key);
		}
		if (bad)
			return wnw_errf(e, WNW_EXIT_DATA, "malformed .npy header (bad value of '%s')", key);
		if (!accept(&d, ',')) {
			if (!accept(&d, '}'))
				return wnw_errf(e, WNW_EXIT_DATA, "malformed .npy header (expected ',' or '}')");
			break;
		}
	}
	skip_space(&d);
	if (d.p != d.end)
		return wnw_errf(e, WNW_EXIT_DATA, "malformed .npy header (stray text after the dictionary)");
	if (!have_descr || !have_order || !have_shape)
		return wnw_errf(e, WNW_EXIT_DATA, "malformed .npy header (missing key)");
	if (check_descr(info, e) < 0)
		return -1;
	if (fortran)
		return wnw_errf(e, WNW_EXIT_DATA,
				"array is in Fortran order; save it with numpy.ascontiguousarray first");
	if (ndim != 2)
		return wnw_errf(e, WNW_EXIT_DATA, "array has %d dimensions; a matrix (rows, dim) is needed",
				ndim);
	if (dims[1] < 1 || dims[1] > WNW_MAX_DIM)
		return wnw_errf(e, WNW_EXIT_DATA, "row dimension %llu is out of range 1..%u",
				(unsigned long long)dims[1], WNW_MAX_DIM);
	/* rows * cols * itemsize must fit in a file offset. */
	if (dims[0] > (uint64_t)INT64_MAX / (dims[1] * info->itemsize) - *need)
		return wnw_errf(e, WNW_EXIT_DATA, "%llu rows is not plausible", (unsigned long long)dims[0]);
	info->rows = dims[0];
	info->cols = (uint32_t)dims[1];
	info->header_len = (uint32_t)*need;
	return 0;
}

int wnw_npy_open(struct wnw_npy_in *in, const char *path, struct wnw_err *e)
{
	memset(in, 0, sizeof *in);
	int is_stdin = path == NULL || strcmp(path, "-") == 0;
	in->name = strdup(is_stdin ? "stdin" : path);
	if (!in->name)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	in->fp = is_stdin ? stdin : fopen(path, "rb");
	if (!in->fp) {
		int status = errno == ENOENT || errno == EACCES ? WNW_EXIT_USAGE : WNW_EXIT_SYSTEM;
		wnw_errf(e, status, "%s: %s", in->name, strerror(errno));
		wnw_npy_close(in);
		return -1;
	}
	/* Read the header piece by piece: the 10-12 byte preamble first, then exactly its length, so that
	 * nothing past it is consumed (the input may be a pipe). */
	uint8_t pre[12];
	size_t have = 0, need = 10;
	uint8_t *buf = pre;
	int rc;
	for (;;) {
		size_t got = fread(buf + have, 1, need - have, in->fp);
		have += got;
		rc = wnw_npy_parse_header(buf, have, &in->info, &need, e);
		if (rc <= 0)
			break;
		if (got == 0) {
			rc = ferror(in->fp) ? wnw_errf(e, WNW_EXIT_SYSTEM, "read error: %s", strerror(errno))
					    : wnw_errf(e, WNW_EXIT_DATA, "truncated .npy header");
			break;
		}
		if (need == 0)
			need = have < 10 ? 10 : 12;
		if (need > sizeof pre && buf == pre) {
			buf = malloc(need);
			if (!buf) {
				rc = wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
				break;
			}
			memcpy(buf, pre, have);
		}
	}
	if (buf != pre)
		free(buf);
	if (rc == 0) {
		struct stat st;
		uint64_t data = in->info.rows * in->info.cols * in->info.itemsize;
		if (fstat(fileno(in->fp), &st) == 0 && S_ISREG(st.st_mode) &&
		    (uint64_t)st.st_size != in->info.header_len + data)
			rc = wnw_errf(e, WNW_EXIT_DATA, "file holds %llu bytes, its header announces %llu",
				      (unsigned long long)st.st_size,
				      (unsigned long long)(in->info.header_len + data));
	}
	if (rc == 0) {
		in->raw = malloc((size_t)in->info.cols * in->info.itemsize);
		if (!in->raw)
			rc = wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	if (rc != 0) {
		char msg[sizeof e->msg];
		snprintf(msg, sizeof msg, "%s", e->msg);
		wnw_errf(e, e->status, "%s: %s", in->name, msg);
		wnw_npy_close(in);
		return -1;
	}
	return 0;
}

float wnw_half_to_float(uint16_t h)
{
	unsigned sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
	float v;
	if (exp == 0)
		v = ldexpf((float)man, -24); /* zero or subnormal: man * 2^-24 */
	else if (exp == 31)
		v = man ? NAN : INFINITY;
	else
		v = ldexpf((float)(man | 0x400), (int)exp - 25);
	return sign ? -v : v;
}

static uint64_t load_swapped(const uint8_t *p, unsigned size, int swap)
{
	uint8_t b[8] = {0};
	for (unsigned i = 0; i < size; i++)
		b[i] = swap ? p[size - 1 - i] : p[i];
	uint64_t v = 0;
	if (size == 2) {
		uint16_t x;
		memcpy(&x, b, 2);
		v = x;
	} else if (size == 4) {
		uint32_t x;
		memcpy(&x, b, 4);
		v = x;
	} else {
		memcpy(&v, b, 8);
	}
	return v;
}

int wnw_npy_next(struct wnw_npy_in *in, float *dst, struct wnw_err *e)
{
	const struct wnw_npy_info *f = &in->info;
	if (in->row == f->rows) {
		if (fgetc(in->fp) != EOF)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: stray bytes after row %llu", in->name,
					(unsigned long long)f->rows);
		return 0;
	}
	size_t n = (size_t)f->cols * f->itemsize;
	if (fread(in->raw, 1, n, in->fp) != n) {
		if (ferror(in->fp))
			return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: read error: %s", in->name, strerror(errno));
		return wnw_errf(e, WNW_EXIT_DATA, "%s: truncated: row %llu of %llu is missing", in->name,
				(unsigned long long)in->row + 1, (unsigned long long)f->rows);
	}
	if (f->itemsize == 4 && !f->swap) {
		memcpy(dst, in->raw, n);
	} else {
		for (uint32_t i = 0; i < f->cols; i++) {
			uint64_t bits = load_swapped(in->raw + (size_t)i * f->itemsize, f->itemsize, f->swap);
			if (f->itemsize == 2) {
				dst[i] = wnw_half_to_float((uint16_t)bits);
			} else if (f->itemsize == 4) {
				uint32_t u = (uint32_t)bits;
				memcpy(&dst[i], &u, 4);
			} else {
				double d;
				memcpy(&d, &bits, 8);
				dst[i] = (float)d;
			}
		}
	}
	in->row++;
	return 1;
}

void wnw_npy_close(struct wnw_npy_in *in)
{
	if (in->fp && in->fp != stdin)
		fclose(in->fp);
	free(in->name);
	free(in->raw);
	memset(in, 0, sizeof *in);
}

static size_t dict_text(char *buf, size_t cap, const char *descr, uint64_t rows, uint32_t cols)
{
	int n = cols ? snprintf(buf, cap, "{'descr': '%s', 'fortran_order': False, 'shape': (%llu, %u), }",
				descr, (unsigned long long)rows, cols)
		     : snprintf(buf, cap, "{'descr': '%s', 'fortran_order': False, 'shape': (%llu,), }", descr,
				(unsigned long long)rows);
	return n < 0 ? 0 : (size_t)n;
}

size_t wnw_npy_header_size(const char *descr, uint32_t cols)
{
	char tmp[160];
	size_t dict = dict_text(tmp, sizeof tmp, descr, UINT64_MAX, cols);
	/* 10 bytes of preamble, the dictionary, at least one space of padding and the newline. */
	return (10 + dict + 2 + 63) / 64 * 64;
}

size_t wnw_npy_format_header(char *buf, size_t total, const char *descr, uint64_t rows, uint32_t cols)
{
	char tmp[160];
	size_t dict = dict_text(tmp, sizeof tmp, descr, rows, cols);
	if (total < 10 + dict + 1 || total - 10 > 65535)
		return 0;
	memcpy(buf, npy_magic, 6);
	buf[6] = 1;
	buf[7] = 0;
	size_t hlen = total - 10;
	buf[8] = (char)(hlen & 0xff);
	buf[9] = (char)(hlen >> 8);
	memcpy(buf + 10, tmp, dict);
	memset(buf + 10 + dict, ' ', total - 10 - dict - 1);
	buf[total - 1] = '\n';
	return total;
}
