/* Unit tests of knnunion.c: slots and their reuse, merge mode's lists by query id, and a whole union
 * (copied and spilled, or read again in place) against a brute force, written and read back. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "knnunion.h"
#include "unit.h"

enum { N = 60, M = 3, K = 10 };

static const uint64_t qids[M] = {300, 100, 200}; /* not ascending: pairs must come out ascending */

static uint64_t rec_id(size_t i) { return (i * 37) % 101; }

static void rec_vec(size_t i, float *v)
{
	v[0] = (float)(cos((double)i) * (double)(i % 7 + 1));
	v[1] = (float)(sin(1.3 * (double)i) * (double)(i % 5 + 1));
}

static int write_pool(const char *path)
{
	struct wnw_schema s;
	struct wnw_err e;
	float v[2];
	wnw_schema_init(&s);
	wnw_schema_set(&s, "id", WNW_U64, 0, &e);
	wnw_schema_set(&s, "vec", WNW_VEC, 2, &e);
	struct wnw_writer *w = wnw_writer_open(path, &s, 0, &e);
	for (size_t i = 0; w && i < N; i++) {
		rec_vec(i, v);
		wnw_writer_u64(w, rec_id(i));
		wnw_writer_vec(w, v);
		wnw_writer_end(w, &e);
	}
	int ok = w && wnw_writer_close(w, &e) == 0;
	wnw_schema_free(&s);
	return ok;
}

/* want[j][i]: record i is among query j's K nearest, ranked by (float distance, id); dist[j][i]. */
static void brute(const struct wnw_vecs *q, int want[M][N], float dist[M][N])
{
	float v[2];
	for (size_t j = 0; j < M; j++) {
		for (size_t i = 0; i < N; i++) {
			rec_vec(i, v);
			dist[j][i] = (float)sqrt(wnw_knn_dist2(q->v + j * 2, v, 2));
		}
		for (size_t i = 0; i < N; i++) {
			int before = 0;
			for (size_t x = 0; x < N; x++)
				before += dist[j][x] < dist[j][i] || (dist[j][x] == dist[j][i] && rec_id(x) < rec_id(i));
			want[j][i] = before < K;
		}
	}
}

static void check_slots(struct wnw_knn_union *u)
{
	struct wnw_err e;
	int64_t a = wnw_knn_union_take(u, &e), b = wnw_knn_union_take(u, &e);
	struct wnw_knn_member none = {0};
	wnw_knn_union_fill(u, (uint32_t)a, &none, NULL, &e);
	CHECK(a == 0 && b == 1 && wnw_knn_union_take(u, &e) == 0, "a slot no list took is taken again");
	CHECK(wnw_knn_union_drop(u, 1, &e) == -1 && strcmp(e.msg, "internal error: lost track of slot 1") == 0,
	      "dropping a free slot is an error, not a wrap of its count");
	wnw_knn_union_fill(u, 0, &none, NULL, &e);
	wnw_knn_union_fill(u, 1, &none, NULL, &e);
}

static void check_lists(void)
{
	struct wnw_knn_lists l = {.k = 2};
	struct wnw_err e;
	const uint64_t in[] = {5, 3, 9, 3, 1, 9, 7};
	size_t at = 0;
	int ok = 1;
	for (size_t i = 0; i < sizeof in / sizeof *in && ok; i++)
		ok = wnw_knn_lists_find(&l, in[i], &at, &e) == 0 && l.qid[at] == in[i];
	l.top[1].n = 1; /* marks the list of 3: found again, it is the same list, not a new one */
	ok = ok && wnw_knn_lists_find(&l, 3, &at, &e) == 0 && at == 1 && l.top[1].n == 1;
	l.top[1].n = 0;
	CHECK(ok && l.m == 5 && l.qid[0] == 1 && l.qid[1] == 3 && l.qid[2] == 5 && l.qid[3] == 7 && l.qid[4] == 9,
	      "merge mode's lists: one per query id, kept in ascending id");
	wnw_knn_lists_free(&l);
}

/* Offers every record of the pool file to the lists, keeps them in a union (in place or copied into a
 * store of a 64-byte budget, which spills), then writes it and reads it back. */
static void check_union(const char *path, int in_place)
{
	const char *how = in_place ? "in place" : "copied and spilled";
	struct wnw_err e;
	struct wnw_vecs q;
	int want[M][N];
	float dist[M][N];
	wnw_vecs_init(&q, 2);
	for (size_t j = 0; j < M; j++) {
		uint8_t raw[8];
		float v[2] = {0.3f * (float)j, 0.5f};
		memcpy(raw, v, 8);
		wnw_vecs_add_raw(&q, raw, qids[j]);
	}
	brute(&q, want, dist);
	struct wnw_reader *r = wnw_reader_open(path, &e);
	struct wnw_knn_union u;
	struct wnw_knn_lists l;
	struct wnw_knn_events ev = {0};
	int ok = r && wnw_knn_union_init(&u, r, 0, 64, &e) == 0 && wnw_knn_lists_init(&l, q.id, M, K, &e) == 0;
	CHECK(ok, "a union and its lists (%s)", how);
	if (!ok)
		return;
	u.q = &q;
	u.fv = 1;
	if (in_place)
		ok = wnw_reader_fd(r) >= 0 && wnw_knn_union_in_place(&u, &e) == 0;
	if (!in_place)
		check_slots(&u);
	struct wnw_rec rec;
	for (uint64_t seq = 0; ok && wnw_reader_next(r, &rec, &e) == 1; seq++) {
		struct wnw_knn_member m = {seq, wnw_get_u64(&rec, 0), 0, 0, rec.len, 0};
		int64_t slot = wnw_knn_union_take(&u, &e);
		float v[2];
		wnw_get_vec(&rec, 1, v);
		for (size_t j = 0; j < M && slot >= 0; j++) {
			struct wnw_hit h = {.dist = (float)sqrt(wnw_knn_dist2(q.v + j * 2, v, 2)), .tag = (uint32_t)slot,
					    .id = m.id, .ref = seq};
			wnw_knn_events_record(&ev, &l.top[j], wnw_topk_offer(&l.top[j], &h), &m.refs);
		}
		if (in_place) {
			m.at = wnw_reader_offset(r, &rec);
			m.sum = wnw_knn_record_sum(rec.data, rec.len);
		}
		ok = slot >= 0 && wnw_knn_union_fill(&u, (uint32_t)slot, &m, in_place ? NULL : &rec, &e) == 0 &&
		     wnw_knn_union_drop_out(&u, &ev, &e) == 0;
	}
	struct wnw_knn_pairs pr = {0};
	ok = ok && wnw_knn_union_finish(&u, &l, NULL, &e) == 0 && wnw_knn_union_pairs(&u, &l, &pr, &e) == 0;
	CHECK(ok, "the pool offered, the lists finished, the pairs gathered (%s)", how);
	if (!in_place)
		CHECK(wnw_store_spilled(u.store) > 0, "a 64-byte budget spills the records");
	CHECK(wnw_knn_pairs_repeat(&u, &pr) == 0, "no id repeats (%s)", how);

	/* The union written (two threads) and read back: each record's pairs are the brute force's. */
	char out[] = "/tmp/winnow-knnunion-out-XXXXXX";
	int fd = mkstemp(out);
	struct wnw_schema os;
	struct wnw_edit ed;
	wnw_schema_init(&os);
	struct wnw_pool *pool = wnw_pool_new(2);
	struct wnw_writer *w = NULL;
	ok = ok && fd >= 0 && pool && wnw_schema_copy(&os, wnw_reader_schema(r), &e) == 0 &&
	     wnw_edit_init(&ed, wnw_reader_schema(r), &os, "nbr", WNW_NBR, 0, &e) == 0 &&
	     (w = wnw_writer_open(out, &os, 0, &e)) != NULL && wnw_knn_union_write(&u, &pr, &ed, w, &os, pool, &e) == 0 &&
	     wnw_writer_close(w, &e) == 0;
	size_t n = 0, pairs = 0, wanted = 0;
	uint64_t last = 0;
	struct wnw_reader *back = ok ? wnw_reader_open(out, &e) : NULL;
	ok = back != NULL;
	while (ok && wnw_reader_next(back, &rec, &e) == 1) {
		uint64_t id = wnw_get_u64(&rec, 0);
		size_t i = 0;
		while (i < N && rec_id(i) != id)
			i++;
		ok = i < N && (n == 0 || id > last);
		for (uint32_t k = 0, c = wnw_nbr_count(&rec, 2); ok && k < c; k++) {
			struct wnw_nbr nb = wnw_nbr_at(&rec, 2, k);
			size_t j = 0;
			while (j < M && qids[j] != nb.id)
				j++;
			ok = j < M && want[j][i] && nb.dist == dist[j][i] && (k == 0 || nb.id > wnw_nbr_at(&rec, 2, k - 1).id);
			pairs++;
		}
		last = id;
		n++;
	}
	for (size_t j = 0; j < M; j++)
		for (size_t i = 0; i < N; i++)
			wanted += (size_t)want[j][i];
	CHECK(ok && n == pr.n && pairs == wanted && wanted == M * K,
	      "the union written, in ascending id, each record with its (query id, distance) pairs in ascending "
	      "query id, as the brute force has them (%s: %zu records, %zu pairs)", how, n, pairs);
	if (in_place) {
		CHECK(wnw_knn_union_unchanged(&u, &e) == 0, "in place: the input file left alone is unchanged");
		FILE *f = fopen(path, "ab");
		if (f) {
			fputc(0, f);
			fclose(f);
		}
		CHECK(wnw_knn_union_unchanged(&u, &e) == -1 && e.status == WNW_EXIT_DATA && strstr(e.msg, "changed"),
		      "in place: a byte appended to the input file is found (%s)", e.msg);
	}
	if (back)
		wnw_reader_close(back);
	if (fd >= 0) {
		close(fd);
		unlink(out);
	}
	wnw_schema_free(&os);
	wnw_pool_free(pool);
	wnw_knn_pairs_free(&pr);
	wnw_knn_events_free(&ev);
	wnw_knn_lists_free(&l);
	wnw_knn_union_free(&u);
	wnw_reader_close(r);
	wnw_vecs_free(&q);
}

/* A record's checksum changes when any one byte of it does, in its 16-byte blocks or in the tail past
 * them, and with its length; records of 1,036 bytes (d = 256), shorter than a block, and of whole
 * blocks. */
static void check_record_sum(void)
{
	static const uint32_t lens[] = {1036, 7, 16, 40, 1024};
	uint8_t b[1036];
	int found = 1;
	for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
		uint32_t n = lens[l];
		for (uint32_t i = 0; i < n; i++)
			b[i] = (uint8_t)(i * 131 + 7);
		uint32_t s = wnw_knn_record_sum(b, n);
		found &= wnw_knn_record_sum(b, n) == s && wnw_knn_record_sum(b, n - 1) != s;
		for (uint32_t i = 0; i < n; i++)
			for (int bit = 0; bit < 8; bit += 3) {
				b[i] ^= (uint8_t)(1u << bit);
				found &= wnw_knn_record_sum(b, n) != s;
				b[i] ^= (uint8_t)(1u << bit);
			}
	}
	CHECK(found, "a record's checksum changes with any one byte of it, and with its length");
}

int main(void)
{
	check_record_sum();
	char path[] = "/tmp/winnow-knnunion-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0 && write_pool(path), "a pool file");
	check_lists();
	check_union(path, 0);
	check_union(path, 1);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	return unit_failed;
}
