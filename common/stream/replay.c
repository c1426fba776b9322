/* replay.c: one input stream read twice (see replay.h). */
#include "replay.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct wnw_replay {
	char *path;               /* the named input, NULL for stdin */
	off_t stdin_at;           /* where a regular stdin started */
	uint32_t max_record;      /* 0: the reader's default */
	int pass;                 /* 1 or 2 */
	struct wnw_reader *r;
	struct wnw_writer *spill; /* first pass over a pipe: the copy being written */
	char dir[PATH_MAX], file[PATH_MAX + 16];
};

static int is_regular(int fd, off_t *at)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	*at = lseek(fd, 0, SEEK_CUR);
	return *at >= 0;
}

static int start_spill(struct wnw_replay *rp, const char *tmpdir, struct wnw_err *e)
{
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = getenv("TMPDIR");
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	if (snprintf(rp->dir, sizeof rp->dir, "%s/winnow-replay.XXXXXX", tmpdir) >= (int)sizeof rp->dir)
		return wnw_errf(e, WNW_EXIT_USAGE, "%s: temporary directory name too long", tmpdir);
	if (mkdtemp(rp->dir) == NULL) {
		int err = errno;
		rp->dir[0] = '\0';
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: cannot make a temporary directory: %s", tmpdir,
				strerror(err));
	}
	snprintf(rp->file, sizeof rp->file, "%s/copy.wnw", rp->dir);
	if (wnw_track_tmpdir(rp->dir, 1) < 0) {
		rmdir(rp->dir);
		rp->dir[0] = '\0';
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: too many temporary directories", tmpdir);
	}
	rp->spill = wnw_writer_open(rp->file, wnw_reader_schema(rp->r), 0, e);
	return rp->spill == NULL ? -1 : 0;
}

static void remove_copy(struct wnw_replay *rp)
{
	if (rp->dir[0] == '\0')
		return;
	unlink(rp->file);
	rmdir(rp->dir);
	wnw_track_tmpdir(rp->dir, 0);
	rp->dir[0] = '\0';
}

struct wnw_replay *wnw_replay_open(const char *path, const char *tmpdir, struct wnw_err *e)
{
	struct wnw_replay *rp = calloc(1, sizeof *rp);
	if (rp == NULL) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	rp->pass = 1;
	if (path != NULL && strcmp(path, "-") != 0 && (rp->path = strdup(path)) == NULL) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		free(rp);
		return NULL;
	}
	/* Only a regular file can be opened again: a named pipe, /dev/stdin or <(...) is copied like stdin. */
	struct stat st;
	int again = rp->path != NULL ? stat(rp->path, &st) == 0 && S_ISREG(st.st_mode)
				     : is_regular(0, &rp->stdin_at);
	rp->r = wnw_reader_open(rp->path, e);
	if (rp->r == NULL || (!again && start_spill(rp, tmpdir, e) < 0)) {
		wnw_replay_close(rp);
		return NULL;
	}
	return rp;
}

struct wnw_reader *wnw_replay_reader(struct wnw_replay *rp) { return rp->r; }

void wnw_replay_set_max_record(struct wnw_replay *rp, uint32_t max)
{
	rp->max_record = max;
	wnw_reader_set_max_record(rp->r, max);
}

int wnw_replay_next(struct wnw_replay *rp, struct wnw_rec *rec, struct wnw_err *e)
{
	int got = wnw_reader_next(rp->r, rec, e);
	if (got == 1 && rp->spill != NULL) {
		wnw_writer_copy(rp->spill, rec, 0, (int)rec->schema->nfields);
		if (wnw_writer_end(rp->spill, e) < 0)
			return -1;
	}
	return got;
}

int wnw_replay_rewind(struct wnw_replay *rp, struct wnw_err *e)
{
	struct wnw_schema first;
	if (rp->pass != 1)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "internal error: a stream can be replayed once");
	if (wnw_schema_copy(&first, wnw_reader_schema(rp->r), e) < 0)
		return -1;
	wnw_reader_close(rp->r);
	rp->r = NULL;
	rp->pass = 2;
	if (rp->spill != NULL) {
		int rc = wnw_writer_close(rp->spill, e);
		rp->spill = NULL;
		if (rc == 0)
			rp->r = wnw_reader_open(rp->file, e);
		remove_copy(rp);
	} else if (rp->path != NULL) {
		rp->r = wnw_reader_open(rp->path, e);
	} else if (lseek(0, rp->stdin_at, SEEK_SET) < 0) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "stdin: cannot read it again: %s", strerror(errno));
	} else {
		rp->r = wnw_reader_fdopen(0, "stdin", e);
	}
	int ok = rp->r != NULL;
	if (ok && rp->max_record)
		wnw_reader_set_max_record(rp->r, rp->max_record);
	if (ok && !wnw_schema_same_fields(&first, wnw_reader_schema(rp->r))) {
		wnw_errf(e, WNW_EXIT_DATA, "%s: the input changed while it was being read", wnw_reader_name(rp->r));
		ok = 0;
	}
	wnw_schema_free(&first);
	return ok ? 0 : -1;
}

void wnw_replay_close(struct wnw_replay *rp)
{
	if (rp == NULL)
		return;
	if (rp->r != NULL)
		wnw_reader_close(rp->r);
	if (rp->spill != NULL)
		wnw_writer_abort(rp->spill);
	remove_copy(rp);
	free(rp->path);
	free(rp);
}

void wnw_replay_discard(void *rp)
{
	wnw_replay_close(rp);
}
