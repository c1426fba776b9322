/* passthru.c: benchmark-only filter that rewrites every record unchanged (the cost of the stream
 * library itself: framing, validation, CRC on both sides, one copy). Built by bench/stream.sh. */
#include "prog.h"

static const struct option longopts[] = {{NULL, 0, NULL, 0}};
static const struct wnw_spec spec = {"passthru", "[-o FILE] [FILE]", NULL, "", longopts,
				     WNW_OPT_OUTPUT | WNW_OPT_PROGRESS};

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct wnw_rec rec;

	wnw_cmd_init(&cmd, &spec, argc, argv);
	if (wnw_cmd_opt(&cmd) != -1)
		wnw_usage(&cmd, "no options");
	struct wnw_reader *in = wnw_xopen(&cmd, wnw_cmd_nargs(&cmd) > 0 ? wnw_cmd_args(&cmd)[0] : NULL);
	const struct wnw_schema *s = wnw_reader_schema(in);
	struct wnw_writer *w = wnw_xcreate(&cmd, s);
	while (wnw_xnext(&cmd, in, &rec)) {
		wnw_writer_copy(w, &rec, 0, (int)s->nfields);
		wnw_xend(&cmd, w);
	}
	wnw_xclose(&cmd, w);
	wnw_reader_close(in);
	return 0;
}
