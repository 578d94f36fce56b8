/**
 * Summing model-enumerated variables out of the log joint exactly, along the
 * plate structure (tensor variable elimination, as Pyro's `contract_tensor_tree`):
 * log-factors are grouped by the plates they sit in; from the innermost plates
 * outwards, each group's variables that live there are summed out (sum-product),
 * then the plates the remaining variables do not live in are multiplied out
 * (summed, in log space), and the result moves to the enclosing plates. A
 * mixture over N points costs O(N·K); a plate structure that is not a tree is
 * refused, since it would cost K^N.
 */
import * as tf from '@tensorflow/tfjs-core'
import { MARGINAL, plateAxis, sumOver, sumProduct } from './named-tensor.js'
import type { Elimination, Named } from './named-tensor.js'
import { SiteError } from './site-error.js'

/** A log-factor of one site (or a contraction of several): named axes, the plates it sits in, its scale. */
export interface LogFactor {
  readonly name: string
  readonly named: Named
  /** The names of the plates it sits in (its own, and any whose dim its value carries). */
  readonly ordinal: ReadonlySet<string>
  readonly scale: number | tf.Tensor
}

const key = (ordinal: ReadonlySet<string>): string => [...ordinal].sort().join('\u0000')
const subset = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => [...a].every((x) => b.has(x))
const intersect = (sets: readonly ReadonlySet<string>[]): Set<string> =>
  sets.length === 0 ? new Set() : new Set([...sets[0]!].filter((x) => sets.every((s) => s.has(x))))
const showPlates = (o: ReadonlySet<string>): string => o.size === 0 ? 'no plate' : `plate(s) ${[...o].map((p) => `'${p}'`).join(', ')}`

/** Factors split into groups that share a summed variable (union-find over the variables). @example components(factors, new Set(['enum:z'])) */
export const components = <T extends { readonly named: Named }>(factors: readonly T[], vars: ReadonlySet<string>): T[][] => {
  const groups: { members: T[]; vars: Set<string> }[] = []
  for (const f of factors) {
    const own = new Set(f.named.dims.filter((d) => vars.has(d)))
    const touching = groups.filter((g) => [...own].some((v) => g.vars.has(v)))
    const merged = { members: [...touching.flatMap((g) => g.members), f], vars: new Set([...own, ...touching.flatMap((g) => [...g.vars])]) }
    for (const g of touching) groups.splice(groups.indexOf(g), 1)
    groups.push(merged)
  }
  return groups.map((g) => g.members)
}

/** The one scale every factor of a component shares (Pyro: enumerated sites must share a common scale). */
const commonScale = (fs: readonly LogFactor[]): number | tf.Tensor => {
  const first = fs[0]!.scale
  const same = (s: number | tf.Tensor): boolean => s === first || (typeof s !== 'number' && typeof first !== 'number' && s.size === 1 && first.size === 1 && s.dataSync()[0] === first.dataSync()[0])
  const odd = fs.find((f) => !same(f.scale))
  if (odd !== undefined) {
    const show = (s: number | tf.Tensor): string => typeof s === 'number' ? String(s) : `a tensor of shape [${s.shape.join(', ')}]`
    throw new SiteError(`sites '${fs[0]!.name}' and '${odd.name}' share a model-enumerated variable but have different scales (${show(first)} and ${show(odd.scale)}, from subsampled plates or scaled scopes); the enumerated sum log Σ p cannot be scaled term by term: put the sites of one enumerated variable under the same plates' subsampling and the same scaled scope`)
  }
  if (typeof first !== 'number' && first.size !== 1) throw new SiteError(`site '${fs[0]!.name}' shares a model-enumerated variable and has a scale of shape [${first.shape.join(', ')}]; enumerated sites take a scalar scale only`)
  return first
}

/** Where each guide-enumerated variable lives: the plates of its guide site, by axis name. */
export type GuidePlates = ReadonlyMap<string, ReadonlySet<string>>

/** Throws if multiplying out `plates` would merge the elements of a guide-enumerated variable that lives in one of them. */
const checkGuideVars = (t: Named, plates: readonly string[], guidePlates: GuidePlates, site: string): void => {
  for (const d of t.dims) {
    const living = guidePlates.get(d)
    const clash = living === undefined ? undefined : plates.find((p) => living.has(p))
    if (clash !== undefined) throw new SiteError(`site '${site}': a model-enumerated variable outside plate '${clash}' shares a factor with the guide-enumerated variable '${d.slice(5)}' inside it; exact enumeration cannot take the guide's expectation per element there. Enumerate both in the model, or move the model's variable into the plate`)
  }
}

/** One component contracted: its terms free of summed variables, each at the plates it still sits in. */
const contractComponent = (fs: readonly LogFactor[], sumVars: ReadonlySet<string>, guidePlates: GuidePlates, how: Elimination): LogFactor[] => {
  const scale = commonScale(fs)
  const name = fs.map((f) => f.name).join('+')
  const varsIn = (t: Named): string[] => t.dims.filter((d) => sumVars.has(d))
  const home = new Map([...sumVars].map((v) => [v, intersect(fs.filter((f) => f.named.dims.includes(v)).map((f) => f.ordinal))]))
  const tree = new Map<string, { ordinal: ReadonlySet<string>; terms: Named[] }>()
  const put = (ordinal: ReadonlySet<string>, t: Named): void => { const k = key(ordinal); tree.set(k, { ordinal, terms: [...(tree.get(k)?.terms ?? []), t] }) }
  for (const f of fs) put(f.ordinal, f.named)
  const done: LogFactor[] = []
  while (tree.size > 0) {
    const [k, { ordinal: leaf, terms }] = [...tree].reduce((a, b) => b[1].ordinal.size > a[1].ordinal.size ? b : a)
    tree.delete(k)
    const local = new Set([...sumVars].filter((v) => key(home.get(v)!) === k))
    for (const group of components(terms.map((named) => ({ named })), local)) {
      const t = sumProduct(group.map((g) => g.named), [...local], how)
      const pending = varsIn(t)
      if (pending.length === 0) { done.push({ name, named: t, ordinal: leaf, scale }); continue }
      const parent = new Set(pending.flatMap((v) => [...home.get(v)!]))
      if (subset(leaf, parent)) {
        throw new SiteError(`the enumerated variables ${pending.map((v) => `'${v.slice(5)}'`).join(', ')} (in ${pending.map((v) => showPlates(home.get(v)!)).join('; ')}) meet in a factor of ${showPlates(leaf)} (sites ${name}): the plate structure is not a tree, and summing them out exactly would cost K to the power of the plate size. Nest one plate in the other, or enumerate fewer sites`)
      }
      const out = [...leaf].filter((p) => !parent.has(p))
      checkGuideVars(t, out, guidePlates, name)
      put(parent, sumOver(t, out.map(plateAxis)))
    }
  }
  return done.map((d) => scale === 1 ? d : { ...d, named: { ...d.named, value: tf.mul(d.named.value, scale) } })
}

/**
 * The model's log-factors with every model-enumerated variable summed out: factors that hold no
 * such variable pass through (scaled); each group sharing one is contracted along its plates.
 * The results may still hold guide-enumerated variables (the guide's expectation takes them).
 * `how` reduces each variable: log Σ exp (the default), or max for the MAP.
 *
 * @example contractModel(factors, new Set(['enum:z']), guidePlates)   // log Σ_z p(z) p(x | z), per data point
 */
export const contractModel = (factors: readonly LogFactor[], sumVars: ReadonlySet<string>, guidePlates: GuidePlates, how: Elimination = MARGINAL): LogFactor[] =>
  components(factors, sumVars).flatMap((fs) => {
    if (fs.some((f) => f.named.dims.some((d) => sumVars.has(d)))) return contractComponent(fs, sumVars, guidePlates, how)
    return fs.map((f) => f.scale === 1 ? f : { ...f, named: { ...f.named, value: tf.mul(f.named.value, f.scale) } })
  })

