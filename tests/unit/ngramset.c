/* Unit tests of common/ngramset.c: the exact set (membership, the first source kept, growth, hash 0)
 * and the Bloom filter (no false negatives; false positives near the stated rate). */
#include <stdint.h>

#include "ngramset.h"
#include "rng.h"
#include "unit.h"

int main(void)
{
	struct ngramset s;
	struct wnw_err e;
	struct wnw_rng r;
	uint32_t src;
	const uint64_t n = 100000;

	CHECK(ngs_init(&s, 0, 0, &e) == 0, "an exact set");
	wnw_rng_seed(&r, 1);
	for (uint64_t i = 0; i < n; i++)
		ngs_add(&s, wnw_rng_next(&r), (uint32_t)(i / 10), &e);
	ngs_add(&s, 0, 77, &e);
	ngs_add(&s, 1, 78, &e);
	wnw_rng_seed(&r, 1);
	int all = 1;
	for (uint64_t i = 0; i < n; i++)
		all &= ngs_has(&s, wnw_rng_next(&r), &src) && src == i / 10;
	CHECK(all, "every hash added is found, with the record that brought it");
	CHECK(ngs_has(&s, 0, &src) && src == 77, "hash 0 is held (as 1, so 1 keeps 0's source)");
	int none = 0;
	for (uint64_t i = 0; i < n; i++)
		none += ngs_has(&s, wnw_rng_next(&r), &src);
	CHECK(none == 0, "no other hash is found");
	CHECK(s.mask + 1 == 262144, "the table grew to stay at most half full");
	ngs_free(&s);

	CHECK(ngs_init(&s, 1, n, &e) == 0, "a Bloom filter for %llu hashes", (unsigned long long)n);
	wnw_rng_seed(&r, 2);
	for (uint64_t i = 0; i < n; i++)
		ngs_add(&s, wnw_rng_next(&r), 0, &e);
	wnw_rng_seed(&r, 2);
	all = 1;
	for (uint64_t i = 0; i < n; i++)
		all &= ngs_has(&s, wnw_rng_next(&r), &src) && src == NGS_NONE;
	CHECK(all, "Bloom: no false negatives");
	/* At the stated 2.1e-7, 10^7 look-ups give 2.1 false positives on average; 12 or more has
	 * probability below 1e-5 (Poisson), while a filter of half the bits (rate 1.9e-4) would give ~1900. */
	none = 0;
	for (uint64_t i = 0; i < 10000000; i++)
		none += ngs_has(&s, wnw_rng_next(&r), &src);
	CHECK(none < 12, "Bloom: %d false positives in 10^7 look-ups (expected 2.1)", none);
	ngs_free(&s);
	return unit_failed;
}
