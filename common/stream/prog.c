/* prog.c: the part of every program around its main loop: options and --config, messages and exit
 * statuses, die-on-error wrappers, progress. This is the only code in common/ that prints or exits. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "isa.h"
#include "par.h"
#include "prog.h"
#include "sink.h"
#include "yamlmap.h"

enum { OPT_HELP = 0x1000, OPT_VERSION, OPT_CONFIG, OPT_PROGRESS, OPT_FORCE, OPT_MAX_RECORD };

static const struct option common_opts[] = {
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"output", required_argument, NULL, 'o'},
	{"zstd", optional_argument, NULL, 'z'},
	{"threads", required_argument, NULL, 'j'},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"force", no_argument, NULL, OPT_FORCE},
	{"max-record", required_argument, NULL, OPT_MAX_RECORD},
	{NULL, 0, NULL, 0},
};

static int common_enabled(const struct wnw_spec *spec, int val)
{
	switch (val) {
	case 'o':
	case 'z':
	case OPT_FORCE:
		return (spec->common & WNW_OPT_OUTPUT) != 0;
	case 'j':
		return (spec->common & WNW_OPT_THREADS) != 0;
	case OPT_PROGRESS:
		return (spec->common & WNW_OPT_PROGRESS) != 0;
	default:
		return 1;
	}
}

void *wnw_xmalloc(const struct wnw_cmd *cmd, size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory (%zu bytes)", n);
	return p;
}

void *wnw_xcalloc(const struct wnw_cmd *cmd, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *wnw_xrealloc(const struct wnw_cmd *cmd, void *p, size_t n)
{
	void *np = realloc(p, n ? n : 1);
	if (np == NULL)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory (%zu bytes)", n);
	return np;
}

/* Every message is written through here: what it quotes of the input (an id line, a configuration
 * value, a field name) has its control bytes escaped, and a message is cut at MSG_MAX bytes, so a
 * 50 MB value does not fill the terminal. */
#define MSG_MAX 2048
static void vmsg(const struct wnw_cmd *cmd, const char *fmt, va_list ap)
{
	char raw[MSG_MAX + 1], safe[4 * MSG_MAX + 8];
	int n = vsnprintf(raw, sizeof raw, fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1;
	wnw_escape(safe, sizeof safe, raw, len);
	fprintf(stderr, "%s: %s%s\n", cmd->spec->name, safe, n > MSG_MAX ? "..." : "");
}

const char *wnw_id_text(char buf[WNW_ID_TEXT], const struct wnw_rec *rec, int fid)
{
	int sid = wnw_schema_find(rec->schema, "sid");
	size_t n;
	if (sid < 0 || rec->schema->fields[sid].type != WNW_BYTES) {
		snprintf(buf, WNW_ID_TEXT, "%llu", (unsigned long long)wnw_get_u64(rec, fid));
		return buf;
	}
	const char *s = (const char *)wnw_get_bytes(rec, sid, &n);
	buf[0] = '"';
	n = 1 + wnw_escape(buf + 1, WNW_ID_TEXT - 2, s, n > 200 ? 200 : n);
	buf[n] = '"';
	buf[n + 1] = 0;
	return buf;
}

void wnw_warn(const struct wnw_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(cmd, fmt, ap);
	va_end(ap);
}

void wnw_cmd_on_die(struct wnw_cmd *cmd, void (*fn)(void *), void *arg)
{
	cmd->on_die = fn;
	cmd->on_die_arg = arg;
}

_Noreturn static void leave(const struct wnw_cmd *cmd, int status)
{
	if (cmd->on_die != NULL)
		cmd->on_die(cmd->on_die_arg);
	for (int i = 0; i < cmd->nouts; i++)
		wnw_writer_abort(cmd->outs[i]);
	for (int i = 0; i < cmd->ntouts; i++)
		wnw_tout_abort(cmd->touts[i]);
	exit(status);
}

_Noreturn void wnw_die(const struct wnw_cmd *cmd, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(cmd, fmt, ap);
	va_end(ap);
	leave(cmd, status);
}

_Noreturn void wnw_die_err(const struct wnw_cmd *cmd, const struct wnw_err *e)
{
	if (e->status == WNW_EXIT_PIPE)
		leave(cmd, WNW_EXIT_OK);
	wnw_die(cmd, e->status, "%s", e->msg);
}

/* -f is --force unless the program gave the letter to an option of its own (--field, --from). */
static int owns_f(const struct wnw_spec *s)
{
	for (size_t i = 0; s->longopts != NULL && s->longopts[i].name != NULL; i++)
		if (s->longopts[i].val == 'f')
			return 1;
	return s->shortopts != NULL && strchr(s->shortopts, 'f') != NULL;
}

static void print_usage(const struct wnw_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: %s %s\n", cmd->spec->name, cmd->spec->synopsis);
}

_Noreturn void wnw_usage(const struct wnw_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(cmd, fmt, ap);
	va_end(ap);
	print_usage(cmd, stderr);
	fprintf(stderr, "Try '%s --help' for more information.\n", cmd->spec->name);
	leave(cmd, WNW_EXIT_USAGE);
}

static void print_help(const struct wnw_cmd *cmd)
{
	const struct wnw_spec *s = cmd->spec;

	print_usage(cmd, stdout);
	fputs("\n", stdout);
	if (s->help != NULL)
		fputs(s->help, stdout);
	if (s->common & WNW_OPT_OUTPUT)
		fputs("  -o, --output FILE     write FILE (via a temporary file renamed at the end), not stdout\n"
		      "  -z, --zstd [LEVEL]    compress the output with zstd (default level: $WINNOW_ZSTD_LEVEL or 3)\n",
		      stdout);
	if (s->common & WNW_OPT_OUTPUT)
		fputs(owns_f(s) ? "      --force           write binary output even to a terminal\n"
				: "  -f, --force           write binary output even to a terminal\n",
		      stdout);
	if (s->common & WNW_OPT_THREADS)
		fputs("  -j, --threads N       use N threads (default: $WINNOW_THREADS or every online CPU); output\n"
		      "                        is identical for any N\n", stdout);
	if (s->common & WNW_OPT_PROGRESS)
		fputs("      --progress        show progress on stderr (default: when stderr is a terminal)\n", stdout);
	fputs("      --max-record SIZE refuse input records larger than SIZE, such as 512M (default 64M, at most 1G)\n",
	      stdout);
	fputs("      --config FILE     read options from a YAML mapping of long option names; the command line wins\n"
	      "      --help            show this help and exit\n"
	      "      --version         show the version and exit\n"
	      "\nExit status: 0 success, 1 bad input data, 2 usage error, 3 system error.\n",
	      stdout);
	printf("See %s(1).\n", s->name);
}

/* --- configuration file ------------------------------------------------------------------------ */

struct argv_buf {
	int n, cap;
	char **v;
};

static void push_arg(const struct wnw_cmd *cmd, struct argv_buf *a, const char *s)
{
	if (a->n + 1 >= a->cap) {
		a->cap = a->cap ? 2 * a->cap : 16;
		a->v = wnw_xrealloc(cmd, a->v, (size_t)a->cap * sizeof *a->v);
	}
	a->v[a->n] = strdup(s);
	if (a->v[a->n] == NULL)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
	a->v[++a->n] = NULL;
}

static const struct option *find_long(const struct wnw_cmd *cmd, const char *name)
{
	for (const struct option *o = cmd->allopts; o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

struct config_ctx {
	const struct wnw_cmd *cmd;
	struct argv_buf *args;
	const char *file;
	char *lists; /* as wnw_cmd.lists */
	size_t nlists;
};

/* Notes an option given as a YAML list, once, with where the list is, for check_lists. */
static void note_list(struct config_ctx *c, const char *key, size_t line)
{
	char entry[512];
	int n = snprintf(entry, sizeof entry, "%.200s\t%.200s: line %zu\n", key, c->file, line);
	if (c->lists != NULL && strstr(c->lists, key) != NULL) {
		size_t k = strlen(key);
		for (const char *p = c->lists; (p = strstr(p, key)) != NULL; p += k)
			if ((p == c->lists || p[-1] == '\n') && p[k] == '\t')
				return;
	}
	c->lists = wnw_xrealloc(c->cmd, c->lists, c->nlists + (size_t)n + 1);
	memcpy(c->lists + c->nlists, entry, (size_t)n + 1);
	c->nlists += (size_t)n;
}

/* One key: value of the configuration becomes --key=value (or --key for a true flag). */
static int config_entry(void *ctx, const char *key, const char *val, size_t line, int in_seq, struct wnw_err *e)
{
	struct config_ctx *c = ctx;
	const struct wnw_cmd *cmd = c->cmd;
	const struct option *o = find_long(cmd, key);
	char q[WNW_QUOTE_MAX];
	int b;

	(void)e;
	if (o == NULL || strcmp(key, "config") == 0 || !common_enabled(cmd->spec, o->val))
		wnw_usage(cmd, "%s: line %zu: unknown option '%s'", c->file, line, wnw_quote(key, q));
	if (in_seq)
		note_list(c, key, line);
	if (o->has_arg == no_argument) {
		if ((b = wnw_yaml_bool(val)) < 0)
			wnw_usage(cmd, "%s: line %zu: option '%s' takes true or false, not '%s'", c->file, line, key,
				  wnw_quote(val, q));
		if (b) {
			char buf[300];
			snprintf(buf, sizeof buf, "--%s", key);
			push_arg(cmd, c->args, buf);
		}
		return 0;
	}
	size_t n = strlen(key) + strlen(val) + 4;
	char *buf = wnw_xmalloc(cmd, n);
	snprintf(buf, n, "--%s=%s", key, val);
	push_arg(cmd, c->args, buf);
	free(buf);
	return 0;
}

/* Reads a YAML mapping whose values are scalars or sequences of scalars (a repeatable option). */
static void read_config(struct wnw_cmd *cmd, const char *file, struct argv_buf *a)
{
	struct config_ctx c = {cmd, a, file, NULL, 0};
	struct wnw_err e;

	if (wnw_yaml_map(file, 1, config_entry, &c, &e) < 0)
		wnw_usage(cmd, "%s", e.msg);
	cmd->lists = c.lists;
}

void wnw_cmd_repeatable(struct wnw_cmd *cmd, const char *names)
{
	cmd->repeatable = names;
}

/* A YAML list only for an option the program takes more than once (wnw_cmd_repeatable). */
static void check_lists(struct wnw_cmd *cmd)
{
	char name[256];

	for (const char *p = cmd->lists; p != NULL && *p != '\0'; p = strchr(p, '\n') + 1) {
		const char *tab = strchr(p, '\t');
		snprintf(name, sizeof name, ",%.*s,", (int)(tab - p), p);
		if (cmd->repeatable == NULL || strstr(cmd->repeatable, name) == NULL)
			wnw_usage(cmd, "%.*s: option '%.*s' takes one value, not a list", (int)(strchr(tab, '\n') - tab - 1),
				  tab + 1, (int)(tab - p), p);
	}
	free(cmd->lists);
	cmd->lists = NULL;
}

/* --config FILE or --config=FILE anywhere before "--". */
static const char *find_config(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}

static int is_number(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void build_tables(struct wnw_cmd *cmd)
{
	const struct wnw_spec *s = cmd->spec;
	size_t n = 0, k = 0;

	while (s->longopts != NULL && s->longopts[n].name != NULL)
		n++;
	cmd->allopts = wnw_xcalloc(cmd, n + sizeof common_opts / sizeof common_opts[0], sizeof *cmd->allopts);
	for (size_t i = 0; i < n; i++)
		cmd->allopts[k++] = s->longopts[i];
	for (const struct option *o = common_opts; o->name != NULL; o++)
		if (common_enabled(s, o->val))
			cmd->allopts[k++] = *o;
	size_t sl = s->shortopts ? strlen(s->shortopts) : 0;
	cmd->allshort = wnw_xmalloc(cmd, sl + 16);
	snprintf(cmd->allshort, sl + 16, ":%s%s%s%s", s->shortopts ? s->shortopts : "",
		 (s->common & WNW_OPT_OUTPUT) ? "o:z::" : "", (s->common & WNW_OPT_THREADS) ? "j:" : "",
		 (s->common & WNW_OPT_OUTPUT) && !owns_f(s) ? "f" : "");
}

/* Options that cannot change the records are left out of the provenance, so that the same work done
 * with another thread count, output name or compression gives the same header. */
static int unrecorded(const char *a, int *takes_next)
{
	static const char *const with_arg[] = {"-j", "--threads", "-o", "--output", "--config", "--max-record"};
	*takes_next = 0;
	for (size_t i = 0; i < sizeof with_arg / sizeof with_arg[0]; i++) {
		size_t n = strlen(with_arg[i]);
		if (strcmp(a, with_arg[i]) == 0)
			return *takes_next = 1, 1;
		if (strncmp(a, with_arg[i], n) == 0 && (a[n] == '=' || (a[1] != '-' && a[n] != '\0')))
			return 1;
	}
	return strcmp(a, "--progress") == 0 || strcmp(a, "--force") == 0 || strncmp(a, "-z", 2) == 0 ||
	       strncmp(a, "--zstd", 6) == 0;
}

static void record_args(struct wnw_cmd *cmd, struct argv_buf *rec)
{
	for (int i = 1; i < cmd->argc; i++) {
		int next;
		if (strcmp(cmd->argv[i], "--") == 0) {
			for (; i < cmd->argc; i++)
				push_arg(cmd, rec, cmd->argv[i]);
			break;
		}
		if (unrecorded(cmd->argv[i], &next))
			i += next;
		else
			push_arg(cmd, rec, cmd->argv[i]);
	}
}

/* Without -j, a program that takes it uses $WINNOW_THREADS or every online CPU (at most 256); checked
 * only here, so that a bad value fails no program that runs one thread. */
static int default_threads(const struct wnw_cmd *cmd)
{
	const char *env = getenv("WINNOW_THREADS");
	long n;

	if (!(cmd->spec->common & WNW_OPT_THREADS))
		return 1;
	if (env != NULL && *env != '\0')
		return (int)wnw_opt_u64(cmd, "WINNOW_THREADS", env, 1, 256);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

void wnw_cmd_init(struct wnw_cmd *cmd, const struct wnw_spec *spec, int argc, char **argv)
{
	struct argv_buf a = {0};
	const char *cfg;

	memset(cmd, 0, sizeof *cmd);
	cmd->spec = spec;
	cmd->threads = 0; /* unset: default_threads() when the options are done */
	cmd->max_record = WNW_DEFAULT_MAX_RECORD;
	cmd->progress = isatty(2);
	cmd->zlevel = 0;
	build_tables(cmd);
	signal(SIGPIPE, SIG_IGN);
	wnw_cleanup_on_signal();
	push_arg(cmd, &a, argv[0]);
	if ((cfg = find_config(argc, argv)) != NULL)
		read_config(cmd, cfg, &a);
	/* "-z 19": a level after -z, which getopt's optional arguments cannot see, is joined to it. */
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-z") == 0 || strcmp(argv[i], "--zstd") == 0) && i + 1 < argc &&
		    is_number(argv[i + 1]) && (spec->common & WNW_OPT_OUTPUT)) {
			char buf[64];
			snprintf(buf, sizeof buf, "%s%s%.20s", argv[i], argv[i][1] == '-' ? "=" : "", argv[i + 1]);
			push_arg(cmd, &a, buf);
			i++;
		} else {
			push_arg(cmd, &a, argv[i]);
		}
	}
	cmd->argc = a.n;
	cmd->argv = a.v;
	optind = 0; /* GNU: reinitialise, since a program may call this in tests more than once */
	opterr = 0;
	struct wnw_err e;
	if (wnw_isa_check(&e) != 0)
		wnw_die(cmd, e.status, "%s", e.msg);
}

int wnw_cmd_opt(struct wnw_cmd *cmd)
{
	if (cmd->lists != NULL)
		check_lists(cmd);
	for (;;) {
		int idx = -1;
		int ch = getopt_long(cmd->argc, cmd->argv, cmd->allshort, cmd->allopts, &idx);
		cmd->optarg = optarg;
		switch (ch) {
		case OPT_HELP:
			print_help(cmd);
			exit(WNW_EXIT_OK);
		case OPT_VERSION:
			printf("%s (winnow) %s\n", cmd->spec->name, WNW_VERSION);
			exit(WNW_EXIT_OK);
		case OPT_CONFIG:
			continue; /* read in wnw_cmd_init */
		case OPT_PROGRESS:
			cmd->progress = 1;
			continue;
		case OPT_FORCE:
			cmd->force = 1;
			continue;
		case 'f':
			if (!(cmd->spec->common & WNW_OPT_OUTPUT) || owns_f(cmd->spec))
				return ch;
			cmd->force = 1;
			continue;
		case OPT_MAX_RECORD: {
			uint64_t v = wnw_opt_size(cmd, "--max-record", optarg);
			if (v > WNW_MAX_RECORD)
				wnw_usage(cmd, "--max-record: '%s' is more than the format's 1G", optarg);
			cmd->max_record = (uint32_t)v;
			continue;
		}
		case 'o':
			if (!(cmd->spec->common & WNW_OPT_OUTPUT))
				return ch;
			cmd->output = optarg;
			continue;
		case 'z':
			if (!(cmd->spec->common & WNW_OPT_OUTPUT))
				return ch;
			if (optarg == NULL) {
				/* Checked only here, where it is used: a program that writes no stream never
				 * fails on it. */
				const char *lvl = getenv("WINNOW_ZSTD_LEVEL");
				cmd->zlevel = 3;
				if (lvl != NULL && *lvl != '\0')
					cmd->zlevel = (int)wnw_opt_u64(cmd, "WINNOW_ZSTD_LEVEL", lvl, 1, 22);
			} else {
				cmd->zlevel = (int)wnw_opt_u64(cmd, "-z", optarg, 1, 22);
			}
			continue;
		case 'j':
			if (!(cmd->spec->common & WNW_OPT_THREADS))
				return ch;
			cmd->threads = (int)wnw_opt_u64(cmd, "-j", optarg, 1, 256);
			cmd->threads_given = 1;
			continue;
		case ':':
			wnw_usage(cmd, "option '%s' needs a value", cmd->argv[optind - 1]);
		case '?':
			if (optopt != 0)
				wnw_usage(cmd, "unknown option '-%c'", optopt);
			wnw_usage(cmd, "unknown option '%s'", cmd->argv[optind - 1]);
		case -1:
			if (cmd->output != NULL) {
				size_t n = strlen(cmd->output);
				if (cmd->zlevel == 0 && n > 4 && strcmp(cmd->output + n - 4, ".zst") == 0)
					cmd->zlevel = 3;
			}
			if (cmd->threads == 0)
				cmd->threads = default_threads(cmd);
			return -1;
		default:
			return ch;
		}
	}
}

int wnw_cmd_done(struct wnw_cmd *cmd)
{
	for (int i = 0; i < cmd->argc; i++)
		free(cmd->argv[i]);
	free(cmd->argv);
	free(cmd->allopts);
	free(cmd->allshort);
	free(cmd->outs);
	free(cmd->lists);
	free(cmd->touts);
	memset(cmd, 0, sizeof *cmd);
	return WNW_EXIT_OK;
}

int wnw_cmd_nargs(const struct wnw_cmd *cmd) { return cmd->argc - optind; }
char **wnw_cmd_args(const struct wnw_cmd *cmd) { return cmd->argv + optind; }

/* --- numbers ----------------------------------------------------------------------------------- */

uint64_t wnw_opt_u64(const struct wnw_cmd *cmd, const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end, q[WNW_QUOTE_MAX];
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v < min || v > max)
		wnw_usage(cmd, "%s: '%s' is not a whole number from %llu to %llu", opt, wnw_quote(s, q),
			  (unsigned long long)min, (unsigned long long)max);
	return v;
}

double wnw_opt_double(const struct wnw_cmd *cmd, const char *opt, const char *s, double min, double max)
{
	char *end, q[WNW_QUOTE_MAX];
	errno = 0;
	double v = strtod(s, &end);
	/* ERANGE with a non-zero result is a subnormal number (such as 1e-320): exact enough, and taken. */
	int range = errno == ERANGE && (v == 0 || !isfinite(v));
	if (*s == '\0' || *end != '\0' || range || (errno != 0 && errno != ERANGE) || !isfinite(v) || v < min ||
	    v > max)
		wnw_usage(cmd, "%s: '%s' is not a number from %g to %g", opt, wnw_quote(s, q), min, max);
	return v;
}

uint64_t wnw_opt_size(const struct wnw_cmd *cmd, const char *opt, const char *s)
{
	char *end, q[WNW_QUOTE_MAX];
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;

	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v == 0 || v > (UINT64_MAX >> shift))
		wnw_usage(cmd, "%s: '%s' is not a size such as 512M or 2G", opt, wnw_quote(s, q));
	return (uint64_t)v << shift;
}

/* --- stream wrappers --------------------------------------------------------------------------- */

void wnw_xrefuse_tty(const struct wnw_cmd *cmd)
{
	int tty = cmd->output == NULL || strcmp(cmd->output, "-") == 0 ? isatty(1) : 0;
	if (tty && !cmd->force)
		wnw_die(cmd, WNW_EXIT_USAGE, "will not write binary output to a terminal: give -o FILE or a pipe (or --force)");
}

struct wnw_reader *wnw_xopen(struct wnw_cmd *cmd, const char *path)
{
	struct wnw_err e;
	struct wnw_reader *r = wnw_reader_open(path, &e);
	if (r == NULL)
		wnw_die_err(cmd, &e);
	wnw_reader_set_max_record(r, cmd->max_record);
	return r;
}

int wnw_xnext(struct wnw_cmd *cmd, struct wnw_reader *r, struct wnw_rec *rec)
{
	struct wnw_err e;
	int got = wnw_reader_next(r, rec, &e);
	if (got < 0)
		wnw_die_err(cmd, &e);
	if (cmd->progress)
		wnw_progress(cmd, r);
	return got;
}

struct wnw_writer *wnw_xcreate(struct wnw_cmd *cmd, const struct wnw_schema *s)
{
	struct wnw_err e;
	struct wnw_schema out;
	struct argv_buf rec = {0};

	if (wnw_schema_copy(&out, s, &e) < 0)
		wnw_die_err(cmd, &e);
	record_args(cmd, &rec);
	if (wnw_schema_add_prov(&out, cmd->spec->name, rec.n, rec.v, &e) < 0)
		wnw_die_err(cmd, &e);
	for (int i = 0; i < rec.n; i++)
		free(rec.v[i]);
	free(rec.v);
	if (wnw_sink_gz_name(cmd->output))
		wnw_usage(cmd, "-o %s: a winnow stream is compressed with zstd (-z, or a name ending in .zst), not gzip",
			  cmd->output);
	wnw_xrefuse_tty(cmd);
	struct wnw_writer *w = wnw_writer_open(cmd->output, &out, cmd->zlevel, &e);
	wnw_schema_free(&out);
	if (w == NULL)
		wnw_die_err(cmd, &e);
	if (cmd->nouts == cmd->capouts) {
		cmd->capouts = cmd->capouts ? 2 * cmd->capouts : 4;
		struct wnw_writer **o = realloc(cmd->outs, (size_t)cmd->capouts * sizeof *o);
		if (o == NULL) {
			wnw_writer_abort(w);
			wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
		}
		cmd->outs = o;
	}
	cmd->outs[cmd->nouts++] = w;
	return w;
}

void wnw_xend(struct wnw_cmd *cmd, struct wnw_writer *w)
{
	struct wnw_err e;
	if (wnw_writer_end(w, &e) < 0)
		wnw_die_err(cmd, &e);
}

void wnw_xclose(struct wnw_cmd *cmd, struct wnw_writer *w)
{
	struct wnw_err e;
	for (int i = 0; i < cmd->nouts; i++)
		if (cmd->outs[i] == w) {
			cmd->outs[i] = cmd->outs[--cmd->nouts];
			break;
		}
	if (wnw_writer_close(w, &e) < 0)
		wnw_die_err(cmd, &e);
}

struct wnw_tout *wnw_xtout_open(struct wnw_cmd *cmd, const char *path, int zlevel)
{
	struct wnw_err e;
	if (cmd->ntouts == cmd->captouts) {
		cmd->captouts = cmd->captouts ? 2 * cmd->captouts : 4;
		cmd->touts = wnw_xrealloc(cmd, cmd->touts, (size_t)cmd->captouts * sizeof *cmd->touts);
	}
	struct wnw_tout *t = wnw_tout_open(path, zlevel, &e);
	if (t == NULL)
		wnw_die_err(cmd, &e);
	cmd->touts[cmd->ntouts++] = t;
	return t;
}

void wnw_xtout_close(struct wnw_cmd *cmd, struct wnw_tout *t)
{
	struct wnw_err e;
	for (int i = 0; i < cmd->ntouts; i++)
		if (cmd->touts[i] == t) {
			cmd->touts[i] = cmd->touts[--cmd->ntouts];
			break;
		}
	if (wnw_tout_close(t, &e) < 0)
		wnw_die_err(cmd, &e);
}

int wnw_xfield(const struct wnw_cmd *cmd, const struct wnw_reader *r, const char *name, int type,
	       uint32_t *dim)
{
	const struct wnw_schema *s = wnw_reader_schema(r);
	int i = wnw_schema_find(s, name);

	if (i < 0)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: no field '%s' in the stream", wnw_reader_name(r), name);
	if (type != 0 && s->fields[i].type != type)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: field '%s' is %s, not %s", wnw_reader_name(r), name,
			wnw_type_name(s->fields[i].type), wnw_type_name(type));
	if (dim != NULL)
		*dim = s->fields[i].dim;
	return i;
}

/* --- progress ---------------------------------------------------------------------------------- */

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Throttled to two lines a second; last ends the line. */
void wnw_progress_at(struct wnw_cmd *cmd, uint64_t records, uint64_t done, uint64_t total, int last)
{
	if (!cmd->progress)
		return;
	double t = now_seconds();
	if (cmd->prog_start == 0)
		cmd->prog_start = cmd->prog_last = t;
	if (!last && t - cmd->prog_last < 0.5)
		return;
	cmd->prog_last = t;
	double elapsed = t - cmd->prog_start, rate = elapsed > 0 ? (double)done / elapsed : 0;
	fprintf(stderr, "\r%s: %llu records, %.1f MB, %.1f MB/s", cmd->spec->name, (unsigned long long)records,
		(double)done / 1e6, rate / 1e6);
	if (total > 0 && done <= total && rate > 0 && !last)
		fprintf(stderr, ", %.0f%%, ETA %.0f s", 100.0 * (double)done / (double)total,
			(double)(total - done) / rate);
	fputs(last ? "\n" : "\033[K", stderr);
}

static void progress_of(struct wnw_cmd *cmd, const struct wnw_reader *r, int last)
{
	uint64_t done, total;
	wnw_reader_position(r, &done, &total);
	wnw_progress_at(cmd, wnw_reader_count(r), done, total, last);
}

void wnw_progress(struct wnw_cmd *cmd, const struct wnw_reader *r)
{
	/* The clock is read every 4096 records only: this runs once per record. */
	if ((wnw_reader_count(r) & 4095) == 0)
		progress_of(cmd, r, 0);
}

void wnw_progress_done(struct wnw_cmd *cmd, const struct wnw_reader *r)
{
	if (cmd->prog_start != 0)
		progress_of(cmd, r, 1);
}

struct wnw_pool *wnw_xpool(const struct wnw_cmd *cmd, int nthreads)
{
	struct wnw_pool *p = wnw_pool_new(nthreads);
	if (p == NULL)
		wnw_die_threads(cmd, nthreads);
	return p;
}

_Noreturn void wnw_die_threads(const struct wnw_cmd *cmd, int nthreads)
{
	wnw_die(cmd, WNW_EXIT_SYSTEM, "cannot start %d thread%s", nthreads, nthreads == 1 ? "" : "s");
}

const char *wnw_cmd_input(const struct wnw_cmd *cmd)
{
	if (wnw_cmd_nargs(cmd) > 1)
		wnw_usage(cmd, "one input at most (concatenate with cat)");
	return wnw_cmd_nargs(cmd) == 1 ? wnw_cmd_args(cmd)[0] : NULL;
}

void wnw_xedit(const struct wnw_cmd *cmd, const struct wnw_schema *in, struct wnw_schema *out, struct wnw_edit *ed,
	       const char *name, int type, uint32_t dim)
{
	struct wnw_err e;
	if (wnw_schema_copy(out, in, &e) != 0 || (name != NULL && wnw_edit_init(ed, in, out, name, type, dim, &e) != 0))
		wnw_die_err(cmd, &e);
}
