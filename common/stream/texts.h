/* texts.h: the texts of a reference file, a winnow stream or JSONL (told apart by the name: .jsonl,
 * .jsonl.gz, .jsonl.zst, .ndjson), handed one by one to a callback; for programs that compare a stream
 * with a small side set. Never prints, never exits. */
#ifndef WINNOW_TEXTS_H
#define WINNOW_TEXTS_H

#include <stddef.h>
#include <stdint.h>

#include "winnow.h"

/* One text: its id (a stream's u64 id field, else the record's or line's position from 0), its bytes,
 * and where it came from for messages. Returns 0, or -1 with e set to stop the reading. */
typedef int (*wnw_text_fn)(void *ctx, uint64_t id, const uint8_t *p, size_t n, const char *where,
			   struct wnw_err *e);

/* 1 when path names JSONL by its extension. */
int wnw_texts_is_jsonl(const char *path);
/* Calls fn for the text of every record of path (field or member `field`). Returns the number of texts,
 * or -1 with e set (a message naming the file and the record or line). */
int64_t wnw_texts_each(const char *path, const char *field, wnw_text_fn fn, void *ctx, struct wnw_err *e);

#endif
