/* nameset.c: see nameset.h. */
#include "nameset.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

void wnw_names_init(struct wnw_names *s) { memset(s, 0, sizeof *s); }

void wnw_names_free(struct wnw_names *s)
{
	free(s->slot), free(s->hash), free(s->off), free(s->text);
	memset(s, 0, sizeof *s);
}

static size_t names_probe(const struct wnw_names *s, uint64_t h, const void *key, size_t len, int *found)
{
	size_t i = (size_t)h & s->mask;
	for (;;) {
		uint32_t v = s->slot[i];
		if (v == 0) {
			*found = 0;
			return i;
		}
		size_t k = v - 1;
		if (s->hash[k] == h && s->off[k + 1] - s->off[k] == len && memcmp(s->text + s->off[k], key, len) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & s->mask;
	}
}

int64_t wnw_names_find(const struct wnw_names *s, const void *key, size_t len)
{
	if (!s->slot)
		return -1;
	int found;
	size_t i = names_probe(s, XXH3_64bits(key, len), key, len, &found);
	return found ? (int64_t)s->slot[i] - 1 : -1;
}

static int names_grow(struct wnw_names *s)
{
	size_t slots = s->slot ? 2 * (s->mask + 1) : 64;
	uint32_t *ns = calloc(slots, sizeof *ns);
	if (!ns)
		return -1;
	for (size_t k = 0; k < s->n; k++) {
		size_t i = (size_t)s->hash[k] & (slots - 1);
		while (ns[i])
			i = (i + 1) & (slots - 1);
		ns[i] = (uint32_t)(k + 1);
	}
	free(s->slot);
	s->slot = ns;
	s->mask = slots - 1;
	return 0;
}

int64_t wnw_names_add(struct wnw_names *s, const void *key, size_t len, int *added)
{
	*added = 0;
	if (s->n >= UINT32_MAX - 1)
		return -1;
	if ((!s->slot || 2 * (s->n + 1) > s->mask + 1) && names_grow(s) < 0)
		return -1;
	uint64_t h = XXH3_64bits(key, len);
	int found;
	size_t i = names_probe(s, h, key, len, &found);
	if (found)
		return (int64_t)s->slot[i] - 1;
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		uint64_t *nh = realloc(s->hash, cap * sizeof *nh);
		if (!nh)
			return -1;
		s->hash = nh;
		size_t *no = realloc(s->off, cap * sizeof *no);
		if (!no)
			return -1;
		s->off = no;
		if (s->n == 0)
			s->off[0] = 0;
		s->cap = cap;
	}
	size_t end = s->off[s->n];
	if (end + len > s->tcap) {
		size_t cap = s->tcap ? 2 * s->tcap : 1024;
		while (cap < end + len)
			cap *= 2;
		char *nt = realloc(s->text, cap);
		if (!nt)
			return -1;
		s->text = nt;
		s->tcap = cap;
	}
	if (len)
		memcpy(s->text + end, key, len);
	s->hash[s->n] = h;
	s->off[s->n + 1] = end + len;
	s->slot[i] = (uint32_t)(s->n + 1);
	*added = 1;
	return (int64_t)s->n++;
}

void wnw_idmap_init(struct wnw_idmap *m) { memset(m, 0, sizeof *m); }

void wnw_idmap_free(struct wnw_idmap *m)
{
	free(m->key), free(m->val), free(m->used);
	memset(m, 0, sizeof *m);
}

static size_t id_slot(uint64_t id, size_t mask)
{
	/* ids are often consecutive: mix them before masking */
	return (size_t)(XXH3_64bits(&id, sizeof id) & mask);
}

uint64_t *wnw_idmap_find(const struct wnw_idmap *m, uint64_t id)
{
	if (!m->used)
		return NULL;
	for (size_t i = id_slot(id, m->mask);; i = (i + 1) & m->mask) {
		if (!m->used[i])
			return NULL;
		if (m->key[i] == id)
			return &m->val[i];
	}
}

static int idmap_grow(struct wnw_idmap *m)
{
	size_t slots = m->used ? 2 * (m->mask + 1) : 1024;
	uint64_t *nk = malloc(slots * sizeof *nk), *nv = malloc(slots * sizeof *nv);
	uint8_t *nu = calloc(slots, 1);
	if (!nk || !nv || !nu) {
		free(nk), free(nv), free(nu);
		return -1;
	}
	for (size_t j = 0; m->used && j <= m->mask; j++) {
		if (!m->used[j])
			continue;
		size_t i = id_slot(m->key[j], slots - 1);
		while (nu[i])
			i = (i + 1) & (slots - 1);
		nu[i] = 1;
		nk[i] = m->key[j];
		nv[i] = m->val[j];
	}
	free(m->key), free(m->val), free(m->used);
	m->key = nk, m->val = nv, m->used = nu;
	m->mask = slots - 1;
	return 0;
}

uint64_t *wnw_idmap_add(struct wnw_idmap *m, uint64_t id, int *added)
{
	*added = 0;
	if ((!m->used || 2 * (m->n + 1) > m->mask + 1) && idmap_grow(m) < 0)
		return NULL;
	size_t i = id_slot(id, m->mask);
	for (; m->used[i]; i = (i + 1) & m->mask)
		if (m->key[i] == id)
			return &m->val[i];
	m->used[i] = 1;
	m->key[i] = id;
	m->val[i] = 0;
	m->n++;
	*added = 1;
	return &m->val[i];
}

static int hashset_grow(struct wnw_hashset *s)
{
	size_t cap = s->slot ? 2 * (s->mask + 1) : 1u << 16;
	uint64_t *slot = calloc(cap, sizeof *slot);
	if (!slot)
		return -1;
	for (size_t i = 0; s->slot && i <= s->mask; i++) {
		if (!s->slot[i])
			continue;
		size_t k = s->slot[i] & (cap - 1);
		while (slot[k])
			k = (k + 1) & (cap - 1);
		slot[k] = s->slot[i];
	}
	free(s->slot);
	s->slot = slot;
	s->mask = cap - 1;
	return 0;
}

int wnw_hashset_add(struct wnw_hashset *s, uint64_t h)
{
	if ((!s->slot || 8 * (s->n + 1) > 7 * (s->mask + 1)) && hashset_grow(s) < 0)
		return -1;
	uint64_t key = h | 1ull << 63;
	size_t k = h & s->mask;
	for (; s->slot[k]; k = (k + 1) & s->mask)
		if (s->slot[k] == key)
			return 0;
	s->slot[k] = key;
	s->n++;
	return 1;
}

void wnw_hashset_free(struct wnw_hashset *s)
{
	free(s->slot);
	memset(s, 0, sizeof *s);
}
