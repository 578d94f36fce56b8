/* bench/sgemm-threads.c: times the sgemm products of tfppl's three steps (batch 128) with OpenBLAS, for
 * bench/sgemm-threads.py (which builds it, runs it against each OpenBLAS build and interleaves the runs).
 * Usage: sgemm-threads THREADS ITERATIONS GAP_US  — prints one JSON line: the build (openblas_get_config,
 * openblas_get_parallel), then per product the median µs over ITERATIONS passes through the whole list
 * (GAP_US µs of busy main thread before each product), and the median of the passes' totals.
 * The shapes: the MLP VAE 784-400-50 forward and backward products, and native/conv.c's im2col products
 * of the conv VAE / VQ-VAE (3×3 stride-2 convolutions 1→32→64 on 28×28, in blocks of 910 rows of the
 * patch matrix as conv.c cuts them; the dense layers 3136↔32/16; the VQ-VAE's 1×1 convolutions 64↔16). */
#define _GNU_SOURCE
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char *openblas_get_config(void);
extern int openblas_get_parallel(void);

typedef struct { const char *name; int m, n, k, ta, tb, rows; } Op;  /* rows: block of m (0 = whole) */
static const Op OPS[] = {
  { "mlp enc1 fwd", 128, 400, 784, 0, 0, 0 }, { "mlp enc2 fwd", 128, 100, 400, 0, 0, 0 },
  { "mlp dec1 fwd", 128, 400, 50, 0, 0, 0 },  { "mlp dec2 fwd", 128, 784, 400, 0, 0, 0 },
  { "mlp dec2 dX", 128, 400, 784, 0, 1, 0 },  { "mlp dec2 dW", 400, 784, 128, 1, 0, 0 },
  { "mlp dec1 dX", 128, 50, 400, 0, 1, 0 },   { "mlp dec1 dW", 50, 400, 128, 1, 0, 0 },
  { "mlp enc2 dX", 128, 400, 100, 0, 1, 0 },  { "mlp enc2 dW", 400, 100, 128, 1, 0, 0 },
  { "mlp enc1 dW", 784, 400, 128, 1, 0, 0 },
  { "conv c1 fwd 25088x32x9", 25088, 32, 9, 0, 0, 0 },
  { "conv c1 dW 9x32x25088", 9, 32, 25088, 1, 0, 0 },
  { "conv c2 fwd 7x(910x64x288)", 6272, 64, 288, 0, 0, 910 },
  { "conv c2 dX 7x(910x288x64)", 6272, 288, 64, 0, 1, 910 },
  { "conv c2 dW 7x(288x64x910)", 288, 64, 6272, 1, 0, 910 },
  { "conv t2 25088x9x32", 25088, 9, 32, 0, 1, 0 },
  { "conv dense enc 128x32x3136", 128, 32, 3136, 0, 0, 0 },
  { "conv dense dec 128x3136x16", 128, 3136, 16, 0, 0, 0 },
  { "vq 1x1 6272x16x64", 6272, 16, 64, 0, 0, 0 },
  { "vq 1x1 6272x64x16", 6272, 64, 16, 0, 0, 0 },
};
#define NOPS (sizeof OPS / sizeof OPS[0])

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
static volatile double sink;
static void busy(double us) { double t0 = now(), s = 0; while (now() - t0 < us) s += 1; sink = s; }

static void run(const Op *o, float *A, float *B, float *C) {
  if (o->rows == 0) {
    cblas_sgemm(CblasRowMajor, o->ta ? CblasTrans : CblasNoTrans, o->tb ? CblasTrans : CblasNoTrans, o->m, o->n, o->k, 1.0f,
                A, o->ta ? o->m : o->k, B, o->tb ? o->k : o->n, 0.0f, C, o->n);
  } else if (!o->ta) {  /* blocks of rows of C = A·op(B) */
    for (int r0 = 0; r0 < o->m; r0 += o->rows) {
      int r = o->m - r0 < o->rows ? o->m - r0 : o->rows;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, o->tb ? CblasTrans : CblasNoTrans, r, o->n, o->k, 1.0f, A + (size_t)r0 * o->k, o->k,
                  B, o->tb ? o->k : o->n, 0.0f, C + (size_t)r0 * o->n, o->n);
    }
  } else {  /* C (m×n) = Σ over blocks of k: Aᵀ block · B block, accumulated */
    for (int r0 = 0; r0 < o->k; r0 += o->rows) {
      int r = o->k - r0 < o->rows ? o->k - r0 : o->rows;
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o->m, o->n, r, 1.0f, A + (size_t)r0 * o->m, o->m,
                  B + (size_t)r0 * o->n, o->n, r0 == 0 ? 0.0f : 1.0f, C, o->n);
    }
  }
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1, iters = argc > 2 ? atoi(argv[2]) : 30;
  double gap = argc > 3 ? atof(argv[3]) : 0;
  openblas_set_num_threads(threads);
  float *A = malloc(sizeof(float) << 23), *B = malloc(sizeof(float) << 23), *C = malloc(sizeof(float) << 23);
  for (int i = 0; i < 1 << 23; i++) { A[i] = (float)(i % 97) / 97.0f; B[i] = (float)(i % 89) / 89.0f; C[i] = 0; }
  double *t = malloc(sizeof(double) * NOPS * iters), *tot = malloc(sizeof(double) * iters);
  for (int w = 0; w < 3; w++) for (size_t j = 0; j < NOPS; j++) run(&OPS[j], A, B, C);
  for (int i = 0; i < iters; i++) {
    tot[i] = 0;
    for (size_t j = 0; j < NOPS; j++) {
      if (gap > 0) busy(gap);
      double t0 = now();
      run(&OPS[j], A, B, C);
      t[j * iters + i] = now() - t0;
      tot[i] += t[j * iters + i];
    }
  }
  printf("{\"config\":\"%s\",\"parallel\":%d,\"threads\":%d,\"gap\":%g,\"ops\":{", openblas_get_config(), openblas_get_parallel(), threads, gap);
  for (size_t j = 0; j < NOPS; j++) {
    qsort(t + j * iters, iters, sizeof(double), cmp);
    printf("%s\"%s\":%.1f", j ? "," : "", OPS[j].name, t[j * iters + iters / 2]);
  }
  qsort(tot, iters, sizeof(double), cmp);
  printf("},\"total\":%.1f}\n", tot[iters / 2]);
  return 0;
}
