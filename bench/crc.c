/* crc.c: benchmark-only: the stream's CRC-32 alone, by each kernel the CPU has, on a span in the L2
 * cache (as the reader and writer fold it) and on a buffer far larger than the caches, beside zlib's
 * crc32() and memcpy on the same bytes. Built by bench/stream.sh; prints GB per CPU-second. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "crc.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CLMUL_PEAK 1
/* The carry-less multiplier's own rate: eight independent folds with no loads, so nothing but the
 * vpclmulqdq unit limits them. Returns a value that depends on the work. */
__attribute__((target("avx2,vpclmulqdq"))) static uint32_t clmul_spin(long n)
{
	const __m256i k = _mm256_set1_epi64x(0x1e88ef372);
	__m256i y[8];
	for (int i = 0; i < 8; i++)
		y[i] = _mm256_set1_epi64x(i + 1);
	for (long j = 0; j < n; j++)
		for (int i = 0; i < 8; i++)
			y[i] = _mm256_xor_si256(_mm256_clmulepi64_epi128(y[i], k, 0x00), _mm256_clmulepi64_epi128(y[i], k, 0x11));
	for (int i = 1; i < 8; i++)
		y[0] = _mm256_xor_si256(y[0], y[i]);
	return (uint32_t)_mm256_extract_epi32(y[0], 0);
}
#endif

/* CPU time of this thread: the machine is shared, and time spent preempted is not the kernel's. */
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* GB/s of kernel k (0: memcpy into dst) over len bytes, passes times, best of 5. */
static double rate(int k, const uint8_t *p, uint8_t *dst, size_t len, int passes, uint32_t *sink)
{
	double best = 0;
	for (int r = 0; r < 5; r++) {
		double t0 = now();
		for (int i = 0; i < passes; i++)
			if (k == 0)
				memcpy(dst, p, len), *sink += dst[i % len];
			else
				*sink += wnw_crc32_with(k, *sink, p, len);
		double gbs = (double)len * passes / (now() - t0) / 1e9;
		best = gbs > best ? gbs : best;
	}
	return best;
}

int main(void)
{
	static const char *name[] = {"memcpy (peer)", "zlib crc32 (kernel 1)", "pclmulqdq (kernel 2)",
				     "vpclmulqdq ymm (kernel 3)"};
	const size_t span = 64u << 10, big = 256u << 20;
	uint8_t *p = malloc(big), *dst = malloc(big);
	uint32_t sink = 0;
	if (p == NULL || dst == NULL)
		return 3;
	for (size_t i = 0; i < big; i++)
		p[i] = (uint8_t)(i * 2654435761u >> 13), dst[i] = 0;
	if (wnw_crc32_with(3, 0, p, big) != (uint32_t)crc32(0, p, (uInt)big))
		return fprintf(stderr, "crc: kernels disagree\n"), 1;
	printf("%-28s %10s %10s\n", "CRC-32 alone", "64 KiB", "256 MiB");
	for (int k = 0; k <= wnw_crc32_kernels(); k++)
		printf("%-28s %7.2f GB/s %7.2f GB/s\n", name[k], rate(k, p, dst, span, 20000, &sink),
		       rate(k, p, dst, big, 4, &sink));
#ifdef CLMUL_PEAK
	if (wnw_crc32_kernels() >= 3) { /* 32 bytes folded take two 256-bit products */
		double best = 0;
		for (int r = 0; r < 5; r++) {
			double t0 = now();
			sink += clmul_spin(10000000);
			double gbs = 10000000.0 * 8 * 32 / (now() - t0) / 1e9;
			best = gbs > best ? gbs : best;
		}
		printf("%-28s %7.2f GB/s\n", "clmul unit alone (the limit)", best);
	}
#endif
	free(p);
	free(dst);
	return sink == 1; /* keeps the work */
}
