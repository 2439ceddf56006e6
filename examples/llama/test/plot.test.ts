import { describe, expect, it } from 'vitest'
import { PNG } from 'pngjs'
import { GLYPH, glyph, textWidth } from '../src/font'
import { lossScene, smooth, ticks, toSvg } from '../src/plot'
import { toPng } from '../src/png'

describe('loss plot', () => {
  it('has round ticks and a centred moving average', () => {
    expect(ticks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10])
    expect(ticks(1.93, 2.41, 8)).toEqual([2, 2.1, 2.2, 2.3, 2.4])
    expect(smooth([1, 2, 3], 3)).toEqual([1.5, 2, 2.5])
    expect(smooth([4, 8], 1)).toEqual([4, 8])
  })

  it('draws a line and dots per run in SVG, and the same scene as a PNG', () => {
    const series = ['adam', 'frugal-0'].map((name, k) => ({
      name,
      trainLoss: Array.from({ length: 50 }, (_, i) => 3 - i / 50 + k / 10),
      valCurve: [{ step: 25, loss: 2.6 + k / 10 }, { step: 50, loss: 2.1 + k / 10 }],
    }))
    const scene = lossScene(series, 'test <plot>')
    const svg = toSvg(scene)
    expect(svg.match(/<polyline/g)).toHaveLength(2)
    expect(svg.match(/<circle/g)).toHaveLength(4)
    expect(svg).toContain('test &lt;plot&gt;')
    const png = PNG.sync.read(Buffer.from(toPng(scene)))
    expect([png.width, png.height]).toEqual([900, 540])
    // the first run's colour (Okabe–Ito blue) is drawn somewhere
    let blue = 0
    for (let i = 0; i < png.data.length; i += 4) if (png.data[i] === 0 && png.data[i + 1] === 114 && png.data[i + 2] === 178) blue++
    expect(blue).toBeGreaterThan(100)
  })

  it('draws ±sd error bars on validation dots of seed means, to the scale of the dots', () => {
    const series = [{ name: 'adam (3 seeds)', trainLoss: Array.from({ length: 40 }, (_, i) => 3 - i / 40), valCurve: [{ step: 20, loss: 2.6, sd: 0.05 }, { step: 40, loss: 2.2, sd: 0.1 }] }]
    const scene = lossScene(series, 'bars')
    const dots = scene.shapes.filter((s) => s.kind === 'dot') as { y: number }[]
    const pxPerLoss = (dots[1].y - dots[0].y) / (2.6 - 2.2) // the dots fix the scale, independently of the bars
    const bars = scene.shapes.filter((s) => s.kind === 'line' && s.x1 === s.x2 && s.width === 2) as { y1: number; y2: number }[]
    expect(bars).toHaveLength(2)
    expect(bars.map((b) => (b.y2 - b.y1) / pxPerLoss)).toEqual([expect.closeTo(0.1, 9), expect.closeTo(0.2, 9)])
    expect(toSvg(scene)).toContain('bars: ±1 sd')
    // without sd there are no bars
    expect(lossScene([{ ...series[0], valCurve: [{ step: 20, loss: 2.6 }] }], 'x').shapes.some((s) => s.kind === 'line' && s.x1 === s.x2 && s.width === 2)).toBe(false)
  })

  it('has a 5×7 glyph (descenders 2 rows deeper) for every character it uses', () => {
    for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:-+()%/=_ρ×·±') {
      const g = glyph(ch)
      expect(g.length === GLYPH.height || (g.length === GLYPH.height + 2 && 'gjpqyρ'.includes(ch))).toBe(true)
      for (const row of g) expect(row).toHaveLength(GLYPH.width)
    }
    expect(glyph('€')).toBe(glyph('?'))
    expect(textWidth('abc')).toBe(17)
  })
})
