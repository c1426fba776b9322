/* Unit tests of common/stream/spool.c: look-ups return the bytes appended, and the map's share of
 * resident memory stays within the window however much of the file is read. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "spool.h"
#include "unit.h"

#define MIB ((uint64_t)1 << 20)

/* Resident bytes of this process (statm's second field, in pages). */
static uint64_t resident(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f != NULL) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (uint64_t)res * 4096;
}

/* Spools 32 MiB whose every 4 KiB block holds its index, reads each block once through the window and
 * returns the growth of resident memory, or UINT64_MAX when a block reads back wrong. */
static uint64_t read_through(uint64_t window)
{
	struct wnw_spool s;
	struct wnw_err e;
	uint32_t block[1024];
	uint64_t blocks = 32 * MIB / sizeof block, grew = UINT64_MAX, before;
	int wrong = 0;

	if (wnw_spool_open(&s, NULL, &e) < 0)
		return UINT64_MAX;
	for (uint32_t b = 0; b < blocks; b++) {
		for (size_t i = 0; i < 1024; i++)
			block[i] = b;
		if (wnw_spool_add(&s, block, sizeof block, &e) < 0)
			goto out;
	}
	if (wnw_spool_map(&s, &e) < 0)
		goto out;
	s.window = window;
	before = resident();
	/* a stride that visits every block once, out of order */
	for (uint64_t k = 0, b = 0; k < blocks; k++, b = (b + 4099) % blocks) {
		uint32_t got[2];
		memcpy(got, wnw_spool_at(&s, b * sizeof block + 2044, 8), sizeof got);
		wrong |= got[0] != b || got[1] != b;
	}
	grew = wrong ? UINT64_MAX : resident() - before;
out:
	wnw_spool_close(&s);
	return grew;
}

int main(void)
{
	uint64_t small = read_through(MIB), whole = read_through(UINT64_MAX);
	printf("# resident growth: window 1 MiB %llu KiB, no window %llu KiB\n", (unsigned long long)(small >> 10),
	       (unsigned long long)(whole >> 10));
	CHECK(small != UINT64_MAX && whole != UINT64_MAX, "every block reads back as appended");
	CHECK(small <= 4 * MIB, "a 1 MiB window keeps the map's resident share within a few MiB");
	CHECK(whole != UINT64_MAX && whole >= 24 * MIB, "without a window the whole 32 MiB becomes resident");
	return unit_failed;
}
