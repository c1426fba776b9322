/* Unit tests for nameset.c: the hash set of string ids' hashes across its growth. */
#include <stdlib.h>

#include "nameset.h"
#include "unit.h"

/* A hash that lands in slot 0 must still be found after the table doubles: growing once copied the
 * empty slots too, each over new slot 0, and forgot what stood there (pack then let a repeated
 * string id through). */
static void test_hashset_growth(void)
{
	struct wnw_hashset s = {0};
	int ok = wnw_hashset_add(&s, 0) == 1;
	/* 60000 more hashes, none a multiple of 2^17, force one doubling from 65536 slots */
	for (uint64_t i = 1; i <= 60000; i++)
		ok &= wnw_hashset_add(&s, i * 3 + 1) == 1;
	CHECK(ok && s.mask + 1 == 1u << 17, "60001 distinct hashes are added and the table doubles once");
	CHECK(wnw_hashset_add(&s, 0) == 0, "the hash in slot 0 is still there after the doubling");
	int again = 1;
	for (uint64_t i = 1; i <= 60000; i++)
		again &= wnw_hashset_add(&s, i * 3 + 1) == 0;
	CHECK(again && s.n == 60001, "every hash added before the doubling is found after it");
	CHECK(wnw_hashset_add(&s, (1ull << 63) - 1) == 1 && wnw_hashset_add(&s, (1ull << 63) - 1) == 0,
	      "the largest hash, 2^63 - 1, is added once");
	wnw_hashset_free(&s);
	CHECK(s.slot == NULL && s.n == 0, "free leaves an empty set");
}

int main(void)
{
	test_hashset_growth();
	return unit_failed;
}
