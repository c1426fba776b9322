/* Unit tests of common/hashembed.c: the character classes against utf8proc, UTF-8 decoding, the
 * tokeniser on fixed strings, hash outputs pinned and checked against the shared libxxhash, vectors
 * against a naive re-implementation of the formula, the geometry (identical texts, disjoint
 * vocabularies, reordered words), and nearest-neighbour domain agreement on the demo corpus (demo/pool.jsonl.zst). */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <xxhash.h> /* the shared library's XXH3, not the inlined copy hashembed.c uses */

#include "hashembed.h"
#include "isa.h"
#include "rng.h"
#include "unit.h"

static const struct hemb_config base = {.seed = 0, .dim = 256, .word_lo = 1, .word_hi = 2};

static void test_classes(void)
{
	int agree = 1;
	for (int32_t cp = 0; cp < 128; cp++) {
		utf8proc_category_t cat = utf8proc_category(cp);
		int want = cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_ZS ? HEMB_SEP
			   : (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_PC) ? HEMB_WORD
											  : HEMB_PUNCT;
		agree &= hemb_class(cp) == want;
	}
	CHECK(agree, "the ASCII class table agrees with the Unicode categories");
	CHECK(hemb_class(0x00E9) == HEMB_WORD && hemb_class(0x0301) == HEMB_WORD && hemb_class(0x0663) == HEMB_WORD,
	      "letters, combining marks and Arabic-Indic digits are word characters");
	CHECK(hemb_class(0x00A0) == HEMB_SEP && hemb_class(0x3000) == HEMB_SEP && hemb_class(0x2028) == HEMB_SEP &&
		      hemb_class(0x85) == HEMB_SEP,
	      "no-break space, ideographic space, line separator and NEL separate");
	CHECK(hemb_class(0x00AD) == HEMB_IGNORE && hemb_class(0x200D) == HEMB_IGNORE && hemb_class(0xFEFF) == HEMB_IGNORE,
	      "soft hyphen, zero-width joiner and BOM are ignored");
	CHECK(hemb_class(0x2014) == HEMB_PUNCT && hemb_class(0x20AC) == HEMB_PUNCT && hemb_class(0xFFFD) == HEMB_PUNCT &&
		      hemb_class(0xE000) == HEMB_PUNCT && hemb_class(0x203F) == HEMB_WORD,
	      "dashes, currency, U+FFFD, private use are punctuation; undertie (Pc) is a word character");
}

static int decodes(const char *s, int32_t want_cp, size_t want_len)
{
	int32_t cp;
	const uint8_t *p = (const uint8_t *)s;
	size_t n = hemb_utf8_decode(p, p + strlen(s), &cp);
	return cp == want_cp && n == want_len;
}

static void test_utf8(void)
{
	CHECK(decodes("A", 'A', 1) && decodes("\xC3\xA9", 0xE9, 2) && decodes("\xE2\x82\xAC", 0x20AC, 3) &&
		      decodes("\xF0\x9F\x98\x80", 0x1F600, 4) && decodes("\xF4\x8F\xBF\xBF", 0x10FFFF, 4),
	      "well-formed UTF-8 of each length decodes");
	CHECK(decodes("\xC0\x80", 0xFFFD, 1) && decodes("\xE0\x80\x80", 0xFFFD, 1) && decodes("\xF0\x80\x80\x80", 0xFFFD, 1),
	      "overlong forms give U+FFFD for one byte");
	CHECK(decodes("\xED\xA0\x80", 0xFFFD, 1) && decodes("\xF4\x90\x80\x80", 0xFFFD, 1) && decodes("\xF5\x80", 0xFFFD, 1),
	      "surrogates and code points above U+10FFFF give U+FFFD");
	CHECK(decodes("\xE2\x82", 0xFFFD, 1) && decodes("\x80", 0xFFFD, 1) && decodes("\xE2\x28\xA1", 0xFFFD, 1),
	      "truncated sequences and stray continuation bytes give U+FFFD");
}

/* The tokens of s joined by '|', and the normalised text. */
static void tokens_of(struct hemb_scratch *s, const char *text, char *toks, size_t cap)
{
	hemb_tokenise(s, (const uint8_t *)text, strlen(text));
	size_t k = 0;
	toks[0] = '\0';
	for (size_t i = 0; i < s->ntok && k + s->tok[i].len + 2 < cap; i++) {
		if (i)
			toks[k++] = '|';
		memcpy(toks + k, s->norm + s->tok[i].off, s->tok[i].len);
		k += s->tok[i].len;
	}
	toks[k] = '\0';
}

static int tokenises(struct hemb_scratch *s, const char *text, const char *want_toks, const char *want_norm)
{
	char got[1024];
	tokens_of(s, text, got, sizeof got);
	int ok = strcmp(got, want_toks) == 0 && s->nnorm == strlen(want_norm) &&
		 memcmp(s->norm, want_norm, s->nnorm) == 0;
	if (!ok)
		printf("#   tokens '%s', norm '%.*s'\n", got, (int)s->nnorm, (const char *)s->norm);
	return ok;
}

static void test_tokeniser(void)
{
	struct hemb_scratch s = {0};
	CHECK(tokenises(&s, "  Hello, World!!\tfoo_bar 3.14\n", "hello|,|world|!!|foo_bar|3|.|14",
			"hello, world!! foo_bar 3.14"),
	      "words, punctuation runs, underscores in words, whitespace collapsed and trimmed");
	CHECK(tokenises(&s, "if (x->y) {return;}", "if|(|x|->|y|)|{|return|;}", "if (x->y) {return;}"),
	      "code: punctuation runs end at letters, not at each character");
	CHECK(tokenises(&s, "Stra\xC3\x9F" "e \xCE\xA3\xCE\x8A\xCE\xA3\xCE\xA5\xCE\xA6\xCE\x9F\xCE\xA3",
			"strasse|\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x83",
			"strasse \xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x83"),
	      "full case folding: sharp s becomes ss, Greek capitals fold to small (final sigma too)");
	CHECK(tokenises(&s, "\xC4\xB0stanbul", "i\xCC\x87stanbul", "i\xCC\x87stanbul"),
	      "dotted capital I folds to i and a combining dot");
	CHECK(tokenises(&s, "co\xC2\xAD" "operate\xE2\x80\x8B!", "cooperate|!", "cooperate!"),
	      "format characters (soft hyphen, zero-width space) vanish without splitting");
	CHECK(tokenises(&s, "a\xFF" "b\xC2\xA0" "c", "a|\xEF\xBF\xBD|b|c", "a\xEF\xBF\xBD" "b c"),
	      "an invalid byte becomes U+FFFD (punctuation); a no-break space separates");
	CHECK(tokenises(&s, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x80\x82", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E|\xE3\x80\x82",
			"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x80\x82"),
	      "a run of CJK ideographs is one word; the ideographic full stop is punctuation");
	CHECK(tokenises(&s, "", "", "") && tokenises(&s, " \t\r\n\xC2\xAD ", "", ""),
	      "empty and blank texts have no tokens");
	hemb_scratch_free(&s);
}

/* A random text for test_levels: ASCII words, punctuation and separator runs of many lengths (so that
 * runs end on every side of the vector path's 32-byte blocks), now and then a non-ASCII piece that
 * makes the tokeniser leave the vector path: a letter, a no-break space, a zero-width space (ignored),
 * a combining mark. */
static size_t random_text(struct wnw_rng *r, char *t, size_t cap)
{
	static const char *const pieces[] = {"word", "Ab", "x", "THE", "under_score", "42", ".", "->", "!?",
					     " ", "\t", "\n", "\x7f", "\x01", "\xc3\xa9", "\xc2\xa0",
					     "\xe2\x80\x8b", "\xcc\x81"};
	size_t n = 0, want = wnw_rng_below(r, 300), rare = 1 + wnw_rng_below(r, 4);
	while (n < want) {
		uint64_t k = wnw_rng_below(r, 14 + (wnw_rng_below(r, 8) < rare ? 4 : 0));
		size_t reps = wnw_rng_below(r, 4) == 0 ? 1 + wnw_rng_below(r, 40) : 1;
		for (size_t i = 0; i < reps && n + 4 < cap; i++) {
			size_t len = strlen(pieces[k]);
			memcpy(t + n, pieces[k], len);
			n += len;
		}
	}
	return n;
}

/* Every kernel level tokenises as the portable one: the same norm, the same tokens. */
static void test_levels(void)
{
	struct hemb_scratch a = {0}, b = {0};
	struct wnw_rng r;
	char t[2048];
	long texts = 0, differ = 0;
	wnw_rng_seed(&r, 23);
	for (int i = 0; i < 30000; i++) {
		size_t n = random_text(&r, t, sizeof t);
		if (i == 0) /* the vector path after a no-break space, at a token: the run's space is owed */
			n = (size_t)snprintf(t, sizeof t, "ab\xc2\xa0" "cdefgh ijklmn opqrst uvwxyz 0123456789 end");
		wnw_isa_force(WNW_ISA_PORTABLE);
		hemb_tokenise(&a, (const uint8_t *)t, n);
		for (int level = WNW_ISA_AVX2; level < WNW_ISA_LEVELS; level++) {
			wnw_isa_force(level);
			hemb_tokenise(&b, (const uint8_t *)t, n);
			texts++;
			if (a.nnorm != b.nnorm || memcmp(a.norm, b.norm, a.nnorm) != 0 || a.ntok != b.ntok ||
			    memcmp(a.tok, b.tok, a.ntok * sizeof *a.tok) != 0) {
				if (differ++ == 0)
					printf("#   level %d: '%.*s' -> '%.*s', not '%.*s'\n", level, (int)n, t,
					       (int)b.nnorm, (const char *)b.norm, (int)a.nnorm, (const char *)a.norm);
			}
		}
	}
	wnw_isa_force(WNW_ISA_LEVELS - 1);
	CHECK(differ == 0, "%ld random texts: every kernel level gives the portable tokens and norm (%d is this CPU's)",
	      texts, wnw_isa_cpu());
	hemb_scratch_free(&a);
	hemb_scratch_free(&b);
}

struct occ {
	uint64_t hash;
	size_t pos, count;
};

static int by_hash_pos(const void *a, const void *b)
{
	const struct occ *x = a, *y = b;
	return x->hash != y->hash ? (x->hash > y->hash) - (x->hash < y->hash) : (x->pos > y->pos) - (x->pos < y->pos);
}

static int by_pos(const void *a, const void *b)
{
	const struct occ *x = a, *y = b;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Whether s->feat (after hemb_features on word 1-2-grams) holds the distinct n-grams of s's tokens in
 * order of first occurrence with their counts, found here by sorting instead of a hash table. */
static int features_by_sorting(struct hemb_scratch *s)
{
	size_t n = 0, ng = 0;
	struct occ *o = malloc(2 * s->ntok * sizeof *o);
	uint64_t *th = malloc(s->ntok * sizeof *th);
	for (size_t i = 0; i < s->ntok; i++) {
		th[i] = hemb_hash_token(0, s->norm + s->tok[i].off, s->tok[i].len);
		o[n] = (struct occ){th[i], n, 1}, n++;
		if (i > 0)
			o[n] = (struct occ){hemb_hash_ngram(0, th + i - 1, 2), n, 1}, n++;
	}
	qsort(o, n, sizeof *o, by_hash_pos);
	for (size_t i = 0; i < n; i++) {
		if (ng > 0 && o[ng - 1].hash == o[i].hash)
			o[ng - 1].count++;
		else
			o[ng++] = o[i];
	}
	qsort(o, ng, sizeof *o, by_pos);
	int same = ng == s->nfeat;
	for (size_t i = 0; same && i < ng; i++)
		same = s->feat[i].hash == o[i].hash && s->feat[i].tf == o[i].count;
	free(o);
	free(th);
	return same;
}

/* The feature table on a short text (sized for all its features at once) and on a long one (more
 * features than the first table holds: it grows). */
static void test_table(void)
{
	struct hemb_scratch s = {0};
	struct wnw_rng r;
	size_t cap = 200000, n = 0;
	char *t = malloc(cap);
	wnw_rng_seed(&r, 7);
	for (int i = 0; i < 20000; i++)
		n += (size_t)snprintf(t + n, cap - n, "w%llu%s", (unsigned long long)wnw_rng_below(&r, i < 100 ? 20 : 6000),
				      wnw_rng_below(&r, 5) ? " " : ". ");
	CHECK(hemb_features(&base, &s, (const uint8_t *)t, 600) == 0 && s.ntok < 200 && features_by_sorting(&s),
	      "a short text: %zu distinct features, in order of first occurrence, counted", s.nfeat);
	CHECK(hemb_features(&base, &s, (const uint8_t *)t, n) == 0 && s.ntok > 20000 && features_by_sorting(&s),
	      "a long text (%zu tokens): %zu distinct features, in order of first occurrence, counted", s.ntok, s.nfeat);
	int again = 1;
	for (size_t len = 1; len < 3000 && again; len += 97)
		again = hemb_features(&base, &s, (const uint8_t *)t + len % 7, len) == 0 && features_by_sorting(&s);
	CHECK(again, "then short texts again, in the prefix of the grown table: the same features as by sorting");
	hemb_scratch_free(&s);
	free(t);
}

static void test_hashes(void)
{
	/* Pinned: a change here moves every feature to another bucket, and needs a new HEMB_RULES. */
	CHECK(hemb_hash_token(0, "hello", 5) == UINT64_C(0x9555e8555c62dcfd), "token hash of 'hello', seed 0, pinned");
	CHECK(hemb_hash_token(42, "hello", 5) == UINT64_C(0xbafa072f07db7937), "token hash of 'hello', seed 42, pinned");
	uint64_t th[2] = {hemb_hash_token(0, "hello", 5), hemb_hash_token(0, "world", 5)};
	CHECK(hemb_hash_ngram(0, th, 2) == UINT64_C(0x2b1502900150c14d), "bigram hash of 'hello world' pinned");
	CHECK(hemb_hash_chars(0, "hel", 3) == UINT64_C(0x0c97e0d91a081b71), "character trigram hash of 'hel' pinned");
	uint8_t le[16];
	for (int i = 0; i < 8; i++) {
		le[i] = (uint8_t)(th[0] >> (8 * i));
		le[8 + i] = (uint8_t)(th[1] >> (8 * i));
	}
	CHECK(hemb_hash_token(7, "hello", 5) == XXH3_64bits_withSeed("hello", 5, 7) &&
		      hemb_hash_ngram(0, th, 2) == XXH3_64bits_withSeed(le, 16, 0) &&
		      hemb_hash_chars(9, "hel", 3) == XXH3_64bits_withSeed("hel", 3, 9 ^ HEMB_CHAR_SEED),
	      "the hashes are libxxhash's XXH3_64bits_withSeed as documented");
	CHECK(hemb_bucket(0, 256) == 0 && hemb_bucket(UINT64_MAX, 256) == 255 &&
		      hemb_bucket(UINT64_C(0x8000000000000000), 1000) == 500 &&
		      hemb_bucket(UINT64_C(0x0100000000000000), 256) == 1,
	      "buckets are the high 32 bits scaled to dim");
	CHECK(hemb_sign(2) == 1.0 && hemb_sign(3) == -1.0 && hemb_idf_bucket(0x7, 10) == 3 &&
		      hemb_idf_bucket(UINT64_MAX, 20) == 0xFFFFF,
	      "the sign is bit 0; the IDF bucket bits 1..B");
	CLOSE(hemb_tf_weight(1), 1.0, 0, "tf weight of 1 is 1");
	CLOSE(hemb_tf_weight(10), 1 + log(10.0), 1e-15, "tf weight of 10 is 1 + ln 10");
	CLOSE(hemb_idf_weight(9, 4), 1 + log(2.0), 1e-15, "idf of df 4 in 9 documents is 1 + ln 2");
	CLOSE(hemb_idf_weight(9, 0), 1 + log(10.0), 1e-15, "idf of an unseen feature is finite");
}

/* The embedding computed the slow way from the documented formula, for the given tokens. */
static void naive_embed(const char *const *toks, int n, int lo, int hi, uint32_t dim, double *v)
{
	uint64_t feats[256];
	int nf = 0;
	for (int i = 0; i < n; i++) {
		for (int k = lo; k <= hi && k <= i + 1; k++) {
			uint8_t buf[64];
			for (int j = 0; j < k; j++) {
				const char *t = toks[i + 1 - k + j];
				uint64_t h = XXH3_64bits_withSeed(t, strlen(t), 0);
				for (int b = 0; b < 8; b++)
					buf[8 * j + b] = (uint8_t)(h >> (8 * b));
			}
			feats[nf++] = k == 1 ? XXH3_64bits_withSeed(toks[i], strlen(toks[i]), 0)
					     : XXH3_64bits_withSeed(buf, (size_t)(8 * k), 0);
		}
	}
	memset(v, 0, dim * sizeof *v);
	for (int a = 0; a < nf; a++) {
		int first = 1, tf = 1;
		for (int b = 0; b < nf; b++) {
			first &= !(b < a && feats[b] == feats[a]);
			tf += b != a && feats[b] == feats[a];
		}
		if (!first)
			continue;
		uint64_t h = feats[a];
		double w = 1 + log((double)tf);
		v[(uint32_t)(((h >> 32) * dim) >> 32)] += (h & 1) ? -w : w;
	}
	double ss = 0;
	for (uint32_t k = 0; k < dim; k++)
		ss += v[k] * v[k];
	for (uint32_t k = 0; k < dim; k++)
		v[k] /= sqrt(ss);
}

static double cosine(const float *a, const float *b, uint32_t dim)
{
	double ab = 0, aa = 0, bb = 0;
	for (uint32_t k = 0; k < dim; k++) {
		ab += (double)a[k] * b[k];
		aa += (double)a[k] * a[k];
		bb += (double)b[k] * b[k];
	}
	return ab / sqrt(aa * bb);
}

static long embed(struct hemb_scratch *s, const struct hemb_config *c, const char *text, float *v)
{
	return hemb_embed(c, s, (const uint8_t *)text, strlen(text), v);
}

static void test_vectors(void)
{
	struct hemb_scratch s = {0};
	static float v[HEMB_MAX_DIM], u[HEMB_MAX_DIM];
	static double want[HEMB_MAX_DIM];
	struct hemb_config c = base;
	c.dim = 16;

	const char *toks[] = {"the", "cat", "sat", "on", "the", "mat", ".", "the", "cat", "!"};
	long nf = embed(&s, &c, "The cat sat on the MAT. The cat!", v);
	naive_embed(toks, 10, 1, 2, 16, want);
	double err = 0;
	for (int k = 0; k < 16; k++)
		err = fmax(err, fabs(v[k] - want[k]));
	CHECK(nf == 15, "'The cat sat on the MAT. The cat!' has 7 distinct unigrams and 8 distinct bigrams");
	CLOSE(err, 0, 1e-7, "its vector matches the formula computed naively");
	/* That vector pinned (dim 16, seed 0). */
	static const float pinned[16] = {0, 0, 0, 0, 0.822400093f, 0.374986261f, 0, 0, -0.187493131f, -0.187493131f,
					 0, -0.187493131f, -0.205982268f, -0.187493131f, 0, 0};
	err = 0;
	for (int k = 0; k < 16; k++)
		err = fmax(err, fabs(v[k] - pinned[k]));
	CLOSE(err, 0, 1e-7, "and its pinned value");

	c.dim = 256;
	embed(&s, &c, "Identical text, identical vector.", v);
	embed(&s, &c, "  identical TEXT,\n identical vector.  ", u);
	CLOSE(cosine(v, u, 256), 1.0, 1e-6, "texts equal up to case and whitespace have cosine 1");
	CHECK(memcmp(v, u, sizeof(float) * 256) == 0, "and identical bits");

	struct wnw_rng r;
	wnw_rng_seed(&r, 1);
	char a[4000], b[4000];
	size_t na = 0, nb = 0;
	for (int i = 0; i < 300; i++) {
		na += (size_t)snprintf(a + na, sizeof a - na, "a%llu ", (unsigned long long)wnw_rng_below(&r, 1000000));
		nb += (size_t)snprintf(b + nb, sizeof b - nb, "b%llu ", (unsigned long long)wnw_rng_below(&r, 1000000));
	}
	c.dim = 4096;
	embed(&s, &c, a, v);
	embed(&s, &c, b, u);
	double cab = cosine(v, u, 4096);
	printf("# disjoint vocabularies: cosine %.4f at dim 4096\n", cab);
	CHECK(fabs(cab) < 0.05, "texts with disjoint vocabularies have cosine near 0 (|cos| < 0.05 at dim 4096)");

	/* Unnormalised vectors are sums over features, so the 1-2 vector is the 1 vector plus the 2 vector. */
	c.dim = 64;
	c.unnormalised = 1;
	const char *t1 = "alpha beta gamma delta beta", *t2 = "beta delta alpha beta gamma";
	static float v12[64], u12[64], v1[64], u1[64], v2[64], u2[64];
	c.word_lo = 1, c.word_hi = 2;
	embed(&s, &c, t1, v12);
	embed(&s, &c, t2, u12);
	c.word_lo = 1, c.word_hi = 1;
	embed(&s, &c, t1, v1);
	embed(&s, &c, t2, u1);
	c.word_lo = 2, c.word_hi = 2;
	embed(&s, &c, t1, v2);
	embed(&s, &c, t2, u2);
	double uni = 0, split = 0, bi = 0;
	for (int k = 0; k < 64; k++) {
		uni = fmax(uni, fabs(v1[k] - u1[k]));
		split = fmax(split, fabs((v12[k] - u12[k]) - (v2[k] - u2[k])));
		bi = fmax(bi, fabs(v2[k] - u2[k]));
	}
	CHECK(uni == 0, "reordering words leaves the unigram part unchanged");
	CLOSE(split, 0, 1e-6, "the whole change of the 1-2 vector is the change of its bigram part");
	CHECK(bi > 0.5, "and the bigram part does change");

	c = base;
	CHECK(embed(&s, &c, "", v) == 0 && embed(&s, &c, " \n\t ", u) == 0, "empty and blank texts have no features");
	int zero = 1;
	for (int k = 0; k < 256; k++)
		zero &= v[k] == 0 && u[k] == 0 && !isnan(v[k]);
	CHECK(zero, "and give the zero vector, not NaN");

	c.word_lo = c.word_hi = 0;
	c.char_lo = c.char_hi = 3;
	embed(&s, &c, "Ab cd", v);
	CHECK(s.nfeat == 3 && s.feat[0].hash == hemb_hash_chars(0, "ab ", 3) &&
		      s.feat[1].hash == hemb_hash_chars(0, "b c", 3) && s.feat[2].hash == hemb_hash_chars(0, " cd", 3),
	      "character trigrams run over the normalised text, spaces included");
	c.char_lo = 2;
	c.char_hi = 4;
	CHECK(embed(&s, &c, "\xC3\xA9t\xC3\xA9", v) == 3 && s.feat[0].hash == hemb_hash_chars(0, "\xC3\xA9t", 3),
	      "character n-grams count code points, not bytes");
	CHECK(embed(&s, &c, "ab", v) == 1 && embed(&s, &c, "a", v) == 0, "a text shorter than every order has no features");

	/* Scratch reuse: a long text in between must not change the vector of a short one. */
	c = base;
	embed(&s, &c, "The quick brown fox jumps over the lazy dog.", v);
	size_t big = 1 << 20;
	char *t = malloc(big + 1);
	for (size_t i = 0; i < big; i++)
		t[i] = (char)(i % 7 == 6 ? ' ' : 'a' + wnw_rng_below(&r, 26));
	t[big] = '\0';
	CHECK(embed(&s, &c, t, u) > 100000, "a 1 MB text embeds");
	free(t);
	embed(&s, &c, "The quick brown fox jumps over the lazy dog.", u);
	CHECK(memcmp(v, u, sizeof(float) * 256) == 0, "a reused scratch gives the same bits as before");
	hemb_scratch_free(&s);
}

static void test_ranges(void)
{
	int lo = -1, hi = -1;
	CHECK(hemb_parse_range("1-2", &lo, &hi) == 0 && lo == 1 && hi == 2, "range 1-2");
	CHECK(hemb_parse_range("3", &lo, &hi) == 0 && lo == 3 && hi == 3, "range 3");
	CHECK(hemb_parse_range("0", &lo, &hi) == 0 && lo == 0 && hi == 0, "range 0 is none");
	CHECK(hemb_parse_range("2-1", &lo, &hi) < 0 && hemb_parse_range("0-2", &lo, &hi) < 0 &&
		      hemb_parse_range("1-9", &lo, &hi) < 0 && hemb_parse_range("", &lo, &hi) < 0 &&
		      hemb_parse_range("-1", &lo, &hi) < 0 && hemb_parse_range("1-", &lo, &hi) < 0 &&
		      hemb_parse_range("1x", &lo, &hi) < 0,
	      "bad ranges are refused");
}

/* Nearest neighbours on the demo corpus (five domains; the tests run from the top of the checkout): the share of records whose nearest other record (by
 * cosine) has the same domain, against chance (the sum of squared domain shares). */
#define QN 1230
static void test_domains(void)
{
	FILE *f = popen("zstd -dc demo/pool.jsonl.zst", "r");
	struct hemb_config c = base;
	float *vec = malloc(sizeof(float) * QN * c.dim);
	char dom[QN][16];
	struct hemb_scratch s = {0};
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	while (f && n < QN && getline(&line, &cap, f) > 0) {
		json_t *o = json_loads(line, 0, NULL);
		json_t *t = json_object_get(o, "text"), *d = json_object_get(o, "domain");
		if (t && d) {
			hemb_embed(&c, &s, (const uint8_t *)json_string_value(t), json_string_length(t), vec + (size_t)n * c.dim);
			snprintf(dom[n++], sizeof dom[0], "%s", json_string_value(d));
		}
		json_decref(o);
	}
	if (f)
		pclose(f);
	free(line);
	CHECK(n == QN, "read the %d labelled records of the demo corpus", QN);
	if (n < QN)
		goto out;
	int same = 0;
	for (int i = 0; i < n; i++) {
		int best = i == 0 ? 1 : 0;
		double bs = -2;
		for (int j = 0; j < n; j++) {
			if (j == i)
				continue;
			double d = 0;
			for (uint32_t k = 0; k < c.dim; k++)
				d += vec[(size_t)i * c.dim + k] * vec[(size_t)j * c.dim + k];
			if (d > bs)
				bs = d, best = j;
		}
		same += strcmp(dom[i], dom[best]) == 0;
	}
	double chance = 0;
	for (int i = 0; i < n; i++) {
		int k = 0;
		for (int j = 0; j < n; j++)
			k += strcmp(dom[i], dom[j]) == 0;
		chance += (double)k / n / n;
	}
	printf("# nearest neighbour shares the domain: %.3f (chance %.3f), %d records, dim %u\n",
	       (double)same / n, chance, n, c.dim);
	/* Measured: 0.916 against chance 0.233 (dim 256, word 1-2). */
	CHECK((double)same / n > 0.85 && (double)same / n > 3 * chance,
	      "nearest neighbours share the domain far more often than chance (> 0.85, > 3 x chance)");
out:
	free(vec);
	hemb_scratch_free(&s);
}

int main(void)
{
	test_classes();
	test_utf8();
	test_tokeniser();
	test_levels();
	test_table();
	test_hashes();
	test_vectors();
	test_ranges();
	test_domains();
	return unit_failed;
}
