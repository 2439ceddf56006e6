/**
 * End to end: builds the page with Vite (programmatically, into dist/), serves
 * dist/ on 127.0.0.1 with a tiny static server, and drives headless Chromium
 * (Debian's /usr/bin/chromium through playwright-core; WebGL on SwiftShader)
 * through it: a short FRUGAL run on each backend (tfjs-webgl, gpu.js-webgl2,
 * cpu) side by side until the loss falls, the loss and memory panels showing
 * numbers, a text sample, a screenshot (examples/web/test-output/screenshot.png; the README's copy is examples/web/screenshot.png), then the
 * bad inputs: density 1.5, an empty density, and a browser without WebGL, each
 * an error panel naming what was wrong, with the runs untouched and still
 * training. Skipped, saying why, when there is no Chromium (failed under CI=true).
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { chromium } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = join(root, 'dist')
const executablePath = process.env.FRUGAL_CHROMIUM ?? '/usr/bin/chromium'
const missing = !existsSync(executablePath)
// under CI (CI=true) a missing Chromium fails the run instead of skipping it
const ci = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI)
if (missing && ci)
  describe('examples/web in headless Chromium (CI=true)', () => {
    it('needs Chromium', () => {
      throw new Error(`CI=true but ${executablePath} not found: apt-get install -y chromium (Debian), or set FRUGAL_CHROMIUM`)
    })
  })
else if (missing)
  console.warn(
    `\n[example-web e2e] SKIPPING the browser test of examples/web: ${executablePath} not found. ` +
      'Install Debian\'s Chromium (apt-get install -y chromium) or set FRUGAL_CHROMIUM to a Chromium binary.\n',
  )

const args = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-swiftshader', // WebGL on SwiftShader where there is no GPU (newer Chromiums want the opt-in)
]

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
}

/** A static file server for dist/ (with the cross-origin isolation headers of vite preview). */
const serve = async (dir: string): Promise<{ server: Server; url: string }> => {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path)
    try {
      const body = await readFile(file)
      res.writeHead(200, {
        'content-type': types[extname(file)] ?? 'application/octet-stream',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      })
      res.end(body)
    } catch {
      res.writeHead(404).end('not found')
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }
}

/** The data attributes of every run card. */
const runs = (page: Page) => page.$$eval('#run-list .run', (els) => els.map((e) => ({ ...(e as HTMLElement).dataset })))

/** Waits (polling, so a page busy compiling shaders is fine) until `pred` holds of the run cards. */
const waitRuns = async (page: Page, pred: (rs: Awaited<ReturnType<typeof runs>>) => boolean, what: string, ms: number) => {
  const end = Date.now() + ms
  let last: Awaited<ReturnType<typeof runs>> = []
  while (Date.now() < end) {
    last = await runs(page)
    if (pred(last)) return last
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; runs: ${JSON.stringify(last)}`)
}

const errorPanel = (page: Page) =>
  page.evaluate(() => {
    const p = document.getElementById('error-panel')!
    return { hidden: p.hidden, kind: p.dataset.kind, field: p.dataset.field, title: p.querySelector('h2')!.textContent, message: document.getElementById('error-message')!.textContent, fix: document.getElementById('error-fix')!.textContent }
  })

/** Starts a run from the form; the click waits for the page to take it (a GPU run's first step compiles for a while). */
const start = async (page: Page, o: { optimizer: string; backend: string; steps: number; density?: string; lr?: string }) => {
  await page.selectOption('#optimizer', o.optimizer)
  await page.selectOption('#backend', o.backend)
  await page.fill('#density', o.density ?? '0.25')
  await page.fill('#steps', String(o.steps))
  await page.fill('#lr', o.lr ?? '0.01')
  await page.click('#start', { timeout: 120_000 })
}

describe.skipIf(missing)('examples/web in headless Chromium', () => {
  let browser: Browser
  let server: Server
  let url: string
  let page: Page
  const requests: string[] = []
  const t0 = Date.now()
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`

  beforeAll(async () => {
    await build({ root, logLevel: 'warn', build: { outDir: dist, emptyOutDir: true, reportCompressedSize: false } })
    console.info(`[example-web e2e] vite build done at ${elapsed()}`)
    ;({ server, url } = await serve(dist))
    browser = await chromium.launch({ executablePath, args })
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
    page.on('pageerror', (e) => console.error('[example-web e2e] page error:', e.message))
    page.on('response', (r) => requests.push(`${r.status()} ${r.url()}`))
    await page.goto(url, { waitUntil: 'load' })
    await page.waitForSelector('body[data-ready=true]')
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    server?.close()
  })

  const plan = [
    { backend: 'tfjs-webgl', steps: 12 },
    { backend: 'gpujs-webgl2', steps: 8 },
    { backend: 'cpu', steps: 60 },
  ]

  it('trains FRUGAL on tfjs-webgl, gpu.js-webgl2 and cpu side by side: the loss falls, the panels show numbers', async () => {
    for (const p of plan) {
      await start(page, { optimizer: 'frugal', ...p })
      await page.waitForSelector(`#run-list .run[data-backend="${p.backend}"]`, { timeout: 120_000 })
    }
    const done = await waitRuns(page, (rs) => rs.length === 3 && rs.every((r) => r.status !== 'running'), 'the three runs to finish', 150_000)
    console.info(`[example-web e2e] three runs done at ${elapsed()}`)
    for (const p of plan) {
      const r = done.find((x) => x.backend === p.backend)!
      console.info(
        `[example-web e2e] FRUGAL ρ=0.25 on ${p.backend}: ${r.step} steps, loss ${Number(r.firstLoss).toFixed(3)} -> ${Number(r.recentLoss).toFixed(3)}, ` +
          `held-out ${Number(r.valLoss).toFixed(3)}, optimizer state ${r.stateBytes} B, last step ${r.msPerStep} ms, backend ${r.backendTensors} tensors / ${r.backendBytes} B`,
      )
      expect(r.status, `${p.backend} finished`).toBe('done')
      expect(Number(r.step)).toBe(p.steps)
      expect(Number(r.recentLoss), `${p.backend}: loss falls`).toBeLessThan(Number(r.firstLoss) - 0.3)
      expect(Number(r.valLoss)).toBeGreaterThan(0)
      expect(Number(r.stateBytes)).toBeGreaterThan(0)
      expect(Number(r.backendTensors)).toBeGreaterThan(0)
    }
    // the three start from the same weights, so their first losses agree (GPU float32 within 1e-3)
    const firsts = done.map((r) => Number(r.initialLoss))
    expect(Math.max(...firsts) - Math.min(...firsts)).toBeLessThan(1e-3)

    // the panels show numbers
    const cards = await page.$$eval('#run-list .run', (els) =>
      els.map((e) => ({ loss: e.querySelector('.loss')!.textContent, state: e.querySelector('.state')!.textContent, mem: e.querySelector('.mem')!.textContent })),
    )
    for (const c of cards) {
      expect(c.loss).toMatch(/^\d+\.\d{3}$/)
      expect(c.state).toMatch(/^\d+(\.\d+)? (B|KiB|MiB)$/)
      expect(c.mem).toMatch(/^\d+ tensors, \d+(\.\d+)? (B|KiB|MiB)$/)
    }
    const chart = await page.$$eval('#loss-chart g[data-series] path.smooth', (ps) => ps.map((p) => (p.getAttribute('d') ?? '').split('L').length))
    expect(chart).toEqual(plan.map((p) => p.steps))
    const bars = await page.$$eval('#memory-chart g[data-bar] text', (ts) => ts.map((t) => t.textContent))
    expect(bars.filter((t) => /\d (B|KiB|MiB)$/.test(t ?? ''))).toHaveLength(3)

    // a sample from the cpu run
    await page.click('#run-list .run[data-backend="cpu"] [data-action=sample]')
    await page.waitForSelector('#sample-output[data-done=true]', { timeout: 60_000 })
    const sample = (await page.textContent('#sample-output')) ?? ''
    expect(sample.length).toBeGreaterThan(160)
    console.info(`[example-web e2e] sample: ${JSON.stringify(sample.slice(0, 240))}`)

    // offline: everything came from dist/ (the cpu backend's workers start from blob: URLs)
    expect(requests.filter((r) => !/^(200|304) /.test(r) || !r.split(' ')[1].startsWith(url)).filter((r) => !/ (blob|data):/.test(r))).toEqual([])

    await page.screenshot({ path: join(root, 'test-output', 'screenshot.png'), fullPage: true })
  }, 300_000)

  it('a density of 1.5 (or none) shows what was wrong and how to fix it; the runs are kept and go on training', async () => {
    await start(page, { optimizer: 'frugal', backend: 'cpu', steps: 5000 })
    // memory stays flat while it trains (its evaluation at step 25 compiled before the first reading)
    const early = await waitRuns(page, (rs) => rs.length === 4 && Number(rs[3].step) > 30, 'the long cpu run to train', 60_000)
    // (the bytes change with the optimizer state when FRUGAL's random blocks change: the rest stays)
    const rest = (r: (typeof early)[number]) => Number(r.backendBytes) - Number(r.stateBytes)
    const reading = (rs: typeof early) => [Number(rs[3].backendTensors), rest(rs[3])]
    // flat over 30 steps: under a loaded machine one window may catch something else on the page
    // releasing cpu tensors (seen once in the full suite: 216 -> 204 tensors), so up to four
    // windows in a row; a leak grows with every step and is flat in none of them
    let [from, to] = [early, early]
    for (let w = 0; w < 4; w++) {
      to = await waitRuns(page, (rs) => Number(rs[3].step) > Number(from[3].step) + 30, 'the long cpu run to train on', 60_000)
      if (reading(to).every((x, i) => x === reading(from)[i])) break
      from = to
    }
    const before = to
    expect(reading(before), `steps ${from[3].step} to ${before[3].step}`).toEqual(reading(from))
    // and nothing grew since the first reading
    expect(reading(before)[0]).toBeLessThanOrEqual(reading(early)[0])
    expect(reading(before)[1]).toBeLessThanOrEqual(reading(early)[1])
    const series = await page.$$eval('#loss-chart g[data-series]', (gs) => gs.length)

    await start(page, { optimizer: 'frugal', backend: 'cpu', steps: 100, density: '1.5' })
    const e = await errorPanel(page)
    expect(e.hidden).toBe(false)
    expect(e.kind).toBe('input')
    expect(e.field).toBe('density')
    expect(e.message).toBe('density must be in [0, 1], got 1.5 (at frugal.density)')
    expect(e.fix).toMatch(/^How to fix it: Type a density between 0 and 1/)
    expect(await page.getAttribute('#density', 'aria-invalid')).toBe('true')

    // nothing was lost: the same runs, the same curves, and the long run keeps going
    const after = await runs(page)
    expect(after.map((r) => [r.runId, r.backend])).toEqual(before.map((r) => [r.runId, r.backend]))
    expect(await page.$$eval('#loss-chart g[data-series]', (gs) => gs.length)).toBe(series)
    const step = Number(after[3].step)
    await waitRuns(page, (rs) => Number(rs[3].step) > step + 5, 'the long run to go on after the error', 30_000)

    await start(page, { optimizer: 'galore', backend: 'cpu', steps: 100, density: '' })
    const empty = await errorPanel(page)
    expect([empty.field, empty.message]).toEqual(['density', 'density must be a number, got ""'])
    expect(await runs(page)).toHaveLength(4)

    await page.click('#run-list .run[data-run-id="4"] [data-action=stop]')
    await waitRuns(page, (rs) => rs[3].status === 'stopped', 'the long run to stop', 30_000)
    console.info(`[example-web e2e] bad density checked at ${elapsed()}`)
  }, 120_000)

  it('a backend this browser cannot run (no WebGL) shows what is missing; the cpu run goes on', async () => {
    const context = await browser.newContext()
    // a browser without WebGL: every WebGL context request fails, as with WebGL disabled or blocklisted
    await context.addInitScript(() => {
      for (const C of [HTMLCanvasElement, OffscreenCanvas]) {
        const get = C.prototype.getContext as (this: unknown, id: string, o?: unknown) => unknown
        C.prototype.getContext = function (this: unknown, id: string, o?: unknown) {
          return /webgl/i.test(id) ? null : get.call(this, id, o)
        } as never
      }
    })
    const p = await context.newPage()
    try {
      await p.goto(url, { waitUntil: 'load' })
      await p.waitForSelector('body[data-ready=true]')
      await start(p, { optimizer: 'frugal', backend: 'cpu', steps: 5000 })
      await waitRuns(p, (rs) => rs.length === 1 && Number(rs[0].step) > 3, 'the cpu run to train', 60_000)

      for (const [backend, name] of [['gpujs-webgl2', /webgl2/i], ['tfjs-webgl', /webgl/i]] as const) {
        await start(p, { optimizer: 'frugal', backend, steps: 100 })
        await p.waitForFunction((b) => document.getElementById('error-panel')?.dataset.kind === 'backend' && document.getElementById('error-title')!.textContent!.includes(b), backend === 'tfjs-webgl' ? 'tfjs' : 'gpu.js', { timeout: 60_000 })
        const e = await errorPanel(p)
        console.info(`[example-web e2e] no WebGL, ${backend}: ${e.title} — ${e.message} — ${e.fix}`)
        expect(e.field).toBe('backend')
        expect(e.message).toMatch(name)
        expect(e.fix).toMatch(/pick the "cpu" backend/)
        const rs = await runs(p)
        expect(rs.map((r) => [r.backend, r.status])).toEqual([['cpu', 'running']])
        const step = Number(rs[0].step)
        await waitRuns(p, (x) => Number(x[0].step) > step + 3, 'the cpu run to go on', 30_000)
        await p.click('#error-dismiss')
      }
    } finally {
      await context.close()
    }
    console.info(`[example-web e2e] no-WebGL checked at ${elapsed()}`)
  }, 150_000)
})
