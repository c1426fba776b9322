/* textin.h: text inputs to records (pack's input side): opening an input in its format (CSV records, a
 * JSON array told by its first byte, the header row of TSV and CSV), and parsing its lines in batches
 * on a thread pool into records' fields, given back in input order whatever the thread count. Like
 * winnow.h this part never prints and never exits. */
#ifndef WINNOW_TEXTIN_H
#define WINNOW_TEXTIN_H

#include <stddef.h>
#include <stdint.h>

#include "jsonl.h"
#include "lines.h"
#include "par.h"

/* Readies an open input l and the parsers js[0, njs) (all of js[0].src) for it: CSV splitting, a JSON
 * array when the first byte (after white space and a byte order mark) is '[', and for TSV and CSV the
 * header row, read here. Returns 0, or -1 with e naming the input (and line 1 for a bad header). */
int wnw_textin_start(struct wnw_lines *l, struct wnw_jsonl *js, int njs, struct wnw_err *e);
/* wnw_lines_open, then wnw_textin_start; NULL (the input closed) on failure. */
struct wnw_lines *wnw_textin_open(const char *path, size_t maxline, struct wnw_jsonl *js, int njs,
				  struct wnw_err *e);
/* Drops a UTF-8 byte order mark, which some editors put at the start of a file, from a first line. */
void wnw_skip_bom(const char **line, size_t *len);

/* A batch holds at most WNW_JBATCH_LINES lines or WNW_JBATCH_BYTES bytes of them; a line of
 * WNW_JBATCH_BYTES or more goes alone, parsed where the line reader holds it (wnw_jbatch_solo), and
 * its fields are then pointers into the parser's buffers rather than copies. */
#define WNW_JBATCH_LINES 4096
#define WNW_JBATCH_BYTES (16u << 20)

struct wnw_jitem;
struct wnw_jarena;

/* One lifted field's value (jsonl.h's struct wnw_jfield says which of them). */
struct wnw_jval {
	uint64_t u;
	double d;
	const char *s;
	size_t n;
};

/* A parsed line, as wnw_jbatch_get gives it: valid until wnw_jbatch_clear. */
struct wnw_jrec {
	int rc;              /* 1 a record, 0 an empty line (no record), -1 a bad line */
	int status;          /* rc -1: the exit status, and msg the message without file and line */
	const char *msg;
	uint64_t lineno;
	uint64_t id;         /* the id member's value when id_num */
	int id_num;
	const char *text, *json, *sid; /* json NULL for plain lines, sid NULL without an id member */
	size_t ntext, njson, nsid;
	const struct wnw_jval *vals; /* the lifted fields, in the order of js[0].fields */
};

struct wnw_jbatch {
	struct wnw_jsonl *js;       /* one parser state per thread */
	int nthreads;
	struct wnw_buf lines;       /* the lines, back to back */
	const char *solo;           /* a batch of one long line: the line where the reader holds it */
	struct wnw_jitem *items;
	size_t n;
	struct wnw_jarena *arenas;  /* per thread: the serialized results of its lines */
	struct wnw_jval *vals;      /* js[0].nfields, for wnw_jbatch_get */
};

/* Sets up b for nthreads parsers, each wnw_jsonl_init(src, text, id, fields, nfields), and
 * wnw_jsonl_chat when chat. Returns 0 or -1 (b then needs wnw_jbatch_free all the same). */
int wnw_jbatch_init(struct wnw_jbatch *b, int nthreads, enum wnw_src src, const char *text, const char *id,
		    const char *const *fields, size_t nfields, int chat, struct wnw_err *e);
/* Copies a line (of fewer than WNW_JBATCH_BYTES bytes) into the batch. Returns 0 or -1 (out of memory). */
int wnw_jbatch_add(struct wnw_jbatch *b, const char *line, size_t len, uint64_t lineno, struct wnw_err *e);
/* Makes an empty batch the one long line, not copied: it must stay where it is until wnw_jbatch_clear. */
void wnw_jbatch_solo(struct wnw_jbatch *b, const char *line, size_t len, uint64_t lineno);
/* 1 when the batch should be parsed before another line is added. */
int wnw_jbatch_full(const struct wnw_jbatch *b);
/* Parses every line of the batch on the pool (of b->nthreads threads). */
void wnw_jbatch_parse(struct wnw_jbatch *b, struct wnw_pool *pool);
/* Line i of a parsed batch. An out-of-memory while parsing shows as rc -1 with WNW_EXIT_SYSTEM. */
void wnw_jbatch_get(struct wnw_jbatch *b, size_t i, struct wnw_jrec *r);
/* Empties the batch for the next lines. */
void wnw_jbatch_clear(struct wnw_jbatch *b);
void wnw_jbatch_free(struct wnw_jbatch *b);

#endif
