// `vitest run --config vitest.browser.config.ts`: the conformance suites in headless
// Chromium (see test-browser/README.md). The config lives with its dependencies.
export { default } from './test-browser/vitest.config.ts'
