/** describeFailure: every error that reaches the top of the command is one line with its cause and a hint. */
import { describe, expect, it } from 'vitest'
import { TfpplError } from '../../src/errors.js'
import { UsageError, describeFailure } from '../../src/cli/errors.js'

describe('describeFailure', () => {
  it('an unexpected error is one line: its type, first line of message, where it was thrown, and a hint', () => {
    const e = new TypeError('Cannot read properties of undefined (reading \'shape\')\nsecond line')
    const f = describeFailure(e, false)
    expect(f.code).toBe(1)
    expect(f.text.split('\n')).toHaveLength(1)
    expect(f.text).toMatch(/^tfppl: unexpected error: TypeError: Cannot read properties of undefined \(reading 'shape'\) at \S+errors\.test\.ts:\d+:\d+ /)
    expect(f.text).toContain('probably a bug in tfppl')
    expect(f.text).toContain('TFPPL_DEBUG=1')
    expect(f.text).not.toContain('second line')
  })

  it('a huge message (a minified source file) is cut to 300 characters', () => {
    const f = describeFailure(new Error(`var Module=${'x'.repeat(40_000)}`), false)
    expect(f.text.length).toBeLessThan(600)
    expect(f.text.split('\n')).toHaveLength(1)
  })

  it('with debug on, the stack trace follows the line', () => {
    const e = new RangeError('bad')
    const f = describeFailure(e, true)
    expect(f.text.split('\n')[0]).toMatch(/^tfppl: unexpected error: RangeError: bad at /)
    expect(f.text).toContain(e.stack!)
  })

  it('a system error names the failed call and what to check', () => {
    const e = Object.assign(new Error("EACCES: permission denied, open '/x/y'"), { code: 'EACCES', syscall: 'open', path: '/x/y' })
    expect(describeFailure(e, false)).toEqual({ code: 1, text: "tfppl: EACCES: permission denied, open '/x/y' (open failed with EACCES; check the path, its permissions and the free space)" })
  })

  it('library errors keep their message; usage errors exit 2; a thrown string is one line', () => {
    expect(describeFailure(new TfpplError('a'), false)).toEqual({ code: 1, text: 'tfppl: a' })
    expect(describeFailure(new UsageError('tfppl: b'), false)).toEqual({ code: 2, text: 'tfppl: b' })
    expect(describeFailure('c\nd', false).text).toBe('tfppl: unexpected error: c (probably a bug in tfppl: please report it with the command line; rerun with TFPPL_DEBUG=1 for the stack trace)')
  })
})
