/* spool.c: an append-then-map temporary file (spool.h). */
#include "spool.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The look-ups are counted in 64 KiB blocks, each once between releases: a fault maps the cached pages
 * around it too (fault_around_bytes, 64 KiB by default), so the blocks seen bound what is resident. */
#define SPOOL_BLOCK 65536

static size_t seen_words(const struct wnw_spool *s) { return (size_t)(s->size / SPOOL_BLOCK / 64 + 1); }

const char *wnw_tmpdir(const char *dir)
{
	if (dir == NULL || *dir == '\0')
		dir = getenv("TMPDIR");
	return dir == NULL || *dir == '\0' ? "/tmp" : dir;
}

int wnw_spool_open(struct wnw_spool *s, const char *tmpdir, struct wnw_err *e)
{
	char path[PATH_MAX];
	memset(s, 0, sizeof *s);
	tmpdir = wnw_tmpdir(tmpdir);
	if (snprintf(path, sizeof path, "%s/winnow-spool.XXXXXX", tmpdir) >= (int)sizeof path)
		return wnw_errf(e, WNW_EXIT_USAGE, "%s: temporary directory name too long", tmpdir);
	int fd = mkstemp(path);
	if (fd < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: cannot make a temporary file: %s", tmpdir, strerror(errno));
	unlink(path);
	s->window = (uint64_t)256 << 20;
	if ((s->f = fdopen(fd, "w+")) == NULL) {
		close(fd);
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	return 0;
}

int wnw_spool_add(struct wnw_spool *s, const void *p, size_t n, struct wnw_err *e)
{
	if (n > 0 && fwrite(p, 1, n, s->f) != n)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "writing a temporary file: %s", strerror(errno));
	s->size += n;
	return 0;
}

int wnw_spool_map(struct wnw_spool *s, struct wnw_err *e)
{
	static const uint8_t none[1];
	if (fflush(s->f) != 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "writing a temporary file: %s", strerror(errno));
	if (s->size == 0) {
		s->map = none;
		return 0;
	}
	void *m = mmap(NULL, s->size, PROT_READ, MAP_SHARED, fileno(s->f), 0);
	if (m == MAP_FAILED)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "mapping a temporary file of %llu bytes: %s",
				(unsigned long long)s->size, strerror(errno));
	s->map = m;
	if ((s->seen = calloc(seen_words(s), sizeof *s->seen)) == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	return 0;
}

static void mark_blocks(struct wnw_spool *s, uint64_t first, uint64_t last)
{
	for (uint64_t b = first; b <= last; b++)
		if (!(s->seen[b / 64] >> (b % 64) & 1)) {
			s->seen[b / 64] |= (uint64_t)1 << (b % 64);
			s->touched += SPOOL_BLOCK;
		}
}

const uint8_t *wnw_spool_at(struct wnw_spool *s, uint64_t off, size_t n)
{
	if (n == 0 || s->seen == NULL)
		return s->map + off;
	uint64_t first = off / SPOOL_BLOCK, last = (off + n - 1) / SPOOL_BLOCK;
	mark_blocks(s, first, last);
	if (s->touched > s->window) {
		/* a shared file mapping: the pages drop out of this process, not out of the file */
		madvise((void *)(uintptr_t)s->map, s->size, MADV_DONTNEED);
		memset(s->seen, 0, seen_words(s) * sizeof *s->seen);
		s->touched = 0;
		mark_blocks(s, first, last);
	}
	return s->map + off;
}

void wnw_spool_close(struct wnw_spool *s)
{
	if (s->map != NULL && s->size > 0)
		munmap((void *)(uintptr_t)s->map, s->size);
	free(s->seen);
	if (s->f != NULL)
		fclose(s->f);
	memset(s, 0, sizeof *s);
}
