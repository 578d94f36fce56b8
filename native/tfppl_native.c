/*
 * tfppl's optional native accelerator (this file registers the module; one file per
 * kernel, named as its TypeScript side in src/backend/kernels/native/: batch-mat-mul.c, unary.c,
 * dense.c, adam.c, check.c, densities.c, conv.c, gamma.c, sum.c, rows.c, nearest-codes.c; common.c reads arguments): kernels that run on the tfjs wasm
 * backend's heap from outside it. JavaScript passes the heap's ArrayBuffer and
 * byte offsets of tensors (inputs, and outputs it has just allocated); every
 * access is bounds-checked here against the buffer's current length.
 *
 *   gemm(heap, batch, m, n, k, transA, transB, offA, strideA, offB, strideB, offC)
 *       C_i = op(A_i) · op(B_i) for i < batch, with OpenBLAS's cblas_sgemm
 *       (row-major; strides in elements, 0 for a broadcast operand).
 *   unary(kind, heap, offIn, offOut, n)    softplus, exp, log, sigmoid, tanh, sqrt
 *       (glibc's vector math, AVX2, where the CPU has it; scalar libm otherwise).
 *   adam(heap, n, offX, offG, offM, offV, offX2, offM2, offV2, lr, b1, b2, eps, c1, c2)
 *       m' = b1·m + (1−b1)·g, v' = b2·v + (1−b2)·g², x' = x − lr·(m'/c1) / (√(v'/c2) + ε),
 *       into fresh outputs; returns whether every g was finite.
 *   adamAll(heap, table, lr, b1, b2, eps, c1, c2)
 *       the same update of every variable of a step in one call (table: a Float64Array, per variable
 *       n and the 7 offsets); returns whether every g and every x' was finite.
 *   dense(heap, m, n, k, act, offX, offW, offB, offY)
 *       Y = act(X·W + b), X m×k, W k×n, b n (act: 0 linear, 1 softplus, 2 relu, 3 tanh).
 *   denseGrad(heap, which, m, n, k, act, offDy, offY, offOther, offOut)
 *       with dpre = dy ⊙ act′ (from Y: softplus′ = −expm1(−y), relu′ = [y > 0], tanh′ = 1 − y²):
 *       which 0: dX = dpre·Wᵀ (other = W), 1: dW = Xᵀ·dpre (other = X), 2: db = Σ_rows dpre,
 *       3: dpre itself (m×n; other unused).
 *   check(kind, heap, off, n)
 *       whether every element is finite (0), positive (1), in {0, 1} (2), in [0, 1] (3).
 *   bernoulliLogProb, bernoulliLogProbGrad, normalLogProb, normalLogProbGrad, pointMassLogProb
 *       the two log densities and their gradients, and the point mass's indicator, in one pass each (densities.c).
 *   conv(which, heap, b, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pl, offA, offB, offOut)
 *       NHWC 2-D convolution (which 0), its input gradient (1) and its filter gradient (2) by
 *       im2col / col2im and sgemm (conv.c).
 *   convLayer(which, heap, b, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pl, act, offA, offB, offBias, offOut)
 *       a convolution (0) or transposed convolution (1) with bias and activation (0 linear, 2 relu) in one pass (conv.c).
 *   gammaLogSample(heap, n, offAlpha, offOut, seed), gammaLogGrad(heap, n, offAlpha, offLogZ, offDy, hasDy, offOut, quadrature)
 *       log Gamma(α, 1) draws and their implicit-reparameterisation gradient d log z/dα (gamma.c).
 *   sumLeading(heap, m, n, offX, offOut)
 *       out[j] = Σ_{i<m} x[i·n + j]: Sum over leading dims, in tfjs-wasm's order (sum.c).
 *   gatherRows(heap, count, row, rows, offX, offIdx, offOut), segmentSumRows(heap, count, row, segments, offX, offIds, offOut)
 *       rows by index: a gather along axis 0 and its gradient, the segment sum (rows.c).
 *   nearestCodes(heap, n, k, d, offX, offBook, offOut)
 *       the nearest of k codes to each of n rows (int32), as the composite computes it (nearest-codes.c).
 *   setThreads(n)    BLAS threads.
 *   blasInfo()       the OpenBLAS build loaded: "OpenBLAS 0.3.21, pthread build" (version, threading).
 */
#include "common.h"
#include <cblas.h>

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL },
    { "unary", NULL, unary, NULL, NULL, NULL, napi_default, NULL },
    { "adam", NULL, adam, NULL, NULL, NULL, napi_default, NULL },
    { "adamAll", NULL, adam_all, NULL, NULL, NULL, napi_default, NULL },
    { "dense", NULL, dense, NULL, NULL, NULL, napi_default, NULL },
    { "denseGrad", NULL, dense_grad, NULL, NULL, NULL, napi_default, NULL },
    { "check", NULL, check, NULL, NULL, NULL, napi_default, NULL },
    { "bernoulliLogProb", NULL, bernoulli_log_prob, NULL, NULL, NULL, napi_default, NULL },
    { "bernoulliLogProbGrad", NULL, bernoulli_log_prob_grad, NULL, NULL, NULL, napi_default, NULL },
    { "normalLogProb", NULL, normal_log_prob, NULL, NULL, NULL, napi_default, NULL },
    { "normalLogProbGrad", NULL, normal_log_prob_grad, NULL, NULL, NULL, napi_default, NULL },
    { "pointMassLogProb", NULL, point_mass_log_prob, NULL, NULL, NULL, napi_default, NULL },
    { "conv", NULL, conv, NULL, NULL, NULL, napi_default, NULL },
    { "convLayer", NULL, conv_layer, NULL, NULL, NULL, napi_default, NULL },
    { "gammaLogSample", NULL, gamma_log_sample, NULL, NULL, NULL, napi_default, NULL },
    { "gammaLogGrad", NULL, gamma_log_grad, NULL, NULL, NULL, napi_default, NULL },
    { "sumLeading", NULL, sum_leading, NULL, NULL, NULL, napi_default, NULL },
    { "gatherRows", NULL, gather_rows, NULL, NULL, NULL, napi_default, NULL },
    { "segmentSumRows", NULL, segment_sum_rows, NULL, NULL, NULL, napi_default, NULL },
    { "nearestCodes", NULL, nearest_codes, NULL, NULL, NULL, napi_default, NULL },
    { "setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL },
    { "blasInfo", NULL, blas_info, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  openblas_set_num_threads(1);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
