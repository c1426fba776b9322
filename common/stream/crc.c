/* crc.c: CRC-32 (zlib's polynomial and values) by carry-less multiplication where the CPU has it, so
 * that checking a stream costs little next to reading it; zlib's crc32() elsewhere and for short tails.
 * The folding method and its constants are those of Intel's white paper "Fast CRC Computation for
 * Generic Polynomials Using PCLMULQDQ Instruction" (2009) for the bit-reflected polynomial 0x104C11DB7;
 * the constants for folding 1024 bits ahead follow its formula: x^(1024 + 32) and x^(1024 - 32) mod P,
 * bit-reflected and shifted left once. */
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "crc.h"
#include "isa.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "isa512.h"

#define TARGET __attribute__((target("pclmul,sse4.1")))
#define TARGET_V __attribute__((target("avx2,vpclmulqdq,pclmul,sse4.1")))

/* x folded 128 bits ahead onto the next 16 bytes y. */
TARGET static inline __m128i fold16(__m128i x, __m128i y)
{
	const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
	return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k3k4, 0x11), _mm_clmulepi64_si128(x, k3k4, 0x00)),
			     y);
}

/* Folds the remaining 16-byte blocks into x1, then reduces it to the bit-inverted CRC. */
TARGET static uint32_t finish(__m128i x1, const uint8_t *p, size_t len)
{
	const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
	const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
	const __m128i poly = _mm_set_epi64x(0x1f7011641, 0x1db710641);
	const __m128i mask32 = _mm_set_epi32(0, -1, 0, -1);
	for (; len >= 16; p += 16, len -= 16)
		x1 = fold16(x1, _mm_loadu_si128((const __m128i *)p));
	/* 128 bits to 64, then 64 to 32 by Barrett reduction */
	__m128i x2 = _mm_clmulepi64_si128(x1, k3k4, 0x10);
	x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
	x2 = _mm_srli_si128(x1, 4);
	x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00), x2);
	x2 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x10);
	x2 = _mm_clmulepi64_si128(_mm_and_si128(x2, mask32), poly, 0x00);
	return (uint32_t)_mm_extract_epi32(_mm_xor_si128(x1, x2), 1);
}

/* Folds len bytes (a multiple of 16, at least 64) into the bit-inverted CRC c: four 128-bit lanes
 * folded 512 bits ahead at a time. */
TARGET static uint32_t fold_pclmul(const uint8_t *p, size_t len, uint32_t c)
{
	const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
	__m128i x1 = _mm_loadu_si128((const __m128i *)p), x2 = _mm_loadu_si128((const __m128i *)(p + 16));
	__m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32)), x4 = _mm_loadu_si128((const __m128i *)(p + 48));

	x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)c));
	for (p += 64, len -= 64; len >= 64; p += 64, len -= 64) {
		__m128i l1 = _mm_clmulepi64_si128(x1, k1k2, 0x00), l2 = _mm_clmulepi64_si128(x2, k1k2, 0x00);
		__m128i l3 = _mm_clmulepi64_si128(x3, k1k2, 0x00), l4 = _mm_clmulepi64_si128(x4, k1k2, 0x00);
		x1 = _mm_clmulepi64_si128(x1, k1k2, 0x11);
		x2 = _mm_clmulepi64_si128(x2, k1k2, 0x11);
		x3 = _mm_clmulepi64_si128(x3, k1k2, 0x11);
		x4 = _mm_clmulepi64_si128(x4, k1k2, 0x11);
		x1 = _mm_xor_si128(_mm_xor_si128(x1, l1), _mm_loadu_si128((const __m128i *)p));
		x2 = _mm_xor_si128(_mm_xor_si128(x2, l2), _mm_loadu_si128((const __m128i *)(p + 16)));
		x3 = _mm_xor_si128(_mm_xor_si128(x3, l3), _mm_loadu_si128((const __m128i *)(p + 32)));
		x4 = _mm_xor_si128(_mm_xor_si128(x4, l4), _mm_loadu_si128((const __m128i *)(p + 48)));
	}
	return finish(fold16(fold16(fold16(x1, x2), x3), x4), p, len);
}

/* y folded 256 bits ahead (two 128-bit lanes, each by k) onto the next 32 bytes at p. */
TARGET_V static inline __m256i fold32(__m256i y, __m256i k, const uint8_t *p)
{
	return _mm256_xor_si256(_mm256_xor_si256(_mm256_clmulepi64_epi128(y, k, 0x00), _mm256_clmulepi64_epi128(y, k, 0x11)),
				_mm256_loadu_si256((const __m256i *)p));
}

/* The same with 256-bit carry-less products: eight 128-bit lanes in four registers, folded 1024 bits
 * ahead at a time (len a multiple of 16, at least 128). The four lanes are named, not an array: GCC
 * kept an array on the stack, a store and a load in every fold's dependency chain, 12% below the
 * rate of the vpclmulqdq unit that this reaches (bench/crc.c). */
TARGET_V static uint32_t fold_vpclmul(const uint8_t *p, size_t len, uint32_t c)
{
	const __m256i k = _mm256_set_epi64x(0x14a7fe880, 0x1e88ef372, 0x14a7fe880, 0x1e88ef372);
	__m256i y0 = _mm256_loadu_si256((const __m256i *)p), y1 = _mm256_loadu_si256((const __m256i *)(p + 32));
	__m256i y2 = _mm256_loadu_si256((const __m256i *)(p + 64)), y3 = _mm256_loadu_si256((const __m256i *)(p + 96));
	y0 = _mm256_xor_si256(y0, _mm256_zextsi128_si256(_mm_cvtsi32_si128((int)c)));
	for (p += 128, len -= 128; len >= 128; p += 128, len -= 128) {
		y0 = fold32(y0, k, p);
		y1 = fold32(y1, k, p + 32);
		y2 = fold32(y2, k, p + 64);
		y3 = fold32(y3, k, p + 96);
	}
	__m128i x = fold16(_mm256_castsi256_si128(y0), _mm256_extracti128_si256(y0, 1));
	x = fold16(fold16(x, _mm256_castsi256_si128(y1)), _mm256_extracti128_si256(y1, 1));
	x = fold16(fold16(x, _mm256_castsi256_si128(y2)), _mm256_extracti128_si256(y2, 1));
	x = fold16(fold16(x, _mm256_castsi256_si128(y3)), _mm256_extracti128_si256(y3, 1));
	return finish(x, p, len);
}

/* The same with 512-bit carry-less products: the eight lanes in two registers, folded 1024 bits ahead by
 * the same constants (len a multiple of 16, at least 128). */
WNW_TARGET_AVX512 static uint32_t fold_vpclmul512(const uint8_t *p, size_t len, uint32_t c)
{
	const __m512i k = _mm512_broadcast_i32x4(_mm_set_epi64x(0x14a7fe880, 0x1e88ef372));
	__m512i z0 = _mm512_loadu_si512((const void *)p), z1 = _mm512_loadu_si512((const void *)(p + 64));
	z0 = _mm512_xor_si512(z0, _mm512_maskz_set1_epi32(1, (int)c));
	for (p += 128, len -= 128; len >= 128; p += 128, len -= 128) {
		z0 = _mm512_xor_si512(_mm512_xor_si512(_mm512_clmulepi64_epi128(z0, k, 0x00),
						       _mm512_clmulepi64_epi128(z0, k, 0x11)),
				      _mm512_loadu_si512((const void *)p));
		z1 = _mm512_xor_si512(_mm512_xor_si512(_mm512_clmulepi64_epi128(z1, k, 0x00),
						       _mm512_clmulepi64_epi128(z1, k, 0x11)),
				      _mm512_loadu_si512((const void *)(p + 64)));
	}
	__m128i x = fold16(_mm512_castsi512_si128(z0), _mm512_extracti32x4_epi32(z0, 1));
	x = fold16(fold16(x, _mm512_extracti32x4_epi32(z0, 2)), _mm512_extracti32x4_epi32(z0, 3));
	x = fold16(fold16(x, _mm512_castsi512_si128(z1)), _mm512_extracti32x4_epi32(z1, 1));
	x = fold16(fold16(x, _mm512_extracti32x4_epi32(z1, 2)), _mm512_extracti32x4_epi32(z1, 3));
	return finish(x, p, len);
}

static int have_pclmul(void)
{
	return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

static int have_vpclmul(void)
{
	return have_pclmul() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("vpclmulqdq");
}

static int have_vpclmul512(void) { return have_vpclmul() && wnw_isa_cpu() >= WNW_ISA_AVX512; }
#else
static uint32_t fold_pclmul(const uint8_t *p, size_t len, uint32_t c)
{
	(void)p, (void)len;
	return c;
}
static uint32_t fold_vpclmul(const uint8_t *p, size_t len, uint32_t c) { return fold_pclmul(p, len, c); }
static int have_pclmul(void) { return 0; }
static int have_vpclmul(void) { return 0; }
static uint32_t fold_vpclmul512(const uint8_t *p, size_t len, uint32_t c) { return fold_pclmul(p, len, c); }
static int have_vpclmul512(void) { return 0; }
#endif

int wnw_crc32_kernels(void) { return have_vpclmul512() ? 4 : have_vpclmul() ? 3 : have_pclmul() ? 2 : 1; }

uint32_t wnw_crc32_with(int kernel, uint32_t crc, const uint8_t *p, size_t len)
{
	if (kernel >= 4 && len >= 128 && have_vpclmul512()) {
		size_t n = len & ~(size_t)15;
		crc = ~fold_vpclmul512(p, n, ~crc);
		p += n;
		len -= n;
	} else if (kernel >= 3 && len >= 128 && have_vpclmul()) {
		size_t n = len & ~(size_t)15;
		crc = ~fold_vpclmul(p, n, ~crc);
		p += n;
		len -= n;
	} else if (kernel >= 2 && len >= 64 && have_pclmul()) {
		size_t n = len & ~(size_t)15;
		crc = ~fold_pclmul(p, n, ~crc);
		p += n;
		len -= n;
	}
	while (len > 0) { /* zlib takes at most UINT_MAX bytes a call */
		unsigned n = len > 1u << 30 ? 1u << 30 : (unsigned)len;
		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

/* The level's kernel: zlib's at the portable level (so WINNOW_ISA=portable tests it), the widest
 * carry-less fold the CPU has at or below the level above it. */
uint32_t wnw_crc32(uint32_t crc, const uint8_t *p, size_t len)
{
	int l = wnw_isa();
	return wnw_crc32_with(l >= WNW_ISA_AVX512 ? 4 : l >= WNW_ISA_AVX2 ? 3 : 1, crc, p, len);
}
