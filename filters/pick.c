/* pick: keeps the pool records whose group is among the best of a group table (gradex output), or whose
 * id is on a list; streams the pool once, holding only the chosen keys. See pick(1). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nameset.h"
#include "jsonl.h"
#include "prog.h"

enum { OPT_FROM = WNW_OPT_LONG, OPT_BY, OPT_KEY, OPT_TOP, OPT_IDS };

static const struct option longopts[] = {
	{"from", required_argument, NULL, OPT_FROM},
	{"by", required_argument, NULL, OPT_BY},
	{"key", required_argument, NULL, OPT_KEY},
	{"top", required_argument, NULL, OPT_TOP},
	{"ids", required_argument, NULL, OPT_IDS},
	{NULL, 0, NULL, 0},
};

static const struct wnw_spec spec = {
	.name = "pick",
	.synopsis = "--from TABLE [--by FIELD] [--key FIELD] [--top N] [-o FILE] [-z [LEVEL]] [POOL]\n"
		    "       pick --ids LIST [-o FILE] [-z [LEVEL]] [POOL]",
	.help = "      --from TABLE    a group table (gradex output), best group first\n"
		"      --by FIELD      the pool field holding the group (default source)\n"
		"      --key FIELD     the table field holding the group (default group)\n"
		"      --top N         only the first N groups of the table (default: all)\n"
		"      --ids LIST      a stream with field id (and count, carried across), or ids one a line\n",
	.shortopts = "",
	.longopts = longopts,
	.common = WNW_OPT_OUTPUT | WNW_OPT_PROGRESS,
};

struct opts {
	const char *from, *by, *key, *ids;
	uint64_t top;
	int have_top;
};

/* A group key as text: bytes as they are, u64 in decimal (as gradex writes them). */
static const void *key_of(const struct wnw_rec *rec, int f, int type, char *num, size_t *len)
{
	if (type == WNW_U64) {
		*len = (size_t)snprintf(num, 24, "%llu", (unsigned long long)wnw_get_u64(rec, f));
		return num;
	}
	return wnw_get_bytes(rec, f, len);
}

static int key_field(struct wnw_cmd *cmd, struct wnw_reader *r, const char *name)
{
	int f = wnw_xfield(cmd, r, name, 0, NULL);
	int t = wnw_reader_schema(r)->fields[f].type;
	if (t != WNW_BYTES && t != WNW_U64)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: field '%s' is %s, not text or u64", wnw_reader_name(r), name,
			wnw_type_name(t));
	return f;
}

/* The first `top` groups of the table (all when !have_top), in table order. */
static void read_table(struct wnw_cmd *cmd, const struct opts *o, struct wnw_names *set)
{
	struct wnw_reader *r = wnw_xopen(cmd, o->from);
	int f = key_field(cmd, r, o->key);
	int t = wnw_reader_schema(r)->fields[f].type;
	struct wnw_rec rec;
	uint64_t rows = 0;
	while ((!o->have_top || rows < o->top) && wnw_xnext(cmd, r, &rec)) {
		char num[24];
		size_t len;
		const void *k = key_of(&rec, f, t, num, &len);
		int added;
		if (wnw_names_add(set, k, len, &added) < 0)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
		if (!added)
			wnw_die(cmd, WNW_EXIT_DATA, "%s: record %llu: group '%.*s' is listed twice", wnw_reader_name(r),
				(unsigned long long)rec.number, (int)len, (const char *)k);
		rows++;
	}
	if (o->have_top && rows < o->top)
		wnw_warn(cmd, "%s: the table has %llu groups, fewer than --top %llu", wnw_reader_name(r),
			 (unsigned long long)rows, (unsigned long long)o->top);
	/* Stopping early at --top is fine: nothing after it is read, so no trailer check is owed. */
	wnw_reader_close(r);
}

static void pick_groups(struct wnw_cmd *cmd, const struct opts *o, const char *path)
{
	struct wnw_names set;
	wnw_names_init(&set);
	read_table(cmd, o, &set);
	uint64_t *seen = wnw_xcalloc(cmd, set.n ? set.n : 1, sizeof *seen);
	struct wnw_reader *r = wnw_xopen(cmd, path);
	int f = key_field(cmd, r, o->by);
	int t = wnw_reader_schema(r)->fields[f].type;
	int nf = (int)wnw_reader_schema(r)->nfields;
	struct wnw_writer *w = wnw_xcreate(cmd, wnw_reader_schema(r));
	struct wnw_rec rec;
	while (wnw_xnext(cmd, r, &rec)) {
		wnw_progress(cmd, r);
		char num[24];
		size_t len;
		const void *k = key_of(&rec, f, t, num, &len);
		int64_t g = wnw_names_find(&set, k, len);
		if (g < 0)
			continue;
		seen[g]++;
		wnw_writer_copy(w, &rec, 0, nf);
		wnw_xend(cmd, w);
	}
	wnw_progress_done(cmd, r);
	wnw_xclose(cmd, w);
	for (size_t g = 0; g < set.n; g++) {
		if (seen[g])
			continue;
		size_t len;
		const char *nm = wnw_names_get(&set, g, &len);
		wnw_warn(cmd, "%s: group '%.*s' has no examples in the pool", wnw_reader_name(r), (int)len, nm);
	}
	wnw_reader_close(r);
	free(seen);
	wnw_names_free(&set);
}

/* Feeds a pipe with the byte already read and then the rest of a descriptor, so that a stream whose
 * first byte was looked at can still be opened by the reader. */
struct pump {
	int in, out;
	unsigned char first;
};

static void *pump_run(void *arg)
{
	struct pump *p = arg;
	char buf[65536];
	ssize_t n = 1;
	buf[0] = (char)p->first;
	do {
		for (ssize_t off = 0; off < n;) {
			ssize_t m = write(p->out, buf + off, (size_t)(n - off));
			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0)
				goto done; /* the reader went away: it reports what it saw */
			off += m;
		}
		do
			n = read(p->in, buf, sizeof buf);
		while (n < 0 && errno == EINTR);
	} while (n > 0);
done:
	close(p->out);
	close(p->in);
	return NULL;
}

/* Adds one id (with count) to the map; a stream list may repeat an id: counts add up. */
static void add_id(struct wnw_cmd *cmd, struct wnw_idmap *m, uint64_t id, uint64_t count)
{
	int added;
	uint64_t *v = wnw_idmap_add(m, id, &added);
	if (v) {
		*v += count;
		return;
	}
	wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
}

static void read_id_stream(struct wnw_cmd *cmd, struct wnw_reader *r, struct wnw_idmap *m, int *has_count)
{
	int fid = wnw_xfield(cmd, r, "id", WNW_U64, NULL);
	int fc = wnw_schema_find(wnw_reader_schema(r), "count");
	if (fc >= 0 && wnw_reader_schema(r)->fields[fc].type != WNW_U64)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: field 'count' is %s, not u64", wnw_reader_name(r),
			wnw_type_name(wnw_reader_schema(r)->fields[fc].type));
	*has_count = fc >= 0;
	struct wnw_rec rec;
	while (wnw_xnext(cmd, r, &rec))
		add_id(cmd, m, wnw_get_u64(&rec, fid), fc >= 0 ? wnw_get_u64(&rec, fc) : 1);
	wnw_reader_close(r);
}

/* sid: the pool has string ids, so each line is one, matched by its hash (winnow(5), String ids). */
static void read_id_text(struct wnw_cmd *cmd, FILE *f, const char *name, struct wnw_idmap *m, int sid)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (sid) {
			add_id(cmd, m, wnw_sid_hash(line, (size_t)n), 1);
			continue;
		}
		char *end;
		errno = 0;
		unsigned long long v = strtoull(line, &end, 10);
		/* end, not *end: a NUL inside the line ("1\0junk") must not end the number. */
		if (errno || end != line + n || line[0] < '0' || line[0] > '9') {
			char q[64]; /* escaped here, as %s would stop at a NUL */
			wnw_escape(q, sizeof q, line, (size_t)n);
			wnw_die(cmd, WNW_EXIT_DATA, "%s: line %llu: '%s' is not an id", name, (unsigned long long)lineno,
				q);
		}
		add_id(cmd, m, v, 1);
	}
	if (ferror(f))
		wnw_die(cmd, WNW_EXIT_SYSTEM, "%s: read error", name);
	free(line);
}

/* LIST is a winnow stream (plain or zstd: first byte 0x89 or 0x28) or text with one id a line. The
 * first byte is read from the raw descriptor; a pipe cannot give it back, so then it is put back in
 * front of the rest (ungetc for text, a feeding thread for a stream). */
static void read_ids(struct wnw_cmd *cmd, const char *path, struct wnw_idmap *m, int *has_count, int sid)
{
	struct wnw_err e;
	unsigned char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		wnw_die(cmd, errno == ENOENT || errno == EACCES ? WNW_EXIT_USAGE : WNW_EXIT_SYSTEM,
			"%s: cannot open: %m", path);
	ssize_t got;
	do
		got = read(fd, &c, 1);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "%s: read error: %m", path);
	*has_count = 0;
	int seekable = lseek(fd, 0, SEEK_SET) == 0;
	if (got == 0 || (c != 0x89 && c != 0x28)) {
		FILE *f = fdopen(fd, "rb");
		if (!f)
			wnw_die(cmd, WNW_EXIT_SYSTEM, "%s: %m", path);
		if (got == 1 && !seekable)
			ungetc(c, f);
		read_id_text(cmd, f, path, m, sid);
		fclose(f);
		return;
	}
	struct wnw_reader *r;
	if (seekable) {
		if (!(r = wnw_reader_fdopen(fd, path, &e)))
			wnw_die_err(cmd, &e);
		read_id_stream(cmd, r, m, has_count);
		close(fd);
		return;
	}
	int fds[2];
	if (pipe(fds) != 0)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "pipe: %m");
	struct pump p = {fd, fds[1], c};
	pthread_t th;
	if (pthread_create(&th, NULL, pump_run, &p) != 0)
		wnw_die_threads(cmd, 2); /* the feeding thread and this one */
	if (!(r = wnw_reader_fdopen(fds[0], path, &e)))
		wnw_die_err(cmd, &e);
	read_id_stream(cmd, r, m, has_count);
	pthread_join(th, NULL);
	close(fds[0]);
}

static void pick_ids(struct wnw_cmd *cmd, const struct opts *o, const char *path)
{
	struct wnw_idmap m;
	struct wnw_err e;
	int has_count;
	wnw_idmap_init(&m);
	struct wnw_reader *r = wnw_xopen(cmd, path);
	int fid = wnw_xfield(cmd, r, "id", WNW_U64, NULL);
	const struct wnw_schema *in = wnw_reader_schema(r);
	read_ids(cmd, o->ids, &m, &has_count, wnw_schema_find(in, "sid") >= 0);
	struct wnw_schema out;
	struct wnw_edit ed;
	wnw_schema_init(&out);
	wnw_xedit(cmd, in, &out, &ed, has_count ? "count" : NULL, WNW_U64, 0);
	struct wnw_writer *w = wnw_xcreate(cmd, &out);
	const uint64_t seen = (uint64_t)1 << 63;
	struct wnw_rec rec;
	while (wnw_xnext(cmd, r, &rec)) {
		wnw_progress(cmd, r);
		uint64_t *v = wnw_idmap_find(&m, wnw_get_u64(&rec, fid));
		if (!v)
			continue;
		uint64_t count = *v & ~seen;
		*v |= seen;
		if (has_count) {
			wnw_edit_begin(w, &rec, &ed);
			wnw_writer_u64(w, count);
			if (wnw_edit_end(w, &rec, &ed, &e) < 0)
				wnw_die_err(cmd, &e);
		} else {
			wnw_writer_copy(w, &rec, 0, (int)in->nfields);
			wnw_xend(cmd, w);
		}
	}
	wnw_progress_done(cmd, r);
	wnw_xclose(cmd, w);
	uint64_t missing = 0;
	for (size_t i = 0; i <= m.mask && m.used; i++)
		missing += m.used[i] && !(m.val[i] & seen);
	if (missing)
		wnw_warn(cmd, "%s: %llu of %llu listed ids are not in the pool", o->ids, (unsigned long long)missing,
			 (unsigned long long)m.n);
	wnw_reader_close(r);
	wnw_schema_free(&out);
	wnw_idmap_free(&m);
}

/* Options into *o, their combinations checked; returns the input (NULL: standard input). */
static const char *parse(struct wnw_cmd *cmd, struct opts *o, int argc, char **argv)
{
	int ch;

	wnw_cmd_init(cmd, &spec, argc, argv);
	while ((ch = wnw_cmd_opt(cmd)) != -1) {
		switch (ch) {
		case OPT_FROM: o->from = cmd->optarg; break;
		case OPT_BY: o->by = cmd->optarg; break;
		case OPT_KEY: o->key = cmd->optarg; break;
		case OPT_TOP:
			o->top = wnw_opt_u64(cmd, "--top", cmd->optarg, 1, UINT64_MAX);
			o->have_top = 1;
			break;
		case OPT_IDS: o->ids = cmd->optarg; break;
		default: wnw_usage(cmd, "unknown option");
		}
	}
	if (!o->from == !o->ids)
		wnw_usage(cmd, "give one of --from TABLE or --ids LIST");
	if (o->have_top && !o->from)
		wnw_usage(cmd, "--top goes with --from");
	return wnw_cmd_input(cmd);
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct opts o = {.by = "source", .key = "group"};

	const char *path = parse(&cmd, &o, argc, argv);
	if (o.from)
		pick_groups(&cmd, &o, path);
	else
		pick_ids(&cmd, &o, path);
	return wnw_cmd_done(&cmd);
}
