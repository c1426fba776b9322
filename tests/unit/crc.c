/* Unit test: each CRC-32 kernel the CPU has equals zlib's crc32 for every length 0..600 at every alignment
 * 0..15, in chained calls, and on a large buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "crc.h"
#include "unit.h"

int main(void)
{
	size_t n = 1 << 20;
	uint8_t *buf = malloc(n + 64);
	uint64_t x = 0x9E3779B97F4A7C15ull;

	for (size_t i = 0; i < n + 64; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	/* every kernel the CPU has, so that each is checked where it runs */
	for (int k = 1; k <= wnw_crc32_kernels(); k++) {
		int all = 1;
		for (size_t al = 0; al < 16; al++)
			for (size_t len = 0; len <= 600; len++)
				if (wnw_crc32_with(k, 0, buf + al, len) != (uint32_t)crc32(0, buf + al, (uInt)len))
					all = 0;
		CHECK(all, "kernel %d equals zlib for every length 0..600 at every alignment", k);
		uint32_t a = wnw_crc32_with(k, wnw_crc32_with(k, 0x12345678u, buf, 1000), buf + 1000, 333);
		CHECK(a == (uint32_t)crc32(crc32(0x12345678u, buf, 1000), buf + 1000, 333), "kernel %d chains like zlib", k);
		CHECK(wnw_crc32_with(k, 0, buf, n) == (uint32_t)crc32(0, buf, (uInt)n), "kernel %d equals zlib on 1 MiB", k);
	}
	printf("# kernels on this CPU: %d of 4\n", wnw_crc32_kernels());
	CHECK(wnw_crc32(0, (const uint8_t *)"123456789", 9) == 0xCBF43926u, "the standard check value");
	free(buf);
	return unit_failed;
}
