/**
 * The published packages, as a user gets them: builds every package, packs it
 * with `pnpm pack` (which turns `workspace:^` into real ranges), installs the
 * tarballs with npm into a fresh project outside the workspace, and there
 *
 * - runs an ESM and a CJS program (fixtures/train.mjs, train.cjs) that train a
 *   small MLP for ten steps with `chain(clipByGlobalNorm(1), frugal(...))` on
 *   `cpu`, tfjs-cpu (`@frugal-ts/backend-tfjs`) and gpu.js's cpu mode
 *   (`@frugal-ts/backend-gpujs`), and checks that each loss fell;
 * - type-checks a TypeScript consumer (fixtures/consumer.mts, consumer.cts:
 *   `module: nodenext`, so both the .d.ts and the .d.cts) and every ```ts block
 *   of the packages' READMEs with tsc (lib check on), then runs the consumer
 *   and every README block not marked `check-only`.
 *
 * npm installs with `--omit=optional`: gpu.js's optional `gl` (headless-gl) is
 * a native module built from source, which a fresh machine may not manage;
 * the CPU modes need nothing of it. Needs pnpm, npm and the npm registry; the
 * install takes most of the time (about a minute on a cold cache).
 * FRUGAL_PACK_KEEP=1 keeps the project folder (its path is printed).
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const fixtures = resolve(here, '../fixtures')
const packages = ['core', 'autodiff', 'frugal', 'backend-tfjs', 'backend-gpujs', 'tfjs-optimizers']
const minutes = 60_000

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'))
const rootJson = readJson(join(root, 'package.json'))
const tfjsJson = readJson(join(root, 'packages/backend-tfjs/package.json'))
const gpujsJson = readJson(join(root, 'packages/backend-gpujs/package.json'))
const optimizersJson = readJson(join(root, 'packages/tfjs-optimizers/package.json'))
// third-party packages at the versions the workspace tests with
const thirdParty = [
  `@tensorflow/tfjs-core@${tfjsJson.devDependencies['@tensorflow/tfjs-core']}`,
  `@tensorflow/tfjs-backend-cpu@${tfjsJson.devDependencies['@tensorflow/tfjs-backend-cpu']}`,
  `@tensorflow/tfjs-backend-wasm@${tfjsJson.devDependencies['@tensorflow/tfjs-backend-wasm']}`,
  `gpu.js@${gpujsJson.devDependencies['gpu.js']}`,
  // for the @frugal-ts/tfjs-optimizers README blocks (tfjs-layers models)
  `@tensorflow/tfjs-layers@${optimizersJson.devDependencies['@tensorflow/tfjs-layers']}`,
  `typescript@${rootJson.devDependencies.typescript}`,
  `@types/node@${rootJson.devDependencies['@types/node']}`,
  // only for type-checking the `@frugal-ts/core/testing` README block
  `fast-check@${rootJson.devDependencies['fast-check']}`,
]

// pnpm passes its own settings to child processes as npm_* variables; npm must not see
// them (a user's registry, cache and proxy settings are kept)
const kept = /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|noproxy|no_proxy|strict_ssl|cafile|ca|fetch_.*|@.*:registry|\/\/.*)$/i
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || kept.test(k))) as NodeJS.ProcessEnv

/** Runs a command; throws with its output when it fails. Returns stdout. */
const run = (cmd: string, args: string[], cwd: string, timeoutMs: number): string => {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 })
  if (r.error || r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} (in ${cwd}) ${r.error ? `failed: ${r.error.message}` : `exited ${r.status}`}\n` +
        `--- stdout\n${(r.stdout ?? '').slice(-6000)}\n--- stderr\n${(r.stderr ?? '').slice(-6000)}`,
    )
  return r.stdout
}

interface Result {
  readonly format: string
  readonly backend: string
  readonly first: number
  readonly last: number
  readonly ok: boolean
}
/** The JSON lines a program printed (tfjs prints a banner too). */
const results = (stdout: string): Result[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{"format"'))
    .map((l) => JSON.parse(l) as Result)

/** ```ts blocks of the packages' READMEs; `check-only` ones are type-checked, not run. */
const readmeBlocks = packages.flatMap((p) => {
  const md = readFileSync(join(root, 'packages', p, 'README.md'), 'utf8')
  return [...md.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```/gm)].map((m, i) => ({
    name: `readme-${p}-${i + 1}`,
    source: `packages/${p}/README.md, line ${md.slice(0, m.index).split('\n').length}`,
    code: m[2],
    run: !/\bcheck-only\b/.test(m[1]),
  }))
})

/** README blocks that build tfjs-layers models (type-checked with skipLibCheck: see tsconfig.layers.json) */
const usesLayers = (b: { code: string }) => /from '@tensorflow\/tfjs-layers'|import '@tensorflow\/tfjs-layers'/.test(b.code)

describe('the packed packages in a fresh npm project', () => {
  let project = ''

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'frugal-ts-pack-'))
    const tarballs = join(project, 'tarballs')
    mkdirSync(tarballs)
    run('pnpm', ['-r', '--workspace-concurrency=2', '--filter', './packages/*', 'run', 'build'], root, 8 * minutes)
    for (const p of packages) run('pnpm', ['pack', '--pack-destination', tarballs], join(root, 'packages', p), 2 * minutes)
    const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'))
    expect(files).toHaveLength(packages.length)

    const app = join(project, 'app')
    mkdirSync(app)
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'frugal-ts-pack-consumer', private: true, type: 'module' }, null, 2))
    for (const f of ['train-common.cjs', 'train.mjs', 'train.cjs', 'consumer.mts', 'consumer.cts']) copyFileSync(join(fixtures, f), join(app, f))
    for (const b of readmeBlocks) writeFileSync(join(app, `${b.name}.ts`), `// ${b.source}\n${b.code}`)
    const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, outDir: 'out' }
    const config = (files: string[], skipLibCheck = false) => JSON.stringify({ compilerOptions: { ...compilerOptions, skipLibCheck }, files }, null, 2)
    writeFileSync(join(app, 'tsconfig.json'), config(['consumer.mts', 'consumer.cts', ...readmeBlocks.filter((b) => !usesLayers(b)).map((b) => `${b.name}.ts`)]))
    // tfjs-layers' own declarations do not compile under strict lib checking; our .d.ts are checked by the first config
    writeFileSync(join(app, 'tsconfig.layers.json'), config(readmeBlocks.filter(usesLayers).map((b) => `${b.name}.ts`), true))
    run(
      'npm',
      ['install', '--omit=optional', '--no-audit', '--no-fund', '--loglevel=error', ...files.map((f) => join(tarballs, f)), ...thirdParty],
      app,
      10 * minutes,
    )
  }, 20 * minutes)

  afterAll(() => {
    if (!project) return
    if (process.env.FRUGAL_PACK_KEEP) console.log(`pack test project kept in ${project}`)
    else rmSync(project, { recursive: true, force: true })
  })

  const app = () => join(project, 'app')

  it('installed the packed packages from their tarballs, with real version ranges', () => {
    for (const p of packages) {
      const json = readJson(join(app(), 'node_modules/@frugal-ts', p, 'package.json'))
      expect(json.name).toBe(`@frugal-ts/${p}`)
      for (const deps of [json.dependencies ?? {}, json.peerDependencies ?? {}])
        for (const [name, range] of Object.entries(deps)) expect(range, `${p}: ${name}`).not.toMatch(/^workspace:/)
    }
  })

  it.each(['train.mjs', 'train.cjs'])('%s trains ten steps on cpu, tfjs-cpu and gpujs-cpu and the loss falls', (script) => {
    const rs = results(run(process.execPath, [script], app(), 3 * minutes))
    expect(rs.map((r) => r.backend)).toEqual(['cpu', 'tfjs-cpu', 'gpujs-cpu'])
    for (const r of rs) {
      expect(r.ok, JSON.stringify(r)).toBe(true)
      expect(r.last).toBeLessThan(r.first)
      // the same program on three backends: the same numbers up to float32 round-off
      expect(Math.abs(r.last - rs[0].last)).toBeLessThan(1e-3 * rs[0].last)
    }
  }, 4 * minutes)

  it('type-checks the TypeScript consumer and the README examples (tsc, nodenext, lib check on), then runs them', () => {
    run(process.execPath, [join(app(), 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app(), 5 * minutes)
    run(process.execPath, [join(app(), 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.layers.json'], app(), 5 * minutes)
    const rs = results(run(process.execPath, ['out/consumer.mjs'], app(), 3 * minutes))
    expect(rs.map((r) => r.backend)).toEqual(['cpu', 'tfjs', 'gpujs'])
    for (const r of rs) expect(r.last).toBeLessThan(r.first)
    for (const b of readmeBlocks.filter((b) => b.run)) {
      try {
        run(process.execPath, [`out/${b.name}.js`], app(), 3 * minutes)
      } catch (e) {
        throw new Error(`the example at ${b.source} failed: ${(e as Error).message}`)
      }
    }
  }, 10 * minutes)
})
