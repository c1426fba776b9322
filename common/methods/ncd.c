/* ncd.c: the exact ZIP-FIT score over zlib deflate sizes and the fast score over a zstd dictionary
 * (see ncd.h for the definitions). */
#define ZLIB_CONST
#define ZSTD_STATIC_LINKING_ONLY
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zlib.h>
#include <zstd.h>

#include "ncd.h"

#define SINK_SIZE (1u << 16)   /* deflate output goes here and is dropped: only its length counts */
#define FEED_MAX (1u << 30)    /* largest piece handed to zlib at once (avail_in is an unsigned int) */
#define ZCACHE_SLOTS 32        /* five blocks per deflate state: exact mode has two, fast mode up to
				 * NCD_FAST_SLOTS and a copy */
#define ZLIB_DICT_MAX 32768u   /* deflate can only reach back this far */
#define TRAINED_DICT_MAX 112640u

/* A tiny allocator for zlib: blocks freed by deflateEnd are kept and handed back to the next
 * allocation of the same size, so that deflateCopy per pair reuses the memory of the previous pair
 * and the scorer allocates only while it warms up. */
struct zcache {
	void *p[ZCACHE_SLOTS];
	size_t size[ZCACHE_SLOTS];
	int busy[ZCACHE_SLOTS];
};

struct ncd_exact {
	int level, prime;
	z_stream base; /* the primed state: x fed, not finished */
	z_stream copy; /* a copy of base per target */
	struct zcache cache;
	uint8_t *sink;
	uint8_t *cat; /* x ++ t when not priming */
	size_t catcap;
	uint64_t *sizes; /* C(x ++ t) per target */
	size_t nsizes;
};

static voidpf zc_alloc(voidpf opaque, uInt items, uInt size)
{
	struct zcache *c = opaque;
	size_t n = (size_t)items * size;
	int empty = -1;

	for (int i = 0; i < ZCACHE_SLOTS; i++) {
		if (c->p[i] == NULL) {
			if (empty < 0)
				empty = i;
		} else if (!c->busy[i] && c->size[i] == n) {
			c->busy[i] = 1;
			return c->p[i];
		}
	}
	void *p = malloc(n);
	if (p != NULL && empty >= 0) {
		c->p[empty] = p;
		c->size[empty] = n;
		c->busy[empty] = 1;
	}
	return p;
}

static void zc_free(voidpf opaque, voidpf p)
{
	struct zcache *c = opaque;

	for (int i = 0; i < ZCACHE_SLOTS; i++)
		if (c->p[i] == p) {
			c->busy[i] = 0;
			return;
		}
	free(p);
}

static void zc_release(struct zcache *c)
{
	for (int i = 0; i < ZCACHE_SLOTS; i++) {
		free(c->p[i]);
		c->p[i] = NULL;
	}
}

static int deflate_open(z_stream *z, struct zcache *c, int level)
{
	memset(z, 0, sizeof *z);
	z->zalloc = zc_alloc;
	z->zfree = zc_free;
	z->opaque = c;
	return deflateInit2(z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK ? 0 : -1;
}

/* Feeds p[0, n) to z, finishing the stream when finish is set; output goes to the sink. The sizes
 * are the same whatever the pieces (zlib decides matches and blocks only on bytes it holds with a full
 * lookahead, or at the final flush), which tests/unit/ncd.c checks against one-call compression. */
static int feed(z_stream *z, uint8_t *sink, const uint8_t *p, size_t n, int finish)
{
	z->next_in = p;
	for (;;) {
		uInt piece = n > FEED_MAX ? FEED_MAX : (uInt)n;
		int flush = finish && piece == n ? Z_FINISH : Z_NO_FLUSH;
		int rc;

		z->avail_in = piece;
		n -= piece;
		do {
			z->next_out = sink;
			z->avail_out = SINK_SIZE;
			rc = deflate(z, flush);
			if (rc == Z_STREAM_ERROR)
				return -1;
		} while (z->avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
		if (n == 0)
			return 0;
	}
}

struct ncd_exact *ncd_exact_new(int level, int prime, struct wnw_err *e)
{
	struct ncd_exact *sc;

	if (level < 1 || level > 9) {
		wnw_errf(e, WNW_EXIT_USAGE, "gzip level %d is not in 1..9", level);
		return NULL;
	}
	sc = calloc(1, sizeof *sc);
	if (sc == NULL || (sc->sink = malloc(SINK_SIZE)) == NULL)
		goto oom;
	sc->level = level;
	sc->prime = prime;
	if (deflate_open(&sc->base, &sc->cache, level) < 0)
		goto oom;
	return sc;
oom:
	if (sc != NULL)
		free(sc->sink);
	free(sc);
	wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for a deflate state");
	return NULL;
}

void ncd_exact_free(struct ncd_exact *sc)
{
	if (sc == NULL)
		return;
	deflateEnd(&sc->base);
	zc_release(&sc->cache);
	free(sc->sink);
	free(sc->cat);
	free(sc->sizes);
	free(sc);
}

static int zfail(struct wnw_err *e, const char *what)
{
	return wnw_errf(e, WNW_EXIT_SYSTEM, "zlib: %s failed (out of memory?)", what);
}

int ncd_gzip_size(struct ncd_exact *sc, const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
		  uint64_t *size, struct wnw_err *e)
{
	z_stream *z = &sc->base;

	if (deflateReset(z) != Z_OK || feed(z, sc->sink, a, na, b == NULL) < 0 ||
	    (b != NULL && feed(z, sc->sink, b, nb, 1) < 0))
		return zfail(e, "deflate");
	*size = (uint64_t)z->total_out + NCD_GZIP_OVERHEAD;
	return 0;
}

double ncd_from_sizes(uint64_t cxt, uint64_t cx, uint64_t ct)
{
	double lo = (double)(cx < ct ? cx : ct), hi = (double)(cx < ct ? ct : cx);

	return ((double)cxt - lo) / hi;
}

/* Finishes a copy of the primed base state with t appended: C(x ++ t). The copy's blocks come back
 * from the cache, so no memory is allocated once the scorer is warm. */
static int primed_size(struct ncd_exact *sc, const uint8_t *t, size_t n, int last, uint64_t *size)
{
	z_stream *z = &sc->base;

	if (!last) {
		if (deflateCopy(&sc->copy, &sc->base) != Z_OK)
			return -1;
		z = &sc->copy;
	}
	int rc = feed(z, sc->sink, t, n, 1);
	*size = (uint64_t)z->total_out + NCD_GZIP_OVERHEAD;
	if (!last)
		deflateEnd(&sc->copy);
	return rc;
}

static int scratch_size(struct ncd_exact *sc, const uint8_t *x, size_t nx, const uint8_t *t, size_t nt,
			uint64_t *size, struct wnw_err *e)
{
	if (nx + nt > sc->catcap) {
		uint8_t *p = realloc(sc->cat, nx + nt);
		if (p == NULL)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for %zu bytes", nx + nt);
		sc->cat = p;
		sc->catcap = nx + nt;
	}
	if (nx > 0)
		memcpy(sc->cat, x, nx);
	if (nt > 0)
		memcpy(sc->cat + nx, t, nt);
	return ncd_gzip_size(sc, sc->cat, nx + nt, NULL, 0, size, e);
}

/* Priming costs a copy of the whole deflate state (about 256 KiB of memcpy) per target and saves the
 * matching of x: measured on text, that pays from about 512 bytes of x with lazy matching (levels
 * 4-9) and from about 2 KiB with the greedy matcher of levels 1-3. */
static int use_prime(const struct ncd_exact *sc, size_t n)
{
	if (sc->prime != NCD_PRIME_AUTO)
		return sc->prime;
	return n >= (sc->level >= 4 ? 512u : 2048u);
}

int ncd_exact_sizes(struct ncd_exact *sc, const struct ncd_targets *ts, const uint8_t *x, size_t n,
		    uint64_t *cx, uint64_t *cxt, struct wnw_err *e)
{
	if (ts->level != sc->level)
		return wnw_errf(e, WNW_EXIT_USAGE, "targets sized at level %d, scorer at level %d", ts->level,
				sc->level);
	if (!use_prime(sc, n)) {
		if (ncd_gzip_size(sc, x, n, NULL, 0, cx, e) < 0)
			return -1;
		/* prime 0 is the reference: one call over a contiguous x ++ t; otherwise x and then t
		 * are fed to a fresh stream, with no copy of x ++ t in memory */
		for (size_t i = 0; i < ts->n; i++)
			if ((sc->prime == 0 ? scratch_size(sc, x, n, ts->text[i], ts->len[i], &cxt[i], e)
					    : ncd_gzip_size(sc, x, n, ts->text[i], ts->len[i], &cxt[i], e)) < 0)
				return -1;
		return 0;
	}
	if (deflateReset(&sc->base) != Z_OK || feed(&sc->base, sc->sink, x, n, 0) < 0)
		return zfail(e, "deflate");
	/* C(x) from a copy too: finishing the primed state with nothing more gives x's own size */
	if (primed_size(sc, NULL, 0, ts->n == 0, cx) < 0)
		return zfail(e, "deflate");
	for (size_t i = 0; i < ts->n; i++)
		if (primed_size(sc, ts->text[i], ts->len[i], i + 1 == ts->n, &cxt[i]) < 0)
			return zfail(e, "deflate");
	return 0;
}

int ncd_exact_score(struct ncd_exact *sc, const struct ncd_targets *ts, const uint8_t *x, size_t n,
		    double *score, struct wnw_err *e)
{
	uint64_t cx = 0;
	double sum = 0;

	if (ts->n == 0)
		return wnw_errf(e, WNW_EXIT_USAGE, "no targets");
	if (ts->n > sc->nsizes) {
		uint64_t *p = realloc(sc->sizes, ts->n * sizeof *p);
		if (p == NULL)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for %zu sizes", ts->n);
		sc->sizes = p;
		sc->nsizes = ts->n;
	}
	if (ncd_exact_sizes(sc, ts, x, n, &cx, sc->sizes, e) < 0)
		return -1;
	for (size_t i = 0; i < ts->n; i++)
		sum += ncd_from_sizes(sc->sizes[i], cx, ts->csize[i]);
	*score = 1.0 - sum / (double)ts->n;
	return 0;
}

int ncd_targets_init(struct ncd_targets *ts, int level, struct wnw_err *e)
{
	memset(ts, 0, sizeof *ts);
	if (level < 0 || level > 9)
		return wnw_errf(e, WNW_EXIT_USAGE, "gzip level %d is not in 1..9 (or 0: texts without sizes)",
				level);
	ts->level = level;
	return 0;
}

int ncd_targets_add(struct ncd_targets *ts, struct ncd_exact *sc, const uint8_t *p, size_t n,
		    struct wnw_err *e)
{
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? 2 * ts->cap : 64;
		uint8_t **text = realloc(ts->text, cap * sizeof *text);
		if (text != NULL)
			ts->text = text;
		size_t *len = realloc(ts->len, cap * sizeof *len);
		if (len != NULL)
			ts->len = len;
		uint64_t *cs = realloc(ts->csize, cap * sizeof *cs);
		if (cs != NULL)
			ts->csize = cs;
		if (text == NULL || len == NULL || cs == NULL)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for %zu targets", cap);
		ts->cap = cap;
	}
	uint8_t *copy = malloc(n > 0 ? n : 1);
	if (copy == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for a target of %zu bytes", n);
	if (n > 0)
		memcpy(copy, p, n);
	ts->csize[ts->n] = 0;
	if (sc != NULL && ncd_gzip_size(sc, copy, n, NULL, 0, &ts->csize[ts->n], e) < 0) {
		free(copy);
		return -1;
	}
	ts->text[ts->n] = copy;
	ts->len[ts->n] = n;
	ts->n++;
	ts->bytes += n;
	return 0;
}

void ncd_targets_free(struct ncd_targets *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		free(ts->text[i]);
	free(ts->text);
	free(ts->len);
	free(ts->csize);
	memset(ts, 0, sizeof *ts);
}

/* ---- fast mode ---- */

struct ncd_fast_dict {
	enum ncd_fast_kind kind;
	int level;
	uint8_t *content; /* the dictionary bytes */
	size_t size;
	ZSTD_CDict *cdict; /* zstd kinds, when size > 0 */
};

/* One dictionary as a thread uses it: a zstd context that refers to it, or a deflate state that has
 * hashed it once (copied per example instead of hashing the dictionary again). */
struct fast_slot {
	const struct ncd_fast_dict *d;
	ZSTD_CCtx *zc;
	z_stream z;
	int z_open;
};

struct ncd_fast {
	struct fast_slot slot[NCD_FAST_SLOTS];
	size_t nslot;
	z_stream copy;
	struct zcache cache;
	uint8_t *out;
	size_t outcap;
};

/* The texts end to end, the last one nearest to the data (cheapest offsets); only the last keep bytes
 * when keep is smaller than the total. */
static uint8_t *concat_texts(const struct ncd_targets *ts, size_t keep, size_t *size)
{
	size_t total = (size_t)ts->bytes, skip = total > keep ? total - keep : 0;
	uint8_t *p = malloc(total - skip > 0 ? total - skip : 1), *q = p;

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < ts->n; i++) {
		size_t len = ts->len[i], from = skip < len ? skip : len;
		memcpy(q, ts->text[i] + from, len - from);
		q += len - from;
		skip -= from;
	}
	*size = (size_t)(q - p);
	return p;
}

static int train(struct ncd_fast_dict *d, const struct ncd_targets *ts, struct wnw_err *e)
{
	size_t n, cap = (size_t)ts->bytes / 4;
	uint8_t *samples = concat_texts(ts, (size_t)ts->bytes, &n);

	if (cap > TRAINED_DICT_MAX)
		cap = TRAINED_DICT_MAX;
	if (cap < 256)
		cap = 256;
	d->content = malloc(cap);
	if (samples == NULL || d->content == NULL) {
		free(samples);
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for dictionary training");
	}
	size_t r = ZDICT_trainFromBuffer(d->content, cap, samples, ts->len, (unsigned)ts->n);
	free(samples);
	if (ZDICT_isError(r))
		return wnw_errf(e, WNW_EXIT_DATA, "cannot train a dictionary on %zu texts: %s", ts->n,
				ZDICT_getErrorName(r));
	d->size = r;
	return 0;
}

struct ncd_fast_dict *ncd_fast_dict_new(const struct ncd_targets *ts, enum ncd_fast_kind kind, int level,
					struct wnw_err *e)
{
	struct ncd_fast_dict *d = calloc(1, sizeof *d);

	if (d == NULL) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	d->kind = kind;
	d->level = level;
	if (ts->n == 0)
		return d; /* no dictionary: plain compression */
	if (kind == NCD_FAST_ZSTD_TRAINED) {
		if (train(d, ts, e) < 0)
			goto fail;
	} else {
		size_t keep = kind == NCD_FAST_ZLIB ? ZLIB_DICT_MAX : NCD_FAST_DICT_MAX;
		d->content = concat_texts(ts, keep, &d->size);
		if (d->content == NULL) {
			wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for the dictionary");
			goto fail;
		}
	}
	if (kind != NCD_FAST_ZLIB && d->size > 0) {
		ZSTD_compressionParameters cp = ZSTD_getCParams(level, 0, d->size);
		/* Match tables of one entry per 8 bytes of dictionary at most: for the usual target sets
		 * (100 KB), gzfit's four dictionaries' tables then stay in the L2 cache, which made fast mode 20%
		 * faster on the evaluation corpus with selection as good. */
		unsigned cap = 10;
		while (cap < 30 && ((size_t)8 << cap) < d->size)
			cap++;
		cp.hashLog = cp.hashLog < cap ? cp.hashLog : cap;
		cp.chainLog = cp.chainLog < cap ? cp.chainLog : cap;
		ZSTD_dictContentType_e ct = kind == NCD_FAST_ZSTD_RAW ? ZSTD_dct_rawContent : ZSTD_dct_fullDict;
		d->cdict = ZSTD_createCDict_advanced(d->content, d->size, ZSTD_dlm_byRef, ct, cp, ZSTD_defaultCMem);
		if (d->cdict == NULL) {
			wnw_errf(e, WNW_EXIT_SYSTEM, "cannot build a zstd dictionary of %zu bytes", d->size);
			goto fail;
		}
	}
	return d;
fail:
	ncd_fast_dict_free(d);
	return NULL;
}

void ncd_fast_dict_free(struct ncd_fast_dict *d)
{
	if (d == NULL)
		return;
	ZSTD_freeCDict(d->cdict);
	free(d->content);
	free(d);
}

size_t ncd_fast_dict_size(const struct ncd_fast_dict *d)
{
	return d->size;
}

/* Frames without content size, checksum or dictionary id, so that the sizes with and without a
 * dictionary carry the same header; a dictionary's window reaches back over all of it from the end of
 * an example up to 1 MiB. Literals are stored, not Huffman-coded: what a dictionary can change is the
 * matches, and the literals' coding only adds noise to the comparison (and a third of the time). */
static int zstd_open(struct fast_slot *s)
{
	const struct ncd_fast_dict *d = s->d;
	ZSTD_CCtx *c = s->zc = ZSTD_createCCtx();
	int wlog = 10;

	if (c == NULL || ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, d->level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_literalCompressionMode, ZSTD_ps_disable)))
		return -1;
	if (d->cdict == NULL)
		return 0;
	while (wlog < 24 && ((size_t)1 << wlog) < d->size + (1u << 20))
		wlog++;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog)) ||
	    ZSTD_isError(ZSTD_CCtx_refCDict(c, d->cdict)))
		return -1;
	return 0;
}

static int slot_open(struct ncd_fast *f, struct fast_slot *s)
{
	if (s->d->kind != NCD_FAST_ZLIB)
		return zstd_open(s);
	if (deflate_open(&s->z, &f->cache, s->d->level) < 0)
		return -1;
	s->z_open = 1;
	if (s->d->size > 0 && deflateSetDictionary(&s->z, s->d->content, (uInt)s->d->size) != Z_OK)
		return -1;
	return 0;
}

struct ncd_fast *ncd_fast_new(const struct ncd_fast_dict *const *dicts, size_t n, struct wnw_err *e)
{
	struct ncd_fast *f = NULL;

	if (n > NCD_FAST_SLOTS) {
		wnw_errf(e, WNW_EXIT_SYSTEM, "at most %d dictionaries per scorer", NCD_FAST_SLOTS);
		return NULL;
	}
	f = calloc(1, sizeof *f);
	if (f == NULL || (f->out = malloc(SINK_SIZE)) == NULL)
		goto oom;
	f->outcap = SINK_SIZE;
	for (; f->nslot < n; f->nslot++) {
		f->slot[f->nslot].d = dicts[f->nslot];
		if (slot_open(f, &f->slot[f->nslot]) < 0) {
			f->nslot++;
			goto oom;
		}
	}
	return f;
oom:
	ncd_fast_free(f);
	wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for a compressor");
	return NULL;
}

void ncd_fast_free(struct ncd_fast *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nslot; i++) {
		ZSTD_freeCCtx(f->slot[i].zc);
		if (f->slot[i].z_open)
			deflateEnd(&f->slot[i].z);
	}
	zc_release(&f->cache);
	free(f->out);
	free(f);
}

static int zstd_size(struct ncd_fast *f, ZSTD_CCtx *c, const uint8_t *x, size_t n, uint64_t *size,
		     struct wnw_err *e)
{
	size_t need = ZSTD_compressBound(n);

	if (need > f->outcap) {
		uint8_t *p = realloc(f->out, need);
		if (p == NULL)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for %zu bytes", need);
		f->out = p;
		f->outcap = need;
	}
	size_t r = ZSTD_compress2(c, f->out, f->outcap, x, n);
	if (ZSTD_isError(r))
		return wnw_errf(e, WNW_EXIT_SYSTEM, "zstd: %s", ZSTD_getErrorName(r));
	*size = r;
	return 0;
}

static int zlib_size(struct ncd_fast *f, struct fast_slot *s, const uint8_t *x, size_t n, uint64_t *size,
		     struct wnw_err *e)
{
	z_stream *z = &s->z;

	if (s->d->size == 0) {
		if (deflateReset(z) != Z_OK)
			return zfail(e, "deflateReset");
	} else {
		if (deflateCopy(&f->copy, &s->z) != Z_OK)
			return zfail(e, "deflateCopy");
		z = &f->copy;
	}
	int rc = feed(z, f->out, x, n, 1);
	*size = z->total_out;
	if (z == &f->copy)
		deflateEnd(&f->copy);
	return rc < 0 ? zfail(e, "deflate") : 0;
}

int ncd_fast_size(struct ncd_fast *f, size_t k, const uint8_t *x, size_t n, uint64_t *size, struct wnw_err *e)
{
	struct fast_slot *s = &f->slot[k];

	if (s->d->kind == NCD_FAST_ZLIB)
		return zlib_size(f, s, x, n, size, e);
	return zstd_size(f, s->zc, x, n, size, e);
}

double ncd_fast_from_sizes(uint64_t target, uint64_t background)
{
	if (background == 0)
		return 0;
	return ((double)background - (double)target) / (double)background;
}
