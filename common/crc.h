/* crc.h: CRC-32 with zlib's values (crc32(0, NULL, 0) is 0), faster where the CPU allows. */
#ifndef WINNOW_CRC_H
#define WINNOW_CRC_H
#include <stddef.h>
#include <stdint.h>
uint32_t wnw_crc32(uint32_t crc, const uint8_t *p, size_t len);
#endif
