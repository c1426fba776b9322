/* replay.h: reading one input stream twice, for programs that must see every record before they can
 * write the first (ot-weight). A regular file (named, or redirected to stdin) is simply read again; any
 * other input (a pipe, a named pipe, /dev/stdin) is copied, record by record, to an uncompressed temporary file during the first
 * pass, and the second pass reads that copy. The temporary file is unlinked as soon as it is reopened,
 * so nothing is left behind once the second pass has started. Never prints, never exits. */
#ifndef WINNOW_REPLAY_H
#define WINNOW_REPLAY_H

#include "winnow.h"

struct wnw_replay;

/* path NULL or "-" is stdin; tmpdir NULL means $TMPDIR or else /tmp. NULL on error (e set). */
struct wnw_replay *wnw_replay_open(const char *path, const char *tmpdir, struct wnw_err *e);
/* Records longer than max are refused in both passes (wnw_reader_set_max_record). */
void wnw_replay_set_max_record(struct wnw_replay *rp, uint32_t max);
/* The reader of the current pass (for its schema, name, counts and progress). */
struct wnw_reader *wnw_replay_reader(struct wnw_replay *rp);
/* Like wnw_reader_next; in the first pass over a pipe it also appends the record to the copy. */
int wnw_replay_next(struct wnw_replay *rp, struct wnw_rec *rec, struct wnw_err *e);
/* After the first pass has reached the end: starts the second pass. Returns 0 or -1. */
int wnw_replay_rewind(struct wnw_replay *rp, struct wnw_err *e);
/* Closes the readers and removes whatever temporary file remains. Safe on NULL. */
void wnw_replay_close(struct wnw_replay *rp);
/* wnw_replay_close for a cleanup hook such as wnw_cmd_on_die. */
void wnw_replay_discard(void *rp);

#endif
