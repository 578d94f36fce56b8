/**
 * Dense linear algebra tfjs lacks: the Cholesky factorisation and triangular solves, batched over
 * leading dims, with exact gradients (`tf.customGrad`). Written on tfjs ops, one column (or row) per
 * step over the whole batch at once, so they run on every backend; meant for matrices up to ~64 × 64.
 * Gradients are first-order (the backward passes free their per-step intermediates as they go).
 */
import * as tf from '@tensorflow/tfjs-core'
import { ShapeError, showShape } from '../errors.js'
import { customGradSaved } from './gradient.js'
import { broadcastTo } from './numerics.js'
import { scoped } from './scope.js'


/** x with its last two dims swapped. */
const transposeLast = (x: tf.Tensor): tf.Tensor =>
  tf.transpose(x, [...Array.from({ length: x.rank - 2 }, (_, i) => i), x.rank - 1, x.rank - 2])

/** Index `i` of `axis`, the axis kept (size 1). */
const at = (x: tf.Tensor, axis: number, i: number): tf.Tensor =>
  tf.slice(x, x.shape.map((_, k) => (k === axis ? i : 0)), x.shape.map((_, k) => (k === axis ? 1 : -1)))

/** x's lower (or upper) triangle, diagonal included, the rest exactly 0 (one batched select; tfjs's bandPart loops over the batch). */
const triangle = (x: tf.Tensor, lower: boolean): tf.Tensor => {
  const n = x.shape[x.rank - 1]!, m = x.shape[x.rank - 2]!
  const mask = new Uint8Array(m * n)
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) mask[i * n + j] = (lower ? j <= i : j >= i) ? 1 : 0
  return tf.where(tf.tensor2d(mask, [m, n], 'bool'), x, tf.zerosLike(x))
}
const lowerPart = (x: tf.Tensor): tf.Tensor => triangle(x, true)
const upperPart = (x: tf.Tensor): tf.Tensor => triangle(x, false)

/**
 * The lower triangle of matrices [..., m, n], diagonal included, zeros above: `tf.linalg.bandPart(x, -1, 0)`
 * in one batched op. Differentiable.
 *
 * @example tril(tf.ones([2, 3, 3]))
 */
export const tril = scoped('tril', lowerPart)

/** The diagonals of square matrices [..., n, n] → [..., n] (finite entries assumed off the diagonal). @example diagPart(l) */
export const diagPart = scoped('diagPart', (x: tf.Tensor): tf.Tensor => tf.sum(tf.mul(x, tf.eye(x.shape[x.rank - 1]!)), -1))

/** Right-looking Cholesky: column j of L is A's column j over √pivot; then A −= c cᵀ. Reads A's lower triangle. */
const choleskyRaw = (a: tf.Tensor): tf.Tensor => {
  const n = a.shape[a.rank - 1]!
  const cols: tf.Tensor[] = []
  let rest = a
  for (let j = 0; j < n; j++) {
    const [c, next] = tf.tidy(() => {
      const column = at(rest, rest.rank - 1, j)
      const c = tf.div(column, tf.sqrt(at(column, column.rank - 2, j)))   // pivot ≤ 0 → NaN, which propagates
      return [c, j + 1 < n ? tf.sub(rest, tf.mul(c, tf.reshape(c, [...c.shape.slice(0, -2), 1, n]))) : undefined]
    })
    if (rest !== a) rest.dispose()
    cols.push(c!)
    if (next !== undefined) rest = next
  }
  const l = tf.tidy(() => lowerPart(tf.concat(cols, -1)))
  tf.dispose(cols)
  return l
}

/** Forward substitution L X = B for lower-triangular L (zeros above the diagonal); batch dims broadcast. */
const forwardSubstitute = (l: tf.Tensor, b: tf.Tensor): tf.Tensor => {
  const n = l.shape[l.rank - 1]!
  const rows: tf.Tensor[] = []
  let r = b
  for (let i = 0; i < n; i++) {
    const [z, next] = tf.tidy(() => {
      const li = at(l, l.rank - 1, i)
      const z = tf.div(at(r, r.rank - 2, i), at(li, li.rank - 2, i))
      return [z, i + 1 < n ? tf.sub(r, tf.mul(li, z)) : undefined]
    })
    if (r !== b) r.dispose()
    rows.push(z!)
    if (next !== undefined) r = next
  }
  const x = tf.concat(rows, -2)
  tf.dispose(rows)
  return x
}

/** op(T)⁻¹ B with T the lower (or upper) triangle of l and op the transpose when `adjoint`; upper systems by reversal. */
const solveRaw = (l: tf.Tensor, b: tf.Tensor, lower: boolean, adjoint: boolean): tf.Tensor => tf.tidy(() => {
  const tri = lower ? lowerPart(l) : upperPart(l)
  const m = adjoint ? transposeLast(tri) : tri
  if (lower !== adjoint) return forwardSubstitute(m, b)
  return tf.reverse(forwardSubstitute(tf.reverse(m, [-2, -1]), tf.reverse(b, -2)), -2)
})

/** Sums `g` down to `shape` (undoing a broadcast of the batch dims). */
const reduceTo = (g: tf.Tensor, shape: readonly number[]): tf.Tensor => {
  const lead = g.rank - shape.length
  const axes = g.shape.flatMap((d, i) => (i < lead || (shape[i - lead] === 1 && d !== 1) ? [i] : []))
  return axes.length === 0 ? g : tf.reshape(tf.sum(g, axes), [...shape])
}

/**
 * Ā = ½ (S + Sᵀ), S = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹, Φ = lower triangle with the diagonal halved (Murray 2016; PyTorch's
 * convention: the gradient is symmetric, as for a function of a symmetric matrix).
 */
const choleskyGrad = (l: tf.Tensor, dl: tf.Tensor): tf.Tensor => {
  const p = lowerPart(tf.matMul(l, dl, true, false))
  const phi = tf.mul(0.5, tf.add(p, transposeLast(tf.sub(p, tf.mul(p, tf.eye(p.shape[p.rank - 1]!))))))
  const y = solveRaw(l, phi, true, true)
  const s = transposeLast(solveRaw(l, transposeLast(y), true, true))
  return tf.mul(0.5, tf.add(s, transposeLast(s)))
}

const choleskyOp = customGradSaved<[tf.Tensor]>((a, save) => {
  const l = choleskyRaw(a)
  save([l])
  return { value: l, gradFunc: (dl, [saved]) => [choleskyGrad(saved!, dl)] }
})

const checkSquare = (op: string, arg: string, x: tf.Tensor): number => {
  const n = x.shape[x.rank - 1]
  if (x.rank < 2 || n !== x.shape[x.rank - 2]) {
    throw new ShapeError(`${op}: argument '${arg}' must be a batch of square matrices [..., n, n]; got shape ${showShape(x.shape)}`)
  }
  return n!
}

const asFloat = (x: tf.Tensor): tf.Tensor => (x.dtype === 'float32' ? x : tf.cast(x, 'float32'))

/**
 * The lower Cholesky factor L of symmetric positive-definite matrices, A = L Lᵀ, batched over the
 * leading dims ([..., n, n] → [..., n, n]). Only the lower triangle of A is read. A matrix that is
 * not positive definite (a pivot ≤ 0) gives non-finite entries, not an exception: callers that
 * need a named error test the factor (`constraints.lowerCholesky`). The gradient is the symmetric
 * one of Murray (2016), as in PyTorch and TensorFlow: ∂ log det A / ∂A = A⁻¹.
 *
 * @example
 * const l = cholesky(tf.tensor2d([[4, 2], [2, 3]]))   // [[2, 0], [1, √2]]
 */
export const cholesky = scoped('cholesky', (a: tf.Tensor): tf.Tensor => {
  checkSquare('cholesky', 'a', a)
  return choleskyOp(asFloat(a))
})

/** Which triangle of the matrix a triangular solve reads, and whether it solves with its transpose. */
export interface TriangularSolveOptions {
  /** Read the lower triangle of `l` (default) or the upper; the other triangle is ignored. */
  readonly lower?: boolean
  /** Solve Tᵀ X = B instead of T X = B (default false). */
  readonly adjoint?: boolean
}

const batchOf = (op: string, l: tf.Tensor, b: tf.Tensor): number[] => {
  try {
    return tf.backend_util.assertAndGetBroadcastShape(l.shape.slice(0, -2), b.shape.slice(0, -2))
  } catch {
    throw new ShapeError(`${op}: batch dims of l ${showShape(l.shape)} and b ${showShape(b.shape)} do not broadcast`)
  }
}

const solveOp = (lower: boolean, adjoint: boolean) => customGradSaved<[tf.Tensor, tf.Tensor]>((l, b, save) => {
  const x = solveRaw(l, b, lower, adjoint)
  save([l, x])
  return {
    value: x,
    gradFunc: (dx, [ls, xs]) => {
      const db = solveRaw(ls!, dx, lower, !adjoint)                 // A⁻ᵀ dX
      const da = adjoint ? tf.matMul(xs!, db, false, true) : tf.matMul(db, xs!, false, true)   // −∂/∂T, before the triangle
      const dl = tf.neg(lower ? lowerPart(da) : upperPart(da))
      return [reduceTo(dl, l.shape), reduceTo(db, b.shape)]
    },
  }
})
const solveOps = { upper: solveOp(false, false), upperAdjoint: solveOp(false, true), lower: solveOp(true, false), lowerAdjoint: solveOp(true, true) }

/**
 * X = T⁻¹ B (or T⁻ᵀ B with `adjoint`), T the lower (default) or upper triangle of `l`: l [..., n, n],
 * b [..., n, m], batch dims broadcast; X has the broadcast batch dims. Gradients for both arguments
 * (B̄ = T⁻ᵀ X̄, T̄ = −B̄ Xᵀ on the triangle).
 *
 * @example
 * triangularSolve(l, tf.eye(3))                      // L⁻¹
 * triangularSolve(l, b, { adjoint: true })           // L⁻ᵀ b
 */
export const triangularSolve = (l: tf.Tensor, b: tf.Tensor, options: TriangularSolveOptions = {}): tf.Tensor => {
  const n = checkSquare('triangularSolve', 'l', l)
  if (b.rank < 2 || b.shape[b.rank - 2] !== n) {
    throw new ShapeError(`triangularSolve: b must have shape [..., ${n}, m] to match l ${showShape(l.shape)}; got ${showShape(b.shape)}`)
  }
  batchOf('triangularSolve', l, b)
  const { lower = true, adjoint = false } = options
  return tf.tidy('triangularSolve', () => solveOps[`${lower ? 'lower' : 'upper'}${adjoint ? 'Adjoint' : ''}` as const](asFloat(l), asFloat(b)))
}

/**
 * Applies `f` to m [..., p, q] and the vectors v [..., q] laid out as columns: the leading dims of v
 * that are not m's batch dims (sample dims) become the columns of one right-hand side, so one
 * batched op serves every sample. f gets m [B, p, q] and V [B, q, S] and returns [B, r, S].
 */
const alongColumns = (m: tf.Tensor, v: tf.Tensor, f: (m3: tf.Tensor, cols: tf.Tensor) => tf.Tensor): tf.Tensor => {
  const [p, q] = m.shape.slice(-2) as [number, number]
  if (v.rank < 1 || v.shape[v.rank - 1] !== q) throw new ShapeError(`expected vectors [..., ${q}] to match a matrix ${showShape(m.shape)}; got ${showShape(v.shape)}`)
  let full: number[]
  try { full = tf.backend_util.assertAndGetBroadcastShape(v.shape.slice(0, -1), m.shape.slice(0, -2)) } catch {
    throw new ShapeError(`vectors ${showShape(v.shape)} do not broadcast against the matrices ${showShape(m.shape)}`)
  }
  const batch = full.slice(full.length - (m.rank - 2)), outer = full.slice(0, full.length - batch.length)
  const s = outer.reduce((a, d) => a * d, 1), nb = batch.reduce((a, d) => a * d, 1)
  const cols = tf.transpose(tf.reshape(broadcastTo(v, [...full, q]), [s, nb, q]), [1, 2, 0])
  const out = f(tf.reshape(broadcastTo(m, [...batch, p, q]), [nb, p, q]), cols)
  const r = out.shape[1]!
  return tf.reshape(tf.transpose(out, [2, 0, 1]), [...full, r])
}

/**
 * Solves T z = v for vectors v [..., n] (or Tᵀ z = v with `adjoint`), l [..., n, n]: v's leading dims
 * broadcast against l's batch dims and may add sample dims on the left, all solved in one batched
 * solve. Differentiable in both.
 *
 * @example
 * triangularSolveVec(scaleTril, tf.sub(x, loc))   // L⁻¹ (x − μ), x of shape [samples, ...batch, n]
 */
export const triangularSolveVec = scoped('triangularSolveVec', (l: tf.Tensor, v: tf.Tensor, options: TriangularSolveOptions = {}): tf.Tensor => {
  checkSquare('triangularSolveVec', 'l', l)
  return alongColumns(l, v, (m3, cols) => triangularSolve(m3, cols, options))
})

/**
 * m v for matrices m [..., p, q] and vectors v [..., q] whose leading dims broadcast against m's
 * batch dims (and may add sample dims on the left): one batched matrix product.
 *
 * @example
 * matVec(scaleTril, eps)   // L ε, eps of shape [samples, ...batch, n]
 */
export const matVec = scoped('matVec', (m: tf.Tensor, v: tf.Tensor): tf.Tensor => {
  if (m.rank < 2) throw new ShapeError(`matVec: m must be a batch of matrices [..., p, q]; got ${showShape(m.shape)}`)
  return alongColumns(m, v, (m3, cols) => tf.matMul(m3, cols))
})
