/* isa512.h: the target of the AVX-512 kernels; include it after <immintrin.h>. A test build (make
 * check-avx512: WNW_SIMDE_AVX512) compiles the same kernels for AVX2, the AVX-512 intrinsics taken from
 * SIMDe's portable forms, so that their logic is tested on CPUs without AVX-512. */
#ifndef WINNOW_ISA512_H
#define WINNOW_ISA512_H

#ifdef WNW_SIMDE_AVX512
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/clmul.h>
#define WNW_TARGET_AVX512 __attribute__((target("avx2,fma,pclmul,sse4.1")))
#else
#define WNW_TARGET_AVX512 \
	__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,vpclmulqdq,pclmul,sse4.1")))
#endif

#endif
