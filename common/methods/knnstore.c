/* knnstore.c: records kept in memory up to a budget, spilled to an unlinked temporary file beyond it, or
 * only referred to in the input file they came from (see knnstore.h). Every record ever added costs 16
 * bytes of index whether it lives or not. */
#include "knnstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IN_FILE 0x80000000u
#define DEAD 0x40000000u
#define LEN_MASK 0x3fffffffu
#define SPARE_BYTES ((size_t)64 << 20) /* at most this much in freed buffers kept for reuse */
#define IN_SOURCE UINT32_MAX             /* nfields of a record referred to in the source file */
#define WINDOW ((size_t)WNW_STORE_SPAN)  /* bytes of the source file read at once when reading in order */
#define GAP WNW_STORE_GAP

struct slot {
	uint64_t where; /* pointer to the bytes in memory, or offset in the file or in the source file */
	uint32_t len;   /* bytes: offsets then data (a source's record: its data only); flags IN_FILE and DEAD */
	uint32_t nfields;
};

/* The buffers a record is read into: a spilled record, or a window of the source file and the fields of
 * a record in it. */
struct wnw_store_view {
	uint8_t *buf;
	size_t bufcap;
	uint32_t *off;
	size_t offcap;
	uint8_t *win;
	size_t wincap;
	uint64_t wat, wlen; /* win holds the source's bytes [wat, wat + wlen) */
	uint64_t last;      /* the end of the record read last */
};

struct wnw_store {
	struct slot *s;
	uint64_t n, cap;
	uint64_t budget, mem;      /* bytes held in memory */
	uint64_t flive, fdead;     /* bytes in the file, live and dropped */
	uint64_t fend, spilled;    /* end of the file, bytes ever written */
	int fd;
	struct wnw_store_view v;  /* wnw_store_get's */
	uint8_t *buf;              /* for compacting the file */
	size_t bufcap;
	/* Freed buffers of one size kept for reuse: records of a stream mostly share a size, and a
	 * search admits and evicts millions of them. */
	uint8_t **spare;
	size_t nspare, capspare;
	uint32_t spare_len;
	/* The source file: its records are read again from it, through a window of its bytes. */
	int src;
	const struct wnw_schema *schema;
};

/* A record held in memory (not spilled, not dropped, not a reference to the source). */
static int in_memory(const struct slot *sl)
{
	return !(sl->len & (IN_FILE | DEAD)) && sl->nfields != IN_SOURCE;
}

struct wnw_store *wnw_store_new(uint64_t budget, struct wnw_err *e)
{
	struct wnw_store *s = calloc(1, sizeof *s);
	if (!s) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	s->budget = budget;
	s->fd = s->src = -1;
	return s;
}

static uint8_t *buf_alloc(struct wnw_store *s, uint32_t len)
{
	if (len == s->spare_len && s->nspare)
		return s->spare[--s->nspare];
	return malloc(len);
}

static void buf_free(struct wnw_store *s, uint8_t *p, uint32_t len)
{
	if (s->nspare == 0)
		s->spare_len = len;
	if (len == s->spare_len && s->nspare == s->capspare && (s->nspare + 1) * len <= SPARE_BYTES) {
		size_t cap = s->capspare ? 2 * s->capspare : 256;
		uint8_t **sp = realloc(s->spare, cap * sizeof *sp);
		if (sp) {
			s->spare = sp;
			s->capspare = cap;
		}
	}
	if (len == s->spare_len && s->nspare < s->capspare && (s->nspare + 1) * len <= SPARE_BYTES)
		s->spare[s->nspare++] = p;
	else
		free(p);
}

static int tmp_open(struct wnw_err *e)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/winnow-spill.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "cannot create a temporary file in %s: %s",
				dir && *dir ? dir : "/tmp", strerror(errno));
	unlink(path);
	return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n, uint64_t off, struct wnw_err *e)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "cannot write the temporary file: %s",
					w < 0 ? strerror(errno) : "no space");
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* Makes *buf hold at least want bytes (its contents need not be kept). */
static int reserve(uint8_t **buf, size_t *cap, size_t want, struct wnw_err *e)
{
	if (want <= *cap)
		return 0;
	uint8_t *b = realloc(*buf, want);
	if (!b)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	*buf = b;
	*cap = want;
	return 0;
}

/* Reads up to n bytes at off, fewer only at the end of the file; returns how many, or -1. */
static ssize_t read_upto(int fd, uint8_t *p, size_t n, uint64_t off, const char *what, struct wnw_err *e)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "cannot read %s: %s", what, strerror(errno));
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int read_all(int fd, uint8_t *p, size_t n, uint64_t off, struct wnw_err *e)
{
	ssize_t got = read_upto(fd, p, n, off, "the temporary file", e);
	if (got >= 0 && (size_t)got < n)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "cannot read the temporary file: short file");
	return got < 0 ? -1 : 0;
}

/* Rewrites the live records of the file into a new file, dropping the space of dead ones. */
static int compact(struct wnw_store *s, struct wnw_err *e)
{
	int fd = tmp_open(e);
	if (fd < 0)
		return -1;
	uint64_t end = 0;
	for (uint64_t h = 0; h < s->n; h++) {
		struct slot *sl = &s->s[h];
		if ((sl->len & (IN_FILE | DEAD)) != IN_FILE)
			continue; /* a source's record never has IN_FILE */
		uint32_t len = sl->len & LEN_MASK;
		if (reserve(&s->buf, &s->bufcap, len, e) != 0 || read_all(s->fd, s->buf, len, sl->where, e) != 0 ||
		    write_all(fd, s->buf, len, end, e) != 0) {
			close(fd);
			return -1;
		}
		sl->where = end;
		end += len;
	}
	close(s->fd);
	s->fd = fd;
	s->fend = end;
	s->fdead = 0;
	s->spilled += end;
	return 0;
}

/* Moves every record held in memory to the end of the file. */
static int spill(struct wnw_store *s, struct wnw_err *e)
{
	if (s->fd < 0 && (s->fd = tmp_open(e)) < 0)
		return -1;
	for (uint64_t h = 0; h < s->n; h++) {
		struct slot *sl = &s->s[h];
		if (!in_memory(sl))
			continue;
		uint32_t len = sl->len & LEN_MASK;
		uint8_t *p = (uint8_t *)(uintptr_t)sl->where;
		if (write_all(s->fd, p, len, s->fend, e) != 0)
			return -1;
		buf_free(s, p, len);
		sl->where = s->fend;
		sl->len |= IN_FILE;
		s->fend += len;
		s->flive += len;
		s->spilled += len;
	}
	s->mem = 0;
	if (s->fdead > s->flive && s->fdead > ((uint64_t)64 << 20))
		return compact(s, e);
	return 0;
}

static int grow(struct wnw_store *s, struct wnw_err *e)
{
	if (s->n < s->cap)
		return 0;
	uint64_t cap = s->cap ? 2 * s->cap : 1024;
	struct slot *ns = realloc(s->s, cap * sizeof *ns);
	if (!ns)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	s->s = ns;
	s->cap = cap;
	return 0;
}

int64_t wnw_store_add(struct wnw_store *s, const struct wnw_rec *rec, struct wnw_err *e)
{
	uint32_t nf = rec->schema->nfields;
	size_t hdr = ((size_t)nf + 1) * 4;
	if (hdr + rec->len > LEN_MASK)
		return wnw_errf(e, WNW_EXIT_DATA, "record too large to keep");
	uint32_t len = (uint32_t)(hdr + rec->len);
	if (grow(s, e) != 0)
		return -1;
	uint8_t *p = buf_alloc(s, len);
	if (!p)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	memcpy(p, rec->off, hdr);
	memcpy(p + hdr, rec->data, rec->len);
	s->s[s->n++] = (struct slot){(uint64_t)(uintptr_t)p, len, nf};
	s->mem += len;
	if (s->mem > s->budget && spill(s, e) != 0)
		return -1;
	return (int64_t)(s->n - 1);
}

void wnw_store_source(struct wnw_store *s, int fd, const struct wnw_schema *schema)
{
	s->src = fd;
	s->schema = schema;
}

int64_t wnw_store_add_ref(struct wnw_store *s, uint64_t off, uint32_t len, struct wnw_err *e)
{
	if (len > LEN_MASK)
		return wnw_errf(e, WNW_EXIT_DATA, "record too large to keep");
	if (grow(s, e) != 0)
		return -1;
	s->s[s->n++] = (struct slot){off, len, IN_SOURCE};
	return (int64_t)(s->n - 1);
}

int wnw_store_drop(struct wnw_store *s, uint64_t h, struct wnw_err *e)
{
	struct slot *sl = &s->s[h];
	uint32_t len = sl->len & LEN_MASK;
	if (sl->len & DEAD)
		return 0;
	if (sl->nfields == IN_SOURCE) {
		sl->len |= DEAD;
		return 0;
	}
	if (sl->len & IN_FILE) {
		s->flive -= len;
		s->fdead += len;
	} else {
		buf_free(s, (uint8_t *)(uintptr_t)sl->where, len);
		s->mem -= len;
	}
	sl->len |= DEAD;
	if (s->fdead > s->flive && s->fdead > ((uint64_t)64 << 20))
		return compact(s, e);
	return 0;
}

/* Brings the source's bytes [off, off + len) into v's window, and with them those up to upto when it is
 * not 0. Reading a record costs a system call (about a microsecond here) and copying the bytes
 * between records about 0.1 ns each, so without upto a record less than GAP bytes past the last one
 * brings a window's worth of the file, any other only itself. */
static int window(const struct wnw_store *s, struct wnw_store_view *v, uint64_t off, uint32_t len, uint64_t upto,
		  struct wnw_err *e)
{
	if (off < v->wat || off + len > v->wat + v->wlen) {
		size_t want = upto ? (upto > off + len ? (size_t)(upto - off) : len)
			      : off >= v->last && off - v->last < GAP && len < WINDOW ? WINDOW : len;
		v->wlen = 0; /* until the read succeeds */
		if (reserve(&v->win, &v->wincap, want, e) != 0)
			return -1;
		ssize_t got = read_upto(s->src, v->win, want, off, "the input again", e);
		if (got < 0)
			return -1;
		v->wat = off;
		v->wlen = (uint64_t)got;
		if ((size_t)got < len)
			return wnw_errf(e, WNW_EXIT_DATA, "the input file shrank while being read");
	}
	v->last = off + len;
	return 0;
}

static int get_source(const struct wnw_store *s, struct wnw_store_view *v, uint64_t off, uint32_t len,
		      uint64_t upto, struct wnw_rec *rec, struct wnw_err *e)
{
	size_t nf = (size_t)s->schema->nfields + 1;
	if (v->offcap < nf) {
		uint32_t *o = realloc(v->off, nf * sizeof *o);
		if (!o)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		v->off = o;
		v->offcap = nf;
	}
	if (window(s, v, off, len, upto, e) != 0)
		return -1;
	const uint8_t *p = v->win + (off - v->wat);
	if (wnw_schema_index(s->schema, p, len, v->off) != 0)
		return wnw_errf(e, WNW_EXIT_DATA, "the input file changed while being read");
	rec->off = v->off;
	rec->data = p;
	rec->len = len;
	return 0;
}

static int get(const struct wnw_store *s, struct wnw_store_view *v, uint64_t h, struct wnw_rec *rec,
	       struct wnw_err *e)
{
	const struct slot *sl = &s->s[h];
	uint32_t len = sl->len & LEN_MASK;
	const uint8_t *p;
	if (sl->len & DEAD)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "internal error: reading a dropped record");
	if (sl->nfields == IN_SOURCE)
		return get_source(s, v, sl->where, len, 0, rec, e);
	if (sl->len & IN_FILE) {
		if (reserve(&v->buf, &v->bufcap, len, e) != 0 || read_all(s->fd, v->buf, len, sl->where, e) != 0)
			return -1;
		p = v->buf;
	} else {
		p = (const uint8_t *)(uintptr_t)sl->where;
	}
	size_t hdr = ((size_t)sl->nfields + 1) * 4;
	rec->off = (uint32_t *)(uintptr_t)p;
	rec->data = p + hdr;
	rec->len = (uint32_t)(len - hdr);
	return 0;
}

int wnw_store_get(struct wnw_store *s, uint64_t h, struct wnw_rec *rec, struct wnw_err *e)
{
	return get(s, &s->v, h, rec, e);
}

/* A record read again from the source file must still hold the id it had. */
static int same_id(const struct wnw_rec *rec, int fid, uint64_t id, struct wnw_err *e)
{
	if (wnw_get_u64(rec, fid) != id)
		return wnw_errf(e, WNW_EXIT_DATA, "the input file changed while being read");
	return 0;
}

int wnw_store_view_get(const struct wnw_store *s, struct wnw_store_view *v, uint64_t h, int fid, uint64_t id,
		       struct wnw_rec *rec, struct wnw_err *e)
{
	if (get(s, v, h, rec, e) != 0)
		return -1;
	return s->s[h].nfields == IN_SOURCE ? same_id(rec, fid, id, e) : 0;
}

int wnw_store_view_source(const struct wnw_store *s, struct wnw_store_view *v, uint64_t off, uint32_t len,
			  uint64_t upto, int fid, uint64_t id, struct wnw_rec *rec, struct wnw_err *e)
{
	if (get_source(s, v, off, len, upto, rec, e) != 0)
		return -1;
	return same_id(rec, fid, id, e);
}

int wnw_store_get_checked(struct wnw_store *s, uint64_t h, int fid, uint64_t id, struct wnw_rec *rec,
			  struct wnw_err *e)
{
	return wnw_store_view_get(s, &s->v, h, fid, id, rec, e);
}

struct wnw_store_view *wnw_store_view_new(struct wnw_err *e)
{
	struct wnw_store_view *v = calloc(1, sizeof *v);
	if (!v)
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	return v;
}

static void view_clear(struct wnw_store_view *v)
{
	free(v->buf);
	free(v->off);
	free(v->win);
}

void wnw_store_view_free(struct wnw_store_view *v)
{
	if (v)
		view_clear(v);
	free(v);
}

void wnw_store_prefetch(const struct wnw_store *s, uint64_t h)
{
	const struct slot *sl = &s->s[h];
	if (!in_memory(sl))
		return;
	const char *p = (const char *)(uintptr_t)sl->where;
	for (uint32_t o = 0; o < (sl->len & LEN_MASK); o += 64)
		__builtin_prefetch(p + o);
}

uint64_t wnw_store_count(const struct wnw_store *s) { return s->n; }

size_t wnw_store_size(const struct wnw_store *s, uint64_t h) { return s->s[h].len & LEN_MASK; }

uint64_t wnw_store_spilled(const struct wnw_store *s) { return s->spilled; }

void wnw_store_free(struct wnw_store *s)
{
	if (!s)
		return;
	for (uint64_t h = 0; h < s->n; h++)
		if (in_memory(&s->s[h]))
			free((void *)(uintptr_t)s->s[h].where);
	for (size_t i = 0; i < s->nspare; i++)
		free(s->spare[i]);
	free(s->spare);
	if (s->fd >= 0)
		close(s->fd);
	free(s->s);
	free(s->buf);
	view_clear(&s->v);
	free(s);
}
