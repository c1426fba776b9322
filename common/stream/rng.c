/* rng.c: xoshiro256** with splitmix64 seeding, and variates built from pure IEEE arithmetic (see rng.h). */
#include "rng.h"

#include <math.h>

uint64_t wnw_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

void wnw_rng_seed(struct wnw_rng *r, uint64_t seed)
{
	uint64_t st = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = wnw_splitmix64(&st);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1; /* cannot happen with splitmix64, but the all-zero state would be a fixed point */
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t wnw_rng_next(struct wnw_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double wnw_rng_uniform(struct wnw_rng *r)
{
	return (double)(wnw_rng_next(r) >> 11) * 0x1p-53;
}

uint64_t wnw_rng_below(struct wnw_rng *r, uint64_t n)
{
	/* Reject the lowest (2^64 mod n) values so that every residue is equally likely. */
	uint64_t threshold = (0 - n) % n;
	for (;;) {
		uint64_t x = wnw_rng_next(r);
		if (x >= threshold)
			return x % n;
	}
}

/* 2*atanh(z) = log((1+z)/(1-z)) by its odd power series; |z| <= 0.25 keeps 16 terms below 1e-19. */
static double two_atanh(double z)
{
	double z2 = z * z, sum = 0;
	for (int k = 31; k >= 3; k -= 2)
		sum = (sum + 1.0 / k) * z2;
	return 2 * z * (1 + sum);
}

/* ln 2 split so that e * LN2_HI is exact for |e| < 2^11 (the fdlibm constants). */
static const double LN2_HI = 6.93147180369123816490e-01;
static const double LN2_LO = 1.90821492927058770002e-10;

double wnw_log(double x)
{
	if (isnan(x) || x < 0)
		return NAN;
	if (x == 0)
		return -INFINITY;
	if (isinf(x))
		return x;
	int e;
	double m = frexp(x, &e); /* exact: x = m * 2^e, m in [0.5, 1) */
	if (m < 0.70710678118654752440) {
		m *= 2;
		e--;
	}
	/* m in [sqrt(1/2), sqrt(2)): z = (m-1)/(m+1) lies in [-0.172, 0.172]. */
	double z = (m - 1) / (m + 1);
	return e * LN2_HI + (e * LN2_LO + two_atanh(z));
}

double wnw_log1p(double x)
{
	if (isnan(x) || x < -1)
		return NAN;
	if (x == -1)
		return -INFINITY;
	if (fabs(x) < 0.4) /* log(1+x) = 2 atanh(x / (2+x)), accurate for small x */
		return two_atanh(x / (2 + x));
	return wnw_log(1 + x);
}

double wnw_exp(double x)
{
	if (isnan(x))
		return x;
	if (x > 709.782712893384)
		return INFINITY;
	if (x < -745.2)
		return 0;
	double k = floor(x * 1.44269504088896340736 + 0.5);
	double rr = (x - k * LN2_HI) - k * LN2_LO; /* |rr| <= 0.347 */
	/* Taylor series to rr^17/17!, below 1e-24 on that interval. */
	double sum = 1;
	for (int n = 17; n >= 1; n--)
		sum = 1 + sum * rr / n;
	return ldexp(sum, (int)k);
}

double wnw_rng_exponential(struct wnw_rng *r)
{
	double u = (double)((wnw_rng_next(r) >> 11) + 1) * 0x1p-53; /* in (0, 1] */
	return -wnw_log(u);
}

/* Binomial(c, p) by inversion for 0 < p <= 0.5 and c*p <= 64, where (1-p)^c >= e^-89 cannot underflow. */
static uint64_t binomial_inversion(struct wnw_rng *r, uint64_t c, double p)
{
	double f = wnw_exp((double)c * wnw_log1p(-p)); /* P(X = 0) */
	double ratio = p / (1 - p);
	double u = wnw_rng_uniform(r);
	uint64_t k = 0;
	while (u >= f && k < c) {
		u -= f;
		k++;
		f *= ratio * (double)(c - k + 1) / (double)k;
		if (f <= 0) /* the remaining tail is below double precision */
			break;
	}
	return k;
}

uint64_t wnw_rng_binomial(struct wnw_rng *r, uint64_t n, double p)
{
	if (n == 0 || !(p > 0))
		return 0;
	if (p >= 1)
		return n;
	if (p > 0.5) /* 1 - p is exact here */
		return n - wnw_rng_binomial(r, n, 1 - p);
	/* A sum of independent binomials with the same p is binomial: split n into chunks of mean <= 64. */
	uint64_t k = 0, left = n;
	while (left > 0) {
		uint64_t c = left;
		if ((double)left * p > 64)
			c = (uint64_t)(64 / p);
		k += binomial_inversion(r, c, p);
		left -= c;
	}
	return k;
}
