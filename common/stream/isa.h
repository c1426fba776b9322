/* isa.h: the one choice of kernel level (portable, AVX2, AVX-512) for every hand-written kernel, made
 * once per process from the CPU and WINNOW_ISA (winnow(5) ENVIRONMENT). Never prints, never exits. */
#ifndef WINNOW_ISA_H
#define WINNOW_ISA_H

#include "winnow.h"

/* Ordered: a kernel written for one level runs at every higher one. AVX2 means AVX2, FMA and F16C
 * together (every x86-64 CPU with AVX2 since 2013 has all three); AVX-512 means F, BW and VL. */
enum wnw_isa { WNW_ISA_PORTABLE = 0, WNW_ISA_AVX2 = 1, WNW_ISA_AVX512 = 2 };
#define WNW_ISA_LEVELS 3

/* The level kernels use: the highest the CPU has, lowered to WINNOW_ISA when that names a lower one.
 * Chosen on the first call (any thread; every caller sees the same value) unless wnw_isa_force set it. */
int wnw_isa(void);

/* The highest level the CPU has, whatever the environment says. */
int wnw_isa_cpu(void);

/* "portable", "avx2" or "avx512". */
const char *wnw_isa_name(int level);

/* Checks WINNOW_ISA: returns 0, or -1 with a usage error in e when it is set to no level's name. */
int wnw_isa_check(struct wnw_err *e);

/* For tests that compare levels in one process: from now on wnw_isa() returns min(level, the CPU's).
 * Not safe while kernels run in other threads. */
void wnw_isa_force(int level);

#endif
