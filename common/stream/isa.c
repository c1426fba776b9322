/* isa.c: the kernel level of the process (see isa.h); each kernel site keeps a table indexed by it. */
#include "isa.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

static const char *const names[WNW_ISA_LEVELS] = {"portable", "avx2", "avx512"};

const char *wnw_isa_name(int level)
{
	return level >= 0 && level < WNW_ISA_LEVELS ? names[level] : "unknown";
}

/* The CPU's level, read once: CPUID traps to the hypervisor in a virtual machine, and the CRC asks for
 * the level on every call. */
static int cpu_level(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	unsigned a, b, c, d;
	__builtin_cpu_init();
	/* F16C through CPUID leaf 1, ECX bit 29: clang has no builtin name for it. */
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") || !__get_cpuid(1, &a, &b, &c, &d) ||
	    !((c >> 29) & 1))
		return WNW_ISA_PORTABLE;
#ifdef WNW_SIMDE_AVX512 /* make check-avx512: the AVX-512 kernels emulated on AVX2 (isa512.h) */
	return WNW_ISA_AVX512;
#endif
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl"))
		return WNW_ISA_AVX512;
	return WNW_ISA_AVX2;
#else
	return WNW_ISA_PORTABLE;
#endif
}

int wnw_isa_cpu(void)
{
	static atomic_int cpu = -1;
	int l = atomic_load_explicit(&cpu, memory_order_relaxed);
	if (l < 0) {
		l = cpu_level();
		atomic_store_explicit(&cpu, l, memory_order_relaxed);
	}
	return l;
}

/* The level WINNOW_ISA names, or -1 (unset, empty or unknown). */
static int env_level(void)
{
	const char *s = getenv("WINNOW_ISA");
	for (int i = 0; s && i < WNW_ISA_LEVELS; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int wnw_isa_check(struct wnw_err *e)
{
	const char *s = getenv("WINNOW_ISA");
	if (!s || !*s || env_level() >= 0)
		return 0;
	char q[64];
	wnw_escape(q, sizeof q, s, strlen(s));
	return wnw_errf(e, WNW_EXIT_USAGE, "WINNOW_ISA: '%s' is not portable, avx2 or avx512", q);
}

/* -1 until chosen. Racing first calls compute the same value, so relaxed order is enough. */
static _Atomic int chosen = -1;

int wnw_isa(void)
{
	int l = atomic_load_explicit(&chosen, memory_order_relaxed);
	if (l < 0) {
		int cpu = wnw_isa_cpu(), env = env_level();
		l = env >= 0 && env < cpu ? env : cpu;
		atomic_store_explicit(&chosen, l, memory_order_relaxed);
	}
	return l;
}

void wnw_isa_force(int level)
{
	int cpu = wnw_isa_cpu();
	atomic_store_explicit(&chosen, level < cpu ? level : cpu, memory_order_relaxed);
}
