/* The dense layer's bias + activation epilogue, shared with the fused convolution layer (conv.c). */
#ifndef TFPPL_DENSE_H
#define TFPPL_DENSE_H

#include <stdint.h>

/* Activation codes of `dense`, `denseGrad` and `convLayer`. */
enum { ACT_LINEAR, ACT_SOFTPLUS, ACT_RELU, ACT_TANH, ACTS };

/* `rows` rows of n outputs: y += b on each row, then the activation act over all, in place. */
void bias_act(int act, float *y, const float *b, int64_t rows, int64_t n);

#endif
