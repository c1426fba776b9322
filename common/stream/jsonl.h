/* jsonl.h: turning one input line (a JSON object, a TSV row, or a plain text line) into the fields of
 * a record: the text (one member, or a template over members), the json (the JSON object: for JSONL the
 * line itself, byte for byte), the id (a member, when asked for) and members lifted into typed fields.
 * Like winnow.h this part never prints and never exits. Parse errors leave a message without the file
 * name or line number, which the caller prefixes (for JSON lines it is jansson's own message). */
#ifndef WINNOW_JSONL_H
#define WINNOW_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "jpath.h"
#include "winnow.h"

/* CSV is RFC 4180: quoted fields may hold commas, doubled quotes and newlines (the line reader's
 * WNW_SPLIT_CSV hands over whole records). A JSON array's elements parse as JSONL lines do. */
enum wnw_src { WNW_SRC_JSONL, WNW_SRC_TSV, WNW_SRC_LINES, WNW_SRC_CSV };

/* A growable byte buffer. */
struct wnw_buf {
	char *p;
	size_t n, cap;
};

/* Appends s[0, n) to b. Returns 0, or -1 when out of memory (b unchanged). */
int wnw_buf_add(struct wnw_buf *b, const void *s, size_t n);

/* One piece of a text template: literal bytes, the value of a member path (member != NULL: its
 * spelling, for messages), or a chat transcript. */
struct wnw_tpart {
	char *lit;
	size_t len;
	char *member;
	struct wnw_jpath path;
	int optional; /* {path?}: missing or null gives the empty string */
	int chat;
	int col; /* TSV column of the member, -1 before the header is known */
};

/* A lifted field: stream field `name` of type WNW_U64, WNW_F64 or WNW_BYTES from member `name`. */
struct wnw_jfield {
	char *name;
	char *member; /* the path's spelling */
	struct wnw_jpath path;
	uint8_t type;
	int col;
	/* the value for the current line */
	uint64_t u;
	double d;
	struct wnw_buf s;
};

struct wnw_jsonl {
	enum wnw_src src;
	struct wnw_tpart *parts; /* the text: one member part, or a template */
	size_t nparts;
	char *id_member; /* NULL: the caller numbers the records */
	struct wnw_jpath id_path;
	int id_col;
	int template; /* the text is a template, so a single member of any type is written as text */
	int compact;  /* re-serialise the json (a pretty-printed JSON array element spans lines) */
	struct wnw_jfield *fields;
	size_t nfields;
	char **cols; /* TSV header */
	size_t ncols;
	const char **cell; /* TSV, CSV: the current row's cells */
	size_t *cell_off, *cell_len;
	struct wnw_buf row; /* CSV: the row's cells, unquoted */
	void *root; /* json_t * of the current line */
	/* results of the last wnw_jsonl_parse */
	uint64_t id;
	int id_num;        /* the id is an unsigned integer (in id), as well as text (in sid) */
	struct wnw_buf sid; /* the id as text: a JSON string's value, a number's digits, a cell */
	struct wnw_buf text;
	const char *json;
	size_t json_len;
	struct wnw_buf jsonbuf; /* TSV: the row as a JSON object */
	struct wnw_buf tmp;
};

/* Parses a --field argument "[NAME=]PATH[:TYPE]" (TYPE u64, f64 or text; default text; NAME may be
 * left out when PATH is a plain member name). *path points into arg. Returns 0 or -1. */
int wnw_jsonl_field_spec(const char *arg, char *name, size_t cap, uint8_t *type, const char **path, size_t *plen,
			 struct wnw_err *e);

/* Sets up j. text is a member path or a template (it contains '{': "{a}\n{b.c?}", with \n, \t, \\ and
 * {{ }} as escapes; NULL means the member "text"; for WNW_SRC_LINES it must be NULL). id is the member
 * path of the id, or NULL. fields[i] are --field arguments. Returns 0, or -1 on a bad specification.
 * A path reaching several values (a[*].b) gives them joined by newlines. */
int wnw_jsonl_init(struct wnw_jsonl *j, enum wnw_src src, const char *text, const char *id,
		   const char *const *fields, size_t nfields, struct wnw_err *e);
/* Makes the text a chat transcript: one "role: content" line per element of the member messages (or
 * conversations, with from and value), in place of the text member or template. JSON only. */
int wnw_jsonl_chat(struct wnw_jsonl *j, struct wnw_err *e);
/* TSV and CSV: takes the header row, which names the columns; every member used must be among them. */
int wnw_jsonl_tsv_header(struct wnw_jsonl *j, const char *line, size_t len, struct wnw_err *e);
/* Parses one line (without its '\n'). Returns 1 with the results in j, 0 for an empty JSONL or TSV
 * line (not a record), -1 on bad input with a message in e. */
int wnw_jsonl_parse(struct wnw_jsonl *j, const char *line, size_t len, struct wnw_err *e);
void wnw_jsonl_free(struct wnw_jsonl *j);

/* The u64 id of a record whose id is the string s[0, n) (winnow(5), String ids): the top 63 bits of
 * the XXH3-64 hash of its bytes. */
uint64_t wnw_sid_hash(const void *s, size_t n);

/* 1 if s[0, n) is well-formed UTF-8 (no overlong forms, surrogates or values above U+10FFFF). */
int wnw_utf8_valid(const char *s, size_t n);

#endif
