/* reader.c: reads a winnow stream (winnow(5)) strictly sequentially from a file or pipe, plain or zstd,
 * one member after another, validating framing, lengths, trailer and CRC-32 before handing out records. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "crc.h"
#include "format.h"
#include "sink.h"
#include "winnow.h"

#define CHUNK (1u << 20)

struct wnw_reader {
	char *name;
	int fd, own_fd;
	/* decoded bytes of the stream: buf[pos, end) not yet consumed */
	uint8_t *buf;
	size_t pos, end, cap;
	int eof; /* the source has no more bytes */
	/* zstd input, when the stream is compressed */
	ZSTD_DStream *ds;
	uint8_t *zbuf;
	ZSTD_inBuffer zin;
	int zframe_open; /* the last frame has not ended */
	uint64_t consumed, total; /* source bytes read, source size (0 unknown) */
	uint64_t remaining_known; /* plain regular file: bytes of the file not yet read into buf */
	uint64_t start;           /* plain regular file: its offset when the reader began */
	int plain_file;
	struct wnw_schema schema;
	uint32_t *off;
	uint64_t count, member_count, member;
	uint32_t crc;    /* of the member's records before crc_at */
	size_t crc_at;   /* record bytes in buf[crc_at, pos) are not yet in crc: it is folded in spans */
	int done;
	uint32_t max_record; /* the largest record taken (wnw_reader_set_max_record) */
};

/* Record bytes are folded into the CRC in spans of about this much: few calls, and the bytes still in
 * the L2 cache from their parsing. */
#define CRC_SPAN (64u << 10)

/* Brings the member's CRC up to pos. */
static void crc_fold(struct wnw_reader *r)
{
	r->crc = wnw_crc32(r->crc, r->buf + r->crc_at, r->pos - r->crc_at);
	r->crc_at = r->pos;
}

static int sys_err(struct wnw_reader *r, struct wnw_err *e, const char *what)
{
	return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: %s: %s", r->name, what, strerror(errno));
}

static int read_source(struct wnw_reader *r, uint8_t *dst, size_t want, size_t *got, struct wnw_err *e)
{
	ssize_t n;

	do
		n = read(r->fd, dst, want);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sys_err(r, e, "read");
	*got = (size_t)n;
	r->consumed += (uint64_t)n;
	if (r->plain_file)
		r->remaining_known = r->remaining_known > (uint64_t)n ? r->remaining_known - (uint64_t)n : 0;
	return 0;
}

/* Decompresses into buf[end, cap); sets eof when the compressed source is exhausted. */
static int fill_zstd(struct wnw_reader *r, struct wnw_err *e)
{
	ZSTD_outBuffer out = {r->buf + r->end, r->cap - r->end, 0};

	while (out.pos == 0) {
		if (r->zin.pos == r->zin.size) {
			size_t got;
			if (read_source(r, r->zbuf, CHUNK, &got, e) < 0)
				return -1;
			if (got == 0) {
				if (r->zframe_open)
					return wnw_errf(e, WNW_EXIT_DATA,
							"%s: record %llu: truncated zstd frame (stream cut short)",
							r->name, (unsigned long long)r->count + 1);
				r->eof = 1;
				return 0;
			}
			r->zin.src = r->zbuf;
			r->zin.size = got;
			r->zin.pos = 0;
		}
		size_t ret = ZSTD_decompressStream(r->ds, &out, &r->zin);
		if (ZSTD_isError(ret))
			return wnw_errf(e, WNW_EXIT_DATA, "%s: record %llu: zstd: %s", r->name,
					(unsigned long long)r->count + 1, ZSTD_getErrorName(ret));
		r->zframe_open = ret != 0;
	}
	r->end += out.pos;
	return 0;
}

static int fill(struct wnw_reader *r, struct wnw_err *e)
{
	if (r->ds != NULL)
		return fill_zstd(r, e);
	size_t got;
	if (read_source(r, r->buf + r->end, r->cap - r->end, &got, e) < 0)
		return -1;
	if (got == 0)
		r->eof = 1;
	r->end += got;
	return 0;
}

/* Makes n bytes available at buf + pos. The buffer grows only by doubling when it is full of real
 * data, so a hostile length never allocates more than twice what the input actually delivered.
 * Returns 1, or 0 at end of input with fewer bytes available, or -1. */
static int ensure_slow(struct wnw_reader *r, size_t n, struct wnw_err *e)
{
	while (r->end - r->pos < n) {
		if (r->eof)
			return 0;
		if (r->pos > 0 && r->end == r->cap) {
			crc_fold(r);
			memmove(r->buf, r->buf + r->pos, r->end - r->pos);
			r->end -= r->pos;
			r->pos = r->crc_at = 0;
		}
		if (r->end == r->cap) {
			size_t ncap = r->cap * 2;
			uint8_t *nb = realloc(r->buf, ncap);
			if (nb == NULL)
				return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: out of memory", r->name);
			r->buf = nb;
			r->cap = ncap;
		}
		if (fill(r, e) < 0)
			return -1;
	}
	return 1;
}

/* ensure_slow when the bytes are not at hand already: twice a record, so the common case is inline. */
static inline int ensure(struct wnw_reader *r, size_t n, struct wnw_err *e)
{
	return r->end - r->pos >= n ? 1 : ensure_slow(r, n, e);
}

static int truncated(struct wnw_reader *r, struct wnw_err *e, const char *where)
{
	return wnw_errf(e, WNW_EXIT_DATA,
			"%s: record %llu: truncated stream: end of input %s (no valid trailer)", r->name,
			(unsigned long long)r->count + 1, where);
}

/* A length the input cannot hold is rejected before any buffer is sized for it. */
static int plausible(struct wnw_reader *r, uint64_t need)
{
	return !r->plain_file || need <= (uint64_t)(r->end - r->pos) + r->remaining_known;
}

static int read_header(struct wnw_reader *r, struct wnw_schema *s, struct wnw_err *e)
{
	int got = ensure(r, WNW_HEADER_FIXED, e);

	if (got < 0)
		return -1;
	if (got == 0)
		return truncated(r, e, "inside the header");
	const uint8_t *p = r->buf + r->pos;
	if (memcmp(p, WNW_MAGIC, 8) != 0)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: not a winnow stream (bad magic at member %llu)", r->name,
				(unsigned long long)r->member + 1);
	unsigned major = p[8] | (unsigned)p[9] << 8, minor = p[10] | (unsigned)p[11] << 8;
	if (major != WNW_FORMAT_MAJOR || minor > WNW_FORMAT_MINOR)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: format version %u.%u not supported (this reader: %u.%u)",
				r->name, major, minor, WNW_FORMAT_MAJOR, WNW_FORMAT_MINOR);
	uint32_t hlen = wnw_le32(p + 12);
	if (hlen > WNW_MAX_HEADER)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: header length %u is not plausible", r->name, hlen);
	if (!plausible(r, (uint64_t)WNW_HEADER_FIXED + hlen + 4))
		return truncated(r, e, "inside the header");
	got = ensure(r, WNW_HEADER_FIXED + (size_t)hlen + 4, e);
	if (got < 0)
		return -1;
	if (got == 0)
		return truncated(r, e, "inside the header");
	p = r->buf + r->pos + WNW_HEADER_FIXED;
	if (wnw_crc32(0, p, hlen) != wnw_le32(p + hlen))
		return wnw_errf(e, WNW_EXIT_DATA, "%s: header CRC mismatch: the stream is corrupt", r->name);
	if (wnw_header_decode(p, hlen, s, e) < 0) {
		char msg[sizeof e->msg];
		snprintf(msg, sizeof msg, "%s", e->msg);
		return wnw_errf(e, WNW_EXIT_DATA, "%s: bad header: %s", r->name, msg);
	}
	r->pos += WNW_HEADER_FIXED + (size_t)hlen + 4;
	r->member++;
	r->member_count = 0;
	r->crc = 0;
	r->crc_at = r->pos;
	return 0;
}

struct wnw_reader *wnw_reader_fdopen(int fd, const char *name, struct wnw_err *e)
{
	struct wnw_reader *r = calloc(1, sizeof *r);
	struct stat st;

	if (r == NULL || (r->name = strdup(name)) == NULL || (r->buf = malloc(CHUNK)) == NULL) {
		if (r)
			free(r->name);
		free(r);
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	r->max_record = WNW_MAX_RECORD;
	r->fd = fd;
	r->cap = CHUNK;
	wnw_pipe_grow(fd, WNW_PIPE_BYTES);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t at = lseek(fd, 0, SEEK_CUR);
		r->total = (uint64_t)st.st_size;
		r->remaining_known = at >= 0 && at <= st.st_size ? (uint64_t)(st.st_size - at) : 0;
		r->plain_file = at >= 0;
		r->start = at >= 0 ? (uint64_t)at : 0;
	}
	int got = ensure(r, 4, e);
	if (got < 0)
		goto fail;
	if (r->end - r->pos == 0) {
		wnw_errf(e, WNW_EXIT_DATA, "%s: empty input: not a winnow stream", name);
		goto fail;
	}
	if (got == 1 && wnw_le32(r->buf + r->pos) == ZSTD_MAGICNUMBER) {
		/* The bytes read so far are compressed: hand them to the decompressor. */
		r->ds = ZSTD_createDStream();
		r->zbuf = malloc(CHUNK); /* holds what the first read already took */
		if (r->ds == NULL || r->zbuf == NULL) {
			wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
			goto fail;
		}
		ZSTD_initDStream(r->ds);
		memcpy(r->zbuf, r->buf + r->pos, r->end - r->pos);
		r->zin.src = r->zbuf;
		r->zin.size = r->end - r->pos;
		r->zin.pos = 0;
		r->pos = r->end = 0;
		r->plain_file = 0;
		r->eof = 0;
	}
	if (read_header(r, &r->schema, e) < 0)
		goto fail;
	r->off = malloc((r->schema.nfields + 1) * sizeof *r->off);
	if (r->off == NULL) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		goto fail;
	}
	return r;
fail:
	r->own_fd = 0;
	wnw_reader_close(r);
	return NULL;
}

struct wnw_reader *wnw_reader_open(const char *path, struct wnw_err *e)
{
	if (path == NULL || strcmp(path, "-") == 0)
		return wnw_reader_fdopen(0, "stdin", e);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		wnw_errf(e, errno == ENOENT || errno == EACCES ? WNW_EXIT_USAGE : WNW_EXIT_SYSTEM,
			 "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	struct wnw_reader *r = wnw_reader_fdopen(fd, path, e);
	if (r == NULL)
		close(fd);
	else
		r->own_fd = 1;
	return r;
}

const struct wnw_schema *wnw_reader_schema(const struct wnw_reader *r) { return &r->schema; }
const char *wnw_reader_name(const struct wnw_reader *r) { return r->name; }
uint64_t wnw_reader_count(const struct wnw_reader *r) { return r->count; }

void wnw_reader_position(const struct wnw_reader *r, uint64_t *done, uint64_t *total)
{
	*done = r->consumed;
	*total = r->total;
}

/* Computes the offset of every field and checks that the fields exactly fill the record. */
static int index_fields(struct wnw_reader *r, const uint8_t *d, uint32_t len, struct wnw_err *e)
{
	long bad = wnw_schema_index(&r->schema, d, len, r->off);
	if (bad > 0)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: record %llu: field '%s' runs past the end of the record",
				r->name, (unsigned long long)r->count + 1, r->schema.fields[bad - 1].name);
	if (bad < 0)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: record %llu: %llu stray bytes after the last field",
				r->name, (unsigned long long)r->count + 1,
				(unsigned long long)(len - r->off[r->schema.nfields]));
	return 0;
}

/* Checks a member's trailer, then either ends the stream or opens the next member, whose schema must
 * have the same fields. Returns 1 when another member follows, 0 at the end, -1 on error. */
static int read_trailer(struct wnw_reader *r, struct wnw_err *e)
{
	int got = ensure(r, WNW_TRAILER_SIZE, e);

	if (got < 0)
		return -1;
	if (got == 0)
		return truncated(r, e, "inside the trailer");
	crc_fold(r);
	const uint8_t *p = r->buf + r->pos + 4;
	uint64_t n = wnw_le64(p);
	uint32_t crc = wnw_le32(p + 8);
	if (n != r->member_count)
		return wnw_errf(e, WNW_EXIT_DATA,
				"%s: record %llu: trailer counts %llu records but member %llu holds %llu: corrupt "
				"stream",
				r->name, (unsigned long long)r->count + 1, (unsigned long long)n,
				(unsigned long long)r->member, (unsigned long long)r->member_count);
	if (crc != r->crc)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: member %llu: CRC mismatch: the records are corrupt",
				r->name, (unsigned long long)r->member);
	r->pos += WNW_TRAILER_SIZE;
	r->crc_at = r->pos;
	got = ensure(r, 1, e);
	if (got <= 0)
		return got;
	struct wnw_schema next;
	wnw_schema_init(&next);
	if (read_header(r, &next, e) < 0) {
		wnw_schema_free(&next);
		return -1;
	}
	if (!wnw_schema_same_fields(&r->schema, &next)) {
		char a[512], b[512];
		wnw_schema_describe(&r->schema, a, sizeof a);
		wnw_schema_describe(&next, b, sizeof b);
		wnw_schema_free(&next);
		return wnw_errf(e, WNW_EXIT_DATA,
				"%s: concatenated streams disagree: member %llu has fields (%s), member 1 has (%s)",
				r->name, (unsigned long long)r->member, b, a);
	}
	wnw_schema_free(&next);
	return 1;
}

int wnw_reader_next(struct wnw_reader *r, struct wnw_rec *rec, struct wnw_err *e)
{
	for (;;) {
		if (r->done)
			return 0;
		int got = ensure(r, 4, e);
		if (got < 0)
			return -1;
		if (got == 0)
			return truncated(r, e, r->end == r->pos ? "after a record" : "inside a record length");
		uint32_t len = wnw_le32(r->buf + r->pos);
		if (len == WNW_TRAILER_MARK) {
			got = read_trailer(r, e);
			if (got < 0)
				return -1;
			if (got == 0) {
				r->done = 1;
				return 0;
			}
			continue;
		}
		if (len > WNW_MAX_RECORD)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: record %llu: length %u is not plausible", r->name,
					(unsigned long long)r->count + 1, len);
		if (len > r->max_record && plausible(r, 4ull + len))
			return wnw_errf(e, WNW_EXIT_SYSTEM,
					"%s: record %llu: %u bytes, more than the %u this program holds at once "
					"(raise it with --max-record)",
					r->name, (unsigned long long)r->count + 1, len, r->max_record);
		if (!plausible(r, 4ull + len))
			return wnw_errf(e, WNW_EXIT_DATA,
					"%s: record %llu: truncated or corrupt stream: record length %u is more than the "
					"file holds",
					r->name, (unsigned long long)r->count + 1, len);
		got = ensure(r, 4 + (size_t)len, e);
		if (got < 0)
			return -1;
		if (got == 0)
			return truncated(r, e, "inside a record");
		const uint8_t *d = r->buf + r->pos + 4;
		if (index_fields(r, d, len, e) < 0)
			return -1;
		r->pos += 4 + (size_t)len;
		if (r->pos - r->crc_at >= CRC_SPAN)
			crc_fold(r);
		r->count++;
		r->member_count++;
		rec->data = d;
		rec->len = len;
		rec->number = r->count;
		rec->schema = &r->schema;
		rec->off = r->off;
		return 1;
	}
}

int wnw_reader_fd(const struct wnw_reader *r) { return r->plain_file ? r->fd : -1; }

uint64_t wnw_reader_offset(const struct wnw_reader *r, const struct wnw_rec *rec)
{
	/* buf[0, end) holds the file's bytes just before start + consumed */
	return r->start + r->consumed - (uint64_t)(r->end - (size_t)(rec->data - r->buf));
}

void wnw_reader_close(struct wnw_reader *r)
{
	if (r == NULL)
		return;
	if (r->own_fd)
		close(r->fd);
	ZSTD_freeDStream(r->ds);
	free(r->zbuf);
	free(r->buf);
	free(r->off);
	free(r->name);
	wnw_schema_free(&r->schema);
	free(r);
}

void wnw_get_vec(const struct wnw_rec *r, int f, float *dst)
{
	const uint8_t *p = r->data + r->off[f];
	uint32_t dim = r->schema->fields[f].dim;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(dst, p, (size_t)dim * 4);
#else
	for (uint32_t i = 0; i < dim; i++)
		dst[i] = wnw_lef32(p + 4 * i);
#endif
}

double wnw_get_number(const struct wnw_rec *r, int f)
{
	switch (r->schema->fields[f].type) {
	case WNW_U64:
		return (double)wnw_get_u64(r, f);
	case WNW_F32:
		return wnw_get_f32(r, f);
	case WNW_F64:
		return wnw_get_f64(r, f);
	default:
		return 0.0 / 0.0;
	}
}

void wnw_reader_set_max_record(struct wnw_reader *r, uint32_t max) { r->max_record = max; }
