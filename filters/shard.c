/* shard: splits a stream into N streams by a hash of each record's id, so that stages can run on the
 * parts in parallel (on one machine or several); --merge joins parts again in ascending id order, which
 * restores the order of a pool whose ids ascend (pack numbers records from 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "prog.h"

static const struct option longopts[] = {
	{"parts", required_argument, NULL, 'n'},
	{"by", required_argument, NULL, 'b'},
	{"merge", no_argument, NULL, 'm'},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "shard",
	.synopsis = "-n N [-b FIELD] [-z [LEVEL]] PATTERN [FILE]\n"
		"       shard --merge [-b FIELD] [-o FILE] [-z [LEVEL]] FILE ...",
	.help = "  -n, --parts N         split into N streams (1 to 1024), named by PATTERN\n"
		"  -b, --by FIELD        u64 field to hash or merge by (default: id)\n"
		"  -m, --merge           join streams that each ascend by FIELD into one that ascends by FIELD\n"
		"  PATTERN               output names, with one %d for the part number from 0\n",
	.shortopts = "n:b:m",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_PROGRESS,
};

/* The splitmix64 finaliser: a bijection that spreads consecutive ids evenly over the parts. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Writes PATTERN with its one %d replaced by part (%% is a percent sign); returns -1 unless the pattern
 * holds exactly one %d and the name fits, so that part names are unambiguous. */
static int part_name(char *buf, size_t len, const char *p, uint64_t part)
{
	size_t n = 0;
	int conv = 0;
	for (; *p; p++) {
		char num[24];
		const char *piece = p;
		size_t k = 1;
		if (p[0] == '%' && p[1] == '%') {
			p++;
		} else if (p[0] == '%' && p[1] == 'd') {
			k = (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)part);
			piece = num;
			conv++, p++;
		} else if (p[0] == '%') {
			return -1;
		}
		if (n + k >= len)
			return -1;
		memcpy(buf + n, piece, k);
		n += k;
	}
	buf[n] = '\0';
	return conv == 1 ? 0 : -1;
}

struct made {
	const char *pattern;
	uint64_t n; /* parts 0 .. n-1 are in place */
};

static void remove_made(void *arg)
{
	const struct made *m = arg;
	char name[4096];
	for (uint64_t j = 0; j < m->n; j++)
		if (part_name(name, sizeof name, m->pattern, j) == 0)
			unlink(name);
}

/* All parts or none: every part is finished (trailer written, temporary file closed) before the first
 * is renamed into place, so a full disk leaves no part; a rename that fails removes those made. */
static void commit_all(struct wnw_cmd *cmd, const char *pattern, struct wnw_writer **out, uint64_t parts)
{
	struct wnw_err e;
	struct made m = {pattern, 0};
	for (uint64_t i = 0; i < parts; i++)
		if (wnw_writer_finish(out[i], &e) < 0)
			wnw_die_err(cmd, &e); /* removes every temporary part */
	wnw_cmd_on_die(cmd, remove_made, &m);
	for (; m.n < parts; m.n++)
		wnw_xclose(cmd, out[m.n]);
	wnw_cmd_on_die(cmd, NULL, NULL);
}

/* Each part holds a descriptor until the end: the soft limit on open files (often 1,024) is raised
 * to the hard one when need is more than it allows; beyond the hard limit, nothing is begun. */
static void allow_open_files(struct wnw_cmd *cmd, uint64_t need)
{
	struct rlimit rl;
	need += 16; /* stdin, stdout, stderr, the input, and what libraries open */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "%llu parts need %llu open files; the limit is %llu (ulimit -Hn)",
			(unsigned long long)(need - 16), (unsigned long long)need, (unsigned long long)rl.rlim_max);
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "cannot raise the limit on open files to %llu: %m", (unsigned long long)need);
}

/* Writes each record of in to the part its key hashes to. */
static void split(struct wnw_cmd *cmd, const char *pattern, uint64_t parts, const char *by, const char *file)
{
	struct wnw_rec rec;
	char name[4096];
	struct wnw_reader *in = wnw_xopen(cmd, file);
	const struct wnw_schema *s = wnw_reader_schema(in);
	int key = wnw_xfield(cmd, in, by, WNW_U64, NULL);
	struct wnw_writer **out = wnw_xcalloc(cmd, parts, sizeof *out);

	for (uint64_t i = 0; i < parts; i++) {
		part_name(name, sizeof name, pattern, i);
		cmd->output = name;
		out[i] = wnw_xcreate(cmd, s);
	}
	while (wnw_xnext(cmd, in, &rec)) {
		struct wnw_writer *w = out[mix(wnw_get_u64(&rec, key)) % parts];
		wnw_writer_copy(w, &rec, 0, (int)s->nfields);
		wnw_xend(cmd, w);
	}
	wnw_progress_done(cmd, in);
	commit_all(cmd, pattern, out, parts);
	free(out);
	wnw_reader_close(in);
}

struct part {
	struct wnw_reader *r;
	struct wnw_rec rec;
	int live, key;
	uint64_t last;
};

/* Reads the next record of a part and checks that its key ascends. */
static void advance(struct wnw_cmd *cmd, struct part *p)
{
	uint64_t prev = p->live ? wnw_get_u64(&p->rec, p->key) : 0;
	int had = p->live;
	p->live = wnw_xnext(cmd, p->r, &p->rec);
	if (p->live && had && wnw_get_u64(&p->rec, p->key) <= prev)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: record %llu: %s does not ascend, cannot merge",
			wnw_reader_name(p->r), (unsigned long long)p->rec.number,
			wnw_reader_schema(p->r)->fields[p->key].name);
}

/* Two parts hold the same key: named as the string id (winnow(5), String ids) when there is one. */
static void die_both(struct wnw_cmd *cmd, const char *a, const char *b, const char *by, const struct part *p)
{
	char id[WNW_ID_TEXT];
	if (strcmp(by, "id") == 0)
		wnw_die(cmd, WNW_EXIT_DATA, "%s and %s: both hold id %s", a, b, wnw_id_text(id, &p->rec, p->key));
	wnw_die(cmd, WNW_EXIT_DATA, "%s and %s: both hold %s %llu", a, b, by,
		(unsigned long long)wnw_get_u64(&p->rec, p->key));
}

/* A k-way merge by ascending key; equal keys in two parts are an error, as ids are unique. */
static void merge(struct wnw_cmd *cmd, int n, char **files, const char *by)
{
	struct part *parts = wnw_xcalloc(cmd, (size_t)n, sizeof *parts);

	for (int i = 0; i < n; i++) {
		parts[i].r = wnw_xopen(cmd, files[i]);
		parts[i].key = wnw_xfield(cmd, parts[i].r, by, WNW_U64, NULL);
		if (i > 0 && !wnw_schema_same_fields(wnw_reader_schema(parts[0].r), wnw_reader_schema(parts[i].r)))
			wnw_die(cmd, WNW_EXIT_DATA, "%s: fields differ from those of %s", files[i], files[0]);
		advance(cmd, &parts[i]);
	}
	const struct wnw_schema *s = wnw_reader_schema(parts[0].r);
	struct wnw_writer *w = wnw_xcreate(cmd, s);
	for (;;) {
		int best = -1;
		for (int i = 0; i < n; i++)
			if (parts[i].live && (best < 0 || wnw_get_u64(&parts[i].rec, parts[i].key) <
								  wnw_get_u64(&parts[best].rec, parts[best].key)))
				best = i;
		if (best < 0)
			break;
		for (int i = 0; i < n; i++)
			if (i != best && parts[i].live &&
			    wnw_get_u64(&parts[i].rec, parts[i].key) == wnw_get_u64(&parts[best].rec, parts[best].key))
				die_both(cmd, files[best], files[i], by, &parts[i]);
		wnw_writer_copy(w, &parts[best].rec, 0, (int)s->nfields);
		wnw_xend(cmd, w);
		advance(cmd, &parts[best]);
	}
	wnw_xclose(cmd, w);
	for (int i = 0; i < n; i++)
		wnw_reader_close(parts[i].r);
	free(parts);
}

/* shard's options. */
struct opts {
	const char *by;
	uint64_t parts;
	int merging;
};

/* Options into *o. */
static void parse(struct wnw_cmd *cmd, struct opts *o, int argc, char **argv)
{
	int ch;

	wnw_cmd_init(cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(cmd)) != -1)
		switch (ch) {
		case 'n':
			o->parts = wnw_opt_u64(cmd, "-n", cmd->optarg, 1, 1024);
			break;
		case 'b':
			o->by = cmd->optarg;
			break;
		case 'm':
			o->merging = 1;
			break;
		default:
			wnw_usage(cmd, "unknown option");
		}
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct opts o = {.by = "id"};

	parse(&cmd, &o, argc, argv);
	int nargs = wnw_cmd_nargs(&cmd);
	char **args = wnw_cmd_args(&cmd);
	if (o.merging) {
		if (o.parts != 0 || nargs < 1)
			wnw_usage(&cmd, "--merge takes input FILEs and no -n");
		allow_open_files(&cmd, (uint64_t)nargs);
		merge(&cmd, nargs, args, o.by);
		return wnw_cmd_done(&cmd);
	}
	if (o.parts == 0)
		wnw_usage(&cmd, "-n N is required");
	if (cmd.output != NULL)
		wnw_usage(&cmd, "-o does not apply: parts are named by PATTERN");
	if (nargs < 1 || nargs > 2)
		wnw_usage(&cmd, "expected PATTERN and at most one input FILE");
	char name[4096];
	if (part_name(name, sizeof name, args[0], 0) < 0)
		wnw_usage(&cmd, "PATTERN '%s' must hold exactly one %%d (and %%%% for a percent sign)", args[0]);
	allow_open_files(&cmd, o.parts);
	split(&cmd, args[0], o.parts, o.by, nargs == 2 ? args[1] : NULL);
	return wnw_cmd_done(&cmd);
}
