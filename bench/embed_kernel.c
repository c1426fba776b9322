/* embed_kernel.c: benchmark-only, embed-hash's kernel without the stream: hemb_tokenise, hemb_features
 * (tokens and counted features) and hemb_embed (the vector) over every line of a text file, dim 256,
 * word 1-2-grams, one thread; prints the best CPU seconds of REPS passes of each and the MB of text per
 * CPU-second of hemb_embed. Built by bench/embed-hash.sh against a build's libwinnow.a.
 *
 *   embed_kernel FILE [REPS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hashembed.h"

static double cpu_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
	int reps = argc > 2 ? atoi(argv[2]) : 3;
	if (!f || reps < 1) {
		fputs("usage: embed_kernel FILE [REPS]\n", stderr);
		return 2;
	}
	fseek(f, 0, SEEK_END);
	size_t size = (size_t)ftell(f), n = 0;
	rewind(f);
	char *buf = malloc(size + 1);
	const char **text = malloc((size / 2 + 2) * sizeof *text);
	size_t *len = malloc((size / 2 + 2) * sizeof *len);
	if (!buf || !text || !len || fread(buf, 1, size, f) != size)
		return 1;
	fclose(f);
	for (char *p = buf, *e; p < buf + size; p = e + 1) {
		e = memchr(p, '\n', (size_t)(buf + size - p));
		if (!e)
			e = buf + size;
		text[n] = p;
		len[n++] = (size_t)(e - p);
	}
	struct hemb_scratch s = {0};
	struct hemb_config c = {.dim = 256, .word_lo = 1, .word_hi = 2};
	static float out[256];
	double best[3] = {1e9, 1e9, 1e9}, sink = 0;
	for (int r = 0; r < reps; r++) {
		double t[4];
		t[0] = cpu_seconds();
		for (size_t i = 0; i < n; i++)
			sink += hemb_tokenise(&s, (const uint8_t *)text[i], len[i]) + (double)s.ntok;
		t[1] = cpu_seconds();
		for (size_t i = 0; i < n; i++)
			sink += hemb_features(&c, &s, (const uint8_t *)text[i], len[i]) + (double)s.nfeat;
		t[2] = cpu_seconds();
		for (size_t i = 0; i < n; i++)
			sink += (double)hemb_embed(&c, &s, (const uint8_t *)text[i], len[i], out) + out[0];
		t[3] = cpu_seconds();
		for (int k = 0; k < 3; k++)
			best[k] = t[k + 1] - t[k] < best[k] ? t[k + 1] - t[k] : best[k];
	}
	printf("tokenise %.3f s, features %.3f s, embed %.3f s: %.1f MB/cpu-s (%zu texts; %g)\n", best[0], best[1],
	       best[2], (double)size / best[2] / 1e6, n, sink > 0 ? 1.0 : 0.0);
	hemb_scratch_free(&s);
	free(buf);
	free(text);
	free(len);
	return 0;
}
