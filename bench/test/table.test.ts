import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Row } from '../src/table'
import { interleaved, median, printCheck, printTable, threadsOf } from '../src/table'

const timing = { median: 2, min: 1, runs: 3 }
const row = (name: string, output?: number[]): Row => ({ name, result: timing, output: output && Float32Array.from(output) })

afterEach(() => {
  process.exitCode = undefined
  vi.restoreAllMocks()
})

describe('bench/src/table', () => {
  it('median: the middle value, the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
  })

  it('every timed row must name its thread count (in its name, or by the table)', () => {
    vi.spyOn(console, 'log').mockImplementation(() => {})
    expect(threadsOf('tfjs-wasm, 1 thread')).toBe('1')
    expect(threadsOf('ours, 8 threads')).toBe('8')
    expect(threadsOf('gpujs headlessgl (GPU)')).toBe('GPU')
    expect(() => printTable('t', [row('tfjs-wasm')], { baseline: 'tfjs-wasm', ratio: 'time' })).toThrow(/does not name its thread count/)
    expect(() => printTable('t', [row('tfjs-wasm')], { baseline: 'tfjs-wasm', ratio: 'time', threads: '1' })).not.toThrow()
  })

  it('a row beyond the stated tolerance of the reference FAILs and sets the exit code; one within it does not', () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l))
    const rows = [row('ref, 1 thread', [1, 2]), row('close, 1 thread', [1, 2 + 1e-6]), row('off, 1 thread', [1, 2.01]), row('silent, 1 thread')]
    const failed = printTable('t', rows, { baseline: 'ref, 1 thread', ratio: 'time', check: { reference: 'ref, 1 thread', tolerance: 1e-5 } })
    expect(failed).toEqual(['off, 1 thread', 'silent, 1 thread'])
    expect(process.exitCode).toBe(1)
    expect(lines.some((l) => /close, 1 thread.* ok$/.test(l))).toBe(true)
    expect(lines.some((l) => /off, 1 thread.* FAIL$/.test(l))).toBe(true)
  })

  it('interleaved: rounds rotate the order, each contender runs warm-up + rounds times, a leak found on dispose FAILs the row', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {})
    const order: string[] = []
    const contender = (name: string, leak = false) => ({
      prepare: () => order.push(`prepare ${name}`),
      step: () => void order.push(name),
      output: () => Float32Array.from([1]),
      dispose: () => {
        if (leak) throw new Error(`${name}: 1 tensor leaked across steps`)
      },
    })
    const rows = await interleaved([['a, 1 thread', () => contender('a')], ['b, 1 thread', () => contender('b', true)]], 2, 1)
    const steps = order.filter((s) => !s.startsWith('prepare'))
    expect(steps).toEqual(['a', 'b', 'a', 'b', 'b', 'a']) // warm-up a, b; round 0: a b; round 1: b a
    expect(order.filter((s) => s.startsWith('prepare')).length).toBe(6) // before every step, untimed
    expect(rows[0].result).toMatchObject({ runs: 2 })
    expect(rows[1].result).toEqual({ skipped: 'FAIL: b: 1 tensor leaked across steps' })
    expect(process.exitCode).toBe(1)
  })

  it('interleaved with block: each contender runs block times back to back per round, the first of each block untimed', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {})
    const order: string[] = []
    let first = true // the first step after a switch is slow, as after another contender's spinning threads
    let last = ''
    const contender = (name: string) => ({
      step: () => {
        first = last !== name
        last = name
        order.push(name)
        const until = performance.now() + (first ? 30 : 1)
        while (performance.now() < until);
      },
      dispose: () => {},
    })
    const rows = await interleaved([['a, 1 thread', () => contender('a')], ['b, 1 thread', () => contender('b')]], 2, 1, { block: 3 })
    expect(order).toEqual(['a', 'b', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'b', 'b', 'a', 'a', 'a'])
    for (const r of rows) {
      expect(r.result, JSON.stringify(r.result)).toMatchObject({ runs: 4 }) // 2 rounds × (3 − 1)
      expect((r.result as { median: number }).median).toBeLessThan(15) // the 30 ms switches are not in it
    }
  })

  it('printCheck: a row beyond the tolerance (after the slack) or without output FAILs and sets the exit code', () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l))
    const ref = { name: 'by hand', output: Float32Array.of(1, 2), slack: Float32Array.of(0, 0.5) }
    expect(printCheck('ok', [{ name: 'a', threads: '1', output: Float32Array.of(1, 2.4) }], ref, 1e-6)).toEqual([])
    expect(process.exitCode).toBeUndefined()
    expect(printCheck('bad', [{ name: 'b', threads: '1', output: Float32Array.of(1.01, 2) }, { name: 'c', threads: '2', skipped: 'did not run' }], ref, 1e-6)).toEqual(['b', 'c'])
    expect(process.exitCode).toBe(1)
    expect(lines.join('\n')).toMatch(/FAIL {2}bad: b, c differ from by hand beyond 0.000001/)
  })

  it('interleaved options: every k-th round, around each timed step, a step that throws while timed, a note that finds a leak', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {})
    const seen: string[] = []
    let calls = 0
    const rows = await interleaved(
      [
        ['fast, 1 thread', () => ({ step: () => {}, dispose: () => {} })],
        ['slow, 1 thread', () => ({ step: () => {}, dispose: () => {} })],
        ['breaks, 1 thread', () => ({ step: () => void (++calls > 2 && (() => { throw new Error('boom') })()), dispose: () => {} })],
        ['leaks, 1 thread', () => ({ step: () => {}, note: () => { throw new Error('3 tensors leaked') }, dispose: () => {} })],
      ],
      6,
      1,
      { every: { 'slow, 1 thread': 3 }, around: (name) => (seen.push(`before ${name}`), () => void seen.push(`after ${name}`)) },
    )
    expect(rows[0].result).toMatchObject({ runs: 6 })
    expect(rows[0].samples).toHaveLength(6)
    expect(rows[1].result).toMatchObject({ runs: 2 }) // rounds 0 and 3
    expect(rows[2].result).toEqual({ skipped: 'failed in round 2: boom' }) // warm-up call 1, round 0 call 2, round 1 call 3 throws
    expect(rows[3].result).toEqual({ skipped: 'FAIL: 3 tensors leaked' })
    expect(process.exitCode).toBe(1)
    expect(seen.filter((s) => s === 'before fast, 1 thread')).toHaveLength(6)
    expect(seen.filter((s) => s.startsWith('before')).length).toBe(seen.filter((s) => s.startsWith('after')).length)
  })
})
