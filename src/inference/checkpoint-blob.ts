/**
 * A checkpoint as one file, to download (`<a download>`) and upload (`<input type=file>`) in a
 * browser, or to send and store anywhere: the manifest and weights of `checkpoint-codec.ts` in a
 * small container,
 *
 *     'TFPPLCKP' (8 bytes) | manifest length (uint32, little-endian) | SHA-256 of the manifest (32 bytes) | manifest (UTF-8 JSON) | weights
 *
 * The manifest's hash covers its text; the manifest's `weightsSha256` covers the weights, so a
 * truncated or altered file (any bit) is a {@link CheckpointError}, never a wrong checkpoint.
 * Hashing goes through `crypto.subtle` (browsers' secure contexts, Node ≥ 20). No Node module.
 */
import { encodeCheckpoint } from './checkpoint-codec.js'
import type { Checkpoint } from './checkpoint-codec.js'
import { sha256Web, weightsProblem } from './checkpoint-digest.js'
import { CheckpointError, decodeCheckpoint } from './checkpoint-manifest.js'
import type { Manifest } from './checkpoint-manifest.js'
import { restoreCheckpoint } from './checkpoint-restore.js'
import type { Restored, RestoreTarget } from './checkpoint-restore.js'

/** The first 8 bytes of a checkpoint file. @example new TextDecoder().decode(bytes.subarray(0, 8)) === CHECKPOINT_FILE_MAGIC */
export const CHECKPOINT_FILE_MAGIC = 'TFPPLCKP'
const HASH_BYTES = 32
const HEADER_BYTES = CHECKPOINT_FILE_MAGIC.length + 4 + HASH_BYTES

/**
 * What a checkpoint file can be read from: a `Blob` or `File` (an upload), or its bytes.
 *
 * @example const file: CheckpointFileSource = input.files[0]
 */
export type CheckpointFileSource = { readonly arrayBuffer: () => Promise<ArrayBuffer>; readonly name?: string } | ArrayBuffer | ArrayBufferView

const hexToBytes = (hex: string): Uint8Array => Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16))
const bytesToHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

/**
 * Encodes a checkpoint (params, module weights and buffers, optimizer, SVI state, extra JSON) as the
 * bytes of one file (over a plain ArrayBuffer, as `new Blob([bytes])` wants); wrap them in a `Blob` to offer a download.
 *
 * @example
 * const bytes = await encodeCheckpointFile({ store: s.params, optimizer: s.optimizer, state: s.state })
 * const a = document.createElement('a')
 * a.href = URL.createObjectURL(new Blob([bytes])); a.download = 'vae.tfppl'; a.click()
 */
export const encodeCheckpointFile = async (c: Checkpoint): Promise<Uint8Array<ArrayBuffer>> => {
  const { manifest, bytes } = await encodeCheckpoint(c, sha256Web)
  const text = new TextEncoder().encode(JSON.stringify(manifest))
  const out = new Uint8Array(HEADER_BYTES + text.length + bytes.length)
  out.set(new TextEncoder().encode(CHECKPOINT_FILE_MAGIC), 0)
  new DataView(out.buffer).setUint32(CHECKPOINT_FILE_MAGIC.length, text.length, true)
  out.set(hexToBytes(await sha256Web(text)), CHECKPOINT_FILE_MAGIC.length + 4)
  out.set(text, HEADER_BYTES)
  out.set(bytes, HEADER_BYTES + text.length)
  return out
}

/** The header's manifest length, after checking the magic and that the manifest fits. */
const manifestLength = (file: Uint8Array, fail: (what: string) => never): number => {
  if (file.length < HEADER_BYTES) fail(`it has ${file.length} bytes, fewer than the ${HEADER_BYTES} of the header; the file is truncated or not a tfppl checkpoint`)
  const magic = String.fromCharCode(...file.subarray(0, CHECKPOINT_FILE_MAGIC.length))
  if (magic !== CHECKPOINT_FILE_MAGIC) fail(`it begins with ${JSON.stringify(magic)}, not ${JSON.stringify(CHECKPOINT_FILE_MAGIC)}; it is not a tfppl checkpoint file (or it is corrupt)`)
  const n = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(CHECKPOINT_FILE_MAGIC.length, true)
  if (HEADER_BYTES + n > file.length) fail(`its header says the manifest has ${n} bytes but only ${file.length - HEADER_BYTES} follow the header; the file is truncated or corrupt`)
  return n
}

/**
 * Decodes and checks the bytes of a checkpoint file (container, manifest, weights' size and
 * SHA-256) without restoring anything; `name` is used in error messages.
 *
 * @example const { manifest, bytes } = await decodeCheckpointFile(data, 'vae.tfppl')
 */
export const decodeCheckpointFile = async (file: Uint8Array, name = 'checkpoint file'): Promise<{ manifest: Manifest; bytes: Uint8Array }> => {
  const fail = (what: string): never => { throw new CheckpointError(`checkpoint file '${name}': ${what}`, name) }
  const n = manifestLength(file, fail)
  const text = file.subarray(HEADER_BYTES, HEADER_BYTES + n)
  const recorded = bytesToHex(file.subarray(CHECKPOINT_FILE_MAGIC.length + 4, HEADER_BYTES))
  if ((await sha256Web(text)) !== recorded) fail('its manifest does not match the SHA-256 in its header; the file is corrupt')
  let json: string
  try { json = new TextDecoder('utf-8', { fatal: true }).decode(text) } catch { return fail('its manifest is not valid UTF-8; the file is corrupt') }
  const manifest = decodeCheckpoint(`checkpoint file '${name}', manifest`, json)
  const bytes = file.subarray(HEADER_BYTES + n)
  const problem = await weightsProblem(manifest, bytes, sha256Web, { weights: 'its weights section', manifest: 'its manifest', kind: 'file' })
  if (problem !== undefined) fail(problem)
  return { manifest, bytes }
}

/** The bytes and a name of a source. */
const readSource = async (source: CheckpointFileSource): Promise<{ bytes: Uint8Array; name: string | undefined }> => {
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: undefined }
  if (ArrayBuffer.isView(source)) return { bytes: new Uint8Array(source.buffer, source.byteOffset, source.byteLength), name: undefined }
  if (typeof (source as { arrayBuffer?: unknown }).arrayBuffer !== 'function') throw new CheckpointError(`loadCheckpointFile: expected a Blob, a File, an ArrayBuffer or a Uint8Array; got ${Object.prototype.toString.call(source)}`)
  return { bytes: new Uint8Array(await source.arrayBuffer()), name: source.name }
}

/**
 * Restores a checkpoint file (from {@link encodeCheckpointFile}) into `c.store` (and `c.optimizer`),
 * as `loadCheckpoint` does from a directory: the whole file is checked, then the store, before
 * anything changes. Returns the saved SVI state and extra JSON.
 *
 * @example
 * input.onchange = async () => { const { state } = await loadCheckpointFile(input.files![0]!, { store: s.params, optimizer: s.optimizer }) }
 */
export const loadCheckpointFile = async (file: CheckpointFileSource, c: RestoreTarget, name?: string): Promise<Restored> => {
  const source = await readSource(file)
  const label = name ?? source.name ?? 'checkpoint file'
  const { manifest, bytes } = await decodeCheckpointFile(source.bytes, label)
  return restoreCheckpoint(`loadCheckpointFile '${label}'`, manifest, bytes, c)
}
