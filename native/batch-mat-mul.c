/*
 * gemm(heap, batch, m, n, k, transA, transB, offA, strideA, offB, strideB, offC)
 *   C_i = op(A_i) · op(B_i) for i < batch, with OpenBLAS's cblas_sgemm
 *   (row-major; strides in elements, 0 for a broadcast operand).
 * setThreads(n, everyProduct = 0): BLAS threads, for the products where a second thread paid when measured:
 *   every side ≥ 32 and m·n·k ≥ 2^22 (bench/RESULTS.md, "Threads"); the skinny products of the conv models
 *   (k = 9 im2col, the 1×1 convolutions' 16 channels) ran 1.5–5× slower with 2 threads, so they keep one.
 *   everyProduct = 1: every product with n threads (for the bench's comparison). Every cblas_sgemm of the
 *   accelerator passes through __wrap_cblas_sgemm (binding.gyp links with --wrap=cblas_sgemm), which applies this.
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

/* The threads asked for, whether every product gets them, and what OpenBLAS was last set to. */
static int threads_asked = 1, threads_everywhere = 0, threads_set = 1;

napi_value set_threads(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  int64_t n = whole(&a, 0), every = a.argc > 1 ? whole(&a, 1) : 0;
  if (a.failed || n < 1 || n > 256 || every > 1) return fail(env, "setThreads: expected a thread count from 1 to 256 (and everyProduct 0 or 1)");
  threads_asked = (int)n;
  threads_everywhere = (int)every;
  openblas_set_num_threads(threads_set = (int)n);
  return NULL;
}

void __real_cblas_sgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb, const blasint m,
                        const blasint n, const blasint k, const float alpha, const float *A, const blasint lda, const float *B,
                        const blasint ldb, const float beta, float *C, const blasint ldc);

/* cblas_sgemm with the thread count setThreads chose for a product of this shape. */
void __wrap_cblas_sgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb, const blasint m,
                        const blasint n, const blasint k, const float alpha, const float *A, const blasint lda, const float *B,
                        const blasint ldb, const float beta, float *C, const blasint ldc) {
  const int pays = m >= 32 && n >= 32 && k >= 32 && (double)m * (double)n * (double)k >= 4194304.0;
  const int t = threads_everywhere || pays ? threads_asked : 1;
  if (t != threads_set) openblas_set_num_threads(threads_set = t);
  __real_cblas_sgemm(order, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
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
