/**
 * The page: a form that starts runs, a scheduler that steps every running run
 * in turn and yields to the browser between steps, the charts, the run cards,
 * the error panel and sampling.
 */
import sotu from 'virtual:sotu'
import { Key, scope, withBackend } from '@frugal-ts/core'
import { initParams, parameterCount } from '@frugal-ts/example-llama/src/model'
import { BackendUnavailable, describeBackend, startBackend } from './backends'
import { BACKENDS, OPTIMIZERS } from './choices'
import { lossChart, memoryChart } from './chart'
import { decode, encode, makeCorpus, rng } from './data'
import { FormError, readSpec } from './form'
import { BATCH, createRun, modelConfig, sampleToken } from './train'
import type { RunView } from './view'
import { buildCard, label, updateCard } from './view'
import './style.css'

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2']
const EVAL_EVERY = 25

const corpus = makeCorpus(sotu)
const config = modelConfig(corpus.vocab.length)
const parameters = withBackend('cpu', () => scope(() => parameterCount(initParams(config, Key.key(0)))))
/** Adam's state for this model: two float32 moments per parameter (and a step counter). */
const ADAM_BYTES = 8 * parameters + 8
$('model-info').textContent =
  `Model: ${config.layers} blocks × ${config.width} wide, ${config.heads} heads, context ${config.context}, ` +
  `${corpus.vocab.length} characters — ${parameters.toLocaleString('en')} parameters; batch ${BATCH}. ` +
  `Corpus: ${corpus.source} (${corpus.train.length.toLocaleString('en')} characters to train on, ` +
  `${corpus.validation.length.toLocaleString('en')} held out: ${corpus.validationSpeeches.join(', ')}).`

const optimizer = $<HTMLSelectElement>('optimizer')
const backend = $<HTMLSelectElement>('backend')
const density = $<HTMLInputElement>('density')
const densityRange = $<HTMLInputElement>('density-range')
optimizer.innerHTML = Object.entries(OPTIMIZERS).map(([k, v]) => `<option value="${k}">${v}</option>`).join('')
optimizer.value = 'frugal'
backend.innerHTML = Object.entries(BACKENDS).map(([k, v]) => `<option value="${k}">${v}</option>`).join('')
backend.value = 'tfjs-webgl'
densityRange.addEventListener('input', () => (density.value = densityRange.value))
density.addEventListener('input', () => {
  const v = Number(density.value)
  if (density.value.trim() !== '' && v >= 0 && v <= 1) densityRange.value = density.value
})
const densityNote = () => ($('density-note').textContent = optimizer.value === 'adam' ? '(not used by Adam)' : '')
optimizer.addEventListener('change', densityNote)
densityNote()

// ---- the error panel: what was wrong and how to fix it; the runs are untouched

const panel = $('error-panel')
const showError = (title: string, kind: string, field: string, message: string, fix: string): void => {
  panel.hidden = false
  Object.assign(panel.dataset, { kind, field })
  $('error-title').textContent = title
  $('error-message').textContent = message
  $('error-fix').textContent = fix ? `How to fix it: ${fix}` : ''
  document.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'))
  if (kind === 'input') $(field)?.setAttribute('aria-invalid', 'true')
}
const clearError = (): void => {
  panel.hidden = true
  delete panel.dataset.kind
  delete panel.dataset.field
  document.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'))
}
$('error-dismiss').addEventListener('click', clearError)

// ---- runs and the scheduler

const views: RunView[] = []
let nextId = 1
/** Yields to the event loop (a message, not setTimeout, whose nested calls wait at least 4 ms). */
const pause = (): Promise<void> =>
  new Promise((resolve) => {
    const channel = new MessageChannel()
    channel.port1.onmessage = () => (channel.port1.close(), resolve())
    channel.port2.postMessage(null)
  })

let renderQueued = false
const render = (): void => {
  renderQueued = false
  $('loss-chart').innerHTML = lossChart(
    views.map((v) => ({ id: v.id, label: label(v, true), color: v.color, losses: v.run.losses, validation: v.run.validation, steps: v.spec.steps })),
  )
  $('memory-chart').innerHTML = memoryChart(
    views.map((v) => ({ id: v.id, label: label(v, true), color: v.color, bytes: v.run.stateBytes })),
    ADAM_BYTES,
  )
  views.forEach(updateCard)
  document.body.dataset.runs = String(views.length)
  document.body.dataset.running = String(views.filter((v) => v.status === 'running').length)
}
/** Redraws at the next animation frame (or soon, where frames are not being drawn). */
const queueRender = (): void => {
  if (renderQueued) return
  renderQueued = true
  requestAnimationFrame(render)
  setTimeout(() => renderQueued && render(), 250)
}

const fail = (v: RunView, e: unknown): void => {
  v.status = 'failed'
  v.error = (e as Error).message
  showError(`Run ${label(v)} stopped`, 'run', 'run', v.error, 'The other runs go on. Try the run again on another backend, or with other options.')
}

// Time sharing: the next step goes to the running run that has used the least
// time so far, so a fast backend is not held to the pace of a slow one; a new
// run starts level with the others. The page gets the event loop back between steps.
const busy = new Map<RunView, number>()
const level = (): number => Math.min(Infinity, ...views.filter((v) => v.status === 'running').map((v) => busy.get(v) ?? 0))
let looping = false
const loop = async (): Promise<void> => {
  if (looping) return
  looping = true
  for (;;) {
    const active = views.filter((v) => v.status === 'running')
    if (active.length === 0) break
    const v = active.reduce((a, b) => ((busy.get(b) ?? 0) < (busy.get(a) ?? 0) ? b : a))
    const t0 = performance.now()
    try {
      v.run.advance()
      if (v.run.step % EVAL_EVERY === 0 || v.run.step === v.spec.steps) v.run.evaluate()
      if (v.run.step >= v.spec.steps) v.status = 'done'
    } catch (e) {
      fail(v, e)
    }
    busy.set(v, (busy.get(v) ?? 0) + performance.now() - t0)
    queueRender()
    await pause()
  }
  looping = false
  queueRender()
}

const act = (v: RunView, action: string): void => {
  if (action === 'stop' && v.status === 'running') v.status = 'stopped'
  if (action === 'sample') void sample(v)
  if (action === 'remove') {
    v.status = v.status === 'running' ? 'stopped' : v.status
    v.card?.remove()
    views.splice(views.indexOf(v), 1)
    busy.delete(v)
    v.run.dispose()
  }
  queueRender()
}

$('controls').addEventListener('submit', async (event) => {
  event.preventDefault()
  const starting = $('starting')
  let spec
  try {
    spec = readSpec({ optimizer: optimizer.value, density: density.value, backend: backend.value, steps: $<HTMLInputElement>('steps').value, lr: $<HTMLInputElement>('lr').value }, 0)
  } catch (e) {
    if (!(e instanceof FormError)) throw e
    showError('Cannot start the run', 'input', e.field, e.message, e.fix)
    return
  }
  starting.textContent = `starting ${BACKENDS[spec.backend]}…`
  try {
    const b = await startBackend(spec.backend)
    await pause()
    const run = createRun(spec, corpus)
    const id = nextId++
    const v: RunView = { id, color: COLORS[(id - 1) % COLORS.length], spec, run, status: 'running', device: describeBackend(b) }
    v.card = buildCard(v, (a) => act(v, a))
    const start = level()
    busy.set(v, Number.isFinite(start) ? start : 0)
    $('run-list').append(v.card)
    views.push(v)
    clearError()
    void loop()
  } catch (e) {
    if (e instanceof BackendUnavailable) showError(`Backend “${BACKENDS[e.backend]}” is not available in this browser`, 'backend', 'backend', e.message, e.fix)
    else showError('Cannot start the run', 'run', 'run', (e as Error).message, 'Try another backend or other options.')
  } finally {
    starting.textContent = ''
    queueRender()
  }
})

// ---- sampling: a few characters per turn, so training and the page go on

let sampling = 0
const sample = async (v: RunView): Promise<void> => {
  const mine = ++sampling
  const out = $('sample-output')
  const prompt = $<HTMLInputElement>('prompt').value || 'The '
  const temperature = Number($<HTMLInputElement>('temperature').value) || 0.6
  const n = Math.min(2000, Math.max(1, Math.floor(Number($<HTMLInputElement>('sample-length').value) || 160)))
  const ids = Array.from(encode(prompt, corpus.vocab))
  const random = rng(v.id * 7919 + v.run.step)
  out.dataset.runId = String(v.id)
  out.dataset.done = 'false'
  out.textContent = `${label(v)}, step ${v.run.step}:\n${prompt}`
  try {
    for (let i = 0; i < n && mine === sampling && views.includes(v); i++) {
      const next = sampleToken(v.run.nextLogits(ids, encode('\n', corpus.vocab)[0]), temperature, random)
      ids.push(next)
      out.textContent += decode([next], corpus.vocab)
      if (i % 4 === 3) await pause()
    }
  } catch (e) {
    out.textContent += `\n[sampling failed: ${(e as Error).message}]`
  }
  if (mine === sampling) out.dataset.done = 'true'
}

window.addEventListener('beforeunload', () => views.forEach((v) => v.run.dispose()))
queueRender()
document.body.dataset.ready = 'true'
