/* yaml2mk: turns a YAML mapping of recipe parameters into make(1) variable assignments, so that the
 * recipes in pipelines/ can take their parameters from a YAML file (such as the TSDS reference's
 * config.yaml) as well as from the command line. Only the recipes' documented keys are taken, each
 * with a value of its kind, and every value reaches make as data. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "prog.h"
#include "yamlmap.h"

static const struct option longopts[] = {{NULL, 0, NULL, 0}};

static const struct wnw_spec spec = {
	.name = "yaml2mk",
	.synopsis = "[FILE]",
	.help = "Prints each key: value of the YAML mapping FILE (default: stdin) as KEY = value, the key in\n"
		"upper case; keys of the TSDS reference's config.yaml get the recipes' names. Only the recipes'\n"
		"keys are taken, each with a value of its kind (see yaml2mk(1)).\n",
	.shortopts = "",
	.longopts = longopts,
	.common = 0,
};

/* The TSDS reference's keys and the names the recipes use for them. */
static const char *const renames[][2] = {
	{"SAMPLE_SIZE", "N"},
	{"MAX_K", "K"},
	{"QUERY_EMBEDDING_PATH", "QUERY_NPY"},
	{"CANDIDATE_EMBEDDING_PATH", "POOL_NPY"},
	{"OUTPUT_FOLDER", "OUT"},
};

/* The parameters of tsds.mk, zipfit.mk, compare.mk and sharded.mk (a new recipe parameter that a file
 * may set gets its line here and in yaml2mk(1)). */
static const struct {
	const char *name;
	enum wnw_yaml_kind kind;
} keys[] = {
	{"QUERY", WNW_YAML_WORD},      {"POOL", WNW_YAML_WORD},       {"TARGET", WNW_YAML_WORD},
	{"QUERY_NPY", WNW_YAML_WORD},  {"POOL_NPY", WNW_YAML_WORD},   {"OUT", WNW_YAML_WORD},
	{"TEXT", WNW_YAML_TEXT},       {"QUERY_TEXT", WNW_YAML_TEXT}, {"LABEL", WNW_YAML_TEXT},
	{"HOSTS", WNW_YAML_TEXT},      {"DIM", WNW_YAML_COUNT},       {"K", WNW_YAML_COUNT},
	{"KDE_K", WNW_YAML_COUNT},     {"N", WNW_YAML_COUNT},         {"TOP", WNW_YAML_COUNT},
	{"SHARDS", WNW_YAML_COUNT},    {"JOBS", WNW_YAML_COUNT},      {"SEED", WNW_YAML_WHOLE},
	{"ALPHA", WNW_YAML_FRACTION},  {"C", WNW_YAML_POSITIVE},      {"SIGMA", WNW_YAML_NONNEG},
	{"CHAR", WNW_YAML_RANGE},      {"LEVEL", WNW_YAML_LEVEL},     {"FAST", WNW_YAML_BOOL},
	{"EXPAND", WNW_YAML_BOOL},     {"DEDUP", WNW_YAML_WORD},      {"DECONTAM", WNW_YAML_WORD},
	{"DECONTAM_TEXT", WNW_YAML_TEXT}, {"DECONTAM_NGRAM", WNW_YAML_COUNT}, {"BUDGET", WNW_YAML_WORD},
	{"SIZE_FIELD", WNW_YAML_TEXT}, {"BUCKETS", WNW_YAML_COUNT},    {"NGRAM", WNW_YAML_RANGE},
};
enum { NKEYS = sizeof keys / sizeof keys[0] };

/* The value as make reads it back unchanged: $ doubled, # escaped, a backslash followed by $() so
 * that it never escapes the next character or the line's end, leading blanks kept by a $() before. */
static void print_value(const char *v)
{
	if (*v == ' ')
		fputs("$()", stdout);
	for (const char *p = v; *p; p++) {
		if (*p == '$')
			putchar('$');
		if (*p == '#')
			putchar('\\');
		putchar(*p);
		if (*p == '\\')
			fputs("$()", stdout);
	}
	putchar('\n');
}

/* Right after a failed write, while errno still says why: a closed pipe downstream ends the program
 * quietly, as it does every program. */
static int write_error(struct wnw_err *e)
{
	if (errno == EPIPE)
		return wnw_errf(e, WNW_EXIT_PIPE, "stdout: broken pipe");
	return wnw_errf(e, WNW_EXIT_SYSTEM, "stdout: write error: %s", strerror(errno));
}

struct state {
	const char *file;
	int seen[NKEYS];
};

/* One key: value: a recipe key (or the reference's name for one), once, with a value of its kind. */
static int print_var(void *ctx, const char *key, const char *val, size_t line, int in_seq, struct wnw_err *e)
{
	struct state *st = ctx;
	char name[64], q[WNW_QUOTE_MAX];
	size_t n = strlen(key), k;

	(void)in_seq; /* wnw_yaml_map refuses lists, which no recipe parameter takes */
	for (size_t i = 0; i <= n && i < sizeof name; i++)
		name[i] = (char)toupper((unsigned char)key[i]);
	for (size_t i = 0; n < sizeof name && i < sizeof renames / sizeof renames[0]; i++)
		if (strcmp(name, renames[i][0]) == 0)
			snprintf(name, sizeof name, "%s", renames[i][1]);
	for (k = 0; n < sizeof name && k < NKEYS; k++)
		if (strcmp(name, keys[k].name) == 0)
			break;
	if (n >= sizeof name || k == NKEYS)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: unknown key '%s' (see yaml2mk(1) for the recipes' keys)",
				st->file, line, wnw_quote(key, q));
	if (st->seen[k]++)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: %s given twice", st->file, line, keys[k].name);
	const char *bad = *val == '\0' && keys[k].kind == WNW_YAML_BOOL ? NULL : wnw_yaml_check(keys[k].kind, val);
	if (bad != NULL)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: %s: '%s' %s", st->file, line, key, wnw_quote(val, q),
				bad);
	printf("%s = ", keys[k].name);
	print_value(keys[k].kind == WNW_YAML_BOOL ? (wnw_yaml_bool(val) == 1 ? "1" : "") : val);
	return ferror(stdout) ? write_error(e) : 0;
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct wnw_err e;

	wnw_cmd_init(&cmd, &spec, argc, argv);
	if (wnw_cmd_opt(&cmd) != -1)
		wnw_usage(&cmd, "unknown option");
	if (wnw_cmd_nargs(&cmd) > 1)
		wnw_usage(&cmd, "at most one FILE");
	const char *file = wnw_cmd_nargs(&cmd) ? wnw_cmd_args(&cmd)[0] : "-";
	struct state st = {strcmp(file, "-") != 0 ? file : "stdin", {0}};
	if (wnw_yaml_map(file, 0, print_var, &st, &e) < 0)
		wnw_die_err(&cmd, &e);
	if (fflush(stdout) != 0) {
		write_error(&e);
		wnw_die_err(&cmd, &e);
	}
	return wnw_cmd_done(&cmd);
}
