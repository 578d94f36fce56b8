/**
 * The plate configurations of the gradient grid (gradient-grid.test.ts): Normal–Normal
 * models whose expected ELBO, and so its gradient in the guide's params, is closed form.
 * Every latent has prior N(0, 1) (or N(parent, 1)), every observation is N(Σ parents, 1),
 * and the guide is mean-field Normal, so each E_q[log p − log q] term is a quadratic in
 * the guide's locs plus a function of its scales:
 *
 *   E_q[log N(y; Σ_k z_k, 1)] = −½ log 2π − ½((y − Σ_k m_k)² + Σ_k s_k²)
 *   E_q[−log N(z; m, s)]      = ½ log 2πe + log s
 *
 * summed over each site's elements and weighted by the subsample scale N/B of its
 * plates and the `scaled()` factor c. The exact gradients below are those sums
 * differentiated by hand, in float64.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { Distribution } from '../../src/distributions/distribution.js'
import { normal } from '../../src/distributions/normal.js'
import { observe, plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import type { Message } from '../../src/dsl/messages.js'
import type { Program } from '../../src/dsl/program.js'

/** A program of the grid. */
export type Prog = Program<Message, unknown>

/** What surrounds every program of a cell, in the model and the guide alike: `scaled(c, …)`, and (for iwae) a particle plate. */
export type Wrap = (body: () => Prog) => Prog

/** The guide's distribution at a site: as it is (reparameterised) or with its draws cut from the gradient. */
export type GuideDist = (d: Distribution) => Distribution

/** One plate configuration of the grid. */
export interface PlateCase {
  readonly name: string
  /** Plate dims the program uses (a particle dim goes left of them). */
  readonly depth: number
  /** The guide's params at the point where the gradient is taken (locs, then positive scales). */
  readonly params: () => tf.Tensor[]
  readonly model: (wrap: Wrap) => () => Prog
  readonly guide: (wrap: Wrap, q: GuideDist) => (ps: readonly tf.Tensor[]) => () => Prog
  /** d E_q[ELBO] / d params under `scaled(c, …)`, flattened in the params' order (row-major). */
  readonly exact: (c: number) => number[]
  /**
   * The measured standard error of one gradient estimate with {@link K_PARTICLES} particles at c = 1, per
   * param tensor (the largest over its entries): the sample SD of the estimate across 48 seeds, rounded
   * up to two digits. By estimator and guide: `pathwise` elbo() and elbo({ downstream: true }) with the
   * reparameterised guide (identical there), `analytic` elbo({ kl: 'auto' }) with it, `iwae`
   * iwae({ numParticles: 1 }) over a particle plate, `score` the score-function guide under any of the
   * three ELBOs (the larger of Trace_ELBO's and TraceGraph_ELBO's).
   */
  readonly se: StandardErrors
}

/** Per param tensor, in the order of `params`. */
export interface StandardErrors {
  readonly pathwise: readonly number[]
  readonly analytic: readonly number[]
  readonly iwae: readonly number[]
  readonly score: readonly number[]
}

/** Particles per gradient estimate: each cell's expectation is the mean over this many. */
export const K_PARTICLES = 40_000

/** `d` with its draws cut from the gradient, kept so through expand/toEvent (Pyro's fakes.NonreparameterizedNormal). */
export const nonReparameterized = (d: Distribution): Distribution => ({
  ...d, reparameterized: false, rsample: undefined,
  expand: (b) => nonReparameterized(d.expand(b)), toEvent: (n) => nonReparameterized(d.toEvent(n)),
  logProb: (x) => d.logProb(x),
})

/** A one-effect program. */
const one = (p: () => Generator<Message, unknown, unknown>): Prog => gen(p)

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)

// ---------------------------------------------------------------------------------------------
// no plate: z ~ N(0, 1), x ~ N(z, 1); guide z ~ N(m, s)
// ---------------------------------------------------------------------------------------------

const X0 = 0.8
const M0 = -0.4
const S0 = 0.6

/** d/dm = c(x − 2m), d/ds = c(1/s − 2s). */
const noPlate: PlateCase = {
  name: 'no plate',
  depth: 0,
  se: { pathwise: [0.0062, 0.011], analytic: [0.0031, 0.0068], iwae: [0.0063, 0.012], score: [0.018, 0.032] },
  params: () => [tf.scalar(M0), tf.scalar(S0)],
  model: (wrap) => () => wrap(() => one(function* () {
    const z = yield* sample('z', normal(0, 1))
    yield* observe('x', normal(z, 1), tf.broadcastTo(tf.scalar(X0), z.shape))
  })),
  guide: (wrap, q) => ([m, s]) => () => wrap(() => one(function* () {
    yield* sample('z', q(normal(m!, s!)))
  })),
  exact: (c) => [c * (X0 - 2 * M0), c * (1 / S0 - 2 * S0)],
}

// ---------------------------------------------------------------------------------------------
// one plate A (dim −1), possibly subsampled: z_a ~ N(0, 1), x_a ~ N(z_a, 1); guide z_a ~ N(m_a, s)
// ---------------------------------------------------------------------------------------------

const XA = [-0.5, 0.9, 2.0, -1.2]
const MA = [0.3, -0.2, 0.1, 0.5]

/**
 * With the subsample S of A's n elements (r = n/|S|): d/dm_a = c·r·(x_a − 2m_a) for a ∈ S, 0
 * otherwise; d/ds = c·r·|S|·(1/s − 2s).
 */
const onePlate = (name: string, n: number, subsample: readonly number[] | undefined, se: StandardErrors): PlateCase => {
  const elems = subsample ?? Array.from({ length: n }, (_, i) => i)
  const r = n / elems.length
  const opts = () => ({ dim: -1, ...(subsample && { subsample: tf.tensor1d([...subsample], 'int32') }) })
  return {
    name,
    depth: 1,
    se,
    params: () => [tf.tensor1d(MA.slice(0, n)), tf.scalar(S0)],
    model: (wrap) => () => wrap(() => plate('A', n, opts(), (idx) => one(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* observe('x', normal(z, 1), tf.broadcastTo(tf.gather(tf.tensor1d(XA.slice(0, n)), idx), z.shape))
    }))),
    guide: (wrap, q) => ([m, s]) => () => wrap(() => plate('A', n, opts(), (idx) => one(function* () {
      yield* sample('z', q(normal(tf.gather(m!, idx), s!)))
    }))),
    exact: (c) => [
      ...Array.from({ length: n }, (_, a) => elems.includes(a) ? c * r * (XA[a]! - 2 * MA[a]!) : 0),
      c * r * elems.length * (1 / S0 - 2 * S0),
    ],
  }
}

// ---------------------------------------------------------------------------------------------
// nested plates A (dim −1, 3) ⊃ B (dim −2, 2):
//   u_a ~ N(0, 1); w_ba ~ N(u_a, 1); x_ba ~ N(w_ba, 1); guide u_a ~ N(mu_a, su), w_ba ~ N(mw_ba, sw)
// ---------------------------------------------------------------------------------------------

const NA = 3
const NB = 2
const X_BA = [[0.4, -1.1, 1.7], [2.2, 0.1, -0.6]]
const MU = [0.2, -0.7, 0.9]
const MW = [[-0.3, 0.5, 1.1], [0.8, -0.4, 0.0]]
const SU = 0.8
const SW = 0.5

/**
 * E = Σ_a[−½(mu_a² + su²) + log su] + Σ_ba[−½((mw_ba − mu_a)² + sw² + su²) + log sw] + Σ_ba[−½((x_ba − mw_ba)² + sw²)]:
 * d/dmu_a = c(−mu_a + Σ_b (mw_ba − mu_a)); d/dmw_ba = c(−(mw_ba − mu_a) + (x_ba − mw_ba));
 * d/dsu = c(NA(1/su − su) − NA·NB·su); d/dsw = c·NA·NB·(1/sw − 2sw).
 */
const nested: PlateCase = {
  name: 'nested plates',
  depth: 2,
  se: {
    pathwise: [0.013, 0.0078, 0.028, 0.022], analytic: [0.0082, 0.0054, 0.018, 0.015],
    iwae: [0.014, 0.0069, 0.042, 0.026], score: [0.047, 0.043, 0.089, 0.072],
  },
  params: () => [tf.tensor1d(MU), tf.tensor2d(MW), tf.scalar(SU), tf.scalar(SW)],
  model: (wrap) => () => wrap(() => plate('A', NA, { dim: -1 }, () => one(function* () {
    const u = yield* sample('u', normal(0, 1))
    yield* plate('B', NB, { dim: -2 }, () => one(function* () {
      const w = yield* sample('w', normal(u, 1))
      yield* observe('x', normal(w, 1), tf.broadcastTo(tf.tensor2d(X_BA), w.shape))
    }))
  }))),
  guide: (wrap, q) => ([mu, mw, su, sw]) => () => wrap(() => plate('A', NA, { dim: -1 }, () => one(function* () {
    yield* sample('u', q(normal(mu!, su!)))
    yield* plate('B', NB, { dim: -2 }, () => one(function* () {
      yield* sample('w', q(normal(mw!, sw!)))
    }))
  }))),
  exact: (c) => [
    ...MU.map((mu, a) => c * (-mu + sum(MW.map((row) => row[a]! - mu)))),
    ...MW.flatMap((row, b) => row.map((mw, a) => c * (-(mw - MU[a]!) + (X_BA[b]![a]! - mw)))),
    c * (NA * (1 / SU - SU) - NA * NB * SU),
    c * NA * NB * (1 / SW - 2 * SW),
  ],
}

// ---------------------------------------------------------------------------------------------
// crossed plates A (dim −1, n) and B (dim −2, 2), A possibly subsampled:
//   u_a ~ N(0, 1) in A; v_b ~ N(0, 1) in B; w_ba ~ N(0, 1), y_ba ~ N(u_a + v_b + w_ba, 1) in A×B
//   guide u_a ~ N(mu_a, su), v_b ~ N(mv_b, sv), w_ba ~ N(mw_ba, sw)
// ---------------------------------------------------------------------------------------------

const Y_BA = [[1.5, -0.8, 0.3, 2.4], [-1.9, 0.6, 1.2, -0.2]]
const MU_C = [0.4, -0.3, 0.0, 0.6]
const MV = [[-0.5], [0.7]]
const MW_C = [[0.1, 0.9, -0.6, 0.2], [-0.2, 0.3, 0.5, -0.9]]
const SV = 0.7

/**
 * With S ⊆ A (r = n/|S|) and ρ_ba = y_ba − mu_a − mv_b − mw_ba, for a ∈ S (else 0 for a's params):
 * d/dmu_a = c·r(−mu_a + Σ_b ρ_ba); d/dmv_b = c(−mv_b + r Σ_{a∈S} ρ_ba); d/dmw_ba = c·r(−mw_ba + ρ_ba);
 * d/dsu = c·r|S|((1/su − su) − NB·su); d/dsv = c(NB(1/sv − sv) − r|S|·NB·sv); d/dsw = c·r|S|·NB(1/sw − 2sw).
 */
const crossed = (name: string, n: number, subsample: readonly number[] | undefined, se: StandardErrors): PlateCase => {
  const elems = subsample ?? Array.from({ length: n }, (_, i) => i)
  const r = n / elems.length
  const y = Y_BA.map((row) => row.slice(0, n))
  const mu = MU_C.slice(0, n)
  const mwc = MW_C.map((row) => row.slice(0, n))
  const inS = (a: number) => elems.includes(a)
  const rho = (b: number, a: number) => y[b]![a]! - mu[a]! - MV[b]![0]! - mwc[b]![a]!
  const optsA = () => ({ dim: -1, ...(subsample && { subsample: tf.tensor1d([...subsample], 'int32') }) })
  const inA = (body: (idx: tf.Tensor) => Prog) => plate('A', n, optsA(), body)
  const inB = (body: () => Prog) => plate('B', NB, { dim: -2 }, body)
  return {
    name,
    depth: 2,
    se,
    params: () => [tf.tensor1d(mu), tf.tensor2d(MV), tf.tensor2d(mwc), tf.scalar(SU), tf.scalar(SV), tf.scalar(SW)],
    model: (wrap) => () => wrap(() => one(function* () {
      const u = (yield* inA(() => one(function* () { return yield* sample('u', normal(0, 1)) }))) as tf.Tensor
      const v = (yield* inB(() => one(function* () { return yield* sample('v', normal(0, 1)) }))) as tf.Tensor
      yield* inB(() => inA((idx) => one(function* () {
        const w = yield* sample('w', normal(0, 1))
        const mean = tf.add(tf.add(u, v), w)
        yield* observe('y', normal(mean, 1), tf.broadcastTo(tf.gather(tf.tensor2d(y), idx, 1), mean.shape))
      })))
    })),
    guide: (wrap, q) => ([mu_, mv, mw, su, sv, sw]) => () => wrap(() => one(function* () {
      yield* inA((idx) => one(function* () { yield* sample('u', q(normal(tf.gather(mu_!, idx), su!))) }))
      yield* inB(() => one(function* () { yield* sample('v', q(normal(mv!, sv!))) }))
      yield* inB(() => inA((idx) => one(function* () { yield* sample('w', q(normal(tf.gather(mw!, idx, 1), sw!))) })))
    })),
    exact: (c) => [
      ...mu.map((m, a) => inS(a) ? c * r * (-m + sum(MV.map((_, b) => rho(b, a)))) : 0),
      ...MV.map(([m], b) => c * (-m! + r * sum(elems.map((a) => rho(b, a))))),
      ...mwc.flatMap((row, b) => row.map((m, a) => inS(a) ? c * r * (-m + rho(b, a)) : 0)),
      c * r * elems.length * ((1 / SU - SU) - NB * SU),
      c * (NB * (1 / SV - SV) - r * elems.length * NB * SV),
      c * r * elems.length * NB * (1 / SW - 2 * SW),
    ],
  }
}

/** The grid's plate configurations (the last adds a subsample to crossed plates: N/B on A's and A×B's sites, not on B's). */
export const PLATE_CASES: readonly PlateCase[] = [
  noPlate,
  onePlate('plate', 3, undefined, { pathwise: [0.0064, 0.019], analytic: [0.0032, 0.014], iwae: [0.0068, 0.019], score: [0.027, 0.055] }),
  onePlate('subsampled plate', 4, [3, 1], { pathwise: [0.014, 0.032], analytic: [0.0067, 0.022], iwae: [0.012, 0.032], score: [0.046, 0.091] }),
  nested,
  crossed('crossed plates', 3, undefined, {
    pathwise: [0.014, 0.017, 0.0076, 0.028, 0.042, 0.029], analytic: [0.011, 0.013, 0.006, 0.022, 0.033, 0.026],
    iwae: [0.014, 0.015, 0.0074, 0.039, 0.03, 0.027], score: [0.07, 0.089, 0.083, 0.14, 0.21, 0.13],
  }),
  crossed('crossed plates, A subsampled', 4, [2, 0], {
    pathwise: [0.027, 0.022, 0.015, 0.041, 0.06, 0.054], analytic: [0.019, 0.02, 0.012, 0.03, 0.053, 0.049],
    iwae: [0.027, 0.02, 0.015, 0.068, 0.053, 0.047], score: [0.13, 0.14, 0.14, 0.22, 0.32, 0.24],
  }),
]
