/* sort.h: sorting helpers the programs share. */
#ifndef WINNOW_SORT_H
#define WINNOW_SORT_H

#include <stddef.h>
#include <stdint.h>

/* A value (an index, a slot) with its sort key. */
struct wnw_keyed {
	uint64_t key;
	uint32_t val;
};

/* Orders a[0..n) by ascending key, stably: a radix sort, a byte at a time from the lowest, skipping
 * bytes that every key shares (O(n) per byte that varies). Returns 0, or -1 when out of memory (a
 * untouched). */
int wnw_sort_keyed(struct wnw_keyed *a, size_t n);

#endif
