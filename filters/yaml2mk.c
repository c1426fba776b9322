/* yaml2mk: turns a YAML mapping of recipe parameters into make(1) variable assignments, so that the
 * recipes in pipelines/ can take their parameters from a YAML file (such as the TSDS reference's
 * config.yaml) as well as from the command line. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "prog.h"
#include "yamlmap.h"

static const struct option longopts[] = {{NULL, 0, NULL, 0}};

static const struct wnw_spec spec = {
	"yaml2mk",
	"[FILE]",
	"Prints each key: value of the YAML mapping FILE (default: stdin) as KEY = value, the key in\n"
	"upper case; keys of the TSDS reference's config.yaml get the recipes' names (see yaml2mk(1)).\n",
	"",
	longopts,
	0,
};

/* The TSDS reference's keys and the names the recipes use for them. */
static const char *const renames[][2] = {
	{"sample_size", "N"},
	{"max_k", "K"},
	{"kde_k", "KDE_K"},
	{"query_embedding_path", "QUERY_NPY"},
	{"candidate_embedding_path", "POOL_NPY"},
	{"output_folder", "OUT"},
};

/* Prints key: value as a make assignment; make would expand $ and end the value at # or a newline,
 * so the first two are escaped and the last refused. */
static int print_var(void *ctx, const char *key, const char *val, size_t line, struct wnw_err *e)
{
	const char *file = *(const char **)ctx;
	char name[256];
	size_t n = strlen(key);

	if (n == 0 || n >= sizeof name)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: bad key", file, line);
	for (size_t i = 0; i <= n; i++)
		name[i] = (char)tolower((unsigned char)key[i]);
	for (size_t i = 0; i < sizeof renames / sizeof renames[0]; i++)
		if (strcmp(name, renames[i][0]) == 0)
			snprintf(name, sizeof name, "%s", renames[i][1]);
	for (char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_')
			return wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: key '%s' is not a make variable name",
					file, line, key);
		*p = (char)toupper((unsigned char)*p);
	}
	if (strpbrk(val, "\n\\") != NULL)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: line %zu: value of '%s' holds a newline or backslash", file,
				line, key);
	printf("%s = ", name);
	for (const char *p = val; *p; p++) {
		if (*p == '$')
			putchar('$');
		if (*p == '#')
			putchar('\\');
		putchar(*p);
	}
	putchar('\n');
	return 0;
}

int main(int argc, char **argv)
{
	struct wnw_cmd cmd;
	struct wnw_err e;

	wnw_cmd_init(&cmd, &spec, argc, argv);
	if (wnw_cmd_opt(&cmd) != -1)
		wnw_usage(&cmd, "unexpected option");
	if (wnw_cmd_nargs(&cmd) > 1)
		wnw_usage(&cmd, "at most one FILE");
	const char *file = wnw_cmd_nargs(&cmd) ? wnw_cmd_args(&cmd)[0] : "-";
	const char *name = strcmp(file, "-") != 0 ? file : "stdin";
	if (wnw_yaml_map(file, 0, print_var, &name, &e) < 0)
		wnw_die_err(&cmd, &e);
	if (fflush(stdout) != 0 || ferror(stdout))
		wnw_die(&cmd, WNW_EXIT_SYSTEM, "stdout: write error");
	return wnw_cmd_done(&cmd);
}
