/**
 * Batched, seeded, reparameterised Gamma sampling on tensors.
 *
 * Draws: Marsaglia & Tsang (2000) on whole tensors of concentrations. Every element proposes at
 * once; the rejected ones (≈ 2–5 % for α ≥ 1) are gathered and propose again, round after round
 * (at most {@link MAX_ROUNDS}; the rare element still rejected then takes the proposal's mode d);
 * no JavaScript loop runs per element except the generator filling its arrays. On backends that
 * cannot read back synchronously (webgpu, webgl) every element proposes in every round instead,
 * masked, with no read-back; with the native accelerator, one kernel draws them all. Concentrations
 * α < 1 are boosted: Gamma(α) = Gamma(α + 1) · U^(1/α), taken in log space (log Gamma(α + 1) +
 * log U / α) so that the log-draws of tiny α stay finite where the draws underflow float32.
 *
 * Gradients: implicit reparameterisation (Figurnov, Mohamed & Mnih 2018), as TFP and PyTorch:
 * ∂z/∂α = −(∂F(z; α)/∂α) / p(z; α) for the standard Gamma, computed as d log z / dα from (α, log z)
 * by {@link logGammaGradient}; a rate enters by scaling. Seeded draws repeat on the same backend.
 */
import * as tf from '@tensorflow/tfjs-core'
import { readsSync } from './gpu.js'
import { freshSeed, standardNormal, standardUniform } from './random.js'
import { scoped, untaped } from './scope.js'
import { subSeed } from './seed.js'
import { customGradSaved } from './gradient.js'
import { digamma, logGammaCorrection } from './special.js'
import { GAMMA_TAIL_QUADRATURE } from './gauss-laguerre.js'
import { nativeKernelsInstalled } from './kernels/state.js'
import { LOG_GAMMA_GRAD_KERNEL, LOG_GAMMA_SAMPLE_KERNEL } from './kernels/native/gamma.js'

/** Accept/reject rounds before the fallback (P(an element still rejected) < 0.05¹² ≈ 2e-16). */
export const MAX_ROUNDS = 12
/** The smallest positive normal float32: where standard Gamma draws are clamped (Pyro/PyTorch do the same). */
export const FLOAT32_TINY = 1.1754943508222875e-38

/** One Marsaglia–Tsang proposal for each (d, c): log(d v) and whether it is accepted. */
const propose = (d: tf.Tensor, c: tf.Tensor, seed: number | undefined): { logValue: tf.Tensor; accepted: tf.Tensor } => {
  const n = d.shape[0]!
  const x = standardNormal([n], subSeed(seed, 0))
  const u = standardUniform([n], subSeed(seed, 1))
  const t = tf.add(1, tf.mul(c, x))
  const positive = tf.greater(t, 0)
  const logV = tf.mul(3, tf.log(tf.where(positive, t, tf.onesLike(t))))   // v = t³
  // accept when log u < x²/2 + d − d v + d log v
  const bound = tf.add(tf.mul(0.5, tf.square(x)), tf.mul(d, tf.add(tf.sub(1, tf.exp(logV)), logV)))
  return { logValue: tf.add(tf.log(d), logV), accepted: tf.logicalAnd(positive, tf.less(tf.log(u), bound)) }
}

/** Indices (into `of`) where `mask` is 0. */
const rejectedOf = (mask: tf.Tensor, of: readonly number[]): number[] => {
  const flags = mask.dataSync()
  return of.filter((_, k) => flags[k] === 0)
}

/** log of Gamma(α) draws for a flat α ≥ 1, by accept/reject rounds over the still-rejected elements. */
const marsagliaTsang = (alpha: tf.Tensor, seed: number | undefined): tf.Tensor => {
  const d = tf.sub(alpha, 1 / 3)
  const c = tf.rsqrt(tf.mul(9, d))
  const first = propose(d, c, subSeed(seed, 0))
  let out = first.logValue
  let pending = rejectedOf(first.accepted, Array.from({ length: alpha.size }, (_, i) => i))
  for (let round = 1; round < MAX_ROUNDS && pending.length > 0; round++) {
    const idx = tf.tensor2d(pending, [pending.length, 1], 'int32')
    const { logValue, accepted } = propose(tf.gatherND(d, idx), tf.gatherND(c, idx), subSeed(seed, round))
    out = tf.tensorScatterUpdate(out, idx, tf.where(accepted, logValue, tf.gatherND(out, idx)))
    pending = rejectedOf(accepted, pending)
  }
  if (pending.length === 0) return out
  const idx = tf.tensor2d(pending, [pending.length, 1], 'int32')
  return tf.tensorScatterUpdate(out, idx, tf.log(tf.gatherND(d, idx)))
}

/**
 * {@link marsagliaTsang} without reading back, for backends that cannot read synchronously (webgpu,
 * webgl): every round proposes for every element and the first accepted proposal is kept; after
 * {@link MAX_ROUNDS} an element still rejected (P < 2e-16) takes the mode, log d. The first round's
 * draws are those of the read-back version.
 */
const marsagliaTsangOnDevice = (alpha: tf.Tensor, seed: number | undefined): tf.Tensor => {
  const d = tf.sub(alpha, 1 / 3)
  const c = tf.rsqrt(tf.mul(9, d))
  let out = tf.log(d)
  let done = tf.zeros(d.shape, 'bool')
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { logValue, accepted } = propose(d, c, subSeed(seed, round))
    out = tf.where(tf.logicalAnd(accepted, tf.logicalNot(done)), logValue, out)
    done = tf.logicalOr(done, accepted)
  }
  return out
}

/** Whether the accelerator's Gamma kernels take float32 `alpha` here: installed, on wasm, non-empty. */
const nativeCovers = (alpha: tf.Tensor): boolean =>
  nativeKernelsInstalled() && tf.getBackend() === 'wasm' && alpha.size > 0 && alpha.dtype === 'float32'

/** log of standard Gamma(α) draws, α of any shape, without gradients (off the tape): the accelerator's kernel where it covers α. */
const drawLogGamma = (alpha: tf.Tensor, seed: number | undefined): tf.Tensor => untaped(() => nativeCovers(alpha)
  ? tf.engine().runKernel(LOG_GAMMA_SAMPLE_KERNEL, { alpha }, { seed: seed ?? freshSeed() }) as tf.Tensor
  : composedLogGammaDraws(alpha, seed))

/** {@link drawLogGamma} by tfjs ops: Marsaglia–Tsang rounds on tensors, α < 1 boosted in log space. */
const composedLogGammaDraws = (alpha: tf.Tensor, seed: number | undefined): tf.Tensor => tf.tidy(() => {
  const flat = tf.reshape(alpha, [-1])
  const small = tf.less(flat, 1)
  const rounds = readsSync() ? marsagliaTsang : marsagliaTsangOnDevice
  const core = rounds(tf.where(small, tf.add(flat, 1), flat), subSeed(seed, 0))
  const logU = tf.log(standardUniform([flat.size], subSeed(seed, 1)))
  return tf.reshape(tf.where(small, tf.add(core, tf.div(logU, flat)), core), alpha.shape)
})

// ---------------------------------------------------------------------------------------------
// Implicit reparameterisation: d log z / dα for z ~ Gamma(α, 1), from (α, log z)

/** From this concentration on, the uniform asymptotic expansion alone (relative error ≲ 3e-5 there, falling as α⁻²). */
const ASYMPTOTIC_FROM = 20
/** Terms of the series in z before its tail is handed to the asymptotic expansion at α + SHIFT. */
const SHIFT = 10
/** Below this z (and below α), the series; above, Gauss–Laguerre quadrature of the upper tail. */
const SERIES_BELOW = 2.5

/** ℓ/(eˡ − 1) = Σ Bₙ ℓⁿ/n! (Bernoulli numbers), and T₁ below, as Taylor polynomials for |ℓ| < ½. */
const T0_NEAR = [1, -1 / 2, 1 / 12, 0, -1 / 720, 0, 1 / 30240, 0, -1 / 1209600]
const T1_NEAR = [1 / 12, -1 / 24, 1 / 720, 1 / 360, -23 / 60480, -1 / 10080, 37 / 1814400, 1 / 302400, -139 / 159667200]
const horner = (coeffs: readonly number[], x: tf.Tensor): tf.Tensor =>
  coeffs.slice(0, -1).reduceRight<tf.Tensor>((acc, c) => tf.add(tf.mul(acc, x), c), tf.fill(x.shape, coeffs[coeffs.length - 1]!))

/**
 * d log z / dα by Temme's uniform asymptotic expansion of Q(α, z), to first order in 1/α:
 * e^(corr α) (T₀ + T₁/α) / α with ℓ = log(z/α), μ = eˡ − 1, T₀ = ℓ/μ, T₁ = eˡ(μ − ℓ)/μ³ − (ℓ/12 + ½)/μ
 * (the η terms of the expansion cancel in the derivative), corr = Stirling's correction of log Γ(α).
 */
const temme = (alpha: tf.Tensor, logZ: tf.Tensor): tf.Tensor => {
  const l = tf.minimum(tf.sub(logZ, tf.log(alpha)), 80)
  const near = tf.less(tf.abs(l), 0.5)
  const lf = tf.where(near, tf.onesLike(l), l)   // far-branch argument, kept off the removable 0/0
  const mu = tf.expm1(lf)
  const t0 = tf.where(near, horner(T0_NEAR, l), tf.div(lf, mu))
  const far1 = tf.sub(tf.div(tf.mul(tf.exp(lf), tf.sub(mu, lf)), tf.pow(mu, 3)), tf.div(tf.add(tf.div(lf, 12), 0.5), mu))
  const t1 = tf.where(near, horner(T1_NEAR, l), far1)
  return tf.div(tf.mul(tf.exp(logGammaCorrection(alpha)), tf.add(t0, tf.div(t1, alpha))), alpha)
}

/**
 * The series h(α) = −Σ_{j=1}^{K} vⱼ (log z − ψ(α + j)) + v_K z h(α + K), vⱼ = z^(j−1)/(α(α+1)…(α+j−1)),
 * from P(α, z) = P(α + 1, z) + z^α e^(−z)/Γ(α + 1) applied K times; stable for z below α + K.
 */
const series = (alpha: tf.Tensor, logZ: tf.Tensor, z: tf.Tensor, tail: tf.Tensor): tf.Tensor => {
  const psi = [digamma(tf.add(alpha, SHIFT))]   // ψ(α + K), then down: ψ(α + j) = ψ(α + j + 1) − 1/(α + j)
  for (let j = SHIFT - 1; j >= 1; j--) psi.unshift(tf.sub(psi[0]!, tf.reciprocal(tf.add(alpha, j))))
  let v = tf.reciprocal(alpha)
  let sum = tf.zerosLike(alpha)
  for (let j = 1; j <= SHIFT; j++) {
    sum = tf.sub(sum, tf.mul(v, tf.sub(logZ, psi[j - 1]!)))
    if (j < SHIFT) v = tf.mul(v, tf.div(z, tf.add(alpha, j)))
  }
  return tf.add(sum, tf.mul(tf.mul(v, z), tail))
}

/**
 * The upper tail: h = (1/z) ∫₀^∞ e^(−y) (1 + y/z)^(α−1) (log z − ψ(α) + log(1 + y/z)) dy, from
 * ∂F/∂α = −E[(log X − ψ(α)) 1{X > z}], by Gauss–Laguerre quadrature (no cancellation for z ≥ α).
 */
const upperTail = (alpha: tf.Tensor, logZ: tf.Tensor, z: tf.Tensor): tf.Tensor => {
  const base = tf.sub(logZ, digamma(alpha))
  const am1 = tf.sub(alpha, 1)
  const terms = GAMMA_TAIL_QUADRATURE.nodes.map((y, i) => {
    const lp = tf.log1p(tf.div(y, z))
    return tf.mul(GAMMA_TAIL_QUADRATURE.weights[i]!, tf.mul(tf.exp(tf.mul(am1, lp)), tf.add(base, lp)))
  })
  return tf.div(tf.addN(terms), z)
}

/**
 * d log z / dα for z ~ Gamma(α, 1) along the implicit reparameterisation, from α and log z
 * (elementwise, same shapes): −(∂F(z; α)/∂α) / (z p(z; α)). Written in log z so that tiny draws
 * (z underflowing float32 for α ≪ 1) keep exact gradients. Relative error ≲ 3e-5 (α ≥ 20, falling
 * as α⁻²), ≲ 1e-6 in the bulk of α < 20; {@link standardGammaGrad} multiplies by z. One native
 * kernel (the same branches in doubles) where the accelerator covers it, else
 * {@link composedLogGammaGradient}.
 *
 * @example
 * logGammaGradient(tf.scalar(1), tf.scalar(0))   // d log z/dα at α = 1, z = 1
 */
export const logGammaGradient = scoped('logGammaGradient', (alpha: tf.Tensor, logZ: tf.Tensor): tf.Tensor =>
  nativeCovers(alpha) && tf.util.arraysEqual(alpha.shape, logZ.shape) && logZ.dtype === 'float32'
    ? tf.engine().runKernel(LOG_GAMMA_GRAD_KERNEL, { alpha, logZ }) as tf.Tensor
    : composedLogGammaGradient(alpha, logZ))

/**
 * {@link logGammaGradient} as composite tfjs ops (every branch on every element, merged by
 * `where`): the path off the accelerator, exported so that tests hold the native kernel to it.
 *
 * @example
 * composedLogGammaGradient(tf.scalar(1), tf.scalar(0))   // d log z/dα at α = 1, z = 1
 */
export const composedLogGammaGradient = scoped('composedLogGammaGradient', (alpha: tf.Tensor, logZ: tf.Tensor): tf.Tensor => {
  const large = tf.greaterEqual(alpha, ASYMPTOTIC_FROM)
  const z = tf.exp(logZ)
  const tail = temme(tf.where(large, alpha, tf.add(alpha, SHIFT)), logZ)
  const upper = tf.greaterEqual(z, tf.maximum(alpha, SERIES_BELOW))
  const zSafe = tf.where(upper, z, tf.fill(z.shape, SERIES_BELOW))   // each branch gets arguments safe for it
  const small = tf.where(upper, upperTail(alpha, logZ, zSafe), series(alpha, logZ, z, tail))
  return tf.where(large, tail, small)
})

/**
 * ∂z/∂α for a draw z of the standard Gamma(α): the implicit reparameterisation gradient
 * −(∂F(z; α)/∂α) / p(z; α). Elementwise; no gradient of its own.
 *
 * @example
 * standardGammaGrad(tf.scalar(1), tf.scalar(1))   // ≈ 1.2289 (Exp(1): −∂F/∂α / p at z = 1)
 */
export const standardGammaGrad = scoped('standardGammaGrad', (alpha: tf.Tensor, z: tf.Tensor): tf.Tensor =>
  tf.mul(z, logGammaGradient(alpha, tf.log(z))))

/** `draw` (log-Gamma draws of α) as a function of α: value `draw`, gradient dy · d log z/dα. */
const reparameterize = (draw: tf.Tensor): ((alpha: tf.Tensor) => tf.Tensor) =>
  customGradSaved<[tf.Tensor]>((alpha, save) => {
    save([alpha, draw])
    return {
      value: tf.clone(draw),
      gradFunc: (dy, [a, l]) => nativeCovers(a!) && dy.dtype === 'float32'
        ? tf.engine().runKernel(LOG_GAMMA_GRAD_KERNEL, { alpha: a!, logZ: l!, dy }) as tf.Tensor
        : tf.mul(dy, logGammaGradient(a!, l!)),
    }
  })

/**
 * log X for X ~ Gamma(α, 1), of shape `shape` (α broadcast to it), reparameterised: gradients
 * flow to α by implicit differentiation. Finite for every α > 0 (X itself underflows float32 for
 * α ≪ 1): Beta and Dirichlet draws are built from these. Same seed, same draws (same backend).
 *
 * @example
 * const l = logGammaSample(tf.tensor1d([0.01, 1, 50]), [1000, 3], 42)   // shape [1000, 3]
 */
export const logGammaSample = scoped('logGammaSample', (concentration: tf.Tensor, shape: readonly number[], seed?: number): tf.Tensor => {
  const alpha = tf.broadcastTo(concentration.dtype === 'float32' ? concentration : tf.cast(concentration, 'float32'), [...shape])
  return reparameterize(drawLogGamma(alpha, seed))(alpha)
})

/**
 * X ~ Gamma(α, 1) of shape `shape`, reparameterised (implicit gradients); draws below the
 * smallest normal float32 are clamped to it ({@link FLOAT32_TINY}), so they stay in (0, ∞).
 *
 * @example
 * gammaSample(tf.scalar(2), [5], 0)   // five Gamma(2, 1) draws
 */
export const gammaSample = scoped('gammaSample', (concentration: tf.Tensor, shape: readonly number[], seed?: number): tf.Tensor =>
  tf.maximum(tf.exp(logGammaSample(concentration, shape, seed)), FLOAT32_TINY))
