/**
 * End to end in headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core; WebGL on SwiftShader): builds the page with Vite into
 * dist/, serves it on 127.0.0.1, trains the classifier with `fit` under
 * tf.train.adam and under FRUGAL on tfjs-webgl, and checks that both trained
 * (the loss fell, accuracy above chance) and FRUGAL's state is at most half of
 * Adam's. Skipped, saying why, when there is no Chromium (failed under CI=true).
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { chromium } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Result } from '../src/compare'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = join(root, 'dist')
const executablePath = process.env.FRUGAL_CHROMIUM ?? '/usr/bin/chromium'
const missing = !existsSync(executablePath)
// under CI (CI=true) a missing Chromium fails the run instead of skipping it, as in examples/web
const ci = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI)
if (missing && ci)
  describe('examples/tfjs-layers in headless Chromium (CI=true)', () => {
    it('needs Chromium', () => {
      throw new Error(`CI=true but ${executablePath} not found: apt-get install -y chromium (Debian), or set FRUGAL_CHROMIUM`)
    })
  })
else if (missing)
  console.warn(
    `\n[example-tfjs-layers e2e] SKIPPING the browser test: ${executablePath} not found. Install Debian's Chromium (apt-get install -y chromium) or set FRUGAL_CHROMIUM.\n`,
  )

const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' }

const serve = async (dir: string): Promise<{ server: Server; url: string }> => {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path)
    try {
      const body = await readFile(file)
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' })
      res.end(body)
    } catch {
      res.writeHead(404).end('not found')
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }
}

describe.skipIf(missing)('examples/tfjs-layers in headless Chromium (tfjs-webgl)', () => {
  let browser: Browser
  let server: Server
  let url: string

  beforeAll(async () => {
    await build({ root, logLevel: 'warn', build: { outDir: dist, emptyOutDir: true, reportCompressedSize: false } })
    ;({ server, url } = await serve(dist))
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--enable-unsafe-swiftshader'] })
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    server?.close()
  })

  it('fit with tf.train.adam and with FRUGAL on webgl: both train, the loss falls, FRUGAL holds at most half the state', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${url}?autostart`, { waitUntil: 'load' })
    await page.waitForSelector('body[data-done=true]', { timeout: 400_000 })
    const error = await page.evaluate(() => document.body.dataset.error ?? null)
    expect(error).toBeNull()
    expect(errors).toEqual([])
    const rows = JSON.parse(await page.evaluate(() => document.body.dataset.results ?? '[]')) as Result[]
    for (const r of rows)
      console.info(`[example-tfjs-layers e2e] ${r.optimizer} on ${r.backend}: accuracy ${(100 * r.accuracy).toFixed(1)} %, loss ${r.firstLoss.toFixed(3)} -> ${r.lastLoss.toFixed(3)}, state ${r.stateBytes} B, ${r.msPerBatch.toFixed(1)} ms per batch`)
    expect(rows.map((r) => r.optimizer)).toEqual(['tf.train.adam', 'frugal'])
    for (const r of rows) {
      expect(r.backend).toBe('webgl')
      expect(r.lastLoss).toBeLessThan(r.firstLoss)
      expect(r.accuracy).toBeGreaterThan(0.6)
    }
    expect(rows[1].stateBytes).toBeLessThanOrEqual(0.5 * rows[0].stateBytes)
    expect(await page.$$eval('#results tr[data-optimizer]', (trs) => trs.length)).toBe(2)
  }, 420_000)
})
