/**
 * The version `tfppl --version` prints: the `version` field of the package's
 * own package.json (two folders up from this file, both in src/ and in dist/).
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { TfpplError } from '../errors.js'

const PACKAGE_JSON = new URL('../../package.json', import.meta.url)

/**
 * The package's version, e.g. `'0.1.0'`; a TfpplError naming the file when it cannot be read.
 *
 * @example packageVersion()   // '0.1.0'
 */
export const packageVersion = (): string => {
  const file = fileURLToPath(PACKAGE_JSON)
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new TfpplError(`cannot read the version from ${file} (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); expected the package's package.json there`)
  }
  const version = typeof json === 'object' && json !== null && 'version' in json ? json.version : undefined
  if (typeof version !== 'string' || version === '') throw new TfpplError(`${file} has no "version" string; expected e.g. "version": "0.1.0"`)
  return version
}
