/* fuzz_reader: libFuzzer target for the stream reader. The input is handed to wnw_reader_fdopen as a
 * memory file (memfd), so the reader sees a regular file as it would on disk; every field of every
 * record it returns is read through the accessors. The reader must reject bad input with an error,
 * never crash, allocate without bound or exit. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "winnow.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static double touch(const struct wnw_rec *rec)
{
	const struct wnw_schema *s = rec->schema;
	double sum = 0;
	float v[64];
	for (uint32_t i = 0; i < s->nfields; i++) {
		const struct wnw_field *f = &s->fields[i];
		int fi = (int)i;
		size_t n;
		const uint8_t *p;
		switch (f->type) {
		case WNW_U64:
		case WNW_F32:
		case WNW_F64:
			sum += wnw_get_number(rec, fi);
			break;
		case WNW_BYTES:
			p = wnw_get_bytes(rec, fi, &n);
			for (size_t k = 0; k < n; k++)
				sum += p[k];
			break;
		case WNW_VEC:
			if (f->dim <= 64) {
				wnw_get_vec(rec, fi, v);
				sum += v[f->dim - 1];
			} else {
				p = wnw_get_vec_raw(rec, fi);
				sum += wnw_lef32(p + 4 * (size_t)(f->dim - 1));
			}
			break;
		case WNW_NBR:
			for (uint32_t k = 0; k < wnw_nbr_count(rec, fi); k++)
				sum += (double)wnw_nbr_at(rec, fi, k).id;
			break;
		default:
			abort(); /* the reader must reject unknown types */
		}
	}
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = mem_file("fuzz_reader", data, size);
	struct wnw_err e;
	struct wnw_reader *r = wnw_reader_fdopen(fd, "fuzz", &e);
	if (r) {
		struct wnw_rec rec;
		volatile double sum = 0;
		while (wnw_reader_next(r, &rec, &e) > 0)
			sum += touch(&rec);
		(void)sum;
		wnw_reader_close(r);
	}
	close(fd);
	return 0;
}
