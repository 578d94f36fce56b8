import { describe, expect, it } from 'vitest'
import { clock, epochLine, progress, progressLine } from '../../src/cli/progress.js'

describe('progress', () => {
  it('formats durations as m:ss or h:mm:ss', () => {
    expect(clock(0)).toBe('0:00')
    expect(clock(75)).toBe('1:15')
    expect(clock(3725)).toBe('1:02:05')
    expect(clock(NaN)).toBe('?:??')
  })

  it('the bar line shows epoch, %, steps/s, ETA and the running ELBO', () => {
    expect(progressLine({ epoch: 3, epochs: 10, done: 25, total: 50, seconds: 5, elbo: -123.456 }))
      .toBe(`epoch 3/10 [${'#'.repeat(12)}${'·'.repeat(12)}]  50%  5.0 steps/s  ETA 0:05  ELBO -123.46`)
    expect(progressLine({ epoch: 1, epochs: 2, done: 0, total: 10, seconds: 0, elbo: NaN })).toContain('ETA ?:??  ELBO …')
  })

  it('the epoch line shows train and test ELBO and the time', () => {
    expect(epochLine({ epoch: 2, trainElbo: -150.123, testElbo: -140.5, seconds: 14.25 }, 5)).toBe('epoch 2/5  train ELBO -150.12  test ELBO -140.50  14.3 s')
    expect(epochLine({ epoch: 2, trainElbo: -150, testElbo: null, seconds: 1 }, 5)).toContain('test ELBO —')
    expect(epochLine({ epoch: 1, trainElbo: -150, testElbo: -160, seconds: 1, warmup: true }, 5)).toBe('epoch 1/5  train ELBO -150.00 (β-weighted, KL warm-up)  test ELBO -160.00  1.0 s')
  })

  it('redraws in place on a terminal and writes plain lines otherwise', () => {
    const tty: string[] = [], plain: string[] = []
    for (const [out, isTTY] of [[tty, true], [plain, false]] as const) {
      const p = progress({ write: (s) => { out.push(s) }, tty: isTTY }, 1, 2)
      p.epochStart(1); p.step(100); p.step(90)
      p.epochEnd({ epoch: 1, trainElbo: -95, testElbo: -90, seconds: 1 })
    }
    expect(tty.filter((s) => s.startsWith('\r\x1b[Kepoch 1/1 [')).length).toBeGreaterThanOrEqual(2)   // at the start and at 100%
    expect(tty.at(-1)).toBe('epoch 1/1  train ELBO -95.00  test ELBO -90.00  1.0 s\n')
    expect(plain).toEqual(['epoch 1/1  train ELBO -95.00  test ELBO -90.00  1.0 s\n'])
  })
})
