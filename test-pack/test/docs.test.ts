/**
 * The API reference: typedoc (typedoc.json at the root, as `pnpm docs` runs it)
 * builds with `treatWarningsAsErrors` (every export documented, no broken
 * links), and every export of every entry point, and every entry point
 * itself, has an `@example`.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const out = mkdtempSync(join(tmpdir(), 'frugal-ts-docs-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

interface Comment {
  readonly summary?: readonly { readonly text: string }[]
  readonly blockTags?: readonly { readonly tag: string }[]
}
interface Reflection {
  readonly name: string
  readonly kind: number
  readonly comment?: Comment
  readonly signatures?: readonly { readonly comment?: Comment }[]
  readonly children?: readonly Reflection[]
}
const MODULE = 2
const NAMESPACE = 4
const REFERENCE = 4194304 // a re-export of something documented elsewhere

const comments = (r: Reflection) => [r.comment, ...(r.signatures ?? []).map((s) => s.comment)].filter((c): c is Comment => !!c)
const hasExample = (r: Reflection) => comments(r).some((c) => (c.blockTags ?? []).some((t) => t.tag === '@example'))
const hasSummary = (r: Reflection) => comments(r).some((c) => (c.summary ?? []).some((p) => p.text.trim() !== ''))

it('typedoc builds the API reference with warnings as errors, and every export has a summary and an @example', () => {
  // typedoc's CLI: bin/typedoc beside its package.json (its `exports` do not list the bin)
  const typedoc = join(dirname(createRequire(join(root, 'package.json')).resolve('typedoc/package.json')), 'bin/typedoc')
  const json = join(out, 'api.json')
  const r = spawnSync(process.execPath, [typedoc, '--treatWarningsAsErrors', '--out', join(out, 'html'), '--json', json], {
    cwd: root,
    encoding: 'utf8',
    timeout: 5 * 60_000,
  })
  expect(r.status, `typedoc failed:\n${r.stdout}\n${r.stderr}`).toBe(0)

  const project = JSON.parse(readFileSync(json, 'utf8')) as Reflection
  const modules = project.children ?? []
  expect(modules.map((m) => m.name).sort()).toEqual([
    '@frugal-ts/autodiff',
    '@frugal-ts/backend-gpujs',
    '@frugal-ts/backend-tfjs',
    '@frugal-ts/core',
    '@frugal-ts/core/testing',
    '@frugal-ts/frugal',
    '@frugal-ts/frugal/node',
    '@frugal-ts/tfjs-optimizers',
  ])
  const exports: string[] = []
  const missing: string[] = []
  const walk = (r: Reflection, path: string) => {
    for (const c of r.children ?? []) {
      const name = `${path}.${c.name}`
      if (c.kind === REFERENCE) continue
      if (c.kind === NAMESPACE || c.kind === MODULE) {
        if (!hasSummary(c)) missing.push(`${name} (no summary)`)
        walk(c, name)
        continue
      }
      exports.push(name)
      if (!hasSummary(c)) missing.push(`${name} (no summary)`)
      if (!hasExample(c)) missing.push(`${name} (no @example)`)
    }
  }
  for (const m of modules) {
    if (!hasExample(m)) missing.push(`${m.name} (no @example in its @packageDocumentation)`)
    walk(m, m.name)
  }
  expect(exports.length).toBeGreaterThan(300)
  expect(missing).toEqual([])
}, 5 * 60_000)
