/**
 * Runs (in Node) instead of the browser suites when there is no Chromium to
 * launch: reports them as skipped, with the reason in the title and printed.
 */
import { describe, inject, it } from 'vitest'

const chromium = inject('chromium')
const why = `${chromium} not found: apt-get install -y chromium (Debian), or set FRUGAL_CHROMIUM`
console.warn(`[test-browser] skipping the browser conformance suites (tfjs webgl, tfjs webgpu, gpujs webgl2): ${why}`)

describe.skip(`browser conformance suites (skipped: ${why})`, () => {
  it('tfjs webgl, tfjs webgpu and gpujs webgl2 in headless Chromium', () => {})
})
