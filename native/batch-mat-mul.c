/*
 * gemm(heap, batch, m, n, k, transA, transB, offA, strideA, offB, strideB, offC)
 *   C_i = op(A_i) · op(B_i) for i < batch, with OpenBLAS's cblas_sgemm
 *   (row-major; strides in elements, 0 for a broadcast operand).
 * setThreads(n): BLAS threads.
 */
#include "common.h"
#include <cblas.h>

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

napi_value set_threads(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  int64_t n = whole(&a, 0);
  if (a.failed || n < 1 || n > 256) return fail(env, "setThreads: expected a thread count from 1 to 256");
  openblas_set_num_threads((int)n);
  return NULL;
}
