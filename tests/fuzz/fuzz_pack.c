/* fuzz_pack: libFuzzer target for pack's input path: the line reader (plain, gzip, zstd) and the
 * conversion of each line (JSONL, TSV or plain) into a record's fields. The first input byte picks the
 * input kind and the text specification; the rest is the file. Nothing may crash, leak or exit. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonl.h"
#include "lines.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const field_sets[][3] = {
	{"label", "loss:f64", "n:u64"},
	{"src:text", "score:f64", "k:u64"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	data++, size--;
	enum wnw_src src = sel % 3 == 0 ? WNW_SRC_JSONL : sel % 3 == 1 ? WNW_SRC_TSV : WNW_SRC_LINES;
	static const char *const texts[] = {NULL, "instruction", "{instruction}\\n{output}", "{{a}} {b}} {a}"};
	const char *text = src == WNW_SRC_LINES ? NULL : texts[(sel / 3) % 4];
	const char *id = src != WNW_SRC_LINES && (sel & 0x40) ? "id" : NULL;
	size_t nfields = src == WNW_SRC_LINES ? 0 : (sel >> 7) ? 3 : 0;

	struct wnw_err e;
	struct wnw_jsonl j;
	if (wnw_jsonl_init(&j, src, text, id, field_sets[(sel >> 5) & 1], nfields, &e) < 0) {
		wnw_jsonl_free(&j);
		return 0;
	}
	int fd = mem_file("fuzz_pack", data, size);
	/* A small line limit makes the too-long path reachable. */
	struct wnw_lines *l = wnw_lines_fdopen(fd, "fuzz", 4096, &e);
	if (l) {
		const char *line;
		size_t len;
		int first = 1;
		while (wnw_lines_next(l, &line, &len, &e) > 0) {
			if (src == WNW_SRC_TSV && first) {
				first = 0;
				if (wnw_jsonl_tsv_header(&j, line, len, &e) < 0)
					break;
				continue;
			}
			if (wnw_jsonl_parse(&j, line, len, &e) > 0) {
				/* Touch every result so that bad lengths show up under ASan. */
				volatile size_t sum = j.text.n + j.id;
				for (size_t i = 0; i < j.text.n; i++)
					sum += (unsigned char)j.text.p[i];
				for (size_t i = 0; i < j.json_len; i++)
					sum += (unsigned char)j.json[i];
				for (size_t i = 0; i < j.nfields; i++)
					for (size_t k = 0; k < j.fields[i].s.n; k++)
						sum += (unsigned char)j.fields[i].s.p[k];
				(void)sum;
			}
		}
		wnw_lines_close(l);
	}
	wnw_jsonl_free(&j);
	return 0;
}
