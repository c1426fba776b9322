/* Unit tests of common/par.c and sort.c: every item of a job runs once, on any thread count and in
 * either form of the pool; the radix sort orders by key and is stable. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "par.h"
#include "sort.h"
#include "unit.h"

struct count {
	_Atomic int *hits;
	_Atomic int bad; /* a range out of bounds or empty, or a thread index out of range */
	size_t n, most;
	int threads;
};

static void one_item(void *ctx, size_t i, int thread)
{
	struct count *c = ctx;
	if (i >= c->n || thread < 0 || thread >= c->threads)
		c->bad = 1;
	else
		c->hits[i]++;
}

static void one_range(void *ctx, size_t from, size_t to, int thread)
{
	struct count *c = ctx;
	if (from >= to || to > c->n || thread < 0 || thread >= c->threads ||
	    (c->threads > 1 && to - from > (c->most < 2 ? 2 : c->most)))
		c->bad = 1;
	for (size_t i = from; i < to && i < c->n; i++)
		c->hits[i]++;
}

static int each_once(const struct count *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->hits[i] != 1)
			return 0;
	return !c->bad;
}

static void test_pool(int threads)
{
	struct wnw_pool *p = wnw_pool_new(threads);
	CHECK(p != NULL && wnw_pool_threads(p) == threads, "a pool of %d threads starts", threads);
	const size_t sizes[] = {0, 1, 2, 7, 100, 10007};
	int run_ok = 1, range_ok = 1;
	for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
		for (int round = 0; round < 3; round++) { /* jobs one after another reuse the threads */
			int *raw = calloc(sizes[s] + 1, sizeof(int));
			struct count c = {.hits = (_Atomic int *)raw, .n = sizes[s], .threads = threads};
			wnw_pool_run(p, c.n, one_item, &c);
			run_ok &= each_once(&c);
			for (size_t i = 0; i < c.n; i++)
				c.hits[i] = 0;
			c.most = 5;
			wnw_pool_start(p, c.n, c.most, one_range, &c);
			wnw_pool_finish(p);
			range_ok &= each_once(&c);
			free(raw);
		}
	}
	CHECK(run_ok, "%d threads: wnw_pool_run calls every item once", threads);
	CHECK(range_ok, "%d threads: wnw_pool_start and finish cover every item once, ranges within bounds",
	      threads);
	wnw_pool_free(p);
}

static void test_sort(void)
{
	size_t n = 5000;
	struct wnw_keyed *a = malloc(n * sizeof *a);
	uint64_t x = 88172645463325252u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* few distinct keys, spread over high and low bytes, so that stability shows */
		a[i] = (struct wnw_keyed){(x % 37) << 40 | (x % 5), (uint32_t)i};
	}
	CHECK(wnw_sort_keyed(a, n) == 0, "sorts 5000 keyed values");
	int sorted = 1, stable = 1;
	for (size_t i = 1; i < n; i++) {
		sorted &= a[i - 1].key <= a[i].key;
		stable &= a[i - 1].key != a[i].key || a[i - 1].val < a[i].val;
	}
	CHECK(sorted, "keys ascend");
	CHECK(stable, "equal keys keep their order");
	struct wnw_keyed same[3] = {{7, 2}, {7, 0}, {7, 1}};
	CHECK(wnw_sort_keyed(same, 3) == 0 && same[0].val == 2 && same[1].val == 0 && same[2].val == 1,
	      "all keys equal: nothing moves");
	CHECK(wnw_sort_keyed(NULL, 0) == 0, "an empty array sorts");
	free(a);
}

int main(void)
{
	test_pool(1);
	test_pool(2);
	test_pool(5);
	test_sort();
	return unit_failed;
}
