/* nameset.h: hash sets for joining streams on a key: byte strings (group names) numbered densely in
 * order of first insertion, u64 ids each carrying a u64 value, and a bare set of 63-bit hashes. Open
 * addressing; memory is the keys plus about 16 bytes per entry (8 a slot for the hash set). Never
 * prints, never exits: -1 means out of memory. */
#ifndef WINNOW_NAMESET_H
#define WINNOW_NAMESET_H

#include <stddef.h>
#include <stdint.h>

struct wnw_names {
	size_t n;         /* names held */
	size_t mask;      /* slots - 1 (a power of two) */
	uint32_t *slot;   /* index + 1, or 0 when empty */
	uint64_t *hash;   /* per name */
	size_t *off;      /* per name: start in text; off[n] is the end */
	char *text;       /* the names, back to back */
	size_t cap, tcap; /* capacity of hash/off and of text */
};

void wnw_names_init(struct wnw_names *s);
void wnw_names_free(struct wnw_names *s);
/* Index of the name, or -1 when absent. */
int64_t wnw_names_find(const struct wnw_names *s, const void *key, size_t len);
/* Index of the name, adding it if absent (*added set to 1 then). -1 when out of memory. */
int64_t wnw_names_add(struct wnw_names *s, const void *key, size_t len, int *added);
static inline const char *wnw_names_get(const struct wnw_names *s, size_t i, size_t *len)
{
	*len = s->off[i + 1] - s->off[i];
	return s->text + s->off[i];
}

struct wnw_idmap {
	size_t n, mask;
	uint64_t *key, *val;
	uint8_t *used;
};

void wnw_idmap_init(struct wnw_idmap *m);
void wnw_idmap_free(struct wnw_idmap *m);
/* Pointer to the value of id, or NULL when absent. */
uint64_t *wnw_idmap_find(const struct wnw_idmap *m, uint64_t id);
/* Pointer to the value of id, inserting it with value 0 if absent (*added set to 1 then). NULL when out
 * of memory. The pointer is valid until the next insertion. */
uint64_t *wnw_idmap_add(struct wnw_idmap *m, uint64_t id, int *added);

/* A set of hashes below 2^63 (string ids' u64s, winnow(5)), as they come: 8 bytes a slot, at most 7/8
 * of the slots used (h | 2^63 marks a used slot). */
struct wnw_hashset {
	uint64_t *slot;
	size_t mask, n;
};

/* Adds h (< 2^63): 1 when added, 0 when it was there already, -1 when out of memory. */
int wnw_hashset_add(struct wnw_hashset *s, uint64_t h);
void wnw_hashset_free(struct wnw_hashset *s);

#endif
