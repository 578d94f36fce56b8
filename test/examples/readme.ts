/** The README shows an example file line for line (its doc comment, exports and final log line aside). */
import { readFileSync } from 'node:fs'
import { expect } from 'vitest'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

/** Asserts that every line of `examples/<file>` that a reader copies appears in the README. */
export const expectReadmeShows = (file: string): void => {
  const source = readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')
  const body = source.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('/**') && !l.startsWith('export') && !l.startsWith('console.log'))
  body.forEach((line) => expect(readme).toContain(line))
}
