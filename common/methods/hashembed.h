/* hashembed.h: the text features of embed-hash(1): a Unicode tokeniser, word and character n-grams,
 * signed feature hashing with XXH3, sublinear term frequency, IDF weights and L2 normalisation.
 * The rules are specified in embed-hash(1); tests/unit/hashembed.c pins them.
 * Like the rest of common/, this never prints and never exits. */
#ifndef WINNOW_HASHEMBED_H
#define WINNOW_HASHEMBED_H

#include <stddef.h>
#include <stdint.h>

#include "winnow.h"

/* Version of the tokenisation and hashing rules, recorded in IDF files: bump it whenever a change
 * would move any feature to another bucket. */
#define HEMB_RULES 1
#define HEMB_MAX_DIM 65536u
#define HEMB_MAX_N 8         /* longest word or character n-gram */
#define HEMB_MAX_TEXT (1u << 30)
#define HEMB_IDF_BITS_MIN 10
#define HEMB_IDF_BITS_MAX 26
#define HEMB_IDF_BITS_DEFAULT 20
#define HEMB_TFW 64

/* Character classes of the tokeniser (see embed-hash(1), TOKENISATION). */
enum { HEMB_SEP = 0, HEMB_WORD = 1, HEMB_PUNCT = 2, HEMB_IGNORE = 3 };

/* An IDF table: weight[b] for every IDF bucket b < 2^bits, from docs documents. */
struct hemb_idf {
	unsigned bits;
	uint64_t docs;
	float *weight;
};

struct hemb_config {
	uint64_t seed;
	uint32_t dim;              /* 1..HEMB_MAX_DIM */
	int word_lo, word_hi;      /* word n-gram orders, 0 0 for none */
	int char_lo, char_hi;      /* character n-gram orders, 0 0 for none */
	const struct hemb_idf *idf; /* NULL: no IDF weighting */
	int unnormalised;          /* 1: skip the L2 normalisation (tests) */
};

/* A distinct feature of one text and its term frequency (count of occurrences). */
struct hemb_feat {
	uint64_t hash;
	uint32_t tf;
};

struct hemb_tok {
	uint32_t off, len; /* bytes of the token in norm */
};

struct hemb_slot {
	uint64_t hash;
	uint32_t idx; /* index into feat; in a table sized for the whole text, the feature's tf */
	uint32_t gen; /* the slot is in use for the current text when gen == scratch gen */
};

/* Per-thread working memory, reused from text to text (it only grows); zero-initialise it. */
struct hemb_scratch {
	uint8_t *norm; /* normalised text: case-folded tokens, one space where separators were */
	size_t nnorm, norm_cap;
	struct hemb_tok *tok;
	size_t ntok, tok_cap;
	uint64_t *th; /* hash of each token */
	size_t th_cap;
	uint64_t *fh; /* hash of each word n-gram, in order, before they are counted */
	size_t fh_cap;
	struct hemb_feat *feat; /* distinct features in order of first occurrence */
	size_t nfeat, feat_cap;
	struct hemb_slot *slot;
	size_t slot_cap;
	uint32_t *first; /* in a table sized for the whole text: the slot of each distinct feature */
	size_t first_cap;
	uint32_t mask, gen;
	int oom; /* a feature was dropped for want of memory */
	double *acc;      /* dim sums, zero between texts */
	uint8_t *mark;    /* mark[b]: bucket b touched by this text */
	uint32_t *touched; /* the touched buckets in order of first touch */
	uint32_t acc_dim;
	double tfw[HEMB_TFW]; /* hemb_tf_weight(tf) for tf < HEMB_TFW, once tfw[1] != 0 */
};

void hemb_scratch_free(struct hemb_scratch *s);

/* Class of a code point: HEMB_WORD for letters, marks, numbers and connector punctuation (L*, M*, N*,
 * Pc), HEMB_SEP for separators and controls (Z*, Cc), HEMB_IGNORE for format characters (Cf),
 * HEMB_PUNCT for everything else (P*, S*, Co, Cn). */
int hemb_class(int32_t cp);

/* Decodes one code point of well-formed UTF-8 (Unicode 3.9, table 3-7) at p < end into *cp and returns
 * its length in bytes; an ill-formed byte gives U+FFFD and length 1. */
size_t hemb_utf8_decode(const uint8_t *p, const uint8_t *end, int32_t *cp);

/* Splits text into tokens (see embed-hash(1)): fills s->norm, s->nnorm, s->tok, s->ntok.
 * Returns 0, or -1 when out of memory or len > HEMB_MAX_TEXT. */
int hemb_tokenise(struct hemb_scratch *s, const uint8_t *text, size_t len);

/* The feature hashes. A word n-gram of one token is the XXH3 of its bytes; of n >= 2 tokens, the XXH3
 * of their n token hashes as 8n little-endian bytes; a character n-gram is the XXH3 of its UTF-8
 * bytes with seed ^ HEMB_CHAR_SEED. */
#define HEMB_CHAR_SEED UINT64_C(0x9E3779B97F4A7C15)
uint64_t hemb_hash_token(uint64_t seed, const void *p, size_t len);
uint64_t hemb_hash_ngram(uint64_t seed, const uint64_t *th, int n);
uint64_t hemb_hash_chars(uint64_t seed, const void *p, size_t len);

/* Bucket of a feature in [0, dim): the high 32 bits scaled to dim (Lemire's multiply-shift range
 * reduction, unbiased to 2^-32 and exact for powers of two); its sign is - when bit 0 is set. */
static inline uint32_t hemb_bucket(uint64_t h, uint32_t dim) { return (uint32_t)(((h >> 32) * dim) >> 32); }
static inline double hemb_sign(uint64_t h) { return (h & 1) ? -1.0 : 1.0; }
/* IDF bucket: bits 1 .. bits of the hash (independent of the sign bit and of the dim bucket). */
static inline uint32_t hemb_idf_bucket(uint64_t h, unsigned bits)
{
	return (uint32_t)(h >> 1) & ((1u << bits) - 1);
}

/* Smoothed inverse document frequency ln((1 + docs) / (1 + df)) + 1: >= 1, finite for df = 0. */
double hemb_idf_weight(uint64_t docs, uint64_t df);
/* Sublinear term frequency weight 1 + ln(tf), tf >= 1. */
double hemb_tf_weight(uint32_t tf);

/* Tokenises text and collects its distinct features with their term frequencies into
 * s->feat[0 .. s->nfeat), in order of first occurrence. Returns 0, or -1 when out of memory. */
int hemb_features(const struct hemb_config *c, struct hemb_scratch *s, const uint8_t *text, size_t len);

/* The embedding of text: out[k] = sum over distinct features f with hemb_bucket(f) = k of
 * sign(f) (1 + ln tf(f)) idf(f), summed in double in order of first occurrence, then divided by the
 * Euclidean norm of out (unless c->unnormalised). A text without features, or whose sum is the zero
 * vector, gives zeros. Returns the number of distinct features (0: zero vector), -1 when out of memory. */
long hemb_embed(const struct hemb_config *c, struct hemb_scratch *s, const uint8_t *text, size_t len,
		float *out);

/* Parses an n-gram order range "N" or "N-M" with 0 <= N <= M <= HEMB_MAX_N, N = 0 only as "0"
 * (none). Returns 0, or -1 when s is not such a range. */
int hemb_parse_range(const char *s, int *lo, int *hi);

/* Checks a configuration; returns 0 or -1 with a message in e (status WNW_EXIT_USAGE). */
int hemb_config_check(const struct hemb_config *c, struct wnw_err *e);

/* The IDF file (see embed-hash(1), IDF FILES): fields bucket:u64, df:u64; first the parameter
 * records, bucket HEMB_IDF_META + key, one per key in key order, then one record per IDF bucket with
 * df > 0, in increasing bucket order. */
#define HEMB_IDF_META ((uint64_t)1 << 32)
enum { HEMB_META_DOCS, HEMB_META_BITS, HEMB_META_SEED, HEMB_META_WORD_LO, HEMB_META_WORD_HI,
       HEMB_META_CHAR_LO, HEMB_META_CHAR_HI, HEMB_META_RULES, HEMB_META_N };

/* Reads an IDF file, checks it against c (seed, n-gram orders, rules) and fills idf. Returns 0, or -1
 * with e set: status WNW_EXIT_DATA for a malformed file, WNW_EXIT_USAGE for a mismatch with c,
 * WNW_EXIT_SYSTEM for I/O. */
int hemb_idf_load(const char *path, const struct hemb_config *c, struct hemb_idf *idf, struct wnw_err *e);
void hemb_idf_free(struct hemb_idf *idf);

#endif
