/*
 * gemm(heap, batch, m, n, k, transA, transB, offA, strideA, offB, strideB, offC)
 *   C_i = op(A_i) · op(B_i) for i < batch, with OpenBLAS's cblas_sgemm
 *   (row-major; strides in elements, 0 for a broadcast operand).
 * setThreads(n, everyProduct = 0): the accelerator's threads (parallel.c; OpenBLAS itself stays at one). A product
 *   is split into n shares of C's rows or columns where a second thread paid when measured: every side ≥ 32 and
 *   m·n·k ≥ 2^22 (bench/RESULTS.md, "Threads"); the skinny products of the conv models (k = 9 im2col, the 1×1
 *   convolutions' 16 channels) keep one (the conv kernels split their images instead, conv.c).
 *   everyProduct = 1: every product split (for the bench's comparison). Every cblas_sgemm of the accelerator
 *   passes through __wrap_cblas_sgemm (binding.gyp links with --wrap=cblas_sgemm), which applies this.
 * blasInfo(): the OpenBLAS build loaded, as "OpenBLAS 0.3.21, pthread build" (its version and threading:
 *   pthread, OpenMP or sequential; the accelerator links the pthread build's directory first, see binding.gyp).
 */
#include "common.h"
#include <cblas.h>
#include <stdio.h>

napi_value gemm(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  int64_t batch = whole(&a, 1), m = whole(&a, 2), n = whole(&a, 3), k = whole(&a, 4);
  int ta = num(&a, 5) != 0, tb = num(&a, 6) != 0;
  int64_t offA = whole(&a, 7), strideA = whole(&a, 8), offB = whole(&a, 9), strideB = whole(&a, 10), offC = whole(&a, 11);
  if (a.failed) return fail(env, "gemm: expected (ArrayBuffer, batch, m, n, k, transA, transB, offA, strideA, offB, strideB, offC) as non-negative integers");
  if (batch < 1 || m < 1 || n < 1 || k < 1 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return fail(env, "gemm: batch, m, n, k must be positive 32-bit sizes");
  if (!inside(offA, strideA * (batch - 1) + m * k, bytes) || !inside(offB, strideB * (batch - 1) + k * n, bytes) ||
      !inside(offC, batch * m * n, bytes)) return fail(env, "gemm: an operand lies outside the wasm heap");
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f,
                base + offA / 4 + i * strideA, ta ? (int)m : (int)k, base + offB / 4 + i * strideB, tb ? (int)k : (int)n,
                0.0f, base + offC / 4 + i * m * n, (int)n);
  }
  return NULL;
}

/* The threads asked for, and whether every product is split between them. OpenBLAS itself stays at one thread (parallel.c). */
static int threads_asked = 1, threads_everywhere = 0;

napi_value set_threads(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  int64_t n = whole(&a, 0), every = a.argc > 1 ? whole(&a, 1) : 0;
  if (a.failed || n < 1 || n > 256 || every > 1) return fail(env, "setThreads: expected a thread count from 1 to 256 (and everyProduct 0 or 1)");
  threads_asked = (int)n;
  threads_everywhere = (int)every;
  return NULL;
}

int blas_threads(void) { return threads_asked; }

void __real_cblas_sgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb, const blasint m,
                        const blasint n, const blasint k, const float alpha, const float *A, const blasint lda, const float *B,
                        const blasint ldb, const float beta, float *C, const blasint ldc);

/* One product's operands, split between shares along the rows of C (by_rows) or its columns. */
typedef struct {
  enum CBLAS_ORDER order; enum CBLAS_TRANSPOSE ta, tb; blasint m, n, k; float alpha; const float *A; blasint lda;
  const float *B; blasint ldb; float beta; float *C; blasint ldc; int by_rows, shares;
} Product;

/* Share s of a row-major product: rows (or columns) [len·s/shares, len·(s+1)/shares) of C. */
static void product_share(void *arg, int s) {
  const Product *p = arg;
  const blasint len = p->by_rows ? p->m : p->n, i0 = (blasint)((int64_t)len * s / p->shares), i1 = (blasint)((int64_t)len * (s + 1) / p->shares);
  if (i1 == i0) return;
  if (p->by_rows) {
    const float *A = p->ta == CblasNoTrans ? p->A + (int64_t)i0 * p->lda : p->A + i0;
    __real_cblas_sgemm(p->order, p->ta, p->tb, i1 - i0, p->n, p->k, p->alpha, A, p->lda, p->B, p->ldb, p->beta, p->C + (int64_t)i0 * p->ldc, p->ldc);
  } else {
    const float *B = p->tb == CblasNoTrans ? p->B + i0 : p->B + (int64_t)i0 * p->ldb;
    __real_cblas_sgemm(p->order, p->ta, p->tb, p->m, i1 - i0, p->k, p->alpha, p->A, p->lda, B, p->ldb, p->beta, p->C + i0, p->ldc);
  }
}

/*
 * cblas_sgemm, split between setThreads' threads when the product pays: every side ≥ 32 and m·n·k ≥ 2^22
 * (bench/RESULTS.md, "Threads"), or always with everyProduct; along C's longer side. Not inside a share
 * (a conv share's products stay on its thread), nor for column-major calls (the accelerator makes none).
 */
void __wrap_cblas_sgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb, const blasint m,
                        const blasint n, const blasint k, const float alpha, const float *A, const blasint lda, const float *B,
                        const blasint ldb, const float beta, float *C, const blasint ldc) {
  const int pays = m >= 32 && n >= 32 && k >= 32 && (double)m * (double)n * (double)k >= 4194304.0;
  const int by_rows = m >= n, shares = shares_for(by_rows ? m : n);
  if (shares < 2 || inside_share() || order != CblasRowMajor || !(pays || threads_everywhere)) {
    __real_cblas_sgemm(order, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  Product p = { order, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, by_rows, shares };
  run_shares(shares, product_share, &p);
}

napi_value blas_info(napi_env env, napi_callback_info info) {
  (void)info;
  static const char *const kinds[] = { "sequential", "pthread", "OpenMP" };
  const int p = openblas_get_parallel();
  const char *config = openblas_get_config();
  int version = 0;   /* "OpenBLAS 0.3.21 NO_LAPACKE …": the first two words */
  for (int spaces = 0; config[version] != '\0' && (config[version] != ' ' || ++spaces < 2); version++) {}
  char out[128];
  snprintf(out, sizeof out, "%.*s, %s build", version, config, p >= 0 && p <= 2 ? kinds[p] : "unknown");
  napi_value s;
  return napi_create_string_utf8(env, out, NAPI_AUTO_LENGTH, &s) == napi_ok ? s : NULL;
}
