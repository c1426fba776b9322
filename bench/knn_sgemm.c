/* knn_sgemm: the machine's single-precision matrix product peak through OpenBLAS, for bench/knn.sh.
 * Usage: knn_sgemm THREADS; prints the best GFLOP/s over a few shapes (knn-build's own among them). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Best of five runs of C (m x n) = A (m x k) B^T (n x k), in GFLOP/s. */
static double rate(int m, int n, int k)
{
	float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)n * k);
	float *c = malloc(sizeof(float) * (size_t)m * n);
	double best = 0;
	for (size_t i = 0; i < (size_t)m * k; i++)
		a[i] = (float)(i % 7) * 0.1f;
	for (size_t i = 0; i < (size_t)n * k; i++)
		b[i] = (float)(i % 5) * 0.1f;
	for (int r = 0; r < 5; r++) {
		double t = now();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
		t = now() - t;
		if (2.0 * m * n * k / t / 1e9 > best)
			best = 2.0 * m * n * k / t / 1e9;
	}
	free(a);
	free(b);
	free(c);
	return best;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 1;
	openblas_set_num_threads(threads);
	static const int shapes[][3] = {{2048, 2048, 2048}, {1000, 4096, 256}, {512, 8192, 256}, {100, 16384, 256}};
	double best = 0;
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		double g = rate(shapes[s][0], shapes[s][1], shapes[s][2]);
		best = g > best ? g : best;
	}
	printf("%.1f\n", best);
	return 0;
}
