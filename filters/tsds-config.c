/* tsds-config: reads the TSDS reference implementation's config.yaml (with libyaml), checks every key,
 * and prints "key<TAB>value" lines for pipelines/tsds to read (see tsds-config(1)). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prog.h"
#include "yamlmap.h"

static const char synopsis[] = "CONFIG.yaml";

static const char help[] =
	"Checks a TSDS config.yaml and prints its settings as key<TAB>value lines, in a fixed order.\n"
	"Keys: query_embedding_path, candidate_embedding_path, output_folder (required); sample_size\n"
	"(default 1000), alpha (0.5), C (5), sigma (0.75), max_K (5000), kde_K (1000), seed (0): the\n"
	"TSDS defaults of every winnow entry point.\n";

static const struct option longopts[] = {{NULL, 0, NULL, 0}};

static const struct wnw_spec spec = {
	.name = "tsds-config",
	.synopsis = synopsis,
	.help = help,
	.shortopts = "",
	.longopts = longopts,
	.common = 0,
};

struct key {
	const char *name;
	enum wnw_yaml_kind kind;
	const char *fallback; /* NULL: required */
	char *value;
};

static struct key *find_key(struct key *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

struct settings {
	const char *file;
	struct key *keys;
	size_t nkeys;
};

/* One key: value of the file: a known key, given once, with a value of its kind. */
static int take_key(void *ctx, const char *name, const char *v, size_t line, int in_seq, struct wnw_err *e)
{
	const struct settings *st = ctx;
	struct key *cur = find_key(st->keys, st->nkeys, name);
	char q[WNW_QUOTE_MAX];

	(void)in_seq; /* wnw_yaml_map refuses lists here */
	if (cur == NULL)
		return wnw_errf(e, WNW_EXIT_USAGE, "%s: line %zu: unknown key '%s'", st->file, line, wnw_quote(name, q));
	if (cur->value != NULL)
		return wnw_errf(e, WNW_EXIT_USAGE, "%s: line %zu: key '%s' given twice", st->file, line, name);
	/* pipelines/tsds reads key<TAB>value lines */
	const char *bad = strchr(v, '\t') != NULL ? "holds a tab" : wnw_yaml_check(cur->kind, v);
	if (bad != NULL)
		return wnw_errf(e, WNW_EXIT_USAGE, "%s: line %zu: %s: '%s' %s", st->file, line, name, wnw_quote(v, q),
				bad);
	if ((cur->value = strdup(v)) == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	return 0;
}

/* Reads a flat mapping of scalars into keys; dies with the file and line on anything else. */
static void read_yaml(struct wnw_cmd *cmd, const char *file, struct key *keys, size_t nkeys)
{
	struct settings st = {file, keys, nkeys};
	struct wnw_err e;

	if (wnw_yaml_map(file, 0, take_key, &st, &e) < 0)
		wnw_die(cmd, e.status == WNW_EXIT_SYSTEM ? WNW_EXIT_SYSTEM : WNW_EXIT_USAGE, "%s", e.msg);
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	/* The defaults are the TSDS reference's, those of tsds.mk, pipelines/tsds and the README. */
	struct key keys[] = {
		{"query_embedding_path", WNW_YAML_PATH, NULL, NULL},
		{"candidate_embedding_path", WNW_YAML_PATH, NULL, NULL},
		{"output_folder", WNW_YAML_PATH, NULL, NULL},
		{"sample_size", WNW_YAML_COUNT, "1000", NULL},
		{"alpha", WNW_YAML_FRACTION, "0.5", NULL},
		{"C", WNW_YAML_POSITIVE, "5", NULL},
		{"sigma", WNW_YAML_NONNEG, "0.75", NULL},
		{"max_K", WNW_YAML_COUNT, "5000", NULL},
		{"kde_K", WNW_YAML_COUNT, "1000", NULL},
		{"seed", WNW_YAML_WHOLE, "0", NULL},
	};
	size_t nkeys = sizeof keys / sizeof keys[0];

	wnw_cmd_init(&cmd, &spec, argc, argv);
	if (wnw_cmd_opt(&cmd) != -1)
		wnw_usage(&cmd, "unknown option");
	if (wnw_cmd_nargs(&cmd) != 1)
		wnw_usage(&cmd, "give one configuration file");
	const char *file = wnw_cmd_args(&cmd)[0];
	read_yaml(&cmd, file, keys, nkeys);
	for (size_t i = 0; i < nkeys; i++) {
		if (keys[i].value == NULL && keys[i].fallback == NULL)
			wnw_die(&cmd, WNW_EXIT_USAGE, "%s: key '%s' is missing", file, keys[i].name);
		printf("%s\t%s\n", keys[i].name, keys[i].value ? keys[i].value : keys[i].fallback);
		free(keys[i].value);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		wnw_die(&cmd, WNW_EXIT_SYSTEM, "stdout: write error");
	return wnw_cmd_done(&cmd);
}
