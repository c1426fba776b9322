/* fuzz_pack: libFuzzer target for pack's input path: the record reader (plain, gzip, zstd; lines, CSV
 * records, JSON array elements) and the conversion of each record (JSONL, CSV, TSV or plain) into a
 * record's fields through member paths, templates with optional members, and --chat. The first two
 * input bytes pick the input kind, the splitting and the specification; the rest is the file.
 * Nothing may crash, leak or exit. */
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
	{"src=a[*].b:text", "score=x[-1]:f64", "k=m[role=u].n:u64"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned sel = data[0], sel2 = data[1];
	data += 2, size -= 2;
	static const enum wnw_src srcs[] = {WNW_SRC_JSONL, WNW_SRC_TSV, WNW_SRC_LINES, WNW_SRC_CSV};
	enum wnw_src src = srcs[sel % 4];
	static const char *const texts[] = {NULL,
					    "instruction",
					    "{instruction}\\n{output}",
					    "{{a}} {b}} {a}",
					    "messages[-1].content",
					    "m[role=assistant].content",
					    "c[*].value",
					    "{a.b?}\\n{[\"x.y\"][0]}-{c?}",
					    ".a.0[\"q\\\"]\"][*]",
					    "{x?}"};
	const char *text = src == WNW_SRC_LINES ? NULL : texts[(sel / 4) % 10];
	const char *id = src != WNW_SRC_LINES && (sel2 & 1) ? ((sel2 & 2) ? "u.id[0]" : "id") : NULL;
	size_t nfields = src == WNW_SRC_LINES ? 0 : (sel2 & 4) ? 3 : 0;

	struct wnw_err e;
	struct wnw_jsonl j;
	if (wnw_jsonl_init(&j, src, text, id, field_sets[(sel2 >> 3) & 1], nfields, &e) < 0 ||
	    (src == WNW_SRC_JSONL && (sel2 & 0x10) && wnw_jsonl_chat(&j, &e) < 0)) {
		wnw_jsonl_free(&j);
		return 0;
	}
	j.compact = (sel2 & 0x20) != 0;
	int fd = mem_file("fuzz_pack", data, size);
	/* A small line limit makes the too-long path reachable. */
	struct wnw_lines *l = wnw_lines_fdopen(fd, "fuzz", 4096, &e);
	if (l) {
		if (src == WNW_SRC_CSV)
			wnw_lines_split(l, WNW_SPLIT_CSV);
		else if (src == WNW_SRC_JSONL && (sel2 & 0x20))
			wnw_lines_split(l, WNW_SPLIT_JSON_ARRAY);
		const char *line;
		size_t len;
		int first = 1;
		while (wnw_lines_next(l, &line, &len, &e) > 0) {
			if ((src == WNW_SRC_TSV || src == WNW_SRC_CSV) && first) {
				first = 0;
				if (wnw_jsonl_tsv_header(&j, line, len, &e) < 0)
					break;
				continue;
			}
			if (wnw_jsonl_parse(&j, line, len, &e) > 0) {
				/* Touch every result so that bad lengths show up under ASan. */
				volatile size_t sum = j.text.n + j.id + j.sid.n;
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
