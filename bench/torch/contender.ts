/**
 * The TS side of the PyTorch contender (`llama_step.py`): the handover of a
 * run's start (initial weights and the batch sequence) through two temp
 * files, and the persistent child process that runs one step per request.
 */
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Tensor } from '@frugal-ts/core'
import type { LlamaParams, ModelConfig } from '@frugal-ts/example-llama/src/model'
import { hiddenWidth } from '@frugal-ts/example-llama/src/model'
import type { ScheduleConfig } from '@frugal-ts/example-llama/src/optimizers'

/** Debian's OpenMP build of OpenBLAS, which torch loads through LD_LIBRARY_PATH */
export const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp'
/** the contender's script */
export const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'llama_step.py')

/**
 * The parameters by the names llama_step.py reads.
 * @example named(params)[0] // ['embed', params.embed]
 */
export const named = (p: LlamaParams): [string, Tensor][] => [
  ['embed', p.embed],
  ...p.layers.flatMap((b, i): [string, Tensor][] => [
    [`layers.${i}.attn_norm`, b.attn_norm],
    ...(['wq', 'wk', 'wv', 'wo'] as const).map((n): [string, Tensor] => [`layers.${i}.attn.${n}`, b.attn[n]]),
    [`layers.${i}.mlp_norm`, b.mlp_norm],
    ...(['w1', 'w2', 'w3'] as const).map((n): [string, Tensor] => [`layers.${i}.mlp.${n}`, b.mlp[n]]),
  ]),
  ['final_norm', p.final_norm],
  ['head', p.head],
]

/** What a run hands over: the model, its start and the optimizer's hyperparameters. */
export interface Start {
  readonly model: ModelConfig
  readonly batch: number
  readonly params: LlamaParams
  /** one int32 [batch, context + 1] batch per step */
  readonly batches: readonly Int32Array[]
  /** AdamW's hyperparameters (frugal-ts's `adamw` defaults b1 0.9, b2 0.999, eps 1e-8) */
  readonly adam: { readonly b1: number; readonly b2: number; readonly eps: number; readonly weightDecay: number }
  readonly schedule: ScheduleConfig
}

/**
 * Writes the handover into `dir`: a JSON header, and one binary file with
 * the float32 weights then the int32 batches.
 * @returns the paths of the header and the binary file
 * @example const files = handover(mkdtempSync(join(tmpdir(), 'x-')), start)
 */
export const handover = (dir: string, s: Start): [string, string] => {
  const parts: Uint8Array[] = []
  let offset = 0
  const params = named(s.params).map(([name, t]) => {
    const bytes = new Uint8Array(new Float32Array(t.dataSync()).buffer)
    parts.push(bytes)
    const entry = { name, shape: t.shape, offset }
    offset += bytes.length
    return entry
  })
  const row = s.batch * (s.model.context + 1)
  const tokens = new Int32Array(s.batches.length * row)
  s.batches.forEach((b, i) => {
    if (b.length !== row) throw new Error(`handover: batch ${i} holds ${b.length} tokens, expected batch × (context + 1) = ${row}`)
    tokens.set(b, i * row)
  })
  parts.push(new Uint8Array(tokens.buffer))
  const header = {
    model: { ...s.model, hidden: hiddenWidth(s.model) },
    batch: s.batch,
    params,
    batches: { count: s.batches.length, offset },
    adam: s.adam,
    schedule: s.schedule,
  }
  const h = join(dir, 'init.json')
  const bin = join(dir, 'init.bin')
  writeFileSync(h, JSON.stringify(header))
  writeFileSync(bin, Buffer.concat(parts))
  return [h, bin]
}

/** One line from llama_step.py. */
export interface Reply {
  readonly loss?: number
  readonly lr?: number
  readonly ms?: number
  readonly ready?: boolean
  readonly skip?: string
  readonly error?: string
  readonly torch?: string
  readonly threads?: number
}

/** A running llama_step.py. */
export interface TorchChild {
  readonly child: ChildProcessWithoutNullStreams
  /** sends one request line (`step`), resolves with the reply */
  ask(line: string): Promise<Reply>
  /** the first line: `{ ready }`, `{ skip }` without torch, or `{ error }` when Python could not start */
  readonly first: Promise<Reply>
  /** asks it to quit */
  quit(): void
}

/**
 * Starts llama_step.py on `threads` torch threads with the handover `files`.
 * @param python the interpreter (Debian's /usr/bin/python3 has python3-torch)
 * @param extraEnv more environment for the child (e.g. `OMP_WAIT_POLICY`)
 * @example const t = startTorch('/usr/bin/python3', 1, files); (await t.first).ready; (await t.ask('step')).loss
 */
export const startTorch = (python: string, threads: number, files: [string, string], extraEnv: Record<string, string> = {}): TorchChild => {
  const env = { ...process.env, ...extraEnv, LD_LIBRARY_PATH: [OPENBLAS, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') }
  const child = spawn(python, [SCRIPT, String(threads), ...files], { env })
  const waiting: ((r: Reply) => void)[] = []
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const fail = (why: string) => {
    for (const w of waiting.splice(0)) w({ error: `${why}${stderr ? `: ${stderr.trim().split('\n').slice(-1)[0]}` : ''}` })
  }
  child.on('error', (e) => fail(`${python} could not start (${e.message})`))
  child.on('exit', (code) => fail(`llama_step.py exited with code ${code}`))
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(JSON.parse(line) as Reply))
  const next = () => new Promise<Reply>((resolve) => waiting.push(resolve))
  const first = next()
  return {
    child,
    first,
    ask: (line) => {
      const r = next()
      child.stdin.write(`${line}\n`)
      return r
    },
    quit: () => void (child.stdin.writable && child.stdin.end('quit\n')),
  }
}
