/* minhash.c: shingles, MinHash signatures and LSH band keys (minhash.h). Signatures are the hot loop:
 * eight 32-bit lanes per AVX2 instruction, sixteen per AVX-512 one, with a portable loop giving the same
 * bits elsewhere. */
#include "minhash.h"
#include "isa.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "isa512.h"
#include "rng.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

void mh_shingler_free(struct mh_shingler *sh)
{
	hemb_scratch_free(&sh->s);
	free(sh->h);
	free(sh->th);
	memset(sh, 0, sizeof *sh);
}

static int room(struct mh_shingler *sh, size_t n)
{
	if (n <= sh->cap)
		return 0;
	size_t c = sh->cap ? sh->cap : 256;
	while (c < n)
		c *= 2;
	uint64_t *h = realloc(sh->h, c * sizeof *h);
	if (h != NULL)
		sh->h = h;
	uint64_t *th = h == NULL ? NULL : realloc(sh->th, c * sizeof *th);
	if (th == NULL)
		return -1;
	sh->th = th;
	sh->cap = c;
	return 0;
}

/* The hash of n consecutive token hashes: their sum, each times its own odd constant (a different
 * token at any position changes the sum; a collision of two different n-grams has probability 2^-64
 * for random token hashes), finished by murmur3's 64-bit mixer so that every bit of the result depends
 * on every bit of the sum. Several times cheaper than XXH3 over the 8n bytes. */
static uint64_t ngram_hash(const uint64_t *th, int n)
{
	uint64_t k = UINT64_C(0x9E3779B97F4A7C15), h = (uint64_t)n;
	for (int j = 0; j < n; j++) {
		h += th[j] * k;
		k += UINT64_C(0xD6E8FEB86659FD94); /* stays odd: the step is even */
	}
	h ^= h >> 33;
	h *= UINT64_C(0xFF51AFD7ED558CCD);
	h ^= h >> 33;
	h *= UINT64_C(0xC4CEB9FE1A85EC53);
	return h ^ (h >> 33);
}

int mh_shingles(struct mh_shingler *sh, const uint8_t *text, size_t len, int n)
{
	struct hemb_scratch *s = &sh->s;
	sh->nh = 0;
	if (hemb_tokenise(s, text, len) < 0)
		return -1;
	size_t t = s->ntok;
	if (t == 0)
		return 0;
	if (room(sh, t) < 0)
		return -1;
	for (size_t i = 0; i < t; i++) /* hemb_hash_token(0, ...), inlined */
		sh->th[i] = XXH3_64bits_withSeed(s->norm + s->tok[i].off, s->tok[i].len, 0);
	if (t < (size_t)n) {
		sh->h[0] = ngram_hash(sh->th, (int)t);
		sh->nh = 1;
		return 0;
	}
	for (size_t i = 0; i + (size_t)n <= t; i++)
		sh->h[i] = ngram_hash(sh->th + i, n);
	sh->nh = t - (size_t)n + 1;
	return 0;
}

void mh_perms_init(struct mh_perms *pm, int p, uint64_t seed)
{
	uint64_t x = seed;
	pm->p = p;
	pm->plain = 0;
	for (int i = 0; i < p; i++) {
		uint64_t u = wnw_splitmix64(&x), v = wnw_splitmix64(&x);
		pm->a[i] = (uint32_t)u | 1u;
		pm->b[i] = (uint32_t)(u >> 32);
		pm->c[i] = (uint32_t)v | 1u;
	}
}

static inline uint32_t key32(uint64_t h) { return (uint32_t)h ^ (uint32_t)(h >> 32); }

static void signature_plain(const struct mh_perms *pm, const uint64_t *h, size_t n, uint32_t *sig)
{
	for (int i = 0; i < pm->p; i++)
		sig[i] = UINT32_MAX;
	for (size_t k = 0; k < n; k++) {
		uint32_t x = key32(h[k]);
		for (int i = 0; i < pm->p; i++) {
			uint32_t v = pm->a[i] * x + pm->b[i];
			v = (v ^ (v >> 16)) * pm->c[i];
			v ^= v >> 16;
			sig[i] = v < sig[i] ? v : sig[i];
		}
	}
}

/* signature_plain at one vector width, for the functions of a vector type VT of L 32-bit lanes whose
 * intrinsics are named P_op (P: _mm256 or _mm512) and whose whole-register ones P_op_SI (SI: si256 or
 * si512): the minima of up to 16 L functions stay in registers across the shingles. One body for both
 * widths, so that the AVX2 and AVX-512 loops cannot drift apart. */
#define SIGNATURE_LOOP(VT, P, SI, L)                                                                        \
	for (int base = 0; base < pm->p; base += 16 * (L)) {                                                \
		int lanes = pm->p - base < 16 * (L) ? (pm->p - base) / (L) : 16;                              \
		VT m[16], a[16], b[16], c[16];                                                              \
		for (int j = 0; j < lanes; j++) {                                                            \
			m[j] = P##_set1_epi32(-1);                                                           \
			a[j] = P##_loadu_##SI((const void *)(pm->a + base + (L) * j));                       \
			b[j] = P##_loadu_##SI((const void *)(pm->b + base + (L) * j));                       \
			c[j] = P##_loadu_##SI((const void *)(pm->c + base + (L) * j));                       \
		}                                                                                            \
		for (size_t k = 0; k < n; k++) {                                                             \
			VT x = P##_set1_epi32((int)key32(h[k]));                                              \
			for (int j = 0; j < lanes; j++) {                                                    \
				VT v = P##_add_epi32(P##_mullo_epi32(a[j], x), b[j]);                         \
				v = P##_mullo_epi32(P##_xor_##SI(v, P##_srli_epi32(v, 16)), c[j]);            \
				v = P##_xor_##SI(v, P##_srli_epi32(v, 16));                                   \
				m[j] = P##_min_epu32(m[j], v);                                                \
			}                                                                                    \
		}                                                                                            \
		for (int j = 0; j < lanes; j++)                                                              \
			P##_storeu_##SI((void *)(sig + base + (L) * j), m[j]);                               \
	}

__attribute__((target("avx2"))) static void signature_avx2(const struct mh_perms *pm, const uint64_t *h,
							    size_t n, uint32_t *sig)
{
	SIGNATURE_LOOP(__m256i, _mm256, si256, MH_LANES)
}

/* For p a multiple of 16. */
WNW_TARGET_AVX512 static void signature_avx512(const struct mh_perms *pm, const uint64_t *h, size_t n,
						 uint32_t *sig)
{
	SIGNATURE_LOOP(__m512i, _mm512, si512, 16)
}

void mh_signature(const struct mh_perms *pm, const uint64_t *h, size_t n, uint32_t *sig)
{
	if (!pm->plain && wnw_isa() >= WNW_ISA_AVX512 && pm->p % 16 == 0)
		signature_avx512(pm, h, n, sig);
	else if (!pm->plain && wnw_isa() >= WNW_ISA_AVX2)
		signature_avx2(pm, h, n, sig);
	else
		signature_plain(pm, h, n, sig);
}

uint64_t mh_band_key(const uint32_t *sig, int b, int r)
{
	return XXH3_64bits_withSeed(sig + (size_t)b * r, (size_t)r * 4, (uint64_t)b);
}

int mh_agree(const uint32_t *x, const uint32_t *y, int p, int need)
{
	int same = 0;
	for (int i = 0; i < p; i += MH_LANES) {
		for (int j = i; j < i + MH_LANES; j++)
			same += x[j] == y[j];
		if (same + (p - i - MH_LANES) < need)
			return 0;
	}
	return same >= need;
}

double mh_jaccard(const uint32_t *x, const uint32_t *y, int p)
{
	int same = 0;
	for (int i = 0; i < p; i++)
		same += x[i] == y[i];
	return (double)same / p;
}

double mh_collide(double s, int b, int r) { return 1.0 - pow(1.0 - pow(s, r), b); }
