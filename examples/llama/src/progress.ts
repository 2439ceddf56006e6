/**
 * A progress display on stderr: one line redrawn in place on a terminal, plain
 * lines (every tenth of the run and at each evaluation) when stderr is a file or pipe.
 */
import type { StepInfo } from './train'

/** What a progress display needs. */
export interface Progress {
  update(info: StepInfo): void
  done(summary: string): void
}

/** Where progress goes: a writable stream with an optional TTY flag. */
export interface ProgressStream {
  write(s: string): unknown
  readonly isTTY?: boolean
}

const seconds = (ms: number): string => (ms < 60_000 ? `${(ms / 1000).toFixed(0)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`)

/**
 * A progress display for a run of `label`.
 * @param label the run's name
 * @param stream stderr by default; `isTTY` selects the redrawn bar
 * @example const p = progress('adam'); p.update(info); p.done('val 2.31')
 */
export const progress = (label: string, stream: ProgressStream = process.stderr): Progress => {
  const tty = stream.isTTY === true
  const started = performance.now()
  let ema = NaN
  let msEma = NaN
  let lastVal: number | undefined
  let lastPrinted = 0
  const line = (i: StepInfo): string => {
    const eta = (i.steps - i.step) * msEma
    const val = lastVal === undefined ? '' : `  val ${lastVal.toFixed(3)}`
    return `${label.padEnd(12)} ${String(i.step).padStart(String(i.steps).length)}/${i.steps}  loss ${ema.toFixed(3)}${val}  ${msEma.toFixed(0)} ms/step  eta ${seconds(eta)}`
  }
  return {
    update(i) {
      ema = Number.isNaN(ema) ? i.loss : 0.9 * ema + 0.1 * i.loss
      msEma = Number.isNaN(msEma) || i.step <= 2 ? i.ms : 0.9 * msEma + 0.1 * i.ms
      if (i.valLoss !== undefined) lastVal = i.valLoss
      if (tty) {
        const width = 24
        const filled = Math.round((width * i.step) / i.steps)
        stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line(i)}`)
      } else if (i.valLoss !== undefined || i.step === i.steps || i.step - lastPrinted >= Math.max(1, Math.floor(i.steps / 10))) {
        lastPrinted = i.step
        stream.write(`${line(i)}\n`)
      }
    },
    done(summary) {
      const msg = `${label.padEnd(12)} done in ${seconds(performance.now() - started)}: ${summary}`
      stream.write(tty ? `\r\x1b[2K${msg}\n` : `${msg}\n`)
    },
  }
}
