/**
 * Where the time of a training step goes: the main job's model (tiny LLaMA,
 * 4 layers × 64 wide, 4 heads, context 64, batch 8, byte vocabulary) trained
 * with Adam by the example's own trainer (`createTrainer`: the library's
 * `trainStep`, one compiled program per step), WARMUP steps untimed, then N
 * steps under autodiff's `profile`, on 1 thread (`cpu-1t`) and 2 threads
 * (`cpu-2t`: the `cpu` backend with 2 threads). Per thread count: the step's wall time split into kernels, the
 * executable's own work around them and the host (batch sampling, dispatch,
 * reading the loss); per class and primitive, kernels per step, ms per step
 * and % of the step; the top 20 kernels with their shapes. Kernels that read
 * or write a [B, H, T, T] tensor (attention scores, mask, softmax) are
 * classed `attention T×T: …`.
 *
 * WARMUP is 100: a fresh 2-thread step settles slowly (one process, 20-step medians
 * measured: 42.1, 27.1, 26.0, 25.5 ms over steps 0-79, 25.1-25.6 after; 1 thread 45.9 then
 * 43.6-44.2), and with 5 warm-up steps the 2-thread profile read 33.8 ms per step against
 * 28.6 with 100.
 *
 * Run: `pnpm --filter @frugal-ts/bench run profile-step` (N=…, WARMUP=… to change;
 * SAVE=path also writes the output there).
 */
import { execSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import type { CpuBackend } from '@frugal-ts/core'
import { cpu, getBackend, registerBackend, setBackend } from '@frugal-ts/core'
import type { KernelTime, Profile } from '@frugal-ts/autodiff'
import { groupKernels, kernelLabel, profile } from '@frugal-ts/autodiff'
import { buildConfig } from '@frugal-ts/example-llama/src/config'
import { loadCorpus } from '@frugal-ts/example-llama/src/data'
import { createTrainer } from '@frugal-ts/example-llama/src/train'
import type { RunState } from '@frugal-ts/example-llama/src/train'

const N = Number(process.env.N ?? 50)
const WARMUP = Number(process.env.WARMUP ?? 100)
const TOP = 20

const out: string[] = []
const say = (line = ''): void => {
  console.log(line)
  out.push(line)
}

/** a markdown table with right-aligned numeric columns */
const table = (header: readonly string[], rows: readonly (readonly string[])[], left = 1): void => {
  say(`| ${header.join(' | ')} |`)
  say(`|${header.map((_, i) => (i < left ? ':---' : '---:')).join('|')}|`)
  for (const r of rows) say(`| ${r.join(' | ')} |`)
  say()
}

const git = (cmd: string): string => {
  try {
    return execSync(`git ${cmd}`, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return 'unknown'
  }
}

const config = buildConfig({ optimizer: 'adam' })
const { model, batch } = config
const scores = new RegExp(`\\[${batch},${model.heads},${model.context},${model.context}\\]`)
/** the kernel's class, with attention's T×T kernels told apart */
const classOf = (k: KernelTime): string => (scores.test(k.shapes) ? `attention T×T: ${k.kernelClass}` : k.kernelClass)

const f = (x: number, d = 2): string => x.toFixed(d)

const report = (p: Profile, threads: number): void => {
  const stepMs = p.wallMs / N
  const kernelMs = p.programs.reduce((s, q) => s + q.kernels.reduce((t, k) => t + k.ms, 0), 0) / N
  const runMs = p.programs.reduce((s, q) => s + q.runMs, 0) / N
  const kernelsPerStep = p.programs.reduce((s, q) => s + q.runs * q.kernels.length, 0) / N
  say(`### ${threads} thread${threads > 1 ? 's' : ''}: ${f(stepMs)} ms per step, ${f(kernelsPerStep, 0)} kernels per step`)
  say()
  // the list of JS steps is long: the table below breaks it down
  for (const q of p.programs) say(`- program (${q.runs} runs): ${q.describe.replace(/ \[[^\]]*\]/, '')}`)
  if (p.untimedRuns) say(`- ${p.untimedRuns} runs of interpreted programs (not timed per kernel)`)
  say()
  const pct = (ms: number) => `${f((100 * ms) / stepMs, 1)}%`
  table(
    ['where', 'threads', 'ms per step', '% of step'],
    [
      ['kernels', String(threads), f(kernelMs), pct(kernelMs)],
      ...groupKernels(p, (k) => k.path).map((g) => [`&nbsp;&nbsp;on the ${g.key} path (${f(g.runs / N, 0)} kernels)`, String(threads), f(g.ms / N), pct(g.ms / N)]),
      ['executable around its kernels (binding buffers, outputs)', String(threads), f(runMs - kernelMs), pct(runMs - kernelMs)],
      ['host outside the program (batch sampling, dispatch, reading the loss)', String(threads), f(stepMs - runMs), pct(stepMs - runMs)],
      ['whole step', String(threads), f(stepMs), '100.0%'],
    ],
  )
  const classes = groupKernels(p, classOf)
  const rows: string[][] = []
  for (const c of classes) {
    rows.push([`**${c.key}**`, String(threads), f(c.runs / N, 0), f(c.ms / N), pct(c.ms / N)])
    const members = groupKernels({ ...p, programs: p.programs.map((q) => ({ ...q, kernels: q.kernels.filter((k) => classOf(k) === c.key) })) }, kernelLabel)
    for (const m of members) rows.push([`&nbsp;&nbsp;${m.key.length > 70 ? `${m.key.slice(0, 67)}…` : m.key}`, String(threads), f(m.runs / N, 0), f(m.ms / N, 3), pct(m.ms / N)])
  }
  table(['class / primitive', 'threads', 'kernels per step', 'ms per step', '% of step'], rows)
  const kernels = p.programs.flatMap((q) => q.kernels.map((k) => ({ k, perStep: k.ms / N, times: q.runs / N })))
  kernels.sort((a, b) => b.perStep - a.perStep)
  say(`Top ${TOP} kernels (${threads} thread${threads > 1 ? 's' : ''}):`)
  say()
  table(
    ['#', 'kernel', 'class', 'shapes (inputs -> outputs)', 'path', 'threads', 'ms per step', '% of step'],
    kernels.slice(0, TOP).map(({ k, perStep }, i) => {
      const label = kernelLabel(k)
      return [String(i + 1), label.length > 48 ? `${label.slice(0, 45)}…` : label, classOf(k), k.shapes.length > 90 ? `${k.shapes.slice(0, 87)}…` : k.shapes, k.path, String(threads), f(perStep, 3), pct(perStep)]
    }),
    5,
  )
}

registerBackend('cpu-1t', () => cpu({ wasm: true, threads: 1 }))
registerBackend('cpu-2t', () => cpu({ wasm: true, threads: 2 }))
const corpus = loadCorpus(config.corpus)
say(`## profile-step: the main job's training step, per kernel`)
say()
say(`- date ${new Date().toISOString()}, commit ${git('rev-parse --short HEAD')}${git("status --porcelain --untracked-files=no -- ':(top,exclude)bench/results'") ? ' (with uncommitted changes)' : ''}`)
say(`- load average before the run ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}`)
say(
  `- model ${model.layers} layers × ${model.width} wide, ${model.heads} heads, context ${model.context}, batch ${batch}, vocab ${model.vocab}; ` +
    `Adam (${config.optimizer.optimizer}, lr ${config.schedule.lr}, warmup-cosine over ${config.schedule.steps} steps, weight decay ${config.optimizer.weightDecay}); ` +
    `${WARMUP} steps untimed, then ${N} steps profiled`,
)
say()
for (const [backend, threads] of [['cpu-1t', 1], ['cpu-2t', 2]] as const) {
  setBackend(backend)
  say(`backend \`${backend}\`: ${(getBackend(backend) as CpuBackend).path}`)
  say()
  const trainer = createTrainer(config, corpus)
  let s: RunState = trainer.init()
  for (let i = 0; i < WARMUP; i++) s = trainer.step(s).state
  const [, p] = profile(() => {
    for (let i = 0; i < N; i++) s = trainer.step(s).state
  })
  report(p, threads)
}
say(`- load average after the run ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
if (process.env.SAVE) writeFileSync(process.env.SAVE, `${out.join('\n')}\n`)
