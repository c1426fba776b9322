/* knnstore.h: a store of records kept in memory up to a budget and spilled to a temporary file beyond it,
 * or only referred to in the plain input file they came from (knn-build's union, kde-dedup's pool).
 * Like the rest of common/, it never prints and never exits. */
#ifndef WINNOW_KNNSTORE_H
#define WINNOW_KNNSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "winnow.h"

/* Records kept in memory up to a budget of bytes, then spilled to an unlinked temporary file in
 * $TMPDIR (or /tmp), or referred to in their source file. Handles are dense indices in order of
 * addition. */
struct wnw_store;
struct wnw_store *wnw_store_new(uint64_t budget, struct wnw_err *e);
/* Copies rec (its bytes and field offsets); returns its handle or -1 with e set. */
int64_t wnw_store_add(struct wnw_store *s, const struct wnw_rec *rec, struct wnw_err *e);
/* Records of a plain file need not be copied: after wnw_store_source (fd and schema stay valid while s is
 * used), wnw_store_add_ref keeps the place of a record's len bytes at off in that file, and
 * wnw_store_get reads them again from it (through a window, fast when read in file order). */
void wnw_store_source(struct wnw_store *s, int fd, const struct wnw_schema *schema);
int64_t wnw_store_add_ref(struct wnw_store *s, uint64_t off, uint32_t len, struct wnw_err *e);
/* Frees a record that will not be read again. */
int wnw_store_drop(struct wnw_store *s, uint64_t h, struct wnw_err *e);
/* Makes rec the record of handle h (schema set by the caller); valid until the next call on s. */
int wnw_store_get(struct wnw_store *s, uint64_t h, struct wnw_rec *rec, struct wnw_err *e);
/* wnw_store_get of a record whose u64 field fid held id: one read again from the source file must still
 * hold it, or the file changed under the reader (an error, status WNW_EXIT_DATA). */
int wnw_store_get_checked(struct wnw_store *s, uint64_t h, int fid, uint64_t id, struct wnw_rec *rec,
			  struct wnw_err *e);
/* A view holds the buffers records are read into: threads that each have their own may read one store
 * at once with wnw_store_view_get (checked like wnw_store_get_checked; rec valid until the next call
 * with v) while nothing is added to the store or dropped from it. */
struct wnw_store_view;
struct wnw_store_view *wnw_store_view_new(struct wnw_err *e);
int wnw_store_view_get(const struct wnw_store *s, struct wnw_store_view *v, uint64_t h, int fid, uint64_t id,
		       struct wnw_rec *rec, struct wnw_err *e);
/* The same for the len bytes at off in the source file, whether added to the store or not. A caller that
 * knows the records it reads next may pass upto: when the view must read, it reads the file from off
 * through upto (0: the view guesses). */
int wnw_store_view_source(const struct wnw_store *s, struct wnw_store_view *v, uint64_t off, uint32_t len,
			  uint64_t upto, int fid, uint64_t id, struct wnw_rec *rec, struct wnw_err *e);
void wnw_store_view_free(struct wnw_store_view *v);
/* Spans of the source file worth reading at once: records at most this far apart, at most this long. */
#define WNW_STORE_GAP ((uint64_t)8 << 10)
#define WNW_STORE_SPAN ((uint64_t)1 << 20)
/* Hints that record h will be read soon: its bytes, when in memory, are fetched into the cache. */
void wnw_store_prefetch(const struct wnw_store *s, uint64_t h);
uint64_t wnw_store_count(const struct wnw_store *s);
/* The bytes record h takes (in memory, in the temporary file or in the source file). */
size_t wnw_store_size(const struct wnw_store *s, uint64_t h);
/* Bytes written to the temporary file so far (0 when nothing was spilled). */
uint64_t wnw_store_spilled(const struct wnw_store *s);
void wnw_store_free(struct wnw_store *s);

#endif
