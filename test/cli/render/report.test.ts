import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OutputError, writeFileAtomic } from '../../../src/cli/render/atomic.js'
import { reportHtml, type ReportInput } from '../../../src/cli/render/report-html.js'
import { TfpplError } from '../../../src/errors.js'

describe('reportHtml', () => {
  const input: ReportInput = {
    title: 'VAE <script>alert(1)</script>',
    backend: 'wasm & "friends"',
    metrics: { epochs: [
      { epoch: 1, trainElbo: -150.12345, testElbo: -145.5, seconds: 10.04 },
      { epoch: 2, trainElbo: -120, seconds: 9.96 },
      { epoch: 3, trainElbo: NaN, testElbo: -110.25, seconds: 10 },
    ] },
    images: [
      { title: 'Samples', file: 'samples.png', caption: '64 draws <b>from</b> the prior' },
      { title: 'Recon', file: 'recon & more.png' },
    ],
    svgs: [{ title: 'ELBO', file: 'elbo.svg', caption: 'train and test' }],
    details: [['model', 'vae<2>']],
  }
  const html = reportHtml(input)

  it('escapes every piece of text, so no markup gets through', () => {
    expect(html).not.toMatch(/<script|<b>|vae<2>/)
    expect(html).toContain('<title>VAE &lt;script&gt;alert(1)&lt;/script&gt;</title>')
    expect(html).toContain('<h1>VAE &lt;script&gt;alert(1)&lt;/script&gt;</h1>')
    expect(html).toContain('Backend: wasm &amp; &quot;friends&quot;')
    expect(html).toContain('<figcaption>64 draws &lt;b&gt;from&lt;/b&gt; the prior</figcaption>')
  })

  it('references each picture by relative, percent-encoded file name', () => {
    expect(html).toContain('<img src="samples.png" alt="Samples">')
    expect(html).toContain('<img src="recon%20%26%20more.png" alt="Recon">')
    expect(html).toContain('<img src="elbo.svg" alt="ELBO">')
    expect(html.match(/<figure>/g)?.length).toBe(3)
  })

  it('is one self-contained page with a row per epoch', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true)
    expect(html).toMatch(/<style>[^<]+<\/style>/)
    expect(html).not.toMatch(/<link|<script|https?:/)
    const rows = [...html.matchAll(/<tr><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g)].map((m) => m.slice(1))
    expect(rows).toEqual([['1', '-150.123', '-145.500', '10.0'], ['2', '-120.000', '—', '10.0'], ['3', 'NaN', '-110.250', '10.0']])
    expect(html).toContain('best test ELBO -110.250; 3 epochs in 30.0 s')
  })

  it('says so when no epochs were recorded', () => {
    expect(reportHtml({ ...input, metrics: { epochs: [] } })).toContain('No epochs were recorded.')
  })

  it('shows the native accelerator\'s state beside the backend, escaped; nothing when it is not known', () => {
    expect(reportHtml({ ...input, backend: 'wasm', accelerator: 'not built (<apt-get> & rebuild)' }))
      .toContain('<p class="meta">Backend: wasm; native accelerator: not built (&lt;apt-get&gt; &amp; rebuild)</p>')
    expect(html).not.toContain('native accelerator')
  })
})

describe('writeFileAtomic', () => {
  let dir = ''
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'tfppl-atomic-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('writes exactly the given text or bytes, replaces an old file, and leaves no temporary file', async () => {
    const text = join(dir, 'report.html')
    await writeFile(text, 'old contents that are longer than the new ones')
    await writeFileAtomic(text, 'héllo <b>')
    expect(await readFile(text, 'utf8')).toBe('héllo <b>')
    const bin = join(dir, 'image.png')
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) % 256)
    await writeFileAtomic(bin, bytes)
    expect(new Uint8Array(await readFile(bin))).toEqual(bytes)
    expect((await readdir(dir)).sort()).toEqual(['image.png', 'report.html'])
  })

  it('throws OutputError naming the path and OS code when the parent is a regular file', async () => {
    const parent = join(dir, 'not-a-dir')
    await writeFile(parent, 'x')
    const target = join(parent, 'out.png')
    const err = await writeFileAtomic(target, 'data').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OutputError)
    expect(err).toBeInstanceOf(TfpplError)
    expect(err).toMatchObject({ name: 'OutputError', path: target, code: 'ENOTDIR' })
    expect((err as OutputError).message).toContain(`cannot write ${target}: ENOTDIR`)
  })

  it('reports a missing directory as ENOENT', async () => {
    const target = join(dir, 'missing', 'out.svg')
    await expect(writeFileAtomic(target, 'x')).rejects.toMatchObject({ name: 'OutputError', path: target, code: 'ENOENT' })
  })

  it('removes its temporary file when the final rename fails, leaving the target as it was', async () => {
    const sub = join(dir, 'rename-fails')
    const target = join(sub, 'taken')
    await mkdir(target, { recursive: true }) // a non-empty directory where the file should go
    await writeFile(join(target, 'keep.txt'), 'keep')
    const err = await writeFileAtomic(target, 'data').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OutputError)
    expect((err as OutputError).path).toBe(target)
    expect(await readdir(sub)).toEqual(['taken'])
    expect(await readFile(join(target, 'keep.txt'), 'utf8')).toBe('keep')
  })
})
