/* Unit tests of common/rng.c: known outputs of the generators, accuracy of the portable elementary
 * functions against libm, and the moments of the variates. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "rng.h"
#include "unit.h"

static void test_generators(void)
{
	uint64_t st = 0;
	/* splitmix64 from state 0: first outputs as published with the algorithm. */
	CHECK(wnw_splitmix64(&st) == 0xe220a8397b1dcdafu, "splitmix64(0) first output");
	CHECK(wnw_splitmix64(&st) == 0x6e789e6aa1b965f4u, "splitmix64(0) second output");
	/* xoshiro256** from the state {1, 2, 3, 4}: 11520, 0, 1509978240, 1215971899390074240. */
	struct wnw_rng r = {{1, 2, 3, 4}};
	uint64_t a = wnw_rng_next(&r), b = wnw_rng_next(&r), c = wnw_rng_next(&r), d = wnw_rng_next(&r);
	CHECK(a == 11520u && b == 0 && c == 1509978240u && d == 1215971899390074240u,
	      "xoshiro256** from {1,2,3,4} gives the reference sequence");
	struct wnw_rng r1, r2;
	wnw_rng_seed(&r1, 42);
	wnw_rng_seed(&r2, 42);
	int same = 1;
	for (int i = 0; i < 1000; i++)
		same &= wnw_rng_next(&r1) == wnw_rng_next(&r2);
	CHECK(same, "the same seed gives the same sequence");
	wnw_rng_seed(&r2, 43);
	CHECK(wnw_rng_next(&r1) != wnw_rng_next(&r2), "another seed gives another sequence");
}

static void test_elementary(void)
{
	double worst_log = 0, worst_exp = 0, worst_log1p = 0;
	struct wnw_rng r;
	wnw_rng_seed(&r, 7);
	for (int i = 0; i < 100000; i++) {
		double x = ldexp(0.5 + wnw_rng_uniform(&r), (int)wnw_rng_below(&r, 200) - 100);
		double rel = fabs(wnw_log(x) - log(x)) / fmax(fabs(log(x)), 1e-300);
		if (x != 1 && rel > worst_log)
			worst_log = rel;
		double y = (wnw_rng_uniform(&r) - 0.5) * 1400;
		rel = fabs(wnw_exp(y) - exp(y)) / exp(y);
		if (rel > worst_exp)
			worst_exp = rel;
		double z = ldexp(wnw_rng_uniform(&r) - 0.5, -(int)wnw_rng_below(&r, 60));
		rel = fabs(wnw_log1p(z) - log1p(z)) / fabs(log1p(z));
		if (z != 0 && rel > worst_log1p)
			worst_log1p = rel;
	}
	CHECK(worst_log < 4e-16, "wnw_log within 4e-16 relative of libm (worst %.3g)", worst_log);
	CHECK(worst_exp < 4e-15, "wnw_exp within 4e-15 relative of libm over [-700, 700] (worst %.3g)",
	      worst_exp);
	CHECK(worst_log1p < 8e-16, "wnw_log1p within 8e-16 relative of libm near 0 (worst %.3g)", worst_log1p);
	CHECK(wnw_log(0) == -INFINITY && isnan(wnw_log(-1)) && wnw_exp(-800) == 0 && isinf(wnw_exp(800)),
	      "log and exp edge values");
	CHECK(wnw_log1p(-1) == -INFINITY && wnw_log1p(1e-300) == 1e-300, "log1p edge values");
}

static void test_uniform(void)
{
	struct wnw_rng r;
	wnw_rng_seed(&r, 1);
	/* Chi-square of 10 equal bins over 100,000 bounded integers: 9 degrees of freedom, 99.9% point 27.9. */
	long bins[10] = {0};
	for (int i = 0; i < 100000; i++)
		bins[wnw_rng_below(&r, 10)]++;
	double chi = 0;
	for (int i = 0; i < 10; i++)
		chi += (bins[i] - 10000.0) * (bins[i] - 10000.0) / 10000.0;
	CHECK(chi < 27.9, "wnw_rng_below(10) is uniform (chi-square %.2f, 9 df)", chi);
	double lo = 1, hi = 0, sum = 0;
	for (int i = 0; i < 100000; i++) {
		double u = wnw_rng_uniform(&r);
		lo = fmin(lo, u);
		hi = fmax(hi, u);
		sum += u;
	}
	CHECK(lo >= 0 && hi < 1, "uniform doubles lie in [0, 1)");
	CLOSE(sum / 100000, 0.5, 0.0035, "uniform mean is 1/2 (4 standard errors)");
	double es = 0, es2 = 0;
	for (int i = 0; i < 100000; i++) {
		double e = wnw_rng_exponential(&r);
		es += e;
		es2 += e * e;
	}
	CLOSE(es / 100000, 1.0, 0.013, "exponential mean is 1 (4 standard errors)");
	CLOSE(es2 / 100000 - (es / 100000) * (es / 100000), 1.0, 0.04, "exponential variance is 1");
}

/* Mean and variance of many binomial draws against n p and n p (1-p), within 5 standard errors. */
static void check_binomial(uint64_t n, double p, int reps)
{
	struct wnw_rng r;
	wnw_rng_seed(&r, n * 31 + (uint64_t)(p * 1e6));
	double s = 0, s2 = 0;
	uint64_t over = 0;
	for (int i = 0; i < reps; i++) {
		uint64_t k = wnw_rng_binomial(&r, n, p);
		over += k > n;
		s += (double)k;
		s2 += (double)k * (double)k;
	}
	double mean = s / reps, var = s2 / reps - mean * mean;
	double mu = (double)n * p, v = mu * (1 - p);
	double se = sqrt(v / reps) + 1e-12;
	CHECK(over == 0, "binomial(%llu, %g) never exceeds n", (unsigned long long)n, p);
	CHECK(fabs(mean - mu) <= 5 * se, "binomial(%llu, %g) mean %.4f, want %.4f +- %.4f",
	      (unsigned long long)n, p, mean, mu, 5 * se);
	/* The variance of a sample variance is about 2 v^2 / reps for these near-normal cases. */
	CHECK(fabs(var - v) <= 6 * v * sqrt(2.0 / reps) + 1e-9, "binomial(%llu, %g) variance %.4f, want %.4f",
	      (unsigned long long)n, p, var, v);
}

static void test_binomial(void)
{
	check_binomial(10, 0.3, 200000);
	check_binomial(1000, 0.001, 200000);
	check_binomial(100000, 0.01, 20000);   /* several chunks */
	check_binomial(100000, 0.9, 20000);    /* the symmetric branch */
	check_binomial(1000000, 1e-7, 200000); /* rare events */
	struct wnw_rng r;
	wnw_rng_seed(&r, 3);
	CHECK(wnw_rng_binomial(&r, 5, 0) == 0 && wnw_rng_binomial(&r, 5, 1) == 5 &&
		      wnw_rng_binomial(&r, 0, 0.5) == 0,
	      "binomial edge cases");
	/* P(X = 0) for n = 1000, p = 1e-4 is 0.904837: the frequency of zeros over 200,000 draws. */
	long zeros = 0;
	for (int i = 0; i < 200000; i++)
		zeros += wnw_rng_binomial(&r, 1000, 1e-4) == 0;
	CLOSE(zeros / 200000.0, pow(1 - 1e-4, 1000), 0.0033, "binomial P(X=0) matches (1-p)^n");
}

int main(void)
{
	test_generators();
	test_elementary();
	test_uniform();
	test_binomial();
	return unit_failed;
}
