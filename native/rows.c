/*
 * Rows by index, for the kernels of a gather along axis 0 and of its gradient (`GatherV2`,
 * `UnsortedSegmentSum`; the VQ-VAE's code lookup and its codebook gradient). Elements are 4 bytes
 * (float32 or int32 for the gather, float32 for the sum).
 *
 * gatherRows(heap, count, row, rows, offX, offIdx, offOut) → whether every index was in [0, rows)
 *   out[k·row + j] = x[idx[k]·row + j] for k < count, j < row; writes nothing when an index is out
 *   of range (the caller hands the call to the kernel that reports it).
 * segmentSumRows(heap, count, row, segments, offX, offIds, offOut)
 *   out[s·row + j] = Σ_{i: ids[i] = s} x[i·row + j], in ascending i; ids outside [0, segments) dropped
 *   (TensorFlow's UnsortedSegmentSum).
 */
#include "common.h"
#include <string.h>

napi_value gather_rows(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  const int64_t count = whole(&a, 1), row = whole(&a, 2), rows = whole(&a, 3), offX = whole(&a, 4), offIdx = whole(&a, 5), offOut = whole(&a, 6);
  if (a.failed) return fail(env, "gatherRows: expected (ArrayBuffer, count, row, rows, offX, offIdx, offOut) as non-negative integers");
  if ((row > 0 && (count > INT64_MAX / row || rows > INT64_MAX / row)) || !inside(offX, rows * row, bytes) || !inside(offIdx, count, bytes) ||
      !inside(offOut, count * row, bytes)) return fail(env, "gatherRows: an operand lies outside the wasm heap");
  const int32_t *idx = (const int32_t *)(base + offIdx / 4);
  for (int64_t k = 0; k < count; k++) {
    if (idx[k] < 0 || idx[k] >= rows) {
      napi_value no;
      napi_get_boolean(env, false, &no);
      return no;
    }
  }
  const float *x = base + offX / 4;
  float *out = base + offOut / 4;
  for (int64_t k = 0; k < count; k++) memcpy(out + k * row, x + (int64_t)idx[k] * row, (size_t)row * sizeof(float));
  napi_value yes;
  napi_get_boolean(env, true, &yes);
  return yes;
}

napi_value segment_sum_rows(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  const int64_t count = whole(&a, 1), row = whole(&a, 2), segments = whole(&a, 3), offX = whole(&a, 4), offIds = whole(&a, 5), offOut = whole(&a, 6);
  if (a.failed) return fail(env, "segmentSumRows: expected (ArrayBuffer, count, row, segments, offX, offIds, offOut) as non-negative integers");
  if ((row > 0 && (count > INT64_MAX / row || segments > INT64_MAX / row)) || !inside(offX, count * row, bytes) || !inside(offIds, count, bytes) ||
      !inside(offOut, segments * row, bytes)) return fail(env, "segmentSumRows: an operand lies outside the wasm heap");
  const int32_t *ids = (const int32_t *)(base + offIds / 4);
  const float *x = base + offX / 4;
  float *out = base + offOut / 4;
  memset(out, 0, (size_t)(segments * row) * sizeof(float));
  for (int64_t i = 0; i < count; i++) {
    if (ids[i] < 0 || ids[i] >= segments) continue;
    float *restrict to = out + (int64_t)ids[i] * row;
    const float *restrict from = x + i * row;
    for (int64_t j = 0; j < row; j++) to[j] += from[j];
  }
  return NULL;
}
