/* jsonl.h: turning one input line (a JSON object, a TSV row, or a plain text line) into the fields of
 * a record: the text (one member, or a template over members), the json (the JSON object: for JSONL the
 * line itself, byte for byte), the id (a member, when asked for) and members lifted into typed fields.
 * Like winnow.h this part never prints and never exits. Parse errors leave a message without the file
 * name or line number, which the caller prefixes (for JSON lines it is jansson's own message). */
#ifndef WINNOW_JSONL_H
#define WINNOW_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "winnow.h"

enum wnw_src { WNW_SRC_JSONL, WNW_SRC_TSV, WNW_SRC_LINES };

/* A growable byte buffer. */
struct wnw_buf {
	char *p;
	size_t n, cap;
};

/* One piece of a text template: literal bytes, or (member != NULL) the value of a member. */
struct wnw_tpart {
	char *lit;
	size_t len;
	char *member;
	int col; /* TSV column of the member, -1 before the header is known */
};

/* A lifted field: stream field `name` of type WNW_U64, WNW_F64 or WNW_BYTES from member `name`. */
struct wnw_jfield {
	char *name;
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
	int id_col;
	struct wnw_jfield *fields;
	size_t nfields;
	char **cols; /* TSV header */
	size_t ncols;
	const char **cell; /* TSV: the current row's cells */
	size_t *cell_len;
	void *root; /* json_t * of the current line */
	/* results of the last wnw_jsonl_parse */
	uint64_t id;
	struct wnw_buf text;
	const char *json;
	size_t json_len;
	struct wnw_buf jsonbuf; /* TSV: the row as a JSON object */
	struct wnw_buf tmp;
};

/* Parses a --field argument "NAME[:TYPE]" (TYPE u64, f64 or text; default text). Returns 0 or -1. */
int wnw_jsonl_field_spec(const char *arg, char *name, size_t cap, uint8_t *type, struct wnw_err *e);

/* Sets up j. text is a member name or a template (it contains '{': "{a}\n{b}", with \n, \t, \\ and
 * {{ }} as escapes; NULL means the member "text"; for WNW_SRC_LINES it must be NULL). id is the member
 * holding the id, or NULL. fields[i] are --field arguments. Returns 0, or -1 on a bad specification. */
int wnw_jsonl_init(struct wnw_jsonl *j, enum wnw_src src, const char *text, const char *id,
		   const char *const *fields, size_t nfields, struct wnw_err *e);
/* TSV: takes the header row, which names the columns; every member used must be among them. */
int wnw_jsonl_tsv_header(struct wnw_jsonl *j, const char *line, size_t len, struct wnw_err *e);
/* Parses one line (without its '\n'). Returns 1 with the results in j, 0 for an empty JSONL or TSV
 * line (not a record), -1 on bad input with a message in e. */
int wnw_jsonl_parse(struct wnw_jsonl *j, const char *line, size_t len, struct wnw_err *e);
void wnw_jsonl_free(struct wnw_jsonl *j);

/* 1 if s[0, n) is well-formed UTF-8 (no overlong forms, surrogates or values above U+10FFFF). */
int wnw_utf8_valid(const char *s, size_t n);

#endif
