/**
 * Site log-densities with their scale and mask: the terms every estimator sums.
 */
import * as tf from '@tensorflow/tfjs-core'
import { SupportError, showShape } from '../errors.js'
import type { FactorSite, SampleSite, Trace } from './trace.js'
import { SiteError } from './interpreter.js'
import { PARTICLE_PLATE } from './plate-dims.js'

/** A site's mask applied to an elementwise log-density: false → 0 (the mask broadcast to `lp`). @example applyMask(lp, site.mask) */
export const applyMask = (lp: tf.Tensor, mask: tf.Tensor | undefined): tf.Tensor =>
  mask === undefined ? lp : tf.where(tf.broadcastTo(mask, lp.shape), lp, tf.zerosLike(lp))

/** Applies a site's mask (false → 0) and scale to an elementwise log-density, and sums it. */
export const scaledSum = (lp: tf.Tensor, scale: number | tf.Tensor, mask: tf.Tensor | undefined): tf.Scalar => {
  const masked = applyMask(lp, mask)
  if (scale === 1) return tf.sum(masked) as tf.Scalar   // the usual case: no multiply (nor its gradient) to launch
  return typeof scale === 'number'
    ? tf.mul(tf.sum(masked), scale) as tf.Scalar
    : tf.sum(tf.mul(masked, scale)) as tf.Scalar
}

/** The axis of a site's batchShape ++ eventShape that the particle plate holds (−1: none). */
const particleAxis = (site: SampleSite): number => {
  const frame = site.plates.find((p) => p.name === PARTICLE_PLATE && p.iteration === undefined)
  return frame === undefined ? -1 : site.dist.batchShape.length + frame.dim
}

/**
 * Throws a {@link SiteError} (freeing the site's `lp`) unless an observation covers its
 * distribution's batchShape ++ eventShape: the distribution may broadcast over the data (a dim
 * of 1, or extra leading data dims), but the data may not be broadcast to fill the distribution
 * (each datum would be counted several times) — except along the particle plate's dim, where
 * every particle sees the same data, and along enumeration dims, where every value of an
 * enumerated variable does.
 */
const checkObservedShape = (site: SampleSite, lp: tf.Tensor): void => {
  const v = site.value.shape, full = [...site.dist.batchShape, ...site.dist.eventShape]
  const offset = v.length - full.length, particles = particleAxis(site)
  const dataDim = (i: number): number => v[i + offset] ?? 1
  const enumerated = (i: number): boolean => site.enumeration?.visible.has(i - site.dist.batchShape.length) === true
  if (full.every((d, i) => d === 1 || d === dataDim(i) || ((i === particles || enumerated(i)) && dataDim(i) === 1))) return
  lp.dispose()
  throw new SiteError(`site '${site.name}' (observed): the observed value has shape ${showShape(v)} but the distribution (${site.dist.name}) has batchShape ${showShape(site.dist.batchShape)} ++ eventShape ${showShape(site.dist.eventShape)}; expected data of (at least) that shape: a distribution may broadcast over the data, the data may not be broadcast to fill the distribution`)
}

/**
 * log p(value) of a sample site, with the site named in errors from the distribution;
 * an observation must cover the distribution's shape (see `checkObservedShape`).
 *
 * @example sampleLogProb(trace.byName.get('x') as SampleSite)
 */
export const sampleLogProb = (site: SampleSite): tf.Tensor => {
  try {
    const lp = site.dist.logProb(site.value)
    if (site.kind === 'observed') checkObservedShape(site, lp)
    return lp
  } catch (err) {
    if (err instanceof Error && (err.name === 'ShapeError' || err.name === 'SupportError')) {
      const Ctor = err.name === 'SupportError' ? SupportError : SiteError
      throw new Ctor(`site '${site.name}' (${site.kind}): ${err.message}`)
    }
    throw err
  }
}

/** Σ scale · mask · log p over one sample site. @example siteTerm(site) */
export const siteTerm = (site: SampleSite): tf.Scalar => scaledSum(sampleLogProb(site), site.scale, site.mask)

/** Σ scale · mask · logWeight over one factor site. @example factorTerm(site) */
export const factorTerm = (site: FactorSite): tf.Scalar => scaledSum(site.logWeight, site.scale, site.mask)

/**
 * The scaled log joint of a trace: every sample and factor site.
 *
 * @example logJoint(traceProgram(model(x), [condition({ z })]).trace)
 */
export const logJoint = (trace: Trace): tf.Scalar =>
  trace.sites.reduce<tf.Scalar>((acc, s) =>
    s._tag === 'Sample' ? tf.add(acc, siteTerm(s)) : s._tag === 'Factor' ? tf.add(acc, factorTerm(s)) : acc, tf.scalar(0))
