/* zlib_alone.c: benchmark-only, the deflate work of gzfit's exact mode and nothing else (no stream, no
 * scoring), so that bench/gzfit.sh can show how near gzfit runs to zlib itself on the same bytes.
 *
 *   zlib_alone [-l LEVEL] [-j THREADS] [-m oneshot|gzfit] POOL.bin TARGETS.bin
 *
 * The .bin files hold texts as a 4-byte little-endian length and the bytes. For every pool text x it
 * computes the raw deflate sizes (windowBits -15, memLevel 8, default strategy) of x and of x ++ t for
 * every target t: with -m oneshot (the default) as the definition says, one deflate call over a
 * contiguous copy of x ++ t per pair on a reset stream; with -m gzfit by the calls gzfit makes (ncd.c,
 * NCD_PRIME_AUTO): for x of at least 512 bytes (2048 at levels 1-3) x fed once and a deflateCopy of
 * that state finished with each t, for shorter x, x and then t fed to a reset stream. Threads take the
 * pool in chunks. Prints the pairs and the sum of all sizes (the same for both modes: a check that
 * both did the whole work). */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK 16
#define SINK (1u << 16)

struct texts {
	size_t n;
	unsigned char **p;
	size_t *len;
};

struct run {
	const struct texts *pool, *tg;
	int level, gzfit;
	atomic_size_t next;
	atomic_ullong total;
};

static void die(const char *what)
{
	fprintf(stderr, "zlib_alone: %s\n", what);
	exit(1);
}

static void load(const char *path, struct texts *t)
{
	FILE *f = fopen(path, "rb");
	unsigned char h[4];
	size_t cap = 0;
	if (!f)
		die(path);
	memset(t, 0, sizeof *t);
	while (fread(h, 1, 4, f) == 4) {
		size_t n = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24;
		if (t->n == cap) {
			cap = cap ? 2 * cap : 1024;
			t->p = realloc(t->p, cap * sizeof *t->p);
			t->len = realloc(t->len, cap * sizeof *t->len);
			if (!t->p || !t->len)
				die("out of memory");
		}
		t->p[t->n] = malloc(n + 1);
		if (!t->p[t->n] || fread(t->p[t->n], 1, n, f) != n)
			die(path);
		t->len[t->n++] = n;
	}
	fclose(f);
}

/* Deflates p[0, n) to the end of z's stream; the output is dropped, total_out counts it. */
static void finish(z_stream *z, unsigned char *sink, const unsigned char *p, size_t n)
{
	int rc;
	z->next_in = (unsigned char *)(uintptr_t)p;
	z->avail_in = (uInt)n;
	do {
		z->next_out = sink;
		z->avail_out = SINK;
		rc = deflate(z, Z_FINISH);
	} while (rc == Z_OK);
	if (rc != Z_STREAM_END)
		die("deflate failed");
}

static unsigned long long oneshot(z_stream *z, unsigned char *sink, unsigned char **cat, size_t *cap,
				  const struct texts *tg, const unsigned char *x, size_t nx)
{
	unsigned long long sum;
	deflateReset(z);
	finish(z, sink, x, nx);
	sum = z->total_out;
	for (size_t i = 0; i < tg->n; i++) {
		if (nx + tg->len[i] > *cap) {
			*cap = 2 * (nx + tg->len[i]);
			if (!(*cat = realloc(*cat, *cap)))
				die("out of memory");
		}
		memcpy(*cat, x, nx);
		memcpy(*cat + nx, tg->p[i], tg->len[i]);
		deflateReset(z);
		finish(z, sink, *cat, nx + tg->len[i]);
		sum += z->total_out;
	}
	return sum;
}

/* Feeds p[0, n) to z without finishing the stream. */
static void feed(z_stream *z, unsigned char *sink, const unsigned char *p, size_t n)
{
	z->next_in = (unsigned char *)(uintptr_t)p;
	z->avail_in = (uInt)n;
	while (z->avail_in > 0) {
		z->next_out = sink;
		z->avail_out = SINK;
		if (deflate(z, Z_NO_FLUSH) != Z_OK)
			die("deflate failed");
	}
}

static unsigned long long fed(z_stream *z, unsigned char *sink, const struct texts *tg, const unsigned char *x,
			      size_t nx)
{
	unsigned long long sum;
	deflateReset(z);
	finish(z, sink, x, nx);
	sum = z->total_out;
	for (size_t i = 0; i < tg->n; i++) {
		deflateReset(z);
		feed(z, sink, x, nx);
		finish(z, sink, tg->p[i], tg->len[i]);
		sum += z->total_out;
	}
	return sum;
}

static unsigned long long primed(z_stream *z, unsigned char *sink, const struct texts *tg,
				 const unsigned char *x, size_t nx)
{
	unsigned long long sum = 0;
	z_stream c;
	deflateReset(z);
	feed(z, sink, x, nx);
	for (size_t i = 0; i <= tg->n; i++) {
		if (deflateCopy(&c, z) != Z_OK)
			die("deflateCopy failed");
		finish(&c, sink, i == 0 ? NULL : tg->p[i - 1], i == 0 ? 0 : tg->len[i - 1]);
		sum += c.total_out;
		deflateEnd(&c);
	}
	return sum;
}

static void *worker(void *arg)
{
	struct run *r = arg;
	z_stream z;
	unsigned char *sink = malloc(SINK), *cat = NULL;
	size_t cap = 0;
	unsigned long long sum = 0;
	memset(&z, 0, sizeof z);
	if (!sink || deflateInit2(&z, r->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2 failed");
	for (;;) {
		size_t lo = atomic_fetch_add(&r->next, CHUNK);
		if (lo >= r->pool->n)
			break;
		size_t hi = lo + CHUNK < r->pool->n ? lo + CHUNK : r->pool->n;
		for (size_t k = lo; k < hi; k++) {
			const unsigned char *x = r->pool->p[k];
			size_t nx = r->pool->len[k];
			if (!r->gzfit)
				sum += oneshot(&z, sink, &cat, &cap, r->tg, x, nx);
			else if (nx >= (r->level >= 4 ? 512u : 2048u))
				sum += primed(&z, sink, r->tg, x, nx);
			else
				sum += fed(&z, sink, r->tg, x, nx);
		}
	}
	atomic_fetch_add(&r->total, sum);
	deflateEnd(&z);
	free(sink);
	free(cat);
	return NULL;
}

int main(int argc, char **argv)
{
	struct texts pool, tg;
	struct run r = {.level = 9};
	int threads = 1, a = 1;
	for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
		if (strcmp(argv[a], "-l") == 0)
			r.level = atoi(argv[a + 1]);
		else if (strcmp(argv[a], "-j") == 0)
			threads = atoi(argv[a + 1]);
		else if (strcmp(argv[a], "-m") == 0)
			r.gzfit = strcmp(argv[a + 1], "gzfit") == 0;
		else
			break;
	}
	if (argc - a != 2 || r.level < 1 || r.level > 9 || threads < 1 || threads > 256)
		die("usage: zlib_alone [-l LEVEL] [-j THREADS] [-m oneshot|gzfit] POOL.bin TARGETS.bin");
	/* deflateCopy allocates about 270 KB per pair: keep glibc from mapping and unmapping it each time
	 * (gzfit keeps the blocks in a cache of its own) */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	load(argv[a], &pool);
	load(argv[a + 1], &tg);
	r.pool = &pool;
	r.tg = &tg;
	pthread_t t[256];
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, worker, &r) != 0)
			die("pthread_create failed");
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("%zu pairs, sizes sum %llu\n", pool.n * tg.n, (unsigned long long)r.total);
	return 0;
}
