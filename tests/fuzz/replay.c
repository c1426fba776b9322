/* replay.c: runs a fuzz harness without libFuzzer, as zstd's regression driver does: every file of
 * the directories named (a seed corpus, crash reproducers) goes once through LLVMFuzzerTestOneInput,
 * one TAP line each, so that make check replays them all in every build, sanitized ones included. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int is_file(const struct dirent *d) { return d->d_name[0] != '.'; }

/* Reads path whole; NULL when it cannot. */
static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? 2 * cap : 4096);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*size = n;
	return buf;
}

int main(int argc, char **argv)
{
	int bad = 0, files = 0;

	for (int i = 1; i < argc; i++) {
		struct dirent **list;
		int n = scandir(argv[i], &list, is_file, by_name);
		if (n < 0) {
			printf("not ok - %s: cannot read the directory\n", argv[i]);
			bad = 1;
			continue;
		}
		for (int k = 0; k < n; k++) {
			char path[4096];
			size_t size = 0;
			snprintf(path, sizeof path, "%s/%s", argv[i], list[k]->d_name);
			uint8_t *data = slurp(path, &size);
			if (data == NULL) {
				printf("not ok - %s: cannot read\n", path);
				bad = 1;
			} else {
				LLVMFuzzerTestOneInput(data, size); /* a crash or sanitizer report ends the run */
				printf("ok - %s replays\n", path);
				files++;
			}
			free(data);
			free(list[k]);
		}
		free(list);
	}
	if (files == 0)
		printf("not ok - no input to replay\n");
	return bad || files == 0;
}
