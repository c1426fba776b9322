/* prog.h: what every winnow program shares around its main loop: options (with --config YAML),
 * messages, exit statuses, progress, and the die-on-error wrappers of the stream library.
 * Unlike winnow.h, this part prints and exits, on behalf of the program. */
#ifndef WINNOW_PROG_H
#define WINNOW_PROG_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "textout.h"
#include "winnow.h"

/* Shared options a program may accept, as flags of struct wnw_spec.common. */
enum {
	WNW_OPT_OUTPUT = 1 << 0,  /* -o FILE, -z [LEVEL] */
	WNW_OPT_THREADS = 1 << 1, /* -j N */
	WNW_OPT_PROGRESS = 1 << 2 /* --progress */
};

/* The first code of a program's long-only options (its enum of OPT_ names starts here), clear of
 * every character and of the shared options' codes. */
#define WNW_OPT_LONG 0x100

struct wnw_spec {
	const char *name;     /* program name */
	const char *synopsis; /* usage line(s) after the name, as in the man page SYNOPSIS */
	const char *help;     /* program-specific option help, one option a line */
	const char *shortopts;
	const struct option *longopts; /* terminated by a zero entry */
	unsigned common;
};

/* The program's state around its options; one per process, passed explicitly. */
struct wnw_cmd {
	const struct wnw_spec *spec;
	int argc;    /* effective arguments: --config entries first, then the command line */
	char **argv;
	char *optarg;
	const char *output; /* -o FILE or NULL for stdout */
	int zlevel;         /* 0 plain; -z gives WINNOW_ZSTD_LEVEL or 3 */
	int progress;       /* --progress, or stderr is a terminal */
	int threads;        /* -j N; default: $WINNOW_THREADS, or the online CPUs (1 without WNW_OPT_THREADS) */
	int threads_given;  /* -j N was given */
	int force;          /* -f, --force: binary output even to a terminal */
	uint32_t max_record; /* --max-record SIZE: the largest input record held (wnw_reader_set_max_record) */
	struct wnw_writer **outs; /* open outputs, removed on die() */
	int nouts, capouts;
	struct wnw_tout **touts; /* open text outputs, removed on die() */
	int ntouts, captouts;
	void (*on_die)(void *); /* called by wnw_die before it exits */
	void *on_die_arg;
	double prog_start, prog_last; /* progress clock */
	struct option *allopts;
	char *allshort;
	char *lists;            /* options --config gave as YAML lists: "name\tFILE: line N\n" each */
	const char *repeatable; /* options the program takes more than once, ",a,b,"; see below */
};

/* Sets up cmd: reads --config, builds the option tables. Exits 2 on a bad configuration. */
void wnw_cmd_init(struct wnw_cmd *cmd, const struct wnw_spec *spec, int argc, char **argv);
/* Next program-specific option (as getopt_long returns it, optarg in cmd->optarg), -1 at the end.
 * Handles --help, --version, --config, and the shared options the spec enables. */
int wnw_cmd_opt(struct wnw_cmd *cmd);
/* Names the long options the program takes more than once, as ",field,vectors,", so that --config
 * may give them as YAML lists. Call it before wnw_cmd_opt: the first wnw_cmd_opt refuses a list for
 * any other option (getopt would silently keep its last element), a usage error naming its line. */
void wnw_cmd_repeatable(struct wnw_cmd *cmd, const char *names);
/* Operands after the options. */
int wnw_cmd_nargs(const struct wnw_cmd *cmd);
char **wnw_cmd_args(const struct wnw_cmd *cmd);
/* The one input operand of a filter, NULL for standard input; more than one is a usage error. */
const char *wnw_cmd_input(const struct wnw_cmd *cmd);

/* Registers fn(arg) to run when the program dies (e.g. to remove a temporary file); NULL removes it. */
void wnw_cmd_on_die(struct wnw_cmd *cmd, void (*fn)(void *), void *arg);

/* Messages: "prog: ..." on stderr. The dying ones say noreturn as an attribute, which cppcheck's
 * whole-program checks understand (C11's _Noreturn they do not). */
void wnw_warn(const struct wnw_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wnw_die(const struct wnw_cmd *cmd, int status, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
/* Dies with e's message and status (quietly with 0 for a closed downstream pipe). */
void wnw_die_err(const struct wnw_cmd *cmd, const struct wnw_err *e) __attribute__((noreturn));
void wnw_usage(const struct wnw_cmd *cmd, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* The id of rec as messages show it, in buf: its string id in double quotes (field sid, winnow(5)
 * "String ids"; at most 200 bytes of it, control bytes escaped) when the stream has string ids, else the
 * u64 of field fid. Returns buf. */
#define WNW_ID_TEXT 1024
const char *wnw_id_text(char buf[WNW_ID_TEXT], const struct wnw_rec *rec, int fid);

/* Number parsing for options: range-checked, dies with a usage error quoting the bad value. */
uint64_t wnw_opt_u64(const struct wnw_cmd *cmd, const char *opt, const char *s, uint64_t min, uint64_t max);
double wnw_opt_double(const struct wnw_cmd *cmd, const char *opt, const char *s, double min, double max);
/* Sizes such as 512M, 2G (like sort -S); bytes. */
uint64_t wnw_opt_size(const struct wnw_cmd *cmd, const char *opt, const char *s);

/* Die-on-error wrappers; wnw_xopen's reader refuses records over cmd->max_record. The writer is opened on cmd->output with cmd->zlevel, after the program's
 * provenance entry has been appended to a copy of s. */
struct wnw_reader *wnw_xopen(struct wnw_cmd *cmd, const char *path);
int wnw_xnext(struct wnw_cmd *cmd, struct wnw_reader *r, struct wnw_rec *rec);
struct wnw_writer *wnw_xcreate(struct wnw_cmd *cmd, const struct wnw_schema *s);
void wnw_xend(struct wnw_cmd *cmd, struct wnw_writer *w);
void wnw_xclose(struct wnw_cmd *cmd, struct wnw_writer *w);
/* Dies with a usage error when binary output would go to a terminal (stdout is one, no -o FILE) and
 * neither -f nor --force was given. wnw_xcreate calls it; so does a program writing other binary
 * output (unpack --npy). */
void wnw_xrefuse_tty(const struct wnw_cmd *cmd);
/* A text output (textout.h) that is removed when the program dies, as stream outputs are; path NULL or
 * "-" is stdout. wnw_xtout_close commits it, dying on a write error. */
struct wnw_tout *wnw_xtout_open(struct wnw_cmd *cmd, const char *path, int zlevel);
void wnw_xtout_close(struct wnw_cmd *cmd, struct wnw_tout *t);
/* Field lookup that dies naming the stream when the field is missing or of another type
 * (type 0: any type; for WNW_VEC, *dim receives the dimension when dim is not NULL). */
int wnw_xfield(const struct wnw_cmd *cmd, const struct wnw_reader *r, const char *name, int type,
	       uint32_t *dim);

/* The output schema of a one-field filter: a copy of in (Netpbm's outpam = inpam), with field name of
 * this type set through the edit ed (winnow.h); name NULL: the copy alone. Dies on an error. */
void wnw_xedit(const struct wnw_cmd *cmd, const struct wnw_schema *in, struct wnw_schema *out, struct wnw_edit *ed,
	       const char *name, int type, uint32_t dim);

/* Progress on stderr (records, bytes, rate, ETA) when cmd->progress; call per record, cheap. */
void wnw_progress(struct wnw_cmd *cmd, const struct wnw_reader *r);
void wnw_progress_done(struct wnw_cmd *cmd, const struct wnw_reader *r);
/* The same for input that is not a stream: records so far, bytes read of total (0: unknown). */
void wnw_progress_at(struct wnw_cmd *cmd, uint64_t records, uint64_t done, uint64_t total, int last);

/* Allocators that die when memory runs out: they never return NULL. */
void *wnw_xmalloc(const struct wnw_cmd *cmd, size_t n) __attribute__((returns_nonnull, malloc));
void *wnw_xcalloc(const struct wnw_cmd *cmd, size_t n, size_t size) __attribute__((returns_nonnull, malloc));
void *wnw_xrealloc(const struct wnw_cmd *cmd, void *p, size_t n) __attribute__((returns_nonnull));

struct wnw_pool;
/* A thread pool of nthreads (par.h), or dies "cannot start N threads". */
struct wnw_pool *wnw_xpool(const struct wnw_cmd *cmd, int nthreads);
/* Dies "cannot start N threads", nthreads counting the calling thread as the pool's do: the one
 * wording for a program that could not start its threads. */
_Noreturn void wnw_die_threads(const struct wnw_cmd *cmd, int nthreads);

struct wnw_vecs;
/* Adds record rec's vector (field fv, named field, of the input r) to x with this id, or dies: out of
 * memory, a component not finite, or a squared norm past a float (naming the input and record). */
void wnw_xvecs_add(const struct wnw_cmd *cmd, struct wnw_vecs *x, const struct wnw_reader *r,
		   const struct wnw_rec *rec, int fv, const char *field, uint64_t id);

/* Releases what wnw_cmd_init took; returns WNW_EXIT_OK, for `return wnw_cmd_done(&cmd);` at the
 * end of main. */
int wnw_cmd_done(struct wnw_cmd *cmd);

#endif
