/* header.c: the header body of a winnow stream: the schema, then the provenance list (winnow(5)). */
#include <stdlib.h>
#include <string.h>

#include "format.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
	int failed;
};

static void put(struct buf *b, const void *src, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t ncap = (b->len + n) * 2;
		uint8_t *np = realloc(b->p, ncap);
		if (np == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(b, x, 4);
}

static void putstr(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	if (n > WNW_MAX_STRING)
		n = WNW_MAX_STRING;
	put32(b, (uint32_t)n);
	put(b, s, n);
}

int wnw_header_encode(const struct wnw_schema *s, uint8_t **out, size_t *len, struct wnw_err *e)
{
	struct buf b = {0};

	put32(&b, s->nfields);
	for (uint32_t i = 0; i < s->nfields; i++) {
		const struct wnw_field *f = &s->fields[i];
		uint8_t tl[2] = {f->type, (uint8_t)strlen(f->name)};
		put(&b, tl, 2);
		put(&b, f->name, tl[1]);
		put32(&b, f->dim);
	}
	put32(&b, s->nprov);
	for (uint32_t i = 0; i < s->nprov; i++) {
		const struct wnw_prov *p = &s->prov[i];
		putstr(&b, p->program);
		putstr(&b, p->version);
		putstr(&b, p->time);
		put32(&b, p->argc);
		for (uint32_t a = 0; a < p->argc; a++)
			putstr(&b, p->argv[a]);
	}
	if (b.failed || b.len > WNW_MAX_HEADER) {
		free(b.p);
		return wnw_errf(e, b.failed ? WNW_EXIT_SYSTEM : WNW_EXIT_DATA,
				b.failed ? "out of memory" : "header larger than %u bytes", WNW_MAX_HEADER);
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

struct cur {
	const uint8_t *p;
	size_t left;
};

static int get(struct cur *c, void *dst, size_t n)
{
	if (n > c->left)
		return -1;
	memcpy(dst, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

static int get32(struct cur *c, uint32_t *v)
{
	uint8_t x[4];
	if (get(c, x, 4) < 0)
		return -1;
	*v = wnw_le32(x);
	return 0;
}

/* A string must be printable text without NUL: it is shown by inspect and kept in later headers. */
static char *getstr(struct cur *c)
{
	uint32_t n;
	if (get32(c, &n) < 0 || n > WNW_MAX_STRING || n > c->left || memchr(c->p, 0, n) != NULL)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	get(c, s, n);
	s[n] = '\0';
	return s;
}

static int decode_prov(struct cur *c, struct wnw_prov *p)
{
	uint32_t argc;

	memset(p, 0, sizeof *p);
	if ((p->program = getstr(c)) == NULL || (p->version = getstr(c)) == NULL ||
	    (p->time = getstr(c)) == NULL || get32(c, &argc) < 0 || argc > c->left / 4)
		return -1;
	p->argv = calloc(argc ? argc : 1, sizeof *p->argv);
	if (p->argv == NULL)
		return -1;
	for (; p->argc < argc; p->argc++)
		if ((p->argv[p->argc] = getstr(c)) == NULL)
			return -1;
	return 0;
}

int wnw_header_decode(const uint8_t *p, size_t len, struct wnw_schema *s, struct wnw_err *e)
{
	struct cur c = {p, len};
	uint32_t nf, np;

	wnw_schema_init(s);
	if (get32(&c, &nf) < 0 || nf > WNW_MAX_FIELDS || nf > c.left / 6)
		return wnw_errf(e, WNW_EXIT_DATA, "bad field count");
	for (uint32_t i = 0; i < nf; i++) {
		uint8_t tl[2];
		char name[WNW_MAX_NAME + 1];
		uint32_t dim;
		if (get(&c, tl, 2) < 0 || tl[1] == 0 || get(&c, name, tl[1]) < 0 || get32(&c, &dim) < 0)
			goto bad_field;
		name[tl[1]] = '\0';
		if ((tl[0] == WNW_VEC) != (dim != 0) || wnw_schema_find(s, name) >= 0 ||
		    wnw_schema_set(s, name, tl[0], dim, e) < 0)
			goto bad_field;
		continue;
bad_field:
		wnw_schema_free(s);
		return wnw_errf(e, WNW_EXIT_DATA, "field %u is malformed or repeated", i + 1);
	}
	if (get32(&c, &np) < 0 || np > WNW_MAX_PROV || np > c.left / 16) {
		wnw_schema_free(s);
		return wnw_errf(e, WNW_EXIT_DATA, "bad provenance count");
	}
	s->prov = calloc(np ? np : 1, sizeof *s->prov);
	if (s->prov == NULL) {
		wnw_schema_free(s);
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	}
	for (; s->nprov < np; s->nprov++)
		if (decode_prov(&c, &s->prov[s->nprov]) < 0) {
			s->nprov++; /* so that the partial entry is freed */
			wnw_schema_free(s);
			return wnw_errf(e, WNW_EXIT_DATA, "provenance entry is malformed");
		}
	if (c.left != 0) {
		wnw_schema_free(s);
		return wnw_errf(e, WNW_EXIT_DATA, "%zu stray bytes after the provenance", c.left);
	}
	return 0;
}
