/**
 * Run configurations from flags: the defaults (the 5-minute comparison), the
 * five configurations of `--compare`, and the CLI's output streams.
 */
import { accessSync, constants, mkdirSync } from 'node:fs'
import type { Flags } from './args'
import { UsageError } from './errors'
import type { OptimizerConfig } from './optimizers'
import { autoUpdateGap, presetDefaults } from './optimizers'
import { VOCAB } from './tokenizer'
import type { TrainConfig } from './train'

/** Where the CLI writes: stdout for results, stderr for progress and errors. */
export interface Io {
  readonly stdout: { write(s: string): unknown }
  readonly stderr: { write(s: string): unknown; readonly isTTY?: boolean }
}

/**
 * The run configurations of `--compare`: Adam, GaLore ρ .25, BAdam ρ .25,
 * FRUGAL ρ .25 and ρ 0, and AdaFRUGAL ρ .25 → .05 (`frugal-ada`); `lr` is each
 * method's learning rate when `--lr` is not given: the best of the committed
 * sweep's grid (bench/results/llama-sweep, the default model, 3 seeds).
 */
export const COMPARISON: readonly (Pick<OptimizerConfig, 'optimizer' | 'density'> & { readonly lr?: number })[] = [
  { optimizer: 'adam', density: 1, lr: 3e-3 },
  { optimizer: 'galore', density: 0.25, lr: 1e-2 },
  { optimizer: 'badam', density: 0.25, lr: 3e-3 },
  { optimizer: 'frugal', density: 0.25, lr: 3e-3 },
  { optimizer: 'frugal', density: 0, lr: 1e-2 },
  { optimizer: 'adafrugal', density: 0.25, lr: 3e-3 },
]

/** @internal a numeric flag or its default */
export const num = (f: Flags, k: keyof Flags, d: number): number => (f[k] === undefined ? d : (f[k] as number))
/** @internal a string flag or its default */
export const str = <T extends string>(f: Flags, k: keyof Flags, d: T): T => (f[k] === undefined ? d : (f[k] as T))

/**
 * The run configuration of the flags (defaults: the 5-minute comparison size).
 * @throws UsageError when the width does not split into heads of even width
 * @example buildConfig({ steps: 100 }).schedule.steps // 100
 */
export const buildConfig = (f: Flags): TrainConfig => {
  const width = num(f, 'width', 64)
  const heads = num(f, 'heads', 4)
  if (width % heads !== 0 || (width / heads) % 2 !== 0)
    throw new UsageError(`--width ${width} must split into --heads ${heads} heads of even width (rotary embedding rotates pairs)`)
  const steps = num(f, 'steps', 400)
  const optimizer = str<OptimizerConfig['optimizer']>(f, 'optimizer', 'frugal')
  const preset = presetDefaults(optimizer)
  return {
    corpus: str(f, 'corpus', 'sotu'),
    model: { vocab: VOCAB, layers: num(f, 'layers', 4), width, heads, context: num(f, 'context', 64) },
    batch: num(f, 'batch', 8),
    seed: num(f, 'seed', 0),
    schedule: { lr: num(f, 'lr', 3e-3), steps, warmup: num(f, 'warmup', 0.1), endFraction: 0.1 },
    optimizer: {
      optimizer,
      density: optimizer === 'adam' ? 1 : num(f, 'density', 0.25),
      updateGap: num(f, 'update-gap', autoUpdateGap(steps)),
      projection: str(f, 'projection', preset.projection),
      stateFree: str(f, 'state-free', preset.stateFree),
      stateful: str(f, 'stateful', preset.stateful),
      stateFreeScale: num(f, 'state-free-scale', 1),
      weightDecay: num(f, 'weight-decay', 0),
    },
    evalEvery: num(f, 'eval-every', Math.max(1, Math.round(steps / 10))),
    evalWindows: num(f, 'eval-windows', 64),
  }
}

/**
 * Creates `dir` if needed and checks that it is writable.
 * @throws UsageError naming the flag and the reason
 * @example writableDir('out', '--out')
 */
export const writableDir = (dir: string, flag = '--out'): string => {
  try {
    mkdirSync(dir, { recursive: true })
    accessSync(dir, constants.W_OK)
  } catch (e) {
    throw new UsageError(`${flag} ${dir}: cannot write there (${(e as Error).message.split('\n')[0]})`)
  }
  return dir
}

