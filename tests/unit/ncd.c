/* Unit tests of common/ncd.c: the primed (deflateCopy) sizes equal one-call compression of x ++ t on
 * random and toy data at every level, and the scores reproduce Python's gzip on the ZIP-FIT toy set.
 * NCD_CASES=N sets the number of random cases (default 120; 6000 passed when this was written). The toy set
 * is tests/data/zipfit-toy (its pool zstd-compressed); the tests run from the top of the checkout. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ncd.h"
#include "unit.h"

struct texts {
	size_t n;
	uint8_t *p[400];
	size_t len[400];
	long long id[400];
};

/* Reads path through zstd -dcf, which passes plain files through unchanged. */
static int load_jsonl(const char *path, struct texts *t)
{
	char cmdline[4200];
	snprintf(cmdline, sizeof cmdline, "zstd -dcf '%s'", path);
	FILE *f = popen(cmdline, "r");
	char *line = NULL;
	size_t cap = 0;

	t->n = 0;
	if (f == NULL)
		return -1;
	while (getline(&line, &cap, f) > 0 && t->n < 400) {
		json_t *o = json_loads(line, JSON_ALLOW_NUL, NULL);
		json_t *s = json_object_get(o, "text");
		if (!json_is_string(s)) {
			json_decref(o);
			break;
		}
		t->len[t->n] = json_string_length(s);
		t->p[t->n] = malloc(t->len[t->n] + 1);
		memcpy(t->p[t->n], json_string_value(s), t->len[t->n]);
		t->id[t->n] = json_integer_value(json_object_get(o, "id"));
		t->n++;
		json_decref(o);
	}
	free(line);
	return pclose(f) == 0 ? 0 : -1;
}

static void free_texts(struct texts *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->p[i]);
}

/* expected[i] for pool line i, from "id\tscore" lines in pool order */
static size_t load_expected(const char *path, double *v, size_t max)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL && n < max) {
		char *tab = strchr(line, '\t');
		if (tab == NULL || strncmp(line, "id", 2) == 0)
			continue;
		v[n++] = strtod(tab + 1, NULL);
	}
	fclose(f);
	return n;
}

static void toy(const char *dir)
{
	char path[4096];
	static struct texts pool, tgt;
	static double want[400];
	struct wnw_err e = {0};

	snprintf(path, sizeof path, "%s/pool.jsonl.zst", dir);
	int okp = load_jsonl(path, &pool) == 0 && pool.n == 304;
	snprintf(path, sizeof path, "%s/target.jsonl", dir);
	int okt = load_jsonl(path, &tgt) == 0 && tgt.n == 20;
	CHECK(okp && okt, "toy pool (304) and targets (20) load from %s", dir);
	if (!okp || !okt)
		return;
	for (int level = 1; level <= 9; level += 8) {
		snprintf(path, sizeof path, "%s/expected_scores_level%d.tsv", dir, level);
		size_t nw = load_expected(path, want, 400);
		CHECK(nw == pool.n, "level %d: %zu expected scores", level, nw);
		for (int prime = -1; prime <= 1; prime++) {
			struct ncd_exact *sc = ncd_exact_new(level, prime, &e);
			struct ncd_targets ts;
			double maxerr = 0;
			int fails = 0;
			ncd_targets_init(&ts, level, &e);
			for (size_t i = 0; i < tgt.n; i++)
				fails += ncd_targets_add(&ts, sc, tgt.p[i], tgt.len[i], &e) < 0;
			for (size_t i = 0; i < pool.n && i < nw; i++) {
				double s;
				fails += ncd_exact_score(sc, &ts, pool.p[i], pool.len[i], &s, &e) < 0;
				double d = s > want[i] ? s - want[i] : want[i] - s;
				if (d > maxerr)
					maxerr = d;
			}
			CHECK(fails == 0 && maxerr <= 1e-12,
			      "level %d, %s: all 304 toy scores within 1e-12 of Python's gzip (max error %.3g)",
			      level, prime == 1 ? "primed deflateCopy" : prime == 0 ? "one call per pair" : "automatic",
			      maxerr);
			ncd_targets_free(&ts);
			ncd_exact_free(sc);
		}
	}
	free_texts(&pool);
	free_texts(&tgt);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const char *const words[] = {"def ", "return ", "self", ".", "(", ")", ":\n    ", "if ", "x", "= ",
				    "for ", "in ", "range", "0", "1", ", ", "\n", "#", "the ", "import "};

/* A buffer of n bytes of one of several kinds: random bytes, word salad, a repeated snippet with
 * mutations, runs of one byte, or random and text halves. */
static void gen(uint64_t *s, uint8_t *p, size_t n, int kind)
{
	size_t i = 0;

	switch (kind) {
	case 0:
		for (; i < n; i++)
			p[i] = (uint8_t)rng_next(s);
		break;
	case 1:
		while (i < n) {
			const char *w = words[rng_next(s) % 20];
			for (; *w && i < n; w++)
				p[i++] = (uint8_t)*w;
		}
		break;
	case 2: {
		size_t period = 1 + rng_next(s) % 300;
		for (; i < n; i++)
			p[i] = i < period ? (uint8_t)('a' + rng_next(s) % 26) : p[i - period];
		for (size_t k = 0; k < n / 50; k++)
			p[rng_next(s) % n] = (uint8_t)rng_next(s);
		break;
	}
	case 3:
		memset(p, (int)(rng_next(s) & 255), n);
		break;
	default:
		gen(s, p, n / 2, 0);
		gen(s, p + n / 2, n - n / 2, 1);
		break;
	}
}

static size_t pick_size(uint64_t *s)
{
	static const size_t sizes[] = {0, 1, 2, 3, 4, 257, 258, 259, 261, 262, 263, 16383, 16384, 32767,
				       32768, 32769, 65536, 70000};
	switch (rng_next(s) % 4) {
	case 0:
		return sizes[rng_next(s) % (sizeof sizes / sizeof *sizes)];
	case 1:
		return rng_next(s) % 4000;
	case 2:
		return rng_next(s) % 40000;
	default:
		return rng_next(s) % 140000;
	}
}

/* One-call raw deflate size, straight from zlib's compress-like API, as the reference. */
static uint64_t oneshot(const uint8_t *p, size_t n, int level, uint8_t *out, size_t cap)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	uint64_t size = rc == Z_STREAM_END ? z.total_out + NCD_GZIP_OVERHEAD : 0;
	deflateEnd(&z);
	return size;
}

static void random_cases(int ncases)
{
	enum { NT = 4 };
	const size_t MAXN = 140000;
	uint64_t seed = 0x9e3779b97f4a7c15u;
	uint8_t *x = malloc(MAXN), *cat = malloc(2 * MAXN), *out = malloc(4 * MAXN);
	struct wnw_err e = {0};
	int bad = 0, checked = 0;
	struct ncd_exact *sc[10] = {0};

	struct ncd_exact *auto_sc[10] = {0};
	for (int level = 1; level <= 9; level++) {
		sc[level] = ncd_exact_new(level, 1, &e);
		auto_sc[level] = ncd_exact_new(level, NCD_PRIME_AUTO, &e);
	}
	for (int c = 0; c < ncases; c++) {
		int level = 1 + c % 9;
		struct ncd_targets ts;
		uint64_t cx, cxt[NT];
		size_t nx = pick_size(&seed);
		uint8_t *t = malloc(MAXN);

		gen(&seed, x, nx, (int)(rng_next(&seed) % 5));
		ncd_targets_init(&ts, level, &e);
		for (int k = 0; k < NT; k++) {
			size_t nt = pick_size(&seed);
			if (k == 0 && nx > 0) { /* a target that overlaps x, so matches cross the seam */
				nt = nx;
				memcpy(t, x, nx);
				t[rng_next(&seed) % nt] ^= 1;
			} else {
				gen(&seed, t, nt, (int)(rng_next(&seed) % 5));
			}
			ncd_targets_add(&ts, sc[level], t, nt, &e);
		}
		if (ncd_exact_sizes(sc[level], &ts, x, nx, &cx, cxt, &e) < 0)
			bad++;
		if (cx != oneshot(x, nx, level, out, 4 * MAXN))
			bad++;
		uint64_t acx, acxt[NT]; /* the automatic choice: short x fed before t to a fresh stream */
		if (ncd_exact_sizes(auto_sc[level], &ts, x, nx, &acx, acxt, &e) < 0 || acx != cx ||
		    memcmp(acxt, cxt, sizeof cxt) != 0)
			bad++;
		for (int k = 0; k < NT; k++) {
			if (nx > 0)
				memcpy(cat, x, nx);
			if (ts.len[k] > 0)
				memcpy(cat + nx, ts.text[k], ts.len[k]);
			if (cxt[k] != oneshot(cat, nx + ts.len[k], level, out, 4 * MAXN)) {
				bad++;
				printf("# level %d |x| %zu |t| %zu: primed %llu, one call %llu\n", level, nx,
				       ts.len[k], (unsigned long long)cxt[k],
				       (unsigned long long)oneshot(cat, nx + ts.len[k], level, out, 4 * MAXN));
			}
			if (ts.csize[k] != oneshot(ts.text[k], ts.len[k], level, out, 4 * MAXN))
				bad++;
			checked++;
		}
		ncd_targets_free(&ts);
		free(t);
	}
	CHECK(bad == 0, "%d random pairs (%d examples, levels 1-9, 0-140 KB, binary and text): primed and "
			"automatic sizes equal one-call compression", checked, ncases);
	for (int level = 1; level <= 9; level++) {
		ncd_exact_free(sc[level]);
		ncd_exact_free(auto_sc[level]);
	}
	free(x);
	free(cat);
	free(out);
}

static void edges(void)
{
	struct wnw_err e = {0};
	struct ncd_exact *sc = ncd_exact_new(6, 1, &e);
	struct ncd_targets ts;
	uint64_t size = 0;
	double s = -1;

	CHECK(ncd_gzip_size(sc, NULL, 0, NULL, 0, &size, &e) == 0 && size == 20,
	      "the empty input is 20 bytes of gzip (Python: len(gzip.compress(b'')) == 20)");
	ncd_targets_init(&ts, 6, &e);
	CHECK(ncd_exact_score(sc, &ts, (const uint8_t *)"a", 1, &s, &e) < 0, "no targets is an error");
	ncd_targets_add(&ts, sc, (const uint8_t *)"", 0, &e);
	CHECK(ncd_exact_score(sc, &ts, (const uint8_t *)"", 0, &s, &e) == 0 && s == 1.0,
	      "empty x against an empty target: NCD 0, score 1");
	CLOSE(ncd_from_sizes(30, 20, 25), (30.0 - 20) / 25, 0, "NCD of sizes: (Cxt - min) / max");
	CHECK(ncd_exact_new(0, 1, &e) == NULL && ncd_exact_new(10, 1, &e) == NULL, "levels outside 1..9 refused");
	ncd_targets_free(&ts);
	ncd_exact_free(sc);
}

/* fast(x) of text x for dictionaries d[0] (targets) and d[1] (background), or -2 on error. */
static double fast_of(struct ncd_fast *f, const char *x)
{
	struct wnw_err e = {0};
	uint64_t zt = 0, zb = 0;
	size_t n = strlen(x);

	if (n > 0 && (ncd_fast_size(f, 0, (const uint8_t *)x, n, &zt, &e) < 0 ||
		      ncd_fast_size(f, 1, (const uint8_t *)x, n, &zb, &e) < 0))
		return -2;
	return ncd_fast_from_sizes(zt, zb);
}

static void fast(void)
{
	struct wnw_err e = {0};
	struct ncd_exact *sc = ncd_exact_new(1, 1, &e);
	struct ncd_targets ts, bg, none;
	const char *tg = "def fetch(self, key):\n    return self.table[key]\n";
	const char *near = "def store(self, key, value):\n    self.table[key] = value\n    return self.table[key]\n";
	const char *far = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.";

	ncd_targets_init(&ts, 1, &e);
	ncd_targets_init(&bg, 0, &e);
	ncd_targets_init(&none, 0, &e);
	for (int i = 0; i < 8; i++) {
		ncd_targets_add(&ts, sc, (const uint8_t *)tg, strlen(tg), &e);
		ncd_targets_add(&bg, NULL, (const uint8_t *)far, strlen(far), &e);
	}
	CHECK(bg.csize[0] == 0 && ts.csize[0] > 0, "a text set without a scorer has no sizes");
	for (int kind = NCD_FAST_ZSTD_RAW; kind <= NCD_FAST_ZLIB; kind++) {
		if (kind == NCD_FAST_ZSTD_TRAINED)
			continue; /* needs far more samples than this */
		struct ncd_fast_dict *d[3] = {ncd_fast_dict_new(&ts, (enum ncd_fast_kind)kind, 3, &e),
					      ncd_fast_dict_new(&none, (enum ncd_fast_kind)kind, 3, &e),
					      ncd_fast_dict_new(&bg, (enum ncd_fast_kind)kind, 3, &e)};
		const struct ncd_fast_dict *plain[2] = {d[0], d[1]}, *withbg[2] = {d[0], d[2]};
		struct ncd_fast *f = d[0] && d[1] ? ncd_fast_new(plain, 2, &e) : NULL;
		struct ncd_fast *g = d[0] && d[2] ? ncd_fast_new(withbg, 2, &e) : NULL;
		CHECK(f != NULL && g != NULL && ncd_fast_dict_size(d[1]) == 0 && ncd_fast_dict_size(d[2]) > 0,
		      "fast kind %d: scorers over a target, an empty and a background dictionary", kind);
		if (f == NULL || g == NULL)
			continue;
		double sn = fast_of(f, near), sf = fast_of(f, far), se = fast_of(f, "");
		CHECK(sn > sf && sn > 0 && sn < 1 && se == 0,
		      "fast kind %d: text like the targets scores higher (%.3f) than unlike (%.3f); empty 0", kind,
		      sn, sf);
		double bn = fast_of(g, near), bf = fast_of(g, far);
		CHECK(bn > 0 && bf < 0 && bf < sf,
		      "fast kind %d: against a background, the background's own text scores below 0 (%.3f), the "
		      "target-like text above (%.3f)", kind, bf, bn);
		ncd_fast_free(f);
		ncd_fast_free(g);
		for (int i = 0; i < 3; i++)
			ncd_fast_dict_free(d[i]);
	}
	const struct ncd_fast_dict *many[NCD_FAST_SLOTS + 1] = {0};
	CHECK(ncd_fast_new(many, NCD_FAST_SLOTS + 1, &e) == NULL, "more dictionaries than slots refused");
	CHECK(ncd_fast_from_sizes(0, 0) == 0 && ncd_fast_from_sizes(50, 100) == 0.5 &&
	      ncd_fast_from_sizes(150, 100) == -0.5, "fast score from sizes: (Z(x|B) - Z(x|T)) / Z(x|B)");
	ncd_targets_free(&ts);
	ncd_targets_free(&bg);
	ncd_targets_free(&none);
	ncd_exact_free(sc);
}

int main(void)
{
	const char *nc = getenv("NCD_CASES");

	toy("tests/data/zipfit-toy");
	random_cases(nc ? atoi(nc) : 120);
	edges();
	fast();
	return unit_failed;
}
