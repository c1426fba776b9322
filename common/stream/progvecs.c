/* progvecs.c: prog.h's die-on-error wrapper of knn.h's vector sets, in a file of its own so that only
 * the programs that read vectors link knn.c, and with it OpenBLAS, whose threads spin at start-up. */
#include "knn.h"
#include "prog.h"

void wnw_xvecs_add(const struct wnw_cmd *cmd, struct wnw_vecs *x, const struct wnw_reader *r,
		   const struct wnw_rec *rec, int fv, const char *field, uint64_t id)
{
	long bad = wnw_vecs_add_raw(x, wnw_get_vec_raw(rec, fv), id);
	if (bad == -1)
		return;
	if (bad == -2)
		wnw_die(cmd, WNW_EXIT_SYSTEM, "out of memory");
	if (bad == (long)x->d)
		wnw_die(cmd, WNW_EXIT_DATA, "%s: record %llu: the squared norm of %s overflows a float",
			wnw_reader_name(r), (unsigned long long)rec->number, field);
	wnw_die(cmd, WNW_EXIT_DATA, "%s: record %llu: component %ld of %s is not a finite number",
		wnw_reader_name(r), (unsigned long long)rec->number, bad, field);
}
