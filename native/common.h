/*
 * What every kernel of the accelerator shares: reading Node-API arguments
 * (numbers, whole numbers, the wasm heap's ArrayBuffer), bounds checks against
 * the heap's current length, and the error every bad call throws.
 */
#ifndef TFPPL_COMMON_H
#define TFPPL_COMMON_H

#include <node_api.h>
#include <stdint.h>

#define MAX_ARGS 20

/* A call's arguments; `failed` is set by the first one that is missing or of the wrong kind. */
typedef struct { napi_env env; napi_value argv[MAX_ARGS]; size_t argc; int failed; } Args;

/* Throws RangeError(code TFPPL_NATIVE, msg); returns NULL for the caller to return. */
napi_value fail(napi_env env, const char *msg);
/* Argument i as a double. */
double num(Args *a, size_t i);
/* Argument i as a non-negative integer (below 2^53). */
int64_t whole(Args *a, size_t i);
/* The heap: base pointer and length of the ArrayBuffer in argument i. */
float *heap(Args *a, size_t i, size_t *bytes);
/* Whether [off, off + 4·count) is an aligned float range inside the heap. */
int inside(int64_t off, int64_t count, size_t bytes);
/* The call's arguments. */
Args args_of(napi_env env, napi_callback_info info);
/* Whether this CPU runs the AVX2 + FMA code paths. */
int has_avx2(void);

/* The threads setThreads asked for. */
int blas_threads(void);
/* The most shares a call splits into. */
#define MAX_SHARES 16
/* How many shares to split `parts` independent parts into: setThreads' count, at most `parts` and MAX_SHARES. */
int shares_for(int64_t parts);
/* Runs work(arg, s) for every share s < shares at once (parallel.c): s = 0 on the calling thread, the
   others on workers (any share no worker takes, on the calling thread), all done before it returns. */
void run_shares(int shares, void (*work)(void *arg, int share), void *arg);
/* Whether the calling thread is running a share (its products are then not split again). */
int inside_share(void);

/* out[j] = Σᵢ x[i·n + j] over the m rows of a row-major [m, n] array (sum.c; out must not overlap x). */
void sum_rows(const float *x, int64_t m, int64_t n, float *out);

/* The exported kernels (one file each). */
napi_value gemm(napi_env env, napi_callback_info info);
napi_value set_threads(napi_env env, napi_callback_info info);
napi_value unary(napi_env env, napi_callback_info info);
napi_value dense(napi_env env, napi_callback_info info);
napi_value dense_grad(napi_env env, napi_callback_info info);
napi_value adam(napi_env env, napi_callback_info info);
napi_value adam_all(napi_env env, napi_callback_info info);
napi_value check(napi_env env, napi_callback_info info);
napi_value bernoulli_log_prob(napi_env env, napi_callback_info info);
napi_value bernoulli_log_prob_grad(napi_env env, napi_callback_info info);
napi_value normal_log_prob(napi_env env, napi_callback_info info);
napi_value normal_log_prob_grad(napi_env env, napi_callback_info info);
napi_value point_mass_log_prob(napi_env env, napi_callback_info info);
napi_value conv(napi_env env, napi_callback_info info);
napi_value conv_layer(napi_env env, napi_callback_info info);
napi_value gamma_log_sample(napi_env env, napi_callback_info info);
napi_value gamma_log_grad(napi_env env, napi_callback_info info);
napi_value sum_leading(napi_env env, napi_callback_info info);
napi_value gather_rows(napi_env env, napi_callback_info info);
napi_value segment_sum_rows(napi_env env, napi_callback_info info);
napi_value nearest_codes(napi_env env, napi_callback_info info);
napi_value blas_info(napi_env env, napi_callback_info info);

#endif
