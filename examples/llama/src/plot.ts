/**
 * The loss-curve plot: a small scene (lines, polylines, dots, text) built once
 * from the runs' curves, rendered to SVG here and to PNG by `png.ts`.
 */

/** An RGB colour, 0–255 each. */
export type Rgb = readonly [number, number, number]

/** One drawable. Coordinates are pixels from the top left. */
export type Shape =
  | { readonly kind: 'line'; readonly x1: number; readonly y1: number; readonly x2: number; readonly y2: number; readonly color: Rgb; readonly width: number }
  | { readonly kind: 'polyline'; readonly points: readonly (readonly [number, number])[]; readonly color: Rgb; readonly width: number }
  | { readonly kind: 'dot'; readonly x: number; readonly y: number; readonly r: number; readonly color: Rgb }
  | { readonly kind: 'text'; readonly x: number; readonly y: number; readonly text: string; readonly color: Rgb; readonly anchor: 'start' | 'middle' | 'end' }

/** A picture: size, background and shapes in drawing order. */
export interface Scene {
  readonly width: number
  readonly height: number
  readonly background: Rgb
  readonly shapes: readonly Shape[]
}

/** One run's curves. */
export interface Series {
  readonly name: string
  /** training loss per step (step i + 1 at index i) */
  readonly trainLoss: readonly number[]
  /** validation loss at evaluated steps; `sd`, when given (a mean over seeds), is drawn as an error bar of ±sd */
  readonly valCurve: readonly { readonly step: number; readonly loss: number; readonly sd?: number }[]
}

/** Colours of the runs, in order (colour-blind-safe Okabe–Ito). */
export const PALETTE: readonly Rgb[] = [
  [0, 114, 178],
  [213, 94, 0],
  [0, 158, 115],
  [204, 121, 167],
  [86, 180, 233],
  [230, 159, 0],
  [0, 0, 0],
]

/**
 * A centred moving average over `window` points (shorter at the ends), to show noisy per-step losses as a curve.
 * @example smooth([1, 2, 3], 3) // [1.5, 2, 2.5]
 */
export const smooth = (xs: readonly number[], window: number): number[] => {
  const h = Math.floor(Math.max(1, window) / 2)
  return xs.map((_, i) => {
    const part = xs.slice(Math.max(0, i - h), i + h + 1)
    return part.reduce((a, b) => a + b, 0) / part.length
  })
}

/**
 * Round tick values covering [lo, hi], about `n` of them.
 * @example ticks(0, 10, 5) // [0, 2, 4, 6, 8, 10]
 */
export const ticks = (lo: number, hi: number, n: number): number[] => {
  const raw = (hi - lo) / Math.max(1, n)
  const mag = Math.pow(10, Math.floor(Math.log10(raw || 1)))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}

const GREY: Rgb = [200, 200, 200]
const INK: Rgb = [40, 40, 40]

/**
 * The plot of training loss (a centred moving average over a thirtieth of the run, lines)
 * and validation loss (dots) against steps; the loss axis covers the runs after their first tenth.
 * @param series the runs
 * @param title the title line
 * @returns a 900×540 scene
 * @example lossScene([{ name: 'adam', trainLoss, valCurve }], 'loss')
 */
export const lossScene = (series: readonly Series[], title: string): Scene => {
  const width = 900
  const height = 540
  const box = { left: 70, right: width - 230, top: 50, bottom: height - 60 }
  const steps = Math.max(1, ...series.map((s) => s.trainLoss.length))
  const curves = series.map((s) => smooth(s.trainLoss, Math.round(steps / 30)))
  // the range covers the runs after their first tenth, so the initial drop does not flatten the comparison
  const skip = Math.floor(steps / 10)
  const late = [...curves.flatMap((c) => c.slice(skip)), ...series.flatMap((s) => s.valCurve.filter((v) => v.step > skip).map((v) => v.loss))]
  const values = (late.some(Number.isFinite) ? late : curves.flat()).filter(Number.isFinite)
  const lo = values.length ? Math.min(...values) : 0
  const hi = values.length ? Math.max(...values) : 1
  const pad = (hi - lo) * 0.05 || 0.5
  const [y0, y1] = [lo - pad, hi + pad]
  const x = (step: number) => box.left + ((box.right - box.left) * step) / steps
  const y = (v: number) => box.bottom - ((box.bottom - box.top) * (v - y0)) / (y1 - y0)
  const shapes: Shape[] = []
  const yTicks = ticks(y0, y1, 8)
  const decimals = yTicks.length > 1 ? Math.max(0, Math.ceil(-Math.log10(yTicks[1] - yTicks[0]) - 1e-9)) : 1
  for (const t of yTicks) {
    shapes.push({ kind: 'line', x1: box.left, y1: y(t), x2: box.right, y2: y(t), color: GREY, width: 1 })
    shapes.push({ kind: 'text', x: box.left - 8, y: y(t) + 4, text: t.toFixed(decimals), color: INK, anchor: 'end' })
  }
  for (const t of ticks(0, steps, 8)) {
    shapes.push({ kind: 'line', x1: x(t), y1: box.bottom, x2: x(t), y2: box.bottom + 5, color: INK, width: 1 })
    shapes.push({ kind: 'text', x: x(t), y: box.bottom + 20, text: String(t), color: INK, anchor: 'middle' })
  }
  shapes.push({ kind: 'line', x1: box.left, y1: box.bottom, x2: box.right, y2: box.bottom, color: INK, width: 1 })
  shapes.push({ kind: 'line', x1: box.left, y1: box.top, x2: box.left, y2: box.bottom, color: INK, width: 1 })
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]
    let run: (readonly [number, number])[] = []
    const flush = () => (run.length > 1 && shapes.push({ kind: 'polyline', points: run, color, width: 2 }), (run = []))
    curves[i].forEach((v, j) => (Number.isFinite(v) && v <= y1 ? run.push([x(j + 1), y(v)]) : flush()))
    flush()
    for (const v of s.valCurve) {
      if (!(Number.isFinite(v.loss) && v.loss <= y1)) continue
      if (v.sd !== undefined && Number.isFinite(v.sd) && v.sd > 0) {
        const [top, bottom] = [y(Math.min(y1, v.loss + v.sd)), y(Math.max(y0, v.loss - v.sd))]
        shapes.push({ kind: 'line', x1: x(v.step), y1: top, x2: x(v.step), y2: bottom, color, width: 2 })
        for (const yy of [top, bottom]) shapes.push({ kind: 'line', x1: x(v.step) - 4, y1: yy, x2: x(v.step) + 4, y2: yy, color, width: 2 })
      }
      shapes.push({ kind: 'dot', x: x(v.step), y: y(v.loss), r: 4, color })
    }
    const ly = box.top + 10 + i * 24
    shapes.push({ kind: 'line', x1: box.right + 15, y1: ly, x2: box.right + 45, y2: ly, color, width: 3 })
    shapes.push({ kind: 'text', x: box.right + 53, y: ly + 4, text: s.name, color: INK, anchor: 'start' })
  })
  const ly = box.top + 14 + series.length * 24
  shapes.push({ kind: 'text', x: box.right + 15, y: ly + 4, text: 'lines: training', color: INK, anchor: 'start' })
  shapes.push({ kind: 'text', x: box.right + 15, y: ly + 22, text: 'dots: validation', color: INK, anchor: 'start' })
  if (series.some((s) => s.valCurve.some((v) => v.sd !== undefined)))
    shapes.push({ kind: 'text', x: box.right + 15, y: ly + 40, text: 'bars: ±1 sd', color: INK, anchor: 'start' })
  shapes.push({ kind: 'text', x: width / 2, y: 20, text: title, color: INK, anchor: 'middle' })
  shapes.push({ kind: 'text', x: (box.left + box.right) / 2, y: height - 18, text: 'step', color: INK, anchor: 'middle' })
  shapes.push({ kind: 'text', x: 12, y: box.top - 10, text: 'loss (nats/byte)', color: INK, anchor: 'start' })
  return { width, height, background: [255, 255, 255], shapes }
}

const rgb = (c: Rgb) => `rgb(${c[0]},${c[1]},${c[2]})`
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const f = (n: number) => n.toFixed(1)

/**
 * A scene as an SVG document (text in the generic monospace family).
 * @example writeFileSync('loss.svg', toSvg(lossScene(series, 'loss')))
 */
export const toSvg = (scene: Scene): string => {
  const body = scene.shapes.map((s) => {
    switch (s.kind) {
      case 'line':
        return `<line x1="${f(s.x1)}" y1="${f(s.y1)}" x2="${f(s.x2)}" y2="${f(s.y2)}" stroke="${rgb(s.color)}" stroke-width="${s.width}"/>`
      case 'polyline':
        return `<polyline fill="none" stroke="${rgb(s.color)}" stroke-width="${s.width}" stroke-linejoin="round" points="${s.points.map(([px, py]) => `${f(px)},${f(py)}`).join(' ')}"/>`
      case 'dot':
        return `<circle cx="${f(s.x)}" cy="${f(s.y)}" r="${s.r}" fill="${rgb(s.color)}" stroke="white"/>`
      case 'text':
        return `<text x="${f(s.x)}" y="${f(s.y)}" text-anchor="${s.anchor}" fill="${rgb(s.color)}">${esc(s.text)}</text>`
    }
  })
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}" viewBox="0 0 ${scene.width} ${scene.height}" font-family="monospace" font-size="13">`,
    `<rect width="100%" height="100%" fill="${rgb(scene.background)}"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n')
}
