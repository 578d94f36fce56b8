/**
 * The SHA-256 of a checkpoint's weights, as the manifest records it (`weightsSha256`, lower-case hex),
 * computed by the host: `node:crypto` (synchronous) for files in Node, the Web Crypto API
 * (`crypto.subtle`, asynchronous) anywhere else; and the one check of weights against their manifest.
 * Nothing here imports a Node module.
 */
import { CheckpointError } from './checkpoint-manifest.js'
import type { Manifest } from './checkpoint-manifest.js'

/**
 * Hashes the weights to lower-case hex SHA-256, synchronously or not.
 *
 * @example const digest: Digest = sha256Web
 */
export type Digest = (bytes: Uint8Array) => string | Promise<string>

/** The part of the Web Crypto API used here (Node ≥ 20 and browsers' secure contexts have it). */
interface SubtleLike {
  readonly digest: (algorithm: 'SHA-256', data: Uint8Array) => Promise<ArrayBuffer>
}

const subtle = (): SubtleLike | undefined => (globalThis as { crypto?: { subtle?: SubtleLike } }).crypto?.subtle

/**
 * The hex SHA-256 of `bytes` through the Web Crypto API (`crypto.subtle.digest`); a
 * {@link CheckpointError} where the host has none (a browser page served over plain http).
 *
 * @example await sha256Web(new Uint8Array([]))   // 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
 */
export const sha256Web = async (bytes: Uint8Array): Promise<string> => {
  const s = subtle()
  if (s === undefined) throw new CheckpointError('checkpoint digest: crypto.subtle (the Web Crypto API) is unavailable here; browsers provide it only in secure contexts (https or localhost)')
  const hash = new Uint8Array(await s.digest('SHA-256', bytes))
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** How a loader names the two parts of a checkpoint in its messages. @example const names: PartNames = { weights: "'ckpt/weights.bin'", manifest: "'ckpt/manifest.json'", kind: 'file' } */
export interface PartNames {
  readonly weights: string
  readonly manifest: string
  /** What the weights are (`file`, `record`, `section`). */
  readonly kind: string
}

/**
 * What is wrong with `bytes` as the weights `m` describes (their size, then their SHA-256), or undefined.
 *
 * @example await weightsProblem(manifest, bytes, sha256Web, { weights: 'the weights record', manifest: 'the manifest record', kind: 'record' })
 */
export const weightsProblem = async (m: Manifest, bytes: Uint8Array, digest: Digest, names: PartNames): Promise<string | undefined> => {
  if (bytes.length !== m.weightsBytes) return `${names.weights} has ${bytes.length} bytes but ${names.manifest} says ${m.weightsBytes} (weightsBytes); the ${names.kind} is truncated or from another checkpoint`
  if ((await digest(bytes)) !== m.weightsSha256) return `${names.weights} does not match the SHA-256 in ${names.manifest} (weightsSha256); the ${names.kind} is corrupt or from another checkpoint`
  return undefined
}
