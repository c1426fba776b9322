/* ngramset.c: exact hash set and Bloom filter of n-gram hashes (ngramset.h). */
#include "ngramset.h"

#include <stdlib.h>
#include <string.h>

/* The table's slot for h: the high bits of h times an odd constant (n-gram hashes are XXH3 already;
 * the multiply only guards against a table mask meeting structure in the low bits). */
static inline uint64_t home(uint64_t h, uint64_t mask) { return (h * UINT64_C(0x9E3779B97F4A7C15)) >> 17 & mask; }

static int table_new(struct ngramset *s, uint64_t slots, struct wnw_err *e)
{
	s->slot = calloc(slots, sizeof *s->slot);
	if (s->slot == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for a set of %llu n-grams",
				(unsigned long long)slots / 2);
	s->mask = slots - 1;
	return 0;
}

int ngs_init(struct ngramset *s, int bloom, uint64_t expect, struct wnw_err *e)
{
	memset(s, 0, sizeof *s);
	s->bloom = bloom;
	if (!bloom)
		return table_new(s, 1024, e);
	s->m = (expect < 64 ? 64 : expect) * NGS_BLOOM_BITS;
	s->bits = calloc((s->m + 63) / 64, 8);
	if (s->bits == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for a Bloom filter of %llu bits",
				(unsigned long long)s->m);
	return 0;
}

/* The i-th probe of h in [0, m): Kirsch and Mitzenmacher's g(i) = h1 + i h2, reduced by multiply-shift. */
static inline uint64_t probe(uint64_t h1, uint64_t h2, int i, uint64_t m)
{
	uint64_t g = h1 + (uint64_t)i * h2;
	return (uint64_t)(((unsigned __int128)g * m) >> 64);
}

static inline uint64_t second(uint64_t h) { return (h ^ (h >> 29)) * UINT64_C(0xBF58476D1CE4E5B9) | 1; }

static void put(struct ngramset *s, uint64_t h, uint32_t src)
{
	uint64_t i = home(h, s->mask);
	while (s->slot[i].h != 0) {
		if (s->slot[i].h == h)
			return;
		i = (i + 1) & s->mask;
	}
	s->slot[i] = (struct ngs_slot){h, src};
	s->n++;
}

static int grow(struct ngramset *s, struct wnw_err *e)
{
	struct ngs_slot *old = s->slot;
	uint64_t n = s->mask + 1;
	if (table_new(s, 2 * n, e) < 0) {
		s->slot = old;
		return -1;
	}
	s->n = 0;
	for (uint64_t i = 0; i < n; i++)
		if (old[i].h != 0)
			put(s, old[i].h, old[i].src);
	free(old);
	return 0;
}

int ngs_add(struct ngramset *s, uint64_t h, uint32_t src, struct wnw_err *e)
{
	h += h == 0;
	if (s->bloom) {
		uint64_t h2 = second(h);
		for (int i = 0; i < NGS_BLOOM_K; i++) {
			uint64_t b = probe(h, h2, i, s->m);
			s->bits[b >> 6] |= (uint64_t)1 << (b & 63);
		}
		s->n++;
		return 0;
	}
	if (2 * (s->n + 1) > s->mask + 1 && grow(s, e) < 0)
		return -1;
	put(s, h, src);
	return 0;
}

int ngs_has(const struct ngramset *s, uint64_t h, uint32_t *src)
{
	h += h == 0;
	if (s->bloom) {
		uint64_t h2 = second(h);
		for (int i = 0; i < NGS_BLOOM_K; i++) {
			uint64_t b = probe(h, h2, i, s->m);
			if (!(s->bits[b >> 6] >> (b & 63) & 1))
				return 0;
		}
		*src = NGS_NONE;
		return 1;
	}
	for (uint64_t i = home(h, s->mask); s->slot[i].h != 0; i = (i + 1) & s->mask)
		if (s->slot[i].h == h) {
			*src = s->slot[i].src;
			return 1;
		}
	return 0;
}

uint64_t ngs_bytes(const struct ngramset *s)
{
	return s->bloom ? (s->m + 63) / 64 * 8 : (s->mask + 1) * sizeof *s->slot;
}

void ngs_free(struct ngramset *s)
{
	free(s->slot);
	free(s->bits);
	memset(s, 0, sizeof *s);
}
