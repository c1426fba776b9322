/* gen.c: benchmark-only generator of a synthetic stream: N records of id, text (L bytes), vec[D]. */
#include <stdlib.h>
#include "prog.h"

static const struct option longopts[] = {{NULL, 0, NULL, 0}};
static const struct wnw_spec spec = {"gen", "N TEXTLEN DIM", NULL, "", longopts, WNW_OPT_OUTPUT};

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct wnw_schema s;
	struct wnw_err e;

	wnw_cmd_init(&cmd, &spec, argc, argv);
	if (wnw_cmd_opt(&cmd) != -1 || wnw_cmd_nargs(&cmd) != 3)
		wnw_usage(&cmd, "three operands");
	char **a = wnw_cmd_args(&cmd);
	uint64_t n = wnw_opt_u64(&cmd, "N", a[0], 1, UINT64_MAX);
	size_t len = wnw_opt_u64(&cmd, "TEXTLEN", a[1], 0, 1 << 24);
	uint32_t dim = (uint32_t)wnw_opt_u64(&cmd, "DIM", a[2], 0, 65536);
	wnw_schema_init(&s);
	wnw_schema_set(&s, "id", WNW_U64, 0, &e);
	wnw_schema_set(&s, "text", WNW_BYTES, 0, &e);
	if (dim)
		wnw_schema_set(&s, "vec", WNW_VEC, dim, &e);
	char *text = wnw_xmalloc(&cmd, len + 1);
	float *v = wnw_xcalloc(&cmd, dim + 1, sizeof *v);
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < len; i++)
		text[i] = "abcdefgh ijklmnop qrstuvwxyz\n"[i % 29];
	struct wnw_writer *w = wnw_xcreate(&cmd, &s);
	for (uint64_t i = 0; i < n; i++) {
		for (uint32_t k = 0; k < dim; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			v[k] = (float)(x >> 40) / (float)(1 << 24) - 0.5f;
		}
		wnw_writer_u64(w, i);
		wnw_writer_bytes(w, text, len);
		if (dim)
			wnw_writer_vec(w, v);
		wnw_xend(&cmd, w);
	}
	wnw_xclose(&cmd, w);
	return 0;
}
