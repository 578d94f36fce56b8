/* Elementwise transcendentals over float arrays (glibc's libmvec AVX2 variants, scalar libm otherwise). */
#ifndef TFPPL_UNARY_H
#define TFPPL_UNARY_H

#include <stdint.h>

/*
 * SOFTPLUS … SQRT are the `unary` kernel's kinds (0–5); SIGMOID_OF_SOFTPLUS maps a
 * softplus output y to σ(a) = −expm1(−y), the softplus derivative, for the dense gradient.
 */
enum { SOFTPLUS, EXP, LOG, SIGMOID, TANH, SQRT, UNARY_KINDS, SIGMOID_OF_SOFTPLUS = UNARY_KINDS };

/* out[i] = f(in[i]) for i < n (in == out allowed); every element, tail included, by the same function. */
void unary_apply(int kind, const float *in, float *out, int64_t n);

#endif
