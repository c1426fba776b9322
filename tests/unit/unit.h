/* unit.h: a minimal TAP-style harness for the unit tests of common/. */
#ifndef WINNOW_UNIT_H
#define WINNOW_UNIT_H
#include <math.h>
#include <stdio.h>

static int unit_failed;

/* CHECK(cond, intent): prints one TAP line. */
#define CHECK(cond, ...)                                                                       \
	do {                                                                                   \
		int ok_ = !!(cond);                                                            \
		printf("%s - ", ok_ ? "ok" : "not ok");                                        \
		printf(__VA_ARGS__);                                                           \
		printf("\n");                                                                  \
		if (!ok_) {                                                                    \
			printf("#   failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);         \
			unit_failed = 1;                                                       \
		}                                                                              \
	} while (0)

/* CLOSE(a, b, tol, intent): |a - b| <= tol. */
#define CLOSE(a, b, tol, ...)                                                                  \
	do {                                                                                   \
		double a_ = (a), b_ = (b);                                                     \
		CHECK(fabs(a_ - b_) <= (tol), __VA_ARGS__);                                    \
		if (!(fabs(a_ - b_) <= (tol)))                                                 \
			printf("#   got %.17g, want %.17g\n", a_, b_);                         \
	} while (0)

#endif
