/**
 * `frugal-train`: pre-trains the tiny LLaMA with one optimizer or compares
 * six (`--compare`, as many at once as there are cores), or fine-tunes it
 * for sentiment (`finetune`). Progress on
 * stderr, the table on stdout, `results.json` and the plots in `--out`.
 * Mistakes in the input are one line on stderr and exit status 2.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Command, Flags } from './args'
import { USAGE, parseCommand } from './args'
import { checkSaveTarget, loadRun, saveRun } from './checkpoint'
import { expandRuns, repetitions } from './compare'
import { checkCorpus, loadCorpus } from './data'
import { UsageError } from './errors'
import { finetune } from './finetune'
import type { Io } from './config'
import { COMPARISON, buildConfig, str, writableDir } from './config'
import { makeOptimizer, presetDefaults } from './optimizers'
import type { Progress } from './progress'
import { progress } from './progress'
import type { RunResult } from './report'
import { describe, formatTable, gridTable, orderings, runName, sweepTable, writeResults } from './report'
import { jobsFor, threadsPerJob, trainInWorkers, trainPlanned } from './runs'
import type { RunState, TrainConfig } from './train'
import { disposeRun } from './train'

const forbid = (f: Flags, keys: readonly (keyof Flags)[], why: string): void => {
  const k = keys.find((key) => f[key] !== undefined)
  if (k) throw new UsageError(`--${k} cannot be used ${why}`)
}

const MODEL_FLAGS = ['layers', 'width', 'heads', 'context', 'batch', 'steps', 'lr', 'seed', 'warmup', 'weight-decay', 'corpus'] as const
const OPTIMIZER_FLAGS = ['optimizer', 'density', 'update-gap', 'projection', 'state-free', 'stateful', 'state-free-scale'] as const

/** The configurations of a pre-training command, and the run to resume if any. */
const plan = (f: Flags): { configs: TrainConfig[]; resume?: RunState } => {
  if (f.resume !== undefined) {
    forbid(f, [...MODEL_FLAGS, ...OPTIMIZER_FLAGS, 'compare', 'eval-every', 'eval-windows', 'seeds', 'lr-grid'], 'with --resume (the checkpoint holds the run configuration)')
    const { config, state } = loadRun(f.resume as string)
    return { configs: [config], resume: state }
  }
  const base = buildConfig(f)
  if (!f.compare) return { configs: [base] }
  forbid(f, ['optimizer', 'density', 'projection', 'state-free', 'stateful', 'save', 'save-every', 'stop-after'], 'with --compare (it runs the six fixed configurations)')
  return {
    configs: COMPARISON.map(({ optimizer, density, lr }) => ({
      ...base,
      schedule: { ...base.schedule, lr: f.lr === undefined && lr !== undefined ? lr : base.schedule.lr },
      optimizer: { ...base.optimizer, optimizer, density, ...presetDefaults(optimizer) },
    })),
  }
}

/**
 * `frugal-train [pretrain]`: trains each planned configuration (several at
 * once on worker threads when there are cores for them), prints the table,
 * writes the results.
 * @returns the exit status
 */
const pretrain = async (f: Flags, io: Io): Promise<number> => {
  if (f['stop-after'] !== undefined && f.save === undefined) throw new UsageError('--stop-after needs --save FILE (where the interrupted run is kept)')
  if (f['save-every'] !== undefined && f.save === undefined) throw new UsageError('--save-every needs --save FILE')
  if (f['pretrain-steps'] !== undefined || f['pretrain-lr'] !== undefined) throw new UsageError('--pretrain-steps and --pretrain-lr belong to the finetune command')
  const save = f.save as string | undefined
  if (save) checkSaveTarget(save)
  const reps = repetitions(f)
  if ((reps.seeds > 1 || reps.lrGrid) && f.save !== undefined) throw new UsageError('--save cannot be used with --seeds or --lr-grid (they plan several runs; a checkpoint holds one)')
  const planned = plan(f)
  const resume = planned.resume
  const configs = resume ? planned.configs : expandRuns(planned.configs, reps)
  const first = configs[0]
  const corpus = loadCorpus(first.corpus)
  checkCorpus(corpus, first.model.context)
  for (const c of configs) makeOptimizer(c.optimizer, c.schedule)
  const out = writableDir(str(f, 'out', 'out'))
  if (save) writableDir(resolve(save, '..'), '--save')
  io.stderr.write(`corpus: ${corpus.source}: ${corpus.train.length.toLocaleString('en-US')} training bytes (${corpus.trainDocs} documents), ${corpus.validation.length.toLocaleString('en-US')} validation bytes (${corpus.validationDocs})\n`)
  io.stderr.write(`model: ${describe(first)}\n`)
  const sweep = configs.length > planned.configs.length
  const labelOf = (i: number): string => {
    const c = configs[i]
    const name = runName(c.optimizer)
    return sweep ? `${name} lr ${c.schedule.lr} seed ${c.seed} (${i + 1}/${configs.length})` : name
  }
  const summary = (r: RunResult) => `val loss ${r.valLoss.toFixed(4)}, ${r.msPerStep.toFixed(1)} ms/step`
  // a sweep keeps what has finished: results.json (and the plot) after every run
  const keepPartial = (done: readonly RunResult[]) => {
    if (sweep && done.length < configs.length) writeResults(out, done, corpus.source, { seeds: reps.seeds, lrGrid: reps.lrGrid ?? null, partial: true })
  }
  const jobs = resume || save ? 1 : jobsFor(f.jobs as number | undefined, configs.length)
  const results: RunResult[] = []
  if (jobs === 1)
    for (const [i, config] of configs.entries()) {
      const bar = progress(labelOf(i), io.stderr)
      const { result, state } = trainPlanned(config, corpus, {
        resume,
        stopAfter: f['stop-after'] as number | undefined,
        saveEvery: f['save-every'] as number | undefined,
        onSave: save ? (s) => saveRun(save, config, s) : undefined,
        onStep: (info) => bar.update(info),
      })
      disposeRun(state)
      if (!result) {
        bar.done(`stopped after ${state.position}/${config.schedule.steps} steps; saved to ${save}, go on with --resume ${save}`)
        return 0
      }
      bar.done(summary(result))
      results.push(result)
      keepPartial(results)
    }
  else {
    const threads = threadsPerJob(jobs)
    io.stderr.write(`training ${configs.length} runs ${jobs} at a time, each in a worker thread on ${threads} kernel thread${threads > 1 ? 's' : ''} (--jobs 1: one after another)\n`)
    // runs interleave, so progress is plain lines, each with its run's label
    const lines = { write: (s: string) => io.stderr.write(s) }
    const bars = new Map<number, Progress>()
    const done: (RunResult | undefined)[] = configs.map(() => undefined)
    const all = await trainInWorkers(configs, corpus, jobs, threads, {
      onStart: (i) => bars.set(i, progress(labelOf(i), lines)),
      onStep: (i, info) => bars.get(i)?.update(info),
      onDone: (i, r) => {
        bars.get(i)?.done(summary(r))
        done[i] = r
        keepPartial(done.filter((x): x is RunResult => x !== undefined))
      },
    })
    results.push(...all)
  }
  const perMethod = new Set(configs.map((c) => c.schedule.lr)).size > 1
  const setup = perMethod ? `${describe(first).replace(/, lr [^,]*$/, '')}, lr per method (the best of the committed sweep's grid)` : describe(first)
  if (!sweep) io.stdout.write(`\n${setup}; ${corpus.source}\n\n${formatTable(results)}\n`)
  else {
    const lrs = reps.lrGrid ? `lr grid ${reps.lrGrid.join(', ')}` : 'lr per method'
    io.stdout.write(`\n${describe(first).replace(/, lr [^,]*$/, '')}, ${lrs}, ${reps.seeds} seed${reps.seeds > 1 ? 's' : ''} from ${first.seed}; ${corpus.source}\n`)
    if (reps.lrGrid) io.stdout.write(`\nfinal validation loss, mean ± sd (seeds), by learning rate (best in bold):\n\n${gridTable(results)}\n`)
    io.stdout.write(`\neach method at its best learning rate:\n\n${sweepTable(results)}\n\norderings (mean ± sd intervals apart = beyond 1 sd):\n${orderings(results).map((o) => `  ${o}`).join('\n')}\n`)
  }
  const files = writeResults(out, results, corpus.source, sweep ? { seeds: reps.seeds, lrGrid: reps.lrGrid ?? null } : {})
  io.stderr.write(`wrote ${files.join(', ')}\n`)
  return 0
}

/**
 * The CLI: parses `argv` (without node and the script) and runs the command.
 * @returns (a promise of) the exit status: 0, 2 for a usage error (bad flag, file or corpus), 1 for anything else
 * @example process.exitCode = await main(process.argv.slice(2))
 */
export const main = async (argv: readonly string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> => {
  try {
    const cmd: Command = parseCommand(argv)
    if (cmd.flags.help) {
      io.stdout.write(USAGE)
      return 0
    }
    return cmd.command === 'finetune' ? finetune(cmd.flags, io) : await pretrain(cmd.flags, io)
  } catch (e) {
    const usage = e instanceof UsageError
    io.stderr.write(`frugal-train: ${usage ? '' : 'error: '}${(e as Error).message.split('\n')[0]}\n`)
    return usage ? 2 : 1
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main(process.argv.slice(2)).then((code) => (process.exitCode = code))
