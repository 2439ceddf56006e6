/**
 * The page's two charts as SVG markup: training-loss curves of every run on
 * shared axes (raw loss faint, its moving average bold, validation losses as
 * dots), and a bar per run of its optimizer-state bytes.
 */

/** One run's curves. */
export interface Series {
  readonly id: number
  readonly label: string
  readonly color: string
  readonly losses: readonly number[]
  readonly validation: readonly { readonly step: number; readonly loss: number }[]
  /** the run's planned steps (the x axis spans the longest) */
  readonly steps: number
}

const W = 640
const H = 300
const M = { left: 48, right: 12, top: 12, bottom: 32 }

/** Exponential moving average with bias correction (as Adam's first moment). */
export const ema = (xs: readonly number[], decay = 0.9): number[] => {
  let m = 0
  return xs.map((x, i) => ((m = decay * m + (1 - decay) * x), m / (1 - decay ** (i + 1))))
}

/** The moving average's decay for a run of `steps`: shorter runs are smoothed less. */
const smoothing = (steps: number): number => Math.min(0.95, Math.max(0.5, 1 - 5 / steps))

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)

/** Round tick values covering [lo, hi]. */
const ticks = (lo: number, hi: number, n: number): number[] => {
  const raw = (hi - lo) / n
  const mag = 10 ** Math.floor(Math.log10(raw || 1))
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toFixed(6)))
  return out
}

/**
 * The loss chart.
 * @example lossChart([{ id: 1, label: 'FRUGAL ρ=0.25 · cpu', color: '#d33', losses: [4.4, 4.1], validation: [], steps: 200 }])
 */
export const lossChart = (series: readonly Series[]): string => {
  const all = series.flatMap((s) => [...s.losses, ...s.validation.map((v) => v.loss)]).filter(Number.isFinite)
  const maxStep = Math.max(10, ...series.map((s) => s.steps))
  let lo = all.length ? Math.min(...all) : 0
  let hi = all.length ? Math.max(...all) : 5
  if (hi - lo < 0.5) (lo -= 0.25), (hi += 0.25)
  lo = Math.max(0, lo - 0.05 * (hi - lo))
  const x = (i: number) => M.left + (i / maxStep) * (W - M.left - M.right)
  const y = (v: number) => M.top + (1 - (v - lo) / (hi - lo)) * (H - M.top - M.bottom)
  const path = (vs: readonly number[]) => vs.map((v, i) => `${i ? 'L' : 'M'}${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`).join('')
  const grid = [
    ...ticks(lo, hi, 5).map((v) => `<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}"/><text class="tick" x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`),
    ...ticks(0, maxStep, 6).map((s) => `<text class="tick" x="${x(s)}" y="${H - M.bottom + 16}" text-anchor="middle">${s}</text>`),
  ].join('')
  const lines = series
    .map(
      (s) =>
        `<g data-series="${s.id}"><path class="raw" stroke="${s.color}" d="${path(s.losses)}"/>` +
        `<path class="smooth" stroke="${s.color}" d="${path(ema(s.losses, smoothing(s.steps)))}"/>` +
        s.validation.map((v) => `<circle class="val" fill="${s.color}" cx="${x(v.step)}" cy="${y(v.loss)}" r="3.5"><title>validation ${v.loss.toFixed(3)} at step ${v.step}</title></circle>`).join('') +
        `</g>`,
    )
    .join('')
  const axes =
    `<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}"/>` +
    `<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}"/>` +
    `<text class="label" x="${(W + M.left) / 2}" y="${H - 2}" text-anchor="middle">step</text>` +
    `<text class="label" transform="translate(12 ${(H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">loss (nats/char)</text>`
  const legend = series
    .map((s, i) => {
      const yy = M.top + 10 + i * 15
      return `<line x1="${W - 230}" x2="${W - 212}" y1="${yy - 4}" y2="${yy - 4}" stroke="${s.color}" stroke-width="2.5"/><text class="tick" x="${W - 206}" y="${yy}">${esc(s.label)}</text>`
    })
    .join('')
  const empty = series.length ? '' : `<text class="label" x="${W / 2}" y="${H / 2}" text-anchor="middle">start a run to see its loss curve</text>`
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="training loss per step">${grid}${axes}${lines}${legend}${empty}</svg>`
}

/** Bytes in binary units. */
export const formatBytes = (b: number): string =>
  b < 1024 ? `${b} B` : b < 1024 ** 2 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 ** 2).toFixed(2)} MiB`

/**
 * The optimizer-state bar chart, with a dashed line at Adam's state for the same parameters.
 * @param bars one per run
 * @param adamBytes the state of Adam (two moments per parameter)
 * @example memoryChart([{ id: 1, label: '#1 FRUGAL ρ=0.25 · cpu', color: '#33d', bytes: 74_560 }], 242_440)
 */
export const memoryChart = (bars: readonly { id: number; label: string; color: string; bytes: number }[], adamBytes: number): string => {
  const rowH = 22
  const h = Math.max(1, bars.length) * rowH + 24
  const max = Math.max(1, adamBytes, ...bars.map((b) => b.bytes))
  const left = 215
  const width = W - left - 80
  const rows = bars
    .map((b, i) => {
      const yy = 4 + i * rowH
      const w = Math.max(1, (b.bytes / max) * width)
      return `<g data-bar="${b.id}"><text class="tick" x="${left - 8}" y="${yy + 15}" text-anchor="end">${esc(b.label)}</text>` +
        `<rect x="${left}" y="${yy + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${b.color}"/>` +
        `<text class="tick" x="${left + w + 6}" y="${yy + 15}">${formatBytes(b.bytes)}</text></g>`
    })
    .join('')
  const ax = left + (adamBytes / max) * width
  const adam =
    `<line class="adam" x1="${ax}" x2="${ax}" y1="2" y2="${h - 16}"/>` +
    `<text class="tick" x="${ax}" y="${h - 4}" text-anchor="middle">Adam: ${formatBytes(adamBytes)}</text>`
  const empty = bars.length ? '' : `<text class="label" x="${W / 2}" y="18" text-anchor="middle">no runs yet</text>`
  return `<svg viewBox="0 0 ${W} ${h}" role="img" aria-label="optimizer state bytes per run">${rows}${adam}${empty}</svg>`
}
