/* sort.c: the radix sort of keyed values (sort.h). */
#include <stdlib.h>
#include <string.h>

#include "sort.h"

int wnw_sort_keyed(struct wnw_keyed *a, size_t n)
{
	struct wnw_keyed *b = malloc((n ? n : 1) * sizeof *b), *from = a, *to = b;
	uint64_t and = UINT64_MAX, or = 0;

	if (b == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		and &= a[i].key;
		or |= a[i].key;
	}
	for (int sh = 0; sh < 64; sh += 8) {
		if ((((and ^ or) >> sh) & 0xff) == 0)
			continue;
		size_t at[257] = {0};
		for (size_t i = 0; i < n; i++)
			at[((from[i].key >> sh) & 0xff) + 1]++;
		for (int v = 0; v < 256; v++)
			at[v + 1] += at[v];
		for (size_t i = 0; i < n; i++)
			to[at[(from[i].key >> sh) & 0xff]++] = from[i];
		struct wnw_keyed *t = from;
		from = to;
		to = t;
	}
	if (from != a)
		memcpy(a, from, n * sizeof *a);
	free(b);
	return 0;
}
