import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'

// runs the "Checkpoints in Node" block of this package's README as it is (test-pack runs every block again from the packed tarballs)
it('the README checkpoint example runs and prints what it says', async () => {
  const md = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const section = md.slice(md.indexOf('### Checkpoints in Node'))
  const code = /```ts\n([\s\S]*?)```/.exec(section)![1]
  const logs: unknown[][] = []
  const body = code
    .replace(/^import (.*) from '(.*)'$/gm, (_, what: string, from: string) => `const ${what.replace(/ as /g, ': ')} = await imp(${JSON.stringify(from)})`)
    .replace(/console\.log\(/g, 'log(')
  const imp = async (m: string) =>
    m === '@frugal-ts/frugal' ? import('../src/index') : m === '@frugal-ts/frugal/node' ? import('../src/node') : import(/* @vite-ignore */ m)
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor
  await new AsyncFunction('imp', 'log', body)(imp, (...a: unknown[]) => logs.push(a))
  expect(logs[0][0]).toBe(1)
  expect(logs[0][1]).toEqual({ note: 'after one step' })
  expect(logs[0][2]).toBeGreaterThan(0)
  expect(logs[1]).toEqual([1])
})
