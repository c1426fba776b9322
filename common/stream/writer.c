/* writer.c: writes a winnow stream (winnow(5)) to stdout or to FILE by way of a temporary file that is
 * renamed only after the trailer is written, plain or zstd-compressed. Records are built in place in
 * the output buffer, field by field, so pass-through costs one copy; a memory writer only builds them,
 * for a stream's writer to put in order. Into a pipe, whole pages of the buffer go by vmsplice(2). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <zlib.h>

#include "crc.h"
#include "format.h"
#include "sink.h"
#include "winnow.h"

#define FLUSH_AT (1u << 20)
/* Records are folded into the CRC in spans of about this much (as the reader does). */
#define CRC_SPAN (64u << 10)
#define HUGE_PAGE (2u << 20)

struct wnw_writer {
	struct wnw_sink sink;
	uint8_t *buf;     /* pending output; the record being built starts at rec */
	size_t used, cap, rec;
	size_t flush_at;  /* output is sent once this much is pending */
	uint8_t *blocks;  /* gift mode (blocks_move): two blocks of cap bytes, buf one of them; else NULL */
	struct wnw_schema schema;
	uint32_t cur;     /* next field to write */
	const char *bug;  /* first misuse of the field API, reported by wnw_writer_end */
	uint64_t count;
	uint32_t crc;     /* of the records before crc_at */
	size_t crc_at;    /* records in buf[crc_at, rec) are not yet in crc: it is folded in spans */
	int failed;       /* an allocation failed while building the record */
	int mem;          /* records stay in buf until wnw_writer_put (no sink) */
	int finished;     /* wnw_writer_finish has written the trailer: only the rename is left */
};

/* Brings the CRC up to the record being built: once per flush instead of once per record. */
static void crc_fold(struct wnw_writer *w)
{
	w->crc = wnw_crc32(w->crc, w->buf + w->crc_at, w->rec - w->crc_at);
	w->crc_at = w->rec;
}

/* Gift mode, for an output pipe that takes pages (wnw_sink_gift): records are built in one of two
 * blocks of cap bytes on huge-page boundaries; a flush hands the pipe the block's whole pages instead
 * of copying them, and building moves on to the other block. The block left behind gets fresh zero
 * pages (MADV_DONTNEED) before it is used again, since a gifted page must never be written again.
 * With huge pages a fresh block costs one fault and one clear instead of 512 (4 KiB pages would cost
 * more than the copy saved). Returns the two blocks, or NULL. */
static uint8_t *blocks_map(size_t cap)
{
	size_t len = 2 * cap + HUGE_PAGE;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	size_t head = (HUGE_PAGE - (uintptr_t)m % HUGE_PAGE) % HUGE_PAGE;
	if (head > 0)
		munmap(m, head);
	munmap(m + head + 2 * cap, HUGE_PAGE - head);
	madvise(m + head, 2 * cap, MADV_HUGEPAGE);
	return m + head;
}

/* 1 when the kernel gives huge pages to a region that asks (transparent huge pages "always" or
 * "madvise"): without them gift mode costs more than it saves. */
static int huge_pages_on(void)
{
	char line[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f == NULL)
		return 0;
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = 0;
	fclose(f);
	return strstr(line, "[always]") != NULL || strstr(line, "[madvise]") != NULL;
}

/* Moves the pending bytes into fresh blocks of ncap bytes (a multiple of HUGE_PAGE). */
static int blocks_move(struct wnw_writer *w, size_t ncap)
{
	uint8_t *nb = blocks_map(ncap);
	if (nb == NULL)
		return -1;
	memcpy(nb, w->buf, w->used);
	if (w->blocks != NULL)
		munmap(w->blocks, 2 * w->cap);
	else
		free(w->buf);
	w->buf = w->blocks = nb;
	w->cap = ncap;
	w->flush_at = ncap - ncap / 8; /* a fresh block is cleared whole: fill most of it */
	return 0;
}

/* After a flush that gave the pipe pages of the current block: the record being built moves to the
 * other block, and this one is replaced by fresh pages. */
static int next_block(struct wnw_writer *w)
{
	uint8_t *next = w->buf == w->blocks ? w->blocks + w->cap : w->blocks;
	memcpy(next, w->buf + w->rec, w->used - w->rec);
	if (madvise(w->buf, w->cap, MADV_DONTNEED) != 0 &&
	    mmap(w->buf, w->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return -1;
	w->buf = next;
	w->used -= w->rec;
	w->rec = w->crc_at = 0;
	return 0;
}

/* Forgets the records before the one being built (sent or put). */
static void drop_done(struct wnw_writer *w)
{
	memmove(w->buf, w->buf + w->rec, w->used - w->rec);
	w->used -= w->rec;
	w->rec = w->crc_at = 0;
}

/* Sends buf[0, n): whole pages by gift in gift mode; *gifted is how many bytes went that way. */
static int send(struct wnw_writer *w, size_t n, int end, size_t *gifted, struct wnw_err *e)
{
	*gifted = 0;
	if (w->blocks != NULL)
		return wnw_sink_gift(&w->sink, w->buf, n, gifted, e);
	return wnw_sink_write(&w->sink, w->buf, n, end, e);
}

/* Sends everything before the record being built. */
static int flush(struct wnw_writer *w, struct wnw_err *e)
{
	size_t gifted = 0;
	crc_fold(w);
	if (w->rec > 0 && send(w, w->rec, 0, &gifted, e) < 0)
		return -1;
	if (gifted == 0)
		drop_done(w);
	else if (next_block(w) < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	return 0;
}

/* Grows a heap buffer (not gift mode) to ncap bytes. */
static int heap_grow(struct wnw_writer *w, size_t ncap)
{
	uint8_t *nb = realloc(w->buf, ncap);
	if (nb == NULL)
		return -1;
	w->buf = nb;
	w->cap = ncap;
	return 0;
}

static uint8_t *reserve_slow(struct wnw_writer *w, size_t n)
{
	if (w->failed)
		return NULL;
	if (w->used + n > w->cap) {
		size_t ncap = w->cap;
		while (w->used + n > ncap)
			ncap *= 2;
		if ((w->blocks != NULL ? blocks_move(w, ncap) : heap_grow(w, ncap)) < 0) {
			w->failed = 1;
			return NULL;
		}
	}
	uint8_t *p = w->buf + w->used;
	w->used += n;
	return p;
}

/* n bytes at the end of the pending output, or NULL when memory ran out (w->failed). Several times a
 * record, so the common case is inline. */
static inline uint8_t *reserve(struct wnw_writer *w, size_t n)
{
	if (w->failed || w->used + n > w->cap)
		return reserve_slow(w, n);
	uint8_t *p = w->buf + w->used;
	w->used += n;
	return p;
}

static void le32(uint8_t *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	memcpy(p, &v, 4);
}

static void le64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}

static void writer_free(struct wnw_writer *w)
{
	if (w->blocks != NULL)
		munmap(w->blocks, 2 * w->cap);
	else
		free(w->buf);
	wnw_schema_free(&w->schema);
	free(w);
}

/* A writer of schema s with an empty buffer and no sink yet. */
static struct wnw_writer *writer_new(const struct wnw_schema *s, struct wnw_err *e)
{
	struct wnw_writer *w = calloc(1, sizeof *w);
	if (w == NULL || (w->buf = malloc(2 * FLUSH_AT)) == NULL) {
		free(w);
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	w->sink.fd = -1;
	w->cap = 2 * FLUSH_AT;
	w->flush_at = FLUSH_AT;
	if (wnw_schema_copy(&w->schema, s, e) < 0) {
		writer_free(w);
		return NULL;
	}
	return w;
}

struct wnw_writer *wnw_writer_open(const char *path, const struct wnw_schema *s, int zlevel,
				   struct wnw_err *e)
{
	struct wnw_writer *w = writer_new(s, e);
	uint8_t *hdr = NULL;
	size_t hlen;

	if (w == NULL)
		return NULL;
	if (wnw_header_encode(s, &hdr, &hlen, e) < 0)
		goto fail;
	if (wnw_sink_open(&w->sink, path, zlevel, e) < 0)
		goto fail;
	if (w->sink.gift && w->cap % HUGE_PAGE == 0 && huge_pages_on())
		blocks_move(w, w->cap); /* else the output is written */
	uint8_t fixed[WNW_HEADER_FIXED];
	memcpy(fixed, WNW_MAGIC, 8);
	fixed[8] = WNW_FORMAT_MAJOR;
	fixed[9] = 0;
	fixed[10] = WNW_FORMAT_MINOR;
	fixed[11] = 0;
	le32(fixed + 12, (uint32_t)hlen);
	uint8_t *p = reserve(w, sizeof fixed + hlen + 4);
	if (p == NULL) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		goto fail;
	}
	memcpy(p, fixed, sizeof fixed);
	memcpy(p + sizeof fixed, hdr, hlen);
	le32(p + sizeof fixed + hlen, wnw_crc32(0, hdr, hlen));
	free(hdr);
	w->rec = w->crc_at = w->used;
	reserve(w, 4);
	return w;
fail:
	free(hdr);
	wnw_writer_abort(w);
	return NULL;
}

/* Checks that the next field of the schema has this type; the first mismatch is kept for w_end. */
static int next_field(struct wnw_writer *w, int type)
{
	if (w->cur >= w->schema.nfields) {
		if (w->bug == NULL)
			w->bug = "more fields written than the schema has";
		return 0;
	}
	if (w->schema.fields[w->cur].type != type) {
		if (w->bug == NULL)
			w->bug = "a field written with the wrong type";
		return 0;
	}
	w->cur++;
	return 1;
}

void wnw_writer_u64(struct wnw_writer *w, uint64_t v)
{
	uint8_t *p;
	if (next_field(w, WNW_U64) && (p = reserve(w, 8)) != NULL)
		le64(p, v);
}

void wnw_writer_f32(struct wnw_writer *w, float v)
{
	uint32_t u;
	uint8_t *p;
	memcpy(&u, &v, 4);
	if (next_field(w, WNW_F32) && (p = reserve(w, 4)) != NULL)
		le32(p, u);
}

void wnw_writer_f64(struct wnw_writer *w, double v)
{
	uint64_t u;
	uint8_t *p;
	memcpy(&u, &v, 8);
	if (next_field(w, WNW_F64) && (p = reserve(w, 8)) != NULL)
		le64(p, u);
}

void wnw_writer_bytes(struct wnw_writer *w, const void *src, size_t n)
{
	uint8_t *p;
	if (n > WNW_MAX_RECORD) {
		w->bug = "a bytes field longer than a record may be";
		return;
	}
	if (next_field(w, WNW_BYTES) && (p = reserve(w, 4 + n)) != NULL) {
		le32(p, (uint32_t)n);
		if (n)
			memcpy(p + 4, src, n);
	}
}

void wnw_writer_vec_raw(struct wnw_writer *w, const uint8_t *raw)
{
	uint8_t *p;
	if (next_field(w, WNW_VEC)) {
		size_t n = 4 * (size_t)w->schema.fields[w->cur - 1].dim;
		if ((p = reserve(w, n)) != NULL)
			memcpy(p, raw, n);
	}
}

void wnw_writer_vec(struct wnw_writer *w, const float *v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	wnw_writer_vec_raw(w, (const uint8_t *)v);
#else
	uint8_t *p;
	if (next_field(w, WNW_VEC)) {
		uint32_t dim = w->schema.fields[w->cur - 1].dim;
		if ((p = reserve(w, 4 * (size_t)dim)) != NULL)
			for (uint32_t i = 0; i < dim; i++) {
				uint32_t u;
				memcpy(&u, &v[i], 4);
				le32(p + 4 * i, u);
			}
	}
#endif
}

void wnw_writer_nbr(struct wnw_writer *w, const struct wnw_nbr *v, uint32_t n)
{
	uint8_t *p;
	if ((uint64_t)n * WNW_NBR_SIZE > WNW_MAX_RECORD) {
		w->bug = "a neighbour list longer than a record may be";
		return;
	}
	if (next_field(w, WNW_NBR) && (p = reserve(w, 4 + (size_t)n * WNW_NBR_SIZE)) != NULL) {
		le32(p, n);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t u;
			memcpy(&u, &v[i].dist, 4);
			le64(p + 4 + WNW_NBR_SIZE * i, v[i].id);
			le32(p + 4 + WNW_NBR_SIZE * i + 8, u);
		}
	}
}

void wnw_writer_copy(struct wnw_writer *w, const struct wnw_rec *rec, int from, int to)
{
	uint8_t *p;
	if (from >= to)
		return;
	for (int i = from; i < to; i++) {
		const struct wnw_field *in = &rec->schema->fields[i];
		if (!next_field(w, in->type))
			return;
		if (w->schema.fields[w->cur - 1].dim != in->dim) {
			w->bug = "a vector copied into a field of another dimension";
			return;
		}
	}
	size_t n = rec->off[to] - rec->off[from];
	if ((p = reserve(w, n)) != NULL)
		memcpy(p, rec->data + rec->off[from], n);
}

/* The error msg about the record being built, after kind: numbered in a stream; a memory writer does not
 * know where its records will go, so its caller names them. */
static int record_err(const struct wnw_writer *w, struct wnw_err *e, int status, const char *kind, const char *msg)
{
	if (w->mem)
		return wnw_errf(e, status, "%s%s", kind, msg);
	return wnw_errf(e, status, "%srecord %llu: %s", kind, (unsigned long long)w->count + 1, msg);
}

int wnw_writer_end(struct wnw_writer *w, struct wnw_err *e)
{
	if (w->bug == NULL && w->cur != w->schema.nfields)
		w->bug = "fewer fields written than the schema has";
	if (w->bug != NULL)
		return record_err(w, e, WNW_EXIT_SYSTEM, "internal error: ", w->bug);
	if (w->failed)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	size_t len = w->used - w->rec - 4;
	if (len > WNW_MAX_RECORD) {
		char msg[80];
		snprintf(msg, sizeof msg, "%zu bytes, more than the limit of %u", len, WNW_MAX_RECORD);
		return record_err(w, e, WNW_EXIT_DATA, "", msg);
	}
	le32(w->buf + w->rec, (uint32_t)len);
	w->count++;
	w->cur = 0;
	w->rec = w->used;
	/* By the thread that built the records, while they are in its L2 cache (a whole flush is not). */
	if (w->rec - w->crc_at >= CRC_SPAN)
		crc_fold(w);
	if (!w->mem && w->used >= w->flush_at && flush(w, e) < 0)
		return -1;
	if (reserve(w, 4) == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	return 0;
}

int wnw_writer_finish(struct wnw_writer *w, struct wnw_err *e)
{
	uint8_t t[WNW_TRAILER_SIZE];

	if (w->finished)
		return 0;
	if (w->cur != 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "internal error: stream closed inside a record");
	w->used = w->rec; /* drop the length word reserved for a next record */
	crc_fold(w);
	le32(t, WNW_TRAILER_MARK);
	le64(t + 4, w->count);
	le32(t + 12, w->crc);
	if (reserve(w, sizeof t) == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	memcpy(w->buf + w->rec, t, sizeof t);
	w->rec = w->used;
	size_t gifted;
	if (send(w, w->rec, 1, &gifted, e) < 0 || wnw_sink_finish(&w->sink, e) < 0)
		return -1;
	w->finished = 1;
	return 0;
}

int wnw_writer_close(struct wnw_writer *w, struct wnw_err *e)
{
	if (wnw_writer_finish(w, e) < 0) {
		wnw_writer_abort(w);
		return -1;
	}
	int rc = wnw_sink_commit(&w->sink, e);
	writer_free(w);
	return rc;
}

void wnw_writer_abort(struct wnw_writer *w)
{
	if (w == NULL)
		return;
	if (!w->mem)
		wnw_sink_abort(&w->sink);
	writer_free(w);
}

struct wnw_writer *wnw_writer_mem(const struct wnw_schema *s, struct wnw_err *e)
{
	struct wnw_writer *w = writer_new(s, e);
	if (w == NULL)
		return NULL;
	w->mem = 1;
	reserve(w, 4); /* the first record's length word: within the buffer, it cannot fail */
	return w;
}

int wnw_writer_put(struct wnw_writer *w, struct wnw_writer *from, struct wnw_err *e)
{
	if (w->mem || !from->mem || w->cur != 0 || from->cur != 0 || w->schema.nfields != from->schema.nfields)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "internal error: records put into the wrong writer");
	if (flush(w, e) < 0)
		return -1;
	crc_fold(from);
	if (from->rec > 0 && wnw_sink_write(&w->sink, from->buf, from->rec, 0, e) < 0)
		return -1;
	w->crc = (uint32_t)crc32_combine(w->crc, from->crc, (z_off_t)from->rec);
	w->count += from->count;
	from->crc = 0;
	from->count = 0;
	drop_done(from);
	return 0;
}

int wnw_edit_init(struct wnw_edit *ed, const struct wnw_schema *in, struct wnw_schema *out,
		  const char *name, int type, uint32_t dim, struct wnw_err *e)
{
	ed->nin = (int)in->nfields;
	ed->in_idx = wnw_schema_find(in, name);
	ed->out_idx = wnw_schema_set(out, name, type, dim, e);
	return ed->out_idx < 0 ? -1 : 0;
}

void wnw_edit_begin(struct wnw_writer *w, const struct wnw_rec *rec, const struct wnw_edit *ed)
{
	wnw_writer_copy(w, rec, 0, ed->in_idx >= 0 ? ed->in_idx : ed->nin);
}

int wnw_edit_end(struct wnw_writer *w, const struct wnw_rec *rec, const struct wnw_edit *ed,
		 struct wnw_err *e)
{
	if (ed->in_idx >= 0)
		wnw_writer_copy(w, rec, ed->in_idx + 1, ed->nin);
	return wnw_writer_end(w, e);
}
