/**
 * Renders a plot `Scene` to PNG: an anti-aliased software rasterizer (each
 * pixel's coverage from its distance to the segment or dot) and the built-in
 * 5×7 pixel font at double size, encoded by `pngjs`. No native code, no font
 * files: the same bytes on every machine.
 */
import { PNG } from 'pngjs'
import { GLYPH, glyph, textWidth } from './font'
import type { Rgb, Scene } from './plot'

/** Font pixels per glyph pixel. */
const FONT_SCALE = 2

/** An RGBA canvas with alpha blending. */
class Canvas {
  readonly data: Uint8Array
  constructor(readonly width: number, readonly height: number, bg: Rgb) {
    this.data = new Uint8Array(width * height * 4)
    for (let i = 0; i < width * height; i++) this.data.set([bg[0], bg[1], bg[2], 255], 4 * i)
  }

  blend(x: number, y: number, c: Rgb, a: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || a <= 0) return
    const i = 4 * (y * this.width + x)
    const k = Math.min(1, a)
    for (let j = 0; j < 3; j++) this.data[i + j] = Math.round(this.data[i + j] * (1 - k) + c[j] * k)
  }

  /** a segment of the given width, coverage from the distance of each pixel centre */
  segment(x1: number, y1: number, x2: number, y2: number, c: Rgb, w: number): void {
    const r = w / 2
    const [minX, maxX] = [Math.floor(Math.min(x1, x2) - r - 1), Math.ceil(Math.max(x1, x2) + r + 1)]
    const [minY, maxY] = [Math.floor(Math.min(y1, y2) - r - 1), Math.ceil(Math.max(y1, y2) + r + 1)]
    const dx = x2 - x1
    const dy = y2 - y1
    const len2 = dx * dx + dy * dy || 1
    for (let y = Math.max(0, minY); y <= Math.min(this.height - 1, maxY); y++)
      for (let x = Math.max(0, minX); x <= Math.min(this.width - 1, maxX); x++) {
        const px = x + 0.5
        const py = y + 0.5
        const t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / len2))
        const d = Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy))
        this.blend(x, y, c, r + 0.5 - d)
      }
  }

  disc(cx: number, cy: number, r: number, c: Rgb): void {
    for (let y = Math.floor(cy - r - 1); y <= Math.ceil(cy + r + 1); y++)
      for (let x = Math.floor(cx - r - 1); x <= Math.ceil(cx + r + 1); x++)
        this.blend(x, y, c, r + 0.5 - Math.hypot(x + 0.5 - cx, y + 0.5 - cy))
  }

  /** text with its baseline at y */
  text(x: number, y: number, s: string, c: Rgb, anchor: 'start' | 'middle' | 'end'): void {
    const w = textWidth(s) * FONT_SCALE
    let left = Math.round(anchor === 'start' ? x : anchor === 'middle' ? x - w / 2 : x - w)
    const top = Math.round(y) - GLYPH.height * FONT_SCALE + 2
    for (const ch of s) {
      glyph(ch).forEach((row, gy) =>
        row.forEach((on, gx) => {
          if (!on) return
          for (let sy = 0; sy < FONT_SCALE; sy++)
            for (let sx = 0; sx < FONT_SCALE; sx++) this.blend(left + gx * FONT_SCALE + sx, top + gy * FONT_SCALE + sy, c, 1)
        }),
      )
      left += GLYPH.advance * FONT_SCALE
    }
  }
}

/**
 * A scene as PNG bytes.
 * @example writeFileSync('loss.png', toPng(lossScene(series, 'loss')))
 */
export const toPng = (scene: Scene): Uint8Array => {
  const cv = new Canvas(scene.width, scene.height, scene.background)
  for (const s of scene.shapes) {
    if (s.kind === 'line') cv.segment(s.x1, s.y1, s.x2, s.y2, s.color, s.width)
    else if (s.kind === 'polyline') for (let i = 1; i < s.points.length; i++) cv.segment(...s.points[i - 1], ...s.points[i], s.color, s.width)
    else if (s.kind === 'dot') (cv.disc(s.x, s.y, s.r + 1, [255, 255, 255]), cv.disc(s.x, s.y, s.r, s.color))
    else cv.text(s.x, s.y, s.text, s.color, s.anchor)
  }
  const png = new PNG({ width: scene.width, height: scene.height })
  png.data = Buffer.from(cv.data.buffer, cv.data.byteOffset, cv.data.byteLength)
  return new Uint8Array(PNG.sync.write(png))
}
