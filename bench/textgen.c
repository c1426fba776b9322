/* textgen.c: benchmark-only generator of a JSON Lines text pool: N records {"id": i, "text": ...} of
 * about LEN bytes of words drawn from 8 topic vocabularies, one in 50 texts a near copy of an earlier one
 * (a word changed), so that dedup and the kNN stages have structure to find. Built by bench/scale.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NWORD 4096
#define RING 4096

static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fputs("usage: textgen N LEN SEED\n", stderr);
		return 2;
	}
	unsigned long long n = strtoull(argv[1], NULL, 10);
	size_t len = strtoul(argv[2], NULL, 10);
	uint64_t s = strtoull(argv[3], NULL, 10);
	static char words[NWORD][12];
	for (int w = 0; w < NWORD; w++) {
		int l = 2 + (int)(next(&s) % 9);
		for (int k = 0; k < l; k++)
			words[w][k] = (char)('a' + next(&s) % 26);
	}
	char(*ring)[1024] = malloc(RING * sizeof *ring);
	if (!ring || len > 1000)
		return 3;
	for (unsigned long long i = 0; i < n; i++) {
		char *t = ring[i % RING];
		if (i >= RING && next(&s) % 50 == 0) {
			memmove(t, ring[next(&s) % RING], sizeof *ring);
			t[next(&s) % (strlen(t) + 1) / 2] = 'q';
		} else {
			size_t at = 0, topic = next(&s) % 8;
			while (at < len) {
				uint64_t r = next(&s);
				/* half the words from the topic's 512, half from all 4096, Zipf-like by squaring */
				size_t w = r & 1 ? topic * 512 + (r >> 8) % 512 * ((r >> 20) % 512) / 512
						 : (r >> 8) % NWORD * ((r >> 24) % NWORD) / NWORD;
				size_t l = strlen(words[w]);
				if (at + l + 1 > len)
					break;
				memcpy(t + at, words[w], l);
				at += l;
				t[at++] = ' ';
			}
			t[at ? at - 1 : 0] = 0;
		}
		printf("{\"id\":%llu,\"text\":\"%s\"}\n", i, t);
	}
	free(ring);
	return ferror(stdout) ? 3 : 0;
}
