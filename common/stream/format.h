/* format.h: constants and header coding of the winnow stream, shared by reader.c and writer.c only. */
#ifndef WINNOW_FORMAT_H
#define WINNOW_FORMAT_H

#include "winnow.h"

#define WNW_MAGIC "\x89WNW\r\n\x1a\n"
#define WNW_FORMAT_MAJOR 1
#define WNW_FORMAT_MINOR 0
#define WNW_HEADER_FIXED 16u   /* magic, u16 major, u16 minor, u32 header length */
#define WNW_TRAILER_MARK 0xFFFFFFFFu
#define WNW_TRAILER_SIZE 16u   /* u32 mark, u64 record count, u32 CRC-32 */
#define WNW_NBR_SIZE 12u
#define WNW_MAX_STRING (1u << 20)

/* Encodes the header body (fields and provenance) into a malloc'd buffer. */
int wnw_header_encode(const struct wnw_schema *s, uint8_t **out, size_t *len, struct wnw_err *e);
/* Decodes a header body of len bytes; every count and length is checked against what remains. */
int wnw_header_decode(const uint8_t *p, size_t len, struct wnw_schema *s, struct wnw_err *e);

#endif
