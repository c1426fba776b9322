/* schema.c: field types, schemas and provenance of a winnow stream (winnow(5)). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "winnow.h"

int wnw_errf(struct wnw_err *e, int status, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *const type_names[] = {NULL, "u64", "f32", "f64", "bytes", "vec", "nbr"};

const char *wnw_type_name(int type)
{
	if (type < WNW_U64 || type > WNW_NBR)
		return "unknown";
	return type_names[type];
}

int wnw_type_parse(const char *s, uint8_t *type, uint32_t *dim)
{
	*dim = 0;
	for (int t = WNW_U64; t <= WNW_NBR; t++)
		if (t != WNW_VEC && strcmp(s, type_names[t]) == 0) {
			*type = (uint8_t)t;
			return 0;
		}
	if (strcmp(s, "text") == 0) {
		*type = WNW_BYTES;
		return 0;
	}
	if (strncmp(s, "vec[", 4) == 0) {
		char *end;
		errno = 0;
		unsigned long d = strtoul(s + 4, &end, 10);
		if (errno == 0 && end != s + 4 && strcmp(end, "]") == 0 && d >= 1 && d <= WNW_MAX_DIM) {
			*type = WNW_VEC;
			*dim = (uint32_t)d;
			return 0;
		}
	}
	return -1;
}

void wnw_schema_init(struct wnw_schema *s)
{
	memset(s, 0, sizeof *s);
}

static void prov_free(struct wnw_prov *p)
{
	free(p->program);
	free(p->version);
	free(p->time);
	for (uint32_t i = 0; i < p->argc; i++)
		free(p->argv[i]);
	free(p->argv);
}

void wnw_schema_free(struct wnw_schema *s)
{
	for (uint32_t i = 0; i < s->nprov; i++)
		prov_free(&s->prov[i]);
	free(s->prov);
	free(s->fields);
	wnw_schema_init(s);
}

static int oom(struct wnw_err *e)
{
	return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
}

static int prov_make(struct wnw_prov *d, const char *program, const char *version, const char *time,
		     uint32_t argc, char *const *argv)
{
	memset(d, 0, sizeof *d);
	d->program = strdup(program);
	d->version = strdup(version);
	d->time = strdup(time);
	d->argv = calloc(argc ? argc : 1, sizeof *d->argv);
	if (!d->program || !d->version || !d->time || !d->argv) {
		prov_free(d);
		return -1;
	}
	for (; d->argc < argc; d->argc++)
		if ((d->argv[d->argc] = strdup(argv[d->argc])) == NULL) {
			prov_free(d);
			return -1;
		}
	return 0;
}

static int prov_copy(struct wnw_prov *d, const struct wnw_prov *s)
{
	return prov_make(d, s->program, s->version, s->time, s->argc, s->argv);
}

int wnw_schema_copy(struct wnw_schema *dst, const struct wnw_schema *src, struct wnw_err *e)
{
	wnw_schema_init(dst);
	dst->fields = malloc((src->nfields ? src->nfields : 1) * sizeof *dst->fields);
	dst->prov = calloc(src->nprov ? src->nprov : 1, sizeof *dst->prov);
	if (!dst->fields || !dst->prov) {
		wnw_schema_free(dst);
		return oom(e);
	}
	if (src->nfields > 0) /* a zero-field schema may have no array to copy from */
		memcpy(dst->fields, src->fields, src->nfields * sizeof *dst->fields);
	dst->nfields = src->nfields;
	for (; dst->nprov < src->nprov; dst->nprov++)
		if (prov_copy(&dst->prov[dst->nprov], &src->prov[dst->nprov]) < 0) {
			wnw_schema_free(dst);
			return oom(e);
		}
	return 0;
}

int wnw_schema_find(const struct wnw_schema *s, const char *name)
{
	for (uint32_t i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Names are 1..255 bytes of [A-Za-z0-9_.-], so they never need quoting in messages, TSV or YAML. */
static int valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > WNW_MAX_NAME)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '.' || *p == '-'))
			return 0;
	return 1;
}

int wnw_schema_set(struct wnw_schema *s, const char *name, int type, uint32_t dim, struct wnw_err *e)
{
	int i = wnw_schema_find(s, name);

	if (type == 0)
		return i;
	if (!valid_name(name))
		return wnw_errf(e, WNW_EXIT_USAGE, "bad field name '%s': 1 to 255 of A-Z a-z 0-9 _ . -", name);
	if (type < WNW_U64 || type > WNW_NBR || (type == WNW_VEC && (dim < 1 || dim > WNW_MAX_DIM)))
		return wnw_errf(e, WNW_EXIT_USAGE, "field '%s': bad type or dimension", name);
	if (i < 0) {
		if (s->nfields >= WNW_MAX_FIELDS)
			return wnw_errf(e, WNW_EXIT_USAGE, "too many fields (at most %u)", WNW_MAX_FIELDS);
		struct wnw_field *f = realloc(s->fields, (s->nfields + 1) * sizeof *f);
		if (f == NULL)
			return oom(e);
		s->fields = f;
		i = (int)s->nfields++;
		snprintf(s->fields[i].name, sizeof s->fields[i].name, "%s", name);
	}
	s->fields[i].type = (uint8_t)type;
	s->fields[i].dim = type == WNW_VEC ? dim : 0;
	return i;
}

int wnw_schema_remove(struct wnw_schema *s, const char *name)
{
	int i = wnw_schema_find(s, name);

	if (i < 0)
		return -1;
	memmove(&s->fields[i], &s->fields[i + 1], (s->nfields - (uint32_t)i - 1) * sizeof *s->fields);
	s->nfields--;
	return 0;
}

long wnw_schema_index(const struct wnw_schema *s, const uint8_t *d, uint32_t len, uint32_t *off)
{
	uint64_t at = 0;

	for (uint32_t i = 0; i < s->nfields; i++) {
		const struct wnw_field *f = &s->fields[i];
		uint64_t size;
		off[i] = (uint32_t)(at <= len ? at : len);
		switch (f->type) {
		case WNW_U64:
		case WNW_F64:
			size = 8;
			break;
		case WNW_F32:
			size = 4;
			break;
		case WNW_VEC:
			size = 4ull * f->dim;
			break;
		default: /* bytes and nbr: a u32 count first */
			if (at + 4 > len)
				return (long)i + 1;
			size = 4 + (uint64_t)wnw_le32(d + at) * (f->type == WNW_NBR ? WNW_NBR_SIZE : 1);
			break;
		}
		if (at + size > len)
			return (long)i + 1;
		at += size;
	}
	off[s->nfields] = (uint32_t)at;
	return at == len ? 0 : -1;
}

int wnw_schema_same_fields(const struct wnw_schema *a, const struct wnw_schema *b)
{
	if (a->nfields != b->nfields)
		return 0;
	for (uint32_t i = 0; i < a->nfields; i++)
		if (strcmp(a->fields[i].name, b->fields[i].name) != 0 || a->fields[i].type != b->fields[i].type ||
		    a->fields[i].dim != b->fields[i].dim)
			return 0;
	return 1;
}

/* UTC time of this run; SOURCE_DATE_EPOCH (reproducible-builds convention) pins it so that two runs can
 * produce byte-identical files. */
static void utc_now(char *buf, size_t len)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t t = time(NULL);
	struct tm tm;

	if (sde != NULL && *sde != '\0') {
		char *end;
		errno = 0;
		long long v = strtoll(sde, &end, 10);
		if (errno == 0 && *end == '\0' && v >= 0)
			t = (time_t)v;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int wnw_schema_add_prov(struct wnw_schema *s, const char *program, int argc, char *const *argv,
			struct wnw_err *e)
{
	char now[32];

	if (s->nprov >= WNW_MAX_PROV)
		return wnw_errf(e, WNW_EXIT_DATA, "provenance list full (%u entries)", WNW_MAX_PROV);
	struct wnw_prov *np = realloc(s->prov, (s->nprov + 1) * sizeof *np);
	if (np == NULL)
		return oom(e);
	s->prov = np;
	utc_now(now, sizeof now);
	if (prov_make(&s->prov[s->nprov], program, WNW_VERSION, now, argc > 0 ? (uint32_t)argc : 0, argv) < 0)
		return oom(e);
	s->nprov++;
	return 0;
}

void wnw_schema_describe(const struct wnw_schema *s, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (uint32_t i = 0; i < s->nfields && used < len; i++) {
		const struct wnw_field *f = &s->fields[i];
		int n = f->type == WNW_VEC
				? snprintf(buf + used, len - used, "%s%s:vec[%u]", i ? "," : "", f->name, f->dim)
				: snprintf(buf + used, len - used, "%s%s:%s", i ? "," : "", f->name,
					   wnw_type_name(f->type));
		if (n < 0)
			break;
		used += (size_t)n;
	}
}
