/* lines.c: decompress (if needed) into a buffer and hand out lines from it.
 * The buffer holds the unfinished line plus one chunk; it grows only as a line needs it, up to the
 * line limit, so memory is bounded by maxline plus a few chunks. */
#include "lines.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define CHUNK (256u << 10)

enum codec { PLAIN, GZIP, ZSTD };

struct wnw_lines {
	int fd;
	char *name;
	size_t maxline;
	enum codec codec;
	/* raw input from the file */
	uint8_t *in;
	size_t in_pos, in_len;
	int in_eof;
	uint64_t in_total, file_size;
	/* decoded bytes: [start, end) not yet handed out */
	char *buf;
	size_t start, end, cap;
	int dec_eof;
	z_stream z;
	int z_live;   /* inflateInit2 done */
	int z_member; /* inside a gzip member (not at its end) */
	ZSTD_DStream *zd;
	size_t zret; /* last ZSTD_decompressStream result: 0 at a frame end */
	uint64_t lineno;
	size_t scanned; /* bytes of [start, end) already searched for the record's end */
	enum wnw_split split;
	/* the scanner's state across calls: inside a quoted CSV field or a JSON string, after a
	 * backslash there, the JSON nesting depth, and the newlines in the record so far */
	int quoted, escaped, depth, closed;
	uint64_t records, newlines, phys;
};

static int fail(struct wnw_lines *l, struct wnw_err *e, int status, const char *what)
{
	return wnw_errf(e, status, "%s: %s", l->name, what);
}

static int fill_in(struct wnw_lines *l, struct wnw_err *e)
{
	if (l->in_pos < l->in_len || l->in_eof)
		return 0;
	ssize_t n;
	do
		n = read(l->fd, l->in, CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: read error: %s", l->name, strerror(errno));
	l->in_pos = 0;
	l->in_len = (size_t)n;
	l->in_total += (uint64_t)n;
	if (n == 0)
		l->in_eof = 1;
	return 0;
}

/* Makes room for at least CHUNK more decoded bytes after end, moving the unfinished line to the
 * front and growing the buffer when the line needs it. */
static int make_room(struct wnw_lines *l, struct wnw_err *e)
{
	if (l->start > 0) {
		memmove(l->buf, l->buf + l->start, l->end - l->start);
		l->end -= l->start;
		l->start = 0;
	}
	if (l->cap - l->end >= CHUNK)
		return 0;
	if (l->end > l->maxline) {
		return wnw_errf(e, WNW_EXIT_DATA, "%s: line %llu: line longer than %zu bytes", l->name,
				(unsigned long long)l->lineno + 1, l->maxline);
	}
	size_t cap = l->cap * 2;
	if (cap < l->end + CHUNK)
		cap = l->end + CHUNK;
	char *p = realloc(l->buf, cap);
	if (!p)
		return fail(l, e, WNW_EXIT_SYSTEM, "out of memory");
	l->buf = p;
	l->cap = cap;
	return 0;
}

/* Decodes more input into buf; sets dec_eof at the clean end of the input. */
static int decode_more(struct wnw_lines *l, struct wnw_err *e)
{
	if (make_room(l, e) < 0)
		return -1;
	size_t room = l->cap - l->end;
	for (;;) {
		if (fill_in(l, e) < 0)
			return -1;
		size_t avail = l->in_len - l->in_pos;
		if (l->codec == PLAIN) {
			if (avail == 0) {
				l->dec_eof = 1;
				return 0;
			}
			size_t n = avail < room ? avail : room;
			memcpy(l->buf + l->end, l->in + l->in_pos, n);
			l->in_pos += n;
			l->end += n;
			return 0;
		}
		if (l->codec == GZIP) {
			if (avail == 0) {
				if (l->z_member)
					return fail(l, e, WNW_EXIT_DATA, "truncated gzip input");
				l->dec_eof = 1;
				return 0;
			}
			if (!l->z_member) {
				/* The start of another gzip member, as `cat a.gz b.gz` makes. */
				if (inflateReset(&l->z) != Z_OK)
					return fail(l, e, WNW_EXIT_SYSTEM, "zlib: inflateReset failed");
				l->z_member = 1;
			}
			l->z.next_in = l->in + l->in_pos;
			l->z.avail_in = (uInt)avail;
			l->z.next_out = (Bytef *)l->buf + l->end;
			l->z.avail_out = (uInt)room;
			int rc = inflate(&l->z, Z_NO_FLUSH);
			l->in_pos = l->in_len - l->z.avail_in;
			size_t got = room - l->z.avail_out;
			l->end += got;
			if (rc == Z_STREAM_END) {
				l->z_member = 0;
			} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
				char msg[300];
				snprintf(msg, sizeof msg, "gzip: %s", l->z.msg ? l->z.msg : "corrupt input");
				return fail(l, e, rc == Z_MEM_ERROR ? WNW_EXIT_SYSTEM : WNW_EXIT_DATA, msg);
			}
			if (got > 0)
				return 0;
			continue;
		}
		/* ZSTD: one call decodes across frame boundaries; zret == 0 marks a completed frame. */
		if (avail == 0) {
			if (l->zret != 0)
				return fail(l, e, WNW_EXIT_DATA, "truncated zstd input");
			l->dec_eof = 1;
			return 0;
		}
		ZSTD_inBuffer zin = {l->in + l->in_pos, avail, 0};
		ZSTD_outBuffer zout = {l->buf + l->end, room, 0};
		size_t rc = ZSTD_decompressStream(l->zd, &zout, &zin);
		if (ZSTD_isError(rc)) {
			char msg[300];
			snprintf(msg, sizeof msg, "zstd: %s", ZSTD_getErrorName(rc));
			return fail(l, e, WNW_EXIT_DATA, msg);
		}
		l->zret = rc;
		l->in_pos += zin.pos;
		l->end += zout.pos;
		if (zout.pos > 0)
			return 0;
	}
}

struct wnw_lines *wnw_lines_fdopen(int fd, const char *name, size_t maxline, struct wnw_err *e)
{
	struct wnw_lines *l = calloc(1, sizeof *l);
	if (!l) {
		close(fd);
		wnw_errf(e, WNW_EXIT_SYSTEM, "%s: out of memory", name);
		return NULL;
	}
	l->fd = fd;
	l->maxline = maxline ? maxline : WNW_LINES_DEFAULT_MAX;
	l->name = strdup(name);
	l->in = malloc(CHUNK);
	if (!l->name || !l->in) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "%s: out of memory", name);
		wnw_lines_close(l);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		l->file_size = (uint64_t)st.st_size;
	/* Read until the magic can be told (or the input ends), keeping what was read. */
	while (l->in_len < 4 && !l->in_eof) {
		ssize_t n = read(fd, l->in + l->in_len, CHUNK - l->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			wnw_errf(e, WNW_EXIT_SYSTEM, "%s: read error: %s", l->name, strerror(errno));
			wnw_lines_close(l);
			return NULL;
		}
		if (n == 0)
			l->in_eof = 1;
		l->in_len += (size_t)n;
		l->in_total += (uint64_t)n;
	}
	const uint8_t *m = l->in;
	if (l->in_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
		l->codec = GZIP;
		if (inflateInit2(&l->z, 15 + 16) != Z_OK) {
			wnw_errf(e, WNW_EXIT_SYSTEM, "%s: zlib: cannot initialise", l->name);
			wnw_lines_close(l);
			return NULL;
		}
		l->z_live = 1;
		l->z_member = 1;
	} else if (l->in_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
		l->codec = ZSTD;
		l->zd = ZSTD_createDStream();
		if (!l->zd || ZSTD_isError(ZSTD_initDStream(l->zd))) {
			wnw_errf(e, WNW_EXIT_SYSTEM, "%s: zstd: cannot initialise", l->name);
			wnw_lines_close(l);
			return NULL;
		}
		/* Refuse frames whose window would need more than 128 MiB (zstd's default limit). */
		ZSTD_DCtx_setParameter(l->zd, ZSTD_d_windowLogMax, 27);
		l->zret = 1;
	}
	return l;
}

struct wnw_lines *wnw_lines_open(const char *path, size_t maxline, struct wnw_err *e)
{
	if (path == NULL || strcmp(path, "-") == 0)
		return wnw_lines_fdopen(dup(0), "stdin", maxline, e);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		wnw_errf(e, errno == ENOENT || errno == EACCES ? WNW_EXIT_USAGE : WNW_EXIT_SYSTEM, "%s: %s",
			 path, strerror(errno));
		return NULL;
	}
	return wnw_lines_fdopen(fd, path, maxline, e);
}

static int too_long(const struct wnw_lines *l, struct wnw_err *e)
{
	return wnw_errf(e, WNW_EXIT_DATA, "%s: %s %llu: %s longer than %zu bytes", l->name,
			l->split == WNW_SPLIT_JSON_ARRAY ? "element" : "line", (unsigned long long)l->phys + 1,
			l->split == WNW_SPLIT_JSON_ARRAY ? "element" : "line", l->maxline);
}

/* A record was handed out: its number is the line it started on (or its element number). */
static void give(struct wnw_lines *l)
{
	l->scanned = 0;
	l->records++;
	l->lineno = l->split == WNW_SPLIT_JSON_ARRAY ? l->records : l->phys + 1;
	l->phys += l->split == WNW_SPLIT_JSON_ARRAY ? 1 : l->newlines + 1;
	l->newlines = 0;
}

/* CSV (RFC 4180): a record ends at a newline outside double quotes; a doubled quote inside a quoted
 * field toggles twice, which leaves the state right. */
static const char *csv_end(struct wnw_lines *l, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"')
			l->quoted = !l->quoted;
		else if (p[i] == '\n' && !l->quoted)
			return p + i;
		else if (p[i] == '\n')
			l->newlines++;
	}
	return NULL;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* JSON array: the offset in p[0, n) of the ',' or ']' that ends the current element (at depth 1,
 * outside strings), or n. depth counts the array itself; before its '[' only white space may come. */
static size_t json_end(struct wnw_lines *l, const char *p, size_t n, int *bad)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (l->quoted) {
			if (l->escaped)
				l->escaped = 0;
			else if (c == '\\')
				l->escaped = 1;
			else if (c == '"')
				l->quoted = 0;
			continue;
		}
		if (l->depth == 0 && !is_space(c) && c != '[') {
			*bad = 1;
			return i;
		}
		if (c == '"')
			l->quoted = 1;
		else if (c == '[' || c == '{')
			l->depth++;
		else if ((c == ']' || c == '}') && --l->depth == 0)
			return i;
		else if (c == ',' && l->depth == 1)
			return i;
	}
	return n;
}

/* The element [s, s + n) without surrounding white space (and, for the first, the array's '['). */
static void trim_element(struct wnw_lines *l, const char **s, size_t *n)
{
	while (*n && is_space(**s))
		++*s, --*n;
	if (l->records == 0 && *n && **s == '[') {
		++*s, --*n;
		while (*n && is_space(**s))
			++*s, --*n;
	}
	while (*n && is_space((*s)[*n - 1]))
		--*n;
}

/* After the array's closing ']' only white space may follow. */
static int rest_is_space(struct wnw_lines *l, struct wnw_err *e)
{
	for (;;) {
		for (size_t i = l->start; i < l->end; i++)
			if (!is_space(l->buf[i]))
				return wnw_errf(e, WNW_EXIT_DATA, "%s: text after the closing ']' of the array", l->name);
		l->start = l->end;
		if (l->dec_eof)
			return 0;
		if (decode_more(l, e) < 0)
			return -1;
	}
}

static int next_element(struct wnw_lines *l, const char **line, size_t *len, struct wnw_err *e)
{
	for (;;) {
		if (l->closed)
			return rest_is_space(l, e);
		size_t unseen = l->end - l->start - l->scanned;
		int bad = 0;
		size_t k = unseen ? json_end(l, l->buf + l->start + l->scanned, unseen, &bad) : 0;
		if (bad)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: not a JSON array of objects", l->name);
		if (k < unseen) {
			size_t n = l->scanned + k;
			if (n > l->maxline)
				return too_long(l, e);
			const char *s = l->buf + l->start;
			l->closed = l->depth == 0;
			trim_element(l, &s, &n);
			l->start += l->scanned + k + 1;
			if (n == 0 && l->closed && l->records == 0)
				return rest_is_space(l, e);
			give(l);
			if (n == 0)
				return wnw_errf(e, WNW_EXIT_DATA, "%s: element %llu: empty", l->name,
						(unsigned long long)l->lineno);
			*line = s;
			*len = n;
			return 1;
		}
		l->scanned += unseen;
		if (l->scanned > l->maxline)
			return too_long(l, e);
		if (l->dec_eof) {
			if (l->end == l->start || l->depth == 0)
				return rest_is_space(l, e);
			return wnw_errf(e, WNW_EXIT_DATA, "%s: truncated: the array is not closed", l->name);
		}
		if (decode_more(l, e) < 0)
			return -1;
	}
}

int wnw_lines_peek(struct wnw_lines *l, char *c, struct wnw_err *e)
{
	while (l->records == 0 && l->start == 0 && l->end < 3 && !l->dec_eof)
		if (decode_more(l, e) < 0)
			return -1;
	if (l->records == 0 && l->start == 0 && l->end >= 3 && memcmp(l->buf, "\xef\xbb\xbf", 3) == 0)
		l->start = 3;
	/* an offset from start, which decode_more keeps in place while it moves the bytes */
	for (size_t i = 0;;) {
		for (; l->start + i < l->end; i++)
			if (!is_space(l->buf[l->start + i])) {
				*c = l->buf[l->start + i];
				return 1;
			}
		if (l->dec_eof)
			return 0;
		if (decode_more(l, e) < 0)
			return -1;
	}
}

void wnw_lines_split(struct wnw_lines *l, enum wnw_split how) { l->split = how; }

int wnw_lines_next(struct wnw_lines *l, const char **line, size_t *len, struct wnw_err *e)
{
	if (l->split == WNW_SPLIT_JSON_ARRAY)
		return next_element(l, line, len, e);
	for (;;) {
		size_t unseen = l->end - l->start - l->scanned;
		const char *p = unseen ? l->buf + l->start + l->scanned : NULL; /* buf is NULL at first */
		const char *nl = !unseen ? NULL : l->split == WNW_SPLIT_CSV ? csv_end(l, p, unseen) : memchr(p, '\n', unseen);
		if (nl) {
			size_t n = (size_t)(nl - (l->buf + l->start));
			if (n > l->maxline)
				break;
			*line = l->buf + l->start;
			*len = n;
			l->start += n + 1;
			give(l);
			return 1;
		}
		l->scanned = l->end - l->start;
		if (l->scanned > l->maxline)
			break;
		if (l->dec_eof) {
			if (l->end == l->start)
				return 0;
			if (l->quoted)
				return wnw_errf(e, WNW_EXIT_DATA, "%s: line %llu: a quoted field is not closed", l->name,
						(unsigned long long)l->phys + 1);
			*line = l->buf + l->start;
			*len = l->end - l->start;
			l->start = l->end;
			give(l);
			return 1;
		}
		if (decode_more(l, e) < 0)
			return -1;
	}
	return too_long(l, e);
}

uint64_t wnw_lines_lineno(const struct wnw_lines *l) { return l->lineno; }

const char *wnw_lines_unit(const struct wnw_lines *l) { return l->split == WNW_SPLIT_JSON_ARRAY ? "element" : "line"; }

const char *wnw_lines_name(const struct wnw_lines *l) { return l->name; }

void wnw_lines_position(const struct wnw_lines *l, uint64_t *done, uint64_t *total)
{
	*done = l->in_total;
	*total = l->file_size;
}

void wnw_lines_close(struct wnw_lines *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	if (l->z_live)
		inflateEnd(&l->z);
	ZSTD_freeDStream(l->zd);
	free(l->in);
	free(l->buf);
	free(l->name);
	free(l);
}
