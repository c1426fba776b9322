/* Unit tests of common/dupclust.c: exact clusters never join on a hash alone, near clusters join on
 * agreeing signatures and chain transitively, --keep-by picks the largest key, and the clusters do not
 * depend on the sort spilling. */
#include <stdint.h>
#include <string.h>

#include "dupclust.h"
#include "unit.h"

static int clusters_exact(size_t mem, uint64_t *kept)
{
	struct wnw_dups d;
	struct wnw_err e;
	/* texts a b a c b; b and c are given a's hash (a collision) */
	const char *t[] = {"a", "b", "a", "c", "b"};
	if (wnw_dups_init(&d, 0, 0, 0, 0, 0, mem, &e) < 0)
		return -1;
	for (int i = 0; i < 5; i++)
		wnw_dups_add_text(&d, 7, 9, t[i], 1, 0, &e);
	int rc = wnw_dups_cluster(&d, &e);
	for (int i = 0; i < 5; i++)
		kept[i] = wnw_dups_kept(&d, (uint64_t)i);
	wnw_dups_free(&d);
	return rc;
}

int main(void)
{
	struct wnw_dups d;
	struct wnw_err e;
	uint64_t kept[8];

	CHECK(clusters_exact(1 << 20, kept) == 0, "exact clusters");
	CHECK(kept[0] == 0 && kept[1] == 1 && kept[2] == 0 && kept[3] == 3 && kept[4] == 1,
	      "equal hashes join only equal texts: a b a c b -> 0 1 0 3 1");
	CHECK(clusters_exact(16, kept) == 0 && kept[2] == 0 && kept[4] == 1 && kept[3] == 3,
	      "the same with the smallest sort buffer");

	/* Near: 8 positions in 2 bands of 4; need 6 agreeing. r0, r1, r2 share band 0; r0 and r1 agree in
	 * 7, r1 and r2 in 6, r0 and r2 in 5 (r2 fails the first member, joins the previous one); r3 agrees
	 * with nobody in a whole band. */
	uint32_t s[4][8] = {{1, 2, 3, 4, 5, 6, 7, 8},
			    {1, 2, 3, 4, 5, 6, 7, 99},
			    {1, 2, 3, 4, 5, 50, 98, 99},
			    {1, 2, 3, 97, 5, 6, 7, 96}};
	double key[4] = {1, 5, 3, 9};
	CHECK(wnw_dups_init(&d, 1, 8, 2, 6, 1, 1 << 20, &e) == 0, "near clusters with keep-by");
	for (int i = 0; i < 4; i++)
		wnw_dups_add_sig(&d, s[i], key[i], &e);
	CHECK(wnw_dups_cluster(&d, &e) == 0, "clustered");
	CHECK(d.parent[1] == 0 && d.parent[2] == 0, "r0, r1, r2 form one cluster (r0 and r2 through r1)");
	CHECK(d.parent[3] == 3, "r3 shares no whole band with the others: never a candidate");
	CHECK(wnw_dups_kept(&d, 2) == 1 && wnw_dups_kept(&d, 3) == 3, "keep-by keeps the largest key (r1, 5)");
	wnw_dups_free(&d);
	return unit_failed;
}
