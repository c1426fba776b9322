/* fuzz_hashembed: libFuzzer target for embed-hash's tokeniser and features (common/hashembed.c). The
 * first input byte picks the dimension and n-gram orders; the rest is the text, any bytes. The vector
 * must be unit length or zero and free of NaN, a scratch reused across inputs must give the bits of a
 * fresh one, and every token must be non-empty, well-formed UTF-8 inside the normalised text. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashembed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hemb_scratch reused;

static int well_formed(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;
	while (p < end) {
		int32_t cp;
		size_t k = hemb_utf8_decode(p, end, &cp);
		if (cp == 0xFFFD && !(k == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] == 0xBD))
			return 0;
		p += k;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const uint32_t dims[] = {1, 7, 256, 4096};
	unsigned sel = data[0];
	struct hemb_config c = {.seed = sel >> 6, .dim = dims[sel & 3]};
	c.word_lo = (sel >> 2) & 1 ? 1 : 0;
	c.word_hi = c.word_lo ? 1 + ((sel >> 3) & 3) : 0;
	c.char_lo = (sel >> 5) & 1 ? 2 : 0;
	c.char_hi = c.char_lo ? 5 : 0;
	if (!c.word_lo && !c.char_lo)
		c.word_lo = c.word_hi = 2;
	data++, size--;

	float *v = malloc(c.dim * sizeof *v), *u = malloc(c.dim * sizeof *u);
	struct hemb_scratch fresh = {0};
	long n = hemb_embed(&c, &reused, data, size, v);
	long m = hemb_embed(&c, &fresh, data, size, u);
	if (n < 0 || n != m || memcmp(v, u, c.dim * sizeof *v) != 0)
		abort();
	double ss = 0;
	for (uint32_t k = 0; k < c.dim; k++) {
		if (isnan(v[k]))
			abort();
		ss += (double)v[k] * v[k];
	}
	if (n > 0 ? fabs(ss - 1) > 1e-4 : ss != 0)
		abort();
	if (hemb_tokenise(&fresh, data, size) < 0 || !well_formed(fresh.norm, fresh.nnorm))
		abort();
	for (size_t i = 0; i < fresh.ntok; i++)
		if (fresh.tok[i].len == 0 || fresh.tok[i].off + fresh.tok[i].len > fresh.nnorm)
			abort();
	hemb_scratch_free(&fresh);
	free(v);
	free(u);
	return 0;
}
