/* Node-API argument reading and heap bounds checks shared by the kernels (see common.h). */
#include "common.h"
#include <math.h>

napi_value fail(napi_env env, const char *msg) {
  napi_throw_range_error(env, "TFPPL_NATIVE", msg);
  return NULL;
}

double num(Args *a, size_t i) {
  double v = 0;
  if (i >= a->argc || napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) a->failed = 1;
  return v;
}

int64_t whole(Args *a, size_t i) {
  double v = num(a, i);
  if (v != floor(v) || v < 0 || v > 9007199254740991.0) a->failed = 1;
  return (int64_t)v;
}

float *heap(Args *a, size_t i, size_t *bytes) {
  void *data = NULL;
  bool is_buffer = false;
  if (i >= a->argc || napi_is_arraybuffer(a->env, a->argv[i], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_arraybuffer_info(a->env, a->argv[i], &data, bytes) != napi_ok || data == NULL) {
    a->failed = 1;
    return NULL;
  }
  return (float *)data;
}

int inside(int64_t off, int64_t count, size_t bytes) {
  return off >= 0 && count >= 0 && off % 4 == 0 && (uint64_t)off + 4 * (uint64_t)count <= bytes;
}

Args args_of(napi_env env, napi_callback_info info) {
  Args a = { env, { 0 }, MAX_ARGS, 0 };
  if (napi_get_cb_info(env, info, &a.argc, a.argv, NULL, NULL) != napi_ok) a.failed = 1;
  return a;
}

int has_avx2(void) {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
