/* Unit tests of isa.c: WINNOW_ISA's check, the cap on the level, and every kernel level the CPU has
 * giving the portable level's bits (the end-to-end form is tests/e2e/isa.sh). */
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "isa.h"
#include "knn.h"
#include "minhash.h"
#include "pursuit.h"
#include "rng.h"
#include "unit.h"

#define NV 97
#define DMAX 300

/* One pass of every dispatched kernel at the current level, its results in out (n words). */
static size_t run_kernels(const float *v, const uint8_t *bytes, size_t nb, uint32_t *out)
{
	static const size_t dims[] = {1, 7, 8, 16, 31, 64, 100, 256, 300};
	size_t n = 0;
	for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
		size_t d = dims[k];
		float f = wnw_knn_norm2(v, d);
		double g = wnw_knn_dist2(v, v + DMAX, d);
		float p = pur_dot(v, v + 2 * DMAX, (uint32_t)d);
		memcpy(&out[n++], &f, 4);
		memcpy(&out[n], &g, 8), n += 2;
		memcpy(&out[n++], &p, 4);
	}
	for (size_t len = 0; len < nb; len += len < 300 ? 1 : 4099)
		out[n++] = wnw_crc32(0, bytes, len);
	struct mh_perms pm;
	mh_perms_init(&pm, 256, 42);
	uint64_t h[NV];
	for (int i = 0; i < NV; i++)
		h[i] = (uint64_t)i * 0x9e3779b97f4a7c15u;
	mh_signature(&pm, h, NV, out + n);
	return n + 256;
}

int main(void)
{
	CHECK(strcmp(wnw_isa_name(WNW_ISA_PORTABLE), "portable") == 0 && strcmp(wnw_isa_name(WNW_ISA_AVX2), "avx2") == 0 &&
		      strcmp(wnw_isa_name(WNW_ISA_AVX512), "avx512") == 0 && strcmp(wnw_isa_name(7), "unknown") == 0,
	      "level names");

	struct wnw_err e = {0};
	unsetenv("WINNOW_ISA");
	CHECK(wnw_isa_check(&e) == 0, "WINNOW_ISA unset is accepted");
	setenv("WINNOW_ISA", "avx2", 1);
	CHECK(wnw_isa_check(&e) == 0, "WINNOW_ISA=avx2 is accepted");
	setenv("WINNOW_ISA", "AVX2\x1b", 1);
	CHECK(wnw_isa_check(&e) == -1 && e.status == WNW_EXIT_USAGE && strstr(e.msg, "'AVX2\\x1b'"),
	      "an unknown WINNOW_ISA is a usage error quoting it escaped: %s", e.msg);
	setenv("WINNOW_ISA", "portable", 1);
	CHECK(wnw_isa() == WNW_ISA_PORTABLE, "WINNOW_ISA=portable lowers the first choice");
	unsetenv("WINNOW_ISA");
	CHECK(wnw_isa() == WNW_ISA_PORTABLE, "the choice is made once");
	wnw_isa_force(WNW_ISA_AVX512);
	CHECK(wnw_isa() == wnw_isa_cpu(), "a forced level is capped at the CPU's (%s)", wnw_isa_name(wnw_isa_cpu()));

	struct wnw_rng s;
	wnw_rng_seed(&s, 1);
	float *v = malloc(3 * DMAX * sizeof *v);
	size_t nb = 70000;
	uint8_t *bytes = malloc(nb);
	for (size_t i = 0; i < 3 * DMAX; i++)
		v[i] = (float)(wnw_rng_uniform(&s) * 2.0 - 1.0) * (i % 5 == 0 ? 1000.0f : 1.0f);
	for (size_t i = 0; i < nb; i++)
		bytes[i] = (uint8_t)wnw_rng_next(&s);
	static uint32_t base[4096], got[4096];
	wnw_isa_force(WNW_ISA_PORTABLE);
	size_t n = run_kernels(v, bytes, nb, base);
	for (int l = WNW_ISA_AVX2; l <= wnw_isa_cpu(); l++) {
		wnw_isa_force(l);
		size_t m = run_kernels(v, bytes, nb, got);
		CHECK(m == n && memcmp(base, got, n * 4) == 0, "level %s gives the portable bits in %zu results",
		      wnw_isa_name(l), n);
	}
	printf("# levels on this CPU: portable to %s\n", wnw_isa_name(wnw_isa_cpu()));
	free(v);
	free(bytes);
	return unit_failed;
}
