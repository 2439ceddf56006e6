/**
 * Runs (in Node) instead of the browser suites when there is no Chromium to
 * launch: reports them as skipped, with the reason in the title and printed;
 * under CI=true (or FRUGAL_REQUIRE_CHROMIUM=1) fails instead.
 */
import { describe, inject, it } from 'vitest'

const chromium = inject('chromium')
const why = `${chromium} not found: apt-get install -y chromium (Debian), or set FRUGAL_CHROMIUM`

if (inject('requireChromium'))
  describe('browser conformance suites (CI=true or FRUGAL_REQUIRE_CHROMIUM=1: Chromium required)', () => {
    it('tfjs webgl, tfjs webgpu, gpujs webgl2 and cpu-wasm need headless Chromium', () => {
      throw new Error(`Chromium is required (CI=true or FRUGAL_REQUIRE_CHROMIUM=1) but ${why}`)
    })
  })
else {
  console.warn(`[test-browser] skipping the browser conformance suites (tfjs webgl, tfjs webgpu, gpujs webgl2, cpu-wasm): ${why}`)
  describe.skip(`browser conformance suites (skipped: ${why})`, () => {
    it('tfjs webgl, tfjs webgpu, gpujs webgl2 and cpu-wasm in headless Chromium', () => {})
  })
}
