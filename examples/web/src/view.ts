/**
 * The run cards. A card is built once per run and then only its text and
 * data attributes change, so its buttons stay clickable while the run trains.
 * Its data attributes (`data-status`, `data-step`, `data-first-loss`,
 * `data-recent-loss`, `data-state-bytes`, …) carry the numbers it shows, for
 * scripts and tests.
 */
import { getBackend } from '@frugal-ts/core'
import { BACKENDS, OPTIMIZERS } from './choices'
import { formatBytes } from './chart'
import type { Run, RunSpec } from './train'

/** A run as the page tracks it. */
export interface RunView {
  readonly id: number
  readonly color: string
  readonly spec: RunSpec
  readonly run: Run
  status: 'running' | 'done' | 'stopped' | 'failed'
  error?: string
  /** what the backend runs on */
  readonly device: string
  card?: HTMLLIElement
}

/** The run's name: optimizer, density, backend (`short`: the backend's menu key, for charts). */
export const label = (v: Pick<RunView, 'id' | 'spec'>, short = false): string =>
  `#${v.id} ${OPTIMIZERS[v.spec.optimizer]}${v.spec.optimizer === 'adam' ? '' : ` ρ=${v.spec.density}`} · ${short ? v.spec.backend : BACKENDS[v.spec.backend]}`

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

/** The card's actions. */
export type Action = 'stop' | 'sample' | 'remove'

/**
 * Builds the card of a run (once).
 * @param onAction called with the button pressed
 */
export const buildCard = (v: RunView, onAction: (a: Action) => void): HTMLLIElement => {
  const li = document.createElement('li')
  li.className = 'run'
  li.dataset.runId = String(v.id)
  li.dataset.backend = v.spec.backend
  li.dataset.optimizer = v.spec.optimizer
  li.dataset.density = String(v.spec.density)
  li.dataset.steps = String(v.spec.steps)
  li.innerHTML =
    `<div class="title"><span class="swatch" style="background:${v.color}"></span><strong></strong> <span class="status"></span></div>` +
    `<div class="stats"></div><div class="device"></div><div class="run-error"></div>` +
    `<div class="actions"><button type="button" data-action="stop">Stop</button> <button type="button" data-action="sample">Sample</button> <button type="button" data-action="remove">Remove</button></div>`
  li.querySelector('strong')!.textContent = label(v)
  li.querySelector('.device')!.textContent = `runs on ${v.device}`
  li.querySelectorAll('button').forEach((b) => b.addEventListener('click', () => onAction(b.dataset.action as Action)))
  return li
}

/** Brings a card up to date with its run. */
export const updateCard = (v: RunView): void => {
  const li = v.card
  if (!li) return
  const r = v.run
  const first = r.losses.length ? mean(r.losses.slice(0, 3)) : NaN
  const recent = r.losses.length ? mean(r.losses.slice(-3)) : NaN
  const val = r.validation.at(-1)
  const mem = getBackend(v.spec.backend).memory()
  const adamBytes = 8 * r.parameters
  Object.assign(li.dataset, {
    status: v.status,
    step: String(r.step),
    initialLoss: String(r.losses[0] ?? NaN),
    firstLoss: String(first),
    recentLoss: String(recent),
    valLoss: val ? String(val.loss) : '',
    stateBytes: String(r.stateBytes),
    msPerStep: String(Math.round(r.lastMs)),
    backendTensors: String(mem.tensors),
    backendBytes: String(mem.bytes),
  })
  li.querySelector('.status')!.textContent = v.status === 'running' && r.step === 0 ? 'compiling…' : v.status
  li.querySelector('.stats')!.innerHTML =
    `step <b class="step">${r.step}</b>/${r.spec.steps}` +
    ` · loss <b class="loss">${Number.isFinite(recent) ? recent.toFixed(3) : '–'}</b>` +
    (Number.isFinite(first) ? ` (first ${first.toFixed(3)})` : '') +
    ` · held-out <b class="val">${val ? val.loss.toFixed(3) : '–'}</b>` +
    ` · optimizer state <b class="state">${formatBytes(r.stateBytes)}</b> (${((100 * r.stateBytes) / adamBytes).toFixed(0)}% of Adam's)` +
    ` · ${r.lastMs.toFixed(0)} ms/step` +
    ` · backend memory <b class="mem">${mem.tensors} tensors, ${formatBytes(mem.bytes)}</b>`
  li.querySelector('.run-error')!.textContent = v.error ?? ''
  ;(li.querySelector('[data-action=stop]') as HTMLButtonElement).disabled = v.status !== 'running'
}
