/* extsort.c: sorted runs in one temporary file, merged through a heap of run heads (extsort.h). */
#include "extsort.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

#define MIN_READ (64u << 10)

struct run {
	uint64_t at, end; /* byte range of the run in the file still to read */
	uint8_t *buf;
	size_t have, pos; /* bytes in buf, bytes consumed */
};

struct wnw_xsort {
	size_t size, cap, n; /* item size, items the buffer holds, items in it */
	int (*cmp)(const void *, const void *);
	uint8_t *buf;
	char tmpdir[PATH_MAX];
	int fd;              /* the runs' file, -1 before the first run */
	uint64_t written;
	struct run *runs;
	size_t nruns, runcap;
	size_t *heap, nheap; /* merge: runs by their head item, smallest at the root */
	size_t next;         /* in-memory output: the next item of buf */
	int merging;
	int pairs; /* the struct wnw_pair fast path */
};

static inline int pair_less(const struct wnw_pair *x, const struct wnw_pair *y)
{
	return x->a < y->a || (x->a == y->a && x->b < y->b);
}

static int pair_cmp(const void *p, const void *q)
{
	const struct wnw_pair *x = p, *y = q;
	return pair_less(x, y) ? -1 : pair_less(y, x);
}

static void pair_swap(struct wnw_pair *x, struct wnw_pair *y)
{
	struct wnw_pair t = *x;
	*x = *y;
	*y = t;
}

/* Quicksort of pairs: median-of-three pivots, the smaller side first by recursion and the larger by
 * iteration (stack depth O(log n)), insertion sort below 24 items. */
static void sort_pairs(struct wnw_pair *v, size_t n)
{
	while (n > 24) {
		size_t m = n / 2;
		if (pair_less(&v[m], &v[0]))
			pair_swap(&v[m], &v[0]);
		if (pair_less(&v[n - 1], &v[m])) {
			pair_swap(&v[n - 1], &v[m]);
			if (pair_less(&v[m], &v[0]))
				pair_swap(&v[m], &v[0]);
		}
		struct wnw_pair pivot = v[m];
		size_t i = 0, j = n - 1;
		for (;;) { /* Hoare partition: v[0 .. j] <= pivot <= v[j + 1 ..] */
			while (pair_less(&v[i], &pivot))
				i++;
			while (pair_less(&pivot, &v[j]))
				j--;
			if (i >= j)
				break;
			pair_swap(&v[i++], &v[j--]);
		}
		size_t left = j + 1;
		if (left < n - left) {
			sort_pairs(v, left);
			v += left;
			n -= left;
		} else {
			sort_pairs(v + left, n - left);
			n = left;
		}
	}
	for (size_t i = 1; i < n; i++) {
		struct wnw_pair t = v[i];
		size_t j = i;
		for (; j > 0 && pair_less(&t, &v[j - 1]); j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

static void sort_buffer(struct wnw_xsort *x)
{
	if (x->pairs)
		sort_pairs((struct wnw_pair *)(void *)x->buf, x->n);
	else
		qsort(x->buf, x->n, x->size, x->cmp);
}

struct wnw_xsort *wnw_xsort_new(size_t size, int (*cmp)(const void *, const void *), size_t mem,
				const char *tmpdir, struct wnw_err *e)
{
	struct wnw_xsort *x = calloc(1, sizeof *x);
	tmpdir = wnw_tmpdir(tmpdir);
	if (x == NULL || size == 0) {
		free(x);
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		return NULL;
	}
	if (snprintf(x->tmpdir, sizeof x->tmpdir, "%s", tmpdir) >= (int)sizeof x->tmpdir) {
		free(x);
		wnw_errf(e, WNW_EXIT_USAGE, "%s: temporary directory name too long", tmpdir);
		return NULL;
	}
	x->pairs = cmp == NULL;
	x->size = x->pairs ? sizeof(struct wnw_pair) : size;
	x->cmp = x->pairs ? pair_cmp : cmp;
	x->cap = mem / size < 64 ? 64 : mem / size;
	x->fd = -1;
	x->buf = malloc(x->cap * size);
	if (x->buf == NULL) {
		free(x);
		wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for a sort buffer of %zu bytes", mem);
		return NULL;
	}
	return x;
}

static int open_file(struct wnw_xsort *x, struct wnw_err *e)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/winnow-sort.XXXXXX", x->tmpdir);
	x->fd = mkstemp(path);
	if (x->fd < 0)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "%s: cannot make a temporary file: %s", x->tmpdir,
				strerror(errno));
	unlink(path);
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n, struct wnw_err *e)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "writing a sorted run: %s",
					k < 0 ? strerror(errno) : "no space");
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Sorts the buffer and appends it to the file as one run. */
static int spill(struct wnw_xsort *x, struct wnw_err *e)
{
	if (x->fd < 0 && open_file(x, e) < 0)
		return -1;
	if (x->nruns == x->runcap) {
		size_t c = x->runcap ? 2 * x->runcap : 16;
		struct run *r = realloc(x->runs, c * sizeof *r);
		if (r == NULL)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
		x->runs = r;
		x->runcap = c;
	}
	sort_buffer(x);
	size_t bytes = x->n * x->size;
	if (write_all(x->fd, x->buf, bytes, e) < 0)
		return -1;
	x->runs[x->nruns++] = (struct run){x->written, x->written + bytes, NULL, 0, 0};
	x->written += bytes;
	x->n = 0;
	return 0;
}

int wnw_xsort_add(struct wnw_xsort *x, const void *item, struct wnw_err *e)
{
	if (x->n == x->cap && spill(x, e) < 0)
		return -1;
	memcpy(x->buf + x->n * x->size, item, x->size);
	x->n++;
	return 0;
}

/* Refills run r's buffer; the item at its head is then whole (runs hold whole items). */
static int refill(struct wnw_xsort *x, struct run *r, size_t bufsize, struct wnw_err *e)
{
	size_t want = r->end - r->at < bufsize ? (size_t)(r->end - r->at) : bufsize;
	size_t got = 0;
	while (got < want) {
		ssize_t k = pread(x->fd, r->buf + got, want - got, (off_t)(r->at + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "reading a sorted run: %s",
					k < 0 ? strerror(errno) : "file shorter than written");
		got += (size_t)k;
	}
	r->at += want;
	r->have = want;
	r->pos = 0;
	return 0;
}

static const void *head(const struct wnw_xsort *x, size_t i) { return x->runs[i].buf + x->runs[i].pos; }

static void sift_down(struct wnw_xsort *x, size_t i)
{
	size_t v = x->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= x->nheap)
			break;
		if (c + 1 < x->nheap && x->cmp(head(x, x->heap[c + 1]), head(x, x->heap[c])) < 0)
			c++;
		if (x->cmp(head(x, x->heap[c]), head(x, v)) >= 0)
			break;
		x->heap[i] = x->heap[c];
		i = c;
	}
	x->heap[i] = v;
}

int wnw_xsort_finish(struct wnw_xsort *x, struct wnw_err *e)
{
	if (x->nruns == 0) {
		if (x->n > 1)
			sort_buffer(x);
		return 0;
	}
	if (x->n > 0 && spill(x, e) < 0)
		return -1;
	/* The merge reuses the sort buffer's memory for the runs' read buffers. */
	free(x->buf);
	x->buf = NULL;
	size_t mem = x->cap * x->size, per = mem / x->nruns;
	per = per < MIN_READ ? MIN_READ : per;
	per -= per % x->size;
	x->heap = malloc(x->nruns * sizeof *x->heap);
	if (x->heap == NULL)
		return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory");
	x->cap = per; /* from here on: the bytes of one run buffer */
	for (size_t i = 0; i < x->nruns; i++) {
		if ((x->runs[i].buf = malloc(per)) == NULL)
			return wnw_errf(e, WNW_EXIT_SYSTEM, "out of memory for the merge of %zu runs", x->nruns);
		if (refill(x, &x->runs[i], per, e) < 0)
			return -1;
		x->heap[x->nheap++] = i;
	}
	for (size_t i = x->nheap / 2; i-- > 0;)
		sift_down(x, i);
	x->merging = 1;
	return 0;
}

int wnw_xsort_next(struct wnw_xsort *x, const void **item, struct wnw_err *e)
{
	if (!x->merging) {
		if (x->next >= x->n)
			return 0;
		*item = x->buf + x->size * x->next++;
		return 1;
	}
	if (x->next) { /* advance the run whose item was returned last */
		x->next = 0;
		struct run *r = &x->runs[x->heap[0]];
		r->pos += x->size;
		if (r->pos == r->have) {
			if (r->at < r->end) {
				if (refill(x, r, x->cap, e) < 0)
					return -1;
			} else {
				x->heap[0] = x->heap[--x->nheap];
			}
		}
		if (x->nheap > 0)
			sift_down(x, 0);
	}
	if (x->nheap == 0)
		return 0;
	*item = head(x, x->heap[0]);
	x->next = 1;
	return 1;
}

uint64_t wnw_xsort_runs(const struct wnw_xsort *x) { return x->nruns; }

void wnw_xsort_free(struct wnw_xsort *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->nruns; i++)
		free(x->runs[i].buf);
	free(x->runs);
	free(x->heap);
	free(x->buf);
	if (x->fd >= 0)
		close(x->fd);
	free(x);
}
