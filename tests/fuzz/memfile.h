/* memfile.h: a fuzzer's input as a regular file in memory (a memfd), as a reader meets a file on disk;
 * included by the harnesses, each built alone. */
#ifndef FUZZ_MEMFILE_H
#define FUZZ_MEMFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* A descriptor of a new memory file holding data[0, size), positioned at its start. */
static inline int mem_file(const char *name, const uint8_t *data, size_t size)
{
	int fd = memfd_create(name, 0);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/* A path that opens fd's file again, for readers that take a path. */
static inline void mem_path(int fd, char *path, size_t cap) { snprintf(path, cap, "/proc/self/fd/%d", fd); }

#endif
