/* Unit tests of common/minhash.c: shingles (tokenisation, short texts), signatures equal with and without
 * AVX2, the estimated Jaccard against the exact Jaccard of random sets, band keys and the S-curve. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minhash.h"
#include "rng.h"
#include "unit.h"

static void test_shingles(void)
{
	struct mh_shingler a = {0}, b = {0};
	const char *t1 = "The quick  brown fox,\tjumps over", *t2 = "the QUICK brown\nfox , jumps over";
	CHECK(mh_shingles(&a, (const uint8_t *)t1, strlen(t1), 3) == 0, "shingles of a text");
	/* tokens: the quick brown fox , jumps over: 7 tokens, 5 trigrams */
	CHECK(a.nh == 5, "7 tokens give 5 trigrams (got %zu)", a.nh);
	mh_shingles(&b, (const uint8_t *)t2, strlen(t2), 3);
	CHECK(b.nh == a.nh && memcmp(a.h, b.h, a.nh * 8) == 0, "case and white space change no shingle");
	uint64_t first = a.h[0];
	mh_shingles(&a, (const uint8_t *)"quick brown fox", 15, 3);
	CHECK(a.nh == 1 && a.h[0] != first, "a shingle depends on its tokens");
	mh_shingles(&b, (const uint8_t *)"quick brown", 11, 3);
	CHECK(b.nh == 1, "a text shorter than n is one shingle");
	uint64_t qb = b.h[0];
	mh_shingles(&b, (const uint8_t *)"brown quick", 11, 3);
	CHECK(b.nh == 1 && b.h[0] != qb, "the order of the tokens counts");
	mh_shingles(&b, (const uint8_t *)" \t ", 3, 3);
	CHECK(b.nh == 0, "a blank text has no shingle");
	mh_shingler_free(&a);
	mh_shingler_free(&b);
}

/* Two random sets of 200 + 200 hashes sharing `common` of them: J = common / (400 - common). */
static void make_sets(struct wnw_rng *r, uint64_t *x, uint64_t *y, int common)
{
	for (int i = 0; i < 200; i++) {
		x[i] = wnw_rng_next(r);
		y[i] = i < common ? x[i] : wnw_rng_next(r);
	}
}

static void test_signatures(void)
{
	struct mh_perms pm, plain;
	struct wnw_rng r;
	uint64_t x[200], y[200];
	uint32_t sx[256], sy[256], px[256];
	mh_perms_init(&pm, 256, 1);
	plain = pm;
	plain.plain = 1;
	wnw_rng_seed(&r, 5);
	int same = 1;
	for (int t = 0; t < 50; t++) {
		make_sets(&r, x, y, t * 4);
		mh_signature(&pm, x, 1 + (size_t)t * 4 % 200, sx);
		mh_signature(&plain, x, 1 + (size_t)t * 4 % 200, px);
		same &= memcmp(sx, px, sizeof sx) == 0;
	}
	CHECK(same, "the AVX2 loop gives the portable loop's bits (P = 256: two blocks of 128)");
	mh_signature(&pm, x, 0, sx);
	CHECK(sx[0] == UINT32_MAX && sx[255] == UINT32_MAX, "no shingles: all UINT32_MAX");
	/* The estimate over P = 256 functions has standard deviation sqrt(J (1 - J) / 256) <= 0.031; over 200
	 * pairs at each J, the mean error must be within 4 standard errors and the spread near the theory. */
	const int commons[] = {50, 133, 178};
	for (int c = 0; c < 3; c++) {
		double j = commons[c] / (400.0 - commons[c]), sum = 0, sq = 0;
		for (int t = 0; t < 200; t++) {
			make_sets(&r, x, y, commons[c]);
			mh_signature(&pm, x, 200, sx);
			mh_signature(&pm, y, 200, sy);
			double e = mh_jaccard(sx, sy, 256) - j;
			sum += e;
			sq += e * e;
		}
		double sd = sqrt(j * (1 - j) / 256), mean = sum / 200, rms = sqrt(sq / 200);
		CHECK(fabs(mean) <= 4 * sd / sqrt(200.0), "J = %.3f: estimate unbiased (mean error %.4f)", j, mean);
		CHECK(rms <= 1.3 * sd + 1e-9, "J = %.3f: spread %.4f within 1.3 x the theory's %.4f", j, rms, sd);
	}
	int agree = 1;
	for (int t = 0; t < 100; t++) {
		make_sets(&r, x, y, 2 * t);
		mh_signature(&pm, x, 200, sx);
		mh_signature(&pm, y, 200, sy);
		for (int need = 0; need <= 256; need += 8)
			agree &= mh_agree(sx, sy, 256, need) == (mh_jaccard(sx, sy, 256) * 256 >= need);
	}
	CHECK(agree, "mh_agree answers as mh_jaccard, for every need");
	mh_signature(&pm, x, 200, sx);
	memcpy(sy, sx, sizeof sx);
	CHECK(mh_band_key(sx, 3, 8) == mh_band_key(sy, 3, 8), "equal bands, equal keys");
	sy[3 * 8 + 7]++;
	CHECK(mh_band_key(sx, 3, 8) != mh_band_key(sy, 3, 8) && mh_band_key(sx, 2, 8) == mh_band_key(sy, 2, 8),
	      "a band's key depends on its own rows only");
	CHECK(mh_band_key(sx, 0, 8) != mh_band_key(sx + 8, 0, 8) || sx[0] == sx[8], "band number seeds its key");
	CLOSE(mh_collide(0.8, 16, 8), 0.9470, 0.0005, "S-curve of 16 bands of 8 at 0.8: 0.947");
	CLOSE(mh_collide(0.6736, 16, 8), 0.5, 0.001, "and 1/2 at 0.674");
}

int main(void)
{
	test_shingles();
	test_signatures();
	return unit_failed;
}
