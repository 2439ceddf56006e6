/**
 * `frugal-train`: pre-trains the tiny LLaMA with one optimizer or compares
 * five (`--compare`), or fine-tunes it for sentiment (`finetune`). Progress on
 * stderr, the table on stdout, `results.json` and the plots in `--out`.
 * Mistakes in the input are one line on stderr and exit status 2.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Command, Flags } from './args'
import { USAGE, parseCommand } from './args'
import { checkSaveTarget, loadRun, saveRun } from './checkpoint'
import { expandRuns, feedValidation, peakCount, repetitions, stateCount } from './compare'
import { checkCorpus, loadCorpus } from './data'
import { UsageError } from './errors'
import { finetune } from './finetune'
import type { Io } from './config'
import { COMPARISON, buildConfig, str, writableDir } from './config'
import { makeOptimizer, presetDefaults } from './optimizers'
import { progress } from './progress'
import type { RunResult } from './report'
import { describe, formatTable, gridTable, orderings, resultOf, runName, sweepTable, writeResults } from './report'
import type { RunState, TrainConfig } from './train'
import { createTrainer, disposeRun, runTraining } from './train'

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
 * `frugal-train [pretrain]`: trains each planned configuration, prints the table, writes the results.
 * @returns the exit status
 */
const pretrain = (f: Flags, io: Io): number => {
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
  const results: RunResult[] = []
  for (const [i, config] of configs.entries()) {
    const name = runName(config.optimizer)
    const trainer = feedValidation(createTrainer(config, corpus))
    const label = configs.length > planned.configs.length ? `${name} lr ${config.schedule.lr} seed ${config.seed} (${i + 1}/${configs.length})` : name
    const bar = progress(label, io.stderr)
    const start = resume ?? trainer.init()
    const atStart = stateCount(start.opt, start.params, config.optimizer.optimizer === 'adam')
    const { state, msPerStep, cpuMsPerStep } = runTraining(trainer, {
      resume: start,
      stopAfter: f['stop-after'] as number | undefined,
      saveEvery: f['save-every'] as number | undefined,
      onSave: save ? (s) => saveRun(save, config, s) : undefined,
      onStep: (i) => bar.update(i),
    })
    if (state.position < config.schedule.steps) {
      bar.done(`stopped after ${state.position}/${config.schedule.steps} steps; saved to ${save}, go on with --resume ${save}`)
      disposeRun(state)
      return 0
    }
    const r = resultOf(name, config, state, msPerStep, cpuMsPerStep, peakCount(atStart, state.peakStateBytes))
    bar.done(`val loss ${r.valLoss.toFixed(4)}, ${msPerStep.toFixed(1)} ms/step`)
    results.push(r)
    disposeRun(state)
    // a sweep keeps what has finished: results.json (and the plot) after every run
    if (configs.length > planned.configs.length && results.length < configs.length) writeResults(out, results, corpus.source, { seeds: reps.seeds, lrGrid: reps.lrGrid ?? null, partial: true })
  }
  const repeated = configs.length > planned.configs.length
  const perMethod = new Set(configs.map((c) => c.schedule.lr)).size > 1
  const setup = perMethod ? `${describe(first).replace(/, lr [^,]*$/, '')}, lr per method (the best of the committed sweep's grid)` : describe(first)
  if (!repeated) io.stdout.write(`\n${setup}; ${corpus.source}\n\n${formatTable(results)}\n`)
  else {
    const lrs = reps.lrGrid ? `lr grid ${reps.lrGrid.join(', ')}` : 'lr per method'
    io.stdout.write(`\n${describe(first).replace(/, lr [^,]*$/, '')}, ${lrs}, ${reps.seeds} seed${reps.seeds > 1 ? 's' : ''} from ${first.seed}; ${corpus.source}\n`)
    if (reps.lrGrid) io.stdout.write(`\nfinal validation loss, mean ± sd (seeds), by learning rate (best in bold):\n\n${gridTable(results)}\n`)
    io.stdout.write(`\neach method at its best learning rate:\n\n${sweepTable(results)}\n\norderings (mean ± sd intervals apart = beyond 1 sd):\n${orderings(results).map((o) => `  ${o}`).join('\n')}\n`)
  }
  const files = writeResults(out, results, corpus.source, repeated ? { seeds: reps.seeds, lrGrid: reps.lrGrid ?? null } : {})
  io.stderr.write(`wrote ${files.join(', ')}\n`)
  return 0
}

/**
 * The CLI: parses `argv` (without node and the script) and runs the command.
 * @returns the exit status: 0, 2 for a usage error (bad flag, file or corpus), 1 for anything else
 * @example process.exitCode = main(process.argv.slice(2))
 */
export const main = (argv: readonly string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): number => {
  try {
    const cmd: Command = parseCommand(argv)
    if (cmd.flags.help) {
      io.stdout.write(USAGE)
      return 0
    }
    return cmd.command === 'finetune' ? finetune(cmd.flags, io) : pretrain(cmd.flags, io)
  } catch (e) {
    const usage = e instanceof UsageError
    io.stderr.write(`frugal-train: ${usage ? '' : 'error: '}${(e as Error).message.split('\n')[0]}\n`)
    return usage ? 2 : 1
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main(process.argv.slice(2))
