/*
 * conv(which, heap, b, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pl, offA, offB, offOut)
 *   2-D convolution, NHWC float32, filter [kh, kw, c, o], strides sh × sw, top/left padding pt, pl
 *   (the bottom/right padding follows from oh, ow), dilation 1, by im2col / col2im and OpenBLAS sgemm.
 *   With col(x) the [b·oh·ow, kh·kw·c] matrix of input patches (zero outside x),
 *     which 0 (Conv2D):              A = x,  B = W,  out = y  = col(x) · W               [b, oh, ow, o]
 *     which 1 (Conv2DBackpropInput): A = dy, B = W,  out = dx = col⁻¹(dy · Wᵀ)            [b, h, w, c]
 *     which 2 (Conv2DBackpropFilter): A = x, B = dy, out = dW = col(x)ᵀ · dy              [kh, kw, c, o]
 *   col⁻¹ adds every patch entry back where it came from. The patch matrix is built a block of rows at
 *   a time (≈ 1 MB), so the scratch stays in cache; a 1×1, stride-1, unpadded convolution uses x itself.
 * convLayer(which, heap, b, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pl, act, offA, offB, offBias, offOut)
 *   a convolution layer in one call: which 0 y = act(col(x)·W + bias) (bias [o]; applied to each block of
 *   rows right after its sgemm, while they are in cache), which 1 the transposed convolution
 *   dx = act(col⁻¹(dy·Wᵀ) + bias) (bias [c]; after the last block). act as dense's (dense.h): 0 linear, 2 relu.
 *   The same float32 operations as the separate kernels (conv, then add, then activation): bit-identical.
 * Threads: with setThreads(n ≥ 2), a call of at least 2^21 multiply-adds splits its images into n shares
 *   run at once (parallel.c; each share's products on its own thread), so im2col, col2im and the epilogue
 *   run in parallel too, not only the products (split products lost on these skinny shapes:
 *   bench/RESULTS.md, "Threads"). Results equal one thread's within float32 rounding (see compute).
 */
#include "common.h"
#include "dense.h"
#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The geometry of one convolution (sizes in elements). */
typedef struct { int64_t b, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pl; } Geom;

/* Floats of patch matrix per block: ≈ 1 MB on one thread (measured flat from 256 KB to 4 MB on the conv VAE's
   layers), ≈ 256 KB per share when a call is split (measured on its 3×3 layers at 2 threads: 1.52 against
   1.72 ms for the 128 × 14 × 14 × 32 → 64 layer, 0.41 against 0.53 ms for the first; at 1 thread 256 KB
   was ≈ 10% slower). */
#define BLOCK_FLOATS (1 << 18)
#define SHARE_BLOCK_FLOATS (1 << 16)

/* Rows of the patch matrix, and its width. */
static int64_t rows_of(const Geom *g) { return g->b * g->oh * g->ow; }
static int64_t width_of(const Geom *g) { return g->kh * g->kw * g->c; }

/* Whether the patch matrix is x itself: a 1×1, stride-1, unpadded convolution. */
static int is_pointwise(const Geom *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 && g->oh == g->h && g->ow == g->w;
}

/*
 * One input channel (c = 1: a grayscale image, or the 1-channel image gradient of a decoder's last layer):
 * a patch row is kh·kw floats, so the general loops' per-row costs (divisions, runtime tap loops, a memset
 * per tap) dominate; here the rows are walked image by image without a division, and 3×3 filters get loops
 * of constant length (0.40 → 0.10 ms for the conv VAE's first layer). `scatter` 0: im2col, 1: col2im.
 */
static inline __attribute__((always_inline)) void single_channel_k(const Geom *g, float *x, float *col, int64_t r0, int64_t r1, int scatter,
                                                                   const int64_t kh, const int64_t kw) {
  const int64_t per_image = g->oh * g->ow;
  int64_t bi = r0 / per_image, oy = (r0 % per_image) / g->ow, ox = r0 % per_image % g->ow;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t y0 = oy * g->sh - g->pt, x0 = ox * g->sw - g->pl;
    float *image = x + bi * g->h * g->w, *patch = col + (r - r0) * kh * kw;
    const int whole = y0 >= 0 && x0 >= 0 && y0 + kh <= g->h && x0 + kw <= g->w;
    for (int64_t i = 0; i < kh; i++) {
      for (int64_t j = 0; j < kw; j++) {
        const int64_t y = y0 + i, xx = x0 + j;
        const int in = whole || (y >= 0 && y < g->h && xx >= 0 && xx < g->w);
        if (scatter) { if (in) image[y * g->w + xx] += patch[i * kw + j]; }
        else patch[i * kw + j] = in ? image[y * g->w + xx] : 0.0f;
      }
    }
    if (++ox == g->ow) { ox = 0; if (++oy == g->oh) { oy = 0; bi++; } }
  }
}

static void single_channel(const Geom *g, float *x, float *col, int64_t r0, int64_t r1, int scatter) {
  if (g->kh == 3 && g->kw == 3) single_channel_k(g, x, col, r0, r1, scatter, 3, 3);
  else single_channel_k(g, x, col, r0, r1, scatter, g->kh, g->kw);
}

/* Patch-matrix rows [r0, r1) of x into col (row-major, width kh·kw·c). */
static void im2col(const Geom *g, const float *x, float *col, int64_t r0, int64_t r1) {
  if (g->c == 1) { single_channel(g, (float *)x, col, r0, r1, 0); return; }   /* reads x only */
  const int64_t c = g->c, kwc = g->kw * c;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t bi = r / (g->oh * g->ow), p = r % (g->oh * g->ow);
    const int64_t y0 = (p / g->ow) * g->sh - g->pt, x0 = (p % g->ow) * g->sw - g->pl;
    float *dst = col + (r - r0) * width_of(g);
    for (int64_t i = 0; i < g->kh; i++, dst += kwc) {
      const int64_t y = y0 + i;
      if (y < 0 || y >= g->h) { memset(dst, 0, (size_t)kwc * sizeof(float)); continue; }
      const float *row = x + ((bi * g->h + y) * g->w) * c;
      for (int64_t j = 0; j < g->kw; j++) {
        const int64_t xx = x0 + j;
        if (xx < 0 || xx >= g->w) memset(dst + j * c, 0, (size_t)c * sizeof(float));
        else memcpy(dst + j * c, row + xx * c, (size_t)c * sizeof(float));
      }
    }
  }
}

/* Adds patch-matrix rows [r0, r1) of col back into dx (the inverse placement of im2col). */
static void col2im(const Geom *g, const float *col, float *dx, int64_t r0, int64_t r1) {
  if (g->c == 1) { single_channel(g, dx, (float *)col, r0, r1, 1); return; }   /* reads col only */
  const int64_t c = g->c;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t bi = r / (g->oh * g->ow), p = r % (g->oh * g->ow);
    const int64_t y0 = (p / g->ow) * g->sh - g->pt, x0 = (p % g->ow) * g->sw - g->pl;
    const float *src = col + (r - r0) * width_of(g);
    for (int64_t i = 0; i < g->kh; i++) {
      const int64_t y = y0 + i;
      if (y < 0 || y >= g->h) continue;
      float *row = dx + ((bi * g->h + y) * g->w) * c;
      for (int64_t j = 0; j < g->kw; j++) {
        const int64_t xx = x0 + j;
        if (xx < 0 || xx >= g->w) continue;
        const float *s = src + (i * g->kw + j) * c;
        float *d = row + xx * c;
        for (int64_t k = 0; k < c; k++) d[k] += s[k];
      }
    }
  }
}

/* The layer's epilogue (when `e` is not NULL): each of `rows` rows of n outputs ← act(row + bias). */
typedef struct { const float *bias; int act; } Epilogue;
static void finish(const Epilogue *e, float *out, int64_t rows, int64_t n) {
  if (e != NULL) bias_act(e->act, out, e->bias, rows, n);
}

/* y = col(x) · W (then the epilogue), a block of rows at a time. */
static void forward(const Geom *g, const float *x, const float *wt, float *y, float *col, int64_t block, const Epilogue *e) {
  const int64_t m = rows_of(g), k = width_of(g), n = g->o;
  if (col == NULL) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, x, (int)k, wt, (int)n, 0.0f, y, (int)n);
    finish(e, y, m, n);
    return;
  }
  for (int64_t r0 = 0; r0 < m; r0 += block) {
    const int64_t r1 = r0 + block < m ? r0 + block : m;
    im2col(g, x, col, r0, r1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), (int)n, (int)k, 1.0f, col, (int)k, wt, (int)n, 0.0f, y + r0 * n, (int)n);
    finish(e, y + r0 * n, r1 - r0, n);
  }
}

/* dx = col⁻¹(dy · Wᵀ), a block of rows at a time, then the epilogue (over b·h·w rows of c). */
static void backprop_input(const Geom *g, const float *dy, const float *wt, float *dx, float *col, int64_t block, const Epilogue *e) {
  const int64_t m = rows_of(g), k = width_of(g), n = g->o;
  if (col == NULL) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)n, 1.0f, dy, (int)n, wt, (int)n, 0.0f, dx, (int)k);
  } else {
    memset(dx, 0, (size_t)(g->b * g->h * g->w * g->c) * sizeof(float));
    for (int64_t r0 = 0; r0 < m; r0 += block) {
      const int64_t r1 = r0 + block < m ? r0 + block : m;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)k, (int)n, 1.0f, dy + r0 * n, (int)n, wt, (int)n, 0.0f, col, (int)k);
      col2im(g, col, dx, r0, r1);
    }
  }
  finish(e, dx, g->b * g->h * g->w, g->c);
}

/* dW = col(x)ᵀ · dy, accumulated over blocks of rows. */
static void backprop_filter(const Geom *g, const float *x, const float *dy, float *dw, float *col, int64_t block) {
  const int64_t m = rows_of(g), k = width_of(g), n = g->o;
  if (col == NULL) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)n, (int)m, 1.0f, x, (int)k, dy, (int)n, 0.0f, dw, (int)n);
    return;
  }
  for (int64_t r0 = 0; r0 < m; r0 += block) {
    const int64_t r1 = r0 + block < m ? r0 + block : m;
    im2col(g, x, col, r0, r1);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)n, (int)(r1 - r0), 1.0f, col, (int)k, dy + r0 * n, (int)n,
                r0 == 0 ? 0.0f : 1.0f, dw, (int)n);
  }
}

/* a·b, or -1 when either is negative or the product passes 2^53 (so every size below is exact). */
static int64_t times(int64_t a, int64_t b) {
  return a < 0 || b < 0 || (b != 0 && a > 9007199254740991LL / b) ? -1 : a * b;
}

/* The geometry in arguments 2–14, or NULL when a size is out of range. */
static const char *read_geom(Args *a, Geom *g) {
  int64_t *f[] = { &g->b, &g->h, &g->w, &g->c, &g->kh, &g->kw, &g->o, &g->oh, &g->ow, &g->sh, &g->sw, &g->pt, &g->pl };
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    *f[i] = whole(a, 2 + i);
    if (*f[i] > INT32_MAX || (i < 11 && *f[i] < 1)) return "conv: sizes and strides must be positive 32-bit integers, paddings non-negative";
  }
  const int64_t m = times(times(g->b, g->oh), g->ow), k = times(times(g->kh, g->kw), g->c);
  if (m < 0 || m > INT32_MAX || k < 0 || k > INT32_MAX) return "conv: the patch matrix has more than 2^31 − 1 rows or columns";
  return NULL;
}

/* The operand sizes (floats) of `which`: A, B, out. */
static void sizes_of(const Geom *g, int64_t which, int64_t s[3]) {
  const int64_t x = times(times(g->b, g->h), times(g->w, g->c)), wt = times(times(g->kh, g->kw), times(g->c, g->o));
  const int64_t y = times(times(g->b, g->oh), times(g->ow, g->o));
  s[0] = which == 1 ? y : x;
  s[1] = which == 2 ? y : wt;
  s[2] = which == 0 ? y : which == 1 ? x : wt;
}

/* Multiply-adds (m·n·k) from which a call splits its images between setThreads' threads: below, starting a
   thread (tens of µs) is a large part of the call. */
#define SPLIT_WORK (1 << 21)

/* The calling thread's patch-matrix scratch, kept between calls (grown when too small; freed when the
   thread ends): a fresh 1 MB block per call is fresh pages to fault in, on the workers' arenas every call.
   One per thread, not per share: a share may run on the worker or, when the workers are taken by another
   JavaScript thread (worker_threads), on the caller. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
typedef struct { float *at; size_t floats; } Scratch;

static void scratch_free(void *p) { Scratch *s = p; free(s->at); free(s); }
static void scratch_key_make(void) { pthread_key_create(&scratch_key, scratch_free); }

static float *scratch_of(size_t floats) {
  pthread_once(&scratch_once, scratch_key_make);
  Scratch *s = pthread_getspecific(scratch_key);
  if (s == NULL && ((s = calloc(1, sizeof *s)) == NULL || pthread_setspecific(scratch_key, s) != 0)) { free(s); return NULL; }
  if (s->floats < floats) {
    free(s->at);
    s->floats = (s->at = malloc(floats * sizeof(float))) == NULL ? 0 : floats;
  }
  return s->at;
}

/* One call split into `shares` shares of whole images (so col⁻¹'s sums stay inside a share); dW of share
   s > 0 into partials + (s − 1)·(filter size), added by the caller. */
typedef struct { const Geom *g; int64_t which; const float *A, *B; float *out, *partials; const Epilogue *e; int shares, failed[MAX_SHARES]; } Call;

/* Share s of a call: `which` over images [b·s/shares, b·(s+1)/shares). */
static void run_share(void *arg, int s) {
  Call *c = arg;
  const int64_t i0 = c->g->b * s / c->shares, i1 = c->g->b * (s + 1) / c->shares;
  Geom g = *c->g;
  g.b = i1 - i0;
  const int64_t x_at = i0 * g.h * g.w * g.c, y_at = i0 * g.oh * g.ow * g.o;
  const int64_t k = width_of(&g), floats = c->shares > 1 ? SHARE_BLOCK_FLOATS : BLOCK_FLOATS, block = k >= floats ? 1 : floats / k;
  float *col = NULL;
  if (!is_pointwise(&g) && (col = scratch_of((size_t)((block < rows_of(&g) ? block : rows_of(&g)) * k))) == NULL) { c->failed[s] = 1; return; }
  float *dw = s == 0 ? c->out : c->partials + (s - 1) * g.kh * g.kw * g.c * g.o;
  if (c->which == 0) forward(&g, c->A + x_at, c->B, c->out + y_at, col, block, c->e);
  else if (c->which == 1) backprop_input(&g, c->A + y_at, c->B, c->out + x_at, col, block, c->e);
  else backprop_filter(&g, c->A + x_at, c->B + y_at, dw, col, block);
}

/*
 * `which` over all images: one share when the call is small or setThreads asked for one thread, else
 * setThreads' count of shares at once (parallel.c), each share's products on its own thread. y and dx
 * rows are each computed by one share, in blocks that start at the share's first row: equal to one
 * thread's within float32 rounding (OpenBLAS rounds some rows of a differently sized product
 * differently); dW is the sum of the shares' partials. Returns an error message or NULL.
 */
static const char *compute(const Geom *g, int64_t which, const float *A, const float *B, float *out, const Epilogue *e) {
  const double work = (double)rows_of(g) * (double)width_of(g) * (double)g->o;
  const int shares = work < SPLIT_WORK ? 1 : shares_for(g->b);
  const int64_t filter = g->kh * g->kw * g->c * g->o;
  float *partials = which == 2 && shares > 1 ? malloc((size_t)((shares - 1) * filter) * sizeof(float)) : NULL;
  if (which == 2 && shares > 1 && partials == NULL) return "conv: out of memory";
  Call c = { g, which, A, B, out, partials, e, shares, { 0 } };
  if (shares == 1) run_share(&c, 0);
  else run_shares(shares, run_share, &c);
  int failed = 0;
  for (int s = 0; s < shares; s++) failed |= c.failed[s];
  for (int s = 1; !failed && which == 2 && s < shares; s++) {
    const float *p = partials + (s - 1) * filter;
    for (int64_t i = 0; i < filter; i++) out[i] += p[i];
  }
  free(partials);
  return failed ? "conv: out of memory" : NULL;
}

/*
 * conv (layer 0) or convLayer (layer 1): arguments as in the header.
 * convLayer takes act after the geometry and the bias's offset before the output's.
 */
static napi_value run(napi_env env, napi_callback_info info, int layer) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  const int64_t which = whole(&a, 0);
  float *base = heap(&a, 1, &bytes);
  Geom g;
  const char *bad = read_geom(&a, &g);
  const size_t at = layer ? 16 : 15;
  const int64_t act = layer ? whole(&a, 15) : ACT_LINEAR, offA = whole(&a, at), offB = whole(&a, at + 1);
  const int64_t offBias = layer ? whole(&a, at + 2) : 0, offOut = whole(&a, at + 2 + (size_t)layer);
  if (a.failed || which > (layer ? 1 : 2) || (act != ACT_LINEAR && act != ACT_RELU)) {
    return fail(env, layer ? "convLayer: expected (which 0–1, ArrayBuffer, b, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pl, act 0 or 2, offA, offB, offBias, offOut) as non-negative integers"
                           : "conv: expected (which 0–2, ArrayBuffer, b, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pl, offA, offB, offOut) as non-negative integers");
  }
  if (bad != NULL) return fail(env, bad);
  int64_t s[3];
  sizes_of(&g, which, s);
  if (!inside(offA, s[0], bytes) || !inside(offB, s[1], bytes) || !inside(offOut, s[2], bytes) || (layer && !inside(offBias, which == 0 ? g.o : g.c, bytes))) {
    return fail(env, layer ? "convLayer: an operand lies outside the wasm heap" : "conv: an operand lies outside the wasm heap");
  }
  const Epilogue e = { layer ? base + offBias / 4 : NULL, (int)act };
  const char *err = compute(&g, which, base + offA / 4, base + offB / 4, base + offOut / 4, layer ? &e : NULL);
  return err == NULL ? NULL : fail(env, err);
}

napi_value conv(napi_env env, napi_callback_info info) { return run(env, info, 0); }

napi_value conv_layer(napi_env env, napi_callback_info info) { return run(env, info, 1); }
