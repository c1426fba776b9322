/* hashembed.c: tokeniser, n-gram features, signed feature hashing and IDF files of embed-hash(1).
 * Speed matters here (the goal is 150 MB/s of text per core): ASCII takes a branch-free path, 32 bytes
 * at a time with AVX2, a text's working memory lives in a per-thread scratch that only grows, term
 * frequencies are counted in an open-addressing table that is emptied by bumping a generation number,
 * not by clearing it. */
#include "hashembed.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "isa.h"

/* The header-only build of the same XXH3 as libxxhash: identical hashes, but short inputs (most
 * tokens) hash without a call into the shared library. */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* hemb_class() of the ASCII code points: 0 separator, 1 word, 2 punctuation (the unit tests check it
 * against utf8proc). */
static const uint8_t ascii_class[128] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
	2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 1,
	2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 0,
};

void hemb_scratch_free(struct hemb_scratch *s)
{
	free(s->norm);
	free(s->tok);
	free(s->th);
	free(s->fh);
	free(s->first);
	free(s->feat);
	free(s->slot);
	free(s->acc);
	free(s->mark);
	free(s->touched);
	memset(s, 0, sizeof *s);
}

int hemb_class(int32_t cp)
{
	if (cp >= 0 && cp < 128)
		return ascii_class[cp];
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: case UTF8PROC_CATEGORY_PC:
		return HEMB_WORD;
	case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
	case UTF8PROC_CATEGORY_CC:
		return HEMB_SEP;
	case UTF8PROC_CATEGORY_CF:
		return HEMB_IGNORE;
	default:
		return HEMB_PUNCT;
	}
}

size_t hemb_utf8_decode(const uint8_t *p, const uint8_t *end, int32_t *cp)
{
	size_t avail = (size_t)(end - p);
	uint8_t b = p[0];
	*cp = 0xFFFD;
	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	/* Lead bytes and the range of the second byte, which rules out overlong forms, surrogates and
	 * code points above U+10FFFF (Unicode table 3-7). */
	size_t n;
	uint8_t lo = 0x80, hi = 0xBF;
	if (b >= 0xC2 && b <= 0xDF) {
		n = 2;
	} else if (b >= 0xE0 && b <= 0xEF) {
		n = 3;
		if (b == 0xE0) lo = 0xA0;
		if (b == 0xED) hi = 0x9F;
	} else if (b >= 0xF0 && b <= 0xF4) {
		n = 4;
		if (b == 0xF0) lo = 0x90;
		if (b == 0xF4) hi = 0x8F;
	} else {
		return 1;
	}
	if (avail < n || p[1] < lo || p[1] > hi)
		return 1;
	int32_t v = b & (0x7F >> n);
	v = (v << 6) | (p[1] & 0x3F);
	for (size_t i = 2; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 1;
		v = (v << 6) | (p[i] & 0x3F);
	}
	*cp = v;
	return n;
}

static size_t utf8_encode(int32_t cp, uint8_t *o)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xC0 | (cp >> 6));
		o[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xE0 | (cp >> 12));
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (uint8_t)(0xF0 | (cp >> 18));
	o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

/* Writes the full case folding of cp (at most 16 bytes) at o; returns the bytes written. */
static size_t fold_encode(int32_t cp, uint8_t *o)
{
	const utf8proc_property_t *pr = utf8proc_get_property(cp);
	if (pr->casefold_seqindex == UINT16_MAX)
		return utf8_encode(cp, o);
	utf8proc_int32_t buf[4];
	int bound = 0;
	utf8proc_ssize_t n = utf8proc_decompose_char(cp, buf, 4, UTF8PROC_CASEFOLD, &bound);
	if (n < 1 || n > 4)
		return utf8_encode(cp, o);
	size_t k = 0;
	for (utf8proc_ssize_t i = 0; i < n; i++)
		k += utf8_encode(buf[i], o + k);
	return k;
}

/* The feature table starts with room for this many distinct features at most. */
#define TABLE_START 16384u

static int table_resize(struct hemb_scratch *s, size_t want);

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * size);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Room in norm: every byte of input yields at most one byte of output except non-ASCII code points,
 * which may fold to 16 bytes, so before each of those we make sure the rest of the input still fits. */
static int norm_room(struct hemb_scratch *s, size_t n, size_t rest)
{
	return grow((void **)&s->norm, &s->norm_cap, n + rest + 64, 1);
}

static int tok_grow(struct hemb_scratch *s)
{
	return grow((void **)&s->tok, &s->tok_cap, s->ntok + 1, sizeof *s->tok);
}

static inline int tok_push(struct hemb_scratch *s, size_t start, size_t n)
{
	if (s->ntok == s->tok_cap && tok_grow(s) < 0)
		return -1;
	s->tok[s->ntok++] = (struct hemb_tok){(uint32_t)start, (uint32_t)(n - start)};
	return 0;
}

/* The tokeniser's state between code points. */
struct tok_state {
	int cur;      /* class of the token being read; HEMB_SEP between tokens */
	int gap;      /* a separator was seen since the last token */
	size_t start; /* where the token being read starts in norm */
};

/* A code point of class cls != st->cur: ends the current token and maybe starts one at n, after a
 * space when a separator came between it and the previous token. Returns the new n, or -1. */
static inline long tok_switch(struct hemb_scratch *s, struct tok_state *st, int cls, size_t n)
{
	if (st->cur != HEMB_SEP && tok_push(s, st->start, n) < 0)
		return -1;
	st->cur = cls;
	if (cls == HEMB_SEP) {
		st->gap = 1;
		return (long)n;
	}
	if (st->gap && s->ntok > 0)
		s->norm[n++] = ' ';
	st->gap = 0;
	st->start = n;
	return (long)n;
}

/* Bytes of ASCII that ascii_span reads at most per call: tok needs room for one token per byte. */
#define SPAN 4096u

/* The ASCII bytes case-folded: A-Z to a-z. */
static const uint8_t ascii_folded[128] = {
#define F(b) (uint8_t)((unsigned)((b) - 'A') < 26u ? (b) + 32 : (b))
#define F8(b) F(b), F(b + 1), F(b + 2), F(b + 3), F(b + 4), F(b + 5), F(b + 6), F(b + 7)
	F8(0), F8(8), F8(16), F8(24), F8(32), F8(40), F8(48), F8(56),
	F8(64), F8(72), F8(80), F8(88), F8(96), F8(104), F8(112), F8(120),
#undef F8
#undef F
};

#if defined(__x86_64__) || defined(__i386__)
/* Class masks of 32 ASCII bytes: bit i of *word, *sep set when byte i is a word byte, a separator. */
__attribute__((target("avx2"))) static inline void classify32(__m256i v, uint32_t *word, uint32_t *sep)
{
	__m256i digit = _mm256_sub_epi8(v, _mm256_set1_epi8('0'));
	__m256i letter = _mm256_sub_epi8(_mm256_or_si256(v, _mm256_set1_epi8(0x20)), _mm256_set1_epi8('a'));
	__m256i w = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(digit, _mm256_set1_epi8(9)), digit),
				    _mm256_cmpeq_epi8(_mm256_min_epu8(letter, _mm256_set1_epi8(25)), letter));
	w = _mm256_or_si256(w, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('_')));
	__m256i sp = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x20)), v),
				     _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7F)));
	*word = (uint32_t)_mm256_movemask_epi8(w);
	*sep = (uint32_t)_mm256_movemask_epi8(sp);
}

/* 32 ASCII bytes case-folded, separators made spaces, stored at o[0, 32). */
__attribute__((target("avx2"))) static inline void fold32(__m256i v, uint8_t *o)
{
	__m256i up = _mm256_sub_epi8(v, _mm256_set1_epi8('A'));
	up = _mm256_cmpeq_epi8(_mm256_min_epu8(up, _mm256_set1_epi8(25)), up);
	__m256i f = _mm256_add_epi8(v, _mm256_and_si256(up, _mm256_set1_epi8(0x20)));
	__m256i sp = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x20)), v),
				     _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7F)));
	_mm256_storeu_si256((__m256i *)(void *)o, _mm256_blendv_epi8(f, _mm256_set1_epi8(' '), sp));
}

/* ascii_span's work 32 bytes at a time, for blocks whose 32 bytes and the byte after them (the
 * lookahead, when there is one) are ASCII, up to lim. A separator run's space goes where its last
 * byte is, when a token follows (the lookahead tells at a block's end) and one came before (where
 * the scalar loop writes it at the next token's start: the same bytes); st->gap stays set while a
 * run's space is still owed. Token ends are where the class changes; a byte's place in norm is the
 * count of kept bytes before it. Returns where it stopped. */
__attribute__((target("avx2"))) static const uint8_t *ascii_blocks(struct hemb_scratch *s, struct tok_state *st,
								     const uint8_t *p, const uint8_t *end,
								     const uint8_t *lim, size_t *pn)
{
	uint8_t tmp[64] = {0};
	uint8_t *norm = s->norm;
	struct hemb_tok *tok = s->tok;
	size_t n = *pn, ntok = s->ntok, start = st->start;
	int cur = st->cur, gap = st->gap;
	while (p + 32 <= lim && (p + 32 == end || (p + 32 < end && p[32] < 0x80))) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
		if (_mm256_movemask_epi8(v))
			break;
		uint32_t w, sep;
		classify32(v, &w, &sep);
		uint64_t t = ~sep & 0xFFFFFFFFu, pu = t & ~(uint64_t)w;
		uint64_t next_tok = p + 32 < end && ascii_class[p[32]] != HEMB_SEP;
		uint64_t tprev = (t << 1 | (cur != HEMB_SEP)) & 0xFFFFFFFFu;
		uint64_t change = ((w ^ ((uint64_t)w << 1 | (cur == HEMB_WORD))) |
				   (pu ^ (pu << 1 | (cur == HEMB_PUNCT)))) & 0xFFFFFFFFu;
		/* last separators of runs followed by a token, after a token (or an owed space) */
		uint64_t space = sep & (t >> 1 | next_tok << 31);
		if (!gap && cur == HEMB_SEP)
			space &= t ? ~((t & (0 - t)) * 2 - 1) : 0;
		uint64_t keep = t | space;
		if (gap && (t & 1)) { /* a space owed by the scalar loop, whose run ended before p */
			norm[n++] = ' ';
			gap = 0;
		}
		fold32(v, tmp);
		for (uint64_t c = change; c; c &= c - 1) {
			int i = __builtin_ctzll(c);
			size_t off = n + (size_t)__builtin_popcountll(keep & ((UINT64_C(1) << i) - 1));
			tok[ntok] = (struct hemb_tok){(uint32_t)start, (uint32_t)(off - start)};
			ntok += (tprev >> i) & 1;
			start = (t >> i) & 1 ? off : start;
		}
		/* runs of kept bytes, each copied with one 32-byte store (norm has room to spare) */
		for (uint64_t k = keep; k;) {
			int a = __builtin_ctzll(k);
			int b = __builtin_ctzll(~(k >> a)) + a;
			_mm256_storeu_si256((__m256i *)(void *)(norm + n), _mm256_loadu_si256((const __m256i *)(const void *)(tmp + a)));
			n += (size_t)(b - a);
			k &= ~((UINT64_C(1) << b) - 1);
		}
		int last = (int)((t >> 31) ? ((w >> 31) ? HEMB_WORD : HEMB_PUNCT) : HEMB_SEP);
		if (last == HEMB_SEP)
			gap = (gap || cur != HEMB_SEP || t) && !(space >> 31);
		else
			gap = 0;
		cur = last;
		p += 32;
	}
	s->ntok = ntok;
	st->cur = cur;
	st->gap = gap;
	st->start = start;
	*pn = n;
	return p;
}
#endif

/* The tokeniser's loop over a run of ASCII bytes from p, up to SPAN of them: what the general loop
 * in hemb_tokenise does with them, without a branch per byte (token ends are where a predictor
 * fails most). The caller has made room for SPAN more tokens and bytes. Returns where it stopped;
 * *pn is the new length of norm. */
static const uint8_t *ascii_span(struct hemb_scratch *s, struct tok_state *st, const uint8_t *p,
				 const uint8_t *end, size_t *pn)
{
	const uint8_t *lim = (size_t)(end - p) > SPAN ? p + SPAN : end;
#if defined(__x86_64__) || defined(__i386__)
	if (wnw_isa() >= WNW_ISA_AVX2)
		p = ascii_blocks(s, st, p, end, lim, pn);
#endif
	uint8_t *norm = s->norm;
	struct hemb_tok *tok = s->tok;
	size_t n = *pn, ntok = s->ntok, start = st->start;
	int cur = st->cur, gap = st->gap;
	for (; p < lim && *p < 0x80; p++) {
		int cls = ascii_class[*p], in = cls != HEMB_SEP;
		tok[ntok] = (struct hemb_tok){(uint32_t)start, (uint32_t)(n - start)};
		ntok += (cls != cur) & (cur != HEMB_SEP);
		norm[n] = ' ';
		n += (size_t)(in & gap);
		start = (in & (cls != cur)) ? n : start;
		norm[n] = ascii_folded[*p];
		n += (size_t)in;
		gap = (in ^ 1) & (gap | (cur != HEMB_SEP));
		cur = cls;
	}
	s->ntok = ntok;
	st->cur = cur;
	st->gap = gap;
	st->start = start;
	*pn = n;
	return p;
}

int hemb_tokenise(struct hemb_scratch *s, const uint8_t *text, size_t len)
{
	s->nnorm = s->ntok = 0;
	if (len > HEMB_MAX_TEXT || norm_room(s, 0, len) < 0)
		return -1;
	const uint8_t *p = text, *end = text + len;
	struct tok_state st = {HEMB_SEP, 0, 0};
	size_t n = 0;
	long m;
	while (p < end) {
		if (*p < 0x80) {
			if (grow((void **)&s->tok, &s->tok_cap, s->ntok + SPAN + 1, sizeof *s->tok) < 0)
				return -1;
			p = ascii_span(s, &st, p, end, &n);
			continue;
		}
		int32_t cp;
		p += hemb_utf8_decode(p, end, &cp);
		int cls = hemb_class(cp);
		if (cls == HEMB_IGNORE)
			continue;
		if (cls != st.cur) {
			if ((m = tok_switch(s, &st, cls, n)) < 0)
				return -1;
			n = (size_t)m;
		}
		if (cls != HEMB_SEP) {
			if (norm_room(s, n, (size_t)(end - p) + 16) < 0)
				return -1;
			n += fold_encode(cp, s->norm + n);
		}
	}
	if (st.cur != HEMB_SEP && tok_push(s, st.start, n) < 0)
		return -1;
	s->nnorm = n;
	return 0;
}

uint64_t hemb_hash_token(uint64_t seed, const void *p, size_t len) { return XXH3_64bits_withSeed(p, len, seed); }

uint64_t hemb_hash_ngram(uint64_t seed, const uint64_t *th, int n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return XXH3_64bits_withSeed(th, (size_t)n * 8, seed);
#else
	uint64_t le[HEMB_MAX_N];
	for (int i = 0; i < n; i++)
		le[i] = __builtin_bswap64(th[i]);
	return XXH3_64bits_withSeed(le, (size_t)n * 8, seed);
#endif
}

uint64_t hemb_hash_chars(uint64_t seed, const void *p, size_t len)
{
	return XXH3_64bits_withSeed(p, len, seed ^ HEMB_CHAR_SEED);
}

double hemb_idf_weight(uint64_t docs, uint64_t df) { return log((1.0 + (double)docs) / (1.0 + (double)df)) + 1.0; }

double hemb_tf_weight(uint32_t tf) { return tf == 1 ? 1.0 : 1.0 + log((double)tf); }

/* Empties the feature table for a new text and sizes it for about bound distinct features, at most
 * half full; it doubles when it fills up. A small text keeps to a small, cache-resident prefix of a
 * table grown by a big one. */
static int table_prepare(struct hemb_scratch *s, size_t bound)
{
	if (bound > TABLE_START)
		bound = TABLE_START;
	if (grow((void **)&s->feat, &s->feat_cap, bound + 1, sizeof *s->feat) < 0)
		return -1;
	size_t want = 64;
	while (want < 2 * bound)
		want *= 2;
	s->nfeat = 0;
	s->oom = 0;
	return table_resize(s, want);
}

/* Makes the table want slots (a power of two) and puts the features found so far back in. */
static int table_resize(struct hemb_scratch *s, size_t want)
{
	if (want > ((size_t)1 << 32))
		return -1;
	if (want > s->slot_cap) {
		free(s->slot);
		s->slot = calloc(want, sizeof *s->slot);
		if (!s->slot) {
			s->slot_cap = 0;
			return -1;
		}
		s->slot_cap = want;
		s->gen = 0;
	}
	if (++s->gen == 0) { /* generation numbers wrapped: forget every old mark */
		memset(s->slot, 0, s->slot_cap * sizeof *s->slot);
		s->gen = 1;
	}
	s->mask = (uint32_t)(want - 1);
	for (size_t k = 0; k < s->nfeat; k++) {
		uint64_t h = s->feat[k].hash;
		uint32_t i = (uint32_t)(h ^ (h >> 32)) & s->mask;
		while (s->slot[i].gen == s->gen)
			i = (i + 1) & s->mask;
		s->slot[i] = (struct hemb_slot){h, (uint32_t)k, s->gen};
	}
	return 0;
}

/* Room for one more distinct feature; sets s->oom when there is none. */
static int table_room(struct hemb_scratch *s)
{
	if ((s->nfeat == s->feat_cap && grow((void **)&s->feat, &s->feat_cap, s->nfeat + 1, sizeof *s->feat) < 0) ||
	    (2 * (s->nfeat + 1) > (size_t)s->mask + 1 && table_resize(s, 2 * ((size_t)s->mask + 1)) < 0)) {
		s->oom = 1;
		return -1;
	}
	return 0;
}

/* Counts one occurrence of feature h. */
static inline void table_add(struct hemb_scratch *s, uint64_t h)
{
	uint32_t i = (uint32_t)(h ^ (h >> 32)) & s->mask;
	for (;;) {
		struct hemb_slot *sl = &s->slot[i];
		if (sl->gen != s->gen) {
			if ((s->nfeat == s->feat_cap || 2 * (s->nfeat + 1) > (size_t)s->mask + 1)) {
				if (table_room(s) < 0)
					return;
				table_add(s, h); /* the table may have been rebuilt */
				return;
			}
			*sl = (struct hemb_slot){h, (uint32_t)s->nfeat, s->gen};
			s->feat[s->nfeat++] = (struct hemb_feat){h, 1};
			return;
		}
		if (sl->hash == h) {
			struct hemb_feat *f = &s->feat[sl->idx];
			f->tf += f->tf != UINT32_MAX;
			return;
		}
		i = (i + 1) & s->mask;
	}
}

/* The feature table's fields in locals, for table_add_sized: through s, every store could change
 * s->nfeat as far as the compiler knows, so it would reload it. */
struct sized_table {
	struct hemb_slot *slot;
	uint32_t *first;
	size_t nfeat;
	uint32_t mask, gen;
};

/* table_add for a table that table_prepare sized for every feature the text can have: no room to
 * check, the count kept in the slot (its idx) and the slot of each new feature in first[]. Whether h
 * is new or seen before is a coin flip on text, so the lookup ends on one branch, which is taken
 * when the first slot probed decides (mostly), and the outcome selects values: with the hit and the
 * miss as two branches, as a compiler lays out the obvious loop, a third of the time went to
 * mispredictions. */
static inline void table_add_sized(struct sized_table *t, uint64_t h)
{
	uint32_t i = (uint32_t)(h ^ (h >> 32)) & t->mask, hit;
	for (;;) {
		const struct hemb_slot *sl = &t->slot[i];
		uint32_t live = sl->gen == t->gen, same = sl->hash == h, stop = (live ^ 1) | same;
		hit = live & same;
		__asm__("" : "+r"(stop), "+r"(hit)); /* keeps the two tests one branch */
		if (stop)
			break;
		i = (i + 1) & t->mask;
	}
	uint32_t tf = t->slot[i].idx & (0u - hit);
	t->slot[i] = (struct hemb_slot){h, tf + (tf != UINT32_MAX), t->gen};
	t->first[t->nfeat] = i;
	t->nfeat += hit ^ 1;
}

/* The word n-gram of order n ending at token i. */
static inline uint64_t word_ngram(const struct hemb_config *c, const uint64_t *th, size_t i, int n)
{
	return n == 1 ? th[i] : n == 2 ? hemb_hash_ngram(c->seed, th + i - 1, 2) : hemb_hash_ngram(c->seed, th + i + 1 - n, n);
}

/* Flattened: XXH3 inlined with the length of a bigram (16 bytes) known. With the sized table, all
 * the hashes first and then the counting: short loops whose iterations overlap in the CPU. */
__attribute__((flatten)) static void word_features(const struct hemb_config *c, struct hemb_scratch *s, int sized)
{
	uint64_t *th = s->th, *fh = s->fh;
	const struct hemb_tok *tok = s->tok;
	const uint8_t *norm = s->norm;
	size_t ntok = s->ntok, nh = 0;
	if (sized) {
		for (size_t i = 0; i < ntok; i++)
			th[i] = hemb_hash_token(c->seed, norm + tok[i].off, tok[i].len);
		if (c->word_lo == 1 && c->word_hi == 2 && ntok > 0) { /* the default, without the loop over orders */
			fh[nh++] = th[0];
			for (size_t i = 1; i < ntok; i++) {
				fh[nh++] = th[i];
				fh[nh++] = hemb_hash_ngram(c->seed, th + i - 1, 2);
			}
		} else {
			for (size_t i = 0; i < ntok; i++)
				for (int n = c->word_lo; n <= c->word_hi && (size_t)n <= i + 1; n++)
					fh[nh++] = word_ngram(c, th, i, n);
		}
		struct sized_table t = {s->slot, s->first, s->nfeat, s->mask, s->gen};
		for (size_t k = 0; k < nh; k++)
			table_add_sized(&t, fh[k]);
		for (size_t k = s->nfeat; k < t.nfeat; k++) { /* the features, and idx back to table_add's meaning */
			struct hemb_slot *sl = &s->slot[s->first[k]];
			s->feat[k] = (struct hemb_feat){sl->hash, sl->idx};
			sl->idx = (uint32_t)k;
		}
		s->nfeat = t.nfeat;
		return;
	}
	for (size_t i = 0; i < ntok; i++) {
		th[i] = hemb_hash_token(c->seed, norm + tok[i].off, tok[i].len);
		for (int n = c->word_lo; n <= c->word_hi && (size_t)n <= i + 1; n++)
			table_add(s, word_ngram(c, th, i, n));
	}
}

static void char_features(const struct hemb_config *c, struct hemb_scratch *s)
{
	size_t ring[HEMB_MAX_N]; /* start of the last HEMB_MAX_N code points */
	size_t count = 0, pos = 0;
	while (pos < s->nnorm) {
		ring[count % HEMB_MAX_N] = pos;
		count++;
		uint8_t b = s->norm[pos];
		pos += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
		for (int n = c->char_lo; n <= c->char_hi && (size_t)n <= count; n++) {
			size_t from = ring[(count - (size_t)n) % HEMB_MAX_N];
			table_add(s, hemb_hash_chars(c->seed, s->norm + from, pos - from));
		}
	}
}

int hemb_features(const struct hemb_config *c, struct hemb_scratch *s, const uint8_t *text, size_t len)
{
	if (hemb_tokenise(s, text, len) < 0)
		return -1;
	size_t nw = c->word_lo ? (size_t)(c->word_hi - c->word_lo + 1) : 0;
	size_t nc = c->char_lo ? (size_t)(c->char_hi - c->char_lo + 1) : 0;
	/* nnorm bytes bound the code points of the normalised text. */
	size_t bound = s->ntok * nw + s->nnorm * nc;
	if (table_prepare(s, bound) < 0)
		return -1;
	if (nw) {
		if (grow((void **)&s->th, &s->th_cap, s->ntok, sizeof *s->th) < 0)
			return -1;
		int sized = bound <= TABLE_START;
		if (sized && (grow((void **)&s->fh, &s->fh_cap, s->ntok * nw, sizeof *s->fh) < 0 ||
			      grow((void **)&s->first, &s->first_cap, bound + 1, sizeof *s->first) < 0))
			return -1;
		word_features(c, s, sized);
	}
	if (nc)
		char_features(c, s);
	return s->oom ? -1 : 0;
}

/* w with the sign of feature h: -w when bit 0 of h is set. */
static inline double with_sign(double w, uint64_t h)
{
	uint64_t bits;
	memcpy(&bits, &w, sizeof bits);
	bits ^= (h & 1) << 63;
	memcpy(&w, &bits, sizeof w);
	return w;
}

/* The accumulator of dim doubles and its marks stay all zero between texts, so that a text costs time in
 * proportion to its features, not to dim: only the buckets it touched are read and cleared. */
static int acc_prepare(struct hemb_scratch *s, uint32_t dim)
{
	if (s->acc_dim >= dim)
		return 0;
	free(s->acc);
	free(s->mark);
	free(s->touched);
	s->acc = calloc(dim, sizeof *s->acc);
	s->mark = calloc(dim, 1);
	s->touched = malloc((dim + 1) * sizeof *s->touched); /* + 1: hemb_embed stores one ahead */
	s->acc_dim = s->acc && s->mark && s->touched ? dim : 0;
	return s->acc_dim ? 0 : -1;
}

long hemb_embed(const struct hemb_config *c, struct hemb_scratch *s, const uint8_t *text, size_t len,
		float *out)
{
	if (hemb_features(c, s, text, len) < 0 || acc_prepare(s, c->dim) < 0)
		return -1;
	double *acc = s->acc;
	uint8_t *mark = s->mark;
	uint32_t *touched = s->touched, nt = 0;
	const struct hemb_feat *feat = s->feat;
	if (!s->tfw[1])
		for (uint32_t tf = 1; tf < HEMB_TFW; tf++)
			s->tfw[tf] = hemb_tf_weight(tf);
	for (size_t i = 0, nf = s->nfeat; i < nf; i++) {
		uint64_t h = feat[i].hash;
		uint32_t tf = feat[i].tf;
		double w = tf < HEMB_TFW ? s->tfw[tf] : hemb_tf_weight(tf);
		if (c->idf)
			w *= c->idf->weight[hemb_idf_bucket(h, c->idf->bits)];
		uint32_t b = hemb_bucket(h, c->dim);
		/* Branch-free: signs and first touches are coin flips a predictor cannot learn. Flipping the
		 * sign bit is exactly hemb_sign(h) * w. */
		touched[nt] = b;
		nt += !mark[b];
		mark[b] = 1;
		acc[b] += with_sign(w, h);
	}
	double ss = 0;
	for (uint32_t k = 0; k < nt; k++)
		ss += acc[touched[k]] * acc[touched[k]];
	double scale = c->unnormalised ? 1.0 : ss > 0 ? 1.0 / sqrt(ss) : 0.0;
	memset(out, 0, c->dim * sizeof *out);
	for (uint32_t k = 0; k < nt; k++) {
		uint32_t b = touched[k];
		out[b] = (float)(acc[b] * scale);
		acc[b] = 0;
		mark[b] = 0;
	}
	return c->unnormalised || ss > 0 ? (long)s->nfeat : 0;
}

static int parse_order(const char *s, char **end)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, end, 10);
	return errno || v > HEMB_MAX_N ? -1 : (int)v;
}

int hemb_parse_range(const char *s, int *lo, int *hi)
{
	char *end;
	int a = parse_order(s, &end), b = a;
	if (a < 0)
		return -1;
	if (*end == '-') {
		b = parse_order(end + 1, &end);
		if (b < 0)
			return -1;
	}
	if (*end != '\0' || b < a || (a == 0 && b != 0))
		return -1;
	*lo = a;
	*hi = b;
	return 0;
}

int hemb_config_check(const struct hemb_config *c, struct wnw_err *e)
{
	if (c->dim < 1 || c->dim > HEMB_MAX_DIM)
		return wnw_errf(e, WNW_EXIT_USAGE, "dimension %" PRIu32 " out of range 1..%u", c->dim, HEMB_MAX_DIM);
	if (c->word_lo == 0 && c->char_lo == 0)
		return wnw_errf(e, WNW_EXIT_USAGE, "no features: word and character n-grams are both off");
	return 0;
}

void hemb_idf_free(struct hemb_idf *idf)
{
	free(idf->weight);
	idf->weight = NULL;
}

static const char *const meta_name[HEMB_META_N] = {"docs", "bits", "seed", "word_lo", "word_hi",
						   "char_lo", "char_hi", "rules"};

/* Reads the parameter records; leaves the first bucket record in *rec (got = 1) or got = 0 at end. */
static int idf_read_meta(struct wnw_reader *r, const char *path, int fb, int fd, uint64_t meta[HEMB_META_N],
			 struct wnw_rec *rec, int *got, struct wnw_err *e)
{
	int k = 0;
	while ((*got = wnw_reader_next(r, rec, e)) == 1) {
		uint64_t b = wnw_get_u64(rec, fb);
		if (b < HEMB_IDF_META)
			break;
		if (b != HEMB_IDF_META + (uint64_t)k || k >= HEMB_META_N)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: record %" PRIu64 ": bucket %" PRIu64
					" is not the parameter record expected here (%" PRIu64 ")",
					path, rec->number, b, HEMB_IDF_META + (uint64_t)k);
		meta[k++] = wnw_get_u64(rec, fd);
	}
	if (*got < 0)
		return -1;
	if (k < HEMB_META_N)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: parameter record %s (bucket %" PRIu64 ") missing", path,
				meta_name[k], HEMB_IDF_META + (uint64_t)k);
	return 0;
}

static int idf_check_meta(const char *path, const uint64_t m[HEMB_META_N], const struct hemb_config *c,
			  struct wnw_err *e)
{
	if (m[HEMB_META_BITS] < HEMB_IDF_BITS_MIN || m[HEMB_META_BITS] > HEMB_IDF_BITS_MAX)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: bits %" PRIu64 " out of range %d..%d", path,
				m[HEMB_META_BITS], HEMB_IDF_BITS_MIN, HEMB_IDF_BITS_MAX);
	if (m[HEMB_META_RULES] != HEMB_RULES)
		return wnw_errf(e, WNW_EXIT_USAGE, "%s: made with feature rules %" PRIu64 ", this is version %d",
				path, m[HEMB_META_RULES], HEMB_RULES);
	if (m[HEMB_META_SEED] != c->seed)
		return wnw_errf(e, WNW_EXIT_USAGE, "%s: fitted with --seed %" PRIu64 ", not %" PRIu64, path,
				m[HEMB_META_SEED], c->seed);
	if (m[HEMB_META_WORD_LO] != (uint64_t)c->word_lo || m[HEMB_META_WORD_HI] != (uint64_t)c->word_hi)
		return wnw_errf(e, WNW_EXIT_USAGE, "%s: fitted with --word %" PRIu64 "-%" PRIu64 ", not %d-%d",
				path, m[HEMB_META_WORD_LO], m[HEMB_META_WORD_HI], c->word_lo, c->word_hi);
	if (m[HEMB_META_CHAR_LO] != (uint64_t)c->char_lo || m[HEMB_META_CHAR_HI] != (uint64_t)c->char_hi)
		return wnw_errf(e, WNW_EXIT_USAGE, "%s: fitted with --char %" PRIu64 "-%" PRIu64 ", not %d-%d",
				path, m[HEMB_META_CHAR_LO], m[HEMB_META_CHAR_HI], c->char_lo, c->char_hi);
	return 0;
}

static int idf_read(struct wnw_reader *r, const char *path, const struct hemb_config *c, struct hemb_idf *idf,
		    struct wnw_err *e)
{
	const struct wnw_schema *sc = wnw_reader_schema(r);
	int fb = wnw_schema_find(sc, "bucket"), fd = wnw_schema_find(sc, "df");
	if (fb < 0 || fd < 0 || sc->fields[fb].type != WNW_U64 || sc->fields[fd].type != WNW_U64)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: not an IDF file: it needs fields bucket:u64 and df:u64", path);
	uint64_t m[HEMB_META_N] = {0};
	struct wnw_rec rec;
	int got;
	if (idf_read_meta(r, path, fb, fd, m, &rec, &got, e) < 0 || idf_check_meta(path, m, c, e) < 0)
		return -1;
	idf->bits = (unsigned)m[HEMB_META_BITS];
	idf->docs = m[HEMB_META_DOCS];
	size_t nb = (size_t)1 << idf->bits;
	idf->weight = malloc(nb * sizeof *idf->weight);
	if (!idf->weight)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: out of memory for %zu IDF weights", path, nb);
	float w0 = (float)hemb_idf_weight(idf->docs, 0);
	for (size_t i = 0; i < nb; i++)
		idf->weight[i] = w0;
	uint64_t next = 0; /* smallest bucket allowed next */
	for (; got == 1; got = wnw_reader_next(r, &rec, e)) {
		uint64_t b = wnw_get_u64(&rec, fb), df = wnw_get_u64(&rec, fd);
		if (b < next || b >= nb)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: record %" PRIu64 ": bucket %" PRIu64
					" out of order or beyond %zu", path, rec.number, b, nb);
		if (df < 1 || df > idf->docs)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: record %" PRIu64 ": df %" PRIu64
					" not in 1..%" PRIu64 " (docs)", path, rec.number, df, idf->docs);
		idf->weight[b] = (float)hemb_idf_weight(idf->docs, df);
		next = b + 1;
	}
	return got;
}

int hemb_idf_load(const char *path, const struct hemb_config *c, struct hemb_idf *idf, struct wnw_err *e)
{
	memset(idf, 0, sizeof *idf);
	struct wnw_reader *r = wnw_reader_open(path, e);
	if (!r)
		return -1;
	int rc = idf_read(r, path, c, idf, e);
	wnw_reader_close(r);
	if (rc < 0)
		hemb_idf_free(idf);
	return rc;
}
