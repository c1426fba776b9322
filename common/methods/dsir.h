/* dsir.h: DSIR's importance weights (Xie et al. 2023; dsir(1)): bag-of-hashed-word-n-gram models of a
 * target and of a raw distribution, and each text's log importance weight under them. The features are
 * embed-hash's (hashembed.h), so one tokeniser and one hash serve both programs.
 * Like the rest of common/, this never prints and never exits. */
#ifndef WINNOW_DSIR_H
#define WINNOW_DSIR_H

#include <stdint.h>

#include "hashembed.h"
#include "winnow.h"

#define DSIR_MAX_BUCKETS (1u << 26)

/* The two models: per bucket, how many n-gram occurrences of the target (of the raw texts) fell in it.
 * After dsir_weights, target[] holds the log weight of each bucket and raw[] is no longer meaningful. */
struct dsir_model {
	struct hemb_config c; /* c.dim is the number of buckets B; word n-grams only, no IDF */
	double *target, *raw; /* B counts each (exact integers up to 2^53) */
	uint64_t tdocs, rdocs; /* texts counted into each */
	int weighted;          /* 1 once dsir_weights has run */
};

/* Zeroed tables of B buckets for word n-grams lo..hi with hash seed; -1 with e set when out of memory
 * or the parameters are out of range (WNW_EXIT_USAGE). */
int dsir_model_init(struct dsir_model *m, uint32_t buckets, int lo, int hi, uint64_t seed, struct wnw_err *e);
void dsir_model_free(struct dsir_model *m);

/* Adds the n-gram occurrences of text to counts (m->target or m->raw). Returns the number of
 * occurrences added, or -1 when out of memory or the text is longer than HEMB_MAX_TEXT. */
long dsir_count(const struct dsir_model *m, struct hemb_scratch *s, double *counts, const uint8_t *text,
		size_t len);

/* Turns the counts into log weights, with add-one (Laplace) smoothing of both models:
 *     target[b] = log((t_b + 1) / (T + B)) - log((r_b + 1) / (R + B))
 * where T, R are the total counts. Logarithms are wnw_log's, the same bits on every machine. */
void dsir_weights(struct dsir_model *m);

/* The log importance weight of text: the sum over its n-gram occurrences of the bucket's log weight
 * (tf times the weight for each distinct n-gram, in order of first occurrence). Needs dsir_weights.
 * Returns 0 with *logw set (0 for a text without n-grams), or -1 when out of memory or too long. */
int dsir_logw(const struct dsir_model *m, struct hemb_scratch *s, const uint8_t *text, size_t len,
	      double *logw);

/* The model file (dsir(1), MODEL FILES): fields bucket:u64, target:u64, raw:u64; first one parameter
 * record per key, bucket DSIR_META + key in key order with the value in target, then one record per
 * bucket with a non-zero count, in increasing bucket order. */
#define DSIR_META ((uint64_t)1 << 32)
enum { DSIR_META_BUCKETS, DSIR_META_WORD_LO, DSIR_META_WORD_HI, DSIR_META_SEED, DSIR_META_RULES,
       DSIR_META_TDOCS, DSIR_META_RDOCS, DSIR_META_N };

/* The parameter values of m, in key order, for writing a model file. */
void dsir_model_meta(const struct dsir_model *m, uint64_t meta[DSIR_META_N]);

/* Reads a model file into m (initialised here). Returns 0, or -1 with e set: WNW_EXIT_DATA for a
 * malformed file (naming it and the record), WNW_EXIT_SYSTEM for I/O or memory. */
int dsir_model_load(const char *path, struct dsir_model *m, struct wnw_err *e);

#endif
