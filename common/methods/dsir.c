/* dsir.c: DSIR's hashed n-gram models and log importance weights (see dsir.h), and the model file. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dsir.h"
#include "rng.h"

int dsir_model_init(struct dsir_model *m, uint32_t buckets, int lo, int hi, uint64_t seed, struct wnw_err *e)
{
	memset(m, 0, sizeof *m);
	if (buckets < 1 || buckets > DSIR_MAX_BUCKETS)
		return wnw_errf(e, WNW_EXIT_USAGE, "%u buckets: not in 1..%u", buckets, DSIR_MAX_BUCKETS);
	if (lo < 1 || hi < lo || hi > HEMB_MAX_N)
		return wnw_errf(e, WNW_EXIT_USAGE, "n-gram orders %d-%d: not within 1-%d", lo, hi, HEMB_MAX_N);
	m->c.seed = seed;
	m->c.dim = buckets;
	m->c.word_lo = lo;
	m->c.word_hi = hi;
	m->target = calloc(buckets, sizeof *m->target);
	m->raw = calloc(buckets, sizeof *m->raw);
	if (m->target == NULL || m->raw == NULL) {
		dsir_model_free(m);
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for two tables of %u buckets", buckets);
	}
	return 0;
}

void dsir_model_free(struct dsir_model *m)
{
	free(m->target);
	free(m->raw);
	m->target = m->raw = NULL;
}

long dsir_count(const struct dsir_model *m, struct hemb_scratch *s, double *counts, const uint8_t *text,
		size_t len)
{
	if (hemb_features(&m->c, s, text, len) < 0)
		return -1;
	long n = 0;
	for (size_t i = 0; i < s->nfeat; i++) {
		counts[hemb_bucket(s->feat[i].hash, m->c.dim)] += s->feat[i].tf;
		n += s->feat[i].tf;
	}
	return n;
}

static double total(const double *c, uint32_t n)
{
	double t = 0;
	for (uint32_t b = 0; b < n; b++)
		t += c[b];
	return t;
}

void dsir_weights(struct dsir_model *m)
{
	uint32_t nb = m->c.dim;
	double lt = wnw_log(total(m->target, nb) + nb), lr = wnw_log(total(m->raw, nb) + nb);
	for (uint32_t b = 0; b < nb; b++)
		m->target[b] = (wnw_log(m->target[b] + 1) - lt) - (wnw_log(m->raw[b] + 1) - lr);
	m->weighted = 1;
}

int dsir_logw(const struct dsir_model *m, struct hemb_scratch *s, const uint8_t *text, size_t len,
	      double *logw)
{
	if (hemb_features(&m->c, s, text, len) < 0)
		return -1;
	double sum = 0;
	for (size_t i = 0; i < s->nfeat; i++)
		sum += s->feat[i].tf * m->target[hemb_bucket(s->feat[i].hash, m->c.dim)];
	*logw = sum;
	return 0;
}

void dsir_model_meta(const struct dsir_model *m, uint64_t meta[DSIR_META_N])
{
	meta[DSIR_META_BUCKETS] = m->c.dim;
	meta[DSIR_META_WORD_LO] = (uint64_t)m->c.word_lo;
	meta[DSIR_META_WORD_HI] = (uint64_t)m->c.word_hi;
	meta[DSIR_META_SEED] = m->c.seed;
	meta[DSIR_META_RULES] = HEMB_RULES;
	meta[DSIR_META_TDOCS] = m->tdocs;
	meta[DSIR_META_RDOCS] = m->rdocs;
}

static const char *const meta_name[DSIR_META_N] = {"buckets", "word_lo", "word_hi", "seed", "rules",
						   "target_docs", "raw_docs"};

/* The parameter records at the head of a model file; leaves the first bucket record in *rec. */
static int read_meta(struct wnw_reader *r, const char *path, const int f[3], uint64_t meta[DSIR_META_N],
		     struct wnw_rec *rec, int *got, struct wnw_err *e)
{
	int k = 0;
	while ((*got = wnw_reader_next(r, rec, e)) == 1) {
		uint64_t b = wnw_get_u64(rec, f[0]);
		if (b < DSIR_META)
			break;
		if (k >= DSIR_META_N || b != DSIR_META + (uint64_t)k)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: record %" PRIu64 ": bucket %" PRIu64
					" is not the parameter record expected here", path, rec->number, b);
		meta[k++] = wnw_get_u64(rec, f[1]);
	}
	if (*got < 0)
		return -1;
	if (k < DSIR_META_N)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: parameter record %s (bucket %" PRIu64 ") missing", path,
				meta_name[k], DSIR_META + (uint64_t)k);
	if (meta[DSIR_META_RULES] != HEMB_RULES)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: made with feature rules %" PRIu64 ", this is version %d",
				path, meta[DSIR_META_RULES], HEMB_RULES);
	return 0;
}

static int read_model(struct wnw_reader *r, const char *path, struct dsir_model *m, struct wnw_err *e)
{
	const struct wnw_schema *sc = wnw_reader_schema(r);
	const int f[3] = {wnw_schema_find(sc, "bucket"), wnw_schema_find(sc, "target"), wnw_schema_find(sc, "raw")};
	for (int i = 0; i < 3; i++)
		if (f[i] < 0 || sc->fields[f[i]].type != WNW_U64)
			return wnw_errf(e, WNW_EXIT_DATA,
					"%s: not a dsir model: it needs fields bucket, target and raw, all u64", path);
	uint64_t meta[DSIR_META_N] = {0};
	struct wnw_rec rec;
	int got;
	if (read_meta(r, path, f, meta, &rec, &got, e) < 0)
		return -1;
	uint64_t nb = meta[DSIR_META_BUCKETS], lo = meta[DSIR_META_WORD_LO], hi = meta[DSIR_META_WORD_HI];
	if (nb < 1 || nb > DSIR_MAX_BUCKETS || lo < 1 || hi < lo || hi > HEMB_MAX_N)
		return wnw_errf(e, WNW_EXIT_DATA, "%s: buckets %" PRIu64 " or n-grams %" PRIu64 "-%" PRIu64
				" out of range", path, nb, lo, hi);
	if (dsir_model_init(m, (uint32_t)nb, (int)lo, (int)hi, meta[DSIR_META_SEED], e) < 0)
		return -1;
	m->tdocs = meta[DSIR_META_TDOCS];
	m->rdocs = meta[DSIR_META_RDOCS];
	uint64_t next = 0; /* the smallest bucket allowed next */
	for (; got == 1; got = wnw_reader_next(r, &rec, e)) {
		uint64_t b = wnw_get_u64(&rec, f[0]), t = wnw_get_u64(&rec, f[1]), w = wnw_get_u64(&rec, f[2]);
		if (b < next || b >= nb)
			return wnw_errf(e, WNW_EXIT_DATA, "%s: record %" PRIu64 ": bucket %" PRIu64
					" out of order or beyond %" PRIu64, path, rec.number, b, nb);
		if (t > (UINT64_C(1) << 53) || w > (UINT64_C(1) << 53))
			return wnw_errf(e, WNW_EXIT_DATA, "%s: record %" PRIu64 ": a count above 2^53", path,
					rec.number);
		m->target[b] = (double)t;
		m->raw[b] = (double)w;
		next = b + 1;
	}
	return got;
}

int dsir_model_load(const char *path, struct dsir_model *m, struct wnw_err *e)
{
	memset(m, 0, sizeof *m);
	struct wnw_reader *r = wnw_reader_open(path, e);
	if (r == NULL)
		return -1;
	int rc = read_model(r, wnw_reader_name(r), m, e);
	wnw_reader_close(r);
	if (rc < 0)
		dsir_model_free(m);
	return rc;
}
