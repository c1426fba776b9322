/* fuzz_yaml: libFuzzer target for the YAML option and recipe reader (wnw_yaml_map): the input as a file
 * (a memfd), read as a flat mapping with and without sequences (the first byte chooses), the callback
 * refusing some keys as a caller would. Nothing may crash, leak or exit. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "yamlmap.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every byte of key and value, and refuses the key "stop" as a caller refuses an unknown one. */
static int visit(void *ctx, const char *key, const char *val, size_t line, int in_seq, struct wnw_err *e)
{
	size_t *sum = ctx;
	char q[WNW_QUOTE_MAX];
	*sum += strlen(key) + strlen(wnw_quote(val, q)) + line + (size_t)in_seq;
	if (strcmp(key, "stop") == 0)
		return wnw_errf(e, WNW_EXIT_DATA, "line %zu: unknown key %s", line, key);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int seqs = data[0] & 1;
	data++, size--;
	int fd = mem_file("fuzz_yaml", data, size);
	char path[64];
	mem_path(fd, path, sizeof path);
	struct wnw_err e;
	size_t sum = 0;
	(void)wnw_yaml_map(path, seqs, visit, &sum, &e);
	close(fd);
	return 0;
}
