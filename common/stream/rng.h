/* rng.h: a seeded pseudo-random generator whose output is the same on every machine.
 * The generator is xoshiro256** (Blackman and Vigna) seeded through splitmix64. Everything derived from it
 * here (uniform doubles, bounded integers, exponential and binomial variates) uses only IEEE-754 additions,
 * multiplications, divisions and comparisons, never the C library's transcendental functions, so a seed
 * gives the same numbers whatever the libm or the compiler (winnow builds with -std=c11, which keeps
 * floating-point contraction off). */
#ifndef WINNOW_RNG_H
#define WINNOW_RNG_H

#include <stdint.h>

struct wnw_rng {
	uint64_t s[4];
};

/* splitmix64: advances *state and returns the next output (used for seeding, and as a hash). */
uint64_t wnw_splitmix64(uint64_t *state);
/* Seeds r from one 64-bit seed: four splitmix64 outputs, never the all-zero state. */
void wnw_rng_seed(struct wnw_rng *r, uint64_t seed);
/* Next 64 random bits (xoshiro256**). */
uint64_t wnw_rng_next(struct wnw_rng *r);
/* Uniform double in [0, 1): the top 53 bits of one output, times 2^-53. */
double wnw_rng_uniform(struct wnw_rng *r);
/* Uniform integer in [0, n), n >= 1, without bias (Lemire's multiply-and-reject). */
uint64_t wnw_rng_below(struct wnw_rng *r, uint64_t n);
/* Standard exponential variate, -log(U) with U uniform in (0, 1]. */
double wnw_rng_exponential(struct wnw_rng *r);
/* Binomial(n, p) variate for 0 <= p <= 1, by inversion in chunks (see rng.c); cost O(1 + n*min(p, 1-p)). */
uint64_t wnw_rng_binomial(struct wnw_rng *r, uint64_t n, double p);

/* Portable elementary functions (pure arithmetic, deterministic; relative error about 1e-15).
 * wnw_log: x > 0 finite; returns -inf for 0. wnw_log1p: x > -1. wnw_exp: any x; underflows to 0. */
double wnw_log(double x);
double wnw_log1p(double x);
double wnw_exp(double x);

#endif
