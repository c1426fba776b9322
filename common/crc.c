/* crc.c: CRC-32 (zlib's polynomial and values) by carry-less multiplication where the CPU has it, so
 * that checking a stream costs little next to reading it; zlib's crc32() elsewhere and for short tails.
 * The folding method and its constants are those of Intel's white paper "Fast CRC Computation for
 * Generic Polynomials Using PCLMULQDQ Instruction" (2009) for the bit-reflected polynomial 0x104C11DB7. */
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "crc.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define TARGET __attribute__((target("pclmul,sse4.1")))

/* Folds len bytes (a multiple of 16, at least 64) into the bit-inverted CRC c. */
TARGET static uint32_t fold_pclmul(const uint8_t *p, size_t len, uint32_t c)
{
	const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
	const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
	const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
	const __m128i poly = _mm_set_epi64x(0x1f7011641, 0x1db710641);
	const __m128i mask32 = _mm_set_epi32(0, -1, 0, -1);
	__m128i x1 = _mm_loadu_si128((const __m128i *)p), x2 = _mm_loadu_si128((const __m128i *)(p + 16));
	__m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32)), x4 = _mm_loadu_si128((const __m128i *)(p + 48));

	x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)c));
	p += 64;
	len -= 64;
	/* four 128-bit lanes folded 512 bits ahead at a time */
	for (; len >= 64; p += 64, len -= 64) {
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
	/* the lanes into one, then the remaining 16-byte blocks */
	__m128i lanes[3] = {x2, x3, x4};
	for (int i = 0; i < 3; i++) {
		__m128i lo = _mm_clmulepi64_si128(x1, k3k4, 0x00);
		x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), lo), lanes[i]);
	}
	for (; len >= 16; p += 16, len -= 16) {
		__m128i lo = _mm_clmulepi64_si128(x1, k3k4, 0x00);
		x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), lo),
				   _mm_loadu_si128((const __m128i *)p));
	}
	/* 128 bits to 64, then 64 to 32 by Barrett reduction */
	x2 = _mm_clmulepi64_si128(x1, k3k4, 0x10);
	x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
	x2 = _mm_srli_si128(x1, 4);
	x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00), x2);
	x2 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x10);
	x2 = _mm_clmulepi64_si128(_mm_and_si128(x2, mask32), poly, 0x00);
	return (uint32_t)_mm_extract_epi32(_mm_xor_si128(x1, x2), 1);
}

static int have_pclmul(void)
{
	return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}
#else
static uint32_t fold_pclmul(const uint8_t *p, size_t len, uint32_t c)
{
	(void)p, (void)len;
	return c;
}
static int have_pclmul(void) { return 0; }
#endif

uint32_t wnw_crc32(uint32_t crc, const uint8_t *p, size_t len)
{
	if (len >= 64 && have_pclmul()) {
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
