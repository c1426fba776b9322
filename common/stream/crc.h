/* crc.h: CRC-32 with zlib's values (crc32(0, NULL, 0) is 0), faster where the CPU allows. */
#ifndef WINNOW_CRC_H
#define WINNOW_CRC_H
#include <stddef.h>
#include <stdint.h>
uint32_t wnw_crc32(uint32_t crc, const uint8_t *p, size_t len);
/* The same with the kernels up to kernel (1 zlib, 2 128-bit carry-less products, 3 256-bit ones, 4 512-bit
 * ones) where the CPU has them, for tests; wnw_crc32_kernels() is the highest the CPU has. */
uint32_t wnw_crc32_with(int kernel, uint32_t crc, const uint8_t *p, size_t len);
int wnw_crc32_kernels(void);
#endif
