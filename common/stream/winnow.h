/* winnow.h: the winnow record stream (see winnow(5)) and its reader and writer.
 * This part of common/ never prints and never exits: it returns -1 and leaves a message in a struct wnw_err. */
#ifndef WINNOW_H
#define WINNOW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WNW_VERSION "0.1.0"

/* Exit statuses, the same for every program. */
enum {
	WNW_EXIT_OK = 0,     /* success */
	WNW_EXIT_DATA = 1,   /* bad input data: malformed, truncated, corrupt, inconsistent */
	WNW_EXIT_USAGE = 2,  /* bad command line or configuration */
	WNW_EXIT_SYSTEM = 3, /* I/O error, out of memory, other system failure */
	WNW_EXIT_PIPE = -1   /* internal: downstream closed its end; the program ends quietly with 0 */
};

/* Limits that keep hostile input from making a reader allocate without bound. */
#define WNW_MAX_FIELDS 4096u
#define WNW_MAX_NAME 255u
#define WNW_MAX_DIM (1u << 24)
#define WNW_MAX_RECORD (1u << 30)
#define WNW_DEFAULT_MAX_RECORD (64u << 20) /* what programs hold unless --max-record says more */
#define WNW_MAX_HEADER (1u << 24)
#define WNW_MAX_PROV 65536u
/* The most outputs one program writes at once (shard's parts). */
#define WNW_MAX_PARTS 1024

struct wnw_err {
	int status;
	char msg[1024];
};

/* Copies n bytes of src into dst (cap bytes, NUL-terminated) for a message: control bytes (C0, DEL,
 * C1) as \xHH, so that input quoted in a message cannot drive the terminal; cut with "..." when it does
 * not fit. Returns the length written. */
size_t wnw_escape(char *dst, size_t cap, const char *src, size_t n);

/* Sets e and returns -1 so that callers can write `return wnw_errf(...)`. */
int wnw_errf(struct wnw_err *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

enum wnw_type { WNW_U64 = 1, WNW_F32 = 2, WNW_F64 = 3, WNW_BYTES = 4, WNW_VEC = 5, WNW_NBR = 6 };

/* On disk one neighbour is 12 bytes: u64 id, f32 distance. */
struct wnw_nbr {
	uint64_t id;
	float dist;
};

struct wnw_field {
	char name[WNW_MAX_NAME + 1];
	uint8_t type;
	uint32_t dim; /* vector dimension for WNW_VEC, 0 otherwise */
};

struct wnw_prov {
	char *program, *version, *time;
	uint32_t argc;
	char **argv;
};

struct wnw_schema {
	uint32_t nfields;
	struct wnw_field *fields;
	uint32_t nprov;
	struct wnw_prov *prov;
};

const char *wnw_type_name(int type);
/* Parses "u64", "f32", "f64", "bytes" (or "text"), "nbr", "vec[D]"; returns 0 or -1. */
int wnw_type_parse(const char *s, uint8_t *type, uint32_t *dim);

void wnw_schema_init(struct wnw_schema *s);
void wnw_schema_free(struct wnw_schema *s);
int wnw_schema_copy(struct wnw_schema *dst, const struct wnw_schema *src, struct wnw_err *e);
int wnw_schema_find(const struct wnw_schema *s, const char *name);
/* Finds name, or with type 0 returns -1; otherwise adds the field at the end, or redefines an existing
 * field of that name in place (writing a field that exists replaces it). Returns the field's index. */
int wnw_schema_set(struct wnw_schema *s, const char *name, int type, uint32_t dim, struct wnw_err *e);
int wnw_schema_remove(struct wnw_schema *s, const char *name);
/* 1 when names, types and dimensions agree in order. */
int wnw_schema_same_fields(const struct wnw_schema *a, const struct wnw_schema *b);
/* Appends a provenance entry; time is UTC now, or SOURCE_DATE_EPOCH when set. */
int wnw_schema_add_prov(struct wnw_schema *s, const char *program, int argc, char *const *argv,
			struct wnw_err *e);
/* Fills off[0..nfields] with the offsets of the fields of a record's len bytes d. Returns 0; i + 1 when
 * field i runs past the end; -1 when bytes are left after the last field (off[nfields] is where). */
long wnw_schema_index(const struct wnw_schema *s, const uint8_t *d, uint32_t len, uint32_t *off);
/* Writes "name:type,name:type,..." into buf (for messages). */
void wnw_schema_describe(const struct wnw_schema *s, char *buf, size_t len);

/* One record as read: valid until the next read from the same reader. */
struct wnw_rec {
	const uint8_t *data;
	uint32_t len;
	uint64_t number; /* 1-based position in the stream, for messages */
	const struct wnw_schema *schema;
	uint32_t *off; /* off[i]: offset of field i in data; off[nfields] == len */
};

static inline uint32_t wnw_le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline uint64_t wnw_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline float wnw_lef32(const uint8_t *p)
{
	uint32_t u = wnw_le32(p);
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static inline double wnw_lef64(const uint8_t *p)
{
	uint64_t u = wnw_le64(p);
	double d;
	memcpy(&d, &u, 8);
	return d;
}

/* Field accessors: the caller picks f from the schema and knows its type. */
static inline uint64_t wnw_get_u64(const struct wnw_rec *r, int f) { return wnw_le64(r->data + r->off[f]); }
static inline float wnw_get_f32(const struct wnw_rec *r, int f) { return wnw_lef32(r->data + r->off[f]); }
static inline double wnw_get_f64(const struct wnw_rec *r, int f) { return wnw_lef64(r->data + r->off[f]); }
static inline const uint8_t *wnw_get_bytes(const struct wnw_rec *r, int f, size_t *len)
{
	*len = wnw_le32(r->data + r->off[f]);
	return r->data + r->off[f] + 4;
}
/* Raw little-endian f32 components of a vector field (may be unaligned). */
static inline const uint8_t *wnw_get_vec_raw(const struct wnw_rec *r, int f) { return r->data + r->off[f]; }
void wnw_get_vec(const struct wnw_rec *r, int f, float *dst);
/* Any numeric field (u64, f32, f64) as a double. */
double wnw_get_number(const struct wnw_rec *r, int f);
static inline uint32_t wnw_nbr_count(const struct wnw_rec *r, int f) { return wnw_le32(r->data + r->off[f]); }
static inline struct wnw_nbr wnw_nbr_at(const struct wnw_rec *r, int f, uint32_t i)
{
	const uint8_t *p = r->data + r->off[f] + 4 + (size_t)i * 12;
	struct wnw_nbr n = {wnw_le64(p), wnw_lef32(p + 8)};
	return n;
}

/* Reader: a stream from a file or stdin ("-" or NULL), plain or zstd-compressed, one or more members. */
struct wnw_reader;
struct wnw_reader *wnw_reader_open(const char *path, struct wnw_err *e);
/* Like wnw_reader_open on an open descriptor; name is used in messages. */
struct wnw_reader *wnw_reader_fdopen(int fd, const char *name, struct wnw_err *e);
const struct wnw_schema *wnw_reader_schema(const struct wnw_reader *r);
const char *wnw_reader_name(const struct wnw_reader *r);
/* Returns 1 with a record, 0 at a verified end of stream, -1 on error. */
int wnw_reader_next(struct wnw_reader *r, struct wnw_rec *rec, struct wnw_err *e);
uint64_t wnw_reader_count(const struct wnw_reader *r);
/* Records longer than max are refused (WNW_EXIT_SYSTEM, naming --max-record) instead of being held:
 * the bound of a program's memory. The default is WNW_MAX_RECORD, the format's limit. */
void wnw_reader_set_max_record(struct wnw_reader *r, uint32_t max);
/* Bytes consumed from the file (compressed bytes for zstd input) and its size, 0 if unknown. */
void wnw_reader_position(const struct wnw_reader *r, uint64_t *done, uint64_t *total);
void wnw_reader_close(struct wnw_reader *r);
/* When the input is a plain (uncompressed) regular file: its descriptor, from which a record's bytes can
 * be read again with pread at wnw_reader_offset while the reader is open; otherwise -1. */
int wnw_reader_fd(const struct wnw_reader *r);
/* The file offset of rec->data, rec the last record read (meaningful only when wnw_reader_fd is not -1). */
uint64_t wnw_reader_offset(const struct wnw_reader *r, const struct wnw_rec *rec);

/* Writer: builds each record field by field in schema order, then frames it. */
struct wnw_writer;
/* path NULL or "-" writes stdout; otherwise a temporary file beside path, renamed on close.
 * zlevel 0 writes plain, 1..22 zstd. The schema (with its provenance) is copied. */
struct wnw_writer *wnw_writer_open(const char *path, const struct wnw_schema *s, int zlevel,
				   struct wnw_err *e);
void wnw_writer_u64(struct wnw_writer *w, uint64_t v);
void wnw_writer_f32(struct wnw_writer *w, float v);
void wnw_writer_f64(struct wnw_writer *w, double v);
void wnw_writer_bytes(struct wnw_writer *w, const void *p, size_t n);
void wnw_writer_vec(struct wnw_writer *w, const float *v);
/* Raw little-endian vector components, as from wnw_get_vec_raw. */
void wnw_writer_vec_raw(struct wnw_writer *w, const uint8_t *raw);
void wnw_writer_nbr(struct wnw_writer *w, const struct wnw_nbr *v, uint32_t n);
/* Copies fields [from, to) of rec as they are; they must match the writer's next fields. */
void wnw_writer_copy(struct wnw_writer *w, const struct wnw_rec *rec, int from, int to);
/* Frames and emits the record built so far; every field must have been written. */
int wnw_writer_end(struct wnw_writer *w, struct wnw_err *e);
/* Writes the trailer, flushes, and renames the temporary file into place. Frees w. */
int wnw_writer_close(struct wnw_writer *w, struct wnw_err *e);
/* The first half of wnw_writer_close: writes the trailer and closes the temporary file, leaving only
 * the rename, which wnw_writer_close then does. For outputs that must all appear or none (shard's
 * parts): finish every one before closing any. On failure w is left for wnw_writer_abort. */
int wnw_writer_finish(struct wnw_writer *w, struct wnw_err *e);
/* Drops the output: removes the temporary file, if any. Frees w. Safe on NULL. */
void wnw_writer_abort(struct wnw_writer *w);
/* A writer that keeps its records in memory, so that threads can build records at once, each in its
 * own; wnw_writer_put then writes them in order into a stream of the same schema. Its errors do not
 * number the record (the caller knows it). Freed by wnw_writer_abort. */
struct wnw_writer *wnw_writer_mem(const struct wnw_schema *s, struct wnw_err *e);
/* Appends the records of the memory writer from to w's output, and empties from. */
int wnw_writer_put(struct wnw_writer *w, struct wnw_writer *from, struct wnw_err *e);

/* A one-field edit of a record: the output schema is the input's with field `name` set (replaced in
 * place or appended). wnw_edit_begin copies the fields before it, the caller writes the new value,
 * wnw_edit_end copies the rest and frames the record. */
struct wnw_edit {
	int in_idx;  /* index of the field in the input schema, -1 if new */
	int out_idx; /* its index in the output schema */
	int nin;
};
int wnw_edit_init(struct wnw_edit *ed, const struct wnw_schema *in, struct wnw_schema *out,
		  const char *name, int type, uint32_t dim, struct wnw_err *e);
void wnw_edit_begin(struct wnw_writer *w, const struct wnw_rec *rec, const struct wnw_edit *ed);
int wnw_edit_end(struct wnw_writer *w, const struct wnw_rec *rec, const struct wnw_edit *ed,
		 struct wnw_err *e);

/* Removes a temporary output file if the process is killed by SIGINT, SIGTERM or SIGHUP. */
void wnw_cleanup_on_signal(void);
/* Adds (on 1) or removes (on 0) a temporary directory the same signals remove (after the files in it,
 * which must be temporary outputs); dir must stay valid while it is tracked. Returns 0, or -1 when the
 * table is full. */
int wnw_track_tmpdir(char *dir, int on);

#endif
