/* fuzz_pack: libFuzzer target for pack's input path: the record reader (plain, gzip, zstd; lines, CSV
 * records, JSON array elements) and the conversion of each record (JSONL, CSV, TSV or plain) into a
 * record's fields through member paths, templates with optional members, and --chat, in pack's batches
 * (textin.h: the input opened as pack opens it, lines parsed on a pool and read back from the batch).
 * The first two input bytes pick the input kind and the specification; the rest is the file.
 * Nothing may crash, leak or exit. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memfile.h"
#include "textin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const field_sets[][3] = {
	{"label", "loss:f64", "n:u64"},
	{"src=a[*].b:text", "score=x[-1]:f64", "k=m[role=u].n:u64"},
};

/* Parses the batch and reads every result, so that bad lengths show up under ASan. */
static void touch_batch(struct wnw_jbatch *b, struct wnw_pool *pool)
{
	struct wnw_jrec r;
	wnw_jbatch_parse(b, pool);
	for (size_t i = 0; i < b->n; i++) {
		wnw_jbatch_get(b, i, &r);
		volatile size_t sum = r.ntext + r.id + r.nsid + r.njson + (r.msg ? strlen(r.msg) : 0);
		for (size_t k = 0; k < r.ntext; k++)
			sum += (unsigned char)r.text[k];
		for (size_t k = 0; k < r.njson; k++)
			sum += (unsigned char)r.json[k];
		for (size_t k = 0; k < r.nsid; k++)
			sum += (unsigned char)r.sid[k];
		for (size_t f = 0; r.rc > 0 && f < b->js[0].nfields; f++)
			for (size_t k = 0; b->js[0].fields[f].type == WNW_BYTES && k < r.vals[f].n; k++)
				sum += (unsigned char)r.vals[f].s[k];
		(void)sum;
	}
	wnw_jbatch_clear(b);
}

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
	struct wnw_jbatch b;
	struct wnw_pool *pool = wnw_pool_new(1);
	if (!pool)
		return 0;
	if (wnw_jbatch_init(&b, 1, src, text, id, field_sets[(sel2 >> 3) & 1], nfields,
			    src == WNW_SRC_JSONL && (sel2 & 0x10), &e) < 0) {
		wnw_jbatch_free(&b);
		wnw_pool_free(pool);
		return 0;
	}
	int fd = mem_file("fuzz_pack", data, size);
	/* A small line limit makes the too-long path reachable; lines from 1024 bytes go alone, as pack's
	 * lines of WNW_JBATCH_BYTES do, so that both ways through the batch are taken. */
	struct wnw_lines *l = wnw_lines_fdopen(fd, "fuzz", 4096, &e);
	if (l && wnw_textin_start(l, b.js, 1, &e) == 0) {
		const char *line;
		size_t len;
		while (wnw_lines_next(l, &line, &len, &e) > 0) {
			if (wnw_lines_lineno(l) == 1)
				wnw_skip_bom(&line, &len);
			if (len >= 1024)
				wnw_jbatch_solo(&b, line, len, wnw_lines_lineno(l));
			else if (wnw_jbatch_add(&b, line, len, wnw_lines_lineno(l), &e) < 0)
				break;
			if (len >= 1024 || wnw_jbatch_full(&b) || b.n >= 7)
				touch_batch(&b, pool);
		}
		touch_batch(&b, pool);
	}
	if (l)
		wnw_lines_close(l);
	wnw_jbatch_free(&b);
	wnw_pool_free(pool);
	return 0;
}
