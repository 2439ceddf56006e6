/**
 * Vitest browser mode: the test files of this folder run in headless Chromium
 * (Debian's /usr/bin/chromium, launched by playwright-core through
 * @vitest/browser-playwright), served by Vite on 127.0.0.1. The root
 * `vitest.browser.config.ts` re-exports this config.
 *
 * Without /usr/bin/chromium (or FRUGAL_CHROMIUM) the browser is not started:
 * `no-chromium.test.ts` runs in Node instead and reports the suite as skipped,
 * with the reason printed; under CI=true it fails instead, and so does a
 * missing WebGPU adapter (WebGL2 is always required: its suites fail without it).
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { playwright } from '@vitest/browser-playwright'
import type { BrowserCommand } from 'vitest/node'
import { defineConfig } from 'vitest/config'

const root = fileURLToPath(new URL('.', import.meta.url))
const chromium = process.env.FRUGAL_CHROMIUM ?? '/usr/bin/chromium'
const envInt = (name: string, fallback: number): number => {
  const v = Number(process.env[name])
  return Number.isInteger(v) && v > 0 ? v : fallback
}

// SwiftShader runs every shader on the CPU: fewer fast-check runs than in
// Node (40 per property, 10 per autodiff check), overridable for deeper runs.
/** CI=true (any value but '', '0' or 'false'): a missing Chromium or WebGPU adapter fails the run. */
const ci = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI)
const provided = {
  numRuns: envInt('FRUGAL_BROWSER_RUNS', 10),
  compositeRuns: envInt('FRUGAL_BROWSER_COMPOSITE_RUNS', 4),
  noLeakSteps: envInt('FRUGAL_BROWSER_NOLEAK_STEPS', 200),
  /** fail instead of asserting the "no adapter" error when WebGPU has no adapter */
  requireWebgpu: process.env.FRUGAL_REQUIRE_WEBGPU === '1' || ci,
  /** fail instead of skipping when there is no Chromium */
  requireChromium: process.env.FRUGAL_REQUIRE_CHROMIUM === '1' || ci,
  chromium,
}

declare module 'vitest' {
  export interface ProvidedContext {
    numRuns: number
    compositeRuns: number
    noLeakSteps: number
    requireWebgpu: boolean
    requireChromium: boolean
    chromium: string
  }
}

/** Chromium switches: no network or profile chatter; WebGL2 and WebGPU on SwiftShader (no GPU needed). */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-swiftshader', // WebGL on SwiftShader when there is no GPU (newer Chromiums require the opt-in)
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  // WebGPU canvases readable by 2D canvases: tfjs-webgpu's dataSync copies a GPU buffer into a
  // WebGPU canvas and reads it back through a 2D canvas. By default Dawn renders on Vulkan
  // SwiftShader while the compositor uses ANGLE on GL SwiftShader, and the copy reads zeros;
  // with both on Vulkan SwiftShader it reads the data.
  '--use-angle=swiftshader',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
]

/**
 * Cross-origin isolation, for SharedArrayBuffer (the cpu backend's shared wasm
 * memory and its Web Workers: cpu-wasm.test.ts). Everything the pages load
 * comes from this server, so `require-corp` blocks nothing.
 */
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }

/**
 * Browser command `notIsolated(source, modules)`: opens a second page of the
 * same origin whose document is served without the isolation headers (so
 * it has no SharedArrayBuffer), imports `modules` (paths relative to this
 * folder, served by Vite like the test files) there, and returns what the
 * async function whose text is `source` returns when called with them.
 */
const notIsolated: BrowserCommand<[source: string, modules: string[]]> = async (ctx, source, modules) => {
  const page = await ctx.context.newPage()
  try {
    const url = new URL('/__not-isolated.html', ctx.page.url()).href
    await page.route(url, (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>not cross-origin isolated</title>' }))
    await page.goto(url)
    const urls = modules.map((m) => `/@fs${resolve(root, m)}`)
    return await page.evaluate(
      async ([source, urls]) => (0, eval)(`(${source})`)(...(await Promise.all(urls.map((u) => import(u))))),
      [source, urls] as const,
    )
  } finally {
    await page.close()
  }
}

declare module 'vitest/browser' {
  interface BrowserCommands {
    notIsolated: (source: string, modules: string[]) => Promise<unknown>
  }
}

// Test modules run against the TypeScript sources of the workspace packages
// (their `source` export condition), as in the Node config.
const conditions = ['source', 'module', 'browser', 'development|production']

const missing = !existsSync(chromium)
if (missing && !provided.requireChromium)
  console.warn(
    `\n[test-browser] SKIPPING the browser conformance suites: ${chromium} not found. ` +
      'Install Debian\'s Chromium (apt-get install -y chromium) or set FRUGAL_CHROMIUM to a Chromium binary.\n',
  )

export default defineConfig({
  root,
  resolve: { conditions, dedupe: ['@tensorflow/tfjs-core'] },
  optimizeDeps: {
    // pre-bundled once at start-up, so that no reload interrupts a test file
    include: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-backend-webgl',
      '@tensorflow/tfjs-backend-webgpu',
      'gpu.js',
      'fast-check',
      '@frugal-ts/core > fp-ts/Either',
      '@frugal-ts/core > fp-ts/function',
      '@frugal-ts/core > io-ts',
    ],
  },
  server: { host: '127.0.0.1', headers: isolation },
  test: missing
    ? { include: ['no-chromium.test.ts'], environment: 'node', provide: provided }
    : {
        include: ['*.test.ts'],
        exclude: ['no-chromium.test.ts'],
        provide: provided,
        testTimeout: 180_000,
        hookTimeout: 120_000,
        fileParallelism: false,
        browser: {
          enabled: true,
          headless: true,
          screenshotFailures: false,
          api: { host: '127.0.0.1', port: 63315, strictPort: false },
          commands: { notIsolated },
          provider: playwright({ launchOptions: { executablePath: chromium, args: chromiumArgs } }),
          instances: [{ browser: 'chromium' }],
        },
      },
})
