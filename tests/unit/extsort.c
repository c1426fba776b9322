/* Unit tests of common/extsort.c: in memory and with many runs spilled and merged, the output is the
 * input sorted (checked against qsort), for empty input and for repeated keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extsort.h"
#include "rng.h"
#include "unit.h"

struct item {
	uint64_t key, pos;
};

static int by_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sorts n items (keys below kmax) with mem bytes of buffer, through qsort with a callback or (pairs)
 * the wnw_pair fast path; 1 when the output equals qsort's. */
static int sorted_ok(size_t n, uint64_t kmax, size_t mem, uint64_t *runs, int pairs)
{
	struct wnw_err e;
	struct wnw_rng r;
	struct item *want = malloc((n + 1) * sizeof *want);
	struct wnw_xsort *x = wnw_xsort_new(sizeof(struct item), pairs ? NULL : by_item, mem, NULL, &e);
	wnw_rng_seed(&r, n);
	for (size_t i = 0; i < n; i++) {
		want[i] = (struct item){wnw_rng_next(&r) % kmax, i};
		wnw_xsort_add(x, &want[i], &e);
	}
	qsort(want, n, sizeof *want, by_item);
	int ok = wnw_xsort_finish(x, &e) == 0;
	const void *got;
	size_t i = 0;
	while (ok && wnw_xsort_next(x, &got, &e) == 1)
		ok = i < n && memcmp(got, &want[i++], sizeof *want) == 0;
	ok = ok && i == n;
	*runs = wnw_xsort_runs(x);
	wnw_xsort_free(x);
	free(want);
	return ok;
}

int main(void)
{
	uint64_t runs;
	CHECK(sorted_ok(0, 10, 1 << 20, &runs, 0) && runs == 0, "empty input");
	CHECK(sorted_ok(1000, UINT64_MAX, 1 << 20, &runs, 0) && runs == 0, "1000 items in memory");
	CHECK(sorted_ok(100000, UINT64_MAX, 16 << 10, &runs, 0) && runs == 98, "100000 items in %llu runs",
	      (unsigned long long)runs);
	CHECK(sorted_ok(100000, 7, 64 << 10, &runs, 0) && runs > 10, "many equal keys across %llu runs",
	      (unsigned long long)runs);
	CHECK(sorted_ok(1025, 100, 1024, &runs, 0) && runs == 17, "a tiny buffer holds 64 items: 17 runs");
	CHECK(sorted_ok(200000, UINT64_MAX, 1 << 30, &runs, 1) && runs == 0, "pairs: 200000 in memory");
	CHECK(sorted_ok(100000, 3, 1 << 30, &runs, 1), "pairs: three distinct keys (quicksort on equal keys)");
	CHECK(sorted_ok(100000, UINT64_MAX, 16 << 10, &runs, 1) && runs == 98, "pairs: 100000 in 98 runs");
	return unit_failed;
}
