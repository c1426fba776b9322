/* spool.c: an append-then-map temporary file (spool.h). */
#include "spool.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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
	return 0;
}

void wnw_spool_close(struct wnw_spool *s)
{
	if (s->map != NULL && s->size > 0)
		munmap((void *)(uintptr_t)s->map, s->size);
	if (s->f != NULL)
		fclose(s->f);
	memset(s, 0, sizeof *s);
}
